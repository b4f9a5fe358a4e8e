//! Just enough ELF to find a PVH entry point.
//!
//! A PVH loader (QEMU microvm, Firecracker, Cloud Hypervisor, Xen) looks through the
//! image's `PT_NOTE` segments for a note named "Xen" of type 18
//! (`XEN_ELFNOTE_PHYS32_ENTRY`), whose descriptor is the 32-bit physical address to
//! jump to. This module reads that note the same way, from untrusted bytes: every
//! read is bounds-checked and every offset computation is checked, so garbage and
//! truncated files give an [`ElfError`], never a panic.
//!
//! Supported: ELF32 and ELF64, little-endian (x86). Section headers are not
//! consulted: a note that is only in a section is invisible to a loader too.

use std::fmt;

/// `EI_CLASS` values.
const ELFCLASS32: u8 = 1;
const ELFCLASS64: u8 = 2;
/// `EI_DATA` value for little-endian.
const ELFDATA2LSB: u8 = 1;
/// `PT_NOTE`.
const PT_NOTE: u32 = 4;
/// `XEN_ELFNOTE_PHYS32_ENTRY` (xen/include/public/elfnote.h).
pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
/// `EM_386` and `EM_X86_64`.
const EM_386: u16 = 3;
const EM_X86_64: u16 = 62;

/// ELF file class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfClass {
    /// 32-bit ELF.
    Elf32,
    /// 64-bit ELF.
    Elf64,
}

impl fmt::Display for ElfClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ElfClass::Elf32 => "ELF32",
            ElfClass::Elf64 => "ELF64",
        })
    }
}

/// What a PVH loader needs to know about an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PvhImage {
    /// ELF class.
    pub class: ElfClass,
    /// `e_machine` (62 = x86_64).
    pub machine: u16,
    /// `e_entry` (the 64-bit entry, unused by PVH loaders).
    pub elf_entry: u64,
    /// The 32-bit physical entry address from the Xen note.
    pub pvh_entry: u32,
}

impl PvhImage {
    /// The machine as a name, for humans.
    pub fn machine_name(&self) -> String {
        match self.machine {
            EM_X86_64 => "x86_64".to_owned(),
            EM_386 => "i386".to_owned(),
            m => format!("machine {m}"),
        }
    }
}

/// Why a file is not a usable PVH image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// No ELF magic at the start.
    NotElf,
    /// The file ends before a structure that the headers promise.
    Truncated(&'static str),
    /// A valid ELF of a kind this reader does not handle.
    Unsupported(String),
    /// A header or note field that makes no sense.
    Malformed(String),
    /// A well-formed ELF without a PVH entry note.
    NoPvhNote,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file (no \\x7fELF magic)"),
            ElfError::Truncated(what) => write!(f, "truncated ELF file: {what} is cut off"),
            ElfError::Unsupported(what) => write!(f, "unsupported ELF file: {what}"),
            ElfError::Malformed(what) => write!(f, "malformed ELF file: {what}"),
            ElfError::NoPvhNote => f.write_str(
                "no PVH entry: the ELF file has no \"Xen\" note of type 18 \
                 (XEN_ELFNOTE_PHYS32_ENTRY) in a PT_NOTE segment",
            ),
        }
    }
}

impl std::error::Error for ElfError {}

/// `len` bytes at `off`, or `None` past the end (or on overflow).
fn bytes_at(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes_at(b, off, 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes_at(b, off, 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes_at(b, off, 8)?.try_into().ok()?))
}

/// A class-sized address or offset field (4 bytes in ELF32, 8 in ELF64).
fn addr_at(b: &[u8], off: usize, class: ElfClass) -> Option<u64> {
    match class {
        ElfClass::Elf32 => u32_at(b, off).map(u64::from),
        ElfClass::Elf64 => u64_at(b, off),
    }
}

fn to_usize(v: u64, what: &str) -> Result<usize, ElfError> {
    usize::try_from(v).map_err(|_| ElfError::Malformed(format!("{what} {v:#x} is out of range")))
}

