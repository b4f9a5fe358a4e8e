//! Part 3, clause 15: Symmetric Primitives — TPM2_EncryptDecrypt (§15.2) and
//! TPM2_EncryptDecrypt2 (§15.3).

use crate::crypto::sym::{aes_decrypt, aes_encrypt, SymMode, AES_BLOCK};
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TpmAlgId;
use crate::types::public::{TpmtSymDefObject, TpmuPublicParms};
use crate::types::sensitive::TpmuSensitiveComposite;
use crate::types::sized::{Tpm2b, Tpm2bMaxBuffer};

/// TPM2B_IV — Part 2, 11.1.15: up to the largest block size (16 octets).
pub type Tpm2bIv = Tpm2b<AES_BLOCK>;

/// TPMI_ALG_CIPHER_MODE+ — Part 2, 9.32: a block-cipher mode or TPM_ALG_NULL;
/// anything else is `TPM_RC_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CipherMode(Option<SymMode>);

fn sym_mode(alg: TpmAlgId) -> Option<SymMode> {
    match alg {
        TpmAlgId::CFB => Some(SymMode::Cfb),
        TpmAlgId::CBC => Some(SymMode::Cbc),
        TpmAlgId::CTR => Some(SymMode::Ctr),
        TpmAlgId::OFB => Some(SymMode::Ofb),
        TpmAlgId::ECB => Some(SymMode::Ecb),
        _ => None,
    }
}

impl Unmarshal for CipherMode {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let alg = TpmAlgId::unmarshal(r)?;
        if alg == TpmAlgId::NULL {
            return Ok(CipherMode(None));
        }
        sym_mode(alg)
            .map(|m| CipherMode(Some(m)))
            .ok_or(TpmRc::MODE)
    }
}

/// Parameter numbers of (decrypt, mode, ivIn, inData) in the command.
struct ParamNumbers {
    mode: u8,
    iv_in: u8,
    in_data: u8,
}

/// The shared body of both commands (Part 3 §15.2.3 / §15.3.3, "detailed
/// actions"); the response is outData then ivOut.
fn encrypt_decrypt_common(
    ctx: &mut Ctx<'_>,
    decrypt: bool,
    mode: CipherMode,
    iv_in: &[u8],
    in_data: &[u8],
    n: ParamNumbers,
) -> TpmResult<()> {
    let handle = ctx.handle(0);
    let key = ctx.tpm.key(handle).ok_or(TpmRc::HANDLE.at_handle(1))?;
    let TpmuPublicParms::SymCipher(parms) = &key.public.parameters else {
        return Err(TpmRc::KEY.at_handle(1));
    };
    let attrs = key.public.object_attributes;
    if attrs.restricted() {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    // Part 3 §15.2.1: decryption needs `decrypt`, encryption needs `sign`.
    let allowed = if decrypt {
        attrs.decrypt()
    } else {
        attrs.sign()
    };
    if !allowed {
        return Err(TpmRc::ATTRIBUTES.at_handle(1));
    }
    let (algorithm, key_mode) = match parms.sym {
        TpmtSymDefObject::Cipher {
            algorithm, mode, ..
        } => (algorithm, mode),
        TpmtSymDefObject::Null => return Err(TpmRc::KEY.at_handle(1)),
    };
    if algorithm != TpmAlgId::AES {
        return Err(TpmRc::KEY.at_handle(1));
    }
    let mode = if key_mode == TpmAlgId::NULL {
        mode.0.ok_or(TpmRc::MODE.at_param(n.mode))?
    } else {
        let km = sym_mode(key_mode).ok_or(TpmRc::MODE.at_param(n.mode))?;
        match mode.0 {
            Some(m) if m != km => return Err(TpmRc::MODE.at_param(n.mode)),
            _ => km,
        }
    };
    // SPEC-DEVIATION: for ECB the IV is not used; an empty ivIn or one of block
    // size is accepted (some clients always send a block-sized IV) and echoed.
    let iv_ok = if mode == SymMode::Ecb {
        iv_in.is_empty() || iv_in.len() == AES_BLOCK
    } else {
        iv_in.len() == AES_BLOCK
    };
    if !iv_ok {
        return Err(TpmRc::SIZE.at_param(n.iv_in));
    }
    if matches!(mode, SymMode::Cbc | SymMode::Ecb) && !in_data.len().is_multiple_of(AES_BLOCK) {
        return Err(TpmRc::SIZE.at_param(n.in_data));
    }
    let sym_key = match key.sensitive.as_ref().map(|s| &s.sensitive) {
        Some(TpmuSensitiveComposite::Sym(k)) => k.as_slice(),
        _ => return Err(TpmRc::KEY.at_handle(1)),
    };
    let (out, iv_out) = if decrypt {
        aes_decrypt(sym_key, mode, iv_in, in_data)
    } else {
        aes_encrypt(sym_key, mode, iv_in, in_data)
    }
    .map_err(|e| e.at_handle(1))?;
    ctx.out.tpm2b(&out);
    ctx.out.tpm2b(&iv_out);
    Ok(())
}

/// TPM2_EncryptDecrypt — Part 3 §15.2: AES encryption or decryption of `inData`
/// with a loaded symmetric cipher key, in the key's mode (or the command's when
/// the key's mode is TPM_ALG_NULL). Returns outData and ivOut, the chaining value
/// for a following call (CFB and CBC: the last ciphertext block; CTR: the next
/// counter; OFB: the last output block; ECB: ivIn unchanged).
///
/// Refusals: `TPM_RC_KEY` (handle 1) for a key that is not an AES symmetric
/// cipher; `TPM_RC_ATTRIBUTES` (handle 1) for a restricted key, for decryption
/// without `decrypt`, or for encryption without `sign`; `TPM_RC_MODE`
/// (parameter 2) when the key's mode is set and the command's differs, or both
/// are TPM_ALG_NULL, or the mode is not a cipher mode; `TPM_RC_SIZE` (parameter 3)
/// when ivIn is not one block (empty or one block for ECB); `TPM_RC_SIZE`
/// (parameter 4) when CBC or ECB data is not a multiple of the block size;
/// `TPM_RC_VALUE` (parameter 1) for a decrypt value other than YES/NO.
pub fn encrypt_decrypt(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let decrypt: bool = p.param()?;
    let mode: CipherMode = p.param()?;
    let iv_in: Tpm2bIv = p.param()?;
    let in_data: Tpm2bMaxBuffer = p.param()?;
    p.end()?;
    encrypt_decrypt_common(
        ctx,
        decrypt,
        mode,
        iv_in.as_slice(),
        in_data.as_slice(),
        ParamNumbers {
            mode: 2,
            iv_in: 3,
            in_data: 4,
        },
    )
}

/// TPM2_EncryptDecrypt2 — Part 3 §15.3: TPM2_EncryptDecrypt with inData as the
/// first parameter (so it can be a session-encrypted parameter). Same results and
/// refusals, with parameter numbers inData 1, decrypt 2, mode 3, ivIn 4.
pub fn encrypt_decrypt2(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let in_data: Tpm2bMaxBuffer = p.param()?;
    let decrypt: bool = p.param()?;
    let mode: CipherMode = p.param()?;
    let iv_in: Tpm2bIv = p.param()?;
    p.end()?;
    encrypt_decrypt_common(
        ctx,
        decrypt,
        mode,
        iv_in.as_slice(),
        in_data.as_slice(),
        ParamNumbers {
            mode: 3,
            iv_in: 4,
            in_data: 1,
        },
    )
}

#[cfg(test)]
mod tests;
