//! `GET /oauth/authorize`: the request validated, then answered at once (scripted consent) or
//! handed to the login and consent pages ([`super::consent`]), and how an authorization ends
//! (a code or an error, by redirect or on the out-of-band page).
//!
//! Order of checks: the query must parse strictly and name each parameter once; the client
//! id must be encoded and known; the redirect URI must be registered exactly. Until then an
//! error is a 400 page (never a redirect, RFC 6749 §4.1.2.1); after that, errors redirect
//! to the client with `error` and `state`.

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::domain::{explain_redirect_mismatch, RedirectUri, ScopeSet};
use crate::error::{ErrorCode, Rejection};
use crate::form;
use crate::pages;
use crate::rules;
use crate::state::AppState;
use crate::store::{AuthRequest, CompanyChoice, ConsentScript};

/// A failed authorization request: shown as a page, or sent back to the client.
enum Failure {
    Page(Rejection),
    Redirect {
        to: RedirectUri,
        state: Option<String>,
        rejection: Rejection,
    },
}

pub async fn authorize(State(state): State<AppState>, uri: Uri) -> Response {
    let req = match validate(&state, uri.query().unwrap_or("")) {
        Ok(req) => req,
        Err(Failure::Page(r)) => return pages::error_page(&state, StatusCode::BAD_REQUEST, &r),
        Err(Failure::Redirect {
            to,
            state: s,
            rejection,
        }) => return redirect_error(&state, &to, s.as_deref(), &rejection),
    };
    let script = state.store().consent().cloned();
    match script {
        Some(script) => scripted(&state, req, &script),
        None => {
            let now = state.clock().now();
            let (app_name, users, id) = {
                let mut store = state.store();
                let app_name = store
                    .app(&req.client_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                let users: Vec<_> = store
                    .users()
                    .iter()
                    .map(|u| minijinja::context! { email => u.email, name => u.name, light => u.light })
                    .collect();
                (app_name, users, store.begin_pending(req, now))
            };
            pages::render(
                &state,
                StatusCode::OK,
                "login.html",
                minijinja::context! { app_name, users, request_id => id, action => "/oauth/login" },
            )
        }
    }
}

/// `POST /oauth/authorize`: the guide asks for a GET.
pub async fn not_get(State(state): State<AppState>) -> Response {
    let r = Rejection::new(
        ErrorCode::InvalidRequest,
        rules::AUTHORIZE_GET,
        "the authorization request must be a GET",
    )
    .hint("Send the browser to GET /oauth/authorize with the parameters in the query string (usually a 302 from your app), not a POST.");
    let mut resp = pages::error_page(&state, StatusCode::METHOD_NOT_ALLOWED, &r);
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
    resp
}

fn validate(state: &AppState, raw_query: &str) -> Result<AuthRequest, Failure> {
    // Until the client and redirect URI are known, a refusal is a page (`Failure::Page`).
    let page = |rule, d: String| Rejection::new(ErrorCode::InvalidRequest, rule, d);
    let query = form::parse(raw_query.as_bytes()).map_err(|e| {
        Failure::from(
            page(
                rules::QUERY_ENCODING,
                format!("the query string does not parse: {e}"),
            )
            .hint(format!("{e}.")),
        )
    })?;
    if let Some(name) = query.first_repeated() {
        return Err(page(
            rules::PARAM_ONCE,
            format!("the parameter `{name}` appears more than once"),
        )
        .into());
    }
    let one = |name: &str| query.value(name).ok().flatten();
    let Some(client_field) = query.get("client_id").ok().flatten() else {
        return Err(page(rules::CLIENT_KNOWN, "client_id is missing".into())
            .hint("Add client_id=<your client id, with each `=` encoded as %3D> to the authorization URL.")
            .into());
    };
    if client_field.raw_equals {
        return Err(page(
            rules::CLIENT_ID_ENCODED,
            "the client_id carries an unencoded `=`".into(),
        )
        .hint(format!(
            "The client id ends in `=`, which must be sent as %3D: client_id={}",
            form::encode_component(&client_field.value)
        ))
        .into());
    }
    let client_id = client_field.value.clone();
    let (registered, app_scopes) = {
        let store = state.store();
        match store.app(&client_id) {
            Some(app) => (app.redirect_uris.clone(), app.scopes),
            None => {
                let hint = store.unknown_client_hint(&client_id, state.clock().now());
                return Err(page(
                    rules::CLIENT_KNOWN,
                    format!("unknown client_id `{client_id}`"),
                )
                .hint(hint)
                .into());
            }
        }
    };
    let redirect_given = one("redirect_uri");
    let redirect = match redirect_given {
        Some(given) => match registered.iter().find(|r| r.as_str() == given) {
            Some(r) => r.clone(),
            None => {
                return Err(page(
                    rules::REDIRECT_URI_REGISTERED,
                    format!("redirect_uri `{given}` is not registered for this application"),
                )
                .hint(format!(
                    "Redirect URIs must match a registered value exactly; {}.",
                    explain_redirect_mismatch(given, &registered)
                ))
                .into())
            }
        },
        None => match registered.first() {
            Some(first) => first.clone(),
            None => {
                return Err(page(
                    rules::REDIRECT_URI_REGISTERED,
                    "the application has no registered redirect URI".into(),
                )
                .into())
            }
        },
    };
    let client_state = one("state").map(str::to_owned);
    let back = |rejection: Rejection| Failure::Redirect {
        to: redirect.clone(),
        state: client_state.clone(),
        rejection,
    };
    match one("response_type") {
        Some("code") => {}
        None => {
            return Err(back(Rejection::new(
                ErrorCode::InvalidRequest,
                rules::RESPONSE_TYPE_CODE,
                "response_type is missing",
            )))
        }
        Some(other) => {
            return Err(back(Rejection::new(
                ErrorCode::UnsupportedResponseType,
                rules::RESPONSE_TYPE_CODE,
                format!("response_type `{other}` is not supported; Onshape issues codes only"),
            )))
        }
    }
    if query.contains("client_secret") {
        return Err(back(
            Rejection::new(
                ErrorCode::InvalidRequest,
                rules::SECRET_NOT_IN_URL,
                "client_secret must not appear in the authorization URL",
            )
            .hint("The authorization URL passes through the browser, its history and logs: remove client_secret from it and send the secret only in the POST to /oauth/token. Consider regenerating the secret."),
        ));
    }
    let scopes = match one("scope") {
        None => app_scopes,
        Some(s) => {
            let parsed =
                ScopeSet::parse_with(s, state.config().allow_comma_scopes).map_err(|e| {
                    back(Rejection::new(
                        ErrorCode::InvalidScope,
                        rules::SCOPE_REGISTERED,
                        format!("scope `{s}`: {e}"),
                    ))
                })?;
            if !parsed.is_subset_of(app_scopes) {
                return Err(back(
                    Rejection::new(
                        ErrorCode::InvalidScope,
                        rules::SCOPE_REGISTERED,
                        format!("`{}` is not registered for this application", parsed.minus(app_scopes)),
                    )
                    .hint(format!(
                        "Request a subset of the registered scopes ({app_scopes}), or omit scope to get them all."
                    )),
                ));
            }
            if parsed.is_empty() {
                app_scopes
            } else {
                parsed
            }
        }
    };
    let company_id = one("company_id")
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Ok(AuthRequest {
        client_id,
        redirect,
        redirect_given: redirect_given.is_some(),
        scopes,
        state: client_state,
        company_id,
    })
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Failure {
        Failure::Page(r)
    }
}

/// Sends the browser back to the client with an error (or shows it, for OOB).
pub(super) fn redirect_error(
    state: &AppState,
    to: &RedirectUri,
    client_state: Option<&str>,
    r: &Rejection,
) -> Response {
    pages::with_outcome(
        send_back(state, to, client_state, r.code, &r.description),
        Some(r.outcome()),
    )
}

/// `redirect_uri?error=…&error_description=…&state=…`, or the OOB error page.
fn send_back(
    state: &AppState,
    to: &RedirectUri,
    client_state: Option<&str>,
    code: ErrorCode,
    description: &str,
) -> Response {
    if to.is_oob() {
        return pages::oob_page(state, None, Some((code.as_str(), description)));
    }
    let mut params = vec![("error", code.as_str()), ("error_description", description)];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    found(&to.with_params(&params))
}

/// A 302 Found (the guide's redirect), not axum's 303.
/// Non-ASCII characters in a registered URL (`/é`) are sent percent-encoded, as a browser
/// would request them.
fn found(location: &str) -> Response {
    let encoded =
        percent_encoding::utf8_percent_encode(location, percent_encoding::CONTROLS).to_string();
    match header::HeaderValue::from_str(&encoded) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        // Unreachable for a registered URL (no controls or whitespace); still not a 5xx.
        Err(_) => (
            StatusCode::BAD_REQUEST,
            "the redirect URL cannot be sent as a Location header",
        )
            .into_response(),
    }
}