/// Rounds `v` up to a multiple of `align` (a power of two), or `None` on overflow.
fn align_up(v: usize, align: usize) -> Option<usize> {
    let mask = align.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

/// One program header: the fields this reader uses.
struct Phdr {
    p_type: u32,
    offset: u64,
    filesz: u64,
    align: u64,
}

/// The ELF file header fields this reader uses.
struct Header {
    class: ElfClass,
    machine: u16,
    entry: u64,
    phoff: u64,
    phentsize: u16,
    phnum: u16,
}

fn parse_header(b: &[u8]) -> Result<Header, ElfError> {
    let magic = b.get(..4).ok_or(ElfError::NotElf)?;
    if magic != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let ident = bytes_at(b, 0, 16).ok_or(ElfError::Truncated("the ELF identification"))?;
    let class = match ident.get(4) {
        Some(&ELFCLASS32) => ElfClass::Elf32,
        Some(&ELFCLASS64) => ElfClass::Elf64,
        other => {
            return Err(ElfError::Malformed(format!(
                "unknown class {}",
                other.copied().unwrap_or(0)
            )))
        }
    };
    match ident.get(5) {
        Some(&ELFDATA2LSB) => {}
        Some(2) => {
            return Err(ElfError::Unsupported(
                "big-endian (PVH images are x86, little-endian)".to_owned(),
            ))
        }
        other => {
            return Err(ElfError::Malformed(format!(
                "unknown data encoding {}",
                other.copied().unwrap_or(0)
            )))
        }
    }
    if ident.get(6) != Some(&1) {
        return Err(ElfError::Malformed("EI_VERSION is not 1".to_owned()));
    }
    let (min_len, phoff_at, phentsize_at, phnum_at) = match class {
        ElfClass::Elf32 => (52, 28, 42, 44),
        ElfClass::Elf64 => (64, 32, 54, 56),
    };
    let truncated = ElfError::Truncated("the ELF header");
    if b.len() < min_len {
        return Err(truncated);
    }
    Ok(Header {
        class,
        machine: u16_at(b, 18).ok_or(truncated.clone())?,
        entry: addr_at(b, 24, class).ok_or(truncated.clone())?,
        phoff: addr_at(b, phoff_at, class).ok_or(truncated.clone())?,
        phentsize: u16_at(b, phentsize_at).ok_or(truncated.clone())?,
        phnum: u16_at(b, phnum_at).ok_or(truncated)?,
    })
}

fn parse_phdr(b: &[u8], off: usize, class: ElfClass) -> Option<Phdr> {
    match class {
        ElfClass::Elf32 => Some(Phdr {
            p_type: u32_at(b, off)?,
            offset: u32_at(b, off.checked_add(4)?)?.into(),
            filesz: u32_at(b, off.checked_add(16)?)?.into(),
            align: u32_at(b, off.checked_add(28)?)?.into(),
        }),
        ElfClass::Elf64 => Some(Phdr {
            p_type: u32_at(b, off)?,
            offset: u64_at(b, off.checked_add(8)?)?,
            filesz: u64_at(b, off.checked_add(32)?)?,
            align: u64_at(b, off.checked_add(48)?)?,
        }),
    }
}

/// Every program header, checked to lie inside the file.
fn program_headers(b: &[u8], h: &Header) -> Result<Vec<Phdr>, ElfError> {
    if h.phnum == 0 {
        return Ok(Vec::new());
    }
    let want = match h.class {
        ElfClass::Elf32 => 32,
        ElfClass::Elf64 => 56,
    };
    if usize::from(h.phentsize) < want {
        return Err(ElfError::Malformed(format!(
            "program header size {} (need at least {want})",
            h.phentsize
        )));
    }
    let phoff = to_usize(h.phoff, "program header offset")?;
    let mut out = Vec::with_capacity(usize::from(h.phnum));
    for i in 0..usize::from(h.phnum) {
        let off = i
            .checked_mul(usize::from(h.phentsize))
            .and_then(|o| o.checked_add(phoff))
            .ok_or_else(|| ElfError::Malformed("program header table out of range".into()))?;
        out.push(
            parse_phdr(b, off, h.class).ok_or(ElfError::Truncated("the program header table"))?,
        );
    }
    Ok(out)
}

/// One note: name (without padding), type and descriptor.
#[derive(Debug, PartialEq, Eq)]
pub struct Note<'a> {
    /// The name bytes as stored (with the NUL terminator if present).
    pub name: &'a [u8],
    /// `n_type`.
    pub n_type: u32,
    /// The descriptor.
    pub desc: &'a [u8],
}

