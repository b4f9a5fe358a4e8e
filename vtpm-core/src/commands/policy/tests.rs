//! Policy command tests: expected policy digests are computed here with sha2.

use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::marshal::Writer;
use crate::objects::testkit::*;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh, TpmSt};
use crate::types::public::TpmaObject;
use crate::types::sized::Tpm2bDigest;
use crate::{TestPlatform, Tpm};

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn cc(c: TpmCc) -> [u8; 4] {
    c.0.to_be_bytes()
}

/// Starts an unbound, unsalted SHA-256 policy (0x01) or trial (0x03) session.
fn start(t: &mut Tpm, p: &mut TestPlatform, kind: u8) -> u32 {
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
    u32::from_be_bytes(r.body[0..4].try_into().unwrap())
}

fn get_digest(t: &mut Tpm, p: &mut TestPlatform, s: u32) -> Vec<u8> {
    let r = run(t, p, &Cmd::new(TpmCc::POLICY_GET_DIGEST).handle(s));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    r.body[2..].to_vec()
}

fn policy(t: &mut Tpm, p: &mut TestPlatform, c: TpmCc, s: u32, f: impl FnOnce(&mut Writer)) -> u32 {
    run(t, p, &Cmd::new(c).handle(s).params(f)).rc
}

fn selection_pcr8(w: &mut Writer) {
    w.u32(1);
    w.u16(0x000B);
    w.u8(3);
    w.bytes(&[0, 1, 0]);
}

/// The marshaled selection of PCR 8 in the SHA-256 bank.
fn sel8() -> Vec<u8> {
    let mut w = Writer::new();
    selection_pcr8(&mut w);
    w.into_vec()
}

/// A command authorized by one session (`hmac` as given), bytes built by hand.
fn with_session(c: TpmCc, handles: &[u32], session: u32, hmac: &[u8], params: &[u8]) -> Vec<u8> {
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
    a.tpm2b(hmac);
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut b = w.into_vec();
    let n = b.len() as u32;
    b[2..6].copy_from_slice(&n.to_be_bytes());
    b
}

/// A sealed object with `attrs` changes, authPolicy `policy`, authValue `auth`.
fn sealed_object(
    t: &mut Tpm,
    p: &mut TestPlatform,
    policy: &[u8],
    auth: &[u8],
    user_with_auth: bool,
    admin_with_policy: bool,
) -> u32 {
    let srk = owner_srk(t, p);
    let mut tmpl = sealed();
    if !user_with_auth {
        tmpl.object_attributes = tmpl.object_attributes.without(TpmaObject::USER_WITH_AUTH);
    }
    if admin_with_policy {
        tmpl.object_attributes = tmpl.object_attributes.with(TpmaObject::ADMIN_WITH_POLICY);
    }
    tmpl.auth_policy = Tpm2bDigest::new(policy).unwrap();
    let h = create_and_load(t, p, srk, &sens(auth, b"secret"), &tmpl);
    let r = run(t, p, &Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(srk)));
    assert_eq!(r.rc, 0);
    h
}

fn unseal(t: &mut Tpm, p: &mut TestPlatform, obj: &[u32], s: u32, hmac: &[u8]) -> Resp {
    run_at(t, p, 0, &with_session(TpmCc::UNSEAL, obj, s, hmac, &[]))
}

