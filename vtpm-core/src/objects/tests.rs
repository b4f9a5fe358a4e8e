//! Object rules, Names, the private-area and context wrappers, and the pinned
//! primary-key derivation.

use alloc::vec;

use super::create::{generate, primary_rng, symmetric_unique};
use super::protect::{unwrap_private, wrap_private, ContextBinding};
use super::testkit::*;
use super::validate::{create_checks, keys, public_attributes};
use super::*;
use crate::rc::TpmRc;
use crate::types::public::*;
use crate::types::sensitive::{
    TpmsSensitiveCreate, TpmtSensitive, TpmuSensitiveComposite, SAVED_OBJECT, SAVED_ST_CLEAR,
};
use crate::types::sized::{Tpm2bDigest, Tpm2bSensitiveData};

fn with_attrs(mut t: TpmtPublic, a: TpmaObject) -> TpmtPublic {
    t.object_attributes = a;
    t
}

/// A parent object with a dummy sensitive area (enough for the rules).
fn parent_of(t: TpmtPublic) -> KeyObject {
    parent_with_seed(t, 1)
}

fn parent_with_seed(t: TpmtPublic, seed: u8) -> KeyObject {
    let s = TpmtSensitive {
        auth_value: Default::default(),
        seed_value: Tpm2bDigest::new(&[seed; 32]).unwrap(),
        sensitive: TpmuSensitiveComposite::Sym(Default::default()),
    };
    KeyObject::new(
        t,
        Some(s),
        &TpmRh::OWNER.0.to_be_bytes(),
        TpmRh::OWNER.0,
        false,
        false,
    )
}

