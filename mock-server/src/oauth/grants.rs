//! The "Applications" page (My account → Applications in Onshape): a user sees the
//! applications they authorized and revokes one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::form;
use crate::pages;
use crate::state::AppState;

/// `GET /account/applications[?user=EMAIL]`.
pub async fn page(State(state): State<AppState>, uri: Uri) -> Response {
    let Ok(query) = form::parse(uri.query().unwrap_or("").as_bytes()) else {
        return (
            StatusCode::BAD_REQUEST,
            "the query string does not parse: percent-encode the email",
        )
            .into_response();
    };
    let Ok(user) = query.value("user") else {
        return (StatusCode::BAD_REQUEST, "`user` appears more than once").into_response();
    };
    let store = state.store();
    let users: Vec<_> = store
        .users()
        .iter()
        .map(|u| minijinja::context! { email => u.email, name => u.name })
        .collect();
    let selected = user.and_then(|e| store.user_by_email(e)).cloned();
    let grants: Vec<_> = selected
        .as_ref()
        .map(|u| store.grants_of(&u.id))
        .unwrap_or_default()
        .into_iter()
        .map(|g| {
            minijinja::context! {
                client_id => g.client_id, app_name => g.app_name, company => g.company,
                company_id => g.company_id.unwrap_or_default(),
                scopes => g.scopes.to_string(), granted_at => g.granted_at.human(),
                granted_iso => g.granted_at.rfc3339(),
            }
        })
        .collect();
    drop(store);
    if user.is_some() && selected.is_none() {
        return (StatusCode::NOT_FOUND, "no fixture user has this email").into_response();
    }
    pages::render(
        &state,
        StatusCode::OK,
        "grants.html",
        minijinja::context! {
            users, grants,
            user_email => selected.as_ref().map(|u| u.email.clone()),
            user_name => selected.as_ref().map(|u| u.name.clone()),
            action => "/account/applications/revoke",
        },
    )
}

/// `POST /account/applications/revoke` with `user`, `client_id` and `company_id` (the grant
/// in that company only; empty for an individual account's grant; absent: every company).
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = form::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "the form does not parse").into_response();
    };
    if let Some(refused) = pages::form_refused(&state, &headers, &form) {
        return refused;
    }
    let (Some(email), Some(client_id)) = (
        form.value("user").ok().flatten(),
        form.value("client_id").ok().flatten(),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "the form needs `user` and `client_id`",
        )
            .into_response();
    };
    let now = state.clock().now();
    let mut store = state.store();
    let Some(user_id) = store.user_by_email(email).map(|u| u.id.clone()) else {
        return (StatusCode::NOT_FOUND, "no fixture user has this email").into_response();
    };
    let company = match form.value("company_id") {
        Ok(c) => c.map(|c| (!c.is_empty()).then_some(c)),
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "`company_id` appears more than once",
            )
                .into_response()
        }
    };
    store.revoke_grant(&user_id, client_id, company, now);
    drop(store);
    let back = format!("/account/applications?{}", form::encode(&[("user", email)]));
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}
