//! HMAC sessions through the command pipeline: start, authorize with cpHash,
//! check the response HMAC over rpHash, nonce rolling, continueSession, binding.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::marshal::Writer;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};

fn start_session(
    t: &mut crate::Tpm,
    p: &mut crate::TestPlatform,
    bind: u32,
    nonce_caller: &[u8],
) -> (u32, Vec<u8>, u32) {
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(bind)
        .params(|w| {
            w.tpm2b(nonce_caller);
            w.tpm2b(b"");
            w.u8(0); // TPM_SE_HMAC
            w.u16(0x0010); // symmetric NULL
            w.u16(0x000B); // SHA-256
        });
    let r = run(t, p, &c);
    let handle = if r.rc == 0 {
        u32::from_be_bytes(r.body[0..4].try_into().unwrap())
    } else {
        0
    };
    let nonce = if r.rc == 0 {
        r.body[6..].to_vec()
    } else {
        Vec::new()
    };
    (handle, nonce, r.rc)
}

/// An HMAC-authorized HierarchyChangeAuth(owner) built by hand, as a TSS would.
struct Call {
    bytes: Vec<u8>,
    params: Vec<u8>,
}

fn change_owner_auth(
    session: u32,
    key: &[u8],
    nonce_caller: &[u8],
    nonce_tpm: &[u8],
    attrs: u8,
    new_auth: &[u8],
) -> Call {
    let mut pw = Writer::new();
    pw.tpm2b(new_auth);
    let params = pw.into_vec();
    let cc = TpmCc::HIERARCHY_CHANGE_AUTH.0.to_be_bytes();
    let cp = HashAlg::Sha256.digest_parts(&[&cc, &TpmRh::OWNER.0.to_be_bytes(), &params]);
    let hmac = HashAlg::Sha256.hmac_parts(key, &[&cp, nonce_caller, nonce_tpm, &[attrs]]);
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(nonce_caller);
    a.u8(attrs);
    a.tpm2b(&hmac);
    let mut w = Writer::new();
    w.u16(0x8002);
    w.u32(0);
    w.u32(TpmCc::HIERARCHY_CHANGE_AUTH.0);
    w.u32(TpmRh::OWNER.0);
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(&params);
    let mut bytes = w.into_vec();
    let n = bytes.len() as u32;
    bytes[2..6].copy_from_slice(&n.to_be_bytes());
    Call { bytes, params }
}

/// Checks the response session: returns the new nonceTPM.
fn check_response(raw: &[u8], key: &[u8], nonce_caller: &[u8], attrs: u8) -> Vec<u8> {
    // header, parameterSize (0: no response parameters), then the session
    assert_eq!(&raw[10..14], &[0, 0, 0, 0]);
    let n = u16::from_be_bytes([raw[14], raw[15]]) as usize;
    let nonce = raw[16..16 + n].to_vec();
    assert_eq!(raw[16 + n], attrs);
    let h = u16::from_be_bytes([raw[17 + n], raw[18 + n]]) as usize;
    let hmac = &raw[19 + n..19 + n + h];
    let cc = TpmCc::HIERARCHY_CHANGE_AUTH.0.to_be_bytes();
    let rp = HashAlg::Sha256.digest_parts(&[&0u32.to_be_bytes(), &cc, &[]]);
    let want = HashAlg::Sha256.hmac_parts(key, &[&rp, &nonce, nonce_caller, &[attrs]]);
    assert_eq!(hmac, want.as_slice(), "response HMAC");
    nonce
}

