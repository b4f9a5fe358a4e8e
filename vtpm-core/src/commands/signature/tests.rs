//! TPM2_Sign and TPM2_VerifySignature: signatures are checked here independently
//! (RSA with raw modular exponentiation and hand-written PKCS#1 v1.5 / PSS
//! decoding, ECDSA with the p256 crate, HMAC with the hmac crate), and the
//! refusals of Part 3 §20.

use alloc::vec;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::marshal::Reader;
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::TpmCc;
use crate::types::public::*;

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const ALG_NULL: u16 = 0x0010;
const HMAC: u16 = 0x0005;
const RSASSA: u16 = 0x0014;
const RSAPSS: u16 = 0x0016;
const ECDSA: u16 = 0x0018;
const OWNER: u32 = 0x4000_0001;
const NULL_HIER: u32 = 0x4000_0007;

/// A marshalled TPMT_SIG_SCHEME.
fn scheme(alg: u16, hash: u16) -> Vec<u8> {
    let mut v = alg.to_be_bytes().to_vec();
    if alg != ALG_NULL {
        v.extend_from_slice(&hash.to_be_bytes());
    }
    v
}

/// The NULL TPMT_TK_HASHCHECK.
fn null_ticket() -> Vec<u8> {
    vec![0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]
}

fn sign_cmd(key: &[u8; 4], digest: &[u8], scheme: &[u8], ticket: &[u8]) -> Cmd {
    let (digest, scheme, ticket) = (digest.to_vec(), scheme.to_vec(), ticket.to_vec());
    Cmd::new(TpmCc::SIGN)
        .handle(u32::from_be_bytes(*key))
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&digest);
            w.bytes(&scheme);
            w.bytes(&ticket);
        })
}

fn sign(t: &mut Tpm, p: &mut TestPlatform, key: u32, digest: &[u8], sch: &[u8]) -> Resp {
    run(
        t,
        p,
        &sign_cmd(&key.to_be_bytes(), digest, sch, &null_ticket()),
    )
}

/// The parameters of a successful response to a command without sessions.
fn plain(r: &Resp) -> Vec<u8> {
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    r.body.clone()
}

/// The signature bytes of a successful response.
fn sig_of(r: &Resp) -> Vec<u8> {
    split(r, 0).1
}

fn verify_cmd(key: u32, digest: &[u8], sig: &[u8]) -> Cmd {
    let (digest, sig) = (digest.to_vec(), sig.to_vec());
    Cmd::new(TpmCc::VERIFY_SIGNATURE)
        .handle(key)
        .params(move |w| {
            w.tpm2b(&digest);
            w.bytes(&sig);
        })
}

fn rsa_signing(scheme: TpmtRsaScheme, attrs: TpmaObject) -> TpmtPublic {
    let mut t = rsa_storage();
    t.object_attributes = attrs;
    t.parameters = TpmuPublicParms::Rsa(TpmsRsaParms {
        symmetric: TpmtSymDefObject::Null,
        scheme,
        key_bits: 2048,
        exponent: 0,
    });
    t
}

fn sign_attrs() -> TpmaObject {
    FIXED
        .with(TpmaObject::SENSITIVE_DATA_ORIGIN)
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::SIGN_ENCRYPT)
}

fn rsa_n(public: &TpmtPublic) -> Vec<u8> {
    match &public.unique {
        TpmuPublicId::Rsa(n) => n.as_slice().to_vec(),
        _ => panic!("not RSA"),
    }
}

/// s^e mod n with e = 65537, by square and multiply on big-endian octets.
fn rsa_public_op(n: &[u8], s: &[u8]) -> Vec<u8> {
    use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
    use crypto_bigint::{BoxedUint, Odd};
    let bits = (n.len() * 8) as u32;
    let n = Odd::new(BoxedUint::from_be_slice(n, bits).unwrap()).unwrap();
    let params = BoxedMontyParams::new(n);
    let s = BoxedUint::from_be_slice(s, bits).unwrap();
    let e = BoxedUint::from_be_slice(&[1, 0, 1], bits).unwrap();
    let m = BoxedMontyForm::new(s, &params).pow(&e).retrieve();
    m.to_be_bytes().to_vec()
}

const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// RSASSA-PKCS1-v1_5 (SHA-256) verification: EM = 00 01 FF.. 00 DigestInfo H.
fn rsassa_ok(n: &[u8], sig: &[u8], digest: &[u8]) -> bool {
    let em = rsa_public_op(n, sig);
    let mut want = vec![0x00, 0x01];
    want.resize(n.len() - 3 - 19 - 32 + 2, 0xff);
    want.push(0);
    want.extend_from_slice(&SHA256_DIGEST_INFO);
    want.extend_from_slice(digest);
    em == want
}

