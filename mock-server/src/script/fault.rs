//! Faults: what the mock does instead of (or to) its real answer for the next requests to a
//! path — an injected answer, a malformed token response, a silent or cut connection, a late
//! answer — and the checks that refuse a fault that cannot be carried out.

use serde::Deserialize;

/// The token request a fault on `/oauth/token` is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
        }
    }
}

/// The body of an injected (unprocessed) response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyKind {
    /// The surface's JSON error shape (the default).
    Json,
    /// An HTML page, as a proxy or a web application firewall answers (`text/html`).
    Html,
    /// `application/json` that does not parse.
    InvalidJson,
    /// No body at all.
    Empty,
    /// A JSON token response without `access_token` (the token endpoint, status 200).
    NoAccessToken,
}

/// How the real token response is rendered wrong (the request is processed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenQuirk {
    /// No `refresh_token`: the client cannot refresh and must authorize again.
    NoRefreshToken,
    /// No `expires_in` (RFC 6749 §5.1 only recommends it).
    NoExpiresIn,
    /// `"expires_in": "3600"`, a string.
    ExpiresInString,
    /// `"expires_in": -3600`.
    ExpiresInNegative,
    /// `"expires_in": 1` (the token still lives 60 minutes).
    ExpiresInShort,
    /// `"expires_in": 315360000`, ten years (the token still dies after 60 minutes).
    ExpiresInLong,
    /// `"token_type": "mac"`, a type the client does not know (RFC 6749 §7.1).
    TokenTypeUnsupported,
    /// `token_type` and `expires_in` each twice in the JSON text.
    DuplicateFields,
    /// The JSON body under `Content-Type: text/html`.
    WrongContentType,
}

impl TokenQuirk {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenQuirk::NoRefreshToken => "no-refresh-token",
            TokenQuirk::NoExpiresIn => "no-expires-in",
            TokenQuirk::ExpiresInString => "expires-in-string",
            TokenQuirk::ExpiresInNegative => "expires-in-negative",
            TokenQuirk::ExpiresInShort => "expires-in-short",
            TokenQuirk::ExpiresInLong => "expires-in-long",
            TokenQuirk::TokenTypeUnsupported => "token-type-unsupported",
            TokenQuirk::DuplicateFields => "duplicate-fields",
            TokenQuirk::WrongContentType => "wrong-content-type",
        }
    }
}

/// What happens to the connection instead of an answer (the request is not processed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionFault {
    /// The request is read and never answered: the connection stays open, silent, until the
    /// client closes it, the mock stops, or [`SILENCE_LIMIT`] passes.
    Silent,
    /// The response starts (head and part of the body) and the connection closes.
    Close,
}

/// The longest a silent fault holds a connection, in seconds (then it closes unanswered).
pub const SILENCE_LIMIT: u64 = 600;
/// The longest `delay`, in seconds.
pub const MAX_DELAY: f64 = 600.0;

/// RFC 6749 §5.2's error codes, which a token endpoint fault may answer with.
pub const TOKEN_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
];

/// A scripted misbehaviour for the requests to a path. Exactly one of `status`, `token`
/// and `connection`, or `delay` alone (the real answer, late).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The path it applies to, exactly (`/oauth/token`), or a prefix ending in `*` (`/api/*`).
    pub path: String,
    /// On `/oauth/token` only: the code exchange or the refresh alone.
    #[serde(default)]
    pub grant: Option<Grant>,
    /// An injected answer: 200 (with a `body` other than `json`), 307 (with `location`),
    /// 400, 401, 403, 404, 429 or 5xx.
    #[serde(default)]
    pub status: Option<u16>,
    /// On `/oauth` paths: the RFC 6749 error code of an injected 4xx or 5xx.
    #[serde(default)]
    pub error: Option<String>,
    /// The injected answer's body (default: the surface's JSON error shape).
    #[serde(default)]
    pub body: Option<BodyKind>,
    /// The real token response, rendered wrong.
    #[serde(default)]
    pub token: Option<TokenQuirk>,
    /// No answer, or half of one.
    #[serde(default)]
    pub connection: Option<ConnectionFault>,
    /// Seconds of real time the answer is held back (the request is processed at once).
    #[serde(default)]
    pub delay: Option<f64>,
    /// How many requests it answers before it disarms itself (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Seconds for a `Retry-After` header.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// A 307's target on the same origin: a path, with a query if wanted
    /// (`/api/v6/documents?limit=5`). The `Location` header names it in full.
    #[serde(default)]
    pub location: Option<String>,
}

