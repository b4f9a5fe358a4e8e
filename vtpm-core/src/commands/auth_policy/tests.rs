//! Policy-session authorization of NV indices, hierarchies and PCRs, and
//! SetPrimaryPolicy / PCR_SetAuthPolicy / PCR_SetAuthValue. Expected policy
//! digests are computed here with sha2.

use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Writer};
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh, TpmSt};
use crate::types::nv::{Tpm2bNvPublic, TpmaNv, TpmsNvPublic};
use crate::types::sized::Tpm2bDigest;
use crate::{TestPlatform, Tpm};

const OWNER: u32 = TpmRh::OWNER.0;
const PLATFORM: u32 = TpmRh::PLATFORM.0;
const LOCKOUT: u32 = TpmRh::LOCKOUT.0;
const ENDORSEMENT: u32 = TpmRh::ENDORSEMENT.0;
const IDX: u32 = 0x0150_0010;
const SHA256: u16 = 0x000B;
const NULL_ALG: u16 = 0x0010;

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn cc(c: TpmCc) -> [u8; 4] {
    c.0.to_be_bytes()
}

/// PolicyLocality(`loc`) from a fresh SHA-256 session.
fn locality_policy(loc: u8) -> Vec<u8> {
    sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_LOCALITY), &[loc]])
}

/// PolicyNvWritten(`yes`) from a fresh SHA-256 session.
fn nv_written_policy(yes: bool) -> Vec<u8> {
    sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_NV_WRITTEN), &[u8::from(yes)]])
}

/// Starts an unbound, unsalted SHA-256 session of `kind` (0 HMAC, 1 policy);
/// returns its handle and nonceTPM.
fn start(t: &mut Tpm, p: &mut TestPlatform, kind: u8) -> (u32, Vec<u8>) {
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(|w| {
            w.tpm2b(&[7u8; 16]);
            w.tpm2b(b"");
            w.u8(kind);
            w.u16(NULL_ALG);
            w.u16(SHA256);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let h = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    (h, r.body[6..].to_vec())
}

/// A policy session with PolicyLocality(`loc`) asserted.
fn locality_session(t: &mut Tpm, p: &mut TestPlatform, loc: u8) -> u32 {
    let (s, _) = start(t, p, 1);
    assert_eq!(policy(t, p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(loc)), 0);
    s
}

fn policy(t: &mut Tpm, p: &mut TestPlatform, c: TpmCc, s: u32, f: impl FnOnce(&mut Writer)) -> u32 {
    run(t, p, &Cmd::new(c).handle(s).params(f)).rc
}

const NONCE_CALLER: [u8; 16] = [9u8; 16];

/// A command authorized by one session (`hmac` as given), bytes built by hand.
fn with_session(c: TpmCc, handles: &[u32], session: u32, hmac: &[u8], params: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u16(TpmSt::SESSIONS.0);
    w.u32(0);
    w.u32(c.0);
    for h in handles {
        w.u32(*h);
    }
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(&NONCE_CALLER);
    a.u8(1);
    a.tpm2b(hmac);
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut b = w.into_vec();
    let n = b.len() as u32;
    b[2..6].copy_from_slice(&n.to_be_bytes());
    b
}

fn run_with(
    t: &mut Tpm,
    p: &mut TestPlatform,
    c: TpmCc,
    handles: &[u32],
    s: u32,
    params: &[u8],
) -> Resp {
    run_at(t, p, 0, &with_session(c, handles, s, b"", params))
}

/// PCR_Extend of a PCR at locality 2 (which may extend PCRs 20-22), with one
/// policy session.
fn pcr_extend_with(t: &mut Tpm, p: &mut TestPlatform, pcr: u32, s: u32) -> Resp {
    let params = pcr_extend_params(2);
    run_at(
        t,
        p,
        2,
        &with_session(TpmCc::PCR_EXTEND, &[pcr], s, b"", &params),
    )
}

fn define(t: &mut Tpm, p: &mut TestPlatform, attrs: u32, auth: &[u8], policy: &[u8]) {
    let public = TpmsNvPublic {
        nv_index: IDX,
        name_alg: HashAlg::Sha256,
        attributes: TpmaNv(attrs),
        auth_policy: Tpm2bDigest::new(policy).unwrap(),
        data_size: 8,
    };
    let auth = auth.to_vec();
    let c = Cmd::new(TpmCc::NV_DEFINE_SPACE)
        .handle(OWNER)
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&auth);
            Tpm2bNvPublic(public).marshal(w);
        });
    assert_eq!(run(t, p, &c).rc, 0);
}

