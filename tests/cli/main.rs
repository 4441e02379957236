//! The `onshape-mock` binary: `serve` starts, prints what a developer needs, answers, and
//! stops cleanly on SIGTERM; bad arguments fail with a clear message and exit code 2.
//! `newcomer` follows a new user's first ten minutes: README's commands and curl flow as
//! written, `token`, `fixtures`, and the declared toolchain.

mod distribution;
mod newcomer;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_onshape-mock");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Reads stdout until the banner's last section has started, and returns it.
fn banner(child: &mut Child) -> String {
    banner_until(child, "carol@example.com")
}

/// Reads stdout up to the first line containing `marker`.
fn banner_until(child: &mut Child, marker: &str) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut out = String::new();
    for line in lines.by_ref() {
        let line = line.expect("utf-8 banner");
        out.push_str(&line);
        out.push('\n');
        if line.contains(marker) {
            break;
        }
    }
    out
}

fn get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
            .expect("write");
            let mut out = String::new();
            s.read_to_string(&mut out).expect("read");
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "the mock did not answer on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_prints_urls_apps_and_users_and_stops_on_sigterm() {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--clock",
            "frozen",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let text = banner(&mut child);
    for expected in [
        format!("OAuth base URL:  http://127.0.0.1:{port}"),
        format!("API base URL:    http://127.0.0.1:{port}/api"),
        format!("Control API:     http://127.0.0.1:{port}/__mock"),
        "WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ=".to_owned(),
        "client_secret:".to_owned(),
        "urn:ietf:wg:oauth:2.0:oob".to_owned(),
        "http://localhost:3000/oauth/callback".to_owned(),
        "alice@example.com".to_owned(),
        "bob@example.com".to_owned(),
        "[light user]".to_owned(),
        "Clock: frozen".to_owned(),
    ] {
        assert!(
            text.contains(&expected),
            "banner lacks `{expected}`:\n{text}"
        );
    }
    let clock = get(port, "/__mock/clock");
    assert!(
        clock.starts_with("HTTP/1.1 200") && clock.contains("\"mode\":\"frozen\""),
        "{clock}"
    );

    // A request head that never completes must not hold the shutdown up (issue 8): the
    // grace period bounds it.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    std::io::Write::write_all(&mut stalled, b"GET / HTTP/1.1\r\nHost: x\r\n").expect("writes");
    std::thread::sleep(Duration::from_millis(50));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(8);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the mock did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "clean exit: {exit:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr reads");
    assert!(
        stderr.contains("\"path\":\"/__mock/clock\""),
        "JSON request log on stderr: {stderr}"
    );
    // Every line is JSON, the last word included, and nothing is coloured in a pipe.
    for line in stderr.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON line: {line}"
        );
    }
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escapes: {stderr}");
}

#[test]
fn separate_api_origin_and_auto_consent() {
    let (oauth, api) = (free_port(), free_port());
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{oauth}"),
            "--api-bind",
            &format!("127.0.0.1:{api}"),
            "--auto-consent",
            "bob@example.com",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let text = banner(&mut child);
    assert!(
        text.contains(&format!("API base URL:    http://127.0.0.1:{api}/api")),
        "{text}"
    );
    assert!(
        text.contains("automatic (grant as bob@example.com)"),
        "{text}"
    );
    let query = "response_type=code&client_id=WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D&company_id=c0ffee00000000000000b22b";
    let answer = get(oauth, &format!("/oauth/authorize?{query}"));
    assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
    assert!(
        answer.contains("location: https://previewer.example.com/oauth/callback?code="),
        "{answer}"
    );
    let on_oauth = get(oauth, "/api/documents");
    assert!(
        on_oauth.starts_with("HTTP/1.1 404"),
        "the API is not on the OAuth origin: {on_oauth}"
    );
    let on_api = get(api, "/api/documents");
    assert!(
        on_api.starts_with("HTTP/1.1 401"),
        "the API origin wants a token: {on_api}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn fails_with(args: &[&str], message: &str) {
    let out = Command::new(BIN).args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: exit 2, stderr: {stderr}"
    );
    assert!(
        stderr.contains(message),
        "{args:?}: stderr names the problem `{message}`: {stderr}"
    );
}

