//! `vtpm run --isolation vm` and `vtpm swtpm socket --isolation vm`: the engine
//! in a stub VM (QEMU microvm, TCG), driven by tpm2-tools and swtpm_ioctl, with
//! sealed state, a stub that is killed or stops answering, and idle CPU.
//!
//! Needs the stub image (`cargo build --release -p vtpm-stub --target
//! x86_64-unknown-none`; ci/test.sh builds it first) and `qemu-system-x86_64`;
//! without either every test says so and skips.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{free_port_pair, ok, run_with_timeout, Server, TestDir};

/// Where `vtpm` looks for the image by default (next to its target dir).
fn image() -> PathBuf {
    common::stub_image()
}

/// Returns from the test (printing why) when the image or QEMU is missing.
macro_rules! require_vm {
    () => {
        if !image().is_file() {
            eprintln!(
                "skipped: no stub image at {} (cargo build --release -p vtpm-stub --target x86_64-unknown-none)",
                image().display()
            );
            return;
        }
        if !common::have("qemu-system-x86_64") {
            eprintln!("skipped: qemu-system-x86_64 not installed");
            return;
        }
    };
}

const VM: [&str; 4] = ["--isolation", "vm", "--accel", "tcg"];

/// Stops the server with SIGTERM (which also stops its stub VM) when dropped.
struct Vm(Server);

impl Vm {
    fn start(td: &TestDir, extra: &[&str]) -> Vm {
        let mut args = VM.to_vec();
        args.extend_from_slice(extra);
        Vm(Server::start_with(td, &args))
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if self.0.alive() {
            self.0.terminate();
        }
    }
}

impl std::ops::Deref for Vm {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl std::ops::DerefMut for Vm {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.0
    }
}

/// The QEMU processes whose parent is `pid`.
fn qemu_children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm_end, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if comm_end.contains("qemu")
            && fields.get(1) == Some(&pid.to_string().as_str())
            && fields.first() != Some(&"Z")
        {
            out.push(child);
        }
    }
    out
}

fn the_qemu(server: &Server) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let q = qemu_children(server.pid());
        if q.len() == 1 {
            return q[0];
        }
        assert!(Instant::now() < deadline, "QEMU children: {q:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(") ").unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the comm: state(0) ppid(1) ... utime(11) stime(12).
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const NV: &str = "0x1500016";

fn define_and_write(s: &Server, td: &TestDir, data: &[u8]) {
    ok(s.tpm2("tpm2_nvdefine").args([
        NV,
        "-C",
        "o",
        "-s",
        "32",
        "-a",
        "ownerread|ownerwrite|authread|authwrite",
    ]));
    let f = td.path().join("nv.in");
    fs::write(&f, data).unwrap();
    ok(s.tpm2("tpm2_nvwrite").args([NV, "-C", "o", "-i"]).arg(&f));
}

fn nv_read(s: &Server, n: usize) -> Vec<u8> {
    ok(s.tpm2("tpm2_nvread")
        .args([NV, "-C", "o", "-s", &n.to_string()]))
    .stdout
}

