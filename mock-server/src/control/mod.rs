//! The control API under `/__mock`: JSON, loopback only. Tests and the conformance runner
//! use it to move the clock, register applications, script consent, revoke grants, read
//! the request log and reset the mock.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

mod apikeys;
pub(crate) mod apps;
pub(crate) mod extensions;
mod openapi;
pub(crate) mod usage;

use crate::error::ControlError;
use crate::rules;
use crate::script::{Action, Fault, Trigger};
use crate::state::AppState;
use crate::store::ConsentScript;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/__mock/health", get(health))
        .route("/__mock/clock", get(clock))
        .route("/__mock/clock/advance", post(advance))
        .route("/__mock/consent", get(get_consent).post(set_consent))
        .route("/__mock/grants/revoke", post(revoke))
        .route("/__mock/requests", get(requests).delete(clear_requests))
        .route("/__mock/reset", post(reset))
        .route("/__mock/rules", get(rules_catalog))
        .route("/__mock/faults", post(add_fault))
        .route("/__mock/triggers", post(add_trigger))
        .route("/__mock/script", get(get_script))
        .merge(apikeys::routes())
        .merge(apps::routes())
        .merge(extensions::routes())
        .merge(openapi::routes())
        .merge(usage::routes())
        .merge(crate::inspector::routes())
        .layer(axum::middleware::from_fn_with_state(state, loopback_only))
}

/// The refusal for a request from anything but loopback (unless `--allow-remote-control`):
/// the control API and the developer portal change what the mock knows.
pub(crate) fn remote_refused(state: &AppState, req: &Request) -> Option<Response> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)?;
    if peer.ip().to_canonical().is_loopback() || state.config().remote_control {
        return None;
    }
    Some(
        ControlError {
            status: StatusCode::FORBIDDEN,
            error: "forbidden",
            field: None,
            rule: rules::CONTROL_REQUEST.id,
            message: format!(
                "the control API and the developer portal answer loopback clients only, not {} (serve --allow-remote-control answers others, e.g. in a container)",
                peer.ip()
            ),
        }
        .into_response(),
    )
}

/// Refuses control requests from anything but loopback (unless `--allow-remote-control`),
/// and POSTs that are not JSON.
async fn loopback_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(refused) = remote_refused(&state, &req) {
        return refused;
    }
    // A browser sends a cross-site POST without a preflight only with a "simple" type
    // (text/plain, a form): requiring JSON means a web page cannot reset the mock.
    if req.method() == axum::http::Method::POST
        && crate::media_type(req.headers()).as_deref() != Some("application/json")
    {
        return ControlError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: "unsupported_media_type",
            field: None,
            rule: rules::CONTROL_REQUEST.id,
            message: "control POSTs take Content-Type: application/json, even with no body (a web page cannot send that cross-site)".to_owned(),
        }
        .into_response();
    }
    next.run(req).await
}

/// Parses a JSON body strictly: known fields only. The content type was checked by
/// [`loopback_only`] for every POST.
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| {
        let field = e.to_string().split('`').nth(1).map(str::to_owned);
        ControlError::bad_request(
            rules::CONTROL_REQUEST,
            field.as_deref(),
            format!("invalid JSON body: {e}"),
        )
    })
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let tables: serde_json::Map<String, Value> = state
        .store()
        .sizes()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let urls = state.urls().map(|u| {
        let stacks: serde_json::Map<String, Value> = u
            .stacks
            .iter()
            .map(|(name, url)| (name.clone(), json!(url)))
            .collect();
        json!({ "oauth": u.oauth, "api": u.api, "stacks": stacks })
    });
    Json(json!({
        "status": "ok", "version": env!("CARGO_PKG_VERSION"), "tables": tables, "urls": urls,
    }))
}

