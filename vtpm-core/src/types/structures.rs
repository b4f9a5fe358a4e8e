//! TPMS_/TPML_/TPMT_ structures this engine exchanges: PCR selections (10.6, 10.9.7),
//! digest lists (10.9.2-10.9.3), TPMT_HA (10.3.2), tickets (10.7), clock and time
//! information (10.11).

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::marshal::{Marshal, Reader, Unmarshal, Writer};
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::{TpmRh, TpmSt, PCR_SELECT_MAX, PCR_SELECT_MIN};
use crate::types::sized::Tpm2bDigest;

/// Number of implemented hash algorithms (HASH_COUNT).
pub const HASH_COUNT: usize = HashAlg::ALL.len();

/// TPMS_PCR_SELECTION — Part 2, 10.6.2. The bitmap is kept as sent (up to
/// PCR_SELECT_MAX octets); a bit beyond the implemented PCRs is `TPM_RC_VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmsPcrSelection {
    /// The bank.
    pub hash: HashAlg,
    /// pcrSelect, sizeofSelect octets.
    pub select: Vec<u8>,
}

impl TpmsPcrSelection {
    /// True if PCR `i` is selected.
    pub fn is_selected(&self, i: u8) -> bool {
        self.select
            .get(usize::from(i / 8))
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// The selected PCR indices, ascending.
    pub fn indices(&self) -> impl Iterator<Item = u8> + '_ {
        (0..crate::types::constants::IMPLEMENTATION_PCR).filter(|i| self.is_selected(*i))
    }
}

impl Marshal for TpmsPcrSelection {
    fn marshal(&self, w: &mut Writer) {
        self.hash.marshal(w);
        w.u8(u8::try_from(self.select.len()).unwrap_or(0));
        w.bytes(&self.select);
    }
}

impl Unmarshal for TpmsPcrSelection {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let hash = HashAlg::unmarshal(r)?;
        let size = r.u8()?;
        if !(PCR_SELECT_MIN..=PCR_SELECT_MAX).contains(&size) {
            return Err(TpmRc::VALUE);
        }
        let select = r.bytes(usize::from(size))?.to_vec();
        Ok(TpmsPcrSelection { hash, select })
    }
}

/// TPML_PCR_SELECTION — Part 2, 10.9.7: at most HASH_COUNT entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmlPcrSelection(pub Vec<TpmsPcrSelection>);

impl Marshal for TpmlPcrSelection {
    fn marshal(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.0.len()).unwrap_or(0));
        for s in &self.0 {
            s.marshal(w);
        }
    }
}

impl Unmarshal for TpmlPcrSelection {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let count = r.u32()?;
        if usize::try_from(count).map_or(true, |c| c > HASH_COUNT) {
            return Err(TpmRc::SIZE);
        }
        let mut v = Vec::new();
        for _ in 0..count {
            v.push(TpmsPcrSelection::unmarshal(r)?);
        }
        Ok(TpmlPcrSelection(v))
    }
}

/// TPML_DIGEST — Part 2, 10.9.3: at most 8 digests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmlDigest(pub Vec<Tpm2bDigest>);

impl TpmlDigest {
    /// Most digests a TPML_DIGEST may carry.
    pub const MAX: usize = 8;
}

impl Marshal for TpmlDigest {
    fn marshal(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.0.len()).unwrap_or(0));
        for d in &self.0 {
            d.marshal(w);
        }
    }
}

impl Unmarshal for TpmlDigest {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let count = r.u32()?;
        if usize::try_from(count).map_or(true, |c| c > Self::MAX) {
            return Err(TpmRc::SIZE);
        }
        let mut v = Vec::new();
        for _ in 0..count {
            v.push(Tpm2bDigest::unmarshal(r)?);
        }
        Ok(TpmlDigest(v))
    }
}

/// TPMT_HA — Part 2, 10.3.2: a digest tagged with its algorithm; the digest length
/// is implied by the algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmtHa {
    /// hashAlg
    pub alg: HashAlg,
    /// digest, exactly alg.digest_size() bytes
    pub digest: Vec<u8>,
}

impl Marshal for TpmtHa {
    fn marshal(&self, w: &mut Writer) {
        self.alg.marshal(w);
        w.bytes(&self.digest);
    }
}

impl Unmarshal for TpmtHa {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let alg = HashAlg::unmarshal(r)?;
        let digest = r.bytes(alg.digest_size())?.to_vec();
        Ok(TpmtHa { alg, digest })
    }
}

/// TPML_DIGEST_VALUES — Part 2, 10.9.6: at most HASH_COUNT tagged digests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmlDigestValues(pub Vec<TpmtHa>);

impl Marshal for TpmlDigestValues {
    fn marshal(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.0.len()).unwrap_or(0));
        for d in &self.0 {
            d.marshal(w);
        }
    }
}