#[test]
fn attribute_rules() {
    let ok = |t: &TpmtPublic| public_attributes(None, t);
    assert_eq!(ok(&ecc_storage()), Ok(()));
    assert_eq!(ok(&rsa_storage()), Ok(()));
    assert_eq!(ok(&aes_storage()), Ok(()));
    assert_eq!(ok(&sealed()), Ok(()));
    assert_eq!(ok(&hmac_key()), Ok(()));
    assert_eq!(ok(&ecc_signing()), Ok(()));
    let cases: &[(&str, TpmtPublic, TpmRc)] = &[
        (
            "fixedTPM without fixedParent",
            with_attrs(ecc_storage(), STORAGE.without(TpmaObject::FIXED_PARENT)),
            TpmRc::ATTRIBUTES,
        ),
        (
            "fixedParent without fixedTPM (primary)",
            with_attrs(ecc_storage(), STORAGE.without(TpmaObject::FIXED_TPM)),
            TpmRc::ATTRIBUTES,
        ),
        (
            "restricted sign and decrypt",
            with_attrs(ecc_storage(), STORAGE.with(TpmaObject::SIGN_ENCRYPT)),
            TpmRc::ATTRIBUTES,
        ),
        (
            "restricted neither",
            with_attrs(ecc_storage(), STORAGE.without(TpmaObject::DECRYPT)),
            TpmRc::ATTRIBUTES,
        ),
        (
            "asymmetric neither",
            with_attrs(
                ecc_signing(),
                ecc_signing()
                    .object_attributes
                    .without(TpmaObject::SIGN_ENCRYPT),
            ),
            TpmRc::ATTRIBUTES,
        ),
        (
            "fixedTPM and encryptedDuplication",
            with_attrs(
                ecc_storage(),
                STORAGE.with(TpmaObject::ENCRYPTED_DUPLICATION),
            ),
            TpmRc::ATTRIBUTES,
        ),
        (
            "nameAlg NULL",
            TpmtPublic {
                name_alg: None,
                ..ecc_storage()
            },
            TpmRc::HASH,
        ),
        (
            "authPolicy of the wrong size",
            TpmtPublic {
                auth_policy: Tpm2bDigest::new(&[0; 20]).unwrap(),
                ..ecc_storage()
            },
            TpmRc::SIZE,
        ),
        (
            "storage key without a symmetric algorithm",
            TpmtPublic {
                parameters: TpmuPublicParms::Ecc(TpmsEccParms {
                    symmetric: TpmtSymDefObject::Null,
                    scheme: TpmtEccScheme::Null,
                    curve_id: TpmEccCurve::NIST_P256,
                    kdf: TpmtKdfScheme::Null,
                }),
                ..ecc_storage()
            },
            TpmRc::SYMMETRIC,
        ),
        (
            "signing key with a symmetric algorithm",
            TpmtPublic {
                parameters: TpmuPublicParms::Ecc(TpmsEccParms {
                    symmetric: AES128CFB,
                    scheme: TpmtEccScheme::Ecdsa(HashAlg::Sha256),
                    curve_id: TpmEccCurve::NIST_P256,
                    kdf: TpmtKdfScheme::Null,
                }),
                ..ecc_signing()
            },
            TpmRc::SYMMETRIC,
        ),
        (
            "restricted signing key without a scheme",
            TpmtPublic {
                object_attributes: ecc_signing().object_attributes.with(TpmaObject::RESTRICTED),
                parameters: TpmuPublicParms::Ecc(TpmsEccParms {
                    symmetric: TpmtSymDefObject::Null,
                    scheme: TpmtEccScheme::Null,
                    curve_id: TpmEccCurve::NIST_P256,
                    kdf: TpmtKdfScheme::Null,
                }),
                ..ecc_signing()
            },
            TpmRc::SCHEME,
        ),
        (
            "signing key with a decryption scheme",
            TpmtPublic {
                parameters: TpmuPublicParms::Ecc(TpmsEccParms {
                    symmetric: TpmtSymDefObject::Null,
                    scheme: TpmtEccScheme::Ecdh(HashAlg::Sha256),
                    curve_id: TpmEccCurve::NIST_P256,
                    kdf: TpmtKdfScheme::Null,
                }),
                ..ecc_signing()
            },
            TpmRc::SCHEME,
        ),
        (
            "parent with a scheme",
            TpmtPublic {
                parameters: TpmuPublicParms::Rsa(TpmsRsaParms {
                    symmetric: AES128CFB,
                    scheme: TpmtRsaScheme::Oaep(HashAlg::Sha256),
                    key_bits: 2048,
                    exponent: 0,
                }),
                ..rsa_storage()
            },
            TpmRc::SCHEME,
        ),
        (
            "unrestricted decryption key with a signing scheme",
            TpmtPublic {
                object_attributes: STORAGE.without(TpmaObject::RESTRICTED),
                parameters: TpmuPublicParms::Rsa(TpmsRsaParms {
                    symmetric: TpmtSymDefObject::Null,
                    scheme: TpmtRsaScheme::Rsassa(HashAlg::Sha256),
                    key_bits: 2048,
                    exponent: 0,
                }),
                ..rsa_storage()
            },
            TpmRc::SCHEME,
        ),
        (
            "sign and decrypt with a scheme",
            TpmtPublic {
                object_attributes: ecc_signing().object_attributes.with(TpmaObject::DECRYPT),
                ..ecc_signing()
            },
            TpmRc::SCHEME,
        ),
        (
            "ECC key with a KDF",
            TpmtPublic {
                parameters: TpmuPublicParms::Ecc(TpmsEccParms {
                    symmetric: TpmtSymDefObject::Null,
                    scheme: TpmtEccScheme::Ecdsa(HashAlg::Sha256),
                    curve_id: TpmEccCurve::NIST_P256,
                    kdf: TpmtKdfScheme::Kdf1Sp800_108(HashAlg::Sha256),
                }),
                ..ecc_signing()
            },
            TpmRc::KDF,
        ),
        (
            "HMAC key without the HMAC scheme",
            TpmtPublic {
                parameters: sealed().parameters,
                ..hmac_key()
            },
            TpmRc::SCHEME,
        ),
        (
            "sealed data with a scheme",
            TpmtPublic {
                parameters: hmac_key().parameters,
                ..sealed()
            },
            TpmRc::SCHEME,
        ),
        (
            "decrypting keyed hash without XOR",
            TpmtPublic {
                object_attributes: FIXED.with(TpmaObject::DECRYPT),
                ..sealed()
            },
            TpmRc::SCHEME,
        ),
        (
            "derivation parent without SP800-108",
            TpmtPublic {
                parameters: TpmuPublicParms::KeyedHash(TpmsKeyedHashParms {
                    scheme: TpmtKeyedHashScheme::Xor {
                        hash_alg: HashAlg::Sha256,
                        kdf: TpmAlgId::MGF1,
                    },
                }),
                ..derivation_parent()
            },
            TpmRc::SCHEME,
        ),
        (
            "decrypting symmetric key with a MAC mode",
            TpmtPublic {
                parameters: TpmuPublicParms::SymCipher(TpmsSymCipherParms {
                    sym: TpmtSymDefObject::Cipher {
                        algorithm: TpmAlgId::AES,
                        key_bits: 128,
                        mode: TpmAlgId::CMAC,
                    },
                }),
                ..aes_key()
            },
            TpmRc::SCHEME,
        ),
    ];
    for (what, t, rc) in cases {
        assert_eq!(ok(t), Err(*rc), "{what}");
    }
    assert_eq!(ok(&derivation_parent()), Ok(()));
}

