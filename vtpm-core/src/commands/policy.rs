//! Part 3, clause 23: Enhanced Authorization (EA) commands, and TPM2_PolicyRestart
//! (clause 11.2). Each command extends the policyDigest of a policy or trial
//! session; a policy session also records the restriction it checks when it
//! authorizes a command (`session::policy`). Trial sessions only compute the digest.

use alloc::vec::Vec;

use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::rc::{TpmRc, TpmResult};
use crate::session::{PolicyState, Session, SessionType};
use crate::types::constants::{TpmCc, TpmRh, TpmSt};
use crate::types::sensitive::Tpm2bName;
use crate::types::sized::{Tpm2bDigest, Tpm2bNonce};
use crate::types::structures::{TpmlDigest, TpmlPcrSelection};

/// The policy or trial session named by handle `i` (checked by the handle area).
pub(super) fn session<'a>(ctx: &'a mut Ctx<'_>, i: usize) -> TpmResult<&'a mut Session> {
    let h = ctx.handle(i);
    let n = crate::dispatch::position(i);
    match ctx.tpm.sessions.get_mut(h) {
        Some(s) if s.kind != SessionType::Hmac => Ok(s),
        _ => Err(TpmRc::HANDLE.at_handle(n)),
    }
}

/// policyDigest := H(policyDigest || parts...).
pub(super) fn extend(s: &mut Session, parts: &[&[u8]]) {
    let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len().saturating_add(1));
    let old = core::mem::take(&mut s.policy.digest);
    all.push(&old);
    all.extend_from_slice(parts);
    s.policy.digest = s.auth_hash.digest_parts(&all);
}

/// PolicyUpdate (Part 3, 23.2.3): policyDigest := H(policyDigest || cc || arg2),
/// then H(policyDigest || arg3).
pub(super) fn policy_update(s: &mut Session, cc: TpmCc, arg2: &[u8], arg3: &[u8]) {
    extend(s, &[&cc.0.to_be_bytes(), arg2]);
    extend(s, &[arg3]);
}

pub(super) fn is_trial(s: &Session) -> bool {
    s.kind == SessionType::Trial
}

/// Records a cpHash-like restriction: `TPM_RC_CPHASH` when a different one (or a
/// templateHash) is set.
pub(super) fn set_cp_hash(s: &mut Session, value: &[u8], name_hash: bool, n: u8) -> TpmResult<()> {
    match &s.policy.cp_hash {
        Some(v)
            if !ct_eq(v, value)
                || s.policy.is_name_hash != name_hash
                || s.policy.is_template_hash =>
        {
            let _ = n;
            return Err(TpmRc::CPHASH);
        }
        _ => {}
    }
    s.policy.cp_hash = Some(value.to_vec());
    s.policy.is_name_hash = name_hash;
    Ok(())
}

/// TPM2_PolicySecret — Part 3 §23.4. The authorization of authHandle is checked by
/// the authorization area. policyDigest := PolicyUpdate(TPM_CC_PolicySecret,
/// authObject Name, policyRef). A non-zero expiration sets a policy timeout
/// (seconds after nonceTPM was issued, or a TPM Time in seconds when nonceTPM is
/// empty); a negative one also returns the timeout and a TPM_ST_AUTH_SECRET ticket
/// for TPM2_PolicyTicket (policy sessions only). Otherwise the timeout is empty and
/// the ticket the NULL ticket.
///
/// `TPM_RC_NONCE` (parameter 1): nonceTPM is neither empty nor the session's nonce;
/// `TPM_RC_SIZE` (parameter 2): cpHashA is neither empty nor a digest of the session
/// hash; `TPM_RC_CPHASH`: another cpHash is already set;
/// `TPM_RC_EXPIRED` (parameter 4): the expiration has already passed.
pub fn policy_secret(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let nonce_tpm: Tpm2bNonce = p.param()?;
    let cp_hash_a: Tpm2bDigest = p.param()?;
    let policy_ref: Tpm2bNonce = p.param()?;
    let expiration = i32::from_be_bytes(p.param::<u32>()?.to_be_bytes());
    p.end()?;
    let auth_handle = ctx.handle(0);
    let name = ctx.tpm.entity_name(auth_handle);
    let hierarchy = super::policy_assert::entity_hierarchy(ctx.tpm, auth_handle);
    let now = ctx.tpm.time(ctx.platform);
    let s = session(ctx, 1)?;
    if !nonce_tpm.is_empty() && !ct_eq(nonce_tpm.as_slice(), &s.nonce_tpm) {
        return Err(TpmRc::NONCE.at_param(1));
    }
    if !cp_hash_a.is_empty() && cp_hash_a.len() != s.auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(2));
    }
    let timeout = super::policy_assert::auth_timeout(s, expiration, nonce_tpm.is_empty(), now);
    if !is_trial(s) && timeout != 0 && timeout < now {
        return Err(TpmRc::EXPIRED.at_param(4));
    }
    if !cp_hash_a.is_empty() {
        set_cp_hash(s, cp_hash_a.as_slice(), false, 2)?;
    }
    policy_update(s, TpmCc::POLICY_SECRET, &name, policy_ref.as_slice());
    super::policy_assert::set_timeout(s, timeout);
    let trial = is_trial(s);
    super::policy_assert::write_auth_ticket(
        ctx,
        super::policy_assert::AuthTicket {
            tag: TpmSt::AUTH_SECRET,
            hierarchy,
            expiration,
            trial,
            timeout,
            nonce_empty: nonce_tpm.is_empty(),
            cp_hash: cp_hash_a.as_slice(),
            policy_ref: policy_ref.as_slice(),
            name: &name,
        },
    );
    Ok(())
}

