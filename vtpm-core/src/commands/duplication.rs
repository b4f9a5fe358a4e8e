//! Part 3, clause 13: Duplication Commands — TPM2_Duplicate (§13.1),
//! TPM2_Rewrap (§13.2) and TPM2_Import (§13.3), with the duplication blob of
//! Part 1, 23.3:
//!
//! ```text
//! sens2B       = TPM2B_SENSITIVE of the object
//! inner (opt.) = CFB(encryptionKey, IV = 0, TPM2B_DIGEST(H_nameAlg(sens2B || Name)) || sens2B)
//! seed           shared with the new parent, label "DUPLICATE" (objects::secret)
//! symKey       = KDFa(pNameAlg, seed, "STORAGE", Name, "", pSym keyBits)
//! hmacKey      = KDFa(pNameAlg, seed, "INTEGRITY", "", "", digest bits)
//! encDup       = CFB(symKey, IV = 0, inner or sens2B)
//! duplicate    = TPM2B_DIGEST(HMAC_pNameAlg(hmacKey, encDup || Name)) || encDup
//! ```
//!
//! where nameAlg is the object's and pNameAlg / pSym the new parent's. Without a
//! new parent (TPM_RH_NULL) there is no outer wrapper and no seed.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::commands::object::{load_checks, storage_parent, Blame};
use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::crypto::sym::{aes_decrypt, aes_encrypt, SymMode};
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::protect::{new_iv, wrap_private, INTEGRITY_LABEL, STORAGE_LABEL};
use crate::objects::secret::{secret_decrypt, secret_encrypt, DUPLICATE_LABEL};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::{TpmAlgId, TpmRh};
use crate::types::public::{Tpm2bPublic, TpmtSymDefObject};
use crate::types::sensitive::{Tpm2bName, Tpm2bPrivate, Tpm2bSensitive, TpmtSensitive};
use crate::types::sized::{Tpm2bData, Tpm2bDigest, Tpm2bEncryptedSecret};

const BLOCK: usize = 16;
const ZERO_IV: [u8; BLOCK] = [0u8; BLOCK];

fn bits(octets: usize) -> u32 {
    u32::try_from(octets.saturating_mul(8)).unwrap_or(0)
}

/// TPMT_SYM_DEF_OBJECT+ as a command parameter (TPM_ALG_NULL allowed).
struct SymDefObjectOrNull(TpmtSymDefObject);

impl Unmarshal for SymDefObjectOrNull {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtSymDefObject::unmarshal_in(r, &IMPLEMENTED, true).map(SymDefObjectOrNull)
    }
}

/// The key length in octets of an inner wrapper (None: no inner wrapper). The
/// inner wrapper is AES in CFB mode (Part 1, 23.3.2.3); a mode of TPM_ALG_NULL
/// means CFB, any other mode is `TPM_RC_MODE` at parameter `n`.
fn inner_key_len(sym: &TpmtSymDefObject, n: u8) -> TpmResult<Option<usize>> {
    match *sym {
        TpmtSymDefObject::Null => Ok(None),
        TpmtSymDefObject::Cipher {
            algorithm: TpmAlgId::AES,
            key_bits,
            mode,
        } => {
            if mode != TpmAlgId::CFB && mode != TpmAlgId::NULL {
                return Err(TpmRc::MODE.at_param(n));
            }
            Ok(Some(usize::from(key_bits / 8)))
        }
        TpmtSymDefObject::Cipher { .. } => Err(TpmRc::SYMMETRIC.at_param(n)),
    }
}

/// The hash and AES key size of an outer wrapper for a storage key.
#[derive(Clone, Copy)]
struct Outer {
    alg: HashAlg,
    key_bits: u16,
}

