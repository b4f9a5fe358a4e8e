//! The `vtpm` binary as a black box, with a raw mssim client (no external tools):
//! protocol framing, power signals, durability across kill -9, refusals of bad
//! state and bad configuration, resilience to garbage.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn framing_power_signals_and_startup() {
    let td = TestDir::new();
    let server = Server::start(&td);
    let mut c = RawClient::connect(&server);

    // Handshake: server version 1, platform available | raw mode | PP, then 0.
    c.cmd.write_all(&REMOTE_HANDSHAKE.to_be_bytes()).unwrap();
    c.cmd.write_all(&1u32.to_be_bytes()).unwrap();
    let mut hs = [0u8; 12];
    c.cmd.read_exact(&mut hs).unwrap();
    assert_eq!(hs, [0, 0, 0, 1, 0, 0, 0, 0x0d, 0, 0, 0, 0]);

    assert_eq!(c.signal(SIGNAL_POWER_ON), 0);
    assert_eq!(c.signal(SIGNAL_NV_ON), 0);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    let r = c.command(&get_random(16));
    assert_eq!(rc(&r), RC_SUCCESS);
    assert_eq!(u16::from_be_bytes([r[10], r[11]]), 16);
    assert_eq!(r.len(), 12 + 16);

    // A repeated POWER_ON (tpm2-tss sends one per connection) does not reset.
    assert_eq!(c.signal(SIGNAL_POWER_ON), 0);
    assert_eq!(rc(&c.command(&get_random(8))), RC_SUCCESS);

    // RESET is _TPM_Init: Startup is needed again.
    assert_eq!(c.signal(SIGNAL_RESET), 0);
    assert_eq!(rc(&c.command(&get_random(8))), RC_INITIALIZE);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);

    // Power off then on: _TPM_Init as well.
    assert_eq!(c.signal(SIGNAL_POWER_OFF), 0);
    assert_ne!(rc(&c.command(&get_random(8))), RC_SUCCESS);
    assert_eq!(c.signal(SIGNAL_POWER_ON), 0);
    assert_eq!(rc(&c.command(&get_random(8))), RC_INITIALIZE);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);

    // A locality above 4 is the engine's to refuse, with a TPM response.
    assert_ne!(rc(&c.command_at(9, &get_random(8))), RC_SUCCESS);
    c.end();

    // A later client finds the TPM still started.
    let mut c = RawClient::connect(&server);
    assert_eq!(c.signal(SIGNAL_POWER_ON), 0);
    assert_eq!(rc(&c.command(&get_random(8))), RC_SUCCESS);
    c.end();
}

#[test]
fn owner_auth_survives_kill_9() {
    let td = TestDir::new();
    let mut server = Server::start(&td);
    let mut c = RawClient::connect(&server);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    assert_eq!(
        rc(&c.command(&owner_change_auth(b"", b"newpass"))),
        RC_SUCCESS
    );
    drop(c);
    // The reply came after the state was durable: killing now loses nothing.
    server.kill9();

    let server = Server::start(&td);
    assert!(
        server.log().contains("loaded TPM state"),
        "{}",
        server.log()
    );
    let mut c = RawClient::connect(&server);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    let wrong = rc(&c.command(&owner_change_auth(b"wrong", b"x")));
    assert_ne!(wrong, RC_SUCCESS, "a wrong password was accepted");
    let empty = rc(&c.command(&owner_change_auth(b"", b"x")));
    assert_ne!(empty, RC_SUCCESS, "the old (empty) password still works");
    assert_eq!(
        rc(&c.command(&owner_change_auth(b"newpass", b""))),
        RC_SUCCESS
    );
}

#[test]
fn state_is_created_private_and_loaded_again() {
    let td = TestDir::new();
    let mut server = Server::start(&td);
    let log = server.log();
    assert!(log.contains("manufactured a new TPM"), "{log}");
    assert!(log.contains("listening"), "{log}");
    assert!(log.contains("isolation: process"), "{log}");
    assert_eq!(server.terminate().code(), Some(0));

    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&td.state_dir()), 0o700);
    assert_eq!(mode(&td.state_file()), 0o600);
    let bytes = fs::read(td.state_file()).unwrap();
    assert_eq!(&bytes[..8], b"VTPMSTAT");

    let server = Server::start(&td);
    assert!(
        server.log().contains("loaded TPM state"),
        "{}",
        server.log()
    );
}

#[test]
fn sigterm_exits_cleanly_with_state_durable() {
    let td = TestDir::new();
    let mut server = Server::start(&td);
    let mut c = RawClient::connect(&server);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    assert_eq!(rc(&c.command(&owner_change_auth(b"", b"pw"))), RC_SUCCESS);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(
        server.log().contains("received SIGTERM"),
        "{}",
        server.log()
    );

    let server = Server::start(&td);
    let mut c = RawClient::connect(&server);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    assert_eq!(rc(&c.command(&owner_change_auth(b"pw", b""))), RC_SUCCESS);
}

