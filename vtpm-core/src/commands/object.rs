//! Part 3, clause 12: Object Commands — TPM2_Create, TPM2_Load, TPM2_LoadExternal,
//! TPM2_ReadPublic, TPM2_ObjectChangeAuth, TPM2_Unseal and TPM2_CreateLoaded.
//! The helpers here (parent lookup, creation data and tickets, loading into a
//! slot) are shared with TPM2_CreatePrimary (`commands::primary`).

use alloc::vec::Vec;

use crate::commands::hierarchy::auth_value;
use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::objects::protect::{new_iv, unwrap_private, wrap_private};
use crate::objects::{create, validate, KeyObject};
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::Object;
use crate::state::ticket;
use crate::tpm::Tpm;
use crate::types::constants::{TpmAlgId, TpmHt, TpmRh, TpmSt};
use crate::types::public::{
    Tpm2bPublic, Tpm2bPublicNullName, Tpm2bTemplate, TpmsDerive, TpmtPublic,
};
use crate::types::sensitive::{
    Tpm2bCreationData, Tpm2bName, Tpm2bPrivate, Tpm2bSensitive, Tpm2bSensitiveCreate,
    TpmiRhHierarchy, TpmsCreationData, TpmsSensitiveCreate, TpmtSensitive, TpmtTkCreation,
};
use crate::types::sized::{Tpm2bAuth, Tpm2bData, Tpm2bDigest, Tpm2bSensitiveData};
use crate::types::structures::{TpmlPcrSelection, TpmsPcrSelection};

/// The key object at `handle` (a copy), which must be an ordinary parent: a
/// loaded restricted decryption key that is not a keyed hash. Otherwise
/// `TPM_RC_TYPE` at handle `n`.
pub(crate) fn storage_parent(tpm: &Tpm, handle: u32, n: u8) -> TpmResult<KeyObject> {
    match tpm.key(handle) {
        Some(k) if k.is_parent() => Ok(k.clone()),
        _ => Err(TpmRc::TYPE.at_handle(n)),
    }
}

/// AdjustAuthSize: the authValue with trailing zeros removed, which may not be
/// longer than the nameAlg digest (`TPM_RC_SIZE`; any size up to a TPMU_HA when
/// there is no nameAlg).
pub(crate) fn object_auth(auth: &Tpm2bAuth, name_alg: Option<HashAlg>) -> TpmResult<Tpm2bAuth> {
    let trimmed = auth_value(auth.as_slice())?;
    if let Some(alg) = name_alg {
        if trimmed.len() > alg.digest_size() {
            return Err(TpmRc::SIZE);
        }
    }
    Ok(trimmed)
}

/// The primary seed of `hierarchy` (the NULL seed for TPM_RH_NULL).
pub(crate) fn primary_seed(tpm: &Tpm, hierarchy: u32) -> &[u8] {
    match TpmRh(hierarchy) {
        TpmRh::OWNER => &tpm.perm.sps.0,
        TpmRh::ENDORSEMENT => &tpm.perm.eps.0,
        TpmRh::PLATFORM => &tpm.perm.pps.0,
        _ => &tpm.reset.null_seed.0,
    }
}

/// The PCRs of `selection` that exist in an allocated bank, and the digest with
/// `alg` of their values in selection order (PCRComputeCurrentDigest).
pub(crate) fn pcr_digest(
    tpm: &Tpm,
    alg: HashAlg,
    selection: &TpmlPcrSelection,
) -> (TpmlPcrSelection, Vec<u8>) {
    let mut h = crate::crypto::hash::Hasher::new(alg);
    let mut kept = Vec::new();
    for s in &selection.0 {
        let mut out = TpmsPcrSelection {
            hash: s.hash,
            select: alloc::vec![0u8; s.select.len()],
        };
        if let Some(bank) = tpm.pcrs.bank(s.hash) {
            for i in s.indices() {
                if let Some(v) = bank.values.get(usize::from(i)) {
                    h.update(v);
                    if let Some(b) = out.select.get_mut(usize::from(i / 8)) {
                        *b |= 1 << (i % 8);
                    }
                }
            }
        }
        kept.push(out);
    }
    (TpmlPcrSelection(kept), h.finish())
}

