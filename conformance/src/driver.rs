//! Runs one scenario: a fresh mock in-process (OAuth and API origins on separate ephemeral
//! ports), the scenario's app registered, faults and triggers armed; the client command run
//! with `sh -c`, the contract's environment and (when libfaketime is there) a clock that
//! follows the mock's; then the browser side — [`crate::desktop`] (BROWSER, a localhost
//! listener or stdin) or [`crate::webapp`] (a cookie-jar browser from the app's URL), both on
//! the `Session` here — and the traffic and issued secrets collected for judging. The
//! client's processes and scratch space are [`crate::process`]'s.

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mock_server::mask::{fingerprint, mask_query_in_url};
use mock_server::record::Exchange;
use mock_server::{Binds, ClockMode, Config, Hooks, Issued};
use tokio::process::Command;

use crate::browser::{Browser, Landing};
use crate::credentials::Credentials;
use crate::desktop::write_browser;
use crate::process::{collect, kill, read_capped, ProcessGroup, TempDir};
use crate::scenario::{Auth, OddCallback, RedirectKind, Scenario};
use crate::shared_clock::{ClientClock, SharedClock};

/// Exchanges the mock keeps per run; a client that makes more cannot be judged.
const MAX_EXCHANGES: usize = 50_000;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The client command, run with `sh -c`.
    pub command: String,
    /// Per scenario.
    pub timeout: Duration,
    /// Web-app mode: the URL where the app starts a sign-in (`{port}` stands for the port
    /// handed to the client; a bare path means `http://localhost:{port}` + path). `None`:
    /// desktop mode (BROWSER, a localhost listener or OOB).
    pub app_url: Option<String>,
    /// Whether the client's clock follows the mock's.
    pub shared_clock: SharedClock,
    /// The OpenAPI document each scenario's mock serves (`check --openapi`): the client's
    /// calls are routed and validated against it.
    pub openapi: Option<std::sync::Arc<mock_server::openapi::Spec>>,
}

impl RunOptions {
    /// Desktop mode, no shared clock: what the unit tests and simple callers need.
    pub fn new(command: impl Into<String>, timeout: Duration) -> RunOptions {
        RunOptions {
            command: command.into(),
            timeout,
            app_url: None,
            shared_clock: SharedClock::Off("not requested".into()),
            openapi: None,
        }
    }

    /// The app's start URL for a run whose client listens on `port`.
    pub fn start_url(&self, port: u16) -> Option<String> {
        let url = self.app_url.as_deref()?;
        let url = if url.starts_with('/') {
            format!("http://localhost:{{port}}{url}")
        } else {
            url.to_owned()
        };
        Some(url.replace("{port}", &port.to_string()))
    }
}

/// How the client's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEnd {
    Exited(Option<i32>),
    TimedOut,
    /// The runner ended the scenario: the browser was stuck on a page the client can never
    /// leave, or the client opened a URL that is not the mock's.
    EndedEarly(String),
    /// Web-app mode: the app answered the browser's last page with this status (2xx stands
    /// for exit 0, anything else for a failure).
    Answered(u16),
}

/// A URL the client opened and where the browser landed.
#[derive(Debug, Clone)]
pub struct Opened {
    pub url: String,
    pub landing: Landing,
}

/// A callback (or OOB code) the runner handed to the client.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The callback URL (code masked), or `stdin` for OOB.
    pub to: String,
    /// The state was replaced by one the client never issued.
    pub forged: bool,
    /// The code's fingerprint, as the mock's log shows it.
    pub code: Option<String>,
    /// The mock clock moved this many seconds before delivery.
    pub advanced: u64,
    /// Whether the client received it (its listener answered, or stdin took the line).
    pub received: bool,
    /// The odd callback this was (`[browser] callback`), or the earlier authorization's
    /// callback replayed (`Replay`).
    pub odd: Option<OddCallback>,
    /// The id of the last exchange in the mock's log just before it was delivered: what the
    /// client did about it comes after (a client may act before the delivery returns).
    pub after_exchange: u64,
}

