//! The OAuth applications pages: the list with the create form, the secret shown once, and
//! an application's details with tabs — each form running the store's operation as the
//! signed-in user, a refusal shown on the page it came from.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::{
    field, fields, posted, query_as, render, scope_boxes, see_other, who, Page, PageError, Who,
};
use crate::domain::ScopeSet;
use crate::error::ControlError;
use crate::model::{App, AppRegistration, AppSettings, AppType, Member, StoreEntryForm};
use crate::state::AppState;
use crate::store::extensions::{Context, ExtensionForm, Location};
use crate::store::firing::FireContext;
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
            let app_type =
                serde_json::from_value::<AppType>(serde_json::json!(field(&form, "type")))
                    .map_err(|_| {
                        ControlError::bad_request(
                            crate::rules::CONTROL_REQUEST,
                            Some("type"),
                            "choose a type",
                        )
                    })?;
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
fn lines(text: &str) -> Vec<String> {
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

fn details_page(
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
    let company = match &who.ctx {
        super::Ctx::Company(c) => Some(c.id.clone()),
        super::Ctx::Me => None,
    };
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
            app => view, tab, tabs, entry, extensions, documents, members, candidates, locations, contexts,
            types => types(), scopes => scope_boxes(app.scopes),
        },
    )
}

/// `POST /developer/{ctx}/apps/{client_id}/{action}`: a form of the details page.
pub async fn act(
    State(state): State<AppState>,
    Path((ctx, client_id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, as_user) = match posted(&state, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let me = Some(as_user.as_str());
    let now = state.clock().now();
    let tab = match action.as_str() {
        "secret" => "keys",
        "scopes" => "permissions",
        "extensions" | "extension-delete" | "fire" => "extensions",
        "users" | "users-remove" => "users",
        _ => "settings",
    };
    let who = match who(&state.store(), me, &ctx) {
        Ok(w) => w,
        Err(e) => return super::refused(&state, &e),
    };
    let back = |done: &str| {
        see_other(who.link(&format!(
            "apps/{}?tab={tab}&done={}",
            crate::form::encode_component(&client_id),
            crate::form::encode_component(done)
        )))
    };
    let result: Result<Response, ControlError> = match action.as_str() {
        "settings" => {
            let edit = AppSettings {
                name: Some(field(&form, "name").to_owned()),
                summary: Some(field(&form, "summary").to_owned()),
                primary_format: Some(field(&form, "primary_format").to_owned()),
                redirect_urls: Some(lines(field(&form, "redirect_urls"))),
                app_type: serde_json::from_value(serde_json::json!(field(&form, "type"))).ok(),
                oauth_url: Some(field(&form, "oauth_url").to_owned()),
                supports_collaboration: Some(field(&form, "supports_collaboration") == "on"),
            };
            state
                .store()
                .update_app(&client_id, edit, me)
                .map(|_| back("Settings saved."))
        }
        "scopes" => state
            .store()
            .set_app_scopes(&client_id, &fields(&form, "scope"), me, now)
            .map(|(_, n)| {
                back(&format!(
                    "Permissions saved; {n} live token(s) lost a scope."
                ))
            }),
        "secret" => state
            .store()
            .regenerate_secret(&client_id, me, now)
            .map(|secret| {
                secret_page(
                    &state,
                    &who,
                    "A new OAuth client secret",
                    vec![("OAuth client secret", "client-secret", secret)],
                    who.link(&format!(
                        "apps/{}?tab=keys",
                        crate::form::encode_component(&client_id)
                    )),
                )
            }),
        "transfer" => state
            .store()
            .transfer_app(&client_id, field(&form, "to").trim(), me, now)
            .map(|app| {
                let _ = app;
                see_other(who.link("apps"))
            }),
        "delete" => state
            .store()
            .delete_app(&client_id, me, now)
            .map(|_| see_other(who.link("apps"))),
        "store-entry" => {
            let entry = StoreEntryForm {
                app_type: serde_json::from_value(serde_json::json!(field(&form, "type")))
                    .unwrap_or(AppType::ConnectedCloud),
                category: field(&form, "category").to_owned(),
                visibility: Some(field(&form, "visibility").to_owned()).filter(|v| !v.is_empty()),
                teams: Vec::new(),
                description: field(&form, "description").to_owned(),
                support_url: field(&form, "support_url").to_owned(),
                support_email: field(&form, "support_email").to_owned(),
                vendor: field(&form, "vendor").to_owned(),
                version: field(&form, "version").to_owned(),
            };
            state
                .store()
                .create_store_entry(&client_id, entry, me, now)
                .map(|_| back("Store entry created (private)."))
        }
        "store-entry-delete" => {
            let id = state
                .store()
                .store_entry_of(&client_id)
                .map(|e| e.id.clone())
                .unwrap_or_default();
            state
                .store()
                .delete_store_entry(&id, me)
                .map(|_| back("Store entry deleted."))
        }
        "users" => state
            .store()
            .add_app_member(&client_id, field(&form, "member"), me)
            .map(|_| back("Added.")),
        "users-remove" => state
            .store()
            .remove_app_member(&client_id, field(&form, "member"), me)
            .map(|_| back("Removed.")),
        "extensions" => extension_form(&form).and_then(|f| {
            state
                .store()
                .add_extension(&client_id, f, me, now)
                .map(|_| back("Extension added."))
        }),
        "extension-delete" => state
            .store()
            .delete_extension(field(&form, "extension"), me)
            .map(|_| back("Extension deleted.")),
        "fire" => return fire(&state, &who, &client_id, &form).await,
        _ => Err(ControlError::not_found(format!(
            "no form `{action}` on this page"
        ))),
    };
    match result {
        Ok(resp) => resp,
        Err(e) => details_page(&state, me, &ctx, &client_id, tab, Some(&e), None),
    }
}

/// The Add extension form, as the control API's JSON would give it.
fn extension_form(form: &crate::form::Form) -> Result<ExtensionForm, ControlError> {
    let opt = |n: &str| Some(field(form, n).to_owned()).filter(|v| !v.trim().is_empty());
    let json = serde_json::json!({
        "name": field(form, "name"), "description": field(form, "description"),
        "location": field(form, "location"), "context": opt("context"),
        "action_url": field(form, "action_url"), "action_type": opt("action_type"),
        "action_body": opt("action_body"), "show_response": field(form, "show_response") == "on",
        "icon": opt("icon"),
    });
    serde_json::from_value(json).map_err(|e| {
        ControlError::bad_request(
            crate::rules::EXTENSION_FIELDS,
            None,
            format!("the extension form: {e}"),
        )
    })
}

/// The Fire button: the click played, the app called, the result shown.
async fn fire(state: &AppState, who: &Who, client_id: &str, form: &crate::form::Form) -> Response {
    let opt = |n: &str| Some(field(form, n).trim().to_owned()).filter(|v| !v.is_empty());
    let ctx = FireContext {
        user: who.user.email.clone(),
        company_id: match &who.ctx {
            super::Ctx::Company(c) => Some(c.id.clone()),
            super::Ctx::Me => None,
        },
        document_id: field(form, "document_id").to_owned(),
        wvm: None,
        wvm_id: None,
        element_id: opt("element_id"),
        tab_element_id: None,
        microversion_id: None,
        part_id: opt("part_id"),
        part_number: None,
        revision: None,
        feature_id: None,
        node_id: None,
        occurrence_path: None,
        configuration: None,
        mime_type: None,
        locale: None,
    };
    let id = field(form, "extension").to_owned();
    let out = match crate::control::extensions::fire_and_judge(state, &id, &ctx).await {
        Ok(out) => out,
        Err(e) => {
            return details_page(
                state,
                Some(&who.user.email),
                &who.key(),
                client_id,
                "extensions",
                Some(&e),
                None,
            );
        }
    };
    render(
        state,
        who,
        Page {
            status: StatusCode::OK,
            template: "portal_fired.html",
            section: "apps",
            heading: "Extension fired",
            error: None,
            notice: None,
        },
        minijinja::context! {
            name => out["extension"]["name"].as_str(), ok => out["ok"].as_bool(),
            problems => out["problems"].as_array().cloned().unwrap_or_default().into_iter().map(|p| minijinja::context! {
                rule => p["rule"].as_str().map(str::to_owned), message => p["message"].as_str().map(str::to_owned),
            }).collect::<Vec<_>>(),
            url => out["url"].as_str(), method => out["method"].as_str(), body => out["body"].as_str(),
            performed => out["performed"].as_bool(), status => out["status"].as_u64(),
            response => out["response"].as_str(), why => out["not_performed_because"].as_str(),
            back => who.link(&format!("apps/{}?tab=extensions", crate::form::encode_component(client_id))),
        },
    )
}
