//! PCR command tests: expected values are computed here with the sha1/sha2 crates.

use alloc::vec;
use alloc::vec::Vec;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};
use crate::{TestPlatform, Tpm};

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const SHA512: u16 = 0x000D;

/// The parameter area of a response to a command with sessions.
fn params_of(r: &Resp) -> Vec<u8> {
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let n = u32::from_be_bytes(r.body[..4].try_into().unwrap()) as usize;
    r.body[4..4 + n].to_vec()
}

/// A TPML_PCR_SELECTION.
fn selection<'a>(banks: &'a [(u16, &'a [u8])]) -> impl FnOnce(&mut crate::marshal::Writer) + 'a {
    move |w| {
        w.u32(banks.len() as u32);
        for (alg, bits) in banks {
            w.u16(*alg);
            w.u8(bits.len() as u8);
            w.bytes(bits);
        }
    }
}

/// The bitmap for the given PCRs (3 octets).
fn bits(pcrs: &[u8]) -> [u8; 3] {
    let mut b = [0u8; 3];
    for i in pcrs {
        b[usize::from(*i / 8)] |= 1 << (i % 8);
    }
    b
}

struct ReadOut {
    counter: u32,
    /// (alg, select bytes)
    selection: Vec<(u16, Vec<u8>)>,
    values: Vec<Vec<u8>>,
}

fn pcr_read(t: &mut Tpm, p: &mut TestPlatform, banks: &[(u16, &[u8])]) -> ReadOut {
    let r = run(t, p, &Cmd::new(TpmCc::PCR_READ).params(selection(banks)));
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let b = &r.body;
    let counter = u32::from_be_bytes(b[0..4].try_into().unwrap());
    let n = u32::from_be_bytes(b[4..8].try_into().unwrap());
    let mut at = 8;
    let mut selection = Vec::new();
    for _ in 0..n {
        let alg = u16::from_be_bytes(b[at..at + 2].try_into().unwrap());
        let size = usize::from(b[at + 2]);
        selection.push((alg, b[at + 3..at + 3 + size].to_vec()));
        at += 3 + size;
    }
    let count = u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    at += 4;
    let mut values = Vec::new();
    for _ in 0..count {
        let size = usize::from(u16::from_be_bytes(b[at..at + 2].try_into().unwrap()));
        values.push(b[at + 2..at + 2 + size].to_vec());
        at += 2 + size;
    }
    assert_eq!(at, b.len());
    ReadOut {
        counter,
        selection,
        values,
    }
}

/// One PCR value.
fn value(t: &mut Tpm, p: &mut TestPlatform, alg: u16, pcr: u8) -> Vec<u8> {
    let out = pcr_read(t, p, &[(alg, &bits(&[pcr]))]);
    assert_eq!(out.values.len(), 1);
    out.values[0].clone()
}

fn counter(t: &mut Tpm, p: &mut TestPlatform) -> u32 {
    pcr_read(t, p, &[]).counter
}

/// TPM2_PCR_Extend of `pcr` with (alg, digest) pairs.
fn extend_cmd(pcr: u32, digests: &[(u16, Vec<u8>)]) -> Cmd {
    let digests = digests.to_vec();
    Cmd::new(TpmCc::PCR_EXTEND)
        .handle(pcr)
        .pw(b"")
        .params(move |w| {
            w.u32(digests.len() as u32);
            for (alg, d) in &digests {
                w.u16(*alg);
                w.bytes(d);
            }
        })
}

fn ext1(old: &[u8], d: &[u8]) -> Vec<u8> {
    Sha1::new()
        .chain_update(old)
        .chain_update(d)
        .finalize()
        .to_vec()
}

fn ext256(old: &[u8], d: &[u8]) -> Vec<u8> {
    Sha256::new()
        .chain_update(old)
        .chain_update(d)
        .finalize()
        .to_vec()
}

#[test]
fn read_initial_values_and_counter() {
    let (mut t, mut p) = started();
    let out = pcr_read(
        &mut t,
        &mut p,
        &[(SHA1, &bits(&[0, 17])), (SHA256, &bits(&[23]))],
    );
    assert_eq!(
        out.selection,
        [
            (SHA1, bits(&[0, 17]).to_vec()),
            (SHA256, bits(&[23]).to_vec())
        ]
    );
    // SRTM PCRs start at zero, D-RTM PCRs at all ones
    assert_eq!(out.values, [vec![0u8; 20], vec![0xFF; 20], vec![0u8; 32]]);
    // an empty list reads nothing
    let empty = pcr_read(&mut t, &mut p, &[]);
    assert!(empty.selection.is_empty() && empty.values.is_empty());
    assert_eq!(empty.counter, out.counter);
}

#[test]
fn read_returns_at_most_eight_and_says_which() {
    let (mut t, mut p) = started();
    // ten PCRs of one bank: the first eight come back, bits 8 and 9 are dropped
    let out = pcr_read(
        &mut t,
        &mut p,
        &[(SHA256, &bits(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))],
    );
    assert_eq!(out.values.len(), 8);
    assert_eq!(out.selection, [(SHA256, vec![0xFF, 0, 0])]);
    // six from the first selection, two from the second, none from the third
    let out = pcr_read(
        &mut t,
        &mut p,
        &[
            (SHA1, &bits(&[0, 1, 2, 3, 4, 5])),
            (SHA256, &bits(&[10, 11, 12])),
            (SHA1, &bits(&[23])),
        ],
    );
    assert_eq!(out.values.len(), 8);
    assert_eq!(out.values[5].len(), 20);
    assert_eq!(out.values[6].len(), 32);
    assert_eq!(
        out.selection,
        [
            (SHA1, bits(&[0, 1, 2, 3, 4, 5]).to_vec()),
            (SHA256, bits(&[10, 11]).to_vec()),
            (SHA1, vec![0, 0, 0]),
        ]
    );
}

#[test]
fn read_unallocated_bank_comes_back_empty() {
    let (mut t, mut p) = started();
    let out = pcr_read(
        &mut t,
        &mut p,
        &[(SHA384, &bits(&[0, 1])), (SHA256, &bits(&[1]))],
    );
    assert_eq!(
        out.selection,
        [(SHA384, vec![0, 0, 0]), (SHA256, bits(&[1]).to_vec())]
    );
    assert_eq!(out.values, [vec![0u8; 32]]);
}

#[test]
fn read_malformed_selection() {
    let (mut t, mut p) = started();
    let raw = |f: fn(&mut crate::marshal::Writer)| Cmd::new(TpmCc::PCR_READ).params(f);
    // more selections than implemented hashes: TPM_RC_SIZE, parameter 1
    let c = raw(|w| w.u32(5));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x1D5);
    // TPM_ALG_NULL is not a bank: TPM_RC_HASH, parameter 1
    let c = Cmd::new(TpmCc::PCR_READ).params(selection(&[(0x0010, &[1, 0, 0])]));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x1C3);
    // a bitmap past the implemented PCRs: TPM_RC_VALUE, parameter 1
    let c = Cmd::new(TpmCc::PCR_READ).params(selection(&[(SHA256, &[0, 0, 0, 1])]));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x1C4);
    // truncated
    let c = raw(|w| {
        w.u32(1);
        w.u16(SHA256)
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x1DA);
}

