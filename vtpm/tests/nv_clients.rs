//! NV storage, NV_Certify, PIN Fail indices and dictionary-attack lockout through
//! independent clients: Debian's IBM TSS utilities and tpm2-tools against
//! `vtpm run`; values are recomputed here and signatures verified with openssl.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use sha2::{Digest, Sha256};

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn all_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `cmd`, asserts it fails, and returns stdout and stderr together.
fn fails(cmd: &mut Command) -> String {
    let out = run_timeout(cmd);
    assert!(!out.status.success(), "{cmd:?} unexpectedly succeeded");
    all_text(&out)
}

/// The octets the IBM TSS prints after "data length N" (hex pairs, 16 a line).
fn ibm_read_data(out: &str) -> Vec<u8> {
    let after = out
        .split("data length")
        .nth(1)
        .unwrap_or_else(|| panic!("no data in {out}"));
    after
        .split_whitespace()
        .skip(1)
        .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|_| panic!("{h} in {out}")))
        .collect()
}

/// An IBM TSS command for `server`, with its state files in `dir`.
fn ibm(server: &Server, dir: &Path, tool: &str) -> Command {
    let mut c = server.ibm(tool);
    c.env("TPM_DATA_DIR", dir).current_dir(dir);
    c
}

/// DER encoding of an ECDSA signature (r, s) for openssl.
fn ecdsa_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let body: Vec<u8> = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// A TPMT_SIGNATURE of TPM_ALG_ECDSA as the IBM TSS writes it, in DER.
fn tpmt_ecdsa_to_der(sig: &[u8]) -> Vec<u8> {
    assert_eq!(&sig[..4], &[0x00, 0x18, 0x00, 0x0b], "ECDSA with SHA-256");
    let rl = u16::from_be_bytes([sig[4], sig[5]]) as usize;
    let r = &sig[6..6 + rl];
    let sl = u16::from_be_bytes([sig[6 + rl], sig[7 + rl]]) as usize;
    let s = &sig[8 + rl..8 + rl + sl];
    assert_eq!(sig.len(), 8 + rl + sl);
    ecdsa_der(r, s)
}

/// openssl verifies `sig_der` over SHA-256(`data_file`) with the PEM public key.
fn openssl_verify(dir: &Path, pem: &str, sig_der: &str, data_file: &str) {
    let out = ok(Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            pem,
            "-signature",
            sig_der,
            data_file,
        ])
        .current_dir(dir));
    assert!(text(&out).contains("Verified OK"), "{}", text(&out));
}

/// A parsed TPMS_ATTEST of type TPM_ST_ATTEST_NV or TPM_ST_ATTEST_NV_DIGEST.
struct NvAttest {
    tag: u16,
    extra_data: Vec<u8>,
    index_name: Vec<u8>,
    /// offset and contents (TPM_ST_ATTEST_NV) or the digest (NV_DIGEST).
    offset: Option<u16>,
    body: Vec<u8>,
}

fn parse_nv_attest(b: &[u8]) -> NvAttest {
    let mut at = 0usize;
    let mut take = |n: usize| {
        let v = b[at..at + n].to_vec();
        at += n;
        v
    };
    assert_eq!(take(4), [0xff, 0x54, 0x43, 0x47], "TPM_GENERATED_VALUE");
    let tag = u16::from_be_bytes(take(2).try_into().unwrap());
    let tpm2b = |take: &mut dyn FnMut(usize) -> Vec<u8>| {
        let n = u16::from_be_bytes(take(2).try_into().unwrap()) as usize;
        take(n)
    };
    let _signer = tpm2b(&mut take);
    let extra_data = tpm2b(&mut take);
    let _clock_info = take(17);
    let _firmware = take(8);
    let index_name = tpm2b(&mut take);
    let (offset, body) = match tag {
        0x8014 => {
            let off = u16::from_be_bytes(take(2).try_into().unwrap());
            (Some(off), tpm2b(&mut take))
        }
        0x801c => (None, tpm2b(&mut take)),
        t => panic!("unexpected attestation type {t:#x}"),
    };
    assert_eq!(at, b.len(), "nothing after the attested data");
    NvAttest {
        tag,
        extra_data,
        index_name,
        offset,
        body,
    }
}

