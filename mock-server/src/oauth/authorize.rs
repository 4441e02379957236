//! `GET /oauth/authorize` and the pages behind it.
//!
//! Order of checks: the query must parse strictly and name each parameter once; the client
//! id must be encoded and known; the redirect URI must be registered exactly. Until then an
//! error is a 400 page (never a redirect, RFC 6749 §4.1.2.1); after that, errors redirect
//! to the client with `error` and `state`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::domain::{explain_redirect_mismatch, RedirectUri, ScopeSet};
use crate::error::{ErrorCode, Rejection};
use crate::form::{self, Form};
use crate::pages;
use crate::rules;
use crate::state::AppState;
use crate::store::{AuthRequest, CompanyChoice, ConsentScript, Gone, PENDING_LIFETIME_SECS};

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
                let hint = store.unknown_client_hint(&client_id);
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
fn redirect_error(
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
fn finish(
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

/// `?request=…&user=…` of the consent page, parsed strictly.
struct ConsentQuery {
    request: String,
    user: String,
}

impl ConsentQuery {
    fn parse(state: &AppState, uri: &Uri) -> Result<ConsentQuery, Box<Response>> {
        let q = page_form(state, uri.query().unwrap_or("").as_bytes())?;
        match (q.value("request"), q.value("user")) {
            (Ok(Some(request)), Ok(Some(user))) => Ok(ConsentQuery {
                request: request.to_owned(),
                user: user.to_owned(),
            }),
            _ => Err(Box::new(bad_page(
                state,
                "the consent page needs `request` and `user`, each once",
            ))),
        }
    }
}

/// Why a consent page or form cannot be answered.
enum NotAnswerable {
    Gone(Gone),
    UnknownUser,
}

impl NotAnswerable {
    /// The page that says so; rendered once the store is unlocked (it reads the store).
    fn page(self, state: &AppState, q: &ConsentQuery) -> Response {
        match self {
            NotAnswerable::Gone(gone) => gone_page(state, gone),
            NotAnswerable::UnknownUser => unknown_user_page(state, &q.user),
        }
    }
}

impl ConsentQuery {
    /// The pending authorization and the user the page is for.
    fn look_up(
        &self,
        store: &crate::store::Store,
        now: crate::clock::Instant,
    ) -> Result<(crate::store::Pending, crate::model::User), NotAnswerable> {
        let pending = store
            .pending(&self.request, now)
            .map_err(NotAnswerable::Gone)?
            .clone();
        let user = store
            .user_by_email(&self.user)
            .ok_or(NotAnswerable::UnknownUser)?
            .clone();
        Ok((pending, user))
    }
}

/// `POST /oauth/login`: the user picked who to sign in as.
pub async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = match page_form(&state, &body) {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    if let Some(refused) = pages::form_refused(&state, &headers, &form) {
        return refused;
    }
    let (Some(request), Some(user)) = (
        form.value("request").ok().flatten(),
        form.value("user").ok().flatten(),
    ) else {
        return bad_page(
            &state,
            "the login form needs `request` and `user`, each once",
        );
    };
    {
        let store = state.store();
        if let Err(gone) = store.pending(request, state.clock().now()) {
            drop(store);
            return gone_page(&state, gone);
        }
        if store.user_by_email(user).is_none() {
            drop(store);
            return unknown_user_page(&state, user);
        }
    }
    let target = format!(
        "/oauth/consent?{}",
        form::encode(&[("request", request), ("user", user)])
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// `GET /oauth/consent?request=…&user=…`: what the app asks for; Grant or Deny.
pub async fn consent_page(State(state): State<AppState>, uri: Uri) -> Response {
    let q = match ConsentQuery::parse(&state, &uri) {
        Ok(q) => q,
        Err(resp) => return *resp,
    };
    let now = state.clock().now();
    let store = state.store();
    let (pending, user) = match q.look_up(&store, now) {
        Ok(found) => found,
        Err(why) => {
            drop(store);
            return why.page(&state, &q);
        }
    };
    let Some(app) = store.app(&pending.request.client_id).cloned() else {
        drop(store);
        return bad_page(&state, "the application was removed");
    };
    let resolved = store.resolve_company(&user, pending.request.company_id.as_deref());
    let companies: Vec<_> = user
        .companies
        .iter()
        .filter_map(|c| store.company(c))
        .map(|c| minijinja::context! { id => c.id, name => c.name })
        .collect();
    let company_name = match &resolved {
        Ok(CompanyChoice::Resolved(Some(c))) => store.company(c).map(|c| c.name.clone()),
        _ => None,
    };
    drop(store);
    let choose = match resolved {
        Err(r) => {
            let mut st = state.store();
            st.finish_pending(&pending.id, now, false);
            drop(st);
            return redirect_error(
                &state,
                &pending.request.redirect,
                pending.request.state.as_deref(),
                &r,
            );
        }
        Ok(CompanyChoice::UserChooses) => companies,
        Ok(CompanyChoice::Resolved(_)) => Vec::new(),
    };
    let scopes: Vec<_> = pending
        .request
        .scopes
        .iter()
        .map(|s| minijinja::context! { name => s.name(), words => s.plain_words() })
        .collect();
    let action = format!(
        "/oauth/consent?{}",
        form::encode(&[("request", &pending.id), ("user", &user.email)])
    );
    pages::render(
        &state,
        StatusCode::OK,
        "consent.html",
        minijinja::context! {
            app_name => app.name, app_summary => app.summary, user_name => user.name,
            user_email => user.email, scopes, companies => choose, company_name,
            request_id => pending.id, action, light => user.light,
            oob => pending.request.redirect.is_oob(),
            redirect => pending.request.redirect.as_str(),
            grant_lifetime => crate::store::CODE_LIFETIME_SECS,
        },
    )
}

/// `POST /oauth/consent?request=…&user=…` with `decision` (and `company_id` when asked).
pub async fn consent(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = match ConsentQuery::parse(&state, &uri) {
        Ok(q) => q,
        Err(resp) => return *resp,
    };
    let form = match page_form(&state, &body) {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    if let Some(refused) = pages::form_refused(&state, &headers, &form) {
        return refused;
    }
    let grant = match form.value("decision").ok().flatten() {
        Some("grant") => true,
        Some("deny") => false,
        _ => {
            return bad_page(
                &state,
                "the consent form needs decision=grant or decision=deny",
            )
        }
    };
    let chosen = form
        .value("company_id")
        .ok()
        .flatten()
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let now = state.clock().now();
    // One lock: look the request up, resolve the company, and take the request, so two
    // concurrent answers to one request cannot both succeed.
    let (pending, user, company) = {
        let mut store = state.store();
        let (pending, user) = match q.look_up(&store, now) {
            Ok(found) => found,
            Err(why) => {
                drop(store);
                return why.page(&state, &q);
            }
        };
        let wanted = pending.request.company_id.clone().or(chosen);
        let company = match store.resolve_company(&user, wanted.as_deref()) {
            Ok(CompanyChoice::UserChooses) if grant => {
                drop(store);
                return bad_page(&state, "choose a company: this user belongs to several");
            }
            Ok(CompanyChoice::UserChooses) => Ok(None),
            Ok(CompanyChoice::Resolved(c)) => Ok(c),
            Err(r) => Err(r),
        };
        store.finish_pending(&pending.id, now, grant && company.is_ok());
        (pending, user, company)
    };
    let req = pending.request;
    match company {
        Ok(c) => finish(&state, &req, &user.id, c, grant),
        Err(r) => redirect_error(&state, &req.redirect, req.state.as_deref(), &r),
    }
}

fn page_form(state: &AppState, body: &[u8]) -> Result<Form, Box<Response>> {
    form::parse(body)
        .map_err(|e| Box::new(bad_page(state, &format!("the form does not parse: {e}"))))
}

/// What is said after a page refusal: nothing went back to the application.
const START_AGAIN: &str = "Nothing was changed and nothing was sent to the application. To sign in, start again from the application.";

/// A login or consent form the page did not send (a script's mistake).
fn bad_page(state: &AppState, message: &str) -> Response {
    let r = Rejection::new(ErrorCode::InvalidRequest, rules::CONSENT_FORM, message).hint(
        "Post the form the page carries, with its hidden fields; or start again from the application.",
    );
    pages::error_page_after(state, StatusCode::BAD_REQUEST, &r, START_AGAIN)
}

fn unknown_user_page(state: &AppState, email: &str) -> Response {
    let known: Vec<String> = state
        .store()
        .users()
        .iter()
        .map(|u| format!("`{}`", u.email))
        .collect();
    let r = Rejection::new(
        ErrorCode::InvalidRequest,
        rules::CONSENT_FORM,
        format!("no fixture user has the email `{email}`"),
    )
    .hint(format!("Sign in as one of {}.", known.join(", ")));
    pages::error_page_after(state, StatusCode::BAD_REQUEST, &r, START_AGAIN)
}

/// The pending authorization behind a page was answered already, has expired, or is unknown.
fn gone_page(state: &AppState, gone: Gone) -> Response {
    let minutes = PENDING_LIFETIME_SECS / 60;
    let (description, hint) = match gone {
        Gone::Answered { ago, granted } => (
            format!(
                "this authorization was already answered {ago} s ago ({})",
                if granted { "granted" } else { "denied" }
            ),
            "The browser went Back to a page whose request has had its answer: each sign-in answers one authorization request, once. Start again from the application; it sends a new /oauth/authorize request.".to_owned(),
        ),
        Gone::Expired { age } => (
            format!("this authorization request was made {age} s ago; the sign-in pages are valid for {minutes} minutes"),
            "Start again from the application; it sends a new /oauth/authorize request.".to_owned(),
        ),
        Gone::Unknown => (
            "this authorization request is unknown (the mock was restarted or reset, or the link was cut)".to_owned(),
            "Start again from the application; it sends a new /oauth/authorize request.".to_owned(),
        ),
    };
    let r = Rejection::new(ErrorCode::InvalidRequest, rules::CONSENT_FORM, description).hint(hint);
    pages::error_page_after(state, StatusCode::BAD_REQUEST, &r, START_AGAIN)
}
