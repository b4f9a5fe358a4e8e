//! The vm backend: one stub VM per TPM, driven over its channel in
//! `vtpm_proto` frames.
//!
//! Start-up: boot QEMU, Hello -> Ready, Start (instance, state key, host
//! entropy, clock, lowest acceptable sequence) -> Ready, StateLoad (the sealed
//! file, or nothing to manufacture) -> StateSaveReply (the state the stub now
//! runs; saved when it is new). A command: TpmCommand -> [StateSaveReply, made
//! durable here] -> TpmResponse.
//!
//! A stub that exits, crashes, sends garbage or does not answer within the
//! timeout is stopped and logged with its exit reason and the tail of its
//! serial console; the command in flight is answered with TPM_RC_FAILURE and a
//! new stub is started from the last durable state. If a TPM2_Startup had
//! succeeded, the new stub gets TPM2_Startup(CLEAR) (NV and everything
//! permanent survive; PCRs, sessions and loaded objects do not, as after a
//! power loss).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use vtpm_proto::frame::{self, FrameType, Message, StartParams};
use vtpm_proto::{InstanceId, Kind};
use zeroize::Zeroizing;

use super::qemu::{describe_exit, Accel, Qemu, RuntimeDir};
use crate::store::StateDir;

/// TPM_RC_FAILURE: what a command gets when the stub failed under it.
pub const TPM_RC_FAILURE: u32 = 0x101;

/// TPM2_Startup's command code.
const CC_STARTUP: u32 = 0x144;

/// How the vm backend runs its stubs.
#[derive(Clone, Debug)]
pub struct VmOptions {
    /// The stub image.
    pub image: PathBuf,
    /// The accelerator.
    pub accel: Accel,
    /// How long the stub may take to boot or to answer one request.
    pub timeout: Duration,
}

/// Why an exchange with the stub failed.
#[derive(Debug)]
enum Failure {
    /// The channel closed (QEMU exited).
    Closed,
    /// No answer within the timeout.
    Timeout,
    /// The stub refused a request (Error frame).
    Refused(String),
    /// The stub broke the protocol.
    Protocol(String),
    /// Host-side I/O failed.
    Io(io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Closed => f.write_str("the channel closed"),
            Failure::Timeout => f.write_str("no answer within the timeout"),
            Failure::Refused(t) => write!(f, "the stub refused: {t}"),
            Failure::Protocol(t) => write!(f, "protocol error: {t}"),
            Failure::Io(e) => write!(f, "channel I/O error: {e}"),
        }
    }
}

/// Why a stub did not start.
#[derive(Debug)]
enum StartError {
    /// The stub refused the stored state (it works; the state does not).
    Refused(String),
    /// Anything else.
    Failed(String),
}

impl From<String> for StartError {
    fn from(s: String) -> Self {
        StartError::Failed(s)
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Refused(s) | StartError::Failed(s) => f.write_str(s),
        }
    }
}

/// A booted stub.
struct Stub {
    qemu: Qemu,
    stream: UnixStream,
    rx: Vec<u8>,
}

/// The TPM in a stub VM.
pub struct VmBackend {
    options: VmOptions,
    store: StateDir,
    instance: InstanceId,
    key: Zeroizing<[u8; 32]>,
    runtime: RuntimeDir,
    stub: Option<Stub>,
    next_seq: u32,
    /// A TPM2_Startup succeeded on the running stub.
    started_up: bool,
    /// Off after an mssim power-off, until power-on.
    powered: bool,
    boots: u64,
}

/// A header-only TPM response with `rc`.
pub fn error_response(rc: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(10);
    v.extend_from_slice(&0x8001u16.to_be_bytes());
    v.extend_from_slice(&10u32.to_be_bytes());
    v.extend_from_slice(&rc.to_be_bytes());
    v
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map(u32::from_be_bytes)
}

