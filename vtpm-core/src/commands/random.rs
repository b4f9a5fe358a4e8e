//! Part 3, clause 16: Random Number Generator.

use alloc::vec;

use crate::crypto::hash::MAX_DIGEST_SIZE;
use crate::dispatch::{Ctx, Params};
use crate::rc::TpmResult;
use crate::types::sized::Tpm2bSensitiveData;

/// TPM2_GetRandom — Part 3 §16.1. Returns at most the size of the largest digest
/// (64 octets); a larger request is shortened, as the spec allows.
pub fn get_random(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let requested: u16 = p.param()?;
    p.end()?;
    let n = usize::from(requested).min(MAX_DIGEST_SIZE);
    let mut buf = vec![0u8; n];
    ctx.tpm.random(&mut buf);
    ctx.out.tpm2b(&buf);
    Ok(())
}

/// TPM2_StirRandom — Part 3 §16.2: mixes caller data into the DRBG state.
pub fn stir_random(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let data: Tpm2bSensitiveData = p.param()?;
    p.end()?;
    ctx.tpm.drbg.reseed(data.as_slice());
    Ok(())
}
