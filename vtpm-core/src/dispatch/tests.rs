//! Pipeline tests: header checks, startup gating, sessions, authorization, DA.

use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};

#[test]
fn header_errors() {
    let (mut t, mut p) = started();
    // empty and truncated commands
    assert_eq!(run_at(&mut t, &mut p, 0, &[]).rc, 0x01E);
    assert_eq!(run_at(&mut t, &mut p, 0, &[0x80]).rc, 0x01E);
    assert_eq!(run_at(&mut t, &mut p, 0, &[0x80, 0x01, 0, 0]).rc, 0x142);
    // a TPM 1.2 tag gets TPM_RC_BAD_TAG with the 1.2 response tag
    let r = run_at(&mut t, &mut p, 0, &[0x00, 0xC1, 0, 0, 0, 10, 0, 0, 0, 0xF1]);
    assert_eq!(r.rc, 0x01E);
    assert_eq!(&r.raw[..2], &[0x00, 0xC4]);
    // size mismatch
    let mut c = Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(8)).bytes();
    c.push(0);
    assert_eq!(run_at(&mut t, &mut p, 0, &c).rc, 0x142);
    // unknown command
    assert_eq!(run(&mut t, &mut p, &Cmd::new(TpmCc(0x1FF))).rc, 0x143);
    // trailing parameter bytes
    let c = Cmd::new(TpmCc::GET_RANDOM).params(|w| {
        w.u16(8);
        w.u8(0)
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
    // missing parameter: TPM_RC_INSUFFICIENT at parameter 1
    assert_eq!(run(&mut t, &mut p, &Cmd::new(TpmCc::GET_RANDOM)).rc, 0x1DA);
}

#[test]
fn startup_gating() {
    let (mut t, mut p) = powered();
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(8)),
    );
    assert_eq!(r.rc, 0x100);
    // Startup(STATE) without a saved state
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0x1C4);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0x100);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(8)),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(r.body.len(), 10);
}

#[test]
fn password_auth_and_change() {
    let (mut t, mut p) = started();
    let change = |auth: &[u8], new: &[u8]| {
        Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
            .handle(TpmRh::OWNER.0)
            .pw(auth)
            .params(|w| w.tpm2b(new))
    };
    // no session at all
    let c = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::OWNER.0)
        .params(|w| w.tpm2b(b""));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x125);
    let r = run(&mut t, &mut p, &change(b"", b"secret"));
    assert_eq!(r.rc, 0);
    assert!(r.nv);
    // parameterSize 0, then the password response session
    assert_eq!(r.body, [0, 0, 0, 0, 0, 0, 1, 0, 0]);
    // wrong password: TPM_RC_BAD_AUTH at session 1 (owner is DA-exempt)
    assert_eq!(run(&mut t, &mut p, &change(b"wrong", b"")).rc, 0x9A2);
    // trailing zeros do not count
    assert_eq!(run(&mut t, &mut p, &change(b"secret\0\0", b"")).rc, 0);
    // a bad hierarchy handle: TPM_RC_VALUE at handle 1
    let c = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::NULL.0)
        .pw(b"")
        .params(|w| w.tpm2b(b""));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x184);
    // an HMAC session handle that is not loaded: TPM_RC_REFERENCE_S0
    let mut c = change(b"", b"").bytes();
    c[18..22].copy_from_slice(&0x0200_0000u32.to_be_bytes());
    assert_eq!(run_at(&mut t, &mut p, 0, &c).rc, 0x918);
}

#[test]
fn lockout_auth_failure_locks_lockout() {
    let (mut t, mut p) = started();
    let reset = |pw: &[u8]| {
        Cmd::new(TpmCc::DICTIONARY_ATTACK_LOCK_RESET)
            .handle(TpmRh::LOCKOUT.0)
            .pw(pw)
    };
    assert_eq!(run(&mut t, &mut p, &reset(b"")).rc, 0);
    let r = run(&mut t, &mut p, &reset(b"bad"));
    assert_eq!(r.rc, 0x98E);
    assert!(r.nv, "a DA failure is durable");
    // now even the right password is refused until lockoutRecovery passes
    assert_eq!(run(&mut t, &mut p, &reset(b"")).rc, 0x921);
    p.now_ms += 1000 * 1000;
    assert_eq!(run(&mut t, &mut p, &reset(b"")).rc, 0);
}

#[test]
fn disabled_hierarchy() {
    let (mut t, mut p) = started();
    let c = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| {
            w.u32(TpmRh::OWNER.0);
            w.u8(0)
        });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    let c = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| w.tpm2b(b"x"));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0x185);
    // the owner cannot re-enable itself; the platform can
    let en = |h: u32| {
        Cmd::new(TpmCc::HIERARCHY_CONTROL)
            .handle(h)
            .pw(b"")
            .params(|w| {
                w.u32(TpmRh::OWNER.0);
                w.u8(1)
            })
    };
    assert_eq!(run(&mut t, &mut p, &en(TpmRh::OWNER.0)).rc, 0x185);
    assert_eq!(run(&mut t, &mut p, &en(TpmRh::PLATFORM.0)).rc, 0);
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
}

#[test]
fn shutdown_state_resume_and_restart() {
    let (mut t, mut p) = started();
    let read = |t: &mut crate::Tpm, p: &mut crate::TestPlatform| {
        let r = run(t, p, &Cmd::new(TpmCc::READ_CLOCK));
        assert_eq!(r.rc, 0);
        // time, clock, resetCount, restartCount, safe
        let reset = u32::from_be_bytes(r.body[16..20].try_into().unwrap());
        let restart = u32::from_be_bytes(r.body[20..24].try_into().unwrap());
        (reset, restart, r.body[24])
    };
    assert_eq!(read(&mut t, &mut p), (0, 0, 1));
    let sd = |su: u16| Cmd::new(TpmCc::SHUTDOWN).params(move |w| w.u16(su));
    assert_eq!(run(&mut t, &mut p, &sd(1)).rc, 0);
    let perm = t.permanent_state();
    // a power cycle through the saved permanent state
    let mut t = crate::Tpm::from_permanent_state(&perm).unwrap();
    t.power_on(&mut p);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(read(&mut t, &mut p), (0, 1, 1));
    // Shutdown(STATE) + Startup(CLEAR) = Restart
    assert_eq!(run(&mut t, &mut p, &sd(1)).rc, 0);
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(read(&mut t, &mut p), (0, 2, 1));
    // no orderly shutdown: TPM Reset, clock unsafe
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(read(&mut t, &mut p), (1, 0, 0));
    // Shutdown(CLEAR) then Startup(STATE) is refused
    assert_eq!(run(&mut t, &mut p, &sd(0)).rc, 0);
    t.power_on(&mut p);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0x1C4);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(read(&mut t, &mut p), (2, 0, 1));
}

#[test]
fn clock_set_only_forward() {
    let (mut t, mut p) = started();
    p.now_ms = 5000;
    let set = |v: u64| {
        Cmd::new(TpmCc::CLOCK_SET)
            .handle(TpmRh::OWNER.0)
            .pw(b"")
            .params(move |w| w.u64(v))
    };
    assert_eq!(run(&mut t, &mut p, &set(100)).rc, 0x1C4);
    assert_eq!(run(&mut t, &mut p, &set(1_000_000)).rc, 0);
    let r = run(&mut t, &mut p, &Cmd::new(TpmCc::READ_CLOCK));
    assert_eq!(
        u64::from_be_bytes(r.body[8..16].try_into().unwrap()),
        1_000_000
    );
    assert_eq!(u64::from_be_bytes(r.body[0..8].try_into().unwrap()), 5000);
}
