//! Objects and keys (Part 1, clauses 23-27): loaded key and data objects, their
//! Names and Qualified Names (16, 26.5), the hierarchy each belongs to, and the
//! persistent objects kept in NV (27.6).
//!
//! * [`validate`] — the attribute and scheme rules every public area must keep
//!   (Part 1, 27.2; the reference implementation's CreateChecks,
//!   PublicAttributesValidation and SchemeChecks).
//! * [`create`] — new objects from templates: primary objects derived from a
//!   hierarchy seed, ordinary objects from the DRBG, derived objects from a
//!   derivation parent (Part 1, 26.x and 27.7).
//! * [`protect`] — the private-area wrapper that lets an object leave the TPM
//!   (Part 1, 23 and 24: symmetric encryption and HMAC integrity keyed from the
//!   parent's seed) and the saved-context wrapper (Part 1, 30.3).

pub mod create;
pub mod protect;
pub mod secret;
pub mod signing;
#[cfg(test)]
pub(crate) mod testkit;
pub mod validate;

use alloc::sync::Arc;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::hash::HashAlg;
use crate::crypto::rsa::{rsa_private_from_prime, RsaPrivate, DEFAULT_EXPONENT};
use crate::dispatch::AuthRole;
use crate::marshal::{Marshal, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::Object;
use crate::state::Secret;
use crate::tpm::Tpm;
use crate::types::constants::{TpmAlgId, TpmHt, TpmRh};
use crate::types::public::{TpmtPublic, TpmtSymDefObject, TpmuPublicId, TpmuPublicParms};
use crate::types::sensitive::TpmtSensitive;

/// Most persistent objects this TPM keeps (TPM_PT_HR_PERSISTENT_MIN).
pub const MAX_PERSISTENT_OBJECTS: usize = 7;

/// First persistent handle of the owner range (Part 2, 7.5).
pub const PERSISTENT_OWNER_FIRST: u32 = 0x8100_0000;
/// Last persistent handle of the owner range.
pub const PERSISTENT_OWNER_LAST: u32 = 0x817F_FFFF;
/// First persistent handle of the platform range.
pub const PERSISTENT_PLATFORM_FIRST: u32 = 0x8180_0000;
/// Last persistent handle.
pub const PERSISTENT_LAST: u32 = 0x81FF_FFFF;

/// A loaded (or persistent) key or data object.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "KeyObjectRepr", try_from = "KeyObjectRepr")]
pub struct KeyObject {
    /// The public area.
    pub public: TpmtPublic,
    /// The sensitive area; `None` for a public-only object (TPM2_LoadExternal).
    pub sensitive: Option<TpmtSensitive>,
    /// The Name (cached from `public`).
    name: Vec<u8>,
    /// The Qualified Name: H(QN of parent || Name) with the nameAlg in front; the
    /// Name itself for an external object; the handle for a hierarchy.
    pub qualified_name: Vec<u8>,
    /// The hierarchy: TPM_RH_OWNER, _ENDORSEMENT, _PLATFORM or _NULL.
    pub hierarchy: u32,
    /// stClear of the object or of any ancestor: no context load after a Restart,
    /// never persistent.
    pub st_clear: bool,
    /// Loaded with TPM2_LoadExternal (not a Protected Object of this TPM).
    pub external: bool,
    /// The RSA private key with its CRT values, rebuilt once from the stored
    /// prime when the object is made (an RSA key with a sensitive area only);
    /// never serialized.
    rsa: Option<Arc<RsaPrivate>>,
}

/// The RSA private key of `public` and `sensitive`, when they are an RSA key pair.
fn rebuild_rsa(public: &TpmtPublic, sensitive: Option<&TpmtSensitive>) -> Option<Arc<RsaPrivate>> {
    let (TpmuPublicParms::Rsa(parms), TpmuPublicId::Rsa(n)) = (&public.parameters, &public.unique)
    else {
        return None;
    };
    let prime = sensitive?.sensitive.as_slice();
    let e = if parms.exponent == 0 {
        DEFAULT_EXPONENT
    } else {
        parms.exponent
    };
    rsa_private_from_prime(n.as_slice(), e, prime)
        .ok()
        .map(Arc::new)
}

impl core::fmt::Debug for KeyObject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyObject")
            .field("type", &self.public.object_type())
            .field("hierarchy", &self.hierarchy)
            .field("public_only", &self.sensitive.is_none())
            .finish_non_exhaustive()
    }
}

impl KeyObject {
    /// A new object; its Name is computed from `public`, and its Qualified Name
    /// from the parent's (`parent_qn`), or is the Name itself for an external object.
    pub fn new(
        public: TpmtPublic,
        sensitive: Option<TpmtSensitive>,
        parent_qn: &[u8],
        hierarchy: u32,
        st_clear: bool,
        external: bool,
    ) -> KeyObject {
        let name = public.name();
        let st_clear = st_clear || public.object_attributes.st_clear();
        let qualified_name = if external {
            name.clone()
        } else {
            qualified_name(public.name_alg, parent_qn, &name)
        };
        let rsa = rebuild_rsa(&public, sensitive.as_ref());
        KeyObject {
            public,
            sensitive,
            name,
            qualified_name,
            hierarchy,
            st_clear,
            external,
            rsa,
        }
    }

