//! TPM2B_* — size-prefixed buffers (Part 2, clause 10.4).
//!
//! [`Tpm2b<MAX>`] owns at most `MAX` bytes; unmarshal refuses a larger size with
//! `TPM_RC_SIZE` before reading the payload. The bytes are zeroized on drop, since
//! many TPM2Bs (TPM2B_AUTH, TPM2B_SENSITIVE_DATA) carry secrets.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::hash::MAX_DIGEST_SIZE;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};

/// A TPM2B with at most `MAX` bytes.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Tpm2b<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> core::fmt::Debug for Tpm2b<MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Tpm2b<{}>({} bytes)", MAX, self.0.len())
    }
}

impl<const MAX: usize> Tpm2b<MAX> {
    /// Largest size this buffer may hold.
    pub const MAX: usize = MAX;

    /// An empty buffer.
    pub const fn empty() -> Self {
        Tpm2b(Vec::new())
    }

    /// A buffer holding `b`; `TPM_RC_SIZE` if it is longer than `MAX`.
    pub fn new(b: &[u8]) -> TpmResult<Self> {
        if b.len() > MAX {
            return Err(TpmRc::SIZE);
        }
        Ok(Tpm2b(b.to_vec()))
    }

    /// Takes ownership of `v`; `TPM_RC_SIZE` if it is longer than `MAX`.
    pub fn from_vec(v: Vec<u8>) -> TpmResult<Self> {
        if v.len() > MAX {
            return Err(TpmRc::SIZE);
        }
        Ok(Tpm2b(v))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const MAX: usize> Marshal for Tpm2b<MAX> {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0)
    }
}

impl<const MAX: usize> Unmarshal for Tpm2b<MAX> {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let n = usize::from(r.u16()?);
        if n > MAX {
            return Err(TpmRc::SIZE);
        }
        Ok(Tpm2b(r.bytes(n)?.to_vec()))
    }
}

/// Largest data buffer in a command (MAX_DIGEST_BUFFER / TPM2B_MAX_BUFFER).
pub const MAX_BUFFER: usize = 1024;

/// TPM2B_DIGEST — Part 2, 10.4.2: up to the largest digest.
pub type Tpm2bDigest = Tpm2b<MAX_DIGEST_SIZE>;
/// TPM2B_NONCE — Part 2, 10.4.4.
pub type Tpm2bNonce = Tpm2bDigest;
/// TPM2B_AUTH — Part 2, 10.4.5.
pub type Tpm2bAuth = Tpm2bDigest;
/// TPM2B_DATA — Part 2, 10.4.3 (sizeof TPMT_HA).
pub type Tpm2bData = Tpm2b<{ MAX_DIGEST_SIZE + 2 }>;
/// TPM2B_MAX_BUFFER — Part 2, 10.4.8.
pub type Tpm2bMaxBuffer = Tpm2b<MAX_BUFFER>;
/// TPM2B_EVENT — Part 2, 10.4.7.
pub type Tpm2bEvent = Tpm2b<1024>;
/// TPM2B_SENSITIVE_DATA — Part 2, 11.1.14 (128 bytes in this profile).
pub type Tpm2bSensitiveData = Tpm2b<128>;
/// TPM2B_ENCRYPTED_SECRET — Part 2, 11.4.33 (sizeof TPMU_ENCRYPTED_SECRET).
pub type Tpm2bEncryptedSecret = Tpm2b<512>;
/// TPM2B_ID_OBJECT — Part 2, 10.6.3: TPMS_ID_OBJECT (integrityHMAC, a
/// TPM2B_DIGEST, then encIdentity, an encrypted TPM2B_DIGEST).
pub type Tpm2bIdObject = Tpm2b<{ 2 * (MAX_DIGEST_SIZE + 2) }>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_truncated_and_oversize() {
        let d = Tpm2bDigest::new(&[1, 2, 3]).unwrap();
        let b = d.to_bytes();
        assert_eq!(b, [0, 3, 1, 2, 3]);
        assert_eq!(Tpm2bDigest::from_bytes(&b), Ok(d));
        assert_eq!(Tpm2bDigest::from_bytes(&b[..4]), Err(TpmRc::INSUFFICIENT));
        let mut big = alloc::vec![0, 65];
        big.extend_from_slice(&[0u8; 65]);
        assert_eq!(Tpm2bDigest::from_bytes(&big), Err(TpmRc::SIZE));
        assert_eq!(Tpm2bDigest::new(&[0u8; 65]), Err(TpmRc::SIZE));
    }
}
