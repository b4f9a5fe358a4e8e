//! Tests of the policy assertions: expected digests, tickets and timeouts are
//! computed here with sha2 / hmac, signatures made with p256.

use alloc::vec;
use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::{Digest, Sha256, Sha512};

use super::{check_condition, eo};
use crate::marshal::{Marshal, Reader, Writer};
use crate::objects::testkit::*;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh, TpmSt};
use crate::types::nv::{Tpm2bNvPublic, TpmaNv, TpmsNvPublic};
use crate::types::public::{Tpm2bPublic, TpmEccCurve, TpmsEccPoint, TpmtPublic, TpmuPublicId};
use crate::types::sized::Tpm2bDigest;
use crate::{TestPlatform, Tpm};

const OWNER: u32 = TpmRh::OWNER.0;
const IDX: u32 = 0x0150_0020;

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn hmac512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn cc(c: TpmCc) -> [u8; 4] {
    c.0.to_be_bytes()
}

/// Starts an unbound, unsalted SHA-256 policy (0x01) or trial (0x03) session;
/// returns its handle and nonceTPM.
fn start(t: &mut Tpm, p: &mut TestPlatform, kind: u8) -> (u32, Vec<u8>) {
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(|w| {
            w.tpm2b(&[7u8; 16]);
            w.tpm2b(b"");
            w.u8(kind);
            w.u16(0x0010);
            w.u16(0x000B);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let h = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    (h, r.body[6..].to_vec())
}

fn flush(t: &mut Tpm, p: &mut TestPlatform, h: u32) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    assert_eq!(r.rc, 0);
}

fn get_digest(t: &mut Tpm, p: &mut TestPlatform, s: u32) -> Vec<u8> {
    let r = run(t, p, &Cmd::new(TpmCc::POLICY_GET_DIGEST).handle(s));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    r.body[2..].to_vec()
}

/// A command authorized by one policy session with an empty hmac.
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
    a.u8(1);
    a.tpm2b(b"");
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut b = w.into_vec();
    let n = b.len() as u32;
    b[2..6].copy_from_slice(&n.to_be_bytes());
    b
}

fn signing_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap()
}

/// The public area of `key` as an ECDSA-SHA256 signing key.
fn ecc_public(key: &p256::ecdsa::SigningKey) -> TpmtPublic {
    use p256::elliptic_curve::sec1::ToSec1Point;
    let point = key.verifying_key().as_affine().to_sec1_point(false);
    let mut t = ecc_signing();
    t.unique = TpmuPublicId::Ecc(TpmsEccPoint {
        x: crate::types::public::Tpm2bEccParameter::new(point.x().unwrap()).unwrap(),
        y: crate::types::public::Tpm2bEccParameter::new(point.y().unwrap()).unwrap(),
    });
    if let crate::types::public::TpmuPublicParms::Ecc(e) = &t.parameters {
        assert_eq!(e.curve_id, TpmEccCurve::NIST_P256);
    }
    t
}

/// Loads the public part of `key` with LoadExternal in `hierarchy`; returns the
/// handle and the Name computed here (0x000B || SHA-256(TPMT_PUBLIC)).
fn load_external(
    t: &mut Tpm,
    p: &mut TestPlatform,
    key: &p256::ecdsa::SigningKey,
    hierarchy: u32,
) -> (u32, Vec<u8>) {
    let mut w = Writer::new();
    ecc_public(key).marshal(&mut w);
    let public = w.into_vec();
    let pb = public.clone();
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::LOAD_EXTERNAL).params(move |w| {
            w.u16(0);
            w.tpm2b(&pb);
            w.u32(hierarchy);
        }),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let h = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    let mut name = vec![0x00, 0x0B];
    name.extend_from_slice(&sha256(&[&public]));
    (h, name)
}

/// ECDSA-SHA256 over aHash = SHA-256(nonce || expiration || cpHash || policyRef),
/// as a marshaled TPMT_SIGNATURE.
fn sign_ahash(
    key: &p256::ecdsa::SigningKey,
    nonce: &[u8],
    expiration: i32,
    cp: &[u8],
    policy_ref: &[u8],
) -> Vec<u8> {
    let a_hash = sha256(&[nonce, &expiration.to_be_bytes(), cp, policy_ref]);
    let sig: p256::ecdsa::Signature = key.sign_prehash(&a_hash).unwrap();
    let bytes = sig.to_bytes();
    let mut w = Writer::new();
    w.u16(0x0018); // TPM_ALG_ECDSA
    w.u16(0x000B);
    w.tpm2b(&bytes[..32]);
    w.tpm2b(&bytes[32..]);
    w.into_vec()
}