    /// The RSA private key (`TPM_RC_KEY` when this is not an RSA key pair whose
    /// private part is loaded).
    pub fn rsa_private(&self) -> TpmResult<&RsaPrivate> {
        self.rsa.as_deref().ok_or(TpmRc::KEY)
    }

    /// The Name: nameAlg || H_nameAlg(TPMT_PUBLIC), empty when nameAlg is
    /// TPM_ALG_NULL (Part 1, 16).
    pub fn name(&self) -> Vec<u8> {
        self.name.clone()
    }

    /// The Name, borrowed.
    pub fn name_bytes(&self) -> &[u8] {
        &self.name
    }

    /// The authValue (empty for a public-only object).
    pub fn auth(&self) -> &[u8] {
        self.sensitive
            .as_ref()
            .map_or(&[][..], |s| s.auth_value.as_slice())
    }

    /// The seedValue that protects the children of a parent.
    pub fn seed(&self) -> &[u8] {
        self.sensitive
            .as_ref()
            .map_or(&[][..], |s| s.seed_value.as_slice())
    }

    /// The nameAlg (None for TPM_ALG_NULL).
    pub fn name_alg(&self) -> Option<HashAlg> {
        self.public.name_alg
    }

    /// True for restricted decryption keys whose sensitive area is loaded:
    /// storage parents (RSA, ECC, SYMCIPHER) and derivation parents (KEYEDHASH).
    fn parent_attributes(&self) -> bool {
        let a = self.public.object_attributes;
        a.restricted()
            && a.decrypt()
            && self.sensitive.is_some()
            && self.public.name_alg.is_some()
            && !self.external
    }

    /// An ordinary parent (a storage key): may protect children with its seed.
    pub fn is_parent(&self) -> bool {
        self.parent_attributes() && self.public.object_type() != TpmAlgId::KEYEDHASH
    }

    /// A derivation parent (a restricted decryption KEYEDHASH object).
    pub fn is_derivation_parent(&self) -> bool {
        self.parent_attributes() && self.public.object_type() == TpmAlgId::KEYEDHASH
    }

    /// A Temporary Object: in the NULL hierarchy, or loaded from outside.
    pub fn is_temporary(&self) -> bool {
        self.hierarchy == TpmRh::NULL.0 || self.external
    }

    /// The symmetric algorithm that protects this parent's children.
    pub fn protection(&self) -> TpmtSymDefObject {
        match &self.public.parameters {
            TpmuPublicParms::Rsa(p) => p.symmetric,
            TpmuPublicParms::Ecc(p) => p.symmetric,
            TpmuPublicParms::SymCipher(p) => p.sym,
            TpmuPublicParms::KeyedHash(_) => TpmtSymDefObject::Null,
        }
    }
}

/// QN = nameAlg || H_nameAlg(QN of parent || Name) — Part 1, 16.6; empty when the
/// object has no nameAlg.
pub fn qualified_name(name_alg: Option<HashAlg>, parent_qn: &[u8], name: &[u8]) -> Vec<u8> {
    let Some(alg) = name_alg else {
        return Vec::new();
    };
    let mut qn = alg.to_bytes();
    qn.extend_from_slice(&alg.digest_parts(&[parent_qn, name]));
    qn
}

/// The stored form of a [`KeyObject`]: the public and sensitive areas in their
/// canonical TPM encoding, so the layout of persistent state and saved contexts
/// follows the TPM structures, not Rust's.
#[derive(Clone, Serialize, Deserialize)]
struct KeyObjectRepr {
    public: Vec<u8>,
    sensitive: Option<Secret>,
    qualified_name: Vec<u8>,
    hierarchy: u32,
    st_clear: bool,
    external: bool,
}

impl From<KeyObject> for KeyObjectRepr {
    fn from(k: KeyObject) -> Self {
        KeyObjectRepr {
            public: k.public.to_bytes(),
            sensitive: k.sensitive.as_ref().map(|s| Secret(s.to_bytes())),
            qualified_name: k.qualified_name.clone(),
            hierarchy: k.hierarchy,
            st_clear: k.st_clear,
            external: k.external,
        }
    }
}

impl TryFrom<KeyObjectRepr> for KeyObject {
    type Error = &'static str;

    fn try_from(r: KeyObjectRepr) -> Result<Self, Self::Error> {
        let mut reader = crate::marshal::Reader::new(&r.public);
        let public =
            TpmtPublic::unmarshal_in(&mut reader, &crate::crypto::algorithms::IMPLEMENTED, true)
                .map_err(|_| "public area")?;
        reader.finish().map_err(|_| "public area")?;
        let sensitive = match &r.sensitive {
            Some(s) => Some(TpmtSensitive::from_bytes(&s.0).map_err(|_| "sensitive area")?),
            None => None,
        };
        let name = public.name();
        let rsa = rebuild_rsa(&public, sensitive.as_ref());
        Ok(KeyObject {
            public,
            sensitive,
            name,
            qualified_name: r.qualified_name.clone(),
            hierarchy: r.hierarchy,
            st_clear: r.st_clear,
            external: r.external,
            rsa,
        })
    }
}

