//! Signature types — Part 2, 11.2.1 (signature schemes), 11.3 (TPMT_SIGNATURE)
//! and 10.7.3 (TPMT_TK_VERIFIED).

use crate::crypto::algorithms::AlgorithmTable;
use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::{TpmAlgId, TpmRh, TpmSt};
use crate::types::public::{alg_in, hash_in, Tpm2bEccParameter, Tpm2bPublicKeyRsa};
use crate::types::sized::Tpm2bDigest;
use crate::types::structures::TpmtHa;

/// Members of TPMI_ALG_SIG_SCHEME (Part 2, 11.1.4).
pub const ALG_SIG_SCHEME: &[TpmAlgId] = &[
    TpmAlgId::HMAC,
    TpmAlgId::RSASSA,
    TpmAlgId::RSAPSS,
    TpmAlgId::ECDSA,
    TpmAlgId::ECDAA,
    TpmAlgId::SM2,
    TpmAlgId::ECSCHNORR,
];

/// TPMT_SIG_SCHEME — Part 2, 11.2.1.5.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtSigScheme {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_HMAC
    Hmac(HashAlg),
    /// TPM_ALG_RSASSA
    Rsassa(HashAlg),
    /// TPM_ALG_RSAPSS
    Rsapss(HashAlg),
    /// TPM_ALG_ECDSA
    Ecdsa(HashAlg),
    /// TPM_ALG_ECDAA (hash and commit count)
    Ecdaa(HashAlg, u16),
    /// TPM_ALG_SM2
    Sm2(HashAlg),
    /// TPM_ALG_ECSCHNORR
    Ecschnorr(HashAlg),
}

impl TpmtSigScheme {
    /// Reads the structure (`+TPM_ALG_NULL` when `allow_null`); an unknown or
    /// unimplemented scheme is `TPM_RC_SCHEME`, an unimplemented hash `TPM_RC_HASH`.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_SIG_SCHEME, allow_null, TpmRc::SCHEME)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtSigScheme::Null,
            TpmAlgId::HMAC => TpmtSigScheme::Hmac(hash_in(r, table)?),
            TpmAlgId::RSASSA => TpmtSigScheme::Rsassa(hash_in(r, table)?),
            TpmAlgId::RSAPSS => TpmtSigScheme::Rsapss(hash_in(r, table)?),
            TpmAlgId::ECDSA => TpmtSigScheme::Ecdsa(hash_in(r, table)?),
            TpmAlgId::ECDAA => TpmtSigScheme::Ecdaa(hash_in(r, table)?, r.u16()?),
            TpmAlgId::SM2 => TpmtSigScheme::Sm2(hash_in(r, table)?),
            TpmAlgId::ECSCHNORR => TpmtSigScheme::Ecschnorr(hash_in(r, table)?),
            _ => return Err(TpmRc::SCHEME),
        })
    }

    /// The scheme selector and its hash.
    pub fn parts(&self) -> (TpmAlgId, Option<HashAlg>) {
        match *self {
            TpmtSigScheme::Null => (TpmAlgId::NULL, None),
            TpmtSigScheme::Hmac(h) => (TpmAlgId::HMAC, Some(h)),
            TpmtSigScheme::Rsassa(h) => (TpmAlgId::RSASSA, Some(h)),
            TpmtSigScheme::Rsapss(h) => (TpmAlgId::RSAPSS, Some(h)),
            TpmtSigScheme::Ecdsa(h) => (TpmAlgId::ECDSA, Some(h)),
            TpmtSigScheme::Ecdaa(h, _) => (TpmAlgId::ECDAA, Some(h)),
            TpmtSigScheme::Sm2(h) => (TpmAlgId::SM2, Some(h)),
            TpmtSigScheme::Ecschnorr(h) => (TpmAlgId::ECSCHNORR, Some(h)),
        }
    }
}

impl Marshal for TpmtSigScheme {
    fn marshal(&self, w: &mut Writer) {
        let (scheme, hash) = self.parts();
        scheme.marshal(w);
        if let Some(h) = hash {
            h.marshal(w);
        }
        if let TpmtSigScheme::Ecdaa(_, count) = self {
            w.u16(*count);
        }
    }
}