pub(super) fn one() -> u32 {
    1
}

/// Nothing but `times = 1`: a base for building a fault in code.
impl Default for Fault {
    fn default() -> Fault {
        Fault {
            path: String::new(),
            grant: None,
            status: None,
            error: None,
            body: None,
            token: None,
            connection: None,
            delay: None,
            times: 1,
            retry_after: None,
            location: None,
        }
    }
}

impl Fault {
    /// Refuses a fault that cannot be carried out, saying why.
    pub fn check(&self) -> Result<(), String> {
        if !self.path.starts_with('/') {
            return Err(format!("path `{}` must start with /", self.path));
        }
        if self.times == 0 {
            return Err("times must be at least 1".to_owned());
        }
        let oauth = self.path.starts_with("/oauth");
        let token_endpoint = self.path == "/oauth/token";
        if self.grant.is_some() && !token_endpoint {
            return Err("grant is only for path /oauth/token".to_owned());
        }
        let kinds = usize::from(self.status.is_some())
            + usize::from(self.token.is_some())
            + usize::from(self.connection.is_some());
        if kinds > 1 {
            return Err("give one of status, token and connection".to_owned());
        }
        if kinds == 0 && self.delay.is_none() {
            return Err("give status, token, connection or delay".to_owned());
        }
        if let Some(d) = self.delay {
            if !(d > 0.0 && d <= MAX_DELAY) {
                return Err(format!(
                    "delay must be more than 0 and at most {MAX_DELAY} s"
                ));
            }
            if self.connection == Some(ConnectionFault::Silent) {
                return Err("a silent connection has no answer to delay".to_owned());
            }
        }
        if self.token.is_some() && !token_endpoint {
            return Err("token is only for path /oauth/token".to_owned());
        }
        let Some(status) = self.status else {
            for (set, name) in [
                (self.error.is_some(), "error"),
                (self.body.is_some(), "body"),
                (self.location.is_some(), "location"),
                (self.retry_after.is_some(), "retry_after"),
            ] {
                if set {
                    return Err(format!("{name} goes with status"));
                }
            }
            return Ok(());
        };
        if self.location.is_some() && status != 307 {
            return Err("location is only for status 307".to_owned());
        }
        if let Some(error) = &self.error {
            if !oauth {
                return Err(
                    "error is only for /oauth paths (the API answers in Onshape's shape)"
                        .to_owned(),
                );
            }
            if !TOKEN_ERRORS.contains(&error.as_str()) {
                return Err(format!(
                    "error `{}` is not one of RFC 6749's: {}",
                    error.chars().take(40).collect::<String>(),
                    TOKEN_ERRORS.join(", ")
                ));
            }
            if status < 400 {
                return Err("error goes with a 4xx or 5xx status".to_owned());
            }
        }
        let body = self.body.unwrap_or(BodyKind::Json);
        if body == BodyKind::NoAccessToken && !(token_endpoint && status == 200) {
            return Err("body no-access-token is a 200 from /oauth/token".to_owned());
        }
        match status {
            307 => match &self.location {
                None => Err("a 307 needs a location (a path such as /api/v6/documents)".to_owned()),
                Some(l)
                    if !l.starts_with('/')
                        || l.starts_with("//")
                        || l.contains(['#', ' '])
                        || l.len() > 2048 =>
                {
                    Err(format!(
                        "location `{}` must be a path on the same origin, starting with one /",
                        l.chars().take(64).collect::<String>()
                    ))
                }
                Some(_) => Ok(()),
            },
            200 if body == BodyKind::Json => Err(
                "a 200 fault needs a body that is not the real answer: html, invalid-json, empty or no-access-token (to render the real answer wrong, use token)".to_owned(),
            ),
            400 | 401 if oauth && self.error.is_none() && body == BodyKind::Json => Err(format!(
                "a {status} from /oauth needs an error code ({})",
                TOKEN_ERRORS.join(", ")
            )),
            200 | 400 | 401 | 403 | 404 | 429 | 500..=599 => Ok(()),
            s => Err(format!("status {s} is not 200, 307, 400, 401, 403, 404, 429 or 5xx")),
        }
    }

