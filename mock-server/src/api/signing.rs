//! Onshape's API-key request signature, and what a wrong one was most likely made of.
//!
//! `Authorization: On <accessKey>:HmacSHA256:<signature>`, where the signature is
//! base64(HMAC-SHA256(secret key, lowercase(method\nnonce\ndate\ncontent-type\npath\nquery\n))):
//! the path without its query, the query as sent without `?` (empty if none), the whole string
//! lower-cased, the trailing newline included (Onshape's API-key sample; ONSHAPE-FACTS.md).
//!
//! Verifying costs one HMAC over a short string; [`diagnose`] runs only after a mismatch and
//! recomputes the string with the mistakes clients make, to say which one the client's
//! signature matches.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a signed request is made of, as the mock received it.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub nonce: &'a str,
    pub date: &'a str,
    pub content_type: &'a str,
    /// The path without the query, as sent (still percent-encoded).
    pub path: &'a str,
    /// The query as sent, without `?`; empty if none.
    pub query: &'a str,
}

impl Signed<'_> {
    /// The string the client must sign (already lower-cased).
    pub fn string_to_sign(&self) -> String {
        string_to_sign(self, true, true)
    }
}

fn string_to_sign(s: &Signed<'_>, lower: bool, trailing_newline: bool) -> String {
    let mut out = String::with_capacity(
        s.method.len()
            + s.nonce.len()
            + s.date.len()
            + s.content_type.len()
            + s.path.len()
            + s.query.len()
            + 6,
    );
    for (i, part) in [s.method, s.nonce, s.date, s.content_type, s.path, s.query]
        .iter()
        .enumerate()
    {
        out.push_str(part);
        if i < 5 || trailing_newline {
            out.push('\n');
        }
    }
    if lower {
        out.make_ascii_lowercase();
        // Non-ASCII letters too (a decoded query can hold them), as Java's toLowerCase does.
        if !out.is_ascii() {
            out = out.to_lowercase();
        }
    }
    out
}

/// base64(HMAC-SHA256(key, message)).
pub fn sign(key: &[u8], message: &str) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message.as_bytes());
    data_encoding::BASE64.encode(&mac.finalize().into_bytes())
}

