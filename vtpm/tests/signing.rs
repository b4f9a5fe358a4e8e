//! TPM2_Sign, TPM2_VerifySignature and TPM2_HMAC through Debian's tpm2-tools
//! against `vtpm run`; signatures are verified with openssl, HMACs recomputed
//! with openssl.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// `name` run in `dir`, then every transient object flushed (no resource manager).
fn tool(server: &Server, dir: &Path, name: &str, args: &[&str]) {
    ok(server.tpm2(name).current_dir(dir).args(args));
    ok(server.tpm2("tpm2_flushcontext").arg("-t"));
    ok(server.tpm2("tpm2_flushcontext").arg("-s"));
}

/// Like [`tool`], but the command must fail.
fn tool_fails(server: &Server, dir: &Path, name: &str, args: &[&str]) {
    let mut cmd = server.tpm2(name);
    let out = run_timeout(cmd.current_dir(dir).args(args));
    assert!(
        !out.status.success(),
        "{name} {args:?} unexpectedly succeeded"
    );
    ok(server.tpm2("tpm2_flushcontext").arg("-t"));
    ok(server.tpm2("tpm2_flushcontext").arg("-s"));
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    run_timeout(Command::new("openssl").current_dir(dir).args(args))
}

/// Creates a key under prim.ctx from `alg` (tpm2_create -G) and loads it as
/// `<name>.ctx`; writes its public key as `<name>.pem`.
fn signing_key(server: &Server, dir: &Path, name: &str, alg: &str, extra: &[&str]) {
    let (pubf, privf, ctx, pem) = (
        format!("{name}.pub"),
        format!("{name}.priv"),
        format!("{name}.ctx"),
        format!("{name}.pem"),
    );
    let mut args = vec!["-C", "prim.ctx", "-G", alg, "-u", &pubf, "-r", &privf];
    args.extend_from_slice(extra);
    tool(server, dir, "tpm2_create", &args);
    tool(
        server,
        dir,
        "tpm2_load",
        &["-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-c", &ctx],
    );
    tool(
        server,
        dir,
        "tpm2_readpublic",
        &["-c", &ctx, "-f", "pem", "-o", &pem],
    );
}

