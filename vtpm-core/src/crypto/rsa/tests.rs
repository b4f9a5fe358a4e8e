//! RSA: a key made by `openssl genpkey` rebuilt from (n, e, p) and checked
//! against `openssl pkeyutl` signatures (PKCS#1 v1.5 and PSS) and ciphertexts
//! (OAEP-SHA256 with the label "DUPLICATE\0", PKCS#1 v1.5); round trips of every
//! scheme and hash; the reference implementation's error codes; and the pinned
//! deterministic key generation (at most two key generations in this file).

use super::*;
use alloc::vec;

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn counter_rng() -> impl FnMut(&mut [u8]) {
    let mut r = KdfRng::new(HashAlg::Sha256, b"test rng", b"RSA", b"");
    move |b: &mut [u8]| r.fill(b)
}

// openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 (e = 65537)
const N: &str = "db8fb9a85a5f86a6abed026a465b860621eed8b228e10e746869d2fe183384d7\
    1eb75917518b1a0e215d569b2023f21b893ff5e223f93fa357c88760940f403e\
    3b7677fcdc9d8e3ab592f3508798329676d9f96f78f109911731f4e347bc7a5b\
    42b4b30adaf33a8b60be7e787e46b8e9faa0790743a25c09d7bced82c98d0513\
    729a37d8a83aeb60471558473d87b730abbd7892ed6f0d188199889f770e86a1\
    08fb0333feeae5240a3955aaa284e4c2c6ae01a9b2927857e4b05fde725866bc\
    ca966b1ec65cf2ff941984b17ebef01a10ded1f7dade40c341832f486073fa83\
    30aa379d0d21e50a16cf4cf2a98e9e34affddcc0de897fb6471815c9c584dc67";
const P: &str = "fb72744013c5a5e3f1d01f00095729074907360e9db0cf74724ed27cab3f07f7\
    2338a84e1b4501e6405e40de12059b8183df83b282293be0c330939fecacec79\
    6cc16f0d4249ca29bca1534079649270817d3fa347e87606760ca9b2a8a61070\
    ab0cc2f5a49da4a374bfdd21f165fccc62c8abb449fd10ef9036239f795a9317";
const SIG_PKCS1: &str = "5d799e52e99625b79197d3fb3cf5899a6712284525b463c7593eb4373790c103\
    64f9aa087848531b94daa319bab352ffe7e59ec252070034267547f5710aea66\
    f28aa8854d5ea09f56f3bcd98798342499d896cb29a692090d5a7fca04eb35fa\
    3fe4339e2df2b1a2af269b200aa5c3e970a6d31f51596a791fadcfd3f25fb9e6\
    312d69fc6ba5b0b187aac87dd119293919ebc3014cc68d1930546f95b10207dc\
    a2a42830699b1804ce3715957b396a715a04dcf5898e7e90d22205bbb59ee0ff\
    68230824ca9e269f453fa49c6f41c15275fe1ee5601f445a32c9f09373f18109\
    99cf5162af748b33a7033ab87cb722c643acb9f90a0cca268385b204116828d9";
const SIG_PSS: &str = "d970a399038e11288eeca2e6ce07135689d474e004e837ade79be0c6a50bcbc7\
    d586676f986e53234b618420b8f107846144ad4fc042a371e162ad2356fa3079\
    e2a28f3875f40ae25252c113442c14235a502c40647b3bbe9af9c3eeeccdad20\
    62b521212d1e8a7256c0c4fda7e50f7f512880ee8fe16d3f27761f08cbfc93ef\
    3310c96ed4d0d46ffe6b7ec4b97f5f7b37b33c6b06c12d8700bd1179c7d48d3b\
    4a6d9dec885f38e0a3279005cea22365791317567934bb86dc94c8b7f3ab87c5\
    86685dc1ca4adb05e3840d849fb66840866c2c27be1ccd917c904bbc085ddc21\
    cf3f7c5fe96992062da322a2263a5df2437fd3b1b4e985ff6089ab447e8feb73";
