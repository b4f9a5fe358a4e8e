//! `vtpm image build` and `vtpm image measure`: the stub VM image, built
//! reproducibly from a source tree, and its measurement (size, SHA-256, SHA-384,
//! PVH entry) as a verifier computes it.
//!
//! Reproducibility: `cargo build` already gives identical bytes for the same
//! source, `Cargo.lock` and toolchain, except for paths that end up in the image
//! (panic locations of dependencies and of generated code). `image build` maps
//! every such path prefix (the source tree, the target directory, `$CARGO_HOME`
//! and the toolchain's library sources) to a fixed name with
//! `--remap-path-prefix`, passed as extra `target.x86_64-unknown-none.rustflags`
//! through `cargo --config` (so they add to the flags in `.cargo/config.toml` and
//! reach the stub's crates only, not build scripts). It clears the environment
//! variables that would change the flags, the profile or the toolchain, and
//! builds with `--locked`. The linker adds no build id (kernel/build.rs) and the
//! image holds no timestamps.

pub mod elf;
pub mod manifest;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256, Sha384};

use crate::cli::{ImageBuildArgs, ImageMeasureArgs};
use crate::error::Error;

use self::elf::PvhImage;

/// The target triple of the stub image.
pub const STUB_TARGET: &str = "x86_64-unknown-none";
/// The cargo package of the stub image.
pub const STUB_PACKAGE: &str = "vtpm-stub";
/// File name of the image in the output directory.
pub const IMAGE_FILE: &str = "vtpm-stub.elf";
/// File name of the manifest in the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the manifest layout.
pub const MANIFEST_FORMAT: u32 = 1;
/// Files larger than this are not images (the stub is about 1.5 MiB).
const MAX_IMAGE_SIZE: u64 = 256 << 20;

/// The measurement of one image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// File name (without directory).
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// SHA-384 of the file, lower-case hex.
    pub sha384: String,
    /// What the ELF headers say.
    pub pvh: PvhImage,
}

impl Measurement {
    /// Measures an image held in memory; refuses anything that is not a PVH ELF.
    pub fn of_bytes(file_name: &str, bytes: &[u8]) -> Result<Measurement, elf::ElfError> {
        let pvh = elf::parse_pvh(bytes)?;
        Ok(Measurement {
            file_name: file_name.to_owned(),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            sha256: hex(&Sha256::digest(bytes)),
            sha384: hex(&Sha384::digest(bytes)),
            pvh,
        })
    }

    /// Reads and measures a file.
    pub fn of_file(path: &Path) -> Result<Measurement, Error> {
        let bytes = read_image(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Measurement::of_bytes(&name, &bytes)
            .map_err(|e| Error::Runtime(format!("{}: {e}", path.display())))
    }

    /// Human-readable form, one `key: value` per line.
    pub fn text(&self) -> String {
        format!(
            "image: {}\nsize: {}\nsha256: {}\nsha384: {}\npvh_entry: {:#x}\nelf: {} {}, e_entry {:#x}\n",
            self.file_name,
            self.size,
            self.sha256,
            self.sha384,
            self.pvh.pvh_entry,
            self.pvh.class,
            self.pvh.machine_name(),
            self.pvh.elf_entry,
        )
    }

    /// The manifest's image fields as `"key": value` JSON members.
    fn json_members(&self) -> Vec<(&'static str, String)> {
        vec![
            ("format", MANIFEST_FORMAT.to_string()),
            ("image", json_str(&self.file_name)),
            ("size", self.size.to_string()),
            ("sha256", json_str(&self.sha256)),
            ("sha384", json_str(&self.sha384)),
            ("pvh_entry", json_str(&format!("{:#x}", self.pvh.pvh_entry))),
            ("elf_class", json_str(&self.pvh.class.to_string())),
            ("machine", json_str(&self.pvh.machine_name())),
        ]
    }

    /// The JSON object `vtpm image measure --json` prints.
    pub fn json(&self) -> String {
        json_object(&self.json_members())
    }
}

/// Where an image came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the source tree, if it is a git checkout.
    pub revision: Option<String>,
    /// Whether the checkout had changes (tracked or untracked) at build time.
    pub dirty: Option<bool>,
    /// `rustc -V` of the toolchain that built it.
    pub toolchain: String,
}

