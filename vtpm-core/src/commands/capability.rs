//! (to be written)

use crate::dispatch::{Ctx, Params};
use crate::rc::{TpmRc, TpmResult};

/// Not yet implemented.
pub fn get_capability(_ctx: &mut Ctx<'_>, _p: &mut Params<'_>) -> TpmResult<()> {
    Err(TpmRc::COMMAND_CODE)
}
