//! RSA (Part 1, clause 11.2.2; PKCS #1 v2.2 / RFC 8017) on RustCrypto's `rsa`
//! crate: deterministic key generation for primary keys, the rebuild of a key from
//! the one prime a TPM sensitive area stores, encryption (RSAES-OAEP with the TPM
//! label rule, RSAES-PKCS1-v1_5, raw RSAEP/RSADP for TPM_ALG_NULL) and signatures
//! (RSASSA-PKCS1-v1_5, RSASSA-PSS with the reference implementation's salt rule).
//!
//! Response codes follow the reference implementation's CryptRsa functions:
//! key generation `TPM_RC_VALUE` (key size) and `TPM_RC_RANGE` (exponent);
//! encryption `TPM_RC_VALUE` (message too long for the scheme, or not below the
//! modulus) and `TPM_RC_HASH` (OAEP hash too large for the key); decryption
//! `TPM_RC_SIZE` (ciphertext not exactly the modulus size, or not below the
//! modulus) and `TPM_RC_VALUE` (padding); signing `TPM_RC_VALUE` (digest size is
//! not the scheme hash's); verification `TPM_RC_SIGNATURE` for every mismatch;
//! key rebuild `TPM_RC_KEY_SIZE` (sizes) and `TPM_RC_BINDING` (the prime does not
//! divide the modulus).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crypto_bigint::{BoxedUint, Integer, NonZero};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss};
use zeroize::{Zeroize, Zeroizing};

use super::hash::HashAlg;
use super::rng::{FnRng, KdfRng};
use crate::rc::{TpmRc, TpmResult};

/// The public exponent TPM_ALG_RSA means by `exponent = 0` (2^16 + 1).
pub const DEFAULT_EXPONENT: u32 = 65537;

/// An RSA private key with its CRT values precomputed. Secret: zeroized on drop
/// (by the `rsa` crate) and never printed.
pub struct RsaPrivate {
    key: rsa::PrivateKey,
}

impl core::fmt::Debug for RsaPrivate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaPrivate({} bits, ..)", self.bits())
    }
}

/// An RSA public key as a TPM carries it: the modulus (TPM2B_PUBLIC_KEY_RSA,
/// big-endian) and the exponent (never 0 here: 65537 is spelled out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublic {
    /// modulus, big-endian
    pub n: Vec<u8>,
    /// public exponent
    pub e: u32,
}

/// RSA decryption schemes (TPMT_RSA_DECRYPT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaEncScheme {
    /// TPM_ALG_NULL: raw RSAEP/RSADP, the data a number below the modulus.
    Null,
    /// TPM_ALG_RSAES: RSAES-PKCS1-v1_5.
    Pkcs1v15,
    /// TPM_ALG_OAEP: RSAES-OAEP with this hash for the label hash and MGF1.
    Oaep(HashAlg),
}

/// RSA signature schemes (TPMT_SIG_SCHEME for RSA keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaSigScheme {
    /// TPM_ALG_RSASSA: RSASSA-PKCS1-v1_5 with the DigestInfo of this hash.
    Pkcs1v15(HashAlg),
    /// TPM_ALG_RSAPSS: RSASSA-PSS with this hash (and MGF1 with it).
    Pss(HashAlg),
}

/// Runs `$e` with `$t` naming the digest type of `$h`.
macro_rules! by_hash {
    ($h:expr, $t:ident => $e:expr) => {
        match $h {
            HashAlg::Sha1 => {
                type $t = sha1::Sha1;
                $e
            }
            HashAlg::Sha256 => {
                type $t = sha2::Sha256;
                $e
            }
            HashAlg::Sha384 => {
                type $t = sha2::Sha384;
                $e
            }
            HashAlg::Sha512 => {
                type $t = sha2::Sha512;
                $e
            }
        }
    };
}

/// The DER DigestInfo prefix of each hash (RFC 8017 §9.2, note 1).
fn digest_info_prefix(hash: HashAlg) -> &'static [u8] {
    match hash {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

fn pkcs1v15_sign(hash: HashAlg) -> Pkcs1v15Sign {
    Pkcs1v15Sign {
        hash_len: Some(hash.digest_size()),
        prefix: Box::from(digest_info_prefix(hash)),
    }
}

/// The OAEP label L of a TPM label: a non-empty label that does not end in a
/// zero octet gets one (Part 1 §11.2.2.1: the label includes its terminating
/// zero), so `b"DUPLICATE"` and `b"DUPLICATE\0"` mean the same label; an empty
/// label stays empty.
fn oaep_label(label: &[u8]) -> Box<[u8]> {
    let mut l = label.to_vec();
    if l.last().is_some_and(|b| *b != 0) {
        l.push(0);
    }
    l.into_boxed_slice()
}

/// RSASSA-PSS salt length: the digest size, but no more than fits the
/// encoding (`k - hLen - 2`), as the reference implementation's
/// CryptRsaPssSaltSize chooses.
pub fn pss_salt_len(hash: HashAlg, modulus_bytes: usize) -> usize {
    let h = hash.digest_size();
    modulus_bytes.saturating_sub(h).saturating_sub(2).min(h)
}

/// `v` without leading zero octets.
fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    v.get(start..).unwrap_or(&[])
}

