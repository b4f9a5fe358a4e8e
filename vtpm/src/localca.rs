//! The local certificate authority: an ECDSA P-256 key and a self-signed CA
//! certificate in a directory of the host, which sign the EK certificates that
//! `swtpm_setup --create-ek-cert` puts into a new vTPM's NV.
//!
//! ```text
//! DIR/                 mode 0700
//!   ca-key.pem         mode 0600, SEC 1 "EC PRIVATE KEY" (RFC 5915)
//!   ca-cert.pem        the CA certificate (X.509 v3, self-signed)
//! ```
//!
//! The EK certificates follow the TCG EK Credential Profile for TPM Family 2.0
//! (clause 3): an empty subject with a critical subjectAltName naming the TPM
//! manufacturer, model and version; the tcg-kp-EKCertificate extended key usage;
//! the TPM specification in subjectDirectoryAttributes. They also carry the vTPM
//! extension ([`VTPM_EXTENSION_ARCS`]): the certificate says plainly that the TPM
//! is virtual, and which isolation backend runs it. The CA names itself a local
//! vTPM CA; a verifier trusts it only if the operator says so.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use vtpm_core::crypto::ecc::{self, EccCurve, EccPoint, EccPrivate};
use vtpm_core::crypto::hash::HashAlg;
use zeroize::Zeroizing;

use crate::der::{self, tag};
use crate::error::Error;

/// File of the CA's private key.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// File of the CA certificate.
pub const CA_CERT_FILE: &str = "ca-cert.pem";
/// Environment variable naming the CA directory.
pub const LOCALCA_ENV: &str = "VTPM_LOCALCA_DIR";

/// OID arcs of the vTPM extension: `2.25.<UUID a7705b4d-0f1e-4677-ae32-3569bb70bc49>`
/// (ITU-T X.667 UUID arc, needs no registration). Its value is
/// `SEQUENCE { UTF8String "virtual TPM", UTF8String backend, UTF8String vmid }`.
pub const VTPM_EXTENSION_ARCS: [u128; 3] =
    [2, 25, 222_564_464_348_758_173_064_970_882_950_823_459_913];

const OID_EC_PUBLIC_KEY: [u128; 6] = [1, 2, 840, 10_045, 2, 1];
const OID_PRIME256V1: [u128; 7] = [1, 2, 840, 10_045, 3, 1, 7];
const OID_ECDSA_SHA256: [u128; 7] = [1, 2, 840, 10_045, 4, 3, 2];
const OID_RSA_ENCRYPTION: [u128; 7] = [1, 2, 840, 113_549, 1, 1, 1];
const OID_CN: [u128; 4] = [2, 5, 4, 3];
const OID_O: [u128; 4] = [2, 5, 4, 10];
const OID_SUBJECT_DIRECTORY_ATTRIBUTES: [u128; 4] = [2, 5, 29, 9];
const OID_SUBJECT_KEY_ID: [u128; 4] = [2, 5, 29, 14];
const OID_KEY_USAGE: [u128; 4] = [2, 5, 29, 15];
const OID_SUBJECT_ALT_NAME: [u128; 4] = [2, 5, 29, 17];
const OID_BASIC_CONSTRAINTS: [u128; 4] = [2, 5, 29, 19];
const OID_AUTHORITY_KEY_ID: [u128; 4] = [2, 5, 29, 35];
const OID_EXT_KEY_USAGE: [u128; 4] = [2, 5, 29, 37];
const OID_TCG_TPM_MANUFACTURER: [u128; 5] = [2, 23, 133, 2, 1];
const OID_TCG_TPM_MODEL: [u128; 5] = [2, 23, 133, 2, 2];
const OID_TCG_TPM_VERSION: [u128; 5] = [2, 23, 133, 2, 3];
const OID_TCG_TPM_SPECIFICATION: [u128; 5] = [2, 23, 133, 2, 16];
const OID_TCG_KP_EK_CERTIFICATE: [u128; 5] = [2, 23, 133, 8, 1];
const OID_TCG_KP_PLATFORM_ATTRIBUTE_CERTIFICATE: [u128; 5] = [2, 23, 133, 8, 2];
const OID_TCG_AT_PLATFORM_SPECIFICATION: [u128; 5] = [2, 23, 133, 2, 17];
const OID_TCG_AT_TBB_SECURITY_ASSERTIONS: [u128; 5] = [2, 23, 133, 2, 19];
const OID_TCG_AT_CREDENTIAL_TYPE: [u128; 5] = [2, 23, 133, 2, 25];
const OID_TCG_AT_PLATFORM_MANUFACTURER_STR: [u128; 6] = [2, 23, 133, 5, 1, 1];
const OID_TCG_AT_PLATFORM_MODEL: [u128; 6] = [2, 23, 133, 5, 1, 4];
const OID_TCG_AT_PLATFORM_VERSION: [u128; 6] = [2, 23, 133, 5, 1, 5];
const OID_TCG_AT_PLATFORM_SERIAL: [u128; 6] = [2, 23, 133, 5, 1, 6];

