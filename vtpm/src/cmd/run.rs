//! `vtpm run`: load or manufacture the TPM, then serve it over mssim.

use std::net::SocketAddr;

use vtpm_core::{Isolation, Tpm};
use zeroize::Zeroizing;

use crate::cli::{IsolationArg, RunArgs, VmArgs};
use crate::cmd::manufacture::new_instance_id;
use crate::error::Error;
use crate::platform::HostPlatform;
use crate::server::{self, Engine, Listeners};
use crate::store::{StateDir, StoreError};
use crate::vm::{VmBackend, VmOptions};

/// The command and platform addresses `args` ask for, after the security checks.
pub fn listen_addrs(args: &RunArgs) -> Result<(SocketAddr, SocketAddr), Error> {
    let command = args.mssim;
    if !command.ip().is_loopback() && !args.allow_remote {
        return Err(Error::Usage(format!(
            "refusing to listen on {command}: not a loopback address (the mssim protocol has no authentication; pass --allow-remote to override)"
        )));
    }
    let platform_port = match args.platform_port {
        Some(p) => p,
        None if command.port() == 0 => 0,
        None => command.port().checked_add(1).ok_or_else(|| {
            Error::Usage(format!(
                "command port {} leaves no room for the platform port at +1; pass --platform-port",
                command.port()
            ))
        })?,
    };
    if platform_port != 0 && platform_port == command.port() {
        return Err(Error::Usage(format!(
            "the platform port must differ from the command port ({platform_port})"
        )));
    }
    Ok((command, SocketAddr::new(command.ip(), platform_port)))
}

/// Loads the TPM kept in `dir`, or manufactures (and saves) a new one when the
/// directory holds none. `instance`, when given, must match the stored one.
pub fn open_tpm(
    dir: &std::path::Path,
    instance: Option<vtpm_proto::InstanceId>,
) -> Result<(Tpm, vtpm_proto::InstanceId, StateDir, HostPlatform), Error> {
    let mut store = StateDir::open(dir)?;
    let path = store.permanent_path();
    let mut platform = HostPlatform::new();
    let (tpm, instance) = match store.read_permanent()? {
        Some(stored) => {
            if let Some(wanted) = instance {
                if wanted != stored.instance {
                    return Err(Error::Usage(format!(
                        "{} belongs to instance {}, not {wanted}",
                        path.display(),
                        stored.instance
                    )));
                }
            }
            let tpm = Tpm::from_permanent_state(&stored.body).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                reason: format!("the engine cannot load it: {e}"),
            })?;
            log::info!(
                "loaded TPM state from {} (instance {}, sequence {})",
                path.display(),
                stored.instance,
                stored.sequence
            );
            (tpm, stored.instance)
        }
        None => {
            let instance = match instance {
                Some(id) => id,
                None => new_instance_id()?,
            };
            let tpm = Tpm::manufacture(&mut platform);
            let body = Zeroizing::new(tpm.permanent_state());
            store.write_permanent(instance, &body)?;
            log::info!(
                "no TPM state in {}: manufactured a new TPM (instance {instance}), saved to {}",
                dir.display(),
                path.display()
            );
            (tpm, instance)
        }
    };
    Ok((tpm, instance, store, platform))
}

/// Serves until SIGTERM/SIGINT.
pub fn run(args: &RunArgs) -> Result<(), Error> {
    let (command_addr, platform_addr) = listen_addrs(args)?;
    if args.isolation == IsolationArg::Vm {
        return run_vm(args, command_addr, platform_addr);
    }
    HostPlatform::check_entropy()
        .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))?;

    let dir = &args.state.state_dir;
    let (mut tpm, instance, mut store, mut platform) = open_tpm(dir, args.instance)?;
    store.set_durability(args.durability.into());
    tpm.set_isolation(Isolation::Process);
    // The machine this TPM belongs to is on: power it (_TPM_Init). Clients still
    // send TPM2_Startup.
    tpm.power_on(&mut platform);

    let listeners = Listeners::bind(command_addr, platform_addr)?;
    let local =
        |l: &std::net::TcpListener, fallback: SocketAddr| l.local_addr().unwrap_or(fallback);
    log::info!(
        "listening: mssim command port {}, platform port {}",
        local(&listeners.command, command_addr),
        local(&listeners.platform, platform_addr)
    );
    log::info!(
        "state directory {}; isolation: process (the engine runs in this process)",
        dir.display()
    );
    server::serve(Engine::new(tpm, platform, store, instance), listeners)?;
    Ok(())
}

