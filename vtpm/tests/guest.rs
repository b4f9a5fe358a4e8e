//! Guests that boot with the vTPM: QEMU (TCG) with `-tpmdev emulator` attached to
//! `vtpm swtpm socket` through its control socket, as QEMU documents for swtpm.
//! The guest is Debian's kernel with a busybox initramfs built here; it reports
//! what Linux sees of its TPM on the serial console.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The newest Debian kernel image on this machine.
fn kernel() -> Option<PathBuf> {
    let mut k: Vec<PathBuf> = fs::read_dir("/boot")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    k.sort();
    k.pop()
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "VTPM-MAJOR=$(cat /sys/class/tpm/tpm0/tpm_version_major 2>&1)"
for i in 0 16 23; do echo "VTPM-PCR$i=$(cat /sys/class/tpm/tpm0/pcr-sha256/$i 2>&1)"; done
echo "VTPM-PCR1-SHA1=$(cat /sys/class/tpm/tpm0/pcr-sha1/1 2>&1)"
echo "VTPM-HWRNG=$(cat /sys/class/misc/hw_random/rng_current 2>&1)"
echo "VTPM-RNG=$(head -c 16 /dev/hwrng 2>&1 | od -An -tx1 | tr -d ' \n')"
echo VTPM-DONE
poweroff -f
"#;

/// A gzipped newc initramfs with busybox and `init`.
fn initramfs(dir: &Path, init: &str) -> PathBuf {
    let root = dir.join("root");
    for d in ["bin", "proc", "sys", "dev"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    fs::write(root.join("init"), init).unwrap();
    fs::set_permissions(
        root.join("init"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = dir.join("initrd.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && find . | cpio -o -H newc 2>/dev/null | gzip -1 > '{}'",
            root.display(),
            out.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "building the initramfs failed");
    out
}

/// Boots the guest with `device` (tpm-tis or tpm-crb) and returns its console and
/// the vtpm log. With `reboot`, a guest reboot restarts the machine (QEMU resets
/// the TPM with CMD_INIT) instead of ending QEMU.
fn boot(dir: &Path, device: &str, init: &str, reboot: bool) -> (String, String) {
    boot_with(dir, device, init, reboot, &[], &[])
}

/// [`boot`] with more QEMU arguments (machine type, firmware) and more
/// `vtpm swtpm socket` options (`front`).
fn boot_with(
    dir: &Path,
    device: &str,
    init: &str,
    reboot: bool,
    extra: &[String],
    front: &[&str],
) -> (String, String) {
    let (mut vtpm_child, ctrl, log) = start_front_with(dir, device, front);
    let kernel = kernel().unwrap();
    let initrd = initramfs(dir, init);
    let out = run_with_timeout(
        Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-m", "256", "-nographic", "-net", "none"])
            .args(extra)
            .args(if reboot { &[][..] } else { &["-no-reboot"][..] })
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", "console=ttyS0 panic=-1 quiet rdinit=/init"])
            .arg("-chardev")
            .arg(format!("socket,id=chrtpm,path={}", ctrl.display()))
            .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm"])
            .args(["-device", &format!("{device},tpmdev=tpm0")]),
        Duration::from_secs(300),
    );
    // QEMU ends the vTPM with CMD_SHUTDOWN when it exits.
    let deadline = Instant::now() + Duration::from_secs(20);
    while vtpm_child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = vtpm_child.kill();
            panic!("vtpm did not exit after QEMU's CMD_SHUTDOWN");
        }
        thread::sleep(Duration::from_millis(20));
    }
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        fs::read_to_string(&log).unwrap_or_default(),
    )
}

fn value<'a>(console: &'a str, key: &str) -> &'a str {
    console
        .lines()
        // The console may put terminal escapes before a line.
        .find_map(|l| l.split_once(&format!("VTPM-{key}=")).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("no {key} in the guest output:\n{console}"))
        .trim()
}

fn guest_sees_a_tpm2(device: &str) {
    guest_sees_a_tpm2_on(device, &[]);
}

