//! Hash and sequence command tests: digests and ticket HMACs are computed here with
//! the sha1/sha2/hmac crates.

use alloc::vec;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};
use crate::{TestPlatform, Tpm};

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const SHA512: u16 = 0x000D;
const ALG_NULL: u16 = 0x0010;
const OWNER: u32 = 0x4000_0001;
const ENDORSEMENT: u32 = 0x4000_000B;
const PLATFORM: u32 = 0x4000_000C;
const NULL: u32 = 0x4000_0007;
/// A TPMT_TK_HASHCHECK with hierarchy TPM_RH_NULL and no digest.
const NULL_TICKET: [u8; 8] = [0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00];

/// The parameter area of a response to a command with sessions.
fn params_of(r: &Resp) -> Vec<u8> {
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let n = u32::from_be_bytes(r.body[..4].try_into().unwrap()) as usize;
    r.body[4..4 + n].to_vec()
}

/// Splits `TPM2B_DIGEST || TPMT_TK_HASHCHECK` into (digest, ticket bytes).
fn digest_and_ticket(b: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let n = usize::from(u16::from_be_bytes(b[..2].try_into().unwrap()));
    (b[2..2 + n].to_vec(), b[2 + n..].to_vec())
}

/// The ticket this TPM must issue: HMAC-SHA512(proof, TPM_ST_HASHCHECK || hashAlg ||
/// digest), as a marshalled TPMT_TK_HASHCHECK.
fn expected_ticket(t: &Tpm, hierarchy: u32, alg: u16, digest: &[u8]) -> Vec<u8> {
    let proof = match hierarchy {
        OWNER => &t.perm.sh_proof.0,
        ENDORSEMENT => &t.perm.eh_proof.0,
        PLATFORM => &t.perm.ph_proof.0,
        _ => panic!("no ticket for {hierarchy:#x}"),
    };
    let mut mac = <hmac::Hmac<Sha512> as KeyInit>::new_from_slice(proof).unwrap();
    mac.update(&[0x80, 0x24]);
    mac.update(&alg.to_be_bytes());
    mac.update(digest);
    let hmac = mac.finalize().into_bytes();
    let mut out = vec![0x80, 0x24];
    out.extend_from_slice(&hierarchy.to_be_bytes());
    out.extend_from_slice(&(hmac.len() as u16).to_be_bytes());
    out.extend_from_slice(&hmac);
    out
}

fn hash_cmd(data: &[u8], alg: u16, hierarchy: u32) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::HASH).params(move |w| {
        w.tpm2b(&data);
        w.u16(alg);
        w.u32(hierarchy)
    })
}

#[test]
fn hash_digest_and_ticket() {
    let (mut t, mut p) = started();
    let r = run(&mut t, &mut p, &hash_cmd(b"abcd", SHA256, OWNER));
    assert_eq!(r.rc, 0);
    let (digest, ticket) = digest_and_ticket(&r.body);
    assert_eq!(digest, Sha256::digest(b"abcd").to_vec());
    assert_eq!(ticket, expected_ticket(&t, OWNER, SHA256, &digest));
    // every implemented hash, every hierarchy
    let cases: [(u16, Vec<u8>); 4] = [
        (SHA1, Sha1::digest(b"wxyz").to_vec()),
        (SHA256, Sha256::digest(b"wxyz").to_vec()),
        (SHA384, Sha384::digest(b"wxyz").to_vec()),
        (SHA512, Sha512::digest(b"wxyz").to_vec()),
    ];
    for (alg, want) in &cases {
        for h in [OWNER, ENDORSEMENT, PLATFORM] {
            let r = run(&mut t, &mut p, &hash_cmd(b"wxyz", *alg, h));
            let (digest, ticket) = digest_and_ticket(&r.body);
            assert_eq!(&digest, want);
            assert_eq!(ticket, expected_ticket(&t, h, *alg, want));
        }
    }
    // empty data and the largest buffer
    let r = run(&mut t, &mut p, &hash_cmd(b"", SHA1, OWNER));
    assert_eq!(digest_and_ticket(&r.body).0, Sha1::digest(b"").to_vec());
    // data shorter than TPM_GENERATED_VALUE gets the NULL ticket
    assert_eq!(digest_and_ticket(&r.body).1, NULL_TICKET);
    let r = run(&mut t, &mut p, &hash_cmd(b"abc", SHA256, OWNER));
    assert_eq!(digest_and_ticket(&r.body).1, NULL_TICKET);
    let r = run(&mut t, &mut p, &hash_cmd(&[1u8; 1024], SHA256, NULL));
    assert_eq!(
        digest_and_ticket(&r.body).0,
        Sha256::digest([1u8; 1024]).to_vec()
    );
}