#[test]
fn extend_every_allocated_bank() {
    let (mut t, mut p) = started();
    let d1 = vec![0x11u8; 20];
    let d256 = vec![0x22u8; 32];
    let d384 = vec![0x33u8; 48];
    let c = extend_cmd(
        16,
        &[(SHA1, d1.clone()), (SHA256, d256.clone()), (SHA384, d384)],
    );
    let r = run(&mut t, &mut p, &c);
    assert_eq!(r.rc, 0);
    assert!(params_of(&r).is_empty());
    let want1 = ext1(&[0; 20], &d1);
    let want256 = ext256(&[0; 32], &d256);
    assert_eq!(value(&mut t, &mut p, SHA1, 16), want1);
    assert_eq!(value(&mut t, &mut p, SHA256, 16), want256);
    // again: the old value is chained in
    assert_eq!(
        run(&mut t, &mut p, &extend_cmd(16, &[(SHA256, d256.clone())])).rc,
        0
    );
    assert_eq!(value(&mut t, &mut p, SHA256, 16), ext256(&want256, &d256));
    assert_eq!(value(&mut t, &mut p, SHA1, 16), want1);
    // the other PCRs are untouched
    assert_eq!(value(&mut t, &mut p, SHA256, 15), [0u8; 32]);
}

#[test]
fn extend_counts_changes_per_bank() {
    let (mut t, mut p) = started();
    let both = [(SHA1, vec![1u8; 20]), (SHA256, vec![2u8; 32])];
    let c0 = counter(&mut t, &mut p);
    assert_eq!(run(&mut t, &mut p, &extend_cmd(0, &both)).rc, 0);
    assert_eq!(counter(&mut t, &mut p), c0 + 2);
    // PCR 16 (and 21-23) do not move the counter (TPM_PT_PCR_NO_INCREMENT)
    assert_eq!(run(&mut t, &mut p, &extend_cmd(16, &both)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &extend_cmd(23, &both)).rc, 0);
    assert_eq!(counter(&mut t, &mut p), c0 + 2);
    // a digest for an unallocated bank changes nothing
    assert_eq!(
        run(&mut t, &mut p, &extend_cmd(0, &[(SHA512, vec![3u8; 64])])).rc,
        0
    );
    assert_eq!(counter(&mut t, &mut p), c0 + 2);
    // an empty list is accepted
    assert_eq!(run(&mut t, &mut p, &extend_cmd(0, &[])).rc, 0);
    assert_eq!(counter(&mut t, &mut p), c0 + 2);
}

