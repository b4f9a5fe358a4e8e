//! Attestation: the signed structures parsed here, PCR digests recomputed, ECDSA
//! signatures verified with the p256 crate.

use alloc::vec::Vec;

use p256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::hash::HashAlg;
use crate::marshal::{Reader, Unmarshal, Writer};
use crate::objects::testkit::*;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::attest::{TpmsAttest, TpmuAttest};
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::public::{TpmtPublic, TpmuPublicId};
use crate::types::signature::TpmtSignature;

/// Parses TPM2B_ATTEST and TPMT_SIGNATURE from a response body (after
/// parameterSize; the response session area is cut off).
fn attest_and_sig(body: &[u8]) -> (Vec<u8>, TpmsAttest, TpmtSignature) {
    let size = u32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
    let mut r = Reader::new(&body[4..4 + size]);
    let n = r.u16().unwrap() as usize;
    let bytes = r.bytes(n).unwrap().to_vec();
    let attest = TpmsAttest::from_bytes(&bytes).unwrap();
    let sig = TpmtSignature::unmarshal_in(&mut r, &IMPLEMENTED, true).unwrap();
    assert!(r.is_empty());
    (bytes, attest, sig)
}

/// Checks an ECDSA-P256 signature over SHA-256(`bytes`) with the p256 crate.
fn verify_p256(public: &TpmtPublic, bytes: &[u8], sig: &TpmtSignature) {
    assert!(p256_ok(public, bytes, sig), "the signature verifies");
}

fn p256_ok(public: &TpmtPublic, bytes: &[u8], sig: &TpmtSignature) -> bool {
    let TpmuPublicId::Ecc(point) = &public.unique else {
        panic!("not an ECC key")
    };
    let mut sec1 = alloc::vec![4u8];
    sec1.extend_from_slice(point.x.as_slice());
    sec1.extend_from_slice(point.y.as_slice());
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let TpmtSignature::Ecdsa(HashAlg::Sha256, r, s) = sig else {
        panic!("not ECDSA-SHA256: {sig:?}")
    };
    let mut rs = r.as_slice().to_vec();
    rs.extend_from_slice(s.as_slice());
    let sig = p256::ecdsa::Signature::from_slice(&rs).unwrap();
    key.verify_prehash(&HashAlg::Sha256.digest(bytes), &sig)
        .is_ok()
}

fn null_scheme(w: &mut Writer) {
    w.u16(0x0010);
}

#[test]
fn quote_signs_the_pcr_digest() {
    let (mut t, mut p) = started();
    let (key, public, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    let extend = Cmd::new(TpmCc::PCR_EXTEND).handle(16).pw(b"").params(|w| {
        w.u32(1);
        w.u16(0x000B);
        w.bytes(&[0x99; 32]);
    });
    assert_eq!(run(&mut t, &mut p, &extend).rc, 0);
    let quote = Cmd::new(TpmCc::QUOTE).handle(key).pw(b"").params(|w| {
        w.tpm2b(b"nonce-1234");
        null_scheme(w);
        w.u32(1);
        w.u16(0x000B);
        w.u8(3);
        w.bytes(&[0x01, 0x00, 0x01]); // PCRs 0 and 16
    });
    let r = run(&mut t, &mut p, &quote);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    assert_eq!(attest.extra_data.as_slice(), b"nonce-1234");
    let TpmuAttest::Quote { pcr_digest, .. } = &attest.attested else {
        panic!("{attest:?}")
    };
    let pcr0 = t.pcrs.value(HashAlg::Sha256, 0).unwrap().to_vec();
    let pcr16 = t.pcrs.value(HashAlg::Sha256, 16).unwrap().to_vec();
    assert_eq!(
        pcr_digest.as_slice(),
        HashAlg::Sha256.digest_parts(&[&pcr0, &pcr16]).as_slice()
    );
    verify_p256(&public, &bytes, &sig);
    // An endorsement key sees the real reset and restart counts.
    assert_eq!(attest.clock_info.reset_count, t.perm.reset_count);
    // A tampered structure does not verify.
    let mut bad = bytes.clone();
    bad[10] ^= 1;
    assert!(!p256_ok(&public, &bad, &sig));
}

#[test]
fn storage_hierarchy_signers_obfuscate_the_counts() {
    let (mut t, mut p) = started();
    let (key, public, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_signing());
    let get_time = Cmd::new(TpmCc::GET_TIME)
        .handle(TpmRh::ENDORSEMENT.0)
        .handle(key)
        .pw(b"")
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"");
            null_scheme(w);
        });
    let r = run(&mut t, &mut p, &get_time);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    verify_p256(&public, &bytes, &sig);
    let TpmuAttest::Time {
        time,
        firmware_version,
    } = attest.attested
    else {
        panic!()
    };
    let (v1, v2) = crate::commands::capability::firmware_version();
    let real = (u64::from(v1) << 32) | u64::from(v2);
    // Inside TPMS_TIME_ATTEST_INFO the version is in the clear; outside it is not.
    assert_eq!(firmware_version, real);
    assert_ne!(attest.firmware_version, real);
    assert_eq!(time.clock_info.reset_count, t.perm.reset_count);
}

