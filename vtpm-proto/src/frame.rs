//! Channel frames (protocol version 1) between the host and a stub: the layout is
//! in the crate docs.
//!
//! [`decode`] takes the front of an untrusted byte stream and returns one borrowed
//! [`Frame`] and the number of bytes it used, [`FrameError::Incomplete`] when more
//! bytes are needed, or the first error found. The header is checked field by
//! field as soon as each byte arrives, so garbage is refused without waiting for a
//! length that will never come. [`Message::parse`] then checks the payload of a
//! frame against its type; [`Message::encode`] writes a frame. [`Receiver`]
//! reassembles frames from a stream that arrives in arbitrary pieces.

use alloc::vec::Vec;
use core::fmt;

/// The two bytes every frame starts with.
pub const MAGIC: [u8; 2] = *b"VF";

/// The protocol version this crate writes and reads.
pub const PROTOCOL_VERSION: u8 = 1;

/// Size of the fixed header (magic through payload length).
pub const HEADER_LEN: usize = 12;

/// The largest payload a frame may carry: an 8 KiB TPM buffer plus room for the
/// payload's own small header (locality, codes).
pub const MAX_PAYLOAD: usize = 8192 + 64;

/// The largest whole frame of any type but the state frames.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD;

/// The largest payload of a state frame ([`FrameType::StateSaveReply`],
/// [`FrameType::StateLoad`]): a sealed permanent state with full NV.
pub const MAX_STATE_PAYLOAD: usize = 64 * 1024;

/// The largest whole state frame.
pub const MAX_STATE_FRAME: usize = HEADER_LEN + MAX_STATE_PAYLOAD;

/// Payload length of a [`FrameType::Start`] frame.
pub const START_LEN: usize = 2 + 16 + 32 + 32 + 8 + 8;

/// Version of the [`FrameType::Start`] payload layout.
pub const START_VERSION: u16 = 1;

/// Offsets of the header fields.
mod field {
    use core::ops::Range;
    pub const VERSION: usize = 2;
    pub const TYPE: usize = 3;
    pub const SEQUENCE: Range<usize> = 4..8;
    pub const LENGTH: Range<usize> = 8..12;
}

/// What a frame carries; the byte value is the type field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Host -> stub: "are you there"; the stub answers [`FrameType::Ready`].
    Hello = 1,
    /// Stub -> host: the stub runs and accepts commands; payload: its version.
    Ready = 2,
    /// Host -> stub: one TPM command at a locality.
    TpmCommand = 3,
    /// Stub -> host: the TPM response to the command with the same sequence.
    TpmResponse = 4,
    /// Host -> stub: cancel the command in progress (TPM cancel signal).
    Cancel = 5,
    /// Host -> stub: send the engine state of a kind.
    StateSaveRequest = 6,
    /// Stub -> host: the state asked for with the same sequence.
    StateSaveReply = 7,
    /// Host -> stub: load this state.
    StateLoad = 8,
    /// Stub -> host: one log line.
    Log = 9,
    /// Host -> stub: stop (after an orderly TPM shutdown, if any).
    Shutdown = 10,
    /// Either way: the frame with the same sequence was refused.
    Error = 11,
    /// Host -> stub: start-up parameters (state key, entropy, clock, instance).
    Start = 12,
    /// Host -> stub: a platform signal (the H-CRTM/D-RTM hash sequence); the stub
    /// acknowledges it with a Signal frame of the same kind and sequence and no data.
    Signal = 13,
}

impl FrameType {
    /// The type with this byte.
    pub const fn from_byte(b: u8) -> Option<FrameType> {
        Some(match b {
            1 => FrameType::Hello,
            2 => FrameType::Ready,
            3 => FrameType::TpmCommand,
            4 => FrameType::TpmResponse,
            5 => FrameType::Cancel,
            6 => FrameType::StateSaveRequest,
            7 => FrameType::StateSaveReply,
            8 => FrameType::StateLoad,
            9 => FrameType::Log,
            10 => FrameType::Shutdown,
            11 => FrameType::Error,
            12 => FrameType::Start,
            13 => FrameType::Signal,
            _ => return None,
        })
    }

    /// The type byte.
    pub const fn to_byte(self) -> u8 {
        self as u8
    }

