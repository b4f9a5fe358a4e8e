//! TPM2_GetCapability driven with real command bytes: every capability, paging and
//! moreData, the error codes, and values cross-checked against the engine state.

use alloc::vec::Vec;

use super::*;
use crate::platform::TestPlatform;
use crate::state::objects::{Object, SequenceObject};
use crate::testutil::*;
use crate::types::constants::TpmCc;
use crate::types::properties::PT_VAR;
use crate::types::sized::Tpm2bAuth;

/// A parsed GetCapability response.
#[derive(Debug)]
struct Cap {
    more: bool,
    capability: u32,
    count: u32,
    data: Vec<u8>,
}

fn getcap_rc(t: &mut Tpm, p: &mut TestPlatform, cap: u32, property: u32, count: u32) -> u32 {
    let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(cap);
        w.u32(property);
        w.u32(count);
    });
    run(t, p, &c).rc
}

fn getcap(t: &mut Tpm, p: &mut TestPlatform, cap: TpmCap, property: u32, count: u32) -> Cap {
    let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(cap.0);
        w.u32(property);
        w.u32(count);
    });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "GetCapability({cap:?}, {property:#x}, {count})");
    let b = &r.body;
    assert!(
        b.len() <= 1 + MAX_CAP_BUFFER,
        "capability data fits MAX_CAP_BUFFER"
    );
    assert!(b[0] <= 1);
    Cap {
        more: b[0] == 1,
        capability: u32::from_be_bytes(b[1..5].try_into().unwrap()),
        count: u32::from_be_bytes(b[5..9].try_into().unwrap()),
        data: b[9..].to_vec(),
    }
}

fn u32s(data: &[u8]) -> Vec<u32> {
    data.chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect()
}

/// (tag, value) pairs of a TPML_TAGGED_TPM_PROPERTY.
fn props(c: &Cap) -> Vec<(u32, u32)> {
    let v = u32s(&c.data);
    assert_eq!(v.len(), 2 * c.count as usize);
    v.chunks(2).map(|p| (p[0], p[1])).collect()
}

fn prop(t: &mut Tpm, p: &mut TestPlatform, pt: TpmPt) -> u32 {
    let c = getcap(t, p, TpmCap::TPM_PROPERTIES, pt.0, 1);
    let v = props(&c);
    assert_eq!(v[0].0, pt.0);
    v[0].1
}

fn load_sequence(t: &mut Tpm) -> u32 {
    t.objects
        .insert(Object::Sequence(SequenceObject::new(
            Some(HashAlg::Sha256),
            Tpm2bAuth::empty(),
        )))
        .unwrap()
}

#[test]
fn algorithms_come_from_the_table() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0, MAX_CAP_ALGS as u32);
    assert!(!c.more);
    assert_eq!(c.capability, 0);
    assert_eq!(c.count as usize, IMPLEMENTED.algs.len());
    let got: Vec<(u16, u32)> = c
        .data
        .chunks(6)
        .map(|e| {
            (
                u16::from_be_bytes([e[0], e[1]]),
                u32::from_be_bytes(e[2..6].try_into().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0x0001, 0x009),
            (0x0004, 0x004),
            (0x0005, 0x104),
            (0x0006, 0x002),
            (0x0007, 0x404),
            (0x0008, 0x30C),
            (0x000A, 0x006),
            (0x000B, 0x004),
            (0x000C, 0x004),
            (0x000D, 0x004),
            (0x0010, 0x000),
            (0x0014, 0x101),
            (0x0015, 0x201),
            (0x0016, 0x101),
            (0x0017, 0x201),
            (0x0018, 0x101),
            (0x0019, 0x401),
            (0x0020, 0x404),
            (0x0022, 0x404),
            (0x0023, 0x009),
            (0x0025, 0x008),
            (0x0040, 0x202),
            (0x0041, 0x202),
            (0x0042, 0x202),
            (0x0043, 0x202),
            (0x0044, 0x202)
        ]
    );
}