#[test]
fn hash_null_tickets() {
    let (mut t, mut p) = started();
    // TPM_RH_NULL asks for no ticket
    let r = run(&mut t, &mut p, &hash_cmd(b"abc", SHA256, NULL));
    assert_eq!(digest_and_ticket(&r.body).1, NULL_TICKET);
    // data that starts like a TPM-generated structure gets none either
    for data in [&b"\xffTCG"[..], b"\xffTCGanything", b"\xffTCG\xffTCG"] {
        let r = run(&mut t, &mut p, &hash_cmd(data, SHA256, ENDORSEMENT));
        let (digest, ticket) = digest_and_ticket(&r.body);
        assert_eq!(digest, Sha256::digest(data).to_vec());
        assert_eq!(ticket, NULL_TICKET);
    }
    // data shorter than TPM_GENERATED_VALUE cannot be vouched for
    for data in [&b""[..], b"\xff", b"\xffT", b"\xffTC", b"abc"] {
        let r = run(&mut t, &mut p, &hash_cmd(data, SHA256, OWNER));
        assert_eq!(digest_and_ticket(&r.body).1, NULL_TICKET);
    }
    // a near miss is safe
    for data in [&b"\xffTCH"[..], b"x\xffTCG", b"\xfeTCG"] {
        let r = run(&mut t, &mut p, &hash_cmd(data, SHA256, OWNER));
        let (digest, ticket) = digest_and_ticket(&r.body);
        assert_eq!(ticket, expected_ticket(&t, OWNER, SHA256, &digest));
    }
}

#[test]
fn hash_errors() {
    let (mut t, mut p) = started();
    // hashAlg TPM_ALG_NULL or unimplemented: TPM_RC_HASH, parameter 2
    assert_eq!(
        run(&mut t, &mut p, &hash_cmd(b"a", ALG_NULL, OWNER)).rc,
        0x2C3
    );
    assert_eq!(
        run(&mut t, &mut p, &hash_cmd(b"a", 0x0012, OWNER)).rc,
        0x2C3
    );
    // not TPMI_RH_HIERARCHY+: TPM_RC_VALUE, parameter 3
    for h in [0x4000_000A, 0x4000_0009, 0x8000_0000, 0] {
        assert_eq!(run(&mut t, &mut p, &hash_cmd(b"a", SHA256, h)).rc, 0x3C4);
    }
    // data over 1024 octets: TPM_RC_SIZE, parameter 1
    assert_eq!(
        run(&mut t, &mut p, &hash_cmd(&[0u8; 1025], SHA256, OWNER)).rc,
        0x1D5
    );
    // truncated hierarchy
    let c = Cmd::new(TpmCc::HASH).params(|w| {
        w.tpm2b(b"a");
        w.u16(SHA256);
        w.u16(0x4000)
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x3DA);
}

#[test]
fn hash_disabled_hierarchy_still_gets_a_ticket() {
    // As in the reference implementation: the hierarchy parameter is not checked
    // against the hierarchy enables.
    let (mut t, mut p) = started();
    let c = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(TpmRh::PLATFORM.0)
        .pw(b"")
        .params(|w| {
            w.u32(OWNER);
            w.u8(0)
        });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    let r = run(&mut t, &mut p, &hash_cmd(b"abcd", SHA256, OWNER));
    let (digest, ticket) = digest_and_ticket(&r.body);
    assert_eq!(ticket, expected_ticket(&t, OWNER, SHA256, &digest));
}

fn start(auth: &[u8], alg: u16) -> Cmd {
    let auth = auth.to_vec();
    Cmd::new(TpmCc::HASH_SEQUENCE_START).params(move |w| {
        w.tpm2b(&auth);
        w.u16(alg)
    })
}

/// Starts a sequence and returns its handle.
fn start_ok(t: &mut Tpm, p: &mut TestPlatform, auth: &[u8], alg: u16) -> u32 {
    let r = run(t, p, &start(auth, alg));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(r.body.len(), 4);
    u32::from_be_bytes(r.body[..4].try_into().unwrap())
}

fn update(h: u32, pw: &[u8], data: &[u8]) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::SEQUENCE_UPDATE)
        .handle(h)
        .pw(pw)
        .params(move |w| w.tpm2b(&data))
}

