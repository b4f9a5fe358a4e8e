//! PIN Pass and PIN Fail indices (Part 1, 37.2.6 and 37.2.8; Part 2,
//! TPMS_NV_PIN_COUNTER_PARAMETERS): the index data is pinCount (upper four
//! octets) and pinLimit (lower four octets), and the session layer maintains
//! pinCount as the index's authValue is used.
//!
//! - The authValue of a PIN index is available (for a command that does not
//!   write the index) only once the index has been written and while
//!   pinCount < pinLimit; otherwise the authorization is refused with
//!   `TPM_RC_AUTH_UNAVAILABLE` before any comparison. A PIN index never has
//!   AUTHWRITE, so its authValue never authorizes a write.
//! - PIN Fail: a failed authorization adds one to pinCount, a successful one sets
//!   it to zero. The index always has NO_DA, so a failure is `TPM_RC_BAD_AUTH`
//!   and the dictionary-attack counter does not move.
//! - PIN Pass: every successful authorization adds one to pinCount.
//!
//! As in the reference implementation, the count is kept whether the session
//! was a password, HMAC or policy session, once the HMAC or password was
//! checked, and only password and HMAC sessions are refused at pinLimit.
//!
//! TPM2_NV_Read and TPM2_NV_Certify authorized by the PIN still need
//! TPMA_NV_AUTHREAD (Part 2, TPMA_NV), which the reference implementation does
//! not ask of a PIN index; TPM2_PolicySecret needs only the PIN.

use crate::rc::{TpmRc, TpmResult};
use crate::tpm::Tpm;
use crate::types::constants::TpmCc;
use crate::types::nv::{TpmNt, TpmaNv};

/// pinCount and pinLimit of a PIN index's 8-octet data.
pub(crate) fn pin_parameters(data: &[u8]) -> (u32, u32) {
    let word = |r: core::ops::Range<usize>| {
        data.get(r)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    };
    (word(0..4), word(4..8))
}

/// The commands that write an NV index in the sense of the authValue rules
/// (the reference implementation's IsWriteOperation).
fn is_write_operation(cc: TpmCc) -> bool {
    [
        TpmCc::NV_WRITE,
        TpmCc::NV_INCREMENT,
        TpmCc::NV_SET_BITS,
        TpmCc::NV_EXTEND,
        TpmCc::NV_WRITE_LOCK,
    ]
    .contains(&cc)
}

/// The index type of `handle` when it names a PIN index.
fn pin_type(tpm: &Tpm, handle: u32) -> Option<TpmNt> {
    let nt = tpm.nv_index(handle)?.attributes().nt()?;
    matches!(nt, TpmNt::PinFail | TpmNt::PinPass).then_some(nt)
}

/// Before a password or HMAC session is checked against the authValue of
/// `handle`: `TPM_RC_AUTH_UNAVAILABLE` when it is a PIN index whose authValue
/// may not be used now (a write command, never written, or pinCount has
/// reached pinLimit). Other entities pass.
pub(crate) fn auth_value_available(tpm: &Tpm, cc: TpmCc, handle: u32) -> TpmResult<()> {
    if pin_type(tpm, handle).is_none() {
        return Ok(());
    }
    let Some(index) = tpm.nv_index(handle) else {
        return Ok(());
    };
    if is_write_operation(cc) || !index.attributes().has(TpmaNv::WRITTEN) {
        return Err(TpmRc::AUTH_UNAVAILABLE);
    }
    let (count, limit) = pin_parameters(&index.data);
    if count >= limit {
        return Err(TpmRc::AUTH_UNAVAILABLE);
    }
    Ok(())
}

/// After the authorization of `handle` was checked (`ok` tells the outcome):
/// updates pinCount of a written PIN index. True when the index data changed
/// (it must then be made durable).
pub(crate) fn record_auth(tpm: &mut Tpm, handle: u32, ok: bool) -> bool {
    let Some(nt) = pin_type(tpm, handle) else {
        return false;
    };
    let Some(index) = tpm.perm.nv.get_mut(handle) else {
        return false;
    };
    if !index.attributes().has(TpmaNv::WRITTEN) {
        return false;
    }
    let (count, limit) = pin_parameters(&index.data);
    let new_count = match (nt, ok) {
        (TpmNt::PinFail, false) | (TpmNt::PinPass, true) => count.saturating_add(1),
        (TpmNt::PinFail, true) => 0,
        _ => return false,
    };
    if new_count == count {
        return false;
    }
    let mut data = [0u8; 8];
    let (hi, lo) = data.split_at_mut(4);
    hi.copy_from_slice(&new_count.to_be_bytes());
    lo.copy_from_slice(&limit.to_be_bytes());
    index.data = data.to_vec();
    true
}

#[cfg(test)]
mod tests;
