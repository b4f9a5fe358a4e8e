//! The top-level error and its exit codes.

use std::process::ExitCode;

use crate::server::ServeError;
use crate::store::StoreError;

/// Exit code for runtime errors.
pub const EXIT_RUNTIME: u8 = 1;
/// Exit code for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;

/// Everything a subcommand can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A usage or configuration mistake (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The state store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Any other runtime failure.
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Store(_) | Error::Serve(_) | Error::Runtime(_) => EXIT_RUNTIME,
        })
    }
}
