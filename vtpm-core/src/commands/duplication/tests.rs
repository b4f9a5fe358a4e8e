//! TPM2_Duplicate, TPM2_Rewrap and TPM2_Import, driven with command bytes
//! between two TPMs manufactured from different seeds. The blob layout is
//! checked independently (RustCrypto AES-CFB, SHA-256, HMAC, RSA-OAEP).

use alloc::vec;
use alloc::vec::Vec;

use aes::cipher::KeyIvInit;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmRh, TpmSt};
use crate::types::public::{Tpm2bPublic, TpmaObject, TpmtPublic, TpmuPublicId};
use crate::types::sensitive::Tpm2bSensitive;
use crate::types::sized::Tpm2bDigest;

type CfbEnc = cfb_mode::Encryptor<aes::Aes128>;
type CfbDec = cfb_mode::Decryptor<aes::Aes128>;

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn tpm_with_seed(seed: u64) -> (Tpm, TestPlatform) {
    let mut p = TestPlatform::new(seed);
    let mut t = Tpm::manufacture(&mut p);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    (t, p)
}

/// H(0 || TPM_CC_PolicyCommandCode || TPM_CC_Duplicate)
fn dup_policy() -> Vec<u8> {
    sha256(&[
        &[0u8; 32],
        &TpmCc::POLICY_COMMAND_CODE.0.to_be_bytes(),
        &TpmCc::DUPLICATE.0.to_be_bytes(),
    ])
}

/// A sealed object that may be duplicated (fixedTPM and fixedParent CLEAR)
/// with authPolicy = dup_policy().
fn duplicable_sealed() -> TpmtPublic {
    let mut t = sealed();
    t.object_attributes = t
        .object_attributes
        .without(TpmaObject::FIXED_TPM)
        .without(TpmaObject::FIXED_PARENT);
    t.auth_policy = Tpm2bDigest::new(&dup_policy()).unwrap();
    t
}

fn flush(t: &mut Tpm, p: &mut TestPlatform, h: u32) {
    let r = run(t, p, &Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(h)));
    assert_eq!(r.rc, 0, "flush {:#x}", r.rc);
}

/// Source TPM state: the object to duplicate (loaded), its public area and Name.
struct Source {
    t: Tpm,
    p: TestPlatform,
    obj: u32,
    public: TpmtPublic,
    name: Vec<u8>,
}

fn source_with(tmpl: &TpmtPublic, data: &[u8]) -> Source {
    let (mut t, mut p) = tpm_with_seed(7);
    let srk = owner_srk(&mut t, &mut p);
    let obj = create_and_load(&mut t, &mut p, srk, &sens(b"objpw", data), tmpl);
    flush(&mut t, &mut p, srk);
    let public = t.key(obj).unwrap().public.clone();
    let name = t.key(obj).unwrap().name();
    Source {
        t,
        p,
        obj,
        public,
        name,
    }
}

fn source() -> Source {
    source_with(&duplicable_sealed(), b"the secret")
}

/// Loads a public area into `t` with TPM2_LoadExternal (NULL hierarchy).
fn load_public(t: &mut Tpm, p: &mut TestPlatform, public: &TpmtPublic) -> u32 {
    let pb = Tpm2bPublic(public.clone()).to_bytes();
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::LOAD_EXTERNAL).params(|w| {
            w.u16(0);
            w.bytes(&pb);
            w.u32(TpmRh::NULL.0);
        }),
    );
    assert_eq!(r.rc, 0, "load external {:#x}", r.rc);
    u32::from_be_bytes(r.body[0..4].try_into().unwrap())
}

/// A SHA-256 policy session with PolicyCommandCode(TPM_CC_Duplicate).
fn dup_session(t: &mut Tpm, p: &mut TestPlatform) -> u32 {
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(|w| {
            w.tpm2b(&[7u8; 16]);
            w.tpm2b(b"");
            w.u8(0x01);
            w.u16(0x0010);
            w.u16(0x000B);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let s = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_COMMAND_CODE)
            .handle(s)
            .params(|w| w.u32(TpmCc::DUPLICATE.0)),
    );
    assert_eq!(r.rc, 0);
    s
}

