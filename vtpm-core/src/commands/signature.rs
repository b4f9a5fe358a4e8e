//! Part 3, clause 20: Signing and Signature Verification — TPM2_VerifySignature
//! (§20.1) and TPM2_Sign (§20.2).

use crate::crypto::algorithms::IMPLEMENTED;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::signing::{select_scheme, sign_digest, verify_digest};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::state::ticket;
use crate::tpm::Tpm;
use crate::types::constants::{TpmRh, TpmSt};
use crate::types::public::TpmaObject;
use crate::types::signature::{TpmtSigScheme, TpmtSignature, TpmtTkVerified};
use crate::types::sized::Tpm2bDigest;
use crate::types::structures::TpmtTkHashcheck;

/// TPMT_SIG_SCHEME with +TPM_ALG_NULL, read against the implemented algorithms.
pub(crate) struct SigSchemeIn(pub TpmtSigScheme);

impl Unmarshal for SigSchemeIn {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtSigScheme::unmarshal_in(r, &IMPLEMENTED, true).map(SigSchemeIn)
    }
}

/// TPMT_SIGNATURE (with +TPM_ALG_NULL), read against the implemented algorithms.
struct SignatureIn(TpmtSignature);

impl Unmarshal for SignatureIn {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtSignature::unmarshal_in(r, &IMPLEMENTED, true).map(SignatureIn)
    }
}

/// A copy of the key at `handle` (handle 1 of the command), so that the DRBG can
/// be used while signing. `TPM_RC_HANDLE` (handle 1): nothing loaded there.
pub(crate) fn key_copy(tpm: &Tpm, handle: u32) -> TpmResult<KeyObject> {
    tpm.key(handle).cloned().ok_or(TpmRc::HANDLE.at_handle(1))
}

/// TPM2_Sign — Part 3 §20.2: signs an externally provided digest with a loaded
/// signing key. A restricted key signs only a digest the TPM computed itself, as
/// vouched for by a TPMT_TK_HASHCHECK ticket; a non-NULL ticket is checked for any
/// key.
///
/// `TPM_RC_KEY` (handle 1): not a signing key; `TPM_RC_ATTRIBUTES` (handle 1): an
/// x509sign key; `TPM_RC_SCHEME` (parameter 2): no usable scheme (both NULL, both
/// set and different, or not valid for the key); `TPM_RC_TICKET` (parameter 3):
/// the ticket does not vouch for digest; `TPM_RC_SIZE` (parameter 1): digest not
/// the size of the scheme's hash.
pub fn sign(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let digest: Tpm2bDigest = p.param()?;
    let scheme: SigSchemeIn = p.param()?;
    let validation: TpmtTkHashcheck = p.param()?;
    p.end()?;
    let key = key_copy(ctx.tpm, ctx.handle(0))?;
    let attrs = key.public.object_attributes;
    if !attrs.sign() {
        return Err(TpmRc::KEY.at_handle(1));
    }
    if attrs.contains(TpmaObject::X509_SIGN) {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    let scheme = select_scheme(&key, scheme.0).map_err(|e| e.at_param(2))?;
    let hash = scheme.parts().1.ok_or(TpmRc::SCHEME.at_param(2))?;
    let digest = digest.as_slice();
    if !validation.digest.as_slice().is_empty() || attrs.restricted() {
        if !ticket::verify_hashcheck(ctx.tpm, &validation, hash, digest) {
            return Err(TpmRc::TICKET.at_param(3));
        }
    } else if digest.len() != hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    let tpm = &mut *ctx.tpm;
    let signature = sign_digest(&key, scheme, digest, &mut |b: &mut [u8]| tpm.random(b)).map_err(
        |e| match e {
            TpmRc::SIZE => TpmRc::SIZE.at_param(1),
            TpmRc::SCHEME => TpmRc::SCHEME.at_param(2),
            TpmRc::KEY => TpmRc::KEY.at_handle(1),
            other => other,
        },
    )?;
    signature.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_VerifySignature — Part 3 §20.1: checks a signature over a digest with a
/// loaded key (public-only keys included) and returns a TPMT_TK_VERIFIED ticket:
/// `HMAC(proof, TPM_ST_VERIFIED || digest || keyName)` with the proof of the key's
/// hierarchy, or the NULL ticket for a key in the NULL hierarchy or without a Name
/// algorithm.
///
/// `TPM_RC_ATTRIBUTES` (handle 1): not a signing key; `TPM_RC_SIGNATURE`,
/// `TPM_RC_SCHEME`, `TPM_RC_KEY`, `TPM_RC_ECC_POINT` (parameter 2): the
/// signature does not verify, or cannot be checked with this key.
pub fn verify_signature(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let digest: Tpm2bDigest = p.param()?;
    let signature: SignatureIn = p.param()?;
    p.end()?;
    let tpm = &*ctx.tpm;
    let key = tpm.key(ctx.handle(0)).ok_or(TpmRc::HANDLE.at_handle(1))?;
    if !key.public.object_attributes.sign() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    verify_digest(key, digest.as_slice(), &signature.0).map_err(|e| e.at_param(2))?;
    let validation = if key.hierarchy == TpmRh::NULL.0 || key.public.name_alg.is_none() {
        TpmtTkVerified::null()
    } else {
        let hmac = ticket::compute(
            tpm,
            key.hierarchy,
            TpmSt::VERIFIED,
            &[digest.as_slice(), key.name_bytes()],
        );
        TpmtTkVerified {
            tag: TpmSt::VERIFIED,
            hierarchy: key.hierarchy,
            digest: Tpm2bDigest::from_vec(hmac).map_err(|_| TpmRc::FAILURE)?,
        }
    };
    validation.marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
