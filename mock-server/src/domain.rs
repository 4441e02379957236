//! Newtypes parsed at the edge: scopes, redirect URIs, client credentials, ids.
//!
//! Handlers turn raw request strings into these once; the store never sees raw strings
//! where a parsed value exists. Every parser here has property tests in `tests/api`.

use std::fmt;

use rand::Rng;

/// One permission scope, as listed on the developer settings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    ReadPii,
    Read,
    Write,
    Delete,
    Purchase,
    Share,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::ReadPii,
        Scope::Read,
        Scope::Write,
        Scope::Delete,
        Scope::Purchase,
        Scope::Share,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::ReadPii => "OAuth2ReadPII",
            Scope::Read => "OAuth2Read",
            Scope::Write => "OAuth2Write",
            Scope::Delete => "OAuth2Delete",
            Scope::Purchase => "OAuth2Purchase",
            Scope::Share => "OAuth2Share",
        }
    }

    /// The sentence the consent page shows.
    pub fn plain_words(self) -> &'static str {
        match self {
            Scope::ReadPii => "Read your profile information (name and email address)",
            Scope::Read => "Read your documents",
            Scope::Write => "Write to your documents",
            Scope::Delete => "Delete your documents and workspaces",
            Scope::Purchase => "Request purchases on your behalf",
            Scope::Share => "Share and unshare documents on your behalf",
        }
    }

    /// The bit in sessioninfo's `oauth2Scopes` integer.
    pub fn bit(self) -> u8 {
        match self {
            Scope::ReadPii => 1,
            Scope::Read => 2,
            Scope::Write => 4,
            Scope::Delete => 8,
            Scope::Purchase => 16,
            Scope::Share => 32,
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The modern name for one of the guide's older scope names, or a case slip.
    fn suggestion(name: &str) -> Option<Scope> {
        let legacy = match name {
            "Read" => Some(Scope::Read),
            "Comment" => Some(Scope::Read),
            "Write" => Some(Scope::Write),
            "Reshare" => Some(Scope::Share),
            "Full" => Some(Scope::Delete),
            _ => None,
        };
        legacy.or_else(|| {
            Scope::ALL
                .into_iter()
                .find(|s| s.name().eq_ignore_ascii_case(name))
        })
    }
}

/// A set of scopes, stored as Onshape's bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u8);

/// Why a scope string did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// Scope names separated by commas (passport-onshape's default separator).
    CommaSeparated,
    /// A name that is not a scope; with the likely intended one.
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// Not separated by single spaces (tabs, double spaces, leading or trailing space).
    BadSeparator,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeError::CommaSeparated => write!(
                f,
                "scopes are separated by commas; RFC 6749 §3.3 separates them with spaces \
                 (passport-onshape: set scopeSeparator to ' ')"
            ),
            ScopeError::Unknown {
                name,
                suggestion: Some(s),
            } => {
                write!(f, "`{name}` is not an Onshape scope; did you mean `{s}`?")
            }
            ScopeError::Unknown {
                name,
                suggestion: None,
            } => write!(
                f,
                "`{name}` is not an Onshape scope (known: OAuth2ReadPII OAuth2Read OAuth2Write \
                 OAuth2Delete OAuth2Purchase OAuth2Share)"
            ),
            ScopeError::BadSeparator => {
                write!(
                    f,
                    "scopes must be separated by single spaces, with none leading or trailing"
                )
            }
        }
    }
}

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Parses a space-separated scope list (RFC 6749 §3.3), strictly.
    pub fn parse(s: &str) -> Result<ScopeSet, ScopeError> {
        if s.contains(',') {
            return Err(ScopeError::CommaSeparated);
        }
        let mut set = ScopeSet::EMPTY;
        for name in s.split(' ') {
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(ScopeError::BadSeparator);
            }
            match Scope::from_name(name) {
                Some(scope) => set = set.with(scope),
                None => {
                    return Err(ScopeError::Unknown {
                        name: name.to_owned(),
                        suggestion: Scope::suggestion(name).map(Scope::name),
                    })
                }
            }
        }
        Ok(set)
    }

    /// [`ScopeSet::parse`], or — when `allow_commas` (`--allow-comma-scopes`, for
    /// passport-onshape's default separator) — commas accepted as separators too.
    pub fn parse_with(s: &str, allow_commas: bool) -> Result<ScopeSet, ScopeError> {
        if allow_commas && s.contains(',') {
            ScopeSet::parse(&s.replace(',', " "))
        } else {
            ScopeSet::parse(s)
        }
    }

    pub fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<ScopeSet, ScopeError> {
        let mut set = ScopeSet::EMPTY;
        for name in names {
            let scope = Scope::from_name(name).ok_or_else(|| ScopeError::Unknown {
                name: name.to_owned(),
                suggestion: Scope::suggestion(name).map(Scope::name),
            })?;
            set = set.with(scope);
        }
        Ok(set)
    }

    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | scope.bit())
    }
    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }
    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn minus(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }
    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::name).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

