//! Authorization sessions (Part 1, clause 19): the session table, session keys,
//! nonces, and the HMAC computations of command and response authorization.

use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::hash::HashAlg;
use crate::crypto::kdf::kdfa;
use crate::rc::{TpmRc, TpmResult};

/// Sessions that may be loaded at once (MAX_LOADED_SESSIONS; TPM_PT_HR_LOADED_MIN).
pub const MAX_LOADED_SESSIONS: usize = 3;

/// Session handles per type (MAX_ACTIVE_SESSIONS).
pub const MAX_ACTIVE_SESSIONS: u32 = 64;

/// First HMAC session handle.
pub const HMAC_SESSION_FIRST: u32 = 0x0200_0000;
/// First policy session handle.
pub const POLICY_SESSION_FIRST: u32 = 0x0300_0000;

/// TPM_SE — session type (Part 2, Table 18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionType {
    /// TPM_SE_HMAC
    Hmac,
    /// TPM_SE_POLICY
    Policy,
    /// TPM_SE_TRIAL
    Trial,
}

/// The entity a session is bound to: its handle and a digest of its authValue at
/// the time of binding (a later authValue change ends the binding, Part 1 19.6.10).
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct Binding {
    /// The bound entity's handle.
    pub handle: u32,
    /// H(authValue) at StartAuthSession.
    pub auth_digest: Vec<u8>,
}

/// TPMT_SYM_DEF of a session: how parameters are encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionSymmetric {
    /// TPM_ALG_NULL: no parameter encryption.
    Null,
    /// TPM_ALG_XOR with a hash.
    Xor(HashAlg),
    /// AES in CFB mode with the given key bits.
    AesCfb(u16),
}

/// One loaded session (serialized only inside a protected saved context).
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    /// Its handle.
    pub handle: u32,
    /// HMAC, policy or trial.
    pub kind: SessionType,
    /// authHash.
    pub auth_hash: HashAlg,
    /// sessionKey (empty for unbound, unsalted sessions).
    pub session_key: Vec<u8>,
    /// nonceTPM of the last response.
    pub nonce_tpm: Vec<u8>,
    /// Binding, if bound.
    pub bind: Option<Binding>,
    /// Parameter encryption algorithm.
    pub symmetric: SessionSymmetric,
    /// The session audit digest, once the session has audited a command.
    pub audit_digest: Option<Vec<u8>>,
    /// Policy state (policy and trial sessions; unused by HMAC sessions).
    pub policy: PolicyState,
    /// TPM Time (ms) at which the current nonceTPM was issued: the start of the
    /// session's timing interval, from which a PolicySigned / PolicySecret
    /// expiration counts (Part 3, 23.3).
    #[serde(default)]
    pub start_time: u64,
}

/// The policy state of a policy or trial session (Part 1, 19.7; the reference's
/// SESSION fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyState {
    /// policyDigest (authHash size).
    pub digest: Vec<u8>,
    /// Command code restriction (PolicyCommandCode).
    pub command_code: Option<u32>,
    /// cpHash or nameHash restriction (PolicyCpHash / PolicyNameHash /
    /// PolicyDuplicationSelect / PolicyTemplate).
    pub cp_hash: Option<Vec<u8>>,
    /// The restriction in `cp_hash` is a nameHash.
    pub is_name_hash: bool,
    /// The restriction in `cp_hash` is a templateHash.
    pub is_template_hash: bool,
    /// PolicyAuthValue: the HMAC includes the authValue.
    pub is_auth_value_needed: bool,
    /// PolicyPassword: the hmac field carries the authValue.
    pub is_password_needed: bool,
    /// PolicyPhysicalPresence.
    pub is_pp_required: bool,
    /// pcrUpdateCounter recorded by PolicyPCR.
    pub pcr_counter: Option<u32>,
    /// Allowed localities (TPMA_LOCALITY) set by PolicyLocality; 0: any.
    pub locality: u8,
    /// PolicyNvWritten: Some(writtenSet).
    pub nv_written: Option<bool>,
    /// The policy timeout (TPM Time in ms) set by PolicySigned, PolicySecret or
    /// PolicyTicket with an expiration; 0: none. The session authorizes nothing
    /// once Time passes it.
    #[serde(default)]
    pub timeout: u64,
}

