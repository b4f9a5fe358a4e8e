//! Attestation through tpm2-tools: an AK made under the TCG EK quotes PCRs and
//! `tpm2_checkquote` (OpenSSL underneath) verifies the quote, its nonce and the
//! PCR values independently; `tpm2_gettime` and `tpm2_certify` signatures are
//! verified with `openssl dgst`.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// An ECC AK under the ECC EK; returns the AK context (and writes ak.pem).
fn make_ak(server: &Server, dir: &Path) {
    let p = |f: &str| dir.join(f);
    ok(server
        .tpm2("tpm2_createek")
        .arg("-c")
        .arg(p("ek.ctx"))
        .args(["-G", "ecc", "-u"])
        .arg(p("ek.pub")));
    flush(server);
    ok(server
        .tpm2("tpm2_createak")
        .arg("-C")
        .arg(p("ek.ctx"))
        .arg("-c")
        .arg(p("ak.ctx"))
        .args(["-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u"])
        .arg(p("ak.pub"))
        .arg("-n")
        .arg(p("ak.name")));
    flush(server);
    ok(server
        .tpm2("tpm2_readpublic")
        .arg("-c")
        .arg(p("ak.ctx"))
        .args(["-f", "pem", "-o"])
        .arg(p("ak.pem")));
    flush(server);
}

#[test]
fn quote_verified_by_tpm2_checkquote() {
    require!("tpm2_quote", "tpm2_checkquote", "tpm2_createak");
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    let p = |f: &str| dir.join(f);
    make_ak(&server, dir);
    ok(server
        .tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={}", "3c".repeat(32))));
    ok(server
        .tpm2("tpm2_quote")
        .arg("-c")
        .arg(p("ak.ctx"))
        .args(["-l", "sha256:0,16", "-q", "a1b2c3d4", "-g", "sha256", "-m"])
        .arg(p("quote.msg"))
        .arg("-s")
        .arg(p("quote.sig"))
        .arg("-o")
        .arg(p("quote.pcrs")));
    flush(&server);
    let check = |nonce: &str, msg: &str| {
        server
            .tpm2("tpm2_checkquote")
            .arg("-u")
            .arg(p("ak.pem"))
            .arg("-m")
            .arg(p(msg))
            .arg("-s")
            .arg(p("quote.sig"))
            .arg("-f")
            .arg(p("quote.pcrs"))
            .args(["-g", "sha256", "-q", nonce])
            .output()
            .unwrap()
    };
    let out = check("a1b2c3d4", "quote.msg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The wrong nonce, or an altered quote, is refused.
    assert!(!check("a1b2c3d5", "quote.msg").status.success());
    let mut msg = fs::read(p("quote.msg")).unwrap();
    let last = msg.len() - 1;
    msg[last] ^= 1;
    fs::write(p("bad.msg"), msg).unwrap();
    assert!(!check("a1b2c3d4", "bad.msg").status.success());
}

#[test]
fn gettime_and_certify_signatures_verify_with_openssl() {
    require!("tpm2_gettime", "tpm2_certify", "openssl");
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    let p = |f: &str| dir.join(f);
    make_ak(&server, dir);
    ok(server
        .tpm2("tpm2_gettime")
        .arg("-c")
        .arg(p("ak.ctx"))
        .args(["-q", "00ff", "-f", "plain", "-o"])
        .arg(p("time.sig"))
        .arg("--attestation")
        .arg(p("time.attest")));
    flush(&server);
    let verify = |data: &str, sig: &str| {
        run_timeout(
            std::process::Command::new("openssl")
                .args(["dgst", "-sha256", "-verify"])
                .arg(p("ak.pem"))
                .arg("-signature")
                .arg(p(sig))
                .arg(p(data)),
        )
    };
    let out = verify("time.attest", "time.sig");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let attest = fs::read(p("time.attest")).unwrap();
    assert_eq!(&attest[0..4], b"\xffTCG");
    assert_eq!(&attest[4..6], &[0x80, 0x19], "TPM_ST_ATTEST_TIME");
    // The AK certifies itself (an object loaded in this TPM, named in the
    // signed structure).
    ok(server
        .tpm2("tpm2_certify")
        .arg("-c")
        .arg(p("ak.ctx"))
        .arg("-C")
        .arg(p("ak.ctx"))
        .args(["-g", "sha256", "-f", "plain", "-o"])
        .arg(p("certify.attest"))
        .arg("-s")
        .arg(p("certify.sig")));
    flush(&server);
    let out = verify("certify.attest", "certify.sig");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let attest = fs::read(p("certify.attest")).unwrap();
    assert_eq!(&attest[4..6], &[0x80, 0x17], "TPM_ST_ATTEST_CERTIFY");
    let name = fs::read(p("ak.name")).unwrap();
    assert!(
        attest.windows(name.len()).any(|w| w == name.as_slice()),
        "the AK's Name is in the certified structure"
    );
}
