//! Algorithm parameters of objects: the parts of TPMT_PUBLIC that say what kind of
//! key an object is (Part 2, 11.1 symmetric definitions and keyed-hash schemes,
//! 11.2.3 KDF schemes, 11.2.4 RSA schemes, 11.2.5 ECC schemes, 12.2.3 public-area
//! parameters):
//! TPMT_SYM_DEF_OBJECT, TPMT_KEYEDHASH_SCHEME, TPMT_KDF_SCHEME, TPMT_RSA_SCHEME,
//! TPMT_ECC_SCHEME, TPMS_KEYEDHASH_PARMS, TPMS_SYMCIPHER_PARMS, TPMS_RSA_PARMS,
//! TPMS_ECC_PARMS, TPMU_PUBLIC_PARMS and TPMT_PUBLIC_PARMS; and the public area
//! itself (Part 2, 8.3 TPMA_OBJECT, 11.2.4.5 TPM2B_PUBLIC_KEY_RSA, 11.2.5.2
//! TPMS_ECC_POINT, 12.2.3.2 TPMU_PUBLIC_ID, 12.2.4 TPMT_PUBLIC, 12.2.5
//! TPM2B_PUBLIC, 12.2.6 TPM2B_TEMPLATE, 11.1.16 TPMS_DERIVE).
//!
//! Every algorithm selector is checked on the way in, the way the reference
//! implementation's unmarshalling does: a value that is not a member of its TPMI_
//! type, or that the [`AlgorithmTable`] does not implement, is refused with that
//! type's response code (TPMI_ALG_PUBLIC `TPM_RC_TYPE`, TPMI_ALG_SYM_OBJECT
//! `TPM_RC_SYMMETRIC`, key sizes `TPM_RC_VALUE`, TPMI_ALG_SYM_MODE `TPM_RC_MODE`,
//! TPMI_ALG_KDF `TPM_RC_KDF`, TPMI_ALG_RSA_SCHEME and TPMI_ALG_KEYEDHASH_SCHEME
//! `TPM_RC_VALUE`, TPMI_ALG_ECC_SCHEME `TPM_RC_SCHEME`, TPMI_ECC_CURVE
//! `TPM_RC_CURVE`, TPMI_ALG_HASH `TPM_RC_HASH`). The plain [`Unmarshal`] impls use
//! the engine's table ([`IMPLEMENTED`]); `unmarshal_in` takes any table.

use alloc::vec::Vec;

use crate::crypto::algorithms::{AlgorithmTable, IMPLEMENTED};
use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::sized::{Tpm2b, Tpm2bDigest};

/// TPM_ECC_CURVE — Part 2, Table 10.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct TpmEccCurve(pub u16);

impl TpmEccCurve {
    /// TPM_ECC_NONE
    pub const NONE: TpmEccCurve = TpmEccCurve(0x0000);
    /// TPM_ECC_NIST_P192
    pub const NIST_P192: TpmEccCurve = TpmEccCurve(0x0001);
    /// TPM_ECC_NIST_P224
    pub const NIST_P224: TpmEccCurve = TpmEccCurve(0x0002);
    /// TPM_ECC_NIST_P256
    pub const NIST_P256: TpmEccCurve = TpmEccCurve(0x0003);
    /// TPM_ECC_NIST_P384
    pub const NIST_P384: TpmEccCurve = TpmEccCurve(0x0004);
    /// TPM_ECC_NIST_P521
    pub const NIST_P521: TpmEccCurve = TpmEccCurve(0x0005);
    /// TPM_ECC_BN_P256
    pub const BN_P256: TpmEccCurve = TpmEccCurve(0x0010);
    /// TPM_ECC_BN_P638
    pub const BN_P638: TpmEccCurve = TpmEccCurve(0x0011);
    /// TPM_ECC_SM2_P256
    pub const SM2_P256: TpmEccCurve = TpmEccCurve(0x0020);
}

impl Marshal for TpmEccCurve {
    fn marshal(&self, w: &mut Writer) {
        w.u16(self.0)
    }
}

/// Members of TPMI_ALG_PUBLIC (Part 2, Table 194: the object types).
pub const ALG_PUBLIC: &[TpmAlgId] = &[
    TpmAlgId::RSA,
    TpmAlgId::KEYEDHASH,
    TpmAlgId::ECC,
    TpmAlgId::SYMCIPHER,
];
/// Members of TPMI_ALG_SYM_OBJECT (the block ciphers, TPM_ALG_!ALG.S).
pub const ALG_SYM_OBJECT: &[TpmAlgId] = &[
    TpmAlgId::TDES,
    TpmAlgId::AES,
    TpmAlgId::SM4,
    TpmAlgId::CAMELLIA,
];
/// Members of TPMI_ALG_SYM_MODE (TPM_ALG_!ALG.SE and !ALG.SX).
pub const ALG_SYM_MODE: &[TpmAlgId] = &[
    TpmAlgId::CMAC,
    TpmAlgId::CTR,
    TpmAlgId::OFB,
    TpmAlgId::CBC,
    TpmAlgId::CFB,
    TpmAlgId::ECB,
];
/// Members of TPMI_ALG_KDF (TPM_ALG_!ALG.HM).
pub const ALG_KDF: &[TpmAlgId] = &[
    TpmAlgId::MGF1,
    TpmAlgId::KDF1_SP800_56A,
    TpmAlgId::KDF2,
    TpmAlgId::KDF1_SP800_108,
];
/// Members of TPMI_ALG_KEYEDHASH_SCHEME.
pub const ALG_KEYEDHASH_SCHEME: &[TpmAlgId] = &[TpmAlgId::HMAC, TpmAlgId::XOR];
/// Members of TPMI_ALG_RSA_SCHEME (RSA signing and encryption schemes).
pub const ALG_RSA_SCHEME: &[TpmAlgId] = &[
    TpmAlgId::RSASSA,
    TpmAlgId::RSAES,
    TpmAlgId::RSAPSS,
    TpmAlgId::OAEP,
];
/// Members of TPMI_ALG_ECC_SCHEME (ECC signing and key-exchange schemes).
pub const ALG_ECC_SCHEME: &[TpmAlgId] = &[
    TpmAlgId::ECDSA,
    TpmAlgId::ECDH,
    TpmAlgId::ECDAA,
    TpmAlgId::SM2,
    TpmAlgId::ECSCHNORR,
    TpmAlgId::ECMQV,
];

