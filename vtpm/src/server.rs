//! The mssim server: accept loops, one thread per connection, one engine behind a
//! mutex. Framing is in [`crate::mssim`]; this module does the I/O.
//!
//! Durability rule: when a command changed permanent state, the new state is
//! written (atomically, fsynced) while the engine lock is held and before the
//! response is sent. If that write fails the process stops without answering:
//! the state on disk is then the last durable one, as after a power loss.
//!
//! Misbehaving clients (garbage codes, absurd lengths, closing mid-frame, stalling
//! mid-frame) lose their own connection with a logged warning; the server and the
//! other connections go on.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use vtpm_core::{Power, Tpm};
use vtpm_proto::frame::SignalKind;
use vtpm_proto::InstanceId;
use zeroize::Zeroizing;

use crate::mssim::{self, CodecError, CommandRequest, PlatformRequest};
use crate::platform::HostPlatform;
use crate::store::{StateDir, StoreError};
use crate::vm::VmBackend;

/// Connections served at once on each port; more are closed at once.
pub const MAX_CONNECTIONS_PER_PORT: usize = 16;
/// Time a client has to finish a frame it started.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a reply may take to be written before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for replies already computed to be written.
const SHUTDOWN_REPLY_GRACE: Duration = Duration::from_secs(2);

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Which port.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(io::Error),
    /// A listener thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(io::Error),
}

/// The TPM with what it needs around it: the engine in this process with its
/// platform and store (`--isolation process`), or a stub VM (`--isolation vm`).
pub struct Engine {
    inner: Inner,
}

enum Inner {
    Process {
        tpm: Box<Tpm>,
        platform: HostPlatform,
        store: StateDir,
        instance: InstanceId,
    },
    Vm(Box<VmBackend>),
}

impl Engine {
    /// _TPM_Hash_Start (the platform's locality-4 indication).
    pub fn hash_start(&mut self) {
        match &mut self.inner {
            Inner::Process { tpm, .. } => tpm.hash_start(),
            Inner::Vm(vm) => vm.signal(SignalKind::HashStart, &[]),
        }
    }

