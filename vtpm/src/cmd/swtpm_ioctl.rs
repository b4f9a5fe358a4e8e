//! `swtpm_ioctl` (the `vtpm` binary under that name, or `vtpm swtpm-ioctl`): a
//! client of the swtpm control protocol, with swtpm_ioctl's options and output,
//! for scripts and for libvirt.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::error::Error;
use crate::swtpm_ctrl::{code, res};

/// Usage text.
pub const USAGE: &str = "\
Usage: swtpm_ioctl [OPTION] --unix PATH | --tcp HOST:PORT

  -c                    print the capabilities
  -i                    CMD_INIT: reset the TPM (_TPM_Init)
  -s                    CMD_SHUTDOWN (the TPM process exits)
  -e                    print the tpmEstablished flag
  -r LOC                reset the tpmEstablished flag from locality LOC
  -l LOC                set the locality of following commands
  -C                    cancel the TPM command in progress
  -v                    store the volatile state
  -g                    print the configuration flags
  -b SIZE               set (or with 0 query) the buffer size
  -h DATA               hash DATA in an H-CRTM/D-RTM sequence (HASH_START,
                        HASH_DATA, HASH_END); DATA '-' reads standard input
  --stop                stop the TPM (it answers no commands until -i)
  --info FLAGS          print information (1 spec, 2 attributes) as JSON
  --save TYPE FILE      save a state blob (permanent, volatile, savestate)
  --load TYPE FILE      load a state blob (the TPM must be stopped)
  --lock-storage N      lock the storage, retrying N times
  --unix PATH           control channel on a unix socket
  --tcp HOST:PORT       control channel on TCP
  --version, --help
