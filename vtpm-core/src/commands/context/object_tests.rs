//! TPM2_ContextSave / TPM2_ContextLoad for objects and TPM2_EvictControl.

use alloc::vec::Vec;

use crate::marshal::{Marshal, Unmarshal};
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::properties::TpmPt;
use crate::types::sensitive::TpmsContext;

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn save(t: &mut Tpm, p: &mut TestPlatform, h: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::CONTEXT_SAVE).handle(h))
}

fn saved(t: &mut Tpm, p: &mut TestPlatform, h: u32) -> TpmsContext {
    let r = save(t, p, h);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    TpmsContext::from_bytes(&r.body).unwrap()
}

fn load(t: &mut Tpm, p: &mut TestPlatform, c: &TpmsContext) -> Resp {
    let c = c.clone();
    run(
        t,
        p,
        &Cmd::new(TpmCc::CONTEXT_LOAD).params(move |w| c.marshal(w)),
    )
}

fn flush(t: &mut Tpm, p: &mut TestPlatform, h: u32) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    assert_eq!(r.rc, 0);
}

fn unseal(t: &mut Tpm, p: &mut TestPlatform, h: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::UNSEAL).handle(h).pw(b""))
}

fn read_public(t: &mut Tpm, p: &mut TestPlatform, h: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::READ_PUBLIC).handle(h))
}

#[test]
fn save_flush_load() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let obj = create_and_load(&mut t, &mut p, srk, &sens(b"", b"kept"), &sealed());
    let before = read_public(&mut t, &mut p, obj).body;
    let c = saved(&mut t, &mut p, obj);
    assert_eq!(c.sequence, 1);
    assert_eq!(c.saved_handle, 0x8000_0000);
    assert_eq!(c.hierarchy, TpmRh::OWNER.0);
    assert!(!c.context_blob.as_slice().windows(4).any(|w| w == b"kept"));
    // The object stays loaded after ContextSave.
    assert_eq!(unseal(&mut t, &mut p, obj).rc, 0);
    flush(&mut t, &mut p, obj);
    let r = load(&mut t, &mut p, &c);
    assert_eq!(r.rc, 0);
    let h = u32::from_be_bytes(r.body[..4].try_into().unwrap());
    assert_eq!(h, obj);
    assert_eq!(read_public(&mut t, &mut p, h).body, before);
    assert_eq!(split(&unseal(&mut t, &mut p, h), 0).1[2..], *b"kept");
    // A context loads as often as there are slots; counters advance.
    let r = load(&mut t, &mut p, &c);
    assert_eq!(r.rc, 0);
    assert_eq!(saved(&mut t, &mut p, srk).sequence, 2);
    assert_eq!(load(&mut t, &mut p, &c).rc, rc(TpmRc::OBJECT_MEMORY));
}

#[test]
fn tampered_and_stale_contexts() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let null_key = primary(&mut t, &mut p, TpmRh::NULL.0, &ecc_storage()).0;
    let c = saved(&mut t, &mut p, srk);
    let cn = saved(&mut t, &mut p, null_key);
    assert_eq!(cn.hierarchy, TpmRh::NULL.0);
    flush(&mut t, &mut p, srk);
    flush(&mut t, &mut p, null_key);
    let integrity = rc(TpmRc::INTEGRITY.at_param(1));
    let mut bad = c.clone();
    let mut blob = bad.context_blob.as_slice().to_vec();
    let last = blob.len() - 1;
    blob[last] ^= 1;
    bad.context_blob = crate::types::sensitive::Tpm2bContextData::new(&blob).unwrap();
    assert_eq!(load(&mut t, &mut p, &bad).rc, integrity);
    let mut bad = c.clone();
    bad.sequence += 1;
    assert_eq!(load(&mut t, &mut p, &bad).rc, integrity);
    let mut bad = c.clone();
    bad.hierarchy = TpmRh::ENDORSEMENT.0;
    assert_eq!(load(&mut t, &mut p, &bad).rc, integrity);
    let mut bad = c.clone();
    bad.saved_handle = 0x8000_0002;
    assert_eq!(load(&mut t, &mut p, &bad).rc, integrity);
    let mut bad = c.clone();
    bad.context_blob = crate::types::sensitive::Tpm2bContextData::new(&[0, 64, 1]).unwrap();
    assert_eq!(load(&mut t, &mut p, &bad).rc, rc(TpmRc::SIZE.at_param(1)));
    // An object context relabelled as a session's fails its integrity check;
    // other values are not a TPMI_DH_SAVED.
    let mut bad = c.clone();
    bad.saved_handle = 0x0200_0000;
    assert_eq!(
        load(&mut t, &mut p, &bad).rc,
        rc(TpmRc::INTEGRITY.at_param(1))
    );
    let mut raw = c.to_bytes();
    raw[8..12].copy_from_slice(&0x8000_0003u32.to_be_bytes());
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CONTEXT_LOAD).params(move |w| w.bytes(&raw)),
    );
    assert_eq!(r.rc, rc(TpmRc::VALUE.at_param(1)));
    // Disabled hierarchy.
    let off = |on: u8| {
        Cmd::new(TpmCc::HIERARCHY_CONTROL)
            .handle(TpmRh::PLATFORM.0)
            .pw(b"")
            .params(move |w| {
                w.u32(TpmRh::OWNER.0);
                w.u8(on)
            })
    };
    assert_eq!(run(&mut t, &mut p, &off(0)).rc, 0);
    assert_eq!(
        load(&mut t, &mut p, &c).rc,
        rc(TpmRc::HIERARCHY.at_param(1))
    );
    assert_eq!(run(&mut t, &mut p, &off(1)).rc, 0);
    assert_eq!(load(&mut t, &mut p, &c).rc, 0);
    // After a TPM Reset no saved object context loads.
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0));
    assert_eq!(run(&mut t, &mut p, &sd).rc, 0);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(load(&mut t, &mut p, &c).rc, integrity);
    assert_eq!(load(&mut t, &mut p, &cn).rc, integrity);
}