    /// _TPM_Hash_Data.
    pub fn hash_data(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Process { tpm, .. } => tpm.hash_data(data),
            // The frame carries at most 8 KiB; the hash does not care how the
            // data is split.
            Inner::Vm(vm) => {
                for chunk in data.chunks(4096) {
                    vm.signal(SignalKind::HashData, chunk);
                }
            }
        }
    }

    /// _TPM_Hash_End: extends PCR 0 (before Startup) or PCR 17 (after).
    pub fn hash_end(&mut self) {
        match &mut self.inner {
            Inner::Process { tpm, .. } => tpm.hash_end(),
            Inner::Vm(vm) => vm.signal(SignalKind::HashEnd, &[]),
        }
    }

    /// Wraps a loaded or freshly manufactured TPM.
    pub fn new(tpm: Tpm, platform: HostPlatform, store: StateDir, instance: InstanceId) -> Self {
        Engine {
            inner: Inner::Process {
                tpm: Box::new(tpm),
                platform,
                store,
                instance,
            },
        }
    }

    /// A TPM in a stub VM.
    pub fn new_vm(vm: VmBackend) -> Self {
        Engine {
            inner: Inner::Vm(Box::new(vm)),
        }
    }

    /// The stub VM backend, if this engine runs in one.
    pub(crate) fn vm(&mut self) -> Option<&mut VmBackend> {
        match &mut self.inner {
            Inner::Vm(vm) => Some(vm),
            Inner::Process { .. } => None,
        }
    }

    /// The engine (`None` with the vm backend: it is in the stub).
    pub(crate) fn tpm(&mut self) -> Option<&mut Tpm> {
        match &mut self.inner {
            Inner::Process { tpm, .. } => Some(tpm),
            Inner::Vm(_) => None,
        }
    }

    /// The engine and the platform it runs on (`None` with the vm backend).
    pub(crate) fn tpm_and_platform(&mut self) -> Option<(&mut Tpm, &mut HostPlatform)> {
        match &mut self.inner {
            Inner::Process { tpm, platform, .. } => Some((tpm, platform)),
            Inner::Vm(_) => None,
        }
    }

    /// Whether the TPM is powered and initialized (_TPM_Init done).
    pub(crate) fn running(&mut self) -> bool {
        match &mut self.inner {
            Inner::Process { tpm, .. } => tpm.power() == Power::Running,
            Inner::Vm(vm) => vm.powered(),
        }
    }

    /// Writes the permanent state (atomically). Returns the sequence number.
    /// (The vm backend saves what its stub seals, as it arrives.)
    pub fn persist(&mut self) -> Result<u64, StoreError> {
        match &mut self.inner {
            Inner::Process {
                tpm,
                store,
                instance,
                ..
            } => {
                let body = Zeroizing::new(tpm.permanent_state());
                store.write_permanent(*instance, &body)
            }
            Inner::Vm(_) => Ok(0),
        }
    }

    /// Runs one TPM command; the new permanent state is durable before this
    /// returns the response.
    pub(crate) fn execute(&mut self, locality: u8, command: &[u8]) -> Vec<u8> {
        let started = Instant::now();
        let (bytes, nv_changed) = match &mut self.inner {
            Inner::Process { tpm, platform, .. } => {
                let response = tpm.execute(platform, locality, command);
                (response.bytes, response.nv_changed)
            }
            Inner::Vm(vm) => (vm.execute(locality, command), false),
        };
        if nv_changed {
            if let Err(e) = self.persist() {
                log::error!("{e}; stopping without answering (the last durable state is intact)");
                log::logger().flush();
                std::process::exit(1);
            }
        }
        if log::log_enabled!(log::Level::Trace) {
            let cc = command
                .get(6..10)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes);
            let rc = bytes
                .get(6..10)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(u32::MAX, u32::from_be_bytes);
            log::trace!(
                "command cc={} locality={locality} len={} -> rc=0x{rc:03x}{} in {} us",
                cc.map_or_else(|| "?".to_owned(), |c| format!("0x{c:03x}")),
                command.len(),
                if nv_changed { " (state saved)" } else { "" },
                started.elapsed().as_micros()
            );
        }
        bytes
    }

    /// Applies a platform signal; returns the status to reply.
    fn signal(&mut self, req: PlatformRequest) -> u32 {
        let (tpm, platform) = match &mut self.inner {
            Inner::Process { tpm, platform, .. } => (tpm, platform),
            Inner::Vm(vm) => {
                match req {
                    // tpm2-tss sends POWER_ON at every connection: a powered TPM
                    // ignores it.
                    PlatformRequest::PowerOn if !vm.powered() => {
                        log::debug!("power on (_TPM_Init): starting the stub VM");
                        vm.power_cycle();
                    }
                    PlatformRequest::PowerOff if vm.powered() => {
                        log::debug!("power off: stopping the stub VM");
                        vm.power_off();
                    }
                    PlatformRequest::Reset if vm.powered() => {
                        log::debug!("reset (_TPM_Init): restarting the stub VM");
                        vm.power_cycle();
                    }
                    // SPEC-DEVIATION: physical presence is not forwarded to the
                    // stub yet; PP-gated commands see it as not asserted.
                    PlatformRequest::PhysPresOn | PlatformRequest::PhysPresOff => {
                        log::debug!("physical presence is not forwarded to the stub VM");
                    }
                    _ => {}
                }
                return 0;
            }
        };
        match req {
            PlatformRequest::PowerOn => {
                // tpm2-tss sends POWER_ON at every connection: a powered TPM ignores it.
                if tpm.power() == Power::Off {
                    tpm.power_on(platform);
                    log::debug!("power on (_TPM_Init)");
                }
            }
            PlatformRequest::PowerOff => {
                if tpm.power() != Power::Off {
                    tpm.power_off();
                    log::debug!("power off");
                }
            }
            PlatformRequest::Reset => {
                // _TPM_Init without a power cycle; ignored while powered off.
                if tpm.power() != Power::Off {
                    tpm.power_on(platform);
                    log::debug!("reset (_TPM_Init)");
                }
            }
            PlatformRequest::PhysPresOn => tpm.set_physical_presence(true),
            PlatformRequest::PhysPresOff => tpm.set_physical_presence(false),
            PlatformRequest::NvOff => {
                // Accepted for protocol compatibility; saves still happen, since a
                // response is never sent before its state is durable.
                log::debug!("NV_OFF signal (state is still saved)");
            }
            PlatformRequest::NvOn
            | PlatformRequest::CancelOn
            | PlatformRequest::CancelOff
            | PlatformRequest::KeyCacheOn
            | PlatformRequest::KeyCacheOff
            | PlatformRequest::Restart => {}
            PlatformRequest::SessionEnd
            | PlatformRequest::Stop
            | PlatformRequest::GetCommandResponseSizes
            | PlatformRequest::TestFailureMode => {}
        }
        0
    }
}

