//! NV index types (Part 2, clause 13): TPM_NT, TPMA_NV, TPMS_NV_PUBLIC,
//! TPM2B_NV_PUBLIC and TPM2B_MAX_NV_BUFFER.

use serde::{Deserialize, Serialize};

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmHt;
use crate::types::sized::{Tpm2b, Tpm2bDigest};

/// MAX_NV_BUFFER_SIZE: largest data area moved by one NV command (TPM_PT_NV_BUFFER_MAX).
pub const MAX_NV_BUFFER_SIZE: usize = 1024;

/// TPM2B_MAX_NV_BUFFER — Part 2, Table 85.
pub type Tpm2bMaxNvBuffer = Tpm2b<MAX_NV_BUFFER_SIZE>;

/// TPM_NT — the type of an NV index (bits 7:4 of TPMA_NV), Part 2, Table 204.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmNt {
    /// TPM_NT_ORDINARY: unstructured data written with TPM2_NV_Write.
    Ordinary,
    /// TPM_NT_COUNTER: a monotonic 64-bit counter.
    Counter,
    /// TPM_NT_BITS: a 64-bit bit field.
    Bits,
    /// TPM_NT_EXTEND: a digest changed only by TPM2_NV_Extend.
    Extend,
    /// TPM_NT_PIN_FAIL
    PinFail,
    /// TPM_NT_PIN_PASS
    PinPass,
}

/// TPMA_NV — Part 2, Table 205.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmaNv(pub u32);

impl TpmaNv {
    /// TPMA_NV_PPWRITE
    pub const PPWRITE: u32 = 1 << 0;
    /// TPMA_NV_OWNERWRITE
    pub const OWNERWRITE: u32 = 1 << 1;
    /// TPMA_NV_AUTHWRITE
    pub const AUTHWRITE: u32 = 1 << 2;
    /// TPMA_NV_POLICYWRITE
    pub const POLICYWRITE: u32 = 1 << 3;
    /// TPM_NT field (bits 7:4).
    pub const TPM_NT_MASK: u32 = 0xF0;
    /// TPMA_NV_POLICY_DELETE
    pub const POLICY_DELETE: u32 = 1 << 10;
    /// TPMA_NV_WRITELOCKED
    pub const WRITELOCKED: u32 = 1 << 11;
    /// TPMA_NV_WRITEALL
    pub const WRITEALL: u32 = 1 << 12;
    /// TPMA_NV_WRITEDEFINE
    pub const WRITEDEFINE: u32 = 1 << 13;
    /// TPMA_NV_WRITE_STCLEAR
    pub const WRITE_STCLEAR: u32 = 1 << 14;
    /// TPMA_NV_GLOBALLOCK
    pub const GLOBALLOCK: u32 = 1 << 15;
    /// TPMA_NV_PPREAD
    pub const PPREAD: u32 = 1 << 16;
    /// TPMA_NV_OWNERREAD
    pub const OWNERREAD: u32 = 1 << 17;
    /// TPMA_NV_AUTHREAD
    pub const AUTHREAD: u32 = 1 << 18;
    /// TPMA_NV_POLICYREAD
    pub const POLICYREAD: u32 = 1 << 19;
    /// TPMA_NV_NO_DA
    pub const NO_DA: u32 = 1 << 25;
    /// TPMA_NV_ORDERLY
    pub const ORDERLY: u32 = 1 << 26;
    /// TPMA_NV_CLEAR_STCLEAR
    pub const CLEAR_STCLEAR: u32 = 1 << 27;
    /// TPMA_NV_READLOCKED
    pub const READLOCKED: u32 = 1 << 28;
    /// TPMA_NV_WRITTEN
    pub const WRITTEN: u32 = 1 << 29;
    /// TPMA_NV_PLATFORMCREATE
    pub const PLATFORMCREATE: u32 = 1 << 30;
    /// TPMA_NV_READ_STCLEAR
    pub const READ_STCLEAR: u32 = 1 << 31;
    /// Reserved bits 9:8 and 24:20.
    pub const RESERVED: u32 = 0x0000_0300 | 0x01F0_0000;
    /// The four write-access bits.
    pub const WRITE_ACCESS: u32 =
        Self::PPWRITE | Self::OWNERWRITE | Self::AUTHWRITE | Self::POLICYWRITE;
    /// The four read-access bits.
    pub const READ_ACCESS: u32 = Self::PPREAD | Self::OWNERREAD | Self::AUTHREAD | Self::POLICYREAD;

