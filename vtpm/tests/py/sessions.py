"""Parameter encryption through tpm2-pytss ESAPI, which encrypts command parameters
and decrypts response parameters itself: a wrong key, nonce order or IV on either
side shows up as a wrong digest, a wrong unsealed secret or a failed response HMAC.

An audit session is used through ESAPI too.

Usage: sessions.py PORT
"""
import hashlib
import sys

from tpm2_pytss import ESAPI, TCTILdr, TSS2_Exception
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_SE, TPMA_OBJECT, TPMA_SESSION
from tpm2_pytss.types import (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPMS_SENSITIVE_CREATE,
                              TPM2B_AUTH, TPM2B_SENSITIVE_DATA, TPMT_SYM_DEF,
                              TPMU_SYM_KEY_BITS, TPMU_SYM_MODE)

port = sys.argv[1]
e = ESAPI(TCTILdr("mssim", f"host=127.0.0.1,port={port}"))
e.hierarchy_change_auth(ESYS_TR.OWNER, b"ownerpw")
e.tr_set_auth(ESYS_TR.OWNER, b"ownerpw")

SYMS = {
    "aes128-cfb": TPMT_SYM_DEF(algorithm=TPM2_ALG.AES, keyBits=TPMU_SYM_KEY_BITS(aes=128),
                               mode=TPMU_SYM_MODE(aes=TPM2_ALG.CFB)),
    "aes256-cfb": TPMT_SYM_DEF(algorithm=TPM2_ALG.AES, keyBits=TPMU_SYM_KEY_BITS(aes=256),
                               mode=TPMU_SYM_MODE(aes=TPM2_ALG.CFB)),
    "xor-sha256": TPMT_SYM_DEF(algorithm=TPM2_ALG.XOR,
                               keyBits=TPMU_SYM_KEY_BITS(exclusiveOr=TPM2_ALG.SHA256)),
}
ATTRS = TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.DECRYPT | TPMA_SESSION.ENCRYPT
checks = 0
for name, sym in SYMS.items():
    for bind in (ESYS_TR.NONE, ESYS_TR.OWNER):
        for hash_alg in (TPM2_ALG.SHA256, TPM2_ALG.SHA1):
            s = e.start_auth_session(ESYS_TR.NONE, bind, TPM2_SE.HMAC, sym, hash_alg)
            e.trsess_set_attributes(s, ATTRS)
            label = f"{name} bind={'owner' if bind == ESYS_TR.OWNER else 'none'} {hash_alg}"
            # A session that only encrypts (no handle needs authorization).
            data = bytes(range(256)) * 3
            digest, _ = e.hash(data, TPM2_ALG.SHA256, ESYS_TR.OWNER, session1=s)
            assert bytes(digest) == hashlib.sha256(data).digest(), label
            assert len(bytes(e.get_random(40, session1=s))) == 40, label
            # An authorization session that also encrypts: the owner's authValue is
            # part of the key.
            secret = b"sealed under " + name.encode()
            sens = TPM2B_SENSITIVE_CREATE(TPMS_SENSITIVE_CREATE(
                userAuth=TPM2B_AUTH(b"objpw"), data=TPM2B_SENSITIVE_DATA(secret)))
            pub = TPM2B_PUBLIC.parse("keyedhash", objectAttributes=(
                TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.USERWITHAUTH))
            key = e.create_primary(sens, pub, ESYS_TR.OWNER, session1=s)[0]
            e.tr_set_auth(key, b"objpw")
            assert bytes(e.unseal(key, session1=s)) == secret, label
            e.flush_context(key)
            e.flush_context(s)
            checks += 1

# Salted sessions: ESAPI encrypts a random salt to the tpmKey (RSA-OAEP, or ECDH
# and KDFe for ECC); the session key, and so every HMAC and every encrypted
# parameter below, depends on the TPM recovering it.
salted = 0
for template in ("rsa2048:aes128cfb", "ecc256:aes128cfb", "ecc384:aes256cfb"):
    tpm_key = e.create_primary(None, template, ESYS_TR.OWNER)[0]
    s = e.start_auth_session(tpm_key, ESYS_TR.NONE, TPM2_SE.HMAC, SYMS["aes128-cfb"],
                             TPM2_ALG.SHA256)
    e.trsess_set_attributes(s, ATTRS)
    data = template.encode() * 20
    digest, _ = e.hash(data, TPM2_ALG.SHA256, ESYS_TR.OWNER, session1=s)
    assert bytes(digest) == hashlib.sha256(data).digest(), template
    e.hierarchy_change_auth(ESYS_TR.OWNER, b"salted", session1=s)
    e.tr_set_auth(ESYS_TR.OWNER, b"salted")
    e.hierarchy_change_auth(ESYS_TR.OWNER, b"ownerpw", session1=s)
    e.tr_set_auth(ESYS_TR.OWNER, b"ownerpw")
    e.flush_context(s)
    e.flush_context(tpm_key)
    salted += 1
assert salted == 3

# Two sessions may not both decrypt.
a = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.HMAC, SYMS["aes128-cfb"], TPM2_ALG.SHA256)
b = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.HMAC, SYMS["aes128-cfb"], TPM2_ALG.SHA256)
for x in (a, b):
    e.trsess_set_attributes(x, TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.DECRYPT)
try:
    e.hash(b"abc", TPM2_ALG.SHA256, ESYS_TR.OWNER, session1=a, session2=b)
    raise AssertionError("two decrypt sessions were accepted")
except TSS2_Exception as err:
    assert err.rc & 0x3F == 0x02 or "attribute" in str(err).lower(), str(err)
# An audit session (which also encrypts) through ESAPI: the response HMAC covers
# the auditExclusive bit the TPM reports.
s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.HMAC, SYMS["aes128-cfb"], TPM2_ALG.SHA256)
e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION | TPMA_SESSION.AUDIT | TPMA_SESSION.ENCRYPT)
for _ in range(3):
    assert len(bytes(e.get_random(16, session1=s))) == 16
# (ESAPI verified every response HMAC, which covers the attributes.)
e.flush_context(s)
print(f"param-encryption: {checks} combinations ok, {salted} salted sessions ok")
