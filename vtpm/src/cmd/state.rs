//! `vtpm state show`: what is stored, without secrets.

use vtpm_core::Tpm;

use crate::cli::StateDirArg;
use crate::error::Error;
use crate::store::{self, StoreError};

/// Prints envelope facts and whether the engine can load the state.
pub fn show(args: &StateDirArg) -> Result<(), Error> {
    let path = store::permanent_path(&args.state_dir);
    if let Ok(raw) = std::fs::read(&path) {
        if let Ok(env) = vtpm_proto::decode_sealed(&raw) {
            println!("file:            {}", path.display());
            println!("file size:       {} bytes", raw.len());
            println!("format version:  {}", env.version);
            println!("kind:            {}", env.header.kind);
            println!(
                "protection:      AES-256-GCM (sealed by the stub VM; key in {})",
                args.state_dir.join(store::KEY_FILE).display()
            );
            println!("instance id:     {}", env.header.instance);
            println!("sequence:        {}", env.header.sequence);
            println!(
                "body size:       {} bytes (nonce and ciphertext)",
                env.body.len()
            );
            println!(
                "engine state:    sealed; only the stub VM opens it (vtpm run --isolation vm)"
            );
            return Ok(());
        }
    }
    let Some(stored) = store::read_permanent_file(&path)? else {
        return Err(Error::Runtime(format!(
            "no TPM state in {} ({} does not exist); `vtpm manufacture` or `vtpm run` creates one",
            args.state_dir.display(),
            path.display()
        )));
    };
    println!("file:            {}", path.display());
    println!("file size:       {} bytes", stored.file_size);
    println!("format version:  {}", stored.format_version);
    println!("kind:            permanent");
    println!("protection:      integrity digest (SHA-256), not encrypted");
    println!("instance id:     {}", stored.instance);
    println!("sequence:        {}", stored.sequence);
    println!("body size:       {} bytes", stored.body.len());
    match Tpm::from_permanent_state(&stored.body) {
        Ok(_) => {
            println!(
                "engine state:    loads (layout version {})",
                vtpm_core::tpm::STATE_FORMAT
            );
            Ok(())
        }
        Err(e) => Err(StoreError::Corrupt {
            path,
            reason: format!("the engine cannot load it: {e}"),
        }
        .into()),
    }
}
