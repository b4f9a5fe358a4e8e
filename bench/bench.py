#!/usr/bin/python3
"""Per-command latency of vtpm beside swtpm, in one run, through the real TCTIs.

Starts `vtpm run` (MS-simulator protocol, tpm2-tss `mssim` TCTI) and `swtpm socket`
(tpm2-tss `swtpm` TCTI) on loopback ports with throw-away state, then times each
operation through tpm2-pytss ESAPI on both, interleaving rounds so that machine noise
hits both alike. Prints median and p90 latency per command and the ratio
swtpm/vtpm (above 1.0: vtpm is faster).

Usage: bench/bench.py [--vtpm target/release/vtpm] [--iterations 400] [--json FILE]
Needs Debian's python3-tpm2-pytss and swtpm (ci/setup.sh installs both).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from tpm2_pytss import ESAPI, TCTILdr, TSS2_Exception
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_SU
from tpm2_pytss.types import TPML_DIGEST_VALUES, TPMT_HA, TPMU_HA


def free_port_pair():
    """A port P such that P and P+1 are both free on loopback."""
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p >= 65535:
            continue
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 1))
        except OSError:
            continue
        finally:
            t.close()
        return p
    raise RuntimeError("no free port pair")


def wait_port(port, proc, what):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port}")


def start_vtpm(binary, workdir):
    port = free_port_pair()
    state = os.path.join(workdir, "vtpm-state")
    proc = subprocess.Popen(
        [binary, "run", "--state-dir", state, "--mssim", f"127.0.0.1:{port}",
         "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "vtpm")
    wait_port(port + 1, proc, "vtpm")
    return proc, TCTILdr("mssim", f"host=127.0.0.1,port={port}")


def start_swtpm(workdir):
    port = free_port_pair()
    state = os.path.join(workdir, "swtpm-state")
    os.makedirs(state)
    proc = subprocess.Popen(
        ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
         "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
         "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
         "--flags", "not-need-init,startup-clear"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, "swtpm")
    return proc, TCTILdr("swtpm", f"host=127.0.0.1,port={port}")


def startup(esys):
    try:
        esys.startup(TPM2_SU.CLEAR)
    except TSS2_Exception as e:
        if e.rc & 0xFFF != 0x100:  # TPM_RC_INITIALIZE: already started
            raise


def sha256_extend_digests():
    ha = TPMT_HA(hashAlg=TPM2_ALG.SHA256, digest=TPMU_HA(sha256=b"\x42" * 32))
    return TPML_DIGEST_VALUES([ha])


def operations():
    """name -> (setup(esys) -> ctx, op(esys, ctx)). Extend with new commands here."""
    digests = sha256_extend_digests()
    data = b"\x5a" * 1024
    return {
        "GetRandom(32)": (lambda e: None, lambda e, c: e.get_random(32)),
        "PCR_Extend(16, sha256)": (lambda e: None,
                                   lambda e, c: e.pcr_extend(ESYS_TR.PCR16, digests)),
        "PCR_Read(sha256:0-7)": (lambda e: None,
                                 lambda e, c: e.pcr_read("sha256:0,1,2,3,4,5,6,7")),
        "Hash(sha256, 1 KiB)": (lambda e: None,
                                lambda e, c: e.hash(data, TPM2_ALG.SHA256, ESYS_TR.OWNER)),
    }


def time_op(esys, ctx, op, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        op(esys, ctx)
        out.append((time.perf_counter_ns() - t0) / 1000.0)
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vtpm", default="target/release/vtpm", help="vtpm binary")
    ap.add_argument("--iterations", type=int, default=400, help="timed calls per command and server")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds (iterations are split across them)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if not shutil.which("swtpm"):
        sys.exit("bench: swtpm is not installed (run ci/setup.sh)")
    if not os.path.exists(args.vtpm):
        sys.exit(f"bench: {args.vtpm} not found (cargo build --release -p vtpm)")

    work = tempfile.mkdtemp(prefix="vtpm-bench-")
    procs = []
    try:
        vproc, vtcti = start_vtpm(args.vtpm, work)
        procs.append(vproc)
        sproc, stcti = start_swtpm(work)
        procs.append(sproc)
        servers = {"vtpm": ESAPI(vtcti), "swtpm": ESAPI(stcti)}
        for e in servers.values():
            startup(e)
        results = {}
        per_round = max(1, args.iterations // args.rounds)
        for name, (setup, op) in operations().items():
            samples = {k: [] for k in servers}
            ctxs = {k: setup(e) for k, e in servers.items()}
            for k, e in servers.items():  # warm-up
                time_op(e, ctxs[k], op, 10)
            for _ in range(args.rounds):
                for k, e in servers.items():
                    samples[k] += time_op(e, ctxs[k], op, per_round)
            results[name] = {
                k: {"median_us": statistics.median(v), "p90_us": pct(v, 0.9), "n": len(v)}
                for k, v in samples.items()
            }
        print(f"{'command':28} {'vtpm median':>12} {'p90':>9} {'swtpm median':>13} {'p90':>9} {'swtpm/vtpm':>11}")
        for name, r in results.items():
            v, s = r["vtpm"], r["swtpm"]
            ratio = s["median_us"] / v["median_us"]
            r["ratio_swtpm_over_vtpm"] = ratio
            print(f"{name:28} {v['median_us']:10.1f}us {v['p90_us']:7.1f}us "
                  f"{s['median_us']:11.1f}us {s['p90_us']:7.1f}us {ratio:10.2f}x")
        print(f"(times per call through tpm2-pytss ESAPI and the tpm2-tss TCTI; "
              f"{per_round * args.rounds} calls each, {args.rounds} interleaved rounds)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
