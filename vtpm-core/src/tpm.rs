//! The engine: [`Tpm`] holds all state and answers commands.

use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::commands::context::SavedObject;
use crate::crypto::drbg::Drbg;
use crate::crypto::hash::HashAlg;
use crate::dispatch::{self, HandleKind, Response};
use crate::platform::Platform;
use crate::rc::{TpmRc, TpmResult};
use crate::session::{SavedRecord, SessionTable};
use crate::state::objects::{Object, ObjectTable};
use crate::state::{ClearState, OrderlySave, PcrBanks, PermanentState, ResetState, Secret};
use crate::types::constants::{TpmHt, TpmRh, IMPLEMENTATION_PCR};

/// Version of the serialized state layout. Bumped whenever it changes; older
/// layouts are migrated or refused, never misread.
pub const STATE_FORMAT: u16 = 3;

/// Version of the volatile state layout ([`Tpm::volatile_state`]), kept apart
/// from [`STATE_FORMAT`] so that the permanent state does not change with it.
/// Version 3 (shared with the permanent layout) carried no loaded objects or
/// sessions; it is refused.
pub const VOLATILE_FORMAT: u16 = 4;

/// Interval (ms) after which Clock is made durable even without other NV writes
/// (TPM_PT_CLOCK_UPDATE).
pub const CLOCK_UPDATE_MS: u64 = 1 << 16;

/// Size of seeds and proofs.
pub const SEED_SIZE: usize = 64;

/// Where the engine runs; reported to verifiers (R4) in the vendor strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Isolation {
    /// In a host process (weaker isolation).
    Process,
    /// In a dedicated stub VM.
    Vm,
}

/// Power and startup state (Part 1, clause 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Power {
    /// No power: nothing is answered.
    Off,
    /// After _TPM_Init: only Startup is accepted.
    NeedsStartup,
    /// After Startup.
    Running,
}

/// Why a saved state could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// The bytes do not decode as engine state.
    Malformed,
    /// The state was written by an unknown layout version.
    UnsupportedFormat(u16),
    /// The volatile state was written by an unknown layout version.
    UnsupportedVolatileFormat(u16),
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::Malformed => f.write_str("state does not decode (truncated or corrupt)"),
            StateError::UnsupportedFormat(v) => write!(
                f,
                "state layout version {v} is not supported (this engine reads {STATE_FORMAT})"
            ),
            StateError::UnsupportedVolatileFormat(v) => write!(
                f,
                "volatile state layout version {v} is not supported (this engine reads \
                 {VOLATILE_FORMAT})"
            ),
        }
    }
}

/// Why the TPM entered failure mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureInfo {
    /// Internal location code.
    pub code: u32,
}

/// The running state that a live migration or STORE_VOLATILE carries. Holds
/// secrets (the NULL seed and proof, loaded sensitive areas, session keys).
#[derive(Serialize, Deserialize)]
struct VolatileSnapshot {
    power: Power,
    clear: ClearState,
    reset: ResetState,
    pcrs: PcrBanks,
    ph_enable: bool,
    time_ms: u64,
    self_tested: bool,
    /// The loaded transient objects and sequences, each with its handle, in
    /// the saved-context form.
    objects: Vec<(u32, SavedObject)>,
    /// The loaded sessions and the record of saved ones.
    sessions: SessionTable,
    /// The exclusive audit session.
    exclusive_audit: Option<u32>,
}