#[test]
fn corrupt_state_is_refused_and_left_untouched() {
    let td = TestDir::new();
    let mut server = Server::start(&td);
    server.terminate();
    let path = td.state_file();
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&path, &bytes).unwrap();

    let failure = Server::try_start(&td, &[])
        .err()
        .expect("server started on corrupt state");
    assert_eq!(
        failure.status.and_then(|s| s.code()),
        Some(1),
        "{}",
        failure.log
    );
    assert!(
        failure
            .log
            .contains(&format!("vtpm: error: state file {}", path.display())),
        "{}",
        failure.log
    );
    assert!(failure.log.contains("digest mismatch"), "{}", failure.log);
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "the corrupt file was changed"
    );

    // Truncated: refused the same way.
    fs::write(&path, &bytes[..20]).unwrap();
    let failure = Server::try_start(&td, &[])
        .err()
        .expect("server started on truncated state");
    assert_eq!(failure.status.and_then(|s| s.code()), Some(1));
    assert!(failure.log.contains("truncated"), "{}", failure.log);
    assert_eq!(fs::read(&path).unwrap(), &bytes[..20]);
    assert!(!td.state_dir().join("permanent.state.tmp").exists());
}

#[test]
fn second_server_on_the_same_dir_is_refused() {
    let td = TestDir::new();
    let mut first = Server::start(&td);
    let failure = Server::try_start(&td, &[])
        .err()
        .expect("second server started");
    assert_eq!(failure.status.and_then(|s| s.code()), Some(1));
    assert!(
        failure.log.contains(&format!(
            "state directory {} is in use by another vtpm process (pid {}, lock file",
            td.state_dir().display(),
            first.pid()
        )),
        "{}",
        failure.log
    );
    // The first one is unaffected.
    assert!(first.alive());
    let mut c = RawClient::connect(&first);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);

    // manufacture is refused too while the server runs.
    let out = run_timeout(
        vtpm()
            .arg("manufacture")
            .arg("--state-dir")
            .arg(td.state_dir())
            .arg("--force"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
}

#[test]
fn garbage_and_misbehaving_clients_do_not_hurt_the_server() {
    let td = TestDir::new();
    let mut server = Server::start(&td);

    // Unknown command code: the connection is closed.
    let mut s = TcpStream::connect(server.command_addr()).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_closed(&mut s);

    // Random bytes.
    let mut s = TcpStream::connect(server.command_addr()).unwrap();
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = s.write_all(&junk);
    assert_closed(&mut s);

    // An absurd length is refused before any payload is awaited.
    let mut s = TcpStream::connect(server.command_addr()).unwrap();
    s.write_all(&[0, 0, 0, 8, 0, 0xff, 0xff, 0xff, 0xf0])
        .unwrap();
    assert_closed(&mut s);

    // A client that vanishes mid-command.
    let mut s = TcpStream::connect(server.command_addr()).unwrap();
    s.write_all(&[0, 0, 0, 8, 0, 0, 0, 0, 12, 0x80, 0x01])
        .unwrap();
    drop(s);

    // Unknown platform code: status 1, then closed.
    let mut p = TcpStream::connect(server.platform_addr()).unwrap();
    p.write_all(&0xdead_beefu32.to_be_bytes()).unwrap();
    let mut st = [0u8; 4];
    p.read_exact(&mut st).unwrap();
    assert_eq!(st, [0, 0, 0, 1]);
    assert_closed(&mut p);

    // Malformed TPM commands get TPM error responses, not a dropped connection.
    let mut c = RawClient::connect(&server);
    for bad in [
        &[][..],
        &[0x80],
        &[0xff; 10],
        &[0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01],
    ] {
        let r = c.command(bad);
        assert_ne!(rc(&r), RC_SUCCESS);
    }
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    assert_eq!(rc(&c.command(&get_random(4))), RC_SUCCESS);
    c.end();

    assert!(server.alive());
    let log = server.log();
    assert!(log.contains("unknown code"), "{log}");
    assert!(log.contains("more than the 65536-byte limit"), "{log}");
    assert!(log.contains("in the middle of a frame"), "{log}");
    assert!(server.terminate().success());
}

#[test]
fn a_stalled_half_frame_does_not_block_other_clients() {
    let td = TestDir::new();
    let server = Server::start(&td);
    let mut stalled = TcpStream::connect(server.command_addr()).unwrap();
    stalled.write_all(&[0, 0, 0, 8, 0, 0, 0]).unwrap();

    let started = Instant::now();
    let mut c = RawClient::connect(&server);
    assert_eq!(rc(&c.command(&STARTUP_CLEAR)), RC_SUCCESS);
    assert!(started.elapsed() < Duration::from_secs(5));
    c.end();
}

#[test]
fn vm_isolation_without_an_image_is_a_usage_error() {
    let td = TestDir::new();
    let image = td.path().join("no-such-image");
    let out = run_timeout(
        vtpm()
            .args(["run", "--isolation", "vm", "--image"])
            .arg(&image)
            .arg("--state-dir")
            .arg(td.state_dir()),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&image.display().to_string()), "{err}");
    assert!(
        err.contains("cargo build --release -p vtpm-stub --target x86_64-unknown-none"),
        "{err}"
    );
    assert!(
        !td.state_dir().exists(),
        "nothing is created on a usage error"
    );
}

