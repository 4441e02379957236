//! `cargo bench`: starts the real `onshape-mock` binary and drives it over loopback.
//!
//! Figures (printed, and recorded in README.md):
//! - start-up: process spawn → first answered `GET /__mock/health` (median and worst of 20);
//! - idle RSS after start-up, and RSS after each load phase (memory stays flat);
//! - the baseline, measured in the same run: a bare axum handler answering
//!   `POST /oauth/token` with a fixed JSON body, in its own process (this bench re-run with
//!   `ONSHAPE_MOCK_BENCH_ROLE=bare-axum`), under the same load;
//! - refresh-token grants per second, 32 keep-alive connections, each rotating its own
//!   refresh token, with the server's CPU time per request (from `/proc/PID/stat`) and both
//!   as ratios to the baseline;
//! - full authorization-code round trips per second (authorize with auto-consent, then
//!   token) over one keep-alive connection, with the server's CPU time per round trip, and
//!   the baseline's round trip (two fixed requests in turn on one connection) beside it;
//! - memory per live grant: RSS growth over 2,000 registered apps, each authorized once.
//!
//! Each load phase runs for `BENCH_SECONDS` (default 5) and stops by itself. The client is a
//! minimal HTTP/1.1 keep-alive client, so the figures measure the server, not a client
//! library. Client and server share this machine's cores: compare the ratios, not the
//! absolute figures, across machines.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use support::{
    bare_axum_router, code_in, free_port, redeem_form, rss_kib, CLIENT_ID, CLIENT_SECRET, REDIRECT,
};

const BIN: &str = env!("CARGO_BIN_EXE_onshape-mock");

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
fn start() -> (Server, Duration) {
    start_with(&[])
}

/// [`start`] with more `serve` options.
fn start_with(more: &[&str]) -> (Server, Duration) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    // `ONSHAPE_MOCK_BENCH_BIN`: another build of the binary (a profiling one, say).
    let mut cmd =
        Command::new(std::env::var("ONSHAPE_MOCK_BENCH_BIN").unwrap_or_else(|_| BIN.to_owned()));
    cmd.args([
        "serve",
        "--bind",
        &addr.to_string(),
        "--auto-consent",
        "alice@example.com",
    ]);
    // `BENCH_SERVE_ARGS`: more `serve` options to compare (`--threads 2`, say).
    if let Ok(extra) = std::env::var("BENCH_SERVE_ARGS") {
        cmd.args(extra.split_whitespace());
    }
    cmd.args(more);
    launch(cmd, addr)
}

/// This bench, re-run as the bare axum baseline.
fn start_bare_axum() -> Server {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut cmd = Command::new(std::env::current_exe().expect("the bench's own path"));
    cmd.env(ROLE, "bare-axum")
        .env("BENCH_ADDR", addr.to_string());
    launch(cmd, addr).0
}

const ROLE: &str = "ONSHAPE_MOCK_BENCH_ROLE";

/// The baseline: axum's own server and one handler with a fixed token response, nothing else.
fn serve_bare_axum() {
    let addr: SocketAddr = std::env::var("BENCH_ADDR")
        .expect("BENCH_ADDR")
        .parse()
        .expect("addr");
    let app = bare_axum_router();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}