/// The bytes of a command authorized by one session with an empty hmac.
fn with_session(c: TpmCc, handles: &[u32], session: u32, params: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u16(TpmSt::SESSIONS.0);
    w.u32(0);
    w.u32(c.0);
    for h in handles {
        w.u32(*h);
    }
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(&[9u8; 16]);
    a.u8(0);
    a.tpm2b(b"");
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut b = w.into_vec();
    let n = b.len() as u32;
    b[2..6].copy_from_slice(&n.to_be_bytes());
    b
}

fn aes128cfb(w: &mut Writer) {
    w.u16(0x0006);
    w.u16(128);
    w.u16(0x0043);
}

/// TPM2_Duplicate authorized by a fresh policy session; `inner`: Some(key)
/// (possibly empty) for an AES-128-CFB inner wrapper.
fn duplicate(
    t: &mut Tpm,
    p: &mut TestPlatform,
    obj: u32,
    new_parent: u32,
    inner: Option<&[u8]>,
) -> Resp {
    let s = dup_session(t, p);
    let mut w = Writer::new();
    match inner {
        Some(k) => {
            w.tpm2b(k);
            aes128cfb(&mut w);
        }
        None => {
            w.tpm2b(b"");
            w.u16(0x0010);
        }
    }
    let r = run_at(
        t,
        p,
        0,
        &with_session(TpmCc::DUPLICATE, &[obj, new_parent], s, w.as_slice()),
    );
    if r.rc != 0 {
        flush(t, p, s);
    }
    r
}

/// Duplicate output: (encryptionKeyOut, duplicate, outSymSeed) contents.
fn parse3(r: &Resp) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (_, params) = split(r, 0);
    let mut rd = Reader::new(&params);
    let k = take_2b(&mut rd)[2..].to_vec();
    let d = take_2b(&mut rd)[2..].to_vec();
    let s = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    (k, d, s)
}

#[allow(clippy::too_many_arguments)]
fn import(
    t: &mut Tpm,
    p: &mut TestPlatform,
    parent: u32,
    key: &[u8],
    public: &TpmtPublic,
    dup: &[u8],
    seed: &[u8],
    inner: bool,
) -> Resp {
    let pb = Tpm2bPublic(public.clone()).to_bytes();
    run(
        t,
        p,
        &Cmd::new(TpmCc::IMPORT).handle(parent).pw(b"").params(|w| {
            w.tpm2b(key);
            w.bytes(&pb);
            w.tpm2b(dup);
            w.tpm2b(seed);
            if inner {
                aes128cfb(w);
            } else {
                w.u16(0x0010);
            }
        }),
    )
}

/// Import, then TPM2_Load and TPM2_Unseal (password "objpw"): the sealed data.
#[allow(clippy::too_many_arguments)]
fn import_load_unseal(
    t: &mut Tpm,
    p: &mut TestPlatform,
    parent: u32,
    key: &[u8],
    public: &TpmtPublic,
    dup: &[u8],
    seed: &[u8],
    inner: bool,
) -> Vec<u8> {
    let r = import(t, p, parent, key, public, dup, seed, inner);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    let private = take_2b(&mut rd);
    assert!(rd.is_empty());
    let pb = Tpm2bPublic(public.clone()).to_bytes();
    let r = run(t, p, &load_cmd(parent, &private, &pb));
    let (hs, params) = split(&r, 1);
    assert_eq!(&params[2..], public.name().as_slice());
    let r = run(t, p, &Cmd::new(TpmCc::UNSEAL).handle(hs[0]).pw(b"objpw"));
    let (_, params) = split(&r, 0);
    flush(t, p, hs[0]);
    params[2..].to_vec()
}

