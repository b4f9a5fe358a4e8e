//! The NV limits GetCapability reports are the ones NV_DefineSpace, NV_Write and
//! NV_Read enforce: NV is filled until TPM_RC_NV_SPACE and the reported counts
//! are compared with what could actually be defined.

use super::*;
use crate::platform::TestPlatform;
use crate::testutil::*;
use crate::types::constants::TpmCc;
use crate::types::nv::{Tpm2bNvPublic, TpmaNv, TpmsNvPublic};
use crate::types::sized::Tpm2bDigest;

const FIRST: u32 = 0x0150_0000;
const RW: u32 = TpmaNv::OWNERWRITE | TpmaNv::OWNERREAD;
const NT_COUNTER: u32 = 1 << 4;

fn prop(t: &mut Tpm, p: &mut TestPlatform, pt: TpmPt) -> u32 {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
            w.u32(TpmCap::TPM_PROPERTIES.0);
            w.u32(pt.0);
            w.u32(1);
        }),
    );
    assert_eq!(r.rc, 0);
    // moreData, capability, count, then (tag, value).
    let b = &r.body;
    assert_eq!(u32::from_be_bytes(b[5..9].try_into().unwrap()), 1);
    assert_eq!(u32::from_be_bytes(b[9..13].try_into().unwrap()), pt.0);
    u32::from_be_bytes(b[13..17].try_into().unwrap())
}

fn define(t: &mut Tpm, p: &mut TestPlatform, index: u32, attrs: u32, size: u16) -> u32 {
    let public = TpmsNvPublic {
        nv_index: index,
        name_alg: HashAlg::Sha256,
        attributes: TpmaNv(attrs),
        auth_policy: Tpm2bDigest::empty(),
        data_size: size,
    };
    run(
        t,
        p,
        &Cmd::new(TpmCc::NV_DEFINE_SPACE)
            .handle(TpmRh::OWNER.0)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(b"");
                Tpm2bNvPublic(public).marshal(w);
            }),
    )
    .rc
}

/// Defines indices of `size` octets from `next` on until NV_DefineSpace refuses
/// (at most `bound` tries); returns how many were defined and the refusal.
fn fill(
    t: &mut Tpm,
    p: &mut TestPlatform,
    next: &mut u32,
    attrs: u32,
    size: u16,
    bound: u32,
) -> (u32, u32) {
    for n in 0..bound {
        let rc = define(t, p, *next, attrs, size);
        if rc != 0 {
            return (n, rc);
        }
        *next += 1;
    }
    panic!("NV never filled up");
}

#[test]
fn reported_sizes_are_enforced() {
    let (mut t, mut p) = started();
    let index_max = prop(&mut t, &mut p, TpmPt::NV_INDEX_MAX);
    let buffer_max = prop(&mut t, &mut p, TpmPt::NV_BUFFER_MAX);
    assert_eq!(index_max as usize, nv::MAX_NV_INDEX_SIZE);
    assert_eq!(buffer_max as usize, MAX_NV_BUFFER_SIZE);
    // An ordinary index of TPM_PT_NV_INDEX_MAX octets is accepted, one more is not.
    let too_big = u16::try_from(index_max + 1).unwrap();
    assert_eq!(
        define(&mut t, &mut p, FIRST, RW, too_big),
        TpmRc::SIZE.at_param(2).value()
    );
    let max = u16::try_from(index_max).unwrap();
    assert_eq!(define(&mut t, &mut p, FIRST, RW, max), 0);
    // One command moves at most TPM_PT_NV_BUFFER_MAX octets.
    let write = |t: &mut Tpm, p: &mut TestPlatform, n: usize| {
        let data = alloc::vec![0xA5u8; n];
        run(
            t,
            p,
            &Cmd::new(TpmCc::NV_WRITE)
                .handle(TpmRh::OWNER.0)
                .handle(FIRST)
                .pw(b"")
                .params(move |w| {
                    w.tpm2b(&data);
                    w.u16(0);
                }),
        )
        .rc
    };
    assert_eq!(write(&mut t, &mut p, buffer_max as usize), 0);
    assert_eq!(
        write(&mut t, &mut p, buffer_max as usize + 1),
        TpmRc::SIZE.at_param(1).value()
    );
    let read = |t: &mut Tpm, p: &mut TestPlatform, n: u32| {
        let n = u16::try_from(n).unwrap();
        run(
            t,
            p,
            &Cmd::new(TpmCc::NV_READ)
                .handle(TpmRh::OWNER.0)
                .handle(FIRST)
                .pw(b"")
                .params(move |w| {
                    w.u16(n);
                    w.u16(0);
                }),
        )
        .rc
    };
    assert_eq!(read(&mut t, &mut p, buffer_max), 0);
    assert_eq!(
        read(&mut t, &mut p, buffer_max + 1),
        TpmRc::VALUE.at_param(1).value()
    );
}