/// The last `len` octets of the big-endian `v`, left-padded with zeros.
fn left_pad(v: &[u8], len: usize) -> Vec<u8> {
    let t = trim(v);
    let mut out = vec![0u8; len.saturating_sub(t.len())];
    out.extend_from_slice(t.get(t.len().saturating_sub(len)..).unwrap_or(&[]));
    out
}

fn uint(v: &[u8], bits_precision: u32) -> TpmResult<BoxedUint> {
    BoxedUint::from_be_slice(v, bits_precision).map_err(|_| TpmRc::VALUE)
}

fn bits_of(v: &[u8]) -> u32 {
    u32::try_from(v.len()).unwrap_or(u32::MAX).saturating_mul(8)
}

/// True when `e` is a prime (trial division; `e` is 32 bits).
fn is_prime_u32(e: u32) -> bool {
    if e < 2 {
        return false;
    }
    if e.is_multiple_of(2) {
        return e == 2;
    }
    let mut d: u32 = 3;
    while d.checked_mul(d).is_some_and(|sq| sq <= e) {
        if e.is_multiple_of(d) {
            return false;
        }
        d = d.saturating_add(2);
    }
    true
}

/// The exponent a TPM_ALG_RSA key uses: 0 means 65537; any other value must be
/// a prime of at least 65537 (else `TPM_RC_RANGE`).
fn exponent(e: u32) -> TpmResult<u32> {
    match e {
        0 => Ok(DEFAULT_EXPONENT),
        e if e >= DEFAULT_EXPONENT && is_prime_u32(e) => Ok(e),
        _ => Err(TpmRc::RANGE),
    }
}

impl RsaPublic {
    /// Modulus size in octets (leading zero octets of `n` not counted).
    pub fn modulus_bytes(&self) -> usize {
        trim(&self.n).len()
    }

    fn key(&self) -> TpmResult<rsa::PublicKey> {
        let n = trim(&self.n);
        let n = uint(n, bits_of(n))?;
        let e = BoxedUint::from(u64::from(exponent_or_default(self.e)));
        rsa::PublicKey::new(n, e).map_err(|_| TpmRc::KEY)
    }
}

fn exponent_or_default(e: u32) -> u32 {
    if e == 0 {
        DEFAULT_EXPONENT
    } else {
        e
    }
}

impl RsaPrivate {
    fn from_key(key: rsa::PrivateKey) -> RsaPrivate {
        RsaPrivate { key }
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        usize::try_from(self.key.n().as_ref().bit_width()).unwrap_or(0)
    }

    /// Modulus size in octets.
    pub fn modulus_bytes(&self) -> usize {
        self.bits().div_ceil(8)
    }

    /// The public part.
    pub fn public(&self) -> RsaPublic {
        let n = self.key.n().as_ref().to_be_bytes();
        let e = self.key.e().to_be_bytes();
        let e = left_pad(&e, 4);
        RsaPublic {
            n: left_pad(&n, self.modulus_bytes()),
            e: u32::from_be_bytes([
                e.first().copied().unwrap_or(0),
                e.get(1).copied().unwrap_or(0),
                e.get(2).copied().unwrap_or(0),
                e.get(3).copied().unwrap_or(0),
            ]),
        }
    }

    /// The first prime `p`, big-endian, half the modulus size (the TPM2B
    /// sensitive value of an RSA key, TPM2B_PRIVATE_KEY_RSA).
    pub fn prime_p(&self) -> Zeroizing<Vec<u8>> {
        let half = self.modulus_bytes() / 2;
        match self.key.primes().first() {
            Some(p) => {
                let mut b = p.as_ref().to_be_bytes();
                let out = Zeroizing::new(left_pad(&b, half));
                b.zeroize();
                out
            }
            None => Zeroizing::new(Vec::new()),
        }
    }
}

