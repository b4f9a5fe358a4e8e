//! Launching the stub image under QEMU microvm: accelerator choice, image
//! lookup, the command line, and what an exit status means.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};

/// The machine the stub is made for: microvm without ACPI and without the
/// legacy timers and PIC (an idle stub then costs almost no host CPU).
pub const MACHINE: &str = "microvm,acpi=off,pit=off,pic=off,rtc=off";

/// Guest memory.
pub const MEMORY: &str = "16M";

/// The image path below a cargo target directory.
pub const IMAGE_IN_TARGET: &str = "x86_64-unknown-none/release/vtpm-stub";

/// Environment variable naming the stub image (overridden by `--image`).
pub const IMAGE_ENV: &str = "VTPM_STUB_IMAGE";

/// The QEMU binary (overridable for tests and unusual installs).
pub const QEMU_ENV: &str = "VTPM_QEMU";

/// `--accel` as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AccelChoice {
    /// KVM when it is usable and not a nested software KVM, else TCG.
    #[default]
    Auto,
    /// Hardware virtualization (fails when /dev/kvm is not usable).
    Kvm,
    /// QEMU's software emulator.
    Tcg,
}

/// The accelerator QEMU runs the stub with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// KVM, with `-cpu host`.
    Kvm,
    /// TCG, with `-cpu max` (which has RDRAND).
    Tcg,
}

impl Accel {
    fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }

    fn cpu(self) -> &'static str {
        match self {
            Accel::Kvm => "host",
            Accel::Tcg => "max",
        }
    }
}

/// Whether /dev/kvm can be opened for reading and writing.
fn kvm_usable() -> Result<(), String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| format!("/dev/kvm is not usable ({e})"))
}

/// Why this host's KVM is a nested software KVM (far slower than TCG), if it is.
fn nested_software_kvm() -> Option<String> {
    if Path::new("/sys/module/kvm_pvm").exists() {
        return Some("the kvm_pvm module is loaded (/sys/module/kvm_pvm)".to_owned());
    }
    if let Ok(m) = fs::read_to_string("/proc/modules") {
        if m.lines()
            .any(|l| l.split_whitespace().next() == Some("kvm_pvm"))
        {
            return Some("the kvm_pvm module is loaded (/proc/modules)".to_owned());
        }
    }
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    if flags.contains(&"hypervisor") && flags.iter().any(|f| f.contains("pvm")) {
        return Some("the CPU flags say hypervisor with pvm".to_owned());
    }
    None
}

/// Picks the accelerator; returns it and why.
pub fn choose_accel(choice: AccelChoice) -> Result<(Accel, String), String> {
    match choice {
        AccelChoice::Tcg => Ok((Accel::Tcg, "--accel tcg".to_owned())),
        AccelChoice::Kvm => {
            kvm_usable().map_err(|e| format!("--accel kvm: {e}"))?;
            Ok((Accel::Kvm, "--accel kvm".to_owned()))
        }
        AccelChoice::Auto => {
            if let Err(e) = kvm_usable() {
                return Ok((Accel::Tcg, format!("auto: {e}")));
            }
            if let Some(why) = nested_software_kvm() {
                return Ok((
                    Accel::Tcg,
                    format!("auto: KVM here is a nested software KVM ({why}), slower than TCG"),
                ));
            }
            Ok((Accel::Kvm, "auto: /dev/kvm is usable".to_owned()))
        }
    }
}

/// The places the stub image is looked for, in order, when `--image` is not
/// given: `$VTPM_STUB_IMAGE`, next to the vtpm binary's target directory, then
/// `target/` under the current directory.
pub fn image_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(IMAGE_ENV) {
        out.push(PathBuf::from(p));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        // <target>/release/vtpm -> <target>/x86_64-unknown-none/release/vtpm-stub.
        out.push(dir.join("..").join(IMAGE_IN_TARGET));
    }
    if let Ok(cwd) = std::env::current_dir() {
        out.push(cwd.join("target").join(IMAGE_IN_TARGET));
    }
    out
}

