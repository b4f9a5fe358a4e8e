//! Parameter encryption through the command pipeline: an XOR session whose mask
//! is recomputed here, and the refusals.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::marshal::Writer;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmCc, TpmRh};

const XOR_SHA256: [u8; 4] = [0x00, 0x0A, 0x00, 0x0B];
const SYM_NULL: [u8; 2] = [0x00, 0x10];

/// Starts an unbound, unsalted HMAC session with SHA-256 and `symmetric`;
/// returns (handle, nonceTPM).
fn start(
    t: &mut crate::Tpm,
    p: &mut crate::TestPlatform,
    nc: &[u8],
    symmetric: &[u8],
) -> (u32, Vec<u8>) {
    let sym = symmetric.to_vec();
    let nc = nc.to_vec();
    let c = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(move |w| {
            w.tpm2b(&nc);
            w.tpm2b(b"");
            w.u8(0);
            w.bytes(&sym);
            w.u16(0x000B);
        });
    let r = run(t, p, &c);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    (
        u32::from_be_bytes(r.body[0..4].try_into().unwrap()),
        r.body[6..].to_vec(),
    )
}

/// A command with one (non-authorizing) session and `params`.
fn with_session(cc: TpmCc, session: u32, nc: &[u8], attrs: u8, params: &[u8]) -> Vec<u8> {
    let mut a = Writer::new();
    a.u32(session);
    a.tpm2b(nc);
    a.u8(attrs);
    a.tpm2b(b"");
    let mut w = Writer::new();
    w.u16(0x8002);
    w.u32(0);
    w.u32(cc.0);
    w.u32(a.len() as u32);
    w.bytes(a.as_slice());
    w.bytes(params);
    let mut bytes = w.into_vec();
    let n = bytes.len() as u32;
    bytes[2..6].copy_from_slice(&n.to_be_bytes());
    bytes
}

fn xor(key_nonce_newer: &[u8], key_nonce_older: &[u8], data: &[u8]) -> Vec<u8> {
    // Unsalted, unbound: sessionKey and authValue are empty.
    let mask = kdfa(
        HashAlg::Sha256,
        b"",
        b"XOR",
        key_nonce_newer,
        key_nonce_older,
        (data.len() * 8) as u32,
    );
    data.iter().zip(mask.iter()).map(|(d, m)| d ^ m).collect()
}

#[test]
fn xor_session_decrypts_the_command_and_encrypts_the_response() {
    let (mut t, mut p) = started();
    let nc = [0x21u8; 32];
    let (s, nonce_tpm) = start(&mut t, &mut p, &nc, &XOR_SHA256);
    let data = b"the quick brown fox jumps over the lazy dog".to_vec();
    let mut params = Writer::new();
    params.tpm2b(&xor(&nc, &nonce_tpm, &data));
    params.u16(0x000B); // SHA-256
    params.u32(TpmRh::NULL.0);
    // decrypt (0x20) | encrypt (0x40) | continueSession
    let r = run_at(
        &mut t,
        &mut p,
        0,
        &with_session(TpmCc::HASH, s, &nc, 0x61, params.as_slice()),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    // parameterSize, then outHash (encrypted), validation; then the session.
    let body = &r.body[4..];
    let n = u16::from_be_bytes([body[0], body[1]]) as usize;
    let enc = &body[2..2 + n];
    let raw = &r.raw;
    let psize = u32::from_be_bytes(raw[10..14].try_into().unwrap()) as usize;
    let sess = &raw[14 + psize..];
    let ln = u16::from_be_bytes([sess[0], sess[1]]) as usize;
    let new_nonce_tpm = &sess[2..2 + ln];
    assert_ne!(new_nonce_tpm, nonce_tpm.as_slice());
    let plain = xor(new_nonce_tpm, &nc, enc);
    assert_eq!(plain, HashAlg::Sha256.digest(&data));
    assert_ne!(enc, plain.as_slice(), "the response was sent in the clear");
}

#[test]
fn refusals() {
    let (mut t, mut p) = started();
    let nc = [0x33u8; 32];
    let (s, _) = start(&mut t, &mut p, &nc, &XOR_SHA256);
    let (null_s, _) = start(&mut t, &mut p, &nc, &SYM_NULL);
    let mut hash = Writer::new();
    hash.tpm2b(b"abc");
    hash.u16(0x000B);
    hash.u32(TpmRh::NULL.0);
    let rc = |t: &mut crate::Tpm, p: &mut crate::TestPlatform, b: &[u8]| run_at(t, p, 0, b).rc;
    // A session without a symmetric algorithm cannot encrypt.
    assert_eq!(
        rc(
            &mut t,
            &mut p,
            &with_session(TpmCc::HASH, null_s, &nc, 0x21, hash.as_slice())
        ),
        TpmRc::SYMMETRIC.at_session(1).value()
    );
    // GetCapability has no sized first parameter in either direction.
    let mut cap = Writer::new();
    cap.u32(6);
    cap.u32(0x100);
    cap.u32(1);
    for attrs in [0x21, 0x41] {
        assert_eq!(
            rc(
                &mut t,
                &mut p,
                &with_session(TpmCc::GET_CAPABILITY, s, &nc, attrs, cap.as_slice())
            ),
            TpmRc::ATTRIBUTES.at_session(1).value()
        );
    }
    // A size field running past the parameter area.
    let mut bad = Writer::new();
    bad.u16(200);
    bad.bytes(b"short");
    assert_eq!(
        rc(
            &mut t,
            &mut p,
            &with_session(TpmCc::HASH, s, &nc, 0x21, bad.as_slice())
        ),
        TpmRc::SIZE.at_session(1).value()
    );
    // A session that neither authorizes nor encrypts is refused.
    assert_eq!(
        rc(
            &mut t,
            &mut p,
            &with_session(TpmCc::HASH, s, &nc, 0x01, hash.as_slice())
        ),
        TpmRc::ATTRIBUTES.at_session(1).value()
    );
    // The session still works afterwards.
    assert_eq!(
        rc(
            &mut t,
            &mut p,
            &with_session(TpmCc::GET_RANDOM, s, &nc, 0x41, &[0, 8])
        ),
        0
    );
}
