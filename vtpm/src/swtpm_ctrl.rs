//! The swtpm control channel (`CMD_*` protocol) as QEMU's `-tpmdev emulator`,
//! libvirt and `swtpm_ioctl` speak it: message framing and encoding only; the
//! server that acts on the requests is [`crate::swtpm_server`].
//!
//! Every integer is big-endian. A request is a `u32` command code followed by
//! that command's request body; a response is the command's response body, which
//! always begins with a `u32` result (0 on success). Bodies have a fixed size,
//! except HASH_DATA and SET_STATEBLOB, whose `u32` length comes first.

use std::fmt;

/// Command codes (swtpm `tpm_ioctl.h`, `enum ... CMD_*`).
pub mod code {
    /// CMD_GET_CAPABILITY
    pub const GET_CAPABILITY: u32 = 0x01;
    /// CMD_INIT
    pub const INIT: u32 = 0x02;
    /// CMD_SHUTDOWN
    pub const SHUTDOWN: u32 = 0x03;
    /// CMD_GET_TPMESTABLISHED
    pub const GET_TPMESTABLISHED: u32 = 0x04;
    /// CMD_SET_LOCALITY
    pub const SET_LOCALITY: u32 = 0x05;
    /// CMD_HASH_START
    pub const HASH_START: u32 = 0x06;
    /// CMD_HASH_DATA
    pub const HASH_DATA: u32 = 0x07;
    /// CMD_HASH_END
    pub const HASH_END: u32 = 0x08;
    /// CMD_CANCEL_TPM_CMD
    pub const CANCEL_TPM_CMD: u32 = 0x09;
    /// CMD_STORE_VOLATILE
    pub const STORE_VOLATILE: u32 = 0x0a;
    /// CMD_RESET_TPMESTABLISHED
    pub const RESET_TPMESTABLISHED: u32 = 0x0b;
    /// CMD_GET_STATEBLOB
    pub const GET_STATEBLOB: u32 = 0x0c;
    /// CMD_SET_STATEBLOB
    pub const SET_STATEBLOB: u32 = 0x0d;
    /// CMD_STOP
    pub const STOP: u32 = 0x0e;
    /// CMD_GET_CONFIG
    pub const GET_CONFIG: u32 = 0x0f;
    /// CMD_SET_DATAFD
    pub const SET_DATAFD: u32 = 0x10;
    /// CMD_SET_BUFFERSIZE
    pub const SET_BUFFERSIZE: u32 = 0x11;
    /// CMD_GET_INFO
    pub const GET_INFO: u32 = 0x12;
    /// CMD_LOCK_STORAGE
    pub const LOCK_STORAGE: u32 = 0x13;
}

/// Capability bits of CMD_GET_CAPABILITY (`PTM_CAP_*`).
pub mod cap {
    /// PTM_CAP_INIT
    pub const INIT: u32 = 0x1;
    /// PTM_CAP_SHUTDOWN
    pub const SHUTDOWN: u32 = 0x2;
    /// PTM_CAP_GET_TPMESTABLISHED
    pub const GET_TPMESTABLISHED: u32 = 0x4;
    /// PTM_CAP_SET_LOCALITY
    pub const SET_LOCALITY: u32 = 0x8;
    /// PTM_CAP_HASHING
    pub const HASHING: u32 = 0x10;
    /// PTM_CAP_CANCEL_TPM_CMD
    pub const CANCEL_TPM_CMD: u32 = 0x20;
    /// PTM_CAP_STORE_VOLATILE
    pub const STORE_VOLATILE: u32 = 0x40;
    /// PTM_CAP_RESET_TPMESTABLISHED
    pub const RESET_TPMESTABLISHED: u32 = 0x80;
    /// PTM_CAP_GET_STATEBLOB
    pub const GET_STATEBLOB: u32 = 0x100;
    /// PTM_CAP_SET_STATEBLOB
    pub const SET_STATEBLOB: u32 = 0x200;
    /// PTM_CAP_STOP
    pub const STOP: u32 = 0x400;
    /// PTM_CAP_GET_CONFIG
    pub const GET_CONFIG: u32 = 0x800;
    /// PTM_CAP_SET_DATAFD
    pub const SET_DATAFD: u32 = 0x1000;
    /// PTM_CAP_SET_BUFFERSIZE
    pub const SET_BUFFERSIZE: u32 = 0x2000;
    /// PTM_CAP_GET_INFO
    pub const GET_INFO: u32 = 0x4000;
    /// PTM_CAP_SEND_COMMAND_HEADER
    pub const SEND_COMMAND_HEADER: u32 = 0x8000;
    /// PTM_CAP_LOCK_STORAGE
    pub const LOCK_STORAGE: u32 = 0x10000;
}

