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
//! | 11 | 1 | protection: `0` integrity digest only, `1` AES-256-GCM (reserved) |
//! | 12 | 16 | instance id (a UUID, the VM the state belongs to) |
//! | 28 | 8 | sequence number, increased by one at every save |
//! | 36 | 4 | body length `n` |
//! | 40 | `n` | body (the engine's serialized state) |
//! | 40+`n` | 32 | trailer: SHA-256 over bytes `0 .. 40+n` (header and body) |
//!
//! Protection `0` detects accidental corruption (torn writes, bit rot, truncation);
//! it is not a secret-keyed MAC and gives no confidentiality: the process backend
//! keeps state on a host file system it trusts. Protection `1` is reserved for
//! sealed state (AES-256-GCM over the body with the header as associated data and
//! a 16-byte tag as trailer); this version refuses to decode it
//! ([`EnvelopeError::UnsupportedProtection`]) rather than misread it.
//!
//! Decoding checks, in order: magic, header length, version, kind, protection,
//! total length against the body length, digest. A blob passes only if every check
//! does, so any single changed bit is refused.
//!
//! Compatibility: a new layout gets a new format version; decoders refuse versions
//! they do not know ([`EnvelopeError::UnsupportedVersion`]).
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
pub mod instance;

pub use envelope::{
    decode, encode, Envelope, EnvelopeError, Header, Kind, Protection, DIGEST_LEN, FORMAT_VERSION,
    HEADER_LEN, MAGIC,
};
pub use instance::{InstanceId, ParseInstanceIdError};