/// Reads a TPMI_ algorithm selector: `TPM_ALG_NULL` when `allow_null` (the `+`
/// of Part 2), else a member of `members` that `table` implements; anything else
/// is `rc`.
pub(crate) fn alg_in(
    r: &mut Reader<'_>,
    table: &AlgorithmTable,
    members: &[TpmAlgId],
    allow_null: bool,
    rc: TpmRc,
) -> TpmResult<TpmAlgId> {
    let id = TpmAlgId::unmarshal(r)?;
    let ok = if id == TpmAlgId::NULL {
        allow_null
    } else {
        members.contains(&id) && table.implements(id)
    };
    if ok {
        Ok(id)
    } else {
        Err(rc)
    }
}

/// Reads a TPMI_ALG_HASH (no NULL) that `table` implements; else `TPM_RC_HASH`.
pub(crate) fn hash_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<HashAlg> {
    let h = HashAlg::unmarshal(r)?;
    if table.implements(h.alg_id()) {
        Ok(h)
    } else {
        Err(TpmRc::HASH)
    }
}

/// TPMI_ALG_PUBLIC — Part 2, Table 194: an object type the TPM implements;
/// otherwise `TPM_RC_TYPE`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmiAlgPublic(pub TpmAlgId);

impl TpmiAlgPublic {
    /// Reads the selector, checked against `table`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        alg_in(r, table, ALG_PUBLIC, false, TpmRc::TYPE).map(TpmiAlgPublic)
    }
}

impl Marshal for TpmiAlgPublic {
    fn marshal(&self, w: &mut Writer) {
        self.0.marshal(w)
    }
}

/// TPMT_SYM_DEF_OBJECT — Part 2, 11.1.7: the symmetric algorithm of a storage key
/// or symmetric cipher object (TPMU_SYM_KEY_BITS and TPMU_SYM_MODE folded in).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtSymDefObject {
    /// TPM_ALG_NULL: no symmetric algorithm (keyBits and mode are absent).
    Null,
    /// A block cipher.
    Cipher {
        /// algorithm (TPMI_ALG_SYM_OBJECT)
        algorithm: TpmAlgId,
        /// keyBits (TPMI_!ALG.S_KEY_BITS)
        key_bits: u16,
        /// mode (TPMI_ALG_SYM_MODE+; TPM_ALG_NULL leaves it to the command)
        mode: TpmAlgId,
    },
}

impl TpmtSymDefObject {
    /// Reads the structure; `allow_null` is the `+` on its algorithm field.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let algorithm = alg_in(r, table, ALG_SYM_OBJECT, allow_null, TpmRc::SYMMETRIC)?;
        if algorithm == TpmAlgId::NULL {
            return Ok(TpmtSymDefObject::Null);
        }
        let key_bits = r.u16()?;
        if !table.supports_key_bits(algorithm, key_bits) {
            return Err(TpmRc::VALUE);
        }
        let mode = alg_in(r, table, ALG_SYM_MODE, true, TpmRc::MODE)?;
        Ok(TpmtSymDefObject::Cipher {
            algorithm,
            key_bits,
            mode,
        })
    }

    /// The algorithm selector.
    pub fn algorithm(&self) -> TpmAlgId {
        match self {
            TpmtSymDefObject::Null => TpmAlgId::NULL,
            TpmtSymDefObject::Cipher { algorithm, .. } => *algorithm,
        }
    }
}

impl Marshal for TpmtSymDefObject {
    fn marshal(&self, w: &mut Writer) {
        match self {
            TpmtSymDefObject::Null => TpmAlgId::NULL.marshal(w),
            TpmtSymDefObject::Cipher {
                algorithm,
                key_bits,
                mode,
            } => {
                algorithm.marshal(w);
                w.u16(*key_bits);
                mode.marshal(w);
            }
        }
    }
}

/// TPMT_KDF_SCHEME — Part 2, 11.2.3.3: a key or mask generation function and its
/// hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtKdfScheme {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_MGF1
    Mgf1(HashAlg),
    /// TPM_ALG_KDF1_SP800_56A
    Kdf1Sp800_56a(HashAlg),
    /// TPM_ALG_KDF2
    Kdf2(HashAlg),
    /// TPM_ALG_KDF1_SP800_108
    Kdf1Sp800_108(HashAlg),
}

