//! The runner against the reference client: the correct client passes every scenario; each
//! deliberately broken client fails exactly the rules of its pitfall (insta snapshots of the
//! redacted JSON report). `libraries`: real OAuth libraries through the whole catalog.

mod libraries;
mod openapi;

use std::time::Duration;

use conformance::driver::RunOptions;
use conformance::report::{Baseline, RunReport};
use conformance::rules::Outcome;
use conformance::scenario::Auth;

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../clients/reference_client.py"
);
const APIKEY_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../clients/reference_apikey_client.py"
);

/// A reference client of `auth` (or one of its pitfalls) through `scenarios` (all: empty).
fn check_with(auth: Auth, pitfall: Option<&str>, scenarios: &[&str]) -> RunReport {
    let client = match auth {
        Auth::Oauth => CLIENT,
        Auth::ApiKey => APIKEY_CLIENT,
    };
    let command = match pitfall {
        Some(p) => format!("python3 {client} --pitfall {p}"),
        None => format!("python3 {client}"),
    };
    let all = conformance::scenario::builtin().expect("built-in scenarios parse");
    let ids: Vec<String> = scenarios.iter().map(|s| s.to_string()).collect();
    let selected = conformance::scenario::select(all, &ids, auth).expect("known scenarios");
    // Longer than any scenario's real waits; a client that hangs (no-timeout) is cut here.
    let options = RunOptions::new(command, Duration::from_secs(10));
    let meta = conformance::report::RunMeta::new(&options, "test");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(conformance::check(
        selected,
        options,
        8,
        &Baseline::default(),
        meta,
        |_| {},
    ))
    .expect("the run happens")
}

/// The report, reduced to what must not change: per scenario the verdict, how it ended,
/// and each failed or warned finding with its evidence (ports, ids, tokens redacted).
fn redacted(report: &RunReport) -> String {
    let scenarios: Vec<serde_json::Value> = report
        .scenarios
        .iter()
        .map(|s| {
            let findings: Vec<serde_json::Value> = s
                .findings
                .iter()
                .filter(|f| matches!(f.finding.outcome, Outcome::Fail | Outcome::Warn))
                .map(|f| {
                    serde_json::json!({
                        "rule": f.finding.rule,
                        "severity": f.finding.severity,
                        "outcome": f.finding.outcome,
                        "message": f.finding.message,
                        "evidence": f.finding.evidence,
                    })
                })
                .collect();
            serde_json::json!({ "id": s.id, "verdict": s.verdict, "end": s.end, "findings": findings })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "scenarios": scenarios })).expect("json")
}

fn snapshot(name: &str, report: &RunReport) {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"localhost:\d+", "localhost:[port]"),
        (r"localhost%3A\d+", "localhost%3A[port]"),
        (r"[A-Za-z0-9]{6}…\(\d+\)", "[token]"),
        (r"[A-Z2-7]{30,}(=|%3D)+", "[client-id]"),
        (r"[A-Z2-7]{30,}", "[client-id]"),
        (r"#\d+", "#N"),
        (
            r"(?i)[a-z]{3}, \d{2} [a-z]{3} \d{4} \d{2}:\d{2}:\d{2} gmt",
            "[date]",
        ),
        (r"(\\+n)[a-z0-9]{25}(\\+n)", "$1[nonce]$2"),
        (r"(accessKey=|API key )[A-Za-z0-9]{24}", "$1[access-key]"),
        (r"\d+ s (behind|ahead of)", "[n] s $1"),
        (r"state=[^&\s\x22]+", "state=[state]"),
        (r"after \d+ ms", "after [n] ms"),
        (r"\d+ ms later", "[n] ms later"),
        (r"expired \d+ s ago", "expired [n] s ago"),
        (r"\d+ s ago", "[n] s ago"),
        (
            r"redeemed \d+ s after issue, \d+ s too late",
            "redeemed [n] s after issue, [n] s too late",
        ),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!(name, redacted(report)));
}

#[test]
fn the_reference_clients_pass_every_scenario() {
    for auth in [Auth::Oauth, Auth::ApiKey] {
        reference_passes(auth);
    }
}

fn reference_passes(auth: Auth) {
    let report = check_with(auth, None, &[]);
    let not_passing: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != conformance::report::Verdict::Pass)
        .map(|s| format!("{}: {}\n{}", s.id, s.end, report.failures_text()))
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:?}");
    assert_eq!(
        report.scenarios.len(),
        conformance::scenario::builtin()
            .expect("parse")
            .iter()
            .filter(|s| s.auth == auth)
            .count()
    );
    assert!(report.passed());
}

/// A pitfall that breaks every authorization: shown on the two ways in.
const AUTHORIZE: &[&str] = &["happy-localhost", "happy-oob"];
/// A pitfall that breaks every token request: shown on a code exchange and a refresh.
const TOKEN: &[&str] = &["happy-localhost", "token-expiry"];

