//! `vtpm-proto`: the wire formats shared by the vTPM stub image, the root manager
//! and the host daemon.
//!
//! `no_std` + `alloc`, no I/O, `#![forbid(unsafe_code)]`. Every decoder takes
//! untrusted bytes and either returns a value or a precise error; nothing reachable
//! from input panics.
//!
//! # State-blob envelope (format version 1)
//!
//! Engine state leaves the engine only inside an [`envelope`]. All integers are
//! big-endian (the TPM's own byte order).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"VTPMSTAT"` |
//! | 8 | 2 | format version, `1` |
//! | 10 | 1 | kind: `1` permanent state, `2` volatile state |
//! | 11 | 1 | protection: `0` integrity digest only, `1` AES-256-GCM (sealed) |
//! | 12 | 16 | instance id (a UUID, the VM the state belongs to) |
//! | 28 | 8 | sequence number, increased by one at every save |
//! | 36 | 4 | body length `n` |
//! | 40 | `n` | body (protection 0: the engine's serialized state; protection 1: below) |
//! | 40+`n` | 32 or 16 | trailer: protection 0: SHA-256 over bytes `0 .. 40+n` (header and body); protection 1: the 16-byte AES-GCM tag |
//!
//! Protection `0` detects accidental corruption (torn writes, bit rot, truncation);
//! it is not a secret-keyed MAC and gives no confidentiality: the process backend
//! keeps state on a host file system it trusts.
//!
//! Protection `1` (sealed state, what the stub hands out) is AES-256-GCM under the
//! instance's 32-byte state key:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 40 | 12 | nonce (96 random bits from the sealer's entropy, so it does not repeat under a key for far more than the 2^32 seals GCM allows with random nonces) |
//! | 52 | `n`-12 | ciphertext of the engine's serialized state |
//! | 40+`n` | 16 | GCM tag |
//!
//! The 40 header bytes (with kind, instance and sequence) are the associated data,
//! so none of them can be changed either. The body length `n` counts nonce and
//! ciphertext. [`envelope::seal`] writes it, [`envelope::open`] authenticates and
//! decrypts, [`envelope::decode_sealed`] checks only the structure (for holders
//! without the key). [`decode`] accepts only protection 0 and
//! [`decode_sealed`] only protection 1
//! ([`EnvelopeError::UnsupportedProtection`] otherwise).
//!
//! Decoding checks, in order: magic, header length, version, kind, protection,
//! total length against the body length, digest (or tag). A blob passes only if
//! every check does, so any single changed bit is refused.
//!
//! Compatibility: a new layout gets a new format version; decoders refuse versions
//! they do not know ([`EnvelopeError::UnsupportedVersion`]).
//!
//! # Channel frames (protocol version 1)
//!
//! Host and stub talk over one byte stream (a virtio-console port) in [`frame`]s.
//! The frames do not depend on the transport. All integers are big-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | magic `b"VF"` |
//! | 2 | 1 | protocol version, `1` |
//! | 3 | 1 | type (below) |
//! | 4 | 4 | sequence: a reply carries the sequence of its request |
//! | 8 | 4 | payload length `n`, at most [`frame::MAX_PAYLOAD`] (8 KiB + 64), for StateSaveReply and StateLoad [`frame::MAX_STATE_PAYLOAD`] (64 KiB) |
//! | 12 | `n` | payload |
//!
//! | type | name | direction | payload |
//! |---|---|---|---|
//! | 1 | Hello | host -> stub | empty; answered by Ready |
//! | 2 | Ready | stub -> host | the stub's version (UTF-8); also sent once at boot |
//! | 3 | TpmCommand | host -> stub | locality (0..=4), then the TPM command |
//! | 4 | TpmResponse | stub -> host | the TPM response |
//! | 5 | Cancel | host -> stub | empty; no reply |
//! | 6 | StateSaveRequest | host -> stub | kind: `1` permanent, `2` volatile |
//! | 7 | StateSaveReply | stub -> host | the state |
//! | 8 | StateLoad | host -> stub | the state |
//! | 9 | Log | stub -> host | level (1 error .. 5 trace), then text (UTF-8) |
//! | 10 | Shutdown | host -> stub | empty; no reply, the stub stops |
//! | 11 | Error | either | code (u16, [`frame::ErrorCode`]), then text (UTF-8) |
//! | 12 | Start | host -> stub | start-up parameters (below); answered by Ready |
//! | 13 | Signal | either | kind (`1` _TPM_Hash_Start, `2` _TPM_Hash_Data followed by its bytes, `3` _TPM_Hash_End); the stub acknowledges with the same kind and no data |
//!
//! Start payload ([`frame::StartParams`], 98 bytes): layout version (u16, `1`),
//! instance id (16), state key (32, AES-256-GCM), host entropy (32, mixed into
//! the stub's own), host wall clock (u64, ms since the Unix epoch), lowest
//! acceptable state sequence number (u64).
//!
//! Sealed state (the VM backend). A stub serves an ephemeral TPM (manufactured
//! at the first command, never saved) until it gets Start. After Start the host
//! sends StateLoad with a protection-1 permanent envelope, or an empty payload to
//! manufacture a new TPM (its state sequence is then one above the lowest
//! acceptable); the stub answers StateSaveReply with the sealed state it now runs
//! (frame sequence of the StateLoad), or an Error frame when the blob does
//! not authenticate, belongs to another instance or is older than the lowest
//! acceptable sequence. After every command that changed permanent state the stub
//! sends StateSaveReply with the new sealed state (sequence of the command, state
//! sequence one higher) **before** the TpmResponse, so the host can make it durable
//! before it forwards the response. StateSaveRequest(permanent) is answered with
//! the current sealed state, StateSaveRequest(volatile) with the sealed volatile
//! state (same state sequence as the permanent state it belongs to). A StateLoad
//! of sealed volatile state into a running TPM (same instance, state sequence not
//! above the running one) is answered by Ready. Only protection-1 state ever leaves the stub.
//!
//! The decoder checks the header byte by byte as it arrives (magic, version, type,
//! then the length limit), so a receiver refuses garbage at once instead of
//! waiting for a length that never comes; after an error the receiver drops what
//! it has buffered and answers an Error frame with sequence 0
//! ([`frame::Receiver`] does the reassembly). A sender writes each frame in one
//! go: the stub drops a started frame whose next byte does not come within a
//! second, with the same Error. A well-formed frame that is refused
//! gets an Error frame with its own sequence. A new layout gets a new protocol
//! version.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
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

extern crate alloc;

pub mod envelope;
pub mod frame;
pub mod instance;

pub use envelope::{
    decode, decode_sealed, encode, open, seal, Envelope, EnvelopeError, Header, Kind, Opened,
    Protection, DIGEST_LEN, FORMAT_VERSION, HEADER_LEN, KEY_LEN, MAGIC, NONCE_LEN, TAG_LEN,
};
pub use instance::{InstanceId, ParseInstanceIdError};