#[allow(clippy::too_many_arguments)]
fn policy_signed(
    t: &mut Tpm,
    p: &mut TestPlatform,
    key: u32,
    s: u32,
    nonce: &[u8],
    cp: &[u8],
    policy_ref: &[u8],
    expiration: i32,
    sig: &[u8],
) -> Resp {
    let (n, c, r, sg) = (
        nonce.to_vec(),
        cp.to_vec(),
        policy_ref.to_vec(),
        sig.to_vec(),
    );
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_SIGNED)
            .handle(key)
            .handle(s)
            .params(move |w| {
                w.tpm2b(&n);
                w.tpm2b(&c);
                w.tpm2b(&r);
                w.u32(u32::from_be_bytes(expiration.to_be_bytes()));
                w.bytes(&sg);
            }),
    )
}

/// timeout, (tag, hierarchy, digest) of a PolicySigned / PolicySecret response
/// (`skip` octets of response framing first).
fn timeout_and_ticket(body: &[u8], skip: usize) -> (Vec<u8>, (u16, u32, Vec<u8>)) {
    let mut r = Reader::new(&body[skip..]);
    let n = r.u16().unwrap() as usize;
    let timeout = r.bytes(n).unwrap().to_vec();
    let tag = r.u16().unwrap();
    let h = r.u32().unwrap();
    let m = r.u16().unwrap() as usize;
    let d = r.bytes(m).unwrap().to_vec();
    (timeout, (tag, h, d))
}

#[allow(clippy::too_many_arguments)]
fn policy_ticket(
    t: &mut Tpm,
    p: &mut TestPlatform,
    s: u32,
    timeout: &[u8],
    cp: &[u8],
    policy_ref: &[u8],
    name: &[u8],
    ticket: &(u16, u32, Vec<u8>),
) -> u32 {
    let (to, c, r, n, tk) = (
        timeout.to_vec(),
        cp.to_vec(),
        policy_ref.to_vec(),
        name.to_vec(),
        ticket.clone(),
    );
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_TICKET).handle(s).params(move |w| {
            w.tpm2b(&to);
            w.tpm2b(&c);
            w.tpm2b(&r);
            w.tpm2b(&n);
            w.u16(tk.0);
            w.u32(tk.1);
            w.tpm2b(&tk.2);
        }),
    )
    .rc
}

fn signed_digest(name: &[u8], policy_ref: &[u8]) -> Vec<u8> {
    let d = sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_SIGNED), name]);
    sha256(&[&d, policy_ref])
}

#[test]
fn policy_signed_digest_and_refusals() {
    let (mut t, mut p) = started();
    let key = signing_key();
    let (kh, name) = load_external(&mut t, &mut p, &key, TpmRh::NULL.0);
    let (s, nonce) = start(&mut t, &mut p, 0x01);
    // A signature over other data does not verify.
    let bad = sign_ahash(&key, &nonce, 0, b"", b"other");
    let r = policy_signed(&mut t, &mut p, kh, s, &nonce, b"", b"ref", 0, &bad);
    assert_eq!(r.rc, TpmRc::SIGNATURE.at_param(5).value());
    // A nonce that is not the session's.
    let sig = sign_ahash(&key, &[1; 32], 0, b"", b"ref");
    let r = policy_signed(&mut t, &mut p, kh, s, &[1; 32], b"", b"ref", 0, &sig);
    assert_eq!(r.rc, TpmRc::NONCE.at_param(1).value());
    // A cpHashA of the wrong size.
    let r = policy_signed(&mut t, &mut p, kh, s, &nonce, &[1; 20], b"ref", 0, &sig);
    assert_eq!(r.rc, TpmRc::SIZE.at_param(2).value());
    // A NULL signature names no hash.
    let r = policy_signed(&mut t, &mut p, kh, s, &nonce, b"", b"ref", 0, &[0, 0x10]);
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(5).value());
    assert_eq!(get_digest(&mut t, &mut p, s), vec![0u8; 32]);
    // The right signature: the digest, an empty timeout and the NULL ticket.
    let sig = sign_ahash(&key, &nonce, 0, b"", b"ref");
    let r = policy_signed(&mut t, &mut p, kh, s, &nonce, b"", b"ref", 0, &sig);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(r.body, [0, 0, 0x80, 0x25, 0x40, 0, 0, 7, 0, 0]);
    assert_eq!(get_digest(&mut t, &mut p, s), signed_digest(&name, b"ref"));
    // A trial session takes any signature and reaches the same digest.
    let (tr, _) = start(&mut t, &mut p, 0x03);
    let r = policy_signed(&mut t, &mut p, kh, tr, b"", b"", b"ref", 0, &bad);
    assert_eq!(r.rc, 0);
    assert_eq!(get_digest(&mut t, &mut p, tr), signed_digest(&name, b"ref"));
    // A key without the sign attribute is refused.
    let srk = owner_srk(&mut t, &mut p);
    let (s2, n2) = start(&mut t, &mut p, 0x01);
    let r = policy_signed(&mut t, &mut p, srk, s2, &n2, b"", b"", 0, &sig);
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
}