#[test]
fn st_clear_contexts_die_at_restart() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let mut tmpl = sealed();
    tmpl.object_attributes = tmpl
        .object_attributes
        .with(crate::types::public::TpmaObject::ST_CLEAR);
    let obj = create_and_load(&mut t, &mut p, srk, &sens(b"", b"x"), &tmpl);
    let c = saved(&mut t, &mut p, obj);
    assert_eq!(c.saved_handle, 0x8000_0002);
    let plain = saved(&mut t, &mut p, srk);
    // TPM Restart: Shutdown(STATE), Startup(CLEAR).
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(1));
    assert_eq!(run(&mut t, &mut p, &sd).rc, 0);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(
        load(&mut t, &mut p, &c).rc,
        rc(TpmRc::INTEGRITY.at_param(1))
    );
    assert_eq!(load(&mut t, &mut p, &plain).rc, 0);
}

#[test]
fn sequence_contexts() {
    let (mut t, mut p) = started();
    let start = Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
        w.tpm2b(b"");
        w.u16(0x000B)
    });
    let r = run(&mut t, &mut p, &start);
    let h = u32::from_be_bytes(r.body[..4].try_into().unwrap());
    let update = |data: &'static [u8]| {
        Cmd::new(TpmCc::SEQUENCE_UPDATE)
            .handle(h)
            .pw(b"")
            .params(move |w| w.tpm2b(data))
    };
    assert_eq!(run(&mut t, &mut p, &update(b"hello ")).rc, 0);
    let c = saved(&mut t, &mut p, h);
    assert_eq!(c.saved_handle, 0x8000_0001);
    assert_eq!(c.hierarchy, TpmRh::NULL.0);
    flush(&mut t, &mut p, h);
    let r = load(&mut t, &mut p, &c);
    assert_eq!(r.rc, 0);
    assert_eq!(run(&mut t, &mut p, &update(b"world")).rc, 0);
    let complete = Cmd::new(TpmCc::SEQUENCE_COMPLETE)
        .handle(h)
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            w.u32(TpmRh::NULL.0)
        });
    let r = run(&mut t, &mut p, &complete);
    let (_, params) = split(&r, 0);
    let digest = crate::crypto::hash::HashAlg::Sha256.digest(b"hello world");
    assert_eq!(params[2..34], digest[..]);
}

fn evict(t: &mut Tpm, p: &mut TestPlatform, auth: u32, obj: u32, persistent: u32) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::EVICT_CONTROL)
            .handle(auth)
            .handle(obj)
            .pw(b"")
            .params(move |w| w.u32(persistent)),
    )
}

