//! The volatile state carries loaded objects, sequences and sessions: a TPM
//! restored from it on a fresh engine (same permanent state) keeps answering at
//! the same handles. Results are checked independently (RustCrypto RSA
//! verification, sha2 digests, hand-computed HMACs and policy digests).

use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::crypto::hash::HashAlg;
use crate::marshal::{Reader, Writer};
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::testutil::*;
use crate::tpm::{StateError, Tpm, VOLATILE_FORMAT};
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::public::*;
use crate::types::sized::Tpm2bDigest;

const SE_HMAC: u8 = 0;
const SE_POLICY: u8 = 1;

/// StartAuthSession (unbound, unsalted, SHA-256, no symmetric): (handle, nonceTPM).
fn start_session(
    t: &mut Tpm,
    p: &mut TestPlatform,
    kind: u8,
    nonce_caller: &[u8],
) -> (u32, Vec<u8>) {
    let nc = nonce_caller.to_vec();
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(move |w| {
            w.tpm2b(&nc);
            w.tpm2b(b"");
            w.u8(kind);
            w.u16(0x0010);
            w.u16(0x000B);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let h = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    (h, r.body[6..].to_vec())
}

/// A command authorized by one session, built as a TSS builds it: `names` are
/// the Names of the handles (for cpHash), `key` the HMAC key (None: an empty
/// HMAC, as for a policy session that needs no authValue).
#[allow(clippy::too_many_arguments)]
fn authorized(
    cc: TpmCc,
    handles: &[u32],
    names: &[&[u8]],
    params: &[u8],
    session: u32,
    key: Option<&[u8]>,
    nonce_caller: &[u8],
    nonce_tpm: &[u8],
    attrs: u8,
) -> Vec<u8> {
    let ccb = cc.0.to_be_bytes();
    let mut parts: Vec<&[u8]> = vec![&ccb];
    parts.extend_from_slice(names);
    parts.push(params);
    let cp = HashAlg::Sha256.digest_parts(&parts);
    let hmac = key.map_or_else(Vec::new, |k| {
        HashAlg::Sha256.hmac_parts(k, &[&cp, nonce_caller, nonce_tpm, &[attrs]])
    });
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(nonce_caller);
    a.u8(attrs);
    a.tpm2b(&hmac);
    let mut w = Writer::new();
    w.u16(0x8002);
    w.u32(0);
    w.u32(cc.0);
    for h in handles {
        w.u32(*h);
    }
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut bytes = w.into_vec();
    let n = bytes.len() as u32;
    bytes[2..6].copy_from_slice(&n.to_be_bytes());
    bytes
}

/// The nonceTPM of a one-session response, after checking its HMAC (key `key`,
/// response parameters `rp_params`).
fn response_nonce(raw: &[u8], cc: TpmCc, key: &[u8], nonce_caller: &[u8], attrs: u8) -> Vec<u8> {
    let psize = u32::from_be_bytes(raw[10..14].try_into().unwrap()) as usize;
    let rp_params = &raw[14..14 + psize];
    let mut rd = Reader::new(&raw[14 + psize..]);
    let n = rd.u16().unwrap() as usize;
    let nonce = rd.bytes(n).unwrap().to_vec();
    assert_eq!(rd.u8().unwrap(), attrs);
    let hn = rd.u16().unwrap() as usize;
    let hmac = rd.bytes(hn).unwrap().to_vec();
    let rp = HashAlg::Sha256.digest_parts(&[&0u32.to_be_bytes(), &cc.0.to_be_bytes(), rp_params]);
    let want = HashAlg::Sha256.hmac_parts(key, &[&rp, &nonce, nonce_caller, &[attrs]]);
    assert_eq!(hmac, want, "response HMAC");
    nonce
}

fn change_owner_auth_params(new_auth: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.tpm2b(new_auth);
    w.into_vec()
}

/// PolicyDigest after PolicyCommandCode(TPM2_Sign) from the zero digest.
fn sign_policy() -> Vec<u8> {
    Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(TpmCc::POLICY_COMMAND_CODE.0.to_be_bytes())
        .chain_update(TpmCc::SIGN.0.to_be_bytes())
        .finalize()
        .to_vec()
}

/// An RSA-2048 RSASSA-SHA256 signing key usable with its password or with the
/// PolicyCommandCode(TPM2_Sign) policy.
fn rsa_signer() -> TpmtPublic {
    let mut t = rsa_storage();
    t.object_attributes = FIXED
        .with(TpmaObject::SENSITIVE_DATA_ORIGIN)
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::SIGN_ENCRYPT);
    t.auth_policy = Tpm2bDigest::new(&sign_policy()).unwrap();
    t.parameters = TpmuPublicParms::Rsa(TpmsRsaParms {
        symmetric: TpmtSymDefObject::Null,
        scheme: TpmtRsaScheme::Rsassa(HashAlg::Sha256),
        key_bits: 2048,
        exponent: 0,
    });
    t
}

fn sign_params(digest: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.tpm2b(digest);
    w.u16(0x0010); // the key's scheme
    w.bytes(&[0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]); // NULL ticket
    w.into_vec()
}

/// Verifies an RSASSA-SHA256 signature with the rsa crate.
fn rsassa_verifies(n: &[u8], digest: &[u8], sig: &[u8]) -> bool {
    use crypto_bigint::BoxedUint;
    let n = BoxedUint::from_be_slice(n, (n.len() * 8) as u32).unwrap();
    let e = BoxedUint::from(65537u64);
    let key = rsa::PublicKey::new(n, e).unwrap();
    key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), digest, sig)
        .is_ok()
}