/// A TPM 2.0.
pub struct Tpm {
    pub(crate) perm: PermanentState,
    pub(crate) clear: ClearState,
    pub(crate) reset: ResetState,
    pub(crate) pcrs: PcrBanks,
    pub(crate) objects: ObjectTable,
    pub(crate) sessions: SessionTable,
    pub(crate) drbg: Drbg,
    pub(crate) power: Power,
    /// phEnable: set at every Startup.
    pub(crate) ph_enable: bool,
    /// Platform time (ms) that Time counts from.
    pub(crate) time_origin_ms: u64,
    /// Platform time (ms) at which `perm.clock` was last synchronized.
    pub(crate) clock_sync_ms: u64,
    pub(crate) failure: Option<FailureInfo>,
    pub(crate) self_tested: bool,
    pub(crate) physical_presence: bool,
    pub(crate) isolation: Isolation,
    /// The exclusive audit session (Part 1, clause 19, audit sessions): the
    /// session that has audited every command since it last started or reset
    /// its audit.
    pub(crate) exclusive_audit: Option<u32>,
    /// The open _TPM_Hash_Start sequence.
    pub(crate) drtm: Option<crate::events::DrtmSequence>,
    /// PCR 0 after an H-CRTM since _TPM_Init, applied by the next Startup.
    pub(crate) hcrtm: Option<crate::events::HcrtmPcr0>,
    /// A value drawn anew at every _TPM_Init (the reference implementation's
    /// g_timeEpoch): Time restarts from zero then, so a ticket whose timeout is a
    /// Time value binds it, and becomes void after the next power cycle.
    pub(crate) time_epoch: u64,
}

impl core::fmt::Debug for Tpm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tpm")
            .field("power", &self.power)
            .field("reset_count", &self.perm.reset_count)
            .finish_non_exhaustive()
    }
}

/// `value` serialized into a buffer allocated once at its exact size, so that no
/// reallocation leaves copies of the secrets it holds in freed memory (empty if
/// it does not serialize).
fn to_exact_vec<T: Serialize>(value: &T) -> Vec<u8> {
    let Ok(size) = postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default())
    else {
        return Vec::new();
    };
    let mut out = Zeroizing::new(vec![0u8; size]);
    match postcard::to_slice(value, &mut out).map(|used| used.len()) {
        Ok(len) if len == size => core::mem::take(&mut *out),
        _ => Vec::new(),
    }
}

pub(crate) fn new_secret(drbg: &mut Drbg) -> Secret {
    let mut s = vec![0u8; SEED_SIZE];
    drbg.generate(&mut s);
    Secret(s)
}

impl Tpm {
    fn with_permanent(perm: PermanentState, drbg: Drbg) -> Tpm {
        let mut drbg = drbg;
        let reset = ResetState {
            null_seed: new_secret(&mut drbg),
            null_proof: new_secret(&mut drbg),
            restart_count: 0,
            object_context_id: 0,
            command_audit_digest: Vec::new(),
        };
        let pcrs = PcrBanks::new(&perm.pcr_allocation);
        Tpm {
            perm,
            clear: ClearState::default(),
            reset,
            pcrs,
            objects: ObjectTable::default(),
            sessions: SessionTable::default(),
            drbg,
            power: Power::Off,
            ph_enable: true,
            time_origin_ms: 0,
            clock_sync_ms: 0,
            failure: None,
            self_tested: false,
            physical_presence: false,
            isolation: Isolation::Process,
            exclusive_audit: None,
            drtm: None,
            hcrtm: None,
            time_epoch: 0,
        }
    }

    /// A newly manufactured TPM: fresh seeds and proofs from platform entropy, empty
    /// authorizations, SHA-1 and SHA-256 PCR banks allocated. Powered off.
    pub fn manufacture(platform: &mut dyn Platform) -> Tpm {
        let mut seed = [0u8; 64];
        platform.entropy(&mut seed);
        let mut drbg = Drbg::new(&seed);
        seed.iter_mut().for_each(|b| *b = 0);
        let perm = PermanentState {
            eps: new_secret(&mut drbg),
            sps: new_secret(&mut drbg),
            pps: new_secret(&mut drbg),
            eh_proof: new_secret(&mut drbg),
            sh_proof: new_secret(&mut drbg),
            ph_proof: new_secret(&mut drbg),
            owner_auth: Default::default(),
            endorsement_auth: Default::default(),
            lockout_auth: Default::default(),
            owner_policy: Default::default(),
            endorsement_policy: Default::default(),
            lockout_policy: Default::default(),
            disable_clear: false,
            da: Default::default(),
            pcr_allocation: vec![HashAlg::Sha1, HashAlg::Sha256],
            pcr_allocation_pending: None,
            persistent: Vec::new(),
            command_audit: crate::state::CommandAudit::default(),
            nv: Default::default(),
            pcr_policy: Default::default(),
            clock: 0,
            reset_count: 0,
            total_reset_count: 0,
            orderly: None,
            clock_safe: true,
        };
        let mut tpm = Tpm::with_permanent(perm, drbg);
        // A new TPM starts as if orderly shut down: its Clock is safe.
        tpm.perm.orderly = Some(OrderlySave {
            state: false,
            reset: tpm.reset.clone(),
            clear: ClearState::default(),
            saved_pcrs: PcrBanks::default(),
        });
        tpm
    }

