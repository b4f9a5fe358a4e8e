//! ECC: deterministic generation pinned by vectors computed independently
//! (Python `hmac` for the stream, the `cryptography` package for d·G), ECDSA
//! sign/verify both ways, verification of signatures made by the `openssl` CLI,
//! ECDH agreement and an `openssl pkeyutl -derive` shared secret, and the
//! point/scalar checks.

use super::*;
use alloc::vec;

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pt(x: &str, y: &str) -> EccPoint {
    EccPoint { x: h(x), y: h(y) }
}

fn counter_rng() -> impl FnMut(&mut [u8]) {
    let mut n = 0u8;
    move |b: &mut [u8]| {
        for x in b {
            n = n.wrapping_add(17);
            *x = n;
        }
    }
}

// openssl ecparam -genkey; openssl pkeyutl -sign over SHA-256("vtpm ecdsa vector")
const P256_D: &str = "1f7995a549f75381333c4d5965a91ada85faf3d37c201b3fdf992dbaf81378d5";
const P256_X: &str = "3c66077a3b2d811a693d4f4f042f358873e13b17fa2fb28f8942efc7d13695cb";
const P256_Y: &str = "93fbe730bc8e039f24337b0b024558a2fd53d458247ab59633b7f3d77f7ce9f0";
const P256_DIGEST: &str = "b82dfb8978f159a79ba9bf4e3adea61d3de0c364f383fc96ca4d809bab0f6bd1";
// r has 31 significant octets: openssl's DER drops the leading zero.
const P256_R: &str = "04760aa6551da02cc95be9596cec3db7f9014291dcbd80b476cdecc6d0ca40";
const P256_S: &str = "e2f2fee9a17e67b0aa9db35ab56ee80d31979e78555d3d46eae3ba86044603d3";

const P384_D: &str = "e4e9bdc79bd156fe91b43eadceb0b3be36f1ae7a7698d4f8\
                      cff659ba6f0246a707999132c74e61decdf8a2b8f04cf9fc";
const P384_X: &str = "e58fda5849366dbd00d8209a6940958c0cebb8b279cce2de\
                      86c0f2df876e106f5fe665e0a1f214a2cb454b5bbaa7e717";
const P384_Y: &str = "9125422132899c4cc1e9eded8e86e194fb4298af5c5a4ead\
                      15059478decba2cdf3044695cb74a56520a0f77ebbf38001";
const P384_DIGEST: &str = "408cd3a655bcfcce0ad1b13fd7a8ac86be67d2e960d7580f\
                           6aef57089a0dc1da86f50d292dccd0346537d8d01c4d4776";
const P384_R: &str = "4e1628b0fa9dc29db8a579e6e7d62e08a73b6748e3436c21\
                      616f1cd457fe34af69325e8df1913bc94d704871bd42855b";
const P384_S: &str = "3ffb15ee87c3b7eab6b6a5e8e3510ba05f4b9c9b7c8e159b\
                      141761a224aa26120ad4b7e3b8b2f35fb991be0c4a2ca843";

#[test]
fn curve_ids() {
    assert_eq!(EccCurve::from_id(3), Some(EccCurve::NistP256));
    assert_eq!(EccCurve::from_id(4), Some(EccCurve::NistP384));
    for id in [0u16, 1, 2, 5, 0x10, 0x20] {
        assert_eq!(EccCurve::from_id(id), None);
    }
    for c in [EccCurve::NistP256, EccCurve::NistP384] {
        assert_eq!(EccCurve::from_id(c.id()), Some(c));
        assert_eq!(c.key_bytes() * 8, usize::from(c.key_bits()));
    }
}

#[test]
fn generation_is_pinned() {
    let cases = [
        (
            EccCurve::NistP256,
            "58af2d95663a9a77ab5163925a02805fd7001c8f53c04d6991ae980e41b4e5a0",
            "832acd6dbb46b93bbd0b6e0b76fc750c33617f40c76b596494e34445162406e9",
            "1498073e100d6b42e9b2e1cea5e56581a1ca343317c28cb3a6982d8482294bc6",
        ),
        (
            EccCurve::NistP384,
            "dd3b36919c3c5efa7a6c0b10363a5ec8d5448517f4c93fa1\
             a02769bf0fbd0ad7c870fe2399b1448aa5ff47de863f3d7c",
            "435288279237c6f3495363febc09eb5d9328e015020d3515\
             d54b108c566d647770769731e328f08f792fed3f2c15427e",
            "f8ffcfef7b9452e5a273b61dc5e8cb6afe962e56b6b0cd51\
             acbf5effd265f773a4583e435ba93d946d3dd5014882109b",
        ),
    ];
    for (curve, d, x, y) in cases {
        let mut rng = KdfRng::new(HashAlg::Sha256, b"ecc seed", b"ECC TEST", b"template");
        let (key, public) = ecc_generate(curve, &mut rng).unwrap();
        assert_eq!(*key.to_bytes(), h(d), "{curve:?}");
        assert_eq!(public, pt(x, y), "{curve:?}");
        assert_eq!(ecc_public(curve, &key), public);
        assert_eq!(key.curve(), curve);
        // Rebuilt from its scalar, the key is the same.
        let again = ecc_private_from_bytes(curve, &key.to_bytes()).unwrap();
        assert_eq!(ecc_public(curve, &again), public);
    }
}

