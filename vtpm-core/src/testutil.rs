//! Helpers for unit tests: build commands, run them, split responses.

use alloc::vec::Vec;

use crate::marshal::Writer;
use crate::platform::TestPlatform;
use crate::tpm::Tpm;
use crate::types::constants::{TpmCc, TpmSt, TPM_RS_PW};

/// A command under construction.
pub struct Cmd {
    cc: TpmCc,
    handles: Vec<u32>,
    /// Passwords, one password session each (empty vec: no sessions tag).
    pw: Option<Vec<Vec<u8>>>,
    params: Writer,
}

impl Cmd {
    /// A command with code `cc`.
    pub fn new(cc: TpmCc) -> Cmd {
        Cmd {
            cc,
            handles: Vec::new(),
            pw: None,
            params: Writer::new(),
        }
    }

    /// Adds a handle.
    pub fn handle(mut self, h: u32) -> Cmd {
        self.handles.push(h);
        self
    }

    /// Adds a password session with `pw`.
    pub fn pw(mut self, pw: &[u8]) -> Cmd {
        self.pw.get_or_insert_with(Vec::new).push(pw.to_vec());
        self
    }

    /// Writes parameters.
    pub fn params(mut self, f: impl FnOnce(&mut Writer)) -> Cmd {
        f(&mut self.params);
        self
    }

    /// The command bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        let tag = if self.pw.is_some() {
            TpmSt::SESSIONS
        } else {
            TpmSt::NO_SESSIONS
        };
        w.u16(tag.0);
        w.u32(0);
        w.u32(self.cc.0);
        for h in &self.handles {
            w.u32(*h);
        }
        if let Some(pws) = &self.pw {
            let mut a = Writer::new();
            for p in pws {
                a.u32(TPM_RS_PW);
                a.u16(0);
                a.u8(1);
                a.tpm2b(p);
            }
            w.u32(a.len() as u32);
            w.bytes(a.as_slice());
        }
        w.bytes(self.params.as_slice());
        let mut b = w.into_vec();
        let n = b.len() as u32;
        b[2..6].copy_from_slice(&n.to_be_bytes());
        b
    }
}

/// A response split into its parts.
#[derive(Debug)]
pub struct Resp {
    /// The response code.
    pub rc: u32,
    /// Response handles (only when the caller says how many) and parameters.
    pub body: Vec<u8>,
    /// The raw bytes.
    pub raw: Vec<u8>,
    /// nv_changed flag.
    pub nv: bool,
}

/// A manufactured TPM that has seen _TPM_Init (no Startup yet).
pub fn powered() -> (Tpm, TestPlatform) {
    let mut p = TestPlatform::new(7);
    let mut t = Tpm::manufacture(&mut p);
    t.power_on(&mut p);
    (t, p)
}

/// A manufactured TPM after Startup(CLEAR).
pub fn started() -> (Tpm, TestPlatform) {
    let (mut t, mut p) = powered();
    let r = run(&mut t, &mut p, &startup_clear());
    assert_eq!(r.rc, 0);
    (t, p)
}

/// Startup(CLEAR).
pub fn startup_clear() -> Cmd {
    Cmd::new(TpmCc::STARTUP).params(|w| w.u16(0))
}

/// Runs `cmd` at locality 0 and splits the response. For a SESSIONS response the
/// body is everything after the header, parameterSize included.
pub fn run(t: &mut Tpm, p: &mut TestPlatform, cmd: &Cmd) -> Resp {
    run_at(t, p, 0, &cmd.bytes())
}

/// Runs raw bytes at `locality`.
pub fn run_at(t: &mut Tpm, p: &mut TestPlatform, locality: u8, bytes: &[u8]) -> Resp {
    let r = t.execute(p, locality, bytes);
    let raw = r.bytes.clone();
    assert!(raw.len() >= 10, "short response");
    let size = u32::from_be_bytes(raw[2..6].try_into().unwrap()) as usize;
    assert_eq!(size, raw.len(), "size field matches");
    let rc = u32::from_be_bytes(raw[6..10].try_into().unwrap());
    if rc != 0 {
        assert_eq!(raw.len(), 10);
    }
    Resp {
        rc,
        body: raw[10..].to_vec(),
        raw,
        nv: r.nv_changed,
    }
}
