//! `vtpm swtpm-setup ...` (or `swtpm_setup ...` through a link named
//! `swtpm_setup`): manufactures a vTPM in a state directory the way swtpm_setup
//! does for libvirt — the PCR banks chosen, the EK created and made persistent,
//! its certificate issued by the local CA ([`crate::localca`]) and stored in NV,
//! the certificate indices locked.
//!
//! The TPM is driven in-process through its command interface, with the same
//! commands a TSS would send (Startup, PCR_Allocate, CreatePrimary,
//! EvictControl, NV_DefineSpace, NV_Write, NV_WriteLock, Shutdown).

use std::fs::OpenOptions;
use std::path::PathBuf;

use vtpm_core::{Isolation, Tpm};
use vtpm_proto::InstanceId;
use zeroize::Zeroizing;

use crate::cmd::manufacture::new_instance_id;
use crate::error::Error;
use crate::localca::{self, EkPublic, LocalCa, TpmDescription};
use crate::platform::HostPlatform;
use crate::store::{StateDir, StoreError};

/// The usage text.
pub const USAGE: &str = "\
Usage: swtpm_setup --tpm2 --tpmstate DIR [options]
       vtpm swtpm-setup --tpm2 --tpmstate DIR [options]

Manufactures a TPM 2.0 in DIR (the directory `swtpm socket --tpmstate dir=DIR`
serves), as swtpm_setup does.

  --tpm2                      TPM 2.0 (required; TPM 1.2 is not supported)
  --tpmstate DIR, --tpm-state DIR
                              state directory (also dir://DIR)
  --pcr-banks LIST            PCR banks to allocate, comma-separated among sha1,
                              sha256, sha384, sha512 (default: sha256)
  --createek                  create the EK and make it persistent
                              (0x81010001 RSA 2048; 0x81010002 ECC NIST P-256)
  --ecc                       an ECC NIST P-256 EK instead of RSA 2048
  --rsa-keysize 2048          the RSA EK size (only 2048)
  --allow-signing             an EK that can sign (not restricted); it stays a
                              decryption key only with --decryption
  --decryption                with --allow-signing: the EK can also decrypt
  --create-ek-cert            issue the EK certificate (local CA) into NV
                              (0x01C00002 RSA, 0x01C0000A ECC); implies --createek
  --create-platform-cert      issue a platform certificate (an attribute
                              certificate whose holder is the EK certificate)
                              into NV 0x01C08000; needs --create-ek-cert
  --create-spk                create the storage primary key at 0x81000001
  --lock-nvram                make the certificate NV indices read-only
  --vmid ID                   the VM (libvirt: NAME:UUID); a UUID becomes the
                              instance id, and ID goes into the EK certificate
  --localca-dir DIR           the local CA (default: $VTPM_LOCALCA_DIR, else
                              /var/lib/vtpm-localca for root, else
                              ~/.local/share/vtpm-localca)
  --overwrite                 replace an existing TPM state
  --not-overwrite             keep an existing TPM state and succeed
  --logfile FILE              append the log to FILE
  --display                   print the EK and certificate when done
  --config FILE, --tpm FILE, --swtpm_ioctl FILE
                              accepted for compatibility and ignored
  --print-capabilities        print supported features as JSON
  --version, --help
";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SetupArgs {
    /// `--tpm2`
    pub tpm2: bool,
    /// `--tpmstate`
    pub state_dir: PathBuf,
    /// `--pcr-banks`
    pub pcr_banks: Vec<Bank>,
    /// `--createek`
    pub create_ek: bool,
    /// `--ecc`
    pub ecc: bool,
    /// `--allow-signing`
    pub allow_signing: bool,
    /// `--decryption`
    pub decryption: bool,
    /// `--create-ek-cert`
    pub ek_cert: bool,
    /// `--create-platform-cert`
    pub platform_cert: bool,
    /// `--create-spk`
    pub create_spk: bool,
    /// `--lock-nvram`
    pub lock_nvram: bool,
    /// `--vmid`
    pub vmid: Option<String>,
    /// `--localca-dir`
    pub localca_dir: Option<PathBuf>,
    /// `--overwrite`
    pub overwrite: bool,
    /// `--not-overwrite`
    pub not_overwrite: bool,
    /// `--logfile`
    pub logfile: Option<PathBuf>,
    /// `--display`
    pub display: bool,
}

