//! The vm backend: the TPM engine runs in a stub VM (the `vtpm-stub` image
//! under QEMU microvm), one per TPM; this process only moves frames and sealed
//! state. [`qemu`] starts the VM, [`backend`] talks to it.

pub mod backend;
pub mod qemu;

pub use backend::{VmBackend, VmOptions};
pub use qemu::{choose_accel, find_image, stop_all, AccelChoice};
