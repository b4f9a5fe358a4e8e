//! `vtpm`: the host daemon and CLI of the per-guest virtual TPM.
//!
//! `vtpm run` serves the TPM engine (vtpm-core) in this process over the Microsoft
//! TPM simulator TCP protocol; `vtpm manufacture` and `vtpm state show` manage the
//! state directory. Exit codes: 0 success, 1 runtime error, 2 usage or
//! configuration error; errors print one line `vtpm: error: ...`.
#![deny(unsafe_code)]

mod cli;
mod cmd;
mod der;
mod error;
mod localca;
mod logger;
mod mssim;
mod platform;
mod server;
mod store;
mod swtpm_cli;
mod swtpm_ctrl;
mod swtpm_server;
mod vm;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, LogLevel, LOG_ENV};
use crate::error::Error;

/// The log level: `--log-level`, else `VTPM_LOG`, else info.
fn log_level(cli: &Cli) -> Result<LogLevel, Error> {
    if let Some(level) = cli.log_level {
        return Ok(level);
    }
    match std::env::var(LOG_ENV) {
        Ok(v) if v.trim().is_empty() => Ok(LogLevel::Info),
        Ok(v) => <LogLevel as clap::ValueEnum>::from_str(v.trim(), true).map_err(|_| {
            Error::Usage(format!(
                "{LOG_ENV}={v:?} is not a log level (off, error, warn, info, debug, trace)"
            ))
        }),
        Err(std::env::VarError::NotPresent) => Ok(LogLevel::Info),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Usage(format!("{LOG_ENV} is not valid UTF-8")))
        }
    }
}

/// The program name this process was started under (`swtpm` through a link).
fn invoked_as() -> Option<String> {
    let argv0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&argv0)
        .file_name()?
        .to_str()?
        .to_owned();
    Some(name)
}

/// Flushes the log and turns `result` into the exit code, printing an error as
/// one line `PROG: error: ...`.
fn finish(prog: &str, result: Result<(), Error>) -> ExitCode {
    log::logger().flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{prog}: error: {e}");
            e.exit_code()
        }
    }
}

fn main() -> ExitCode {
    // Under the names of swtpm's programs (links to this binary), their command
    // lines; their own logging options set up the logger.
    let name = invoked_as();
    let args = || -> Vec<String> { std::env::args().skip(1).collect() };
    match name.as_deref() {
        Some("swtpm_ioctl") => return finish("swtpm_ioctl", cmd::swtpm_ioctl::run(&args())),
        Some("swtpm_setup") => return finish("swtpm_setup", cmd::swtpm_setup::run(&args(), false)),
        Some("swtpm") => return finish("swtpm", cmd::swtpm::run(&args(), false)),
        _ => {}
    }
    let cli = Cli::parse();
    // The swtpm front and swtpm-setup set up their own logging (--log file=..,
    // --logfile); --log-level, when given, still wins.
    let override_logging = || {
        if let Some(level) = cli.log_level {
            logger::init(level.filter());
        }
        cli.log_level.is_some()
    };
    let result = match &cli.command {
        cli::Command::Swtpm(a) => cmd::swtpm::run(&a.args, override_logging()),
        cli::Command::SwtpmSetup(a) => cmd::swtpm_setup::run(&a.args, override_logging()),
        command => log_level(&cli).and_then(|level| {
            logger::init(level.filter());
            cmd::run(command)
        }),
    };
    finish("vtpm", result)
}
