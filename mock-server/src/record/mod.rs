//! Recording: one middleware buffers each request body (refusing more than 64 KiB), runs the
//! route, stamps `X-Request-ID`, and appends the exchange — with secrets masked and the
//! rule the route enforced — to the log that `GET /__mock/requests` returns. Every logged
//! string is masked ([`crate::mask`]) and cut to the per-exchange bounds; the log
//! ([`log`]: `Exchange`, `RequestLog`) is bounded in count and in bytes; [`har`] writes it
//! as HAR 1.2. Reading the log (`GET /__mock/requests`, `.har`, `/__mock/ui`) is not logged.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

mod fault;
pub mod har;
mod log;

pub use fault::Abort;
pub use log::{Exchange, RequestLog, MAX_LOGGED_FIELDS, MAX_LOGGED_VALUE};

use crate::error::Outcome;
use crate::mask;
use crate::script::{Action, ConnectionFault, Event, Fault};
use crate::state::AppState;
use crate::Origin;

/// The routes that show the log (JSON, HAR, the inspector page).
fn reads_the_log(path: &str) -> bool {
    matches!(
        path,
        "/__mock/requests" | "/__mock/requests.har" | "/__mock/ui"
    )
}

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The recording middleware, layered once around the whole router ([`crate::app`]). A
/// hand-written layer rather than `axum::middleware::from_fn`: per request it boxes its
/// future and clones the route, where each `from_fn` layer also boxed the route again and
/// wrapped it in more services (README: Performance).
#[derive(Clone)]
pub struct RecordLayer(AppState);

impl RecordLayer {
    pub fn new(state: AppState) -> RecordLayer {
        RecordLayer(state)
    }
}

impl<S> tower::Layer<S> for RecordLayer {
    type Service = Recorded<S>;
    fn layer(&self, inner: S) -> Recorded<S> {
        Recorded {
            state: self.0.clone(),
            inner,
        }
    }
}

/// A route behind [`RecordLayer`].
#[derive(Clone)]
pub struct Recorded<S> {
    state: AppState,
    inner: S,
}

impl<S> tower::Service<Request> for Recorded<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone is the one readied for the next call (tower's contract).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(record(self.state.clone(), req, inner))
    }
}