    /// True when every bit of `bits` is SET.
    pub const fn has(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// True when any bit of `bits` is SET.
    pub const fn any(self, bits: u32) -> bool {
        self.0 & bits != 0
    }

    /// These attributes with `bits` SET.
    pub const fn with(self, bits: u32) -> TpmaNv {
        TpmaNv(self.0 | bits)
    }

    /// These attributes with `bits` CLEAR.
    pub const fn without(self, bits: u32) -> TpmaNv {
        TpmaNv(self.0 & !bits)
    }

    /// The index type; None for a TPM_NT value this TPM does not know.
    pub fn nt(self) -> Option<TpmNt> {
        match (self.0 & Self::TPM_NT_MASK) >> 4 {
            0 => Some(TpmNt::Ordinary),
            1 => Some(TpmNt::Counter),
            2 => Some(TpmNt::Bits),
            4 => Some(TpmNt::Extend),
            8 => Some(TpmNt::PinFail),
            9 => Some(TpmNt::PinPass),
            _ => None,
        }
    }
}

impl Marshal for TpmaNv {
    fn marshal(&self, w: &mut Writer) {
        w.u32(self.0)
    }
}

/// Reserved bits SET are `TPM_RC_RESERVED_BITS`.
impl Unmarshal for TpmaNv {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let v = r.u32()?;
        if v & Self::RESERVED != 0 {
            return Err(TpmRc::RESERVED_BITS);
        }
        Ok(TpmaNv(v))
    }
}

/// TPMS_NV_PUBLIC — Part 2, Table 206.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmsNvPublic {
    /// nvIndex (TPMI_RH_NV_INDEX)
    pub nv_index: u32,
    /// nameAlg
    pub name_alg: HashAlg,
    /// attributes
    pub attributes: TpmaNv,
    /// authPolicy
    pub auth_policy: Tpm2bDigest,
    /// dataSize
    pub data_size: u16,
}

impl TpmsNvPublic {
    /// The marshaled structure.
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut w = Writer::new();
        self.marshal(&mut w);
        w.into_vec()
    }

    /// The Name of the index (Part 1, 16): nameAlg || H_nameAlg(TPMS_NV_PUBLIC).
    pub fn name(&self) -> alloc::vec::Vec<u8> {
        let mut w = Writer::new();
        self.name_alg.marshal(&mut w);
        w.bytes(&self.name_alg.digest(&self.to_bytes()));
        w.into_vec()
    }
}

impl Marshal for TpmsNvPublic {
    fn marshal(&self, w: &mut Writer) {
        w.u32(self.nv_index);
        self.name_alg.marshal(w);
        self.attributes.marshal(w);
        self.auth_policy.marshal(w);
        w.u16(self.data_size);
    }
}

/// `TPM_RC_VALUE`: nvIndex is not an NV index handle; `TPM_RC_HASH`: nameAlg is not
/// an implemented hash; `TPM_RC_RESERVED_BITS`: reserved attribute bits SET.
impl Unmarshal for TpmsNvPublic {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let nv_index = r.u32()?;
        if TpmHt::of(nv_index) != TpmHt::NV_INDEX {
            return Err(TpmRc::VALUE);
        }
        let name_alg = HashAlg::unmarshal(r)?;
        let attributes = TpmaNv::unmarshal(r)?;
        let auth_policy = Tpm2bDigest::unmarshal(r)?;
        let data_size = r.u16()?;
        Ok(TpmsNvPublic {
            nv_index,
            name_alg,
            attributes,
            auth_policy,
            data_size,
        })
    }
}

/// TPM2B_NV_PUBLIC — Part 2, Table 207.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tpm2bNvPublic(pub TpmsNvPublic);

impl Marshal for Tpm2bNvPublic {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0.to_bytes());
    }
}

/// `TPM_RC_SIZE`: size zero, or not exactly the size of the structure inside.
impl Unmarshal for Tpm2bNvPublic {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let n = usize::from(r.u16()?);
        if n == 0 {
            return Err(TpmRc::SIZE);
        }
        let mut sub = r.sub(n)?;
        let public = TpmsNvPublic::unmarshal(&mut sub)?;
        if !sub.is_empty() {
            return Err(TpmRc::SIZE);
        }
        Ok(Tpm2bNvPublic(public))
    }
}
