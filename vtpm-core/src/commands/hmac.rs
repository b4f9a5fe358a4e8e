//! Part 3, clause 15.5: TPM2_HMAC, and clause 17.2.2: TPM2_HMAC_Start (HMAC
//! sequences, completed with TPM2_SequenceComplete in `commands::hash`).

use crate::commands::hierarchy::auth_value;
use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::objects::signing::hmac;
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::{Object, SequenceObject};
use crate::types::public::{TpmtKeyedHashScheme, TpmuPublicParms};
use crate::types::sized::{Tpm2bAuth, Tpm2bDigest, Tpm2bMaxBuffer};

/// The HMAC key at handle 1 and the hash to use, after the checks TPM2_HMAC and
/// TPM2_HMAC_Start share: `TPM_RC_TYPE` (handle 1): not a KEYEDHASH object;
/// `TPM_RC_ATTRIBUTES` (handle 1): restricted; `TPM_RC_KEY` (handle 1): not a
/// signing key, or no sensitive part; `TPM_RC_VALUE` (parameter `alg_param`): the
/// key has no scheme and `requested` is TPM_ALG_NULL, or the key's hash differs
/// from a non-NULL `requested`.
fn hmac_key(
    key: &KeyObject,
    requested: Option<HashAlg>,
    alg_param: u8,
) -> TpmResult<(&[u8], HashAlg)> {
    let TpmuPublicParms::KeyedHash(parms) = &key.public.parameters else {
        return Err(TpmRc::TYPE.at_handle(1));
    };
    let attrs = key.public.object_attributes;
    if attrs.restricted() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    if !attrs.sign() {
        return Err(TpmRc::KEY.at_handle(1));
    }
    let own = match parms.scheme {
        TpmtKeyedHashScheme::Hmac(h) => Some(h),
        _ => None,
    };
    let alg = match (own, requested) {
        (Some(o), Some(r)) if o != r => None,
        (Some(o), _) => Some(o),
        (None, r) => r,
    };
    let alg = alg.ok_or(TpmRc::VALUE.at_param(alg_param))?;
    // A public-only object (TPM2_LoadExternal) has no key to compute with.
    let secret = key
        .sensitive
        .as_ref()
        .map(|s| s.sensitive.as_slice())
        .ok_or(TpmRc::KEY.at_handle(1))?;
    Ok((secret, alg))
}

/// TPM2_HMAC — Part 3 §15.5: the HMAC of buffer with a loaded unrestricted
/// KEYEDHASH signing key. The hash is the key's scheme hash, or hashAlg when the
/// key's scheme is TPM_ALG_NULL.
///
/// `TPM_RC_TYPE`, `TPM_RC_ATTRIBUTES`, `TPM_RC_KEY` (handle 1): not such a key;
/// `TPM_RC_VALUE` (parameter 2): no hash, or hashAlg conflicts with the key's;
/// `TPM_RC_HASH` (parameter 2): hashAlg not an implemented hash.
pub fn hmac_command(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let buffer: Tpm2bMaxBuffer = p.param()?;
    let requested: Option<HashAlg> = p.param()?;
    p.end()?;
    let key = ctx
        .tpm
        .key(ctx.handle(0))
        .ok_or(TpmRc::HANDLE.at_handle(1))?;
    let (secret, alg) = hmac_key(key, requested, 2)?;
    let out = hmac(alg, secret, &[buffer.as_slice()]);
    Tpm2bDigest::new(&out)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_HMAC_Start — Part 3 §17.2.2: starts an HMAC sequence with a loaded
/// unrestricted KEYEDHASH signing key and returns its handle. The sequence keeps
/// its own copy of the key; its authValue is auth.
///
/// Key and hash refusals as for TPM2_HMAC (hashAlg is parameter 2);
/// `TPM_RC_SIZE` (parameter 1): auth longer than the largest digest;
/// `TPM_RC_OBJECT_MEMORY`: every transient object slot is taken.
pub fn hmac_start(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let auth: Tpm2bAuth = p.param()?;
    let requested: Option<HashAlg> = p.param()?;
    p.end()?;
    let key = ctx
        .tpm
        .key(ctx.handle(0))
        .ok_or(TpmRc::HANDLE.at_handle(1))?;
    let (secret, alg) = hmac_key(key, requested, 2)?;
    let auth = auth_value(auth.as_slice()).map_err(|e| e.at_param(1))?;
    let sequence = SequenceObject::new_hmac(alg, secret, auth);
    let handle = ctx.tpm.objects.insert(Object::Sequence(sequence))?;
    ctx.out_handles.push(handle);
    Ok(())
}

#[cfg(test)]
mod tests;
