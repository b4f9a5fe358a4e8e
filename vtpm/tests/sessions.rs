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