impl TpmtKdfScheme {
    /// Reads the structure; `allow_null` is the `+` on its scheme field.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_KDF, allow_null, TpmRc::KDF)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtKdfScheme::Null,
            TpmAlgId::MGF1 => TpmtKdfScheme::Mgf1(hash_in(r, table)?),
            TpmAlgId::KDF1_SP800_56A => TpmtKdfScheme::Kdf1Sp800_56a(hash_in(r, table)?),
            TpmAlgId::KDF2 => TpmtKdfScheme::Kdf2(hash_in(r, table)?),
            TpmAlgId::KDF1_SP800_108 => TpmtKdfScheme::Kdf1Sp800_108(hash_in(r, table)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// The scheme selector and its hash (None for TPM_ALG_NULL).
    pub fn parts(&self) -> (TpmAlgId, Option<HashAlg>) {
        match *self {
            TpmtKdfScheme::Null => (TpmAlgId::NULL, None),
            TpmtKdfScheme::Mgf1(h) => (TpmAlgId::MGF1, Some(h)),
            TpmtKdfScheme::Kdf1Sp800_56a(h) => (TpmAlgId::KDF1_SP800_56A, Some(h)),
            TpmtKdfScheme::Kdf2(h) => (TpmAlgId::KDF2, Some(h)),
            TpmtKdfScheme::Kdf1Sp800_108(h) => (TpmAlgId::KDF1_SP800_108, Some(h)),
        }
    }
}

impl Marshal for TpmtKdfScheme {
    fn marshal(&self, w: &mut Writer) {
        let (scheme, hash) = self.parts();
        scheme.marshal(w);
        if let Some(h) = hash {
            h.marshal(w);
        }
    }
}

/// TPMT_KEYEDHASH_SCHEME — Part 2, 11.1.23: what a keyed-hash object does (HMAC
/// signing, XOR obfuscation, or nothing: a sealed data object).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtKeyedHashScheme {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_HMAC with TPMS_SCHEME_HMAC.
    Hmac(HashAlg),
    /// TPM_ALG_XOR with TPMS_SCHEME_XOR.
    Xor {
        /// hashAlg
        hash_alg: HashAlg,
        /// kdf (TPMI_ALG_KDF+; TPM_ALG_NULL allowed)
        kdf: TpmAlgId,
    },
}

impl TpmtKeyedHashScheme {
    /// Reads the structure; `allow_null` is the `+` on its scheme field.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_KEYEDHASH_SCHEME, allow_null, TpmRc::VALUE)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtKeyedHashScheme::Null,
            TpmAlgId::HMAC => TpmtKeyedHashScheme::Hmac(hash_in(r, table)?),
            TpmAlgId::XOR => TpmtKeyedHashScheme::Xor {
                hash_alg: hash_in(r, table)?,
                kdf: alg_in(r, table, ALG_KDF, true, TpmRc::KDF)?,
            },
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// The scheme selector.
    pub fn scheme(&self) -> TpmAlgId {
        match self {
            TpmtKeyedHashScheme::Null => TpmAlgId::NULL,
            TpmtKeyedHashScheme::Hmac(_) => TpmAlgId::HMAC,
            TpmtKeyedHashScheme::Xor { .. } => TpmAlgId::XOR,
        }
    }
}

impl Marshal for TpmtKeyedHashScheme {
    fn marshal(&self, w: &mut Writer) {
        self.scheme().marshal(w);
        match self {
            TpmtKeyedHashScheme::Null => {}
            TpmtKeyedHashScheme::Hmac(h) => h.marshal(w),
            TpmtKeyedHashScheme::Xor { hash_alg, kdf } => {
                hash_alg.marshal(w);
                kdf.marshal(w);
            }
        }
    }
}

/// TPMT_RSA_SCHEME — Part 2, 11.2.4.2: the signing or encryption scheme of an RSA key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtRsaScheme {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_RSASSA (PKCS#1 v1.5 signatures) with its hash.
    Rsassa(HashAlg),
    /// TPM_ALG_RSAES (PKCS#1 v1.5 encryption): no details.
    Rsaes,
    /// TPM_ALG_RSAPSS with its hash.
    Rsapss(HashAlg),
    /// TPM_ALG_OAEP with its hash.
    Oaep(HashAlg),
}

impl TpmtRsaScheme {
    /// Reads the structure; `allow_null` is the `+` on its scheme field.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_RSA_SCHEME, allow_null, TpmRc::VALUE)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtRsaScheme::Null,
            TpmAlgId::RSASSA => TpmtRsaScheme::Rsassa(hash_in(r, table)?),
            TpmAlgId::RSAES => TpmtRsaScheme::Rsaes,
            TpmAlgId::RSAPSS => TpmtRsaScheme::Rsapss(hash_in(r, table)?),
            TpmAlgId::OAEP => TpmtRsaScheme::Oaep(hash_in(r, table)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// The scheme selector and its hash, if the scheme has one.
    pub fn parts(&self) -> (TpmAlgId, Option<HashAlg>) {
        match *self {
            TpmtRsaScheme::Null => (TpmAlgId::NULL, None),
            TpmtRsaScheme::Rsassa(h) => (TpmAlgId::RSASSA, Some(h)),
            TpmtRsaScheme::Rsaes => (TpmAlgId::RSAES, None),
            TpmtRsaScheme::Rsapss(h) => (TpmAlgId::RSAPSS, Some(h)),
            TpmtRsaScheme::Oaep(h) => (TpmAlgId::OAEP, Some(h)),
        }
    }
}

impl Marshal for TpmtRsaScheme {
    fn marshal(&self, w: &mut Writer) {
        let (scheme, hash) = self.parts();
        scheme.marshal(w);
        if let Some(h) = hash {
            h.marshal(w);
        }
    }
}

/// TPMT_ECC_SCHEME — Part 2, 11.2.5.6: the signing or key-exchange scheme of an
/// ECC key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtEccScheme {
    /// TPM_ALG_NULL
    Null,
    /// TPM_ALG_ECDSA with its hash.
    Ecdsa(HashAlg),
    /// TPM_ALG_ECDH with its hash.
    Ecdh(HashAlg),
    /// TPM_ALG_ECDAA (TPMS_SCHEME_ECDAA).
    Ecdaa {
        /// hashAlg
        hash_alg: HashAlg,
        /// count: the commit counter value
        count: u16,
    },
    /// TPM_ALG_SM2 with its hash.
    Sm2(HashAlg),
    /// TPM_ALG_ECSCHNORR with its hash.
    Ecschnorr(HashAlg),
    /// TPM_ALG_ECMQV with its hash.
    Ecmqv(HashAlg),
}