#[test]
fn unbound_unsalted_hmac_session() {
    let (mut t, mut p) = started();
    let nc = [0x11u8; 32];
    let (h, nonce_tpm, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!(rc, 0);
    assert_eq!(h, 0x0200_0000);
    assert_eq!(nonce_tpm.len(), 32);
    // key = sessionKey (empty) || authValue (empty)
    let call = change_owner_auth(h, b"", &nc, &nonce_tpm, 1, b"pw");
    let r = run_at(&mut t, &mut p, 0, &call.bytes);
    assert_eq!(r.rc, 0);
    assert!(call.params.len() > 2);
    // The response HMAC uses the new authValue.
    let nonce2 = check_response(&r.raw, b"pw", &nc, 1);
    assert_ne!(nonce2, nonce_tpm, "nonceTPM rolls");
    // Replaying the old nonce fails; the new one with the new auth works.
    let nc2 = [0x22u8; 32];
    let stale = change_owner_auth(h, b"pw", &nc2, &nonce_tpm, 1, b"");
    assert_eq!(run_at(&mut t, &mut p, 0, &stale.bytes).rc, 0x9A2);
    let wrong = change_owner_auth(h, b"bad", &nc2, &nonce2, 1, b"");
    assert_eq!(run_at(&mut t, &mut p, 0, &wrong.bytes).rc, 0x9A2);
    // continueSession clear: the session ends after this command.
    let last = change_owner_auth(h, b"pw", &nc2, &nonce2, 0, b"");
    let r = run_at(&mut t, &mut p, 0, &last.bytes);
    assert_eq!(r.rc, 0);
    check_response(&r.raw, b"", &nc2, 0);
    let again = change_owner_auth(h, b"", &nc2, &nonce2, 0, b"");
    assert_eq!(run_at(&mut t, &mut p, 0, &again.bytes).rc, 0x918);
}

#[test]
fn bound_session_omits_the_auth_value() {
    let (mut t, mut p) = started();
    // owner auth "abc" by password first
    let c = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| w.tpm2b(b"abc"));
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    let nc = [0x33u8; 16];
    let (h, nonce_tpm, rc) = start_session(&mut t, &mut p, TpmRh::OWNER.0, &nc);
    assert_eq!(rc, 0);
    let key = crate::crypto::kdf::kdfa(HashAlg::Sha256, b"abc", b"ATH", &nonce_tpm, &nc, 256);
    // bound to owner, authorizing owner: HMAC key is the session key alone
    let call = change_owner_auth(h, &key, &nc, &nonce_tpm, 1, b"abc");
    assert_eq!(run_at(&mut t, &mut p, 0, &call.bytes).rc, 0);
}

#[test]
fn session_limits_and_errors() {
    let (mut t, mut p) = started();
    let nc = [1u8; 16];
    for i in 0..3 {
        let (h, _, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
        assert_eq!(rc, 0);
        assert_eq!(h, 0x0200_0000 + i);
    }
    assert_eq!(start_session(&mut t, &mut p, TpmRh::NULL.0, &nc).2, 0x903);
    // FlushContext frees one
    let f = Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| w.u32(0x0200_0001));
    assert_eq!(run(&mut t, &mut p, &f).rc, 0);
    assert_eq!(run(&mut t, &mut p, &f).rc, 0x1CB);
    let (h, _, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!((h, rc), (0x0200_0001, 0));
    // nonceCaller too short
    assert_eq!(
        start_session(&mut t, &mut p, TpmRh::NULL.0, &[1u8; 8]).2,
        0x1D5
    );
    // sessions do not survive a TPM Reset
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    let (h, _, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!((h, rc), (0x0200_0000, 0));
}

fn context_save(t: &mut crate::Tpm, p: &mut crate::TestPlatform, h: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::CONTEXT_SAVE).handle(h))
}

fn context_load(t: &mut crate::Tpm, p: &mut crate::TestPlatform, blob: &[u8]) -> Resp {
    let blob = blob.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::CONTEXT_LOAD).params(move |w| w.bytes(&blob)),
    )
}

