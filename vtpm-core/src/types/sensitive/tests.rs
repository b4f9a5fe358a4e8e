//! Round-trip, truncation and over-maximum tests of the sensitive-area, creation
//! and context structures.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::marshal::{Marshal, Unmarshal};

fn sensitive_bits() -> TpmtSensitive {
    TpmtSensitive {
        auth_value: Tpm2bAuth::new(b"auth").unwrap(),
        seed_value: Tpm2bDigest::new(&[1, 2]).unwrap(),
        sensitive: TpmuSensitiveComposite::Bits(Tpm2bSensitiveData::new(b"xyz").unwrap()),
    }
}

/// Every proper prefix of `b` fails with INSUFFICIENT, `b` plus a byte with SIZE.
fn truncations<T: Unmarshal + core::fmt::Debug>(b: &[u8]) {
    for n in 0..b.len() {
        let e = T::from_bytes(&b[..n]).unwrap_err();
        assert_eq!(e, TpmRc::INSUFFICIENT, "cut at {n}");
    }
    let mut long = b.to_vec();
    long.push(0);
    assert_eq!(T::from_bytes(&long).unwrap_err(), TpmRc::SIZE);
}

#[test]
fn sensitive_round_trip() {
    let s = sensitive_bits();
    let b = s.to_bytes();
    assert_eq!(
        b,
        [0, 8, 0, 4, b'a', b'u', b't', b'h', 0, 2, 1, 2, 0, 3, b'x', b'y', b'z']
    );
    assert_eq!(TpmtSensitive::from_bytes(&b), Ok(s.clone()));
    truncations::<TpmtSensitive>(&b);
    // Each key type has its own buffer limit.
    for (ty, max) in [
        (0x0001u16, RSA_PRIVATE_SIZE),
        (0x0023, 48),
        (0x0008, 128),
        (0x0025, MAX_SYM_KEY_BYTES),
    ] {
        let mut b = vec![0, 0, 0, 0, 0, 0];
        b[..2].copy_from_slice(&ty.to_be_bytes());
        let n = u16::try_from(max + 1).unwrap();
        b.extend_from_slice(&n.to_be_bytes());
        b.extend_from_slice(&vec![7u8; max + 1]);
        assert_eq!(TpmtSensitive::from_bytes(&b), Err(TpmRc::SIZE), "{ty:#x}");
    }
    // Unknown sensitiveType.
    assert_eq!(
        TpmtSensitive::from_bytes(&[0, 0x0B, 0, 0, 0, 0, 0, 0]),
        Err(TpmRc::TYPE)
    );
    // TPM2B_SENSITIVE: empty is "no sensitive area"; otherwise exact.
    assert_eq!(
        Tpm2bSensitive::from_bytes(&[0, 0]),
        Ok(Tpm2bSensitive(None))
    );
    let two = Tpm2bSensitive(Some(s)).to_bytes();
    assert_eq!(&two[..2], &[0, 17]);
    assert!(Tpm2bSensitive::from_bytes(&two).is_ok());
    let mut short = two.clone();
    short[1] = 16;
    short.pop();
    assert_eq!(Tpm2bSensitive::from_bytes(&short), Err(TpmRc::INSUFFICIENT));
    let mut long = two.clone();
    long[1] = 18;
    long.push(0);
    assert_eq!(Tpm2bSensitive::from_bytes(&long), Err(TpmRc::SIZE));
}

#[test]
fn sensitive_create() {
    let s = Tpm2bSensitiveCreate(TpmsSensitiveCreate {
        user_auth: Tpm2bAuth::new(b"pw").unwrap(),
        data: Tpm2bSensitiveData::new(b"d").unwrap(),
    });
    let b = s.to_bytes();
    assert_eq!(b, [0, 7, 0, 2, b'p', b'w', 0, 1, b'd']);
    assert_eq!(Tpm2bSensitiveCreate::from_bytes(&b), Ok(s));
    truncations::<Tpm2bSensitiveCreate>(&b);
    // A zero size is SIZE; so is a size that does not match.
    assert_eq!(Tpm2bSensitiveCreate::from_bytes(&[0, 0]), Err(TpmRc::SIZE));
    assert_eq!(
        Tpm2bSensitiveCreate::from_bytes(&[0, 5, 0, 0, 0, 0, 0]),
        Err(TpmRc::SIZE)
    );
    // data longer than 128 octets, userAuth longer than 64.
    let mut big = vec![0, 0, 0, 0, 0, 129];
    big.extend_from_slice(&[1; 129]);
    let n = u16::try_from(big.len() - 2).unwrap().to_be_bytes();
    big[..2].copy_from_slice(&n);
    assert_eq!(Tpm2bSensitiveCreate::from_bytes(&big), Err(TpmRc::SIZE));
    let mut big = vec![0, 0, 0, 65];
    big.extend_from_slice(&[1; 65]);
    big.extend_from_slice(&[0, 0]);
    let n = u16::try_from(big.len() - 2).unwrap().to_be_bytes();
    big[..2].copy_from_slice(&n);
    assert_eq!(Tpm2bSensitiveCreate::from_bytes(&big), Err(TpmRc::SIZE));
}

