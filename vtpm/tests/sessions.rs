//! Sessions through a real TSS: parameter encryption (AES-CFB and XOR, bound and
//! unbound, SHA-1 and SHA-256 sessions) and session audit, as tpm2-pytss's ESAPI
//! performs them.

mod common;
use common::*;

#[test]
fn pytss_parameter_encryption() {
    require!("tpm2_startup");
    if !have_pytss() {
        eprintln!("skipped: tpm2_pytss not installed for {PYTHON}");
        return;
    }
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let out = run_py(&server, "sessions.py", &[]);
    assert!(out.contains("12 combinations ok"), "{out}");
}

/// tpm2-tools keeps a session between invocations by saving its context
/// (TPM2_ContextSave) and loading it back (TPM2_ContextLoad) around each use.
#[test]
fn tpm2_tools_session_files_save_and_load_the_session() {
    require!("tpm2_startauthsession");
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path();
    let ctx = dir.join("session.ctx");
    let ctx = ctx.to_str().unwrap();
    ok(server.tpm2("tpm2_startup").arg("-c"));
    ok(server
        .tpm2("tpm2_startauthsession")
        .args(["--hmac-session", "-S", ctx]));
    ok(server
        .tpm2("tpm2_sessionconfig")
        .args([ctx, "--enable-encrypt"]));
    let saved = |server: &Server| {
        let out = ok(server.tpm2("tpm2_getcap").arg("handles-saved-session"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(saved(&server).contains("0x2000000"), "{}", saved(&server));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let out = ok(server
            .tpm2("tpm2_getrandom")
            .args(["-S", ctx, "--hex", "16"]));
        let hex = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(hex.len(), 32, "{hex}");
        assert!(!seen.contains(&hex));
        seen.push(hex);
    }
    // Still saved (not loaded) between tools; flushing ends it.
    assert!(saved(&server).contains("0x2000000"));
    ok(server.tpm2("tpm2_flushcontext").arg(ctx));
    assert!(!saved(&server).contains("0x2000000"), "{}", saved(&server));
    let out = server
        .tpm2("tpm2_getrandom")
        .args(["-S", ctx, "--hex", "16"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a flushed session was used");
}
