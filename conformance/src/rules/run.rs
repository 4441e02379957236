//! Rules about the run as a whole: the exit status (the runner's contract), refusals no
//! other rule covers, `Retry-After`, and secrets in the client's output.

use mock_server::mask::fingerprint;
use mock_server::record::Exchange;

use super::apikey::location_path;
use super::{describe, is_api, is_token, Verdict};
use crate::driver::{ClientEnd, RunRecord, Secret, SecretKind};
use crate::scenario::{Auth, Expect};

/// Mock rules that a scenario provokes on purpose (a correct client meets them too).
const PROVOKED: &[&str] = &["access-token-expired", "grant-active", "code-expired"];

/// Mock rules that the API-key client rules report.
const MAPPED_API_KEY: &[&str] = &[
    "signature-valid",
    "api-key-header",
    "content-type-signed",
    "nonce-unique",
    "date-fresh",
    "redirect-resigned",
    "key-not-in-url",
];

/// Mock rules that the OAuth client rules report.
const MAPPED_OAUTH: &[&str] = &[
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

pub(super) fn retry_after_respected(run: &RunRecord) -> Verdict {
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
            .find(|f| {
                f.status == Some(e.status) && f.matches(&e.path, super::form(e, "grant_type"))
            })
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

/// How the client ended, in words: `exited 1`, `answered 403`, `was killed by a signal`.
fn ended(run: &RunRecord) -> String {
    match run.end {
        ClientEnd::Answered(status) => format!("answered {status}"),
        _ => match run.exit_code() {
            Some(c) => format!("exited {c}"),
            None => "was killed by a signal".to_owned(),
        },
    }
}

pub(super) fn exit_status(run: &RunRecord) -> Verdict {
    match &run.end {
        ClientEnd::Exited(_) | ClientEnd::Answered(_) => {}
        ClientEnd::TimedOut => {
            return Verdict::Broken(
                "the client did not finish within the timeout".into(),
                vec![],
            )
        }
        ClientEnd::EndedEarly(why) => {
            return Verdict::Broken(format!("the scenario ended early: {why}"), vec![])
        }
    }
    let code = run.exit_code();
    if run.dropped_exchanges > 0 {
        return Verdict::Broken(
            format!("the client made so many requests that {} fell out of the log; the run cannot be judged", run.dropped_exchanges),
            vec![],
        );
    }
    if run.opened.is_empty() && run.scenario.auth == Auth::Oauth {
        let how = if run.web_app {
            "sending the browser to /oauth/authorize"
        } else {
            "opening the authorization URL with BROWSER"
        };
        return Verdict::Broken(
            format!("the client {} without ever {how}", ended(run)),
            vec![],
        );
    }
    let missing = missing_calls(run);
    let all_done = missing.is_empty();
    let quiet = run.message().is_empty();
    let end = ended(run);
    match (run.scenario.expect, code) {
        (Expect::Success | Expect::Either, Some(0)) if all_done => Verdict::Holds(format!(
            "{end} after every API call of ONSHAPE_API_CALLS succeeded"
        )),
        (_, Some(0)) if !all_done => Verdict::Broken(
            format!(
                "{end}, but these API calls never succeeded: {}",
                missing.join("; ")
            ),
            vec![],
        ),
        (Expect::Failure, Some(0)) => {
            Verdict::Broken(format!("a correct client fails here; it {end}"), vec![])
        }
        (Expect::Success, _) => {
            Verdict::Broken(format!("a correct client succeeds here; it {end}"), vec![])
        }
        (_, _) if quiet => Verdict::Broken(
            format!(
                "the client {end} without a message {}",
                if run.web_app {
                    "in the page or on stderr"
                } else {
                    "on stderr"
                }
            ),
            vec![],
        ),
        (_, _) => Verdict::Holds(format!("the client stopped with a message: it {end}")),
    }
}

/// The calls of `ONSHAPE_API_CALLS` that never got a 2xx — at their path, or where a 307
/// the mock answered for them led.
pub(super) fn missing_calls(run: &RunRecord) -> Vec<String> {
    run.scenario
        .api_calls
        .iter()
        .filter(|call| {
            let (method, target) = call.split_once(' ').unwrap_or((call.as_str(), ""));
            let path = target.split('?').next().unwrap_or("");
            !succeeded(run, method, path, 3)
        })
        .cloned()
        .collect()
}

/// Whether `method path` got a 2xx, directly or through at most `hops` 307s.
fn succeeded(run: &RunRecord, method: &str, path: &str, hops: u8) -> bool {
    run.exchanges.iter().any(|e| {
        e.method == method
            && e.path == path
            && ((200..300).contains(&e.status)
                || (e.status == 307 && hops > 0 && {
                    let to = e.location.as_deref().map(location_path);
                    to.is_some_and(|to| to != path && succeeded(run, method, &to, hops - 1))
                }))
    })
}

pub(super) fn request_valid(run: &RunRecord) -> Verdict {
    let expected = &run.scenario.expected_refusals;
    let mapped = match run.scenario.auth {
        Auth::Oauth => MAPPED_OAUTH,
        Auth::ApiKey => MAPPED_API_KEY,
    };
    let refused: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| {
            e.rule.is_some_and(|r| {
                !PROVOKED.contains(&r) && !mapped.contains(&r) && !expected.iter().any(|x| x == r)
            })
        })
        .map(describe)
        .collect();
    if refused.is_empty() {
        Verdict::Holds(if expected.is_empty() {
            "the mock refused no request for any other reason".into()
        } else {
            format!(
                "the mock refused no request but those the scenario expects ({})",
                expected.join(", ")
            )
        })
    } else {
        Verdict::Broken(
            format!("the mock refused {} request(s)", refused.len()),
            refused,
        )
    }
}

/// The forms in which a secret can show up in text: as issued, percent-encoded (in a URL or
/// a form), and, for a client secret, without its trailing `=` padding.
fn forms(secret: &Secret) -> Vec<String> {
    let mut forms = vec![secret.value.clone()];
    let encoded =
        percent_encoding::utf8_percent_encode(&secret.value, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let bare = secret.value.trim_end_matches('=');
    for f in [encoded, bare.to_owned()] {
        if f.len() >= 16 && !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

/// A run's secrets in every form they can show up in, worked out once: finds them in text
/// and replaces them with fingerprints.
pub struct Redactor {
    /// Per secret, its kind and forms.
    secrets: Vec<(SecretKind, Vec<String>)>,
    /// Every form, longest first, so a secret is never left half shown.
    longest_first: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: &[Secret]) -> Redactor {
        let secrets: Vec<(SecretKind, Vec<String>)> =
            secrets.iter().map(|s| (s.kind, forms(s))).collect();
        let mut longest_first: Vec<String> = secrets
            .iter()
            .flat_map(|(_, f)| f.iter().cloned())
            .collect();
        longest_first.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Redactor {
            secrets,
            longest_first,
        }
    }

    /// `text` with every known secret replaced by its fingerprint.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for f in &self.longest_first {
            if out.contains(f.as_str()) {
                out = out.replace(f.as_str(), &fingerprint(f));
            }
        }
        out
    }

    /// The kind of each secret `wanted` accepts that `line` shows, one per secret.
    fn found_in(&self, line: &str, wanted: fn(SecretKind) -> bool) -> Vec<SecretKind> {
        self.secrets
            .iter()
            .filter(|(kind, forms)| {
                wanted(*kind) && forms.iter().any(|f| line.contains(f.as_str()))
            })
            .map(|(kind, _)| *kind)
            .collect()
    }
}

/// Most evidence lines one finding quotes from the client's output.
const MAX_QUOTED: usize = 10;

/// Where the client printed any of the secrets whose kind `wanted` accepts: the kinds found,
/// how many lines, and up to [`MAX_QUOTED`] of them with the secrets fingerprinted.
fn printed(run: &RunRecord, wanted: fn(SecretKind) -> bool) -> Verdict {
    let redactor = Redactor::new(&run.secrets);
    let mut evidence = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    let mut lines = 0;
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for (n, line) in text.lines().enumerate() {
            let found = redactor.found_in(line, wanted);
            if found.is_empty() {
                continue;
            }
            lines += 1;
            for k in &found {
                if !kinds.contains(&k.name()) {
                    kinds.push(k.name());
                }
            }
            if evidence.len() < MAX_QUOTED {
                let shown: String = redactor.apply(line).chars().take(300).collect();
                evidence.push(format!(
                    "{stream} line {}: {} — {shown}",
                    n + 1,
                    found
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    if lines == 0 {
        return Verdict::Holds("none appears in the client's output".into());
    }
    if lines > evidence.len() {
        evidence.push(format!("… and {} more line(s)", lines - evidence.len()));
    }
    Verdict::Broken(
        format!(
            "the client printed {} ({lines} line(s) of its output; shown here as fingerprints)",
            kinds.join(", ")
        ),
        evidence,
    )
}

pub(super) fn secrets_not_printed(run: &RunRecord) -> Verdict {
    printed(run, |k| k != SecretKind::Code)
}

pub(super) fn codes_not_printed(run: &RunRecord) -> Verdict {
    if !run.delivered.iter().any(|d| d.code.is_some() && d.received) {
        return Verdict::NotApplicable("no code reached the client".into());
    }
    printed(run, |k| k == SecretKind::Code)
}
