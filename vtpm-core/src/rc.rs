//! TPM_RC — response codes (Part 2, clause 6.6).
//!
//! The engine has one error currency, [`TpmRc`]. Marshalling code returns bare
//! format-one codes (`SIZE`, `VALUE`, ...); only the dispatcher knows which handle,
//! parameter or session was at fault and adds that position ([`TpmRc::at_param`],
//! [`TpmRc::at_handle`], [`TpmRc::at_session`]), as a real TPM reports it.

use core::fmt;
use core::num::NonZeroU32;

/// A non-success TPM response code (TPM_RC, Part 2 Table 16).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TpmRc(NonZeroU32);

/// Result of an engine operation.
pub type TpmResult<T> = Result<T, TpmRc>;

const RC_VER1: u32 = 0x100;
const RC_FMT1: u32 = 0x080;
const RC_WARN: u32 = 0x900;
const RC_H: u32 = 0x000;
const RC_P: u32 = 0x040;
const RC_S: u32 = 0x800;
const RC_N_SHIFT: u32 = 8;

macro_rules! rcs {
    ($($(#[$m:meta])* $name:ident = $val:expr;)*) => {
        impl TpmRc {
            $($(#[$m])* pub const $name: TpmRc = TpmRc::from_const($val);)*
        }
        /// Names of the codes this engine knows, for logs.
        const NAMES: &[(u32, &str)] = &[$(($val, stringify!($name)),)*];
    };
}

rcs! {
    /// TPM_RC_INITIALIZE: TPM not initialized by Startup or already initialized.
    INITIALIZE = RC_VER1;
    /// TPM_RC_FAILURE: commands not being accepted because of a TPM failure.
    FAILURE = RC_VER1 + 0x001;
    /// TPM_RC_SEQUENCE: improper use of a sequence handle.
    SEQUENCE = RC_VER1 + 0x003;
    /// TPM_RC_DISABLED: the command is disabled.
    DISABLED = RC_VER1 + 0x020;
    /// TPM_RC_EXCLUSIVE: command failed because audit sequence required exclusivity.
    EXCLUSIVE = RC_VER1 + 0x021;
    /// TPM_RC_AUTH_TYPE: authorization handle is not correct for command.
    AUTH_TYPE = RC_VER1 + 0x024;
    /// TPM_RC_AUTH_MISSING: command requires an authorization session for handle.
    AUTH_MISSING = RC_VER1 + 0x025;
    /// TPM_RC_POLICY: policy failure in math operation or an invalid authPolicy value.
    POLICY = RC_VER1 + 0x026;
    /// TPM_RC_PCR: PCR check fail.
    PCR = RC_VER1 + 0x027;
    /// TPM_RC_PCR_CHANGED: PCR have changed since checked.
    PCR_CHANGED = RC_VER1 + 0x028;
    /// TPM_RC_UPGRADE: TPM is in field upgrade mode.
    UPGRADE = RC_VER1 + 0x02D;
    /// TPM_RC_TOO_MANY_CONTEXTS: context ID counter is at maximum.
    TOO_MANY_CONTEXTS = RC_VER1 + 0x02E;
    /// TPM_RC_AUTH_UNAVAILABLE: authValue or authPolicy is not available for selected entity.
    AUTH_UNAVAILABLE = RC_VER1 + 0x02F;
    /// TPM_RC_REBOOT: a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation.
    REBOOT = RC_VER1 + 0x030;
    /// TPM_RC_UNBALANCED: the protection algorithms (hash and symmetric) are not reasonably balanced.
    UNBALANCED = RC_VER1 + 0x031;
    /// TPM_RC_COMMAND_SIZE: commandSize is not consistent with the contents.
    COMMAND_SIZE = RC_VER1 + 0x042;
    /// TPM_RC_COMMAND_CODE: command code not supported.
    COMMAND_CODE = RC_VER1 + 0x043;
    /// TPM_RC_AUTHSIZE: the value of authorizationSize is out of range.
    AUTHSIZE = RC_VER1 + 0x044;
    /// TPM_RC_AUTH_CONTEXT: use of an authorization session with a context command.
    AUTH_CONTEXT = RC_VER1 + 0x045;
    /// TPM_RC_NV_RANGE: NV offset+size is out of range.
    NV_RANGE = RC_VER1 + 0x046;
    /// TPM_RC_NV_SIZE: requested allocation size is larger than allowed.
    NV_SIZE = RC_VER1 + 0x047;
    /// TPM_RC_NV_LOCKED: NV access locked.
    NV_LOCKED = RC_VER1 + 0x048;
    /// TPM_RC_NV_AUTHORIZATION: NV access authorization fails in command actions.
    NV_AUTHORIZATION = RC_VER1 + 0x049;
    /// TPM_RC_NV_UNINITIALIZED: an NV Index is used before being initialized.
    NV_UNINITIALIZED = RC_VER1 + 0x04A;
    /// TPM_RC_NV_SPACE: insufficient space for NV allocation.
    NV_SPACE = RC_VER1 + 0x04B;
    /// TPM_RC_NV_DEFINED: NV Index or persistent object already defined.
    NV_DEFINED = RC_VER1 + 0x04C;
    /// TPM_RC_BAD_CONTEXT: context in TPM2_ContextLoad() is not valid.
    BAD_CONTEXT = RC_VER1 + 0x050;
    /// TPM_RC_CPHASH: cpHash value already set or not correct for use.
    CPHASH = RC_VER1 + 0x051;
    /// TPM_RC_PARENT: handle for parent is not a valid parent.
    PARENT = RC_VER1 + 0x052;
    /// TPM_RC_NEEDS_TEST: some function needs testing.
    NEEDS_TEST = RC_VER1 + 0x053;
    /// TPM_RC_NO_RESULT: cannot process a request due to an unspecified problem.
    NO_RESULT = RC_VER1 + 0x054;
    /// TPM_RC_SENSITIVE: the sensitive area did not unmarshal correctly after decryption.
    SENSITIVE = RC_VER1 + 0x055;

    /// TPM_RC_ASYMMETRIC: asymmetric algorithm not supported or not correct.
    ASYMMETRIC = RC_FMT1 + 0x001;
    /// TPM_RC_ATTRIBUTES: inconsistent attributes.
    ATTRIBUTES = RC_FMT1 + 0x002;
    /// TPM_RC_HASH: hash algorithm not supported or not appropriate.
    HASH = RC_FMT1 + 0x003;
    /// TPM_RC_VALUE: value is out of range or is not correct for the context.
    VALUE = RC_FMT1 + 0x004;
    /// TPM_RC_HIERARCHY: hierarchy is not enabled or is not correct for the use.
    HIERARCHY = RC_FMT1 + 0x005;
    /// TPM_RC_KEY_SIZE: key size is not supported.
    KEY_SIZE = RC_FMT1 + 0x007;
    /// TPM_RC_MGF: mask generation function not supported.
    MGF = RC_FMT1 + 0x008;
    /// TPM_RC_MODE: mode of operation not supported.
    MODE = RC_FMT1 + 0x009;
    /// TPM_RC_TYPE: the type of the value is not appropriate for the use.
    TYPE = RC_FMT1 + 0x00A;
    /// TPM_RC_HANDLE: the handle is not correct for the use.
    HANDLE = RC_FMT1 + 0x00B;
    /// TPM_RC_KDF: unsupported key derivation function or function not appropriate for use.
    KDF = RC_FMT1 + 0x00C;
    /// TPM_RC_RANGE: value was out of allowed range.
    RANGE = RC_FMT1 + 0x00D;
    /// TPM_RC_AUTH_FAIL: the authorization HMAC check failed and DA counter incremented.
    AUTH_FAIL = RC_FMT1 + 0x00E;
    /// TPM_RC_NONCE: invalid nonce size or nonce value mismatch.
    NONCE = RC_FMT1 + 0x00F;
    /// TPM_RC_PP: authorization requires assertion of PP.
    PP = RC_FMT1 + 0x010;
    /// TPM_RC_SCHEME: unsupported or incompatible scheme.
    SCHEME = RC_FMT1 + 0x012;
    /// TPM_RC_SIZE: structure is the wrong size.
    SIZE = RC_FMT1 + 0x015;
    /// TPM_RC_SYMMETRIC: unsupported symmetric algorithm or key size, or not appropriate for instance.
    SYMMETRIC = RC_FMT1 + 0x016;
    /// TPM_RC_TAG: incorrect structure tag.
    TAG = RC_FMT1 + 0x017;
    /// TPM_RC_SELECTOR: union selector is incorrect.
    SELECTOR = RC_FMT1 + 0x018;
    /// TPM_RC_INSUFFICIENT: the TPM was unable to unmarshal a value because there were not enough octets.
    INSUFFICIENT = RC_FMT1 + 0x01A;
    /// TPM_RC_SIGNATURE: the signature is not valid.
    SIGNATURE = RC_FMT1 + 0x01B;
    /// TPM_RC_KEY: key fields are not compatible with the selected use.
    KEY = RC_FMT1 + 0x01C;
    /// TPM_RC_POLICY_FAIL: a policy check failed.
    POLICY_FAIL = RC_FMT1 + 0x01D;
    /// TPM_RC_INTEGRITY: integrity check failed.
    INTEGRITY = RC_FMT1 + 0x01F;
    /// TPM_RC_TICKET: invalid ticket.
    TICKET = RC_FMT1 + 0x020;
    /// TPM_RC_RESERVED_BITS: reserved bits not set to zero as required.
    RESERVED_BITS = RC_FMT1 + 0x021;
    /// TPM_RC_BAD_AUTH: authorization failure without DA implications.
    BAD_AUTH = RC_FMT1 + 0x022;
    /// TPM_RC_EXPIRED: the policy has expired.
    EXPIRED = RC_FMT1 + 0x023;
    /// TPM_RC_POLICY_CC: the commandCode in the policy is not the commandCode of the command.
    POLICY_CC = RC_FMT1 + 0x024;
    /// TPM_RC_BINDING: public and sensitive portions of an object are not cryptographically bound.
    BINDING = RC_FMT1 + 0x025;
    /// TPM_RC_CURVE: curve not supported.
    CURVE = RC_FMT1 + 0x026;
    /// TPM_RC_ECC_POINT: point is not on the required curve.
    ECC_POINT = RC_FMT1 + 0x027;

    /// TPM_RC_CONTEXT_GAP: gap for context ID is too large.
    CONTEXT_GAP = RC_WARN + 0x001;
    /// TPM_RC_OBJECT_MEMORY: out of memory for object contexts.
    OBJECT_MEMORY = RC_WARN + 0x002;
    /// TPM_RC_SESSION_MEMORY: out of memory for session contexts.
    SESSION_MEMORY = RC_WARN + 0x003;
    /// TPM_RC_MEMORY: out of shared object/session memory or need space for internal operations.
    MEMORY = RC_WARN + 0x004;
    /// TPM_RC_SESSION_HANDLES: out of session handles.
    SESSION_HANDLES = RC_WARN + 0x005;
    /// TPM_RC_OBJECT_HANDLES: out of object handles.
    OBJECT_HANDLES = RC_WARN + 0x006;
    /// TPM_RC_LOCALITY: bad locality.
    LOCALITY = RC_WARN + 0x007;
    /// TPM_RC_YIELDED: the TPM has suspended operation on the command.
    YIELDED = RC_WARN + 0x008;
    /// TPM_RC_CANCELED: the command was canceled.
    CANCELED = RC_WARN + 0x009;
    /// TPM_RC_TESTING: TPM is performing self-tests.
    TESTING = RC_WARN + 0x00A;
    /// TPM_RC_REFERENCE_H0: the 1st handle in the handle area references a transient object or session that is not loaded.
    REFERENCE_H0 = RC_WARN + 0x010;
    /// TPM_RC_REFERENCE_S0: the 1st authorization session handle references a session that is not loaded.
    REFERENCE_S0 = RC_WARN + 0x018;
    /// TPM_RC_NV_RATE: the TPM is rate-limiting accesses to prevent wearout of NV.
    NV_RATE = RC_WARN + 0x020;
    /// TPM_RC_LOCKOUT: authorizations for objects subject to DA protection are not allowed at this time.
    LOCKOUT = RC_WARN + 0x021;
    /// TPM_RC_RETRY: the TPM was not able to start the command.
    RETRY = RC_WARN + 0x022;
    /// TPM_RC_NV_UNAVAILABLE: the command may require writing of NV and NV is not current accessible.
    NV_UNAVAILABLE = RC_WARN + 0x023;
}

/// TPM_RC_BAD_TAG: the tag of a command is not a TPM 2.0 tag (a TPM 1.2 code, Part 2 6.6.3).
pub const TPM_RC_BAD_TAG: u32 = 0x01E;

/// Where in a command a format-one error was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcPosition {
    /// Handle number (1-based) in the handle area.
    Handle(u8),
    /// Parameter number (1-based) in the parameter area.
    Parameter(u8),
    /// Session number (1-based) in the authorization area.
    Session(u8),
}

impl TpmRc {
    const fn from_const(v: u32) -> TpmRc {
        match NonZeroU32::new(v) {
            Some(n) => TpmRc(n),
            None => TpmRc(NonZeroU32::MIN),
        }
    }

    /// A response code from its wire value; `None` for TPM_RC_SUCCESS.
    pub fn from_u32(v: u32) -> Option<TpmRc> {
        NonZeroU32::new(v).map(TpmRc)
    }

    /// The wire value.
    pub const fn value(self) -> u32 {
        self.0.get()
    }

    /// True for a format-one code (bit 7 set): these may carry a position.
    pub const fn is_format_one(self) -> bool {
        self.0.get() & RC_FMT1 != 0
    }

    /// True for a warning (format-zero, TPM 2.0, severity bit set).
    pub const fn is_warning(self) -> bool {
        !self.is_format_one() && self.0.get() & 0xF00 == RC_WARN
    }

    /// The code with any position stripped (the bare format-one error number).
    pub const fn base(self) -> TpmRc {
        if self.is_format_one() {
            TpmRc::from_const(self.0.get() & 0xBF)
        } else {
            self
        }
    }

    /// The position of a format-one code, if one is set.
    pub fn position(self) -> Option<RcPosition> {
        if !self.is_format_one() {
            return None;
        }
        let v = self.0.get();
        let n = u8::try_from((v >> RC_N_SHIFT) & 0xF).unwrap_or(0);
        if v & RC_P != 0 {
            Some(RcPosition::Parameter(n))
        } else if n == 0 {
            None
        } else if n & 0x8 != 0 {
            Some(RcPosition::Session(n & 0x7))
        } else {
            Some(RcPosition::Handle(n))
        }
    }

    fn with(self, flag: u32, n: u8, max: u8) -> TpmRc {
        if !self.is_format_one() || self.position().is_some() || n == 0 || n > max {
            return self;
        }
        TpmRc::from_const(self.0.get() | flag | (u32::from(n) << RC_N_SHIFT))
    }

    /// Marks a format-one code as caused by parameter `n` (1..=15); other codes pass through.
    pub fn at_param(self, n: u8) -> TpmRc {
        self.with(RC_P, n, 15)
    }

    /// Marks a format-one code as caused by handle `n` (1..=7).
    pub fn at_handle(self, n: u8) -> TpmRc {
        self.with(RC_H, n, 7)
    }

    /// Marks a format-one code as caused by session `n` (1..=7).
    pub fn at_session(self, n: u8) -> TpmRc {
        self.with(RC_S, n, 7)
    }

    /// For the handle/session reference warnings: the code for the `n`th (0-based) one.
    pub fn reference_handle(n: u8) -> TpmRc {
        TpmRc::from_const(TpmRc::REFERENCE_H0.value() | u32::from(n.min(6)))
    }

    /// TPM_RC_REFERENCE_Sn for session index `n` (0-based).
    pub fn reference_session(n: u8) -> TpmRc {
        TpmRc::from_const(TpmRc::REFERENCE_S0.value() | u32::from(n.min(6)))
    }

    /// The spec name of the base code, if known.
    pub fn name(self) -> Option<&'static str> {
        let base = self.base().value();
        NAMES.iter().find(|(v, _)| *v == base).map(|(_, n)| *n)
    }
}

impl fmt::Debug for TpmRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TpmRc({:#05x}", self.value())?;
        if let Some(n) = self.name() {
            write!(f, " {n}")?;
        }
        if let Some(p) = self.position() {
            write!(f, " {p:?}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for TpmRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_encoded_like_a_real_tpm() {
        assert_eq!(TpmRc::VALUE.at_param(1).value(), 0x1C4);
        assert_eq!(TpmRc::HANDLE.at_handle(1).value(), 0x18B);
        assert_eq!(TpmRc::AUTH_FAIL.at_session(1).value(), 0x98E);
        assert_eq!(TpmRc::SIZE.at_param(2).value(), 0x2D5);
        assert_eq!(
            TpmRc::VALUE.at_param(1).position(),
            Some(RcPosition::Parameter(1))
        );
        assert_eq!(
            TpmRc::AUTH_FAIL.at_session(1).position(),
            Some(RcPosition::Session(1))
        );
        assert_eq!(TpmRc::VALUE.at_param(1).base(), TpmRc::VALUE);
        // format-zero codes carry no position
        assert_eq!(TpmRc::INITIALIZE.at_param(1), TpmRc::INITIALIZE);
        // a position is set once, by the innermost layer
        assert_eq!(TpmRc::VALUE.at_param(1).at_param(3).value(), 0x1C4);
        assert!(TpmRc::LOCKOUT.is_warning());
        assert_eq!(TpmRc::reference_session(0).value(), 0x918);
        assert_eq!(TpmRc::COMMAND_CODE.name(), Some("COMMAND_CODE"));
    }
}