fn write_params(data: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.tpm2b(data);
    w.u16(0);
    w.into_vec()
}

fn read_params() -> Vec<u8> {
    let mut w = Writer::new();
    w.u16(8);
    w.u16(0);
    w.into_vec()
}

fn nv_write_pw(t: &mut Tpm, p: &mut TestPlatform, pw: &[u8], data: &[u8]) -> u32 {
    let params = write_params(data);
    let c = Cmd::new(TpmCc::NV_WRITE)
        .handle(IDX)
        .handle(IDX)
        .pw(pw)
        .params(|w| w.bytes(&params));
    run(t, p, &c).rc
}

fn nv_read_pw(t: &mut Tpm, p: &mut TestPlatform, pw: &[u8]) -> u32 {
    let params = read_params();
    let c = Cmd::new(TpmCc::NV_READ)
        .handle(IDX)
        .handle(IDX)
        .pw(pw)
        .params(|w| w.bytes(&params));
    run(t, p, &c).rc
}

fn set_primary_policy(t: &mut Tpm, p: &mut TestPlatform, h: u32, policy: &[u8], alg: u16) -> u32 {
    let policy = policy.to_vec();
    let c = Cmd::new(TpmCc::SET_PRIMARY_POLICY)
        .handle(h)
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&policy);
            w.u16(alg);
        });
    run(t, p, &c).rc
}

fn pcr_extend_params(pcr_fill: u8) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(1);
    w.u16(SHA256);
    w.bytes(&[pcr_fill; 32]);
    w.into_vec()
}

/// PCR_Extend with a password, at locality 2 (which may extend PCRs 8, 16 and 20-22).
fn pcr_extend_pw(t: &mut Tpm, p: &mut TestPlatform, pcr: u32, pw: &[u8]) -> u32 {
    let params = pcr_extend_params(1);
    let c = Cmd::new(TpmCc::PCR_EXTEND)
        .handle(pcr)
        .pw(pw)
        .params(|w| w.bytes(&params));
    run_at(t, p, 2, &c.bytes()).rc
}

fn pcr_set_auth_value(t: &mut Tpm, p: &mut TestPlatform, pcr: u32, pw: &[u8], value: &[u8]) -> u32 {
    let value = value.to_vec();
    let c = Cmd::new(TpmCc::PCR_SET_AUTH_VALUE)
        .handle(pcr)
        .pw(pw)
        .params(move |w| w.tpm2b(&value));
    run(t, p, &c).rc
}

fn pcr_set_auth_policy(
    t: &mut Tpm,
    p: &mut TestPlatform,
    policy: &[u8],
    alg: u16,
    pcr: u32,
) -> u32 {
    let policy = policy.to_vec();
    let c = Cmd::new(TpmCc::PCR_SET_AUTH_POLICY)
        .handle(PLATFORM)
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&policy);
            w.u16(alg);
            w.u32(pcr);
        });
    run(t, p, &c).rc
}

fn restart(t: &mut Tpm, p: &mut TestPlatform) {
    let r = run(t, p, &Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0)));
    assert_eq!(r.rc, 0);
    t.power_on(p);
    assert_eq!(run(t, p, &startup_clear()).rc, 0);
}

// ---- NV indices ---------------------------------------------------------------

