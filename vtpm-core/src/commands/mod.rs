//! Command handlers, one module per TPM 2.0 Library Part 3 clause.

pub mod asymmetric;
pub mod attestation;
pub mod audit;
pub mod auth_policy;
pub mod capability;
pub mod clock;
pub mod context;
pub mod credential;
pub mod duplication;
pub mod hash;
pub mod hierarchy;
pub mod hmac;
pub mod nv;
pub mod nv_certify;
pub mod object;
pub mod pcr;
pub mod policy;
pub mod policy_assert;
pub mod primary;
pub mod random;
pub mod session;
pub mod signature;
pub mod startup;
pub mod symmetric;
pub mod testing;
