//! Command-line interface (clap derive).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vtpm_proto::InstanceId;

/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "./vtpm-state";
/// Default mssim command-port address (the MS simulator's port).
pub const DEFAULT_MSSIM_ADDR: &str = "127.0.0.1:2321";
/// Environment variable that sets the log level when `--log-level` is not given.
pub const LOG_ENV: &str = "VTPM_LOG";

/// A virtual TPM 2.0 for virtual machines.
///
/// `vtpm run` serves a TPM over the Microsoft TPM simulator protocol (mssim), so
/// tpm2-tools, tpm2-tss (TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=2321) and IBM TSS
/// (TPM_INTERFACE_TYPE=socsim) work against it unchanged. Its state lives in a
/// directory, written atomically before any response that depends on it.
#[derive(Debug, Parser)]
#[command(name = "vtpm", version, propagate_version = true)]
pub struct Cli {
    /// Log level: off, error, warn, info, debug, trace. Without this flag the
    /// VTPM_LOG environment variable is used, and without that, info. Logs go to
    /// stderr.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log verbosity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// Errors and warnings (e.g. misbehaving clients).
    Warn,
    /// Start-up facts, state created or loaded.
    Info,
    /// Connections, signals, state saves.
    Debug,
    /// Every TPM command code and response code.
    Trace,
}

impl LogLevel {
    /// The `log` filter.
    pub fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Off => log::LevelFilter::Off,
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a vTPM over the mssim TCP protocol until SIGTERM or SIGINT.
    ///
    /// Loads the TPM from the state directory, or manufactures a new one there if
    /// the directory holds none. A state file that cannot be read or verified is
    /// never replaced: the server refuses to start and names the file. Only one
    /// server can use a state directory at a time.
    ///
    /// The TPM is powered on at start (a repeated POWER_ON signal is ignored, as a
    /// real simulator does); clients send TPM2_Startup themselves (`tpm2_startup -c`).
    /// TPM_STOP from a client closes that client's connection only; stop the server
    /// with SIGTERM or SIGINT, which exits after the command in progress.
    Run(RunArgs),

    /// Create a new TPM (fresh seeds) in a state directory.
    ///
    /// Refuses to replace an existing state unless --force is given: replacing it
    /// destroys every key and secret of the old TPM.
    Manufacture(ManufactureArgs),

    /// Inspect stored state.
    #[command(subcommand)]
    State(StateCommand),

    /// Run the swtpm-compatible front: `vtpm swtpm socket --tpm2 --tpmstate
    /// dir=DIR --ctrl type=unixio,path=SOCK ...` (`vtpm swtpm --help` lists the
    /// options). A link to `vtpm` named `swtpm` runs this directly.
    Swtpm(SwtpmArgs),

    /// A client of the swtpm control protocol with swtpm_ioctl's options
    /// (`vtpm swtpm-ioctl --unix SOCK -c`). A link named `swtpm_ioctl` runs it.
    SwtpmIoctl(SwtpmArgs),

    /// Manufacture a TPM with swtpm_setup's options (`vtpm swtpm-setup --tpm2
    /// --tpmstate DIR --createek --create-ek-cert --pcr-banks sha256`). A link
    /// named `swtpm_setup` runs it.
    SwtpmSetup(SwtpmArgs),

    /// Build the stub VM image reproducibly, or measure an image.
    #[command(subcommand)]
    Image(ImageCommand),

    /// Print version information.
    Version,
}

/// `vtpm image ...`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the stub image reproducibly into DIR, with its manifest.
    ///
    /// Builds from this source tree (cargo, the toolchain pinned in
    /// rust-toolchain.toml, Cargo.lock as is) and writes DIR/vtpm-stub.elf and
    /// DIR/manifest.json (size, SHA-256, SHA-384, PVH entry, source revision,
    /// toolchain). Builds of the same source with the same toolchain give the same
    /// bytes, wherever the tree is.
    Build(ImageBuildArgs),

    /// Print the size, SHA-256, SHA-384 and PVH entry of an image file.
    ///
    /// These are the values a verifier computes; with --expect they are checked
    /// against a manifest. Files that are not PVH ELF images are refused.
    Measure(ImageMeasureArgs),
}

/// `vtpm image build`.
#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Cargo target directory for the build. Default: target/image-build in the
    /// source tree.
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,

    /// The source tree. Default: the checkout around the current directory, else
    /// the one around the vtpm binary.
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
}

/// `vtpm image measure`.
#[derive(Debug, Args)]
pub struct ImageMeasureArgs {
    /// The image (a PVH ELF file).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Print the manifest's JSON form instead of text.
    #[arg(long)]
    pub json: bool,

    /// A manifest.json the image must match (size, SHA-256, SHA-384, PVH entry);
    /// exit code 1 and the differences when it does not.
    #[arg(long, value_name = "MANIFEST")]
    pub expect: Option<PathBuf>,
}

/// `vtpm swtpm ...`: the arguments, parsed as swtpm parses them.
#[derive(Debug, Args)]
pub struct SwtpmArgs {
    /// swtpm's arguments, starting with `socket`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// Where the state lives.
#[derive(Debug, Args)]
pub struct StateDirArg {
    /// State directory (created with mode 0700 if missing).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

/// `vtpm run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// State directory.
    #[command(flatten)]
    pub state: StateDirArg,

