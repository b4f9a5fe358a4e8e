//! Part 3, clause 28: Context Management — TPM2_FlushContext.

use crate::dispatch::{Ctx, Params};
use crate::marshal::{Reader, Unmarshal};
use crate::rc::{TpmRc, TpmResult};
use crate::state::objects::MAX_LOADED_OBJECTS;
use crate::types::constants::{TpmHt, TRANSIENT_FIRST};

/// Session handles a TPMI_DH_CONTEXT may name per session type
/// (MAX_ACTIVE_SESSIONS, as in the reference implementation).
pub const MAX_ACTIVE_SESSIONS: u32 = 64;

/// TPMI_DH_CONTEXT — Part 2, 9.11: an HMAC or policy session handle, or a transient
/// object handle, within the ranges this TPM hands out. Anything else is
/// `TPM_RC_VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmiDhContext(pub u32);

impl Unmarshal for TpmiDhContext {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let handle = r.u32()?;
        let offset = handle & 0x00FF_FFFF;
        let in_range = match TpmHt::of(handle) {
            TpmHt::HMAC_SESSION | TpmHt::POLICY_SESSION => offset < MAX_ACTIVE_SESSIONS,
            TpmHt::TRANSIENT => {
                let slots = u32::try_from(MAX_LOADED_OBJECTS).unwrap_or(u32::MAX);
                handle
                    .checked_sub(TRANSIENT_FIRST)
                    .is_some_and(|o| o < slots)
            }
            _ => false,
        };
        if in_range {
            Ok(TpmiDhContext(handle))
        } else {
            Err(TpmRc::VALUE)
        }
    }
}

/// TPM2_FlushContext — Part 3 §28.4: removes a loaded transient object (or
/// sequence) from its slot.
///
/// `TPM_RC_VALUE` (parameter 1): flushHandle is not a transient object or session
/// handle in range; `TPM_RC_HANDLE` (parameter 1): nothing is loaded at that handle
/// (no session is ever loaded: sessions are not implemented yet).
pub fn flush_context(ctx: &mut Ctx<'_>, p: &mut Params<'_>) -> TpmResult<()> {
    let handle: TpmiDhContext = p.param()?;
    p.end()?;
    let handle = handle.0;
    if TpmHt::of(handle) != TpmHt::TRANSIENT || ctx.tpm.objects.get(handle).is_none() {
        return Err(TpmRc::HANDLE.at_param(1));
    }
    ctx.tpm.objects.remove(handle);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::types::constants::TpmCc;

    fn flush(h: u32) -> Cmd {
        Cmd::new(TpmCc::FLUSH_CONTEXT).params(move |w| w.u32(h))
    }

    fn start_sequence() -> Cmd {
        Cmd::new(TpmCc::HASH_SEQUENCE_START).params(|w| {
            w.tpm2b(b"");
            w.u16(0x000B)
        })
    }

    #[test]
    fn flushes_a_loaded_sequence_once() {
        let (mut t, mut p) = started();
        let r = run(&mut t, &mut p, &start_sequence());
        assert_eq!(r.rc, 0);
        assert_eq!(r.body, 0x8000_0000u32.to_be_bytes());
        let r = run(&mut t, &mut p, &flush(0x8000_0000));
        assert_eq!(r.rc, 0);
        assert!(r.body.is_empty());
        // gone: TPM_RC_HANDLE at parameter 1, and unusable as a handle
        assert_eq!(run(&mut t, &mut p, &flush(0x8000_0000)).rc, 0x1CB);
        let upd = Cmd::new(TpmCc::SEQUENCE_UPDATE)
            .handle(0x8000_0000)
            .pw(b"")
            .params(|w| w.tpm2b(b"x"));
        assert_eq!(run(&mut t, &mut p, &upd).rc, 0x910);
        // the slot is free again
        assert_eq!(run(&mut t, &mut p, &start_sequence()).rc, 0);
    }

    #[test]
    fn handle_ranges() {
        let (mut t, mut p) = started();
        // in range but not loaded: TPM_RC_HANDLE (parameter 1)
        for h in [
            0x8000_0000,
            0x8000_0002,
            0x0200_0000,
            0x0200_003F,
            0x0300_0000,
        ] {
            assert_eq!(run(&mut t, &mut p, &flush(h)).rc, 0x1CB, "{h:#x}");
        }
        // not a TPMI_DH_CONTEXT value: TPM_RC_VALUE (parameter 1)
        for h in [
            0x8000_0003,
            0x0200_0040,
            0x8100_0000,
            0x4000_0001,
            0x0100_0000,
            0,
        ] {
            assert_eq!(run(&mut t, &mut p, &flush(h)).rc, 0x1C4, "{h:#x}");
        }
        // truncated and trailing parameters
        assert_eq!(
            run(&mut t, &mut p, &Cmd::new(TpmCc::FLUSH_CONTEXT)).rc,
            0x1DA
        );
        let c = Cmd::new(TpmCc::FLUSH_CONTEXT).params(|w| {
            w.u32(0x8000_0000);
            w.u8(0)
        });
        assert_eq!(run(&mut t, &mut p, &c).rc, 0x095);
        // no sessions allowed: a password session authorizes nothing here
        assert_eq!(run(&mut t, &mut p, &flush(0x8000_0000).pw(b"")).rc, 0x145);
    }
}
