//! TPM2_SetCommandCodeAuditStatus and the command audit digest.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};

fn set_audit(
    t: &mut crate::Tpm,
    p: &mut crate::TestPlatform,
    alg: u16,
    set: &[u32],
    clear: &[u32],
) -> Resp {
    let (set, clear) = (set.to_vec(), clear.to_vec());
    let c = Cmd::new(TpmCc::SET_COMMAND_CODE_AUDIT_STATUS)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(move |w| {
            w.u16(alg);
            w.u32(set.len() as u32);
            set.iter().for_each(|c| w.u32(*c));
            w.u32(clear.len() as u32);
            clear.iter().for_each(|c| w.u32(*c));
        });
    run(t, p, &c)
}

fn audited(t: &mut crate::Tpm, p: &mut crate::TestPlatform) -> Vec<u32> {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
            w.u32(4); // TPM_CAP_AUDIT_COMMANDS
            w.u32(0);
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

#[test]
fn audited_commands_extend_the_digest() {
    let (mut t, mut p) = started();
    assert_eq!(audited(&mut t, &mut p), [0x140]);
    let r = set_audit(&mut t, &mut p, 0x0010, &[0x17B, 0x0FFF_FFFF], &[]);
    assert_eq!(r.rc, 0);
    assert!(r.nv);
    // Unimplemented codes are ignored; the command itself is always listed.
    assert_eq!(audited(&mut t, &mut p), [0x140, 0x17B]);
    // The SetCommandCodeAuditStatus above was the first audited command.
    assert_eq!(t.perm.command_audit.counter, 1);
    let before = t.reset.command_audit_digest.clone();
    assert_eq!(before.len(), 32);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(16)),
    );
    assert_eq!(r.rc, 0);
    let cp = HashAlg::Sha256.digest_parts(&[&0x17Bu32.to_be_bytes(), &[0, 16]]);
    let rp = HashAlg::Sha256.digest_parts(&[&[0, 0, 0, 0], &0x17Bu32.to_be_bytes(), &r.body]);
    assert_eq!(
        t.reset.command_audit_digest,
        HashAlg::Sha256.digest_parts(&[&before, &cp, &rp])
    );
    // An unaudited command leaves it alone.
    let d = t.reset.command_audit_digest.clone();
    assert_eq!(run(&mut t, &mut p, &Cmd::new(TpmCc::READ_CLOCK)).rc, 0);
    assert_eq!(t.reset.command_audit_digest, d);
    // Clearing works; the command itself cannot be cleared.
    assert_eq!(
        set_audit(&mut t, &mut p, 0x0010, &[], &[0x17B, 0x140]).rc,
        0
    );
    assert_eq!(audited(&mut t, &mut p), [0x140]);
}

#[test]
fn changing_the_hash_restarts_the_digest() {
    let (mut t, mut p) = started();
    assert_eq!(set_audit(&mut t, &mut p, 0x0010, &[0x17B], &[]).rc, 0);
    // Not together with list changes.
    assert_eq!(
        set_audit(&mut t, &mut p, 0x0004, &[0x17E], &[]).rc,
        TpmRc::VALUE.at_param(1).value()
    );
    assert_eq!(
        set_audit(&mut t, &mut p, 0x0099, &[], &[]).rc,
        TpmRc::HASH.at_param(1).value()
    );
    assert_eq!(set_audit(&mut t, &mut p, 0x0004, &[], &[]).rc, 0);
    assert_eq!(t.perm.command_audit.hash, HashAlg::Sha1);
    assert_eq!(t.perm.command_audit.counter, 1);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(4)),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(t.perm.command_audit.counter, 2);
    let cp = HashAlg::Sha1.digest_parts(&[&0x17Bu32.to_be_bytes(), &[0, 4]]);
    let rp = HashAlg::Sha1.digest_parts(&[&[0, 0, 0, 0], &0x17Bu32.to_be_bytes(), &r.body]);
    assert_eq!(
        t.reset.command_audit_digest,
        HashAlg::Sha1.digest_parts(&[&[0u8; 20], &cp, &rp])
    );
    // A TPM Reset empties the digest; the counter survives.
    t.power_off();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert!(t.reset.command_audit_digest.is_empty());
    assert_eq!(t.perm.command_audit.counter, 2);
}
