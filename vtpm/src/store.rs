//! The state store: one directory per vTPM instance.
//!
//! ```text
//! DIR/                  mode 0700
//!   permanent.state     mode 0600, the engine's permanent state in a vtpm-proto envelope
//!   permanent.state.tmp only while a save is in progress
//!   vtpm.lock           mode 0600, held (flock) by the process that owns DIR
//! ```
//!
//! Saves are atomic: the new envelope goes to a temporary file in the same
//! directory, which is written, fsynced, renamed over `permanent.state`, and the
//! directory is fsynced. A crash at any point leaves either the old or the new
//! state, whole. Each save carries a sequence number one above the previous one.
//!
//! [`Durability::Atomic`] skips the two fsyncs: a killed process still leaves the
//! old or the new state whole (the rename is atomic), but a host crash may lose
//! the last few seconds of saves, as with swtpm, which does not fsync either.
//!
//! A state file that does not decode is never replaced or repaired here: the caller
//! gets [`StoreError::Corrupt`] naming the file and the reason.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use vtpm_proto::{EnvelopeError, Header, InstanceId, Kind};
use zeroize::Zeroizing;

/// File name of the permanent state inside the state directory.
pub const PERMANENT_FILE: &str = "permanent.state";
/// File name of the temporary file a save writes first.
pub const PERMANENT_TMP_FILE: &str = "permanent.state.tmp";
/// File name of the lock file.
pub const LOCK_FILE: &str = "vtpm.lock";
/// File name of the state key of the vm backend (32 bytes, mode 0600).
pub const KEY_FILE: &str = "state.key";

/// Errors of the state store. Every message names the file or directory involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state directory could not be created or opened.
    #[error("cannot create state directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another process holds the directory's lock.
    #[error("state directory {dir} is in use by another vtpm process ({holder}lock file {lock})")]
    Locked {
        /// The state directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// "pid N, " when the holder wrote its pid.
        holder: String,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A state file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A state file exists but cannot be used; it is left as it is.
    #[error("state file {path} is unusable: {reason}; the file was left untouched")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A save failed; the previous state file is intact.
    #[error("cannot save state to {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The state could not be wrapped in an envelope.
    #[error("cannot encode state for {path}: {source}")]
    Encode {
        /// The destination file.
        path: PathBuf,
        /// The envelope error.
        source: EnvelopeError,
    },
}

/// A permanent state read from disk and verified.
pub struct StoredState {
    /// The instance the state belongs to.
    pub instance: InstanceId,
    /// The sequence number of the save that wrote it.
    pub sequence: u64,
    /// The engine's serialized permanent state (secret).
    pub body: Zeroizing<Vec<u8>>,
    /// Envelope format version.
    pub format_version: u16,
    /// Size of the file in bytes.
    pub file_size: usize,
}

/// The path of the permanent state file in `dir`.
pub fn permanent_path(dir: &Path) -> PathBuf {
    dir.join(PERMANENT_FILE)
}

/// Reads and verifies `path`. `Ok(None)` when the file does not exist.
pub fn read_permanent_file(path: &Path) -> Result<Option<StoredState>, StoreError> {
    let mut raw = Zeroizing::new(Vec::new());
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut raw).map_err(|source| StoreError::Read {
            path: path.to_owned(),
            source,
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let env = vtpm_proto::decode(&raw).map_err(|e| corrupt(e.to_string()))?;
    if env.header.kind != Kind::Permanent {
        return Err(corrupt(format!(
            "it holds {} state, not permanent state",
            env.header.kind
        )));
    }
    Ok(Some(StoredState {
        instance: env.header.instance,
        sequence: env.header.sequence,
        body: Zeroizing::new(env.body.to_vec()),
        format_version: env.version,
        file_size: raw.len(),
    }))
}

/// An opened, locked state directory. The lock is released when this is dropped
/// (or the process ends, however it ends).
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    _lock: File,
    last_sequence: u64,
    durability: Durability,
}