fn mgf1(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut c = 0u32;
    while out.len() < len {
        out.extend_from_slice(
            &Sha256::new()
                .chain_update(seed)
                .chain_update(c.to_be_bytes())
                .finalize(),
        );
        c += 1;
    }
    out.truncate(len);
    out
}

/// RSASSA-PSS (SHA-256, MGF1-SHA-256) verification for a 2048-bit modulus;
/// returns the salt length on success.
fn rsapss_ok(n: &[u8], sig: &[u8], digest: &[u8]) -> Option<usize> {
    let em = rsa_public_op(n, sig);
    let k = n.len();
    if em.len() != k || em[k - 1] != 0xbc {
        return None;
    }
    let h = &em[k - 33..k - 1];
    let mut db: Vec<u8> = em[..k - 33]
        .iter()
        .zip(mgf1(h, k - 33))
        .map(|(a, b)| a ^ b)
        .collect();
    db[0] &= 0x7f;
    let one = db.iter().position(|b| *b != 0)?;
    if db[one] != 1 {
        return None;
    }
    let salt = &db[one + 1..];
    let m = Sha256::new()
        .chain_update([0u8; 8])
        .chain_update(digest)
        .chain_update(salt)
        .finalize();
    (m.as_slice() == h).then_some(salt.len())
}

/// (r, s) of a TPMT_SIGNATURE with ECDSA.
fn ecdsa_rs(sig: &[u8]) -> (u16, Vec<u8>, Vec<u8>) {
    let mut r = Reader::new(sig);
    assert_eq!(r.u16().unwrap(), ECDSA);
    let h = r.u16().unwrap();
    let a = take_2b(&mut r)[2..].to_vec();
    let b = take_2b(&mut r)[2..].to_vec();
    assert!(r.is_empty());
    (h, a, b)
}

fn p256_verify(public: &TpmtPublic, digest: &[u8], r: &[u8], s: &[u8]) -> bool {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let TpmuPublicId::Ecc(q) = &public.unique else {
        panic!("not ECC")
    };
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(q.x.as_slice());
    sec1.extend_from_slice(q.y.as_slice());
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&[r, s].concat()).unwrap();
    vk.verify_prehash(digest, &sig).is_ok()
}

fn verified_ticket(t: &Tpm, hierarchy: u32, digest: &[u8], name: &[u8]) -> Vec<u8> {
    let proof = match hierarchy {
        OWNER => &t.perm.sh_proof.0,
        _ => panic!(),
    };
    let mut mac = <hmac::Hmac<Sha512> as KeyInit>::new_from_slice(proof).unwrap();
    mac.update(&[0x80, 0x22]);
    mac.update(digest);
    mac.update(name);
    let hmac = mac.finalize().into_bytes();
    let mut out = vec![0x80, 0x22];
    out.extend_from_slice(&hierarchy.to_be_bytes());
    out.extend_from_slice(&(hmac.len() as u16).to_be_bytes());
    out.extend_from_slice(&hmac);
    out
}

#[test]
fn rsa_sign_and_verify_both_schemes() {
    let (mut t, mut p) = started();
    let (k, public, name) = primary(
        &mut t,
        &mut p,
        OWNER,
        &rsa_signing(TpmtRsaScheme::Null, sign_attrs()),
    );
    let n = rsa_n(&public);
    let digest = Sha256::digest(b"message").to_vec();

    // RSASSA
    let r = sign(&mut t, &mut p, k, &digest, &scheme(RSASSA, SHA256));
    let sig = sig_of(&r);
    assert_eq!(&sig[..4], &[0x00, 0x14, 0x00, 0x0B]);
    assert_eq!(u16::from_be_bytes([sig[4], sig[5]]), 256);
    assert!(rsassa_ok(&n, &sig[6..], &digest));
    assert!(!rsassa_ok(&n, &sig[6..], &Sha256::digest(b"other")));
    let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &sig));
    assert_eq!(plain(&r), verified_ticket(&t, OWNER, &digest, &name));

    // RSAPSS
    let r = sign(&mut t, &mut p, k, &digest, &scheme(RSAPSS, SHA256));
    let sig = sig_of(&r);
    assert_eq!(&sig[..4], &[0x00, 0x16, 0x00, 0x0B]);
    assert!(rsapss_ok(&n, &sig[6..], &digest).is_some());
    assert!(rsapss_ok(&n, &sig[6..], &Sha256::digest(b"other")).is_none());
    let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &sig));
    assert_eq!(r.rc, 0);

    // a tampered signature, and a signature over another digest
    let mut bad = sig.clone();
    bad[100] ^= 1;
    let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &bad));
    assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(2).value());
    let r = run(
        &mut t,
        &mut p,
        &verify_cmd(k, &Sha256::digest(b"other"), &sig),
    );
    assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(2).value());

    // NULL scheme with a NULL-scheme key
    let r = sign(&mut t, &mut p, k, &digest, &scheme(ALG_NULL, 0));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
    // ECDSA with an RSA key
    let r = sign(&mut t, &mut p, k, &digest, &scheme(ECDSA, SHA256));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
    // wrong digest size
    let r = sign(&mut t, &mut p, k, &digest[..20], &scheme(RSASSA, SHA256));
    assert_eq!(r.rc, TpmRc::SIZE.at_param(1).value());
}

