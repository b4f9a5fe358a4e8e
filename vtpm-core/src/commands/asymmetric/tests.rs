//! TPM2_ECC_Parameters: values checked against the RustCrypto curve arithmetic,
//! and refusals.

use alloc::vec::Vec;

use crate::crypto::ecc::{ecc_point_check, ecc_private_from_bytes, ecc_public, EccCurve, EccPoint};
use crate::marshal::Reader;
use crate::objects::testkit::take_2b;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::TpmCc;

/// a - b for big-endian numbers of equal length with a >= b.
fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = a.to_vec();
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

fn params_cmd(curve: u16) -> Cmd {
    Cmd::new(TpmCc::ECC_PARAMETERS).params(move |w| w.u16(curve))
}

#[test]
fn curve_parameters_match_the_curve_arithmetic() {
    for (curve, id, bytes) in [
        (EccCurve::NistP256, 3u16, 32usize),
        (EccCurve::NistP384, 4, 48),
    ] {
        let (mut t, mut p) = started();
        let r = run(&mut t, &mut p, &params_cmd(id));
        assert_eq!(r.rc, 0, "{:#x}", r.rc);
        let mut rd = Reader::new(&r.body);
        assert_eq!(rd.u16().unwrap(), id);
        assert_eq!(rd.u16().unwrap() as usize, bytes * 8);
        assert_eq!(rd.u16().unwrap(), 0x0010); // kdf NULL
        assert_eq!(rd.u16().unwrap(), 0x0010); // sign NULL
        let v: Vec<Vec<u8>> = (0..7).map(|_| take_2b(&mut rd)[2..].to_vec()).collect();
        assert!(rd.is_empty());
        let (fp, a, _b, gx, gy, n, h) = (&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
        for x in [fp, a, gx, gy, n] {
            assert_eq!(x.len(), bytes);
        }
        // a = p - 3 for the NIST curves.
        let mut three = alloc::vec![0u8; bytes];
        three[bytes - 1] = 3;
        assert_eq!(sub(fp, &three), *a);
        assert_eq!(h, &[1]);
        // G is 1·G as RustCrypto computes it.
        let mut one = alloc::vec![0u8; bytes];
        one[bytes - 1] = 1;
        let g = ecc_public(curve, &ecc_private_from_bytes(curve, &one).unwrap());
        assert_eq!((&g.x, &g.y), (gx, gy));
        // -G = (gX, p - gY) is on the curve: checks p.
        let neg = EccPoint {
            x: gx.clone(),
            y: sub(fp, gy),
        };
        ecc_point_check(curve, &neg).unwrap();
        // n is the order: n is not a valid scalar, n - 1 is, and (n-1)·G = -G.
        assert_eq!(
            ecc_private_from_bytes(curve, n).err(),
            Some(TpmRc::KEY_SIZE)
        );
        let nm1 = sub(n, &one);
        let q = ecc_public(curve, &ecc_private_from_bytes(curve, &nm1).unwrap());
        assert_eq!(q, neg);
    }
}

#[test]
fn known_p256_b() {
    let (mut t, mut p) = started();
    let r = run(&mut t, &mut p, &params_cmd(3));
    let mut rd = Reader::new(&r.body);
    for _ in 0..4 {
        rd.u16().unwrap();
    }
    let _p = take_2b(&mut rd);
    let _a = take_2b(&mut rd);
    let b = take_2b(&mut rd)[2..].to_vec();
    // SEC 2, 2.4.2.
    assert_eq!(b[..4], [0x5a, 0xc6, 0x35, 0xd8]);
    assert_eq!(b[28..], [0x27, 0xd2, 0x60, 0x4b]);
}

#[test]
fn unsupported_curve() {
    let (mut t, mut p) = started();
    for id in [0u16, 1, 2, 5, 0x10, 0x20, 0xffff] {
        let r = run(&mut t, &mut p, &params_cmd(id));
        assert_eq!(r.rc, TpmRc::CURVE.at_param(1).value(), "{id:#x}");
    }
}

// ---- TPM2_RSA_Encrypt / TPM2_RSA_Decrypt -------------------------------------

use alloc::boxed::Box;

use crypto_bigint::{BoxedUint, NonZero};
use rsa::traits::PublicKeyParts;
use sha2::Sha256;

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Writer};
use crate::objects::testkit::{ecc_signing, ecc_storage, primary, rsa_storage, split, FIXED};
use crate::platform::TestPlatform;
use crate::tpm::Tpm;
use crate::types::constants::{TpmAlgId, TpmRh};
use crate::types::public::{
    Tpm2bPublic, TpmEccCurve, TpmaObject, TpmsEccParms, TpmsRsaParms, TpmtEccScheme, TpmtKdfScheme,
    TpmtPublic, TpmtRsaScheme, TpmtSymDefObject, TpmuPublicId, TpmuPublicParms,
};
use crate::types::sized::Tpm2bDigest;

