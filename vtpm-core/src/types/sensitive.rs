//! The private side of objects and the records that accompany object creation
//! (Part 2, clause 12.3 and neighbours): TPMU_SENSITIVE_COMPOSITE, TPMT_SENSITIVE
//! and TPM2B_SENSITIVE (12.3.2), TPMS_SENSITIVE_CREATE and TPM2B_SENSITIVE_CREATE
//! (11.1.15-11.1.16), TPM2B_PRIVATE (12.3.7), TPMS_CREATION_DATA and
//! TPM2B_CREATION_DATA (15.1-15.2), TPMT_TK_CREATION (10.7.3), TPM2B_NAME (10.5.3),
//! and the saved-context structures TPMS_CONTEXT and TPM2B_CONTEXT_DATA (14.3-14.5).
//!
//! Secret-bearing buffers are [`Tpm2b`]s, zeroized on drop.

use crate::crypto::algorithms::{AlgorithmTable, IMPLEMENTED};
use crate::crypto::hash::MAX_DIGEST_SIZE;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::{TpmAlgId, TpmRh, TpmSt};
use crate::types::public::{marshal_sized, Tpm2bEccParameter, TpmiAlgPublic, MAX_RSA_KEY_BYTES};
use crate::types::sized::{Tpm2b, Tpm2bAuth, Tpm2bData, Tpm2bDigest, Tpm2bSensitiveData};
use crate::types::structures::TpmlPcrSelection;

/// MAX_SYM_KEY_BYTES: the largest symmetric key (AES-256).
pub const MAX_SYM_KEY_BYTES: usize = 32;
/// RSA_PRIVATE_SIZE: room for the private part of the largest RSA key (a prime,
/// or the five CRT values a TPM may keep internally).
pub const RSA_PRIVATE_SIZE: usize = MAX_RSA_KEY_BYTES / 2 * 5;
/// sizeof(TPMU_NAME): a TPMT_HA (hash id and the largest digest) or a handle.
pub const MAX_NAME_SIZE: usize = 2 + MAX_DIGEST_SIZE;
/// sizeof(TPMT_SENSITIVE): type, authValue, seedValue and the largest key.
pub const MAX_SENSITIVE_SIZE: usize =
    2 + (2 + MAX_DIGEST_SIZE) + (2 + MAX_DIGEST_SIZE) + (2 + RSA_PRIVATE_SIZE);
/// sizeof(_PRIVATE): outer and inner integrity values and a TPM2B_SENSITIVE.
pub const MAX_PRIVATE_SIZE: usize =
    (2 + MAX_DIGEST_SIZE) + (2 + MAX_DIGEST_SIZE) + 2 + MAX_SENSITIVE_SIZE;
/// MAX_CONTEXT_SIZE: the largest encrypted context (TPM2B_CONTEXT_SENSITIVE).
pub const MAX_CONTEXT_SIZE: usize = 2048;
/// sizeof(TPMS_CONTEXT_DATA): the integrity value and the encrypted context.
pub const MAX_CONTEXT_DATA_SIZE: usize = (2 + MAX_DIGEST_SIZE) + MAX_CONTEXT_SIZE;

/// TPM2B_PRIVATE_KEY_RSA — Part 2, 11.2.4.7.
pub type Tpm2bPrivateKeyRsa = Tpm2b<RSA_PRIVATE_SIZE>;
/// TPM2B_SYM_KEY — Part 2, 11.1.8.
pub type Tpm2bSymKey = Tpm2b<MAX_SYM_KEY_BYTES>;
/// TPM2B_PRIVATE — Part 2, 12.3.7: an object's protected private area.
pub type Tpm2bPrivate = Tpm2b<MAX_PRIVATE_SIZE>;
/// TPM2B_NAME — Part 2, 10.5.3.
pub type Tpm2bName = Tpm2b<MAX_NAME_SIZE>;
/// TPM2B_CONTEXT_DATA — Part 2, 14.5: integrity value and encrypted context.
pub type Tpm2bContextData = Tpm2b<MAX_CONTEXT_DATA_SIZE>;

