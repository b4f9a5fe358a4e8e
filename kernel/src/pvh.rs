//! The PVH boot ABI's data structures (Xen `start_info.h`), parsed from bytes:
//! pure code, compiled and unit-tested on the host too. [`crate::boot`] copies
//! the bytes out of guest memory; everything here only reads slices.

/// `hvm_start_info.magic` ("xEn3" with the high bit of 'E' set).
pub const START_INFO_MAGIC: u32 = 0x336e_c578;

/// Size of `struct hvm_start_info`.
pub const START_INFO_LEN: usize = 56;

/// Size of `struct hvm_memmap_table_entry`.
pub const MEMMAP_ENTRY_LEN: usize = 24;

/// Largest memory map read (QEMU's option ROM writes at most 128 entries).
pub const MAX_MEMMAP_ENTRIES: u32 = 128;

/// E820 type of usable RAM.
pub const MEMMAP_RAM: u32 = 1;

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// What the stub takes from `struct hvm_start_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// Structure version (QEMU, Firecracker and Cloud Hypervisor write 1).
    pub version: u32,
    /// Physical address of the NUL-terminated command line (0: none).
    pub cmdline_paddr: u64,
    /// Physical address of the memory map (0: none; version 1 and later).
    pub memmap_paddr: u64,
    /// Entries in the memory map (capped at [`MAX_MEMMAP_ENTRIES`]).
    pub memmap_entries: u32,
}

impl StartInfo {
    /// Parses the 56 bytes of `struct hvm_start_info`; `None` if the magic is
    /// wrong.
    pub fn parse(b: &[u8; START_INFO_LEN]) -> Option<StartInfo> {
        if u32_at(b, 0) != START_INFO_MAGIC {
            return None;
        }
        let version = u32_at(b, 4);
        let has_memmap = version >= 1;
        Some(StartInfo {
            version,
            cmdline_paddr: u64_at(b, 24),
            memmap_paddr: if has_memmap { u64_at(b, 40) } else { 0 },
            memmap_entries: if has_memmap {
                u32_at(b, 48).min(MAX_MEMMAP_ENTRIES)
            } else {
                0
            },
        })
    }
}

/// One `struct hvm_memmap_table_entry`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemmapEntry {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// E820 type ([`MEMMAP_RAM`] = usable RAM).
    pub kind: u32,
}

impl MemmapEntry {
    /// Parses the 24 bytes of one entry.
    pub fn parse(b: &[u8; MEMMAP_ENTRY_LEN]) -> MemmapEntry {
        MemmapEntry {
            addr: u64_at(b, 0),
            size: u64_at(b, 8),
            kind: u32_at(b, 16),
        }
    }
}

/// The heap: the largest piece of usable RAM at or above `floor` and below
/// `ceiling`, page aligned, at least `min_len` bytes; `(start, len)`.
pub fn choose_heap(
    ram: impl Iterator<Item = (u64, u64)>,
    floor: u64,
    ceiling: u64,
    min_len: u64,
) -> Option<(u64, u64)> {
    ram.filter_map(|(start, len)| {
        let end = start.checked_add(len)?.min(ceiling) & !0xfff;
        let start = start.max(floor).checked_add(0xfff)? & !0xfff;
        (end > start).then(|| (start, end - start))
    })
    .max_by_key(|&(_, len)| len)
    .filter(|&(_, len)| len >= min_len)
}

/// The command line from a buffer: up to the first NUL (none: empty), cut at
/// the first byte that is not UTF-8.
pub fn cmdline(buf: &[u8]) -> &str {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let bytes = buf.get(..end).unwrap_or_default();
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or_default())
            .unwrap_or_default(),
    }
}

/// A virtio-mmio device named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioMmioDevice {
    /// Size of the register window.
    pub size: u64,
    /// Physical base address.
    pub base: u64,
    /// Interrupt (GSI; a pin of the first IOAPIC).
    pub irq: u32,
}

