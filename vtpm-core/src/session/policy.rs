//! Authorization with a policy session (Part 1, 19.7): the checks a command makes
//! against the policy state of the session, and the policy HMAC key.

use alloc::vec::Vec;

use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::dispatch::auth::{cp_hash, CommandAuth};
use crate::dispatch::AuthCommand;
use crate::rc::{TpmRc, TpmResult};
use crate::session::{Session, SessionType};
use crate::tpm::Tpm;

/// The HMAC key of a policy session: sessionKey, followed by the authValue when
/// PolicyAuthValue was asserted (Part 1, 19.6.13). For HMAC sessions the plain
/// sessionKey (used when no entity is authorized).
pub fn policy_hmac_key(session: &Session, auth: &[u8]) -> Vec<u8> {
    let mut k = session.session_key.clone();
    if session.kind != SessionType::Hmac && session.policy.is_auth_value_needed {
        k.extend_from_slice(auth);
    }
    k
}

/// nameHash = H(Name(handle)...) over every handle of the command (Part 3, 23.14).
pub(crate) fn name_hash(tpm: &Tpm, alg: HashAlg, handles: &[u32]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = handles.iter().map(|h| tpm.entity_name(*h)).collect();
    let parts: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    alg.digest_parts(&parts)
}

/// Checks one authorization given with a policy session for `handle`. Returns
/// whether the HMAC (or the password, after PolicyPassword) is right; the policy
/// checks themselves return their own errors:
///
/// - `TPM_RC_AUTH_TYPE`: a trial session;
/// - `TPM_RC_AUTH_UNAVAILABLE`: the entity has no authPolicy;
/// - `TPM_RC_POLICY_FAIL`: policyDigest differs from the authPolicy, or the authPolicy
///   uses another hash than the session, or a cpHash / nameHash restriction does
///   not match the command;
/// - `TPM_RC_POLICY_CC`: a command code restriction names another command;
/// - `TPM_RC_PCR_CHANGED`: PCRs changed since PolicyPCR;
/// - `TPM_RC_LOCALITY`: the command arrived at a locality PolicyLocality excludes;
/// - `TPM_RC_PP`: PolicyPhysicalPresence was asserted and physical presence is not;
/// - `TPM_RC_POLICY_FAIL`: PolicyNvWritten was asserted and the entity is not an NV
///   index or its TPMA_NV_WRITTEN differs.
/// - `TPM_RC_EXPIRED`: TPM Time `now` is past the policy timeout.
pub(crate) fn check_policy_auth(
    tpm: &Tpm,
    c: &CommandAuth<'_>,
    handle: u32,
    s: &AuthCommand,
    auth: &[u8],
    n: u8,
    now: u64,
) -> TpmResult<bool> {
    let Some(session) = tpm.sessions.get(s.handle) else {
        return Err(TpmRc::reference_session(n.saturating_sub(1)));
    };
    if session.kind != SessionType::Policy {
        return Err(TpmRc::AUTH_TYPE.at_session(n));
    }
    let alg = session.auth_hash;
    let Some((policy_alg, policy)) = tpm.entity_policy(handle) else {
        return Err(TpmRc::AUTH_UNAVAILABLE.at_session(n));
    };
    let st = &session.policy;
    if policy_alg != alg || !ct_eq(&policy, &st.digest) {
        return Err(TpmRc::POLICY_FAIL.at_session(n));
    }
    if st.timeout != 0 && st.timeout < now {
        return Err(TpmRc::EXPIRED.at_session(n));
    }
    if st.command_code.is_some_and(|cc| cc != c.cc.0) {
        return Err(TpmRc::POLICY_CC.at_session(n));
    }
    if st.pcr_counter.is_some_and(|v| v != tpm.pcrs.update_counter) {
        return Err(TpmRc::PCR_CHANGED);
    }
    if st.locality != 0 && !locality_allowed(st.locality, c.locality) {
        return Err(TpmRc::LOCALITY);
    }
    if let Some(want) = &st.cp_hash {
        let got = if st.is_name_hash {
            name_hash(tpm, alg, c.handles)
        } else if st.is_template_hash {
            // templateHash: H(inPublic) of a creation command; nothing else passes.
            crate::commands::policy_assert::template_hash(alg, c.cc, c.params).unwrap_or_default()
        } else {
            cp_hash(tpm, alg, c)
        };
        if !ct_eq(want, &got) {
            return Err(TpmRc::POLICY_FAIL.at_session(n));
        }
    }
    if st.is_pp_required && !tpm.physical_presence {
        return Err(TpmRc::PP.at_session(n));
    }
    // PolicyNvWritten: the authorized entity must be an NV index whose
    // TPMA_NV_WRITTEN equals the asserted state.
    if let Some(want) = st.nv_written {
        let written = tpm
            .nv_index(handle)
            .map(|i| i.attributes().has(crate::types::nv::TpmaNv::WRITTEN));
        if written != Some(want) {
            return Err(TpmRc::POLICY_FAIL.at_session(n));
        }
    }
    if st.is_password_needed {
        let given = crate::commands::hierarchy::auth_value(s.hmac.as_slice())?;
        return Ok(ct_eq(auth, given.as_slice()));
    }
    let key = zeroize::Zeroizing::new(policy_hmac_key(session, auth));
    if key.is_empty() && s.hmac.is_empty() {
        // Neither bound, salted nor PolicyAuthValue: nothing to prove.
        return Ok(true);
    }
    let cp = cp_hash(tpm, alg, c);
    let expected = alg.hmac_parts(
        &key,
        &[&cp, s.nonce.as_slice(), &session.nonce_tpm, &[s.attributes]],
    );
    Ok(ct_eq(&expected, s.hmac.as_slice()))
}

/// Whether `locality` is one of those TPMA_LOCALITY `allowed` names (Part 2, 8.5).
pub fn locality_allowed(allowed: u8, locality: u8) -> bool {
    if allowed >= 32 {
        // An extended locality: exactly that value.
        return allowed == locality;
    }
    locality < 5 && allowed & (1u8 << locality) != 0
}
