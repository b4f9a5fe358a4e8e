//! The swtpm-compatible command line: `vtpm swtpm socket ...`, or the `vtpm`
//! binary run under the name `swtpm`. It accepts the options QEMU's documentation
//! and libvirt pass (`--tpm2 --tpmstate dir=.. --ctrl type=unixio,path=..`, ...);
//! an option it does not know, or a value it cannot honour, is a usage error that
//! names it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::swtpm_server::{FrontOptions, StartupMode};

/// Where a channel listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelSpec {
    /// A unix socket at `path`, with file `mode`.
    Unix {
        /// Socket path.
        path: PathBuf,
        /// File mode of the socket.
        mode: u32,
    },
    /// A TCP socket.
    Tcp(SocketAddr),
}

/// `--log file=..|fd=..,level=N`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSpec {
    /// Log file (appended to, or truncated with `truncate`).
    pub file: Option<PathBuf>,
    /// swtpm log level (0-20+); mapped onto ours.
    pub level: Option<u32>,
    /// Truncate the file first.
    pub truncate: bool,
}

/// Everything `swtpm socket` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketArgs {
    /// The state directory.
    pub state_dir: PathBuf,
    /// The control channel.
    pub ctrl: Option<ChannelSpec>,
    /// The data channel listener (`--server`), if any.
    pub server: Option<ChannelSpec>,
    /// Close a data connection after each command (`--server ...,disconnect`).
    pub disconnect: bool,
    /// Front behaviour.
    pub startup: StartupMode,
    /// `--flags disable-auto-shutdown`.
    pub disable_auto_shutdown: bool,
    /// `--locality reject-locality-4`.
    pub reject_locality_4: bool,
    /// Exit when the control connection closes.
    pub terminate: bool,
    /// `--pid file=`.
    pub pid_file: Option<PathBuf>,
    /// `--log`.
    pub log: LogSpec,
    /// `-d/--daemon`.
    pub daemon: bool,
    /// `--isolation`: `process` or `vm`.
    pub isolation_vm: bool,
    /// `--accel auto|kvm|tcg` (vm backend).
    pub accel: crate::vm::AccelChoice,
    /// `--image FILE` (vm backend).
    pub image: Option<PathBuf>,
    /// `--vm-timeout SECS` (vm backend).
    pub vm_timeout: u64,
}

impl SocketArgs {
    /// The front options these arguments select.
    pub fn front_options(&self) -> FrontOptions {
        FrontOptions {
            startup: self.startup,
            reject_locality_4: self.reject_locality_4,
            terminate_on_ctrl_close: self.terminate,
            auto_shutdown: !self.disable_auto_shutdown,
            disconnect: self.disconnect,
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwtpmCommand {
    /// Serve.
    Socket(Box<SocketArgs>),
    /// `--print-capabilities`.
    PrintCapabilities,
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

/// The usage text.
pub const USAGE: &str = "\
Usage: swtpm socket --tpm2 --tpmstate dir=DIR [OPTIONS]
       (also: vtpm swtpm socket ...)

A swtpm-compatible front of vtpm: the swtpm control protocol (as QEMU's
-tpmdev emulator speaks it) and a raw TPM data channel.

  --tpm2                          serve a TPM 2.0 (required; TPM 1.2 is not offered)
  --tpmstate dir=DIR[,mode=M][,lock]
                                  state directory (backend-uri=dir://DIR too)
  --ctrl type=unixio,path=P[,mode=0600][,terminate]
  --ctrl type=tcp[,port=N][,bindaddr=A][,terminate]
                                  control channel (loopback only for tcp)
  --server type=tcp[,port=N][,bindaddr=A][,disconnect]
  --server type=unixio,path=P[,mode=0600]
  -p, --port N                    data channel on TCP port N (loopback)
  --flags [not-need-init][,startup-clear|startup-state|startup-none][,disable-auto-shutdown]
  --locality reject-locality-4[,allow-set-locality]
  --pid file=F                    write the process id to F
  --log file=F|fd=N[,level=N][,truncate]
  -t, --terminate                 exit when the control connection closes
  -d, --daemon                    run in the background once listening
  --migration [incoming][,release-lock-outgoing]
  --seccomp action=none|log|kill  accepted; vtpm installs no seccomp filter
  --isolation process|vm          where the engine runs (default process)
  --accel auto|kvm|tcg            accelerator of the stub VM (default auto)
  --image FILE                    the stub image (vm backend)
  --vm-timeout SECS               stub VM answer timeout (default 30)
  --print-capabilities            print supported features as JSON
  -h, --help                      this text
  -v, --version                   version
";

/// Splits `k=v,k2,k3=v3` into pairs (`None` for a bare flag).
fn pairs(opt: &str, value: &str) -> Result<Vec<(String, Option<String>)>, String> {
    value
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), Some(v.to_owned()))),
            Some(_) => Err(format!("{opt}: malformed parameter {p:?}")),
            None => Ok((p.to_owned(), None)),
        })
        .collect()
}

