//! `POST /oauth/token`.
//!
//! The request's shape is checked first, in the order a developer debugging it would want
//! to hear: method, query string, content type, body encoding, repeated parameters; then
//! client authentication (form body or HTTP Basic, not both); then the grant itself, which
//! the [`Store`](crate::store::Store) decides. Every failure is a [`TokenError`] (401, as
//! Onshape answers) naming the rule and how to fix it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::domain::ScopeSet;
use crate::error::{no_store, ErrorCode, Rejection, TokenError};
use crate::form::{self, Form};
use crate::rules;
use crate::state::{AppState, Issued};

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

pub async fn token(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    parsed: Option<axum::Extension<form::Parsed>>,
    body: Bytes,
) -> Result<Response, TokenError> {
    let parsed = parsed.map(|axum::Extension(p)| p.0);
    let form = check_shape(&method, uri.query(), &headers, &body, parsed)?;
    let client_id = authenticate_client(&state, &headers, &form)?;
    let grant_type = value(&form, "grant_type")?.ok_or_else(|| {
        Rejection::new(
            ErrorCode::InvalidRequest,
            rules::GRANT_TYPE_SUPPORTED,
            "grant_type is missing",
        )
    })?;
    let now = state.clock().now();
    let tokens = match grant_type {
        "authorization_code" => {
            let code = value(&form, "code")?.ok_or_else(|| {
                Rejection::new(
                    ErrorCode::InvalidRequest,
                    rules::CODE_KNOWN,
                    "code is missing",
                )
                .hint("Add code=<the `code` query parameter of the callback> to the form body.")
            })?;
            let redirect_uri = value(&form, "redirect_uri")?;
            state
                .store()
                .redeem_code(&client_id, code, redirect_uri, now)?
        }
        "refresh_token" => {
            let refresh = value(&form, "refresh_token")?.ok_or_else(|| {
                Rejection::new(
                    ErrorCode::InvalidRequest,
                    rules::REFRESH_TOKEN_VALID,
                    "refresh_token is missing",
                )
            })?;
            let scope = value(&form, "scope")?
                .map(|s| {
                    ScopeSet::parse_with(s, state.config().allow_comma_scopes).map_err(|e| {
                        Rejection::new(
                            ErrorCode::InvalidScope,
                            rules::SCOPE_REGISTERED,
                            format!("scope `{s}`: {e}"),
                        )
                    })
                })
                .transpose()?;
            state.store().refresh(&client_id, refresh, scope, now)?
        }
        other => {
            return Err(Rejection::new(
                ErrorCode::UnsupportedGrantType,
                rules::GRANT_TYPE_SUPPORTED,
                format!("grant_type `{other}` is not supported"),
            )
            .into())
        }
    };
    state.issued(Issued::AccessToken, &tokens.access_token);
    state.issued(Issued::RefreshToken, &tokens.refresh_token);
    let body = TokenResponse {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: tokens.expires_in,
        refresh_token: tokens.refresh_token,
    };
    Ok((no_store(), Json(body)).into_response())
}

fn value<'a>(form: &'a Form, name: &str) -> Result<Option<&'a str>, Rejection> {
    form.value(name).map_err(|r| repeated(&r.0))
}

fn repeated(name: &str) -> Rejection {
    Rejection::new(
        ErrorCode::InvalidRequest,
        rules::PARAM_ONCE,
        format!("`{name}` appears more than once"),
    )
}

