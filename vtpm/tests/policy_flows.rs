//! PolicyOR and PolicyAuthorize flows with tpm2-tools, run as the shell scripts
//! an operator would write: objects sealed to a policy built from trial sessions,
//! unsealed through each allowed path, refused through a path the policy does not
//! allow.

mod common;
use common::*;

use std::process::Command;

/// Runs `script` with bash in `dir` against `server`; returns (success, stdout+stderr).
fn script(server: &Server, dir: &std::path::Path, script: &str) -> (bool, String) {
    let out = run_timeout(
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(dir)
            .env("TPM2TOOLS_TCTI", server.tcti()),
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

const SETUP: &str = r#"
tpm2_startup -c
flush() { tpm2_flushcontext -t; tpm2_flushcontext -s; }
trial() { tpm2_startauthsession -S trial.ctx; }
"#;

/// PolicyOR of a PCR branch and a PolicySecret(owner) branch: either unseals;
/// after the PCR changes only the secret branch does.
#[test]
fn tpm2_tools_policy_or() {
    require!("tpm2_policyor", "tpm2_policysecret", "tpm2_unseal");
    let td = TestDir::new();
    let server = Server::start(&td);
    let (okay, out) = script(
        &server,
        td.path(),
        &format!(
            r#"{SETUP}
tpm2_changeauth -c o ownerpw
trial; tpm2_policypcr -S trial.ctx -l sha256:16 -L pcr.pol; tpm2_flushcontext trial.ctx
trial; tpm2_policysecret -S trial.ctx -c o -L secret.pol ownerpw; tpm2_flushcontext trial.ctx
trial; tpm2_policyor -S trial.ctx -L or.pol sha256:pcr.pol,secret.pol; tpm2_flushcontext trial.ctx
echo -n "either branch" > secret.txt
tpm2_createprimary -C o -P ownerpw -c prim.ctx
tpm2_create -C prim.ctx -L or.pol -a "fixedtpm|fixedparent" -i secret.txt -u o.pub -r o.priv
flush
tpm2_load -C prim.ctx -u o.pub -r o.priv -c o.ctx
flush
unseal_pcr() {{
  tpm2_startauthsession --policy-session -S s.ctx
  tpm2_policypcr -S s.ctx -l sha256:16 >/dev/null
  tpm2_policyor -S s.ctx sha256:pcr.pol,secret.pol >/dev/null || true
  rc=0; tpm2_unseal -c o.ctx -p session:s.ctx || rc=$?
  tpm2_flushcontext s.ctx; tpm2_flushcontext -t; return $rc
}}
unseal_secret() {{
  tpm2_startauthsession --policy-session -S s.ctx
  tpm2_policysecret -S s.ctx -c o ownerpw >/dev/null
  tpm2_policyor -S s.ctx sha256:pcr.pol,secret.pol >/dev/null
  rc=0; tpm2_unseal -c o.ctx -p session:s.ctx || rc=$?
  tpm2_flushcontext s.ctx; tpm2_flushcontext -t; return $rc
}}
echo "PCR=[$(unseal_pcr)]"
echo "SECRET=[$(unseal_secret)]"
tpm2_pcrextend 16:sha256=$(printf '%064d' 1)
if unseal_pcr; then echo "PCR-AFTER=unsealed"; else echo "PCR-AFTER=refused"; fi
echo "SECRET-AFTER=[$(unseal_secret)]"
"#
        ),
    );
    assert!(okay, "{out}");
    assert!(out.contains("PCR=[either branch]"), "{out}");
    assert!(out.contains("SECRET=[either branch]"), "{out}");
    assert!(out.contains("PCR-AFTER=refused"), "{out}");
    assert!(out.contains("SECRET-AFTER=[either branch]"), "{out}");
}

/// PolicyAuthorize: the object's policy names a signing key; a PCR policy signed
/// by that key (openssl) and checked by TPM2_VerifySignature unseals it; after the
/// PCR changes the signed policy no longer holds, and a policy the key never
/// signed is refused.
#[test]
fn tpm2_tools_policy_authorize() {
    require!(
        "tpm2_policyauthorize",
        "tpm2_verifysignature",
        "tpm2_loadexternal",
        "openssl"
    );
    let td = TestDir::new();
    let server = Server::start(&td);
    let (okay, out) = script(
        &server,
        td.path(),
        r#"
tpm2_startup -c
flush() { tpm2_flushcontext -t; tpm2_flushcontext -s; }
trial() { tpm2_startauthsession -S trial.ctx; }
openssl genrsa -out signer.key 2048 2>/dev/null
openssl rsa -in signer.key -pubout -out signer.pem 2>/dev/null
tpm2_loadexternal -C o -G rsa -u signer.pem -c signer.ctx -n signer.name
trial; tpm2_policyauthorize -S trial.ctx -L authorize.pol -n signer.name; tpm2_flushcontext trial.ctx
trial; tpm2_policypcr -S trial.ctx -l sha256:16 -L pcr.pol; tpm2_flushcontext trial.ctx
trial; tpm2_policycommandcode -S trial.ctx -L cc.pol TPM2_CC_Unseal; tpm2_flushcontext trial.ctx
# The owner of the signing key approves the PCR policy (aHash = H(policy || "")).
openssl dgst -sha256 -sign signer.key -out pcr.sig pcr.pol
tpm2_verifysignature -c signer.ctx -g sha256 -m pcr.pol -s pcr.sig -f rsassa -t pcr.tkt
flush
echo -n "authorized policy" > secret.txt
tpm2_createprimary -C o -c prim.ctx
tpm2_create -C prim.ctx -L authorize.pol -a "fixedtpm|fixedparent" -i secret.txt -u o.pub -r o.priv
flush
tpm2_load -C prim.ctx -u o.pub -r o.priv -c o.ctx
flush
unseal() {
  tpm2_startauthsession --policy-session -S s.ctx
  tpm2_policypcr -S s.ctx -l sha256:16 >/dev/null
  rc=0; tpm2_policyauthorize -S s.ctx -i pcr.pol -n signer.name -t pcr.tkt >/dev/null || rc=$?
  if [ $rc -eq 0 ]; then tpm2_unseal -c o.ctx -p session:s.ctx || rc=$?; fi
  tpm2_flushcontext s.ctx; tpm2_flushcontext -t; return $rc
}
echo "FIRST=[$(unseal)]"
# A policy never signed: PolicyCommandCode with pcr.pol's ticket is refused.
tpm2_startauthsession --policy-session -S s.ctx
tpm2_policycommandcode -S s.ctx TPM2_CC_Unseal >/dev/null
if tpm2_policyauthorize -S s.ctx -i cc.pol -n signer.name -t pcr.tkt 2>/dev/null; then
  echo "UNSIGNED=accepted"; else echo "UNSIGNED=refused"; fi
tpm2_flushcontext s.ctx
tpm2_pcrextend 16:sha256=$(printf '%064d' 1)
if unseal; then echo "AFTER=unsealed"; else echo "AFTER=refused"; fi
"#,
    );
    assert!(okay, "{out}");
    assert!(out.contains("FIRST=[authorized policy]"), "{out}");
    assert!(out.contains("UNSIGNED=refused"), "{out}");
    assert!(out.contains("AFTER=refused"), "{out}");
}
