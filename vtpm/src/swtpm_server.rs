//! The swtpm-compatible front: the control channel ([`crate::swtpm_ctrl`]) on a
//! unix socket or loopback TCP, and the data channel (raw TPM commands) on a
//! loopback TCP port, a unix socket, or a descriptor passed with CMD_SET_DATAFD,
//! as QEMU's `-tpmdev emulator` does.
//!
//! The TPM itself is the same [`Engine`] `vtpm run` serves: every command that
//! changes permanent state is durable before its response leaves.

use std::io::{self, IoSliceMut, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::server::Engine;
use crate::swtpm_ctrl::{self as ctrl, cap, res, BlobType, CtrlRequest};

/// Largest TPM command or response on the data channel.
pub const MAX_BUFFER: u32 = 4096;
/// Smallest buffer size SET_BUFFERSIZE accepts.
pub const MIN_BUFFER: u32 = 1024;
/// Time a peer has to finish a control message it started.
const CTRL_MESSAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// The capabilities this front implements (CMD_GET_CAPABILITY).
pub const CAPABILITIES: u32 = cap::INIT
    | cap::HASHING
    | cap::SHUTDOWN
    | cap::GET_TPMESTABLISHED
    | cap::SET_LOCALITY
    | cap::CANCEL_TPM_CMD
    | cap::STORE_VOLATILE
    | cap::RESET_TPMESTABLISHED
    | cap::GET_STATEBLOB
    | cap::SET_STATEBLOB
    | cap::STOP
    | cap::GET_CONFIG
    | cap::SET_DATAFD
    | cap::SET_BUFFERSIZE
    | cap::GET_INFO
    | cap::SEND_COMMAND_HEADER
    | cap::LOCK_STORAGE;

/// How the front starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartupMode {
    /// Wait for CMD_INIT before answering TPM commands (swtpm's default).
    #[default]
    NeedInit,
    /// Serve at once, without sending TPM2_Startup (`not-need-init`).
    NotNeedInit,
    /// Serve at once after sending TPM2_Startup(CLEAR) (`startup-clear`).
    StartupClear,
    /// Serve at once after sending TPM2_Startup(STATE) (`startup-state`).
    StartupState,
}

/// Front options.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrontOptions {
    /// Start-up behaviour.
    pub startup: StartupMode,
    /// Refuse locality 4 on SET_LOCALITY (`--locality reject-locality-4`).
    pub reject_locality_4: bool,
    /// Exit when a control connection ends (`--ctrl ...,terminate` / `-t`).
    pub terminate_on_ctrl_close: bool,
    /// Send TPM2_Shutdown(CLEAR) before a reset or exit unless disabled.
    pub auto_shutdown: bool,
    /// Close a data connection after each response (`--server ...,disconnect`).
    pub disconnect: bool,
}

/// Running state of the front (what swtpm keeps beside libtpms).
struct FrontState {
    /// The TPM has been INITed (or never needed it) and not STOPped.
    running: bool,
    /// Locality of the next data-channel command.
    locality: u8,
    /// The tpmEstablished flag as TIS/CRB report it (set by an H-CRTM or
    /// D-RTM sequence, which this front does not offer: it starts clear).
    established: bool,
    /// Current data buffer size.
    buffer_size: u32,
    /// Volatile state handed over with SET_STATEBLOB, applied at the next INIT.
    pending_volatile: Option<Vec<u8>>,
    /// A data channel descriptor was received with SET_DATAFD.
    data_fd_set: bool,
}

/// The front: the engine plus the swtpm running state.
pub struct Front {
    engine: Mutex<Engine>,
    state: Mutex<FrontState>,
    options: FrontOptions,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic aborts the process, so a poisoned lock never hides a torn update.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// TPM2_Startup(su) as a command.
fn startup_command(su: u16) -> [u8; 12] {
    let mut c = [0u8; 12];
    c[0..2].copy_from_slice(&0x8001u16.to_be_bytes());
    c[2..6].copy_from_slice(&12u32.to_be_bytes());
    c[6..10].copy_from_slice(&0x144u32.to_be_bytes());
    c[10..12].copy_from_slice(&su.to_be_bytes());
    c
}

/// TPM2_Shutdown(CLEAR) as a command.
const SHUTDOWN_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0];