impl TpmtEccScheme {
    /// Reads the structure; `allow_null` is the `+` on its scheme field.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null: bool,
    ) -> TpmResult<Self> {
        let scheme = alg_in(r, table, ALG_ECC_SCHEME, allow_null, TpmRc::SCHEME)?;
        Ok(match scheme {
            TpmAlgId::NULL => TpmtEccScheme::Null,
            TpmAlgId::ECDSA => TpmtEccScheme::Ecdsa(hash_in(r, table)?),
            TpmAlgId::ECDH => TpmtEccScheme::Ecdh(hash_in(r, table)?),
            TpmAlgId::ECDAA => TpmtEccScheme::Ecdaa {
                hash_alg: hash_in(r, table)?,
                count: r.u16()?,
            },
            TpmAlgId::SM2 => TpmtEccScheme::Sm2(hash_in(r, table)?),
            TpmAlgId::ECSCHNORR => TpmtEccScheme::Ecschnorr(hash_in(r, table)?),
            TpmAlgId::ECMQV => TpmtEccScheme::Ecmqv(hash_in(r, table)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// The scheme selector.
    pub fn scheme(&self) -> TpmAlgId {
        match self {
            TpmtEccScheme::Null => TpmAlgId::NULL,
            TpmtEccScheme::Ecdsa(_) => TpmAlgId::ECDSA,
            TpmtEccScheme::Ecdh(_) => TpmAlgId::ECDH,
            TpmtEccScheme::Ecdaa { .. } => TpmAlgId::ECDAA,
            TpmtEccScheme::Sm2(_) => TpmAlgId::SM2,
            TpmtEccScheme::Ecschnorr(_) => TpmAlgId::ECSCHNORR,
            TpmtEccScheme::Ecmqv(_) => TpmAlgId::ECMQV,
        }
    }
}

impl Marshal for TpmtEccScheme {
    fn marshal(&self, w: &mut Writer) {
        self.scheme().marshal(w);
        match self {
            TpmtEccScheme::Null => {}
            TpmtEccScheme::Ecdaa { hash_alg, count } => {
                hash_alg.marshal(w);
                w.u16(*count);
            }
            TpmtEccScheme::Ecdsa(h)
            | TpmtEccScheme::Ecdh(h)
            | TpmtEccScheme::Sm2(h)
            | TpmtEccScheme::Ecschnorr(h)
            | TpmtEccScheme::Ecmqv(h) => h.marshal(w),
        }
    }
}

/// TPMS_KEYEDHASH_PARMS — Part 2, 12.2.3.3.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsKeyedHashParms {
    /// scheme (TPMT_KEYEDHASH_SCHEME+)
    pub scheme: TpmtKeyedHashScheme,
}

impl TpmsKeyedHashParms {
    /// Reads the structure, checked against `table`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        Ok(TpmsKeyedHashParms {
            scheme: TpmtKeyedHashScheme::unmarshal_in(r, table, true)?,
        })
    }
}

impl Marshal for TpmsKeyedHashParms {
    fn marshal(&self, w: &mut Writer) {
        self.scheme.marshal(w)
    }
}

/// TPMS_SYMCIPHER_PARMS — Part 2, 11.1.10: a symmetric cipher object's algorithm
/// (TPM_ALG_NULL is not allowed).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsSymCipherParms {
    /// sym (TPMT_SYM_DEF_OBJECT, no NULL)
    pub sym: TpmtSymDefObject,
}

impl TpmsSymCipherParms {
    /// Reads the structure, checked against `table`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        Ok(TpmsSymCipherParms {
            sym: TpmtSymDefObject::unmarshal_in(r, table, false)?,
        })
    }
}

impl Marshal for TpmsSymCipherParms {
    fn marshal(&self, w: &mut Writer) {
        self.sym.marshal(w)
    }
}

/// TPMS_RSA_PARMS — Part 2, 12.2.3.5.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsRsaParms {
    /// symmetric (TPMT_SYM_DEF_OBJECT+): for a restricted decryption key
    pub symmetric: TpmtSymDefObject,
    /// scheme (TPMT_RSA_SCHEME+)
    pub scheme: TpmtRsaScheme,
    /// keyBits (TPMI_RSA_KEY_BITS)
    pub key_bits: u16,
    /// exponent: the public exponent; zero means 2^16 + 1
    pub exponent: u32,
}

impl TpmsRsaParms {
    /// Reads the structure, checked against `table`: a key size the table does not
    /// list for TPM_ALG_RSA is `TPM_RC_VALUE`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        let symmetric = TpmtSymDefObject::unmarshal_in(r, table, true)?;
        let scheme = TpmtRsaScheme::unmarshal_in(r, table, true)?;
        let key_bits = r.u16()?;
        if !table.supports_key_bits(TpmAlgId::RSA, key_bits) {
            return Err(TpmRc::VALUE);
        }
        Ok(TpmsRsaParms {
            symmetric,
            scheme,
            key_bits,
            exponent: r.u32()?,
        })
    }
}

