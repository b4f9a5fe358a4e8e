//! NV storage commands (Part 3, clause 31).

use alloc::vec;
use alloc::vec::Vec;
use sha2::{Digest, Sha256};

use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Writer};
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::nv::{Tpm2bNvPublic, TpmaNv, TpmsNvPublic};
use crate::types::sized::Tpm2bDigest;

const OWNER: u32 = TpmRh::OWNER.0;
const PLATFORM: u32 = TpmRh::PLATFORM.0;
const IDX: u32 = 0x0150_0001;
const NT_COUNTER: u32 = 1 << 4;
const NT_BITS: u32 = 2 << 4;
const NT_EXTEND: u32 = 4 << 4;
const NT_PIN_PASS: u32 = 9 << 4;
/// Owner and index access, both directions.
const RW: u32 = TpmaNv::OWNERWRITE | TpmaNv::OWNERREAD | TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD;

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn public(index: u32, attrs: u32, size: u16) -> TpmsNvPublic {
    TpmsNvPublic {
        nv_index: index,
        name_alg: crate::crypto::hash::HashAlg::Sha256,
        attributes: TpmaNv(attrs),
        auth_policy: Tpm2bDigest::empty(),
        data_size: size,
    }
}

fn define_with(t: &mut Tpm, p: &mut TestPlatform, by: u32, auth: &[u8], puba: TpmsNvPublic) -> u32 {
    let auth = auth.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::NV_DEFINE_SPACE)
            .handle(by)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(&auth);
                Tpm2bNvPublic(puba).marshal(w);
            }),
    )
    .rc
}

fn define(t: &mut Tpm, p: &mut TestPlatform, index: u32, attrs: u32, size: u16) {
    assert_eq!(define_with(t, p, OWNER, b"", public(index, attrs, size)), 0);
}

fn write(
    t: &mut Tpm,
    p: &mut TestPlatform,
    by: u32,
    pw: &[u8],
    index: u32,
    data: &[u8],
    off: u16,
) -> u32 {
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
                w.u16(off);
            }),
    )
    .rc
}

/// NV_Read: Ok(data) or Err(rc).
fn read(
    t: &mut Tpm,
    p: &mut TestPlatform,
    by: u32,
    pw: &[u8],
    index: u32,
    size: u16,
    off: u16,
) -> Result<Vec<u8>, u32> {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_READ)
            .handle(by)
            .handle(index)
            .pw(pw)
            .params(move |w| {
                w.u16(size);
                w.u16(off);
            }),
    );
    if r.rc != 0 {
        return Err(r.rc);
    }
    let n = u16::from_be_bytes([r.body[4], r.body[5]]) as usize;
    Ok(r.body[6..6 + n].to_vec())
}

/// A command with the authHandle/nvIndex pair and no parameters.
fn simple(
    t: &mut Tpm,
    p: &mut TestPlatform,
    cc: TpmCc,
    by: u32,
    index: u32,
    f: impl FnOnce(&mut Writer),
) -> u32 {
    run(
        t,
        p,
        &Cmd::new(cc).handle(by).handle(index).pw(b"").params(f),
    )
    .rc
}

fn read_public(t: &mut Tpm, p: &mut TestPlatform, index: u32) -> Result<(Vec<u8>, Vec<u8>), u32> {
    let r = run(t, p, &Cmd::new(TpmCc::NV_READ_PUBLIC).handle(index));
    if r.rc != 0 {
        return Err(r.rc);
    }
    let n = u16::from_be_bytes([r.body[0], r.body[1]]) as usize;
    let pubb = r.body[2..2 + n].to_vec();
    let rest = &r.body[2 + n..];
    let m = u16::from_be_bytes([rest[0], rest[1]]) as usize;
    Ok((pubb, rest[2..2 + m].to_vec()))
}

fn expected_name(public_bytes: &[u8]) -> Vec<u8> {
    let mut n = vec![0x00, 0x0b];
    n.extend_from_slice(&Sha256::digest(public_bytes));
    n
}