/// State shared by all threads.
struct Shared {
    engine: Mutex<Engine>,
    /// Replies computed but not yet written (see [`serve`]'s shutdown).
    pending_replies: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic aborts the process (panic = "abort"), so poisoning cannot leave a
        // half-updated engine behind; take the guard either way.
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The two listening sockets.
pub struct Listeners {
    /// The command port.
    pub command: TcpListener,
    /// The platform port.
    pub platform: TcpListener,
}

impl Listeners {
    /// Binds both ports.
    pub fn bind(command: SocketAddr, platform: SocketAddr) -> Result<Listeners, ServeError> {
        let bind = |addr: SocketAddr, what: &'static str| {
            TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, what, source })
        };
        Ok(Listeners {
            command: bind(command, "mssim command port")?,
            platform: bind(platform, "mssim platform port")?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortKind {
    Command,
    Platform,
}

impl PortKind {
    fn name(self) -> &'static str {
        match self {
            PortKind::Command => "command port",
            PortKind::Platform => "platform port",
        }
    }
}

/// Serves until SIGTERM or SIGINT, then returns once the command in progress (if
/// any) has completed and its state is durable.
pub fn serve(engine: Engine, listeners: Listeners) -> Result<(), ServeError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).map_err(ServeError::Signals)?;

    let shared = Arc::new(Shared {
        engine: Mutex::new(engine),
        pending_replies: AtomicUsize::new(0),
    });
    for (listener, kind) in [
        (listeners.command, PortKind::Command),
        (listeners.platform, PortKind::Platform),
    ] {
        let shared = Arc::clone(&shared);
        thread::Builder::new()
            .name(format!("mssim-{}", kind.name()))
            .spawn(move || accept_loop(&listener, kind, &shared))
            .map_err(ServeError::Thread)?;
    }

    let signal = signals.forever().next();
    let name = match signal {
        Some(SIGTERM) => "SIGTERM",
        Some(SIGINT) => "SIGINT",
        _ => "a signal",
    };
    log::info!("received {name}; exiting after the command in progress");
    // Holding the engine lock: no command runs or starts, every state change made
    // so far is durable. The guard is never released; the process ends.
    let guard = shared.lock();
    let deadline = Instant::now() + SHUTDOWN_REPLY_GRACE;
    while shared.pending_replies.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    std::mem::forget(guard);
    Ok(())
}