/// Generates a `bits`-bit key with public exponent `exponent` (0 = 65537)
/// deterministically from `rng`: the `rsa` crate's two-prime generation
/// (`RsaPrivateKey::new_with_exp`: each prime from a random odd candidate with its
/// two top bits set, then the next prime found by a small-factor sieve and a
/// Baillie-PSW test) draws all its randomness from the stream. The mapping from
/// stream to key is fixed by the exact versions of `rsa`, `crypto-primes`,
/// `crypto-bigint` and `rand_core` and pinned by a test vector.
///
/// Errors: `TPM_RC_VALUE` (bits not a multiple of 1024 in 1024..=4096),
/// `TPM_RC_RANGE` (exponent below 65537 or not prime), `TPM_RC_NO_RESULT` (no key
/// found).
pub fn rsa_generate(bits: u16, exponent: u32, rng: &mut KdfRng) -> TpmResult<RsaPrivate> {
    if !bits.is_multiple_of(1024) || !(1024..=4096).contains(&bits) {
        return Err(TpmRc::VALUE);
    }
    let e = self::exponent(exponent)?;
    let key = rsa::PrivateKey::new_with_exp(rng, usize::from(bits), BoxedUint::from(u64::from(e)))
        .map_err(|_| TpmRc::NO_RESULT)?;
    Ok(RsaPrivate::from_key(key))
}

/// Rebuilds a private key from the public modulus `n`, exponent `e` (0 = 65537)
/// and the one prime `p` a TPM sensitive area stores: `q = n / p`, then the
/// private exponent and CRT values. Errors: `TPM_RC_KEY_SIZE` (modulus not 1024
/// to 4096 bits, or `p` longer than half of it), `TPM_RC_BINDING` (`p` does not
/// divide `n` or the factors do not form a key), `TPM_RC_RANGE` (exponent).
pub fn rsa_private_from_prime(n: &[u8], e: u32, p: &[u8]) -> TpmResult<RsaPrivate> {
    let n = trim(n);
    let k = n.len();
    if !(128..=512).contains(&k) {
        return Err(TpmRc::KEY_SIZE);
    }
    let p = trim(p);
    if p.is_empty() || p.len() > k / 2 {
        return Err(TpmRc::KEY_SIZE);
    }
    let e = exponent(e)?;
    let precision = bits_of(n);
    let n_uint = uint(n, precision)?;
    let mut p_uint = uint(p, precision)?;
    let p_nz = Option::from(NonZero::new(p_uint.clone())).ok_or(TpmRc::BINDING)?;
    let (q, rem) = n_uint.div_rem(&p_nz);
    if !bool::from(rem.is_zero()) || !bool::from(p_uint.is_odd()) || !bool::from(q.is_odd()) {
        p_uint.zeroize();
        return Err(TpmRc::BINDING);
    }
    rsa::PrivateKey::from_p_q(p_uint, q, BoxedUint::from(u64::from(e)))
        .map(RsaPrivate::from_key)
        .map_err(|_| TpmRc::BINDING)
}

