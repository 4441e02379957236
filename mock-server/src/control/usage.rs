//! `/__mock/usage`, `/__mock/rate-limits`, `/__mock/notifications`: API usage per company and
//! user against its annual limit (read, or set for a test), short-term rate limits per
//! company or app, and the outbox of notifications the mock "sent".

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::json_body;
use crate::error::ControlError;
use crate::model::RateLimit;
use crate::rules;
use crate::state::AppState;
use crate::store::usage::{Limited, Party};
use crate::store::Store;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/usage", get(usage).post(set_usage))
        .route("/__mock/rate-limits", get(rate_limits).post(set_rate_limit))
        .route("/__mock/notifications", get(notifications).delete(clear))
}

/// One party's year: calls, limit, remaining, percent.
pub(crate) fn standing_json(store: &Store, party: &Party, now: crate::clock::Instant) -> Value {
    let s = store.standing(party, now);
    let (kind, id, name, plan) = match party {
        Party::Company(c) => {
            let company = store.company(c);
            (
                "company",
                c.clone(),
                company.map(|c| c.name.clone()),
                company.map(|c| c.plan.as_str()),
            )
        }
        Party::User(u) => {
            let user = store.user(u);
            (
                "user",
                u.clone(),
                user.map(|u| u.email.clone()),
                user.map(|u| u.plan.as_str()),
            )
        }
    };
    json!({
        "kind": kind, "id": id, "name": name, "plan": plan,
        "year": now.year(),
        "calls": s.calls, "limit": s.limit, "remaining": s.remaining(),
        "percent": s.calls.saturating_mul(100).checked_div(s.limit).unwrap_or(0),
    })
}

/// Every company, and every user with an account of their own that has calls or apps.
pub(crate) fn parties(store: &Store) -> Vec<Party> {
    store
        .companies()
        .iter()
        .map(|c| Party::Company(c.id.clone()))
        .chain(
            store
                .users()
                .iter()
                .filter(|u| !u.light)
                .map(|u| Party::User(u.id.clone())),
        )
        .collect()
}

async fn usage(State(state): State<AppState>) -> Json<Value> {
    let now = state.clock().now();
    let store = state.store();
    let rows: Vec<Value> = parties(&store)
        .iter()
        .map(|p| standing_json(&store, p, now))
        .collect();
    Json(json!({ "usage": rows }))
}

/// `company_id` or `user` (an email): exactly one.
fn party(
    store: &Store,
    company_id: Option<String>,
    user: Option<String>,
) -> Result<Party, ControlError> {
    let bad =
        |field: &str, m: String| ControlError::bad_request(rules::CONTROL_REQUEST, Some(field), m);
    match (company_id, user) {
        (Some(c), None) if store.company(&c).is_some() => Ok(Party::Company(c)),
        (Some(c), None) => Err(bad("company_id", format!("no company has the id `{c}`"))),
        (None, Some(email)) => store
            .user_by_email(&email)
            .map(|u| Party::User(u.id.clone()))
            .ok_or_else(|| bad("user", format!("no fixture user has the email `{email}`"))),
        _ => Err(bad(
            "company_id",
            "name exactly one of company_id and user".into(),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetUsage {
    company_id: Option<String>,
    user: Option<String>,
    calls: u64,
}

async fn set_usage(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: SetUsage = json_body(&body)?;
    let now = state.clock().now();
    let mut store = state.store();
    let party = party(&store, req.company_id, req.user)?;
    store.set_usage(party.clone(), req.calls, now);
    Ok(Json(standing_json(&store, &party, now)))
}

fn limited_json(on: &Limited, limit: RateLimit) -> Value {
    let (kind, id) = match on {
        Limited::Company(c) => ("company_id", c),
        Limited::App(a) => ("client_id", a),
    };
    json!({ kind: id, "calls": limit.calls, "per_seconds": limit.per_seconds })
}

async fn rate_limits(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let mut rows: Vec<Value> = store
        .rate_limits()
        .map(|(on, l)| limited_json(on, *l))
        .collect();
    rows.sort_by_key(|r| r.to_string());
    Json(json!({ "rate_limits": rows }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRateLimit {
    company_id: Option<String>,
    client_id: Option<String>,
    /// `null` lifts the limit.
    rate_limit: Option<RateLimit>,
}

async fn set_rate_limit(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ControlError> {
    let req: SetRateLimit = json_body(&body)?;
    let bad =
        |field: &str, m: String| ControlError::bad_request(rules::CONTROL_REQUEST, Some(field), m);
    if req
        .rate_limit
        .is_some_and(|r| r.calls == 0 || r.per_seconds == 0)
    {
        return Err(bad(
            "rate_limit",
            "calls and per_seconds must be above 0 (null lifts the limit)".into(),
        ));
    }
    let mut store = state.store();
    let on = match (req.company_id, req.client_id) {
        (Some(c), None) if store.company(&c).is_some() => Limited::Company(c),
        (Some(c), None) => return Err(bad("company_id", format!("no company has the id `{c}`"))),
        (None, Some(a)) if store.app(&a).is_some() => Limited::App(a),
        (None, Some(a)) => {
            return Err(bad(
                "client_id",
                format!("no application has the client id `{a}`"),
            ))
        }
        _ => {
            return Err(bad(
                "company_id",
                "name exactly one of company_id and client_id".into(),
            ))
        }
    };
    store.set_rate_limit(on.clone(), req.rate_limit);
    let body = match req.rate_limit {
        Some(l) => limited_json(&on, l),
        None => json!({ "lifted": true }),
    };
    Ok((StatusCode::OK, Json(body)))
}

pub(crate) fn notification_json(n: &crate::store::usage::Notification) -> Value {
    json!({
        "at": n.at.rfc3339(), "to": n.to, "subject": n.subject, "body": n.body, "kind": n.kind,
    })
}

async fn notifications(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let rows: Vec<Value> = store.notifications().map(notification_json).collect();
    Json(json!({ "notifications": rows }))
}

async fn clear(State(state): State<AppState>) -> StatusCode {
    state.store().clear_notifications();
    StatusCode::NO_CONTENT
}
