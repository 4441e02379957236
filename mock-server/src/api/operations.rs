//! `/api` answered from a loaded OpenAPI document ([`crate::openapi::Spec`], `serve
//! --openapi`), inside the same authentication and metering as the built-in routes
//! ([`super::dispatch`]; only [`document`], `GET /api/openapi`, answers without
//! credentials). An operation without `security` needs no scope. [`answer`] routes (404
//! with the closest operations, 405 with `Allow`), then checks the operation's scopes (403
//! naming the one missing), its parameters (400 `api-parameters`) and its body (400/415
//! `api-body`); then answers — the mock's own answer for the operations it keeps state for
//! (sessioninfo, documents), one shaped from the response schema for the rest. An operation
//! with a `did` answers only for a document the caller can see, so a deleted document is
//! gone from the whole API.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{require, visible_document};
use crate::domain::Scope;
use crate::error::ApiError;
use crate::openapi::{example::Fill, is_json_media, Operation, Routed, Security, Spec};
use crate::rules;
use crate::state::AppState;
use crate::store::TokenInfo;

/// One `/api` request, as [`super::dispatch`] read it.
pub(super) struct Call<'a> {
    pub state: &'a AppState,
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The path after `/api` and the version, in segments.
    pub route: &'a [String],
}

/// `GET /api/openapi`, as cad.onshape.com answers it: the document itself, without
/// authentication. `None` for every other request.
pub(super) fn document(spec: &Spec, call: &Call<'_>) -> Option<Response> {
    if call.method != Method::GET || call.route != ["openapi"] {
        return None;
    }
    let mut resp = spec.raw.to_vec().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    Some(resp)
}

/// The built-in routes with state: answered by [`super::handle`] once the document's
/// checks pass, and even when the document lacks them.
pub fn stateful(method: &Method, segments: &[&str]) -> bool {
    matches!(
        (method.as_str(), segments),
        ("GET", ["users", "sessioninfo"])
            | ("GET" | "POST", ["documents"])
            | ("GET" | "DELETE", ["documents", _])
    )
}

/// Whether the mock answers `op` from its state: [`stateful`] by the operation's template,
/// so `GET /documents/{did}` is, and a literal `GET /documents/projects` is not.
pub fn stateful_operation(op: &Operation) -> bool {
    let template: Vec<&str> = op.path.split('/').filter(|s| !s.is_empty()).collect();
    let literal_under_documents = template.len() == 2 && template[1] != "{did}";
    stateful(&op.method, &template) && !(template[0] == "documents" && literal_under_documents)
}

/// The authenticated request `call`, answered through the document.
pub(super) fn answer(
    spec: &Spec,
    call: &Call<'_>,
    token: &TokenInfo,
) -> Result<Response, ApiError> {
    let segments: Vec<&str> = call.route.iter().map(String::as_str).collect();
    let (op, params, misshapen) = match spec.route(call.method, &segments) {
        Routed::Found {
            op,
            params,
            misshapen,
        } => (op, params, misshapen),
        Routed::NotFound { .. } | Routed::WrongMethod { .. }
            if stateful(call.method, &segments) =>
        {
            return builtin(call, token);
        }
        Routed::NotFound { closest } => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                rules::API_ROUTE,
                format!(
                    "{} has no operation at /{}",
                    title(spec),
                    segments.join("/")
                ),
            )
            .hint(format!(
                "Check the path against the API reference; the closest operations: {}.",
                closest.join("; ")
            )))
        }
        Routed::WrongMethod { path, allow } => {
            let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
            let mut resp = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                rules::API_ROUTE,
                format!("{} is not an operation of {path}", call.method),
            )
            .hint(format!("{path} answers {}.", allow.join(", ")))
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return Ok(resp);
        }
    };
    let label = op.label();
    scopes(call.state, op, token)?;
    let bad_param = |problem: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            rules::API_PARAMETERS,
            format!("{label}: {problem}"),
        )
    };
    if let Some((name, why)) = misshapen {
        return Err(bad_param(format!("the path parameter `{name}` {why}"))
            .hint(crate::openapi::params::shape_hint(name)));
    }
    crate::openapi::params::check(op, &spec.schemas, &params, call.uri.query(), call.headers)
        .map_err(|p| bad_param(p.to_string()).hint(p.hint()))?;
    check_body(spec, op, call)?;
    if stateful_operation(op) {
        return builtin(call, token);
    }
    if let Some(did) = param(&params, "did") {
        visible_document(call.state, token, did)?;
        if writes(op) {
            super::light_user_check(call.state, token)?;
        }
    }
    Ok(generated(spec, op, call, &params))
}

