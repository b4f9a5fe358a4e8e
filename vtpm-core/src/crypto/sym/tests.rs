//! AES modes against the NIST SP 800-38A, Appendix F example vectors (F.1 ECB,
//! F.2 CBC, F.3.13/F.3.17 CFB128, F.4 OFB, F.5 CTR, for AES-128 and AES-256),
//! the TPM chaining rules for ivOut, and a differential check against the
//! RustCrypto mode crates over many lengths.

use super::*;
use alloc::vec;

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const PT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                  30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const K128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const K256: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/// (key, mode, ciphertext)
const VECTORS: &[(&str, SymMode, &str)] = &[
    (
        K128,
        SymMode::Ecb,
        "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
                          43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
    ),
    (
        K128,
        SymMode::Cbc,
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
                          73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
    ),
    (
        K128,
        SymMode::Cfb,
        "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b\
                          26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6",
    ),
    (
        K128,
        SymMode::Ofb,
        "3b3fd92eb72dad20333449f8e83cfb4a7789508d16918f03f53c52dac54ed825\
                          9740051e9c5fecf64344f7a82260edcc304c6528f659c77866a510d9c1d6ae5e",
    ),
    (
        K128,
        SymMode::Ctr,
        "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
                          5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
    ),
    (
        K256,
        SymMode::Ecb,
        "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870\
                          b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7",
    ),
    (
        K256,
        SymMode::Cbc,
        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
                          39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
    ),
    (
        K256,
        SymMode::Cfb,
        "dc7e84bfda79164b7ecd8486985d386039ffed143b28b1c832113c6331e5407b\
                          df10132415e54b92a13ed0a8267ae2f975a385741ab9cef82031623d55b1e471",
    ),
    (
        K256,
        SymMode::Ofb,
        "dc7e84bfda79164b7ecd8486985d38604febdc6740d20b3ac88f6ad82a4fb08d\
                          71ab47a086e86eedf39d1c5bba97c4080126141d67f37be8538f5a8be740e484",
    ),
    (
        K256,
        SymMode::Ctr,
        "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
                          2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
    ),
];

fn iv_for(mode: SymMode) -> Vec<u8> {
    match mode {
        SymMode::Ctr => h(CTR_IV),
        SymMode::Ecb => Vec::new(),
        _ => h(IV),
    }
}

#[test]
fn sp800_38a_vectors_both_directions() {
    let pt = h(PT);
    for (key, mode, ct) in VECTORS {
        let (key, ct, iv) = (h(key), h(ct), iv_for(*mode));
        let (out, iv_enc) = aes_encrypt(&key, *mode, &iv, &pt).unwrap();
        assert_eq!(out, ct, "encrypt {mode:?} {}", key.len());
        let (back, iv_dec) = aes_decrypt(&key, *mode, &iv, &ct).unwrap();
        assert_eq!(back, pt, "decrypt {mode:?} {}", key.len());
        assert_eq!(
            iv_enc, iv_dec,
            "{mode:?}: both directions end in the same state"
        );
    }
}

#[test]
fn iv_out_follows_the_tpm_rules() {
    let pt = h(PT);
    let key = h(K128);
    let ct = |mode| {
        VECTORS
            .iter()
            .find(|v| v.0 == K128 && v.1 == mode)
            .map(|v| h(v.2))
            .unwrap()
    };
    // CBC and CFB: the last ciphertext block.
    for mode in [SymMode::Cbc, SymMode::Cfb] {
        let (_, iv_out) = aes_encrypt(&key, mode, &h(IV), &pt).unwrap();
        assert_eq!(iv_out, ct(mode)[48..], "{mode:?}");
    }
    // CTR: the counter after four blocks.
    let (_, iv_out) = aes_encrypt(&key, SymMode::Ctr, &h(CTR_IV), &pt).unwrap();
    assert_eq!(iv_out, h("f0f1f2f3f4f5f6f7f8f9fafbfcfdff03"));
    // OFB: the last keystream block (ciphertext XOR plaintext of block 4).
    let (_, iv_out) = aes_encrypt(&key, SymMode::Ofb, &h(IV), &pt).unwrap();
    let ks: Vec<u8> = ct(SymMode::Ofb)[48..]
        .iter()
        .zip(&pt[48..])
        .map(|(c, p)| c ^ p)
        .collect();
    assert_eq!(iv_out, ks);
    // ECB: the IV passes through untouched.
    let (_, iv_out) = aes_encrypt(&key, SymMode::Ecb, b"", &pt).unwrap();
    assert!(iv_out.is_empty());
    // Empty data: IV unchanged, no output.
    for mode in [SymMode::Cfb, SymMode::Cbc, SymMode::Ctr, SymMode::Ofb] {
        let iv = iv_for(mode);
        assert_eq!(
            aes_encrypt(&key, mode, &iv, b"").unwrap(),
            (vec![], iv.clone())
        );
        assert_eq!(aes_decrypt(&key, mode, &iv, b"").unwrap(), (vec![], iv));
    }
}