const DEC: TpmaObject = FIXED
    .with(TpmaObject::SENSITIVE_DATA_ORIGIN)
    .with(TpmaObject::USER_WITH_AUTH)
    .with(TpmaObject::DECRYPT);
const SIGN: TpmaObject = FIXED
    .with(TpmaObject::SENSITIVE_DATA_ORIGIN)
    .with(TpmaObject::USER_WITH_AUTH)
    .with(TpmaObject::SIGN_ENCRYPT);

fn tmpl(attrs: TpmaObject, parameters: TpmuPublicParms) -> TpmtPublic {
    let unique = TpmuPublicId::empty_for(parameters.object_type().0);
    TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: attrs,
        auth_policy: Tpm2bDigest::empty(),
        parameters,
        unique,
    }
}

fn rsa_tmpl(attrs: TpmaObject, scheme: TpmtRsaScheme) -> TpmtPublic {
    tmpl(
        attrs,
        TpmuPublicParms::Rsa(TpmsRsaParms {
            symmetric: TpmtSymDefObject::Null,
            scheme,
            key_bits: 2048,
            exponent: 0,
        }),
    )
}

fn ecc_tmpl(attrs: TpmaObject, scheme: TpmtEccScheme) -> TpmtPublic {
    tmpl(
        attrs,
        TpmuPublicParms::Ecc(TpmsEccParms {
            symmetric: TpmtSymDefObject::Null,
            scheme,
            curve_id: TpmEccCurve::NIST_P256,
            kdf: TpmtKdfScheme::Null,
        }),
    )
}

/// An RSA decryption scheme on the wire: (selector, hash).
type Scheme = (TpmAlgId, Option<HashAlg>);
const NULL: Scheme = (TpmAlgId::NULL, None);
const RSAES: Scheme = (TpmAlgId::RSAES, None);
const OAEP256: Scheme = (TpmAlgId::OAEP, Some(HashAlg::Sha256));

fn put_scheme(w: &mut Writer, s: Scheme) {
    s.0.marshal(w);
    if let Some(h) = s.1 {
        h.marshal(w);
    }
}

fn put_2b(w: &mut Writer, b: &[u8]) {
    w.u16(u16::try_from(b.len()).unwrap());
    w.bytes(b);
}

fn encrypt(t: &mut Tpm, p: &mut TestPlatform, key: u32, m: &[u8], s: Scheme, l: &[u8]) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::RSA_ENCRYPT).handle(key).params(|w| {
            put_2b(w, m);
            put_scheme(w, s);
            put_2b(w, l);
        }),
    )
}

fn decrypt(t: &mut Tpm, p: &mut TestPlatform, key: u32, c: &[u8], s: Scheme, l: &[u8]) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::RSA_DECRYPT)
            .handle(key)
            .pw(b"")
            .params(|w| {
                put_2b(w, c);
                put_scheme(w, s);
                put_2b(w, l);
            }),
    )
}

/// The single TPM2B of a response without sessions.
fn out_2b(r: &Resp) -> Vec<u8> {
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let mut rd = Reader::new(&r.body);
    let v = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    v
}

/// The single TPM2B of a response with sessions.
fn out_2b_s(r: &Resp) -> Vec<u8> {
    let (_, params) = split(r, 0);
    let mut rd = Reader::new(&params);
    let v = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    v
}

fn rc(r: TpmRc) -> u32 {
    r.value()
}

