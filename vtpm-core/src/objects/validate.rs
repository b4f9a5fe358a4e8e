//! The consistency rules of object public areas (Part 1, 27.2 "Object Attributes"
//! and 27.3-27.5; Part 2, 8.3.3 TPMA_OBJECT attribute descriptions), in the order
//! and with the response codes of the reference implementation's CreateChecks,
//! PublicAttributesValidation and SchemeChecks.
//!
//! Every function returns a bare code; the command adds the position of the
//! public area (or of the sensitive area) it blames.

use crate::crypto::ct_eq;
use crate::crypto::ecc::{ecc_point_check, ecc_private_from_bytes, ecc_public, EccCurve, EccPoint};
use crate::crypto::rsa::rsa_private_from_prime;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::public::{
    TpmtEccScheme, TpmtKeyedHashScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject, TpmuPublicId,
    TpmuPublicParms,
};
use crate::types::sensitive::TpmtSensitive;

use super::create::symmetric_unique;
use super::KeyObject;

/// Checks that only apply when an object is created (TPM2_Create,
/// TPM2_CreatePrimary, TPM2_CreateLoaded), then [`public_attributes`].
///
/// `TPM_RC_ATTRIBUTES`: sensitiveDataOrigin CLEAR without data from the caller;
/// sensitiveDataOrigin SET with caller data for an ordinary object; a sealed data
/// object (keyed hash, neither sign nor decrypt) with sensitiveDataOrigin SET; a
/// restricted symmetric key with caller data but fixedTPM or fixedParent SET; an
/// asymmetric key with sensitiveDataOrigin CLEAR.
pub fn create_checks(
    parent: Option<&KeyObject>,
    public: &TpmtPublic,
    data_len: usize,
) -> TpmResult<()> {
    let a = public.object_attributes;
    if !a.sensitive_data_origin() && data_len == 0 {
        return Err(TpmRc::ATTRIBUTES);
    }
    if parent.is_some() && a.sensitive_data_origin() && data_len != 0 {
        return Err(TpmRc::ATTRIBUTES);
    }
    match public.object_type() {
        TpmAlgId::KEYEDHASH | TpmAlgId::SYMCIPHER => {
            if public.object_type() == TpmAlgId::KEYEDHASH
                && !a.sign()
                && !a.decrypt()
                && a.sensitive_data_origin()
            {
                return Err(TpmRc::ATTRIBUTES);
            }
            if a.restricted() && !a.sensitive_data_origin() && (a.fixed_parent() || a.fixed_tpm()) {
                return Err(TpmRc::ATTRIBUTES);
            }
        }
        _ => {
            if !a.sensitive_data_origin() {
                return Err(TpmRc::ATTRIBUTES);
            }
        }
    }
    public_attributes(parent, public)
}

/// The attribute rules every loaded object keeps (Part 1, 27.2), then
/// [`scheme_checks`]. `parent` is None for a primary object (its parent, the
/// hierarchy seed, counts as fixedTPM).
///
/// `TPM_RC_HASH`: no nameAlg. `TPM_RC_SIZE`: an authPolicy that is neither empty
/// nor a nameAlg digest. `TPM_RC_ATTRIBUTES`: fixedTPM and fixedParent differ under
/// a fixedTPM parent, or fixedTPM under a duplicable parent; a restricted key that
/// is both or neither sign and decrypt; an asymmetric or symmetric key with
/// neither; fixedTPM with encryptedDuplication; encryptedDuplication unlike a
/// duplicable parent's; a derived object not fixedParent or unlike its parent's
/// fixedTPM.
pub fn public_attributes(parent: Option<&KeyObject>, public: &TpmtPublic) -> TpmResult<()> {
    let a = public.object_attributes;
    let Some(name_alg) = public.name_alg else {
        return Err(TpmRc::HASH);
    };
    if !public.auth_policy.is_empty() && public.auth_policy.len() != name_alg.digest_size() {
        return Err(TpmRc::SIZE);
    }
    let parent_attrs = parent.map(|p| p.public.object_attributes);
    let parent_fixed_tpm = parent_attrs.is_none_or(|pa| pa.fixed_tpm());
    if parent_fixed_tpm {
        if a.fixed_parent() != a.fixed_tpm() {
            return Err(TpmRc::ATTRIBUTES);
        }
    } else if a.fixed_tpm() {
        return Err(TpmRc::ATTRIBUTES);
    }
    if a.sign() == a.decrypt() {
        if a.restricted() {
            return Err(TpmRc::ATTRIBUTES);
        }
        if public.object_type() != TpmAlgId::KEYEDHASH && !a.sign() {
            return Err(TpmRc::ATTRIBUTES);
        }
    }
    if a.fixed_tpm() && a.encrypted_duplication() {
        return Err(TpmRc::ATTRIBUTES);
    }
    if let Some(pa) = parent_attrs {
        if !pa.fixed_tpm() && a.encrypted_duplication() != pa.encrypted_duplication() {
            return Err(TpmRc::ATTRIBUTES);
        }
    }
    if let (Some(p), Some(pa)) = (parent, parent_attrs) {
        if p.is_derivation_parent() && (a.fixed_tpm() != pa.fixed_tpm() || !a.fixed_parent()) {
            return Err(TpmRc::ATTRIBUTES);
        }
    }
    scheme_checks(parent, public)
}