#[test]
fn bad_arguments_fail_clearly() {
    fails_with(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--auto-consent",
            "nobody@example.com",
        ],
        "nobody@example.com",
    );
    fails_with(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--fixtures",
            "/nonexistent/fixtures.toml",
        ],
        "cannot read /nonexistent/fixtures.toml",
    );
    let dir = std::env::temp_dir().join(format!("onshape-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[apps]]\nname = \"X\"\nprimary_format = \"com.x.y\"\nredirect_urls = [\"http://example.com/cb\"]\nscopes = [\"OAuth2Read\"]\n",
    )
    .expect("write fixture");
    fails_with(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--fixtures",
            bad.to_str().expect("utf-8 path"),
        ],
        "registration-redirect-url",
    );
    fails_with(&["serve", "--clock", "sideways"], "sideways");
    fails_with(&["serve", "--bind", "example.com:80"], "localhost:PORT");
    fails_with(&["serve", "--stack", "acme.onshape.com"], "NAME=ADDR");
    fails_with(
        &["serve", "--stack", "cad.onshape.com=8090"],
        "not another stack",
    );
    let port = free_port();
    let _holder = std::net::TcpListener::bind(("127.0.0.1", port)).expect("hold the port");
    for (args, flag) in [
        (
            vec!["serve".to_owned(), "--bind".to_owned(), port.to_string()],
            "--bind",
        ),
        (
            vec![
                "serve".to_owned(),
                "--bind".to_owned(),
                "127.0.0.1:0".to_owned(),
                "--api-bind".to_owned(),
                format!("localhost:{port}"),
            ],
            "--api-bind",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&args, &format!("{flag} 127.0.0.1:{port}: cannot listen"));
        // The OS error once, with what to do.
        let out = Command::new(BIN).args(&args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
        assert!(stderr.contains("choose a free port"), "{stderr}");
    }
}

#[test]
fn the_default_fixtures_file_is_what_the_binary_uses() {
    let port = free_port();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/default.toml");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--fixtures",
            fixtures,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let text = banner(&mut child);
    assert!(text.contains("Acme Desktop Exporter"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_readme_documents_every_rule_and_the_ci_runs_its_test_command() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    for rule in mock_server::rules::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", rule.id)),
            "README's rule table lacks {}",
            rule.id
        );
        assert!(
            readme.contains(rule.fix.replace('|', "/").as_str()),
            "README's fix for {} is stale",
            rule.id
        );
    }
    for rule in conformance::rules::ALL {
        let row = format!(
            "| `{}` | {} | {} | {} |",
            rule.id,
            if rule.level == mock_server::rules::Level::Must {
                "MUST"
            } else {
                "SHOULD"
            },
            rule.doc.replace('|', "/"),
            rule.fix.replace('|', "/")
        );
        assert!(
            readme.contains(&row),
            "README's client rule row for {} is missing or stale: {row}",
            rule.id
        );
    }
    let ci = std::fs::read_to_string(format!("{root}/.ci/run")).expect(".ci/run");
    let test_command = "cargo test --workspace --locked";
    assert!(
        readme.contains(test_command) && ci.contains(test_command),
        "README and .ci/run share the test command"
    );
}

fn run_check(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn reference(pitfall: Option<&str>) -> String {
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/reference_client.py");
    match pitfall {
        Some(p) => format!("python3 {client} --pitfall {p}"),
        None => format!("python3 {client}"),
    }
}

fn refs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("onshape-mock-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

#[test]
fn check_writes_json_and_junit_and_exits_0_for_a_correct_client() {
    let dir = scratch("reports");
    let (json, junit) = (dir.join("r.json"), dir.join("r.xml"));
    let (code, stdout, stderr) = run_check(&[
        "--command",
        &reference(None),
        "--scenario",
        "happy-localhost",
        "--scenario",
        "happy-oob",
        "--json",
        json.to_str().expect("path"),
        "--junit",
        junit.to_str().expect("path"),
        "--har",
        dir.join("har").to_str().expect("path"),
    ]);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let happy = stdout
        .find("PASS  happy-localhost")
        .expect("happy-localhost passes");
    let oob = stdout.find("PASS  happy-oob").expect("happy-oob passes");
    assert!(happy < oob, "lines come in id order: {stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid JSON");
    assert_eq!(report["summary"]["passed"], 2);
    assert_eq!(report["tool"]["name"], "onshape-mock");
    assert_eq!(report["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(report["command"]
        .as_str()
        .is_some_and(|c| c.contains("reference_client.py")));
    let traffic = report["scenarios"][0]["traffic"]
        .as_array()
        .expect("traffic");
    assert!(
        traffic
            .iter()
            .any(|e| e["path"] == "/oauth/token" && e["status"] == 200),
        "the scenario's exchanges are in the report"
    );
    let har: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("har/happy-localhost.har")).expect("har written"),
    )
    .expect("valid JSON");
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), traffic.len(), "one HAR entry per exchange");
    assert!(entries.iter().any(|e| e["request"]["method"] == "POST"
        && e["request"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/oauth/token"))
        && e["request"]["postData"]["params"].is_array()));
    let all_har = std::fs::read_to_string(dir.join("har/happy-localhost.har")).expect("har");
    assert!(
        !all_har.contains("client_secret=W") && all_har.contains("(masked)"),
        "secrets masked"
    );
    let findings = report["scenarios"][0]["findings"]
        .as_array()
        .expect("findings");
    assert!(findings
        .iter()
        .all(|f| f["rule"].is_string() && f["outcome"].is_string() && f["evidence"].is_array()));
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("<testcase name=\"happy-localhost\"") && xml.contains("tests=\"2\""),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"tool\"") && xml.contains("name=\"command\""),
        "the suite names the tool and the command: {xml}"
    );
}

