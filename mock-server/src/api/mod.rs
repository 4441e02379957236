//! The resource server: `/api/…` and `/api/vN/…` (no version means v0; an unknown newer
//! version means the newest, v17 — what the newest published clients call).
//!
//! [`authenticate`] turns the `Authorization: Bearer` header into a
//! [`TokenInfo`](crate::store::TokenInfo) or a 401; [`metered`] admits the call under the
//! owner's short-term and annual limits (429, 402) and counts it when it answers 2xx or 3xx;
//! each route then checks its scope (403). Routes: `GET users/sessioninfo`; documents list,
//! create, get, delete — in memory and per company. Every response carries `X-Api-Version`,
//! and every authenticated one `X-Rate-Limit-Remaining`. With an OpenAPI document loaded,
//! [`operations`] answers every operation it lists, these included.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::Scope;
use crate::error::ApiError;
use crate::model::Document;
use crate::rules;
use crate::state::AppState;
use crate::store::TokenInfo;

pub mod apikey;
mod metering;
mod operations;
pub use operations::{stateful, stateful_operation};
pub mod signing;

/// The newest API version the mock knows (the newest published clients call v17).
pub const NEWEST_VERSION: u32 = 17;
/// Documents per page, as Onshape's default and maximum.
pub const PAGE_SIZE: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api", any(dispatch))
        .route("/api/{*rest}", any(dispatch))
}

async fn dispatch(
    State(state): State<AppState>,
    stack: Option<axum::Extension<crate::Stack>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The raw path, not axum's `Path` extractor: an undecodable segment is a 404 with a
    // hint like any unknown route, not a plain-text rejection.
    let rest = uri.path().strip_prefix("/api").unwrap_or("");
    let (version, route) = split_version(rest);
    let here = stack.as_ref().map_or(crate::DEFAULT_STACK, |s| &*s.0 .0);
    let spec = state.config().openapi.as_deref();
    let call = operations::Call {
        state: &state,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        route: &route,
    };
    let mut resp = match spec.and_then(|spec| operations::document(spec, &call)) {
        Some(document) => document,
        None => match authenticate(&state, here, &method, &uri, &headers, &body) {
            Err(e) => e.into_response(),
            Ok(token) => metering::metered(&state, &token, || {
                match spec {
                    Some(spec) => operations::answer(spec, &call, &token),
                    None => handle(&state, &method, &uri, &headers, &route, &token, &body),
                }
                .unwrap_or_else(IntoResponse::into_response)
            }),
        },
    };
    if let Ok(v) = HeaderValue::from_str(&version.to_string()) {
        resp.headers_mut().insert("x-api-version", v);
    }
    resp
}

/// `v6/documents/x` → (6, ["documents", "x"]); `documents` → (0, ["documents"]).
pub fn split_version(rest: &str) -> (u32, Vec<String>) {
    let mut parts: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let version = match parts
        .first()
        .and_then(|p| p.strip_prefix('v'))
        .and_then(|n| n.parse::<u32>().ok())
    {
        Some(n) => {
            parts.remove(0);
            n.min(NEWEST_VERSION)
        }
        None => 0,
    };
    (version, parts)
}

