//! The developer portal: HTML pages mirroring Company/Enterprise Settings → Developer (for a
//! company's admins) and the Developer Portal (a user's own apps and keys), served at
//! `/developer`. Every form posts back here and runs the same store operation as the
//! control API, acting as the signed-in user, so who-may-do-what applies.
//!
//! - `mod.rs`: routes, who is signed in (`?as=`, a hidden `as` field in forms) and in which
//!   settings (`/developer/{ctx}`: a company id or `me`), the home page, shared page data.
//! - `apps.rs`: OAuth applications — list, create (the secret once), details with tabs
//!   (settings with transfer, store entry and delete; keys and secret; permissions;
//!   extensions with a Fire button; users).
//! - `actions.rs`: the forms of the details page (and the Fire button's result page).
//! - `keys.rs`: API keys (create with the secret once, delete) and API usage with the
//!   notifications.
//!
//! Pages are for a browser on this machine: loopback only (as the control API), forms carry
//! the anti-forgery token ([`crate::pages::form_refused`]), pages refuse framing.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use crate::domain::Scope;
use crate::error::{ControlError, Outcome};
use crate::form::Form;
use crate::model::{Company, Owner, User};
use crate::pages;
use crate::rules;
use crate::state::AppState;
use crate::store::Store;

mod actions;
mod apps;
mod keys;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/developer", get(home))
        .route("/developer/{ctx}/apps", get(apps::list).post(apps::create))
        .route("/developer/{ctx}/apps/{client_id}", get(apps::details))
        .route(
            "/developer/{ctx}/apps/{client_id}/{action}",
            post(actions::act),
        )
        .route("/developer/{ctx}/keys", get(keys::page).post(keys::create))
        .route("/developer/{ctx}/keys/delete", post(keys::delete))
        .route("/developer/{ctx}/usage", get(keys::usage))
        .layer(axum::middleware::from_fn_with_state(state, loopback_only))
}

async fn loopback_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match crate::control::remote_refused(&state, &req) {
        Some(refused) => refused,
        None => next.run(req).await,
    }
}

/// Which settings a page is about.
#[derive(Debug, Clone)]
pub(crate) enum Ctx {
    /// Company/Enterprise Settings → Developer.
    Company(Company),
    /// The Developer Portal: the user's own.
    Me,
}

#[derive(Serialize)]
pub(crate) struct CtxView {
    key: String,
    label: String,
}

/// The signed-in user and the settings they are in.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub user: User,
    pub ctx: Ctx,
}

impl Who {
    /// The owner the settings are about: the company, or the user's own account.
    pub fn owner(&self) -> Owner {
        match &self.ctx {
            Ctx::Company(c) => Owner::Company(c.id.clone()),
            Ctx::Me => Owner::User(self.user.id.clone()),
        }
    }

    /// The company whose settings these are; `None` in the Developer Portal.
    pub fn company_id(&self) -> Option<String> {
        match &self.ctx {
            Ctx::Company(c) => Some(c.id.clone()),
            Ctx::Me => None,
        }
    }

    /// Whose API limits the settings' apps and keys count toward.
    pub fn party(&self) -> crate::store::usage::Party {
        use crate::store::usage::Party;
        match &self.ctx {
            Ctx::Company(c) => Party::Company(c.id.clone()),
            Ctx::Me => Party::User(self.user.id.clone()),
        }
    }

    /// What `POST /__mock/apps` takes as `owner`.
    pub fn owner_arg(&self) -> String {
        match &self.ctx {
            Ctx::Company(c) => c.id.clone(),
            Ctx::Me => self.user.email.clone(),
        }
    }

    pub fn key(&self) -> String {
        match &self.ctx {
            Ctx::Company(c) => c.id.clone(),
            Ctx::Me => "me".to_owned(),
        }
    }

    fn view(&self) -> CtxView {
        CtxView {
            key: self.key(),
            label: match &self.ctx {
                Ctx::Company(c) => {
                    format!("{} settings → Developer ({} plan)", c.name, c.plan.as_str())
                }
                Ctx::Me => format!(
                    "Developer Portal: {}'s own applications and keys",
                    self.user.name
                ),
            },
        }
    }