#[test]
fn policy_signed_ticket_and_policy_ticket() {
    let (mut t, mut p) = started();
    p.now_ms = 100_000;
    let key = signing_key();
    let (kh, name) = load_external(&mut t, &mut p, &key, TpmRh::NULL.0);
    let (s, nonce) = start(&mut t, &mut p, 0x01);
    let start_time = t.sessions.get(s).unwrap().start_time;
    p.now_ms += 2_000;
    let cp = [0x33u8; 32];
    let sig = sign_ahash(&key, &nonce, -10, &cp, b"r");
    let r = policy_signed(&mut t, &mut p, kh, s, &nonce, &cp, b"r", -10, &sig);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let (timeout, ticket) = timeout_and_ticket(&r.body, 0);
    // The timeout counts from when nonceTPM was issued; not reset-bound.
    let want_timeout = start_time + 10_000;
    assert_eq!(timeout, want_timeout.to_be_bytes());
    assert_eq!(ticket.0, TpmSt::AUTH_SIGNED.0);
    assert_eq!(ticket.1, TpmRh::NULL.0);
    let want = hmac512(
        &t.reset.null_proof.0,
        &[
            &[0x80, 0x25],
            &cp,
            b"r",
            &name,
            &want_timeout.to_be_bytes(),
            &t.time_epoch.to_be_bytes(),
        ],
    );
    assert_eq!(ticket.2, want);
    assert_eq!(t.sessions.get(s).unwrap().policy.timeout, want_timeout);
    assert_eq!(get_digest(&mut t, &mut p, s), signed_digest(&name, b"r"));

    // PolicyTicket in another session reaches the same digest.
    let (s2, _) = start(&mut t, &mut p, 0x01);
    let rc = policy_ticket(&mut t, &mut p, s2, &timeout, &cp, b"r", &name, &ticket);
    assert_eq!(rc, 0, "rc {:#x}", rc);
    assert_eq!(get_digest(&mut t, &mut p, s2), signed_digest(&name, b"r"));
    assert_eq!(t.sessions.get(s2).unwrap().policy.timeout, want_timeout);
    // Tampered: other policyRef, other timeout, other digest, other tag.
    flush(&mut t, &mut p, s);
    let (s3, _) = start(&mut t, &mut p, 0x01);
    let tk = TpmRc::TICKET.at_param(5).value();
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, &cp, b"x", &name, &ticket),
        tk
    );
    let later = (want_timeout + 1).to_be_bytes();
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &later, &cp, b"r", &name, &ticket),
        tk
    );
    let mut bad = ticket.clone();
    bad.2[3] ^= 1;
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, &cp, b"r", &name, &bad),
        tk
    );
    let mut secret = ticket.clone();
    secret.0 = TpmSt::AUTH_SECRET.0;
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, &cp, b"r", &name, &secret),
        tk
    );
    let mut other_tag = ticket.clone();
    other_tag.0 = TpmSt::VERIFIED.0;
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, &cp, b"r", &name, &other_tag),
        TpmRc::TAG.at_param(5).value()
    );
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &[1, 2, 3], &cp, b"r", &name, &ticket),
        TpmRc::SIZE.at_param(1).value()
    );
    // A trial session may not use tickets.
    flush(&mut t, &mut p, s2);
    let (tr, _) = start(&mut t, &mut p, 0x03);
    assert_eq!(
        policy_ticket(&mut t, &mut p, tr, &timeout, &cp, b"r", &name, &ticket),
        TpmRc::ATTRIBUTES.at_handle(1).value()
    );
    // After the timeout the ticket is refused.
    p.now_ms = 100_000 + 10_001;
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, &cp, b"r", &name, &ticket),
        TpmRc::EXPIRED.at_param(1).value()
    );
}