    /// Whether the fault applies to a request for `path` (a token request of `grant`).
    pub fn matches(&self, path: &str, grant: Option<&str>) -> bool {
        let path_matches = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        };
        path_matches && self.grant.is_none_or(|g| grant == Some(g.as_str()))
    }

    /// Whether the request it answers is left unprocessed.
    pub fn unprocessed(&self) -> bool {
        self.status.is_some() || self.connection.is_some()
    }

    /// One line: `503 on /oauth/token (refresh_token) x2, Retry-After 1 s`.
    pub fn describe(&self) -> String {
        let what = match (self.status, self.token, self.connection) {
            (Some(s), ..) => {
                let mut w = s.to_string();
                if let Some(e) = &self.error {
                    w.push_str(&format!(" {e}"));
                }
                match self.body {
                    Some(BodyKind::Html) => w.push_str(" (HTML page)"),
                    Some(BodyKind::InvalidJson) => w.push_str(" (invalid JSON)"),
                    Some(BodyKind::Empty) => w.push_str(" (empty body)"),
                    Some(BodyKind::NoAccessToken) => w.push_str(" (no access_token)"),
                    _ => {}
                }
                w
            }
            (_, Some(t), _) => format!("token response {}", t.as_str()),
            (_, _, Some(ConnectionFault::Silent)) => "no answer (silent)".to_owned(),
            (_, _, Some(ConnectionFault::Close)) => "connection closed mid-response".to_owned(),
            _ => "the real answer".to_owned(),
        };
        let mut line = format!("{what} on {}", self.path);
        if let Some(g) = self.grant {
            line.push_str(&format!(" ({})", g.as_str()));
        }
        if self.times > 1 {
            line.push_str(&format!(" x{}", self.times));
        }
        if let Some(d) = self.delay {
            line.push_str(&format!(", {d} s late"));
        }
        if let Some(r) = self.retry_after {
            line.push_str(&format!(", Retry-After {r} s"));
        }
        if let Some(l) = &self.location {
            line.push_str(&format!(" to {l}"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, location: Option<&str>) -> Fault {
        Fault {
            path: "/api/*".into(),
            status: Some(status),
            location: location.map(str::to_owned),
            ..Fault::default()
        }
    }

    #[test]
    fn a_307_needs_a_same_origin_path_and_nothing_else_takes_one() {
        assert!(status(307, Some("/api/v6/documents?limit=5"))
            .check()
            .is_ok());
        assert!(status(307, None)
            .check()
            .expect_err("refused")
            .contains("needs a location"));
        for bad in [
            "http://evil.example/api",
            "//evil.example/api",
            "api/x",
            "/a b",
        ] {
            assert!(status(307, Some(bad)).check().is_err(), "{bad}");
        }
        assert!(status(429, Some("/api/x"))
            .check()
            .expect_err("refused")
            .contains("only for status 307"));
        assert!(status(302, None)
            .check()
            .expect_err("refused")
            .contains("is not 200, 307"));
    }

    #[test]
    fn each_kind_of_fault_is_checked_for_what_it_needs() {
        let token = |f: Fault| Fault {
            path: "/oauth/token".into(),
            ..f
        };
        let ok = [
            token(Fault {
                status: Some(400),
                error: Some("invalid_grant".into()),
                grant: Some(Grant::RefreshToken),
                ..Fault::default()
            }),
            token(Fault {
                status: Some(401),
                error: Some("invalid_client".into()),
                ..Fault::default()
            }),
            token(Fault {
                status: Some(403),
                body: Some(BodyKind::Html),
                ..Fault::default()
            }),
            token(Fault {
                status: Some(200),
                body: Some(BodyKind::NoAccessToken),
                ..Fault::default()
            }),
            token(Fault {
                status: Some(200),
                body: Some(BodyKind::InvalidJson),
                ..Fault::default()
            }),
            token(Fault {
                token: Some(TokenQuirk::NoRefreshToken),
                ..Fault::default()
            }),
            token(Fault {
                delay: Some(2.5),
                ..Fault::default()
            }),
            token(Fault {
                connection: Some(ConnectionFault::Close),
                delay: Some(1.0),
                ..Fault::default()
            }),
            Fault {
                path: "/api/*".into(),
                connection: Some(ConnectionFault::Silent),
                ..Fault::default()
            },
            Fault {
                path: "/api/*".into(),
                status: Some(401),
                ..Fault::default()
            },
            Fault {
                path: "/api/*".into(),
                status: Some(404),
                ..Fault::default()
            },
        ];
        for f in ok {
            assert_eq!(f.check(), Ok(()), "{f:?}");
        }
        let refused = [
            (
                token(Fault::default()),
                "give status, token, connection or delay",
            ),
            (
                token(Fault {
                    status: Some(503),
                    token: Some(TokenQuirk::NoExpiresIn),
                    ..Fault::default()
                }),
                "one of status, token and connection",
            ),
            (
                token(Fault {
                    status: Some(400),
                    ..Fault::default()
                }),
                "needs an error code",
            ),
            (
                token(Fault {
                    status: Some(400),
                    error: Some("access_denied".into()),
                    ..Fault::default()
                }),
                "not one of RFC 6749's",
            ),
            (
                token(Fault {
                    status: Some(200),
                    ..Fault::default()
                }),
                "a 200 fault needs a body",
            ),
            (
                token(Fault {
                    error: Some("invalid_grant".into()),
                    delay: Some(1.0),
                    ..Fault::default()
                }),
                "error goes with status",
            ),
            (
                token(Fault {
                    connection: Some(ConnectionFault::Silent),
                    delay: Some(1.0),
                    ..Fault::default()
                }),
                "no answer to delay",
            ),
            (
                token(Fault {
                    delay: Some(0.0),
                    ..Fault::default()
                }),
                "delay must be more than 0",
            ),
            (
                token(Fault {
                    delay: Some(601.0),
                    ..Fault::default()
                }),
                "delay must be more than 0",
            ),
            (
                Fault {
                    path: "/api/*".into(),
                    token: Some(TokenQuirk::NoRefreshToken),
                    ..Fault::default()
                },
                "token is only for path /oauth/token",
            ),
            (
                Fault {
                    path: "/api/*".into(),
                    grant: Some(Grant::RefreshToken),
                    status: Some(503),
                    ..Fault::default()
                },
                "grant is only for path /oauth/token",
            ),
            (
                Fault {
                    path: "/api/*".into(),
                    status: Some(400),
                    error: Some("invalid_grant".into()),
                    ..Fault::default()
                },
                "error is only for /oauth paths",
            ),
            (
                Fault {
                    path: "/api/*".into(),
                    status: Some(200),
                    body: Some(BodyKind::NoAccessToken),
                    ..Fault::default()
                },
                "no-access-token is a 200 from /oauth/token",
            ),
        ];
        for (f, why) in refused {
            let err = f.check().expect_err(why);
            assert!(err.contains(why), "{err} (wanted: {why})");
        }
    }
}
