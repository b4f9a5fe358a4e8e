//! The engine's state, split as the TPM Library spec splits it (Part 1, clause 36
//! and the reference implementation's grouping):
//!
//! * [`PermanentState`] — survives everything but Clear/ChangeEPS/ChangePPS: seeds,
//!   proofs, hierarchy auth and policy, dictionary-attack counters, PCR allocation,
//!   Clock, reset counters, and the orderly-shutdown save area.
//! * [`ClearState`] — reset at TPM Reset and TPM Restart, restored by TPM Resume
//!   (Startup(STATE)): hierarchy enables, platformAuth/Policy, saved PCRs.
//! * [`ResetState`] — reset only at TPM Reset: the NULL hierarchy seed and proof,
//!   clearCount, the context counter.
//!
//! Everything serializes with postcard; secrets are zeroized on drop.

pub mod nv;
pub mod nv_pin;
pub mod objects;
pub mod pcr;
pub mod ticket;

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::hash::HashAlg;
use crate::types::sized::{Tpm2bAuth, Tpm2bDigest};

pub use pcr::PcrBanks;

/// A 64-byte secret (seed or proof value). Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Secret(pub Vec<u8>);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// An authorization policy: the digest and the hash that computes it (TPM_ALG_NULL
/// and an empty digest when none is set).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthPolicy {
    /// Hash of the policy, None for TPM_ALG_NULL.
    pub alg: Option<HashAlg>,
    /// The policy digest.
    pub digest: Tpm2bDigest,
}

/// Dictionary-attack protection state (Part 1, clause 19.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaState {
    /// failedTries: authorization failures counted (TPM_PT_LOCKOUT_COUNTER).
    pub failed_tries: u32,
    /// maxTries: failures that put the TPM in lockout (TPM_PT_MAX_AUTH_FAIL).
    pub max_tries: u32,
    /// recoveryTime: seconds for one failure to be forgotten (TPM_PT_LOCKOUT_INTERVAL).
    pub recovery_time: u32,
    /// lockoutRecovery: seconds after a lockoutAuth failure (TPM_PT_LOCKOUT_RECOVERY).
    pub lockout_recovery: u32,
    /// lockoutAuth may be used (false after a lockoutAuth failure until lockoutRecovery).
    pub lockout_auth_enabled: bool,
    /// Clock (ms) at which the last failure was counted or the countdown last advanced.
    pub self_heal_clock: u64,
    /// Clock (ms) of the last lockoutAuth failure.
    pub lockout_clock: u64,
    /// A DA-protected authorization was checked since the last Startup: an
    /// unorderly shutdown from here counts as one failure (Part 1, 19.8.6).
    pub used_since_startup: bool,
}

impl Default for DaState {
    fn default() -> Self {
        // The reference implementation's and most TPMs' defaults.
        DaState {
            failed_tries: 0,
            max_tries: 3,
            recovery_time: 1000,
            lockout_recovery: 1000,
            lockout_auth_enabled: true,
            self_heal_clock: 0,
            lockout_clock: 0,
            used_since_startup: false,
        }
    }
}