fn complete(h: u32, pw: &[u8], data: &[u8], hierarchy: u32) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::SEQUENCE_COMPLETE)
        .handle(h)
        .pw(pw)
        .params(move |w| {
            w.tpm2b(&data);
            w.u32(hierarchy)
        })
}

fn event_complete(pcr: u32, h: u32, pw: &[u8], data: &[u8]) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::EVENT_SEQUENCE_COMPLETE)
        .handle(pcr)
        .handle(h)
        .pw(b"")
        .pw(pw)
        .params(move |w| w.tpm2b(&data))
}

#[test]
fn hash_sequence_round_trip() {
    let (mut t, mut p) = started();
    // the authValue is stored without trailing zeros
    let h = start_ok(&mut t, &mut p, b"pw\0\0", SHA384);
    assert_eq!(h, 0x8000_0000);
    let r = run(&mut t, &mut p, &update(h, b"pw", b"abcd"));
    assert!(params_of(&r).is_empty());
    assert_eq!(run(&mut t, &mut p, &update(h, b"pw\0", b"")).rc, 0);
    assert_eq!(run(&mut t, &mut p, &update(h, b"pw", b"abc")).rc, 0);
    let r = run(&mut t, &mut p, &complete(h, b"pw", b"def", OWNER));
    let (digest, ticket) = digest_and_ticket(&params_of(&r));
    assert_eq!(digest, Sha384::digest(b"abcdabcdef").to_vec());
    assert_eq!(ticket, expected_ticket(&t, OWNER, SHA384, &digest));
    // Complete flushed the sequence
    assert_eq!(run(&mut t, &mut p, &update(h, b"pw", b"x")).rc, 0x910);
}

#[test]
fn sequence_ticket_follows_the_first_block() {
    let (mut t, mut p) = started();
    let finish = |t: &mut Tpm, p: &mut TestPlatform, h: u32, data: &[u8], hier: u32| {
        let r = run(t, p, &complete(h, b"", data, hier));
        digest_and_ticket(&params_of(&r))
    };
    // no update: the Complete buffer is the first block
    let h = start_ok(&mut t, &mut p, b"", SHA256);
    let (d, tk) = finish(&mut t, &mut p, h, b"abcd", PLATFORM);
    assert_eq!(tk, expected_ticket(&t, PLATFORM, SHA256, &d));
    let h = start_ok(&mut t, &mut p, b"", SHA256);
    let (d, tk) = finish(&mut t, &mut p, h, b"abc", OWNER);
    assert_eq!(d, Sha256::digest(b"abc").to_vec());
    assert_eq!(tk, NULL_TICKET, "a first block shorter than 4 octets");
    // a first block starting with TPM_GENERATED_VALUE
    let h = start_ok(&mut t, &mut p, b"", SHA256);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"\xffTCG1234")).rc, 0);
    let (_, tk) = finish(&mut t, &mut p, h, b"", OWNER);
    assert_eq!(tk, NULL_TICKET);
    // a short first block (even empty) decides as well
    let h = start_ok(&mut t, &mut p, b"", SHA256);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"")).rc, 0);
    let (_, tk) = finish(&mut t, &mut p, h, b"abcdefgh", OWNER);
    assert_eq!(tk, NULL_TICKET);
    // the marker in a later block does not matter
    let h = start_ok(&mut t, &mut p, b"", SHA256);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"abcd")).rc, 0);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"\xffTCG")).rc, 0);
    let (d, tk) = finish(&mut t, &mut p, h, b"\xffTCG", ENDORSEMENT);
    assert_eq!(d, Sha256::digest(b"abcd\xffTCG\xffTCG").to_vec());
    assert_eq!(tk, expected_ticket(&t, ENDORSEMENT, SHA256, &d));
    // TPM_RH_NULL
    let h = start_ok(&mut t, &mut p, b"", SHA1);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"abcd")).rc, 0);
    let (d, tk) = finish(&mut t, &mut p, h, b"", NULL);
    assert_eq!(d, Sha1::digest(b"abcd").to_vec());
    assert_eq!(tk, NULL_TICKET);
}

