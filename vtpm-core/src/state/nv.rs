//! NV indices (Part 1, clause 37): their public areas, authValues and data, kept in
//! the permanent state, and the access rules every NV command shares (the
//! reference implementation's NvReadAccessChecks / NvWriteAccessChecks).
//!
//! ORDERLY indices are kept like every other index: their data is durable after
//! each command, which a TPM is allowed to do.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::hash::HashAlg;
use crate::rc::{TpmRc, TpmResult};
use crate::tpm::Tpm;
use crate::types::constants::{TpmHt, TpmRh};
use crate::types::nv::{TpmNt, TpmaNv, TpmsNvPublic};
use crate::types::sized::Tpm2bAuth;

/// Most NV indices defined at once (TPM_PT_HR_NV_INDEX can reach this).
pub const MAX_NV_INDICES: usize = 64;

/// Total data bytes of all defined NV indices.
pub const MAX_NV_TOTAL_SIZE: usize = 32 * 1024;

/// MAX_NV_INDEX_SIZE: largest data area of one index (TPM_PT_NV_INDEX_MAX; PC
/// Client minimum 2048).
pub const MAX_NV_INDEX_SIZE: usize = 2048;

/// One defined NV index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvIndex {
    /// The public area; its attributes carry WRITTEN and the lock bits.
    pub public: TpmsNvPublic,
    /// authValue (trailing zeros removed); Debug prints only its size.
    pub auth: Tpm2bAuth,
    /// The data area, `public.data_size` bytes.
    pub data: Vec<u8>,
}

impl NvIndex {
    /// The index type (DefineSpace refuses unknown types, so Ordinary stands in
    /// for a value that cannot occur).
    pub fn nt(&self) -> TpmNt {
        self.public.attributes.nt().unwrap_or(TpmNt::Ordinary)
    }

    /// The attributes.
    pub fn attributes(&self) -> TpmaNv {
        self.public.attributes
    }

    /// The Name.
    pub fn name(&self) -> Vec<u8> {
        self.public.name()
    }

    /// The 8-byte value of a counter or bit-field index.
    pub fn value_u64(&self) -> u64 {
        self.data
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0)
    }
}

/// All NV indices and the highest counter value ever held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvState {
    /// Defined indices, ascending by handle.
    pub indices: Vec<NvIndex>,
    /// The largest value any counter index has had: a new counter starts here, so
    /// a counter never repeats a value across undefine and redefine.
    pub max_counter: u64,
}

impl NvState {
    /// The index with handle `h`.
    pub fn get(&self, h: u32) -> Option<&NvIndex> {
        self.indices.iter().find(|i| i.public.nv_index == h)
    }

    /// The index with handle `h`, mutable.
    pub fn get_mut(&mut self, h: u32) -> Option<&mut NvIndex> {
        self.indices.iter_mut().find(|i| i.public.nv_index == h)
    }

    /// Handles of all indices, ascending.
    pub fn handles(&self) -> Vec<u32> {
        self.indices.iter().map(|i| i.public.nv_index).collect()
    }

    /// Data bytes used by all indices.
    pub fn used_bytes(&self) -> usize {
        self.indices.iter().map(|i| i.data.len()).sum()
    }

    /// Number of counter indices.
    pub fn counters(&self) -> usize {
        self.indices
            .iter()
            .filter(|i| i.nt() == TpmNt::Counter)
            .count()
    }

    /// Inserts `index` in handle order; `TPM_RC_NV_DEFINED` if the handle is taken,
    /// `TPM_RC_NV_SPACE` if a limit would be exceeded.
    pub fn insert(&mut self, index: NvIndex) -> TpmResult<()> {
        let h = index.public.nv_index;
        let pos = match self.indices.binary_search_by_key(&h, |i| i.public.nv_index) {
            Ok(_) => return Err(TpmRc::NV_DEFINED),
            Err(p) => p,
        };
        if self.indices.len() >= MAX_NV_INDICES
            || self.used_bytes().saturating_add(index.data.len()) > MAX_NV_TOTAL_SIZE
        {
            return Err(TpmRc::NV_SPACE);
        }
        self.indices.insert(pos, index);
        Ok(())
    }

    /// Removes the index `h`; a counter's value is remembered in `max_counter`.
    pub fn remove(&mut self, h: u32) -> Option<NvIndex> {
        let pos = self.indices.iter().position(|i| i.public.nv_index == h)?;
        let index = self.indices.remove(pos);
        if index.nt() == TpmNt::Counter {
            self.max_counter = self.max_counter.max(index.value_u64());
        }
        Some(index)
    }

    /// TPM Reset and TPM Restart (Part 1, 37.2): READ_STCLEAR read locks and
    /// WRITE_STCLEAR write locks are released (a WRITEDEFINE lock on a written
    /// index stays), and CLEAR_STCLEAR indices become unwritten.
    pub fn startup_clear(&mut self) {
        for i in &mut self.indices {
            let a = i.public.attributes;
            let mut clear = 0;
            if a.has(TpmaNv::READ_STCLEAR) {
                clear |= TpmaNv::READLOCKED;
            }
            if a.has(TpmaNv::WRITE_STCLEAR) && !a.has(TpmaNv::WRITEDEFINE | TpmaNv::WRITTEN) {
                clear |= TpmaNv::WRITELOCKED;
            }
            if a.has(TpmaNv::CLEAR_STCLEAR) {
                clear |= TpmaNv::WRITTEN;
            }
            i.public.attributes = a.without(clear);
        }
    }

