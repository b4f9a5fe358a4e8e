//! Part 3, clause 22: Integrity Collection (PCR) — TPM2_PCR_Extend, TPM2_PCR_Event,
//! TPM2_PCR_Read, TPM2_PCR_Allocate and TPM2_PCR_Reset.
//!
//! The PCR attributes (which locality may extend or reset which PCR, which PCRs do
//! not move pcrUpdateCounter) are the PC Client ones in [`crate::state::pcr`].
//! Banks are allocated whole: every implemented PCR of a bank, or none.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::rc::{TpmRc, TpmResult};
use crate::state::pcr::{extend_allowed, reset_allowed};
use crate::types::constants::IMPLEMENTATION_PCR;
use crate::types::sized::{Tpm2bDigest, Tpm2bEvent};
use crate::types::structures::{
    TpmlDigest, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa,
};

/// Bitmap of every implemented PCR (a fully allocated bank).
const ALL_PCRS: u32 = (1 << IMPLEMENTATION_PCR) - 1;

/// The PCR that must stay allocated in some bank for the H-CRTM (PC Client: PCR 0).
const HCRTM_PCR: u8 = 0;

/// The PCR that must stay allocated in some bank for the D-RTM (PC Client: PCR 17).
const DRTM_PCR: u8 = 17;

/// The PCR index a TPMI_DH_PCR+ handle names; `None` for TPM_RH_NULL (the
/// dispatcher has already refused anything else).
pub(crate) fn pcr_index(handle: u32) -> Option<u8> {
    u8::try_from(handle)
        .ok()
        .filter(|i| *i < IMPLEMENTATION_PCR)
}

/// Checks that the command's locality may extend the PCR `handle` names (nothing
/// to check for TPM_RH_NULL). `TPM_RC_LOCALITY` otherwise.
pub(crate) fn check_extend(ctx: &Ctx<'_>, handle: u32) -> TpmResult<Option<u8>> {
    match pcr_index(handle) {
        Some(i) if !extend_allowed(i, ctx.locality) => Err(TpmRc::LOCALITY),
        other => Ok(other),
    }
}

/// Extends PCR `index` with each digest whose bank is allocated; digests for other
/// banks are ignored.
pub(crate) fn extend_digests(ctx: &mut Ctx<'_>, index: u8, digests: &[TpmtHa]) {
    for d in digests {
        ctx.tpm.pcrs.extend(d.alg, index, &d.digest);
    }
}

/// The digest of `data` in every implemented hash (a PCR_Event / event-sequence result).
pub(crate) fn event_digests(data: &[u8]) -> Vec<TpmtHa> {
    HashAlg::ALL
        .into_iter()
        .map(|alg| TpmtHa {
            alg,
            digest: alg.digest(data),
        })
        .collect()
}

/// TPM2_PCR_Extend — Part 3 §22.2: each digest is extended into the bank of its
/// algorithm; digests for banks that are not allocated are ignored, and
/// TPM_RH_NULL makes the command succeed with no effect.
///
/// `TPM_RC_LOCALITY`: the command's locality may not extend this PCR;
/// `TPM_RC_SIZE` (parameter 1): more digests than implemented hashes;
/// `TPM_RC_HASH` (parameter 1): a digest names an unimplemented hash.
pub fn extend(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let digests: TpmlDigestValues = p.param()?;
    p.end()?;
    let Some(index) = check_extend(ctx, ctx.handle(0))? else {
        return Ok(());
    };
    extend_digests(ctx, index, &digests.0);
    Ok(())
}