const CT_OAEP: &str = "4c6bb684895b59fb41a9c77270bb8d7533f4711bbea6850fb0ce20a01e259e9d\
    bfe5b2ed15e06fd053699d5c7302362facc21d462c39a8bdc497bcf2cdfdd4be\
    da6e215ca498a01b0f3667c43ea0cc34232f871583d23e864292850dea5204d4\
    dde1f72e5b1184c54dd0ac5655b60611c5288415fbbd662b8a36cd5bf04188e6\
    bbc0712d52a68b3c1fa7a801565fb828f72c5a7a84359fb3285e11971513ec8a\
    45f47146bfc2a50133ae0c2fb02bf1cea2ccc954d54f312520a68578832929de\
    d0eac8c2f2acd4d31faa272fdb678b6e75894d383ff0c4639cc9a7fbf7441fb2\
    1e9e7661f7afbe49dba4a30233bf9aed2e8cd840025ac06546599c5c2fc3818f";
const CT_PKCS1: &str = "a821a0368e827d8d0b67b8521ac6421b973df42a074e9d26788dee51d7fdbd13\
    a74393598421deeeac6d322ae55a6750070319013282254d3caa260f9d1a3135\
    df4e43e421686c853efdee9ff3b1810945f1772562c4bce939cdde050bec0e96\
    98a8db347bcae3e8a0dc0a099df2373d76d3a5e9f0e49857b9618b79b3c6384c\
    d9713ffa9021aa0a7ebc6440a15c0fe12341d6e83f08fee7b275518b0bdfd40e\
    78f26f618634e018179fda1510868303fc00a14bbc18ea33b2957af90b9db089\
    8ba74cc0fb57de1e51827412b07b49a1083f145a21c060737ecd10ad6bfb8dac\
    84e6937eb28d7b33c7ccae4f6553ccbdc5b541c957bd847f697ae0e4d166b7c0";
/// SHA-256("vtpm rsa vector")
const DIGEST: &str = "cc8180d87c0be3b4391bd54b5a02e82473c235bd6cccbc04ac738fba40f21cbc";
const MSG: &[u8] = b"secret message";

fn openssl_key() -> RsaPrivate {
    rsa_private_from_prime(&h(N), 0, &h(P)).unwrap()
}

#[test]
fn rebuilt_openssl_key_matches_its_vectors() {
    let key = openssl_key();
    let public = key.public();
    assert_eq!(public, RsaPublic { n: h(N), e: 65537 });
    assert_eq!(key.bits(), 2048);
    assert_eq!(*key.prime_p(), h(P));
    let digest = h(DIGEST);
    // PKCS#1 v1.5 signatures are deterministic: ours is openssl's.
    let sig = rsa_sign(
        &key,
        RsaSigScheme::Pkcs1v15(HashAlg::Sha256),
        &digest,
        &mut counter_rng(),
    )
    .unwrap();
    assert_eq!(sig, h(SIG_PKCS1));
    let scheme = RsaSigScheme::Pkcs1v15(HashAlg::Sha256);
    assert_eq!(rsa_verify(&public, scheme, &digest, &h(SIG_PKCS1)), Ok(()));
    let pss = RsaSigScheme::Pss(HashAlg::Sha256);
    assert_eq!(rsa_verify(&public, pss, &digest, &h(SIG_PSS)), Ok(()));
    // Each signature only under its own scheme.
    assert_eq!(
        rsa_verify(&public, pss, &digest, &h(SIG_PKCS1)),
        Err(TpmRc::SIGNATURE)
    );
    assert_eq!(
        rsa_verify(&public, scheme, &digest, &h(SIG_PSS)),
        Err(TpmRc::SIGNATURE)
    );
    // The TPM label rule: "DUPLICATE" means "DUPLICATE\0".
    let oaep = RsaEncScheme::Oaep(HashAlg::Sha256);
    for label in [&b"DUPLICATE"[..], b"DUPLICATE\0"] {
        assert_eq!(rsa_decrypt(&key, oaep, &h(CT_OAEP), label).unwrap(), MSG);
    }
    for label in [&b""[..], b"DUPLICATF", b"DUPLICATE\0\0"] {
        assert_eq!(
            rsa_decrypt(&key, oaep, &h(CT_OAEP), label),
            Err(TpmRc::VALUE)
        );
    }
    assert_eq!(
        rsa_decrypt(
            &key,
            RsaEncScheme::Oaep(HashAlg::Sha1),
            &h(CT_OAEP),
            b"DUPLICATE"
        ),
        Err(TpmRc::VALUE)
    );
    assert_eq!(
        rsa_decrypt(&key, RsaEncScheme::Pkcs1v15, &h(CT_PKCS1), b"").unwrap(),
        MSG
    );
    // OAEP ciphertext is not PKCS#1 v1.5: the bad padding is reported.
    assert_eq!(
        rsa_decrypt(&key, RsaEncScheme::Pkcs1v15, &h(CT_OAEP), b""),
        Err(TpmRc::VALUE)
    );
}

