//! PIN Fail and PIN Pass indices driven through whole commands: definition
//! rules, pinCount kept by the session layer, the dictionary-attack counter
//! left alone for PIN Fail.

use alloc::vec::Vec;

use super::*;
use crate::marshal::Marshal;
use crate::platform::TestPlatform;
use crate::testutil::*;
use crate::types::constants::TpmRh;
use crate::types::nv::{Tpm2bNvPublic, TpmsNvPublic};
use crate::types::sized::Tpm2bDigest;

const OWNER: u32 = TpmRh::OWNER.0;
const FAIL: u32 = 0x0150_0100;
const PASS: u32 = 0x0150_0101;
const NT_PIN_FAIL: u32 = 8 << 4;
const NT_PIN_PASS: u32 = 9 << 4;
/// Owner writes and reads, the PIN reads.
const OWNER_RW_AUTH_READ: u32 = TpmaNv::OWNERWRITE | TpmaNv::OWNERREAD | TpmaNv::AUTHREAD;
const PIN: &[u8] = b"1234";

fn define(t: &mut Tpm, p: &mut TestPlatform, index: u32, attrs: u32, size: u16) -> u32 {
    let public = TpmsNvPublic {
        nv_index: index,
        name_alg: crate::crypto::hash::HashAlg::Sha256,
        attributes: TpmaNv(attrs),
        auth_policy: Tpm2bDigest::empty(),
        data_size: size,
    };
    run(
        t,
        p,
        &Cmd::new(TpmCc::NV_DEFINE_SPACE)
            .handle(OWNER)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(PIN);
                Tpm2bNvPublic(public).marshal(w);
            }),
    )
    .rc
}

fn pin_data(count: u32, limit: u32) -> Vec<u8> {
    let mut v = count.to_be_bytes().to_vec();
    v.extend_from_slice(&limit.to_be_bytes());
    v
}

fn write(t: &mut Tpm, p: &mut TestPlatform, by: u32, pw: &[u8], index: u32, data: &[u8]) -> u32 {
    let data = data.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::NV_WRITE)
            .handle(by)
            .handle(index)
            .pw(pw)
            .params(move |w| {
                w.tpm2b(&data);
                w.u16(0);
            }),
    )
    .rc
}

/// NV_Read of all 8 octets: the data or the response code, and nv_changed.
fn read(
    t: &mut Tpm,
    p: &mut TestPlatform,
    by: u32,
    pw: &[u8],
    index: u32,
) -> (Result<Vec<u8>, u32>, bool) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_READ)
            .handle(by)
            .handle(index)
            .pw(pw)
            .params(|w| {
                w.u16(8);
                w.u16(0);
            }),
    );
    if r.rc != 0 {
        return (Err(r.rc), r.nv);
    }
    (Ok(r.body[6..14].to_vec()), r.nv)
}

fn stored(t: &Tpm, index: u32) -> (u32, u32) {
    pin_parameters(&t.nv_index(index).unwrap().data)
}

#[test]
fn definition_rules() {
    let (mut t, mut p) = started();
    let attrs = TpmRc::ATTRIBUTES.at_param(2).value();
    let base = OWNER_RW_AUTH_READ;
    // PIN Fail needs NO_DA.
    assert_eq!(define(&mut t, &mut p, FAIL, base | NT_PIN_FAIL, 8), attrs);
    for extra in [TpmaNv::AUTHWRITE, TpmaNv::GLOBALLOCK, TpmaNv::WRITEDEFINE] {
        let fail = base | TpmaNv::NO_DA | NT_PIN_FAIL | extra;
        assert_eq!(define(&mut t, &mut p, FAIL, fail, 8), attrs);
        assert_eq!(
            define(&mut t, &mut p, PASS, base | NT_PIN_PASS | extra, 8),
            attrs
        );
    }
    let size = TpmRc::SIZE.at_param(2).value();
    assert_eq!(
        define(&mut t, &mut p, FAIL, base | TpmaNv::NO_DA | NT_PIN_FAIL, 4),
        size
    );
    assert_eq!(define(&mut t, &mut p, PASS, base | NT_PIN_PASS, 16), size);
    assert!(t.perm.nv.indices.is_empty());
    assert_eq!(
        define(&mut t, &mut p, FAIL, base | TpmaNv::NO_DA | NT_PIN_FAIL, 8),
        0
    );
    assert_eq!(define(&mut t, &mut p, PASS, base | NT_PIN_PASS, 8), 0);
    // PIN indices are not counters.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_INCREMENT)
            .handle(OWNER)
            .handle(FAIL)
            .pw(b""),
    );
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.value());
}