#[test]
fn rules_that_depend_on_the_parent() {
    let fixed_parent = parent_of(ecc_storage());
    assert_eq!(
        public_attributes(Some(&fixed_parent), &ecc_storage()),
        Ok(())
    );
    // A non-duplicable storage child must match its parent's nameAlg and cipher.
    let sha384 = TpmtPublic {
        name_alg: Some(HashAlg::Sha384),
        ..ecc_storage()
    };
    assert_eq!(
        public_attributes(Some(&fixed_parent), &sha384),
        Err(TpmRc::HASH)
    );
    let aes256 = TpmtPublic {
        parameters: TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: TpmtSymDefObject::Cipher {
                algorithm: TpmAlgId::AES,
                key_bits: 256,
                mode: TpmAlgId::CFB,
            },
            scheme: TpmtEccScheme::Null,
            curve_id: TpmEccCurve::NIST_P256,
            kdf: TpmtKdfScheme::Null,
        }),
        ..ecc_storage()
    };
    assert_eq!(
        public_attributes(Some(&fixed_parent), &aes256),
        Err(TpmRc::SYMMETRIC)
    );
    // ... but a duplicable one may differ.
    let dup = with_attrs(
        aes256.clone(),
        STORAGE
            .without(TpmaObject::FIXED_TPM)
            .without(TpmaObject::FIXED_PARENT),
    );
    assert_eq!(public_attributes(Some(&fixed_parent), &dup), Ok(()));
    // Under a duplicable parent: no fixedTPM, and the same encryptedDuplication.
    let dup_parent = parent_of(dup.clone());
    let child = with_attrs(ecc_signing(), ecc_signing().object_attributes);
    assert_eq!(
        public_attributes(Some(&dup_parent), &child),
        Err(TpmRc::ATTRIBUTES)
    );
    let child = with_attrs(
        ecc_signing(),
        ecc_signing()
            .object_attributes
            .without(TpmaObject::FIXED_TPM),
    );
    assert_eq!(public_attributes(Some(&dup_parent), &child), Ok(()));
    let child_ed = with_attrs(
        child.clone(),
        child
            .object_attributes
            .with(TpmaObject::ENCRYPTED_DUPLICATION),
    );
    assert_eq!(
        public_attributes(Some(&dup_parent), &child_ed),
        Err(TpmRc::ATTRIBUTES)
    );
    // Derived objects are fixedParent and share the parent's fixedTPM.
    let dparent = parent_of(derivation_parent());
    assert!(dparent.is_derivation_parent() && !dparent.is_parent());
    assert_eq!(public_attributes(Some(&dparent), &ecc_signing()), Ok(()));
    let not_fixed_parent = with_attrs(
        ecc_signing(),
        ecc_signing()
            .object_attributes
            .without(TpmaObject::FIXED_PARENT)
            .without(TpmaObject::FIXED_TPM),
    );
    assert_eq!(
        public_attributes(Some(&dparent), &not_fixed_parent),
        Err(TpmRc::ATTRIBUTES)
    );
}