#[test]
fn extend_null_handle_succeeds_without_effect() {
    let (mut t, mut p) = started();
    let before = pcr_read(&mut t, &mut p, &[(SHA256, &[0xFF, 0xFF, 0xFF][..])]);
    let r = run(
        &mut t,
        &mut p,
        &extend_cmd(TpmRh::NULL.0, &[(SHA256, vec![9u8; 32])]),
    );
    assert_eq!(r.rc, 0);
    let after = pcr_read(&mut t, &mut p, &[(SHA256, &[0xFF, 0xFF, 0xFF][..])]);
    assert_eq!(before.values, after.values);
    assert_eq!(before.counter, after.counter);
}

#[test]
fn extend_locality_rules() {
    let (mut t, mut p) = started();
    let d = [(SHA256, vec![5u8; 32])];
    let bytes = |pcr: u32| extend_cmd(pcr, &d).bytes();
    // D-RTM PCRs are not extended from locality 0
    for pcr in 17..=22 {
        assert_eq!(
            run_at(&mut t, &mut p, 0, &bytes(pcr)).rc,
            0x907,
            "PCR {pcr}"
        );
    }
    assert_eq!(value(&mut t, &mut p, SHA256, 17), [0xFF; 32]);
    // PCR 17 from locality 2, 3 and 4; not from 1
    assert_eq!(run_at(&mut t, &mut p, 1, &bytes(17)).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 2, &bytes(17)).rc, 0);
    assert_eq!(
        value(&mut t, &mut p, SHA256, 17),
        ext256(&[0xFF; 32], &[5; 32])
    );
    assert_eq!(run_at(&mut t, &mut p, 4, &bytes(17)).rc, 0);
    // PCR 19 not from locality 4; PCR 20 from 1; PCR 21 only from 2
    assert_eq!(run_at(&mut t, &mut p, 4, &bytes(19)).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 1, &bytes(20)).rc, 0);
    assert_eq!(run_at(&mut t, &mut p, 3, &bytes(21)).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 2, &bytes(21)).rc, 0);
    // SRTM PCRs from any locality
    for loc in 0..=4 {
        assert_eq!(run_at(&mut t, &mut p, loc, &bytes(7)).rc, 0);
    }
}

