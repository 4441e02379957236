//! `cargo bench --bench signing`: what verifying a signed API-key request costs.
//!
//! In process (the router through `oneshot`, no sockets), `GET /api/users/sessioninfo` with
//! Alice's fixture key, three ways in the same run: HTTP Basic (the key looked up and its
//! secret compared — the baseline), signed (`On …:HmacSHA256:…` with `Date` and a fresh
//! `On-Nonce`), and the verification alone (the string to sign and its HMAC, no router).
//! Requests are built and signed before the clock starts, so the client's signing is not
//! counted. Each figure is the best of six rounds of `SIGNING_N` requests (default 20,000).

use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use mock_server::api::signing::{sign, verify, Signed};
use mock_server::{app, AppState, Config};
use tower::ServiceExt;

const ACCESS: &str = "AL1CEACCESSKEY7Q2ZLDNEWR";
const SECRET: &str = "AL1CESECRETKEYR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPAS";
const PATH: &str = "/api/v10/users/sessioninfo";
const ROUNDS: usize = 6;

fn basic() -> Request<Body> {
    let credentials = data_encoding::BASE64.encode(format!("{ACCESS}:{SECRET}").as_bytes());
    Request::get(PATH)
        .header("host", "127.0.0.1")
        .header("authorization", format!("Basic {credentials}"))
        .body(Body::empty())
        .expect("request")
}

fn signed(date: &str, nonce: &str) -> Request<Body> {
    let string = Signed {
        method: "GET",
        nonce,
        date,
        content_type: "",
        path: PATH,
        query: "",
    }
    .string_to_sign();
    let signature = sign(SECRET.as_bytes(), &string);
    Request::get(PATH)
        .header("host", "127.0.0.1")
        .header(
            "authorization",
            format!("On {ACCESS}:HmacSHA256:{signature}"),
        )
        .header("date", date)
        .header("on-nonce", nonce)
        .body(Body::empty())
        .expect("request")
}

/// Microseconds per request: the best of the rounds, requests made before each round.
async fn best(router: &Router, n: usize, make: impl Fn(usize) -> Request<Body>) -> f64 {
    let mut best = f64::MAX;
    for round in 0..ROUNDS {
        let requests: Vec<Request<Body>> = (0..n).map(|i| make(round * n + i)).collect();
        let start = Instant::now();
        for req in requests {
            let r = router.clone().oneshot(req).await.expect("infallible");
            assert_eq!(r.status(), 200);
            let _ = axum::body::to_bytes(r.into_body(), 1 << 20).await;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("SIGNING_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let state = AppState::new(Config::default()).expect("built-in fixtures");
        let mock = app(state);
        let date = httpdate::fmt_http_date(SystemTime::now());
        let basic_us = best(&mock, n, |_| basic()).await;
        let signed_us = best(&mock, n, |i| signed(&date, &format!("benchnonce{i:015}"))).await;
        // The verification alone: the string to sign and the HMAC check.
        let signature = sign(
            SECRET.as_bytes(),
            &Signed { method: "GET", nonce: "benchnonce000000000000001", date: &date, content_type: "", path: PATH, query: "" }
                .string_to_sign(),
        );
        let mut verify_us = f64::MAX;
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..n {
                let s = Signed { method: "GET", nonce: "benchnonce000000000000001", date: &date, content_type: "", path: PATH, query: "" };
                assert!(verify(SECRET, &s.string_to_sign(), &signature));
            }
            verify_us = verify_us.min(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
        println!(
            "in process, best of {ROUNDS} rounds of {n}: Basic {basic_us:.2} µs per request (baseline); signed {signed_us:.2} µs ({:.2}× the baseline, +{:.2} µs); verification alone {verify_us:.2} µs",
            signed_us / basic_us,
            signed_us - basic_us
        );
    });
}
