//! Deterministic random streams: [`KdfRng`], the KDFa-based byte stream from which
//! primary keys are derived (Part 1, clause 26.3 "Primary Object Creation": a
//! primary object is a function of its hierarchy's primary seed and its template),
//! and [`FnRng`], which lets a plain `FnMut(&mut [u8])` source (the TPM's DRBG)
//! drive the RustCrypto primitives.
//!
//! # How primary keys are derived
//!
//! A [`KdfRng`] is keyed with the hierarchy's primary seed, uses the template's
//! `nameAlg` as its hash and is bound to the template through its `label` and
//! `context` (the object code chooses them: a purpose label and a digest of the
//! template's public area, including `unique`, plus the sensitive data). Its
//! output is the KDFa construction of Part 1 §11.4.10.2 run as an unbounded
//! stream: block `i` (i = 1, 2, ...) is
//! `HMAC_nameAlg(seed, [i]_32 || label || 0x00 || context || [0]_32)` (the length
//! field is 0, marking the unbounded stream; the `0x00` is left out when `label`
//! already ends in one), and the blocks are read front to back with no octet
//! skipped or reused. Each secret value is then taken from the stream in the
//! order the object code draws it: an RSA key is [`rsa_generate`] (the `rsa`
//! crate's prime search fed by this stream — pinned by exact dependency versions
//! and by a test vector of the modulus, so an upgrade cannot silently change an
//! endorsement key), an ECC key is [`ecc_generate`] (candidate scalars drawn from
//! the stream, documented there), and a symmetric or HMAC key is the next
//! `keyBits / 8` octets. The same seed and template therefore always give the
//! same key, and a different seed, template or hash gives an unrelated one.
//!
//! [`rsa_generate`]: super::rsa::rsa_generate
//! [`ecc_generate`]: super::ecc::ecc_generate

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use zeroize::Zeroize;

use super::hash::{HashAlg, MAX_DIGEST_SIZE};
use super::kdf::{label_terminator, HmacKey};

/// The KDFa-based deterministic stream of primary-key derivation. Secret (it is
/// as good as the seed): its state is zeroized on drop and never printed.
pub struct KdfRng {
    mac: HmacKey,
    /// `label || 0x00 || context`, the fixed middle of every block's input.
    fixed: alloc::vec::Vec<u8>,
    counter: u32,
    block: [u8; MAX_DIGEST_SIZE],
    /// Octets of `block` holding fresh output.
    block_len: usize,
    /// Octets of `block` already handed out.
    used: usize,
}

impl core::fmt::Debug for KdfRng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KdfRng(..)")
    }
}

impl Drop for KdfRng {
    fn drop(&mut self) {
        self.block.zeroize();
        self.fixed.zeroize();
    }
}

impl KdfRng {
    /// A stream keyed by `seed` with HMAC-`hash`, labelled by `label` and bound
    /// to `context`.
    pub fn new(hash: HashAlg, seed: &[u8], label: &[u8], context: &[u8]) -> Self {
        let term = label_terminator(label);
        let mut fixed = alloc::vec::Vec::with_capacity(
            label
                .len()
                .saturating_add(term.len())
                .saturating_add(context.len()),
        );
        fixed.extend_from_slice(label);
        fixed.extend_from_slice(term);
        fixed.extend_from_slice(context);
        KdfRng {
            mac: HmacKey::new(hash, seed),
            fixed,
            counter: 0,
            block: [0; MAX_DIGEST_SIZE],
            block_len: 0,
            used: 0,
        }
    }

    fn next_block(&mut self) {
        self.counter = self.counter.wrapping_add(1);
        let mut out = alloc::vec::Vec::with_capacity(MAX_DIGEST_SIZE);
        self.mac.mac_into(
            &[&self.counter.to_be_bytes(), &self.fixed, &[0, 0, 0, 0]],
            &mut out,
        );
        self.block_len = out.len().min(MAX_DIGEST_SIZE);
        for (b, o) in self.block.iter_mut().zip(out.iter()) {
            *b = *o;
        }
        out.zeroize();
        self.used = 0;
    }

    /// Fills `out` with the next octets of the stream.
    pub fn fill(&mut self, out: &mut [u8]) {
        let mut rest = out;
        while !rest.is_empty() {
            if self.used >= self.block_len {
                self.next_block();
            }
            let avail = self.block.get(self.used..self.block_len).unwrap_or(&[]);
            let n = avail.len().min(rest.len());
            let (head, tail) = rest.split_at_mut(n);
            head.copy_from_slice(avail.get(..n).unwrap_or(&[]));
            // Handed-out octets are not kept.
            if let Some(spent) = self.block.get_mut(self.used..self.used.saturating_add(n)) {
                spent.zeroize();
            }
            self.used = self.used.saturating_add(n);
            rest = tail;
        }
    }
}

