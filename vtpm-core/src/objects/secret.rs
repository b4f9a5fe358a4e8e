//! Secret sharing with an asymmetric key (Part 1, clause 24 and Annexes B.10 and
//! C.6; CryptSecretEncrypt / CryptSecretDecrypt of the reference implementation):
//! a seed of the key's nameAlg digest size that only the holder of the private
//! key can recover. Used by TPM2_MakeCredential / TPM2_ActivateCredential
//! ("IDENTITY"), TPM2_Duplicate / TPM2_Import ("DUPLICATE") and salted sessions
//! ("SECRET").
//!
//! * RSA: the seed is random and encrypted with RSAES-OAEP, the hash being the
//!   key's OAEP scheme hash or, for a key without a scheme, its nameAlg; the OAEP
//!   label is the label with its terminating zero octet.
//! * ECC: an ephemeral key pair `(d_e, Q_e)`, `Z = d_e·Q_s`, and
//!   `seed = KDFe(nameAlg, Z.x, label, Q_e.x, Q_s.x, digest bits)`; the encrypted
//!   secret is the marshalled TPMS_ECC_POINT `Q_e`.
//!
//! The encrypted secret is the contents of a TPM2B_ENCRYPTED_SECRET.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::ecc::{ecc_point_check, ecc_private_from_bytes, ecdh, ecdh_ephemeral};
use crate::crypto::ecc::{EccCurve, EccPoint};
use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfe;
use crate::crypto::rsa::RsaPublic;
use crate::crypto::rsa::{rsa_decrypt, rsa_encrypt, RsaEncScheme};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::types::public::{
    Tpm2bEccParameter, TpmsEccPoint, TpmtPublic, TpmtRsaScheme, TpmuPublicId, TpmuPublicParms,
};

use super::KeyObject;

/// Label of the credential protection seed.
pub const IDENTITY_LABEL: &[u8] = b"IDENTITY";
/// Label of the duplication seed.
pub const DUPLICATE_LABEL: &[u8] = b"DUPLICATE";
/// Label of a session salt.
pub const SECRET_LABEL: &[u8] = b"SECRET";

/// A shared seed and its encrypted form.
pub struct SharedSecret {
    /// The seed (nameAlg digest size).
    pub seed: Zeroizing<Vec<u8>>,
    /// The contents of TPM2B_ENCRYPTED_SECRET.
    pub encrypted: Vec<u8>,
}

fn bits(octets: usize) -> u32 {
    u32::try_from(octets.saturating_mul(8)).unwrap_or(0)
}

/// The key must be a decryption key with a nameAlg: `TPM_RC_ATTRIBUTES`
/// otherwise (`TPM_RC_KEY` without a nameAlg).
fn check_key(public: &TpmtPublic) -> TpmResult<HashAlg> {
    if !public.object_attributes.decrypt() {
        return Err(TpmRc::ATTRIBUTES);
    }
    public.name_alg.ok_or(TpmRc::KEY)
}

/// The OAEP (or PKCS#1 v1.5) scheme of an RSA key for secret sharing; a key
/// with a signing scheme cannot take a secret (`TPM_RC_SCHEME`).
fn rsa_scheme(scheme: TpmtRsaScheme, name_alg: HashAlg) -> TpmResult<RsaEncScheme> {
    match scheme {
        TpmtRsaScheme::Null => Ok(RsaEncScheme::Oaep(name_alg)),
        TpmtRsaScheme::Oaep(h) => Ok(RsaEncScheme::Oaep(h)),
        TpmtRsaScheme::Rsaes => Ok(RsaEncScheme::Pkcs1v15),
        _ => Err(TpmRc::SCHEME),
    }
}

fn ecc_curve(id: u16) -> TpmResult<EccCurve> {
    EccCurve::from_id(id).ok_or(TpmRc::CURVE)
}

fn ecc_seed(
    alg: HashAlg,
    z: &EccPoint,
    label: &[u8],
    ephemeral_x: &[u8],
    key_x: &[u8],
) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(kdfe(
        alg,
        &z.x,
        label,
        ephemeral_x,
        key_x,
        bits(alg.digest_size()),
    ))
}

