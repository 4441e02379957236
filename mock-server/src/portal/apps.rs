//! The OAuth applications pages: the list with the create form, the secret shown once, and
//! an application's details with tabs — each form running the store's operation as the
//! signed-in user, a refusal shown on the page it came from.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::{
    field, fields, form_type, posted, query_as, render, scope_boxes, who, Page, PageError, Who,
};
use crate::domain::ScopeSet;
use crate::error::ControlError;
use crate::model::{App, AppRegistration, AppType, Member};
use crate::state::AppState;
use crate::store::extensions::{Context, Location};
use crate::store::Store;

const TABS: [(&str, &str); 5] = [
    ("settings", "Settings"),
    ("keys", "Keys and secret"),
    ("permissions", "Permissions"),
    ("extensions", "Extensions"),
    ("users", "Users"),
];

fn types() -> Vec<minijinja::Value> {
    AppType::ALL
        .iter()
        .map(|t| minijinja::context! { value => t.as_str(), label => t.label() })
        .collect()
}

fn app_view(store: &Store, app: &App) -> minijinja::Value {
    let regenerated = app.previous_secrets.first().map(|(_, at)| *at);
    minijinja::context! {
        name => app.name, summary => app.summary, primary_format => app.primary_format,
        client_id => app.client_id, type => app.app_type.as_str(), type_label => app.app_type.label(),
        oauth_url => app.oauth_url.clone().unwrap_or_default(),
        supports_collaboration => app.supports_collaboration,
        redirect_urls => app.redirect_uris.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("\n"),
        created => app.created_at.human(), created_iso => app.created_at.rfc3339(),
        created_by => app.created_by.as_ref().and_then(|u| store.user(u)).map(|u| u.name.clone()),
        secret_regenerated => regenerated.map(|t| t.human()),
        secret_regenerated_iso => regenerated.map(|t| t.rfc3339()),
    }
}

/// `GET /developer/{ctx}/apps?as=`.
pub async fn list(State(state): State<AppState>, Path(ctx): Path<String>, uri: Uri) -> Response {
    let (as_user, _) = query_as(&uri);
    list_page(
        &state,
        as_user.as_deref(),
        &ctx,
        None,
        minijinja::Value::UNDEFINED,
    )
}

fn list_page(
    state: &AppState,
    as_user: Option<&str>,
    ctx: &str,
    error: Option<&ControlError>,
    form: minijinja::Value,
) -> Response {
    let store = state.store();
    let who = match who(&store, as_user, ctx) {
        Ok(w) => w,
        Err(e) => {
            drop(store);
            return super::refused(state, &e);
        }
    };
    let owner = Some(who.owner());
    let mut apps: Vec<&App> = store.apps().filter(|a| a.owner == owner).collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    let apps: Vec<_> = apps.into_iter().map(|a| app_view(&store, a)).collect();
    drop(store);
    let form = if form.is_undefined() {
        minijinja::context! { type => AppType::ConnectedCloud.as_str(), redirect_urls => "https://" }
    } else {
        form
    };
    render(
        state,
        &who,
        Page {
            status: error.map_or(StatusCode::OK, |e| e.status),
            template: "portal_apps.html",
            section: "apps",
            heading: "OAuth applications",
            error: error.map(PageError::from),
            notice: None,
        },
        minijinja::context! { apps, form, types => types(), scopes => scope_boxes(ScopeSet::EMPTY) },
    )
}

/// `POST /developer/{ctx}/apps`: the create form.
pub async fn create(
    State(state): State<AppState>,
    Path(ctx): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, as_user) = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let now = state.clock().now();
    let reg_result = {
        let mut store = state.store();
        who(&store, Some(&as_user), &ctx).and_then(|w| {
            let app_type = form_type(&form)?;
            let reg = AppRegistration {
                name: field(&form, "name").to_owned(),
                summary: field(&form, "summary").to_owned(),
                primary_format: field(&form, "primary_format").trim().to_owned(),
                redirect_urls: lines(field(&form, "redirect_urls")),
                scopes: fields(&form, "scope"),
                app_type: Some(app_type),
                oauth_url: Some(field(&form, "oauth_url").to_owned()),
                supports_collaboration: field(&form, "supports_collaboration") == "on",
                owner: Some(w.owner_arg()),
                created_by: Some(w.user.email.clone()),
                ..AppRegistration::default()
            };
            store.register_app(reg, now).map(|app| (w, app))
        })
    };
    match reg_result {
        Ok((w, app)) => secret_page(
            &state,
            &w,
            "Copy the OAuth secret key",
            vec![
                (
                    "OAuth client identifier",
                    "client-id",
                    app.client_id.clone(),
                ),
                (
                    "OAuth client secret",
                    "client-secret",
                    app.client_secret.clone(),
                ),
            ],
            w.link(&format!(
                "apps/{}",
                crate::form::encode_component(&app.client_id)
            )),
        ),
        Err(e) => {
            let again = minijinja::context! {
                name => field(&form, "name"), primary_format => field(&form, "primary_format"),
                summary => field(&form, "summary"), redirect_urls => field(&form, "redirect_urls"),
                type => field(&form, "type"), oauth_url => field(&form, "oauth_url"),
            };
            list_page(&state, Some(&as_user), &ctx, Some(&e), again)
        }
    }
}

