//! The "Applications" page (My account → Applications in Onshape): a user sees the
//! applications they authorized and revokes one, and opens an Integrated Cloud App: the
//! browser goes to the app's OAuth URL with `redirectOnshapeUri`, and the mock notes whether
//! the app sends the user back there after a successful grant.

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
    let integrated: Vec<_> = store
        .apps()
        .filter(|a| a.app_type == crate::model::AppType::IntegratedCloud && a.oauth_url.is_some())
        .map(|a| minijinja::context! { client_id => a.client_id, name => a.name })
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
            users, grants, integrated,
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

/// `GET /account/applications/open?user=EMAIL&client_id=ID`: opens an Integrated Cloud App —
/// a redirect to its OAuth URL with `redirectOnshapeUri`, where the app should send the user
/// after a successful grant.
pub async fn open(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let Ok(query) = form::parse(uri.query().unwrap_or("").as_bytes()) else {
        return (StatusCode::BAD_REQUEST, "the query string does not parse").into_response();
    };
    let (Ok(Some(email)), Ok(Some(client_id))) = (query.value("user"), query.value("client_id"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "open takes `user` and `client_id`, once each",
        )
            .into_response();
    };
    let now = state.clock().now();
    let mut store = state.store();
    let Some(user_id) = store.user_by_email(email).map(|u| u.id.clone()) else {
        return (StatusCode::NOT_FOUND, "no fixture user has this email").into_response();
    };
    let launched = store.launch_app(client_id, &user_id, now);
    drop(store);
    match launched {
        Ok((launch, oauth_url)) => {
            let back = format!(
                "{}/account/applications/return/{}",
                crate::api::base_url(&headers),
                launch.id
            );
            let sep = if oauth_url.contains('?') { '&' } else { '?' };
            let to = format!(
                "{oauth_url}{sep}redirectOnshapeUri={}",
                form::encode_component(&back)
            );
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        Err(e) => {
            let r = crate::error::Rejection::new(
                crate::error::ErrorCode::InvalidRequest,
                crate::rules::by_id(e.rule).unwrap_or(crate::rules::CONTROL_REQUEST),
                e.message,
            );
            pages::error_page_after(&state, StatusCode::BAD_REQUEST, &r, "Nothing was opened.")
        }
    }
}

/// `GET /account/applications/return/{id}`: the app sent the user back to Onshape through
/// `redirectOnshapeUri`. Back before any grant is a refusal under `redirect-onshape-uri`.
pub async fn returned(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let now = state.clock().now();
    let mut store = state.store();
    let launch = store.launch_returned(&id, now);
    let app = launch
        .as_ref()
        .and_then(|l| store.app(&l.client_id))
        .map_or_else(|| "the application".to_owned(), |a| a.name.clone());
    drop(store);
    let Some(launch) = launch else {
        let r = crate::error::Rejection::new(
            crate::error::ErrorCode::InvalidRequest,
            crate::rules::REDIRECT_ONSHAPE_URI,
            "this redirectOnshapeUri was never handed out (or is long forgotten)",
        )
        .hint("Send the user to the redirectOnshapeUri value Onshape passed to your OAuth URL, unchanged.");
        return pages::error_page_after(&state, StatusCode::NOT_FOUND, &r, "Back in Onshape.");
    };
    match launch.returned {
        Some((_, true)) => pages::render(
            &state,
            StatusCode::OK,
            "grants.html",
            minijinja::context! { returned => app, users => Vec::<String>::new() },
        ),
        _ => {
            let r = crate::error::Rejection::new(
                crate::error::ErrorCode::AccessDenied,
                crate::rules::REDIRECT_ONSHAPE_URI,
                format!("{app} sent the user back to Onshape before the user granted it access"),
            )
            .hint("Send the user to redirectOnshapeUri after a successful grant: first /oauth/authorize, the callback, the code redeemed; then the redirect.");
            pages::error_page_after(
                &state,
                StatusCode::CONFLICT,
                &r,
                "Back in Onshape, without a grant.",
            )
        }
    }
}
