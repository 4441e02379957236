//! The login and consent pages: `POST /oauth/login` (who signs in), `GET /oauth/consent`
//! (what the app asks for, a company choice), `POST /oauth/consent` (Grant or Deny), each for
//! one pending authorization, answered once; and the pages that explain a request that can no
//! longer be answered (answered already, expired, unknown).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::authorize::{finish, redirect_error};
use crate::error::{ErrorCode, Rejection};
use crate::form::{self, Form};
use crate::pages;
use crate::rules;
use crate::state::AppState;
use crate::store::{CompanyChoice, Gone, PENDING_LIFETIME_SECS};

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
