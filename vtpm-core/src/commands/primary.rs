//! Part 3, clause 24.1: TPM2_CreatePrimary — a primary object derived from a
//! hierarchy's primary seed (Part 1, 26.3), so the same template in the same
//! hierarchy gives the same key until the seed changes (ChangeEPS, ChangePPS,
//! Clear, or for TPM_RH_NULL every TPM Reset). The derivation is documented in
//! `objects::create`.

use crate::commands::object::{creation, load_into_slot, need_slot, object_auth, primary_seed};
use crate::dispatch::{Ctx, Params};
use crate::marshal::Marshal;
use crate::objects::{create, validate, KeyObject};
use crate::rc::{TpmRc, TpmResult};
use crate::types::public::Tpm2bPublic;
use crate::types::sensitive::{Tpm2bName, Tpm2bSensitiveCreate, TpmsSensitiveCreate};
use crate::types::sized::Tpm2bData;
use crate::types::structures::TpmlPcrSelection;

/// TPM2_CreatePrimary — Part 3 §24.1: creates a primary object in the hierarchy
/// primaryHandle (TPM_RH_OWNER, _ENDORSEMENT, _PLATFORM or _NULL) and loads it.
///
/// `TPM_RC_OBJECT_MEMORY`: no slot is free; `TPM_RC_ATTRIBUTES`, `TPM_RC_SCHEME`,
/// `TPM_RC_SYMMETRIC`, `TPM_RC_KDF`, `TPM_RC_HASH`, `TPM_RC_SIZE` (parameter 2):
/// inPublic breaks an object rule; `TPM_RC_SIZE` (parameter 1): userAuth longer
/// than the nameAlg digest; `TPM_RC_KEY_SIZE`, `TPM_RC_SIZE` (no position): a
/// caller-supplied key of the wrong size; `TPM_RC_HIERARCHY` (handle 1, from the
/// handle check): the hierarchy is disabled.
pub fn create_primary(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_sensitive: Tpm2bSensitiveCreate = p.param()?;
    let in_public: Tpm2bPublic = p.param()?;
    let outside_info: Tpm2bData = p.param()?;
    let creation_pcr: TpmlPcrSelection = p.param()?;
    p.end()?;
    let hierarchy = ctx.handle(0);
    need_slot(ctx.tpm)?;
    let template = in_public.0;
    let data = in_sensitive.0.data;
    validate::create_checks(None, &template, data.len()).map_err(|e| e.at_param(2))?;
    let name_alg = template.name_alg.ok_or(TpmRc::HASH.at_param(2))?;
    let sc = TpmsSensitiveCreate {
        user_auth: object_auth(&in_sensitive.0.user_auth, Some(name_alg))
            .map_err(|e| e.at_param(1))?,
        data,
    };
    let mut rng = create::primary_rng(
        primary_seed(ctx.tpm, hierarchy),
        &template,
        sc.data.as_slice(),
    )?;
    let mut public = template;
    let sensitive = create::generate(&mut public, &sc, &mut rng)?;
    let name = public.name();
    let creation = creation(ctx, hierarchy, name_alg, &name, &creation_pcr, outside_info)?;
    let key = KeyObject::new(
        public.clone(),
        Some(sensitive),
        &hierarchy.to_be_bytes(),
        hierarchy,
        false,
        false,
    );
    load_into_slot(ctx, key)?;
    Tpm2bPublic(public).marshal(&mut ctx.out);
    creation.marshal_into(&mut ctx.out);
    Tpm2bName::new(&name)
        .map_err(|_| TpmRc::FAILURE)?
        .marshal(&mut ctx.out);
    Ok(())
}

#[cfg(test)]
mod tests;