fn restart(t: &mut Tpm, p: &mut TestPlatform, shutdown: u16, startup: u16) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::SHUTDOWN).params(move |w| w.u16(shutdown)),
    );
    assert_eq!(r.rc, 0);
    t.power_on(p);
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::STARTUP).params(move |w| w.u16(startup)),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
}

fn counter_value(t: &mut Tpm, p: &mut TestPlatform, index: u32) -> u64 {
    let d = read(t, p, OWNER, b"", index, 8, 0).unwrap();
    u64::from_be_bytes(d.try_into().unwrap())
}

#[test]
fn define_write_read_ordinary() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW, 64);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 4, 0),
        Err(rc(TpmRc::NV_UNINITIALIZED))
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"hello", 3), 0);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 5, 3).unwrap(),
        b"hello"
    );
    let all = read(&mut t, &mut p, IDX, b"", IDX, 64, 0).unwrap();
    assert_eq!(&all[..3], &[0, 0, 0]);
    assert_eq!(&all[3..8], b"hello");
    assert_eq!(all.len(), 64);
    // Redefining the same handle is refused.
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"", public(IDX, RW, 8)),
        rc(TpmRc::NV_DEFINED)
    );
}

#[test]
fn read_public_name_tracks_written() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW, 16);
    let (pub1, name1) = read_public(&mut t, &mut p, IDX).unwrap();
    let mut expect = Writer::new();
    public(IDX, RW, 16).marshal(&mut expect);
    assert_eq!(pub1, expect.as_slice());
    assert_eq!(name1, expected_name(&pub1));
    assert_eq!(t.entity_name(IDX), name1);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"x", 0), 0);
    let (pub2, name2) = read_public(&mut t, &mut p, IDX).unwrap();
    let written = u32::from_be_bytes(pub2[6..10].try_into().unwrap());
    assert_eq!(written, RW | TpmaNv::WRITTEN);
    assert_ne!(name1, name2);
    assert_eq!(name2, expected_name(&pub2));
    assert_eq!(
        read_public(&mut t, &mut p, IDX + 1),
        Err(rc(TpmRc::HANDLE.at_handle(1)))
    );
}

#[test]
fn access_attributes_are_enforced() {
    let (mut t, mut p) = started();
    // Only the index authValue may read and write.
    let attrs = TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD;
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"secret", public(IDX, attrs, 8)),
        0
    );
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0),
        rc(TpmRc::NV_AUTHORIZATION)
    );
    assert_eq!(write(&mut t, &mut p, IDX, b"secret", IDX, b"a", 0), 0);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 1, 0),
        Err(rc(TpmRc::NV_AUTHORIZATION))
    );
    assert_eq!(
        read(&mut t, &mut p, PLATFORM, b"", IDX, 1, 0),
        Err(rc(TpmRc::NV_AUTHORIZATION))
    );
    assert_eq!(
        read(&mut t, &mut p, IDX, b"secret", IDX, 1, 0).unwrap(),
        b"a"
    );
    // A wrong password counts toward lockout (the index is DA protected).
    assert_eq!(
        read(&mut t, &mut p, IDX, b"wrong", IDX, 1, 0),
        Err(rc(TpmRc::AUTH_FAIL.at_session(1)))
    );
    assert_eq!(t.perm.da.failed_tries, 1);
    // With NO_DA the failure is not counted.
    let idx2 = IDX + 1;
    let attrs = TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD | TpmaNv::NO_DA;
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"pw", public(idx2, attrs, 8)),
        0
    );
    assert_eq!(
        write(&mut t, &mut p, idx2, b"nope", idx2, b"a", 0),
        rc(TpmRc::BAD_AUTH.at_session(1))
    );
    assert_eq!(t.perm.da.failed_tries, 1);
    // An index handle authorizes only itself.
    assert_eq!(
        write(&mut t, &mut p, idx2, b"pw", IDX, b"a", 0),
        rc(TpmRc::NV_AUTHORIZATION)
    );
}