impl Unmarshal for TpmlDigestValues {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let count = r.u32()?;
        if usize::try_from(count).map_or(true, |c| c > HASH_COUNT) {
            return Err(TpmRc::SIZE);
        }
        let mut v = Vec::new();
        for _ in 0..count {
            v.push(TpmtHa::unmarshal(r)?);
        }
        Ok(TpmlDigestValues(v))
    }
}

/// TPMT_TK_HASHCHECK — Part 2, 10.7.6: proof that the TPM hashed data that did not
/// start with TPM_GENERATED_VALUE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmtTkHashcheck {
    /// TPM_ST_HASHCHECK
    pub tag: TpmSt,
    /// The hierarchy whose proof keyed the HMAC (TPM_RH_NULL for a null ticket).
    pub hierarchy: u32,
    /// HMAC, or empty for a null ticket.
    pub digest: Tpm2bDigest,
}

impl TpmtTkHashcheck {
    /// The NULL ticket (Part 2, 10.7.1: tag set, hierarchy NULL, empty digest).
    pub fn null() -> Self {
        TpmtTkHashcheck {
            tag: TpmSt::HASHCHECK,
            hierarchy: TpmRh::NULL.0,
            digest: Tpm2bDigest::empty(),
        }
    }
}

impl Marshal for TpmtTkHashcheck {
    fn marshal(&self, w: &mut Writer) {
        self.tag.marshal(w);
        w.u32(self.hierarchy);
        self.digest.marshal(w);
    }
}

impl Unmarshal for TpmtTkHashcheck {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let tag = TpmSt::unmarshal(r)?;
        if tag != TpmSt::HASHCHECK {
            return Err(TpmRc::TAG);
        }
        Ok(TpmtTkHashcheck {
            tag,
            hierarchy: r.u32()?,
            digest: Tpm2bDigest::unmarshal(r)?,
        })
    }
}

/// TPMS_CLOCK_INFO — Part 2, 10.11.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmsClockInfo {
    /// Milliseconds the TPM has been powered since it was manufactured (or Clear).
    pub clock: u64,
    /// TPM Resets since the last Clear.
    pub reset_count: u32,
    /// Restarts/Resumes since the last TPM Reset.
    pub restart_count: u32,
    /// No Clock value was reported that could be repeated after a power loss.
    pub safe: bool,
}

impl Marshal for TpmsClockInfo {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.clock);
        w.u32(self.reset_count);
        w.u32(self.restart_count);
        self.safe.marshal(w);
    }
}

/// TPMS_TIME_INFO — Part 2, 10.11.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmsTimeInfo {
    /// Milliseconds since the last _TPM_Init or TPM Reset.
    pub time: u64,
    /// The clock information.
    pub clock_info: TpmsClockInfo,
}

impl Marshal for TpmsTimeInfo {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.time);
        self.clock_info.marshal(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcr_selection_round_trip_and_limits() {
        let b = [0, 0, 0, 1, 0, 0x0b, 3, 0x01, 0x00, 0x80];
        let s = TpmlPcrSelection::from_bytes(&b).unwrap();
        assert_eq!(s.0[0].indices().collect::<Vec<_>>(), [0, 23]);
        assert_eq!(s.to_bytes(), b);
        // too many selections
        assert_eq!(
            TpmlPcrSelection::from_bytes(&[0, 0, 0, 5]),
            Err(TpmRc::SIZE)
        );
        // sizeofSelect past the implemented PCRs
        assert_eq!(
            TpmlPcrSelection::from_bytes(&[0, 0, 0, 1, 0, 0x0b, 4, 0, 0, 0, 0]),
            Err(TpmRc::VALUE)
        );
        // unknown bank
        assert_eq!(
            TpmlPcrSelection::from_bytes(&[0, 0, 0, 1, 0, 0x12, 3, 0, 0, 0]),
            Err(TpmRc::HASH)
        );
        // truncated
        assert_eq!(
            TpmlPcrSelection::from_bytes(&b[..8]),
            Err(TpmRc::INSUFFICIENT)
        );
    }

    #[test]
    fn digest_values() {
        let mut b = alloc::vec![0, 0, 0, 1, 0, 4];
        b.extend_from_slice(&[7u8; 20]);
        let v = TpmlDigestValues::from_bytes(&b).unwrap();
        assert_eq!(v.0[0].digest, [7u8; 20]);
        assert_eq!(v.to_bytes(), b);
        assert_eq!(
            TpmlDigestValues::from_bytes(&b[..20]),
            Err(TpmRc::INSUFFICIENT)
        );
        assert_eq!(TpmlDigest::from_bytes(&[0, 0, 0, 9]), Err(TpmRc::SIZE));
    }
}
