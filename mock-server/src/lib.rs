//! onshape-mock's server: a strict mock of Onshape's OAuth 2.0 authorization server and
//! REST API, as a library. The binary (`onshape-mock serve`) and the tests start it through
//! [`server::spawn`]; tests can also drive [`app`] without a socket.
//!
//! Map:
//! - [`server`]: listeners (one combined origin, or separate OAuth and API origins),
//!   the start-up banner; [`conn`]: the accept loop with its timeouts, connection cap and
//!   bounded graceful shutdown.
//! - [`app`] merges the three areas, each `routes()`:
//!   [`oauth`] (authorize, login/consent pages, token, grants page),
//!   [`api`] (the `/api` resource server), [`control`] (`/__mock`, loopback only).
//! - [`openapi`]: Onshape's OpenAPI document (`serve --openapi`), compiled once; with it,
//!   `api` routes, checks and answers every operation the document lists.
//! - [`record`]: the middleware that limits bodies, stamps `X-Request-ID` and logs every
//!   exchange with the rule it broke; [`mask`]: what of a request may be logged.
//! - [`state`]: the one cheap-to-clone handle; [`store`]: codes, tokens, grants,
//!   documents and every rule that needs them; [`clock`]: the injected clock.
//! - [`rules`]: the catalog of documented rules; [`error`]: RFC 6749 error codes and how
//!   each surface renders a rejection.
//! - Parsing at the edge: [`form`] (strict form/query decoding), [`domain`] (scopes,
//!   redirect URIs, credentials), [`fixtures`] and [`model`] (what the mock starts with).
//! - [`landing`]: `GET /`, the page a newcomer opens first; [`inspector`]: the live
//!   request log page (`/__mock/ui`) and the log as HAR; [`portal`]: the developer settings
//!   as HTML pages (`/developer`).
//! - [`pages`]: the HTML templates; [`script`]: injected faults and triggers (scripted
//!   events for tests and the conformance runner).

pub mod api;
pub mod clock;
pub mod conn;
pub mod control;
pub mod domain;
pub mod error;
pub mod fixtures;
pub mod form;
pub mod inspector;
pub mod landing;
pub mod mask;
pub mod model;
pub mod oauth;
pub mod openapi;
pub mod pages;
pub mod portal;
pub mod record;
pub mod rules;
pub mod script;
pub mod server;
pub mod state;
pub mod store;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

pub use clock::{Clock, ClockMode};
pub use conn::Limits;
pub use fixtures::Fixtures;
pub use server::{spawn, Binds, RunningMock, Stack, StartError, DEFAULT_STACK};
pub use state::{AppState, Config, Hooks, Issued};

/// Which origin a listener plays: both (the default), oauth.onshape.com only, or
/// cad.onshape.com. The API origin answers `/oauth/*` too, as passport-onshape expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Combined,
    OAuth,
    Api,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Combined => "combined",
            Origin::OAuth => "oauth",
            Origin::Api => "api",
        }
    }
}

/// The media type of a request (`Content-Type` without parameters, lower-cased).
pub(crate) fn media_type(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(media_base(value))
}

/// `application/json;charset=UTF-8; qs=0.09` → `application/json`: a media type without its
/// parameters, lower-cased.
pub(crate) fn media_base(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The whole mock as one router, every route behind [`record::RecordLayer`] (which also
/// applies [`refused_by_address`]).
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(oauth::routes())
        .merge(api::routes())
        .merge(control::routes(state.clone()))
        .merge(landing::routes())
        .merge(portal::routes(state.clone()))
        .fallback(not_found)
        .layer(record::RecordLayer::new(state.clone()))
        .with_state(state)
}

/// Refusals that depend on the request's address rather than a route: a `Host` the mock
/// does not answer for, the API asked of the OAuth origin, and bearer tokens sent outside
/// `/api`.
pub(crate) fn refused_by_address(
    state: &AppState,
    origin: Origin,
    parts: &axum::http::request::Parts,
) -> Option<Response> {
    if let Some(refused) = host_refused(state, &parts.headers) {
        return Some(refused);
    }
    let path = parts.uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api && origin == Origin::OAuth {
        return Some(error::ApiError::new(
            StatusCode::NOT_FOUND,
            rules::API_ROUTE,
            "this is the OAuth origin (oauth.onshape.com); the REST API is on the API origin",
        )
        .hint("Send /api requests to the API base URL (ONSHAPE_API_URL, cad.onshape.com), not the OAuth host.")
        .into_response());
    }
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    if bearer && !is_api && !path.starts_with("/__mock") && path != "/oauth/token" {
        return Some(
            error::ApiError::new(
                StatusCode::BAD_REQUEST,
                rules::TOKEN_ONLY_FOR_API,
                format!("a bearer token was sent to {path}, outside /api"),
            )
            .into_response(),
        );
    }
    None
}

/// DNS rebinding: a page on another site whose name now points at 127.0.0.1 sends its own
/// name as `Host`. The mock answers an IP address, `localhost`, `*.localhost`, and the names
/// given with `serve --allow-host`; the `Host` is also what API `href`s are built from.
fn host_refused(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST)?;
    let text = host.to_str().unwrap_or("");
    let name = match text.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => text.rsplit_once(':').map_or(text, |(name, _)| name),
    };
    // Compared ignoring case, without a lower-cased copy: this runs for every request.
    let suffix = ".localhost";
    let allowed = name.parse::<std::net::IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || (name.len() >= suffix.len()
            && name.is_char_boundary(name.len() - suffix.len())
            && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
        || state
            .config()
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name));
    if allowed {
        return None;
    }
    let shown: String = text.chars().take(64).collect();
    Some(
        error::ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            rules::HOST_ALLOWED,
            format!("this mock does not answer for the host `{shown}`"),
        )
        .into_response(),
    )
}

async fn not_found(req: Request) -> Response {
    error::ApiError::new(
        StatusCode::NOT_FOUND,
        rules::API_ROUTE,
        format!("nothing is served at {}", req.uri().path()),
    )
    .hint("The mock serves /oauth/authorize, /oauth/token, /api/…, /account/applications and the control API under /__mock; GET / lists them all.")
    .into_response()
}