#[test]
fn public_point_of_openssl_keys() {
    let k = ecc_private_from_bytes(EccCurve::NistP256, &h(P256_D)).unwrap();
    assert_eq!(ecc_public(EccCurve::NistP256, &k), pt(P256_X, P256_Y));
    let k = ecc_private_from_bytes(EccCurve::NistP384, &h(P384_D)).unwrap();
    assert_eq!(ecc_public(EccCurve::NistP384, &k), pt(P384_X, P384_Y));
    // A key asked for on the wrong curve gives nothing.
    assert_eq!(ecc_public(EccCurve::NistP256, &k), EccPoint::default());
}

#[test]
fn verifies_openssl_signatures() {
    let q = pt(P256_X, P256_Y);
    let (d, r, s) = (h(P256_DIGEST), h(P256_R), h(P256_S));
    assert_eq!(ecdsa_verify(EccCurve::NistP256, &q, &d, &r, &s), Ok(()));
    // With r carried at full width (a leading zero octet) it is the same.
    let r32 = [vec![0u8], r.clone()].concat();
    assert_eq!(ecdsa_verify(EccCurve::NistP256, &q, &d, &r32, &s), Ok(()));
    let mut bad = d.clone();
    bad[31] ^= 1;
    assert_eq!(
        ecdsa_verify(EccCurve::NistP256, &q, &bad, &r, &s),
        Err(TpmRc::SIGNATURE)
    );
    assert_eq!(
        ecdsa_verify(EccCurve::NistP256, &q, &d, &s, &r),
        Err(TpmRc::SIGNATURE)
    );

    let q = pt(P384_X, P384_Y);
    let (d, r, s) = (h(P384_DIGEST), h(P384_R), h(P384_S));
    assert_eq!(ecdsa_verify(EccCurve::NistP384, &q, &d, &r, &s), Ok(()));
    assert_eq!(
        ecdsa_verify(EccCurve::NistP384, &q, &d[..47], &r, &s),
        Err(TpmRc::SIGNATURE)
    );
}

#[test]
fn sign_then_verify_every_hash_on_both_curves() {
    let mut rng = counter_rng();
    for (curve, d) in [(EccCurve::NistP256, P256_D), (EccCurve::NistP384, P384_D)] {
        let key = ecc_private_from_bytes(curve, &h(d)).unwrap();
        let q = ecc_public(curve, &key);
        for hash in HashAlg::ALL {
            let digest = hash.digest(b"message");
            let (r, s) = ecdsa_sign(curve, &key, hash, &digest, &mut rng).unwrap();
            assert_eq!((r.len(), s.len()), (curve.key_bytes(), curve.key_bytes()));
            assert_eq!(
                ecdsa_verify(curve, &q, &digest, &r, &s),
                Ok(()),
                "{curve:?} {hash:?}"
            );
            // Fresh randomness gives a different signature that also verifies.
            let (r2, s2) = ecdsa_sign(curve, &key, hash, &digest, &mut rng).unwrap();
            assert_ne!(r, r2);
            assert_eq!(ecdsa_verify(curve, &q, &digest, &r2, &s2), Ok(()));
            let other = hash.digest(b"messagf");
            assert_eq!(
                ecdsa_verify(curve, &q, &other, &r, &s),
                Err(TpmRc::SIGNATURE)
            );
        }
        // FIPS 186 truncation: a digest longer than the order counts by its
        // leftmost octets only.
        let long = HashAlg::Sha512.digest(b"x");
        let (r, s) = ecdsa_sign(curve, &key, HashAlg::Sha512, &long, &mut rng).unwrap();
        let n = curve.key_bytes();
        let mut changed_tail = long.clone();
        changed_tail[63] ^= 0xff;
        if n < 64 {
            assert_eq!(ecdsa_verify(curve, &q, &changed_tail, &r, &s), Ok(()));
        }
        assert_eq!(ecdsa_verify(curve, &q, &long[..n], &r, &s), Ok(()));
        // An empty digest is the integer 0 and still signs.
        let (r, s) = ecdsa_sign(curve, &key, HashAlg::Sha256, &[], &mut rng).unwrap();
        assert_eq!(ecdsa_verify(curve, &q, &[], &r, &s), Ok(()));
    }
}

#[test]
fn verify_rejects_bad_inputs() {
    let q = pt(P256_X, P256_Y);
    let d = h(P256_DIGEST);
    let s = h(P256_S);
    let n = h("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    for r in [vec![], vec![0u8; 32], n.clone(), vec![1u8; 33]] {
        assert_eq!(
            ecdsa_verify(EccCurve::NistP256, &q, &d, &r, &s),
            Err(TpmRc::SIGNATURE)
        );
    }
    let mut off = q.clone();
    off.y[31] ^= 1;
    assert_eq!(
        ecdsa_verify(EccCurve::NistP256, &off, &d, &h(P256_R), &s),
        Err(TpmRc::ECC_POINT)
    );
}

