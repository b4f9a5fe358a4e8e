//! New objects from templates (Part 1, 26 "Primary Seeds" and 27.7 "Object
//! creation"; the reference implementation's CryptCreateObject).
//!
//! Every byte of key material comes from one [`KdfRng`] stream, drawn in a fixed
//! order: first the key (RSA primes, the ECC scalar, the symmetric key or the
//! keyed-hash key), then the seedValue (nameAlg digest size). Which stream:
//!
//! * **Primary objects** (TPM2_CreatePrimary, TPM2_CreateLoaded with a hierarchy):
//!   `KdfRng(nameAlg, seed, "Primary Object Creation", Name(template) ||
//!   inSensitive.data)`, where seed is the hierarchy's primary seed (EPS, SPS, PPS,
//!   or the NULL seed) and Name(template) = nameAlg || H(TPMT_PUBLIC as sent, unique
//!   field included). The same seed and template always give the same object; a
//!   different unique field (e.g. an EK template's) gives a different one. This is
//!   the reference implementation's DRBG_InstantiateSeeded(seed, "Primary Object
//!   Creation", name, data) with a KDFa stream in place of its CTR_DRBG.
//! * **Derived objects** (TPM2_CreateLoaded under a derivation parent, Part 1,
//!   27.7.4): `KdfRng(parent's KDF hash, parent's secret, label, context)`.
//! * **Ordinary objects**: a stream keyed with fresh output of the TPM's DRBG.

use alloc::vec;
use alloc::vec::Vec;

use crate::crypto::ecc::{ecc_generate, EccCurve};
use crate::crypto::hash::HashAlg;
use crate::crypto::rng::KdfRng;
use crate::crypto::rsa::rsa_generate;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::public::{
    Tpm2bEccParameter, Tpm2bPublicKeyRsa, TpmsEccPoint, TpmtKeyedHashScheme, TpmtPublic,
    TpmtSymDefObject, TpmuPublicId, TpmuPublicParms,
};
use crate::types::sensitive::{
    Tpm2bPrivateKeyRsa, Tpm2bSymKey, TpmsSensitiveCreate, TpmtSensitive, TpmuSensitiveComposite,
};
use crate::types::sized::{Tpm2bDigest, Tpm2bSensitiveData};

/// The label of the primary-object derivation.
pub const PRIMARY_LABEL: &[u8] = b"Primary Object Creation";
/// The label of the stream that generates ordinary objects.
pub const ORDINARY_LABEL: &[u8] = b"Object Creation";

/// The stream for a primary object created from `seed` with `template` (its Name
/// is computed over the template exactly as sent) and the caller's `data`.
pub fn primary_rng(seed: &[u8], template: &TpmtPublic, data: &[u8]) -> TpmResult<KdfRng> {
    let alg = template.name_alg.ok_or(TpmRc::HASH)?;
    let mut context = template.name();
    context.extend_from_slice(data);
    Ok(KdfRng::new(alg, seed, PRIMARY_LABEL, &context))
}

/// The stream for an ordinary object: keyed with `fresh` DRBG output.
pub fn ordinary_rng(fresh: &[u8]) -> KdfRng {
    KdfRng::new(HashAlg::Sha256, fresh, ORDINARY_LABEL, &[])
}

/// The block-size limit on a caller-supplied keyed-hash key, and the size of a
/// generated one (the digest of the scheme's hash, or of nameAlg).
fn keyed_hash_sizes(public: &TpmtPublic, name_alg: HashAlg) -> (usize, usize) {
    let alg = match &public.parameters {
        TpmuPublicParms::KeyedHash(p) => match p.scheme {
            TpmtKeyedHashScheme::Null => name_alg,
            TpmtKeyedHashScheme::Hmac(h) => h,
            TpmtKeyedHashScheme::Xor { hash_alg, .. } => hash_alg,
        },
        _ => name_alg,
    };
    (alg.block_size(), alg.digest_size())
}

/// unique for a symmetric object: HMAC_nameAlg(seedValue, key) for a parent
/// (restricted decrypt), else H_nameAlg(seedValue || key).
pub fn symmetric_unique(public: &TpmtPublic, seed: &[u8], key: &[u8]) -> Vec<u8> {
    let Some(alg) = public.name_alg else {
        return Vec::new();
    };
    let a = public.object_attributes;
    if a.restricted() && a.decrypt() {
        alg.hmac_parts(seed, &[key])
    } else {
        alg.digest_parts(&[seed, key])
    }
}

fn digest(v: Vec<u8>) -> TpmResult<Tpm2bDigest> {
    Tpm2bDigest::from_vec(v).map_err(|_| TpmRc::FAILURE)
}

