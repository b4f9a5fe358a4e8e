#!/usr/bin/python3
"""The VM backend measured: stub image size, boot to first response, host memory
per instance (vtpm daemon + QEMU), per-command latency beside process mode, and how
many VM-backed instances run at once on this machine with every one answering.

Usage: bench/vm_bench.py [--vtpm target/release/vtpm] [--image FILE] [--accel tcg]
                         [--boots 5] [--iterations 200] [--max-instances 0]
                         [--reserve-mib 2048]

--max-instances 0 skips the density run; N > 0 starts up to N instances, stopping
early when MemAvailable falls below --reserve-mib. Long: run it outside CI.
Needs QEMU, the stub image (cargo build --release -p vtpm-stub --target
x86_64-unknown-none) and, for the latency table, python3-tpm2-pytss.
"""

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

STARTUP_CLEAR = bytes.fromhex("80010000000c000001440000")
GET_RANDOM_16 = bytes.fromhex("80010000000c0000017b0010")


class Mssim:
    """A minimal MS-simulator client: TPM_SEND_COMMAND at locality 0."""

    def __init__(self, port, timeout=60):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def command(self, cmd):
        self.s.sendall(struct.pack(">IBI", 8, 0, len(cmd)) + cmd)
        (n,) = struct.unpack(">I", self._read(4))
        resp = self._read(n)
        self._read(4)
        return resp

    def close(self):
        self.s.close()


def rc(resp):
    return struct.unpack(">I", resp[6:10])[0]


def free_port_pair(start):
    p = start
    while True:
        ok = True
        for q in (p, p + 1):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
        p += 2


