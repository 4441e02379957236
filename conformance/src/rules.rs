//! The client rules: what a conformant client does, each judged from a run's recorded
//! traffic and the client's exit. Ids are stable (users put them in baselines). Where the
//! mock itself refuses a request, the judgement reuses the mock's rule id from
//! [`mock_server::rules`]; the rest look at the whole run (what was opened, what came after
//! a forged callback, whether refreshing stopped).

use mock_server::record::Exchange;
use serde::Serialize;

use crate::driver::RunRecord;
use crate::scenario::Auth;

pub(crate) mod apikey;
mod authorization;
mod refresh;
mod resilience;
mod run;

use apikey::*;
use authorization::*;
use refresh::*;
use resilience::*;
pub use run::Redactor;
use run::*;

/// MUST or SHOULD: the same scale as the mock's request rules.
pub use mock_server::rules::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Warn,
    Skip,
}

/// One judgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Level,
    pub outcome: Outcome,
    /// What the rule expects (the documentation sentence).
    pub expected: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// What happened.
    pub message: String,
    /// The requests involved, one line each, with the mock's hint.
    pub evidence: Vec<String>,
}

/// A client rule.
pub struct ClientRule {
    /// The kind of client it judges; `None`: both.
    pub auth: Option<Auth>,
    pub id: &'static str,
    pub level: Level,
    /// The documentation sentence, paraphrased.
    pub doc: &'static str,
    /// How to fix a client that breaks it, one sentence.
    pub fix: &'static str,
    judge: fn(&RunRecord) -> Verdict,
}

/// What a judge says before it becomes a finding.
pub(crate) enum Verdict {
    Holds(String),
    Broken(String, Vec<String>),
    NotApplicable(String),
}

impl ClientRule {
    pub fn judge(&self, run: &RunRecord) -> Finding {
        let verdict = match self.auth {
            Some(auth) if auth != run.scenario.auth => Verdict::NotApplicable(format!(
                "a rule for {}; this is {}",
                auth.client(),
                run.scenario.auth.client()
            )),
            _ => (self.judge)(run),
        };
        let (outcome, message, evidence) = match verdict {
            Verdict::Holds(m) => (Outcome::Pass, m, vec![]),
            Verdict::Broken(m, e) => (
                if self.level == Level::Must {
                    Outcome::Fail
                } else {
                    Outcome::Warn
                },
                m,
                compact(e),
            ),
            Verdict::NotApplicable(m) => (Outcome::Skip, m, vec![]),
        };
        Finding {
            rule: self.id,
            severity: self.level,
            outcome,
            expected: self.doc,
            fix: self.fix,
            message,
            evidence,
        }
    }
}

/// `text` with each request number (`#123`) reduced to `#`.
pub fn without_request_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '#' {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        }
    }
    out
}

/// Evidence lines that differ only in their request numbers, merged into one: the first,
/// with how many there were and which (`(970×: #5, #7, #9 … #1943)`). Order is kept.
pub fn compact(lines: Vec<String>) -> Vec<String> {
    fn first_id(line: &str) -> Option<&str> {
        let rest = line.strip_prefix('#')?;
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    }
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let k = without_request_numbers(&line);
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, members)) => members.push(line),
            None => groups.push((k, vec![line])),
        }
    }
    groups
        .into_iter()
        .map(|(_, mut members)| {
            if members.len() == 1 {
                return members.remove(0);
            }
            let ids: Vec<&str> = members.iter().filter_map(|l| first_id(l)).collect();
            let shown = match ids.len() {
                0 => String::new(),
                1..=4 => format!(": #{}", ids.join(", #")),
                n => format!(": #{}, #{}, #{} … #{}", ids[0], ids[1], ids[2], ids[n - 1]),
            };
            format!("{} ({}×{shown})", members[0], members.len())
        })
        .collect()
}