#[test]
fn ranges_and_sizes() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW, 16);
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, &[1; 10], 7),
        rc(TpmRc::NV_RANGE)
    );
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, &[1; 1025], 0),
        rc(TpmRc::SIZE.at_param(1))
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, &[1; 16], 0), 0);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 8, 9),
        Err(rc(TpmRc::NV_RANGE))
    );
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 1025, 0),
        Err(rc(TpmRc::VALUE.at_param(1)))
    );
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 0, 17),
        Err(rc(TpmRc::VALUE.at_param(2)))
    );
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"", 17),
        rc(TpmRc::VALUE.at_param(2))
    );
    assert_eq!(read(&mut t, &mut p, OWNER, b"", IDX, 0, 16).unwrap(), b"");
    // WRITEALL: only whole writes.
    define(&mut t, &mut p, IDX + 1, RW | TpmaNv::WRITEALL, 8);
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX + 1, &[1; 4], 0),
        rc(TpmRc::NV_RANGE)
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX + 1, &[1; 8], 0), 0);
}

#[test]
fn define_refusals() {
    let (mut t, mut p) = started();
    let attrs_err = rc(TpmRc::ATTRIBUTES.at_param(2));
    let d = |t: &mut Tpm, p: &mut TestPlatform, by, attrs, size| {
        define_with(t, p, by, b"", public(IDX, attrs, size))
    };
    assert_eq!(d(&mut t, &mut p, OWNER, RW | TpmaNv::WRITTEN, 8), attrs_err);
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::WRITELOCKED, 8),
        attrs_err
    );
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::READLOCKED, 8),
        attrs_err
    );
    assert_eq!(d(&mut t, &mut p, OWNER, RW | NT_PIN_PASS, 8), attrs_err);
    assert_eq!(d(&mut t, &mut p, OWNER, RW | (3 << 4), 8), attrs_err);
    assert_eq!(d(&mut t, &mut p, OWNER, TpmaNv::OWNERWRITE, 8), attrs_err);
    assert_eq!(d(&mut t, &mut p, OWNER, TpmaNv::OWNERREAD, 8), attrs_err);
    let handle_err = rc(TpmRc::ATTRIBUTES.at_handle(1));
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::PLATFORMCREATE, 8),
        handle_err
    );
    assert_eq!(d(&mut t, &mut p, PLATFORM, RW, 8), handle_err);
    assert_eq!(
        d(
            &mut t,
            &mut p,
            OWNER,
            RW | TpmaNv::CLEAR_STCLEAR | TpmaNv::WRITEDEFINE,
            8
        ),
        attrs_err
    );
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::POLICY_DELETE, 8),
        attrs_err
    );
    assert_eq!(
        d(
            &mut t,
            &mut p,
            OWNER,
            RW | NT_COUNTER | TpmaNv::CLEAR_STCLEAR,
            8
        ),
        attrs_err
    );
    let size_err = rc(TpmRc::SIZE.at_param(2));
    assert_eq!(d(&mut t, &mut p, OWNER, RW | NT_COUNTER, 4), size_err);
    assert_eq!(d(&mut t, &mut p, OWNER, RW | NT_BITS, 9), size_err);
    assert_eq!(d(&mut t, &mut p, OWNER, RW | NT_EXTEND, 20), size_err);
    assert_eq!(d(&mut t, &mut p, OWNER, RW, 2049), size_err);
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::WRITEALL, 1025),
        size_err
    );
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | TpmaNv::WRITEALL, 1025),
        size_err
    );
    // Reserved attribute bits.
    assert_eq!(
        d(&mut t, &mut p, OWNER, RW | (1 << 8), 8),
        rc(TpmRc::RESERVED_BITS.at_param(2))
    );
    // authPolicy of the wrong size.
    let mut pa = public(IDX, RW, 8);
    pa.auth_policy = Tpm2bDigest::new(&[1; 20]).unwrap();
    assert_eq!(define_with(&mut t, &mut p, OWNER, b"", pa), size_err);
    // An auth longer than the nameAlg digest.
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, &[7; 33], public(IDX, RW, 8)),
        rc(TpmRc::SIZE.at_param(1))
    );
    // Not an NV handle.
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"", public(0x8100_0001, RW, 8)),
        rc(TpmRc::VALUE.at_param(2))
    );
    assert!(t.perm.nv.indices.is_empty());
}

