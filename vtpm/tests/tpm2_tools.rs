//! The engine's foundation commands through Debian's tpm2-tools and IBM TSS
//! utilities against `vtpm run`, with values checked against digests computed here
//! independently (sha1/sha2 crates).

mod common;

use std::fs;
use std::path::Path;

use common::*;
use sha2::Digest;

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `text` with every run of blanks folded to one space.
fn squeeze(text: &str) -> String {
    text.split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha1(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = sha1::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// The value `tpm2_pcrread` prints for one PCR, as lower-case hex.
fn pcr_value(server: &Server, bank: &str, index: u32) -> String {
    let out = ok(server.tpm2("tpm2_pcrread").arg(format!("{bank}:{index}")));
    let t = text(&out);
    let line = t
        .lines()
        .find(|l| l.split(':').next().map(str::trim) == Some(&index.to_string()))
        .unwrap_or_else(|| panic!("no PCR {index} in {t}"));
    line.split("0x")
        .nth(1)
        .expect("hex value")
        .trim()
        .to_lowercase()
}

#[test]
fn getcap_reports_a_virtual_tpm() {
    require!("tpm2_startup", "tpm2_getcap");
    let td = TestDir::new();
    let server = started(&td);
    let fixed = text(&ok(server.tpm2("tpm2_getcap").arg("properties-fixed")));
    assert!(fixed.contains("TPM2_PT_FAMILY_INDICATOR"), "{fixed}");
    assert!(fixed.contains("value: \"VTPM\""), "manufacturer: {fixed}");
    assert!(
        fixed.contains("value: \"proc\""),
        "isolation in vendor string 3: {fixed}"
    );
    assert!(
        fixed.contains("value: \"virt\""),
        "vendor string 4: {fixed}"
    );
    let algs = text(&ok(server.tpm2("tpm2_getcap").arg("algorithms")));
    for a in ["sha1:", "sha256:", "sha384:", "sha512:", "hmac:"] {
        assert!(algs.contains(a), "{a} missing from {algs}");
    }
    let pcrs = text(&ok(server.tpm2("tpm2_getcap").arg("pcrs")));
    assert!(pcrs.contains("sha256: [ 0, 1, 2"), "{pcrs}");
    let cmds = text(&ok(server.tpm2("tpm2_getcap").arg("commands")));
    assert!(cmds.contains("TPM2_CC_PCR_Extend"), "{cmds}");
    let var = text(&ok(server.tpm2("tpm2_getcap").arg("properties-variable")));
    assert!(var.contains("TPM2_PT_LOCKOUT_COUNTER"), "{var}");
}

#[test]
fn pcr_extend_event_reset_match_independent_digests() {
    require!(
        "tpm2_startup",
        "tpm2_pcrextend",
        "tpm2_pcrread",
        "tpm2_pcrevent",
        "tpm2_pcrreset"
    );
    let td = TestDir::new();
    let server = started(&td);
    assert_eq!(pcr_value(&server, "sha256", 16), hex(&[0; 32]));

    let d256 = [0xA5u8; 32];
    let d1 = [0x5Au8; 20];
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={},sha1={}", hex(&d256), hex(&d1))));
    let want256 = sha256(&[&[0; 32], &d256]);
    let want1 = sha1(&[&[0; 20], &d1]);
    assert_eq!(pcr_value(&server, "sha256", 16), hex(&want256));
    assert_eq!(pcr_value(&server, "sha1", 16), hex(&want1));

    // PCR_Event: the TPM hashes the event data itself.
    let ev = td.path().join("event.bin");
    fs::write(&ev, b"an event measured by the test").unwrap();
    let out = text(&ok(server.tpm2("tpm2_pcrevent").arg("16").arg(&ev)));
    let ev_digest = sha256(&[b"an event measured by the test"]);
    assert!(
        out.contains(&hex(&ev_digest)),
        "pcrevent printed {out}, want {}",
        hex(&ev_digest)
    );
    let want256 = sha256(&[&want256, &ev_digest]);
    assert_eq!(pcr_value(&server, "sha256", 16), hex(&want256));

    // PCR 16 is resettable from locality 0; PCR 0 is not.
    ok(server.tpm2("tpm2_pcrreset").arg("16"));
    assert_eq!(pcr_value(&server, "sha256", 16), hex(&[0; 32]));
    let denied = run_timeout(server.tpm2("tpm2_pcrreset").arg("0"));
    assert!(!denied.status.success(), "PCR 0 was reset at locality 0");
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("0x907"),
        "want TPM_RC_LOCALITY: {}",
        String::from_utf8_lossy(&denied.stderr)
    );
}

#[test]
fn pcr_allocate_takes_effect_at_the_next_reset() {
    require!(
        "tpm2_startup",
        "tpm2_pcrallocate",
        "tpm2_pcrread",
        "tpm2_getcap"
    );
    let td = TestDir::new();
    let mut server = started(&td);
    ok(server
        .tpm2("tpm2_pcrallocate")
        .arg("sha256:all+sha384:all+sha1:none"));
    // Not before a TPM Reset.
    let before = text(&ok(server.tpm2("tpm2_getcap").arg("pcrs")));
    assert!(before.contains("sha1: [ 0, 1"), "{before}");
    server.kill9();
    let server = started(&td);
    let after = text(&ok(server.tpm2("tpm2_getcap").arg("pcrs")));
    assert!(after.contains("sha384: [ 0, 1"), "{after}");
    assert!(
        !after.contains("sha1: [ 0"),
        "sha1 still allocated: {after}"
    );
    assert_eq!(pcr_value(&server, "sha384", 0), hex(&[0; 48]));
}

#[test]
fn hash_matches_and_gives_a_ticket() {
    require!("tpm2_startup", "tpm2_hash");
    let td = TestDir::new();
    let server = started(&td);
    let data = td.path().join("data.bin");
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    fs::write(&data, &bytes).unwrap();
    let ticket = td.path().join("ticket.bin");
    // More than one TPM2B_MAX_BUFFER: tpm2_hash uses a hash sequence.
    let out = text(&ok(server
        .tpm2("tpm2_hash")
        .args(["-g", "sha256", "-C", "o", "--hex", "-t"])
        .arg(&ticket)
        .arg(&data)));
    assert_eq!(out.trim(), hex(&sha256(&[&bytes])));
    let tk = fs::read(&ticket).unwrap();
    // TPMT_TK_HASHCHECK: tag 0x8024, hierarchy owner, a 64-byte HMAC (SHA-512)
    assert_eq!(&tk[0..2], &[0x80, 0x24]);
    assert_eq!(&tk[2..6], &[0x40, 0, 0, 1]);
    assert_eq!(&tk[6..8], &[0, 64]);
    // A short message goes through TPM2_Hash.
    fs::write(&data, b"abc").unwrap();
    let out = text(&ok(server
        .tpm2("tpm2_hash")
        .args(["-g", "sha1", "--hex"])
        .arg(&data)));
    assert_eq!(out.trim(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

#[test]
fn changeauth_clear_and_dictionary_lockout() {
    require!(
        "tpm2_startup",
        "tpm2_changeauth",
        "tpm2_clear",
        "tpm2_dictionarylockout",
        "tpm2_getcap"
    );
    let td = TestDir::new();
    let server = started(&td);
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "owner", "ownerpw"]));
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "endorsement", "endpw"]));
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "lockout", "lockpw"]));
    // Wrong password: refused.
    let bad = run_timeout(
        server
            .tpm2("tpm2_changeauth")
            .args(["-c", "owner", "-p", "nope", "x"]),
    );
    assert!(!bad.status.success());

    ok(server
        .tpm2("tpm2_dictionarylockout")
        .args(["-s", "-n", "5", "-t", "6", "-l", "7", "-p", "lockpw"]));
    let var = text(&ok(server.tpm2("tpm2_getcap").arg("properties-variable")));
    assert!(var.contains("TPM2_PT_MAX_AUTH_FAIL: 0x5"), "{var}");
    assert!(var.contains("TPM2_PT_LOCKOUT_INTERVAL: 0x6"), "{var}");
    assert!(var.contains("TPM2_PT_LOCKOUT_RECOVERY: 0x7"), "{var}");
    assert!(squeeze(&var).contains("ownerAuthSet: 1"), "{var}");
    ok(server
        .tpm2("tpm2_dictionarylockout")
        .args(["-c", "-p", "lockpw"]));

    // A wrong lockout password locks lockoutAuth out for lockoutRecovery (7 s).
    let bad = run_timeout(
        server
            .tpm2("tpm2_dictionarylockout")
            .args(["-c", "-p", "bad"]),
    );
    assert!(!bad.status.success());
    let locked = run_timeout(
        server
            .tpm2("tpm2_dictionarylockout")
            .args(["-c", "-p", "lockpw"]),
    );
    assert!(
        !locked.status.success(),
        "lockoutAuth usable right after a failure"
    );
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("0x921"),
        "want TPM_RC_LOCKOUT: {}",
        String::from_utf8_lossy(&locked.stderr)
    );

    // TPM2_Clear with platformAuth empties owner, endorsement and lockout auth.
    ok(server.tpm2("tpm2_clear").args(["-c", "p"]));
    let var = text(&ok(server.tpm2("tpm2_getcap").arg("properties-variable")));
    assert!(squeeze(&var).contains("ownerAuthSet: 0"), "{var}");
    ok(server
        .tpm2("tpm2_changeauth")
        .args(["-c", "owner", "again"]));
}

