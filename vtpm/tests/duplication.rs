//! TPM2_Import, TPM2_Duplicate through tpm2-tools: an OpenSSL-generated RSA key
//! wrapped offline by `tpm2_import` (the tool's own implementation of the
//! Part 1 duplication blob, inner and outer wrapper) is imported, loaded and
//! its public key compared with OpenSSL's; an object duplicated by this TPM
//! under a policy session is imported under another parent and loaded.

mod common;

use std::fs;
use std::process::Command;

use common::*;

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl rsa -modulus` of a PEM public key.
fn modulus(pem: &std::path::Path) -> String {
    let out = ok(Command::new("openssl")
        .args(["rsa", "-pubin", "-noout", "-modulus", "-in"])
        .arg(pem));
    text(&out).trim().to_string()
}

#[test]
fn import_openssl_rsa_key() {
    require!("tpm2_import", "tpm2_load", "tpm2_readpublic", "openssl");
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    ok(Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(p("k.pem"))
        .arg("2048"));
    ok(Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(p("k.pem"))
        .arg("-out")
        .arg(p("ref.pem")));
    for alg in ["rsa", "ecc"] {
        let parent = p(&format!("parent-{alg}.ctx"));
        ok(server
            .tpm2("tpm2_createprimary")
            .args(["-C", "o", "-G", alg, "-c"])
            .arg(&parent));
        flush_transient(&server);
        let (public, private) = (p(&format!("k-{alg}.pub")), p(&format!("k-{alg}.priv")));
        ok(server
            .tpm2("tpm2_import")
            .arg("-C")
            .arg(&parent)
            .args(["-G", "rsa", "-i"])
            .arg(p("k.pem"))
            .arg("-u")
            .arg(&public)
            .arg("-r")
            .arg(&private));
        flush_transient(&server);
        let key = p(&format!("k-{alg}.ctx"));
        ok(server
            .tpm2("tpm2_load")
            .arg("-C")
            .arg(&parent)
            .arg("-u")
            .arg(&public)
            .arg("-r")
            .arg(&private)
            .arg("-c")
            .arg(&key));
        flush_transient(&server);
        let tpm_pem = p(&format!("tpm-{alg}.pem"));
        ok(server
            .tpm2("tpm2_readpublic")
            .arg("-c")
            .arg(&key)
            .args(["-f", "pem", "-o"])
            .arg(&tpm_pem));
        flush_transient(&server);
        assert_eq!(modulus(&tpm_pem), modulus(&p("ref.pem")));
        // A tampered blob is refused (integrity).
        let mut bad = fs::read(&private).unwrap();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        fs::write(p("bad.priv"), &bad).unwrap();
        let out = run_timeout(
            server
                .tpm2("tpm2_load")
                .arg("-C")
                .arg(&parent)
                .arg("-u")
                .arg(&public)
                .arg("-r")
                .arg(p("bad.priv"))
                .arg("-c")
                .arg(p("bad.ctx")),
        );
        assert!(!out.status.success());
        flush_transient(&server);
    }
}

#[test]
fn duplicate_with_policy_session_then_import() {
    require!(
        "tpm2_duplicate",
        "tpm2_import",
        "tpm2_startauthsession",
        "tpm2_policycommandcode"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    // The policy: PolicyCommandCode(TPM2_CC_Duplicate), from a trial session.
    ok(server
        .tpm2("tpm2_startauthsession")
        .arg("-S")
        .arg(p("trial.ctx")));
    ok(server
        .tpm2("tpm2_policycommandcode")
        .arg("-S")
        .arg(p("trial.ctx"))
        .arg("-L")
        .arg(p("dup.policy"))
        .arg("TPM2_CC_Duplicate"));
    ok(server.tpm2("tpm2_flushcontext").arg(p("trial.ctx")));
    // Source parent and a duplicable key under it.
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "ecc", "-c"])
        .arg(p("src.ctx")));
    flush_transient(&server);
    ok(server
        .tpm2("tpm2_create")
        .arg("-C")
        .arg(p("src.ctx"))
        .args([
            "-G",
            "ecc",
            "-a",
            "sensitivedataorigin|userwithauth|sign",
            "-L",
        ])
        .arg(p("dup.policy"))
        .arg("-u")
        .arg(p("key.pub"))
        .arg("-r")
        .arg(p("key.priv")));
    flush_transient(&server);
    ok(server
        .tpm2("tpm2_load")
        .arg("-C")
        .arg(p("src.ctx"))
        .arg("-u")
        .arg(p("key.pub"))
        .arg("-r")
        .arg(p("key.priv"))
        .arg("-c")
        .arg(p("key.ctx"))
        .arg("-n")
        .arg(p("key.name")));
    flush_transient(&server);
    // The new parent: an RSA primary, given to Duplicate as a public key only.
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "rsa", "-c"])
        .arg(p("np.ctx")));
    ok(server
        .tpm2("tpm2_readpublic")
        .arg("-c")
        .arg(p("np.ctx"))
        .arg("-o")
        .arg(p("np.pub")));
    flush_transient(&server);
    ok(server
        .tpm2("tpm2_loadexternal")
        .args(["-C", "n", "-u"])
        .arg(p("np.pub"))
        .arg("-c")
        .arg(p("npx.ctx")));
    flush_transient(&server);
    // A password does not give the DUP role.
    let out = run_timeout(
        server
            .tpm2("tpm2_duplicate")
            .arg("-C")
            .arg(p("npx.ctx"))
            .arg("-c")
            .arg(p("key.ctx"))
            .args(["-G", "null", "-r"])
            .arg(p("pw.priv"))
            .arg("-s")
            .arg(p("pw.seed")),
    );
    assert!(!out.status.success());
    flush_transient(&server);
    ok(server
        .tpm2("tpm2_startauthsession")
        .arg("--policy-session")
        .arg("-S")
        .arg(p("s.ctx")));
    ok(server
        .tpm2("tpm2_policycommandcode")
        .arg("-S")
        .arg(p("s.ctx"))
        .arg("TPM2_CC_Duplicate"));
    ok(server
        .tpm2("tpm2_duplicate")
        .arg("-C")
        .arg(p("npx.ctx"))
        .arg("-c")
        .arg(p("key.ctx"))
        .args(["-G", "null", "-p"])
        .arg(format!("session:{}", p("s.ctx").display()))
        .arg("-r")
        .arg(p("dup.priv"))
        .arg("-s")
        .arg(p("dup.seed")));
    flush_transient(&server);
    let _ = run_timeout(server.tpm2("tpm2_flushcontext").arg(p("s.ctx")));
    ok(server
        .tpm2("tpm2_import")
        .arg("-C")
        .arg(p("np.ctx"))
        .arg("-u")
        .arg(p("key.pub"))
        .arg("-i")
        .arg(p("dup.priv"))
        .arg("-s")
        .arg(p("dup.seed"))
        .arg("-r")
        .arg(p("imported.priv")));
    flush_transient(&server);
    ok(server
        .tpm2("tpm2_load")
        .arg("-C")
        .arg(p("np.ctx"))
        .arg("-u")
        .arg(p("key.pub"))
        .arg("-r")
        .arg(p("imported.priv"))
        .arg("-c")
        .arg(p("imported.ctx"))
        .arg("-n")
        .arg(p("imported.name")));
    flush_transient(&server);
    assert_eq!(
        fs::read(p("imported.name")).unwrap(),
        fs::read(p("key.name")).unwrap()
    );
}
