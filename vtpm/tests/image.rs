//! `vtpm image measure` and `vtpm image build`: digests checked against ones
//! computed here (and by coreutils when installed), non-images refused.
//!
//! The measure tests need the stub image from
//! `cargo build --release -p vtpm-stub --target x86_64-unknown-none` (ci/test.sh
//! builds it first; `VTPM_STUB_IMAGE` names another) and skip without it. The
//! build test compiles the stub (minutes on a cold target directory), so it is
//! ignored by default; ci/test.sh checks reproducible builds from two
//! directories itself. Run it with `cargo test -p vtpm --release --test image --
//! --ignored`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256, Sha384};

/// The target directory this test was built in: an absolute CARGO_TARGET_DIR,
/// else the one above `<target>/release/deps/image-<hash>`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("../target"))
}

/// Where cargo put the stub image (as in stub_image.rs).
fn image_path() -> PathBuf {
    if let Some(p) = std::env::var_os("VTPM_STUB_IMAGE") {
        return PathBuf::from(p);
    }
    target_dir().join("x86_64-unknown-none/release/vtpm-stub")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The value of a `key: value` line.
fn field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim().to_owned())
}

/// The value of a `"key": value` JSON member (string quotes removed).
fn json_field(json: &str, key: &str) -> Option<String> {
    json.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(&format!("\"{key}\": "))?;
        Some(rest.trim_end_matches(',').trim_matches('"').to_owned())
    })
}

fn measure(args: &[&str], file: &Path) -> Output {
    common::vtpm()
        .args(["image", "measure"])
        .args(args)
        .arg(file)
        .output()
        .expect("run vtpm image measure")
}

/// The PVH entry read from the note with readelf, when binutils is installed.
fn readelf_pvh_entry(file: &Path) -> Option<String> {
    if !common::have("readelf") {
        return None;
    }
    let out = std::process::Command::new("readelf")
        .arg("-n")
        .arg(file)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let data = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("description data: "))?;
    let bytes: Vec<u8> = data
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect::<Option<_>>()?;
    let mut le = [0u8; 8];
    for (d, s) in le.iter_mut().zip(&bytes) {
        *d = *s;
    }
    Some(format!("{:#x}", u64::from_le_bytes(le)))
}

#[test]
fn measure_prints_the_digests_of_the_image() {
    let image = image_path();
    let Ok(bytes) = fs::read(&image) else {
        eprintln!("skipped: no stub image at {}", image.display());
        return;
    };
    let out = measure(&[], &image);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        field(&text, "sha256").as_deref(),
        Some(hex(&Sha256::digest(&bytes)).as_str()),
        "{text}"
    );
    assert_eq!(
        field(&text, "sha384").as_deref(),
        Some(hex(&Sha384::digest(&bytes)).as_str()),
        "{text}"
    );
    assert_eq!(field(&text, "size"), Some(bytes.len().to_string()));
    let entry = field(&text, "pvh_entry").expect("pvh_entry line");
    assert!(entry.starts_with("0x"), "{text}");
    if let Some(readelf) = readelf_pvh_entry(&image) {
        assert_eq!(entry, readelf, "PVH entry differs from readelf -n");
    }
    // coreutils agrees, when installed.
    if common::have("sha384sum") {
        let o = std::process::Command::new("sha384sum")
            .arg(&image)
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            s.split_whitespace().next(),
            field(&text, "sha384").as_deref()
        );
    }

    // The JSON form carries the same values.
    let out = measure(&["--json"], &image);
    assert!(out.status.success(), "{out:?}");
    let json = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        json_field(&json, "sha256"),
        field(&text, "sha256"),
        "{json}"
    );
    assert_eq!(
        json_field(&json, "sha384"),
        field(&text, "sha384"),
        "{json}"
    );
    assert_eq!(json_field(&json, "size"), field(&text, "size"), "{json}");
    assert_eq!(json_field(&json, "pvh_entry"), Some(entry), "{json}");
    assert_eq!(json_field(&json, "format").as_deref(), Some("1"), "{json}");

    // --expect: the image matches its own manifest, and not a changed one.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    fs::write(&good, &json).unwrap();
    let expect = good.to_str().unwrap();
    let out = measure(&["--expect", expect], &image);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches: "));
    let sha256 = field(&text, "sha256").unwrap();
    let mut wrong = sha256.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, json.replace(&sha256, &wrong)).unwrap();
    let out = measure(&["--expect", bad.to_str().unwrap()], &image);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("does not match") && err.contains(&format!("the manifest says {wrong}")),
        "{err}"
    );
    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, "{\"sha256\": [").unwrap();
    let out = measure(&["--expect", garbage.to_str().unwrap()], &image);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a manifest"));
}

