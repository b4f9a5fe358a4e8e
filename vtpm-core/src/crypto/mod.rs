//! Cryptography: hashes and HMAC (RustCrypto), the DRBG, the TPM key derivation
//! functions ([`kdf`]: KDFa, KDFe, XOR obfuscation) and the deterministic stream
//! behind primary keys ([`rng`]), AES modes ([`sym`]), ECC on NIST P-256/P-384
//! ([`ecc`]), RSA ([`rsa`]), the algorithm table and constant-time comparison.

pub mod algorithms;
pub mod drbg;
pub mod ecc;
pub mod hash;
pub mod kdf;
pub mod rng;
pub mod rsa;
pub mod selftest;
pub mod sym;

pub use hash::{HashAlg, Hasher};

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
