//! Authorization policies and values of hierarchies and PCRs: TPM2_SetPrimaryPolicy
//! (Part 3 §24.3), TPM2_PCR_SetAuthPolicy (§22.6) and TPM2_PCR_SetAuthValue
//! (§22.7), and the lookups the session layer makes for them (Part 1, 19.7).
//!
//! The PCR groups follow the reference implementation's PC Client configuration:
//! one authorization group and one policy group, both PCRs 20-22
//! ([`crate::state::pcr::in_auth_group`], [`crate::state::pcr::in_policy_group`]).
//! The group's authValue is STATE_CLEAR data (emptied by Startup(CLEAR) and
//! TPM2_Clear); its policy is permanent.
//!
//! SPEC-DEVIATION: authenticated countdown timers are not implemented, so
//! TPM2_SetPrimaryPolicy refuses a TPM_RH_ACT_x handle (`TPM_RC_VALUE`, handle 1,
//! as the handle type does not include them).

use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};
use crate::state::pcr::{in_auth_group, in_policy_group};
use crate::state::AuthPolicy;
use crate::tpm::Tpm;
use crate::types::constants::{TpmHt, TpmRh, IMPLEMENTATION_PCR};
use crate::types::sized::Tpm2bDigest;

use super::hierarchy::auth_value;

/// The policy a hierarchy or PCR handle is authorized with (possibly empty), or
/// None for a handle that has none (TPM_RH_NULL, a PCR outside the policy group).
pub(crate) fn entity_auth_policy(tpm: &Tpm, handle: u32) -> Option<&AuthPolicy> {
    match TpmHt::of(handle) {
        TpmHt::PERMANENT => match TpmRh(handle) {
            TpmRh::OWNER => Some(&tpm.perm.owner_policy),
            TpmRh::ENDORSEMENT => Some(&tpm.perm.endorsement_policy),
            TpmRh::LOCKOUT => Some(&tpm.perm.lockout_policy),
            TpmRh::PLATFORM => Some(&tpm.clear.platform_policy),
            _ => None,
        },
        TpmHt::PCR => {
            let index = u8::try_from(handle).ok()?;
            (index < IMPLEMENTATION_PCR && in_policy_group(index)).then_some(&tpm.perm.pcr_policy)
        }
        _ => None,
    }
}

/// Whether `handle` is a PCR whose policy group has a policy: only a policy
/// session may then authorize it (Part 3 §22.6).
pub(crate) fn pcr_policy_required(tpm: &Tpm, handle: u32) -> bool {
    TpmHt::of(handle) == TpmHt::PCR
        && entity_auth_policy(tpm, handle).is_some_and(|p| p.alg.is_some())
}

/// An AuthPolicy from a TPM2B_DIGEST and TPMI_ALG_HASH+ pair: the digest must be
/// exactly a digest of the hash (empty for TPM_ALG_NULL), `TPM_RC_SIZE` at
/// parameter `n` otherwise.
fn checked_policy(policy: Tpm2bDigest, alg: Option<HashAlg>, n: u8) -> TpmResult<AuthPolicy> {
    let size = alg.map_or(0, HashAlg::digest_size);
    if policy.len() != size {
        return Err(TpmRc::SIZE.at_param(n));
    }
    Ok(AuthPolicy {
        alg,
        digest: policy,
    })
}

/// TPM2_SetPrimaryPolicy — Part 3 §24.3: sets the authPolicy of the owner,
/// endorsement, lockout or platform hierarchy; an empty policy with TPM_ALG_NULL
/// removes it. platformPolicy is STATE_CLEAR data (empty after Startup(CLEAR));
/// the others are permanent until TPM2_Clear (owner, endorsement, lockout) or
/// TPM2_ChangeEPS (endorsement).
///
/// Refusals: `TPM_RC_SIZE` (parameter 1): authPolicy is not a digest of hashAlg
/// (or not empty for TPM_ALG_NULL); `TPM_RC_HASH` (parameter 2): hashAlg is not an
/// implemented hash; `TPM_RC_VALUE` (handle 1): not a hierarchy that has a policy
/// (TPM_RH_ACT_x included); `TPM_RC_HIERARCHY` (handle 1): the hierarchy is disabled.
pub fn set_primary_policy(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let policy: Tpm2bDigest = p.param()?;
    let alg: Option<HashAlg> = p.param()?;
    p.end()?;
    let policy = checked_policy(policy, alg, 1)?;
    let handle = ctx.handle(0);
    let tpm = &mut *ctx.tpm;
    match TpmRh(handle) {
        TpmRh::OWNER => tpm.perm.owner_policy = policy,
        TpmRh::ENDORSEMENT => tpm.perm.endorsement_policy = policy,
        TpmRh::LOCKOUT => tpm.perm.lockout_policy = policy,
        TpmRh::PLATFORM => {
            tpm.clear.platform_policy = policy;
            return Ok(());
        }
        _ => return Err(TpmRc::VALUE.at_handle(1)),
    }
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_PCR_SetAuthPolicy — Part 3 §22.6: sets the policy of the policy group
/// that PCR `pcrNum` belongs to (platform authorization). A non-empty policy makes
/// a policy session the only way to authorize those PCRs.
///
/// Refusals: `TPM_RC_SIZE` (parameter 1): authPolicy is not a digest of hashAlg
/// (or not empty for TPM_ALG_NULL); `TPM_RC_HASH` (parameter 2): hashAlg is not an
/// implemented hash; `TPM_RC_VALUE` (parameter 3): pcrNum is not a PCR or
/// belongs to no policy group.
pub fn pcr_set_auth_policy(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let policy: Tpm2bDigest = p.param()?;
    let alg: Option<HashAlg> = p.param()?;
    let pcr_num: u32 = p.param()?;
    p.end()?;
    let index = u8::try_from(pcr_num)
        .ok()
        .filter(|i| *i < IMPLEMENTATION_PCR)
        .ok_or(TpmRc::VALUE.at_param(3))?;
    let policy = checked_policy(policy, alg, 1)?;
    if !in_policy_group(index) {
        return Err(TpmRc::VALUE.at_param(3));
    }
    ctx.tpm.perm.pcr_policy = policy;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_PCR_SetAuthValue — Part 3 §22.7: sets the authValue of the authorization
/// group that PCR `pcrHandle` belongs to, authorized by that PCR (its current
/// authValue or policy). The value lasts until the next Startup(CLEAR) or
/// TPM2_Clear.
///
/// Refusals: `TPM_RC_VALUE` (handle 1): the PCR belongs to no authorization group.
pub fn pcr_set_auth_value(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let auth: Tpm2bDigest = p.param()?;
    p.end()?;
    let index = u8::try_from(ctx.handle(0)).map_err(|_| TpmRc::VALUE.at_handle(1))?;
    if !in_auth_group(index) {
        return Err(TpmRc::VALUE.at_handle(1));
    }
    ctx.tpm.clear.pcr_auth = auth_value(auth.as_slice()).map_err(|e| e.at_param(1))?;
    Ok(())
}

#[cfg(test)]
mod tests;