#[test]
fn nv_space_is_limited() {
    let (mut t, mut p) = started();
    for i in 0..crate::state::nv::MAX_NV_INDICES as u32 {
        define(&mut t, &mut p, IDX + i, RW, 8);
    }
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"", public(IDX + 1000, RW, 8)),
        rc(TpmRc::NV_SPACE)
    );
    let (mut t, mut p) = started();
    let n = crate::state::nv::MAX_NV_TOTAL_SIZE / 2048;
    for i in 0..n as u32 {
        define(&mut t, &mut p, IDX + i, RW, 2048);
    }
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"", public(IDX + 1000, RW, 1)),
        rc(TpmRc::NV_SPACE)
    );
}

#[test]
fn platform_definition_needs_ph_enable_nv() {
    let (mut t, mut p) = started();
    let pp = TpmaNv::PPWRITE | TpmaNv::PPREAD | TpmaNv::PLATFORMCREATE;
    assert_eq!(
        define_with(&mut t, &mut p, PLATFORM, b"", public(0x01C0_0100, pp, 8)),
        0
    );
    assert_eq!(
        write(&mut t, &mut p, PLATFORM, b"", 0x01C0_0100, b"a", 0),
        0
    );
    // Disable platform NV: the index becomes unreachable and no new one is defined.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HIERARCHY_CONTROL)
            .handle(PLATFORM)
            .pw(b"")
            .params(|w| {
                w.u32(TpmRh::PLATFORM_NV.0);
                w.u8(0);
            }),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(
        define_with(&mut t, &mut p, PLATFORM, b"", public(0x01C0_0101, pp, 8)),
        rc(TpmRc::HIERARCHY.at_handle(1))
    );
    assert_eq!(
        read(&mut t, &mut p, PLATFORM, b"", 0x01C0_0100, 1, 0),
        Err(rc(TpmRc::HANDLE.at_handle(2)))
    );
}

#[test]
fn counter_is_monotonic_across_redefinition() {
    let (mut t, mut p) = started();
    let attrs = RW | NT_COUNTER;
    define(&mut t, &mut p, IDX, attrs, 8);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 8, 0),
        Err(rc(TpmRc::NV_UNINITIALIZED))
    );
    for want in 1..=3u64 {
        assert_eq!(
            simple(&mut t, &mut p, TpmCc::NV_INCREMENT, OWNER, IDX, |_| {}),
            0
        );
        assert_eq!(counter_value(&mut t, &mut p, IDX), want);
    }
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, &[0; 8], 0),
        rc(TpmRc::ATTRIBUTES)
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_UNDEFINE_SPACE, OWNER, IDX, |_| {}),
        0
    );
    define(&mut t, &mut p, IDX, attrs, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_INCREMENT, OWNER, IDX, |_| {}),
        0
    );
    assert_eq!(counter_value(&mut t, &mut p, IDX), 4);
    // A second counter also starts above every value seen.
    define(&mut t, &mut p, IDX + 1, attrs, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_INCREMENT, OWNER, IDX + 1, |_| {}),
        0
    );
    assert_eq!(counter_value(&mut t, &mut p, IDX + 1), 5);
    // Increment on an ordinary index is refused.
    define(&mut t, &mut p, IDX + 2, RW, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_INCREMENT, OWNER, IDX + 2, |_| {}),
        rc(TpmRc::ATTRIBUTES)
    );
}

#[test]
fn set_bits_ors() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | NT_BITS, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_SET_BITS, OWNER, IDX, |w| w
            .u64(0x11)),
        0
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_SET_BITS, OWNER, IDX, |w| w
            .u64(0x0100)),
        0
    );
    assert_eq!(counter_value(&mut t, &mut p, IDX), 0x111);
    define(&mut t, &mut p, IDX + 1, RW, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_SET_BITS, OWNER, IDX + 1, |w| w
            .u64(1)),
        rc(TpmRc::ATTRIBUTES)
    );
}

