#!/usr/bin/env bash
# The whole test suite: formatting, lints, the no_std engine build for the stub
# image target, unit tests, property tests and the integration tests that drive
# `vtpm run` with real clients (tpm2-tools, IBM TSS). One release build is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --release -- -D warnings

step "vtpm-core for the stub image target (x86_64-unknown-none)"
cargo build --release -p vtpm-core --target x86_64-unknown-none

step "the stub image (x86_64-unknown-none, booted by vtpm/tests/stub_image.rs)"
cargo clippy --release -p vtpm-stub --target x86_64-unknown-none -- -D warnings
cargo build --release -p vtpm-stub --target x86_64-unknown-none
ls -l target/x86_64-unknown-none/release/vtpm-stub

step "tests"
cargo test --workspace --release 2>&1 | tee target/test-output.txt
summary=$(awk '/^test result:/ {
    for (i = 1; i <= NF; i++) {
      if ($(i+1) ~ /^passed/) p += $i
      if ($(i+1) ~ /^failed/) f += $i
      if ($(i+1) ~ /^ignored/) g += $i
    }
  } END { printf "%d passed, %d failed, %d skipped", p, f, g }' target/test-output.txt)
echo
echo "tests: ${summary}"