/// One value per non-blank line.
pub(super) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The secret, shown once (never in a URL, never cached).
pub(super) fn secret_page(
    state: &AppState,
    who: &Who,
    what: &str,
    credentials: Vec<(&str, &str, String)>,
    next: String,
) -> Response {
    let credentials: Vec<_> = credentials
        .into_iter()
        .map(|(label, id, value)| minijinja::context! { label, id, value })
        .collect();
    let mut resp = render(
        state,
        who,
        Page {
            status: StatusCode::OK,
            template: "portal_secret.html",
            section: "apps",
            heading: what,
            error: None,
            notice: None,
        },
        minijinja::context! { what, credentials, next },
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// `GET /developer/{ctx}/apps/{client_id}?as=&tab=`.
pub async fn details(
    State(state): State<AppState>,
    Path((ctx, client_id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let (as_user, tab) = query_as(&uri);
    let notice = crate::form::parse(uri.query().unwrap_or("").as_bytes())
        .ok()
        .and_then(|f| f.value("done").ok().flatten().map(str::to_owned));
    details_page(
        &state,
        as_user.as_deref(),
        &ctx,
        &client_id,
        tab.as_deref().unwrap_or("settings"),
        None,
        notice,
    )
}

pub(super) fn details_page(
    state: &AppState,
    as_user: Option<&str>,
    ctx: &str,
    client_id: &str,
    tab: &str,
    error: Option<&ControlError>,
    notice: Option<String>,
) -> Response {
    let store = state.store();
    let who = match who(&store, as_user, ctx) {
        Ok(w) => w,
        Err(e) => {
            drop(store);
            return super::refused(state, &e);
        }
    };
    let Some(app) = store
        .app(client_id)
        .filter(|a| a.owner.as_ref() == Some(&who.owner()))
        .cloned()
    else {
        drop(store);
        let e = ControlError::not_found(format!("this settings page has no application `{client_id}` (deleted, or transferred to another owner)"));
        return render(
            state,
            &who,
            Page {
                status: StatusCode::NOT_FOUND,
                template: "portal_apps.html",
                section: "apps",
                heading: "Not found",
                error: Some(PageError::from(&e)),
                notice: None,
            },
            minijinja::context! { apps => Vec::<String>::new(), form => minijinja::context! {}, types => types(), scopes => scope_boxes(ScopeSet::EMPTY) },
        );
    };
    let tab = if TABS.iter().any(|(id, _)| *id == tab) {
        tab
    } else {
        "settings"
    };
    let tabs: Vec<_> = TABS
        .iter()
        .map(|(id, label)| minijinja::context! { id, label })
        .collect();
    let entry = store.store_entry_of(&app.client_id).map(|e| {
        minijinja::context! { id => e.id, category => e.category, version => e.version, published => e.published }
    });
    let extensions: Vec<_> = store
        .extensions_of(&app.client_id)
        .into_iter()
        .map(|e| minijinja::context! {
            id => e.id, name => e.name, location => e.location.label(),
            context => e.context.map(|c| c.as_str()), action_type => e.action_type.map(|t| t.as_str()),
            action_url => e.action_url, warnings => e.warnings(),
        })
        .collect();
    let documents: Vec<_> = store
        .documents_of_user(&who.user)
        .into_iter()
        .map(|d| minijinja::context! { id => d.id, name => d.name })
        .collect();
    let members: Vec<_> = app
        .members
        .iter()
        .map(|m| match m {
            Member::User(id) => minijinja::context! { id, kind => "user", name => store.user(id).map(|u| format!("{} ({})", u.name, u.email)) },
            Member::Group(id) => {
                let g = store.group(id);
                minijinja::context! { id, kind => g.map_or("group", |g| g.kind.as_str()), name => g.map(|g| g.name.clone()) }
            }
        })
        .collect();
    let company = who.company_id();
    let mut candidates: Vec<minijinja::Value> = store
        .users()
        .iter()
        .filter(|u| company.as_ref().is_none_or(|c| u.companies.contains(c)))
        .map(|u| minijinja::context! { value => u.email, label => format!("{} ({}){}", u.name, u.email, if u.light { ", light user" } else { "" }) })
        .collect();
    candidates.extend(
        store
            .groups()
            .iter()
            .filter(|g| Some(&g.company_id) == company.as_ref())
            .map(|g| minijinja::context! { value => g.id, label => format!("{} ({})", g.name, g.kind.as_str()) }),
    );
    let teams: Vec<_> = store
        .groups()
        .iter()
        .filter(|g| {
            g.kind == crate::model::GroupKind::Team && Some(&g.company_id) == company.as_ref()
        })
        .map(|g| minijinja::context! { id => g.id, name => g.name })
        .collect();
    let view = app_view(&store, &app);
    drop(store);
    let locations: Vec<_> = Location::ALL
        .iter()
        .map(|l| minijinja::context! { value => l.as_str(), label => l.label() })
        .collect();
    let contexts: Vec<&str> = [
        Context::Part,
        Context::SubAssembly,
        Context::Feature,
        Context::Mate,
        Context::MateFeature,
        Context::Instance,
        Context::Document,
        Context::PartStudio,
        Context::Assembly,
        Context::Drawing,
        Context::BlobElement,
    ]
    .iter()
    .map(|c| c.as_str())
    .collect();
    render(
        state,
        &who,
        Page {
            status: error.map_or(StatusCode::OK, |e| e.status),
            template: "portal_app.html",
            section: "apps",
            heading: &app.name,
            error: error.map(PageError::from),
            notice,
        },
        minijinja::context! {
            app => view, tab, tabs, entry, teams, extensions, documents, members, candidates, locations, contexts,
            types => types(), scopes => scope_boxes(app.scopes),
        },
    )
}