#[test]
fn sign_verify_with_tpm2_tools_and_openssl() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_readpublic",
        "tpm2_sign",
        "tpm2_verifysignature",
        "tpm2_hash",
        "tpm2_flushcontext",
        "openssl"
    );
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    fs::write(dir.join("data"), b"data to be signed by the vtpm\n").unwrap();
    fs::write(dir.join("other"), b"different data\n").unwrap();
    tool(
        &server,
        dir,
        "tpm2_createprimary",
        &["-C", "o", "-g", "sha256", "-G", "ecc", "-c", "prim.ctx"],
    );

    // (key name, tpm2_create -G, tpm2_sign -s, openssl extra options)
    let cases: [(&str, &str, &str, &[&str]); 3] = [
        ("rsassa", "rsa2048:rsassa-sha256", "rsassa", &[]),
        (
            "rsapss",
            "rsa2048",
            "rsapss",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:auto",
            ],
        ),
        ("ecdsa", "ecc256:ecdsa-sha256", "ecdsa", &[]),
    ];
    for (name, alg, scheme, ossl) in cases {
        signing_key(&server, dir, name, alg, &[]);
        let ctx = format!("{name}.ctx");
        let sig = format!("{name}.sig");
        tool(
            &server,
            dir,
            "tpm2_sign",
            &[
                "-c", &ctx, "-g", "sha256", "-s", scheme, "-f", "plain", "-o", &sig, "data",
            ],
        );
        let pem = format!("{name}.pem");
        let mut args = vec!["dgst", "-sha256", "-verify", &pem, "-signature", &sig];
        args.extend_from_slice(ossl);
        let mut good = args.clone();
        good.push("data");
        let out = openssl(dir, &good);
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        args.push("other");
        assert!(!openssl(dir, &args).status.success(), "{name}");

        // tpm2_verifysignature with the TPM-format signature
        let tss = format!("{name}.tss");
        tool(
            &server,
            dir,
            "tpm2_sign",
            &["-c", &ctx, "-g", "sha256", "-s", scheme, "-o", &tss, "data"],
        );
        tool(
            &server,
            dir,
            "tpm2_verifysignature",
            &[
                "-c", &ctx, "-g", "sha256", "-m", "data", "-s", &tss, "-t", "vt.tk",
            ],
        );
        assert!(fs::metadata(dir.join("vt.tk")).unwrap().len() > 8);
        tool_fails(
            &server,
            dir,
            "tpm2_verifysignature",
            &["-c", &ctx, "-g", "sha256", "-m", "other", "-s", &tss],
        );
        let mut bad = fs::read(dir.join(&tss)).unwrap();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        fs::write(dir.join("bad.tss"), &bad).unwrap();
        tool_fails(
            &server,
            dir,
            "tpm2_verifysignature",
            &["-c", &ctx, "-g", "sha256", "-m", "data", "-s", "bad.tss"],
        );
    }

    // a restricted signing key signs only with a hash-check ticket
    signing_key(
        &server,
        dir,
        "restricted",
        "ecc256:ecdsa-sha256:null",
        &[
            "-a",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign",
        ],
    );
    tool(
        &server,
        dir,
        "tpm2_hash",
        &[
            "-g", "sha256", "-C", "o", "-t", "ticket", "-o", "digest", "data",
        ],
    );
    // a bare digest (no ticket) is refused
    tool_fails(
        &server,
        dir,
        "tpm2_sign",
        &[
            "-c",
            "restricted.ctx",
            "-g",
            "sha256",
            "-d",
            "-o",
            "r.sig",
            "digest",
        ],
    );
    tool(
        &server,
        dir,
        "tpm2_sign",
        &[
            "-c",
            "restricted.ctx",
            "-g",
            "sha256",
            "-t",
            "ticket",
            "-f",
            "plain",
            "-o",
            "r.sig",
            "data",
        ],
    );
    let out = openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "restricted.pem",
            "-signature",
            "r.sig",
            "data",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the ticket of one message does not sign the digest of another
    use sha2::Digest;
    fs::write(
        dir.join("otherdigest"),
        sha2::Sha256::digest(b"different data\n"),
    )
    .unwrap();
    tool_fails(
        &server,
        dir,
        "tpm2_sign",
        &[
            "-c",
            "restricted.ctx",
            "-g",
            "sha256",
            "-d",
            "-t",
            "ticket",
            "-o",
            "r2.sig",
            "otherdigest",
        ],
    );
    // while the digest it was issued for signs
    tool(
        &server,
        dir,
        "tpm2_sign",
        &[
            "-c",
            "restricted.ctx",
            "-g",
            "sha256",
            "-d",
            "-t",
            "ticket",
            "-f",
            "plain",
            "-o",
            "r3.sig",
            "digest",
        ],
    );
    let out = openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "restricted.pem",
            "-signature",
            "r3.sig",
            "data",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hmac_with_tpm2_tools_matches_openssl() {
    require!(
        "tpm2_startup",
        "tpm2_loadexternal",
        "tpm2_hmac",
        "tpm2_flushcontext",
        "openssl"
    );
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    let key: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(5))
        .collect();
    fs::write(dir.join("keyfile"), &key).unwrap();
    fs::write(dir.join("small"), b"short message").unwrap();
    // one full TPM2B_MAX_BUFFER (the largest input tpm2_hmac sends in one TPM2_HMAC)
    let max: Vec<u8> = (0..1024u32).map(|i| (i % 253) as u8).collect();
    fs::write(dir.join("max"), &max).unwrap();
    // more than one buffer: tpm2_hmac uses HMAC_Start and SequenceUpdate, with
    // an HMAC session on the sequence object
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    fs::write(dir.join("big"), &big).unwrap();
    // tpm2_create refuses -G with -i, so the known key is loaded externally
    tool(
        &server,
        dir,
        "tpm2_loadexternal",
        &[
            "-C",
            "n",
            "-G",
            "hmac",
            "-a",
            "userwithauth|sign",
            "-r",
            "keyfile",
            "-c",
            "h.ctx",
        ],
    );
    let hexkey: String = key.iter().map(|b| format!("{b:02x}")).collect();
    for input in ["small", "max", "big"] {
        let out_name = format!("{input}.mac");
        tool(
            &server,
            dir,
            "tpm2_hmac",
            &["-c", "h.ctx", "-g", "sha256", "-o", &out_name, input],
        );
        let got = fs::read(dir.join(&out_name)).unwrap();
        let macopt = format!("hexkey:{hexkey}");
        let out = openssl(
            dir,
            &[
                "dgst", "-sha256", "-mac", "HMAC", "-macopt", &macopt, "-binary", input,
            ],
        );
        assert!(out.status.success());
        assert_eq!(got, out.stdout, "{input}");
    }
}
