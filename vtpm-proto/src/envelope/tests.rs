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

const KEY: [u8; KEY_LEN] = [0x5a; KEY_LEN];
const NONCE: [u8; NONCE_LEN] = [0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

fn sealed(sequence: u64) -> Vec<u8> {
    seal(&header(sequence), &KEY, &NONCE, b"secret engine state").unwrap()
}

#[test]
fn sealed_layout_is_byte_exact_and_matches_an_independent_aes_gcm() {
    let blob = sealed(9);
    let pt = b"secret engine state";
    assert_eq!(blob.len(), HEADER_LEN + NONCE_LEN + pt.len() + TAG_LEN);
    assert_eq!(&blob[0..8], b"VTPMSTAT");
    assert_eq!(blob[11], 1, "protection AES-256-GCM");
    assert_eq!(&blob[28..36], &9u64.to_be_bytes());
    let body_len = u32::try_from(NONCE_LEN + pt.len()).unwrap();
    assert_eq!(&blob[36..40], &body_len.to_be_bytes());
    assert_eq!(&blob[40..52], &NONCE);
    // The plaintext does not appear in the blob.
    assert!(!blob.windows(pt.len()).any(|w| w == pt));
    // Independent check: the same cipher through the plain Aead API over
    // ciphertext || tag with the header as associated data.
    use aes_gcm::aead::{Aead, Payload};
    let cipher = Aes256Gcm::new((&KEY).into());
    let decrypted = cipher
        .decrypt(
            &Nonce::from(NONCE),
            Payload {
                msg: &blob[52..],
                aad: &blob[..40],
            },
        )
        .unwrap();
    assert_eq!(decrypted, pt);

    let opened = open(&blob, &KEY).unwrap();
    assert_eq!(opened.header, header(9));
    assert_eq!(opened.plaintext.as_slice(), pt);
    let env = decode_sealed(&blob).unwrap();
    assert_eq!(env.header.sequence, 9);
    assert_eq!(env.protection, Protection::Aes256Gcm);
    assert!(!alloc::format!("{opened:?}").contains("secret"));
}

#[test]
fn sealed_any_changed_byte_is_refused() {
    let blob = sealed(3);
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = blob.clone();
            t[i] ^= bit;
            assert!(open(&t, &KEY).is_err(), "byte {i} bit {bit:#x} accepted");
        }
    }
    assert!(open(&blob[..blob.len() - 1], &KEY).is_err());
    let mut longer = blob.clone();
    longer.push(0);
    assert!(open(&longer, &KEY).is_err());
    // A changed sequence number in particular fails authentication.
    let mut t = blob.clone();
    t[35] ^= 1;
    assert_eq!(
        open(&t, &KEY).unwrap_err(),
        EnvelopeError::AuthenticationFailed
    );
}

#[test]
fn sealed_wrong_key_is_refused() {
    let blob = sealed(3);
    let mut other = KEY;
    other[31] ^= 1;
    assert_eq!(
        open(&blob, &other).unwrap_err(),
        EnvelopeError::AuthenticationFailed
    );
}

#[test]
fn sealed_and_plain_are_not_confused() {
    assert_eq!(
        decode(&sealed(1)),
        Err(EnvelopeError::UnsupportedProtection(Protection::Aes256Gcm))
    );
    assert_eq!(
        open(&sample(), &KEY).unwrap_err(),
        EnvelopeError::UnsupportedProtection(Protection::Digest)
    );
}

#[test]
fn replayed_older_sequence_is_visible_and_authentic() {
    // Rollback protection is the caller's comparison: an older blob is still
    // authentic, and its authenticated header says how old it is.
    let old = sealed(4);
    let new = sealed(5);
    let min = open(&new, &KEY).unwrap().header.sequence;
    let replayed = open(&old, &KEY).unwrap();
    assert!(replayed.header.sequence < min);
    // Relabelling the old blob as newer breaks the tag.
    let mut relabelled = old.clone();
    relabelled[28..36].copy_from_slice(&5u64.to_be_bytes());
    assert!(open(&relabelled, &KEY).is_err());
}
