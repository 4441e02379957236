//! Registered OAuth applications and the developer settings page's rules for them: the
//! registration form, settings edits (the primary format never changes), the secret shown
//! once and regenerated (the old one stops at once, and is remembered to say so), the
//! permission scopes, users, teams and aliases on the app (never light users), transfer of
//! ownership, the App Store entry (one per app, deleted before the app), and deletion
//! (remembered, to explain a deleted app's client id).
//!
//! `entries.rs`: the App Store entries (one per app, its type the app's).
//!
//! Who may do what ([`Apps::check_manager`]): a company's apps by its admins, an
//! individual's by that user. What an edit does to grants is the store's business
//! (`grants/`): this room only says what changed.

use std::collections::{HashMap, HashSet, VecDeque};

mod entries;

use super::directory::{not_admin, Directory};
use crate::clock::Instant;
use crate::domain::{new_client_credential, new_id, ScopeSet};
use crate::error::ControlError;
use crate::model::{
    check_oauth_url, redirect_urls, App, AppRegistration, AppSettings, Member, Owner, StoreEntry,
    User,
};
use crate::rules;

/// Regenerated-away secrets remembered per app, to explain their use.
const PREVIOUS_SECRETS: usize = 3;
/// Deleted apps remembered, to explain their client id.
const DELETED_MEMORY: usize = 1_000;

#[derive(Debug)]
pub(super) struct Apps {
    by_id: HashMap<String, App>,
    /// Store entries, at most one per app.
    entries: Vec<StoreEntry>,
    /// (client id, name, deleted at), oldest first.
    deleted: VecDeque<(String, String, Instant)>,
    /// Integrated apps opened from the Applications page, newest last (at most 1,000).
    launches: VecDeque<Launch>,
}

/// An integrated cloud app opened from the Applications page: the browser went to its OAuth
/// URL with `redirectOnshapeUri`; `returned` once the app sent the user back there.
#[derive(Debug, Clone)]
pub struct Launch {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub at: Instant,
    /// When the user came back, and whether a grant existed then.
    pub returned: Option<(Instant, bool)>,
}

impl Apps {
    pub fn new(fixtures: &[App]) -> Apps {
        Apps {
            by_id: fixtures
                .iter()
                .map(|a| (a.client_id.clone(), a.clone()))
                .collect(),
            entries: Vec::new(),
            deleted: VecDeque::new(),
            launches: VecDeque::new(),
        }
    }

