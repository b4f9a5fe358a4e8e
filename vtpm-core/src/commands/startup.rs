//! Part 3, clause 9: Start-up — TPM2_Startup and TPM2_Shutdown, with the TPM Reset,
//! TPM Restart and TPM Resume semantics of Part 1, clause 12.

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::ObjectTable;
use crate::state::pcr::attributes;
use crate::state::{ClearState, OrderlySave, PcrBanks};
use crate::tpm::{new_secret, Power, Tpm};
use crate::types::constants::{TpmSu, IMPLEMENTATION_PCR};

/// TPM2_Startup — Part 3 §9.3.
///
/// `TPM_RC_VALUE` (parameter 1): Startup(STATE) without a preceding Shutdown(STATE),
/// or with a PCR allocation pending; `TPM_RC_LOCALITY`: not at locality 0 or 3.
pub fn startup(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let su: TpmSu = p.param()?;
    p.end()?;
    if su != TpmSu::CLEAR && su != TpmSu::STATE {
        return Err(TpmRc::VALUE.at_param(1));
    }
    if ctx.locality != 0 && ctx.locality != 3 {
        return Err(TpmRc::LOCALITY);
    }
    let tpm = &mut *ctx.tpm;
    let saved_state = tpm.perm.orderly.as_ref().is_some_and(|o| o.state);
    if su == TpmSu::STATE && (!saved_state || tpm.perm.pcr_allocation_pending.is_some()) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let orderly = tpm.perm.orderly.take();
    if orderly.is_none() && tpm.perm.da.used_since_startup {
        // Part 1 §19.8.6: an unorderly shutdown after a DA-protected authorization
        // counts as one authorization failure, so cutting power cannot be used to
        // try passwords without the count going up.
        tpm.da_failure(ctx.platform);
    }
    tpm.perm.da.used_since_startup = false;
    match (su, orderly) {
        (TpmSu::STATE, Some(save)) => tpm_resume(tpm, save),
        (_, Some(save)) if save.state => tpm_restart(tpm, save),
        (_, prev) => {
            tpm_reset(tpm, prev.is_some());
            // Saved session contexts end with the NULL proof at TPM Reset.
            tpm.sessions.clear();
        }
    }
    if ctx.locality == 3 {
        // PC Client: a Startup at locality 3 records it in PCR 0.
        tpm.pcrs.set_all_banks(0, 0);
        for b in &mut tpm.pcrs.banks {
            if let Some(last) = b.values.first_mut().and_then(|v| v.last_mut()) {
                *last = 3;
            }
        }
    }
    // An H-CRTM since _TPM_Init decides PCR 0 (it supersedes locality 3).
    tpm.apply_hcrtm();
    tpm.ph_enable = true;
    tpm.objects = ObjectTable::default();
    // Loaded sessions end at every Startup; saved ones survive TPM Restart and
    // TPM Resume (Part 1, clause 30).
    tpm.sessions.clear_loaded();
    tpm.exclusive_audit = None;
    tpm.power = Power::Running;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM Reset: new NULL seed, counters restarted, PCRs fresh (a pending allocation
/// takes effect here).
fn tpm_reset(tpm: &mut Tpm, was_orderly: bool) {
    if let Some(pending) = tpm.perm.pcr_allocation_pending.take() {
        tpm.perm.pcr_allocation = pending;
    }
    if tpm.perm.total_reset_count > 0 {
        tpm.perm.reset_count = tpm.perm.reset_count.saturating_add(1);
    }
    tpm.perm.total_reset_count = tpm.perm.total_reset_count.saturating_add(1);
    if !was_orderly {
        tpm.perm.clock_safe = false;
    }
    if tpm.perm.da.lockout_recovery == 0 {
        tpm.perm.da.lockout_auth_enabled = true;
    }
    tpm.reset.null_seed = new_secret(&mut tpm.drbg);
    tpm.reset.null_proof = new_secret(&mut tpm.drbg);
    tpm.reset.restart_count = 0;
    tpm.reset.command_audit_digest.clear();
    tpm.clear = ClearState::default();
    tpm.pcrs = PcrBanks::new(&tpm.perm.pcr_allocation);
    tpm.perm.nv.startup_clear();
}

/// TPM Restart: Shutdown(STATE) then Startup(CLEAR): reset data kept, clear data
/// and PCRs fresh.
fn tpm_restart(tpm: &mut Tpm, save: OrderlySave) {
    tpm.reset = save.reset.clone();
    tpm.reset.restart_count = tpm.reset.restart_count.saturating_add(1);
    tpm.clear = ClearState::default();
    tpm.pcrs = PcrBanks::new(&tpm.perm.pcr_allocation);
    tpm.perm.nv.startup_clear();
}

/// TPM Resume: Shutdown(STATE) then Startup(STATE): reset and clear data restored,
/// the PCRs with the stateSave attribute restored.
fn tpm_resume(tpm: &mut Tpm, save: OrderlySave) {
    tpm.reset = save.reset.clone();
    tpm.reset.restart_count = tpm.reset.restart_count.saturating_add(1);
    tpm.clear = save.clear.clone();
    let mut pcrs = PcrBanks::new(&tpm.perm.pcr_allocation);
    for bank in &mut pcrs.banks {
        let Some(saved) = save.saved_pcrs.bank(bank.alg) else {
            continue;
        };
        for (i, (v, s)) in bank.values.iter_mut().zip(saved.values.iter()).enumerate() {
            let index = u8::try_from(i).unwrap_or(IMPLEMENTATION_PCR);
            if attributes(index).state_save && s.len() == v.len() {
                v.clone_from(s);
            }
        }
    }
    pcrs.update_counter = save.saved_pcrs.update_counter;
    tpm.pcrs = pcrs;
}

/// TPM2_Shutdown — Part 3 §9.4.
///
/// `TPM_RC_VALUE` (parameter 1): an unknown shutdown type; `TPM_RC_TYPE`
/// (parameter 1): Shutdown(STATE) while a PCR_Allocate is pending.
pub fn shutdown(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let su: TpmSu = p.param()?;
    p.end()?;
    if su != TpmSu::CLEAR && su != TpmSu::STATE {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let tpm = &mut *ctx.tpm;
    if su == TpmSu::STATE && tpm.perm.pcr_allocation_pending.is_some() {
        // A new PCR allocation needs a TPM Reset; a saved state could not resume.
        return Err(TpmRc::TYPE.at_param(1));
    }
    let mut saved_pcrs = tpm.pcrs.clone();
    for bank in &mut saved_pcrs.banks {
        for (i, v) in bank.values.iter_mut().enumerate() {
            let index = u8::try_from(i).unwrap_or(IMPLEMENTATION_PCR);
            if !attributes(index).state_save {
                v.iter_mut().for_each(|b| *b = 0);
            }
        }
    }
    tpm.perm.orderly = Some(OrderlySave {
        state: su == TpmSu::STATE,
        reset: tpm.reset.clone(),
        clear: tpm.clear.clone(),
        saved_pcrs,
    });
    tpm.perm.clock_safe = true;
    ctx.nv_dirty = true;
    Ok(())
}
