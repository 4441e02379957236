//! `cargo bench --bench router`: the mock's own cost per request, in process — the router
//! driven through `tower::ServiceExt::oneshot`, no sockets, no HTTP parsing — against a bare
//! axum router answering `POST /oauth/token` with a fixed body, measured the same way in the
//! same run.
//!
//! `benches/server.rs` measures whole requests over loopback, where the kernel's share is
//! half of the time and swings with the machine's load; this isolates what the mock adds
//! (recording, masking, the rules, the log line) and is steadier from run to run. Each
//! figure is the best of six rounds of `ROUTER_N` requests (default 50,000). Request
//! building and response parsing are the same on both sides and counted in both.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use mock_server::{app, AppState, Config};
use tower::ServiceExt;

mod support;

use support::{bare_axum_router, code_in, redeem_form, CLIENT_ID, CLIENT_SECRET, REDIRECT};

const ROUNDS: usize = 6;

fn post(body: String) -> Request<Body> {
    Request::post("/oauth/token")
        .header("host", "127.0.0.1")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", body.len())
        .body(Body::from(body))
        .expect("request")
}

fn authorize() -> Request<Body> {
    Request::get(format!(
        "/oauth/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT}&state=b"
    ))
    .header("host", "127.0.0.1")
    .body(Body::empty())
    .expect("request")
}

async fn call(router: &Router, req: Request<Body>) -> (u16, Option<String>, serde_json::Value) {
    let r = router.clone().oneshot(req).await.expect("infallible");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, location, json)
}

/// Authorize (auto-consent) and redeem the code: the refresh token.
async fn round_trip(router: &Router) -> String {
    let (status, location, _) = call(router, authorize()).await;
    assert_eq!(status, 302, "authorize redirects");
    let location = location.expect("Location");
    let code = code_in(&location).expect("a code in Location");
    let (status, _, json) = call(router, post(redeem_form(code, CLIENT_ID, CLIENT_SECRET))).await;
    assert_eq!(status, 200, "{json}");
    json["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

/// Microseconds per `step`, best of [`ROUNDS`] rounds of `n`.
async fn best<F: std::future::Future<Output = ()>>(n: u32, mut step: impl FnMut() -> F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..n {
            step().await;
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // The request log line, formatted as `serve` formats it (text), into nothing.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_ansi(false)
        .with_writer(std::io::sink)
        .with_target(false)
        .fmt_fields(tracing_subscriber::fmt::format::debug_fn(
            |writer, field, value| match field.name() {
                "message" => write!(writer, "{value:?}"),
                _ => Ok(()),
            },
        ))
        .init();
    let n: u32 = std::env::var("ROUTER_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let bare = bare_axum_router();
        let form = "grant_type=refresh_token&refresh_token=x&client_id=x&client_secret=x";
        let baseline = best(n, || async {
            let (status, _, _) = call(&bare, post(form.to_owned())).await;
            assert_eq!(status, 200);
        })
        .await;

        let state = AppState::new(Config {
            auto_consent: Some("alice@example.com".into()),
            ..Config::default()
        })
        .expect("built-in fixtures");
        let mock = app(state);
        let refresh = std::cell::RefCell::new(round_trip(&mock).await);
        let grant = best(n, || async {
            let body = format!(
                "grant_type=refresh_token&refresh_token={}&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}",
                refresh.borrow()
            );
            let (status, _, json) = call(&mock, post(body)).await;
            assert_eq!(status, 200, "{json}");
            *refresh.borrow_mut() = json["refresh_token"].as_str().expect("refresh_token").to_owned();
        })
        .await;
        let trips = best(n / 4, || async {
            round_trip(&mock).await;
        })
        .await;
        println!(
            "in process, router only (best of {ROUNDS} rounds of {n}): bare axum handler {baseline:.2} µs per request; refresh grant {grant:.2} µs ({:.1}× the baseline); authorize + token round trip {trips:.2} µs ({:.1}× two baseline requests)",
            grant / baseline,
            trips / (2.0 * baseline)
        );
    });
}
