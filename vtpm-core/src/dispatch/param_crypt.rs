//! Session-based parameter encryption (Part 1, clause 21).
//!
//! A session with `decrypt` set carries the command's first parameter encrypted;
//! one with `encrypt` set gets the response's first parameter encrypted. Only a
//! parameter that is a sized buffer (a TPM2B) qualifies, and only its data octets
//! are transformed, never the size field. The key material is
//! `sessionValue = sessionKey || authValue`, where authValue belongs to the entity
//! the session authorizes (empty when the session authorizes nothing or the
//! authValue may not be used for that role):
//!
//! * XOR (21.2): `data ^ KDFa(authHash, sessionValue, "XOR", nonceNewer, nonceOlder, 8 * len)`.
//! * AES-CFB (21.3): `KDFa(authHash, sessionValue, "CFB", nonceNewer, nonceOlder,
//!   keyBits + 128)` gives the key followed by the IV.
//!
//! For a command nonceNewer is nonceCaller and nonceOlder nonceTPM; for the
//! response it is the other way round, with the nonceTPM the response carries.
//! cpHash and rpHash cover the encrypted form, so this runs after command
//! authorization and before the response HMACs.

use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::crypto::kdf::{kdfa, xor_obfuscate};
use crate::crypto::sym::{aes_decrypt, aes_encrypt, SymMode};
use crate::dispatch::auth::{SESSION_DECRYPT, SESSION_ENCRYPT};
use crate::dispatch::{AuthCommand, AuthRole};
use crate::rc::{TpmRc, TpmResult};
use crate::session::SessionSymmetric;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TPM_RS_PW};

/// Commands whose first parameter is a sized buffer (TPMA_CC-independent
/// property of Part 3's command tables; the reference implementation's
/// DECRYPT_2 attribute).
const DECRYPT_FIRST_PARAM: &[TpmCc] = &[
    TpmCc::STIR_RANDOM,
    TpmCc::PCR_EVENT,
    TpmCc::PCR_SET_AUTH_POLICY,
    TpmCc::PCR_SET_AUTH_VALUE,
    TpmCc::HASH,
    TpmCc::HASH_SEQUENCE_START,
    TpmCc::SEQUENCE_UPDATE,
    TpmCc::SEQUENCE_COMPLETE,
    TpmCc::EVENT_SEQUENCE_COMPLETE,
    TpmCc::HMAC,
    TpmCc::HMAC_START,
    TpmCc::CREATE,
    TpmCc::LOAD,
    TpmCc::CREATE_PRIMARY,
    TpmCc::CREATE_LOADED,
    TpmCc::LOAD_EXTERNAL,
    TpmCc::ACTIVATE_CREDENTIAL,
    TpmCc::MAKE_CREDENTIAL,
    TpmCc::OBJECT_CHANGE_AUTH,
    TpmCc::DUPLICATE,
    TpmCc::REWRAP,
    TpmCc::IMPORT,
    TpmCc::RSA_ENCRYPT,
    TpmCc::RSA_DECRYPT,
    TpmCc::ECDH_ZGEN,
    TpmCc::ENCRYPT_DECRYPT2,
    TpmCc::START_AUTH_SESSION,
    TpmCc::POLICY_SIGNED,
    TpmCc::POLICY_SECRET,
    TpmCc::POLICY_TICKET,
    TpmCc::POLICY_PCR,
    TpmCc::POLICY_NV,
    TpmCc::POLICY_COUNTER_TIMER,
    TpmCc::POLICY_CP_HASH,
    TpmCc::POLICY_NAME_HASH,
    TpmCc::POLICY_DUPLICATION_SELECT,
    TpmCc::POLICY_AUTHORIZE,
    TpmCc::POLICY_TEMPLATE,
    TpmCc::NV_DEFINE_SPACE,
    TpmCc::NV_WRITE,
    TpmCc::NV_EXTEND,
    TpmCc::NV_CHANGE_AUTH,
    TpmCc::NV_CERTIFY,
    TpmCc::QUOTE,
    TpmCc::CERTIFY,
    TpmCc::CERTIFY_CREATION,
    TpmCc::GET_TIME,
    TpmCc::GET_SESSION_AUDIT_DIGEST,
    TpmCc::GET_COMMAND_AUDIT_DIGEST,
    TpmCc::HIERARCHY_CHANGE_AUTH,
    TpmCc::SET_PRIMARY_POLICY,
    TpmCc::SIGN,
    TpmCc::VERIFY_SIGNATURE,
];