/// The out-of-band redirect URI for installed applications.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// A redirect URI that passed the registration rules. Compared as an exact string; cheap
/// to clone (every code holds one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(std::sync::Arc<str>);

impl RedirectUri {
    /// Applies the registration rules of the developer settings page: https, except
    /// `http://localhost:<port>` and the OOB URN; no fragment, no credentials.
    pub fn register(raw: &str) -> Result<RedirectUri, String> {
        // The URL parser strips or encodes these, but the raw text is what is compared and
        // sent back: a trailing CR/LF would make every redirect for the app unusable.
        if let Some(c) = raw.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "{raw:?} contains {c:?}: redirect URLs may not contain whitespace or control characters (a line ending copied with the URL?)"
            ));
        }
        if raw == OOB {
            return Ok(RedirectUri(raw.into()));
        }
        let url =
            url::Url::parse(raw).map_err(|e| format!("`{raw}` is not an absolute URL ({e})"))?;
        if url.fragment().is_some() {
            return Err(format!(
                "`{raw}` has a fragment; redirect URLs must not (RFC 6749 §3.1.2)"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("`{raw}` carries credentials"));
        }
        match url.scheme() {
            "https" if url.host_str().is_some() => Ok(RedirectUri(raw.into())),
            "http" => {
                // The raw text must say `localhost` (url lower-cases hosts) with an explicit port.
                let authority = raw.strip_prefix("http://").map(|r| r.split(['/', '?']).next().unwrap_or(""));
                match authority.unwrap_or("").split_once(':') {
                    Some(("localhost", port)) if !port.is_empty() && port.parse::<u16>().is_ok() => {
                        Ok(RedirectUri(raw.into()))
                    }
                    Some(("localhost", _)) | None if authority == Some("localhost") => Err(format!(
                        "`{raw}`: plain-http redirect URLs must name the port: http://localhost:<port>"
                    )),
                    _ => Err(format!(
                        "`{raw}` uses http; only https URLs are allowed, except \
                         http://localhost:<port> and {OOB}"
                    )),
                }
            }
            other => Err(format!(
                "`{raw}` uses the scheme `{other}`; only https, http://localhost:<port> and {OOB} are allowed"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_oob(&self) -> bool {
        &*self.0 == OOB
    }

    /// `http://localhost:<port>…`: a desktop app's loopback listener.
    pub fn is_loopback(&self) -> bool {
        self.0.starts_with("http://localhost:")
    }

    /// This URI with `params` appended to its query.
    pub fn with_params(&self, params: &[(&str, &str)]) -> String {
        let mut out = self.0.to_string();
        let mut sep = if out.contains('?') { '&' } else { '?' };
        for (k, v) in params {
            out.push(sep);
            out.push_str(k);
            out.push('=');
            out.extend(percent_encoding::utf8_percent_encode(
                v,
                crate::form::COMPONENT,
            ));
            sep = '&';
        }
        out
    }
}

/// Explains why `requested` matches none of `registered`, naming the closest one and the
/// part that differs.
pub fn explain_redirect_mismatch(requested: &str, registered: &[RedirectUri]) -> String {
    let closest = registered
        .iter()
        .min_by_key(|r| edit_distance(r.as_str(), requested))
        .map(RedirectUri::as_str);
    let Some(closest) = closest else {
        return "the application has no registered redirect URI".to_owned();
    };
    let what = match (url::Url::parse(requested), url::Url::parse(closest)) {
        (Ok(a), Ok(b)) => {
            if a.scheme() != b.scheme() {
                format!(
                    "the scheme differs (`{}` vs registered `{}`)",
                    a.scheme(),
                    b.scheme()
                )
            } else if a.host_str() != b.host_str() || authority(requested) != authority(closest) {
                if a.port_or_known_default() != b.port_or_known_default() {
                    format!(
                        "the port differs ({} vs registered {})",
                        display_port(&a),
                        display_port(&b)
                    )
                } else {
                    format!(
                        "the host differs (`{}` vs registered `{}`)",
                        authority(requested),
                        authority(closest)
                    )
                }
            } else if a.path() != b.path() || path_raw(requested) != path_raw(closest) {
                let (pa, pb) = (path_raw(requested), path_raw(closest));
                if pa.trim_end_matches('/') == pb.trim_end_matches('/') {
                    format!("only a trailing slash differs (`{pa}` vs registered `{pb}`)")
                } else if pa.eq_ignore_ascii_case(pb) {
                    format!("the path differs in letter case (`{pa}` vs registered `{pb}`)")
                } else {
                    format!("the path differs (`{pa}` vs registered `{pb}`)")
                }
            } else if a.query() != b.query() {
                format!(
                    "the query differs (`{}` vs registered `{}`)",
                    a.query().unwrap_or(""),
                    b.query().unwrap_or("")
                )
            } else {
                "the text differs (letter case, encoding or default port written out)".to_owned()
            }
        }
        _ => "it is not the same string".to_owned(),
    };
    format!("closest registered URI is `{closest}`: {what}")
}

fn authority(raw: &str) -> &str {
    let rest = raw.split_once("://").map(|(_, r)| r).unwrap_or(raw);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

fn path_raw(raw: &str) -> &str {
    let rest = raw.split_once("://").map(|(_, r)| r).unwrap_or(raw);
    let from = rest.find('/').unwrap_or(rest.len());
    let path = &rest[from..];
    path.split(['?', '#']).next().unwrap_or("")
}

fn display_port(u: &url::Url) -> String {
    match u.port() {
        Some(p) => p.to_string(),
        None => format!("default {}", u.port_or_known_default().unwrap_or(0)),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Validates a primary format: a Java-style reverse domain name, `com.example.app`.
pub fn check_primary_format(s: &str) -> Result<(), String> {
    let labels: Vec<&str> = s.split('.').collect();
    let ok_label = |l: &&str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    };
    if labels.len() >= 2 && labels.iter().all(ok_label) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a reverse domain name: use dot-separated labels starting with a letter, \
             like com.megacorp.stl-preview"
        ))
    }
}

/// A 24-character lower-case hex id, as Onshape's ids are.
pub fn new_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    data_encoding::HEXLOWER.encode(&bytes)
}

/// An opaque credential (code, access token, refresh token).
/// Whether the first word of an `Authorization` value may be quoted in an error: it looks
/// like a scheme (letters only, at most 20). Anything else may be a credential sent with no
/// scheme, or glued to one (`Bearer<TAB>token`).
pub fn quotable_scheme(word: &str) -> bool {
    word.len() <= 20 && word.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `len` random alphanumeric characters (uniform over the 62: a byte's low six bits, 62
/// and 63 redrawn). Random bytes are drawn 64 at a time rather than a `u32` per character:
/// a refresh grant issues 104 characters.
pub fn new_token(len: usize) -> String {
    const CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut bytes[..]);
        let wanted = len - out.len();
        out.extend(
            bytes
                .iter()
                .map(|b| usize::from(b & 63))
                .filter(|i| *i < CHARS.len())
                .take(wanted)
                .map(|i| char::from(CHARS[i])),
        );
    }
    out
}

/// An Onshape-shaped client credential: upper-case base32 ending in `=`.
/// 24 bytes give 39 characters and one `=`; 29 give 47 and one `=`.
pub fn new_client_credential(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    let s = data_encoding::BASE32.encode(&buf);
    if s.ends_with('=') {
        s
    } else {
        // Lengths that are multiples of 5 bytes have no padding; Onshape's always do.
        new_client_credential(bytes + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_use_every_alphanumeric_character_and_nothing_else() {
        let mut seen = std::collections::BTreeMap::<char, usize>::new();
        for len in [0, 1, 16, 63, 64, 65, 200] {
            let t = new_token(len);
            assert_eq!(t.len(), len);
            for c in t.chars() {
                *seen.entry(c).or_default() += 1;
            }
        }
        for _ in 0..400 {
            for c in new_token(48).chars() {
                *seen.entry(c).or_default() += 1;
            }
        }
        assert!(seen.keys().all(char::is_ascii_alphanumeric));
        assert_eq!(seen.len(), 62, "every character is drawn");
        // About 310 each in 19,600 draws: none is far off (a bias from a bad mapping would be).
        assert!(seen.values().all(|n| (180..460).contains(n)), "{seen:?}");
        assert_ne!(new_token(48), new_token(48));
    }

    #[test]
    fn scope_parse_is_strict() {
        assert_eq!(
            ScopeSet::parse("OAuth2Read OAuth2Write").map(ScopeSet::bits),
            Ok(Scope::Read.bit() | Scope::Write.bit())
        );
        assert_eq!(
            ScopeSet::parse("OAuth2Read,OAuth2Write"),
            Err(ScopeError::CommaSeparated)
        );
        assert_eq!(
            ScopeSet::parse("OAuth2Read  OAuth2Write"),
            Err(ScopeError::BadSeparator)
        );
        assert!(matches!(
            ScopeSet::parse("Read"),
            Err(ScopeError::Unknown {
                suggestion: Some("OAuth2Read"),
                ..
            })
        ));
    }

    #[test]
    fn registration_rules() {
        assert!(RedirectUri::register("https://app.example.com/cb").is_ok());
        assert!(RedirectUri::register("http://localhost:3000/oauth/callback").is_ok());
        assert!(RedirectUri::register(OOB).is_ok());
        assert!(RedirectUri::register("http://localhost/cb").is_err());
        assert!(RedirectUri::register("http://127.0.0.1:3000/cb").is_err());
        assert!(RedirectUri::register("http://app.example.com/cb").is_err());
        assert!(RedirectUri::register("https://app.example.com/cb#x").is_err());
        assert!(RedirectUri::register("ftp://x/").is_err());
    }

    #[test]
    fn mismatch_is_explained() {
        let reg = [RedirectUri::register("http://localhost:3000/oauth/callback").expect("valid")];
        let m = explain_redirect_mismatch("http://localhost:3000/oauth/callback/", &reg);
        assert!(m.contains("trailing slash"), "{m}");
        let m = explain_redirect_mismatch("http://localhost:3001/oauth/callback", &reg);
        assert!(m.contains("port differs"), "{m}");
        let m = explain_redirect_mismatch("http://127.0.0.1:3000/oauth/callback", &reg);
        assert!(m.contains("host differs"), "{m}");
        let m = explain_redirect_mismatch("https://localhost:3000/oauth/callback", &reg);
        assert!(m.contains("scheme differs"), "{m}");
    }

    #[test]
    fn client_credentials_have_onshape_shape() {
        for _ in 0..20 {
            let id = new_client_credential(24);
            assert!(id.ends_with('='), "{id}");
            assert!(id
                .trim_end_matches('=')
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        }
        assert_eq!(new_id().len(), 24);
    }
}