/// CryptSecretEncrypt: a fresh seed for `public` (which may be a public-only
/// object) and its encryption, `rng` supplying the seed, the padding and the
/// ephemeral key.
///
/// Errors (bare, the caller places them): `TPM_RC_ATTRIBUTES` (not a decryption
/// key), `TPM_RC_KEY` (no nameAlg, or a key type that cannot share a secret),
/// `TPM_RC_SCHEME` (an RSA signing scheme), `TPM_RC_HASH` or `TPM_RC_VALUE`
/// (modulus too small for OAEP with the hash), `TPM_RC_ECC_POINT` (the public
/// point is not on the curve), `TPM_RC_CURVE`.
pub fn secret_encrypt(
    public: &TpmtPublic,
    label: &[u8],
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<SharedSecret> {
    let alg = check_key(public)?;
    match (&public.parameters, &public.unique) {
        (TpmuPublicParms::Rsa(parms), TpmuPublicId::Rsa(n)) => {
            let scheme = rsa_scheme(parms.scheme, alg)?;
            let mut seed = Zeroizing::new(alloc::vec![0u8; alg.digest_size()]);
            rng(&mut seed);
            let key = RsaPublic {
                n: n.as_slice().to_vec(),
                e: if parms.exponent == 0 {
                    65537
                } else {
                    parms.exponent
                },
            };
            let encrypted = rsa_encrypt(&key, scheme, &seed, label, rng)?;
            Ok(SharedSecret { seed, encrypted })
        }
        (TpmuPublicParms::Ecc(parms), TpmuPublicId::Ecc(q)) => {
            let curve = ecc_curve(parms.curve_id.0)?;
            let peer = EccPoint {
                x: q.x.as_slice().to_vec(),
                y: q.y.as_slice().to_vec(),
            };
            let (qe, z) = ecdh_ephemeral(curve, &peer, rng)?;
            let seed = ecc_seed(alg, &z, label, &qe.x, &peer.x);
            let point = TpmsEccPoint {
                x: Tpm2bEccParameter::new(&qe.x).map_err(|_| TpmRc::FAILURE)?,
                y: Tpm2bEccParameter::new(&qe.y).map_err(|_| TpmRc::FAILURE)?,
            };
            Ok(SharedSecret {
                seed,
                encrypted: point.to_bytes(),
            })
        }
        _ => Err(TpmRc::KEY),
    }
}

/// CryptSecretDecrypt: the seed that `encrypted` (TPM2B_ENCRYPTED_SECRET
/// contents) carries for the loaded private key `key`.
///
/// Errors (bare): `TPM_RC_ATTRIBUTES` (not a decryption key), `TPM_RC_KEY` (no
/// private part, or a key type that cannot share a secret), `TPM_RC_SCHEME`;
/// RSA: `TPM_RC_SIZE` (not the modulus size), `TPM_RC_VALUE` (padding error, or
/// a seed longer than the nameAlg digest); ECC: `TPM_RC_ECC_POINT` (not a
/// point of the curve), `TPM_RC_SIZE` (trailing octets), `TPM_RC_NO_RESULT`.
pub fn secret_decrypt(
    key: &KeyObject,
    label: &[u8],
    encrypted: &[u8],
) -> TpmResult<Zeroizing<Vec<u8>>> {
    let public = &key.public;
    let alg = check_key(public)?;
    let sensitive = key.sensitive.as_ref().ok_or(TpmRc::KEY)?;
    let private = sensitive.sensitive.as_slice();
    match (&public.parameters, &public.unique) {
        (TpmuPublicParms::Rsa(parms), TpmuPublicId::Rsa(_)) => {
            let scheme = rsa_scheme(parms.scheme, alg)?;
            let rsa = key.rsa_private()?;
            let seed = Zeroizing::new(rsa_decrypt(rsa, scheme, encrypted, label)?);
            if seed.len() > alg.digest_size() {
                return Err(TpmRc::VALUE);
            }
            Ok(seed)
        }
        (TpmuPublicParms::Ecc(parms), TpmuPublicId::Ecc(q)) => {
            let curve = ecc_curve(parms.curve_id.0)?;
            let mut r = Reader::new(encrypted);
            let point = TpmsEccPoint::unmarshal(&mut r).map_err(|_| TpmRc::ECC_POINT)?;
            if !r.is_empty() {
                return Err(TpmRc::SIZE);
            }
            let qe = EccPoint {
                x: point.x.as_slice().to_vec(),
                y: point.y.as_slice().to_vec(),
            };
            ecc_point_check(curve, &qe).map_err(|_| TpmRc::ECC_POINT)?;
            let d = ecc_private_from_bytes(curve, private).map_err(|_| TpmRc::KEY)?;
            let z = ecdh(curve, &d, &qe)?;
            Ok(ecc_seed(alg, &z, label, &qe.x, q.x.as_slice()))
        }
        _ => Err(TpmRc::KEY),
    }
}

#[cfg(test)]
mod tests;