/// TPM2_PolicyOR — Part 3 §23.6: policyDigest := H(0...0 || TPM_CC_PolicyOR ||
/// digests...), when the current policyDigest is in pHashList.
///
/// `TPM_RC_SIZE` (parameter 1): fewer than two digests; `TPM_RC_VALUE` (parameter
/// 1): the policyDigest is not in the list (policy sessions only).
pub fn policy_or(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let list: TpmlDigest = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    if list.0.len() < 2 {
        return Err(TpmRc::SIZE.at_param(1));
    }
    if !is_trial(s) && !list.0.iter().any(|d| ct_eq(d.as_slice(), &s.policy.digest)) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let zeros = alloc::vec![0u8; s.auth_hash.digest_size()];
    let cc = TpmCc::POLICY_OR.0.to_be_bytes();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(list.0.len().saturating_add(2));
    parts.push(&zeros);
    parts.push(&cc);
    parts.extend(list.0.iter().map(Tpm2bDigest::as_slice));
    s.policy.digest = s.auth_hash.digest_parts(&parts);
    Ok(())
}

/// The digest of the selected PCR values (in selection order) with `alg`.
pub(super) fn pcr_digest(ctx: &Ctx<'_>, alg: HashAlg, sel: &TpmlPcrSelection) -> Vec<u8> {
    let mut values: Vec<&[u8]> = Vec::new();
    for s in &sel.0 {
        let Some(bank) = ctx.tpm.pcrs.bank(s.hash) else {
            continue;
        };
        for i in s.indices() {
            if let Some(v) = bank.values.get(usize::from(i)) {
                values.push(v);
            }
        }
    }
    alg.digest_parts(&values)
}

/// TPM2_PolicyPCR — Part 3 §23.7: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyPCR || pcrs || pcrDigest), pcrDigest being the digest of the
/// current values when the caller gives none. A policy session records the PCR
/// update counter, so a PCR change before the authorization fails it.
///
/// `TPM_RC_VALUE` (parameter 1): pcrDigest differs from the current PCR values
/// (policy sessions); `TPM_RC_SIZE` (parameter 1): pcrDigest is neither empty nor a
/// digest of the session hash; `TPM_RC_PCR_CHANGED`: PCRs changed since an earlier
/// PolicyPCR of this session.
pub fn policy_pcr(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let given: Tpm2bDigest = p.param()?;
    let pcrs: TpmlPcrSelection = p.param()?;
    p.end()?;
    let h = ctx.handle(0);
    let alg = session(ctx, 0)?.auth_hash;
    let current = pcr_digest(ctx, alg, &pcrs);
    let counter = ctx.tpm.pcrs.update_counter;
    let s = ctx
        .tpm
        .sessions
        .get_mut(h)
        .ok_or(TpmRc::HANDLE.at_handle(1))?;
    if !given.is_empty() && given.len() != alg.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    let digest = if is_trial(s) {
        if given.is_empty() {
            current
        } else {
            given.as_slice().to_vec()
        }
    } else {
        if !given.is_empty() && !ct_eq(given.as_slice(), &current) {
            return Err(TpmRc::VALUE.at_param(1));
        }
        if s.policy.pcr_counter.is_some_and(|c| c != counter) {
            return Err(TpmRc::PCR_CHANGED);
        }
        s.policy.pcr_counter = Some(counter);
        current
    };
    let mut sel = crate::marshal::Writer::new();
    pcrs.marshal(&mut sel);
    extend(
        s,
        &[&TpmCc::POLICY_PCR.0.to_be_bytes(), sel.as_slice(), &digest],
    );
    Ok(())
}