/// The request's credentials, checked: a bearer token, or an API key (Basic or signed,
/// [`apikey`]).
fn authenticate(
    state: &AppState,
    stack: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenInfo, ApiError> {
    let unauthorized = |rule, m: &str| ApiError::new(StatusCode::UNAUTHORIZED, rule, m);
    if query_names_any(uri, &["access_token", "token"]) {
        return Err(unauthorized(rules::BEARER_HEADER, "the access token is in the query string").hint(
            "Tokens in URLs leak into logs and browser history; Onshape reads only the header: send Authorization: Bearer <access_token>.",
        ));
    }
    if query_names_any(
        uri,
        &[
            "accesskey",
            "secretkey",
            "access_key",
            "secret_key",
            "apikey",
            "api_key",
        ],
    ) {
        return Err(unauthorized(rules::KEY_NOT_IN_URL, "an API key is in the query string").hint(
            "Keys in URLs leak into logs and browser history: send them in Authorization (Basic, or a signature), and replace the exposed key.",
        ));
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(
            unauthorized(rules::BEARER_HEADER, "no Authorization header")
                .hint("Every /api request needs Authorization: Bearer <access_token> (OAuth), or an API key: Basic, or On <accessKey>:HmacSHA256:<signature>."),
        );
    };
    let text = value.to_str().unwrap_or("");
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return apikey::basic(state, stack, token);
    }
    if scheme.eq_ignore_ascii_case("on") {
        return apikey::signed(state, stack, method, uri, headers, body, token);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        let description = if crate::domain::quotable_scheme(scheme) {
            format!("the Authorization scheme is `{scheme}`, not Bearer")
        } else {
            "the Authorization header does not start with `Bearer ` (the scheme, one space, the token)".to_owned()
        };
        return Err(unauthorized(rules::BEARER_HEADER, &description).hint(
            "OAuth tokens go in Authorization: Bearer <access_token>; API keys in Basic or On <accessKey>:HmacSHA256:<signature>.",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(
            unauthorized(rules::BEARER_HEADER, "the bearer token is empty").hint(
                "`Authorization: Bearer` came with no token: get one first (authorize, then POST /oauth/token) and send Authorization: Bearer <access_token>.",
            ),
        );
    }
    let now = state.clock().now();
    let store = state.store();
    store
        .authenticate(token, now)
        .cloned()
        .map_err(|r| ApiError::new(StatusCode::UNAUTHORIZED, r.rule, r.description).hint(r.hint))
}

/// Whether the query names one of `names` (compared as [`crate::form::loose_name`] folds them).
fn query_names_any(uri: &Uri, names: &[&str]) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|p| names.contains(&crate::form::loose_name(p).as_str()))
    })
}

fn require(state: &AppState, token: &TokenInfo, scope: Scope, what: &str) -> Result<(), ApiError> {
    if token.scopes.contains(scope) {
        return Ok(());
    }
    let name = scope.name();
    let app = if token.api_key {
        None
    } else {
        state
            .store()
            .app(&token.client_id)
            .map(|a| (a.scopes, a.scopes_changed_at))
    };
    let hint = match app {
        Some((registered, Some(at))) if !registered.contains(scope) => format!(
            "The application's permissions were changed {} ({}) and no longer include {name}: existing grants lost it at once. An admin must add {name} back (Permissions tab), then the user authorizes again.",
            ago(state, at),
            at.human()
        ),
        Some((registered, Some(at))) if registered.contains(scope) => format!(
            "{name} was added to the application's permissions {} ({}), after this grant: existing grants keep what the user granted. Send the user through /oauth/authorize again to grant {name}.",
            ago(state, at),
            at.human()
        ),
        _ if token.api_key => format!("The API key was created without {name}: create a key with the scopes the calls need."),
        _ => format!(
            "Register {name} for the application and request it (or omit scope to get every registered scope), then authorize again."
        ),
    };
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        rules::SCOPE_SUFFICIENT,
        format!(
            "{what} needs the {name} scope; the token has `{}`",
            token.scopes
        ),
    )
    .hint(hint))
}

/// `N s ago` on the mock clock.
fn ago(state: &AppState, at: crate::clock::Instant) -> String {
    format!("{} s ago", state.clock().now().secs_since(at))
}

