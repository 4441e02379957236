//! The client rules: what a conformant client does, each judged from a run's recorded
//! traffic and the client's exit. Ids are stable (users put them in baselines). Where the
//! mock itself refuses a request, the judgement reuses the mock's rule id from
//! [`mock_server::rules`]; the rest look at the whole run (what was opened, what came after
//! a forged callback, whether refreshing stopped).

use mock_server::record::Exchange;
use serde::Serialize;

use crate::driver::{ClientEnd, RunRecord};
use crate::scenario::{Decision, Expect};

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
    pub id: &'static str,
    pub level: Level,
    /// The documentation sentence, paraphrased.
    pub doc: &'static str,
    /// How to fix a client that breaks it, one sentence.
    pub fix: &'static str,
    judge: fn(&RunRecord) -> Verdict,
}

/// What a judge says before it becomes a finding.
enum Verdict {
    Holds(String),
    Broken(String, Vec<String>),
    NotApplicable(String),
}

impl ClientRule {
    pub fn judge(&self, run: &RunRecord) -> Finding {
        let (outcome, message, evidence) = match (self.judge)(run) {
            Verdict::Holds(m) => (Outcome::Pass, m, vec![]),
            Verdict::Broken(m, e) => (
                if self.level == Level::Must {
                    Outcome::Fail
                } else {
                    Outcome::Warn
                },
                m,
                e,
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
    if e.fault {
        line.push_str(" (injected fault)");
    }
    line
}

fn is_token(e: &Exchange) -> bool {
    e.path == "/oauth/token"
}

fn is_api(e: &Exchange) -> bool {
    e.path == "/api" || e.path.starts_with("/api/")
}

fn form<'a>(e: &'a Exchange, name: &str) -> Option<&'a str> {
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

fn authorize_get(run: &RunRecord) -> Verdict {
    let posted: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.path == "/oauth/authorize" && e.method != "GET")
        .map(describe)
        .collect();
    if !posted.is_empty() {
        return Verdict::Broken("the authorization request was not a GET".into(), posted);
    }
    let wrong: Vec<String> = authorize_urls(run)
        .filter(|u| {
            url::Url::parse(u)
                .map(|p| p.path() != "/oauth/authorize")
                .unwrap_or(true)
        })
        .map(|u| format!("opened {u}"))
        .collect();
    if !wrong.is_empty() {
        return Verdict::Broken(
            "the browser was sent somewhere else than /oauth/authorize".into(),
            wrong,
        );
    }
    if run.opened.is_empty() {
        Verdict::NotApplicable("the client opened no URL".into())
    } else {
        Verdict::Holds("the browser was sent to GET /oauth/authorize".into())
    }
}

fn state_sent(run: &RunRecord) -> Verdict {
    let missing: Vec<String> = authorize_urls(run)
        .filter(|u| crate::driver::query_param(u, "state").is_none_or(|s| s.is_empty()))
        .map(|u| format!("opened {u}"))
        .collect();
    match (missing.is_empty(), run.opened.is_empty()) {
        (_, true) => Verdict::NotApplicable("the client opened no URL".into()),
        (true, false) => Verdict::Holds("every authorization URL carried a state".into()),
        (false, false) => Verdict::Broken(
            "an authorization URL carried no state: the callback cannot be tied to the request (CSRF)".into(),
            missing,
        ),
    }
}

fn state_verified(run: &RunRecord) -> Verdict {
    let Some(forged) = run.delivered.iter().find(|d| d.forged) else {
        return Verdict::NotApplicable("no forged callback in this scenario".into());
    };
    let Some(code) = &forged.code else {
        return Verdict::NotApplicable("the forged callback carried no code".into());
    };
    let redeemed: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| {
            is_token(e)
                && (form(e, "code") == Some(code.as_str())
                    || e.raw_query
                        .as_deref()
                        .is_some_and(|q| q.contains(&format!("code={code}"))))
        })
        .map(describe)
        .collect();
    if redeemed.is_empty() {
        Verdict::Holds("the code of the callback with a forged state was not redeemed".into())
    } else {
        Verdict::Broken(
            format!(
                "the client redeemed the code of a callback whose state it never issued ({})",
                forged.to
            ),
            redeemed,
        )
    }
}

