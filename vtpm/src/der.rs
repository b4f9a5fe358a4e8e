//! Just enough DER (ITU-T X.690) and PEM (RFC 7468) to write the X.509
//! certificates of the local CA: definite-length TLVs, built bottom-up into
//! byte vectors. Nothing here parses untrusted input except [`pem_decode`] and
//! [`base64_decode`], which return `None` on anything malformed.

/// Universal tags used by the certificates.
pub mod tag {
    /// BOOLEAN
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER
    pub const OID: u8 = 0x06;
    /// UTF8String
    pub const UTF8_STRING: u8 = 0x0C;
    /// UTCTime
    pub const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE (constructed)
    pub const SEQUENCE: u8 = 0x30;
    /// SET (constructed)
    pub const SET: u8 = 0x31;
}

/// One TLV: `tag`, the definite length of `content` (short or long form), `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A TLV whose content is the concatenation of `parts`.
pub fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// SEQUENCE { parts... }
pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    constructed(tag::SEQUENCE, parts)
}

/// SET { parts... } (callers pass a single element or elements already in DER order).
pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    constructed(tag::SET, parts)
}

/// `[n] EXPLICIT content` (context-specific, constructed).
pub fn explicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, content)
}

/// OBJECT IDENTIFIER from its arcs (X.690 §8.19). Arcs may exceed 64 bits (the
/// `2.25` UUID arc of ITU-T X.667 needs 128).
pub fn oid(arcs: &[u128]) -> Vec<u8> {
    let mut body = Vec::new();
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        [a] => (a * 40, &[][..]),
        [] => (0, &[][..]),
    };
    for arc in std::iter::once(first).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7F) as u8];
        let mut v = arc >> 7;
        while v != 0 {
            groups.push((v & 0x7F) as u8 | 0x80);
            v >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(tag::OID, &body)
}

/// A non-negative INTEGER from big-endian magnitude bytes: leading zeros removed,
/// one zero added when the top bit would make it negative.
pub fn uint(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude.iter().take_while(|b| **b == 0).count();
    let digits = &magnitude[start..];
    let mut body = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(digits);
    tlv(tag::INTEGER, &body)
}

/// INTEGER of a small non-negative value.
pub fn small_uint(v: u64) -> Vec<u8> {
    uint(&v.to_be_bytes())
}

/// BOOLEAN
pub fn boolean(v: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if v { 0xFF } else { 0 }])
}

/// NULL
pub fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// BIT STRING of whole octets (no unused bits).
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 1);
    body.push(0);
    body.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &body)
}

/// A named-bit BIT STRING (X.680 §22.7, X.690 §11.2.2: trailing zero bits
/// removed) with bit `i` set for each `i` in `bits` (bit 0 is the most significant
/// bit of the first octet), as KeyUsage uses it.
pub fn named_bits(bits: &[u8]) -> Vec<u8> {
    let top = bits.iter().copied().max().unwrap_or(0) as usize;
    let mut octets = vec![0u8; top / 8 + 1];
    for b in bits {
        octets[*b as usize / 8] |= 0x80 >> (b % 8);
    }
    let unused = if bits.is_empty() { 0 } else { 7 - (top % 8) };
    let mut body = vec![unused as u8];
    body.extend_from_slice(&octets);
    tlv(tag::BIT_STRING, &body)
}

/// OCTET STRING
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

/// UTF8String
pub fn utf8(s: &str) -> Vec<u8> {
    tlv(tag::UTF8_STRING, s.as_bytes())
}

