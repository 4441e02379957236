//! The forms of an application's details page: settings, permissions, the secret, transfer,
//! delete, store entry, users, extensions and the Fire button — each the store's operation as
//! the signed-in user; a refusal is shown on the tab it came from.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::apps::{details_page, lines, secret_page};
use super::{field, fields, form_type, posted, render, see_other, who, Page, Who};
use crate::error::ControlError;
use crate::model::{AppSettings, StoreEntryForm};
use crate::state::AppState;
use crate::store::extensions::ExtensionForm;
use crate::store::firing::FireContext;

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
        "settings" => form_type(&form).and_then(|app_type| {
            let edit = AppSettings {
                name: Some(field(&form, "name").to_owned()),
                summary: Some(field(&form, "summary").to_owned()),
                primary_format: Some(field(&form, "primary_format").to_owned()),
                redirect_urls: Some(lines(field(&form, "redirect_urls"))),
                app_type: Some(app_type),
                oauth_url: Some(field(&form, "oauth_url").to_owned()),
                supports_collaboration: Some(field(&form, "supports_collaboration") == "on"),
            };
            state
                .store()
                .update_app(&client_id, edit, me)
                .map(|_| back("Settings saved."))
        }),
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
        "store-entry" => form_type(&form).and_then(|app_type| {
            let entry = StoreEntryForm {
                app_type,
                category: field(&form, "category").to_owned(),
                visibility: Some(field(&form, "visibility").to_owned()).filter(|v| !v.is_empty()),
                teams: fields(&form, "teams"),
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
        }),
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
        company_id: who.company_id(),
        document_id: field(form, "document_id").to_owned(),
        wvm: None,
        wvm_id: None,
        element_id: opt("element_id"),
        part_id: opt("part_id"),
        ..FireContext::default()
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
