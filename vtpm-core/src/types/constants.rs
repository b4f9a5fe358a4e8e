//! Part 2 constants: TPM_ALG_ID (6.3), TPM_ST (6.9), TPM_SU (6.10), TPM_CC (6.5.2),
//! TPM_CAP (6.12), TPM_HT (7.2), TPM_RH (7.4), TPM_GENERATED (6.2).
//!
//! Each is a transparent newtype over its wire integer with the spec values as
//! associated constants, so `TpmAlgId::SHA256` greps back to `TPM_ALG_SHA256`.

use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::TpmResult;

macro_rules! consts {
    ($(#[$m:meta])* $name:ident($t:ty) { $($(#[$cm:meta])* $c:ident = $v:expr,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        pub struct $name(pub $t);
        impl $name {
            $($(#[$cm])* #[doc = concat!("`", stringify!($c), "` = ", stringify!($v))] pub const $c: $name = $name($v);)*
            /// Every value named in the spec table (in table order).
            pub const ALL: &'static [$name] = &[$($name::$c,)*];
        }
        impl Marshal for $name {
            fn marshal(&self, w: &mut Writer) { self.0.marshal(w) }
        }
        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> { Ok($name(<$t>::unmarshal(r)?)) }
        }
    };
}

consts! {
    /// TPM_ALG_ID — Part 2, Table 9 (the TCG Algorithm Registry values).
    TpmAlgId(u16) {
        RSA = 0x0001, TDES = 0x0003, SHA1 = 0x0004, HMAC = 0x0005, AES = 0x0006,
        MGF1 = 0x0007, KEYEDHASH = 0x0008, XOR = 0x000A, SHA256 = 0x000B,
        SHA384 = 0x000C, SHA512 = 0x000D, NULL = 0x0010, SM3_256 = 0x0012,
        SM4 = 0x0013, RSASSA = 0x0014, RSAES = 0x0015, RSAPSS = 0x0016,
        OAEP = 0x0017, ECDSA = 0x0018, ECDH = 0x0019, ECDAA = 0x001A, SM2 = 0x001B,
        ECSCHNORR = 0x001C, ECMQV = 0x001D, KDF1_SP800_56A = 0x0020, KDF2 = 0x0021,
        KDF1_SP800_108 = 0x0022, ECC = 0x0023, SYMCIPHER = 0x0025, CAMELLIA = 0x0026,
        SHA3_256 = 0x0027, SHA3_384 = 0x0028, SHA3_512 = 0x0029, CMAC = 0x003F,
        CTR = 0x0040, OFB = 0x0041, CBC = 0x0042, CFB = 0x0043, ECB = 0x0044,
    }
}

consts! {
    /// TPM_ST — structure tags, Part 2, Table 19.
    TpmSt(u16) {
        RSP_COMMAND = 0x00C4, NULL = 0x8000, NO_SESSIONS = 0x8001, SESSIONS = 0x8002,
        ATTEST_NV = 0x8014, ATTEST_COMMAND_AUDIT = 0x8015, ATTEST_SESSION_AUDIT = 0x8016,
        ATTEST_CERTIFY = 0x8017, ATTEST_QUOTE = 0x8018, ATTEST_TIME = 0x8019,
        ATTEST_CREATION = 0x801A, ATTEST_NV_DIGEST = 0x801C, CREATION = 0x8021,
        VERIFIED = 0x8022, AUTH_SECRET = 0x8023, HASHCHECK = 0x8024,
        AUTH_SIGNED = 0x8025, FU_MANIFEST = 0x8029,
    }
}

consts! {
    /// TPM_SU — startup type, Part 2, Table 20.
    TpmSu(u16) { CLEAR = 0x0000, STATE = 0x0001, }
}

consts! {
    /// TPM_CAP — capability selector, Part 2, Table 22.
    TpmCap(u32) {
        ALGS = 0x0000_0000, HANDLES = 0x0000_0001, COMMANDS = 0x0000_0002,
        PP_COMMANDS = 0x0000_0003, AUDIT_COMMANDS = 0x0000_0004, PCRS = 0x0000_0005,
        TPM_PROPERTIES = 0x0000_0006, PCR_PROPERTIES = 0x0000_0007,
        ECC_CURVES = 0x0000_0008, AUTH_POLICIES = 0x0000_0009, ACT = 0x0000_000A,
        VENDOR_PROPERTY = 0x0000_0100,
    }
}

consts! {
    /// TPM_CC — command codes, Part 2, Table 12.
    TpmCc(u32) {
        NV_UNDEFINE_SPACE_SPECIAL = 0x11F, EVICT_CONTROL = 0x120, HIERARCHY_CONTROL = 0x121,
        NV_UNDEFINE_SPACE = 0x122, CHANGE_EPS = 0x124, CHANGE_PPS = 0x125, CLEAR = 0x126,
        CLEAR_CONTROL = 0x127, CLOCK_SET = 0x128, HIERARCHY_CHANGE_AUTH = 0x129,
        NV_DEFINE_SPACE = 0x12A, PCR_ALLOCATE = 0x12B, PCR_SET_AUTH_POLICY = 0x12C,
        PP_COMMANDS = 0x12D, SET_PRIMARY_POLICY = 0x12E, FIELD_UPGRADE_START = 0x12F,
        CLOCK_RATE_ADJUST = 0x130, CREATE_PRIMARY = 0x131, NV_GLOBAL_WRITE_LOCK = 0x132,
        GET_COMMAND_AUDIT_DIGEST = 0x133, NV_INCREMENT = 0x134, NV_SET_BITS = 0x135,
        NV_EXTEND = 0x136, NV_WRITE = 0x137, NV_WRITE_LOCK = 0x138,
        DICTIONARY_ATTACK_LOCK_RESET = 0x139, DICTIONARY_ATTACK_PARAMETERS = 0x13A,
        NV_CHANGE_AUTH = 0x13B, PCR_EVENT = 0x13C, PCR_RESET = 0x13D,
        SEQUENCE_COMPLETE = 0x13E, SET_ALGORITHM_SET = 0x13F,
        SET_COMMAND_CODE_AUDIT_STATUS = 0x140, FIELD_UPGRADE_DATA = 0x141,
        INCREMENTAL_SELF_TEST = 0x142, SELF_TEST = 0x143, STARTUP = 0x144, SHUTDOWN = 0x145,
        STIR_RANDOM = 0x146, ACTIVATE_CREDENTIAL = 0x147, CERTIFY = 0x148, POLICY_NV = 0x149,
        CERTIFY_CREATION = 0x14A, DUPLICATE = 0x14B, GET_TIME = 0x14C,
        GET_SESSION_AUDIT_DIGEST = 0x14D, NV_READ = 0x14E, NV_READ_LOCK = 0x14F,
        OBJECT_CHANGE_AUTH = 0x150, POLICY_SECRET = 0x151, REWRAP = 0x152, CREATE = 0x153,
        ECDH_ZGEN = 0x154, HMAC = 0x155, IMPORT = 0x156, LOAD = 0x157, QUOTE = 0x158,
        RSA_DECRYPT = 0x159, HMAC_START = 0x15B, SEQUENCE_UPDATE = 0x15C, SIGN = 0x15D,
        UNSEAL = 0x15E, POLICY_SIGNED = 0x160, CONTEXT_LOAD = 0x161, CONTEXT_SAVE = 0x162,
        ECDH_KEYGEN = 0x163, ENCRYPT_DECRYPT = 0x164, FLUSH_CONTEXT = 0x165,
        LOAD_EXTERNAL = 0x167, MAKE_CREDENTIAL = 0x168, NV_READ_PUBLIC = 0x169,
        POLICY_AUTHORIZE = 0x16A, POLICY_AUTH_VALUE = 0x16B, POLICY_COMMAND_CODE = 0x16C,
        POLICY_COUNTER_TIMER = 0x16D, POLICY_CP_HASH = 0x16E, POLICY_LOCALITY = 0x16F,
        POLICY_NAME_HASH = 0x170, POLICY_OR = 0x171, POLICY_TICKET = 0x172,
        READ_PUBLIC = 0x173, RSA_ENCRYPT = 0x174, START_AUTH_SESSION = 0x176,
        VERIFY_SIGNATURE = 0x177, ECC_PARAMETERS = 0x178, FIRMWARE_READ = 0x179,
        GET_CAPABILITY = 0x17A, GET_RANDOM = 0x17B, GET_TEST_RESULT = 0x17C, HASH = 0x17D,
        PCR_READ = 0x17E, POLICY_PCR = 0x17F, POLICY_RESTART = 0x180, READ_CLOCK = 0x181,
        PCR_EXTEND = 0x182, PCR_SET_AUTH_VALUE = 0x183, NV_CERTIFY = 0x184,
        EVENT_SEQUENCE_COMPLETE = 0x185, HASH_SEQUENCE_START = 0x186,
        POLICY_PHYSICAL_PRESENCE = 0x187, POLICY_DUPLICATION_SELECT = 0x188,
        POLICY_GET_DIGEST = 0x189, TEST_PARMS = 0x18A, COMMIT = 0x18B,
        POLICY_PASSWORD = 0x18C, ZGEN_2PHASE = 0x18D, EC_EPHEMERAL = 0x18E,
        POLICY_NV_WRITTEN = 0x18F, POLICY_TEMPLATE = 0x190, CREATE_LOADED = 0x191,
        POLICY_AUTHORIZE_NV = 0x192, ENCRYPT_DECRYPT2 = 0x193,
    }
}

consts! {
    /// TPM_HT — handle types (the top byte of a handle), Part 2, Table 28.
    TpmHt(u8) {
        PCR = 0x00, NV_INDEX = 0x01, HMAC_SESSION = 0x02, POLICY_SESSION = 0x03,
        PERMANENT = 0x40, TRANSIENT = 0x80, PERSISTENT = 0x81, AC = 0x90,
    }
}

consts! {
    /// TPM_RH — permanent handles, Part 2, Table 30.
    TpmRh(u32) {
        OWNER = 0x4000_0001, NULL = 0x4000_0007, PW = 0x4000_0009,
        LOCKOUT = 0x4000_000A, ENDORSEMENT = 0x4000_000B, PLATFORM = 0x4000_000C,
        PLATFORM_NV = 0x4000_000D,
    }
}

impl TpmHt {
    /// The type of `handle`.
    pub fn of(handle: u32) -> TpmHt {
        TpmHt(handle.to_be_bytes()[0])
    }
}

/// TPM_GENERATED_VALUE — Part 2, 6.2: the marker at the start of TPM-generated structures.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;

/// TPM_RS_PW — the password authorization session handle.
pub const TPM_RS_PW: u32 = 0x4000_0009;

/// First transient object handle this TPM hands out.
pub const TRANSIENT_FIRST: u32 = 0x8000_0000;

/// Number of PCRs (PC Client platform).
pub const IMPLEMENTATION_PCR: u8 = 24;

/// Octets of a PCR selection bitmap that cover every PCR.
pub const PCR_SELECT_MAX: u8 = 3;

/// Minimum sizeofSelect a TPMS_PCR_SELECTION may carry (PC Client).
pub const PCR_SELECT_MIN: u8 = 3;