";

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn stream(&mut self) -> &mut dyn ReadWrite {
        match self {
            Conn::Unix(s) => s,
            Conn::Tcp(s) => s,
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn transact(conn: &mut Conn, msg: &[u8], reply_len: usize) -> Result<Vec<u8>, Error> {
    let s = conn.stream();
    s.write_all(msg)
        .map_err(|e| Error::Runtime(format!("cannot send the control command: {e}")))?;
    let mut reply = vec![0u8; reply_len];
    // The result comes first; an error reply is only those 4 bytes.
    s.read_exact(reply.get_mut(..4).unwrap_or(&mut []))
        .map_err(|e| Error::Runtime(format!("no answer on the control channel: {e}")))?;
    let result = u32::from_be_bytes([reply[0], reply[1], reply[2], reply[3]]);
    if result != res::SUCCESS {
        return Err(Error::Runtime(format!(
            "the TPM answered error 0x{result:x} ({})",
            match result {
                res::BAD_PARAMETER => "bad parameter",
                res::BAD_ORDINAL => "not allowed now, or unknown command",
                res::BAD_LOCALITY => "bad locality",
                res::FAIL => "failed",
                res::IOERROR => "I/O error",
                res::SIZE => "too large",
                _ => "unknown",
            }
        )));
    }
    if reply_len > 4 {
        s.read_exact(reply.get_mut(4..).unwrap_or(&mut []))
            .map_err(|e| Error::Runtime(format!("short answer on the control channel: {e}")))?;
    }
    Ok(reply)
}

fn msg(cmd: u32, body: &[&[u8]]) -> Vec<u8> {
    let mut v = cmd.to_be_bytes().to_vec();
    for b in body {
        v.extend_from_slice(b);
    }
    v
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|x| <[u8; 4]>::try_from(x).ok())
        .map_or(0, u32::from_be_bytes)
}

fn blob_type(name: &str) -> Result<u32, Error> {
    match name {
        "permanent" => Ok(1),
        "volatile" => Ok(2),
        "savestate" => Ok(3),
        other => Err(Error::Usage(format!(
            "{other:?} is not a blob type (permanent, volatile, savestate)"
        ))),
    }
}

fn number(opt: &str, v: Option<&String>) -> Result<u32, Error> {
    let v = v.ok_or_else(|| Error::Usage(format!("{opt} needs a value")))?;
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.map_err(|_| Error::Usage(format!("{opt}: {v:?} is not a number")))
}

/// Runs `swtpm_ioctl` with `args` (after the program name).
pub fn run(args: &[String]) -> Result<(), Error> {
    let mut action: Option<(String, Vec<String>)> = None;
    let mut target: Option<Conn> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "--version" => {
                println!("swtpm_ioctl (vtpm) {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            "--unix" => {
                let p = it
                    .next()
                    .ok_or_else(|| Error::Usage("--unix needs a path".into()))?;
                let s = UnixStream::connect(p)
                    .map_err(|e| Error::Runtime(format!("cannot connect to {p}: {e}")))?;
                target = Some(Conn::Unix(s));
            }
            "--tcp" => {
                let p = it
                    .next()
                    .ok_or_else(|| Error::Usage("--tcp needs HOST:PORT".into()))?;
                let s = TcpStream::connect(p.as_str())
                    .map_err(|e| Error::Runtime(format!("cannot connect to {p}: {e}")))?;
                target = Some(Conn::Tcp(s));
            }
            "-c" | "-i" | "-s" | "-e" | "-C" | "-v" | "-g" | "--stop" => {
                action = Some((a.clone(), Vec::new()));
            }
            "-r" | "-l" | "-b" | "-h" | "--info" | "--lock-storage" => {
                let v = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("{a} needs a value")))?;
                action = Some((a.clone(), vec![v.clone()]));
            }
            "--save" | "--load" => {
                let t = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("{a} needs TYPE FILE")))?;
                let f = it
                    .next()
                    .ok_or_else(|| Error::Usage(format!("{a} needs TYPE FILE")))?;
                action = Some((a.clone(), vec![t.clone(), f.clone()]));
            }
            other => {
                return Err(Error::Usage(format!(
                    "unknown option {other:?} (see --help)"
                )))
            }
        }
    }
    let mut conn =
        target.ok_or_else(|| Error::Usage("give --unix PATH or --tcp HOST:PORT".into()))?;
    if let Conn::Tcp(s) = &conn {
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    }
    let (act, vals) = action.ok_or_else(|| Error::Usage("no command given (see --help)".into()))?;
    let val = vals.first();
    match act.as_str() {
        "-c" => {
            let r = transact(&mut conn, &msg(code::GET_CAPABILITY, &[]), 8)?;
            println!("ptm capability is 0x{:x}", u32_at(&r, 4));
        }
        "-i" => {
            transact(&mut conn, &msg(code::INIT, &[&0u32.to_be_bytes()]), 4)?;
        }
        "-s" => {
            transact(&mut conn, &msg(code::SHUTDOWN, &[]), 4)?;
        }
        "-e" => {
            let r = transact(&mut conn, &msg(code::GET_TPMESTABLISHED, &[]), 8)?;
            println!("tpmEstablished is {}", r.get(4).copied().unwrap_or(0));
        }
        "-r" | "-l" => {
            let loc = u8::try_from(number(&act, val)?)
                .map_err(|_| Error::Usage(format!("{act}: locality out of range")))?;
            let cmd = if act == "-r" {
                code::RESET_TPMESTABLISHED
            } else {
                code::SET_LOCALITY
            };
            transact(&mut conn, &msg(cmd, &[&[loc, 0, 0, 0]]), 4)?;
        }
        "-C" => {
            transact(&mut conn, &msg(code::CANCEL_TPM_CMD, &[]), 4)?;
        }
        "-h" => {
            let data = match val.map(String::as_str) {
                Some("-") => {
                    let mut d = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut d)
                        .map_err(|e| Error::Runtime(format!("cannot read standard input: {e}")))?;
                    d
                }
                Some(v) => v.as_bytes().to_vec(),
                None => Vec::new(),
            };
            transact(&mut conn, &msg(code::HASH_START, &[]), 4)?;
            // swtpm's HASH_DATA carries at most 4096 bytes.
            for chunk in data.chunks(4096) {
                let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
                transact(
                    &mut conn,
                    &msg(code::HASH_DATA, &[&len.to_be_bytes(), chunk]),
                    4,
                )?;
            }
            transact(&mut conn, &msg(code::HASH_END, &[]), 4)?;
        }
        "-v" => {
            transact(&mut conn, &msg(code::STORE_VOLATILE, &[]), 4)?;
        }
        "-g" => {
            let r = transact(&mut conn, &msg(code::GET_CONFIG, &[]), 8)?;
            println!("ptm configuration flags: 0x{:x}", u32_at(&r, 4));
        }
        "--stop" => {
            transact(&mut conn, &msg(code::STOP, &[]), 4)?;
        }
        "-b" => {
            let size = number("-b", val)?;
            let r = transact(
                &mut conn,
                &msg(code::SET_BUFFERSIZE, &[&size.to_be_bytes()]),
                16,
            )?;
            println!(
                "TPM buffersize: {}\nminimum size  : {}\nmaximum size  : {}",
                u32_at(&r, 4),
                u32_at(&r, 8),
                u32_at(&r, 12)
            );
        }
        "--info" => {
            let flags = u64::from(number("--info", val)?);
            let mut text = Vec::new();
            loop {
                let offset = u32::try_from(text.len()).unwrap_or(u32::MAX);
                let m = msg(
                    code::GET_INFO,
                    &[&flags.to_be_bytes(), &offset.to_be_bytes(), &[0; 4]],
                );
                let head = transact(&mut conn, &m, 12)?;
                let (total, n) = (u32_at(&head, 4) as usize, u32_at(&head, 8) as usize);
                let mut chunk = vec![0u8; n];
                conn.stream()
                    .read_exact(&mut chunk)
                    .map_err(|e| Error::Runtime(format!("short GET_INFO answer: {e}")))?;
                text.extend_from_slice(&chunk);
                if n == 0 || text.len() >= total {
                    break;
                }
            }
            let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
            println!(
                "{}",
                String::from_utf8_lossy(text.get(..end).unwrap_or(&[]))
            );
        }
        "--save" => {
            let t = blob_type(&vals[0])?;
            let m = msg(
                code::GET_STATEBLOB,
                &[&1u32.to_be_bytes(), &t.to_be_bytes(), &0u32.to_be_bytes()],
            );
            let head = transact(&mut conn, &m, 16)?;
            let n = u32_at(&head, 12) as usize;
            let mut blob = vec![0u8; n];
            conn.stream()
                .read_exact(&mut blob)
                .map_err(|e| Error::Runtime(format!("short state blob: {e}")))?;
            std::fs::write(&vals[1], &blob)
                .map_err(|e| Error::Runtime(format!("cannot write {}: {e}", vals[1])))?;
        }
        "--load" => {
            let t = blob_type(&vals[0])?;
            let blob = std::fs::read(&vals[1])
                .map_err(|e| Error::Runtime(format!("cannot read {}: {e}", vals[1])))?;
            let n = u32::try_from(blob.len())
                .map_err(|_| Error::Usage(format!("{} is too large", vals[1])))?;
            let m = msg(
                code::SET_STATEBLOB,
                &[
                    &0u32.to_be_bytes(),
                    &t.to_be_bytes(),
                    &n.to_be_bytes(),
                    &blob,
                ],
            );
            transact(&mut conn, &m, 4)?;
        }
        "--lock-storage" => {
            let retries = number("--lock-storage", val)?;
            transact(
                &mut conn,
                &msg(code::LOCK_STORAGE, &[&retries.to_be_bytes()]),
                4,
            )?;
        }
        _ => return Err(Error::Usage(format!("unknown command {act}"))),
    }
    Ok(())
}
