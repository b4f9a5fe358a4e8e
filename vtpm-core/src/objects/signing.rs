//! Signing and signature verification with loaded objects (Part 1, 11.2.1.3
//! RSASSA/RSAPSS, 11.2.3.3 ECDSA, 11.1 HMAC): the scheme selection shared by
//! TPM2_Sign, TPM2_VerifySignature, attestation and TPM2_PolicySigned.

use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::crypto::ecc::{ecc_private_from_bytes, ecdsa_sign, ecdsa_verify, EccCurve, EccPoint};
use crate::crypto::hash::HashAlg;
use crate::crypto::rsa::{rsa_sign, rsa_verify, RsaPublic, RsaSigScheme};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::types::public::{
    Tpm2bEccParameter, Tpm2bPublicKeyRsa, TpmtEccScheme, TpmtKeyedHashScheme, TpmtRsaScheme,
    TpmuPublicId, TpmuPublicParms,
};
use crate::types::signature::{TpmtSigScheme, TpmtSignature};
use crate::types::structures::TpmtHa;

/// The signing scheme fixed in the key's public area (`Null` when the key
/// leaves it to the caller, or has no signing scheme at all).
pub fn key_scheme(key: &KeyObject) -> TpmtSigScheme {
    match &key.public.parameters {
        TpmuPublicParms::Rsa(p) => match p.scheme {
            TpmtRsaScheme::Rsassa(h) => TpmtSigScheme::Rsassa(h),
            TpmtRsaScheme::Rsapss(h) => TpmtSigScheme::Rsapss(h),
            _ => TpmtSigScheme::Null,
        },
        TpmuPublicParms::Ecc(p) => match p.scheme {
            TpmtEccScheme::Ecdsa(h) => TpmtSigScheme::Ecdsa(h),
            TpmtEccScheme::Ecdaa { hash_alg, count } => TpmtSigScheme::Ecdaa(hash_alg, count),
            TpmtEccScheme::Sm2(h) => TpmtSigScheme::Sm2(h),
            TpmtEccScheme::Ecschnorr(h) => TpmtSigScheme::Ecschnorr(h),
            _ => TpmtSigScheme::Null,
        },
        TpmuPublicParms::KeyedHash(p) => match p.scheme {
            TpmtKeyedHashScheme::Hmac(h) => TpmtSigScheme::Hmac(h),
            _ => TpmtSigScheme::Null,
        },
        TpmuPublicParms::SymCipher(_) => TpmtSigScheme::Null,
    }
}

/// True when `scheme` is a signing scheme this TPM implements for the type of
/// `key` (RSASSA/RSAPSS for RSA, ECDSA for ECC, HMAC for KEYEDHASH).
fn fits_key(key: &KeyObject, scheme: TpmtSigScheme) -> bool {
    matches!(
        (&key.public.parameters, scheme),
        (
            TpmuPublicParms::Rsa(_),
            TpmtSigScheme::Rsassa(_) | TpmtSigScheme::Rsapss(_)
        ) | (TpmuPublicParms::Ecc(_), TpmtSigScheme::Ecdsa(_))
            | (TpmuPublicParms::KeyedHash(_), TpmtSigScheme::Hmac(_))
    )
}

/// The scheme a signature with `key` uses (the reference implementation's
/// CryptSelectSignScheme): the key's own scheme, or `requested` when the key's
/// is NULL. Errors (all `TPM_RC_SCHEME`, the caller adds the parameter number):
/// both NULL; both set and different; a scheme that does not fit the key type
/// or that this TPM does not implement (ECDAA, SM2, ECSCHNORR).
pub fn select_scheme(key: &KeyObject, requested: TpmtSigScheme) -> TpmResult<TpmtSigScheme> {
    let own = key_scheme(key);
    let scheme = match (own, requested) {
        (TpmtSigScheme::Null, TpmtSigScheme::Null) => return Err(TpmRc::SCHEME),
        (TpmtSigScheme::Null, r) => r,
        (o, TpmtSigScheme::Null) => o,
        (o, r) if o == r => o,
        _ => return Err(TpmRc::SCHEME),
    };
    if fits_key(key, scheme) {
        Ok(scheme)
    } else {
        Err(TpmRc::SCHEME)
    }
}

fn rsa_public(key: &KeyObject) -> TpmResult<RsaPublic> {
    match (&key.public.parameters, &key.public.unique) {
        (TpmuPublicParms::Rsa(p), TpmuPublicId::Rsa(n)) => Ok(RsaPublic {
            n: n.as_slice().to_vec(),
            e: if p.exponent == 0 { 65537 } else { p.exponent },
        }),
        _ => Err(TpmRc::KEY),
    }
}

