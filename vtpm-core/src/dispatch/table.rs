//! The command table: for every implemented command its code, its handle area
//! (handle types and authorization roles), whether it may change NV, and its handler
//! (Part 3, each command's "Command" table; the reference implementation's
//! CommandAttributeData).

use crate::commands;
use crate::dispatch::{Ctx, Params};
use crate::rc::TpmResult;
use crate::types::constants::{TpmCc, TpmRh};

/// The authorization role a handle needs (Part 1, clause 19.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRole {
    /// No authorization for this handle.
    None,
    /// USER role.
    User,
    /// ADMIN role.
    Admin,
    /// DUP role.
    Dup,
}

/// What values a handle in the handle area may take (its TPMI_ type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    /// A permanent handle from the given set (TPMI_RH_*).
    Permanent(&'static [TpmRh]),
    /// TPMI_DH_PCR; `true` also allows TPM_RH_NULL.
    Pcr(bool),
    /// TPMI_DH_OBJECT: a loaded transient or persistent object.
    Object,
    /// TPMI_DH_OBJECT as TPM2_EvictControl takes it: a persistent object of the
    /// endorsement hierarchy is reachable while ehEnable is CLEAR.
    EvictObject,
    /// TPMI_DH_PARENT+: a hierarchy (TPM_RH_OWNER, _ENDORSEMENT, _PLATFORM, _NULL)
    /// or a loaded object.
    Parent,
    /// TPMI_DH_CONTEXT: a loaded transient object or session.
    Context,
    /// TPMI_DH_OBJECT+: a loaded object or TPM_RH_NULL.
    ObjectOrNull,
    /// TPMI_DH_ENTITY+: anything with an authValue (hierarchy, PCR, object, NV
    /// index) or TPM_RH_NULL.
    Entity,
    /// TPMI_SH_POLICY: a loaded policy (or trial) session.
    PolicySession,
    /// TPMI_RH_NV_INDEX: a defined NV index whose hierarchy is enabled.
    NvIndex,
    /// TPMI_RH_NV_AUTH: TPM_RH_OWNER, TPM_RH_PLATFORM or an NV index.
    NvAuth,
}

/// One handle in a command's handle area.
#[derive(Clone, Copy, Debug)]
pub struct HandleSpec {
    /// Allowed values.
    pub kind: HandleKind,
    /// Authorization role (`AuthRole::None` for handles without `@`).
    pub auth: AuthRole,
}

/// A command handler: reads its parameters from `Params`, writes its response
/// handles and parameters into `Ctx`.
pub type Handler = fn(&mut Ctx<'_>, &mut Params<'_>) -> TpmResult<()>;

/// One row of the command table.
#[derive(Clone, Copy)]
pub struct CommandEntry {
    /// TPM_CC.
    pub cc: TpmCc,
    /// The handle area.
    pub handles: &'static [HandleSpec],
    /// The command may write NV (TPMA_CC.nv).
    pub nv: bool,
    /// The command changes TPM state, so a pending orderly-shutdown save is stale.
    pub changes_state: bool,
    /// TPMA_CC.rHandle: the response carries one handle.
    pub response_handle: bool,
    /// The command is allowed while the TPM is in failure mode.
    pub in_failure_mode: bool,
    /// The handler.
    pub handler: Handler,
}

const fn h(kind: HandleKind, auth: AuthRole) -> HandleSpec {
    HandleSpec { kind, auth }
}

use AuthRole::{Admin, Dup, None as NoAuth, User};
use HandleKind::{
    Context, Entity, EvictObject, NvAuth, NvIndex, Object, ObjectOrNull, Parent, Pcr, Permanent,
    PolicySession,
};