/// TPM2_PCR_Event — Part 3 §22.3: hashes eventData with every implemented hash,
/// extends each digest into its allocated bank (none for TPM_RH_NULL) and returns
/// them all.
///
/// `TPM_RC_LOCALITY`: the command's locality may not extend this PCR;
/// `TPM_RC_SIZE` (parameter 1): eventData longer than 1024 octets.
pub fn event(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let data: Tpm2bEvent = p.param()?;
    p.end()?;
    let index = check_extend(ctx, ctx.handle(0))?;
    let digests = event_digests(data.as_slice());
    if let Some(index) = index {
        extend_digests(ctx, index, &digests);
    }
    TpmlDigestValues(digests).marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_PCR_Read — Part 3 §22.4: returns pcrUpdateCounter, the selection actually
/// read and the values, in selection order. Banks that are not allocated come back
/// with no PCR selected; at most eight values are returned and pcrSelectionOut
/// drops every PCR after the eighth.
///
/// `TPM_RC_SIZE` / `TPM_RC_VALUE` / `TPM_RC_HASH` (parameter 1): a malformed
/// selection list.
pub fn read(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let mut selection: TpmlPcrSelection = p.param()?;
    p.end()?;
    let pcrs = &ctx.tpm.pcrs;
    let mut values = Vec::new();
    for s in &mut selection.0 {
        let bank = pcrs.bank(s.hash);
        for i in 0..IMPLEMENTATION_PCR {
            if !s.is_selected(i) {
                continue;
            }
            let value = bank.and_then(|b| b.values.get(usize::from(i)));
            match value {
                Some(v) if values.len() < TpmlDigest::MAX => {
                    values.push(Tpm2bDigest::new(v).map_err(|_| TpmRc::FAILURE)?);
                }
                _ => deselect(s, i),
            }
        }
    }
    let counter = pcrs.update_counter;
    ctx.out.u32(counter);
    selection.marshal(&mut ctx.out);
    TpmlDigest(values).marshal(&mut ctx.out);
    Ok(())
}

fn deselect(s: &mut TpmsPcrSelection, i: u8) {
    if let Some(b) = s.select.get_mut(usize::from(i / 8)) {
        *b &= !(1u8 << (i % 8));
    }
}

/// The PCRs a selection names, as a bitmap.
fn bitmap(s: &TpmsPcrSelection) -> u32 {
    s.indices().fold(0, |m, i| m | (1u32 << i))
}

/// TPM2_PCR_Allocate — Part 3 §22.5: sets the PCR allocation that takes effect at
/// the next TPM Reset. The request starts from the current allocation; a bank it
/// lists is allocated when every PCR is selected and deallocated when none is (the
/// last entry for a bank wins). Returns allocationSuccess, maxPCR (PCRs per bank),
/// sizeNeeded (octets the requested allocation needs) and sizeAvailable (octets
/// for PCR values, enough for every implemented bank).
///
/// `TPM_RC_PCR`: no bank would keep PCR 0 (H-CRTM) or PCR 17 (D-RTM), i.e. no bank
/// would remain. A bank only partly selected gives allocationSuccess NO and no change.
pub fn allocate(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let request: TpmlPcrSelection = p.param()?;
    p.end()?;
    let current = &ctx.tpm.perm.pcr_allocation;
    let mut banks: Vec<(HashAlg, u32)> = HashAlg::ALL
        .into_iter()
        .map(|alg| {
            let map = if current.contains(&alg) { ALL_PCRS } else { 0 };
            (alg, map)
        })
        .collect();
    for s in &request.0 {
        if let Some(entry) = banks.iter_mut().find(|(alg, _)| *alg == s.hash) {
            entry.1 = bitmap(s);
        }
    }
    let digest_bytes = |alg: HashAlg| u32::try_from(alg.digest_size()).unwrap_or(u32::MAX);
    let max_pcr = u32::from(IMPLEMENTATION_PCR);
    let size_needed = banks.iter().fold(0u32, |n, (alg, map)| {
        n.saturating_add(map.count_ones().saturating_mul(digest_bytes(*alg)))
    });
    let size_available = HashAlg::ALL.into_iter().fold(0u32, |n, alg| {
        n.saturating_add(max_pcr.saturating_mul(digest_bytes(alg)))
    });
    let has = |pcr: u8| banks.iter().any(|(_, map)| map & (1u32 << pcr) != 0);
    if !has(HCRTM_PCR) || !has(DRTM_PCR) {
        return Err(TpmRc::PCR);
    }
    // SPEC-DEVIATION: PCRs are allocated by whole banks; a request that selects
    // only some PCRs of a bank is answered with allocationSuccess NO.
    let whole = banks.iter().all(|(_, map)| *map == 0 || *map == ALL_PCRS);
    if whole {
        let new: Vec<HashAlg> = banks
            .iter()
            .filter(|(_, map)| *map == ALL_PCRS)
            .map(|(alg, _)| *alg)
            .collect();
        ctx.tpm.perm.pcr_allocation_pending = Some(new);
        ctx.nv_dirty = true;
    }
    whole.marshal(&mut ctx.out);
    ctx.out.u32(max_pcr);
    ctx.out.u32(size_needed);
    ctx.out.u32(size_available);
    Ok(())
}

/// TPM2_PCR_Reset — Part 3 §22.8: sets the PCR to zero in every bank.
///
/// `TPM_RC_LOCALITY`: the PCR may not be reset at the command's locality (PCRs 0-15
/// never; none at locality 4).
pub fn reset(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    // The handle area admits PCRs only (TPMI_DH_PCR without +TPM_RH_NULL).
    let index = pcr_index(ctx.handle(0)).ok_or(TpmRc::VALUE.at_handle(1))?;
    if !reset_allowed(index, ctx.locality) {
        return Err(TpmRc::LOCALITY);
    }
    ctx.tpm.pcrs.reset(index);
    Ok(())
}

#[cfg(test)]
mod tests;
