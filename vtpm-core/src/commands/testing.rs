//! (to be written)

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};

/// Not yet implemented.
pub fn self_test(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn incremental_self_test(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn get_test_result(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn test_parms(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