/// The calendar date and time of `unix` seconds (UTC): (year, month, day, hour,
/// minute, second), by the days-from-civil inverse (proleptic Gregorian).
fn civil(unix: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// An X.509 Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime after.
pub fn time(unix: u64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(unix);
    if y < 2050 {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        tlv(tag::UTC_TIME, text.as_bytes())
    } else {
        generalized_time(unix)
    }
}

/// GeneralizedTime of `unix` seconds (attribute certificates use it for every
/// date, RFC 5755 §4.2.6).
pub fn generalized_time(unix: u64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(unix);
    let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
    tlv(tag::GENERALIZED_TIME, text.as_bytes())
}

/// The notAfter of a certificate without a well-defined expiration
/// (RFC 5280 §4.1.2.5: 99991231235959Z).
pub fn no_expiry() -> Vec<u8> {
    tlv(tag::GENERALIZED_TIME, b"99991231235959Z")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (RFC 4648 §4) with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 0x3F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 decoding; whitespace is skipped, anything else outside the alphabet
/// (or misplaced padding) gives `None`.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut vals = Vec::with_capacity(text.len());
    let mut pad = 0usize;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return None;
        }
        vals.push(B64.iter().position(|x| *x == c)? as u32);
    }
    if !(vals.len() + pad).is_multiple_of(4) || pad > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(vals.len() * 3 / 4);
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// PEM text of `der` with `label` (RFC 7468), lines of 64 characters.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside the first PEM block labelled `label`, if well-formed.
pub fn pem_decode(label: &str, text: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    base64_decode(&text[start..stop])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long_form() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0u8; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2C]);
    }

    #[test]
    fn oids_encode_as_x690_says() {
        // 1.2.840.113549.1.1.1 (rsaEncryption)
        assert_eq!(
            oid(&[1, 2, 840, 113_549, 1, 1, 1]),
            vec![0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
        );
        // 2.23.133.8.1 (tcg-kp-EKCertificate)
        assert_eq!(
            oid(&[2, 23, 133, 8, 1]),
            vec![0x06, 0x05, 0x67, 0x81, 0x05, 0x08, 0x01]
        );
        // A 2.25 arc larger than 64 bits still encodes in 7-bit groups.
        let big = oid(&[2, 25, u128::MAX]);
        assert_eq!(big[2], 0x69);
        assert_eq!(big.len(), 2 + 1 + 19);
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(small_uint(0), vec![0x02, 1, 0]);
        assert_eq!(small_uint(127), vec![0x02, 1, 0x7F]);
        assert_eq!(small_uint(128), vec![0x02, 2, 0, 0x80]);
        assert_eq!(uint(&[0, 0, 1, 0]), vec![0x02, 2, 1, 0]);
    }

    #[test]
    fn key_usage_bits() {
        // keyEncipherment (2): 03 02 05 20; keyCertSign (5) + cRLSign (6): 03 02 01 06.
        assert_eq!(named_bits(&[2]), vec![0x03, 2, 5, 0x20]);
        assert_eq!(named_bits(&[5, 6]), vec![0x03, 2, 1, 0x06]);
        assert_eq!(named_bits(&[4]), vec![0x03, 2, 3, 0x08]);
    }

    #[test]
    fn times() {
        assert_eq!(time(0), tlv(tag::UTC_TIME, b"700101000000Z"));
        // 2026-11-27 03:30:00 UTC
        assert_eq!(time(1_795_750_200), tlv(tag::UTC_TIME, b"261127033000Z"));
        // 2000-02-29 (a leap day)
        assert_eq!(time(951_782_400), tlv(tag::UTC_TIME, b"000229000000Z"));
        assert_eq!(
            time(2_556_144_000),
            tlv(tag::GENERALIZED_TIME, b"20510101000000Z")
        );
        assert_eq!(
            generalized_time(1_795_750_200),
            tlv(tag::GENERALIZED_TIME, b"20261127033000Z")
        );
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for n in 0..70 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            let text = base64_encode(&data);
            assert_eq!(base64_decode(&text).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert!(base64_decode("Zm9v!mFy").is_none());
        assert!(base64_decode("Zm=8").is_none());
        assert!(base64_decode("Zm9").is_none());
        let pem = pem_encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(pem_decode("CERTIFICATE", &pem).unwrap(), vec![1, 2, 3]);
        assert!(pem_decode("EC PRIVATE KEY", &pem).is_none());
    }
}