#[test]
fn simple_assertions_extend_the_digest() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p, 0x01);
    let zero = vec![0u8; 32];
    assert_eq!(get_digest(&mut t, &mut p, s), zero);
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_COMMAND_CODE, s, |w| {
        w.u32(TpmCc::UNSEAL.0)
    });
    assert_eq!(rc, 0);
    let d1 = sha256(&[&zero, &cc(TpmCc::POLICY_COMMAND_CODE), &cc(TpmCc::UNSEAL)]);
    assert_eq!(get_digest(&mut t, &mut p, s), d1);
    // A second, different command code is refused.
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_COMMAND_CODE, s, |w| {
        w.u32(TpmCc::CREATE.0)
    });
    assert_eq!(rc, TpmRc::VALUE.at_param(1).value());
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_AUTH_VALUE, s, |_| {}),
        0
    );
    let d2 = sha256(&[&d1, &cc(TpmCc::POLICY_AUTH_VALUE)]);
    assert_eq!(get_digest(&mut t, &mut p, s), d2);
    // PolicyPassword extends with TPM_CC_PolicyAuthValue too.
    assert_eq!(policy(&mut t, &mut p, TpmCc::POLICY_PASSWORD, s, |_| {}), 0);
    let d3 = sha256(&[&d2, &cc(TpmCc::POLICY_AUTH_VALUE)]);
    assert_eq!(get_digest(&mut t, &mut p, s), d3);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(0x03)),
        0
    );
    let d4 = sha256(&[&d3, &cc(TpmCc::POLICY_LOCALITY), &[3]]);
    assert_eq!(get_digest(&mut t, &mut p, s), d4);
    // No locality would remain.
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(0x04));
    assert_eq!(rc, TpmRc::RANGE.at_param(1).value());
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_PHYSICAL_PRESENCE, s, |_| {}),
        0
    );
    let d5 = sha256(&[&d4, &cc(TpmCc::POLICY_PHYSICAL_PRESENCE)]);
    assert_eq!(get_digest(&mut t, &mut p, s), d5);
    let cp = [5u8; 32];
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_CP_HASH, s, |w| w.tpm2b(&cp)),
        0
    );
    let d6 = sha256(&[&d5, &cc(TpmCc::POLICY_CP_HASH), &cp]);
    assert_eq!(get_digest(&mut t, &mut p, s), d6);
    // A nameHash after a cpHash, and a cpHash of the wrong size, are refused.
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_NAME_HASH, s, |w| w.tpm2b(&cp));
    assert_eq!(rc, TpmRc::CPHASH.value());
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_CP_HASH, s, |w| {
        w.tpm2b(&[1; 20])
    });
    assert_eq!(rc, TpmRc::SIZE.at_param(1).value());
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_NV_WRITTEN, s, |w| w.u8(1)),
        0
    );
    let d7 = sha256(&[&d6, &cc(TpmCc::POLICY_NV_WRITTEN), &[1]]);
    assert_eq!(get_digest(&mut t, &mut p, s), d7);
    assert_eq!(policy(&mut t, &mut p, TpmCc::POLICY_RESTART, s, |_| {}), 0);
    assert_eq!(get_digest(&mut t, &mut p, s), zero);
}

#[test]
fn name_hash_and_duplication_select() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p, 0x03);
    let nh = [3u8; 32];
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_NAME_HASH, s, |w| w.tpm2b(&nh)),
        0
    );
    let zero = vec![0u8; 32];
    let d = sha256(&[&zero, &cc(TpmCc::POLICY_NAME_HASH), &nh]);
    assert_eq!(get_digest(&mut t, &mut p, s), d);
    let s2 = start(&mut t, &mut p, 0x03);
    let (obj, parent) = ([1u8; 34], [2u8; 34]);
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_DUPLICATION_SELECT, s2, |w| {
        w.tpm2b(&obj);
        w.tpm2b(&parent);
        w.u8(1);
    });
    assert_eq!(rc, 0);
    let d = sha256(&[
        &zero,
        &cc(TpmCc::POLICY_DUPLICATION_SELECT),
        &obj,
        &parent,
        &[1],
    ]);
    assert_eq!(get_digest(&mut t, &mut p, s2), d);
}

#[test]
fn policy_or_needs_the_current_digest() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p, 0x01);
    let zero = vec![0u8; 32];
    let other = [0xAAu8; 32];
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_OR, s, |w| {
        w.u32(2);
        w.tpm2b(&other);
        w.tpm2b(&[0xBB; 32]);
    });
    assert_eq!(rc, TpmRc::VALUE.at_param(1).value());
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_OR, s, |w| {
        w.u32(1);
        w.tpm2b(&zero);
    });
    assert_eq!(rc, TpmRc::SIZE.at_param(1).value());
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_OR, s, |w| {
        w.u32(2);
        w.tpm2b(&other);
        w.tpm2b(&zero);
    });
    assert_eq!(rc, 0);
    let d = sha256(&[&zero, &cc(TpmCc::POLICY_OR), &other, &zero]);
    assert_eq!(get_digest(&mut t, &mut p, s), d);
    // A trial session takes any list.
    let tr = start(&mut t, &mut p, 0x03);
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_OR, tr, |w| {
        w.u32(2);
        w.tpm2b(&other);
        w.tpm2b(&other);
    });
    assert_eq!(rc, 0);
}

fn pcr8_policy() -> Vec<u8> {
    // PCR 8 starts as zeros.
    let pcr_digest = sha256(&[&[0u8; 32]]);
    sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_PCR), &sel8(), &pcr_digest])
}

fn policy_pcr8(t: &mut Tpm, p: &mut TestPlatform, s: u32, given: &[u8]) -> u32 {
    let given = given.to_vec();
    policy(t, p, TpmCc::POLICY_PCR, s, move |w| {
        w.tpm2b(&given);
        selection_pcr8(w);
    })
}

fn extend_pcr8(t: &mut Tpm, p: &mut TestPlatform) {
    let c = Cmd::new(TpmCc::PCR_EXTEND).handle(8).pw(b"").params(|w| {
        w.u32(1);
        w.u16(0x000B);
        w.bytes(&[1u8; 32]);
    });
    assert_eq!(run(t, p, &c).rc, 0);
}

