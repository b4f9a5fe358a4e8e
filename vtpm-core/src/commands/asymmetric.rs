//! Part 3, clause 14: Asymmetric Primitives — TPM2_RSA_Encrypt (§14.2),
//! TPM2_RSA_Decrypt (§14.3), TPM2_ECDH_KeyGen (§14.4), TPM2_ECDH_ZGen (§14.5)
//! and TPM2_ECC_Parameters (§14.6).

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::ecc::{ecc_point_check, ecc_private_from_bytes, ecdh, ecdh_ephemeral};
use crate::crypto::ecc::{EccCurve, EccPoint};
use crate::crypto::rsa::{self, RsaEncScheme, RsaPublic, DEFAULT_EXPONENT};
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::types::asymmetric::{Tpm2bEccPoint, TpmsAlgorithmDetailEcc, TpmtRsaDecrypt};
use crate::types::constants::TpmAlgId;
use crate::types::public::{
    Tpm2bEccParameter, Tpm2bPublicKeyRsa, TpmsEccParms, TpmsEccPoint, TpmsRsaParms, TpmtEccScheme,
    TpmtRsaScheme, TpmuPublicId, TpmuPublicParms,
};
use crate::types::sized::Tpm2bData;

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

/// The loaded object at handle 1 (`TPM_RC_HANDLE` if it vanished).
fn object(ctx: &Ctx<'_>) -> TpmResult<KeyObject> {
    ctx.tpm
        .key(ctx.handle(0))
        .cloned()
        .ok_or(TpmRc::HANDLE.at_handle(1))
}

/// The RSA parameters and modulus of `key`: `TPM_RC_KEY` (handle 1) for any
/// other object type.
fn rsa_parts(key: &KeyObject) -> TpmResult<(&TpmsRsaParms, RsaPublic)> {
    match (&key.public.parameters, &key.public.unique) {
        (TpmuPublicParms::Rsa(parms), TpmuPublicId::Rsa(n)) => Ok((
            parms,
            RsaPublic {
                n: n.as_slice().to_vec(),
                e: if parms.exponent == 0 {
                    DEFAULT_EXPONENT
                } else {
                    parms.exponent
                },
            },
        )),
        _ => Err(TpmRc::KEY.at_handle(1)),
    }
}

/// The ECC parameters, curve and public point of `key`: `TPM_RC_KEY` (handle
/// 1) for any other object type or a curve this TPM does not implement.
fn ecc_parts(key: &KeyObject) -> TpmResult<(&TpmsEccParms, EccCurve, EccPoint)> {
    match (&key.public.parameters, &key.public.unique) {
        (TpmuPublicParms::Ecc(parms), TpmuPublicId::Ecc(q)) => {
            let curve = EccCurve::from_id(parms.curve_id.0).ok_or(TpmRc::KEY.at_handle(1))?;
            let point = EccPoint {
                x: q.x.as_slice().to_vec(),
                y: q.y.as_slice().to_vec(),
            };
            Ok((parms, curve, point))
        }
        _ => Err(TpmRc::KEY.at_handle(1)),
    }
}

/// A label for the OAEP padding (Part 3 §14.2.1 and §14.3.1): empty, or a
/// string whose last octet is zero; that zero is part of the label. Anything
/// else is `TPM_RC_VALUE` (parameter 3), whatever the scheme.
fn check_label(label: &Tpm2bData) -> TpmResult<()> {
    match label.as_slice().last() {
        None | Some(0) => Ok(()),
        Some(_) => Err(TpmRc::VALUE.at_param(3)),
    }
}

