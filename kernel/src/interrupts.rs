//! Interrupts: the IDT (every vector goes through the stubs in `boot/isr.S` to
//! [`trap_entry`]), the local APIC and the IOAPIC line of the channel device.
//!
//! Exceptions (vectors 0-31) are fatal: vector, error code, RIP and CR2 go to the
//! log console and the stub stops. The device vector acknowledges the virtio
//! interrupt and the LAPIC; its only purpose is to wake the halted CPU.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use x86_64::instructions::port::Port;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

use crate::cpu::{self, mmio_read32, mmio_write32};

core::arch::global_asm!(include_str!("../../boot/isr.S"), options(att_syntax));

/// Vector of the channel device's interrupt.
pub const DEVICE_VECTOR: u8 = 0x30;
/// Vector of the local APIC timer (one-shot wake-ups).
pub const TIMER_VECTOR: u8 = 0x31;
/// LAPIC spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Local APIC base (QEMU default; identity mapped uncached by boot/pvh.S).
const LAPIC_BASE: u64 = 0xfee0_0000;
const LAPIC_TPR: u64 = 0x80;
const LAPIC_EOI: u64 = 0xb0;
const LAPIC_SVR: u64 = 0xf0;
/// First IOAPIC (GSI 0-23).
pub const IOAPIC1: u64 = 0xfec0_0000;
/// Second IOAPIC of QEMU microvm with ACPI (`ioapic2`, GSI 24-47).
pub const IOAPIC2: u64 = 0xfec1_0000;

/// Code segment selector of boot/pvh.S's GDT.
const KERNEL_CS: u16 = 0x08;

/// Local APIC timer registers.
const LAPIC_LVT_TIMER: u64 = 0x320;
const LAPIC_TIMER_INITIAL: u64 = 0x380;
const LAPIC_TIMER_DIVIDE: u64 = 0x3e0;
/// APIC timer ticks per millisecond (QEMU and KVM clock it at 1 GHz; the TSC
/// calibration in platform.rs relies on the same rate).
const APIC_TICKS_PER_MS: u64 = 1_000_000;

/// Set by the timer interrupt, taken by [`timer_fired`].
static TIMER_FIRED: AtomicBool = AtomicBool::new(false);

/// Where the device's InterruptStatus register is (0: no device yet); the
/// InterruptACK register follows 4 bytes later.
static DEVICE_STATUS_REG: AtomicU64 = AtomicU64::new(0);

/// The registers `isr_common` in boot/isr.S saves, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rdi: u64,
    rsi: u64,
    rbp: u64,
    rbx: u64,
    rdx: u64,
    rcx: u64,
    rax: u64,
    vector: u64,
    error_code: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

/// One 64-bit interrupt gate.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const EMPTY: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    /// A present ring-0 interrupt gate (interrupts off on entry) to `handler`.
    fn interrupt(handler: u64) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist: 0,
            type_attr: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

/// The IDT; written once by [`init_idt`] before interrupts are enabled.
#[repr(C, align(16))]
struct Idt([Gate; 256]);

static mut IDT: Idt = Idt([Gate::EMPTY; 256]);

extern "C" {
    /// 256 entry stubs of 16 bytes each (boot/isr.S).
    static isr_stubs: u8;
}

/// Fills and loads the IDT. Call once, early, with interrupts off.
pub fn init_idt() {
    let base = core::ptr::addr_of!(isr_stubs) as u64;
    let idt = core::ptr::addr_of_mut!(IDT);
    for v in 0..256u64 {
        let gate = Gate::interrupt(base + 16 * v);
        // SAFETY: called once at boot on the only CPU with interrupts off, so
        // nothing else reads or writes IDT; `v` < 256 is in bounds.
        unsafe { (*idt).0[v as usize] = gate };
    }
    let ptr = DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: VirtAddr::new(idt as u64),
    };
    // SAFETY: IDT is a static (lives forever) filled with valid gates to the
    // stubs of boot/isr.S, which preserve all registers and return with iretq.
    unsafe { lidt(&ptr) };
}

/// Masks the legacy 8259 PICs (if present) and enables the local APIC with
/// priority 0 and the spurious vector.
pub fn init_controllers() {
    for port in [0x21u16, 0xa1] {
        let mut p = Port::<u8>::new(port);
        // SAFETY: writing the PIC mask registers only masks legacy interrupts; with
        // `pic=off` the ports are unassigned and the write is dropped.
        unsafe { p.write(0xff) };
    }
    // SAFETY: the LAPIC registers are mapped uncached at LAPIC_BASE (boot/pvh.S);
    // TPR 0 accepts all priorities, SVR bit 8 enables the APIC.
    unsafe {
        mmio_write32(LAPIC_BASE + LAPIC_TPR, 0);
        mmio_write32(LAPIC_BASE + LAPIC_SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
    }
}

/// An IOAPIC input: which IOAPIC ([`IOAPIC1`] or [`IOAPIC2`]) and which pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoapicPin {
    /// Register base of the IOAPIC.
    pub ioapic: u64,
    /// Pin (0-23).
    pub pin: u8,
}

