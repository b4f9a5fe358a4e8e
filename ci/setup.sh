#!/usr/bin/env bash
# Installs everything vtpm needs to build and test on Debian 12: the Debian packages
# of the real TPM clients and peers the tests drive, and the pinned Rust toolchain
# (rust-toolchain.toml) with the x86_64-unknown-none target. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  tpm2-tools            # tpm2_* clients (tpm2-tss, mssim/swtpm TCTIs)
  libtss2-tcti-mssim0 libtss2-tcti-swtpm0
  tss2                  # IBM TSS utilities (tss*)
  python3-tpm2-pytss    # ESAPI from Python (benchmarks, session tests)
  swtpm swtpm-tools     # the peer we compare with, and the stand-in hardware TPM
  openssl               # independent check of digests and signatures
  qemu-system-x86       # guests that boot with the vTPM (-tpmdev emulator)
  linux-image-amd64 busybox-static cpio   # the test guest: Debian kernel + busybox initramfs
  ovmf                  # UEFI firmware for measured-boot tests
  ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup is required (https://rustup.rs); it then installs the toolchain pinned in rust-toolchain.toml" >&2
  exit 1
fi
# Installs the channel, components and targets named in rust-toolchain.toml.
rustup toolchain install >/dev/null
rustup show active-toolchain