impl VmBackend {
    /// Opens the backend over `store` and boots the first stub. Errors (no
    /// QEMU, a stub that refuses the stored state...) are returned, not retried.
    pub fn start(
        options: VmOptions,
        mut store: StateDir,
        instance: Option<InstanceId>,
    ) -> Result<VmBackend, String> {
        let key = store.load_or_create_key().map_err(|e| e.to_string())?;
        let instance = match (store.read_sealed().map_err(|e| e.to_string())?, instance) {
            (Some((_, h)), Some(wanted)) if h.instance != wanted => {
                return Err(format!(
                    "{} belongs to instance {}, not {wanted}",
                    store.permanent_path().display(),
                    h.instance
                ))
            }
            (Some((_, h)), _) => h.instance,
            (None, Some(id)) => id,
            (None, None) => {
                crate::cmd::manufacture::new_instance_id().map_err(|e| e.to_string())?
            }
        };
        let runtime =
            RuntimeDir::create().map_err(|e| format!("cannot create a runtime directory: {e}"))?;
        let mut vm = VmBackend {
            options,
            store,
            instance,
            key,
            runtime,
            stub: None,
            next_seq: 1,
            started_up: false,
            powered: true,
            boots: 0,
        };
        vm.boot()?;
        Ok(vm)
    }

    /// The instance this TPM belongs to.
    pub fn instance(&self) -> InstanceId {
        self.instance
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        s
    }

