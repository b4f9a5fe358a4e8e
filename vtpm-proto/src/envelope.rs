//! The state-blob envelope (format version 1): the layout is in the crate docs.
//!
//! [`encode`] wraps a body; [`decode`] checks every field of an untrusted blob and
//! returns a borrowed [`Envelope`] or the first [`EnvelopeError`] found.
//!
//! Sealed state (protection `1`): [`seal`] encrypts and authenticates a body
//! under a 32-byte state key, [`open`] authenticates and decrypts it, and
//! [`decode_sealed`] checks only the structure of a sealed blob (what a holder
//! without the key, such as the host, can check).

use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::instance::InstanceId;

/// The eight bytes every envelope starts with.
pub const MAGIC: [u8; 8] = *b"VTPMSTAT";

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// Size of the fixed header (magic through body length).
pub const HEADER_LEN: usize = 40;

/// Size of the protection-0 trailer (a SHA-256 digest).
pub const DIGEST_LEN: usize = 32;

/// Size of the protection-1 nonce at the start of the body.
pub const NONCE_LEN: usize = 12;

/// Size of the protection-1 trailer (the AES-GCM tag).
pub const TAG_LEN: usize = 16;

/// Size of a state key (AES-256).
pub const KEY_LEN: usize = 32;

/// Offsets of the header fields.
mod field {
    use core::ops::Range;
    pub const VERSION: Range<usize> = 8..10;
    pub const KIND: usize = 10;
    pub const PROTECTION: usize = 11;
    pub const INSTANCE: Range<usize> = 12..28;
    pub const SEQUENCE: Range<usize> = 28..36;
    pub const BODY_LEN: Range<usize> = 36..40;
}

/// Which part of the engine state the body holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Permanent state (seeds, hierarchy auth, NV, clock...): survives power loss.
    Permanent,
    /// Volatile state (PCRs, sessions...): for Shutdown(STATE) and live migration.
    Volatile,
}

impl Kind {
    /// The kind byte.
    pub const fn to_byte(self) -> u8 {
        match self {
            Kind::Permanent => 1,
            Kind::Volatile => 2,
        }
    }

    /// The kind with this byte.
    pub const fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Permanent),
            2 => Some(Kind::Volatile),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Permanent => "permanent",
            Kind::Volatile => "volatile",
        })
    }
}

/// How the body is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protection {
    /// `0`: plaintext body, SHA-256 integrity digest over header and body.
    Digest,
    /// `1`: AES-256-GCM sealed body: [`seal`] and [`open`].
    Aes256Gcm,
}

impl Protection {
    /// The protection byte.
    pub const fn to_byte(self) -> u8 {
        match self {
            Protection::Digest => 0,
            Protection::Aes256Gcm => 1,
        }
    }

    /// The protection with this byte.
    pub const fn from_byte(b: u8) -> Option<Protection> {
        match b {
            0 => Some(Protection::Digest),
            1 => Some(Protection::Aes256Gcm),
            _ => None,
        }
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protection::Digest => "integrity digest (SHA-256), not encrypted",
            Protection::Aes256Gcm => "AES-256-GCM",
        })
    }
}

/// What an envelope says about its body, as the writer chooses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Permanent or volatile state.
    pub kind: Kind,
    /// The instance (VM UUID) the state belongs to.
    pub instance: InstanceId,
    /// Save counter: each save of an instance's state uses a larger number.
    pub sequence: u64,
}

/// A decoded, verified envelope borrowing its body from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The format version read (always [`FORMAT_VERSION`] for a decoded blob).
    pub version: u16,
    /// The protection read (always [`Protection::Digest`] in this version).
    pub protection: Protection,
    /// Kind, instance and sequence.
    pub header: Header,
    /// The body bytes.
    pub body: &'a [u8],
}

