//! Elliptic-curve cryptography on NIST P-256 and P-384 (TPM_ECC_NIST_P256,
//! TPM_ECC_NIST_P384; Part 1, clause 11.2.3 and Part 4's CryptEcc functions):
//! key generation, public-point validation, ECDSA (Part 1 §11.2.3.3) and the
//! ECDH point multiplication behind TPM2_ECDH_KeyGen / TPM2_ECDH_ZGen, salted
//! sessions and credentials (Part 1 §11.2.3.2, C.6.1).
//!
//! Coordinates and scalars travel as big-endian octet strings. Outputs are always
//! exactly the curve's size (32 or 48 octets); inputs may be shorter (they are
//! left-padded with zeros) or carry extra leading zero octets.
//!
//! The arithmetic is RustCrypto's `p256` / `p384` (constant-time field and scalar
//! arithmetic); a private key keeps the expanded signing key (scalar and public
//! point) so that signing and ECDH do not redo the public-key multiplication.

use alloc::vec;
use alloc::vec::Vec;

use crypto_bigint::{NonZero, U512};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::hash::HashAlg;
use super::rng::{FnRng, KdfRng};
use crate::rc::{TpmRc, TpmResult};

/// A supported curve (TPM_ECC_CURVE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EccCurve {
    /// TPM_ECC_NIST_P256 (0x0003)
    NistP256,
    /// TPM_ECC_NIST_P384 (0x0004)
    NistP384,
}

impl EccCurve {
    /// The supported curve with this TPM_ECC_CURVE value.
    pub fn from_id(id: u16) -> Option<EccCurve> {
        match id {
            0x0003 => Some(EccCurve::NistP256),
            0x0004 => Some(EccCurve::NistP384),
            _ => None,
        }
    }

    /// The TPM_ECC_CURVE value.
    pub fn id(self) -> u16 {
        match self {
            EccCurve::NistP256 => 0x0003,
            EccCurve::NistP384 => 0x0004,
        }
    }

    /// Size of a coordinate or of a scalar in octets (also the order's size).
    pub fn key_bytes(self) -> usize {
        match self {
            EccCurve::NistP256 => 32,
            EccCurve::NistP384 => 48,
        }
    }

    /// Size of the curve in bits (TPMS_ALGORITHM_DETAIL_ECC keySize).
    pub fn key_bits(self) -> u16 {
        match self {
            EccCurve::NistP256 => 256,
            EccCurve::NistP384 => 384,
        }
    }
}

/// A private key: the scalar `d` (1 <= d < n) with its public point. Secret:
/// zeroized on drop (by the `ecdsa` crate) and never printed.
pub struct EccPrivate(Key);

enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl core::fmt::Debug for EccPrivate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EccPrivate({:?}, ..)", self.curve())
    }
}

impl EccPrivate {
    /// The curve of this key.
    pub fn curve(&self) -> EccCurve {
        match self.0 {
            Key::P256(_) => EccCurve::NistP256,
            Key::P384(_) => EccCurve::NistP384,
        }
    }

    /// The scalar, big-endian, exactly `key_bytes` long (TPM2B_ECC_PARAMETER of
    /// the sensitive area).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        match &self.0 {
            Key::P256(k) => {
                let mut b = k.to_bytes();
                out.extend_from_slice(&b);
                b.zeroize();
            }
            Key::P384(k) => {
                let mut b = k.to_bytes();
                out.extend_from_slice(&b);
                b.zeroize();
            }
        }
        out
    }

    fn on(&self, curve: EccCurve) -> TpmResult<&Key> {
        if self.curve() == curve {
            Ok(&self.0)
        } else {
            Err(TpmRc::CURVE)
        }
    }
}

/// A point in affine coordinates (TPMS_ECC_POINT), big-endian.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EccPoint {
    /// x coordinate
    pub x: Vec<u8>,
    /// y coordinate
    pub y: Vec<u8>,
}