    /// Restores a TPM from its permanent state (as written by
    /// [`Tpm::permanent_state`]). Powered off; call [`Tpm::power_on`].
    pub fn from_permanent_state(bytes: &[u8]) -> Result<Tpm, StateError> {
        let ((format, perm), rest): ((u16, PermanentState), &[u8]) =
            postcard::take_from_bytes(bytes).map_err(|_| StateError::Malformed)?;
        if format != STATE_FORMAT {
            return Err(StateError::UnsupportedFormat(format));
        }
        let saved_sessions: SavedRecord = if rest.is_empty() {
            SavedRecord::default()
        } else {
            postcard::from_bytes(rest).map_err(|_| StateError::Malformed)?
        };
        let valid_secret = |s: &Secret| s.0.len() == SEED_SIZE;
        if ![
            &perm.eps,
            &perm.sps,
            &perm.pps,
            &perm.eh_proof,
            &perm.sh_proof,
            &perm.ph_proof,
        ]
        .into_iter()
        .all(valid_secret)
            || perm.pcr_allocation.is_empty()
        {
            return Err(StateError::Malformed);
        }
        // The DRBG is reseeded from platform entropy at power-on.
        let mut tpm = Tpm::with_permanent(perm, Drbg::new(&[]));
        if !tpm.sessions.restore_saved_record(saved_sessions) {
            return Err(StateError::Malformed);
        }
        Ok(tpm)
    }

    /// The permanent state, serialized. Contains secrets: it leaves the engine only
    /// to be sealed or written to protected storage. After Shutdown(STATE), the
    /// record of saved sessions follows it as an optional trailing part (read
    /// when present; an engine that does not know it ignores it), so that saved
    /// session contexts still load after a TPM Restart or TPM Resume in a new
    /// host process.
    pub fn permanent_state(&self) -> Vec<u8> {
        let mut out = postcard::to_allocvec(&(STATE_FORMAT, &self.perm)).unwrap_or_default();
        let record = self.sessions.saved_record();
        if !out.is_empty()
            && !record.is_empty()
            && self.perm.orderly.as_ref().is_some_and(|o| o.state)
        {
            match postcard::to_allocvec(&record) {
                Ok(tail) => out.extend_from_slice(&tail),
                Err(_) => return Vec::new(),
            }
        }
        out
    }

    /// The running (volatile) state, for live migration: PCRs, hierarchy enables,
    /// platform auth, the NULL seed, the loaded objects and sequences and the
    /// sessions (loaded and saved), each at its handle. Contains secrets, like
    /// the permanent state.
    pub fn volatile_state(&self, platform: &mut dyn Platform) -> Vec<u8> {
        let snap = VolatileSnapshot {
            power: self.power,
            clear: self.clear.clone(),
            reset: self.reset.clone(),
            pcrs: self.pcrs.clone(),
            ph_enable: self.ph_enable,
            time_ms: self.time(platform),
            self_tested: self.self_tested,
            objects: self
                .objects
                .iter()
                .map(|(h, o)| (h, SavedObject::of(o)))
                .collect(),
            sessions: self.sessions.clone(),
            exclusive_audit: self.exclusive_audit,
        };
        to_exact_vec(&(VOLATILE_FORMAT, &snap))
    }

