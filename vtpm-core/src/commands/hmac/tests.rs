//! TPM2_HMAC and HMAC sequences (TPM2_HMAC_Start, SequenceUpdate,
//! SequenceComplete), checked against the hmac crate, and their refusals.

use alloc::vec;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::TpmCc;
use crate::types::public::*;

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const ALG_NULL: u16 = 0x0010;
const OWNER: u32 = 0x4000_0001;
const NULL_TICKET: [u8; 8] = [0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00];

fn mac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn mac384(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha384> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn mac1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// An HMAC key from known bytes with the given scheme hash (None: NULL scheme).
fn hmac_template(hash: Option<crate::crypto::hash::HashAlg>, attrs: TpmaObject) -> TpmtPublic {
    let mut t = hmac_key();
    t.object_attributes = attrs;
    t.parameters = TpmuPublicParms::KeyedHash(TpmsKeyedHashParms {
        scheme: match hash {
            Some(h) => TpmtKeyedHashScheme::Hmac(h),
            None => TpmtKeyedHashScheme::Null,
        },
    });
    t
}

fn user_sign() -> TpmaObject {
    FIXED
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::SIGN_ENCRYPT)
}

/// sign and decrypt both SET: the only way to a keyed hash key with a NULL scheme.
fn sign_decrypt() -> TpmaObject {
    user_sign().with(TpmaObject::DECRYPT)
}

fn load(t: &mut Tpm, p: &mut TestPlatform, key: &[u8], tmpl: &TpmtPublic) -> u32 {
    let r = run(t, p, &create_primary_cmd(OWNER, &sens(b"", key), tmpl));
    assert_eq!(r.rc, 0, "create_primary rc {:#x}", r.rc);
    split(&r, 1).0[0]
}

fn hmac_cmd(h: u32, data: &[u8], alg: u16) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::HMAC).handle(h).pw(b"").params(move |w| {
        w.tpm2b(&data);
        w.u16(alg)
    })
}

/// The TPM2B_DIGEST contents of a successful TPM2_HMAC response.
fn out_hmac(r: &Resp) -> Vec<u8> {
    let b = split(r, 0).1;
    assert_eq!(usize::from(u16::from_be_bytes([b[0], b[1]])), b.len() - 2);
    b[2..].to_vec()
}

fn start_cmd(h: u32, auth: &[u8], alg: u16) -> Cmd {
    let auth = auth.to_vec();
    Cmd::new(TpmCc::HMAC_START)
        .handle(h)
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&auth);
            w.u16(alg)
        })
}

fn start(t: &mut Tpm, p: &mut TestPlatform, h: u32, auth: &[u8], alg: u16) -> u32 {
    let r = run(t, p, &start_cmd(h, auth, alg));
    assert_eq!(r.rc, 0, "start rc {:#x}", r.rc);
    split(&r, 1).0[0]
}

fn update(h: u32, pw: &[u8], data: &[u8]) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::SEQUENCE_UPDATE)
        .handle(h)
        .pw(pw)
        .params(move |w| w.tpm2b(&data))
}

fn complete(h: u32, pw: &[u8], data: &[u8]) -> Cmd {
    let data = data.to_vec();
    Cmd::new(TpmCc::SEQUENCE_COMPLETE)
        .handle(h)
        .pw(pw)
        .params(move |w| {
            w.tpm2b(&data);
            w.u32(OWNER)
        })
}

/// (result, ticket bytes) of a successful SequenceComplete.
fn completed(r: &Resp) -> (Vec<u8>, Vec<u8>) {
    let b = split(r, 0).1;
    let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
    (b[2..2 + n].to_vec(), b[2 + n..].to_vec())
}