async fn record<S>(state: AppState, req: Request, inner: S) -> Result<Response, Infallible>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let (parts, body) = req.into_parts();
    let origin = parts
        .extensions
        .get::<Origin>()
        .copied()
        .unwrap_or(Origin::Combined);
    let bytes = read_body(&state, &parts.headers, body).await;
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().map(mask::mask_query);
    let method = parts.method.to_string();
    let headers = masked_headers(&parts.headers);
    let is_form =
        crate::media_type(&parts.headers).as_deref() == Some("application/x-www-form-urlencoded");
    // A form body is parsed once: for a fault's grant, for the route and for the log.
    let parsed = match &bytes {
        Ok(bytes) if is_form => Some(crate::form::parse(bytes).map(std::sync::Arc::new)),
        _ => None,
    };
    let fault = if bytes.is_ok() && state.script_armed() {
        let grant = match &parsed {
            Some(Ok(form)) if path == "/oauth/token" => grant_type(form),
            _ => None,
        };
        state.script().take_fault(&path, grant)
    } else {
        None
    };
    // A fault with a status or a connection stands in for the route: the request is not
    // processed. One with a token quirk or a delay alone lets the route answer.
    let injected = fault.as_ref().filter(|f| f.unprocessed());
    // Only the route's future is kept across the await below, not the request's parts or
    // body (they move into it), which keeps this future smaller.
    let form = match (&bytes, &parsed) {
        (Ok(bytes), Some(p)) => Some(masked_form(bytes, p.as_deref().ok())),
        _ => None,
    };
    let answered = match (bytes, injected) {
        (Ok(bytes), None) => {
            let mut parts = parts;
            if let Some(Ok(form)) = parsed {
                parts.extensions.insert(crate::form::Parsed(form));
            }
            match crate::refused_by_address(&state, origin, &parts) {
                Some(refused) => Err(refused),
                None => {
                    let mut inner = inner;
                    let Ok(()) = std::future::poll_fn(|cx| inner.poll_ready(cx)).await;
                    Ok(inner.call(Request::from_parts(parts, Body::from(bytes))))
                }
            }
        }
        (Ok(_), Some(fault)) => Err(fault::response(&state, fault, &parts)),
        (Err(refused), _) => Err(refused),
    };
    let mut response = match answered {
        Ok(routed) => {
            let Ok(response) = routed.await;
            response
        }
        Err(response) => response,
    };
    if let Some(quirk) = fault.as_ref().and_then(|f| f.token) {
        response = fault::render_token(response, quirk).await;
    }
    let id = crate::domain::new_token(16);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let outcome = response.extensions().get::<Outcome>().cloned();
    let warning = warning(origin, &path);
    if let Some(rule) = warning {
        response
            .headers_mut()
            .insert("x-onshape-mock-warning", HeaderValue::from_static(rule.id));
    }
    let silent = fault
        .as_ref()
        .is_some_and(|f| f.connection == Some(ConnectionFault::Silent));
    // No answer, or one cut short, is logged without a status (HAR's 0: no response).
    let status = if fault.as_ref().is_some_and(|f| f.connection.is_some()) {
        0
    } else {
        response.status().as_u16()
    };
    // The exchange's time is when it was answered, before the triggers it fires move the
    // clock: a move shows between this exchange and the next.
    let now = state.clock().now();
    // The server's time is the mock's clock (a client may correct its own by it, as signed
    // requests need a Date within 5 minutes of it); hyper adds none when one is set.
    if let Some(Ok(v)) = now.http_date().map(HeaderValue::try_from) {
        response.headers_mut().insert(header::DATE, v);
    }
    let actions = match event(&path, status, form.as_deref()) {
        Some(event) if state.script_armed() => run_triggers(&state, event),
        _ => Vec::new(),
    };
    let mut exchange = Exchange {
        id: 0,
        at: now.rfc3339(),
        at_ms: now.0,
        elapsed_ms: state.clock().uptime_ms(),
        origin: origin.as_str(),
        method,
        path,
        raw_query,
        headers,
        form,
        status,
        location: response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(mask::mask_query_in_url),
        response_headers: if silent {
            Vec::new()
        } else {
            masked_headers(response.headers())
        },
        rule: outcome.as_ref().map(|o| o.rule),
        hint: outcome.map(|o| o.hint),
        warning: warning.map(|w| w.id),
        fault: injected.is_some(),
        scripted: fault.as_ref().map(Fault::describe),
        actions,
    };
    // Reading the log is not logged: the inspector polls it every second, and would push
    // the exchanges it shows out of the bounded log.
    if exchange.method == "GET" && reads_the_log(&exchange.path) && exchange.rule.is_none() {
        return Ok(response);
    }
    let size = exchange.bound();
    exchange.mask_known(&*state.store());
    tracing::info!(
        target: "onshape_mock::request",
        origin = exchange.origin,
        method = %exchange.method,
        path = %exchange.path,
        status,
        rule = exchange.rule,
        "{} {} -> {status}{}{}",
        exchange.method,
        exchange.path,
        exchange
            .rule
            .map(|r| format!(" [{r}] {}", exchange.hint.as_deref().unwrap_or("")))
            .unwrap_or_default(),
        warning.map(|w| format!(" (warning {}: {})", w.id, w.fix)).unwrap_or_default()
    );
    state.log().push(exchange, size);
    // Logged first: a client that gives up still finds its request in the log.
    if let Some(fault) = &fault {
        if silent {
            state
                .hold(std::time::Duration::from_secs(crate::script::SILENCE_LIMIT))
                .await;
            return Ok(fault::cut_short(response, 0));
        }
        if let Some(delay) = fault.delay {
            state.hold(std::time::Duration::from_secs_f64(delay)).await;
        }
        if fault.connection == Some(ConnectionFault::Close) {
            return Ok(fault::cut_short(response, 40));
        }
    }
    Ok(response)
}

/// The (first) `grant_type` of a token request's form.
fn grant_type(form: &crate::form::Form) -> Option<&str> {
    form.fields()
        .iter()
        .find(|f| f.name == "grant_type")
        .map(|f| f.value.as_str())
}

/// The whole body, or the refusal: too large (by `Content-Length` or as read), too slow
/// (`Limits::body_timeout`), or unreadable.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let limit = state.config().limits.body_timeout;
    let mut read = std::pin::pin!(axum::body::to_bytes(body, MAX_BODY_BYTES));
    // Most bodies are in hyper's buffer already: read them without arming a timer (the
    // timer, boxed, is only in the state of a request that waits for its body).
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let read = match first {
        Poll::Ready(done) => done,
        Poll::Pending => match Box::pin(tokio::time::timeout(limit, read)).await {
            Ok(done) => done,
            Err(_) => return Err(too_slow(limit)),
        },
    };
    read.map_err(|e| {
        let over_limit = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<http_body_util::LengthLimitError>())
            .is_some();
        if over_limit {
            too_large()
        } else {
            unreadable()
        }
    })
}

