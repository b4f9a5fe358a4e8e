//! TPM2_MakeCredential and TPM2_ActivateCredential, driven with command bytes;
//! one credential blob is built independently (RustCrypto OAEP, AES-CFB, HMAC).

use alloc::vec;
use alloc::vec::Vec;

use aes::cipher::KeyIvInit;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::crypto::kdf::kdfa;
use crate::marshal::Reader;
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::public::{TpmtPublic, TpmuPublicId};

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn put_2b(w: &mut crate::marshal::Writer, b: &[u8]) {
    w.u16(u16::try_from(b.len()).unwrap());
    w.bytes(b);
}

fn make(t: &mut Tpm, p: &mut TestPlatform, key: u32, cred: &[u8], name: &[u8]) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::MAKE_CREDENTIAL).handle(key).params(|w| {
            put_2b(w, cred);
            put_2b(w, name);
        }),
    )
}

/// MakeCredential output: (credentialBlob contents, secret contents).
fn parse_make(r: &Resp) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let mut rd = Reader::new(&r.body);
    let blob = take_2b(&mut rd)[2..].to_vec();
    let secret = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    (blob, secret)
}

fn activate(
    t: &mut Tpm,
    p: &mut TestPlatform,
    obj: u32,
    key: u32,
    blob: &[u8],
    secret: &[u8],
) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::ACTIVATE_CREDENTIAL)
            .handle(obj)
            .handle(key)
            .pw(b"")
            .pw(b"")
            .params(|w| {
                put_2b(w, blob);
                put_2b(w, secret);
            }),
    )
}

fn activated(r: &Resp) -> Vec<u8> {
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, params) = split(r, 0);
    let mut rd = Reader::new(&params);
    let c = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    c
}

/// (TPM, platform, credential key, its public, object handle, object name)
fn setup(tmpl: &TpmtPublic) -> (Tpm, TestPlatform, u32, TpmtPublic, u32, Vec<u8>) {
    let (mut t, mut p) = started();
    let (ek, ek_pub, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, tmpl);
    let srk = owner_srk(&mut t, &mut p);
    let obj = create_and_load(&mut t, &mut p, srk, &sens(b"", b""), &ecc_signing());
    let name = t.key(obj).unwrap().name();
    (t, p, ek, ek_pub, obj, name)
}

#[test]
fn round_trip_rsa_and_ecc() {
    for tmpl in [rsa_storage(), ecc_storage()] {
        let (mut t, mut p, ek, _, obj, name) = setup(&tmpl);
        let cred = b"a credential of 20 b";
        let (blob, secret) = parse_make(&make(&mut t, &mut p, ek, cred, &name));
        let r = activate(&mut t, &mut p, obj, ek, &blob, &secret);
        assert_eq!(activated(&r), cred);
        // Fresh seeds each time.
        let (blob2, secret2) = parse_make(&make(&mut t, &mut p, ek, cred, &name));
        assert_ne!(secret, secret2);
        assert_ne!(blob, blob2);
    }
}

type Cfb = cfb_mode::Encryptor<aes::Aes128>;

#[test]
fn activate_independent_blob() {
    let (mut t, mut p, ek, ek_pub, obj, name) = setup(&rsa_storage());
    let TpmuPublicId::Rsa(n) = &ek_pub.unique else {
        panic!()
    };
    let nb = n.as_slice();
    let pk = rsa::PublicKey::new(
        crypto_bigint::BoxedUint::from_be_slice(nb, u32::try_from(nb.len() * 8).unwrap()).unwrap(),
        crypto_bigint::BoxedUint::from(65537u64),
    )
    .unwrap();
    let seed = [0x42u8; 32];
    let mut f = |b: &mut [u8]| b.fill(7);
    let mut rng = crate::crypto::rng::FnRng(&mut f);
    let label: alloc::boxed::Box<[u8]> = b"IDENTITY\0".to_vec().into_boxed_slice();
    let secret = pk
        .encrypt(&mut rng, rsa::Oaep::<Sha256>::new_with_label(label), &seed)
        .unwrap();
    let cred = b"independent";
    let sym = kdfa(
        crate::crypto::hash::HashAlg::Sha256,
        &seed,
        b"STORAGE",
        &name,
        &[],
        128,
    );
    let mut enc = vec![0, cred.len() as u8];
    enc.extend_from_slice(cred);
    Cfb::new_from_slices(&sym, &[0u8; 16])
        .unwrap()
        .encrypt(&mut enc);
    let hkey = kdfa(
        crate::crypto::hash::HashAlg::Sha256,
        &seed,
        b"INTEGRITY",
        &[],
        &[],
        256,
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&hkey).unwrap();
    mac.update(&enc);
    mac.update(&name);
    let tag = mac.finalize().into_bytes();
    let mut blob = vec![0, 32];
    blob.extend_from_slice(&tag);
    blob.extend_from_slice(&enc);
    let r = activate(&mut t, &mut p, obj, ek, &blob, &secret);
    assert_eq!(activated(&r), cred);
}

