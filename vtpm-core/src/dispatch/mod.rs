//! The ExecuteCommand pipeline (Part 3, clause 5 "Command Processing"):
//! header -> command lookup -> handle area -> authorization area -> parameters ->
//! handler -> response. Positions of format-one errors are added here and only here.

pub mod audit;
pub mod auth;
pub mod param_crypt;
pub mod table;

use alloc::vec::Vec;

use crate::marshal::{Reader, Unmarshal, Writer};
use crate::platform::Platform;
use crate::rc::{TpmRc, TpmResult, TPM_RC_BAD_TAG};
use crate::tpm::{Power, Tpm};
use crate::types::constants::{TpmCc, TpmSt};

pub use table::{AuthRole, CommandEntry, HandleKind, HandleSpec};

/// Size of a command or response header (tag, size, code).
pub const HEADER_SIZE: usize = 10;

/// Largest command or response this TPM accepts (TPM_PT_MAX_COMMAND_SIZE).
pub const MAX_COMMAND_SIZE: usize = 4096;

/// Most authorization sessions in one command.
pub const MAX_SESSIONS: usize = 3;

/// What a handler works with: the engine, the platform, the command's locality and
/// handles, and the response being built.
pub struct Ctx<'a> {
    /// The engine state.
    pub tpm: &'a mut Tpm,
    /// Entropy and time.
    pub platform: &'a mut dyn Platform,
    /// Locality the command arrived at (0-4).
    pub locality: u8,
    /// The command's handles, validated against the table's handle kinds.
    pub handles: Vec<u32>,
    /// Response handles.
    pub out_handles: Vec<u32>,
    /// Response parameters.
    pub out: Writer,
    /// The handler changed permanent state (it must be durable before the response).
    pub nv_dirty: bool,
    /// For each handle of the handle area (same positions as `handles`): true when
    /// a policy session authorized it, false when a password or HMAC session did
    /// or the handle needs no authorization.
    pub policy_auth: Vec<bool>,
}

impl Ctx<'_> {
    /// Handle `i` (0-based) of the handle area. The dispatcher has checked the count,
    /// so a missing handle cannot happen; TPM_RH_NULL is returned defensively.
    pub fn handle(&self, i: usize) -> u32 {
        self.handles
            .get(i)
            .copied()
            .unwrap_or(crate::types::constants::TpmRh::NULL.0)
    }
}

/// The parameter area, read in Part 3 order; an unmarshal error is tagged with the
/// number of the parameter that caused it.
pub struct Params<'a> {
    r: Reader<'a>,
    n: u8,
}

impl<'a> Params<'a> {
    /// Parameters over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Params {
            r: Reader::new(buf),
            n: 0,
        }
    }

    /// The next parameter.
    pub fn param<T: Unmarshal>(&mut self) -> TpmResult<T> {
        self.n = self.n.saturating_add(1);
        T::unmarshal(&mut self.r).map_err(|e| e.at_param(self.n))
    }

    /// The next parameter, read by `f` (for types whose parsing needs context,
    /// such as the algorithm table).
    pub fn param_with<T>(
        &mut self,
        f: impl FnOnce(&mut Reader<'a>) -> TpmResult<T>,
    ) -> TpmResult<T> {
        self.n = self.n.saturating_add(1);
        f(&mut self.r).map_err(|e| e.at_param(self.n))
    }

    /// Ends parameter parsing: `TPM_RC_SIZE` if bytes are left over. Handlers call
    /// this before changing any state.
    pub fn end(&self) -> TpmResult<()> {
        self.r.finish()
    }
}

/// One parsed authorization session (TPMS_AUTH_COMMAND, Part 2, 10.13.2).
#[derive(Debug)]
pub struct AuthCommand {
    /// sessionHandle
    pub handle: u32,
    /// nonceCaller
    pub nonce: crate::types::Tpm2bNonce,
    /// sessionAttributes (TPMA_SESSION)
    pub attributes: u8,
    /// hmac (the password for TPM_RS_PW)
    pub hmac: crate::types::Tpm2bAuth,
}

/// TPMA_SESSION.continueSession
pub const SESSION_CONTINUE: u8 = 0x01;

/// The result of executing one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response bytes (always a well-formed TPM response).
    pub bytes: Vec<u8>,
    /// Permanent state changed: persist it before delivering `bytes`.
    pub nv_changed: bool,
}

