//! TPM2_Create, Load, LoadExternal, ReadPublic, ObjectChangeAuth, Unseal and
//! CreateLoaded, driven with command bytes.

use alloc::vec;
use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::testkit::*;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::{TpmAlgId, TpmCc, TpmRh};
use crate::types::public::*;
use crate::types::sensitive::{Tpm2bSensitive, TpmtSensitive, TpmuSensitiveComposite};
use crate::types::sized::{Tpm2bAuth, Tpm2bDigest, Tpm2bSensitiveData};

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn unseal(
    t: &mut crate::tpm::Tpm,
    p: &mut crate::platform::TestPlatform,
    h: u32,
    pw: &[u8],
) -> Resp {
    run(t, p, &Cmd::new(TpmCc::UNSEAL).handle(h).pw(pw))
}

fn read_public(t: &mut crate::tpm::Tpm, p: &mut crate::platform::TestPlatform, h: u32) -> Resp {
    run(t, p, &Cmd::new(TpmCc::READ_PUBLIC).handle(h))
}

/// ReadPublic: (public, name, qualifiedName).
fn parse_read_public(r: &Resp) -> (TpmtPublic, Vec<u8>, Vec<u8>) {
    assert_eq!(r.rc, 0, "{:#x}", r.rc);
    let mut rd = Reader::new(&r.body);
    let public = Tpm2bPublic::unmarshal(&mut rd).unwrap().0;
    let name = take_2b(&mut rd)[2..].to_vec();
    let qn = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    (public, name, qn)
}

#[test]
fn create_load_unseal() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let (private, public) = create(&mut t, &mut p, srk, &sens(b"pw", b"hello"), &sealed());
    // The sealed data does not appear in the private area.
    assert!(!private.windows(5).any(|w| w == b"hello"));
    let r = run(&mut t, &mut p, &load_cmd(srk, &private, &public));
    let (hs, params) = split(&r, 1);
    assert_eq!(hs[0], 0x8000_0001);
    let tpub = Tpm2bPublic::from_bytes(&public).unwrap().0;
    let mut want_name = vec![0, 0x0B];
    want_name.extend_from_slice(&HashAlg::Sha256.digest(&tpub.to_bytes()));
    let mut rd = Reader::new(&params);
    assert_eq!(take_2b(&mut rd)[2..], want_name[..]);
    let r = unseal(&mut t, &mut p, hs[0], b"pw");
    let (_, data) = split(&r, 0);
    assert_eq!(data, [0, 5, b'h', b'e', b'l', b'l', b'o']);
    // The same blob loads again (a second copy).
    let r = run(&mut t, &mut p, &load_cmd(srk, &private, &public));
    assert_eq!(split(&r, 1).0[0], 0x8000_0002);
}

#[test]
fn read_public_names() {
    let (mut t, mut p) = started();
    let (srk, srk_pub, srk_name) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    let (pb, name, qn) = parse_read_public(&read_public(&mut t, &mut p, srk));
    assert_eq!(pb, srk_pub);
    assert_eq!(name, srk_name);
    let mut srk_qn = vec![0, 0x0B];
    srk_qn.extend_from_slice(
        &HashAlg::Sha256.digest_parts(&[&TpmRh::OWNER.0.to_be_bytes(), &srk_name]),
    );
    assert_eq!(qn, srk_qn);
    let key = create_and_load(&mut t, &mut p, srk, &sens(b"", b""), &ecc_signing());
    let (_, kname, kqn) = parse_read_public(&read_public(&mut t, &mut p, key));
    let mut want = vec![0, 0x0B];
    want.extend_from_slice(&HashAlg::Sha256.digest_parts(&[&srk_qn, &kname]));
    assert_eq!(kqn, want);
    // The Name is what session HMACs use for the object.
    assert_eq!(t.entity_name(key), kname);
    // A sequence object has no public area.
    let seq = Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
        w.tpm2b(b"");
        w.u16(0x000B)
    });
    assert_eq!(run(&mut t, &mut p, &seq).rc, 0);
    assert_eq!(
        read_public(&mut t, &mut p, 0x8000_0002).rc,
        rc(TpmRc::SEQUENCE)
    );
    // Not loaded: REFERENCE_H0; a persistent handle that does not exist: HANDLE.
    assert_eq!(read_public(&mut t, &mut p, 0x8000_0005).rc, 0x910);
    assert_eq!(
        read_public(&mut t, &mut p, 0x8100_0001).rc,
        rc(TpmRc::HANDLE.at_handle(1))
    );
}