#[test]
fn sequence_auth_and_slots() {
    let (mut t, mut p) = started();
    let h = start_ok(&mut t, &mut p, b"secret", SHA256);
    // a wrong password: TPM_RC_BAD_AUTH at session 1 (sequences are DA-exempt)
    let r = run(&mut t, &mut p, &update(h, b"wrong", b"abc"));
    assert_eq!(r.rc, 0x9A2);
    assert!(!r.nv);
    assert_eq!(run(&mut t, &mut p, &update(h, b"", b"abc")).rc, 0x9A2);
    assert_eq!(
        run(&mut t, &mut p, &complete(h, b"x", b"", OWNER)).rc,
        0x9A2
    );
    // no session at all
    let c = Cmd::new(TpmCc::SEQUENCE_UPDATE)
        .handle(h)
        .params(|w| w.tpm2b(b""));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x125);
    // the right one still works: nothing was absorbed by the failures
    let r = run(&mut t, &mut p, &complete(h, b"secret", b"abcd", NULL));
    assert_eq!(
        digest_and_ticket(&params_of(&r)).0,
        Sha256::digest(b"abcd").to_vec()
    );
    // three slots, then TPM_RC_OBJECT_MEMORY
    let handles: Vec<u32> = (0..3)
        .map(|_| start_ok(&mut t, &mut p, b"", ALG_NULL))
        .collect();
    assert_eq!(handles, [0x8000_0000, 0x8000_0001, 0x8000_0002]);
    assert_eq!(run(&mut t, &mut p, &start(b"", SHA256)).rc, 0x902);
    // a Startup drops every sequence
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(run(&mut t, &mut p, &update(handles[0], b"", b"")).rc, 0x910);
}

#[test]
fn sequence_start_errors() {
    let (mut t, mut p) = started();
    // auth longer than the largest digest: TPM_RC_SIZE, parameter 1
    assert_eq!(run(&mut t, &mut p, &start(&[1u8; 65], SHA256)).rc, 0x1D5);
    // an unimplemented hash: TPM_RC_HASH, parameter 2
    assert_eq!(run(&mut t, &mut p, &start(b"", 0x0012)).rc, 0x2C3);
    assert_eq!(run(&mut t, &mut p, &start(b"", 0x0006)).rc, 0x2C3);
    // nothing was loaded
    assert_eq!(start_ok(&mut t, &mut p, &[1u8; 64], SHA256), 0x8000_0000);
}

#[test]
fn sequence_handle_errors() {
    let (mut t, mut p) = started();
    let ev = start_ok(&mut t, &mut p, b"", ALG_NULL);
    // SequenceComplete of an event sequence: TPM_RC_MODE at handle 1, still loaded
    assert_eq!(
        run(&mut t, &mut p, &complete(ev, b"", b"", OWNER)).rc,
        0x189
    );
    assert_eq!(run(&mut t, &mut p, &update(ev, b"", b"abc")).rc, 0);
    // a bad hierarchy: TPM_RC_VALUE at parameter 2, the sequence stays
    let hs = start_ok(&mut t, &mut p, b"", SHA256);
    assert_eq!(
        run(&mut t, &mut p, &complete(hs, b"", b"", 0x4000_000A)).rc,
        0x2C4
    );
    assert_eq!(run(&mut t, &mut p, &update(hs, b"", b"abc")).rc, 0);
    // handles that are not loaded sequences
    assert_eq!(
        run(&mut t, &mut p, &update(0x8000_0002, b"", b"")).rc,
        0x910
    );
    assert_eq!(
        run(&mut t, &mut p, &update(0x8100_0000, b"", b"")).rc,
        0x18B
    );
    assert_eq!(run(&mut t, &mut p, &update(16, b"", b"")).rc, 0x184);
    // buffer over 1024 octets: TPM_RC_SIZE, parameter 1
    assert_eq!(
        run(&mut t, &mut p, &update(hs, b"", &[0u8; 1025])).rc,
        0x1D5
    );
    // EventSequenceComplete of a hash sequence: TPM_RC_MODE at handle 2
    assert_eq!(
        run(&mut t, &mut p, &event_complete(16, hs, b"", b"")).rc,
        0x289
    );
    let r = run(&mut t, &mut p, &complete(hs, b"", b"", NULL));
    assert_eq!(
        digest_and_ticket(&params_of(&r)).0,
        Sha256::digest(b"abc").to_vec()
    );
}