#[test]
fn expired_authorizations_are_refused() {
    let (mut t, mut p) = started();
    let key = signing_key();
    let (kh, name) = load_external(&mut t, &mut p, &key, TpmRh::NULL.0);
    // Without nonceTPM the expiration is a TPM Time in seconds: 1 s has passed.
    p.now_ms = 5_000;
    let (s, _) = start(&mut t, &mut p, 0x01);
    let sig = sign_ahash(&key, b"", 1, b"", b"");
    let r = policy_signed(&mut t, &mut p, kh, s, b"", b"", b"", 1, &sig);
    assert_eq!(r.rc, TpmRc::EXPIRED.at_param(4).value());
    // 60 s of Time is still ahead: accepted, and the session times out then.
    let sig = sign_ahash(&key, b"", 60, b"", b"");
    let r = policy_signed(&mut t, &mut p, kh, s, b"", b"", b"", 60, &sig);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(t.sessions.get(s).unwrap().policy.timeout, 60_000);
    // An object with that policy: usable before the timeout, not after.
    let policy = signed_digest(&name, b"");
    let srk = owner_srk(&mut t, &mut p);
    let mut tmpl = sealed();
    tmpl.object_attributes = tmpl
        .object_attributes
        .without(crate::types::public::TpmaObject::USER_WITH_AUTH);
    tmpl.auth_policy = Tpm2bDigest::new(&policy).unwrap();
    let obj = create_and_load(&mut t, &mut p, srk, &sens(b"", b"data"), &tmpl);
    p.now_ms = 60_001;
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::UNSEAL, &[obj], s, &[]),
    );
    assert_eq!(r.rc, TpmRc::EXPIRED.at_session(1).value());
    // A new assertion with a later expiration works.
    let (s2, nonce2) = start(&mut t, &mut p, 0x01);
    let sig = sign_ahash(&key, &nonce2, 30, b"", b"");
    let r = policy_signed(&mut t, &mut p, kh, s2, &nonce2, b"", b"", 30, &sig);
    assert_eq!(r.rc, 0);
    assert_eq!(t.sessions.get(s2).unwrap().policy.timeout, 60_001 + 30_000);
    p.now_ms += 1_000;
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::UNSEAL, &[obj], s2, &[]),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // The new nonceTPM starts a new timing interval; the policy starts over.
    let st = t.sessions.get(s2).unwrap();
    assert_eq!((st.start_time, st.policy.timeout), (61_001, 0));
}

fn policy_secret(
    t: &mut Tpm,
    p: &mut TestPlatform,
    auth: u32,
    s: u32,
    nonce: &[u8],
    expiration: i32,
) -> Resp {
    let n = nonce.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_SECRET)
            .handle(auth)
            .handle(s)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(&n);
                w.tpm2b(b"");
                w.tpm2b(b"");
                w.u32(u32::from_be_bytes(expiration.to_be_bytes()));
            }),
    )
}

fn restart_clear(t: &mut Tpm, p: &mut TestPlatform) {
    let r = run(t, p, &Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0)));
    assert_eq!(r.rc, 0);
    t.power_on(p);
    let r = run(t, p, &startup_clear());
    assert_eq!(r.rc, 0);
}