impl Marshal for TpmsRsaParms {
    fn marshal(&self, w: &mut Writer) {
        self.symmetric.marshal(w);
        self.scheme.marshal(w);
        w.u16(self.key_bits);
        w.u32(self.exponent);
    }
}

/// TPMS_ECC_PARMS — Part 2, 12.2.3.6.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsEccParms {
    /// symmetric (TPMT_SYM_DEF_OBJECT+): for a restricted decryption key
    pub symmetric: TpmtSymDefObject,
    /// scheme (TPMT_ECC_SCHEME+)
    pub scheme: TpmtEccScheme,
    /// curveID (TPMI_ECC_CURVE)
    pub curve_id: TpmEccCurve,
    /// kdf (TPMT_KDF_SCHEME+)
    pub kdf: TpmtKdfScheme,
}

impl TpmsEccParms {
    /// Reads the structure, checked against `table`: an unsupported curve is
    /// `TPM_RC_CURVE`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        let symmetric = TpmtSymDefObject::unmarshal_in(r, table, true)?;
        let scheme = TpmtEccScheme::unmarshal_in(r, table, true)?;
        let curve_id = TpmEccCurve(r.u16()?);
        if !table.supports_curve(curve_id) {
            return Err(TpmRc::CURVE);
        }
        Ok(TpmsEccParms {
            symmetric,
            scheme,
            curve_id,
            kdf: TpmtKdfScheme::unmarshal_in(r, table, true)?,
        })
    }
}

impl Marshal for TpmsEccParms {
    fn marshal(&self, w: &mut Writer) {
        self.symmetric.marshal(w);
        self.scheme.marshal(w);
        self.curve_id.marshal(w);
        self.kdf.marshal(w);
    }
}

/// TPMU_PUBLIC_PARMS — Part 2, 12.2.3.7: the type-specific parameters of an object.
/// Its selector is the `type` of the enclosing TPMT_PUBLIC or TPMT_PUBLIC_PARMS.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmuPublicParms {
    /// TPM_ALG_KEYEDHASH
    KeyedHash(TpmsKeyedHashParms),
    /// TPM_ALG_SYMCIPHER
    SymCipher(TpmsSymCipherParms),
    /// TPM_ALG_RSA
    Rsa(TpmsRsaParms),
    /// TPM_ALG_ECC
    Ecc(TpmsEccParms),
}

