//! AES (FIPS 197) with 128- and 256-bit keys in the block-cipher modes of Part 2
//! TPMI_ALG_SYM_MODE (NIST SP 800-38A): CFB (full-block, 128-bit feedback, the
//! mode of parameter encryption, credentials and duplication), CBC, CTR, OFB and
//! ECB.
//!
//! The IV works as in TPM2_EncryptDecrypt (Part 3 §15.2): each call takes the
//! chaining value in and returns the chaining value to continue with (`ivOut`),
//! so a long message can be processed in pieces:
//! - CBC: the last ciphertext block;
//! - CFB: the last ciphertext block; when the data ended in a partial block, its
//!   ciphertext octets followed by zeros (as the reference implementation does);
//! - CTR: the counter (the whole 128-bit block, big-endian, wrapping) after one
//!   increment per block used, a trailing partial block included;
//! - OFB: the last encrypted feedback block;
//! - ECB: no IV; `iv` is returned unchanged.
//!
//! Empty data returns the IV unchanged. There is no padding: CBC and ECB data
//! that is not a whole number of blocks is `TPM_RC_SIZE`. A key other than 16
//! or 32 octets is `TPM_RC_KEY_SIZE`; an IV other than 16 octets (except for
//! ECB, which ignores it) is `TPM_RC_SIZE`.
//!
//! The modes are written over the block primitive so that these chaining rules
//! are exact; the steps that do not depend on the previous block's output (ECB,
//! CTR, CBC and CFB decryption) hand all blocks to the cipher at once, which lets
//! it work on several blocks in parallel.

use alloc::vec::Vec;

use aes::cipher::array::Array;
use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use aes::Block;
use zeroize::Zeroize;

use crate::rc::{TpmRc, TpmResult};

/// The AES block size in octets.
pub const AES_BLOCK: usize = 16;

/// A block-cipher mode (TPMI_ALG_SYM_MODE without CMAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymMode {
    /// TPM_ALG_CFB
    Cfb,
    /// TPM_ALG_CBC
    Cbc,
    /// TPM_ALG_CTR
    Ctr,
    /// TPM_ALG_OFB
    Ofb,
    /// TPM_ALG_ECB
    Ecb,
}

/// An expanded AES key (zeroized on drop by the `aes` crate).
enum Aes {
    A128(aes::Aes128),
    A256(aes::Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> TpmResult<Aes> {
        match key.len() {
            16 => aes::Aes128::new_from_slice(key).map(Aes::A128),
            32 => aes::Aes256::new_from_slice(key).map(Aes::A256),
            _ => return Err(TpmRc::KEY_SIZE),
        }
        .map_err(|_| TpmRc::KEY_SIZE)
    }

    fn encrypt_block(&self, b: &mut Block) {
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }

    fn encrypt_blocks(&self, b: &mut [Block]) {
        match self {
            Aes::A128(c) => c.encrypt_blocks(b),
            Aes::A256(c) => c.encrypt_blocks(b),
        }
    }

    fn decrypt_blocks(&self, b: &mut [Block]) {
        match self {
            Aes::A128(c) => c.decrypt_blocks(b),
            Aes::A256(c) => c.decrypt_blocks(b),
        }
    }
}

fn block_from(bytes: &[u8]) -> Block {
    let mut b = Block::default();
    for (d, s) in b.iter_mut().zip(bytes) {
        *d = *s;
    }
    b
}

fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= *s;
    }
}

/// Checks the IV of a chaining mode and returns it as a block.
fn iv_block(iv: &[u8]) -> TpmResult<Block> {
    if iv.len() == AES_BLOCK {
        Ok(block_from(iv))
    } else {
        Err(TpmRc::SIZE)
    }
}

fn whole_blocks(data: &[u8]) -> TpmResult<()> {
    if data.len().is_multiple_of(AES_BLOCK) {
        Ok(())
    } else {
        Err(TpmRc::SIZE)
    }
}

/// Runs `f` over `buf` viewed as whole blocks (`buf.len()` is a multiple of 16).
fn as_blocks(buf: &mut [u8], f: impl FnOnce(&mut [Block])) {
    let (blocks, _rest) = Array::slice_as_chunks_mut(buf);
    f(blocks)
}