/// Everything a scenario run produced.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub scenario: Scenario,
    pub exchanges: Vec<Exchange>,
    pub opened: Vec<Opened>,
    pub delivered: Vec<Delivered>,
    pub end: ClientEnd,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// Exchanges that fell out of the mock's log (a flood of requests).
    pub dropped_exchanges: u64,
    /// The companies of the user's grants to the app when the run ended.
    pub grant_companies: Vec<Option<String>>,
    /// Web-app mode: the text of the app's last page (its message).
    pub final_page: Option<String>,
    /// The client secret and every code and token the mock issued in this run: none may
    /// appear in the client's output.
    pub secrets: Vec<Secret>,
    /// Whether the client's clock moved with the mock's.
    pub clock_shared: bool,
    /// Why not, when it did not.
    pub clock_note: Option<String>,
    /// Processes of the client found without libfaketime when the clock moved (`name (pid N)`):
    /// their clocks stayed behind.
    pub clock_unfollowed: Vec<String>,
    /// The mock's uptime (ms, as `Exchange::elapsed_ms`) when the client ended.
    pub ended_ms: u64,
    /// Web-app mode.
    pub web_app: bool,
    /// Web-app mode: the browser's GETs to the app.
    pub navigation: Vec<String>,
    /// The mock's two origins, `http://127.0.0.1:PORT`.
    pub oauth_url: String,
    pub api_url: String,
}

/// A secret the runner knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub kind: SecretKind,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ClientSecret,
    Code,
    AccessToken,
    RefreshToken,
    ApiSecretKey,
}

impl SecretKind {
    pub fn name(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "the client secret",
            SecretKind::Code => "an authorization code",
            SecretKind::AccessToken => "an access token",
            SecretKind::RefreshToken => "a refresh token",
            SecretKind::ApiSecretKey => "the API secret key",
        }
    }
}

impl RunRecord {
    /// The exit code, or what stands for it: in web-app mode a 2xx last page is 0, any other
    /// status 1.
    pub fn exit_code(&self) -> Option<i32> {
        match self.end {
            ClientEnd::Exited(code) => code,
            ClientEnd::Answered(status) => Some(i32::from(!(200..300).contains(&status))),
            _ => None,
        }
    }