impl TpmuPublicParms {
    /// Reads the parameters for object type `selector` (already checked as a
    /// TPMI_ALG_PUBLIC); another selector is `TPM_RC_SELECTOR`.
    pub fn unmarshal_with(
        selector: TpmiAlgPublic,
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
    ) -> TpmResult<Self> {
        Ok(match selector.0 {
            TpmAlgId::KEYEDHASH => {
                TpmuPublicParms::KeyedHash(TpmsKeyedHashParms::unmarshal_in(r, table)?)
            }
            TpmAlgId::SYMCIPHER => {
                TpmuPublicParms::SymCipher(TpmsSymCipherParms::unmarshal_in(r, table)?)
            }
            TpmAlgId::RSA => TpmuPublicParms::Rsa(TpmsRsaParms::unmarshal_in(r, table)?),
            TpmAlgId::ECC => TpmuPublicParms::Ecc(TpmsEccParms::unmarshal_in(r, table)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// The object type these parameters belong to.
    pub fn object_type(&self) -> TpmiAlgPublic {
        TpmiAlgPublic(match self {
            TpmuPublicParms::KeyedHash(_) => TpmAlgId::KEYEDHASH,
            TpmuPublicParms::SymCipher(_) => TpmAlgId::SYMCIPHER,
            TpmuPublicParms::Rsa(_) => TpmAlgId::RSA,
            TpmuPublicParms::Ecc(_) => TpmAlgId::ECC,
        })
    }
}

/// The union without its selector.
impl Marshal for TpmuPublicParms {
    fn marshal(&self, w: &mut Writer) {
        match self {
            TpmuPublicParms::KeyedHash(p) => p.marshal(w),
            TpmuPublicParms::SymCipher(p) => p.marshal(w),
            TpmuPublicParms::Rsa(p) => p.marshal(w),
            TpmuPublicParms::Ecc(p) => p.marshal(w),
        }
    }
}

/// TPMT_PUBLIC_PARMS — Part 2, 12.2.3.8: an object type and its parameters (the
/// TestParms input). The type is implied by the parameters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmtPublicParms(pub TpmuPublicParms);

impl TpmtPublicParms {
    /// Reads the structure, checked against `table`.
    pub fn unmarshal_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<Self> {
        let selector = TpmiAlgPublic::unmarshal_in(r, table)?;
        TpmuPublicParms::unmarshal_with(selector, r, table).map(TpmtPublicParms)
    }
}

impl Marshal for TpmtPublicParms {
    fn marshal(&self, w: &mut Writer) {
        self.0.object_type().marshal(w);
        self.0.marshal(w);
    }
}

/// MAX_RSA_KEY_BYTES: the largest RSA modulus this TPM handles, in octets.
pub const MAX_RSA_KEY_BYTES: usize = 384;
/// MAX_ECC_KEY_BYTES: the largest ECC coordinate or scalar (P-384), in octets.
pub const MAX_ECC_KEY_BYTES: usize = 48;
/// LABEL_MAX_BUFFER: the largest label or context of a TPMS_DERIVE.
pub const LABEL_MAX_BUFFER: usize = 32;

/// TPM2B_PUBLIC_KEY_RSA — Part 2, 11.2.4.5: an RSA modulus.
pub type Tpm2bPublicKeyRsa = Tpm2b<MAX_RSA_KEY_BYTES>;
/// TPM2B_ECC_PARAMETER — Part 2, 11.2.5.1: an ECC coordinate or scalar.
pub type Tpm2bEccParameter = Tpm2b<MAX_ECC_KEY_BYTES>;
/// TPM2B_LABEL — Part 2, 11.1.15.
pub type Tpm2bLabel = Tpm2b<LABEL_MAX_BUFFER>;

/// TPMA_OBJECT — Part 2, 8.3: the attributes of an object. Bits 0, 3, 8-9,
/// 12-15 and 20-31 are reserved; an input with one of them set is
/// `TPM_RC_RESERVED_BITS`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmaObject(pub u32);

impl TpmaObject {
    /// fixedTPM: the hierarchy of the object may not change (no duplication).
    pub const FIXED_TPM: TpmaObject = TpmaObject(1 << 1);
    /// stClear: the object may not be context-loaded after a TPM Restart.
    pub const ST_CLEAR: TpmaObject = TpmaObject(1 << 2);
    /// fixedParent: the parent of the object may not change.
    pub const FIXED_PARENT: TpmaObject = TpmaObject(1 << 4);
    /// sensitiveDataOrigin: the TPM generated the sensitive data (not the caller).
    pub const SENSITIVE_DATA_ORIGIN: TpmaObject = TpmaObject(1 << 5);
    /// userWithAuth: USER role may use the authValue (or a policy).
    pub const USER_WITH_AUTH: TpmaObject = TpmaObject(1 << 6);
    /// adminWithPolicy: ADMIN role needs a policy session.
    pub const ADMIN_WITH_POLICY: TpmaObject = TpmaObject(1 << 7);
    /// noDA: authorization failures do not count toward lockout.
    pub const NO_DA: TpmaObject = TpmaObject(1 << 10);
    /// encryptedDuplication: duplication needs an inner and an outer wrapper.
    pub const ENCRYPTED_DUPLICATION: TpmaObject = TpmaObject(1 << 11);
    /// restricted: key usage is restricted to TPM-produced structures.
    pub const RESTRICTED: TpmaObject = TpmaObject(1 << 16);
    /// decrypt: a decryption (or, with restricted, a storage) key.
    pub const DECRYPT: TpmaObject = TpmaObject(1 << 17);
    /// sign / encrypt: a signing key (or, for a symmetric cipher, encryption).
    pub const SIGN_ENCRYPT: TpmaObject = TpmaObject(1 << 18);
    /// x509sign: the key may only sign X.509 certificates (TPM2_CertifyX509).
    pub const X509_SIGN: TpmaObject = TpmaObject(1 << 19);
    /// The reserved bits.
    pub const RESERVED: u32 = 0xFFF0_F309;

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: TpmaObject) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of `self` and `other`.
    pub const fn with(self, other: TpmaObject) -> TpmaObject {
        TpmaObject(self.0 | other.0)
    }

    /// `self` without the bits of `other`.
    pub const fn without(self, other: TpmaObject) -> TpmaObject {
        TpmaObject(self.0 & !other.0)
    }

    /// fixedTPM
    pub const fn fixed_tpm(self) -> bool {
        self.contains(Self::FIXED_TPM)
    }
    /// stClear
    pub const fn st_clear(self) -> bool {
        self.contains(Self::ST_CLEAR)
    }
    /// fixedParent
    pub const fn fixed_parent(self) -> bool {
        self.contains(Self::FIXED_PARENT)
    }
    /// sensitiveDataOrigin
    pub const fn sensitive_data_origin(self) -> bool {
        self.contains(Self::SENSITIVE_DATA_ORIGIN)
    }
    /// userWithAuth
    pub const fn user_with_auth(self) -> bool {
        self.contains(Self::USER_WITH_AUTH)
    }
    /// adminWithPolicy
    pub const fn admin_with_policy(self) -> bool {
        self.contains(Self::ADMIN_WITH_POLICY)
    }
    /// noDA
    pub const fn no_da(self) -> bool {
        self.contains(Self::NO_DA)
    }
    /// encryptedDuplication
    pub const fn encrypted_duplication(self) -> bool {
        self.contains(Self::ENCRYPTED_DUPLICATION)
    }
    /// restricted
    pub const fn restricted(self) -> bool {
        self.contains(Self::RESTRICTED)
    }
    /// decrypt
    pub const fn decrypt(self) -> bool {
        self.contains(Self::DECRYPT)
    }
    /// sign / encrypt
    pub const fn sign(self) -> bool {
        self.contains(Self::SIGN_ENCRYPT)
    }
}

impl Marshal for TpmaObject {
    fn marshal(&self, w: &mut Writer) {
        w.u32(self.0)
    }
}

impl Unmarshal for TpmaObject {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let v = r.u32()?;
        if v & TpmaObject::RESERVED != 0 {
            return Err(TpmRc::RESERVED_BITS);
        }
        Ok(TpmaObject(v))
    }
}

/// TPMS_ECC_POINT — Part 2, 11.2.5.2: a point in affine coordinates.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TpmsEccPoint {
    /// x coordinate
    pub x: Tpm2bEccParameter,
    /// y coordinate
    pub y: Tpm2bEccParameter,
}

impl Marshal for TpmsEccPoint {
    fn marshal(&self, w: &mut Writer) {
        self.x.marshal(w);
        self.y.marshal(w);
    }
}

impl Unmarshal for TpmsEccPoint {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TpmsEccPoint {
            x: Tpm2bEccParameter::unmarshal(r)?,
            y: Tpm2bEccParameter::unmarshal(r)?,
        })
    }
}

