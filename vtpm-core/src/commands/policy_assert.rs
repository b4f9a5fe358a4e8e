//! Part 3, clause 23: the Enhanced Authorization assertions that need something
//! outside the session to check — a signature (TPM2_PolicySigned), a ticket
//! (TPM2_PolicyTicket), an NV index (TPM2_PolicyNV, TPM2_PolicyAuthorizeNV), the
//! TPM's clock (TPM2_PolicyCounterTimer) — and TPM2_PolicyTemplate; with the
//! policy timeout and the TPMT_TK_AUTH tickets that TPM2_PolicySigned and
//! TPM2_PolicySecret share.
//!
//! Timeouts are TPM Time values in milliseconds (Time restarts at every
//! _TPM_Init). An expiration counts in seconds from the moment the session's
//! nonceTPM was issued, or, when the caller gives no nonceTPM, it is a TPM Time
//! in seconds.

use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::commands::nv::auth_via;
use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::ct_eq;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::session::Session;
use crate::state::nv::read_access;
use crate::state::ticket::{self, EXPIRES_ON_RESET};
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmHt, TpmRh, TpmSt};
use crate::types::nv::TpmaNv;
use crate::types::sensitive::Tpm2bName;
use crate::types::signature::TpmtSignature;
use crate::types::sized::{Tpm2bDigest, Tpm2bNonce};
use crate::types::structures::TpmtHa;

use super::policy::{extend, is_trial, policy_update, session, set_cp_hash};

/// TPM_EO — Part 2, 6.8: the comparisons of TPM2_PolicyNV and
/// TPM2_PolicyCounterTimer.
pub mod eo {
    /// A = B
    pub const EQ: u16 = 0x0000;
    /// A ≠ B
    pub const NEQ: u16 = 0x0001;
    /// A > B, signed
    pub const SIGNED_GT: u16 = 0x0002;
    /// A > B, unsigned
    pub const UNSIGNED_GT: u16 = 0x0003;
    /// A < B, signed
    pub const SIGNED_LT: u16 = 0x0004;
    /// A < B, unsigned
    pub const UNSIGNED_LT: u16 = 0x0005;
    /// A ≥ B, signed
    pub const SIGNED_GE: u16 = 0x0006;
    /// A ≥ B, unsigned
    pub const UNSIGNED_GE: u16 = 0x0007;
    /// A ≤ B, signed
    pub const SIGNED_LE: u16 = 0x0008;
    /// A ≤ B, unsigned
    pub const UNSIGNED_LE: u16 = 0x0009;
    /// Every bit SET in B is SET in A.
    pub const BITSET: u16 = 0x000A;
    /// Every bit SET in B is CLEAR in A.
    pub const BITCLEAR: u16 = 0x000B;
}

/// Size of a marshaled TPMS_TIME_INFO: time, clock, resetCount, restartCount, safe.
const TIME_INFO_SIZE: usize = 8 + 8 + 4 + 4 + 1;

/// TPMT_SIGNATURE (NULL allowed, then refused as a scheme), read against the
/// implemented algorithms.
struct SignatureIn(TpmtSignature);

impl Unmarshal for SignatureIn {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtSignature::unmarshal_in(r, &IMPLEMENTED, true).map(SignatureIn)
    }
}

/// TPMT_TK_AUTH — Part 2, 10.7.5: tag (TPM_ST_AUTH_SIGNED or TPM_ST_AUTH_SECRET,
/// else `TPM_RC_TAG`), hierarchy (TPMI_RH_HIERARCHY+, else `TPM_RC_VALUE`), digest.
struct TkAuthIn {
    tag: TpmSt,
    hierarchy: u32,
    digest: Tpm2bDigest,
}

impl Unmarshal for TkAuthIn {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let tag = TpmSt(r.u16()?);
        if tag != TpmSt::AUTH_SIGNED && tag != TpmSt::AUTH_SECRET {
            return Err(TpmRc::TAG);
        }
        let hierarchy = r.u32()?;
        if !crate::dispatch::table::RH_HIERARCHY_NULL
            .iter()
            .any(|h| h.0 == hierarchy)
        {
            return Err(TpmRc::VALUE);
        }
        let digest = Tpm2bDigest::unmarshal(r)?;
        Ok(TkAuthIn {
            tag,
            hierarchy,
            digest,
        })
    }
}

/// An INT32 sent as its two's-complement bits.
fn int32(v: u32) -> i32 {
    i32::from_be_bytes(v.to_be_bytes())
}

