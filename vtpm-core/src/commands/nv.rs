//! Part 3, clause 31: Non-volatile Storage — defining, undefining, reading,
//! writing and locking NV indices (Part 1, clause 37).
//!
//! PIN Fail and PIN Pass indices are 8-octet indices written like ordinary ones;
//! the session layer keeps their pinCount (`state::nv_pin`). ORDERLY indices are
//! handled as non-orderly ones (their data is durable after every command).
//!
//! SPEC-DEVIATION: an index's authValue and authPolicy are accepted by the session
//! layer whatever its attributes; AUTHREAD/AUTHWRITE (password or HMAC session)
//! and POLICYREAD/POLICYWRITE (policy session) are checked by the command, so a
//! command authorized through an index without the matching attribute answers
//! `TPM_RC_NV_AUTHORIZATION` rather than `TPM_RC_AUTH_UNAVAILABLE`.

use alloc::vec;

use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::rc::{TpmRc, TpmResult};
use crate::state::nv::{
    read_access, write_access, write_authorized, NvAuthVia, NvIndex, MAX_NV_INDEX_SIZE,
};
use crate::types::constants::TpmRh;
use crate::types::nv::{Tpm2bMaxNvBuffer, Tpm2bNvPublic, TpmNt, TpmaNv, MAX_NV_BUFFER_SIZE};
use crate::types::sized::{Tpm2bAuth, Tpm2bDigest};

use super::hierarchy::auth_value;

/// How handle `i` (0-based position in the handle area) was authorized: by a
/// policy session (the index's authPolicy, so POLICYREAD/POLICYWRITE apply) or
/// by a password or HMAC session (its authValue: AUTHREAD/AUTHWRITE).
pub(crate) fn auth_via(ctx: &Ctx<'_>, i: usize) -> NvAuthVia {
    if ctx.policy_auth.get(i).copied().unwrap_or(false) {
        NvAuthVia::Policy
    } else {
        NvAuthVia::AuthValue
    }
}

/// The index named by handle `n` (1-based); the dispatcher checked it exists.
fn index(ctx: &Ctx<'_>, n: usize) -> TpmResult<NvIndex> {
    let h = ctx.handle(n.saturating_sub(1));
    ctx.tpm
        .nv_index(h)
        .cloned()
        .ok_or(TpmRc::HANDLE.at_handle(u8::try_from(n).unwrap_or(u8::MAX)))
}

