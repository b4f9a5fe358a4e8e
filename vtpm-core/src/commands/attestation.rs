//! Part 3, clause 18: Attestation Commands — TPM2_Certify, TPM2_CertifyCreation,
//! TPM2_Quote, TPM2_GetSessionAuditDigest, TPM2_GetCommandAuditDigest and
//! TPM2_GetTime. Each builds a TPMS_ATTEST (`types::attest`) and signs its digest
//! with the signing key's scheme (`objects::signing`), or returns it unsigned
//! (a TPM_ALG_NULL signature) when signHandle is TPM_RH_NULL.

use crate::commands::capability::firmware_version;
use crate::commands::clock::time_info;
use crate::commands::object::pcr_digest;
use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::ct_eq;
use crate::crypto::kdf::kdfa;
use crate::dispatch::audit::audited_commands;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Writer};
use crate::objects::signing::{select_scheme, sign_digest};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::state::ticket::{self, TICKET_HASH};
use crate::types::attest::{TpmsAttest, TpmuAttest};
use crate::types::constants::{TpmAlgId, TpmHt, TpmRh, TpmSt};
use crate::types::sensitive::{Tpm2bName, TpmtTkCreation};
use crate::types::signature::{TpmtSigScheme, TpmtSignature};
use crate::types::sized::{Tpm2bData, Tpm2bDigest};
use crate::types::structures::TpmlPcrSelection;

/// The key that signs an attestation (None: signHandle is TPM_RH_NULL) and the
/// scheme chosen for it.
pub(crate) struct Signer {
    key: Option<KeyObject>,
    pub(crate) scheme: TpmtSigScheme,
}

/// IsSigningObject and CryptSelectSignScheme: the signing key at `handle`
/// (handle number `n`) and the scheme for `requested` (parameter `p`).
/// `TPM_RC_KEY`: not a signing key (sign CLEAR, or a symmetric cipher key);
/// `TPM_RC_SCHEME`: the scheme does not fit the key.
pub(crate) fn signer(
    ctx: &Ctx<'_>,
    handle: u32,
    n: u8,
    requested: TpmtSigScheme,
    p: u8,
) -> TpmResult<Signer> {
    if handle == TpmRh::NULL.0 {
        return Ok(Signer {
            key: None,
            scheme: TpmtSigScheme::Null,
        });
    }
    let key = ctx.tpm.key(handle).ok_or(TpmRc::HANDLE.at_handle(n))?;
    let a = key.public.object_attributes;
    if !a.sign() || key.public.object_type() == TpmAlgId::SYMCIPHER {
        return Err(TpmRc::KEY.at_handle(n));
    }
    let scheme = select_scheme(key, requested).map_err(|e| e.at_param(p))?;
    Ok(Signer {
        key: Some(key.clone()),
        scheme,
    })
}

