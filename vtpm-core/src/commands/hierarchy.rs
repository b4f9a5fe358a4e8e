//! Part 3, clause 24: Hierarchy Commands (HierarchyControl, HierarchyChangeAuth,
//! Clear, ClearControl, ChangePPS, ChangeEPS) and clause 25: Dictionary Attack
//! Functions.

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};
use crate::state::AuthPolicy;
use crate::tpm::new_secret;
use crate::types::constants::TpmRh;
use crate::types::sized::Tpm2bAuth;

/// An authValue as the TPM stores it: trailing zero octets removed (Part 1, 19.6.4).
pub fn auth_value(a: &[u8]) -> TpmResult<Tpm2bAuth> {
    let end = a
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i.saturating_add(1));
    Tpm2bAuth::new(a.get(..end).unwrap_or(&[]))
}

/// TPM2_HierarchyControl — Part 3 §24.2.
///
/// `TPM_RC_AUTH_TYPE`: the authorizing hierarchy may not change `enable` this way
/// (only platformAuth re-enables a hierarchy; only platformAuth touches the platform
/// hierarchy); `TPM_RC_VALUE` (parameter 1): `enable` is not a TPMI_RH_ENABLES.
pub fn hierarchy_control(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let enable: u32 = p.param()?;
    let state: bool = p.param()?;
    p.end()?;
    let auth = ctx.handle(0);
    let platform = auth == TpmRh::PLATFORM.0;
    let tpm = &mut *ctx.tpm;
    let current = match TpmRh(enable) {
        TpmRh::PLATFORM | TpmRh::PLATFORM_NV => {
            if !platform {
                return Err(TpmRc::AUTH_TYPE);
            }
            if enable == TpmRh::PLATFORM.0 {
                tpm.ph_enable
            } else {
                tpm.clear.ph_enable_nv
            }
        }
        TpmRh::OWNER => {
            if !platform && auth != TpmRh::OWNER.0 {
                return Err(TpmRc::AUTH_TYPE);
            }
            if !tpm.clear.sh_enable && state && !platform {
                return Err(TpmRc::AUTH_TYPE);
            }
            tpm.clear.sh_enable
        }
        TpmRh::ENDORSEMENT => {
            if !platform && auth != TpmRh::ENDORSEMENT.0 {
                return Err(TpmRc::AUTH_TYPE);
            }
            if !tpm.clear.eh_enable && state && !platform {
                return Err(TpmRc::AUTH_TYPE);
            }
            tpm.clear.eh_enable
        }
        _ => return Err(TpmRc::VALUE.at_param(1)),
    };
    if current != state {
        match TpmRh(enable) {
            TpmRh::PLATFORM => tpm.ph_enable = state,
            TpmRh::PLATFORM_NV => tpm.clear.ph_enable_nv = state,
            TpmRh::OWNER => tpm.clear.sh_enable = state,
            _ => tpm.clear.eh_enable = state,
        }
        // A disabled hierarchy's loaded objects are flushed.
        if !state && enable != TpmRh::PLATFORM_NV.0 {
            tpm.flush_hierarchy(enable);
        }
    }
    Ok(())
}

