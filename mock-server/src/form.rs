//! A strict `application/x-www-form-urlencoded` parser, used for query strings and bodies.
//!
//! Unlike lenient parsers it refuses malformed percent-escapes and invalid UTF-8, notices a
//! body that was encoded as a whole (`a%3Db%26c%3Dd`), and remembers which values carried a
//! raw `=` — Onshape's "unencoded trailing `=` in the client id" pitfall, invisible to a
//! parser that splits on the first `=`.

use std::fmt;

use percent_encoding::{percent_decode, AsciiSet, NON_ALPHANUMERIC};

/// What a URL query component must escape: all but unreserved characters (RFC 3986).
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A parsed form: fields in order, with what the raw text looked like.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form {
    fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// The value's raw text held a literal `=` (which should have been `%3D`).
    pub raw_equals: bool,
}

/// Why a form did not parse. Each names the field it happened in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// `%` not followed by two hex digits.
    BadPercent { field: String },
    /// The decoded bytes are not UTF-8.
    NotUtf8 { field: String },
    /// No `=` anywhere but an encoded one: the whole body was percent-encoded.
    WholeBodyEncoded,
    /// A non-empty segment without `=`.
    MissingEquals { segment: String },
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::BadPercent { field } => write!(
                f,
                "malformed percent-encoding in `{field}`: every `%` must be followed by two hex digits (encode a literal % as %25)"
            ),
            FormError::NotUtf8 { field } => {
                write!(f, "`{field}` does not decode to UTF-8: percent-encode the UTF-8 bytes of each value")
            }
            FormError::WholeBodyEncoded => write!(
                f,
                "the whole body was URL-encoded (no literal `=` between names and values, but %3D): encode each value, not the body"
            ),
            FormError::MissingEquals { segment } => {
                write!(f, "the segment `{segment}` has no `=`: send name=value pairs joined by `&`")
            }
        }
    }
}

/// Parses `raw` strictly. Empty segments (`a=1&&b=2`) are skipped, as browsers do.
pub fn parse(raw: &[u8]) -> Result<Form, FormError> {
    if !raw.is_empty() && !raw.contains(&b'=') && contains_ignore_case(raw, b"%3d") {
        return Err(FormError::WholeBodyEncoded);
    }
    let mut fields = Vec::new();
    for segment in raw.split(|b| *b == b'&') {
        if segment.is_empty() {
            continue;
        }
        let Some(eq) = segment.iter().position(|b| *b == b'=') else {
            return Err(FormError::MissingEquals {
                segment: lossy_short(segment),
            });
        };
        let (name_raw, value_raw) = (&segment[..eq], &segment[eq + 1..]);
        let name = decode(name_raw).map_err(|e| e.with_field(&lossy_short(name_raw)))?;
        let value = decode(value_raw).map_err(|e| e.with_field(&name))?;
        fields.push(Field {
            name,
            value,
            raw_equals: value_raw.contains(&b'='),
        });
    }
    Ok(Form { fields })
}

impl Form {
    /// The single value of `name`; `Err(())` when it appears more than once.
    pub fn get(&self, name: &str) -> Result<Option<&Field>, Repeated> {
        let mut found = None;
        for f in self.fields.iter().filter(|f| f.name == name) {
            if found.is_some() {
                return Err(Repeated(name.to_owned()));
            }
            found = Some(f);
        }
        Ok(found)
    }

    /// The value of `name`, if present once; repeated counts as an error.
    pub fn value(&self, name: &str) -> Result<Option<&str>, Repeated> {
        Ok(self.get(name)?.map(|f| f.value.as_str()))
    }