#[test]
fn algorithm_paging() {
    let (mut t, mut p) = started();
    let ids = |c: &Cap| -> Vec<u16> {
        c.data
            .chunks(6)
            .map(|e| u16::from_be_bytes([e[0], e[1]]))
            .collect()
    };
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0, 2);
    assert_eq!((ids(&c), c.more), (alloc::vec![1, 4], true));
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 9, 2);
    assert_eq!((ids(&c), c.more), (alloc::vec![0xA, 0xB], true));
    // Exactly the rest: no more.
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0x43, 2);
    assert_eq!((ids(&c), c.more), (alloc::vec![0x43, 0x44], false));
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0x44, 1);
    assert_eq!((ids(&c), c.more), (alloc::vec![0x44], false));
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0x45, 10);
    assert_eq!((c.count, c.more), (0, false));
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0x1_0000, 10);
    assert_eq!((c.count, c.more), (0, false));
    // Nothing asked for, but something there.
    let c = getcap(&mut t, &mut p, TpmCap::ALGS, 0, 0);
    assert_eq!((c.count, c.more), (0, true));
}

#[test]
fn unknown_capability_is_value_at_parameter_1() {
    let (mut t, mut p) = started();
    for cap in [0x0B, 0x0100, 0x8000_0000, u32::MAX] {
        assert_eq!(getcap_rc(&mut t, &mut p, cap, 0, 1), 0x1C4, "{cap:#x}");
    }
    // A missing parameter and a trailing byte.
    let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(0);
        w.u32(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x3DA);
    let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(0);
        w.u32(0);
        w.u32(1);
        w.u8(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
}

#[test]
fn handles_by_range() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0, 100);
    assert_eq!(u32s(&c.data), (0..24).collect::<Vec<u32>>());
    assert!(!c.more);
    assert_eq!(c.capability, 1);
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 20, 2);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![20, 21], true));
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 22, 2);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![22, 23], false));
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 24, 2);
    assert_eq!((c.count, c.more), (0, false));

    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0x4000_0000, 254);
    assert_eq!(
        u32s(&c.data),
        [
            0x4000_0001,
            0x4000_0007,
            0x4000_0009,
            0x4000_000A,
            0x4000_000B,
            0x4000_000C,
            0x4000_000D
        ]
    );
    assert!(!c.more);
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0x4000_0008, 1);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![0x4000_0009], true));

    // Transient objects appear as they are loaded.
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0x8000_0000, 10);
    assert_eq!((c.count, c.more), (0, false));
    let h1 = load_sequence(&mut t);
    let h2 = load_sequence(&mut t);
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0x8000_0000, 10);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![h1, h2], false));
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, 0x8000_0000, 1);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![h1], true));
    let c = getcap(&mut t, &mut p, TpmCap::HANDLES, h2, 1);
    assert_eq!((u32s(&c.data), c.more), (alloc::vec![h2], false));

    // Ranges with nothing in them yet.
    for start in [0x8100_0000, 0x0100_0000, 0x0200_0000, 0x0300_0000] {
        let c = getcap(&mut t, &mut p, TpmCap::HANDLES, start, 10);
        assert_eq!((c.count, c.more), (0, false), "{start:#x}");
    }
    // Handle types this TPM does not list: TPM_RC_HANDLE at parameter 2.
    for start in [0x9000_0000, 0x4100_0000, 0xFF00_0000] {
        assert_eq!(
            getcap_rc(&mut t, &mut p, TpmCap::HANDLES.0, start, 1),
            0x2CB
        );
    }
}

