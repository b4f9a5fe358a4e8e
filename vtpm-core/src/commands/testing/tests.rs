//! SelfTest, IncrementalSelfTest, GetTestResult, failure mode and TestParms,
//! driven with real command bytes.

use alloc::vec::Vec;

use super::*;
use crate::platform::TestPlatform;
use crate::testutil::*;
use crate::types::constants::TpmCc;

const NEEDS_TEST: u32 = 0x153;
const FAILURE: u32 = 0x101;

fn self_test_cmd(full: u8) -> Cmd {
    Cmd::new(TpmCc::SELF_TEST).params(move |w| w.u8(full))
}

fn incremental(algs: &[u16]) -> Cmd {
    let algs = algs.to_vec();
    Cmd::new(TpmCc::INCREMENTAL_SELF_TEST).params(move |w| {
        w.u32(algs.len() as u32);
        for a in &algs {
            w.u16(*a);
        }
    })
}

/// (outData, testResult) of GetTestResult.
fn test_result(t: &mut Tpm, p: &mut TestPlatform) -> (Vec<u8>, u32) {
    let r = run(t, p, &Cmd::new(TpmCc::GET_TEST_RESULT));
    assert_eq!(r.rc, 0);
    let n = usize::from(u16::from_be_bytes([r.body[0], r.body[1]]));
    assert_eq!(r.body.len(), 2 + n + 4);
    let data = r.body[2..2 + n].to_vec();
    let rc = u32::from_be_bytes(r.body[2 + n..].try_into().unwrap());
    (data, rc)
}

/// The toDoList of an IncrementalSelfTest response.
fn to_do_list(body: &[u8]) -> Vec<u16> {
    let n = u32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
    assert_eq!(body.len(), 4 + 2 * n);
    body[4..]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

#[test]
fn power_on_self_test() {
    // _TPM_Init runs the self-tests: a started TPM has passed them.
    let (mut t, mut p) = started();
    assert!(t.self_tested);
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), 0));
    let r = run(&mut t, &mut p, &incremental(&[]));
    assert!(to_do_list(&r.body).is_empty());
}

#[test]
fn self_test_then_success() {
    let (mut t, mut p) = started();
    t.self_tested = false;
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), NEEDS_TEST));
    let r = run(&mut t, &mut p, &self_test_cmd(1));
    assert_eq!(r.rc, 0);
    assert!(r.body.is_empty());
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), 0));
    // A partial self-test after a full one has nothing left to do.
    assert_eq!(run(&mut t, &mut p, &self_test_cmd(0)).rc, 0);
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), 0));
    // A partial self-test runs what has not passed.
    t.self_tested = false;
    assert_eq!(run(&mut t, &mut p, &self_test_cmd(0)).rc, 0);
    assert_eq!(test_result(&mut t, &mut p).1, 0);
}

