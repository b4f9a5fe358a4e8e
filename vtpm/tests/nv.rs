//! NV storage (Part 3, clause 31) through Debian's tpm2-tools against `vtpm run`:
//! data compared byte for byte, Names and extend values recomputed here.

mod common;

use std::fs;
use std::process::Command;

use common::*;
use sha2::Digest;

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `cmd` and asserts it fails.
fn fails(cmd: &mut Command) -> String {
    let out = run_timeout(cmd);
    assert!(!out.status.success(), "{cmd:?} unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Flushes any sessions a tool left behind (there is no resource manager).
fn flush_sessions(server: &Server) {
    ok(server.tpm2("tpm2_flushcontext").arg("-s"));
}

/// The first value of `key:` in the block of `tpm2_nvreadpublic` output for
/// `index` (the whole text for an empty `index`).
fn field<'a>(out: &'a str, index: &str, key: &str) -> &'a str {
    let block = if index.is_empty() {
        out
    } else {
        out.split(&format!("{index}:"))
            .nth(1)
            .unwrap_or_else(|| panic!("{index} not in {out}"))
    };
    block
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} not in {block}"))
        .trim()
}

#[test]
fn nv_define_write_read_public_and_undefine() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread",
        "tpm2_nvreadpublic",
        "tpm2_nvundefine",
        "tpm2_getcap",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);

    // Owner index, larger than one NV buffer.
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 31 + 7) as u8).collect();
    let input = td.path().join("data.bin");
    fs::write(&input, &data).unwrap();
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-s",
        "1500",
        "-a",
        "ownerread|ownerwrite|authread|authwrite",
        "0x1500016",
    ]));
    flush_sessions(&server);
    ok(server
        .tpm2("tpm2_nvwrite")
        .args(["-C", "o", "-i"])
        .arg(&input)
        .arg("0x1500016"));
    flush_sessions(&server);
    let out = td.path().join("out.bin");
    ok(server
        .tpm2("tpm2_nvread")
        .args(["-C", "o", "-s", "1500", "-o"])
        .arg(&out)
        .arg("0x1500016"));
    flush_sessions(&server);
    assert_eq!(fs::read(&out).unwrap(), data);
    // A partial read at an offset.
    ok(server
        .tpm2("tpm2_nvread")
        .args(["-C", "o", "-s", "10", "--offset", "1200", "-o"])
        .arg(&out)
        .arg("0x1500016"));
    flush_sessions(&server);
    assert_eq!(fs::read(&out).unwrap(), &data[1200..1210]);

    // Platform index.
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "p",
        "-s",
        "16",
        "-a",
        "ppread|ppwrite|ownerread|platformcreate|writedefine",
        "0x1400001",
    ]));
    flush_sessions(&server);

    // Public areas: attributes and Name, recomputed from the printed fields.
    let pubout = text(&ok(&mut server.tpm2("tpm2_nvreadpublic")));
    flush_sessions(&server);
    for (index, size) in [("0x1500016", 1500u16), ("0x1400001", 16)] {
        let after_attrs = pubout
            .split(&format!("{index}:"))
            .nth(1)
            .and_then(|b| b.split("attributes:").nth(1))
            .unwrap();
        let attrs = field(after_attrs, "", "value");
        let attrs = u32::from_str_radix(attrs.trim_start_matches("0x"), 16).unwrap();
        let handle = u32::from_str_radix(index.trim_start_matches("0x"), 16).unwrap();
        let mut public = Vec::new();
        public.extend_from_slice(&handle.to_be_bytes());
        public.extend_from_slice(&0x000bu16.to_be_bytes());
        public.extend_from_slice(&attrs.to_be_bytes());
        public.extend_from_slice(&0u16.to_be_bytes());
        public.extend_from_slice(&size.to_be_bytes());
        let name = format!("000b{}", hex(&sha2::Sha256::digest(&public)));
        assert_eq!(field(&pubout, index, "name"), name, "{pubout}");
        assert_eq!(field(&pubout, index, "size"), size.to_string());
    }
    assert!(pubout.contains("written"), "{pubout}");
    assert!(pubout.contains("platformcreate"), "{pubout}");

    // Both are listed as NV handles.
    let handles = text(&ok(server.tpm2("tpm2_getcap").arg("handles-nv-index")));
    assert!(handles.contains("0x1400001"), "{handles}");
    assert!(handles.contains("0x1500016"), "{handles}");

    // The owner cannot remove the platform's index; undefine removes the others.
    fails(
        server
            .tpm2("tpm2_nvundefine")
            .args(["-C", "o", "0x1400001"]),
    );
    flush_sessions(&server);
    ok(server
        .tpm2("tpm2_nvundefine")
        .args(["-C", "o", "0x1500016"]));
    flush_sessions(&server);
    ok(server
        .tpm2("tpm2_nvundefine")
        .args(["-C", "p", "0x1400001"]));
    flush_sessions(&server);
    let handles = text(&ok(server.tpm2("tpm2_getcap").arg("handles-nv-index")));
    assert!(!handles.contains("0x1"), "{handles}");
}

