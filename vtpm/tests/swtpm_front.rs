//! The swtpm-compatible front (`vtpm swtpm socket`, or `swtpm` through a link)
//! driven by the real clients of that protocol: `swtpm_ioctl` on the control
//! channel and tpm2-tools through tpm2-tss's `swtpm` TCTI on the data channel.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A running `vtpm swtpm socket`: a TCP data port P and the control channel on
/// TCP port P+1 (where the swtpm TCTI looks for it), or on a unix socket.
struct Front {
    child: Child,
    ctrl: Option<PathBuf>,
    port: u16,
    log: PathBuf,
}

impl Front {
    fn start(dir: &Path, name: &str, flags: &str) -> Front {
        Self::start_with(dir, name, flags, false)
    }

    fn start_with(dir: &Path, name: &str, flags: &str, unix: bool) -> Front {
        let port = free_port_pair();
        let ctrl_path = dir.join(format!("{name}.ctrl"));
        let ctrl_arg = if unix {
            format!("type=unixio,path={}", ctrl_path.display())
        } else {
            format!("type=tcp,port={}", port + 1)
        };
        let log = dir.join(format!("{name}.log"));
        let state = dir.join(format!("{name}-state"));
        let child = vtpm()
            .args(["swtpm", "socket", "--tpm2"])
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .arg("--ctrl")
            .arg(&ctrl_arg)
            .arg("--server")
            .arg(format!("type=tcp,port={port}"))
            .args(["--flags", flags])
            .arg("--log")
            .arg(format!("file={},level=20", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn vtpm swtpm");
        let deadline = Instant::now() + Duration::from_secs(20);
        let ctrl_up = || {
            if unix {
                ctrl_path.exists()
            } else {
                std::net::TcpStream::connect(("127.0.0.1", port + 1)).is_ok()
            }
        };
        while !(ctrl_up() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
            assert!(
                Instant::now() < deadline,
                "front did not start: {}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
        Front {
            child,
            ctrl: unix.then_some(ctrl_path),
            port,
            log,
        }
    }

    fn ioctl_cmd(&self) -> Command {
        let mut c = Command::new("swtpm_ioctl");
        match &self.ctrl {
            Some(path) => c.arg("--unix").arg(path),
            None => c.arg("--tcp").arg(format!("127.0.0.1:{}", self.port + 1)),
        };
        c
    }

    fn ioctl(&self, args: &[&str]) -> String {
        let out = ok(self.ioctl_cmd().args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn tpm2(&self, tool: &str) -> Command {
        let mut c = Command::new(tool);
        c.env(
            "TPM2TOOLS_TCTI",
            format!("swtpm:host=127.0.0.1,port={}", self.port),
        );
        c
    }

    fn pcr16(&self) -> String {
        let out = ok(self.tpm2("tpm2_pcrread").arg("sha256:16"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn swtpm_ioctl_and_the_swtpm_tcti() {
    require!("swtpm_ioctl", "tpm2_getrandom");
    let td = TestDir::new();
    let f = Front::start(td.path(), "a", "not-need-init,startup-clear");
    let caps = f.ioctl(&["-c"]);
    let value = caps.trim().rsplit(' ').next().unwrap();
    let caps = u32::from_str_radix(value.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(caps & 0x348F, 0x348F, "what QEMU requires");
    // tpm2-tss's swtpm TCTI: a control connection (SET_LOCALITY) and a data
    // connection per command.
    let out = ok(f.tpm2("tpm2_getrandom").args(["--hex", "16"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 32);
    ok(f.tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={}", "ab".repeat(32))));
    assert!(f.pcr16().contains("0x"), "{}", f.pcr16());
    let info = f.ioctl(&["--info", "3"]);
    assert!(info.contains("\"family\":\"2.0\""), "{info}");
    assert!(f.ioctl(&["-e"]).contains("tpmEstablished is 0"));
    assert!(f.ioctl(&["-b", "0"]).contains("4096"));
    // A locality above 4 is refused; 0 is fine.
    let bad = f.ioctl_cmd().args(["-l", "5"]).output().unwrap();
    assert!(!bad.status.success());
    f.ioctl(&["-l", "0"]);
}

#[test]
fn unix_control_socket() {
    require!("swtpm_ioctl");
    let td = TestDir::new();
    let f = Front::start_with(td.path(), "u", "not-need-init", true);
    let path = f.ctrl.clone().unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&path).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o600,
        "the control socket is private by default"
    );
    assert!(f.ioctl(&["-c"]).contains("ptm capability is 0x"));
    f.ioctl(&["-i"]);
    assert!(f.ioctl(&["-e"]).contains("tpmEstablished is 0"));
}

#[test]
fn state_blobs_migrate_a_running_tpm() {
    require!("swtpm_ioctl", "tpm2_pcrextend");
    let td = TestDir::new();
    let a = Front::start(td.path(), "src", "not-need-init,startup-clear");
    ok(a.tpm2("tpm2_pcrextend")
        .arg(format!("16:sha256={}", "5a".repeat(32))));
    let before = a.pcr16();
    let perm = td.path().join("perm.blob");
    let vol = td.path().join("vol.blob");
    a.ioctl(&["--save", "permanent", perm.to_str().unwrap()]);
    a.ioctl(&["--save", "volatile", vol.to_str().unwrap()]);
    assert!(fs::metadata(&perm).unwrap().len() > 100);

    let b = Front::start(td.path(), "dst", "not-need-init");
    b.ioctl(&["--stop"]);
    b.ioctl(&["--load", "permanent", perm.to_str().unwrap()]);
    b.ioctl(&["--load", "volatile", vol.to_str().unwrap()]);
    b.ioctl(&["-i"]);
    assert_eq!(b.pcr16(), before, "PCRs arrive with the TPM");
    // The permanent state was made durable on the destination.
    assert!(td.path().join("dst-state/permanent.state").exists());
    // CMD_SHUTDOWN ends the process.
    b.ioctl(&["-s"]);
    let mut b = b;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if b.child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "CMD_SHUTDOWN did not end the process"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert!(fs::read_to_string(&b.log).unwrap().contains("CMD_SHUTDOWN"));
}

#[test]
fn command_line_errors_and_the_swtpm_name() {
    let td = TestDir::new();
    let out = vtpm()
        .args([
            "swtpm",
            "socket",
            "--tpm2",
            "--tpmstate",
            "dir=/x",
            "--frobnicate",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frobnicate"));
    let out = vtpm()
        .args([
            "swtpm",
            "socket",
            "--tpmstate",
            "dir=/x",
            "--ctrl",
            "type=tcp,port=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tpm2"));
    // The same binary answers to the name swtpm (libvirt and QEMU look for it).
    let link = td.path().join("swtpm");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_vtpm"), &link).unwrap();
    let out = Command::new(&link)
        .args(["socket", "--print-capabilities"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"tpm-2.0\""), "{text}");
    let out = Command::new(&link).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--tpmstate"));
}

/// `vtpm swtpm-ioctl` (swtpm_ioctl under its own name) talks to the real swtpm
/// and to the vtpm front alike, and prints what swtpm_ioctl prints.
#[test]
fn our_swtpm_ioctl_against_swtpm_and_vtpm() {
    require!("swtpm", "swtpm_ioctl");
    let td = TestDir::new();
    let sw_state = td.path().join("swtpm-state");
    fs::create_dir_all(&sw_state).unwrap();
    let sw_ctrl = td.path().join("swtpm.ctrl");
    let mut swtpm = Command::new("swtpm")
        .args(["socket", "--tpm2", "--flags", "not-need-init"])
        .arg("--tpmstate")
        .arg(format!("dir={}", sw_state.display()))
        .arg("--ctrl")
        .arg(format!("type=unixio,path={}", sw_ctrl.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sw_ctrl.exists() {
        assert!(Instant::now() < deadline, "swtpm did not start");
        thread::sleep(Duration::from_millis(20));
    }
    let ours = |sock: &Path, args: &[&str]| {
        let out = ok(vtpm().arg("swtpm-ioctl").arg("--unix").arg(sock).args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let theirs = |sock: &Path, args: &[&str]| {
        let out = ok(Command::new("swtpm_ioctl")
            .arg("--unix")
            .arg(sock)
            .args(args));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Same output as swtpm_ioctl, against swtpm itself.
    for args in [&["-c"][..], &["-e"], &["-b", "0"], &["-g"]] {
        assert_eq!(ours(&sw_ctrl, args), theirs(&sw_ctrl, args), "{args:?}");
    }
    assert!(ours(&sw_ctrl, &["--info", "1"]).contains("\"family\":\"2.0\""));
    let _ = swtpm.kill();
    let _ = swtpm.wait();

    // And against the vtpm front, with a state blob saved by one and loaded by it.
    let f = Front::start_with(td.path(), "v", "not-need-init", true);
    let sock = f.ctrl.clone().unwrap();
    assert_eq!(ours(&sock, &["-c"]), theirs(&sock, &["-c"]));
    let blob = td.path().join("perm.blob");
    ours(&sock, &["--save", "permanent", blob.to_str().unwrap()]);
    assert!(fs::metadata(&blob).unwrap().len() > 100);
    ours(&sock, &["--stop"]);
    ours(&sock, &["--load", "permanent", blob.to_str().unwrap()]);
    ours(&sock, &["-i"]);
    // Errors are reported, with a non-zero exit.
    let out = vtpm()
        .arg("swtpm-ioctl")
        .arg("--unix")
        .arg(&sock)
        .args(["-l", "7"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("locality"));
}

/// (length of the DER header, length of the content) of the TLV at the front of `d`.
fn der_header(d: &[u8]) -> (usize, usize) {
    if d[1] < 0x80 {
        (2, d[1] as usize)
    } else {
        let n = (d[1] & 0x7F) as usize;
        (
            2 + n,
            d[2..2 + n].iter().fold(0, |a, b| a << 8 | *b as usize),
        )
    }
}

/// (the first TLV, the rest) of `d`.
fn der_split(d: &[u8]) -> (&[u8], &[u8]) {
    let (h, n) = der_header(d);
    d.split_at(h + n)
}

/// The content of the first TLV of `d`.
fn der_content(d: &[u8]) -> &[u8] {
    let (h, n) = der_header(d);
    &d[h..h + n]
}

/// `vtpm swtpm-setup` (swtpm_setup's options) with `--localca-dir` in `dir`.
fn setup_cmd(dir: &Path) -> Command {
    let mut c = vtpm();
    c.arg("swtpm-setup")
        .arg("--localca-dir")
        .arg(dir.join("ca"));
    c
}

/// swtpm_setup as libvirt runs it: the state it manufactures holds the EK at its
/// TCG handle (the same key tpm2_createek derives), the chosen PCR banks, and an
/// EK certificate in locked NV that openssl verifies under the local CA and
/// whose key is the EK's.
#[test]
fn swtpm_setup_manufactures_ek_certificate_and_banks() {
    require!("tpm2_getcap", "openssl");
    let td = TestDir::new();
    let dir = td.path();
    let state = dir.join("setup-state");
    let log = dir.join("setup.log");
    let out = ok(setup_cmd(dir)
        .args(["--tpm2", "--tpm-state"])
        .arg(&state)
        .args([
            "--vmid",
            "guest1:6b1ea5fd-7b4f-4c43-9c8a-0d4b3b7c2a11",
            "--logfile",
        ])
        .arg(&log)
        .args([
            "--createek",
            "--create-ek-cert",
            "--create-platform-cert",
            "--lock-nvram",
            "--not-overwrite",
            "--pcr-banks",
            "sha256,sha384",
        ]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Successfully authored"));
    let logged = fs::read_to_string(&log).unwrap();
    assert!(logged.contains("EK certificate"), "{logged}");
    assert!(logged.contains("platform certificate ("), "{logged}");
    let stored = fs::read(state.join("permanent.state")).unwrap();

    // Again with --not-overwrite: nothing changes; without it: refused.
    ok(setup_cmd(dir)
        .args(["--tpm2", "--tpmstate"])
        .arg(&state)
        .args(["--createek", "--not-overwrite"]));
    assert_eq!(fs::read(state.join("permanent.state")).unwrap(), stored);
    let again = run_timeout(
        setup_cmd(dir)
            .args(["--tpm2", "--tpmstate"])
            .arg(&state)
            .arg("--createek"),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));

    let front = Front::start(dir, "setup", "not-need-init,startup-clear");
    let caps = ok(front.tpm2("tpm2_getcap").arg("handles-persistent"));
    assert!(String::from_utf8_lossy(&caps.stdout).contains("0x81010001"));
    let pcrs =
        String::from_utf8_lossy(&ok(front.tpm2("tpm2_getcap").arg("pcrs")).stdout).into_owned();
    let full =
        "[ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 ]";
    assert!(pcrs.contains(&format!("sha256: {full}")), "{pcrs}");
    assert!(pcrs.contains(&format!("sha384: {full}")), "{pcrs}");
    assert!(pcrs.contains("sha1: [ ]"), "{pcrs}");

    // The certificate: in NV, verified by openssl under the local CA.
    let der = dir.join("ek.der");
    ok(front
        .tpm2("tpm2_nvread")
        .args(["0x01c00002", "-C", "o", "-o"])
        .arg(&der));
    let pem = dir.join("ek.pem");
    ok(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&der)
        .arg("-out")
        .arg(&pem));
    let verify = ok(Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(dir.join("ca/ca-cert.pem"))
        .arg(&pem));
    assert!(String::from_utf8_lossy(&verify.stdout).contains(": OK"));
    let text = String::from_utf8_lossy(
        &ok(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&pem))
        .stdout,
    )
    .into_owned();
    for want in [
        "2.23.133.8.1",
        "id:5654504D",
        "virtual TPM",
        "guest1:6b1ea5fd",
    ] {
        assert!(text.contains(want), "no {want} in:\n{text}");
    }

    // The certified key is the persistent EK, and tpm2_createek (the TCG
    // template) derives the same key.
    let cert_key = ok(Command::new("openssl")
        .args(["x509", "-noout", "-pubkey", "-in"])
        .arg(&pem))
    .stdout;
    let persistent = dir.join("ek-persistent.pem");
    ok(front
        .tpm2("tpm2_readpublic")
        .args(["-c", "0x81010001", "-f", "pem", "-o"])
        .arg(&persistent));
    assert_eq!(fs::read(&persistent).unwrap(), cert_key);
    let derived = dir.join("ek-derived.pem");
    ok(front
        .tpm2("tpm2_createek")
        .args(["-G", "rsa", "-c"])
        .arg(dir.join("ek.ctx"))
        .arg("-f")
        .arg("pem")
        .arg("-u")
        .arg(&derived));
    assert_eq!(fs::read(&derived).unwrap(), cert_key);

    // The platform certificate: an attribute certificate whose holder is the EK
    // certificate (its serial number), signed by the local CA.
    let pc = dir.join("pc.der");
    ok(front
        .tpm2("tpm2_nvread")
        .args(["0x01c08000", "-C", "o", "-o"])
        .arg(&pc));
    let pc_bytes = fs::read(&pc).unwrap();
    let parsed = String::from_utf8_lossy(
        &ok(Command::new("openssl")
            .args(["asn1parse", "-inform", "DER", "-in"])
            .arg(&pc))
        .stdout,
    )
    .into_owned();
    for want in ["2.23.133.2.17", "2.23.133.8.2", "GENERALIZEDTIME"] {
        assert!(parsed.contains(want), "no {want} in:\n{parsed}");
    }
    let serial = String::from_utf8_lossy(
        &ok(Command::new("openssl")
            .args(["x509", "-noout", "-serial", "-in"])
            .arg(&pem))
        .stdout,
    )
    .trim()
    .trim_start_matches("serial=")
    .to_owned();
    assert!(
        parsed.contains(&format!("INTEGER           :{serial}")),
        "holder serial {serial} not in:\n{parsed}"
    );
    let (tbs, rest) = der_split(der_content(&pc_bytes));
    let (_alg, rest) = der_split(rest);
    let sig = &der_content(rest)[1..];
    fs::write(dir.join("pc-tbs.der"), tbs).unwrap();
    fs::write(dir.join("pc-sig.der"), sig).unwrap();
    let ca_pub = ok(Command::new("openssl")
        .args(["x509", "-noout", "-pubkey", "-in"])
        .arg(dir.join("ca/ca-cert.pem")))
    .stdout;
    fs::write(dir.join("ca-pub.pem"), ca_pub).unwrap();
    let verified = ok(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("ca-pub.pem"))
        .arg("-signature")
        .arg(dir.join("pc-sig.der"))
        .arg(dir.join("pc-tbs.der")));
    assert!(String::from_utf8_lossy(&verified.stdout).contains("Verified OK"));

    // --lock-nvram: the certificate cannot be rewritten.
    let rewrite = run_timeout(
        front
            .tpm2("tpm2_nvwrite")
            .args(["0x01c00002", "-C", "p", "-i"])
            .arg(&der),
    );
    assert!(!rewrite.status.success());
}

#[test]
fn swtpm_setup_ecc_ek_and_errors() {
    require!("tpm2_getcap", "openssl");
    let td = TestDir::new();
    let dir = td.path();
    ok(setup_cmd(dir)
        .args(["--tpm2", "--tpmstate"])
        .arg(dir.join("setup-state"))
        .args(["--create-ek-cert", "--ecc"]));
    let front = Front::start(dir, "setup", "not-need-init,startup-clear");
    let caps = ok(front.tpm2("tpm2_getcap").arg("handles-persistent"));
    assert!(String::from_utf8_lossy(&caps.stdout).contains("0x81010002"));
    let der = dir.join("ek.der");
    ok(front
        .tpm2("tpm2_nvread")
        .args(["0x01c0000a", "-C", "o", "-o"])
        .arg(&der));
    let text = ok(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&der));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("NIST CURVE: P-256") && text.contains("Key Agreement"),
        "{text}"
    );
    // Only the PCR bank asked for (the default: sha256).
    let pcrs = ok(front.tpm2("tpm2_getcap").arg("pcrs"));
    assert!(String::from_utf8_lossy(&pcrs.stdout).contains("sha1: [ ]"));

    // Errors name the option; the program answers to the name swtpm_setup.
    let bad =
        run_timeout(vtpm().args(["swtpm-setup", "--tpm2", "--tpmstate", "/x", "--frobnicate"]));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--frobnicate"));
    let link = dir.join("swtpm_setup");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_vtpm"), &link).unwrap();
    let caps = ok(Command::new(&link).arg("--print-capabilities"));
    assert!(String::from_utf8_lossy(&caps.stdout).contains("\"type\": \"swtpm_setup\""));
}

/// H-CRTM before Startup and D-RTM after it, sent by swtpm_ioctl -h (HASH_START,
/// HASH_DATA, HASH_END on the control channel): PCR 0 and PCR 17 take the values
/// computed here, the same as swtpm's.
#[test]
fn hash_sequence_measures_into_pcr0_and_pcr17() {
    require!("swtpm_ioctl", "tpm2_pcrread", "swtpm");
    use sha2::{Digest, Sha256};
    let td = TestDir::new();
    let f = Front::start(td.path(), "h", "not-need-init");
    let run = |tpm2: &dyn Fn(&str) -> Command, ioctl: &dyn Fn(&[&str]) -> String| {
        ioctl(&["-i"]);
        ioctl(&["-h", "h-crtm code"]);
        ok(tpm2("tpm2_startup").arg("-c"));
        ioctl(&["-h", "measured launch"]);
        let out = ok(tpm2("tpm2_pcrread").arg("sha256:0,17,18"));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            ioctl(&["-e"]),
        )
    };
    let (ours, established) = run(&|t| f.tpm2(t), &|a| f.ioctl(a));
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let mut start = [0u8; 32];
    start[31] = 4;
    let pcr0 = Sha256::new()
        .chain_update(start)
        .chain_update(Sha256::digest(b"h-crtm code"))
        .finalize();
    let pcr17 = Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(Sha256::digest(b"measured launch"))
        .finalize();
    assert!(ours.contains(&format!("0 : 0x{}", hex(&pcr0))), "{ours}");
    assert!(ours.contains(&format!("17: 0x{}", hex(&pcr17))), "{ours}");
    assert!(
        ours.contains(&format!("18: 0x{}", "00".repeat(32))),
        "{ours}"
    );
    assert!(established.contains("tpmEstablished is 1"), "{established}");

    // swtpm, driven the same way, agrees.
    let port = free_port_pair();
    let state = td.path().join("swtpm-state");
    fs::create_dir_all(&state).unwrap();
    let mut sw = Command::new("swtpm")
        .args(["socket", "--tpm2", "--flags", "not-need-init"])
        .arg("--tpmstate")
        .arg(format!("dir={}", state.display()))
        .arg("--server")
        .arg(format!("type=tcp,port={port}"))
        .arg("--ctrl")
        .arg(format!("type=tcp,port={}", port + 1))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port + 1)).is_err() {
        assert!(Instant::now() < deadline, "swtpm did not start");
        thread::sleep(Duration::from_millis(20));
    }
    let sw_tpm2 = |t: &str| {
        let mut c = Command::new(t);
        c.env(
            "TPM2TOOLS_TCTI",
            format!("swtpm:host=127.0.0.1,port={port}"),
        );
        c
    };
    let sw_ioctl = |a: &[&str]| {
        let out = ok(Command::new("swtpm_ioctl")
            .arg("--tcp")
            .arg(format!("127.0.0.1:{}", port + 1))
            .args(a));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (theirs, _) = run(&sw_tpm2, &sw_ioctl);
    let _ = sw.kill();
    let _ = sw.wait();
    assert_eq!(ours, theirs);

    // Our swtpm_ioctl sends the same sequence.
    ok(vtpm()
        .args(["swtpm-ioctl", "--tcp"])
        .arg(format!("127.0.0.1:{}", f.port + 1))
        .args(["-h", "measured launch"]));
    let again = ok(f.tpm2("tpm2_pcrread").arg("sha256:17"));
    assert!(String::from_utf8_lossy(&again.stdout).contains(&hex(&pcr17)));
}