/// A second engine from the permanent state of `t`, powered on, not started.
fn fresh_twin(t: &Tpm) -> (Tpm, TestPlatform) {
    let mut p = TestPlatform::new(99);
    let mut t2 = Tpm::from_permanent_state(&t.permanent_state()).unwrap();
    t2.power_on(&mut p);
    (t2, p)
}

#[test]
fn loaded_objects_sequences_and_sessions_survive_a_migration() {
    let (mut t, mut p) = started();
    // A storage key, an RSA signing key under it and a hash sequence: every
    // transient slot is taken.
    let srk = owner_srk(&mut t, &mut p);
    let (private, public) = create(&mut t, &mut p, srk, &sens(b"", b""), &rsa_signer());
    let r = run(&mut t, &mut p, &load_cmd(srk, &private, &public));
    let key = split(&r, 1).0[0];
    assert_eq!(key, 0x8000_0001);
    let key_name = t.entity_name(key);
    let n = match &t.key(key).unwrap().public.unique {
        TpmuPublicId::Rsa(n) => n.as_slice().to_vec(),
        _ => unreachable!(),
    };
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
            w.tpm2b(b"seq");
            w.u16(0x000B)
        }),
    );
    assert_eq!(r.rc, 0);
    let seq = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    assert_eq!(seq, 0x8000_0002);
    let upd = Cmd::new(TpmCc::SEQUENCE_UPDATE)
        .handle(seq)
        .pw(b"seq")
        .params(|w| w.tpm2b(b"hello, "));
    assert_eq!(run(&mut t, &mut p, &upd).rc, 0);

    // An HMAC session that has authorized one command (its nonces rolled).
    let nc = [0x11u8; 32];
    let (hs, nonce0) = start_session(&mut t, &mut p, SE_HMAC, &nc);
    let params = change_owner_auth_params(b"owner");
    let owner = TpmRh::OWNER.0.to_be_bytes();
    let cmd = authorized(
        TpmCc::HIERARCHY_CHANGE_AUTH,
        &[TpmRh::OWNER.0],
        &[&owner],
        &params,
        hs,
        Some(b""),
        &nc,
        &nonce0,
        1,
    );
    let r = run_at(&mut t, &mut p, 0, &cmd);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let nonce1 = response_nonce(&r.raw, TpmCc::HIERARCHY_CHANGE_AUTH, b"owner", &nc, 1);

    // A policy session with PolicyCommandCode(TPM2_Sign).
    let pnc = [0x22u8; 16];
    let (ps, _) = start_session(&mut t, &mut p, SE_POLICY, &pnc);
    let pcc = Cmd::new(TpmCc::POLICY_COMMAND_CODE)
        .handle(ps)
        .params(|w| w.u32(TpmCc::SIGN.0));
    assert_eq!(run(&mut t, &mut p, &pcc).rc, 0);

    // Migrate: the volatile state into a fresh engine with the same permanent state.
    let vol = t.volatile_state(&mut p);
    let (mut t2, mut p2) = fresh_twin(&t);
    drop(t);
    t2.load_volatile_state(&mut p2, &vol).unwrap();
    assert_eq!(t2.objects.handles(), [srk, key, seq]);
    assert_eq!(t2.sessions.loaded_handles(), [hs, ps]);

    // The HMAC session continues with the nonce of the last response.
    let nc2 = [0x33u8; 32];
    let params = change_owner_auth_params(b"");
    let cmd = authorized(
        TpmCc::HIERARCHY_CHANGE_AUTH,
        &[TpmRh::OWNER.0],
        &[&owner],
        &params,
        hs,
        Some(b"owner"),
        &nc2,
        &nonce1,
        1,
    );
    let r = run_at(&mut t2, &mut p2, 0, &cmd);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    response_nonce(&r.raw, TpmCc::HIERARCHY_CHANGE_AUTH, b"", &nc2, 1);
    // The stale nonce no longer authorizes anything.
    let stale = authorized(
        TpmCc::HIERARCHY_CHANGE_AUTH,
        &[TpmRh::OWNER.0],
        &[&owner],
        &params,
        hs,
        Some(b""),
        &nc2,
        &nonce1,
        1,
    );
    assert_eq!(run_at(&mut t2, &mut p2, 0, &stale).rc, 0x9A2);

    // The policy session carries its policyDigest and command code restriction.
    let r = run(
        &mut t2,
        &mut p2,
        &Cmd::new(TpmCc::POLICY_GET_DIGEST).handle(ps),
    );
    assert_eq!(r.rc, 0);
    assert_eq!(&r.body[2..], sign_policy().as_slice());
    let other = Cmd::new(TpmCc::POLICY_COMMAND_CODE)
        .handle(ps)
        .params(|w| w.u32(TpmCc::UNSEAL.0));
    assert_ne!(run(&mut t2, &mut p2, &other).rc, 0, "restriction kept");

    // The RSA key signs at its handle, authorized by the policy session.
    let digest = Sha256::digest(b"after the migration").to_vec();
    let sp = sign_params(&digest);
    // A policy session without PolicyAuthValue needs no HMAC.
    let cmd = authorized(
        TpmCc::SIGN,
        &[key],
        &[&key_name],
        &sp,
        ps,
        None,
        &pnc,
        &[],
        1,
    );
    let r = run_at(&mut t2, &mut p2, 0, &cmd);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, out) = split(&r, 0);
    assert_eq!(&out[..4], &[0x00, 0x14, 0x00, 0x0B]);
    let sig = &out[6..];
    assert_eq!(sig.len(), 256);
    assert!(rsassa_verifies(&n, &digest, sig));
    assert!(!rsassa_verifies(&n, &Sha256::digest(b"other"), sig));

    // The hash sequence completes with the digest of everything it absorbed.
    let done = Cmd::new(TpmCc::SEQUENCE_COMPLETE)
        .handle(seq)
        .pw(b"seq")
        .params(|w| {
            w.tpm2b(b"world");
            w.u32(TpmRh::NULL.0)
        });
    let r = run(&mut t2, &mut p2, &done);
    let (_, out) = split(&r, 0);
    assert_eq!(&out[2..34], Sha256::digest(b"hello, world").as_slice());
}