/// The CA's distinguished name.
const CA_ORGANIZATION: &str = "vtpm";
const CA_COMMON_NAME: &str = "vtpm local CA (virtual TPMs, not hardware)";

/// The public part of an EK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EkPublic {
    /// RSA modulus (big-endian) and public exponent.
    Rsa {
        /// n
        modulus: Vec<u8>,
        /// e
        exponent: u32,
    },
    /// A NIST P-256 point.
    EccP256(EccPoint),
}

/// What an EK certificate says about the TPM.
#[derive(Clone, Debug)]
pub struct TpmDescription {
    /// TPM_PT_MANUFACTURER
    pub manufacturer: u32,
    /// The vendor strings, concatenated (the TPM model).
    pub model: String,
    /// TPM_PT_FIRMWARE_VERSION_1
    pub firmware_version: u32,
    /// TPM_PT_LEVEL and TPM_PT_REVISION (the specification the TPM follows).
    pub spec_level: u32,
    /// TPM_PT_REVISION (e.g. 164 for 1.64).
    pub spec_revision: u32,
    /// The isolation backend: "process" or "vm".
    pub backend: String,
    /// The VM the TPM belongs to, as the operator named it (may be empty).
    pub vmid: String,
}

/// A certificate the CA issued: its DER and its serial number (a DER INTEGER).
pub struct Issued {
    /// The certificate.
    pub der: Vec<u8>,
    /// Its serialNumber, DER-encoded.
    pub serial: Vec<u8>,
}

/// An opened local CA.
pub struct LocalCa {
    dir: PathBuf,
    key: EccPrivate,
    public: EccPoint,
    cert: Vec<u8>,
}

/// The default CA directory: `$VTPM_LOCALCA_DIR`, else `/var/lib/vtpm-localca` for
/// root, else `$XDG_DATA_HOME/vtpm-localca` (or `~/.local/share/vtpm-localca`).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(LOCALCA_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if nix_is_root() {
        return PathBuf::from("/var/lib/vtpm-localca");
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("vtpm-localca");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/vtpm-localca")
}

fn nix_is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    crate::platform::random_bytes::<N>()
        .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))
}

/// A positive, non-zero 16-octet serial number (RFC 5280 §4.1.2.2).
fn serial() -> Result<Vec<u8>, Error> {
    let mut s = random::<16>()?;
    s[0] = (s[0] & 0x7F) | 0x40;
    Ok(der::uint(&s))
}

fn uncompressed(p: &EccPoint) -> Vec<u8> {
    let mut v = vec![0x04];
    v.extend_from_slice(&p.x);
    v.extend_from_slice(&p.y);
    v
}

fn ec_spki(p: &EccPoint) -> Vec<u8> {
    der::seq(&[
        &der::seq(&[&der::oid(&OID_EC_PUBLIC_KEY), &der::oid(&OID_PRIME256V1)]),
        &der::bit_string(&uncompressed(p)),
    ])
}

fn rsa_spki(modulus: &[u8], exponent: u32) -> Vec<u8> {
    let key = der::seq(&[&der::uint(modulus), &der::small_uint(u64::from(exponent))]);
    der::seq(&[
        &der::seq(&[&der::oid(&OID_RSA_ENCRYPTION), &der::null()]),
        &der::bit_string(&key),
    ])
}

/// keyIdentifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1).
fn key_id(p: &EccPoint) -> Vec<u8> {
    HashAlg::Sha1.digest(&uncompressed(p))
}

fn rdn(oid: &[u128], value: &str) -> Vec<u8> {
    der::set(&[&der::seq(&[&der::oid(oid), &der::utf8(value)])])
}

fn ca_name() -> Vec<u8> {
    der::seq(&[&rdn(&OID_O, CA_ORGANIZATION), &rdn(&OID_CN, CA_COMMON_NAME)])
}

fn extension(oid: &[u128], critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        der::seq(&[
            &der::oid(oid),
            &der::boolean(true),
            &der::octet_string(value),
        ])
    } else {
        der::seq(&[&der::oid(oid), &der::octet_string(value)])
    }
}

fn sig_alg() -> Vec<u8> {
    der::seq(&[&der::oid(&OID_ECDSA_SHA256)])
}

/// SEC 1 ECPrivateKey (RFC 5915) of a P-256 key.
fn sec1_private_key(d: &[u8], public: &EccPoint) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(der::seq(&[
        &der::small_uint(1),
        &der::octet_string(d),
        &der::explicit(0, &der::oid(&OID_PRIME256V1)),
        &der::explicit(1, &der::bit_string(&uncompressed(public))),
    ]))
}

/// The private scalar of a key written by [`sec1_private_key`].
fn sec1_scalar(der: &[u8]) -> Option<&[u8]> {
    // SEQUENCE (short length) { INTEGER 1, OCTET STRING (32) d, ... }
    let body = der.get(2..)?;
    let rest = body.strip_prefix(&[tag::INTEGER, 1, 1][..])?;
    let rest = rest.strip_prefix(&[tag::OCTET_STRING, 32][..])?;
    rest.get(..32)
}