#[test]
fn ecdsa_sign_and_verify() {
    let (mut t, mut p) = started();
    let (k, public, name) = primary(&mut t, &mut p, OWNER, &ecc_signing());
    let digest = Sha256::digest(b"ecdsa message").to_vec();
    // the key's scheme, with a NULL or an equal requested scheme
    for sch in [scheme(ALG_NULL, 0), scheme(ECDSA, SHA256)] {
        let r = sign(&mut t, &mut p, k, &digest, &sch);
        let sig = sig_of(&r);
        let (h, rr, ss) = ecdsa_rs(&sig);
        assert_eq!(h, SHA256);
        assert!(p256_verify(&public, &digest, &rr, &ss));
        assert!(!p256_verify(&public, &Sha256::digest(b"x"), &rr, &ss));
        let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &sig));
        assert_eq!(plain(&r), verified_ticket(&t, OWNER, &digest, &name));
        // tampered s
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &bad));
        assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(2).value());
    }
    // scheme mismatch: the key fixes ECDSA-SHA256
    let r = sign(&mut t, &mut p, k, &digest, &scheme(ECDSA, SHA384));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
    let r = sign(&mut t, &mut p, k, &digest, &scheme(RSASSA, SHA256));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
    // digest of the wrong size
    let r = sign(&mut t, &mut p, k, &digest[..31], &scheme(ALG_NULL, 0));
    assert_eq!(r.rc, TpmRc::SIZE.at_param(1).value());
    // a key in the NULL hierarchy gets the NULL ticket
    let (kn, _, _) = primary(&mut t, &mut p, NULL_HIER, &ecc_signing());
    let sig = sig_of(&sign(&mut t, &mut p, kn, &digest, &scheme(ALG_NULL, 0)));
    let r = run(&mut t, &mut p, &verify_cmd(kn, &digest, &sig));
    assert_eq!(
        plain(&r),
        vec![0x80, 0x22, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]
    );
    // the signature of another key does not verify
    let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &sig));
    assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(2).value());
}

#[test]
fn ecdsa_sha384_with_null_scheme_key() {
    let (mut t, mut p) = started();
    let mut tmpl = ecc_signing();
    if let TpmuPublicParms::Ecc(e) = &mut tmpl.parameters {
        e.scheme = TpmtEccScheme::Null;
    }
    let (k, public, _) = primary(&mut t, &mut p, OWNER, &tmpl);
    let digest = Sha384::digest(b"m").to_vec();
    let sig = sig_of(&sign(&mut t, &mut p, k, &digest, &scheme(ECDSA, SHA384)));
    let (h, rr, ss) = ecdsa_rs(&sig);
    assert_eq!(h, SHA384);
    // P-256 ECDSA with a longer digest uses its leftmost 256 bits
    assert!(p256_verify(&public, &digest, &rr, &ss));
    assert_eq!(run(&mut t, &mut p, &verify_cmd(k, &digest, &sig)).rc, 0);
    // no scheme at all
    let r = sign(&mut t, &mut p, k, &digest, &scheme(ALG_NULL, 0));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
}

#[test]
fn hmac_sign_and_verify() {
    let key_bytes = b"0123456789abcdef0123456789abcdef";
    let (mut t, mut p) = started();
    let mut tmpl = hmac_key();
    tmpl.object_attributes = FIXED
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::SIGN_ENCRYPT);
    let r = run(
        &mut t,
        &mut p,
        &create_primary_cmd(OWNER, &sens(b"", key_bytes), &tmpl),
    );
    let k = split(&r, 1).0[0];
    let digest = Sha256::digest(b"hmac me").to_vec();
    let sig = sig_of(&sign(&mut t, &mut p, k, &digest, &scheme(ALG_NULL, 0)));
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key_bytes).unwrap();
    mac.update(&digest);
    let mut want = vec![0x00, 0x05, 0x00, 0x0B];
    want.extend_from_slice(&mac.finalize().into_bytes());
    assert_eq!(sig, want);
    assert_eq!(run(&mut t, &mut p, &verify_cmd(k, &digest, &sig)).rc, 0);
    let mut bad = sig.clone();
    bad[10] ^= 1;
    let r = run(&mut t, &mut p, &verify_cmd(k, &digest, &bad));
    assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(2).value());
    // HMAC-SHA1 is not this key's scheme
    let r = sign(&mut t, &mut p, k, &digest[..20], &scheme(HMAC, SHA1));
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
}

