//! Test harness: starts `vtpm run` on free loopback ports with a temporary state
//! directory, and talks to it as real clients do (external tools, or a raw mssim
//! client written here).
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test.
pub fn vtpm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vtpm"))
}

/// True when `tool` is an executable on PATH.
pub fn have(tool: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        let p = d.join(tool);
        fs::metadata(&p).is_ok_and(|m| m.is_file())
    })
}

/// Returns from the test (printing why) when a tool is missing.
#[macro_export]
macro_rules! require {
    ($($tool:expr),+) => {
        $(
            if !common::have($tool) {
                eprintln!("skipped: {} not installed", $tool);
                return;
            }
        )+
    };
}

/// A temporary area: the state directory and server logs live apart, so the state
/// directory holds only what the server puts there.
pub struct TestDir {
    tmp: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join("permanent.state")
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
}

/// A port `p` such that `p` and `p + 1` were both free a moment ago.
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
        let p = l.local_addr().unwrap().port();
        if p < u16::MAX && TcpListener::bind((Ipv4Addr::LOCALHOST, p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free pair of loopback ports");
}

/// Waits for `child` with a deadline; kills it if the deadline passes.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command to completion (at most 60 s) and returns its output.
pub fn run_timeout(cmd: &mut Command) -> Output {
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Runs `cmd` to completion, failing the test after `limit`.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_timeout(&mut child, limit).expect("command timed out");
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// A running `vtpm run`.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub state_dir: PathBuf,
    pub log: PathBuf,
}

/// Why a server did not come up.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub log: String,
}

impl Server {
    /// Starts a server on `td`'s state directory; panics if it does not come up.
    pub fn start(td: &TestDir) -> Server {
        Self::start_with(td, &[])
    }

    /// Starts a server with extra arguments; panics if it does not come up.
    pub fn start_with(td: &TestDir, extra: &[&str]) -> Server {
        for _ in 0..5 {
            match Self::try_start(td, extra) {
                Ok(s) => return s,
                // Another test took the port between the probe and the bind.
                Err(f) if f.log.contains("cannot listen") => continue,
                Err(f) => panic!("server did not start ({:?}):\n{}", f.status, f.log),
            }
        }
        panic!("server did not start: no usable ports");
    }