#[test]
fn nv_policy_read_and_write() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    define(
        &mut t,
        &mut p,
        TpmaNv::POLICYWRITE | TpmaNv::POLICYREAD,
        b"pw",
        &pol,
    );
    // The authValue may not read or write: neither AUTHREAD nor AUTHWRITE.
    assert_eq!(
        nv_write_pw(&mut t, &mut p, b"pw", b"12345678"),
        TpmRc::NV_AUTHORIZATION.value()
    );
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"abcdefgh"),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(t.perm.nv.get(IDX).unwrap().data, b"abcdefgh");
    // The session started over: the policy must be asserted again.
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_READ,
        &[IDX, IDX],
        s,
        &read_params(),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(1)),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_READ,
        &[IDX, IDX],
        s,
        &read_params(),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // parameterSize, then the TPM2B_MAX_NV_BUFFER.
    assert_eq!(&r.body[4..14], [&[0u8, 8][..], b"abcdefgh"].concat());
    assert_eq!(
        nv_read_pw(&mut t, &mut p, b"pw"),
        TpmRc::NV_AUTHORIZATION.value()
    );
    // A policy that does not match the authPolicy fails.
    let s2 = locality_session(&mut t, &mut p, 0x02);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_READ,
        &[IDX, IDX],
        s2,
        &read_params(),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
}

#[test]
fn nv_auth_and_policy_bits_are_separate() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    // Written with the authValue, read with the policy only.
    define(
        &mut t,
        &mut p,
        TpmaNv::AUTHWRITE | TpmaNv::POLICYREAD,
        b"pw",
        &pol,
    );
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"x"),
    );
    assert_eq!(r.rc, TpmRc::NV_AUTHORIZATION.value());
    assert_eq!(nv_write_pw(&mut t, &mut p, b"pw", b"x"), 0);
    assert_eq!(
        nv_read_pw(&mut t, &mut p, b"pw"),
        TpmRc::NV_AUTHORIZATION.value()
    );
    // The refused command left the session as it was.
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_READ,
        &[IDX, IDX],
        s,
        &read_params(),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // Used once: the session starts over.
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_READ,
        &[IDX, IDX],
        s,
        &read_params(),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
}

#[test]
fn nv_policy_read_index_refuses_an_hmac_session() {
    let (mut t, mut p) = started();
    define(
        &mut t,
        &mut p,
        TpmaNv::AUTHWRITE | TpmaNv::POLICYREAD,
        b"pw",
        &locality_policy(0x01),
    );
    assert_eq!(nv_write_pw(&mut t, &mut p, b"pw", b"y"), 0);
    let (s, nonce_tpm) = start(&mut t, &mut p, 0);
    // A correct HMAC: key = sessionKey (empty, unbound and unsalted) || authValue.
    let name = t.perm.nv.get(IDX).unwrap().name();
    let params = read_params();
    let cp = sha256(&[&cc(TpmCc::NV_READ), &name, &name, &params]);
    let hmac = HashAlg::Sha256.hmac_parts(b"pw", &[&cp, &NONCE_CALLER, &nonce_tpm, &[1]]);
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::NV_READ, &[IDX, IDX], s, &hmac, &params),
    );
    assert_eq!(r.rc, TpmRc::NV_AUTHORIZATION.value());
    // The same session authorizes a write (AUTHWRITE), so the HMAC itself was right.
    let nonce_tpm = t.sessions.get(s).unwrap().nonce_tpm.clone();
    let params = write_params(b"z");
    let cp = sha256(&[&cc(TpmCc::NV_WRITE), &name, &name, &params]);
    let hmac = HashAlg::Sha256.hmac_parts(b"pw", &[&cp, &NONCE_CALLER, &nonce_tpm, &[1]]);
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::NV_WRITE, &[IDX, IDX], s, &hmac, &params),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
}