/// The destination TPM with a storage parent: (tpm, platform, parent, public).
fn destination(seed: u64, tmpl: &TpmtPublic) -> (Tpm, TestPlatform, u32, TpmtPublic) {
    let (mut t, mut p) = tpm_with_seed(seed);
    let (h, public, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, tmpl);
    (t, p, h, public)
}

#[test]
fn duplicate_and_import_across_tpms() {
    for tmpl in [rsa_storage(), ecc_storage()] {
        let (mut dt, mut dp, parent, parent_pub) = destination(99, &tmpl);
        let mut s = source();
        let np = load_public(&mut s.t, &mut s.p, &parent_pub);
        // Caller's inner key: encryptionKeyOut is empty.
        let key = [0x5Au8; 16];
        let r = duplicate(&mut s.t, &mut s.p, s.obj, np, Some(&key));
        let (kout, dup, seed) = parse3(&r);
        assert!(kout.is_empty());
        assert!(!seed.is_empty());
        let data = import_load_unseal(&mut dt, &mut dp, parent, &key, &s.public, &dup, &seed, true);
        assert_eq!(data, b"the secret");
        // TPM-generated inner key.
        let r = duplicate(&mut s.t, &mut s.p, s.obj, np, Some(b""));
        let (kout, dup, seed) = parse3(&r);
        assert_eq!(kout.len(), 16);
        let data = import_load_unseal(
            &mut dt, &mut dp, parent, &kout, &s.public, &dup, &seed, true,
        );
        assert_eq!(data, b"the secret");
        // Outer wrapper only.
        let r = duplicate(&mut s.t, &mut s.p, s.obj, np, None);
        let (kout, dup, seed) = parse3(&r);
        assert!(kout.is_empty());
        let data = import_load_unseal(&mut dt, &mut dp, parent, b"", &s.public, &dup, &seed, false);
        assert_eq!(data, b"the secret");
        // A blob for this parent does not import under the source TPM's own SRK
        // (same template, other seed): wrong parent.
        let r = duplicate(&mut s.t, &mut s.p, s.obj, np, None);
        let (_, dup, seed) = parse3(&r);
        let other = primary(&mut s.t, &mut s.p, TpmRh::OWNER.0, &tmpl).0;
        let r = import(
            &mut s.t, &mut s.p, other, b"", &s.public, &dup, &seed, false,
        );
        // RSA: the OAEP decryption fails; ECC: another seed, so the HMAC fails.
        let want = if tmpl.object_type() == crate::types::constants::TpmAlgId::RSA {
            TpmRc::VALUE.at_param(4)
        } else {
            TpmRc::INTEGRITY.at_param(3)
        };
        assert_eq!(r.rc, rc(want), "{:#x}", r.rc);
    }
}

#[test]
fn duplicate_to_null_parent_matches_independent_layout() {
    let mut s = source();
    let sens_2b = Tpm2bSensitive(s.t.key(s.obj).unwrap().sensitive.clone()).to_bytes();
    // No wrapper at all: the TPM2B_SENSITIVE itself.
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, None);
    let (kout, dup, seed) = parse3(&r);
    assert!(kout.is_empty() && seed.is_empty());
    assert_eq!(dup, sens_2b);
    let parsed = Tpm2bSensitive::unmarshal(&mut Reader::new(&dup))
        .unwrap()
        .0
        .unwrap();
    assert_eq!(parsed.sensitive.as_slice(), b"the secret");
    assert_eq!(parsed.auth_value.as_slice(), b"objpw");
    // Inner wrapper: decrypt with RustCrypto and check H(sens || Name).
    let key = [0x11u8; 16];
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, Some(&key));
    let (_, dup, seed) = parse3(&r);
    assert!(seed.is_empty());
    let mut plain = dup.clone();
    CfbDec::new_from_slices(&key, &[0u8; 16])
        .unwrap()
        .decrypt(&mut plain);
    assert_eq!(&plain[..2], &[0, 32]);
    assert_eq!(&plain[34..], sens_2b.as_slice());
    assert_eq!(&plain[2..34], sha256(&[&sens_2b, &s.name]).as_slice());
    // Both import on another TPM without an outer wrapper.
    let (mut dt, mut dp, parent, _) = destination(1234, &ecc_storage());
    let data = import_load_unseal(&mut dt, &mut dp, parent, &key, &s.public, &dup, b"", true);
    assert_eq!(data, b"the secret");
    let data = import_load_unseal(
        &mut dt, &mut dp, parent, b"", &s.public, &sens_2b, b"", false,
    );
    assert_eq!(data, b"the secret");
    // A wrong inner key or an altered inner blob fails the inner integrity.
    let r = import(
        &mut dt,
        &mut dp,
        parent,
        &[0x12u8; 16],
        &s.public,
        &dup,
        b"",
        true,
    );
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(3)));
    let mut bad = dup.clone();
    *bad.last_mut().unwrap() ^= 1;
    let r = import(&mut dt, &mut dp, parent, &key, &s.public, &bad, b"", true);
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(3)));
}