#[test]
fn pin_fail_counts_failures_and_resets_on_success() {
    let (mut t, mut p) = started();
    let attrs = OWNER_RW_AUTH_READ | TpmaNv::NO_DA | NT_PIN_FAIL;
    assert_eq!(define(&mut t, &mut p, FAIL, attrs, 8), 0);
    // Before the first write the PIN is not available at all.
    let unavailable = TpmRc::AUTH_UNAVAILABLE.at_session(1).value();
    assert_eq!(read(&mut t, &mut p, FAIL, PIN, FAIL).0, Err(unavailable));
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", FAIL).0,
        Err(TpmRc::NV_UNINITIALIZED.value())
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", FAIL, &pin_data(0, 3)), 0);
    assert_eq!(read(&mut t, &mut p, OWNER, b"", FAIL).0, Ok(pin_data(0, 3)));
    // Two wrong PINs: pinCount 2, the DA counter untouched, the change durable.
    let bad = TpmRc::BAD_AUTH.at_session(1).value();
    for n in 1..=2 {
        let (r, nv) = read(&mut t, &mut p, FAIL, b"0000", FAIL);
        assert_eq!(r, Err(bad));
        assert!(nv, "pinCount must be made durable");
        assert_eq!(stored(&t, FAIL), (n, 3));
    }
    assert_eq!(t.perm.da.failed_tries, 0);
    // The right PIN resets pinCount before the command reads the data.
    assert_eq!(read(&mut t, &mut p, FAIL, PIN, FAIL).0, Ok(pin_data(0, 3)));
    // Three wrong PINs reach pinLimit: even the right PIN is now refused
    // without a comparison, and pinCount stays at the limit.
    for _ in 0..3 {
        assert_eq!(read(&mut t, &mut p, FAIL, b"0000", FAIL).0, Err(bad));
    }
    assert_eq!(stored(&t, FAIL), (3, 3));
    assert_eq!(read(&mut t, &mut p, FAIL, PIN, FAIL).0, Err(unavailable));
    assert_eq!(
        read(&mut t, &mut p, FAIL, b"0000", FAIL).0,
        Err(unavailable)
    );
    assert_eq!(stored(&t, FAIL), (3, 3));
    // The owner raises the limit; the PIN works again.
    assert_eq!(write(&mut t, &mut p, OWNER, b"", FAIL, &pin_data(3, 5)), 0);
    assert_eq!(read(&mut t, &mut p, FAIL, PIN, FAIL).0, Ok(pin_data(0, 5)));
    // The PIN never authorizes a write (AUTHWRITE is never SET).
    assert_eq!(
        write(&mut t, &mut p, FAIL, PIN, FAIL, &pin_data(0, 9)),
        unavailable
    );
    assert_eq!(stored(&t, FAIL), (0, 5));
}

#[test]
fn pin_pass_counts_successes() {
    let (mut t, mut p) = started();
    // Not NO_DA: a wrong PIN is a dictionary-attack failure instead.
    assert_eq!(
        define(&mut t, &mut p, PASS, OWNER_RW_AUTH_READ | NT_PIN_PASS, 8),
        0
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", PASS, &pin_data(0, 2)), 0);
    assert_eq!(read(&mut t, &mut p, PASS, PIN, PASS).0, Ok(pin_data(1, 2)));
    let fail = TpmRc::AUTH_FAIL.at_session(1).value();
    assert_eq!(read(&mut t, &mut p, PASS, b"0000", PASS).0, Err(fail));
    assert_eq!(t.perm.da.failed_tries, 1);
    assert_eq!(stored(&t, PASS), (1, 2));
    assert_eq!(read(&mut t, &mut p, PASS, PIN, PASS).0, Ok(pin_data(2, 2)));
    let unavailable = TpmRc::AUTH_UNAVAILABLE.at_session(1).value();
    assert_eq!(read(&mut t, &mut p, PASS, PIN, PASS).0, Err(unavailable));
    assert_eq!(stored(&t, PASS), (2, 2));
    // Owner reads do not count.
    assert_eq!(read(&mut t, &mut p, OWNER, b"", PASS).0, Ok(pin_data(2, 2)));
    assert_eq!(stored(&t, PASS), (2, 2));
}

#[test]
fn parameters_are_big_endian_halves() {
    assert_eq!(pin_parameters(&[0, 0, 0, 2, 0, 0, 0, 5]), (2, 5));
    assert_eq!(pin_parameters(&[1, 2]), (0, 0));
    assert!(is_write_operation(TpmCc::NV_WRITE_LOCK));
    assert!(!is_write_operation(TpmCc::NV_READ));
}

/// Starts an unbound, unsalted SHA-256 policy session.
fn start_policy(t: &mut Tpm, p: &mut TestPlatform) -> u32 {
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
    u32::from_be_bytes(r.body[0..4].try_into().unwrap())
}

/// PolicySecret with the PIN index as authHandle.
fn policy_secret(t: &mut Tpm, p: &mut TestPlatform, session: u32, pw: &[u8]) -> u32 {
    let c = Cmd::new(TpmCc::POLICY_SECRET)
        .handle(FAIL)
        .handle(session)
        .pw(pw)
        .params(|w| {
            w.tpm2b(b"");
            w.tpm2b(b"");
            w.tpm2b(b"");
            w.u32(0);
        });
    run(t, p, &c).rc
}

/// The usual use of a PIN Fail index: its PIN gates a policy through
/// TPM2_PolicySecret, which is not a write, so the same counting applies.
#[test]
fn policy_secret_with_a_pin_fail_index() {
    let (mut t, mut p) = started();
    let attrs = OWNER_RW_AUTH_READ | TpmaNv::NO_DA | NT_PIN_FAIL;
    assert_eq!(define(&mut t, &mut p, FAIL, attrs, 8), 0);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", FAIL, &pin_data(0, 2)), 0);
    let s = start_policy(&mut t, &mut p);
    let bad = TpmRc::BAD_AUTH.at_session(1).value();
    assert_eq!(policy_secret(&mut t, &mut p, s, b"9999"), bad);
    assert_eq!(stored(&t, FAIL), (1, 2));
    assert_eq!(policy_secret(&mut t, &mut p, s, PIN), 0);
    assert_eq!(stored(&t, FAIL), (0, 2));
    for _ in 0..2 {
        assert_eq!(policy_secret(&mut t, &mut p, s, b"9999"), bad);
    }
    assert_eq!(
        policy_secret(&mut t, &mut p, s, PIN),
        TpmRc::AUTH_UNAVAILABLE.at_session(1).value()
    );
    assert_eq!(stored(&t, FAIL), (2, 2));
    assert_eq!(t.perm.da.failed_tries, 0);
}
