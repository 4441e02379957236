//! Firing an extension as Onshape would when a user clicks it: who may (the app's users, or a
//! published app), the placeholder values of the context (document, workspace or version,
//! element, part…), the action URL and body with them substituted, the query parameters
//! Onshape appends, and — once the caller has performed the request (`control/extensions.rs`,
//! outside the store's lock) — what was wrong with the app's answer.

use serde::Deserialize;
use serde_json::{json, Value};

use super::apps::Apps;
use super::extensions::{ActionType, Extension, Location, Shape};
use super::placeholders::{self, Substituted};
use super::Store;
use crate::error::ControlError;
use crate::model::Plan;
use crate::rules;

/// Where and by whom the extension is clicked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FireContext {
    /// The user's email.
    pub user: String,
    /// The company of the user's session (for `{$sessionCompanyId}`); default their only one.
    #[serde(default)]
    pub company_id: Option<String>,
    pub document_id: String,
    /// `w` (default) or `v`.
    #[serde(default)]
    pub wvm: Option<String>,
    /// Default: the document's default workspace.
    #[serde(default)]
    pub wvm_id: Option<String>,
    #[serde(default)]
    pub element_id: Option<String>,
    #[serde(default)]
    pub tab_element_id: Option<String>,
    #[serde(default)]
    pub microversion_id: Option<String>,
    #[serde(default)]
    pub part_id: Option<String>,
    #[serde(default)]
    pub part_number: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub feature_id: Option<String>,
    #[serde(default)]
    pub node_id: Option<String>,
    #[serde(default)]
    pub occurrence_path: Option<String>,
    #[serde(default)]
    pub configuration: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Default `en-US`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// A problem with the extension or the app's answer: the rule and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: &'static str,
    pub message: String,
}

/// The request Onshape would make (or the page it would open).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub extension: Extension,
    pub url: String,
    /// `None`: nothing is requested, the URL is opened (a window, a panel, a tab).
    pub method: Option<&'static str>,
    pub body: Option<String>,
    pub url_report: Substituted,
    pub body_report: Option<Substituted>,
    pub problems: Vec<Problem>,
}

impl Prepared {
    pub fn report_json(&self) -> Value {
        let mut all = self.url_report.clone();
        if let Some(b) = &self.body_report {
            for (to, from) in [
                (&mut all.replaced, &b.replaced),
                (&mut all.missing, &b.missing),
                (&mut all.unknown, &b.unknown),
                (&mut all.deprecated, &b.deprecated),
            ] {
                for n in from {
                    if !to.contains(n) {
                        to.push(n.clone());
                    }
                }
            }
        }
        json!({
            "replaced": all.replaced, "missing": all.missing,
            "unknown": all.unknown, "deprecated": all.deprecated,
        })
    }
}

fn percent(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, crate::form::COMPONENT).to_string()
}

/// A value inside a JSON string: escaped, without the quotes.
fn json_escaped(v: &str) -> String {
    let quoted = serde_json::to_string(v).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_owned()
}

