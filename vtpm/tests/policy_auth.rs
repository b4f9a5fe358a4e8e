//! Policy sessions authorizing NV indices and hierarchies, through tpm2-tools
//! against `vtpm run`: an index with POLICYREAD|POLICYWRITE bound to a PCR
//! policy, TPM2_SetPrimaryPolicy on the owner hierarchy, and a write-once index
//! through PolicyNvWritten. Policy digests are checked against values computed here.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn session_arg(path: &Path) -> String {
    format!("session:{}", path.display())
}

/// Starts a policy session (`trial` for a trial session) in `file`.
fn start_session(server: &Server, file: &Path, trial: bool) {
    let mut c = server.tpm2("tpm2_startauthsession");
    if !trial {
        c.arg("--policy-session");
    }
    ok(c.arg("-S").arg(file));
}

fn policy_pcr8(server: &Server, session: &Path, out: Option<&Path>) {
    let mut c = server.tpm2("tpm2_policypcr");
    c.arg("-S").arg(session).args(["-l", "sha256:8"]);
    if let Some(o) = out {
        c.arg("-L").arg(o);
    }
    ok(&mut c);
}

/// PolicyPCR over sha256:8 holding zeros.
fn pcr8_zero_policy() -> Vec<u8> {
    let sel = [0, 0, 0, 1, 0, 0x0B, 3, 0, 1, 0];
    sha256(&[
        &[0u8; 32],
        &0x17Fu32.to_be_bytes(),
        &sel,
        &sha256(&[&[0u8; 32]]),
    ])
}

#[test]
fn nv_index_authorized_by_a_pcr_policy() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policypcr",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread",
        "tpm2_pcrextend",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    start_session(&server, &p("trial.ctx"), true);
    policy_pcr8(&server, &p("trial.ctx"), Some(&p("policy.dat")));
    flush(&server);
    assert_eq!(fs::read(p("policy.dat")).unwrap(), pcr8_zero_policy());
    ok(server
        .tpm2("tpm2_nvdefine")
        .arg("0x1500020")
        .args(["-C", "o", "-s", "8", "-a", "policyread|policywrite"])
        .arg("-L")
        .arg(p("policy.dat")));
    fs::write(p("data.bin"), b"by pcr 8").unwrap();

    // A password (the index's empty authValue) is refused: no AUTHWRITE.
    let out = run_timeout(
        server
            .tpm2("tpm2_nvwrite")
            .arg("0x1500020")
            .arg("-i")
            .arg(p("data.bin")),
    );
    assert!(!out.status.success(), "password write must fail");

    start_session(&server, &p("s.ctx"), false);
    policy_pcr8(&server, &p("s.ctx"), None);
    ok(server
        .tpm2("tpm2_nvwrite")
        .arg("0x1500020")
        .arg("-i")
        .arg(p("data.bin"))
        .arg("-P")
        .arg(session_arg(&p("s.ctx"))));
    flush(&server);

    let read = |server: &Server| {
        start_session(server, &p("s.ctx"), false);
        policy_pcr8(server, &p("s.ctx"), None);
        let out = run_timeout(
            server
                .tpm2("tpm2_nvread")
                .arg("0x1500020")
                .args(["-s", "8"])
                .arg("-P")
                .arg(session_arg(&p("s.ctx"))),
        );
        flush(server);
        out
    };
    let out = read(&server);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"by pcr 8");
    let out = run_timeout(
        server
            .tpm2("tpm2_nvread")
            .arg("0x1500020")
            .args(["-s", "8"]),
    );
    assert!(!out.status.success(), "password read must fail");

    // After PCR 8 changes the policy no longer holds.
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("8:sha256={}", "22".repeat(32))));
    let out = read(&server);
    assert!(!out.status.success(), "read after PCR change must fail");
}

#[test]
fn owner_hierarchy_authorized_by_its_primary_policy() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policycommandcode",
        "tpm2_setprimarypolicy",
        "tpm2_nvdefine",
        "tpm2_nvundefine",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    start_session(&server, &p("trial.ctx"), true);
    ok(server
        .tpm2("tpm2_policycommandcode")
        .arg("-S")
        .arg(p("trial.ctx"))
        .arg("-L")
        .arg(p("policy.dat"))
        .arg("TPM2_CC_NV_DefineSpace"));
    flush(&server);
    let want = sha256(&[&[0u8; 32], &0x16Cu32.to_be_bytes(), &0x12Au32.to_be_bytes()]);
    assert_eq!(fs::read(p("policy.dat")).unwrap(), want);
    ok(server
        .tpm2("tpm2_setprimarypolicy")
        .args(["-C", "o", "-g", "sha256"])
        .arg("-L")
        .arg(p("policy.dat")));

    let with_policy =
        |server: &Server, cc: &str, tool: &mut dyn FnMut(&str) -> std::process::Output| {
            start_session(server, &p("s.ctx"), false);
            ok(server
                .tpm2("tpm2_policycommandcode")
                .arg("-S")
                .arg(p("s.ctx"))
                .arg(cc));
            let out = tool(&session_arg(&p("s.ctx")));
            flush(server);
            out
        };
    let out = with_policy(&server, "TPM2_CC_NV_DefineSpace", &mut |auth| {
        run_timeout(
            server
                .tpm2("tpm2_nvdefine")
                .arg("0x1500030")
                .args(["-C", "o", "-s", "8", "-a", "ownerread|ownerwrite"])
                .args(["-P", auth]),
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A policy for another command does not match ownerPolicy.
    let out = with_policy(&server, "TPM2_CC_NV_UndefineSpace", &mut |auth| {
        run_timeout(
            server
                .tpm2("tpm2_nvundefine")
                .arg("0x1500030")
                .args(["-C", "o", "-P", auth]),
        )
    });
    assert!(!out.status.success(), "a different policy must fail");
    // The owner password still works.
    ok(server
        .tpm2("tpm2_nvundefine")
        .arg("0x1500030")
        .args(["-C", "o"]));
}

#[test]
fn write_once_index_through_policy_nv_written() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policynvwritten",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    start_session(&server, &p("trial.ctx"), true);
    ok(server
        .tpm2("tpm2_policynvwritten")
        .arg("-S")
        .arg(p("trial.ctx"))
        .arg("-L")
        .arg(p("policy.dat"))
        .arg("c"));
    flush(&server);
    let want = sha256(&[&[0u8; 32], &0x18Fu32.to_be_bytes(), &[0]]);
    assert_eq!(fs::read(p("policy.dat")).unwrap(), want);
    ok(server
        .tpm2("tpm2_nvdefine")
        .arg("0x1500040")
        .args(["-C", "o", "-s", "4", "-a", "policywrite|authread"])
        .arg("-L")
        .arg(p("policy.dat")));
    let write = |server: &Server, data: &[u8]| {
        fs::write(p("data.bin"), data).unwrap();
        start_session(server, &p("s.ctx"), false);
        ok(server
            .tpm2("tpm2_policynvwritten")
            .arg("-S")
            .arg(p("s.ctx"))
            .arg("c"));
        let out = run_timeout(
            server
                .tpm2("tpm2_nvwrite")
                .arg("0x1500040")
                .arg("-i")
                .arg(p("data.bin"))
                .arg("-P")
                .arg(session_arg(&p("s.ctx"))),
        );
        flush(server);
        out
    };
    let out = write(&server, b"once");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = write(&server, b"twic");
    assert!(!out.status.success(), "second write must fail");
    let out = ok(server
        .tpm2("tpm2_nvread")
        .arg("0x1500040")
        .args(["-C", "0x1500040", "-s", "4"]));
    assert_eq!(out.stdout, b"once");
}