fn token_at_oauth_host(run: &RunRecord) -> Verdict {
    let elsewhere: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| is_token(e) && e.origin == "api")
        .map(describe)
        .collect();
    if !elsewhere.is_empty() {
        return Verdict::Broken(
            "token requests went to the API host; the guide names https://oauth.onshape.com/oauth/token".into(),
            elsewhere,
        );
    }
    if run.exchanges.iter().any(is_token) {
        Verdict::Holds("token requests went to the OAuth host".into())
    } else {
        Verdict::NotApplicable("no token request".into())
    }
}

fn secret_not_in_url(run: &RunRecord) -> Verdict {
    let mut leaks: Vec<String> = authorize_urls(run)
        .filter(|u| crate::driver::query_param(u, "client_secret").is_some())
        .map(|u| format!("opened {}", mock_server::record::mask_query(u)))
        .collect();
    leaks.extend(
        run.exchanges
            .iter()
            .filter(|e| {
                e.raw_query
                    .as_deref()
                    .is_some_and(|q| q.contains("client_secret="))
            })
            .map(describe),
    );
    if !leaks.is_empty() {
        return Verdict::Broken("the client secret appeared in a URL".into(), leaks);
    }
    Verdict::Holds("the client secret never appeared in a URL".into())
}

fn code_expiry_handled(run: &RunRecord) -> Verdict {
    let expired: Vec<&Exchange> = run
        .exchanges
        .iter()
        .filter(|e| e.rule == Some("code-expired"))
        .collect();
    if expired.is_empty() {
        return Verdict::NotApplicable("no code expired".into());
    }
    if expired.len() > 1 {
        return Verdict::Broken(
            "the client retried an expired code".into(),
            expired.into_iter().map(describe).collect(),
        );
    }
    let reauthorized = run.opened.len() > 1;
    match run.exit_code() {
        Some(0) if reauthorized => {
            Verdict::Holds("the client authorized again after the code expired".into())
        }
        Some(0) => Verdict::Broken(
            "the client exited 0 after its code expired, without authorizing again".into(),
            expired.into_iter().map(describe).collect(),
        ),
        Some(_) => Verdict::Holds("the client stopped with an error after the code expired".into()),
        None => Verdict::Broken(
            "the client did not end after its code expired".into(),
            vec![],
        ),
    }
}

fn refresh_on_expiry(run: &RunRecord) -> Verdict {
    let Some(first) = run
        .exchanges
        .iter()
        .position(|e| e.rule == Some("access-token-expired"))
    else {
        return Verdict::NotApplicable("no access token expired in this run".into());
    };
    let after = &run.exchanges[first..];
    let refreshed = after
        .iter()
        .any(|e| is_token(e) && e.status == 200 && form(e, "grant_type") == Some("refresh_token"));
    let went_on = after
        .iter()
        .any(|e| is_api(e) && (200..300).contains(&e.status));
    if refreshed && went_on {
        Verdict::Holds("after the 401 the client refreshed and went on".into())
    } else {
        let evidence = vec![describe(&run.exchanges[first])];
        Verdict::Broken(
            if refreshed {
                "the client refreshed but made no successful API call afterwards".into()
            } else {
                "the access token expired and the client did not refresh it".into()
            },
            evidence,
        )
    }
}

fn refresh_token_rotated(run: &RunRecord) -> Verdict {
    let stale: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.rule == Some("refresh-token-rotated"))
        .map(describe)
        .collect();
    if !stale.is_empty() {
        return Verdict::Broken(
            "the client refreshed with a refresh token that had been rotated out".into(),
            stale,
        );
    }
    let refreshes = run
        .exchanges
        .iter()
        .filter(|e| {
            is_token(e) && e.status == 200 && form(e, "grant_type") == Some("refresh_token")
        })
        .count();
    if refreshes >= 2 {
        Verdict::Holds(format!(
            "{refreshes} refreshes, each with the newest refresh token"
        ))
    } else {
        Verdict::NotApplicable("fewer than two refreshes: rotation not exercised".into())
    }
}