    /// What the client said about how it ended: its stderr; in web-app mode the last page
    /// (a server's stderr is its request log, not a message to the user).
    pub fn message(&self) -> &str {
        if self.web_app {
            self.final_page.as_deref().unwrap_or("").trim()
        } else {
            self.stderr.trim()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the mock could not start: {0}")]
    Mock(String),
    #[error("cannot prepare the scenario: {0}")]
    Setup(String),
    #[error("the client command could not start: {0}")]
    ClientStart(String),
}

/// Runs `scenario` against the client.
pub async fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunRecord, RunError> {
    let started = Instant::now();
    let dir = TempDir::new(&scenario.id).map_err(|e| RunError::Setup(e.to_string()))?;
    // Only a scenario that moves the clock pays for libfaketime (it slows some clients down).
    let client_clock = match &opts.shared_clock {
        SharedClock::Faketime(lib) if scenario.moves_clock() => {
            let clock = ClientClock::new(&dir.path);
            clock
                .set(Duration::ZERO)
                .map_err(|e| RunError::Setup(format!("cannot write the client's clock: {e}")))?;
            Some((clock, lib.clone()))
        }
        _ => None,
    };
    let issued: Arc<Mutex<Vec<Secret>>> = Arc::default();
    // The client's process group, once it runs, and which of its processes were found
    // without libfaketime when the clock moved.
    let pgid = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let unfollowed: Arc<Mutex<Vec<String>>> = Arc::default();
    let hooks = Hooks {
        clock_moved: client_clock.as_ref().map(|(clock, _)| {
            let (clock, pgid, unfollowed) = (clock.clone(), pgid.clone(), unfollowed.clone());
            let skew = Duration::from_secs(scenario.clock_skew);
            Arc::new(move |offset: Duration| {
                // Best effort: a failed write shows as a client that met an expired token.
                let _ = clock.set(offset.saturating_sub(skew));
                let group = pgid.load(std::sync::atomic::Ordering::Relaxed);
                if group != 0 {
                    let mut seen = unfollowed.lock().unwrap_or_else(PoisonError::into_inner);
                    for p in crate::shared_clock::processes_without_it(group) {
                        if !seen.contains(&p) {
                            seen.push(p);
                        }
                    }
                }
            }) as mock_server::state::ClockHook
        }),
        issued: Some({
            let issued = issued.clone();
            Arc::new(move |kind: Issued, value: &str| {
                let kind = match kind {
                    Issued::Code => SecretKind::Code,
                    Issued::AccessToken => SecretKind::AccessToken,
                    Issued::RefreshToken => SecretKind::RefreshToken,
                };
                let mut all = issued.lock().unwrap_or_else(PoisonError::into_inner);
                // A client that makes more cannot be judged anyway (see MAX_EXCHANGES).
                if all.len() < MAX_EXCHANGES {
                    all.push(Secret {
                        kind,
                        value: value.to_owned(),
                    });
                }
            })
        }),
    };
    let config = Config {
        clock: ClockMode::Frozen,
        max_logged_requests: MAX_EXCHANGES,
        hooks,
        openapi: opts.openapi.clone(),
        ..Config::default()
    };
    let mock = mock_server::spawn(config, Binds::ephemeral_two_origins())
        .await
        .map_err(|e| RunError::Mock(e.to_string()))?;
    let state = mock.state.clone();
    if scenario.clock_skew > 0 {
        let _ = state.advance_clock(Duration::from_secs(scenario.clock_skew));
    }
    let port = match (scenario.auth, scenario.redirect) {
        (Auth::Oauth, RedirectKind::Localhost) => Some(free_port()?),
        _ => None,
    };
    let redirect_uri = match port {
        Some(port) => format!("http://localhost:{port}/callback"),
        None => mock_server::domain::OOB.to_owned(),
    };
    let start_url = match (port, &opts.app_url) {
        (Some(port), Some(_)) => opts.start_url(port),
        (None, Some(_)) => {
            return Err(RunError::Setup(format!(
                "scenario {}: an out-of-band redirect has no place in web-app mode",
                scenario.id
            )))
        }
        (_, None) => None,
    };
    let credentials = Credentials::create(&state, scenario, &redirect_uri)?;
    for fault in &scenario.faults {
        state.script().arm(fault.clone());
    }
    for trigger in scenario.mock_triggers(credentials.id()) {
        state.script().add_trigger(trigger);
    }

    let opened_file = dir.path.join("opened");
    let browser_path = dir.path.join("browser");
    write_browser(&browser_path, &opened_file).map_err(|e| RunError::Setup(e.to_string()))?;

    let oauth_url = mock.oauth_url();
    let api_url = mock.api_url();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&opts.command)
        .env("ONSHAPE_API_URL", &api_url)
        .env("ONSHAPE_API_CALLS", scenario.api_calls.join(";"))
        .env("ONSHAPE_API_BODIES", scenario.bodies_json())
        .env("ONSHAPE_HTTP_TIMEOUT", scenario.http_timeout.to_string())
        .env("BROWSER", &browser_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Only the contract's variables: none of the other contract's leaks in from the shell.
    for name in [
        "ONSHAPE_OAUTH_URL",
        "ONSHAPE_CLIENT_ID",
        "ONSHAPE_CLIENT_SECRET",
        "ONSHAPE_REDIRECT_URI",
        "ONSHAPE_SCOPE",
        "ONSHAPE_COMPANY_ID",
        "ONSHAPE_APP_PORT",
        "ONSHAPE_ACCESS_KEY",
        "ONSHAPE_SECRET_KEY",
        "ONSHAPE_API_AUTH",
        "ONSHAPE_API_PARALLEL",
    ] {
        cmd.env_remove(name);
    }
    if scenario.parallel {
        cmd.env("ONSHAPE_API_PARALLEL", "1");
    }
    match &credentials {
        Credentials::App(app) => {
            cmd.env("ONSHAPE_OAUTH_URL", &oauth_url)
                .env("ONSHAPE_CLIENT_ID", &app.client_id)
                .env("ONSHAPE_CLIENT_SECRET", &app.client_secret)
                .env("ONSHAPE_REDIRECT_URI", &redirect_uri);
            if let Some(scope) = &scenario.scope {
                cmd.env("ONSHAPE_SCOPE", scope);
            }
            if let Some(company) = &scenario.company_id {
                cmd.env("ONSHAPE_COMPANY_ID", company);
            }
            if let (Some(port), Some(_)) = (port, &start_url) {
                cmd.env("ONSHAPE_APP_PORT", port.to_string());
            }
        }
        Credentials::Key(key) => {
            cmd.env("ONSHAPE_ACCESS_KEY", &key.access_key)
                .env("ONSHAPE_SECRET_KEY", &key.secret_key)
                .env("ONSHAPE_API_AUTH", scenario.scheme.as_str());
        }
    }
    if let Some((clock, lib)) = &client_clock {
        cmd.envs(clock.env(lib));
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| RunError::ClientStart(format!("sh -c {:?}: {e}", opts.command)))?;
    if let Some(id) = child.id() {
        pgid.store(id, std::sync::atomic::Ordering::Relaxed);
    }
    let group = child.id().map(ProcessGroup::register);
    let stdout = child.stdout.take().map(|s| tokio::spawn(read_capped(s)));
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_capped(s)));
    let mut stdin = child.stdin.take();

