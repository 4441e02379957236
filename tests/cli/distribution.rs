//! What CI users download instead of compiling: the GitHub Action, the release archives, the
//! binstall metadata and the GitLab job agree with each other and with `check`'s flags.

use std::process::Command;

use super::BIN;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `--flags` a text passes to `onshape-mock check`, as `args+=(--flag` or on a `check` line.
fn flags(text: &str) -> Vec<String> {
    let mut out = vec![];
    // `args+=(` of the check command line, not `pip_args+=(`.
    let builds_args = |l: &str| {
        l.match_indices("args+=(").any(|(i, _)| {
            l[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
    };
    for line in text
        .lines()
        .filter(|l| builds_args(l) || l.contains("args=(check") || l.contains("onshape-mock check"))
    {
        for word in line.split(|c: char| c.is_whitespace() || c == '(' || c == '"') {
            if let Some(flag) = word.strip_prefix("--") {
                let flag: String = flag
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                if !flag.is_empty() {
                    out.push(format!("--{flag}"));
                }
            }
        }
    }
    out
}

#[test]
fn the_action_and_the_ci_templates_pass_flags_check_knows() {
    let help = Command::new(BIN)
        .args(["check", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for file in ["action.yml", "ci/gitlab-ci.yml", "ci/github-actions.yml"] {
        let used = flags(&read(file));
        if file == "action.yml" {
            assert!(used.len() >= 8, "{file}: {used:?}");
        }
        for flag in used {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "{file} passes {flag}, which `check --help` does not list"
            );
        }
    }
}

#[test]
fn release_archives_have_one_name_everywhere() {
    // The release workflow names them; the action, the GitLab job and binstall fetch them.
    let release = read(".github/workflows/release.yml");
    assert!(
        release.contains("name=\"onshape-mock-$TAG-$TARGET\""),
        "release.yml"
    );
    assert!(
        release.contains("LICENSE-MIT LICENSE-APACHE"),
        "archives carry the licenses"
    );
    let action = read("action.yml");
    assert!(
        action.contains("asset=\"onshape-mock-$tag-$target.$ext\""),
        "action.yml"
    );
    let gitlab = read("ci/gitlab-ci.yml");
    assert!(gitlab.contains("onshape-mock-$tag-"), "ci/gitlab-ci.yml");
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains(
            "pkg-url = \"{ repo }/releases/download/v{ version }/{ name }-v{ version }-{ target }{ archive-suffix }\""
        ),
        "Cargo.toml's binstall metadata"
    );
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(read(file).len() > 1000, "{file}");
    }
    // The image serves on all interfaces and answers the control API across Docker's network.
    let docker = read("Dockerfile");
    assert!(
        docker.contains(r#"CMD ["serve", "--bind", "0.0.0.0:8080", "--allow-remote-control"]"#),
        "Dockerfile"
    );
}