impl Response {
    /// The response code in the header.
    pub fn rc(&self) -> u32 {
        self.bytes
            .get(6..10)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0)
    }
}

/// A header-only error response.
pub fn error_response(rc: TpmRc) -> Vec<u8> {
    let tag = if rc.value() == TPM_RC_BAD_TAG {
        TpmSt::RSP_COMMAND
    } else {
        TpmSt::NO_SESSIONS
    };
    let mut w = Writer::new();
    w.u16(tag.0);
    w.u32(10);
    w.u32(rc.value());
    w.into_vec()
}

struct Header {
    tag: TpmSt,
    cc: TpmCc,
}

fn parse_header(r: &mut Reader<'_>, len: usize) -> TpmResult<Header> {
    let tag = TpmSt(r.u16().map_err(|_| bad_tag())?);
    if tag != TpmSt::NO_SESSIONS && tag != TpmSt::SESSIONS {
        return Err(bad_tag());
    }
    let size = r.u32().map_err(|_| TpmRc::COMMAND_SIZE)?;
    if usize::try_from(size).ok() != Some(len) || !(HEADER_SIZE..=MAX_COMMAND_SIZE).contains(&len) {
        return Err(TpmRc::COMMAND_SIZE);
    }
    let cc = TpmCc(r.u32().map_err(|_| TpmRc::COMMAND_SIZE)?);
    Ok(Header { tag, cc })
}

fn bad_tag() -> TpmRc {
    TpmRc::from_u32(TPM_RC_BAD_TAG).unwrap_or(TpmRc::FAILURE)
}

/// Executes one command. Never panics; every outcome is a TPM response.
pub fn execute(
    tpm: &mut Tpm,
    platform: &mut dyn Platform,
    locality: u8,
    command: &[u8],
) -> Response {
    let mut nv_changed = false;
    let result = execute_inner(tpm, platform, locality, command, &mut nv_changed);
    let bytes = match result {
        Ok(b) => b,
        Err(rc) => error_response(rc),
    };
    // Clock must be made durable from time to time even when nothing else changes.
    if tpm.clock_needs_save(platform) {
        nv_changed = true;
    }
    if nv_changed {
        tpm.sync_clock(platform);
    }
    Response { bytes, nv_changed }
}