/// CTR keystream XORed into `out`; returns the next counter.
fn ctr(cipher: &Aes, iv: &Block, out: &mut [u8]) -> Block {
    let start = u128::from_be_bytes(iv.0);
    let mut next = start;
    let mut ks: Vec<Block> = out
        .chunks(AES_BLOCK)
        .map(|_| {
            let b = Block::from(next.to_be_bytes());
            next = next.wrapping_add(1);
            b
        })
        .collect();
    cipher.encrypt_blocks(&mut ks);
    for (chunk, k) in out.chunks_mut(AES_BLOCK).zip(ks.iter_mut()) {
        xor_into(chunk, k);
        k.zeroize();
    }
    Block::from(next.to_be_bytes())
}

/// OFB keystream XORed into `out`; returns the last feedback block.
fn ofb(cipher: &Aes, iv: &Block, out: &mut [u8]) -> Block {
    let mut reg = *iv;
    for chunk in out.chunks_mut(AES_BLOCK) {
        cipher.encrypt_block(&mut reg);
        xor_into(chunk, &reg);
    }
    reg
}

/// The CFB feedback after the ciphertext `ct` (its last block, zero-padded).
fn cfb_feedback(iv: &Block, ct: &[u8]) -> Block {
    match ct.chunks(AES_BLOCK).last() {
        Some(last) => block_from(last),
        None => *iv,
    }
}

/// Encrypts `data` with AES under `key` in `mode`, starting from `iv`; returns
/// (ciphertext, ivOut).
pub fn aes_encrypt(
    key: &[u8],
    mode: SymMode,
    iv: &[u8],
    data: &[u8],
) -> TpmResult<(Vec<u8>, Vec<u8>)> {
    let cipher = Aes::new(key)?;
    let mut out = data.to_vec();
    if mode == SymMode::Ecb {
        whole_blocks(data)?;
        as_blocks(&mut out, |b| cipher.encrypt_blocks(b));
        return Ok((out, iv.to_vec()));
    }
    let iv = iv_block(iv)?;
    let iv_out = match mode {
        SymMode::Cfb => {
            let mut reg = iv;
            for chunk in out.chunks_mut(AES_BLOCK) {
                cipher.encrypt_block(&mut reg);
                xor_into(chunk, &reg);
                reg = block_from(chunk);
            }
            cfb_feedback(&iv, &out)
        }
        SymMode::Cbc => {
            whole_blocks(data)?;
            let mut reg = iv;
            for chunk in out.chunks_mut(AES_BLOCK) {
                xor_into(&mut reg, chunk);
                cipher.encrypt_block(&mut reg);
                chunk.copy_from_slice(&reg);
            }
            reg
        }
        SymMode::Ctr => ctr(&cipher, &iv, &mut out),
        SymMode::Ofb => ofb(&cipher, &iv, &mut out),
        SymMode::Ecb => iv,
    };
    Ok((out, iv_out.to_vec()))
}

/// Decrypts `data` with AES under `key` in `mode`, starting from `iv`; returns
/// (plaintext, ivOut).
pub fn aes_decrypt(
    key: &[u8],
    mode: SymMode,
    iv: &[u8],
    data: &[u8],
) -> TpmResult<(Vec<u8>, Vec<u8>)> {
    let cipher = Aes::new(key)?;
    let mut out = data.to_vec();
    if mode == SymMode::Ecb {
        whole_blocks(data)?;
        as_blocks(&mut out, |b| cipher.decrypt_blocks(b));
        return Ok((out, iv.to_vec()));
    }
    let iv = iv_block(iv)?;
    let iv_out = match mode {
        SymMode::Cfb => {
            // Keystream block j is E(register j): the IV, then each full
            // ciphertext block; all of them are known up front.
            let mut ks: Vec<Block> = core::iter::once(iv)
                .chain(data.chunks(AES_BLOCK).map(block_from))
                .take(data.len().div_ceil(AES_BLOCK))
                .collect();
            cipher.encrypt_blocks(&mut ks);
            for (chunk, k) in out.chunks_mut(AES_BLOCK).zip(ks.iter_mut()) {
                xor_into(chunk, k);
                k.zeroize();
            }
            cfb_feedback(&iv, data)
        }
        SymMode::Cbc => {
            whole_blocks(data)?;
            as_blocks(&mut out, |b| cipher.decrypt_blocks(b));
            let prev = core::iter::once(&iv[..]).chain(data.chunks(AES_BLOCK));
            for (chunk, p) in out.chunks_mut(AES_BLOCK).zip(prev) {
                xor_into(chunk, p);
            }
            cfb_feedback(&iv, data)
        }
        SymMode::Ctr => ctr(&cipher, &iv, &mut out),
        SymMode::Ofb => ofb(&cipher, &iv, &mut out),
        SymMode::Ecb => iv,
    };
    Ok((out, iv_out.to_vec()))
}

#[cfg(test)]
mod tests;