    /// The first name that appears more than once.
    pub fn first_repeated(&self) -> Option<&str> {
        let names = || self.fields.iter().map(|f| f.name.as_str());
        // A handful of fields (nearly always): comparing pairs is cheaper than hashing.
        if self.fields.len() <= 16 {
            return names()
                .enumerate()
                .find(|(i, name)| names().take(*i).any(|before| before == *name))
                .map(|(_, name)| name);
        }
        let mut seen = std::collections::HashSet::new();
        names().find(|name| !seen.insert(*name))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn contains(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }
}

/// The name of a raw `name=value` segment, percent-decoded leniently and lower-cased: for
/// recognising sensitive parameters however they were spelled (`client%5Fsecret`).
pub fn loose_name(segment: &str) -> String {
    let raw = segment.split_once('=').map_or(segment, |(k, _)| k);
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .to_ascii_lowercase()
}

/// A form body the recording middleware already parsed, handed to the route in the
/// request's extensions so it is parsed once.
#[derive(Debug, Clone)]
pub struct Parsed(pub std::sync::Arc<Form>);

/// A parameter sent more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

enum DecodeError {
    BadPercent,
    NotUtf8,
}

impl DecodeError {
    fn with_field(self, field: &str) -> FormError {
        match self {
            DecodeError::BadPercent => FormError::BadPercent {
                field: field.to_owned(),
            },
            DecodeError::NotUtf8 => FormError::NotUtf8 {
                field: field.to_owned(),
            },
        }
    }
}

fn decode(raw: &[u8]) -> Result<String, DecodeError> {
    // Most names and values need no decoding: one allocation.
    if !raw.iter().any(|b| *b == b'%' || *b == b'+') {
        return String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::NotUtf8);
    }
    let mut i = 0;
    while let Some(off) = raw[i..].iter().position(|b| *b == b'%') {
        let at = i + off;
        let ok = raw.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
            && raw.get(at + 2).is_some_and(u8::is_ascii_hexdigit);
        if !ok {
            return Err(DecodeError::BadPercent);
        }
        i = at + 3;
    }
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// How an error names a segment or field it quotes: its name part only — up to an encoded
/// `=` (`%3D`), at most 24 characters — never a value, which may be a code or a secret.
fn lossy_short(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let name = match s.to_ascii_lowercase().find("%3d") {
        Some(at) => &s[..at],
        None => &s,
    };
    if name.len() < s.len() {
        format!("{}%3D…", short(name))
    } else if s.chars().count() > 24 {
        format!(
            "{}… ({} bytes)",
            s.chars().take(8).collect::<String>(),
            raw.len()
        )
    } else {
        s.into_owned()
    }
}

fn short(s: &str) -> String {
    s.chars().take(24).collect()
}

/// Percent-encodes one name or value (all but RFC 3986's unreserved characters).
pub fn encode_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// Encodes pairs as a form body (used by tests and clients of the library).
pub fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_repeated_name_is_found_in_small_and_large_forms() {
        let form = |names: &[&str]| {
            let body: Vec<String> = names.iter().map(|n| format!("{n}=v")).collect();
            parse(body.join("&").as_bytes()).expect("parses")
        };
        assert_eq!(form(&["a", "b", "c"]).first_repeated(), None);
        assert_eq!(form(&["a", "b", "c", "b", "a"]).first_repeated(), Some("b"));
        let many: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let mut names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(form(&names).first_repeated(), None);
        names.push("f30");
        names.push("f3");
        assert_eq!(form(&names).first_repeated(), Some("f30"));
    }

    #[test]
    fn parses_and_flags_raw_equals() {
        let form = parse(b"client_id=ABC%3D&secret=XYZ=&a=b+c").expect("parses");
        assert_eq!(form.value("client_id"), Ok(Some("ABC=")));
        assert!(
            !form
                .get("client_id")
                .expect("once")
                .expect("present")
                .raw_equals
        );
        assert!(
            form.get("secret")
                .expect("once")
                .expect("present")
                .raw_equals
        );
        assert_eq!(form.value("a"), Ok(Some("b c")));
    }

    #[test]
    fn refuses_malformed_input() {
        assert_eq!(
            parse(b"a=%zz"),
            Err(FormError::BadPercent { field: "a".into() })
        );
        assert_eq!(
            parse(b"a=%e"),
            Err(FormError::BadPercent { field: "a".into() })
        );
        assert_eq!(
            parse(b"a=%ff"),
            Err(FormError::NotUtf8 { field: "a".into() })
        );
        assert_eq!(
            parse(b"grant_type%3Dcode%26x%3Dy"),
            Err(FormError::WholeBodyEncoded)
        );
        assert!(matches!(
            parse(b"a=1&flag"),
            Err(FormError::MissingEquals { .. })
        ));
        assert_eq!(
            parse(b"a=1&a=2").expect("parses").value("a"),
            Err(Repeated("a".into()))
        );
    }
}
