//! The algorithms this engine implements: the one table that GetCapability
//! (TPM_CAP_ALGS, TPM_CAP_ECC_CURVES), TestParms and the unmarshalling of algorithm
//! selectors (Part 2 TPMI_ types) consult.
//!
//! An algorithm is implemented when its row is here; a key-sized algorithm (RSA,
//! AES, SM4, CAMELLIA) supports exactly the key sizes its row lists, and an ECC
//! curve is supported when it is in [`IMPLEMENTED`]'s curve list. Adding RSA, ECC,
//! AES or a block-cipher mode is a row (or curve) here plus its implementation.
//! Attributes follow Part 2, Table 30 and the TCG Algorithm Registry's type column.

use crate::types::constants::TpmAlgId;
use crate::types::properties::TpmaAlgorithm;
use crate::types::public::TpmEccCurve;

/// One implemented algorithm (TPMS_ALG_PROPERTY, Part 2, 10.8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgInfo {
    /// TPM_ALG_ID.
    pub alg: TpmAlgId,
    /// TPMA_ALGORITHM.
    pub attributes: TpmaAlgorithm,
    /// Supported key sizes in bits, for algorithms that have a key size.
    pub key_bits: &'static [u16],
}

/// A set of implemented algorithms and curves.
#[derive(Clone, Copy, Debug)]
pub struct AlgorithmTable {
    /// Rows in ascending TPM_ALG_ID order.
    pub algs: &'static [AlgInfo],
    /// Supported curves in ascending TPM_ECC_CURVE order.
    pub curves: &'static [TpmEccCurve],
}

const fn row(alg: TpmAlgId, attributes: TpmaAlgorithm) -> AlgInfo {
    AlgInfo {
        alg,
        attributes,
        key_bits: &[],
    }
}

const fn sized(alg: TpmAlgId, attributes: TpmaAlgorithm, key_bits: &'static [u16]) -> AlgInfo {
    AlgInfo {
        alg,
        attributes,
        key_bits,
    }
}

const HASH: TpmaAlgorithm = TpmaAlgorithm::HASH;
const ASYM: TpmaAlgorithm = TpmaAlgorithm::ASYMMETRIC;
const SYM: TpmaAlgorithm = TpmaAlgorithm::SYMMETRIC;
const OBJECT: TpmaAlgorithm = TpmaAlgorithm::OBJECT;
const SIGNING: TpmaAlgorithm = TpmaAlgorithm::SIGNING;
const ENCRYPTING: TpmaAlgorithm = TpmaAlgorithm::ENCRYPTING;
const METHOD: TpmaAlgorithm = TpmaAlgorithm::METHOD;

/// RSA modulus sizes this engine implements (`crypto::rsa` itself handles 1024
/// to 4096).
pub const RSA_KEY_BITS: &[u16] = &[2048, 3072];
/// AES key sizes this engine implements.
pub const AES_KEY_BITS: &[u16] = &[128, 256];

/// What this engine implements now.
pub static IMPLEMENTED: AlgorithmTable = AlgorithmTable {
    algs: &[
        sized(TpmAlgId::RSA, ASYM.with(OBJECT), RSA_KEY_BITS),
        row(TpmAlgId::SHA1, HASH),
        row(TpmAlgId::HMAC, HASH.with(SIGNING)),
        sized(TpmAlgId::AES, SYM, AES_KEY_BITS),
        row(TpmAlgId::MGF1, HASH.with(METHOD)),
        row(
            TpmAlgId::KEYEDHASH,
            HASH.with(OBJECT).with(SIGNING).with(ENCRYPTING),
        ),
        row(TpmAlgId::XOR, SYM.with(HASH)),
        row(TpmAlgId::SHA256, HASH),
        row(TpmAlgId::SHA384, HASH),
        row(TpmAlgId::SHA512, HASH),
        row(TpmAlgId::NULL, TpmaAlgorithm::EMPTY),
        row(TpmAlgId::RSASSA, ASYM.with(SIGNING)),
        row(TpmAlgId::RSAES, ASYM.with(ENCRYPTING)),
        row(TpmAlgId::RSAPSS, ASYM.with(SIGNING)),
        row(TpmAlgId::OAEP, ASYM.with(ENCRYPTING)),
        row(TpmAlgId::ECDSA, ASYM.with(SIGNING)),
        row(TpmAlgId::ECDH, ASYM.with(METHOD)),
        row(TpmAlgId::KDF1_SP800_56A, HASH.with(METHOD)),
        row(TpmAlgId::KDF1_SP800_108, HASH.with(METHOD)),
        row(TpmAlgId::ECC, ASYM.with(OBJECT)),
        row(TpmAlgId::SYMCIPHER, OBJECT),
        row(TpmAlgId::CTR, SYM.with(ENCRYPTING)),
        row(TpmAlgId::OFB, SYM.with(ENCRYPTING)),
        row(TpmAlgId::CBC, SYM.with(ENCRYPTING)),
        row(TpmAlgId::CFB, SYM.with(ENCRYPTING)),
        row(TpmAlgId::ECB, SYM.with(ENCRYPTING)),
    ],
    curves: &[TpmEccCurve::NIST_P256, TpmEccCurve::NIST_P384],
};

