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
        let out = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                "0",
                "--fixtures",
                &ok,
                "--shutdown-grace",
                "0s",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let mut child = out;
        let text = super::banner_until(&mut child, "Users:");
        assert!(text.contains("is running"), "{plan}: {text}");
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn bind_takes_a_port_alone_or_localhost() {
    for form in ["{port}", "localhost:{port}", ":{port}"] {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &form.replace("{port}", &port.to_string()),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let text = super::banner(&mut child);
        assert!(
            text.contains(&format!("http://127.0.0.1:{port}")),
            "{form}: {text}"
        );
        let _ = child.kill();
        let _ = child.wait();
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