fn accept_loop(listener: &TcpListener, kind: PortKind, shared: &Arc<Shared>) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                log::warn!("{}: accept failed: {e}", kind.name());
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if active.load(Ordering::Acquire) >= MAX_CONNECTIONS_PER_PORT {
            log::warn!(
                "{}: refusing connection from {peer}: {MAX_CONNECTIONS_PER_PORT} connections already open",
                kind.name()
            );
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let slot = ConnectionSlot(Arc::clone(&active));
        let shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("mssim-conn-{peer}"))
            .spawn(move || {
                let _slot = slot;
                log::debug!("{}: connection from {peer}", kind.name());
                serve_connection(stream, peer, kind, &shared);
                log::debug!("{}: connection from {peer} closed", kind.name());
            });
        if let Err(e) = spawned {
            log::warn!("{}: cannot start a thread for {peer}: {e}", kind.name());
        }
    }
}

/// Frees a connection slot when the connection thread ends.
struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What to do after one frame.
enum Step {
    /// Not a whole frame yet.
    Incomplete,
    /// A frame was handled.
    Done {
        used: usize,
        reply: Option<Vec<u8>>,
        close: bool,
        /// The reply answers a TPM command and was counted in `pending_replies`.
        pending: bool,
    },
    /// The frame was refused; `reply` is sent, then the connection closes.
    Refused {
        error: CodecError,
        reply: Option<[u8; 4]>,
    },
}

fn serve_connection(mut stream: TcpStream, peer: SocketAddr, kind: PortKind, shared: &Shared) {
    // tpm2-tss writes the 9-byte header and the command separately; without
    // TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every reply.
    if let Err(e) = stream.set_nodelay(true) {
        log::warn!("{}: {peer}: cannot set TCP_NODELAY: {e}", kind.name());
    }
    quick_ack(&stream);
    if let Err(e) = stream.set_write_timeout(Some(WRITE_TIMEOUT)) {
        log::warn!("{}: {peer}: cannot set a write timeout: {e}", kind.name());
    }
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let mut timed = false;
    loop {
        // Handle every whole frame received so far.
        loop {
            let step = match kind {
                PortKind::Command => command_step(&buf, peer, shared),
                PortKind::Platform => platform_step(&buf, peer, shared),
            };
            match step {
                Step::Incomplete => break,
                Step::Done {
                    used,
                    reply,
                    close,
                    pending,
                } => {
                    if let Some(reply) = reply {
                        let written = stream.write_all(&reply);
                        if pending {
                            shared.pending_replies.fetch_sub(1, Ordering::AcqRel);
                        }
                        if let Err(e) = written {
                            log::warn!("{}: {peer}: cannot send reply: {e}", kind.name());
                            return;
                        }
                    }
                    if close {
                        return;
                    }
                    buf.drain(..used.min(buf.len()));
                }
                Step::Refused { error, reply } => {
                    log::warn!("{}: {peer}: {error}; closing the connection", kind.name());
                    if let Some(reply) = reply {
                        let _ = stream.write_all(&reply);
                    }
                    return;
                }
            }
        }
        // A started frame must be finished promptly; an idle connection may wait.
        let want_timeout = !buf.is_empty();
        if want_timeout != timed {
            let t = want_timeout.then_some(FRAME_TIMEOUT);
            if let Err(e) = stream.set_read_timeout(t) {
                log::warn!("{}: {peer}: cannot set a read timeout: {e}", kind.name());
                return;
            }
            timed = want_timeout;
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                if !buf.is_empty() {
                    log::warn!(
                        "{}: {peer}: client closed the connection in the middle of a frame ({} bytes received)",
                        kind.name(),
                        buf.len()
                    );
                }
                return;
            }
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                quick_ack(&stream);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                log::warn!(
                    "{}: {peer}: frame not completed within {} s; closing the connection",
                    kind.name(),
                    FRAME_TIMEOUT.as_secs()
                );
                return;
            }
            Err(e) => {
                log::warn!("{}: {peer}: read failed: {e}", kind.name());
                return;
            }
        }
    }
}