#[test]
fn load_refuses_other_parents_and_tampering() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let ek = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_storage()).0;
    let (private, public) = create(&mut t, &mut p, srk, &sens(b"", b"data"), &sealed());
    let integrity = rc(TpmRc::INTEGRITY.at_param(1));
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(ek, &private, &public)).rc,
        integrity
    );
    let mut bad = private.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(srk, &bad, &public)).rc,
        integrity
    );
    bad = private.clone();
    bad[5] ^= 1;
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(srk, &bad, &public)).rc,
        integrity
    );
    // A different (still valid) public area: its Name does not match.
    let mut other = Tpm2bPublic::from_bytes(&public).unwrap().0;
    other.object_attributes = other.object_attributes.with(TpmaObject::NO_DA);
    let other = Tpm2bPublic(other).to_bytes();
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(srk, &private, &other)).rc,
        integrity
    );
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(ek)),
    );
    // Empty private area, and a parent that is not a storage key.
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(srk, &[0, 0], &public)).rc,
        rc(TpmRc::SIZE.at_param(1))
    );
    let (loaded, _) = {
        let r = run(&mut t, &mut p, &load_cmd(srk, &private, &public));
        split(&r, 1)
    };
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(loaded[0], &private, &public)).rc,
        rc(TpmRc::TYPE.at_handle(1))
    );
    // Truncated inPublic.
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &load_cmd(srk, &private, &public[..public.len() - 1])
        )
        .rc,
        rc(TpmRc::INSUFFICIENT.at_param(2))
    );
}

#[test]
fn create_refusals() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let attrs = rc(TpmRc::ATTRIBUTES.at_param(2));
    // Sealed data from the TPM; an asymmetric key from the caller.
    let mut tpm_sealed = sealed();
    tpm_sealed.object_attributes = tpm_sealed
        .object_attributes
        .with(TpmaObject::SENSITIVE_DATA_ORIGIN);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", b"x"), &tpm_sealed),
    );
    assert_eq!(r.rc, attrs);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", b"x"), &ecc_signing()),
    );
    assert_eq!(r.rc, attrs);
    // No data for a sealed object.
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", b""), &sealed()),
    );
    assert_eq!(r.rc, attrs);
    // A storage child that does not match its non-duplicable parent.
    let mut child = ecc_storage();
    child.name_alg = Some(HashAlg::Sha384);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", b""), &child),
    );
    assert_eq!(r.rc, rc(TpmRc::HASH.at_param(2)));
    // userAuth longer than the nameAlg digest (trailing zeros do not count).
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(&[1; 33], b"x"), &sealed()),
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE.at_param(1)));
    let mut padded = vec![1u8; 32];
    padded.push(0);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(&padded, b"x"), &sealed()),
    );
    assert_eq!(r.rc, 0);
    // An HMAC key longer than the hash block.
    let mut hk = hmac_key();
    hk.object_attributes = hk
        .object_attributes
        .without(TpmaObject::SENSITIVE_DATA_ORIGIN);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", &[7; 65]), &hk),
    );
    assert_eq!(r.rc, rc(TpmRc::SIZE));
    // A symmetric key of the wrong size.
    let mut ak = aes_key();
    ak.object_attributes = ak
        .object_attributes
        .without(TpmaObject::SENSITIVE_DATA_ORIGIN);
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(srk, b"", &sens(b"", &[7; 15]), &ak),
    );
    assert_eq!(r.rc, rc(TpmRc::KEY_SIZE));
    // The parent must be a storage key.
    let key = create_and_load(&mut t, &mut p, srk, &sens(b"", b""), &ecc_signing());
    let r = run(
        &mut t,
        &mut p,
        &create_cmd(key, b"", &sens(b"", b"x"), &sealed()),
    );
    assert_eq!(r.rc, rc(TpmRc::TYPE.at_handle(1)));
    // Malformed parameters.
    let c = Cmd::new(TpmCc::CREATE).handle(srk).pw(b"").params(|w| {
        w.u16(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::SIZE.at_param(1)));
    let c = Cmd::new(TpmCc::CREATE).handle(srk).pw(b"").params(|w| {
        sens(b"", b"x").marshal(w);
        let mut b = Tpm2bPublic(sealed()).to_bytes();
        b[9] |= 0x01; // a reserved TPMA_OBJECT bit
        w.bytes(&b);
        w.tpm2b(b"");
        w.u32(0);
    });
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        rc(TpmRc::RESERVED_BITS.at_param(2))
    );
    let c = Cmd::new(TpmCc::CREATE).handle(srk).pw(b"").params(|w| {
        creation_params(w, &sens(b"", b"x"), &sealed());
        w.u8(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::SIZE));
}