#[test]
fn measure_refuses_what_is_not_a_pvh_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    let mut add = |name: &str, bytes: &[u8], why: &'static str| {
        let p = dir.path().join(name);
        fs::write(&p, bytes).unwrap();
        cases.push((p, why));
    };
    add("empty", b"", "not an ELF file");
    add("text", b"#!/bin/sh\necho not an image\n", "not an ELF file");
    let noise: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    add("noise", &noise, "not an ELF file");
    add("magic-only", b"\x7fELF", "truncated");
    if let Ok(image) = fs::read(image_path()) {
        add("head", &image[..image.len().min(100)], "truncated");
        let mut big_endian = image.clone();
        big_endian[5] = 2;
        add("big-endian", &big_endian, "big-endian");
    }
    // A real ELF without a PVH note: the vtpm binary itself.
    cases.push((PathBuf::from(env!("CARGO_BIN_EXE_vtpm")), "no PVH entry"));
    cases.push((dir.path().to_path_buf(), "not a regular file"));
    cases.push((dir.path().join("missing"), "cannot read"));
    for (file, why) in &cases {
        let out = measure(&[], file);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", file.display());
        assert!(out.stdout.is_empty(), "{}", file.display());
        assert!(
            err.starts_with("vtpm: error: ") && err.contains(why),
            "{}: expected {why:?} in {err}",
            file.display()
        );
    }
}

#[test]
fn build_refuses_a_directory_that_is_not_a_source_tree() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::vtpm()
        .args(["image", "build", "--out"])
        .arg(dir.path().join("out"))
        .arg("--source")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a vtpm source tree"), "{err}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn build_without_a_toolchain_says_so() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = common::vtpm()
        .env("PATH", dir.path())
        .args(["image", "build", "--out"])
        .arg(dir.path().join("out"))
        .arg("--source")
        .arg(source)
        .arg("--target-dir")
        .arg(dir.path().join("target"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rustc not found on PATH"), "{err}");
    assert!(!dir.path().join("out").exists());
    assert!(!dir.path().join("target").exists());
}

/// Builds the image into a temporary directory and checks the manifest against
/// the file. Slow (a release build of the stub).
#[test]
#[ignore = "builds the stub image (minutes); ci/test.sh checks reproducibility itself"]
fn build_writes_an_image_and_its_manifest() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = common::vtpm()
        .current_dir(source)
        .args(["image", "build", "--out"])
        .arg(dir.path())
        .arg("--target-dir")
        .arg(target_dir().join("image-build"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = fs::read(dir.path().join("vtpm-stub.elf")).unwrap();
    let manifest = fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    let sha256 = hex(&Sha256::digest(&bytes));
    let sha384 = hex(&Sha384::digest(&bytes));
    assert_eq!(json_field(&manifest, "sha256"), Some(sha256.clone()));
    assert_eq!(json_field(&manifest, "sha384"), Some(sha384.clone()));
    assert_eq!(json_field(&manifest, "size"), Some(bytes.len().to_string()));
    assert_eq!(
        json_field(&manifest, "image").as_deref(),
        Some("vtpm-stub.elf")
    );
    assert!(json_field(&manifest, "toolchain").is_some_and(|t| t.starts_with("rustc ")));
    assert!(json_field(&manifest, "source_revision").is_some());
    assert_eq!(field(&text, "sha256"), Some(sha256.clone()));

    // Measuring the written file gives the manifest's values.
    let m = measure(&[], &dir.path().join("vtpm-stub.elf"));
    let mt = String::from_utf8_lossy(&m.stdout);
    assert_eq!(field(&mt, "sha256"), Some(sha256));
    assert_eq!(field(&mt, "sha384"), Some(sha384));
    assert_eq!(field(&mt, "pvh_entry"), json_field(&manifest, "pvh_entry"));
    let m = measure(
        &[
            "--expect",
            dir.path().join("manifest.json").to_str().unwrap(),
        ],
        &dir.path().join("vtpm-stub.elf"),
    );
    assert!(m.status.success(), "{m:?}");

    // The image has no absolute paths of this machine in it.
    let home = std::env::var("HOME").unwrap_or_default();
    for needle in [source.to_str().unwrap(), home.as_str()] {
        if needle.len() > 1 {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "image contains {needle}"
            );
        }
    }
}
