//! Small typed wrappers around instructions, port I/O and MMIO registers, and the
//! ways the stub stops.

use core::sync::atomic::{compiler_fence, Ordering};

use x86_64::instructions::{interrupts, port::Port};

/// I/O port of QEMU's `isa-debug-exit` device (`-device isa-debug-exit`); QEMU
/// exits with status `(value << 1) | 1`. Without the device the write is ignored.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Why the stub stops; with `isa-debug-exit` QEMU's exit status is
/// `2 * code + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// The host asked for shutdown (status 3).
    Shutdown = 1,
    /// A CPU exception (status 5).
    Exception = 2,
    /// A panic (status 7).
    Panic = 3,
    /// A required device or CPU feature is missing, or memory ran out (status 9).
    Fatal = 4,
}

/// Stops the machine: reports `code` to QEMU's debug-exit device if there is one,
/// then halts forever with interrupts off.
pub fn stop(code: ExitCode) -> ! {
    interrupts::disable();
    let mut port = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is either QEMU's isa-debug-exit device (which ends the VM)
    // or unassigned (writes are dropped); no other device of the stub uses it.
    unsafe { port.write(code as u32) };
    loop {
        x86_64::instructions::hlt();
    }
}

/// Halts until the next interrupt, enabling interrupts atomically with the halt
/// (`sti; hlt`: the interrupt shadow of `sti` covers `hlt`, so an interrupt that
/// became pending while the caller checked for work still wakes it).
pub fn wait_for_interrupt() {
    interrupts::enable_and_hlt();
}

/// Reads a 32-bit device register.
///
/// # Safety
/// `addr` must be the address of a readable 32-bit MMIO register, identity-mapped
/// and uncached, for which a read has no side effect the caller does not expect.
pub unsafe fn mmio_read32(addr: u64) -> u32 {
    // SAFETY: the caller guarantees a valid, mapped, aligned register address.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// Writes a 32-bit device register.
///
/// # Safety
/// `addr` must be the address of a writable 32-bit MMIO register, identity-mapped
/// and uncached, and the write must be one the device expects.
pub unsafe fn mmio_write32(addr: u64, value: u32) {
    compiler_fence(Ordering::SeqCst);
    // SAFETY: the caller guarantees a valid, mapped, aligned register address.
    unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
}

/// The CPU's time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC reads a counter; it has no memory or register side effects
    // beyond its outputs and is allowed at CPL 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}
