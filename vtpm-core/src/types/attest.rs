//! Attestation structures (Part 2, 10.12): TPMS_ATTEST and the TPMU_ATTEST
//! alternatives that TPM2_Quote, TPM2_Certify, TPM2_CertifyCreation,
//! TPM2_GetTime, TPM2_GetSessionAuditDigest, TPM2_GetCommandAuditDigest and
//! TPM2_NV_Certify sign.

use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmSt;
use crate::types::sensitive::Tpm2bName;
use crate::types::sized::{Tpm2b, Tpm2bData, Tpm2bDigest};
use crate::types::structures::{TpmlPcrSelection, TpmsClockInfo, TpmsTimeInfo};

/// TPM_GENERATED_VALUE — Part 2, 6.2: every structure the TPM signs begins with it.
pub const TPM_GENERATED_VALUE: u32 = 0xFF54_4347;

/// TPM2B_MAX_NV_BUFFER as TPMS_NV_CERTIFY_INFO carries it (MAX_NV_BUFFER_SIZE).
pub type Tpm2bMaxNvBuffer = Tpm2b<1024>;

/// TPMU_ATTEST — Part 2, 10.12.11, selected by TPMI_ST_ATTEST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TpmuAttest {
    /// TPM_ST_ATTEST_CERTIFY: TPMS_CERTIFY_INFO (name, qualifiedName).
    Certify {
        /// Name of the certified object.
        name: Tpm2bName,
        /// Its Qualified Name.
        qualified_name: Tpm2bName,
    },
    /// TPM_ST_ATTEST_CREATION: TPMS_CREATION_INFO.
    Creation {
        /// Name of the object.
        object_name: Tpm2bName,
        /// creationHash.
        creation_hash: Tpm2bDigest,
    },
    /// TPM_ST_ATTEST_QUOTE: TPMS_QUOTE_INFO.
    Quote {
        /// The PCRs quoted.
        pcr_select: TpmlPcrSelection,
        /// Digest of their values, with the signing scheme's hash.
        pcr_digest: Tpm2bDigest,
    },
    /// TPM_ST_ATTEST_COMMAND_AUDIT: TPMS_COMMAND_AUDIT_INFO.
    CommandAudit {
        /// The audit counter.
        audit_counter: u64,
        /// The audit hash (TPM_ALG_ID).
        digest_alg: u16,
        /// The command audit digest.
        audit_digest: Tpm2bDigest,
        /// Digest of the audited command codes.
        command_digest: Tpm2bDigest,
    },
    /// TPM_ST_ATTEST_SESSION_AUDIT: TPMS_SESSION_AUDIT_INFO.
    SessionAudit {
        /// The session has been the exclusive audit session throughout.
        exclusive_session: bool,
        /// The session audit digest.
        session_digest: Tpm2bDigest,
    },
    /// TPM_ST_ATTEST_TIME: TPMS_TIME_ATTEST_INFO.
    Time {
        /// Time and Clock.
        time: TpmsTimeInfo,
        /// firmwareVersion (repeated inside the signed area).
        firmware_version: u64,
    },
    /// TPM_ST_ATTEST_NV: TPMS_NV_CERTIFY_INFO.
    Nv {
        /// Name of the NV index.
        index_name: Tpm2bName,
        /// Offset of the certified octets.
        offset: u16,
        /// The certified octets.
        nv_contents: Tpm2bMaxNvBuffer,
    },
    /// TPM_ST_ATTEST_NV_DIGEST: TPMS_NV_DIGEST_CERTIFY_INFO.
    NvDigest {
        /// Name of the NV index.
        index_name: Tpm2bName,
        /// Digest of the index's contents.
        nv_digest: Tpm2bDigest,
    },
}

impl TpmuAttest {
    /// The TPMI_ST_ATTEST tag of this alternative.
    pub fn tag(&self) -> TpmSt {
        TpmSt(match self {
            TpmuAttest::Nv { .. } => 0x8014,
            TpmuAttest::CommandAudit { .. } => 0x8015,
            TpmuAttest::SessionAudit { .. } => 0x8016,
            TpmuAttest::Certify { .. } => 0x8017,
            TpmuAttest::Quote { .. } => 0x8018,
            TpmuAttest::Time { .. } => 0x8019,
            TpmuAttest::Creation { .. } => 0x801A,
            TpmuAttest::NvDigest { .. } => 0x801C,
        })
    }
}

/// TPMS_ATTEST — Part 2, 10.12.12.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmsAttest {
    /// Qualified Name of the signing key (TPM_RH_NULL's Name when unsigned).
    pub qualified_signer: Tpm2bName,
    /// The caller's qualifyingData.
    pub extra_data: Tpm2bData,
    /// Clock, resetCount, restartCount, safe (obfuscated for keys of the
    /// storage and NULL hierarchies).
    pub clock_info: TpmsClockInfo,
    /// firmwareVersion (obfuscated like clockInfo).
    pub firmware_version: u64,
    /// What is attested.
    pub attested: TpmuAttest,
}

