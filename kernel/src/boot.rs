//! The PVH entry (`boot/pvh.S`) and the `hvm_start_info` the loader hands over.
//!
//! The assembly runs first: it maps the first 4 GiB 1:1, enters long mode and
//! calls [`kernel_main`] with the physical address of `struct hvm_start_info`
//! (Xen `start_info.h`; version 1 adds the memory map).

use core::ptr::read_unaligned;

use crate::pvh::{self, MemmapEntry, StartInfo};
use crate::{channel, cpu, interrupts, memory, platform, run, serial};

core::arch::global_asm!(include_str!("../../boot/pvh.S"), options(att_syntax));

/// Longest command line the stub reads (QEMU's buffer is 4 KiB).
const MAX_CMDLINE: usize = 4096;

/// Reads the start info at `paddr`; `None` if absent or the magic is wrong.
///
/// # Safety
/// `paddr` must be the address the PVH loader passed in `%ebx` (identity mapped,
/// at least 56 readable bytes).
unsafe fn read_start_info(paddr: u64) -> Option<StartInfo> {
    if paddr == 0 {
        return None;
    }
    // SAFETY: the caller passes the loader's start-info address; a byte array has
    // no alignment requirement.
    let bytes = unsafe { read_unaligned(paddr as *const [u8; pvh::START_INFO_LEN]) };
    StartInfo::parse(&bytes)
}

/// The usable RAM regions `(start, length)` of the loader's memory map.
fn ram_regions(info: &StartInfo) -> impl Iterator<Item = (u64, u64)> + '_ {
    let base = info.memmap_paddr;
    let n = if base == 0 { 0 } else { info.memmap_entries };
    (0..u64::from(n)).filter_map(move |i| {
        let addr = base.checked_add(i.checked_mul(pvh::MEMMAP_ENTRY_LEN as u64)?)?;
        // SAFETY: the loader's memory map holds `memmap_entries` (capped) entries
        // of 24 bytes at `memmap_paddr`, identity mapped below 4 GiB.
        let bytes = unsafe { read_unaligned(addr as *const [u8; pvh::MEMMAP_ENTRY_LEN]) };
        let e = MemmapEntry::parse(&bytes);
        log::debug!("memmap: {:#x} + {:#x} type {}", e.addr, e.size, e.kind);
        (e.kind == pvh::MEMMAP_RAM).then_some((e.addr, e.size))
    })
}

/// The loader's command line.
fn cmdline(info: &StartInfo) -> &'static str {
    if info.cmdline_paddr == 0 {
        return "";
    }
    // SAFETY: the loader's command line buffer is MAX_CMDLINE bytes (QEMU) or a
    // NUL-terminated string within them, identity mapped, never written while
    // the stub runs.
    let bytes =
        unsafe { core::slice::from_raw_parts(info.cmdline_paddr as *const u8, MAX_CMDLINE) };
    pvh::cmdline(bytes)
}

/// The Rust entry, called by `boot/pvh.S` in long mode on the boot stack with the
/// physical address of `hvm_start_info`.
#[no_mangle]
pub extern "C" fn kernel_main(start_info_paddr: u64) -> ! {
    let tsc0 = cpu::rdtsc();
    memory::paint_stack();
    serial::init();
    log::info!("vtpm-stub {} booting", crate::VERSION);
    interrupts::init_idt();

    // SAFETY: this is the address the PVH loader passed in %ebx.
    let Some(info) = (unsafe { read_start_info(start_info_paddr) }) else {
        log::error!("no hvm_start_info at {start_info_paddr:#x} (not booted through PVH?)");
        cpu::stop(cpu::ExitCode::Fatal)
    };
    let cmdline = cmdline(&info);
    log::info!("start info v{}, cmdline {cmdline:?}", info.version);
    memory::init_heap(ram_regions(&info));

    let Some(channel) = channel::Channel::probe(cmdline) else {
        log::error!("no virtio-console device on the virtio-mmio bus");
        cpu::stop(cpu::ExitCode::Fatal)
    };
    interrupts::init_controllers();
    interrupts::route_device_irq(channel.irq(), channel.interrupt_status_addr());
    let Some(platform) = platform::StubPlatform::new() else {
        let reason = "no hardware entropy source (RDRAND); QEMU TCG needs -cpu max";
        log::error!("{reason}");
        run::refuse_forever(channel, reason)
    };
    run::run(channel, platform, tsc0)
}