#[test]
fn check_refuses_unwritable_reports_and_bad_app_urls_before_running() {
    let started = std::time::Instant::now();
    for (flag, path) in [
        ("--json", "/nonexistent-dir-7f3a/r.json"),
        ("--junit", "/nonexistent-dir-7f3a/r.xml"),
        ("--har", "/proc/onshape-mock-har"),
    ] {
        let (code, stdout, stderr) = run_check(&["--command", "sleep 5", flag, path]);
        assert_eq!(code, Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(path.split('/').nth(1).unwrap_or(path)),
            "{flag}: {stderr}"
        );
        assert!(stdout.is_empty(), "nothing ran: {stdout}");
    }
    for url in [
        "ftp://localhost/x",
        "http://example.com:{port}/login",
        "not a url",
        "http://127.0.0.1:{port}/login",
        "http://localhost:3000/login",
    ] {
        let (code, _, stderr) = run_check(&["--command", "sleep 5", "--app-url", url]);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert!(stderr.contains("--app-url"), "{stderr}");
    }
    let (code, _, stderr) = run_check(&[
        "--command",
        "sleep 5",
        "--faketime-lib",
        "/nonexistent/libfaketime.so.1",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/libfaketime.so.1"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused before any client ran"
    );
}

#[test]
fn check_exits_1_on_a_broken_client_and_honours_the_baseline() {
    let dir = scratch("baseline");
    let args = |baseline: Option<&std::path::Path>| {
        let mut a = vec![
            "--command".to_owned(),
            reference(Some("json-body")),
            "--scenario".into(),
            "happy-localhost".into(),
        ];
        if let Some(b) = baseline {
            a.push("--baseline".into());
            a.push(b.to_str().expect("path").to_owned());
        }
        a
    };

    let (code, stdout, _) = run_check(&refs(&args(None)));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("token-form-body") && stdout.contains("> #"),
        "names the rule and the request: {stdout}"
    );

    let expected = dir.join("expected");
    std::fs::write(
        &expected,
        "# adopting step by step\nhappy-localhost token-form-body\nhappy-localhost exit-status\n",
    )
    .expect("write");
    let (code, stdout, _) = run_check(&refs(&args(Some(&expected))));
    assert_eq!(
        code,
        Some(0),
        "baselined failures do not fail the run: {stdout}"
    );

    let stale = dir.join("stale");
    std::fs::write(&stale, "happy-localhost token-form-body\nhappy-localhost exit-status\nhappy-localhost code-single-use\n").expect("write");
    let (code, stdout, _) = run_check(&refs(&args(Some(&stale))));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("stale baseline entry `happy-localhost code-single-use`"),
        "{stdout}"
    );

    let bad = dir.join("bad");
    std::fs::write(&bad, "happy-localhost no-such-rule\n").expect("write");
    let (code, _, stderr) = run_check(&refs(&args(Some(&bad))));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown rule `no-such-rule`"), "{stderr}");
}