#[test]
fn create_output_and_creation_data() {
    let (mut t, mut p) = started();
    let (srk, _, srk_name) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    let c = Cmd::new(TpmCc::CREATE).handle(srk).pw(b"").params(|w| {
        sens(b"", b"").marshal(w);
        Tpm2bPublic(hmac_key()).marshal(w);
        w.tpm2b(b"outside");
        // PCR 0 and 23 of SHA-256, and a SHA-384 bank that is not allocated.
        w.u32(2);
        w.u16(0x000B);
        w.u8(3);
        w.bytes(&[0x01, 0x00, 0x80]);
        w.u16(0x000C);
        w.u8(3);
        w.bytes(&[0x01, 0x00, 0x00]);
    });
    let r = run(&mut t, &mut p, &c);
    let (_, params) = split(&r, 0);
    let mut rd = Reader::new(&params);
    let _private = take_2b(&mut rd);
    let public = Tpm2bPublic::unmarshal(&mut rd).unwrap().0;
    let creation = take_2b(&mut rd);
    let hash = take_2b(&mut rd);
    let tag = rd.u16().unwrap();
    let hierarchy = rd.u32().unwrap();
    let ticket = take_2b(&mut rd);
    assert!(rd.is_empty());
    let TpmuPublicId::KeyedHash(u) = &public.unique else {
        panic!()
    };
    assert_eq!(u.len(), 32);
    let cd = crate::types::sensitive::Tpm2bCreationData::from_bytes(&creation)
        .unwrap()
        .0;
    // The unallocated bank is deselected.
    assert_eq!(cd.pcr_select.0.len(), 2);
    assert_eq!(cd.pcr_select.0[0].select, [1, 0, 0x80]);
    assert_eq!(cd.pcr_select.0[1].select, [0, 0, 0]);
    let pcr0 = t.pcrs.value(HashAlg::Sha256, 0).unwrap().to_vec();
    let pcr23 = t.pcrs.value(HashAlg::Sha256, 23).unwrap().to_vec();
    assert_eq!(
        cd.pcr_digest.as_slice(),
        &HashAlg::Sha256.digest_parts(&[&pcr0, &pcr23])[..]
    );
    assert_eq!(cd.locality, 1);
    assert_eq!(cd.parent_name_alg, TpmAlgId::SHA256);
    assert_eq!(cd.parent_name.as_slice(), &srk_name[..]);
    assert_eq!(cd.outside_info.as_slice(), b"outside");
    assert_eq!(hash[2..], HashAlg::Sha256.digest(&cd.to_bytes())[..]);
    assert_eq!(tag, 0x8021);
    assert_eq!(hierarchy, TpmRh::OWNER.0);
    let name = public.name();
    let want = HashAlg::Sha512.hmac_parts(&t.perm.sh_proof.0, &[&[0x80, 0x21], &name, &hash[2..]]);
    assert_eq!(ticket[2..], want[..]);
}

