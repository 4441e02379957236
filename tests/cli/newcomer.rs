//! A new user's first ten minutes, as README tells them: the declared toolchain is the one
//! the locked dependencies need, mistakes at start-up say what to do, and the logs are
//! clean in a pipe.

use std::process::Command;

use super::{fails_with, free_port, reference, run_check, BIN};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn version(text: &str) -> (u32, u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn the_declared_rust_version_is_what_the_locked_dependencies_need_and_readme_says() {
    let manifest = std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).expect("Cargo.toml");
    let declared = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("[workspace.package] declares rust-version");
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("Rust toolchain ({declared} or newer")),
        "README's set-up names the declared minimum {declared}"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--locked", "--format-version", "1"])
        .current_dir(ROOT)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let too_new: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(declared)).then(|| {
                format!(
                    "{} {} needs {needs}",
                    p["name"].as_str().unwrap_or("?"),
                    p["version"].as_str().unwrap_or("?")
                )
            })
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "rust-version {declared} is below what locked dependencies need: {too_new:?}"
    );
    // Every package of the workspace inherits it, so clippy's `incompatible_msrv` checks our
    // own code against it too.
    for p in packages.iter().filter(|p| p["source"].is_null()) {
        assert_eq!(
            p["rust_version"].as_str(),
            Some(declared),
            "{} inherits rust-version",
            p["name"]
        );
    }
}

/// The binary with `args`, killed when dropped, and its stdout up to the line holding
/// `marker` (a banner, the tokens).
struct Running {
    child: std::process::Child,
    text: String,
}

