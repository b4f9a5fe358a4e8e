use super::*;

/// One note record, padded to `align`.
pub(crate) fn note(name: &[u8], n_type: u32, desc: &[u8], align: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&u32::try_from(name.len()).unwrap().to_le_bytes());
    v.extend_from_slice(&u32::try_from(desc.len()).unwrap().to_le_bytes());
    v.extend_from_slice(&n_type.to_le_bytes());
    v.extend_from_slice(name);
    while v.len() % align != 0 {
        v.push(0);
    }
    v.extend_from_slice(desc);
    while v.len() % align != 0 {
        v.push(0);
    }
    v
}

pub(crate) fn pvh_note(entry: u32) -> Vec<u8> {
    let mut desc = u64::from(entry).to_le_bytes().to_vec();
    desc.truncate(8);
    note(b"Xen\0", 18, &desc, 4)
}

/// An ELF64 x86_64 file: header, a PT_LOAD and a PT_NOTE program header, then
/// the note segment.
pub(crate) fn elf64(seg: &[u8], note_align: u64) -> Vec<u8> {
    let phoff = 64u64;
    let seg_off = phoff + 2 * 56;
    let mut v = vec![0u8; 64];
    v[..4].copy_from_slice(b"\x7fELF");
    v[4] = 2; // ELFCLASS64
    v[5] = 1; // little-endian
    v[6] = 1; // EV_CURRENT
    v[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    v[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    v[20..24].copy_from_slice(&1u32.to_le_bytes());
    v[24..32].copy_from_slice(&0x20_1000u64.to_le_bytes()); // e_entry
    v[32..40].copy_from_slice(&phoff.to_le_bytes());
    v[52..54].copy_from_slice(&64u16.to_le_bytes());
    v[54..56].copy_from_slice(&56u16.to_le_bytes());
    v[56..58].copy_from_slice(&2u16.to_le_bytes());
    // PT_LOAD covering nothing in particular.
    let mut load = vec![0u8; 56];
    load[..4].copy_from_slice(&1u32.to_le_bytes());
    load[48..56].copy_from_slice(&0x20_0000u64.to_le_bytes());
    v.extend_from_slice(&load);
    let mut ph = vec![0u8; 56];
    ph[..4].copy_from_slice(&PT_NOTE.to_le_bytes());
    ph[8..16].copy_from_slice(&seg_off.to_le_bytes());
    ph[32..40].copy_from_slice(&(seg.len() as u64).to_le_bytes());
    ph[40..48].copy_from_slice(&(seg.len() as u64).to_le_bytes());
    ph[48..56].copy_from_slice(&note_align.to_le_bytes());
    v.extend_from_slice(&ph);
    v.extend_from_slice(seg);
    v
}

/// An ELF32 i386 file with one PT_NOTE program header.
fn elf32(seg: &[u8]) -> Vec<u8> {
    let phoff = 52u32;
    let seg_off = phoff + 32;
    let mut v = vec![0u8; 52];
    v[..4].copy_from_slice(b"\x7fELF");
    v[4] = 1;
    v[5] = 1;
    v[6] = 1;
    v[16..18].copy_from_slice(&2u16.to_le_bytes());
    v[18..20].copy_from_slice(&3u16.to_le_bytes());
    v[24..28].copy_from_slice(&0x10_0000u32.to_le_bytes());
    v[28..32].copy_from_slice(&phoff.to_le_bytes());
    v[42..44].copy_from_slice(&32u16.to_le_bytes());
    v[44..46].copy_from_slice(&1u16.to_le_bytes());
    let mut ph = vec![0u8; 32];
    ph[..4].copy_from_slice(&PT_NOTE.to_le_bytes());
    ph[4..8].copy_from_slice(&seg_off.to_le_bytes());
    ph[16..20].copy_from_slice(&(seg.len() as u32).to_le_bytes());
    ph[28..32].copy_from_slice(&4u32.to_le_bytes());
    v.extend_from_slice(&ph);
    v.extend_from_slice(seg);
    v
}

#[test]
fn finds_the_pvh_entry_in_elf64() {
    let mut seg = note(b"GNU\0", 3, &[1, 2, 3, 4, 5], 4);
    seg.extend(pvh_note(0x20_00d0));
    let img = parse_pvh(&elf64(&seg, 4)).unwrap();
    assert_eq!(img.class, ElfClass::Elf64);
    assert_eq!(img.machine_name(), "x86_64");
    assert_eq!(img.elf_entry, 0x20_1000);
    assert_eq!(img.pvh_entry, 0x20_00d0);
}

#[test]
fn four_byte_descriptor_and_elf32() {
    let seg = note(b"Xen\0", 18, &0x10_0040u32.to_le_bytes(), 4);
    let img = parse_pvh(&elf32(&seg)).unwrap();
    assert_eq!(img.class, ElfClass::Elf32);
    assert_eq!(img.machine_name(), "i386");
    assert_eq!(img.pvh_entry, 0x10_0040);
    assert_eq!(img.elf_entry, 0x10_0000);
}

#[test]
fn eight_byte_aligned_note_segment() {
    let mut seg = note(b"GNU\0", 5, &[9; 12], 8);
    seg.extend(note(b"Xen\0", 18, &0x30_0000u64.to_le_bytes(), 8));
    assert_eq!(parse_pvh(&elf64(&seg, 8)).unwrap().pvh_entry, 0x30_0000);
}

#[test]
fn other_notes_are_not_a_pvh_entry() {
    for seg in [
        Vec::new(),
        note(b"Xen\0", 17, &[0; 8], 4),   // other Xen note type
        note(b"Linux\0", 18, &[0; 8], 4), // type 18 of another owner
        note(b"Xe\0", 18, &[0; 8], 4),
    ] {
        assert_eq!(
            parse_pvh(&elf64(&seg, 4)),
            Err(ElfError::NoPvhNote),
            "{seg:?}"
        );
    }
}

#[test]
fn bad_pvh_notes_are_refused() {
    let wrong_size = note(b"Xen\0", 18, &[0; 6], 4);
    assert!(matches!(
        parse_pvh(&elf64(&wrong_size, 4)),
        Err(ElfError::Malformed(_))
    ));
    let high = note(b"Xen\0", 18, &0x1_0000_0000u64.to_le_bytes(), 4);
    assert!(matches!(
        parse_pvh(&elf64(&high, 4)),
        Err(ElfError::Malformed(_))
    ));
    let mut two = pvh_note(0x1000);
    two.extend(pvh_note(0x2000));
    assert!(matches!(
        parse_pvh(&elf64(&two, 4)),
        Err(ElfError::Malformed(_))
    ));
    // A note whose descriptor size points past the segment.
    let mut long = pvh_note(0x1000);
    long[4..8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    assert!(matches!(
        parse_pvh(&elf64(&long, 4)),
        Err(ElfError::Malformed(_))
    ));
}

#[test]
fn garbage_is_not_elf() {
    for bytes in [
        &b""[..],
        b"\x7fEL",
        b"MZ\x90\x00 this is a PE file",
        b"#!/bin/sh\necho hi\n",
        &[0u8; 4096],
    ] {
        assert_eq!(parse_pvh(bytes), Err(ElfError::NotElf));
    }
}

#[test]
fn bad_identification_is_refused() {
    let good = elf64(&pvh_note(0x1000), 4);
    let mut big = good.clone();
    big[5] = 2;
    assert!(matches!(parse_pvh(&big), Err(ElfError::Unsupported(_))));
    let mut class = good.clone();
    class[4] = 7;
    assert!(matches!(parse_pvh(&class), Err(ElfError::Malformed(_))));
    let mut version = good;
    version[6] = 0;
    assert!(matches!(parse_pvh(&version), Err(ElfError::Malformed(_))));
}

#[test]
fn every_truncation_is_an_error() {
    let mut seg = note(b"GNU\0", 3, &[7; 20], 4);
    seg.extend(pvh_note(0x20_00d0));
    for full in [
        elf64(&seg, 4),
        elf32(&note(b"Xen\0", 18, &[0, 0, 0x10, 0], 4)),
    ] {
        assert!(parse_pvh(&full).is_ok());
        for len in 0..full.len() {
            assert!(parse_pvh(&full[..len]).is_err(), "length {len}");
        }
    }
}

#[test]
fn out_of_range_headers_are_refused() {
    let good = elf64(&pvh_note(0x1000), 4);
    // Program header table far past the end.
    let mut far = good.clone();
    far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(parse_pvh(&far).is_err());
    // Too many program headers.
    let mut many = good.clone();
    many[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(parse_pvh(&many).is_err());
    // Program headers smaller than the structure.
    let mut small = good.clone();
    small[54..56].copy_from_slice(&8u16.to_le_bytes());
    assert!(matches!(parse_pvh(&small), Err(ElfError::Malformed(_))));
    // Note segment offset and size out of range.
    let ph = 64 + 56;
    let mut seg_off = good.clone();
    seg_off[ph + 8..ph + 16].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    assert!(parse_pvh(&seg_off).is_err());
    let mut seg_len = good;
    seg_len[ph + 32..ph + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(parse_pvh(&seg_len).is_err());
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = parse_pvh(&bytes);
    }

    #[test]
    fn corrupted_images_never_panic(
        pos in 0usize..300,
        val in proptest::num::u8::ANY,
        cut in 0usize..300,
    ) {
        let mut seg = note(b"GNU\0", 3, &[7; 20], 4);
        seg.extend(pvh_note(0x20_00d0));
        let mut img = elf64(&seg, 4);
        if let Some(b) = img.get_mut(pos) {
            *b = val;
        }
        img.truncate(img.len().saturating_sub(cut % 8));
        let _ = parse_pvh(&img);
    }
}