#[test]
fn policy_secret_expiration_and_ticket() {
    let (mut t, mut p) = started();
    let (s, _) = start(&mut t, &mut p, 0x01);
    // Without nonceTPM: Time 20 s, the ticket also ends at TPM Reset.
    let r = policy_secret(&mut t, &mut p, OWNER, s, b"", -20);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let (timeout, ticket) = timeout_and_ticket(&r.body, 4);
    let raw = u64::from_be_bytes(timeout.clone().try_into().unwrap());
    assert_eq!(raw, (1 << 63) | 20_000);
    assert_eq!((ticket.0, ticket.1), (TpmSt::AUTH_SECRET.0, OWNER));
    let name = OWNER.to_be_bytes();
    let want = hmac512(
        &t.perm.sh_proof.0,
        &[
            &[0x80, 0x23],
            b"",
            b"",
            &name,
            &20_000u64.to_be_bytes(),
            &t.time_epoch.to_be_bytes(),
            &u64::from(t.perm.total_reset_count).to_be_bytes(),
        ],
    );
    assert_eq!(ticket.2, want);
    let d = sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_SECRET), &name]);
    let d = sha256(&[&d, b""]);
    assert_eq!(get_digest(&mut t, &mut p, s), d);
    // A positive expiration sets the timeout but returns no ticket.
    let (s2, nonce2) = start(&mut t, &mut p, 0x01);
    let r = policy_secret(&mut t, &mut p, OWNER, s2, &nonce2, 5);
    assert_eq!(r.rc, 0);
    let (timeout2, ticket2) = timeout_and_ticket(&r.body, 4);
    assert!(timeout2.is_empty());
    assert_eq!((ticket2.1, ticket2.2.len()), (TpmRh::NULL.0, 0));
    assert_eq!(t.sessions.get(s2).unwrap().policy.timeout, 5_000);
    // The ticket works in another session...
    let (s3, _) = start(&mut t, &mut p, 0x01);
    assert_eq!(
        policy_ticket(&mut t, &mut p, s3, &timeout, b"", b"", &name, &ticket),
        0
    );
    assert_eq!(get_digest(&mut t, &mut p, s3), d);
    // ...but not after a TPM Reset.
    restart_clear(&mut t, &mut p);
    let (s4, _) = start(&mut t, &mut p, 0x01);
    assert_eq!(
        policy_ticket(&mut t, &mut p, s4, &timeout, b"", b"", &name, &ticket),
        TpmRc::TICKET.at_param(5).value()
    );
}

#[test]
fn ticket_with_nonce_is_void_after_power_cycle() {
    let (mut t, mut p) = started();
    let (s, nonce) = start(&mut t, &mut p, 0x01);
    let r = policy_secret(&mut t, &mut p, OWNER, s, &nonce, -100);
    assert_eq!(r.rc, 0);
    let (timeout, ticket) = timeout_and_ticket(&r.body, 4);
    let name = OWNER.to_be_bytes();
    // Shutdown(STATE) and Startup(STATE): a TPM Resume, not a Reset; Time restarts.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    t.power_on(&mut p);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    let (s2, _) = start(&mut t, &mut p, 0x01);
    assert_eq!(
        policy_ticket(&mut t, &mut p, s2, &timeout, b"", b"", &name, &ticket),
        TpmRc::TICKET.at_param(5).value()
    );
}

#[test]
fn conditions() {
    use eo::*;
    let (a, b) = ([0x00u8, 0x05], [0x00u8, 0x03]);
    let neg = [0xFFu8, 0xFF]; // -1
    for (op, x, y, want) in [
        (EQ, &a, &a, true),
        (EQ, &a, &b, false),
        (NEQ, &a, &b, true),
        (UNSIGNED_GT, &a, &b, true),
        (UNSIGNED_GT, &b, &a, false),
        (UNSIGNED_GT, &neg, &a, true),
        (SIGNED_GT, &neg, &a, false),
        (SIGNED_GT, &a, &neg, true),
        (SIGNED_LT, &neg, &a, true),
        (UNSIGNED_LT, &neg, &a, false),
        (UNSIGNED_LT, &b, &a, true),
        (SIGNED_GE, &a, &a, true),
        (SIGNED_GE, &neg, &b, false),
        (UNSIGNED_GE, &a, &b, true),
        (UNSIGNED_GE, &b, &a, false),
        (SIGNED_LE, &neg, &b, true),
        (SIGNED_LE, &a, &b, false),
        (UNSIGNED_LE, &b, &b, true),
        (UNSIGNED_LE, &neg, &b, false),
        (BITSET, &a, &[0x00, 0x04], true),
        (BITSET, &a, &[0x00, 0x02], false),
        (BITCLEAR, &a, &[0x00, 0x02], true),
        (BITCLEAR, &a, &[0x00, 0x01], false),
    ] {
        assert_eq!(check_condition(op, x, y), want, "op {op} {x:?} {y:?}");
    }
    assert!(!check_condition(0x0C, &a, &a));
    assert!(check_condition(EQ, &[], &[]));
}

fn nv_public(attrs: u32, size: u16) -> TpmsNvPublic {
    TpmsNvPublic {
        nv_index: IDX,
        name_alg: crate::crypto::hash::HashAlg::Sha256,
        attributes: TpmaNv(attrs),
        auth_policy: Tpm2bDigest::empty(),
        data_size: size,
    }
}