/// The manifest written next to a built image.
pub fn manifest_json(m: &Measurement, p: &Provenance) -> String {
    let mut members = m.json_members();
    members.push(("target", json_str(STUB_TARGET)));
    members.push((
        "source_revision",
        json_str(p.revision.as_deref().unwrap_or("unknown")),
    ));
    members.push((
        "source_dirty",
        match p.dirty {
            Some(d) => d.to_string(),
            None => "null".to_owned(),
        },
    ));
    members.push(("toolchain", json_str(&p.toolchain)));
    json_object(&members)
}

fn json_object(members: &[(&str, String)]) -> String {
    let mut s = String::from("{\n");
    for (i, (k, v)) in members.iter().enumerate() {
        let comma = if i + 1 < members.len() { "," } else { "" };
        s.push_str(&format!("  {}: {v}{comma}\n", json_str(k)));
    }
    s.push_str("}\n");
    s
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML basic string literal (for `cargo --config`).
fn toml_str(s: &str) -> String {
    // JSON string escapes are a subset of TOML's basic-string escapes.
    json_str(s)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read_image(path: &Path) -> Result<Vec<u8>, Error> {
    let meta = fs::metadata(path)
        .map_err(|e| Error::Runtime(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Error::Runtime(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > MAX_IMAGE_SIZE {
        return Err(Error::Runtime(format!(
            "{} is {} bytes, too large for a stub image",
            path.display(),
            meta.len()
        )));
    }
    fs::read(path).map_err(|e| Error::Runtime(format!("cannot read {}: {e}", path.display())))
}

/// Compares a measurement with a manifest: the size, both digests and the PVH
/// entry must be equal. Returns the differences (empty when it matches).
pub fn differences(m: &Measurement, manifest: &manifest::Manifest) -> Vec<String> {
    let mut out = Vec::new();
    let expected = [
        ("size", m.size.to_string(), false),
        ("sha256", m.sha256.clone(), true),
        ("sha384", m.sha384.clone(), true),
        ("pvh_entry", format!("{:#x}", m.pvh.pvh_entry), false),
    ];
    for (key, actual, required) in expected {
        match manifest.get(key) {
            None if required => out.push(format!("the manifest has no {key}")),
            None => {}
            Some(v) => {
                let want = v.to_string();
                let same = if key == "size" {
                    want == actual
                } else {
                    want.eq_ignore_ascii_case(&actual)
                };
                if !same {
                    out.push(format!("{key} is {actual}, the manifest says {want}"));
                }
            }
        }
    }
    out
}

/// `vtpm image measure FILE [--json] [--expect MANIFEST]`.
pub fn measure(args: &ImageMeasureArgs) -> Result<(), Error> {
    let m = Measurement::of_file(&args.file)?;
    if args.json {
        print!("{}", m.json());
    } else {
        print!("{}", m.text());
    }
    if let Some(path) = &args.expect {
        let text = fs::read(path)
            .map_err(|e| Error::Runtime(format!("cannot read {}: {e}", path.display())))?;
        let text = String::from_utf8(text)
            .map_err(|_| Error::Runtime(format!("{}: not UTF-8 text", path.display())))?;
        let manifest = manifest::Manifest::parse(&text)
            .map_err(|e| Error::Runtime(format!("{}: {e}", path.display())))?;
        let diffs = differences(&m, &manifest);
        if !diffs.is_empty() {
            return Err(Error::Runtime(format!(
                "{} does not match {}: {}",
                args.file.display(),
                path.display(),
                diffs.join("; ")
            )));
        }
        if !args.json {
            println!("matches: {}", path.display());
        }
    }
    Ok(())
}

/// True when `dir` is the root of this project's source tree.
fn is_source_root(dir: &Path) -> bool {
    let stub = fs::read_to_string(dir.join("kernel/Cargo.toml")).unwrap_or_default();
    let ws = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
    ws.contains("[workspace]")
        && stub.contains(&format!("name = \"{STUB_PACKAGE}\""))
        && dir.join("linker.ld").is_file()
}

/// The source tree containing `start` (it or one of its parents).
fn find_source_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| is_source_root(d))
        .map(Path::to_path_buf)
}

/// The source tree to build: `--source`, else the one around the current
/// directory, else the one the running binary was built in.
fn source_root(arg: Option<&Path>) -> Result<PathBuf, Error> {
    let root = match arg {
        Some(dir) => {
            if !is_source_root(dir) {
                return Err(Error::Usage(format!(
                    "{} is not a vtpm source tree (no workspace Cargo.toml, \
                     kernel/Cargo.toml of {STUB_PACKAGE} and linker.ld there)",
                    dir.display()
                )));
            }
            dir.to_path_buf()
        }
        None => {
            let cwd = std::env::current_dir().ok();
            let exe = std::env::current_exe().ok();
            cwd.as_deref()
                .and_then(find_source_root)
                .or_else(|| exe.as_deref().and_then(find_source_root))
                .ok_or_else(|| {
                    Error::Usage(
                        "not in a vtpm source tree: neither the current directory nor the \
                         vtpm binary's location is inside a checkout (a workspace with \
                         kernel/ and linker.ld); run this from a checkout or pass --source DIR"
                            .to_owned(),
                    )
                })?
        }
    };
    fs::canonicalize(&root)
        .map_err(|e| Error::Runtime(format!("cannot resolve {}: {e}", root.display())))
}

/// An absolute form of `p` (relative to the current directory).
fn absolute(p: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(p).map_err(|e| Error::Runtime(format!("{}: {e}", p.display())))
}

/// Environment variables that change how cargo builds, which an image build must
/// not inherit (the toolchain comes from rust-toolchain.toml, the flags from the
/// tree's .cargo/config.toml and this module).
fn is_build_env(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_BOOTSTRAP",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_INCREMENTAL",
        "CARGO_BUILD_INCREMENTAL",
        "CARGO_BUILD_RUSTC",
        "CARGO_BUILD_RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
        "SOURCE_DATE_EPOCH",
    ];
    EXACT.contains(&name)
        || name.starts_with("CARGO_PROFILE_")
        || name.starts_with("CARGO_TARGET_X86_64_UNKNOWN_NONE_")
        || name.starts_with("CARGO_ENCODED_")
}

/// A command that runs in the source tree with a clean build environment.
fn tool(root: &Path, program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_build_env) {
            cmd.env_remove(&name);
        }
    }
    cmd
}

