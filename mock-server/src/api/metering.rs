//! Metering an authenticated API call: the short-term windows (429 with `Retry-After`), the
//! annual limit (402), the count of a 2xx or 3xx answer, and `X-Rate-Limit-Remaining` on the
//! answer. The accounting is the store's (`store/metering.rs`); this is the wire.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::rules;
use crate::state::AppState;
use crate::store::TokenInfo;

/// Runs an authenticated call under the limits of whoever it counts toward
/// ([`Store::party_of`](crate::store::Store::party_of)): a short-term window over → 429 with
/// `Retry-After`; the year's calls spent → 402; else the call, counted if it answered 2xx or
/// 3xx. `X-Rate-Limit-Remaining` says the smallest of the year's and the window's remaining.
pub(super) fn metered(
    state: &AppState,
    token: &TokenInfo,
    call: impl FnOnce() -> Response,
) -> Response {
    use crate::store::usage::{Limited, Refusal};
    let now = state.clock().now();
    let admitted = state.store().admit_call(token, now);
    let (mut resp, remaining) = match admitted {
        Ok(m) => {
            let resp = call();
            let counts = resp.status().is_success() || resp.status().is_redirection();
            let mut store = state.store();
            let remaining = if counts {
                store.count_call(&m, now)
            } else {
                store.remaining(&m, now)
            };
            (resp, remaining)
        }
        Err((
            Refusal::RateLimited {
                on,
                limit,
                retry_after,
            },
            _,
        )) => {
            let what = match &on {
                Limited::Company(c) => {
                    let name = state.store().company(c).map(|c| c.name.clone());
                    format!("the company {}", name.as_deref().unwrap_or(c))
                }
                Limited::App(a) => {
                    let name = state.store().app(a).map(|a| a.name.clone());
                    format!("the application {}", name.as_deref().unwrap_or(a))
                }
            };
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                rules::API_RATE_LIMIT,
                format!("rate limited: {what} may make {} calls per {} s", limit.calls, limit.per_seconds),
            )
            .hint(format!("Wait {retry_after} s (Retry-After) before calling again; retrying sooner is refused the same way."))
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            (resp, 0)
        }
        Err((Refusal::Annual(s), party)) => {
            let whose = match &party {
                crate::store::usage::Party::Company(c) => state
                    .store()
                    .company(c)
                    .map_or_else(|| c.clone(), |c| format!("the company {}", c.name)),
                crate::store::usage::Party::User(u) => state
                    .store()
                    .user(u)
                    .map_or_else(|| u.clone(), |u| format!("{}'s own account", u.email)),
            };
            let resp = ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                rules::API_ANNUAL_LIMIT,
                format!("the annual API call limit is reached: {whose} has made {} of {} calls this year", s.calls, s.limit),
            )
            .hint("Only 2xx and 3xx calls count, per company for company apps and keys and per user for Developer Portal apps: make fewer calls (cache, batch) or raise the plan. The mock's usage resets on 1 January, or set it with POST /__mock/usage.")
            .into_response();
            (resp, 0)
        }
    };
    if let Ok(v) = HeaderValue::from_str(&remaining.to_string()) {
        resp.headers_mut().insert("x-rate-limit-remaining", v);
    }
    resp
}