#[test]
fn extend_bad_input() {
    let (mut t, mut p) = started();
    // not a PCR: TPM_RC_VALUE at handle 1
    for h in [24, 0x4000_0001, 0x8000_0000] {
        let r = run(&mut t, &mut p, &extend_cmd(h, &[(SHA256, vec![0; 32])]));
        assert_eq!(r.rc, 0x184, "{h:#x}");
    }
    // more digests than implemented hashes: TPM_RC_SIZE, parameter 1
    let five: Vec<(u16, Vec<u8>)> = (0..5).map(|_| (SHA1, vec![0u8; 20])).collect();
    assert_eq!(run(&mut t, &mut p, &extend_cmd(16, &five)).rc, 0x1D5);
    // TPM_ALG_NULL or an unimplemented hash: TPM_RC_HASH, parameter 1
    assert_eq!(
        run(&mut t, &mut p, &extend_cmd(16, &[(0x0010, vec![])])).rc,
        0x1C3
    );
    assert_eq!(
        run(&mut t, &mut p, &extend_cmd(16, &[(0x0012, vec![0; 32])])).rc,
        0x1C3
    );
    // a digest shorter than its algorithm's
    assert_eq!(
        run(&mut t, &mut p, &extend_cmd(16, &[(SHA256, vec![0; 20])])).rc,
        0x1DA
    );
    // PCRs need an authorization session
    let c = Cmd::new(TpmCc::PCR_EXTEND).handle(16).params(|w| w.u32(0));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x125);
    assert_eq!(value(&mut t, &mut p, SHA256, 16), [0u8; 32]);
}

fn event_cmd(pcr: u32, data: &[u8]) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::PCR_EVENT)
        .handle(pcr)
        .pw(b"")
        .params(move |w| w.tpm2b(&data))
}

/// The TPML_DIGEST_VALUES of a PCR_Event response, as (alg, digest).
fn digest_values(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let n = u32::from_be_bytes(b[..4].try_into().unwrap());
    let mut at = 4;
    let mut out = Vec::new();
    for _ in 0..n {
        let alg = u16::from_be_bytes(b[at..at + 2].try_into().unwrap());
        let size = match alg {
            SHA1 => 20,
            SHA256 => 32,
            SHA384 => 48,
            SHA512 => 64,
            _ => panic!("alg {alg:#x}"),
        };
        out.push((alg, b[at + 2..at + 2 + size].to_vec()));
        at += 2 + size;
    }
    assert_eq!(at, b.len());
    out
}

#[test]
fn event_digests_every_hash_and_extends() {
    let (mut t, mut p) = started();
    let r = run(&mut t, &mut p, &event_cmd(16, b"hello"));
    let got = digest_values(&params_of(&r));
    let want = vec![
        (SHA1, Sha1::digest(b"hello").to_vec()),
        (SHA256, Sha256::digest(b"hello").to_vec()),
        (SHA384, Sha384::digest(b"hello").to_vec()),
        (SHA512, Sha512::digest(b"hello").to_vec()),
    ];
    assert_eq!(got, want);
    assert_eq!(
        value(&mut t, &mut p, SHA1, 16),
        ext1(&[0; 20], &Sha1::digest(b"hello"))
    );
    assert_eq!(
        value(&mut t, &mut p, SHA256, 16),
        ext256(&[0; 32], &Sha256::digest(b"hello"))
    );
    // TPM_RH_NULL: the digests, no extend
    let c0 = counter(&mut t, &mut p);
    let r = run(&mut t, &mut p, &event_cmd(TpmRh::NULL.0, b"hello"));
    assert_eq!(digest_values(&params_of(&r)), want);
    assert_eq!(
        value(&mut t, &mut p, SHA256, 16),
        ext256(&[0; 32], &Sha256::digest(b"hello"))
    );
    assert_eq!(counter(&mut t, &mut p), c0);
    // the largest event
    let r = run(&mut t, &mut p, &event_cmd(TpmRh::NULL.0, &[7u8; 1024]));
    assert_eq!(r.rc, 0);
}