/// The virtio-mmio devices named on a command line in the Linux syntax
/// `virtio_mmio.device=<size>@<base>:<irq>[:<id>]` (QEMU microvm without ACPI,
/// Firecracker). Size takes a `K`/`M` suffix; numbers are decimal or `0x` hex.
/// Malformed entries are skipped.
pub fn virtio_mmio_devices(cmdline: &str) -> impl Iterator<Item = VirtioMmioDevice> + '_ {
    cmdline.split_ascii_whitespace().filter_map(|word| {
        let spec = word.strip_prefix("virtio_mmio.device=")?;
        let (size, rest) = spec.split_once('@')?;
        let mut fields = rest.split(':');
        let base = parse_number(fields.next()?)?;
        let irq = u32::try_from(parse_number(fields.next()?)?).ok()?;
        Some(VirtioMmioDevice {
            size: parse_size(size)?,
            base,
            irq,
        })
    })
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = match s.as_bytes().last()? {
        b'K' | b'k' => (s.get(..s.len() - 1)?, 1 << 10),
        b'M' | b'm' => (s.get(..s.len() - 1)?, 1 << 20),
        _ => (s, 1),
    };
    parse_number(digits)?.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtio_mmio_devices_from_qemu_and_firecracker_command_lines() {
        let qemu = " virtio_mmio.device=512@0xfeb00e00:12";
        assert_eq!(
            virtio_mmio_devices(qemu).collect::<Vec<_>>(),
            [VirtioMmioDevice {
                size: 512,
                base: 0xfeb0_0e00,
                irq: 12
            }]
        );
        let fc =
            "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6:3";
        let d: Vec<_> = virtio_mmio_devices(fc).collect();
        assert_eq!(d.len(), 2);
        assert_eq!((d[1].size, d[1].base, d[1].irq), (4096, 0xd000_1000, 6));
    }

    #[test]
    fn malformed_virtio_mmio_entries_are_skipped() {
        for bad in [
            "virtio_mmio.device=",
            "virtio_mmio.device=512",
            "virtio_mmio.device=512@0xzz:5",
            "virtio_mmio.device=512@0x1000",
            "virtio_mmio.device=K@0x1000:5",
            "virtio_mmio.device=99999999999999999999M@0x1000:5",
            "virtio_mmio.device=512@0x1000:99999999999",
            "xvirtio_mmio.device=512@0x1000:5",
        ] {
            assert_eq!(virtio_mmio_devices(bad).count(), 0, "{bad}");
        }
    }

    fn start_info(version: u32, cmdline: u64, memmap: u64, entries: u32) -> [u8; 56] {
        let mut b = [0u8; 56];
        b[0..4].copy_from_slice(&START_INFO_MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&version.to_le_bytes());
        b[24..32].copy_from_slice(&cmdline.to_le_bytes());
        b[40..48].copy_from_slice(&memmap.to_le_bytes());
        b[48..52].copy_from_slice(&entries.to_le_bytes());
        b
    }

    #[test]
    fn start_info_fields_are_read_at_their_offsets() {
        let si = StartInfo::parse(&start_info(1, 0x1234, 0x5000, 3)).unwrap();
        assert_eq!(
            si,
            StartInfo {
                version: 1,
                cmdline_paddr: 0x1234,
                memmap_paddr: 0x5000,
                memmap_entries: 3
            }
        );
    }

    #[test]
    fn version_0_has_no_memory_map() {
        let si = StartInfo::parse(&start_info(0, 0, 0x5000, 3)).unwrap();
        assert_eq!((si.memmap_paddr, si.memmap_entries), (0, 0));
    }

    #[test]
    fn wrong_magic_is_refused_and_huge_maps_are_capped() {
        let mut b = start_info(1, 0, 0x5000, u32::MAX);
        assert_eq!(
            StartInfo::parse(&b).unwrap().memmap_entries,
            MAX_MEMMAP_ENTRIES
        );
        b[0] ^= 1;
        assert_eq!(StartInfo::parse(&b), None);
    }

    #[test]
    fn memmap_entry_layout() {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&0x10_0000u64.to_le_bytes());
        b[8..16].copy_from_slice(&0xf0_0000u64.to_le_bytes());
        b[16..20].copy_from_slice(&1u32.to_le_bytes());
        b[20..24].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        assert_eq!(
            MemmapEntry::parse(&b),
            MemmapEntry {
                addr: 0x10_0000,
                size: 0xf0_0000,
                kind: MEMMAP_RAM
            }
        );
    }

    #[test]
    fn heap_is_the_largest_ram_above_the_image() {
        // QEMU microvm with -m 16M: low RAM, then 1 MiB..16 MiB; image ends at 3.6 MiB.
        let ram = [(0, 0x9_fc00), (0x10_0000, 0xf0_0000)];
        assert_eq!(
            choose_heap(ram.into_iter(), 0x3a_9000, 0xfe00_0000, 2 << 20),
            Some((0x3a_9000, 0x100_0000 - 0x3a_9000))
        );
    }

    #[test]
    fn heap_is_page_aligned_and_below_the_ceiling() {
        let ram = [(0x10_0001, 0x2_0000_0000)];
        let (start, len) = choose_heap(ram.into_iter(), 0x20_0123, 0xfe00_0000, 1).unwrap();
        assert_eq!(start, 0x20_1000);
        assert_eq!(start + len, 0xfe00_0000);
    }

    #[test]
    fn no_heap_when_too_small_or_overflowing() {
        let ram = [(0x10_0000, 0x10_0000), (u64::MAX - 10, 100)];
        assert_eq!(
            choose_heap(ram.into_iter(), 0x10_0000, 0xfe00_0000, 2 << 20),
            None
        );
        assert_eq!(choose_heap(core::iter::empty(), 0, u64::MAX, 0), None);
    }

    #[test]
    fn cmdline_stops_at_nul_and_bad_utf8() {
        assert_eq!(
            cmdline(b" virtio_mmio.device=512@0xfeb00e00:12\0junk"),
            " virtio_mmio.device=512@0xfeb00e00:12"
        );
        assert_eq!(cmdline(b"abc\xffdef\0"), "abc");
        assert_eq!(cmdline(b"no terminator"), "");
        assert_eq!(cmdline(b""), "");
    }
}
