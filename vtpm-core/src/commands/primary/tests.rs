//! TPM2_CreatePrimary: outputs, determinism per hierarchy and across restarts and
//! seed changes, and the refusals.

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::objects::create::{generate, primary_rng};
use crate::objects::testkit::*;
use crate::platform::TestPlatform;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmRh};
use crate::types::public::*;
use crate::types::sensitive::{Tpm2bCreationData, TpmsSensitiveCreate};

fn rc(r: TpmRc) -> u32 {
    r.value()
}

fn flush(t: &mut Tpm, p: &mut TestPlatform, h: u32) {
    let r = run(
        t,
        p,
        &Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h)),
    );
    assert_eq!(r.rc, 0);
}

/// The public area CreatePrimary returns for `tmpl` in `hierarchy` (flushed after).
fn primary_public(
    t: &mut Tpm,
    p: &mut TestPlatform,
    hierarchy: u32,
    tmpl: &TpmtPublic,
) -> TpmtPublic {
    let (h, public, _) = primary(t, p, hierarchy, tmpl);
    flush(t, p, h);
    public
}

/// Shutdown(CLEAR), _TPM_Init, Startup(CLEAR): a TPM Reset.
fn reset(t: &mut Tpm, p: &mut TestPlatform) {
    let sd = Cmd::new(TpmCc::SHUTDOWN).params(|w| w.u16(0));
    assert_eq!(run(t, p, &sd).rc, 0);
    t.power_on(p);
    assert_eq!(run(t, p, &startup_clear()).rc, 0);
}

#[test]
fn outputs() {
    let (mut t, mut p) = started();
    let r = run(
        &mut t,
        &mut p,
        &create_primary_cmd(TpmRh::OWNER.0, &sens(b"pw", b""), &ecc_storage()),
    );
    let (hs, params) = split(&r, 1);
    assert_eq!(hs, [0x8000_0000]);
    let mut rd = Reader::new(&params);
    let public = Tpm2bPublic::unmarshal(&mut rd).unwrap().0;
    let creation = Tpm2bCreationData::unmarshal(&mut rd).unwrap().0;
    let hash = take_2b(&mut rd);
    assert_eq!(rd.u16().unwrap(), 0x8021);
    assert_eq!(rd.u32().unwrap(), TpmRh::OWNER.0);
    let ticket = take_2b(&mut rd);
    let name = take_2b(&mut rd)[2..].to_vec();
    assert!(rd.is_empty());
    // The template came back with the public point filled in.
    let TpmuPublicId::Ecc(point) = &public.unique else {
        panic!()
    };
    assert_eq!((point.x.len(), point.y.len()), (32, 32));
    assert_eq!(public.object_attributes, ecc_storage().object_attributes);
    assert_eq!(name, public.name());
    // Creation data of a primary: the hierarchy is the parent.
    assert!(creation.pcr_select.0.is_empty());
    assert_eq!(
        creation.pcr_digest.as_slice(),
        &HashAlg::Sha256.digest(b"")[..]
    );
    assert_eq!(creation.locality, 1);
    assert_eq!(creation.parent_name_alg, crate::types::TpmAlgId::NULL);
    assert_eq!(creation.parent_name.as_slice(), &[0x40, 0, 0, 1]);
    assert_eq!(creation.parent_qualified_name.as_slice(), &[0x40, 0, 0, 1]);
    assert_eq!(hash[2..], HashAlg::Sha256.digest(&creation.to_bytes())[..]);
    let want = HashAlg::Sha512.hmac_parts(&t.perm.sh_proof.0, &[&[0x80, 0x21], &name, &hash[2..]]);
    assert_eq!(ticket[2..], want[..]);
    // The key is usable as a parent with the authValue given.
    let h = hs[0];
    let c = create_cmd(h, b"pw", &sens(b"", b"x"), &sealed());
    assert_eq!(run(&mut t, &mut p, &c).rc, 0);
    let c = create_cmd(h, b"bad", &sens(b"", b"x"), &sealed());
    assert_eq!(
        run(&mut t, &mut p, &c).rc,
        rc(TpmRc::BAD_AUTH.at_session(1))
    );
}

#[test]
fn the_command_uses_the_documented_derivation() {
    let (mut t, mut p) = started();
    let tmpl = aes_storage();
    let public = primary_public(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &tmpl);
    let mut want = tmpl.clone();
    let mut rng = primary_rng(&t.perm.eps.0, &tmpl, b"").unwrap();
    generate(&mut want, &TpmsSensitiveCreate::default(), &mut rng).unwrap();
    assert_eq!(public, want);
}

