//! TCG Part 2 types: constants, size-prefixed buffers and structures.

pub mod asymmetric;
pub mod attest;
pub mod constants;
pub mod nv;
pub mod properties;
pub mod public;
pub mod sensitive;
pub mod signature;
pub mod sized;
pub mod structures;

pub use constants::*;
pub use sized::*;
pub use structures::*;