/// TPMI_RH_HIERARCHY
pub const RH_HIERARCHY: &[TpmRh] = &[TpmRh::OWNER, TpmRh::ENDORSEMENT, TpmRh::PLATFORM];
/// TPMI_RH_HIERARCHY_AUTH
pub const RH_HIERARCHY_AUTH: &[TpmRh] = &[
    TpmRh::OWNER,
    TpmRh::ENDORSEMENT,
    TpmRh::PLATFORM,
    TpmRh::LOCKOUT,
];
/// TPMI_RH_HIERARCHY+ (TPM_RH_NULL allowed)
pub const RH_HIERARCHY_NULL: &[TpmRh] = &[
    TpmRh::OWNER,
    TpmRh::ENDORSEMENT,
    TpmRh::PLATFORM,
    TpmRh::NULL,
];
/// TPMI_RH_PLATFORM
pub const RH_PLATFORM: &[TpmRh] = &[TpmRh::PLATFORM];
/// TPMI_RH_PROVISION
pub const RH_PROVISION: &[TpmRh] = &[TpmRh::OWNER, TpmRh::PLATFORM];
/// TPMI_RH_CLEAR
pub const RH_CLEAR: &[TpmRh] = &[TpmRh::LOCKOUT, TpmRh::PLATFORM];
/// TPMI_RH_ENDORSEMENT
pub const RH_ENDORSEMENT: &[TpmRh] = &[TpmRh::ENDORSEMENT];
/// TPMI_RH_LOCKOUT
pub const RH_LOCKOUT: &[TpmRh] = &[TpmRh::LOCKOUT];

struct Row {
    cc: TpmCc,
    handles: &'static [HandleSpec],
    nv: bool,
    changes_state: bool,
    response_handle: bool,
    handler: Handler,
}

const fn row(cc: TpmCc, handles: &'static [HandleSpec], handler: Handler) -> Row {
    Row {
        cc,
        handles,
        nv: false,
        changes_state: true,
        response_handle: false,
        handler,
    }
}

impl Row {
    const fn nv(mut self) -> Row {
        self.nv = true;
        self
    }
    const fn read_only(mut self) -> Row {
        self.changes_state = false;
        self
    }
    const fn rhandle(mut self) -> Row {
        self.response_handle = true;
        self
    }
    const fn entry(self) -> CommandEntry {
        let in_failure_mode =
            self.cc.0 == TpmCc::GET_TEST_RESULT.0 || self.cc.0 == TpmCc::GET_CAPABILITY.0;
        CommandEntry {
            cc: self.cc,
            handles: self.handles,
            nv: self.nv,
            changes_state: self.changes_state,
            response_handle: self.response_handle,
            in_failure_mode,
            handler: self.handler,
        }
    }
}

use commands::{
    asymmetric, attestation, audit, auth_policy, capability, clock, context, credential,
    duplication, hash, hierarchy, hmac, nv, nv_certify, object, pcr, policy, policy_assert,
    primary, random, session, signature, startup, symmetric, testing,
};