impl LocalCa {
    /// Opens the CA in `dir`, creating its key and certificate on first use.
    pub fn open_or_create(dir: &Path) -> Result<LocalCa, Error> {
        let key_path = dir.join(CA_KEY_FILE);
        if key_path.exists() {
            return Self::load(dir);
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Error::Runtime(format!("cannot create CA directory {}: {e}", dir.display()))
            })?;
        let (key, d) = loop {
            let d = Zeroizing::new(random::<32>()?);
            if let Ok(k) = ecc::ecc_private_from_bytes(EccCurve::NistP256, &d[..]) {
                break (k, d);
            }
        };
        let public = ecc::ecc_public(EccCurve::NistP256, &key);
        let mut ca = LocalCa {
            dir: dir.to_owned(),
            key,
            public,
            cert: Vec::new(),
        };
        ca.cert = ca.self_signed_certificate()?;
        let pem = Zeroizing::new(der::pem_encode(
            "EC PRIVATE KEY",
            &sec1_private_key(&d[..], &ca.public),
        ));
        write_new(&key_path, pem.as_bytes(), 0o600)?;
        write_new(
            &dir.join(CA_CERT_FILE),
            der::pem_encode("CERTIFICATE", &ca.cert).as_bytes(),
            0o644,
        )?;
        log::info!("created a local CA in {}", dir.display());
        Ok(ca)
    }

    fn load(dir: &Path) -> Result<LocalCa, Error> {
        let key_path = dir.join(CA_KEY_FILE);
        let cert_path = dir.join(CA_CERT_FILE);
        let bad = |path: &Path, why: &str| {
            Error::Runtime(format!("local CA file {}: {why}", path.display()))
        };
        let key_pem = Zeroizing::new(
            fs::read_to_string(&key_path).map_err(|e| bad(&key_path, &e.to_string()))?,
        );
        let key_der = Zeroizing::new(
            der::pem_decode("EC PRIVATE KEY", &key_pem)
                .ok_or_else(|| bad(&key_path, "not a PEM EC PRIVATE KEY"))?,
        );
        let d = sec1_scalar(&key_der).ok_or_else(|| bad(&key_path, "not a P-256 key"))?;
        let key = ecc::ecc_private_from_bytes(EccCurve::NistP256, d)
            .map_err(|_| bad(&key_path, "not a valid P-256 private key"))?;
        let public = ecc::ecc_public(EccCurve::NistP256, &key);
        let cert_pem =
            fs::read_to_string(&cert_path).map_err(|e| bad(&cert_path, &e.to_string()))?;
        let cert = der::pem_decode("CERTIFICATE", &cert_pem)
            .ok_or_else(|| bad(&cert_path, "not a PEM CERTIFICATE"))?;
        if !contains(&cert, &uncompressed(&public)) {
            return Err(bad(
                &cert_path,
                "does not hold the public key of ca-key.pem",
            ));
        }
        Ok(LocalCa {
            dir: dir.to_owned(),
            key,
            public,
            cert,
        })
    }

    /// The CA directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.cert
    }

    /// `Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue }` with
    /// an ECDSA-SHA256 signature by the CA key.
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, Error> {
        let digest = HashAlg::Sha256.digest(tbs);
        let mut rng = |buf: &mut [u8]| {
            let _ = getrandom::fill(buf);
        };
        let (r, s) = ecc::ecdsa_sign(
            EccCurve::NistP256,
            &self.key,
            HashAlg::Sha256,
            &digest,
            &mut rng,
        )
        .map_err(|e| Error::Runtime(format!("signing a certificate failed: {e}")))?;
        let sig = der::seq(&[&der::uint(&r), &der::uint(&s)]);
        Ok(der::seq(&[tbs, &sig_alg(), &der::bit_string(&sig)]))
    }

    /// AuthorityKeyIdentifier { keyIdentifier [0] } naming this CA's key.
    fn authority_key_id(&self) -> Vec<u8> {
        der::seq(&[&der::tlv(0x80, &key_id(&self.public))])
    }

    fn self_signed_certificate(&self) -> Result<Vec<u8>, Error> {
        let ski = key_id(&self.public);
        let extensions = der::seq(&[
            &extension(
                &OID_BASIC_CONSTRAINTS,
                true,
                &der::seq(&[&der::boolean(true)]),
            ),
            &extension(&OID_KEY_USAGE, true, &der::named_bits(&[5, 6])),
            &extension(&OID_SUBJECT_KEY_ID, false, &der::octet_string(&ski)),
        ]);
        let tbs = der::seq(&[
            &der::explicit(0, &der::small_uint(2)),
            &serial()?,
            &sig_alg(),
            &ca_name(),
            &der::seq(&[&der::time(now()), &der::no_expiry()]),
            &ca_name(),
            &ec_spki(&self.public),
            &der::explicit(3, &extensions),
        ]);
        self.sign(&tbs)
    }

    /// An EK certificate for `ek` (TCG EK Credential Profile 2.0, clause 3.2).
    pub fn ek_certificate(&self, ek: &EkPublic, tpm: &TpmDescription) -> Result<Issued, Error> {
        let (spki, usage) = match ek {
            // keyEncipherment for an RSA EK, keyAgreement for an ECC one.
            EkPublic::Rsa { modulus, exponent } => (rsa_spki(modulus, *exponent), 2),
            EkPublic::EccP256(p) => (ec_spki(p), 4),
        };
        let tpm_name = der::seq(&[
            &rdn(
                &OID_TCG_TPM_MANUFACTURER,
                &format!("id:{:08X}", tpm.manufacturer),
            ),
            &rdn(&OID_TCG_TPM_MODEL, &tpm.model),
            &rdn(
                &OID_TCG_TPM_VERSION,
                &format!("id:{:08X}", tpm.firmware_version),
            ),
        ]);
        let san = der::seq(&[&der::explicit(4, &tpm_name)]);
        let spec = der::seq(&[
            &der::utf8("2.0"),
            &der::small_uint(u64::from(tpm.spec_level)),
            &der::small_uint(u64::from(tpm.spec_revision)),
        ]);
        let dir_attrs = der::seq(&[&der::seq(&[
            &der::oid(&OID_TCG_TPM_SPECIFICATION),
            &der::set(&[&spec]),
        ])]);
        let aki = self.authority_key_id();
        let vtpm = vtpm_extension(tpm);
        let extensions = der::seq(&[
            &extension(&OID_AUTHORITY_KEY_ID, false, &aki),
            &extension(&OID_BASIC_CONSTRAINTS, true, &der::seq(&[])),
            &extension(&OID_KEY_USAGE, true, &der::named_bits(&[usage])),
            &extension(
                &OID_EXT_KEY_USAGE,
                false,
                &der::seq(&[&der::oid(&OID_TCG_KP_EK_CERTIFICATE)]),
            ),
            &extension(&OID_SUBJECT_ALT_NAME, true, &san),
            &extension(&OID_SUBJECT_DIRECTORY_ATTRIBUTES, false, &dir_attrs),
            &extension(&VTPM_EXTENSION_ARCS, false, &vtpm),
        ]);
        let serial = serial()?;
        let tbs = der::seq(&[
            &der::explicit(0, &der::small_uint(2)),
            &serial,
            &sig_alg(),
            &ca_name(),
            &der::seq(&[&der::time(now()), &der::no_expiry()]),
            &der::seq(&[]),
            &spki,
            &der::explicit(3, &extensions),
        ]);
        Ok(Issued {
            der: self.sign(&tbs)?,
            serial,
        })
    }

    /// A platform certificate (TCG Platform Attribute Credential Profile 1.1): an
    /// X.509 attribute certificate (RFC 5755) whose holder is the EK certificate
    /// `ek` (issuer and serial), naming the platform (manufacturer, model,
    /// version, serial: the VM) in its subjectAltName, with the platform
    /// specification (PC Client, 2.0) and the credential type as attributes, and
    /// the vTPM extension.
    pub fn platform_certificate(
        &self,
        ek: &Issued,
        tpm: &TpmDescription,
    ) -> Result<Vec<u8>, Error> {
        let ca_names = der::seq(&[&der::explicit(4, &ca_name())]);
        // Holder ::= SEQUENCE { baseCertificateID [0] IMPLICIT IssuerSerial }
        let holder = der::seq(&[&der::constructed(0xA0, &[&ca_names, &ek.serial])]);
        // AttCertIssuer: v2Form [0] IMPLICIT V2Form { issuerName GeneralNames }
        let issuer = der::constructed(0xA0, &[&ca_names]);
        let spec = der::seq(&[
            &der::seq(&[
                &der::small_uint(1),
                &der::small_uint(1),
                &der::small_uint(13),
            ]),
            // platformClass: TCG PC Client.
            &der::octet_string(&[0, 0, 0, 1]),
        ]);
        let attribute =
            |oid: &[u128], value: &[u8]| der::seq(&[&der::oid(oid), &der::set(&[value])]);
        let attributes = der::seq(&[
            &attribute(&OID_TCG_AT_PLATFORM_SPECIFICATION, &spec),
            &attribute(&OID_TCG_AT_TBB_SECURITY_ASSERTIONS, &der::seq(&[])),
            &attribute(
                &OID_TCG_AT_CREDENTIAL_TYPE,
                &der::seq(&[&der::oid(&OID_TCG_KP_PLATFORM_ATTRIBUTE_CERTIFICATE)]),
            ),
        ]);
        let platform = der::seq(&[
            &rdn(&OID_TCG_AT_PLATFORM_MANUFACTURER_STR, "vtpm"),
            &rdn(&OID_TCG_AT_PLATFORM_MODEL, "vtpm virtual platform"),
            &rdn(
                &OID_TCG_AT_PLATFORM_VERSION,
                &format!("id:{:08X}", tpm.firmware_version),
            ),
            &rdn(&OID_TCG_AT_PLATFORM_SERIAL, &tpm.vmid),
        ]);
        let san = der::seq(&[&der::explicit(4, &platform)]);
        let aki = self.authority_key_id();
        let vtpm = vtpm_extension(tpm);
        let extensions = der::seq(&[
            &extension(&OID_AUTHORITY_KEY_ID, false, &aki),
            &extension(&OID_SUBJECT_ALT_NAME, false, &san),
            &extension(&VTPM_EXTENSION_ARCS, false, &vtpm),
        ]);
        let info = der::seq(&[
            &der::small_uint(1),
            &holder,
            &issuer,
            &sig_alg(),
            &serial()?,
            &der::seq(&[&der::generalized_time(now()), &der::no_expiry()]),
            &attributes,
            &extensions,
        ]);
        self.sign(&info)
    }
}

