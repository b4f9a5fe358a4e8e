//! TPM2_EncryptDecrypt(2) and TPM2_ECC_Parameters through Debian's tpm2-tools
//! against `vtpm run`, checked against openssl and published curve values.

mod common;

use std::fs;
use std::process::Command;

use common::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn encryptdecrypt_matches_openssl() {
    require!(
        "tpm2_startup",
        "tpm2_loadexternal",
        "tpm2_encryptdecrypt",
        "tpm2_flushcontext",
        "openssl"
    );
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    let key = [
        0x2bu8, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
        0x3c,
    ];
    let iv: Vec<u8> = (0u8..16).collect();
    let data: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37)).collect();
    fs::write(dir.join("key.bin"), key).unwrap();
    fs::write(dir.join("iv.bin"), &iv).unwrap();
    fs::write(dir.join("in.bin"), &data).unwrap();
    for (tpm_mode, ossl) in [("cbc", "aes-128-cbc"), ("cfb", "aes-128-cfb")] {
        ok(server
            .tpm2("tpm2_loadexternal")
            .current_dir(dir)
            .args(["-C", "n", "-G", "aes128", "-r", "key.bin", "-c", "key.ctx"]));
        ok(server.tpm2("tpm2_encryptdecrypt").current_dir(dir).args([
            "-c", "key.ctx", "-G", tpm_mode, "-t", "iv.bin", "-o", "enc.bin", "in.bin",
        ]));
        ok(server.tpm2("tpm2_encryptdecrypt").current_dir(dir).args([
            "-c", "key.ctx", "-d", "-G", tpm_mode, "-t", "iv.bin", "-o", "dec.bin", "enc.bin",
        ]));
        ok(server.tpm2("tpm2_flushcontext").arg("-t"));
        let enc = fs::read(dir.join("enc.bin")).unwrap();
        let dec = fs::read(dir.join("dec.bin")).unwrap();
        assert_eq!(dec, data, "{tpm_mode}");
        let o = ok(Command::new("openssl").current_dir(dir).args([
            "enc",
            &format!("-{ossl}"),
            "-K",
            &hex(&key),
            "-iv",
            &hex(&iv),
            "-nopad",
            "-in",
            "in.bin",
        ]));
        assert_eq!(enc, o.stdout, "{tpm_mode}");
    }
}

#[test]
fn geteccparameters_p256_matches_sec2() {
    require!("tpm2_startup", "tpm2_geteccparameters");
    let td = TestDir::new();
    let server = started(&td);
    let dir = td.path();
    ok(server
        .tpm2("tpm2_geteccparameters")
        .current_dir(dir)
        .args(["ecc256", "-o", "params.bin"]));
    let b = fs::read(dir.join("params.bin")).unwrap();
    let mut want = vec![0x00, 0x03, 0x01, 0x00, 0x00, 0x10, 0x00, 0x10];
    for v in [
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
        "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        "01",
    ] {
        let bytes: Vec<u8> = (0..v.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&v[i..i + 2], 16).unwrap())
            .collect();
        want.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        want.extend_from_slice(&bytes);
    }
    assert_eq!(hex(&b), hex(&want));
}