    let browser = Browser::new(vec![oauth_url.clone(), api_url.clone()]);
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let mut session = Session {
        scenario,
        browser: &browser,
        state: &state,
        opened: vec![],
        delivered: vec![],
        first_callback: None,
        final_page: None,
        navigation: vec![],
    };
    let end = match &start_url {
        Some(start) => session.web_app(&mut child, start, deadline).await,
        None => {
            session
                .desktop(&mut child, &opened_file, &mut stdin, deadline)
                .await
        }
    };
    let ended_ms = state.clock().uptime_ms();
    drop(stdin);
    // Whatever the client left running (a browser it started, a server) goes with it.
    kill(&mut child).await;
    if let Some(g) = group {
        g.reaped();
    }
    let stdout = collect(stdout).await;
    let stderr = collect(stderr).await;
    let (exchanges, dropped_exchanges) = {
        let log = state.log();
        (
            log.entries().cloned().collect::<Vec<Exchange>>(),
            log.dropped(),
        )
    };
    let grant_companies = match &credentials {
        Credentials::Key(_) => Vec::new(),
        Credentials::App(app) => {
            let store = state.store();
            let user = store
                .user_by_email(&scenario.user)
                .map(|u| u.id.clone())
                .unwrap_or_default();
            store
                .grants_of(&user)
                .into_iter()
                .filter(|g| g.client_id == app.client_id)
                .map(|g| g.company_id)
                .collect()
        }
    };
    let Session {
        opened,
        delivered,
        final_page,
        navigation,
        ..
    } = session;
    let clock_unfollowed =
        std::mem::take(&mut *unfollowed.lock().unwrap_or_else(PoisonError::into_inner));
    let mut secrets = credentials.secrets();
    secrets.extend(
        issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..),
    );
    let _ = mock.shutdown().await;
    // `sh` answers 127 (not found) or 126 (not executable) for a command it cannot start.
    if let ClientEnd::Exited(Some(code @ (126 | 127))) = end {
        if opened.is_empty() && exchanges.is_empty() {
            return Err(RunError::ClientStart(format!(
                "sh -c {:?} exited {code}: {}",
                opts.command,
                stderr.trim()
            )));
        }
    }
    Ok(RunRecord {
        scenario: scenario.clone(),
        exchanges,
        opened,
        delivered,
        end,
        stdout,
        stderr,
        duration: started.elapsed(),
        dropped_exchanges,
        grant_companies,
        final_page,
        secrets,
        clock_shared: client_clock.is_some(),
        clock_unfollowed,
        clock_note: match &opts.shared_clock {
            SharedClock::Off(why) => Some(why.clone()),
            SharedClock::Faketime(_) => None,
        },
        ended_ms,
        web_app: start_url.is_some(),
        navigation,
        oauth_url,
        api_url,
    })
}

/// The browser side of one run.
pub(crate) struct Session<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) browser: &'a Browser,
    pub(crate) state: &'a mock_server::AppState,
    pub(crate) opened: Vec<Opened>,
    pub(crate) delivered: Vec<Delivered>,
    /// The first genuine callback, for a scenario that replays it later.
    pub(crate) first_callback: Option<String>,
    /// Web-app mode: the text of the app's last page.
    pub(crate) final_page: Option<String>,
    /// Web-app mode: each GET the browser made to the app, with its answer.
    pub(crate) navigation: Vec<String>,
}

