//! `onshape-mock`: the command line. Parses arguments and hands over to the libraries:
//! `serve` (the mock, `mock-server`), `token` (the whole OAuth flow against a mock, in
//! `token.rs`), `fixtures`, and `check`, `scenarios` and `rules` (the conformance runner,
//! `conformance`).

mod logging;
mod token;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mock_server::{Binds, ClockMode, Config, Fixtures};

#[derive(Parser)]
#[command(
    name = "onshape-mock",
    version,
    about = "A strict mock of Onshape's OAuth 2.0 server and REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the mock (built-in fixtures unless --fixtures is given). Ctrl-C stops it.
    Serve(Serve),
    /// Get an access and a refresh token from a running mock in one command (the whole flow:
    /// authorize, consent, code, token exchange).
    Token(token::Args),
    /// Print the built-in fixtures: a starting point for `serve --fixtures FILE`.
    Fixtures,
    /// Run a client through the scenarios and judge it against the documented rules.
    /// Exit 0: every MUST rule held; 1: one failed; 2: the run could not happen.
    Check(Check),
    /// List the scenarios.
    Scenarios {
        /// Also load the scenario files of this directory.
        #[arg(long)]
        scenarios_dir: Option<PathBuf>,
    },
    /// List the client rules (MUST/SHOULD, with the documentation sentence) and the mock's
    /// request rules.
    Rules,
}

#[derive(clap::Args)]
struct Check {
    /// The client command, run with `sh -c` for each scenario (see README: the client contract).
    #[arg(long)]
    command: String,
    /// Run only this scenario (repeatable).
    #[arg(long = "scenario", value_name = "ID")]
    scenarios: Vec<String>,
    /// Also load the scenario files of this directory (same ids replace built-in ones).
    #[arg(long)]
    scenarios_dir: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Seconds each scenario may take.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Expected failures, `scenario-id rule-id` per line. A listed failure does not fail the
    /// run; a listed failure that no longer happens is stale and fails the run, so that its
    /// line gets removed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write one HAR 1.2 file per scenario (`ID.har`) into this directory.
    #[arg(long, value_name = "DIR")]
    har: Option<PathBuf>,
    /// Web-app mode: the URL where the app starts a sign-in, e.g.
    /// `http://localhost:{port}/login` or just `/login` (`{port}` is the port of
    /// ONSHAPE_REDIRECT_URI, where the app listens). The runner's browser starts there.
    #[arg(long, value_name = "URL", conflicts_with = "api_key")]
    app_url: Option<String>,
    /// The client authenticates with an API key (README: the API-key contract): run the
    /// API-key scenarios instead of the OAuth ones.
    #[arg(long)]
    api_key: bool,
    /// The libfaketime library that moves the client's clock with the mock's (default:
    /// $ONSHAPE_MOCK_FAKETIME_LIB, then Debian's path).
    #[arg(long, value_name = "PATH", conflicts_with = "no_shared_clock")]
    faketime_lib: Option<PathBuf>,
    /// Leave the client's clock alone when the mock's moves.
    #[arg(long)]
    no_shared_clock: bool,
    /// Onshape's OpenAPI document: each scenario's mock serves every operation it lists, and
    /// a client request the document does not allow is a finding (request-valid) with the
    /// mock's hint. Scenario calls (api_calls, api_bodies) may then be any operation.
    #[arg(long, value_name = "FILE")]
    openapi: Option<PathBuf>,
}

