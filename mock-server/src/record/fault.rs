//! What a scripted fault ([`crate::script::Fault`]) puts on the wire: an injected answer in
//! the shape of the surface it stands in for, a real token response rendered wrong, an
//! answer cut short, or none.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::script::{BodyKind, Fault, TokenQuirk};
use crate::state::AppState;

/// Marks a response that must not be sent: the connection closes without an answer
/// ([`crate::conn`] turns it into a service error, which hyper answers by closing).
#[derive(Debug, Clone, Copy)]
pub struct Abort;

/// The injected answer of a fault with a status (the request is not processed). A 307 is
/// remembered, to recognise a request then signed for the URL before it. A connection
/// fault gets the head of a JSON 200, whose body [`cut_short`] supplies and cuts.
pub(super) fn response(
    state: &AppState,
    fault: &Fault,
    request: &axum::http::request::Parts,
) -> Response {
    let path = request.uri.path();
    let Some(status) = fault.status else {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")]).into_response();
    };
    if let Some(to) = &fault.location {
        let from = request.uri.path_and_query().map_or(path, |p| p.as_str());
        state.store().note_redirect(from, to);
        let target = format!("{}{to}", crate::api::base_url(&request.headers));
        let body = json!({ "message": format!("Temporary Redirect: the resource is at {to}"), "moreInfoUrl": "", "status": 307, "code": 0 });
        let mut resp = (StatusCode::TEMPORARY_REDIRECT, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let oauth = path.starts_with("/oauth");
    let mut resp = match fault.body.unwrap_or(BodyKind::Json) {
        BodyKind::Json if oauth => (code, axum::Json(oauth_error(fault, code))).into_response(),
        BodyKind::Json => (code, axum::Json(api_error(fault, code))).into_response(),
        BodyKind::Html => (
            code,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html_page(code),
        )
            .into_response(),
        BodyKind::InvalidJson => (
            code,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"access_token\": \"eyJ0eXAiOiJKV1Qi",
        )
            .into_response(),
        BodyKind::Empty => code.into_response(),
        BodyKind::NoAccessToken => (
            code,
            axum::Json(json!({ "token_type": "Bearer", "expires_in": 3600 })),
        )
            .into_response(),
    };
    if let Some(secs) = fault.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == 429 {
        resp.headers_mut()
            .insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
    }
    if status == 401 && !oauth {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"onshape\", error=\"invalid_token\", error_description=\"The access token is not valid\"",
            ),
        );
    }
    if oauth {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// RFC 6749 §5.2's shape, worded as the real service would: a library puts this text in
/// its exception, and it must not read as if the client had called the control API. The
/// log marks the fault.
fn oauth_error(fault: &Fault, status: StatusCode) -> Value {
    let error = fault.error.as_deref().unwrap_or(match status.as_u16() {
        429 => "slow_down",
        403 => "unauthorized_client",
        500 => "server_error",
        _ => "temporarily_unavailable",
    });
    let description = match error {
        "invalid_request" => {
            "The request is missing a parameter or is otherwise malformed".to_owned()
        }
        "invalid_client" => "Client authentication failed".to_owned(),
        "invalid_grant" => {
            "The authorization code or refresh token is invalid, expired or revoked".to_owned()
        }
        "unauthorized_client" => "The client is not authorized to use this grant type".to_owned(),
        "unsupported_grant_type" => "The grant type is not supported".to_owned(),
        "invalid_scope" => "The requested scope is invalid".to_owned(),
        _ => try_again(fault, status),
    };
    json!({ "error": error, "error_description": description })
}

/// Onshape's API error shape.
fn api_error(fault: &Fault, status: StatusCode) -> Value {
    let message = match status.as_u16() {
        401 => "Unauthenticated: the access token is not valid".to_owned(),
        403 => "Resource does not exist, or you do not have permission to access it.".to_owned(),
        404 => "Not found".to_owned(),
        _ => try_again(fault, status),
    };
    json!({ "message": message, "moreInfoUrl": "", "status": status.as_u16(), "code": 0 })
}

fn try_again(fault: &Fault, status: StatusCode) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    match fault.retry_after {
        Some(secs) => format!("{reason}: try again in {secs} s"),
        None => format!("{reason}: try again later"),
    }
}

/// A page as a proxy or a web application firewall sends it.
fn html_page(status: StatusCode) -> String {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1>{title}</h1>\n<p>The request was blocked. Please try again later or contact the site administrator.</p>\n<hr><p>edge-gateway</p></body></html>\n"
    )
}

/// The real token response rendered wrong; any other answer (an error) is left alone.
pub(super) async fn render_token(response: Response, quirk: TokenQuirk) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::MAX_BODY_BYTES).await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let Ok(Value::Object(mut token)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let text = match quirk {
        TokenQuirk::NoRefreshToken => {
            token.remove("refresh_token");
            Value::Object(token).to_string()
        }
        TokenQuirk::NoExpiresIn => {
            token.remove("expires_in");
            Value::Object(token).to_string()
        }
        TokenQuirk::ExpiresInString => with(token, "expires_in", json!("3600")),
        TokenQuirk::ExpiresInNegative => with(token, "expires_in", json!(-3600)),
        TokenQuirk::ExpiresInShort => with(token, "expires_in", json!(1)),
        TokenQuirk::ExpiresInLong => with(token, "expires_in", json!(315_360_000)),
        TokenQuirk::TokenTypeUnsupported => with(token, "token_type", json!("mac")),
        TokenQuirk::DuplicateFields => {
            // serde_json keeps one of each key: the duplicates go in by hand, first, with
            // other values (a parser that keeps the last sees the real ones).
            let rest = Value::Object(token).to_string();
            format!(
                "{{\"token_type\":\"Bearer\",\"expires_in\":60,{}",
                rest.strip_prefix('{').unwrap_or(&rest)
            )
        }
        TokenQuirk::WrongContentType => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            Value::Object(token).to_string()
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

fn with(mut token: Map<String, Value>, key: &str, value: Value) -> String {
    token.insert(key.to_owned(), value);
    Value::Object(token).to_string()
}

/// `response` with its head and the first `keep` bytes of its body, then the connection
/// closes (`keep` 0: closes without a byte).
pub(super) fn cut_short(response: Response, keep: usize) -> Response {
    if keep == 0 {
        let mut aborted = Response::new(Body::empty());
        aborted.extensions_mut().insert(Abort);
        return aborted;
    }
    let (mut parts, _) = response.into_parts();
    let full =
        b"{\"items\":[{\"id\":\"000000000000000000000000\",\"name\":\"Part Studio 1\",\"href\":\"";
    let sent = Bytes::copy_from_slice(&full[..keep.min(full.len())]);
    // The head promises more than ever comes.
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(sent.len() * 4));
    Response::from_parts(parts, Body::new(CutShort(Some(sent))))
}

/// A body that yields its bytes, then fails: hyper closes the connection mid-body.
struct CutShort(Option<Bytes>);

impl http_body::Body for CutShort {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(match self.0.take() {
            Some(bytes) => Ok(http_body::Frame::data(bytes)),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scripted: connection closed mid-response",
            )),
        }))
    }
}