/// The RustCrypto private key of a loaded TPM RSA key, rebuilt from its
/// modulus and stored prime.
fn rust_key(t: &Tpm, h: u32) -> rsa::PrivateKey {
    let key = t.key(h).unwrap();
    let TpmuPublicId::Rsa(n) = &key.public.unique else {
        panic!()
    };
    let n = n.as_slice();
    let pb = key
        .sensitive
        .as_ref()
        .unwrap()
        .sensitive
        .as_slice()
        .to_vec();
    let bits = u32::try_from(n.len() * 8).unwrap();
    let n = BoxedUint::from_be_slice(n, bits).unwrap();
    let pr = BoxedUint::from_be_slice(&pb, bits).unwrap();
    let (q, rem) = n.div_rem(&NonZero::new(pr.clone()).unwrap());
    assert!(bool::from(rem.is_zero()));
    rsa::PrivateKey::from_p_q(pr, q, BoxedUint::from(65537u64)).unwrap()
}

fn fixed_rng() -> impl FnMut(&mut [u8]) {
    let mut c = 0u8;
    move |b: &mut [u8]| {
        for x in b {
            c = c.wrapping_add(37);
            *x = c | 1;
        }
    }
}

fn label_box(l: &[u8]) -> Box<[u8]> {
    l.to_vec().into_boxed_slice()
}

#[test]
fn rsa_round_trips_and_interop() {
    let (mut t, mut p) = started();
    let (h, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &rsa_tmpl(DEC, TpmtRsaScheme::Null),
    );
    let rk = rust_key(&t, h);
    let pk = rk.to_public_key();
    let msg = b"attack at dawn";
    let mut f = fixed_rng();
    let mut rng = crate::crypto::rng::FnRng(&mut f);
    for (s, label) in [
        (OAEP256, &b""[..]),
        (OAEP256, &b"a label\0"[..]),
        (RSAES, &b""[..]),
        (RSAES, &b"ignored\0"[..]),
    ] {
        // TPM round trip; the ciphertext is randomized.
        let c = out_2b(&encrypt(&mut t, &mut p, h, msg, s, label));
        assert_eq!(c.len(), 256);
        let c2 = out_2b(&encrypt(&mut t, &mut p, h, msg, s, label));
        assert_ne!(c, c2);
        let m = out_2b_s(&decrypt(&mut t, &mut p, h, &c, s, label));
        assert_eq!(m, msg);
        // The TPM's ciphertext opens with RustCrypto, and RustCrypto's with the TPM.
        let (m, c3) = if s == RSAES {
            (
                rk.decrypt(rsa::Pkcs1v15Encrypt, &c).unwrap(),
                pk.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, msg).unwrap(),
            )
        } else if label.is_empty() {
            (
                rk.decrypt(rsa::Oaep::<Sha256>::new(), &c).unwrap(),
                pk.encrypt(&mut rng, rsa::Oaep::<Sha256>::new(), msg)
                    .unwrap(),
            )
        } else {
            let l = label_box(label);
            (
                rk.decrypt(rsa::Oaep::<Sha256>::new_with_label(l.clone()), &c)
                    .unwrap(),
                pk.encrypt(&mut rng, rsa::Oaep::<Sha256>::new_with_label(l), msg)
                    .unwrap(),
            )
        };
        assert_eq!(m, msg);
        let m = out_2b_s(&decrypt(&mut t, &mut p, h, &c3, s, label));
        assert_eq!(m, msg);
    }
    // OAEP with a label the other side does not use fails.
    let c = out_2b(&encrypt(&mut t, &mut p, h, msg, OAEP256, b"x\0"));
    assert!(rk.decrypt(rsa::Oaep::<Sha256>::new(), &c).is_err());
    let r = decrypt(&mut t, &mut p, h, &c, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    let r = decrypt(&mut t, &mut p, h, &c, OAEP256, b"y\0");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    // The label's zero octet is part of the OAEP label.
    assert!(rk
        .decrypt(rsa::Oaep::<Sha256>::new_with_label(label_box(b"x")), &c)
        .is_err());
    // A label without its terminating zero is refused, whatever the scheme.
    for s in [OAEP256, RSAES, NULL] {
        let r = encrypt(&mut t, &mut p, h, msg, s, b"abc");
        assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(3)));
        let r = decrypt(&mut t, &mut p, h, &c, s, b"abc");
        assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(3)));
    }
}