#[test]
fn deterministic_per_hierarchy_and_seed() {
    let (mut t, mut p) = started();
    let tmpl = ecc_storage();
    let owner = primary_public(&mut t, &mut p, TpmRh::OWNER.0, &tmpl);
    assert_eq!(primary_public(&mut t, &mut p, TpmRh::OWNER.0, &tmpl), owner);
    let endorsement = primary_public(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &tmpl);
    let platform = primary_public(&mut t, &mut p, TpmRh::PLATFORM.0, &tmpl);
    let null = primary_public(&mut t, &mut p, TpmRh::NULL.0, &tmpl);
    for (a, b) in [
        (&owner, &endorsement),
        (&owner, &platform),
        (&endorsement, &platform),
        (&owner, &null),
    ] {
        assert_ne!(a.unique, b.unique);
    }
    // The template's unique field and the sensitive data select another key.
    let mut ek_style = tmpl.clone();
    ek_style.unique = TpmuPublicId::Ecc(TpmsEccPoint {
        x: Tpm2bEccParameter::new(&[0; 32]).unwrap(),
        y: Tpm2bEccParameter::new(&[0; 32]).unwrap(),
    });
    let e2 = primary_public(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &ek_style);
    assert_ne!(e2.unique, endorsement.unique);
    let (h, with_data, _) = {
        let r = run(
            &mut t,
            &mut p,
            &create_primary_cmd(TpmRh::ENDORSEMENT.0, &sens(b"", b"extra"), &tmpl),
        );
        let (hs, params) = split(&r, 1);
        (
            hs[0],
            Tpm2bPublic::unmarshal(&mut Reader::new(&params)).unwrap().0,
            (),
        )
    };
    flush(&mut t, &mut p, h);
    assert_ne!(with_data.unique, endorsement.unique);

    // A TPM Reset keeps the primary seeds but makes a new NULL seed.
    reset(&mut t, &mut p);
    assert_eq!(primary_public(&mut t, &mut p, TpmRh::OWNER.0, &tmpl), owner);
    assert_ne!(
        primary_public(&mut t, &mut p, TpmRh::NULL.0, &tmpl).unique,
        null.unique
    );

    // Saved and restored permanent state: the same keys.
    let saved = t.permanent_state();
    let mut t2 = Tpm::from_permanent_state(&saved).unwrap();
    let mut p2 = TestPlatform::new(99);
    t2.power_on(&mut p2);
    assert_eq!(run(&mut t2, &mut p2, &startup_clear()).rc, 0);
    assert_eq!(
        primary_public(&mut t2, &mut p2, TpmRh::OWNER.0, &tmpl),
        owner
    );
    assert_eq!(
        primary_public(&mut t2, &mut p2, TpmRh::ENDORSEMENT.0, &tmpl),
        endorsement
    );
    // A different TPM has different seeds.
    let (mut t3, mut p3) = {
        let mut p = TestPlatform::new(8);
        let mut t = Tpm::manufacture(&mut p);
        t.power_on(&mut p);
        assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
        (t, p)
    };
    assert_ne!(
        primary_public(&mut t3, &mut p3, TpmRh::OWNER.0, &tmpl).unique,
        owner.unique
    );
}

#[test]
fn seed_changes_and_flushes() {
    let (mut t, mut p) = started();
    let tmpl = ecc_storage();
    let (eh, endorsement, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &tmpl);
    let (ph, platform, _) = primary(&mut t, &mut p, TpmRh::PLATFORM.0, &tmpl);
    let (oh, owner, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, &tmpl);
    let platform_cmd = |cc: TpmCc| Cmd::new(cc).handle(TpmRh::PLATFORM.0).pw(b"");
    // ChangeEPS: a new endorsement key; loaded endorsement objects are flushed.
    assert_eq!(run(&mut t, &mut p, &platform_cmd(TpmCc::CHANGE_EPS)).rc, 0);
    assert!(t.key(eh).is_none() && t.key(ph).is_some() && t.key(oh).is_some());
    assert_ne!(
        primary_public(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &tmpl).unique,
        endorsement.unique
    );
    // ChangePPS: likewise for the platform hierarchy.
    assert_eq!(run(&mut t, &mut p, &platform_cmd(TpmCc::CHANGE_PPS)).rc, 0);
    assert!(t.key(ph).is_none() && t.key(oh).is_some());
    assert_ne!(
        primary_public(&mut t, &mut p, TpmRh::PLATFORM.0, &tmpl).unique,
        platform.unique
    );
    // Clear: a new storage key; owner objects are flushed.
    assert_eq!(run(&mut t, &mut p, &platform_cmd(TpmCc::CLEAR)).rc, 0);
    assert!(t.key(oh).is_none());
    assert_ne!(
        primary_public(&mut t, &mut p, TpmRh::OWNER.0, &tmpl).unique,
        owner.unique
    );
    // Disabling a hierarchy flushes its objects too.
    let (eh, _, _) = primary(&mut t, &mut p, TpmRh::ENDORSEMENT.0, &tmpl);
    let off = Cmd::new(TpmCc::HIERARCHY_CONTROL)
        .handle(TpmRh::PLATFORM.0)
        .pw(b"")
        .params(|w| {
            w.u32(TpmRh::ENDORSEMENT.0);
            w.u8(0)
        });
    assert_eq!(run(&mut t, &mut p, &off).rc, 0);
    assert!(t.key(eh).is_none());
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &create_primary_cmd(TpmRh::ENDORSEMENT.0, &sens(b"", b""), &tmpl)
        )
        .rc,
        rc(TpmRc::HIERARCHY.at_handle(1))
    );
}