/// `v` as exactly `len` octets: left-padded with zeros, or with surplus leading
/// zero octets removed; `None` when the value does not fit.
fn fixed(v: &[u8], len: usize) -> Option<Vec<u8>> {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let digits = v.get(start..).unwrap_or(&[]);
    let pad = len.checked_sub(digits.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(digits);
    Some(out)
}

/// The digest as the integer ECDSA signs (FIPS 186-5 §6.4.1: its leftmost
/// `N` bits, N = the order's bit length, which is a whole number of octets for
/// both curves), as a field-sized big-endian string.
fn digest_field(digest: &[u8], len: usize) -> Vec<u8> {
    let lead = digest.get(..len).unwrap_or(digest);
    let mut out = vec![0u8; len.saturating_sub(lead.len())];
    out.extend_from_slice(lead);
    out
}

/// Curve-specific operations, written once for both curves.
macro_rules! curve_ops {
    ($m:ident, $c:ident, $curve:ident, $variant:ident) => {
        mod $m {
            use super::*;
            use $c::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
            use $c::ecdsa::{Signature, SigningKey, VerifyingKey};
            use $c::elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
            use $c::elliptic_curve::Curve;
            use $c::{AffinePoint, FieldBytes, NonZeroScalar, ProjectivePoint, Sec1Point};

            pub(super) const BYTES: usize = <$c::$curve as Curve>::FieldBytesSize::USIZE;
            use $c::elliptic_curve::array::typenum::Unsigned;

            fn field_bytes(v: &[u8]) -> Option<FieldBytes> {
                let v = fixed(v, BYTES)?;
                let mut fb = FieldBytes::default();
                fb.copy_from_slice(&v);
                Some(fb)
            }

            pub(super) fn encode(p: &AffinePoint) -> TpmResult<EccPoint> {
                let e = p.to_sec1_point(false);
                match (e.x(), e.y()) {
                    (Some(x), Some(y)) => Ok(EccPoint {
                        x: x.to_vec(),
                        y: y.to_vec(),
                    }),
                    // Only the identity has no coordinates.
                    _ => Err(TpmRc::NO_RESULT),
                }
            }

            pub(super) fn decode(p: &EccPoint) -> TpmResult<AffinePoint> {
                let (x, y) = match (field_bytes(&p.x), field_bytes(&p.y)) {
                    (Some(x), Some(y)) => (x, y),
                    _ => return Err(TpmRc::ECC_POINT),
                };
                let e = Sec1Point::from_affine_coordinates(&x, &y, false);
                Option::from(AffinePoint::from_sec1_point(&e)).ok_or(TpmRc::ECC_POINT)
            }

            /// FIPS 186-5 A.2.1 "extra random bits": c from BYTES + 8 octets,
            /// d = (c mod (n - 1)) + 1.
            pub(super) fn scalar_from_extra_bits(c: &[u8]) -> TpmResult<Key> {
                let mut wide = [0u8; 64];
                let off = wide.len().checked_sub(c.len()).ok_or(TpmRc::FAILURE)?;
                wide.get_mut(off..)
                    .ok_or(TpmRc::FAILURE)?
                    .copy_from_slice(c);
                let mut cw = U512::from_be_slice(&wide);
                wide.zeroize();
                let order = <$c::$curve as Curve>::ORDER.get().to_be_bytes();
                let mut ob = [0u8; 64];
                let off = ob.len().checked_sub(order.len()).ok_or(TpmRc::FAILURE)?;
                ob.get_mut(off..)
                    .ok_or(TpmRc::FAILURE)?
                    .copy_from_slice(&order);
                let n_minus_1 = U512::from_be_slice(&ob).wrapping_sub(&U512::ONE);
                let m = Option::from(NonZero::new(n_minus_1)).ok_or(TpmRc::FAILURE)?;
                let mut d = cw.rem(&m).wrapping_add(&U512::ONE);
                cw.zeroize();
                let mut db = d.to_be_bytes();
                d.zeroize();
                let tail = db
                    .as_ref()
                    .get(64usize.saturating_sub(BYTES)..)
                    .and_then(field_bytes);
                db.as_mut().zeroize();
                let mut fb = tail.ok_or(TpmRc::FAILURE)?;
                let nz = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(fb));
                fb.zeroize();
                Ok(Key::$variant(SigningKey::from(nz.ok_or(TpmRc::FAILURE)?)))
            }

            pub(super) fn private_from_bytes(d: &[u8]) -> TpmResult<Key> {
                let mut fb = field_bytes(d).ok_or(TpmRc::KEY_SIZE)?;
                let nz = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(fb));
                fb.zeroize();
                Ok(Key::$variant(SigningKey::from(nz.ok_or(TpmRc::KEY_SIZE)?)))
            }

            pub(super) fn public(k: &SigningKey) -> TpmResult<EccPoint> {
                encode(k.verifying_key().as_affine())
            }

            pub(super) fn sign(
                k: &SigningKey,
                digest: &[u8],
                rng: &mut dyn FnMut(&mut [u8]),
            ) -> TpmResult<(Vec<u8>, Vec<u8>)> {
                let z = digest_field(digest, BYTES);
                let sig: Signature = k
                    .sign_prehash_with_rng(&mut FnRng(rng), &z)
                    .map_err(|_| TpmRc::FAILURE)?;
                let (r, s) = sig.split_bytes();
                Ok((r.to_vec(), s.to_vec()))
            }

            pub(super) fn verify(q: &EccPoint, digest: &[u8], r: &[u8], s: &[u8]) -> TpmResult<()> {
                let q = VerifyingKey::from_affine(decode(q)?).map_err(|_| TpmRc::ECC_POINT)?;
                let (r, s) = match (field_bytes(r), field_bytes(s)) {
                    (Some(r), Some(s)) => (r, s),
                    _ => return Err(TpmRc::SIGNATURE),
                };
                let sig = Signature::from_scalars(r, s).map_err(|_| TpmRc::SIGNATURE)?;
                let z = digest_field(digest, BYTES);
                q.verify_prehash(&z, &sig).map_err(|_| TpmRc::SIGNATURE)
            }

            pub(super) fn mul(d: &NonZeroScalar, peer: &EccPoint) -> TpmResult<EccPoint> {
                let p = ProjectivePoint::from(decode(peer)?);
                // Group operation (constant-time scalar multiplication).
                encode(&core::ops::Mul::mul(p, **d).to_affine())
            }

            pub(super) fn nonzero(k: &SigningKey) -> &NonZeroScalar {
                k.as_nonzero_scalar()
            }
        }
    };
}

