//! TPM2_RSA_Encrypt / TPM2_RSA_Decrypt and TPM2_ECDH_KeyGen / TPM2_ECDH_ZGen
//! through tpm2-tools, with OpenSSL encrypting to the TPM's RSA key from its PEM
//! public key (OAEP-SHA256 and PKCS#1 v1.5).

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

/// An owner primary, then a key of `alg` with `attrs` under it, loaded:
/// returns the key's context file.
fn make_key(server: &Server, td: &TestDir, alg: &str, attrs: &str) -> PathBuf {
    let p = |f: &str| td.path().join(f);
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "ecc", "-c"])
        .arg(p("prim.ctx")));
    ok(server
        .tpm2("tpm2_create")
        .args(["-C"])
        .arg(p("prim.ctx"))
        .args(["-G", alg, "-a", attrs, "-u"])
        .arg(p("key.pub"))
        .arg("-r")
        .arg(p("key.priv")));
    flush(server);
    ok(server
        .tpm2("tpm2_load")
        .arg("-C")
        .arg(p("prim.ctx"))
        .arg("-u")
        .arg(p("key.pub"))
        .arg("-r")
        .arg(p("key.priv"))
        .arg("-c")
        .arg(p("key.ctx")));
    flush(server);
    p("key.ctx")
}

const RSA_ATTRS: &str = "decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth";

#[test]
fn openssl_encrypts_tpm_decrypts() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_readpublic",
        "tpm2_rsadecrypt",
        "tpm2_flushcontext",
        "openssl"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    let key = make_key(&server, &td, "rsa2048:null:null", RSA_ATTRS);
    ok(server
        .tpm2("tpm2_readpublic")
        .arg("-c")
        .arg(&key)
        .args(["-f", "pem", "-o"])
        .arg(p("key.pem")));
    flush(&server);
    let msg = b"a message from openssl";
    fs::write(p("msg.bin"), msg).unwrap();
    for (tag, openssl_opts, tpm_scheme) in [
        (
            "oaep",
            &[
                "rsa_padding_mode:oaep",
                "rsa_oaep_md:sha256",
                "rsa_mgf1_md:sha256",
            ][..],
            "oaep",
        ),
        ("pkcs1", &["rsa_padding_mode:pkcs1"][..], "rsaes"),
    ] {
        let enc = p(&format!("{tag}.enc"));
        let mut cmd = std::process::Command::new("openssl");
        cmd.args(["pkeyutl", "-encrypt", "-pubin", "-inkey"])
            .arg(p("key.pem"))
            .arg("-in")
            .arg(p("msg.bin"))
            .arg("-out")
            .arg(&enc);
        for o in openssl_opts {
            cmd.args(["-pkeyopt", o]);
        }
        ok(&mut cmd);
        let out = p(&format!("{tag}.dec"));
        ok(server
            .tpm2("tpm2_rsadecrypt")
            .arg("-c")
            .arg(&key)
            .args(["-s", tpm_scheme, "-o"])
            .arg(&out)
            .arg(&enc));
        flush(&server);
        assert_eq!(fs::read(&out).unwrap(), msg, "{tag}");
        // A tampered ciphertext is refused.
        let mut bad = fs::read(&enc).unwrap();
        bad[17] ^= 0x10;
        fs::write(p("bad.enc"), &bad).unwrap();
        let r = run_timeout(
            server
                .tpm2("tpm2_rsadecrypt")
                .arg("-c")
                .arg(&key)
                .args(["-s", tpm_scheme, "-o"])
                .arg(p("bad.dec"))
                .arg(p("bad.enc")),
        );
        assert!(!r.status.success(), "{tag}: tampered ciphertext accepted");
        flush(&server);
    }
}

#[test]
fn tpm_encrypt_decrypt_round_trip() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_rsaencrypt",
        "tpm2_rsadecrypt",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    let key = make_key(&server, &td, "rsa2048:null:null", RSA_ATTRS);
    let msg = b"round trip through the TPM";
    fs::write(p("msg.bin"), msg).unwrap();
    for (scheme, label) in [("oaep", Some("my label")), ("oaep", None), ("rsaes", None)] {
        let enc = p("msg.enc");
        let mut e = server.tpm2("tpm2_rsaencrypt");
        e.arg("-c").arg(&key).args(["-s", scheme]);
        if let Some(l) = label {
            e.args(["-l", l]);
        }
        ok(e.arg("-o").arg(&enc).arg(p("msg.bin")));
        flush(&server);
        assert_eq!(fs::read(&enc).unwrap().len(), 256);
        let dec = p("msg.dec");
        let mut d = server.tpm2("tpm2_rsadecrypt");
        d.arg("-c").arg(&key).args(["-s", scheme]);
        if let Some(l) = label {
            d.args(["-l", l]);
        }
        ok(d.arg("-o").arg(&dec).arg(&enc));
        flush(&server);
        assert_eq!(fs::read(&dec).unwrap(), msg, "{scheme} {label:?}");
        if let Some(l) = label {
            // Another label does not decrypt.
            let r = run_timeout(
                server
                    .tpm2("tpm2_rsadecrypt")
                    .arg("-c")
                    .arg(&key)
                    .args(["-s", scheme, "-l"])
                    .arg(format!("{l}x"))
                    .arg("-o")
                    .arg(p("bad.dec"))
                    .arg(&enc),
            );
            assert!(!r.status.success(), "wrong label accepted");
            flush(&server);
        }
    }
}

#[test]
fn ecdh_keygen_and_zgen_agree() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_ecdhkeygen",
        "tpm2_ecdhzgen",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    let key = make_key(
        &server,
        &td,
        "ecc256:null:null",
        "decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth",
    );
    ok(server
        .tpm2("tpm2_ecdhkeygen")
        .arg("-c")
        .arg(&key)
        .arg("-u")
        .arg(p("eph.pub"))
        .arg("-o")
        .arg(p("z1.bin")));
    flush(&server);
    ok(server
        .tpm2("tpm2_ecdhzgen")
        .arg("-c")
        .arg(&key)
        .arg("-u")
        .arg(p("eph.pub"))
        .arg("-o")
        .arg(p("z2.bin")));
    flush(&server);
    let z1 = fs::read(p("z1.bin")).unwrap();
    assert!(z1.len() >= 64, "{z1:?}");
    assert_eq!(z1, fs::read(p("z2.bin")).unwrap());
    // A second KeyGen gives another ephemeral key and Z.
    ok(server
        .tpm2("tpm2_ecdhkeygen")
        .arg("-c")
        .arg(&key)
        .arg("-u")
        .arg(p("eph2.pub"))
        .arg("-o")
        .arg(p("z3.bin")));
    flush(&server);
    assert_ne!(z1, fs::read(p("z3.bin")).unwrap());
}
