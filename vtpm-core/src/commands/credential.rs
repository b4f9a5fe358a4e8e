//! Part 3, clause 12: TPM2_MakeCredential (§12.6) and TPM2_ActivateCredential
//! (§12.5), with the credential protection of Part 1, 24.4-24.5:
//!
//! ```text
//! seed          shared with keyHandle, label "IDENTITY" (objects::secret)
//! symKey      = KDFa(nameAlg, seed, "STORAGE", objectName, "", symmetric keyBits)
//! encIdentity = CFB(symKey, IV = 0, TPM2B_DIGEST(credential))
//! hmacKey     = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits)
//! integrity   = HMAC_nameAlg(hmacKey, encIdentity || objectName)
//! credentialBlob (TPMS_ID_OBJECT) = TPM2B_DIGEST(integrity) || encIdentity
//! ```
//!
//! with nameAlg and symmetric those of keyHandle.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::crypto::sym::{aes_decrypt, aes_encrypt, SymMode};
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::protect::{INTEGRITY_LABEL, STORAGE_LABEL};
use crate::objects::secret::{secret_decrypt, secret_encrypt, IDENTITY_LABEL};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::public::TpmtSymDefObject;
use crate::types::sensitive::Tpm2bName;
use crate::types::sized::{Tpm2bDigest, Tpm2bEncryptedSecret, Tpm2bIdObject};

const BLOCK: usize = 16;

fn bits(octets: usize) -> u32 {
    u32::try_from(octets.saturating_mul(8)).unwrap_or(0)
}

/// The nameAlg and AES key size of a restricted decryption key (the only keys
/// that protect credentials): `TPM_RC_TYPE` at handle `n` otherwise.
fn credential_key(key: Option<&KeyObject>, n: u8) -> TpmResult<(KeyObject, HashAlg, u16)> {
    let key = key.ok_or(TpmRc::HANDLE.at_handle(n))?;
    let a = key.public.object_attributes;
    if !a.restricted() || !a.decrypt() {
        return Err(TpmRc::TYPE.at_handle(n));
    }
    let alg = key.name_alg().ok_or(TpmRc::TYPE.at_handle(n))?;
    let TpmtSymDefObject::Cipher {
        algorithm: TpmAlgId::AES,
        key_bits,
        ..
    } = key.protection()
    else {
        return Err(TpmRc::TYPE.at_handle(n));
    };
    Ok((key.clone(), alg, key_bits))
}

fn sym_key(alg: HashAlg, seed: &[u8], name: &[u8], key_bits: u16) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(kdfa(
        alg,
        seed,
        STORAGE_LABEL,
        name,
        &[],
        u32::from(key_bits),
    ))
}

fn integrity(alg: HashAlg, seed: &[u8], enc: &[u8], name: &[u8]) -> Vec<u8> {
    let key = Zeroizing::new(kdfa(
        alg,
        seed,
        INTEGRITY_LABEL,
        &[],
        &[],
        bits(alg.digest_size()),
    ));
    alg.hmac_parts(&key, &[enc, name])
}

/// SecretToCredential: the TPMS_ID_OBJECT protecting `credential` for `name`.
pub(crate) fn secret_to_credential(
    alg: HashAlg,
    key_bits: u16,
    seed: &[u8],
    name: &[u8],
    credential: &[u8],
) -> TpmResult<Vec<u8>> {
    let plain = Zeroizing::new(Tpm2bDigest::new(credential)?.to_bytes());
    let key = sym_key(alg, seed, name, key_bits);
    let (enc, _) = aes_encrypt(&key, SymMode::Cfb, &[0u8; BLOCK], &plain)?;
    let hmac = integrity(alg, seed, &enc, name);
    let mut out = Tpm2bDigest::from_vec(hmac)?.to_bytes();
    out.extend_from_slice(&enc);
    Ok(out)
}