#[test]
fn extend_hashes_with_name_alg() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | NT_EXTEND, 32);
    let ext = |w: &mut Writer, d: &'static [u8]| w.tpm2b(d);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_EXTEND, OWNER, IDX, |w| ext(
            w, b"one"
        )),
        0
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_EXTEND, OWNER, IDX, |w| ext(
            w, b"two"
        )),
        0
    );
    let mut v = [0u8; 32].to_vec();
    for d in [&b"one"[..], b"two"] {
        let mut h = Sha256::new();
        h.update(&v);
        h.update(d);
        v = h.finalize().to_vec();
    }
    assert_eq!(read(&mut t, &mut p, OWNER, b"", IDX, 32, 0).unwrap(), v);
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, &[0; 32], 0),
        rc(TpmRc::ATTRIBUTES)
    );
}

#[test]
fn write_stclear_lock_released_by_startup_clear_only() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::WRITE_STCLEAR, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX, |_| {}),
        0
    );
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0),
        rc(TpmRc::NV_LOCKED)
    );
    // Locking again is fine.
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX, |_| {}),
        0
    );
    restart(&mut t, &mut p, 1, 1); // Shutdown(STATE) + Startup(STATE): TPM Resume
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0),
        rc(TpmRc::NV_LOCKED)
    );
    restart(&mut t, &mut p, 1, 0); // TPM Restart
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0), 0);
    // A lock needs WRITEDEFINE or WRITE_STCLEAR.
    define(&mut t, &mut p, IDX + 1, RW, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX + 1, |_| {}),
        rc(TpmRc::ATTRIBUTES.at_handle(2))
    );
    // The lock itself is subject to the write access attributes.
    define(
        &mut t,
        &mut p,
        IDX + 2,
        TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD | TpmaNv::WRITE_STCLEAR,
        8,
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX + 2, |_| {}),
        rc(TpmRc::NV_AUTHORIZATION)
    );
}

#[test]
fn writedefine_lock_is_permanent_once_written() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::WRITEDEFINE, 8);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0), 0);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX, |_| {}),
        0
    );
    restart(&mut t, &mut p, 0, 0); // TPM Reset
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0),
        rc(TpmRc::NV_LOCKED)
    );
    assert_eq!(read(&mut t, &mut p, OWNER, b"", IDX, 1, 0).unwrap(), b"a");
}

#[test]
fn read_lock_released_by_startup_clear_only() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::READ_STCLEAR, 8);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0), 0);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_READ_LOCK, OWNER, IDX, |_| {}),
        0
    );
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 1, 0),
        Err(rc(TpmRc::NV_LOCKED))
    );
    // Writing is still possible.
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"b", 0), 0);
    restart(&mut t, &mut p, 1, 1);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 1, 0),
        Err(rc(TpmRc::NV_LOCKED))
    );
    restart(&mut t, &mut p, 0, 0);
    assert_eq!(read(&mut t, &mut p, OWNER, b"", IDX, 1, 0).unwrap(), b"b");
    define(&mut t, &mut p, IDX + 1, RW, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_READ_LOCK, OWNER, IDX + 1, |_| {}),
        rc(TpmRc::ATTRIBUTES.at_handle(2))
    );
    define(
        &mut t,
        &mut p,
        IDX + 2,
        TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD | TpmaNv::READ_STCLEAR,
        8,
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_READ_LOCK, OWNER, IDX + 2, |_| {}),
        rc(TpmRc::NV_AUTHORIZATION)
    );
}

#[test]
fn clear_stclear_unwrites_at_restart() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::CLEAR_STCLEAR, 8);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0), 0);
    restart(&mut t, &mut p, 1, 1);
    assert!(read(&mut t, &mut p, OWNER, b"", IDX, 1, 0).is_ok());
    restart(&mut t, &mut p, 1, 0);
    assert_eq!(
        read(&mut t, &mut p, OWNER, b"", IDX, 1, 0),
        Err(rc(TpmRc::NV_UNINITIALIZED))
    );
}