impl AlgorithmTable {
    /// The row for `alg`, if implemented.
    pub fn get(&self, alg: TpmAlgId) -> Option<&'static AlgInfo> {
        self.algs.iter().find(|a| a.alg == alg)
    }

    /// True if `alg` is implemented.
    pub fn implements(&self, alg: TpmAlgId) -> bool {
        self.get(alg).is_some()
    }

    /// True if `alg` is implemented with a `bits`-bit key.
    pub fn supports_key_bits(&self, alg: TpmAlgId, bits: u16) -> bool {
        self.get(alg).is_some_and(|a| a.key_bits.contains(&bits))
    }

    /// True if `curve` is supported.
    pub fn supports_curve(&self, curve: TpmEccCurve) -> bool {
        self.curves.contains(&curve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hash::HashAlg;

    #[test]
    fn table_is_sorted_and_covers_every_hash() {
        assert!(IMPLEMENTED.algs.windows(2).all(|w| w[0].alg < w[1].alg));
        assert!(IMPLEMENTED.curves.windows(2).all(|w| w[0] < w[1]));
        for h in HashAlg::ALL {
            let row = IMPLEMENTED.get(h.alg_id()).unwrap();
            assert!(row.attributes.contains(TpmaAlgorithm::HASH), "{h:?}");
        }
        // Not implemented: other ciphers, schemes and curves.
        for alg in [
            TpmAlgId::TDES,
            TpmAlgId::SM4,
            TpmAlgId::CAMELLIA,
            TpmAlgId::CMAC,
            TpmAlgId::KDF2,
            TpmAlgId::ECDAA,
            TpmAlgId::SM2,
            TpmAlgId::ECSCHNORR,
            TpmAlgId::ECMQV,
        ] {
            assert!(!IMPLEMENTED.implements(alg), "{alg:?}");
        }
        assert!(!IMPLEMENTED.supports_key_bits(TpmAlgId::HMAC, 256));
        assert!(!IMPLEMENTED.supports_key_bits(TpmAlgId::RSA, 1024));
        assert!(!IMPLEMENTED.supports_key_bits(TpmAlgId::AES, 192));
        assert!(!IMPLEMENTED.supports_curve(TpmEccCurve::NIST_P521));
        assert!(!IMPLEMENTED.supports_curve(TpmEccCurve::BN_P256));
    }

    /// Attribute words as the TCG Algorithm Registry's type column gives them
    /// (and as the reference implementation reports them).
    #[test]
    fn attributes_follow_the_registry() {
        let want: &[(TpmAlgId, u32)] = &[
            (TpmAlgId::RSA, 0x009),
            (TpmAlgId::SHA1, 0x004),
            (TpmAlgId::HMAC, 0x104),
            (TpmAlgId::AES, 0x002),
            (TpmAlgId::MGF1, 0x404),
            (TpmAlgId::KEYEDHASH, 0x30C),
            (TpmAlgId::XOR, 0x006),
            (TpmAlgId::NULL, 0x000),
            (TpmAlgId::RSASSA, 0x101),
            (TpmAlgId::RSAES, 0x201),
            (TpmAlgId::RSAPSS, 0x101),
            (TpmAlgId::OAEP, 0x201),
            (TpmAlgId::ECDSA, 0x101),
            (TpmAlgId::ECDH, 0x401),
            (TpmAlgId::KDF1_SP800_56A, 0x404),
            (TpmAlgId::KDF1_SP800_108, 0x404),
            (TpmAlgId::ECC, 0x009),
            (TpmAlgId::SYMCIPHER, 0x008),
            (TpmAlgId::CTR, 0x202),
            (TpmAlgId::OFB, 0x202),
            (TpmAlgId::CBC, 0x202),
            (TpmAlgId::CFB, 0x202),
            (TpmAlgId::ECB, 0x202),
        ];
        for (alg, attrs) in want {
            assert_eq!(
                IMPLEMENTED.get(*alg).unwrap().attributes.0,
                *attrs,
                "{alg:?}"
            );
        }
        assert_eq!(IMPLEMENTED.algs.len(), want.len() + 3);
        assert_eq!(
            IMPLEMENTED.get(TpmAlgId::RSA).unwrap().key_bits,
            &[2048, 3072]
        );
        assert_eq!(
            IMPLEMENTED.get(TpmAlgId::AES).unwrap().key_bits,
            &[128, 256]
        );
        // Every listed curve is one the ECC code implements.
        for c in IMPLEMENTED.curves {
            assert!(crate::crypto::ecc::EccCurve::from_id(c.0).is_some());
        }
    }
}