fn no_refresh_loop(run: &RunRecord) -> Verdict {
    let failed: Vec<&Exchange> = run
        .exchanges
        .iter()
        .filter(|e| {
            is_token(e)
                && form(e, "grant_type") == Some("refresh_token")
                && e.status >= 400
                && !e.fault
        })
        .collect();
    match failed.len() {
        0 => Verdict::NotApplicable("no refresh failed".into()),
        1 => Verdict::Holds("after a failed refresh the client did not refresh again with that token".into()),
        n => Verdict::Broken(
            format!("{n} refreshes failed: after the first, the client should stop refreshing and authorize again or fail"),
            failed.into_iter().map(describe).collect(),
        ),
    }
}

fn denied_handled(run: &RunRecord) -> Verdict {
    if run.scenario.decision != Decision::Deny {
        return Verdict::NotApplicable("the user did not deny".into());
    }
    if run.delivered.is_empty() {
        return Verdict::NotApplicable("the authorization never reached the consent page".into());
    }
    let redeemed: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| is_token(e))
        .map(describe)
        .collect();
    if !redeemed.is_empty() {
        return Verdict::Broken(
            "the client called the token endpoint after the user denied".into(),
            redeemed,
        );
    }
    match run.end {
        ClientEnd::Exited(Some(c)) if c != 0 => {
            Verdict::Holds("the client stopped with an error after the denial".into())
        }
        ClientEnd::Exited(_) => Verdict::Broken(
            "the client exited 0 although the user denied access".into(),
            vec![],
        ),
        _ => Verdict::Broken("the client did not end after the denial".into(), vec![]),
    }
}

fn retry_after_respected(run: &RunRecord) -> Verdict {
    let mut checked = 0;
    for (i, e) in run.exchanges.iter().enumerate() {
        if !e.fault {
            continue;
        }
        let mut faults = run.scenario.faults.iter().chain(
            run.scenario
                .triggers
                .iter()
                .filter_map(|t| t.fault.as_ref()),
        );
        let wait_ms = faults
            .find(|f| f.status == e.status && f.matches(&e.path))
            .and_then(|f| f.retry_after)
            .map(|s| s * 1000);
        let Some(wait_ms) = wait_ms else { continue };
        let same_surface = |n: &Exchange| is_api(n) == is_api(e) && is_token(n) == is_token(e);
        if let Some(next) = run.exchanges[i + 1..].iter().find(|n| same_surface(n)) {
            checked += 1;
            let waited = next.elapsed_ms.saturating_sub(e.elapsed_ms);
            // A little slack for scheduling: 90 % of the asked wait.
            if waited * 10 < wait_ms * 9 {
                return Verdict::Broken(
                    format!(
                        "Retry-After asked for {} s; the client came back after {waited} ms",
                        wait_ms / 1000
                    ),
                    vec![describe(e), describe(next)],
                );
            }
        }
    }
    if checked == 0 {
        Verdict::NotApplicable("no 429 or 503 with Retry-After was retried".into())
    } else {
        Verdict::Holds("the client waited as long as Retry-After asked".into())
    }
}