#[test]
fn unseal_rules_and_authorization() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let sealed_h = create_and_load(&mut t, &mut p, srk, &sens(b"pw", b"s3cret"), &sealed());
    // Wrong password on a DA-protected object: AUTH_FAIL and a counted failure.
    let r = unseal(&mut t, &mut p, sealed_h, b"bad");
    assert_eq!(r.rc, rc(TpmRc::AUTH_FAIL.at_session(1)));
    assert_eq!(t.perm.da.failed_tries, 1);
    assert!(r.nv);
    assert_eq!(unseal(&mut t, &mut p, sealed_h, b"pw").rc, 0);
    // noDA: BAD_AUTH, nothing counted.
    let mut nda = sealed();
    nda.object_attributes = nda.object_attributes.with(TpmaObject::NO_DA);
    let h = create_and_load(&mut t, &mut p, srk, &sens(b"pw", b"x"), &nda);
    assert!(!t.is_da_protected(h));
    assert!(t.is_da_protected(sealed_h));
    assert_eq!(
        unseal(&mut t, &mut p, h, b"bad").rc,
        rc(TpmRc::BAD_AUTH.at_session(1))
    );
    assert_eq!(t.perm.da.failed_tries, 1);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    // Keys cannot be unsealed.
    let hk = create_and_load(&mut t, &mut p, srk, &sens(b"", b""), &hmac_key());
    assert_eq!(
        unseal(&mut t, &mut p, hk, b"").rc,
        rc(TpmRc::ATTRIBUTES.at_handle(1))
    );
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(hk)),
    );
    assert_eq!(
        unseal(&mut t, &mut p, srk, b"").rc,
        rc(TpmRc::TYPE.at_handle(1))
    );
    // userWithAuth CLEAR: the authValue cannot authorize the USER role.
    let mut policy_only = sealed();
    policy_only.object_attributes = policy_only
        .object_attributes
        .without(TpmaObject::USER_WITH_AUTH);
    let h = create_and_load(&mut t, &mut p, srk, &sens(b"", b"x"), &policy_only);
    assert!(!t.auth_value_allowed(h, crate::dispatch::AuthRole::User));
    assert!(t.auth_value_allowed(h, crate::dispatch::AuthRole::Admin));
    assert!(t.auth_value_allowed(sealed_h, crate::dispatch::AuthRole::User));
}

#[test]
fn object_change_auth() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let (private, public) = create(&mut t, &mut p, srk, &sens(b"old", b"data"), &sealed());
    let h = split(&run(&mut t, &mut p, &load_cmd(srk, &private, &public)), 1).0[0];
    let change = |obj: u32, parent: u32, pw: &'static [u8], new: &'static [u8]| {
        Cmd::new(TpmCc::OBJECT_CHANGE_AUTH)
            .handle(obj)
            .handle(parent)
            .pw(pw)
            .params(move |w| w.tpm2b(new))
    };
    let r = run(&mut t, &mut p, &change(h, srk, b"old", b"new"));
    let (_, params) = split(&r, 0);
    let new_private = take_2b(&mut Reader::new(&params));
    assert_eq!(params.len(), new_private.len());
    // The loaded object keeps its authValue; the new blob has the new one.
    assert_eq!(unseal(&mut t, &mut p, h, b"old").rc, 0);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    let h2 = split(
        &run(&mut t, &mut p, &load_cmd(srk, &new_private, &public)),
        1,
    )
    .0[0];
    assert_eq!(
        unseal(&mut t, &mut p, h2, b"old").rc,
        rc(TpmRc::AUTH_FAIL.at_session(1))
    );
    assert_eq!(unseal(&mut t, &mut p, h2, b"new").rc, 0);
    // Not the parent; a newAuth too long; wrong admin password.
    let other = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ecc_storage()).0;
    assert_eq!(
        run(&mut t, &mut p, &change(h2, other, b"new", b"x")).rc,
        rc(TpmRc::TYPE.at_handle(2))
    );
    assert_eq!(
        run(&mut t, &mut p, &change(h2, srk, b"new", &[1; 33])).rc,
        rc(TpmRc::SIZE.at_param(1))
    );
}