/// TPMU_SENSITIVE_COMPOSITE — Part 2, 12.3.2.3: the secret key of an object; the
/// variant is the sensitiveType of the enclosing TPMT_SENSITIVE.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TpmuSensitiveComposite {
    /// TPM_ALG_RSA: a prime factor of the modulus
    Rsa(Tpm2bPrivateKeyRsa),
    /// TPM_ALG_ECC: the private scalar
    Ecc(Tpm2bEccParameter),
    /// TPM_ALG_KEYEDHASH: the HMAC key or the sealed data
    Bits(Tpm2bSensitiveData),
    /// TPM_ALG_SYMCIPHER: the symmetric key
    Sym(Tpm2bSymKey),
}

impl TpmuSensitiveComposite {
    /// The object type this key belongs to.
    pub fn object_type(&self) -> TpmAlgId {
        match self {
            TpmuSensitiveComposite::Rsa(_) => TpmAlgId::RSA,
            TpmuSensitiveComposite::Ecc(_) => TpmAlgId::ECC,
            TpmuSensitiveComposite::Bits(_) => TpmAlgId::KEYEDHASH,
            TpmuSensitiveComposite::Sym(_) => TpmAlgId::SYMCIPHER,
        }
    }

    /// The key octets.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            TpmuSensitiveComposite::Rsa(b) => b.as_slice(),
            TpmuSensitiveComposite::Ecc(b) => b.as_slice(),
            TpmuSensitiveComposite::Bits(b) => b.as_slice(),
            TpmuSensitiveComposite::Sym(b) => b.as_slice(),
        }
    }

    /// Reads the key for object type `selector`.
    pub fn unmarshal_with(selector: TpmiAlgPublic, r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(match selector.0 {
            TpmAlgId::RSA => TpmuSensitiveComposite::Rsa(Tpm2bPrivateKeyRsa::unmarshal(r)?),
            TpmAlgId::ECC => TpmuSensitiveComposite::Ecc(Tpm2bEccParameter::unmarshal(r)?),
            TpmAlgId::KEYEDHASH => TpmuSensitiveComposite::Bits(Tpm2bSensitiveData::unmarshal(r)?),
            TpmAlgId::SYMCIPHER => TpmuSensitiveComposite::Sym(Tpm2bSymKey::unmarshal(r)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }
}

/// The union without its selector.
impl Marshal for TpmuSensitiveComposite {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(self.as_slice())
    }
}

/// TPMT_SENSITIVE — Part 2, 12.3.2.4: the secret part of an object.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmtSensitive {
    /// authValue
    pub auth_value: Tpm2bAuth,
    /// seedValue: for a parent, the secret that protects its children; for a
    /// symmetric object, the obfuscation value of its unique field
    pub seed_value: Tpm2bDigest,
    /// sensitive (the type is sensitiveType)
    pub sensitive: TpmuSensitiveComposite,
}

impl TpmtSensitive {
    /// Reads the structure checked against `table` (`TPM_RC_TYPE` for a
    /// sensitiveType the TPM does not implement).
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        let selector = TpmiAlgPublic::unmarshal_in(r, table)?;
        Ok(TpmtSensitive {
            auth_value: Tpm2bAuth::unmarshal(r)?,
            seed_value: Tpm2bDigest::unmarshal(r)?,
            sensitive: TpmuSensitiveComposite::unmarshal_with(selector, r)?,
        })
    }
}

impl Marshal for TpmtSensitive {
    fn marshal(&self, w: &mut Writer) {
        self.sensitive.object_type().marshal(w);
        self.auth_value.marshal(w);
        self.seed_value.marshal(w);
        self.sensitive.marshal(w);
    }
}

impl Unmarshal for TpmtSensitive {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtSensitive::unmarshal_in(r, &IMPLEMENTED)
    }
}

/// TPM2B_SENSITIVE — Part 2, 12.3.2.5: a sensitive area in the clear
/// (TPM2_LoadExternal); a zero size means there is none. A size that does not
/// match the area is `TPM_RC_SIZE`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Tpm2bSensitive(pub Option<TpmtSensitive>);

impl Marshal for Tpm2bSensitive {
    fn marshal(&self, w: &mut Writer) {
        match &self.0 {
            Some(s) => marshal_sized(s, w),
            None => w.u16(0),
        }
    }
}

