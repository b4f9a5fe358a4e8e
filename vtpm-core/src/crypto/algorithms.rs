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

const HASH: TpmaAlgorithm = TpmaAlgorithm::HASH;

/// What this engine implements now.
pub static IMPLEMENTED: AlgorithmTable = AlgorithmTable {
    algs: &[
        row(TpmAlgId::SHA1, HASH),
        row(TpmAlgId::HMAC, HASH.with(TpmaAlgorithm::SIGNING)),
        row(
            TpmAlgId::KEYEDHASH,
            HASH.with(TpmaAlgorithm::OBJECT)
                .with(TpmaAlgorithm::SIGNING)
                .with(TpmaAlgorithm::ENCRYPTING),
        ),
        row(TpmAlgId::SHA256, HASH),
        row(TpmAlgId::SHA384, HASH),
        row(TpmAlgId::SHA512, HASH),
        row(TpmAlgId::NULL, TpmaAlgorithm::EMPTY),
    ],
    curves: &[],
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
        // The object types and schemes the engine cannot run yet are absent.
        for alg in [
            TpmAlgId::RSA,
            TpmAlgId::ECC,
            TpmAlgId::AES,
            TpmAlgId::SYMCIPHER,
            TpmAlgId::XOR,
            TpmAlgId::CFB,
        ] {
            assert!(!IMPLEMENTED.implements(alg), "{alg:?}");
        }
        assert!(!IMPLEMENTED.supports_key_bits(TpmAlgId::HMAC, 256));
        assert!(!IMPLEMENTED.supports_curve(TpmEccCurve::NIST_P256));
        assert_eq!(
            IMPLEMENTED.get(TpmAlgId::KEYEDHASH).unwrap().attributes.0,
            0x30C
        );
    }
}