    /// Replaces the running state with a snapshot from [`Tpm::volatile_state`]
    /// (made by a TPM with the same permanent state): loaded objects, sequences
    /// and sessions come back at their handles. A snapshot that does not decode,
    /// or does not describe a state this TPM could be in, is refused and nothing
    /// changes.
    pub fn load_volatile_state(
        &mut self,
        platform: &mut dyn Platform,
        bytes: &[u8],
    ) -> Result<(), StateError> {
        let format: u16 = postcard::from_bytes(bytes).map_err(|_| StateError::Malformed)?;
        if format != VOLATILE_FORMAT {
            return Err(StateError::UnsupportedVolatileFormat(format));
        }
        let (_, snap): (u16, VolatileSnapshot) =
            postcard::from_bytes(bytes).map_err(|_| StateError::Malformed)?;
        let valid_secret = |s: &Secret| s.0.len() == SEED_SIZE;
        if !valid_secret(&snap.reset.null_seed)
            || !valid_secret(&snap.reset.null_proof)
            || !snap.sessions.is_consistent()
        {
            return Err(StateError::Malformed);
        }
        let mut objects = ObjectTable::default();
        for (handle, saved) in snap.objects {
            let object = saved.into_object().ok_or(StateError::Malformed)?;
            objects
                .insert_at(handle, object)
                .map_err(|_| StateError::Malformed)?;
        }
        let exclusive_audit = snap.exclusive_audit.filter(|h| {
            snap.sessions.get(*h).is_some() || snap.sessions.saved_handles().contains(h)
        });
        let now = platform.monotonic_ms();
        self.power = snap.power;
        self.clear = snap.clear;
        self.reset = snap.reset;
        self.pcrs = snap.pcrs;
        self.ph_enable = snap.ph_enable;
        self.time_origin_ms = now.saturating_sub(snap.time_ms);
        self.self_tested = snap.self_tested;
        self.objects = objects;
        self.sessions = snap.sessions;
        self.exclusive_audit = exclusive_audit;
        Ok(())
    }

    /// _TPM_Init: the TPM gets power (or a platform reset). Volatile state is
    /// dropped; only Startup is accepted next.
    pub fn power_on(&mut self, platform: &mut dyn Platform) {
        let mut e = [0u8; 48];
        platform.entropy(&mut e);
        self.drbg.reseed(&e);
        // The time epoch comes from the same fresh entropy (hashed apart from the
        // reseed), so the DRBG output stream is not disturbed.
        let epoch = HashAlg::Sha256.digest_parts(&[b"time epoch", &e]);
        self.time_epoch = epoch
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        e.iter_mut().for_each(|b| *b = 0);
        let now = platform.monotonic_ms();
        self.time_origin_ms = now;
        self.clock_sync_ms = now;
        self.objects.clear();
        // Saved session contexts outlive power: the next Startup decides
        // whether they stay loadable (TPM Restart, TPM Resume) or end (TPM Reset).
        self.sessions.clear_loaded();
        self.drtm = None;
        self.hcrtm = None;
        self.failure = None;
        self.self_tested = false;
        self.power = Power::NeedsStartup;
        // Power-on self-test (Part 1, 12.3): a failure puts the TPM in failure mode.
        let outcome = crate::crypto::selftest::run_all();
        let _ = crate::commands::testing::record_self_test(self, outcome);
    }

    /// Power is removed. Volatile state is lost; permanent state is kept.
    pub fn power_off(&mut self) {
        self.power = Power::Off;
        self.objects.clear();
        self.sessions.clear_loaded();
    }

    /// Current power state.
    pub fn power(&self) -> Power {
        self.power
    }

    /// Asserts or deasserts physical presence (platform signal).
    pub fn set_physical_presence(&mut self, on: bool) {
        self.physical_presence = on;
    }

    /// Records the isolation backend, reported in the vendor strings.
    pub fn set_isolation(&mut self, isolation: Isolation) {
        self.isolation = isolation;
    }

    /// The isolation backend this engine reports.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Executes one command at `locality`. Any byte string gives a well-formed
    /// response; `nv_changed` says the permanent state must be made durable first.
    pub fn execute(
        &mut self,
        platform: &mut dyn Platform,
        locality: u8,
        command: &[u8],
    ) -> Response {
        dispatch::execute(self, platform, locality, command)
    }

    // ---- time -------------------------------------------------------------

    /// Milliseconds since _TPM_Init (TPMS_TIME_INFO.time).
    pub(crate) fn time(&self, platform: &mut dyn Platform) -> u64 {
        platform.monotonic_ms().saturating_sub(self.time_origin_ms)
    }