impl Unmarshal for Tpm2bSensitive {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let size = usize::from(r.u16()?);
        if size == 0 {
            return Ok(Tpm2bSensitive(None));
        }
        let mut sub = r.sub(size)?;
        let s = TpmtSensitive::unmarshal(&mut sub)?;
        sub.finish()?;
        Ok(Tpm2bSensitive(Some(s)))
    }
}

/// TPMS_SENSITIVE_CREATE — Part 2, 11.1.15: the caller's contribution to a new
/// object's sensitive area.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TpmsSensitiveCreate {
    /// userAuth
    pub user_auth: Tpm2bAuth,
    /// data: the key or data to seal, or (for a primary) extra derivation input
    pub data: Tpm2bSensitiveData,
}

impl Marshal for TpmsSensitiveCreate {
    fn marshal(&self, w: &mut Writer) {
        self.user_auth.marshal(w);
        self.data.marshal(w);
    }
}

impl Unmarshal for TpmsSensitiveCreate {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TpmsSensitiveCreate {
            user_auth: Tpm2bAuth::unmarshal(r)?,
            data: Tpm2bSensitiveData::unmarshal(r)?,
        })
    }
}

/// TPM2B_SENSITIVE_CREATE — Part 2, 11.1.16: a zero size, or one that does not
/// match the structure, is `TPM_RC_SIZE`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Tpm2bSensitiveCreate(pub TpmsSensitiveCreate);

impl Marshal for Tpm2bSensitiveCreate {
    fn marshal(&self, w: &mut Writer) {
        marshal_sized(&self.0, w)
    }
}

impl Unmarshal for Tpm2bSensitiveCreate {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let size = usize::from(r.u16()?);
        if size == 0 {
            return Err(TpmRc::SIZE);
        }
        let mut sub = r.sub(size)?;
        let s = TpmsSensitiveCreate::unmarshal(&mut sub)?;
        sub.finish()?;
        Ok(Tpm2bSensitiveCreate(s))
    }
}

/// TPMS_CREATION_DATA — Part 2, 15.1: the circumstances of an object's creation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmsCreationData {
    /// pcrSelect: the PCRs included in pcrDigest
    pub pcr_select: TpmlPcrSelection,
    /// pcrDigest: digest (with the object's nameAlg) of the selected PCRs
    pub pcr_digest: Tpm2bDigest,
    /// locality (TPMA_LOCALITY) at creation
    pub locality: u8,
    /// parentNameAlg: TPM_ALG_NULL for a primary
    pub parent_name_alg: TpmAlgId,
    /// parentName
    pub parent_name: Tpm2bName,
    /// parentQualifiedName
    pub parent_qualified_name: Tpm2bName,
    /// outsideInfo
    pub outside_info: Tpm2bData,
}

impl Marshal for TpmsCreationData {
    fn marshal(&self, w: &mut Writer) {
        self.pcr_select.marshal(w);
        self.pcr_digest.marshal(w);
        w.u8(self.locality);
        self.parent_name_alg.marshal(w);
        self.parent_name.marshal(w);
        self.parent_qualified_name.marshal(w);
        self.outside_info.marshal(w);
    }
}

impl Unmarshal for TpmsCreationData {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TpmsCreationData {
            pcr_select: TpmlPcrSelection::unmarshal(r)?,
            pcr_digest: Tpm2bDigest::unmarshal(r)?,
            locality: r.u8()?,
            parent_name_alg: TpmAlgId::unmarshal(r)?,
            parent_name: Tpm2bName::unmarshal(r)?,
            parent_qualified_name: Tpm2bName::unmarshal(r)?,
            outside_info: Tpm2bData::unmarshal(r)?,
        })
    }
}

/// TPM2B_CREATION_DATA — Part 2, 15.2.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tpm2bCreationData(pub TpmsCreationData);

impl Marshal for Tpm2bCreationData {
    fn marshal(&self, w: &mut Writer) {
        marshal_sized(&self.0, w)
    }
}