/// Defines IDX (owner and index read/write) and writes `data`; returns its Name.
fn nv_with(t: &mut Tpm, p: &mut TestPlatform, data: &[u8]) -> Vec<u8> {
    let attrs = TpmaNv::OWNERWRITE | TpmaNv::OWNERREAD | TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD;
    let public = nv_public(attrs, data.len() as u16);
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_DEFINE_SPACE)
            .handle(OWNER)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(b"");
                Tpm2bNvPublic(public).marshal(w);
            }),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let d = data.to_vec();
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_WRITE)
            .handle(OWNER)
            .handle(IDX)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(&d);
                w.u16(0);
            }),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // The Name after the write: WRITTEN is SET.
    let mut w = Writer::new();
    nv_public(attrs | TpmaNv::WRITTEN, data.len() as u16).marshal(&mut w);
    let mut name = vec![0x00, 0x0B];
    name.extend_from_slice(&sha256(&[w.as_slice()]));
    name
}

fn policy_nv(
    t: &mut Tpm,
    p: &mut TestPlatform,
    s: u32,
    operand: &[u8],
    offset: u16,
    op: u16,
) -> u32 {
    let o = operand.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_NV)
            .handle(OWNER)
            .handle(IDX)
            .handle(s)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(&o);
                w.u16(offset);
                w.u16(op);
            }),
    )
    .rc
}

fn nv_digest(prev: &[u8], operand: &[u8], offset: u16, op: u16, name: &[u8]) -> Vec<u8> {
    let args = sha256(&[operand, &offset.to_be_bytes(), &op.to_be_bytes()]);
    sha256(&[prev, &cc(TpmCc::POLICY_NV), &args, name])
}

#[test]
fn policy_nv_compares_index_data() {
    let (mut t, mut p) = started();
    let name = nv_with(&mut t, &mut p, &[0, 0, 0, 0, 0, 0, 0x10, 0x20]);
    assert_eq!(t.entity_name(IDX), name);
    let (s, _) = start(&mut t, &mut p, 0x01);
    let zero = vec![0u8; 32];
    assert_eq!(policy_nv(&mut t, &mut p, s, &[0x10, 0x20], 6, eo::EQ), 0);
    let d1 = nv_digest(&zero, &[0x10, 0x20], 6, eo::EQ, &name);
    assert_eq!(get_digest(&mut t, &mut p, s), d1);
    assert_eq!(
        policy_nv(&mut t, &mut p, s, &[0x10, 0x00], 6, eo::UNSIGNED_GT),
        0
    );
    let d2 = nv_digest(&d1, &[0x10, 0x00], 6, eo::UNSIGNED_GT, &name);
    assert_eq!(get_digest(&mut t, &mut p, s), d2);
    // A false comparison, an offset beyond the index, an operand past its end,
    // an unknown operation.
    assert_eq!(
        policy_nv(&mut t, &mut p, s, &[0x10, 0x21], 6, eo::EQ),
        TpmRc::POLICY.value()
    );
    assert_eq!(
        policy_nv(&mut t, &mut p, s, &[0x10], 9, eo::EQ),
        TpmRc::VALUE.at_param(2).value()
    );
    assert_eq!(
        policy_nv(&mut t, &mut p, s, &[0x10, 0x20, 0], 6, eo::EQ),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(
        policy_nv(&mut t, &mut p, s, &[0x10], 6, 0x0C),
        TpmRc::VALUE.at_param(3).value()
    );
    assert_eq!(get_digest(&mut t, &mut p, s), d2);
    // A trial session takes any comparison.
    let (tr, _) = start(&mut t, &mut p, 0x03);
    assert_eq!(policy_nv(&mut t, &mut p, tr, &[0x99], 0, eo::EQ), 0);
    assert_eq!(
        get_digest(&mut t, &mut p, tr),
        nv_digest(&zero, &[0x99], 0, eo::EQ, &name)
    );
}

fn policy_ct(
    t: &mut Tpm,
    p: &mut TestPlatform,
    s: u32,
    operand: &[u8],
    offset: u16,
    op: u16,
) -> u32 {
    let o = operand.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_COUNTER_TIMER)
            .handle(s)
            .params(move |w| {
                w.tpm2b(&o);
                w.u16(offset);
                w.u16(op);
            }),
    )
    .rc
}

