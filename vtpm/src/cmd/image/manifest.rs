//! Reading an image manifest back: a flat JSON object (string, number, boolean
//! and null members), which is all `manifest.json` holds. The reader takes
//! untrusted text: it never panics and refuses anything else (nesting, trailing
//! data, bad escapes) with a message.

use std::fmt;

/// A member value of a flat JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A string, unescaped.
    Str(String),
    /// A number, as written.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) | Value::Num(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
        }
    }
}

/// A parsed manifest: its members in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    members: Vec<(String, Value)>,
}

impl Manifest {
    /// The value of member `key` (the first, if repeated).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Parses a flat JSON object.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
        };
        p.ws();
        p.expect(b'{')?;
        let mut members = Vec::new();
        p.ws();
        if p.peek() == Some(b'}') {
            p.pos = p.pos.saturating_add(1);
        } else {
            loop {
                p.ws();
                let key = p.string()?;
                p.ws();
                p.expect(b':')?;
                p.ws();
                let value = p.value()?;
                members.push((key, value));
                p.ws();
                match p.next() {
                    Some(b',') => continue,
                    Some(b'}') => break,
                    _ => return Err(p.err("',' or '}'")),
                }
            }
        }
        p.ws();
        if p.pos < p.s.len() {
            return Err(p.err("the end of the text"));
        }
        Ok(Manifest { members })
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(c)
    }

    fn err(&self, wanted: &str) -> String {
        format!("not a manifest: expected {wanted} at byte {}", self.pos)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.pos = self.pos.saturating_add(1);
            Ok(())
        } else {
            Err(self.err(&format!("'{}'", char::from(c))))
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        let end = self.pos.saturating_add(word.len());
        if self.s.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(v)
        } else {
            Err(self.err("a value"))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos = self.pos.saturating_add(1);
                }
                let num = self.s.get(start..self.pos).unwrap_or_default();
                Ok(Value::Num(String::from_utf8_lossy(num).into_owned()))
            }
            Some(b'{' | b'[') => Err(format!(
                "not a manifest: nested value at byte {} (a manifest is a flat object)",
                self.pos
            )),
            _ => Err(self.err("a value")),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let end = self.pos.saturating_add(4);
        let digits = self
            .s
            .get(self.pos..end)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.err("four hex digits"))?;
        self.pos = end;
        Ok(digits)
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.next() {
                None => return Err(self.err("'\"'")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let c = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                self.expect(b'\\')?;
                                self.expect(b'u')?;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err("a low surrogate"));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("a character"))?
                        }
                        _ => return Err(self.err("an escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(c) if c < 0x20 => return Err(self.err("no control character")),
                Some(c) => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| "not a manifest: a string is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_flat_object() {
        let m = Manifest::parse(
            "{\n  \"format\": 1,\n  \"image\": \"a\\\"b\\u00e9\\ud83d\\ude00\",\n  \
             \"dirty\": false, \"r\": null, \"t\": true, \"n\": -1.5e3\n}\n",
        )
        .unwrap();
        assert_eq!(m.get("format"), Some(&Value::Num("1".into())));
        assert_eq!(
            m.get("image"),
            Some(&Value::Str("a\"b\u{e9}\u{1f600}".into()))
        );
        assert_eq!(m.get("dirty"), Some(&Value::Bool(false)));
        assert_eq!(m.get("r"), Some(&Value::Null));
        assert_eq!(m.get("t"), Some(&Value::Bool(true)));
        assert_eq!(m.get("n"), Some(&Value::Num("-1.5e3".into())));
        assert_eq!(m.get("missing"), None);
        assert_eq!(Manifest::parse(" {} ").unwrap().get("x"), None);
    }

    #[test]
    fn refuses_what_is_not_a_flat_object() {
        for bad in [
            "",
            "[]",
            "{",
            "{\"a\"}",
            "{\"a\": }",
            "{\"a\": 1,}",
            "{\"a\": 1} x",
            "{\"a\": {\"b\": 1}}",
            "{\"a\": [1]}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\u12\"}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"\\ud800\\u0041\"}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": tru}",
            "{\"a\": \"unterminated}",
            "{a: 1}",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_text_never_panics(s in "[{}\\[\\]\":,a-z0-9\\\\u \\n-]{0,64}") {
            let _ = Manifest::parse(&s);
        }

        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = Manifest::parse(&String::from_utf8_lossy(&b));
        }
    }
}