fn exit_status(run: &RunRecord) -> Verdict {
    let code = match &run.end {
        ClientEnd::Exited(code) => *code,
        ClientEnd::TimedOut => {
            return Verdict::Broken(
                "the client did not finish within the timeout".into(),
                vec![],
            )
        }
        ClientEnd::EndedEarly(why) => {
            return Verdict::Broken(format!("the scenario ended early: {why}"), vec![])
        }
    };
    if run.dropped_exchanges > 0 {
        return Verdict::Broken(
            format!("the client made so many requests that {} fell out of the log; the run cannot be judged", run.dropped_exchanges),
            vec![],
        );
    }
    if run.opened.is_empty() {
        return Verdict::Broken(
            format!(
                "the client {} without ever opening the authorization URL with BROWSER",
                exited(code)
            ),
            vec![],
        );
    }
    let missing = missing_calls(run);
    let all_done = missing.is_empty();
    let quiet = run.stderr.trim().is_empty();
    match (run.scenario.expect, code) {
        (Expect::Success | Expect::Either, Some(0)) if all_done => {
            Verdict::Holds("exit 0 after every API call of ONSHAPE_API_CALLS succeeded".into())
        }
        (_, Some(0)) if !all_done => Verdict::Broken(
            format!(
                "exit 0, but these API calls never succeeded: {}",
                missing.join("; ")
            ),
            vec![],
        ),
        (Expect::Failure, Some(0)) => {
            Verdict::Broken("a correct client fails here; it exited 0".into(), vec![])
        }
        (Expect::Success, c) => Verdict::Broken(
            format!("a correct client succeeds here; it {}", exited(c)),
            vec![],
        ),
        (_, c) if quiet => Verdict::Broken(
            format!("the client {} without a message on stderr", exited(c)),
            vec![],
        ),
        (_, c) => Verdict::Holds(format!(
            "the client stopped with a message: it {}",
            exited(c)
        )),
    }
}

/// The `METHOD PATH` calls of the scenario that never got a 2xx.
fn missing_calls(run: &RunRecord) -> Vec<String> {
    run.scenario
        .api_calls
        .iter()
        .filter(|call| {
            let (method, path) = call.split_once(' ').unwrap_or((call.as_str(), ""));
            !run.exchanges
                .iter()
                .any(|e| e.method == method && e.path == path && (200..300).contains(&e.status))
        })
        .cloned()
        .collect()
}

/// Mock rules that a scenario provokes on purpose (a correct client meets them too), and
/// those other client rules already report.
const PROVOKED_OR_MAPPED: &[&str] = &[
    "access-token-expired",
    "grant-active",
    "code-expired",
    "client-id-encoded",
    "client-secret-encoded",
    "client-known",
    "redirect-uri-registered",
    "token-post",
    "token-form-body",
    "token-form-encoding",
    "param-once",
    "token-redirect-uri-repeated",
    "redirect-uri-exact",
    "code-single-use",
    "bearer-header",
    "token-only-for-api",
    "scope-registered",
    "secret-not-in-url",
    "refresh-token-rotated",
];

fn request_valid(run: &RunRecord) -> Verdict {
    let refused: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.rule.is_some_and(|r| !PROVOKED_OR_MAPPED.contains(&r)))
        .map(describe)
        .collect();
    if refused.is_empty() {
        Verdict::Holds("the mock refused no request for any other reason".into())
    } else {
        Verdict::Broken(
            format!("the mock refused {} request(s)", refused.len()),
            refused,
        )
    }
}

fn scope_as_configured(run: &RunRecord) -> Verdict {
    if run.opened.is_empty() {
        return Verdict::NotApplicable("the client opened no URL".into());
    }
    let want = run.scenario.scope.as_deref();
    let wrong: Vec<String> = authorize_urls(run)
        .filter(|u| crate::driver::query_param(u, "scope").as_deref() != want)
        .map(|u| format!("opened {}", mock_server::record::mask_query_in_url(u)))
        .collect();
    match (wrong.is_empty(), want) {
        (true, Some(s)) => Verdict::Holds(format!("the authorization URL asked for scope `{s}`")),
        (true, None) => Verdict::Holds("the authorization URL carried no scope".into()),
        (false, Some(s)) => Verdict::Broken(
            format!("ONSHAPE_SCOPE is `{s}`; the authorization URL asked for something else"),
            wrong,
        ),
        (false, None) => Verdict::Broken(
            "ONSHAPE_SCOPE is unset; the authorization URL still carried a scope".into(),
            wrong,
        ),
    }
}

