//! Part 3, clause 31.16: TPM2_NV_Certify — a signed statement of the contents
//! of an NV index (TPMS_NV_CERTIFY_INFO) or of a digest of all of them
//! (TPMS_NV_DIGEST_CERTIFY_INFO, Library 1.59).

use crate::commands::attestation::{fill, sig_scheme, sign_and_write, signer};
use crate::commands::nv::auth_via;
use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};
use crate::state::nv::read_access;
use crate::types::attest::{Tpm2bMaxNvBuffer, TpmuAttest};
use crate::types::nv::MAX_NV_BUFFER_SIZE;
use crate::types::sensitive::Tpm2bName;
use crate::types::sized::{Tpm2bData, Tpm2bDigest};

/// TPM2_NV_Certify — Part 3 §31.16: signHandle signs the Name of nvIndex with
/// `size` octets of its data from `offset` (TPM_ST_ATTEST_NV), or, when size and
/// offset are both zero, with the digest of its whole data area under the
/// signing scheme's hash (TPM_ST_ATTEST_NV_DIGEST). signHandle TPM_RH_NULL gives
/// an unsigned attestation.
///
/// Refusals, in this order: `TPM_RC_KEY` (handle 1): signHandle is not a signing
/// key; `TPM_RC_SCHEME` (parameter 2): inScheme does not fit the key;
/// `TPM_RC_NV_LOCKED`: read locked; `TPM_RC_NV_AUTHORIZATION`: authHandle lacks
/// its read attribute; `TPM_RC_NV_UNINITIALIZED`: never written;
/// `TPM_RC_NV_RANGE`: offset plus size beyond the index; `TPM_RC_VALUE`
/// (parameter 3): size larger than MAX_NV_BUFFER_SIZE; `TPM_RC_SIZE`
/// (parameter 1): qualifyingData too long.
pub fn nv_certify(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let qualifying: Tpm2bData = p.param()?;
    let requested = sig_scheme(p)?;
    let size: u16 = p.param()?;
    let offset: u16 = p.param()?;
    p.end()?;
    let s = signer(ctx, ctx.handle(0), 1, requested, 2)?;
    let index = ctx
        .tpm
        .nv_index(ctx.handle(2))
        .cloned()
        .ok_or(TpmRc::HANDLE.at_handle(3))?;
    read_access(ctx.handle(1), &index, auth_via(ctx, 1))?;
    let start = usize::from(offset);
    let end = start.saturating_add(usize::from(size));
    if end > index.data.len() {
        return Err(TpmRc::NV_RANGE);
    }
    if usize::from(size) > MAX_NV_BUFFER_SIZE {
        return Err(TpmRc::VALUE.at_param(3));
    }
    let index_name = Tpm2bName::from_vec(index.name()).map_err(|_| TpmRc::FAILURE)?;
    let attested = if size != 0 || offset != 0 {
        let data = index.data.get(start..end).ok_or(TpmRc::NV_RANGE)?;
        TpmuAttest::Nv {
            index_name,
            offset,
            nv_contents: Tpm2bMaxNvBuffer::new(data).map_err(|_| TpmRc::VALUE.at_param(3))?,
        }
    } else {
        // The digest uses the hash of the signing scheme; an unsigned
        // attestation has none, so its digest is empty.
        let digest = match s.scheme.parts().1 {
            Some(hash) => hash.digest(&index.data),
            None => alloc::vec::Vec::new(),
        };
        TpmuAttest::NvDigest {
            index_name,
            nv_digest: Tpm2bDigest::from_vec(digest).map_err(|_| TpmRc::FAILURE)?,
        }
    };
    let attest = fill(ctx, &s, qualifying, attested);
    sign_and_write(ctx, &s, &attest)
}

#[cfg(test)]
mod tests;