/// Asks the kernel to acknowledge received data at once. tpm2-tss sends a command
/// as two writes (header, then body) without TCP_NODELAY on its side, so its second
/// write waits for the ACK of the first; a delayed ACK would cost ~40 ms per command.
/// Linux clears the flag by itself after a while, so it is set again after each read.
fn quick_ack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::TcpStreamExt;
        if let Err(e) = stream.set_quickack(true) {
            log::debug!("cannot set TCP_QUICKACK: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

fn done(reply: Option<Vec<u8>>, used: usize, close: bool) -> Step {
    Step::Done {
        used,
        reply,
        close,
        pending: false,
    }
}

fn command_step(buf: &[u8], peer: SocketAddr, shared: &Shared) -> Step {
    let (req, used) = match mssim::decode_command(buf) {
        Ok(Some(frame)) => frame,
        Ok(None) => return Step::Incomplete,
        Err(error) => return Step::Refused { error, reply: None },
    };
    let status_ok = || Some(mssim::encode_status(0).to_vec());
    match req {
        CommandRequest::SendCommand { locality, command } => {
            let mut engine = shared.lock();
            let response = engine.execute(locality, command);
            match mssim::encode_send_command_reply(&response) {
                Ok(framed) => {
                    // Counted while the engine lock is held, so that shutdown (which
                    // takes the lock) sees it and waits for the reply to be written.
                    shared.pending_replies.fetch_add(1, Ordering::AcqRel);
                    Step::Done {
                        used,
                        reply: Some(framed),
                        close: false,
                        pending: true,
                    }
                }
                Err(error) => Step::Refused { error, reply: None },
            }
        }
        CommandRequest::HashStart => {
            log::debug!("command port: {peer}: _TPM_Hash_Start");
            shared.lock().hash_start();
            done(status_ok(), used, false)
        }
        CommandRequest::HashData(data) => {
            shared.lock().hash_data(data);
            done(status_ok(), used, false)
        }
        CommandRequest::HashEnd => {
            log::debug!("command port: {peer}: _TPM_Hash_End");
            shared.lock().hash_end();
            done(status_ok(), used, false)
        }
        CommandRequest::RemoteHandshake { client_version } => {
            log::debug!("command port: {peer}: handshake, client version {client_version}");
            let flags = mssim::endpoint::PLATFORM_AVAILABLE
                | mssim::endpoint::IN_RAW_MODE
                | mssim::endpoint::SUPPORTS_PP;
            let r = mssim::encode_handshake_reply(mssim::SERVER_VERSION, flags);
            done(Some(r.to_vec()), used, false)
        }
        CommandRequest::SetAlternativeResult(_) => done(status_ok(), used, false),
        CommandRequest::SessionEnd => done(None, used, true),
        CommandRequest::Stop => {
            log::info!(
                "command port: {peer}: TPM_STOP ignored (stop the server with SIGTERM); closing the connection"
            );
            done(None, used, true)
        }
    }
}

fn platform_step(buf: &[u8], peer: SocketAddr, shared: &Shared) -> Step {
    let (req, used) = match mssim::decode_platform(buf) {
        Ok(Some(frame)) => frame,
        Ok(None) => return Step::Incomplete,
        Err(error) => {
            return Step::Refused {
                error,
                reply: Some(mssim::encode_status(1)),
            }
        }
    };
    match req {
        PlatformRequest::SessionEnd => done(None, used, true),
        PlatformRequest::Stop => {
            log::info!(
                "platform port: {peer}: TPM_STOP ignored (stop the server with SIGTERM); closing the connection"
            );
            done(None, used, true)
        }
        PlatformRequest::GetCommandResponseSizes | PlatformRequest::TestFailureMode => {
            log::warn!("platform port: {peer}: {req:?} is not supported; closing the connection");
            done(Some(mssim::encode_status(1).to_vec()), used, true)
        }
        _ => {
            let status = shared.lock().signal(req);
            log::debug!("platform port: {peer}: {req:?}");
            done(Some(mssim::encode_status(status).to_vec()), used, false)
        }
    }
}