/// A PCR bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {
    /// TPM_ALG_SHA1
    Sha1,
    /// TPM_ALG_SHA256
    Sha256,
    /// TPM_ALG_SHA384
    Sha384,
    /// TPM_ALG_SHA512
    Sha512,
}

impl Bank {
    const ALL: [Bank; 4] = [Bank::Sha1, Bank::Sha256, Bank::Sha384, Bank::Sha512];

    fn alg(self) -> u16 {
        match self {
            Bank::Sha1 => 0x0004,
            Bank::Sha256 => 0x000B,
            Bank::Sha384 => 0x000C,
            Bank::Sha512 => 0x000D,
        }
    }

    fn parse(s: &str) -> Option<Bank> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sha1" => Some(Bank::Sha1),
            "sha256" => Some(Bank::Sha256),
            "sha384" => Some(Bank::Sha384),
            "sha512" => Some(Bank::Sha512),
            _ => None,
        }
    }
}

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum SetupCommand {
    /// `--help`
    Help,
    /// `--version`
    Version,
    /// `--print-capabilities`
    PrintCapabilities,
    /// Manufacture.
    Setup(Box<SetupArgs>),
}

/// Parses the swtpm_setup command line (after the program name). Unknown options
/// are refused by name.
pub fn parse(args: &[String]) -> Result<SetupCommand, String> {
    let mut a = SetupArgs {
        pcr_banks: vec![Bank::Sha256],
        ..SetupArgs::default()
    };
    let mut state = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value ({what})")),
            }
        };
        match name {
            "-h" | "--help" => return Ok(SetupCommand::Help),
            "-v" | "--version" => return Ok(SetupCommand::Version),
            "--print-capabilities" => return Ok(SetupCommand::PrintCapabilities),
            "--tpm2" => a.tpm2 = true,
            "--tpmstate" | "--tpm-state" => {
                let v = value("DIR")?;
                if let Some(rest) = v.strip_prefix("file://") {
                    return Err(format!(
                        "{name}: file://{rest}: only directory state (dir://DIR or DIR) is supported"
                    ));
                }
                state = Some(PathBuf::from(v.strip_prefix("dir://").unwrap_or(&v)));
            }
            "--pcr-banks" => {
                let v = value("LIST")?;
                let mut banks = Vec::new();
                for name in v.split(',').filter(|s| !s.trim().is_empty()) {
                    let b = Bank::parse(name).ok_or_else(|| {
                        format!("--pcr-banks: unknown bank {name:?} (sha1, sha256, sha384, sha512)")
                    })?;
                    if !banks.contains(&b) {
                        banks.push(b);
                    }
                }
                if banks.is_empty() {
                    return Err("--pcr-banks: no bank given".into());
                }
                a.pcr_banks = banks;
            }
            "--createek" => a.create_ek = true,
            "--ecc" => a.ecc = true,
            "--rsa-keysize" => {
                let v = value("BITS")?;
                if v != "2048" {
                    return Err(format!("--rsa-keysize {v}: only 2048 is supported"));
                }
            }
            "--allow-signing" => a.allow_signing = true,
            "--decryption" => a.decryption = true,
            "--create-ek-cert" => a.ek_cert = true,
            "--create-platform-cert" => a.platform_cert = true,
            "--create-spk" => a.create_spk = true,
            "--lock-nvram" => a.lock_nvram = true,
            "--vmid" => a.vmid = Some(value("ID")?),
            "--localca-dir" => a.localca_dir = Some(PathBuf::from(value("DIR")?)),
            "--overwrite" => a.overwrite = true,
            "--not-overwrite" => a.not_overwrite = true,
            "--logfile" => a.logfile = Some(PathBuf::from(value("FILE")?)),
            "--display" => a.display = true,
            "--config" | "--tpm" | "--swtpm_ioctl" => {
                let v = value("FILE")?;
                log::debug!("{name} {v}: ignored");
            }
            "--runas" => {
                return Err(
                    "--runas is not supported: run swtpm_setup as the user that owns the state"
                        .into(),
                )
            }
            "--take-ownership" | "--ownerpass" | "--owner-well-known" | "--srkpass"
            | "--srk-well-known" => {
                return Err(format!("{name} is a TPM 1.2 option; this TPM is 2.0 only"))
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if !a.tpm2 {
        return Err("only TPM 2.0 is supported: give --tpm2".into());
    }
    if a.overwrite && a.not_overwrite {
        return Err("--overwrite and --not-overwrite exclude each other".into());
    }
    a.state_dir = state.ok_or("--tpmstate DIR is required")?;
    if a.ek_cert {
        a.create_ek = true;
    }
    Ok(SetupCommand::Setup(Box::new(a)))
}

/// The `--print-capabilities` JSON.
pub fn capabilities_json() -> String {
    format!(
        "{{ \"type\": \"swtpm_setup\", \"features\": [ \"tpm-2.0\", \"tpm2-rsa-keysize-2048\" ], \"version\": \"{}\" }}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs `swtpm_setup` with `args` (after the program name).
pub fn run(args: &[String], logger_ready: bool) -> Result<(), Error> {
    match parse(args).map_err(Error::Usage)? {
        SetupCommand::Help => {
            print!("{USAGE}");
            Ok(())
        }
        SetupCommand::Version => {
            println!(
                "TPM emulator setup tool version {} (vtpm, swtpm_setup-compatible)",
                env!("CARGO_PKG_VERSION")
            );
            Ok(())
        }
        SetupCommand::PrintCapabilities => {
            println!("{}", capabilities_json());
            Ok(())
        }
        SetupCommand::Setup(a) => {
            if !logger_ready {
                let file = match &a.logfile {
                    Some(p) => Some(
                        OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(p)
                            .map_err(|e| Error::Usage(format!("--logfile {}: {e}", p.display())))?,
                    ),
                    None => None,
                };
                crate::logger::init_to(log::LevelFilter::Info, file);
            }
            setup(&a)
        }
    }
}

// TPM constants used here (Part 2).
const TPM_RH_OWNER: u32 = 0x4000_0001;
const TPM_RH_ENDORSEMENT: u32 = 0x4000_000B;
const TPM_RH_PLATFORM: u32 = 0x4000_000C;
const TPM_CC_NV_UNDEFINE_SPACE: u32 = 0x122;
const TPM_CC_EVICT_CONTROL: u32 = 0x120;
const TPM_CC_NV_DEFINE_SPACE: u32 = 0x12A;
const TPM_CC_PCR_ALLOCATE: u32 = 0x12B;
const TPM_CC_CREATE_PRIMARY: u32 = 0x131;
const TPM_CC_NV_WRITE: u32 = 0x137;
const TPM_CC_NV_WRITE_LOCK: u32 = 0x138;
const TPM_CC_STARTUP: u32 = 0x144;
const TPM_CC_SHUTDOWN: u32 = 0x145;
const TPM_CC_FLUSH_CONTEXT: u32 = 0x165;
const TPM_CC_GET_CAPABILITY: u32 = 0x17A;

/// Persistent EK handles and certificate indices (TCG EK Credential Profile 2.x,
/// TCG Provisioning Guidance).
const EK_RSA_HANDLE: u32 = 0x8101_0001;
const EK_ECC_HANDLE: u32 = 0x8101_0002;
const EK_CERT_RSA_INDEX: u32 = 0x01C0_0002;
const EK_CERT_ECC_INDEX: u32 = 0x01C0_000A;
const SPK_HANDLE: u32 = 0x8100_0001;
/// The platform certificate index (TCG PC Client Platform TPM Profile).
const PLATFORM_CERT_INDEX: u32 = 0x01C0_8000;

/// PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256: the EK's authPolicy (TCG EK
/// Credential Profile, B.3.3).
const EK_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
];

/// TPMA_NV of the certificate indices: PPWRITE, PPREAD, OWNERREAD, AUTHREAD,
/// NO_DA, PLATFORMCREATE, and WRITEDEFINE when the NV is locked.
fn cert_nv_attributes(lock: bool) -> u32 {
    let base = 0x0000_0001 | 0x0001_0000 | 0x0002_0000 | 0x0004_0000 | 0x0200_0000 | 0x4000_0000;
    if lock {
        base | 0x0000_2000
    } else {
        base
    }
}

/// The engine and the platform it runs on, spoken to with TPM commands.
struct Session {
    tpm: Tpm,
    platform: HostPlatform,
}

impl Session {
    /// Sends a command with an empty-password session for each of `auth`, then
    /// `handles` and `params`; returns the response after its header (handles,
    /// then parameterSize and parameters when `auth` is not empty) on success, a
    /// clear error naming `what` otherwise.
    fn call(
        &mut self,
        what: &str,
        cc: u32,
        auth: &[u32],
        handles: &[u32],
        params: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        for h in auth.iter().chain(handles) {
            body.extend_from_slice(&h.to_be_bytes());
        }
        if !auth.is_empty() {
            // TPM_RS_PW, empty nonce, continueSession, empty password.
            let session = [0x40, 0, 0, 9, 0, 0, 1, 0, 0];
            body.extend_from_slice(&((session.len() * auth.len()) as u32).to_be_bytes());
            for _ in auth {
                body.extend_from_slice(&session);
            }
        }
        body.extend_from_slice(params);
        let tag: u16 = if auth.is_empty() { 0x8001 } else { 0x8002 };
        let mut c = tag.to_be_bytes().to_vec();
        c.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
        c.extend_from_slice(&cc.to_be_bytes());
        c.extend_from_slice(&body);
        let r = self.tpm.execute(&mut self.platform, 0, &c);
        let rc = r.rc();
        if rc != 0 {
            return Err(Error::Runtime(format!(
                "{what} failed: TPM response code {rc:#05x}"
            )));
        }
        Ok(r.bytes.get(10..).unwrap_or_default().to_vec())
    }

    /// The parameter area of a response with `handles` response handles and a
    /// session area.
    fn params_after(resp: &[u8], handles: usize) -> &[u8] {
        let start = handles * 4 + 4;
        resp.get(start..).unwrap_or_default()
    }

    fn startup(&mut self) -> Result<(), Error> {
        self.call("TPM2_Startup(CLEAR)", TPM_CC_STARTUP, &[], &[], &[0, 0])
            .map(|_| ())
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        self.call("TPM2_Shutdown(CLEAR)", TPM_CC_SHUTDOWN, &[], &[], &[0, 0])
            .map(|_| ())
    }

    /// A TPM property (TPM_CAP_TPM_PROPERTIES).
    fn property(&mut self, property: u32) -> Result<u32, Error> {
        let mut p = 6u32.to_be_bytes().to_vec();
        p.extend_from_slice(&property.to_be_bytes());
        p.extend_from_slice(&1u32.to_be_bytes());
        let r = self.call("TPM2_GetCapability", TPM_CC_GET_CAPABILITY, &[], &[], &p)?;
        // moreData, capability, count, (property, value)
        match r.get(9..17) {
            Some(pv) if pv[..4] == property.to_be_bytes() => {
                Ok(u32::from_be_bytes([pv[4], pv[5], pv[6], pv[7]]))
            }
            _ => Err(Error::Runtime(format!(
                "the TPM does not report property {property:#x}"
            ))),
        }
    }

    /// PCR_Allocate of exactly `banks` (every PCR), applied by a TPM Reset.
    fn allocate(&mut self, banks: &[Bank]) -> Result<(), Error> {
        let mut p = (Bank::ALL.len() as u32).to_be_bytes().to_vec();
        for b in Bank::ALL {
            p.extend_from_slice(&b.alg().to_be_bytes());
            p.push(3);
            let bits = if banks.contains(&b) { 0xFF } else { 0 };
            p.extend_from_slice(&[bits; 3]);
        }
        let r = self.call(
            "TPM2_PCR_Allocate",
            TPM_CC_PCR_ALLOCATE,
            &[TPM_RH_PLATFORM],
            &[],
            &p,
        )?;
        if Self::params_after(&r, 0).first() != Some(&1) {
            return Err(Error::Runtime(
                "TPM2_PCR_Allocate did not accept the PCR banks".into(),
            ));
        }
        // The new allocation takes effect at the next TPM Reset.
        self.shutdown()?;
        self.tpm.power_off();
        self.tpm.power_on(&mut self.platform);
        self.startup()
    }

    /// CreatePrimary of `template` in `hierarchy`; returns the handle and the
    /// outPublic TPMT_PUBLIC bytes.
    fn create_primary(
        &mut self,
        what: &str,
        hierarchy: u32,
        template: &[u8],
    ) -> Result<(u32, Vec<u8>), Error> {
        let mut p = vec![0, 4, 0, 0, 0, 0]; // inSensitive: empty auth and data
        p.extend_from_slice(&(template.len() as u16).to_be_bytes());
        p.extend_from_slice(template);
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // outsideInfo, creationPCR
        let r = self.call(what, TPM_CC_CREATE_PRIMARY, &[hierarchy], &[], &p)?;
        let handle = r
            .get(..4)
            .map(|h| u32::from_be_bytes([h[0], h[1], h[2], h[3]]))
            .ok_or_else(|| Error::Runtime(format!("{what}: short response")))?;
        let params = Self::params_after(&r, 1);
        let size = params
            .get(..2)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
            .unwrap_or(0);
        let public = params
            .get(2..2 + size)
            .ok_or_else(|| Error::Runtime(format!("{what}: short response")))?;
        Ok((handle, public.to_vec()))
    }

    fn persist(&mut self, what: &str, object: u32, persistent: u32) -> Result<(), Error> {
        self.call(
            what,
            TPM_CC_EVICT_CONTROL,
            &[TPM_RH_OWNER],
            &[object],
            &persistent.to_be_bytes(),
        )?;
        self.call(
            "TPM2_FlushContext",
            TPM_CC_FLUSH_CONTEXT,
            &[],
            &[],
            &object.to_be_bytes(),
        )
        .map(|_| ())
    }

    /// Defines `index` (platform hierarchy) and writes `data` into it.
    fn nv_store(&mut self, index: u32, data: &[u8], lock: bool) -> Result<(), Error> {
        let size = u16::try_from(data.len())
            .map_err(|_| Error::Runtime(format!("{} bytes do not fit an NV index", data.len())))?;
        let mut public = index.to_be_bytes().to_vec();
        public.extend_from_slice(&0x000Bu16.to_be_bytes());
        public.extend_from_slice(&cert_nv_attributes(lock).to_be_bytes());
        public.extend_from_slice(&[0, 0]);
        public.extend_from_slice(&size.to_be_bytes());
        let mut p = vec![0, 0];
        p.extend_from_slice(&(public.len() as u16).to_be_bytes());
        p.extend_from_slice(&public);
        // A certificate from an earlier setup of this state is replaced.
        let _ = self.call(
            "TPM2_NV_UndefineSpace",
            TPM_CC_NV_UNDEFINE_SPACE,
            &[TPM_RH_PLATFORM],
            &[index],
            &[],
        );
        self.call(
            &format!("TPM2_NV_DefineSpace({index:#010x})"),
            TPM_CC_NV_DEFINE_SPACE,
            &[TPM_RH_PLATFORM],
            &[],
            &p,
        )?;
        let chunk = vtpm_core::types::nv::MAX_NV_BUFFER_SIZE;
        for (i, part) in data.chunks(chunk).enumerate() {
            let mut p = (part.len() as u16).to_be_bytes().to_vec();
            p.extend_from_slice(part);
            p.extend_from_slice(&((i * chunk) as u16).to_be_bytes());
            self.call(
                &format!("TPM2_NV_Write({index:#010x})"),
                TPM_CC_NV_WRITE,
                &[TPM_RH_PLATFORM],
                &[index],
                &p,
            )?;
        }
        if lock {
            self.call(
                &format!("TPM2_NV_WriteLock({index:#010x})"),
                TPM_CC_NV_WRITE_LOCK,
                &[TPM_RH_PLATFORM],
                &[index],
                &[],
            )?;
        }
        Ok(())
    }
}

/// The EK template (TCG EK Credential Profile, B.3.3 template L-1 for RSA 2048,
/// B.3.4 template L-2 for ECC NIST P-256), with swtpm_setup's variations for
/// `--allow-signing` / `--decryption`.
fn ek_template(ecc: bool, allow_signing: bool, decryption: bool) -> Vec<u8> {
    // fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy, then
    // restricted|decrypt for a standard EK, sign[|decrypt] for a signing one.
    let mut attrs: u32 = 0x0000_0002 | 0x0000_0010 | 0x0000_0020 | 0x0000_0080;
    let standard = !allow_signing;
    if standard {
        attrs |= 0x0001_0000 | 0x0002_0000;
    } else {
        attrs |= 0x0004_0000;
        if decryption {
            attrs |= 0x0002_0000;
        }
    }
    let mut t = Vec::new();
    t.extend_from_slice(&(if ecc { 0x0023u16 } else { 0x0001 }).to_be_bytes());
    t.extend_from_slice(&0x000Bu16.to_be_bytes());
    t.extend_from_slice(&attrs.to_be_bytes());
    t.extend_from_slice(&(EK_POLICY.len() as u16).to_be_bytes());
    t.extend_from_slice(&EK_POLICY);
    if standard {
        // AES-128-CFB
        t.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
    } else {
        t.extend_from_slice(&[0x00, 0x10]);
    }
    t.extend_from_slice(&[0x00, 0x10]); // scheme NULL
    if ecc {
        t.extend_from_slice(&[0x00, 0x03]); // NIST P-256
        t.extend_from_slice(&[0x00, 0x10]); // kdf NULL
        t.extend_from_slice(&[0, 32]);
        t.extend_from_slice(&[0; 32]);
        t.extend_from_slice(&[0, 32]);
        t.extend_from_slice(&[0; 32]);
    } else {
        t.extend_from_slice(&2048u16.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
        t.extend_from_slice(&256u16.to_be_bytes());
        t.extend_from_slice(&[0; 256]);
    }
    t
}

/// The storage primary key template: RSA 2048, restricted decrypt, AES-128-CFB,
/// userWithAuth, noDA (the TCG Provisioning Guidance SRK).
fn spk_template() -> Vec<u8> {
    let attrs: u32 = 0x0000_0002
        | 0x0000_0010
        | 0x0000_0020
        | 0x0000_0040
        | 0x0000_0400
        | 0x0001_0000
        | 0x0002_0000;
    let mut t = vec![0x00, 0x01, 0x00, 0x0B];
    t.extend_from_slice(&attrs.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10]);
    t.extend_from_slice(&2048u16.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&256u16.to_be_bytes());
    t.extend_from_slice(&[0; 256]);
    t
}

/// The EK public key from its TPMT_PUBLIC (whose layout up to `unique` is the
/// template's).
fn ek_public(public: &[u8], template_len: usize, ecc: bool) -> Result<EkPublic, Error> {
    let short = || Error::Runtime("the EK's public area is too short".into());
    // The template ends with the unique field; everything before it is fixed.
    let unique_len = if ecc { 2 + 32 + 2 + 32 } else { 2 + 256 };
    let start = template_len - unique_len;
    let mut r = public.get(start..).ok_or_else(short)?;
    let take = |r: &mut &[u8]| -> Result<Vec<u8>, Error> {
        let n = r
            .get(..2)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
            .ok_or_else(short)?;
        let v = r.get(2..2 + n).ok_or_else(short)?.to_vec();
        *r = &r[2 + n..];
        Ok(v)
    };
    if ecc {
        let x = take(&mut r)?;
        let y = take(&mut r)?;
        Ok(EkPublic::EccP256(vtpm_core::crypto::ecc::EccPoint { x, y }))
    } else {
        Ok(EkPublic::Rsa {
            modulus: take(&mut r)?,
            exponent: 65537,
        })
    }
}

/// The instance id for `vmid`: a UUID in it (libvirt passes NAME:UUID), else new.
fn instance_for(vmid: Option<&str>) -> Result<InstanceId, Error> {
    if let Some(v) = vmid {
        let last = v.rsplit(':').next().unwrap_or(v);
        if let Ok(id) = last.trim().parse::<InstanceId>() {
            return Ok(id);
        }
    }
    new_instance_id()
}

fn vendor_string(v: u32) -> String {
    v.to_be_bytes()
        .iter()
        .filter(|b| **b != 0)
        .map(|b| *b as char)
        .collect()
}

fn setup(a: &SetupArgs) -> Result<(), Error> {
    HostPlatform::check_entropy()
        .map_err(|e| Error::Runtime(format!("the OS entropy source failed: {e}")))?;
    let mut store = StateDir::open(&a.state_dir)?;
    let path = store.permanent_path();
    match store.read_permanent() {
        Ok(None) => {}
        Ok(Some(_)) if a.not_overwrite => {
            log::info!(
                "{} holds a TPM state already; not overwriting it",
                path.display()
            );
            return Ok(());
        }
        Ok(Some(old)) if a.overwrite => log::warn!(
            "replacing the TPM of instance {} in {}; its keys and secrets are lost",
            old.instance,
            path.display()
        ),
        Err(e @ StoreError::Corrupt { .. }) if a.overwrite => {
            log::warn!("replacing an unusable state file: {e}")
        }
        Ok(Some(_)) => {
            return Err(Error::Runtime(format!(
                "{} already holds a TPM state; use --overwrite to replace it or --not-overwrite to keep it",
                path.display()
            )))
        }
        Err(e) => return Err(e.into()),
    }
    let instance = instance_for(a.vmid.as_deref())?;
    let mut platform = HostPlatform::new();
    let mut tpm = Tpm::manufacture(&mut platform);
    tpm.set_isolation(Isolation::Process);
    tpm.power_on(&mut platform);
    let mut s = Session { tpm, platform };
    s.startup()?;

    s.allocate(&a.pcr_banks)?;
    let banks: Vec<String> = a
        .pcr_banks
        .iter()
        .map(|b| format!("{b:?}").to_lowercase())
        .collect();
    log::info!("PCR banks: {}", banks.join(", "));

    if a.create_ek {
        let template = ek_template(a.ecc, a.allow_signing, a.decryption);
        let (handle, public) =
            s.create_primary("creating the EK", TPM_RH_ENDORSEMENT, &template)?;
        let ek = ek_public(&public, template.len(), a.ecc)?;
        let persistent = if a.ecc { EK_ECC_HANDLE } else { EK_RSA_HANDLE };
        s.persist("TPM2_EvictControl(EK)", handle, persistent)?;
        log::info!(
            "EK ({}) created, persistent at {persistent:#010x}",
            if a.ecc { "ECC NIST P-256" } else { "RSA 2048" }
        );
        if a.display {
            match &ek {
                EkPublic::Rsa { modulus, .. } => println!("EK RSA modulus: {}", hex(modulus)),
                EkPublic::EccP256(p) => {
                    println!("EK ECC x: {}\nEK ECC y: {}", hex(&p.x), hex(&p.y))
                }
            }
        }
        if a.ek_cert {
            let ca_dir = a.localca_dir.clone().unwrap_or_else(localca::default_dir);
            let ca = LocalCa::open_or_create(&ca_dir)?;
            let desc = TpmDescription {
                manufacturer: s.property(0x105)?,
                model: [0x106, 0x107, 0x108, 0x109]
                    .iter()
                    .map(|p| s.property(*p).map(vendor_string))
                    .collect::<Result<Vec<_>, _>>()?
                    .concat(),
                firmware_version: s.property(0x10B)?,
                spec_level: s.property(0x101)?,
                spec_revision: s.property(0x102)?,
                backend: "process".into(),
                vmid: a.vmid.clone().unwrap_or_default(),
            };
            let issued = ca.ek_certificate(&ek, &desc)?;
            let cert = &issued.der;
            let index = if a.ecc {
                EK_CERT_ECC_INDEX
            } else {
                EK_CERT_RSA_INDEX
            };
            s.nv_store(index, cert, a.lock_nvram)?;
            log::info!(
                "EK certificate ({} bytes) issued by the local CA in {}, stored at NV index {index:#010x}{}",
                cert.len(),
                ca.dir().display(),
                if a.lock_nvram { " (locked)" } else { "" }
            );
            if a.display {
                println!("EK certificate:");
                print!("{}", crate::der::pem_encode("CERTIFICATE", cert));
                println!("issued by the local CA:");
                print!(
                    "{}",
                    crate::der::pem_encode("CERTIFICATE", ca.certificate())
                );
            }
            if a.platform_cert {
                let platform = ca.platform_certificate(&issued, &desc)?;
                s.nv_store(PLATFORM_CERT_INDEX, &platform, a.lock_nvram)?;
                log::info!(
                    "platform certificate ({} bytes) issued by the local CA, stored at NV index {PLATFORM_CERT_INDEX:#010x}{}",
                    platform.len(),
                    if a.lock_nvram { " (locked)" } else { "" }
                );
            }
        }
    }
    if a.platform_cert && !a.ek_cert {
        log::warn!(
            "--create-platform-cert needs --create-ek-cert (the platform certificate names \
             the EK certificate as its holder); no platform certificate was created"
        );
    }
    if a.create_spk {
        let (handle, _) = s.create_primary("creating the SPK", TPM_RH_OWNER, &spk_template())?;
        s.persist("TPM2_EvictControl(SPK)", handle, SPK_HANDLE)?;
        log::info!("storage primary key persistent at {SPK_HANDLE:#010x}");
    }
    s.shutdown()?;
    let body = Zeroizing::new(s.tpm.permanent_state());
    let sequence = store.write_permanent(instance, &body)?;
    log::info!(
        "manufactured a TPM 2.0 in {} (instance {instance}, sequence {sequence})",
        path.display()
    );
    println!(
        "Successfully authored TPM state in {}.",
        a.state_dir.display()
    );
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests;