/// The hierarchy an entity belongs to: a hierarchy handle is its own, an object's
/// is recorded in it (EntityGetHierarchy).
fn entity_hierarchy(tpm: &Tpm, handle: u32) -> u32 {
    if TpmHt::of(handle) == TpmHt::PERMANENT {
        return handle;
    }
    tpm.key(handle).map_or(TpmRh::NULL.0, |k| k.hierarchy)
}

/// What every creating command returns about the creation: creationData,
/// creationHash and creationTicket.
pub(crate) struct Creation {
    data: Tpm2bCreationData,
    hash: Tpm2bDigest,
    ticket: TpmtTkCreation,
}

impl Creation {
    /// Writes creationData, creationHash and creationTicket.
    pub(crate) fn marshal_into(&self, w: &mut Writer) {
        self.data.marshal(w);
        self.hash.marshal(w);
        self.ticket.marshal(w);
    }
}

/// FillInCreationData and TicketComputeCreation: the creation data of an object
/// named `name` with `name_alg`, created under `parent_handle`; the ticket is
/// HMAC(proof of the hierarchy, TPM_ST_CREATION || name || creationHash).
pub(crate) fn creation(
    ctx: &Ctx<'_>,
    parent_handle: u32,
    name_alg: HashAlg,
    name: &[u8],
    pcr: &TpmlPcrSelection,
    outside_info: Tpm2bData,
) -> TpmResult<Creation> {
    let tpm = &*ctx.tpm;
    let (pcr_select, digest) = pcr_digest(tpm, name_alg, pcr);
    let (parent_name_alg, parent_name, parent_qn) = if TpmHt::of(parent_handle) == TpmHt::PERMANENT
    {
        let h = parent_handle.to_be_bytes();
        (TpmAlgId::NULL, h.to_vec(), h.to_vec())
    } else {
        let k = tpm.key(parent_handle).ok_or(TpmRc::FAILURE)?;
        (
            k.name_alg().map_or(TpmAlgId::NULL, HashAlg::alg_id),
            k.name(),
            k.qualified_name.clone(),
        )
    };
    let data = TpmsCreationData {
        pcr_select,
        pcr_digest: Tpm2bDigest::from_vec(digest).map_err(|_| TpmRc::FAILURE)?,
        locality: 1u8.checked_shl(u32::from(ctx.locality)).unwrap_or(0),
        parent_name_alg,
        parent_name: Tpm2bName::from_vec(parent_name).map_err(|_| TpmRc::FAILURE)?,
        parent_qualified_name: Tpm2bName::from_vec(parent_qn).map_err(|_| TpmRc::FAILURE)?,
        outside_info,
    };
    let hash = name_alg.digest(&data.to_bytes());
    let hierarchy = entity_hierarchy(tpm, parent_handle);
    let hmac = ticket::compute(tpm, hierarchy, TpmSt::CREATION, &[name, &hash]);
    Ok(Creation {
        data: Tpm2bCreationData(data),
        hash: Tpm2bDigest::from_vec(hash).map_err(|_| TpmRc::FAILURE)?,
        ticket: TpmtTkCreation {
            hierarchy: TpmiRhHierarchy(hierarchy),
            digest: Tpm2bDigest::from_vec(hmac).map_err(|_| TpmRc::FAILURE)?,
        },
    })
}

/// Loads `key` into a free slot; the handle goes in the response handle area.
pub(crate) fn load_into_slot(ctx: &mut Ctx<'_>, key: KeyObject) -> TpmResult<u32> {
    let handle = ctx.tpm.objects.insert(Object::Key(key))?;
    ctx.out_handles.push(handle);
    Ok(handle)
}

/// `TPM_RC_OBJECT_MEMORY` unless a slot is free.
pub(crate) fn need_slot(tpm: &Tpm) -> TpmResult<()> {
    if tpm.objects.has_room() {
        Ok(())
    } else {
        Err(TpmRc::OBJECT_MEMORY)
    }
}

fn name_2b(name: &[u8]) -> TpmResult<Tpm2bName> {
    Tpm2bName::new(name).map_err(|_| TpmRc::FAILURE)
}