/// One line describing an exchange, with the mock's rule and hint.
pub fn describe(e: &Exchange) -> String {
    let query = e
        .raw_query
        .as_deref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut line = format!(
        "#{} {} {}{} ({} origin) -> {}",
        e.id, e.method, e.path, query, e.origin, e.status
    );
    if let Some(rule) = e.rule {
        line.push_str(&format!(" [{rule}]"));
    }
    if let Some(hint) = &e.hint {
        line.push_str(&format!(" — {hint}"));
    }
    if let Some(scripted) = &e.scripted {
        line.push_str(&format!(" (scripted: {scripted})"));
    } else if e.fault {
        line.push_str(" (injected fault)");
    }
    if let Some(w) = e.warning {
        line.push_str(&format!(" (warning {w})"));
    }
    line
}

pub(crate) fn is_token(e: &Exchange) -> bool {
    e.path == "/oauth/token"
}

/// A refresh request (`grant_type=refresh_token` to the token endpoint).
pub(crate) fn is_refresh(e: &Exchange) -> bool {
    is_token(e) && form(e, "grant_type") == Some("refresh_token")
}

pub(crate) fn is_api(e: &Exchange) -> bool {
    e.path == "/api" || e.path.starts_with("/api/")
}

pub(crate) fn form<'a>(e: &'a Exchange, name: &str) -> Option<&'a str> {
    e.form
        .as_ref()?
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Broken when the mock refused any request under one of `mock_rules`; holds when the
/// `relevant` traffic happened without it; not applicable otherwise.
fn by_mock_rules(
    run: &RunRecord,
    mock_rules: &[&str],
    relevant: fn(&Exchange) -> bool,
    what: &str,
) -> Verdict {
    let offending: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.rule.is_some_and(|r| mock_rules.contains(&r)))
        .map(describe)
        .collect();
    if !offending.is_empty() {
        let n = offending.len();
        return Verdict::Broken(
            format!("the mock refused {n} request(s) under this rule"),
            offending,
        );
    }
    if run.exchanges.iter().any(relevant) {
        Verdict::Holds(format!("every {what} kept the rule"))
    } else {
        Verdict::NotApplicable(format!("no {what} was made"))
    }
}

fn authorize_urls(run: &RunRecord) -> impl Iterator<Item = &str> {
    run.opened.iter().map(|o| o.url.as_str())
}

macro_rules! mock_rule {
    ($name:ident, [$($r:literal),*], $relevant:expr, $what:literal) => {
        fn $name(run: &RunRecord) -> Verdict {
            by_mock_rules(run, &[$($r),*], $relevant, $what)
        }
    };
}

mock_rule!(
    client_id_encoded,
    ["client-id-encoded", "client-secret-encoded", "client-known"],
    |e| e.path.starts_with("/oauth/"),
    "OAuth request"
);
mock_rule!(
    redirect_uri_registered,
    ["redirect-uri-registered"],
    |e| e.path == "/oauth/authorize",
    "authorization request"
);
mock_rule!(token_post, ["token-post"], is_token, "token request");
mock_rule!(
    token_form_body,
    ["token-form-body", "token-form-encoding", "param-once"],
    is_token,
    "token request"
);
mock_rule!(
    token_redirect_uri_repeated,
    ["token-redirect-uri-repeated", "redirect-uri-exact"],
    is_token,
    "token request"
);
mock_rule!(
    code_single_use,
    ["code-single-use"],
    is_token,
    "token request"
);
mock_rule!(bearer_header, ["bearer-header"], is_api, "API request");
mock_rule!(
    token_only_for_api,
    ["token-only-for-api"],
    |e| !e.path.starts_with("/__mock"),
    "request"
);
mock_rule!(
    scope_registered,
    ["scope-registered"],
    |e| e.path == "/oauth/authorize",
    "authorization request"
);