/// The vm backend's options from the command line (image, accelerator,
/// timeout), with the choice of accelerator logged.
pub fn vm_options(a: &VmArgs) -> Result<VmOptions, Error> {
    let image = crate::vm::find_image(a.image.as_deref()).map_err(Error::Usage)?;
    let (accel, why) = crate::vm::choose_accel(a.accel).map_err(Error::Usage)?;
    log::info!(
        "stub VM accelerator: {accel:?} ({why}); image {}",
        image.display()
    );
    if a.vm_timeout == 0 {
        return Err(Error::Usage(
            "--vm-timeout must be at least 1 second".to_owned(),
        ));
    }
    Ok(VmOptions {
        image,
        accel,
        timeout: std::time::Duration::from_secs(a.vm_timeout),
    })
}

/// Opens the state directory and boots the stub VM.
pub fn open_vm(
    dir: &std::path::Path,
    instance: Option<vtpm_proto::InstanceId>,
    options: VmOptions,
    durability: crate::store::Durability,
) -> Result<VmBackend, Error> {
    let mut store = StateDir::open(dir)?;
    store.set_durability(durability);
    VmBackend::start(options, store, instance).map_err(Error::Runtime)
}

fn run_vm(
    args: &RunArgs,
    command_addr: SocketAddr,
    platform_addr: SocketAddr,
) -> Result<(), Error> {
    let dir = &args.state.state_dir;
    let options = vm_options(&args.vm)?;
    // The state is loaded (or refused) before the ports open, so that a client
    // never connects to a TPM that is not there.
    let vm = open_vm(dir, args.instance, options, args.durability.into())?;
    let listeners = match Listeners::bind(command_addr, platform_addr) {
        Ok(l) => l,
        Err(e) => {
            drop(vm);
            return Err(e.into());
        }
    };
    let local =
        |l: &std::net::TcpListener, fallback: SocketAddr| l.local_addr().unwrap_or(fallback);
    log::info!(
        "listening: mssim command port {}, platform port {}",
        local(&listeners.command, command_addr),
        local(&listeners.platform, platform_addr)
    );
    log::info!(
        "state directory {} (sealed state, key in {}); isolation: vm (instance {})",
        dir.display(),
        dir.join(crate::store::KEY_FILE).display(),
        vm.instance()
    );
    let result = server::serve(Engine::new_vm(vm), listeners);
    crate::vm::stop_all();
    result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["vtpm", "run"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn platform_port_defaults_to_command_port_plus_one() {
        let (c, p) = listen_addrs(&args(&["--mssim", "127.0.0.1:4000"])).unwrap();
        assert_eq!(c.to_string(), "127.0.0.1:4000");
        assert_eq!(p.to_string(), "127.0.0.1:4001");
        let (_, p) =
            listen_addrs(&args(&["--mssim", "[::1]:4000", "--platform-port", "9"])).unwrap();
        assert_eq!(p.to_string(), "[::1]:9");
    }

    #[test]
    fn non_loopback_needs_allow_remote() {
        let err = listen_addrs(&args(&["--mssim", "0.0.0.0:2321"])).unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
        assert!(err.to_string().contains("--allow-remote"), "{err}");
        assert!(listen_addrs(&args(&["--mssim", "0.0.0.0:2321", "--allow-remote"])).is_ok());
    }

    #[test]
    fn port_arithmetic_is_checked() {
        let err = listen_addrs(&args(&["--mssim", "127.0.0.1:65535"])).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        let err = listen_addrs(&args(&[
            "--mssim",
            "127.0.0.1:5000",
            "--platform-port",
            "5000",
        ]))
        .unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }
}
