//! `onshape-mock`: the command line. Parses arguments and hands over to the library.
//! Subcommands: `serve` (the mock). The conformance runner's `check`, `scenarios` and
//! `rules` come with the `conformance` crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

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
}

#[derive(clap::Args)]
struct Serve {
    /// Address of the OAuth origin (and of the API too, unless --api-bind is given).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Serve the API origin on its own address, as cad.onshape.com is a different host
    /// from oauth.onshape.com.
    #[arg(long)]
    api_bind: Option<SocketAddr>,
    /// A fixtures file (format: fixtures/default.toml).
    #[arg(long)]
    fixtures: Option<PathBuf>,
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
    /// Accept commas between scopes, as passport-onshape sends by default (whether Onshape
    /// does is unconfirmed; the default is the strict reading: spaces only).
    #[arg(long)]
    allow_comma_scopes: bool,
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onshape-mock: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: Serve) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let fixtures = match &args.fixtures {
        None => Fixtures::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Fixtures::parse(&text).with_context(|| format!("in {}", path.display()))?
        }
    };
    let config = Config {
        fixtures,
        clock: match args.clock {
            ClockArg::Real => ClockMode::Real,
            ClockArg::Frozen => ClockMode::Frozen,
        },
        auto_consent: args.auto_consent,
        max_logged_requests: args.max_logged_requests,
        allow_comma_scopes: args.allow_comma_scopes,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Signal handlers go in before the banner: a script that reads the banner and
        // signals at once must not kill the process uncleanly.
        let stop = shutdown_signal()?;
        let mock = mock_server::spawn(
            config,
            Binds {
                oauth: args.bind,
                api: args.api_bind,
            },
        )
        .await?;
        print!("{}", mock.banner());
        use std::io::Write;
        std::io::stdout().flush()?;
        mock.serve_until(stop).await?;
        eprintln!("onshape-mock: stopped");
        Ok(())
    })
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

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