#[test]
fn unsigned_attestations_and_the_command_audit_digest() {
    let (mut t, mut p) = started();
    let set = Cmd::new(TpmCc::SET_COMMAND_CODE_AUDIT_STATUS)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| {
            w.u16(0x0010);
            w.u32(1);
            w.u32(TpmCc::GET_RANDOM.0);
            w.u32(0);
        });
    assert_eq!(run(&mut t, &mut p, &set).rc, 0);
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &Cmd::new(TpmCc::GET_RANDOM).params(|w| w.u16(8))
        )
        .rc,
        0
    );
    let digest = t.reset.command_audit_digest.clone();
    let get = Cmd::new(TpmCc::GET_COMMAND_AUDIT_DIGEST)
        .handle(TpmRh::ENDORSEMENT.0)
        .handle(TpmRh::NULL.0)
        .pw(b"")
        .pw(b"")
        .params(|w| {
            w.tpm2b(b"q");
            null_scheme(w);
        });
    let r = run(&mut t, &mut p, &get);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, attest, sig) = attest_and_sig(&r.body);
    assert_eq!(sig, TpmtSignature::Null);
    assert_eq!(
        attest.qualified_signer.as_slice(),
        &TpmRh::NULL.0.to_be_bytes()
    );
    let TpmuAttest::CommandAudit {
        audit_counter,
        digest_alg,
        audit_digest,
        command_digest,
    } = attest.attested
    else {
        panic!()
    };
    assert_eq!(audit_counter, 1);
    assert_eq!(digest_alg, 0x000B);
    assert_eq!(audit_digest.as_slice(), digest.as_slice());
    let mut codes = Vec::new();
    codes.extend_from_slice(&0x140u32.to_be_bytes());
    codes.extend_from_slice(&0x17Bu32.to_be_bytes());
    assert_eq!(
        command_digest.as_slice(),
        HashAlg::Sha256.digest(&codes).as_slice()
    );
    // The digest starts over after being reported.
    assert!(t.reset.command_audit_digest.is_empty());
}

#[test]
fn certify_and_certify_creation() {
    let (mut t, mut p) = started();
    let (signer, public, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    let srk = owner_srk(&mut t, &mut p);
    // Certify the SRK with the signing key.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CERTIFY)
            .handle(srk)
            .handle(signer)
            .pw(b"")
            .pw(b"")
            .params(|w| {
                w.tpm2b(b"");
                null_scheme(w);
            }),
    );
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    verify_p256(&public, &bytes, &sig);
    let TpmuAttest::Certify { name, .. } = &attest.attested else {
        panic!()
    };
    assert_eq!(name.as_slice(), t.entity_name(srk).as_slice());
    // A storage key cannot sign.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::CERTIFY)
            .handle(signer)
            .handle(srk)
            .pw(b"")
            .pw(b"")
            .params(|w| {
                w.tpm2b(b"");
                null_scheme(w);
            }),
    );
    assert_eq!(r.rc, TpmRc::KEY.at_handle(2).value());
    // CertifyCreation needs the creation ticket of the object.
    let cr = run(
        &mut t,
        &mut p,
        &create_primary_cmd(TpmRh::OWNER.0, &sens(b"", b""), &ecc_storage()),
    );
    let (hs, params) = split(&cr, 1);
    let mut rd = Reader::new(&params);
    let _public = take_2b(&mut rd);
    let _data = take_2b(&mut rd);
    let hash = take_2b(&mut rd);
    let tag = rd.u16().unwrap();
    let hier = rd.u32().unwrap();
    let tk = take_2b(&mut rd);
    let certify_creation = |t: &mut crate::Tpm, p: &mut crate::TestPlatform, tk: &[u8]| {
        let (hash, tk) = (hash.clone(), tk.to_vec());
        run(
            t,
            p,
            &Cmd::new(TpmCc::CERTIFY_CREATION)
                .handle(signer)
                .handle(hs[0])
                .pw(b"")
                .params(move |w| {
                    w.tpm2b(b"");
                    w.bytes(&hash);
                    w.u16(0x0010);
                    w.u16(tag);
                    w.u32(hier);
                    w.bytes(&tk);
                }),
        )
    };
    let r = certify_creation(&mut t, &mut p, &tk);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    verify_p256(&public, &bytes, &sig);
    assert!(matches!(attest.attested, TpmuAttest::Creation { .. }));
    let mut bad = tk.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        certify_creation(&mut t, &mut p, &bad).rc,
        TpmRc::TICKET.at_param(4).value()
    );
}

#[test]
fn session_audit_digest_is_reported() {
    let (mut t, mut p) = started();
    let start = Cmd::new(TpmCc::START_AUTH_SESSION)
        .handle(TpmRh::NULL.0)
        .handle(TpmRh::NULL.0)
        .params(|w| {
            w.tpm2b(&[5u8; 32]);
            w.tpm2b(b"");
            w.u8(0);
            w.u16(0x0010);
            w.u16(0x000B);
        });
    let r = run(&mut t, &mut p, &start);
    let s = u32::from_be_bytes(r.body[0..4].try_into().unwrap());
    let get = |t: &mut crate::Tpm, p: &mut crate::TestPlatform| {
        run(
            t,
            p,
            &Cmd::new(TpmCc::GET_SESSION_AUDIT_DIGEST)
                .handle(TpmRh::ENDORSEMENT.0)
                .handle(TpmRh::NULL.0)
                .handle(s)
                .pw(b"")
                .pw(b"")
                .params(|w| {
                    w.tpm2b(b"");
                    null_scheme(w);
                }),
        )
    };
    // Not an audit session yet.
    assert_eq!(get(&mut t, &mut p).rc, TpmRc::TYPE.at_handle(3).value());
    t.sessions.get_mut(s).unwrap().audit_digest = Some(alloc::vec![7u8; 32]);
    t.exclusive_audit = Some(s);
    let r = get(&mut t, &mut p);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, attest, _) = attest_and_sig(&r.body);
    let TpmuAttest::SessionAudit {
        exclusive_session,
        session_digest,
    } = attest.attested
    else {
        panic!()
    };
    assert!(exclusive_session);
    assert_eq!(session_digest.as_slice(), &[7u8; 32]);
}