impl Unmarshal for Tpm2bCreationData {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let size = usize::from(r.u16()?);
        if size == 0 {
            return Err(TpmRc::SIZE);
        }
        let mut sub = r.sub(size)?;
        let d = TpmsCreationData::unmarshal(&mut sub)?;
        sub.finish()?;
        Ok(Tpm2bCreationData(d))
    }
}

/// TPMI_RH_HIERARCHY+ — Part 2, 9.5: TPM_RH_OWNER, TPM_RH_ENDORSEMENT,
/// TPM_RH_PLATFORM or TPM_RH_NULL; anything else is `TPM_RC_VALUE`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TpmiRhHierarchy(pub u32);

impl Marshal for TpmiRhHierarchy {
    fn marshal(&self, w: &mut Writer) {
        w.u32(self.0)
    }
}

impl Unmarshal for TpmiRhHierarchy {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let h = r.u32()?;
        match TpmRh(h) {
            TpmRh::OWNER | TpmRh::ENDORSEMENT | TpmRh::PLATFORM | TpmRh::NULL => {
                Ok(TpmiRhHierarchy(h))
            }
            _ => Err(TpmRc::VALUE),
        }
    }
}

/// TPMT_TK_CREATION — Part 2, 10.7.3: proof that the TPM created an object with
/// the given creation data. A tag other than TPM_ST_CREATION is `TPM_RC_TAG`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmtTkCreation {
    /// hierarchy whose proof keyed the HMAC
    pub hierarchy: TpmiRhHierarchy,
    /// digest: HMAC(proof, TPM_ST_CREATION || name || creationHash)
    pub digest: Tpm2bDigest,
}

impl Marshal for TpmtTkCreation {
    fn marshal(&self, w: &mut Writer) {
        TpmSt::CREATION.marshal(w);
        self.hierarchy.marshal(w);
        self.digest.marshal(w);
    }
}

impl Unmarshal for TpmtTkCreation {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        if TpmSt::unmarshal(r)? != TpmSt::CREATION {
            return Err(TpmRc::TAG);
        }
        Ok(TpmtTkCreation {
            hierarchy: TpmiRhHierarchy::unmarshal(r)?,
            digest: Tpm2bDigest::unmarshal(r)?,
        })
    }
}

/// savedHandle of a saved ordinary object (Part 3, 28.2).
pub const SAVED_OBJECT: u32 = 0x8000_0000;
/// savedHandle of a saved sequence object.
pub const SAVED_SEQUENCE: u32 = 0x8000_0001;
/// savedHandle of a saved object with stClear SET.
pub const SAVED_ST_CLEAR: u32 = 0x8000_0002;

/// TPMI_DH_SAVED — Part 2, 9.14: a saved session handle or one of the three
/// object values; anything else is `TPM_RC_VALUE`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TpmiDhSaved(pub u32);

impl Unmarshal for TpmiDhSaved {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let h = r.u32()?;
        let session = matches!(h >> 24, 0x02 | 0x03)
            && (h & 0x00FF_FFFF) < crate::session::MAX_ACTIVE_SESSIONS;
        if session || matches!(h, SAVED_OBJECT | SAVED_SEQUENCE | SAVED_ST_CLEAR) {
            Ok(TpmiDhSaved(h))
        } else {
            Err(TpmRc::VALUE)
        }
    }
}

/// TPMS_CONTEXT — Part 2, 14.3: a saved object or session.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmsContext {
    /// sequence: the context counter value when saved
    pub sequence: u64,
    /// savedHandle
    pub saved_handle: u32,
    /// hierarchy (TPMI_RH_HIERARCHY+)
    pub hierarchy: u32,
    /// contextBlob
    pub context_blob: Tpm2bContextData,
}

impl Marshal for TpmsContext {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.sequence);
        w.u32(self.saved_handle);
        w.u32(self.hierarchy);
        self.context_blob.marshal(w);
    }
}

impl Unmarshal for TpmsContext {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TpmsContext {
            sequence: r.u64()?,
            saved_handle: TpmiDhSaved::unmarshal(r)?.0,
            hierarchy: TpmiRhHierarchy::unmarshal(r)?.0,
            context_blob: Tpm2bContextData::unmarshal(r)?,
        })
    }
}

#[cfg(test)]
mod tests;
