//! `vtpm-stub`: the vTPM stub unikernel.
//!
//! A freestanding x86_64 image that a PVH loader (QEMU `-machine microvm -kernel`,
//! later Firecracker, Cloud Hypervisor, Xen PVH) boots directly. It runs nothing
//! but the TPM engine ([`vtpm_core`]) and one channel to the host: a
//! virtio-console port over which [`vtpm_proto::frame`]s travel.
//!
//! Boot path: `boot/pvh.S` (PVH note, 32-bit entry, identity page tables, long
//! mode) -> [`boot::kernel_main`] (log console, exception table, memory map and
//! heap, interrupt controllers, channel) -> [`run::run`] (the command loop).
//! `boot/isr.S` holds the interrupt entry stubs that lead to
//! [`interrupts`]' trap handler.
//!
//! Modules: [`boot`] (PVH entry), [`pvh`] (start-info parsing, pure and
//! host-tested), [`cpu`] (instruction and MMIO
//! wrappers, stopping), [`serial`] (COM1 log console), [`memory`] (heap from the
//! memory map), [`interrupts`] (IDT, LAPIC, IOAPIC), [`channel`] (virtio-console
//! driver glue), [`platform`] (entropy and clock for the engine), [`run`].
//!
//! Built only for `x86_64-unknown-none`:
//! `cargo build --release -p vtpm-stub --target x86_64-unknown-none`.
//! On the host the crate is a placeholder binary so that workspace-wide builds,
//! tests and lints work.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![cfg_attr(target_os = "none", deny(missing_docs, clippy::missing_safety_doc))]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
pub mod boot;
#[cfg(target_os = "none")]
pub mod channel;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod interrupts;
#[cfg(target_os = "none")]
pub mod memory;
#[cfg(target_os = "none")]
pub mod platform;
pub mod pvh;
#[cfg(target_os = "none")]
pub mod run;
#[cfg(target_os = "none")]
pub mod serial;

/// The stub's version, reported in the Ready frame and on the log console.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    log::error!("panic: {info}");
    cpu::stop(cpu::ExitCode::Panic)
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!(
        "vtpm-stub {VERSION} is an image for x86_64-unknown-none only: \
         cargo build --release -p vtpm-stub --target x86_64-unknown-none"
    );
}
