//! TPM2_MakeCredential / TPM2_ActivateCredential through tpm2-tools: a credential
//! made offline by `tpm2_makecredential -T none` (the tool's own implementation
//! of the Part 1 credential protection) and one made by this TPM are both
//! recovered by `tpm2_activatecredential`.

mod common;

use std::fs;

use common::*;

fn credential_round_trip(alg: &str) {
    let td = TestDir::new();
    let server = started(&td);
    let p = |f: &str| td.path().join(f);
    // The credential key: an endorsement primary (restricted decrypt storage key).
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "e", "-G", alg, "-c"])
        .arg(p("ek.ctx")));
    ok(server
        .tpm2("tpm2_readpublic")
        .arg("-c")
        .arg(p("ek.ctx"))
        .arg("-o")
        .arg(p("ek.pub")));
    flush_transient(&server);
    // The credentialed object: an owner primary; its Name from the TPM.
    ok(server
        .tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "ecc", "-c"])
        .arg(p("key.ctx")));
    ok(server
        .tpm2("tpm2_readpublic")
        .arg("-c")
        .arg(p("key.ctx"))
        .arg("-n")
        .arg(p("key.name")));
    flush_transient(&server);
    // tpm2_makecredential 5.4 takes the Name as a hex string.
    let name_hex: String = fs::read(p("key.name"))
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = b"sixteen byte key";
    fs::write(p("secret.bin"), secret).unwrap();

    for (tag, offline) in [("offline", true), ("tpm", false)] {
        let blob = p(&format!("{tag}.cred"));
        let mut mk = server.tpm2("tpm2_makecredential");
        if offline {
            mk.args(["-T", "none"]);
        }
        ok(mk
            .arg("-u")
            .arg(p("ek.pub"))
            .arg("-s")
            .arg(p("secret.bin"))
            .arg("-n")
            .arg(&name_hex)
            .arg("-o")
            .arg(&blob));
        if !offline {
            flush_transient(&server);
        }
        let out = p(&format!("{tag}.out"));
        ok(server
            .tpm2("tpm2_activatecredential")
            .arg("-c")
            .arg(p("key.ctx"))
            .arg("-C")
            .arg(p("ek.ctx"))
            .arg("-i")
            .arg(&blob)
            .arg("-o")
            .arg(&out));
        flush_transient(&server);
        assert_eq!(fs::read(&out).unwrap(), secret, "{alg} {tag}");
        // A tampered blob is refused (TPM_RC_INTEGRITY on the credential).
        let mut bad = fs::read(&blob).unwrap();
        let i = bad.len() / 3;
        bad[i] ^= 1;
        fs::write(p("bad.cred"), &bad).unwrap();
        let r = run_timeout(
            server
                .tpm2("tpm2_activatecredential")
                .arg("-c")
                .arg(p("key.ctx"))
                .arg("-C")
                .arg(p("ek.ctx"))
                .arg("-i")
                .arg(p("bad.cred"))
                .arg("-o")
                .arg(p("bad.out")),
        );
        assert!(!r.status.success(), "{alg} {tag}: tampered blob accepted");
        flush_transient(&server);
    }
}

#[test]
fn make_activate_credential_rsa() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_makecredential",
        "tpm2_activatecredential"
    );
    credential_round_trip("rsa");
}

#[test]
fn make_activate_credential_ecc() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_makecredential",
        "tpm2_activatecredential"
    );
    credential_round_trip("ecc");
}
