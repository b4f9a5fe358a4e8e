//! Transient object slots (Part 1, clause 30.3): loaded objects and sequence
//! objects share a fixed number of slots, as on a hardware TPM.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::hash::{HashAlg, Hasher};
use crate::objects::KeyObject;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TRANSIENT_FIRST;
use crate::types::sized::Tpm2bAuth;

/// How many transient objects (including sequences) may be loaded at once
/// (MAX_LOADED_OBJECTS; TPM_PT_HR_TRANSIENT_MIN).
pub const MAX_LOADED_OBJECTS: usize = 3;

/// What a sequence object accumulates.
#[derive(Clone)]
pub enum SequenceKind {
    /// A hash sequence (HashSequenceStart with a hash algorithm).
    Hash(Hasher),
    /// An event sequence (HashSequenceStart with TPM_ALG_NULL): one hasher per
    /// implemented hash, in [`HashAlg::ALL`] order.
    Event(Vec<Hasher>),
    /// An HMAC sequence (HMAC_Start): the inner hash, already fed with
    /// `K0 xor ipad`, and the block-sized key K0 for the outer hash.
    Hmac {
        /// The inner hash.
        inner: Hasher,
        /// K0: the key, hashed if longer than a block, zero-padded to a block.
        key: Zeroizing<Vec<u8>>,
    },
}

/// A hash or event sequence object (Part 3, clause 17; Part 1, 32.3).
#[derive(Clone)]
pub struct SequenceObject {
    /// The sequence's authValue (trailing zeros removed).
    pub auth: Tpm2bAuth,
    /// The running digest state.
    pub kind: SequenceKind,
    /// A SequenceUpdate has been received (its buffer decided `ticket_safe`).
    pub first_block: bool,
    /// The first block of data did not start with TPM_GENERATED_VALUE, so a
    /// hash-check ticket may be produced.
    pub ticket_safe: bool,
}

impl SequenceObject {
    /// A new hash sequence (`Some(alg)`) or event sequence (`None`).
    pub fn new(alg: Option<HashAlg>, auth: Tpm2bAuth) -> SequenceObject {
        let kind = match alg {
            Some(alg) => SequenceKind::Hash(Hasher::new(alg)),
            None => SequenceKind::Event(HashAlg::ALL.into_iter().map(Hasher::new).collect()),
        };
        SequenceObject {
            auth,
            kind,
            first_block: false,
            ticket_safe: false,
        }
    }

    /// A new HMAC sequence keyed with `key` (RFC 2104 / FIPS 198-1).
    pub fn new_hmac(alg: HashAlg, key: &[u8], auth: Tpm2bAuth) -> SequenceObject {
        let block = alg.block_size();
        let mut k0 = Zeroizing::new(if key.len() > block {
            alg.digest(key)
        } else {
            key.to_vec()
        });
        k0.resize(block, 0);
        SequenceObject {
            auth,
            kind: hmac_kind(alg, k0),
            first_block: false,
            ticket_safe: false,
        }
    }

    /// True for an HMAC sequence.
    pub fn is_hmac(&self) -> bool {
        matches!(self.kind, SequenceKind::Hmac { .. })
    }

    /// The HMAC of everything absorbed, for an HMAC sequence.
    pub fn hmac_result(&self) -> Option<Zeroizing<Vec<u8>>> {
        let SequenceKind::Hmac { inner, key } = &self.kind else {
            return None;
        };
        let alg = inner.alg();
        let inner = inner.clone().finish();
        let opad = Zeroizing::new(key.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
        let mut outer = Hasher::new(alg);
        outer.update(&opad);
        outer.update(&inner);
        Some(Zeroizing::new(outer.finish()))
    }

    /// True for an event sequence.
    pub fn is_event(&self) -> bool {
        matches!(self.kind, SequenceKind::Event(_))
    }

    /// Absorbs `data`. For a hash sequence the first block received decides
    /// whether a ticket may be produced (the reference implementation's rule: a
    /// first block shorter than TPM_GENERATED_VALUE, or starting with it, is not safe).
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.kind {
            SequenceKind::Hash(h) => {
                if !self.first_block {
                    self.first_block = true;
                    self.ticket_safe = crate::state::ticket::is_safe(data);
                }
                h.update(data);
            }
            SequenceKind::Event(hs) => hs.iter_mut().for_each(|h| h.update(data)),
            SequenceKind::Hmac { inner, .. } => inner.update(data),
        }
    }
}

