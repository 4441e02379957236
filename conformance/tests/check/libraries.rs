//! Real OAuth libraries, installed from PyPI and npm at pinned versions by
//! `clients/install.sh`, each driven the way its own docs show by a short adapter in
//! `clients/`, run through the whole catalog. The expected outcome of each is asserted
//! scenario by scenario: a correct library passes; a library's real defect fails exactly the
//! rules that name it (README: "What check finds in popular libraries"). And Onshape's own
//! Python client with API keys, signing its requests against `serve`'s verification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use conformance::driver::RunOptions;
use conformance::report::{Baseline, RunMeta, RunReport, Verdict};
use conformance::rules::Outcome;
use conformance::scenario::Auth;
use conformance::shared_clock::SharedClock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Installs the libraries once per test process: their Python path, and the shared clock
/// with PyPI's libfaketime, found and tried once.
fn libraries() -> &'static (PathBuf, SharedClock) {
    static INSTALLED: OnceLock<(PathBuf, SharedClock)> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let out = std::process::Command::new("sh")
            .arg(root().join("clients/install.sh"))
            .output()
            .expect("sh runs clients/install.sh");
        assert!(
            out.status.success(),
            "clients/install.sh (pip and npm from their registries) failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let python = root().join("target/client-libs/python");
        let faketime = python.join("libfaketime/vendor/libfaketime/src/libfaketime.so.1");
        let clock = SharedClock::detect(Some(&faketime)).expect("libfaketime from PyPI loads");
        (python, clock)
    })
}

/// The shared clock of the installed libfaketime.
fn shared_clock() -> SharedClock {
    libraries().1.clone()
}

/// What one scenario must give: the rules that fail and those that warn.
#[derive(Debug, Default, PartialEq, Eq)]
struct Broken {
    fail: Vec<&'static str>,
    warn: Vec<&'static str>,
}

/// The library's catalog run: per scenario id, its verdict's broken rules (`None`: skipped).
fn run(command: &str, app_url: Option<&str>) -> (RunReport, BTreeMap<String, Option<Broken>>) {
    run_with(command, app_url, shared_clock(), &[])
}

fn run_with(
    command: &str,
    app_url: Option<&str>,
    clock: SharedClock,
    only: &[&str],
) -> (RunReport, BTreeMap<String, Option<Broken>>) {
    run_catalog(Auth::Oauth, command, app_url, clock, only)
}

fn run_catalog(
    auth: Auth,
    command: &str,
    app_url: Option<&str>,
    clock: SharedClock,
    only: &[&str],
) -> (RunReport, BTreeMap<String, Option<Broken>>) {
    let (python, _) = libraries();
    let mut options = RunOptions::new(
        format!(
            "cd {} && PYTHONPATH={} {command}",
            root().display(),
            python.display()
        ),
        // Longer than any scenario's real waits; a client that hangs on a silent answer
        // (timeout-bounded) is cut here.
        Duration::from_secs(20),
    );
    options.app_url = app_url.map(str::to_owned);
    options.shared_clock = clock;
    let meta = RunMeta::new(&options, "test");
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    let scenarios = conformance::scenario::select(
        conformance::scenario::builtin().expect("built-in scenarios parse"),
        &only,
        auth,
    )
    .expect("known scenarios");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(conformance::check(
            scenarios,
            options,
            4,
            &Baseline::default(),
            meta,
            |_| {},
        ))
        .expect("the run happens");
    let outcomes = report
        .scenarios
        .iter()
        .map(|s| {
            let broken = (s.verdict != Verdict::Skip).then(|| {
                let with = |o: Outcome| {
                    s.findings
                        .iter()
                        .filter(|f| f.finding.outcome == o)
                        .map(|f| f.finding.rule)
                        .collect()
                };
                Broken {
                    fail: with(Outcome::Fail),
                    warn: with(Outcome::Warn),
                }
            });
            (s.id.clone(), broken)
        })
        .collect();
    (report, outcomes)
}

/// One library at a time: each runs four scenarios at once on a two-core machine.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `command` through the catalog and compares each scenario with `expect(id)`.
fn assert_library(
    library: &str,
    command: &str,
    app_url: Option<&str>,
    expect: impl Fn(&str) -> Option<Broken>,
) {
    let _turn = one_at_a_time();
    let (report, outcomes) = run(command, app_url);
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|(id, got)| **got != expect(id))
        .map(|(id, got)| format!("{id}: expected {:?}, got {got:?}", expect(id)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{library}:\n{}\n\n{}",
        wrong.join("\n"),
        report.failures_text()
    );
}