#[test]
fn refusals() {
    let (mut t, mut p, ek, _, obj, name) = setup(&ecc_storage());
    let (blob, secret) = parse_make(&make(&mut t, &mut p, ek, b"cred", &name));
    // Tampered blob (encIdentity and integrity).
    for i in [1usize, 10, 35] {
        let mut bad = blob.clone();
        bad[i] ^= 1;
        let r = activate(&mut t, &mut p, obj, ek, &bad, &secret);
        assert!(
            r.rc == rc(TpmRc::INTEGRITY.at_param(1)) || r.rc == rc(TpmRc::SIZE.at_param(1)),
            "{:#x}",
            r.rc
        );
    }
    // Short blob.
    let r = activate(&mut t, &mut p, obj, ek, &blob[..5], &secret);
    assert_ne!(r.rc, 0);
    // Wrong object (another Name): integrity failure.
    let r = activate(&mut t, &mut p, ek, ek, &blob, &secret);
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(1)));
    // Secret off the curve.
    let mut bad = secret.clone();
    *bad.last_mut().unwrap() ^= 1;
    let r = activate(&mut t, &mut p, obj, ek, &blob, &bad);
    assert_eq!(r.rc, rc(TpmRc::ECC_POINT.at_param(2)));
    // keyHandle not a restricted decryption key.
    let r = activate(&mut t, &mut p, obj, obj, &blob, &secret);
    assert_eq!(r.rc, rc(TpmRc::TYPE.at_handle(2)));
    let r = make(&mut t, &mut p, obj, b"cred", &name);
    assert_eq!(r.rc, rc(TpmRc::TYPE.at_handle(1)));
    // Credential longer than the nameAlg digest.
    let r = make(&mut t, &mut p, ek, &[1u8; 33], &name);
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    // Wrong password for the activation object.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::ACTIVATE_CREDENTIAL)
            .handle(obj)
            .handle(ek)
            .pw(b"wrong")
            .pw(b"")
            .params(|w| {
                put_2b(w, &blob);
                put_2b(w, &secret);
            }),
    );
    assert_ne!(r.rc, 0);
    // Still works afterwards.
    let r = activate(&mut t, &mut p, obj, ek, &blob, &secret);
    assert_eq!(activated(&r), b"cred");
}

#[test]
fn make_with_public_only_key() {
    let (mut t, mut p, ek, _, obj, name) = setup(&rsa_storage());
    // Make room: flush the storage key (the second object loaded).
    let srk = 0x8000_0001;
    assert!(t.key(srk).is_some_and(|k| k.is_parent()));
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(srk)),
    );
    assert_eq!(r.rc, 0);
    let mut public_only = t.key(ek).unwrap().clone();
    public_only.sensitive = None;
    public_only.external = true;
    let h = t
        .objects
        .insert(crate::state::objects::Object::Key(public_only))
        .unwrap();
    let (blob, secret) = parse_make(&make(&mut t, &mut p, h, b"pub", &name));
    let r = activate(&mut t, &mut p, obj, ek, &blob, &secret);
    assert_eq!(activated(&r), b"pub");
    // A public-only key cannot activate.
    let r = activate(&mut t, &mut p, obj, h, &blob, &secret);
    assert_ne!(r.rc, 0);
}