/// TPMS_DERIVE — Part 2, 11.1.16: the label and context of a derived object (in
/// place of the unique field of a CreateLoaded template under a derivation parent).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TpmsDerive {
    /// label
    pub label: Tpm2bLabel,
    /// context
    pub context: Tpm2bLabel,
}

impl Marshal for TpmsDerive {
    fn marshal(&self, w: &mut Writer) {
        self.label.marshal(w);
        self.context.marshal(w);
    }
}

impl Unmarshal for TpmsDerive {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TpmsDerive {
            label: Tpm2bLabel::unmarshal(r)?,
            context: Tpm2bLabel::unmarshal(r)?,
        })
    }
}

/// TPMU_PUBLIC_ID — Part 2, 12.2.3.2: the unique identifier of an object (the
/// public key, or the digest binding a symmetric object's secret). Its selector is
/// the `type` of the enclosing TPMT_PUBLIC.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TpmuPublicId {
    /// TPM_ALG_KEYEDHASH: TPM2B_DIGEST
    KeyedHash(Tpm2bDigest),
    /// TPM_ALG_SYMCIPHER: TPM2B_DIGEST
    Sym(Tpm2bDigest),
    /// TPM_ALG_RSA: the modulus
    Rsa(Tpm2bPublicKeyRsa),
    /// TPM_ALG_ECC: the public point
    Ecc(TpmsEccPoint),
}

impl TpmuPublicId {
    /// Reads the identifier for object type `selector`.
    pub fn unmarshal_with(selector: TpmiAlgPublic, r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(match selector.0 {
            TpmAlgId::KEYEDHASH => TpmuPublicId::KeyedHash(Tpm2bDigest::unmarshal(r)?),
            TpmAlgId::SYMCIPHER => TpmuPublicId::Sym(Tpm2bDigest::unmarshal(r)?),
            TpmAlgId::RSA => TpmuPublicId::Rsa(Tpm2bPublicKeyRsa::unmarshal(r)?),
            TpmAlgId::ECC => TpmuPublicId::Ecc(TpmsEccPoint::unmarshal(r)?),
            _ => return Err(TpmRc::SELECTOR),
        })
    }

    /// An empty identifier for object type `selector` (RSA for an unknown type).
    pub fn empty_for(selector: TpmAlgId) -> Self {
        match selector {
            TpmAlgId::KEYEDHASH => TpmuPublicId::KeyedHash(Tpm2bDigest::empty()),
            TpmAlgId::SYMCIPHER => TpmuPublicId::Sym(Tpm2bDigest::empty()),
            TpmAlgId::ECC => TpmuPublicId::Ecc(TpmsEccPoint::default()),
            _ => TpmuPublicId::Rsa(Tpm2bPublicKeyRsa::empty()),
        }
    }
}

/// The union without its selector.
impl Marshal for TpmuPublicId {
    fn marshal(&self, w: &mut Writer) {
        match self {
            TpmuPublicId::KeyedHash(d) | TpmuPublicId::Sym(d) => d.marshal(w),
            TpmuPublicId::Rsa(n) => n.marshal(w),
            TpmuPublicId::Ecc(p) => p.marshal(w),
        }
    }
}

/// TPMT_PUBLIC — Part 2, 12.2.4: the public area of an object. The object type is
/// implied by `parameters` (and `unique` always matches it). `name_alg` is `None`
/// for TPM_ALG_NULL, which only TPM2_LoadExternal accepts (the `+` on nameAlg).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TpmtPublic {
    /// nameAlg (TPMI_ALG_HASH+)
    pub name_alg: Option<HashAlg>,
    /// objectAttributes
    pub object_attributes: TpmaObject,
    /// authPolicy
    pub auth_policy: Tpm2bDigest,
    /// parameters (TPMU_PUBLIC_PARMS)
    pub parameters: TpmuPublicParms,
    /// unique (TPMU_PUBLIC_ID)
    pub unique: TpmuPublicId,
}

impl TpmtPublic {
    /// The object type (TPMI_ALG_PUBLIC).
    pub fn object_type(&self) -> TpmAlgId {
        self.parameters.object_type().0
    }

