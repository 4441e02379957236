//! The API keys page (create with the secret once, delete) and the API usage page (the
//! year's calls against the limit, the rate limit, the notifications).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::apps::secret_page;
use super::{
    field, fields, posted, query_as, render, scope_boxes, see_other, who, Ctx, Page, PageError,
};
use crate::domain::ScopeSet;
use crate::error::ControlError;
use crate::state::AppState;
use crate::store::apikeys::NewKey;
use crate::store::usage::Limited;

/// `GET /developer/{ctx}/keys?as=`.
pub async fn page(State(state): State<AppState>, Path(ctx): Path<String>, uri: Uri) -> Response {
    let (as_user, _) = query_as(&uri);
    keys_page(&state, as_user.as_deref(), &ctx, None)
}

fn keys_page(
    state: &AppState,
    as_user: Option<&str>,
    ctx: &str,
    error: Option<&ControlError>,
) -> Response {
    let store = state.store();
    let who = match who(&store, as_user, ctx) {
        Ok(w) => w,
        Err(e) => {
            drop(store);
            return super::refused(state, &e);
        }
    };
    let company = who.company_id();
    let keys: Vec<_> = store
        .api_keys()
        .list()
        .into_iter()
        .filter(|k| k.company_id == company && (company.is_some() || k.user_id == who.user.id))
        .map(|k| {
            minijinja::context! {
                name => k.name, access_key => k.access_key, scopes => k.scopes.to_string(),
                user => store.user(&k.user_id).map(|u| u.email.clone()),
                created => k.created_at.human(), created_iso => k.created_at.rfc3339(),
            }
        })
        .collect();
    let key_users: Vec<_> = store
        .users()
        .iter()
        .filter(|u| match &company {
            Some(c) => u.companies.contains(c),
            None => u.id == who.user.id,
        })
        .map(|u| minijinja::context! { email => u.email, name => u.name })
        .collect();
    drop(store);
    render(
        state,
        &who,
        Page {
            status: error.map_or(StatusCode::OK, |e| e.status),
            template: "portal_keys.html",
            section: "keys",
            heading: "API keys",
            error: error.map(PageError::from),
            notice: None,
        },
        minijinja::context! { keys, key_users, scopes => scope_boxes(ScopeSet::EMPTY) },
    )
}

/// `POST /developer/{ctx}/keys`: the create form; the secret key shown once.
pub async fn create(
    State(state): State<AppState>,
    Path(ctx): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, as_user) = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let now = state.clock().now();
    let created = {
        let mut store = state.store();
        who(&store, Some(&as_user), &ctx).and_then(|w| {
            let scopes = crate::model::permission_scopes(&fields(&form, "scope"))?;
            let user_id = store
                .user_by_email(field(&form, "user"))
                .map(|u| u.id.clone())
                .ok_or_else(|| {
                    ControlError::bad_request(
                        crate::rules::CONTROL_REQUEST,
                        Some("user"),
                        "choose a user",
                    )
                })?;
            let new = NewKey {
                name: field(&form, "name").trim().to_owned(),
                user_id,
                company_id: w.company_id(),
                scopes,
                stack: crate::server::DEFAULT_STACK.to_owned(),
            };
            let key = store.create_api_key_as(new, Some(&w.user.email), now)?;
            Ok((w, key))
        })
    };
    match created {
        Ok((w, key)) => secret_page(
            &state,
            &w,
            "Copy the API key and secret key",
            vec![
                ("Access key", "access-key", key.access_key.clone()),
                ("Secret key", "secret-key", key.secret_key.clone()),
            ],
            w.link("keys"),
        ),
        Err(e) => keys_page(&state, Some(&as_user), &ctx, Some(&e)),
    }
}

/// `POST /developer/{ctx}/keys/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(ctx): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, as_user) = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let now = state.clock().now();
    let result = {
        let mut store = state.store();
        who(&store, Some(&as_user), &ctx).and_then(|w| {
            store.delete_api_key_as(field(&form, "access_key"), Some(&w.user.email), now)?;
            Ok(w)
        })
    };
    match result {
        Ok(w) => see_other(w.link("keys")),
        Err(e) => keys_page(&state, Some(&as_user), &ctx, Some(&e)),
    }
}

/// `GET /developer/{ctx}/usage?as=`.
pub async fn usage(State(state): State<AppState>, Path(ctx): Path<String>, uri: Uri) -> Response {
    let (as_user, _) = query_as(&uri);
    let now = state.clock().now();
    let store = state.store();
    let who = match who(&store, as_user.as_deref(), &ctx) {
        Ok(w) => w,
        Err(e) => {
            drop(store);
            return super::refused(&state, &e);
        }
    };
    let party = who.party();
    let s = store.standing(&party, now);
    let percent = s
        .calls
        .saturating_mul(100)
        .checked_div(s.limit)
        .unwrap_or(0);
    let plan = match &who.ctx {
        Ctx::Company(c) => c.plan.as_str(),
        Ctx::Me => who.user.plan.as_str(),
    };
    let rate_limit = match &who.ctx {
        Ctx::Company(c) => store
            .rate_limits()
            .find(|(on, _)| **on == Limited::Company(c.id.clone()))
            .map(|(_, l)| format!("{} calls per {} s", l.calls, l.per_seconds)),
        Ctx::Me => None,
    };
    let recipients = store.recipients(&party);
    let notifications: Vec<_> = store
        .notifications()
        .rev()
        .filter(|n| n.to.iter().any(|t| recipients.contains(t)))
        .map(|n| {
            minijinja::context! {
                subject => n.subject, body => n.body, to => n.to.join(", "),
                at => n.at.human(), at_iso => n.at.rfc3339(),
            }
        })
        .collect();
    drop(store);
    render(
        &state,
        &who,
        Page {
            status: StatusCode::OK,
            template: "portal_usage.html",
            section: "usage",
            heading: "API usage",
            error: None,
            notice: None,
        },
        minijinja::context! {
            standing => minijinja::context! {
                calls => s.calls, limit => s.limit, remaining => s.remaining(), percent, plan,
                year => now.year(), bar => percent.min(100),
            },
            rate_limit, notifications,
        },
    )
}