/// ObjectIsStorage: a restricted decryption (not signing) RSA or ECC key, which
/// may be public-only; its outer-wrapper parameters. None otherwise.
fn storage_outer(key: &KeyObject) -> Option<Outer> {
    let a = key.public.object_attributes;
    let t = key.public.object_type();
    if !a.restricted() || !a.decrypt() || a.sign() || (t != TpmAlgId::RSA && t != TpmAlgId::ECC) {
        return None;
    }
    let alg = key.name_alg()?;
    match key.protection() {
        TpmtSymDefObject::Cipher {
            algorithm: TpmAlgId::AES,
            key_bits,
            ..
        } => Some(Outer { alg, key_bits }),
        _ => None,
    }
}

/// The storage key at `handle` with its outer-wrapper parameters;
/// `TPM_RC_TYPE` at handle `n` when it is not one.
fn outer_parent(key: Option<&KeyObject>, n: u8) -> TpmResult<(KeyObject, Outer)> {
    let key = key.ok_or(TpmRc::HANDLE.at_handle(n))?;
    let outer = storage_outer(key).ok_or(TpmRc::TYPE.at_handle(n))?;
    Ok((key.clone(), outer))
}

impl Outer {
    fn sym_key(&self, seed: &[u8], name: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(kdfa(
            self.alg,
            seed,
            STORAGE_LABEL,
            name,
            &[],
            u32::from(self.key_bits),
        ))
    }

    fn hmac(&self, seed: &[u8], enc: &[u8], name: &[u8]) -> Vec<u8> {
        let key = Zeroizing::new(kdfa(
            self.alg,
            seed,
            INTEGRITY_LABEL,
            &[],
            &[],
            bits(self.alg.digest_size()),
        ));
        self.alg.hmac_parts(&key, &[enc, name])
    }

    /// ProduceOuterWrap (no IV): integrity || CFB(symKey, 0, data).
    fn wrap(&self, seed: &[u8], name: &[u8], data: &[u8]) -> TpmResult<Vec<u8>> {
        let key = self.sym_key(seed, name);
        let (enc, _) = aes_encrypt(&key, SymMode::Cfb, &ZERO_IV, data)?;
        let mut out = Tpm2bDigest::from_vec(self.hmac(seed, &enc, name))
            .map_err(|_| TpmRc::FAILURE)?
            .to_bytes();
        out.extend_from_slice(&enc);
        Ok(out)
    }

    /// UnwrapOuter: checks the integrity and decrypts. Bare codes:
    /// `TPM_RC_INSUFFICIENT` / `TPM_RC_SIZE` (malformed integrity field),
    /// `TPM_RC_INTEGRITY` (the HMAC does not verify).
    fn unwrap(&self, seed: &[u8], name: &[u8], blob: &[u8]) -> TpmResult<Zeroizing<Vec<u8>>> {
        let mut r = Reader::new(blob);
        let integrity = Tpm2bDigest::unmarshal(&mut r)?;
        let enc = r.rest();
        if !ct_eq(&self.hmac(seed, enc, name), integrity.as_slice()) {
            return Err(TpmRc::INTEGRITY);
        }
        let key = self.sym_key(seed, name);
        let (plain, _) = aes_decrypt(&key, SymMode::Cfb, &ZERO_IV, enc)?;
        Ok(Zeroizing::new(plain))
    }
}

/// The inner wrapper: CFB(key, 0, TPM2B_DIGEST(H(sens2B || Name)) || sens2B).
fn inner_wrap(alg: HashAlg, key: &[u8], name: &[u8], sens: &[u8]) -> TpmResult<Vec<u8>> {
    let integrity = alg.digest_parts(&[sens, name]);
    let mut plain = Zeroizing::new(
        Tpm2bDigest::from_vec(integrity)
            .map_err(|_| TpmRc::FAILURE)?
            .to_bytes(),
    );
    plain.extend_from_slice(sens);
    let (enc, _) = aes_encrypt(key, SymMode::Cfb, &ZERO_IV, &plain)?;
    Ok(enc)
}