/// Why a blob is not a valid envelope (or a body cannot be wrapped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The first eight bytes are not [`MAGIC`]: not a vTPM state blob.
    BadMagic,
    /// The blob ends before the header or the declared body and trailer do.
    Truncated {
        /// Bytes the envelope needs.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// A format version this decoder does not know.
    UnsupportedVersion(u16),
    /// The kind byte is neither permanent (1) nor volatile (2).
    UnknownKind(u8),
    /// The protection byte is not a defined value.
    UnknownProtection(u8),
    /// A defined protection this version does not implement (AES-256-GCM).
    UnsupportedProtection(Protection),
    /// More bytes than header, declared body and trailer add up to.
    LengthMismatch {
        /// Bytes the header declares (header + body + trailer).
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// The SHA-256 trailer does not match header and body: the blob was changed.
    DigestMismatch,
    /// A sealed blob does not authenticate under the key: it was changed, or it
    /// was sealed under another key.
    AuthenticationFailed,
    /// The body is longer than a u32 length can describe (encoding only).
    BodyTooLarge(usize),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::BadMagic => {
                f.write_str("not a vTPM state blob (magic \"VTPMSTAT\" missing)")
            }
            EnvelopeError::Truncated { needed, got } => {
                write!(f, "truncated: {got} bytes, the envelope needs {needed}")
            }
            EnvelopeError::UnsupportedVersion(v) => write!(
                f,
                "envelope format version {v} is not supported (this build reads version {FORMAT_VERSION})"
            ),
            EnvelopeError::UnknownKind(k) => write!(f, "unknown state kind {k}"),
            EnvelopeError::UnknownProtection(p) => write!(f, "unknown protection value {p}"),
            EnvelopeError::UnsupportedProtection(p) => write!(
                f,
                "protection {} ({p}) is not expected here (sealed state needs its key; plain state is not accepted where sealed state is)",
                p.to_byte()
            ),
            EnvelopeError::LengthMismatch { expected, actual } => write!(
                f,
                "length mismatch: the header declares {expected} bytes in all, the blob has {actual}"
            ),
            EnvelopeError::DigestMismatch => {
                f.write_str("integrity digest mismatch (the blob is corrupt or was modified)")
            }
            EnvelopeError::AuthenticationFailed => f.write_str(
                "sealed state does not authenticate (it was modified, or sealed under another key)",
            ),
            EnvelopeError::BodyTooLarge(n) => {
                write!(f, "body of {n} bytes is too large for an envelope")
            }
        }
    }
}

impl core::error::Error for EnvelopeError {}

fn digest(header_and_body: &[u8]) -> [u8; DIGEST_LEN] {
    Sha256::digest(header_and_body).into()
}

/// Wraps `body` in a protection-0 envelope (header, body, SHA-256 trailer).
pub fn encode(header: &Header, body: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let body_len =
        u32::try_from(body.len()).map_err(|_| EnvelopeError::BodyTooLarge(body.len()))?;
    let total = HEADER_LEN
        .checked_add(body.len())
        .and_then(|n| n.checked_add(DIGEST_LEN))
        .ok_or(EnvelopeError::BodyTooLarge(body.len()))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(header.kind.to_byte());
    out.push(Protection::Digest.to_byte());
    out.extend_from_slice(header.instance.as_bytes());
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&body_len.to_be_bytes());
    out.extend_from_slice(body);
    let d = digest(&out);
    out.extend_from_slice(&d);
    Ok(out)
}

fn array<const N: usize>(blob: &[u8], range: core::ops::Range<usize>) -> Option<[u8; N]> {
    blob.get(range).and_then(|s| <[u8; N]>::try_from(s).ok())
}

/// Decodes and verifies an untrusted protection-0 blob.
pub fn decode(blob: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    let (env, covered, trailer) = parse(blob, Protection::Digest)?;
    if digest(covered).as_slice() != trailer {
        return Err(EnvelopeError::DigestMismatch);
    }
    Ok(env)
}

/// Checks the structure of an untrusted protection-1 blob (magic, header,
/// lengths) without the key; the body returned is `nonce || ciphertext`. This
/// does **not** authenticate anything: only [`open`] does.
pub fn decode_sealed(blob: &[u8]) -> Result<Envelope<'_>, EnvelopeError> {
    let (env, _, _) = parse(blob, Protection::Aes256Gcm)?;
    if env.body.len() < NONCE_LEN {
        return Err(EnvelopeError::Truncated {
            needed: HEADER_LEN.saturating_add(NONCE_LEN).saturating_add(TAG_LEN),
            got: blob.len(),
        });
    }
    Ok(env)
}

/// Encrypts and authenticates `plaintext` into a protection-1 envelope under
/// `key`. `nonce` must never have been used with `key` before (the stub takes
/// it from its entropy source).
pub fn seal(
    header: &Header,
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let too_large = EnvelopeError::BodyTooLarge(plaintext.len());
    let body_len = plaintext.len().checked_add(NONCE_LEN).ok_or(too_large)?;
    let body_len32 = u32::try_from(body_len).map_err(|_| too_large)?;
    let total = HEADER_LEN
        .checked_add(body_len)
        .and_then(|n| n.checked_add(TAG_LEN))
        .ok_or(too_large)?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(header.kind.to_byte());
    out.push(Protection::Aes256Gcm.to_byte());
    out.extend_from_slice(header.instance.as_bytes());
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&body_len32.to_be_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let (aad, rest) = out.split_at_mut(HEADER_LEN);
    let buffer = rest.get_mut(NONCE_LEN..).unwrap_or_default();
    let cipher = Aes256Gcm::new(key.into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buffer.into())
        .map_err(|_| too_large)?;
    out.extend_from_slice(tag.as_slice());
    Ok(out)
}