#[test]
fn command_attributes_match_the_table() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::COMMANDS, 0, MAX_CAP_CC as u32);
    assert!(!c.more);
    assert_eq!(c.capability, 2);
    let attrs = u32s(&c.data);
    assert_eq!(attrs.len(), COMMANDS.len());
    for (a, e) in attrs.iter().zip(COMMANDS) {
        assert_eq!(a & 0xFFFF, e.cc.0, "commandIndex");
        assert_eq!(TpmaCc(*a).c_handles() as usize, e.handles.len());
        assert_eq!(a & TpmaCc::NV != 0, e.nv);
        assert_eq!(a & TpmaCc::R_HANDLE != 0, e.response_handle);
        assert_eq!(a & (3 << 30), 0, "reserved bits");
    }
    let find = |cc: TpmCc| attrs.iter().copied().find(|a| a & 0xFFFF == cc.0);
    // No handles, nothing else.
    assert_eq!(find(TpmCc::GET_CAPABILITY), Some(0x0000_017A));
    // nv, extensive, one handle (a real TPM reports 0x02C00121).
    assert_eq!(find(TpmCc::HIERARCHY_CONTROL), Some(0x02C0_0121));
    // nv, one handle.
    assert_eq!(find(TpmCc::HIERARCHY_CHANGE_AUTH), Some(0x0240_0129));
    // flushed, two handles.
    assert_eq!(
        find(TpmCc::EVENT_SEQUENCE_COMPLETE).map(|a| a & !TpmaCc::NV),
        Some(0x0500_0185)
    );
    // rHandle.
    assert_eq!(find(TpmCc::HASH_SEQUENCE_START), Some(0x1000_0186));

    let c = getcap(&mut t, &mut p, TpmCap::COMMANDS, TpmCc::STARTUP.0, 1);
    assert_eq!(u32s(&c.data)[0] & 0xFFFF, 0x144);
    assert!(c.more);
    let last = COMMANDS.last().unwrap().cc.0;
    let c = getcap(&mut t, &mut p, TpmCap::COMMANDS, last, 1);
    assert_eq!((c.count, c.more), (1, false));
    let c = getcap(&mut t, &mut p, TpmCap::COMMANDS, last + 1, 5);
    assert_eq!((c.count, c.more), (0, false));
}

#[test]
fn pp_list_is_empty_and_audit_list_has_the_audit_command() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::PP_COMMANDS, 0, 100);
    assert_eq!(
        (c.count, c.more, c.capability),
        (0, false, TpmCap::PP_COMMANDS.0)
    );
    // TPM2_SetCommandCodeAuditStatus is always audited.
    let c = getcap(&mut t, &mut p, TpmCap::AUDIT_COMMANDS, 0, 100);
    assert_eq!((c.count, c.more), (1, false));
    assert_eq!(c.data, 0x140u32.to_be_bytes());
}

#[test]
fn pcr_banks() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::PCRS, 0, 1);
    assert!(!c.more);
    assert_eq!(c.capability, 5);
    assert_eq!(c.count, 4);
    assert_eq!(
        c.data,
        [
            0, 0x04, 3, 0xFF, 0xFF, 0xFF, 0, 0x0B, 3, 0xFF, 0xFF, 0xFF, 0, 0x0C, 3, 0, 0, 0, 0,
            0x0D, 3, 0, 0, 0
        ]
    );
    // The allocation is read from the permanent state.
    t.perm.pcr_allocation = alloc::vec![HashAlg::Sha384];
    let c = getcap(&mut t, &mut p, TpmCap::PCRS, 0, 8);
    assert_eq!(&c.data[3..6], &[0, 0, 0]);
    assert_eq!(&c.data[15..18], &[0xFF, 0xFF, 0xFF]);
    let c = getcap(&mut t, &mut p, TpmCap::PCRS, 0, 0);
    assert_eq!((c.count, c.more), (0, true));
    assert_eq!(getcap_rc(&mut t, &mut p, TpmCap::PCRS.0, 1, 1), 0x2C4);
}

#[test]
fn tpm_properties_stay_in_their_group() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, PT_FIXED, 127);
    assert!(!c.more);
    assert_eq!(c.capability, 6);
    let fixed = props(&c);
    // 0x100..=0x12E without the reserved 0x115.
    assert_eq!(fixed.len(), 46);
    assert!(fixed
        .iter()
        .all(|(pt, _)| (0x100..=0x12E).contains(pt) && *pt != 0x115));
    assert!(fixed.windows(2).all(|w| w[0].0 < w[1].0));
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, PT_VAR, 127);
    assert!(!c.more);
    let var = props(&c);
    assert_eq!(var.len(), 21);
    assert_eq!((var[0].0, var[20].0), (0x200, 0x214));

    // Paging within a group.
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0, 5);
    let v = props(&c);
    assert_eq!(
        v.iter().map(|x| x.0).collect::<Vec<_>>(),
        [0x100, 0x101, 0x102, 0x103, 0x104]
    );
    assert!(c.more);
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0x115, 1);
    assert_eq!((props(&c)[0].0, c.more), (0x116, true));
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0x12E, 5);
    assert_eq!((props(&c).len(), c.more), (1, false));
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0x12F, 5);
    assert_eq!((c.count, c.more), (0, false));
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0x214, 5);
    assert_eq!((props(&c).len(), c.more), (1, false));
    let c = getcap(&mut t, &mut p, TpmCap::TPM_PROPERTIES, 0x300, 5);
    assert_eq!((c.count, c.more), (0, false));
}