fn clock_json(state: &AppState) -> Value {
    let now = state.clock().now();
    json!({
        "now": now.rfc3339(),
        "unix": now.unix_secs(),
        "unix_ms": now.0,
        "mode": state.clock().mode().as_str(),
        "offset_seconds": state.clock().offset().as_secs(),
    })
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

async fn advance(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let req: Advance = json_body(&body)?;
    state
        .advance_clock(Duration::from_secs(req.seconds))
        .map_err(|max| {
            ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("seconds"),
                format!(
                    "the clock may move at most {} years in all; POST /__mock/reset to start over",
                    max.as_secs() / (365 * 24 * 3600)
                ),
            )
        })?;
    Ok(Json(clock_json(&state)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Consent {
    decision: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    company_id: Option<String>,
}

fn consent_json(state: &AppState) -> Value {
    let store = state.store();
    match store.consent() {
        None => json!({ "decision": "prompt" }),
        Some(s) => json!({
            "decision": if s.grant { "grant" } else { "deny" },
            "user": store.user(&s.user_id).map(|u| u.email.clone()),
            "company_id": s.company_id,
        }),
    }
}

async fn get_consent(State(state): State<AppState>) -> Json<Value> {
    Json(consent_json(&state))
}

async fn set_consent(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: Consent = json_body(&body)?;
    let grant = match req.decision.as_str() {
        "grant" => true,
        "deny" => false,
        "prompt" => {
            state.store().set_consent(None);
            return Ok(Json(consent_json(&state)));
        }
        other => {
            return Err(ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("decision"),
                format!("decision `{other}`: use grant, deny or prompt"),
            ))
        }
    };
    let mut store = state.store();
    let Some(email) = req.user else {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("user"),
            "user (an email) is required",
        ));
    };
    let Some(user) = store.user_by_email(&email).cloned() else {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("user"),
            format!("no fixture user has the email `{email}`"),
        ));
    };
    if let Some(c) = &req.company_id {
        if !user.companies.contains(c) {
            return Err(ControlError::bad_request(
                rules::COMPANY_MEMBER,
                Some("company_id"),
                format!("{email} is not a member of company `{c}`"),
            ));
        }
    }
    store.set_consent(Some(ConsentScript {
        grant,
        user_id: user.id,
        company_id: req.company_id,
    }));
    drop(store);
    Ok(Json(consent_json(&state)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    user: String,
    client_id: String,
    /// Only the grant in this company (default: every company).
    #[serde(default)]
    company_id: Option<String>,
}

async fn revoke(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let req: Revoke = json_body(&body)?;
    let now = state.clock().now();
    let mut store = state.store();
    let Some(user_id) = store.user_by_email(&req.user).map(|u| u.id.clone()) else {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("user"),
            format!("no fixture user has the email `{}`", req.user),
        ));
    };
    let company = req.company_id.as_deref().map(Some);
    match store.revoke_grant(&user_id, &req.client_id, company, now) {
        0 => Err(ControlError::not_found(format!(
            "{} has not authorized client `{}`",
            req.user, req.client_id
        ))),
        n => Ok(Json(json!({ "revoked_grants": n }))),
    }
}

/// Most exchanges one `GET /__mock/requests` returns.
const MAX_PAGE: usize = 1_000;

/// The request log, a page at a time (`?after=ID&limit=N`), oldest first. The page is taken
/// under the lock as shared handles and serialized one exchange at a time as the body
/// streams, so a full log never becomes one big buffer.
async fn requests(
    State(state): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, ControlError> {
    let (after, limit) = page_params(uri.query().unwrap_or(""))?;
    let (page, dropped, last) = {
        let log = state.log();
        (log.page(after, limit), log.dropped(), log.last_id())
    };
    let next = match page.last() {
        Some(e) if Some(e.id) != last => Some(e.id),
        _ => None,
    };
    let head = format!(
        "{{\"dropped\":{dropped},\"next_after\":{},\"requests\":[",
        next.map_or("null".to_owned(), |n| n.to_string())
    );
    let count = page.len();
    let items = page.into_iter().enumerate().map(move |(i, e)| {
        let mut chunk = if i == 0 { Vec::new() } else { vec![b','] };
        // An `Exchange` is strings and numbers: serializing it cannot fail.
        let _ = serde_json::to_writer(&mut chunk, e.as_ref());
        if i + 1 == count {
            chunk.push(b']');
            chunk.push(b'}');
        }
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(chunk))
    });
    let tail = (count == 0).then(|| Ok(axum::body::Bytes::from_static(b"]}")));
    let chunks = std::iter::once(Ok(axum::body::Bytes::from(head)))
        .chain(items)
        .chain(tail);
    let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `after` (an exchange id; default 0, from the start) and `limit` (1 to 1,000; default
/// 1,000).
fn page_params(query: &str) -> Result<(u64, usize), ControlError> {
    let bad = |m: String| ControlError::bad_request(rules::CONTROL_REQUEST, None, m);
    let form = crate::form::parse(query.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let (mut after, mut limit) = (0, MAX_PAGE);
    for f in form.fields() {
        match f.name.as_str() {
            "after" => {
                after = f
                    .value
                    .parse()
                    .map_err(|_| bad("`after` takes an exchange id (a whole number)".to_owned()))?
            }
            "limit" => {
                limit = f
                    .value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| bad(format!("`limit` takes 1 to {MAX_PAGE}")))?
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter `{other}`: the request log takes `after` and `limit`"
                )))
            }
        }
    }
    Ok((after, limit))
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.log().clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.reset();
    Json(json!({ "status": "reset" }))
}

async fn add_fault(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let fault: Fault = json_body(&body)?;
    fault
        .check()
        .map_err(|m| ControlError::bad_request(rules::CONTROL_REQUEST, None, m))?;
    state.script().arm(fault);
    Ok((StatusCode::CREATED, Json(state.script().describe())).into_response())
}

async fn add_trigger(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let trigger: Trigger = json_body(&body)?;
    if trigger.count == 0 {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("count"),
            "count must be at least 1",
        ));
    }
    if let Action::Fault(f) = &trigger.action {
        f.check()
            .map_err(|m| ControlError::bad_request(rules::CONTROL_REQUEST, Some("action"), m))?;
    }
    state.script().add_trigger(trigger);
    Ok((StatusCode::CREATED, Json(state.script().describe())).into_response())
}

async fn get_script(State(state): State<AppState>) -> Json<Value> {
    Json(state.script().describe())
}

async fn rules_catalog() -> Json<Value> {
    Json(json!({ "rules": crate::rules::ALL }))
}
