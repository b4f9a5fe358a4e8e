//! The authorization area (Part 1, clause 19; Part 3, 5.4-5.6): session parsing,
//! password authorization (TPM_RS_PW), dictionary-attack accounting, and the
//! response session area.

use crate::crypto::ct_eq;
use crate::dispatch::{AuthCommand, AuthRole, SESSION_CONTINUE};
use crate::marshal::{Reader, Unmarshal, Writer};
use crate::platform::Platform;
use crate::rc::{TpmRc, TpmResult};
use crate::tpm::Tpm;
use crate::types::constants::{TpmHt, TpmRh, TPM_RS_PW};
use crate::types::sized::{Tpm2bAuth, Tpm2bNonce};

/// TPMA_SESSION bits other than continueSession that a password session may not set
/// (audit, auditExclusive, auditReset, decrypt, encrypt).
const PW_FORBIDDEN_ATTRS: u8 = 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02;

/// Reads one TPMS_AUTH_COMMAND.
pub fn parse_session(r: &mut Reader<'_>) -> TpmResult<AuthCommand> {
    let handle = r.u32()?;
    let nonce = Tpm2bNonce::unmarshal(r)?;
    let attributes = r.u8()?;
    let hmac = Tpm2bAuth::unmarshal(r)?;
    // Reserved bits 3-4 of TPMA_SESSION must be clear.
    if attributes & 0x18 != 0 {
        return Err(TpmRc::RESERVED_BITS);
    }
    if handle == TPM_RS_PW {
        if !nonce.is_empty() {
            return Err(TpmRc::NONCE);
        }
        if attributes & PW_FORBIDDEN_ATTRS != 0 {
            return Err(TpmRc::ATTRIBUTES);
        }
    }
    Ok(AuthCommand {
        handle,
        nonce,
        attributes,
        hmac,
    })
}

/// Checks every authorization the command needs. `auth_handles` pairs the handles
/// that carry `@` in Part 3 with their roles; they are matched to sessions in order.
pub fn authorize(
    tpm: &mut Tpm,
    platform: &mut dyn Platform,
    auth_handles: &[(u32, AuthRole)],
    sessions: &[AuthCommand],
    nv_changed: &mut bool,
) -> TpmResult<()> {
    for (i, s) in sessions.iter().enumerate() {
        let n = u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX);
        if s.handle == TPM_RS_PW {
            if i >= auth_handles.len() {
                // A password session authorizes nothing when no handle needs it.
                return Err(TpmRc::AUTH_CONTEXT);
            }
            continue;
        }
        let ht = TpmHt::of(s.handle);
        if ht == TpmHt::HMAC_SESSION || ht == TpmHt::POLICY_SESSION {
            // No session of that handle is loaded (sessions are not implemented yet).
            return Err(TpmRc::reference_session(n.saturating_sub(1)));
        }
        return Err(TpmRc::HANDLE.at_session(n));
    }
    for (i, ((handle, _role), s)) in auth_handles.iter().zip(sessions.iter()).enumerate() {
        let n = u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX);
        tpm.da_update(platform);
        let da_protected = tpm.is_da_protected(*handle);
        if *handle == TpmRh::LOCKOUT.0 && !tpm.perm.da.lockout_auth_enabled {
            return Err(TpmRc::LOCKOUT);
        }
        if da_protected && tpm.in_lockout() {
            return Err(TpmRc::LOCKOUT);
        }
        let ok = match tpm.entity_auth(*handle) {
            Some(auth) => {
                let given = crate::commands::hierarchy::auth_value(s.hmac.as_slice())?;
                ct_eq(auth, given.as_slice())
            }
            None => return Err(TpmRc::AUTH_UNAVAILABLE),
        };
        if !ok {
            if *handle == TpmRh::LOCKOUT.0 {
                tpm.lockout_auth_failed(platform);
                *nv_changed = true;
                return Err(TpmRc::AUTH_FAIL.at_session(n));
            }
            if da_protected {
                tpm.da_failure(platform);
                *nv_changed = true;
                return Err(TpmRc::AUTH_FAIL.at_session(n));
            }
            return Err(TpmRc::BAD_AUTH.at_session(n));
        }
    }
    Ok(())
}

/// Writes the TPMS_AUTH_RESPONSE for `s`. For a password session this is an empty
/// nonce, continueSession set, and an empty hmac (Part 1, 19.6.8).
pub fn write_session_response(w: &mut Writer, s: &AuthCommand) {
    let _ = s;
    w.u16(0);
    w.u8(SESSION_CONTINUE);
    w.u16(0);
}