#[test]
fn event_errors() {
    let (mut t, mut p) = started();
    // eventData over 1024 octets: TPM_RC_SIZE, parameter 1
    assert_eq!(run(&mut t, &mut p, &event_cmd(16, &[0u8; 1025])).rc, 0x1D5);
    // locality
    assert_eq!(
        run_at(&mut t, &mut p, 0, &event_cmd(18, b"x").bytes()).rc,
        0x907
    );
    assert_eq!(
        run_at(&mut t, &mut p, 3, &event_cmd(18, b"x").bytes()).rc,
        0
    );
    // a bad handle
    assert_eq!(run(&mut t, &mut p, &event_cmd(25, b"x")).rc, 0x184);
    assert_eq!(value(&mut t, &mut p, SHA256, 16), [0u8; 32]);
}

fn reset_cmd(pcr: u32) -> Cmd {
    Cmd::new(TpmCc::PCR_RESET).handle(pcr).pw(b"")
}

#[test]
fn reset_sets_zero_in_every_bank() {
    let (mut t, mut p) = started();
    let both = [(SHA1, vec![1u8; 20]), (SHA256, vec![2u8; 32])];
    assert_eq!(run(&mut t, &mut p, &extend_cmd(16, &both)).rc, 0);
    assert_ne!(value(&mut t, &mut p, SHA256, 16), [0u8; 32]);
    let c0 = counter(&mut t, &mut p);
    let r = run(&mut t, &mut p, &reset_cmd(16));
    assert_eq!(r.rc, 0);
    assert!(params_of(&r).is_empty());
    assert_eq!(value(&mut t, &mut p, SHA1, 16), [0u8; 20]);
    assert_eq!(value(&mut t, &mut p, SHA256, 16), [0u8; 32]);
    // PCR 16 is no-increment
    assert_eq!(counter(&mut t, &mut p), c0);
    // PCR 20 from locality 2: all ones become zeros, and the counter moves
    assert_eq!(run_at(&mut t, &mut p, 2, &reset_cmd(20).bytes()).rc, 0);
    assert_eq!(value(&mut t, &mut p, SHA256, 20), [0u8; 32]);
    assert_eq!(counter(&mut t, &mut p), c0 + 1);
    // PCR 23 from locality 3
    assert_eq!(run_at(&mut t, &mut p, 3, &reset_cmd(23).bytes()).rc, 0);
}

#[test]
fn reset_locality_rules() {
    let (mut t, mut p) = started();
    // PCRs 0-15 are never reset
    for pcr in [0, 7, 15] {
        for loc in 0..=4 {
            let r = run_at(&mut t, &mut p, loc, &reset_cmd(pcr).bytes());
            assert_eq!(r.rc, 0x907, "PCR {pcr} locality {loc}");
        }
    }
    // 16 and 23 from localities 0-3, never from 4
    assert_eq!(run_at(&mut t, &mut p, 4, &reset_cmd(16).bytes()).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 4, &reset_cmd(23).bytes()).rc, 0x907);
    // D-RTM PCRs: 17-19 only at locality 4, which the command may not use
    for loc in 0..=4 {
        let r = run_at(&mut t, &mut p, loc, &reset_cmd(17).bytes());
        assert_eq!(r.rc, 0x907, "locality {loc}");
    }
    assert_eq!(value(&mut t, &mut p, SHA256, 17), [0xFF; 32]);
    // 20-22 from locality 2 only
    assert_eq!(run_at(&mut t, &mut p, 0, &reset_cmd(21).bytes()).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 1, &reset_cmd(20).bytes()).rc, 0x907);
    assert_eq!(run_at(&mut t, &mut p, 2, &reset_cmd(22).bytes()).rc, 0);
    // TPM_RH_NULL is not a TPMI_DH_PCR here: TPM_RC_VALUE at handle 1
    assert_eq!(run(&mut t, &mut p, &reset_cmd(TpmRh::NULL.0)).rc, 0x184);
}

