#!/usr/bin/python3
"""Per-command latency of vtpm beside swtpm, in one run, through the real TCTIs.

Starts `vtpm run` (MS-simulator protocol, tpm2-tss `mssim` TCTI) and `swtpm socket`
(tpm2-tss `swtpm` TCTI) on loopback ports with throw-away state, then times each
operation through tpm2-pytss ESAPI on both, interleaving rounds so that machine noise
hits both alike. Prints median and p90 latency per command and the ratio
swtpm/vtpm (above 1.0: vtpm is faster).

Usage: bench/bench.py [--vtpm target/release/vtpm] [--iterations 400] [--keys 40]
                      [--only NAME ...] [--json FILE] [--durability atomic|fsync]

Commands that change permanent state (NV writes) cost a disk flush with vtpm's
default `--durability fsync`; swtpm does not fsync its state, so by default vtpm
runs here with `--durability atomic`, the same guarantee.
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
from tpm2_pytss.constants import (ESYS_TR, TPM2_ALG, TPM2_CAP, TPM2_HT, TPM2_RH, TPM2_SE, TPM2_ST,
                                  TPM2_SU, TPMA_NV, TPMA_OBJECT)
from tpm2_pytss.types import (TPM2B_NV_PUBLIC, TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE,
                              TPM2B_SENSITIVE_DATA, TPML_DIGEST_VALUES, TPMS_NV_PUBLIC,
                              TPMS_SENSITIVE_CREATE, TPMT_HA, TPMT_RSA_DECRYPT, TPMT_SIG_SCHEME,
                              TPMT_SYM_DEF, TPMT_TK_HASHCHECK, TPMU_HA, TPMU_SYM_KEY_BITS,
                              TPMU_SYM_MODE)


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


def start_vtpm(binary, workdir, durability):
    port = free_port_pair()
    state = os.path.join(workdir, "vtpm-state")
    proc = subprocess.Popen(
        [binary, "run", "--state-dir", state, "--mssim", f"127.0.0.1:{port}",
         "--durability", durability, "--log-level", "warn"],
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


SIGN_ATTRS = (TPMA_OBJECT.SIGN_ENCRYPT | TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT
              | TPMA_OBJECT.SENSITIVEDATAORIGIN | TPMA_OBJECT.USERWITHAUTH)
DECRYPT_ATTRS = (TPMA_OBJECT.DECRYPT | TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT
                 | TPMA_OBJECT.SENSITIVEDATAORIGIN | TPMA_OBJECT.USERWITHAUTH)


def primary(e, template):
    """A primary key of the owner hierarchy from a tpm2-tools style template string."""
    return e.create_primary(None, template)[0]


def keygen_op(template):
    """CreatePrimary of `template` then FlushContext: one key generation per call."""
    def op(e, c):
        e.flush_context(primary(e, template))
    return (lambda e: None, op)


def child_template(template, attrs):
    """TPM2B_PUBLIC of a non-storage key; pytss 2.1 puts AES in the symmetric field of
    some signing templates, which a TPM refuses for a key that is not a parent."""
    pub = TPM2B_PUBLIC.parse(template, objectAttributes=attrs)
    if template.startswith("rsa"):
        pub.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG.NULL
    elif template.startswith("ecc"):
        pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG.NULL
    return pub


def loaded_key(template, attrs):
    """setup: an SRK and a child key of `template` loaded under it."""
    def setup(e):
        srk = primary(e, "ecc256:aes128cfb")
        priv, pub = e.create(srk, None, child_template(template, attrs))[:2]
        return e.load(srk, priv, pub)
    return setup


def create_load_op(template, attrs):
    """Create of `template` under an SRK, then Load and FlushContext."""
    def setup(e):
        return primary(e, "ecc256:aes128cfb")

    def op(e, srk):
        priv, pub = e.create(srk, None, child_template(template, attrs))[:2]
        e.flush_context(e.load(srk, priv, pub))
    return (setup, op)


def sign_op(template, scheme):
    null_ticket = TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK, hierarchy=TPM2_RH.NULL)
    sig_scheme = TPMT_SIG_SCHEME(scheme=scheme)
    sig_scheme.details.any.hashAlg = TPM2_ALG.SHA256
    digest = b"\x33" * 32
    return (loaded_key(template, SIGN_ATTRS),
            lambda e, k: e.sign(k, digest, sig_scheme, null_ticket))


def rsa_decrypt_op():
    def setup(e):
        key = loaded_key("rsa2048:null:null", DECRYPT_ATTRS)(e)
        scheme = TPMT_RSA_DECRYPT(scheme=TPM2_ALG.OAEP)
        scheme.details.oaep.hashAlg = TPM2_ALG.SHA256
        ct = e.rsa_encrypt(key, b"\x44" * 32, scheme)
        return key, ct, scheme
    return (setup, lambda e, c: e.rsa_decrypt(c[0], c[1], c[2]))


def hmac_op():
    data = b"\x66" * 1024
    return (loaded_key("hmac:sha256", SIGN_ATTRS),
            lambda e, k: e.hmac(k, data, TPM2_ALG.SHA256))


AES128_CFB = TPMT_SYM_DEF(algorithm=TPM2_ALG.AES, keyBits=TPMU_SYM_KEY_BITS(aes=128),
                          mode=TPMU_SYM_MODE(aes=TPM2_ALG.CFB))


def session_op(salt_template):
    """StartAuthSession (HMAC, AES-128-CFB, SHA-256), salted to a primary key of
    `salt_template` or unsalted, then FlushContext of the session."""
    def setup(e):
        return primary(e, salt_template) if salt_template else ESYS_TR.NONE

    def op(e, key):
        s = e.start_auth_session(key, ESYS_TR.NONE, TPM2_SE.HMAC, AES128_CFB, TPM2_ALG.SHA256)
        e.flush_context(s)
    return (setup, op)


def quote_op(template):
    sel = "sha256:0,1,2,3,4,5,6,7"
    return (loaded_key(template, SIGN_ATTRS),
            lambda e, k: e.quote(k, sel, b"\x17" * 16))


def nv_index(e, handle):
    """An ordinary 64-byte index with authValue read and write, written once."""
    pub = TPM2B_NV_PUBLIC(nvPublic=TPMS_NV_PUBLIC(
        nvIndex=handle, nameAlg=TPM2_ALG.SHA256, dataSize=64,
        attributes=TPMA_NV.AUTHREAD | TPMA_NV.AUTHWRITE | TPMA_NV.NO_DA))
    try:
        nv = e.nv_define_space(None, pub)
    except TSS2_Exception:
        nv = e.tr_from_tpmpublic(handle)
    e.nv_write(nv, b"\x21" * 64)
    return nv


def nv_write_op():
    return (lambda e: nv_index(e, 0x01500020), lambda e, nv: e.nv_write(nv, b"\x22" * 64))


def nv_read_op():
    return (lambda e: nv_index(e, 0x01500021), lambda e, nv: e.nv_read(nv, 64))


def policy_unseal_op():
    """An object sealed to PolicyPCR(sha256:0-7); each call: StartAuthSession
    (policy), PolicyPCR, Unseal, FlushContext."""
    pcrs = "sha256:0,1,2,3,4,5,6,7"

    def setup(e):
        trial = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.TRIAL,
                                     AES128_CFB, TPM2_ALG.SHA256)
        e.policy_pcr(trial, b"", pcrs)
        policy = bytes(e.policy_get_digest(trial))
        e.flush_context(trial)
        srk = primary(e, "ecc256:aes128cfb")
        pub = TPM2B_PUBLIC.parse("keyedhash", objectAttributes=(
            TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.NODA))
        pub.publicArea.authPolicy = policy
        sens = TPM2B_SENSITIVE_CREATE(TPMS_SENSITIVE_CREATE(
            data=TPM2B_SENSITIVE_DATA(b"sealed to PCRs 0-7")))
        priv, pub = e.create(srk, sens, pub)[:2]
        return e.load(srk, priv, pub)

    def op(e, obj):
        s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY,
                                 AES128_CFB, TPM2_ALG.SHA256)
        e.policy_pcr(s, b"", pcrs)
        e.unseal(obj, session1=s)
        e.flush_context(s)
    return (setup, op)


def operations():
    """name -> (setup(esys) -> ctx, op(esys, ctx), calls or None for --iterations).
    Extend with new commands here."""
    digests = sha256_extend_digests()
    data = b"\x5a" * 1024
    return {
        "GetRandom(32)": (lambda e: None, lambda e, c: e.get_random(32), None),
        "PCR_Extend(16, sha256)": (lambda e: None,
                                   lambda e, c: e.pcr_extend(ESYS_TR.PCR16, digests), None),
        "PCR_Read(sha256:0-7)": (lambda e: None,
                                 lambda e, c: e.pcr_read("sha256:0,1,2,3,4,5,6,7"), None),
        "Hash(sha256, 1 KiB)": (lambda e: None,
                                lambda e, c: e.hash(data, TPM2_ALG.SHA256, ESYS_TR.OWNER), None),
        "CreatePrimary(ecc256)": (*keygen_op("ecc256:aes128cfb"), None),
        "CreatePrimary(rsa2048)": (*keygen_op("rsa2048:aes128cfb"), "keys"),
        "Create+Load(ecc256)": (*create_load_op("ecc256:ecdsa-sha256", SIGN_ATTRS), None),
        "Create+Load(rsa2048)": (*create_load_op("rsa2048:rsassa-sha256", SIGN_ATTRS), "keys"),
        "Sign(rsa2048, rsassa)": (*sign_op("rsa2048:rsassa-sha256", TPM2_ALG.RSASSA), None),
        "Sign(rsa2048, rsapss)": (*sign_op("rsa2048:rsapss-sha256", TPM2_ALG.RSAPSS), None),
        "Sign(ecc256, ecdsa)": (*sign_op("ecc256:ecdsa-sha256", TPM2_ALG.ECDSA), None),
        "RSA_Decrypt(2048, oaep)": (*rsa_decrypt_op(), None),
        "HMAC(sha256, 1 KiB)": (*hmac_op(), None),
        "StartAuthSession(unsalted)": (*session_op(None), None),
        "StartAuthSession(ecc salt)": (*session_op("ecc256:aes128cfb"), None),
        "StartAuthSession(rsa salt)": (*session_op("rsa2048:aes128cfb"), None),
        "Quote(rsa2048, 8 PCRs)": (*quote_op("rsa2048:rsassa-sha256"), None),
        "Quote(ecc256, 8 PCRs)": (*quote_op("ecc256:ecdsa-sha256"), None),
        "NV_Write(64 B)": (*nv_write_op(), None),
        "NV_Read(64 B)": (*nv_read_op(), None),
        "PolicyPCR+Unseal": (*policy_unseal_op(), None),
    }


def flush_transient(e):
    """Flushes every loaded transient object (there is no resource manager)."""
    more = True
    while more:
        more, data = e.get_capability(TPM2_CAP.HANDLES, TPM2_HT.TRANSIENT << 24, 16)
        handles = list(data.data.handles)
        if not handles:
            break
        for h in handles:
            e.flush_context(e.tr_from_tpmpublic(h))


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
    ap.add_argument("--keys", type=int, default=40,
                    help="timed calls per server for RSA key generation (slow)")
    ap.add_argument("--only", action="append",
                    help="run only commands whose name contains this (repeatable)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--durability", choices=["atomic", "fsync"], default="atomic",
                    help="vtpm's state saves: atomic (the default here: renamed into place "
                         "without fsync, as swtpm saves) or fsync (vtpm's own default)")
    args = ap.parse_args()
    if not shutil.which("swtpm"):
        sys.exit("bench: swtpm is not installed (run ci/setup.sh)")
    if not os.path.exists(args.vtpm):
        sys.exit(f"bench: {args.vtpm} not found (cargo build --release -p vtpm)")

    work = tempfile.mkdtemp(prefix="vtpm-bench-")
    procs = []
    try:
        vproc, vtcti = start_vtpm(args.vtpm, work, args.durability)
        procs.append(vproc)
        sproc, stcti = start_swtpm(work)
        procs.append(sproc)
        servers = {"vtpm": ESAPI(vtcti), "swtpm": ESAPI(stcti)}
        for e in servers.values():
            startup(e)
        results = {}
        ops = operations()
        if args.only:
            ops = {k: v for k, v in ops.items() if any(o.lower() in k.lower() for o in args.only)}
        for name, (setup, op, calls) in ops.items():
            n = args.keys if calls == "keys" else args.iterations
            rounds = min(args.rounds, n)
            per_call = max(1, n // rounds)
            print(f"bench: {name}: {per_call * rounds} calls per server", file=sys.stderr)
            try:
                ctxs = {k: setup(e) for k, e in servers.items()}
                samples = {k: [] for k in servers}
                for k, e in servers.items():  # warm-up
                    time_op(e, ctxs[k], op, 2 if calls == "keys" else 10)
                for _ in range(rounds):
                    for k, e in servers.items():
                        samples[k] += time_op(e, ctxs[k], op, per_call)
            except TSS2_Exception as err:
                print(f"bench: {name}: skipped ({err})", file=sys.stderr)
                continue
            finally:
                for e in servers.values():
                    flush_transient(e)
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
              f"{args.iterations} calls each, {args.keys} for RSA key generation, "
              f"in {args.rounds} interleaved rounds; vtpm state saves: {args.durability})")
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
