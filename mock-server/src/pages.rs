//! HTML pages: login, consent, the out-of-band code page, the authorization error page and
//! the user's list of authorized applications. Templates live in `templates/` and are
//! compiled in; minijinja escapes every value (the names end in `.html`).

use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

use crate::error::{ErrorCode, Outcome, Rejection};
use crate::form::Form;
use crate::rules;
use crate::state::AppState;

/// The form field that carries the anti-forgery token.
pub const FORM_TOKEN_FIELD: &str = "csrf";

/// The templates, with `csrf` (this process's anti-forgery token) available to every form.
pub fn environment(form_token: &str) -> Environment<'static> {
    let mut env = Environment::new();
    env.add_global(FORM_TOKEN_FIELD, form_token.to_owned());
    env.add_filter("code", code_spans);
    let templates = [
        ("base.html", include_str!("../templates/base.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("consent.html", include_str!("../templates/consent.html")),
        ("oob.html", include_str!("../templates/oob.html")),
        ("error.html", include_str!("../templates/error.html")),
        ("grants.html", include_str!("../templates/grants.html")),
        ("landing.html", include_str!("../templates/landing.html")),
        (
            "inspector.html",
            include_str!("../templates/inspector.html"),
        ),
        (
            "portal_base.html",
            include_str!("../templates/portal_base.html"),
        ),
        (
            "portal_home.html",
            include_str!("../templates/portal_home.html"),
        ),
        (
            "portal_apps.html",
            include_str!("../templates/portal_apps.html"),
        ),
        (
            "portal_app.html",
            include_str!("../templates/portal_app.html"),
        ),
        (
            "portal_secret.html",
            include_str!("../templates/portal_secret.html"),
        ),
        (
            "portal_fired.html",
            include_str!("../templates/portal_fired.html"),
        ),
        (
            "portal_keys.html",
            include_str!("../templates/portal_keys.html"),
        ),
        (
            "portal_usage.html",
            include_str!("../templates/portal_usage.html"),
        ),
    ];
    for (name, source) in templates {
        if let Err(e) = env.add_template(name, source) {
            // Templates are compiled in and covered by snapshot tests.
            panic!("template {name} does not parse: {e}");
        }
    }
    env
}

/// The `code` filter: a hint's Markdown code spans (`` `x` ``) as `<code>x</code>`, the rest
/// escaped. Text with an odd number of backticks is shown as it is, escaped.
fn code_spans(text: &str) -> minijinja::Value {
    use std::fmt::Write;
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    if parts.len().is_multiple_of(2) {
        let _ = write!(out, "{}", minijinja::HtmlEscape(text));
    } else {
        for (i, part) in parts.iter().enumerate() {
            if !i.is_multiple_of(2) {
                let _ = write!(out, "<code>{}</code>", minijinja::HtmlEscape(part));
            } else {
                let _ = write!(out, "{}", minijinja::HtmlEscape(part));
            }
        }
    }
    minijinja::Value::from_safe_string(out)
}

/// What every page is sent with: no framing by another site (clickjacking, RFC 6749
/// §10.13), no content sniffing, no referrer to other sites (page URLs carry request ids).
/// `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
/// the page's own form posts, which [`form_refused`] could not tell from a forgery.
const PAGE_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    // No `form-action 'self'`: browsers apply it to the redirect that follows a form post,
    // and the consent form's answer is a redirect to the application's callback.
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Renders `name` with `ctx`; a rendering failure is a 500 that says so.
pub fn render(state: &AppState, status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
    let rendered = state
        .templates()
        .get_template(name)
        .and_then(|t| t.render(ctx));
    match rendered {
        Ok(html) => (status, PAGE_HEADERS, Html(html)).into_response(),
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
    error_page_after(
        state,
        status,
        r,
        "The browser is not sent back to the application: the request did not identify a registered client and redirect URI it could safely return to (RFC 6749 §4.1.2.1).",
    )
}

/// An error page, with `after`: what happens now (nothing was sent back, start again…).
pub fn error_page_after(
    state: &AppState,
    status: StatusCode,
    r: &Rejection,
    after: &str,
) -> Response {
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
            after,
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
        minijinja::context! {
            code => code, error => err, description => description,
            lifetime => crate::store::CODE_LIFETIME_SECS,
        },
    )
}

pub fn with_outcome(mut resp: Response, outcome: Option<Outcome>) -> Response {
    if let Some(o) = outcome {
        resp.extensions_mut().insert(o);
    }
    resp
}

/// Refuses a page form posted from another site (cross-site request forgery): the form must
/// carry the token the mock put in it, and what a browser says of the request's origin
/// (`Sec-Fetch-Site`, `Origin`) must be this origin. `Some` is the refusal page.
pub fn form_refused(state: &AppState, headers: &HeaderMap, form: &Form) -> Option<Response> {
    let refuse = |description: &str| {
        let r = Rejection::new(ErrorCode::InvalidRequest, rules::FORM_TOKEN, description);
        Some(error_page_after(
            state,
            StatusCode::FORBIDDEN,
            &r,
            "Nothing was changed.",
        ))
    };
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site")) {
        if site != "same-origin" && site != "none" {
            return refuse(&format!(
                "the form was posted from another site (Sec-Fetch-Site: {site})"
            ));
        }
    }
    if let (Some(origin), Some(host)) = (text(header::ORIGIN), text(header::HOST)) {
        // `null`: a browser hiding the origin (a privacy setting, a sandboxed frame); then
        // only its own word that the post is same-origin, with the token, lets it through.
        let same = (origin == "null"
            && text(HeaderName::from_static("sec-fetch-site")) == Some("same-origin"))
            || origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
        if !same {
            return refuse("the form was posted from another origin");
        }
    }
    match form.value(FORM_TOKEN_FIELD) {
        Ok(Some(token)) if crate::domain::constant_time_eq(token, state.form_token()) => None,
        Ok(Some(_)) => {
            refuse("the form's anti-forgery token is wrong (from another run of the mock?)")
        }
        _ => refuse("the form has no anti-forgery token"),
    }
}