/// The Name the IBM TSS prints in nvreadpublic output (hex pairs after "name
/// length N").
fn ibm_name(out: &str) -> Vec<u8> {
    let after = out
        .split("name length")
        .nth(1)
        .unwrap_or_else(|| panic!("no name in {out}"));
    after
        .split_whitespace()
        .skip(1)
        .map_while(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

/// The IBM TSS through a whole NV life cycle: ordinary, counter, extend and
/// bit-field indices, a write lock, NV_Certify checked with openssl, undefine.
#[test]
fn ibm_tss_nv_lifecycle() {
    require!(
        "tssstartup",
        "tssnvdefinespace",
        "tssnvwrite",
        "tssnvread",
        "tssnvincrement",
        "tssnvextend",
        "tssnvsetbits",
        "tssnvwritelock",
        "tssnvreadpublic",
        "tssnvundefinespace",
        "tssnvcertify",
        "tsscreateprimary",
        "openssl"
    );
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let tss = |tool: &str| ibm(&server, &dir, tool);
    ok(tss("tssstartup").arg("-c"));

    // Ordinary index: a write at an offset, read back whole.
    ok(tss("tssnvdefinespace").args(["-hi", "o", "-ha", "01000001", "-sz", "32", "-pwdn", "nvpw"]));
    let pub0 = text(&ok(tss("tssnvreadpublic").args(["-ha", "01000001"])));
    assert!(pub0.contains("TPM_NT_ORDINARY"), "{pub0}");
    assert!(!pub0.contains("TPMA_NV_WRITTEN"), "{pub0}");
    ok(tss("tssnvwrite").args([
        "-ha",
        "01000001",
        "-pwdn",
        "nvpw",
        "-ic",
        "hello-world",
        "-off",
        "2",
    ]));
    let out = text(&ok(
        tss("tssnvread").args(["-ha", "01000001", "-pwdn", "nvpw", "-sz", "32"])
    ));
    let mut expected = vec![0u8; 32];
    expected[2..13].copy_from_slice(b"hello-world");
    assert_eq!(ibm_read_data(&out), expected);
    // Wrong password, and a read past the end.
    let e = fails(tss("tssnvread").args(["-ha", "01000001", "-pwdn", "nope", "-sz", "4"]));
    assert!(e.contains("TPM_RC_BAD_AUTH"), "{e}");
    let e = fails(
        tss("tssnvread").args(["-ha", "01000001", "-pwdn", "nvpw", "-sz", "4", "-off", "30"]),
    );
    assert!(e.contains("TPM_RC_NV_RANGE"), "{e}");
    // The Name (the TSS itself checks it against the public area) changed with
    // WRITTEN.
    let pub1 = text(&ok(tss("tssnvreadpublic").args(["-ha", "01000001"])));
    assert!(pub1.contains("TPMA_NV_WRITTEN"), "{pub1}");
    let name = ibm_name(&pub1);
    assert_eq!(name.len(), 34);
    assert_ne!(name, ibm_name(&pub0));

    // Counter.
    ok(tss("tssnvdefinespace").args(["-hi", "o", "-ha", "01000002", "-ty", "c", "-pwdn", "cpw"]));
    let e = fails(tss("tssnvread").args(["-ha", "01000002", "-pwdn", "cpw", "-sz", "8"]));
    assert!(e.contains("TPM_RC_NV_UNINITIALIZED"), "{e}");
    for _ in 0..3 {
        ok(tss("tssnvincrement").args(["-ha", "01000002", "-pwdn", "cpw"]));
    }
    let out = text(&ok(
        tss("tssnvread").args(["-ha", "01000002", "-pwdn", "cpw", "-sz", "8"])
    ));
    assert_eq!(ibm_read_data(&out), 3u64.to_be_bytes());
    let e = fails(tss("tssnvwrite").args(["-ha", "01000002", "-pwdn", "cpw", "-ic", "x"]));
    assert!(e.contains("TPM_RC_ATTRIBUTES"), "{e}");

    // Extend: SHA-256(zeros || "abc"), then SHA-256(that || "def").
    ok(tss("tssnvdefinespace").args(["-hi", "o", "-ha", "01000003", "-ty", "e", "-pwdn", "epw"]));
    ok(tss("tssnvextend").args(["-ha", "01000003", "-pwdn", "epw", "-ic", "abc"]));
    ok(tss("tssnvextend").args(["-ha", "01000003", "-pwdn", "epw", "-ic", "def"]));
    let out = text(&ok(
        tss("tssnvread").args(["-ha", "01000003", "-pwdn", "epw", "-sz", "32"])
    ));
    let first = Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(b"abc")
        .finalize();
    let second = Sha256::new()
        .chain_update(first)
        .chain_update(b"def")
        .finalize();
    assert_eq!(ibm_read_data(&out), second.as_slice());

    // Bit field: bits 0, 9 and 63.
    ok(tss("tssnvdefinespace").args(["-hi", "o", "-ha", "01000004", "-ty", "b", "-pwdn", "bpw"]));
    ok(tss("tssnvsetbits").args(["-ha", "01000004", "-pwdn", "bpw", "-bit", "0", "-bit", "9"]));
    ok(tss("tssnvsetbits").args(["-ha", "01000004", "-pwdn", "bpw", "-bit", "63"]));
    let out = text(&ok(
        tss("tssnvread").args(["-ha", "01000004", "-pwdn", "bpw", "-sz", "8"])
    ));
    assert_eq!(
        ibm_read_data(&out),
        ((1u64 << 63) | (1 << 9) | 1).to_be_bytes()
    );

    // Write lock (WRITE_STCLEAR): the data stays as it was.
    ok(tss("tssnvdefinespace").args([
        "-hi", "o", "-ha", "01000005", "-sz", "8", "-pwdn", "lpw", "+at", "wst",
    ]));
    ok(tss("tssnvwrite").args(["-ha", "01000005", "-pwdn", "lpw", "-ic", "12345678"]));
    ok(tss("tssnvwritelock").args(["-ha", "01000005", "-pwdn", "lpw"]));
    let e = fails(tss("tssnvwrite").args(["-ha", "01000005", "-pwdn", "lpw", "-ic", "87654321"]));
    assert!(e.contains("TPM_RC_NV_LOCKED"), "{e}");
    let out = text(&ok(
        tss("tssnvread").args(["-ha", "01000005", "-pwdn", "lpw", "-sz", "8"])
    ));
    assert_eq!(ibm_read_data(&out), b"12345678");
    let pub5 = text(&ok(tss("tssnvreadpublic").args(["-ha", "01000005"])));
    assert!(pub5.contains("TPMA_NV_WRITELOCKED"), "{pub5}");

    // PIN Pass: every use of the PIN counts, up to pinLimit.
    ok(tss("tssnvdefinespace").args([
        "-hi", "o", "-ha", "01000006", "-ty", "p", "-hia", "o", "+at", "ar", "-pwdn", "5678",
    ]));
    let pub6 = text(&ok(tss("tssnvreadpublic").args(["-ha", "01000006"])));
    assert!(pub6.contains("TPM_NT_PIN_PASS"), "{pub6}");
    ok(tss("tssnvwrite").args(["-ha", "01000006", "-hia", "o", "-id", "0", "2"]));
    for n in 1..=2u8 {
        let out = text(&ok(
            tss("tssnvread").args(["-ha", "01000006", "-pwdn", "5678", "-sz", "8"])
        ));
        assert_eq!(ibm_read_data(&out), [0, 0, 0, n, 0, 0, 0, 2]);
    }
    let e = fails(tss("tssnvread").args(["-ha", "01000006", "-pwdn", "5678", "-sz", "8"]));
    assert!(e.contains("TPM_RC_AUTH_UNAVAILABLE"), "{e}");

    // NV_Certify of the ordinary index with an ECDSA endorsement key.
    ok(tss("tsscreateprimary").args(["-hi", "e", "-ecc", "nistp256", "-si", "-opem", "key.pem"]));
    ok(tss("tssnvcertify").args([
        "-ha", "01000001", "-pwdn", "nvpw", "-hk", "80000000", "-salg", "ecc", "-sz", "11", "-off",
        "2", "-os", "sig.bin", "-oa", "att.bin",
    ]));
    let att = fs::read(dir.join("att.bin")).unwrap();
    let a = parse_nv_attest(&att);
    assert_eq!(a.tag, 0x8014);
    assert_eq!(a.index_name, name);
    assert_eq!(a.offset, Some(2));
    assert_eq!(a.body, b"hello-world");
    let der = tpmt_ecdsa_to_der(&fs::read(dir.join("sig.bin")).unwrap());
    fs::write(dir.join("sig.der"), &der).unwrap();
    openssl_verify(&dir, "key.pem", "sig.der", "att.bin");
    // A changed attestation does not verify.
    let mut bad = att.clone();
    *bad.last_mut().unwrap() ^= 1;
    fs::write(dir.join("bad.bin"), &bad).unwrap();
    let out = run_timeout(
        Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "key.pem",
                "-signature",
                "sig.der",
                "bad.bin",
            ])
            .current_dir(&dir),
    );
    assert!(!out.status.success(), "a tampered attestation verified");

    // Undefine everything; the handles are gone.
    for h in [
        "01000001", "01000002", "01000003", "01000004", "01000005", "01000006",
    ] {
        ok(tss("tssnvundefinespace").args(["-hi", "o", "-ha", h]));
        let e = fails(tss("tssnvreadpublic").args(["-ha", h]));
        assert!(e.contains("TPM_RC_HANDLE"), "{e}");
    }
}

