//! Policy sessions through tpm2-tools against `vtpm run`: a PCR-sealed object,
//! policy digests checked against values computed here, and the TCG EK templates
//! (PolicySecret(endorsement), adminWithPolicy) with an AK created under the EK.

mod common;

use std::fs;

use common::*;

#[test]
fn pcr_policy_seals_and_refuses_after_extend() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policypcr",
        "tpm2_policycommandcode",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_unseal",
        "tpm2_pcrextend",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    // Trial session: PolicyPCR(sha256:8) then PolicyCommandCode(Unseal).
    ok(server
        .tpm2("tpm2_startauthsession")
        .arg("-S")
        .arg(p("trial.ctx")));
    ok(server
        .tpm2("tpm2_policypcr")
        .arg("-S")
        .arg(p("trial.ctx"))
        .args(["-l", "sha256:8"]));
    ok(server
        .tpm2("tpm2_policycommandcode")
        .arg("-S")
        .arg(p("trial.ctx"))
        .arg("-L")
        .arg(p("policy.digest"))
        .arg("TPM2_CC_Unseal"));
    ok(server.tpm2("tpm2_flushcontext").arg(p("trial.ctx")));
    let sel = vec![0, 0, 0, 1, 0, 0x0B, 3, 0, 1, 0];
    let pcr = sha256(&[&[0u8; 32]]);
    let d = sha256(&[&[0u8; 32], &0x17Fu32.to_be_bytes(), &sel, &pcr]);
    let d = sha256(&[&d, &0x16Cu32.to_be_bytes(), &0x15Eu32.to_be_bytes()]);
    assert_eq!(fs::read(p("policy.digest")).unwrap(), d);

    fs::write(p("secret.bin"), b"sealed to PCR 8").unwrap();
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "o", "-c"])
        .arg(p("prim.ctx")));
    ok(server
        .tpm2("tpm2_create")
        .arg("-C")
        .arg(p("prim.ctx"))
        .arg("-L")
        .arg(p("policy.digest"))
        .arg("-i")
        .arg(p("secret.bin"))
        .arg("-u")
        .arg(p("seal.pub"))
        .arg("-r")
        .arg(p("seal.priv")));
    flush(&server);
    ok(server
        .tpm2("tpm2_load")
        .arg("-C")
        .arg(p("prim.ctx"))
        .arg("-u")
        .arg(p("seal.pub"))
        .arg("-r")
        .arg(p("seal.priv"))
        .arg("-c")
        .arg(p("seal.ctx")));
    flush(&server);

    let try_unseal = |server: &Server| {
        ok(server
            .tpm2("tpm2_startauthsession")
            .arg("--policy-session")
            .arg("-S")
            .arg(p("s.ctx")));
        ok(server
            .tpm2("tpm2_policypcr")
            .arg("-S")
            .arg(p("s.ctx"))
            .args(["-l", "sha256:8"]));
        ok(server
            .tpm2("tpm2_policycommandcode")
            .arg("-S")
            .arg(p("s.ctx"))
            .arg("TPM2_CC_Unseal"));
        let out = run_timeout(
            server
                .tpm2("tpm2_unseal")
                .arg("-c")
                .arg(p("seal.ctx"))
                .arg("-p")
                .arg(format!("session:{}", p("s.ctx").display())),
        );
        flush(server);
        out
    };
    let out = try_unseal(&server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"sealed to PCR 8");
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("8:sha256={}", "11".repeat(32))));
    let out = try_unseal(&server);
    assert!(!out.status.success(), "unseal after PCR change must fail");
}

#[test]
fn ek_templates_and_ak_under_the_ek() {
    require!(
        "tpm2_startup",
        "tpm2_createek",
        "tpm2_createak",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    for alg in ["rsa", "ecc"] {
        let mut pubs = Vec::new();
        for i in 0..2 {
            let pub_file = p(&format!("ek-{alg}-{i}.pub"));
            ok(server
                .tpm2("tpm2_createek")
                .arg("-c")
                .arg(p("ek.ctx"))
                .args(["-G", alg])
                .arg("-u")
                .arg(&pub_file));
            pubs.push(fs::read(&pub_file).unwrap());
            flush(&server);
            if i == 0 {
                ok(server
                    .tpm2("tpm2_createak")
                    .arg("-C")
                    .arg(p("ek.ctx"))
                    .arg("-c")
                    .arg(p("ak.ctx"))
                    .args([
                        "-G",
                        alg,
                        "-g",
                        "sha256",
                        "-s",
                        if alg == "rsa" { "rsassa" } else { "ecdsa" },
                    ])
                    .arg("-u")
                    .arg(p("ak.pub"))
                    .arg("-r")
                    .arg(p("ak.priv")));
            }
            flush(&server);
        }
        assert_eq!(
            pubs[0], pubs[1],
            "EK public keys of two createek runs differ"
        );
    }
}