/// True for the asymmetric signing schemes of the key type.
fn is_sign_scheme(parms: &TpmuPublicParms) -> bool {
    match parms {
        TpmuPublicParms::Rsa(p) => {
            matches!(
                p.scheme,
                TpmtRsaScheme::Rsassa(_) | TpmtRsaScheme::Rsapss(_)
            )
        }
        TpmuPublicParms::Ecc(p) => matches!(
            p.scheme,
            TpmtEccScheme::Ecdsa(_)
                | TpmtEccScheme::Ecdaa { .. }
                | TpmtEccScheme::Sm2(_)
                | TpmtEccScheme::Ecschnorr(_)
        ),
        _ => false,
    }
}

/// True for the asymmetric decryption (key exchange) schemes of the key type.
fn is_decrypt_scheme(parms: &TpmuPublicParms) -> bool {
    match parms {
        TpmuPublicParms::Rsa(p) => {
            matches!(p.scheme, TpmtRsaScheme::Rsaes | TpmtRsaScheme::Oaep(_))
        }
        TpmuPublicParms::Ecc(p) => matches!(
            p.scheme,
            TpmtEccScheme::Ecdh(_) | TpmtEccScheme::Sm2(_) | TpmtEccScheme::Ecmqv(_)
        ),
        _ => false,
    }
}