#[test]
fn fixed_property_values() {
    let (mut t, mut p) = started();
    let mut get = |pt| prop(&mut t, &mut p, pt);
    assert_eq!(get(TpmPt::FAMILY_INDICATOR).to_be_bytes(), *b"2.0\0");
    assert_eq!(get(TpmPt::LEVEL), 0);
    assert_eq!(get(TpmPt::REVISION), 159);
    assert_eq!(get(TpmPt::DAY_OF_YEAR), 312);
    assert_eq!(get(TpmPt::YEAR), 2019);
    assert_eq!(get(TpmPt::MANUFACTURER).to_be_bytes(), *b"VTPM");
    assert_eq!(get(TpmPt::VENDOR_STRING_1).to_be_bytes(), *b"vtpm");
    assert_eq!(get(TpmPt::VENDOR_STRING_2).to_be_bytes(), *b"-rs ");
    assert_eq!(get(TpmPt::VENDOR_STRING_3).to_be_bytes(), *b"proc");
    assert_eq!(get(TpmPt::VENDOR_STRING_4).to_be_bytes(), *b"virt");
    let (v1, v2) = firmware_version();
    assert_eq!(
        (
            get(TpmPt::FIRMWARE_VERSION_1),
            get(TpmPt::FIRMWARE_VERSION_2)
        ),
        (v1, v2)
    );
    assert_eq!(get(TpmPt::INPUT_BUFFER), 1024);
    assert_eq!(get(TpmPt::HR_TRANSIENT_MIN), MAX_LOADED_OBJECTS as u32);
    assert_eq!(get(TpmPt::PCR_COUNT), 24);
    assert_eq!(get(TpmPt::PCR_SELECT_MIN), 3);
    assert_eq!(get(TpmPt::MEMORY), 0x4);
    assert_eq!(get(TpmPt::CLOCK_UPDATE), CLOCK_UPDATE_MS as u32);
    assert_eq!(get(TpmPt::MAX_COMMAND_SIZE), MAX_COMMAND_SIZE as u32);
    assert_eq!(get(TpmPt::MAX_RESPONSE_SIZE), MAX_COMMAND_SIZE as u32);
    assert_eq!(get(TpmPt::MAX_DIGEST), 64);
    assert_eq!(get(TpmPt::PS_FAMILY_INDICATOR), 1);
    assert_eq!(get(TpmPt::TOTAL_COMMANDS), COMMANDS.len() as u32);
    assert_eq!(get(TpmPt::LIBRARY_COMMANDS), COMMANDS.len() as u32);
    assert_eq!(get(TpmPt::VENDOR_COMMANDS), 0);
    assert_eq!(get(TpmPt::NV_BUFFER_MAX), 1024);
    assert_eq!(get(TpmPt::MAX_CAP_BUFFER), 1024);
    assert_eq!(get(TpmPt::LOADED_CURVES), 2);
    // The isolation backend shows in vendor string 3.
    t.set_isolation(Isolation::Vm);
    assert_eq!(
        prop(&mut t, &mut p, TpmPt::VENDOR_STRING_3).to_be_bytes(),
        *b"vm\0\0"
    );
}

#[test]
fn firmware_version_is_the_crate_version() {
    let (v1, v2) = firmware_version();
    let mut parts = identity::VERSION.split('.');
    let major: u32 = parts.next().unwrap().parse().unwrap();
    let minor: u32 = parts.next().unwrap().parse().unwrap();
    let patch: u32 = parts
        .next()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(v1, (major << 16) | minor);
    assert_eq!(v2, patch << 16);
}