/// Whether `signature` (base64, as sent) is the HMAC of `message` under `secret`, compared
/// in constant time.
pub fn verify(secret: &str, message: &str, signature: &str) -> bool {
    let Ok(given) = data_encoding::BASE64.decode(signature.trim().as_bytes()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(message.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// A signing mistake a wrong signature matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// Signed with another Content-Type than the one sent (`signed` is what was signed).
    ContentType { signed: String },
    /// Signed for the URL the mock redirected from (`path?query`), not the one it was sent to.
    BeforeRedirect { from: String },
    /// Any other: what the client did, in words.
    Other(&'static str),
}

/// Which common mistake `signature` matches, if any. `body` is the request body (some
/// clients sign it); `redirected_from` the path and query the mock redirected this URL from,
/// if it did.
pub fn diagnose(
    secret: &str,
    s: &Signed<'_>,
    body: &[u8],
    signature: &str,
    redirected_from: Option<(&str, &str)>,
) -> Option<Mistake> {
    let matches = |message: &str| verify(secret, message, signature);
    if let Some((path, query)) = redirected_from {
        if matches(&Signed { path, query, ..*s }.string_to_sign()) {
            let from = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            return Some(Mistake::BeforeRedirect { from });
        }
    }
    if matches(&string_to_sign(s, false, true)) {
        return Some(Mistake::Other(
            "the string was signed as it is, not lower-cased",
        ));
    }
    if matches(&string_to_sign(s, true, false)) || matches(&string_to_sign(s, false, false)) {
        return Some(Mistake::Other(
            "the string was signed without its trailing newline (after the query)",
        ));
    }
    if !s.query.is_empty() {
        let without = Signed { query: "", ..*s };
        if matches(&without.string_to_sign()) {
            return Some(Mistake::Other(
                "the query was left out of the signed string",
            ));
        }
        let decoded = percent_encoding::percent_decode_str(s.query)
            .decode_utf8_lossy()
            .replace('+', " ");
        if decoded != s.query
            && matches(
                &Signed {
                    query: &decoded,
                    ..*s
                }
                .string_to_sign(),
            )
        {
            return Some(Mistake::Other(
                "the query was signed decoded; sign it as sent (percent-encoded)",
            ));
        }
        let joined = format!("{}?{}", s.path, s.query);
        if matches(
            &Signed {
                path: &joined,
                query: "",
                ..*s
            }
            .string_to_sign(),
        ) || matches(
            &Signed {
                path: &joined,
                ..*s
            }
            .string_to_sign(),
        ) {
            return Some(Mistake::Other(
                "the query was signed as part of the path; the path goes without `?query`",
            ));
        }
    }
    if let Some(versionless) = without_version(s.path) {
        if matches(
            &Signed {
                path: &versionless,
                ..*s
            }
            .string_to_sign(),
        ) {
            return Some(Mistake::Other(
                "the path was signed without its version segment (/api/documents instead of /api/v10/documents)",
            ));
        }
    }
    let sent_type = s.content_type;
    let bare = sent_type.split(';').next().unwrap_or("").trim();
    for signed in [
        "",
        bare,
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
    ] {
        if !signed.eq_ignore_ascii_case(sent_type)
            && matches(
                &Signed {
                    content_type: signed,
                    ..*s
                }
                .string_to_sign(),
            )
        {
            return Some(Mistake::ContentType {
                signed: signed.to_owned(),
            });
        }
    }
    if !body.is_empty() {
        let mut with_body = s.string_to_sign();
        with_body.push_str(&String::from_utf8_lossy(body).to_lowercase());
        if matches(&with_body) {
            return Some(Mistake::Other(
                "the body was signed; Onshape's signature does not cover it",
            ));
        }
    }
    if let Ok(decoded) = data_encoding::BASE64.decode(secret.as_bytes()) {
        let message = s.string_to_sign();
        if let Ok(given) = data_encoding::BASE64.decode(signature.trim().as_bytes()) {
            if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&decoded) {
                mac.update(message.as_bytes());
                if mac.verify_slice(&given).is_ok() {
                    return Some(Mistake::Other(
                        "the secret key was base64-decoded before signing; use its text as UTF-8 bytes",
                    ));
                }
            }
        }
    }
    None
}

/// `/api/v10/documents` → `/api/documents`; `None` when the path has no version.
pub fn without_version(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/api/")?;
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let is_version =
        first.len() > 1 && first.starts_with('v') && first[1..].bytes().all(|b| b.is_ascii_digit());
    is_version.then(|| format!("/api/{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "SECRETKEYSECRETKEYSECRETKEYSECRETKEYSECRETKEY48";

    fn request<'a>(query: &'a str, content_type: &'a str) -> Signed<'a> {
        Signed {
            method: "GET",
            nonce: "AbCdEfGhIjKlMnOpQrStUvWxY",
            date: "Mon, 23 Nov 2026 16:00:00 GMT",
            content_type,
            path: "/api/v10/documents",
            query,
        }
    }

    #[test]
    fn the_string_to_sign_is_lower_cased_with_a_trailing_newline() {
        let s = request("q=Part%20A&offset=0", "application/json");
        assert_eq!(
            s.string_to_sign(),
            "get\nabcdefghijklmnopqrstuvwxy\nmon, 23 nov 2026 16:00:00 gmt\napplication/json\n/api/v10/documents\nq=part%20a&offset=0\n"
        );
        let good = sign(SECRET.as_bytes(), &s.string_to_sign());
        assert!(verify(SECRET, &s.string_to_sign(), &good));
        assert!(!verify("other", &s.string_to_sign(), &good));
        assert!(!verify(SECRET, &s.string_to_sign(), "not base64!"));
    }

    #[test]
    fn each_common_mistake_is_recognised() {
        let s = request("q=Part%20A", "application/json");
        let sign_as = |m: &str| sign(SECRET.as_bytes(), m);
        let named = |sig: &str| {
            diagnose(
                SECRET,
                &s,
                b"{\"name\":\"x\"}",
                sig,
                Some(("/api/documents", "limit=5")),
            )
        };
        let said = |sig: &str| {
            named(sig).map(|m| match m {
                Mistake::Other(t) => t.to_owned(),
                Mistake::ContentType { signed } => format!("content-type {signed}"),
                Mistake::BeforeRedirect { from } => format!("before the redirect from {from}"),
            })
        };
        let cases: Vec<(String, &str)> = vec![
            (sign_as(&string_to_sign(&s, false, true)), "not lower-cased"),
            (
                sign_as(&string_to_sign(&s, true, false)),
                "trailing newline",
            ),
            (
                sign_as(&Signed { query: "", ..s }.string_to_sign()),
                "query was left out",
            ),
            (
                sign_as(
                    &Signed {
                        query: "q=Part A",
                        ..s
                    }
                    .string_to_sign(),
                ),
                "signed decoded",
            ),
            (
                sign_as(
                    &Signed {
                        path: "/api/documents",
                        ..s
                    }
                    .string_to_sign(),
                ),
                "without its version",
            ),
            (
                sign_as(
                    &Signed {
                        path: "/api/v10/documents?q=Part%20A",
                        query: "",
                        ..s
                    }
                    .string_to_sign(),
                ),
                "part of the path",
            ),
            (
                sign_as(
                    &Signed {
                        content_type: "",
                        ..s
                    }
                    .string_to_sign(),
                ),
                "content-type ",
            ),
            (
                sign_as(&format!("{}{{\"name\":\"x\"}}", s.string_to_sign())),
                "body was signed",
            ),
            (
                sign_as(
                    &Signed {
                        path: "/api/documents",
                        query: "limit=5",
                        ..s
                    }
                    .string_to_sign(),
                ),
                "before the redirect from /api/documents?limit=5",
            ),
        ];
        for (sig, expected) in cases {
            let got = said(&sig).unwrap_or_default();
            assert!(got.contains(expected), "`{expected}`: got `{got}`");
        }
        // A signature with a wrong secret matches nothing.
        assert_eq!(named(&sign(b"wrong", &s.string_to_sign())), None);
        assert_eq!(
            without_version("/api/v10/documents/x").as_deref(),
            Some("/api/documents/x")
        );
        assert_eq!(without_version("/api/documents"), None);
    }
}
