//! `vtpm swtpm socket ...` (or `swtpm socket ...` through a link named `swtpm`):
//! serve the TPM through the swtpm control protocol and a raw data channel.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

use vtpm_core::Isolation;

use crate::cmd::run::open_tpm;
use crate::error::Error;
use crate::platform::HostPlatform;
use crate::server::Engine;
use crate::swtpm_cli::{self, ChannelSpec, SocketArgs, SwtpmCommand};
use crate::swtpm_server::{self, Front, Listener};

/// Environment variable marking the background child of `--daemon`.
const DAEMON_CHILD_ENV: &str = "VTPM_SWTPM_DAEMON_CHILD";

/// The log level for swtpm's `--log level=N` (swtpm: higher is more verbose;
/// 1-4 ordinary, 5+ adds libtpms debug output).
fn level_for(level: Option<u32>) -> log::LevelFilter {
    match level {
        None => log::LevelFilter::Info,
        Some(0) => log::LevelFilter::Warn,
        Some(1..=4) => log::LevelFilter::Info,
        Some(5..=19) => log::LevelFilter::Debug,
        Some(_) => log::LevelFilter::Trace,
    }
}

/// Runs the swtpm-compatible command line `args` (after the program name).
/// `logger_ready` says whether a logger was installed already.
pub fn run(args: &[String], logger_ready: bool) -> Result<(), Error> {
    let cmd = swtpm_cli::parse(args).map_err(Error::Usage)?;
    match cmd {
        SwtpmCommand::Help => {
            print!("{}", swtpm_cli::USAGE);
            Ok(())
        }
        SwtpmCommand::Version => {
            println!(
                "TPM emulator version {} (vtpm, swtpm-compatible)",
                env!("CARGO_PKG_VERSION")
            );
            Ok(())
        }
        SwtpmCommand::PrintCapabilities => {
            println!("{}", swtpm_cli::capabilities_json());
            Ok(())
        }
        SwtpmCommand::Socket(a) => socket(&a, args, logger_ready),
    }
}

fn open_log(spec: &swtpm_cli::LogSpec) -> Result<Option<File>, Error> {
    let Some(path) = &spec.file else {
        return Ok(None);
    };
    let mut o = OpenOptions::new();
    o.create(true);
    if spec.truncate {
        o.write(true).truncate(true);
    } else {
        o.append(true);
    }
    o.open(path)
        .map(Some)
        .map_err(|e| Error::Runtime(format!("cannot open the log file {}: {e}", path.display())))
}

fn bind(spec: &ChannelSpec, what: &str) -> Result<Listener, Error> {
    match spec {
        ChannelSpec::Tcp(addr) => TcpListener::bind(addr)
            .map(Listener::Tcp)
            .map_err(|e| Error::Runtime(format!("cannot listen on {addr} ({what}): {e}"))),
        ChannelSpec::Unix { path, mode } => {
            remove_stale_socket(path)?;
            let l = UnixListener::bind(path).map_err(|e| {
                Error::Runtime(format!("cannot listen on {} ({what}): {e}", path.display()))
            })?;
            fs::set_permissions(path, fs::Permissions::from_mode(*mode)).map_err(|e| {
                Error::Runtime(format!("cannot set the mode of {}: {e}", path.display()))
            })?;
            Ok(Listener::Unix(l))
        }
    }
}

/// Removes a socket file left by an earlier run; anything else at the path is an
/// error (never delete a regular file by mistake).
fn remove_stale_socket(path: &Path) -> Result<(), Error> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => fs::remove_file(path).map_err(|e| {
            Error::Runtime(format!(
                "cannot remove the old socket {}: {e}",
                path.display()
            ))
        }),
        Ok(_) => Err(Error::Usage(format!(
            "{} exists and is not a socket",
            path.display()
        ))),
        Err(_) => Ok(()),
    }
}

/// `--daemon`: start the same command in the background and return once it
/// listens (it says so on a pipe), as swtpm's callers expect.
fn daemonize(args: &[String]) -> Result<(), Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Runtime(format!("cannot find this program: {e}")))?;
    let child_args: Vec<&String> = args
        .iter()
        .filter(|a| a.as_str() != "-d" && a.as_str() != "--daemon")
        .collect();
    let mut child = Command::new(exe)
        .arg("swtpm")
        .args(child_args)
        .env(DAEMON_CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::Runtime(format!("cannot start the background process: {e}")))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim() == "ready" {
        return Ok(());
    }
    let status = child.wait().ok();
    Err(Error::Runtime(format!(
        "the background process did not start ({})",
        status.map_or_else(|| "unknown status".to_owned(), |s| s.to_string())
    )))
}

fn socket(a: &SocketArgs, raw_args: &[String], logger_ready: bool) -> Result<(), Error> {
    if a.daemon && std::env::var_os(DAEMON_CHILD_ENV).is_none() {
        return daemonize(raw_args);
    }
    if !logger_ready {
        crate::logger::init_to(level_for(a.log.level), open_log(&a.log)?);
    }
    let engine = if a.isolation_vm {
        let options = crate::cmd::run::vm_options(&crate::cli::VmArgs {
            accel: a.accel,
            image: a.image.clone(),
            vm_timeout: a.vm_timeout,
        })?;
        let vm = crate::cmd::run::open_vm(&a.state_dir, None, options, Default::default())?;
        log::info!("isolation: vm (instance {})", vm.instance());
        Engine::new_vm(vm)
    } else {
        HostPlatform::check_entropy()
            .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))?;
        let (mut tpm, instance, store, mut platform) = open_tpm(&a.state_dir, None)?;
        tpm.set_isolation(Isolation::Process);
        tpm.power_on(&mut platform);
        Engine::new(tpm, platform, store, instance)
    };

    let control = match &a.ctrl {
        Some(spec) => Some(bind(spec, "control channel")?),
        None => None,
    };
    let data = match &a.server {
        Some(spec) => Some(bind(spec, "data channel")?),
        None => None,
    };
    if let Some(pid) = &a.pid_file {
        fs::write(pid, format!("{}\n", std::process::id())).map_err(|e| {
            Error::Runtime(format!("cannot write the pid file {}: {e}", pid.display()))
        })?;
    }
    log::info!(
        "swtpm front: state {}, control {:?}, data {:?}",
        a.state_dir.display(),
        a.ctrl,
        a.server
    );
    let front = Front::new(engine, a.front_options());
    if std::env::var_os(DAEMON_CHILD_ENV).is_some() {
        // Tell the waiting parent that we listen, then let go of its pipe.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    let result = swtpm_server::serve(front, control, data);
    crate::vm::stop_all();
    if let Some(pid) = &a.pid_file {
        let _ = fs::remove_file(pid);
    }
    if let Some(ChannelSpec::Unix { path, .. }) = &a.ctrl {
        let _ = fs::remove_file(path);
    }
    result.map_err(|e| Error::Runtime(format!("the swtpm front failed: {e}")))
}
