//! Audit (Part 1, clause 33; Part 1 clause 19 for audit sessions).
//!
//! * Session audit: a session with `audit` set extends its digest with
//!   `H(digest || cpHash || rpHash)` (its authHash) after every successful
//!   command it is used with. The first audited command, or one with
//!   `auditReset`, starts the digest over from zeros and makes the session the
//!   exclusive audit session; it stays exclusive while every command is audited
//!   by it. A command with `auditExclusive` fails with `TPM_RC_EXCLUSIVE` unless
//!   the session is exclusive, and the response reports exclusivity.
//! * Command audit: commands chosen with TPM2_SetCommandCodeAuditStatus (and
//!   that command itself) extend the command audit digest, with the audit hash;
//!   the digest starts from zeros after a TPM Reset or a change of the hash, and
//!   then the audit counter goes up.

use alloc::vec;
use alloc::vec::Vec;

use crate::dispatch::auth::{
    cp_hash, CommandAuth, SESSION_AUDIT, SESSION_AUDIT_EXCLUSIVE, SESSION_AUDIT_RESET,
};
use crate::dispatch::AuthCommand;
use crate::rc::{TpmRc, TpmResult};
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmHt, TPM_RS_PW};

/// Commands that take no sessions and so leave audit exclusivity alone.
const NO_SESSION_COMMANDS: &[TpmCc] = &[
    TpmCc::STARTUP,
    TpmCc::CONTEXT_SAVE,
    TpmCc::CONTEXT_LOAD,
    TpmCc::FLUSH_CONTEXT,
];

/// The audit work a command carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditPlan {
    /// Index of the audit session among the command's sessions.
    pub session: Option<usize>,
    /// The command code is audited.
    pub command: bool,
}

/// Checks the audit attributes of the command's sessions (before authorization):
/// `TPM_RC_ATTRIBUTES` for auditReset/auditExclusive without audit, for audit on
/// a password or policy session, or for two audit sessions; `TPM_RC_EXCLUSIVE`
/// for auditExclusive on a session that is not the exclusive audit session.
pub fn plan(tpm: &Tpm, cc: TpmCc, sessions: &[AuthCommand]) -> TpmResult<AuditPlan> {
    let mut out = AuditPlan {
        session: None,
        command: is_command_audited(tpm, cc),
    };
    for (i, s) in sessions.iter().enumerate() {
        let n = crate::dispatch::position(i);
        let audit = s.attributes & SESSION_AUDIT != 0;
        if !audit {
            if s.attributes & (SESSION_AUDIT_RESET | SESSION_AUDIT_EXCLUSIVE) != 0 {
                return Err(TpmRc::ATTRIBUTES.at_session(n));
            }
            continue;
        }
        if s.handle == TPM_RS_PW
            || TpmHt::of(s.handle) != TpmHt::HMAC_SESSION
            || out.session.is_some()
        {
            return Err(TpmRc::ATTRIBUTES.at_session(n));
        }
        if s.attributes & SESSION_AUDIT_EXCLUSIVE != 0 && tpm.exclusive_audit != Some(s.handle) {
            return Err(TpmRc::EXCLUSIVE.at_session(n));
        }
        out.session = Some(i);
    }
    Ok(out)
}

/// True when `cc` is in the command audit list (TPM2_SetCommandCodeAuditStatus
/// always is).
pub fn is_command_audited(tpm: &Tpm, cc: TpmCc) -> bool {
    cc == TpmCc::SET_COMMAND_CODE_AUDIT_STATUS
        || tpm.perm.command_audit.commands.binary_search(&cc.0).is_ok()
}

/// The audited command codes, ascending, TPM2_SetCommandCodeAuditStatus included
/// (TPM_CAP_AUDIT_COMMANDS, and the list GetCommandAuditDigest digests).
pub fn audited_commands(tpm: &Tpm) -> Vec<u32> {
    let mut codes = tpm.perm.command_audit.commands.clone();
    let always = TpmCc::SET_COMMAND_CODE_AUDIT_STATUS.0;
    if let Err(i) = codes.binary_search(&always) {
        codes.insert(i, always);
    }
    codes
}

/// rpHash = H(TPM_RC_SUCCESS || commandCode || parameters).
fn rp_hash(alg: crate::crypto::hash::HashAlg, cc: TpmCc, response_params: &[u8]) -> Vec<u8> {
    alg.digest_parts(&[&0u32.to_be_bytes(), &cc.0.to_be_bytes(), response_params])
}

/// Extends the audit digests after a successful command and updates
/// exclusivity; sets auditExclusive in the response attributes of the audit
/// session as the TPM reports it. True when NV changed (the audit counter).
pub fn record(
    tpm: &mut Tpm,
    plan: AuditPlan,
    command: &CommandAuth<'_>,
    sessions: &mut [AuthCommand],
    response_params: &[u8],
) -> bool {
    let mut nv_changed = false;
    match plan
        .session
        .and_then(|i| sessions.get_mut(i).map(|s| (i, s)))
    {
        Some((_, s)) => {
            let handle = s.handle;
            let reset = s.attributes & SESSION_AUDIT_RESET != 0;
            if let Some(alg) = tpm.sessions.get(handle).map(|x| x.auth_hash) {
                let cp = cp_hash(tpm, alg, command);
                let rp = rp_hash(alg, command.cc, response_params);
                let fresh = tpm
                    .sessions
                    .get(handle)
                    .is_none_or(|x| x.audit_digest.is_none())
                    || reset;
                if fresh {
                    tpm.exclusive_audit = Some(handle);
                } else if tpm.exclusive_audit != Some(handle) {
                    tpm.exclusive_audit = None;
                }
                if let Some(session) = tpm.sessions.get_mut(handle) {
                    let old = match session.audit_digest.take() {
                        Some(d) if !fresh => d,
                        _ => vec![0u8; alg.digest_size()],
                    };
                    session.audit_digest = Some(alg.digest_parts(&[&old, &cp, &rp]));
                }
            }
            if tpm.exclusive_audit == Some(handle) {
                s.attributes |= SESSION_AUDIT_EXCLUSIVE;
            } else {
                s.attributes &= !SESSION_AUDIT_EXCLUSIVE;
            }
        }
        None => {
            if !NO_SESSION_COMMANDS.contains(&command.cc) {
                tpm.exclusive_audit = None;
            }
        }
    }
    if plan.command {
        let alg = tpm.perm.command_audit.hash;
        if tpm.reset.command_audit_digest.len() != alg.digest_size() {
            // A change of the audit hash leaves a digest of another size: the
            // command that made the change is not audited, the next one starts over.
            let changed = !tpm.reset.command_audit_digest.is_empty();
            tpm.reset.command_audit_digest.clear();
            if changed {
                return nv_changed;
            }
            tpm.reset.command_audit_digest = vec![0u8; alg.digest_size()];
            tpm.perm.command_audit.counter = tpm.perm.command_audit.counter.saturating_add(1);
            nv_changed = true;
        }
        let cp = cp_hash(tpm, alg, command);
        let rp = rp_hash(alg, command.cc, response_params);
        let old = core::mem::take(&mut tpm.reset.command_audit_digest);
        tpm.reset.command_audit_digest = alg.digest_parts(&[&old, &cp, &rp]);
    }
    nv_changed
}

#[cfg(test)]
mod tests;