/// Routes an IOAPIC pin (level-triggered, active high, to CPU 0) to
/// [`DEVICE_VECTOR`]; `status_reg` is the device's InterruptStatus register,
/// which the handler reads and acknowledges.
pub fn route_device_irq(line: IoapicPin, status_reg: u64) {
    DEVICE_STATUS_REG.store(status_reg, Ordering::SeqCst);
    let low = u32::from(DEVICE_VECTOR) | (1 << 15); // fixed, physical, level, unmasked
    let reg = 0x10 + 2 * u32::from(line.pin.min(23));
    let base = line.ioapic;
    // SAFETY: `base` is one of the two IOAPIC constants, mapped uncached;
    // IOREGSEL (+0) selects the redirection entry of the pin (at most 23) and
    // IOWIN (+0x10) writes it.
    unsafe {
        mmio_write32(base, reg + 1);
        mmio_write32(base + 0x10, 0); // destination APIC id 0
        mmio_write32(base, reg);
        mmio_write32(base + 0x10, low);
    }
    log::info!(
        "channel interrupt: IOAPIC {base:#x} pin {} -> vector {DEVICE_VECTOR:#x}",
        line.pin
    );
}

/// Arms the local APIC timer to interrupt once after `ms` milliseconds (at most
/// about 4 s); replaces an armed timer.
pub fn arm_timer(ms: u32) {
    let ticks = (u64::from(ms) * APIC_TICKS_PER_MS).min(u64::from(u32::MAX)) as u32;
    TIMER_FIRED.store(false, Ordering::SeqCst);
    // SAFETY: the LAPIC registers are mapped uncached; LVT timer = one-shot,
    // unmasked, TIMER_VECTOR; divide by 1; writing the initial count starts it.
    unsafe {
        mmio_write32(LAPIC_BASE + LAPIC_LVT_TIMER, u32::from(TIMER_VECTOR));
        mmio_write32(LAPIC_BASE + LAPIC_TIMER_DIVIDE, 0b1011);
        mmio_write32(LAPIC_BASE + LAPIC_TIMER_INITIAL, ticks.max(1));
    }
}

/// Stops the local APIC timer.
pub fn disarm_timer() {
    // SAFETY: writing 0 to the initial count stops the LAPIC timer.
    unsafe { mmio_write32(LAPIC_BASE + LAPIC_TIMER_INITIAL, 0) };
    TIMER_FIRED.store(false, Ordering::SeqCst);
}

/// True once after the armed timer has expired.
pub fn timer_fired() -> bool {
    TIMER_FIRED.swap(false, Ordering::SeqCst)
}

fn lapic_eoi() {
    // SAFETY: the LAPIC EOI register is mapped; writing 0 ends the interrupt.
    unsafe { mmio_write32(LAPIC_BASE + LAPIC_EOI, 0) };
}

/// Called by `isr_common` (boot/isr.S) for every interrupt and exception.
#[no_mangle]
extern "C" fn trap_entry(frame: &TrapFrame) {
    let vector = frame.vector & 0xff;
    if vector < 32 {
        let cr2 = x86_64::registers::control::Cr2::read_raw();
        log::error!(
            "CPU exception {vector} ({}) error code {:#x} at RIP {:#x}, CR2 {cr2:#x}, RSP {:#x}",
            exception_name(vector),
            frame.error_code,
            frame.rip,
            frame.rsp
        );
        log::error!("{frame:x?}");
        cpu::stop(cpu::ExitCode::Exception);
    }
    if vector == u64::from(SPURIOUS_VECTOR) {
        return; // no EOI for spurious interrupts
    }
    if vector == u64::from(DEVICE_VECTOR) {
        let reg = DEVICE_STATUS_REG.load(Ordering::SeqCst);
        if reg != 0 {
            // SAFETY: `reg` is the channel device's InterruptStatus register and
            // `reg + 4` its InterruptACK (virtio-mmio 0x60/0x64), both mapped;
            // acknowledging before the EOI lowers the level-triggered line.
            unsafe {
                let status = mmio_read32(reg);
                mmio_write32(reg + 4, status);
            }
        }
    } else if vector == u64::from(TIMER_VECTOR) {
        TIMER_FIRED.store(true, Ordering::SeqCst);
    } else {
        log::warn!("unexpected interrupt vector {vector:#x}");
    }
    lapic_eoi();
}

/// Mnemonic of an exception vector.
fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "#DE",
        1 => "#DB",
        2 => "NMI",
        3 => "#BP",
        4 => "#OF",
        5 => "#BR",
        6 => "#UD",
        7 => "#NM",
        8 => "#DF",
        10 => "#TS",
        11 => "#NP",
        12 => "#SS",
        13 => "#GP",
        14 => "#PF",
        16 => "#MF",
        17 => "#AC",
        18 => "#MC",
        19 => "#XM",
        20 => "#VE",
        21 => "#CP",
        _ => "reserved",
    }
}
