//! Protection of data that leaves the TPM: the private area of an object (Part 1,
//! 23 "Protected Storage" and 24.3-24.5: symmetric encryption and an integrity
//! HMAC, both keyed from the parent's seedValue) and saved contexts (Part 1,
//! 30.3.2-30.3.3).
//!
//! Private area (TPM2B_PRIVATE contents), as the reference implementation's
//! SensitiveToPrivate lays it out:
//!
//! ```text
//! integrity : TPM2B_DIGEST  HMAC_pNameAlg(hmacKey, TPM2B_IV(iv) || encSensitive || Name)
//! iv        : TPM2B_IV      one cipher block, random
//! encSensitive              CFB_pSym(symKey, iv, TPM2B(TPMT_SENSITIVE))
//!
//! symKey  = KDFa(pNameAlg, seedValue, "STORAGE", Name, "", pSym.keyBits)
//! hmacKey = KDFa(pNameAlg, seedValue, "INTEGRITY", "", "", digest bits of pNameAlg)
//! ```
//!
//! where pNameAlg, pSym and seedValue are the parent's nameAlg, symmetric
//! definition and the seedValue of its sensitive area. A blob therefore loads only
//! under the parent that made it, and only with the public area whose Name it was
//! bound to.
//!
//! Saved context (TPM2B_CONTEXT_DATA contents):
//!
//! ```text
//! integrity : TPM2B_DIGEST  HMAC_H(proof, totalResetCount || [restartCount] ||
//!                                  sequence || savedHandle || encContext)
//! encContext                CFB_AES256(key, iv, sequence || object)
//! key || iv = KDFa(H, proof, "CONTEXT", sequence, savedHandle, 256 + 128)
//! ```
//!
//! with H the ticket hash, proof the proof value of the context's hierarchy (the
//! NULL hierarchy's changes at every TPM Reset), restartCount only for stClear
//! objects (savedHandle 0x80000002), so a context dies at the next TPM Reset (and
//! an stClear one at the next Restart).

use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::ct_eq;
use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::crypto::sym::{aes_decrypt, aes_encrypt, SymMode};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::state::ticket::TICKET_HASH;
use crate::types::constants::TpmAlgId;
use crate::types::public::TpmtSymDefObject;
use crate::types::sensitive::{TpmtSensitive, SAVED_ST_CLEAR};
use crate::types::sized::Tpm2bDigest;

use super::KeyObject;

/// KDFa label of the private-area encryption key.
pub const STORAGE_LABEL: &[u8] = b"STORAGE";
/// KDFa label of the private-area HMAC key.
pub const INTEGRITY_LABEL: &[u8] = b"INTEGRITY";
/// KDFa label of the context encryption key.
pub const CONTEXT_LABEL: &[u8] = b"CONTEXT";

/// The AES block (and IV) size.
const BLOCK: usize = 16;
/// Context encryption: AES-256-CFB.
const CONTEXT_KEY_BITS: u32 = 256;

fn bits(octets: usize) -> u32 {
    u32::try_from(octets.saturating_mul(8)).unwrap_or(0)
}

/// The parent's key length for protecting children (AES only in this TPM).
fn protection_key_bits(parent: &KeyObject) -> TpmResult<u16> {
    match parent.protection() {
        TpmtSymDefObject::Cipher {
            algorithm: TpmAlgId::AES,
            key_bits,
            ..
        } => Ok(key_bits),
        _ => Err(TpmRc::SYMMETRIC),
    }
}

fn outer_hmac(alg: HashAlg, seed: &[u8], iv_and_data: &[u8], name: &[u8]) -> Vec<u8> {
    let key = Zeroizing::new(kdfa(
        alg,
        seed,
        INTEGRITY_LABEL,
        &[],
        &[],
        bits(alg.digest_size()),
    ));
    alg.hmac_parts(&key, &[iv_and_data, name])
}