#[test]
fn self_test_parameter_errors() {
    let (mut t, mut p) = started();
    // fullTest is a TPMI_YES_NO.
    assert_eq!(run(&mut t, &mut p, &self_test_cmd(2)).rc, 0x1C4);
    assert_eq!(run(&mut t, &mut p, &Cmd::new(TpmCc::SELF_TEST)).rc, 0x1DA);
    let c = Cmd::new(TpmCc::SELF_TEST).params(|w| {
        w.u8(1);
        w.u8(1)
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
    let c = Cmd::new(TpmCc::GET_TEST_RESULT).params(|w| w.u8(0));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
    // Before Startup nothing runs.
    let (mut t, mut p) = powered();
    assert_eq!(run(&mut t, &mut p, &self_test_cmd(1)).rc, 0x100);
}

#[test]
fn incremental_self_test_reports_the_to_do_list() {
    let (mut t, mut p) = started();
    t.self_tested = false;
    let r = run(&mut t, &mut p, &incremental(&[]));
    assert_eq!(r.rc, 0);
    assert_eq!(to_do_list(&r.body), [0x04, 0x05, 0x0B, 0x0C, 0x0D]);
    assert_eq!(test_result(&mut t, &mut p).1, NEEDS_TEST);
    // Algorithms without a test of their own are accepted.
    let r = run(&mut t, &mut p, &incremental(&[0x10, 0x08, 0x0B]));
    assert_eq!(r.rc, 0);
    assert!(to_do_list(&r.body).is_empty());
    assert_eq!(test_result(&mut t, &mut p).1, 0);
    let r = run(&mut t, &mut p, &incremental(&[]));
    assert!(to_do_list(&r.body).is_empty());
}

#[test]
fn incremental_self_test_errors() {
    let (mut t, mut p) = started();
    t.self_tested = false;
    // Not implemented: TDES, CAMELLIA, TPM_ALG_ERROR, an unassigned value.
    for alg in [0x0003u16, 0x0026, 0x0000, 0x7777] {
        let r = run(&mut t, &mut p, &incremental(&[0x0B, alg]));
        assert_eq!(r.rc, 0x1C4, "{alg:#x}");
    }
    // Nothing was tested by the refused commands.
    assert_eq!(test_result(&mut t, &mut p).1, NEEDS_TEST);
    let too_many = [0x0Bu16; 65];
    assert_eq!(run(&mut t, &mut p, &incremental(&too_many)).rc, 0x1D5);
    let max = [0x0Bu16; 64];
    assert_eq!(run(&mut t, &mut p, &incremental(&max)).rc, 0);
    let short = Cmd::new(TpmCc::INCREMENTAL_SELF_TEST).params(|w| {
        w.u32(2);
        w.u16(0x0B)
    });
    assert_eq!(run(&mut t, &mut p, &short).rc, 0x1DA);
}

#[test]
fn tpml_alg_round_trip_and_limits() {
    let l = TpmlAlg(alloc::vec![TpmAlgId::SHA1, TpmAlgId::NULL]);
    let b = l.to_bytes();
    assert_eq!(b, [0, 0, 0, 2, 0, 4, 0, 0x10]);
    assert_eq!(TpmlAlg::from_bytes(&b), Ok(l));
    assert_eq!(TpmlAlg::from_bytes(&b[..7]), Err(TpmRc::INSUFFICIENT));
    assert_eq!(TpmlAlg::from_bytes(&[0, 0, 0, 65]), Err(TpmRc::SIZE));
    assert_eq!(TpmlAlg::from_bytes(&[0xFF, 0, 0, 0]), Err(TpmRc::SIZE));
}

#[test]
fn failure_mode() {
    let (mut t, mut p) = started();
    let code = crate::crypto::selftest::FAILURE_SELF_TEST | 3;
    assert_eq!(record_self_test(&mut t, Err(code)), Err(TpmRc::FAILURE));
    // Only GetTestResult and GetCapability are answered.
    let rng = Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(8));
    assert_eq!(run(&mut t, &mut p, &rng).rc, FAILURE);
    assert_eq!(run(&mut t, &mut p, &self_test_cmd(1)).rc, FAILURE);
    assert_eq!(run(&mut t, &mut p, &incremental(&[])).rc, FAILURE);
    assert_eq!(
        run(&mut t, &mut p, &Cmd::new(TpmCc::READ_CLOCK)).rc,
        FAILURE
    );
    assert_eq!(
        test_result(&mut t, &mut p),
        (code.to_be_bytes().to_vec(), FAILURE)
    );
    let cap = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(6);
        w.u32(0x105);
        w.u32(1);
    });
    let r = run(&mut t, &mut p, &cap);
    assert_eq!(r.rc, 0);
    assert_eq!(&r.body[9..17], &[0, 0, 1, 5, b'V', b'T', b'P', b'M']);
    // _TPM_Init leaves failure mode.
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(run(&mut t, &mut p, &rng).rc, 0);
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), 0));
}

#[test]
fn a_passing_run_is_recorded() {
    let (mut t, mut p) = started();
    t.self_tested = false;
    assert_eq!(record_self_test(&mut t, Ok(())), Ok(()));
    assert_eq!(test_result(&mut t, &mut p), (Vec::new(), 0));
}

fn test_parms(parms: &[u8]) -> u32 {
    let (mut t, mut p) = started();
    let parms = parms.to_vec();
    let c = Cmd::new(TpmCc::TEST_PARMS).params(move |w| w.bytes(&parms));
    let r = run(&mut t, &mut p, &c);
    if r.rc == 0 {
        assert!(r.body.is_empty());
    }
    r.rc
}