/// Commands whose first response parameter is a sized buffer (ENCRYPT_2).
const ENCRYPT_FIRST_PARAM: &[TpmCc] = &[
    TpmCc::GET_RANDOM,
    TpmCc::HASH,
    TpmCc::SEQUENCE_COMPLETE,
    TpmCc::HMAC,
    TpmCc::CREATE,
    TpmCc::LOAD,
    TpmCc::CREATE_PRIMARY,
    TpmCc::CREATE_LOADED,
    TpmCc::LOAD_EXTERNAL,
    TpmCc::READ_PUBLIC,
    TpmCc::ACTIVATE_CREDENTIAL,
    TpmCc::MAKE_CREDENTIAL,
    TpmCc::UNSEAL,
    TpmCc::OBJECT_CHANGE_AUTH,
    TpmCc::DUPLICATE,
    TpmCc::REWRAP,
    TpmCc::IMPORT,
    TpmCc::RSA_ENCRYPT,
    TpmCc::RSA_DECRYPT,
    TpmCc::ECDH_KEYGEN,
    TpmCc::ECDH_ZGEN,
    TpmCc::ENCRYPT_DECRYPT,
    TpmCc::ENCRYPT_DECRYPT2,
    TpmCc::GET_TEST_RESULT,
    TpmCc::START_AUTH_SESSION,
    TpmCc::POLICY_SIGNED,
    TpmCc::POLICY_SECRET,
    TpmCc::POLICY_GET_DIGEST,
    TpmCc::NV_READ,
    TpmCc::NV_READ_PUBLIC,
    TpmCc::NV_CERTIFY,
    TpmCc::QUOTE,
    TpmCc::CERTIFY,
    TpmCc::CERTIFY_CREATION,
    TpmCc::GET_TIME,
    TpmCc::GET_SESSION_AUDIT_DIGEST,
    TpmCc::GET_COMMAND_AUDIT_DIGEST,
];

/// Which sessions of a command encrypt parameters (indices into the session list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CryptSessions {
    /// The session with `decrypt` set: the command's first parameter is encrypted.
    pub decrypt: Option<usize>,
    /// The session with `encrypt` set: the response's first parameter gets encrypted.
    pub encrypt: Option<usize>,
}

/// Finds the decrypt and encrypt sessions and checks they may be used:
/// `TPM_RC_ATTRIBUTES` (at the session) when two sessions set the same attribute
/// or the command has no sized first parameter in that direction,
/// `TPM_RC_SYMMETRIC` when the session was started without a symmetric algorithm.
pub fn select(tpm: &Tpm, cc: TpmCc, sessions: &[AuthCommand]) -> TpmResult<CryptSessions> {
    let mut found = CryptSessions::default();
    for (i, s) in sessions.iter().enumerate() {
        let n = crate::dispatch::position(i);
        for (bit, slot, allowed) in [
            (SESSION_DECRYPT, &mut found.decrypt, DECRYPT_FIRST_PARAM),
            (SESSION_ENCRYPT, &mut found.encrypt, ENCRYPT_FIRST_PARAM),
        ] {
            if s.attributes & bit == 0 {
                continue;
            }
            if slot.is_some() || !allowed.contains(&cc) || s.handle == TPM_RS_PW {
                return Err(TpmRc::ATTRIBUTES.at_session(n));
            }
            let symmetric = tpm
                .sessions
                .get(s.handle)
                .map_or(SessionSymmetric::Null, |x| x.symmetric);
            if symmetric == SessionSymmetric::Null {
                return Err(TpmRc::SYMMETRIC.at_session(n));
            }
            *slot = Some(i);
        }
    }
    Ok(found)
}