/// TPM2_PolicyLocality — Part 3 §23.8: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyLocality || locality); the allowed localities narrow to those of
/// every PolicyLocality of the session.
///
/// `TPM_RC_RANGE` (parameter 1): locality is zero, or no locality would remain
/// allowed, or it changes an extended locality.
pub fn policy_locality(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let locality: u8 = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    if locality == 0 {
        return Err(TpmRc::RANGE.at_param(1));
    }
    let prev = s.policy.locality;
    let next = if prev == 0 {
        locality
    } else if prev < 32 && locality < 32 {
        prev & locality
    } else if prev == locality {
        locality
    } else {
        0
    };
    if next == 0 {
        return Err(TpmRc::RANGE.at_param(1));
    }
    s.policy.locality = next;
    extend(s, &[&TpmCc::POLICY_LOCALITY.0.to_be_bytes(), &[locality]]);
    Ok(())
}

/// TPM2_PolicyCommandCode — Part 3 §23.11: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyCommandCode || code); the session authorizes only `code`.
///
/// `TPM_RC_VALUE` (parameter 1): another command code is already set.
pub fn policy_command_code(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let code: u32 = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    if s.policy.command_code.is_some_and(|c| c != code) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    s.policy.command_code = Some(code);
    extend(
        s,
        &[
            &TpmCc::POLICY_COMMAND_CODE.0.to_be_bytes(),
            &code.to_be_bytes(),
        ],
    );
    Ok(())
}

/// TPM2_PolicyPhysicalPresence — Part 3 §23.12: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyPhysicalPresence); authorization then needs physical presence.
pub fn policy_physical_presence(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let s = session(ctx, 0)?;
    s.policy.is_pp_required = true;
    extend(s, &[&TpmCc::POLICY_PHYSICAL_PRESENCE.0.to_be_bytes()]);
    Ok(())
}

/// TPM2_PolicyCpHash — Part 3 §23.13: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyCpHash || cpHashA); the session authorizes only that cpHash.
///
/// `TPM_RC_SIZE` (parameter 1): cpHashA is not a digest of the session hash;
/// `TPM_RC_CPHASH` (parameter 1): a different cpHash or a nameHash is set.
pub fn policy_cp_hash(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let cp: Tpm2bDigest = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    if cp.len() != s.auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    set_cp_hash(s, cp.as_slice(), false, 1)?;
    extend(s, &[&TpmCc::POLICY_CP_HASH.0.to_be_bytes(), cp.as_slice()]);
    Ok(())
}

/// TPM2_PolicyNameHash — Part 3 §23.14: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyNameHash || nameHash); the session authorizes only commands whose
/// handles' Names hash to nameHash.
///
/// `TPM_RC_SIZE` (parameter 1): nameHash is not a digest of the session hash;
/// `TPM_RC_CPHASH` (parameter 1): a cpHash or nameHash is already set.
pub fn policy_name_hash(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let nh: Tpm2bDigest = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    if nh.len() != s.auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    if s.policy.cp_hash.is_some() {
        return Err(TpmRc::CPHASH);
    }
    set_cp_hash(s, nh.as_slice(), true, 1)?;
    extend(
        s,
        &[&TpmCc::POLICY_NAME_HASH.0.to_be_bytes(), nh.as_slice()],
    );
    Ok(())
}

/// TPM2_PolicyDuplicationSelect — Part 3 §23.15: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyDuplicationSelect || [objectName] || newParentName ||
/// includeObject); the session authorizes only TPM2_Duplicate with those Names.
///
/// `TPM_RC_CPHASH`: a cpHash or nameHash is already set; `TPM_RC_COMMAND_CODE`:
/// another command code is set; `TPM_RC_VALUE` (parameter 3): includeObject is not
/// YES or NO.
pub fn policy_duplication_select(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let object_name: Tpm2bName = p.param()?;
    let new_parent: Tpm2bName = p.param()?;
    let include: u8 = p.param()?;
    p.end()?;
    if include > 1 {
        return Err(TpmRc::VALUE.at_param(3));
    }
    let s = session(ctx, 0)?;
    if s.policy.cp_hash.is_some() {
        return Err(TpmRc::CPHASH);
    }
    if s.policy
        .command_code
        .is_some_and(|c| c != TpmCc::DUPLICATE.0)
    {
        return Err(TpmRc::COMMAND_CODE);
    }
    let nh = s
        .auth_hash
        .digest_parts(&[object_name.as_slice(), new_parent.as_slice()]);
    s.policy.cp_hash = Some(nh);
    s.policy.is_name_hash = true;
    s.policy.command_code = Some(TpmCc::DUPLICATE.0);
    let cc = TpmCc::POLICY_DUPLICATION_SELECT.0.to_be_bytes();
    let obj: &[u8] = if include == 1 {
        object_name.as_slice()
    } else {
        &[]
    };
    extend(s, &[&cc, obj, new_parent.as_slice(), &[include]]);
    Ok(())
}

