//! The one state handle every route shares: cheap to clone, an `Arc` inside.
//!
//! It holds the injected [`Clock`], the [`Store`] behind one mutex, the request log, the
//! templates and the configuration. Locks are taken through accessors that recover from
//! poisoning and are never held across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock::{Clock, ClockMode};
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
    /// Accept commas between scopes (passport-onshape's default). Off: the strict reading
    /// of RFC 6749 §3.3, spaces only; whether Onshape accepts commas is unconfirmed.
    pub allow_comma_scopes: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fixtures: Fixtures::builtin(),
            clock: ClockMode::Real,
            auto_consent: None,
            max_logged_requests: 1_000,
            allow_comma_scopes: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--auto-consent: no fixture user has the email `{0}`")]
    UnknownConsentUser(String),
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
    templates: minijinja::Environment<'static>,
}

impl AppState {
    pub fn new(config: Config) -> Result<AppState, ConfigError> {
        let clock = Clock::new(config.clock);
        Self::with_clock(config, clock)
    }

    pub fn with_clock(config: Config, clock: Clock) -> Result<AppState, ConfigError> {
        let store = Store::new(&config.fixtures, default_consent(&config)?, clock.now());
        Ok(AppState {
            inner: Arc::new(Inner {
                log: Mutex::new(RequestLog::new(config.max_logged_requests)),
                script: Mutex::new(Script::default()),
                store: Mutex::new(store),
                clock,
                templates: crate::pages::environment(),
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
    pub fn script(&self) -> MutexGuard<'_, Script> {
        self.inner
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        .ok_or_else(|| ConfigError::UnknownConsentUser(email.clone()))?;
    Ok(Some(ConsentScript {
        grant: true,
        user_id: user.id.clone(),
        company_id: None,
    }))
}