impl Session<'_> {
    /// Plays browser and user on the mock's pages for `url` and records where it landed;
    /// then, before the first callback, moves the clock as the scenario says. Where it landed,
    /// whether to forge this callback, and how far the clock moved.
    pub(crate) async fn play(&mut self, url: &str) -> (Landing, bool, u64) {
        let landing = self.browser.visit(url, self.scenario).await;
        self.opened.push(Opened {
            url: url.to_owned(),
            landing: landing.clone(),
        });
        let forge = self.delivered.is_empty() && self.scenario.browser.forge_state;
        (landing, forge, self.advance_before_callback())
    }

    /// The mock clock moves this many seconds before the first callback (none later).
    fn advance_before_callback(&self) -> u64 {
        let advanced = if self.delivered.is_empty() {
            self.scenario.browser.advance_before_callback
        } else {
            0
        };
        if advanced > 0 {
            let _ = self.state.advance_clock(Duration::from_secs(advanced));
        }
        advanced
    }

    /// Records a callback handed to the client (code as a fingerprint, query masked);
    /// `after_exchange`: [`Session::last_exchange`] taken before it was handed over.
    pub(crate) fn record_callback(
        &mut self,
        location: &str,
        forged: bool,
        advanced: u64,
        received: bool,
        after_exchange: u64,
    ) {
        self.record_odd_callback(location, forged, None, advanced, received, after_exchange);
    }

    /// [`Session::record_callback`], for an odd one.
    pub(crate) fn record_odd_callback(
        &mut self,
        location: &str,
        forged: bool,
        odd: Option<OddCallback>,
        advanced: u64,
        received: bool,
        after_exchange: u64,
    ) {
        self.delivered.push(Delivered {
            to: mask_query_in_url(location),
            forged,
            code: query_param(location, "code").map(|c| fingerprint(&c)),
            advanced,
            received,
            odd,
            after_exchange,
        });
    }

    /// The id of the last exchange in the mock's log (0: none yet).
    pub(crate) fn last_exchange(&self) -> u64 {
        self.state.log().last_id().unwrap_or(0)
    }

    /// The odd callback to deliver now, if this is its moment: the first callback for most
    /// kinds, the second authorization's for `replay`.
    pub(crate) fn odd_callback(&self) -> Option<OddCallback> {
        let odd = self.scenario.browser.callback?;
        let genuine_so_far = self.delivered.iter().filter(|d| d.odd.is_none()).count();
        match odd {
            OddCallback::Replay => {
                (genuine_so_far == 1 && self.first_callback.is_some()).then_some(odd)
            }
            _ => self.delivered.is_empty().then_some(odd),
        }
    }
}

/// The decoded value of the query parameter `name` of a URL.
pub fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A port for the client's redirect listener. The client binds it itself, after this
/// returns, so the port is chosen below Linux's ephemeral range (32768–60999): the kernel
/// will not hand it to another socket bound to port 0 (a mock's, say) in the meantime. A
/// process-wide set keeps parallel scenarios from picking the same one.
fn free_port() -> Result<u16, RunError> {
    use rand::Rng;
    use std::sync::{Mutex, OnceLock};
    static HANDED_OUT: OnceLock<Mutex<std::collections::HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(Default::default);
    for _ in 0..200 {
        let port = rand::rng().random_range(20_000..32_000);
        let mut taken = handed_out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if taken.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            if taken.len() > 5_000 {
                taken.clear();
            }
            taken.insert(port);
            return Ok(port);
        }
    }
    Err(RunError::Setup(
        "no free port between 20000 and 32000 for the redirect listener".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_ports_are_below_the_ephemeral_range_and_not_repeated() {
        let ports: std::collections::HashSet<u16> =
            (0..50).map(|_| free_port().expect("a port")).collect();
        assert_eq!(ports.len(), 50);
        assert!(ports.iter().all(|p| (20_000..32_000).contains(p)));
    }
}