/// tpm2-tools' tpm2_nvcertify (range and digest forms): the attestation parsed
/// (tpm2_print for the common fields, here for the NV part) and its signature
/// verified with openssl.
#[test]
fn tpm2_nvcertify_verified_with_openssl() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvreadpublic",
        "tpm2_createprimary",
        "tpm2_readpublic",
        "tpm2_nvcertify",
        "tpm2_print",
        "tpm2_flushcontext",
        "openssl"
    );
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let tool = |t: &str| {
        let mut c = server.tpm2(t);
        c.current_dir(&dir);
        c
    };
    ok(tool("tpm2_startup").arg("-c"));
    let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(13) ^ 0xA5).collect();
    fs::write(dir.join("data.bin"), &data).unwrap();
    ok(tool("tpm2_nvdefine").args([
        "0x1500020",
        "-C",
        "o",
        "-s",
        "64",
        "-a",
        "ownerread|ownerwrite|authread|authwrite|no_da",
        "-p",
        "nvpw",
    ]));
    ok(tool("tpm2_nvwrite").args(["0x1500020", "-C", "o", "-i", "data.bin"]));
    ok(tool("tpm2_createprimary").args([
        "-C",
        "e",
        "-G",
        "ecc256:ecdsa-sha256",
        "-a",
        "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign",
        "-c",
        "sign.ctx",
    ]));
    ok(tool("tpm2_readpublic").args(["-c", "sign.ctx", "-f", "pem", "-o", "sign.pem"]));
    ok(tool("tpm2_flushcontext").arg("-t"));
    let name_out = text(&ok(tool("tpm2_nvreadpublic").arg("0x1500020")));
    let name_hex = name_out
        .lines()
        .find_map(|l| l.trim().strip_prefix("name:"))
        .unwrap()
        .trim()
        .to_string();

    // A range, authorized by the index.
    ok(tool("tpm2_nvcertify").args([
        "-C",
        "sign.ctx",
        "-g",
        "sha256",
        "-f",
        "plain",
        "-s",
        "ecdsa",
        "-o",
        "sig1.der",
        "--attestation",
        "att1.bin",
        "--size",
        "20",
        "--offset",
        "7",
        "-c",
        "0x1500020",
        "-p",
        "nvpw",
        "-q",
        "0a0b0c0d",
        "0x1500020",
    ]));
    ok(tool("tpm2_flushcontext").arg("-t"));
    let printed = all_text(&run_timeout(tool("tpm2_print").args([
        "-t",
        "TPMS_ATTEST",
        "att1.bin",
    ])));
    // tpm2-tools 5.4 prints the common fields, then gives up on the NV body.
    assert!(printed.contains("magic: ff544347"), "{printed}");
    assert!(printed.contains("type: 8014"), "{printed}");
    assert!(printed.contains("extraData: 0a0b0c0d"), "{printed}");
    openssl_verify(&dir, "sign.pem", "sig1.der", "att1.bin");
    let a = parse_nv_attest(&fs::read(dir.join("att1.bin")).unwrap());
    assert_eq!(a.tag, 0x8014);
    assert_eq!(a.extra_data, [0x0a, 0x0b, 0x0c, 0x0d]);
    assert_eq!(hex(&a.index_name), name_hex);
    assert_eq!(a.offset, Some(7));
    assert_eq!(a.body, &data[7..27]);

    // Size and offset zero: the digest of the whole index, authorized by the owner.
    ok(tool("tpm2_nvcertify").args([
        "-C",
        "sign.ctx",
        "-g",
        "sha256",
        "-f",
        "plain",
        "-s",
        "ecdsa",
        "-o",
        "sig2.der",
        "--attestation",
        "att2.bin",
        "--size",
        "0",
        "--offset",
        "0",
        "-c",
        "o",
        "0x1500020",
    ]));
    ok(tool("tpm2_flushcontext").arg("-t"));
    // (Debian's tss2-mu predates TPM_ST_ATTEST_NV_DIGEST, so tpm2_print cannot
    // read this one; it is parsed here only.)
    openssl_verify(&dir, "sign.pem", "sig2.der", "att2.bin");
    let a = parse_nv_attest(&fs::read(dir.join("att2.bin")).unwrap());
    assert_eq!(a.tag, 0x801c);
    assert_eq!(hex(&a.index_name), name_hex);
    assert_eq!(a.body, Sha256::digest(&data).as_slice());

    // An index never written cannot be certified (TPM_RC_NV_UNINITIALIZED).
    ok(tool("tpm2_nvdefine").args([
        "0x1500021",
        "-C",
        "o",
        "-s",
        "16",
        "-a",
        "ownerread|ownerwrite|no_da",
    ]));
    let e = fails(tool("tpm2_nvcertify").args([
        "-C",
        "sign.ctx",
        "-g",
        "sha256",
        "-f",
        "plain",
        "-s",
        "ecdsa",
        "-o",
        "sig3.der",
        "--attestation",
        "att3.bin",
        "--size",
        "8",
        "--offset",
        "0",
        "-c",
        "o",
        "0x1500021",
    ]));
    assert!(e.to_lowercase().contains("0x14a"), "{e}");
    ok(tool("tpm2_flushcontext").arg("-t"));
}