/// Wraps `sensitive` of the object named `name` for storage outside the TPM
/// under `parent` (SensitiveToPrivate), with `iv` as the CFB IV (one block of
/// fresh random bytes).
pub fn wrap_private(
    parent: &KeyObject,
    name: &[u8],
    sensitive: &TpmtSensitive,
    iv: &[u8; BLOCK],
) -> TpmResult<Vec<u8>> {
    let alg = parent.name_alg().ok_or(TpmRc::FAILURE)?;
    let key_bits = protection_key_bits(parent)?;
    let seed = parent.seed();
    let key = Zeroizing::new(kdfa(
        alg,
        seed,
        STORAGE_LABEL,
        name,
        &[],
        u32::from(key_bits),
    ));
    let mut plain = Zeroizing::new(Vec::new());
    let inner = Zeroizing::new(sensitive.to_bytes());
    let len = u16::try_from(inner.len()).map_err(|_| TpmRc::FAILURE)?;
    plain.extend_from_slice(&len.to_be_bytes());
    plain.extend_from_slice(&inner);
    let (enc, _) = aes_encrypt(&key, SymMode::Cfb, iv, &plain)?;
    let mut iv_and_data = Vec::with_capacity(enc.len().saturating_add(BLOCK).saturating_add(2));
    iv_and_data.extend_from_slice(&[0, 16]);
    iv_and_data.extend_from_slice(iv);
    iv_and_data.extend_from_slice(&enc);
    let integrity = outer_hmac(alg, seed, &iv_and_data, name);
    let mut out = Vec::with_capacity(
        iv_and_data
            .len()
            .saturating_add(integrity.len())
            .saturating_add(2),
    );
    out.extend_from_slice(&u16::try_from(integrity.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&integrity);
    out.extend_from_slice(&iv_and_data);
    Ok(out)
}

/// Checks and decrypts a private area made by [`wrap_private`] (PrivateToSensitive).
///
/// Format-one codes are bare (the command blames inPrivate): `TPM_RC_INSUFFICIENT`
/// or `TPM_RC_SIZE` for a malformed integrity field, `TPM_RC_INTEGRITY` when the
/// HMAC does not verify (tampered blob, wrong parent or wrong public area),
/// `TPM_RC_VALUE` for an IV that is not one block. `TPM_RC_SENSITIVE` (format zero)
/// when the decrypted area does not unmarshal.
pub fn unwrap_private(parent: &KeyObject, name: &[u8], blob: &[u8]) -> TpmResult<TpmtSensitive> {
    let alg = parent.name_alg().ok_or(TpmRc::FAILURE)?;
    let key_bits = protection_key_bits(parent)?;
    let seed = parent.seed();
    let mut r = Reader::new(blob);
    let integrity = Tpm2bDigest::unmarshal(&mut r)?;
    let iv_and_data = r.rest();
    let want = outer_hmac(alg, seed, iv_and_data, name);
    if !ct_eq(&want, integrity.as_slice()) {
        return Err(TpmRc::INTEGRITY);
    }
    let iv_len = usize::from(r.u16()?);
    if iv_len != BLOCK {
        return Err(TpmRc::VALUE);
    }
    let iv = r.bytes(BLOCK)?;
    let key = Zeroizing::new(kdfa(
        alg,
        seed,
        STORAGE_LABEL,
        name,
        &[],
        u32::from(key_bits),
    ));
    let (plain, _) = aes_decrypt(&key, SymMode::Cfb, iv, r.rest())?;
    let plain = Zeroizing::new(plain);
    let mut pr = Reader::new(&plain);
    let size = pr.u16().map_err(|_| TpmRc::SENSITIVE)?;
    if usize::from(size) != pr.remaining() {
        return Err(TpmRc::SENSITIVE);
    }
    TpmtSensitive::from_bytes(pr.rest()).map_err(|_| TpmRc::SENSITIVE)
}

/// What the context integrity HMAC binds besides the blob.
pub struct ContextBinding<'a> {
    /// The proof of the context's hierarchy.
    pub proof: &'a [u8],
    /// totalResetCount: a context does not survive a TPM Reset.
    pub total_resets: u32,
    /// restartCount, bound only for stClear objects.
    pub restarts: u32,
    /// TPMS_CONTEXT.sequence
    pub sequence: u64,
    /// TPMS_CONTEXT.savedHandle
    pub saved_handle: u32,
}

