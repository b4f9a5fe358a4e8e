//! Robustness: arbitrary byte strings as commands. Every reply must be a
//! well-formed TPM response, the engine must not panic, and a good command must
//! still work afterwards. Inputs are random, mutated real commands, and every
//! command code with random bodies.

use proptest::prelude::*;
use vtpm_core::{TestPlatform, Tpm};

fn started() -> (Tpm, TestPlatform) {
    let mut p = TestPlatform::new(11);
    let mut t = Tpm::manufacture(&mut p);
    t.power_on(&mut p);
    let r = t.execute(&mut p, 0, &[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0]);
    assert_eq!(&r.bytes[6..10], &[0, 0, 0, 0]);
    (t, p)
}

fn check_well_formed(resp: &[u8]) {
    assert!(
        resp.len() >= 10,
        "response shorter than a header: {resp:02x?}"
    );
    let tag = u16::from_be_bytes([resp[0], resp[1]]);
    assert!(
        matches!(tag, 0x8001 | 0x8002 | 0x00C4),
        "bad response tag {tag:#x}"
    );
    let size = u32::from_be_bytes(resp[2..6].try_into().unwrap()) as usize;
    assert_eq!(size, resp.len(), "size field");
    let rc = u32::from_be_bytes(resp[6..10].try_into().unwrap());
    if rc != 0 {
        assert_eq!(resp.len(), 10, "error responses carry only the header");
    }
}

const GET_RANDOM_8: [u8; 12] = [0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x7B, 0, 8];

fn still_works(t: &mut Tpm, p: &mut TestPlatform) {
    let r = t.execute(p, 0, &GET_RANDOM_8);
    check_well_formed(&r.bytes);
    let rc = u32::from_be_bytes(r.bytes[6..10].try_into().unwrap());
    // A random byte string may legitimately have been a Shutdown; the TPM is
    // then still running. It may also have put the TPM in failure mode only if
    // that is reported as TPM_RC_FAILURE.
    assert!(
        rc == 0 || rc == 0x101,
        "GetRandom after fuzz input: {rc:#x}"
    );
}

/// Real commands (as tpm2-tools sends them) used as mutation seeds.
fn seeds() -> Vec<Vec<u8>> {
    let hex = [
        // GetRandom(32)
        "80010000000c0000017b0020",
        // ReadClock
        "80010000000a00000181",
        // GetCapability(TPM_PROPERTIES, 0x100, 64)
        "8001000000160000017a000000060000010000000040",
        // PCR_Read sha256 {0,1,2}
        "8001000000140000017e00000001000b03070000",
        // PCR_Extend 16 sha256 with password session
        "80020000004100000182000000100000000940000009000001000000000001000b0101010101010101010101010101010101010101010101010101010101010101",
        // HierarchyChangeAuth owner "" -> "abc"
        "8002000000200000012940000001000000094000000900000100000003616263",
        // Hash sha256 "abc" owner
        "800100000014000001 7d0003616263000b40000001",
        // HashSequenceStart auth "" sha256
        "80010000000e00000186 0000000b",
        // Shutdown(STATE)
        "80010000000c000001450001",
        // SelfTest(full)
        "80010000000b0000014301",
    ];
    hex.iter()
        .map(|h| {
            let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
            let mut b: Vec<u8> = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            // commandSize is filled in here so the seeds stay easy to edit
            let n = b.len() as u32;
            b[2..6].copy_from_slice(&n.to_be_bytes());
            b
        })
        .collect()
}

#[test]
fn seeds_are_well_formed_commands() {
    let (mut t, mut p) = started();
    for s in seeds() {
        let r = t.execute(&mut p, 0, &s);
        check_well_formed(&r.bytes);
        let rc = u32::from_be_bytes(r.bytes[6..10].try_into().unwrap());
        // Each seed is a valid command: anything but a parse error (commands
        // not implemented yet answer TPM_RC_COMMAND_CODE).
        assert!(
            rc == 0 || rc == 0x143 || rc == 0x9A2,
            "seed {s:02x?} -> {rc:#x}"
        );
    }
}

#[test]
fn empty_and_truncated_headers() {
    let (mut t, mut p) = started();
    for n in 0..=GET_RANDOM_8.len() {
        let r = t.execute(&mut p, 0, &GET_RANDOM_8[..n]);
        check_well_formed(&r.bytes);
    }
    still_works(&mut t, &mut p);
}