    /// The largest payload a frame of this type may carry.
    pub const fn max_payload(self) -> usize {
        match self {
            FrameType::StateSaveReply | FrameType::StateLoad => MAX_STATE_PAYLOAD,
            _ => MAX_PAYLOAD,
        }
    }
}

/// Why bytes are not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Nothing wrong so far, but the frame needs at least this many bytes in all.
    Incomplete {
        /// Total bytes (from the start of the frame) needed to go on.
        needed: usize,
    },
    /// The first two bytes are not [`MAGIC`].
    BadMagic,
    /// A protocol version this crate does not speak.
    UnsupportedVersion(u8),
    /// An unknown type byte.
    UnknownType(u8),
    /// The payload length is over [`MAX_PAYLOAD`].
    TooLong(u32),
    /// The payload does not fit the frame's type.
    BadPayload(FrameType),
}

impl FrameError {
    /// True for [`FrameError::Incomplete`]: wait for more bytes.
    pub const fn is_incomplete(&self) -> bool {
        matches!(self, FrameError::Incomplete { .. })
    }

    /// The [`ErrorCode`] a peer reports for this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            FrameError::Incomplete { .. } | FrameError::BadMagic => ErrorCode::Malformed,
            FrameError::UnsupportedVersion(_) => ErrorCode::Version,
            FrameError::UnknownType(_) => ErrorCode::UnknownType,
            FrameError::TooLong(_) => ErrorCode::TooLong,
            FrameError::BadPayload(_) => ErrorCode::BadPayload,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Incomplete { needed } => {
                write!(f, "incomplete frame, {needed} bytes needed")
            }
            FrameError::BadMagic => f.write_str("not a frame (bad magic)"),
            FrameError::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            FrameError::UnknownType(t) => write!(f, "unknown frame type {t}"),
            FrameError::TooLong(n) => write!(f, "payload of {n} bytes is over the limit"),
            FrameError::BadPayload(t) => write!(f, "malformed payload for a {t:?} frame"),
        }
    }
}

/// The code in an [`FrameType::Error`] payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Bytes that are not a frame.
    Malformed = 1,
    /// An unsupported protocol version.
    Version = 2,
    /// An unknown frame type.
    UnknownType = 3,
    /// A payload over the limit.
    TooLong = 4,
    /// A payload that does not fit its type.
    BadPayload = 5,
    /// A well-formed frame the receiver does not accept (wrong direction, or not
    /// supported by this receiver).
    Unsupported = 6,
    /// The receiver failed to carry out a valid request.
    Failed = 7,
    /// A code this crate does not know.
    Other = 0xFFFF,
}

impl ErrorCode {
    /// The code with this value ([`ErrorCode::Other`] for unknown values).
    pub const fn from_u16(v: u16) -> ErrorCode {
        match v {
            1 => ErrorCode::Malformed,
            2 => ErrorCode::Version,
            3 => ErrorCode::UnknownType,
            4 => ErrorCode::TooLong,
            5 => ErrorCode::BadPayload,
            6 => ErrorCode::Unsupported,
            7 => ErrorCode::Failed,
            _ => ErrorCode::Other,
        }
    }
}

/// Which part of the engine state a save request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// Permanent state.
    Permanent = 1,
    /// Volatile state.
    Volatile = 2,
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the frame carries.
    pub frame_type: FrameType,
    /// Sequence number: a reply carries the sequence of the request it answers.
    pub sequence: u32,
    /// Payload length in bytes (at most [`FrameType::max_payload`]).
    pub payload_len: usize,
}

/// One frame, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// What the frame carries.
    pub frame_type: FrameType,
    /// Sequence number.
    pub sequence: u32,
    /// The payload.
    pub payload: &'a [u8],
}