/// Every implemented command, sorted by command code.
pub static COMMANDS: &[CommandEntry] = &[
    row(
        TpmCc::NV_UNDEFINE_SPACE_SPECIAL,
        &[h(NvIndex, Admin), h(Permanent(RH_PLATFORM), User)],
        nv::undefine_space_special,
    )
    .nv()
    .entry(),
    row(
        TpmCc::EVICT_CONTROL,
        &[h(Permanent(RH_PROVISION), User), h(EvictObject, NoAuth)],
        context::evict_control,
    )
    .nv()
    .entry(),
    row(
        TpmCc::HIERARCHY_CONTROL,
        &[h(Permanent(RH_HIERARCHY), User)],
        hierarchy::hierarchy_control,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_UNDEFINE_SPACE,
        &[h(Permanent(RH_PROVISION), User), h(NvIndex, NoAuth)],
        nv::undefine_space,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CHANGE_EPS,
        &[h(Permanent(RH_PLATFORM), User)],
        hierarchy::change_eps,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CHANGE_PPS,
        &[h(Permanent(RH_PLATFORM), User)],
        hierarchy::change_pps,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CLEAR,
        &[h(Permanent(RH_CLEAR), User)],
        hierarchy::clear,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CLEAR_CONTROL,
        &[h(Permanent(RH_CLEAR), User)],
        hierarchy::clear_control,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CLOCK_SET,
        &[h(Permanent(RH_PROVISION), User)],
        clock::clock_set,
    )
    .nv()
    .entry(),
    row(
        TpmCc::HIERARCHY_CHANGE_AUTH,
        &[h(Permanent(RH_HIERARCHY_AUTH), User)],
        hierarchy::hierarchy_change_auth,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_DEFINE_SPACE,
        &[h(Permanent(RH_PROVISION), User)],
        nv::define_space,
    )
    .nv()
    .entry(),
    row(
        TpmCc::PCR_ALLOCATE,
        &[h(Permanent(RH_PLATFORM), User)],
        pcr::allocate,
    )
    .nv()
    .entry(),
    row(
        TpmCc::PCR_SET_AUTH_POLICY,
        &[h(Permanent(RH_PLATFORM), User)],
        auth_policy::pcr_set_auth_policy,
    )
    .nv()
    .entry(),
    row(
        TpmCc::SET_PRIMARY_POLICY,
        &[h(Permanent(RH_HIERARCHY_AUTH), User)],
        auth_policy::set_primary_policy,
    )
    .nv()
    .entry(),
    row(
        TpmCc::CLOCK_RATE_ADJUST,
        &[h(Permanent(RH_PROVISION), User)],
        clock::clock_rate_adjust,
    )
    .entry(),
    row(
        TpmCc::CREATE_PRIMARY,
        &[h(Permanent(RH_HIERARCHY_NULL), User)],
        primary::create_primary,
    )
    .rhandle()
    .read_only()
    .entry(),
    row(
        TpmCc::NV_GLOBAL_WRITE_LOCK,
        &[h(Permanent(RH_PROVISION), User)],
        nv::global_write_lock,
    )
    .entry(),
    row(
        TpmCc::GET_COMMAND_AUDIT_DIGEST,
        &[h(Permanent(RH_ENDORSEMENT), User), h(ObjectOrNull, User)],
        attestation::get_command_audit_digest,
    )
    .entry(),
    row(
        TpmCc::NV_INCREMENT,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::increment,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_SET_BITS,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::set_bits,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_EXTEND,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::extend,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_WRITE,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::write,
    )
    .nv()
    .entry(),
    row(
        TpmCc::NV_WRITE_LOCK,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::write_lock,
    )
    .nv()
    .entry(),
    row(
        TpmCc::DICTIONARY_ATTACK_LOCK_RESET,
        &[h(Permanent(RH_LOCKOUT), User)],
        hierarchy::dictionary_attack_lock_reset,
    )
    .nv()
    .entry(),
    row(
        TpmCc::DICTIONARY_ATTACK_PARAMETERS,
        &[h(Permanent(RH_LOCKOUT), User)],
        hierarchy::dictionary_attack_parameters,
    )
    .nv()
    .entry(),
    row(TpmCc::NV_CHANGE_AUTH, &[h(NvIndex, Admin)], nv::change_auth)
        .nv()
        .entry(),
    row(TpmCc::PCR_EVENT, &[h(Pcr(true), User)], pcr::event).entry(),
    row(TpmCc::PCR_RESET, &[h(Pcr(false), User)], pcr::reset).entry(),
    row(
        TpmCc::SEQUENCE_COMPLETE,
        &[h(Object, User)],
        hash::sequence_complete,
    )
    .entry(),
    row(
        TpmCc::SET_COMMAND_CODE_AUDIT_STATUS,
        &[h(Permanent(RH_PROVISION), User)],
        audit::set_command_code_audit_status,
    )
    .nv()
    .entry(),
    row(
        TpmCc::INCREMENTAL_SELF_TEST,
        &[],
        testing::incremental_self_test,
    )
    .read_only()
    .entry(),
    row(TpmCc::SELF_TEST, &[], testing::self_test)
        .read_only()
        .entry(),
    row(TpmCc::STARTUP, &[], startup::startup).nv().entry(),
    row(TpmCc::SHUTDOWN, &[], startup::shutdown).nv().entry(),
    row(TpmCc::STIR_RANDOM, &[], random::stir_random).entry(),
    row(
        TpmCc::ACTIVATE_CREDENTIAL,
        &[h(Object, Admin), h(Object, User)],
        credential::activate_credential,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::CERTIFY,
        &[h(Object, Admin), h(ObjectOrNull, User)],
        attestation::certify,
    )
    .entry(),
    row(
        TpmCc::POLICY_NV,
        &[
            h(NvAuth, User),
            h(NvIndex, NoAuth),
            h(PolicySession, NoAuth),
        ],
        policy_assert::policy_nv,
    )
    .entry(),
    row(
        TpmCc::CERTIFY_CREATION,
        &[h(ObjectOrNull, User), h(Object, NoAuth)],
        attestation::certify_creation,
    )
    .entry(),
    row(
        TpmCc::DUPLICATE,
        &[h(Object, Dup), h(ObjectOrNull, NoAuth)],
        duplication::duplicate,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::GET_TIME,
        &[h(Permanent(RH_ENDORSEMENT), User), h(ObjectOrNull, User)],
        attestation::get_time,
    )
    .entry(),
    row(
        TpmCc::GET_SESSION_AUDIT_DIGEST,
        &[
            h(Permanent(RH_ENDORSEMENT), User),
            h(ObjectOrNull, User),
            h(Context, NoAuth),
        ],
        attestation::get_session_audit_digest,
    )
    .entry(),
    row(
        TpmCc::NV_READ,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::read,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::NV_READ_LOCK,
        &[h(NvAuth, User), h(NvIndex, NoAuth)],
        nv::read_lock,
    )
    .nv()
    .entry(),
    row(
        TpmCc::OBJECT_CHANGE_AUTH,
        &[h(Object, Admin), h(Object, NoAuth)],
        object::object_change_auth,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::POLICY_SECRET,
        &[h(Entity, User), h(PolicySession, NoAuth)],
        policy::policy_secret,
    )
    .entry(),
    row(
        TpmCc::REWRAP,
        &[h(ObjectOrNull, User), h(ObjectOrNull, NoAuth)],
        duplication::rewrap,
    )
    .read_only()
    .entry(),
    row(TpmCc::CREATE, &[h(Object, User)], object::create)
        .read_only()
        .entry(),
    row(TpmCc::ECDH_ZGEN, &[h(Object, User)], asymmetric::ecdh_zgen)
        .read_only()
        .entry(),
    row(TpmCc::HMAC, &[h(Object, User)], hmac::hmac_command)
        .read_only()
        .entry(),
    row(TpmCc::IMPORT, &[h(Object, User)], duplication::import)
        .read_only()
        .entry(),
    row(TpmCc::LOAD, &[h(Object, User)], object::load)
        .rhandle()
        .read_only()
        .entry(),
    row(TpmCc::QUOTE, &[h(Object, User)], attestation::quote).entry(),
    row(
        TpmCc::RSA_DECRYPT,
        &[h(Object, User)],
        asymmetric::rsa_decrypt,
    )
    .read_only()
    .entry(),
    row(TpmCc::HMAC_START, &[h(Object, User)], hmac::hmac_start)
        .rhandle()
        .read_only()
        .entry(),
    row(
        TpmCc::SEQUENCE_UPDATE,
        &[h(Object, User)],
        hash::sequence_update,
    )
    .entry(),
    // flushHandle is a parameter (TPMI_DH_CONTEXT); transient objects are not part
    // of an orderly-shutdown save, so flushing one leaves it valid.
    row(TpmCc::SIGN, &[h(Object, User)], signature::sign)
        .read_only()
        .entry(),
    // flushHandle is a parameter (TPMI_DH_CONTEXT); transient objects are not part
    // of an orderly-shutdown save, so flushing one leaves it valid.
    row(TpmCc::UNSEAL, &[h(Object, User)], object::unseal)
        .read_only()
        .entry(),
    row(
        TpmCc::POLICY_SIGNED,
        &[h(Object, NoAuth), h(PolicySession, NoAuth)],
        policy_assert::policy_signed,
    )
    .entry(),
    row(TpmCc::CONTEXT_LOAD, &[], context::context_load)
        .rhandle()
        .read_only()
        .entry(),
    row(
        TpmCc::CONTEXT_SAVE,
        &[h(Context, NoAuth)],
        context::context_save,
    )
    .entry(),
    row(
        TpmCc::ECDH_KEYGEN,
        &[h(Object, NoAuth)],
        asymmetric::ecdh_keygen,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::ENCRYPT_DECRYPT,
        &[h(Object, User)],
        symmetric::encrypt_decrypt,
    )
    .read_only()
    .entry(),
    row(TpmCc::FLUSH_CONTEXT, &[], context::flush_context)
        .read_only()
        .entry(),
    row(TpmCc::LOAD_EXTERNAL, &[], object::load_external)
        .rhandle()
        .read_only()
        .entry(),
    row(
        TpmCc::MAKE_CREDENTIAL,
        &[h(Object, NoAuth)],
        credential::make_credential,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::NV_READ_PUBLIC,
        &[h(NvIndex, NoAuth)],
        nv::read_public,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::POLICY_AUTHORIZE,
        &[h(PolicySession, NoAuth)],
        policy::policy_authorize,
    )
    .entry(),
    row(
        TpmCc::POLICY_AUTH_VALUE,
        &[h(PolicySession, NoAuth)],
        policy::policy_auth_value,
    )
    .entry(),
    row(
        TpmCc::POLICY_COMMAND_CODE,
        &[h(PolicySession, NoAuth)],
        policy::policy_command_code,
    )
    .entry(),
    row(
        TpmCc::POLICY_COUNTER_TIMER,
        &[h(PolicySession, NoAuth)],
        policy_assert::policy_counter_timer,
    )
    .entry(),
    row(
        TpmCc::POLICY_CP_HASH,
        &[h(PolicySession, NoAuth)],
        policy::policy_cp_hash,
    )
    .entry(),
    row(
        TpmCc::POLICY_LOCALITY,
        &[h(PolicySession, NoAuth)],
        policy::policy_locality,
    )
    .entry(),
    row(
        TpmCc::POLICY_NAME_HASH,
        &[h(PolicySession, NoAuth)],
        policy::policy_name_hash,
    )
    .entry(),
    row(
        TpmCc::POLICY_OR,
        &[h(PolicySession, NoAuth)],
        policy::policy_or,
    )
    .entry(),
    row(
        TpmCc::POLICY_TICKET,
        &[h(PolicySession, NoAuth)],
        policy_assert::policy_ticket,
    )
    .entry(),
    row(
        TpmCc::READ_PUBLIC,
        &[h(Object, NoAuth)],
        object::read_public,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::RSA_ENCRYPT,
        &[h(Object, NoAuth)],
        asymmetric::rsa_encrypt,
    )
    .read_only()
    .entry(),
    row(
        TpmCc::START_AUTH_SESSION,
        &[h(ObjectOrNull, NoAuth), h(Entity, NoAuth)],
        session::start_auth_session,
    )
    .rhandle()
    .read_only()
    .entry(),
    row(
        TpmCc::VERIFY_SIGNATURE,
        &[h(Object, NoAuth)],
        signature::verify_signature,
    )
    .read_only()
    .entry(),
    row(TpmCc::ECC_PARAMETERS, &[], asymmetric::ecc_parameters)
        .read_only()
        .entry(),
    row(TpmCc::GET_CAPABILITY, &[], capability::get_capability)
        .read_only()
        .entry(),
    row(TpmCc::GET_RANDOM, &[], random::get_random)
        .read_only()
        .entry(),
    row(TpmCc::GET_TEST_RESULT, &[], testing::get_test_result)
        .read_only()
        .entry(),
    row(TpmCc::HASH, &[], hash::hash).read_only().entry(),
    row(TpmCc::PCR_READ, &[], pcr::read).read_only().entry(),
    row(
        TpmCc::POLICY_PCR,
        &[h(PolicySession, NoAuth)],
        policy::policy_pcr,
    )
    .entry(),
    row(
        TpmCc::POLICY_RESTART,
        &[h(PolicySession, NoAuth)],
        policy::policy_restart,
    )
    .entry(),
    row(TpmCc::READ_CLOCK, &[], clock::read_clock)
        .read_only()
        .entry(),
    row(TpmCc::PCR_EXTEND, &[h(Pcr(true), User)], pcr::extend).entry(),
    row(
        TpmCc::PCR_SET_AUTH_VALUE,
        &[h(Pcr(false), User)],
        auth_policy::pcr_set_auth_value,
    )
    .entry(),
    row(
        TpmCc::NV_CERTIFY,
        &[h(ObjectOrNull, User), h(NvAuth, User), h(NvIndex, NoAuth)],
        nv_certify::nv_certify,
    )
    .entry(),
    row(
        TpmCc::EVENT_SEQUENCE_COMPLETE,
        &[h(Pcr(true), User), h(Object, User)],
        hash::event_sequence_complete,
    )
    .entry(),
    row(TpmCc::HASH_SEQUENCE_START, &[], hash::hash_sequence_start)
        .rhandle()
        .entry(),
    row(
        TpmCc::POLICY_PHYSICAL_PRESENCE,
        &[h(PolicySession, NoAuth)],
        policy::policy_physical_presence,
    )
    .entry(),
    row(
        TpmCc::POLICY_DUPLICATION_SELECT,
        &[h(PolicySession, NoAuth)],
        policy::policy_duplication_select,
    )
    .entry(),
    row(
        TpmCc::POLICY_GET_DIGEST,
        &[h(PolicySession, NoAuth)],
        policy::policy_get_digest,
    )
    .entry(),
    row(TpmCc::TEST_PARMS, &[], testing::test_parms)
        .read_only()
        .entry(),
    row(
        TpmCc::POLICY_PASSWORD,
        &[h(PolicySession, NoAuth)],
        policy::policy_password,
    )
    .entry(),
    row(
        TpmCc::POLICY_NV_WRITTEN,
        &[h(PolicySession, NoAuth)],
        policy::policy_nv_written,
    )
    .entry(),
    row(
        TpmCc::POLICY_TEMPLATE,
        &[h(PolicySession, NoAuth)],
        policy_assert::policy_template,
    )
    .entry(),
    row(
        TpmCc::CREATE_LOADED,
        &[h(Parent, User)],
        object::create_loaded,
    )
    .rhandle()
    .read_only()
    .entry(),
    row(
        TpmCc::POLICY_AUTHORIZE_NV,
        &[
            h(NvAuth, User),
            h(NvIndex, NoAuth),
            h(PolicySession, NoAuth),
        ],
        policy_assert::policy_authorize_nv,
    )
    .entry(),
    row(
        TpmCc::ENCRYPT_DECRYPT2,
        &[h(Object, User)],
        symmetric::encrypt_decrypt2,
    )
    .read_only()
    .entry(),
];

/// The table row for `cc`, if implemented.
pub fn lookup(cc: TpmCc) -> Option<&'static CommandEntry> {
    COMMANDS
        .binary_search_by_key(&cc.0, |e| e.cc.0)
        .ok()
        .and_then(|i| COMMANDS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in COMMANDS.windows(2) {
            assert!(
                w[0].cc.0 < w[1].cc.0,
                "{:#x} before {:#x}",
                w[0].cc.0,
                w[1].cc.0
            );
        }
    }
}