/// A persistent object (Part 1, 27.6): kept in NV under a handle of the owner or
/// platform range.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PersistentObject {
    /// The persistent handle (0x81xxxxxx).
    pub handle: u32,
    /// The object.
    pub object: KeyObject,
}

/// True for a handle of the owner persistent range.
pub fn is_owner_persistent(handle: u32) -> bool {
    (PERSISTENT_OWNER_FIRST..=PERSISTENT_OWNER_LAST).contains(&handle)
}

/// True for a handle of the platform persistent range.
pub fn is_platform_persistent(handle: u32) -> bool {
    (PERSISTENT_PLATFORM_FIRST..=PERSISTENT_LAST).contains(&handle)
}

impl Tpm {
    /// The key object at `handle`: a loaded transient object or a persistent one.
    pub(crate) fn key(&self, handle: u32) -> Option<&KeyObject> {
        match TpmHt::of(handle) {
            TpmHt::TRANSIENT => self.objects.get(handle)?.as_key(),
            TpmHt::PERSISTENT => self
                .perm
                .persistent
                .iter()
                .find(|p| p.handle == handle)
                .map(|p| &p.object),
            _ => None,
        }
    }

    /// The persistent object at `handle`, usable now: its range's hierarchy is
    /// enabled (platform range: phEnable; owner range: shEnable), and, unless
    /// `any_hierarchy`, an endorsement-hierarchy object needs ehEnable too
    /// (TPM2_EvictControl may still name it).
    pub(crate) fn persistent_usable(&self, handle: u32, any_hierarchy: bool) -> bool {
        let Some(p) = self.perm.persistent.iter().find(|p| p.handle == handle) else {
            return false;
        };
        let range_enabled = if is_platform_persistent(handle) {
            self.ph_enable
        } else {
            self.clear.sh_enable
        };
        range_enabled
            && (any_hierarchy || p.object.hierarchy != TpmRh::ENDORSEMENT.0 || self.clear.eh_enable)
    }

    /// Flushes the loaded objects of `hierarchy` (a hierarchy was disabled, or its
    /// seed or proof changed).
    pub(crate) fn flush_hierarchy(&mut self, hierarchy: u32) {
        self.objects.retain(|o| match o {
            Object::Key(k) => k.hierarchy != hierarchy,
            Object::Sequence(_) => true,
        });
    }

    /// Removes the persistent objects of `hierarchy` (Clear, ChangeEPS, ChangePPS);
    /// true when something was removed.
    pub(crate) fn evict_hierarchy(&mut self, hierarchy: u32) -> bool {
        let before = self.perm.persistent.len();
        self.perm
            .persistent
            .retain(|p| p.object.hierarchy != hierarchy);
        before != self.perm.persistent.len()
    }

    /// Whether an object's authValue may authorize `role` (Part 1, 19.7.3):
    /// USER needs userWithAuth SET, ADMIN needs adminWithPolicy CLEAR; DUP always
    /// needs a policy. Entities that are not key objects are not restricted here.
    pub fn auth_value_allowed(&self, handle: u32, role: AuthRole) -> bool {
        let Some(k) = self.key(handle) else {
            return true;
        };
        let a = k.public.object_attributes;
        match role {
            AuthRole::None => true,
            AuthRole::User => a.user_with_auth(),
            AuthRole::Admin => !a.admin_with_policy(),
            AuthRole::Dup => false,
        }
    }

    /// The authPolicy of an entity and its hash, if it has a non-empty one
    /// (Part 1, 19.7.2): an object's or NV index's authPolicy under its nameAlg,
    /// a hierarchy's policy, or the policy of a PCR's policy group.
    pub fn entity_policy(&self, handle: u32) -> Option<(HashAlg, Vec<u8>)> {
        match TpmHt::of(handle) {
            TpmHt::TRANSIENT | TpmHt::PERSISTENT => {
                let k = self.key(handle)?;
                let alg = k.name_alg()?;
                let policy = k.public.auth_policy.as_slice();
                (!policy.is_empty()).then(|| (alg, policy.to_vec()))
            }
            // An NV index: the authPolicy of its public area under its nameAlg.
            TpmHt::NV_INDEX => {
                let (alg, policy) = crate::state::nv::nv_auth_policy(self, handle)?;
                (!policy.is_empty()).then(|| (alg, policy.to_vec()))
            }
            // Hierarchies (TPM2_SetPrimaryPolicy) and the PCR policy group
            // (TPM2_PCR_SetAuthPolicy).
            TpmHt::PERMANENT | TpmHt::PCR => {
                let p = crate::commands::auth_policy::entity_auth_policy(self, handle)?;
                Some((p.alg?, p.digest.as_slice().to_vec())).filter(|(_, d)| !d.is_empty())
            }
            _ => None,
        }
    }

    /// Whether `handle` can be authorized with a policy session.
    pub fn auth_policy_available(&self, handle: u32) -> bool {
        self.entity_policy(handle).is_some()
    }
}

#[cfg(test)]
mod tests;