    /// TPM2_Clear: indices the owner defined are removed (Part 3, 24.6).
    pub fn clear_owner(&mut self) {
        let owner: Vec<u32> = self
            .indices
            .iter()
            .filter(|i| !i.public.attributes.has(TpmaNv::PLATFORMCREATE))
            .map(|i| i.public.nv_index)
            .collect();
        for h in owner {
            self.remove(h);
        }
    }
}

/// How the authorization handle of an NV command was satisfied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvAuthVia {
    /// The authValue of the index (password or HMAC session).
    AuthValue,
    /// The authPolicy of the index (policy session).
    Policy,
}

/// The access bit that `auth_handle` needs among `{pp, owner, auth, policy}`.
fn access_bit(auth_handle: u32, index: u32, via: NvAuthVia, bits: [u32; 4]) -> Option<u32> {
    let [pp, owner, auth, policy] = bits;
    if auth_handle == TpmRh::PLATFORM.0 {
        Some(pp)
    } else if auth_handle == TpmRh::OWNER.0 {
        Some(owner)
    } else if auth_handle == index {
        Some(match via {
            NvAuthVia::AuthValue => auth,
            NvAuthVia::Policy => policy,
        })
    } else {
        None
    }
}

/// Write access (Part 3, 31.3 "NvWriteAccessChecks"): `TPM_RC_NV_LOCKED` when
/// write locked (by WRITELOCKED or TPM2_NV_GlobalWriteLock), then
/// `TPM_RC_NV_AUTHORIZATION` unless the attribute matching `auth_handle` is SET
/// (PPWRITE for platform, OWNERWRITE for owner, AUTHWRITE/POLICYWRITE for the index).
pub(crate) fn write_access(
    tpm: &Tpm,
    auth_handle: u32,
    index: &NvIndex,
    via: NvAuthVia,
) -> TpmResult<()> {
    let a = index.attributes();
    if a.has(TpmaNv::WRITELOCKED) || (a.has(TpmaNv::GLOBALLOCK) && tpm.clear.nv_global_lock) {
        return Err(TpmRc::NV_LOCKED);
    }
    write_authorized(auth_handle, index, via)
}

/// The authorization half of [`write_access`]: `TPM_RC_NV_AUTHORIZATION` unless
/// the write attribute matching `auth_handle` is SET.
pub(crate) fn write_authorized(auth_handle: u32, index: &NvIndex, via: NvAuthVia) -> TpmResult<()> {
    let a = index.attributes();
    let bits = [
        TpmaNv::PPWRITE,
        TpmaNv::OWNERWRITE,
        TpmaNv::AUTHWRITE,
        TpmaNv::POLICYWRITE,
    ];
    match access_bit(auth_handle, index.public.nv_index, via, bits) {
        Some(bit) if a.has(bit) => Ok(()),
        _ => Err(TpmRc::NV_AUTHORIZATION),
    }
}

/// Read access (Part 3, 31.3 "NvReadAccessChecks"): `TPM_RC_NV_LOCKED` when read
/// locked, `TPM_RC_NV_AUTHORIZATION` unless the attribute matching `auth_handle` is
/// SET (PPREAD, OWNERREAD, AUTHREAD/POLICYREAD), `TPM_RC_NV_UNINITIALIZED` when the
/// index was never written.
pub(crate) fn read_access(auth_handle: u32, index: &NvIndex, via: NvAuthVia) -> TpmResult<()> {
    let a = index.attributes();
    if a.has(TpmaNv::READLOCKED) {
        return Err(TpmRc::NV_LOCKED);
    }
    let bits = [
        TpmaNv::PPREAD,
        TpmaNv::OWNERREAD,
        TpmaNv::AUTHREAD,
        TpmaNv::POLICYREAD,
    ];
    match access_bit(auth_handle, index.public.nv_index, via, bits) {
        Some(bit) if a.has(bit) => {}
        _ => return Err(TpmRc::NV_AUTHORIZATION),
    }
    if !a.has(TpmaNv::WRITTEN) {
        return Err(TpmRc::NV_UNINITIALIZED);
    }
    Ok(())
}

impl Tpm {
    /// The NV index `handle`, if defined.
    pub(crate) fn nv_index(&self, handle: u32) -> Option<&NvIndex> {
        if TpmHt::of(handle) != TpmHt::NV_INDEX {
            return None;
        }
        self.perm.nv.get(handle)
    }

    /// Whether the NV index `handle` is defined and its hierarchy is enabled
    /// (platform indices need phEnableNV, owner indices shEnable).
    pub(crate) fn nv_accessible(&self, handle: u32) -> bool {
        match self.nv_index(handle) {
            Some(i) if i.attributes().has(TpmaNv::PLATFORMCREATE) => {
                self.ph_enable && self.clear.ph_enable_nv
            }
            Some(_) => self.clear.sh_enable,
            None => false,
        }
    }
}

/// The authPolicy of NV index `handle` and the hash that computes it (its
/// nameAlg), for policy-session authorization; None when no such index exists.
pub(crate) fn nv_auth_policy(tpm: &Tpm, handle: u32) -> Option<(HashAlg, &[u8])> {
    tpm.nv_index(handle)
        .map(|i| (i.public.name_alg, i.public.auth_policy.as_slice()))
}