/// A PIN Fail index defined, written and used with tpm2-tools: wrong PINs count
/// up to pinLimit without touching the dictionary-attack counter; then even the
/// right PIN is refused until the owner writes the index again.
#[test]
fn tpm2_tools_pin_fail_index() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread",
        "tpm2_nvreadpublic",
        "tpm2_getcap"
    );
    let td = TestDir::new();
    let server = Server::start(&td);
    let dir = td.path().to_path_buf();
    let tool = |t: &str| {
        let mut c = server.tpm2(t);
        c.current_dir(&dir);
        c
    };
    ok(tool("tpm2_startup").arg("-c"));
    // NO_DA is mandatory for a PIN Fail index.
    fails(tool("tpm2_nvdefine").args([
        "0x1500030",
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite|authread|nt=pinfail",
        "-p",
        "1234",
    ]));
    ok(tool("tpm2_nvdefine").args([
        "0x1500030",
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite|authread|no_da|nt=pinfail",
        "-p",
        "1234",
    ]));
    let public = text(&ok(tool("tpm2_nvreadpublic").arg("0x1500030")));
    assert!(public.contains("value: 0x2060082"), "{public}");
    let pin = |count: u32, limit: u32| [count.to_be_bytes(), limit.to_be_bytes()].concat();
    let write = |count: u32, limit: u32| {
        fs::write(dir.join("pin.bin"), pin(count, limit)).unwrap();
        ok(tool("tpm2_nvwrite").args(["0x1500030", "-C", "o", "-i", "pin.bin"]));
    };
    let read_pin = |pw: &str| {
        run_timeout(tool("tpm2_nvread").args(["0x1500030", "-C", "0x1500030", "-P", pw, "-s", "8"]))
    };
    let owner_read = || ok(tool("tpm2_nvread").args(["0x1500030", "-C", "o", "-s", "8"])).stdout;
    // Not usable before it is written.
    let out = read_pin("1234");
    assert!(!out.status.success());
    assert!(
        all_text(&out).contains("0x12f") || all_text(&out).contains("0x0000012f"),
        "{}",
        all_text(&out)
    );
    write(0, 2);
    let out = read_pin("1234");
    assert!(out.status.success(), "{}", all_text(&out));
    assert_eq!(out.stdout, pin(0, 2));
    for n in 1..=2u32 {
        let out = read_pin("0000");
        assert!(!out.status.success());
        assert!(
            all_text(&out).contains("9a2"),
            "BAD_AUTH: {}",
            all_text(&out)
        );
        assert_eq!(owner_read(), pin(n, 2));
    }
    // pinCount == pinLimit: the right PIN is refused too.
    let out = read_pin("1234");
    assert!(!out.status.success());
    assert!(
        all_text(&out).contains("12f"),
        "AUTH_UNAVAILABLE: {}",
        all_text(&out)
    );
    // The dictionary-attack counter never moved.
    let cap = text(&ok(tool("tpm2_getcap").arg("properties-variable")));
    assert!(cap.contains("TPM2_PT_LOCKOUT_COUNTER: 0x0"), "{cap}");
    // The owner re-arms it; a right PIN resets pinCount.
    write(2, 4);
    let out = read_pin("0000");
    assert!(!out.status.success());
    assert_eq!(owner_read(), pin(3, 4));
    let out = read_pin("1234");
    assert!(out.status.success(), "{}", all_text(&out));
    assert_eq!(out.stdout, pin(0, 4));
}

