//! Tickets (Part 1, clause 32.4.5; Part 2, 10.7): HMACs keyed with a hierarchy's
//! proof value, by which the TPM later recognizes data it produced or checked
//! itself.
//!
//! Every ticket is `HMAC_contextAlg(proof, tag || fields...)`, where contextAlg is
//! [`TICKET_HASH`] and proof is the secret of the hierarchy named in the ticket
//! (shProof, ehProof, phProof, or the NULL hierarchy's proof, which changes at
//! every TPM Reset). Only this TPM ever checks its tickets, so the layout is an
//! internal matter; it follows the reference implementation.

use alloc::vec::Vec;

use crate::crypto::hash::HashAlg;
use crate::marshal::Marshal;
use crate::tpm::Tpm;
use crate::types::constants::{TpmRh, TpmSt, TPM_GENERATED_VALUE};
use crate::types::sized::Tpm2bDigest;
use crate::types::structures::TpmtTkHashcheck;

/// The hash that keys ticket HMACs (CONTEXT_INTEGRITY_HASH_ALG: the strongest
/// implemented hash).
pub const TICKET_HASH: HashAlg = HashAlg::Sha512;

/// The proof value of `hierarchy`: shProof for TPM_RH_OWNER, ehProof for
/// TPM_RH_ENDORSEMENT, phProof for TPM_RH_PLATFORM, the NULL hierarchy's proof for
/// anything else.
pub fn proof(tpm: &Tpm, hierarchy: u32) -> &[u8] {
    match TpmRh(hierarchy) {
        TpmRh::OWNER => &tpm.perm.sh_proof.0,
        TpmRh::ENDORSEMENT => &tpm.perm.eh_proof.0,
        TpmRh::PLATFORM => &tpm.perm.ph_proof.0,
        _ => &tpm.reset.null_proof.0,
    }
}

/// `HMAC_contextAlg(proof(hierarchy), tag || parts...)`: the digest of any ticket.
pub fn compute(tpm: &Tpm, hierarchy: u32, tag: TpmSt, parts: &[&[u8]]) -> Vec<u8> {
    let tag = tag.0.to_be_bytes();
    let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len().saturating_add(1));
    all.push(&tag);
    all.extend_from_slice(parts);
    TICKET_HASH.hmac_parts(proof(tpm, hierarchy), &all)
}

/// The most significant bit of a policy timeout as this TPM returns it: SET when
/// the ticket also expires at the next TPM Reset (the authorization was not bound
/// to a session's nonceTPM). It is not part of the timeout proper.
pub const EXPIRES_ON_RESET: u64 = 1 << 63;

/// The digest of a TPMT_TK_AUTH (Part 2, 10.7.5) for `tag` (TPM_ST_AUTH_SIGNED or
/// TPM_ST_AUTH_SECRET): `HMAC(proof, tag || cpHash || policyRef || authName ||
/// timeout [|| timeEpoch [|| totalResetCount]])`, the layout of the reference
/// implementation. A non-zero timeout is a TPM Time value, so the TPM's time epoch
/// (new at every _TPM_Init) is bound with it; with `expires_on_reset` the count of
/// TPM Resets is bound too. A ticket of the NULL hierarchy is keyed with the NULL
/// proof, which a TPM Reset replaces.
#[allow(clippy::too_many_arguments)]
pub fn auth(
    tpm: &Tpm,
    tag: TpmSt,
    hierarchy: u32,
    timeout: u64,
    expires_on_reset: bool,
    cp_hash: &[u8],
    policy_ref: &[u8],
    auth_name: &[u8],
) -> Vec<u8> {
    let timeout_b = timeout.to_be_bytes();
    let epoch = tpm.time_epoch.to_be_bytes();
    let resets = u64::from(tpm.perm.total_reset_count).to_be_bytes();
    let mut parts: Vec<&[u8]> = alloc::vec![cp_hash, policy_ref, auth_name, &timeout_b];
    if timeout != 0 {
        parts.push(&epoch);
        if expires_on_reset {
            parts.push(&resets);
        }
    }
    compute(tpm, hierarchy, tag, &parts)
}