#[test]
fn permanent_and_startup_flags_follow_the_state() {
    let (mut t, mut p) = started();
    let perm = |t: &mut Tpm, p: &mut TestPlatform| prop(t, p, TpmPt::PERMANENT);
    // A fresh TPM: only tpmGeneratedEPS.
    assert_eq!(perm(&mut t, &mut p), 0x400);
    let change = |h: TpmRh, auth: &[u8], new: &[u8]| {
        let (auth, new) = (auth.to_vec(), new.to_vec());
        Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
            .handle(h.0)
            .pw(&auth)
            .params(move |w| w.tpm2b(&new))
    };
    assert_eq!(run(&mut t, &mut p, &change(TpmRh::OWNER, b"", b"o")).rc, 0);
    assert_eq!(perm(&mut t, &mut p), 0x401);
    assert_eq!(
        run(&mut t, &mut p, &change(TpmRh::ENDORSEMENT, b"", b"e")).rc,
        0
    );
    assert_eq!(
        run(&mut t, &mut p, &change(TpmRh::LOCKOUT, b"", b"l")).rc,
        0
    );
    assert_eq!(perm(&mut t, &mut p), 0x407);
    assert_eq!(run(&mut t, &mut p, &change(TpmRh::OWNER, b"o", b"")).rc, 0);
    assert_eq!(perm(&mut t, &mut p), 0x406);
    let cc = Cmd::new(TpmCc::CLEAR_CONTROL)
        .handle(TpmRh::LOCKOUT.0)
        .pw(b"l")
        .params(|w| w.u8(1));
    assert_eq!(run(&mut t, &mut p, &cc).rc, 0);
    assert_eq!(perm(&mut t, &mut p), 0x506);
    // Dictionary-attack state: counter, limits and inLockout.
    let dap = Cmd::new(TpmCc::DICTIONARY_ATTACK_PARAMETERS)
        .handle(TpmRh::LOCKOUT.0)
        .pw(b"l")
        .params(|w| {
            w.u32(5);
            w.u32(0);
            w.u32(77);
        });
    assert_eq!(run(&mut t, &mut p, &dap).rc, 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::MAX_AUTH_FAIL), 5);
    assert_eq!(prop(&mut t, &mut p, TpmPt::LOCKOUT_INTERVAL), 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::LOCKOUT_RECOVERY), 77);
    t.perm.da.failed_tries = 5;
    assert_eq!(prop(&mut t, &mut p, TpmPt::LOCKOUT_COUNTER), 5);
    assert_eq!(perm(&mut t, &mut p), 0x706);

    let sc = |t: &mut Tpm, p: &mut TestPlatform| prop(t, p, TpmPt::STARTUP_CLEAR);
    assert_eq!(sc(&mut t, &mut p), 0x8000_000F);
    let disable = |h: TpmRh| {
        Cmd::new(TpmCc::HIERARCHY_CONTROL)
            .handle(TpmRh::PLATFORM.0)
            .pw(b"")
            .params(move |w| {
                w.u32(h.0);
                w.u8(0)
            })
    };
    assert_eq!(run(&mut t, &mut p, &disable(TpmRh::OWNER)).rc, 0);
    assert_eq!(sc(&mut t, &mut p), 0x8000_000D);
    assert_eq!(run(&mut t, &mut p, &disable(TpmRh::ENDORSEMENT)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &disable(TpmRh::PLATFORM_NV)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &disable(TpmRh::PLATFORM)).rc, 0);
    assert_eq!(sc(&mut t, &mut p), 0x8000_0000);
    // A power cycle without Shutdown: everything enabled again, not orderly.
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(sc(&mut t, &mut p), 0x0000_000F);
    // Shutdown(CLEAR) and Startup(CLEAR): orderly.
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0));
    assert_eq!(run(&mut t, &mut p, &sd).rc, 0);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(sc(&mut t, &mut p), 0x8000_000F);
}

#[test]
fn handle_counts_follow_the_object_table() {
    let (mut t, mut p) = started();
    let avail = |t: &mut Tpm, p: &mut TestPlatform| prop(t, p, TpmPt::HR_TRANSIENT_AVAIL);
    assert_eq!(avail(&mut t, &mut p), MAX_LOADED_OBJECTS as u32);
    load_sequence(&mut t);
    assert_eq!(avail(&mut t, &mut p), MAX_LOADED_OBJECTS as u32 - 1);
    while t.objects.len() < MAX_LOADED_OBJECTS {
        load_sequence(&mut t);
    }
    assert_eq!(avail(&mut t, &mut p), 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_LOADED), 0);
    assert_eq!(
        prop(&mut t, &mut p, TpmPt::HR_LOADED_AVAIL),
        crate::session::MAX_LOADED_SESSIONS as u32
    );
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_PERSISTENT), 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_NV_INDEX), 0);
}

