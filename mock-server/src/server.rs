//! Starting and stopping the mock on real sockets.
//!
//! [`spawn`] binds the listeners, builds the state and serves until the returned
//! [`RunningMock`] is shut down (or dropped). One listener serves both origins by default;
//! with [`Binds::api`] set, the OAuth origin and the API origin get ports of their own, as
//! oauth.onshape.com and cad.onshape.com are different hosts.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::{AppState, Config, ConfigError};
use crate::{app, Origin};

/// Where to listen.
#[derive(Debug, Clone)]
pub struct Binds {
    /// The OAuth origin (and the API too, when `api` is `None`).
    pub oauth: SocketAddr,
    /// A separate API origin.
    pub api: Option<SocketAddr>,
    /// Other stacks (an enterprise's `companyName.onshape.com`), each on its own origin:
    /// (stack name, address). The origins above are the default stack, [`DEFAULT_STACK`].
    pub stacks: Vec<(String, SocketAddr)>,
}

/// The stack the default origins play (API keys are valid only on their own stack).
pub const DEFAULT_STACK: &str = "cad.onshape.com";

/// Which stack a listener serves, on every request it carries (absent: [`DEFAULT_STACK`]).
#[derive(Debug, Clone)]
pub struct Stack(pub std::sync::Arc<str>);

impl Binds {
    /// Both origins on one ephemeral loopback port (for tests).
    pub fn ephemeral() -> Binds {
        Binds {
            oauth: SocketAddr::from(([127, 0, 0, 1], 0)),
            api: None,
            stacks: Vec::new(),
        }
    }