/// The stub image to boot: `explicit` (which must exist), else the first of
/// [`image_candidates`] that exists.
pub fn find_image(explicit: Option<&Path>) -> Result<PathBuf, String> {
    const HOW: &str =
        "build it with `cargo build --release -p vtpm-stub --target x86_64-unknown-none`";
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_owned())
        } else {
            Err(format!("stub image {} not found; {HOW}", p.display()))
        };
    }
    let candidates = image_candidates();
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(fs::canonicalize(found).unwrap_or_else(|_| found.clone()));
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "no stub image found (looked at {}); {HOW}, or pass --image FILE",
        looked.join(", ")
    ))
}

/// A private (mode 0700) directory for the channel socket and logs; removed
/// when dropped.
#[derive(Debug)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Creates a fresh directory under `$XDG_RUNTIME_DIR`, else the temp dir.
    pub fn create() -> io::Result<RuntimeDir> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let mut last = None;
        for _ in 0..16 {
            let tag = crate::platform::random_bytes::<6>()
                .map_err(|e| io::Error::other(format!("entropy: {e}")))?;
            let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
            let path = base.join(format!("vtpm-vm-{}-{hex}", std::process::id()));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {
                    dirs().push(path.clone());
                    return Ok(RuntimeDir { path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("cannot create a runtime directory")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        dirs().retain(|p| p != &self.path);
    }
}

/// Runtime directories not yet removed (removed by [`stop_all`] at exit).
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    DIRS.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Pids of the QEMU processes this process started and has not reaped, so that
/// they are stopped when the daemon exits ([`stop_all`]).
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every stub VM still running and removes the runtime directories (at
/// daemon exit; state is always durable, so nothing is lost).
pub fn stop_all() {
    for pid in running().drain(..) {
        if let Ok(pid) = i32::try_from(pid) {
            let pid = nix::unistd::Pid::from_raw(pid);
            if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).is_ok() {
                // Reap it, so that no zombie is left behind.
                let _ = nix::sys::wait::waitpid(pid, None);
            }
        }
    }
    for dir in dirs().drain(..) {
        let _ = fs::remove_dir_all(dir);
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// The thread that starts every QEMU process. The kernel delivers a child's
/// parent-death signal when the *thread* that forked it ends, so children are
/// forked from one thread that lives as long as the process.
static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();

/// Starts `cmd` so that it gets SIGKILL when this process ends, however it
/// ends (a stub VM never outlives its daemon).
fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec; it only makes
    // one prctl system call (async-signal-safe) and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(io::Error::from)
        });
    }
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let spawned = std::thread::Builder::new()
            .name("vm-spawner".to_owned())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        if let Err(e) = spawned {
            log::warn!("cannot start the VM spawner thread: {e}");
        }
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("the VM spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the VM spawner thread is gone"))?
}

/// A running QEMU process.
#[derive(Debug)]
pub struct Qemu {
    child: Child,
    /// Where the guest's serial console goes.
    pub serial_log: PathBuf,
    /// Where QEMU's own stderr goes.
    pub qemu_log: PathBuf,
}