#[test]
fn nv_policy_stops_holding_after_a_pcr_change() {
    let (mut t, mut p) = started();
    // PolicyPCR over PCR 8 (zeros) in the SHA-256 bank.
    let mut w = Writer::new();
    w.u32(1);
    w.u16(SHA256);
    w.u8(3);
    w.bytes(&[0, 1, 0]);
    let sel = w.into_vec();
    let pol = sha256(&[
        &[0u8; 32],
        &cc(TpmCc::POLICY_PCR),
        &sel,
        &sha256(&[&[0u8; 32]]),
    ]);
    define(
        &mut t,
        &mut p,
        TpmaNv::POLICYWRITE | TpmaNv::OWNERREAD,
        b"",
        &pol,
    );
    let (s, _) = start(&mut t, &mut p, 1);
    let policy_pcr = |t: &mut Tpm, p: &mut TestPlatform| {
        let sel = sel.clone();
        policy(t, p, TpmCc::POLICY_PCR, s, move |w| {
            w.tpm2b(b"");
            w.bytes(&sel);
        })
    };
    assert_eq!(policy_pcr(&mut t, &mut p), 0);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"1"),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 8, b""), 0);
    assert_eq!(policy_pcr(&mut t, &mut p), 0);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"2"),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    assert_eq!(t.perm.nv.get(IDX).unwrap().data[0], b'1');
}

#[test]
fn policy_nv_written_checks_the_index() {
    let (mut t, mut p) = started();
    // Writable once through the policy: PolicyNvWritten(NO).
    define(
        &mut t,
        &mut p,
        TpmaNv::POLICYWRITE | TpmaNv::AUTHREAD,
        b"",
        &nv_written_policy(false),
    );
    let (s, _) = start(&mut t, &mut p, 1);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_NV_WRITTEN, s, |w| w.u8(0)),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"a"),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_NV_WRITTEN, s, |w| w.u8(0)),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"b"),
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    assert_eq!(t.perm.nv.get(IDX).unwrap().data[0], b'a');
    // PolicyNvWritten on an entity that is not an NV index never holds.
    let pol = nv_written_policy(true);
    assert_eq!(set_primary_policy(&mut t, &mut p, OWNER, &pol, SHA256), 0);
    assert_eq!(policy(&mut t, &mut p, TpmCc::POLICY_RESTART, s, |_| {}), 0);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_NV_WRITTEN, s, |w| w.u8(1)),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_GLOBAL_WRITE_LOCK,
        &[OWNER],
        s,
        &[],
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
}

#[test]
fn nv_empty_auth_policy_is_unavailable() {
    let (mut t, mut p) = started();
    define(
        &mut t,
        &mut p,
        TpmaNv::POLICYWRITE | TpmaNv::AUTHREAD,
        b"",
        &[],
    );
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_WRITE,
        &[IDX, IDX],
        s,
        &write_params(b"a"),
    );
    assert_eq!(r.rc, TpmRc::AUTH_UNAVAILABLE.at_session(1).value());
}

// ---- hierarchies ----------------------------------------------------------------

#[test]
fn owner_policy_authorizes_owner_commands() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    // Without a policy a policy session cannot authorize the owner.
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_GLOBAL_WRITE_LOCK,
        &[OWNER],
        s,
        &[],
    );
    assert_eq!(r.rc, TpmRc::AUTH_UNAVAILABLE.at_session(1).value());
    assert_eq!(set_primary_policy(&mut t, &mut p, OWNER, &pol, SHA256), 0);
    assert_eq!(t.perm.owner_policy.alg, Some(HashAlg::Sha256));
    assert_eq!(t.perm.owner_policy.digest.as_slice(), pol.as_slice());
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_GLOBAL_WRITE_LOCK,
        &[OWNER],
        s,
        &[],
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // A different policy fails.
    let s2 = locality_session(&mut t, &mut p, 0x03);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::NV_GLOBAL_WRITE_LOCK,
        &[OWNER],
        s2,
        &[],
    );
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    // The endorsement hierarchy has no policy.
    let mut w = Writer::new();
    w.tpm2b(b"");
    w.u16(NULL_ALG);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::SET_PRIMARY_POLICY,
        &[ENDORSEMENT],
        s2,
        w.as_slice(),
    );
    assert_eq!(r.rc, TpmRc::AUTH_UNAVAILABLE.at_session(1).value());
    // The password still works.
    let c = Cmd::new(TpmCc::NV_GLOBAL_WRITE_LOCK).handle(OWNER).pw(b"");
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    // Removing the policy: empty digest with TPM_ALG_NULL.
    assert_eq!(set_primary_policy(&mut t, &mut p, OWNER, b"", NULL_ALG), 0);
    assert_eq!(t.perm.owner_policy, crate::state::AuthPolicy::default());
}

