//! The authorization area (Part 1, clause 19; Part 3, 5.4-5.6): session parsing,
//! password (TPM_RS_PW) and HMAC-session authorization with cpHash/rpHash,
//! dictionary-attack accounting, and the response session area.

use alloc::vec::Vec;

use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::dispatch::{AuthCommand, AuthRole, SESSION_CONTINUE};
use crate::marshal::{Reader, Unmarshal, Writer};
use crate::platform::Platform;
use crate::rc::{TpmRc, TpmResult};
use crate::session::{new_nonce, SessionType};
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmHt, TpmRh, TPM_RS_PW};
use crate::types::sized::{Tpm2bAuth, Tpm2bNonce};

/// TPMA_SESSION.audit
pub const SESSION_AUDIT: u8 = 0x80;
/// TPMA_SESSION.encrypt
pub const SESSION_ENCRYPT: u8 = 0x40;
/// TPMA_SESSION.decrypt
pub const SESSION_DECRYPT: u8 = 0x20;
/// TPMA_SESSION.auditReset
pub const SESSION_AUDIT_RESET: u8 = 0x04;
/// TPMA_SESSION.auditExclusive
pub const SESSION_AUDIT_EXCLUSIVE: u8 = 0x02;

/// TPMA_SESSION bits other than continueSession that a password session may not set.
const PW_FORBIDDEN_ATTRS: u8 = SESSION_AUDIT
    | SESSION_ENCRYPT
    | SESSION_DECRYPT
    | SESSION_AUDIT_RESET
    | SESSION_AUDIT_EXCLUSIVE;

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

/// What the command's sessions authorize, for the HMAC computations.
pub struct CommandAuth<'a> {
    /// The command code.
    pub cc: TpmCc,
    /// Every handle of the handle area.
    pub handles: &'a [u32],
    /// The handles that need authorization, in session order, with their roles.
    pub auth_handles: &'a [(u32, AuthRole)],
    /// The parameter area as received.
    pub params: &'a [u8],
    /// The locality the command arrived at.
    pub locality: u8,
}

/// cpHash = H(commandCode || Name(handle)... || parameters) — Part 1 §18.7.
pub(crate) fn cp_hash(tpm: &Tpm, alg: HashAlg, c: &CommandAuth<'_>) -> Vec<u8> {
    let names: Vec<Vec<u8>> = c.handles.iter().map(|h| tpm.entity_name(*h)).collect();
    let cc = c.cc.0.to_be_bytes();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(names.len().saturating_add(2));
    parts.push(&cc);
    parts.extend(names.iter().map(Vec::as_slice));
    parts.push(c.params);
    alg.digest_parts(&parts)
}