#[test]
fn global_write_lock() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::GLOBALLOCK, 8);
    define(&mut t, &mut p, IDX + 1, RW, 8);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_GLOBAL_WRITE_LOCK).handle(OWNER).pw(b""),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0),
        rc(TpmRc::NV_LOCKED)
    );
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX + 1, b"a", 0), 0);
    // A WRITEDEFINE lock taken while the global lock holds is kept.
    define(
        &mut t,
        &mut p,
        IDX + 2,
        RW | TpmaNv::GLOBALLOCK | TpmaNv::WRITEDEFINE,
        8,
    );
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_WRITE_LOCK, OWNER, IDX + 2, |_| {}),
        0
    );
    restart(&mut t, &mut p, 0, 0);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"a", 0), 0);
    assert_eq!(
        write(&mut t, &mut p, OWNER, b"", IDX + 2, b"a", 0),
        rc(TpmRc::NV_LOCKED)
    );
}

#[test]
fn clear_removes_owner_indices_only() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW, 8);
    let pp = TpmaNv::PPWRITE | TpmaNv::PPREAD | TpmaNv::PLATFORMCREATE;
    assert_eq!(
        define_with(&mut t, &mut p, PLATFORM, b"", public(0x01C0_0100, pp, 8)),
        0
    );
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CLEAR).handle(TpmRh::LOCKOUT.0).pw(b""),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(t.perm.nv.handles(), vec![0x01C0_0100]);
}

#[test]
fn undefine_rules() {
    let (mut t, mut p) = started();
    let pp = TpmaNv::PPWRITE | TpmaNv::PPREAD | TpmaNv::OWNERREAD | TpmaNv::PLATFORMCREATE;
    let pidx = 0x01C0_0100;
    assert_eq!(
        define_with(&mut t, &mut p, PLATFORM, b"", public(pidx, pp, 8)),
        0
    );
    assert_eq!(
        simple(
            &mut t,
            &mut p,
            TpmCc::NV_UNDEFINE_SPACE,
            OWNER,
            pidx,
            |_| {}
        ),
        rc(TpmRc::NV_AUTHORIZATION)
    );
    assert_eq!(
        simple(
            &mut t,
            &mut p,
            TpmCc::NV_UNDEFINE_SPACE,
            PLATFORM,
            pidx,
            |_| {}
        ),
        0
    );
    assert_eq!(
        simple(
            &mut t,
            &mut p,
            TpmCc::NV_UNDEFINE_SPACE,
            PLATFORM,
            pidx,
            |_| {}
        ),
        rc(TpmRc::HANDLE.at_handle(2))
    );
    // POLICY_DELETE indices need UndefineSpaceSpecial.
    assert_eq!(
        define_with(
            &mut t,
            &mut p,
            PLATFORM,
            b"",
            public(pidx, pp | TpmaNv::POLICY_DELETE, 8)
        ),
        0
    );
    assert_eq!(
        simple(
            &mut t,
            &mut p,
            TpmCc::NV_UNDEFINE_SPACE,
            PLATFORM,
            pidx,
            |_| {}
        ),
        rc(TpmRc::ATTRIBUTES.at_handle(2))
    );
    // A password cannot give the ADMIN role of an index.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_UNDEFINE_SPACE_SPECIAL)
            .handle(pidx)
            .handle(PLATFORM)
            .pw(b"")
            .pw(b""),
    );
    assert_eq!(r.rc, rc(TpmRc::AUTH_TYPE));
    // The command itself, once authorized.
    assert_eq!(
        direct(
            &mut t,
            &mut p,
            super::undefine_space_special,
            &[pidx, PLATFORM],
            &[]
        ),
        Ok(())
    );
    assert!(t.perm.nv.get(pidx).is_none());
    define(&mut t, &mut p, IDX, RW, 8);
    assert_eq!(
        direct(
            &mut t,
            &mut p,
            super::undefine_space_special,
            &[IDX, PLATFORM],
            &[]
        ),
        Err(TpmRc::ATTRIBUTES.at_handle(1))
    );
}

