//! HTML pages: login, consent, the out-of-band code page, the authorization error page and
//! the user's list of authorized applications. Templates live in `templates/` and are
//! compiled in; minijinja escapes every value (the names end in `.html`).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

use crate::error::{Outcome, Rejection};
use crate::state::AppState;

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let templates = [
        ("base.html", include_str!("../templates/base.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("consent.html", include_str!("../templates/consent.html")),
        ("oob.html", include_str!("../templates/oob.html")),
        ("error.html", include_str!("../templates/error.html")),
        ("grants.html", include_str!("../templates/grants.html")),
    ];
    for (name, source) in templates {
        if let Err(e) = env.add_template(name, source) {
            // Templates are compiled in and covered by snapshot tests.
            panic!("template {name} does not parse: {e}");
        }
    }
    env
}

/// Renders `name` with `ctx`; a rendering failure is a 500 that says so.
pub fn render(state: &AppState, status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
    let rendered = state
        .templates()
        .get_template(name)
        .and_then(|t| t.render(ctx));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template {name} failed: {e:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("template {name} failed: {e}"),
            )
                .into_response()
        }
    }
}

/// The 400 page for a request that cannot be redirected (unknown client, bad redirect URI).
pub fn error_page(state: &AppState, status: StatusCode, r: &Rejection) -> Response {
    let mut resp = render(
        state,
        status,
        "error.html",
        minijinja::context! {
            error => r.code.as_str(),
            description => r.description,
            hint => r.hint,
            rule => r.rule.id,
            doc => r.rule.doc,
        },
    );
    resp.extensions_mut().insert(r.outcome());
    resp
}

/// The page shown for `urn:ietf:wg:oauth:2.0:oob`: `Success code=…` or `Error description=…`
/// in the title.
pub fn oob_page(state: &AppState, code: Option<&str>, error: Option<(&str, &str)>) -> Response {
    let (err, description) = error.unwrap_or(("", ""));
    render(
        state,
        StatusCode::OK,
        "oob.html",
        minijinja::context! { code => code, error => err, description => description },
    )
}

pub fn with_outcome(mut resp: Response, outcome: Option<Outcome>) -> Response {
    if let Some(o) = outcome {
        resp.extensions_mut().insert(o);
    }
    resp
}
