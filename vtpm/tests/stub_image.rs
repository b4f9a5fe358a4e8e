//! Boots the vTPM stub image under QEMU (microvm, PVH, TCG) and talks to it over
//! its virtio-console channel in `vtpm_proto::frame`s.
//!
//! The test builds nothing: it needs the image from
//! `cargo build --release -p vtpm-stub --target x86_64-unknown-none` (ci/test.sh
//! builds it first) and `qemu-system-x86_64`; without either it says so and skips.
//! `VTPM_STUB_IMAGE` names another image.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use vtpm_proto::frame::{self, ErrorCode, FrameType, Message};

/// Where cargo put the stub image: `<target dir>/x86_64-unknown-none/release/vtpm-stub`.
fn image_path() -> PathBuf {
    if let Some(p) = std::env::var_os("VTPM_STUB_IMAGE") {
        return PathBuf::from(p);
    }
    // An absolute CARGO_TARGET_DIR, else the target dir this test runs from
    // (<target>/release/deps/stub_image-<hash>).
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("../target"));
    target_dir.join("x86_64-unknown-none/release/vtpm-stub")
}

/// The machine the stub is made for: microvm without ACPI and legacy devices.
const NO_ACPI: &str = "microvm,acpi=off,pit=off,pic=off,rtc=off";

/// A running stub VM; killed on drop.
struct StubVm {
    qemu: Child,
    stream: UnixStream,
    rx: Vec<u8>,
    /// Log frames received so far (warnings and errors of the stub).
    logs: Vec<String>,
    serial_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl StubVm {
    fn boot(image: &PathBuf) -> StubVm {
        StubVm::boot_with(image, NO_ACPI, "max")
    }

    fn boot_with(image: &PathBuf, machine: &str, cpu: &str) -> StubVm {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("channel.sock");
        let serial_log = dir.path().join("serial.log");
        let qemu = Command::new("qemu-system-x86_64")
            .args([
                "-machine",
                machine,
                "-accel",
                "tcg",
                "-cpu",
                cpu,
                "-m",
                "16M",
                "-nodefaults",
                "-no-reboot",
                "-display",
                "none",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=4",
                "-serial",
            ])
            .arg(format!("file:{}", serial_log.display()))
            .arg("-kernel")
            .arg(image)
            .args([
                "-device",
                "virtio-serial-device",
                "-device",
                "virtconsole,chardev=c0",
                "-chardev",
            ])
            .arg(format!(
                "socket,id=c0,path={},server=on,wait=off",
                sock.display()
            ))
            .stdin(Stdio::null())
            .spawn()
            .expect("start qemu-system-x86_64");
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("QEMU's channel socket never appeared: {e}"),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        StubVm {
            qemu,
            stream,
            rx: Vec::new(),
            logs: Vec::new(),
            serial_log,
            _dir: dir,
        }
    }

    fn send(&mut self, m: &Message<'_>, seq: u32) {
        let mut out = Vec::new();
        m.encode(seq, &mut out).expect("encode");
        self.stream.write_all(&out).expect("write to the stub");
    }

    /// The next frame as (type, sequence, payload).
    fn next_frame(&mut self) -> (FrameType, u32, Vec<u8>) {
        loop {
            match frame::decode(&self.rx) {
                Ok((f, used)) => {
                    let r = (f.frame_type, f.sequence, f.payload.to_vec());
                    self.rx.drain(..used);
                    return r;
                }
                Err(e) if e.is_incomplete() => {}
                Err(e) => panic!("the stub sent a bad frame: {e}; serial:\n{}", self.serial()),
            }
            let mut buf = [0u8; 16384];
            let n = match self.stream.read(&mut buf) {
                Ok(0) => panic!("channel closed; serial:\n{}", self.serial()),
                Ok(n) => n,
                Err(e) => panic!("reading the channel: {e}; serial:\n{}", self.serial()),
            };
            self.rx.extend_from_slice(&buf[..n]);
        }
    }

    /// The next frame with `seq` (skipping unsolicited Ready and Log frames).
    fn reply(&mut self, seq: u32) -> (FrameType, Vec<u8>) {
        loop {
            let (t, s, p) = self.next_frame();
            if t == FrameType::Log {
                self.logs.push(String::from_utf8_lossy(&p).into_owned());
            }
            let unsolicited = t == FrameType::Log || (s == 0 && t == FrameType::Ready);
            if s == seq && !unsolicited {
                return (t, p);
            }
            assert!(
                unsolicited,
                "unexpected {t:?} frame {s} while waiting for {seq}"
            );
        }
    }

    /// Runs one TPM command at locality 0 and returns the response bytes.
    fn tpm(&mut self, seq: u32, command: &[u8]) -> Vec<u8> {
        self.send(
            &Message::TpmCommand {
                locality: 0,
                command,
            },
            seq,
        );
        let (t, p) = self.reply(seq);
        assert_eq!(t, FrameType::TpmResponse, "payload {p:02x?}");
        p
    }

    fn serial(&self) -> String {
        std::fs::read_to_string(&self.serial_log).unwrap_or_default()
    }
}

impl Drop for StubVm {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

fn rc(response: &[u8]) -> u32 {
    u32::from_be_bytes(response[6..10].try_into().unwrap())
}

/// A command with `tag`, `cc` and the bytes after the header.
fn command(tag: u16, cc: u32, body: &[u8]) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&tag.to_be_bytes());
    c.extend_from_slice(&u32::try_from(10 + body.len()).unwrap().to_be_bytes());
    c.extend_from_slice(&cc.to_be_bytes());
    c.extend_from_slice(body);
    c
}

