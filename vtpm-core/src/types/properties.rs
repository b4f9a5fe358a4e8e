//! What the TPM reports about itself: TPM_PT (Part 2, 6.13) and TPM_PT_PCR (6.14)
//! property tags, the TPMA_* attribute words GetCapability returns (Part 2,
//! clause 8: TPMA_ALGORITHM 8.2, TPMA_PERMANENT 8.6, TPMA_STARTUP_CLEAR 8.7,
//! TPMA_MEMORY 8.8, TPMA_CC 8.9, TPMA_MODES 8.10), the capability list limits
//! (MAX_CAP_*), and the specification this engine implements.
//!
//! Values are those of Library 1.59 and agree with the reference implementation's
//! TpmTypes.h.

use crate::types::constants::TpmCc;

/// TPM_SPEC_FAMILY: "2.0" as a 4-octet string.
pub const TPM_SPEC_FAMILY: u32 = 0x322E_3000;
/// TPM_SPEC_LEVEL.
pub const TPM_SPEC_LEVEL: u32 = 0;
/// TPM_SPEC_VERSION: Revision 01.59, times 100.
pub const TPM_SPEC_VERSION: u32 = 159;
/// TPM_SPEC_YEAR of Revision 01.59 (published November 8, 2019).
pub const TPM_SPEC_YEAR: u32 = 2019;
/// TPM_SPEC_DAY_OF_YEAR of Revision 01.59: November 8 is day 312 of 2019.
pub const TPM_SPEC_DAY_OF_YEAR: u32 = 312;

/// TPM_PS_PC — Part 2, Table 25: the PC Client platform-specific family.
pub const TPM_PS_PC: u32 = 0x0000_0001;
/// Platform specification level (PC Client Platform TPM Profile, Level 0).
pub const PLATFORM_LEVEL: u32 = 0;
/// Platform specification revision times 100: PC Client PTP Version 1.05.
pub const PLATFORM_REVISION: u32 = 105;
/// Year of PC Client PTP 1.05 Revision 14 (published September 4, 2020).
pub const PLATFORM_YEAR: u32 = 2020;
/// Day of year of PC Client PTP 1.05 Revision 14: September 4, 2020 is day 248.
pub const PLATFORM_DAY_OF_YEAR: u32 = 248;

/// MAX_CAP_BUFFER: the largest TPMS_CAPABILITY_DATA a GetCapability response carries.
pub const MAX_CAP_BUFFER: usize = 1024;
/// MAX_CAP_DATA: MAX_CAP_BUFFER less the capability selector and the list count.
pub const MAX_CAP_DATA: usize = MAX_CAP_BUFFER - 4 - 4;
/// MAX_CAP_ALGS: MAX_CAP_DATA / sizeof(TPMS_ALG_PROPERTY) (8 in the C layout).
pub const MAX_CAP_ALGS: usize = MAX_CAP_DATA / 8;
/// MAX_CAP_HANDLES: MAX_CAP_DATA / sizeof(TPM_HANDLE).
pub const MAX_CAP_HANDLES: usize = MAX_CAP_DATA / 4;
/// MAX_CAP_CC: MAX_CAP_DATA / sizeof(TPM_CC).
pub const MAX_CAP_CC: usize = MAX_CAP_DATA / 4;
/// MAX_TPM_PROPERTIES: MAX_CAP_DATA / sizeof(TPMS_TAGGED_PROPERTY).
pub const MAX_TPM_PROPERTIES: usize = MAX_CAP_DATA / 8;
/// MAX_PCR_PROPERTIES: MAX_CAP_DATA / sizeof(TPMS_TAGGED_PCR_SELECT) (4 + 1 + 3).
pub const MAX_PCR_PROPERTIES: usize = MAX_CAP_DATA / 8;
/// MAX_ECC_CURVES: MAX_CAP_DATA / sizeof(TPM_ECC_CURVE).
pub const MAX_ECC_CURVES: usize = MAX_CAP_DATA / 2;
/// MAX_TAGGED_POLICIES: MAX_CAP_DATA / sizeof(TPMS_TAGGED_POLICY) (72 in the C
/// layout: a handle and a TPMT_HA padded to 4 octets).
pub const MAX_TAGGED_POLICIES: usize = MAX_CAP_DATA / 72;
/// MAX_ACT_DATA: MAX_CAP_DATA / sizeof(TPMS_ACT_DATA).
pub const MAX_ACT_DATA: usize = MAX_CAP_DATA / 12;
/// MAX_ALG_LIST_SIZE: the most entries a TPML_ALG carries.
pub const MAX_ALG_LIST_SIZE: usize = 64;

