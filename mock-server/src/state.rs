//! The one state handle every route shares: cheap to clone, an `Arc` inside.
//!
//! It holds the injected [`Clock`], the [`Store`] behind one mutex, the request log, the
//! templates and the configuration. Locks are taken through accessors that recover from
//! poisoning and are never held across an `.await`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::{Clock, ClockMode, Instant};
use crate::fixtures::Fixtures;
use crate::record::RequestLog;
use crate::script::Script;
use crate::store::{ConsentScript, Store};

/// How the mock is set up.
#[derive(Debug, Clone)]
pub struct Config {
    pub fixtures: Fixtures,
    pub clock: ClockMode,
    /// Grant every authorization at once as this user (by email), with no page.
    pub auto_consent: Option<String>,
    /// How many exchanges `GET /__mock/requests` keeps (oldest dropped first).
    pub max_logged_requests: usize,
    /// How many bytes of exchanges it keeps, about (oldest dropped first).
    pub max_log_bytes: usize,
    /// Accept commas between scopes (passport-onshape's default). Off: the strict reading
    /// of RFC 6749 §3.3, spaces only; whether Onshape accepts commas is unconfirmed.
    pub allow_comma_scopes: bool,
    /// What an embedding program (the conformance runner) is told as it happens.
    pub hooks: Hooks,
    /// Host names answered besides IP addresses, `localhost` and `*.localhost` (DNS
    /// rebinding protection), lower case.
    pub allowed_hosts: Vec<String>,
    /// Answer the control API to clients that are not on loopback (a container reached
    /// through Docker's network): `serve --allow-remote-control`.
    pub remote_control: bool,
    /// Timeouts, sizes and the connection cap.
    pub limits: crate::conn::Limits,
    /// How long a fired GET or POST extension action waits for the app (Onshape: 180 s).
    pub extension_timeout: Duration,
    /// Onshape's OpenAPI document, loaded (`serve --openapi FILE`): every operation it lists
    /// is served. `None`: the built-in sessioninfo and documents only.
    pub openapi: Option<Arc<crate::openapi::Spec>>,
}

/// Callbacks for a program that embeds the mock, called synchronously — before the response
/// that caused them leaves — so that whatever they do is in place for the client's next
/// request. The conformance runner moves the client's clock with the mock's, and learns
/// every secret it must never see in the client's output.
#[derive(Clone, Default)]
pub struct Hooks {
    /// The clock's total offset, after every move and after a reset.
    pub clock_moved: Option<ClockHook>,
    /// Every authorization code, access token and refresh token, as it is issued.
    pub issued: Option<IssuedHook>,
}

pub type ClockHook = Arc<dyn Fn(Duration) + Send + Sync>;
pub type IssuedHook = Arc<dyn Fn(Issued, &str) + Send + Sync>;

/// What kind of secret the mock issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    Code,
    AccessToken,
    RefreshToken,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("clock_moved", &self.clock_moved.is_some())
            .field("issued", &self.issued.is_some())
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fixtures: Fixtures::builtin(),
            clock: ClockMode::Real,
            auto_consent: None,
            max_logged_requests: 1_000,
            max_log_bytes: 8 * 1024 * 1024,
            allow_comma_scopes: false,
            hooks: Hooks::default(),
            allowed_hosts: Vec::new(),
            remote_control: false,
            limits: crate::conn::Limits::default(),
            extension_timeout: Duration::from_secs(180),
            openapi: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--auto-consent: no fixture user has the email `{email}`; the users are {known}")]
    UnknownConsentUser { email: String, known: String },
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    clock: Clock,
    store: Mutex<Store>,
    log: Mutex<RequestLog>,
    script: Mutex<Script>,
    /// Whether `script` holds anything; kept by [`ScriptGuard`] as it is released.
    script_armed: AtomicBool,
    /// Serializes clock moves with their hook ([`AppState::advance_clock`]).
    clock_moves: Mutex<()>,
    templates: minijinja::Environment<'static>,
    /// The anti-forgery token every page form carries (one per process).
    form_token: String,
    /// Where the origins listen, once [`crate::server::spawn`] has bound them.
    urls: std::sync::OnceLock<Urls>,
    /// Turns true when the mock stops: answers a fault holds back are let go.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// The base URLs of a running mock's origins (the same when one listener serves both).
#[derive(Debug, Clone)]
pub struct Urls {
    pub oauth: String,
    pub api: String,
    /// Other stacks: (name, base URL).
    pub stacks: Vec<(String, String)>,
}

impl AppState {
    pub fn new(config: Config) -> Result<AppState, ConfigError> {
        let clock = Clock::new(config.clock);
        Self::with_clock(config, clock)
    }