#[test]
fn tpm2_tools_against_the_stub_and_state_survives_a_restart() {
    require_vm!();
    require!(
        "tpm2_startup",
        "tpm2_getrandom",
        "tpm2_pcrextend",
        "tpm2_createprimary",
        "tpm2_nvdefine",
        "tpm2_getcap"
    );
    let td = TestDir::new();
    let mut s = Vm::start(&td, &[]);
    let log = s.log();
    assert!(log.contains("stub VM accelerator: Tcg"), "{log}");
    ok(s.tpm2("tpm2_startup").arg("-c"));
    let r = stdout(&ok(s.tpm2("tpm2_getrandom").args(["--hex", "16"])));
    assert_eq!(r.trim().len(), 32, "{r}");
    let caps = stdout(&ok(s.tpm2("tpm2_getcap").arg("properties-fixed")));
    let vs3 = caps
        .split("TPM2_PT_VENDOR_STRING_3:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(vs3.contains("value: \"vm\""), "{caps}");

    // PCR 16 after one extend: SHA-256(zeros || digest), computed here.
    let digest = [0xabu8; 32];
    ok(s.tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={}", hex(&digest))));
    let pcr = stdout(&ok(s.tpm2("tpm2_pcrread").arg("sha256:16")));
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([0u8; 32]);
    h.update(digest);
    let want = hex(&h.finalize()).to_uppercase();
    assert!(pcr.to_uppercase().contains(&want), "{pcr} vs {want}");

    let ctx = td.path().join("primary.ctx");
    ok(s.tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "ecc256", "-c"])
        .arg(&ctx));
    ok(s.tpm2("tpm2_flushcontext").arg("-t"));

    define_and_write(&s, &td, b"sealed in the stub");
    assert_eq!(nv_read(&s, 18), b"sealed in the stub");

    // Only ciphertext on disk: protection 1, no plaintext NV data.
    let blob = fs::read(td.state_file()).unwrap();
    assert_eq!(&blob[..8], b"VTPMSTAT");
    assert_eq!(blob[11], 1, "protection AES-256-GCM");
    assert!(!blob.windows(6).any(|w| w == b"sealed"));
    let key = fs::metadata(td.state_dir().join("state.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    assert_eq!(key.len(), 32);

    // A new daemon (and stub) loads the sealed state: NV is back.
    let qemu = the_qemu(&s);
    assert!(s.terminate().success());
    thread::sleep(Duration::from_millis(200));
    assert!(qemu_children(s.pid_or_zero()).is_empty());
    assert!(
        !std::path::Path::new(&format!("/proc/{qemu}/cmdline")).exists()
            || fs::read_to_string(format!("/proc/{qemu}/stat"))
                .map(|st| st.contains(") Z "))
                .unwrap_or(true),
        "QEMU {qemu} outlived its daemon"
    );
    let show = stdout(&ok(common::vtpm()
        .args(["state", "show", "--state-dir"])
        .arg(td.state_dir())));
    assert!(show.contains("AES-256-GCM"), "{show}");
    let s2 = Vm::start(&td, &[]);
    ok(s2.tpm2("tpm2_startup").arg("-c"));
    assert_eq!(nv_read(&s2, 18), b"sealed in the stub");
}

trait PidOrZero {
    fn pid_or_zero(&mut self) -> u32;
}

impl PidOrZero for Vm {
    fn pid_or_zero(&mut self) -> u32 {
        if self.0.alive() {
            self.0.pid()
        } else {
            0
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn tampered_state_is_refused_and_left_untouched() {
    require_vm!();
    require!("tpm2_startup", "tpm2_nvdefine");
    let td = TestDir::new();
    let mut s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    define_and_write(&s, &td, b"original");
    assert!(s.terminate().success());

    let path = td.state_file();
    let mut blob = fs::read(&path).unwrap();
    let mid = 40 + (blob.len() - 40) / 2;
    blob[mid] ^= 0x01;
    fs::write(&path, &blob).unwrap();
    let failure = match Server::try_start(&td, &VM) {
        Ok(mut srv) => {
            srv.terminate();
            panic!("a tampered state was accepted");
        }
        Err(f) => f,
    };
    assert!(
        failure.log.contains("refused") && failure.log.contains("does not authenticate"),
        "{}",
        failure.log
    );
    assert!(failure.log.contains("left untouched"), "{}", failure.log);
    assert_eq!(fs::read(&path).unwrap(), blob, "the file was changed");
}

#[test]
fn killed_stub_fails_the_command_and_restarts_with_nv_intact() {
    require_vm!();
    require!("tpm2_startup", "tpm2_getrandom", "tpm2_nvdefine");
    let td = TestDir::new();
    let s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    define_and_write(&s, &td, b"survives a crash");
    let qemu = the_qemu(&s);
    ok(Command::new("kill").args(["-KILL", &qemu.to_string()]));
    thread::sleep(Duration::from_millis(100));
    // The command that meets the dead stub gets an error, promptly.
    let started = Instant::now();
    let out = run_with_timeout(
        s.tpm2("tpm2_getrandom").args(["--hex", "8"]),
        Duration::from_secs(60),
    );
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0x101") || err.contains("failure"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let log = s.log();
    assert!(log.contains("stub VM failed"), "{log}");
    assert!(
        log.contains("restarting from the last durable state"),
        "{log}"
    );
    // The restarted stub has the NV contents (Startup was replayed).
    assert_eq!(nv_read(&s, 16), b"survives a crash");
    let new_qemu = the_qemu(&s);
    assert_ne!(new_qemu, qemu);
}

#[test]
fn a_stub_that_stops_answering_times_out_and_is_replaced() {
    require_vm!();
    require!("tpm2_startup", "tpm2_getrandom");
    let td = TestDir::new();
    let s = Vm::start(&td, &["--vm-timeout", "4"]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    let qemu = the_qemu(&s);
    ok(Command::new("kill").args(["-STOP", &qemu.to_string()]));
    let started = Instant::now();
    let out = run_with_timeout(
        s.tpm2("tpm2_getrandom").args(["--hex", "8"]),
        Duration::from_secs(60),
    );
    assert!(!out.status.success(), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        s.log().contains("no answer within the timeout"),
        "{}",
        s.log()
    );
    let r = stdout(&ok(s.tpm2("tpm2_getrandom").args(["--hex", "8"])));
    assert_eq!(r.trim().len(), 16);
}

#[test]
fn idle_stub_costs_almost_no_cpu() {
    require_vm!();
    require!("tpm2_startup");
    let td = TestDir::new();
    let s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    let qemu = the_qemu(&s);
    thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(qemu);
    thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(qemu) - before;
    // 3 s are 300 ticks at the usual 100 Hz; a halted stub uses well under 5 %.
    assert!(used < 15, "QEMU used {used} ticks in 3 s while idle");
}

/// `vtpm swtpm socket --isolation vm`, with swtpm_ioctl and the swtpm TCTI.
#[test]
fn swtpm_front_on_the_vm_backend() {
    require_vm!();
    require!("swtpm_ioctl", "tpm2_getrandom", "tpm2_getcap");
    let td = TestDir::new();
    let port = free_port_pair();
    let log = td.path().join("swtpm.log");
    let state = td.path().join("swtpm-state");
    let mut child: Child = common::vtpm()
        .args([
            "swtpm",
            "socket",
            "--tpm2",
            "--isolation",
            "vm",
            "--accel",
            "tcg",
        ])
        .arg("--tpmstate")
        .arg(format!("dir={}", state.display()))
        .arg("--ctrl")
        .arg(format!("type=tcp,port={}", port + 1))
        .arg("--server")
        .arg(format!("type=tcp,port={port}"))
        .args(["--flags", "not-need-init,startup-clear"])
        .arg("--log")
        .arg(format!("file={},level=20", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vtpm swtpm");
    struct Reap<'a>(&'a mut Child);
    impl Drop for Reap<'_> {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = common::wait_timeout(self.0, Duration::from_secs(10));
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Reap(&mut child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let up = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
    while !(up(port) && up(port + 1)) {
        assert!(
            Instant::now() < deadline,
            "front did not start: {}",
            fs::read_to_string(&log).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let ioctl = |args: &[&str]| {
        stdout(&ok(Command::new("swtpm_ioctl")
            .arg("--tcp")
            .arg(format!("127.0.0.1:{}", port + 1))
            .args(args)))
    };
    let tpm2 = |tool: &str| {
        let mut c = Command::new(tool);
        c.env(
            "TPM2TOOLS_TCTI",
            format!("swtpm:host=127.0.0.1,port={port}"),
        );
        c
    };
    assert!(ioctl(&["-c"]).contains("ptm capability"), "caps");
    let r = stdout(&ok(tpm2("tpm2_getrandom").args(["--hex", "16"])));
    assert_eq!(r.trim().len(), 32);
    let caps = stdout(&ok(tpm2("tpm2_getcap").arg("properties-fixed")));
    assert!(caps.contains("value: \"vm\""), "{caps}");
    // CMD_INIT restarts the stub from its sealed state; the TPM then needs
    // TPM2_Startup again.
    ioctl(&["-i"]);
    // An H-CRTM before Startup and a D-RTM after it reach the stub's engine.
    ioctl(&["-h", "h-crtm on the vm backend"]);
    ok(tpm2("tpm2_startup").arg("-c"));
    ioctl(&["-h", "measured launch"]);
    let pcrs = stdout(&ok(tpm2("tpm2_pcrread").arg("sha256:0,17")));
    let mut start = [0u8; 32];
    start[31] = 4;
    let pcr0 = common::sha256(&[&start, &common::sha256(&[b"h-crtm on the vm backend"])]);
    let pcr17 = common::sha256(&[&[0u8; 32], &common::sha256(&[b"measured launch"])]);
    assert!(pcrs.contains(&hex(&pcr0).to_uppercase()), "{pcrs}");
    assert!(pcrs.contains(&hex(&pcr17).to_uppercase()), "{pcrs}");
    let r = stdout(&ok(tpm2("tpm2_getrandom").args(["--hex", "4"])));
    assert_eq!(r.trim().len(), 8);
    assert_eq!(fs::read(state.join("permanent.state")).unwrap()[11], 1);

    // Volatile state leaves the stub sealed and comes back across CMD_INIT
    // (a new stub), as in a migration by state blobs.
    ok(tpm2("tpm2_pcrextend").arg(format!("16:sha256={}", "5a".repeat(32))));
    let pcr16 = || stdout(&ok(tpm2("tpm2_pcrread").arg("sha256:16")));
    let before = pcr16();
    let vol = td.path().join("vol.blob");
    ioctl(&["--save", "volatile", vol.to_str().unwrap()]);
    let blob = fs::read(&vol).unwrap();
    assert_eq!(&blob[..8], b"VTPMSTAT");
    assert_eq!((blob[10], blob[11]), (2, 1), "sealed volatile state");
    ioctl(&["--stop"]);
    ioctl(&["--load", "volatile", vol.to_str().unwrap()]);
    ioctl(&["-i"]);
    assert_eq!(pcr16(), before, "PCRs come back with the volatile state");
    // A tampered volatile blob is refused at CMD_INIT.
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    fs::write(&vol, &bad).unwrap();
    ioctl(&["--stop"]);
    ioctl(&["--load", "volatile", vol.to_str().unwrap()]);
    let init = Command::new("swtpm_ioctl")
        .arg("--tcp")
        .arg(format!("127.0.0.1:{}", port + 1))
        .arg("-i")
        .output()
        .unwrap();
    assert!(!init.status.success(), "{init:?}");
    let log_text = fs::read_to_string(&log).unwrap_or_default();
    assert!(log_text.contains("does not authenticate"), "{log_text}");
    drop(child);
}

#[test]
fn wrong_key_is_refused() {
    require_vm!();
    require!("tpm2_startup", "tpm2_nvdefine");
    let td = TestDir::new();
    let mut s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    define_and_write(&s, &td, b"keyed");
    assert!(s.terminate().success());
    let blob = fs::read(td.state_file()).unwrap();
    fs::write(td.state_dir().join("state.key"), [7u8; 32]).unwrap();
    let failure = match Server::try_start(&td, &VM) {
        Ok(mut srv) => {
            srv.terminate();
            panic!("state sealed under another key was accepted");
        }
        Err(f) => f,
    };
    assert!(
        failure.log.contains("does not authenticate"),
        "{}",
        failure.log
    );
    assert_eq!(fs::read(td.state_file()).unwrap(), blob);
}

#[test]
fn an_older_state_is_refused_as_a_rollback() {
    require_vm!();
    require!("tpm2_startup", "tpm2_nvdefine", "tpm2_getrandom");
    let td = TestDir::new();
    let s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    define_and_write(&s, &td, b"first");
    let old = fs::read(td.state_file()).unwrap();
    let f = td.path().join("nv2.in");
    fs::write(&f, b"second").unwrap();
    ok(s.tpm2("tpm2_nvwrite").args([NV, "-C", "o", "-i"]).arg(&f));
    assert_ne!(fs::read(td.state_file()).unwrap(), old);
    // Someone puts the older (authentic) state back and the stub restarts.
    fs::write(td.state_file(), &old).unwrap();
    let qemu = the_qemu(&s);
    ok(Command::new("kill").args(["-KILL", &qemu.to_string()]));
    thread::sleep(Duration::from_millis(100));
    let out = run_with_timeout(
        s.tpm2("tpm2_getrandom").args(["--hex", "8"]),
        Duration::from_secs(60),
    );
    assert!(!out.status.success());
    let log = s.log();
    assert!(log.contains("rollback"), "{log}");
    assert!(log.contains("left untouched"), "{log}");
    assert_eq!(fs::read(td.state_file()).unwrap(), old, "file rewritten");
}

#[test]
fn process_state_is_not_taken_for_sealed_state() {
    require_vm!();
    let td = TestDir::new();
    ok(common::vtpm()
        .args(["manufacture", "--state-dir"])
        .arg(td.state_dir()));
    let before = fs::read(td.state_file()).unwrap();
    let failure = match Server::try_start(&td, &VM) {
        Ok(mut srv) => {
            srv.terminate();
            panic!("unsealed state was accepted by the vm backend");
        }
        Err(f) => f,
    };
    assert!(failure.log.contains("not sealed state"), "{}", failure.log);
    assert_eq!(fs::read(td.state_file()).unwrap(), before);
}

/// A permanent state larger than an ordinary frame (several full NV indices)
/// travels in the larger state frames, both ways.
#[test]
fn large_state_survives_a_restart() {
    require_vm!();
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread"
    );
    let td = TestDir::new();
    let mut s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    let data: Vec<u8> = (0..2048u32).map(|i| (i * 7 + 3) as u8).collect();
    let f = td.path().join("big.in");
    fs::write(&f, &data).unwrap();
    let indices = [
        "0x1500100",
        "0x1500101",
        "0x1500102",
        "0x1500103",
        "0x1500104",
    ];
    for idx in indices {
        ok(s.tpm2("tpm2_nvdefine").args([
            idx,
            "-C",
            "o",
            "-s",
            "2048",
            "-a",
            "ownerread|ownerwrite|authread|authwrite",
        ]));
        ok(s.tpm2("tpm2_nvwrite").args([idx, "-C", "o", "-i"]).arg(&f));
    }
    let size = fs::metadata(td.state_file()).unwrap().len();
    assert!(size > 10 * 1024, "state file of {size} bytes");
    assert!(s.terminate().success());
    let s2 = Vm::start(&td, &[]);
    ok(s2.tpm2("tpm2_startup").arg("-c"));
    for idx in indices {
        let out = ok(s2.tpm2("tpm2_nvread").args([idx, "-C", "o", "-s", "2048"]));
        assert_eq!(out.stdout, data, "{idx}");
    }
}

/// TPM2_Shutdown(STATE) is saved sealed like any other NV change, so a new
/// daemon (and stub) resumes with TPM2_Startup(STATE): PCRs 0-15 come back.
#[test]
fn shutdown_state_resumes_in_a_new_stub() {
    require_vm!();
    require!(
        "tpm2_startup",
        "tpm2_shutdown",
        "tpm2_pcrextend",
        "tpm2_pcrread"
    );
    let td = TestDir::new();
    let mut s = Vm::start(&td, &[]);
    ok(s.tpm2("tpm2_startup").arg("-c"));
    ok(s.tpm2("tpm2_pcrextend")
        .arg(format!("8:sha256={}", "cd".repeat(32))));
    let before = stdout(&ok(s.tpm2("tpm2_pcrread").arg("sha256:8")));
    ok(&mut s.tpm2("tpm2_shutdown"));
    assert!(s.terminate().success());
    let s2 = Vm::start(&td, &[]);
    ok(&mut s2.tpm2("tpm2_startup"));
    let after = stdout(&ok(s2.tpm2("tpm2_pcrread").arg("sha256:8")));
    assert_eq!(before, after);
    assert!(!after.contains(&"0".repeat(64)), "{after}");
}
