//! TPM2_ECC_Parameters: values checked against the RustCrypto curve arithmetic,
//! and refusals.

use alloc::vec::Vec;

use crate::crypto::ecc::{ecc_point_check, ecc_private_from_bytes, ecc_public, EccCurve, EccPoint};
use crate::marshal::Reader;
use crate::objects::testkit::take_2b;
use crate::rc::TpmRc;
use crate::testutil::*;
use crate::types::constants::TpmCc;

/// a - b for big-endian numbers of equal length with a >= b.
fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = a.to_vec();
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

fn params_cmd(curve: u16) -> Cmd {
    Cmd::new(TpmCc::ECC_PARAMETERS).params(move |w| w.u16(curve))
}

#[test]
fn curve_parameters_match_the_curve_arithmetic() {
    for (curve, id, bytes) in [
        (EccCurve::NistP256, 3u16, 32usize),
        (EccCurve::NistP384, 4, 48),
    ] {
        let (mut t, mut p) = started();
        let r = run(&mut t, &mut p, &params_cmd(id));
        assert_eq!(r.rc, 0, "{:#x}", r.rc);
        let mut rd = Reader::new(&r.body);
        assert_eq!(rd.u16().unwrap(), id);
        assert_eq!(rd.u16().unwrap() as usize, bytes * 8);
        assert_eq!(rd.u16().unwrap(), 0x0010); // kdf NULL
        assert_eq!(rd.u16().unwrap(), 0x0010); // sign NULL
        let v: Vec<Vec<u8>> = (0..7).map(|_| take_2b(&mut rd)[2..].to_vec()).collect();
        assert!(rd.is_empty());
        let (fp, a, _b, gx, gy, n, h) = (&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
        for x in [fp, a, gx, gy, n] {
            assert_eq!(x.len(), bytes);
        }
        // a = p - 3 for the NIST curves.
        let mut three = alloc::vec![0u8; bytes];
        three[bytes - 1] = 3;
        assert_eq!(sub(fp, &three), *a);
        assert_eq!(h, &[1]);
        // G is 1·G as RustCrypto computes it.
        let mut one = alloc::vec![0u8; bytes];
        one[bytes - 1] = 1;
        let g = ecc_public(curve, &ecc_private_from_bytes(curve, &one).unwrap());
        assert_eq!((&g.x, &g.y), (gx, gy));
        // -G = (gX, p - gY) is on the curve: checks p.
        let neg = EccPoint {
            x: gx.clone(),
            y: sub(fp, gy),
        };
        ecc_point_check(curve, &neg).unwrap();
        // n is the order: n is not a valid scalar, n - 1 is, and (n-1)·G = -G.
        assert_eq!(
            ecc_private_from_bytes(curve, n).err(),
            Some(TpmRc::KEY_SIZE)
        );
        let nm1 = sub(n, &one);
        let q = ecc_public(curve, &ecc_private_from_bytes(curve, &nm1).unwrap());
        assert_eq!(q, neg);
    }
}

#[test]
fn known_p256_b() {
    let (mut t, mut p) = started();
    let r = run(&mut t, &mut p, &params_cmd(3));
    let mut rd = Reader::new(&r.body);
    for _ in 0..4 {
        rd.u16().unwrap();
    }
    let _p = take_2b(&mut rd);
    let _a = take_2b(&mut rd);
    let b = take_2b(&mut rd)[2..].to_vec();
    // SEC 2, 2.4.2.
    assert_eq!(b[..4], [0x5a, 0xc6, 0x35, 0xd8]);
    assert_eq!(b[28..], [0x27, 0xd2, 0x60, 0x4b]);
}

#[test]
fn unsupported_curve() {
    let (mut t, mut p) = started();
    for id in [0u16, 1, 2, 5, 0x10, 0x20, 0xffff] {
        let r = run(&mut t, &mut p, &params_cmd(id));
        assert_eq!(r.rc, TpmRc::CURVE.at_param(1).value(), "{id:#x}");
    }
}
