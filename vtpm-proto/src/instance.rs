//! Instance identifiers: the UUID of the VM a vTPM belongs to (RFC 9562 layout,
//! printed in the usual 8-4-4-4-12 lowercase hex form).

use core::fmt;
use core::str::FromStr;

/// A vTPM instance id: 16 bytes, a UUID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InstanceId(pub [u8; 16]);

impl InstanceId {
    /// The nil UUID (all zero).
    pub const NIL: InstanceId = InstanceId([0; 16]);

    /// A random (version 4, RFC 9562 variant) UUID made from 16 random bytes.
    pub fn from_random(mut bytes: [u8; 16]) -> InstanceId {
        if let Some(b) = bytes.get_mut(6) {
            *b = (*b & 0x0f) | 0x40;
        }
        if let Some(b) = bytes.get_mut(8) {
            *b = (*b & 0x3f) | 0x80;
        }
        InstanceId(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// True for the nil UUID.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceId({self})")
    }
}

/// Why a string is not a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseInstanceIdError {
    /// Not 36 characters (hyphenated) or 32 (plain hex).
    Length(usize),
    /// A character that is not a hex digit (or a misplaced hyphen) at this offset.
    Character(usize),
}

impl fmt::Display for ParseInstanceIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseInstanceIdError::Length(n) => write!(
                f,
                "a UUID has 36 characters (8-4-4-4-12 hex digits) or 32 hex digits, not {n}"
            ),
            ParseInstanceIdError::Character(i) => {
                write!(f, "unexpected character at offset {i} of the UUID")
            }
        }
    }
}

impl core::error::Error for ParseInstanceIdError {}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => c.checked_sub(b'a').and_then(|v| v.checked_add(10)),
        b'A'..=b'F' => c.checked_sub(b'A').and_then(|v| v.checked_add(10)),
        _ => None,
    }
}

impl FromStr for InstanceId {
    type Err = ParseInstanceIdError;

    /// Accepts `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` or 32 hex digits, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hyphenated = match s.len() {
            36 => true,
            32 => false,
            n => return Err(ParseInstanceIdError::Length(n)),
        };
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, c) in s.bytes().enumerate() {
            let hyphen_here = hyphenated && matches!(i, 8 | 13 | 18 | 23);
            if hyphen_here {
                if c != b'-' {
                    return Err(ParseInstanceIdError::Character(i));
                }
                continue;
            }
            let v = hex_value(c).ok_or(ParseInstanceIdError::Character(i))?;
            let slot = out
                .get_mut(nibbles / 2)
                .ok_or(ParseInstanceIdError::Character(i))?;
            *slot = if nibbles.is_multiple_of(2) {
                v << 4
            } else {
                *slot | v
            };
            nibbles = nibbles.saturating_add(1);
        }
        Ok(InstanceId(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn display_and_parse_round_trip() {
        let id = InstanceId([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ]);
        let s = id.to_string();
        assert_eq!(s, "12345678-9abc-def0-0123-456789abcdef");
        assert_eq!(s.parse::<InstanceId>(), Ok(id));
        assert_eq!(
            "12345678-9ABC-DEF0-0123-456789ABCDEF".parse::<InstanceId>(),
            Ok(id)
        );
        assert_eq!(
            "123456789abcdef00123456789abcdef".parse::<InstanceId>(),
            Ok(id)
        );
    }

    #[test]
    fn parse_refuses_malformed() {
        assert_eq!(
            "1234".parse::<InstanceId>(),
            Err(ParseInstanceIdError::Length(4))
        );
        assert_eq!(
            "12345678x9abc-def0-0123-456789abcdef".parse::<InstanceId>(),
            Err(ParseInstanceIdError::Character(8))
        );
        assert_eq!(
            "g2345678-9abc-def0-0123-456789abcdef".parse::<InstanceId>(),
            Err(ParseInstanceIdError::Character(0))
        );
        // 36 characters but with hyphens in the wrong places.
        assert_eq!(
            "123456789-abc-def0-0123-456789abcdef".parse::<InstanceId>(),
            Err(ParseInstanceIdError::Character(8))
        );
        // Multi-byte characters never panic.
        assert_eq!(
            "éééééééééééééééééé".parse::<InstanceId>(),
            Err(ParseInstanceIdError::Character(0))
        );
    }

    #[test]
    fn random_ids_are_version_4() {
        let id = InstanceId::from_random([0xff; 16]);
        assert_eq!(id.0[6] >> 4, 4);
        assert_eq!(id.0[8] >> 6, 0b10);
        let id = InstanceId::from_random([0; 16]);
        assert_eq!(id.to_string(), "00000000-0000-4000-8000-000000000000");
        assert!(!id.is_nil());
        assert!(InstanceId::NIL.is_nil());
    }
}