#[test]
fn policy_pcr_digest_and_checks() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p, 0x01);
    assert_eq!(
        policy_pcr8(&mut t, &mut p, s, &[0x55; 32]),
        TpmRc::VALUE.at_param(1).value()
    );
    assert_eq!(
        policy_pcr8(&mut t, &mut p, s, &[0x55; 20]),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(policy_pcr8(&mut t, &mut p, s, &sha256(&[&[0u8; 32]])), 0);
    assert_eq!(get_digest(&mut t, &mut p, s), pcr8_policy());
    // A trial session accepts any pcrDigest and uses it.
    let tr = start(&mut t, &mut p, 0x03);
    assert_eq!(policy_pcr8(&mut t, &mut p, tr, &[0x55; 32]), 0);
    let d = sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_PCR), &sel8(), &[0x55; 32]]);
    assert_eq!(get_digest(&mut t, &mut p, tr), d);
}

#[test]
fn unseal_with_a_pcr_policy() {
    let (mut t, mut p) = started();
    let obj = sealed_object(&mut t, &mut p, &pcr8_policy(), b"", false, false);
    // The authValue may not authorize USER when userWithAuth is CLEAR.
    let r = run(&mut t, &mut p, &Cmd::new(TpmCc::UNSEAL).handle(obj).pw(b""));
    assert_eq!(r.rc, TpmRc::AUTH_UNAVAILABLE.at_session(1).value());
    let s = start(&mut t, &mut p, 0x01);
    // Without the assertion the digest does not match.
    let r = unseal(&mut t, &mut p, &[obj], s, b"");
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    assert_eq!(policy_pcr8(&mut t, &mut p, s, b""), 0);
    let r = unseal(&mut t, &mut p, &[obj], s, b"");
    let (_, params) = split(&r, 0);
    assert_eq!(params, [&[0u8, 6][..], b"secret"].concat());
    // The session starts over after authorizing.
    assert_eq!(get_digest(&mut t, &mut p, s), vec![0u8; 32]);
    // A PCR change between PolicyPCR and the use fails the authorization.
    assert_eq!(policy_pcr8(&mut t, &mut p, s, b""), 0);
    extend_pcr8(&mut t, &mut p);
    let r = unseal(&mut t, &mut p, &[obj], s, b"");
    assert_eq!(r.rc, TpmRc::PCR_CHANGED.value());
    // And with the new value the policy no longer matches.
    assert_eq!(policy(&mut t, &mut p, TpmCc::POLICY_RESTART, s, |_| {}), 0);
    assert_eq!(policy_pcr8(&mut t, &mut p, s, b""), 0);
    let r = unseal(&mut t, &mut p, &[obj], s, b"");
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
}

#[test]
fn trial_sessions_never_authorize() {
    let (mut t, mut p) = started();
    let obj = sealed_object(&mut t, &mut p, &pcr8_policy(), b"", false, false);
    let tr = start(&mut t, &mut p, 0x03);
    assert_eq!(policy_pcr8(&mut t, &mut p, tr, b""), 0);
    let r = unseal(&mut t, &mut p, &[obj], tr, b"");
    assert_eq!(r.rc, TpmRc::AUTH_TYPE.at_session(1).value());
}

#[test]
fn command_code_restriction() {
    let (mut t, mut p) = started();
    let zero = vec![0u8; 32];
    let pol = sha256(&[
        &zero,
        &cc(TpmCc::POLICY_COMMAND_CODE),
        &cc(TpmCc::OBJECT_CHANGE_AUTH),
    ]);
    let obj = sealed_object(&mut t, &mut p, &pol, b"", false, false);
    let s = start(&mut t, &mut p, 0x01);
    let rc = policy(&mut t, &mut p, TpmCc::POLICY_COMMAND_CODE, s, |w| {
        w.u32(TpmCc::OBJECT_CHANGE_AUTH.0)
    });
    assert_eq!(rc, 0);
    let r = unseal(&mut t, &mut p, &[obj], s, b"");
    assert_eq!(r.rc, TpmRc::POLICY_CC.at_session(1).value());
}