#[test]
fn slots_are_shared_and_limited() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let (private, public) = create(&mut t, &mut p, srk, &sens(b"", b"d"), &sealed());
    let seq = Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
        w.tpm2b(b"");
        w.u16(0x000B)
    });
    assert_eq!(run(&mut t, &mut p, &seq).rc, 0);
    assert_eq!(run(&mut t, &mut p, &load_cmd(srk, &private, &public)).rc, 0);
    let full = rc(TpmRc::OBJECT_MEMORY);
    assert_eq!(
        run(&mut t, &mut p, &load_cmd(srk, &private, &public)).rc,
        full
    );
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &create_cmd(srk, b"", &sens(b"", b"d"), &sealed())
        )
        .rc,
        full
    );
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &create_primary_cmd(TpmRh::OWNER.0, &sens(b"", b""), &ecc_storage())
        )
        .rc,
        full
    );
    assert_eq!(run(&mut t, &mut p, &seq).rc, full);
}

fn load_external(
    t: &mut crate::tpm::Tpm,
    p: &mut crate::platform::TestPlatform,
    s: Option<&TpmtSensitive>,
    public: &TpmtPublic,
    hierarchy: u32,
) -> Resp {
    let s = Tpm2bSensitive(s.cloned());
    let public = public.clone();
    let c = Cmd::new(TpmCc::LOAD_EXTERNAL).params(move |w| {
        s.marshal(w);
        Tpm2bPublic(public).marshal(w);
        w.u32(hierarchy);
    });
    run(t, p, &c)
}

/// A keyed-hash object built outside the TPM: (public, sensitive).
fn external_sealed(data: &[u8]) -> (TpmtPublic, TpmtSensitive) {
    let mut public = sealed();
    public.object_attributes = TpmaObject::USER_WITH_AUTH;
    let seed = [4u8; 32];
    let unique = HashAlg::Sha256.digest_parts(&[&seed, data]);
    public.unique = TpmuPublicId::KeyedHash(Tpm2bDigest::new(&unique).unwrap());
    let s = TpmtSensitive {
        auth_value: Tpm2bAuth::new(b"ext\0\0").unwrap(),
        seed_value: Tpm2bDigest::new(&seed).unwrap(),
        sensitive: TpmuSensitiveComposite::Bits(Tpm2bSensitiveData::new(data).unwrap()),
    };
    (public, s)
}

