//! `/__mock/apps` and `/__mock/store-entries`: the OAuth applications page of the developer
//! settings as JSON — register (the secret once), read, edit settings and permissions,
//! regenerate the secret (once), add and remove users, transfer, delete; store entries.
//!
//! Every change may name the acting user as `as` (a JSON field; `?as=` on a DELETE): the
//! settings page's who-may-do-what applies to them. Without `as` the control API acts as the
//! mock's operator, allowed everything the rules allow.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::json_body;
use crate::error::ControlError;
use crate::model::{
    App, AppRegistration, AppSettings, Member, Owner, StoreEntry, StoreEntryForm, Visibility,
};
use crate::rules;
use crate::state::AppState;
use crate::store::Store;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/apps", get(list).post(create))
        .route("/__mock/apps/{client_id}", get(read).delete(remove))
        .route("/__mock/apps/{client_id}/settings", post(settings))
        .route("/__mock/apps/{client_id}/scopes", post(scopes))
        .route("/__mock/apps/{client_id}/secret", post(regenerate))
        .route("/__mock/apps/{client_id}/transfer", post(transfer))
        .route("/__mock/apps/{client_id}/users", post(add_user))
        .route(
            "/__mock/apps/{client_id}/users/{member}",
            axum::routing::delete(remove_user),
        )
        .route(
            "/__mock/store-entries",
            get(list_entries).post(create_entry),
        )
        .route(
            "/__mock/store-entries/{id}",
            get(read_entry).post(update_entry).delete(delete_entry),
        )
        .route("/__mock/store-entries/{id}/publish", post(publish_entry))
        .route("/__mock/launches", get(launches))
}

/// Integrated apps opened from the Applications page, and whether each sent the user back
/// through `redirectOnshapeUri` after a grant.
async fn launches(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let rows: Vec<Value> = store
        .launches()
        .map(|l| {
            json!({
                "id": l.id, "client_id": l.client_id,
                "user": store.user(&l.user_id).map(|u| u.email.clone()),
                "at": l.at.rfc3339(),
                "returned_at": l.returned.map(|(at, _)| at.rfc3339()),
                "granted_before_return": l.returned.map(|(_, g)| g),
            })
        })
        .collect();
    Json(json!({ "launches": rows }))
}

