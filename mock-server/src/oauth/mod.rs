//! The authorization server: `/oauth/authorize` with its login and consent pages,
//! `/oauth/token`, and the user's list of authorized applications.
//!
//! - [`authorize`]: validates the authorization request, then either answers at once
//!   (scripted consent) or shows the login page; ends in a redirect with a code or an error,
//!   or the out-of-band page. [`consent`]: the login and consent pages, one pending
//!   authorization each, answered once.
//! - [`token`]: the token endpoint — request shape, client authentication, then the
//!   store's code redemption or refresh.
//! - [`grants`]: the "Applications" page where a user revokes a grant.

pub mod authorize;
pub mod consent;
pub mod grants;
pub mod token;

use axum::routing::{any, get, post};
use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize::authorize).post(authorize::not_get),
        )
        .route("/oauth/login", post(consent::login))
        .route(
            "/oauth/consent",
            get(consent::consent_page).post(consent::consent),
        )
        .route("/oauth/token", any(token::token))
        .route("/account/applications", get(grants::page))
        .route("/account/applications/revoke", post(grants::revoke))
        .route("/account/applications/open", get(grants::open))
        .route("/account/applications/return/{id}", get(grants::returned))
}