#[test]
fn creation_rules() {
    let parent = parent_of(ecc_storage());
    // The TPM generates asymmetric keys.
    assert_eq!(create_checks(Some(&parent), &ecc_signing(), 0), Ok(()));
    assert_eq!(
        create_checks(Some(&parent), &ecc_signing(), 3),
        Err(TpmRc::ATTRIBUTES)
    );
    // A primary's data is extra derivation input.
    assert_eq!(create_checks(None, &ecc_storage(), 3), Ok(()));
    let from_caller = with_attrs(
        ecc_signing(),
        ecc_signing()
            .object_attributes
            .without(TpmaObject::SENSITIVE_DATA_ORIGIN),
    );
    assert_eq!(create_checks(None, &from_caller, 3), Err(TpmRc::ATTRIBUTES));
    // sensitiveDataOrigin CLEAR needs data.
    assert_eq!(
        create_checks(Some(&parent), &sealed(), 0),
        Err(TpmRc::ATTRIBUTES)
    );
    assert_eq!(create_checks(Some(&parent), &sealed(), 5), Ok(()));
    // Sealed data never comes from the TPM.
    let tpm_sealed = with_attrs(
        sealed(),
        sealed()
            .object_attributes
            .with(TpmaObject::SENSITIVE_DATA_ORIGIN),
    );
    assert_eq!(create_checks(None, &tpm_sealed, 5), Err(TpmRc::ATTRIBUTES));
    // A restricted symmetric key from the caller cannot be fixed.
    let given = with_attrs(
        aes_storage(),
        STORAGE.without(TpmaObject::SENSITIVE_DATA_ORIGIN),
    );
    assert_eq!(create_checks(None, &given, 16), Err(TpmRc::ATTRIBUTES));
    // An unrestricted one can.
    let given = with_attrs(
        aes_key(),
        aes_key()
            .object_attributes
            .without(TpmaObject::SENSITIVE_DATA_ORIGIN),
    );
    assert_eq!(create_checks(Some(&parent), &given, 16), Ok(()));
}

#[test]
fn names_and_qualified_names() {
    let t = sealed();
    let name = t.name();
    assert_eq!(&name[..2], &[0, 0x0B]);
    assert_eq!(&name[2..], &HashAlg::Sha256.digest(&t.to_bytes())[..]);
    let k = KeyObject::new(
        t.clone(),
        None,
        &[0x40, 0, 0, 1],
        TpmRh::OWNER.0,
        false,
        false,
    );
    let mut qn = vec![0, 0x0B];
    qn.extend_from_slice(&HashAlg::Sha256.digest_parts(&[&[0x40, 0, 0, 1], &name]));
    assert_eq!(k.qualified_name, qn);
    assert_eq!(k.name(), name);
    // An external object's QN is its Name; no nameAlg, no Name.
    let e = KeyObject::new(t.clone(), None, &[], TpmRh::NULL.0, false, true);
    assert_eq!(e.qualified_name, name);
    let none = TpmtPublic {
        name_alg: None,
        ..t
    };
    assert!(none.name().is_empty());
}