#[test]
fn sign_verify_every_hash() {
    let key = openssl_key();
    let public = key.public();
    let mut rng = counter_rng();
    for hash in HashAlg::ALL {
        let digest = hash.digest(b"to be signed");
        for scheme in [RsaSigScheme::Pkcs1v15(hash), RsaSigScheme::Pss(hash)] {
            let sig = rsa_sign(&key, scheme, &digest, &mut rng).unwrap();
            assert_eq!(sig.len(), 256);
            assert_eq!(
                rsa_verify(&public, scheme, &digest, &sig),
                Ok(()),
                "{scheme:?}"
            );
            let other = hash.digest(b"to be signet");
            assert_eq!(
                rsa_verify(&public, scheme, &other, &sig),
                Err(TpmRc::SIGNATURE)
            );
            let mut bad = sig.clone();
            bad[100] ^= 1;
            assert_eq!(
                rsa_verify(&public, scheme, &digest, &bad),
                Err(TpmRc::SIGNATURE)
            );
            assert_eq!(
                rsa_verify(&public, scheme, &digest, &sig[1..]),
                Err(TpmRc::SIGNATURE)
            );
            // A digest of the wrong size is refused before signing.
            assert_eq!(
                rsa_sign(&key, scheme, &digest[1..], &mut rng),
                Err(TpmRc::VALUE)
            );
        }
    }
    // PSS signatures are randomized; PKCS#1 v1.5 ones are not.
    let d = HashAlg::Sha256.digest(b"x");
    let pss = RsaSigScheme::Pss(HashAlg::Sha256);
    assert_ne!(
        rsa_sign(&key, pss, &d, &mut rng).unwrap(),
        rsa_sign(&key, pss, &d, &mut rng).unwrap()
    );
    // A signature as large as the modulus is not a signature.
    assert_eq!(
        rsa_verify(&public, RsaSigScheme::Pkcs1v15(HashAlg::Sha256), &d, &h(N)),
        Err(TpmRc::SIGNATURE)
    );
}

#[test]
fn pss_salt_rule() {
    assert_eq!(pss_salt_len(HashAlg::Sha256, 256), 32);
    assert_eq!(pss_salt_len(HashAlg::Sha512, 256), 64);
    // 1024-bit key with SHA-512: only k - hLen - 2 = 62 octets fit.
    assert_eq!(pss_salt_len(HashAlg::Sha512, 128), 62);
    assert_eq!(pss_salt_len(HashAlg::Sha512, 10), 0);
}