/// Checks as much of a header as `bytes` holds; returns it once complete.
pub fn decode_header(bytes: &[u8]) -> Result<Header, FrameError> {
    let incomplete = Err(FrameError::Incomplete { needed: HEADER_LEN });
    for (i, m) in MAGIC.iter().enumerate() {
        match bytes.get(i) {
            Some(b) if b == m => {}
            Some(_) => return Err(FrameError::BadMagic),
            None => return incomplete,
        }
    }
    match bytes.get(field::VERSION) {
        Some(&PROTOCOL_VERSION) => {}
        Some(&v) => return Err(FrameError::UnsupportedVersion(v)),
        None => return incomplete,
    }
    let frame_type = match bytes.get(field::TYPE) {
        Some(&t) => FrameType::from_byte(t).ok_or(FrameError::UnknownType(t))?,
        None => return incomplete,
    };
    let Some(length) = bytes
        .get(field::LENGTH)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
    else {
        return incomplete;
    };
    let length = u32::from_be_bytes(length);
    let payload_len = usize::try_from(length)
        .ok()
        .filter(|&n| n <= frame_type.max_payload())
        .ok_or(FrameError::TooLong(length))?;
    let sequence = bytes
        .get(field::SEQUENCE)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or(FrameError::Incomplete { needed: HEADER_LEN })?;
    Ok(Header {
        frame_type,
        sequence,
        payload_len,
    })
}

/// Decodes the frame at the front of `bytes`; returns it and its total length.
pub fn decode(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let header = decode_header(bytes)?;
    // Cannot overflow: payload_len <= MAX_STATE_PAYLOAD.
    let total = HEADER_LEN.saturating_add(header.payload_len);
    let payload = bytes
        .get(HEADER_LEN..total)
        .ok_or(FrameError::Incomplete { needed: total })?;
    Ok((
        Frame {
            frame_type: header.frame_type,
            sequence: header.sequence,
            payload,
        },
        total,
    ))
}

/// Appends one frame to `out`.
pub fn encode(
    frame_type: FrameType,
    sequence: u32,
    payload_parts: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let len = payload_parts
        .iter()
        .try_fold(0usize, |acc, p| acc.checked_add(p.len()))
        .unwrap_or(usize::MAX);
    if len > frame_type.max_payload() {
        return Err(FrameError::TooLong(u32::try_from(len).unwrap_or(u32::MAX)));
    }
    let len32 = u32::try_from(len).map_err(|_| FrameError::TooLong(u32::MAX))?;
    out.reserve(HEADER_LEN.saturating_add(len));
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    out.push(frame_type.to_byte());
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&len32.to_be_bytes());
    for p in payload_parts {
        out.extend_from_slice(p);
    }
    Ok(())
}

/// The payload of a [`FrameType::Start`] frame: what a stub needs before it loads
/// state. Debug output leaves the key and the entropy out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StartParams<'a> {
    /// The instance (VM UUID) whose state the stub may load and seal.
    pub instance: [u8; 16],
    /// The 32-byte AES-256-GCM state key (secret).
    pub state_key: &'a [u8; 32],
    /// Host entropy the stub mixes into its own.
    pub entropy: &'a [u8; 32],
    /// The host's wall clock, milliseconds since the Unix epoch.
    pub wall_clock_ms: u64,
    /// The lowest state sequence number the stub may load (anti-rollback).
    pub min_sequence: u64,
}

impl fmt::Debug for StartParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartParams")
            .field("instance", &self.instance)
            .field("state_key", &"[redacted]")
            .field("entropy", &"[redacted]")
            .field("wall_clock_ms", &self.wall_clock_ms)
            .field("min_sequence", &self.min_sequence)
            .finish()
    }
}