/// The private area of `sensitive`, wrapped under `parent` for the object `name`.
fn wrap(
    tpm: &mut Tpm,
    parent: &KeyObject,
    name: &[u8],
    s: &TpmtSensitive,
) -> TpmResult<Tpm2bPrivate> {
    let iv = new_iv(|b| tpm.random(b));
    Tpm2bPrivate::from_vec(wrap_private(parent, name, s, &iv)?).map_err(|_| TpmRc::FAILURE)
}

/// Fresh DRBG output for an ordinary object's key-generation stream.
fn ordinary_rng(tpm: &mut Tpm) -> crate::crypto::rng::KdfRng {
    let mut fresh = [0u8; 64];
    tpm.random(&mut fresh);
    let rng = create::ordinary_rng(&fresh);
    fresh.iter_mut().for_each(|b| *b = 0);
    rng
}

/// TPM2_Create — Part 3 §12.1: creates an ordinary object under a loaded storage
/// parent and returns it wrapped for storage outside the TPM.
///
/// `TPM_RC_TYPE` (handle 1): parentHandle is not a storage parent;
/// `TPM_RC_OBJECT_MEMORY`: no slot is free for the new object;
/// `TPM_RC_ATTRIBUTES`, `TPM_RC_SCHEME`, `TPM_RC_SYMMETRIC`, `TPM_RC_HASH`,
/// `TPM_RC_KDF`, `TPM_RC_SIZE` (parameter 2): inPublic breaks an object rule;
/// `TPM_RC_SIZE` (parameter 1): userAuth longer than the nameAlg digest;
/// `TPM_RC_KEY_SIZE`, `TPM_RC_SIZE` (no position): caller-supplied key of the
/// wrong size; unmarshalling codes at the position of the parameter.
pub fn create(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_sensitive: Tpm2bSensitiveCreate = p.param()?;
    let in_public: Tpm2bPublic = p.param()?;
    let outside_info: Tpm2bData = p.param()?;
    let creation_pcr: TpmlPcrSelection = p.param()?;
    p.end()?;
    let parent_handle = ctx.handle(0);
    let parent = storage_parent(ctx.tpm, parent_handle, 1)?;
    need_slot(ctx.tpm)?;
    let mut public = in_public.0;
    let data = in_sensitive.0.data;
    validate::create_checks(Some(&parent), &public, data.len()).map_err(|e| e.at_param(2))?;
    let name_alg = public.name_alg.ok_or(TpmRc::HASH.at_param(2))?;
    let sc = TpmsSensitiveCreate {
        user_auth: object_auth(&in_sensitive.0.user_auth, Some(name_alg))
            .map_err(|e| e.at_param(1))?,
        data,
    };
    let mut rng = ordinary_rng(ctx.tpm);
    let sensitive = create::generate(&mut public, &sc, &mut rng)?;
    let name = public.name();
    let creation = creation(
        ctx,
        parent_handle,
        name_alg,
        &name,
        &creation_pcr,
        outside_info,
    )?;
    let private = wrap(ctx.tpm, &parent, &name, &sensitive)?;
    private.marshal(&mut ctx.out);
    Tpm2bPublic(public).marshal(&mut ctx.out);
    creation.marshal_into(&mut ctx.out);
    Ok(())
}

/// Where a public/sensitive consistency failure is blamed.
#[derive(Clone, Copy)]
pub(crate) struct Blame {
    /// Parameter number of the public area.
    pub public: u8,
    /// Parameter number of the sensitive (or private) area.
    pub sensitive: u8,
}

/// The load-time checks of a public area with an optional sensitive area
/// (ObjectLoad): attribute and scheme rules, then key validity and binding
/// (`validate::keys`). `parent` is None for TPM2_LoadExternal.
pub(crate) fn load_checks(
    parent: Option<&KeyObject>,
    public: &TpmtPublic,
    sensitive: Option<&TpmtSensitive>,
    blame: Blame,
) -> TpmResult<()> {
    match (sensitive, public.name_alg) {
        (Some(s), Some(alg)) => {
            if s.seed_value.len() > alg.digest_size() {
                return Err(TpmRc::KEY_SIZE.at_param(blame.sensitive));
            }
            validate::public_attributes(parent, public).map_err(|e| e.at_param(blame.public))?;
        }
        _ => validate::scheme_checks(None, public).map_err(|e| e.at_param(blame.public))?,
    }
    validate::keys(public, sensitive, blame.public, blame.sensitive)
}