def start(args, workdir, name, isolation, port):
    state = os.path.join(workdir, name)
    cmd = [args.vtpm, "run", "--state-dir", state, "--mssim", f"127.0.0.1:{port}",
           "--isolation", isolation, "--log-level", "warn"]
    if isolation == "vm":
        cmd += ["--accel", args.accel]
        if args.image:
            cmd += ["--image", args.image]
    log = open(os.path.join(workdir, name + ".log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)


def wait_answer(port, proc, limit=120):
    """Connects and sends Startup + GetRandom; returns the time it took."""
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vtpm exited with {proc.returncode}")
        try:
            c = Mssim(port)
        except OSError:
            time.sleep(0.005)
            continue
        r = c.command(STARTUP_CLEAR)
        if rc(r) not in (0, 0x100):
            raise RuntimeError(f"Startup failed: {rc(r):#x}")
        r = c.command(GET_RANDOM_16)
        c.close()
        if rc(r) != 0 or len(r) != 10 + 2 + 16:
            raise RuntimeError(f"GetRandom failed: {rc(r):#x}")
        return
    raise RuntimeError("no answer")


def children(pid):
    """Children of every thread of `pid` (QEMU is started from a thread)."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_kib(pid):
    return pss_kib(pid) + sum(tree_pss_kib(c) for c in children(pid))


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def stop(proc):
    try:
        os.killpg(proc.pid, 15)
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def boot_times(args, workdir):
    """Spawn-to-first-response of a new TPM (manufactured in the stub) and of an
    existing state, `--boots` times each."""
    fresh, existing = [], []
    for i in range(args.boots):
        port = free_port_pair(24000 + 10 * i)
        for kind, out in (("fresh", fresh), ("existing", existing)):
            t0 = time.perf_counter()
            p = start(args, workdir, f"boot{i}", "vm", port)
            wait_answer(port, p)
            out.append((time.perf_counter() - t0) * 1000)
            if kind == "existing":
                mem = tree_pss_kib(p.pid)
            stop(p)
    return fresh, existing, mem


def latency(args, workdir):
    try:
        from tpm2_pytss import ESAPI, TCTILdr
        from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPMA_NV
        from tpm2_pytss.types import (TPM2B_NV_PUBLIC, TPMS_NV_PUBLIC, TPML_DIGEST_VALUES,
                                      TPMT_HA, TPMU_HA)
    except ImportError:
        print("latency: skipped (python3-tpm2-pytss not installed)", file=sys.stderr)
        return {}
    results = {}
    procs = {}
    esys = {}
    for iso, base in (("process", 25000), ("vm", 25100)):
        port = free_port_pair(base)
        procs[iso] = start(args, workdir, f"lat-{iso}", iso, port)
        wait_answer(port, procs[iso])
        esys[iso] = ESAPI(TCTILdr("mssim", f"host=127.0.0.1,port={port}"))
    try:
        ha = TPMT_HA(hashAlg=TPM2_ALG.SHA256, digest=TPMU_HA(sha256=b"\x42" * 32))
        digests = TPML_DIGEST_VALUES([ha])
        nv = {}
        for iso, e in esys.items():
            pub = TPM2B_NV_PUBLIC(nvPublic=TPMS_NV_PUBLIC(
                nvIndex=0x01500030, nameAlg=TPM2_ALG.SHA256, dataSize=64,
                attributes=TPMA_NV.AUTHREAD | TPMA_NV.AUTHWRITE | TPMA_NV.NO_DA))
            nv[iso] = e.nv_define_space(None, pub)
            e.nv_write(nv[iso], b"\x01" * 64)
        ops = {
            "GetRandom(32)": lambda e, iso: e.get_random(32),
            "PCR_Extend(16, sha256)": lambda e, iso: e.pcr_extend(ESYS_TR.PCR16, digests),
            "NV_Read(64 B)": lambda e, iso: e.nv_read(nv[iso], 64),
            "NV_Write(64 B)": lambda e, iso: e.nv_write(nv[iso], b"\x02" * 64),
            "CreatePrimary(ecc256)+Flush": lambda e, iso: e.flush_context(
                e.create_primary(None, "ecc256:aes128cfb")[0]),
        }
        for name, op in ops.items():
            samples = {iso: [] for iso in esys}
            for _ in range(4):
                for iso, e in esys.items():
                    for _ in range(max(1, args.iterations // 4)):
                        t0 = time.perf_counter_ns()
                        op(e, iso)
                        samples[iso].append((time.perf_counter_ns() - t0) / 1000)
            results[name] = {iso: statistics.median(v) for iso, v in samples.items()}
    finally:
        for p in procs.values():
            stop(p)
    return results


def density(args, workdir):
    """Starts instances until --max-instances or the memory reserve; then checks
    that every one answers."""
    running = []
    port = 30000
    t0 = time.time()
    try:
        while len(running) < args.max_instances:
            if mem_available_mib() < args.reserve_mib:
                print(f"density: stopping at {len(running)}: MemAvailable "
                      f"{mem_available_mib()} MiB < {args.reserve_mib} MiB", file=sys.stderr)
                break
            port = free_port_pair(port)
            p = start(args, workdir, f"d{len(running)}", "vm", port)
            try:
                wait_answer(port, p, limit=300)
            except Exception as err:  # noqa: BLE001 - report and stop growing
                print(f"density: instance {len(running)} failed: {err}", file=sys.stderr)
                stop(p)
                break
            running.append((p, port))
            port += 2
            if len(running) % 25 == 0:
                print(f"density: {len(running)} running, MemAvailable "
                      f"{mem_available_mib()} MiB, {time.time() - t0:.0f} s", file=sys.stderr)
        answering = 0
        for p, port in running:
            try:
                c = Mssim(port)
                if rc(c.command(GET_RANDOM_16)) == 0:
                    answering += 1
                c.close()
            except OSError:
                pass
        sample = [tree_pss_kib(p.pid) for p, _ in running[:: max(1, len(running) // 20)]]
        return len(running), answering, statistics.median(sample) / 1024 if sample else 0
    finally:
        for p, _ in running:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
        for p, _ in running:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vtpm", default="target/release/vtpm")
    ap.add_argument("--image", help="stub image (default: vtpm's own lookup)")
    ap.add_argument("--accel", default="tcg", choices=["auto", "kvm", "tcg"])
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--max-instances", type=int, default=0)
    ap.add_argument("--reserve-mib", type=int, default=2048)
    args = ap.parse_args()
    if not shutil.which("qemu-system-x86_64"):
        sys.exit("vm_bench: qemu-system-x86_64 is not installed")
    image = args.image or os.path.join(os.path.dirname(os.path.abspath(args.vtpm)), "..",
                                       "x86_64-unknown-none", "release", "vtpm-stub")
    if not os.path.isfile(image):
        sys.exit(f"vm_bench: no stub image at {image}")
    work = tempfile.mkdtemp(prefix="vtpm-vmbench-")
    try:
        print(f"stub image: {os.path.getsize(image)} bytes ({image})")
        fresh, existing, mem = boot_times(args, work)
        print(f"boot to first response (spawn of `vtpm run --isolation vm --accel {args.accel}` "
              f"to a GetRandom answer), median of {args.boots}: new TPM "
              f"{statistics.median(fresh):.0f} ms, existing state {statistics.median(existing):.0f} ms")
        print(f"host memory per instance (PSS of vtpm + QEMU): {mem / 1024:.1f} MiB")
        lat = latency(args, work)
        if lat:
            print(f"{'command':28} {'process':>10} {'vm':>10} {'vm/process':>11}")
            for name, r in lat.items():
                print(f"{name:28} {r['process']:8.1f}us {r['vm']:8.1f}us {r['vm'] / r['process']:10.1f}x")
        if args.max_instances > 0:
            n, answering, per = density(args, work)
            print(f"instances at once: {n} started, {answering} answering a GetRandom "
                  f"afterwards; median host memory per instance {per:.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
