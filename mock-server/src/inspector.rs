//! The request inspector: `GET /__mock/ui`, a page that shows the log as it grows (the rule
//! broken and the hint highlighted, filters by path and rule), and `GET /__mock/requests.har`,
//! the log as HAR 1.2. Both are control routes (loopback only); neither is logged itself.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::pages;
use crate::record::har;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/ui", get(page))
        .route("/__mock/requests.har", get(har_log))
}

async fn page(State(state): State<AppState>) -> Response {
    pages::render(
        &state,
        StatusCode::OK,
        "inspector.html",
        minijinja::context! {},
    )
}

/// The whole log (bounded: README's Limits) as one HAR document.
async fn har_log(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (oauth, api) = match state.urls() {
        Some(u) => (u.oauth.clone(), u.api.clone()),
        // A router without sockets: the origin the request named.
        None => {
            let here = crate::api::base_url(&headers);
            (here.clone(), here)
        }
    };
    let entries = {
        let log = state.log();
        log.page(0, usize::MAX)
    }
    .iter()
    .map(|e| har::entry(e, &oauth, &api))
    .collect();
    let doc = har::document(
        entries,
        ("onshape-mock", env!("CARGO_PKG_VERSION")),
        "onshape-mock request log: secrets masked, codes and tokens as fingerprints".to_owned(),
    );
    match har::to_json(&doc) {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"onshape-mock.har\"",
                ),
            ],
            json,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the HAR document could not be written: {e}"),
        )
            .into_response(),
    }
}
