//! The things the mock knows about: companies, users, registered applications, API keys,
//! documents.
//! Built from fixtures at start (and on reset); applications can be added at run time
//! through the control API, under the same registration rules.

use std::collections::HashSet;

use serde::Deserialize;

use crate::clock::Instant;
use crate::domain::{check_primary_format, RedirectUri, ScopeSet};
use crate::error::ControlError;
use crate::rules;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub plan: Plan,
}

/// A company's Onshape plan (its annual API limits differ: ONSHAPE-FACTS.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    #[default]
    Enterprise,
    Professional,
    Standard,
    Free,
    EduStudent,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Enterprise => "enterprise",
            Plan::Professional => "professional",
            Plan::Standard => "standard",
            Plan::Free => "free",
            Plan::EduStudent => "edu-student",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub companies: Vec<String>,
    pub light: bool,
}

impl User {
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or("")
    }
    pub fn last_name(&self) -> &str {
        self.name
            .split_once(' ')
            .map(|(_, l)| l.trim())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub name: String,
    pub summary: String,
    pub primary_format: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
}

/// An API key: acts for its owner, with the scopes chosen at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub access_key: String,
    pub secret_key: String,
    pub user_id: String,
    /// The company it was created in; `None` for a key of an individual account.
    pub company_id: Option<String>,
    pub scopes: ScopeSet,
    /// The stack it was created on (`cad.onshape.com`, or an enterprise's); it works only there.
    pub stack: String,
    pub created_at: Instant,
}

/// The permission scopes of an app or an API key: known names, at least one.
pub fn permission_scopes(names: &[String]) -> Result<ScopeSet, ControlError> {
    let scopes = ScopeSet::from_names(names.iter().map(String::as_str)).map_err(|e| {
        ControlError::bad_request(rules::REGISTRATION_SCOPES, Some("scopes"), e.to_string())
    })?;
    if scopes.is_empty() {
        return Err(ControlError::bad_request(
            rules::REGISTRATION_SCOPES,
            Some("scopes"),
            "at least one scope is required",
        ));
    }
    Ok(scopes)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub name: String,
    /// `None` for an individual account's document.
    pub company: Option<String>,
    pub owner: String,
    /// Milliseconds on the mock clock.
    pub created_at: crate::clock::Instant,
}

/// An application registration, as `POST /__mock/apps` and the fixtures give it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegistration {
    pub name: String,
    #[serde(default)]
    pub summary: String,
    pub primary_format: String,
    pub redirect_urls: Vec<String>,
    pub scopes: Vec<String>,
    /// Fixtures only: fixed credentials. The control API issues fresh ones.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl AppRegistration {
    /// Applies the developer settings page's registration rules. `taken_formats` are the
    /// primary formats already registered (they must be unique).
    pub fn validate(self, taken_formats: &HashSet<String>) -> Result<App, ControlError> {
        if self.name.trim().is_empty() {
            return Err(ControlError::bad_request(
                rules::REGISTRATION_NAME,
                Some("name"),
                "name must not be empty",
            ));
        }
        check_primary_format(&self.primary_format).map_err(|m| {
            ControlError::bad_request(
                rules::REGISTRATION_PRIMARY_FORMAT,
                Some("primary_format"),
                m,
            )
        })?;
        if taken_formats.contains(&self.primary_format) {
            return Err(ControlError::bad_request(
                rules::REGISTRATION_PRIMARY_FORMAT,
                Some("primary_format"),
                format!(
                    "primary format `{}` is already registered: it must be unique",
                    self.primary_format
                ),
            ));
        }
        if self.redirect_urls.is_empty() {
            return Err(ControlError::bad_request(
                rules::REGISTRATION_REDIRECT_URL,
                Some("redirect_urls"),
                "at least one redirect URL is required",
            ));
        }
        let redirect_uris = self
            .redirect_urls
            .iter()
            .map(|u| RedirectUri::register(u))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| {
                ControlError::bad_request(
                    rules::REGISTRATION_REDIRECT_URL,
                    Some("redirect_urls"),
                    m,
                )
            })?;
        let scopes = permission_scopes(&self.scopes)?;
        let credential = |given: Option<String>, field: &str, bytes: usize| match given {
            Some(v) if v.is_empty() || v.chars().any(|c| !c.is_ascii_graphic()) => {
                Err(ControlError::bad_request(
                    rules::CONTROL_REQUEST,
                    Some(field),
                    format!("{field} must be non-empty printable ASCII without spaces"),
                ))
            }
            Some(v) => Ok(v),
            None => Ok(crate::domain::new_client_credential(bytes)),
        };
        Ok(App {
            client_id: credential(self.client_id, "client_id", 24)?,
            client_secret: credential(self.client_secret, "client_secret", 29)?,
            name: self.name,
            summary: self.summary,
            primary_format: self.primary_format,
            redirect_uris,
            scopes,
        })
    }
}
