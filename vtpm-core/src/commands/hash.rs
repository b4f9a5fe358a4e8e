//! (to be written)

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};

/// Not yet implemented.
pub fn sequence_complete(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn sequence_update(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn hash(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn event_sequence_complete(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
/// Not yet implemented.
pub fn hash_sequence_start(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
