//! The Microsoft TPM 2.0 simulator TCP protocol ("mssim"), as spoken by tpm2-tss's
//! `mssim` TCTI and IBM TSS's `socsim` interface: the codec only, no I/O.
//!
//! Two TCP ports, every integer big-endian:
//! - the **command port** carries TPM commands (`TPM_SEND_COMMAND`: `u32 8`,
//!   `u8 locality`, `u32 length`, command → `u32 length`, response, `u32 0`) and a
//!   few signals (hash start/data/end, handshake);
//! - the **platform port** carries signals (power, physical presence, NV, cancel,
//!   reset), each answered by a `u32` status.
//!
//! `SESSION_END` and `STOP` get no reply; the connection is then closed.
//!
//! Decoders take the bytes received so far and return `Ok(None)` until a whole frame
//! is there, then the request and the number of bytes it used. Declared lengths are
//! checked against [`MAX_FRAME_PAYLOAD`] before anything is buffered, so a peer
//! cannot make the server allocate more than that.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )
)]

use std::fmt;

/// Largest TPM command or hash-data payload accepted in one frame. TPM commands are
/// at most a few KiB (TPM_PT_MAX_COMMAND_SIZE); anything beyond this is hostile.
pub const MAX_FRAME_PAYLOAD: usize = 64 * 1024;

/// The protocol version this server reports in the remote handshake.
pub const SERVER_VERSION: u32 = 1;

/// Protocol codes (the first `u32` of every frame).
pub mod code {
    /// Platform: power on (_TPM_Init unless already powered).
    pub const SIGNAL_POWER_ON: u32 = 1;
    /// Platform: power off.
    pub const SIGNAL_POWER_OFF: u32 = 2;
    /// Platform: assert physical presence.
    pub const SIGNAL_PHYS_PRES_ON: u32 = 3;
    /// Platform: deassert physical presence.
    pub const SIGNAL_PHYS_PRES_OFF: u32 = 4;
    /// Command: _TPM_Hash_Start.
    pub const SIGNAL_HASH_START: u32 = 5;
    /// Command: _TPM_Hash_Data (`u32` length + bytes).
    pub const SIGNAL_HASH_DATA: u32 = 6;
    /// Command: _TPM_Hash_End.
    pub const SIGNAL_HASH_END: u32 = 7;
    /// Command: a TPM command (`u8` locality, `u32` length + bytes).
    pub const SEND_COMMAND: u32 = 8;
    /// Platform: cancel the running command.
    pub const SIGNAL_CANCEL_ON: u32 = 9;
    /// Platform: end of cancel.
    pub const SIGNAL_CANCEL_OFF: u32 = 10;
    /// Platform: NV available.
    pub const SIGNAL_NV_ON: u32 = 11;
    /// Platform: NV unavailable.
    pub const SIGNAL_NV_OFF: u32 = 12;
    /// Platform: key cache on.
    pub const SIGNAL_KEY_CACHE_ON: u32 = 13;
    /// Platform: key cache off.
    pub const SIGNAL_KEY_CACHE_OFF: u32 = 14;
    /// Command: protocol handshake (`u32` client version).
    pub const REMOTE_HANDSHAKE: u32 = 15;
    /// Command: set an alternative result (`u32`); accepted and ignored.
    pub const SET_ALTERNATIVE_RESULT: u32 = 16;
    /// Platform: _TPM_Init without a power cycle (only while powered).
    pub const SIGNAL_RESET: u32 = 17;
    /// Platform: clock restart.
    pub const SIGNAL_RESTART: u32 = 18;
    /// Either port: the client is done; no reply, the connection closes.
    pub const SESSION_END: u32 = 20;
    /// Either port: stop the simulator; no reply.
    pub const STOP: u32 = 21;
    /// Platform: report the largest command and response seen.
    pub const GET_COMMAND_RESPONSE_SIZES: u32 = 25;
    /// Platform: force failure mode at the next self test.
    pub const TEST_FAILURE_MODE: u32 = 30;
}

/// Endpoint flags of the handshake reply.
pub mod endpoint {
    /// The platform port is available.
    pub const PLATFORM_AVAILABLE: u32 = 0x01;
    // 0x02 means "the TPM is reached through TBS", never the case here.
    /// Raw mode: commands are passed to the TPM unchanged.
    pub const IN_RAW_MODE: u32 = 0x04;
    /// Physical presence signals are supported.
    pub const SUPPORTS_PP: u32 = 0x08;
}

