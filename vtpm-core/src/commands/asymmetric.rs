//! Part 3, clause 14: Asymmetric Primitives — TPM2_ECC_Parameters (§14.6).

use alloc::vec::Vec;

use crate::crypto::ecc::EccCurve;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::types::asymmetric::TpmsAlgorithmDetailEcc;
use crate::types::constants::TpmAlgId;

/// TPMI_ECC_CURVE — Part 2, 11.2.5.5: a curve this TPM implements; any other
/// value is `TPM_RC_CURVE`.
struct TpmiEccCurve(EccCurve);

impl Unmarshal for TpmiEccCurve {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        EccCurve::from_id(r.u16()?)
            .map(TpmiEccCurve)
            .ok_or(TpmRc::CURVE)
    }
}

/// Decodes a hex constant (the inputs are fixed, well-formed literals).
fn hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|c| {
            let d = |b: u8| match b {
                b'0'..=b'9' => b.wrapping_sub(b'0'),
                b'a'..=b'f' => b.wrapping_sub(b'a').wrapping_add(10),
                _ => 0,
            };
            match c {
                [hi, lo] => (d(*hi) << 4) | d(*lo),
                _ => 0,
            }
        })
        .collect()
}

/// The SEC 2 / FIPS 186 parameters of a supported curve.
pub fn curve_detail(curve: EccCurve) -> TpmsAlgorithmDetailEcc {
    let (p, a, b, g_x, g_y, n) = match curve {
        EccCurve::NistP256 => (
            "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
            "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
            "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        ),
        EccCurve::NistP384 => (
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe\
             ffffffff0000000000000000ffffffff",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe\
             ffffffff0000000000000000fffffffc",
            "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a\
             c656398d8a2ed19d2a85c8edd3ec2aef",
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38\
             5502f25dbf55296c3a545e3872760ab7",
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0\
             0a60b1ce1d7e819d7a431d7c90ea0e5f",
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf\
             581a0db248b0a77aecec196accc52973",
        ),
    };
    TpmsAlgorithmDetailEcc {
        curve_id: curve.id(),
        key_size: curve.key_bits(),
        kdf: TpmAlgId::NULL,
        sign: TpmAlgId::NULL,
        p: hex(p),
        a: hex(a),
        b: hex(b),
        g_x: hex(g_x),
        g_y: hex(g_y),
        n: hex(n),
        h: alloc::vec![1],
    }
}

/// TPM2_ECC_Parameters — Part 3 §14.6: the parameters of an implemented curve
/// (NIST P-256 or P-384) as TPMS_ALGORITHM_DETAIL_ECC, with NULL kdf and sign
/// schemes.
///
/// Refusals: `TPM_RC_CURVE` (parameter 1) for a curve this TPM does not
/// implement.
pub fn ecc_parameters(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let curve: TpmiEccCurve = p.param()?;
    p.end()?;
    curve_detail(curve.0).marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