#[test]
fn key_object_serializes_through_tpm_structures() {
    let s = TpmtSensitive {
        auth_value: Tpm2bAuth::new(b"pw").unwrap(),
        seed_value: Tpm2bDigest::new(&[3; 32]).unwrap(),
        sensitive: TpmuSensitiveComposite::Bits(Tpm2bSensitiveData::new(b"secret").unwrap()),
    };
    let k = KeyObject::new(
        sealed(),
        Some(s),
        &[0x40, 0, 0, 1],
        TpmRh::OWNER.0,
        true,
        false,
    );
    let bytes = postcard::to_allocvec(&k).unwrap();
    let back: KeyObject = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back.public, k.public);
    assert_eq!(back.sensitive, k.sensitive);
    assert_eq!(back.name(), k.name());
    assert_eq!(back.qualified_name, k.qualified_name);
    assert!(back.st_clear);
    // A corrupted public area is refused, not misread.
    let mut bad = bytes.clone();
    bad[2] = 0x99;
    assert!(postcard::from_bytes::<KeyObject>(&bad).is_err());
}

fn sensitive_bits(data: &[u8]) -> TpmtSensitive {
    TpmtSensitive {
        auth_value: Tpm2bAuth::new(b"auth").unwrap(),
        seed_value: Tpm2bDigest::new(&[9; 32]).unwrap(),
        sensitive: TpmuSensitiveComposite::Bits(Tpm2bSensitiveData::new(data).unwrap()),
    }
}

#[test]
fn private_area_is_bound_to_parent_and_name() {
    let parent = parent_of(ecc_storage());
    let other = parent_with_seed(ecc_storage(), 2);
    let name = sealed().name();
    let s = sensitive_bits(b"the data");
    let iv = [7u8; 16];
    let blob = wrap_private(&parent, &name, &s, &iv).unwrap();
    // integrity (2 + 32), IV (2 + 16), then the encrypted TPM2B_SENSITIVE.
    assert_eq!(&blob[..2], &[0, 32]);
    assert_eq!(&blob[34..52], &[&[0u8, 16][..], &iv[..]].concat()[..]);
    assert_eq!(blob.len(), 34 + 18 + 2 + s.to_bytes().len());
    assert!(!blob.windows(8).any(|w| w == b"the data"));
    assert_eq!(unwrap_private(&parent, &name, &blob), Ok(s.clone()));
    // The same seed under another cipher size does not open it either.
    let aes256 = parent_of(TpmtPublic {
        parameters: TpmuPublicParms::SymCipher(TpmsSymCipherParms {
            sym: TpmtSymDefObject::Cipher {
                algorithm: TpmAlgId::AES,
                key_bits: 256,
                mode: TpmAlgId::CFB,
            },
        }),
        ..aes_storage()
    });
    assert_ne!(unwrap_private(&aes256, &name, &blob), Ok(s.clone()));
    // A different parent seed, a different name, any flipped bit: INTEGRITY.
    assert_eq!(unwrap_private(&other, &name, &blob), Err(TpmRc::INTEGRITY));
    assert_eq!(
        unwrap_private(&parent, &hmac_key().name(), &blob),
        Err(TpmRc::INTEGRITY)
    );
    for i in [0, 3, 40, blob.len() - 1] {
        let mut t = blob.clone();
        t[i] ^= 1;
        let r = unwrap_private(&parent, &name, &t);
        assert!(
            r == Err(TpmRc::INTEGRITY) || r == Err(TpmRc::SIZE),
            "{i}: {r:?}"
        );
    }
    assert_eq!(
        unwrap_private(&parent, &name, &blob[..1]),
        Err(TpmRc::INSUFFICIENT)
    );
}