#[allow(clippy::zombie_processes)]
fn launch(mut cmd: Command, addr: SocketAddr) -> (Server, Duration) {
    let t0 = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
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
            panic!("the server did not answer within 10 s");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The process's CPU time so far (user + system), from `/proc/PID/stat`.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start at `) `.
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// One load phase's figures: requests per second and server CPU per request.
struct Figure {
    per_second: f64,
    cpu_us: f64,
}

impl Figure {
    fn measure(pid: u32, run: impl FnOnce() -> (u64, Duration)) -> Figure {
        let before = cpu(pid);
        let (count, took) = run();
        let used = cpu(pid).saturating_sub(before);
        Figure {
            per_second: count as f64 / took.as_secs_f64(),
            cpu_us: used.as_secs_f64() * 1e6 / count.max(1) as f64,
        }
    }
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
        self.request_typed(head, "application/x-www-form-urlencoded", body)
            .await
    }

    async fn request_typed(&mut self, head: &str, content_type: &str, body: &str) -> Reply {
        let req = if body.is_empty() {
            format!("{head}\r\nHost: 127.0.0.1\r\n\r\n")
        } else {
            format!(
                "{head}\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
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
        code_in(&loc).expect("code in Location").to_owned()
    }

    async fn redeem(&mut self, code: &str) -> String {
        let r = self
            .request(
                "POST /oauth/token HTTP/1.1",
                &redeem_form(code, CLIENT_ID, CLIENT_SECRET),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        field(&r.body, "refresh_token")
    }

    async fn fixed(&mut self) {
        let r = self.request("POST /oauth/token HTTP/1.1", FIXED_BODY).await;
        assert_eq!(r.status, 200);
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

/// What each connection of a load does in turn.
#[derive(Clone, Copy)]
enum Load {
    /// The baseline: POST a fixed body to /oauth/token.
    Fixed,
    /// Rotate its own refresh token.
    Refresh,
}

const FIXED_BODY: &str = "grant_type=refresh_token&refresh_token=x&client_id=x&client_secret=x";

/// `connections` keep-alive connections, each running `load` until the deadline.
async fn parallel_load(addr: SocketAddr, connections: usize, load: Load) -> (u64, Duration) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + seconds();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await;
            let mut refresh = match load {
                Load::Fixed => String::new(),
                Load::Refresh => {
                    let code = c.code().await;
                    c.redeem(&code).await
                }
            };
            let start = Instant::now();
            while Instant::now() < deadline {
                match load {
                    Load::Fixed => c.fixed().await,
                    Load::Refresh => refresh = c.refresh(&refresh).await,
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            start.elapsed()
        }));
    }
    let mut longest = Duration::ZERO;
    for t in tasks {
        longest = longest.max(t.await.expect("task"));
    }
    (done.load(Ordering::Relaxed), longest)
}

/// What one round trip on a single connection is.
#[derive(Clone, Copy)]
enum Trip {
    /// The baseline: two fixed requests in turn (the shape of authorize + token), so the
    /// kernel's share of a sequential exchange is measured too.
    Fixed,
    /// Authorize (auto-consent), then redeem the code.
    Authorization,
}

async fn round_trips(addr: SocketAddr, trip: Trip) -> (u64, Duration) {
    let mut c = Conn::open(addr).await;
    let deadline = Instant::now() + seconds();
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        match trip {
            Trip::Fixed => {
                c.fixed().await;
                c.fixed().await;
            }
            Trip::Authorization => {
                let code = c.code().await;
                c.redeem(&code).await;
            }
        }
        n += 1;
    }
    (n, start.elapsed())
}

fn main() {
    if std::env::var(ROLE).as_deref() == Ok("bare-axum") {
        return serve_bare_axum();
    }
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

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let secs = seconds().as_secs();

    let bare = start_bare_axum();
    let baseline = Figure::measure(bare.child.id(), || {
        rt.block_on(parallel_load(bare.addr, 32, Load::Fixed))
    });
    let baseline_trips = Figure::measure(bare.child.id(), || {
        rt.block_on(round_trips(bare.addr, Trip::Fixed))
    });
    drop(bare);
    println!(
        "baseline, bare axum POST /oauth/token (fixed body): {:.0}/s, {:.1} µs server CPU per request (32 connections, {secs} s)",
        baseline.per_second, baseline.cpu_us
    );
    println!(
        "baseline round trips, two such requests in turn on 1 keep-alive connection: {:.0}/s, {:.1} µs server CPU per round trip",
        baseline_trips.per_second, baseline_trips.cpu_us
    );

    let (server, _) = start();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id();
    println!("idle RSS: {:.1} MiB", rss_kib(pid) as f64 / 1024.0);

    let refresh = Figure::measure(pid, || {
        rt.block_on(parallel_load(server.addr, 32, Load::Refresh))
    });
    println!(
        "refresh-token grants: {:.0}/s ({:.0} % of the baseline), {:.1} µs server CPU per request ({:.1}× the baseline) (32 connections, {secs} s)",
        refresh.per_second,
        100.0 * refresh.per_second / baseline.per_second,
        refresh.cpu_us,
        refresh.cpu_us / baseline.cpu_us
    );
    println!(
        "RSS after refresh load: {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );
    // `BENCH_OPENAPI=FILE`: the same load on a mock serving that OpenAPI document, then on a
    // plain one again; the document's cost is the ratio to the two plain runs.
    if let Ok(doc) = std::env::var("BENCH_OPENAPI") {
        let (with_doc, _) = start_with(&["--openapi", &doc]);
        std::thread::sleep(Duration::from_millis(200));
        let rss = rss_kib(with_doc.child.id());
        let loaded = Figure::measure(with_doc.child.id(), || {
            rt.block_on(parallel_load(with_doc.addr, 32, Load::Refresh))
        });
        drop(with_doc);
        let (again, _) = start();
        std::thread::sleep(Duration::from_millis(200));
        let plain = Figure::measure(again.child.id(), || {
            rt.block_on(parallel_load(again.addr, 32, Load::Refresh))
        });
        drop(again);
        let plain_mean = (refresh.per_second + plain.per_second) / 2.0;
        println!(
            "refresh-token grants with --openapi {doc}: {:.0}/s ({:.1} % of the plain runs' mean, {:.0}/s and {:.0}/s), {:.1} µs server CPU per request; idle RSS {:.1} MiB",
            loaded.per_second,
            100.0 * loaded.per_second / plain_mean,
            refresh.per_second,
            plain.per_second,
            loaded.cpu_us,
            rss as f64 / 1024.0
        );
    }
    // Round trips in three phases; between phases the mock's clock moves 3 minutes (control
    // API), as it would under steady load, so expired codes are purged and RSS stays flat.
    for phase in 1..=3 {
        let trips = Figure::measure(pid, || {
            rt.block_on(round_trips(server.addr, Trip::Authorization))
        });
        let rss = rss_kib(pid) as f64 / 1024.0;
        println!(
            "authorization-code round trips, phase {phase}: {:.0}/s, {:.1} µs server CPU per round trip ({:.1}× the baseline round trip) (1 keep-alive connection, {secs} s); RSS {rss:.1} MiB",
            trips.per_second,
            trips.cpu_us,
            trips.cpu_us / baseline_trips.cpu_us
        );
        advance(server.addr, 180);
    }
    println!("tables after the last purge: {}", health(server.addr));
    drop(server);

    let (fresh, _) = start();
    let per_grant = rt.block_on(memory_per_grant(&fresh, 2_000));
    println!(
        "memory per live grant: {per_grant:.0} bytes (RSS growth over 2,000 apps, each authorized once: app, grant, token family, log entries)"
    );
}

/// Registers `n` apps and authorizes each once; RSS growth per app.
async fn memory_per_grant(server: &Server, n: usize) -> f64 {
    let pid = server.child.id();
    let before = rss_kib(pid);
    let mut c = Conn::open(server.addr).await;
    for i in 0..n {
        let body = format!(
            r#"{{"name":"App {i}","primary_format":"com.bench.app{i}","redirect_urls":["http://localhost:3000/oauth/callback"],"scopes":["OAuth2Read"]}}"#
        );
        let r = c
            .request_typed("POST /__mock/apps HTTP/1.1", "application/json", &body)
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let created: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        let id = percent(created["client_id"].as_str().expect("client_id"));
        let secret = percent(created["client_secret"].as_str().expect("client_secret"));
        let r = c
            .request(
                &format!("GET /oauth/authorize?response_type=code&client_id={id}&redirect_uri={REDIRECT} HTTP/1.1"),
                "",
            )
            .await;
        let loc = r.location.expect("Location");
        let code = code_in(&loc).expect("code in Location");
        let r = c
            .request(
                "POST /oauth/token HTTP/1.1",
                &redeem_form(code, &id, &secret),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let after = rss_kib(pid);
    after.saturating_sub(before) as f64 * 1024.0 / n as f64
}

fn percent(s: &str) -> String {
    s.replace('=', "%3D")
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