/// FillInAttestInfo: the common fields. Clock facts and the firmware version are
/// obfuscated unless the signer belongs to the endorsement or platform hierarchy,
/// so that storage-hierarchy keys cannot be linked by reset counts.
pub(crate) fn fill(
    ctx: &mut Ctx<'_>,
    s: &Signer,
    extra: Tpm2bData,
    attested: TpmuAttest,
) -> TpmsAttest {
    let qualified_signer = match &s.key {
        Some(k) => Tpm2bName::new(&k.qualified_name).unwrap_or_default(),
        None => Tpm2bName::new(&TpmRh::NULL.0.to_be_bytes()).unwrap_or_default(),
    };
    let mut clock_info = time_info(ctx).clock_info;
    let mut firmware = firmware_version_u64();
    let privacy = s
        .key
        .as_ref()
        .is_some_and(|k| k.hierarchy == TpmRh::ENDORSEMENT.0 || k.hierarchy == TpmRh::PLATFORM.0);
    if !privacy {
        let o = kdfa(
            TICKET_HASH,
            &ctx.tpm.perm.sh_proof.0,
            b"OBFUSCATE",
            qualified_signer.as_slice(),
            &[],
            128,
        );
        let word = |i: usize| {
            o.get(i..i.saturating_add(8))
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let (o0, o1) = (word(0), word(8));
        firmware = firmware.wrapping_add(o0);
        clock_info.reset_count = clock_info
            .reset_count
            .wrapping_add(u32::try_from(o1 >> 32).unwrap_or(0));
        clock_info.restart_count = clock_info
            .restart_count
            .wrapping_add(u32::try_from(o1 & 0xFFFF_FFFF).unwrap_or(0));
    }
    TpmsAttest {
        qualified_signer,
        extra_data: extra,
        clock_info,
        firmware_version: firmware,
        attested,
    }
}

/// SignAttestInfo: writes the TPM2B_ATTEST and its TPMT_SIGNATURE.
pub(crate) fn sign_and_write(ctx: &mut Ctx<'_>, s: &Signer, attest: &TpmsAttest) -> TpmResult<()> {
    let bytes = attest.to_bytes();
    let signature = match &s.key {
        None => TpmtSignature::Null,
        Some(key) => {
            let hash = s.scheme.parts().1.ok_or(TpmRc::SCHEME)?;
            let digest = hash.digest(&bytes);
            let tpm = &mut *ctx.tpm;
            sign_digest(key, s.scheme, &digest, &mut |b| tpm.random(b))?
        }
    };
    ctx.out.tpm2b(&bytes);
    signature.marshal(&mut ctx.out);
    Ok(())
}

/// firmwareVersion as TPMS_ATTEST carries it: TPM_PT_FIRMWARE_VERSION_1 in the
/// upper 32 bits, _2 in the lower.
fn firmware_version_u64() -> u64 {
    let (v1, v2) = firmware_version();
    (u64::from(v1) << 32) | u64::from(v2)
}

pub(crate) fn sig_scheme(p: &mut Params<'_>) -> TpmResult<TpmtSigScheme> {
    p.param_with(|r| TpmtSigScheme::unmarshal_in(r, &IMPLEMENTED, true))
}

/// TPM2_Certify — Part 3 §18.2: attests that the object at objectHandle is loaded
/// in this TPM (its Name and Qualified Name), signed by signHandle.
///
/// `TPM_RC_KEY` (handle 2): signHandle is not a signing key; `TPM_RC_SCHEME`
/// (parameter 2): inScheme does not fit it; `TPM_RC_SIZE` (parameter 1):
/// qualifyingData too long.
pub fn certify(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    p.end()?;
    let object = ctx
        .tpm
        .key(ctx.handle(0))
        .cloned()
        .ok_or(TpmRc::HANDLE.at_handle(1))?;
    let s = signer(ctx, ctx.handle(1), 2, requested, 2)?;
    let attested = TpmuAttest::Certify {
        name: Tpm2bName::from_vec(object.name()).map_err(|_| TpmRc::FAILURE)?,
        qualified_name: Tpm2bName::new(&object.qualified_name).map_err(|_| TpmRc::FAILURE)?,
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

/// TPM2_CertifyCreation — Part 3 §18.3: attests that the object at objectHandle
/// was created by this TPM with the creation data whose digest is creationHash,
/// as proven by creationTicket.
///
/// `TPM_RC_TICKET` (parameter 4): the ticket is not this TPM's for that Name and
/// creationHash; `TPM_RC_KEY` (handle 1), `TPM_RC_SCHEME` (parameter 3).
pub fn certify_creation(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let creation_hash: Tpm2bDigest = p.param()?;
    let requested = sig_scheme(p)?;
    let tk: TpmtTkCreation = p.param()?;
    p.end()?;
    let object = ctx
        .tpm
        .key(ctx.handle(1))
        .cloned()
        .ok_or(TpmRc::HANDLE.at_handle(2))?;
    let s = signer(ctx, ctx.handle(0), 1, requested, 3)?;
    let name = object.name();
    let expected = ticket::compute(
        ctx.tpm,
        tk.hierarchy.0,
        TpmSt::CREATION,
        &[&name, creation_hash.as_slice()],
    );
    if tk.hierarchy.0 == TpmRh::NULL.0 || !ct_eq(&expected, tk.digest.as_slice()) {
        return Err(TpmRc::TICKET.at_param(4));
    }
    let attested = TpmuAttest::Creation {
        object_name: Tpm2bName::from_vec(name).map_err(|_| TpmRc::FAILURE)?,
        creation_hash,
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

/// TPM2_Quote — Part 3 §18.4: signs the digest of the selected PCRs, computed
/// with the signing scheme's hash.
///
/// `TPM_RC_KEY` (handle 1): not a signing key; `TPM_RC_SCHEME` (parameter 2):
/// inScheme does not fit the key, or neither gives a hash.
pub fn quote(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    let selection: TpmlPcrSelection = p.param()?;
    p.end()?;
    let s = signer(ctx, ctx.handle(0), 1, requested, 2)?;
    let hash = s.scheme.parts().1.ok_or(TpmRc::SCHEME.at_param(2))?;
    let (pcr_select, digest) = pcr_digest(ctx.tpm, hash, &selection);
    let attested = TpmuAttest::Quote {
        pcr_select,
        pcr_digest: Tpm2bDigest::from_vec(digest).map_err(|_| TpmRc::FAILURE)?,
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

/// TPM2_GetSessionAuditDigest — Part 3 §18.5: signs the audit digest of the
/// HMAC session at sessionHandle and whether it is the exclusive audit session.
///
/// `TPM_RC_TYPE` (handle 3): not an HMAC session that has audited a command;
/// `TPM_RC_KEY` (handle 2), `TPM_RC_SCHEME` (parameter 2).
pub fn get_session_audit_digest(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    p.end()?;
    let session_handle = ctx.handle(2);
    if TpmHt::of(session_handle) != TpmHt::HMAC_SESSION {
        return Err(TpmRc::TYPE.at_handle(3));
    }
    let digest = ctx
        .tpm
        .sessions
        .get(session_handle)
        .and_then(|s| s.audit_digest.clone())
        .ok_or(TpmRc::TYPE.at_handle(3))?;
    let s = signer(ctx, ctx.handle(1), 2, requested, 2)?;
    let attested = TpmuAttest::SessionAudit {
        exclusive_session: ctx.tpm.exclusive_audit == Some(session_handle),
        session_digest: Tpm2bDigest::from_vec(digest).map_err(|_| TpmRc::FAILURE)?,
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

/// TPM2_GetCommandAuditDigest — Part 3 §18.6: signs the command audit digest,
/// the audit counter and a digest of the audited command codes, then starts the
/// command audit digest over.
///
/// `TPM_RC_KEY` (handle 2), `TPM_RC_SCHEME` (parameter 2).
pub fn get_command_audit_digest(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    p.end()?;
    let s = signer(ctx, ctx.handle(1), 2, requested, 2)?;
    let codes = audited_commands(ctx.tpm);
    let audit = &ctx.tpm.perm.command_audit;
    let mut w = Writer::new();
    codes.iter().for_each(|c| w.u32(*c));
    let command_digest = audit.hash.digest(w.as_slice());
    let mut audit_digest = ctx.tpm.reset.command_audit_digest.clone();
    if audit_digest.len() != audit.hash.digest_size() {
        // Nothing audited since the digest last started over.
        audit_digest.clear();
    }
    let attested = TpmuAttest::CommandAudit {
        audit_counter: audit.counter,
        digest_alg: audit.hash.alg_id().0,
        audit_digest: Tpm2bDigest::from_vec(audit_digest).map_err(|_| TpmRc::FAILURE)?,
        command_digest: Tpm2bDigest::from_vec(command_digest).map_err(|_| TpmRc::FAILURE)?,
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)?;
    ctx.tpm.reset.command_audit_digest.clear();
    Ok(())
}

/// TPM2_GetTime — Part 3 §18.7: signs Time, Clock and the firmware version.
///
/// `TPM_RC_KEY` (handle 2), `TPM_RC_SCHEME` (parameter 2).
pub fn get_time(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    p.end()?;
    let s = signer(ctx, ctx.handle(1), 2, requested, 2)?;
    let attested = TpmuAttest::Time {
        time: time_info(ctx),
        firmware_version: firmware_version_u64(),
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

#[cfg(test)]
mod tests;
