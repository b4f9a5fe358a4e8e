//! The wire layer: a bounds-checked [`Reader`] over command bytes, a [`Writer`] for
//! responses, and the [`Marshal`]/[`Unmarshal`] traits every Part 2 structure
//! implements (Part 1, clause 18: big-endian, canonical encoding).
//!
//! Nothing here can panic: every read is `split_first_chunk`/`split_at_checked`,
//! every length is checked before it is used.

use alloc::vec::Vec;

use crate::rc::{TpmRc, TpmResult};

/// A cursor over input bytes. Reads past the end give `TPM_RC_INSUFFICIENT`.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn chunk<const N: usize>(&mut self) -> TpmResult<[u8; N]> {
        let (head, tail) = self
            .buf
            .split_first_chunk::<N>()
            .ok_or(TpmRc::INSUFFICIENT)?;
        self.buf = tail;
        Ok(*head)
    }

    /// One byte.
    pub fn u8(&mut self) -> TpmResult<u8> {
        Ok(self.chunk::<1>()?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> TpmResult<u16> {
        Ok(u16::from_be_bytes(self.chunk()?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> TpmResult<u32> {
        Ok(u32::from_be_bytes(self.chunk()?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self) -> TpmResult<u64> {
        Ok(u64::from_be_bytes(self.chunk()?))
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> TpmResult<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(TpmRc::INSUFFICIENT)?;
        self.buf = tail;
        Ok(head)
    }

    /// A sub-reader over the next `n` bytes (for size-prefixed structures).
    pub fn sub(&mut self, n: usize) -> TpmResult<Reader<'a>> {
        Ok(Reader::new(self.bytes(n)?))
    }

    /// Reads a `T`.
    pub fn read<T: Unmarshal>(&mut self) -> TpmResult<T> {
        T::unmarshal(self)
    }

    /// Fails with `TPM_RC_SIZE` unless every byte was read.
    pub fn finish(&self) -> TpmResult<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(TpmRc::SIZE)
        }
    }
}

/// A growable output buffer for responses (responses are bounded by the command
/// table's response limits, so growth is bounded too).
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A big-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A TPM2B: u16 size then the bytes. Callers bound `b` by the TPM2B's maximum,
    /// which is always far below `u16::MAX`; a longer slice is cut at `u16::MAX`.
    pub fn tpm2b(&mut self, b: &[u8]) {
        let n = u16::try_from(b.len()).unwrap_or(u16::MAX);
        self.u16(n);
        self.bytes(b.get(..usize::from(n)).unwrap_or(b));
    }

    /// Writes a `T`.
    pub fn write<T: Marshal + ?Sized>(&mut self, v: &T) {
        v.marshal(self);
    }

    /// The bytes written.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written, borrowed.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }
}

/// A structure that can be written in its canonical TPM encoding.
pub trait Marshal {
    /// Appends the encoding to `w`.
    fn marshal(&self, w: &mut Writer);

    /// The encoding as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.marshal(&mut w);
        w.into_vec()
    }
}

/// A structure that can be read from its canonical TPM encoding with all checks
/// (sizes, selectors, ranges) applied on the way in.
pub trait Unmarshal: Sized {
    /// Reads one value; errors are bare format-one codes (the dispatcher adds positions).
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self>;

    /// Reads a value that must fill `buf` exactly.
    fn from_bytes(buf: &[u8]) -> TpmResult<Self> {
        let mut r = Reader::new(buf);
        let v = Self::unmarshal(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

macro_rules! prim {
    ($t:ty, $m:ident) => {
        impl Marshal for $t {
            fn marshal(&self, w: &mut Writer) {
                w.$m(*self)
            }
        }
        impl Unmarshal for $t {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
                r.$m()
            }
        }
    };
}
prim!(u8, u8);
prim!(u16, u16);
prim!(u32, u32);
prim!(u64, u64);

/// TPMI_YES_NO — Part 2, 9.2: a byte that must be 0 or 1.
impl Marshal for bool {
    fn marshal(&self, w: &mut Writer) {
        w.u8(u8::from(*self))
    }
}

impl Unmarshal for bool {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(TpmRc::VALUE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u16(), Err(TpmRc::INSUFFICIENT));
        assert_eq!(r.u8().unwrap(), 3);
        assert_eq!(r.u8(), Err(TpmRc::INSUFFICIENT));
        assert!(r.finish().is_ok());
        let mut r = Reader::new(&[0, 0]);
        assert_eq!(r.bytes(3), Err(TpmRc::INSUFFICIENT));
        assert_eq!(r.finish(), Err(TpmRc::SIZE));
    }

    #[test]
    fn yes_no_is_strict() {
        assert_eq!(bool::from_bytes(&[1]), Ok(true));
        assert_eq!(bool::from_bytes(&[2]), Err(TpmRc::VALUE));
        assert_eq!(u32::from_bytes(&[0, 0, 0, 1, 0]), Err(TpmRc::SIZE));
    }
}