/// An outer wrapper built here (RSA-OAEP seed, KDFa, AES-CFB, HMAC) imports.
#[test]
fn import_independent_outer_wrapper() {
    let (mut dt, mut dp, parent, parent_pub) = destination(5, &rsa_storage());
    let mut s = source();
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, None);
    let (_, sens_2b, _) = parse3(&r);
    let TpmuPublicId::Rsa(n) = &parent_pub.unique else {
        panic!()
    };
    let nb = n.as_slice();
    let pk = rsa::PublicKey::new(
        crypto_bigint::BoxedUint::from_be_slice(nb, u32::try_from(nb.len() * 8).unwrap()).unwrap(),
        crypto_bigint::BoxedUint::from(65537u64),
    )
    .unwrap();
    let seed = [0x24u8; 32];
    let mut f = |b: &mut [u8]| b.fill(3);
    let mut rng = crate::crypto::rng::FnRng(&mut f);
    let label: alloc::boxed::Box<[u8]> = b"DUPLICATE\0".to_vec().into_boxed_slice();
    let enc_seed = pk
        .encrypt(&mut rng, rsa::Oaep::<Sha256>::new_with_label(label), &seed)
        .unwrap();
    let sym = kdfa(HashAlg::Sha256, &seed, b"STORAGE", &s.name, &[], 128);
    let mut enc = sens_2b.clone();
    CfbEnc::new_from_slices(&sym, &[0u8; 16])
        .unwrap()
        .encrypt(&mut enc);
    let hkey = kdfa(HashAlg::Sha256, &seed, b"INTEGRITY", &[], &[], 256);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&hkey).unwrap();
    mac.update(&enc);
    mac.update(&s.name);
    let mut blob = vec![0u8, 32];
    blob.extend_from_slice(&mac.finalize().into_bytes());
    blob.extend_from_slice(&enc);
    let data = import_load_unseal(
        &mut dt, &mut dp, parent, b"", &s.public, &blob, &enc_seed, false,
    );
    assert_eq!(data, b"the secret");
    // Tampered ciphertext, wrong public area (Name): INTEGRITY.
    let mut bad = blob.clone();
    bad[40] ^= 0x80;
    let r = import(
        &mut dt, &mut dp, parent, b"", &s.public, &bad, &enc_seed, false,
    );
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(3)));
    let mut other = s.public.clone();
    other.auth_policy = Tpm2bDigest::new(&[1u8; 32]).unwrap();
    let r = import(
        &mut dt, &mut dp, parent, b"", &other, &blob, &enc_seed, false,
    );
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(3)));
}

