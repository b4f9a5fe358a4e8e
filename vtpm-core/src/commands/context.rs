//! Part 3, clause 28: Context Management — TPM2_ContextSave, TPM2_ContextLoad,
//! TPM2_FlushContext and TPM2_EvictControl (persistent objects, Part 1, 27.6;
//! context protection, Part 1, 30.3 and `objects::protect`).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::protect::ContextBinding;
use crate::objects::{
    is_owner_persistent, is_platform_persistent, KeyObject, PersistentObject,
    MAX_PERSISTENT_OBJECTS, PERSISTENT_LAST, PERSISTENT_OWNER_FIRST,
};
use crate::rc::{TpmRc, TpmResult};
use crate::session::MAX_ACTIVE_SESSIONS;
use crate::state::objects::MAX_LOADED_OBJECTS;
use crate::state::objects::{Object, SavedSequence, SequenceObject};
use crate::state::ticket;
use crate::tpm::Tpm;
use crate::types::constants::TpmRh;
use crate::types::constants::{TpmHt, TRANSIENT_FIRST};
use crate::types::sensitive::{
    Tpm2bContextData, TpmsContext, MAX_CONTEXT_SIZE, SAVED_OBJECT, SAVED_SEQUENCE, SAVED_ST_CLEAR,
};

/// TPMI_DH_CONTEXT — Part 2, 9.11: an HMAC or policy session handle, or a transient
/// object handle, within the ranges this TPM hands out. Anything else is
/// `TPM_RC_VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmiDhContext(pub u32);

impl Unmarshal for TpmiDhContext {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let handle = r.u32()?;
        let offset = handle & 0x00FF_FFFF;
        let in_range = match TpmHt::of(handle) {
            TpmHt::HMAC_SESSION | TpmHt::POLICY_SESSION => offset < MAX_ACTIVE_SESSIONS,
            TpmHt::TRANSIENT => {
                let slots = u32::try_from(MAX_LOADED_OBJECTS).unwrap_or(u32::MAX);
                handle
                    .checked_sub(TRANSIENT_FIRST)
                    .is_some_and(|o| o < slots)
            }
            _ => false,
        };
        if in_range {
            Ok(TpmiDhContext(handle))
        } else {
            Err(TpmRc::VALUE)
        }
    }
}

/// TPM2_FlushContext — Part 3 §28.4: removes a loaded transient object (or
/// sequence) from its slot, or ends a session.
///
/// `TPM_RC_VALUE` (parameter 1): flushHandle is not a transient object or session
/// handle in range; `TPM_RC_HANDLE` (parameter 1): nothing is loaded at that handle.
pub fn flush_context(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let handle: TpmiDhContext = p.param()?;
    p.end()?;
    let handle = handle.0;
    let flushed = match TpmHt::of(handle) {
        TpmHt::TRANSIENT => ctx.tpm.objects.remove(handle).is_some(),
        _ => ctx.tpm.sessions.flush(handle),
    };
    if !flushed {
        return Err(TpmRc::HANDLE.at_param(1));
    }
    Ok(())
}

/// TPMI_DH_PERSISTENT — Part 2, 9.8: a persistent handle (0x81000000-0x81FFFFFF);
/// anything else is `TPM_RC_VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmiDhPersistent(pub u32);

impl Unmarshal for TpmiDhPersistent {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let handle = r.u32()?;
        if (PERSISTENT_OWNER_FIRST..=PERSISTENT_LAST).contains(&handle) {
            Ok(TpmiDhPersistent(handle))
        } else {
            Err(TpmRc::VALUE)
        }
    }
}

/// The proof that protects a saved context of `hierarchy`, and the binding values.
fn context_binding(
    tpm: &Tpm,
    hierarchy: u32,
    sequence: u64,
    saved_handle: u32,
) -> ContextBinding<'_> {
    ContextBinding {
        proof: ticket::proof(tpm, hierarchy),
        total_resets: tpm.perm.total_reset_count,
        restarts: tpm.reset.restart_count,
        sequence,
        saved_handle,
    }
}

