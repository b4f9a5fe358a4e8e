//! A live migration through the swtpm-compatible front keeps the guest's loaded
//! keys: tpm2-tools load a key on the source, the state blobs move to a second
//! front with `swtpm_ioctl`, and the key signs at the same raw handle on the
//! destination; openssl checks the signature.

mod common;
use common::*;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A running `vtpm swtpm socket`: TCP data port P, control channel on P+1.
struct Front {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Front {
    fn start(dir: &Path, name: &str, flags: &str) -> Front {
        let port = free_port_pair();
        let log = dir.join(format!("{name}.log"));
        let state = dir.join(format!("{name}-state"));
        let child = vtpm()
            .args(["swtpm", "socket", "--tpm2"])
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={}", port + 1))
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
        let up = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
        while !(up(port + 1) && up(port)) {
            assert!(
                Instant::now() < deadline,
                "front did not start: {}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
        Front { child, port, log }
    }

    fn ioctl(&self, args: &[&str]) -> String {
        let out = ok(Command::new("swtpm_ioctl")
            .arg("--tcp")
            .arg(format!("127.0.0.1:{}", self.port + 1))
            .args(args));
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

    fn transient_handles(&self) -> String {
        let out = ok(self.tpm2("tpm2_getcap").arg("handles-transient"));
        String::from_utf8_lossy(&out.stdout).to_lowercase()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_loaded_key_signs_at_its_handle_after_migration() {
    require!(
        "swtpm_ioctl",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_load",
        "tpm2_sign",
        "tpm2_getcap",
        "tpm2_readpublic",
        "tpm2_flushcontext",
        "tpm2_startauthsession",
        "openssl"
    );
    let td = TestDir::new();
    let d = td.path();
    let path = |name: &str| d.join(name).to_str().unwrap().to_owned();
    let a = Front::start(d, "src", "not-need-init,startup-clear");
    ok(a.tpm2("tpm2_createprimary")
        .args(["-C", "o", "-G", "ecc", "-c"])
        .arg(path("prim.ctx")));
    ok(a.tpm2("tpm2_flushcontext").arg("-t"));
    ok(a.tpm2("tpm2_create")
        .args(["-C", &path("prim.ctx"), "-G", "rsa2048", "-u"])
        .arg(path("key.pub"))
        .arg("-r")
        .arg(path("key.priv")));
    ok(a.tpm2("tpm2_flushcontext").arg("-t"));
    ok(a.tpm2("tpm2_load")
        .args(["-C", &path("prim.ctx"), "-u", &path("key.pub")])
        .args(["-r", &path("key.priv"), "-c", &path("key.ctx")]));
    // The parent came back at 0x80000000 for the load; the key is at 0x80000001.
    ok(a.tpm2("tpm2_flushcontext").arg("0x80000000"));
    let handles = a.transient_handles();
    assert!(handles.contains("0x80000001"), "{handles}");
    assert!(!handles.contains("0x80000000"), "{handles}");
    ok(a.tpm2("tpm2_readpublic")
        .args(["-c", "0x80000001", "-f", "pem", "-o"])
        .arg(path("key.pem")));
    // An HMAC session, saved by the tool (TPM2_ContextSave) into its file.
    ok(a.tpm2("tpm2_startauthsession")
        .args(["--hmac-session", "-S"])
        .arg(path("session.ctx")));
    let saved = ok(a.tpm2("tpm2_getcap").arg("handles-saved-session"));
    assert!(
        String::from_utf8_lossy(&saved.stdout).contains("0x2000000"),
        "{}",
        String::from_utf8_lossy(&saved.stdout)
    );

    // Migrate the running TPM: state blobs out of the source, into a new front.
    let perm = path("perm.blob");
    let vol = path("vol.blob");
    a.ioctl(&["--save", "permanent", &perm]);
    a.ioctl(&["--save", "volatile", &vol]);
    drop(a);
    let b = Front::start(d, "dst", "not-need-init");
    b.ioctl(&["--stop"]);
    b.ioctl(&["--load", "permanent", &perm]);
    b.ioctl(&["--load", "volatile", &vol]);
    b.ioctl(&["-i"]);
    let log = fs::read_to_string(&b.log).unwrap_or_default();
    assert!(log.contains("resumed the volatile state"), "{log}");

    // The key is still loaded at its handle, and signs.
    let handles = b.transient_handles();
    assert!(handles.contains("0x80000001"), "{handles}");
    fs::write(d.join("msg"), b"signed after the migration").unwrap();
    ok(b.tpm2("tpm2_sign")
        .args(["-c", "0x80000001", "-g", "sha256", "-s", "rsassa"])
        .args(["-f", "plain", "-o", &path("sig.bin"), &path("msg")]));
    let out = ok(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", &path("key.pem")])
        .args(["-signature", &path("sig.bin"), &path("msg")]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
    // The saved session loads on the destination and authorizes the key.
    ok(b.tpm2("tpm2_sign")
        .args([
            "-c",
            "0x80000001",
            "-p",
            &format!("session:{}", path("session.ctx")),
        ])
        .args(["-g", "sha256", "-s", "rsassa", "-f", "plain"])
        .args(["-o", &path("sig2.bin"), &path("msg")]));
    ok(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", &path("key.pem")])
        .args(["-signature", &path("sig2.bin"), &path("msg")]));
    // A signature over other data does not verify.
    fs::write(d.join("other"), b"something else").unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", &path("key.pem")])
        .args(["-signature", &path("sig.bin"), &path("other")])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