impl<'a> StartParams<'a> {
    /// Parses a Start payload (exactly [`START_LEN`] bytes, version
    /// [`START_VERSION`]).
    pub fn parse(p: &'a [u8]) -> Option<StartParams<'a>> {
        let (version, rest) = p.split_first_chunk::<2>()?;
        if u16::from_be_bytes(*version) != START_VERSION {
            return None;
        }
        let (instance, rest) = rest.split_first_chunk::<16>()?;
        let (state_key, rest) = rest.split_first_chunk::<32>()?;
        let (entropy, rest) = rest.split_first_chunk::<32>()?;
        let (clock, rest) = rest.split_first_chunk::<8>()?;
        let (min, rest) = rest.split_first_chunk::<8>()?;
        if !rest.is_empty() {
            return None;
        }
        Some(StartParams {
            instance: *instance,
            state_key,
            entropy,
            wall_clock_ms: u64::from_be_bytes(*clock),
            min_sequence: u64::from_be_bytes(*min),
        })
    }
}

/// A frame with its payload checked against its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// Host -> stub: "are you there".
    Hello,
    /// Stub -> host: running; the stub's version (UTF-8).
    Ready {
        /// The stub's version string.
        version: &'a str,
    },
    /// Host -> stub: a TPM command.
    TpmCommand {
        /// Locality 0..=4.
        locality: u8,
        /// The TPM command bytes (not empty).
        command: &'a [u8],
    },
    /// Stub -> host: a TPM response.
    TpmResponse(&'a [u8]),
    /// Host -> stub: cancel the running command.
    Cancel,
    /// Host -> stub: send the state of this kind.
    StateSaveRequest(StateKind),
    /// Stub -> host: the state asked for.
    StateSaveReply(&'a [u8]),
    /// Host -> stub: load this state.
    StateLoad(&'a [u8]),
    /// Stub -> host: a log line.
    Log {
        /// 1 error, 2 warn, 3 info, 4 debug, 5 trace (the `log` crate's order).
        level: u8,
        /// The text (UTF-8).
        text: &'a str,
    },
    /// Host -> stub: stop.
    Shutdown,
    /// A request was refused.
    Error {
        /// Why.
        code: ErrorCode,
        /// Detail for people (UTF-8, may be empty).
        text: &'a str,
    },
    /// Host -> stub: start-up parameters.
    Start(StartParams<'a>),
    /// Host -> stub: a platform signal; stub -> host: its acknowledgement (no data).
    Signal {
        /// What happened.
        kind: SignalKind,
        /// _TPM_Hash_Data's bytes (empty for the other kinds and in an
        /// acknowledgement).
        data: &'a [u8],
    },
}

/// The platform signals a Signal frame carries (payload: the kind byte, then
/// the data of a [`SignalKind::HashData`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalKind {
    /// _TPM_Hash_Start.
    HashStart = 1,
    /// _TPM_Hash_Data.
    HashData = 2,
    /// _TPM_Hash_End.
    HashEnd = 3,
}

impl<'a> Message<'a> {
    /// Checks a frame's payload against its type.
    pub fn parse(frame: &Frame<'a>) -> Result<Message<'a>, FrameError> {
        let t = frame.frame_type;
        let p = frame.payload;
        let bad = FrameError::BadPayload(t);
        let empty = |m: Message<'a>| if p.is_empty() { Ok(m) } else { Err(bad) };
        let text = |b: &'a [u8]| core::str::from_utf8(b).map_err(|_| bad);
        match t {
            FrameType::Hello => empty(Message::Hello),
            FrameType::Cancel => empty(Message::Cancel),
            FrameType::Shutdown => empty(Message::Shutdown),
            FrameType::Ready => Ok(Message::Ready { version: text(p)? }),
            FrameType::TpmCommand => match p.split_first() {
                Some((&locality, command)) if locality <= 4 && !command.is_empty() => {
                    Ok(Message::TpmCommand { locality, command })
                }
                _ => Err(bad),
            },
            FrameType::TpmResponse => Ok(Message::TpmResponse(p)),
            FrameType::StateSaveRequest => match p {
                [1] => Ok(Message::StateSaveRequest(StateKind::Permanent)),
                [2] => Ok(Message::StateSaveRequest(StateKind::Volatile)),
                _ => Err(bad),
            },
            FrameType::StateSaveReply => Ok(Message::StateSaveReply(p)),
            FrameType::StateLoad => Ok(Message::StateLoad(p)),
            FrameType::Log => match p.split_first() {
                Some((&level, rest)) if (1..=5).contains(&level) => Ok(Message::Log {
                    level,
                    text: text(rest)?,
                }),
                _ => Err(bad),
            },
            FrameType::Start => StartParams::parse(p).map(Message::Start).ok_or(bad),
            FrameType::Signal => match p.split_first() {
                Some((1, [])) => Ok(Message::Signal {
                    kind: SignalKind::HashStart,
                    data: &[],
                }),
                Some((2, data)) => Ok(Message::Signal {
                    kind: SignalKind::HashData,
                    data,
                }),
                Some((3, [])) => Ok(Message::Signal {
                    kind: SignalKind::HashEnd,
                    data: &[],
                }),
                _ => Err(bad),
            },
            FrameType::Error => match p.split_first_chunk::<2>() {
                Some((code, rest)) => Ok(Message::Error {
                    code: ErrorCode::from_u16(u16::from_be_bytes(*code)),
                    text: text(rest)?,
                }),
                None => Err(bad),
            },
        }
    }

    /// The frame type this message travels in.
    pub const fn frame_type(&self) -> FrameType {
        match self {
            Message::Hello => FrameType::Hello,
            Message::Ready { .. } => FrameType::Ready,
            Message::TpmCommand { .. } => FrameType::TpmCommand,
            Message::TpmResponse(_) => FrameType::TpmResponse,
            Message::Cancel => FrameType::Cancel,
            Message::StateSaveRequest(_) => FrameType::StateSaveRequest,
            Message::StateSaveReply(_) => FrameType::StateSaveReply,
            Message::StateLoad(_) => FrameType::StateLoad,
            Message::Log { .. } => FrameType::Log,
            Message::Shutdown => FrameType::Shutdown,
            Message::Error { .. } => FrameType::Error,
            Message::Start(_) => FrameType::Start,
            Message::Signal { .. } => FrameType::Signal,
        }
    }

    /// Appends this message as one frame with `sequence` to `out`. Fails (and
    /// appends nothing) when the payload is over [`MAX_PAYLOAD`].
    pub fn encode(&self, sequence: u32, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let t = self.frame_type();
        match self {
            Message::Hello | Message::Cancel | Message::Shutdown => encode(t, sequence, &[], out),
            Message::Ready { version } => encode(t, sequence, &[version.as_bytes()], out),
            Message::TpmCommand { locality, command } => {
                encode(t, sequence, &[&[*locality], command], out)
            }
            Message::TpmResponse(b) | Message::StateSaveReply(b) | Message::StateLoad(b) => {
                encode(t, sequence, &[b], out)
            }
            Message::StateSaveRequest(kind) => encode(t, sequence, &[&[*kind as u8]], out),
            Message::Log { level, text } => encode(t, sequence, &[&[*level], text.as_bytes()], out),
            Message::Error { code, text } => encode(
                t,
                sequence,
                &[&(*code as u16).to_be_bytes(), text.as_bytes()],
                out,
            ),
            Message::Signal { kind, data } => encode(t, sequence, &[&[*kind as u8], data], out),
            Message::Start(s) => encode(
                t,
                sequence,
                &[
                    &START_VERSION.to_be_bytes(),
                    &s.instance,
                    s.state_key,
                    s.entropy,
                    &s.wall_clock_ms.to_be_bytes(),
                    &s.min_sequence.to_be_bytes(),
                ],
                out,
            ),
        }
    }
}

/// Reassembles frames from a byte stream that arrives in pieces of any size.
///
/// Holds at most [`Receiver::LIMIT`] bytes. After a framing error everything
/// buffered is dropped: the stream has no resynchronisation marker, so the peer
/// learns of the error (an Error frame) and starts again with a fresh frame.
#[derive(Clone, Debug, Default)]
pub struct Receiver {
    buf: Vec<u8>,
}

impl Receiver {
    /// Most bytes buffered at once: the largest state frame and the largest
    /// other frame.
    pub const LIMIT: usize = MAX_STATE_FRAME + MAX_FRAME;

    /// An empty receiver.
    pub fn new() -> Receiver {
        Receiver {
            buf: Vec::with_capacity(MAX_FRAME),
        }
    }

    /// Bytes buffered and not yet taken out as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops everything buffered (for example a partial frame whose rest never
    /// came).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// How many more bytes [`Receiver::push`] accepts now.
    pub fn room(&self) -> usize {
        Self::LIMIT.saturating_sub(self.buf.len())
    }

    /// Appends received bytes, as many as there is room for; returns how many.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.room());
        self.buf
            .extend_from_slice(bytes.get(..n).unwrap_or_default());
        n
    }

    /// Hands every complete frame to `on_frame`, in order, and removes it. On a
    /// framing error, drops everything buffered, hands the error to `on_frame`
    /// and stops. Incomplete data stays buffered.
    pub fn drain(&mut self, mut on_frame: impl FnMut(Result<Frame<'_>, FrameError>)) {
        let mut start = 0;
        loop {
            let rest = self.buf.get(start..).unwrap_or_default();
            match decode(rest) {
                Ok((frame, used)) => {
                    on_frame(Ok(frame));
                    start = start.saturating_add(used);
                }
                Err(e) if e.is_incomplete() => break,
                Err(e) => {
                    self.buf.clear();
                    on_frame(Err(e));
                    return;
                }
            }
        }
        self.buf.drain(..start.min(self.buf.len()));
    }
}

#[cfg(test)]
mod tests;