#[test]
fn encrypt_decrypt_every_scheme() {
    let key = openssl_key();
    let public = key.public();
    let mut rng = counter_rng();
    let mut schemes = vec![RsaEncScheme::Pkcs1v15];
    schemes.extend(HashAlg::ALL.map(RsaEncScheme::Oaep));
    for scheme in schemes {
        for msg in [&b""[..], b"a", MSG, &[0x5a; 62]] {
            let c = rsa_encrypt(&public, scheme, msg, b"LABEL", &mut rng).unwrap();
            assert_eq!(c.len(), 256);
            assert_eq!(
                rsa_decrypt(&key, scheme, &c, b"LABEL\0").unwrap(),
                msg,
                "{scheme:?}"
            );
            // Encryption is randomized.
            assert_ne!(
                c,
                rsa_encrypt(&public, scheme, msg, b"LABEL", &mut rng).unwrap()
            );
        }
    }
    // Message size limits: k - 11 for PKCS#1 v1.5, k - 2 hLen - 2 for OAEP.
    assert!(rsa_encrypt(&public, RsaEncScheme::Pkcs1v15, &[1; 245], b"", &mut rng).is_ok());
    assert_eq!(
        rsa_encrypt(&public, RsaEncScheme::Pkcs1v15, &[1; 246], b"", &mut rng),
        Err(TpmRc::VALUE)
    );
    let oaep = RsaEncScheme::Oaep(HashAlg::Sha256);
    assert!(rsa_encrypt(&public, oaep, &[1; 190], b"", &mut rng).is_ok());
    assert_eq!(
        rsa_encrypt(&public, oaep, &[1; 191], b"", &mut rng),
        Err(TpmRc::VALUE)
    );
    // A 1024-bit modulus cannot carry OAEP with SHA-512 (k < 2 hLen + 2).
    let small = RsaPublic {
        n: vec![0xff; 128],
        e: 0,
    };
    assert_eq!(
        rsa_encrypt(
            &small,
            RsaEncScheme::Oaep(HashAlg::Sha512),
            b"",
            b"",
            &mut rng
        ),
        Err(TpmRc::HASH)
    );
    assert!(rsa_encrypt(
        &small,
        RsaEncScheme::Oaep(HashAlg::Sha384),
        b"",
        b"",
        &mut rng
    )
    .is_ok());
}

#[test]
fn raw_rsa() {
    let key = openssl_key();
    let public = key.public();
    let mut rng = counter_rng();
    let c = rsa_encrypt(&public, RsaEncScheme::Null, b"\x00\x00raw", b"", &mut rng).unwrap();
    assert_eq!(c.len(), 256);
    // Deterministic, and the result comes back modulus-sized, left-padded.
    assert_eq!(
        c,
        rsa_encrypt(&public, RsaEncScheme::Null, b"raw", b"", &mut rng).unwrap()
    );
    let m = rsa_decrypt(&key, RsaEncScheme::Null, &c, b"").unwrap();
    let mut want = vec![0u8; 253];
    want.extend_from_slice(b"raw");
    assert_eq!(m, want);
    // RSADP of an openssl PKCS#1 v1.5 ciphertext shows its padding.
    let em = rsa_decrypt(&key, RsaEncScheme::Null, &h(CT_PKCS1), b"").unwrap();
    assert_eq!(&em[..2], &[0, 2]);
    assert!(em.ends_with(MSG));
    // Re-encrypting a block that is not PKCS#1 v1.5 gives a padding error.
    let mut bad = em.clone();
    bad[1] = 1;
    let c = rsa_encrypt(&public, RsaEncScheme::Null, &bad, b"", &mut rng).unwrap();
    assert_eq!(
        rsa_decrypt(&key, RsaEncScheme::Pkcs1v15, &c, b""),
        Err(TpmRc::VALUE)
    );
    // Values at or above the modulus.
    assert_eq!(
        rsa_encrypt(&public, RsaEncScheme::Null, &h(N), b"", &mut rng),
        Err(TpmRc::VALUE)
    );
    assert_eq!(
        rsa_encrypt(&public, RsaEncScheme::Null, &[1; 257], b"", &mut rng),
        Err(TpmRc::VALUE)
    );
    for scheme in [
        RsaEncScheme::Null,
        RsaEncScheme::Pkcs1v15,
        RsaEncScheme::Oaep(HashAlg::Sha256),
    ] {
        assert_eq!(rsa_decrypt(&key, scheme, &h(N), b""), Err(TpmRc::SIZE));
        assert_eq!(
            rsa_decrypt(&key, scheme, &[0xff; 256], b""),
            Err(TpmRc::SIZE)
        );
        assert_eq!(rsa_decrypt(&key, scheme, &c[1..], b""), Err(TpmRc::SIZE));
        assert_eq!(
            rsa_decrypt(&key, scheme, &[c.clone(), vec![0]].concat(), b""),
            Err(TpmRc::SIZE)
        );
    }
}