#[test]
fn persistent_objects() {
    let (mut t, mut p) = started();
    let (srk, srk_pub, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    let r = evict(&mut t, &mut p, TpmRh::OWNER.0, srk, 0x8100_0001);
    assert_eq!(r.rc, 0);
    assert!(r.nv);
    flush(&mut t, &mut p, srk);
    // Usable wherever a loaded object is.
    let rp = read_public(&mut t, &mut p, 0x8100_0001);
    assert_eq!(rp.rc, 0);
    let (private, public) = create(
        &mut t,
        &mut p,
        0x8100_0001,
        &sens(b"", b"sealed"),
        &sealed(),
    );
    assert_eq!(t.entity_name(0x8100_0001), srk_pub.name());
    // It survives a restore of the permanent state, and so do its children.
    let state = t.permanent_state();
    let mut t = Tpm::from_permanent_state(&state).unwrap();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(read_public(&mut t, &mut p, 0x8100_0001).body, rp.body);
    let r = run(&mut t, &mut p, &load_cmd(0x8100_0001, &private, &public));
    let h = split(&r, 1).0[0];
    assert_eq!(split(&unseal(&mut t, &mut p, h), 0).1[2..], *b"sealed");
    // It can be made transient again only by evicting; then it is gone.
    let r = evict(&mut t, &mut p, TpmRh::OWNER.0, 0x8100_0001, 0x8100_0001);
    assert_eq!(r.rc, 0);
    assert!(r.nv);
    assert_eq!(
        read_public(&mut t, &mut p, 0x8100_0001).rc,
        rc(TpmRc::HANDLE.at_handle(1))
    );
}

#[test]
fn evict_control_rules() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let null_key = primary(&mut t, &mut p, TpmRh::NULL.0, &ecc_storage()).0;
    let plat = primary(&mut t, &mut p, TpmRh::PLATFORM.0, &ecc_storage()).0;
    let owner = TpmRh::OWNER.0;
    let platform = TpmRh::PLATFORM.0;
    // Ranges and hierarchies.
    assert_eq!(
        evict(&mut t, &mut p, owner, srk, 0x8180_0000).rc,
        rc(TpmRc::RANGE.at_param(1))
    );
    assert_eq!(
        evict(&mut t, &mut p, owner, srk, 0x8000_0000).rc,
        rc(TpmRc::VALUE.at_param(1))
    );
    assert_eq!(
        evict(&mut t, &mut p, platform, srk, 0x8180_0000).rc,
        rc(TpmRc::HIERARCHY.at_handle(2))
    );
    assert_eq!(
        evict(&mut t, &mut p, owner, plat, 0x8100_0000).rc,
        rc(TpmRc::HIERARCHY.at_handle(2))
    );
    assert_eq!(
        evict(&mut t, &mut p, platform, plat, 0x8100_0000).rc,
        rc(TpmRc::RANGE.at_param(1))
    );
    assert_eq!(evict(&mut t, &mut p, platform, plat, 0x8180_0000).rc, 0);
    // Temporary objects cannot persist.
    assert_eq!(
        evict(&mut t, &mut p, owner, null_key, 0x8100_0000).rc,
        rc(TpmRc::ATTRIBUTES.at_handle(2))
    );
    // Taken handle; mismatched handle; the owner cannot evict platform objects but
    // the platform can evict anything.
    assert_eq!(evict(&mut t, &mut p, owner, srk, 0x8100_0000).rc, 0);
    assert_eq!(
        evict(&mut t, &mut p, owner, srk, 0x8100_0000).rc,
        rc(TpmRc::NV_DEFINED)
    );
    assert_eq!(
        evict(&mut t, &mut p, owner, 0x8100_0000, 0x8100_0001).rc,
        rc(TpmRc::HANDLE.at_handle(2))
    );
    assert_eq!(
        evict(&mut t, &mut p, owner, 0x8180_0000, 0x8180_0000).rc,
        rc(TpmRc::HIERARCHY.at_handle(2))
    );
    assert_eq!(
        evict(&mut t, &mut p, platform, 0x8100_0000, 0x8100_0000).rc,
        0
    );
    // Not a persistent object at all.
    assert_eq!(
        evict(&mut t, &mut p, owner, 0x8100_0042, 0x8100_0042).rc,
        rc(TpmRc::HANDLE.at_handle(2))
    );
    // At most seven persistent objects (one platform object is there already).
    for i in 0..6 {
        assert_eq!(
            evict(&mut t, &mut p, owner, srk, 0x8100_0010 + i).rc,
            0,
            "{i}"
        );
    }
    assert_eq!(
        evict(&mut t, &mut p, owner, srk, 0x8100_0020).rc,
        rc(TpmRc::NV_SPACE)
    );
    assert_eq!(t.perm.persistent.len(), 7);
    // A disabled hierarchy hides its range.
    let off = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(platform)
        .pw(b"")
        .params(|w| {
            w.u32(TpmRh::OWNER.0);
            w.u8(0)
        });
    assert_eq!(run(&mut t, &mut p, &off).rc, 0);
    assert_eq!(
        read_public(&mut t, &mut p, 0x8100_0010).rc,
        rc(TpmRc::HANDLE.at_handle(1))
    );
    assert_eq!(read_public(&mut t, &mut p, 0x8180_0000).rc, 0);
}

