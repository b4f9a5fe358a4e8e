//! HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1, 10.1.2): the TPM's random number
//! generator (Part 1, 11.4.10). Seeded from platform entropy at power-on; StirRandom
//! and later platform entropy are mixed in as additional input.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::hash::HashAlg;

/// DRBG state. Secret: zeroized on drop, never logged.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Drbg {
    k: [u8; 32],
    v: [u8; 32],
}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Drbg(..)")
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mac = HashAlg::Sha256.hmac_parts(key, parts);
    for (o, m) in out.iter_mut().zip(mac.iter()) {
        *o = *m;
    }
    out
}

impl Drbg {
    /// Instantiate from seed material (entropy || nonce || personalization).
    pub fn new(seed: &[u8]) -> Drbg {
        let mut d = Drbg {
            k: [0; 32],
            v: [1; 32],
        };
        d.update(&[seed]);
        d
    }

    fn update(&mut self, data: &[&[u8]]) {
        let mut parts: alloc::vec::Vec<&[u8]> = alloc::vec![&self.v[..], &[0u8][..]];
        parts.extend_from_slice(data);
        self.k = hmac(&self.k, &parts);
        self.v = hmac(&self.k, &[&self.v]);
        if data.iter().all(|d| d.is_empty()) {
            return;
        }
        let mut parts: alloc::vec::Vec<&[u8]> = alloc::vec![&self.v[..], &[1u8][..]];
        parts.extend_from_slice(data);
        self.k = hmac(&self.k, &parts);
        self.v = hmac(&self.k, &[&self.v]);
    }

    /// Mixes additional input (StirRandom, fresh platform entropy) into the state.
    pub fn reseed(&mut self, input: &[u8]) {
        self.update(&[input]);
    }

    /// Fills `out` with random bytes.
    pub fn generate(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            self.v = hmac(&self.k, &[&self.v]);
            for (o, v) in chunk.iter_mut().zip(self.v.iter()) {
                *o = *v;
            }
        }
        self.update(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let mut a = Drbg::new(b"seed");
        let mut b = Drbg::new(b"seed");
        let (mut x, mut y) = ([0u8; 48], [0u8; 48]);
        a.generate(&mut x);
        b.generate(&mut y);
        assert_eq!(x, y);
        a.generate(&mut x);
        assert_ne!(x, y);
        b.reseed(b"stir");
        b.generate(&mut y);
        assert_ne!(x, y);
    }
}
