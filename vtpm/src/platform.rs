//! The host platform the engine runs on: entropy from the OS, a monotonic clock.

use std::time::Instant;

use vtpm_core::Platform;

/// Entropy from the OS random source (getrandom(2)), time from [`Instant`].
#[derive(Debug)]
pub struct HostPlatform {
    origin: Instant,
}

impl HostPlatform {
    /// A platform whose clock starts now.
    pub fn new() -> Self {
        HostPlatform {
            origin: Instant::now(),
        }
    }

    /// Checks that the OS entropy source works, so that a broken one is reported at
    /// start rather than in the middle of a command.
    pub fn check_entropy() -> Result<(), getrandom::Error> {
        let mut probe = [0u8; 16];
        getrandom::fill(&mut probe)
    }
}

impl Default for HostPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl Platform for HostPlatform {
    fn entropy(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::fill(buf) {
            // A TPM must never run on predictable randomness. Stopping here loses
            // nothing: every state change is already durable.
            log::error!("the OS entropy source failed ({e}); stopping");
            log::logger().flush();
            std::process::exit(1);
        }
    }

    fn monotonic_ms(&mut self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Random bytes from the OS (for ids); `None` if the source failed.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)?;
    Ok(b)
}