#[test]
fn load_external_objects() {
    let (mut t, mut p) = started();
    let (public, s) = external_sealed(b"outside");
    let r = load_external(&mut t, &mut p, Some(&s), &public, TpmRh::NULL.0);
    assert_eq!(r.rc, 0);
    let h = u32::from_be_bytes(r.body[..4].try_into().unwrap());
    assert_eq!(h, 0x8000_0000);
    let mut name_2b = vec![0, 34];
    name_2b.extend_from_slice(&public.name());
    assert_eq!(r.body[4..], name_2b[..]);
    // The trailing zeros of the authValue do not count.
    let r = unseal(&mut t, &mut p, h, b"ext");
    assert_eq!(split(&r, 0).1[2..], *b"outside");
    let (_, name, qn) = parse_read_public(&read_public(&mut t, &mut p, h));
    assert_eq!(name, public.name());
    assert_eq!(qn, name);
    // Refusals.
    assert_eq!(
        load_external(&mut t, &mut p, Some(&s), &public, TpmRh::OWNER.0).rc,
        rc(TpmRc::HIERARCHY.at_param(3))
    );
    assert_eq!(
        load_external(&mut t, &mut p, Some(&s), &public, TpmRh::LOCKOUT.0).rc,
        rc(TpmRc::VALUE.at_param(3))
    );
    let mut fixed = public.clone();
    fixed.object_attributes = fixed.object_attributes.with(FIXED);
    assert_eq!(
        load_external(&mut t, &mut p, Some(&s), &fixed, TpmRh::NULL.0).rc,
        rc(TpmRc::ATTRIBUTES.at_param(2))
    );
    let (_, other) = external_sealed(b"different");
    assert_eq!(
        load_external(&mut t, &mut p, Some(&other), &public, TpmRh::NULL.0).rc,
        rc(TpmRc::BINDING)
    );
    // Public only: a TPM key's public area in the owner hierarchy.
    let srk = owner_srk(&mut t, &mut p);
    let (_, srk_pub, srk_name, ..) = {
        let (pb, n, _) = parse_read_public(&read_public(&mut t, &mut p, srk));
        ((), pb, n, ())
    };
    let r = load_external(&mut t, &mut p, None, &srk_pub, TpmRh::OWNER.0);
    assert_eq!(r.rc, 0);
    let h = u32::from_be_bytes(r.body[..4].try_into().unwrap());
    let (_, name, _) = parse_read_public(&read_public(&mut t, &mut p, h));
    assert_eq!(name, srk_name);
    // A public-only object is not a parent and cannot be unsealed.
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &create_cmd(h, b"", &sens(b"", b"x"), &sealed())
        )
        .rc,
        rc(TpmRc::TYPE.at_handle(1))
    );
}

#[test]
fn load_external_public_checks() {
    let (mut t, mut p) = started();
    // An ECC point off the curve.
    let mut bad = ecc_signing();
    bad.unique = TpmuPublicId::Ecc(TpmsEccPoint {
        x: Tpm2bEccParameter::new(&[1; 32]).unwrap(),
        y: Tpm2bEccParameter::new(&[2; 32]).unwrap(),
    });
    assert_eq!(
        load_external(&mut t, &mut p, None, &bad, TpmRh::OWNER.0).rc,
        rc(TpmRc::ECC_POINT.at_param(2))
    );
    // A scheme that does not fit the attributes.
    let mut bad_scheme = sealed();
    bad_scheme.parameters = hmac_key().parameters;
    assert_eq!(
        load_external(&mut t, &mut p, None, &bad_scheme, TpmRh::OWNER.0).rc,
        rc(TpmRc::SCHEME.at_param(2))
    );
    // No nameAlg: allowed for LoadExternal; the Name is empty.
    let mut no_name = sealed();
    no_name.name_alg = None;
    let r = load_external(&mut t, &mut p, None, &no_name, TpmRh::NULL.0);
    assert_eq!(r.rc, 0);
    assert_eq!(r.body[4..], [0, 0]);
    // Disabled hierarchy.
    let off = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| {
            w.u32(TpmRh::OWNER.0);
            w.u8(0)
        });
    assert_eq!(run(&mut t, &mut p, &off).rc, 0);
    let (public, _) = external_sealed(b"x");
    assert_eq!(
        load_external(&mut t, &mut p, None, &public, TpmRh::OWNER.0).rc,
        rc(TpmRc::HIERARCHY.at_param(3))
    );
}

fn create_loaded(
    t: &mut crate::tpm::Tpm,
    p: &mut crate::platform::TestPlatform,
    parent: u32,
    s: &crate::types::sensitive::Tpm2bSensitiveCreate,
    template: &[u8],
) -> Resp {
    let s = s.clone();
    let template = template.to_vec();
    run(
        t,
        p,
        &Cmd::new(TpmCc::CREATE_LOADED)
            .handle(parent)
            .pw(b"")
            .params(move |w| {
                s.marshal(w);
                w.tpm2b(&template);
            }),
    )
}