/// A header-only TPM response with `rc` (what the data channel answers while the
/// TPM is not running: TPM_RC_FAILURE).
fn error_response(rc: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(10);
    v.extend_from_slice(&0x8001u16.to_be_bytes());
    v.extend_from_slice(&10u32.to_be_bytes());
    v.extend_from_slice(&rc.to_be_bytes());
    v
}

/// The big-endian `u32` a control message or reply starts with.
fn first_u32(b: &[u8]) -> u32 {
    b.get(0..4)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map_or(0, u32::from_be_bytes)
}

fn rc_of(response: &[u8]) -> u32 {
    response
        .get(6..10)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(u32::MAX, u32::from_be_bytes)
}

impl Front {
    /// A front over `engine`, started as `options` say.
    pub fn new(engine: Engine, options: FrontOptions) -> Arc<Front> {
        let running = options.startup != StartupMode::NeedInit;
        let front = Arc::new(Front {
            engine: Mutex::new(engine),
            state: Mutex::new(FrontState {
                running,
                locality: 0,
                established: false,
                buffer_size: MAX_BUFFER,
                pending_volatile: None,
                data_fd_set: false,
            }),
            options,
        });
        let su = match options.startup {
            StartupMode::StartupClear => Some(0u16),
            StartupMode::StartupState => Some(1u16),
            _ => None,
        };
        if let Some(su) = su {
            let r = lock(&front.engine).execute(0, &startup_command(su));
            if rc_of(&r) != 0 {
                log::warn!("TPM2_Startup({su}) at start answered 0x{:x}", rc_of(&r));
            }
        }
        front
    }

    /// Runs one data-channel command at the current locality.
    pub fn execute(&self, command: &[u8], locality: Option<u8>) -> Vec<u8> {
        let state = lock(&self.state);
        if !state.running {
            return error_response(0x101);
        }
        let loc = locality.unwrap_or(state.locality);
        let size_ok = u32::try_from(command.len()).is_ok_and(|n| n <= state.buffer_size);
        drop(state);
        if !size_ok {
            // TPM_RC_COMMAND_SIZE
            return error_response(0x142);
        }
        lock(&self.engine).execute(loc, command)
    }

    /// Sends TPM2_Shutdown(CLEAR) unless disabled (swtpm's auto-shutdown before a
    /// reset or exit, so the next start is orderly).
    fn auto_shutdown(&self, engine: &mut Engine) {
        if self.options.auto_shutdown && engine.running() {
            let r = engine.execute(0, &SHUTDOWN_CLEAR);
            log::debug!("automatic TPM2_Shutdown(CLEAR): rc 0x{:x}", rc_of(&r));
        }
    }