/// When a save counts as done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// On stable storage (file and directory fsynced) before the TPM answers, as a
    /// hardware TPM commits NV before it responds. Survives a host crash.
    #[default]
    Fsync,
    /// Renamed into place atomically, left to the kernel to write back. Survives
    /// a killed process, not necessarily a host crash.
    Atomic,
}

impl StateDir {
    /// Creates `dir` (mode 0700) if needed and takes its lock.
    pub fn open(dir: &Path) -> Result<StateDir, StoreError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        match fs::metadata(dir) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => log::warn!(
                "state directory {} is accessible to other users (mode {:o}); 0700 is recommended",
                dir.display(),
                m.permissions().mode() & 0o777
            ),
            Ok(_) => {}
            Err(source) => {
                return Err(StoreError::CreateDir {
                    path: dir.to_owned(),
                    source,
                })
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|source| StoreError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                // Best effort: the holder's pid, for the message only.
                let _ = lock.read_to_string(&mut pid);
                let pid = pid.trim();
                let holder = if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
                    format!("pid {pid}, ")
                } else {
                    String::new()
                };
                return Err(StoreError::Locked {
                    dir: dir.to_owned(),
                    lock: lock_path,
                    holder,
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Lock {
                    path: lock_path,
                    source,
                })
            }
        }
        // Record our pid for the next process's error message.
        let pid_result = lock
            .set_len(0)
            .and_then(|()| writeln!(lock, "{}", std::process::id()));
        if let Err(e) = pid_result {
            log::debug!("cannot write pid to {}: {e}", lock_path.display());
        }
        Ok(StateDir {
            dir: dir.to_owned(),
            _lock: lock,
            last_sequence: 0,
            durability: Durability::default(),
        })
    }

    /// When later saves count as done (default: [`Durability::Fsync`]).
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// The permanent state file.
    pub fn permanent_path(&self) -> PathBuf {
        permanent_path(&self.dir)
    }

    /// The sequence number of the last save read or written.
    #[cfg(test)]
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Reads and verifies the permanent state; `Ok(None)` when there is none. The
    /// next save continues its sequence.
    pub fn read_permanent(&mut self) -> Result<Option<StoredState>, StoreError> {
        let state = read_permanent_file(&self.permanent_path())?;
        if let Some(s) = &state {
            self.last_sequence = self.last_sequence.max(s.sequence);
        }
        Ok(state)
    }

    /// Makes `body` the durable permanent state of `instance`, atomically. Returns
    /// the sequence number written.
    pub fn write_permanent(
        &mut self,
        instance: InstanceId,
        body: &[u8],
    ) -> Result<u64, StoreError> {
        let path = self.permanent_path();
        let sequence = self
            .last_sequence
            .checked_add(1)
            .ok_or_else(|| StoreError::Write {
                path: path.clone(),
                source: io::Error::other("sequence number exhausted"),
            })?;
        let header = Header {
            kind: Kind::Permanent,
            instance,
            sequence,
        };
        let blob = Zeroizing::new(vtpm_proto::encode(&header, body).map_err(|source| {
            StoreError::Encode {
                path: path.clone(),
                source,
            }
        })?);
        let tmp = self.dir.join(PERMANENT_TMP_FILE);
        let fsync = self.durability == Durability::Fsync;
        let result = write_atomically(&self.dir, &tmp, &path, &blob, fsync);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|source| StoreError::Write {
            path: path.clone(),
            source,
        })?;
        self.last_sequence = sequence;
        log::debug!("saved {} (sequence {sequence})", path.display());
        Ok(sequence)
    }
}