impl ContextBinding<'_> {
    fn key_iv(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(kdfa(
            TICKET_HASH,
            self.proof,
            CONTEXT_LABEL,
            &self.sequence.to_be_bytes(),
            &self.saved_handle.to_be_bytes(),
            CONTEXT_KEY_BITS.saturating_add(bits(BLOCK)),
        ))
    }

    fn integrity(&self, enc: &[u8]) -> Vec<u8> {
        let resets = self.total_resets.to_be_bytes();
        let restarts = self.restarts.to_be_bytes();
        let restarts: &[u8] = if self.saved_handle == SAVED_ST_CLEAR {
            &restarts
        } else {
            &[]
        };
        TICKET_HASH.hmac_parts(
            self.proof,
            &[
                &resets,
                restarts,
                &self.sequence.to_be_bytes(),
                &self.saved_handle.to_be_bytes(),
                enc,
            ],
        )
    }

    fn split(key_iv: &[u8]) -> TpmResult<(&[u8], &[u8])> {
        key_iv
            .split_at_checked(usize::try_from(CONTEXT_KEY_BITS / 8).unwrap_or(0))
            .ok_or(TpmRc::FAILURE)
    }

    /// The contextBlob for `plain` (the serialized object).
    pub fn seal(&self, plain: &[u8]) -> TpmResult<Vec<u8>> {
        let key_iv = self.key_iv();
        let (key, iv) = Self::split(&key_iv)?;
        let mut data = Zeroizing::new(self.sequence.to_be_bytes().to_vec());
        data.extend_from_slice(plain);
        let (enc, _) = aes_encrypt(key, SymMode::Cfb, iv, &data)?;
        let integrity = self.integrity(&enc);
        let mut out =
            Vec::with_capacity(enc.len().saturating_add(integrity.len()).saturating_add(2));
        out.extend_from_slice(&u16::try_from(integrity.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&integrity);
        out.extend_from_slice(&enc);
        Ok(out)
    }

    /// Checks and decrypts a contextBlob: `TPM_RC_SIZE` for a malformed blob,
    /// `TPM_RC_INTEGRITY` when it was not made by this TPM for this sequence,
    /// handle, hierarchy and reset cycle.
    pub fn open(&self, blob: &[u8]) -> TpmResult<Zeroizing<Vec<u8>>> {
        let mut r = Reader::new(blob);
        let integrity = Tpm2bDigest::unmarshal(&mut r).map_err(|_| TpmRc::SIZE)?;
        if integrity.len() != TICKET_HASH.digest_size() || r.remaining() < 8 {
            return Err(TpmRc::SIZE);
        }
        if !ct_eq(&self.integrity(r.rest()), integrity.as_slice()) {
            return Err(TpmRc::INTEGRITY);
        }
        let key_iv = self.key_iv();
        let (key, iv) = Self::split(&key_iv)?;
        let (plain, _) = aes_decrypt(key, SymMode::Cfb, iv, r.rest())?;
        let plain = Zeroizing::new(plain);
        let (fingerprint, rest) = plain.split_at_checked(8).ok_or(TpmRc::FAILURE)?;
        if fingerprint != self.sequence.to_be_bytes() {
            // The HMAC verified, so only a broken TPM gets here.
            return Err(TpmRc::FAILURE);
        }
        Ok(Zeroizing::new(rest.to_vec()))
    }
}

/// Fresh IV octets.
pub fn new_iv(fill: impl FnOnce(&mut [u8])) -> [u8; BLOCK] {
    let mut iv = [0u8; BLOCK];
    fill(&mut iv);
    iv
}