#[test]
fn lockout_counter_heals_before_it_is_reported() {
    let (mut t, mut p) = started();
    t.perm.da.failed_tries = 2;
    t.perm.da.self_heal_clock = 0;
    assert_eq!(prop(&mut t, &mut p, TpmPt::LOCKOUT_COUNTER), 2);
    // recoveryTime is 1000 s by default: one failure is forgotten per interval.
    p.now_ms += 1000 * 1000;
    assert_eq!(prop(&mut t, &mut p, TpmPt::LOCKOUT_COUNTER), 1);
}

#[test]
fn pcr_properties() {
    let (mut t, mut p) = started();
    let c = getcap(
        &mut t,
        &mut p,
        TpmCap::PCR_PROPERTIES,
        0,
        MAX_PCR_PROPERTIES as u32,
    );
    assert!(!c.more);
    assert_eq!(c.capability, 7);
    assert_eq!(c.count, 15);
    let entries: Vec<(u32, [u8; 3])> = c
        .data
        .chunks(8)
        .map(|e| {
            assert_eq!(e[4], 3, "sizeofSelect");
            (
                u32::from_be_bytes(e[0..4].try_into().unwrap()),
                [e[5], e[6], e[7]],
            )
        })
        .collect();
    let get = |tag: TpmPtPcr| entries.iter().find(|e| e.0 == tag.0).unwrap().1;
    let bit = |m: [u8; 3], i: u8| m[usize::from(i / 8)] & (1 << (i % 8)) != 0;
    // Every bitmap agrees with the PCR attribute table.
    for i in 0..24u8 {
        let a = attributes(i);
        assert_eq!(bit(get(TpmPtPcr::SAVE), i), a.state_save, "save {i}");
        assert_eq!(bit(get(TpmPtPcr::NO_INCREMENT), i), a.no_increment, "{i}");
        assert_eq!(
            bit(get(TpmPtPcr::DRTM_RESET), i),
            a.reset_locality & 0x10 != 0,
            "drtm {i}"
        );
        for (n, ext, rst) in [
            (0u8, TpmPtPcr::EXTEND_L0, TpmPtPcr::RESET_L0),
            (1, TpmPtPcr::EXTEND_L1, TpmPtPcr::RESET_L1),
            (2, TpmPtPcr::EXTEND_L2, TpmPtPcr::RESET_L2),
            (3, TpmPtPcr::EXTEND_L3, TpmPtPcr::RESET_L3),
            (4, TpmPtPcr::EXTEND_L4, TpmPtPcr::RESET_L4),
        ] {
            assert_eq!(bit(get(ext), i), extend_allowed(i, n), "extend L{n} {i}");
            assert_eq!(bit(get(rst), i), reset_allowed(i, n), "reset L{n} {i}");
        }
        // PCRs 20-22 form the policy group and the authorization group.
        let grouped = (20..=22).contains(&i);
        assert_eq!(bit(get(TpmPtPcr::POLICY), i), grouped, "policy {i}");
        assert_eq!(bit(get(TpmPtPcr::AUTH), i), grouped, "auth {i}");
    }
    // The PC Client layout: SRTM PCRs 0-15 saved, D-RTM PCRs 17-22.
    assert_eq!(get(TpmPtPcr::SAVE), [0xFF, 0xFF, 0x00]);
    assert_eq!(get(TpmPtPcr::DRTM_RESET), [0x00, 0x00, 0x7E]);
    // Paging skips the gap between RESET_L4 and NO_INCREMENT.
    let c = getcap(&mut t, &mut p, TpmCap::PCR_PROPERTIES, 0x0B, 1);
    assert_eq!((u32s(&c.data[..4])[0], c.more), (0x11, true));
    let c = getcap(&mut t, &mut p, TpmCap::PCR_PROPERTIES, 0x14, 5);
    assert_eq!((c.count, c.more), (1, false));
    let c = getcap(&mut t, &mut p, TpmCap::PCR_PROPERTIES, 0x15, 5);
    assert_eq!((c.count, c.more), (0, false));
}

