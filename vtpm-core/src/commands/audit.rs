//! Part 3, clause 21: Command Audit — TPM2_SetCommandCodeAuditStatus.
//! (The audit digests themselves are kept by `dispatch::audit`.)

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::{TpmAlgId, TpmCc};

/// Most command codes in one TPML_CC (MAX_CAP_CC).
const MAX_LIST: u32 = 256;

/// TPML_CC — Part 2 §10.9.1: `TPM_RC_SIZE` when the count exceeds MAX_CAP_CC.
struct TpmlCc(Vec<u32>);

impl Unmarshal for TpmlCc {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let n = r.u32()?;
        if n > MAX_LIST {
            return Err(TpmRc::SIZE);
        }
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(r.u32()?);
        }
        Ok(TpmlCc(v))
    }
}

/// TPM2_SetCommandCodeAuditStatus — Part 3 §21.2.
///
/// Changes the audit hash (auditAlg other than TPM_ALG_NULL and different from
/// the current one; the audit digest then starts over), or adds the commands of
/// setList to and removes those of clearList from the audited set. Command codes
/// this TPM does not implement are ignored; TPM2_SetCommandCodeAuditStatus itself
/// is always audited.
///
/// `TPM_RC_HASH` (parameter 1): auditAlg is not an implemented hash;
/// `TPM_RC_VALUE` (parameter 1): a change of hash together with a non-empty
/// setList or clearList; `TPM_RC_SIZE`: a list longer than MAX_CAP_CC.
pub fn set_command_code_audit_status(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let alg_id: TpmAlgId = p.param()?;
    let set: TpmlCc = p.param()?;
    let clear: TpmlCc = p.param()?;
    p.end()?;
    let alg = if alg_id == TpmAlgId::NULL {
        None
    } else {
        Some(HashAlg::from_alg_id(alg_id).ok_or(TpmRc::HASH.at_param(1))?)
    };
    let tpm = &mut *ctx.tpm;
    let audit = &mut tpm.perm.command_audit;
    if let Some(alg) = alg.filter(|a| *a != audit.hash) {
        if !set.0.is_empty() || !clear.0.is_empty() {
            return Err(TpmRc::VALUE.at_param(1));
        }
        audit.hash = alg;
        // A one-octet digest marks the change: this command is not audited, and
        // the next audited command starts the digest over.
        tpm.reset.command_audit_digest = alloc::vec![0];
        ctx.nv_dirty = true;
        return Ok(());
    }
    for cc in set.0 {
        let implemented = crate::dispatch::table::lookup(TpmCc(cc)).is_some();
        if implemented && cc != TpmCc::SET_COMMAND_CODE_AUDIT_STATUS.0 {
            if let Err(i) = audit.commands.binary_search(&cc) {
                audit.commands.insert(i, cc);
            }
        }
    }
    for cc in clear.0 {
        if let Ok(i) = audit.commands.binary_search(&cc) {
            audit.commands.remove(i);
        }
    }
    ctx.nv_dirty = true;
    Ok(())
}

#[cfg(test)]
mod tests;