/// Ends an authorization: grant (a code) or deny.
pub(super) fn finish(
    state: &AppState,
    req: &AuthRequest,
    user_id: &str,
    company: Option<String>,
    grant: bool,
) -> Response {
    if !grant {
        // A denial breaks no rule: nothing goes in the rule column of the log.
        let description = "the user denied the request";
        return send_back(
            state,
            &req.redirect,
            req.state.as_deref(),
            ErrorCode::AccessDenied,
            description,
        );
    }
    let now = state.clock().now();
    let code = state
        .store()
        .grant_and_issue_code(req, user_id, company, now);
    let Some(code) = code else {
        // The application was deleted while the user was on the pages.
        return send_back(
            state,
            &req.redirect,
            req.state.as_deref(),
            ErrorCode::UnauthorizedClient,
            "the application was deleted",
        );
    };
    state.issued(crate::state::Issued::Code, &code);
    if req.redirect.is_oob() {
        return pages::oob_page(state, Some(&code), None);
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    found(&req.redirect.with_params(&params))
}

fn scripted(state: &AppState, req: AuthRequest, script: &ConsentScript) -> Response {
    let mut store = state.store();
    let Some(user) = store.user(&script.user_id).cloned() else {
        drop(store);
        let r = Rejection::new(
            ErrorCode::ServerError,
            rules::CONTROL_REQUEST,
            "the scripted consent user no longer exists",
        );
        return redirect_error(state, &req.redirect, req.state.as_deref(), &r);
    };
    if !script.grant {
        drop(store);
        return finish(state, &req, &user.id, None, false);
    }
    let wanted = req.company_id.as_deref().or(script.company_id.as_deref());
    match store.resolve_company(&user, wanted) {
        Ok(CompanyChoice::Resolved(company)) => {
            drop(store);
            finish(state, &req, &user.id, company, true)
        }
        // Several companies and none named: the user chooses, on the consent page.
        Ok(CompanyChoice::UserChooses) => {
            let id = store.begin_pending(req, state.clock().now());
            drop(store);
            let target = format!(
                "/oauth/consent?{}",
                form::encode(&[("request", &id), ("user", &user.email)])
            );
            (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
        }
        Err(r) => {
            drop(store);
            redirect_error(state, &req.redirect, req.state.as_deref(), &r)
        }
    }
}
