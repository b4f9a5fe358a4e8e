//! Part 3, clause 15.4: TPM2_Hash, and clause 17: Hash/HMAC/Event Sequences —
//! TPM2_HashSequenceStart, TPM2_SequenceUpdate, TPM2_SequenceComplete,
//! TPM2_EventSequenceComplete.
//!
//! A sequence lives in a transient object slot (shared with loaded keys) until its
//! Complete command flushes it, or FlushContext does. Its authValue is what the
//! caller gave HashSequenceStart; authorizing its use is the dispatcher's job.

use alloc::vec::Vec;

use crate::commands::hierarchy::auth_value;
use crate::commands::pcr::{check_extend, extend_digests};
use crate::crypto::hash::{HashAlg, Hasher};
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::{Object, SequenceKind, SequenceObject};
use crate::state::ticket;
use crate::tpm::Tpm;
use crate::types::constants::TpmRh;
use crate::types::sized::{Tpm2bAuth, Tpm2bDigest, Tpm2bMaxBuffer};
use crate::types::structures::{TpmlDigestValues, TpmtHa, TpmtTkHashcheck};

/// TPMI_RH_HIERARCHY with +TPM_RH_NULL (Part 2, 9.13): a hierarchy for a ticket.
/// Any other value is `TPM_RC_VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TpmiRhHierarchy(u32);

impl Unmarshal for TpmiRhHierarchy {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        match TpmRh(r.u32()?) {
            h @ (TpmRh::OWNER | TpmRh::ENDORSEMENT | TpmRh::PLATFORM | TpmRh::NULL) => {
                Ok(TpmiRhHierarchy(h.0))
            }
            _ => Err(TpmRc::VALUE),
        }
    }
}

/// The TPMT_TK_HASHCHECK for a digest of data that did (`safe`) or did not start
/// with something other than TPM_GENERATED_VALUE. TPM_RH_NULL asks for no ticket.
fn hashcheck_ticket(
    tpm: &Tpm,
    hierarchy: u32,
    safe: bool,
    alg: HashAlg,
    digest: &[u8],
) -> TpmtTkHashcheck {
    if safe {
        ticket::hashcheck(tpm, hierarchy, alg, digest)
    } else {
        TpmtTkHashcheck::null()
    }
}