/// [`guest_sees_a_tpm2`] with `vtpm swtpm socket` options `front`.
fn guest_sees_a_tpm2_on(device: &str, front: &[&str]) {
    let td = TestDir::new();
    let (console, log) = boot_with(td.path(), device, INIT, false, &[], front);
    assert!(
        console.contains("VTPM-DONE"),
        "{console}\n--- vtpm log ---\n{log}"
    );
    assert_eq!(value(&console, "MAJOR"), "2", "{console}");
    // The firmware (SeaBIOS) measured into PCR 0; PCRs 16 and 23 are untouched.
    let pcr0 = value(&console, "PCR0");
    assert_eq!(pcr0.len(), 64);
    assert_ne!(pcr0, "0".repeat(64), "the firmware measured nothing");
    assert_eq!(value(&console, "PCR16"), "0".repeat(64));
    assert_eq!(value(&console, "PCR23"), "0".repeat(64));
    assert_eq!(value(&console, "PCR1-SHA1").len(), 40);
    if front.contains(&"vm") {
        // The engine ran in the stub VM, and its state was sealed there.
        assert!(log.contains("stub VM running"), "{log}");
        let state = fs::read(td.path().join(format!("{device}-state/permanent.state"))).unwrap();
        assert_eq!(
            state[11], 1,
            "the state file is sealed (envelope protection 1)"
        );
    }
    // QEMU spoke the control protocol as it does to swtpm.
    for what in ["CMD_INIT", "CMD_SHUTDOWN"] {
        assert!(log.contains(what), "no {what} in the vtpm log:\n{log}");
    }
    if device == "tpm-tis" {
        // Linux registers the TPM as a hardware RNG on TIS.
        assert_eq!(value(&console, "HWRNG"), "tpm-rng-0");
        assert_eq!(value(&console, "RNG").len(), 32);
    }
}

#[test]
fn linux_guest_with_tpm_tis() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    guest_sees_a_tpm2("tpm-tis");
}

/// The same guest with the TPM engine in a stub VM (`--isolation vm`): two QEMUs,
/// the guest's and the vTPM's.
#[test]
fn linux_guest_with_tpm_tis_on_the_vm_backend() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    if !stub_image().is_file() {
        eprintln!(
            "skipped: no stub image at {} (cargo build --release -p vtpm-stub --target x86_64-unknown-none)",
            stub_image().display()
        );
        return;
    }
    guest_sees_a_tpm2_on("tpm-tis", &["--isolation", "vm", "--accel", "tcg"]);
}

#[test]
fn linux_guest_with_tpm_crb() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    guest_sees_a_tpm2("tpm-crb");
}

/// A TPM command with one password session (empty password) for each of
/// `auth_handles`, then `other_handles` and `params`.
fn command(cc: u32, auth_handles: &[u32], other_handles: &[u32], params: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for h in auth_handles.iter().chain(other_handles) {
        body.extend_from_slice(&h.to_be_bytes());
    }
    let session = [0x40, 0, 0, 9, 0, 0, 1, 0, 0];
    body.extend_from_slice(&((session.len() * auth_handles.len()) as u32).to_be_bytes());
    for _ in auth_handles {
        body.extend_from_slice(&session);
    }
    body.extend_from_slice(params);
    let mut c = vec![0x80, 0x02];
    c.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
    c.extend_from_slice(&cc.to_be_bytes());
    c.extend_from_slice(&body);
    c
}