#[test]
fn rsa_null_scheme_is_raw_rsa() {
    let (mut t, mut p) = started();
    let (h, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &rsa_tmpl(DEC, TpmtRsaScheme::Null),
    );
    let pk = rust_key(&t, h).to_public_key();
    let msg = b"\x00\x00raw value";
    let c = out_2b(&encrypt(&mut t, &mut p, h, msg, NULL, b""));
    assert_eq!(c.len(), 256);
    let m = BoxedUint::from_be_slice(msg, 2048).unwrap();
    let want = rsa::hazmat::rsa_encrypt(&pk, &m).unwrap().to_be_bytes();
    assert_eq!(c, want.to_vec());
    // Decryption returns the modulus-sized value.
    let d = out_2b_s(&decrypt(&mut t, &mut p, h, &c, NULL, b""));
    assert_eq!(d.len(), 256);
    assert!(d[..256 - 9].iter().all(|b| *b == 0));
    assert_eq!(&d[256 - 9..], b"raw value");
    // A value not below the modulus.
    let r = encrypt(&mut t, &mut p, h, &[0xff; 256], NULL, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    let n = pk.n().as_ref().to_be_bytes();
    let r = encrypt(&mut t, &mut p, h, &n, NULL, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    let r = decrypt(&mut t, &mut p, h, &n, NULL, b"");
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
}

#[test]
fn rsa_key_scheme_selection() {
    let (mut t, mut p) = started();
    let (h, public, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &rsa_tmpl(DEC, TpmtRsaScheme::Oaep(HashAlg::Sha256)),
    );
    let rk = rust_key(&t, h);
    let msg = b"key scheme";
    // NULL in the command: the key's OAEP-SHA256.
    let c = out_2b(&encrypt(&mut t, &mut p, h, msg, NULL, b""));
    assert_eq!(rk.decrypt(rsa::Oaep::<Sha256>::new(), &c).unwrap(), msg);
    assert_eq!(out_2b_s(&decrypt(&mut t, &mut p, h, &c, NULL, b"")), msg);
    // The same scheme given twice is fine.
    let c = out_2b(&encrypt(&mut t, &mut p, h, msg, OAEP256, b""));
    assert_eq!(out_2b_s(&decrypt(&mut t, &mut p, h, &c, OAEP256, b"")), msg);
    // Another scheme or hash: TPM_RC_SCHEME.
    for s in [RSAES, (TpmAlgId::OAEP, Some(HashAlg::Sha1))] {
        let r = encrypt(&mut t, &mut p, h, msg, s, b"");
        assert_eq!(r.rc, rc(TpmRc::SCHEME.at_param(2)));
        let r = decrypt(&mut t, &mut p, h, &c, s, b"");
        assert_eq!(r.rc, rc(TpmRc::SCHEME.at_param(2)));
    }
    // Not an RSA decryption scheme: refused when unmarshalled.
    let r = encrypt(
        &mut t,
        &mut p,
        h,
        msg,
        (TpmAlgId::RSASSA, Some(HashAlg::Sha256)),
        b"",
    );
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(2)));
    // Longest OAEP-SHA256 message for 2048 bits is 256 - 66 = 190 octets.
    let r = encrypt(&mut t, &mut p, h, &[7u8; 190], NULL, b"");
    assert_eq!(r.rc, 0);
    let r = encrypt(&mut t, &mut p, h, &[7u8; 191], NULL, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    // A public-only copy (TPM2_LoadExternal) encrypts too.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::LOAD_EXTERNAL).params(|w| {
            w.u16(0);
            Tpm2bPublic(public.clone()).marshal(w);
            w.u32(TpmRh::NULL.0);
        }),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let ext = Reader::new(&r.body).u32().unwrap();
    let c = out_2b(&encrypt(&mut t, &mut p, ext, msg, NULL, b""));
    assert_eq!(out_2b_s(&decrypt(&mut t, &mut p, h, &c, NULL, b"")), msg);
    // ... but cannot decrypt.
    let r = decrypt(&mut t, &mut p, ext, &c, NULL, b"");
    assert_ne!(r.rc, 0);
}