#[test]
fn context_blob_binds_everything() {
    let proof = [5u8; 64];
    let b = ContextBinding {
        proof: &proof,
        total_resets: 3,
        restarts: 1,
        sequence: 9,
        saved_handle: SAVED_OBJECT,
    };
    let blob = b.seal(b"object bytes").unwrap();
    assert_eq!(&blob[..2], &[0, 64]);
    assert!(!blob.windows(6).any(|w| w == b"object"));
    assert_eq!(&b.open(&blob).unwrap()[..], b"object bytes");
    let variants = [
        ContextBinding {
            total_resets: 4,
            ..b
        },
        ContextBinding { sequence: 10, ..b },
        ContextBinding {
            saved_handle: SAVED_ST_CLEAR,
            ..b
        },
        ContextBinding {
            proof: &[6u8; 64],
            ..b
        },
    ];
    for v in &variants {
        assert_eq!(v.open(&blob).map(|_| ()), Err(TpmRc::INTEGRITY));
    }
    // restartCount only matters for stClear objects.
    assert!(ContextBinding { restarts: 2, ..b }.open(&blob).is_ok());
    let st = ContextBinding {
        saved_handle: SAVED_ST_CLEAR,
        ..b
    };
    let blob2 = st.seal(b"x").unwrap();
    assert_eq!(
        ContextBinding { restarts: 2, ..st }
            .open(&blob2)
            .map(|_| ()),
        Err(TpmRc::INTEGRITY)
    );
    let mut t = blob.clone();
    *t.last_mut().unwrap() ^= 0x80;
    assert_eq!(b.open(&t).map(|_| ()), Err(TpmRc::INTEGRITY));
    assert_eq!(b.open(&blob[..60]).map(|_| ()), Err(TpmRc::SIZE));
}

/// The secret of a test hierarchy (not any TPM's).
const SEED: [u8; 64] = [0x5A; 64];

fn derive(t: &TpmtPublic, data: &[u8]) -> (TpmtPublic, TpmtSensitive) {
    let mut public = t.clone();
    let sc = TpmsSensitiveCreate {
        user_auth: Default::default(),
        data: Tpm2bSensitiveData::new(data).unwrap(),
    };
    let mut rng = primary_rng(&SEED, t, data).unwrap();
    let s = generate(&mut public, &sc, &mut rng).unwrap();
    (public, s)
}

fn ecc_x(t: &TpmtPublic) -> Vec<u8> {
    match &t.unique {
        TpmuPublicId::Ecc(p) => p.x.as_slice().to_vec(),
        _ => panic!("not ecc"),
    }
}

#[test]
fn primary_derivation_is_deterministic_and_template_bound() {
    let (a, sa) = derive(&ecc_storage(), b"");
    let (b, sb) = derive(&ecc_storage(), b"");
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_eq!(keys(&a, Some(&sa), 2, 1), Ok(()));
    assert_eq!(sa.seed_value.len(), 32);
    // The unique field, the data and the attributes of the template all matter.
    let mut t = ecc_storage();
    t.unique = TpmuPublicId::Ecc(TpmsEccPoint {
        x: Tpm2bEccParameter::new(&[0; 32]).unwrap(),
        y: Tpm2bEccParameter::new(&[0; 32]).unwrap(),
    });
    assert_ne!(ecc_x(&derive(&t, b"").0), ecc_x(&a));
    assert_ne!(ecc_x(&derive(&ecc_storage(), b"x").0), ecc_x(&a));
    let noda = with_attrs(ecc_storage(), STORAGE.without(TpmaObject::NO_DA));
    assert_ne!(ecc_x(&derive(&noda, b"").0), ecc_x(&a));
    // A symmetric object's unique binds its key and seed.
    let (s, ss) = derive(&aes_storage(), b"");
    let TpmuPublicId::Sym(u) = &s.unique else {
        panic!()
    };
    assert_eq!(
        u.as_slice(),
        &symmetric_unique(&s, ss.seed_value.as_slice(), ss.sensitive.as_slice())[..]
    );
    assert_eq!(ss.sensitive.as_slice().len(), 16);
    assert_eq!(keys(&s, Some(&ss), 2, 1), Ok(()));
}

/// Pinned derivations: a dependency upgrade must not change these keys.
#[test]
fn primary_derivation_vectors() {
    let (ecc, _) = derive(&ecc_storage(), b"");
    assert_eq!(hex(&ecc_x(&ecc)[..16]), ECC_X);
    let (aes, _) = derive(&aes_storage(), b"");
    let TpmuPublicId::Sym(u) = &aes.unique else {
        panic!()
    };
    assert_eq!(hex(&u.as_slice()[..16]), AES_UNIQUE);
    let (rsa, rs) = derive(&rsa_storage(), b"");
    let TpmuPublicId::Rsa(n) = &rsa.unique else {
        panic!()
    };
    assert_eq!(n.len(), 256);
    assert_eq!(hex(&n.as_slice()[..16]), RSA_N);
    assert_eq!(keys(&rsa, Some(&rs), 2, 1), Ok(()));
}