#[test]
fn hmac_and_event_sequences_and_saved_sessions_survive_a_migration() {
    let (mut t, mut p) = started();
    let (hk, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &hmac_key());
    let start = Cmd::new(TpmCc::HMAC_START).handle(hk).pw(b"").params(|w| {
        w.tpm2b(b"");
        w.u16(0x000B)
    });
    let r = run(&mut t, &mut p, &start);
    let hseq = split(&r, 1).0[0];
    let ev = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
            w.tpm2b(b"");
            w.u16(0x0010)
        }),
    );
    assert_eq!(ev.rc, 0);
    let eseq = u32::from_be_bytes(ev.body[0..4].try_into().unwrap());
    for s in [hseq, eseq] {
        let upd = Cmd::new(TpmCc::SEQUENCE_UPDATE)
            .handle(s)
            .pw(b"")
            .params(|w| w.tpm2b(b"abc"));
        assert_eq!(run(&mut t, &mut p, &upd).rc, 0);
    }
    // The expected HMAC, from the TPM before the migration.
    let want_hmac = t
        .objects
        .get(hseq)
        .and_then(|o| o.as_sequence())
        .and_then(|s| s.hmac_result())
        .unwrap()
        .to_vec();
    // A saved session.
    let (hs, _) = start_session(&mut t, &mut p, SE_HMAC, &[5u8; 16]);
    let saved = run(&mut t, &mut p, &Cmd::new(TpmCc::CONTEXT_SAVE).handle(hs));
    assert_eq!(saved.rc, 0);

    let vol = t.volatile_state(&mut p);
    let (mut t2, mut p2) = fresh_twin(&t);
    t2.load_volatile_state(&mut p2, &vol).unwrap();
    assert_eq!(t2.sessions.saved_handles(), [hs]);

    let done = Cmd::new(TpmCc::SEQUENCE_COMPLETE)
        .handle(hseq)
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            w.u32(TpmRh::NULL.0)
        });
    let r = run(&mut t2, &mut p2, &done);
    let (_, out) = split(&r, 0);
    assert_eq!(&out[2..34], want_hmac.as_slice());
    // The event sequence: one digest per bank, SHA-256 among them.
    let done = Cmd::new(TpmCc::EVENT_SEQUENCE_COMPLETE)
        .handle(TpmRh::NULL.0)
        .handle(eseq)
        .pw(b"")
        .pw(b"")
        .params(|w| w.tpm2b(b""));
    let r = run(&mut t2, &mut p2, &done);
    let (_, out) = split(&r, 0);
    let abc = Sha256::digest(b"abc");
    assert!(out.windows(32).any(|w| w == abc.as_slice()));
    // The saved session's context loads on the destination.
    let body = saved.body.clone();
    let r = run(
        &mut t2,
        &mut p2,
        &Cmd::new(TpmCc::CONTEXT_LOAD).params(move |w| w.bytes(&body)),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    assert_eq!(t2.sessions.loaded_handles(), [hs]);
}