const ST_NO_SESSIONS: u16 = 0x8001;
const ST_SESSIONS: u16 = 0x8002;

#[test]
fn stub_image_boots_and_serves_tpm_commands() {
    let image = image_path();
    if !image.is_file() {
        eprintln!(
            "skipped: no stub image at {} (build it with \
             `cargo build --release -p vtpm-stub --target x86_64-unknown-none`)",
            image.display()
        );
        return;
    }
    require!("qemu-system-x86_64");
    let size = std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0);

    let started = Instant::now();
    let mut vm = StubVm::boot(&image);

    // Ready: in answer to Hello (the boot-time Ready is lost when the socket was
    // not yet connected).
    vm.send(&Message::Hello, 1);
    let (t, version) = vm.reply(1);
    assert_eq!(t, FrameType::Ready);
    assert_eq!(
        std::str::from_utf8(&version).unwrap(),
        env!("CARGO_PKG_VERSION")
    );

    // TPM2_Startup(CLEAR)
    let r = vm.tpm(2, &command(ST_NO_SESSIONS, 0x144, &[0, 0]));
    let first_response = started.elapsed();
    assert_eq!(rc(&r), 0, "Startup: {r:02x?}");
    eprintln!(
        "stub image {} bytes; QEMU start to first TPM response: {:.1} ms",
        size,
        first_response.as_secs_f64() * 1e3
    );

    // TPM2_ReadClock twice: TPM time follows the host's clock. Each reading is
    // taken between sending the command and receiving the reply, which bounds
    // the TPM's interval from both sides whatever the scheduling delays.
    let read_time = |vm: &mut StubVm, seq: u32| {
        let sent = Instant::now();
        let r = vm.tpm(seq, &command(ST_NO_SESSIONS, 0x181, &[]));
        let received = Instant::now();
        assert_eq!(rc(&r), 0, "ReadClock: {r:02x?}");
        (
            sent,
            u64::from_be_bytes(r[10..18].try_into().unwrap()),
            received,
        )
    };
    let (sent0, time0, received0) = read_time(&mut vm, 40);
    std::thread::sleep(Duration::from_millis(500));
    let (sent1, time1, received1) = read_time(&mut vm, 41);
    let tpm_ms = (time1 - time0) as f64;
    let at_least = (sent1 - received0).as_secs_f64() * 1e3;
    let at_most = (received1 - sent0).as_secs_f64() * 1e3;
    eprintln!("TPM time advanced {tpm_ms} ms; the host's {at_least:.0}..{at_most:.0} ms");
    // 5 % for the stub's TSC calibration, 2 ms for whole-millisecond readings.
    assert!(
        tpm_ms >= at_least * 0.95 - 2.0 && tpm_ms <= at_most * 1.05 + 2.0,
        "TPM time {tpm_ms} ms vs host {at_least:.0}..{at_most:.0} ms"
    );

    // TPM2_GetRandom(16)
    let r = vm.tpm(3, &command(ST_NO_SESSIONS, 0x17b, &[0, 16]));
    assert_eq!(rc(&r), 0, "GetRandom: {r:02x?}");
    assert_eq!(r.len(), 10 + 2 + 16);
    assert_eq!(&r[10..12], &[0, 16]);
    let random = &r[12..];
    assert_ne!(random, &[0u8; 16]);
    let r2 = vm.tpm(4, &command(ST_NO_SESSIONS, 0x17b, &[0, 16]));
    assert_ne!(&r2[12..], random, "two GetRandom calls gave the same bytes");

    // TPM2_PCR_Extend(PCR 16, SHA-256 digest) with an empty password session.
    let data: [u8; 32] = Sha256::digest(b"measured by the stub image test").into();
    let mut body = Vec::new();
    body.extend_from_slice(&16u32.to_be_bytes()); // pcrHandle
    body.extend_from_slice(&9u32.to_be_bytes()); // authorizationSize
    body.extend_from_slice(&0x4000_0009u32.to_be_bytes()); // TPM_RS_PW
    body.extend_from_slice(&[0, 0, 0, 0, 0]); // nonce, attributes, hmac
    body.extend_from_slice(&1u32.to_be_bytes()); // TPML_DIGEST_VALUES.count
    body.extend_from_slice(&0x000bu16.to_be_bytes()); // TPM_ALG_SHA256
    body.extend_from_slice(&data);
    let r = vm.tpm(5, &command(ST_SESSIONS, 0x182, &body));
    assert_eq!(rc(&r), 0, "PCR_Extend: {r:02x?}");

    // TPM2_PCR_Read(SHA-256, PCR 16)
    let mut body = Vec::new();
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&0x000bu16.to_be_bytes());
    body.extend_from_slice(&[3, 0x00, 0x00, 0x01]);
    let r = vm.tpm(6, &command(ST_NO_SESSIONS, 0x17e, &body));
    assert_eq!(rc(&r), 0, "PCR_Read: {r:02x?}");
    // header 10, updateCounter 4, selection 10, digest count 4, size 2, digest 32
    assert_eq!(r.len(), 62, "{r:02x?}");
    assert_eq!(&r[28..30], &[0, 32]);
    let mut h = Sha256::new();
    h.update([0u8; 32]);
    h.update(data);
    let expected: [u8; 32] = h.finalize().into();
    assert_eq!(&r[30..62], &expected, "PCR 16 after one extend");

    // TPM2_CreatePrimary: an RSA-2048 storage key under the owner hierarchy (the
    // heaviest path: prime generation on the stub's heap and stack).
    let mut public = Vec::new();
    public.extend_from_slice(&0x0001u16.to_be_bytes()); // TPM_ALG_RSA
    public.extend_from_slice(&0x000bu16.to_be_bytes()); // nameAlg SHA-256
    public.extend_from_slice(&0x0003_0072u32.to_be_bytes()); // storage key attributes
    public.extend_from_slice(&[0, 0]); // authPolicy
    for v in [0x0006u16, 128, 0x0043, 0x0010, 2048] {
        public.extend_from_slice(&v.to_be_bytes()); // AES-128-CFB, no scheme, 2048 bits
    }
    public.extend_from_slice(&0u32.to_be_bytes()); // exponent: default
    public.extend_from_slice(&[0, 0]); // unique
    let mut body = Vec::new();
    body.extend_from_slice(&0x4000_0001u32.to_be_bytes()); // TPM_RH_OWNER
    body.extend_from_slice(&9u32.to_be_bytes());
    body.extend_from_slice(&0x4000_0009u32.to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 0, 0]);
    body.extend_from_slice(&[0, 4, 0, 0, 0, 0]); // inSensitive: empty
    body.extend_from_slice(&u16::try_from(public.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&public);
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // outsideInfo, creationPCR
    let t = Instant::now();
    let r = vm.tpm(20, &command(ST_SESSIONS, 0x131, &body));
    assert_eq!(rc(&r), 0, "CreatePrimary: {r:02x?}");
    eprintln!(
        "CreatePrimary RSA-2048 in the stub: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    // handle, parameterSize, TPM2B_PUBLIC size, type RSA, nameAlg
    assert_eq!(&r[20..24], &[0, 1, 0, 0x0b], "{r:02x?}");
    let handle = r[10..14].to_vec();
    let r = vm.tpm(21, &command(ST_NO_SESSIONS, 0x165, &handle)); // FlushContext
    assert_eq!(rc(&r), 0, "FlushContext: {r:02x?}");

    // Round trips of a small command.
    let mut times = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        let r = vm.tpm(1000 + i, &command(ST_NO_SESSIONS, 0x17b, &[0, 8]));
        times.push(t.elapsed());
        assert_eq!(rc(&r), 0);
    }
    times.sort();
    eprintln!(
        "GetRandom(8) round trip: median {:.0} us, max {:.0} us",
        times[50].as_secs_f64() * 1e6,
        times[99].as_secs_f64() * 1e6
    );

    // A frame at the size limit crosses several of the device's receive buffers;
    // the engine refuses the oversized command with a TPM error.
    let mut big = command(ST_NO_SESSIONS, 0x17b, &[0, 8]);
    big.resize(frame::MAX_PAYLOAD - 1, 0);
    let len = u32::try_from(big.len()).unwrap();
    big[2..6].copy_from_slice(&len.to_be_bytes());
    let r = vm.tpm(30, &big);
    assert_eq!(r.len(), 10, "{r:02x?}");
    assert_ne!(rc(&r), 0);

    // Garbage: an Error frame, and the stub still answers afterwards.
    vm.stream
        .write_all(b"this is not a frame at all")
        .expect("write garbage");
    let (t, p) = vm.reply(0);
    assert_eq!(t, FrameType::Error, "{p:02x?}");
    assert_eq!(
        u16::from_be_bytes([p[0], p[1]]),
        ErrorCode::Malformed as u16
    );
    // A well-formed frame with a payload the stub does not take.
    vm.send(&Message::TpmResponse(&[1, 2, 3]), 7);
    let (t, _) = vm.reply(7);
    assert_eq!(t, FrameType::Error);
    let r = vm.tpm(8, &command(ST_NO_SESSIONS, 0x17b, &[0, 8]));
    assert_eq!(rc(&r), 0, "GetRandom after garbage: {r:02x?}");
    assert_eq!(r.len(), 10 + 2 + 8);

    // A frame whose rest never comes: after a second the stub drops it, says so,
    // and takes the next frame.
    let mut partial = Vec::new();
    Message::TpmCommand {
        locality: 0,
        command: &command(ST_NO_SESSIONS, 0x17b, &[0, 8]),
    }
    .encode(50, &mut partial)
    .unwrap();
    let t = Instant::now();
    vm.stream.write_all(&partial[..15]).expect("write");
    let (kind, p) = vm.reply(0);
    assert_eq!(kind, FrameType::Error, "{p:02x?}");
    assert_eq!(
        u16::from_be_bytes([p[0], p[1]]),
        ErrorCode::Malformed as u16
    );
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let r = vm.tpm(51, &command(ST_NO_SESSIONS, 0x17b, &[0, 8]));
    assert_eq!(rc(&r), 0, "GetRandom after a partial frame: {r:02x?}");

    // The stub's warnings about the refused input came as Log frames.
    assert!(
        vm.logs.iter().any(|l| l.contains("not a frame")),
        "{:?}",
        vm.logs
    );

    // Shutdown: QEMU exits (isa-debug-exit status 2 * 1 + 1).
    vm.send(&Message::Shutdown, 9);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = vm.qemu.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "QEMU did not exit after Shutdown"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(3), "serial:\n{}", vm.serial());
    let serial = vm.serial();
    assert!(serial.contains("serving TPM commands"), "serial:\n{serial}");
}

