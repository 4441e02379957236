//! The things the mock knows about: companies, users, teams and aliases, registered
//! applications and their store entries, API keys, documents.
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
    /// The company's admins (user ids): they manage its apps and API keys, and receive its
    /// notifications.
    pub admins: Vec<String>,
    /// Full-user seats, which the annual API limit is counted per.
    pub seats: u64,
    /// API calls made this year before the mock started.
    pub api_calls: u64,
    /// Short-term rate limit on the company's API calls.
    pub rate_limit: Option<RateLimit>,
}

/// A short-term rate limit: at most `calls` API calls per window of `per_seconds`; beyond,
/// 429 with `Retry-After` until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub calls: u64,
    pub per_seconds: u64,
}

/// A team or an alias of a company: a named group of its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub kind: GroupKind,
    pub name: String,
    pub company_id: String,
    /// User ids.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Team,
    Alias,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Team => "team",
            GroupKind::Alias => "alias",
        }
    }
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
    /// Annual API calls per (full) user (ONSHAPE-FACTS.md: Enterprise 10,000 per full user,
    /// Professional 5,000, Free, Standard and EDU Student 2,500).
    pub fn calls_per_user(self) -> u64 {
        match self {
            Plan::Enterprise => 10_000,
            Plan::Professional => 5_000,
            Plan::Standard | Plan::Free | Plan::EduStudent => 2_500,
        }
    }

    /// Whether the company's admins may register applications ("Only available for
    /// Enterprise and Professional admins").
    pub fn has_developer_settings(self) -> bool {
        matches!(self, Plan::Enterprise | Plan::Professional)
    }

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
    /// The plan of the user's own account: its annual API limit for individual apps and keys.
    pub plan: Plan,
    /// API calls made this year on the user's own account before the mock started.
    pub api_calls: u64,
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
    pub app_type: AppType,
    /// The first URL the Applications page calls (may be blank for local work).
    pub oauth_url: Option<String>,
    pub supports_collaboration: bool,
    /// Whose API limits the app's calls count toward; `None`: the token's company (or user).
    pub owner: Option<Owner>,
    /// The user who registered it (`None` for an app with no owner).
    pub created_by: Option<String>,
    /// Users, teams and aliases added to the app (the creator at once).
    pub members: Vec<Member>,
    pub created_at: Instant,
    /// Secrets replaced by a regeneration, newest first, with when (at most 3): the old
    /// secret is refused with a hint saying so.
    pub previous_secrets: Vec<(String, Instant)>,
    /// When the permission scopes were last edited.
    pub scopes_changed_at: Option<Instant>,
    /// Short-term rate limit on the app's API calls.
    pub rate_limit: Option<RateLimit>,
}

/// The application types of the registration form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppType {
    IntegratedCloud,
    ConnectedCloud,
    ConnectedDesktop,
}

impl AppType {
    pub fn as_str(self) -> &'static str {
        match self {
            AppType::IntegratedCloud => "integrated-cloud",
            AppType::ConnectedCloud => "connected-cloud",
            AppType::ConnectedDesktop => "connected-desktop",
        }
    }

    /// As the settings page names it.
    pub fn label(self) -> &'static str {
        match self {
            AppType::IntegratedCloud => "Integrated Cloud App",
            AppType::ConnectedCloud => "Connected Cloud App",
            AppType::ConnectedDesktop => "Connected Desktop App",
        }
    }

    /// The type named as [`AppType::as_str`] writes it (a form's value).
    pub fn parse(s: &str) -> Option<AppType> {
        AppType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub const ALL: [AppType; 3] = [
        AppType::IntegratedCloud,
        AppType::ConnectedCloud,
        AppType::ConnectedDesktop,
    ];
}

/// Who owns an application: a company (its admins manage it, its API limits count) or an
/// individual user (the Developer Portal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    Company(String),
    User(String),
}

/// A user, team or alias added to an application (ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    User(String),
    Group(String),
}

impl Member {
    pub fn id(&self) -> &str {
        match self {
            Member::User(id) | Member::Group(id) => id,
        }
    }
}

/// An App Store entry for an application (one per app): private until Onshape publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    pub id: String,
    pub client_id: String,
    pub app_type: AppType,
    pub category: String,
    pub visibility: Visibility,
    pub description: String,
    pub support_url: String,
    pub support_email: String,
    pub vendor: String,
    pub version: String,
    /// Set by the control API only (Onshape's review): a published app's calls do not count
    /// toward API limits.
    pub published: bool,
    pub created_at: Instant,
}