    pub fn get(&self, client_id: &str) -> Option<&App> {
        self.by_id.get(client_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &App> {
        self.by_id.values()
    }

    /// The app, or the control API's 404 (naming a deleted app).
    pub fn require(&self, client_id: &str) -> Result<&App, ControlError> {
        self.get(client_id).ok_or_else(|| {
            ControlError::not_found(match self.deleted_at(client_id) {
                Some((name, _)) => format!("the application `{name}` ({client_id}) was deleted"),
                None => format!("no application has the client id `{client_id}`"),
            })
        })
    }

    fn require_mut(&mut self, client_id: &str) -> Result<&mut App, ControlError> {
        self.require(client_id)?;
        self.by_id
            .get_mut(client_id)
            .ok_or_else(|| ControlError::not_found("the application is gone"))
    }

    /// When the app with this client id was deleted, and its name.
    pub fn deleted_at(&self, client_id: &str) -> Option<(&str, Instant)> {
        self.deleted
            .iter()
            .rev()
            .find(|(id, _, _)| id == client_id)
            .map(|(_, name, at)| (name.as_str(), *at))
    }

    /// When `secret` stopped being this app's secret by a regeneration.
    pub fn regenerated_away(&self, client_id: &str, secret: &str) -> Option<Instant> {
        self.get(client_id)?
            .previous_secrets
            .iter()
            .find(|(s, _)| s == secret)
            .map(|(_, at)| *at)
    }

    /// The hint for an unknown client id: a deleted app, the registered id it was probably
    /// meant to be (a dropped trailing `=`, a case slip), or where ids come from.
    pub fn unknown_client_hint(&self, given: &str, now: Instant) -> String {
        if let Some((name, at)) = self.deleted_at(given) {
            return format!(
                "The application `{name}` was deleted {} s ago: its client id, grants and tokens no longer work. Register the application again and use the new credentials.",
                now.secs_since(at)
            );
        }
        let trimmed = given.trim_end_matches('=');
        let close = self
            .by_id
            .keys()
            .find(|id| id.trim_end_matches('=') == trimmed || id.eq_ignore_ascii_case(given));
        match close {
            Some(close) => format!(
                "No application has this client id; did you mean `{close}`? Send it exactly, each `=` encoded as %3D."
            ),
            None => "No application has this client id: use the one issued at registration.".to_owned(),
        }
    }

    /// Registers an application under the settings page's rules; the creator is in its users
    /// list at once.
    pub fn register(
        &mut self,
        reg: AppRegistration,
        owner: Option<Owner>,
        creator: Option<String>,
        now: Instant,
    ) -> Result<App, ControlError> {
        let taken: HashSet<String> = self
            .by_id
            .values()
            .map(|a| a.primary_format.clone())
            .collect();
        let mut app = reg.validate(&taken, now)?;
        if self.by_id.contains_key(&app.client_id) {
            return Err(ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("client_id"),
                "client_id is already registered",
            ));
        }
        app.owner = owner;
        app.members = creator.iter().cloned().map(Member::User).collect();
        app.created_by = creator;
        self.by_id.insert(app.client_id.clone(), app.clone());
        Ok(app)
    }

    /// Whether `actor` may manage the app: an admin of the owner company, or the owner user.
    /// An app with no owner is managed through the control API without `as` only.
    pub fn check_manager(app: &App, actor: &User, dir: &Directory) -> Result<(), ControlError> {
        match &app.owner {
            Some(Owner::Company(c)) if dir.is_admin(&actor.id, c) => Ok(()),
            Some(Owner::Company(c)) => match dir.company(c) {
                Some(company) => Err(not_admin(actor, company)),
                None => Err(ControlError::forbidden(rules::DEVELOPER_ADMIN, Some("as"), "the owner company is unknown")),
            },
            Some(Owner::User(u)) if *u == actor.id => Ok(()),
            Some(Owner::User(_)) => Err(ControlError::forbidden(
                rules::DEVELOPER_ADMIN,
                Some("as"),
                format!("{} does not own `{}`: an individual's applications are managed by that user in the Developer Portal", actor.email, app.name),
            )),
            None => Err(ControlError::forbidden(
                rules::DEVELOPER_ADMIN,
                Some("as"),
                format!("`{}` has no owner: manage it through the control API without `as`, or register it with an owner", app.name),
            )),
        }
    }

    /// Edits the Settings tab. All checked before anything changes.
    pub fn update_settings(
        &mut self,
        client_id: &str,
        edit: AppSettings,
    ) -> Result<App, ControlError> {
        let app = self.require(client_id)?;
        if let Some(format) = &edit.primary_format {
            if *format != app.primary_format {
                return Err(ControlError::bad_request(
                    rules::REGISTRATION_PRIMARY_FORMAT,
                    Some("primary_format"),
                    format!(
                        "the primary format cannot be changed after the application is registered (it is `{}`)",
                        app.primary_format
                    ),
                ));
            }
        }
        if edit.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(ControlError::bad_request(
                rules::REGISTRATION_NAME,
                Some("name"),
                "name must not be empty",
            ));
        }
        let redirect_uris = edit
            .redirect_urls
            .as_deref()
            .map(redirect_urls)
            .transpose()?;
        let oauth_url = edit
            .oauth_url
            .as_deref()
            .map(|u| check_oauth_url(Some(u)))
            .transpose()?;
        if let Some(entry) = self.entry_of(client_id) {
            if edit.app_type.is_some_and(|t| t != entry.app_type) {
                return Err(ControlError::conflict(
                    rules::STORE_ENTRY,
                    Some("type"),
                    format!("the store entry says {}: a store entry's type must match its application's; change or delete the entry first", entry.app_type.label()),
                ));
            }
        }
        let app = self.require_mut(client_id)?;
        if let Some(name) = edit.name {
            app.name = name;
        }
        if let Some(summary) = edit.summary {
            app.summary = summary;
        }
        if let Some(uris) = redirect_uris {
            app.redirect_uris = uris;
        }
        if let Some(t) = edit.app_type {
            app.app_type = t;
        }
        if let Some(url) = oauth_url {
            app.oauth_url = url;
        }
        if let Some(c) = edit.supports_collaboration {
            app.supports_collaboration = c;
        }
        Ok(app.clone())
    }

    /// Replaces the permission scopes; returns the old ones.
    pub fn set_scopes(
        &mut self,
        client_id: &str,
        scopes: ScopeSet,
        now: Instant,
    ) -> Result<ScopeSet, ControlError> {
        let app = self.require_mut(client_id)?;
        let old = std::mem::replace(&mut app.scopes, scopes);
        app.scopes_changed_at = Some(now);
        Ok(old)
    }

    /// A new secret, shown once; the old one stops working at once.
    pub fn regenerate_secret(
        &mut self,
        client_id: &str,
        now: Instant,
    ) -> Result<String, ControlError> {
        let app = self.require_mut(client_id)?;
        let new = new_client_credential(29);
        let old = std::mem::replace(&mut app.client_secret, new.clone());
        app.previous_secrets.insert(0, (old, now));
        app.previous_secrets.truncate(PREVIOUS_SECRETS);
        Ok(new)
    }

