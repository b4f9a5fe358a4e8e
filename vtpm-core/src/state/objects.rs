//! Transient object slots (Part 1, clause 30.3): loaded objects and sequence
//! objects share a fixed number of slots, as on a hardware TPM.

use alloc::vec::Vec;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::hash::Hasher;
use crate::rc::{TpmRc, TpmResult};
use crate::types::constants::TRANSIENT_FIRST;
use crate::types::sized::Tpm2bAuth;

/// How many transient objects (including sequences) may be loaded at once
/// (MAX_LOADED_OBJECTS; TPM_PT_HR_TRANSIENT_MIN).
pub const MAX_LOADED_OBJECTS: usize = 3;

/// A hash or event sequence (Part 3, clause 17).
#[derive(Clone)]
pub struct SequenceObject {
    /// The sequence's authValue.
    pub auth: Tpm2bAuth,
    /// One hasher for a hash sequence; one per implemented hash for an event sequence.
    pub hashers: Vec<Hasher>,
    /// True for an event sequence (HashSequenceStart with TPM_ALG_NULL).
    pub event: bool,
    /// A ticket may be produced: false once the first data block started with
    /// TPM_GENERATED_VALUE.
    pub ticket_ok: bool,
    /// Bytes absorbed so far (to check the first four octets).
    pub absorbed: u64,
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
}