/// Runs a command to completion and returns its stdout, or a clear error.
fn output(mut cmd: Command, what: &str, hint: &str) -> Result<String, Error> {
    let out = cmd.stderr(Stdio::piped()).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Usage(format!("{what} not found on PATH: {hint}"))
        } else {
            Error::Runtime(format!("cannot run {what}: {e}"))
        }
    })?;
    if !out.status.success() {
        return Err(Error::Runtime(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8(out.stdout)
        .map_err(|_| Error::Runtime(format!("{what}: output is not UTF-8")))
}

const RUSTUP_HINT: &str = "install Rust with rustup (https://rustup.rs); the tree pins \
                           its toolchain and targets in rust-toolchain.toml";

/// Facts about the toolchain rust-toolchain.toml selects.
struct Toolchain {
    /// `rustc -V`.
    version: String,
    /// The rustc commit (the `/rustc/<hash>` its library paths are named after).
    commit: Option<String>,
    /// `rustc --print sysroot`.
    sysroot: PathBuf,
}

fn toolchain(root: &Path) -> Result<Toolchain, Error> {
    let mut vv = tool(root, "rustc");
    vv.arg("-vV");
    let vv = output(vv, "rustc", RUSTUP_HINT)?;
    let version = vv.lines().next().unwrap_or_default().trim().to_owned();
    let commit = vv
        .lines()
        .find_map(|l| l.strip_prefix("commit-hash: "))
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h != "unknown");
    let mut sysroot = tool(root, "rustc");
    sysroot.args(["--print", "sysroot"]);
    let sysroot = PathBuf::from(output(sysroot, "rustc", RUSTUP_HINT)?.trim());
    let mut libdir = tool(root, "rustc");
    libdir.args(["--print", "target-libdir", "--target", STUB_TARGET]);
    let libdir = PathBuf::from(output(libdir, "rustc", RUSTUP_HINT)?.trim());
    if !libdir.is_dir() {
        return Err(Error::Usage(format!(
            "the Rust standard library for {STUB_TARGET} is not installed \
             ({} is missing): rustup target add {STUB_TARGET}",
            libdir.display()
        )));
    }
    Ok(Toolchain {
        version,
        commit,
        sysroot,
    })
}

/// `$CARGO_HOME`, as cargo resolves it.
fn cargo_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return std::path::absolute(PathBuf::from(h)).ok();
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cargo"))
}

