//! Masking (issue 8), as a property: whatever a request looks like — a secret in the query,
//! a form body, a body encoded as a whole, JSON under the form type, any header, the path,
//! under any field name and case, raw or percent-encoded once or twice — no client secret,
//! code or token the mock knows appears in the request log (which is also what the stderr
//! line is made of) or in a hint.

use axum::body::Body;
use axum::http::Request;
use mock_server::form::encode;
use mock_server::{app, AppState, Config};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use tower::ServiceExt;

use crate::helpers::*;

struct Secrets {
    client_secret: String,
    code: String,
    access: String,
    refresh: String,
}

impl Secrets {
    fn all(&self) -> [&str; 5] {
        [
            &self.client_secret,
            self.client_secret.trim_end_matches('='),
            &self.code,
            &self.access,
            &self.refresh,
        ]
    }
}

async fn call(state: &AppState, req: Request<Body>) -> (u16, Option<String>, String) {
    let resp = app(state.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn issue_code(state: &AppState) -> String {
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", WEB.client_id),
        ("redirect_uri", WEB.redirect),
    ]);
    let req = Request::get(format!("/oauth/authorize?{query}"))
        .body(Body::empty())
        .expect("request");
    let (status, location, body) = call(state, req).await;
    assert_eq!(status, 302, "{body}");
    let location = location.expect("Location");
    let code = location.split("code=").nth(1).expect("code");
    code.split('&').next().expect("code").to_owned()
}

async fn secrets(state: &AppState) -> Secrets {
    let code = issue_code(state).await;
    let body = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", WEB.client_id),
        ("client_secret", WEB.client_secret),
        ("redirect_uri", WEB.redirect),
    ]);
    let req = Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let (status, _, body) = call(state, req).await;
    assert_eq!(status, 200, "{body}");
    let tokens: serde_json::Value = serde_json::from_str(&body).expect("json");
    Secrets {
        client_secret: WEB.client_secret.to_owned(),
        code: issue_code(state).await,
        access: tokens["access_token"].as_str().expect("access").to_owned(),
        refresh: tokens["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    }
}

fn percent_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// One spelling of a value: raw, form-encoded, every byte encoded, encoded twice.
fn spell(value: &str, how: u8) -> String {
    match how {
        0 => value.to_owned(),
        1 => mock_server::form::encode_component(value),
        2 => percent_all(value),
        _ => percent_all(&percent_all(value)),
    }
}

#[derive(Debug, Clone)]
struct Case {
    secret: usize,
    name: &'static str,
    carrier: u8,
    spelling: u8,
    path: &'static str,
    post: bool,
    glue: String,
    space: &'static str,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        0usize..4,
        prop::sample::select(vec![
            "client_secret",
            "CLIENT_SECRET",
            "Client-Secret",
            "clientSecret",
            "code",
            "Code",
            "refresh_token",
            "REFRESH_TOKEN",
            "access_token",
            "token",
            "password",
            "x",
            "q",
        ]),
        0u8..10,
        0u8..4,
        prop::sample::select(vec![
            "/oauth/token",
            "/oauth/authorize",
            "/api/users/sessioninfo",
            "/account/applications",
            "/__mock/requests",
            "/nowhere",
        ]),
        any::<bool>(),
        "[a-z0-9]{0,3}",
        prop::sample::select(vec![" ", "\t", "  ", " \t"]),
    )
        .prop_map(
            |(secret, name, carrier, spelling, path, post, glue, space)| Case {
                secret,
                name,
                carrier,
                spelling,
                path,
                post,
                glue,
                space,
            },
        )
}