impl PolicyState {
    /// The initial state: a zero policyDigest of `alg` size, no restrictions.
    pub fn new(alg: HashAlg) -> PolicyState {
        PolicyState {
            digest: vec![0u8; alg.digest_size()],
            ..PolicyState::default()
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.session_key.zeroize();
    }
}

impl Session {
    /// sessionKey = KDFa(authHash, bindAuth || salt, "ATH", nonceTPM, nonceCaller,
    /// digest bits) — Part 1 §19.6.8; empty when neither bound nor salted.
    pub fn derive_key(
        auth_hash: HashAlg,
        bind_auth: &[u8],
        salt: &[u8],
        nonce_tpm: &[u8],
        nonce_caller: &[u8],
    ) -> Vec<u8> {
        if bind_auth.is_empty() && salt.is_empty() {
            return Vec::new();
        }
        let mut key = Vec::with_capacity(bind_auth.len().saturating_add(salt.len()));
        key.extend_from_slice(bind_auth);
        key.extend_from_slice(salt);
        let bits = u32::try_from(auth_hash.digest_size().saturating_mul(8)).unwrap_or(0);
        let out = kdfa(auth_hash, &key, b"ATH", nonce_tpm, nonce_caller, bits);
        key.zeroize();
        out
    }

    /// True when this session is bound to the entity `handle` whose authValue is
    /// `auth` (then its HMAC key omits the authValue).
    pub fn is_bound_to(&self, handle: u32, auth: &[u8]) -> bool {
        self.bind.as_ref().is_some_and(|b| {
            b.handle == handle && crate::crypto::ct_eq(&b.auth_digest, &self.auth_hash.digest(auth))
        })
    }

    /// The HMAC key for authorizing an entity with authValue `auth`.
    pub fn hmac_key(&self, handle: u32, auth: &[u8]) -> Vec<u8> {
        let mut k = self.session_key.clone();
        if !self.is_bound_to(handle, auth) {
            k.extend_from_slice(auth);
        }
        k
    }
}

/// A session saved with TPM2_ContextSave: still active (its handle stays taken)
/// but not loaded; only the context with this sequence number may load it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SavedSlot {
    handle: u32,
    sequence: u64,
}

/// The record of saved sessions that the state written by Shutdown(STATE)
/// keeps (the reference implementation's contextArray entries of saved
/// sessions), so that their contexts load after TPM Restart or TPM Resume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRecord(Vec<SavedSlot>);

impl SavedRecord {
    /// True when no session is saved.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The active sessions: loaded ones and saved ones. Serialized only into the
/// volatile state, which is secret-bearing (session keys).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SessionTable {
    sessions: Vec<Session>,
    saved: Vec<SavedSlot>,
}

fn same_slot(a: u32, b: u32) -> bool {
    a & 0x00FF_FFFF == b & 0x00FF_FFFF
}

impl SessionTable {
    /// A free handle for a session of `kind`; `TPM_RC_SESSION_MEMORY` when
    /// MAX_LOADED_SESSIONS are loaded, `TPM_RC_SESSION_HANDLES` when
    /// MAX_ACTIVE_SESSIONS are active.
    pub fn allocate(&self, kind: SessionType) -> TpmResult<u32> {
        if self.sessions.len() >= MAX_LOADED_SESSIONS {
            return Err(TpmRc::SESSION_MEMORY);
        }
        let first = match kind {
            SessionType::Hmac => HMAC_SESSION_FIRST,
            SessionType::Policy | SessionType::Trial => POLICY_SESSION_FIRST,
        };
        (0..MAX_ACTIVE_SESSIONS)
            .map(|i| first | i)
            .find(|h| {
                !self.sessions.iter().any(|s| same_slot(s.handle, *h))
                    && !self.saved.iter().any(|s| same_slot(s.handle, *h))
            })
            .ok_or(TpmRc::SESSION_HANDLES)
    }

    /// Adds a session.
    pub fn insert(&mut self, s: Session) {
        self.sessions.push(s);
    }

    /// The loaded session at `handle`.
    pub fn get(&self, handle: u32) -> Option<&Session> {
        self.sessions.iter().find(|s| s.handle == handle)
    }