impl Qemu {
    /// Starts QEMU with `image`, the virtconsole on the unix socket `socket`
    /// (QEMU listens), the serial console and QEMU's stderr into files in `dir`.
    pub fn launch(image: &Path, accel: Accel, dir: &Path, socket: &Path) -> io::Result<Qemu> {
        let serial_log = dir.join("serial.log");
        let qemu_log = dir.join("qemu.log");
        let stderr = File::create(&qemu_log)?;
        let qemu = std::env::var_os(QEMU_ENV).unwrap_or_else(|| "qemu-system-x86_64".into());
        let mut cmd = Command::new(&qemu);
        cmd.args([
            "-machine",
            MACHINE,
            "-accel",
            accel.name(),
            "-cpu",
            accel.cpu(),
        ])
        .args(["-m", MEMORY, "-smp", "1", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-monitor", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
        .arg("-serial")
        .arg(format!("file:{}", serial_log.display()))
        .arg("-kernel")
        .arg(image)
        .args(["-device", "virtio-serial-device"])
        .args(["-device", "virtconsole,chardev=c0"])
        .arg("-chardev")
        .arg(format!(
            "socket,id=c0,path={},server=on,wait=off",
            socket.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
        let child = spawn_tied(cmd).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {}: {e}", Path::new(&qemu).display()),
            )
        })?;
        running().push(child.id());
        Ok(Qemu {
            child,
            serial_log,
            qemu_log,
        })
    }

    /// The QEMU process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if QEMU has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills QEMU (if still running) and reaps it; returns how it ended.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let status = match self.try_wait() {
            Some(s) => Some(s),
            None => {
                let _ = self.child.kill();
                self.child.wait().ok()
            }
        };
        let pid = self.child.id();
        running().retain(|&p| p != pid);
        status
    }

    /// The last `lines` lines of the serial console.
    pub fn serial_tail(&self, lines: usize) -> Vec<String> {
        tail(&self.serial_log, lines)
    }

    /// The last `lines` lines of QEMU's stderr.
    pub fn qemu_tail(&self, lines: usize) -> Vec<String> {
        tail(&self.qemu_log, lines)
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `lines` lines of a log file (reads at most its last 16 KiB).
fn tail(path: &Path, lines: usize) -> Vec<String> {
    let Ok(mut f) = File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all.get(all.len().saturating_sub(lines)..)
        .unwrap_or_default()
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

/// What an exit status of QEMU running the stub means (with `isa-debug-exit`
/// the stub's stop reason `c` becomes status `2c + 1`).
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let Some(status) = status else {
        return "exit status unknown".to_owned();
    };
    if let Some(sig) = status.signal() {
        return format!("QEMU was killed by signal {sig}");
    }
    match status.code() {
        Some(0) => "QEMU exited (the guest reset or powered off)".to_owned(),
        Some(1) => "QEMU failed (see its stderr below)".to_owned(),
        Some(3) => "the stub stopped on request (status 3)".to_owned(),
        Some(5) => "the stub hit a CPU exception (status 5)".to_owned(),
        Some(7) => "the stub panicked (status 7)".to_owned(),
        Some(9) => {
            "the stub stopped: a required device or CPU feature is missing, or memory ran out (status 9)"
                .to_owned()
        }
        Some(c) => format!("QEMU exited with status {c}"),
        None => "exit status unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_explicit_image_says_how_to_build() {
        let e = find_image(Some(Path::new("/nonexistent/vtpm-stub"))).unwrap_err();
        assert!(e.contains("/nonexistent/vtpm-stub"), "{e}");
        assert!(e.contains("cargo build --release -p vtpm-stub"), "{e}");
    }

    #[test]
    fn tcg_is_always_available_and_kvm_choice_is_explained() {
        assert_eq!(choose_accel(AccelChoice::Tcg).unwrap().0, Accel::Tcg);
        let (accel, why) = choose_accel(AccelChoice::Auto).unwrap();
        assert!(!why.is_empty());
        if nested_software_kvm().is_some() {
            assert_eq!(accel, Accel::Tcg, "{why}");
        }
    }

    #[test]
    fn exit_statuses_are_named() {
        use std::os::unix::process::ExitStatusExt;
        let s = |code: i32| describe_exit(Some(ExitStatus::from_raw(code << 8)));
        assert!(s(7).contains("panicked"));
        assert!(s(5).contains("exception"));
        assert!(s(9).contains("missing"));
        assert!(describe_exit(Some(ExitStatus::from_raw(9))).contains("signal 9"));
    }
}