/// TPM2_PolicyAuthorize — Part 3 §23.16: when approvedPolicy is the current
/// policyDigest and checkTicket is the TPMT_TK_VERIFIED for
/// aHash = H_nameAlg(keySign)(approvedPolicy || policyRef) signed by keySign,
/// policyDigest := PolicyUpdate(TPM_CC_PolicyAuthorize, keySignName, policyRef)
/// starting from zeros. A trial session skips the checks.
///
/// `TPM_RC_HASH` (parameter 3): keySignName does not start with a known hash;
/// `TPM_RC_VALUE` (parameter 1): approvedPolicy is not the policyDigest;
/// `TPM_RC_VALUE` (parameter 4): the ticket is not a valid verification ticket;
/// `TPM_RC_TAG` (parameter 4): the ticket tag is not TPM_ST_VERIFIED.
pub fn policy_authorize(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let approved: Tpm2bDigest = p.param()?;
    let policy_ref: Tpm2bNonce = p.param()?;
    let key_sign: Tpm2bName = p.param()?;
    let tag = p.param::<u16>()?;
    let hierarchy = p.param::<u32>()?;
    let ticket: Tpm2bDigest = p.param()?;
    p.end()?;
    if tag != TpmSt::VERIFIED.0 {
        return Err(TpmRc::TAG.at_param(4));
    }
    let trial = is_trial(session(ctx, 0)?);
    if !trial {
        let name_alg = key_sign
            .as_slice()
            .get(..2)
            .and_then(|b| {
                let id = u16::from_be_bytes([*b.first()?, *b.get(1)?]);
                HashAlg::from_alg_id(crate::types::constants::TpmAlgId(id))
            })
            .ok_or(TpmRc::HASH.at_param(3))?;
        let digest = session(ctx, 0)?.policy.digest.clone();
        if !ct_eq(approved.as_slice(), &digest) {
            return Err(TpmRc::VALUE.at_param(1));
        }
        let a_hash = name_alg.digest_parts(&[approved.as_slice(), policy_ref.as_slice()]);
        if hierarchy == TpmRh::NULL.0 {
            return Err(TpmRc::VALUE.at_param(4));
        }
        let want = crate::state::ticket::compute(
            ctx.tpm,
            hierarchy,
            TpmSt::VERIFIED,
            &[&a_hash, key_sign.as_slice()],
        );
        if !ct_eq(&want, ticket.as_slice()) {
            return Err(TpmRc::VALUE.at_param(4));
        }
    }
    let s = session(ctx, 0)?;
    s.policy.digest = alloc::vec![0u8; s.auth_hash.digest_size()];
    policy_update(
        s,
        TpmCc::POLICY_AUTHORIZE,
        key_sign.as_slice(),
        policy_ref.as_slice(),
    );
    Ok(())
}

/// TPM2_PolicyAuthValue — Part 3 §23.17: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyAuthValue); the authorization HMAC then includes the authValue.
pub fn policy_auth_value(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let s = session(ctx, 0)?;
    s.policy.is_auth_value_needed = true;
    s.policy.is_password_needed = false;
    extend(s, &[&TpmCc::POLICY_AUTH_VALUE.0.to_be_bytes()]);
    Ok(())
}

/// TPM2_PolicyPassword — Part 3 §23.18: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyAuthValue) (the same as PolicyAuthValue); the hmac field of the
/// authorization then carries the authValue in the clear.
pub fn policy_password(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let s = session(ctx, 0)?;
    s.policy.is_password_needed = true;
    s.policy.is_auth_value_needed = false;
    extend(s, &[&TpmCc::POLICY_AUTH_VALUE.0.to_be_bytes()]);
    Ok(())
}

/// TPM2_PolicyGetDigest — Part 3 §23.19: returns the policyDigest.
pub fn policy_get_digest(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let d = session(ctx, 0)?.policy.digest.clone();
    ctx.out.tpm2b(&d);
    Ok(())
}

/// TPM2_PolicyNvWritten — Part 3 §23.20: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyNvWritten || writtenSet); checked when an NV index is authorized.
///
/// `TPM_RC_VALUE` (parameter 1): writtenSet is not YES or NO, or differs from an
/// earlier PolicyNvWritten of the session.
pub fn policy_nv_written(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let written: u8 = p.param()?;
    p.end()?;
    if written > 1 {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let s = session(ctx, 0)?;
    let w = written == 1;
    if s.policy.nv_written.is_some_and(|v| v != w) {
        return Err(TpmRc::VALUE.at_param(1));
    }
    s.policy.nv_written = Some(w);
    extend(s, &[&TpmCc::POLICY_NV_WRITTEN.0.to_be_bytes(), &[written]]);
    Ok(())
}

/// TPM2_PolicyRestart — Part 3 §11.2: policyDigest back to zeros, every
/// restriction cleared.
pub fn policy_restart(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let s = session(ctx, 0)?;
    s.policy = PolicyState::new(s.auth_hash);
    Ok(())
}

#[cfg(test)]
mod tests;