#[test]
fn every_command_code_with_short_bodies() {
    let (mut t, mut p) = started();
    for cc in 0x11Fu32..=0x1A0 {
        for body_len in [0usize, 1, 2, 4, 9, 17] {
            for tag in [0x8001u16, 0x8002] {
                let mut c = tag.to_be_bytes().to_vec();
                c.extend_from_slice(&((10 + body_len) as u32).to_be_bytes());
                c.extend_from_slice(&cc.to_be_bytes());
                c.extend((0..body_len).map(|i| (i as u8).wrapping_mul(37)));
                let r = t.execute(&mut p, 0, &c);
                check_well_formed(&r.bytes);
            }
        }
    }
    // Whatever happened (a Shutdown, a Clear, ...), the TPM keeps answering.
    still_works(&mut t, &mut p);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600), loc in 0u8..8) {
        let (mut t, mut p) = started();
        let r = t.execute(&mut p, loc, &data);
        check_well_formed(&r.bytes);
        still_works(&mut t, &mut p);
    }

    #[test]
    fn arbitrary_bodies_with_valid_header(
        cc in 0x11Fu32..0x1A0,
        sessions in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let (mut t, mut p) = started();
        let tag: u16 = if sessions { 0x8002 } else { 0x8001 };
        let mut c = tag.to_be_bytes().to_vec();
        c.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
        c.extend_from_slice(&cc.to_be_bytes());
        c.extend_from_slice(&body);
        let r = t.execute(&mut p, 0, &c);
        check_well_formed(&r.bytes);
        still_works(&mut t, &mut p);
    }

    #[test]
    fn mutated_real_commands(
        seed in 0usize..10,
        flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<u16>()),
    ) {
        let (mut t, mut p) = started();
        let mut c = seeds()[seed].clone();
        for (pos, x) in flips {
            let i = usize::from(pos) % c.len();
            c[i] ^= x;
        }
        if let Some(n) = cut {
            c.truncate(usize::from(n) % (c.len() + 1));
        }
        let r = t.execute(&mut p, 0, &c);
        check_well_formed(&r.bytes);
        still_works(&mut t, &mut p);
    }

    #[test]
    fn arbitrary_state_is_refused_not_misread(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        // Either refused, or (astronomically unlikely) a valid state that then works.
        if let Ok(mut t) = Tpm::from_permanent_state(&data) {
            let mut p = TestPlatform::new(1);
            t.power_on(&mut p);
            let r = t.execute(&mut p, 0, &GET_RANDOM_8);
            check_well_formed(&r.bytes);
        }
    }

    #[test]
    fn truncated_or_flipped_state_never_panics(cut in any::<u16>(), pos in any::<u16>(), x in 1u8..=255) {
        let mut p = TestPlatform::new(3);
        let t = Tpm::manufacture(&mut p);
        let mut s = t.permanent_state();
        let i = usize::from(pos) % s.len();
        s[i] ^= x;
        s.truncate(usize::from(cut) % (s.len() + 1));
        if let Ok(mut t) = Tpm::from_permanent_state(&s) {
            t.power_on(&mut p);
            let r = t.execute(&mut p, 0, &[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0]);
            check_well_formed(&r.bytes);
        }
    }
}

#[test]
fn state_round_trip_keeps_behaviour() {
    let (mut t, mut p) = started();
    // Set owner auth "abc", save, restore, and check the password is required.
    let change = seeds()[5].clone();
    let r = t.execute(&mut p, 0, &change);
    assert_eq!(&r.bytes[6..10], &[0, 0, 0, 0]);
    assert!(r.nv_changed);
    let saved = t.permanent_state();
    let mut t2 = Tpm::from_permanent_state(&saved).unwrap();
    t2.power_on(&mut p);
    let r = t2.execute(&mut p, 0, &[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0]);
    assert_eq!(&r.bytes[6..10], &[0, 0, 0, 0]);
    // the same change with the empty password is now a BAD_AUTH at session 1
    let r = t2.execute(&mut p, 0, &change);
    assert_eq!(
        u32::from_be_bytes(r.bytes[6..10].try_into().unwrap()),
        0x9A2
    );
}