fn allocate_cmd(banks: &[(u16, &[u8])]) -> Cmd {
    Cmd::new(TpmCc::PCR_ALLOCATE)
        .handle(TpmRh::PLATFORM.0)
        .pw(b"")
        .params(selection(banks))
}

/// allocationSuccess, maxPCR, sizeNeeded, sizeAvailable.
fn allocate_out(r: &Resp) -> (u8, u32, u32, u32) {
    let b = params_of(r);
    assert_eq!(b.len(), 13);
    let u = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (b[0], u(1), u(5), u(9))
}

fn tpm_reset(t: &mut Tpm, p: &mut TestPlatform) {
    t.power_on(p);
    assert_eq!(run(t, p, &startup_clear()).rc, 0);
}

const ALL: &[u8] = &[0xFF, 0xFF, 0xFF];
const NONE: &[u8] = &[0, 0, 0];

#[test]
fn allocate_takes_effect_at_tpm_reset() {
    let (mut t, mut p) = started();
    let r = run(
        &mut t,
        &mut p,
        &allocate_cmd(&[(SHA1, NONE), (SHA384, ALL)]),
    );
    assert!(r.nv, "the allocation is durable");
    // SHA-256 kept (not listed), SHA-384 added: 24 * (32 + 48) octets of 24 * 164
    assert_eq!(allocate_out(&r), (1, 24, 1920, 3936));
    // nothing changes before the reset
    let out = pcr_read(&mut t, &mut p, &[(SHA1, &[1, 0, 0]), (SHA384, &[1, 0, 0])]);
    assert_eq!(
        out.selection,
        [(SHA1, vec![1, 0, 0]), (SHA384, vec![0, 0, 0])]
    );
    // through a power cycle of the permanent state, then a TPM Reset
    let perm = t.permanent_state();
    let mut t = Tpm::from_permanent_state(&perm).unwrap();
    tpm_reset(&mut t, &mut p);
    let out = pcr_read(
        &mut t,
        &mut p,
        &[
            (SHA1, &[1, 0, 0]),
            (SHA256, &[1, 0, 0]),
            (SHA384, &[1, 0, 0]),
        ],
    );
    assert_eq!(
        out.selection,
        [
            (SHA1, vec![0, 0, 0]),
            (SHA256, vec![1, 0, 0]),
            (SHA384, vec![1, 0, 0])
        ]
    );
    assert_eq!(out.values, [vec![0u8; 32], vec![0u8; 48]]);
    // the new bank is extended
    let r = run(&mut t, &mut p, &extend_cmd(0, &[(SHA384, vec![4u8; 48])]));
    assert_eq!(r.rc, 0);
    let want = Sha384::new()
        .chain_update([0u8; 48])
        .chain_update([4u8; 48])
        .finalize()
        .to_vec();
    assert_eq!(value(&mut t, &mut p, SHA384, 0), want);
}