#[test]
fn clear_and_change_eps_remove_persistent_objects() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let ek = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_storage()).0;
    let plat = primary(&mut t, &mut p, TpmRh::PLATFORM.0, &ecc_storage()).0;
    assert_eq!(
        evict(&mut t, &mut p, TpmRh::OWNER.0, srk, 0x8100_0001).rc,
        0
    );
    assert_eq!(evict(&mut t, &mut p, TpmRh::OWNER.0, ek, 0x8101_0001).rc, 0);
    assert_eq!(
        evict(&mut t, &mut p, TpmRh::PLATFORM.0, plat, 0x8180_0001).rc,
        0
    );
    let handles = |t: &Tpm| {
        t.perm
            .persistent
            .iter()
            .map(|p| p.handle)
            .collect::<Vec<_>>()
    };
    let platform_cmd = |cc: TpmCc| Cmd::new(cc).handle(TpmRh::PLATFORM.0).pw(b"");
    let r = run(&mut t, &mut p, &platform_cmd(TpmCc::CHANGE_EPS));
    assert_eq!(r.rc, 0);
    assert_eq!(handles(&t), [0x8100_0001, 0x8180_0001]);
    assert_eq!(
        evict(&mut t, &mut p, TpmRh::OWNER.0, ek, 0x8100_0002).rc,
        0x910 + 1
    );
    let r = run(&mut t, &mut p, &platform_cmd(TpmCc::CLEAR));
    assert_eq!(r.rc, 0);
    assert!(r.nv);
    assert_eq!(handles(&t), [0x8180_0001]);
    let r = run(&mut t, &mut p, &platform_cmd(TpmCc::CHANGE_PPS));
    assert_eq!(r.rc, 0);
    assert!(handles(&t).is_empty());
}

/// GetCapability(TPM_CAP_HANDLES) body: (moreData, handles).
fn cap_handles(t: &mut Tpm, p: &mut TestPlatform, first: u32) -> Vec<u32> {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::GET_CAPABILITY).params(move |w| {
            w.u32(1); // TPM_CAP_HANDLES
            w.u32(first);
            w.u32(64);
        }),
    );
    assert_eq!(r.rc, 0);
    let b = &r.body[5..];
    let n = u32::from_be_bytes(b[0..4].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| u32::from_be_bytes(b[4 + 4 * i..8 + 4 * i].try_into().unwrap()))
        .collect()
}

/// A TPM property from GetCapability(TPM_CAP_TPM_PROPERTIES).
fn cap_property(t: &mut Tpm, p: &mut TestPlatform, property: u32) -> u32 {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::GET_CAPABILITY).params(move |w| {
            w.u32(6); // TPM_CAP_TPM_PROPERTIES
            w.u32(property);
            w.u32(1);
        }),
    );
    assert_eq!(r.rc, 0);
    let b = &r.body[5..];
    assert_eq!(u32::from_be_bytes(b[4..8].try_into().unwrap()), property);
    u32::from_be_bytes(b[8..12].try_into().unwrap())
}

#[test]
fn persistent_objects_are_listed_and_counted() {
    const HR_PERSISTENT: u32 = TpmPt::HR_PERSISTENT.0;
    const HR_PERSISTENT_AVAIL: u32 = TpmPt::HR_PERSISTENT_AVAIL.0;
    let (mut t, mut p) = started();
    assert!(cap_handles(&mut t, &mut p, 0x8100_0000).is_empty());
    assert_eq!(cap_property(&mut t, &mut p, HR_PERSISTENT), 0);
    let avail = cap_property(&mut t, &mut p, HR_PERSISTENT_AVAIL);
    let (srk, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    for handle in [0x8100_0007, 0x8100_0002, 0x8180_0001] {
        let auth = if handle >= 0x8180_0000 {
            TpmRh::PLATFORM.0
        } else {
            TpmRh::OWNER.0
        };
        let r = evict(&mut t, &mut p, auth, srk, handle);
        // An owner object may not go to the platform range.
        if handle >= 0x8180_0000 {
            assert_ne!(r.rc, 0);
        } else {
            assert_eq!(r.rc, 0, "{:#x}", r.rc);
        }
    }
    assert_eq!(
        cap_handles(&mut t, &mut p, 0x8100_0000),
        [0x8100_0002, 0x8100_0007]
    );
    assert_eq!(cap_handles(&mut t, &mut p, 0x8100_0003), [0x8100_0007]);
    assert_eq!(cap_property(&mut t, &mut p, HR_PERSISTENT), 2);
    assert_eq!(cap_property(&mut t, &mut p, HR_PERSISTENT_AVAIL), avail - 2);
}
