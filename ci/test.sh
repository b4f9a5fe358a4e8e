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

step "reproducible stub image: vtpm image build from two copies of the tree"
# Two copies in different directories, each with its own target directory (the
# registry in CARGO_HOME is shared); the images must be byte-identical.
cargo build --release -p vtpm
vtpm_bin="${CARGO_TARGET_DIR:-$PWD/target}/release/vtpm"
repro=$(mktemp -d /tmp/vtpm-repro.XXXXXX)
trap 'rm -rf "$repro"' EXIT
for copy in a b/elsewhere; do
    mkdir -p "$repro/$copy"
    tar --exclude=./target --exclude=./.git -cf - . | tar -xf - -C "$repro/$copy"
done
# The second copy's files get new modification times.
find "$repro/b" -exec touch {} +
(cd "$repro/a" && "$vtpm_bin" image build --out "$repro/out-a" --target-dir "$repro/target-a")
(cd "$repro/b/elsewhere" && "$vtpm_bin" image build --out "$repro/out-b" --target-dir "$repro/tgt-b")
if ! cmp "$repro/out-a/vtpm-stub.elf" "$repro/out-b/vtpm-stub.elf"; then
    echo "FAIL: the stub image is not reproducible: builds in $repro/a and" \
        "$repro/b/elsewhere differ (see the manifests in $repro/out-a, $repro/out-b)" >&2
    trap - EXIT
    exit 1
fi
for key in size sha256 sha384 pvh_entry toolchain; do
    a=$(grep "\"$key\"" "$repro/out-a/manifest.json")
    b=$(grep "\"$key\"" "$repro/out-b/manifest.json")
    if [ -z "$a" ] || [ "$a" != "$b" ]; then
        echo "FAIL: manifests differ in $key: '$a' vs '$b'" >&2
        trap - EXIT
        exit 1
    fi
done
mkdir -p target/image
cp "$repro/out-a/vtpm-stub.elf" "$repro/out-a/manifest.json" target/image/
echo "reproducible: $(grep '"sha256"' target/image/manifest.json)"
rm -rf "$repro"
trap - EXIT

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