#[test]
fn nv_counter_bits_extend_and_locks() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvincrement",
        "tpm2_nvsetbits",
        "tpm2_nvextend",
        "tpm2_nvread",
        "tpm2_nvwrite",
        "tpm2_nvwritelock",
        "tpm2_nvreadlock",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    let out = td.path().join("out.bin");
    let read8 = |index: &str, size: &str| {
        ok(server
            .tpm2("tpm2_nvread")
            .args(["-C", "o", "-s", size, "-o"])
            .arg(&out)
            .arg(index));
        flush_sessions(&server);
        fs::read(&out).unwrap()
    };

    // Counter: read back as an 8-byte big-endian value.
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-a",
        "nt=counter|ownerread|ownerwrite",
        "0x1500020",
    ]));
    flush_sessions(&server);
    for want in 1..=2u64 {
        ok(server
            .tpm2("tpm2_nvincrement")
            .args(["-C", "o", "0x1500020"]));
        flush_sessions(&server);
        assert_eq!(read8("0x1500020", "8"), want.to_be_bytes());
    }

    // Bit field.
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-a",
        "nt=bits|ownerread|ownerwrite",
        "0x1500021",
    ]));
    flush_sessions(&server);
    for bits in ["0x5", "0x100"] {
        ok(server
            .tpm2("tpm2_nvsetbits")
            .args(["-C", "o", "-i", bits, "0x1500021"]));
        flush_sessions(&server);
    }
    assert_eq!(read8("0x1500021", "8"), 0x105u64.to_be_bytes());

    // Extend: sha256(zeros || data).
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-g",
        "sha256",
        "-a",
        "nt=extend|ownerread|ownerwrite",
        "0x1500022",
    ]));
    flush_sessions(&server);
    let ext = td.path().join("ext.bin");
    fs::write(&ext, b"measured by the test").unwrap();
    ok(server
        .tpm2("tpm2_nvextend")
        .args(["-C", "o", "-i"])
        .arg(&ext)
        .arg("0x1500022"));
    flush_sessions(&server);
    let mut h = sha2::Sha256::new();
    h.update([0u8; 32]);
    h.update(b"measured by the test");
    assert_eq!(read8("0x1500022", "32"), h.finalize().to_vec());

    // Write and read locks.
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite|write_stclear|read_stclear",
        "0x1500023",
    ]));
    flush_sessions(&server);
    let small = td.path().join("small.bin");
    fs::write(&small, b"12345678").unwrap();
    ok(server
        .tpm2("tpm2_nvwrite")
        .args(["-C", "o", "-i"])
        .arg(&small)
        .arg("0x1500023"));
    flush_sessions(&server);
    ok(server
        .tpm2("tpm2_nvwritelock")
        .args(["-C", "o", "0x1500023"]));
    flush_sessions(&server);
    let err = fails(
        server
            .tpm2("tpm2_nvwrite")
            .args(["-C", "o", "-i"])
            .arg(&small)
            .arg("0x1500023"),
    );
    flush_sessions(&server);
    assert!(
        err.contains("0x148") || err.to_lowercase().contains("locked"),
        "{err}"
    );
    assert_eq!(read8("0x1500023", "8"), b"12345678");
    ok(server
        .tpm2("tpm2_nvreadlock")
        .args(["-C", "o", "0x1500023"]));
    flush_sessions(&server);
    let err = fails(
        server
            .tpm2("tpm2_nvread")
            .args(["-C", "o", "-s", "8", "0x1500023"]),
    );
    flush_sessions(&server);
    assert!(
        err.contains("0x148") || err.to_lowercase().contains("locked"),
        "{err}"
    );
}

#[test]
fn nv_index_password() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvread",
        "tpm2_flushcontext"
    );
    let td = TestDir::new();
    let server = started(&td);
    ok(server.tpm2("tpm2_nvdefine").args([
        "-C",
        "o",
        "-s",
        "16",
        "-p",
        "pass",
        "-a",
        "authread|authwrite|no_da",
        "0x1500030",
    ]));
    flush_sessions(&server);
    let input = td.path().join("in.bin");
    fs::write(&input, b"index secret 16b").unwrap();
    ok(server
        .tpm2("tpm2_nvwrite")
        .args(["-C", "0x1500030", "-P", "pass", "-i"])
        .arg(&input)
        .arg("0x1500030"));
    flush_sessions(&server);
    let out = td.path().join("out.bin");
    ok(server
        .tpm2("tpm2_nvread")
        .args(["-C", "0x1500030", "-P", "pass", "-s", "16", "-o"])
        .arg(&out)
        .arg("0x1500030"));
    flush_sessions(&server);
    assert_eq!(fs::read(&out).unwrap(), b"index secret 16b");
    let err = fails(server.tpm2("tpm2_nvread").args([
        "-C",
        "0x1500030",
        "-P",
        "wrong",
        "-s",
        "16",
        "0x1500030",
    ]));
    flush_sessions(&server);
    assert!(
        err.contains("0x98e") || err.contains("authorization"),
        "{err}"
    );
    // The owner has no read access to this index.
    let err = fails(
        server
            .tpm2("tpm2_nvread")
            .args(["-C", "o", "-s", "16", "0x1500030"]),
    );
    assert!(err.contains("0x149") || err.contains("NV access"), "{err}");
}