fn need<'a>(opt: &str, key: &str, v: &'a Option<String>) -> Result<&'a str, String> {
    v.as_deref()
        .ok_or_else(|| format!("{opt}: {key} needs a value ({key}=...)"))
}

fn parse_mode(opt: &str, v: &str) -> Result<u32, String> {
    u32::from_str_radix(v.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{opt}: mode={v} is not an octal file mode"))
}

fn loopback(opt: &str, addr: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("{opt}: bindaddr={addr} is not an IP address"))?;
    if !ip.is_loopback() {
        return Err(format!(
            "{opt}: bindaddr={addr} is not a loopback address (the channel has no authentication)"
        ));
    }
    Ok(ip)
}

/// Parses `--ctrl` or `--server` parameters; returns the spec and whether
/// `terminate`/`disconnect` was given.
fn channel(opt: &str, value: &str, flag: &str) -> Result<(ChannelSpec, bool), String> {
    let mut kind = None;
    let mut path = None;
    let mut port = None;
    let mut bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut mode = 0o600;
    let mut flagged = false;
    for (k, v) in pairs(opt, value)? {
        match k.as_str() {
            "type" => kind = Some(need(opt, "type", &v)?.to_owned()),
            "path" => path = Some(PathBuf::from(need(opt, "path", &v)?)),
            "port" => {
                let p = need(opt, "port", &v)?;
                port = Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("{opt}: port={p} is not a port number"))?,
                );
            }
            "bindaddr" => bind = loopback(opt, need(opt, "bindaddr", &v)?)?,
            "mode" => mode = parse_mode(opt, need(opt, "mode", &v)?)?,
            "uid" | "gid" => {
                return Err(format!(
                    "{opt}: {k}= is not supported; run vtpm as the user that should own the socket"
                ))
            }
            "fd" | "clientfd" => {
                return Err(format!(
                    "{opt}: {k}= is not supported; give a path= or a port="
                ))
            }
            f if f == flag => flagged = true,
            other => return Err(format!("{opt}: unknown parameter {other:?}")),
        }
    }
    match kind.as_deref() {
        Some("unixio") => {
            let path = path.ok_or_else(|| format!("{opt}: type=unixio needs path="))?;
            Ok((ChannelSpec::Unix { path, mode }, flagged))
        }
        Some("tcp") => {
            let port = port.ok_or_else(|| format!("{opt}: type=tcp needs port="))?;
            Ok((ChannelSpec::Tcp(SocketAddr::new(bind, port)), flagged))
        }
        Some(t) => Err(format!("{opt}: type={t} is not supported (unixio or tcp)")),
        None => Err(format!("{opt}: type= is required (unixio or tcp)")),
    }
}