/// The value of path parameter `name`, as routing found it.
fn param<'p>(params: &'p [(&str, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn title(spec: &Spec) -> String {
    if spec.title.is_empty() {
        "the OpenAPI document".to_owned()
    } else {
        format!("{} {}", spec.title, spec.version).trim().to_owned()
    }
}

fn builtin(call: &Call<'_>, token: &TokenInfo) -> Result<Response, ApiError> {
    super::handle(
        call.state,
        call.method,
        call.uri,
        call.headers,
        call.route,
        token,
        call.body,
    )
}

/// Whether the operation needs Write or Delete (what a light user may not do).
fn writes(op: &Operation) -> bool {
    match &op.security {
        Security::Open => false,
        Security::AnyOf(reqs) => reqs
            .iter()
            .all(|r| r.scopes.contains(Scope::Write) || r.scopes.contains(Scope::Delete)),
    }
}

/// The operation's `security` against the token: one requirement must be met in full.
fn scopes(state: &AppState, op: &Operation, token: &TokenInfo) -> Result<(), ApiError> {
    let Security::AnyOf(reqs) = &op.security else {
        return Ok(());
    };
    let met = |r: &crate::openapi::Requirement| {
        r.unknown.is_empty()
            && Scope::ALL
                .iter()
                .all(|s| !r.scopes.contains(*s) || token.scopes.contains(*s))
    };
    if reqs.iter().any(met) {
        return Ok(());
    }
    let first = &reqs[0];
    if let Some(unknown) = first.unknown.first() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            rules::SCOPE_SUFFICIENT,
            format!("{} needs the {unknown} scope", op.label()),
        )
        .hint(format!(
            "{unknown} is not a scope an application can register (the developer settings list OAuth2ReadPII, Read, Write, Delete, Purchase and Share): only Onshape's own clients call this operation."
        )));
    }
    let missing = Scope::ALL
        .into_iter()
        .find(|s| first.scopes.contains(*s) && !token.scopes.contains(*s))
        .unwrap_or(Scope::Read);
    require(state, token, missing, &op.label())
}

fn check_body(spec: &Spec, op: &Operation, call: &Call<'_>) -> Result<(), ApiError> {
    let Some(body) = &op.body else {
        return Ok(());
    };
    let label = op.label();
    let schema_name = body
        .json
        .and_then(|s| spec.schemas.name_of(s))
        .map_or_else(String::new, |n| format!(" ({n})"));
    let bad = |status, message: String| ApiError::new(status, rules::API_BODY, message);
    if call.body.is_empty() {
        if body.required {
            return Err(bad(
                StatusCode::BAD_REQUEST,
                format!("{label} needs a body{schema_name}"),
            )
            .hint(format!(
                "Send the body as {} with the matching Content-Type.",
                body.media.join(" or ")
            )));
        }
        return Ok(());
    }
    let media = crate::media_type(call.headers).unwrap_or_default();
    let json = is_json_media(&media);
    let accepted = body.media.contains(&media) || json && body.json.is_some();
    if !accepted {
        let sent = if media.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {media}")
        };
        return Err(bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{label} takes {}, not {sent}", body.media.join(" or ")),
        )
        .hint(format!(
            "Send Content-Type: {} with the body.",
            body.media
                .first()
                .map_or("application/json", String::as_str)
        )));
    }
    let (true, Some(schema)) = (json, body.json) else {
        return Ok(());
    };
    let value: serde_json::Value = serde_json::from_slice(call.body).map_err(|e| {
        bad(
            StatusCode::BAD_REQUEST,
            format!("{label}: the body is not valid JSON ({e})"),
        )
    })?;
    spec.schemas.check(schema, &value).map_err(|v| {
        bad(StatusCode::BAD_REQUEST, format!("{label}: {v}"))
            .hint(format!("Fix the body{schema_name}: {v}."))
    })
}

/// The answer built from the operation's response schema.
fn generated(spec: &Spec, op: &Operation, call: &Call<'_>, params: &[(&str, String)]) -> Response {
    let status = StatusCode::from_u16(op.reply.status).unwrap_or(StatusCode::OK);
    if status.is_redirection() {
        return redirected(op, call, status);
    }
    let Some(media) = &op.reply.media else {
        return status.into_response();
    };
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    if !op.reply.is_json() {
        // Bytes of a file (an export, a thumbnail): the operation's id, deterministically.
        let mut resp = (status, format!("onshape-mock: {}\n", op.id)).into_response();
        if let Ok(v) = HeaderValue::from_str(media) {
            resp.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        return resp;
    }
    let Some(schema) = op.reply.schema else {
        return (status, Json(serde_json::json!({}))).into_response();
    };
    let base = super::base_url(call.headers);
    let href = format!("{base}{}", call.uri.path());
    let value = |name: &str| param(params, name);
    let wvm = value("wvm");
    let wvmid = value("wvmid");
    let in_wvm = |letter: &str| wvm.filter(|w| *w == letter).and(wvmid);
    let mut known: Vec<(&str, &str)> = Vec::new();
    for (field, sent) in [
        ("documentId", value("did")),
        ("workspaceId", value("wid").or(in_wvm("w"))),
        ("versionId", value("vid").or(in_wvm("v"))),
        ("microversionId", value("mid").or(in_wvm("m"))),
        ("elementId", value("eid")),
    ] {
        if let Some(sent) = sent {
            known.push((field, sent));
        }
    }
    let seed = {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::with_seed(0).hash_one((
            call.method.as_str(),
            call.uri.path(),
            call.uri.query(),
        ))
    };
    let fill = Fill {
        seed,
        href: &href,
        base: &base,
        known: &known,
    };
    (status, Json(spec.schemas.example(schema, &fill))).into_response()
}

/// The query marker of a redirect the mock answered: the second request gets the file.
const REDIRECTED: &str = "onshapeMockRedirected=1";

/// An operation that only redirects (an export): the first request is sent on to the same
/// URL with [`REDIRECTED`] added, as Onshape sends it to where the file is; that one
/// answers the file's bytes.
fn redirected(op: &Operation, call: &Call<'_>, status: StatusCode) -> Response {
    let query = call.uri.query().unwrap_or("");
    if query.split('&').any(|p| p == REDIRECTED) {
        let mut resp = format!("onshape-mock: {}\n", op.id).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        return resp;
    }
    let sep = if query.is_empty() { "" } else { "&" };
    let to = format!(
        "{}{}?{query}{sep}{REDIRECTED}",
        super::base_url(call.headers),
        call.uri.path()
    );
    let mut resp = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}