#[test]
fn curves_and_acts() {
    let (mut t, mut p) = started();
    // NIST P-256 and P-384.
    let c = getcap(&mut t, &mut p, TpmCap::ECC_CURVES, 0, 100);
    assert_eq!((c.capability, c.count, c.more), (8, 2, false));
    assert_eq!(c.data, [0, 3, 0, 4]);
    let c = getcap(&mut t, &mut p, TpmCap::ECC_CURVES, 0, 1);
    assert_eq!((c.count, c.more, &c.data[..]), (1, true, &[0u8, 3][..]));
    let c = getcap(&mut t, &mut p, TpmCap::ECC_CURVES, 4, 100);
    assert_eq!((c.count, c.more, &c.data[..]), (1, false, &[0u8, 4][..]));
    let c = getcap(&mut t, &mut p, TpmCap::ECC_CURVES, 5, 100);
    assert_eq!((c.count, c.more), (0, false));
    let c = getcap(&mut t, &mut p, TpmCap::ACT, 0x4000_0110, 100);
    assert_eq!((c.capability, c.count, c.more), (0x0A, 0, false));
    let c = getcap(&mut t, &mut p, TpmCap::ACT, 0x4000_011F, 1);
    assert_eq!((c.count, c.more), (0, false));
    // property must name an ACT
    for start in [0, 0x4000_010F, 0x4000_0120] {
        assert_eq!(getcap_rc(&mut t, &mut p, TpmCap::ACT.0, start, 1), 0x2C4);
    }
}

#[test]
fn auth_policies_of_the_hierarchies() {
    let (mut t, mut p) = started();
    let c = getcap(&mut t, &mut p, TpmCap::AUTH_POLICIES, 0x4000_0000, 14);
    assert_eq!((c.capability, c.count, c.more), (9, 4, false));
    let mut want = Vec::new();
    for h in [0x4000_0001u32, 0x4000_000A, 0x4000_000B, 0x4000_000C] {
        want.extend_from_slice(&h.to_be_bytes());
        want.extend_from_slice(&[0, 0x10]);
    }
    assert_eq!(c.data, want);
    // A policy that is set is reported with its hash.
    t.perm.owner_policy = AuthPolicy {
        alg: Some(HashAlg::Sha256),
        digest: crate::types::sized::Tpm2bDigest::new(&[0xAB; 32]).unwrap(),
    };
    let c = getcap(&mut t, &mut p, TpmCap::AUTH_POLICIES, 0x4000_0001, 1);
    assert!(c.more);
    assert_eq!(&c.data[..6], &[0x40, 0, 0, 1, 0, 0x0B]);
    assert_eq!(&c.data[6..], &[0xAB; 32]);
    let c = getcap(&mut t, &mut p, TpmCap::AUTH_POLICIES, 0x4000_000B, 1);
    assert_eq!((u32s(&c.data[..4])[0], c.more), (0x4000_000B, true));
    let c = getcap(&mut t, &mut p, TpmCap::AUTH_POLICIES, 0x4000_000D, 1);
    assert_eq!((c.count, c.more), (0, false));
    assert_eq!(
        getcap_rc(&mut t, &mut p, TpmCap::AUTH_POLICIES.0, 0x8000_0000, 1),
        0x2C4
    );
}

#[test]
fn no_response_exceeds_max_cap_buffer() {
    let (mut t, mut p) = started();
    while t.objects.len() < MAX_LOADED_OBJECTS {
        load_sequence(&mut t);
    }
    let starts = [
        (TpmCap::ALGS, 0),
        (TpmCap::HANDLES, 0),
        (TpmCap::HANDLES, 0x4000_0000),
        (TpmCap::HANDLES, 0x8000_0000),
        (TpmCap::COMMANDS, 0),
        (TpmCap::PP_COMMANDS, 0),
        (TpmCap::AUDIT_COMMANDS, 0),
        (TpmCap::PCRS, 0),
        (TpmCap::TPM_PROPERTIES, PT_FIXED),
        (TpmCap::TPM_PROPERTIES, PT_VAR),
        (TpmCap::PCR_PROPERTIES, 0),
        (TpmCap::ECC_CURVES, 0),
        (TpmCap::AUTH_POLICIES, 0x4000_0000),
        (TpmCap::ACT, TPM_RH_ACT_0),
    ];
    for (cap, start) in starts {
        // getcap asserts the bound.
        let c = getcap(&mut t, &mut p, cap, start, u32::MAX);
        assert!(!c.more, "{cap:?}");
    }
}
