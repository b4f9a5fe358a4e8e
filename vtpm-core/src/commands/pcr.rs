//! (to be written)

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};

/// Not yet implemented.
pub fn allocate(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn event(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn reset(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn read(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn extend(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
