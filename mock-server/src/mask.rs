//! Masking: what of a request may be written to the request log or stderr. Every logged
//! string goes through here, in two passes.
//!
//! 1. **By shape** (no state needed): `Authorization` values ([`mask_authorization`]), form
//!    fields and query parameters whose name says secret or token ([`mask_pairs`],
//!    [`mask_query`]) — names compared after decoding, case-folded, `_` and `-` ignored, so
//!    `CLIENT_SECRET`, `client%5Fsecret` and `clientSecret` are one name — and free text
//!    ([`scrub`]). Tokens become a [`fingerprint`], secrets `(masked)`.
//! 2. **By value** ([`net`]): whatever the shape, every client secret the mock knows and
//!    every code or token it issued is found in the text — as sent, or after percent-decoding
//!    (a query encoded as a whole, `%41`-style spellings) — and masked. This is the pass that
//!    makes the guarantee; the first only makes the log readable.
//!
//! Hints are built from the request by the routes; they go through both passes too.

use std::borrow::Cow;

/// What the value pass looks up: the store implements it.
pub trait KnownSecrets {
    /// True if `candidate` is a code or token the mock issued (live or remembered).
    fn is_issued(&self, candidate: &str) -> bool;
    /// Every registered client secret, ready to search for.
    fn client_secrets(&self) -> &SecretMatcher;
}

/// Every client secret (at least [`MIN_NET_SECRET`] long), with and without its `=` padding
/// (a client that strips it still sends all but one character of the secret), found in one
/// pass over a text however many apps are registered.
///
/// Secrets that are alphanumeric but for their padding (every secret the mock issues) are
/// looked up in the alphanumeric runs [`mask_known`] scans for tokens anyway, by length; any
/// other secret (a fixture may register one) is found by Aho-Corasick.
#[derive(Debug, Clone, Default)]
pub struct SecretMatcher {
    /// Unpadded alphanumeric secrets, grouped by length (a handful of lengths).
    alphanumeric: Vec<(usize, SecretSet)>,
    other: Option<aho_corasick::AhoCorasick>,
}

type SecretSet = std::collections::HashSet<Box<str>, foldhash::fast::RandomState>;

impl SecretMatcher {
    pub fn new<'a>(secrets: impl Iterator<Item = &'a str>) -> SecretMatcher {
        let mut matcher = SecretMatcher::default();
        let mut patterns: Vec<&str> = Vec::new();
        for secret in secrets {
            let unpadded = secret.trim_end_matches('=');
            if unpadded.len() >= MIN_NET_SECRET
                && unpadded.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                let len = unpadded.len();
                match matcher.alphanumeric.iter_mut().find(|(l, _)| *l == len) {
                    Some((_, set)) => {
                        set.insert(unpadded.into());
                    }
                    None => matcher
                        .alphanumeric
                        .push((len, std::iter::once(unpadded.into()).collect())),
                }
                continue;
            }
            for form in [secret, unpadded] {
                if form.len() >= MIN_NET_SECRET && !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        if !patterns.is_empty() {
            matcher.other = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok();
        }
        matcher
    }

    /// The secrets that are not alphanumeric.
    fn find_other(&self, text: &str, spans: &mut Vec<(usize, usize, Kind)>) {
        if let Some(ac) = &self.other {
            spans.extend(
                ac.find_iter(text)
                    .map(|m| (m.start(), m.end(), Kind::Secret)),
            );
        }
    }

    /// The alphanumeric secrets in the alphanumeric run `text[start..end]`, at any offset,
    /// each with the `=` padding that follows it.
    fn find_in_run(
        &self,
        text: &str,
        start: usize,
        end: usize,
        spans: &mut Vec<(usize, usize, Kind)>,
    ) {
        for (len, set) in &self.alphanumeric {
            if end - start < *len {
                continue;
            }
            for at in start..=end - len {
                if set.contains(&text[at..at + len]) {
                    let padding = text[at + len..]
                        .bytes()
                        .take(8)
                        .take_while(|b| *b == b'=')
                        .count();
                    spans.push((at, at + len + padding, Kind::Secret));
                }
            }
        }
    }

    /// The shortest alphanumeric secret, if any.
    fn shortest_alphanumeric(&self) -> usize {
        self.alphanumeric
            .iter()
            .map(|(len, _)| *len)
            .min()
            .unwrap_or(usize::MAX)
    }
}