/// Removes the inner wrapper (with CheckInnerIntegrity). Bare codes:
/// `TPM_RC_INSUFFICIENT` / `TPM_RC_SIZE` (malformed), `TPM_RC_INTEGRITY`
/// (wrong key, wrong Name or altered data).
fn inner_unwrap(
    alg: HashAlg,
    key: &[u8],
    name: &[u8],
    blob: &[u8],
) -> TpmResult<Zeroizing<Vec<u8>>> {
    let (plain, _) = aes_decrypt(key, SymMode::Cfb, &ZERO_IV, blob)?;
    let plain = Zeroizing::new(plain);
    let mut r = Reader::new(&plain);
    let integrity = Tpm2bDigest::unmarshal(&mut r).map_err(|_| TpmRc::INTEGRITY)?;
    let sens = r.rest();
    if !ct_eq(&alg.digest_parts(&[sens, name]), integrity.as_slice()) {
        return Err(TpmRc::INTEGRITY);
    }
    Ok(Zeroizing::new(sens.to_vec()))
}

/// The TPMT_SENSITIVE in a marshalled TPM2B_SENSITIVE that must fill `data`:
/// `TPM_RC_SIZE` when the sizes disagree, unmarshalling codes otherwise.
fn sensitive_from(data: &[u8]) -> TpmResult<TpmtSensitive> {
    let mut r = Reader::new(data);
    let size = usize::from(r.u16()?);
    if size != r.remaining() {
        return Err(TpmRc::SIZE);
    }
    TpmtSensitive::from_bytes(r.rest())
}