curve_ops!(ops256, p256, NistP256, P256);
curve_ops!(ops384, p384, NistP384, P384);

/// Generates a key pair deterministically from `rng` (FIPS 186-5 Appendix A.2.1,
/// "key pair generation using extra random bits", the method of the reference
/// implementation): `c` is the next `key_bytes + 8` octets of the stream read as
/// a big-endian integer, and `d = (c mod (n - 1)) + 1`, so `1 <= d < n` with a
/// single draw and negligible bias; the public point is `Q = d·G`.
pub fn ecc_generate(curve: EccCurve, rng: &mut KdfRng) -> TpmResult<(EccPrivate, EccPoint)> {
    let mut c = Zeroizing::new(vec![0u8; curve.key_bytes().saturating_add(8)]);
    rng.fill(&mut c);
    let key = EccPrivate(match curve {
        EccCurve::NistP256 => ops256::scalar_from_extra_bits(&c)?,
        EccCurve::NistP384 => ops384::scalar_from_extra_bits(&c)?,
    });
    let public = ecc_public(curve, &key);
    Ok((key, public))
}

/// A private key from its scalar (the sensitive area's TPM2B_ECC_PARAMETER).
/// Errors: `TPM_RC_KEY_SIZE` when the value is longer than the curve, zero, or
/// not below the order `n` (as the reference implementation's
/// CryptEccIsValidPrivateKey check reports it).
pub fn ecc_private_from_bytes(curve: EccCurve, d: &[u8]) -> TpmResult<EccPrivate> {
    Ok(EccPrivate(match curve {
        EccCurve::NistP256 => ops256::private_from_bytes(d)?,
        EccCurve::NistP384 => ops384::private_from_bytes(d)?,
    }))
}

/// The public point `d·G` of `key` (kept with the key, so this costs no
/// multiplication). A key of another curve gives an empty point.
pub fn ecc_public(curve: EccCurve, key: &EccPrivate) -> EccPoint {
    let p = match key.on(curve) {
        Ok(Key::P256(k)) => ops256::public(k),
        Ok(Key::P384(k)) => ops384::public(k),
        Err(e) => Err(e),
    };
    p.unwrap_or_default()
}