#[test]
fn filling_nv_matches_the_reported_counts() {
    let (mut t, mut p) = started();
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_NV_INDEX), 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::NV_COUNTERS), 0);
    // Counters are limited by the index count and the NV space only.
    assert_eq!(prop(&mut t, &mut p, TpmPt::NV_COUNTERS_MAX), 0);
    let index_max = prop(&mut t, &mut p, TpmPt::NV_INDEX_MAX) as u16;
    let mut next = FIRST;
    // Large ordinary indices until the space runs out.
    let (big, rc) = fill(&mut t, &mut p, &mut next, RW, index_max, 1000);
    assert_eq!(rc, TpmRc::NV_SPACE.value());
    assert_eq!(big as usize, nv::MAX_NV_TOTAL_SIZE / nv::MAX_NV_INDEX_SIZE);
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_NV_INDEX), big);
    // No space is left for a counter, and the TPM says so.
    assert_eq!(prop(&mut t, &mut p, TpmPt::NV_COUNTERS_AVAIL), 0);
    assert_eq!(
        define(&mut t, &mut p, next, RW | NT_COUNTER, 8),
        TpmRc::NV_SPACE.value()
    );
    // Free one large index: the counters that now fit are exactly the number
    // reported available.
    next -= 1;
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_UNDEFINE_SPACE)
            .handle(TpmRh::OWNER.0)
            .handle(next)
            .pw(b""),
    );
    assert_eq!(r.rc, 0);
    let avail = prop(&mut t, &mut p, TpmPt::NV_COUNTERS_AVAIL);
    assert!(avail > 0);
    let (counters, rc) = fill(&mut t, &mut p, &mut next, RW | NT_COUNTER, 8, 10_000);
    assert_eq!(rc, TpmRc::NV_SPACE.value());
    assert_eq!(counters, avail, "TPM_PT_NV_COUNTERS_AVAIL was the truth");
    assert_eq!(prop(&mut t, &mut p, TpmPt::NV_COUNTERS), counters);
    assert_eq!(prop(&mut t, &mut p, TpmPt::NV_COUNTERS_AVAIL), 0);
    assert_eq!(prop(&mut t, &mut p, TpmPt::HR_NV_INDEX), big - 1 + counters);
    // The handle list agrees with TPM_PT_HR_NV_INDEX.
    assert_eq!(t.perm.nv.indices.len() as u32, big - 1 + counters);
    // Persistent objects do not share this space (TPMA_MEMORY.sharedNV CLEAR).
    let memory = TpmaMemory(prop(&mut t, &mut p, TpmPt::MEMORY));
    assert!(!memory.contains(TpmaMemory::SHARED_NV));
    assert_eq!(
        prop(&mut t, &mut p, TpmPt::HR_PERSISTENT_AVAIL) as usize,
        crate::objects::MAX_PERSISTENT_OBJECTS
    );
}