/// Splits a note segment into notes; `align` is 4 or 8.
fn notes(seg: &[u8], align: usize) -> Result<Vec<Note<'_>>, ElfError> {
    let bad = |what: &str| ElfError::Malformed(format!("note {what} runs past its segment"));
    let mut out = Vec::new();
    let mut off = 0usize;
    // Trailing padding shorter than a note header is tolerated.
    while seg.len().saturating_sub(off) >= 12 {
        let namesz = to_usize(
            u32_at(seg, off).ok_or_else(|| bad("header"))?.into(),
            "note name size",
        )?;
        let descsz = to_usize(
            u32_at(seg, off.saturating_add(4))
                .ok_or_else(|| bad("header"))?
                .into(),
            "note descriptor size",
        )?;
        let n_type = u32_at(seg, off.saturating_add(8)).ok_or_else(|| bad("header"))?;
        let name_off = off.checked_add(12).ok_or_else(|| bad("name"))?;
        let name = bytes_at(seg, name_off, namesz).ok_or_else(|| bad("name"))?;
        let desc_off = name_off
            .checked_add(namesz)
            .and_then(|o| align_up(o, align))
            .ok_or_else(|| bad("descriptor"))?;
        let desc = bytes_at(seg, desc_off, descsz).ok_or_else(|| bad("descriptor"))?;
        out.push(Note { name, n_type, desc });
        off = match desc_off
            .checked_add(descsz)
            .and_then(|o| align_up(o, align))
        {
            Some(o) => o,
            None => break,
        };
    }
    Ok(out)
}

/// True for the note name "Xen" (stored as "Xen\0").
fn is_xen(name: &[u8]) -> bool {
    name == b"Xen\0" || name == b"Xen"
}

/// Parses `bytes` as an ELF image and returns its PVH entry.
pub fn parse_pvh(bytes: &[u8]) -> Result<PvhImage, ElfError> {
    let h = parse_header(bytes)?;
    let mut entry = None;
    for ph in program_headers(bytes, &h)? {
        if ph.p_type != PT_NOTE {
            continue;
        }
        let off = to_usize(ph.offset, "note segment offset")?;
        let len = to_usize(ph.filesz, "note segment size")?;
        let seg = bytes_at(bytes, off, len).ok_or(ElfError::Truncated("a note segment"))?;
        let align = if ph.align == 8 { 8 } else { 4 };
        for note in notes(seg, align)? {
            if !is_xen(note.name) || note.n_type != XEN_ELFNOTE_PHYS32_ENTRY {
                continue;
            }
            let value = match note.desc.len() {
                4 => u32_at(note.desc, 0).map(u64::from),
                8 => u64_at(note.desc, 0),
                n => {
                    return Err(ElfError::Malformed(format!(
                        "PVH entry note has a {n}-byte descriptor (expected 4 or 8)"
                    )))
                }
            }
            .ok_or(ElfError::Truncated("the PVH entry note"))?;
            let value = u32::try_from(value).map_err(|_| {
                ElfError::Malformed(format!(
                    "PVH entry {value:#x} is above 4 GiB (it is a 32-bit physical address)"
                ))
            })?;
            match entry {
                Some(e) if e != value => {
                    return Err(ElfError::Malformed(format!(
                        "two PVH entry notes disagree ({e:#x} and {value:#x})"
                    )))
                }
                _ => entry = Some(value),
            }
        }
    }
    let pvh_entry = entry.ok_or(ElfError::NoPvhNote)?;
    Ok(PvhImage {
        class: h.class,
        machine: h.machine,
        elf_entry: h.entry,
        pvh_entry,
    })
}

#[cfg(test)]
pub(super) mod tests;