    /// The TPM's Clock (ms).
    pub(crate) fn clock(&self, platform: &mut dyn Platform) -> u64 {
        let elapsed = platform.monotonic_ms().saturating_sub(self.clock_sync_ms);
        self.perm.clock.saturating_add(elapsed)
    }

    /// Copies the running Clock into the permanent state.
    pub(crate) fn sync_clock(&mut self, platform: &mut dyn Platform) {
        let now = platform.monotonic_ms();
        let clock = self.clock(platform);
        self.perm.clock = clock;
        self.clock_sync_ms = now;
    }

    /// True when the durable Clock lags by CLOCK_UPDATE_MS or more.
    pub(crate) fn clock_needs_save(&self, platform: &mut dyn Platform) -> bool {
        self.power == Power::Running
            && platform.monotonic_ms().saturating_sub(self.clock_sync_ms) >= CLOCK_UPDATE_MS
    }

    /// Random bytes from the DRBG.
    pub(crate) fn random(&mut self, out: &mut [u8]) {
        self.drbg.generate(out);
    }

    // ---- orderly shutdown ---------------------------------------------------

    /// A state-changing command ran after Shutdown: the saved state no longer
    /// describes the TPM, so the next Startup must be a TPM Reset. Returns true
    /// when that changed permanent state.
    pub(crate) fn invalidate_orderly(&mut self) -> bool {
        self.perm.orderly.take().is_some()
    }

    // ---- handles and authorization -------------------------------------------

    /// Checks `handle` against the handle kind the command table names.
    pub(crate) fn check_handle(&self, handle: u32, kind: HandleKind) -> TpmResult<()> {
        match kind {
            HandleKind::Permanent(set) => {
                if !set.iter().any(|rh| rh.0 == handle) {
                    return Err(TpmRc::VALUE);
                }
                if !self.hierarchy_enabled(handle) {
                    return Err(TpmRc::HIERARCHY);
                }
                Ok(())
            }
            HandleKind::Pcr(null_ok) => {
                if handle < u32::from(IMPLEMENTATION_PCR) || (null_ok && handle == TpmRh::NULL.0) {
                    Ok(())
                } else {
                    Err(TpmRc::VALUE)
                }
            }
            HandleKind::Object => match TpmHt::of(handle) {
                TpmHt::TRANSIENT => {
                    if self.objects.get(handle).is_some() {
                        Ok(())
                    } else {
                        Err(TpmRc::REFERENCE_H0)
                    }
                }
                TpmHt::PERSISTENT => {
                    if self.persistent_usable(handle, false) {
                        Ok(())
                    } else {
                        Err(TpmRc::HANDLE)
                    }
                }
                _ => Err(TpmRc::VALUE),
            },
            HandleKind::EvictObject => {
                if TpmHt::of(handle) == TpmHt::PERSISTENT {
                    if self.persistent_usable(handle, true) {
                        Ok(())
                    } else {
                        Err(TpmRc::HANDLE)
                    }
                } else {
                    self.check_handle(handle, HandleKind::Object)
                }
            }
            HandleKind::Parent => match TpmHt::of(handle) {
                TpmHt::PERMANENT => self.check_handle(
                    handle,
                    HandleKind::Permanent(&[
                        TpmRh::OWNER,
                        TpmRh::ENDORSEMENT,
                        TpmRh::PLATFORM,
                        TpmRh::NULL,
                    ]),
                ),
                _ => self.check_handle(handle, HandleKind::Object),
            },
            HandleKind::Context => match TpmHt::of(handle) {
                TpmHt::TRANSIENT => self.check_handle(handle, HandleKind::Object),
                TpmHt::HMAC_SESSION | TpmHt::POLICY_SESSION => {
                    if self.sessions.get(handle).is_some() {
                        Ok(())
                    } else {
                        Err(TpmRc::REFERENCE_H0)
                    }
                }
                _ => Err(TpmRc::VALUE),
            },
            HandleKind::PolicySession => {
                if TpmHt::of(handle) != TpmHt::POLICY_SESSION {
                    Err(TpmRc::VALUE)
                } else if self.sessions.get(handle).is_some() {
                    Ok(())
                } else {
                    Err(TpmRc::REFERENCE_H0)
                }
            }
            HandleKind::ObjectOrNull => {
                if handle == TpmRh::NULL.0 {
                    Ok(())
                } else {
                    self.check_handle(handle, HandleKind::Object)
                }
            }
            HandleKind::Entity => match TpmHt::of(handle) {
                TpmHt::PERMANENT => {
                    let known = [
                        TpmRh::OWNER,
                        TpmRh::ENDORSEMENT,
                        TpmRh::PLATFORM,
                        TpmRh::LOCKOUT,
                        TpmRh::NULL,
                    ];
                    if !known.iter().any(|rh| rh.0 == handle) {
                        return Err(TpmRc::VALUE);
                    }
                    if !self.hierarchy_enabled(handle) {
                        return Err(TpmRc::HIERARCHY);
                    }
                    Ok(())
                }
                TpmHt::PCR => self.check_handle(handle, HandleKind::Pcr(false)),
                TpmHt::TRANSIENT | TpmHt::PERSISTENT => {
                    self.check_handle(handle, HandleKind::Object)
                }
                TpmHt::NV_INDEX => self.check_handle(handle, HandleKind::NvIndex),
                _ => Err(TpmRc::VALUE),
            },
            HandleKind::NvIndex => {
                if TpmHt::of(handle) != TpmHt::NV_INDEX {
                    Err(TpmRc::VALUE)
                } else if self.nv_accessible(handle) {
                    Ok(())
                } else {
                    Err(TpmRc::HANDLE)
                }
            }
            HandleKind::NvAuth => match TpmHt::of(handle) {
                TpmHt::PERMANENT => self.check_handle(
                    handle,
                    HandleKind::Permanent(&[TpmRh::OWNER, TpmRh::PLATFORM]),
                ),
                _ => self.check_handle(handle, HandleKind::NvIndex),
            },
        }
    }