/// An authenticated, decrypted protection-1 envelope.
pub struct Opened {
    /// Kind, instance and sequence (authenticated).
    pub header: Header,
    /// The body (secret; zeroized on drop).
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("header", &self.header)
            .field("plaintext", &"[redacted]")
            .finish()
    }
}

/// Authenticates and decrypts an untrusted protection-1 blob under `key`.
pub fn open(blob: &[u8], key: &[u8; KEY_LEN]) -> Result<Opened, EnvelopeError> {
    let env = decode_sealed(blob)?;
    let (nonce, ciphertext) = env
        .body
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(EnvelopeError::AuthenticationFailed)?;
    let aad = blob.get(..HEADER_LEN).unwrap_or_default();
    let tag_bytes = blob
        .get(blob.len().saturating_sub(TAG_LEN)..)
        .and_then(|t| <[u8; TAG_LEN]>::try_from(t).ok())
        .ok_or(EnvelopeError::AuthenticationFailed)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt_inout_detached(
            &Nonce::from(*nonce),
            aad,
            plaintext.as_mut_slice().into(),
            &Tag::from(tag_bytes),
        )
        .map_err(|_| EnvelopeError::AuthenticationFailed)?;
    Ok(Opened {
        header: env.header,
        plaintext,
    })
}

/// Checks magic, header (with the protection the caller expects) and lengths;
/// returns the envelope with the bytes the trailer covers and the trailer.
fn parse(blob: &[u8], expected: Protection) -> Result<(Envelope<'_>, &[u8], &[u8]), EnvelopeError> {
    // Magic first, over whatever prefix is present, so that a foreign file is
    // called foreign even when it is short.
    let prefix_len = blob.len().min(MAGIC.len());
    if blob.get(..prefix_len) != MAGIC.get(..prefix_len) {
        return Err(EnvelopeError::BadMagic);
    }
    let truncated = |needed: usize| EnvelopeError::Truncated {
        needed,
        got: blob.len(),
    };
    if blob.len() < HEADER_LEN {
        return Err(truncated(HEADER_LEN));
    }
    let version = u16::from_be_bytes(array(blob, field::VERSION).ok_or(truncated(HEADER_LEN))?);
    if version != FORMAT_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(version));
    }
    let kind_byte = *blob.get(field::KIND).ok_or(truncated(HEADER_LEN))?;
    let kind = Kind::from_byte(kind_byte).ok_or(EnvelopeError::UnknownKind(kind_byte))?;
    let prot_byte = *blob.get(field::PROTECTION).ok_or(truncated(HEADER_LEN))?;
    let protection =
        Protection::from_byte(prot_byte).ok_or(EnvelopeError::UnknownProtection(prot_byte))?;
    if protection != expected {
        return Err(EnvelopeError::UnsupportedProtection(protection));
    }
    let trailer_len = match protection {
        Protection::Digest => DIGEST_LEN,
        Protection::Aes256Gcm => TAG_LEN,
    };
    let instance = InstanceId(array(blob, field::INSTANCE).ok_or(truncated(HEADER_LEN))?);
    let sequence = u64::from_be_bytes(array(blob, field::SEQUENCE).ok_or(truncated(HEADER_LEN))?);
    let body_len = u32::from_be_bytes(array(blob, field::BODY_LEN).ok_or(truncated(HEADER_LEN))?);

    let body_len = usize::try_from(body_len).map_err(|_| truncated(usize::MAX))?;
    let body_end = HEADER_LEN
        .checked_add(body_len)
        .ok_or(truncated(usize::MAX))?;
    let total = body_end
        .checked_add(trailer_len)
        .ok_or(truncated(usize::MAX))?;
    if blob.len() < total {
        return Err(truncated(total));
    }
    if blob.len() > total {
        return Err(EnvelopeError::LengthMismatch {
            expected: total,
            actual: blob.len(),
        });
    }
    let covered = blob.get(..body_end).ok_or(truncated(total))?;
    let trailer = blob.get(body_end..total).ok_or(truncated(total))?;
    let body = blob.get(HEADER_LEN..body_end).ok_or(truncated(total))?;
    let env = Envelope {
        version,
        protection,
        header: Header {
            kind,
            instance,
            sequence,
        },
        body,
    };
    Ok((env, covered, trailer))
}

#[cfg(test)]
mod tests;
