//! Part 2 structures of the asymmetric primitive commands (Part 3 clause 14).

use alloc::vec::Vec;

use crate::marshal::{Marshal, Writer};
use crate::types::constants::TpmAlgId;

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