/// The HMAC sequence state for block-sized key `k0`: the inner hash fed with
/// `K0 xor ipad`.
fn hmac_kind(alg: HashAlg, k0: Zeroizing<Vec<u8>>) -> SequenceKind {
    let ipad = Zeroizing::new(k0.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    let mut inner = Hasher::new(alg);
    inner.update(&ipad);
    SequenceKind::Hmac { inner, key: k0 }
}

/// A sequence object as a saved context carries it: the authValue, the flags and
/// the serialized state of each running hash (the RustCrypto state encoding).
#[derive(Serialize, Deserialize)]
pub struct SavedSequence {
    auth: Tpm2bAuth,
    /// The hash algorithm, or None for an event sequence.
    alg: Option<HashAlg>,
    states: Vec<Vec<u8>>,
    first_block: bool,
    ticket_safe: bool,
    /// K0 of an HMAC sequence (None for hash and event sequences).
    hmac_key: Option<Vec<u8>>,
}

impl Drop for SavedSequence {
    fn drop(&mut self) {
        self.auth.zeroize();
        self.hmac_key.zeroize();
        self.states.zeroize();
    }
}

/// The serialized state of a running hash.
fn export_hasher(h: &Hasher) -> Vec<u8> {
    match h {
        Hasher::Sha1(x) => x.serialize().to_vec(),
        Hasher::Sha256(x) => x.serialize().to_vec(),
        Hasher::Sha384(x) => x.serialize().to_vec(),
        Hasher::Sha512(x) => x.serialize().to_vec(),
    }
}

/// A running hash of `alg` from its serialized state.
fn import_hasher(alg: HashAlg, state: &[u8]) -> Option<Hasher> {
    fn load<T: SerializableState>(state: &[u8]) -> Option<T> {
        let array = <&SerializedState<T>>::try_from(state).ok()?;
        T::deserialize(array).ok()
    }
    Some(match alg {
        HashAlg::Sha1 => Hasher::Sha1(load(state)?),
        HashAlg::Sha256 => Hasher::Sha256(load(state)?),
        HashAlg::Sha384 => Hasher::Sha384(load(state)?),
        HashAlg::Sha512 => Hasher::Sha512(load(state)?),
    })
}

impl SequenceObject {
    /// The sequence in its saved-context form.
    pub fn export(&self) -> SavedSequence {
        let (alg, states, hmac_key) = match &self.kind {
            SequenceKind::Hash(h) => (Some(h.alg()), alloc::vec![export_hasher(h)], None),
            SequenceKind::Event(hs) => (None, hs.iter().map(export_hasher).collect(), None),
            SequenceKind::Hmac { inner, key } => (
                Some(inner.alg()),
                alloc::vec![export_hasher(inner)],
                Some(key.to_vec()),
            ),
        };
        SavedSequence {
            auth: self.auth.clone(),
            alg,
            states,
            first_block: self.first_block,
            ticket_safe: self.ticket_safe,
            hmac_key,
        }
    }

    /// A sequence from its saved-context form; None if the states do not decode.
    pub fn import(saved: &SavedSequence) -> Option<SequenceObject> {
        let kind = match (saved.alg, &saved.hmac_key) {
            (Some(alg), Some(key)) => {
                if key.len() != alg.block_size() {
                    return None;
                }
                SequenceKind::Hmac {
                    inner: import_hasher(alg, saved.states.first()?)?,
                    key: Zeroizing::new(key.clone()),
                }
            }
            (Some(alg), None) => SequenceKind::Hash(import_hasher(alg, saved.states.first()?)?),
            (None, _) => {
                if saved.states.len() != HashAlg::ALL.len() {
                    return None;
                }
                SequenceKind::Event(
                    HashAlg::ALL
                        .into_iter()
                        .zip(saved.states.iter())
                        .map(|(a, st)| import_hasher(a, st))
                        .collect::<Option<Vec<_>>>()?,
                )
            }
        };
        Some(SequenceObject {
            auth: saved.auth.clone(),
            kind,
            first_block: saved.first_block,
            ticket_safe: saved.ticket_safe,
        })
    }
}

impl Zeroize for SequenceObject {
    fn zeroize(&mut self) {
        self.auth.zeroize();
    }
}

impl Drop for SequenceObject {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SequenceObject {}

/// What a transient slot holds.
pub enum Object {
    /// A hash/event sequence.
    Sequence(SequenceObject),
    /// A key or data object (public area, and usually its sensitive area).
    Key(KeyObject),
}

impl Object {
    /// The sequence object, if this is one.
    pub fn as_sequence(&self) -> Option<&SequenceObject> {
        match self {
            Object::Sequence(s) => Some(s),
            Object::Key(_) => None,
        }
    }

    /// The sequence object, mutable, if this is one.
    pub fn as_sequence_mut(&mut self) -> Option<&mut SequenceObject> {
        match self {
            Object::Sequence(s) => Some(s),
            Object::Key(_) => None,
        }
    }

    /// The key object, if this is one.
    pub fn as_key(&self) -> Option<&KeyObject> {
        match self {
            Object::Key(k) => Some(k),
            Object::Sequence(_) => None,
        }
    }
}

/// The transient slot table.
#[derive(Default)]
pub struct ObjectTable {
    slots: Vec<(u32, Object)>,
    next: u32,
}

impl ObjectTable {
    /// Loads `obj` into a free slot and returns its handle; `TPM_RC_OBJECT_MEMORY`
    /// when every slot is taken.
    pub fn insert(&mut self, obj: Object) -> TpmResult<u32> {
        if self.slots.len() >= MAX_LOADED_OBJECTS {
            return Err(TpmRc::OBJECT_MEMORY);
        }
        // Handles are reused from the low end like a hardware TPM's slot numbers.
        let mut h = TRANSIENT_FIRST;
        while self.slots.iter().any(|(x, _)| *x == h) {
            h = h.wrapping_add(1);
        }
        self.next = h;
        self.slots.push((h, obj));
        Ok(h)
    }

    /// Loads `obj` at `handle` (restoring a volatile state): `TPM_RC_VALUE` when
    /// `handle` is not one of the transient slots, `TPM_RC_HANDLE` when it is
    /// taken, `TPM_RC_OBJECT_MEMORY` when every slot is taken.
    pub fn insert_at(&mut self, handle: u32, obj: Object) -> TpmResult<()> {
        let slots = u32::try_from(MAX_LOADED_OBJECTS).unwrap_or(u32::MAX);
        if handle
            .checked_sub(TRANSIENT_FIRST)
            .is_none_or(|o| o >= slots)
        {
            return Err(TpmRc::VALUE);
        }
        if self.get(handle).is_some() {
            return Err(TpmRc::HANDLE);
        }
        if !self.has_room() {
            return Err(TpmRc::OBJECT_MEMORY);
        }
        self.slots.push((handle, obj));
        Ok(())
    }

    /// The loaded objects with their handles, in load order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Object)> {
        self.slots.iter().map(|(h, o)| (*h, o))
    }

    /// The object at `handle`.
    pub fn get(&self, handle: u32) -> Option<&Object> {
        self.slots
            .iter()
            .find(|(h, _)| *h == handle)
            .map(|(_, o)| o)
    }

    /// The object at `handle`, mutable.
    pub fn get_mut(&mut self, handle: u32) -> Option<&mut Object> {
        self.slots
            .iter_mut()
            .find(|(h, _)| *h == handle)
            .map(|(_, o)| o)
    }

    /// Removes and returns the object at `handle`.
    pub fn remove(&mut self, handle: u32) -> Option<Object> {
        let i = self.slots.iter().position(|(h, _)| *h == handle)?;
        Some(self.slots.remove(i).1)
    }

    /// Handles of loaded objects, ascending.
    pub fn handles(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.slots.iter().map(|(h, _)| *h).collect();
        v.sort_unstable();
        v
    }

    /// Number of loaded objects.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Flushes everything (TPM Reset/Restart/Resume drop transient objects).
    pub fn clear(&mut self) {
        self.slots.clear();
    }

    /// Keeps only the objects for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Object) -> bool) {
        self.slots.retain(|(_, o)| keep(o));
    }

    /// True when another object can be loaded.
    pub fn has_room(&self) -> bool {
        self.slots.len() < MAX_LOADED_OBJECTS
    }

    /// The handle the next [`ObjectTable::insert`] would return, if a slot is free.
    pub fn next_handle(&self) -> Option<u32> {
        if !self.has_room() {
            return None;
        }
        let mut h = TRANSIENT_FIRST;
        while self.slots.iter().any(|(x, _)| *x == h) {
            h = h.wrapping_add(1);
        }
        Some(h)
    }
}