fn handle(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    route: &[String],
    token: &TokenInfo,
    body: &[u8],
) -> Result<Response, ApiError> {
    let base = base_url(headers);
    let route: Vec<&str> = route.iter().map(String::as_str).collect();
    match (method.as_str(), route.as_slice()) {
        ("GET", ["users", "sessioninfo"]) => {
            Ok(Json(sessioninfo(state, token, &base)).into_response())
        }
        ("GET", ["documents"]) => {
            require(state, token, Scope::Read, "listing documents")?;
            list_documents(state, token, uri, &base)
        }
        ("POST", ["documents"]) => {
            require(state, token, Scope::Write, "creating a document")?;
            create_document(state, token, headers, body, &base)
        }
        ("GET", ["documents", did]) => {
            require(state, token, Scope::Read, "reading a document")?;
            let doc = visible_document(state, token, did)?;
            Ok(Json(document_json(state, &doc, &base)).into_response())
        }
        ("DELETE", ["documents", did]) => {
            require(state, token, Scope::Delete, "deleting a document")?;
            light_user_check(state, token)?;
            visible_document(state, token, did)?;
            state.store().delete_document(did);
            Ok(StatusCode::OK.into_response())
        }
        (_, ["users", "sessioninfo"] | ["documents"] | ["documents", _]) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            rules::API_ROUTE,
            format!("{method} is not allowed on /api/{}", route.join("/")),
        )),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            rules::API_ROUTE,
            format!("the mock has no API at /api/{}", route.join("/")),
        )
        .hint("Without an OpenAPI document the mock serves users/sessioninfo and documents (list, create, get, delete): start it with --openapi FILE (Onshape's document, README: The whole REST API) to serve every operation.")),
    }
}

/// `http://` and the request's `Host`: the base of the hrefs the mock answers with.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn sessioninfo(state: &AppState, token: &TokenInfo, base: &str) -> Value {
    let store = state.store();
    let user = store.user(&token.user_id);
    let company = token.company_id.as_deref().and_then(|c| store.company(c));
    let mut info = json!({
        "id": token.user_id,
        "href": format!("{base}/api/users/{}", token.user_id),
        "jsonType": "sessioninfo",
        "clientId": token.client_id,
        "oauth2Scopes": token.scopes.bits(),
        "isLight": user.is_some_and(|u| u.light),
        "roles": ["ROLE_USER"],
        "company": company.map(|c| json!({"id": c.id, "name": c.name})),
    });
    if let (Some(user), true) = (user, token.scopes.contains(Scope::ReadPii)) {
        info["name"] = json!(user.name);
        info["email"] = json!(user.email);
        info["firstName"] = json!(user.first_name());
        info["lastName"] = json!(user.last_name());
    }
    info
}

/// The document, when the token's user and company may see it. Like the real service, a
/// document that exists elsewhere and one that does not exist answer the same 403, so ids
/// cannot be probed; the hint (the mock's own) says which it was.
fn visible_document(state: &AppState, token: &TokenInfo, did: &str) -> Result<Document, ApiError> {
    let store = state.store();
    let Some(doc) = store.document(did) else {
        return Err(no_access(rules::API_ROUTE)
            .hint("No document has this id (ids are 24 hex characters: check the one you send)."));
    };
    if crate::store::document_visible_to(doc, token.company_id.as_deref(), &token.user_id) {
        return Ok(doc.clone());
    }
    let whose = match &doc.company {
        Some(c) => format!(
            "the company {}",
            store.company(c).map_or(c.as_str(), |c| c.name.as_str())
        ),
        None => "another user's own account".to_owned(),
    };
    let token_company = token.company_id.as_deref().map_or_else(
        || "the user's own account".to_owned(),
        |c| {
            format!(
                "the company {}",
                store.company(c).map_or(c, |c| c.name.as_str())
            )
        },
    );
    Err(no_access(rules::COMPANY_MEMBER).hint(format!(
        "The document belongs to {whose}, and this token is for {token_company}: tokens are per user and company. Authorize with company_id of the document's company."
    )))
}

/// Onshape's answer for a resource the caller may not see, whether or not it exists.
fn no_access(rule: &'static rules::Rule) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        rule,
        "Resource does not exist, or you do not have permission to access it.",
    )
}

