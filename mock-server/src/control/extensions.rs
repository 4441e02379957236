//! `/__mock/apps/{client_id}/extensions` and `/__mock/extensions/{id}`: the Extensions tab —
//! list, add (the form's rules; the answer lists placeholder warnings), delete — and firing:
//! the mock plays the user's click, substitutes the placeholders, appends Onshape's query
//! parameters and performs the GET or POST against the app (loopback only, the 180 s
//! timeout), or says which URL a window, panel or tab would open; then judges the answer.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::apps::{acting, AsQuery};
use super::json_body;
use crate::error::ControlError;
use crate::state::AppState;
use crate::store::extensions::{Extension, ExtensionForm};
use crate::store::firing::{judge, FireContext, Prepared};

/// The most of an app's answer kept in the report.
const MAX_ANSWER: usize = 16 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/apps/{client_id}/extensions", get(list).post(add))
        .route("/__mock/extensions/{id}", get(read).delete(remove))
        .route("/__mock/extensions/{id}/fire", post(fire))
}

pub(crate) fn extension_json(e: &Extension) -> Value {
    json!({
        "id": e.id,
        "client_id": e.client_id,
        "name": e.name,
        "description": e.description,
        "location": e.location.as_str(),
        "context": e.context.map(|c| c.as_str()),
        "action_url": e.action_url,
        "action_type": e.action_type.map(|t| t.as_str()),
        "action_body": e.action_body,
        "show_response": e.show_response,
        "icon": e.icon,
        "created_at": e.created_at.rfc3339(),
        "warnings": e.warnings(),
    })
}

async fn list(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let store = state.store();
    store.require_app(&client_id)?;
    let rows: Vec<Value> = store
        .extensions_of(&client_id)
        .into_iter()
        .map(extension_json)
        .collect();
    Ok(Json(json!({ "extensions": rows })))
}

async fn add(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (as_user, form): (_, ExtensionForm) = acting(&body)?;
    let now = state.clock().now();
    let ext = state
        .store()
        .add_extension(&client_id, form, as_user.as_deref(), now)?;
    Ok((StatusCode::CREATED, Json(extension_json(&ext))).into_response())
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let store = state.store();
    let ext = store
        .extension(&id)
        .ok_or_else(|| ControlError::not_found(format!("no extension has the id `{id}`")))?;
    Ok(Json(extension_json(ext)))
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Result<StatusCode, ControlError> {
    state.store().delete_extension(&id, q.as_user.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the mock may call this URL: plain http on loopback (the app on this machine).
fn loopback_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    })
}

/// Performs the action: (status, body) or why there was no answer.
async fn perform(
    p: &Prepared,
    method: &str,
    timeout: std::time::Duration,
) -> Result<(u16, String), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?,
        &p.url,
    );
    if let Some(body) = &p.body {
        req = req
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            "timed out".to_owned()
        } else {
            e.to_string()
        }
    })?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ANSWER)]).into_owned();
    Ok((status, text))
}

async fn fire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let ctx: FireContext = json_body(&body)?;
    fire_and_judge(&state, &id, &ctx).await.map(Json)
}

/// Fires the extension as `ctx` says and judges the answer (the control API's and the
/// portal's Fire button).
pub(crate) async fn fire_and_judge(
    state: &AppState,
    id: &str,
    ctx: &FireContext,
) -> Result<Value, ControlError> {
    let api_base = state
        .urls()
        .map_or_else(|| "http://127.0.0.1".to_owned(), |u| u.api.clone());
    // The store's lock is released before the app is called.
    let prepared = state.store().prepare_fire(id, ctx, &api_base)?;
    let timeout = state.config().extension_timeout;
    let mut problems = prepared.problems.clone();
    let mut out = json!({
        "extension": extension_json(&prepared.extension),
        "url": prepared.url,
        "method": prepared.method,
        "body": prepared.body,
        "placeholders": prepared.report_json(),
    });
    match prepared.method {
        None => {
            out["opens"] = json!(prepared.url);
            out["performed"] = json!(false);
        }
        Some(method) if loopback_http(&prepared.url) => {
            let answer = perform(&prepared, method, timeout).await;
            if let Ok((status, text)) = &answer {
                out["status"] = json!(status);
                out["response"] = json!(text);
            }
            problems.extend(judge(&prepared.extension, answer, timeout.as_secs()));
            out["performed"] = json!(true);
        }
        Some(_) => {
            out["performed"] = json!(false);
            out["not_performed_because"] = json!("the mock calls apps on loopback over plain http only (http://localhost:PORT or 127.0.0.1): point the action URL at the app running on this machine to have it called");
        }
    }
    out["problems"] = json!(problems
        .iter()
        .map(|p| json!({ "rule": p.rule, "message": p.message }))
        .collect::<Vec<_>>());
    out["ok"] = json!(problems.is_empty());
    Ok(out)
}