/// The SHOULD rule an answered request breaks by where it went: the token endpoint asked
/// of the API origin (the guide names oauth.onshape.com).
fn warning(origin: Origin, path: &str) -> Option<&'static crate::rules::Rule> {
    (origin == Origin::Api && path == "/oauth/token").then_some(crate::rules::TOKEN_AT_OAUTH_HOST)
}

/// The event a finished exchange counts as, for triggers.
fn event(path: &str, status: u16, form: Option<&[(String, String)]>) -> Option<Event> {
    if !(200..300).contains(&status) {
        return None;
    }
    if path == "/api" || path.starts_with("/api/") {
        return Some(Event::ApiSuccess);
    }
    if path != "/oauth/token" {
        return None;
    }
    let grant_type = form?
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str());
    match grant_type {
        Some("authorization_code") => Some(Event::CodeRedeemed),
        Some("refresh_token") => Some(Event::Refreshed),
        _ => None,
    }
}

/// Counts `event` and carries out what it fires, before the response leaves.
fn run_triggers(state: &AppState, event: Event) -> Vec<String> {
    let actions = state.script().observe(event);
    actions
        .into_iter()
        .map(|action| {
            let done = action.describe();
            match action {
                Action::Advance(secs) => {
                    let _ = state.advance_clock(std::time::Duration::from_secs(secs));
                }
                Action::Revoke { user, client_id } => {
                    let now = state.clock().now();
                    let mut store = state.store();
                    if let Some(id) = store.user_by_email(&user).map(|u| u.id.clone()) {
                        store.revoke_grant(&id, &client_id, None, now);
                    }
                }
                Action::DeleteKey { access_key } => {
                    let now = state.clock().now();
                    state.store().delete_api_key(&access_key, now);
                }
                Action::Fault(f) => state.script().arm(f),
            }
            done
        })
        .collect()
}

fn too_large() -> Response {
    let hint = format!(
        "The body exceeds {} KiB: send a smaller body.",
        MAX_BODY_BYTES / 1024
    );
    body_refused(
        crate::rules::REQUEST_SIZE,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body too large",
        hint,
    )
}

/// The body did not arrive in time: 408, and the connection closes (its unread rest would
/// otherwise be taken for the next request).
fn too_slow(limit: std::time::Duration) -> Response {
    let hint = format!(
        "The body did not arrive within {} s: send it right after the head, without pauses.",
        limit.as_secs_f64()
    );
    let mut resp = body_refused(
        crate::rules::REQUEST_TIMEOUT,
        StatusCode::REQUEST_TIMEOUT,
        "request body timed out",
        hint,
    );
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

fn unreadable() -> Response {
    let hint = "The body ended early or its transfer encoding is malformed: send a complete body with a correct Content-Length.";
    body_refused(
        crate::rules::REQUEST_SIZE,
        StatusCode::BAD_REQUEST,
        "request body could not be read",
        hint.to_owned(),
    )
}

/// Refuses a request whose body never reached a route (RFC 6749 error shape, not cached).
fn body_refused(
    rule: &'static crate::rules::Rule,
    status: StatusCode,
    description: &str,
    hint: String,
) -> Response {
    let body = serde_json::json!({
        "error": "invalid_request",
        "error_description": description,
        "hint": hint,
        "rule": rule.id,
    });
    let mut resp = (status, crate::error::no_store(), axum::Json(body)).into_response();
    resp.extensions_mut().insert(Outcome {
        rule: rule.id,
        hint,
    });
    resp
}

fn masked_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let v = String::from_utf8_lossy(value.as_bytes());
            let shown = if name == header::AUTHORIZATION || name == header::PROXY_AUTHORIZATION {
                mask::mask_authorization(&v)
            } else if name == header::LOCATION {
                mask::mask_query_in_url(&v)
            } else if name == header::COOKIE || name == header::SET_COOKIE {
                "(masked)".to_owned()
            } else {
                v.into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// The form fields of a form body, masked by name. A body that does not parse as a form
/// (JSON under the form content type, a body encoded as a whole) is logged as one decoded
/// text, scrubbed.
fn masked_form(bytes: &Bytes, parsed: Option<&crate::form::Form>) -> Vec<(String, String)> {
    let plain_name = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.[]".contains(&b))
    };
    match parsed {
        Some(form) if form.fields().iter().all(|f| plain_name(&f.name)) => mask::mask_pairs(
            form.fields()
                .iter()
                .map(|f| (f.name.as_str(), f.value.as_str())),
        ),
        _ => {
            let text = percent_encoding::percent_decode(bytes)
                .decode_utf8_lossy()
                .replace('+', " ");
            vec![("(unparsed body)".to_owned(), mask::scrub(&text))]
        }
    }
}