/// Data preserved across TPM Reset/Restart/Resume until Clear (PERSISTENT_DATA).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PermanentState {
    /// Endorsement primary seed.
    pub eps: Secret,
    /// Storage primary seed.
    pub sps: Secret,
    /// Platform primary seed.
    pub pps: Secret,
    /// Endorsement hierarchy proof (ehProof).
    pub eh_proof: Secret,
    /// Storage hierarchy proof (shProof).
    pub sh_proof: Secret,
    /// Platform hierarchy proof (phProof).
    pub ph_proof: Secret,
    /// ownerAuth
    pub owner_auth: Tpm2bAuth,
    /// endorsementAuth
    pub endorsement_auth: Tpm2bAuth,
    /// lockoutAuth
    pub lockout_auth: Tpm2bAuth,
    /// ownerPolicy
    pub owner_policy: AuthPolicy,
    /// endorsementPolicy
    pub endorsement_policy: AuthPolicy,
    /// lockoutPolicy
    pub lockout_policy: AuthPolicy,
    /// disableClear (TPMA_PERMANENT.disableClear)
    pub disable_clear: bool,
    /// Dictionary-attack state.
    pub da: DaState,
    /// PCR banks allocated now.
    pub pcr_allocation: Vec<HashAlg>,
    /// PCR banks to allocate at the next TPM Reset (PCR_Allocate).
    pub pcr_allocation_pending: Option<Vec<HashAlg>>,
    /// Clock value (ms) at the last time it was made durable.
    pub clock: u64,
    /// TPM Resets since the last Clear.
    pub reset_count: u32,
    /// Total resets ever (audit counter base).
    pub total_reset_count: u32,
    /// The state saved by Shutdown(STATE)/Shutdown(CLEAR), consumed by the next Startup.
    pub orderly: Option<OrderlySave>,
    /// Clock was never reported in a way that could repeat after an unorderly shutdown.
    pub clock_safe: bool,
    /// Persistent objects (TPM2_EvictControl), ascending by handle.
    #[serde(default)]
    pub persistent: Vec<crate::objects::PersistentObject>,
    /// Command audit settings.
    pub command_audit: CommandAudit,
    /// NV indices and the counter high-water mark.
    pub nv: nv::NvState,
    /// The authorization policy of the PCR policy group (PCR_SetAuthPolicy;
    /// the reference implementation's pcrPolicies, one group).
    pub pcr_policy: AuthPolicy,
}

/// What an orderly Shutdown leaves for the next Startup.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderlySave {
    /// The shutdown type: true for Shutdown(STATE).
    pub state: bool,
    /// STATE_RESET_DATA at shutdown.
    pub reset: ResetState,
    /// STATE_CLEAR_DATA at shutdown (only used by Startup(STATE)).
    pub clear: ClearState,
    /// Values of the PCRs that have the stateSave attribute, per bank.
    pub saved_pcrs: PcrBanks,
}

/// STATE_CLEAR_DATA: reset at TPM Reset and TPM Restart.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClearState {
    /// shEnable
    pub sh_enable: bool,
    /// ehEnable
    pub eh_enable: bool,
    /// phEnableNV
    pub ph_enable_nv: bool,
    /// platformAuth
    pub platform_auth: Tpm2bAuth,
    /// platformPolicy
    pub platform_policy: AuthPolicy,
    /// TPM2_NV_GlobalWriteLock is in effect (GLOBALLOCK indices are write locked).
    pub nv_global_lock: bool,
    /// The authValue of the PCR authorization group (PCR_SetAuthValue; the
    /// reference implementation's pcrAuthValues, one group).
    pub pcr_auth: Tpm2bAuth,
}

impl Default for ClearState {
    fn default() -> Self {
        ClearState {
            sh_enable: true,
            eh_enable: true,
            ph_enable_nv: true,
            platform_auth: Tpm2bAuth::empty(),
            platform_policy: AuthPolicy::default(),
            nv_global_lock: false,
            pcr_auth: Tpm2bAuth::empty(),
        }
    }
}

/// STATE_RESET_DATA: reset at TPM Reset only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResetState {
    /// The NULL hierarchy seed (new at every TPM Reset).
    pub null_seed: Secret,
    /// The NULL hierarchy proof.
    pub null_proof: Secret,
    /// clearCount: Restarts/Resumes since the last TPM Reset (TPMS_CLOCK_INFO.restartCount).
    pub restart_count: u32,
    /// Counter for saved contexts.
    pub object_context_id: u64,
    /// The command audit digest (empty until the first audited command after a
    /// TPM Reset or a change of the audit hash).
    pub command_audit_digest: Vec<u8>,
}

/// Command audit settings (Part 1, 33.2; kept in NV).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommandAudit {
    /// The audit digest's hash algorithm.
    pub hash: HashAlg,
    /// The audited command codes, ascending (TPM2_SetCommandCodeAuditStatus is
    /// always audited and is not listed here).
    pub commands: Vec<u32>,
    /// auditCounter: incremented each time the digest starts over.
    pub counter: u64,
}

impl Default for CommandAudit {
    fn default() -> Self {
        CommandAudit {
            hash: HashAlg::Sha256,
            commands: Vec::new(),
            counter: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_printed() {
        let s = Secret(alloc::vec![0x42; 64]);
        assert_eq!(alloc::format!("{s:?}"), "Secret(..)");
    }
}
