//! API-key authentication on `/api`: HTTP Basic (access key : secret key) and Onshape's
//! signed requests (`Authorization: On <accessKey>:HmacSHA256:<signature>`, `Date`,
//! `On-Nonce`; [`super::signing`]). A key acts for its owner, in the company it was created
//! in, with its scopes: the result is the same [`TokenInfo`] a bearer token gives, so scopes,
//! documents and errors work alike.
//!
//! Order: the key, then (signed) the `Date` window on the mock's clock, the nonce's shape and
//! freshness, the signature. Only a verified request uses up its nonce: a refused request
//! changes nothing.

use std::time::{Duration, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, StatusCode, Uri};

use super::signing::{self, Mistake, Signed};
use crate::clock::Instant;
use crate::error::ApiError;
use crate::rules::{self, Rule};
use crate::state::AppState;
use crate::store::apikeys::{ApiKey, KeyGone, DATE_WINDOW_SECS};
use crate::store::TokenInfo;

fn unauthorized(rule: &'static Rule, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, rule, message)
}

/// What a key acts as: its owner, its company, its scopes; it does not expire.
fn acting_as(key: &ApiKey) -> TokenInfo {
    TokenInfo {
        user_id: key.user_id.clone(),
        client_id: key.access_key.clone(),
        company_id: key.company_id.clone(),
        scopes: key.scopes,
        expires_at: Instant(u64::MAX),
        api_key: true,
    }
}

/// The key named `access_key`, valid on `stack`, or why it does not work.
fn key(state: &AppState, stack: &str, access_key: &str, now: Instant) -> Result<ApiKey, ApiError> {
    let store = state.store();
    match store.api_keys().get(access_key, now) {
        Ok(k) if k.stack != stack => {
            let url = state
                .urls()
                .and_then(|u| {
                    if k.stack == crate::DEFAULT_STACK {
                        Some(u.api.clone())
                    } else {
                        u.stacks.iter().find(|(n, _)| *n == k.stack).map(|(_, url)| url.clone())
                    }
                })
                .map(|url| format!(" ({url})"))
                .unwrap_or_default();
            Err(unauthorized(
                rules::API_KEY_STACK,
                format!(
                    "the API key was created on {}; it does not work on {stack}",
                    k.stack
                ),
            )
            .hint(format!(
                "An API key is valid only on the stack where it was created: send its requests to {}{url}, or create a key on {stack}.",
                k.stack
            )))
        }
        Ok(k) => Ok(k.clone()),
        Err(KeyGone::Deleted { ago }) => Err(unauthorized(
            rules::API_KEY_KNOWN,
            format!("the API key was deleted {ago} s ago"),
        )
        .hint("Deleting an API key cannot be undone: create a new key and use its access and secret keys.")),
        Err(KeyGone::Unknown) => {
            let oauth_client = store.app(access_key).is_some()
                || store.apps().any(|a| a.client_id.trim_end_matches('=') == access_key);
            let hint = if oauth_client {
                "This is an OAuth application's client id: /api takes its access tokens (Authorization: Bearer), not the client credentials. API keys are created separately (POST /__mock/apikeys)."
            } else {
                "No API key has this access key (GET /__mock/apikeys lists them): copy it from the key's creation, or create one (POST /__mock/apikeys)."
            };
            Err(unauthorized(rules::API_KEY_KNOWN, "unknown API access key").hint(hint))
        }
    }
}