/// The scheme of an RSA operation (CryptRsaSelectScheme): the key's scheme when
/// the command gives TPM_ALG_NULL, the command's when the key's is NULL, and
/// the common scheme when both give the same one; two different schemes, or a
/// key scheme that is not an encryption scheme, are `TPM_RC_SCHEME`
/// (parameter 2).
fn select_scheme(key: TpmtRsaScheme, input: TpmtRsaDecrypt) -> TpmResult<RsaEncScheme> {
    let from_key = match key {
        TpmtRsaScheme::Null => None,
        TpmtRsaScheme::Rsaes => Some(TpmtRsaDecrypt::Rsaes),
        TpmtRsaScheme::Oaep(h) => Some(TpmtRsaDecrypt::Oaep(h)),
        TpmtRsaScheme::Rsassa(_) | TpmtRsaScheme::Rsapss(_) => {
            return Err(TpmRc::SCHEME.at_param(2))
        }
    };
    let chosen = match (from_key, input) {
        (None, s) => s,
        (Some(k), TpmtRsaDecrypt::Null) => k,
        (Some(k), s) if k == s => s,
        _ => return Err(TpmRc::SCHEME.at_param(2)),
    };
    Ok(match chosen {
        TpmtRsaDecrypt::Null => RsaEncScheme::Null,
        TpmtRsaDecrypt::Rsaes => RsaEncScheme::Pkcs1v15,
        TpmtRsaDecrypt::Oaep(h) => RsaEncScheme::Oaep(h),
    })
}

/// Places an error of the RSA primitives: the scheme's hash (`TPM_RC_HASH`,
/// `TPM_RC_SCHEME`) is parameter 2, everything else concerns the data
/// (parameter 1).
fn rsa_error(e: TpmRc) -> TpmRc {
    if e == TpmRc::HASH || e == TpmRc::SCHEME {
        e.at_param(2)
    } else {
        e.at_param(1)
    }
}

