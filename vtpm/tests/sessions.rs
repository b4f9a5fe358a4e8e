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

/// The IBM TSS, an independent implementation of the session cryptography:
/// a sealed secret sent encrypted (AES-CFB session, decrypt) comes back
/// encrypted (AES-CFB unbound and XOR bound sessions, encrypt) and unchanged.
#[test]
fn ibm_tss_parameter_encryption() {
    require!("tssstartauthsession");
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let ibm = |tool: &str| {
        let mut c = server.ibm(tool);
        // Session state files of the TSS, encrypted with a fixed key so that
        // each tool process can read them.
        c.env("TPM_DATA_DIR", &dir)
            .env("TPM_SESSION_ENCKEY", "000102030405060708090a0b0c0d0e0f")
            .current_dir(&dir);
        c
    };
    let secret: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    std::fs::write(dir.join("secret.bin"), &secret).unwrap();
    ok(ibm("tssstartup").arg("-c"));
    ok(ibm("tssstartauthsession").args(["-se", "h", "-sym", "aes"]));
    ok(ibm("tsscreateprimary").args([
        "-hi",
        "o",
        "-bl",
        "-if",
        "secret.bin",
        "-pwdk",
        "kpw",
        "-se0",
        "02000000",
        "21",
    ]));
    ok(ibm("tssunseal").args([
        "-ha", "80000000", "-pwd", "kpw", "-of", "out1.bin", "-se0", "02000000", "41",
    ]));
    assert_eq!(std::fs::read(dir.join("out1.bin")).unwrap(), secret);
    ok(ibm("tssstartauthsession")
        .args(["-se", "h", "-sym", "xor", "-bi", "80000000", "-pwdb", "kpw"]));
    ok(ibm("tssunseal").args([
        "-ha", "80000000", "-pwd", "kpw", "-of", "out2.bin", "-se0", "02000001", "41",
    ]));
    assert_eq!(std::fs::read(dir.join("out2.bin")).unwrap(), secret);
}

/// The session pattern of Linux 6.10+ (a NULL-hierarchy ECC primary kept as a saved
/// context, a salted session per use, encrypted parameters on every command) as
/// `tests/py/linux_sessions.py` drives it through ESAPI. Debian's kernels are built
/// without CONFIG_TCG_TPM2_HMAC, so a guest cannot show it.
#[test]
fn linux_kernel_session_pattern() {
    require!("tpm2_startup");
    if !have_pytss() {
        eprintln!("skipped: tpm2_pytss not installed for {PYTHON}");
        return;
    }
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let out = run_py(&server, "linux_sessions.py", &[]);
    assert!(out.contains("36 commands on 3 salted sessions ok"), "{out}");
}
