//! Session audit through the command pipeline, digests recomputed here.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::marshal::Writer;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};

fn start(t: &mut crate::Tpm, p: &mut crate::TestPlatform) -> u32 {
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(|w| {
            w.tpm2b(&[7u8; 32]);
            w.tpm2b(b"");
            w.u8(0);
            w.u16(0x0010);
            w.u16(0x000B);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0);
    u32::from_be_bytes(r.body[0..4].try_into().unwrap())
}

/// GetRandom(8) with `session` carrying `attrs`; returns (rc, response params,
/// response session attributes).
fn get_random(
    t: &mut crate::Tpm,
    p: &mut crate::TestPlatform,
    session: u32,
    attrs: u8,
) -> (u32, Vec<u8>, u8) {
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(&[9u8; 32]);
    a.u8(attrs);
    a.tpm2b(b"");
    let mut w = Writer::new();
    w.u16(0x8002);
    w.u32(0);
    w.u32(TpmCc::GET_RANDOM.0);
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.u16(8);
    let mut bytes = w.into_vec();
    let n = bytes.len() as u32;
    bytes[2..6].copy_from_slice(&n.to_be_bytes());
    let r = run_at(t, p, 0, &bytes);
    if r.rc != 0 {
        return (r.rc, Vec::new(), 0);
    }
    let psize = u32::from_be_bytes(r.raw[10..14].try_into().unwrap()) as usize;
    let params = r.raw[14..14 + psize].to_vec();
    let sess = &r.raw[14 + psize..];
    let nl = u16::from_be_bytes([sess[0], sess[1]]) as usize;
    (0, params, sess[2 + nl])
}

fn cp_get_random() -> Vec<u8> {
    HashAlg::Sha256.digest_parts(&[&TpmCc::GET_RANDOM.0.to_be_bytes(), &[0, 8]])
}

fn rp(cc: TpmCc, params: &[u8]) -> Vec<u8> {
    HashAlg::Sha256.digest_parts(&[&[0, 0, 0, 0], &cc.0.to_be_bytes(), params])
}

#[test]
fn session_audit_digest_and_exclusivity() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p);
    // audit | continueSession
    let (rc, params, attrs) = get_random(&mut t, &mut p, s, 0x81);
    assert_eq!(rc, 0);
    assert_eq!(
        attrs & 0x02,
        0x02,
        "the first audited command makes it exclusive"
    );
    let d1 = HashAlg::Sha256.digest_parts(&[
        &[0u8; 32],
        &cp_get_random(),
        &rp(TpmCc::GET_RANDOM, &params),
    ]);
    assert_eq!(
        t.sessions.get(s).unwrap().audit_digest.as_deref(),
        Some(&d1[..])
    );
    let (rc, params2, attrs) = get_random(&mut t, &mut p, s, 0x83);
    assert_eq!(rc, 0);
    assert_eq!(attrs & 0x02, 0x02);
    let d2 =
        HashAlg::Sha256.digest_parts(&[&d1, &cp_get_random(), &rp(TpmCc::GET_RANDOM, &params2)]);
    assert_eq!(
        t.sessions.get(s).unwrap().audit_digest.as_deref(),
        Some(&d2[..])
    );
    // A command not audited by the session ends its exclusivity.
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(4))
        )
        .rc,
        0
    );
    let (rc, _, _) = get_random(&mut t, &mut p, s, 0x83);
    assert_eq!(rc, TpmRc::EXCLUSIVE.value());
    let (rc, _, attrs) = get_random(&mut t, &mut p, s, 0x81);
    assert_eq!(rc, 0);
    assert_eq!(attrs & 0x02, 0);
    // auditReset starts over from zeros and makes it exclusive again.
    let (rc, params, attrs) = get_random(&mut t, &mut p, s, 0x85);
    assert_eq!(rc, 0);
    assert_eq!(attrs & 0x02, 0x02);
    let d = HashAlg::Sha256.digest_parts(&[
        &[0u8; 32],
        &cp_get_random(),
        &rp(TpmCc::GET_RANDOM, &params),
    ]);
    assert_eq!(
        t.sessions.get(s).unwrap().audit_digest.as_deref(),
        Some(&d[..])
    );
}

#[test]
fn audit_attribute_refusals() {
    let (mut t, mut p) = started();
    let s = start(&mut t, &mut p);
    // auditExclusive or auditReset without audit.
    for attrs in [0x03, 0x05] {
        assert_eq!(
            get_random(&mut t, &mut p, s, attrs).0,
            TpmRc::ATTRIBUTES.at_session(1).value()
        );
    }
    // A password session cannot audit.
    let c = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| w.tpm2b(b""));
    let mut bytes = c.bytes();
    // The password session's attributes octet: after handle, authSize, handle, nonce.
    let at = 10 + 4 + 4 + 4 + 2;
    bytes[at] |= 0x80;
    assert_eq!(
        run_at(&mut t, &mut p, 0, &bytes).rc,
        TpmRc::ATTRIBUTES.at_session(1).value()
    );
}
