//! `vtpm version`.

/// Prints the versions of the binary, the engine and the formats it writes.
pub fn run() {
    println!("vtpm {}", env!("CARGO_PKG_VERSION"));
    println!("engine: vtpm-core {}", vtpm_core::identity::VERSION);
    println!("state envelope format: {}", vtpm_proto::FORMAT_VERSION);
    println!("engine state layout: {}", vtpm_core::tpm::STATE_FORMAT);
    println!("front ends: mssim (TCP), swtpm control protocol and data channel (unix, TCP; swtpm, swtpm_setup, swtpm_ioctl)");
    println!(
        "state protection: SHA-256 integrity (process backend), AES-256-GCM sealed in the stub (vm backend)"
    );
    println!("isolation backends: process, vm (QEMU microvm stub, --accel auto|kvm|tcg)");
}