/// CredentialToSecret: the credential in `blob` (TPMS_ID_OBJECT). Bare codes:
/// `TPM_RC_INSUFFICIENT` / `TPM_RC_SIZE` (malformed integrity),
/// `TPM_RC_INTEGRITY` (the HMAC does not verify: wrong key, wrong Name or a
/// tampered blob), `TPM_RC_SIZE` (the decrypted credential is malformed).
pub(crate) fn credential_to_secret(
    alg: HashAlg,
    key_bits: u16,
    seed: &[u8],
    name: &[u8],
    blob: &[u8],
) -> TpmResult<Zeroizing<Vec<u8>>> {
    let mut r = Reader::new(blob);
    let hmac = Tpm2bDigest::unmarshal(&mut r)?;
    let enc = r.rest();
    if !ct_eq(&integrity(alg, seed, enc, name), hmac.as_slice()) {
        return Err(TpmRc::INTEGRITY);
    }
    let key = sym_key(alg, seed, name, key_bits);
    let (plain, _) = aes_decrypt(&key, SymMode::Cfb, &[0u8; BLOCK], enc)?;
    let plain = Zeroizing::new(plain);
    let mut pr = Reader::new(&plain);
    let size = usize::from(pr.u16().map_err(|_| TpmRc::SIZE)?);
    if size != pr.remaining() || size > alg.digest_size() {
        return Err(TpmRc::SIZE);
    }
    Ok(Zeroizing::new(pr.rest().to_vec()))
}

/// TPM2_MakeCredential — Part 3 §12.6: protects `credential` so that only the
/// holder of handle's private key, with the object named objectName loaded,
/// can recover it with TPM2_ActivateCredential. No authorization; handle may be
/// a public-only object.
///
/// `TPM_RC_TYPE` (handle 1): handle is not a restricted decryption key with an
/// AES symmetric definition; `TPM_RC_SIZE` (parameter 1): credential longer than
/// the handle's nameAlg digest; `TPM_RC_ATTRIBUTES`, `TPM_RC_KEY`,
/// `TPM_RC_SCHEME`, `TPM_RC_ECC_POINT` (handle 1): the key cannot share a secret.
pub fn make_credential(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let credential: Tpm2bDigest = p.param()?;
    let object_name: Tpm2bName = p.param()?;
    p.end()?;
    let (key, alg, key_bits) = credential_key(ctx.tpm.key(ctx.handle(0)), 1)?;
    if credential.len() > alg.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    let tpm = &mut *ctx.tpm;
    let shared = secret_encrypt(&key.public, IDENTITY_LABEL, &mut |b| tpm.random(b))
        .map_err(|e| e.at_handle(1))?;
    let blob = secret_to_credential(
        alg,
        key_bits,
        &shared.seed,
        object_name.as_slice(),
        credential.as_slice(),
    )?;
    Tpm2bIdObject::from_vec(blob)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Tpm2bEncryptedSecret::from_vec(shared.encrypted)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ActivateCredential — Part 3 §12.5: recovers the credential protected by
/// TPM2_MakeCredential for the Name of activateHandle (ADMIN role) with the
/// private key of keyHandle (USER role).
///
/// `TPM_RC_TYPE` (handle 2): keyHandle is not a restricted decryption key with an
/// AES symmetric definition; `TPM_RC_KEY`, `TPM_RC_ATTRIBUTES` (handle 2):
/// keyHandle has no usable private key; `TPM_RC_VALUE`, `TPM_RC_SIZE`,
/// `TPM_RC_ECC_POINT`, `TPM_RC_NO_RESULT` (parameter 2): secret does not decrypt;
/// `TPM_RC_INTEGRITY` (parameter 1): credentialBlob was not made for this key and
/// Name, or was altered; `TPM_RC_INSUFFICIENT`, `TPM_RC_SIZE` (parameter 1):
/// malformed credentialBlob.
pub fn activate_credential(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let blob: Tpm2bIdObject = p.param()?;
    let secret: Tpm2bEncryptedSecret = p.param()?;
    p.end()?;
    let name = ctx
        .tpm
        .key(ctx.handle(0))
        .ok_or(TpmRc::HANDLE.at_handle(1))?
        .name();
    let (key, alg, key_bits) = credential_key(ctx.tpm.key(ctx.handle(1)), 2)?;
    let seed = secret_decrypt(&key, IDENTITY_LABEL, secret.as_slice()).map_err(|e| {
        if e == TpmRc::KEY || e == TpmRc::ATTRIBUTES || e == TpmRc::SCHEME {
            e.at_handle(2)
        } else {
            e.at_param(2)
        }
    })?;
    let cred = credential_to_secret(alg, key_bits, &seed, &name, blob.as_slice())
        .map_err(|e| e.at_param(1))?;
    Tpm2bDigest::new(&cred)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