/// Checks that `point` is a point on `curve` (not the identity, coordinates
/// below the field prime): else `TPM_RC_ECC_POINT`.
pub fn ecc_point_check(curve: EccCurve, point: &EccPoint) -> TpmResult<()> {
    match curve {
        EccCurve::NistP256 => ops256::decode(point).map(|_| ()),
        EccCurve::NistP384 => ops384::decode(point).map(|_| ()),
    }
}

/// ECDSA signature `(r, s)` of `digest` (Part 1 §11.2.3.3; FIPS 186-5 §6.4).
/// The digest is used as FIPS 186 says: its leftmost bits when it is longer
/// than the order, as is when shorter. The per-signature nonce is derived as in
/// RFC 6979 §3.6 from the key, the digest and fresh octets of `rng` (a hedged
/// nonce: never repeated even if `rng` fails). `hash` is the scheme's hash; it
/// does not change the computation (the digest is already made).
/// Errors: `TPM_RC_CURVE` for a key of another curve.
pub fn ecdsa_sign(
    curve: EccCurve,
    key: &EccPrivate,
    hash: HashAlg,
    digest: &[u8],
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<(Vec<u8>, Vec<u8>)> {
    let _ = hash;
    match key.on(curve)? {
        Key::P256(k) => ops256::sign(k, digest, rng),
        Key::P384(k) => ops384::sign(k, digest, rng),
    }
}

/// Verifies an ECDSA signature `(r, s)` over `digest` with the public key
/// `public`. Errors: `TPM_RC_ECC_POINT` (the key is not on the curve),
/// `TPM_RC_SIGNATURE` (r or s out of range, or the signature does not verify).
pub fn ecdsa_verify(
    curve: EccCurve,
    public: &EccPoint,
    digest: &[u8],
    r: &[u8],
    s: &[u8],
) -> TpmResult<()> {
    match curve {
        EccCurve::NistP256 => ops256::verify(public, digest, r, s),
        EccCurve::NistP384 => ops384::verify(public, digest, r, s),
    }
}

/// ECDH (Part 1 §11.2.3.2, SP 800-56A C(1e,1s)/C(0e,2s) primitive): the point
/// `Z = d·peer`; its x coordinate is the shared secret fed to KDFe. Errors:
/// `TPM_RC_ECC_POINT` (peer not on the curve), `TPM_RC_CURVE` (key of another
/// curve), `TPM_RC_NO_RESULT` (the product is the point at infinity).
pub fn ecdh(curve: EccCurve, key: &EccPrivate, peer: &EccPoint) -> TpmResult<EccPoint> {
    match key.on(curve)? {
        Key::P256(k) => ops256::mul(ops256::nonzero(k), peer),
        Key::P384(k) => ops384::mul(ops384::nonzero(k), peer),
    }
}

/// One-pass ECDH with an ephemeral key (TPM2_ECDH_KeyGen, salted sessions,
/// TPM2_MakeCredential): draws an ephemeral key pair from `rng` (the procedure
/// of [`ecc_generate`]) and returns `(Q_e, Z)` with `Q_e = d_e·G` and
/// `Z = d_e·peer`. Errors: `TPM_RC_ECC_POINT` (peer not on the curve).
pub fn ecdh_ephemeral(
    curve: EccCurve,
    peer: &EccPoint,
    rng: &mut dyn FnMut(&mut [u8]),
) -> TpmResult<(EccPoint, EccPoint)> {
    ecc_point_check(curve, peer)?;
    let mut c = Zeroizing::new(vec![0u8; curve.key_bytes().saturating_add(8)]);
    rng(&mut c);
    let key = EccPrivate(match curve {
        EccCurve::NistP256 => ops256::scalar_from_extra_bits(&c)?,
        EccCurve::NistP384 => ops384::scalar_from_extra_bits(&c)?,
    });
    let z = ecdh(curve, &key, peer)?;
    Ok((ecc_public(curve, &key), z))
}

#[cfg(test)]
mod tests;
