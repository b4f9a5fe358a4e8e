//! A small logger: one line per record on stderr (or a log file),
//! `2026-01-02T03:04:05.678Z INFO  target: message`.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger {
    level: LevelFilter,
    /// Write here instead of stderr.
    file: Option<Mutex<File>>,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{} {:<5} {}: {}\n",
            utc_timestamp(SystemTime::now()),
            record.level(),
            record.target(),
            record.args()
        );
        // One write per line, so lines from different threads do not interleave.
        match &self.file {
            Some(f) => {
                let mut f = f.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {
        match &self.file {
            Some(f) => {
                let _ = f
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .flush();
            }
            None => {
                let _ = std::io::stderr().flush();
            }
        }
    }
}

/// Installs the logger at `level`. Called once, before anything logs.
pub fn init(level: LevelFilter) {
    init_to(level, None);
}

/// Installs the logger at `level`, writing to `file` when given. Called once.
pub fn init_to(level: LevelFilter, file: Option<File>) {
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger {
        level,
        file: file.map(Mutex::new),
    }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC) for `t`.
pub fn utc_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (the well-known
/// era-based conversion: 400-year eras of 146097 days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day of a century leap year) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(utc_timestamp(t), "2000-02-29T12:34:56.789Z");
        // 2100-03-01: 2100 is not a leap year.
        let t = UNIX_EPOCH + Duration::from_secs(4_107_542_400);
        assert_eq!(utc_timestamp(t), "2100-03-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(utc_timestamp(t), "2025-12-31T23:59:59.000Z");
    }
}