    /// Handles one control request; the response and whether to end the process.
    pub fn control(&self, req: &CtrlRequest<'_>) -> (Vec<u8>, bool) {
        let mut state = lock(&self.state);
        match req {
            CtrlRequest::GetCapability => {
                (ctrl::response(res::SUCCESS, &[CAPABILITIES], &[]), false)
            }
            CtrlRequest::Init(flags) => {
                let mut engine = lock(&self.engine);
                if state.running {
                    self.auto_shutdown(&mut engine);
                }
                let Some((tpm, platform)) = engine.tpm_and_platform() else {
                    // The vm backend: _TPM_Init is a fresh stub from the durable state.
                    if let Some(vm) = engine.vm() {
                        vm.power_cycle();
                        if let Some(volatile) = state.pending_volatile.take() {
                            if let Err(e) = vm.load_volatile(&volatile) {
                                log::warn!(
                                    "CMD_INIT: the volatile state handed over is unusable: {e}"
                                );
                                return (ctrl::result(res::FAIL), false);
                            }
                            log::info!("CMD_INIT: resumed the (sealed) volatile state handed over");
                        }
                    }
                    state.running = true;
                    state.locality = 0;
                    log::debug!("CMD_INIT (_TPM_Init: stub VM restarted)");
                    return (ctrl::result(res::SUCCESS), false);
                };
                tpm.power_off();
                tpm.power_on(platform);
                if let Some(volatile) = state.pending_volatile.take() {
                    if let Err(e) = tpm.load_volatile_state(platform, &volatile) {
                        log::warn!("CMD_INIT: the volatile state handed over is unusable: {e}");
                        return (ctrl::result(res::FAIL), false);
                    }
                    log::info!("CMD_INIT: resumed the volatile state handed over");
                }
                if flags & ctrl::INIT_FLAG_DELETE_VOLATILE != 0 {
                    log::debug!("CMD_INIT: delete-volatile (nothing is kept on disk)");
                }
                state.running = true;
                state.locality = 0;
                log::debug!("CMD_INIT (_TPM_Init)");
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::Shutdown => {
                let mut engine = lock(&self.engine);
                if state.running {
                    self.auto_shutdown(&mut engine);
                }
                state.running = false;
                log::info!("CMD_SHUTDOWN: exiting");
                (ctrl::result(res::SUCCESS), true)
            }
            CtrlRequest::Stop => {
                if state.running {
                    let mut engine = lock(&self.engine);
                    self.auto_shutdown(&mut engine);
                }
                state.running = false;
                log::debug!("CMD_STOP");
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::GetTpmEstablished => {
                if !state.running {
                    return (ctrl::result(res::BAD_ORDINAL), false);
                }
                let bit = u8::from(state.established);
                (ctrl::response(res::SUCCESS, &[], &[bit, 0, 0, 0]), false)
            }
            CtrlRequest::SetLocality(loc) => {
                if *loc > 4 || (*loc == 4 && self.options.reject_locality_4) {
                    return (ctrl::result(res::BAD_LOCALITY), false);
                }
                state.locality = *loc;
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::ResetTpmEstablished(loc) => {
                if *loc > 4 {
                    return (ctrl::result(res::BAD_LOCALITY), false);
                }
                if !state.running {
                    return (ctrl::result(res::BAD_ORDINAL), false);
                }
                if *loc < 3 {
                    // Only localities 3 and 4 may reset the flag (PC Client TIS).
                    return (ctrl::result(res::BAD_LOCALITY), false);
                }
                state.established = false;
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::HashStart => {
                log::debug!("CMD_HASH_START");
                lock(&self.engine).hash_start();
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::HashData(data) => {
                lock(&self.engine).hash_data(data);
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::HashEnd => {
                log::debug!("CMD_HASH_END");
                lock(&self.engine).hash_end();
                // A D-RTM (or H-CRTM) took place: TIS/CRB report tpmEstablished.
                state.established = true;
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::CancelTpmCmd => {
                // Commands run to completion before the next request is read:
                // there is never one in progress to cancel.
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::StoreVolatile => {
                if !state.running {
                    return (ctrl::result(res::BAD_ORDINAL), false);
                }
                // Permanent state is always durable; the running state is handed
                // over with GET_STATEBLOB(VOLATILE) instead of a file.
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::GetStateBlob {
                flags: _,
                blob_type,
                offset,
            } => {
                let Some(kind) = BlobType::from_code(*blob_type) else {
                    return (ctrl::result(res::BAD_PARAMETER), false);
                };
                let mut engine = lock(&self.engine);
                let blob = match kind {
                    // The vm backend hands out its state only sealed.
                    BlobType::Permanent => match engine.vm() {
                        Some(vm) => vm.sealed_state(),
                        None => engine
                            .tpm()
                            .map(|t| t.permanent_state())
                            .unwrap_or_default(),
                    },
                    BlobType::Volatile => {
                        if state.running {
                            match engine.tpm_and_platform() {
                                Some((tpm, platform)) => tpm.volatile_state(platform),
                                None => match engine.vm().and_then(|vm| vm.volatile_state()) {
                                    Some(blob) => blob,
                                    None => return (ctrl::result(res::FAIL), false),
                                },
                            }
                        } else {
                            state.pending_volatile.clone().unwrap_or_default()
                        }
                    }
                    BlobType::SaveState => Vec::new(),
                };
                let off = usize::try_from(*offset).unwrap_or(usize::MAX);
                let tail = blob.get(off..).unwrap_or(&[]);
                let n = u32::try_from(tail.len()).unwrap_or(0);
                let out = ctrl::response(res::SUCCESS, &[0, n, n], tail);
                (out, false)
            }
            CtrlRequest::SetStateBlob {
                flags,
                blob_type,
                data,
            } => {
                if state.running {
                    return (ctrl::result(res::BAD_ORDINAL), false);
                }
                if flags & ctrl::STATE_FLAG_ENCRYPTED != 0 {
                    log::warn!("SET_STATEBLOB: encrypted blobs are not supported");
                    return (ctrl::result(res::BAD_PARAMETER), false);
                }
                let Some(kind) = BlobType::from_code(*blob_type) else {
                    return (ctrl::result(res::BAD_PARAMETER), false);
                };
                match kind {
                    BlobType::Permanent => {
                        if lock(&self.engine).vm().is_some() {
                            log::warn!(
                                "SET_STATEBLOB: the vm backend does not accept a permanent state blob"
                            );
                            return (ctrl::result(res::FAIL), false);
                        }
                        let tpm = match vtpm_core::Tpm::from_permanent_state(data) {
                            Ok(t) => t,
                            Err(e) => {
                                log::warn!("SET_STATEBLOB: refused permanent state: {e}");
                                return (ctrl::result(res::FAIL), false);
                            }
                        };
                        let mut engine = lock(&self.engine);
                        if let Some(current) = engine.tpm() {
                            let isolation = current.isolation();
                            *current = tpm;
                            current.set_isolation(isolation);
                        }
                        if let Err(e) = engine.persist() {
                            log::error!("SET_STATEBLOB: cannot save the state: {e}");
                            return (ctrl::result(res::IOERROR), false);
                        }
                        log::info!("SET_STATEBLOB: permanent state replaced and saved");
                    }
                    BlobType::Volatile => {
                        state.pending_volatile = (!data.is_empty()).then(|| data.to_vec());
                    }
                    BlobType::SaveState => {
                        if !data.is_empty() {
                            log::warn!("SET_STATEBLOB: a non-empty savestate blob is not ours");
                            return (ctrl::result(res::BAD_PARAMETER), false);
                        }
                    }
                }
                (ctrl::result(res::SUCCESS), false)
            }
            CtrlRequest::GetConfig => (ctrl::response(res::SUCCESS, &[0], &[]), false),
            CtrlRequest::SetDataFd => {
                // Handled by the unix control connection, which has the descriptor.
                (ctrl::result(res::BAD_PARAMETER), false)
            }
            CtrlRequest::SetBufferSize(size) => {
                if *size != 0 {
                    if state.running {
                        return (ctrl::result(res::BAD_ORDINAL), false);
                    }
                    state.buffer_size = (*size).clamp(MIN_BUFFER, MAX_BUFFER);
                }
                let out = ctrl::response(
                    res::SUCCESS,
                    &[state.buffer_size, MIN_BUFFER, MAX_BUFFER],
                    &[],
                );
                (out, false)
            }
            CtrlRequest::GetInfo { flags, offset } => {
                let json = info_json(*flags);
                let mut bytes = json.into_bytes();
                bytes.push(0);
                let off = usize::try_from(*offset).unwrap_or(usize::MAX);
                let tail = bytes.get(off..).unwrap_or(&[]);
                let chunk = tail.get(..ctrl::GET_INFO_CHUNK).unwrap_or(tail);
                let total = u32::try_from(bytes.len()).unwrap_or(0);
                let n = u32::try_from(chunk.len()).unwrap_or(0);
                (ctrl::response(res::SUCCESS, &[total, n], chunk), false)
            }
            CtrlRequest::LockStorage(_) => {
                // The state directory lock is held for the process's lifetime.
                (ctrl::result(res::SUCCESS), false)
            }
        }
    }

    /// Records that a data channel descriptor arrived; false if one already had.
    fn take_data_fd_slot(&self) -> bool {
        let mut state = lock(&self.state);
        if state.data_fd_set {
            return false;
        }
        state.data_fd_set = true;
        true
    }
}

/// The GET_INFO JSON for the requested bits (TPM specification and attributes).
fn info_json(flags: u64) -> String {
    let mut parts = Vec::new();
    if flags & 1 != 0 {
        parts.push(
            "\"TPMSpecification\":{\"family\":\"2.0\",\"level\":0,\"revision\":159}".to_owned(),
        );
    }
    if flags & 2 != 0 {
        parts.push(format!(
            "\"TPMAttributes\":{{\"manufacturer\":\"id:{:08X}\",\"version\":\"id:{:08X}\",\"model\":\"vtpm\"}}",
            u32::from_be_bytes(*b"VTPM"),
            crate_version_id()
        ));
    }
    format!("{{{}}}", parts.join(","))
}

fn crate_version_id() -> u32 {
    let mut it = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = it.next().unwrap_or(0);
    let minor = it.next().unwrap_or(0);
    (major << 16) | (minor & 0xFFFF)
}

/// A stream the control protocol runs over.
trait CtrlStream: Read + Write {
    /// Receives bytes and, on unix sockets, descriptors passed with them.
    fn recv_with_fds(&mut self, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)>;
}

impl CtrlStream for TcpStream {
    fn recv_with_fds(&mut self, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
        Ok((self.read(buf)?, Vec::new()))
    }
}

impl CtrlStream for UnixStream {
    #[allow(unsafe_code)]
    fn recv_with_fds(&mut self, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 2]);
        let mut iov = [IoSliceMut::new(buf)];
        let msg = recvmsg::<()>(
            self.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(io::Error::from)?;
        let mut fds = Vec::new();
        for c in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(raw) = c {
                for fd in raw {
                    // SAFETY: the kernel just installed `fd` in this process for us
                    // (SCM_RIGHTS); nothing else owns it, so OwnedFd may close it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        Ok((msg.bytes, fds))
    }
}

/// Serves one control connection until it closes; true when the process must end
/// (CMD_SHUTDOWN, or the connection closed with terminate set).
fn serve_ctrl<S: CtrlStream>(front: &Arc<Front>, mut stream: S, peer: &str) -> bool {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut fds: Vec<OwnedFd> = Vec::new();
    loop {
        loop {
            let decoded = match ctrl::decode(&buf) {
                Ok(Some((req, used))) => Ok((req, used)),
                Ok(None) => break,
                Err(e) => Err(e),
            };
            match decoded {
                Ok((req, used)) => {
                    // The code and size only: state blobs hold secrets.
                    log::trace!(
                        "control {peer}: command 0x{:02x} ({used} bytes)",
                        first_u32(&buf)
                    );
                    let (reply, exit) = if req == CtrlRequest::SetDataFd {
                        (set_data_fd(front, fds.pop(), peer), false)
                    } else {
                        front.control(&req)
                    };
                    if let Err(e) = stream.write_all(&reply) {
                        log::warn!("control {peer}: cannot reply: {e}");
                        return false;
                    }
                    log::trace!(
                        "control {peer}: result 0x{:x}, {} bytes",
                        first_u32(&reply),
                        reply.len()
                    );
                    if exit {
                        return true;
                    }
                    buf.drain(..used.min(buf.len()));
                }
                Err(e) => {
                    log::warn!("control {peer}: {e}; closing the connection");
                    let _ = stream.write_all(&ctrl::result(e.result()));
                    return false;
                }
            }
        }
        match stream.recv_with_fds(&mut chunk) {
            Ok((0, _)) => {
                if !buf.is_empty() {
                    log::warn!("control {peer}: closed in the middle of a message");
                }
                return front.options.terminate_on_ctrl_close;
            }
            Ok((n, mut got)) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                fds.append(&mut got);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::warn!("control {peer}: read failed: {e}");
                return front.options.terminate_on_ctrl_close;
            }
        }
    }
}

/// CMD_SET_DATAFD: serve the descriptor as a data channel.
fn set_data_fd(front: &Arc<Front>, fd: Option<OwnedFd>, peer: &str) -> Vec<u8> {
    let Some(fd) = fd else {
        log::warn!("control {peer}: CMD_SET_DATAFD without a descriptor");
        return ctrl::result(res::BAD_PARAMETER);
    };
    if !front.take_data_fd_slot() {
        log::warn!("control {peer}: CMD_SET_DATAFD: a data channel is already set");
        return ctrl::result(res::IOERROR);
    }
    let stream = UnixStream::from(fd);
    let f = Arc::clone(front);
    let spawned = thread::Builder::new()
        .name("swtpm-datafd".to_owned())
        .spawn(move || {
            serve_data(&f, stream, "data fd");
            log::debug!("data channel (passed descriptor) closed");
        });
    match spawned {
        Ok(_) => {
            log::debug!("control {peer}: data channel descriptor received");
            ctrl::result(res::SUCCESS)
        }
        Err(e) => {
            log::error!("cannot start the data channel thread: {e}");
            ctrl::result(res::FAIL)
        }
    }
}

/// One data-channel command: (command, locality override, bytes used, framed
/// reply wanted).
type DataFrame<'a> = (&'a [u8], Option<u8>, usize, bool);

/// One framed or raw command at the start of `buf`; `None` until it is complete.
fn take_command(buf: &[u8]) -> Result<Option<DataFrame<'_>>, String> {
    let u32_at = |at: usize| {
        buf.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
    };
    let Some(first) = buf.get(0..2) else {
        return Ok(None);
    };
    let tag = u16::from_be_bytes([first[0], first[1]]);
    if tag == 0x8001 || tag == 0x8002 || tag == 0x00C1 {
        let Some(size) = u32_at(2) else {
            return Ok(None);
        };
        let n = usize::try_from(size).unwrap_or(usize::MAX);
        if !(10..=MAX_BUFFER as usize).contains(&n) {
            return Err(format!("command size {size} out of range"));
        }
        return Ok(buf.get(..n).map(|c| (c, None, n, false)));
    }
    // TPM_SEND_COMMAND (8), locality, length, command (SEND_COMMAND_HEADER).
    let Some(code) = u32_at(0) else {
        return Ok(None);
    };
    if code != 8 {
        return Err(format!("unknown data channel frame 0x{code:08x}"));
    }
    let Some(&loc) = buf.get(4) else {
        return Ok(None);
    };
    let Some(len) = u32_at(5) else {
        return Ok(None);
    };
    let n = usize::try_from(len).unwrap_or(usize::MAX);
    if n > MAX_BUFFER as usize {
        return Err(format!("command length {len} too large"));
    }
    Ok(buf
        .get(9..9 + n)
        .map(|c| (c, Some(loc), 9usize.saturating_add(n), true)))
}

/// Serves TPM commands on a data channel until it closes.
fn serve_data<S: Read + Write>(front: &Front, mut stream: S, peer: &str) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        loop {
            match take_command(&buf) {
                Ok(Some((command, loc, used, framed))) => {
                    let response = front.execute(command, loc);
                    let reply = if framed {
                        let mut r = Vec::with_capacity(response.len() + 8);
                        r.extend_from_slice(
                            &u32::try_from(response.len()).unwrap_or(0).to_be_bytes(),
                        );
                        r.extend_from_slice(&response);
                        r.extend_from_slice(&0u32.to_be_bytes());
                        r
                    } else {
                        response
                    };
                    if let Err(e) = stream.write_all(&reply) {
                        log::warn!("data {peer}: cannot reply: {e}");
                        return;
                    }
                    if front.options.disconnect {
                        return;
                    }
                    buf.drain(..used.min(buf.len()));
                }
                Ok(None) => break,
                Err(e) => {
                    log::warn!("data {peer}: {e}; closing the connection");
                    return;
                }
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::warn!("data {peer}: read failed: {e}");
                return;
            }
        }
    }
}

/// A control or data listener.
pub enum Listener {
    /// A unix socket.
    Unix(UnixListener),
    /// A loopback TCP socket.
    Tcp(TcpListener),
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = thread::Builder::new().name(name.to_owned()).spawn(f) {
        log::error!("cannot start a thread: {e}");
    }
}

/// Serves the control listener and the data listener (either may be absent)
/// until CMD_SHUTDOWN, a terminating control close, or SIGTERM/SIGINT.
pub fn serve(
    front: Arc<Front>,
    control: Option<Listener>,
    data: Option<Listener>,
) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let (exit_tx, exit_rx) = std::sync::mpsc::channel::<&'static str>();
    if let Some(data) = data {
        let f = Arc::clone(&front);
        spawn("swtpm-data-accept", move || match data {
            Listener::Tcp(l) => loop {
                if let Ok((s, peer)) = l.accept() {
                    let _ = s.set_nodelay(true);
                    let f = Arc::clone(&f);
                    spawn("swtpm-data", move || serve_data(&f, s, &peer.to_string()));
                }
            },
            Listener::Unix(l) => loop {
                if let Ok((s, _)) = l.accept() {
                    let f = Arc::clone(&f);
                    spawn("swtpm-data", move || serve_data(&f, s, "unix"));
                }
            },
        });
    }
    if let Some(control) = control {
        let f = Arc::clone(&front);
        let tx = exit_tx.clone();
        spawn("swtpm-ctrl-accept", move || {
            // One control connection at a time, as swtpm serves them.
            loop {
                let exit = match &control {
                    Listener::Unix(l) => match l.accept() {
                        Ok((s, _)) => {
                            let _ = s.set_read_timeout(None);
                            serve_ctrl(&f, s, "unix")
                        }
                        Err(_) => continue,
                    },
                    Listener::Tcp(l) => match l.accept() {
                        Ok((s, peer)) => {
                            let _ = s.set_nodelay(true);
                            let _ = s.set_write_timeout(Some(CTRL_MESSAGE_TIMEOUT));
                            serve_ctrl(&f, s, &peer.to_string())
                        }
                        Err(_) => continue,
                    },
                };
                if exit {
                    let _ = tx.send("control channel");
                    return;
                }
            }
        });
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    let handle = signals.handle();
    spawn("swtpm-signals", move || {
        if signals.forever().next().is_some() {
            let _ = exit_tx.send("signal");
        }
    });
    let why = exit_rx.recv().unwrap_or("channel closed");
    handle.close();
    // Take the engine lock: no command is in progress, every change is durable.
    let mut engine = lock(&front.engine);
    if why == "signal" && lock(&front.state).running {
        front.auto_shutdown(&mut engine);
    }
    log::info!("exiting ({why})");
    Ok(())
}

#[cfg(test)]
mod tests;