/// (alg, digest) pairs of a TPML_DIGEST_VALUES.
fn digest_values(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let n = u32::from_be_bytes(b[..4].try_into().unwrap());
    let mut at = 4;
    let mut out = Vec::new();
    for _ in 0..n {
        let alg = u16::from_be_bytes(b[at..at + 2].try_into().unwrap());
        let size = [(SHA1, 20), (SHA256, 32), (SHA384, 48), (SHA512, 64)]
            .iter()
            .find(|(a, _)| *a == alg)
            .unwrap()
            .1;
        out.push((alg, b[at + 2..at + 2 + size].to_vec()));
        at += 2 + size;
    }
    assert_eq!(at, b.len());
    out
}

fn pcr_sha256(t: &mut Tpm, p: &mut TestPlatform, pcr: u8) -> Vec<u8> {
    let mut sel = [0u8; 3];
    sel[usize::from(pcr / 8)] = 1 << (pcr % 8);
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::PCR_READ).params(move |w| {
            w.u32(1);
            w.u16(SHA256);
            w.u8(3);
            w.bytes(&sel)
        }),
    );
    assert_eq!(r.rc, 0);
    r.body[r.body.len() - 32..].to_vec()
}

#[test]
fn event_sequence_extends_and_returns_every_digest() {
    let (mut t, mut p) = started();
    let h = start_ok(&mut t, &mut p, b"ev", ALG_NULL);
    assert_eq!(run(&mut t, &mut p, &update(h, b"ev", b"abc")).rc, 0);
    let r = run(&mut t, &mut p, &event_complete(16, h, b"ev", b"def"));
    let got = digest_values(&params_of(&r));
    let want = vec![
        (SHA1, Sha1::digest(b"abcdef").to_vec()),
        (SHA256, Sha256::digest(b"abcdef").to_vec()),
        (SHA384, Sha384::digest(b"abcdef").to_vec()),
        (SHA512, Sha512::digest(b"abcdef").to_vec()),
    ];
    assert_eq!(got, want);
    let extended = Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(Sha256::digest(b"abcdef"))
        .finalize()
        .to_vec();
    assert_eq!(pcr_sha256(&mut t, &mut p, 16), extended);
    // the sequence is gone
    assert_eq!(run(&mut t, &mut p, &update(h, b"ev", b"")).rc, 0x910);
    // TPM_RH_NULL: digests only
    let h = start_ok(&mut t, &mut p, b"", ALG_NULL);
    let r = run(
        &mut t,
        &mut p,
        &event_complete(TpmRh::NULL.0, h, b"", b"abcdef"),
    );
    assert_eq!(digest_values(&params_of(&r)), want);
    assert_eq!(pcr_sha256(&mut t, &mut p, 16), extended);
}

#[test]
fn event_sequence_errors() {
    let (mut t, mut p) = started();
    let h = start_ok(&mut t, &mut p, b"ev", ALG_NULL);
    // PCR 17 is not extended from locality 0; the sequence stays loaded
    let c = event_complete(17, h, b"ev", b"");
    assert_eq!(run_at(&mut t, &mut p, 0, &c.bytes()).rc, 0x907);
    // a wrong sequence password: TPM_RC_BAD_AUTH at session 2
    assert_eq!(
        run(&mut t, &mut p, &event_complete(16, h, b"nope", b"")).rc,
        0xAA2
    );
    // one session for two authorized handles
    let c = Cmd::new(TpmCc::EVENT_SEQUENCE_COMPLETE)
        .handle(16)
        .handle(h)
        .pw(b"")
        .params(|w| w.tpm2b(b""));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x125);
    // from locality 3 it goes through
    let c = event_complete(17, h, b"ev", b"x");
    assert_eq!(run_at(&mut t, &mut p, 3, &c.bytes()).rc, 0);
    let want = Sha256::new()
        .chain_update([0xFFu8; 32])
        .chain_update(Sha256::digest(b"x"))
        .finalize()
        .to_vec();
    assert_eq!(pcr_sha256(&mut t, &mut p, 17), want);
}
