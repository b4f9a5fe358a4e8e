//! Cryptography: hashes and HMAC (RustCrypto), the DRBG, constant-time comparison.

pub mod algorithms;
pub mod drbg;
pub mod hash;
pub mod selftest;

pub use hash::{HashAlg, Hasher};

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