    /// `/developer/{ctx}/{rest}?as=…`
    pub fn link(&self, rest: &str) -> String {
        let sep = if rest.contains('?') { '&' } else { '?' };
        format!(
            "/developer/{}/{rest}{sep}as={}",
            self.key(),
            crate::form::encode_component(&self.user.email)
        )
    }
}

/// A refusal shown on a page: the rule and the message (the control API's error).
#[derive(Serialize, Clone)]
pub(crate) struct PageError {
    pub rule: &'static str,
    pub message: String,
}

impl From<&ControlError> for PageError {
    fn from(e: &ControlError) -> Self {
        PageError {
            rule: e.rule,
            message: e.message.clone(),
        }
    }
}

/// Resolves `as` (an email) and `ctx` (a company id or `me`), under the settings page's
/// rules: a company's settings are its admins', on Enterprise and Professional; a light user
/// has no developer settings.
pub(crate) fn who(store: &Store, as_user: Option<&str>, ctx: &str) -> Result<Who, ControlError> {
    let email = as_user.ok_or_else(|| {
        ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("as"),
            "choose who you are first: /developer",
        )
    })?;
    let user = store.user_by_email(email).cloned().ok_or_else(|| {
        ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("as"),
            format!("no fixture user has the email `{email}`"),
        )
    })?;
    if user.light {
        return Err(ControlError::forbidden(
            rules::DEVELOPER_ADMIN,
            Some("as"),
            format!(
                "{} is a light user: light users have no developer settings",
                user.email
            ),
        ));
    }
    if ctx == "me" {
        return Ok(Who { user, ctx: Ctx::Me });
    }
    let company = store
        .company(ctx)
        .cloned()
        .ok_or_else(|| ControlError::not_found(format!("no company has the id `{ctx}`")))?;
    if !store.is_admin(&user.id, &company.id) {
        return Err(crate::store::not_admin(&user, &company));
    }
    if !company.plan.has_developer_settings() {
        return Err(ControlError::forbidden(
            rules::DEVELOPER_PLAN,
            None,
            format!("{} is on the {} plan: developer settings are only available to Enterprise and Professional admins", company.name, company.plan.as_str()),
        ));
    }
    Ok(Who {
        user,
        ctx: Ctx::Company(company),
    })
}

/// The `as` of a page's query string.
pub(crate) fn query_as(uri: &axum::http::Uri) -> (Option<String>, Option<String>) {
    let Ok(form) = crate::form::parse(uri.query().unwrap_or("").as_bytes()) else {
        return (None, None);
    };
    let get = |n: &str| form.value(n).ok().flatten().map(str::to_owned);
    (get("as"), get("tab"))
}

/// What the shared layout shows of a page.
pub(crate) struct Page<'a> {
    pub status: StatusCode,
    pub template: &'a str,
    /// `apps`, `keys` or `usage`: the navigation's current entry.
    pub section: &'a str,
    pub heading: &'a str,
    pub error: Option<PageError>,
    pub notice: Option<String>,
}

/// A page of the portal: the shared layout's data plus the page's own.
pub(crate) fn render(state: &AppState, who: &Who, p: Page<'_>, page: minijinja::Value) -> Response {
    let Page {
        status,
        template,
        section,
        heading,
        error,
        notice,
    } = p;
    let ctx = minijinja::context! {
        user => minijinja::context! { name => who.user.name, email => who.user.email },
        ctx => who.view(), section, heading, error => error.clone(), notice,
        ..page
    };
    let mut resp = pages::render(state, status, template, ctx);
    if let Some(e) = error {
        resp.extensions_mut().insert(Outcome {
            rule: e.rule,
            hint: e.message,
        });
    }
    resp
}