fn execute_inner(
    tpm: &mut Tpm,
    platform: &mut dyn Platform,
    locality: u8,
    command: &[u8],
    nv_changed: &mut bool,
) -> TpmResult<Vec<u8>> {
    let mut r = Reader::new(command);
    let header = parse_header(&mut r, command.len())?;
    let entry = table::lookup(header.cc);

    if tpm.power == Power::Off {
        // A powered-off TPM does not answer; the transport reports this, but a
        // response is still owed to anything that reaches us.
        return Err(TpmRc::FAILURE);
    }
    if tpm.failure.is_some() && !entry.is_some_and(|e| e.in_failure_mode) {
        return Err(TpmRc::FAILURE);
    }
    let started = tpm.power == Power::Running;
    if !started && header.cc != TpmCc::STARTUP {
        return Err(TpmRc::INITIALIZE);
    }
    if started && header.cc == TpmCc::STARTUP {
        return Err(TpmRc::INITIALIZE);
    }
    let entry = entry.ok_or(TpmRc::COMMAND_CODE)?;
    if locality > 4 {
        return Err(TpmRc::LOCALITY);
    }

    // Handle area.
    let mut handles = Vec::with_capacity(entry.handles.len());
    for (i, spec) in entry.handles.iter().enumerate() {
        let n = crate::dispatch::position(i);
        let handle = r.u32().map_err(|e| e.at_handle(n))?;
        tpm.check_handle(handle, spec.kind)
            .map_err(|e| position_handle(e, n))?;
        handles.push(handle);
    }

    // Authorization area.
    let mut sessions = if header.tag == TpmSt::SESSIONS {
        let size = r.u32().map_err(|_| TpmRc::AUTHSIZE)?;
        let size = usize::try_from(size).map_err(|_| TpmRc::AUTHSIZE)?;
        if size < 9 || size > r.remaining() {
            return Err(TpmRc::AUTHSIZE);
        }
        let mut ar = r.sub(size)?;
        let mut sessions = Vec::new();
        while !ar.is_empty() {
            if sessions.len() >= MAX_SESSIONS {
                return Err(TpmRc::AUTHSIZE);
            }
            let n = u8::try_from(sessions.len().saturating_add(1)).unwrap_or(u8::MAX);
            let s = auth::parse_session(&mut ar).map_err(|e| e.at_session(n))?;
            sessions.push(s);
        }
        sessions
    } else {
        Vec::new()
    };
    let auth_handles: Vec<(u32, AuthRole)> = entry
        .handles
        .iter()
        .zip(handles.iter())
        .filter(|(s, _)| s.auth != AuthRole::None)
        .map(|(s, h)| (*h, s.auth))
        .collect();
    if sessions.len() < auth_handles.len() {
        return Err(TpmRc::AUTH_MISSING);
    }
    let param_bytes = r.rest();
    let crypt = param_crypt::select(tpm, header.cc, &sessions)?;
    let audit_plan = audit::plan(tpm, header.cc, &sessions)?;
    auth::authorize(
        tpm,
        platform,
        &auth::CommandAuth {
            cc: header.cc,
            handles: &handles,
            auth_handles: &auth_handles,
            params: param_bytes,
            locality,
        },
        &sessions,
        nv_changed,
    )?;

    // Parameters and the command itself.
    let mut plain_params = zeroize::Zeroizing::new(param_bytes.to_vec());
    if let Some(i) = crypt.decrypt {
        param_crypt::decrypt_command(tpm, i, &sessions, &auth_handles, &mut plain_params)?;
    }
    let mut params = Params::new(&plain_params);
    let handles_copy = handles.clone();
    let policy_auth = auth::policy_authorized(entry.handles, &sessions);
    let mut ctx = Ctx {
        tpm,
        platform,
        locality,
        handles,
        out_handles: Vec::new(),
        out: Writer::new(),
        nv_dirty: false,
        policy_auth,
    };
    let result = (entry.handler)(&mut ctx, &mut params).and_then(|()| params.end());
    let Ctx {
        tpm,
        platform,
        out_handles,
        out,
        nv_dirty,
        ..
    } = ctx;
    if nv_dirty {
        *nv_changed = true;
    }
    result?;
    if entry.changes_state && entry.cc != TpmCc::SHUTDOWN && tpm.invalidate_orderly() {
        *nv_changed = true;
    }

    // Response.
    let now = tpm.time(platform);
    auth::roll_nonces(tpm, &sessions, now);
    let mut out = zeroize::Zeroizing::new(out.into_vec());
    if let Some(i) = crypt.encrypt {
        param_crypt::encrypt_response(tpm, i, &sessions, &auth_handles, &mut out)?;
    }
    let command_auth = auth::CommandAuth {
        cc: header.cc,
        locality,
        handles: &handles_copy,
        auth_handles: &auth_handles,
        params: param_bytes,
    };
    if audit::record(tpm, audit_plan, &command_auth, &mut sessions, &out) {
        *nv_changed = true;
    }
    let mut w = Writer::new();
    w.u16(header.tag.0);
    w.u32(0); // size, patched below
    w.u32(0);
    for h in &out_handles {
        w.u32(*h);
    }
    if header.tag == TpmSt::SESSIONS {
        w.u32(u32::try_from(out.len()).unwrap_or(0));
        w.bytes(&out);
        auth::write_session_responses(tpm, &mut w, header.cc, &auth_handles, &sessions, &out);
    } else {
        w.bytes(&out);
    }
    let mut bytes = w.into_vec();
    let size = u32::try_from(bytes.len()).map_err(|_| TpmRc::FAILURE)?;
    if let Some(b) = bytes.get_mut(2..6) {
        b.copy_from_slice(&size.to_be_bytes());
    }
    Ok(bytes)
}

/// The 1-based position of the `i`th (0-based) handle, session or parameter, as
/// response codes number them.
pub(crate) fn position(i: usize) -> u8 {
    u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX)
}

/// Adds the handle position to an error from handle validation: format-one codes
/// get `+H+n`, the REFERENCE_H0 warning becomes REFERENCE_Hn.
fn position_handle(e: TpmRc, n: u8) -> TpmRc {
    if e == TpmRc::REFERENCE_H0 {
        TpmRc::reference_handle(n.saturating_sub(1))
    } else {
        e.at_handle(n)
    }
}

#[cfg(test)]
mod tests;
