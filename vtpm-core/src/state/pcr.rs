//! PCR banks and the PC Client PCR attributes (PC Client Platform TPM Profile,
//! Table "PCR Attributes"; Part 1, clause 17).

use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::hash::HashAlg;
use crate::types::constants::IMPLEMENTATION_PCR;

/// Per-PCR platform attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcrAttributes {
    /// Value saved by Shutdown(STATE) and restored by Startup(STATE).
    pub state_save: bool,
    /// Localities (bit n = locality n) that may PCR_Reset it.
    pub reset_locality: u8,
    /// Localities that may extend it.
    pub extend_locality: u8,
}

/// The attributes of PCR `index` (PC Client profile). Out-of-range gives none.
pub fn attributes(index: u8) -> PcrAttributes {
    let (state_save, reset_locality, extend_locality) = match index {
        0..=15 => (true, 0x00, 0x1F),
        16 => (true, 0x1F, 0x1F),
        17 | 18 => (false, 0x10, 0x1C),
        19 => (false, 0x10, 0x0C),
        20 => (false, 0x14, 0x0E),
        21 | 22 => (false, 0x04, 0x04),
        23 => (true, 0x1F, 0x1F),
        _ => (false, 0, 0),
    };
    PcrAttributes {
        state_save,
        reset_locality,
        extend_locality,
    }
}

/// Value a PCR takes at TPM Reset/Restart: zero, except the D-RTM PCRs 17-22 which
/// start at all ones until a D-RTM event resets them.
pub fn initial_value(alg: HashAlg, index: u8) -> Vec<u8> {
    let fill = if (17..=22).contains(&index) { 0xFF } else { 0 };
    vec![fill; alg.digest_size()]
}

/// One allocated bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrBank {
    /// The bank's hash.
    pub alg: HashAlg,
    /// IMPLEMENTATION_PCR values.
    pub values: Vec<Vec<u8>>,
}

/// The allocated banks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrBanks {
    /// Banks in algorithm order.
    pub banks: Vec<PcrBank>,
    /// pcrUpdateCounter (Part 3, 22.4): incremented on every change.
    pub update_counter: u32,
}

impl PcrBanks {
    /// Fresh banks for `allocation`, every PCR at its initial value.
    pub fn new(allocation: &[HashAlg]) -> PcrBanks {
        let mut algs = allocation.to_vec();
        algs.sort();
        algs.dedup();
        PcrBanks {
            banks: algs
                .into_iter()
                .map(|alg| PcrBank {
                    alg,
                    values: (0..IMPLEMENTATION_PCR)
                        .map(|i| initial_value(alg, i))
                        .collect(),
                })
                .collect(),
            update_counter: 0,
        }
    }

    /// The bank for `alg`, if allocated.
    pub fn bank(&self, alg: HashAlg) -> Option<&PcrBank> {
        self.banks.iter().find(|b| b.alg == alg)
    }

    /// The value of PCR `index` in bank `alg`.
    pub fn value(&self, alg: HashAlg, index: u8) -> Option<&[u8]> {
        self.bank(alg)?
            .values
            .get(usize::from(index))
            .map(Vec::as_slice)
    }

    /// Extends PCR `index` of bank `alg` with `digest` (new = H(old || digest)).
    /// Returns false if the bank is not allocated or the index is out of range.
    pub fn extend(&mut self, alg: HashAlg, index: u8, digest: &[u8]) -> bool {
        let Some(bank) = self.banks.iter_mut().find(|b| b.alg == alg) else {
            return false;
        };
        let Some(v) = bank.values.get_mut(usize::from(index)) else {
            return false;
        };
        *v = alg.digest_parts(&[v, digest]);
        true
    }

    /// Sets PCR `index` in every bank to `fill` bytes.
    pub fn set_all_banks(&mut self, index: u8, fill: u8) {
        for b in &mut self.banks {
            if let Some(v) = b.values.get_mut(usize::from(index)) {
                v.iter_mut().for_each(|x| *x = fill);
            }
        }
    }

    /// Bumps pcrUpdateCounter.
    pub fn touch(&mut self) {
        self.update_counter = self.update_counter.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_is_hash_of_old_and_new() {
        let mut b = PcrBanks::new(&[HashAlg::Sha256, HashAlg::Sha1]);
        assert_eq!(b.banks[0].alg, HashAlg::Sha1);
        let d = [0xAB; 32];
        assert!(b.extend(HashAlg::Sha256, 0, &d));
        let want = HashAlg::Sha256.digest_parts(&[&[0u8; 32], &d]);
        assert_eq!(b.value(HashAlg::Sha256, 0).unwrap(), want.as_slice());
        assert!(!b.extend(HashAlg::Sha384, 0, &d));
        assert!(!b.extend(HashAlg::Sha256, 24, &d));
        assert_eq!(b.value(HashAlg::Sha1, 17).unwrap(), [0xFF; 20]);
    }
}