/// `Authorization: Basic base64(ACCESS:SECRET)`.
pub fn basic(state: &AppState, stack: &str, credentials: &str) -> Result<TokenInfo, ApiError> {
    let decoded = data_encoding::BASE64
        .decode(credentials.trim().as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((access, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(unauthorized(
            rules::API_KEY_SECRET,
            "the Basic credentials are not base64(ACCESS_KEY:SECRET_KEY)",
        ));
    };
    let now = state.clock().now();
    let key = key(state, stack, access, now)?;
    if !crate::domain::constant_time_eq(secret, &key.secret_key) {
        return Err(unauthorized(
            rules::API_KEY_SECRET,
            "the secret key does not belong to this access key",
        ));
    }
    Ok(acting_as(&key))
}

/// `Authorization: On ACCESS:HmacSHA256:SIGNATURE` with `Date` and `On-Nonce`.
pub fn signed(
    state: &AppState,
    stack: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &str,
) -> Result<TokenInfo, ApiError> {
    let mut parts = credentials.trim().splitn(3, ':');
    let (Some(access), Some(algorithm), Some(signature)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(unauthorized(
            rules::API_KEY_HEADER,
            "the On credentials are not ACCESS_KEY:HmacSHA256:SIGNATURE",
        ));
    };
    if algorithm != "HmacSHA256" {
        return Err(unauthorized(
            rules::API_KEY_HEADER,
            format!(
                "the signature algorithm must be HmacSHA256, not `{}`",
                shown(algorithm)
            ),
        ));
    }
    let now = state.clock().now();
    let key = key(state, stack, access, now)?;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(date) = text("date") else {
        return Err(unauthorized(rules::DATE_FRESH, "a signed request needs a Date header")
            .hint("Send Date: <now in RFC 1123, GMT>, e.g. Mon, 23 Nov 2026 16:00:00 GMT, and sign the same text."));
    };
    let Ok(sent_at) = httpdate::parse_http_date(date) else {
        return Err(unauthorized(
            rules::DATE_FRESH,
            format!("the Date header `{}` is not an HTTP date", shown(date)),
        )
        .hint("Write it as RFC 1123 in GMT: Mon, 23 Nov 2026 16:00:00 GMT."));
    };
    let sent_ms = sent_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let now_ms = u128::from(now.0);
    let skew = sent_ms.abs_diff(now_ms) / 1000;
    if skew > u128::from(DATE_WINDOW_SECS) {
        let which = if sent_ms > now_ms {
            "ahead of"
        } else {
            "behind"
        };
        return Err(unauthorized(
            rules::DATE_FRESH,
            format!("the Date is {skew} s {which} the server's time (more than 5 minutes)"),
        )
        .hint(format!(
            "The server's time is {} (the response's Date). Take the Date when you sign, from a clock that is right (NTP); a request signed and sent later, or retried with the old Date, is refused.",
            now.http_date().unwrap_or_else(|| now.rfc3339())
        )));
    }
    let Some(nonce) = text("on-nonce") else {
        return Err(
            unauthorized(rules::NONCE_UNIQUE, "a signed request needs an On-Nonce header")
                .hint("Send On-Nonce: <25 random letters and digits>, a new one for every request, and sign the same text."),
        );
    };
    if nonce.len() < 16 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(unauthorized(
            rules::NONCE_UNIQUE,
            format!(
                "the On-Nonce `{}` is not at least 16 letters and digits",
                shown(nonce)
            ),
        ));
    }
    if let Some(ago) = state.store().api_keys().nonce_used(nonce, now) {
        return Err(unauthorized(
            rules::NONCE_UNIQUE,
            format!("the On-Nonce was already used {ago} s ago"),
        )
        .hint("Make a new nonce for every request, retries and redirects included, and sign the request again with it."));
    }
    let content_type = text("content-type").unwrap_or("");
    let request = Signed {
        method: method.as_str(),
        nonce,
        date,
        content_type,
        path: uri.path(),
        query: uri.query().unwrap_or(""),
    };
    let expected = request.string_to_sign();
    if !signing::verify(&key.secret_key, &expected, signature) {
        let shown_string = format!("{expected:?}");
        let redirected_from = state
            .store()
            .api_keys()
            .redirected_from(request.path, request.query)
            .map(|(p, q)| (p.to_owned(), q.to_owned()));
        let before = redirected_from
            .as_ref()
            .map(|(p, q)| (p.as_str(), q.as_str()));
        return Err(
            match signing::diagnose(&key.secret_key, &request, body, signature, before) {
                Some(Mistake::BeforeRedirect { from }) => unauthorized(
                    rules::REDIRECT_RESIGNED,
                    format!(
                        "the signature is for {}, the URL before the mock's 307 redirect",
                        shown(&from)
                    ),
                )
                .hint(format!(
                    "Sign the request again for the Location's path and query, with a new On-Nonce and Date. The mock expected the signature of {shown_string}."
                )),
                Some(Mistake::ContentType { signed }) => unauthorized(
                    rules::CONTENT_TYPE_SIGNED,
                    format!(
                        "the signature is for Content-Type `{}`, but the request was sent with `{}`",
                        shown(&signed),
                        shown(content_type)
                    ),
                )
                .hint(format!(
                    "Sign the Content-Type you send (parameters such as charset included), or send the one you signed. The mock expected the signature of {shown_string}."
                )),
                Some(Mistake::Other(what)) => unauthorized(
                    rules::SIGNATURE_VALID,
                    format!("the signature does not match: {what}"),
                )
                .hint(format!("The mock expected the signature of {shown_string}.")),
                None => unauthorized(
                    rules::SIGNATURE_VALID,
                    "the signature does not match, nor any common signing mistake",
                )
                .hint(format!(
                    "Check the secret key (the one shown when the key was created) and the string: the mock expected the signature of {shown_string}."
                )),
            },
        );
    }
    state.store().use_nonce(nonce, now);
    Ok(acting_as(&key))
}

/// A header value as it may be quoted back: printable ASCII, at most 64 characters.
fn shown(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}