#[test]
fn policy_counter_timer_compares_time_info() {
    let (mut t, mut p) = started();
    p.now_ms = 50_000;
    let (s, _) = start(&mut t, &mut p, 0x01);
    let reset = t.perm.reset_count.to_be_bytes();
    // resetCount (offset 16) equals the current one; safe (offset 24) is YES.
    assert_eq!(policy_ct(&mut t, &mut p, s, &reset, 16, eo::EQ), 0);
    assert_eq!(policy_ct(&mut t, &mut p, s, &[1], 24, eo::EQ), 0);
    // Time (offset 0) is above 40 s.
    let forty = 40_000u64.to_be_bytes();
    assert_eq!(policy_ct(&mut t, &mut p, s, &forty, 0, eo::UNSIGNED_GT), 0);
    let zero = vec![0u8; 32];
    let step = |prev: &[u8], operand: &[u8], offset: u16, op: u16| {
        let args = sha256(&[operand, &offset.to_be_bytes(), &op.to_be_bytes()]);
        sha256(&[prev, &cc(TpmCc::POLICY_COUNTER_TIMER), &args])
    };
    let d = step(&zero, &reset, 16, eo::EQ);
    let d = step(&d, &[1], 24, eo::EQ);
    let d = step(&d, &forty, 0, eo::UNSIGNED_GT);
    assert_eq!(get_digest(&mut t, &mut p, s), d);
    // Time is not below 40 s; offsets beyond TPMS_TIME_INFO.
    assert_eq!(
        policy_ct(&mut t, &mut p, s, &forty, 0, eo::UNSIGNED_LT),
        TpmRc::POLICY.value()
    );
    assert_eq!(
        policy_ct(&mut t, &mut p, s, &[1], 26, eo::EQ),
        TpmRc::VALUE.at_param(2).value()
    );
    assert_eq!(
        policy_ct(&mut t, &mut p, s, &[1, 2], 24, eo::EQ),
        TpmRc::RANGE.value()
    );
    // A trial session does not compare.
    let (tr, _) = start(&mut t, &mut p, 0x03);
    assert_eq!(policy_ct(&mut t, &mut p, tr, &forty, 0, eo::UNSIGNED_LT), 0);
    assert_eq!(
        get_digest(&mut t, &mut p, tr),
        step(&zero, &forty, 0, eo::UNSIGNED_LT)
    );
}

fn authorize_nv(t: &mut Tpm, p: &mut TestPlatform, s: u32) -> u32 {
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_AUTHORIZE_NV)
            .handle(OWNER)
            .handle(IDX)
            .handle(s)
            .pw(b""),
    )
    .rc
}

#[test]
fn policy_authorize_nv_checks_the_approved_policy() {
    let (mut t, mut p) = started();
    let zero = vec![0u8; 32];
    let approved = sha256(&[&zero, &cc(TpmCc::POLICY_AUTH_VALUE)]);
    let mut content = vec![0x00, 0x0B];
    content.extend_from_slice(&approved);
    let name = nv_with(&mut t, &mut p, &content);
    let (s, _) = start(&mut t, &mut p, 0x01);
    // The policyDigest (zeros) is not the approved one.
    assert_eq!(authorize_nv(&mut t, &mut p, s), TpmRc::VALUE.value());
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::POLICY_AUTH_VALUE).handle(s),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(authorize_nv(&mut t, &mut p, s), 0);
    let want = sha256(&[&zero, &cc(TpmCc::POLICY_AUTHORIZE_NV), &name]);
    assert_eq!(get_digest(&mut t, &mut p, s), want);
    // A trial session skips the check.
    let (tr, _) = start(&mut t, &mut p, 0x03);
    assert_eq!(authorize_nv(&mut t, &mut p, tr), 0);
    assert_eq!(get_digest(&mut t, &mut p, tr), want);
}

#[test]
fn policy_authorize_nv_needs_the_session_hash() {
    let (mut t, mut p) = started();
    let mut content = vec![0x00, 0x04];
    content.extend_from_slice(&[0u8; 20]);
    nv_with(&mut t, &mut p, &content);
    let (s, _) = start(&mut t, &mut p, 0x01);
    assert_eq!(authorize_nv(&mut t, &mut p, s), TpmRc::HASH.value());
}

fn policy_template(t: &mut Tpm, p: &mut TestPlatform, s: u32, h: &[u8]) -> u32 {
    let h = h.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::POLICY_TEMPLATE)
            .handle(s)
            .params(move |w| w.tpm2b(&h)),
    )
    .rc
}