    /// Boots a stub and loads the durable state into it.
    fn boot(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let socket = self.runtime.path().join("channel.sock");
        let _ = std::fs::remove_file(&socket);
        let mut qemu = Qemu::launch(
            &self.options.image,
            self.options.accel,
            self.runtime.path(),
            &socket,
        )
        .map_err(|e| e.to_string())?;
        let deadline = started + self.options.timeout;
        let stream = loop {
            match UnixStream::connect(&socket) {
                Ok(s) => break s,
                Err(e) => {
                    if let Some(status) = qemu.try_wait() {
                        let mut msg =
                            format!("the stub VM did not start: {}", describe_exit(Some(status)));
                        for l in qemu.qemu_tail(10) {
                            msg.push_str("\n  qemu: ");
                            msg.push_str(&l);
                        }
                        return Err(msg);
                    }
                    if Instant::now() > deadline {
                        qemu.stop();
                        return Err(format!(
                            "QEMU's channel socket {} did not appear within {} s: {e}",
                            socket.display(),
                            self.options.timeout.as_secs()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        };
        let pid = qemu.pid();
        self.stub = Some(Stub {
            qemu,
            stream,
            rx: Vec::new(),
        });
        self.boots = self.boots.saturating_add(1);
        match self.handshake() {
            Err(e @ StartError::Refused(_)) => {
                // The stub did its job; its log adds nothing.
                self.stop_stub();
                Err(e.to_string())
            }
            Ok(()) => {
                log::info!(
                    "stub VM running (boot {}, pid {pid}, {:?}, {} ms to ready, state sequence {})",
                    self.boots,
                    self.options.accel,
                    started.elapsed().as_millis(),
                    self.store.newest_sequence()
                );
                Ok(())
            }
            Err(e) => {
                let detail = self.stop_stub();
                Err(format!("the stub VM failed to start: {e}{detail}"))
            }
        }
    }

    /// Hello, Start, StateLoad.
    fn handshake(&mut self) -> Result<(), StartError> {
        let seq = self.seq();
        self.exchange(&Message::Hello, seq, FrameType::Ready)
            .map_err(|e| format!("Hello: {e}"))?;
        let mut entropy = Zeroizing::new([0u8; 32]);
        getrandom::fill(entropy.as_mut_slice())
            .map_err(|e| format!("the OS entropy source failed: {e}"))?;
        let wall_clock_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let key = Zeroizing::new(*self.key);
        let start = Message::Start(StartParams {
            instance: *self.instance.as_bytes(),
            state_key: &key,
            entropy: &entropy,
            wall_clock_ms,
            min_sequence: self.store.newest_sequence(),
        });
        let seq = self.seq();
        self.exchange(&start, seq, FrameType::Ready)
            .map_err(|e| format!("Start: {e}"))?;
        let stored = self.store.read_sealed().map_err(|e| e.to_string())?;
        let blob = stored.as_ref().map(|(b, _)| b.as_slice()).unwrap_or(&[]);
        let seq = self.seq();
        let path = self.store.permanent_path();
        let reply = match self.exchange(&Message::StateLoad(blob), seq, FrameType::StateSaveReply) {
            Ok(r) => r,
            Err(Failure::Refused(text)) => {
                return Err(StartError::Refused(format!(
                    "the stub refused the state in {}: {text}; the file was left untouched",
                    path.display()
                )))
            }
            Err(e) => return Err(format!("StateLoad: {e}").into()),
        };
        if stored.is_none() {
            self.save(&reply).map_err(|e| e.to_string())?;
            log::info!(
                "manufactured a new TPM in the stub VM (instance {}), sealed state saved to {}",
                self.instance,
                path.display()
            );
        } else {
            self.check_sealed(&reply).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Checks that a sealed blob from the stub is sealed permanent state of this
    /// instance; returns its sequence.
    fn check_sealed(&self, blob: &[u8]) -> Result<u64, Failure> {
        let env = vtpm_proto::decode_sealed(blob)
            .map_err(|e| Failure::Protocol(format!("state from the stub: {e}")))?;
        let h = env.header;
        if h.kind != Kind::Permanent || h.instance != self.instance {
            return Err(Failure::Protocol(format!(
                "state from the stub is {} state of instance {}",
                h.kind, h.instance
            )));
        }
        Ok(h.sequence)
    }

    /// Makes a sealed permanent state from the stub durable. A failed write
    /// stops the process without answering (the file still holds the last
    /// durable state).
    fn save(&mut self, blob: &[u8]) -> Result<(), Failure> {
        let sequence = self.check_sealed(blob)?;
        if sequence <= self.store.newest_sequence() {
            return Err(Failure::Protocol(format!(
                "state from the stub has sequence {sequence}, not above the last saved {}",
                self.store.newest_sequence()
            )));
        }
        if let Err(e) = self.store.write_sealed(blob, sequence) {
            log::error!("{e}; stopping without answering (the last durable state is intact)");
            log::logger().flush();
            super::qemu::stop_all();
            std::process::exit(1);
        }
        Ok(())
    }

    /// Sends `message` with `seq` and waits for the reply of type `want` with
    /// that sequence. A StateSaveReply before a TpmResponse is made durable on
    /// the way.
    fn exchange(
        &mut self,
        message: &Message<'_>,
        seq: u32,
        want: FrameType,
    ) -> Result<Vec<u8>, Failure> {
        let timeout = self.options.timeout;
        let stub = self.stub.as_mut().ok_or(Failure::Closed)?;
        // May hold the state key (Start): zeroized when dropped.
        let mut out = Zeroizing::new(Vec::new());
        message
            .encode(seq, &mut out)
            .map_err(|e| Failure::Protocol(e.to_string()))?;
        stub.stream.write_all(&out).map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Failure::Closed,
            _ => Failure::Io(e),
        })?;
        let deadline = Instant::now() + timeout;
        loop {
            let (t, s, payload) = self.next_frame(deadline)?;
            match (t, s) {
                (FrameType::Log, _) => log_line(&payload),
                (FrameType::Ready, 0) => {}
                (FrameType::Error, 0) => log::warn!(
                    "stub reported a channel error: {}",
                    String::from_utf8_lossy(payload.get(2..).unwrap_or_default())
                ),
                (FrameType::Error, s) if s == seq => {
                    let text = String::from_utf8_lossy(payload.get(2..).unwrap_or_default());
                    return Err(Failure::Refused(text.into_owned()));
                }
                (t, s) if s == seq && t == want => return Ok(payload),
                (FrameType::StateSaveReply, s) if s == seq && want == FrameType::TpmResponse => {
                    self.save(&payload)?;
                }
                (t, s) => {
                    return Err(Failure::Protocol(format!(
                        "unexpected {t:?} frame {s} while waiting for {want:?} {seq}"
                    )))
                }
            }
        }
    }

    /// The next frame from the stub, by `deadline`.
    fn next_frame(&mut self, deadline: Instant) -> Result<(FrameType, u32, Vec<u8>), Failure> {
        let stub = self.stub.as_mut().ok_or(Failure::Closed)?;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match frame::decode(&stub.rx) {
                Ok((f, used)) => {
                    let r = (f.frame_type, f.sequence, f.payload.to_vec());
                    stub.rx.drain(..used.min(stub.rx.len()));
                    return Ok(r);
                }
                Err(e) if e.is_incomplete() => {}
                Err(e) => return Err(Failure::Protocol(format!("bad frame from the stub: {e}"))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Timeout);
            }
            stub.stream
                .set_read_timeout(Some(left))
                .map_err(Failure::Io)?;
            match stub.stream.read(&mut chunk) {
                Ok(0) => return Err(Failure::Closed),
                Ok(n) => stub
                    .rx
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(Failure::Timeout)
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(Failure::Closed)
                }
                Err(e) => return Err(Failure::Io(e)),
            }
        }
    }

    /// Stops the running stub; returns its exit reason and log tails as text.
    fn stop_stub(&mut self) -> String {
        let Some(mut stub) = self.stub.take() else {
            return String::new();
        };
        // Give a stub that is on its way out a moment to finish exiting, so
        // that its own exit status (not our kill) is reported.
        let until = Instant::now() + Duration::from_millis(200);
        while stub.qemu.try_wait().is_none() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = stub.qemu.stop();
        let mut msg = format!(" ({}, pid {})", describe_exit(status), stub.qemu.pid());
        for l in stub.qemu.serial_tail(8) {
            msg.push_str("\n  stub: ");
            msg.push_str(&l);
        }
        for l in stub.qemu.qemu_tail(4) {
            msg.push_str("\n  qemu: ");
            msg.push_str(&l);
        }
        msg
    }

    /// After a failure: reports it, stops the stub and starts a new one from
    /// the last durable state.
    fn recover(&mut self, what: &str, failure: &Failure) {
        let detail = self.stop_stub();
        log::error!(
            "stub VM failed during {what}: {failure}{detail}; answering TPM_RC_FAILURE and restarting from the last durable state (sequence {})",
            self.store.newest_sequence()
        );
        self.restart();
    }

    /// Boots a new stub; replays TPM2_Startup(CLEAR) if the old one had started.
    fn restart(&mut self) {
        let was_started = self.started_up;
        self.started_up = false;
        if let Err(e) = self.boot() {
            log::error!("restarting the stub VM failed: {e}; trying again at the next command");
            self.started_up = was_started;
            return;
        }
        if was_started {
            let startup = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
            let seq = self.seq();
            let message = Message::TpmCommand {
                locality: 0,
                command: &startup,
            };
            match self.exchange(&message, seq, FrameType::TpmResponse) {
                Ok(r) => {
                    self.started_up = be_u32(&r, 6) == Some(0);
                    log::warn!(
                        "stub VM restarted; sent TPM2_Startup(CLEAR) (rc 0x{:x}): NV is intact, PCRs, sessions and loaded objects were lost",
                        be_u32(&r, 6).unwrap_or(u32::MAX)
                    );
                }
                Err(f) => {
                    let detail = self.stop_stub();
                    log::error!(
                        "the restarted stub VM failed on TPM2_Startup: {f}{detail}; trying again at the next command"
                    );
                    self.started_up = was_started;
                }
            }
        } else {
            log::info!("stub VM restarted");
        }
    }

    /// Runs one TPM command in the stub; its new state (if any) is durable
    /// before this returns the response.
    pub fn execute(&mut self, locality: u8, command: &[u8]) -> Vec<u8> {
        if self.stub.is_none() {
            if !self.powered {
                return error_response(TPM_RC_FAILURE);
            }
            self.restart();
            if self.stub.is_none() {
                return error_response(TPM_RC_FAILURE);
            }
        }
        let seq = self.seq();
        let message = Message::TpmCommand { locality, command };
        match self.exchange(&message, seq, FrameType::TpmResponse) {
            Ok(response) => {
                if be_u32(command, 6) == Some(CC_STARTUP) && be_u32(&response, 6) == Some(0) {
                    self.started_up = true;
                }
                response
            }
            Err(f) => {
                let cc = be_u32(command, 6).map_or_else(|| "?".to_owned(), |c| format!("0x{c:x}"));
                self.recover(&format!("command cc={cc}"), &f);
                error_response(TPM_RC_FAILURE)
            }
        }
    }

    /// A platform hash signal (_TPM_Hash_Start/Data/End), acknowledged by the
    /// stub before the next command can run. A stub that fails here is restarted
    /// like after a failed command (the signal is lost, as the TPM was reset).
    pub fn signal(&mut self, kind: frame::SignalKind, data: &[u8]) {
        if self.stub.is_none() {
            log::warn!("{kind:?} dropped: the stub VM is not running");
            return;
        }
        let seq = self.seq();
        let message = Message::Signal { kind, data };
        if let Err(f) = self.exchange(&message, seq, FrameType::Signal) {
            self.recover(&format!("{kind:?}"), &f);
        }
    }

    /// _TPM_Init: the stub is restarted from the durable state (mssim power-on
    /// after power-off, reset; swtpm CMD_INIT).
    pub fn power_cycle(&mut self) {
        self.stop_stub();
        self.started_up = false;
        self.powered = true;
        if let Err(e) = self.boot() {
            log::error!("power cycle: {e}");
        }
    }

    /// Power off: the stub is stopped (the state is durable).
    pub fn power_off(&mut self) {
        self.stop_stub();
        self.started_up = false;
        self.powered = false;
    }

    /// Whether the TPM is powered.
    pub fn powered(&self) -> bool {
        self.powered
    }

    /// The running TPM's volatile state, sealed by the stub (ciphertext);
    /// `None` when the stub cannot give it.
    pub fn volatile_state(&mut self) -> Option<Vec<u8>> {
        self.stub.as_ref()?;
        let seq = self.seq();
        let request = Message::StateSaveRequest(frame::StateKind::Volatile);
        match self.exchange(&request, seq, FrameType::StateSaveReply) {
            Ok(blob) => match vtpm_proto::decode_sealed(&blob) {
                Ok(env) if env.header.kind == Kind::Volatile => Some(blob),
                _ => {
                    log::warn!("the stub sent something else than sealed volatile state");
                    None
                }
            },
            Err(Failure::Refused(text)) => {
                log::warn!("the stub refused to save volatile state: {text}");
                None
            }
            Err(f) => {
                self.recover("a volatile state save", &f);
                None
            }
        }
    }

    /// Loads sealed volatile state into the running TPM (after _TPM_Init);
    /// the error says why the stub refused it.
    pub fn load_volatile(&mut self, blob: &[u8]) -> Result<(), String> {
        if self.stub.is_none() {
            return Err("the stub VM is not running".to_owned());
        }
        let seq = self.seq();
        match self.exchange(&Message::StateLoad(blob), seq, FrameType::Ready) {
            Ok(_) => Ok(()),
            Err(Failure::Refused(text)) => Err(text),
            Err(f) => {
                let text = f.to_string();
                self.recover("a volatile state load", &f);
                Err(text)
            }
        }
    }

    /// The sealed permanent state as stored (ciphertext).
    pub fn sealed_state(&mut self) -> Vec<u8> {
        match self.store.read_sealed() {
            Ok(Some((blob, _))) => blob,
            Ok(None) => Vec::new(),
            Err(e) => {
                log::warn!("{e}");
                Vec::new()
            }
        }
    }
}

impl Drop for VmBackend {
    fn drop(&mut self) {
        if let Some(stub) = self.stub.as_mut() {
            let mut out = Vec::new();
            if Message::Shutdown.encode(0, &mut out).is_ok() {
                let _ = stub.stream.write_all(&out);
            }
        }
        self.stop_stub();
    }
}

/// Forwards a Log frame from the stub to the log.
fn log_line(payload: &[u8]) {
    let (level, text) = match payload.split_first() {
        Some((l, t)) => (*l, String::from_utf8_lossy(t)),
        None => return,
    };
    let level = match level {
        1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        _ => log::Level::Trace,
    };
    log::log!(level, "stub: {text}");
}