    /// True unless `handle` names a disabled hierarchy.
    pub(crate) fn hierarchy_enabled(&self, handle: u32) -> bool {
        match TpmRh(handle) {
            TpmRh::OWNER => self.clear.sh_enable,
            TpmRh::ENDORSEMENT => self.clear.eh_enable,
            TpmRh::PLATFORM => self.ph_enable,
            TpmRh::PLATFORM_NV => self.ph_enable && self.clear.ph_enable_nv,
            _ => true,
        }
    }

    /// The authValue of an entity, if it has one.
    pub(crate) fn entity_auth(&self, handle: u32) -> Option<&[u8]> {
        match TpmRh(handle) {
            TpmRh::OWNER => return Some(self.perm.owner_auth.as_slice()),
            TpmRh::ENDORSEMENT => return Some(self.perm.endorsement_auth.as_slice()),
            TpmRh::LOCKOUT => return Some(self.perm.lockout_auth.as_slice()),
            TpmRh::PLATFORM => return Some(self.clear.platform_auth.as_slice()),
            // TPM_RH_NULL (e.g. a PCR handle that names no PCR) has an empty authValue.
            TpmRh::NULL => return Some(&[]),
            _ => {}
        }
        match TpmHt::of(handle) {
            // PCRs of the authorization group share its authValue
            // (TPM2_PCR_SetAuthValue); every other PCR's authValue is empty.
            TpmHt::PCR => Some(match u8::try_from(handle) {
                Ok(i) if crate::state::pcr::in_auth_group(i) => self.clear.pcr_auth.as_slice(),
                _ => &[],
            }),
            TpmHt::TRANSIENT => match self.objects.get(handle)? {
                Object::Sequence(s) => Some(s.auth.as_slice()),
                Object::Key(k) => Some(k.auth()),
            },
            TpmHt::PERSISTENT => self.key(handle).map(|k| k.auth()),
            TpmHt::NV_INDEX => self.nv_index(handle).map(|i| i.auth.as_slice()),
            _ => None,
        }
    }