#[test]
fn null_hierarchy_ticket() {
    let (mut t, mut p) = started();
    let r = run(
        &mut t,
        &mut p,
        &create_primary_cmd(TpmRh::NULL.0, &sens(b"", b""), &hmac_key()),
    );
    let (_, params) = split(&r, 1);
    let mut rd = Reader::new(&params);
    let _public = take_2b(&mut rd);
    let _creation = take_2b(&mut rd);
    let hash = take_2b(&mut rd);
    assert_eq!(rd.u16().unwrap(), 0x8021);
    assert_eq!(rd.u32().unwrap(), TpmRh::NULL.0);
    let ticket = take_2b(&mut rd);
    let name = take_2b(&mut rd)[2..].to_vec();
    let want =
        HashAlg::Sha512.hmac_parts(&t.reset.null_proof.0, &[&[0x80, 0x21], &name, &hash[2..]]);
    assert_eq!(ticket[2..], want[..]);
}

#[test]
fn refusals() {
    let (mut t, mut p) = started();
    let cp = |h: u32, s: &[u8], tmpl: &TpmtPublic| create_primary_cmd(h, &sens(s, b""), tmpl);
    // Attribute rules (parameter 2).
    let mut bad = ecc_storage();
    bad.object_attributes = STORAGE.without(TpmaObject::FIXED_PARENT);
    assert_eq!(
        run(&mut t, &mut p, &cp(TpmRh::OWNER.0, b"", &bad)).rc,
        rc(TpmRc::ATTRIBUTES.at_param(2))
    );
    let mut no_sym = ecc_storage();
    no_sym.parameters = TpmuPublicParms::Ecc(TpmsEccParms {
        symmetric: TpmtSymDefObject::Null,
        scheme: TpmtEccScheme::Null,
        curve_id: TpmEccCurve::NIST_P256,
        kdf: TpmtKdfScheme::Null,
    });
    assert_eq!(
        run(&mut t, &mut p, &cp(TpmRh::OWNER.0, b"", &no_sym)).rc,
        rc(TpmRc::SYMMETRIC.at_param(2))
    );
    // A sealed primary needs data.
    assert_eq!(
        run(&mut t, &mut p, &cp(TpmRh::OWNER.0, b"", &sealed())).rc,
        rc(TpmRc::ATTRIBUTES.at_param(2))
    );
    // userAuth too long for SHA-256.
    assert_eq!(
        run(
            &mut t,
            &mut p,
            &cp(TpmRh::OWNER.0, &[9; 33], &ecc_storage())
        )
        .rc,
        rc(TpmRc::SIZE.at_param(1))
    );
    // Handles: lockout is not a hierarchy for this command.
    assert_eq!(
        run(&mut t, &mut p, &cp(TpmRh::LOCKOUT.0, b"", &ecc_storage())).rc,
        rc(TpmRc::VALUE.at_handle(1))
    );
    // Unmarshalling: empty TPM2B_PUBLIC, NULL nameAlg, empty inSensitive.
    let raw = |f: fn(&mut crate::marshal::Writer)| {
        Cmd::new(TpmCc::CREATE_PRIMARY)
            .handle(TpmRh::OWNER.0)
            .pw(b"")
            .params(f)
    };
    let c = raw(|w| {
        sens(b"", b"").marshal(w);
        w.u16(0);
        w.tpm2b(b"");
        w.u32(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::SIZE.at_param(2)));
    let c = raw(|w| {
        sens(b"", b"").marshal(w);
        let mut b = Tpm2bPublic(ecc_storage()).to_bytes();
        b[4..6].copy_from_slice(&[0, 0x10]);
        w.bytes(&b);
        w.tpm2b(b"");
        w.u32(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::HASH.at_param(2)));
    let c = raw(|w| {
        w.u16(0);
        Tpm2bPublic(ecc_storage()).marshal(w);
        w.tpm2b(b"");
        w.u32(0);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::SIZE.at_param(1)));
    let c = raw(|w| {
        sens(b"", b"").marshal(w);
        Tpm2bPublic(ecc_storage()).marshal(w);
        w.tpm2b(b"");
        w.u32(9);
    });
    assert_eq!(run(&mut t, &mut p, &c).rc, rc(TpmRc::SIZE.at_param(4)));
    // The owner's authorization is checked.
    let auth = Cmd::new(TpmCc::HIERARCHY_CHANGE_AUTH)
        .handle(TpmRh::OWNER.0)
        .pw(b"")
        .params(|w| w.tpm2b(b"owner"));
    assert_eq!(run(&mut t, &mut p, &auth).rc, 0);
    assert_eq!(
        run(&mut t, &mut p, &cp(TpmRh::OWNER.0, b"", &ecc_storage())).rc,
        rc(TpmRc::BAD_AUTH.at_session(1))
    );
    let ok = Cmd::new(TpmCc::CREATE_PRIMARY)
        .handle(TpmRh::OWNER.0)
        .pw(b"owner")
        .params(|w| creation_params(w, &sens(b"", b""), &ecc_storage()));
    assert_eq!(run(&mut t, &mut p, &ok).rc, 0);
}
