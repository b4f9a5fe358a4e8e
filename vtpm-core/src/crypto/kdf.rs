//! Key derivation functions of Part 1, clause 11.4.10: KDFa (§11.4.10.2, the NIST
//! SP 800-108 counter-mode KDF with HMAC) and KDFe (§11.4.10.3, the NIST SP 800-56A
//! concatenation KDF).
//!
//! KDFa block `i` (i = 1, 2, ...) is
//! `HMAC_hash(key, [i]_32 || label || 0x00 || contextU || contextV || [bits]_32)`,
//! and KDFe block `i` is `hash([i]_32 || Z || label || 0x00 || partyUInfo ||
//! partyVInfo)`; the blocks are concatenated and cut to `ceil(bits / 8)` octets.
//! Integers are big-endian. The `0x00` after the label is added only when the
//! label does not already end in one (so an empty label contributes a single
//! `0x00`), as the reference implementation does. When `bits` is not a multiple
//! of 8, the unused high-order bits of the first octet are cleared.

use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use zeroize::Zeroize;

use super::hash::{HashAlg, Hasher};

/// An HMAC key schedule, keyed once and cloned for each message.
#[derive(Clone)]
pub(crate) enum HmacKey {
    Sha1(hmac::Hmac<sha1::Sha1>),
    Sha256(hmac::Hmac<sha2::Sha256>),
    Sha384(hmac::Hmac<sha2::Sha384>),
    Sha512(hmac::Hmac<sha2::Sha512>),
}

impl HmacKey {
    /// Keys an HMAC with `hash` (HMAC accepts keys of every length).
    pub(crate) fn new(hash: HashAlg, key: &[u8]) -> HmacKey {
        fn keyed<M: KeyInit>(key: &[u8]) -> M {
            // `new_from_slice` cannot fail for HMAC; the fallback keeps the
            // function total without a panic path.
            M::new_from_slice(key).unwrap_or_else(|_| M::new(&Default::default()))
        }
        match hash {
            HashAlg::Sha1 => HmacKey::Sha1(keyed(key)),
            HashAlg::Sha256 => HmacKey::Sha256(keyed(key)),
            HashAlg::Sha384 => HmacKey::Sha384(keyed(key)),
            HashAlg::Sha512 => HmacKey::Sha512(keyed(key)),
        }
    }

    /// HMAC of the concatenation of `parts`, appended to `out`.
    pub(crate) fn mac_into(&self, parts: &[&[u8]], out: &mut Vec<u8>) {
        macro_rules! run {
            ($m:expr) => {{
                let mut m = $m.clone();
                for p in parts {
                    m.update(p);
                }
                let mut tag = m.finalize().into_bytes();
                out.extend_from_slice(&tag);
                tag.zeroize();
            }};
        }
        match self {
            HmacKey::Sha1(m) => run!(m),
            HmacKey::Sha256(m) => run!(m),
            HmacKey::Sha384(m) => run!(m),
            HmacKey::Sha512(m) => run!(m),
        }
    }
}

/// The octet appended after a KDF label: `[0]` unless the label already ends
/// with a zero octet.
pub(crate) fn label_terminator(label: &[u8]) -> &'static [u8] {
    if label.last() == Some(&0) {
        &[]
    } else {
        &[0]
    }
}

/// Octets needed for `bits` bits.
fn octets(bits: u32) -> usize {
    usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX)
}

/// Clears the high-order bits of the first octet beyond `bits`.
fn mask_first_octet(out: &mut [u8], bits: u32) {
    let rem = bits % 8;
    if rem != 0 {
        if let Some(first) = out.first_mut() {
            *first &= (1u8 << rem).wrapping_sub(1);
        }
    }
}

/// KDFa — Part 1 §11.4.10.2: `bits` bits (in `ceil(bits / 8)` octets) derived
/// from `key` by HMAC-`hash` in counter mode, bound to `label` and the two
/// contexts.
pub fn kdfa(
    hash: HashAlg,
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> Vec<u8> {
    let len = octets(bits);
    let mac = HmacKey::new(hash, key);
    let term = label_terminator(label);
    let size = bits.to_be_bytes();
    let mut out = Vec::with_capacity(len.saturating_add(hash.digest_size()));
    let mut counter: u32 = 0;
    while out.len() < len {
        counter = counter.wrapping_add(1);
        let c = counter.to_be_bytes();
        mac.mac_into(&[&c, label, term, context_u, context_v, &size], &mut out);
    }
    truncate_secret(&mut out, len);
    mask_first_octet(&mut out, bits);
    out
}

/// KDFe — Part 1 §11.4.10.3: `bits` bits derived from the shared secret `z` (the
/// x coordinate of an ECDH product) by `hash` in counter mode, bound to the
/// label ("Use") and the two party infos.
pub fn kdfe(
    hash: HashAlg,
    z: &[u8],
    label: &[u8],
    party_u: &[u8],
    party_v: &[u8],
    bits: u32,
) -> Vec<u8> {
    let len = octets(bits);
    let term = label_terminator(label);
    let mut out = Vec::with_capacity(len.saturating_add(hash.digest_size()));
    let mut counter: u32 = 0;
    while out.len() < len {
        counter = counter.wrapping_add(1);
        let mut h = Hasher::new(hash);
        for part in [&counter.to_be_bytes()[..], z, label, term, party_u, party_v] {
            h.update(part);
        }
        let mut block = h.finish();
        out.extend_from_slice(&block);
        block.zeroize();
    }
    truncate_secret(&mut out, len);
    mask_first_octet(&mut out, bits);
    out
}

/// XOR obfuscation — Part 1 §11.4.6.3 (TPM_ALG_XOR, used by keyed-hash XOR
/// objects and XOR parameter encryption): `data` XORed with
/// `KDFa(hash, key, "XOR", context_u, context_v, 8 * data.len())`. The same call
/// undoes it. Data too long for a 32-bit bit count is returned unchanged (no
/// TPM buffer is that large).
pub fn xor_obfuscate(
    hash: HashAlg,
    key: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    data: &[u8],
) -> Vec<u8> {
    let Some(bits) = u32::try_from(data.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
    else {
        return data.to_vec();
    };
    let mut mask = kdfa(hash, key, b"XOR", context_u, context_v, bits);
    let out = data.iter().zip(mask.iter()).map(|(d, m)| d ^ m).collect();
    mask.zeroize();
    out
}

/// Cuts `v` to `len` octets, clearing the octets cut off.
pub(crate) fn truncate_secret(v: &mut Vec<u8>, len: usize) {
    if let Some(tail) = v.get_mut(len..) {
        tail.zeroize();
    }
    v.truncate(len);
}

#[cfg(test)]
mod tests;