    /// Deletes the app, refused while it has a store entry (the page's own order).
    pub fn delete(&mut self, client_id: &str, now: Instant) -> Result<App, ControlError> {
        self.require(client_id)?;
        if let Some(entry) = self.entry_of(client_id) {
            return Err(ControlError::conflict(
                rules::APP_DELETE_ORDER,
                None,
                format!("the application has a store entry ({}): delete that first (DELETE /__mock/store-entries/{})", entry.id, entry.id),
            ));
        }
        let app = self
            .by_id
            .remove(client_id)
            .ok_or_else(|| ControlError::not_found("the application is gone"))?;
        self.deleted
            .push_back((app.client_id.clone(), app.name.clone(), now));
        while self.deleted.len() > DELETED_MEMORY {
            self.deleted.pop_front();
        }
        Ok(app)
    }

    /// Gives the app to a new owner (checked by the caller: a full user or a company with
    /// developer settings); refused when it is the current owner.
    pub fn transfer(&mut self, client_id: &str, to: Owner) -> Result<App, ControlError> {
        let app = self.require_mut(client_id)?;
        if app.owner.as_ref() == Some(&to) {
            return Err(ControlError::bad_request(
                rules::APP_TRANSFER,
                Some("to"),
                "the application already belongs to this owner",
            ));
        }
        app.owner = Some(to);
        Ok(app.clone())
    }

    /// Adds a user, team or alias; the caller resolved it. Light users, outsiders and
    /// duplicates are refused.
    pub fn add_member(
        &mut self,
        client_id: &str,
        member: Member,
        dir: &Directory,
    ) -> Result<App, ControlError> {
        let app = self.require(client_id)?;
        let refuse = |m: String| ControlError::bad_request(rules::APP_USERS, Some("member"), m);
        let company = match &app.owner {
            Some(Owner::Company(c)) => Some(c.as_str()),
            _ => None,
        };
        match &member {
            Member::User(id) => {
                let user = dir
                    .user(id)
                    .ok_or_else(|| refuse(format!("no user has the id `{id}`")))?;
                if user.light {
                    return Err(refuse(format!(
                        "{} is a light user: light users cannot be added to applications",
                        user.email
                    )));
                }
                if let Some(c) = company {
                    if !user.companies.iter().any(|u| u == c) {
                        return Err(refuse(format!("{} is not in the application's company: add users, teams and aliases within the company", user.email)));
                    }
                }
            }
            Member::Group(id) => {
                let group = dir
                    .group(id)
                    .ok_or_else(|| refuse(format!("no team or alias has the id `{id}`")))?;
                if company != Some(group.company_id.as_str()) {
                    return Err(refuse(format!(
                        "{} `{}` is not of the application's company: teams and aliases belong to a company, and only a company's applications take them",
                        group.kind.as_str(),
                        group.name
                    )));
                }
            }
        }
        if app.members.iter().any(|m| m.id() == member.id()) {
            return Err(ControlError::conflict(
                rules::APP_USERS,
                Some("member"),
                "already in the application's users list",
            ));
        }
        let app = self.require_mut(client_id)?;
        app.members.push(member);
        Ok(app.clone())
    }

    pub fn remove_member(&mut self, client_id: &str, member_id: &str) -> Result<App, ControlError> {
        let app = self.require_mut(client_id)?;
        let before = app.members.len();
        app.members.retain(|m| m.id() != member_id);
        if app.members.len() == before {
            return Err(ControlError::not_found(format!(
                "`{member_id}` is not in the application's users list"
            )));
        }
        Ok(app.clone())
    }

    /// Whether the user sees the app's extensions without subscribing: on its users list
    /// directly or through a team or alias.
    pub fn is_member(app: &App, user_id: &str, dir: &Directory) -> bool {
        app.members.iter().any(|m| match m {
            Member::User(id) => id == user_id,
            Member::Group(g) => dir
                .group(g)
                .is_some_and(|g| g.members.iter().any(|u| u == user_id)),
        })
    }

    // ----- integrated apps opened from the Applications page -----------------------------

    pub fn launch(&mut self, client_id: &str, user_id: &str, now: Instant) -> Launch {
        let launch = Launch {
            id: new_id(),
            client_id: client_id.to_owned(),
            user_id: user_id.to_owned(),
            at: now,
            returned: None,
        };
        self.launches.push_back(launch.clone());
        while self.launches.len() > 1_000 {
            self.launches.pop_front();
        }
        launch
    }

    /// The user came back through `redirectOnshapeUri`: the first return counts.
    pub fn returned(&mut self, id: &str, granted: bool, now: Instant) -> Option<Launch> {
        let launch = self.launches.iter_mut().find(|l| l.id == id)?;
        if launch.returned.is_none() {
            launch.returned = Some((now, granted));
        }
        Some(launch.clone())
    }

    pub fn launches(&self) -> impl Iterator<Item = &Launch> {
        self.launches.iter()
    }

    /// Every client secret, current and regenerated-away, for the log's masking pass.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.by_id.values().flat_map(|a| {
            std::iter::once(a.client_secret.as_str())
                .chain(a.previous_secrets.iter().map(|(s, _)| s.as_str()))
        })
    }
}
