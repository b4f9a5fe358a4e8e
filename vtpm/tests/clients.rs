//! Unmodified TPM client software against `vtpm run`: tpm2-tools (tpm2-tss mssim
//! TCTI), IBM TSS (socsim), tpm2-pytss. Each test skips when its tool is missing.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

use common::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tpm2_tools_startup_getrandom_readclock() {
    require!("tpm2_startup", "tpm2_getrandom", "tpm2_readclock");
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));

    let out = ok(server.tpm2("tpm2_getrandom").args(["--hex", "16"]));
    let hex = stdout(&out);
    let hex = hex.trim();
    assert_eq!(hex.len(), 32, "{hex:?}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{hex:?}");
    let again = stdout(&ok(server.tpm2("tpm2_getrandom").args(["--hex", "16"])));
    assert_ne!(
        hex,
        again.trim(),
        "two GetRandom calls returned the same bytes"
    );

    let out = ok(&mut server.tpm2("tpm2_readclock"));
    let text = stdout(&out);
    assert!(text.contains("clock_info:"), "{text}");
    assert!(text.contains("safe: yes"), "{text}");
    // Every tool connection sends POWER_ON; the TPM was not reset by them.
    assert!(text.contains("reset_count: 0"), "{text}");
}

#[test]
fn tpm2_tools_need_startup_after_restart() {
    require!("tpm2_startup", "tpm2_getrandom");
    let td = TestDir::new();
    let mut server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    server.kill9();
    let server = Server::start(&td);
    let out = run_timeout(server.tpm2("tpm2_getrandom").arg("8"));
    assert!(!out.status.success(), "GetRandom before Startup succeeded");
    ok(server.tpm2("tpm2_startup").arg("-c"));
    ok(server.tpm2("tpm2_getrandom").args(["--hex", "8"]));
}

#[test]
fn tpm2_changeauth_survives_kill_9() {
    require!("tpm2_startup", "tpm2_changeauth");
    let td = TestDir::new();
    let mut server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "owner", "newpass"]));
    server.kill9();

    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let wrong = run_timeout(
        server
            .tpm2("tpm2_changeauth")
            .args(["-c", "owner", "-p", "wrong", "x"]),
    );
    assert!(
        !wrong.status.success(),
        "a wrong owner password was accepted"
    );
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "owner", "-p", "newpass", ""]));
}

/// Changes the owner password with tpm2-pytss (ESAPI, password session).
const PY_CHANGE_AUTH: &str = r#"
import sys
from tpm2_pytss import ESAPI, TCTILdr, ESYS_TR
port, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
with ESAPI(TCTILdr("mssim", f"host=127.0.0.1,port={port}")) as e:
    e.tr_set_auth(ESYS_TR.OWNER, old)
    e.hierarchy_change_auth(ESYS_TR.OWNER, new)
"#;

fn py_change_auth(server: &Server, old: &str, new: &str) -> std::process::Output {
    run_timeout(Command::new(PYTHON).args([
        "-c",
        PY_CHANGE_AUTH,
        &server.port.to_string(),
        old,
        new,
    ]))
}

#[test]
fn pytss_owner_auth_survives_kill_9() {
    require!("tpm2_startup");
    if !have_pytss() {
        eprintln!("skipped: tpm2_pytss not installed for {PYTHON}");
        return;
    }
    let td = TestDir::new();
    let mut server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let out = py_change_auth(&server, "", "newpass");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.kill9();

    let server = Server::start(&td);
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let wrong = py_change_auth(&server, "wrong", "x");
    assert!(
        !wrong.status.success(),
        "a wrong owner password was accepted"
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("authorization failure"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let out = py_change_auth(&server, "newpass", "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn garbage_on_the_command_port_then_tpm2_tools_work() {
    require!("tpm2_startup", "tpm2_getrandom");
    let td = TestDir::new();
    let mut server = Server::start(&td);
    for junk in [
        &b"\x00\x00\x00\x63garbage"[..],
        &[0, 0, 0, 8, 0, 0x7f, 0xff, 0xff, 0xff],
        &[0xff; 64],
    ] {
        let mut s = TcpStream::connect(server.command_addr()).unwrap();
        let _ = s.write_all(junk);
        assert_closed(&mut s);
    }
    assert!(server.alive());
    ok(server.tpm2("tpm2_startup").arg("-c"));
    let out = ok(server.tpm2("tpm2_getrandom").args(["--hex", "16"]));
    assert_eq!(stdout(&out).trim().len(), 32);
}

#[test]
fn ibm_tss_startup_and_getrandom() {
    require!("tssstartup", "tssgetrandom");
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(&mut server.ibm("tssstartup"));
    let out = ok(server.ibm("tssgetrandom").args(["-by", "8"]));
    let text = stdout(&out);
    assert!(text.contains("randomBytes length 8"), "{text}");
    let bytes: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("randomBytes"))
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(bytes.len(), 8, "{text}");
    assert!(bytes
        .iter()
        .all(|b| b.len() == 2 && u8::from_str_radix(b, 16).is_ok()));
}

#[test]
fn ibm_tss_powerup_resets_and_startup_again() {
    require!("tsspowerup", "tssstartup", "tssgetrandom");
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(&mut server.ibm("tssstartup"));
    ok(&mut server.ibm("tsspowerup"));
    let out = run_timeout(server.ibm("tssgetrandom").args(["-by", "8"]));
    assert!(
        !out.status.success(),
        "GetRandom after a power cycle without Startup"
    );
    ok(&mut server.ibm("tssstartup"));
    ok(server.ibm("tssgetrandom").args(["-by", "8"]));
}