    /// The OAuth and API origins on two ephemeral loopback ports, as oauth.onshape.com and
    /// cad.onshape.com are two hosts (the conformance runner, tests).
    pub fn ephemeral_two_origins() -> Binds {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Binds {
            oauth: loopback,
            api: Some(loopback),
            stacks: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The OS error is in the message, not a `source` (`{:#}` would print it twice), with
    /// what to do about the usual causes.
    #[error("cannot listen on {addr} ({origin} origin): {error}{}", bind_hint(error, *addr))]
    Bind {
        addr: SocketAddr,
        /// `"OAuth"` or `"API"`: which listener, so the binary can name its flag.
        origin: &'static str,
        error: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A running mock.
pub struct RunningMock {
    pub state: AppState,
    pub oauth_addr: SocketAddr,
    pub api_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl RunningMock {
    pub fn oauth_url(&self) -> String {
        format!("http://{}", self.oauth_addr)
    }
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// Stops accepting, gives in-flight requests [`crate::conn::Limits::shutdown_grace`] to
    /// finish, drops the rest, and returns.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.state.stop();
        for task in self.tasks.drain(..) {
            task.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn serve_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        signal.await;
        self.shutdown().await
    }

    /// The start-up banner: URLs, applications with credentials, users.
    pub fn banner(&self) -> String {
        banner(&self.state, self.oauth_addr, self.api_addr)
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.state.stop();
    }
}

/// Binds and starts serving.
pub async fn spawn(config: Config, binds: Binds) -> Result<RunningMock, StartError> {
    let state = AppState::new(config)?;
    spawn_with_state(state, binds).await
}

/// What to do when a port cannot be had.
fn bind_hint(error: &std::io::Error, addr: SocketAddr) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            ". Another program holds port {} (another onshape-mock, perhaps: the README's first command starts one). Stop it, or choose a free port (0 picks one)",
            addr.port()
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            ". This machine has no such address: use 127.0.0.1 (or 0.0.0.0 in a container)".to_owned()
        }
        std::io::ErrorKind::PermissionDenied => {
            ". Ports below 1024 need privileges: choose a port above 1024".to_owned()
        }
        _ => String::new(),
    }
}

pub async fn spawn_with_state(state: AppState, binds: Binds) -> Result<RunningMock, StartError> {
    let bind = |addr: SocketAddr, origin: &'static str| async move {
        let listener = TcpListener::bind(addr).await;
        let listener = listener.map_err(|error| StartError::Bind {
            addr,
            origin,
            error,
        })?;
        let local = listener.local_addr().map_err(|error| StartError::Bind {
            addr,
            origin,
            error,
        })?;
        Ok::<_, StartError>((listener, local))
    };
    let mut listeners = vec![];
    let (oauth, oauth_addr) = bind(binds.oauth, "OAuth").await?;
    let mut api_addr = oauth_addr;
    match binds.api {
        None => listeners.push((oauth, Origin::Combined, None)),
        Some(addr) => {
            listeners.push((oauth, Origin::OAuth, None));
            let (api, local) = bind(addr, "API").await?;
            api_addr = local;
            listeners.push((api, Origin::Api, None));
        }
    }
    let mut stacks = Vec::new();
    for (name, addr) in binds.stacks {
        let (listener, local) = bind(addr, "stack").await?;
        stacks.push((name.clone(), format!("http://{local}")));
        listeners.push((listener, Origin::Combined, Some(Stack(name.into()))));
    }
    state.set_urls(crate::state::Urls {
        oauth: format!("http://{oauth_addr}"),
        api: format!("http://{api_addr}"),
        stacks,
    });
    let (tx, rx) = watch::channel(false);
    let tasks = listeners
        .into_iter()
        .map(|(listener, origin, stack)| {
            let router = match stack {
                None => app(state.clone()),
                Some(stack) => app(state.clone()).layer(axum::Extension(stack)),
            };
            tokio::spawn(crate::conn::serve(
                listener,
                router,
                origin,
                state.config().limits,
                rx.clone(),
            ))
        })
        .collect();
    Ok(RunningMock {
        state,
        oauth_addr,
        api_addr,
        shutdown: tx,
        tasks,
    })
}

fn banner(state: &AppState, oauth: SocketAddr, api: SocketAddr) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let store = state.store();
    let _ = writeln!(out, "onshape-mock {} is running", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(
        out,
        "  Start here:      http://{oauth}/   (apps with authorize links, users, control API, request inspector)"
    );
    let _ = writeln!(
        out,
        "  OAuth base URL:  http://{oauth}   (GET /oauth/authorize, POST /oauth/token)"
    );
    let _ = writeln!(
        out,
        "  API base URL:    http://{api}/api   (stack {DEFAULT_STACK})"
    );
    for (name, url) in state
        .urls()
        .map(|u| u.stacks.as_slice())
        .unwrap_or_default()
    {
        let _ = writeln!(
            out,
            "  Stack {name}: {url}   (OAuth and API; its API keys work only here)"
        );
    }
    match &state.config().openapi {
        Some(spec) => {
            let _ = writeln!(
                out,
                "  REST API:        {} operations from {} {}{}",
                spec.operations.len(),
                if spec.title.is_empty() {
                    "the OpenAPI document"
                } else {
                    &spec.title
                },
                spec.version,
                if spec.notes.is_empty() {
                    String::new()
                } else {
                    format!(
                        "   ({} constructs read but not enforced: GET /__mock/openapi)",
                        spec.notes.len()
                    )
                }
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  REST API:        users/sessioninfo and documents (--openapi FILE serves all of Onshape's)"
            );
        }
    }
    let _ = writeln!(
        out,
        "  Control API:     http://{oauth}/__mock   (loopback only)"
    );
    let _ = writeln!(
        out,
        "  Inspector:       http://{oauth}/__mock/ui   (requests as they happen, with the rule broken)"
    );
    let _ = writeln!(
        out,
        "  Applications page: http://{oauth}/account/applications"
    );
    let consent = store.consent_summary();
    let _ = writeln!(
        out,
        "  Clock: {}   Consent: {consent}",
        state.clock().mode().as_str()
    );
    let _ = writeln!(out, "\nApplications:");
    let mut apps: Vec<_> = store.apps().collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    for app in apps {
        let _ = writeln!(out, "  {}  ({})", app.name, app.primary_format);
        let _ = writeln!(out, "    client_id:     {}", app.client_id);
        let _ = writeln!(out, "    client_secret: {}", app.client_secret);
        for r in &app.redirect_uris {
            let _ = writeln!(out, "    redirect URI:  {}", r.as_str());
        }
        let _ = writeln!(out, "    scopes:        {}", app.scopes);
    }
    let _ = writeln!(out, "\nUsers:");
    for user in store.users() {
        let companies: Vec<String> = user
            .companies
            .iter()
            .map(|c| {
                store
                    .company(c)
                    .map(|k| format!("{} ({c})", k.name))
                    .unwrap_or_else(|| c.clone())
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<20} {}{}  companies: {}",
            user.email,
            user.name,
            if user.light { " [light user]" } else { "" },
            if companies.is_empty() {
                "none".to_owned()
            } else {
                companies.join(", ")
            }
        );
    }
    out
}