#[test]
fn password_and_auth_value_policies() {
    let (mut t, mut p) = started();
    let zero = vec![0u8; 32];
    let pol = sha256(&[&zero, &cc(TpmCc::POLICY_AUTH_VALUE)]);
    let obj = sealed_object(&mut t, &mut p, &pol, b"pw", false, false);
    let s = start(&mut t, &mut p, 0x01);
    assert_eq!(policy(&mut t, &mut p, TpmCc::POLICY_PASSWORD, s, |_| {}), 0);
    let r = unseal(&mut t, &mut p, &[obj], s, b"wrong");
    assert_ne!(r.rc, 0);
    assert_eq!(r.rc & 0x3F, TpmRc::AUTH_FAIL.value() & 0x3F);
    // The failed command did not consume the assertion.
    let r = unseal(&mut t, &mut p, &[obj], s, b"pw");
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // The response of a PolicyPassword session has an empty hmac.
    assert_eq!(&r.raw[r.raw.len() - 2..], &[0, 0]);
    // PolicyAuthValue: HMAC keyed with sessionKey (empty) || authValue.
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_AUTH_VALUE, s, |_| {}),
        0
    );
    let nonce_tpm = t.sessions.get(s).unwrap().nonce_tpm.clone();
    let cp = sha256(&[&cc(TpmCc::UNSEAL), &t.entity_name(obj)]);
    let hmac = crate::crypto::hash::HashAlg::Sha256
        .hmac_parts(b"pw", &[&cp, &[9u8; 16], &nonce_tpm, &[1]]);
    let r = unseal(&mut t, &mut p, &[obj], s, &hmac);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
}

#[test]
fn roles_restrict_the_auth_value() {
    let (mut t, mut p) = started();
    // adminWithPolicy SET: ObjectChangeAuth (ADMIN) with the password is refused.
    let obj = sealed_object(&mut t, &mut p, &[0x11; 32], b"", true, true);
    let srk = owner_srk(&mut t, &mut p);
    let c = Cmd::new(TpmCc::OBJECT_CHANGE_AUTH)
        .handle(obj)
        .handle(srk)
        .pw(b"")
        .params(|w| w.tpm2b(b"new"));
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        TpmRc::AUTH_UNAVAILABLE.at_session(1).value()
    );
    // userWithAuth SET: Unseal (USER) with the password works.
    let r = run(&mut t, &mut p, &Cmd::new(TpmCc::UNSEAL).handle(obj).pw(b""));
    assert_eq!(r.rc, 0);
}

#[test]
fn policy_secret_and_authorize() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p, 0x01);
    let c = Cmd::new(TpmCc::POLICY_SECRET)
        .handle(TpmRh::ENDORSEMENT.0)
        .handle(s)
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            w.tpm2b(b"");
            w.tpm2b(b"ref");
            w.u32(0);
        });
    let r = run(&mut t, &mut p, &c);
    let (_, params) = split(&r, 0);
    assert_eq!(params, [0, 0, 0x80, 0x23, 0x40, 0, 0, 7, 0, 0]);
    let zero = vec![0u8; 32];
    let d = sha256(&[
        &zero,
        &cc(TpmCc::POLICY_SECRET),
        &TpmRh::ENDORSEMENT.0.to_be_bytes(),
    ]);
    let d = sha256(&[&d, b"ref"]);
    assert_eq!(get_digest(&mut t, &mut p, s), d);
    // An expiration (a TPM Time in seconds, without nonceTPM) that has passed.
    p.now_ms = 20_000;
    let c = Cmd::new(TpmCc::POLICY_SECRET)
        .handle(TpmRh::ENDORSEMENT.0)
        .handle(s)
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            w.tpm2b(b"");
            w.tpm2b(b"");
            w.u32(10);
        });
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        TpmRc::EXPIRED.at_param(4).value()
    );

    // PolicyAuthorize: approve the current digest with a ticket for keySign.
    let mut key_sign = vec![0x00, 0x0B];
    key_sign.extend_from_slice(&[0x42; 32]);
    let a_hash = sha256(&[&d, b""]);
    let ticket =
        crate::state::ticket::compute(&t, TpmRh::OWNER.0, TpmSt::VERIFIED, &[&a_hash, &key_sign]);
    let authorize = |ticket: &[u8]| {
        let (ks, tk) = (key_sign.clone(), ticket.to_vec());
        let d = d.clone();
        Cmd::new(TpmCc::POLICY_AUTHORIZE)
            .handle(s)
            .params(move |w| {
                w.tpm2b(&d);
                w.tpm2b(b"");
                w.tpm2b(&ks);
                w.u16(TpmSt::VERIFIED.0);
                w.u32(TpmRh::OWNER.0);
                w.tpm2b(&tk);
            })
    };
    let mut bad = ticket.clone();
    bad[0] ^= 1;
    assert_eq!(
        run(&mut t, &mut p, &authorize(&bad)).rc,
        TpmRc::VALUE.at_param(4).value()
    );
    assert_eq!(run(&mut t, &mut p, &authorize(&ticket)).rc, 0);
    let want = sha256(&[&zero, &cc(TpmCc::POLICY_AUTHORIZE), &key_sign]);
    let want = sha256(&[&want, b""]);
    assert_eq!(get_digest(&mut t, &mut p, s), want);
    // The approved policy must be the current digest (now it is not).
    assert_eq!(
        run(&mut t, &mut p, &authorize(&ticket)).rc,
        TpmRc::VALUE.at_param(1).value()
    );
}