/// `printf` escapes for `bytes`.
fn escaped(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

const NV_INDEX: u32 = 0x0150_0001;
const OWNER: u32 = 0x4000_0001;

/// The guest reboots: PCRs start over, NV keeps what the first boot wrote.
#[test]
fn guest_reboot_resets_pcrs_and_keeps_nv() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    let digest = [0x42u8; 32];
    let mut extend = 1u32.to_be_bytes().to_vec();
    extend.extend_from_slice(&0x000Bu16.to_be_bytes());
    extend.extend_from_slice(&digest);
    let extend = command(0x182, &[16], &[], &extend);
    // NV_DefineSpace: OWNERWRITE | OWNERREAD | NO_DA, 8 bytes.
    let mut public = NV_INDEX.to_be_bytes().to_vec();
    public.extend_from_slice(&0x000Bu16.to_be_bytes());
    public.extend_from_slice(&0x0202_0002u32.to_be_bytes());
    public.extend_from_slice(&[0, 0, 0, 8]);
    let mut define = vec![0, 0];
    define.extend_from_slice(&(public.len() as u16).to_be_bytes());
    define.extend_from_slice(&public);
    let define = command(0x12A, &[OWNER], &[], &define);
    let mut write = vec![0, 8];
    write.extend_from_slice(b"BOOT1OK!");
    write.extend_from_slice(&[0, 0]);
    let write = command(0x137, &[OWNER], &[NV_INDEX], &write);
    let read = command(0x14E, &[OWNER], &[NV_INDEX], &[0, 8, 0, 0]);
    let init = format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
tpm() {{
    exec 3<>/dev/tpm0
    printf "$1" >&3
    dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' 
'
    exec 3>&-
}}
R=$(tpm "{read}")
if [ "$(echo $R | cut -c13-20)" = "00000000" ]; then
    echo "VTPM-BOOT2-NV=$(echo $R | cut -c33-48)"
    echo "VTPM-BOOT2-PCR16=$(cat /sys/class/tpm/tpm0/pcr-sha256/16)"
    poweroff -f
else
    echo "VTPM-BOOT1-DEFINE=$(tpm "{define}" | cut -c13-20)"
    echo "VTPM-BOOT1-WRITE=$(tpm "{write}" | cut -c13-20)"
    echo "VTPM-BOOT1-EXTEND=$(tpm "{extend}" | cut -c13-20)"
    echo "VTPM-BOOT1-PCR16=$(cat /sys/class/tpm/tpm0/pcr-sha256/16)"
    reboot -f
fi
"#,
        read = escaped(&read),
        define = escaped(&define),
        write = escaped(&write),
        extend = escaped(&extend),
    );
    let td = TestDir::new();
    let (console, log) = boot(td.path(), "tpm-tis", &init, true);
    let ctx = || format!("{console}\n--- vtpm log ---\n{log}");
    assert_eq!(value(&console, "BOOT1-DEFINE"), "00000000", "{}", ctx());
    assert_eq!(value(&console, "BOOT1-WRITE"), "00000000", "{}", ctx());
    assert_eq!(value(&console, "BOOT1-EXTEND"), "00000000", "{}", ctx());
    let mut h = [0u8; 64];
    h[32..].copy_from_slice(&digest);
    let want: String = sha256_hex(&h);
    assert_eq!(
        value(&console, "BOOT1-PCR16").to_lowercase(),
        want,
        "{}",
        ctx()
    );
    assert_eq!(value(&console, "BOOT2-PCR16"), "0".repeat(64), "{}", ctx());
    let nv = value(&console, "BOOT2-NV");
    assert_eq!(
        nv,
        "424f4f54314f4b21",
        "NV written before the reboot: {}",
        ctx()
    );
    // QEMU reset the TPM at the reboot (a second CMD_INIT).
    assert!(log.matches("CMD_INIT").count() >= 2, "{log}");
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An HMP monitor on a unix socket.
struct Monitor(std::os::unix::net::UnixStream);