/// TPM2_HierarchyChangeAuth — Part 3 §24.8.
///
/// `TPM_RC_SIZE` (parameter 1): newAuth longer than the largest digest.
pub fn hierarchy_change_auth(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let new_auth: Tpm2bAuth = p.param()?;
    p.end()?;
    let value = auth_value(new_auth.as_slice()).map_err(|e| e.at_param(1))?;
    let handle = ctx.handle(0);
    let tpm = &mut *ctx.tpm;
    match TpmRh(handle) {
        TpmRh::OWNER => tpm.perm.owner_auth = value,
        TpmRh::ENDORSEMENT => tpm.perm.endorsement_auth = value,
        TpmRh::LOCKOUT => tpm.perm.lockout_auth = value,
        TpmRh::PLATFORM => {
            tpm.clear.platform_auth = value;
            return Ok(());
        }
        _ => return Err(TpmRc::VALUE.at_handle(1)),
    }
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_Clear — Part 3 §24.6: new Storage Primary Seed and owner/endorsement
/// proofs; owner, endorsement and lockout auth and policy emptied, and the PCR
/// authValues; Clock and the
/// reset counters back to zero; owner and endorsement hierarchies enabled; their
/// loaded and persistent objects removed, and the NV indices the owner defined.
///
/// `TPM_RC_DISABLED`: disableClear is SET.
pub fn clear(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let tpm = &mut *ctx.tpm;
    if tpm.perm.disable_clear {
        return Err(TpmRc::DISABLED);
    }
    tpm.perm.sps = new_secret(&mut tpm.drbg);
    tpm.perm.sh_proof = new_secret(&mut tpm.drbg);
    tpm.perm.eh_proof = new_secret(&mut tpm.drbg);
    // Owner and endorsement objects, loaded or persistent, go with the old proofs.
    for h in [TpmRh::OWNER.0, TpmRh::ENDORSEMENT.0] {
        tpm.flush_hierarchy(h);
        tpm.evict_hierarchy(h);
    }
    tpm.perm.nv.clear_owner();
    tpm.perm.owner_auth = Tpm2bAuth::empty();
    tpm.perm.endorsement_auth = Tpm2bAuth::empty();
    tpm.perm.lockout_auth = Tpm2bAuth::empty();
    tpm.perm.owner_policy = AuthPolicy::default();
    tpm.perm.endorsement_policy = AuthPolicy::default();
    tpm.perm.lockout_policy = AuthPolicy::default();
    // PCR authValues are emptied too (the reference implementation's PCR_ClearAuth).
    tpm.clear.pcr_auth = Tpm2bAuth::empty();
    tpm.clear.sh_enable = true;
    tpm.clear.eh_enable = true;
    tpm.sync_clock(ctx.platform);
    tpm.perm.clock = 0;
    tpm.perm.clock_safe = true;
    tpm.perm.reset_count = 0;
    tpm.reset.restart_count = 0;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_ClearControl — Part 3 §24.7: sets or clears disableClear.
///
/// `TPM_RC_AUTH_FAIL`: lockoutAuth may set disableClear but not clear it.
pub fn clear_control(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let disable: bool = p.param()?;
    p.end()?;
    if ctx.handle(0) == TpmRh::LOCKOUT.0 && !disable {
        return Err(TpmRc::AUTH_FAIL);
    }
    ctx.tpm.perm.disable_clear = disable;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_ChangePPS — Part 3 §24.4: new Platform Primary Seed; platformPolicy
/// emptied; platform objects, loaded or persistent, removed.
pub fn change_pps(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let tpm = &mut *ctx.tpm;
    tpm.perm.pps = new_secret(&mut tpm.drbg);
    tpm.perm.ph_proof = new_secret(&mut tpm.drbg);
    tpm.flush_hierarchy(TpmRh::PLATFORM.0);
    tpm.evict_hierarchy(TpmRh::PLATFORM.0);
    tpm.clear.platform_policy = AuthPolicy::default();
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_ChangeEPS — Part 3 §24.5: new Endorsement Primary Seed and proof;
/// endorsementAuth and endorsementPolicy emptied; endorsement objects, loaded or
/// persistent, removed.
pub fn change_eps(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let tpm = &mut *ctx.tpm;
    tpm.perm.eps = new_secret(&mut tpm.drbg);
    tpm.perm.eh_proof = new_secret(&mut tpm.drbg);
    tpm.flush_hierarchy(TpmRh::ENDORSEMENT.0);
    tpm.evict_hierarchy(TpmRh::ENDORSEMENT.0);
    tpm.perm.endorsement_auth = Tpm2bAuth::empty();
    tpm.perm.endorsement_policy = AuthPolicy::default();
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_DictionaryAttackLockReset — Part 3 §25.2: failedTries back to zero.
pub fn dictionary_attack_lock_reset(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    ctx.tpm.perm.da.failed_tries = 0;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_DictionaryAttackParameters — Part 3 §25.3: sets maxTries, recoveryTime and
/// lockoutRecovery; failedTries back to zero.
pub fn dictionary_attack_parameters(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let max_tries: u32 = p.param()?;
    let recovery_time: u32 = p.param()?;
    let lockout_recovery: u32 = p.param()?;
    p.end()?;
    let da = &mut ctx.tpm.perm.da;
    da.max_tries = max_tries;
    da.recovery_time = recovery_time;
    da.lockout_recovery = lockout_recovery;
    da.failed_tries = 0;
    ctx.nv_dirty = true;
    Ok(())
}