    /// The loaded session at `handle`, mutable.
    pub fn get_mut(&mut self, handle: u32) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.handle == handle)
    }

    /// Ends the session at `handle`, loaded or saved; false when there is none.
    pub fn flush(&mut self, handle: u32) -> bool {
        if self.remove(handle).is_some() {
            return true;
        }
        let before = self.saved.len();
        self.saved.retain(|s| s.handle != handle);
        self.saved.len() != before
    }

    /// Removes the loaded session at `handle`.
    pub fn remove(&mut self, handle: u32) -> Option<Session> {
        let i = self.sessions.iter().position(|s| s.handle == handle)?;
        Some(self.sessions.remove(i))
    }

    /// Unloads the session at `handle` for TPM2_ContextSave: it stays active,
    /// to be loaded back only from the context with `sequence`.
    pub fn save(&mut self, handle: u32, sequence: u64) -> Option<Session> {
        let s = self.remove(handle)?;
        self.saved.push(SavedSlot { handle, sequence });
        Some(s)
    }

    /// Whether `handle` is a saved session and `sequence` its latest context:
    /// `TPM_RC_HANDLE` when no such session is saved, `TPM_RC_INTEGRITY` for
    /// an older context of it.
    pub fn check_saved(&self, handle: u32, sequence: u64) -> TpmResult<()> {
        match self.saved.iter().find(|s| s.handle == handle) {
            None => Err(TpmRc::HANDLE),
            Some(s) if s.sequence != sequence => Err(TpmRc::INTEGRITY),
            Some(_) => Ok(()),
        }
    }

    /// Loads a saved session back (after [`check_saved`](Self::check_saved)):
    /// `TPM_RC_SESSION_MEMORY` when MAX_LOADED_SESSIONS are loaded.
    pub fn restore(&mut self, s: Session) -> TpmResult<()> {
        if self.sessions.len() >= MAX_LOADED_SESSIONS {
            return Err(TpmRc::SESSION_MEMORY);
        }
        self.saved.retain(|x| x.handle != s.handle);
        self.sessions.push(s);
        Ok(())
    }

    /// Handles of the loaded sessions, ascending (TPM_HT_LOADED_SESSION).
    pub fn loaded_handles(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.sessions.iter().map(|s| s.handle).collect();
        v.sort_unstable();
        v
    }

    /// Handles of the saved sessions, ascending (TPM_HT_SAVED_SESSION).
    pub fn saved_handles(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.saved.iter().map(|s| s.handle).collect();
        v.sort_unstable();
        v
    }

    /// Number of loaded sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Number of active sessions (loaded and saved).
    pub fn active(&self) -> usize {
        self.sessions.len().saturating_add(self.saved.len())
    }

    /// True when none is loaded.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Drops every session, loaded or saved (TPM Reset).
    pub fn clear(&mut self) {
        self.sessions.clear();
        self.saved.clear();
    }

    /// Drops the loaded sessions and keeps the saved ones (_TPM_Init, TPM
    /// Restart and TPM Resume: loaded sessions are lost with power, while the
    /// record of saved session contexts is part of the state that
    /// Shutdown(STATE) keeps, so their contexts still load).
    pub fn clear_loaded(&mut self) {
        self.sessions.clear();
    }

    /// The record of saved sessions (handles and context sequence numbers).
    pub fn saved_record(&self) -> SavedRecord {
        SavedRecord(self.saved.clone())
    }

    /// Replaces the record of saved sessions (from the state that
    /// Shutdown(STATE) wrote); false, and nothing changes, when the record could
    /// not have been made by this TPM.
    pub fn restore_saved_record(&mut self, record: SavedRecord) -> bool {
        let candidate = SessionTable {
            sessions: self.sessions.clone(),
            saved: record.0,
        };
        if !candidate.is_consistent() {
            return false;
        }
        self.saved = candidate.saved.clone();
        true
    }

    /// True when the table could have been built by this TPM: at most
    /// MAX_LOADED_SESSIONS loaded, every handle an HMAC or policy session handle
    /// of a type that matches the session, within MAX_ACTIVE_SESSIONS, no two
    /// sessions on one slot, and each policyDigest of its authHash size.
    pub fn is_consistent(&self) -> bool {
        fn in_range(handle: u32) -> bool {
            matches!(
                handle & 0xFF00_0000,
                HMAC_SESSION_FIRST | POLICY_SESSION_FIRST
            ) && handle & 0x00FF_FFFF < MAX_ACTIVE_SESSIONS
        }
        let loaded_ok = self.sessions.iter().all(|s| {
            let first = match s.kind {
                SessionType::Hmac => HMAC_SESSION_FIRST,
                SessionType::Policy | SessionType::Trial => POLICY_SESSION_FIRST,
            };
            in_range(s.handle)
                && s.handle & 0xFF00_0000 == first
                && s.policy.digest.len() == s.auth_hash.digest_size()
        });
        let handles: Vec<u32> = self
            .sessions
            .iter()
            .map(|s| s.handle)
            .chain(self.saved.iter().map(|s| s.handle))
            .collect();
        let distinct = handles.iter().enumerate().all(|(i, h)| {
            handles
                .iter()
                .skip(i.saturating_add(1))
                .all(|o| !same_slot(*h, *o))
        });
        self.sessions.len() <= MAX_LOADED_SESSIONS
            && loaded_ok
            && self.saved.iter().all(|s| in_range(s.handle))
            && distinct
    }
}

/// A fresh nonce of `size` octets.
pub fn new_nonce(tpm: &mut crate::tpm::Tpm, size: usize) -> Vec<u8> {
    let mut n = vec![0u8; size];
    tpm.random(&mut n);
    n
}

pub mod policy;

#[cfg(test)]
mod tests;