/// First 16 octets of x of the ECC P-256 storage key from [`SEED`].
const ECC_X: &str = "3d348f5c4588c60781b73f7286d63e37";
/// First 16 octets of unique of the AES-128 storage key from [`SEED`].
const AES_UNIQUE: &str = "27c5b3d565e45d0a3b3ddae31157dbf4";
/// First 16 octets of n of the RSA-2048 storage key from [`SEED`].
const RSA_N: &str = "bf61ae4a206432945f01fc613886571d";

fn hex(b: &[u8]) -> alloc::string::String {
    b.iter().map(|x| alloc::format!("{x:02x}")).collect()
}

#[test]
fn key_checks() {
    let (ecc, es) = derive(&ecc_storage(), b"");
    // Public-only: point sizes and the curve.
    assert_eq!(keys(&ecc, None, 2, 1), Ok(()));
    let mut off = ecc.clone();
    if let TpmuPublicId::Ecc(p) = &mut off.unique {
        p.y = Tpm2bEccParameter::new(&[1; 32]).unwrap();
    }
    assert_eq!(keys(&off, None, 2, 1), Err(TpmRc::ECC_POINT.at_param(2)));
    let mut short = ecc.clone();
    if let TpmuPublicId::Ecc(p) = &mut short.unique {
        p.x = Tpm2bEccParameter::new(&[1; 31]).unwrap();
    }
    assert_eq!(keys(&short, None, 2, 1), Err(TpmRc::KEY.at_param(2)));
    // With the sensitive area: binding, type, authValue size, parent seed size.
    assert_eq!(keys(&off, Some(&es), 2, 1), Err(TpmRc::BINDING));
    let (aes, as_) = derive(&aes_storage(), b"");
    assert_eq!(keys(&ecc, Some(&as_), 2, 1), Err(TpmRc::TYPE.at_param(1)));
    let mut long_auth = es.clone();
    long_auth.auth_value = Tpm2bAuth::new(&[1; 33]).unwrap();
    assert_eq!(
        keys(&ecc, Some(&long_auth), 2, 1),
        Err(TpmRc::SIZE.at_param(1))
    );
    let mut short_seed = es.clone();
    short_seed.seed_value = Tpm2bDigest::new(&[1; 15]).unwrap();
    assert_eq!(
        keys(&ecc, Some(&short_seed), 2, 1),
        Err(TpmRc::SIZE.at_param(1))
    );
    let mut other_key = as_.clone();
    other_key.sensitive = TpmuSensitiveComposite::Sym(Tpm2bSymKey::new(&[0; 16]).unwrap());
    assert_eq!(keys(&aes, Some(&other_key), 2, 1), Err(TpmRc::BINDING));
    let mut bad_size = as_.clone();
    bad_size.sensitive = TpmuSensitiveComposite::Sym(Tpm2bSymKey::new(&[0; 32]).unwrap());
    assert_eq!(
        keys(&aes, Some(&bad_size), 2, 1),
        Err(TpmRc::KEY_SIZE.at_param(1))
    );
    // A public-only symmetric object needs a digest-sized unique.
    assert_eq!(keys(&aes, None, 2, 1), Ok(()));
    assert_eq!(
        keys(&aes_storage(), None, 2, 1),
        Err(TpmRc::KEY.at_param(2))
    );
}

use crate::crypto::hash::HashAlg;
use crate::types::constants::{TpmAlgId, TpmRh};
use crate::types::sensitive::Tpm2bSymKey;
use crate::types::sized::Tpm2bAuth;
use alloc::vec::Vec;
