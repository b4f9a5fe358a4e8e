//! TPM2_EncryptDecrypt and TPM2_EncryptDecrypt2 against the NIST SP 800-38A
//! AES-128 vectors, and their refusals.

use alloc::vec::Vec;

use crate::marshal::Reader;
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmAlgId, TpmCc, TpmRh};
use crate::types::public::*;

fn hx(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const PT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51";
const CBC: &str = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2";
const CFB: &str = "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b";
const OFB: &str = "3b3fd92eb72dad20333449f8e83cfb4a7789508d16918f03f53c52dac54ed825";
const CTR: &str = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff";
const ECB: &str = "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf";

/// An AES-128 key with the given mode and attributes, from known key bytes.
fn aes_template(mode: TpmAlgId, attrs: TpmaObject) -> TpmtPublic {
    let mut t = aes_key();
    t.object_attributes = attrs;
    t.parameters = TpmuPublicParms::SymCipher(TpmsSymCipherParms {
        sym: TpmtSymDefObject::Cipher {
            algorithm: TpmAlgId::AES,
            key_bits: 128,
            mode,
        },
    });
    t
}

fn both() -> TpmaObject {
    FIXED
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::DECRYPT)
        .with(TpmaObject::SIGN_ENCRYPT)
}

fn load_key(t: &mut Tpm, p: &mut TestPlatform, tmpl: &TpmtPublic) -> u32 {
    let r = run(
        t,
        p,
        &create_primary_cmd(TpmRh::OWNER.0, &sens(b"", &hx(KEY)), tmpl),
    );
    split(&r, 1).0[0]
}

fn ed(h: u32, decrypt: bool, mode: TpmAlgId, iv: &[u8], data: &[u8]) -> Cmd {
    let (iv, data) = (iv.to_vec(), data.to_vec());
    Cmd::new(TpmCc::ENCRYPT_DECRYPT)
        .handle(h)
        .pw(b"")
        .params(move |w| {
            w.u8(u8::from(decrypt));
            w.u16(mode.0);
            w.tpm2b(&iv);
            w.tpm2b(&data);
        })
}

fn ed2(h: u32, decrypt: bool, mode: TpmAlgId, iv: &[u8], data: &[u8]) -> Cmd {
    let (iv, data) = (iv.to_vec(), data.to_vec());
    Cmd::new(TpmCc::ENCRYPT_DECRYPT2)
        .handle(h)
        .pw(b"")
        .params(move |w| {
            w.tpm2b(&data);
            w.u8(u8::from(decrypt));
            w.u16(mode.0);
            w.tpm2b(&iv);
        })
}

/// (outData, ivOut) of a successful response.
fn out(r: &Resp) -> (Vec<u8>, Vec<u8>) {
    let (_, params) = split(r, 0);
    let mut rd = Reader::new(&params);
    let o = take_2b(&mut rd)[2..].to_vec();
    let iv = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    (o, iv)
}

#[test]
fn nist_vectors_every_mode_both_commands() {
    let cases = [
        (TpmAlgId::CBC, IV, CBC),
        (TpmAlgId::CFB, IV, CFB),
        (TpmAlgId::OFB, IV, OFB),
        (TpmAlgId::CTR, CTR_IV, CTR),
        (TpmAlgId::ECB, "", ECB),
    ];
    for (mode, iv, ct) in cases {
        let (mut t, mut p) = started();
        // Key mode NULL: the command chooses.
        let h = load_key(&mut t, &mut p, &aes_template(TpmAlgId::NULL, both()));
        let (iv, pt, ct) = (hx(iv), hx(PT), hx(ct));
        let (c, _) = out(&run(&mut t, &mut p, &ed(h, false, mode, &iv, &pt)));
        assert_eq!(c, ct, "{mode:?}");
        let (d, _) = out(&run(&mut t, &mut p, &ed(h, true, mode, &iv, &ct)));
        assert_eq!(d, pt, "{mode:?}");
        let (c2, _) = out(&run(&mut t, &mut p, &ed2(h, false, mode, &iv, &pt)));
        assert_eq!(c2, ct, "{mode:?}");
        let (d2, _) = out(&run(&mut t, &mut p, &ed2(h, true, mode, &iv, &ct)));
        assert_eq!(d2, pt, "{mode:?}");
    }
}

#[test]
fn iv_out_chains_across_calls() {
    for (mode, iv, ct) in [
        (TpmAlgId::CBC, IV, CBC),
        (TpmAlgId::CFB, IV, CFB),
        (TpmAlgId::OFB, IV, OFB),
        (TpmAlgId::CTR, CTR_IV, CTR),
    ] {
        let (mut t, mut p) = started();
        let h = load_key(&mut t, &mut p, &aes_template(mode, both()));
        let (pt, ct) = (hx(PT), hx(ct));
        // Key mode set, command mode NULL: the key's mode is used.
        let (c1, iv1) = out(&run(
            &mut t,
            &mut p,
            &ed(h, false, TpmAlgId::NULL, &hx(iv), &pt[..16]),
        ));
        let (c2, _) = out(&run(
            &mut t,
            &mut p,
            &ed(h, false, TpmAlgId::NULL, &iv1, &pt[16..]),
        ));
        assert_eq!([c1, c2].concat(), ct, "{mode:?}");
        let (_, div1) = out(&run(&mut t, &mut p, &ed(h, true, mode, &hx(iv), &ct[..16])));
        let (d2, _) = out(&run(&mut t, &mut p, &ed(h, true, mode, &div1, &ct[16..])));
        assert_eq!(d2, pt[16..], "{mode:?}");
    }
}

