//! Links the stub image with the project's `linker.ld`, only when building for a
//! bare-metal target (on the host the crate is an empty placeholder binary).

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let script = root.join("linker.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("boot/pvh.S").display()
    );
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{}", script.display());
        println!("cargo:rustc-link-arg-bins=--no-pie");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=0x200000");
        println!("cargo:rustc-link-arg-bins=--build-id=none");
    }
}