#[test]
fn set_primary_policy_refusals() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    assert_eq!(
        set_primary_policy(&mut t, &mut p, OWNER, &pol[..20], SHA256),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(
        set_primary_policy(&mut t, &mut p, OWNER, &pol, NULL_ALG),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(
        set_primary_policy(&mut t, &mut p, OWNER, &pol, 0x0001),
        TpmRc::HASH.at_param(2).value()
    );
    // TPM_RH_ACT_0 and TPM_RH_NULL are no TPMI_RH_HIERARCHY_POLICY here.
    for h in [0x4000_0110, TpmRh::NULL.0] {
        assert_eq!(
            set_primary_policy(&mut t, &mut p, h, &pol, SHA256),
            TpmRc::VALUE.at_handle(1).value()
        );
    }
    // A disabled hierarchy.
    let c = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(PLATFORM)
        .pw(b"")
        .params(|w| {
            w.u32(OWNER);
            w.u8(0);
        });
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    assert_eq!(
        set_primary_policy(&mut t, &mut p, OWNER, &pol, SHA256),
        TpmRc::HIERARCHY.at_handle(1).value()
    );
    assert_eq!(t.perm.owner_policy, crate::state::AuthPolicy::default());
}

#[test]
fn hierarchy_policies_are_reset() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    for h in [OWNER, ENDORSEMENT, LOCKOUT, PLATFORM] {
        assert_eq!(set_primary_policy(&mut t, &mut p, h, &pol, SHA256), 0);
    }
    // GetCapability(TPM_CAP_AUTH_POLICIES) reports them.
    let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
        w.u32(9);
        w.u32(OWNER);
        w.u32(1);
    });
    let r = run(&mut t, &mut p, &c);
    assert_eq!(r.rc, 0);
    let want = [
        &[1u8][..],
        &9u32.to_be_bytes(),
        &1u32.to_be_bytes(),
        &OWNER.to_be_bytes(),
        &SHA256.to_be_bytes(),
        &pol,
    ]
    .concat();
    assert_eq!(r.body, want);
    // The lockout policy authorizes TPM2_Clear.
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(&mut t, &mut p, TpmCc::CLEAR, &[LOCKOUT], s, &[]);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let empty = crate::state::AuthPolicy::default();
    assert_eq!(t.perm.owner_policy, empty);
    assert_eq!(t.perm.endorsement_policy, empty);
    assert_eq!(t.perm.lockout_policy, empty);
    assert_eq!(t.clear.platform_policy.digest.as_slice(), pol.as_slice());
    // ChangeEPS empties endorsementPolicy, ChangePPS platformPolicy.
    assert_eq!(
        set_primary_policy(&mut t, &mut p, ENDORSEMENT, &pol, SHA256),
        0
    );
    let c = Cmd::new(TpmCc::CHANGE_EPS).handle(PLATFORM).pw(b"");
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    assert_eq!(t.perm.endorsement_policy, empty);
    let c = Cmd::new(TpmCc::CHANGE_PPS).handle(PLATFORM).pw(b"");
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    assert_eq!(t.clear.platform_policy, empty);
    // platformPolicy lasts until Startup(CLEAR); ownerPolicy persists.
    assert_eq!(
        set_primary_policy(&mut t, &mut p, PLATFORM, &pol, SHA256),
        0
    );
    assert_eq!(set_primary_policy(&mut t, &mut p, OWNER, &pol, SHA256), 0);
    restart(&mut t, &mut p);
    assert_eq!(t.clear.platform_policy, empty);
    assert_eq!(t.perm.owner_policy.digest.as_slice(), pol.as_slice());
}