/// Stores a changed index back and marks NV dirty.
fn store(ctx: &mut Ctx<'_>, index: NvIndex) -> TpmResult<()> {
    let slot = ctx
        .tpm
        .perm
        .nv
        .get_mut(index.public.nv_index)
        .ok_or(TpmRc::FAILURE)?;
    *slot = index;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_NV_DefineSpace — Part 3 §31.3.
///
/// Refusals: `TPM_RC_HIERARCHY` (handle 1): platform authorization while
/// phEnableNV is CLEAR; `TPM_RC_SIZE` (parameter 1): auth longer than the nameAlg
/// digest; `TPM_RC_SIZE` (parameter 2): authPolicy neither empty nor a nameAlg
/// digest, a counter or bit field not 8 bytes, an extend index not a digest, an
/// ordinary index larger than MAX_NV_INDEX_SIZE, WRITEALL on an index larger than
/// MAX_NV_BUFFER_SIZE; `TPM_RC_ATTRIBUTES` (handle 1): PLATFORMCREATE not matching
/// the authorizing hierarchy; `TPM_RC_ATTRIBUTES` (parameter 2): WRITTEN,
/// WRITELOCKED or READLOCKED SET, no read or no write access bit, CLEAR_STCLEAR
/// with WRITEDEFINE or on a counter, POLICY_DELETE without platform authorization,
/// an unknown index type, a PIN Fail index without NO_DA, a PIN index with
/// AUTHWRITE, GLOBALLOCK or WRITEDEFINE; `TPM_RC_NV_DEFINED`: the handle is in use; `TPM_RC_NV_SPACE`: the index
/// count or NV space is exhausted.
pub fn define_space(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let auth: Tpm2bAuth = p.param()?;
    let Tpm2bNvPublic(public) = p.param()?;
    p.end()?;
    let auth_handle = ctx.handle(0);
    let platform = auth_handle == TpmRh::PLATFORM.0;
    let a = public.attributes;
    let digest_size = public.name_alg.digest_size();
    if !public.auth_policy.is_empty() && public.auth_policy.len() != digest_size {
        return Err(TpmRc::SIZE.at_param(2));
    }
    let auth = auth_value(auth.as_slice()).map_err(|e| e.at_param(1))?;
    if auth.len() > digest_size {
        return Err(TpmRc::SIZE.at_param(1));
    }
    if platform && !ctx.tpm.clear.ph_enable_nv {
        return Err(TpmRc::HIERARCHY.at_handle(1));
    }
    let attrs = TpmRc::ATTRIBUTES.at_param(2);
    let size = usize::from(public.data_size);
    let size_ok = match a.nt() {
        Some(TpmNt::Ordinary) => size <= MAX_NV_INDEX_SIZE,
        Some(TpmNt::Extend) => size == digest_size,
        Some(TpmNt::Counter) | Some(TpmNt::Bits) => size == 8,
        Some(TpmNt::PinFail) | Some(TpmNt::PinPass) => size == 8,
        None => return Err(attrs),
    };
    if !size_ok {
        return Err(TpmRc::SIZE.at_param(2));
    }
    if a.nt() == Some(TpmNt::Counter) && a.has(TpmaNv::CLEAR_STCLEAR) {
        return Err(attrs);
    }
    if matches!(a.nt(), Some(TpmNt::PinFail | TpmNt::PinPass)) {
        // A PIN Fail index must be NO_DA; no PIN index may be written with its own
        // authValue, be globally locked or be locked for good (Part 3, 31.3.1).
        if a.nt() == Some(TpmNt::PinFail) && !a.has(TpmaNv::NO_DA) {
            return Err(attrs);
        }
        if a.any(TpmaNv::AUTHWRITE | TpmaNv::GLOBALLOCK | TpmaNv::WRITEDEFINE) {
            return Err(attrs);
        }
    }
    if a.any(TpmaNv::WRITTEN | TpmaNv::WRITELOCKED | TpmaNv::READLOCKED) {
        return Err(attrs);
    }
    if !a.any(TpmaNv::READ_ACCESS) || !a.any(TpmaNv::WRITE_ACCESS) {
        return Err(attrs);
    }
    if a.has(TpmaNv::CLEAR_STCLEAR | TpmaNv::WRITEDEFINE) {
        return Err(attrs);
    }
    if a.has(TpmaNv::PLATFORMCREATE) != platform {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    if a.has(TpmaNv::POLICY_DELETE) && !platform {
        return Err(attrs);
    }
    if a.has(TpmaNv::WRITEALL) && size > MAX_NV_BUFFER_SIZE {
        return Err(TpmRc::SIZE.at_param(2));
    }
    ctx.tpm.perm.nv.insert(NvIndex {
        public,
        auth,
        data: vec![0; size],
    })?;
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_NV_UndefineSpace — Part 3 §31.4.
///
/// Refusals: `TPM_RC_ATTRIBUTES` (handle 2): the index has POLICY_DELETE SET (only
/// TPM2_NV_UndefineSpaceSpecial removes it); `TPM_RC_NV_AUTHORIZATION`: owner
/// authorization for an index the platform defined.
pub fn undefine_space(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let index = index(ctx, 2)?;
    let a = index.attributes();
    if a.has(TpmaNv::POLICY_DELETE) {
        return Err(TpmRc::ATTRIBUTES.at_handle(2));
    }
    if ctx.handle(0) == TpmRh::OWNER.0 && a.has(TpmaNv::PLATFORMCREATE) {
        return Err(TpmRc::NV_AUTHORIZATION);
    }
    ctx.tpm.perm.nv.remove(index.public.nv_index);
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_NV_UndefineSpaceSpecial — Part 3 §31.5. The index authorizes in the ADMIN
/// role, which only its policy gives; platformAuth authorizes too.
///
/// Refusals: `TPM_RC_ATTRIBUTES` (handle 1): POLICY_DELETE is CLEAR;
/// `TPM_RC_AUTH_TYPE`: the index was not authorized by a policy session.
pub fn undefine_space_special(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let index = index(ctx, 1)?;
    if !index.attributes().has(TpmaNv::POLICY_DELETE) {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    ctx.tpm.perm.nv.remove(index.public.nv_index);
    ctx.nv_dirty = true;
    Ok(())
}

/// TPM2_NV_ReadPublic — Part 3 §31.6: the public area and Name of an index. No
/// authorization; refusals only come from the handle (`TPM_RC_HANDLE`).
pub fn read_public(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let index = index(ctx, 1)?;
    Tpm2bNvPublic(index.public.clone()).marshal(&mut ctx.out);
    ctx.out.tpm2b(&index.name());
    Ok(())
}

/// TPM2_NV_Write — Part 3 §31.7.
///
/// Refusals: `TPM_RC_NV_LOCKED`: write locked (WRITELOCKED or a global lock);
/// `TPM_RC_NV_AUTHORIZATION`: the authorizing entity lacks its write attribute;
/// `TPM_RC_ATTRIBUTES`: a counter, bit-field or extend index; `TPM_RC_VALUE` (parameter 2): offset
/// beyond the index; `TPM_RC_NV_RANGE`: offset plus size beyond the index, or
/// WRITEALL SET and not the whole index;
/// `TPM_RC_SIZE` (parameter 1): data larger than MAX_NV_BUFFER_SIZE.
pub fn write(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let data: Tpm2bMaxNvBuffer = p.param()?;
    let offset: u16 = p.param()?;
    p.end()?;
    let mut index = index(ctx, 2)?;
    write_access(ctx.tpm, ctx.handle(0), &index, auth_via(ctx, 0))?;
    if matches!(index.nt(), TpmNt::Counter | TpmNt::Bits | TpmNt::Extend) {
        return Err(TpmRc::ATTRIBUTES);
    }
    let start = usize::from(offset);
    if start > index.data.len() {
        return Err(TpmRc::VALUE.at_param(2));
    }
    let end = start.checked_add(data.len()).ok_or(TpmRc::NV_RANGE)?;
    if end > index.data.len() {
        return Err(TpmRc::NV_RANGE);
    }
    if index.attributes().has(TpmaNv::WRITEALL) && data.len() != index.data.len() {
        return Err(TpmRc::NV_RANGE);
    }
    index
        .data
        .get_mut(start..end)
        .ok_or(TpmRc::NV_RANGE)?
        .copy_from_slice(data.as_slice());
    index.public.attributes = index.attributes().with(TpmaNv::WRITTEN);
    store(ctx, index)
}

/// TPM2_NV_Increment — Part 3 §31.8. A counter's first value is one more than
/// the largest value any counter of this TPM has held.
///
/// Refusals: `TPM_RC_NV_LOCKED`, `TPM_RC_NV_AUTHORIZATION` as for TPM2_NV_Write;
/// `TPM_RC_ATTRIBUTES`: not a counter index; `TPM_RC_NV_RANGE`: the
/// counter is at its largest value.
pub fn increment(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let mut index = index(ctx, 2)?;
    write_access(ctx.tpm, ctx.handle(0), &index, auth_via(ctx, 0))?;
    if index.nt() != TpmNt::Counter {
        return Err(TpmRc::ATTRIBUTES);
    }
    let current = if index.attributes().has(TpmaNv::WRITTEN) {
        index.value_u64()
    } else {
        ctx.tpm.perm.nv.max_counter
    };
    let next = current.checked_add(1).ok_or(TpmRc::NV_RANGE)?;
    index.data = next.to_be_bytes().to_vec();
    index.public.attributes = index.attributes().with(TpmaNv::WRITTEN);
    let nv = &mut ctx.tpm.perm.nv;
    nv.max_counter = nv.max_counter.max(next);
    store(ctx, index)
}

/// TPM2_NV_Extend — Part 3 §31.9: data = H_nameAlg(data || extension).
///
/// Refusals: `TPM_RC_NV_LOCKED`, `TPM_RC_NV_AUTHORIZATION` as for TPM2_NV_Write;
/// `TPM_RC_ATTRIBUTES`: not an extend index; `TPM_RC_SIZE`
/// (parameter 1): data larger than MAX_NV_BUFFER_SIZE.
pub fn extend(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let data: Tpm2bMaxNvBuffer = p.param()?;
    p.end()?;
    let mut index = index(ctx, 2)?;
    write_access(ctx.tpm, ctx.handle(0), &index, auth_via(ctx, 0))?;
    if index.nt() != TpmNt::Extend {
        return Err(TpmRc::ATTRIBUTES);
    }
    let alg = index.public.name_alg;
    if !index.attributes().has(TpmaNv::WRITTEN) {
        index.data = vec![0; alg.digest_size()];
    }
    index.data = alg.digest_parts(&[&index.data, data.as_slice()]);
    index.public.attributes = index.attributes().with(TpmaNv::WRITTEN);
    store(ctx, index)
}

/// TPM2_NV_SetBits — Part 3 §31.10: data = data OR bits.
///
/// Refusals: `TPM_RC_NV_LOCKED`, `TPM_RC_NV_AUTHORIZATION` as for TPM2_NV_Write;
/// `TPM_RC_ATTRIBUTES`: not a bit-field index.
pub fn set_bits(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let bits: u64 = p.param()?;
    p.end()?;
    let mut index = index(ctx, 2)?;
    write_access(ctx.tpm, ctx.handle(0), &index, auth_via(ctx, 0))?;
    if index.nt() != TpmNt::Bits {
        return Err(TpmRc::ATTRIBUTES);
    }
    let old = if index.attributes().has(TpmaNv::WRITTEN) {
        index.value_u64()
    } else {
        0
    };
    index.data = (old | bits).to_be_bytes().to_vec();
    index.public.attributes = index.attributes().with(TpmaNv::WRITTEN);
    store(ctx, index)
}

/// TPM2_NV_WriteLock — Part 3 §31.11: SETs WRITELOCKED. Locking a locked index
/// succeeds.
///
/// Refusals: `TPM_RC_NV_AUTHORIZATION`: the authorizing entity lacks its write
/// attribute; `TPM_RC_ATTRIBUTES` (handle 2): neither WRITEDEFINE nor
/// WRITE_STCLEAR is SET.
pub fn write_lock(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let mut index = index(ctx, 2)?;
    let a = index.attributes();
    if a.has(TpmaNv::WRITELOCKED) {
        // Already locked: nothing to do.
        return Ok(());
    }
    // A global lock does not stand in for this index's own lock.
    write_authorized(ctx.handle(0), &index, auth_via(ctx, 0))?;
    if !a.any(TpmaNv::WRITEDEFINE | TpmaNv::WRITE_STCLEAR) {
        return Err(TpmRc::ATTRIBUTES.at_handle(2));
    }
    index.public.attributes = a.with(TpmaNv::WRITELOCKED);
    store(ctx, index)
}

/// TPM2_NV_GlobalWriteLock — Part 3 §31.12: every index with GLOBALLOCK SET is
/// write locked until the next TPM Reset or TPM Restart. No refusals beyond the
/// authorization of owner or platform.
pub fn global_write_lock(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    ctx.tpm.clear.nv_global_lock = true;
    Ok(())
}

/// TPM2_NV_Read — Part 3 §31.13.
///
/// Refusals: `TPM_RC_NV_LOCKED`: read locked; `TPM_RC_NV_AUTHORIZATION`: the
/// authorizing entity lacks its read attribute; `TPM_RC_NV_UNINITIALIZED`: never
/// written; `TPM_RC_VALUE` (parameter 1): size larger than MAX_NV_BUFFER_SIZE;
/// `TPM_RC_VALUE` (parameter 2): offset beyond the index; `TPM_RC_NV_RANGE`:
/// offset plus size beyond the index.
pub fn read(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let size: u16 = p.param()?;
    let offset: u16 = p.param()?;
    p.end()?;
    let tpm = &*ctx.tpm;
    let h = ctx.handle(1);
    let index = tpm.nv_index(h).ok_or(TpmRc::HANDLE.at_handle(2))?;
    read_access(ctx.handle(0), index, auth_via(ctx, 0))?;
    if usize::from(size) > MAX_NV_BUFFER_SIZE {
        return Err(TpmRc::VALUE.at_param(1));
    }
    let start = usize::from(offset);
    if start > index.data.len() {
        return Err(TpmRc::VALUE.at_param(2));
    }
    let end = start.saturating_add(usize::from(size));
    let data = index.data.get(start..end).ok_or(TpmRc::NV_RANGE)?;
    ctx.out.tpm2b(data);
    Ok(())
}

/// TPM2_NV_ReadLock — Part 3 §31.14: SETs READLOCKED until the next TPM Reset or
/// TPM Restart. Locking a locked or unwritten index succeeds.
///
/// Refusals: `TPM_RC_ATTRIBUTES` (handle 2): READ_STCLEAR is CLEAR;
/// `TPM_RC_NV_AUTHORIZATION`: the authorizing entity lacks its read attribute.
pub fn read_lock(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let mut index = index(ctx, 2)?;
    let a = index.attributes();
    if !a.has(TpmaNv::READ_STCLEAR) {
        return Err(TpmRc::ATTRIBUTES.at_handle(2));
    }
    if let Err(e) = read_access(ctx.handle(0), &index, auth_via(ctx, 0)) {
        if e == TpmRc::NV_AUTHORIZATION {
            return Err(e);
        }
    }
    index.public.attributes = a.with(TpmaNv::READLOCKED);
    store(ctx, index)
}

/// TPM2_NV_ChangeAuth — Part 3 §31.15: a new authValue for the index (its Name
/// does not change). The index authorizes in the ADMIN role (policy only).
///
/// Refusals: `TPM_RC_SIZE` (parameter 1): newAuth longer than the nameAlg digest;
/// `TPM_RC_AUTH_TYPE`: not authorized by a policy session.
pub fn change_auth(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let new_auth: Tpm2bDigest = p.param()?;
    p.end()?;
    let mut index = index(ctx, 1)?;
    let new_auth = auth_value(new_auth.as_slice()).map_err(|e| e.at_param(1))?;
    if new_auth.len() > index.public.name_alg.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    index.auth = new_auth;
    store(ctx, index)
}

#[cfg(test)]
mod tests;