fn ecc_public(key: &KeyObject) -> TpmResult<(EccCurve, EccPoint)> {
    match (&key.public.parameters, &key.public.unique) {
        (TpmuPublicParms::Ecc(p), TpmuPublicId::Ecc(q)) => Ok((
            EccCurve::from_id(p.curve_id.0).ok_or(TpmRc::CURVE)?,
            EccPoint {
                x: q.x.as_slice().to_vec(),
                y: q.y.as_slice().to_vec(),
            },
        )),
        _ => Err(TpmRc::KEY),
    }
}

/// The private key octets (`TPM_RC_KEY` for a public-only object).
fn private_octets(key: &KeyObject) -> TpmResult<&[u8]> {
    key.sensitive
        .as_ref()
        .map(|s| s.sensitive.as_slice())
        .ok_or(TpmRc::KEY)
}

/// Signs `digest` with `key` under `scheme` (already chosen with
/// [`select_scheme`]). Errors: `TPM_RC_SIZE` (digest not the scheme hash's
/// size), `TPM_RC_KEY` (no private part), `TPM_RC_SCHEME` (scheme not for this
/// key type).
pub fn sign_digest(
    key: &KeyObject,
    scheme: TpmtSigScheme,
    digest: &[u8],
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<TpmtSignature> {
    if !fits_key(key, scheme) {
        return Err(TpmRc::SCHEME);
    }
    let hash = scheme.parts().1.ok_or(TpmRc::SCHEME)?;
    if digest.len() != hash.digest_size() {
        return Err(TpmRc::SIZE);
    }
    let secret = private_octets(key)?;
    match scheme {
        TpmtSigScheme::Rsassa(h) | TpmtSigScheme::Rsapss(h) => {
            let private = key.rsa_private()?;
            let pss = matches!(scheme, TpmtSigScheme::Rsapss(_));
            let rs = if pss {
                RsaSigScheme::Pss(h)
            } else {
                RsaSigScheme::Pkcs1v15(h)
            };
            let sig = Tpm2bPublicKeyRsa::from_vec(rsa_sign(private, rs, digest, rng)?)?;
            Ok(if pss {
                TpmtSignature::Rsapss(h, sig)
            } else {
                TpmtSignature::Rsassa(h, sig)
            })
        }
        TpmtSigScheme::Ecdsa(h) => {
            let (curve, _) = ecc_public(key)?;
            let d = ecc_private_from_bytes(curve, secret).map_err(|_| TpmRc::KEY)?;
            let (r, s) = ecdsa_sign(curve, &d, h, digest, rng)?;
            Ok(TpmtSignature::Ecdsa(
                h,
                Tpm2bEccParameter::from_vec(r)?,
                Tpm2bEccParameter::from_vec(s)?,
            ))
        }
        TpmtSigScheme::Hmac(h) => Ok(TpmtSignature::Hmac(TpmtHa {
            alg: h,
            digest: hmac(h, secret, &[digest]).to_vec(),
        })),
        _ => Err(TpmRc::SCHEME),
    }
}

/// `HMAC_h(key, parts...)`, kept in zeroizing memory.
pub fn hmac(h: HashAlg, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(h.hmac_parts(key, parts))
}

/// Verifies `sig` over `digest` with `key` (the reference implementation's
/// CryptValidateSignature). Errors: `TPM_RC_SCHEME` (a signature algorithm that
/// does not fit the key type), `TPM_RC_KEY` (an HMAC check with a public-only
/// key), `TPM_RC_ECC_POINT` (a bad public point), `TPM_RC_SIGNATURE` (anything
/// else: wrong digest, wrong size, tampered signature).
pub fn verify_digest(key: &KeyObject, digest: &[u8], sig: &TpmtSignature) -> TpmResult<()> {
    match (&key.public.parameters, sig) {
        (TpmuPublicParms::Rsa(_), TpmtSignature::Rsassa(h, s) | TpmtSignature::Rsapss(h, s)) => {
            if digest.len() != h.digest_size() {
                return Err(TpmRc::SIGNATURE);
            }
            let rs = if matches!(sig, TpmtSignature::Rsapss(..)) {
                RsaSigScheme::Pss(*h)
            } else {
                RsaSigScheme::Pkcs1v15(*h)
            };
            rsa_verify(&rsa_public(key)?, rs, digest, s.as_slice()).map_err(|_| TpmRc::SIGNATURE)
        }
        (TpmuPublicParms::Ecc(_), TpmtSignature::Ecdsa(h, r, s)) => {
            if digest.len() != h.digest_size() {
                return Err(TpmRc::SIGNATURE);
            }
            let (curve, q) = ecc_public(key)?;
            ecdsa_verify(curve, &q, digest, r.as_slice(), s.as_slice())
        }
        (TpmuPublicParms::KeyedHash(_), TpmtSignature::Hmac(ha)) => {
            let secret = private_octets(key)?;
            let want = hmac(ha.alg, secret, &[digest]);
            if crate::crypto::ct_eq(&want, &ha.digest) {
                Ok(())
            } else {
                Err(TpmRc::SIGNATURE)
            }
        }
        _ => Err(TpmRc::SCHEME),
    }
}
