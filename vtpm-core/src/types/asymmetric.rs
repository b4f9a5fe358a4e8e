//! Part 2 structures of the asymmetric primitive commands (Part 3 clause 14).

use alloc::vec::Vec;

use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::public::{alg_in, hash_in, TpmsEccPoint};

/// Members of TPMI_ALG_RSA_DECRYPT (Part 2, 11.2.4.3): the RSA encryption
/// schemes.
pub const ALG_RSA_DECRYPT: &[TpmAlgId] = &[TpmAlgId::RSAES, TpmAlgId::OAEP];

/// TPMT_RSA_DECRYPT — Part 2, 11.2.4.4, with its scheme a TPMI_ALG_RSA_DECRYPT+
/// (TPM_ALG_NULL allowed): another selector is `TPM_RC_VALUE`, an
/// unimplemented OAEP hash `TPM_RC_HASH`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TpmtRsaDecrypt {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_RSAES (TPMS_ENC_SCHEME_RSAES: no details)
    Rsaes,
    /// TPM_ALG_OAEP with its hash (TPMS_ENC_SCHEME_OAEP)
    Oaep(HashAlg),
}

impl Unmarshal for TpmtRsaDecrypt {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let scheme = alg_in(r, &IMPLEMENTED, ALG_RSA_DECRYPT, true, TpmRc::VALUE)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtRsaDecrypt::Null,
            TpmAlgId::RSAES => TpmtRsaDecrypt::Rsaes,
            TpmAlgId::OAEP => TpmtRsaDecrypt::Oaep(hash_in(r, &IMPLEMENTED)?),
            _ => return Err(TpmRc::VALUE),
        })
    }
}

impl Marshal for TpmtRsaDecrypt {
    fn marshal(&self, w: &mut Writer) {
        match self {
            TpmtRsaDecrypt::Null => TpmAlgId::NULL.marshal(w),
            TpmtRsaDecrypt::Rsaes => TpmAlgId::RSAES.marshal(w),
            TpmtRsaDecrypt::Oaep(h) => {
                TpmAlgId::OAEP.marshal(w);
                h.marshal(w);
            }
        }
    }
}

/// TPM2B_ECC_POINT — Part 2, 11.2.5.3: a TPMS_ECC_POINT with a size. A zero
/// size, or one that does not match the point's encoding, is `TPM_RC_SIZE`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Tpm2bEccPoint(pub TpmsEccPoint);

impl Marshal for Tpm2bEccPoint {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0.to_bytes());
    }
}

impl Unmarshal for Tpm2bEccPoint {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let size = usize::from(r.u16()?);
        if size == 0 {
            return Err(TpmRc::SIZE);
        }
        let mut sub = r.sub(size)?;
        let point = TpmsEccPoint::unmarshal(&mut sub)?;
        sub.finish()?;
        Ok(Tpm2bEccPoint(point))
    }
}

/// TPMS_ALGORITHM_DETAIL_ECC — Part 2, 12.2.3.7: the parameters of an ECC curve.
/// The curve parameters are big-endian octet strings, written as
/// TPM2B_ECC_PARAMETER.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmsAlgorithmDetailEcc {
    /// curveID (TPM_ECC_CURVE)
    pub curve_id: u16,
    /// keySize in bits
    pub key_size: u16,
    /// kdf (TPMT_KDF_SCHEME): the scheme selector; only TPM_ALG_NULL is used here
    pub kdf: TpmAlgId,
    /// sign (TPMT_ECC_SCHEME): the scheme selector; only TPM_ALG_NULL is used here
    pub sign: TpmAlgId,
    /// Field prime p
    pub p: Vec<u8>,
    /// Coefficient a
    pub a: Vec<u8>,
    /// Coefficient b
    pub b: Vec<u8>,
    /// Base point x coordinate gX
    pub g_x: Vec<u8>,
    /// Base point y coordinate gY
    pub g_y: Vec<u8>,
    /// Order n of the base point
    pub n: Vec<u8>,
    /// Cofactor h
    pub h: Vec<u8>,
}

impl Marshal for TpmsAlgorithmDetailEcc {
    fn marshal(&self, w: &mut Writer) {
        w.u16(self.curve_id);
        w.u16(self.key_size);
        // A NULL scheme has no details (TPMU_KDF_SCHEME / TPMU_ASYM_SCHEME empty).
        self.kdf.marshal(w);
        self.sign.marshal(w);
        for v in [
            &self.p, &self.a, &self.b, &self.g_x, &self.g_y, &self.n, &self.h,
        ] {
            w.tpm2b(v);
        }
    }
}