impl StateDir {
    /// The state key of the vm backend: read from `state.key`, or created (32
    /// random bytes, mode 0600) when the file does not exist.
    pub fn load_or_create_key(&self) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let path = self.dir.join(KEY_FILE);
        let mut key = Zeroizing::new([0u8; 32]);
        match File::open(&path) {
            Ok(mut f) => {
                let mut raw = Zeroizing::new(Vec::new());
                f.read_to_end(&mut raw).map_err(|source| StoreError::Read {
                    path: path.clone(),
                    source,
                })?;
                if raw.len() != key.len() {
                    return Err(StoreError::Corrupt {
                        path,
                        reason: format!("a state key is 32 bytes, the file has {}", raw.len()),
                    });
                }
                key.copy_from_slice(&raw);
                if let Ok(m) = f.metadata() {
                    if m.permissions().mode() & 0o077 != 0 {
                        log::warn!(
                            "{} is accessible to other users (mode {:o}); 0600 is required for a key",
                            path.display(),
                            m.permissions().mode() & 0o777
                        );
                    }
                }
                Ok(key)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                getrandom::fill(key.as_mut_slice()).map_err(|e| StoreError::Write {
                    path: path.clone(),
                    source: io::Error::other(format!("the OS entropy source failed: {e}")),
                })?;
                let tmp = self.dir.join("state.key.tmp");
                let result = write_atomically(&self.dir, &tmp, &path, key.as_slice(), true);
                if result.is_err() {
                    let _ = fs::remove_file(&tmp);
                }
                result.map_err(|source| StoreError::Write {
                    path: path.clone(),
                    source,
                })?;
                log::info!("created a new state key in {}", path.display());
                Ok(key)
            }
            Err(source) => Err(StoreError::Read { path, source }),
        }
    }

    /// Reads the sealed (protection 1) permanent state as it is on disk, with
    /// its header (structure checked, not authenticated: the host has no part in
    /// that). `Ok(None)` when there is none.
    pub fn read_sealed(&mut self) -> Result<Option<(Vec<u8>, Header)>, StoreError> {
        let path = self.permanent_path();
        let raw = match fs::read(&path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Read { path, source }),
        };
        let header = match vtpm_proto::decode_sealed(&raw) {
            Ok(env) => env.header,
            Err(e) => {
                return Err(StoreError::Corrupt {
                    path,
                    reason: format!("not sealed state for the vm backend: {e}"),
                })
            }
        };
        if header.kind != Kind::Permanent {
            return Err(StoreError::Corrupt {
                path,
                reason: format!("it holds {} state, not permanent state", header.kind),
            });
        }
        self.last_sequence = self.last_sequence.max(header.sequence);
        Ok(Some((raw, header)))
    }

    /// Makes the sealed blob `blob` (sequence `sequence`, above every earlier
    /// one) the durable permanent state, atomically.
    pub fn write_sealed(&mut self, blob: &[u8], sequence: u64) -> Result<(), StoreError> {
        let path = self.permanent_path();
        if sequence <= self.last_sequence {
            return Err(StoreError::Write {
                path,
                source: io::Error::other(format!(
                    "sequence {sequence} is not above the last saved {}",
                    self.last_sequence
                )),
            });
        }
        let tmp = self.dir.join(PERMANENT_TMP_FILE);
        let fsync = self.durability == Durability::Fsync;
        let result = write_atomically(&self.dir, &tmp, &path, blob, fsync);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|source| StoreError::Write {
            path: path.clone(),
            source,
        })?;
        self.last_sequence = sequence;
        log::debug!("saved sealed {} (sequence {sequence})", path.display());
        Ok(())
    }

    /// The sequence number of the last save read or written.
    pub fn newest_sequence(&self) -> u64 {
        self.last_sequence
    }
}

/// temp file + write + fsync + rename + fsync(dir); without `fsync`, the same
/// without the two fsyncs.
fn write_atomically(
    dir: &Path,
    tmp: &Path,
    dest: &Path,
    data: &[u8],
    fsync: bool,
) -> io::Result<()> {
    // A temporary left by a crash is stale; create_new below then refuses to follow
    // anything that appears at that path meanwhile (symlinks included).
    match fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    f.write_all(data)?;
    if fsync {
        f.sync_all()?;
    }
    drop(f);
    fs::rename(tmp, dest)?;
    if fsync {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
