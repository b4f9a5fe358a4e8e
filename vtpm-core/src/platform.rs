//! What the embedder provides: entropy and a monotonic millisecond clock. The engine
//! does no I/O of its own; given the same platform inputs it behaves the same.

/// Platform services the engine needs.
pub trait Platform {
    /// Fills `buf` with fresh entropy (from the host RNG, RDSEED, a seed file...).
    fn entropy(&mut self, buf: &mut [u8]);

    /// Milliseconds from an arbitrary origin; must never go backwards while the
    /// engine runs.
    fn monotonic_ms(&mut self) -> u64;
}

/// A deterministic platform for tests: entropy from a counter-mode SHA-256 of a
/// seed, time set by hand.
#[derive(Clone, Debug)]
pub struct TestPlatform {
    seed: u64,
    counter: u64,
    /// The current time in ms.
    pub now_ms: u64,
}

impl TestPlatform {
    /// A platform whose entropy stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        TestPlatform {
            seed,
            counter: 0,
            now_ms: 0,
        }
    }
}

impl Platform for TestPlatform {
    fn entropy(&mut self, buf: &mut [u8]) {
        use crate::crypto::hash::HashAlg;
        for chunk in buf.chunks_mut(32) {
            self.counter = self.counter.wrapping_add(1);
            let block = HashAlg::Sha256
                .digest_parts(&[&self.seed.to_be_bytes(), &self.counter.to_be_bytes()]);
            for (o, b) in chunk.iter_mut().zip(block.iter()) {
                *o = *b;
            }
        }
    }

    fn monotonic_ms(&mut self) -> u64 {
        self.now_ms
    }
}