/// `p` and, when it differs, its canonical form (symlinks resolved): cargo and
/// rustc may see either.
fn both_forms(p: &Path) -> Vec<PathBuf> {
    let mut v = vec![p.to_path_buf()];
    if let Ok(c) = fs::canonicalize(p) {
        if c != p {
            v.push(c);
        }
    }
    v
}

/// The `--remap-path-prefix` flags that make the image independent of where the
/// tree, the target directory, cargo's home and the toolchain live. rustc applies
/// the last matching mapping, so more specific prefixes come later.
fn remap_flags(
    cargo_home: Option<&Path>,
    sysroot: &Path,
    commit: Option<&str>,
    root: &Path,
    target_dir: &Path,
) -> Result<Vec<String>, Error> {
    let mut pairs: Vec<(PathBuf, String)> = Vec::new();
    if let Some(home) = cargo_home {
        for p in both_forms(home) {
            pairs.push((p, "/cargo".to_owned()));
        }
    }
    if let Some(hash) = commit {
        // Library sources of rust-src, when installed, are named as in the
        // prebuilt standard library.
        for p in both_forms(&sysroot.join("lib/rustlib/src/rust")) {
            pairs.push((p, format!("/rustc/{hash}")));
        }
    }
    for p in both_forms(sysroot) {
        pairs.push((p, "/rust-sysroot".to_owned()));
    }
    for p in both_forms(root) {
        pairs.push((p, ".".to_owned()));
    }
    for p in both_forms(target_dir) {
        pairs.push((p, "/target".to_owned()));
    }
    // The library-sources mapping must win over the sysroot one.
    pairs.sort_by_key(|(from, _)| from.components().count());
    pairs
        .into_iter()
        .map(|(from, to)| {
            let from = from.to_str().ok_or_else(|| {
                Error::Usage(format!(
                    "path {} is not valid UTF-8; build from a UTF-8 path",
                    from.display()
                ))
            })?;
            Ok(format!("--remap-path-prefix={from}={to}"))
        })
        .collect()
}

/// The `cargo --config` value that adds `flags` to the stub target's rustflags.
fn rustflags_config(flags: &[String]) -> String {
    let list: Vec<String> = flags.iter().map(|f| toml_str(f)).collect();
    format!("target.{STUB_TARGET}.rustflags=[{}]", list.join(", "))
}

/// `git` facts of the tree, when `root` is the top of a git checkout.
fn provenance_of(root: &Path) -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .current_dir(root)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()
    };
    let Some(top) = git(&["rev-parse", "--show-toplevel"]) else {
        return (None, None);
    };
    // A tree unpacked inside some other repository is not that repository.
    if fs::canonicalize(top.trim()).ok().as_deref() != Some(root) {
        return (None, None);
    }
    let Some(head) = git(&["rev-parse", "--verify", "HEAD"]) else {
        return (None, None);
    };
    let dirty = git(&["status", "--porcelain"]).map(|s| !s.trim().is_empty());
    (Some(head.trim().to_owned()), dirty)
}