/// The scheme rules (Part 1, 27.2.5-27.2.6; Part 2, 12.2.3).
///
/// `TPM_RC_SCHEME`: a scheme that does not fit sign/decrypt/restricted (a key that
/// is both or neither must have none; a restricted signing key needs a signing
/// scheme; a parent has none; a keyed hash signs with HMAC and decrypts with XOR,
/// and a derivation parent's XOR uses KDF1_SP800_108); a decrypting symmetric key
/// with a MAC mode. `TPM_RC_SYMMETRIC`: an asymmetric key that is not a parent has
/// a symmetric algorithm, or a parent has none, or a fixedParent parent's differs
/// from its own parent's. `TPM_RC_HASH`: a fixedParent parent whose nameAlg
/// differs from its parent's. `TPM_RC_KDF`: an ECC key with a KDF.
pub fn scheme_checks(parent: Option<&KeyObject>, public: &TpmtPublic) -> TpmResult<()> {
    let a = public.object_attributes;
    let parms = &public.parameters;
    let sym: Option<TpmtSymDefObject> = match parms {
        TpmuPublicParms::SymCipher(p) => {
            if a.decrypt() {
                if let TpmtSymDefObject::Cipher { mode, .. } = p.sym {
                    if mode == TpmAlgId::CMAC {
                        return Err(TpmRc::SCHEME);
                    }
                }
            }
            Some(p.sym)
        }
        TpmuPublicParms::KeyedHash(p) => {
            if a.sign() == a.decrypt() {
                if p.scheme != TpmtKeyedHashScheme::Null {
                    return Err(TpmRc::SCHEME);
                }
            } else if a.sign() {
                if !matches!(p.scheme, TpmtKeyedHashScheme::Hmac(_)) {
                    return Err(TpmRc::SCHEME);
                }
            } else {
                let TpmtKeyedHashScheme::Xor { kdf, .. } = p.scheme else {
                    return Err(TpmRc::SCHEME);
                };
                if a.restricted() && kdf != TpmAlgId::KDF1_SP800_108 {
                    return Err(TpmRc::SCHEME);
                }
            }
            None
        }
        TpmuPublicParms::Rsa(_) | TpmuPublicParms::Ecc(_) => {
            let (scheme_null, symmetric) = match parms {
                TpmuPublicParms::Rsa(p) => (p.scheme == TpmtRsaScheme::Null, p.symmetric),
                TpmuPublicParms::Ecc(p) => (p.scheme == TpmtEccScheme::Null, p.symmetric),
                _ => (true, TpmtSymDefObject::Null),
            };
            if a.sign() == a.decrypt() {
                if !scheme_null {
                    return Err(TpmRc::SCHEME);
                }
            } else if a.sign() {
                // A signing scheme always carries a hash (TPMI_ALG_HASH, no NULL).
                if !is_sign_scheme(parms) && (a.restricted() || !scheme_null) {
                    return Err(TpmRc::SCHEME);
                }
            } else if a.restricted() {
                if !scheme_null {
                    return Err(TpmRc::SCHEME);
                }
            } else if !scheme_null && !is_decrypt_scheme(parms) {
                return Err(TpmRc::SCHEME);
            }
            if (!a.restricted() || !a.decrypt()) && symmetric != TpmtSymDefObject::Null {
                return Err(TpmRc::SYMMETRIC);
            }
            if let TpmuPublicParms::Ecc(p) = parms {
                // NIST curves prescribe no scheme; only TPM_ALG_NULL KDFs are used.
                if p.kdf.parts().0 != TpmAlgId::NULL {
                    return Err(TpmRc::KDF);
                }
            }
            Some(symmetric)
        }
    };
    if let Some(sym) = sym {
        if a.restricted() && a.decrypt() {
            if sym == TpmtSymDefObject::Null {
                return Err(TpmRc::SYMMETRIC);
            }
            if let Some(p) = parent {
                if a.fixed_parent() {
                    if public.name_alg != p.public.name_alg {
                        return Err(TpmRc::HASH);
                    }
                    if sym != p.protection() {
                        return Err(TpmRc::SYMMETRIC);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Key validity and the binding of a sensitive area to its public area
/// (CryptValidateKeys; ObjectLoad computes the RSA private key). `pub_n` and
/// `sens_n` are the parameter numbers to blame.
///
/// `TPM_RC_TYPE` (sens): the sensitive type differs from the public type;
/// `TPM_RC_SIZE` (sens): authValue longer than the nameAlg digest, or a parent's
/// seedValue shorter than half of it; `TPM_RC_KEY` (pub): a modulus, point or
/// unique field of the wrong size; `TPM_RC_VALUE` (pub): an RSA exponent below 7;
/// `TPM_RC_ECC_POINT` (pub): a public point off the curve; `TPM_RC_KEY_SIZE`
/// (sens): a prime, key or seedValue of the wrong size (no position for an
/// invalid ECC scalar); `TPM_RC_BINDING` (no position): the two areas do not
/// belong together.
pub fn keys(
    public: &TpmtPublic,
    sensitive: Option<&TpmtSensitive>,
    pub_n: u8,
    sens_n: u8,
) -> TpmResult<()> {
    let digest_size = public.name_alg.map_or(0, |h| h.digest_size());
    if let Some(s) = sensitive {
        if s.sensitive.object_type() != public.object_type() {
            return Err(TpmRc::TYPE.at_param(sens_n));
        }
        if digest_size > 0 && s.auth_value.len() > digest_size {
            return Err(TpmRc::SIZE.at_param(sens_n));
        }
    }
    match (&public.parameters, &public.unique) {
        (TpmuPublicParms::Rsa(p), TpmuPublicId::Rsa(n)) => {
            let bytes = usize::from(p.key_bits / 8);
            if n.len() != bytes || n.as_slice().first().is_none_or(|b| *b < 0x80) {
                return Err(TpmRc::KEY.at_param(pub_n));
            }
            if p.exponent != 0 && p.exponent < 7 {
                return Err(TpmRc::VALUE.at_param(pub_n));
            }
            if let Some(s) = sensitive {
                let prime = s.sensitive.as_slice();
                if prime.len().saturating_mul(2) != bytes || prime.first().is_none_or(|b| *b < 0x80)
                {
                    return Err(TpmRc::KEY_SIZE.at_param(sens_n));
                }
                let e = if p.exponent == 0 { 65537 } else { p.exponent };
                rsa_private_from_prime(n.as_slice(), e, prime).map_err(|_| TpmRc::BINDING)?;
            }
        }
        (TpmuPublicParms::Ecc(p), TpmuPublicId::Ecc(point)) => {
            let curve = EccCurve::from_id(p.curve_id.0).ok_or(TpmRc::CURVE.at_param(pub_n))?;
            let bytes = curve.key_bytes();
            let point = EccPoint {
                x: point.x.as_slice().to_vec(),
                y: point.y.as_slice().to_vec(),
            };
            match sensitive {
                None => {
                    if point.x.len() != bytes || point.y.len() != bytes {
                        return Err(TpmRc::KEY.at_param(pub_n));
                    }
                    if public.name_alg.is_some() && ecc_point_check(curve, &point).is_err() {
                        return Err(TpmRc::ECC_POINT.at_param(pub_n));
                    }
                }
                Some(s) => {
                    let d = ecc_private_from_bytes(curve, s.sensitive.as_slice())
                        .map_err(|_| TpmRc::KEY_SIZE)?;
                    if public.name_alg.is_some() && !same_point(&ecc_public(curve, &d), &point) {
                        return Err(TpmRc::BINDING);
                    }
                }
            }
        }
        (parms, TpmuPublicId::Sym(unique) | TpmuPublicId::KeyedHash(unique)) => match sensitive {
            None => {
                if unique.len() != digest_size {
                    return Err(TpmRc::KEY.at_param(pub_n));
                }
            }
            Some(s) => {
                let key = s.sensitive.as_slice();
                match parms {
                    TpmuPublicParms::SymCipher(sp) => {
                        let TpmtSymDefObject::Cipher { key_bits, .. } = sp.sym else {
                            return Err(TpmRc::SYMMETRIC.at_param(pub_n));
                        };
                        if key.len().saturating_mul(8) != usize::from(key_bits) {
                            return Err(TpmRc::KEY_SIZE.at_param(sens_n));
                        }
                    }
                    TpmuPublicParms::KeyedHash(kp) => {
                        let max = match kp.scheme {
                            TpmtKeyedHashScheme::Xor { hash_alg, .. } => hash_alg.block_size(),
                            TpmtKeyedHashScheme::Hmac(h) => h.block_size(),
                            TpmtKeyedHashScheme::Null => 128,
                        };
                        if key.len() > max {
                            return Err(TpmRc::KEY_SIZE.at_param(sens_n));
                        }
                    }
                    _ => return Err(TpmRc::TYPE.at_param(sens_n)),
                }
                if public.name_alg.is_some() {
                    if s.seed_value.len() != digest_size {
                        return Err(TpmRc::KEY_SIZE.at_param(sens_n));
                    }
                    let want = symmetric_unique(public, s.seed_value.as_slice(), key);
                    if !ct_eq(&want, unique.as_slice()) {
                        return Err(TpmRc::BINDING);
                    }
                }
            }
        },
        _ => return Err(TpmRc::SELECTOR.at_param(pub_n)),
    }
    let a = public.object_attributes;
    if let (true, true, Some(s), true) = (
        a.restricted(),
        a.decrypt(),
        sensitive,
        public.name_alg.is_some(),
    ) {
        let seed = s.seed_value.len();
        if seed < digest_size / 2 || seed > digest_size {
            return Err(TpmRc::SIZE.at_param(sens_n));
        }
    }
    Ok(())
}

/// Compares points as numbers (leading zero octets do not matter).
fn same_point(a: &EccPoint, b: &EccPoint) -> bool {
    fn strip(v: &[u8]) -> &[u8] {
        let i = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        v.get(i..).unwrap_or(&[])
    }
    strip(&a.x) == strip(&b.x) && strip(&a.y) == strip(&b.y)
}