/// The sensitive area as loaded: the authValue without trailing zeros.
fn trim_auth(mut s: TpmtSensitive) -> TpmResult<TpmtSensitive> {
    s.auth_value = auth_value(s.auth_value.as_slice())?;
    Ok(s)
}

/// TPM2_Load — Part 3 §12.2: loads an object created under a storage parent.
///
/// `TPM_RC_OBJECT_MEMORY`: no slot is free; `TPM_RC_SIZE` (parameter 1): empty
/// inPrivate; `TPM_RC_TYPE` (handle 1): parentHandle is not a storage parent;
/// `TPM_RC_INTEGRITY` (parameter 1): inPrivate was not made by this parent for
/// this public area, or was altered; `TPM_RC_VALUE` (parameter 1): malformed IV;
/// `TPM_RC_SENSITIVE`: the decrypted area does not unmarshal; the attribute and
/// scheme codes (parameter 2); `TPM_RC_KEY`, `TPM_RC_KEY_SIZE`, `TPM_RC_BINDING`,
/// `TPM_RC_TYPE` for key material that does not match the public area.
pub fn load(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_private: Tpm2bPrivate = p.param()?;
    let in_public: Tpm2bPublic = p.param()?;
    p.end()?;
    need_slot(ctx.tpm)?;
    if in_private.is_empty() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    let parent = storage_parent(ctx.tpm, ctx.handle(0), 1)?;
    let public = in_public.0;
    let name = public.name();
    let sensitive =
        unwrap_private(&parent, &name, in_private.as_slice()).map_err(|e| e.at_param(1))?;
    load_checks(
        Some(&parent),
        &public,
        Some(&sensitive),
        Blame {
            public: 2,
            sensitive: 1,
        },
    )?;
    let key = KeyObject::new(
        public,
        Some(trim_auth(sensitive)?),
        &parent.qualified_name,
        parent.hierarchy,
        parent.st_clear,
        false,
    );
    load_into_slot(ctx, key)?;
    name_2b(&name)?.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_LoadExternal — Part 3 §12.3: loads a public area, or a public and
/// sensitive area, that this TPM did not create.
///
/// `TPM_RC_OBJECT_MEMORY`: no slot is free; `TPM_RC_HIERARCHY` (parameter 3):
/// the hierarchy is disabled, or a sensitive area is given for a hierarchy other
/// than TPM_RH_NULL; `TPM_RC_ATTRIBUTES` (parameter 2): a sensitive area with
/// fixedTPM, fixedParent or restricted SET; the attribute and scheme codes
/// (parameter 2); `TPM_RC_KEY`, `TPM_RC_ECC_POINT` (parameter 2), `TPM_RC_TYPE`,
/// `TPM_RC_KEY_SIZE`, `TPM_RC_SIZE` (parameter 1), `TPM_RC_BINDING`: inconsistent
/// key material.
pub fn load_external(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_private: Tpm2bSensitive = p.param()?;
    let in_public: Tpm2bPublicNullName = p.param()?;
    let hierarchy: TpmiRhHierarchy = p.param()?;
    p.end()?;
    need_slot(ctx.tpm)?;
    let hierarchy = hierarchy.0;
    if !ctx.tpm.hierarchy_enabled(hierarchy) {
        return Err(TpmRc::HIERARCHY.at_param(3));
    }
    let public = in_public.0;
    if in_private.0.is_some() {
        if hierarchy != TpmRh::NULL.0 {
            return Err(TpmRc::HIERARCHY.at_param(3));
        }
        let a = public.object_attributes;
        if a.fixed_tpm() || a.fixed_parent() || a.restricted() {
            return Err(TpmRc::ATTRIBUTES.at_param(2));
        }
    }
    load_checks(
        None,
        &public,
        in_private.0.as_ref(),
        Blame {
            public: 2,
            sensitive: 1,
        },
    )?;
    let sensitive = in_private.0.map(trim_auth).transpose()?;
    let key = KeyObject::new(public, sensitive, &[], hierarchy, false, true);
    let name = key.name();
    load_into_slot(ctx, key)?;
    name_2b(&name)?.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ReadPublic — Part 3 §12.4: the public area, Name and Qualified Name of a
/// loaded or persistent object.
///
/// `TPM_RC_SEQUENCE`: objectHandle is a sequence object.
pub fn read_public(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let key = ctx.tpm.key(ctx.handle(0)).ok_or(TpmRc::SEQUENCE)?;
    let out = (
        Tpm2bPublic(key.public.clone()),
        name_2b(key.name_bytes())?,
        name_2b(&key.qualified_name)?,
    );
    out.0.marshal(&mut ctx.out);
    out.1.marshal(&mut ctx.out);
    out.2.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_ObjectChangeAuth — Part 3 §12.6: a new private area for the object with
/// authValue newAuth; the loaded object keeps its old authValue.
///
/// `TPM_RC_TYPE` (handle 1): objectHandle is a sequence object (or has no
/// sensitive area); `TPM_RC_SIZE` (parameter 1): newAuth longer than the nameAlg
/// digest; `TPM_RC_TYPE` (handle 2): parentHandle is not the object's parent.
pub fn object_change_auth(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let new_auth: Tpm2bAuth = p.param()?;
    p.end()?;
    let object = match ctx.tpm.key(ctx.handle(0)) {
        Some(k) if k.sensitive.is_some() => k.clone(),
        _ => return Err(TpmRc::TYPE.at_handle(1)),
    };
    let new_auth = object_auth(&new_auth, object.name_alg()).map_err(|e| e.at_param(1))?;
    let parent_handle = ctx.handle(1);
    let parent = ctx.tpm.key(parent_handle).cloned();
    let is_parent = parent.as_ref().is_some_and(|p| {
        p.is_parent()
            && crate::objects::qualified_name(
                object.name_alg(),
                &p.qualified_name,
                object.name_bytes(),
            ) == object.qualified_name
    });
    let (Some(parent), true) = (parent, is_parent) else {
        return Err(TpmRc::TYPE.at_handle(2));
    };
    let mut sensitive = object.sensitive.clone().ok_or(TpmRc::FAILURE)?;
    sensitive.auth_value = new_auth;
    let private = wrap(ctx.tpm, &parent, object.name_bytes(), &sensitive)?;
    private.marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_Unseal — Part 3 §12.7: the data of a sealed data object.
///
/// `TPM_RC_TYPE` (handle 1): itemHandle is not a keyed-hash object;
/// `TPM_RC_ATTRIBUTES` (handle 1): it is a key (sign, decrypt or restricted SET).
pub fn unseal(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let key = match ctx.tpm.key(ctx.handle(0)) {
        Some(k) if k.public.object_type() == TpmAlgId::KEYEDHASH => k,
        _ => return Err(TpmRc::TYPE.at_handle(1)),
    };
    let a = key.public.object_attributes;
    if a.decrypt() || a.sign() || a.restricted() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    let data = key
        .sensitive
        .as_ref()
        .map_or(&[][..], |s| s.sensitive.as_slice());
    Tpm2bSensitiveData::new(data)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

/// SetLabelAndContext: the label and context of a derivation come from the
/// template; an empty one is taken from a TPMS_DERIVE in inSensitive.data (if
/// any). A malformed TPMS_DERIVE there is an unmarshalling code (no position).
fn label_and_context(mut from_template: TpmsDerive, data: &[u8]) -> TpmResult<TpmsDerive> {
    if !data.is_empty() {
        let mut r = Reader::new(data);
        let from_data = TpmsDerive::unmarshal(&mut r)?;
        if from_template.label.is_empty() {
            from_template.label = from_data.label;
        }
        if from_template.context.is_empty() {
            from_template.context = from_data.context;
        }
    }
    Ok(from_template)
}

/// The secret and KDF hash of a derivation parent.
fn derivation_key(parent: &KeyObject) -> TpmResult<(HashAlg, Vec<u8>)> {
    let crate::types::public::TpmuPublicParms::KeyedHash(kh) = &parent.public.parameters else {
        return Err(TpmRc::FAILURE);
    };
    let crate::types::public::TpmtKeyedHashScheme::Xor { hash_alg, .. } = kh.scheme else {
        return Err(TpmRc::FAILURE);
    };
    let secret = parent
        .sensitive
        .as_ref()
        .map(|s| s.sensitive.as_slice().to_vec())
        .ok_or(TpmRc::FAILURE)?;
    Ok((hash_alg, secret))
}

/// TPM2_CreateLoaded — Part 3 §12.9: creates an object and loads it. Under a
/// hierarchy handle it is a primary object (as TPM2_CreatePrimary); under a
/// storage parent an ordinary object (also returned wrapped); under a derivation
/// parent a derived object (Part 1, 27.7.4), whose key comes from
/// KDFa(parent's XOR hash, parent's secret, label, context).
///
/// `TPM_RC_TYPE` (handle 1): the parent is neither a storage nor a derivation
/// parent; `TPM_RC_OBJECT_MEMORY`: no slot is free; unmarshalling codes of the
/// template (parameter 2); `TPM_RC_SIZE` (parameter 1): userAuth too long;
/// `TPM_RC_TYPE` (parameter 2): an RSA key under a derivation parent;
/// `TPM_RC_ATTRIBUTES` (no position, as the reference implementation): a derived
/// template with sensitiveDataOrigin SET; the attribute and scheme codes
/// (parameter 2).
pub fn create_loaded(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_sensitive: Tpm2bSensitiveCreate = p.param()?;
    let in_public: Tpm2bTemplate = p.param()?;
    p.end()?;
    let parent_handle = ctx.handle(0);
    let parent = if TpmHt::of(parent_handle) == TpmHt::PERMANENT {
        None
    } else {
        match ctx.tpm.key(parent_handle) {
            Some(k) if k.is_parent() || k.is_derivation_parent() => Some(k.clone()),
            _ => return Err(TpmRc::TYPE.at_handle(1)),
        }
    };
    need_slot(ctx.tpm)?;
    let derivation = parent.as_ref().is_some_and(KeyObject::is_derivation_parent);
    let mut r = Reader::new(in_public.as_slice());
    let (mut public, derive) = TpmtPublic::unmarshal_parts(&mut r, &IMPLEMENTED, false, derivation)
        .and_then(|v| r.finish().map(|()| v))
        .map_err(|e| e.at_param(2))?;
    let name_alg = public.name_alg.ok_or(TpmRc::HASH.at_param(2))?;
    let mut sc = TpmsSensitiveCreate {
        user_auth: object_auth(&in_sensitive.0.user_auth, Some(name_alg))
            .map_err(|e| e.at_param(1))?,
        data: in_sensitive.0.data.clone(),
    };
    let mut rng = match (&parent, derive) {
        (Some(parent), Some(derive)) => {
            if public.object_type() == TpmAlgId::RSA {
                return Err(TpmRc::TYPE.at_param(2));
            }
            if public.object_attributes.sensitive_data_origin() {
                return Err(TpmRc::ATTRIBUTES);
            }
            validate::public_attributes(Some(parent), &public).map_err(|e| e.at_param(2))?;
            let lc = label_and_context(derive, sc.data.as_slice())?;
            let (hash, secret) = derivation_key(parent)?;
            sc.data = Tpm2bSensitiveData::empty();
            crate::crypto::rng::KdfRng::new(
                hash,
                &secret,
                lc.label.as_slice(),
                lc.context.as_slice(),
            )
        }
        (parent, _) => {
            validate::create_checks(parent.as_ref(), &public, sc.data.len())
                .map_err(|e| e.at_param(2))?;
            match parent {
                None => create::primary_rng(
                    primary_seed(ctx.tpm, parent_handle),
                    &public,
                    sc.data.as_slice(),
                )?,
                Some(_) => ordinary_rng(ctx.tpm),
            }
        }
    };
    let sensitive = create::generate(&mut public, &sc, &mut rng)?;
    let name = public.name();
    let private = match &parent {
        Some(parent) if !derivation => wrap(ctx.tpm, parent, &name, &sensitive)?,
        _ => Tpm2bPrivate::empty(),
    };
    let key = match &parent {
        Some(parent) => KeyObject::new(
            public.clone(),
            Some(sensitive),
            &parent.qualified_name,
            parent.hierarchy,
            parent.st_clear,
            false,
        ),
        None => KeyObject::new(
            public.clone(),
            Some(sensitive),
            &parent_handle.to_be_bytes(),
            parent_handle,
            false,
            false,
        ),
    };
    load_into_slot(ctx, key)?;
    private.marshal(&mut ctx.out);
    Tpm2bPublic(public).marshal(&mut ctx.out);
    name_2b(&name)?.marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
