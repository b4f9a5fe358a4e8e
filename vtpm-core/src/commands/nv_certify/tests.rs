//! TPM2_NV_Certify: the attestation parsed back, its fields compared with the
//! index, digests recomputed with the sha2 crate and ECDSA signatures verified
//! with the p256 crate.

use alloc::vec::Vec;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256};

use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::attest::{TpmsAttest, TpmuAttest, TPM_GENERATED_VALUE};
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::nv::{Tpm2bNvPublic, TpmaNv, TpmsNvPublic};
use crate::types::public::{TpmtPublic, TpmuPublicId};
use crate::types::signature::TpmtSignature;
use crate::types::sized::Tpm2bDigest;

const OWNER: u32 = TpmRh::OWNER.0;
const IDX: u32 = 0x0150_0020;
const RW: u32 = TpmaNv::OWNERWRITE | TpmaNv::OWNERREAD | TpmaNv::AUTHWRITE | TpmaNv::AUTHREAD;

fn define(t: &mut Tpm, p: &mut TestPlatform, index: u32, attrs: u32, size: u16) {
    let public = TpmsNvPublic {
        nv_index: index,
        name_alg: HashAlg::Sha256,
        attributes: TpmaNv(attrs | TpmaNv::NO_DA),
        auth_policy: Tpm2bDigest::empty(),
        data_size: size,
    };
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_DEFINE_SPACE)
            .handle(OWNER)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(b"nvpw");
                Tpm2bNvPublic(public).marshal(w);
            }),
    );
    assert_eq!(r.rc, 0, "define {:#x}", r.rc);
}

fn write(t: &mut Tpm, p: &mut TestPlatform, index: u32, data: &[u8]) {
    let data = data.to_vec();
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::NV_WRITE)
            .handle(OWNER)
            .handle(index)
            .pw(b"")
            .params(move |w| {
                w.tpm2b(&data);
                w.u16(0);
            }),
    );
    assert_eq!(r.rc, 0, "write {:#x}", r.rc);
}

/// TPMT_SIG_SCHEME: TPM_ALG_NULL.
fn null_scheme(w: &mut crate::marshal::Writer) {
    w.u16(0x0010);
}

/// NV_Certify(signHandle, authHandle, nvIndex) with `scheme`.
#[allow(clippy::too_many_arguments)]
fn certify_with(
    t: &mut Tpm,
    p: &mut TestPlatform,
    sign: u32,
    auth: u32,
    auth_pw: &[u8],
    index: u32,
    scheme: fn(&mut crate::marshal::Writer),
    size: u16,
    offset: u16,
) -> Resp {
    run(
        t,
        p,
        &Cmd::new(TpmCc::NV_CERTIFY)
            .handle(sign)
            .handle(auth)
            .handle(index)
            .pw(b"")
            .pw(auth_pw)
            .params(move |w| {
                w.tpm2b(b"nonce-123");
                scheme(w);
                w.u16(size);
                w.u16(offset);
            }),
    )
}

fn certify(
    t: &mut Tpm,
    p: &mut TestPlatform,
    sign: u32,
    index: u32,
    size: u16,
    offset: u16,
) -> Resp {
    certify_with(t, p, sign, index, b"nvpw", index, null_scheme, size, offset)
}

/// TPM2B_ATTEST bytes, the parsed TPMS_ATTEST and the TPMT_SIGNATURE.
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
    let digest = Sha256::digest(bytes);
    key.verify_prehash(&digest, &sig).is_ok()
}

fn data() -> Vec<u8> {
    (0u8..48).map(|i| i.wrapping_mul(7) ^ 0x5A).collect()
}

#[test]
fn certifies_a_range_of_the_contents() {
    let (mut t, mut p) = started();
    let (signer, public, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    define(&mut t, &mut p, IDX, RW, 48);
    write(&mut t, &mut p, IDX, &data());
    let r = certify(&mut t, &mut p, signer, IDX, 10, 5);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    // The structure as signed: magic, then TPM_ST_ATTEST_NV.
    assert_eq!(bytes[..4], TPM_GENERATED_VALUE.to_be_bytes());
    assert_eq!(bytes[4..6], [0x80, 0x14]);
    assert_eq!(attest.extra_data.as_slice(), b"nonce-123");
    assert_eq!(
        attest.qualified_signer.as_slice(),
        t.key(signer).unwrap().qualified_name.as_slice()
    );
    let TpmuAttest::Nv {
        index_name,
        offset,
        nv_contents,
    } = &attest.attested
    else {
        panic!("not TPMS_NV_CERTIFY_INFO: {:?}", attest.attested)
    };
    // The Name is nameAlg || SHA-256(TPMS_NV_PUBLIC) with WRITTEN now SET.
    let mut nv_public = Vec::new();
    let mut w = crate::marshal::Writer::new();
    t.nv_index(IDX).unwrap().public.marshal(&mut w);
    nv_public.extend_from_slice(w.as_slice());
    let mut name = alloc::vec![0x00, 0x0B];
    name.extend_from_slice(&Sha256::digest(&nv_public));
    assert_eq!(index_name.as_slice(), name.as_slice());
    assert_eq!(*offset, 5);
    assert_eq!(nv_contents.as_slice(), &data()[5..15]);
    assert!(p256_ok(&public, &bytes, &sig), "the signature verifies");
    // A changed octet no longer verifies.
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(!p256_ok(&public, &tampered, &sig));
    // The whole index in one piece, up to its last octet.
    let r = certify(&mut t, &mut p, signer, IDX, 48, 0);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, attest, _) = attest_and_sig(&r.body);
    let TpmuAttest::Nv { nv_contents, .. } = &attest.attested else {
        panic!()
    };
    assert_eq!(nv_contents.as_slice(), data().as_slice());
}

