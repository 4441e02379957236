//! `cargo bench --bench soak`: the release binary under mixed load for `SOAK_SECONDS`
//! (default 600), on loopback; stops by itself.
//!
//! Eight connections loop over a mix: authorization-code round trips, refreshes, API calls
//! with live, expired and made-up tokens, control-API reads, refused requests of every kind
//! (bad forms, unknown codes, wrong hosts, oversized bodies) and bytes that are not HTTP. The
//! clock moves ten minutes every 10 s (codes and pending requests expire and are purged).
//! Every 10 s it samples RSS. It reports the requests made, the statuses seen, panics in
//! the mock's stderr, and RSS over time; it fails (exit 1) on any 5xx, any panic, a mock that
//! stopped answering, or RSS that grew by more than 20 % over the second half of the run (the
//! first fills the bounded tables: tombstones, the request log, token families).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{code_in, free_port, redeem_form, rss_kib, CLIENT_ID, CLIENT_SECRET, REDIRECT};

const BIN: &str = env!("CARGO_BIN_EXE_onshape-mock");

/// One request on a fresh connection; the status (0 if none came back) and the body.
fn send(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn request(method: &str, path: &str, host: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn form(path: &str, body: &str) -> Vec<u8> {
    request(
        "POST",
        path,
        "127.0.0.1",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        body,
    )
}

fn field(body: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v[name].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A tiny deterministic generator (xorshift), so a soak run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    ok: AtomicU64,
    refused: AtomicU64,
    server_errors: AtomicU64,
    no_answer: AtomicU64,
}

impl Tally {
    fn count(&self, status: u16, expect_answer: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            0 if expect_answer => self.no_answer.fetch_add(1, Ordering::Relaxed),
            0 => 0,
            200..=399 => self.ok.fetch_add(1, Ordering::Relaxed),
            400..=499 => self.refused.fetch_add(1, Ordering::Relaxed),
            _ => self.server_errors.fetch_add(1, Ordering::Relaxed),
        };
    }
}

fn worker(addr: SocketAddr, seed: u64, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut rng = Rng(seed | 1);
    let mut refresh = String::new();
    let mut access = String::new();
    let token_request = |tally: &Tally, body: String, refresh: &mut String, access: &mut String| {
        let (s, b) = send(addr, &form("/oauth/token", &body));
        tally.count(s, true);
        if s == 200 {
            *refresh = field(&b, "refresh_token");
            *access = field(&b, "access_token");
        }
    };
    while !stop.load(Ordering::Relaxed) {
        match rng.below(10) {
            // An authorization-code round trip: authorize (auto-consent), redeem.
            0..=2 => {
                let (s, code) = authorize(addr);
                tally.count(s, true);
                if let Some(code) = code {
                    token_request(
                        &tally,
                        redeem_form(&code, CLIENT_ID, CLIENT_SECRET),
                        &mut refresh,
                        &mut access,
                    );
                }
            }
            3 => token_request(
                &tally,
                format!("grant_type=refresh_token&refresh_token={refresh}&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"),
                &mut refresh,
                &mut access,
            ),
            4 => {
                let token = if rng.below(2) == 0 { access.clone() } else { "made-up".to_owned() };
                let auth = format!("Authorization: Bearer {token}\r\n");
                let (s, _) = send(addr, &request("GET", "/api/users/sessioninfo", "127.0.0.1", &auth, ""));
                tally.count(s, true);
            }
            5 => {
                let junk = String::from_utf8_lossy(&rng.bytes(40)).replace(['\r', '\n'], "");
                tally.count(send(addr, &form("/oauth/token", &junk)).0, true);
            }
            6 => {
                let r = request("GET", "/__mock/requests?limit=50", "127.0.0.1", "", "");
                tally.count(send(addr, &r).0, true);
            }
            7 => {
                let r = request("GET", "/api/users/sessioninfo", "rebound.example", "", "");
                tally.count(send(addr, &r).0, true);
            }
            8 => {
                let big = "a".repeat(70 * 1024);
                // The mock answers 413 before the body is read; the close may reset the
                // connection before the answer is read back.
                tally.count(send(addr, &form("/oauth/token", &big)).0, false);
            }
            _ => {
                // Not HTTP: the mock may answer 400 or just close.
                let bytes = rng.bytes(64);
                tally.count(send(addr, &bytes).0, false);
            }
        }
    }
}

/// `GET /oauth/authorize` (auto-consent): the status and the code in `Location`.
fn authorize(addr: SocketAddr) -> (u16, Option<String>) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, None);
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = s.write_all(&request(
        "GET",
        &format!(
            "/oauth/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT}"
        ),
        "127.0.0.1",
        "",
        "",
    ));
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let code = code_in(&out).map(str::to_owned);
    (status, code)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let stderr_path = std::env::temp_dir().join(format!("onshape-mock-soak-{port}.log"));
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &addr.to_string(),
            "--auto-consent",
            "alice@example.com",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("onshape-mock starts");
    let t0 = Instant::now();
    while send(addr, &request("GET", "/__mock/health", "127.0.0.1", "", "")).0 != 200 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the mock did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..8u64)
        .map(|i| {
            let (stop, tally) = (stop.clone(), tally.clone());
            std::thread::spawn(move || worker(addr, 0x9E37_79B9_7F4A_7C15 ^ (i + 1), stop, tally))
        })
        .collect();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(10).min(Duration::from_secs(seconds)));
        let body = r#"{"seconds":600}"#;
        let (s, _) = send(
            addr,
            &request(
                "POST",
                "/__mock/clock/advance",
                "127.0.0.1",
                "Content-Type: application/json\r\n",
                body,
            ),
        );
        tally.count(s, true);
        let rss = rss_kib(pid);
        samples.push((start.elapsed().as_secs(), rss));
        println!(
            "{:>4} s  RSS {:>6.1} MiB  requests {}",
            start.elapsed().as_secs(),
            rss as f64 / 1024.0,
            tally.requests.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let (health, tables) = send(addr, &request("GET", "/__mock/health", "127.0.0.1", "", ""));
    let alive = health == 200;
    println!("tables at the end: {tables}");
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_file(&stderr_path);
    let panics = log.matches("panicked").count();
    let after_warmup: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= (seconds / 2).max(60.min(seconds)))
        .map(|(_, r)| *r)
        .collect();
    let (first, max) = (
        after_warmup.first().copied().unwrap_or(0),
        after_warmup.iter().copied().max().unwrap_or(0),
    );
    let growth = if first == 0 {
        0.0
    } else {
        max as f64 / first as f64 - 1.0
    };
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "soak: {} s, {} requests ({:.0}/s): {} answered 2xx/3xx, {} refused 4xx, {} 5xx, {} unanswered; {panics} panics; RSS over the second half {:.1} -> max {:.1} MiB ({:+.1} %); the mock {}",
        seconds,
        n(&tally.requests),
        n(&tally.requests) as f64 / seconds.max(1) as f64,
        n(&tally.ok),
        n(&tally.refused),
        n(&tally.server_errors),
        n(&tally.no_answer),
        first as f64 / 1024.0,
        max as f64 / 1024.0,
        growth * 100.0,
        if alive { "still answers" } else { "STOPPED ANSWERING" }
    );
    let failed = n(&tally.server_errors) > 0
        || n(&tally.no_answer) > 0
        || panics > 0
        || !alive
        || growth > 0.20;
    if failed {
        std::process::exit(1);
    }
}