/// The lengths of the codes and tokens the mock issues (alphanumeric).
pub const ISSUED_LENGTHS: &[usize] = &[
    crate::store::CODE_LEN,
    crate::store::ACCESS_TOKEN_LEN,
    crate::store::REFRESH_TOKEN_LEN,
];

/// Client secrets shorter than this are masked by shape only (a two-letter secret would mask
/// every word containing it).
pub const MIN_NET_SECRET: usize = 8;

/// Field names (folded: lower case, no `_` or `-`) whose values are masked whole.
const SECRET_NAMES: &[&str] = &["clientsecret", "password", "secret", "assertion"];
/// Field names whose values are shown as a fingerprint, enough to tell two apart.
const TOKEN_NAMES: &[&str] = &["code", "refreshtoken", "accesstoken", "token", "idtoken"];

/// How a field's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Secret,
    Token,
    Plain,
}

fn fold(name: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    decoded
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn kind(name: &str) -> Kind {
    // Names without `%` or non-ASCII (nearly all) are folded on the fly, without allocating.
    let folded;
    let name = if name.is_ascii() && !name.contains('%') {
        name
    } else {
        folded = fold(name);
        folded.as_str()
    };
    let is = |list: &[&str]| list.iter().any(|target| folded_eq(name, target));
    if is(SECRET_NAMES) {
        Kind::Secret
    } else if is(TOKEN_NAMES) {
        Kind::Token
    } else {
        Kind::Plain
    }
}

/// `name` equals the folded `target` ignoring ASCII case, `_` and `-`.
fn folded_eq(name: &str, target: &str) -> bool {
    let mut letters = name.bytes().filter(|b| *b != b'_' && *b != b'-');
    let mut want = target.bytes();
    loop {
        match (letters.next(), want.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
            _ => return false,
        }
    }
}

fn shown(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Secret => "(masked)".to_owned(),
        Kind::Token => fingerprint(value),
        Kind::Plain => value.to_owned(),
    }
}

/// The first six characters and the length: enough to tell tokens apart, not to use them.
pub fn fingerprint(token: &str) -> String {
    let head: String = token.chars().take(6).collect();
    format!("{head}…({})", token.chars().count())
}

/// `Bearer abcdef…(40)`, `Basic CLIENT_ID:(masked)`, `On ACCESS_KEY:(masked)`; any other scheme, and a value with no
/// scheme, masked whole. Any whitespace may follow the scheme.
pub fn mask_authorization(v: &str) -> String {
    let Some((scheme, rest)) = v.trim_start().split_once(char::is_whitespace) else {
        return "(masked)".to_owned();
    };
    let plain_scheme = !scheme.is_empty()
        && scheme.len() <= 32
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !plain_scheme {
        return "(masked)".to_owned();
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        format!("{scheme} {}", fingerprint(rest.trim()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let user = data_encoding::BASE64
            .decode(rest.trim().as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(u, _)| u.to_owned()));
        match user {
            Some(u) => format!("{scheme} {u}:(masked)"),
            None => format!("{scheme} (masked)"),
        }
    } else if scheme == "On" {
        // An API-key signature: the access key is not secret, and tells requests apart.
        match rest.trim().split_once(':') {
            Some((access, _)) if access.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                format!("On {access}:(masked)")
            }
            _ => "On (masked)".to_owned(),
        }
    } else {
        format!("{scheme} (masked)")
    }
}

