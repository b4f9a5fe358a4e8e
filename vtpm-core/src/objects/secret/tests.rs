//! Secret sharing: round trips with RSA and ECC storage keys, an RSA seed
//! encrypted independently with the `rsa` crate, an ECC seed recomputed with
//! `p256` and a hand-written KDFe, and refusals.

use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use super::*;
use crate::objects::testkit::*;
use crate::testutil::*;
use crate::types::constants::TpmRh;
use crate::types::public::TpmuPublicId;

fn key_of(tmpl: &TpmtPublic) -> KeyObject {
    let (mut t, mut p) = started();
    let (h, _, _) = primary(&mut t, &mut p, TpmRh::OWNER.0, tmpl);
    t.key(h).unwrap().clone()
}

fn counter_rng() -> impl FnMut(&mut [u8]) {
    let mut c = 0u8;
    move |b: &mut [u8]| {
        for x in b.iter_mut() {
            c = c.wrapping_add(31);
            *x = c;
        }
    }
}

#[test]
fn rsa_round_trip_and_labels() {
    let key = key_of(&rsa_storage());
    let s = secret_encrypt(&key.public, IDENTITY_LABEL, &mut counter_rng()).unwrap();
    assert_eq!(s.seed.len(), 32);
    assert_eq!(s.encrypted.len(), 256);
    let got = secret_decrypt(&key, IDENTITY_LABEL, &s.encrypted).unwrap();
    assert_eq!(&got[..], &s.seed[..]);
    // Another label does not decrypt (OAEP label hash mismatch).
    assert_eq!(
        secret_decrypt(&key, DUPLICATE_LABEL, &s.encrypted).err(),
        Some(TpmRc::VALUE)
    );
    // Wrong size.
    assert_eq!(
        secret_decrypt(&key, IDENTITY_LABEL, &s.encrypted[1..]).err(),
        Some(TpmRc::SIZE)
    );
}

#[test]
fn rsa_seed_from_independent_oaep() {
    let key = key_of(&rsa_storage());
    let TpmuPublicId::Rsa(n) = &key.public.unique else {
        panic!()
    };
    let nb = n.as_slice();
    let bits = u32::try_from(nb.len() * 8).unwrap();
    let pk = rsa::PublicKey::new(
        crypto_bigint::BoxedUint::from_be_slice(nb, bits).unwrap(),
        crypto_bigint::BoxedUint::from(65537u64),
    )
    .unwrap();
    let seed = [0x5Au8; 32];
    let mut f = counter_rng();
    let mut rng = crate::crypto::rng::FnRng(&mut f);
    let label: alloc::boxed::Box<[u8]> = b"IDENTITY\0".to_vec().into_boxed_slice();
    let padding = rsa::Oaep::<Sha256>::new_with_label(label.clone());
    let enc = pk.encrypt(&mut rng, padding, &seed).unwrap();
    let got = secret_decrypt(&key, IDENTITY_LABEL, &enc).unwrap();
    assert_eq!(&got[..], &seed[..]);
    // A seed longer than the nameAlg digest is refused.
    let padding = rsa::Oaep::<Sha256>::new_with_label(label);
    let enc = pk.encrypt(&mut rng, padding, &[1u8; 33]).unwrap();
    assert_eq!(
        secret_decrypt(&key, IDENTITY_LABEL, &enc).err(),
        Some(TpmRc::VALUE)
    );
}

fn kdfe_sha256(z: &[u8], label: &[u8], u: &[u8], v: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    h.update(label);
    h.update([0u8]);
    h.update(u);
    h.update(v);
    h.finalize().to_vec()
}

#[test]
fn ecc_round_trip_matches_independent_ecdh() {
    let key = key_of(&ecc_storage());
    let s = secret_encrypt(&key.public, DUPLICATE_LABEL, &mut counter_rng()).unwrap();
    assert_eq!(s.seed.len(), 32);
    let got = secret_decrypt(&key, DUPLICATE_LABEL, &s.encrypted).unwrap();
    assert_eq!(&got[..], &s.seed[..]);
    // Recompute Z = d_s·Q_e with p256.
    let d = key
        .sensitive
        .as_ref()
        .unwrap()
        .sensitive
        .as_slice()
        .to_vec();
    let sk = p256::SecretKey::from_slice(&d).unwrap();
    let mut r = Reader::new(&s.encrypted);
    let qe = TpmsEccPoint::unmarshal(&mut r).unwrap();
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(qe.x.as_slice());
    sec1.extend_from_slice(qe.y.as_slice());
    let peer = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
    let z = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), peer.as_affine());
    let TpmuPublicId::Ecc(q) = &key.public.unique else {
        panic!()
    };
    let want = kdfe_sha256(
        z.raw_secret_bytes(),
        b"DUPLICATE",
        qe.x.as_slice(),
        q.x.as_slice(),
    );
    assert_eq!(&s.seed[..], &want[..]);
    // The label matters.
    let other = secret_decrypt(&key, IDENTITY_LABEL, &s.encrypted).unwrap();
    assert_ne!(&other[..], &want[..]);
}

#[test]
fn ecc_refusals() {
    let key = key_of(&ecc_storage());
    let s = secret_encrypt(&key.public, SECRET_LABEL, &mut counter_rng()).unwrap();
    // Trailing octets.
    let mut long = s.encrypted.clone();
    long.push(0);
    assert_eq!(
        secret_decrypt(&key, SECRET_LABEL, &long).err(),
        Some(TpmRc::SIZE)
    );
    // A point off the curve.
    let mut bad = s.encrypted.clone();
    if let Some(b) = bad.last_mut() {
        *b ^= 1;
    }
    assert_eq!(
        secret_decrypt(&key, SECRET_LABEL, &bad).err(),
        Some(TpmRc::ECC_POINT)
    );
    // Truncated.
    assert_eq!(
        secret_decrypt(&key, SECRET_LABEL, &s.encrypted[..10]).err(),
        Some(TpmRc::ECC_POINT)
    );
}

#[test]
fn non_decrypt_keys_refused() {
    let key = key_of(&ecc_signing());
    assert_eq!(
        secret_encrypt(&key.public, SECRET_LABEL, &mut counter_rng()).err(),
        Some(TpmRc::ATTRIBUTES)
    );
    assert_eq!(
        secret_decrypt(&key, SECRET_LABEL, &[0; 68]).err(),
        Some(TpmRc::ATTRIBUTES)
    );
    let key = key_of(&aes_storage());
    assert_eq!(
        secret_encrypt(&key.public, SECRET_LABEL, &mut counter_rng()).err(),
        Some(TpmRc::KEY)
    );
    // Public-only: encrypt works, decrypt has no private key.
    let mut public_only = key_of(&ecc_storage());
    public_only.sensitive = None;
    assert!(secret_encrypt(&public_only.public, SECRET_LABEL, &mut counter_rng()).is_ok());
    assert_eq!(
        secret_decrypt(&public_only, SECRET_LABEL, &[0; 68]).err(),
        Some(TpmRc::KEY)
    );
}