    pub fn with_clock(config: Config, clock: Clock) -> Result<AppState, ConfigError> {
        let store = Store::new(&config.fixtures, default_consent(&config)?, clock.now());
        let form_token = crate::domain::new_token(32);
        Ok(AppState {
            inner: Arc::new(Inner {
                log: Mutex::new(RequestLog::new(
                    config.max_logged_requests,
                    config.max_log_bytes,
                )),
                script: Mutex::new(Script::default()),
                script_armed: AtomicBool::new(false),
                clock_moves: Mutex::new(()),
                store: Mutex::new(store),
                clock,
                templates: crate::pages::environment(&form_token),
                form_token,
                urls: std::sync::OnceLock::new(),
                stopping: tokio::sync::watch::Sender::new(false),
                config,
            }),
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Moves the clock forward, forgets what expired long enough ago, and tells the
    /// `clock_moved` hook. Refused, moving nothing, past [`crate::clock::MAX_OFFSET`].
    pub fn advance_clock(&self, by: Duration) -> Result<Instant, Duration> {
        // One move at a time, hook included: two concurrent moves must not leave the hook's
        // last word at the smaller offset.
        let _one = self
            .inner
            .clock_moves
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = self.inner.clock.advance(by)?;
        self.store().purge(now);
        self.clock_moved();
        Ok(now)
    }

    fn clock_moved(&self) {
        if let Some(hook) = &self.inner.config.hooks.clock_moved {
            hook(self.inner.clock.offset());
        }
    }

    /// Tells the `issued` hook of a code or token just issued.
    pub fn issued(&self, kind: Issued, secret: &str) {
        if let Some(hook) = &self.inner.config.hooks.issued {
            hook(kind, secret);
        }
    }

    /// The store, locked. Never hold the guard across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Injected faults and triggers.
    pub fn script(&self) -> ScriptGuard<'_> {
        ScriptGuard {
            script: self
                .inner
                .script
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            armed: &self.inner.script_armed,
        }
    }

    /// False when no fault or trigger is armed: the common case, answered without a lock.
    pub fn script_armed(&self) -> bool {
        self.inner.script_armed.load(Ordering::Acquire)
    }

    /// Waits `for_how_long` of real time, or until the mock stops ([`AppState::stop`]).
    pub async fn hold(&self, for_how_long: Duration) {
        let mut stopping = self.inner.stopping.subscribe();
        tokio::select! {
            () = tokio::time::sleep(for_how_long) => {}
            _ = stopping.wait_for(|s| *s) => {}
        }
    }

    /// Lets go of every answer a fault holds back ([`AppState::hold`]): the mock is stopping.
    pub fn stop(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// The token page forms carry against cross-site request forgery.
    pub fn form_token(&self) -> &str {
        &self.inner.form_token
    }

    /// The origins' base URLs, once bound (`None` for a router driven without sockets).
    pub fn urls(&self) -> Option<&Urls> {
        self.inner.urls.get()
    }

    pub(crate) fn set_urls(&self, urls: Urls) {
        let _ = self.inner.urls.set(urls);
    }

    pub fn templates(&self) -> &minijinja::Environment<'static> {
        &self.inner.templates
    }

    /// Back to the fixtures: store, clock offset, request log, scripted consent, faults and
    /// triggers.
    pub fn reset(&self) {
        let consent = default_consent(&self.inner.config).ok().flatten();
        self.inner.clock.reset();
        *self.store() = Store::new(&self.inner.config.fixtures, consent, self.inner.clock.now());
        self.log().clear();
        *self.script() = Script::default();
        self.clock_moved();
    }
}

fn default_consent(config: &Config) -> Result<Option<ConsentScript>, ConfigError> {
    let Some(email) = &config.auto_consent else {
        return Ok(None);
    };
    let user = config
        .fixtures
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .ok_or_else(|| ConfigError::UnknownConsentUser {
            email: email.clone(),
            known: config
                .fixtures
                .users
                .iter()
                .map(|u| u.email.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Ok(Some(ConsentScript {
        grant: true,
        user_id: user.id.clone(),
        company_id: None,
    }))
}

/// The locked script; on release it records whether anything is left armed, so requests
/// can skip the lock while nothing is.
pub struct ScriptGuard<'a> {
    script: MutexGuard<'a, Script>,
    armed: &'a AtomicBool,
}

impl std::ops::Deref for ScriptGuard<'_> {
    type Target = Script;
    fn deref(&self) -> &Script {
        &self.script
    }
}

impl std::ops::DerefMut for ScriptGuard<'_> {
    fn deref_mut(&mut self) -> &mut Script {
        &mut self.script
    }
}

impl Drop for ScriptGuard<'_> {
    fn drop(&mut self) {
        self.armed.store(!self.script.is_empty(), Ordering::Release);
    }
}
