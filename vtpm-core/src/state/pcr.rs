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
    /// Value saved by Shutdown(STATE) and restored by Startup(STATE) (TPM_PT_PCR_SAVE).
    pub state_save: bool,
    /// Localities (bit n = locality n) that may PCR_Reset it (TPM_PT_PCR_RESET_Ln).
    pub reset_locality: u8,
    /// Localities that may extend it (TPM_PT_PCR_EXTEND_Ln).
    pub extend_locality: u8,
    /// A change does not increment pcrUpdateCounter (TPM_PT_PCR_NO_INCREMENT).
    pub no_increment: bool,
}

/// The attributes of PCR `index` (PC Client profile, as the reference
/// implementation configures it for PC Client). Out-of-range gives none.
///
/// * 0-15 (SRTM): state saved, never reset by TPM2_PCR_Reset, extended from any locality.
/// * 16 (debug) and 23 (application): reset from localities 0-3, extended from any.
/// * 17-22 (D-RTM): reset by locality 4 (the D-RTM event; TPM2_PCR_Reset itself is
///   refused at locality 4, see [`reset_allowed`]), 20-22 also from locality 2.
/// * 16, 21, 22 and 23 do not move pcrUpdateCounter.
pub fn attributes(index: u8) -> PcrAttributes {
    let (state_save, reset_locality, extend_locality, no_increment) = match index {
        0..=15 => (true, 0x00, 0x1F, false),
        16 => (false, 0x0F, 0x1F, true),
        17 | 18 => (false, 0x10, 0x1C, false),
        19 => (false, 0x10, 0x0C, false),
        20 => (false, 0x14, 0x0E, false),
        21 | 22 => (false, 0x14, 0x04, true),
        23 => (false, 0x0F, 0x1F, true),
        _ => (false, 0, 0, false),
    };
    PcrAttributes {
        state_save,
        reset_locality,
        extend_locality,
        no_increment,
    }
}

/// Whether PCR `index` belongs to the authorization group, whose authValue
/// TPM2_PCR_SetAuthValue sets. As in the reference implementation's PC Client
/// configuration there is one such group: PCRs 20-22.
pub fn in_auth_group(index: u8) -> bool {
    (20..=22).contains(&index)
}

/// Whether PCR `index` belongs to the policy group, whose authPolicy
/// TPM2_PCR_SetAuthPolicy sets: as for the authorization group, PCRs 20-22.
pub fn in_policy_group(index: u8) -> bool {
    (20..=22).contains(&index)
}

/// True when a command at `locality` may extend PCR `index`.
pub fn extend_allowed(index: u8, locality: u8) -> bool {
    locality_bit(locality) & attributes(index).extend_locality != 0
}

/// True when TPM2_PCR_Reset at `locality` may reset PCR `index`. A TPM with D-RTM
/// PCRs never allows the command at locality 4: those resets belong to the D-RTM
/// event (_TPM_Hash_Start), not to software.
pub fn reset_allowed(index: u8, locality: u8) -> bool {
    locality != 4 && locality_bit(locality) & attributes(index).reset_locality != 0
}

fn locality_bit(locality: u8) -> u8 {
    1u8.checked_shl(u32::from(locality)).unwrap_or(0)
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

    /// Extends PCR `index` of bank `alg` with `digest` (new = H(old || digest)) and
    /// counts the change. Returns false (and changes nothing) if the bank is not
    /// allocated or the index is out of range.
    pub fn extend(&mut self, alg: HashAlg, index: u8, digest: &[u8]) -> bool {
        let Some(bank) = self.banks.iter_mut().find(|b| b.alg == alg) else {
            return false;
        };
        let Some(v) = bank.values.get_mut(usize::from(index)) else {
            return false;
        };
        *v = alg.digest_parts(&[v, digest]);
        self.changed(index);
        true
    }

    /// Sets PCR `index` to zero in every allocated bank (TPM2_PCR_Reset) and counts
    /// the change.
    pub fn reset(&mut self, index: u8) {
        self.set_all_banks(index, 0);
        self.changed(index);
    }

    /// Records a change of PCR `index`: pcrUpdateCounter moves unless the PCR has
    /// the no-increment attribute (Part 3, 22.1).
    pub fn changed(&mut self, index: u8) {
        if !attributes(index).no_increment {
            self.touch();
        }
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
        // two banks extended: two changes counted
        assert_eq!(b.update_counter, 1);
        assert!(b.extend(HashAlg::Sha1, 0, &[1; 20]));
        assert_eq!(b.update_counter, 2);
    }

    #[test]
    fn pc_client_attributes() {
        let saved: Vec<u8> = (0..30).filter(|i| attributes(*i).state_save).collect();
        assert_eq!(saved, (0..16).collect::<Vec<u8>>());
        let no_inc: Vec<u8> = (0..30).filter(|i| attributes(*i).no_increment).collect();
        assert_eq!(no_inc, [16, 21, 22, 23]);
        let resettable =
            |loc: u8| -> Vec<u8> { (0..30).filter(|i| reset_allowed(*i, loc)).collect() };
        assert_eq!(resettable(0), [16, 23]);
        assert_eq!(resettable(1), [16, 23]);
        assert_eq!(resettable(2), [16, 20, 21, 22, 23]);
        assert_eq!(resettable(3), [16, 23]);
        assert!(resettable(4).is_empty());
        let extendable =
            |loc: u8| -> Vec<u8> { (0..30).filter(|i| extend_allowed(*i, loc)).collect() };
        let srtm: Vec<u8> = (0..17).collect();
        assert_eq!(extendable(0), [&srtm[..], &[23]].concat());
        assert_eq!(extendable(1), [&srtm[..], &[20, 23]].concat());
        assert_eq!(extendable(2), (0..24).collect::<Vec<u8>>());
        assert_eq!(extendable(3), [&srtm[..], &[17, 18, 19, 20, 23]].concat());
        assert_eq!(extendable(4), [&srtm[..], &[17, 18, 23]].concat());
        assert!(!extend_allowed(0, 5) && !reset_allowed(16, 9));
    }

    #[test]
    fn reset_and_counter() {
        let mut b = PcrBanks::new(&[HashAlg::Sha256]);
        b.reset(20);
        assert_eq!(b.value(HashAlg::Sha256, 20).unwrap(), [0u8; 32]);
        assert_eq!(b.update_counter, 1);
        b.reset(16);
        b.changed(23);
        assert_eq!(b.update_counter, 1);
        b.changed(0);
        assert_eq!(b.update_counter, 2);
    }
}