/// The pitfalls of the reference client, each with the scenarios its mistake shows in (all
/// of them for a targeted mistake, as a full run of the catalog finds them; two for one that
/// breaks every run). Each run's findings are a snapshot.
const PITFALLS: &[(&str, &[&str])] = &[
    ("token-get", TOKEN),
    ("query-params", TOKEN),
    ("json-body", TOKEN),
    ("unencoded-client-id", TOKEN),
    ("no-redirect-uri", TOKEN),
    ("no-state-check", &["forged-state", "callback-replayed"]),
    ("code-reuse", TOKEN),
    (
        "no-refresh",
        &[
            "token-expiry",
            "two-expiries",
            "concurrent-expiry",
            "api-token-rejected",
            "expires-in-long",
            "expires-in-missing",
            "refresh-flaky",
            "refresh-html",
            "refresh-late",
            "refresh-no-access-token",
            "refresh-refused",
        ],
    ),
    ("no-rotation", &["two-expiries"]),
    ("refresh-loop", &["grant-revoked", "refresh-refused"]),
    ("token-in-query", AUTHORIZE),
    ("secret-in-url", TOKEN),
    ("token-at-api-host", TOKEN),
    ("no-state", &["happy-localhost", "forged-state"]),
    (
        "ignore-retry-after",
        &["rate-limited", "token-unavailable", "api-long-retry-after"],
    ),
    ("authorize-post", AUTHORIZE),
    ("wrong-redirect-uri", AUTHORIZE),
    (
        "retry-expired-code",
        &["code-expired", "callback-replayed", "code-exchange-refused"],
    ),
    (
        "ignore-denial",
        &[
            "user-denies",
            "callback-code-and-error",
            "callback-error-without-state",
        ],
    ),
    ("legacy-scopes", AUTHORIZE),
    ("ignore-company", &["company-given"]),
    ("token-outside-api", AUTHORIZE),
    ("ignore-scope", &["scope-subset", "two-scopes"]),
    ("wrong-secret", TOKEN),
    ("refresh-on-403", &["scope-insufficient", "api-forbidden"]),
    ("print-tokens", TOKEN),
    ("log-callback", AUTHORIZE),
    (
        "retry-forever",
        &[
            "code-exchange-outage",
            "api-outage",
            "rate-limited",
            "token-unavailable",
            "api-long-retry-after",
        ],
    ),
    (
        "retry-permanent",
        &[
            "code-exchange-refused",
            "code-exchange-client-refused",
            "code-exchange-firewall",
            "code-expired",
            "callback-replayed",
            "grant-revoked",
            "refresh-refused",
        ],
    ),
    (
        "no-timeout",
        &["code-exchange-silent", "api-silent", "refresh-late"],
    ),
    ("redeem-error-callback", &["callback-code-and-error"]),
    ("exchange-without-code", &["callback-neither"]),
    (
        "trust-bad-response",
        &[
            "code-exchange-malformed",
            "code-exchange-no-access-token",
            "refresh-html",
            "refresh-no-access-token",
            "no-refresh-token",
        ],
    ),
    ("parallel-refresh", &["concurrent-expiry"]),
];

/// The pitfalls of the API-key reference client; each run's findings are a snapshot.
const APIKEY_PITFALLS: &[&str] = &[
    "content-type-unsigned",
    "not-lowercased",
    "no-trailing-newline",
    "query-unsigned",
    "query-decoded",
    "body-signed",
    "nonce-reused",
    "date-cached",
    "key-in-url",
    "redirect-not-resigned",
    "retry-on-401",
    "ignore-retry-after",
    "print-secret",
    "wrong-secret",
];

#[test]
fn every_client_rule_is_broken_by_some_pitfall() {
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/snapshots");
    let mut text = String::new();
    let names = PITFALLS.iter().map(|(p, _)| format!("pitfall_{p}")).chain(
        APIKEY_PITFALLS
            .iter()
            .map(|p| format!("apikey_pitfall_{p}")),
    );
    for name in names {
        let path = snapshots.join(format!("check__{name}.snap"));
        text.push_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
    }
    let unbroken: Vec<&str> = conformance::rules::ALL
        .iter()
        .map(|r| r.id)
        .filter(|id| !text.contains(&format!("\"rule\": \"{id}\"")))
        .collect();
    assert!(
        unbroken.is_empty(),
        "no pitfall breaks {unbroken:?}: every rule needs a client that breaks it"
    );
}

#[test]
fn each_broken_client_fails_the_rules_of_its_pitfall() {
    assert_pitfalls(
        Auth::Oauth,
        PITFALLS,
        &["ignore-retry-after", "token-at-api-host", "log-callback"],
        "pitfall",
    );
}

#[test]
fn each_broken_api_key_client_fails_the_rules_of_its_pitfall() {
    // The API-key catalog is short: each pitfall runs through all of it.
    let whole: Vec<(&str, &[&str])> = APIKEY_PITFALLS.iter().map(|p| (*p, &[][..])).collect();
    assert_pitfalls(
        Auth::ApiKey,
        &whole,
        &["ignore-retry-after"],
        "apikey_pitfall",
    );
}

/// Runs the reference client of `auth` with each pitfall through its scenarios (empty: the
/// whole catalog): the run fails unless the pitfall breaks SHOULD rules only (`should_only`:
/// warnings, and the run passes); the findings are the snapshot `{prefix}_{pitfall}`.
fn assert_pitfalls(auth: Auth, pitfalls: &[(&str, &[&str])], should_only: &[&str], prefix: &str) {
    for &(pitfall, scenarios) in pitfalls {
        let report = check_with(auth, Some(pitfall), scenarios);
        let must_fail = !should_only.contains(&pitfall);
        assert_eq!(
            report.passed(),
            !must_fail,
            "{pitfall}: {}",
            report.failures_text()
        );
        // Shown only when the test fails: what the client said, scenario by scenario.
        for sc in &report.scenarios {
            eprintln!(
                "--- {pitfall} / {}: {} ---\n{}",
                sc.id,
                sc.end,
                sc.stderr.trim()
            );
        }
        snapshot(&format!("{prefix}_{pitfall}"), &report);
    }
}