/// Decoded form fields, their values masked by name.
pub fn mask_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    pairs
        .map(|(name, value)| (name.to_owned(), shown(kind(name), value)))
        .collect()
}

/// Masks secret and token values in a raw query or form body, keeping its shape (raw `=`
/// included). A segment with no raw `=` is decoded and scrubbed as free text.
pub fn mask_query(q: &str) -> String {
    q.split('&')
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => format!("{k}={}", shown(kind(k), v)),
            None => scrub(&percent_encoding::percent_decode_str(seg).decode_utf8_lossy()),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// [`mask_query`] on the query of a URL.
pub fn mask_query_in_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, q)) => format!("{base}?{}", mask_query(q)),
        None => url.to_owned(),
    }
}

/// Masks the value after every secret or token field name in free text, whatever its case:
/// `name=value`, `"name":"value"`, `name: value`.
pub fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize, Kind)> = Vec::new();
    let names = [
        ("client_secret", Kind::Secret),
        ("clientsecret", Kind::Secret),
        ("client-secret", Kind::Secret),
        ("password", Kind::Secret),
        ("refresh_token", Kind::Token),
        ("refreshtoken", Kind::Token),
        ("access_token", Kind::Token),
        ("accesstoken", Kind::Token),
        ("token", Kind::Token),
        ("code", Kind::Token),
    ];
    for (name, kind) in names {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(name) {
            let mut start = from + pos + name.len();
            let rest = &text[start..];
            let gap = rest.len() - rest.trim_start_matches(['"', '\'', ':', '=', ' ']).len();
            // A field, not a word in a sentence: the name is followed by `=` or `:`.
            let is_field = rest[..gap].contains(['=', ':']);
            start += gap;
            let len = text[start..]
                .find(['&', '"', '\'', ',', '}', ' ', '\n', ';'])
                .unwrap_or(text.len() - start);
            if is_field && len > 0 && !spans.iter().any(|(s, e, _)| start < *e && *s < start + len)
            {
                spans.push((start, start + len, kind));
            }
            from = start.max(from + pos + 1);
        }
    }
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_by_key(|(s, _, _)| *s);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in spans {
        out.push_str(&text[at..start]);
        out.push_str(&shown(kind, &text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The value pass: every known secret in `text` masked, as sent or percent-decoded. Returns
/// `text` unchanged (borrowed) when it holds none, the common case.
pub fn net<'a>(text: &'a str, known: &impl KnownSecrets) -> Cow<'a, str> {
    if text.len() < MIN_NET_SECRET {
        return Cow::Borrowed(text);
    }
    let secrets = known.client_secrets();
    if let Some(masked) = mask_known(text, known, secrets) {
        return Cow::Owned(masked);
    }
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    // Decoded up to three times (`%2541` is `%41` is `A`): a secret hidden by encoding is
    // shown decoded, masked.
    let mut decoded = text.to_owned();
    for _ in 0..3 {
        let next = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
        let spaced = decoded.replace('+', " ");
        for candidate in [&decoded, &spaced] {
            if let Some(masked) = mask_known(candidate, known, secrets) {
                return Cow::Owned(masked);
            }
        }
    }
    Cow::Borrowed(text)
}

/// `text` with every known secret masked, or `None` if it holds none.
fn mask_known(text: &str, known: &impl KnownSecrets, secrets: &SecretMatcher) -> Option<String> {
    let mut spans: Vec<(usize, usize, Kind)> = Vec::new();
    secrets.find_other(text, &mut spans);
    // Issued codes and tokens, and most secrets, are alphanumeric: look in each alphanumeric
    // run long enough to hold one, at every offset (one glued to other letters is still
    // found).
    let shortest = ISSUED_LENGTHS
        .iter()
        .copied()
        .min()
        .unwrap_or(usize::MAX)
        .min(secrets.shortest_alphanumeric());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i - start < shortest {
            continue;
        }
        secrets.find_in_run(text, start, i, &mut spans);
        for &len in ISSUED_LENGTHS {
            for at in start..=(i.saturating_sub(len)).max(start) {
                if at + len <= i && known.is_issued(&text[at..at + len]) {
                    spans.push((at, at + len, Kind::Token));
                }
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in spans {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(&text[at..start]);
        out.push_str(&shown(kind, &text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Known(Vec<String>, SecretMatcher);
    impl KnownSecrets for Known {
        fn is_issued(&self, c: &str) -> bool {
            self.0.iter().any(|t| t == c)
        }
        fn client_secrets(&self) -> &SecretMatcher {
            &self.1
        }
    }

    #[test]
    fn authorization_values_never_keep_their_secret() {
        assert_eq!(
            mask_authorization("Bearer abcdefghijkl"),
            "Bearer abcdef…(12)"
        );
        assert_eq!(
            mask_authorization("Bearer\tabcdefghijkl"),
            "Bearer abcdef…(12)"
        );
        assert_eq!(mask_authorization("abcdefghijklmnop"), "(masked)");
        let basic = data_encoding::BASE64.encode(b"ID=:SECRET=");
        assert_eq!(
            mask_authorization(&format!("Basic {basic}")),
            "Basic ID=:(masked)"
        );
        assert_eq!(
            mask_authorization(&format!("Basic\t{basic}")),
            "Basic ID=:(masked)"
        );
        assert_eq!(mask_authorization("Digest x=y"), "Digest (masked)");
        assert_eq!(mask_authorization("a=b:c d"), "(masked)", "not a scheme");
    }

    #[test]
    fn names_are_folded() {
        let masked = mask_query("CLIENT_SECRET=s3cret&Refresh-Token=abcdefgh&client%5Fsecret=x");
        assert_eq!(
            masked,
            "CLIENT_SECRET=(masked)&Refresh-Token=abcdef…(8)&client%5Fsecret=(masked)"
        );
        assert_eq!(
            scrub("{\"Client_Secret\": \"abc\", \"CODE\":\"xyz\"}"),
            "{\"Client_Secret\": \"(masked)\", \"CODE\":\"xyz…(3)\"}"
        );
    }

    #[test]
    fn the_value_pass_finds_secrets_in_any_spelling() {
        let token = "A".repeat(crate::store::REFRESH_TOKEN_LEN);
        let known = Known(
            vec![token.clone()],
            SecretMatcher::new(["SECRET12345="].into_iter()),
        );
        for text in [
            format!("x={token}"),
            format!("grant_type%3Drefresh_token%26refresh_token%3D{token}"),
            format!("prefix{token}suffix"),
            "client_secret%253DSECRET12345%253D".to_owned(),
            "SECRET12345%3D".to_owned(),
        ] {
            let out = net(&text, &known);
            assert!(
                !out.contains(&token) && !out.contains("SECRET12345"),
                "{text} -> {out}"
            );
        }
        assert!(matches!(net("nothing here", &known), Cow::Borrowed(_)));
    }

    #[test]
    fn secrets_of_any_alphabet_are_found_glued_or_padded() {
        // One found in alphanumeric runs, one (punctuated, as a fixture may have) by
        // Aho-Corasick.
        let known = Known(
            vec![],
            SecretMatcher::new(["ALNUMSECRET7==", "punct-secret.value"].into_iter()),
        );
        for (text, shown) in [
            ("x=ALNUMSECRET7==&y", "x=(masked)&y"),
            ("xxALNUMSECRET7yy", "xx(masked)yy"),
            ("ALNUMSECRET7", "(masked)"),
            ("a punct-secret.value!", "a (masked)!"),
            ("%70unct-secret%2Evalue", "(masked)"),
        ] {
            assert_eq!(net(text, &known), shown, "{text}");
        }
        assert_eq!(
            net("ALNUMSECRET", &known),
            "ALNUMSECRET",
            "a prefix is not the secret"
        );
    }
}
