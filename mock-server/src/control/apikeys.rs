//! `/__mock/apikeys`: the API keys of the developer settings page — list (no secrets), create
//! (the secret key is shown only in this answer), delete (at once; cannot be undone).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::json_body;
use crate::error::ControlError;
use crate::model::ApiKey;
use crate::rules;
use crate::state::AppState;
use crate::store::apikeys::NewKey;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/apikeys", get(list).post(create))
        .route("/__mock/apikeys/{access_key}", delete(remove))
}

fn key_json(state: &AppState, k: &ApiKey) -> Value {
    let store = state.store();
    json!({
        "name": k.name,
        "access_key": k.access_key,
        "user": store.user(&k.user_id).map(|u| u.email.clone()),
        "company_id": k.company_id,
        "scopes": k.scopes.names(),
        "stack": k.stack,
        "created_at": k.created_at.rfc3339(),
    })
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    let keys: Vec<ApiKey> = state
        .store()
        .api_keys()
        .list()
        .into_iter()
        .cloned()
        .collect();
    let keys: Vec<Value> = keys.iter().map(|k| key_json(&state, k)).collect();
    Json(json!({ "keys": keys }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    user: String,
    scopes: Vec<String>,
    /// One of the user's companies; default: their only one, none for an individual account.
    #[serde(default)]
    company_id: Option<String>,
    /// The stack (default `cad.onshape.com`; another must be served: `serve --stack`).
    #[serde(default)]
    stack: Option<String>,
    /// The acting user: an admin of the key's company, or the key's user for an individual
    /// key (the My Account - Developer page).
    #[serde(default, rename = "as")]
    as_user: Option<String>,
}

async fn create(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: CreateKey = json_body(&body)?;
    let bad =
        |field: &str, m: String| ControlError::bad_request(rules::CONTROL_REQUEST, Some(field), m);
    let scopes = crate::model::permission_scopes(&req.scopes)?;
    let stack = match req.stack {
        None => crate::server::DEFAULT_STACK.to_owned(),
        Some(s) if s == crate::server::DEFAULT_STACK => s,
        Some(s)
            if state
                .urls()
                .is_some_and(|u| u.stacks.iter().any(|(n, _)| *n == s)) =>
        {
            s
        }
        Some(s) => {
            return Err(bad(
                "stack",
                format!(
                "this mock serves no stack `{s}` (serve --stack {s}=ADDR adds one); default: {}",
                crate::server::DEFAULT_STACK
            ),
            ))
        }
    };
    let now = state.clock().now();
    let key = {
        let mut store = state.store();
        let Some(user) = store.user_by_email(&req.user).cloned() else {
            return Err(bad(
                "user",
                format!("no fixture user has the email `{}`", req.user),
            ));
        };
        let company = match req.company_id {
            // One of the user's: checked by the store, with the other rules of a key.
            Some(c) => Some(c),
            None if user.companies.len() > 1 => {
                return Err(bad(
                    "company_id",
                    format!(
                        "{} is in several companies: name one ({})",
                        user.email,
                        user.companies.join(", ")
                    ),
                ))
            }
            None => user.companies.first().cloned(),
        };
        let new = NewKey {
            name: req.name,
            user_id: user.id,
            company_id: company,
            scopes,
            stack,
        };
        store.create_api_key_as(new, req.as_user.as_deref(), now)?
    };
    let mut body = key_json(&state, &key);
    body["secret_key"] = json!(key.secret_key);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    Path(access_key): Path<String>,
    Query(q): Query<super::apps::AsQuery>,
) -> Result<StatusCode, ControlError> {
    let now = state.clock().now();
    state
        .store()
        .delete_api_key_as(&access_key, q.as_user.as_deref(), now)?;
    Ok(StatusCode::NO_CONTENT)
}