#[test]
fn creation_data_and_ticket() {
    let cd = TpmsCreationData {
        pcr_select: TpmlPcrSelection::default(),
        pcr_digest: Tpm2bDigest::new(&[5; 32]).unwrap(),
        locality: 1,
        parent_name_alg: TpmAlgId::NULL,
        parent_name: Tpm2bName::new(&[0x40, 0, 0, 1]).unwrap(),
        parent_qualified_name: Tpm2bName::new(&[0x40, 0, 0, 1]).unwrap(),
        outside_info: Tpm2bData::new(b"o").unwrap(),
    };
    let b = Tpm2bCreationData(cd.clone()).to_bytes();
    assert_eq!(usize::from(u16::from_be_bytes([b[0], b[1]])), b.len() - 2);
    assert_eq!(Tpm2bCreationData::from_bytes(&b), Ok(Tpm2bCreationData(cd)));
    truncations::<Tpm2bCreationData>(&b);
    assert_eq!(Tpm2bCreationData::from_bytes(&[0, 0]), Err(TpmRc::SIZE));
    let t = TpmtTkCreation {
        hierarchy: TpmiRhHierarchy(TpmRh::OWNER.0),
        digest: Tpm2bDigest::new(&[9; 64]).unwrap(),
    };
    let b = t.to_bytes();
    assert_eq!(&b[..8], &[0x80, 0x21, 0x40, 0, 0, 1, 0, 64]);
    assert_eq!(TpmtTkCreation::from_bytes(&b), Ok(t));
    truncations::<TpmtTkCreation>(&b);
    let mut wrong_tag = b.clone();
    wrong_tag[1] = 0x24;
    assert_eq!(TpmtTkCreation::from_bytes(&wrong_tag), Err(TpmRc::TAG));
    let mut wrong_h = b.clone();
    wrong_h[2..6].copy_from_slice(&TpmRh::LOCKOUT.0.to_be_bytes());
    assert_eq!(TpmtTkCreation::from_bytes(&wrong_h), Err(TpmRc::VALUE));
    // A name is at most a TPMT_HA.
    assert!(Tpm2bName::new(&[0; 66]).is_ok());
    assert_eq!(Tpm2bName::new(&[0; 67]), Err(TpmRc::SIZE));
}

#[test]
fn context_structure() {
    let c = TpmsContext {
        sequence: 0x0102_0304_0506_0708,
        saved_handle: SAVED_OBJECT,
        hierarchy: TpmRh::NULL.0,
        context_blob: Tpm2bContextData::new(&[1, 2, 3]).unwrap(),
    };
    let b = c.to_bytes();
    assert_eq!(
        b,
        [1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0, 0, 0, 0x40, 0, 0, 7, 0, 3, 1, 2, 3]
    );
    assert_eq!(TpmsContext::from_bytes(&b), Ok(c));
    truncations::<TpmsContext>(&b);
    for (h, ok) in [
        (0x8000_0000u32, true),
        (0x8000_0001, true),
        (0x8000_0002, true),
        (0x8000_0003, false),
        (0x0200_0000, true),
        (0x0300_003F, true),
        (0x0300_0040, false),
        (0x8100_0000, false),
        (0x4000_0001, false),
    ] {
        let mut x = b.clone();
        x[8..12].copy_from_slice(&h.to_be_bytes());
        assert_eq!(TpmsContext::from_bytes(&x).is_ok(), ok, "{h:#x}");
        if !ok {
            assert_eq!(TpmsContext::from_bytes(&x), Err(TpmRc::VALUE));
        }
    }
    let mut x = b.clone();
    x[12..16].copy_from_slice(&TpmRh::LOCKOUT.0.to_be_bytes());
    assert_eq!(TpmsContext::from_bytes(&x), Err(TpmRc::VALUE));
    // Over the maximum blob size.
    let mut big: Vec<u8> = b[..16].to_vec();
    let n = u16::try_from(MAX_CONTEXT_DATA_SIZE + 1).unwrap();
    big.extend_from_slice(&n.to_be_bytes());
    big.extend_from_slice(&vec![0; MAX_CONTEXT_DATA_SIZE + 1]);
    assert_eq!(TpmsContext::from_bytes(&big), Err(TpmRc::SIZE));
}

#[test]
fn private_limit() {
    let mut b = Vec::new();
    let n = u16::try_from(MAX_PRIVATE_SIZE + 1).unwrap();
    b.extend_from_slice(&n.to_be_bytes());
    b.extend_from_slice(&vec![0; MAX_PRIVATE_SIZE + 1]);
    assert_eq!(Tpm2bPrivate::from_bytes(&b), Err(TpmRc::SIZE));
    b[..2].copy_from_slice(&u16::try_from(MAX_PRIVATE_SIZE).unwrap().to_be_bytes());
    b.pop();
    assert!(Tpm2bPrivate::from_bytes(&b).is_ok());
}