/// Result codes (TPM 1.2 values, as swtpm answers on the control channel).
pub mod res {
    /// Success.
    pub const SUCCESS: u32 = 0;
    /// TPM_BAD_PARAMETER: a body of the wrong size or value.
    pub const BAD_PARAMETER: u32 = 3;
    /// TPM_FAIL: the operation failed.
    pub const FAIL: u32 = 9;
    /// TPM_BAD_ORDINAL: unknown command, or not in this running state.
    pub const BAD_ORDINAL: u32 = 10;
    /// TPM_BAD_LOCALITY: locality above 4.
    pub const BAD_LOCALITY: u32 = 0x3D;
    /// TPM_IOERROR: an I/O problem (e.g. a data channel already set).
    pub const IOERROR: u32 = 0x1F;
    /// TPM_SIZE: a blob too large.
    pub const SIZE: u32 = 0x17;
}

/// CMD_INIT flag: delete the volatile state after reading it.
pub const INIT_FLAG_DELETE_VOLATILE: u32 = 1;

/// Blob types of GET/SET_STATEBLOB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobType {
    /// PTM_BLOB_TYPE_PERMANENT (1).
    Permanent,
    /// PTM_BLOB_TYPE_VOLATILE (2).
    Volatile,
    /// PTM_BLOB_TYPE_SAVESTATE (3).
    SaveState,
}

impl BlobType {
    /// The blob type for its code.
    pub fn from_code(c: u32) -> Option<BlobType> {
        match c {
            1 => Some(BlobType::Permanent),
            2 => Some(BlobType::Volatile),
            3 => Some(BlobType::SaveState),
            _ => None,
        }
    }
}

/// State flag: the blob is encrypted (flag 1, "decrypted", is what callers ask
/// for; our blobs are never encrypted).
pub const STATE_FLAG_ENCRYPTED: u32 = 2;

/// Largest state blob SET_STATEBLOB accepts.
pub const MAX_STATE_BLOB: usize = 512 * 1024;
/// Largest HASH_DATA chunk accepted.
pub const MAX_HASH_DATA: usize = 64 * 1024;
/// Most bytes of GET_INFO's JSON per reply.
pub const GET_INFO_CHUNK: usize = 3072;

/// One control request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtrlRequest<'a> {
    /// CMD_GET_CAPABILITY.
    GetCapability,
    /// CMD_INIT with its flags.
    Init(u32),
    /// CMD_SHUTDOWN.
    Shutdown,
    /// CMD_GET_TPMESTABLISHED.
    GetTpmEstablished,
    /// CMD_SET_LOCALITY.
    SetLocality(u8),
    /// CMD_HASH_START.
    HashStart,
    /// CMD_HASH_DATA with its bytes.
    HashData(&'a [u8]),
    /// CMD_HASH_END.
    HashEnd,
    /// CMD_CANCEL_TPM_CMD.
    CancelTpmCmd,
    /// CMD_STORE_VOLATILE.
    StoreVolatile,
    /// CMD_RESET_TPMESTABLISHED from a locality.
    ResetTpmEstablished(u8),
    /// CMD_GET_STATEBLOB.
    GetStateBlob {
        /// state_flags.
        flags: u32,
        /// The blob type code.
        blob_type: u32,
        /// Offset to read from.
        offset: u32,
    },
    /// CMD_SET_STATEBLOB.
    SetStateBlob {
        /// state_flags.
        flags: u32,
        /// The blob type code.
        blob_type: u32,
        /// The blob.
        data: &'a [u8],
    },
    /// CMD_STOP.
    Stop,
    /// CMD_GET_CONFIG.
    GetConfig,
    /// CMD_SET_DATAFD (the descriptor travels as ancillary data).
    SetDataFd,
    /// CMD_SET_BUFFERSIZE (0 queries).
    SetBufferSize(u32),
    /// CMD_GET_INFO.
    GetInfo {
        /// Which facts (bit mask).
        flags: u64,
        /// Offset into the JSON text.
        offset: u32,
    },
    /// CMD_LOCK_STORAGE with its retry count.
    LockStorage(u32),
}

/// Why a control message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtrlError {
    /// An unknown command code (answered TPM_BAD_ORDINAL).
    UnknownCode(u32),
    /// A length field above the limit for this command (answered TPM_SIZE).
    TooLarge {
        /// The command code.
        code: u32,
        /// The declared length.
        len: u32,
    },
}

impl CtrlError {
    /// The result code to answer with.
    pub fn result(self) -> u32 {
        match self {
            CtrlError::UnknownCode(_) => res::BAD_ORDINAL,
            CtrlError::TooLarge { .. } => res::SIZE,
        }
    }
}