    /// Reads a public area checked against `table`; `allow_null_name` accepts
    /// TPM_ALG_NULL as nameAlg. Errors: `TPM_RC_TYPE` (type), `TPM_RC_HASH`
    /// (nameAlg), `TPM_RC_RESERVED_BITS` (objectAttributes), `TPM_RC_SIZE`
    /// (authPolicy or unique too long), and the parameter codes.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null_name: bool,
    ) -> TpmResult<Self> {
        let (public, _) = Self::unmarshal_parts(r, table, allow_null_name, false)?;
        Ok(public)
    }

    /// Reads a public area whose unique field is either a TPMU_PUBLIC_ID or, when
    /// `derive` is set, a TPMS_DERIVE (the TPM2B_TEMPLATE of TPM2_CreateLoaded
    /// under a derivation parent). A derived template gets an empty unique field.
    pub fn unmarshal_parts(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null_name: bool,
        derive: bool,
    ) -> TpmResult<(Self, Option<TpmsDerive>)> {
        let selector = TpmiAlgPublic::unmarshal_in(r, table)?;
        let id = TpmAlgId::unmarshal(r)?;
        let name_alg = if id == TpmAlgId::NULL {
            if !allow_null_name {
                return Err(TpmRc::HASH);
            }
            None
        } else {
            match HashAlg::from_alg_id(id) {
                Some(h) if table.implements(id) => Some(h),
                _ => return Err(TpmRc::HASH),
            }
        };
        let object_attributes = TpmaObject::unmarshal(r)?;
        let auth_policy = Tpm2bDigest::unmarshal(r)?;
        let parameters = TpmuPublicParms::unmarshal_with(selector, r, table)?;
        let (unique, derivation) = if derive {
            (
                TpmuPublicId::empty_for(selector.0),
                Some(TpmsDerive::unmarshal(r)?),
            )
        } else {
            (TpmuPublicId::unmarshal_with(selector, r)?, None)
        };
        Ok((
            TpmtPublic {
                name_alg,
                object_attributes,
                auth_policy,
                parameters,
                unique,
            },
            derivation,
        ))
    }

    /// The Name of an object with this public area (Part 1, 16):
    /// nameAlg || H_nameAlg(TPMT_PUBLIC); empty when nameAlg is TPM_ALG_NULL.
    pub fn name(&self) -> Vec<u8> {
        let Some(alg) = self.name_alg else {
            return Vec::new();
        };
        let mut name = alg.to_bytes();
        name.extend_from_slice(&alg.digest(&self.to_bytes()));
        name
    }
}

impl Marshal for TpmtPublic {
    fn marshal(&self, w: &mut Writer) {
        self.parameters.object_type().marshal(w);
        match self.name_alg {
            Some(h) => h.marshal(w),
            None => TpmAlgId::NULL.marshal(w),
        }
        self.object_attributes.marshal(w);
        self.auth_policy.marshal(w);
        self.parameters.marshal(w);
        self.unique.marshal(w);
    }
}

/// Reads a TPM2B wrapping a structure: the size may not be zero and must match the
/// structure exactly (`TPM_RC_SIZE`).
fn sized<T>(r: &mut Reader<'_>, f: impl FnOnce(&mut Reader<'_>) -> TpmResult<T>) -> TpmResult<T> {
    let size = usize::from(r.u16()?);
    if size == 0 {
        return Err(TpmRc::SIZE);
    }
    let mut sub = r.sub(size)?;
    let v = f(&mut sub)?;
    sub.finish()?;
    Ok(v)
}

/// Writes `v` as a TPM2B (size then the encoding).
pub fn marshal_sized<T: Marshal + ?Sized>(v: &T, w: &mut Writer) {
    w.tpm2b(&v.to_bytes());
}

/// TPM2B_PUBLIC — Part 2, 12.2.5: a public area with a size; nameAlg may not be
/// TPM_ALG_NULL. A zero size or one that does not match the area is `TPM_RC_SIZE`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tpm2bPublic(pub TpmtPublic);

impl Tpm2bPublic {
    /// Reads the structure checked against `table`.
    pub fn unmarshal_in(
        r: &mut Reader<'_>,
        table: &AlgorithmTable,
        allow_null_name: bool,
    ) -> TpmResult<Self> {
        sized(r, |s| TpmtPublic::unmarshal_in(s, table, allow_null_name)).map(Tpm2bPublic)
    }
}

impl Marshal for Tpm2bPublic {
    fn marshal(&self, w: &mut Writer) {
        marshal_sized(&self.0, w)
    }
}

/// TPM2B_PUBLIC with TPMT_PUBLIC+ inside (TPM2_LoadExternal): nameAlg may be
/// TPM_ALG_NULL.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tpm2bPublicNullName(pub TpmtPublic);

/// TPM2B_TEMPLATE — Part 2, 12.2.6: a marshaled TPMT_PUBLIC that TPM2_CreateLoaded
/// parses itself (its unique field may be a TPMS_DERIVE). At most
/// [`MAX_TEMPLATE_SIZE`] octets.
pub type Tpm2bTemplate = Tpm2b<MAX_TEMPLATE_SIZE>;

/// The largest marshaled TPMT_PUBLIC (sizeof(TPMT_PUBLIC) in the template): type,
/// nameAlg, attributes, authPolicy, the largest parameters and the largest unique.
pub const MAX_TEMPLATE_SIZE: usize = 2 + 2 + 4 + (2 + 64) + 18 + (2 + MAX_RSA_KEY_BYTES);

macro_rules! engine_unmarshal {
    ($($t:ty),*) => {$(
        /// Checked against the engine's algorithm table.
        impl Unmarshal for $t {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
                <$t>::unmarshal_in(r, &IMPLEMENTED)
            }
        }
    )*};
}

engine_unmarshal!(
    TpmiAlgPublic,
    TpmsKeyedHashParms,
    TpmsSymCipherParms,
    TpmsRsaParms,
    TpmsEccParms,
    TpmtPublicParms
);

impl Unmarshal for TpmtPublic {
    /// Checked against the engine's algorithm table; nameAlg may not be NULL.
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        TpmtPublic::unmarshal_in(r, &IMPLEMENTED, false)
    }
}

impl Unmarshal for Tpm2bPublic {
    /// Checked against the engine's algorithm table; nameAlg may not be NULL.
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Tpm2bPublic::unmarshal_in(r, &IMPLEMENTED, false)
    }
}

impl Unmarshal for Tpm2bPublicNullName {
    /// Checked against the engine's algorithm table; nameAlg may be NULL.
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Tpm2bPublic::unmarshal_in(r, &IMPLEMENTED, true).map(|p| Tpm2bPublicNullName(p.0))
    }
}

#[cfg(test)]
mod tests;