#[test]
fn refusals() {
    let (mut t, mut p) = started();
    let iv = hx(IV);
    let pt = hx(PT);
    let cfb_key = load_key(&mut t, &mut p, &aes_template(TpmAlgId::CFB, both()));
    // Mode conflicting with the key's.
    let r = run(&mut t, &mut p, &ed(cfb_key, false, TpmAlgId::CBC, &iv, &pt));
    assert_eq!(r.rc, TpmRc::MODE.at_param(2).value());
    let r = run(
        &mut t,
        &mut p,
        &ed2(cfb_key, false, TpmAlgId::CBC, &iv, &pt),
    );
    assert_eq!(r.rc, TpmRc::MODE.at_param(3).value());
    // Not a cipher mode.
    let r = run(
        &mut t,
        &mut p,
        &ed(cfb_key, false, TpmAlgId::SHA256, &iv, &pt),
    );
    assert_eq!(r.rc, TpmRc::MODE.at_param(2).value());
    // Bad IV size.
    let r = run(
        &mut t,
        &mut p,
        &ed(cfb_key, false, TpmAlgId::NULL, &iv[..8], &pt),
    );
    assert_eq!(r.rc, TpmRc::SIZE.at_param(3).value());
    let r = run(
        &mut t,
        &mut p,
        &ed2(cfb_key, false, TpmAlgId::NULL, b"", &pt),
    );
    assert_eq!(r.rc, TpmRc::SIZE.at_param(4).value());
    // CFB takes a partial block.
    let r = run(
        &mut t,
        &mut p,
        &ed(cfb_key, false, TpmAlgId::NULL, &iv, &pt[..5]),
    );
    let (c, _) = out(&r);
    assert_eq!(c, hx(CFB)[..5]);
    flush(&mut t, &mut p, cfb_key);

    let null_key = load_key(&mut t, &mut p, &aes_template(TpmAlgId::NULL, both()));
    // Both modes NULL.
    let r = run(
        &mut t,
        &mut p,
        &ed(null_key, false, TpmAlgId::NULL, &iv, &pt),
    );
    assert_eq!(r.rc, TpmRc::MODE.at_param(2).value());
    // CBC / ECB need whole blocks.
    let r = run(
        &mut t,
        &mut p,
        &ed(null_key, false, TpmAlgId::CBC, &iv, &pt[..17]),
    );
    assert_eq!(r.rc, TpmRc::SIZE.at_param(4).value());
    let r = run(
        &mut t,
        &mut p,
        &ed2(null_key, true, TpmAlgId::ECB, b"", &pt[..15]),
    );
    assert_eq!(r.rc, TpmRc::SIZE.at_param(1).value());
    flush(&mut t, &mut p, null_key);

    // Decrypt needs `decrypt`; encrypt needs `sign`.
    let enc_only = FIXED
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::SIGN_ENCRYPT);
    let h = load_key(&mut t, &mut p, &aes_template(TpmAlgId::CFB, enc_only));
    let r = run(&mut t, &mut p, &ed(h, true, TpmAlgId::CFB, &iv, &pt));
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
    assert_eq!(
        run(&mut t, &mut p, &ed(h, false, TpmAlgId::CFB, &iv, &pt)).rc,
        0
    );
    flush(&mut t, &mut p, h);
    let dec_only = FIXED
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::DECRYPT);
    let h = load_key(&mut t, &mut p, &aes_template(TpmAlgId::CFB, dec_only));
    let r = run(&mut t, &mut p, &ed(h, false, TpmAlgId::CFB, &iv, &pt));
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
    assert_eq!(
        run(&mut t, &mut p, &ed(h, true, TpmAlgId::CFB, &iv, &pt)).rc,
        0
    );
    flush(&mut t, &mut p, h);

    // A restricted key (a storage parent) is refused.
    let h = primary(&mut t, &mut p, TpmRh::OWNER.0, &aes_storage()).0;
    let r = run(&mut t, &mut p, &ed(h, true, TpmAlgId::CFB, &iv, &pt));
    assert_eq!(r.rc, TpmRc::ATTRIBUTES.at_handle(1).value());
    flush(&mut t, &mut p, h);

    // Not a symmetric cipher key.
    let h = primary(&mut t, &mut p, TpmRh::OWNER.0, &hmac_key()).0;
    let r = run(&mut t, &mut p, &ed(h, false, TpmAlgId::CFB, &iv, &pt));
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
}

fn flush(t: &mut Tpm, p: &mut TestPlatform, h: u32) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    assert_eq!(r.rc, 0);
}