#[test]
fn saved_sessions_load_back_and_keep_working() {
    let (mut t, mut p) = started();
    let nc = [0x11u8; 32];
    let (h, nonce_tpm, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!(rc, 0);
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    // sequence, savedHandle = the session handle, hierarchy = TPM_RH_NULL
    assert_eq!(&saved.body[8..12], &h.to_be_bytes());
    assert_eq!(&saved.body[12..16], &TpmRh::NULL.0.to_be_bytes());
    assert!(t.sessions.get(h).is_none(), "a saved session is not loaded");
    assert_eq!(t.sessions.saved_handles(), [h]);
    // Its handle stays taken while it is saved.
    let (h2, _, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!(rc, 0);
    assert_ne!(h2, h);
    // Using it while saved fails; loading it back restores it at its handle.
    let call = change_owner_auth(h, b"", &nc, &nonce_tpm, 1, b"pw");
    assert_eq!(run_at(&mut t, &mut p, 0, &call.bytes).rc, 0x918); // REFERENCE_S0
    let r = context_load(&mut t, &mut p, &saved.body);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    assert_eq!(&r.body[0..4], &h.to_be_bytes());
    assert!(t.sessions.saved_handles().is_empty());
    let r = run_at(&mut t, &mut p, 0, &call.bytes);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    check_response(&r.raw, b"pw", &nc, 1);
    // Only the latest context of a session loads.
    let first = context_save(&mut t, &mut p, h);
    assert_eq!(context_load(&mut t, &mut p, &first.body).rc, 0);
    let second = context_save(&mut t, &mut p, h);
    assert_eq!(second.rc, 0);
    assert_eq!(context_load(&mut t, &mut p, &first.body).rc, 0x1DF); // INTEGRITY, param 1
                                                                     // A tampered blob is refused and leaves the session saved.
    let mut bad = second.body.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(context_load(&mut t, &mut p, &bad).rc, 0x1DF);
    assert_eq!(t.sessions.saved_handles(), [h]);
    // A flushed saved session cannot come back.
    let flush = Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h));
    assert_eq!(run(&mut t, &mut p, &flush).rc, 0);
    assert!(t.sessions.saved_handles().is_empty());
    assert_eq!(context_load(&mut t, &mut p, &second.body).rc, 0x1CB); // HANDLE, param 1
}

/// Shutdown(`su`), a power cycle, then Startup(`startup`).
fn power_cycle(t: &mut crate::Tpm, p: &mut crate::TestPlatform, su: u16, startup: u16) {
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(move |w| w.u16(su));
    assert_eq!(run(t, p, &sd).rc, 0);
    t.power_off();
    t.power_on(p);
    let st = Cmd::new(TpmCc::STARTUP).params(move |w| w.u16(startup));
    assert_eq!(run(t, p, &st).rc, 0);
}

#[test]
fn saved_sessions_survive_resume_and_restart() {
    let (mut t, mut p) = started();
    let nc = [0x11u8; 32];
    let (h, nonce_tpm, rc) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    assert_eq!(rc, 0);
    let (loaded, _, _) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    // TPM Resume: the saved session loads and keeps working; the loaded one is gone.
    power_cycle(&mut t, &mut p, 1, 1);
    assert_eq!(t.sessions.saved_handles(), [h]);
    assert!(t.sessions.get(loaded).is_none());
    let r = context_load(&mut t, &mut p, &saved.body);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let call = change_owner_auth(h, b"", &nc, &nonce_tpm, 1, b"");
    let r = run_at(&mut t, &mut p, 0, &call.bytes);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let nonce2 = check_response(&r.raw, b"", &nc, 1);
    // TPM Restart (Shutdown(STATE), Startup(CLEAR)) keeps it too.
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    power_cycle(&mut t, &mut p, 1, 0);
    assert_eq!(context_load(&mut t, &mut p, &saved.body).rc, 0);
    let call = change_owner_auth(h, b"", &nc, &nonce2, 1, b"");
    assert_eq!(run_at(&mut t, &mut p, 0, &call.bytes).rc, 0);
    // TPM Reset ends it.
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    power_cycle(&mut t, &mut p, 0, 0);
    assert!(t.sessions.saved_handles().is_empty());
    assert_eq!(context_load(&mut t, &mut p, &saved.body).rc, 0x1DF);
}