#[test]
fn shutdown_state_then_startup_state_keeps_pcrs() {
    require!(
        "tpm2_startup",
        "tpm2_shutdown",
        "tpm2_pcrextend",
        "tpm2_pcrread",
        "tpm2_readclock"
    );
    let td = TestDir::new();
    let mut server = started(&td);
    let d = [0x42u8; 32];
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("0:sha256={}", hex(&d))));
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={}", hex(&d))));
    let pcr0 = hex(&sha256(&[&[0; 32], &d]));
    assert_eq!(pcr_value(&server, "sha256", 0), pcr0);
    ok(&mut server.tpm2("tpm2_shutdown")); // Shutdown(STATE)
                                           // Power is lost; the saved state is durable.
    server.kill9();
    let mut server = Server::start(&td);
    ok(&mut server.tpm2("tpm2_startup")); // Startup(STATE): TPM Resume
    assert_eq!(pcr_value(&server, "sha256", 0), pcr0, "PCR 0 restored");
    assert_eq!(
        pcr_value(&server, "sha256", 16),
        hex(&[0; 32]),
        "PCR 16 is not state-saved"
    );
    let clock = text(&ok(&mut server.tpm2("tpm2_readclock")));
    assert!(clock.contains("restart_count: 1"), "{clock}");
    // A Startup(CLEAR) after Shutdown(CLEAR) is a TPM Reset: PCR 0 back to zero.
    ok(server.tpm2("tpm2_shutdown").arg("-c"));
    server.kill9();
    let server = started(&td);
    assert_eq!(pcr_value(&server, "sha256", 0), hex(&[0; 32]));
    let clock = text(&ok(&mut server.tpm2("tpm2_readclock")));
    assert!(clock.contains("reset_count: 1"), "{clock}");
}