/// CreateLoaded output: (handle, private, public, name).
fn parse_create_loaded(r: &Resp) -> (u32, Vec<u8>, TpmtPublic, Vec<u8>) {
    let (hs, params) = split(r, 1);
    let mut rd = Reader::new(&params);
    let private = take_2b(&mut rd);
    let public = Tpm2bPublic::unmarshal(&mut rd).unwrap().0;
    let name = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    (hs[0], private, public, name)
}

#[test]
fn create_loaded_primary_and_ordinary() {
    let (mut t, mut p) = started();
    let (srk, srk_pub, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &ecc_storage());
    // Under a hierarchy: the same object CreatePrimary makes, no private area.
    let r = create_loaded(
        &mut t,
        &mut p,
        TpmRh::OWNER.0,
        &sens(b"", b""),
        &ecc_storage().to_bytes(),
    );
    let (h, private, public, name) = parse_create_loaded(&r);
    assert_eq!(private, [0, 0]);
    assert_eq!(public, srk_pub);
    assert_eq!(name, public.name());
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    // Under a storage parent: loaded, and the private area loads elsewhere.
    let r = create_loaded(
        &mut t,
        &mut p,
        srk,
        &sens(b"", b"blob"),
        &sealed().to_bytes(),
    );
    let (h, private, public, _) = parse_create_loaded(&r);
    assert_eq!(split(&unseal(&mut t, &mut p, h, b""), 0).1[2..], *b"blob");
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    let r = run(
        &mut t,
        &mut p,
        &load_cmd(srk, &private, &Tpm2bPublic(public).to_bytes()),
    );
    assert_eq!(r.rc, 0);
    // Refusals: not a parent; malformed template; bad attributes.
    let key = split(&r, 1).0[0];
    assert_eq!(
        create_loaded(&mut t, &mut p, key, &sens(b"", b"x"), &sealed().to_bytes()).rc,
        rc(TpmRc::TYPE.at_handle(1))
    );
    let mut tmpl = sealed().to_bytes();
    tmpl.push(0);
    assert_eq!(
        create_loaded(&mut t, &mut p, srk, &sens(b"", b"x"), &tmpl).rc,
        rc(TpmRc::SIZE.at_param(2))
    );
    assert_eq!(
        create_loaded(&mut t, &mut p, srk, &sens(b"", b""), &sealed().to_bytes()).rc,
        rc(TpmRc::ATTRIBUTES.at_param(2))
    );
}

