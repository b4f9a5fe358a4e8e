use super::*;

const ID: InstanceId = InstanceId([7; 16]);

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn fresh_dir_is_created_private_and_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b");
    let mut sd = StateDir::open(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert!(sd.read_permanent().unwrap().is_none());
    assert_eq!(sd.last_sequence(), 0);
    assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600);
    let pid = fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
}

#[test]
fn save_and_load_with_increasing_sequence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sd = StateDir::open(tmp.path()).unwrap();
    assert_eq!(sd.write_permanent(ID, b"first").unwrap(), 1);
    assert_eq!(sd.write_permanent(ID, b"second").unwrap(), 2);
    let path = sd.permanent_path();
    assert_eq!(mode(&path), 0o600);
    assert!(!tmp.path().join(PERMANENT_TMP_FILE).exists());
    drop(sd);

    let mut sd = StateDir::open(tmp.path()).unwrap();
    let s = sd.read_permanent().unwrap().unwrap();
    assert_eq!(s.instance, ID);
    assert_eq!(s.sequence, 2);
    assert_eq!(s.body.as_slice(), b"second");
    assert_eq!(s.format_version, 1);
    assert_eq!(s.file_size, fs::metadata(&path).unwrap().len() as usize);
    // The next save continues the sequence rather than restarting it.
    assert_eq!(sd.write_permanent(ID, b"third").unwrap(), 3);
}

#[test]
fn stale_temp_file_does_not_block_a_save() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sd = StateDir::open(tmp.path()).unwrap();
    fs::write(tmp.path().join(PERMANENT_TMP_FILE), b"left by a crash").unwrap();
    sd.write_permanent(ID, b"body").unwrap();
    assert!(!tmp.path().join(PERMANENT_TMP_FILE).exists());
    assert_eq!(
        read_permanent_file(&sd.permanent_path())
            .unwrap()
            .unwrap()
            .body
            .as_slice(),
        b"body"
    );
}

#[test]
fn corrupt_file_is_refused_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sd = StateDir::open(tmp.path()).unwrap();
    sd.write_permanent(ID, b"good state").unwrap();
    let path = sd.permanent_path();
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    fs::write(&path, &bytes).unwrap();

    let err = sd.read_permanent().err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("digest"), "{msg}");
    assert_eq!(fs::read(&path).unwrap(), bytes, "file changed");

    // Truncated.
    fs::write(&path, &bytes[..10]).unwrap();
    let msg = sd.read_permanent().err().unwrap().to_string();
    assert!(msg.contains("truncated"), "{msg}");
    assert_eq!(fs::read(&path).unwrap(), &bytes[..10]);

    // Something else entirely.
    fs::write(&path, b"hello").unwrap();
    let msg = sd.read_permanent().err().unwrap().to_string();
    assert!(msg.contains("VTPMSTAT"), "{msg}");
}

#[test]
fn volatile_envelope_is_not_permanent_state() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(PERMANENT_FILE);
    let h = Header {
        kind: Kind::Volatile,
        instance: ID,
        sequence: 1,
    };
    fs::write(&path, vtpm_proto::encode(&h, b"x").unwrap()).unwrap();
    let msg = read_permanent_file(&path).err().unwrap().to_string();
    assert!(msg.contains("volatile"), "{msg}");
}

#[test]
fn second_open_is_refused_while_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let first = StateDir::open(tmp.path()).unwrap();
    let err = StateDir::open(tmp.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Locked { .. }), "{msg}");
    assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    drop(first);
    StateDir::open(tmp.path()).unwrap();
}

#[test]
fn failed_save_reports_the_file_and_keeps_old_state() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sd = StateDir::open(tmp.path()).unwrap();
    sd.write_permanent(ID, b"old").unwrap();
    // A directory where the temporary file must go makes the save fail (even for
    // root, whom permission bits would not stop).
    let blocker = tmp.path().join(PERMANENT_TMP_FILE);
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("x"), b"").unwrap();
    let err = sd.write_permanent(ID, b"new").unwrap_err();
    assert!(matches!(err, StoreError::Write { .. }));
    assert!(err.to_string().contains(PERMANENT_FILE), "{err}");
    let s = read_permanent_file(&sd.permanent_path()).unwrap().unwrap();
    assert_eq!(s.body.as_slice(), b"old");
    assert_eq!(s.sequence, 1);
    assert_eq!(sd.last_sequence(), 1);
}

#[test]
fn a_file_where_the_dir_should_be_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_dir = tmp.path().join("file");
    fs::write(&not_a_dir, b"").unwrap();
    let err = StateDir::open(&not_a_dir).unwrap_err();
    assert!(err.to_string().contains(&not_a_dir.display().to_string()));
}

#[test]
fn atomic_durability_saves_the_same_way_without_fsync() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sd = StateDir::open(tmp.path()).unwrap();
    sd.set_durability(Durability::Atomic);
    assert_eq!(sd.write_permanent(ID, b"one").unwrap(), 1);
    assert_eq!(sd.write_permanent(ID, b"two").unwrap(), 2);
    assert_eq!(mode(&sd.permanent_path()), 0o600);
    assert!(!tmp.path().join(PERMANENT_TMP_FILE).exists());
    drop(sd);
    let mut sd = StateDir::open(tmp.path()).unwrap();
    let s = sd.read_permanent().unwrap().unwrap();
    assert_eq!((s.body.as_slice(), s.sequence), (&b"two"[..], 2));
}
