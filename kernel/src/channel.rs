//! The channel to the host: the virtio-console device on microvm's virtio-mmio
//! bus, driven by the `virtio-drivers` crate.
//!
//! QEMU microvm pre-creates transports at 0xFEB00000 + i * 0x200 and puts the
//! first device on the highest one. Without ACPI there are 8 (GSI 5 + i) and the
//! command line names each device with its IRQ; with ACPI there are 24 on the
//! second IOAPIC (pin i), or 8 on GSI 16 + i with `ioapic2=off`, described only
//! in the DSDT, which the stub does not read: it infers the case from the number
//! of transports.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use core::ptr::NonNull;

use virtio_drivers::device::console::VirtIOConsole;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};
use vtpm_proto::frame::Receiver;

use crate::cpu::mmio_read32;
use crate::interrupts::{IoapicPin, IOAPIC1, IOAPIC2};
use crate::{memory, pvh};

/// First virtio-mmio transport.
const MMIO_BASE: u64 = 0xfeb0_0000;
/// Size of one transport's register window.
const MMIO_SIZE: u64 = 0x200;
/// Most transports QEMU microvm creates (with ACPI and the second IOAPIC).
const MAX_SLOTS: u64 = 24;
/// GSI of transport 0 with ACPI but without the second IOAPIC.
const ACPI_FIRST_GSI: u8 = 16;
/// Smallest register window of a virtio-mmio device (config space at 0x100).
const MIN_WINDOW: u64 = 0x100;
/// Devices must sit below this to be mapped (boot/pvh.S maps the first 4 GiB).
const MAPPED_END: u64 = 0x1_0000_0000;
/// "virt"
const VIRTIO_MAGIC: u32 = 0x7472_6976;
/// Offset of the InterruptStatus register.
const INTERRUPT_STATUS: u64 = 0x60;

/// DMA and address translation for `virtio-drivers`: memory is identity mapped,
/// so physical = virtual and sharing is a no-op.
pub struct StubHal;

fn dma_layout(pages: usize) -> Layout {
    pages
        .checked_mul(PAGE_SIZE)
        .and_then(|size| Layout::from_size_align(size.max(PAGE_SIZE), PAGE_SIZE).ok())
        .unwrap_or_else(|| memory::out_of_memory(usize::MAX))
}

// SAFETY: dma_alloc returns zeroed, page-aligned, physically contiguous heap
// memory (the heap is one identity-mapped region) owned by the driver until
// dma_dealloc; every address is its own physical address, so share/unshare only
// translate, and MMIO regions are identity mapped uncached.
unsafe impl Hal for StubHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = dma_layout(pages);
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        let Some(nn) = NonNull::new(ptr) else {
            memory::out_of_memory(layout.size())
        };
        (ptr as u64, nn)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: the caller passes a pointer from dma_alloc with the same page
        // count, hence the same layout.
        unsafe { dealloc(vaddr.as_ptr(), dma_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr() as *mut u8 as u64
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// The virtio-console port to the host.
pub struct Channel {
    console: VirtIOConsole<StubHal, MmioTransport<'static>>,
    base: u64,
    line: IoapicPin,
}

impl Channel {
    /// Finds and initializes the first virtio-console device: among the
    /// devices the command line names (exact base and IRQ), else by scanning
    /// QEMU microvm's transports (with ACPI: 24 transports on the second IOAPIC,
    /// or 8 on GSI 16 + slot).
    pub fn probe(cmdline: &str) -> Option<Channel> {
        for d in pvh::virtio_mmio_devices(cmdline) {
            let (Ok(pin), true) = (u8::try_from(d.irq), d.base < MAPPED_END) else {
                continue;
            };
            if pin > 23 || d.size < MIN_WINDOW {
                continue;
            }
            let line = IoapicPin {
                ioapic: IOAPIC1,
                pin,
            };
            if let Some(c) = Self::open(d.base, d.size.min(MMIO_SIZE), line) {
                return Some(c);
            }
        }
        let present = (0..MAX_SLOTS)
            .filter(|&slot| {
                // SAFETY: the virtio-mmio window is mapped uncached (boot/pvh.S);
                // the magic register is read-only and side-effect free; absent
                // transports read as 0.
                unsafe { mmio_read32(MMIO_BASE + slot * MMIO_SIZE) == VIRTIO_MAGIC }
            })
            .count();
        for slot in 0..MAX_SLOTS {
            let line = if present > 8 {
                IoapicPin {
                    ioapic: IOAPIC2,
                    pin: slot as u8,
                }
            } else {
                IoapicPin {
                    ioapic: IOAPIC1,
                    pin: ACPI_FIRST_GSI + slot as u8,
                }
            };
            if let Some(c) = Self::open(MMIO_BASE + slot * MMIO_SIZE, MMIO_SIZE, line) {
                return Some(c);
            }
        }
        None
    }

    /// Opens the transport at `base` if it holds a console.
    fn open(base: u64, size: u64, line: IoapicPin) -> Option<Channel> {
        // SAFETY: `base` is below 4 GiB, so identity mapped (virtio-mmio windows of
        // QEMU microvm are in the uncached top 32 MiB); the magic (+0) and device
        // id (+8) registers are read-only and side-effect free.
        let (magic, device_id) = unsafe { (mmio_read32(base), mmio_read32(base + 8)) };
        if magic != VIRTIO_MAGIC || device_id == 0 {
            return None;
        }
        log::info!("virtio-mmio at {base:#x}: device id {device_id}");
        let header = NonNull::new(base as *mut VirtIOHeader)?;
        // SAFETY: `header` is a virtio-mmio transport window of `size` bytes,
        // mapped for the whole run, and no other code accesses it.
        let transport = match unsafe { MmioTransport::new(header, size as usize) } {
            Ok(t) => t,
            Err(e) => {
                log::warn!("virtio-mmio at {base:#x}: {e}");
                return None;
            }
        };
        if transport.device_type() != DeviceType::Console {
            return None;
        }
        log::info!("virtio-console: {:?} transport", transport.version());
        match VirtIOConsole::<StubHal, _>::new(transport) {
            Ok(console) => Some(Channel {
                console,
                base,
                line,
            }),
            Err(e) => {
                log::warn!("virtio-mmio at {base:#x}: console init failed: {e}");
                None
            }
        }
    }

    /// The interrupt line of the device.
    pub fn irq(&self) -> IoapicPin {
        self.line
    }

    /// Address of the device's InterruptStatus register.
    pub fn interrupt_status_addr(&self) -> u64 {
        self.base + INTERRUPT_STATUS
    }

    /// Moves the bytes the host has sent so far into `rx`, as many as it has room
    /// for; returns how many were moved.
    pub fn receive(&mut self, rx: &mut Receiver) -> usize {
        let mut n = 0;
        while rx.room() > 0 {
            match self.console.recv(true) {
                Ok(Some(b)) => n += rx.push(&[b]),
                Ok(None) => break,
                Err(e) => {
                    log::warn!("channel receive: {e}");
                    break;
                }
            }
        }
        n
    }

    /// Sends `bytes` to the host (dropped by QEMU if no host is connected).
    pub fn send(&mut self, bytes: &[u8]) {
        if let Err(e) = self.console.send_bytes(bytes) {
            log::warn!("channel send of {} bytes: {e}", bytes.len());
        }
    }
}