fn ibm(server: &Server, dir: &Path, tool: &str) -> std::process::Command {
    let mut c = server.ibm(tool);
    c.env("TPM_DATA_DIR", dir);
    c
}

#[test]
fn ibm_tss_pcr_and_hash() {
    require!(
        "tssstartup",
        "tsspcrextend",
        "tsspcrread",
        "tsshash",
        "tssgetcapability"
    );
    let td = TestDir::new();
    let server = Server::start(&td);
    ok(&mut ibm(&server, td.path(), "tssstartup"));
    ok(ibm(&server, td.path(), "tsspcrextend")
        .args(["-ha", "16", "-halg", "sha256", "-ic", "abc"]));
    let out = text(&ok(
        ibm(&server, td.path(), "tsspcrread").args(["-ha", "16", "-halg", "sha256", "-ns"])
    ));
    // -ic pads the string with zeros to the digest size.
    let mut data = b"abc".to_vec();
    data.resize(32, 0);
    assert_eq!(out.trim(), hex(&sha256(&[&[0; 32], &data])));
    let oh = td.path().join("hash.bin");
    ok(ibm(&server, td.path(), "tsshash")
        .args(["-hi", "o", "-halg", "sha256", "-ic", "hello tss", "-oh"])
        .arg(&oh));
    assert_eq!(fs::read(&oh).unwrap(), sha256(&[b"hello tss"]));
    let caps = text(&ok(
        ibm(&server, td.path(), "tssgetcapability").args(["-cap", "6", "-pr", "0x105"])
    ));
    assert!(
        caps.contains("VTPM")
            || caps.contains("56 54 50 4d")
            || caps.to_lowercase().contains("5654504d"),
        "{caps}"
    );
}
