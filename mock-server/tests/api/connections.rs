//! Connection limits (issue 8): stalled and slow clients are closed, a flood of idle sockets
//! cannot starve a real client, shutdown is bounded. These are real-time network timeouts,
//! so the tests set them to a fraction of a second; nothing here moves the mock clock.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mock_server::{Binds, Config, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

fn short(limits: Limits) -> Config {
    Config {
        limits,
        ..Config::default()
    }
}

async fn open(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    s
}

/// Reads until the server closes the connection (or `within` passes): what it sent.
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, s.read_to_end(&mut out)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

async fn health(addr: SocketAddr) -> String {
    let mut s = open(
        addr,
        b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_stalled_request_head_does_not_hold_up_shutdown() {
    let m = spawn_mock_with(
        short(Limits {
            head_timeout: Duration::from_secs(600),
            shutdown_grace: Duration::from_millis(300),
            ..Limits::default()
        }),
        Binds::ephemeral(),
    )
    .await;
    let _stalled = open(m.mock.oauth_addr, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    // An in-flight body that never completes, too.
    let _slow_body = open(
        m.mock.oauth_addr,
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nab",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t0 = Instant::now();
    let done = tokio::time::timeout(Duration::from_secs(5), m.mock.shutdown()).await;
    assert!(
        matches!(done, Ok(Ok(()))),
        "shutdown returns within the grace period"
    );
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn a_request_head_that_stalls_is_closed_at_the_head_timeout() {
    let m = spawn_mock_with(
        short(Limits {
            head_timeout: Duration::from_millis(300),
            ..Limits::default()
        }),
        Binds::ephemeral(),
    )
    .await;
    let mut stalled = open(m.mock.oauth_addr, b"GET /__mock/health HTTP/1.1\r\nHo").await;
    let t0 = Instant::now();
    let closed = read_until_closed(&mut stalled, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "the server closed the stalled connection");
    assert!(t0.elapsed() >= Duration::from_millis(250));
    // The same timeout closes an idle keep-alive connection after its last response.
    let mut idle = open(
        m.mock.oauth_addr,
        b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    let answered = read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .expect("the idle connection is closed after the head timeout");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    // A prompt request is still answered.
    assert!(health(m.mock.oauth_addr).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_body_that_trickles_gets_408_and_the_connection_closes() {
    let m = spawn_mock_with(
        short(Limits {
            body_timeout: Duration::from_millis(300),
            ..Limits::default()
        }),
        Binds::ephemeral(),
    )
    .await;
    let mut slow = open(
        m.mock.oauth_addr,
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\ngrant_type=",
    )
    .await;
    let answer = read_until_closed(&mut slow, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert_eq!(m.last_rule().await.as_deref(), Some("request-timeout"));
    // A body sent at once is read as usual.
    let r = m.redeem(WEB, "no-such-code").await;
    assert_rejected(&r, 401, "code-known");
}

#[tokio::test]
async fn a_request_head_over_64_kib_gets_431() {
    let m = spawn_mock().await;
    let big = "a".repeat(70 * 1024);
    let mut s = open(
        m.mock.oauth_addr,
        format!("GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {big}\r\n\r\n")
            .as_bytes(),
    )
    .await;
    let answer = read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let ok = format!(
        "GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(60 * 1024)
    );
    let mut s = open(m.mock.oauth_addr, ok.as_bytes()).await;
    let answer = read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_flood_of_slow_sockets_at_the_cap_does_not_starve_a_real_client() {
    let m = spawn_mock_with(
        short(Limits {
            max_connections: 16,
            head_timeout: Duration::from_secs(600),
            ..Limits::default()
        }),
        Binds::ephemeral(),
    )
    .await;
    let addr = m.mock.oauth_addr;
    // Twice the cap: slowloris heads and idle keep-alive sockets.
    let mut flood = Vec::new();
    for i in 0..32 {
        let bytes: &[u8] = if i % 2 == 0 {
            b"GET / HTTP/1.1\r\nHost: x\r\nX-a: "
        } else {
            b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        };
        flood.push(open(addr, bytes).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        let answer = tokio::time::timeout(Duration::from_secs(5), health(addr))
            .await
            .expect("a real client is answered at the cap");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // Reqwest too (keep-alive pool), through the whole OAuth flow.
    let (access, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&access).await.status, 200);
}