#[test]
fn one_shot_hmac() {
    let key = b"an hmac key of thirty-two octets";
    let (mut t, mut p) = started();
    let k = load(
        &mut t,
        &mut p,
        key,
        &hmac_template(Some(crate::crypto::hash::HashAlg::Sha256), user_sign()),
    );
    for alg in [SHA256, ALG_NULL] {
        let r = run(&mut t, &mut p, &hmac_cmd(k, b"some data", alg));
        assert_eq!(out_hmac(&r), mac256(key, b"some data"));
    }
    let r = run(&mut t, &mut p, &hmac_cmd(k, b"", ALG_NULL));
    assert_eq!(out_hmac(&r), mac256(key, b""));
    // a hash other than the key's
    let r = run(&mut t, &mut p, &hmac_cmd(k, b"x", SHA1));
    assert_eq!(r.rc, TpmRc::VALUE.at_param(2).value());
    // not a hash
    let r = run(&mut t, &mut p, &hmac_cmd(k, b"x", 0x0006));
    assert_eq!(r.rc, TpmRc::HASH.at_param(2).value());

    // a key without a scheme takes hashAlg, and needs one
    let n = load(&mut t, &mut p, key, &hmac_template(None, sign_decrypt()));
    let r = run(&mut t, &mut p, &hmac_cmd(n, b"data", SHA384));
    assert_eq!(out_hmac(&r), mac384(key, b"data"));
    let r = run(&mut t, &mut p, &hmac_cmd(n, b"data", SHA1));
    assert_eq!(out_hmac(&r), mac1(key, b"data"));
    let r = run(&mut t, &mut p, &hmac_cmd(n, b"data", ALG_NULL));
    assert_eq!(r.rc, TpmRc::VALUE.at_param(2).value());
}

#[test]
fn hmac_refusals_by_key() {
    let (mut t, mut p) = started();
    // not a keyed hash object
    let (ecc, _, _) = primary(&mut t, &mut p, OWNER, &ecc_signing());
    let r = run(&mut t, &mut p, &hmac_cmd(ecc, b"x", SHA256));
    assert_eq!(r.rc, TpmRc::TYPE.at_handle(1).value());
    let r = run(&mut t, &mut p, &start_cmd(ecc, b"", SHA256));
    assert_eq!(r.rc, TpmRc::TYPE.at_handle(1).value());
    // a sealed data object (no sign attribute)
    let mut sealed_tmpl = sealed();
    sealed_tmpl.object_attributes = FIXED.with(TpmaObject::USER_WITH_AUTH);
    let d = load(&mut t, &mut p, b"secret", &sealed_tmpl);
    let r = run(&mut t, &mut p, &hmac_cmd(d, b"x", SHA256));
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
    let r = run(&mut t, &mut p, &start_cmd(d, b"", SHA256));
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
    // a restricted HMAC key
    let (rk, _, _) = primary(
        &mut t,
        &mut p,
        OWNER,
        &hmac_template(
            Some(crate::crypto::hash::HashAlg::Sha256),
            user_sign()
                .with(TpmaObject::SENSITIVE_DATA_ORIGIN)
                .with(TpmaObject::RESTRICTED),
        ),
    );
    let r = run(&mut t, &mut p, &hmac_cmd(rk, b"x", SHA256));
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
}

