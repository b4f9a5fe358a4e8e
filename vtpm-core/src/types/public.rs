//! Algorithm parameters of objects: the parts of TPMT_PUBLIC that say what kind of
//! key an object is (Part 2, 11.1 symmetric definitions and keyed-hash schemes,
//! 11.2.3 KDF schemes, 11.2.4 RSA schemes, 11.2.5 ECC schemes, 12.2.3 public-area
//! parameters):
//! TPMT_SYM_DEF_OBJECT, TPMT_KEYEDHASH_SCHEME, TPMT_KDF_SCHEME, TPMT_RSA_SCHEME,
//! TPMT_ECC_SCHEME, TPMS_KEYEDHASH_PARMS, TPMS_SYMCIPHER_PARMS, TPMS_RSA_PARMS,
//! TPMS_ECC_PARMS, TPMU_PUBLIC_PARMS and TPMT_PUBLIC_PARMS.
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

use crate::crypto::algorithms::{AlgorithmTable, IMPLEMENTED};
use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;

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
fn alg_in(
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
fn hash_in(r: &mut Reader<'_>, table: &AlgorithmTable) -> TpmResult<HashAlg> {
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

#[cfg(test)]
mod tests;