impl fmt::Display for CtrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtrlError::UnknownCode(c) => write!(f, "unknown control command 0x{c:02x}"),
            CtrlError::TooLarge { code, len } => {
                write!(
                    f,
                    "control command 0x{code:02x} declares {len} bytes, too many"
                )
            }
        }
    }
}

impl std::error::Error for CtrlError {}

/// A cursor over received bytes; `None` means "not all there yet".
struct Cursor<'a> {
    rest: &'a [u8],
    used: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        self.used = self.used.checked_add(n)?;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
    }

    /// A locality argument. swtpm reads at least one byte; QEMU sends four (the
    /// locality, then three zero bytes) in the same write as the code, while
    /// tpm2-tss's swtpm TCTI sends one and waits for the answer. So: one byte,
    /// then up to three zero bytes that have already arrived.
    fn locality(&mut self) -> Option<u8> {
        let loc = self.take(1)?.first().copied()?;
        for _ in 0..3 {
            if self.rest.first() == Some(&0) {
                self.take(1)?;
            } else {
                break;
            }
        }
        Some(loc)
    }

    fn sized(&mut self, code: u32, len: u32, max: usize) -> Result<Option<&'a [u8]>, CtrlError> {
        let n = usize::try_from(len).map_err(|_| CtrlError::TooLarge { code, len })?;
        if n > max {
            return Err(CtrlError::TooLarge { code, len });
        }
        Ok(self.take(n))
    }
}

/// Decodes one control request from the start of `buf`: `Ok(None)` until the
/// whole message has arrived, then the request and the bytes it used.
pub fn decode(buf: &[u8]) -> Result<Option<(CtrlRequest<'_>, usize)>, CtrlError> {
    let mut c = Cursor { rest: buf, used: 0 };
    let Some(cmd) = c.u32() else {
        return Ok(None);
    };
    let req = match cmd {
        code::GET_CAPABILITY => Some(CtrlRequest::GetCapability),
        code::INIT => c.u32().map(CtrlRequest::Init),
        code::SHUTDOWN => Some(CtrlRequest::Shutdown),
        code::GET_TPMESTABLISHED => Some(CtrlRequest::GetTpmEstablished),
        code::SET_LOCALITY => c.locality().map(CtrlRequest::SetLocality),
        code::HASH_START => Some(CtrlRequest::HashStart),
        code::HASH_DATA => match c.u32() {
            None => None,
            Some(len) => c.sized(cmd, len, MAX_HASH_DATA)?.map(CtrlRequest::HashData),
        },
        code::HASH_END => Some(CtrlRequest::HashEnd),
        code::CANCEL_TPM_CMD => Some(CtrlRequest::CancelTpmCmd),
        code::STORE_VOLATILE => Some(CtrlRequest::StoreVolatile),
        code::RESET_TPMESTABLISHED => c.locality().map(CtrlRequest::ResetTpmEstablished),
        code::GET_STATEBLOB => match (c.u32(), c.u32(), c.u32()) {
            (Some(flags), Some(blob_type), Some(offset)) => Some(CtrlRequest::GetStateBlob {
                flags,
                blob_type,
                offset,
            }),
            _ => None,
        },
        code::SET_STATEBLOB => match (c.u32(), c.u32(), c.u32()) {
            (Some(flags), Some(blob_type), Some(len)) => {
                c.sized(cmd, len, MAX_STATE_BLOB)?
                    .map(|data| CtrlRequest::SetStateBlob {
                        flags,
                        blob_type,
                        data,
                    })
            }
            _ => None,
        },
        code::STOP => Some(CtrlRequest::Stop),
        code::GET_CONFIG => Some(CtrlRequest::GetConfig),
        code::SET_DATAFD => Some(CtrlRequest::SetDataFd),
        code::SET_BUFFERSIZE => c.u32().map(CtrlRequest::SetBufferSize),
        code::GET_INFO => match (c.u64(), c.u32(), c.u32()) {
            (Some(flags), Some(offset), Some(_pad)) => Some(CtrlRequest::GetInfo { flags, offset }),
            _ => None,
        },
        code::LOCK_STORAGE => c.u32().map(CtrlRequest::LockStorage),
        other => return Err(CtrlError::UnknownCode(other)),
    };
    Ok(req.map(|r| (r, c.used)))
}

/// A response that is only a result code.
pub fn result(code: u32) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// Builds a response: the result, then `u32` fields, then raw bytes.
pub fn response(result: u32, fields: &[u32], tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + 4 * fields.len() + tail.len());
    v.extend_from_slice(&result.to_be_bytes());
    for f in fields {
        v.extend_from_slice(&f.to_be_bytes());
    }
    v.extend_from_slice(tail);
    v
}

#[cfg(test)]
mod tests;