impl Store {
    /// The request (or page) an extension makes when `ctx.user` clicks it, with every
    /// placeholder problem found before anything is sent.
    pub fn prepare_fire(
        &self,
        id: &str,
        ctx: &FireContext,
        api_base: &str,
    ) -> Result<Prepared, ControlError> {
        let ext = self
            .extensions
            .get(id)
            .ok_or_else(|| ControlError::not_found(format!("no extension has the id `{id}`")))?
            .clone();
        let app = self.apps.require(&ext.client_id)?;
        let bad = |field: &str, m: String| {
            ControlError::bad_request(rules::CONTROL_REQUEST, Some(field), m)
        };
        let user = self.user_by_email(&ctx.user).ok_or_else(|| {
            bad(
                "user",
                format!("no fixture user has the email `{}`", ctx.user),
            )
        })?;
        if !Apps::is_member(app, &user.id, &self.directory)
            && !self.apps.is_published(&app.client_id)
        {
            return Err(ControlError::forbidden(
                rules::EXTENSION_USERS,
                Some("user"),
                format!("{} does not see `{}`'s extensions: they are not on its users list (nor in a team or alias on it), and the app is not published", user.email, app.name),
            ));
        }
        let doc = self
            .documents_of_user(user)
            .into_iter()
            .find(|d| d.id == ctx.document_id)
            .ok_or_else(|| {
                bad(
                    "document_id",
                    format!(
                        "{} has no document `{}` they can open",
                        user.email, ctx.document_id
                    ),
                )
            })?;
        let wvm = ctx.wvm.as_deref().unwrap_or("w");
        if !matches!(wvm, "w" | "v") {
            return Err(bad(
                "wvm",
                format!("wvm is `w` (a workspace) or `v` (a version), not `{wvm}`"),
            ));
        }
        let session_company = match &ctx.company_id {
            Some(c) if user.companies.contains(c) => Some(c.clone()),
            Some(c) => {
                return Err(bad(
                    "company_id",
                    format!("{} is not in company `{c}`", user.email),
                ))
            }
            None => user.companies.first().cloned(),
        };
        let wvm_id = ctx
            .wvm_id
            .clone()
            .unwrap_or_else(|| crate::api::workspace_id(&doc.id));
        let company_id = doc.company.clone().unwrap_or_else(|| "cad".to_owned());
        let session_company_id = session_company
            .as_deref()
            .and_then(|c| self.company(c))
            .filter(|c| c.plan == Plan::Enterprise)
            .map_or_else(|| "cad".to_owned(), |c| c.id.clone());
        let given = |v: &Option<String>| v.clone();
        let value = |name: &str| -> Option<String> {
            if !ext.location.replaces(name, ext.context) {
                return None;
            }
            match name {
                "documentId" => Some(doc.id.clone()),
                "workspaceOrVersion" => Some(wvm.to_owned()),
                "workspaceOrVersionId" => Some(wvm_id.clone()),
                "workspaceId" => (wvm == "w").then(|| wvm_id.clone()),
                "versionId" => (wvm == "v").then(|| wvm_id.clone()),
                "elementId" => given(&ctx.element_id),
                "tabElementId" => given(&ctx.tab_element_id).or_else(|| given(&ctx.element_id)),
                "microversionId" => given(&ctx.microversion_id),
                "partId" => given(&ctx.part_id),
                "partNumber" => given(&ctx.part_number),
                "revision" => given(&ctx.revision),
                "featureId" => given(&ctx.feature_id),
                "nodeId" => given(&ctx.node_id),
                "occurrencePath" => given(&ctx.occurrence_path),
                "configuration" => given(&ctx.configuration),
                "mimeType" => given(&ctx.mime_type),
                "companyId" => Some(company_id.clone()),
                "sessionCompanyId" => Some(session_company_id.clone()),
                _ => None,
            }
        };
        let url_report = placeholders::substitute(&ext.action_url, value, percent);
        let body_report = match (ext.location.shape(), &ext.action_body) {
            (Shape::Action, Some(body)) => {
                Some(placeholders::substitute(body, value, json_escaped))
            }
            _ => None,
        };
        // The query parameters Onshape appends (none for a part number generator).
        let mut query: Vec<(&str, String)> = Vec::new();
        if ext.location == Location::ElementTab {
            query.push(("documentId", doc.id.clone()));
            query.push((
                if wvm == "w" {
                    "workspaceId"
                } else {
                    "versionId"
                },
                wvm_id.clone(),
            ));
            if let Some(e) = &ctx.element_id {
                query.push(("elementId", e.clone()));
            }
        }
        if ext.location != Location::PartNumberGenerator {
            query.push(("server", api_base.to_owned()));
            query.push(("companyId", company_id.clone()));
            query.push(("userId", user.id.clone()));
            query.push((
                "locale",
                ctx.locale.clone().unwrap_or_else(|| "en-US".to_owned()),
            ));
            query.push(("clientId", app.client_id.clone()));
        }
        let mut url = url_report.text.clone();
        for (i, (k, v)) in query.iter().enumerate() {
            let sep = if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&percent(v));
        }
        let (method, body) = match (ext.location.shape(), ext.action_type) {
            (Shape::Generator, _) => (
                Some("POST"),
                Some(
                    json!({
                        "id": crate::domain::new_id(), "documentId": doc.id, "elementId": ctx.element_id,
                        "workspaceId": wvm_id, "elementType": "PARTSTUDIO", "partId": ctx.part_id,
                        "companyId": company_id, "partNumber": ctx.part_number,
                        "configuration": ctx.configuration, "categories": [],
                    })
                    .to_string(),
                ),
            ),
            (Shape::Action, Some(ActionType::Get)) => (Some("GET"), None),
            (Shape::Action, Some(ActionType::Post)) => {
                (Some("POST"), Some(body_report.as_ref().map_or_else(|| "{}".to_owned(), |b| b.text.clone())))
            }
            _ => (None, None),
        };
        let mut problems = Vec::new();
        let placeholder = |m: String| Problem {
            rule: rules::EXTENSION_PLACEHOLDERS.id,
            message: m,
        };
        for report in std::iter::once(&url_report).chain(body_report.as_ref()) {
            for name in &report.missing {
                problems.push(placeholder(if ext.location.replaces(name, ext.context) {
                    format!(
                        "{{${name}}} has no value in this context: give {} when firing (a click would have one selected)",
                        field_for(name)
                    )
                } else {
                    format!(
                        "{{${name}}} is not replaced at the {} location{}: it went out as written",
                        ext.location.label(),
                        ext.context.map_or(String::new(), |c| format!(" in the {} context", c.as_str()))
                    )
                }));
            }
            for name in &report.unknown {
                problems.push(placeholder(format!(
                    "{{${name}}} is not a documented placeholder and went out as written{}",
                    placeholders::suggestion(name)
                        .map_or(String::new(), |s| format!(": did you mean {{${s}}}?"))
                )));
            }
            for name in &report.deprecated {
                problems.push(placeholder(format!("{{${name}}} is deprecated: use {{$workspaceOrVersion}}/{{$workspaceOrVersionId}}")));
            }
        }
        if let Some(b) = &body {
            if let Err(e) = serde_json::from_str::<Value>(b) {
                problems.push(Problem {
                    rule: rules::EXTENSION_FIELDS.id,
                    message: format!(
                        "the action body with its placeholders replaced is not valid JSON: {e}"
                    ),
                });
            }
        }
        Ok(Prepared {
            extension: ext,
            url,
            method,
            body,
            url_report,
            body_report,
            problems,
        })
    }
}