fn request(case: &Case, secret: &str) -> Request<Body> {
    let value = format!("{}{secret}", case.glue);
    let spelled = spell(&value, case.spelling);
    let name = case.name;
    let mut path = case.path.to_owned();
    let mut body = String::new();
    let mut content_type = "application/x-www-form-urlencoded";
    let mut header: Option<(String, String)> = None;
    match case.carrier {
        0 => path = format!("{path}?grant_type=refresh_token&{name}={spelled}"),
        1 => {
            path = format!(
                "{path}?{}",
                percent_all(&format!("grant_type=refresh_token&{name}={value}"))
            )
        }
        2 => body = format!("grant_type=refresh_token&{name}={spelled}&client_id=x"),
        3 => body = percent_all(&format!("grant_type=authorization_code&{name}={value}")),
        4 => body = format!("{{\"{name}\":\"{value}\",\"grant_type\":\"refresh_token\"}}"),
        5 => {
            let basic =
                data_encoding::BASE64.encode(format!("{}:{value}", WEB.client_id).as_bytes());
            header = Some((
                "authorization".into(),
                format!("Basic{}{basic}", case.space),
            ));
        }
        6 => {
            let scheme = ["Bearer", "bearer", "Token", ""][case.spelling as usize];
            header = Some((
                "authorization".into(),
                format!("{scheme}{}{spelled}", case.space),
            ));
        }
        7 => header = Some((format!("x-{}", name.to_ascii_lowercase()), spelled)),
        8 => path = format!("/api/documents/{spelled}"),
        _ => {
            content_type = "application/json";
            header = Some(("cookie".into(), format!("{name}={spelled}")));
            body = format!("{{\"{name}\":\"{value}\"}}");
        }
    }
    let mut req = Request::builder()
        .method(if case.post { "POST" } else { "GET" })
        .uri(path);
    if !body.is_empty() {
        req = req.header("content-type", content_type);
    }
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    req.body(Body::from(body)).expect("a valid request")
}

#[test]
fn no_secret_reaches_the_log_or_a_hint_whatever_the_request() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = Config {
        auto_consent: Some(ALICE.to_owned()),
        ..Config::default()
    };
    let state = AppState::with_clock(config, mock_server::Clock::frozen_at(START)).expect("state");
    let secrets = rt.block_on(secrets(&state));
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 600,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    runner
        .run(&cases(), |case| {
            let secret = [
                &secrets.client_secret,
                &secrets.code,
                &secrets.access,
                &secrets.refresh,
            ][case.secret];
            let req = request(&case, secret);
            let (_, _, body) = rt.block_on(call(&state, req));
            let logged = {
                let log = state.log();
                let last = log.entries().last().expect("logged");
                serde_json::to_string(last).expect("json")
            };
            let hint = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["hint"].as_str().map(str::to_owned))
                .unwrap_or_default();
            for s in secrets.all() {
                prop_assert!(
                    !logged.contains(s),
                    "{case:?}: the log holds a secret: {logged}"
                );
                prop_assert!(
                    !hint.contains(s),
                    "{case:?}: the hint holds a secret: {hint}"
                );
                prop_assert!(
                    !body.contains(s),
                    "{case:?}: the answer quotes a secret back: {body}"
                );
            }
            Ok(())
        })
        .expect("no secret logged");
}

/// The four spellings the issue found in the log, one by one.
#[test]
fn the_reported_leaks_are_masked() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let state = AppState::with_clock(
        Config {
            auto_consent: Some(ALICE.to_owned()),
            ..Config::default()
        },
        mock_server::Clock::frozen_at(START),
    )
    .expect("state");
    let s = rt.block_on(secrets(&state));
    let basic =
        data_encoding::BASE64.encode(format!("{}:{}", WEB.client_id, s.client_secret).as_bytes());
    let requests = [
        // `Basic<TAB>…`
        Request::post("/oauth/token")
            .header("authorization", format!("Basic\t{basic}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("grant_type=client_credentials")),
        // A form segment with no raw `=`, a code inside.
        Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "grant_type=authorization_code&code%3D{}",
                s.code
            ))),
        // A GET whose query is encoded as a whole.
        Request::get(format!(
            "/oauth/token?{}",
            percent_all(&format!(
                "grant_type=refresh_token&refresh_token={}&client_secret={}",
                s.refresh, s.client_secret
            ))
        ))
        .body(Body::empty()),
        // An upper-case field name.
        Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "grant_type=refresh_token&CLIENT_SECRET={}&refresh_token={}",
                encode(&[("x", &s.client_secret)]).trim_start_matches("x="),
                s.refresh
            ))),
    ];
    for req in requests {
        let (status, _, body) = rt.block_on(call(&state, req.expect("request")));
        assert!((400..500).contains(&status), "{status} {body}");
        let log = state.log();
        let logged = serde_json::to_string(log.entries().last().expect("logged")).expect("json");
        for secret in s.all() {
            assert!(!logged.contains(secret), "{logged}");
            assert!(!body.contains(secret), "{body}");
        }
    }
}