/// The hierarchy an entity belongs to (the reference implementation's
/// EntityGetHierarchy): TPM_RH_PLATFORM, _ENDORSEMENT and _NULL are their own,
/// other permanent handles and PCRs belong to the owner; an NV index to the
/// platform when PLATFORMCREATE is SET, else the owner; an object to the
/// hierarchy recorded in it.
pub(crate) fn entity_hierarchy(tpm: &Tpm, handle: u32) -> u32 {
    match TpmHt::of(handle) {
        TpmHt::PERMANENT => match TpmRh(handle) {
            TpmRh::PLATFORM | TpmRh::ENDORSEMENT | TpmRh::NULL => handle,
            _ => TpmRh::OWNER.0,
        },
        TpmHt::NV_INDEX => match tpm.nv_index(handle) {
            Some(i) if i.attributes().has(TpmaNv::PLATFORMCREATE) => TpmRh::PLATFORM.0,
            _ => TpmRh::OWNER.0,
        },
        TpmHt::PCR => TpmRh::OWNER.0,
        _ => tpm.key(handle).map_or(TpmRh::NULL.0, |k| k.hierarchy),
    }
}

/// The policy timeout an expiration asks for (the reference implementation's
/// ComputeAuthTimeout): 0 for no expiration; otherwise |expiration| seconds after
/// the session's nonceTPM was issued, or, without a nonceTPM, at TPM Time
/// |expiration| seconds (plus the milliseconds of `now`, so it never ends early).
pub(crate) fn auth_timeout(s: &Session, expiration: i32, nonce_empty: bool, now: u64) -> u64 {
    if expiration == 0 {
        return 0;
    }
    let ms = u64::from(expiration.unsigned_abs()).saturating_mul(1000);
    if nonce_empty {
        ms.saturating_add(now.checked_rem(1000).unwrap_or(0))
    } else {
        s.start_time.saturating_add(ms)
    }
}

/// Narrows the session's policy timeout to `timeout` (0: no timeout).
pub(crate) fn set_timeout(s: &mut Session, timeout: u64) {
    if timeout != 0 && (s.policy.timeout == 0 || s.policy.timeout > timeout) {
        s.policy.timeout = timeout;
    }
}

/// What TPM2_PolicySigned and TPM2_PolicySecret return about their authorization.
pub(crate) struct AuthTicket<'a> {
    /// TPM_ST_AUTH_SIGNED or TPM_ST_AUTH_SECRET.
    pub tag: TpmSt,
    /// The authorizing entity's hierarchy.
    pub hierarchy: u32,
    /// The expiration given.
    pub expiration: i32,
    /// The session is a trial session.
    pub trial: bool,
    /// The timeout computed from the expiration.
    pub timeout: u64,
    /// No nonceTPM was given (the ticket then also ends at the next TPM Reset).
    pub nonce_empty: bool,
    /// cpHashA
    pub cp_hash: &'a [u8],
    /// policyRef
    pub policy_ref: &'a [u8],
    /// The authorizing entity's Name.
    pub name: &'a [u8],
}

/// Writes timeout (TPM2B_TIMEOUT) and policyTicket (TPMT_TK_AUTH): for a negative
/// expiration in a policy session, the 8-octet timeout (its top bit SET when the
/// ticket ends at TPM Reset) and the ticket; otherwise an empty timeout and the
/// NULL ticket.
pub(crate) fn write_auth_ticket(ctx: &mut Ctx<'_>, t: AuthTicket<'_>) {
    if t.expiration < 0 && !t.trial {
        let timeout = t.timeout & !EXPIRES_ON_RESET;
        let digest = ticket::auth(
            ctx.tpm,
            t.tag,
            t.hierarchy,
            timeout,
            t.nonce_empty,
            t.cp_hash,
            t.policy_ref,
            t.name,
        );
        let flag = if t.nonce_empty { EXPIRES_ON_RESET } else { 0 };
        ctx.out.tpm2b(&(timeout | flag).to_be_bytes());
        ctx.out.u16(t.tag.0);
        ctx.out.u32(t.hierarchy);
        ctx.out.tpm2b(&digest);
    } else {
        ctx.out.u16(0);
        ctx.out.u16(t.tag.0);
        ctx.out.u32(TpmRh::NULL.0);
        ctx.out.u16(0);
    }
}

