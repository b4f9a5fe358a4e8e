use super::*;
use crate::cmd::image::elf::tests::{elf64, note, pvh_note};

fn sample() -> Vec<u8> {
    let mut seg = note(b"GNU\0", 3, &[1, 2, 3], 4);
    seg.extend(pvh_note(0x20_00d0));
    elf64(&seg, 4)
}

#[test]
fn measurement_of_an_image() {
    let bytes = sample();
    let m = Measurement::of_bytes("x.elf", &bytes).unwrap();
    assert_eq!(m.size, bytes.len() as u64);
    assert_eq!(m.sha256.len(), 64);
    assert_eq!(m.sha384.len(), 96);
    assert!(m
        .sha256
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(m.sha256, hex(&Sha256::digest(&bytes)));
    assert_eq!(m.pvh.pvh_entry, 0x20_00d0);
    let text = m.text();
    assert!(text.contains(&format!("sha256: {}\n", m.sha256)), "{text}");
    assert!(text.contains(&format!("sha384: {}\n", m.sha384)), "{text}");
    assert!(text.contains("pvh_entry: 0x2000d0\n"), "{text}");
    assert!(text.contains(&format!("size: {}\n", bytes.len())), "{text}");

    // One changed byte changes both digests.
    let mut other = bytes.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    if let Ok(o) = Measurement::of_bytes("x.elf", &other) {
        assert_ne!(o.sha256, m.sha256);
        assert_ne!(o.sha384, m.sha384);
    }
}

#[test]
fn hex_digests_match_known_vectors() {
    // FIPS 180-2 "abc" vectors.
    assert_eq!(
        hex(&Sha256::digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&Sha384::digest(b"abc")),
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
         8086072ba1e7cc2358baeca134c825a7"
    );
}

#[test]
fn non_images_are_refused() {
    assert!(Measurement::of_bytes("x", b"hello").is_err());
    assert!(Measurement::of_bytes("x", &elf64(&[], 4)).is_err());
}

#[test]
fn manifest_json_holds_every_field() {
    let m = Measurement::of_bytes("vtpm-stub.elf", &sample()).unwrap();
    let p = Provenance {
        revision: Some("0123abcd".into()),
        dirty: Some(false),
        toolchain: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
    };
    let j = manifest_json(&m, &p);
    for needle in [
        "\"format\": 1,".to_owned(),
        "\"image\": \"vtpm-stub.elf\",".to_owned(),
        format!("\"size\": {},", m.size),
        format!("\"sha256\": \"{}\",", m.sha256),
        format!("\"sha384\": \"{}\",", m.sha384),
        "\"pvh_entry\": \"0x2000d0\",".to_owned(),
        "\"target\": \"x86_64-unknown-none\",".to_owned(),
        "\"source_revision\": \"0123abcd\",".to_owned(),
        "\"source_dirty\": false,".to_owned(),
        "\"toolchain\": \"rustc 1.95.0 (59807616e 2026-04-14)\"\n".to_owned(),
    ] {
        assert!(j.contains(&needle), "{needle} missing in {j}");
    }
    assert!(j.starts_with("{\n") && j.ends_with("}\n"));
    let unknown = manifest_json(
        &m,
        &Provenance {
            revision: None,
            dirty: None,
            toolchain: String::new(),
        },
    );
    assert!(unknown.contains("\"source_revision\": \"unknown\","));
    assert!(unknown.contains("\"source_dirty\": null,"));
    // The measure form is the image part only.
    let short = m.json();
    assert!(short.contains(&format!("\"sha384\": \"{}\",", m.sha384)));
    assert!(!short.contains("toolchain"));
}

#[test]
fn strings_are_escaped() {
    assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    assert_eq!(
        rustflags_config(&["--remap-path-prefix=/a \"q\"\\b=.".to_owned()]),
        "target.x86_64-unknown-none.rustflags=[\"--remap-path-prefix=/a \\\"q\\\"\\\\b=.\"]"
    );
}

#[test]
fn remapping_puts_specific_prefixes_last() {
    let flags = remap_flags(
        Some(Path::new("/nonexistent-home/.cargo")),
        Path::new("/nonexistent-sysroot/tc"),
        Some("abc123"),
        Path::new("/nonexistent-src/vtpm"),
        Path::new("/nonexistent-src/vtpm/target/image-build"),
    )
    .unwrap();
    let pos = |needle: &str| {
        flags
            .iter()
            .position(|f| f == needle)
            .unwrap_or_else(|| panic!("{needle} not in {flags:?}"))
    };
    let home = pos("--remap-path-prefix=/nonexistent-home/.cargo=/cargo");
    let sysroot = pos("--remap-path-prefix=/nonexistent-sysroot/tc=/rust-sysroot");
    let lib = pos("--remap-path-prefix=/nonexistent-sysroot/tc/lib/rustlib/src/rust=/rustc/abc123");
    let root = pos("--remap-path-prefix=/nonexistent-src/vtpm=.");
    let target = pos("--remap-path-prefix=/nonexistent-src/vtpm/target/image-build=/target");
    assert!(sysroot < lib);
    assert!(root < target);
    assert_eq!(flags.len(), 5, "{home} {flags:?}");
}

#[test]
fn build_environment_is_cleared() {
    for name in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTUP_TOOLCHAIN",
        "CARGO_PROFILE_RELEASE_LTO",
        "CARGO_TARGET_X86_64_UNKNOWN_NONE_RUSTFLAGS",
        "CARGO_TARGET_DIR",
    ] {
        assert!(is_build_env(name), "{name}");
    }
    for name in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "CARGO_TERM_COLOR",
        "CARGO_BUILD_JOBS",
    ] {
        assert!(!is_build_env(name), "{name}");
    }
}