    /// The Name of an entity (Part 1, clause 16): the handle itself for PCRs,
    /// permanent handles and sessions; nameAlg || H(public area) for objects and
    /// NV indices.
    pub(crate) fn entity_name(&self, handle: u32) -> Vec<u8> {
        if let Some(name) = self.object_name(handle) {
            return name;
        }
        if let Some(index) = self.nv_index(handle) {
            return index.name();
        }
        if TpmHt::of(handle) == TpmHt::TRANSIENT && self.objects.get(handle).is_some() {
            // A sequence object has no public area (its nameAlg is TPM_ALG_NULL):
            // its Name is the Empty Buffer, as in the reference implementation's
            // ObjectGetName and as TSSs compute cpHash.
            return Vec::new();
        }
        handle.to_be_bytes().to_vec()
    }

    /// The Name of a loaded or persistent object, if `handle` names one that has a
    /// public area (sequence objects have none: their Name is empty).
    pub(crate) fn object_name(&self, handle: u32) -> Option<Vec<u8>> {
        self.key(handle).map(|k| k.name())
    }

    /// Whether failed authorizations of `handle` count toward lockout (Part 1,
    /// 19.8.2): hierarchies other than lockout and PCRs are exempt; so are
    /// sequence objects and key objects with noDA SET.
    pub(crate) fn is_da_protected(&self, handle: u32) -> bool {
        if let Some(k) = self.key(handle) {
            return !k.public.object_attributes.no_da();
        }
        if let Some(i) = self.nv_index(handle) {
            return !i.attributes().has(crate::types::nv::TpmaNv::NO_DA);
        }
        !matches!(
            TpmHt::of(handle),
            TpmHt::PERMANENT | TpmHt::PCR | TpmHt::TRANSIENT
        )
    }

    /// True while DA-protected entities are locked out.
    pub(crate) fn in_lockout(&self) -> bool {
        self.perm.da.failed_tries >= self.perm.da.max_tries
    }

    /// Applies self-healing: one failure forgotten per recoveryTime seconds, and
    /// lockoutAuth usable again lockoutRecovery seconds after its failure.
    pub(crate) fn da_update(&mut self, platform: &mut dyn Platform) {
        let now = self.clock(platform);
        let da = &mut self.perm.da;
        if da.failed_tries > 0 && da.recovery_time != 0 {
            let step = u64::from(da.recovery_time).saturating_mul(1000);
            let elapsed = now.saturating_sub(da.self_heal_clock);
            let healed = elapsed.checked_div(step).unwrap_or(0);
            if healed > 0 {
                let healed32 = u32::try_from(healed).unwrap_or(u32::MAX);
                da.failed_tries = da.failed_tries.saturating_sub(healed32);
                da.self_heal_clock = da
                    .self_heal_clock
                    .saturating_add(healed.saturating_mul(step));
            }
        }
        if !da.lockout_auth_enabled && da.lockout_recovery != 0 {
            let step = u64::from(da.lockout_recovery).saturating_mul(1000);
            if now.saturating_sub(da.lockout_clock) >= step {
                da.lockout_auth_enabled = true;
            }
        }
    }

    /// Records that a DA-protected authorization is being checked; true when this
    /// is the first since Startup (the mark must be made durable, so that an
    /// unorderly shutdown from now on costs one failure at the next Startup).
    pub(crate) fn da_mark_used(&mut self) -> bool {
        let first = !self.perm.da.used_since_startup;
        self.perm.da.used_since_startup = true;
        first
    }

    /// Counts one authorization failure of a DA-protected entity.
    pub(crate) fn da_failure(&mut self, platform: &mut dyn Platform) {
        let now = self.clock(platform);
        let da = &mut self.perm.da;
        if da.recovery_time != 0 {
            if da.failed_tries == 0 {
                da.self_heal_clock = now;
            }
            da.failed_tries = da.failed_tries.saturating_add(1);
        }
    }

    /// A lockoutAuth failure: lockoutAuth is unusable for lockoutRecovery seconds
    /// (until the next TPM Reset when lockoutRecovery is 0).
    pub(crate) fn lockout_auth_failed(&mut self, platform: &mut dyn Platform) {
        let now = self.clock(platform);
        self.perm.da.lockout_auth_enabled = false;
        self.perm.da.lockout_clock = now;
    }
}
