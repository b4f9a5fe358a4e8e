//! Part 3, clause 29: Clocks and Timers — TPM2_ReadClock, TPM2_ClockSet,
//! TPM2_ClockRateAdjust.

use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::rc::{TpmRc, TpmResult};
use crate::types::structures::{TpmsClockInfo, TpmsTimeInfo};

/// Largest Clock value TPM2_ClockSet accepts (Part 3 §29.2).
pub const CLOCK_MAX: u64 = 0xFFFF_0000_0000_0000;

/// The TPMS_TIME_INFO the TPM reports now.
pub fn time_info(ctx: &mut Ctx<'_>) -> TpmsTimeInfo {
    let time = ctx.tpm.time(ctx.platform);
    let clock = ctx.tpm.clock(ctx.platform);
    TpmsTimeInfo {
        time,
        clock_info: TpmsClockInfo {
            clock,
            reset_count: ctx.tpm.perm.reset_count,
            restart_count: ctx.tpm.reset.restart_count,
            safe: ctx.tpm.perm.clock_safe,
        },
    }
}

/// TPM2_ReadClock — Part 3 §29.1.
pub fn read_clock(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let info = time_info(ctx);
    info.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ClockSet — Part 3 §29.2. Clock only moves forward.
///
/// `TPM_RC_VALUE` (parameter 1): `newTime` is below the current Clock or above the
/// largest settable value.
pub fn clock_set(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let new_time: u64 = p.param()?;
    p.end()?;
    if new_time > CLOCK_MAX || new_time < ctx.tpm.clock(ctx.platform) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    ctx.tpm.sync_clock(ctx.platform);
    ctx.tpm.perm.clock = new_time;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_ClockRateAdjust — Part 3 §29.3.
///
/// The platform clock is the host's monotonic clock, which this engine does not
/// slew; valid adjustments are accepted and have no effect.
/// `TPM_RC_VALUE` (parameter 1): not a TPM_CLOCK_ADJUST value (-3..=3).
pub fn clock_rate_adjust(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let adjust: u8 = p.param()?;
    p.end()?;
    // TPM_CLOCK_ADJUST is an INT8 from COARSE_SLOWER (-3) to COARSE_FASTER (3).
    if !(adjust <= 3 || adjust >= 0xFD) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let _ = ctx;
    Ok(())
}