/// Method, query string, content type and encoding: the debugging pitfalls of the guide.
fn check_shape(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    parsed: Option<std::sync::Arc<Form>>,
) -> Result<std::sync::Arc<Form>, Rejection> {
    let shape = |rule, d: &str| Rejection::new(ErrorCode::InvalidRequest, rule, d);
    let query = query.filter(|q| !q.is_empty());
    if method != Method::POST {
        let mut r = shape(
            rules::TOKEN_POST,
            &format!("the token endpoint takes POST, not {method}"),
        );
        if query.is_some() {
            r = r.hint("This is a GET with the data in the query string: send POST /oauth/token with the same parameters as an application/x-www-form-urlencoded body.");
        }
        return Err(r);
    }
    if let Some(q) = query {
        let secret = q.split('&').any(|p| p.starts_with("client_secret="));
        return Err(shape(rules::TOKEN_FORM_BODY, "the token request carries parameters in the query string").hint(
            if secret {
                "Parameters (including client_secret, now exposed in URLs and logs) belong in the POST body: send them as application/x-www-form-urlencoded and leave the query string empty."
            } else {
                "Parameters belong in the POST body, not the query string: send them as application/x-www-form-urlencoded and leave the query string empty."
            },
        ));
    }
    let content_type = crate::media_type(headers);
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match content_type.as_deref() {
        Some("application/x-www-form-urlencoded") if !looks_json => {}
        Some(ct) if ct.ends_with("json") || looks_json => {
            return Err(shape(rules::TOKEN_FORM_BODY, "the token request body is JSON").hint(
                "Onshape's token endpoint reads a form, not JSON: send Content-Type: application/x-www-form-urlencoded and a body like grant_type=authorization_code&code=…&client_id=…%3D.",
            ))
        }
        Some(ct) => {
            return Err(shape(rules::TOKEN_FORM_BODY, &format!("Content-Type `{ct}` is not a URL-encoded form"))
                .hint("Send Content-Type: application/x-www-form-urlencoded with a URL-encoded body."))
        }
        None => {
            return Err(shape(rules::TOKEN_FORM_BODY, "the token request has no Content-Type")
                .hint("Send Content-Type: application/x-www-form-urlencoded with a URL-encoded body."))
        }
    }
    if body.is_empty() {
        return Err(shape(
            rules::TOKEN_FORM_BODY,
            "the token request body is empty",
        ));
    }
    // Parsed once already by the recording middleware when it parses at all.
    let form = match parsed {
        Some(form) => form,
        None => form::parse(body).map(std::sync::Arc::new).map_err(|e| {
            shape(
                rules::TOKEN_FORM_ENCODING,
                &format!("the form body does not parse: {e}"),
            )
            .hint(format!("{}{}", capitalize(&e.to_string()), "."))
        })?,
    };
    if let Some(name) = form.first_repeated() {
        return Err(repeated(name));
    }
    Ok(form)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Client authentication: form body (`client_id`, `client_secret`) or HTTP Basic.
fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<String, Rejection> {
    let invalid_client = |rule, d: String| Rejection::new(ErrorCode::InvalidClient, rule, d);
    let basic = basic_credentials(headers)?;
    let body_id = form.get("client_id").ok().flatten();
    let body_secret = form.get("client_secret").ok().flatten();
    for (field, rule) in [
        (body_id, rules::CLIENT_ID_ENCODED),
        (body_secret, rules::CLIENT_SECRET_ENCODED),
    ] {
        if let Some(f) = field.filter(|f| f.raw_equals) {
            return Err(Rejection::new(ErrorCode::InvalidRequest, rule, format!("{} carries an unencoded `=`", f.name)).hint(
                format!(
                    "Each `=` inside a value must be sent as %3D: {}={}. Encode every value; leave the `=` between name and value as it is.",
                    f.name,
                    form::encode_component(if f.name == "client_id" { &f.value } else { "SECRET=" })
                ),
            ));
        }
    }
    let (id, secret) = match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => {
            return Err(Rejection::new(
                ErrorCode::InvalidRequest,
                rules::CLIENT_AUTH_ONE_METHOD,
                "the client authenticated twice: HTTP Basic and client_secret in the body",
            ))
        }
        (Some((bid, _)), Some(fid), None) if bid != fid.value => {
            return Err(Rejection::new(
                ErrorCode::InvalidRequest,
                rules::CLIENT_AUTH_ONE_METHOD,
                "client_id in the body differs from the HTTP Basic user",
            ))
        }
        (Some((bid, bsecret)), _, None) => (bid, Some(bsecret)),
        (None, Some(fid), fsecret) => (fid.value.clone(), fsecret.map(|s| s.value.clone())),
        (None, None, _) => {
            return Err(invalid_client(rules::CLIENT_AUTH, "no client authentication: client_id is missing".into())
                .hint("Send client_id and client_secret in the form body (each `=` as %3D), or as HTTP Basic."))
        }
    };
    let store = state.store();
    let Some(app) = store.app(&id) else {
        let hint = store.unknown_client_hint(&id, state.clock().now());
        return Err(
            invalid_client(rules::CLIENT_KNOWN, format!("unknown client_id `{id}`")).hint(hint),
        );
    };
    match secret {
        None => Err(invalid_client(
            rules::CLIENT_AUTH,
            "client_secret is missing".into(),
        )),
        Some(s) if s != app.client_secret => {
            if let Some(at) = store.secret_regenerated_at(&id, &s) {
                let now = state.clock().now();
                return Err(invalid_client(
                    rules::CLIENT_AUTH,
                    "the client secret was regenerated: this is the old one".into(),
                )
                .hint(format!(
                    "The application's secret was regenerated {} s ago ({}); the old secret stopped working at once. Use the new secret, shown once when it was regenerated.",
                    now.secs_since(at),
                    at.human()
                )));
            }
            let hint = if s.trim_end_matches('=') == app.client_secret.trim_end_matches('=') {
                "The secret is right but for its trailing `=`: send it whole, each `=` as %3D."
            } else {
                "Wrong client secret: use the one issued with this client id (regenerating it invalidates the old one)."
            };
            Err(invalid_client(rules::CLIENT_AUTH, "the client secret is wrong".into()).hint(hint))
        }
        Some(_) => Ok(id),
    }
}

/// Decodes `Authorization: Basic`. Per RFC 6749 §2.3.1 the parts are form-encoded first;
/// requests-oauthlib does not encode them, so a raw `=` is accepted too.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = |d: &str| Rejection::new(ErrorCode::InvalidClient, rules::CLIENT_AUTH, d);
    let text = value
        .to_str()
        .map_err(|_| malformed("the Authorization header is not ASCII"))?;
    let (scheme, rest) = text
        .trim_start()
        .split_once(char::is_whitespace)
        .unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::new(
            ErrorCode::InvalidRequest,
            rules::TOKEN_ONLY_FOR_API,
            "the token request carries a bearer token",
        )
        .hint("The token endpoint authenticates the client (form body or HTTP Basic); bearer tokens are only for /api requests."));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed(&if crate::domain::quotable_scheme(scheme) {
            format!("unsupported Authorization scheme `{scheme}`")
        } else {
            "the Authorization header has no scheme (expected `Basic <credentials>`)".to_owned()
        }));
    }
    let decoded = data_encoding::BASE64
        .decode(rest.trim().as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| malformed("the HTTP Basic credentials are not valid base64 of UTF-8"))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| {
        malformed("the HTTP Basic credentials have no `:` between client id and secret")
    })?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| s.to_owned())
    };
    Ok(Some((decode(id), decode(secret))))
}