/// TPMT_SIGNATURE — Part 2, 11.3.4 (with TPMU_SIGNATURE, 11.3.3).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TpmtSignature {
    /// TPM_ALG_NULL: no signature.
    Null,
    /// TPM_ALG_HMAC: TPMT_HA.
    Hmac(TpmtHa),
    /// TPM_ALG_RSASSA: TPMS_SIGNATURE_RSA (hash, sig).
    Rsassa(HashAlg, Tpm2bPublicKeyRsa),
    /// TPM_ALG_RSAPSS: TPMS_SIGNATURE_RSA.
    Rsapss(HashAlg, Tpm2bPublicKeyRsa),
    /// TPM_ALG_ECDSA: TPMS_SIGNATURE_ECC (hash, r, s).
    Ecdsa(HashAlg, Tpm2bEccParameter, Tpm2bEccParameter),
}

impl TpmtSignature {
    /// Reads the structure (`+TPM_ALG_NULL` when `allow_null`); a signature
    /// algorithm this TPM does not verify is `TPM_RC_SCHEME`.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_SIG_SCHEME, allow_null, TpmRc::SCHEME)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtSignature::Null,
            TpmAlgId::HMAC => TpmtSignature::Hmac(TpmtHa::unmarshal(r)?),
            TpmAlgId::RSASSA => {
                TpmtSignature::Rsassa(hash_in(r, table)?, Tpm2bPublicKeyRsa::unmarshal(r)?)
            }
            TpmAlgId::RSAPSS => {
                TpmtSignature::Rsapss(hash_in(r, table)?, Tpm2bPublicKeyRsa::unmarshal(r)?)
            }
            TpmAlgId::ECDSA => TpmtSignature::Ecdsa(
                hash_in(r, table)?,
                Tpm2bEccParameter::unmarshal(r)?,
                Tpm2bEccParameter::unmarshal(r)?,
            ),
            _ => return Err(TpmRc::SCHEME),
        })
    }

    /// The signature algorithm and its hash.
    pub fn parts(&self) -> (TpmAlgId, Option<HashAlg>) {
        match self {
            TpmtSignature::Null => (TpmAlgId::NULL, None),
            TpmtSignature::Hmac(ha) => (TpmAlgId::HMAC, Some(ha.alg)),
            TpmtSignature::Rsassa(h, _) => (TpmAlgId::RSASSA, Some(*h)),
            TpmtSignature::Rsapss(h, _) => (TpmAlgId::RSAPSS, Some(*h)),
            TpmtSignature::Ecdsa(h, _, _) => (TpmAlgId::ECDSA, Some(*h)),
        }
    }
}

impl Marshal for TpmtSignature {
    fn marshal(&self, w: &mut Writer) {
        self.parts().0.marshal(w);
        match self {
            TpmtSignature::Null => {}
            TpmtSignature::Hmac(ha) => ha.marshal(w),
            TpmtSignature::Rsassa(h, s) | TpmtSignature::Rsapss(h, s) => {
                h.marshal(w);
                s.marshal(w);
            }
            TpmtSignature::Ecdsa(h, r, s) => {
                h.marshal(w);
                r.marshal(w);
                s.marshal(w);
            }
        }
    }
}

/// TPMT_TK_VERIFIED — Part 2, 10.7.3.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmtTkVerified {
    /// TPM_ST_VERIFIED
    pub tag: TpmSt,
    /// hierarchy of the key's proof (TPM_RH_NULL for a null ticket)
    pub hierarchy: u32,
    /// HMAC, empty for a null ticket
    pub digest: Tpm2bDigest,
}

impl TpmtTkVerified {
    /// The NULL ticket.
    pub fn null() -> Self {
        TpmtTkVerified {
            tag: TpmSt::VERIFIED,
            hierarchy: TpmRh::NULL.0,
            digest: Tpm2bDigest::empty(),
        }
    }
}

impl Marshal for TpmtTkVerified {
    fn marshal(&self, w: &mut Writer) {
        self.tag.marshal(w);
        w.u32(self.hierarchy);
        self.digest.marshal(w);
    }
}

impl Unmarshal for TpmtTkVerified {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let tag = TpmSt::unmarshal(r)?;
        if tag != TpmSt::VERIFIED {
            return Err(TpmRc::TAG);
        }
        Ok(TpmtTkVerified {
            tag,
            hierarchy: r.u32()?,
            digest: Tpm2bDigest::unmarshal(r)?,
        })
    }
}