#[test]
fn partial_blocks_and_chaining() {
    let pt = h(PT);
    let key = h(K256);
    for mode in [SymMode::Cfb, SymMode::Ctr, SymMode::Ofb] {
        let full = VECTORS
            .iter()
            .find(|v| v.0 == K256 && v.1 == mode)
            .map(|v| h(v.2))
            .unwrap();
        let iv = iv_for(mode);
        // A stream mode's output for a prefix is the prefix of the output.
        for n in [1usize, 15, 17, 37, 63] {
            let (c, _) = aes_encrypt(&key, mode, &iv, &pt[..n]).unwrap();
            assert_eq!(c, full[..n], "{mode:?} {n}");
            let (p, _) = aes_decrypt(&key, mode, &iv, &c).unwrap();
            assert_eq!(p, pt[..n], "{mode:?} {n}");
        }
        // Split at a block boundary, the ivOut of the first call continues the
        // message exactly.
        let (c1, iv1) = aes_encrypt(&key, mode, &iv, &pt[..32]).unwrap();
        let (c2, _) = aes_encrypt(&key, mode, &iv1, &pt[32..]).unwrap();
        assert_eq!([c1, c2].concat(), full, "{mode:?}");
        let (p1, iv1) = aes_decrypt(&key, mode, &iv, &full[..16]).unwrap();
        let (p2, _) = aes_decrypt(&key, mode, &iv1, &full[16..]).unwrap();
        assert_eq!([p1, p2].concat(), pt, "{mode:?}");
    }
    // CFB with a trailing partial block: ivOut is its ciphertext, zero-padded.
    let (c, iv_out) = aes_encrypt(&key, SymMode::Cfb, &h(IV), &pt[..21]).unwrap();
    let mut expect = c[16..].to_vec();
    expect.resize(16, 0);
    assert_eq!(iv_out, expect);
    assert_eq!(
        aes_decrypt(&key, SymMode::Cfb, &h(IV), &c).unwrap().1,
        expect
    );
    // CTR with a trailing partial block counts it; the counter wraps at 2^128.
    let (_, iv_out) = aes_encrypt(&key, SymMode::Ctr, &[0xff; 16], &pt[..17]).unwrap();
    assert_eq!(iv_out, h("00000000000000000000000000000001"));
}

#[test]
fn size_and_key_errors() {
    let key = h(K128);
    let iv = h(IV);
    for mode in [SymMode::Cbc, SymMode::Ecb] {
        assert_eq!(aes_encrypt(&key, mode, &iv, &[0; 15]), Err(TpmRc::SIZE));
        assert_eq!(aes_decrypt(&key, mode, &iv, &[0; 17]), Err(TpmRc::SIZE));
    }
    for mode in [SymMode::Cfb, SymMode::Cbc, SymMode::Ctr, SymMode::Ofb] {
        assert_eq!(
            aes_encrypt(&key, mode, &iv[..15], &[0; 16]),
            Err(TpmRc::SIZE)
        );
        assert_eq!(
            aes_decrypt(&key, mode, &[0; 17], &[0; 16]),
            Err(TpmRc::SIZE)
        );
        assert_eq!(aes_encrypt(&key, mode, b"", &[0; 16]), Err(TpmRc::SIZE));
    }
    for bad in [0usize, 8, 15, 24, 33] {
        assert_eq!(
            aes_encrypt(&vec![0; bad], SymMode::Cfb, &iv, b"x"),
            Err(TpmRc::KEY_SIZE),
            "{bad}"
        );
    }
}

/// The same results as the RustCrypto mode crates for many lengths.
#[test]
fn agrees_with_mode_crates() {
    use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, StreamCipher};
    let key = h(K128);
    let iv = h(IV);
    let data: Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(37)).collect();
    for n in 0..data.len() {
        let msg = &data[..n];
        let mut want = msg.to_vec();
        cfb_mode::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .unwrap()
            .encrypt(&mut want);
        assert_eq!(
            aes_encrypt(&key, SymMode::Cfb, &iv, msg).unwrap().0,
            want,
            "cfb {n}"
        );
        let mut back = want.clone();
        cfb_mode::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .unwrap()
            .decrypt(&mut back);
        assert_eq!(aes_decrypt(&key, SymMode::Cfb, &iv, &want).unwrap().0, back);

        let mut want = msg.to_vec();
        ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&key, &iv)
            .unwrap()
            .apply_keystream(&mut want);
        assert_eq!(
            aes_encrypt(&key, SymMode::Ctr, &iv, msg).unwrap().0,
            want,
            "ctr {n}"
        );

        let mut want = msg.to_vec();
        ofb::Ofb::<aes::Aes128>::new_from_slices(&key, &iv)
            .unwrap()
            .apply_keystream(&mut want);
        assert_eq!(
            aes_encrypt(&key, SymMode::Ofb, &iv, msg).unwrap().0,
            want,
            "ofb {n}"
        );

        if n % 16 == 0 {
            let mut want = msg.to_vec();
            let (blocks, _) = Array::slice_as_chunks_mut(&mut want);
            cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv)
                .unwrap()
                .encrypt_blocks(blocks);
            assert_eq!(
                aes_encrypt(&key, SymMode::Cbc, &iv, msg).unwrap().0,
                want,
                "cbc {n}"
            );
            let mut back = want.clone();
            let (blocks, _) = Array::slice_as_chunks_mut(&mut back);
            cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
                .unwrap()
                .decrypt_blocks(blocks);
            assert_eq!(back, msg);

            let mut want = msg.to_vec();
            let (blocks, _) = Array::slice_as_chunks_mut(&mut want);
            ecb::Encryptor::<aes::Aes128>::new_from_slice(&key)
                .unwrap()
                .encrypt_blocks(blocks);
            assert_eq!(
                aes_encrypt(&key, SymMode::Ecb, b"", msg).unwrap().0,
                want,
                "ecb {n}"
            );
        }
    }
}