/// sessionKey || authValue of the entity session `i` authorizes (when its
/// authValue may be used for that role).
fn session_value(
    tpm: &Tpm,
    i: usize,
    session_key: &[u8],
    auth_handles: &[(u32, AuthRole)],
) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(session_key.to_vec());
    if let Some((handle, role)) = auth_handles.get(i) {
        if tpm.auth_value_allowed(*handle, *role) {
            if let Some(auth) = tpm.entity_auth(*handle) {
                key.extend_from_slice(auth);
            }
        }
    }
    key
}

/// Direction of a transformation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Undo the caller's encryption of a command parameter.
    Decrypt,
    /// Encrypt a response parameter.
    Encrypt,
}

/// Transforms the data octets of the sized buffer at the start of `params` in
/// place. `TPM_RC_SIZE` when the size field claims more than is there.
fn transform(
    tpm: &Tpm,
    session_index: usize,
    sessions: &[AuthCommand],
    auth_handles: &[(u32, AuthRole)],
    params: &mut [u8],
    direction: Direction,
) -> TpmResult<()> {
    let n = crate::dispatch::position(session_index);
    let s = sessions.get(session_index).ok_or(TpmRc::FAILURE)?;
    let session = tpm.sessions.get(s.handle).ok_or(TpmRc::FAILURE)?;
    let size = match params {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => return Err(TpmRc::SIZE.at_session(n)),
    };
    let Some(data) = params.get_mut(2..).and_then(|d| d.get_mut(..size)) else {
        return Err(TpmRc::SIZE.at_session(n));
    };
    if data.is_empty() {
        return Ok(());
    }
    let key = session_value(tpm, session_index, &session.session_key, auth_handles);
    let (newer, older) = match direction {
        Direction::Decrypt => (s.nonce.as_slice(), session.nonce_tpm.as_slice()),
        Direction::Encrypt => (session.nonce_tpm.as_slice(), s.nonce.as_slice()),
    };
    let hash = session.auth_hash;
    let out = match session.symmetric {
        SessionSymmetric::Null => return Err(TpmRc::SYMMETRIC.at_session(n)),
        SessionSymmetric::Xor(_) => Zeroizing::new(xor_obfuscate(hash, &key, newer, older, data)),
        SessionSymmetric::AesCfb(bits) => {
            // Key bits plus one AES block of IV.
            let total = u32::from(bits).saturating_add(128);
            let material = Zeroizing::new(kdfa(hash, &key, b"CFB", newer, older, total));
            let key_len = usize::from(bits / 8);
            let (sym_key, iv) = material.split_at(key_len.min(material.len()));
            let (out, _) = match direction {
                Direction::Decrypt => aes_decrypt(sym_key, SymMode::Cfb, iv, data)?,
                Direction::Encrypt => aes_encrypt(sym_key, SymMode::Cfb, iv, data)?,
            };
            Zeroizing::new(out)
        }
    };
    if out.len() != data.len() {
        return Err(TpmRc::FAILURE);
    }
    data.copy_from_slice(&out);
    Ok(())
}

/// Decrypts the command's first parameter in place (after authorization, which
/// covers the encrypted form). `TPM_RC_SIZE` at the session when the parameter's
/// size field runs past the parameter area.
pub fn decrypt_command(
    tpm: &Tpm,
    session_index: usize,
    sessions: &[AuthCommand],
    auth_handles: &[(u32, AuthRole)],
    params: &mut [u8],
) -> TpmResult<()> {
    transform(
        tpm,
        session_index,
        sessions,
        auth_handles,
        params,
        Direction::Decrypt,
    )
}

/// Encrypts the response's first parameter in place, with the nonceTPM the
/// response will carry (already stored in the session).
pub fn encrypt_response(
    tpm: &Tpm,
    session_index: usize,
    sessions: &[AuthCommand],
    auth_handles: &[(u32, AuthRole)],
    params: &mut [u8],
) -> TpmResult<()> {
    transform(
        tpm,
        session_index,
        sessions,
        auth_handles,
        params,
        Direction::Encrypt,
    )
}

#[cfg(test)]
mod tests;
