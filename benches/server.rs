//! `cargo bench`: starts the real `onshape-mock` binary and drives it over loopback.
//!
//! Figures (printed, and recorded in README.md):
//! - start-up: process spawn → first answered `GET /__mock/health` (median and worst of 20);
//! - idle RSS after start-up, and RSS after each load phase (memory stays flat);
//! - refresh-token grants per second, 32 keep-alive connections, each rotating its own
//!   refresh token;
//! - full authorization-code round trips per second (authorize with auto-consent, then
//!   token) over one keep-alive connection.
//!
//! Each load phase runs for `BENCH_SECONDS` (default 5) and stops by itself. The client is a
//! minimal HTTP/1.1 keep-alive client, so the figures measure the server, not a client
//! library. Client and server share this machine's cores.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_onshape-mock");
const CLIENT_ID: &str = "WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ%3D";
const CLIENT_SECRET: &str = "WEBSECRETR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPASDFGA%3D";
const REDIRECT: &str = "http%3A%2F%2Flocalhost%3A3000%2Foauth%2Fcallback";

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and returns once it answers, with the time that took. The returned
/// [`Server`] kills and reaps the child when dropped; a panic here ends the bench process.
#[allow(clippy::zombie_processes)]
fn start() -> (Server, Duration) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let t0 = Instant::now();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &addr.to_string(),
            "--auto-consent",
            "alice@example.com",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("onshape-mock starts");
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            use std::io::{Read, Write};
            let _ = s.write_all(
                b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && &buf[..12] == b"HTTP/1.1 200" {
                return (Server { child, addr }, t0.elapsed());
            }
        }
        if t0.elapsed() > Duration::from_secs(10) {
            panic!("onshape-mock did not answer within 10 s");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A minimal keep-alive HTTP/1.1 connection.
struct Conn {
    stream: BufReader<TcpStream>,
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            stream: BufReader::new(s),
        }
    }

    async fn request(&mut self, head: &str, body: &str) -> Reply {
        let req = if body.is_empty() {
            format!("{head}\r\nHost: 127.0.0.1\r\n\r\n")
        } else {
            format!(
                "{head}\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        self.stream
            .get_mut()
            .write_all(req.as_bytes())
            .await
            .expect("write");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line");
        let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (mut length, mut location) = (0usize, None);
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("location") {
                location = Some(value.trim().to_owned());
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.expect("body");
        Reply {
            status,
            location,
            body,
        }
    }

    async fn code(&mut self) -> String {
        let r = self
            .request(
                &format!("GET /oauth/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT}&state=b HTTP/1.1"),
                "",
            )
            .await;
        assert_eq!(r.status, 302, "authorize answers with a redirect");
        let loc = r.location.expect("Location");
        let start = loc.find("code=").expect("code in Location") + 5;
        loc[start..].split('&').next().unwrap_or("").to_owned()
    }

    async fn redeem(&mut self, code: &str) -> String {
        let r = self
            .request(
                "POST /oauth/token HTTP/1.1",
                &format!("grant_type=authorization_code&code={code}&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&redirect_uri={REDIRECT}"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        field(&r.body, "refresh_token")
    }

    async fn refresh(&mut self, token: &str) -> String {
        let r = self
            .request(
                "POST /oauth/token HTTP/1.1",
                &format!("grant_type=refresh_token&refresh_token={token}&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        field(&r.body, "refresh_token")
    }
}

fn field(body: &[u8], name: &str) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON token response");
    v[name].as_str().expect("field").to_owned()
}

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    )
}

async fn refresh_load(addr: SocketAddr, connections: usize) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + seconds();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            let code = c.code().await;
            let mut refresh = c.redeem(&code).await;
            let start = Instant::now();
            while Instant::now() < deadline {
                refresh = c.refresh(&refresh).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
            start.elapsed()
        }));
    }
    let mut longest = Duration::ZERO;
    for t in tasks {
        longest = longest.max(t.await.expect("task"));
    }
    done.load(Ordering::Relaxed) as f64 / longest.as_secs_f64()
}

async fn round_trips(addr: SocketAddr) -> f64 {
    let mut c = Conn::open(addr).await;
    let deadline = Instant::now() + seconds();
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let code = c.code().await;
        c.redeem(&code).await;
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench -- <filter>` passes extra arguments; `--list` and friends ask for nothing.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut startups: Vec<Duration> = (0..20).map(|_| start().1).collect();
    startups.sort();
    println!(
        "start-up to first answer: median {:.1} ms, worst {:.1} ms (20 starts)",
        startups[10].as_secs_f64() * 1e3,
        startups[19].as_secs_f64() * 1e3
    );

    let (server, _) = start();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id();
    println!("idle RSS: {:.1} MiB", rss_kib(pid) as f64 / 1024.0);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let refreshes = rt.block_on(refresh_load(server.addr, 32));
    println!(
        "refresh-token grants: {refreshes:.0}/s (32 connections, {} s)",
        seconds().as_secs()
    );
    println!(
        "RSS after refresh load: {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );
    // Round trips in three phases; between phases the mock's clock moves 3 minutes (control
    // API), as it would under steady load, so expired codes are purged and RSS stays flat.
    for phase in 1..=3 {
        let trips = rt.block_on(round_trips(server.addr));
        let rss = rss_kib(pid) as f64 / 1024.0;
        println!(
            "authorization-code round trips, phase {phase}: {trips:.0}/s (1 keep-alive connection, {} s); RSS {rss:.1} MiB",
            seconds().as_secs()
        );
        advance(server.addr, 180);
    }
    println!("tables after the last purge: {}", health(server.addr));
}

fn control(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

fn advance(addr: SocketAddr, seconds: u64) {
    let body = format!("{{\"seconds\":{seconds}}}");
    control(
        addr,
        &format!(
            "POST /__mock/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
}

fn health(addr: SocketAddr) -> String {
    let body = control(
        addr,
        "GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    serde_json::from_str::<serde_json::Value>(&body)
        .map(|v| v["tables"].to_string())
        .unwrap_or(body)
}