/// TPM2_RSA_Encrypt — Part 3 §14.2: encrypts `message` with the public part of
/// the RSA key at keyHandle (no authorization; a public-only object will do)
/// under the key's scheme or inScheme (RSAES-OAEP, RSAES-PKCS1-v1_5, or raw
/// RSAEP for TPM_ALG_NULL). `label` is used by OAEP only, including its
/// terminating zero octet.
///
/// Refusals: `TPM_RC_KEY` (handle 1) not an RSA key; `TPM_RC_ATTRIBUTES`
/// (handle 1) decrypt is CLEAR; `TPM_RC_VALUE` (parameter 3) a label that does
/// not end in a zero octet; `TPM_RC_SCHEME` (parameter 2) the key and inScheme
/// name different schemes; `TPM_RC_VALUE` (parameter 1) message too long for
/// the scheme, or (NULL scheme) not below the modulus; `TPM_RC_HASH`
/// (parameter 2) an OAEP hash too large for the modulus.
pub fn rsa_encrypt(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let message: Tpm2bPublicKeyRsa = p.param()?;
    let in_scheme: TpmtRsaDecrypt = p.param()?;
    let label: Tpm2bData = p.param()?;
    p.end()?;
    let key = object(ctx)?;
    let (parms, public) = rsa_parts(&key)?;
    if !key.public.object_attributes.decrypt() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    check_label(&label)?;
    let scheme = select_scheme(parms.scheme, in_scheme)?;
    let tpm = &mut *ctx.tpm;
    let out = rsa::rsa_encrypt(
        &public,
        scheme,
        message.as_slice(),
        label.as_slice(),
        &mut |b| tpm.random(b),
    )
    .map_err(rsa_error)?;
    Tpm2bPublicKeyRsa::from_vec(out)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_RSA_Decrypt — Part 3 §14.3: decrypts cipherText with the private part
/// of the unrestricted RSA decryption key at keyHandle (USER role) and removes
/// the padding of the key's scheme or inScheme (the NULL scheme returns the
/// whole modulus-sized value).
///
/// Refusals: `TPM_RC_KEY` (handle 1) not an RSA key, or no usable private part;
/// `TPM_RC_ATTRIBUTES` (handle 1) restricted, or decrypt CLEAR; `TPM_RC_VALUE`
/// (parameter 3) a label not ending in a zero octet; `TPM_RC_SCHEME` (parameter
/// 2) the key and inScheme name different schemes; `TPM_RC_SIZE` (parameter 1)
/// cipherText not the modulus size or not below the modulus; `TPM_RC_VALUE`
/// (parameter 1) bad padding (or another label).
pub fn rsa_decrypt(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let cipher_text: Tpm2bPublicKeyRsa = p.param()?;
    let in_scheme: TpmtRsaDecrypt = p.param()?;
    let label: Tpm2bData = p.param()?;
    p.end()?;
    let key = object(ctx)?;
    let (parms, _) = rsa_parts(&key)?;
    let a = key.public.object_attributes;
    if a.restricted() || !a.decrypt() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    check_label(&label)?;
    let scheme = select_scheme(parms.scheme, in_scheme)?;
    let private = key.rsa_private().map_err(|e| e.at_handle(1))?;
    let message = Zeroizing::new(
        rsa::rsa_decrypt(private, scheme, cipher_text.as_slice(), label.as_slice())
            .map_err(rsa_error)?,
    );
    Tpm2bPublicKeyRsa::new(&message)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// A TPM2B_ECC_POINT for an affine point.
fn point_out(p: &EccPoint) -> TpmResult<Tpm2bEccPoint> {
    Ok(Tpm2bEccPoint(TpmsEccPoint {
        x: Tpm2bEccParameter::new(&p.x).map_err(|_| TpmRc::FAILURE)?,
        y: Tpm2bEccParameter::new(&p.y).map_err(|_| TpmRc::FAILURE)?,
    }))
}

/// TPM2_ECDH_KeyGen — Part 3 §14.4: a fresh ephemeral key pair `(d_e, Q_e)` on
/// the curve of the ECC key at keyHandle (no authorization; the public part is
/// enough) and `Z = d_e·Q_s` with `Q_s` that key's public point. Returns zPoint
/// (`Z`) and pubPoint (`Q_e`); `d_e` is discarded.
///
/// Part 3 puts no requirement on the key's attributes or scheme here (as in
/// the reference implementation): encrypting to a public key needs neither.
///
/// Refusals: `TPM_RC_KEY` (handle 1) not an ECC key, a curve this TPM does not
/// implement, or a public point that is not on the curve.
pub fn ecdh_keygen(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let key = object(ctx)?;
    let (_, curve, q_s) = ecc_parts(&key)?;
    let tpm = &mut *ctx.tpm;
    let (q_e, z) = ecdh_ephemeral(curve, &q_s, &mut |b| tpm.random(b)).map_err(|e| {
        if e == TpmRc::ECC_POINT {
            TpmRc::KEY.at_handle(1)
        } else {
            e
        }
    })?;
    point_out(&z)?.marshal(&mut ctx.out);
    point_out(&q_e)?.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ECDH_ZGen — Part 3 §14.5: `outPoint = d_s·inPoint` with the private key
/// `d_s` of the unrestricted ECC decryption key at keyHandle (USER role): the
/// recipient's half of TPM2_ECDH_KeyGen.
///
/// Refusals: `TPM_RC_KEY` (handle 1) not an ECC key, or no usable private part;
/// `TPM_RC_ATTRIBUTES` (handle 1) restricted, or decrypt CLEAR; `TPM_RC_SCHEME`
/// (handle 1) a key scheme other than TPM_ALG_ECDH or TPM_ALG_NULL;
/// `TPM_RC_ECC_POINT` (parameter 1) inPoint is not a point of the key's curve;
/// `TPM_RC_NO_RESULT` (parameter 1) the product is the point at infinity.
pub fn ecdh_zgen(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_point: Tpm2bEccPoint = p.param()?;
    p.end()?;
    let key = object(ctx)?;
    let (parms, curve, _) = ecc_parts(&key)?;
    let a = key.public.object_attributes;
    if a.restricted() || !a.decrypt() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    if !matches!(parms.scheme, TpmtEccScheme::Null | TpmtEccScheme::Ecdh(_)) {
        return Err(TpmRc::SCHEME.at_handle(1));
    }
    let sensitive = key.sensitive.as_ref().ok_or(TpmRc::KEY.at_handle(1))?;
    let peer = EccPoint {
        x: in_point.0.x.as_slice().to_vec(),
        y: in_point.0.y.as_slice().to_vec(),
    };
    ecc_point_check(curve, &peer).map_err(|e| e.at_param(1))?;
    let d = ecc_private_from_bytes(curve, sensitive.sensitive.as_slice())
        .map_err(|_| TpmRc::KEY.at_handle(1))?;
    let z = ecdh(curve, &d, &peer).map_err(|e| e.at_param(1))?;
    point_out(&z)?.marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
