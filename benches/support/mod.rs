//! What the benches share: the built-in web app's credentials, a free loopback port, a
//! process's resident memory, and the baseline (a bare axum router with a fixed token
//! response). Each bench uses a part of it.
#![allow(dead_code)]

use std::net::TcpListener;

/// A port free on loopback right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The process's resident set size, in KiB (`VmRSS` of `/proc/PID/status`; 0 if unreadable).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The built-in web app (fixtures/default.toml), percent-encoded for a form or a query.
pub const CLIENT_ID: &str = "WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D";
pub const CLIENT_SECRET: &str = "WEBSECRETR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPASDFGA%3D";
pub const REDIRECT: &str = "http%3A%2F%2Flocalhost%3A3000%2Foauth%2Fcallback";

/// The `code` parameter in a callback URL (or in a response that holds one).
pub fn code_in(text: &str) -> Option<&str> {
    let at = text.find("code=")? + "code=".len();
    text[at..].split(['&', '#', '\r', '\n', ' ']).next()
}

/// The form that redeems `code` for the app `id` (all three percent-encoded already).
pub fn redeem_form(code: &str, id: &str, secret: &str) -> String {
    format!("grant_type=authorization_code&code={code}&client_id={id}&client_secret={secret}&redirect_uri={REDIRECT}")
}

/// The baseline: `POST /oauth/token` answered with a fixed token response, and a health
/// route to wait on. (The soak has no baseline.)
pub fn bare_axum_router() -> axum::Router {
    use axum::routing::{get, post};
    let body = r#"{"access_token":"0123456789012345678901234567890123456789","token_type":"Bearer","expires_in":3600,"refresh_token":"012345678901234567890123456789012345678901234567"}"#;
    axum::Router::new()
        .route(
            "/oauth/token",
            post(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }),
        )
        .route("/__mock/health", get(|| async { "ok" }))
}