/// TPM2_Hash — Part 3 §15.4: the digest of `data`, and a hash-check ticket unless
/// the hierarchy is TPM_RH_NULL or `data` starts with TPM_GENERATED_VALUE or is
/// shorter than it (then the NULL ticket).
///
/// `TPM_RC_SIZE` (parameter 1): data longer than 1024 octets; `TPM_RC_HASH`
/// (parameter 2): hashAlg not an implemented hash; `TPM_RC_VALUE` (parameter 3):
/// not a hierarchy or TPM_RH_NULL.
pub fn hash(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let data: Tpm2bMaxBuffer = p.param()?;
    let alg: HashAlg = p.param()?;
    let hierarchy: TpmiRhHierarchy = p.param()?;
    p.end()?;
    let data = data.as_slice();
    let digest = alg.digest(data);
    let safe = ticket::is_safe(data);
    let validation = hashcheck_ticket(ctx.tpm, hierarchy.0, safe, alg, &digest);
    Tpm2bDigest::new(&digest)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    validation.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_HashSequenceStart — Part 3 §17.3: starts a hash sequence for hashAlg, or an
/// event sequence (every implemented hash) for TPM_ALG_NULL, and returns its handle.
///
/// `TPM_RC_SIZE` (parameter 1): auth longer than the largest digest; `TPM_RC_HASH`
/// (parameter 2): not an implemented hash or TPM_ALG_NULL; `TPM_RC_OBJECT_MEMORY`:
/// every transient object slot is taken.
pub fn hash_sequence_start(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let auth: Tpm2bAuth = p.param()?;
    let alg: Option<HashAlg> = p.param()?;
    p.end()?;
    let auth = auth_value(auth.as_slice()).map_err(|e| e.at_param(1))?;
    let sequence = SequenceObject::new(alg, auth);
    let handle = ctx.tpm.objects.insert(Object::Sequence(sequence))?;
    ctx.out_handles.push(handle);
    Ok(())
}

/// The sequence object at `handle`, the `n`th handle of the command.
/// `TPM_RC_MODE` (handle `n`): the object is not a sequence.
fn sequence(tpm: &Tpm, handle: u32, n: u8) -> TpmResult<&SequenceObject> {
    tpm.objects
        .get(handle)
        .ok_or(TpmRc::reference_handle(n.saturating_sub(1)))?
        .as_sequence()
        .ok_or(TpmRc::MODE.at_handle(n))
}

/// Removes the sequence at `handle` (already validated) from its slot.
fn take_sequence(tpm: &mut Tpm, handle: u32) -> TpmResult<SequenceObject> {
    match tpm.objects.remove(handle) {
        Some(Object::Sequence(s)) => Ok(s),
        _ => Err(TpmRc::FAILURE),
    }
}

/// TPM2_SequenceUpdate — Part 3 §17.4: adds data to a hash or event sequence.
///
/// `TPM_RC_MODE` (handle 1): sequenceHandle is not a sequence object;
/// `TPM_RC_SIZE` (parameter 1): buffer longer than 1024 octets.
pub fn sequence_update(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let buffer: Tpm2bMaxBuffer = p.param()?;
    p.end()?;
    let handle = ctx.handle(0);
    sequence(ctx.tpm, handle, 1)?;
    let seq = ctx
        .tpm
        .objects
        .get_mut(handle)
        .and_then(Object::as_sequence_mut)
        .ok_or(TpmRc::FAILURE)?;
    seq.update(buffer.as_slice());
    Ok(())
}

/// TPM2_SequenceComplete — Part 3 §17.5: adds the last data, returns the digest and
/// a hash-check ticket, and flushes the sequence. The ticket is the NULL ticket when
/// hierarchy is TPM_RH_NULL or the first block of data was not safe to vouch for
/// (it started with TPM_GENERATED_VALUE, or was shorter than that value).
///
/// `TPM_RC_MODE` (handle 1): sequenceHandle is an event sequence or not a sequence;
/// `TPM_RC_SIZE` (parameter 1): buffer longer than 1024 octets; `TPM_RC_VALUE`
/// (parameter 2): not a hierarchy or TPM_RH_NULL.
pub fn sequence_complete(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let buffer: Tpm2bMaxBuffer = p.param()?;
    let hierarchy: TpmiRhHierarchy = p.param()?;
    p.end()?;
    let handle = ctx.handle(0);
    if sequence(ctx.tpm, handle, 1)?.is_event() {
        return Err(TpmRc::MODE.at_handle(1));
    }
    let mut seq = take_sequence(ctx.tpm, handle)?;
    seq.update(buffer.as_slice());
    if let Some(hmac) = seq.hmac_result() {
        // An HMAC sequence (Part 3 §17.5.1): the HMAC, and no ticket.
        Tpm2bDigest::new(&hmac)
            .map_err(|_| TpmRc::FAILURE)?
            .marshal(&mut ctx.out);
        TpmtTkHashcheck::null().marshal(&mut ctx.out);
        return Ok(());
    }
    let SequenceKind::Hash(hasher) = &seq.kind else {
        return Err(TpmRc::FAILURE);
    };
    let alg = hasher.alg();
    let digest = hasher.clone().finish();
    let validation = hashcheck_ticket(ctx.tpm, hierarchy.0, seq.ticket_safe, alg, &digest);
    Tpm2bDigest::new(&digest)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    validation.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_EventSequenceComplete — Part 3 §17.6: adds the last data, returns the digest
/// in every implemented hash, extends each into its allocated bank of pcrHandle
/// (none for TPM_RH_NULL), and flushes the sequence.
///
/// `TPM_RC_MODE` (handle 2): sequenceHandle is not an event sequence;
/// `TPM_RC_LOCALITY`: the command's locality may not extend pcrHandle;
/// `TPM_RC_SIZE` (parameter 1): buffer longer than 1024 octets.
pub fn event_sequence_complete(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let buffer: Tpm2bMaxBuffer = p.param()?;
    p.end()?;
    let pcr = ctx.handle(0);
    let handle = ctx.handle(1);
    if !sequence(ctx.tpm, handle, 2)?.is_event() {
        return Err(TpmRc::MODE.at_handle(2));
    }
    let index = check_extend(ctx, pcr)?;
    let mut seq = take_sequence(ctx.tpm, handle)?;
    seq.update(buffer.as_slice());
    let SequenceKind::Event(hashers) = &seq.kind else {
        return Err(TpmRc::FAILURE);
    };
    let digests: Vec<TpmtHa> = hashers
        .iter()
        .map(|h| TpmtHa {
            alg: h.alg(),
            digest: Hasher::finish(h.clone()),
        })
        .collect();
    if let Some(index) = index {
        extend_digests(ctx, index, &digests);
    }
    TpmlDigestValues(digests).marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
