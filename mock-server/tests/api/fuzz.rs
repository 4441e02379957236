//! The whole HTTP surface, fuzzed over a real socket (issue 8): generated requests — known
//! and random paths, any method, odd headers, encodings, bodies, live and dead credentials,
//! and bytes that are not HTTP at all — each on its own connection. Whatever comes in, the
//! mock answers (or, for bytes that are not a request, closes the connection) with no 5xx,
//! and it still works afterwards. Bounded: 1,500 requests, a few seconds.

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

#[derive(Debug, Clone)]
struct Raw {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    garbage: Option<Vec<u8>>,
}

fn paths() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "/oauth/authorize",
        "/oauth/token",
        "/oauth/login",
        "/oauth/consent",
        "/account/applications",
        "/account/applications/revoke",
        "/api/users/sessioninfo",
        "/api/v6/users/sessioninfo",
        "/api/documents",
        "/api/documents/c0ffee00000000000000d001",
        "/__mock/health",
        "/__mock/clock/advance",
        "/__mock/apps",
        "/__mock/consent",
        "/__mock/grants/revoke",
        "/__mock/requests",
        "/__mock/faults",
        "/__mock/triggers",
        "/__mock/rules",
        "/__mock/usage",
        "/__mock/rate-limits",
        "/__mock/notifications",
        "/__mock/store-entries",
        "/__mock/launches",
        "/__mock/apps/WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D",
        "/__mock/apps/WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D/extensions",
        "/__mock/extensions/0123456789abcdef01234567/fire",
        "/developer",
        "/developer/c0ffee00000000000000a11a/apps",
        "/developer/c0ffee00000000000000a11a/apps/WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D",
        "/developer/me/keys",
        "/developer/c0ffee00000000000000a11a/usage",
        "/account/applications/open",
        "/account/applications/return/0123456789abcdef01234567",
        "/",
    ]);
    (
        known,
        "[a-zA-Z0-9%=&_.~+/?-]{0,40}",
        prop::option::of("[ -~]{0,20}"),
    )
        .prop_map(|(base, tail, query)| {
            let mut p = format!("{base}{tail}");
            if let Some(q) = query {
                p.push('?');
                p.push_str(&q.replace([' ', '#'], "%20"));
            }
            p
        })
}

fn header_values(token: String) -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,60}",
        Just(format!("Bearer {token}")),
        Just("Basic\tV0VCQVBQOlNFQ1JFVA==".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/json".to_owned()),
        Just("text/plain".to_owned()),
        Just("http://evil.example".to_owned()),
        Just("cross-site".to_owned()),
        "[a-zA-Z0-9]{200,3000}",
    ]
}

fn requests(token: String, refresh: String) -> impl Strategy<Value = Raw> {
    let header = (
        prop::sample::select(vec![
            "content-type",
            "authorization",
            "origin",
            "sec-fetch-site",
            "cookie",
            "accept",
            "x-anything",
            "content-encoding",
            "transfer-encoding",
            "expect",
        ]),
        header_values(token),
    )
        .prop_map(|(n, v)| (n.to_owned(), v));
    let body = prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..300),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        Just(format!("grant_type=refresh_token&refresh_token={refresh}&client_id={}&client_secret={}", encode_id(WEB.client_id), encode_id(WEB.client_secret)).into_bytes()),
        Just(b"{\"seconds\": 18446744073709551615}".to_vec()),
        Just(b"{\"name\":\"x\",\"primary_format\":\"com.a.b\",\"redirect_urls\":[\"http://localhost:1/\\r\"],\"scopes\":[\"OAuth2Read\"]}".to_vec()),
    ];
    let method = prop_oneof![
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"
        ])
        .prop_map(str::to_owned),
        "[A-Z]{1,10}",
    ];
    (
        method,
        paths(),
        prop::collection::vec(header, 0..6),
        body,
        prop::option::weighted(0.05, prop::collection::vec(any::<u8>(), 1..200)),
    )
        .prop_map(|(method, path, headers, body, garbage)| Raw {
            method,
            path,
            headers,
            body,
            garbage,
        })
}

fn encode_id(s: &str) -> String {
    s.replace('=', "%3D")
}

fn bytes(r: &Raw) -> Vec<u8> {
    if let Some(g) = &r.garbage {
        return g.clone();
    }
    let mut out = format!("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", r.method, r.path).into_bytes();
    let mut has_length = false;
    for (n, v) in &r.headers {
        if n == "transfer-encoding" {
            continue; // a body of unknown framing would only time out
        }
        has_length |= n == "content-length";
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    if !has_length {
        out.extend_from_slice(format!("content-length: {}\r\n", r.body.len()).as_bytes());
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&r.body);
    out
}

async fn exchange(addr: SocketAddr, request: &[u8], not_http: bool) -> Option<String> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let _ = s.write_all(request).await;
    if not_http {
        // Bytes that never finish a request head would otherwise wait out the head timeout.
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "no answer or close within 5 s");
    let text = String::from_utf8_lossy(&out);
    text.split_whitespace().nth(1).map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_gets_a_5xx_or_breaks_the_mock() {
    let m = spawn_mock().await;
    let addr = m.mock.oauth_addr;
    let (token, refresh) = m.tokens(WEB).await;
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 1_500,
        failure_persistence: None,
        // Each step of shrinking a failure is a real exchange: keep it short.
        max_shrink_iters: 64,
        ..RunnerConfig::default()
    });
    let strategy = requests(token.clone(), refresh);
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        runner
            .run(&strategy, |raw| {
                let request = bytes(&raw);
                let status = handle.block_on(exchange(addr, &request, raw.garbage.is_some()));
                if raw.garbage.is_none() {
                    let status = status.unwrap_or_default();
                    prop_assert!(
                        status.len() == 3 && !status.starts_with('5'),
                        "{raw:?} -> {status:?}"
                    );
                } else if let Some(status) = status {
                    prop_assert!(!status.starts_with('5'), "{raw:?} -> {status}");
                }
                Ok(())
            })
            .map_err(|e| e.to_string())
    })
    .await
    .expect("runner");
    if let Err(e) = outcome {
        panic!("a request got a 5xx or no answer: {e}");
    }
    assert!(
        m.mock.state.log().entries().all(|e| e.status < 500),
        "no 5xx in the log"
    );
    // Still itself: the state is consistent and a full flow works.
    assert_eq!(m.get("/__mock/health").await.status, 200);
    m.post_json("/__mock/reset", serde_json::json!({})).await;
    let (access, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&access).await.status, 200);
}
