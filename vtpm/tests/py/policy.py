"""Policy sessions through tpm2-pytss ESAPI: a trial session's digest seals an
object; a real policy session (PolicyPCR + PolicyAuthValue, salted-free but with
the object's authValue in the policy HMAC) unseals it; after PCR 16 changes the
Unseal is refused with TPM_RC_POLICY_FAIL.

Usage: policy.py PORT
"""
import hashlib
import sys

from tpm2_pytss import ESAPI, TCTILdr, TSS2_Exception
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_RC, TPM2_SE, TPMA_OBJECT
from tpm2_pytss.types import (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPMS_SENSITIVE_CREATE,
                              TPM2B_AUTH, TPM2B_SENSITIVE_DATA, TPML_DIGEST_VALUES, TPMT_HA,
                              TPMU_HA, TPMT_SYM_DEF, TPMU_SYM_KEY_BITS, TPMU_SYM_MODE)

port = sys.argv[1]
e = ESAPI(TCTILdr("mssim", f"host=127.0.0.1,port={port}"))
SYM = TPMT_SYM_DEF(algorithm=TPM2_ALG.AES, keyBits=TPMU_SYM_KEY_BITS(aes=128),
                   mode=TPMU_SYM_MODE(aes=TPM2_ALG.CFB))
PCRS = "sha256:16"


def assert_policy(s):
    e.policy_pcr(s, b"", PCRS)
    e.policy_auth_value(s)


trial = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.TRIAL, SYM, TPM2_ALG.SHA256)
assert_policy(trial)
policy = bytes(e.policy_get_digest(trial))
e.flush_context(trial)

# The digest computed here (Part 3 23.7 PolicyPCR, 23.18 PolicyAuthValue).
pcr16 = bytes(e.pcr_read(PCRS)[2][0])
sel = bytes.fromhex("00000001000b03000001")
d = hashlib.sha256(b"\0" * 32 + (0x17F).to_bytes(4, "big") + sel
                   + hashlib.sha256(pcr16).digest()).digest()
d = hashlib.sha256(d + (0x16B).to_bytes(4, "big")).digest()
assert policy == d, (policy.hex(), d.hex())
checks = 1

srk = e.create_primary(None, "ecc256:aes128cfb")[0]
pub = TPM2B_PUBLIC.parse("keyedhash", objectAttributes=(
    TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.NODA))
pub.publicArea.authPolicy = policy
secret = b"needs pcr 16 and the password"
sens = TPM2B_SENSITIVE_CREATE(TPMS_SENSITIVE_CREATE(
    userAuth=TPM2B_AUTH(b"objpw"), data=TPM2B_SENSITIVE_DATA(secret)))
priv, pub = e.create(srk, sens, pub)[:2]
obj = e.load(srk, priv, pub)
e.tr_set_auth(obj, b"objpw")

s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY, SYM, TPM2_ALG.SHA256)
assert_policy(s)
assert bytes(e.unseal(obj, session1=s)) == secret
checks += 1
e.flush_context(s)

ha = TPMT_HA(hashAlg=TPM2_ALG.SHA256, digest=TPMU_HA(sha256=b"\x11" * 32))
e.pcr_extend(ESYS_TR.PCR16, TPML_DIGEST_VALUES([ha]))
s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY, SYM, TPM2_ALG.SHA256)
assert_policy(s)
try:
    e.unseal(obj, session1=s)
    raise AssertionError("unsealed after the PCR changed")
except TSS2_Exception as err:
    assert err.rc & 0xBF == TPM2_RC.POLICY_FAIL & 0xBF, hex(err.rc)
checks += 1
print(f"policy: {checks} checks ok")
