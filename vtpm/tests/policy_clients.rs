//! Policy flows through the IBM TSS utilities and tpm2-pytss (ESAPI): objects
//! sealed to a policy that a trial session computed, unsealed through a real
//! policy session, refused once the policy no longer holds.

mod common;
use common::*;

use std::fs;
use std::path::Path;
use std::process::Command;

fn ibm_in<'a>(server: &'a Server, dir: &'a Path) -> impl Fn(&str) -> Command + 'a {
    move |tool: &str| {
        let mut c = server.ibm(tool);
        c.env("TPM_DATA_DIR", dir)
            .env("TPM_SESSION_ENCKEY", "000102030405060708090a0b0c0d0e0f")
            .current_dir(dir);
        c
    }
}

/// IBM TSS: PolicyPCR(16) + PolicyCommandCode(Unseal) from a trial session
/// seals a blob; a policy session unseals it; after PCR 16 is extended the same
/// steps fail with TPM_RC_POLICY_FAIL.
#[test]
fn ibm_tss_pcr_policy_seal_and_unseal() {
    require!("tssstartauthsession", "tsspolicypcr", "tssunseal");
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let ibm = ibm_in(&server, &dir);
    let secret = b"sealed to pcr 16 and unseal only";
    fs::write(dir.join("secret.bin"), secret).unwrap();
    ok(ibm("tssstartup").arg("-c"));

    let policy = |kind: &str, out: Option<&str>| {
        ok(ibm("tssstartauthsession").args(["-se", kind]));
        ok(ibm("tsspolicypcr").args(["-ha", "03000000", "-bm", "10000"]));
        ok(ibm("tsspolicycommandcode").args(["-ha", "03000000", "-cc", "15e"]));
        if let Some(out) = out {
            ok(ibm("tsspolicygetdigest").args(["-ha", "03000000", "-of", out]));
            ok(ibm("tssflushcontext").args(["-ha", "03000000"]));
        }
    };
    policy("t", Some("policy.bin"));
    // The digest, computed here: PolicyPCR then PolicyCommandCode (Part 3 23.7, 23.11).
    use sha2::{Digest, Sha256};
    let pcr16 = [0u8; 32];
    let mut sel = vec![0, 0, 0, 1, 0, 0x0B, 3, 0, 0, 1];
    let pcr_digest = Sha256::digest(pcr16);
    let d1 = Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(0x17Fu32.to_be_bytes())
        .chain_update(&sel)
        .chain_update(pcr_digest)
        .finalize();
    let d2 = Sha256::new()
        .chain_update(d1)
        .chain_update(0x16Cu32.to_be_bytes())
        .chain_update(0x15Eu32.to_be_bytes())
        .finalize();
    assert_eq!(fs::read(dir.join("policy.bin")).unwrap(), d2.to_vec());
    sel.clear();

    ok(ibm("tsscreateprimary").args(["-hi", "o", "-st"]));
    ok(ibm("tsscreate").args([
        "-hp",
        "80000000",
        "-bl",
        "-if",
        "secret.bin",
        "-pol",
        "policy.bin",
        "-uwa",
        "-opr",
        "priv.bin",
        "-opu",
        "pub.bin",
    ]));
    ok(ibm("tssload").args(["-hp", "80000000", "-ipr", "priv.bin", "-ipu", "pub.bin"]));
    policy("p", None);
    ok(ibm("tssunseal").args(["-ha", "80000001", "-of", "out.bin", "-se0", "03000000", "1"]));
    assert_eq!(fs::read(dir.join("out.bin")).unwrap(), secret);
    // A password cannot stand in for the policy (userWithAuth is clear).
    let pw = run_timeout(ibm("tssunseal").args(["-ha", "80000001"]));
    assert!(!pw.status.success());

    // (tsspcrevent cannot read a response with four banks of digests: the TSS
    // knows three; swtpm's answer fails the same way. tsspcrextend works.)
    ok(ibm("tsspcrextend").args(["-ha", "16", "-halg", "sha256", "-ic", "changed"]));
    // The same steps: PolicyPCR still succeeds (it records the current digest),
    // the Unseal is refused because the policy digest differs.
    ok(ibm("tssflushcontext").args(["-ha", "03000000"]));
    policy("p", None);
    let out = run_timeout(ibm("tssunseal").args([
        "-ha", "80000001", "-of", "out2.bin", "-se0", "03000000", "0",
    ]));
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("TPM_RC_POLICY_FAIL"), "{text}");
}