#[test]
fn stub_image_without_rdrand_says_why() {
    let image = image_path();
    if !image.is_file() {
        eprintln!("skipped: no stub image at {}", image.display());
        return;
    }
    require!("qemu-system-x86_64");
    // QEMU's default TCG CPU model has no RDRAND: the engine must not start, and
    // every frame gets an Error that names the reason.
    let mut vm = StubVm::boot_with(&image, NO_ACPI, "qemu64");
    vm.send(&Message::Hello, 1);
    let (t, p) = vm.reply(1);
    assert_eq!(t, FrameType::Error);
    assert_eq!(u16::from_be_bytes([p[0], p[1]]), ErrorCode::Failed as u16);
    assert!(
        String::from_utf8_lossy(&p[2..]).contains("RDRAND"),
        "{}",
        String::from_utf8_lossy(&p)
    );
    let r = command(ST_NO_SESSIONS, 0x144, &[0, 0]);
    vm.send(
        &Message::TpmCommand {
            locality: 0,
            command: &r,
        },
        2,
    );
    assert_eq!(vm.reply(2).0, FrameType::Error);
}

#[test]
fn stub_image_finds_its_channel_with_acpi() {
    let image = image_path();
    if !image.is_file() {
        eprintln!("skipped: no stub image at {}", image.display());
        return;
    }
    require!("qemu-system-x86_64");
    // With ACPI the devices are not on the command line: 24 transports on the
    // second IOAPIC, or 8 on GSI 16 + slot without it.
    for machine in [
        "microvm,pit=off,pic=off,rtc=off",
        "microvm,pit=off,pic=off,rtc=off,ioapic2=off",
    ] {
        let mut vm = StubVm::boot_with(&image, machine, "max");
        vm.send(&Message::Hello, 1);
        assert_eq!(vm.reply(1).0, FrameType::Ready, "{machine}");
        let r = vm.tpm(2, &command(ST_NO_SESSIONS, 0x144, &[0, 0]));
        assert_eq!(rc(&r), 0, "{machine}: Startup {r:02x?}");
        let r = vm.tpm(3, &command(ST_NO_SESSIONS, 0x17b, &[0, 4]));
        assert_eq!(rc(&r), 0, "{machine}: GetRandom {r:02x?}");
    }
}
