//! Errors and how they become responses.
//!
//! [`ErrorCode`] is RFC 6749's list; a [`Rejection`] is one refused request: the code, the
//! [`Rule`](crate::rules::Rule) it broke, a description and a one-sentence hint. Each surface
//! wraps it once: [`TokenError`] (JSON, 401), [`ApiError`] (Onshape's error body),
//! [`ControlError`] (the control API). Every response that refuses something carries an
//! [`Outcome`] extension, which the recording middleware copies into the request log;
//! building a response has no other side effect.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use crate::rules::Rule;

/// The error codes of RFC 6749 §4.1.2.1 and §5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed (unknown client, wrong secret, no authentication).
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked, used, or issued to another
    /// client, or the redirect URI does not match.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown, or exceeds what was registered or granted.
    InvalidScope,
    /// The resource owner denied the request.
    AccessDenied,
    /// The authorization server does not support this response type.
    UnsupportedResponseType,
    /// The server met an unexpected condition.
    ServerError,
    /// The server cannot handle the request now (used for injected outages).
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// One refused request: which rule it broke, what happened, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub rule: &'static Rule,
    pub description: String,
    pub hint: String,
}

impl Rejection {
    /// A rejection whose hint is the rule's generic fix.
    pub fn new(code: ErrorCode, rule: &'static Rule, description: impl Into<String>) -> Self {
        Self {
            code,
            rule,
            description: description.into(),
            hint: rule.fix.to_owned(),
        }
    }

    /// Replaces the generic fix with a specific hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    pub fn outcome(&self) -> Outcome {
        Outcome {
            rule: self.rule.id,
            hint: self.hint.clone(),
        }
    }
}

/// The rule a response enforced, for the request log. Set as a response extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rule: &'static str,
    pub hint: String,
}

/// A token-endpoint failure: 401 (as Onshape answers) with
/// `{"error","error_description","hint","rule"}` and `Cache-Control: no-store`.
#[derive(Debug)]
pub struct TokenError(pub Rejection);

impl From<Rejection> for TokenError {
    fn from(r: Rejection) -> Self {
        TokenError(r)
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let r = self.0;
        let status = match r.code {
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ if r.rule.id == crate::rules::REQUEST_SIZE.id => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNAUTHORIZED,
        };
        let body = json!({
            "error": r.code.as_str(),
            "error_description": r.description,
            "hint": r.hint,
            "rule": r.rule.id,
        });
        let mut resp = (status, no_store(), Json(body)).into_response();
        if r.code == ErrorCode::InvalidClient {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        resp.extensions_mut().insert(r.outcome());
        resp
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, for token responses (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A REST API failure, in Onshape's error shape `{"message","moreInfoUrl","status","code"}`
/// plus `hint` and `rule`. 401s carry `WWW-Authenticate: Bearer error="invalid_token"`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub rule: &'static Rule,
    pub hint: String,
}

impl ApiError {
    pub fn new(status: StatusCode, rule: &'static Rule, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            rule,
            hint: rule.fix.to_owned(),
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "moreInfoUrl": "",
            "status": self.status.as_u16(),
            "code": 0,
            "hint": self.hint,
            "rule": self.rule.id,
        });
        let mut resp = (self.status, Json(body)).into_response();
        let challenge = match self.status {
            // An API key's failure challenges for an API key (OpenAPI's BasicAuth), not a token.
            StatusCode::UNAUTHORIZED if crate::rules::API_KEY_RULES.contains(&self.rule.id) => {
                Some("Basic realm=\"onshape\"".to_owned())
            }
            StatusCode::UNAUTHORIZED => Some(format!(
                "Bearer realm=\"onshape\", error=\"invalid_token\", error_description=\"{}\"",
                self.message.replace(['"', '\\'], "'")
            )),
            StatusCode::FORBIDDEN if self.rule.id == crate::rules::SCOPE_SUFFICIENT.id => {
                Some("Bearer realm=\"onshape\", error=\"insufficient_scope\"".to_owned())
            }
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        resp.extensions_mut().insert(Outcome {
            rule: self.rule.id,
            hint: self.hint,
        });
        resp
    }
}

/// A control-API failure: a status and `{"error","field","rule","message"}`.
#[derive(Debug, Serialize)]
pub struct ControlError {
    #[serde(skip)]
    pub status: StatusCode,
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub rule: &'static str,
    pub message: String,
}

impl ControlError {
    pub fn bad_request(
        rule: &'static Rule,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "bad_request",
            field: field.map(str::to_owned),
            rule: rule.id,
            message: message.into(),
        }
    }
    /// 403: the acting user may not do this (who may do what), or the state forbids it.
    pub fn forbidden(rule: &'static Rule, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            error: "forbidden",
            field: field.map(str::to_owned),
            rule: rule.id,
            message: message.into(),
        }
    }

    /// 409: refused because of what exists (an app with a store entry, an entry already made).
    pub fn conflict(rule: &'static Rule, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            error: "conflict",
            field: field.map(str::to_owned),
            rule: rule.id,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            error: "not_found",
            field: None,
            rule: crate::rules::CONTROL_REQUEST.id,
            message: message.into(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let outcome = Outcome {
            rule: self.rule,
            hint: self.message.clone(),
        };
        let mut resp = (self.status, Json(&self)).into_response();
        resp.extensions_mut().insert(outcome);
        resp
    }
}