#[test]
fn refusals_by_key() {
    let (mut t, mut p) = started();
    let digest = Sha256::digest(b"d").to_vec();
    // a decrypt-only key
    let srk = owner_srk(&mut t, &mut p);
    let r = sign(&mut t, &mut p, srk, &digest, &scheme(ECDSA, SHA256));
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
    let sig = [&[0x00, 0x18, 0x00, 0x0B, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01][..]].concat();
    let r = run(&mut t, &mut p, &verify_cmd(srk, &digest, &sig));
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
    // a malformed signature structure
    let r = run(
        &mut t,
        &mut p,
        &verify_cmd(srk, &digest, &[0x00, 0x18, 0x00]),
    );
    assert_ne!(r.rc, 0);
}

#[test]
fn restricted_key_needs_a_ticket() {
    let (mut t, mut p) = started();
    let mut tmpl = ecc_signing();
    tmpl.object_attributes = sign_attrs().with(TpmaObject::RESTRICTED);
    let (k, public, _) = primary(&mut t, &mut p, OWNER, &tmpl);
    let data = b"data hashed by the TPM";
    let digest = Sha256::digest(data).to_vec();
    // no ticket
    let r = sign(&mut t, &mut p, k, &digest, &scheme(ALG_NULL, 0));
    assert_eq!(r.rc, TpmRc::TICKET.at_param(3).value());
    // a ticket from TPM2_Hash
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HASH).params(|w| {
            w.tpm2b(data);
            w.u16(SHA256);
            w.u32(OWNER)
        }),
    );
    assert_eq!(r.rc, 0);
    let mut rd = Reader::new(&r.body);
    let d = take_2b(&mut rd)[2..].to_vec();
    assert_eq!(d, digest);
    let ticket = rd.bytes(rd.remaining()).unwrap().to_vec();
    let r = run(
        &mut t,
        &mut p,
        &sign_cmd(&k.to_be_bytes(), &digest, &scheme(ALG_NULL, 0), &ticket),
    );
    let (_, rr, ss) = ecdsa_rs(&sig_of(&r));
    assert!(p256_verify(&public, &digest, &rr, &ss));
    // the ticket for another digest
    let other = Sha256::digest(b"other").to_vec();
    let r = run(
        &mut t,
        &mut p,
        &sign_cmd(&k.to_be_bytes(), &other, &scheme(ALG_NULL, 0), &ticket),
    );
    assert_eq!(r.rc, TpmRc::TICKET.at_param(3).value());
    // an unrestricted key checks a non-NULL ticket too
    let (u, _, _) = primary(&mut t, &mut p, OWNER, &ecc_signing());
    let r = run(
        &mut t,
        &mut p,
        &sign_cmd(&u.to_be_bytes(), &other, &scheme(ALG_NULL, 0), &ticket),
    );
    assert_eq!(r.rc, TpmRc::TICKET.at_param(3).value());
    let r = run(
        &mut t,
        &mut p,
        &sign_cmd(&u.to_be_bytes(), &digest, &scheme(ALG_NULL, 0), &ticket),
    );
    assert_eq!(r.rc, 0);
}

#[test]
fn public_only_key_verifies() {
    let (mut t, mut p) = started();
    let (k, public, _) = primary(&mut t, &mut p, OWNER, &ecc_signing());
    let digest = Sha256::digest(b"external").to_vec();
    let sig = sig_of(&sign(&mut t, &mut p, k, &digest, &scheme(ALG_NULL, 0)));
    let mut w = crate::marshal::Writer::new();
    crate::marshal::Marshal::marshal(&public, &mut w);
    let public_bytes = w.into_vec();
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::LOAD_EXTERNAL).params(|w| {
            w.u16(0);
            w.tpm2b(&public_bytes);
            w.u32(NULL_HIER)
        }),
    );
    let ext = u32::from_be_bytes(plain(&r)[..4].try_into().unwrap());
    let r = run(&mut t, &mut p, &verify_cmd(ext, &digest, &sig));
    assert_eq!(
        plain(&r),
        vec![0x80, 0x22, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]
    );
    // but cannot sign
    let r = sign(&mut t, &mut p, ext, &digest, &scheme(ALG_NULL, 0));
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
}
