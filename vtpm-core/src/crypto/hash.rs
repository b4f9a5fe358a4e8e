//! Hash algorithms the engine implements (SHA-1, SHA-256, SHA-384, SHA-512) and
//! TPMI_ALG_HASH (Part 2, 9.27).

use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha1::Digest;

use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;

/// Largest digest of any implemented hash (SHA-512).
pub const MAX_DIGEST_SIZE: usize = 64;

/// A hash algorithm this TPM implements (TPMI_ALG_HASH without TPM_ALG_NULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum HashAlg {
    /// TPM_ALG_SHA1
    Sha1,
    /// TPM_ALG_SHA256
    Sha256,
    /// TPM_ALG_SHA384
    Sha384,
    /// TPM_ALG_SHA512
    Sha512,
}

impl HashAlg {
    /// Every implemented hash, in algorithm-id order.
    pub const ALL: [HashAlg; 4] = [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    /// The TPM_ALG_ID.
    pub const fn alg_id(self) -> TpmAlgId {
        match self {
            HashAlg::Sha1 => TpmAlgId::SHA1,
            HashAlg::Sha256 => TpmAlgId::SHA256,
            HashAlg::Sha384 => TpmAlgId::SHA384,
            HashAlg::Sha512 => TpmAlgId::SHA512,
        }
    }

    /// The implemented hash with this id.
    pub fn from_alg_id(id: TpmAlgId) -> Option<HashAlg> {
        HashAlg::ALL.into_iter().find(|h| h.alg_id() == id)
    }

    /// Digest size in octets.
    pub const fn digest_size(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Block size in octets (for HMAC).
    pub const fn block_size(self) -> usize {
        match self {
            HashAlg::Sha1 | HashAlg::Sha256 => 64,
            HashAlg::Sha384 | HashAlg::Sha512 => 128,
        }
    }

    /// Hash of the concatenation of `parts`.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut h = Hasher::new(self);
        for p in parts {
            h.update(p);
        }
        h.finish()
    }

    /// Hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// HMAC over the concatenation of `parts` with `key`.
    pub fn hmac_parts(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        macro_rules! run {
            ($d:ty) => {{
                // HMAC accepts keys of any length, so this cannot fail.
                match <hmac::Hmac<$d> as KeyInit>::new_from_slice(key) {
                    Ok(mut m) => {
                        for p in parts {
                            m.update(p);
                        }
                        m.finalize().into_bytes().to_vec()
                    }
                    Err(_) => Vec::new(),
                }
            }};
        }
        match self {
            HashAlg::Sha1 => run!(sha1::Sha1),
            HashAlg::Sha256 => run!(sha2::Sha256),
            HashAlg::Sha384 => run!(sha2::Sha384),
            HashAlg::Sha512 => run!(sha2::Sha512),
        }
    }
}

/// TPMI_ALG_HASH with `+TPM_ALG_NULL` allowed.
impl Unmarshal for Option<HashAlg> {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let id = TpmAlgId::unmarshal(r)?;
        if id == TpmAlgId::NULL {
            return Ok(None);
        }
        HashAlg::from_alg_id(id).map(Some).ok_or(TpmRc::HASH)
    }
}

/// TPMI_ALG_HASH (no NULL): unknown or NULL ids are `TPM_RC_HASH`.
impl Unmarshal for HashAlg {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        HashAlg::from_alg_id(TpmAlgId::unmarshal(r)?).ok_or(TpmRc::HASH)
    }
}

impl Marshal for HashAlg {
    fn marshal(&self, w: &mut Writer) {
        self.alg_id().marshal(w)
    }
}

/// An incremental hash of any implemented algorithm.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-1 state.
    Sha1(sha1::Sha1),
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-384 state.
    Sha384(sha2::Sha384),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hash state.
    pub fn new(alg: HashAlg) -> Hasher {
        match alg {
            HashAlg::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            HashAlg::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// The algorithm.
    pub fn alg(&self) -> HashAlg {
        match self {
            Hasher::Sha1(_) => HashAlg::Sha1,
            Hasher::Sha256(_) => HashAlg::Sha256,
            Hasher::Sha384(_) => HashAlg::Sha384,
            Hasher::Sha512(_) => HashAlg::Sha512,
        }
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // FIPS 180 "abc" vectors (leading bytes).
        assert_eq!(
            &HashAlg::Sha1.digest(b"abc")[..4],
            &[0xa9, 0x99, 0x3e, 0x36]
        );
        assert_eq!(
            &HashAlg::Sha256.digest(b"abc")[..4],
            &[0xba, 0x78, 0x16, 0xbf]
        );
        assert_eq!(
            &HashAlg::Sha384.digest(b"abc")[..4],
            &[0xcb, 0x00, 0x75, 0x3f]
        );
        assert_eq!(
            &HashAlg::Sha512.digest(b"abc")[..4],
            &[0xdd, 0xaf, 0x35, 0xa1]
        );
        for h in HashAlg::ALL {
            assert_eq!(h.digest(b"").len(), h.digest_size());
        }
        // RFC 4231 test case 2
        let mac = HashAlg::Sha256.hmac_parts(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(&mac[..4], &[0x5b, 0xdc, 0xc1, 0x46]);
    }

    #[test]
    fn alg_hash_selector() {
        assert_eq!(HashAlg::from_bytes(&[0, 0x0b]), Ok(HashAlg::Sha256));
        assert_eq!(HashAlg::from_bytes(&[0, 0x10]), Err(TpmRc::HASH));
        assert_eq!(Option::<HashAlg>::from_bytes(&[0, 0x10]), Ok(None));
        assert_eq!(Option::<HashAlg>::from_bytes(&[0, 0x12]), Err(TpmRc::HASH));
    }
}