/// Fills the unique field of `public` and returns the new sensitive area (the
/// reference implementation's CryptCreateObject). `public` has passed
/// [`super::validate::create_checks`]; `sc.user_auth` is already trimmed.
///
/// `TPM_RC_KEY_SIZE`: caller key of the wrong size for a symmetric cipher;
/// `TPM_RC_SIZE`: caller key longer than the hash block for an HMAC or XOR key;
/// `TPM_RC_VALUE` / `TPM_RC_RANGE` / `TPM_RC_CURVE`: the crypto refused the key
/// parameters (exponent, size, curve).
pub fn generate(
    public: &mut TpmtPublic,
    sc: &TpmsSensitiveCreate,
    rng: &mut KdfRng,
) -> TpmResult<TpmtSensitive> {
    let name_alg = public.name_alg.ok_or(TpmRc::HASH)?;
    let attrs = public.object_attributes;
    // Caller data is ignored when the TPM generates the secret.
    let data: &[u8] = if attrs.sensitive_data_origin() {
        &[]
    } else {
        sc.data.as_slice()
    };
    let sensitive = match &public.parameters {
        TpmuPublicParms::Rsa(p) => {
            let exponent = if p.exponent == 0 { 65537 } else { p.exponent };
            let key = rsa_generate(p.key_bits, exponent, rng)?;
            let pubkey = key.public();
            public.unique =
                TpmuPublicId::Rsa(Tpm2bPublicKeyRsa::new(&pubkey.n).map_err(|_| TpmRc::FAILURE)?);
            let prime = key.prime_p();
            TpmuSensitiveComposite::Rsa(
                Tpm2bPrivateKeyRsa::new(&prime).map_err(|_| TpmRc::FAILURE)?,
            )
        }
        TpmuPublicParms::Ecc(p) => {
            let curve = EccCurve::from_id(p.curve_id.0).ok_or(TpmRc::CURVE)?;
            let (private, point) = ecc_generate(curve, rng)?;
            public.unique = TpmuPublicId::Ecc(TpmsEccPoint {
                x: Tpm2bEccParameter::new(&point.x).map_err(|_| TpmRc::FAILURE)?,
                y: Tpm2bEccParameter::new(&point.y).map_err(|_| TpmRc::FAILURE)?,
            });
            let d = private.to_bytes();
            TpmuSensitiveComposite::Ecc(Tpm2bEccParameter::new(&d).map_err(|_| TpmRc::FAILURE)?)
        }
        TpmuPublicParms::SymCipher(p) => {
            let TpmtSymDefObject::Cipher { key_bits, .. } = p.sym else {
                return Err(TpmRc::SYMMETRIC);
            };
            if key_bits % 8 != 0 {
                return Err(TpmRc::KEY_SIZE);
            }
            let bytes = usize::from(key_bits / 8);
            let key = if data.is_empty() {
                let mut k = vec![0u8; bytes];
                rng.fill(&mut k);
                k
            } else if data.len() == bytes {
                data.to_vec()
            } else {
                return Err(TpmRc::KEY_SIZE);
            };
            TpmuSensitiveComposite::Sym(Tpm2bSymKey::from_vec(key).map_err(|_| TpmRc::KEY_SIZE)?)
        }
        TpmuPublicParms::KeyedHash(_) => {
            let (block, digest_size) = keyed_hash_sizes(public, name_alg);
            let key = if data.is_empty() {
                let mut k = vec![0u8; digest_size];
                rng.fill(&mut k);
                k
            } else {
                if (attrs.sign() || attrs.decrypt()) && data.len() > block {
                    return Err(TpmRc::SIZE);
                }
                data.to_vec()
            };
            TpmuSensitiveComposite::Bits(
                Tpm2bSensitiveData::from_vec(key).map_err(|_| TpmRc::SIZE)?,
            )
        }
    };
    let mut seed = vec![0u8; name_alg.digest_size()];
    rng.fill(&mut seed);
    match public.object_type() {
        TpmAlgId::SYMCIPHER | TpmAlgId::KEYEDHASH => {
            let unique = digest(symmetric_unique(public, &seed, sensitive.as_slice()))?;
            public.unique = if public.object_type() == TpmAlgId::SYMCIPHER {
                TpmuPublicId::Sym(unique)
            } else {
                TpmuPublicId::KeyedHash(unique)
            };
        }
        _ => {
            // Only an asymmetric parent keeps a seed for its children.
            if attrs.sign() || !attrs.restricted() {
                seed.clear();
            }
        }
    }
    let out = TpmtSensitive {
        auth_value: sc.user_auth.clone(),
        seed_value: Tpm2bDigest::new(&seed).map_err(|_| TpmRc::FAILURE)?,
        sensitive,
    };
    seed.iter_mut().for_each(|b| *b = 0);
    Ok(out)
}