/// IBM TSS: PolicySecret(owner) + PolicyOR of two branches, as the TSS computes
/// them, authorize an Unseal through either branch.
#[test]
fn ibm_tss_policy_or_and_secret() {
    require!("tssstartauthsession", "tsspolicyor", "tsspolicysecret");
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let ibm = ibm_in(&server, &dir);
    fs::write(dir.join("secret.bin"), b"either branch").unwrap();
    ok(ibm("tssstartup").arg("-c"));
    ok(ibm("tsshierarchychangeauth").args(["-hi", "o", "-pwdn", "ownerpw"]));

    // Branch A: PolicySecret(owner). Branch B: PolicyCommandCode(Unseal).
    ok(ibm("tssstartauthsession").args(["-se", "t"]));
    ok(ibm("tsspolicysecret").args(["-ha", "40000001", "-hs", "03000000", "-pwde", "ownerpw"]));
    ok(ibm("tsspolicygetdigest").args(["-ha", "03000000", "-of", "a.bin"]));
    ok(ibm("tssflushcontext").args(["-ha", "03000000"]));
    ok(ibm("tssstartauthsession").args(["-se", "t"]));
    ok(ibm("tsspolicycommandcode").args(["-ha", "03000000", "-cc", "15e"]));
    ok(ibm("tsspolicygetdigest").args(["-ha", "03000000", "-of", "b.bin"]));
    ok(ibm("tsspolicyor").args(["-ha", "03000000", "-if", "a.bin", "-if", "b.bin"]));
    ok(ibm("tsspolicygetdigest").args(["-ha", "03000000", "-of", "or.bin"]));
    ok(ibm("tssflushcontext").args(["-ha", "03000000"]));

    ok(ibm("tsscreateprimary").args(["-hi", "o", "-st", "-pwdp", "ownerpw"]));
    ok(ibm("tsscreate").args([
        "-hp",
        "80000000",
        "-bl",
        "-if",
        "secret.bin",
        "-pol",
        "or.bin",
        "-uwa",
        "-opr",
        "priv.bin",
        "-opu",
        "pub.bin",
    ]));
    ok(ibm("tssload").args(["-hp", "80000000", "-ipr", "priv.bin", "-ipu", "pub.bin"]));
    for branch in ["a", "b"] {
        ok(ibm("tssstartauthsession").args(["-se", "p"]));
        if branch == "a" {
            ok(ibm("tsspolicysecret")
                .args(["-ha", "40000001", "-hs", "03000000", "-pwde", "ownerpw"]));
        } else {
            ok(ibm("tsspolicycommandcode").args(["-ha", "03000000", "-cc", "15e"]));
        }
        ok(ibm("tsspolicyor").args(["-ha", "03000000", "-if", "a.bin", "-if", "b.bin"]));
        let of = format!("out-{branch}.bin");
        ok(ibm("tssunseal").args(["-ha", "80000001", "-of", &of, "-se0", "03000000", "0"]));
        assert_eq!(fs::read(dir.join(&of)).unwrap(), b"either branch");
    }
    // A wrong owner password fails PolicySecret itself.
    ok(ibm("tssstartauthsession").args(["-se", "p"]));
    let bad = run_timeout(
        ibm("tsspolicysecret").args(["-ha", "40000001", "-hs", "03000000", "-pwde", "wrong"]),
    );
    assert!(!bad.status.success());
}

/// tpm2-pytss (ESAPI): PolicyPCR + PolicyAuthValue with an HMAC-protected policy
/// session (ESAPI computes the policy HMAC with the object's authValue),
/// trial and real digests equal, refusal after an extend.
#[test]
fn pytss_policy_sessions() {
    require!("tpm2_startup");
    if !have_pytss() {
        eprintln!("skipped: tpm2_pytss not installed for {PYTHON}");
        return;
    }
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let out = run_py(&server, "policy.py", &[]);
    assert!(out.contains("policy: 3 checks ok"), "{out}");
}