// ---- PCRs -----------------------------------------------------------------------

#[test]
fn pcr_auth_value() {
    let (mut t, mut p) = started();
    assert_eq!(pcr_set_auth_value(&mut t, &mut p, 20, b"", b"pcr\0\0"), 0);
    assert_eq!(t.clear.pcr_auth.as_slice(), b"pcr");
    // PCRs 20-22 share the value; other PCRs keep an empty authValue.
    for pcr in [20, 21, 22] {
        assert_eq!(
            pcr_extend_pw(&mut t, &mut p, pcr, b""),
            TpmRc::BAD_AUTH.at_session(1).value()
        );
    }
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 22, b"pcr"), 0);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 16, b""), 0);
    // Changing it needs the current value.
    assert_eq!(
        pcr_set_auth_value(&mut t, &mut p, 21, b"", b"x"),
        TpmRc::BAD_AUTH.at_session(1).value()
    );
    assert_eq!(pcr_set_auth_value(&mut t, &mut p, 21, b"pcr", b"x"), 0);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 20, b"x"), 0);
    // PCRs outside the group.
    for pcr in [0, 16, 23] {
        assert_eq!(
            pcr_set_auth_value(&mut t, &mut p, pcr, b"", b"x"),
            TpmRc::VALUE.at_handle(1).value()
        );
    }
    // TPM Resume keeps it (STATE_CLEAR data saved by Shutdown(STATE)).
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    t.power_on(&mut p);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::STARTUP).params(|w| w.u16(1)),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(
        pcr_extend_pw(&mut t, &mut p, 20, b""),
        TpmRc::BAD_AUTH.at_session(1).value()
    );
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 20, b"x"), 0);
    // Startup(CLEAR) empties it.
    restart(&mut t, &mut p);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 20, b""), 0);
    // So does TPM2_Clear.
    assert_eq!(pcr_set_auth_value(&mut t, &mut p, 20, b"", b"y"), 0);
    let c = Cmd::new(TpmCc::CLEAR).handle(LOCKOUT).pw(b"");
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 20, b""), 0);
}

#[test]
fn pcr_auth_policy() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x04);
    // Refusals: size, PCR outside the policy group, not a PCR.
    assert_eq!(
        pcr_set_auth_policy(&mut t, &mut p, &pol[..31], SHA256, 20),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(
        pcr_set_auth_policy(&mut t, &mut p, &pol, NULL_ALG, 20),
        TpmRc::SIZE.at_param(1).value()
    );
    assert_eq!(
        pcr_set_auth_policy(&mut t, &mut p, &pol, SHA256, 5),
        TpmRc::VALUE.at_param(3).value()
    );
    assert_eq!(
        pcr_set_auth_policy(&mut t, &mut p, &pol, SHA256, 24),
        TpmRc::VALUE.at_param(3).value()
    );
    // Only the platform sets it.
    let c = Cmd::new(TpmCc::PCR_SET_AUTH_POLICY)
        .handle(OWNER)
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            w.u16(NULL_ALG);
            w.u32(20);
        });
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        TpmRc::VALUE.at_handle(1).value()
    );
    assert_eq!(pcr_set_auth_policy(&mut t, &mut p, &pol, SHA256, 21), 0);
    assert_eq!(t.perm.pcr_policy.digest.as_slice(), pol.as_slice());
    // Now only a policy session authorizes PCRs 20-22.
    assert_eq!(
        pcr_extend_pw(&mut t, &mut p, 20, b""),
        TpmRc::AUTH_TYPE.at_session(1).value()
    );
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 16, b""), 0);
    let s = locality_session(&mut t, &mut p, 0x04);
    let before = t.pcrs.value(HashAlg::Sha256, 22).unwrap().to_vec();
    let r = pcr_extend_with(&mut t, &mut p, 22, s);
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    let want = sha256(&[&before, &[2u8; 32]]);
    assert_eq!(t.pcrs.value(HashAlg::Sha256, 22).unwrap(), want.as_slice());
    let s2 = locality_session(&mut t, &mut p, 0x02);
    let r = pcr_extend_with(&mut t, &mut p, 22, s2);
    assert_eq!(r.rc, TpmRc::POLICY_FAIL.at_session(1).value());
    // A policy session does not authorize a PCR outside the group.
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(4)),
        0
    );
    let r = pcr_extend_with(&mut t, &mut p, 16, s);
    assert_eq!(r.rc, TpmRc::AUTH_UNAVAILABLE.at_session(1).value());
    // Removing the policy gives the authValue back; the policy is permanent.
    restart(&mut t, &mut p);
    assert_eq!(t.perm.pcr_policy.digest.as_slice(), pol.as_slice());
    assert_eq!(pcr_set_auth_policy(&mut t, &mut p, b"", NULL_ALG, 20), 0);
    assert_eq!(pcr_extend_pw(&mut t, &mut p, 20, b""), 0);
}