/// `rand_core` view of the stream (what the `rsa` and elliptic-curve crates
/// take). Words are read little-endian from the stream, as `rand_core`'s
/// byte-oriented generators do.
impl TryRng for KdfRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for KdfRng {}

/// A `rand_core` generator over a byte-filling function (the TPM's DRBG, or a
/// test's fixed bytes).
pub struct FnRng<'a>(pub &'a mut dyn FnMut(&mut [u8]));

impl TryRng for FnRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        (self.0)(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        (self.0)(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        (self.0)(dst);
        Ok(())
    }
}

impl TryCryptoRng for FnRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::kdf::kdfa;
    use alloc::vec;
    use alloc::vec::Vec;

    fn stream(hash: HashAlg, n: usize) -> Vec<u8> {
        let mut r = KdfRng::new(hash, b"seed", b"PRIMARY", b"template");
        let mut out = vec![0u8; n];
        r.fill(&mut out);
        out
    }

    #[test]
    fn stream_is_kdfa_blocks_with_zero_length_field() {
        // Block i is KDFa's block i for bits = 0 (the length field is 0), so the
        // stream equals HMAC(seed, [i] || label || 0 || context || [0]).
        for hash in HashAlg::ALL {
            let s = stream(hash, 3 * hash.digest_size() + 5);
            let mut expect = Vec::new();
            for i in 1u32..=4 {
                expect.extend(hash.hmac_parts(
                    b"seed",
                    &[&i.to_be_bytes(), b"PRIMARY\0", b"template", &[0; 4]],
                ));
            }
            assert_eq!(s[..], expect[..s.len()], "{hash:?}");
            // kdfa itself (with a non-zero length field) is a different stream.
            let bits = u32::try_from(8 * hash.digest_size()).unwrap();
            assert_ne!(
                s[..hash.digest_size()],
                kdfa(hash, b"seed", b"PRIMARY", b"template", b"", bits)[..]
            );
        }
    }

    #[test]
    fn split_reads_equal_one_read() {
        let whole = stream(HashAlg::Sha256, 200);
        let mut r = KdfRng::new(HashAlg::Sha256, b"seed", b"PRIMARY", b"template");
        let mut parts = Vec::new();
        for n in [1usize, 31, 0, 32, 33, 7, 96] {
            let mut b = vec![0u8; n];
            r.fill(&mut b);
            parts.extend(b);
        }
        assert_eq!(parts, whole);
        // rand_core words come from the same stream, little-endian.
        let mut r = KdfRng::new(HashAlg::Sha256, b"seed", b"PRIMARY", b"template");
        let w = r.try_next_u32().unwrap();
        let d = r.try_next_u64().unwrap();
        assert_eq!(w.to_le_bytes(), whole[..4]);
        assert_eq!(d.to_le_bytes(), whole[4..12]);
    }

    #[test]
    fn inputs_separate_streams() {
        let base = stream(HashAlg::Sha256, 32);
        let other = |seed: &[u8], label: &[u8], ctx: &[u8]| {
            let mut r = KdfRng::new(HashAlg::Sha256, seed, label, ctx);
            let mut b = [0u8; 32];
            r.fill(&mut b);
            b
        };
        assert_eq!(base, other(b"seed", b"PRIMARY", b"template"));
        assert_eq!(base, other(b"seed", b"PRIMARY\0", b"template"));
        assert_ne!(base, other(b"seee", b"PRIMARY", b"template"));
        assert_ne!(base, other(b"seed", b"PRIMARX", b"template"));
        assert_ne!(base, other(b"seed", b"PRIMARY", b"templatf"));
        assert_ne!(base, stream(HashAlg::Sha384, 32));
    }

    #[test]
    fn fn_rng_forwards() {
        let mut n = 0u8;
        let mut f = |b: &mut [u8]| {
            for x in b {
                n = n.wrapping_add(1);
                *x = n;
            }
        };
        let mut r = FnRng(&mut f);
        assert_eq!(r.try_next_u32().unwrap(), u32::from_le_bytes([1, 2, 3, 4]));
        let mut b = [0u8; 3];
        r.try_fill_bytes(&mut b).unwrap();
        assert_eq!(b, [5, 6, 7]);
    }
}