/// False when `data` could be mistaken for a TPM-generated structure: it starts with
/// TPM_GENERATED_VALUE, or it is too short to tell (the reference implementation's
/// TicketIsSafe).
pub fn is_safe(data: &[u8]) -> bool {
    data.get(..4)
        .is_some_and(|head| head != TPM_GENERATED_VALUE.to_be_bytes())
}

/// The TPMT_TK_HASHCHECK for `digest` computed with `alg` (Part 2, 10.7.6):
/// `HMAC(proof, TPM_ST_HASHCHECK || hashAlg || digest)` for a hierarchy other than
/// TPM_RH_NULL, the NULL ticket for TPM_RH_NULL.
pub fn hashcheck(tpm: &Tpm, hierarchy: u32, alg: HashAlg, digest: &[u8]) -> TpmtTkHashcheck {
    if hierarchy == TpmRh::NULL.0 {
        return TpmtTkHashcheck::null();
    }
    let alg_id = alg.to_bytes();
    let hmac = compute(tpm, hierarchy, TpmSt::HASHCHECK, &[&alg_id, digest]);
    TpmtTkHashcheck {
        tag: TpmSt::HASHCHECK,
        hierarchy,
        // An HMAC is never longer than the largest digest.
        digest: Tpm2bDigest::from_vec(hmac).unwrap_or_default(),
    }
}

/// True when `ticket` is the hash-check ticket this TPM issues for `digest`
/// computed with `alg` (compared in constant time). A NULL ticket never verifies.
pub fn verify_hashcheck(tpm: &Tpm, ticket: &TpmtTkHashcheck, alg: HashAlg, digest: &[u8]) -> bool {
    if ticket.tag != TpmSt::HASHCHECK || ticket.hierarchy == TpmRh::NULL.0 {
        return false;
    }
    let want = hashcheck(tpm, ticket.hierarchy, alg, digest);
    crate::crypto::ct_eq(want.digest.as_slice(), ticket.digest.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::started;

    #[test]
    fn safety_rule() {
        assert!(is_safe(b"abcd"));
        assert!(is_safe(b"\xffTCHx"));
        assert!(!is_safe(b"\xffTCG"));
        assert!(!is_safe(b"\xffTCGmore"));
        // too short to tell
        assert!(!is_safe(b"abc"));
        assert!(!is_safe(b""));
    }

    #[test]
    fn hashcheck_is_keyed_by_hierarchy_and_algorithm() {
        let (t, _) = started();
        let d = [7u8; 32];
        let owner = hashcheck(&t, TpmRh::OWNER.0, HashAlg::Sha256, &d);
        assert_eq!(owner.tag, TpmSt::HASHCHECK);
        assert_eq!(owner.hierarchy, TpmRh::OWNER.0);
        // independent computation: HMAC-SHA512(shProof, 0x8024 || 0x000B || digest)
        let mut msg = alloc::vec![0x80, 0x24, 0x00, 0x0B];
        msg.extend_from_slice(&d);
        let want = HashAlg::Sha512.hmac_parts(&t.perm.sh_proof.0, &[&msg]);
        assert_eq!(owner.digest.as_slice(), want.as_slice());
        assert!(verify_hashcheck(&t, &owner, HashAlg::Sha256, &d));
        assert!(!verify_hashcheck(&t, &owner, HashAlg::Sha1, &d));
        assert!(!verify_hashcheck(&t, &owner, HashAlg::Sha256, &[8u8; 32]));
        let endorsement = hashcheck(&t, TpmRh::ENDORSEMENT.0, HashAlg::Sha256, &d);
        assert_ne!(endorsement.digest, owner.digest);
        let null = hashcheck(&t, TpmRh::NULL.0, HashAlg::Sha256, &d);
        assert_eq!(null, TpmtTkHashcheck::null());
        assert!(!verify_hashcheck(&t, &null, HashAlg::Sha256, &d));
    }
}
