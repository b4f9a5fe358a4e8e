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

fn main() -> ExitCode {
    if invoked_as().as_deref() == Some("swtpm_ioctl") {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return match cmd::swtpm_ioctl::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("swtpm_ioctl: error: {e}");
                e.exit_code()
            }
        };
    }
    if invoked_as().as_deref() == Some("swtpm_setup") {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = cmd::swtpm_setup::run(&args, false);
        log::logger().flush();
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("swtpm_setup: error: {e}");
                e.exit_code()
            }
        };
    }
    if invoked_as().as_deref() == Some("swtpm") {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = cmd::swtpm::run(&args, false);
        log::logger().flush();
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("swtpm: error: {e}");
                e.exit_code()
            }
        };
    }
    let cli = Cli::parse();
    if let cli::Command::SwtpmSetup(args) = &cli.command {
        // Logs go to --logfile (and stderr); --log-level, when given, wins.
        if let Some(level) = cli.log_level {
            logger::init(level.filter());
        }
        let result = cmd::swtpm_setup::run(&args.args, cli.log_level.is_some());
        log::logger().flush();
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("vtpm: error: {e}");
                e.exit_code()
            }
        };
    }
    if let cli::Command::Swtpm(args) = &cli.command {
        // The swtpm front sets up its own logging (--log file=..,level=..);
        // --log-level, when given, still wins.
        if let Some(level) = cli.log_level {
            logger::init(level.filter());
        }
        let result = cmd::swtpm::run(&args.args, cli.log_level.is_some());
        log::logger().flush();
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("vtpm: error: {e}");
                e.exit_code()
            }
        };
    }
    let result = log_level(&cli).and_then(|level| {
        logger::init(level.filter());
        cmd::run(&cli.command)
    });
    match result {
        Ok(()) => {
            log::logger().flush();
            ExitCode::SUCCESS
        }
        Err(e) => {
            log::logger().flush();
            eprintln!("vtpm: error: {e}");
            e.exit_code()
        }
    }
}