    /// Starts a server; `Err` if it exits (or does not listen) within 20 s.
    pub fn try_start(td: &TestDir, extra: &[&str]) -> Result<Server, StartFailure> {
        let port = free_port_pair();
        let log = td.path().join(format!("server-{port}.log"));
        let log_file = fs::File::create(&log).expect("log file");
        let mut child = vtpm()
            .arg("run")
            .arg("--state-dir")
            .arg(td.state_dir())
            .arg("--mssim")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--log-level")
            .arg("debug")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn vtpm run");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return Err(StartFailure {
                    status: Some(status),
                    log: fs::read_to_string(&log).unwrap_or_default(),
                });
            }
            let up = |p: u16| TcpStream::connect((Ipv4Addr::LOCALHOST, p)).is_ok();
            if up(port) && up(port + 1) {
                return Ok(Server {
                    child: Some(child),
                    port,
                    state_dir: td.state_dir(),
                    log,
                });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(StartFailure {
                    status: None,
                    log: fs::read_to_string(&log).unwrap_or_default(),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// tpm2-tss TCTI configuration for this server.
    pub fn tcti(&self) -> String {
        format!("mssim:host=127.0.0.1,port={}", self.port)
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill -9");
            c.wait().expect("wait");
        }
    }

    /// SIGTERM; returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status()
            .expect("kill -TERM")
            .success();
        assert!(ok, "kill -TERM failed");
        wait_timeout(&mut c, Duration::from_secs(20)).expect("no exit after SIGTERM")
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        match &mut self.child {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn command_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn platform_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port + 1))
    }

    /// A tpm2-tools command pointed at this server.
    pub fn tpm2(&self, tool: &str) -> Command {
        let mut c = Command::new(tool);
        c.env("TPM2TOOLS_TCTI", self.tcti());
        c
    }

    /// An IBM TSS command pointed at this server.
    pub fn ibm(&self, tool: &str) -> Command {
        let mut c = Command::new(tool);
        c.env("TPM_INTERFACE_TYPE", "socsim")
            .env("TPM_COMMAND_PORT", self.port.to_string())
            .env("TPM_PLATFORM_PORT", (self.port + 1).to_string())
            .env("TPM_SERVER_NAME", "127.0.0.1")
            .env("TPM_SERVER_TYPE", "mssim");
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `cmd` and asserts success, showing its output otherwise.
pub fn ok(cmd: &mut Command) -> Output {
    let out = run_timeout(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ---- a raw mssim client --------------------------------------------------------

pub const TPM_SEND_COMMAND: u32 = 8;
pub const SIGNAL_POWER_ON: u32 = 1;
pub const SIGNAL_POWER_OFF: u32 = 2;
pub const SIGNAL_NV_ON: u32 = 11;
pub const SIGNAL_RESET: u32 = 17;
pub const SESSION_END: u32 = 20;
pub const REMOTE_HANDSHAKE: u32 = 15;

pub const RC_SUCCESS: u32 = 0;
pub const RC_INITIALIZE: u32 = 0x100;

/// TPM2_Startup(TPM_SU_CLEAR).
pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];

/// TPM2_GetRandom(n).
pub fn get_random(n: u16) -> Vec<u8> {
    let mut c = vec![0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b];
    c.extend_from_slice(&n.to_be_bytes());
    c
}

/// TPM2_HierarchyChangeAuth(TPM_RH_OWNER, new) authorized by password `old`.
pub fn owner_change_auth(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut auth = Vec::new();
    auth.extend_from_slice(&0x4000_0009u32.to_be_bytes()); // TPM_RS_PW
    auth.extend_from_slice(&0u16.to_be_bytes()); // nonce
    auth.push(0); // attributes
    auth.extend_from_slice(&(old.len() as u16).to_be_bytes());
    auth.extend_from_slice(old);
    let mut body = Vec::new();
    body.extend_from_slice(&0x4000_0001u32.to_be_bytes()); // TPM_RH_OWNER
    body.extend_from_slice(&(auth.len() as u32).to_be_bytes());
    body.extend_from_slice(&auth);
    body.extend_from_slice(&(new.len() as u16).to_be_bytes());
    body.extend_from_slice(new);
    let mut c = vec![0x80, 0x02];
    c.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
    c.extend_from_slice(&0x129u32.to_be_bytes());
    c.extend_from_slice(&body);
    c
}

/// The response code of a TPM response.
pub fn rc(response: &[u8]) -> u32 {
    u32::from_be_bytes(response[6..10].try_into().unwrap())
}

/// One connection to each port.
pub struct RawClient {
    pub cmd: TcpStream,
    pub plat: TcpStream,
}

impl RawClient {
    pub fn connect(server: &Server) -> RawClient {
        let cmd = TcpStream::connect(server.command_addr()).expect("connect command port");
        let plat = TcpStream::connect(server.platform_addr()).expect("connect platform port");
        for s in [&cmd, &plat] {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        }
        RawClient { cmd, plat }
    }

    /// Sends a platform signal and returns the status.
    pub fn signal(&mut self, code: u32) -> u32 {
        self.plat.write_all(&code.to_be_bytes()).unwrap();
        let mut b = [0u8; 4];
        self.plat.read_exact(&mut b).unwrap();
        u32::from_be_bytes(b)
    }

    /// Sends a TPM command at `locality`; returns the response, checking framing.
    pub fn command_at(&mut self, locality: u8, command: &[u8]) -> Vec<u8> {
        let mut f = TPM_SEND_COMMAND.to_be_bytes().to_vec();
        f.push(locality);
        f.extend_from_slice(&(command.len() as u32).to_be_bytes());
        f.extend_from_slice(command);
        self.cmd.write_all(&f).unwrap();
        let mut len = [0u8; 4];
        self.cmd.read_exact(&mut len).unwrap();
        let mut resp = vec![0u8; u32::from_be_bytes(len) as usize];
        self.cmd.read_exact(&mut resp).unwrap();
        let mut trailer = [0u8; 4];
        self.cmd.read_exact(&mut trailer).unwrap();
        assert_eq!(trailer, [0; 4], "mssim trailer must be 0");
        assert!(resp.len() >= 10, "short TPM response {resp:?}");
        assert_eq!(
            u32::from_be_bytes(resp[2..6].try_into().unwrap()) as usize,
            resp.len(),
            "TPM response size field"
        );
        resp
    }

    pub fn command(&mut self, command: &[u8]) -> Vec<u8> {
        self.command_at(0, command)
    }

    /// Ends both sessions the way tpm2-tss does.
    pub fn end(mut self) {
        let _ = self.plat.write_all(&SESSION_END.to_be_bytes());
        let _ = self.cmd.write_all(&SESSION_END.to_be_bytes());
        // The server closes: reads see EOF.
        let mut b = [0u8; 1];
        assert_eq!(self.cmd.read(&mut b).unwrap_or(0), 0);
        assert_eq!(self.plat.read(&mut b).unwrap_or(0), 0);
    }
}

/// Waits until the server has closed `s` (read returns EOF or an error).
pub fn assert_closed(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server did not close the connection")
            }
            Err(_) => return, // reset by the server
        }
    }
}

/// Debian's Python, which has python3-tpm2-pytss.
pub const PYTHON: &str = "/usr/bin/python3";

/// True when tpm2-pytss can be imported by [`PYTHON`].
pub fn have_pytss() -> bool {
    std::fs::metadata(PYTHON).is_ok()
        && Command::new(PYTHON)
            .args(["-c", "import tpm2_pytss"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Runs the tpm2-pytss script `tests/py/<name>` against `server` (its command port
/// is the first argument) and returns its stdout; fails the test on a non-zero exit.
pub fn run_py(server: &Server, name: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(name);
    let out = run_timeout(
        Command::new(PYTHON)
            .arg(&script)
            .arg(server.port.to_string())
            .args(args),
    );
    assert!(
        out.status.success(),
        "{name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server that has seen `tpm2_startup -c`.
pub fn started(td: &TestDir) -> Server {
    let server = Server::start(td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    server
}

/// Flushes every transient object and session (the mssim TCTI has no resource
/// manager: tools leave what they loaded behind).
pub fn flush(server: &Server) {
    flush_transient(server);
    ok(server.tpm2("tpm2_flushcontext").arg("-s"));
}

/// Flushes every transient object.
pub fn flush_transient(server: &Server) {
    ok(server.tpm2("tpm2_flushcontext").arg("-t"));
}

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// The stub image `vtpm --isolation vm` boots by default (in the `vtpm` binary's
/// target directory), or `$VTPM_STUB_IMAGE`.
pub fn stub_image() -> PathBuf {
    if let Some(p) = std::env::var_os("VTPM_STUB_IMAGE") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_BIN_EXE_vtpm"))
        .parent()
        .and_then(|d| d.parent())
        .map(|t| t.join("x86_64-unknown-none/release/vtpm-stub"))
        .unwrap_or_default()
}