#[test]
fn non_loopback_address_needs_allow_remote() {
    let td = TestDir::new();
    let out = run_timeout(
        vtpm()
            .args(["run", "--mssim", "0.0.0.0:2321", "--state-dir"])
            .arg(td.state_dir()),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("vtpm: error: refusing to listen on 0.0.0.0:2321"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run_timeout(vtpm().args(["run", "--mssim", "nonsense"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run_timeout(vtpm().arg("version").env("VTPM_LOG", "chatty"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VTPM_LOG"));
    let out = run_timeout(vtpm().arg("bogus"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn version_and_help() {
    let out = run_timeout(vtpm().arg("version"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("vtpm {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("state envelope format: 1"), "{text}");

    for sub in [
        &["run", "--help"][..],
        &["manufacture", "--help"],
        &["state", "show", "--help"],
    ] {
        let out = run_timeout(vtpm().args(sub));
        assert!(out.status.success(), "{sub:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("--state-dir"),
            "{sub:?}"
        );
    }
}

#[test]
fn manufacture_refuses_to_overwrite_without_force() {
    let td = TestDir::new();
    let dir = td.state_dir();
    let id1 = "11111111-2222-4333-8444-555555555555";
    let out = run_timeout(
        vtpm()
            .arg("manufacture")
            .arg("--state-dir")
            .arg(&dir)
            .args(["--instance", id1]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(id1));
    let first = fs::read(td.state_file()).unwrap();

    let out = run_timeout(vtpm().arg("manufacture").arg("--state-dir").arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&td.state_file().display().to_string()),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(td.state_file()).unwrap(), first);

    let out = run_timeout(
        vtpm()
            .arg("manufacture")
            .arg("--state-dir")
            .arg(&dir)
            .arg("--force"),
    );
    assert!(out.status.success());
    let show = run_timeout(vtpm().args(["state", "show", "--state-dir"]).arg(&dir));
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        !text.contains(id1),
        "a new TPM keeps the old instance id:\n{text}"
    );
    // The sequence goes on from the replaced state.
    assert!(text.contains("sequence:        2"), "{text}");
}

#[test]
fn state_show_prints_facts_not_secrets() {
    let td = TestDir::new();
    let dir = td.state_dir();
    let out = run_timeout(vtpm().args(["state", "show", "--state-dir"]).arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no TPM state"));

    let id = "0a0b0c0d-0e0f-4011-8213-141516171819";
    run_timeout(
        vtpm()
            .arg("manufacture")
            .arg("--state-dir")
            .arg(&dir)
            .args(["--instance", id]),
    );
    let out = run_timeout(vtpm().args(["state", "show", "--state-dir"]).arg(&dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let file = fs::read(td.state_file()).unwrap();
    for expected in [
        format!("file:            {}", td.state_file().display()),
        format!("file size:       {} bytes", file.len()),
        "format version:  1".to_owned(),
        "kind:            permanent".to_owned(),
        format!("instance id:     {id}"),
        "sequence:        1".to_owned(),
        format!("body size:       {} bytes", file.len() - 40 - 32),
        "engine state:    loads".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    // No run of body bytes appears in the output, in hex or raw.
    let body = &file[40..file.len() - 32];
    for window in body.windows(8).step_by(8) {
        let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(&hex));
    }

    // A corrupt file: the reason, named with the file, exit 1.
    let mut bad = file.clone();
    bad[50] ^= 4;
    fs::write(td.state_file(), &bad).unwrap();
    let out = run_timeout(vtpm().args(["state", "show", "--state-dir"]).arg(&dir));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&td.state_file().display().to_string()) && err.contains("digest"),
        "{err}"
    );
}

#[test]
fn instance_id_must_match_existing_state() {
    let td = TestDir::new();
    let dir = td.state_dir();
    run_timeout(
        vtpm()
            .arg("manufacture")
            .arg("--state-dir")
            .arg(&dir)
            .args(["--instance", "11111111-1111-4111-8111-111111111111"]),
    );
    let out = run_timeout(
        vtpm()
            .args([
                "run",
                "--mssim",
                "127.0.0.1:0",
                "--instance",
                "22222222-2222-4222-8222-222222222222",
                "--state-dir",
            ])
            .arg(&dir),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("belongs to instance 11111111-1111-4111-8111-111111111111"));
}

#[test]
fn log_level_off_is_silent() {
    let td = TestDir::new();
    let out = run_timeout(
        vtpm()
            .args(["--log-level", "off", "manufacture", "--state-dir"])
            .arg(td.state_dir()),
    );
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_timeout(
        vtpm()
            .args(["manufacture", "--force", "--state-dir"])
            .arg(td.state_dir())
            .env("VTPM_LOG", "warn"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    // The replacement warning is logged with a timestamp and level.
    assert!(
        err.contains(" WARN  ") && err.contains("replacing the TPM"),
        "{err}"
    );
}