/// TPM2_Duplicate — Part 3 §13.1: the sensitive area of objectHandle (DUP role,
/// which only a policy session gives), protected for newParentHandle: an
/// optional inner wrapper with a symmetric key (the caller's or a fresh one
/// returned in encryptionKeyOut) and, unless newParentHandle is TPM_RH_NULL, an
/// outer wrapper keyed from a seed shared with the new parent.
///
/// `TPM_RC_ATTRIBUTES` (handle 1): fixedParent or fixedTPM SET; `TPM_RC_TYPE`
/// (handle 1): no nameAlg or no sensitive area; `TPM_RC_TYPE` (handle 2): the
/// new parent is not a storage key; `TPM_RC_SYMMETRIC` (parameter 2):
/// encryptedDuplication SET without an inner wrapper, or not AES;
/// `TPM_RC_MODE` (parameter 2): not CFB; `TPM_RC_HIERARCHY` (handle 2):
/// encryptedDuplication SET with a NULL new parent; `TPM_RC_SIZE` (parameter 1):
/// encryptionKeyIn of the wrong size; secret-sharing codes (handle 2).
pub fn duplicate(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let key_in: Tpm2bData = p.param()?;
    let sym: SymDefObjectOrNull = p.param()?;
    p.end()?;
    let object = ctx
        .tpm
        .key(ctx.handle(0))
        .ok_or(TpmRc::HANDLE.at_handle(1))?
        .clone();
    let a = object.public.object_attributes;
    if a.fixed_parent() || a.fixed_tpm() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    let name_alg = object.name_alg().ok_or(TpmRc::TYPE.at_handle(1))?;
    let sensitive = object.sensitive.clone().ok_or(TpmRc::TYPE.at_handle(1))?;
    let new_parent_handle = ctx.handle(1);
    let new_parent = if new_parent_handle == TpmRh::NULL.0 {
        None
    } else {
        Some(outer_parent(ctx.tpm.key(new_parent_handle), 2)?)
    };
    let inner = inner_key_len(&sym.0, 2)?;
    if a.encrypted_duplication() {
        if inner.is_none() {
            return Err(TpmRc::SYMMETRIC.at_param(2));
        }
        if new_parent.is_none() {
            return Err(TpmRc::HIERARCHY.at_handle(2));
        }
    }
    match inner {
        None if !key_in.is_empty() => return Err(TpmRc::SIZE.at_param(1)),
        Some(n) if !key_in.is_empty() && key_in.len() != n => return Err(TpmRc::SIZE.at_param(1)),
        _ => {}
    }
    let tpm = &mut *ctx.tpm;
    let shared = match &new_parent {
        Some((parent, _)) => Some(
            secret_encrypt(&parent.public, DUPLICATE_LABEL, &mut |b| tpm.random(b))
                .map_err(|e| e.at_handle(2))?,
        ),
        None => None,
    };
    let name = object.name();
    let sens = Zeroizing::new(Tpm2bSensitive(Some(sensitive)).to_bytes());
    let (key_out, data) = match inner {
        None => (Zeroizing::new(Vec::new()), Zeroizing::new(sens.to_vec())),
        Some(n) => {
            let (key, key_out) = if key_in.is_empty() {
                let mut k = Zeroizing::new(alloc::vec![0u8; n]);
                tpm.random(&mut k);
                (k.clone(), k)
            } else {
                (
                    Zeroizing::new(key_in.as_slice().to_vec()),
                    Zeroizing::new(Vec::new()),
                )
            };
            let wrapped = inner_wrap(name_alg, &key, &name, &sens)?;
            (key_out, Zeroizing::new(wrapped))
        }
    };
    let (dup, seed_out) = match (&new_parent, shared) {
        (Some((_, outer)), Some(s)) => (outer.wrap(&s.seed, &name, &data)?, s.encrypted),
        _ => (data.to_vec(), Vec::new()),
    };
    Tpm2bData::new(&key_out)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Tpm2bPrivate::from_vec(dup)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Tpm2bEncryptedSecret::from_vec(seed_out)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_Rewrap — Part 3 §13.2: replaces the outer wrapper of a duplication blob
/// made for oldParent (USER role; TPM_RH_NULL: no outer wrapper) with one for
/// newParent (TPM_RH_NULL: none).
///
/// `TPM_RC_HANDLE` (handle 1): inSymSeed is empty for a non-NULL oldParent or
/// not empty for a NULL one; `TPM_RC_TYPE` (handle 1 / 2): a parent is not a
/// storage key; `TPM_RC_VALUE` (parameter 3): inSymSeed does not decrypt;
/// `TPM_RC_INTEGRITY` (parameter 1): inDuplicate was not made for oldParent and
/// name, or was altered; `TPM_RC_VALUE` (parameter 1): the result would not fit
/// a TPM2B_PRIVATE; secret-sharing codes (handle 2).
pub fn rewrap(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_duplicate: Tpm2bPrivate = p.param()?;
    let name: Tpm2bName = p.param()?;
    let in_seed: Tpm2bEncryptedSecret = p.param()?;
    p.end()?;
    let old_handle = ctx.handle(0);
    let new_handle = ctx.handle(1);
    let old_is_null = old_handle == TpmRh::NULL.0;
    if in_seed.is_empty() != old_is_null {
        return Err(TpmRc::HANDLE.at_handle(1));
    }
    let name = name.as_slice();
    let inner = if old_is_null {
        Zeroizing::new(in_duplicate.as_slice().to_vec())
    } else {
        let (old, outer) = outer_parent(ctx.tpm.key(old_handle), 1)?;
        let seed = secret_decrypt(&old, DUPLICATE_LABEL, in_seed.as_slice())
            .map_err(|_| TpmRc::VALUE.at_param(3))?;
        outer
            .unwrap(&seed, name, in_duplicate.as_slice())
            .map_err(|e| e.at_param(1))?
    };
    let (out, seed_out) = if new_handle == TpmRh::NULL.0 {
        (inner.to_vec(), Vec::new())
    } else {
        let (new, outer) = outer_parent(ctx.tpm.key(new_handle), 2)?;
        let tpm = &mut *ctx.tpm;
        let shared = secret_encrypt(&new.public, DUPLICATE_LABEL, &mut |b| tpm.random(b))
            .map_err(|e| e.at_handle(2))?;
        (outer.wrap(&shared.seed, name, &inner)?, shared.encrypted)
    };
    Tpm2bPrivate::from_vec(out)
        .map_err(|_| TpmRc::VALUE.at_param(1))?
        .marshal(&mut ctx.out);
    Tpm2bEncryptedSecret::from_vec(seed_out)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_Import — Part 3 §13.3: turns a duplication blob into a private area
/// under parentHandle (USER role), loadable with TPM2_Load.
///
/// `TPM_RC_SIZE` (parameter 1): encryptionKey not empty without an inner
/// wrapper, or not of the key size with one; `TPM_RC_SYMMETRIC`, `TPM_RC_MODE`
/// (parameter 5): an inner wrapper other than AES-CFB, or none for an object
/// with encryptedDuplication SET; `TPM_RC_ATTRIBUTES` (parameter 2): fixedTPM or
/// fixedParent SET; `TPM_RC_ATTRIBUTES` (parameter 4): encryptedDuplication SET
/// without an outer wrapper; `TPM_RC_TYPE` (handle 1): parentHandle is not a
/// storage parent, or is a symmetric key and inSymSeed is not empty;
/// secret-sharing codes (parameter 4); `TPM_RC_INTEGRITY` (parameter 3): a
/// wrapper does not verify (wrong parent, wrong key, wrong public area or altered
/// blob); `TPM_RC_SIZE` and unmarshalling codes (parameter 3): malformed
/// sensitive area; the load checks of the public area (parameter 2) and
/// `TPM_RC_BINDING` when the areas do not belong together.
pub fn import(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let encryption_key: Tpm2bData = p.param()?;
    let object_public: Tpm2bPublic = p.param()?;
    let duplicate: Tpm2bPrivate = p.param()?;
    let in_seed: Tpm2bEncryptedSecret = p.param()?;
    let sym: SymDefObjectOrNull = p.param()?;
    p.end()?;
    let inner = inner_key_len(&sym.0, 5)?;
    match inner {
        None if !encryption_key.is_empty() => return Err(TpmRc::SIZE.at_param(1)),
        Some(n) if encryption_key.len() != n => return Err(TpmRc::SIZE.at_param(1)),
        _ => {}
    }
    let public = object_public.0;
    let a = public.object_attributes;
    if a.fixed_tpm() || a.fixed_parent() {
        return Err(TpmRc::ATTRIBUTES.at_param(2));
    }
    let parent = storage_parent(ctx.tpm, ctx.handle(0), 1)?;
    if a.encrypted_duplication() {
        if inner.is_none() {
            return Err(TpmRc::SYMMETRIC.at_param(5));
        }
        if in_seed.is_empty() {
            return Err(TpmRc::ATTRIBUTES.at_param(4));
        }
    }
    let name_alg = public.name_alg.ok_or(TpmRc::HASH.at_param(2))?;
    let name = public.name();
    let data = if in_seed.is_empty() {
        Zeroizing::new(duplicate.as_slice().to_vec())
    } else {
        let outer = storage_outer(&parent).ok_or(TpmRc::TYPE.at_handle(1))?;
        let seed = secret_decrypt(&parent, DUPLICATE_LABEL, in_seed.as_slice())
            .map_err(|e| e.at_param(4))?;
        outer
            .unwrap(&seed, &name, duplicate.as_slice())
            .map_err(|e| e.at_param(3))?
    };
    let data = match inner {
        Some(_) => inner_unwrap(name_alg, encryption_key.as_slice(), &name, &data)
            .map_err(|e| e.at_param(3))?,
        None => data,
    };
    let sensitive = sensitive_from(&data).map_err(|e| e.at_param(3))?;
    // SPEC-DEVIATION: the object is validated as TPM2_Load would validate it under
    // every parent, not only under a fixedTPM one, so a blob that could never
    // load is refused here already.
    load_checks(
        Some(&parent),
        &public,
        Some(&sensitive),
        Blame {
            public: 2,
            sensitive: 3,
        },
    )?;
    let iv = new_iv(|b| ctx.tpm.random(b));
    let private = wrap_private(&parent, &name, &sensitive, &iv)?;
    Tpm2bPrivate::from_vec(private)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
