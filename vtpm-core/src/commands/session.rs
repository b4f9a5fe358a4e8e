//! Part 3, clause 11: Session Commands — TPM2_StartAuthSession.

use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::crypto::hash::HashAlg;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Reader, Unmarshal};
use crate::objects::secret::{secret_decrypt, SECRET_LABEL};
use crate::rc::{TpmRc, TpmResult};
use crate::session::{new_nonce, Binding, Session, SessionSymmetric, SessionType};
use crate::types::constants::{TpmAlgId, TpmRh};
use crate::types::sized::Tpm2bNonce;

pub use crate::types::sized::Tpm2bEncryptedSecret;

/// TPM_SE — Part 2, Table 18.
impl Unmarshal for SessionType {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        match r.u8()? {
            0x00 => Ok(SessionType::Hmac),
            0x01 => Ok(SessionType::Policy),
            0x03 => Ok(SessionType::Trial),
            _ => Err(TpmRc::VALUE),
        }
    }
}

/// TPMT_SYM_DEF+ as StartAuthSession takes it — Part 2, 11.1.6: TPM_ALG_NULL, XOR
/// with a hash, or AES with a key size and CFB mode.
impl Unmarshal for SessionSymmetric {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        match TpmAlgId::unmarshal(r)? {
            TpmAlgId::NULL => Ok(SessionSymmetric::Null),
            TpmAlgId::XOR => Ok(SessionSymmetric::Xor(HashAlg::unmarshal(r)?)),
            TpmAlgId::AES => {
                let bits = r.u16()?;
                if bits != 128 && bits != 256 {
                    return Err(TpmRc::KEY_SIZE);
                }
                let mode = TpmAlgId::unmarshal(r)?;
                if mode != TpmAlgId::CFB {
                    return Err(TpmRc::MODE);
                }
                Ok(SessionSymmetric::AesCfb(bits))
            }
            _ => Err(TpmRc::SYMMETRIC),
        }
    }
}

/// TPM2_StartAuthSession — Part 3 §11.1.
///
/// Starts an HMAC, policy or trial session, bound or unbound; a policy session's
/// policyDigest starts as zeros of the authHash size (Part 1 §19.7). The session key is
/// KDFa(authHash, bindAuth || salt, "ATH", nonceTPM, nonceCaller).
///
/// `TPM_RC_SIZE` (parameter 1): nonceCaller shorter than 16 octets or longer than
/// the authHash digest; `TPM_RC_VALUE` (parameter 2): a salt without a tpmKey;
/// `TPM_RC_VALUE` (parameter 3): unknown session type; `TPM_RC_SYMMETRIC`,
/// `TPM_RC_KEY_SIZE`, `TPM_RC_MODE` (parameter 4); `TPM_RC_HASH` (parameter 5);
/// With a tpmKey the session is salted: the salt is the secret that
/// encryptedSalt shares with that key (RSA-OAEP or ECDH + KDFe, label "SECRET",
/// Part 1 §24); `TPM_RC_HANDLE` (handle 1): only the key's public part is
/// loaded; `TPM_RC_ATTRIBUTES`, `TPM_RC_KEY`, `TPM_RC_SCHEME` (handle 1): not a
/// decryption key that can share a secret; `TPM_RC_VALUE`, `TPM_RC_SIZE`,
/// `TPM_RC_ECC_POINT` (parameter 2): encryptedSalt does not decrypt;
/// `TPM_RC_SESSION_MEMORY`: three sessions are loaded.
pub fn start_auth_session(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let nonce_caller: Tpm2bNonce = p.param()?;
    let encrypted_salt: Tpm2bEncryptedSecret = p.param()?;
    let kind: SessionType = p.param()?;
    let symmetric: SessionSymmetric = p.param()?;
    let auth_hash: HashAlg = p.param()?;
    p.end()?;
    let tpm_key = ctx.handle(0);
    let bind = ctx.handle(1);
    if nonce_caller.len() < 16 || nonce_caller.len() > auth_hash.digest_size() {
        return Err(TpmRc::SIZE.at_param(1));
    }
    // The salt is a secret: wiped when this scope ends.
    let salt: Zeroizing<Vec<u8>> = if tpm_key == TpmRh::NULL.0 {
        if !encrypted_salt.is_empty() {
            return Err(TpmRc::VALUE.at_param(2));
        }
        Zeroizing::new(Vec::new())
    } else {
        let key = ctx.tpm.key(tpm_key).ok_or(TpmRc::HANDLE.at_handle(1))?;
        if key.sensitive.is_none() {
            // Only the public part is loaded (TPM2_LoadExternal).
            return Err(TpmRc::HANDLE.at_handle(1));
        }
        secret_decrypt(key, SECRET_LABEL, encrypted_salt.as_slice()).map_err(|e| {
            if e == TpmRc::ATTRIBUTES || e == TpmRc::KEY || e == TpmRc::SCHEME {
                e.at_handle(1)
            } else {
                e.at_param(2)
            }
        })?
    };
    let handle = ctx.tpm.sessions.allocate(kind)?;
    // The bound entity's authValue is a secret: wiped when this scope ends.
    let (bind_auth, binding) = if bind == TpmRh::NULL.0 {
        (Zeroizing::new(Vec::new()), None)
    } else {
        let auth = ctx
            .tpm
            .entity_auth(bind)
            .map(<[u8]>::to_vec)
            .ok_or(TpmRc::HANDLE.at_handle(2))?;
        let auth = Zeroizing::new(auth);
        let digest = auth_hash.digest(&auth);
        (
            auth,
            Some(Binding {
                handle: bind,
                auth_digest: digest,
            }),
        )
    };
    let nonce_tpm = new_nonce(ctx.tpm, auth_hash.digest_size());
    let session_key = Session::derive_key(
        auth_hash,
        &bind_auth,
        &salt,
        &nonce_tpm,
        nonce_caller.as_slice(),
    );
    ctx.tpm.sessions.insert(Session {
        handle,
        kind,
        auth_hash,
        session_key,
        nonce_tpm: nonce_tpm.clone(),
        bind: binding,
        symmetric,
        audit_digest: None,
        policy: crate::session::PolicyState::new(auth_hash),
        start_time: ctx.tpm.time(ctx.platform),
    });
    ctx.out_handles.push(handle);
    ctx.out.tpm2b(&nonce_tpm);
    Ok(())
}