/// Runs a handler as the dispatcher would after authorization succeeded.
fn direct(
    t: &mut Tpm,
    p: &mut TestPlatform,
    f: crate::dispatch::table::Handler,
    handles: &[u32],
    params: &[u8],
) -> Result<(), TpmRc> {
    let mut ctx = Ctx {
        tpm: t,
        platform: p,
        locality: 0,
        handles: handles.to_vec(),
        out_handles: Vec::new(),
        out: Writer::new(),
        nv_dirty: false,
        policy_auth: Vec::new(),
    };
    let mut params = Params::new(params);
    f(&mut ctx, &mut params).and_then(|()| params.end())
}

#[test]
fn change_auth() {
    let (mut t, mut p) = started();
    let attrs = TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD;
    assert_eq!(
        define_with(&mut t, &mut p, OWNER, b"old", public(IDX, attrs, 8)),
        0
    );
    let (_, name_before) = read_public(&mut t, &mut p, IDX).unwrap();
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_CHANGE_AUTH)
            .handle(IDX)
            .pw(b"old")
            .params(|w| w.tpm2b(b"new")),
    );
    assert_eq!(r.rc, rc(TpmRc::AUTH_TYPE));
    let mut w = Writer::new();
    w.tpm2b(b"new");
    assert_eq!(
        direct(&mut t, &mut p, super::change_auth, &[IDX], w.as_slice()),
        Ok(())
    );
    assert_eq!(write(&mut t, &mut p, IDX, b"new", IDX, b"a", 0), 0);
    assert_eq!(
        write(&mut t, &mut p, IDX, b"old", IDX, b"a", 0),
        rc(TpmRc::AUTH_FAIL.at_session(1))
    );
    assert_eq!(
        read_public(&mut t, &mut p, IDX).unwrap().1.len(),
        name_before.len()
    );
    let mut w = Writer::new();
    w.tpm2b(&[1; 33]);
    assert_eq!(
        direct(&mut t, &mut p, super::change_auth, &[IDX], w.as_slice()),
        Err(TpmRc::SIZE.at_param(1))
    );
}

#[test]
fn owner_indices_follow_sh_enable() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::PPREAD, 8);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HIERARCHY_CONTROL)
            .handle(PLATFORM)
            .pw(b"")
            .params(|w| {
                w.u32(OWNER);
                w.u8(0);
            }),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(
        read(&mut t, &mut p, PLATFORM, b"", IDX, 1, 0),
        Err(rc(TpmRc::HANDLE.at_handle(2)))
    );
}

#[test]
fn state_survives_permanent_round_trip() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW | TpmaNv::WRITEDEFINE, 8);
    assert_eq!(write(&mut t, &mut p, OWNER, b"", IDX, b"keep", 0), 0);
    define(&mut t, &mut p, IDX + 1, RW | NT_COUNTER, 8);
    assert_eq!(
        simple(&mut t, &mut p, TpmCc::NV_INCREMENT, OWNER, IDX + 1, |_| {}),
        0
    );
    assert_eq!(
        simple(
            &mut t,
            &mut p,
            TpmCc::NV_UNDEFINE_SPACE,
            OWNER,
            IDX + 1,
            |_| {}
        ),
        0
    );
    let (_, name) = read_public(&mut t, &mut p, IDX).unwrap();
    let bytes = t.permanent_state();
    let mut t2 = Tpm::from_permanent_state(&bytes).unwrap();
    t2.power_on(&mut p);
    assert_eq!(run(&mut t2, &mut p, &startup_clear()).rc, 0);
    assert_eq!(
        read(&mut t2, &mut p, OWNER, b"", IDX, 4, 0).unwrap(),
        b"keep"
    );
    assert_eq!(read_public(&mut t2, &mut p, IDX).unwrap().1, name);
    assert_eq!(t2.perm.nv.max_counter, 1);
    // A state of the previous layout is refused, not misread.
    let old = postcard::to_allocvec(&(1u16, 0u8)).unwrap();
    assert!(Tpm::from_permanent_state(&old).is_err());
}