#[test]
fn saved_sessions_survive_resume_in_a_new_engine() {
    let (mut t, mut p) = started();
    let nc = [0x44u8; 32];
    let (h, nonce_tpm, _) = start_session(&mut t, &mut p, TpmRh::NULL.0, &nc);
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    let before = t.permanent_state();
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(1));
    assert_eq!(run(&mut t, &mut p, &sd).rc, 0);
    // The state written by Shutdown(STATE) carries the record of saved sessions.
    let perm = t.permanent_state();
    assert_ne!(perm, before);
    let mut t2 = crate::Tpm::from_permanent_state(&perm).unwrap();
    let mut p2 = crate::TestPlatform::new(3);
    t2.power_on(&mut p2);
    let st = Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1));
    assert_eq!(run(&mut t2, &mut p2, &st).rc, 0);
    assert_eq!(context_load(&mut t2, &mut p2, &saved.body).rc, 0);
    let call = change_owner_auth(h, b"", &nc, &nonce_tpm, 1, b"");
    let r = run_at(&mut t2, &mut p2, 0, &call.bytes);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    check_response(&r.raw, b"", &nc, 1);
    // Without the record the engine still loads, but the context does not.
    let tail = postcard::to_allocvec(&t.sessions.saved_record()).unwrap();
    let base = &perm[..perm.len() - tail.len()];
    let mut t3 = crate::Tpm::from_permanent_state(base).unwrap();
    t3.power_on(&mut p2);
    assert_eq!(run(&mut t3, &mut p2, &st).rc, 0);
    assert_eq!(context_load(&mut t3, &mut p2, &saved.body).rc, 0x1CB);
    // A record that does not decode, or names no session handle, is refused.
    for bad_tail in [&[0xFFu8][..], &[1, 0x80, 0x80, 0x80, 0x80, 0x08, 1]] {
        let mut bad = base.to_vec();
        bad.extend_from_slice(bad_tail);
        assert!(crate::Tpm::from_permanent_state(&bad).is_err());
    }
}

#[test]
fn saved_sessions_end_at_startup() {
    let (mut t, mut p) = started();
    let (h, _, _) = start_session(&mut t, &mut p, TpmRh::NULL.0, &[0x11u8; 32]);
    let saved = context_save(&mut t, &mut p, h);
    assert_eq!(saved.rc, 0);
    t.power_off();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert!(t.sessions.saved_handles().is_empty());
    // The NULL proof changed with the TPM Reset.
    assert_eq!(context_load(&mut t, &mut p, &saved.body).rc, 0x1DF);
}

#[test]
fn salted_session_refusals() {
    use crate::objects::testkit::{ecc_signing, ecc_storage, primary};
    use crate::rc::TpmRc;
    let (mut t, mut p) = started();
    let start = |t: &mut crate::Tpm, p: &mut crate::TestPlatform, key: u32, salt: &[u8]| {
        let salt = salt.to_vec();
        run(
            t,
            p,
            &Cmd::new(TpmCc::START_AUTH_SESSION)
                .handle(key)
                .handle(TpmRh::NULL.0)
                .params(move |w| {
                    w.tpm2b(&[1u8; 32]);
                    w.tpm2b(&salt);
                    w.u8(0);
                    w.u16(0x0010);
                    w.u16(0x000B);
                }),
        )
        .rc
    };
    let (signer, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_signing());
    let (storage, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    // A salt without a tpmKey.
    assert_eq!(
        start(&mut t, &mut p, TpmRh::NULL.0, &[1, 2, 3]),
        TpmRc::VALUE.at_param(2).value()
    );
    // A signing key cannot decrypt a salt.
    let mut point = Writer::new();
    point.tpm2b(&[0u8; 32]);
    point.tpm2b(&[0u8; 32]);
    assert_eq!(
        start(&mut t, &mut p, signer, point.as_slice()),
        TpmRc::ATTRIBUTES.at_handle(1).value()
    );
    // A point that is not on the curve.
    assert_eq!(
        start(&mut t, &mut p, storage, point.as_slice()),
        TpmRc::ECC_POINT.at_param(2).value()
    );
    // Nothing was allocated by the refusals.
    assert_eq!(t.sessions.len(), 0);
}