#[test]
fn rewrap_between_parents() {
    let (mut dt, mut dp, p1, p1_pub) = destination(42, &rsa_storage());
    let (p2, _, _) = primary(&mut dt, &mut dp, TpmRh::OWNER.0, &ecc_storage());
    let mut s = source();
    let np = load_public(&mut s.t, &mut s.p, &p1_pub);
    let key = [0x77u8; 16];
    let r = duplicate(&mut s.t, &mut s.p, s.obj, np, Some(&key));
    let (_, dup, seed) = parse3(&r);
    let rewrap =
        |t: &mut Tpm, p: &mut TestPlatform, old: u32, new: u32, d: &[u8], n: &[u8], sd: &[u8]| {
            run(
                t,
                p,
                &Cmd::new(TpmCc::REWRAP)
                    .handle(old)
                    .handle(new)
                    .pw(b"")
                    .params(|w| {
                        w.tpm2b(d);
                        w.tpm2b(n);
                        w.tpm2b(sd);
                    }),
            )
        };
    // P1 -> P2, then import under P2 (and not under P1).
    let r = rewrap(&mut dt, &mut dp, p1, p2, &dup, &s.name, &seed);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    let dup2 = take_2b(&mut rd)[2..].to_vec();
    let seed2 = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    assert_ne!(dup2, dup);
    let data = import_load_unseal(&mut dt, &mut dp, p2, &key, &s.public, &dup2, &seed2, true);
    assert_eq!(data, b"the secret");
    // P1 -> NULL: only the inner wrapper is left.
    let r = rewrap(&mut dt, &mut dp, p1, TpmRh::NULL.0, &dup, &s.name, &seed);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    let bare = take_2b(&mut rd)[2..].to_vec();
    assert_eq!(take_2b(&mut rd), vec![0, 0]);
    let data = import_load_unseal(&mut dt, &mut dp, p1, &key, &s.public, &bare, b"", true);
    assert_eq!(data, b"the secret");
    // NULL -> P1 round trip.
    let r = rewrap(&mut dt, &mut dp, TpmRh::NULL.0, p1, &bare, &s.name, b"");
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    let dup3 = take_2b(&mut rd)[2..].to_vec();
    let seed3 = take_2b(&mut rd)[2..].to_vec();
    let data = import_load_unseal(&mut dt, &mut dp, p1, &key, &s.public, &dup3, &seed3, true);
    assert_eq!(data, b"the secret");
    // Wrong Name: INTEGRITY on inDuplicate.
    let mut wrong = s.name.clone();
    *wrong.last_mut().unwrap() ^= 1;
    let r = rewrap(&mut dt, &mut dp, p1, p2, &dup, &wrong, &seed);
    assert_eq!(r.rc, rc(TpmRc::INTEGRITY.at_param(1)));
    // Seed and old parent disagree.
    let r = rewrap(&mut dt, &mut dp, p1, p2, &dup, &s.name, b"");
    assert_eq!(r.rc, rc(TpmRc::HANDLE.at_handle(1)));
    let r = rewrap(&mut dt, &mut dp, TpmRh::NULL.0, p2, &dup, &s.name, &seed);
    assert_eq!(r.rc, rc(TpmRc::HANDLE.at_handle(1)));
    // Wrong old parent: the seed does not decrypt (ECC point is not RSA data).
    let r = rewrap(&mut dt, &mut dp, p2, p1, &dup, &s.name, &seed);
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(3)));
}

