//! Part 3, clause 10: Testing — TPM2_SelfTest (§10.2), TPM2_IncrementalSelfTest
//! (§10.3), TPM2_GetTestResult (§10.4); and TPM2_TestParms (clause 30, §30.3).
//!
//! The self-tests are the known-answer tests of `crypto::selftest`. They are quick,
//! so every test runs to completion inside the command (never TPM_RC_TESTING). A
//! failed test puts the TPM in failure mode: from then on only GetCapability and
//! GetTestResult are answered, until the next _TPM_Init.

use alloc::vec::Vec;

use crate::crypto::algorithms::IMPLEMENTED;
use crate::crypto::selftest;
use crate::dispatch::{Ctx, Params};
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::tpm::{FailureInfo, Tpm};
use crate::types::constants::TpmAlgId;
use crate::types::properties::MAX_ALG_LIST_SIZE;
use crate::types::public::TpmtPublicParms;

/// TPML_ALG — Part 2, 10.9: at most MAX_ALG_LIST_SIZE algorithm identifiers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmlAlg(pub Vec<TpmAlgId>);

impl Marshal for TpmlAlg {
    fn marshal(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.0.len()).unwrap_or(0));
        for a in &self.0 {
            a.marshal(w);
        }
    }
}

impl Unmarshal for TpmlAlg {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let count = r.u32()?;
        if usize::try_from(count).map_or(true, |c| c > MAX_ALG_LIST_SIZE) {
            return Err(TpmRc::SIZE);
        }
        let mut v = Vec::new();
        for _ in 0..count {
            v.push(TpmAlgId::unmarshal(r)?);
        }
        Ok(TpmlAlg(v))
    }
}

/// Records the outcome of a self-test run: success marks the TPM tested; a
/// failure enters failure mode with the failed test's code and answers
/// `TPM_RC_FAILURE`.
pub(crate) fn record_self_test(tpm: &mut Tpm, outcome: Result<(), u32>) -> TpmResult<()> {
    match outcome {
        Ok(()) => {
            tpm.self_tested = true;
            Ok(())
        }
        Err(code) => {
            tpm.self_tested = false;
            tpm.failure = Some(FailureInfo { code });
            Err(TpmRc::FAILURE)
        }
    }
}

/// The implemented algorithms that still need a self-test (TPML_ALG toDoList).
fn to_do(tpm: &Tpm) -> TpmlAlg {
    if tpm.self_tested {
        return TpmlAlg::default();
    }
    TpmlAlg(
        selftest::tested_algs()
            .into_iter()
            .filter(|a| IMPLEMENTED.implements(*a))
            .collect(),
    )
}

/// TPM2_SelfTest — Part 3 §10.2: `fullTest` YES runs every self-test again; NO
/// runs them only if they have not passed since _TPM_Init.
///
/// `TPM_RC_FAILURE`: a known-answer test failed; the TPM is now in failure mode.
pub fn self_test(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let full_test: bool = p.param()?;
    p.end()?;
    if full_test || !ctx.tpm.self_tested {
        record_self_test(ctx.tpm, selftest::run_all())?;
    }
    Ok(())
}

/// TPM2_IncrementalSelfTest — Part 3 §10.3: tests the algorithms in `toTest` and
/// returns those still untested. Testing any algorithm runs the whole (short)
/// suite, so after a non-empty `toTest` the toDoList is empty; an empty `toTest`
/// only reports.
///
/// `TPM_RC_VALUE` (parameter 1): an algorithm in `toTest` is not implemented;
/// `TPM_RC_SIZE` (parameter 1): more than MAX_ALG_LIST_SIZE entries;
/// `TPM_RC_FAILURE`: a known-answer test failed (failure mode).
pub fn incremental_self_test(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let to_test: TpmlAlg = p.param()?;
    p.end()?;
    if !to_test.0.iter().all(|a| IMPLEMENTED.implements(*a)) {
        return Err(TpmRc::VALUE.at_param(1)); // toTest
    }
    if !to_test.0.is_empty() && !ctx.tpm.self_tested {
        record_self_test(ctx.tpm, selftest::run_all())?;
    }
    to_do(ctx.tpm).marshal(&mut ctx.out);
    Ok(())
}

/// TPM2_GetTestResult — Part 3 §10.4: `outData` (TPM2B_MAX_BUFFER) and
/// `testResult`: TPM_RC_SUCCESS after the self-tests passed, TPM_RC_NEEDS_TEST
/// while they have not run since _TPM_Init, TPM_RC_FAILURE in failure mode (then
/// `outData` is the 4-octet failure code). Answered in failure mode.
pub fn get_test_result(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    p.end()?;
    let (out_data, test_result) = match ctx.tpm.failure {
        Some(f) => (f.code.to_be_bytes().to_vec(), TpmRc::FAILURE.value()),
        None if ctx.tpm.self_tested => (Vec::new(), 0),
        None => (Vec::new(), TpmRc::NEEDS_TEST.value()),
    };
    ctx.out.tpm2b(&out_data);
    ctx.out.u32(test_result);
    Ok(())
}

/// TPM2_TestParms — Part 3 §30.3: succeeds when the TPM supports the object type
/// and parameters in `parameters` (TPMT_PUBLIC_PARMS), as the engine's algorithm
/// table says. All checking is the unmarshalling of the parameter.
///
/// Errors, all at parameter 1: `TPM_RC_TYPE` (object type not implemented),
/// `TPM_RC_SYMMETRIC` (block cipher), `TPM_RC_VALUE` (key size, RSA or keyed-hash
/// scheme), `TPM_RC_MODE` (cipher mode), `TPM_RC_SCHEME` (ECC scheme),
/// `TPM_RC_CURVE` (curve), `TPM_RC_KDF` (KDF), `TPM_RC_HASH` (hash),
/// `TPM_RC_INSUFFICIENT` / `TPM_RC_SIZE` (short or over-long parameter).
pub fn test_parms(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let _parameters: TpmtPublicParms = p.param()?;
    p.end()?;
    let _ = ctx;
    Ok(())
}

#[cfg(test)]
mod tests;