/// TPM2_PolicySigned — Part 3 §23.3: the holder of the private key of authObject
/// approves the session by signing aHash = H_sigHash(nonceTPM || expiration ||
/// cpHashA || policyRef). policyDigest := PolicyUpdate(TPM_CC_PolicySigned,
/// authObject Name, policyRef); a cpHashA restricts the session to that command.
/// A non-zero expiration sets a policy timeout; a negative one (policy sessions)
/// also returns the timeout and a TPM_ST_AUTH_SIGNED ticket for TPM2_PolicyTicket.
/// A trial session only updates the digest.
///
/// `TPM_RC_NONCE` (parameter 1): nonceTPM is neither empty nor the session's
/// nonce; `TPM_RC_SIZE` (parameter 2): cpHashA is neither empty nor a digest of the
/// session hash; `TPM_RC_CPHASH`: another cpHash is set;
/// `TPM_RC_EXPIRED` (parameter 4): the expiration has passed; `TPM_RC_ATTRIBUTES`
/// (handle 1): authObject is not a signing key; `TPM_RC_SCHEME`,
/// `TPM_RC_SIGNATURE`, `TPM_RC_KEY`, `TPM_RC_ECC_POINT` (parameter 5): the
/// signature does not verify with authObject.
pub fn policy_signed(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let nonce_tpm: Tpm2bNonce = p.param()?;
    let cp_hash_a: Tpm2bDigest = p.param()?;
    let policy_ref: Tpm2bNonce = p.param()?;
    let expiration = int32(p.param::<u32>()?);
    let auth: SignatureIn = p.param()?;
    p.end()?;
    let key_handle = ctx.handle(0);
    let name = ctx.tpm.entity_name(key_handle);
    let hierarchy = entity_hierarchy(ctx.tpm, key_handle);
    let now = ctx.tpm.time(ctx.platform);
    let s = session(ctx, 1)?;
    let trial = is_trial(s);
    if !cp_hash_a.is_empty() && cp_hash_a.len() != s.auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(2));
    }
    let timeout = if trial {
        0
    } else {
        let timeout = auth_timeout(s, expiration, nonce_tpm.is_empty(), now);
        if !nonce_tpm.is_empty() && !ct_eq(nonce_tpm.as_slice(), &s.nonce_tpm) {
            return Err(TpmRc::NONCE.at_param(1));
        }
        if timeout != 0 && timeout < now {
            return Err(TpmRc::EXPIRED.at_param(4));
        }
        if let Some(cp) = &s.policy.cp_hash {
            if !cp_hash_a.is_empty() && !ct_eq(cp, cp_hash_a.as_slice()) {
                return Err(TpmRc::CPHASH);
            }
        }
        let hash = auth.0.parts().1.ok_or(TpmRc::SCHEME.at_param(5))?;
        let a_hash = hash.digest_parts(&[
            nonce_tpm.as_slice(),
            &expiration.to_be_bytes(),
            cp_hash_a.as_slice(),
            policy_ref.as_slice(),
        ]);
        let key = ctx.tpm.key(key_handle).ok_or(TpmRc::HANDLE.at_handle(1))?;
        if !key.public.object_attributes.sign() {
            return Err(TpmRc::ATTRIBUTES.at_handle(1));
        }
        crate::objects::signing::verify_digest(key, &a_hash, &auth.0).map_err(|e| e.at_param(5))?;
        timeout
    };
    let s = session(ctx, 1)?;
    if !cp_hash_a.is_empty() {
        set_cp_hash(s, cp_hash_a.as_slice(), false, 2)?;
    }
    policy_update(s, TpmCc::POLICY_SIGNED, &name, policy_ref.as_slice());
    set_timeout(s, timeout);
    write_auth_ticket(
        ctx,
        AuthTicket {
            tag: TpmSt::AUTH_SIGNED,
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

/// TPM2_PolicyTicket — Part 3 §23.5: a TPMT_TK_AUTH from an earlier
/// TPM2_PolicySigned (TPM_ST_AUTH_SIGNED) or TPM2_PolicySecret
/// (TPM_ST_AUTH_SECRET) stands in for that authorization until its timeout:
/// policyDigest := PolicyUpdate(TPM_CC_PolicySigned or TPM_CC_PolicySecret,
/// authName, policyRef), and the session takes the ticket's timeout and cpHashA.
/// A ticket is void after the next _TPM_Init, and after the next TPM Reset when
/// it was issued without a nonceTPM or for an entity of the NULL hierarchy.
///
/// `TPM_RC_ATTRIBUTES` (handle 1): a trial session; `TPM_RC_SIZE` (parameter 1):
/// timeout is not 8 octets; `TPM_RC_EXPIRED` (parameter 1): the timeout has
/// passed; `TPM_RC_SIZE` (parameter 2): cpHashA is neither empty nor a digest of
/// the session hash; `TPM_RC_CPHASH`: another cpHash is set;
/// `TPM_RC_TICKET` (parameter 5): the ticket does not match the parameters.
pub fn policy_ticket(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let timeout_in: Tpm2bDigest = p.param()?;
    let cp_hash_a: Tpm2bDigest = p.param()?;
    let policy_ref: Tpm2bNonce = p.param()?;
    let auth_name: Tpm2bName = p.param()?;
    let tk: TkAuthIn = p.param()?;
    p.end()?;
    if timeout_in.len() > 8 {
        return Err(TpmRc::SIZE.at_param(1));
    }
    let now = ctx.tpm.time(ctx.platform);
    let s = session(ctx, 0)?;
    if is_trial(s) {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    let raw = <[u8; 8]>::try_from(timeout_in.as_slice())
        .map(u64::from_be_bytes)
        .map_err(|_| TpmRc::SIZE.at_param(1))?;
    let expires_on_reset = raw & EXPIRES_ON_RESET != 0;
    let timeout = raw & !EXPIRES_ON_RESET;
    if timeout != 0 && timeout < now {
        return Err(TpmRc::EXPIRED.at_param(1));
    }
    if !cp_hash_a.is_empty() {
        if cp_hash_a.len() != s.auth_hash.digest_size() {
            return Err(TpmRc::SIZE.at_param(2));
        }
        if s.policy
            .cp_hash
            .as_ref()
            .is_some_and(|cp| !ct_eq(cp, cp_hash_a.as_slice()))
        {
            return Err(TpmRc::CPHASH);
        }
    }
    let want = ticket::auth(
        ctx.tpm,
        tk.tag,
        tk.hierarchy,
        timeout,
        expires_on_reset,
        cp_hash_a.as_slice(),
        policy_ref.as_slice(),
        auth_name.as_slice(),
    );
    if !ct_eq(&want, tk.digest.as_slice()) {
        return Err(TpmRc::TICKET.at_param(5));
    }
    let cc = if tk.tag == TpmSt::AUTH_SIGNED {
        TpmCc::POLICY_SIGNED
    } else {
        TpmCc::POLICY_SECRET
    };
    let s = session(ctx, 0)?;
    if !cp_hash_a.is_empty() {
        set_cp_hash(s, cp_hash_a.as_slice(), false, 2)?;
    }
    policy_update(s, cc, auth_name.as_slice(), policy_ref.as_slice());
    set_timeout(s, timeout);
    Ok(())
}

/// Reads operandB, offset and operation (a TPM_EO: `TPM_RC_VALUE` at parameter 3
/// for another value), the parameters of TPM2_PolicyNV and
/// TPM2_PolicyCounterTimer.
fn operand_params(p: &mut Params<'_>) -> TpmResult<(Tpm2bDigest, u16, u16)> {
    // TPM2B_OPERAND holds at most sizeof(TPMU_HA) octets, as a TPM2B_DIGEST does.
    let operand_b: Tpm2bDigest = p.param()?;
    let offset: u16 = p.param()?;
    let operation: u16 = p.param()?;
    if operation > eo::BITCLEAR {
        return Err(TpmRc::VALUE.at_param(3));
    }
    p.end()?;
    Ok((operand_b, offset, operation))
}

/// Whether `a` and `b`, octet strings of one length read as big-endian integers,
/// satisfy `operation` (the reference implementation's PolicySptCheckCondition).
pub(crate) fn check_condition(operation: u16, a: &[u8], b: &[u8]) -> bool {
    let unsigned = a.cmp(b);
    let signed = match (a.first(), b.first()) {
        (Some(x), Some(y)) if (x ^ y) & 0x80 != 0 => {
            // Different signs: the negative one is smaller.
            if x & 0x80 != 0 {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        _ => unsigned,
    };
    let pairs = || a.iter().zip(b.iter());
    match operation {
        eo::EQ => unsigned == Ordering::Equal,
        eo::NEQ => unsigned != Ordering::Equal,
        eo::SIGNED_GT => signed == Ordering::Greater,
        eo::UNSIGNED_GT => unsigned == Ordering::Greater,
        eo::SIGNED_LT => signed == Ordering::Less,
        eo::UNSIGNED_LT => unsigned == Ordering::Less,
        eo::SIGNED_GE => signed != Ordering::Less,
        eo::UNSIGNED_GE => unsigned != Ordering::Less,
        eo::SIGNED_LE => signed != Ordering::Greater,
        eo::UNSIGNED_LE => unsigned != Ordering::Greater,
        eo::BITSET => pairs().all(|(x, y)| x & y == *y),
        eo::BITCLEAR => pairs().all(|(x, y)| x & y == 0),
        _ => false,
    }
}

/// args = H(operandB || offset || operation) with the session hash.
fn operand_args(s: &Session, operand_b: &[u8], offset: u16, operation: u16) -> Vec<u8> {
    s.auth_hash
        .digest_parts(&[operand_b, &offset.to_be_bytes(), &operation.to_be_bytes()])
}

/// TPM2_PolicyNV — Part 3 §23.9: the session is approved when the data of
/// nvIndex at offset, compared with operandB by operation, holds (authHandle
/// authorizes reading the index). policyDigest := H(policyDigest ||
/// TPM_CC_PolicyNV || args || nvIndex Name) with args = H(operandB || offset ||
/// operation). A trial session only updates the digest.
///
/// `TPM_RC_NV_AUTHORIZATION`, `TPM_RC_NV_LOCKED`, `TPM_RC_NV_UNINITIALIZED`: the
/// index may not be read; `TPM_RC_VALUE` (parameter 2): offset beyond the index;
/// `TPM_RC_SIZE` (parameter 1): operandB reaches beyond the index; `TPM_RC_VALUE`
/// (parameter 3): not a TPM_EO; `TPM_RC_POLICY`: the comparison fails.
pub fn policy_nv(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let (operand_b, offset, operation) = operand_params(p)?;
    let auth_handle = ctx.handle(0);
    let nv = ctx.handle(1);
    let via = auth_via(ctx, 0);
    if !is_trial(session(ctx, 2)?) {
        let index = ctx.tpm.nv_index(nv).ok_or(TpmRc::HANDLE.at_handle(2))?;
        read_access(auth_handle, index, via)?;
        let start = usize::from(offset);
        if start > index.data.len() {
            return Err(TpmRc::VALUE.at_param(2));
        }
        let a = start
            .checked_add(operand_b.len())
            .and_then(|end| index.data.get(start..end))
            .ok_or(TpmRc::SIZE.at_param(1))?;
        if !check_condition(operation, a, operand_b.as_slice()) {
            return Err(TpmRc::POLICY);
        }
    }
    let name = ctx.tpm.entity_name(nv);
    let s = session(ctx, 2)?;
    let args = operand_args(s, operand_b.as_slice(), offset, operation);
    extend(s, &[&TpmCc::POLICY_NV.0.to_be_bytes(), &args, &name]);
    Ok(())
}

/// TPM2_PolicyCounterTimer — Part 3 §23.10: the session is approved when the
/// marshaled TPMS_TIME_INFO (time, clock, resetCount, restartCount, safe) at
/// offset, compared with operandB by operation, holds. policyDigest :=
/// H(policyDigest || TPM_CC_PolicyCounterTimer || args) with args = H(operandB ||
/// offset || operation). A trial session only updates the digest.
///
/// `TPM_RC_VALUE` (parameter 2): offset beyond TPMS_TIME_INFO; `TPM_RC_RANGE`:
/// operandB reaches beyond it; `TPM_RC_VALUE` (parameter 3): not a TPM_EO;
/// `TPM_RC_POLICY`: the comparison fails.
pub fn policy_counter_timer(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let (operand_b, offset, operation) = operand_params(p)?;
    let start = usize::from(offset);
    if start > TIME_INFO_SIZE {
        return Err(TpmRc::VALUE.at_param(2));
    }
    let end = start.saturating_add(operand_b.len());
    if end > TIME_INFO_SIZE {
        return Err(TpmRc::RANGE);
    }
    if !is_trial(session(ctx, 0)?) {
        let mut w = Writer::new();
        super::clock::time_info(ctx).marshal(&mut w);
        let a = w.as_slice().get(start..end).ok_or(TpmRc::RANGE)?;
        if !check_condition(operation, a, operand_b.as_slice()) {
            return Err(TpmRc::POLICY);
        }
    }
    let s = session(ctx, 0)?;
    let args = operand_args(s, operand_b.as_slice(), offset, operation);
    extend(s, &[&TpmCc::POLICY_COUNTER_TIMER.0.to_be_bytes(), &args]);
    Ok(())
}

/// TPM2_PolicyTemplate — Part 3 §23.21: policyDigest := H(policyDigest ||
/// TPM_CC_PolicyTemplate || templateHash); the session then authorizes only a
/// TPM2_Create, TPM2_CreatePrimary or TPM2_CreateLoaded whose inPublic hashes
/// (with the session hash) to templateHash.
///
/// `TPM_RC_VALUE` (parameter 1): a different templateHash is set; `TPM_RC_CPHASH`:
/// a cpHash or nameHash is set; `TPM_RC_SIZE` (parameter 1): templateHash is not a
/// digest of the session hash.
pub fn policy_template(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let template_hash: Tpm2bDigest = p.param()?;
    p.end()?;
    let s = session(ctx, 0)?;
    match &s.policy.cp_hash {
        Some(v) if s.policy.is_template_hash && !ct_eq(v, template_hash.as_slice()) => {
            return Err(TpmRc::VALUE.at_param(1));
        }
        Some(_) if !s.policy.is_template_hash => return Err(TpmRc::CPHASH),
        _ => {}
    }
    if template_hash.len() != s.auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    extend(
        s,
        &[
            &TpmCc::POLICY_TEMPLATE.0.to_be_bytes(),
            template_hash.as_slice(),
        ],
    );
    s.policy.cp_hash = Some(template_hash.as_slice().to_vec());
    s.policy.is_template_hash = true;
    s.policy.is_name_hash = false;
    Ok(())
}

/// TPM2_PolicyAuthorizeNV — Part 3 §23.22: nvIndex holds a TPMT_HA naming an
/// approved policy; when it is the current policyDigest (and authHandle authorizes
/// reading the index), policyDigest := H(0...0 || TPM_CC_PolicyAuthorizeNV ||
/// nvIndex Name). A trial session skips the checks.
///
/// `TPM_RC_NV_AUTHORIZATION`, `TPM_RC_NV_LOCKED`, `TPM_RC_NV_UNINITIALIZED`: the
/// index may not be read; `TPM_RC_HASH`: the index does not start with the
/// session's hash algorithm; `TPM_RC_INSUFFICIENT`: it holds less than a TPMT_HA;
/// `TPM_RC_VALUE`: the digest in the index is not the policyDigest.
pub fn policy_authorize_nv(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let auth_handle = ctx.handle(0);
    let nv = ctx.handle(1);
    let via = auth_via(ctx, 0);
    let s = session(ctx, 2)?;
    if !is_trial(s) {
        let (alg, digest) = (s.auth_hash, s.policy.digest.clone());
        let index = ctx.tpm.nv_index(nv).ok_or(TpmRc::HANDLE.at_handle(2))?;
        read_access(auth_handle, index, via)?;
        let approved = TpmtHa::unmarshal(&mut Reader::new(&index.data))?;
        if approved.alg != alg {
            return Err(TpmRc::HASH);
        }
        if !ct_eq(&approved.digest, &digest) {
            return Err(TpmRc::VALUE);
        }
    }
    let name = ctx.tpm.entity_name(nv);
    let s = session(ctx, 2)?;
    s.policy.digest = alloc::vec![0u8; s.auth_hash.digest_size()];
    extend(s, &[&TpmCc::POLICY_AUTHORIZE_NV.0.to_be_bytes(), &name]);
    Ok(())
}

/// templateHash of a creation command (Part 3, 23.21): H(inPublic) over the
/// contents of the TPM2B that is the second parameter of TPM2_Create,
/// TPM2_CreatePrimary and TPM2_CreateLoaded; None for any other command or
/// parameters that do not parse.
pub(crate) fn template_hash(
    alg: crate::crypto::hash::HashAlg,
    cc: TpmCc,
    params: &[u8],
) -> Option<Vec<u8>> {
    if cc != TpmCc::CREATE && cc != TpmCc::CREATE_PRIMARY && cc != TpmCc::CREATE_LOADED {
        return None;
    }
    let mut r = Reader::new(params);
    let sensitive_len = r.u16().ok()?;
    r.bytes(usize::from(sensitive_len)).ok()?;
    let public_len = r.u16().ok()?;
    let public = r.bytes(usize::from(public_len)).ok()?;
    Some(alg.digest(public))
}

#[cfg(test)]
mod tests;