/// Team visibility of a private store entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// No internal users (the default).
    Nobody,
    AllInternal,
    /// These teams (group ids).
    Teams(Vec<String>),
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRegistration {
    pub name: String,
    #[serde(default)]
    pub summary: String,
    pub primary_format: String,
    pub redirect_urls: Vec<String>,
    pub scopes: Vec<String>,
    /// Default: `connected-desktop` when every redirect URL is loopback or oob, else
    /// `connected-cloud`.
    #[serde(default, rename = "type")]
    pub app_type: Option<AppType>,
    /// Blank or absent for local work.
    #[serde(default)]
    pub oauth_url: Option<String>,
    #[serde(default)]
    pub supports_collaboration: bool,
    /// A company id (a company app) or a user's email (a Developer Portal app); absent: no
    /// owner, calls count toward the token's company or user.
    #[serde(default)]
    pub owner: Option<String>,
    /// Who registers it (`as` in the control API): an admin of the owner company, or the
    /// owner user. Default: the company's first admin, or the owner user.
    #[serde(default, alias = "as")]
    pub created_by: Option<String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Fixtures only: fixed credentials. The control API issues fresh ones.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl AppRegistration {
    /// Applies the developer settings page's registration rules. `taken_formats` are the
    /// primary formats already registered (they must be unique).
    /// The owner and creator are resolved by the store (they need the directory): the app
    /// comes back without them.
    pub fn validate(
        self,
        taken_formats: &HashSet<String>,
        now: Instant,
    ) -> Result<App, ControlError> {
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
        let redirect_uris = redirect_urls(&self.redirect_urls)?;
        let scopes = permission_scopes(&self.scopes)?;
        let oauth_url = check_oauth_url(self.oauth_url.as_deref())?;
        let app_type = self.app_type.unwrap_or(
            if redirect_uris.iter().all(|r| r.is_oob() || r.is_loopback()) {
                AppType::ConnectedDesktop
            } else {
                AppType::ConnectedCloud
            },
        );
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
            app_type,
            oauth_url,
            supports_collaboration: self.supports_collaboration,
            owner: None,
            created_by: None,
            members: Vec::new(),
            created_at: now,
            previous_secrets: Vec::new(),
            scopes_changed_at: None,
            rate_limit: self.rate_limit,
        })
    }
}

/// The redirect URLs of the registration form: at least one, each under
/// [`RedirectUri::register`]'s rules.
pub fn redirect_urls(urls: &[String]) -> Result<Vec<RedirectUri>, ControlError> {
    let bad = |m: String| {
        ControlError::bad_request(rules::REGISTRATION_REDIRECT_URL, Some("redirect_urls"), m)
    };
    if urls.is_empty() {
        return Err(bad("at least one redirect URL is required".to_owned()));
    }
    urls.iter()
        .map(|u| RedirectUri::register(u).map_err(bad))
        .collect()
}

/// The OAuth URL of the registration form: blank for local work, else an https URL (or
/// http on loopback, for local work) — the page that starts the app's OAuth flow.
pub fn check_oauth_url(given: Option<&str>) -> Result<Option<String>, ControlError> {
    let Some(text) = given.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad =
        |m: String| ControlError::bad_request(rules::REGISTRATION_OAUTH_URL, Some("oauth_url"), m);
    let url = url::Url::parse(text).map_err(|e| bad(format!("`{text}` is not a URL: {e}")))?;
    let loopback = url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(bad(format!(
            "the OAuth URL must use https (http only on localhost for local work), not `{other}`"
        )))
        }
    }
    if url.fragment().is_some() {
        return Err(bad("the OAuth URL must not have a #fragment".to_owned()));
    }
    if text.len() > 2048 {
        return Err(bad(
            "the OAuth URL is longer than 2048 characters".to_owned()
        ));
    }
    Ok(Some(text.to_owned()))
}

/// An edit of an application's settings (`POST /__mock/apps/{client_id}/settings`, the
/// Settings tab): only the fields given change. The primary format may be sent only
/// unchanged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub primary_format: Option<String>,
    pub redirect_urls: Option<Vec<String>>,
    #[serde(rename = "type")]
    pub app_type: Option<AppType>,
    /// `""` clears it.
    pub oauth_url: Option<String>,
    pub supports_collaboration: Option<bool>,
}

/// A store entry as the form gives it; name and summary come from the application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreEntryForm {
    #[serde(rename = "type")]
    pub app_type: AppType,
    pub category: String,
    /// `none` (the default), `all`, or `teams` (then `teams` names them).
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub description: String,
    pub support_url: String,
    pub support_email: String,
    pub vendor: String,
    pub version: String,
}

/// Whether `s` looks like an email address: one `@`, a local part, a dotted domain, no
/// spaces.
pub fn is_email(s: &str) -> bool {
    let s = s.strip_prefix("mailto:").unwrap_or(s);
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                && s.len() <= 254
        }
        None => false,
    }
}