#[test]
fn create_loaded_derived_objects() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let (dp_private, dp_public) =
        create(&mut t, &mut p, srk, &sens(b"", b""), &derivation_parent());
    let dp = split(
        &run(&mut t, &mut p, &load_cmd(srk, &dp_private, &dp_public)),
        1,
    )
    .0[0];
    let derived = |label: &[u8], context: &[u8]| {
        let mut b = ecc_signing().to_bytes();
        // Replace the (empty) unique point with a TPMS_DERIVE.
        b.truncate(b.len() - 4);
        b.extend_from_slice(&(label.len() as u16).to_be_bytes());
        b.extend_from_slice(label);
        b.extend_from_slice(&(context.len() as u16).to_be_bytes());
        b.extend_from_slice(context);
        b
    };
    let mut tmpl = ecc_signing();
    tmpl.object_attributes = tmpl
        .object_attributes
        .without(TpmaObject::SENSITIVE_DATA_ORIGIN);
    let derived_tmpl = |label: &[u8], context: &[u8]| {
        let mut b = derived(label, context);
        let a = tmpl.object_attributes.0.to_be_bytes();
        b[4..8].copy_from_slice(&a);
        b
    };
    let r = create_loaded(
        &mut t,
        &mut p,
        dp,
        &sens(b"", b""),
        &derived_tmpl(b"lbl", b"ctx"),
    );
    let (h1, private, pub1, _) = parse_create_loaded(&r);
    assert_eq!(private, [0, 0]);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h1)),
    );
    let r = create_loaded(
        &mut t,
        &mut p,
        dp,
        &sens(b"", b""),
        &derived_tmpl(b"lbl", b"ctx"),
    );
    let (h2, _, pub2, _) = parse_create_loaded(&r);
    assert_eq!(pub1, pub2);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h2)),
    );
    let r = create_loaded(
        &mut t,
        &mut p,
        dp,
        &sens(b"", b""),
        &derived_tmpl(b"lbl", b"other"),
    );
    let (h3, _, pub3, _) = parse_create_loaded(&r);
    assert_ne!(pub1.unique, pub3.unique);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h3)),
    );
    // The context may come from inSensitive.data instead.
    let mut derive = vec![0, 3];
    derive.extend_from_slice(b"lbl");
    derive.extend_from_slice(&[0, 3]);
    derive.extend_from_slice(b"ctx");
    let r = create_loaded(
        &mut t,
        &mut p,
        dp,
        &sens(b"", &derive),
        &derived_tmpl(b"", b""),
    );
    let (h4, _, pub4, _) = parse_create_loaded(&r);
    assert_eq!(pub4, pub1);
    run(
        &mut t,
        &mut p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h4)),
    );
    // sensitiveDataOrigin SET: ATTRIBUTES (no position, as the reference does).
    assert_eq!(
        create_loaded(&mut t, &mut p, dp, &sens(b"", b""), &derived(b"l", b"c")).rc,
        rc(TpmRc::ATTRIBUTES)
    );
    // No RSA derivation.
    let mut rsa = rsa_storage();
    rsa.object_attributes = TpmaObject::FIXED_TPM
        .with(TpmaObject::FIXED_PARENT)
        .with(TpmaObject::USER_WITH_AUTH)
        .with(TpmaObject::DECRYPT);
    rsa.parameters = TpmuPublicParms::Rsa(TpmsRsaParms {
        symmetric: TpmtSymDefObject::Null,
        scheme: TpmtRsaScheme::Null,
        key_bits: 2048,
        exponent: 0,
    });
    let mut b = rsa.to_bytes();
    b.truncate(b.len() - 2);
    b.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        create_loaded(&mut t, &mut p, dp, &sens(b"", b""), &b).rc,
        rc(TpmRc::TYPE.at_param(2))
    );
}

/// Part 1 §19.8.6: after a DA-protected authorization, losing power without
/// TPM2_Shutdown costs one failure at the next Startup; an orderly shutdown
/// does not.
#[test]
fn unorderly_shutdown_after_da_use_counts_a_failure() {
    let (mut t, mut p) = started();
    let srk = owner_srk(&mut t, &mut p);
    let _ = create_and_load(&mut t, &mut p, srk, &sens(b"pw", b"s3cret"), &sealed());
    // Only a DA-protected authorization arms the penalty: the owner's does not.
    t.power_off();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(t.perm.da.failed_tries, 0);
    let srk = owner_srk(&mut t, &mut p);
    let h2 = create_and_load(&mut t, &mut p, srk, &sens(b"pw", b"s3cret"), &sealed());
    let r = unseal(&mut t, &mut p, h2, b"pw");
    assert_eq!(r.rc, 0);
    assert!(r.nv, "the first DA-protected authorization is made durable");
    assert!(!unseal(&mut t, &mut p, h2, b"pw").nv);
    t.power_off();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(t.perm.da.failed_tries, 1);
    // The mark is cleared by Startup, and an orderly shutdown costs nothing.
    let srk = owner_srk(&mut t, &mut p);
    let h3 = create_and_load(&mut t, &mut p, srk, &sens(b"pw", b"s3cret"), &sealed());
    assert_eq!(unseal(&mut t, &mut p, h3, b"pw").rc, 0);
    let shutdown = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0));
    assert_eq!(run(&mut t, &mut p, &shutdown).rc, 0);
    t.power_off();
    t.power_on(&mut p);
    assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
    assert_eq!(t.perm.da.failed_tries, 1);
}