fn exited(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exited {c}"),
        None => "was killed by a signal".to_owned(),
    }
}

fn company_selected(run: &RunRecord) -> Verdict {
    let Some(want) = &run.scenario.expect_company else {
        return Verdict::NotApplicable("the scenario expects no company".into());
    };
    let redeemed = run.exchanges.iter().any(|e| {
        is_token(e) && e.status == 200 && form(e, "grant_type") == Some("authorization_code")
    });
    if !redeemed {
        return Verdict::NotApplicable("no authorization completed".into());
    }
    if run
        .grant_companies
        .iter()
        .any(|c| c.as_deref() == Some(want.as_str()))
    {
        Verdict::Holds(format!("the grant belongs to company {want}"))
    } else {
        Verdict::Broken(
            format!(
                "no grant for company {want}; grants: {:?}",
                run.grant_companies
            ),
            vec![],
        )
    }
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

/// The catalog, in report order.
pub const ALL: &[ClientRule] = &[
    ClientRule { id: "authorize-get", level: Level::Must, doc: "Direct the user to GET /oauth/authorize with the values as URL-encoded query parameters.", fix: "Run BROWSER with ONSHAPE_OAUTH_URL/oauth/authorize?response_type=code&client_id=…; never POST the authorization request yourself.", judge: authorize_get },
    ClientRule { id: "client-id-encoded", level: Level::Must, doc: "The client id (and secret) end in = which must be URL-encoded as %3D, in the authorization URL and the token form.", fix: "Encode every value with a URL-encoding function (urlencode, URLSearchParams, serde_urlencoded); do not paste the id into a string.", judge: client_id_encoded },
    ClientRule { id: "redirect-uri-registered", level: Level::Must, doc: "Only a redirect_uri registered for the application may be used, matching exactly.", fix: "Send ONSHAPE_REDIRECT_URI unchanged: same scheme, host, port and path, no trailing slash added.", judge: redirect_uri_registered },
    ClientRule { id: "scope-as-configured", level: Level::Must, doc: "Send ONSHAPE_SCOPE as the scope parameter when it is set, and no scope when it is not (the runner's contract).", fix: "Pass the configured scope through unchanged (space-separated); omit the parameter when none is configured.", judge: scope_as_configured },
    ClientRule { id: "state-sent", level: Level::Should, doc: "Send a state parameter; it comes back unchanged on the callback.", fix: "Generate a random state for each authorization and add it to the authorization URL.", judge: state_sent },
    ClientRule { id: "state-verified", level: Level::Must, doc: "The callback's state must be the one the client issued (RFC 6749 §10.12); a code from a forged callback must not be redeemed.", fix: "Compare the callback's state with the one you issued before using its code; refuse the callback on a mismatch.", judge: state_verified },
    ClientRule { id: "token-post", level: Level::Must, doc: "The token request is a POST, not a GET with query parameters.", fix: "Send POST /oauth/token.", judge: token_post },
    ClientRule { id: "token-form-body", level: Level::Must, doc: "The token request's data is a URL-encoded form body (application/x-www-form-urlencoded), each value encoded, the body not encoded as a whole.", fix: "Send Content-Type: application/x-www-form-urlencoded and name=value pairs joined by &, each value encoded, nothing in the query string.", judge: token_form_body },
    ClientRule { id: "token-redirect-uri-repeated", level: Level::Must, doc: "A redirect_uri supplied to /oauth/authorize must also be supplied, identical, to /oauth/token.", fix: "Add redirect_uri to the code exchange, the same string as in the authorization URL.", judge: token_redirect_uri_repeated },
    ClientRule { id: "token-at-oauth-host", level: Level::Must, doc: "Token requests go to the OAuth host (https://oauth.onshape.com/oauth/token).", fix: "Send token requests to ONSHAPE_OAUTH_URL/oauth/token, not to the API host.", judge: token_at_oauth_host },
    ClientRule { id: "code-single-use", level: Level::Must, doc: "The authorization code is a one-time use token.", fix: "Redeem each code once and keep the tokens; a second redemption revokes them.", judge: code_single_use },
    ClientRule { id: "code-expiry-handled", level: Level::Must, doc: "A code expires 60 s after issue: do not retry an expired code; authorize again or fail clearly.", fix: "On invalid_grant for an expired code, start a new authorization (or stop with a message); never resend the code.", judge: code_expiry_handled },
    ClientRule { id: "secret-not-in-url", level: Level::Must, doc: "The client secret is protected like a password: never in a URL.", fix: "Send client_secret only in the token request's form body (or as HTTP Basic).", judge: secret_not_in_url },
    ClientRule { id: "bearer-header", level: Level::Must, doc: "The access token goes in the header Authorization: Bearer <access_token> on every API request.", fix: "Set Authorization: Bearer <access_token>; never put the token in the URL.", judge: bearer_header },
    ClientRule { id: "token-only-for-api", level: Level::Must, doc: "An OAuth token works for the APIs under /api only.", fix: "Send the bearer token only with requests to ONSHAPE_API_URL/api/….", judge: token_only_for_api },
    ClientRule { id: "refresh-on-expiry", level: Level::Must, doc: "The access token lives 60 minutes; then the client must use the refresh token to get a new one.", fix: "On a 401 from the API, POST grant_type=refresh_token and retry the call with the new access token.", judge: refresh_on_expiry },
    ClientRule { id: "refresh-token-rotated", level: Level::Must, doc: "Each refresh returns a new refresh token; the client must store and use the newest.", fix: "Replace the stored refresh token with the one of every token response.", judge: refresh_token_rotated },
    ClientRule { id: "no-refresh-loop", level: Level::Must, doc: "A revoked grant invalidates the refresh token: stop refreshing, authorize again or fail with a clear message.", fix: "After a failed refresh, do not refresh again with that token: authorize again or stop with a message.", judge: no_refresh_loop },
    ClientRule { id: "denied-handled", level: Level::Must, doc: "If the user denies, the callback carries error=access_denied: redeem nothing, stop with a message.", fix: "Check the callback for error= before looking for a code; on access_denied, stop with a message and a non-zero exit.", judge: denied_handled },
    ClientRule { id: "scope-registered", level: Level::Must, doc: "The scope parameter may only name a subset of the registered scopes, space-separated.", fix: "Request only registered scopes by their current names (OAuth2Read …), separated by spaces.", judge: scope_registered },
    ClientRule { id: "company-selected", level: Level::Must, doc: "Tokens are per user and company: send company_id, or let the user choose when they belong to several.", fix: "Send ONSHAPE_COMPANY_ID as company_id when it is set.", judge: company_selected },
    ClientRule { id: "request-valid", level: Level::Must, doc: "Every request is one the mock accepts, but for the refusals a scenario provokes on purpose (expired token or code, revoked grant).", fix: "Read the mock's hint in the evidence: it names the documented rule the request broke.", judge: request_valid },
    ClientRule { id: "retry-after-respected", level: Level::Should, doc: "On 429 (or 503) with Retry-After, wait that long before retrying.", fix: "Read Retry-After (seconds) and wait at least that long before the next attempt.", judge: retry_after_respected },
    ClientRule { id: "exit-status", level: Level::Must, doc: "The client authorizes through BROWSER, makes every call of ONSHAPE_API_CALLS, and exits 0 when they all succeeded, non-zero with a message on stderr otherwise (the runner's contract).", fix: "Exit 0 only when every configured call succeeded; otherwise print why on stderr and exit non-zero.", judge: exit_status },
];

pub fn by_id(id: &str) -> Option<&'static ClientRule> {
    ALL.iter().find(|r| r.id == id)
}

/// Judges a run against every rule.
pub fn judge(run: &RunRecord) -> Vec<Finding> {
    ALL.iter().map(|r| r.judge(run)).collect()
}