/// A page the signed-in user may not open (or no one is signed in): the refusal, on the
/// plain layout.
pub(crate) fn refused(state: &AppState, e: &ControlError) -> Response {
    let rule = rules::by_id(e.rule).unwrap_or(rules::CONTROL_REQUEST);
    let r = crate::error::Rejection::new(
        crate::error::ErrorCode::AccessDenied,
        rule,
        e.message.clone(),
    );
    pages::error_page_after(state, e.status, &r, "Choose who you are on /developer.")
}

/// A parsed form post, refused when forged, and its `as` (the signed-in user).
pub(crate) fn posted(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Form, String), Box<Response>> {
    let form = crate::form::parse(body).map_err(|e| {
        Box::new(
            (
                StatusCode::BAD_REQUEST,
                format!("the form does not parse: {e}"),
            )
                .into_response(),
        )
    })?;
    if let Some(refused) = pages::form_refused(state, headers, &form) {
        return Err(Box::new(refused));
    }
    let as_user = field(&form, "as").to_owned();
    Ok((form, as_user))
}

/// A field of a posted form ("" when absent or repeated).
pub(crate) fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.value(name).ok().flatten().unwrap_or("")
}

/// The form's application type (`type`), one of the select's values.
pub(crate) fn form_type(form: &Form) -> Result<crate::model::AppType, ControlError> {
    crate::model::AppType::parse(field(form, "type")).ok_or_else(|| {
        ControlError::bad_request(rules::CONTROL_REQUEST, Some("type"), "choose a type")
    })
}

/// Every value of a repeated field (checkboxes).
pub(crate) fn fields(form: &Form, name: &str) -> Vec<String> {
    form.fields()
        .iter()
        .filter(|f| f.name == name)
        .map(|f| f.value.clone())
        .collect()
}

/// Permission checkboxes, as the settings page words them.
pub(crate) fn scope_boxes(checked: crate::domain::ScopeSet) -> Vec<minijinja::Value> {
    Scope::ALL
        .iter()
        .map(|s| minijinja::context! { name => s.name(), words => s.plain_words(), checked => checked.contains(*s) })
        .collect()
}

/// Post/Redirect/Get: back to a page, with a notice in the query.
pub(crate) fn see_other(to: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// `GET /developer[?as=EMAIL]`: choose a user, then their settings.
async fn home(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    let (as_user, _) = query_as(&uri);
    let store = state.store();
    let Some(user) = as_user
        .as_deref()
        .and_then(|e| store.user_by_email(e))
        .cloned()
    else {
        let users: Vec<_> = store
            .users()
            .iter()
            .map(|u| minijinja::context! { email => u.email, name => u.name, light => u.light })
            .collect();
        drop(store);
        return pages::render(
            &state,
            StatusCode::OK,
            "portal_home.html",
            minijinja::context! {
                choose => true, users, heading => "Developer",
                user => minijinja::context! { name => "nobody yet", email => "" },
            },
        );
    };
    let mut contexts = Vec::new();
    let mut refused = Vec::new();
    if !user.light {
        for c in user.companies.iter().filter_map(|c| store.company(c)) {
            if !store.is_admin(&user.id, &c.id) {
                refused.push(format!(
                    "{}: you are not an admin (admins manage its apps and keys).",
                    c.name
                ));
            } else if !c.plan.has_developer_settings() {
                refused.push(format!(
                    "{}: the {} plan has no developer settings.",
                    c.name,
                    c.plan.as_str()
                ));
            } else {
                contexts.push(minijinja::context! {
                    key => c.id, title => format!("{} settings → Developer", c.name),
                    label => format!("The company's applications and API keys; they count toward its API limits ({} plan).", c.plan.as_str()),
                });
            }
        }
        contexts.push(minijinja::context! {
            key => "me", title => "Developer Portal",
            label => "Your own applications and API keys; they count toward your own API limits.",
        });
    }
    drop(store);
    pages::render(
        &state,
        StatusCode::OK,
        "portal_home.html",
        minijinja::context! {
            contexts, refused, heading => "Developer",
            user => minijinja::context! { name => user.name, email => user.email },
        },
    )
}