#[test]
fn test_parms_accepts_what_is_implemented() {
    // Keyed-hash objects: HMAC with every implemented hash, and sealed data.
    for h in [0x04u8, 0x0B, 0x0C, 0x0D] {
        assert_eq!(test_parms(&[0, 8, 0, 5, 0, h]), 0, "hmac {h:#x}");
    }
    assert_eq!(test_parms(&[0, 8, 0, 0x10]), 0);
    let ok: &[(&str, &[u8])] = &[
        // XOR obfuscation with the SP 800-108 KDF, and with no KDF.
        ("xor", &[0, 8, 0, 0x0A, 0, 0x0B, 0, 0x22]),
        ("xor null kdf", &[0, 8, 0, 0x0A, 0, 0x0C, 0, 0x10]),
        // RSA-2048 storage key (AES-128-CFB), RSA-3072 RSASSA and OAEP keys.
        (
            "rsa 2048 storage",
            &[0, 1, 0, 6, 0, 128, 0, 0x43, 0, 0x10, 8, 0, 0, 0, 0, 0],
        ),
        (
            "rsa 3072 rsassa",
            &[0, 1, 0, 0x10, 0, 0x14, 0, 0x0B, 0x0C, 0, 0, 1, 0, 1],
        ),
        (
            "rsa 3072 oaep",
            &[0, 1, 0, 0x10, 0, 0x17, 0, 0x0C, 0x0C, 0, 0, 0, 0, 0],
        ),
        (
            "rsa pss",
            &[0, 1, 0, 0x10, 0, 0x16, 0, 0x0D, 8, 0, 0, 0, 0, 0],
        ),
        ("rsaes", &[0, 1, 0, 0x10, 0, 0x15, 8, 0, 0, 0, 0, 0]),
        // ECC P-256 ECDSA, P-384 storage key with ECDH and KDFs.
        (
            "ecc p256 ecdsa",
            &[0, 0x23, 0, 0x10, 0, 0x18, 0, 0x0B, 0, 3, 0, 0x10],
        ),
        (
            "ecc p384 storage",
            &[
                0, 0x23, 0, 6, 1, 0, 0, 0x43, 0, 0x19, 0, 0x0C, 0, 4, 0, 0x20, 0, 0x0C,
            ],
        ),
        (
            "ecc mgf1",
            &[0, 0x23, 0, 0x10, 0, 0x10, 0, 3, 0, 7, 0, 0x0B],
        ),
        // Symmetric cipher objects: AES-128/256, CFB and the other modes.
        ("aes-128-cfb", &[0, 0x25, 0, 6, 0, 128, 0, 0x43]),
        ("aes-256-cfb", &[0, 0x25, 0, 6, 1, 0, 0, 0x43]),
        ("aes-256 any mode", &[0, 0x25, 0, 6, 1, 0, 0, 0x10]),
        ("aes-128-ctr", &[0, 0x25, 0, 6, 0, 128, 0, 0x40]),
        ("aes-128-ofb", &[0, 0x25, 0, 6, 0, 128, 0, 0x41]),
        ("aes-128-cbc", &[0, 0x25, 0, 6, 0, 128, 0, 0x42]),
        ("aes-128-ecb", &[0, 0x25, 0, 6, 0, 128, 0, 0x44]),
    ];
    for (name, b) in ok {
        assert_eq!(test_parms(b), 0, "{name}");
    }
}

#[test]
fn test_parms_refuses_the_rest_at_parameter_1() {
    let cases: &[(&str, &[u8], u32)] = &[
        // Key sizes the engine does not implement: TPM_RC_VALUE.
        (
            "rsa 1024",
            &[0, 1, 0, 0x10, 0, 0x14, 0, 0x0B, 4, 0, 0, 0, 0, 0],
            0x1C4,
        ),
        (
            "rsa 4096",
            &[0, 1, 0, 0x10, 0, 0x14, 0, 0x0B, 0x10, 0, 0, 0, 0, 0],
            0x1C4,
        ),
        ("aes-192-cfb", &[0, 0x25, 0, 6, 0, 192, 0, 0x43], 0x1C4),
        // Curves, ciphers, modes and schemes that are not implemented.
        (
            "ecc p521",
            &[0, 0x23, 0, 0x10, 0, 0x18, 0, 0x0B, 0, 5, 0, 0x10],
            0x1E6,
        ),
        (
            "ecc bn p256",
            &[0, 0x23, 0, 0x10, 0, 0x18, 0, 0x0B, 0, 0x10, 0, 0x10],
            0x1E6,
        ),
        (
            "ecdaa",
            &[0, 0x23, 0, 0x10, 0, 0x1A, 0, 0x0B, 0, 1, 0, 3, 0, 0x10],
            0x1D2,
        ),
        (
            "kdf2",
            &[0, 0x23, 0, 0x10, 0, 0x10, 0, 3, 0, 0x21, 0, 0x0B],
            0x1CC,
        ),
        ("camellia", &[0, 0x25, 0, 0x26, 0, 128, 0, 0x43], 0x1D6),
        ("cmac mode", &[0, 0x25, 0, 6, 0, 128, 0, 0x3F], 0x1C9),
        ("unknown type", &[0, 0x99], 0x1CA),
        ("null type", &[0, 0x10], 0x1CA),
        ("ecdsa for keyedhash", &[0, 8, 0, 0x18, 0, 0x0B], 0x1C4),
        ("hmac sm3", &[0, 8, 0, 5, 0, 0x12], 0x1C3),
        ("hmac null", &[0, 8, 0, 5, 0, 0x10], 0x1C3),
        ("truncated", &[0, 8, 0, 5], 0x1DA),
        ("empty", &[], 0x1DA),
        ("trailing byte", &[0, 8, 0, 0x10, 0], 0x095),
    ];
    for (name, b, rc) in cases {
        assert_eq!(test_parms(b), *rc, "{name}");
    }
}
