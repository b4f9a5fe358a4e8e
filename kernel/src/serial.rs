//! The log console: a 16550 UART at COM1 (I/O port 0x3F8; QEMU `-serial ...`)
//! behind the `log` facade. Warnings and errors are also queued (a few lines,
//! without allocating) for the command loop to forward to the host as Log frames.

use core::fmt::{self, Write};

use x86_64::instructions::port::Port;

use crate::memory::SpinLock;

/// COM1 base port.
const COM1: u16 = 0x3f8;

/// Line status register bit: transmit holding register empty.
const LSR_THRE: u8 = 0x20;

/// Polls so long at most for the transmitter before dropping a byte (a UART
/// that never drains must not hang the stub).
const SPIN_LIMIT: u32 = 100_000;

/// The UART at COM1.
struct Uart;

impl Uart {
    /// Writes `value` to register `offset` of COM1.
    fn out(offset: u16, value: u8) {
        let mut p = Port::<u8>::new(COM1 + offset);
        // SAFETY: COM1 registers belong to the log console only; writing them has
        // no effect on memory.
        unsafe { p.write(value) }
    }

    /// Reads register `offset` of COM1.
    fn inb(offset: u16) -> u8 {
        let mut p = Port::<u8>::new(COM1 + offset);
        // SAFETY: as in `out`; reading the line status has no side effect.
        unsafe { p.read() }
    }

    fn put(byte: u8) {
        for _ in 0..SPIN_LIMIT {
            if Self::inb(5) & LSR_THRE != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        Self::out(0, byte);
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                Uart::put(b'\r');
            }
            Uart::put(b);
        }
        Ok(())
    }
}

/// The `log` backend writing to COM1.
struct SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            // Interrupts off so a line is not interleaved with the exception report.
            x86_64::instructions::interrupts::without_interrupts(|| {
                let _ = writeln!(Uart, "[{:5}] {}", record.level(), record.args());
                if record.level() <= log::Level::Warn {
                    // try_lock: a report from inside a forward is dropped, not deadlocked.
                    if let Some(mut q) = HOST_LOG.try_lock() {
                        q.push(record.level(), record.args());
                    }
                }
            });
        }
    }

    fn flush(&self) {}
}

static LOGGER: SerialLogger = SerialLogger;

/// Longest line kept for the host (longer lines are cut).
const HOST_LINE: usize = 200;
/// Lines kept for the host at most (more are dropped until forwarded).
const HOST_LINES: usize = 8;

/// One queued line: fixed storage, so logging never allocates.
#[derive(Clone, Copy)]
struct Line {
    level: u8,
    len: usize,
    text: [u8; HOST_LINE],
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let end = self.len + bytes.len();
            let Some(dst) = self.text.get_mut(self.len..end) else {
                return Err(fmt::Error); // full: cut at a character boundary
            };
            dst.copy_from_slice(bytes);
            self.len = end;
        }
        Ok(())
    }
}

/// Warnings and errors waiting to be forwarded to the host.
struct HostLog {
    lines: [Line; HOST_LINES],
    count: usize,
    dropped: usize,
}

impl HostLog {
    const EMPTY_LINE: Line = Line {
        level: 0,
        len: 0,
        text: [0; HOST_LINE],
    };

    fn push(&mut self, level: log::Level, args: &fmt::Arguments<'_>) {
        let Some(line) = self.lines.get_mut(self.count) else {
            self.dropped = self.dropped.saturating_add(1);
            return;
        };
        *line = Self::EMPTY_LINE;
        line.level = level as u8;
        let _ = write!(line, "{args}");
        self.count += 1;
    }
}

static HOST_LOG: lock_api::Mutex<SpinLock, HostLog> = lock_api::Mutex::const_new(
    <SpinLock as lock_api::RawMutex>::INIT,
    HostLog {
        lines: [HostLog::EMPTY_LINE; HOST_LINES],
        count: 0,
        dropped: 0,
    },
);

/// Hands each queued warning or error to `forward` as (level 1 error .. 5 trace,
/// text) and empties the queue. Call with interrupts on, outside the logger.
pub fn take_host_lines(mut forward: impl FnMut(u8, &str)) {
    let (lines, count, dropped) = {
        let Some(mut q) = HOST_LOG.try_lock() else {
            return;
        };
        let taken = (q.lines, q.count, q.dropped);
        q.count = 0;
        q.dropped = 0;
        taken
    };
    for line in lines.iter().take(count) {
        let text = line.text.get(..line.len).unwrap_or_default();
        forward(line.level, core::str::from_utf8(text).unwrap_or("?"));
    }
    if dropped > 0 {
        log::warn!("{dropped} log lines were not forwarded to the host");
    }
}

/// Programs COM1 (115200 8N1, FIFO on, no interrupts) and installs the logger.
pub fn init() {
    Uart::out(1, 0x00); // no UART interrupts
    Uart::out(3, 0x80); // DLAB on
    Uart::out(0, 0x01); // divisor 1: 115200 baud
    Uart::out(1, 0x00);
    Uart::out(3, 0x03); // 8N1, DLAB off
    Uart::out(2, 0xc7); // FIFO on, cleared
    Uart::out(4, 0x03); // DTR, RTS
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