#[test]
fn duplicate_refusals() {
    // fixedParent SET (with a policy that would authorize): ATTRIBUTES.
    let mut fixed = duplicable_sealed();
    fixed.object_attributes = fixed
        .object_attributes
        .with(TpmaObject::FIXED_TPM)
        .with(TpmaObject::FIXED_PARENT);
    let mut s = source_with(&fixed, b"x");
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, None);
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));

    let mut s = source();
    // A password cannot give the DUP role.
    let r = run(
        &mut s.t,
        &mut s.p,
        &Cmd::new(TpmCc::DUPLICATE)
            .handle(s.obj)
            .handle(TpmRh::NULL.0)
            .pw(b"objpw")
            .params(|w| {
                w.tpm2b(b"");
                w.u16(0x0010);
            }),
    );
    assert_eq!(r.rc, rc(TpmRc::AUTH_UNAVAILABLE.at_session(1)));
    // Inner key of the wrong size; a key without an inner wrapper.
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, Some(&[1u8; 15]));
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    // New parent that is not a storage key (a signing key).
    let sign = load_public(&mut s.t, &mut s.p, &{
        let mut k = ecc_signing();
        k.unique = crate::types::public::TpmuPublicId::Ecc(crate::types::public::TpmsEccPoint {
            x: crate::types::public::Tpm2bEccParameter::new(&P256_GX).unwrap(),
            y: crate::types::public::Tpm2bEccParameter::new(&P256_GY).unwrap(),
        });
        k
    });
    let r = duplicate(&mut s.t, &mut s.p, s.obj, sign, None);
    assert_eq!(r.rc, rc(TpmRc::TYPE.at_handle(2)));

    // encryptedDuplication: needs an inner wrapper and a new parent.
    let mut ed = duplicable_sealed();
    ed.object_attributes = ed.object_attributes.with(TpmaObject::ENCRYPTED_DUPLICATION);
    // The SRK (fixedTPM) may have an encryptedDuplication child.
    let mut s = source_with(&ed, b"y");
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, Some(b""));
    assert_eq!(r.rc, rc(TpmRc::HIERARCHY.at_handle(2)));
    let (_, _, _, ppub) = destination(3, &ecc_storage());
    let np = load_public(&mut s.t, &mut s.p, &ppub);
    let r = duplicate(&mut s.t, &mut s.p, s.obj, np, None);
    assert_eq!(r.rc, rc(TpmRc::SYMMETRIC.at_param(2)));
    let r = duplicate(&mut s.t, &mut s.p, s.obj, np, Some(b""));
    assert_eq!(r.rc, 0);
}

/// The base point of P-256 (a valid public point for a public-only key).
const P256_GX: [u8; 32] = [
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];
const P256_GY: [u8; 32] = [
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];

#[test]
fn import_refusals() {
    let (mut dt, mut dp, parent, _) = destination(11, &ecc_storage());
    let mut s = source();
    let r = duplicate(&mut s.t, &mut s.p, s.obj, TpmRh::NULL.0, None);
    let (_, sens_2b, _) = parse3(&r);
    // fixedTPM / fixedParent in the public area.
    for bit in [TpmaObject::FIXED_TPM, TpmaObject::FIXED_PARENT] {
        let mut pb = s.public.clone();
        pb.object_attributes = pb.object_attributes.with(bit);
        let r = import(&mut dt, &mut dp, parent, b"", &pb, &sens_2b, b"", false);
        assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_param(2)));
    }
    // Public and sensitive areas that do not belong together (other data).
    let other = source_with(&duplicable_sealed(), b"other data").public;
    let r = import(&mut dt, &mut dp, parent, b"", &other, &sens_2b, b"", false);
    assert_eq!(r.rc, rc(TpmRc::BINDING));
    // Key sizes.
    let r = import(
        &mut dt, &mut dp, parent, b"k", &s.public, &sens_2b, b"", false,
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    let r = import(
        &mut dt, &mut dp, parent, b"", &s.public, &sens_2b, b"", true,
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    // Malformed sensitive area.
    let r = import(
        &mut dt,
        &mut dp,
        parent,
        b"",
        &s.public,
        &sens_2b[..sens_2b.len() - 1],
        b"",
        false,
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(3)));
    // Not a storage parent: a sealed object.
    let sealed_h = create_and_load(&mut dt, &mut dp, parent, &sens(b"", b"z"), &sealed());
    let r = import(
        &mut dt, &mut dp, sealed_h, b"", &s.public, &sens_2b, b"", false,
    );
    assert_eq!(r.rc, rc(TpmRc::TYPE.at_handle(1)));
}