/// Checks every authorization the command needs. Sessions are matched to the
/// handles that carry `@` in Part 3, in order.
pub fn authorize(
    tpm: &mut Tpm,
    platform: &mut dyn Platform,
    c: &CommandAuth<'_>,
    sessions: &[AuthCommand],
    nv_changed: &mut bool,
) -> TpmResult<()> {
    // Which sessions exist and may be used at all.
    for (i, s) in sessions.iter().enumerate() {
        let n = crate::dispatch::position(i);
        if s.handle == TPM_RS_PW {
            if i >= c.auth_handles.len() {
                // A password session authorizes nothing when no handle needs it.
                return Err(TpmRc::AUTH_CONTEXT);
            }
            continue;
        }
        let ht = TpmHt::of(s.handle);
        if ht != TpmHt::HMAC_SESSION && ht != TpmHt::POLICY_SESSION {
            return Err(TpmRc::HANDLE.at_session(n));
        }
        let Some(session) = tpm.sessions.get(s.handle) else {
            return Err(TpmRc::reference_session(n.saturating_sub(1)));
        };
        if sessions.iter().take(i).any(|o| o.handle == s.handle) {
            // The same session twice in one command.
            return Err(TpmRc::HANDLE.at_session(n));
        }
        if s.nonce.len() < 16 || s.nonce.len() > session.auth_hash.digest_size() {
            return Err(TpmRc::SIZE.at_session(n));
        }
        if i >= c.auth_handles.len()
            && s.attributes & (SESSION_ENCRYPT | SESSION_DECRYPT | SESSION_AUDIT) == 0
        {
            // A session that neither authorizes nor audits nor encrypts.
            return Err(TpmRc::ATTRIBUTES.at_session(n));
        }
    }

    for (i, ((handle, role), s)) in c.auth_handles.iter().zip(sessions.iter()).enumerate() {
        let n = crate::dispatch::position(i);
        // The ADMIN role of an NV index is only ever given by its policy (Part 1,
        // 19.7.6): a password or HMAC session cannot provide it.
        if *role == AuthRole::Admin
            && TpmHt::of(*handle) == TpmHt::NV_INDEX
            && TpmHt::of(s.handle) != TpmHt::POLICY_SESSION
        {
            return Err(TpmRc::AUTH_TYPE);
        }
        // A PCR whose policy group has a policy is only authorized by it (the
        // reference implementation's IsPolicySessionRequired).
        if TpmHt::of(s.handle) != TpmHt::POLICY_SESSION
            && crate::commands::auth_policy::pcr_policy_required(tpm, *handle)
        {
            return Err(TpmRc::AUTH_TYPE.at_session(n));
        }
        tpm.da_update(platform);
        // A policy session that uses no authValue (no PolicyAuthValue or
        // PolicyPassword) is outside dictionary-attack protection: lockout does not
        // stop it and its failures are not counted (Part 1, 19.8; the reference
        // implementation's includeAuth).
        let uses_auth_value = TpmHt::of(s.handle) != TpmHt::POLICY_SESSION
            || tpm
                .sessions
                .get(s.handle)
                .is_some_and(|x| x.policy.is_auth_value_needed || x.policy.is_password_needed);
        let da_protected = uses_auth_value && tpm.is_da_protected(*handle);
        let lockout_checked = uses_auth_value && *handle == TpmRh::LOCKOUT.0;
        if lockout_checked && !tpm.perm.da.lockout_auth_enabled {
            return Err(TpmRc::LOCKOUT);
        }
        if da_protected && tpm.in_lockout() {
            return Err(TpmRc::LOCKOUT);
        }
        if da_protected && tpm.da_mark_used() {
            *nv_changed = true;
        }
        let auth = tpm
            .entity_auth(*handle)
            .map(<[u8]>::to_vec)
            .ok_or(TpmRc::AUTH_UNAVAILABLE)?;
        let auth = zeroize::Zeroizing::new(auth);
        let is_policy = TpmHt::of(s.handle) == TpmHt::POLICY_SESSION;
        if !is_policy && !tpm.auth_value_allowed(*handle, *role) {
            // Part 1 §19.2: this role needs a policy session for this entity.
            return Err(TpmRc::AUTH_UNAVAILABLE.at_session(n));
        }
        if !is_policy {
            // PIN Pass / PIN Fail indices (Part 1, 37.2.6).
            crate::state::nv_pin::auth_value_available(tpm, c.cc, *handle)
                .map_err(|e| e.at_session(n))?;
        }
        let ok = if is_policy {
            let now = tpm.time(platform);
            crate::session::policy::check_policy_auth(tpm, c, *handle, s, &auth, n, now)?
        } else if s.handle == TPM_RS_PW {
            let given = crate::commands::hierarchy::auth_value(s.hmac.as_slice())?;
            ct_eq(&auth, given.as_slice())
        } else {
            let Some(session) = tpm.sessions.get(s.handle) else {
                return Err(TpmRc::reference_session(n.saturating_sub(1)));
            };
            if session.kind != SessionType::Hmac {
                return Err(TpmRc::AUTH_TYPE);
            }
            let alg = session.auth_hash;
            let key = session.hmac_key(*handle, &auth);
            let cp = cp_hash(tpm, alg, c);
            let expected = alg.hmac_parts(
                &key,
                &[&cp, s.nonce.as_slice(), &session.nonce_tpm, &[s.attributes]],
            );
            ct_eq(&expected, s.hmac.as_slice())
        };
        if crate::state::nv_pin::record_auth(tpm, *handle, ok) {
            *nv_changed = true;
        }
        if !ok {
            if lockout_checked {
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

/// Which handles of the handle area a policy session authorized: one entry per
/// handle of `specs`, sessions matched to the handles that need authorization in
/// order (as [`authorize`] matches them).
pub(crate) fn policy_authorized(
    specs: &[crate::dispatch::HandleSpec],
    sessions: &[AuthCommand],
) -> Vec<bool> {
    let mut next = sessions.iter();
    specs
        .iter()
        .map(|spec| {
            spec.auth != AuthRole::None
                && next
                    .next()
                    .is_some_and(|s| TpmHt::of(s.handle) == TpmHt::POLICY_SESSION)
        })
        .collect()
}

/// Gives every session of a successful command the fresh nonceTPM its response
/// carries (before response parameter encryption, which uses it); the new nonce
/// starts a new timing interval at TPM Time `now`.
pub fn roll_nonces(tpm: &mut Tpm, sessions: &[AuthCommand], now: u64) {
    for s in sessions {
        let Some(alg) = tpm.sessions.get(s.handle).map(|x| x.auth_hash) else {
            continue;
        };
        let nonce = new_nonce(tpm, alg.digest_size());
        if let Some(session) = tpm.sessions.get_mut(s.handle) {
            session.nonce_tpm = nonce;
            session.start_time = now;
        }
    }
}

/// Writes the response session area after a successful command (nonces already
/// rolled by [`roll_nonces`]); sessions without continueSession are flushed.
///
/// Password sessions answer an empty nonce, continueSession set and an empty hmac
/// (Part 1, 19.6.8). HMAC sessions answer a fresh nonceTPM and
/// HMAC(sessionKey || authValue, rpHash || nonceTPM || nonceCaller || attributes)
/// with rpHash = H(TPM_RC_SUCCESS || commandCode || parameters).
pub fn write_session_responses(
    tpm: &mut Tpm,
    w: &mut Writer,
    cc: TpmCc,
    auth_handles: &[(u32, AuthRole)],
    sessions: &[AuthCommand],
    response_params: &[u8],
) {
    for (i, s) in sessions.iter().enumerate() {
        if s.handle == TPM_RS_PW {
            w.u16(0);
            w.u8(SESSION_CONTINUE);
            w.u16(0);
            continue;
        }
        let Some(alg) = tpm.sessions.get(s.handle).map(|x| x.auth_hash) else {
            // Checked in `authorize`; an empty area keeps the response well formed.
            w.u16(0);
            w.u8(s.attributes);
            w.u16(0);
            continue;
        };
        let nonce = tpm
            .sessions
            .get(s.handle)
            .map(|x| x.nonce_tpm.clone())
            .unwrap_or_default();
        let entity = auth_handles.get(i).map(|(h, _)| *h);
        let auth = entity
            .and_then(|h| tpm.entity_auth(h).map(<[u8]>::to_vec))
            .unwrap_or_default();
        let Some(session) = tpm.sessions.get_mut(s.handle) else {
            continue;
        };
        let key = match entity {
            Some(h) if session.kind == SessionType::Hmac => session.hmac_key(h, &auth),
            _ => crate::session::policy::policy_hmac_key(session, &auth),
        };
        let key = zeroize::Zeroizing::new(key);
        let rp = alg.digest_parts(&[&0u32.to_be_bytes(), &cc.0.to_be_bytes(), response_params]);
        let hmac = if session.kind != SessionType::Hmac && session.policy.is_password_needed {
            // PolicyPassword: the response carries no HMAC (Part 1 §19.6.13).
            Vec::new()
        } else {
            alg.hmac_parts(&key, &[&rp, &nonce, s.nonce.as_slice(), &[s.attributes]])
        };
        if session.kind == SessionType::Policy && entity.is_some() {
            // A policy session that authorized a command starts over (Part 1 §19.7.1).
            session.policy = crate::session::PolicyState::new(alg);
        }
        w.tpm2b(&nonce);
        w.u8(s.attributes);
        w.tpm2b(&hmac);
        if s.attributes & SESSION_CONTINUE == 0 {
            tpm.sessions.remove(s.handle);
        }
    }
}