#[test]
fn rebuild_errors() {
    let (n, p) = (h(N), h(P));
    let mut p2 = p.clone();
    p2[127] ^= 2;
    assert_eq!(
        rsa_private_from_prime(&n, 0, &p2).unwrap_err(),
        TpmRc::BINDING
    );
    assert_eq!(
        rsa_private_from_prime(&n, 0, &[1]).unwrap_err(),
        TpmRc::BINDING
    );
    assert_eq!(
        rsa_private_from_prime(&n, 0, &[]).unwrap_err(),
        TpmRc::KEY_SIZE
    );
    assert_eq!(
        rsa_private_from_prime(&n, 0, &[1; 129]).unwrap_err(),
        TpmRc::KEY_SIZE
    );
    assert_eq!(
        rsa_private_from_prime(&n[..100], 0, &p[..50]).unwrap_err(),
        TpmRc::KEY_SIZE
    );
    // The exponent must be the key's.
    assert_eq!(rsa_private_from_prime(&n, 3, &p).unwrap_err(), TpmRc::RANGE);
    // Another valid exponent makes a consistent key of that exponent (the
    // public area says which one the object has).
    assert_eq!(
        rsa_private_from_prime(&n, 65539, &p).unwrap().public().e,
        65539
    );
    // Leading zeros are ignored; e = 65537 spelled out is the default.
    let padded = [vec![0u8], p.clone()].concat();
    let k = rsa_private_from_prime(&[vec![0u8], n.clone()].concat(), 65537, &padded).unwrap();
    assert_eq!(k.public().n, n);
}

#[test]
fn generation_arguments() {
    let mut rng = KdfRng::new(HashAlg::Sha256, b"seed", b"RSA", b"");
    for bits in [0u16, 512, 1000, 2047, 2049, 5120, 8192] {
        assert_eq!(
            rsa_generate(bits, 0, &mut rng).unwrap_err(),
            TpmRc::VALUE,
            "{bits}"
        );
    }
    for e in [1u32, 3, 17, 65535, 65541, 0x8000_0000, u32::MAX] {
        assert_eq!(
            rsa_generate(2048, e, &mut rng).unwrap_err(),
            TpmRc::RANGE,
            "{e}"
        );
    }
    assert!(is_prime_u32(65537) && is_prime_u32(65539) && is_prime_u32(4_294_967_291));
    assert!(!is_prime_u32(65541) && !is_prime_u32(4_294_967_295) && !is_prime_u32(1));
}

/// The primary-key mapping: the same stream gives the same key, pinned so that
/// a change of any dependency that alters it fails here.
#[test]
fn generation_is_deterministic_and_pinned() {
    let mut rng = KdfRng::new(HashAlg::Sha256, b"primary seed", b"RSA TEST", b"template");
    let key = rsa_generate(2048, 0, &mut rng).unwrap();
    let public = key.public();
    assert_eq!(public.e, 65537);
    assert_eq!(public.n.len(), 256);
    assert!(public.n[0] & 0x80 != 0);
    assert_eq!(key.prime_p().len(), 128);
    assert_eq!(public.n[..16], h("e65394356bc98e3be6a61d5eca812bbe"));
    assert_eq!(
        HashAlg::Sha256.digest(&public.n),
        h("ba3b5da69e750edc85a20fe453abdbd10085ead84d367cd7df9e02950ef8d428")
    );
    // The key rebuilt from what the TPM stores is the same key.
    let again = rsa_private_from_prime(&public.n, 0, &key.prime_p()).unwrap();
    assert_eq!(again.public(), public);
    let d = HashAlg::Sha256.digest(b"m");
    let s = RsaSigScheme::Pkcs1v15(HashAlg::Sha256);
    let mut rng2 = counter_rng();
    assert_eq!(
        rsa_sign(&key, s, &d, &mut rng2).unwrap(),
        rsa_sign(&again, s, &d, &mut rng2).unwrap()
    );

    // Another exponent (a small key keeps the test quick).
    let mut rng = KdfRng::new(HashAlg::Sha384, b"primary seed", b"RSA TEST", b"e");
    let key = rsa_generate(1024, 65539, &mut rng).unwrap();
    assert_eq!(key.public().e, 65539);
    assert_eq!(key.public().n.len(), 128);
    let c = rsa_encrypt(
        &key.public(),
        RsaEncScheme::Oaep(HashAlg::Sha256),
        b"hi",
        b"",
        &mut rng2,
    )
    .unwrap();
    assert_eq!(
        rsa_decrypt(&key, RsaEncScheme::Oaep(HashAlg::Sha256), &c, b"").unwrap(),
        b"hi"
    );
}