/// TPM2_ContextSave — Part 3 §28.2: saves a loaded transient object (it stays
/// loaded) or a session (it is unloaded but stays active) as an
/// integrity-protected, encrypted TPMS_CONTEXT. savedHandle is 0x80000000 for an
/// ordinary object, 0x80000002 for an stClear one, 0x80000001 for a sequence
/// object and the session handle for a session; the sequence number is the next
/// value of the per-reset context counter. Session contexts are bound to the NULL
/// hierarchy's proof, so they die at TPM Reset; they survive TPM Restart and TPM
/// Resume (Part 1, clause 30), as the record of saved sessions does; only the
/// latest context of a session loads.
///
/// `TPM_RC_TOO_MANY_CONTEXTS`: the context counter is exhausted.
pub fn context_save(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let handle = ctx.handle(0);
    if matches!(
        TpmHt::of(handle),
        TpmHt::HMAC_SESSION | TpmHt::POLICY_SESSION
    ) {
        return save_session(ctx, handle);
    }
    if TpmHt::of(handle) != TpmHt::TRANSIENT {
        return Err(TpmRc::HANDLE.at_handle(1));
    }
    let tpm = &mut *ctx.tpm;
    let object = tpm.objects.get(handle).ok_or(TpmRc::reference_handle(0))?;
    let (hierarchy, saved_handle) = match object {
        Object::Key(k) => (
            k.hierarchy,
            if k.st_clear {
                SAVED_ST_CLEAR
            } else {
                SAVED_OBJECT
            },
        ),
        Object::Sequence(_) => (TpmRh::NULL.0, SAVED_SEQUENCE),
    };
    let plain = Zeroizing::new(
        postcard::to_allocvec(&SavedObject::of(object)).map_err(|_| TpmRc::FAILURE)?,
    );
    if plain.len() > MAX_CONTEXT_SIZE.saturating_sub(8) {
        return Err(TpmRc::FAILURE);
    }
    let sequence = tpm
        .reset
        .object_context_id
        .checked_add(1)
        .ok_or(TpmRc::TOO_MANY_CONTEXTS)?;
    let blob = context_binding(tpm, hierarchy, sequence, saved_handle).seal(&plain)?;
    tpm.reset.object_context_id = sequence;
    TpmsContext {
        sequence,
        saved_handle,
        hierarchy,
        context_blob: Tpm2bContextData::from_vec(blob).map_err(|_| TpmRc::FAILURE)?,
    }
    .marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ContextLoad — Part 3 §28.3: loads a saved object context into a free slot.
///
/// `TPM_RC_SIZE` (parameter 1): a malformed contextBlob; `TPM_RC_INTEGRITY`
/// (parameter 1): the context was not saved by this TPM in this reset cycle (or
/// restart cycle, for stClear objects), or was altered; `TPM_RC_HIERARCHY`
/// (parameter 1): its hierarchy is disabled; `TPM_RC_OBJECT_MEMORY`: no slot is
/// free. A session context loads back at its own handle: `TPM_RC_HANDLE`
/// (parameter 1) when that session is not saved (flushed, or ended by TPM Reset),
/// `TPM_RC_INTEGRITY` (parameter 1) for an older context of it,
/// `TPM_RC_SESSION_MEMORY` when no session slot is free.
pub fn context_load(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let context: TpmsContext = p.param()?;
    p.end()?;
    if matches!(
        TpmHt::of(context.saved_handle),
        TpmHt::HMAC_SESSION | TpmHt::POLICY_SESSION
    ) {
        return load_session(ctx, &context);
    }
    if TpmHt::of(context.saved_handle) != TpmHt::TRANSIENT {
        return Err(TpmRc::HANDLE.at_param(1));
    }
    let plain = context_binding(
        ctx.tpm,
        context.hierarchy,
        context.sequence,
        context.saved_handle,
    )
    .open(context.context_blob.as_slice())
    .map_err(|e| e.at_param(1))?;
    if !ctx.tpm.hierarchy_enabled(context.hierarchy) {
        return Err(TpmRc::HIERARCHY.at_param(1));
    }
    if !ctx.tpm.objects.has_room() {
        return Err(TpmRc::OBJECT_MEMORY);
    }
    let saved: SavedObject = postcard::from_bytes(&plain).map_err(|_| TpmRc::FAILURE)?;
    let object = saved.into_object().ok_or(TpmRc::FAILURE)?;
    let handle = ctx.tpm.objects.insert(object)?;
    ctx.out_handles.push(handle);
    Ok(())
}

/// ContextSave of a session: seal it under the NULL proof and unload it.
fn save_session(ctx: &mut Ctx<'_>, handle: u32) -> TpmResult<()> {
    let tpm = &mut *ctx.tpm;
    let session = tpm.sessions.get(handle).ok_or(TpmRc::reference_handle(0))?;
    let plain = Zeroizing::new(postcard::to_allocvec(session).map_err(|_| TpmRc::FAILURE)?);
    if plain.len() > MAX_CONTEXT_SIZE.saturating_sub(8) {
        return Err(TpmRc::FAILURE);
    }
    let sequence = tpm
        .reset
        .object_context_id
        .checked_add(1)
        .ok_or(TpmRc::TOO_MANY_CONTEXTS)?;
    let blob = context_binding(tpm, TpmRh::NULL.0, sequence, handle).seal(&plain)?;
    tpm.reset.object_context_id = sequence;
    tpm.sessions.save(handle, sequence);
    TpmsContext {
        sequence,
        saved_handle: handle,
        hierarchy: TpmRh::NULL.0,
        context_blob: Tpm2bContextData::from_vec(blob).map_err(|_| TpmRc::FAILURE)?,
    }
    .marshal(&mut ctx.out);
    Ok(())
}

/// ContextLoad of a session context.
fn load_session(ctx: &mut Ctx<'_>, context: &TpmsContext) -> TpmResult<()> {
    if context.hierarchy != TpmRh::NULL.0 {
        return Err(TpmRc::INTEGRITY.at_param(1));
    }
    let tpm = &mut *ctx.tpm;
    let plain = context_binding(tpm, TpmRh::NULL.0, context.sequence, context.saved_handle)
        .open(context.context_blob.as_slice())
        .map_err(|e| e.at_param(1))?;
    tpm.sessions
        .check_saved(context.saved_handle, context.sequence)
        .map_err(|e| e.at_param(1))?;
    let session: crate::session::Session =
        postcard::from_bytes(&plain).map_err(|_| TpmRc::FAILURE)?;
    if session.handle != context.saved_handle {
        return Err(TpmRc::FAILURE);
    }
    tpm.sessions.restore(session)?;
    ctx.out_handles.push(context.saved_handle);
    Ok(())
}

/// What a saved object context holds (inside the encryption); also the form in
/// which the volatile state carries loaded objects. A key's derived values (its
/// Name, the RSA private key) are rebuilt when it is read back, not stored.
#[derive(Serialize, Deserialize)]
pub(crate) enum SavedObject {
    Key(KeyObject),
    Sequence(SavedSequence),
}

impl SavedObject {
    /// The saved form of a loaded object.
    pub(crate) fn of(object: &Object) -> SavedObject {
        match object {
            Object::Key(k) => SavedObject::Key(k.clone()),
            Object::Sequence(s) => SavedObject::Sequence(s.export()),
        }
    }

    /// The loaded object again; None when a sequence state does not decode.
    pub(crate) fn into_object(self) -> Option<Object> {
        Some(match self {
            SavedObject::Key(k) => Object::Key(k),
            SavedObject::Sequence(s) => Object::Sequence(SequenceObject::import(&s)?),
        })
    }
}

/// TPM2_EvictControl — Part 3 §28.5: makes a transient object persistent at
/// persistentHandle, or removes a persistent object. Owner authorization works in
/// the owner range for owner and endorsement objects; platform authorization makes
/// platform objects persistent in the platform range and may evict any.
///
/// `TPM_RC_ATTRIBUTES` (handle 2): a Temporary, stClear or public-only object;
/// `TPM_RC_HANDLE` (handle 2): a persistent objectHandle that is not
/// persistentHandle; `TPM_RC_HIERARCHY` (handle 2): auth may not act on the
/// object's hierarchy; `TPM_RC_RANGE` (parameter 1): persistentHandle outside
/// auth's range; `TPM_RC_VALUE` (parameter 1): not a persistent handle;
/// `TPM_RC_NV_DEFINED`: persistentHandle is taken; `TPM_RC_NV_SPACE`: every
/// persistent slot is used.
pub fn evict_control(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let persistent: TpmiDhPersistent = p.param()?;
    p.end()?;
    let persistent = persistent.0;
    let auth = ctx.handle(0);
    let object_handle = ctx.handle(1);
    let tpm = &mut *ctx.tpm;
    let object = tpm.key(object_handle).ok_or(TpmRc::HANDLE.at_handle(2))?;
    if object.is_temporary() || object.st_clear || object.sensitive.is_none() {
        return Err(TpmRc::ATTRIBUTES.at_handle(2));
    }
    let evict = TpmHt::of(object_handle) == TpmHt::PERSISTENT;
    if evict && object_handle != persistent {
        return Err(TpmRc::HANDLE.at_handle(2));
    }
    let platform_object = object.hierarchy == TpmRh::PLATFORM.0;
    if auth == TpmRh::PLATFORM.0 {
        if !evict {
            if !platform_object {
                return Err(TpmRc::HIERARCHY.at_handle(2));
            }
            if !is_platform_persistent(persistent) {
                return Err(TpmRc::RANGE.at_param(1));
            }
        }
    } else {
        if platform_object {
            return Err(TpmRc::HIERARCHY.at_handle(2));
        }
        if !evict && !is_owner_persistent(persistent) {
            return Err(TpmRc::RANGE.at_param(1));
        }
    }
    if evict {
        tpm.perm.persistent.retain(|p| p.handle != persistent);
    } else {
        if tpm.perm.persistent.iter().any(|p| p.handle == persistent) {
            return Err(TpmRc::NV_DEFINED);
        }
        if tpm.perm.persistent.len() >= MAX_PERSISTENT_OBJECTS {
            return Err(TpmRc::NV_SPACE);
        }
        let object = object.clone();
        tpm.perm.persistent.push(PersistentObject {
            handle: persistent,
            object,
        });
        tpm.perm.persistent.sort_by_key(|p| p.handle);
    }
    ctx.nv_dirty = true;
    Ok(())
}

#[cfg(test)]
mod object_tests;

#[cfg(test)]
mod volatile_tests;

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::types::constants::TpmCc;

    fn flush(h: u32) -> Cmd {
        Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h))
    }

    fn start_sequence() -> Cmd {
        Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
            w.tpm2b(b"");
            w.u16(0x000B)
        })
    }

    #[test]
    fn flushes_a_loaded_sequence_once() {
        let (mut t, mut p) = started();
        let r = run(&mut t, &mut p, &start_sequence());
        assert_eq!(r.rc, 0);
        assert_eq!(r.body, 0x8000_0000u32.to_be_bytes());
        let r = run(&mut t, &mut p, &flush(0x8000_0000));
        assert_eq!(r.rc, 0);
        assert!(r.body.is_empty());
        // gone: TPM_RC_HANDLE at parameter 1, and unusable as a handle
        assert_eq!(run(&mut t, &mut p, &flush(0x8000_0000)).rc, 0x1CB);
        let upd = Cmd::new(TpmCc::SEQUENCE_UPDATE)
            .handle(0x8000_0000)
            .pw(b"")
            .params(|w| w.tpm2b(b"x"));
        assert_eq!(run(&mut t, &mut p, &upd).rc, 0x910);
        // the slot is free again
        assert_eq!(run(&mut t, &mut p, &start_sequence()).rc, 0);
    }

    #[test]
    fn handle_ranges() {
        let (mut t, mut p) = started();
        // in range but not loaded: TPM_RC_HANDLE (parameter 1)
        for h in [
            0x8000_0000,
            0x8000_0002,
            0x0200_0000,
            0x0200_003F,
            0x0300_0000,
        ] {
            assert_eq!(run(&mut t, &mut p, &flush(h)).rc, 0x1CB, "{h:#x}");
        }
        // not a TPMI_DH_CONTEXT value: TPM_RC_VALUE (parameter 1)
        for h in [
            0x8000_0003,
            0x0200_0040,
            0x8100_0000,
            0x4000_0001,
            0x0100_0000,
            0,
        ] {
            assert_eq!(run(&mut t, &mut p, &flush(h)).rc, 0x1C4, "{h:#x}");
        }
        // truncated and trailing parameters
        assert_eq!(
            run(&mut t, &mut p, &Cmd::new(TpmCc::FLUSH_CONTEXT)).rc,
            0x1DA
        );
        let c = Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| {
            w.u32(0x8000_0000);
            w.u8(0)
        });
        assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
        // no sessions allowed: a password session authorizes nothing here
        assert_eq!(run(&mut t, &mut p, &flush(0x8000_0000).pw(b"")).rc, 0x145);
    }
}