/// A request on the command port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandRequest<'a> {
    /// `TPM_SEND_COMMAND`: run `command` at `locality`.
    SendCommand {
        /// Locality byte as sent.
        locality: u8,
        /// The TPM command bytes.
        command: &'a [u8],
    },
    /// `TPM_SIGNAL_HASH_START`.
    HashStart,
    /// `TPM_SIGNAL_HASH_DATA` with its bytes.
    HashData(&'a [u8]),
    /// `TPM_SIGNAL_HASH_END`.
    HashEnd,
    /// `TPM_REMOTE_HANDSHAKE` with the (non-zero) client version.
    RemoteHandshake {
        /// The client's protocol version.
        client_version: u32,
    },
    /// `TPM_SET_ALTERNATIVE_RESULT` with its value.
    SetAlternativeResult(u32),
    /// `TPM_SESSION_END`.
    SessionEnd,
    /// `TPM_STOP`.
    Stop,
}

/// A request on the platform port (all are a bare code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformRequest {
    /// `TPM_SIGNAL_POWER_ON`.
    PowerOn,
    /// `TPM_SIGNAL_POWER_OFF`.
    PowerOff,
    /// `TPM_SIGNAL_PHYS_PRES_ON`.
    PhysPresOn,
    /// `TPM_SIGNAL_PHYS_PRES_OFF`.
    PhysPresOff,
    /// `TPM_SIGNAL_CANCEL_ON`.
    CancelOn,
    /// `TPM_SIGNAL_CANCEL_OFF`.
    CancelOff,
    /// `TPM_SIGNAL_NV_ON`.
    NvOn,
    /// `TPM_SIGNAL_NV_OFF`.
    NvOff,
    /// `TPM_SIGNAL_KEY_CACHE_ON`.
    KeyCacheOn,
    /// `TPM_SIGNAL_KEY_CACHE_OFF`.
    KeyCacheOff,
    /// `TPM_SIGNAL_RESET`.
    Reset,
    /// `TPM_SIGNAL_RESTART`.
    Restart,
    /// `TPM_SESSION_END`.
    SessionEnd,
    /// `TPM_STOP`.
    Stop,
    /// `TPM_GET_COMMAND_RESPONSE_SIZES`.
    GetCommandResponseSizes,
    /// `TPM_TEST_FAILURE_MODE`.
    TestFailureMode,
}

impl PlatformRequest {
    /// The request for a platform-port code.
    pub fn from_code(c: u32) -> Option<PlatformRequest> {
        Some(match c {
            code::SIGNAL_POWER_ON => PlatformRequest::PowerOn,
            code::SIGNAL_POWER_OFF => PlatformRequest::PowerOff,
            code::SIGNAL_PHYS_PRES_ON => PlatformRequest::PhysPresOn,
            code::SIGNAL_PHYS_PRES_OFF => PlatformRequest::PhysPresOff,
            code::SIGNAL_CANCEL_ON => PlatformRequest::CancelOn,
            code::SIGNAL_CANCEL_OFF => PlatformRequest::CancelOff,
            code::SIGNAL_NV_ON => PlatformRequest::NvOn,
            code::SIGNAL_NV_OFF => PlatformRequest::NvOff,
            code::SIGNAL_KEY_CACHE_ON => PlatformRequest::KeyCacheOn,
            code::SIGNAL_KEY_CACHE_OFF => PlatformRequest::KeyCacheOff,
            code::SIGNAL_RESET => PlatformRequest::Reset,
            code::SIGNAL_RESTART => PlatformRequest::Restart,
            code::SESSION_END => PlatformRequest::SessionEnd,
            code::STOP => PlatformRequest::Stop,
            code::GET_COMMAND_RESPONSE_SIZES => PlatformRequest::GetCommandResponseSizes,
            code::TEST_FAILURE_MODE => PlatformRequest::TestFailureMode,
            _ => return None,
        })
    }
}

/// Why a frame was refused. The connection it came on is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// A code this port does not serve.
    UnknownCode(u32),
    /// A declared payload length above [`MAX_FRAME_PAYLOAD`].
    TooLarge {
        /// The code of the frame.
        code: u32,
        /// The declared length.
        len: u32,
    },
    /// A handshake with client version 0.
    ZeroClientVersion,
    /// A response too large to frame (never happens for engine responses).
    ResponseTooLarge(usize),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::UnknownCode(c) => write!(f, "unknown code {c} (0x{c:08x})"),
            CodecError::TooLarge { code, len } => write!(
                f,
                "frame {code} declares {len} bytes, more than the {MAX_FRAME_PAYLOAD}-byte limit"
            ),
            CodecError::ZeroClientVersion => f.write_str("handshake with client version 0"),
            CodecError::ResponseTooLarge(n) => write!(f, "response of {n} bytes cannot be framed"),
        }
    }
}

