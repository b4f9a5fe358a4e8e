//! `vtpm manufacture`: a new TPM in a state directory.

use vtpm_core::Tpm;
use vtpm_proto::InstanceId;
use zeroize::Zeroizing;

use crate::cli::ManufactureArgs;
use crate::error::Error;
use crate::platform::{self, HostPlatform};
use crate::store::{StateDir, StoreError};

/// Creates the state, refusing to replace one unless `--force`.
pub fn run(args: &ManufactureArgs) -> Result<(), Error> {
    let dir = &args.state.state_dir;
    HostPlatform::check_entropy()
        .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))?;
    let mut store = StateDir::open(dir)?;
    let path = store.permanent_path();
    match store.read_permanent() {
        Ok(None) => {}
        Ok(Some(old)) if args.force => log::warn!(
            "replacing the TPM of instance {} in {} (sequence {}); its keys and secrets are lost",
            old.instance,
            path.display(),
            old.sequence
        ),
        Err(e @ StoreError::Corrupt { .. }) if args.force => {
            log::warn!("replacing an unusable state file: {e}");
        }
        Ok(Some(_)) => {
            return Err(Error::Runtime(format!(
                "{} already holds a TPM state; use --force to replace it (its keys and secrets would be lost)",
                path.display()
            )))
        }
        Err(e @ StoreError::Corrupt { .. }) => {
            return Err(Error::Runtime(format!(
                "{e}; use --force to replace it with a new TPM"
            )))
        }
        Err(e) => return Err(e.into()),
    }
    let instance = match args.instance {
        Some(id) => id,
        None => new_instance_id()?,
    };
    let mut platform = HostPlatform::new();
    let tpm = Tpm::manufacture(&mut platform);
    let body = Zeroizing::new(tpm.permanent_state());
    let sequence = store.write_permanent(instance, &body)?;
    println!(
        "manufactured a new TPM in {} (instance {instance}, sequence {sequence})",
        path.display()
    );
    Ok(())
}

/// A random version-4 UUID.
pub fn new_instance_id() -> Result<InstanceId, Error> {
    platform::random_bytes::<16>()
        .map(InstanceId::from_random)
        .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))
}