#[test]
fn size_and_offset_zero_certify_the_digest() {
    let (mut t, mut p) = started();
    let (signer, public, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    define(&mut t, &mut p, IDX, RW, 48);
    write(&mut t, &mut p, IDX, &data());
    let r = certify(&mut t, &mut p, signer, IDX, 0, 0);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (bytes, attest, sig) = attest_and_sig(&r.body);
    assert_eq!(bytes[4..6], [0x80, 0x1C]);
    let TpmuAttest::NvDigest {
        index_name,
        nv_digest,
    } = &attest.attested
    else {
        panic!("not TPMS_NV_DIGEST_CERTIFY_INFO: {:?}", attest.attested)
    };
    assert_eq!(index_name.as_slice(), t.entity_name(IDX).as_slice());
    assert_eq!(nv_digest.as_slice(), Sha256::digest(data()).as_slice());
    assert!(p256_ok(&public, &bytes, &sig));
}

#[test]
fn a_null_sign_handle_gives_an_unsigned_attestation() {
    let (mut t, mut p) = started();
    define(&mut t, &mut p, IDX, RW, 48);
    write(&mut t, &mut p, IDX, &data());
    let r = certify(&mut t, &mut p, TpmRh::NULL.0, IDX, 4, 1);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, attest, sig) = attest_and_sig(&r.body);
    assert_eq!(sig, TpmtSignature::Null);
    assert_eq!(
        attest.qualified_signer.as_slice(),
        TpmRh::NULL.0.to_be_bytes()
    );
    let TpmuAttest::Nv { nv_contents, .. } = &attest.attested else {
        panic!()
    };
    assert_eq!(nv_contents.as_slice(), &data()[1..5]);
    // Without a signing scheme the digest form has no hash: an empty digest.
    let r = certify(&mut t, &mut p, TpmRh::NULL.0, IDX, 0, 0);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let (_, attest, _) = attest_and_sig(&r.body);
    let TpmuAttest::NvDigest { nv_digest, .. } = &attest.attested else {
        panic!()
    };
    assert!(nv_digest.is_empty());
}

#[test]
fn owner_authorization_needs_ownerread() {
    let (mut t, mut p) = started();
    let (signer, _, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    define(&mut t, &mut p, IDX, RW, 16);
    write(&mut t, &mut p, IDX, &[1; 16]);
    let r = certify_with(&mut t, &mut p, signer, OWNER, b"", IDX, null_scheme, 16, 0);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    define(
        &mut t,
        &mut p,
        IDX + 1,
        TpmaNv::OWNERWRITE | TpmaNv::AUTHREAD,
        16,
    );
    write(&mut t, &mut p, IDX + 1, &[2; 16]);
    let r = certify_with(
        &mut t,
        &mut p,
        signer,
        OWNER,
        b"",
        IDX + 1,
        null_scheme,
        16,
        0,
    );
    assert_eq!(r.rc, TpmRc::NV_AUTHORIZATION.value());
}

#[test]
fn refusals() {
    let (mut t, mut p) = started();
    let (signer, _, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_signing());
    let srk = owner_srk(&mut t, &mut p);
    define(&mut t, &mut p, IDX, RW | TpmaNv::READ_STCLEAR, 2048);
    // Never written.
    let r = certify(&mut t, &mut p, signer, IDX, 8, 0);
    assert_eq!(r.rc, TpmRc::NV_UNINITIALIZED.value());
    write(&mut t, &mut p, IDX, &[7; 1024]);
    // A storage key does not sign.
    let r = certify(&mut t, &mut p, srk, IDX, 8, 0);
    assert_eq!(r.rc, TpmRc::KEY.at_handle(1).value());
    // RSASSA does not fit an ECC key.
    let rsassa = |w: &mut crate::marshal::Writer| {
        w.u16(0x0014);
        w.u16(0x000B);
    };
    let r = certify_with(&mut t, &mut p, signer, IDX, b"nvpw", IDX, rsassa, 8, 0);
    assert_eq!(r.rc, TpmRc::SCHEME.at_param(2).value());
    // Beyond the end of the index, and larger than MAX_NV_BUFFER_SIZE.
    let r = certify(&mut t, &mut p, signer, IDX, 16, 2040);
    assert_eq!(r.rc, TpmRc::NV_RANGE.value());
    let r = certify(&mut t, &mut p, signer, IDX, 1, 2048);
    assert_eq!(r.rc, TpmRc::NV_RANGE.value());
    let r = certify(&mut t, &mut p, signer, IDX, 1025, 0);
    assert_eq!(r.rc, TpmRc::VALUE.at_param(3).value());
    let r = certify(&mut t, &mut p, signer, IDX, 1024, 1024);
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    // A wrong index password.
    let r = certify_with(&mut t, &mut p, signer, IDX, b"nope", IDX, null_scheme, 8, 0);
    assert_eq!(r.rc, TpmRc::BAD_AUTH.at_session(2).value());
    // Read locked.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_READ_LOCK)
            .handle(IDX)
            .handle(IDX)
            .pw(b"nvpw"),
    );
    assert_eq!(r.rc, 0);
    let r = certify(&mut t, &mut p, signer, IDX, 8, 0);
    assert_eq!(r.rc, TpmRc::NV_LOCKED.value());
    // Trailing bytes after the parameters.
    let r = run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::NV_CERTIFY)
            .handle(signer)
            .handle(OWNER)
            .handle(IDX)
            .pw(b"")
            .pw(b"")
            .params(|w| {
                w.tpm2b(b"");
                null_scheme(w);
                w.u16(0);
                w.u16(0);
                w.u8(0);
            }),
    );
    assert_eq!(r.rc, TpmRc::SIZE.value());
}