#[test]
fn policy_template_restricts_creation() {
    let (mut t, mut p) = started();
    let tmpl = sealed();
    let mut w = Writer::new();
    tmpl.marshal(&mut w);
    let template_hash = sha256(&[w.as_slice()]);
    let zero = vec![0u8; 32];
    let policy = sha256(&[&zero, &cc(TpmCc::POLICY_TEMPLATE), &template_hash]);
    // A parent whose authPolicy is the template policy.
    let mut parent = ecc_storage();
    parent.auth_policy = Tpm2bDigest::new(&policy).unwrap();
    let (srk, _, _) = primary(&mut t, &mut p, OWNER, &parent);

    let (s, _) = start(&mut t, &mut p, 0x01);
    assert_eq!(
        policy_template(&mut t, &mut p, s, &[1; 20]),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(policy_template(&mut t, &mut p, s, &template_hash), 0);
    assert_eq!(get_digest(&mut t, &mut p, s), policy);
    // A different templateHash, and a cpHash after it, are refused.
    assert_eq!(
        policy_template(&mut t, &mut p, s, &[2; 32]),
        TpmRc::VALUE.at_param(1).value()
    );
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::POLICY_CP_HASH)
            .handle(s)
            .params(|w| w.tpm2b(&template_hash)),
    );
    assert_eq!(r.rc, TpmRc::CPHASH.value());
    let create = |tmpl: &TpmtPublic| {
        let mut w = Writer::new();
        creation_params(&mut w, &sens(b"", b"x"), tmpl);
        with_session(TpmCc::CREATE, &[srk], s, w.as_slice())
    };
    // Another template does not pass.
    let mut other = sealed();
    other.object_attributes = other
        .object_attributes
        .without(crate::types::public::TpmaObject::USER_WITH_AUTH);
    let r = run_at(&mut t, &mut p, 0, &create(&other));
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    // The template does.
    let r = run_at(&mut t, &mut p, 0, &create(&tmpl));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // CreateLoaded: inSensitive, then the template as a TPM2B_TEMPLATE.
    assert_eq!(policy_template(&mut t, &mut p, s, &template_hash), 0);
    let create_loaded = |tmpl: &TpmtPublic| {
        let mut w = Writer::new();
        sens(b"", b"y").marshal(&mut w);
        Tpm2bPublic(tmpl.clone()).marshal(&mut w);
        with_session(TpmCc::CREATE_LOADED, &[srk], s, w.as_slice())
    };
    let r = run_at(&mut t, &mut p, 0, &create_loaded(&other));
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    let r = run_at(&mut t, &mut p, 0, &create_loaded(&tmpl));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let h = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    flush(&mut t, &mut p, h);
    // Another command authorized by the parent does not pass, whatever its
    // parameters.
    assert_eq!(policy_template(&mut t, &mut p, s, &template_hash), 0);
    let mut w = Writer::new();
    Tpm2bPublic(tmpl.clone()).marshal(&mut w);
    let params = [&[0u8, 0][..], w.as_slice()].concat();
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::LOAD, &[srk], s, &params),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    // A cpHash first, then PolicyTemplate: refused.
    let (s2, _) = start(&mut t, &mut p, 0x01);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::POLICY_CP_HASH)
            .handle(s2)
            .params(|w| w.tpm2b(&[5u8; 32])),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(
        policy_template(&mut t, &mut p, s2, &template_hash),
        TpmRc::CPHASH.value()
    );
}

#[test]
fn template_hash_reads_the_second_parameter() {
    use crate::crypto::hash::HashAlg;
    let params = [0, 2, 0xAA, 0xBB, 0, 3, 1, 2, 3, 0xFF];
    assert_eq!(
        super::template_hash(HashAlg::Sha256, TpmCc::CREATE, &params),
        Some(sha256(&[&[1, 2, 3]]))
    );
    assert_eq!(
        super::template_hash(HashAlg::Sha256, TpmCc::CREATE_PRIMARY, &params),
        Some(sha256(&[&[1, 2, 3]]))
    );
    // Another command, or parameters too short for their sizes.
    assert_eq!(
        super::template_hash(HashAlg::Sha256, TpmCc::LOAD, &params),
        None
    );
    for cut in 0..6 {
        assert_eq!(
            super::template_hash(HashAlg::Sha256, TpmCc::CREATE_LOADED, &params[..cut]),
            None
        );
    }
    assert_eq!(
        super::template_hash(HashAlg::Sha256, TpmCc::CREATE, &[0xFF, 0xFF, 0, 0]),
        None
    );
}