/// The vTPM extension's value: `SEQUENCE { "virtual TPM", backend, vmid }`.
fn vtpm_extension(tpm: &TpmDescription) -> Vec<u8> {
    der::seq(&[
        &der::utf8("virtual TPM"),
        &der::utf8(&tpm.backend),
        &der::utf8(&tpm.vmid),
    ])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Creates `path` with `mode`; refuses to replace an existing file.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), Error> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::Runtime(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::Runtime(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_loaded_after() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        let a = LocalCa::open_or_create(&dir).unwrap();
        let b = LocalCa::open_or_create(&dir).unwrap();
        assert_eq!(a.certificate(), b.certificate());
        assert_eq!(a.public, b.public);
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&fs::metadata(p).unwrap().permissions()) & 0o777
        };
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(CA_KEY_FILE)), 0o600);
    }

    #[test]
    fn a_damaged_key_file_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        LocalCa::open_or_create(tmp.path()).unwrap();
        fs::write(tmp.path().join(CA_KEY_FILE), "garbage").unwrap();
        let err = LocalCa::open_or_create(tmp.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(CA_KEY_FILE), "{err}");
    }

    #[test]
    fn certificates_verify_under_the_ca_key() {
        let tmp = tempfile::tempdir().unwrap();
        let ca = LocalCa::open_or_create(tmp.path()).unwrap();
        let tpm = TpmDescription {
            manufacturer: 0x5654_504D,
            model: "vtpm-rs procvirt".into(),
            firmware_version: 0x0001_0000,
            spec_level: 0,
            spec_revision: 164,
            backend: "process".into(),
            vmid: "guest1".into(),
        };
        let ek = EkPublic::Rsa {
            modulus: vec![0xC5; 256],
            exponent: 65537,
        };
        let issued = ca.ek_certificate(&ek, &tpm).unwrap();
        let cert = issued.der.clone();
        // The signature covers the TBS bytes: split the outer SEQUENCE by hand.
        let (tbs, rest) = split_tlv(inner(&cert));
        let (_alg, rest) = split_tlv(rest);
        let sig = inner(rest);
        let (r, s) = split_tlv(inner(&sig[1..]));
        let digest = HashAlg::Sha256.digest(tbs);
        let strip = |v: &[u8]| {
            inner(v)
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect::<Vec<_>>()
        };
        ecc::ecdsa_verify(
            EccCurve::NistP256,
            &ca.public,
            &digest,
            &strip(r),
            &strip(s),
        )
        .unwrap();
        assert!(contains(tbs, b"id:5654504D"));
        assert!(contains(tbs, b"virtual TPM"));
        // A changed byte in the TBS no longer verifies.
        let mut forged = tbs.to_vec();
        let at = forged.len() - 3;
        forged[at] ^= 1;
        let digest = HashAlg::Sha256.digest(&forged);
        assert!(ecc::ecdsa_verify(
            EccCurve::NistP256,
            &ca.public,
            &digest,
            &strip(r),
            &strip(s)
        )
        .is_err());
    }

    /// (whole TLV, rest) of the first TLV in `d`.
    fn split_tlv(d: &[u8]) -> (&[u8], &[u8]) {
        let (hdr, len) = header(d);
        d.split_at(hdr + len)
    }

    /// The content of the first TLV in `d`.
    fn inner(d: &[u8]) -> &[u8] {
        let (hdr, len) = header(d);
        &d[hdr..hdr + len]
    }

    fn header(d: &[u8]) -> (usize, usize) {
        if d[1] < 0x80 {
            (2, d[1] as usize)
        } else {
            let n = (d[1] & 0x7F) as usize;
            (
                2 + n,
                d[2..2 + n].iter().fold(0, |a, b| a << 8 | *b as usize),
            )
        }
    }
}