#[test]
fn pcr_group_properties() {
    let (mut t, mut p) = started();
    for tag in [0x13u32, 0x14] {
        let c = Cmd::new(TpmCc::GET_CAPABILITY).params(|w| {
            w.u32(7);
            w.u32(tag);
            w.u32(1);
        });
        let r = run(&mut t, &mut p, &c);
        assert_eq!(r.rc, 0);
        // moreData, capability, count, tag, sizeofSelect, bitmap of PCRs 20-22.
        let tail = &r.body[9..];
        assert_eq!(tail, [&tag.to_be_bytes()[..], &[3, 0, 0, 0x70]].concat());
    }
}

#[test]
fn lockout_policy_works_while_lockout_auth_is_locked() {
    let (mut t, mut p) = started();
    let pol = locality_policy(0x01);
    assert_eq!(set_primary_policy(&mut t, &mut p, LOCKOUT, &pol, SHA256), 0);
    // A wrong lockoutAuth disables lockoutAuth for lockoutRecovery.
    let c = Cmd::new(TpmCc::DICTIONARY_ATTACK_LOCK_RESET)
        .handle(LOCKOUT)
        .pw(b"wrong");
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        TpmRc::AUTH_FAIL.at_session(1).value()
    );
    let c = Cmd::new(TpmCc::DICTIONARY_ATTACK_LOCK_RESET)
        .handle(LOCKOUT)
        .pw(b"");
    assert_eq!(run(&mut t, &mut p, &c).rc, TpmRc::LOCKOUT.value());
    // The policy uses no authValue, so the lockout does not apply to it.
    let s = locality_session(&mut t, &mut p, 0x01);
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::DICTIONARY_ATTACK_LOCK_RESET,
        &[LOCKOUT],
        s,
        &[],
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    // With PolicyAuthValue the authValue is used, and the lockout applies again.
    let pol2 = sha256(&[&[0u8; 32], &cc(TpmCc::POLICY_AUTH_VALUE)]);
    let mut w = Writer::new();
    w.tpm2b(&pol2);
    w.u16(SHA256);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_LOCALITY, s, |w| w.u8(1)),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::SET_PRIMARY_POLICY,
        &[LOCKOUT],
        s,
        w.as_slice(),
    );
    assert_eq!(r.rc, 0, "rc {:#x}", r.rc);
    assert_eq!(
        policy(&mut t, &mut p, TpmCc::POLICY_AUTH_VALUE, s, |_| {}),
        0
    );
    let r = run_with(
        &mut t,
        &mut p,
        TpmCc::DICTIONARY_ATTACK_LOCK_RESET,
        &[LOCKOUT],
        s,
        &[],
    );
    assert_eq!(r.rc, TpmRc::LOCKOUT.value());
}