impl Monitor {
    fn connect(path: &Path) -> Monitor {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(s) = std::os::unix::net::UnixStream::connect(path) {
                s.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let mut m = Monitor(s);
                m.read_until("(qemu)", Duration::from_secs(10));
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no QEMU monitor at {}",
                path.display()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn read_until(&mut self, marker: &str, limit: Duration) -> String {
        use std::io::Read;
        let deadline = Instant::now() + limit;
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while !text.contains(marker) && Instant::now() < deadline {
            if let Ok(n) = self.0.read(&mut buf) {
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        text
    }

    fn cmd(&mut self, line: &str) -> String {
        use std::io::Write;
        self.0.write_all(format!("{line}\n").as_bytes()).unwrap();
        self.read_until("(qemu)", Duration::from_secs(30))
    }
}

/// Starts `vtpm swtpm socket` for a guest; returns the child and its control socket.
fn start_front(dir: &Path, name: &str) -> (std::process::Child, PathBuf, PathBuf) {
    start_front_with(dir, name, &[])
}

/// [`start_front`] with more `vtpm swtpm socket` options (the isolation backend).
fn start_front_with(
    dir: &Path,
    name: &str,
    extra: &[&str],
) -> (std::process::Child, PathBuf, PathBuf) {
    let ctrl = dir.join(format!("{name}.sock"));
    let log = dir.join(format!("{name}-vtpm.log"));
    let child = vtpm()
        .args(["swtpm", "socket", "--tpm2"])
        .args(extra)
        .arg("--tpmstate")
        .arg(format!(
            "dir={}",
            dir.join(format!("{name}-state")).display()
        ))
        .arg("--ctrl")
        .arg(format!("type=unixio,path={}", ctrl.display()))
        .arg("--log")
        .arg(format!("file={},level=20", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ctrl.exists() {
        assert!(Instant::now() < deadline, "vtpm did not listen");
        thread::sleep(Duration::from_millis(20));
    }
    (child, ctrl, log)
}

fn qemu(ctrl: &Path, initrd: &Path, monitor: &Path, console: &Path) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    c.args([
        "-accel",
        "tcg",
        "-m",
        "256",
        "-display",
        "none",
        "-no-reboot",
    ])
    .arg("-kernel")
    .arg(kernel().unwrap())
    .arg("-initrd")
    .arg(initrd)
    .args(["-append", "console=ttyS0 panic=-1 quiet rdinit=/init"])
    .arg("-serial")
    .arg(format!("file:{}", console.display()))
    .arg("-monitor")
    .arg(format!("unix:{},server=on,wait=off", monitor.display()))
    .arg("-chardev")
    .arg(format!("socket,id=chrtpm,path={}", ctrl.display()))
    .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm"])
    .args(["-device", "tpm-tis,tpmdev=tpm0"])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// A running guest is migrated to a file and restored in a new QEMU with a new
/// vtpm: its PCRs and NV come along, and it keeps using its TPM.
#[test]
fn guest_migration_to_a_file_keeps_the_tpm() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    let digest = [0x37u8; 32];
    let mut extend = 1u32.to_be_bytes().to_vec();
    extend.extend_from_slice(&0x000Bu16.to_be_bytes());
    extend.extend_from_slice(&digest);
    let extend = command(0x182, &[16], &[], &extend);
    let init = format!(
        r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec 3<>/dev/tpm0
printf "{extend}" >&3
dd bs=4096 count=1 <&3 >/dev/null 2>&1
exec 3>&-
echo VTPM-READY
i=0
while true; do
    i=$((i+1))
    echo "VTPM-TICK$i=$(cat /sys/class/tpm/tpm0/pcr-sha256/16) rng=$(head -c 4 /dev/hwrng | od -An -tx1 | tr -d ' \n')"
    sleep 1
done
"#,
        extend = escaped(&extend),
    );
    let td = TestDir::new();
    let dir = td.path();
    let initrd = initramfs(dir, &init);
    let image = dir.join("guest.mig");
    let mut h = [0u8; 64];
    h[32..].copy_from_slice(&digest);
    let want = sha256_hex(&h).to_uppercase();

    // Source.
    let (mut src_tpm, src_ctrl, src_log) = start_front(dir, "src");
    let src_console = dir.join("src.console");
    let mut src = qemu(&src_ctrl, &initrd, &dir.join("src.mon"), &src_console)
        .spawn()
        .unwrap();
    let mut mon = Monitor::connect(&dir.join("src.mon"));
    let deadline = Instant::now() + Duration::from_secs(240);
    while !fs::read_to_string(&src_console)
        .unwrap_or_default()
        .contains("VTPM-TICK2=")
    {
        assert!(
            Instant::now() < deadline,
            "the source guest did not come up:\n{}",
            fs::read_to_string(&src_console).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(200));
    }
    let before = fs::read_to_string(&src_console).unwrap();
    assert!(before.contains(&format!("={want} ")), "{before}");
    mon.cmd("stop");
    mon.cmd(&format!("migrate \"exec:cat > {}\"", image.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info = mon.cmd("info migrate");
        if info.contains("Migration status: completed") {
            break;
        }
        assert!(!info.contains("failed"), "{info}");
        assert!(
            Instant::now() < deadline,
            "migration did not complete: {info}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    mon.cmd("quit");
    let _ = src.wait();
    let _ = src_tpm.wait();
    let src_log = fs::read_to_string(&src_log).unwrap_or_default();

    // Destination: a new vtpm with an empty state directory.
    let (mut dst_tpm, dst_ctrl, dst_log) = start_front(dir, "dst");
    let dst_console = dir.join("dst.console");
    let mut cmd = qemu(&dst_ctrl, &initrd, &dir.join("dst.mon"), &dst_console);
    cmd.arg("-incoming")
        .arg(format!("exec:cat {}", image.display()));
    let mut dst = cmd.spawn().unwrap();
    let mut mon = Monitor::connect(&dir.join("dst.mon"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // "paused (inmigrate)" while the image loads, then "paused" (the source
        // was stopped before the migration).
        let status = mon.cmd("info status");
        if !status.contains("inmigrate")
            && (status.contains("paused") || status.contains("running"))
        {
            if status.contains("paused") {
                mon.cmd("cont");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "incoming migration did not finish: {status}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let after = loop {
        let text = fs::read_to_string(&dst_console).unwrap_or_default();
        if text.matches("VTPM-TICK").count() >= 2 {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the restored guest did not go on:\n{text}\n--- vtpm ---\n{}",
            fs::read_to_string(&dst_log).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(200));
    };
    mon.cmd("quit");
    let _ = dst.wait();
    let _ = dst_tpm.wait();
    let dst_log = fs::read_to_string(&dst_log).unwrap_or_default();
    // The restored guest reads the PCR value extended before the migration, and
    // its TPM still answers (hwrng reads go through it).
    let ticks: Vec<&str> = after.lines().filter(|l| l.contains("VTPM-TICK")).collect();
    for t in &ticks {
        assert!(t.contains(&format!("={want} ")), "{t}\n{dst_log}");
        assert!(t.contains("rng=") && !t.ends_with("rng="), "{t}");
    }
    assert!(src_log.contains("GET_STATEBLOB") || !src_log.is_empty());
    assert!(
        dst_log.contains("SET_STATEBLOB: permanent state replaced"),
        "{dst_log}"
    );
    assert!(dst_log.contains("resumed the volatile state"), "{dst_log}");
}

/// OVMF's code and variable store images (Debian package `ovmf`).
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

const INIT_MEASURED: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t securityfs securityfs /sys/kernel/security
for i in 0 1 2 3 4 5 6 7; do
    echo "VTPM-SHA256-PCR$i=$(cat /sys/class/tpm/tpm0/pcr-sha256/$i 2>&1)"
    echo "VTPM-SHA1-PCR$i=$(cat /sys/class/tpm/tpm0/pcr-sha1/$i 2>&1)"
done
echo "VTPM-EVENTLOG=$(od -An -v -tx1 /sys/kernel/security/tpm0/binary_bios_measurements | tr -d ' \n')"
echo VTPM-DONE
poweroff -f
"#;

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A little-endian reader over the event log.
struct LogReader<'a>(&'a [u8]);

impl<'a> LogReader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "event log truncated");
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
}

/// A PCR bank replayed from the event log: TPM_ALG_ID and PCRs 0-7.
type Bank = (u16, Vec<Vec<u8>>);

/// Replays a crypto-agile TCG event log (PC Client Platform Firmware Profile,
/// clause 10: a TCG_PCClientPCREvent carrying the Spec ID Event, then
/// TCG_PCR_EVENT2 records) into PCRs 0-7 for each bank the log carries.
/// Returns (algorithm id, PCR values) per bank and the number of events.
fn replay(log: &[u8]) -> (Vec<Bank>, usize) {
    let mut r = LogReader(log);
    // The header event: pcrIndex, eventType (EV_NO_ACTION), a SHA-1 digest field.
    assert_eq!(r.u32(), 0, "header event PCR");
    assert_eq!(r.u32(), 3, "header event type is EV_NO_ACTION");
    r.take(20);
    let size = r.u32() as usize;
    let mut spec = LogReader(r.take(size));
    assert_eq!(spec.take(16), b"Spec ID Event03\0");
    spec.take(4 + 4); // platformClass, version minor/major, errata, uintnSize
    let count = spec.u32();
    let mut banks: Vec<(u16, usize, Vec<Vec<u8>>)> = (0..count)
        .map(|_| {
            let alg = spec.u16();
            let size = spec.u16() as usize;
            (alg, size, vec![vec![0u8; size]; 8])
        })
        .collect();
    let mut events = 0;
    while !r.0.is_empty() {
        let pcr = r.u32() as usize;
        let event_type = r.u32();
        let n = r.u32();
        let mut digests = Vec::new();
        for _ in 0..n {
            let alg = r.u16();
            let size = banks
                .iter()
                .find(|b| b.0 == alg)
                .unwrap_or_else(|| panic!("digest of algorithm {alg:#x} not in the header"))
                .1;
            digests.push((alg, r.take(size).to_vec()));
        }
        let data_size = r.u32() as usize;
        let data = r.take(data_size);
        events += 1;
        if event_type == 3 {
            // EV_NO_ACTION is not extended; a StartupLocality event sets the
            // initial value of PCR 0.
            if data.starts_with(b"StartupLocality\0") && data.len() > 16 {
                for b in &mut banks {
                    let last = b.2[0].len() - 1;
                    b.2[0][last] = data[16];
                }
            }
            continue;
        }
        if pcr > 7 {
            continue;
        }
        for (alg, digest) in digests {
            let bank = banks.iter_mut().find(|b| b.0 == alg).unwrap();
            let mut cat = bank.2[pcr].clone();
            cat.extend_from_slice(&digest);
            bank.2[pcr] = match alg {
                0x0004 => {
                    use sha1::Digest;
                    sha1::Sha1::digest(&cat).to_vec()
                }
                0x000B => {
                    use sha2::Digest;
                    sha2::Sha256::digest(&cat).to_vec()
                }
                0x000C => {
                    use sha2::Digest;
                    sha2::Sha384::digest(&cat).to_vec()
                }
                other => panic!("no replay for algorithm {other:#x}"),
            };
        }
    }
    (
        banks.into_iter().map(|(a, _, pcrs)| (a, pcrs)).collect(),
        events,
    )
}

/// OVMF measures the boot into the vTPM; the event log the guest reads replays to
/// the PCR values the vTPM reports, bank by bank.
#[test]
fn ovmf_measured_boot_log_replays_to_pcrs() {
    require!("qemu-system-x86_64", "busybox", "cpio");
    if kernel().is_none() {
        eprintln!("skipped: no kernel in /boot (linux-image-amd64)");
        return;
    }
    if !Path::new(OVMF_CODE).exists() {
        eprintln!("skipped: no {OVMF_CODE} (Debian package ovmf)");
        return;
    }
    let td = TestDir::new();
    let vars = td.path().join("OVMF_VARS.fd");
    fs::copy(OVMF_VARS, &vars).unwrap();
    let extra = [
        "-machine".to_string(),
        "q35".to_string(),
        "-m".to_string(),
        "512".to_string(),
        "-drive".to_string(),
        format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        "-drive".to_string(),
        format!("if=pflash,format=raw,file={}", vars.display()),
    ];
    let (console, log) = boot_with(td.path(), "tpm-crb", INIT_MEASURED, false, &extra, &[]);
    let ctx = || format!("{console}\n--- vtpm log ---\n{log}");
    assert!(console.contains("VTPM-DONE"), "{}", ctx());
    let (banks, events) = replay(&hex_decode(value(&console, "EVENTLOG")));
    assert!(events > 10, "only {events} events in the log: {}", ctx());
    let mut checked = 0;
    for (alg, pcrs) in banks {
        let name = match alg {
            0x0004 => "SHA1",
            0x000B => "SHA256",
            _ => continue,
        };
        for (i, want) in pcrs.iter().enumerate() {
            let want: String = want.iter().map(|b| format!("{b:02x}")).collect();
            let got = value(&console, &format!("{name}-PCR{i}")).to_lowercase();
            assert_eq!(got, want, "{name} PCR {i} does not replay: {}", ctx());
            checked += 1;
        }
    }
    assert_eq!(checked, 16, "the log carries SHA-1 and SHA-256: {}", ctx());
    // The firmware measured something into each of PCRs 0-7 it uses.
    assert_ne!(value(&console, "SHA256-PCR0"), "0".repeat(64));
    assert_ne!(value(&console, "SHA256-PCR7"), "0".repeat(64));
}