impl Running {
    fn until(args: &[&str], marker: &str) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let text = super::banner_until(&mut child, marker);
        Running { child, text }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("onshape-mock-newcomer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

#[test]
fn start_up_mistakes_say_what_to_do() {
    // An unknown --auto-consent user: the valid ones are listed.
    fails_with(
        &["serve", "--bind", "0", "--auto-consent", "alice"],
        "alice@example.com, bob@example.com, carol@example.com",
    );
    // Fixtures: the plan and the ids are checked, and a TOML error is printed once.
    let company = |id: &str, plan: &str| {
        format!("[[companies]]\nid = \"{id}\"\nname = \"C\"\nplan = \"{plan}\"\n")
    };
    let bad_plan = scratch_file("plan.toml", &company("c0ffee00000000000000a11a", "gold"));
    fails_with(&["serve", "--bind", "0", "--fixtures", &bad_plan], "gold");
    let upper = scratch_file(
        "upper.toml",
        &company("C0FFEE00000000000000A11A", "enterprise"),
    );
    fails_with(
        &["serve", "--bind", "0", "--fixtures", &upper],
        "is not 24 lower-case hex characters",
    );
    let broken = scratch_file("broken.toml", "[[companies]\nid = 1\n");
    let out = Command::new(BIN)
        .args(["serve", "--bind", "0", "--fixtures", &broken])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("[[companies]").count(), 1, "once: {stderr}");
    // Each plan the format documents is accepted.
    for plan in [
        "enterprise",
        "professional",
        "standard",
        "free",
        "edu-student",
    ] {
        let ok = scratch_file(
            &format!("{plan}.toml"),
            &company("c0ffee00000000000000a11a", plan),
        );
        let served = Running::until(&["serve", "--bind", "0", "--fixtures", &ok], "Users:");
        assert!(
            served.text.contains("is running"),
            "{plan}: {}",
            served.text
        );
    }
}

#[test]
fn bind_takes_a_port_alone_or_localhost() {
    for form in ["{port}", "localhost:{port}", ":{port}"] {
        let port = free_port();
        let served = Running::until(
            &[
                "serve",
                "--bind",
                &form.replace("{port}", &port.to_string()),
            ],
            "carol@example.com",
        );
        assert!(
            served.text.contains(&format!("http://127.0.0.1:{port}")),
            "{form}: {}",
            served.text
        );
    }
}

#[test]
fn check_reports_read_as_english() {
    let client = reference(None);
    let (code, stdout, stderr) = run_check(&[
        "--command",
        &client,
        "--scenario",
        "user-denies",
        "--no-shared-clock",
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("exit 1 (a failure was expected)"),
        "{stdout}"
    );
    assert!(stdout.contains("\n1 scenario: 1 passed"), "{stdout}");
    assert!(stdout.contains("0 MUST failures"), "{stdout}");
}

/// A mock on a free port, as README's first set-up command starts it (built-in fixtures).
struct Served {
    _running: Running,
    port: u16,
    url: String,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let port = free_port();
        let mut args = vec!["serve".to_owned(), "--bind".to_owned(), port.to_string()];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let running = Running::until(&args, "carol@example.com");
        assert!(running.text.contains("Start here:"), "{}", running.text);
        Served {
            _running: running,
            port,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// The first ```sh block after `heading` in README.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).expect("README.md");
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("README has `{heading}`"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block.to_owned()
}

/// Runs README's block under `heading` with bash, as written, against a fresh mock (`M`); its
/// stdout, once it has exited 0.
fn run_readme_block(heading: &str) -> String {
    let mock = Served::start(&[]);
    let out = Command::new("bash")
        .args(["-c", &readme_block(heading)])
        .env("M", &mock.url)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{heading}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn readmes_curl_flow_runs_as_written() {
    let stdout = run_readme_block("## A full flow with curl");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("code: ") && l.len() > 10),
        "step 1 printed a code:\n{stdout}"
    );
    let alice = lines
        .iter()
        .filter(|l| l.contains("\"email\":\"alice@example.com\""))
        .count();
    assert_eq!(
        alice, 2,
        "sessioninfo answered before expiry and after the refresh:\n{stdout}"
    );
    for rule in [
        "access-token-expired",
        "token-post",
        "token-form-body",
        "client-id-encoded",
    ] {
        assert!(
            stdout.contains(&format!("\"rule\":\"{rule}\"")),
            "{rule}:\n{stdout}"
        );
    }
    assert!(stdout.contains("\"name\":\"New part\""), "{stdout}");
    assert!(stdout.contains("\"status\":\"reset\""), "{stdout}");
}

#[test]
fn token_prints_a_working_token_in_one_command() {
    let mock = Served::start(&["--clock", "frozen"]);
    let token = |args: &[&str]| {
        Command::new(BIN)
            .args(["token", "--mock", &mock.url])
            .args(args)
            .output()
            .expect("runs")
    };
    let out = token(&["--user", "alice@example.com", "--export"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The export lines work in a shell, and the token works on the API.
    let script = format!(
        "{stdout}\ncurl -s \"$ONSHAPE_API_URL/api/users/sessioninfo\" -H \"Authorization: Bearer $ONSHAPE_ACCESS_TOKEN\"\n"
    );
    let call = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash");
    let answer = String::from_utf8_lossy(&call.stdout);
    assert!(
        answer.contains("\"email\":\"alice@example.com\""),
        "{answer}"
    );
    // The consent script was put back: the pages answer again.
    let consent = super::get(mock.port, "/__mock/consent");
    assert!(consent.contains("\"decision\":\"prompt\""), "{consent}");
    // The flow is in the log, as a client's.
    let log = super::get(mock.port, "/__mock/requests");
    assert!(
        log.contains("\"path\":\"/oauth/authorize\"") && log.contains("\"path\":\"/oauth/token\""),
        "{log}"
    );

    // Text: the token, and a curl line to try; fewer scopes when asked.
    let out = token(&["--user", "alice@example.com", "--scope", "OAuth2Read"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("access_token:") && text.contains("curl -H 'Authorization: Bearer "),
        "{text}"
    );

    // Mistakes are named before anything is asked of the mock.
    for (args, message) in [
        (
            vec!["--user", "bob@example.com"],
            "add --company with one of c0ffee00000000000000a11a (Acme Robotics)",
        ),
        (
            vec!["--user", "dave@example.com"],
            "the users are: alice@example.com",
        ),
        (
            vec!["--user", "alice@example.com", "--app", "Nope"],
            "the applications are: Acme Web Previewer",
        ),
        (
            vec!["--user", "alice@example.com", "--scope", "OAuth2Share"],
            "invalid_scope",
        ),
        (
            vec!["--user", "alice@example.com", "--client-secret", "WRONG"],
            "pass the same --fixtures FILE",
        ),
    ] {
        let out = token(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // Bob, in his second company.
    let out = token(&[
        "--user",
        "bob@example.com",
        "--company",
        "Globex Fabrication",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["company_id"], "c0ffee00000000000000b22b");
    assert_eq!(json["token_type"], "Bearer");
}

#[test]
fn token_says_how_to_get_a_mock_or_starts_one() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = Command::new(BIN)
        .args(["token", "--user", "alice@example.com", "--mock", &url])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("onshape-mock serve") && stderr.contains("--start"),
        "{stderr}"
    );
    // --start: the tokens, then it keeps serving them.
    let started = Running::until(
        &[
            "token",
            "--user",
            "alice@example.com",
            "--mock",
            &url,
            "--start",
            "--export",
        ],
        "ONSHAPE_CLIENT_SECRET",
    );
    let exports = &started.text;
    let access = exports
        .lines()
        .find_map(|l| l.strip_prefix("export ONSHAPE_ACCESS_TOKEN='"))
        .and_then(|l| l.strip_suffix('\''))
        .expect("an access token");
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("still serving");
    use std::io::{Read, Write};
    write!(
        s,
        "GET /api/users/sessioninfo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {access}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn fixtures_prints_a_file_serve_accepts() {
    let out = Command::new(BIN).arg("fixtures").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("[[apps]]") && text.contains("# [[companies]]"),
        "{text}"
    );
    let path = scratch_file("printed.toml", &text);
    let served = Running::until(
        &["serve", "--bind", "0", "--fixtures", &path],
        "carol@example.com",
    );
    assert!(
        served.text.contains("Acme Web Previewer"),
        "{}",
        served.text
    );
}

#[test]
fn readmes_api_limits_example_runs_as_written() {
    let stdout = run_readme_block("### API limits");
    assert!(
        stdout
            .to_ascii_lowercase()
            .contains("x-rate-limit-remaining: 3750000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"kind\":\"usage-25\"") && stdout.contains("alice@example.com"),
        "{stdout}"
    );
}

#[test]
fn readmes_api_key_examples_run_as_written() {
    let stdout = run_readme_block("## API keys");
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(answers.len(), 2, "{stdout}");
    for (scheme, answer) in ["Basic", "signed"].iter().zip(answers) {
        assert!(
            answer.contains("\"items\"") && answer.contains("Gripper assembly"),
            "{scheme}: {answer}"
        );
    }
}