#[test]
fn hmac_sequence_matches_one_shot() {
    // a full SHA-256 block of key
    let key: Vec<u8> = (0u8..64).collect();
    let (mut t, mut p) = started();
    let k = load(&mut t, &mut p, &key, &hmac_template(None, sign_decrypt()));
    let data: Vec<u8> = (0..1500u32).map(|i| (i % 251) as u8).collect();
    let want = mac256(&key, &data);
    let s = start(&mut t, &mut p, k, b"seq", SHA256);
    assert_eq!(run(&mut t, &mut p, &update(s, b"seq", &data[..1000])).rc, 0);
    // the sequence's own authValue is needed
    let r = run(&mut t, &mut p, &update(s, b"wrong", &data[1000..1200]));
    assert_ne!(r.rc, 0);
    assert_eq!(
        run(&mut t, &mut p, &update(s, b"seq", &data[1000..1200])).rc,
        0
    );
    let r = run(&mut t, &mut p, &complete(s, b"seq", &data[1200..]));
    let (mac, ticket) = completed(&r);
    assert_eq!(mac, want);
    assert_eq!(ticket, NULL_TICKET);
    // the one-shot command agrees (data up to 1024 octets)
    let r = run(&mut t, &mut p, &hmac_cmd(k, &data[..1024], SHA256));
    assert_eq!(out_hmac(&r), mac256(&key, &data[..1024]));
    // the sequence is gone
    let r = run(&mut t, &mut p, &complete(s, b"seq", b""));
    assert_ne!(r.rc, 0);

    // SHA-384 with a NULL-scheme key, data only in Complete
    let n = load(
        &mut t,
        &mut p,
        b"short",
        &hmac_template(None, sign_decrypt()),
    );
    let s = start(&mut t, &mut p, n, b"", SHA384);
    let (mac, _) = completed(&run(&mut t, &mut p, &complete(s, b"", b"tail")));
    assert_eq!(mac, mac384(b"short", b"tail"));
    // hashAlg conflicting with the key's scheme, or missing
    let (f, _, _) = primary(&mut t, &mut p, OWNER, &hmac_key());
    let r = run(&mut t, &mut p, &start_cmd(f, b"", SHA384));
    assert_eq!(r.rc, TpmRc::VALUE.at_param(2).value());
    let r = run(&mut t, &mut p, &start_cmd(n, b"", ALG_NULL));
    assert_eq!(r.rc, TpmRc::VALUE.at_param(2).value());
    // an auth longer than a digest
    let r = run(&mut t, &mut p, &start_cmd(n, &[1u8; 65], SHA256));
    assert_ne!(r.rc, 0);
}

#[test]
fn hmac_sequence_refused_by_event_complete_and_survives_context_save() {
    let key = b"0123456789";
    let (mut t, mut p) = started();
    let k = load(&mut t, &mut p, key, &hmac_template(None, sign_decrypt()));
    let s = start(&mut t, &mut p, k, b"", SHA256);
    assert_eq!(run(&mut t, &mut p, &update(s, b"", b"first ")).rc, 0);
    let c = Cmd::new(TpmCc::EVENT_SEQUENCE_COMPLETE)
        .handle(0x4000_0007)
        .handle(s)
        .pw(b"")
        .pw(b"")
        .params(|w| w.tpm2b(b""));
    assert_eq!(run(&mut t, &mut p, &c).rc, TpmRc::MODE.at_handle(2).value());
    // save, flush, load
    let r = run(&mut t, &mut p, &Cmd::new(TpmCc::CONTEXT_SAVE).handle(s));
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let blob = r.body.clone();
    assert!(!blob.windows(key.len()).any(|w| w == key));
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(s)),
    );
    assert_eq!(r.rc, 0);
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CONTEXT_LOAD).params(move |w| w.bytes(&blob)),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let s2 = u32::from_be_bytes(r.body[..4].try_into().unwrap());
    let (mac, ticket) = completed(&run(&mut t, &mut p, &complete(s2, b"", b"second")));
    assert_eq!(mac, mac256(key, b"first second"));
    assert_eq!(ticket, vec![0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]);
}

#[test]
fn sequence_state_with_keys_longer_than_a_block() {
    use crate::crypto::hash::HashAlg;
    use crate::state::objects::SequenceObject;
    use crate::types::sized::Tpm2bAuth;
    for len in [0usize, 1, 63, 64, 65, 128, 200] {
        let key: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let mut s = SequenceObject::new_hmac(HashAlg::Sha256, &key, Tpm2bAuth::empty());
        s.update(b"abc");
        s.update(b"def");
        assert_eq!(s.hmac_result().unwrap().to_vec(), mac256(&key, b"abcdef"));
        let mut s = SequenceObject::new_hmac(HashAlg::Sha384, &key, Tpm2bAuth::empty());
        s.update(b"xyz");
        assert_eq!(s.hmac_result().unwrap().to_vec(), mac384(&key, b"xyz"));
        // through the saved-context form
        let back = SequenceObject::import(&s.export()).unwrap();
        assert_eq!(back.hmac_result().unwrap().to_vec(), mac384(&key, b"xyz"));
    }
}
