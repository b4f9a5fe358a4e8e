//! The H-CRTM and D-RTM event sequence (Part 3, _TPM_Hash_Start, _TPM_Hash_Data
//! and _TPM_Hash_End; Part 1, clause 34, "Locality and DRTM"): indications the
//! platform sends at locality 4, outside the command stream, to measure the
//! code it starts before the TPM's other users.
//!
//! _TPM_Hash_Start opens a hash of every allocated bank, _TPM_Hash_Data feeds it
//! and _TPM_Hash_End extends the digests:
//! - before TPM2_Startup (an H-CRTM), into PCR 0, which first takes the value
//!   0…04; the next Startup keeps that value instead of resetting PCR 0;
//! - after Startup (a D-RTM), into PCR 17, after PCRs 17-22 are reset to zero;
//!   restartCount is incremented.
//!
//! SPEC-DEVIATION: the sequence does not occupy a transient-object slot.

use alloc::vec::Vec;

use crate::crypto::hash::{HashAlg, Hasher};
use crate::tpm::{Power, Tpm};

/// The hash sequence opened by _TPM_Hash_Start.
#[derive(Clone)]
pub(crate) struct DrtmSequence {
    hashers: Vec<Hasher>,
}

/// PCR 0 as an H-CRTM before Startup left it, per bank.
pub(crate) type HcrtmPcr0 = Vec<(HashAlg, Vec<u8>)>;

/// PCR 0's value after an H-CRTM with `digest`: H(0…04 || digest).
fn hcrtm_value(alg: HashAlg, digest: &[u8]) -> Vec<u8> {
    let mut start = alloc::vec![0u8; alg.digest_size()];
    if let Some(last) = start.last_mut() {
        *last = 4;
    }
    alg.digest_parts(&[&start, digest])
}

impl Tpm {
    /// _TPM_Hash_Start: a new sequence over every allocated bank; one already
    /// open is abandoned.
    pub fn hash_start(&mut self) {
        let hashers = self
            .perm
            .pcr_allocation
            .iter()
            .map(|alg| Hasher::new(*alg))
            .collect();
        self.drtm = Some(DrtmSequence { hashers });
    }

    /// _TPM_Hash_Data: adds `data` to the open sequence (ignored without one).
    pub fn hash_data(&mut self, data: &[u8]) {
        if let Some(seq) = &mut self.drtm {
            for h in &mut seq.hashers {
                h.update(data);
            }
        }
    }

    /// _TPM_Hash_End: completes the sequence and extends its digests (see the
    /// module documentation); nothing happens without an open sequence.
    pub fn hash_end(&mut self) {
        let Some(seq) = self.drtm.take() else {
            return;
        };
        let digests: Vec<(HashAlg, Vec<u8>)> = seq
            .hashers
            .into_iter()
            .map(|h| (h.alg(), h.finish()))
            .collect();
        if self.power == Power::Running {
            for pcr in 17..=22 {
                self.pcrs.reset(pcr);
            }
            for (alg, digest) in &digests {
                self.pcrs.extend(*alg, 17, digest);
            }
            self.reset.restart_count = self.reset.restart_count.saturating_add(1);
        } else {
            let pcr0: HcrtmPcr0 = digests
                .iter()
                .map(|(alg, d)| (*alg, hcrtm_value(*alg, d)))
                .collect();
            self.hcrtm = Some(pcr0);
        }
    }

    /// At Startup: PCR 0 takes the value an H-CRTM since _TPM_Init gave it.
    pub(crate) fn apply_hcrtm(&mut self) {
        let Some(pcr0) = self.hcrtm.take() else {
            return;
        };
        for bank in &mut self.pcrs.banks {
            if let (Some(v), Some((_, value))) = (
                bank.values.first_mut(),
                pcr0.iter().find(|(alg, _)| *alg == bank.alg),
            ) {
                v.clone_from(value);
            }
        }
        self.pcrs.changed(0);
    }
}

#[cfg(test)]
mod tests {
    use crate::crypto::hash::HashAlg;
    use crate::testutil::*;
    use crate::Tpm;
    use alloc::vec;
    use alloc::vec::Vec;

    fn pcr(t: &Tpm, alg: HashAlg, i: u8) -> Vec<u8> {
        t.pcrs.value(alg, i).unwrap().to_vec()
    }

    #[test]
    fn an_hcrtm_before_startup_sets_pcr0() {
        let (mut t, mut p) = powered();
        t.hash_start();
        t.hash_data(b"crtm ");
        t.hash_data(b"code");
        t.hash_end();
        assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            let mut start = vec![0u8; alg.digest_size()];
            *start.last_mut().unwrap() = 4;
            let want = alg.digest_parts(&[&start, &alg.digest(b"crtm code")]);
            assert_eq!(pcr(&t, alg, 0), want, "{alg:?}");
        }
        // The next _TPM_Init without an H-CRTM resets PCR 0 as usual.
        t.power_on(&mut p);
        assert_eq!(run(&mut t, &mut p, &startup_clear()).rc, 0);
        assert_eq!(pcr(&t, HashAlg::Sha256, 0), vec![0u8; 32]);
    }

    #[test]
    fn a_drtm_after_startup_resets_and_extends_pcr17() {
        let (mut t, _p) = started();
        assert_eq!(pcr(&t, HashAlg::Sha256, 17), vec![0xFF; 32]);
        let restarts = t.reset.restart_count;
        t.hash_start();
        t.hash_data(b"mle");
        t.hash_end();
        let want = HashAlg::Sha256.digest_parts(&[&[0u8; 32], &HashAlg::Sha256.digest(b"mle")]);
        assert_eq!(pcr(&t, HashAlg::Sha256, 17), want);
        assert_eq!(pcr(&t, HashAlg::Sha256, 18), vec![0u8; 32]);
        assert_eq!(pcr(&t, HashAlg::Sha256, 0), vec![0u8; 32]);
        assert_eq!(t.reset.restart_count, restarts + 1);
        // Data or an end without a start does nothing.
        t.hash_data(b"x");
        t.hash_end();
        assert_eq!(pcr(&t, HashAlg::Sha256, 17), want);
    }
}