#[test]
fn rsa_refusals() {
    let (mut t, mut p) = started();
    let (h, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &rsa_tmpl(DEC, TpmtRsaScheme::Null),
    );
    let (restricted, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &rsa_storage());
    let (signer, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &rsa_tmpl(SIGN, TpmtRsaScheme::Rsassa(HashAlg::Sha256)),
    );
    let msg = b"m";
    let c = out_2b(&encrypt(&mut t, &mut p, h, msg, OAEP256, b""));
    // A restricted decryption key encrypts (public operation) but never decrypts.
    let c2 = out_2b(&encrypt(&mut t, &mut p, restricted, msg, OAEP256, b""));
    let r = decrypt(&mut t, &mut p, restricted, &c2, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));
    // A signing key does neither.
    let r = encrypt(&mut t, &mut p, signer, msg, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));
    let r = decrypt(&mut t, &mut p, signer, &c, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));
    // Ciphertext of the wrong size.
    for len in [0usize, 255, 257] {
        let mut bad = c.clone();
        bad.resize(len, 1);
        let r = decrypt(&mut t, &mut p, h, &bad, OAEP256, b"");
        assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)), "{len}");
    }
    // Tampered ciphertext, or the wrong scheme: bad padding.
    let mut bad = c.clone();
    bad[100] ^= 0x40;
    let r = decrypt(&mut t, &mut p, h, &bad, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    let r = decrypt(&mut t, &mut p, h, &c, RSAES, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    // PKCS#1 v1.5: message longer than k - 11.
    let r = encrypt(&mut t, &mut p, h, &[1u8; 246], RSAES, b"");
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    assert_eq!(encrypt(&mut t, &mut p, h, &[1u8; 245], RSAES, b"").rc, 0);
    // Wrong password.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::RSA_DECRYPT)
            .handle(h)
            .pw(b"wrong")
            .params(|w| {
                put_2b(w, &c);
                put_scheme(w, OAEP256);
                put_2b(w, b"");
            }),
    );
    assert_ne!(r.rc, 0);
    // Not an RSA key.
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(signer)),
    );
    let (ecc, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    let r = encrypt(&mut t, &mut p, ecc, msg, OAEP256, b"");
    assert_eq!(r.rc, rc(TpmRc::KEY.at_handle(1)));
    let r = decrypt(&mut t, &mut p, ecc, &c, OAEP256, b"");
    assert_ne!(r.rc, 0);
}

// ---- TPM2_ECDH_KeyGen / TPM2_ECDH_ZGen ---------------------------------------

fn keygen(t: &mut Tpm, p: &mut TestPlatform, key: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::ECDH_KEYGEN).handle(key))
}

/// (x, y) of a TPM2B_ECC_POINT.
fn take_point(rd: &mut Reader<'_>) -> (Vec<u8>, Vec<u8>) {
    let size = rd.u16().unwrap() as usize;
    let mut inner = Reader::new(rd.bytes(size).unwrap());
    let x = take_2b(&mut inner)[2..].to_vec();
    let y = take_2b(&mut inner)[2..].to_vec();
    assert!(inner.is_empty());
    (x, y)
}

fn put_point(w: &mut Writer, x: &[u8], y: &[u8]) {
    let mut inner = Writer::new();
    put_2b(&mut inner, x);
    put_2b(&mut inner, y);
    put_2b(w, &inner.into_vec());
}

fn zgen(t: &mut Tpm, p: &mut TestPlatform, key: u32, x: &[u8], y: &[u8]) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::ECDH_ZGEN)
            .handle(key)
            .pw(b"")
            .params(|w| put_point(w, x, y)),
    )
}