/// Those of `paths` whose text occurs in `bytes` (a path that survived the
/// remapping makes the image depend on where it was built).
fn embedded_paths(bytes: &[u8], paths: &[&Path]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|p| p.to_str())
        .filter(|p| p.len() > 1)
        .filter(|p| bytes.windows(p.len()).any(|w| w == p.as_bytes()))
        .map(str::to_owned)
        .collect()
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::Runtime(format!("cannot write {}: {e}", path.display()));
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(err)
}

/// `vtpm image build --out DIR [--target-dir DIR] [--source DIR]`.
pub fn build(args: &ImageBuildArgs) -> Result<(), Error> {
    let root = source_root(args.source.as_deref())?;
    let tc = toolchain(&root)?;
    let target_dir = match &args.target_dir {
        Some(d) => absolute(d)?,
        None => root.join("target").join("image-build"),
    };
    fs::create_dir_all(&target_dir)
        .map_err(|e| Error::Runtime(format!("cannot create {}: {e}", target_dir.display())))?;
    let target_dir = fs::canonicalize(&target_dir)
        .map_err(|e| Error::Runtime(format!("{}: {e}", target_dir.display())))?;
    let out_dir = absolute(&args.out)?;
    let home = cargo_home();
    let flags = remap_flags(
        home.as_deref(),
        &tc.sysroot,
        tc.commit.as_deref(),
        &root,
        &target_dir,
    )?;
    // The revision as it was when the build started.
    let (revision, dirty) = provenance_of(&root);
    log::info!(
        "building {STUB_PACKAGE} from {} with {} into {}",
        root.display(),
        tc.version,
        target_dir.display()
    );

    let mut cargo = tool(&root, "cargo");
    cargo
        .args(["build", "--release", "--locked", "-p", STUB_PACKAGE])
        .args(["--target", STUB_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--config")
        .arg(rustflags_config(&flags))
        .stdin(Stdio::null())
        // Cargo's progress goes to stderr; keep stdout for the result.
        .stdout(Stdio::from(std::io::stderr()));
    let status = cargo.status().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Usage(format!("cargo not found on PATH: {RUSTUP_HINT}"))
        } else {
            Error::Runtime(format!("cannot run cargo: {e}"))
        }
    })?;
    if !status.success() {
        return Err(Error::Runtime(format!(
            "cargo build of the stub image failed ({status})"
        )));
    }

    let built = target_dir
        .join(STUB_TARGET)
        .join("release")
        .join(STUB_PACKAGE);
    let bytes = read_image(&built)?;
    let m = Measurement::of_bytes(IMAGE_FILE, &bytes)
        .map_err(|e| Error::Runtime(format!("{}: {e}", built.display())))?;
    let mut build_paths = vec![root.as_path(), target_dir.as_path(), tc.sysroot.as_path()];
    if let Some(h) = home.as_deref() {
        build_paths.push(h);
    }
    for p in embedded_paths(&bytes, &build_paths) {
        log::warn!(
            "the image contains the build path {p}: builds in other directories will differ"
        );
    }
    let p = Provenance {
        revision,
        dirty,
        toolchain: tc.version,
    };
    fs::create_dir_all(&out_dir)
        .map_err(|e| Error::Runtime(format!("cannot create {}: {e}", out_dir.display())))?;
    let out_dir = fs::canonicalize(&out_dir).unwrap_or(out_dir);
    let image_path = out_dir.join(IMAGE_FILE);
    let manifest_path = out_dir.join(MANIFEST_FILE);
    write_file(&image_path, &bytes)?;
    write_file(&manifest_path, manifest_json(&m, &p).as_bytes())?;

    print!("{}", m.text());
    println!(
        "source_revision: {}{}",
        p.revision.as_deref().unwrap_or("unknown"),
        if p.dirty == Some(true) {
            " (dirty)"
        } else {
            ""
        }
    );
    println!("toolchain: {}", p.toolchain);
    println!("wrote {}", display(&image_path));
    println!("wrote {}", display(&manifest_path));
    Ok(())
}

fn display(p: &Path) -> std::borrow::Cow<'_, str> {
    p.as_os_str().to_string_lossy()
}

#[cfg(test)]
mod tests;