/// Encrypts `data` to `public` with `scheme` (RSAEP after the scheme's padding);
/// the result is exactly the modulus size. `label` is the OAEP label: a
/// non-empty label without a terminating zero octet gets one (Part 1: the label
/// includes its terminating zero), an empty label stays empty; `rng` supplies
/// the padding's randomness.
pub fn rsa_encrypt(
    public: &RsaPublic,
    scheme: RsaEncScheme,
    data: &[u8],
    label: &[u8],
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<Vec<u8>> {
    let key = public.key()?;
    let k = key.size();
    let mut rng = FnRng(rng);
    match scheme {
        RsaEncScheme::Null => {
            let m = trim(data);
            if m.len() > k {
                return Err(TpmRc::VALUE);
            }
            let m = uint(m, key.n_bits_precision())?;
            if m >= *key.n().as_ref() {
                return Err(TpmRc::VALUE);
            }
            let c = rsa::hazmat::rsa_encrypt(&key, &m).map_err(|_| TpmRc::VALUE)?;
            Ok(left_pad(&c.to_be_bytes(), k))
        }
        RsaEncScheme::Pkcs1v15 => {
            if data.len().saturating_add(11) > k {
                return Err(TpmRc::VALUE);
            }
            key.encrypt(&mut rng, Pkcs1v15Encrypt, data)
                .map_err(|_| TpmRc::VALUE)
        }
        RsaEncScheme::Oaep(hash) => {
            let h = hash.digest_size();
            if k < h.saturating_mul(2).saturating_add(2) {
                return Err(TpmRc::HASH);
            }
            if data.len() > k.saturating_sub(h.saturating_mul(2)).saturating_sub(2) {
                return Err(TpmRc::VALUE);
            }
            let l = oaep_label(label);
            by_hash!(hash, D => key.encrypt(&mut rng, Oaep::<D>::new_with_label(l), data))
                .map_err(|_| TpmRc::VALUE)
        }
    }
}

/// Decrypts `data` with `key` under `scheme`. `data` must be exactly the
/// modulus size and below the modulus (`TPM_RC_SIZE`); a padding error is
/// `TPM_RC_VALUE`. The raw scheme returns the full modulus-sized value.
pub fn rsa_decrypt(
    key: &RsaPrivate,
    scheme: RsaEncScheme,
    data: &[u8],
    label: &[u8],
) -> TpmResult<Vec<u8>> {
    let k = key.key.size();
    if data.len() != k {
        return Err(TpmRc::SIZE);
    }
    let c = uint(data, key.key.n_bits_precision()).map_err(|_| TpmRc::SIZE)?;
    if c >= *key.key.n().as_ref() {
        return Err(TpmRc::SIZE);
    }
    match scheme {
        RsaEncScheme::Null => raw_decrypt(key, &c, k).map(|m| m.to_vec()),
        RsaEncScheme::Pkcs1v15 => {
            // Decoded here rather than by the `rsa` crate, whose PKCS#1 v1.5
            // decryption answers bad padding with a synthetic message: a TPM
            // reports it (TPM_RC_VALUE).
            let em = raw_decrypt(key, &c, k)?;
            pkcs1v15_decode(&em).ok_or(TpmRc::VALUE)
        }
        RsaEncScheme::Oaep(hash) => {
            let l = oaep_label(label);
            by_hash!(hash, D => key.key.decrypt(Oaep::<D>::new_with_label(l), data))
                .map_err(|_| TpmRc::VALUE)
        }
    }
}

/// RSADP: `c^d mod n` (CRT, checked by re-encryption), modulus-sized.
fn raw_decrypt(key: &RsaPrivate, c: &BoxedUint, k: usize) -> TpmResult<Zeroizing<Vec<u8>>> {
    let mut m = rsa::hazmat::rsa_decrypt_and_check(&key.key, Option::<&mut FnRng<'_>>::None, c)
        .map_err(|_| TpmRc::FAILURE)?;
    let mut b = m.to_be_bytes();
    m.zeroize();
    let out = Zeroizing::new(left_pad(&b, k));
    b.zeroize();
    Ok(out)
}

/// EME-PKCS1-v1_5 decoding (RFC 8017 §7.2.2 step 3): `00 02 PS 00 M` with at
/// least 8 non-zero padding octets.
fn pkcs1v15_decode(em: &[u8]) -> Option<Vec<u8>> {
    let (head, rest) = em.split_at_checked(2)?;
    if head != [0, 2] {
        return None;
    }
    let sep = rest.iter().position(|b| *b == 0)?;
    if sep < 8 {
        return None;
    }
    rest.get(sep.checked_add(1)?..).map(<[u8]>::to_vec)
}

/// Signs `digest` with `key` (RSASP1 after the scheme's encoding); `rng`
/// supplies the PSS salt. The digest must be the scheme hash's size
/// (`TPM_RC_VALUE`). Like decryption, the private operation is not blinded:
/// its modular exponentiation (crypto-bigint) runs in constant time, and
/// blinding would double the cost of every signature.
pub fn rsa_sign(
    key: &RsaPrivate,
    scheme: RsaSigScheme,
    digest: &[u8],
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<Vec<u8>> {
    let hash = match scheme {
        RsaSigScheme::Pkcs1v15(h) | RsaSigScheme::Pss(h) => h,
    };
    if digest.len() != hash.digest_size() {
        return Err(TpmRc::VALUE);
    }
    match scheme {
        RsaSigScheme::Pkcs1v15(h) => key.key.sign(pkcs1v15_sign(h), digest),
        RsaSigScheme::Pss(h) => {
            let salt = pss_salt_len(h, key.modulus_bytes());
            let mut rng = FnRng(rng);
            by_hash!(h, D => key.key.sign_with_rng(
                &mut rng,
                Pss::<D> {
                    blinded: false,
                    digest: <D as sha2::Digest>::new(),
                    salt_len: Some(salt),
                },
                digest
            ))
        }
    }
    .map_err(|_| TpmRc::VALUE)
}

/// Verifies `sig` over `digest` with `public`. A PSS signature of any salt
/// length is accepted. Every failure (wrong size, not below the modulus, bad
/// encoding, other digest) is `TPM_RC_SIGNATURE`.
pub fn rsa_verify(
    public: &RsaPublic,
    scheme: RsaSigScheme,
    digest: &[u8],
    sig: &[u8],
) -> TpmResult<()> {
    let key = public.key()?;
    if sig.len() != key.size() {
        return Err(TpmRc::SIGNATURE);
    }
    match scheme {
        RsaSigScheme::Pkcs1v15(h) => key.verify(pkcs1v15_sign(h), digest, sig),
        RsaSigScheme::Pss(h) => by_hash!(h, D => key.verify(
            Pss::<D> {
                blinded: false,
                digest: <D as sha2::Digest>::new(),
                salt_len: None,
            },
            digest,
            sig
        )),
    }
    .map_err(|_| TpmRc::SIGNATURE)
}

#[cfg(test)]
mod tests;