#[test]
fn point_check() {
    let q = pt(P256_X, P256_Y);
    assert_eq!(ecc_point_check(EccCurve::NistP256, &q), Ok(()));
    // The P-256 point is not on P-384.
    assert_eq!(
        ecc_point_check(EccCurve::NistP384, &q),
        Err(TpmRc::ECC_POINT)
    );
    assert_eq!(
        ecc_point_check(EccCurve::NistP384, &pt(P384_X, P384_Y)),
        Ok(())
    );
    let mut off = q.clone();
    off.x[0] ^= 0x80;
    let p = h("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    for bad in [
        off,
        EccPoint::default(),
        EccPoint {
            x: q.x.clone(),
            y: vec![],
        },
        // Coordinates at or above the field prime.
        EccPoint {
            x: p.clone(),
            y: q.y.clone(),
        },
        // Too long with a non-zero leading octet.
        EccPoint {
            x: [vec![1u8], q.x.clone()].concat(),
            y: q.y.clone(),
        },
    ] {
        assert_eq!(
            ecc_point_check(EccCurve::NistP256, &bad),
            Err(TpmRc::ECC_POINT)
        );
    }
    // Extra leading zeros are fine.
    let padded = EccPoint {
        x: [vec![0u8, 0], q.x.clone()].concat(),
        y: q.y.clone(),
    };
    assert_eq!(ecc_point_check(EccCurve::NistP256, &padded), Ok(()));
}

#[test]
fn private_scalar_range() {
    let n = h("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut n_minus_1 = n.clone();
    n_minus_1[31] -= 1;
    for bad in [
        vec![],
        vec![0u8; 32],
        n.clone(),
        vec![0xff; 32],
        vec![1u8; 33],
    ] {
        assert_eq!(
            ecc_private_from_bytes(EccCurve::NistP256, &bad).unwrap_err(),
            TpmRc::KEY_SIZE
        );
    }
    for good in [vec![1u8], n_minus_1, [vec![0u8], h(P256_D)].concat()] {
        assert!(ecc_private_from_bytes(EccCurve::NistP256, &good).is_ok());
    }
    // Short scalars come back at full width.
    let k = ecc_private_from_bytes(EccCurve::NistP384, &[7]).unwrap();
    let mut want = vec![0u8; 48];
    want[47] = 7;
    assert_eq!(*k.to_bytes(), want);
}

#[test]
fn ecdh_agrees_and_matches_openssl() {
    // openssl pkeyutl -derive with the P-256 key above and this peer.
    let peer = pt(
        "af61bc674ca1e5379be81689b8278dce9207c0aa2c81eac3e648d7d50da1253e",
        "9ca7ad2be1fc2890b30ae48d90a95fb1fa769babfb040f5496dc6a796f80fa54",
    );
    let k = ecc_private_from_bytes(EccCurve::NistP256, &h(P256_D)).unwrap();
    let z = ecdh(EccCurve::NistP256, &k, &peer).unwrap();
    assert_eq!(
        z.x,
        h("9abee3eae5115496a22ba30e58b7dec34698bbc2080fb76d3514151b2e1c163f")
    );
    assert_eq!(ecc_point_check(EccCurve::NistP256, &z), Ok(()));

    let mut rng = counter_rng();
    for curve in [EccCurve::NistP256, EccCurve::NistP384] {
        let mut s = KdfRng::new(
            HashAlg::Sha256,
            b"static",
            b"ECDH",
            &[curve.key_bits() as u8],
        );
        let (a, qa) = ecc_generate(curve, &mut s).unwrap();
        let (b, qb) = ecc_generate(curve, &mut s).unwrap();
        assert_ne!(qa, qb);
        let zab = ecdh(curve, &a, &qb).unwrap();
        assert_eq!(zab, ecdh(curve, &b, &qa).unwrap(), "{curve:?}");
        // Ephemeral: the holder of the static key recomputes Z from Q_e.
        let (qe, ze) = ecdh_ephemeral(curve, &qa, &mut rng).unwrap();
        assert_eq!(ecc_point_check(curve, &qe), Ok(()));
        assert_eq!(ecdh(curve, &a, &qe).unwrap(), ze);
        assert_eq!(ze.x.len(), curve.key_bytes());
        // Bad peers.
        let mut off = qb.clone();
        off.y[0] ^= 1;
        assert_eq!(ecdh(curve, &a, &off), Err(TpmRc::ECC_POINT));
        assert_eq!(
            ecdh_ephemeral(curve, &off, &mut rng).map(|_| ()),
            Err(TpmRc::ECC_POINT)
        );
    }
    // A key used with the other curve's identifier.
    assert_eq!(ecdh(EccCurve::NistP384, &k, &peer), Err(TpmRc::CURVE));
    assert_eq!(
        ecdsa_sign(EccCurve::NistP384, &k, HashAlg::Sha256, &[0; 32], &mut rng),
        Err(TpmRc::CURVE)
    );
}