impl Marshal for TpmsAttest {
    fn marshal(&self, w: &mut Writer) {
        w.u32(TPM_GENERATED_VALUE);
        w.u16(self.attested.tag().0);
        self.qualified_signer.marshal(w);
        self.extra_data.marshal(w);
        self.clock_info.marshal(w);
        w.u64(self.firmware_version);
        match &self.attested {
            TpmuAttest::Certify {
                name,
                qualified_name,
            } => {
                name.marshal(w);
                qualified_name.marshal(w);
            }
            TpmuAttest::Creation {
                object_name,
                creation_hash,
            } => {
                object_name.marshal(w);
                creation_hash.marshal(w);
            }
            TpmuAttest::Quote {
                pcr_select,
                pcr_digest,
            } => {
                pcr_select.marshal(w);
                pcr_digest.marshal(w);
            }
            TpmuAttest::CommandAudit {
                audit_counter,
                digest_alg,
                audit_digest,
                command_digest,
            } => {
                w.u64(*audit_counter);
                w.u16(*digest_alg);
                audit_digest.marshal(w);
                command_digest.marshal(w);
            }
            TpmuAttest::SessionAudit {
                exclusive_session,
                session_digest,
            } => {
                exclusive_session.marshal(w);
                session_digest.marshal(w);
            }
            TpmuAttest::Time {
                time,
                firmware_version,
            } => {
                time.marshal(w);
                w.u64(*firmware_version);
            }
            TpmuAttest::Nv {
                index_name,
                offset,
                nv_contents,
            } => {
                index_name.marshal(w);
                w.u16(*offset);
                nv_contents.marshal(w);
            }
            TpmuAttest::NvDigest {
                index_name,
                nv_digest,
            } => {
                index_name.marshal(w);
                nv_digest.marshal(w);
            }
        }
    }
}

fn read_clock_info(r: &mut Reader<'_>) -> TpmResult<TpmsClockInfo> {
    Ok(TpmsClockInfo {
        clock: r.u64()?,
        reset_count: r.u32()?,
        restart_count: r.u32()?,
        safe: bool::unmarshal(r)?,
    })
}

impl Unmarshal for TpmsAttest {
    /// Parses a TPMS_ATTEST (verifiers and tests; the TPM never takes one in).
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        if r.u32()? != TPM_GENERATED_VALUE {
            return Err(TpmRc::VALUE);
        }
        let tag = r.u16()?;
        let qualified_signer = Tpm2bName::unmarshal(r)?;
        let extra_data = Tpm2bData::unmarshal(r)?;
        let clock_info = read_clock_info(r)?;
        let firmware_version = r.u64()?;
        let attested = match tag {
            0x8014 => TpmuAttest::Nv {
                index_name: Tpm2bName::unmarshal(r)?,
                offset: r.u16()?,
                nv_contents: Tpm2bMaxNvBuffer::unmarshal(r)?,
            },
            0x8015 => TpmuAttest::CommandAudit {
                audit_counter: r.u64()?,
                digest_alg: r.u16()?,
                audit_digest: Tpm2bDigest::unmarshal(r)?,
                command_digest: Tpm2bDigest::unmarshal(r)?,
            },
            0x8016 => TpmuAttest::SessionAudit {
                exclusive_session: bool::unmarshal(r)?,
                session_digest: Tpm2bDigest::unmarshal(r)?,
            },
            0x8017 => TpmuAttest::Certify {
                name: Tpm2bName::unmarshal(r)?,
                qualified_name: Tpm2bName::unmarshal(r)?,
            },
            0x8018 => TpmuAttest::Quote {
                pcr_select: TpmlPcrSelection::unmarshal(r)?,
                pcr_digest: Tpm2bDigest::unmarshal(r)?,
            },
            0x8019 => TpmuAttest::Time {
                time: TpmsTimeInfo {
                    time: r.u64()?,
                    clock_info: read_clock_info(r)?,
                },
                firmware_version: r.u64()?,
            },
            0x801A => TpmuAttest::Creation {
                object_name: Tpm2bName::unmarshal(r)?,
                creation_hash: Tpm2bDigest::unmarshal(r)?,
            },
            0x801C => TpmuAttest::NvDigest {
                index_name: Tpm2bName::unmarshal(r)?,
                nv_digest: Tpm2bDigest::unmarshal(r)?,
            },
            _ => return Err(TpmRc::SELECTOR),
        };
        Ok(TpmsAttest {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_alternative() {
        let name = Tpm2bName::new(&[0, 11, 1, 2, 3]).unwrap();
        let digest = Tpm2bDigest::new(&[7; 32]).unwrap();
        let clock = TpmsClockInfo {
            clock: 1234,
            reset_count: 2,
            restart_count: 3,
            safe: true,
        };
        let all = [
            TpmuAttest::Certify {
                name: name.clone(),
                qualified_name: name.clone(),
            },
            TpmuAttest::Creation {
                object_name: name.clone(),
                creation_hash: digest.clone(),
            },
            TpmuAttest::Quote {
                pcr_select: TpmlPcrSelection(alloc::vec::Vec::new()),
                pcr_digest: digest.clone(),
            },
            TpmuAttest::CommandAudit {
                audit_counter: 9,
                digest_alg: 0x000B,
                audit_digest: digest.clone(),
                command_digest: digest.clone(),
            },
            TpmuAttest::SessionAudit {
                exclusive_session: true,
                session_digest: digest.clone(),
            },
            TpmuAttest::Time {
                time: TpmsTimeInfo {
                    time: 55,
                    clock_info: clock,
                },
                firmware_version: 0x0001_0002_0003_0004,
            },
            TpmuAttest::Nv {
                index_name: name.clone(),
                offset: 4,
                nv_contents: Tpm2bMaxNvBuffer::new(b"abc").unwrap(),
            },
            TpmuAttest::NvDigest {
                index_name: name.clone(),
                nv_digest: digest.clone(),
            },
        ];
        for attested in all {
            let a = TpmsAttest {
                qualified_signer: name.clone(),
                extra_data: Tpm2bData::new(b"nonce").unwrap(),
                clock_info: clock,
                firmware_version: 42,
                attested,
            };
            let bytes = a.to_bytes();
            assert_eq!(&bytes[0..4], b"\xffTCG");
            assert_eq!(TpmsAttest::from_bytes(&bytes).unwrap(), a);
            for cut in 0..bytes.len() {
                assert!(TpmsAttest::from_bytes(&bytes[..cut]).is_err());
            }
        }
    }
}