    /// Address of the mssim command port. The platform port listens on the same
    /// address, at --platform-port.
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_MSSIM_ADDR)]
    pub mssim: SocketAddr,

    /// Port of the mssim platform (power, physical presence, NV) channel. Default:
    /// the command port + 1, where tpm2-tss and IBM TSS expect it.
    #[arg(long, value_name = "PORT")]
    pub platform_port: Option<u16>,

    /// Allow listening on addresses other than loopback. The mssim protocol has no
    /// authentication: anyone who can connect can use (and power off) the TPM.
    #[arg(long)]
    pub allow_remote: bool,

    /// Where the TPM engine runs: `process` (in this process; weaker isolation,
    /// reported as such to verifiers) or `vm` (a stub VM under QEMU microvm,
    /// state sealed inside it).
    #[arg(long, value_enum, default_value_t = IsolationArg::Process)]
    pub isolation: IsolationArg,

    /// Options of `--isolation vm`.
    #[command(flatten)]
    pub vm: VmArgs,

    /// Instance id (the VM's UUID) for a newly manufactured TPM. For an existing
    /// state, it must match the id stored with it.
    #[arg(long, value_name = "UUID")]
    pub instance: Option<InstanceId>,

    /// When a change to permanent state (NV, hierarchy auth, DA counters) counts as
    /// saved: `fsync` (on stable storage before the TPM answers; survives a host
    /// crash) or `atomic` (renamed into place, written back by the kernel; survives
    /// a killed process, as swtpm's state does).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Fsync)]
    pub durability: DurabilityArg,
}

/// Options of the vm backend.
#[derive(Debug, Args)]
pub struct VmArgs {
    /// Accelerator of the stub VM: `auto` (KVM when /dev/kvm is usable and not a
    /// nested software KVM, else TCG), `kvm` or `tcg`.
    #[arg(long, value_enum, default_value_t = crate::vm::AccelChoice::Auto)]
    pub accel: crate::vm::AccelChoice,

    /// The stub image (default: `$VTPM_STUB_IMAGE`, else
    /// x86_64-unknown-none/release/vtpm-stub in the vtpm binary's target
    /// directory, else in ./target).
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,

    /// Seconds the stub VM may take to boot or to answer one command before it
    /// is restarted (the command gets TPM_RC_FAILURE).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub vm_timeout: u64,
}

/// Durability of state saves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// fsync the file and the directory at every save.
    Fsync,
    /// Atomic rename only.
    Atomic,
}

impl From<DurabilityArg> for crate::store::Durability {
    fn from(d: DurabilityArg) -> Self {
        match d {
            DurabilityArg::Fsync => crate::store::Durability::Fsync,
            DurabilityArg::Atomic => crate::store::Durability::Atomic,
        }
    }
}

/// Isolation backend choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsolationArg {
    /// The engine runs inside this host process.
    Process,
    /// The engine runs in a dedicated stub VM.
    Vm,
}

/// `vtpm manufacture`.
#[derive(Debug, Args)]
pub struct ManufactureArgs {
    /// State directory.
    #[command(flatten)]
    pub state: StateDirArg,

    /// Replace an existing state (the old TPM's keys and secrets are lost).
    #[arg(long)]
    pub force: bool,

    /// Instance id (the VM's UUID); a random one if not given.
    #[arg(long, value_name = "UUID")]
    pub instance: Option<InstanceId>,
}

/// `vtpm state ...`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print facts about the stored state: envelope format, kind, instance id,
    /// sequence number, sizes, and whether the engine can load it. Never prints
    /// secrets.
    Show(StateDirArg),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_defaults() {
        let cli = Cli::try_parse_from(["vtpm", "run"]).unwrap();
        let Command::Run(a) = cli.command else {
            panic!("not run")
        };
        assert_eq!(a.state.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert_eq!(a.mssim, "127.0.0.1:2321".parse::<SocketAddr>().unwrap());
        assert_eq!(a.platform_port, None);
        assert_eq!(a.isolation, IsolationArg::Process);
        assert!(!a.allow_remote);
        assert_eq!(cli.log_level, None);
    }

    #[test]
    fn run_options() {
        let cli = Cli::try_parse_from([
            "vtpm",
            "run",
            "--state-dir",
            "/x",
            "--mssim",
            "127.0.0.1:4000",
            "--platform-port",
            "5000",
            "--isolation",
            "vm",
            "--instance",
            "00112233-4455-6677-8899-aabbccddeeff",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert_eq!(cli.log_level, Some(LogLevel::Debug));
        let Command::Run(a) = cli.command else {
            panic!("not run")
        };
        assert_eq!(a.platform_port, Some(5000));
        assert_eq!(a.isolation, IsolationArg::Vm);
        assert_eq!(
            a.instance.unwrap().to_string(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
    }

    #[test]
    fn image_subcommands() {
        let cli = Cli::try_parse_from(["vtpm", "image", "build", "--out", "o"]).unwrap();
        let Command::Image(ImageCommand::Build(a)) = cli.command else {
            panic!("not image build")
        };
        assert_eq!(a.out, PathBuf::from("o"));
        assert_eq!(a.target_dir, None);
        let cli = Cli::try_parse_from(["vtpm", "image", "measure", "--json", "f.elf"]).unwrap();
        let Command::Image(ImageCommand::Measure(a)) = cli.command else {
            panic!("not image measure")
        };
        assert!(a.json);
        assert_eq!(a.file, PathBuf::from("f.elf"));
        for args in [
            &["vtpm", "image", "build"][..],
            &["vtpm", "image", "measure"],
        ] {
            assert_eq!(Cli::try_parse_from(args).unwrap_err().exit_code(), 2);
        }
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["vtpm", "run", "--mssim", "localhost"][..],
            &["vtpm", "run", "--instance", "not-a-uuid"],
            &["vtpm", "run", "--isolation", "container"],
            &["vtpm", "--log-level", "loud", "version"],
            &["vtpm", "frobnicate"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