/// A JSON body whose optional `as` names the acting user; the rest parses strictly as `T`.
pub(super) fn acting<T: DeserializeOwned>(
    body: &[u8],
) -> Result<(Option<String>, T), ControlError> {
    let mut value: Value = json_body(body)?;
    let as_user = match value.as_object_mut().and_then(|o| o.remove("as")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("as"),
                "`as` is a user's email",
            ))
        }
    };
    let parsed = serde_json::from_value(value).map_err(|e| {
        let field = e.to_string().split('`').nth(1).map(str::to_owned);
        ControlError::bad_request(
            rules::CONTROL_REQUEST,
            field.as_deref(),
            format!("invalid JSON body: {e}"),
        )
    })?;
    Ok((as_user, parsed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AsQuery {
    #[serde(rename = "as")]
    pub(super) as_user: Option<String>,
}

fn owner_json(store: &Store, owner: Option<&Owner>) -> Value {
    match owner {
        Some(Owner::Company(c)) => json!({
            "company_id": c, "name": store.company(c).map(|c| c.name.clone()),
        }),
        Some(Owner::User(u)) => json!({ "user": store.user(u).map(|u| u.email.clone()) }),
        None => Value::Null,
    }
}

pub(crate) fn app_json(store: &Store, app: &App) -> Value {
    let members: Vec<Value> = app
        .members
        .iter()
        .map(|m| match m {
            Member::User(id) => json!({
                "id": id, "kind": "user",
                "name": store.user(id).map(|u| u.email.clone()),
            }),
            Member::Group(id) => {
                let g = store.group(id);
                json!({
                    "id": id, "kind": g.map_or("group", |g| g.kind.as_str()),
                    "name": g.map(|g| g.name.clone()),
                })
            }
        })
        .collect();
    json!({
        "name": app.name,
        "summary": app.summary,
        "primary_format": app.primary_format,
        "client_id": app.client_id,
        "redirect_urls": app.redirect_uris.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "scopes": app.scopes.names(),
        "type": app.app_type.as_str(),
        "oauth_url": app.oauth_url,
        "supports_collaboration": app.supports_collaboration,
        "owner": owner_json(store, app.owner.as_ref()),
        "created_by": app.created_by.as_ref().and_then(|u| store.user(u)).map(|u| u.email.clone()),
        "created_at": app.created_at.rfc3339(),
        "users": members,
        "store_entry": store.store_entry_of(&app.client_id).map(|e| e.id.clone()),
        "secret_regenerated_at": app.previous_secrets.first().map(|(_, at)| at.rfc3339()),
        "scopes_changed_at": app.scopes_changed_at.map(|at| at.rfc3339()),
        "rate_limit": app.rate_limit,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// A company id or a user's email: only that owner's apps (the owner's list).
    owner: Option<String>,
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Json<Value> {
    let store = state.store();
    let wanted = q.owner.as_deref().map(|o| match store.user_by_email(o) {
        Some(u) => Owner::User(u.id.clone()),
        None => Owner::Company(o.to_owned()),
    });
    let mut apps: Vec<Value> = store
        .apps()
        .filter(|a| wanted.is_none() || a.owner == wanted)
        .map(|a| app_json(&store, a))
        .collect();
    apps.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Json(json!({ "apps": apps }))
}

async fn create(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let reg: AppRegistration = json_body(&body)?;
    if reg.client_id.is_some() || reg.client_secret.is_some() {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some(if reg.client_id.is_some() {
                "client_id"
            } else {
                "client_secret"
            }),
            "credentials are issued by the mock; fixed ones belong in a fixtures file",
        ));
    }
    let now = state.clock().now();
    let mut store = state.store();
    let app = store.register_app(reg, now)?;
    let mut body = app_json(&store, &app);
    body["client_secret"] = json!(app.client_secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn read(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let store = state.store();
    let app = store.require_app(&client_id)?;
    Ok(Json(app_json(&store, app)))
}

async fn settings(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, edit): (_, AppSettings) = acting(&body)?;
    let mut store = state.store();
    let app = store.update_app(&client_id, edit, as_user.as_deref())?;
    Ok(Json(app_json(&store, &app)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scopes {
    scopes: Vec<String>,
}

async fn scopes(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, req): (_, Scopes) = acting(&body)?;
    let now = state.clock().now();
    let mut store = state.store();
    let (app, narrowed) = store.set_app_scopes(&client_id, &req.scopes, as_user.as_deref(), now)?;
    let mut body = app_json(&store, &app);
    body["narrowed_tokens"] = json!(narrowed);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn regenerate(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, Nothing {}) = acting(if body.is_empty() { b"{}" } else { &body })?;
    let now = state.clock().now();
    let mut store = state.store();
    let secret = store.regenerate_secret(&client_id, as_user.as_deref(), now)?;
    let app = store.app(&client_id).cloned();
    let mut body = app.map_or(Value::Null, |a| app_json(&store, &a));
    body["client_secret"] = json!(secret);
    Ok(Json(body))
}

async fn remove(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Result<Json<Value>, ControlError> {
    let now = state.clock().now();
    let (app, grants) = state
        .store()
        .delete_app(&client_id, q.as_user.as_deref(), now)?;
    Ok(Json(
        json!({ "deleted": app.client_id, "name": app.name, "revoked_grants": grants }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    /// A user's email, or a company id.
    to: String,
}

async fn transfer(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, req): (_, Transfer) = acting(&body)?;
    let now = state.clock().now();
    let mut store = state.store();
    let app = store.transfer_app(&client_id, &req.to, as_user.as_deref(), now)?;
    Ok(Json(app_json(&store, &app)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddUser {
    /// A user's email, or a team's or alias's id.
    member: String,
}

async fn add_user(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, req): (_, AddUser) = acting(&body)?;
    let mut store = state.store();
    let app = store.add_app_member(&client_id, &req.member, as_user.as_deref())?;
    Ok(Json(app_json(&store, &app)))
}

async fn remove_user(
    State(state): State<AppState>,
    Path((client_id, member)): Path<(String, String)>,
    Query(q): Query<AsQuery>,
) -> Result<Json<Value>, ControlError> {
    let mut store = state.store();
    let app = store.remove_app_member(&client_id, &member, q.as_user.as_deref())?;
    Ok(Json(app_json(&store, &app)))
}

// ----- store entries ---------------------------------------------------------------------

pub(crate) fn entry_json(store: &Store, e: &StoreEntry) -> Value {
    let app = store.app(&e.client_id);
    let (visibility, teams) = match &e.visibility {
        Visibility::Nobody => ("none", Vec::new()),
        Visibility::AllInternal => ("all", Vec::new()),
        Visibility::Teams(t) => ("teams", t.clone()),
    };
    json!({
        "id": e.id,
        "client_id": e.client_id,
        "name": app.map(|a| a.name.clone()),
        "summary": app.map(|a| a.summary.clone()),
        "type": e.app_type.as_str(),
        "category": e.category,
        "visibility": visibility,
        "teams": teams,
        "description": e.description,
        "support_url": e.support_url,
        "support_email": e.support_email,
        "vendor": e.vendor,
        "version": e.version,
        "published": e.published,
        "created_at": e.created_at.rfc3339(),
    })
}

async fn list_entries(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let entries: Vec<Value> = store
        .store_entries()
        .iter()
        .map(|e| entry_json(&store, e))
        .collect();
    Json(json!({ "entries": entries }))
}

/// `client_id` and the form's fields (checked strictly as [`StoreEntryForm`]).
#[derive(Deserialize)]
struct NewEntry {
    client_id: String,
    #[serde(flatten)]
    form: Value,
}

async fn create_entry(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let (as_user, req): (_, NewEntry) = acting(&body)?;
    let form: StoreEntryForm = serde_json::from_value(req.form).map_err(|e| {
        let field = e.to_string().split('`').nth(1).map(str::to_owned);
        ControlError::bad_request(
            rules::STORE_ENTRY,
            field.as_deref(),
            format!("invalid store entry: {e}"),
        )
    })?;
    let now = state.clock().now();
    let mut store = state.store();
    let entry = store.create_store_entry(&req.client_id, form, as_user.as_deref(), now)?;
    Ok((StatusCode::CREATED, Json(entry_json(&store, &entry))).into_response())
}

async fn read_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let store = state.store();
    let entry = store
        .store_entry(&id)
        .ok_or_else(|| ControlError::not_found(format!("no store entry has the id `{id}`")))?;
    Ok(Json(entry_json(&store, entry)))
}

async fn update_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let (as_user, form): (_, StoreEntryForm) = acting(&body)?;
    let now = state.clock().now();
    let mut store = state.store();
    let entry = store.update_store_entry(&id, form, as_user.as_deref(), now)?;
    Ok(Json(entry_json(&store, &entry)))
}

async fn delete_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Result<StatusCode, ControlError> {
    state
        .store()
        .delete_store_entry(&id, q.as_user.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Publish {
    published: bool,
}

/// Onshape's review, simulated: a published entry's app is a public App Store app.
async fn publish_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: Publish = json_body(&body)?;
    let mut store = state.store();
    let entry = store.publish_store_entry(&id, req.published)?;
    Ok(Json(entry_json(&store, &entry)))
}