#[test]
fn source_root_is_found_from_below() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert_eq!(find_source_root(root), None);
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"kernel\"]\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("kernel/src")).unwrap();
    fs::write(
        root.join("kernel/Cargo.toml"),
        "[package]\nname = \"vtpm-stub\"\n",
    )
    .unwrap();
    assert_eq!(find_source_root(root), None, "linker.ld missing");
    fs::write(root.join("linker.ld"), "").unwrap();
    assert_eq!(find_source_root(root).as_deref(), Some(root));
    assert_eq!(
        find_source_root(&root.join("kernel/src")).as_deref(),
        Some(root)
    );
    assert!(matches!(
        source_root(Some(&root.join("kernel"))),
        Err(Error::Usage(_))
    ));
}

#[test]
fn a_manifest_matches_its_image_only() {
    let bytes = sample();
    let m = Measurement::of_bytes("vtpm-stub.elf", &bytes).unwrap();
    let p = Provenance {
        revision: None,
        dirty: None,
        toolchain: "rustc".into(),
    };
    let own = manifest::Manifest::parse(&manifest_json(&m, &p)).unwrap();
    assert_eq!(differences(&m, &own), Vec::<String>::new());
    // The measure form is a manifest too.
    let short = manifest::Manifest::parse(&m.json()).unwrap();
    assert_eq!(differences(&m, &short), Vec::<String>::new());

    // Another image (one byte of the PT_LOAD header's p_memsz changed) does not
    // match.
    let mut other_bytes = bytes.clone();
    other_bytes[64 + 40] ^= 0x80;
    let other = Measurement::of_bytes("vtpm-stub.elf", &other_bytes).unwrap();
    let d = differences(&other, &own);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[0].starts_with("sha256 is ") && d[1].starts_with("sha384 is "),
        "{d:?}"
    );

    // A manifest without digests proves nothing.
    let empty = manifest::Manifest::parse("{\"size\": 1}").unwrap();
    let d = differences(&m, &empty);
    assert!(d.iter().any(|x| x.contains("no sha256")), "{d:?}");
    assert!(d.iter().any(|x| x.contains("no sha384")), "{d:?}");
    assert!(d.iter().any(|x| x.starts_with("size is ")), "{d:?}");
}

#[test]
fn build_paths_left_in_an_image_are_found() {
    let bytes = b"\0\0/cargo/registry/src/x.rs\0/home/u/src/vtpm/kernel/src/main.rs\0";
    let found = embedded_paths(
        bytes,
        &[
            Path::new("/home/u/src/vtpm"),
            Path::new("/home/u/.cargo"),
            Path::new("/"),
        ],
    );
    assert_eq!(found, vec!["/home/u/src/vtpm".to_owned()]);
    assert!(embedded_paths(b"", &[Path::new("/x")]).is_empty());
}