/// TPM_PT — a TPM property tag (Part 2, Table 23).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TpmPt(pub u32);

/// PT_GROUP: the distance between property groups.
pub const PT_GROUP: u32 = 0x100;
/// PT_FIXED: the first fixed property.
pub const PT_FIXED: u32 = PT_GROUP;
/// PT_VAR: the first variable property.
pub const PT_VAR: u32 = PT_GROUP * 2;

macro_rules! pt {
    ($($(#[$m:meta])* $name:ident = $base:ident + $off:expr;)*) => {
        impl TpmPt {
            $($(#[$m])* pub const $name: TpmPt = TpmPt($base + $off);)*
        }
    };
}

pt! {
    /// TPM_PT_FAMILY_INDICATOR
    FAMILY_INDICATOR = PT_FIXED + 0;
    /// TPM_PT_LEVEL
    LEVEL = PT_FIXED + 1;
    /// TPM_PT_REVISION
    REVISION = PT_FIXED + 2;
    /// TPM_PT_DAY_OF_YEAR
    DAY_OF_YEAR = PT_FIXED + 3;
    /// TPM_PT_YEAR
    YEAR = PT_FIXED + 4;
    /// TPM_PT_MANUFACTURER
    MANUFACTURER = PT_FIXED + 5;
    /// TPM_PT_VENDOR_STRING_1
    VENDOR_STRING_1 = PT_FIXED + 6;
    /// TPM_PT_VENDOR_STRING_2
    VENDOR_STRING_2 = PT_FIXED + 7;
    /// TPM_PT_VENDOR_STRING_3
    VENDOR_STRING_3 = PT_FIXED + 8;
    /// TPM_PT_VENDOR_STRING_4
    VENDOR_STRING_4 = PT_FIXED + 9;
    /// TPM_PT_VENDOR_TPM_TYPE
    VENDOR_TPM_TYPE = PT_FIXED + 10;
    /// TPM_PT_FIRMWARE_VERSION_1
    FIRMWARE_VERSION_1 = PT_FIXED + 11;
    /// TPM_PT_FIRMWARE_VERSION_2
    FIRMWARE_VERSION_2 = PT_FIXED + 12;
    /// TPM_PT_INPUT_BUFFER
    INPUT_BUFFER = PT_FIXED + 13;
    /// TPM_PT_HR_TRANSIENT_MIN
    HR_TRANSIENT_MIN = PT_FIXED + 14;
    /// TPM_PT_HR_PERSISTENT_MIN
    HR_PERSISTENT_MIN = PT_FIXED + 15;
    /// TPM_PT_HR_LOADED_MIN
    HR_LOADED_MIN = PT_FIXED + 16;
    /// TPM_PT_ACTIVE_SESSIONS_MAX
    ACTIVE_SESSIONS_MAX = PT_FIXED + 17;
    /// TPM_PT_PCR_COUNT
    PCR_COUNT = PT_FIXED + 18;
    /// TPM_PT_PCR_SELECT_MIN
    PCR_SELECT_MIN = PT_FIXED + 19;
    /// TPM_PT_CONTEXT_GAP_MAX
    CONTEXT_GAP_MAX = PT_FIXED + 20;
    /// TPM_PT_NV_COUNTERS_MAX (PT_FIXED + 21 is reserved)
    NV_COUNTERS_MAX = PT_FIXED + 22;
    /// TPM_PT_NV_INDEX_MAX
    NV_INDEX_MAX = PT_FIXED + 23;
    /// TPM_PT_MEMORY
    MEMORY = PT_FIXED + 24;
    /// TPM_PT_CLOCK_UPDATE
    CLOCK_UPDATE = PT_FIXED + 25;
    /// TPM_PT_CONTEXT_HASH
    CONTEXT_HASH = PT_FIXED + 26;
    /// TPM_PT_CONTEXT_SYM
    CONTEXT_SYM = PT_FIXED + 27;
    /// TPM_PT_CONTEXT_SYM_SIZE
    CONTEXT_SYM_SIZE = PT_FIXED + 28;
    /// TPM_PT_ORDERLY_COUNT
    ORDERLY_COUNT = PT_FIXED + 29;
    /// TPM_PT_MAX_COMMAND_SIZE
    MAX_COMMAND_SIZE = PT_FIXED + 30;
    /// TPM_PT_MAX_RESPONSE_SIZE
    MAX_RESPONSE_SIZE = PT_FIXED + 31;
    /// TPM_PT_MAX_DIGEST
    MAX_DIGEST = PT_FIXED + 32;
    /// TPM_PT_MAX_OBJECT_CONTEXT
    MAX_OBJECT_CONTEXT = PT_FIXED + 33;
    /// TPM_PT_MAX_SESSION_CONTEXT
    MAX_SESSION_CONTEXT = PT_FIXED + 34;
    /// TPM_PT_PS_FAMILY_INDICATOR
    PS_FAMILY_INDICATOR = PT_FIXED + 35;
    /// TPM_PT_PS_LEVEL
    PS_LEVEL = PT_FIXED + 36;
    /// TPM_PT_PS_REVISION
    PS_REVISION = PT_FIXED + 37;
    /// TPM_PT_PS_DAY_OF_YEAR
    PS_DAY_OF_YEAR = PT_FIXED + 38;
    /// TPM_PT_PS_YEAR
    PS_YEAR = PT_FIXED + 39;
    /// TPM_PT_SPLIT_MAX
    SPLIT_MAX = PT_FIXED + 40;
    /// TPM_PT_TOTAL_COMMANDS
    TOTAL_COMMANDS = PT_FIXED + 41;
    /// TPM_PT_LIBRARY_COMMANDS
    LIBRARY_COMMANDS = PT_FIXED + 42;
    /// TPM_PT_VENDOR_COMMANDS
    VENDOR_COMMANDS = PT_FIXED + 43;
    /// TPM_PT_NV_BUFFER_MAX
    NV_BUFFER_MAX = PT_FIXED + 44;
    /// TPM_PT_MODES
    MODES = PT_FIXED + 45;
    /// TPM_PT_MAX_CAP_BUFFER
    MAX_CAP_BUFFER = PT_FIXED + 46;
    /// TPM_PT_PERMANENT
    PERMANENT = PT_VAR + 0;
    /// TPM_PT_STARTUP_CLEAR
    STARTUP_CLEAR = PT_VAR + 1;
    /// TPM_PT_HR_NV_INDEX
    HR_NV_INDEX = PT_VAR + 2;
    /// TPM_PT_HR_LOADED
    HR_LOADED = PT_VAR + 3;
    /// TPM_PT_HR_LOADED_AVAIL
    HR_LOADED_AVAIL = PT_VAR + 4;
    /// TPM_PT_HR_ACTIVE
    HR_ACTIVE = PT_VAR + 5;
    /// TPM_PT_HR_ACTIVE_AVAIL
    HR_ACTIVE_AVAIL = PT_VAR + 6;
    /// TPM_PT_HR_TRANSIENT_AVAIL
    HR_TRANSIENT_AVAIL = PT_VAR + 7;
    /// TPM_PT_HR_PERSISTENT
    HR_PERSISTENT = PT_VAR + 8;
    /// TPM_PT_HR_PERSISTENT_AVAIL
    HR_PERSISTENT_AVAIL = PT_VAR + 9;
    /// TPM_PT_NV_COUNTERS
    NV_COUNTERS = PT_VAR + 10;
    /// TPM_PT_NV_COUNTERS_AVAIL
    NV_COUNTERS_AVAIL = PT_VAR + 11;
    /// TPM_PT_ALGORITHM_SET
    ALGORITHM_SET = PT_VAR + 12;
    /// TPM_PT_LOADED_CURVES
    LOADED_CURVES = PT_VAR + 13;
    /// TPM_PT_LOCKOUT_COUNTER
    LOCKOUT_COUNTER = PT_VAR + 14;
    /// TPM_PT_MAX_AUTH_FAIL
    MAX_AUTH_FAIL = PT_VAR + 15;
    /// TPM_PT_LOCKOUT_INTERVAL
    LOCKOUT_INTERVAL = PT_VAR + 16;
    /// TPM_PT_LOCKOUT_RECOVERY
    LOCKOUT_RECOVERY = PT_VAR + 17;
    /// TPM_PT_NV_WRITE_RECOVERY
    NV_WRITE_RECOVERY = PT_VAR + 18;
    /// TPM_PT_AUDIT_COUNTER_0
    AUDIT_COUNTER_0 = PT_VAR + 19;
    /// TPM_PT_AUDIT_COUNTER_1
    AUDIT_COUNTER_1 = PT_VAR + 20;
}

/// TPM_PT_PCR — a PCR property tag (Part 2, Table 24).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TpmPtPcr(pub u32);

impl TpmPtPcr {
    /// TPM_PT_PCR_SAVE: PCRs saved by Shutdown(STATE).
    pub const SAVE: TpmPtPcr = TpmPtPcr(0x00);
    /// TPM_PT_PCR_EXTEND_L0
    pub const EXTEND_L0: TpmPtPcr = TpmPtPcr(0x01);
    /// TPM_PT_PCR_RESET_L0
    pub const RESET_L0: TpmPtPcr = TpmPtPcr(0x02);
    /// TPM_PT_PCR_EXTEND_L1
    pub const EXTEND_L1: TpmPtPcr = TpmPtPcr(0x03);
    /// TPM_PT_PCR_RESET_L1
    pub const RESET_L1: TpmPtPcr = TpmPtPcr(0x04);
    /// TPM_PT_PCR_EXTEND_L2
    pub const EXTEND_L2: TpmPtPcr = TpmPtPcr(0x05);
    /// TPM_PT_PCR_RESET_L2
    pub const RESET_L2: TpmPtPcr = TpmPtPcr(0x06);
    /// TPM_PT_PCR_EXTEND_L3
    pub const EXTEND_L3: TpmPtPcr = TpmPtPcr(0x07);
    /// TPM_PT_PCR_RESET_L3
    pub const RESET_L3: TpmPtPcr = TpmPtPcr(0x08);
    /// TPM_PT_PCR_EXTEND_L4
    pub const EXTEND_L4: TpmPtPcr = TpmPtPcr(0x09);
    /// TPM_PT_PCR_RESET_L4
    pub const RESET_L4: TpmPtPcr = TpmPtPcr(0x0A);
    /// TPM_PT_PCR_NO_INCREMENT: changes do not bump pcrUpdateCounter.
    pub const NO_INCREMENT: TpmPtPcr = TpmPtPcr(0x11);
    /// TPM_PT_PCR_DRTM_RESET: reset by a D-RTM event.
    pub const DRTM_RESET: TpmPtPcr = TpmPtPcr(0x12);
    /// TPM_PT_PCR_POLICY: PCRs controlled by a policy (PCR_SetAuthPolicy).
    pub const POLICY: TpmPtPcr = TpmPtPcr(0x13);
    /// TPM_PT_PCR_AUTH: PCRs controlled by an authValue (PCR_SetAuthValue).
    pub const AUTH: TpmPtPcr = TpmPtPcr(0x14);

    /// Every defined tag, ascending.
    pub const ALL: [TpmPtPcr; 15] = [
        TpmPtPcr::SAVE,
        TpmPtPcr::EXTEND_L0,
        TpmPtPcr::RESET_L0,
        TpmPtPcr::EXTEND_L1,
        TpmPtPcr::RESET_L1,
        TpmPtPcr::EXTEND_L2,
        TpmPtPcr::RESET_L2,
        TpmPtPcr::EXTEND_L3,
        TpmPtPcr::RESET_L3,
        TpmPtPcr::EXTEND_L4,
        TpmPtPcr::RESET_L4,
        TpmPtPcr::NO_INCREMENT,
        TpmPtPcr::DRTM_RESET,
        TpmPtPcr::POLICY,
        TpmPtPcr::AUTH,
    ];
}

macro_rules! attr_bits {
    ($(#[$m:meta])* $name:ident { $($(#[$bm:meta])* $bit:ident = $shift:expr,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
        pub struct $name(pub u32);
        impl $name {
            $($(#[$bm])* pub const $bit: $name = $name(1 << $shift);)*

            /// No bit set.
            pub const EMPTY: $name = $name(0);

            /// The union of `self` and `other`.
            pub const fn with(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// `self` with `other` added when `on`.
            pub const fn with_if(self, other: $name, on: bool) -> $name {
                if on { self.with(other) } else { self }
            }

            /// True if every bit of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
        }
    };
}

attr_bits! {
    /// TPMA_ALGORITHM — Part 2, Table 30.
    TpmaAlgorithm {
        /// An asymmetric algorithm with public and private portions.
        ASYMMETRIC = 0,
        /// A symmetric block cipher.
        SYMMETRIC = 1,
        /// A hash algorithm.
        HASH = 2,
        /// May be used as an object type.
        OBJECT = 3,
        /// A signing algorithm.
        SIGNING = 8,
        /// An encryption/decryption algorithm.
        ENCRYPTING = 9,
        /// A method such as a key derivative function.
        METHOD = 10,
    }
}

attr_bits! {
    /// TPMA_PERMANENT — Part 2, Table 34 (TPM_PT_PERMANENT).
    TpmaPermanent {
        /// ownerAuth has been changed from the empty value.
        OWNER_AUTH_SET = 0,
        /// endorsementAuth has been changed from the empty value.
        ENDORSEMENT_AUTH_SET = 1,
        /// lockoutAuth has been changed from the empty value.
        LOCKOUT_AUTH_SET = 2,
        /// TPM2_Clear is disabled.
        DISABLE_CLEAR = 8,
        /// The TPM is in dictionary-attack lockout.
        IN_LOCKOUT = 9,
        /// The EPS was generated by the TPM.
        TPM_GENERATED_EPS = 10,
    }
}

attr_bits! {
    /// TPMA_STARTUP_CLEAR — Part 2, Table 35 (TPM_PT_STARTUP_CLEAR).
    TpmaStartupClear {
        /// The platform hierarchy is enabled.
        PH_ENABLE = 0,
        /// The storage hierarchy is enabled.
        SH_ENABLE = 1,
        /// The endorsement hierarchy is enabled.
        EH_ENABLE = 2,
        /// Platform NV indices are enabled.
        PH_ENABLE_NV = 3,
        /// The last Startup was preceded by a Shutdown.
        ORDERLY = 31,
    }
}

attr_bits! {
    /// TPMA_MEMORY — Part 2, Table 36 (TPM_PT_MEMORY).
    TpmaMemory {
        /// Session and object contexts share RAM.
        SHARED_RAM = 0,
        /// NV indices and persistent objects share NV space.
        SHARED_NV = 1,
        /// A persistent object in use takes a transient slot.
        OBJECT_COPIED_TO_RAM = 2,
    }
}

attr_bits! {
    /// TPMA_MODES — Part 2, Table 38 (TPM_PT_MODES).
    TpmaModes {
        /// The TPM is designed to FIPS 140-2 requirements.
        FIPS_140_2 = 0,
    }
}

/// TPMA_CC — Part 2, Table 37: a command's attributes as GetCapability reports them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmaCc(pub u32);

impl TpmaCc {
    /// Bit of `nv`: the command may write NV.
    pub const NV: u32 = 1 << 22;
    /// Bit of `extensive`: the command may flush many objects or change much state.
    pub const EXTENSIVE: u32 = 1 << 23;
    /// Bit of `flushed`: the command flushes a context named in its handles.
    pub const FLUSHED: u32 = 1 << 24;
    /// Position of the 3-bit `cHandles` field.
    pub const C_HANDLES_SHIFT: u32 = 25;
    /// Bit of `rHandle`: the response carries a handle.
    pub const R_HANDLE: u32 = 1 << 28;
    /// Bit of `V`: a vendor command.
    pub const V: u32 = 1 << 29;

    /// The attributes of command `cc`: `c_handles` is cut to the field's three bits.
    pub const fn new(
        cc: TpmCc,
        nv: bool,
        extensive: bool,
        flushed: bool,
        c_handles: u8,
        r_handle: bool,
    ) -> TpmaCc {
        let mut v = cc.0 & 0xFFFF;
        if nv {
            v |= TpmaCc::NV;
        }
        if extensive {
            v |= TpmaCc::EXTENSIVE;
        }
        if flushed {
            v |= TpmaCc::FLUSHED;
        }
        v |= ((c_handles & 0x7) as u32) << TpmaCc::C_HANDLES_SHIFT;
        if r_handle {
            v |= TpmaCc::R_HANDLE;
        }
        TpmaCc(v)
    }

    /// commandIndex: the low 16 bits of the command code.
    pub const fn command_index(self) -> u16 {
        let [_, _, hi, lo] = self.0.to_be_bytes();
        u16::from_be_bytes([hi, lo])
    }

    /// cHandles: the number of handles in the command's handle area.
    pub const fn c_handles(self) -> u8 {
        let [_, _, _, n] = ((self.0 >> TpmaCc::C_HANDLES_SHIFT) & 0x7).to_be_bytes();
        n
    }
}

/// Commands with TPMA_CC.extensive SET (Part 3 command tables; the same set the
/// reference implementation's generated attribute table marks).
pub const EXTENSIVE_COMMANDS: &[TpmCc] = &[
    TpmCc::HIERARCHY_CONTROL,
    TpmCc::CHANGE_EPS,
    TpmCc::CHANGE_PPS,
    TpmCc::CLEAR,
];

/// Commands with TPMA_CC.flushed SET: they flush the sequence object they complete.
pub const FLUSHED_COMMANDS: &[TpmCc] = &[TpmCc::SEQUENCE_COMPLETE, TpmCc::EVENT_SEQUENCE_COMPLETE];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_tags_match_part2() {
        assert_eq!(TpmPt::FAMILY_INDICATOR.0, 0x100);
        assert_eq!(TpmPt::MANUFACTURER.0, 0x105);
        assert_eq!(TpmPt::FIRMWARE_VERSION_2.0, 0x10C);
        assert_eq!(TpmPt::NV_COUNTERS_MAX.0, 0x116);
        assert_eq!(TpmPt::CLOCK_UPDATE.0, 0x119);
        assert_eq!(TpmPt::MAX_DIGEST.0, 0x120);
        assert_eq!(TpmPt::TOTAL_COMMANDS.0, 0x129);
        assert_eq!(TpmPt::MAX_CAP_BUFFER.0, 0x12E);
        assert_eq!(TpmPt::PERMANENT.0, 0x200);
        assert_eq!(TpmPt::LOCKOUT_COUNTER.0, 0x20E);
        assert_eq!(TpmPt::AUDIT_COUNTER_1.0, 0x214);
        assert_eq!(TpmPtPcr::NO_INCREMENT.0, 0x11);
        assert!(TpmPtPcr::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn attribute_bits_match_part2() {
        assert_eq!(TpmaAlgorithm::OBJECT.0, 0x8);
        assert_eq!(TpmaAlgorithm::METHOD.0, 0x400);
        assert_eq!(TpmaPermanent::IN_LOCKOUT.0, 0x200);
        assert_eq!(TpmaStartupClear::ORDERLY.0, 0x8000_0000);
        assert_eq!(
            TpmaMemory::SHARED_NV
                .with(TpmaMemory::OBJECT_COPIED_TO_RAM)
                .0,
            0x6
        );
        assert!(TpmaAlgorithm::HASH
            .with(TpmaAlgorithm::SIGNING)
            .contains(TpmaAlgorithm::SIGNING));
        assert_eq!(
            TpmaPermanent::EMPTY
                .with_if(TpmaPermanent::DISABLE_CLEAR, false)
                .0,
            0
        );
        // HierarchyControl as a real TPM reports it: nv, extensive, one handle.
        let a = TpmaCc::new(TpmCc::HIERARCHY_CONTROL, true, true, false, 1, false);
        assert_eq!(a.0, 0x02C0_0121);
        assert_eq!(a.command_index(), 0x121);
        assert_eq!(a.c_handles(), 1);
        // CreatePrimary: one handle and a response handle.
        let a = TpmaCc::new(TpmCc::CREATE_PRIMARY, false, false, false, 1, true);
        assert_eq!(a.0, 0x1200_0131);
        // cHandles is a 3-bit field
        assert_eq!(
            TpmaCc::new(TpmCc(0x17A), false, false, false, 9, false).c_handles(),
            1
        );
    }

    #[test]
    fn capability_limits() {
        assert_eq!(MAX_CAP_DATA, 1016);
        assert_eq!(MAX_CAP_HANDLES, 254);
        assert_eq!(MAX_CAP_ALGS, 127);
        assert_eq!(MAX_TPM_PROPERTIES, 127);
        assert_eq!(MAX_TAGGED_POLICIES, 14);
    }
}