/// Parses the arguments after the program name (`socket ...`).
pub fn parse(args: &[String]) -> Result<SwtpmCommand, String> {
    let mut it = args.iter().peekable();
    let mut saw_socket = false;
    let mut tpm2 = false;
    let mut state_dir = None;
    let mut out = SocketArgs {
        state_dir: PathBuf::new(),
        ctrl: None,
        server: None,
        disconnect: false,
        startup: StartupMode::NeedInit,
        disable_auto_shutdown: false,
        reject_locality_4: false,
        terminate: false,
        pid_file: None,
        log: LogSpec::default(),
        daemon: false,
        isolation_vm: false,
        accel: crate::vm::AccelChoice::Auto,
        image: None,
        vm_timeout: 30,
    };
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "socket" if !saw_socket => saw_socket = true,
            "chardev" | "cuse" => {
                return Err(format!(
                    "the {name} interface is not supported; use `swtpm socket`"
                ))
            }
            "-h" | "--help" => return Ok(SwtpmCommand::Help),
            "-v" | "--version" => return Ok(SwtpmCommand::Version),
            "--print-capabilities" => return Ok(SwtpmCommand::PrintCapabilities),
            "--tpm2" => tpm2 = true,
            "--tpmstate" => {
                let v = value("--tpmstate")?;
                for (k, val) in pairs("--tpmstate", &v)? {
                    match k.as_str() {
                        "dir" => state_dir = Some(PathBuf::from(need("--tpmstate", "dir", &val)?)),
                        "backend-uri" => {
                            let uri = need("--tpmstate", "backend-uri", &val)?;
                            let dir = uri.strip_prefix("dir://").ok_or_else(|| {
                                format!(
                                    "--tpmstate: backend-uri={uri} is not supported (dir:// only)"
                                )
                            })?;
                            state_dir = Some(PathBuf::from(dir));
                        }
                        // The state directory is always locked and kept 0700/0600.
                        "mode" | "lock" | "backup" | "fsync" => {}
                        other => return Err(format!("--tpmstate: unknown parameter {other:?}")),
                    }
                }
            }
            "--ctrl" => {
                let v = value("--ctrl")?;
                let (spec, terminate) = channel("--ctrl", &v, "terminate")?;
                out.ctrl = Some(spec);
                out.terminate |= terminate;
            }
            "--server" => {
                let v = value("--server")?;
                let (spec, disconnect) = channel("--server", &v, "disconnect")?;
                out.server = Some(spec);
                out.disconnect = disconnect;
            }
            "-p" | "--port" => {
                let v = value("--port")?;
                let port: u16 = v
                    .parse()
                    .map_err(|_| format!("--port: {v} is not a port number"))?;
                out.server = Some(ChannelSpec::Tcp(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    port,
                )));
            }
            "--flags" => {
                let v = value("--flags")?;
                for (k, _) in pairs("--flags", &v)? {
                    out.startup = match k.as_str() {
                        "not-need-init" | "startup-none" => match out.startup {
                            StartupMode::NeedInit => StartupMode::NotNeedInit,
                            s => s,
                        },
                        "startup-clear" => StartupMode::StartupClear,
                        "startup-state" => StartupMode::StartupState,
                        "disable-auto-shutdown" => {
                            out.disable_auto_shutdown = true;
                            out.startup
                        }
                        "startup-deactivated" => {
                            return Err("--flags: startup-deactivated is a TPM 1.2 option".into())
                        }
                        other => return Err(format!("--flags: unknown flag {other:?}")),
                    };
                }
            }
            "--locality" => {
                let v = value("--locality")?;
                for (k, _) in pairs("--locality", &v)? {
                    match k.as_str() {
                        "reject-locality-4" => out.reject_locality_4 = true,
                        "allow-set-locality" => {}
                        other => return Err(format!("--locality: unknown parameter {other:?}")),
                    }
                }
            }
            "--pid" => {
                let v = value("--pid")?;
                for (k, val) in pairs("--pid", &v)? {
                    match k.as_str() {
                        "file" => out.pid_file = Some(PathBuf::from(need("--pid", "file", &val)?)),
                        "fd" => return Err("--pid: fd= is not supported; give file=".into()),
                        other => return Err(format!("--pid: unknown parameter {other:?}")),
                    }
                }
            }
            "--log" => {
                let v = value("--log")?;
                for (k, val) in pairs("--log", &v)? {
                    match k.as_str() {
                        "file" => out.log.file = Some(PathBuf::from(need("--log", "file", &val)?)),
                        "fd" => {
                            let fd = need("--log", "fd", &val)?;
                            if fd != "2" {
                                return Err(format!(
                                    "--log: fd={fd} is not supported (fd=2 or file=)"
                                ));
                            }
                        }
                        "level" => {
                            let l = need("--log", "level", &val)?;
                            out.log.level = Some(
                                l.parse()
                                    .map_err(|_| format!("--log: level={l} is not a number"))?,
                            );
                        }
                        "truncate" => out.log.truncate = true,
                        "prefix" => {}
                        other => return Err(format!("--log: unknown parameter {other:?}")),
                    }
                }
            }
            "-t" | "--terminate" => out.terminate = true,
            "-d" | "--daemon" => out.daemon = true,
            "--migration" => {
                let v = value("--migration")?;
                for (k, _) in pairs("--migration", &v)? {
                    if k != "incoming" && k != "release-lock-outgoing" {
                        return Err(format!("--migration: unknown parameter {k:?}"));
                    }
                }
            }
            "--seccomp" => {
                let _ = value("--seccomp")?;
            }
            "--isolation" => match value("--isolation")?.as_str() {
                "process" => out.isolation_vm = false,
                "vm" => out.isolation_vm = true,
                other => return Err(format!("--isolation: {other:?} is not process or vm")),
            },
            "--accel" => {
                let v = value("--accel")?;
                out.accel = <crate::vm::AccelChoice as clap::ValueEnum>::from_str(&v, false)
                    .map_err(|_| format!("--accel: {v:?} is not auto, kvm or tcg"))?;
            }
            "--image" => out.image = Some(PathBuf::from(value("--image")?)),
            "--vm-timeout" => {
                let v = value("--vm-timeout")?;
                out.vm_timeout = v
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--vm-timeout: {v:?} is not a positive number"))?;
            }
            "--key" | "--migration-key" | "--runas" | "--chroot" | "--profile" => {
                return Err(format!("{name} is not supported by vtpm"))
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if !saw_socket {
        return Err("the first argument must be `socket`".into());
    }
    if !tpm2 {
        return Err("only TPM 2.0 is offered: pass --tpm2".into());
    }
    out.state_dir = state_dir.ok_or("--tpmstate dir=DIR is required")?;
    if out.ctrl.is_none() && out.server.is_none() {
        return Err("give --ctrl and/or --server (or --port)".into());
    }
    Ok(SwtpmCommand::Socket(Box::new(out)))
}

/// The `--print-capabilities` JSON (the feature names libvirt looks for).
pub fn capabilities_json() -> String {
    let features = [
        "tpm-2.0",
        "tpm-send-command-header",
        "flags-opt-startup",
        "flags-opt-disable-auto-shutdown",
        "ctrl-opt-terminate",
        "cmdarg-migration",
    ];
    let list: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        "{{ \"type\": \"swtpm\", \"features\": [ {} ], \"version\": \"{}\" }}",
        list.join(", "),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests;