#[test]
fn allocate_partial_bank_is_refused_without_change() {
    let (mut t, mut p) = started();
    // PCRs 0-15 of SHA-384 only: allocationSuccess NO, sizes still reported
    let r = run(&mut t, &mut p, &allocate_cmd(&[(SHA384, &[0xFF, 0xFF, 0])]));
    assert_eq!(allocate_out(&r), (0, 24, 24 * (20 + 32) + 16 * 48, 3936));
    // an earlier successful request stays pending
    let r = run(&mut t, &mut p, &allocate_cmd(&[(SHA512, ALL)]));
    assert_eq!(allocate_out(&r).0, 1);
    let r = run(
        &mut t,
        &mut p,
        &allocate_cmd(&[(SHA1, &[0xFE, 0xFF, 0xFF])]),
    );
    assert_eq!(allocate_out(&r).0, 0);
    tpm_reset(&mut t, &mut p);
    let out = pcr_read(
        &mut t,
        &mut p,
        &[
            (SHA1, &[1, 0, 0]),
            (SHA384, &[1, 0, 0]),
            (SHA512, &[1, 0, 0]),
        ],
    );
    assert_eq!(
        out.selection,
        [
            (SHA1, vec![1, 0, 0]),
            (SHA384, vec![0, 0, 0]),
            (SHA512, vec![1, 0, 0])
        ]
    );
}

#[test]
fn allocate_must_keep_a_bank() {
    let (mut t, mut p) = started();
    let r = run(
        &mut t,
        &mut p,
        &allocate_cmd(&[(SHA1, NONE), (SHA256, NONE)]),
    );
    assert_eq!(r.rc, 0x127);
    // the last entry for a bank wins
    let r = run(
        &mut t,
        &mut p,
        &allocate_cmd(&[(SHA1, NONE), (SHA256, ALL), (SHA256, NONE)]),
    );
    assert_eq!(r.rc, 0x127);
    let r = run(
        &mut t,
        &mut p,
        &allocate_cmd(&[(SHA1, NONE), (SHA256, NONE), (SHA256, ALL)]),
    );
    assert_eq!(allocate_out(&r), (1, 24, 24 * 32, 3936));
    // only the platform may allocate
    let c = Cmd::new(TpmCc::PCR_ALLOCATE)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(selection(&[(SHA256, ALL)]));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x184);
    // malformed list: TPM_RC_SIZE at parameter 1
    let c = Cmd::new(TpmCc::PCR_ALLOCATE)
        .handle(TpmRh::PLATFORM.0)
        .pw(b"")
        .params(|w| w.u32(5));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x1D5);
}

#[test]
fn state_save_pcrs_survive_resume_only() {
    let (mut t, mut p) = started();
    let d = [(SHA256, vec![6u8; 32])];
    assert_eq!(run(&mut t, &mut p, &extend_cmd(0, &d)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &extend_cmd(16, &d)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &extend_cmd(23, &d)).rc, 0);
    let extended = ext256(&[0; 32], &[6; 32]);
    let shutdown = |su: u16| Cmd::new(TpmCc::SHUTDOWN).params(move |w| w.u16(su));
    // Shutdown(STATE) + Startup(STATE): PCR 0 (state saved) kept, 16 and 23 reset
    assert_eq!(run(&mut t, &mut p, &shutdown(1)).rc, 0);
    let perm = t.permanent_state();
    let mut t = Tpm::from_permanent_state(&perm).unwrap();
    t.power_on(&mut p);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(value(&mut t, &mut p, SHA256, 0), extended);
    assert_eq!(value(&mut t, &mut p, SHA256, 16), [0u8; 32]);
    assert_eq!(value(&mut t, &mut p, SHA256, 23), [0u8; 32]);
    // Shutdown(STATE) + Startup(CLEAR) (TPM Restart): every PCR fresh
    assert_eq!(run(&mut t, &mut p, &shutdown(1)).rc, 0);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(value(&mut t, &mut p, SHA256, 0), [0u8; 32]);
    // no shutdown at all (TPM Reset): fresh as well
    assert_eq!(run(&mut t, &mut p, &extend_cmd(0, &d)).rc, 0);
    tpm_reset(&mut t, &mut p);
    assert_eq!(value(&mut t, &mut p, SHA256, 0), [0u8; 32]);
}