#[test]
fn get_capability_lists_indices_and_counts() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX + 5, RW, 8);
    define(&mut t, &mut p, IDX, RW | NT_COUNTER, 8);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
            w.u32(1); // TPM_CAP_HANDLES
            w.u32(0x0100_0000);
            w.u32(16);
        }),
    );
    assert_eq!(r.rc, 0);
    let b = &r.body;
    assert_eq!(u32::from_be_bytes(b[5..9].try_into().unwrap()), 2);
    assert_eq!(u32::from_be_bytes(b[9..13].try_into().unwrap()), IDX);
    assert_eq!(u32::from_be_bytes(b[13..17].try_into().unwrap()), IDX + 5);
    let props = crate::commands::capability::tpm_properties(&t);
    let get = |pt: crate::types::properties::TpmPt| props.iter().find(|(p, _)| *p == pt).unwrap().1;
    use crate::types::properties::TpmPt;
    assert_eq!(get(TpmPt::HR_NV_INDEX), 2);
    assert_eq!(get(TpmPt::NV_COUNTERS), 1);
    assert_eq!(get(TpmPt::NV_BUFFER_MAX), 1024);
    assert_eq!(get(TpmPt::NV_INDEX_MAX), 2048);
    assert_eq!(get(TpmPt::NV_COUNTERS_MAX), 0);
    assert_eq!(
        get(TpmPt::NV_COUNTERS_AVAIL),
        crate::state::nv::MAX_NV_INDICES as u32 - 2
    );
}

/// The TCG EK Credential Profile certificate indices: the platform provisions them,
/// the owner (and anyone, with the empty index authValue) reads them in chunks.
#[test]
fn ek_certificate_indices() {
    let (mut t, mut p) = started();
    let attrs = TpmaNv::PPWRITE
        | TpmaNv::PPREAD
        | TpmaNv::OWNERREAD
        | TpmaNv::AUTHREAD
        | TpmaNv::NO_DA
        | TpmaNv::PLATFORMCREATE
        | TpmaNv::WRITEDEFINE;
    // A DER-like blob: SEQUENCE with a two-byte length, then filler.
    let mut cert = vec![0x30, 0x82, 0x04, 0x10];
    cert.extend((0..0x410u32).map(|i| (i * 7 + 3) as u8));
    let size = cert.len() as u16;
    let chunk = 1024usize;
    for handle in [0x01C0_0002u32, 0x01C0_000A] {
        assert_eq!(
            define_with(&mut t, &mut p, PLATFORM, b"", public(handle, attrs, size)),
            0
        );
        for (i, part) in cert.chunks(chunk).enumerate() {
            assert_eq!(
                write(
                    &mut t,
                    &mut p,
                    PLATFORM,
                    b"",
                    handle,
                    part,
                    (i * chunk) as u16
                ),
                0
            );
        }
        // The owner may not write it.
        assert_eq!(
            write(&mut t, &mut p, OWNER, b"", handle, b"x", 0),
            rc(TpmRc::NV_AUTHORIZATION)
        );
        let mut got = Vec::new();
        while got.len() < cert.len() {
            let n = (cert.len() - got.len()).min(chunk) as u16;
            got.extend(read(&mut t, &mut p, OWNER, b"", handle, n, got.len() as u16).unwrap());
        }
        assert_eq!(got, cert);
        assert_eq!(
            read(&mut t, &mut p, handle, b"", handle, 4, 0).unwrap(),
            cert[..4]
        );
        // Once locked, the certificate stays as provisioned.
        assert_eq!(
            simple(
                &mut t,
                &mut p,
                TpmCc::NV_WRITE_LOCK,
                PLATFORM,
                handle,
                |_| {}
            ),
            0
        );
        assert_eq!(
            write(&mut t, &mut p, PLATFORM, b"", handle, b"x", 0),
            rc(TpmRc::NV_LOCKED)
        );
    }
    // Owner Clear leaves them in place.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CLEAR).handle(TpmRh::LOCKOUT.0).pw(b""),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(t.perm.nv.handles(), vec![0x01C0_0002, 0x01C0_000A]);
}