#[test]
fn unusable_volatile_states_are_refused_and_change_nothing() {
    let (mut t, mut p) = started();
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
            w.tpm2b(b"");
            w.u16(0x000B)
        }),
    );
    assert_eq!(r.rc, 0);
    start_session(&mut t, &mut p, SE_HMAC, &[1u8; 16]);
    let good = t.volatile_state(&mut p);
    let before = good.clone();

    let mut bad_inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0xFF; 7],
        good[..good.len() / 2].to_vec(),
        good[..good.len() - 1].to_vec(),
    ];
    // The old layout (3, shared with the permanent state) is refused.
    let mut old = good.clone();
    old[0] = 3;
    bad_inputs.push(old.clone());
    for bad in &bad_inputs {
        assert!(
            t.load_volatile_state(&mut p, bad).is_err(),
            "{} bytes",
            bad.len()
        );
        assert_eq!(t.volatile_state(&mut p), before, "nothing changed");
    }
    assert_eq!(
        t.load_volatile_state(&mut p, &old),
        Err(StateError::UnsupportedVolatileFormat(3))
    );
    assert_eq!(good[0], VOLATILE_FORMAT as u8);
    // Every single-octet corruption is either refused or yields a state that
    // still serializes; none panics.
    for i in 0..good.len() {
        let mut c = good.clone();
        c[i] ^= 0x5A;
        let (mut t3, mut p3) = fresh_twin(&t);
        let _ = t3.load_volatile_state(&mut p3, &c);
        let _ = t3.volatile_state(&mut p3);
    }
    // The untouched snapshot still loads.
    let (mut t2, mut p2) = fresh_twin(&t);
    t2.load_volatile_state(&mut p2, &good).unwrap();
    assert_eq!(t2.objects.handles(), [0x8000_0000]);
    assert_eq!(t2.sessions.loaded_handles(), [0x0200_0000]);
}

#[test]
fn objects_restore_only_into_transient_slots() {
    use crate::rc::TpmRc;
    use crate::state::objects::{Object, ObjectTable, SequenceObject};
    use crate::types::sized::Tpm2bAuth;
    let seq = || {
        Object::Sequence(SequenceObject::new(
            Some(HashAlg::Sha256),
            Tpm2bAuth::default(),
        ))
    };
    let mut table = ObjectTable::default();
    assert_eq!(table.insert_at(0x8000_0003, seq()), Err(TpmRc::VALUE));
    assert_eq!(table.insert_at(0x7FFF_FFFF, seq()), Err(TpmRc::VALUE));
    assert_eq!(table.insert_at(0x8000_0002, seq()), Ok(()));
    assert_eq!(table.insert_at(0x8000_0002, seq()), Err(TpmRc::HANDLE));
    assert_eq!(table.insert_at(0x8000_0000, seq()), Ok(()));
    // The next ordinary load takes the free slot between them.
    assert_eq!(table.insert(seq()), Ok(0x8000_0001));
    assert_eq!(table.handles(), [0x8000_0000, 0x8000_0001, 0x8000_0002]);
}