#[test]
fn ecdh_keygen_and_zgen_agree() {
    let (mut t, mut p) = started();
    let (h, public, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &ecc_tmpl(DEC, TpmtEccScheme::Null),
    );
    let r = keygen(&mut t, &mut p, h);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let mut rd = Reader::new(&r.body);
    let z = take_point(&mut rd);
    let qe = take_point(&mut rd);
    assert!(rd.is_empty());
    assert_eq!((z.0.len(), z.1.len(), qe.0.len()), (32, 32, 32));
    // Fresh ephemeral keys each time.
    let r2 = keygen(&mut t, &mut p, h);
    assert_ne!(r2.body, r.body);
    // The key holder computes the same Z.
    let r = zgen(&mut t, &mut p, h, &qe.0, &qe.1);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    assert_eq!(take_point(&mut rd), z);
    assert!(rd.is_empty());
    // And so does p256 with the key's private scalar.
    let d = t
        .key(h)
        .unwrap()
        .sensitive
        .as_ref()
        .unwrap()
        .sensitive
        .as_slice()
        .to_vec();
    let sk = p256::SecretKey::from_slice(&d).unwrap();
    let mut sec1 = alloc::vec![4u8];
    sec1.extend_from_slice(&qe.0);
    sec1.extend_from_slice(&qe.1);
    let peer = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
    let zz = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), peer.as_affine());
    assert_eq!(zz.raw_secret_bytes().as_slice(), &z.0[..]);
    // ZGen of the generator gives the public key.
    let TpmuPublicId::Ecc(q) = &public.unique else {
        panic!()
    };
    let g = ecc_public(
        EccCurve::NistP256,
        &ecc_private_from_bytes(EccCurve::NistP256, &[1]).unwrap(),
    );
    let r = zgen(&mut t, &mut p, h, &g.x, &g.y);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    assert_eq!(
        take_point(&mut rd),
        (q.x.as_slice().to_vec(), q.y.as_slice().to_vec())
    );
}

#[test]
fn ecdh_refusals() {
    let (mut t, mut p) = started();
    let (h, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &ecc_tmpl(DEC, TpmtEccScheme::Null),
    );
    let (restricted, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    let (signer, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_signing());
    let r = keygen(&mut t, &mut p, h);
    let mut rd = Reader::new(&r.body);
    let _z = take_point(&mut rd);
    let (x, y) = take_point(&mut rd);
    // Off the curve.
    let mut bad = y.clone();
    bad[31] ^= 1;
    let r = zgen(&mut t, &mut p, h, &x, &bad);
    assert_eq!(r.rc, rc(TpmRc::ECC_POINT.at_param(1)));
    let r = zgen(&mut t, &mut p, h, &[], &[]);
    assert_eq!(r.rc, rc(TpmRc::ECC_POINT.at_param(1)));
    let r = zgen(&mut t, &mut p, h, &[0xff; 32], &y);
    assert_eq!(r.rc, rc(TpmRc::ECC_POINT.at_param(1)));
    // A TPM2B_ECC_POINT with trailing octets, or of size zero.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::ECDH_ZGEN).handle(h).pw(b"").params(|w| {
            let mut inner = Writer::new();
            put_2b(&mut inner, &x);
            put_2b(&mut inner, &y);
            inner.u8(0);
            put_2b(w, &inner.into_vec());
        }),
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::ECDH_ZGEN)
            .handle(h)
            .pw(b"")
            .params(|w| w.u16(0)),
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    // Restricted or signing keys do not give Z.
    let r = zgen(&mut t, &mut p, restricted, &x, &y);
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));
    let r = zgen(&mut t, &mut p, signer, &x, &y);
    assert_eq!(r.rc, rc(TpmRc::ATTRIBUTES.at_handle(1)));
    // KeyGen needs only an ECC public key.
    assert_eq!(keygen(&mut t, &mut p, restricted).rc, 0);
    // Not an ECC key.
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(signer)),
    );
    let (rsa_h, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &rsa_storage());
    let r = keygen(&mut t, &mut p, rsa_h);
    assert_eq!(r.rc, rc(TpmRc::KEY.at_handle(1)));
    let r = zgen(&mut t, &mut p, rsa_h, &x, &y);
    assert_eq!(r.rc, rc(TpmRc::KEY.at_handle(1)));
}

#[test]
fn ecdh_zgen_scheme() {
    let (mut t, mut p) = started();
    // Sign and decrypt with an ECDSA scheme is not allowed at creation; a
    // decrypt key with the ECDH scheme works.
    let (h, _, _) = primary(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &ecc_tmpl(DEC, TpmtEccScheme::Ecdh(HashAlg::Sha256)),
    );
    let g = ecc_public(
        EccCurve::NistP256,
        &ecc_private_from_bytes(EccCurve::NistP256, &[1]).unwrap(),
    );
    assert_eq!(zgen(&mut t, &mut p, h, &g.x, &g.y).rc, 0);
}
