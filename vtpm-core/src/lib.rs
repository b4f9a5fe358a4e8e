//! `vtpm-core`: a TPM 2.0 engine (TCG TPM 2.0 Library, Family "2.0", Level 00,
//! Revision 01.59 command set and structures).
//!
//! The engine is `no_std` + `alloc`, does no I/O and has no clock of its own: the
//! embedder supplies entropy and a monotonic clock through [`Platform`], feeds
//! command bytes to [`Tpm::execute`], and persists [`Tpm::permanent_state`] before
//! delivering any response whose [`Response::nv_changed`] is set.
//!
//! Any byte string is answered with a well-formed TPM response; nothing reachable
//! from input panics (internal inconsistencies put the TPM in failure mode).
//!
//! Layout: [`marshal`] (the wire layer), [`types`] (Part 2 structures), [`rc`]
//! (response codes), `dispatch` (the command pipeline and table), `commands`
//! (one module per Part 3 clause), `state` (permanent and volatile state),
//! [`crypto`] (hashes, HMAC, DRBG).
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )
)]
#![warn(missing_docs)]

extern crate alloc;

pub mod commands;
pub mod crypto;
pub mod dispatch;
pub mod events;
pub mod marshal;
pub mod objects;
pub mod platform;
pub mod rc;
pub mod session;
pub mod state;
pub mod tpm;
pub mod types;

#[cfg(test)]
pub mod testutil;

pub use dispatch::Response;
pub use platform::{Platform, TestPlatform};
pub use rc::{TpmRc, TpmResult};
pub use tpm::{Isolation, Power, StateError, Tpm};

/// The implementation's identity, reported through GetCapability (R4: a verifier
/// can always tell this vTPM from a hardware TPM).
pub mod identity {
    /// TPM_PT_MANUFACTURER: "VTPM".
    pub const MANUFACTURER: [u8; 4] = *b"VTPM";
    /// TPM_PT_VENDOR_STRING_1 and _2: "vtpm-rs " names the implementation.
    pub const VENDOR_STRING_1: [u8; 4] = *b"vtpm";
    /// Second vendor string.
    pub const VENDOR_STRING_2: [u8; 4] = *b"-rs ";
    /// TPM_PT_VENDOR_STRING_3 for the process backend.
    pub const ISOLATION_PROCESS: [u8; 4] = *b"proc";
    /// TPM_PT_VENDOR_STRING_3 for the VM backend.
    pub const ISOLATION_VM: [u8; 4] = *b"vm\0\0";
    /// TPM_PT_VENDOR_STRING_4: "virt", always — this is a virtual TPM.
    pub const VENDOR_STRING_4: [u8; 4] = *b"virt";
    /// The engine version (crate version), reported as TPM_PT_FIRMWARE_VERSION_1/2.
    pub const VERSION: &str = env!("CARGO_PKG_VERSION");
}
