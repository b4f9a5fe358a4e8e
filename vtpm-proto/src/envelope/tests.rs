use super::*;
use alloc::string::ToString;
use alloc::vec;
use proptest::prelude::*;

const ID: InstanceId = InstanceId([
    0x6b, 0x1f, 0x3c, 0x2a, 0x90, 0x11, 0x4e, 0x7d, 0x8a, 0x55, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
]);

fn header(sequence: u64) -> Header {
    Header {
        kind: Kind::Permanent,
        instance: ID,
        sequence,
    }
}

fn sample() -> Vec<u8> {
    encode(&header(7), b"engine state bytes").unwrap()
}

/// Rewrites the trailer so that a deliberately changed header passes the digest
/// check, to reach the field checks behind it.
fn reseal(blob: &mut [u8]) {
    let end = blob.len() - DIGEST_LEN;
    let d = digest(&blob[..end]);
    blob[end..].copy_from_slice(&d);
}

#[test]
fn layout_is_byte_exact() {
    let blob = encode(&header(0x0102_0304_0506_0708), &[0xaa, 0xbb]).unwrap();
    assert_eq!(blob.len(), HEADER_LEN + 2 + DIGEST_LEN);
    assert_eq!(&blob[0..8], b"VTPMSTAT");
    assert_eq!(&blob[8..10], &[0, 1]);
    assert_eq!(blob[10], 1, "kind permanent");
    assert_eq!(blob[11], 0, "protection digest");
    assert_eq!(&blob[12..28], ID.as_bytes());
    assert_eq!(&blob[28..36], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&blob[36..40], &[0, 0, 0, 2]);
    assert_eq!(&blob[40..42], &[0xaa, 0xbb]);
    let expected: [u8; 32] = Sha256::digest(&blob[..42]).into();
    assert_eq!(&blob[42..], &expected);
}

#[test]
fn round_trip() {
    let blob = sample();
    let env = decode(&blob).unwrap();
    assert_eq!(env.version, FORMAT_VERSION);
    assert_eq!(env.protection, Protection::Digest);
    assert_eq!(env.header, header(7));
    assert_eq!(env.body, b"engine state bytes");

    let vol = Header {
        kind: Kind::Volatile,
        instance: ID,
        sequence: u64::MAX,
    };
    let blob = encode(&vol, &[]).unwrap();
    let env = decode(&blob).unwrap();
    assert_eq!(env.header, vol);
    assert!(env.body.is_empty());
}

#[test]
fn bad_magic() {
    let mut blob = sample();
    blob[0] = b'X';
    assert_eq!(decode(&blob), Err(EnvelopeError::BadMagic));
    assert_eq!(decode(b"{\"json\": 1}"), Err(EnvelopeError::BadMagic));
    assert_eq!(decode(b"VTX"), Err(EnvelopeError::BadMagic));
}

#[test]
fn truncated() {
    assert_eq!(
        decode(&[]),
        Err(EnvelopeError::Truncated {
            needed: HEADER_LEN,
            got: 0
        })
    );
    assert_eq!(
        decode(b"VTPM"),
        Err(EnvelopeError::Truncated {
            needed: HEADER_LEN,
            got: 4
        })
    );
    let blob = sample();
    let total = blob.len();
    assert_eq!(
        decode(&blob[..total - 1]),
        Err(EnvelopeError::Truncated {
            needed: total,
            got: total - 1
        })
    );
    assert_eq!(
        decode(&blob[..HEADER_LEN]),
        Err(EnvelopeError::Truncated {
            needed: total,
            got: HEADER_LEN
        })
    );
}

#[test]
fn trailing_bytes_are_a_length_mismatch() {
    let mut blob = sample();
    let expected = blob.len();
    blob.push(0);
    assert_eq!(
        decode(&blob),
        Err(EnvelopeError::LengthMismatch {
            expected,
            actual: expected + 1
        })
    );
}