#[test]
fn check_api_key_runs_the_api_key_scenarios_and_refuses_the_other_kind() {
    let client = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/clients/reference_apikey_client.py"
    );
    let dir = scratch("apikey");
    let json = dir.join("r.json");
    let (code, stdout, stderr) = run_check(&[
        "--api-key",
        "--command",
        &format!("python3 {client}"),
        "--scenario",
        "apikey-redirect",
        "--scenario",
        "apikey-basic",
        "--json",
        json.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("PASS  apikey-basic") && stdout.contains("PASS  apikey-redirect"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid JSON");
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    // The broken client fails under the rule of its mistake.
    let (code, stdout, _) = run_check(&[
        "--api-key",
        "--command",
        &format!("python3 {client} --pitfall redirect-not-resigned"),
        "--scenario",
        "apikey-redirect",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("[redirect-resigned, exit-status]"),
        "{stdout}"
    );
    // A scenario of the other kind, or a mode that cannot go with API keys: exit 2, said why.
    let (code, _, stderr) = run_check(&["--command", "true", "--scenario", "apikey-signed"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("is for an API-key client: add --api-key"),
        "{stderr}"
    );
    let (code, _, stderr) =
        run_check(&["--api-key", "--command", "true", "--scenario", "happy-oob"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("leave out --api-key"), "{stderr}");
    let (code, _, stderr) = run_check(&["--api-key", "--app-url", "/login", "--command", "true"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_exits_2_when_the_run_cannot_happen() {
    let (code, _, stderr) = run_check(&["--command", "true", "--scenario", "no-such-scenario"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown scenario `no-such-scenario`"),
        "{stderr}"
    );
    let (code, _, stderr) = run_check(&[
        "--command",
        "definitely-not-a-command-7f3a",
        "--scenario",
        "happy-localhost",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("could not start"), "{stderr}");
    let (code, _, stderr) = run_check(&["--scenario", "happy-localhost"]);
    assert_eq!(code, Some(2), "--command is required: {stderr}");
}

#[test]
fn a_client_that_hangs_is_stopped_at_the_timeout() {
    let started = Instant::now();
    let (code, stdout, _) = run_check(&[
        "--command",
        "sleep 30",
        "--scenario",
        "happy-localhost",
        "--timeout",
        "1",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("timed out"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the runner does not wait for the client"
    );
}

#[test]
fn scenarios_and_rules_are_listed() {
    let out = Command::new(BIN).arg("scenarios").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "happy-localhost",
        "happy-oob",
        "user-denies",
        "forged-state",
        "code-expired",
        "token-expiry",
        "two-expiries",
        "grant-revoked",
        "scope-subset",
        "no-scope",
        "company-choice",
        "company-given",
        "rate-limited",
        "token-unavailable",
    ] {
        assert!(text.contains(id), "scenarios lists {id}: {text}");
    }
    let out = Command::new(BIN).arg("rules").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in conformance::rules::ALL {
        assert!(text.contains(rule.id), "rules lists {}", rule.id);
    }
    assert!(text.contains("SHOULD") && text.contains("MUST"));
}

#[test]
fn an_interrupted_check_kills_its_clients() {
    let marker = format!("sleep 37.{}", std::process::id() % 1000);
    let mut child = Command::new(BIN)
        .args([
            "check",
            "--command",
            &marker,
            "--scenario",
            "happy-localhost",
            "--scenario",
            "happy-oob",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let running = |m: &str| {
        let out = Command::new("pgrep")
            .args(["-f", m])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(&marker) < 2 {
        assert!(Instant::now() < deadline, "the clients never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("waits");
    assert_eq!(exit.code(), Some(130));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("reads");
    assert!(stderr.contains("interrupted"), "{stderr}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        running(&marker),
        0,
        "no client outlives an interrupted check"
    );
}

#[test]
fn a_should_rule_warns_without_failing_and_junit_shows_it() {
    let dir = scratch("warn");
    let junit = dir.join("w.xml");
    let (code, stdout, _) = run_check(&[
        "--command",
        &reference(Some("ignore-retry-after")),
        "--scenario",
        "rate-limited",
        "--junit",
        junit.to_str().expect("path"),
    ]);
    assert_eq!(
        code,
        Some(0),
        "a SHOULD rule does not fail the run: {stdout}"
    );
    assert!(
        stdout.contains("WARN  rate-limited") && stdout.contains("retry-after-respected"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("name=\"warning:retry-after-respected\""),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn serve_openapi_loads_the_document_or_says_why_not() {
    let doc = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mock-server/tests/api/openapi/onshape-test.json"
    );
    fails_with(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--openapi",
            "/nonexistent/openapi.json",
        ],
        "--openapi /nonexistent/openapi.json: cannot read the OpenAPI document",
    );
    fails_with(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--openapi",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ],
        "is not JSON",
    );
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", &port.to_string(), "--openapi", doc])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let banner = banner_until(&mut child, "REST API");
    assert!(
        banner.contains(
            "REST API:        14 operations from Onshape REST API (test document) 1.0-test"
        ),
        "{banner}"
    );
    let answer = get(port, "/api/openapi");
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("1.0-test"),
        "{answer}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