/// Dictionary-attack lockout with tpm2-tools: three wrong passwords on a key
/// without noDA lock the TPM out, the lockout survives a kill -9 and restart of
/// the server on the same state, and TPM2_DictionaryAttackLockReset ends it.
#[test]
fn tpm2_tools_dictionary_lockout_survives_restart() {
    require!(
        "tpm2_startup",
        "tpm2_dictionarylockout",
        "tpm2_createprimary",
        "tpm2_evictcontrol",
        "tpm2_sign",
        "tpm2_getcap",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let mut server = Server::start(&td);
    let dir = td.path().to_path_buf();
    fs::write(dir.join("msg"), b"hello").unwrap();
    let tool = |server: &Server, t: &str| {
        let mut c = server.tpm2(t);
        c.current_dir(&dir);
        c
    };
    let sign = |server: &Server, pw: &str| {
        let out = run_timeout(tool(server, "tpm2_sign").args([
            "-c",
            "0x81000005",
            "-p",
            pw,
            "-g",
            "sha256",
            "-o",
            "msg.sig",
            "msg",
        ]));
        // tpm2_sign may leave a hash sequence or session behind on failure.
        let _ = run_timeout(tool(server, "tpm2_flushcontext").arg("-t"));
        let _ = run_timeout(tool(server, "tpm2_flushcontext").arg("-s"));
        out
    };
    let lockout_counter = |server: &Server| {
        let cap = text(&ok(tool(server, "tpm2_getcap").arg("properties-variable")));
        let v = cap
            .lines()
            .find_map(|l| l.trim().strip_prefix("TPM2_PT_LOCKOUT_COUNTER:"))
            .unwrap_or_else(|| panic!("{cap}"))
            .trim()
            .to_string();
        u32::from_str_radix(v.trim_start_matches("0x"), 16).unwrap()
    };
    ok(tool(&server, "tpm2_startup").arg("-c"));
    ok(tool(&server, "tpm2_dictionarylockout").args(["-s", "-n", "3", "-t", "1000", "-l", "1000"]));
    ok(tool(&server, "tpm2_createprimary").args([
        "-C",
        "o",
        "-G",
        "ecc256:ecdsa-sha256",
        "-a",
        "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign",
        "-p",
        "keypw",
        "-c",
        "k.ctx",
    ]));
    ok(tool(&server, "tpm2_evictcontrol").args(["-C", "o", "-c", "k.ctx", "0x81000005"]));
    ok(tool(&server, "tpm2_flushcontext").arg("-t"));
    let out = sign(&server, "keypw");
    assert!(out.status.success(), "{}", all_text(&out));
    for n in 1..=3 {
        let out = sign(&server, "wrong");
        assert!(!out.status.success());
        assert!(
            all_text(&out).contains("98e"),
            "AUTH_FAIL: {}",
            all_text(&out)
        );
        assert_eq!(lockout_counter(&server), n);
    }
    // Locked out: the right password is refused without being checked.
    let out = sign(&server, "keypw");
    assert!(!out.status.success());
    assert!(
        all_text(&out).contains("921"),
        "LOCKOUT: {}",
        all_text(&out)
    );

    // The lockout is in the durable state: a killed and restarted server keeps it.
    server.kill9();
    let server = Server::start(&td);
    ok(tool(&server, "tpm2_startup").arg("-c"));
    let out = sign(&server, "keypw");
    assert!(!out.status.success());
    assert!(
        all_text(&out).contains("921"),
        "LOCKOUT: {}",
        all_text(&out)
    );
    assert!(lockout_counter(&server) >= 3);
    let cap = text(&ok(tool(&server, "tpm2_getcap").arg("properties-variable")));
    let in_lockout = cap
        .lines()
        .find_map(|l| l.trim().strip_prefix("inLockout:"))
        .unwrap_or_else(|| panic!("{cap}"));
    assert_eq!(in_lockout.trim(), "1", "{cap}");

    // lockoutAuth clears it.
    ok(tool(&server, "tpm2_dictionarylockout").arg("-c"));
    assert_eq!(lockout_counter(&server), 0);
    let out = sign(&server, "keypw");
    assert!(out.status.success(), "{}", all_text(&out));
}