#[test]
fn unsupported_version() {
    let mut blob = sample();
    blob[8..10].copy_from_slice(&2u16.to_be_bytes());
    reseal(&mut blob);
    assert_eq!(decode(&blob), Err(EnvelopeError::UnsupportedVersion(2)));
    blob[8..10].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(decode(&blob), Err(EnvelopeError::UnsupportedVersion(0)));
}

#[test]
fn unknown_kind() {
    let mut blob = sample();
    for k in [0u8, 3, 0xff] {
        blob[10] = k;
        reseal(&mut blob);
        assert_eq!(decode(&blob), Err(EnvelopeError::UnknownKind(k)));
    }
}

#[test]
fn protection_values() {
    let mut blob = sample();
    blob[11] = 1;
    reseal(&mut blob);
    let err = decode(&blob).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::UnsupportedProtection(Protection::Aes256Gcm)
    );
    assert!(err.to_string().contains("AES-256-GCM"));
    blob[11] = 2;
    reseal(&mut blob);
    assert_eq!(decode(&blob), Err(EnvelopeError::UnknownProtection(2)));
}

#[test]
fn digest_mismatch() {
    let mut blob = sample();
    blob[HEADER_LEN] ^= 1; // body
    assert_eq!(decode(&blob), Err(EnvelopeError::DigestMismatch));
    let mut blob = sample();
    blob[30] ^= 0x80; // sequence
    assert_eq!(decode(&blob), Err(EnvelopeError::DigestMismatch));
    let mut blob = sample();
    let last = blob.len() - 1;
    blob[last] ^= 1; // trailer
    assert_eq!(decode(&blob), Err(EnvelopeError::DigestMismatch));
}

#[test]
fn huge_declared_length_is_truncated_not_a_panic() {
    let mut blob = sample();
    blob[36..40].copy_from_slice(&u32::MAX.to_be_bytes());
    let got = blob.len();
    assert_eq!(
        decode(&blob),
        Err(EnvelopeError::Truncated {
            needed: HEADER_LEN + u32::MAX as usize + DIGEST_LEN,
            got
        })
    );
}

#[test]
fn display_is_specific() {
    assert_eq!(
        EnvelopeError::UnsupportedVersion(9).to_string(),
        "envelope format version 9 is not supported (this build reads version 1)"
    );
    assert_eq!(
        EnvelopeError::Truncated { needed: 72, got: 3 }.to_string(),
        "truncated: 3 bytes, the envelope needs 72"
    );
    assert!(EnvelopeError::DigestMismatch.to_string().contains("digest"));
    assert!(EnvelopeError::BadMagic.to_string().contains("VTPMSTAT"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(decode(&bytes).is_err());
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_prefix_are_refused(
        kind in 0u8..4,
        prot in 0u8..3,
        rest in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = vec![];
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        bytes.push(kind);
        bytes.push(prot);
        bytes.extend_from_slice(&rest);
        prop_assert!(decode(&bytes).is_err());
    }

    #[test]
    fn valid_blobs_round_trip(
        volatile in any::<bool>(),
        id in any::<[u8; 16]>(),
        sequence in any::<u64>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let h = Header {
            kind: if volatile { Kind::Volatile } else { Kind::Permanent },
            instance: InstanceId(id),
            sequence,
        };
        let blob = encode(&h, &body).unwrap();
        let env = decode(&blob).unwrap();
        prop_assert_eq!(env.header, h);
        prop_assert_eq!(env.body, body.as_slice());
    }

    #[test]
    fn every_single_bit_flip_is_refused(
        sequence in any::<u64>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let blob = encode(&header(sequence), &body).unwrap();
        for bit in 0..blob.len() * 8 {
            let mut flipped = blob.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(decode(&flipped).is_err(), "bit {} accepted", bit);
        }
    }

    #[test]
    fn every_truncation_is_refused(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let blob = encode(&header(1), &body).unwrap();
        for len in 0..blob.len() {
            prop_assert!(decode(&blob[..len]).is_err());
        }
    }
}