impl std::error::Error for CodecError {}

/// A cursor over the received bytes; `None` means "not there yet".
struct Cursor<'a> {
    rest: &'a [u8],
    used: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { rest: buf, used: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        self.used = self.used.checked_add(n)?;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        <[u8; 4]>::try_from(b).ok().map(u32::from_be_bytes)
    }

    /// A `u32`-length-prefixed payload, the length checked before waiting for it.
    fn var_bytes(&mut self, code: u32) -> Result<Option<&'a [u8]>, CodecError> {
        let Some(len) = self.u32() else {
            return Ok(None);
        };
        let n = usize::try_from(len).map_err(|_| CodecError::TooLarge { code, len })?;
        if n > MAX_FRAME_PAYLOAD {
            return Err(CodecError::TooLarge { code, len });
        }
        Ok(self.take(n))
    }
}

/// Decodes one command-port frame from the start of `buf`.
pub fn decode_command(buf: &[u8]) -> Result<Option<(CommandRequest<'_>, usize)>, CodecError> {
    let mut c = Cursor::new(buf);
    let Some(frame_code) = c.u32() else {
        return Ok(None);
    };
    let request = match frame_code {
        code::SEND_COMMAND => {
            let Some(locality) = c.u8() else {
                return Ok(None);
            };
            let Some(command) = c.var_bytes(frame_code)? else {
                return Ok(None);
            };
            CommandRequest::SendCommand { locality, command }
        }
        code::SIGNAL_HASH_START => CommandRequest::HashStart,
        code::SIGNAL_HASH_DATA => {
            let Some(data) = c.var_bytes(frame_code)? else {
                return Ok(None);
            };
            CommandRequest::HashData(data)
        }
        code::SIGNAL_HASH_END => CommandRequest::HashEnd,
        code::REMOTE_HANDSHAKE => {
            let Some(client_version) = c.u32() else {
                return Ok(None);
            };
            if client_version == 0 {
                return Err(CodecError::ZeroClientVersion);
            }
            CommandRequest::RemoteHandshake { client_version }
        }
        code::SET_ALTERNATIVE_RESULT => {
            let Some(v) = c.u32() else {
                return Ok(None);
            };
            CommandRequest::SetAlternativeResult(v)
        }
        code::SESSION_END => CommandRequest::SessionEnd,
        code::STOP => CommandRequest::Stop,
        other => return Err(CodecError::UnknownCode(other)),
    };
    Ok(Some((request, c.used)))
}

/// Decodes one platform-port frame from the start of `buf`.
pub fn decode_platform(buf: &[u8]) -> Result<Option<(PlatformRequest, usize)>, CodecError> {
    let mut c = Cursor::new(buf);
    let Some(frame_code) = c.u32() else {
        return Ok(None);
    };
    let request =
        PlatformRequest::from_code(frame_code).ok_or(CodecError::UnknownCode(frame_code))?;
    Ok(Some((request, c.used)))
}

/// A bare status reply (`0` = done, `1` = refused).
pub fn encode_status(status: u32) -> [u8; 4] {
    status.to_be_bytes()
}

/// The reply to `TPM_SEND_COMMAND`: length, response, `u32 0`.
pub fn encode_send_command_reply(response: &[u8]) -> Result<Vec<u8>, CodecError> {
    let len =
        u32::try_from(response.len()).map_err(|_| CodecError::ResponseTooLarge(response.len()))?;
    let mut out = Vec::with_capacity(response.len().saturating_add(8));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(response);
    out.extend_from_slice(&0u32.to_be_bytes());
    Ok(out)
}

/// The reply to `TPM_REMOTE_HANDSHAKE`: server version, endpoint flags, `u32 0`.
pub fn encode_handshake_reply(server_version: u32, flags: u32) -> [u8; 12] {
    let mut out = [0u8; 12];
    for (dst, src) in out.iter_mut().zip(
        server_version
            .to_be_bytes()
            .into_iter()
            .chain(flags.to_be_bytes())
            .chain(0u32.to_be_bytes()),
    ) {
        *dst = src;
    }
    out
}

#[cfg(test)]
mod tests;