mock_rule!(
    signature_valid,
    ["signature-valid", "api-key-header"],
    apikey::is_signed,
    "signed request"
);
mock_rule!(
    content_type_signed,
    ["content-type-signed"],
    apikey::is_signed,
    "signed request"
);
mock_rule!(
    nonce_unique,
    ["nonce-unique"],
    apikey::is_signed,
    "signed request"
);
mock_rule!(key_not_in_url, ["key-not-in-url"], is_api, "API request");

/// The catalog, in report order.
pub const ALL: &[ClientRule] = &[
    ClientRule { auth: Some(Auth::Oauth), id: "authorize-get", level: Level::Must, doc: "Direct the user to GET /oauth/authorize with the values as URL-encoded query parameters.", fix: "Run BROWSER with ONSHAPE_OAUTH_URL/oauth/authorize?response_type=code&client_id=…; never POST the authorization request yourself.", judge: authorize_get },
    ClientRule { auth: Some(Auth::Oauth), id: "client-id-encoded", level: Level::Must, doc: "The client id (and secret) end in = which must be URL-encoded as %3D, in the authorization URL and the token form.", fix: "Encode every value with a URL-encoding function (urlencode, URLSearchParams, serde_urlencoded); do not paste the id into a string.", judge: client_id_encoded },
    ClientRule { auth: Some(Auth::Oauth), id: "redirect-uri-registered", level: Level::Must, doc: "Only a redirect_uri registered for the application may be used, matching exactly.", fix: "Send ONSHAPE_REDIRECT_URI unchanged: same scheme, host, port and path, no trailing slash added.", judge: redirect_uri_registered },
    ClientRule { auth: Some(Auth::Oauth), id: "scope-as-configured", level: Level::Must, doc: "Send ONSHAPE_SCOPE as the scope parameter when it is set, and no scope when it is not (the runner's contract).", fix: "Pass the configured scope through unchanged (space-separated); omit the parameter when none is configured.", judge: scope_as_configured },
    ClientRule { auth: Some(Auth::Oauth), id: "state-sent", level: Level::Should, doc: "Send a state parameter; it comes back unchanged on the callback.", fix: "Generate a random state for each authorization and add it to the authorization URL.", judge: state_sent },
    ClientRule { auth: Some(Auth::Oauth), id: "state-verified", level: Level::Must, doc: "The callback's state must be the one the client issued (RFC 6749 §10.12); a code from a forged callback must not be redeemed.", fix: "Compare the callback's state with the one you issued before using its code; refuse the callback on a mismatch.", judge: state_verified },
    ClientRule { auth: Some(Auth::Oauth), id: "token-post", level: Level::Must, doc: "The token request is a POST, not a GET with query parameters.", fix: "Send POST /oauth/token.", judge: token_post },
    ClientRule { auth: Some(Auth::Oauth), id: "token-form-body", level: Level::Must, doc: "The token request's data is a URL-encoded form body (application/x-www-form-urlencoded), each value encoded, the body not encoded as a whole.", fix: "Send Content-Type: application/x-www-form-urlencoded and name=value pairs joined by &, each value encoded, nothing in the query string.", judge: token_form_body },
    ClientRule { auth: Some(Auth::Oauth), id: "token-redirect-uri-repeated", level: Level::Must, doc: "A redirect_uri supplied to /oauth/authorize must also be supplied, identical, to /oauth/token.", fix: "Add redirect_uri to the code exchange, the same string as in the authorization URL.", judge: token_redirect_uri_repeated },
    ClientRule { auth: Some(Auth::Oauth), id: "token-at-oauth-host", level: Level::Should, doc: "Token requests go to the OAuth host (https://oauth.onshape.com/oauth/token); the API host answers them too (passport-onshape's default), but the guide names the OAuth host.", fix: "Send token requests to ONSHAPE_OAUTH_URL/oauth/token (passport-onshape: set tokenURL to https://oauth.onshape.com/oauth/token).", judge: token_at_oauth_host },
    ClientRule { auth: Some(Auth::Oauth), id: "code-single-use", level: Level::Must, doc: "The authorization code is a one-time use token.", fix: "Redeem each code once and keep the tokens; a second redemption revokes them.", judge: code_single_use },
    ClientRule { auth: Some(Auth::Oauth), id: "code-expiry-handled", level: Level::Must, doc: "A code expires 60 s after issue: do not retry an expired code; authorize again or fail clearly.", fix: "On invalid_grant for an expired code, start a new authorization (or stop with a message); never resend the code.", judge: code_expiry_handled },
    ClientRule { auth: Some(Auth::Oauth), id: "secret-not-in-url", level: Level::Must, doc: "The client secret is protected like a password: never in a URL.", fix: "Send client_secret only in the token request's form body (or as HTTP Basic).", judge: secret_not_in_url },
    ClientRule { auth: Some(Auth::Oauth), id: "bearer-header", level: Level::Must, doc: "The access token goes in the header Authorization: Bearer <access_token> on every API request.", fix: "Set Authorization: Bearer <access_token>; never put the token in the URL.", judge: bearer_header },
    ClientRule { auth: Some(Auth::Oauth), id: "token-only-for-api", level: Level::Must, doc: "An OAuth token works for the APIs under /api only.", fix: "Send the bearer token only with requests to ONSHAPE_API_URL/api/….", judge: token_only_for_api },
    ClientRule { auth: Some(Auth::Oauth), id: "refresh-on-expiry", level: Level::Must, doc: "The access token lives 60 minutes; then the client must use the refresh token to get a new one.", fix: "When the token's expires_in has passed, or on a 401 from the API, POST grant_type=refresh_token and retry the call with the new access token.", judge: refresh_on_expiry },
    ClientRule { auth: Some(Auth::Oauth), id: "refresh-on-401", level: Level::Should, doc: "A 401 from the API before the token's announced expiry (revoked elsewhere, an expires_in misstated or left out) means the token is no good: refresh and retry the call (RFC 6750 §3.1) rather than stop.", fix: "On a 401 from the API, refresh (without a refresh token: authorize again) and retry the call once; stop with a message only if that fails too.", judge: refresh_on_401 },
    ClientRule { auth: Some(Auth::Oauth), id: "refresh-token-rotated", level: Level::Must, doc: "Each refresh returns a new refresh token; the client must store and use the newest.", fix: "Replace the stored refresh token with the one of every token response.", judge: refresh_token_rotated },
    ClientRule { auth: Some(Auth::Oauth), id: "refresh-only-when-expired", level: Level::Must, doc: "Refresh when the access token has expired (its 60 minutes passed, or a 401 says so), not on a 403: a refreshed token carries the same scopes and permissions, so the 403 comes back.", fix: "Refresh on 401 or when expires_in has passed; on 403, stop and report the missing scope or permission.", judge: refresh_only_when_expired },
    ClientRule { auth: Some(Auth::Oauth), id: "no-refresh-loop", level: Level::Must, doc: "A revoked grant invalidates the refresh token: stop refreshing, authorize again or fail with a clear message.", fix: "After a failed refresh, do not refresh again with that token: authorize again or stop with a message.", judge: no_refresh_loop },
    ClientRule { auth: Some(Auth::Oauth), id: "single-refresh", level: Level::Must, doc: "One expiry, one refresh: calls that meet the expired token at the same time wait for a single refresh; with rotation a second refresh with the same refresh token revokes the whole chain (RFC 9700 §4.14.2).", fix: "Serialize refreshes (a lock, or one shared in-flight refresh): a call that got 401 refreshes only if the token it used is still the current one, else retries with the new one.", judge: single_refresh },
    ClientRule { auth: Some(Auth::Oauth), id: "credentials-kept-on-bad-response", level: Level::Must, doc: "A token response that cannot be used (not JSON, an HTML page, no access_token, an unknown token_type) is discarded: the client keeps the credentials it had, and never sends one it was not given — an empty or null token, a refresh without a refresh token (RFC 6749 §5.1, §7.1).", fix: "Validate the token response (JSON object, access_token, token_type Bearer) before storing anything; without a refresh token, authorize again when the access token dies.", judge: credentials_kept },
    ClientRule { auth: Some(Auth::Oauth), id: "no-exchange-without-code", level: Level::Must, doc: "Redeem only a callback that carries a code and no error (RFC 6749 §4.1.2.1): a callback with an error — even one that also has a code — or with neither leads to no token request.", fix: "Check the callback for error= first and stop (or authorize again) when it is there; without a code, make no token request.", judge: no_exchange_without_code },
    ClientRule { auth: Some(Auth::Oauth), id: "denied-handled", level: Level::Must, doc: "If the user denies, the callback carries error=access_denied: redeem nothing, stop with a message.", fix: "Check the callback for error= before looking for a code; on access_denied, stop with a message and a non-zero exit.", judge: denied_handled },
    ClientRule { auth: Some(Auth::Oauth), id: "scope-registered", level: Level::Must, doc: "The scope parameter may only name a subset of the registered scopes, space-separated.", fix: "Request only registered scopes by their current names (OAuth2Read …), separated by spaces.", judge: scope_registered },
    ClientRule { auth: Some(Auth::Oauth), id: "company-selected", level: Level::Must, doc: "Tokens are per user and company: send company_id, or let the user choose when they belong to several.", fix: "Send ONSHAPE_COMPANY_ID as company_id when it is set.", judge: company_selected },
    ClientRule { auth: Some(Auth::ApiKey), id: "signature-valid", level: Level::Must, doc: mock_server::rules::SIGNATURE_VALID.doc, fix: mock_server::rules::SIGNATURE_VALID.fix, judge: signature_valid },
    ClientRule { auth: Some(Auth::ApiKey), id: "content-type-signed", level: Level::Must, doc: mock_server::rules::CONTENT_TYPE_SIGNED.doc, fix: mock_server::rules::CONTENT_TYPE_SIGNED.fix, judge: content_type_signed },
    ClientRule { auth: Some(Auth::ApiKey), id: "nonce-unique", level: Level::Must, doc: "Each signed request carries a new On-Nonce of at least 16 letters and digits; a nonce is used once.", fix: "Draw a new random nonce (25 letters and digits) for every request, retries and redirects included, and sign with it.", judge: nonce_unique },
    ClientRule { auth: Some(Auth::ApiKey), id: "date-fresh", level: Level::Must, doc: "A signed request's Date is the time it was signed (RFC 1123, GMT), within 5 minutes of the server's time.", fix: "Take the Date when you sign each request, from a clock that is right; when the server's Date says yours is off, correct by it rather than resend.", judge: date_fresh },
    ClientRule { auth: Some(Auth::ApiKey), id: "redirect-resigned", level: Level::Must, doc: mock_server::rules::REDIRECT_RESIGNED.doc, fix: mock_server::rules::REDIRECT_RESIGNED.fix, judge: redirect_resigned },
    ClientRule { auth: Some(Auth::ApiKey), id: "key-not-in-url", level: Level::Must, doc: mock_server::rules::KEY_NOT_IN_URL.doc, fix: mock_server::rules::KEY_NOT_IN_URL.fix, judge: key_not_in_url },
    ClientRule { auth: Some(Auth::ApiKey), id: "no-retry-on-401", level: Level::Should, doc: "A 401 does not go away by itself (a deleted key, a wrong secret): retry at most once — say with the clock corrected by the response's Date — then stop with a message.", fix: "On 401, stop and report the mock's message (a key problem needs a person); retry once only when you changed something, such as the Date.", judge: no_retry_on_401 },
    ClientRule { auth: None, id: "request-valid", level: Level::Must, doc: "Every request is one the mock accepts, but for the refusals a scenario provokes on purpose (expired token or code, revoked grant, and those the scenario lists in expected_refusals).", fix: "Read the mock's hint in the evidence: it names the documented rule the request broke.", judge: request_valid },
    ClientRule { auth: None, id: "retry-after-respected", level: Level::Should, doc: "On 429 (or 503) with Retry-After, wait that long before retrying.", fix: "Read Retry-After (seconds) and wait at least that long before the next attempt.", judge: retry_after_respected },
    ClientRule { auth: None, id: "retry-bounded", level: Level::Must, doc: "Retry a transient failure (429, 5xx, no answer, a connection closed) a bounded number of times — at most 3 retries of one request — and never resend unchanged a request refused with a permanent error (a 4xx from the token endpoint: invalid_grant, invalid_client, a firewall's page).", fix: "Count attempts per request (3 retries at most, with a pause), then stop with a message; on a 4xx token error, stop or start over (authorize again) instead of resending.", judge: retry_bounded },
    ClientRule { auth: None, id: "timeout-bounded", level: Level::Must, doc: "Every request has a timeout: an answer that does not come within ONSHAPE_HTTP_TIMEOUT seconds is given up on, and the client goes on or stops with a message; it never waits for ever (the runner's contract).", fix: "Set a timeout on every HTTP call (requests: timeout=; urllib: timeout=; fetch: AbortSignal.timeout) from ONSHAPE_HTTP_TIMEOUT, and report a timeout as a failure.", judge: timeout_bounded },
    ClientRule { auth: None, id: "secrets-not-printed", level: Level::Must, doc: "The client secret and an API secret key must be protected like passwords, and access and refresh tokens are credentials: none may appear in the client's output or logs.", fix: "Never print or log the client secret, the API secret key, an access token or a refresh token (nor a token response or header that carries one); print a short fingerprint if you must.", judge: secrets_not_printed },
    ClientRule { auth: Some(Auth::Oauth), id: "codes-not-printed", level: Level::Should, doc: "An authorization code is a credential for its 60 seconds; logs that keep callback URLs keep codes (RFC 6749 §10.5).", fix: "Do not log the callback URL's query (web servers' access logs do: Flask's development server, morgan); log the path only.", judge: codes_not_printed },
    ClientRule { auth: None, id: "exit-status", level: Level::Must, doc: "The client makes every call of ONSHAPE_API_CALLS — an OAuth client once authorized (through BROWSER, or as a web app from its start URL), an API-key client with its key — and ends with success when they all succeeded — exit 0, or a 2xx last page — and otherwise with a failure and a message (the runner's contract).", fix: "Exit 0 (web app: answer 2xx) only when every configured call succeeded; otherwise print why on stderr (web app: in the page) and exit non-zero (answer 4xx/5xx).", judge: exit_status },
];

pub fn by_id(id: &str) -> Option<&'static ClientRule> {
    ALL.iter().find(|r| r.id == id)
}

/// Judges a run against every rule.
pub fn judge(run: &RunRecord) -> Vec<Finding> {
    ALL.iter().map(|r| r.judge(run)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_differing_only_in_request_numbers_is_merged() {
        let lines = (0..6)
            .map(|i| {
                format!(
                    "#{} GET /api/x (api origin) -> 403 [scope-sufficient]",
                    10 + 2 * i
                )
            })
            .chain(["#99 POST /oauth/token (oauth origin) -> 200".to_owned()])
            .chain((0..2).map(|_| "stderr line 3: a token".to_owned()))
            .collect();
        assert_eq!(
            compact(lines),
            [
                "#10 GET /api/x (api origin) -> 403 [scope-sufficient] (6×: #10, #12, #14 … #20)",
                "#99 POST /oauth/token (oauth origin) -> 200",
                "stderr line 3: a token (2×)",
            ]
        );
    }
}