#[derive(clap::Args)]
struct Serve {
    /// Address of the OAuth origin (and of the API too, unless --api-bind is given):
    /// `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080`, or a port alone (`8080`; 0 picks
    /// a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    bind: SocketAddr,
    /// Serve the API origin on its own address, as cad.onshape.com is a different host
    /// from oauth.onshape.com (same forms as --bind).
    #[arg(long, value_name = "ADDR", value_parser = parse_bind)]
    api_bind: Option<SocketAddr>,
    /// Serve another stack (an enterprise's NAME.onshape.com) on its own origin, OAuth and API
    /// together: NAME=ADDR (repeatable). API keys work only on the stack they belong to.
    #[arg(long = "stack", value_name = "NAME=ADDR", value_parser = parse_stack)]
    stacks: Vec<(String, SocketAddr)>,
    /// A fixtures file; without it, the built-in fixtures (`onshape-mock fixtures` prints
    /// them, with the format documented, as a file to start from).
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Onshape's OpenAPI document (`curl -o onshape-openapi.json
    /// https://cad.onshape.com/api/openapi`): serve every operation it lists, with its
    /// scopes, parameters and body schema checked. Without it: sessioninfo and documents.
    #[arg(long, value_name = "FILE")]
    openapi: Option<PathBuf>,
    /// `real`: system time plus what the control API adds; `frozen`: time moves only when
    /// POST /__mock/clock/advance moves it.
    #[arg(long, value_enum, default_value_t = ClockArg::Real)]
    clock: ClockArg,
    /// Grant every authorization at once as this fixture user, with no pages.
    #[arg(long, value_name = "EMAIL")]
    auto_consent: Option<String>,
    /// Request log lines on stderr: human text or JSON lines. RUST_LOG filters them
    /// (default `info`; `warn` silences the per-request lines).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// How many exchanges GET /__mock/requests keeps.
    #[arg(long, default_value_t = 1000)]
    max_logged_requests: usize,
    /// How many bytes of exchanges GET /__mock/requests keeps, about (each exchange is cut
    /// to about 20 KiB first).
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    max_log_bytes: usize,
    /// Accept commas between scopes, as passport-onshape sends by default (whether Onshape
    /// does is unconfirmed; the default is the strict reading: spaces only).
    #[arg(long)]
    allow_comma_scopes: bool,
    /// A host name to answer besides IP addresses, localhost and *.localhost (repeatable;
    /// e.g. a Docker service name). Other names are refused: DNS rebinding protection.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Answer the control API (/__mock) to clients that are not on loopback: a container
    /// reached through Docker's network. Anyone who reaches the port can then script the mock.
    #[arg(long)]
    allow_remote_control: bool,
    /// Time a client has to send a request's head, from connect or from the previous
    /// response (so also how long an idle keep-alive connection stays open).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    head_timeout: std::time::Duration,
    /// Time a client has to send a request's whole body (408 after it).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    body_timeout: std::time::Duration,
    /// Open connections per listener; at the cap a new connection closes the oldest idle one.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_connections: u32,
    /// Worker threads (1: everything on one thread, the cheapest per request).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
    /// At shutdown (Ctrl-C, SIGTERM), how long in-flight requests get to finish.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    shutdown_grace: std::time::Duration,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockArg {
    Real,
    Frozen,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Check(args) => check(args),
        Command::Token(args) => token::command(args),
        Command::Fixtures => {
            use std::io::Write;
            let _ = write!(std::io::stdout(), "{}", mock_server::fixtures::DEFAULT_TOML);
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenarios { scenarios_dir } => list_scenarios(scenarios_dir.as_deref()),
        Command::Rules => {
            use std::io::Write;
            let _ = write!(std::io::stdout(), "{}", rules_text());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("onshape-mock: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The built-in fixtures, or those of `path`.
fn read_fixtures(path: Option<&std::path::Path>) -> anyhow::Result<Fixtures> {
    match path {
        None => Ok(Fixtures::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Fixtures::parse(&text).with_context(|| format!("in {}", path.display()))
        }
    }
}

fn check(args: Check) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let all = conformance::scenario::load(args.scenarios_dir.as_deref())?;
    let known: Vec<String> = all.iter().map(|s| s.id.clone()).collect();
    let auth = if args.api_key {
        conformance::scenario::Auth::ApiKey
    } else {
        conformance::scenario::Auth::Oauth
    };
    let selected =
        conformance::scenario::select(all, &args.scenarios, auth).map_err(anyhow::Error::msg)?;
    let baseline = match &args.baseline {
        None => conformance::report::Baseline::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            conformance::report::Baseline::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    anyhow::ensure!(
        (1..=64).contains(&args.jobs),
        "--jobs must be between 1 and 64"
    );
    anyhow::ensure!(
        (1..=3600).contains(&args.timeout),
        "--timeout must be between 1 and 3600 seconds"
    );
    anyhow::ensure!(!selected.is_empty(), "no scenario to run");
    if let Some(unknown) = baseline
        .scenarios()
        .find(|id| !known.iter().any(|k| k == id))
    {
        anyhow::bail!("the baseline names unknown scenario `{unknown}`");
    }
    if let Some(url) = &args.app_url {
        check_app_url(url)?;
    }
    // Report paths are tried before anything runs: a typo must not cost a whole run.
    for path in [&args.json, &args.junit].into_iter().flatten() {
        writable_file(path)?;
    }
    if let Some(dir) = &args.har {
        writable_dir(dir)?;
    }
    let shared_clock = if args.no_shared_clock {
        conformance::shared_clock::SharedClock::Off("--no-shared-clock".into())
    } else {
        conformance::shared_clock::SharedClock::detect(args.faketime_lib.as_deref())
            .map_err(|e| anyhow::anyhow!("--faketime-lib: {e}"))?
    };
    let openapi = read_openapi(args.openapi.as_deref())?;
    if let Some(spec) = &openapi {
        conformance::calls::check(&selected, spec).map_err(anyhow::Error::msg)?;
    }
    let options = conformance::driver::RunOptions {
        command: args.command,
        timeout: std::time::Duration::from_secs(args.timeout),
        app_url: args.app_url,
        shared_clock,
        openapi,
    };
    let meta = conformance::report::RunMeta::new(&options, env!("CARGO_PKG_VERSION"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let stop = shutdown_signal()?;
        let run = conformance::check(selected, options, args.jobs, &baseline, meta, |r| {
            // Writes ignore a closed stdout (`| head`): the reports and exit code still count.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", r.line());
            let _ = out.flush();
        });
        // Interrupted: dropping the run aborts the scenarios, which kills their clients and
        // removes their scratch directories.
        tokio::select! {
            report = run => Ok::<_, anyhow::Error>(Some(report?)),
            () = stop => Ok(None),
        }
    })?;
    let Some(report) = report else {
        conformance::process::kill_all_clients();
        eprintln!("onshape-mock: interrupted");
        return Ok(ExitCode::from(130));
    };
    let _ = write!(std::io::stdout(), "{}", report.failures_text());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.to_junit()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.har {
        for s in report.scenarios.iter().filter(|s| s.skipped.is_none()) {
            let path = dir.join(format!("{}.har", s.id));
            let json = conformance::har::to_json(&conformance::har::scenario_har(s, &report.meta))?;
            std::fs::write(&path, json)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A start URL the browser can open: http(s), on this machine.
fn check_app_url(url: &str) -> anyhow::Result<()> {
    let full = if url.starts_with('/') {
        format!("http://localhost:1{url}")
    } else {
        url.replace("{port}", "1")
    };
    let parsed = url::Url::parse(&full).map_err(|e| {
        anyhow::anyhow!("--app-url `{url}`: {e} (e.g. http://localhost:{{port}}/login, or /login)")
    })?;
    // The redirect URI is http://localhost:PORT/callback: the start URL must be on the same
    // host (cookies are per host) and port (the one handed to the app).
    anyhow::ensure!(
        parsed.scheme() == "http"
            && parsed.host_str() == Some("localhost")
            && (url.starts_with('/') || url.contains("{port}")),
        "--app-url `{url}`: the app listens on the redirect URI's host and port: http://localhost:{{port}}/PATH, or just /PATH"
    );
    Ok(())
}

/// Opens (creating if need be) a report file for writing, without truncating it yet.
fn writable_file(path: &std::path::Path) -> anyhow::Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Creates the directory if need be and checks a file can be written in it.
fn writable_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let probe = dir.join(".onshape-mock-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write in {}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn list_scenarios(dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for s in conformance::scenario::load(dir)? {
        let kind = match s.auth {
            conformance::scenario::Auth::ApiKey => "  [API key: check --api-key]",
            conformance::scenario::Auth::Oauth => "",
        };
        let _ = writeln!(out, "{:<25} {}{kind}", s.id, s.title);
        if !s.description.is_empty() {
            let _ = writeln!(out, "{:<25} {}", "", s.description);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rules_text() -> String {
    use mock_server::rules::Level;
    let line = |id: &str, level: Level, doc: &str| {
        let level = if level == Level::Must {
            "MUST"
        } else {
            "SHOULD"
        };
        format!("  {id:<28} {level:<6} {doc}\n")
    };
    let mut out = String::from("Client rules (judged by `check`):\n");
    out.extend(conformance::rules::ALL.iter().map(|r| match r.auth {
        Some(conformance::scenario::Auth::ApiKey) => {
            line(r.id, r.level, &format!("[API-key clients] {}", r.doc))
        }
        _ => line(r.id, r.level, r.doc),
    }));
    out.push_str("\nRequest rules (enforced by the mock; each rejection names one):\n");
    out.extend(
        mock_server::rules::ALL
            .iter()
            .map(|r| line(r.id, r.level, r.doc)),
    );
    out
}

/// Runs the mock until Ctrl-C. With `--log-format json` every line on stderr is JSON, a
/// failure to start included; otherwise a failure is left to `main` to print.
fn serve(args: Serve) -> anyhow::Result<ExitCode> {
    let format = args.log_format;
    let log = init_logging(format);
    let result = serve_logged(args);
    match (result, format) {
        (Ok(()), _) => {
            // The request lines first, then the last word, in the same format.
            tracing::info!("onshape-mock: stopped");
            drop(log);
            Ok(ExitCode::SUCCESS)
        }
        (Err(e), LogFormat::Json) => {
            tracing::error!("onshape-mock: {e:#}");
            drop(log);
            Ok(ExitCode::from(2))
        }
        (Err(e), LogFormat::Text) => {
            drop(log);
            Err(e)
        }
    }
}

fn serve_logged(args: Serve) -> anyhow::Result<()> {
    let fixtures = read_fixtures(args.fixtures.as_deref())?;
    let config = Config {
        fixtures,
        openapi: read_openapi(args.openapi.as_deref())?,
        clock: match args.clock {
            ClockArg::Real => ClockMode::Real,
            ClockArg::Frozen => ClockMode::Frozen,
        },
        auto_consent: args.auto_consent,
        max_logged_requests: args.max_logged_requests,
        max_log_bytes: args.max_log_bytes,
        allowed_hosts: args.allow_hosts,
        remote_control: args.allow_remote_control,
        allow_comma_scopes: args.allow_comma_scopes,
        limits: mock_server::Limits {
            head_timeout: args.head_timeout,
            body_timeout: args.body_timeout,
            max_connections: args.max_connections as usize,
            shutdown_grace: args.shutdown_grace,
            ..mock_server::Limits::default()
        },
        ..Config::default()
    };
    // One thread by default: a mock's load is light, and a second worker costs more in
    // wake-ups (futex, epoll) than it gives — about half the CPU of a sequential round trip
    // (README: Performance). `--threads N` for heavy parallel load.
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n as usize)
            .enable_all()
            .build()?,
    };
    runtime.block_on(async {
        // Signal handlers go in before the banner: a script that reads the banner and
        // signals at once must not kill the process uncleanly.
        let stop = shutdown_signal()?;
        let mock = mock_server::spawn(
            config,
            Binds {
                oauth: args.bind,
                api: args.api_bind,
                stacks: args.stacks,
            },
        )
        .await
        .map_err(|e| match &e {
            mock_server::StartError::Bind { origin, addr, .. } => {
                let flag = match *origin {
                    "API" => "--api-bind",
                    "stack" => "--stack",
                    _ => "--bind",
                };
                anyhow::anyhow!("{flag} {addr}: {e}")
            }
            _ => anyhow::Error::new(e),
        })?;
        print!("{}", mock.banner());
        use std::io::Write;
        std::io::stdout().flush()?;
        mock.serve_until(stop).await?;
        Ok(())
    })
}

/// `--openapi FILE`, loaded; a file that is not an OpenAPI 3.0 document stops the start.
fn read_openapi(path: Option<&Path>) -> anyhow::Result<Option<Arc<mock_server::openapi::Spec>>> {
    let Some(path) = path else { return Ok(None) };
    let spec = mock_server::openapi::Spec::load(path)
        .map_err(|e| anyhow::anyhow!("--openapi {}: {e}", path.display()))?;
    Ok(Some(Arc::new(spec)))
}

/// `--bind`: an address, `localhost:PORT` (127.0.0.1) or a port alone (on 127.0.0.1).
fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("`{p}` is not a port (0 to 65535)"))
    };
    if !text.contains(':') {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port(text)?)));
    }
    match text.rsplit_once(':') {
        Some((host, p)) if host.eq_ignore_ascii_case("localhost") || host.is_empty() => {
            Ok(SocketAddr::from(([127, 0, 0, 1], port(p)?)))
        }
        _ => Err(format!(
            "`{text}` is not an address: use IP:PORT (127.0.0.1:8080, 0.0.0.0:8080 in a container, [::1]:8080), localhost:PORT, or a port alone (8080)"
        )),
    }
}

/// `--stack acme.onshape.com=127.0.0.1:8090`.
fn parse_stack(text: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = text.split_once('=').ok_or_else(|| {
        format!("`{text}` is not NAME=ADDR (e.g. acme.onshape.com=127.0.0.1:8090)")
    })?;
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !valid || name == mock_server::DEFAULT_STACK {
        return Err(format!(
            "`{name}` is not another stack's host name (lower-case letters, digits, dots and dashes; not {})",
            mock_server::DEFAULT_STACK
        ));
    }
    Ok((name.to_owned(), parse_bind(addr)?))
}

/// Ctrl-C or SIGTERM, registered now, awaited later.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Log lines on stderr, batched ([`logging`]); the returned guard flushes the rest.
fn init_logging(format: LogFormat) -> logging::Flush {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, flush) = logging::BatchedStderr::start();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only for a person at a terminal: not in a pipe or a file, and not when
        // NO_COLOR (no-color.org) or TERM=dumb asks for none.
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb"),
        )
        .with_timer(logging::Timestamp)
        .with_writer(writer);
    match format {
        // The text line is its message: the request's fields (origin, method, path, status,
        // rule) are in it already, and are kept as fields for the JSON format only.
        LogFormat::Text => builder
            .with_target(false)
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(
                |writer, field, value| match field.name() {
                    "message" => write!(writer, "{value:?}"),
                    _ => Ok(()),
                },
            ))
            .init(),
        LogFormat::Json => builder.json().init(),
    }
    flush
}