/// The firing context's field for a placeholder.
fn field_for(name: &str) -> &'static str {
    match name {
        "elementId" => "element_id",
        "tabElementId" => "tab_element_id or element_id",
        "microversionId" => "microversion_id",
        "partId" => "part_id",
        "partNumber" => "part_number",
        "revision" => "revision",
        "featureId" => "feature_id",
        "nodeId" => "node_id",
        "occurrencePath" => "occurrence_path",
        "configuration" => "configuration",
        "mimeType" => "mime_type",
        "versionId" => "wvm \"v\" and wvm_id",
        "workspaceId" => "wvm \"w\"",
        _ => "the value",
    }
}

/// What the app answered, judged: a status outside 2xx, no answer in time, a body that is not
/// JSON where Show response (or a part number generator) needs one.
pub fn judge(
    ext: &Extension,
    answer: Result<(u16, String), String>,
    timeout_secs: u64,
) -> Vec<Problem> {
    let response = |m: String| Problem {
        rule: rules::EXTENSION_RESPONSE.id,
        message: m,
    };
    let (status, body) = match answer {
        Err(e) => return vec![response(format!("the app gave no answer within {timeout_secs} s ({e}): Onshape gives up on a GET or POST action after 180 s"))],
        Ok(a) => a,
    };
    let mut out = Vec::new();
    if !(200..300).contains(&status) {
        out.push(response(format!(
            "the app answered {status}: the action failed"
        )));
    }
    let needs_json = ext.show_response || ext.location == Location::PartNumberGenerator;
    if needs_json {
        match serde_json::from_str::<Value>(&body) {
            Err(e) => out.push(response(format!(
                "{} the answer must be valid JSON, and it is not ({e}): {}",
                if ext.show_response {
                    "Show response is on:"
                } else {
                    "For a part number generator"
                },
                body.chars().take(120).collect::<String>()
            ))),
            Ok(v) if ext.location == Location::PartNumberGenerator => {
                for field in ["id", "partNumber"] {
                    if v.get(field).is_none() {
                        out.push(response(format!(
                            "a part number generator's answer must contain `{field}`"
                        )));
                    }
                }
            }
            Ok(_) => {}
        }
    }
    out
}