fn fails(rules: &[&'static str]) -> Option<Broken> {
    Some(Broken {
        fail: rules.to_vec(),
        warn: vec![],
    })
}

fn passes() -> Option<Broken> {
    fails(&[])
}

fn warns(rules: &[&'static str]) -> Option<Broken> {
    Some(Broken {
        fail: vec![],
        warn: rules.to_vec(),
    })
}

/// The scenarios where a 401 comes before the expiry the client was told: a library that
/// refreshes by expires_in alone stops there (`refresh-on-401`, a SHOULD).
const UNFORESEEN_401: &[&str] = &[
    "api-token-rejected",
    "expires-in-long",
    "expires-in-missing",
];

/// The odd callbacks a web app is not sent (its browser follows one sign-in at a time).
const DESKTOP_ONLY: &[&str] = &["happy-oob", "callback-replayed", "callback-twice"];

#[test]
fn requests_oauthlib_refreshes_by_its_clock_only_and_without_a_refresh_token() {
    // It refreshes by its own clock (expires_at): it passes the expiry scenarios only
    // because the shared clock moves its clock with the mock's, and a 401 it did not foresee
    // ends the run. Given no refresh_token, its auto-refresh still posts a refresh
    // (`token.get("refresh_token")` is None).
    assert_library(
        "requests-oauthlib 2.0.0",
        "python3 clients/python/requests_oauthlib_client.py",
        None,
        |id| match id {
            id if UNFORESEEN_401.contains(&id) => warns(&["refresh-on-401"]),
            "no-refresh-token" => fails(&["credentials-kept-on-bad-response", "request-valid"]),
            _ => passes(),
        },
    );
}

#[test]
fn without_the_shared_clock_requests_oauthlib_meets_expired_tokens_and_the_report_says_why() {
    let _turn = one_at_a_time();
    let (report, outcomes) = run_with(
        "python3 clients/python/requests_oauthlib_client.py",
        None,
        SharedClock::Off("--no-shared-clock".into()),
        &["token-expiry"],
    );
    assert_eq!(
        outcomes.get("token-expiry"),
        Some(&fails(&["refresh-on-expiry", "exit-status"])),
        "{}",
        report.failures_text()
    );
    let notes = &report.scenarios[0].notes;
    assert!(
        notes.iter().any(|n| n.contains("+3660 s")
            && n.contains("the client's clock did not (--no-shared-clock)")
            && n.contains("401 [access-token-expired]")),
        "{notes:?}"
    );
}

#[test]
fn a_client_process_outside_libfaketime_is_named_in_the_notes() {
    // `env -u LD_PRELOAD` stands for a static binary: the client's clock cannot follow. The
    // reference client refreshes on the 401 and passes; the note says whose clock stayed.
    let _turn = one_at_a_time();
    let (report, outcomes) = run_with(
        "env -u LD_PRELOAD python3 clients/reference_client.py",
        None,
        shared_clock(),
        &["token-expiry"],
    );
    assert_eq!(outcomes.get("token-expiry"), Some(&passes()));
    let notes = &report.scenarios[0].notes;
    assert!(
        notes.iter().any(|n| n.contains("python3 (pid ")
            && n.contains("ran without it")
            && n.contains("401 [access-token-expired]")),
        "{notes:?}"
    );
}

#[test]
fn openid_client_passes_all_but_a_redirect_it_will_not_follow() {
    // fetchProtectedResource (oauth4webapi) fetches with `redirect: 'manual'` by design:
    // Onshape's 307 comes back to the caller as the answer.
    assert_library(
        "openid-client 6.8.9",
        "node clients/node/openid_client.mjs",
        None,
        |id| match id {
            "api-redirect" => fails(&["exit-status"]),
            _ => passes(),
        },
    );
}

/// Builds the `oauth2` crate's adapter (a workspace member) and returns its path. The
/// workspace is built whole (`--workspace`) so features unify as in `cargo test --workspace`.
fn oauth2_adapter() -> PathBuf {
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "build",
            "--workspace",
            "--bin",
            "oauth2-adapter",
            "--locked",
            "--quiet",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo build --bin oauth2-adapter failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/check-… → target/<profile>/oauth2-adapter
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("oauth2-adapter"))
        .expect("the target directory")
}

#[test]
fn the_oauth2_crate_passes_every_scenario() {
    let adapter = oauth2_adapter();
    assert_library(
        "oauth2 5 (Rust)",
        &adapter.display().to_string(),
        None,
        |_| passes(),
    );
}

#[test]
fn authlib_fails_where_it_skips_the_state_check_and_misreads_a_callback() {
    // OAuth2Session.fetch_token checks `state` only when given it again, though its docs say
    // it verifies it; it never reads error=, so a callback with a code and an error is
    // redeemed, and one with no code= becomes a client_credentials token request.
    assert_library(
        "Authlib 1.9.6",
        "python3 clients/python/authlib_client.py",
        None,
        |id| match id {
            "forged-state" => fails(&["state-verified"]),
            "user-denies" => fails(&["denied-handled", "request-valid"]),
            "callback-code-and-error" => fails(&["no-exchange-without-code"]),
            "callback-error-without-state" | "callback-neither" => {
                fails(&["no-exchange-without-code", "request-valid"])
            }
            id if UNFORESEEN_401.contains(&id) => warns(&["refresh-on-401"]),
            _ => passes(),
        },
    );
}

#[test]
fn passport_onshape_as_a_web_app_fails_on_commas_unchecked_tokens_and_no_timeout() {
    // Express + express-session + passport-onshape with `state: true`: the state lives in
    // the session cookie, which the runner's browser keeps. passport-onshape joins scopes
    // with commas (its scopeSeparator default); the strict mock refuses them. node-oauth
    // (under passport-oauth2 and passport-oauth2-refresh) has no timeout and hands on a token
    // response without access_token or refresh_token as it is.
    assert_library(
        "passport-onshape 1.2.0 (web app)",
        "node clients/node/passport_app.js",
        Some("/login"),
        |id| match id {
            id if DESKTOP_ONLY.contains(&id) => None,
            "two-scopes" => fails(&["scope-registered", "exit-status"]),
            "code-exchange-silent" | "api-silent" | "refresh-late" => {
                fails(&["timeout-bounded", "exit-status"])
            }
            "code-exchange-malformed"
            | "code-exchange-no-access-token"
            | "refresh-html"
            | "refresh-no-access-token"
            | "no-refresh-token" => fails(&["credentials-kept-on-bad-response", "request-valid"]),
            "api-token-rejected" => warns(&["refresh-on-401"]),
            _ => passes(),
        },
    );
}

#[test]
fn passport_without_a_state_store_redeems_a_forged_callback() {
    // passport-oauth2's default (no `state` option) sends no state at all; Onshape's tutorial
    // pattern (`authenticate('onshape', {state: uuid})`) sends one and never checks it.
    let _turn = one_at_a_time();
    for (flag, broken) in [
        (
            "--no-state",
            Broken {
                fail: vec!["state-verified"],
                warn: vec!["state-sent"],
            },
        ),
        (
            "--tutorial-state",
            Broken {
                fail: vec!["state-verified"],
                warn: vec![],
            },
        ),
    ] {
        let (report, outcomes) = run_with(
            &format!("node clients/node/passport_app.js {flag}"),
            Some("/login"),
            shared_clock(),
            &["forged-state"],
        );
        assert_eq!(
            outcomes.get("forged-state"),
            Some(&Some(broken)),
            "{flag}: {}",
            report.failures_text()
        );
    }
}

#[test]
fn a_flask_app_with_requests_oauthlib_is_warned_for_its_access_log() {
    // Flask's development server logs every request line, the callback's ?code= included.
    assert_library(
        "Flask 3.1.3 + requests-oauthlib 2.0.0 (web app)",
        "python3 clients/python/flask_app.py",
        Some("http://localhost:{port}/login"),
        |id| match id {
            id if DESKTOP_ONLY.contains(&id) => None,
            // No code in the callback, nothing logged that matters.
            "user-denies" | "callback-error-without-state" | "callback-neither" => passes(),
            id if UNFORESEEN_401.contains(&id) => warns(&["refresh-on-401", "codes-not-printed"]),
            "no-refresh-token" => Some(Broken {
                fail: vec!["credentials-kept-on-bad-response", "request-valid"],
                warn: vec!["codes-not-printed"],
            }),
            _ => warns(&["codes-not-printed"]),
        },
    );
}

#[test]
fn onshape_client_fails_on_its_empty_bearer_token_and_its_refresh_storm() {
    // Onshape's own Python client sends its first call with an empty bearer token and a
    // refresh with no refresh token, cannot send company_id, refreshes on every 403, and
    // offers no timeout for its refresh. Where a fault answers that first call, it stops
    // before it ever authorizes.
    assert_library(
        "onshape-client 1.6.3",
        "python3 clients/python/onshape_client_client.py",
        None,
        |id| match id {
            "token-unavailable" => fails(&["bearer-header", "exit-status"]),
            "company-given" => fails(&["bearer-header", "company-selected", "request-valid"]),
            "scope-insufficient" => fails(&[
                "bearer-header",
                "refresh-only-when-expired",
                "request-valid",
            ]),
            "api-forbidden" => fails(&[
                "bearer-header",
                "refresh-only-when-expired",
                "request-valid",
                "exit-status",
            ]),
            "api-errors-burst" | "api-long-retry-after" | "api-outage" => fails(&["exit-status"]),
            "api-token-rejected" => fails(&["request-valid"]),
            "code-exchange-outage" | "refresh-flaky" | "refresh-refused" => {
                fails(&["bearer-header", "exit-status"])
            }
            "refresh-html" | "refresh-no-access-token" => fails(&["bearer-header"]),
            "refresh-late" => fails(&[
                "bearer-header",
                "request-valid",
                "timeout-bounded",
                "exit-status",
            ]),
            _ => fails(&["bearer-header", "request-valid"]),
        },
    );
}

/// onshape-client 1.6.3 with API keys through the API-key catalog (`check --api-key`): it
/// signs every request, signs again after a 307 and retries a 429 through urllib3 (the nonce
/// of a request the mock did not process is still fresh). It does not correct its clock by
/// the server's Date: with the clock 6 minutes off it stops with the 401, which the scenario
/// allows.
#[test]
fn onshape_client_passes_the_api_key_catalog() {
    let _turn = one_at_a_time();
    let (report, outcomes) = run_catalog(
        Auth::ApiKey,
        "python3 clients/python/onshape_client_apikey.py",
        None,
        shared_clock(),
        &[],
    );
    assert_eq!(outcomes.len(), 8, "{outcomes:?}");
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|(_, got)| **got != passes())
        .map(|(id, got)| format!("{id}: {got:?}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}\n{}", report.failures_text());
    let skew = report
        .scenarios
        .iter()
        .find(|s| s.id == "apikey-clock-skew")
        .expect("the skew scenario ran");
    assert!(
        skew.stderr.contains("ApiException: (401)"),
        "it stops at the refused Date: {}",
        skew.stderr
    );
}

/// onshape-client 1.6.3 with API keys, unchanged but for its base URL and keys, against
/// `serve`'s mock: it signs GETs (with a query) and a POST with a JSON body, and every one is
/// verified.
#[tokio::test]
async fn onshape_client_signs_api_key_requests_the_mock_verifies() {
    let python = libraries().0.clone();
    let mock = mock_server::spawn(
        mock_server::Config::default(),
        mock_server::Binds::ephemeral(),
    )
    .await
    .expect("mock starts");
    let out = tokio::process::Command::new("python3")
        .arg(root().join("clients/python/onshape_client_apikey.py"))
        .env("PYTHONPATH", &python)
        .env("ONSHAPE_API_URL", mock.api_url())
        .env("ONSHAPE_ACCESS_KEY", "AL1CEACCESSKEY7Q2ZLDNEWR")
        .env(
            "ONSHAPE_SECRET_KEY",
            "AL1CESECRETKEYR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPAS",
        )
        .env(
            "ONSHAPE_API_CALLS",
            "GET /api/users/sessioninfo;GET /api/documents?q=Gripper%20v2&limit=5;POST /api/documents",
        )
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("POST /api/documents -> 200"), "{stdout}");
    let log = mock.state.log().page(0, usize::MAX);
    let api: Vec<_> = log.iter().filter(|e| e.path.starts_with("/api")).collect();
    assert_eq!(api.len(), 3, "{stdout}");
    for e in api {
        assert_eq!(e.status, 200, "{} {}: {:?}", e.method, e.path, e.hint);
        let auth = e
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some("On AL1CEACCESSKEY7Q2ZLDNEWR:(masked)"), "signed");
    }
}