fn light_user_check(state: &AppState, token: &TokenInfo) -> Result<(), ApiError> {
    if state.store().user(&token.user_id).is_some_and(|u| u.light) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            rules::LIGHT_USER_READ_ONLY,
            "a light user has read-only access",
        ));
    }
    Ok(())
}

fn list_documents(
    state: &AppState,
    token: &TokenInfo,
    uri: &Uri,
    base: &str,
) -> Result<Response, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, rules::API_PARAMETERS, m);
    let query =
        crate::form::parse(uri.query().unwrap_or("").as_bytes()).map_err(|e| bad(e.to_string()))?;
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match query
            .value(name)
            .map_err(|r| bad(format!("`{}` appears more than once", r.0)))?
        {
            None => Ok(default),
            Some(v) => v.parse::<usize>().map_err(|_| {
                bad(format!(
                    "`{name}` must be a non-negative integer, got `{v}`"
                ))
            }),
        }
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", PAGE_SIZE)?.clamp(1, PAGE_SIZE);
    let store = state.store();
    let all: Vec<Document> = store
        .documents(token.company_id.as_deref(), &token.user_id)
        .cloned()
        .collect();
    drop(store);
    let page_url = |o: usize| format!("{base}{}?offset={o}&limit={limit}", uri.path());
    let items: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|d| document_json(state, d, base))
        .collect();
    let next = offset
        .checked_add(limit)
        .filter(|n| *n < all.len())
        .map(page_url);
    let previous = (offset > 0).then(|| page_url(offset.saturating_sub(limit)));
    Ok(Json(
        json!({ "href": page_url(offset), "items": items, "next": next, "previous": previous }),
    )
    .into_response())
}

#[derive(Deserialize)]
struct NewDocument {
    name: Option<String>,
}

fn create_document(
    state: &AppState,
    token: &TokenInfo,
    headers: &HeaderMap,
    body: &[u8],
    base: &str,
) -> Result<Response, ApiError> {
    light_user_check(state, token)?;
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, rules::API_BODY, m);
    let is_json = crate::media_type(headers).as_deref() == Some("application/json");
    if !is_json {
        return Err(bad("creating a document takes a JSON body")
            .hint("Send Content-Type: application/json and {\"name\": \"…\"}."));
    }
    let req: NewDocument = serde_json::from_slice(body)
        .map_err(|e| bad(&format!("the body is not valid JSON: {e}")))?;
    let name = req
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("`name` is required"))?;
    if name.chars().count() > crate::store::MAX_DOCUMENT_NAME {
        return Err(bad(&format!(
            "`name` is longer than {} characters",
            crate::store::MAX_DOCUMENT_NAME
        )));
    }
    let now = state.clock().now();
    let doc = state
        .store()
        .create_document(name, token.company_id.clone(), token.user_id.clone(), now)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                rules::MOCK_CAPACITY,
                format!(
                    "the mock already holds {} documents",
                    crate::store::MAX_DOCUMENTS
                ),
            )
        })?;
    Ok(Json(document_json(state, &doc, base)).into_response())
}

fn document_json(state: &AppState, d: &Document, base: &str) -> Value {
    let owner_name = state.store().user(&d.owner).map(|u| u.name.clone());
    json!({
        "id": d.id,
        "name": d.name,
        "href": format!("{base}/api/documents/{}", d.id),
        "jsonType": "document-summary",
        "resourceType": "document",
        "isContainer": false,
        "public": false,
        "owner": { "id": d.owner, "name": owner_name, "type": if d.company.is_some() { 1 } else { 0 } },
        "createdAt": d.created_at.rfc3339(),
        "modifiedAt": d.created_at.rfc3339(),
        "defaultWorkspace": { "id": workspace_id(&d.id), "type": "workspace" },
    })
}

/// A stable 24-hex workspace id derived from the document id.
pub fn workspace_id(did: &str) -> String {
    did.chars().rev().collect()
}
