//! Part 3, clause 30: Capability Commands — TPM2_GetCapability (§30.2). (TPM2_TestParms,
//! §30.3, only unmarshals its parameter and lives with the testing commands.)
//!
//! Every list is paged the same way: entries at or above `property`, ascending, at
//! most `propertyCount` of them and never more than the list's MAX_CAP_* limit, so
//! the capability data always fits in MAX_CAP_BUFFER; `moreData` is YES exactly
//! when a further entry exists past the last one returned. TPM properties are
//! paged within their group (fixed or variable), as the reference implementation
//! does. What the engine implements comes from the engine itself: the algorithm
//! table, the command table, the object slots, the PCR attributes, the permanent
//! and clear state.

use alloc::vec::Vec;

use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::hash::{HashAlg, MAX_DIGEST_SIZE};
use crate::dispatch::table::{CommandEntry, COMMANDS};
use crate::dispatch::{Ctx, Params, MAX_COMMAND_SIZE};
use crate::identity;
use crate::marshal::{Marshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::session;
use crate::state::objects::MAX_LOADED_OBJECTS;
use crate::state::pcr::{attributes, extend_allowed, reset_allowed};
use crate::state::{nv, AuthPolicy};
use crate::tpm::{Isolation, Tpm, CLOCK_UPDATE_MS};
use crate::types::constants::{
    TpmAlgId, TpmCap, TpmHt, TpmRh, IMPLEMENTATION_PCR, PCR_SELECT_MAX, PCR_SELECT_MIN,
};
use crate::types::nv::MAX_NV_BUFFER_SIZE;
use crate::types::properties::{
    TpmPt, TpmPtPcr, TpmaCc, TpmaMemory, TpmaPermanent, TpmaStartupClear, EXTENSIVE_COMMANDS,
    FLUSHED_COMMANDS, MAX_ACT_DATA, MAX_CAP_ALGS, MAX_CAP_BUFFER, MAX_CAP_CC, MAX_CAP_HANDLES,
    MAX_ECC_CURVES, MAX_PCR_PROPERTIES, MAX_TAGGED_POLICIES, MAX_TPM_PROPERTIES,
    PLATFORM_DAY_OF_YEAR, PLATFORM_LEVEL, PLATFORM_REVISION, PLATFORM_YEAR, PT_FIXED, PT_GROUP,
    TPM_PS_PC, TPM_SPEC_DAY_OF_YEAR, TPM_SPEC_FAMILY, TPM_SPEC_LEVEL, TPM_SPEC_VERSION,
    TPM_SPEC_YEAR,
};
use crate::types::sized::MAX_BUFFER;
use crate::types::structures::TpmsPcrSelection;

/// Capacities of subsystems whose commands are not all implemented yet
/// (saved-context gaps, orderly counters). These are the values they provide (PC
/// Client Platform TPM Profile minimums where it sets one).
pub mod planned {
    use crate::types::constants::TpmAlgId;

    /// Largest contextID gap of saved sessions (a 16-bit context slot counter).
    pub const CONTEXT_GAP_MAX: u32 = 0xFFFF;
    /// MAX_ORDERLY_COUNT: slack of orderly NV counters.
    pub const MAX_ORDERLY_COUNT: u32 = 255;
    /// Integrity hash of saved contexts.
    pub const CONTEXT_HASH: TpmAlgId = TpmAlgId::SHA256;
    /// Encryption of saved contexts.
    pub const CONTEXT_SYM: TpmAlgId = TpmAlgId::AES;
    /// Key size of the context encryption.
    pub const CONTEXT_SYM_SIZE: u32 = 256;
    /// Largest TPMS_CONTEXT of an object.
    pub const MAX_OBJECT_CONTEXT: u32 = 2048;
    /// Largest TPMS_CONTEXT of a session.
    pub const MAX_SESSION_CONTEXT: u32 = 512;
}

/// TPM_PT_VENDOR_TPM_TYPE: vendor-defined model number of this implementation.
pub const VENDOR_TPM_TYPE: u32 = 1;

/// TPM_RH_ACT_0: the first authenticated countdown timer handle (Part 2, Table 30).
pub const TPM_RH_ACT_0: u32 = 0x4000_0110;
/// TPM_RH_ACT_F: the last one.
pub const TPM_RH_ACT_F: u32 = 0x4000_011F;

/// The permanent handles this TPM implements, ascending (TPM_CAP_HANDLES).
pub const PERMANENT_HANDLES: [TpmRh; 7] = [
    TpmRh::OWNER,
    TpmRh::NULL,
    TpmRh::PW,
    TpmRh::LOCKOUT,
    TpmRh::ENDORSEMENT,
    TpmRh::PLATFORM,
    TpmRh::PLATFORM_NV,
];

/// TPM2_GetCapability — Part 3 §30.2.
///
/// `TPM_RC_VALUE` (parameter 1): `capability` is not one this TPM reports
/// (TPM_CAP_VENDOR_PROPERTY included); `TPM_RC_VALUE` (parameter 2): `property` is
/// not 0 for TPM_CAP_PCRS, not a permanent handle for TPM_CAP_AUTH_POLICIES, or
/// not an ACT handle (TPM_RH_ACT_0..TPM_RH_ACT_F) for TPM_CAP_ACT;
/// `TPM_RC_HANDLE` (parameter 2): `property` is not in a handle range this TPM
/// lists for TPM_CAP_HANDLES.
pub fn get_capability(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let capability: TpmCap = p.param()?;
    let property: u32 = p.param()?;
    let property_count: u32 = p.param()?;
    p.end()?;
    if capability == TpmCap::TPM_PROPERTIES {
        // Let the lockout counter heal before it is reported.
        ctx.tpm.da_update(ctx.platform);
    }
    let (more, data) = capability_data(ctx.tpm, capability, property, property_count)?;
    more.marshal(&mut ctx.out);
    capability.marshal(&mut ctx.out);
    ctx.out.bytes(&data);
    Ok(())
}

/// The TPMU_CAPABILITIES encoding (a TPML_ list) for `capability`, and moreData.
pub(crate) fn capability_data(
    tpm: &Tpm,
    capability: TpmCap,
    property: u32,
    count: u32,
) -> TpmResult<(bool, Vec<u8>)> {
    Ok(match capability {
        TpmCap::ALGS => page(
            IMPLEMENTED
                .algs
                .iter()
                .filter(|a| u32::from(a.alg.0) >= property),
            count,
            MAX_CAP_ALGS,
            |w, a| {
                a.alg.marshal(w);
                w.u32(a.attributes.0);
            },
        ),
        TpmCap::HANDLES => page(
            handles(tpm, property)?.into_iter(),
            count,
            MAX_CAP_HANDLES,
            |w, h| w.u32(h),
        ),
        TpmCap::COMMANDS => page(
            COMMANDS.iter().filter(|e| e.cc.0 >= property),
            count,
            MAX_CAP_CC,
            |w, e| w.u32(command_attributes(e).0),
        ),
        // No command needs physical presence (TPML_CC).
        TpmCap::PP_COMMANDS => page(core::iter::empty::<u32>(), count, MAX_CAP_CC, |w, cc| {
            w.u32(cc)
        }),
        TpmCap::AUDIT_COMMANDS => page(
            crate::dispatch::audit::audited_commands(tpm)
                .into_iter()
                .filter(|cc| *cc >= property),
            count,
            MAX_CAP_CC,
            |w, cc| w.u32(cc),
        ),
        TpmCap::PCRS => {
            if property != 0 {
                return Err(TpmRc::VALUE.at_param(2)); // property
            }
            pcr_allocation(tpm, count)
        }
        TpmCap::TPM_PROPERTIES => {
            let props = tpm_properties(tpm);
            let start = property.max(PT_FIXED);
            // Only the group `start` falls in is listed.
            let group_end = (start / PT_GROUP)
                .saturating_add(1)
                .saturating_mul(PT_GROUP);
            page(
                props
                    .into_iter()
                    .filter(|(pt, _)| pt.0 >= start && pt.0 < group_end),
                count,
                MAX_TPM_PROPERTIES,
                |w, (pt, v)| {
                    w.u32(pt.0);
                    w.u32(v);
                },
            )
        }
        TpmCap::PCR_PROPERTIES => page(
            TpmPtPcr::ALL.into_iter().filter(|t| t.0 >= property),
            count,
            MAX_PCR_PROPERTIES,
            |w, tag| {
                w.u32(tag.0);
                w.u8(PCR_SELECT_MAX);
                w.bytes(&pcr_property(tag));
            },
        ),
        TpmCap::ECC_CURVES => page(
            IMPLEMENTED
                .curves
                .iter()
                .filter(|c| u32::from(c.0) >= property),
            count,
            MAX_ECC_CURVES,
            |w, c| c.marshal(w),
        ),
        TpmCap::AUTH_POLICIES => {
            if TpmHt::of(property) != TpmHt::PERMANENT {
                return Err(TpmRc::VALUE.at_param(2)); // property
            }
            page(
                auth_policies(tpm)
                    .into_iter()
                    .filter(|(h, _)| h.0 >= property),
                count,
                MAX_TAGGED_POLICIES,
                |w, (h, policy)| {
                    w.u32(h.0);
                    match policy.alg {
                        Some(alg) => {
                            alg.marshal(w);
                            w.bytes(policy.digest.as_slice());
                        }
                        None => TpmAlgId::NULL.marshal(w),
                    }
                },
            )
        }
        TpmCap::ACT => {
            if !(TPM_RH_ACT_0..=TPM_RH_ACT_F).contains(&property) {
                return Err(TpmRc::VALUE.at_param(2)); // property
            }
            // No authenticated countdown timers are implemented (TPML_ACT_DATA).
            page(core::iter::empty::<u32>(), count, MAX_ACT_DATA, |w, h| {
                w.u32(h)
            })
        }
        _ => return Err(TpmRc::VALUE.at_param(1)), // capability
    })
}

/// Writes a TPML_ of at most `min(count, max)` items and reports whether another
/// item follows the last one written.
fn page<T>(
    items: impl Iterator<Item = T>,
    count: u32,
    max: usize,
    mut write: impl FnMut(&mut Writer, T),
) -> (bool, Vec<u8>) {
    let limit = usize::try_from(count).unwrap_or(usize::MAX).min(max);
    let mut body = Writer::new();
    let mut n: usize = 0;
    let mut more = false;
    for item in items {
        if n >= limit {
            more = true;
            break;
        }
        write(&mut body, item);
        n = n.saturating_add(1);
    }
    let mut w = Writer::new();
    w.u32(u32::try_from(n).unwrap_or(0));
    w.bytes(body.as_slice());
    (more, w.into_vec())
}

/// The handles of the range `property` falls in, from `property` up.
fn handles(tpm: &Tpm, property: u32) -> TpmResult<Vec<u32>> {
    let all: Vec<u32> = match TpmHt::of(property) {
        TpmHt::PCR => (0..u32::from(IMPLEMENTATION_PCR)).collect(),
        TpmHt::PERMANENT => PERMANENT_HANDLES.iter().map(|h| h.0).collect(),
        TpmHt::TRANSIENT => tpm.objects.handles(),
        // TPM_HT_LOADED_SESSION (0x02) and TPM_HT_SAVED_SESSION (0x03).
        TpmHt::HMAC_SESSION => tpm.sessions.loaded_handles(),
        TpmHt::POLICY_SESSION => {
            // Saved HMAC sessions keep their 0x02 handles: compare the offsets.
            let from = property & 0x00FF_FFFF;
            return Ok(tpm
                .sessions
                .saved_handles()
                .into_iter()
                .filter(|h| h & 0x00FF_FFFF >= from)
                .collect());
        }
        TpmHt::PERSISTENT => {
            let mut v: Vec<u32> = tpm.perm.persistent.iter().map(|p| p.handle).collect();
            v.sort_unstable();
            v
        }
        TpmHt::NV_INDEX => tpm.perm.nv.handles(),
        _ => return Err(TpmRc::HANDLE.at_param(2)), // property
    };
    Ok(all.into_iter().filter(|h| *h >= property).collect())
}

/// TPM_PT_NV_COUNTERS_AVAIL: counter indices (8 data bytes each) that still fit
/// in the index count and NV space.
fn nv_counters_avail(tpm: &Tpm) -> u32 {
    let slots = nv::MAX_NV_INDICES.saturating_sub(tpm.perm.nv.indices.len());
    let bytes = nv::MAX_NV_TOTAL_SIZE.saturating_sub(tpm.perm.nv.used_bytes()) / 8;
    count_u32(slots.min(bytes))
}

/// TPMA_CC of a command table row.
pub fn command_attributes(e: &CommandEntry) -> TpmaCc {
    TpmaCc::new(
        e.cc,
        e.nv,
        EXTENSIVE_COMMANDS.contains(&e.cc),
        FLUSHED_COMMANDS.contains(&e.cc),
        u8::try_from(e.handles.len()).unwrap_or(u8::MAX),
        e.response_handle,
    )
}

/// TPML_PCR_SELECTION of every implemented bank: all PCRs selected in allocated
/// banks, none in the others. All or nothing: the list cannot be paged (property
/// must be 0), so a count of zero gives an empty list with moreData YES.
fn pcr_allocation(tpm: &Tpm, count: u32) -> (bool, Vec<u8>) {
    let mut w = Writer::new();
    if count == 0 {
        w.u32(0);
        return (true, w.into_vec());
    }
    w.u32(u32::try_from(HashAlg::ALL.len()).unwrap_or(0));
    for alg in HashAlg::ALL {
        let fill = if tpm.perm.pcr_allocation.contains(&alg) {
            0xFF
        } else {
            0x00
        };
        let sel = TpmsPcrSelection {
            hash: alg,
            select: alloc::vec![fill; usize::from(PCR_SELECT_MIN)],
        };
        sel.marshal(&mut w);
    }
    (false, w.into_vec())
}

/// The PCR_SELECT_MAX-octet bitmap of the PCRs that have property `tag`.
fn pcr_property(tag: TpmPtPcr) -> [u8; PCR_SELECT_MAX as usize] {
    let mut map = [0u8; PCR_SELECT_MAX as usize];
    for i in 0..IMPLEMENTATION_PCR {
        let has = match tag {
            TpmPtPcr::SAVE => attributes(i).state_save,
            TpmPtPcr::EXTEND_L0 => extend_allowed(i, 0),
            TpmPtPcr::RESET_L0 => reset_allowed(i, 0),
            TpmPtPcr::EXTEND_L1 => extend_allowed(i, 1),
            TpmPtPcr::RESET_L1 => reset_allowed(i, 1),
            TpmPtPcr::EXTEND_L2 => extend_allowed(i, 2),
            TpmPtPcr::RESET_L2 => reset_allowed(i, 2),
            TpmPtPcr::EXTEND_L3 => extend_allowed(i, 3),
            TpmPtPcr::RESET_L3 => reset_allowed(i, 3),
            TpmPtPcr::EXTEND_L4 => extend_allowed(i, 4),
            TpmPtPcr::RESET_L4 => reset_allowed(i, 4),
            TpmPtPcr::NO_INCREMENT => attributes(i).no_increment,
            // Reset by the D-RTM event: the PCRs locality 4 resets.
            TpmPtPcr::DRTM_RESET => attributes(i).reset_locality & 0x10 != 0,
            TpmPtPcr::AUTH => crate::state::pcr::in_auth_group(i),
            TpmPtPcr::POLICY => crate::state::pcr::in_policy_group(i),
            _ => false,
        };
        if has {
            if let Some(b) = map.get_mut(usize::from(i / 8)) {
                *b |= 1 << (i % 8);
            }
        }
    }
    map
}

/// The permanent handles that carry an authorization policy, with it.
fn auth_policies(tpm: &Tpm) -> [(TpmRh, &AuthPolicy); 4] {
    [
        (TpmRh::OWNER, &tpm.perm.owner_policy),
        (TpmRh::LOCKOUT, &tpm.perm.lockout_policy),
        (TpmRh::ENDORSEMENT, &tpm.perm.endorsement_policy),
        (TpmRh::PLATFORM, &tpm.clear.platform_policy),
    ]
}

/// The engine version as TPM_PT_FIRMWARE_VERSION_1 (major << 16 | minor) and _2
/// (patch << 16).
pub fn firmware_version() -> (u32, u32) {
    let mut parts = identity::VERSION.split('.').map(|p| {
        let digits = p.split(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
        digits.parse::<u32>().unwrap_or(0) & 0xFFFF
    });
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major.wrapping_shl(16) | minor, patch.wrapping_shl(16))
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Every TPM property (fixed group, then variable group), ascending.
pub(crate) fn tpm_properties(tpm: &Tpm) -> Vec<(TpmPt, u32)> {
    let (fw1, fw2) = firmware_version();
    let vendor_3 = match tpm.isolation() {
        Isolation::Process => identity::ISOLATION_PROCESS,
        Isolation::Vm => identity::ISOLATION_VM,
    };
    let perm = &tpm.perm;
    let permanent = TpmaPermanent::EMPTY
        .with_if(TpmaPermanent::OWNER_AUTH_SET, !perm.owner_auth.is_empty())
        .with_if(
            TpmaPermanent::ENDORSEMENT_AUTH_SET,
            !perm.endorsement_auth.is_empty(),
        )
        .with_if(
            TpmaPermanent::LOCKOUT_AUTH_SET,
            !perm.lockout_auth.is_empty(),
        )
        .with_if(TpmaPermanent::DISABLE_CLEAR, perm.disable_clear)
        .with_if(TpmaPermanent::IN_LOCKOUT, tpm.in_lockout())
        // The EPS comes from the TPM's own DRBG at manufacture.
        .with(TpmaPermanent::TPM_GENERATED_EPS);
    // SPEC-DEVIATION: the engine does not record whether the last Startup followed
    // a Shutdown. A Restart or Resume always did; after a TPM Reset, Clock is safe
    // exactly when the Reset was orderly (until the next Shutdown or Clear).
    let orderly = tpm.reset.restart_count > 0 || perm.clock_safe;
    let startup_clear = TpmaStartupClear::EMPTY
        .with_if(TpmaStartupClear::PH_ENABLE, tpm.ph_enable)
        .with_if(TpmaStartupClear::SH_ENABLE, tpm.clear.sh_enable)
        .with_if(TpmaStartupClear::EH_ENABLE, tpm.clear.eh_enable)
        .with_if(TpmaStartupClear::PH_ENABLE_NV, tpm.clear.ph_enable_nv)
        .with_if(TpmaStartupClear::ORDERLY, orderly);
    let transient_max = count_u32(MAX_LOADED_OBJECTS);
    let loaded = count_u32(tpm.objects.len());
    let sessions_loaded = count_u32(tpm.sessions.len());
    let sessions_active = count_u32(tpm.sessions.active());
    let persistent = count_u32(tpm.perm.persistent.len());
    let commands = count_u32(COMMANDS.len());

    alloc::vec![
        (TpmPt::FAMILY_INDICATOR, TPM_SPEC_FAMILY),
        (TpmPt::LEVEL, TPM_SPEC_LEVEL),
        (TpmPt::REVISION, TPM_SPEC_VERSION),
        (TpmPt::DAY_OF_YEAR, TPM_SPEC_DAY_OF_YEAR),
        (TpmPt::YEAR, TPM_SPEC_YEAR),
        (
            TpmPt::MANUFACTURER,
            u32::from_be_bytes(identity::MANUFACTURER)
        ),
        (
            TpmPt::VENDOR_STRING_1,
            u32::from_be_bytes(identity::VENDOR_STRING_1)
        ),
        (
            TpmPt::VENDOR_STRING_2,
            u32::from_be_bytes(identity::VENDOR_STRING_2)
        ),
        (TpmPt::VENDOR_STRING_3, u32::from_be_bytes(vendor_3)),
        (
            TpmPt::VENDOR_STRING_4,
            u32::from_be_bytes(identity::VENDOR_STRING_4)
        ),
        (TpmPt::VENDOR_TPM_TYPE, VENDOR_TPM_TYPE),
        (TpmPt::FIRMWARE_VERSION_1, fw1),
        (TpmPt::FIRMWARE_VERSION_2, fw2),
        (TpmPt::INPUT_BUFFER, count_u32(MAX_BUFFER)),
        (TpmPt::HR_TRANSIENT_MIN, transient_max),
        (
            TpmPt::HR_PERSISTENT_MIN,
            count_u32(crate::objects::MAX_PERSISTENT_OBJECTS)
        ),
        (
            TpmPt::HR_LOADED_MIN,
            count_u32(session::MAX_LOADED_SESSIONS)
        ),
        (TpmPt::ACTIVE_SESSIONS_MAX, session::MAX_ACTIVE_SESSIONS),
        (TpmPt::PCR_COUNT, u32::from(IMPLEMENTATION_PCR)),
        (TpmPt::PCR_SELECT_MIN, u32::from(PCR_SELECT_MIN)),
        (TpmPt::CONTEXT_GAP_MAX, planned::CONTEXT_GAP_MAX),
        // Counters are limited only by the index count and NV space.
        (TpmPt::NV_COUNTERS_MAX, 0),
        (TpmPt::NV_INDEX_MAX, count_u32(nv::MAX_NV_INDEX_SIZE)),
        // Persistent objects have their own slots (HR_PERSISTENT_MIN) apart from
        // the NV index space, so sharedNV is CLEAR.
        (TpmPt::MEMORY, TpmaMemory::OBJECT_COPIED_TO_RAM.0),
        (
            TpmPt::CLOCK_UPDATE,
            u32::try_from(CLOCK_UPDATE_MS).unwrap_or(u32::MAX)
        ),
        (TpmPt::CONTEXT_HASH, u32::from(planned::CONTEXT_HASH.0)),
        (TpmPt::CONTEXT_SYM, u32::from(planned::CONTEXT_SYM.0)),
        (TpmPt::CONTEXT_SYM_SIZE, planned::CONTEXT_SYM_SIZE),
        (TpmPt::ORDERLY_COUNT, planned::MAX_ORDERLY_COUNT),
        (TpmPt::MAX_COMMAND_SIZE, count_u32(MAX_COMMAND_SIZE)),
        (TpmPt::MAX_RESPONSE_SIZE, count_u32(MAX_COMMAND_SIZE)),
        (TpmPt::MAX_DIGEST, count_u32(MAX_DIGEST_SIZE)),
        (TpmPt::MAX_OBJECT_CONTEXT, planned::MAX_OBJECT_CONTEXT),
        (TpmPt::MAX_SESSION_CONTEXT, planned::MAX_SESSION_CONTEXT),
        (TpmPt::PS_FAMILY_INDICATOR, TPM_PS_PC),
        (TpmPt::PS_LEVEL, PLATFORM_LEVEL),
        (TpmPt::PS_REVISION, PLATFORM_REVISION),
        (TpmPt::PS_DAY_OF_YEAR, PLATFORM_DAY_OF_YEAR),
        (TpmPt::PS_YEAR, PLATFORM_YEAR),
        // No ECC, so no split (Commit) operations.
        (TpmPt::SPLIT_MAX, 0),
        (TpmPt::TOTAL_COMMANDS, commands),
        (TpmPt::LIBRARY_COMMANDS, commands),
        (TpmPt::VENDOR_COMMANDS, 0),
        (TpmPt::NV_BUFFER_MAX, count_u32(MAX_NV_BUFFER_SIZE)),
        (TpmPt::MODES, 0),
        (TpmPt::MAX_CAP_BUFFER, count_u32(MAX_CAP_BUFFER)),
        (TpmPt::PERMANENT, permanent.0),
        (TpmPt::STARTUP_CLEAR, startup_clear.0),
        (TpmPt::HR_NV_INDEX, count_u32(perm.nv.indices.len())),
        (TpmPt::HR_LOADED, sessions_loaded),
        (
            TpmPt::HR_LOADED_AVAIL,
            count_u32(session::MAX_LOADED_SESSIONS).saturating_sub(sessions_loaded)
        ),
        (TpmPt::HR_ACTIVE, sessions_active),
        (
            TpmPt::HR_ACTIVE_AVAIL,
            session::MAX_ACTIVE_SESSIONS.saturating_sub(sessions_active)
        ),
        (
            TpmPt::HR_TRANSIENT_AVAIL,
            transient_max.saturating_sub(loaded)
        ),
        (TpmPt::HR_PERSISTENT, persistent),
        (
            TpmPt::HR_PERSISTENT_AVAIL,
            count_u32(crate::objects::MAX_PERSISTENT_OBJECTS).saturating_sub(persistent)
        ),
        (TpmPt::NV_COUNTERS, count_u32(perm.nv.counters())),
        (TpmPt::NV_COUNTERS_AVAIL, nv_counters_avail(tpm)),
        (TpmPt::ALGORITHM_SET, 0),
        (TpmPt::LOADED_CURVES, count_u32(IMPLEMENTED.curves.len())),
        (TpmPt::LOCKOUT_COUNTER, perm.da.failed_tries),
        (TpmPt::MAX_AUTH_FAIL, perm.da.max_tries),
        (TpmPt::LOCKOUT_INTERVAL, perm.da.recovery_time),
        (TpmPt::LOCKOUT_RECOVERY, perm.da.lockout_recovery),
        // NV writes are not rate-limited.
        (TpmPt::NV_WRITE_RECOVERY, 0),
        // Command audit is not implemented: the audit counter never moves.
        (
            TpmPt::AUDIT_COUNTER_0,
            u32::try_from(tpm.perm.command_audit.counter >> 32).unwrap_or(0)
        ),
        (
            TpmPt::AUDIT_COUNTER_1,
            u32::try_from(tpm.perm.command_audit.counter & 0xFFFF_FFFF).unwrap_or(0)
        ),
    ]
}

#[cfg(test)]
mod nv_limit_tests;
#[cfg(test)]
mod tests;
