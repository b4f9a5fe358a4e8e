//! Memory: the heap, carved from the largest RAM region of the PVH memory map
//! above the image. All memory is identity mapped (boot/pvh.S), so heap addresses
//! are physical addresses, which the virtio driver shares with the device.

use core::sync::atomic::{AtomicBool, Ordering};

use talc::{ErrOnOom, Span, Talc, Talck};

use crate::{cpu, pvh};

/// A spin lock for the allocator. The stub has one CPU and its interrupt handlers
/// never allocate, so the lock is never contended; should that change, a
/// re-entered allocation spins (a visible hang) instead of corrupting the heap.
pub struct SpinLock(AtomicBool);

// SAFETY: `lock` returns only after atomically changing the flag from false to
// true (acquire), `unlock` stores false (release): at most one holder at a time.
unsafe impl lock_api::RawMutex for SpinLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: SpinLock = SpinLock(AtomicBool::new(false));
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        while !self.try_lock() {
            core::hint::spin_loop();
        }
    }

    fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}

#[global_allocator]
static ALLOCATOR: Talck<SpinLock, ErrOnOom> = Talc::new(ErrOnOom).lock();

extern "C" {
    /// First byte after the image, including .bss and the boot stack (linker.ld).
    static __image_end: u8;
    /// Lowest byte of the boot stack (boot/pvh.S).
    static boot_stack_bottom: u8;
    /// One past the highest byte of the boot stack (boot/pvh.S).
    static boot_stack_top: u8;
}

/// Pattern of never-used stack words.
const STACK_PAINT: u64 = 0x5354_4143_4b20_5354;

/// The lowest bytes of the stack: if any of them is used, the stack overflowed
/// (into the page tables below it, with 2 MiB pages there is no guard page).
const STACK_GUARD: u64 = 4096;

fn stack_bounds() -> (u64, u64) {
    (
        core::ptr::addr_of!(boot_stack_bottom) as u64,
        core::ptr::addr_of!(boot_stack_top) as u64,
    )
}

/// Fills the unused part of the boot stack with a pattern, for
/// [`stack_high_water`] and [`check_stack`]. Call once, early in `kernel_main`.
#[inline(never)]
pub fn paint_stack() {
    let (bottom, _) = stack_bounds();
    let marker = 0u8;
    // Leave 1 KiB below this frame for the loop itself.
    let below_here = (core::ptr::addr_of!(marker) as u64).saturating_sub(1024) & !7;
    for addr in (bottom..below_here).step_by(8) {
        // SAFETY: [bottom, below_here) is the unused part of the boot stack (below
        // the current frame, and the target has no red zone); no Rust object lives
        // there, and aligned 8-byte writes stay inside it.
        unsafe { core::ptr::write_volatile(addr as *mut u64, STACK_PAINT) };
    }
}

/// Bytes of the boot stack ever used (the deepest point reached).
pub fn stack_high_water() -> u64 {
    let (bottom, top) = stack_bounds();
    let untouched = (bottom..top)
        .step_by(8)
        // SAFETY: reads of aligned words inside the boot stack (all mapped RAM).
        .take_while(|&a| unsafe { core::ptr::read_volatile(a as *const u64) } == STACK_PAINT)
        .count() as u64;
    (top - bottom).saturating_sub(untouched * 8)
}

/// Stops the stub if the stack reached its lowest [`STACK_GUARD`] bytes.
pub fn check_stack() {
    let (bottom, top) = stack_bounds();
    if stack_high_water() > (top - bottom).saturating_sub(STACK_GUARD) {
        log::error!("boot stack overflow ({} bytes)", top - bottom);
        cpu::stop(cpu::ExitCode::Fatal)
    }
}

/// Smallest heap the engine can run with.
const MIN_HEAP: u64 = 2 << 20;

/// Memory must stay below this: only the first 4 GiB are mapped, and the top
/// 32 MiB of them are device registers.
const MAPPED_RAM_END: u64 = 0xfe00_0000;

/// Gives the allocator the largest usable piece of RAM above the image.
pub fn init_heap(regions: impl Iterator<Item = (u64, u64)>) {
    let image_end = core::ptr::addr_of!(__image_end) as u64;
    let Some((start, len)) = pvh::choose_heap(regions, image_end, MAPPED_RAM_END, MIN_HEAP) else {
        log::error!("no RAM region of at least {MIN_HEAP} bytes above the image at {image_end:#x}");
        cpu::stop(cpu::ExitCode::Fatal)
    };
    let Ok(size) = usize::try_from(len) else {
        cpu::stop(cpu::ExitCode::Fatal)
    };
    let span = Span::from_base_size(start as *mut u8, size);
    // SAFETY: the span is RAM from the loader's memory map, identity mapped, above
    // the image (so unused by code, data, .bss or the boot stack) and below the
    // device region; it is handed to the allocator exactly once.
    if unsafe { ALLOCATOR.lock().claim(span) }.is_err() {
        log::error!("the allocator refused the heap region");
        cpu::stop(cpu::ExitCode::Fatal)
    }
    log::info!(
        "heap: {:#x}..{:#x} ({} KiB)",
        start,
        start + len,
        len / 1024
    );
}

/// Called when an allocation fails: the stub cannot go on.
pub fn out_of_memory(size: usize) -> ! {
    log::error!("out of memory allocating {size} bytes");
    cpu::stop(cpu::ExitCode::Fatal)
}
