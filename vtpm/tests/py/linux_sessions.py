"""The session pattern of Linux 6.10+ (drivers/char/tpm/tpm2-sessions.c), driven
through tpm2-pytss ESAPI:

1. a primary ECC P-256 storage key in the NULL hierarchy, whose Name the client
   computes itself and compares with the TPM's;
2. its context saved and the key flushed; before each session the context is
   loaded back;
3. a salted HMAC session (ECDH salt to the NULL key, AES-128-CFB, SHA-256) started,
   and the NULL key flushed at once;
4. every command on that session with continueSession: GetRandom with response
   encryption, PCR_Extend authorized by HMAC, a sealed object created with command
   and response encryption and unsealed with response encryption.

ESAPI checks every response HMAC and decrypts every response parameter, so a wrong
session key, salt, nonce or IV anywhere fails the script.

Usage: linux_sessions.py PORT
"""
import hashlib
import sys

from tpm2_pytss import ESAPI, TCTILdr
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_SE, TPMA_OBJECT, TPMA_SESSION
from tpm2_pytss.types import (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPMS_SENSITIVE_CREATE,
                              TPM2B_SENSITIVE_DATA, TPML_DIGEST_VALUES, TPMT_HA, TPMU_HA,
                              TPMT_SYM_DEF, TPMU_SYM_KEY_BITS, TPMU_SYM_MODE)

port = sys.argv[1]
e = ESAPI(TCTILdr("mssim", f"host=127.0.0.1,port={port}"))

NULL_KEY_ATTRS = (TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT
                  | TPMA_OBJECT.SENSITIVEDATAORIGIN | TPMA_OBJECT.USERWITHAUTH
                  | TPMA_OBJECT.NODA | TPMA_OBJECT.RESTRICTED | TPMA_OBJECT.DECRYPT)
AES128_CFB = TPMT_SYM_DEF(algorithm=TPM2_ALG.AES, keyBits=TPMU_SYM_KEY_BITS(aes=128),
                          mode=TPMU_SYM_MODE(aes=TPM2_ALG.CFB))

# 1. The NULL-hierarchy primary and its Name, computed here from its public area.
template = TPM2B_PUBLIC.parse("ecc256:aes128cfb", objectAttributes=NULL_KEY_ATTRS)
null_key, out_public = e.create_primary(None, template, ESYS_TR.NULL)[:2]
name = bytes(e.tr_get_name(null_key))
expected = b"\x00\x0b" + hashlib.sha256(out_public.publicArea.marshal()).digest()
assert name == expected, (name.hex(), expected.hex())

# 2. Saved and flushed, as the kernel keeps only its context.
saved = e.context_save(null_key)
e.flush_context(null_key)

commands = 0
for round_ in range(3):
    # 3. A salted session per round, the NULL key loaded only to start it.
    key = e.context_load(saved)
    assert bytes(e.tr_get_name(key)) == name
    s = e.start_auth_session(key, ESYS_TR.NONE, TPM2_SE.HMAC, AES128_CFB, TPM2_ALG.SHA256)
    e.flush_context(key)

    # 4a. GetRandom with response encryption.
    e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.ENCRYPT)
    seen = set()
    for _ in range(8):
        r = bytes(e.get_random(32, session1=s))
        assert len(r) == 32 and r not in seen
        seen.add(r)
        commands += 1

    # 4b. PCR_Extend authorized by the HMAC session (no parameter to encrypt).
    e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION)
    before = bytes(e.pcr_read("sha256:16")[2][0])
    digest = hashlib.sha256(b"linux-ima-%d" % round_).digest()
    ha = TPMT_HA(hashAlg=TPM2_ALG.SHA256, digest=TPMU_HA(sha256=digest))
    e.pcr_extend(ESYS_TR.PCR16, TPML_DIGEST_VALUES([ha]), session1=s)
    after = bytes(e.pcr_read("sha256:16")[2][0])
    assert after == hashlib.sha256(before + digest).digest()
    commands += 1

    # 4c. Seal (command and response encryption) and unseal (response encryption)
    # under the NULL key, loaded again.
    key = e.context_load(saved)
    e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.DECRYPT
                            | TPMA_SESSION.ENCRYPT)
    secret = b"trusted key %d" % round_
    sens = TPM2B_SENSITIVE_CREATE(TPMS_SENSITIVE_CREATE(data=TPM2B_SENSITIVE_DATA(secret)))
    sealed_pub = TPM2B_PUBLIC.parse("keyedhash", objectAttributes=(
        TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.USERWITHAUTH
        | TPMA_OBJECT.NODA))
    priv, pub = e.create(key, sens, sealed_pub, session1=s)[:2]
    obj = e.load(key, priv, pub, session1=s)
    e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.ENCRYPT)
    assert bytes(e.unseal(obj, session1=s)) == secret
    e.flush_context(obj)
    e.flush_context(key)
    commands += 3
    e.flush_context(s)

print(f"linux-sessions: {commands} commands on 3 salted sessions ok")
