#!/usr/bin/env bash
# Quick start: install what is needed, build, and serve a vTPM on loopback with its
# state in ./vtpm-state (MS-simulator protocol: command port 2321, platform 2322).
# Try it from another shell:
#   export TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=2321
#   tpm2_startup -c && tpm2_getrandom --hex 16 && tpm2_pcrread sha256:0,1,2
set -euo pipefail
cd "$(dirname "$0")/.."
./ci/setup.sh
cargo build --release -p vtpm
exec ./target/release/vtpm run --state-dir ./vtpm-state --mssim 127.0.0.1:2321 "$@"
