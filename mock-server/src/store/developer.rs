//! The developer settings as operations that cross rooms: who acts (`as`, checked against
//! the directory), what an app edit does to its grants (`grants/`) and to the masking pass,
//! extensions and integrated apps. How API calls are metered is `metering.rs`.
//!
//! Grants follow the app (README "Developer settings"): a deleted app's grants and tokens are
//! revoked; narrowed permissions narrow every grant and live token at once; widened ones
//! widen nothing until users authorize again; a regenerated secret leaves grants and tokens
//! alone (the token endpoint refuses the old secret, saying when it was replaced).

use super::apps::{Apps, Launch};
use super::directory::resolve_owner;
use super::extensions::{Extension, ExtensionForm};
use super::usage::{Limited, Notification, Party};
use super::Store;
use crate::clock::Instant;
use crate::error::ControlError;
use crate::model::{
    permission_scopes, App, AppRegistration, AppSettings, Member, Owner, StoreEntry,
    StoreEntryForm, User,
};
use crate::rules;

impl Store {
    /// The acting user (`as`), if one is named; an unknown email is refused.
    pub fn actor(&self, as_user: Option<&str>) -> Result<Option<User>, ControlError> {
        as_user
            .map(|email| {
                self.user_by_email(email).cloned().ok_or_else(|| {
                    ControlError::bad_request(
                        rules::CONTROL_REQUEST,
                        Some("as"),
                        format!("no fixture user has the email `{email}`"),
                    )
                })
            })
            .transpose()
    }

    /// The app, after checking that `as_user` (when named) may manage it.
    fn managed(&self, client_id: &str, as_user: Option<&str>) -> Result<&App, ControlError> {
        let app = self.apps.require(client_id)?;
        if let Some(actor) = self.actor(as_user)? {
            Apps::check_manager(app, &actor, &self.directory)?;
        }
        Ok(app)
    }

    /// Creates an API key under the settings page's rules: a name of 1 to 256 characters, the
    /// key's company one of its user's, and `as_user` (when named) allowed to manage it. The
    /// secret joins the masking pass.
    pub fn create_api_key_as(
        &mut self,
        new: super::apikeys::NewKey,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<super::apikeys::ApiKey, ControlError> {
        let bad = |field: &str, m: String| {
            ControlError::bad_request(rules::CONTROL_REQUEST, Some(field), m)
        };
        if new.name.trim().is_empty() || new.name.chars().count() > 256 {
            return Err(bad(
                "name",
                "a key needs a name of 1 to 256 characters".into(),
            ));
        }
        let user = self
            .user(&new.user_id)
            .ok_or_else(|| bad("user", format!("no user has the id `{}`", new.user_id)))?;
        if let Some(c) = new
            .company_id
            .as_deref()
            .filter(|c| !user.companies.iter().any(|u| u == c))
        {
            return Err(bad(
                "company_id",
                format!("{} is not in company `{c}`", user.email),
            ));
        }
        self.check_key_manager(as_user, &new.user_id, new.company_id.as_deref())?;
        Ok(self.create_api_key(new, now))
    }

    /// Deletes an API key, when `as_user` (if named) may manage it: it stops working at once.
    pub fn delete_api_key_as(
        &mut self,
        access_key: &str,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<(), ControlError> {
        let (user_id, company_id) = self
            .api_keys
            .list()
            .into_iter()
            .find(|k| k.access_key == access_key)
            .map(|k| (k.user_id.clone(), k.company_id.clone()))
            .ok_or_else(|| ControlError::not_found("no API key has this access key"))?;
        self.check_key_manager(as_user, &user_id, company_id.as_deref())?;
        self.delete_api_key(access_key, now);
        Ok(())
    }

    /// Whether `as_user` (when named) may create or delete a key of `user_id` in `company_id`:
    /// the company's admins manage its keys ("for anyone in the company"), a user their own
    /// individual keys.
    fn check_key_manager(
        &self,
        as_user: Option<&str>,
        user_id: &str,
        company_id: Option<&str>,
    ) -> Result<(), ControlError> {
        let Some(actor) = self.actor(as_user)? else {
            return Ok(());
        };
        match company_id {
            Some(c) if self.directory.is_admin(&actor.id, c) => Ok(()),
            Some(c) => match self.company(c) {
                Some(company) => Err(super::directory::not_admin(&actor, company)),
                None => Err(ControlError::not_found(format!("no company has the id `{c}`"))),
            },
            None if actor.id == user_id => Ok(()),
            None => Err(ControlError::forbidden(
                rules::DEVELOPER_ADMIN,
                Some("as"),
                format!("{} cannot manage another user's individual API keys: they are managed on that user's My Account - Developer page", actor.email),
            )),
        }
    }

    /// Registers an application under the settings page's rules (owner and creator as
    /// [`resolve_owner`] decides); its secret joins the masking pass and its rate limit the
    /// meter.
    pub fn register_app(
        &mut self,
        reg: AppRegistration,
        now: Instant,
    ) -> Result<App, ControlError> {
        let (owner, creator) = resolve_owner(
            self.directory.companies(),
            self.directory.users(),
            reg.owner.as_deref(),
            reg.created_by.as_deref(),
        )?;
        let app = self.apps.register(reg, owner, creator, now)?;
        if let Some(limit) = app.rate_limit {
            self.usage
                .set_rate_limit(Limited::App(app.client_id.clone()), Some(limit));
        }
        self.rebuild_secret_matcher();
        Ok(app)
    }

    pub fn update_app(
        &mut self,
        client_id: &str,
        edit: AppSettings,
        as_user: Option<&str>,
    ) -> Result<App, ControlError> {
        self.managed(client_id, as_user)?;
        self.apps.update_settings(client_id, edit)
    }

    /// New permission scopes; grants and live tokens lose what the app no longer has.
    /// Returns the app and how many live access tokens were narrowed.
    pub fn set_app_scopes(
        &mut self,
        client_id: &str,
        names: &[String],
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<(App, usize), ControlError> {
        self.managed(client_id, as_user)?;
        let scopes = permission_scopes(names)?;
        self.apps.set_scopes(client_id, scopes, now)?;
        let narrowed = self.grants.narrow_app(client_id, scopes);
        let app = self.apps.require(client_id)?.clone();
        Ok((app, narrowed))
    }

    /// A new client secret (returned once); the old one stops working at once.
    pub fn regenerate_secret(
        &mut self,
        client_id: &str,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<String, ControlError> {
        self.managed(client_id, as_user)?;
        let secret = self.apps.regenerate_secret(client_id, now)?;
        self.rebuild_secret_matcher();
        Ok(secret)
    }

    /// When `secret` was this app's until a regeneration replaced it.
    pub fn secret_regenerated_at(&self, client_id: &str, secret: &str) -> Option<Instant> {
        self.apps.regenerated_away(client_id, secret)
    }

    /// Deletes the app (refused while it has a store entry); its grants and tokens are
    /// revoked. Returns the app and how many grants went.
    pub fn delete_app(
        &mut self,
        client_id: &str,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<(App, usize), ControlError> {
        self.managed(client_id, as_user)?;
        let app = self.apps.delete(client_id, now)?;
        let grants = self.grants.retire_app(client_id, now);
        self.extensions.remove_app(client_id);
        self.usage
            .set_rate_limit(Limited::App(client_id.to_owned()), None);
        Ok((app, grants))
    }

    /// Transfers the app to a user (`to` an email) or a company (`to` an id). The new owner
    /// is notified (a company's admins); future usage counts toward it.
    pub fn transfer_app(
        &mut self,
        client_id: &str,
        to: &str,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<App, ControlError> {
        let actor = self.actor(as_user)?;
        let app_name = self.managed(client_id, as_user)?.name.clone();
        let refuse = |m: String| ControlError::bad_request(rules::APP_TRANSFER, Some("to"), m);
        let (owner, recipients, whom) = if let Some(company) = self.company(to) {
            if !company.plan.has_developer_settings() {
                return Err(ControlError::forbidden(
                    rules::DEVELOPER_PLAN,
                    Some("to"),
                    format!("{} is on the {} plan: its admins have no developer settings to receive the application", company.name, company.plan.as_str()),
                ));
            }
            if let Some(a) = &actor {
                if !a.companies.contains(&company.id) {
                    return Err(refuse(format!(
                        "{} can transfer only to their own companies, not to {}",
                        a.email, company.name
                    )));
                }
            }
            let admins = self.recipients(&Party::Company(company.id.clone()));
            (
                Owner::Company(company.id.clone()),
                admins,
                company.name.clone(),
            )
        } else {
            let user = self.user_by_email(to).ok_or_else(|| {
                refuse(format!("`{to}` is neither a company id nor a user's email"))
            })?;
            if user.light {
                return Err(refuse(format!(
                    "{} is a light user: transfer to a full user",
                    user.email
                )));
            }
            (
                Owner::User(user.id.clone()),
                vec![user.email.clone()],
                user.email.clone(),
            )
        };
        let app = self.apps.transfer(client_id, owner)?;
        self.usage.notify(Notification {
            at: now,
            to: recipients,
            subject: format!("The application {app_name} was transferred to {whom}"),
            body: format!("{app_name} now belongs to {whom}: it appears in their developer settings, and its future API usage counts toward them."),
            kind: "app-transfer".to_owned(),
        });
        Ok(app)
    }

    /// Adds a user (by email), team or alias (by id) to the app's users list.
    pub fn add_app_member(
        &mut self,
        client_id: &str,
        member: &str,
        as_user: Option<&str>,
    ) -> Result<App, ControlError> {
        self.managed(client_id, as_user)?;
        let member = if member.contains('@') {
            let user = self.user_by_email(member).ok_or_else(|| {
                ControlError::bad_request(
                    rules::APP_USERS,
                    Some("member"),
                    format!("no user has the email `{member}`"),
                )
            })?;
            Member::User(user.id.clone())
        } else {
            Member::Group(member.to_owned())
        };
        self.apps.add_member(client_id, member, &self.directory)
    }

    pub fn remove_app_member(
        &mut self,
        client_id: &str,
        member_id: &str,
        as_user: Option<&str>,
    ) -> Result<App, ControlError> {
        self.managed(client_id, as_user)?;
        let id = match self.user_by_email(member_id) {
            Some(u) => u.id.clone(),
            None => member_id.to_owned(),
        };
        self.apps.remove_member(client_id, &id)
    }

    pub fn store_entries(&self) -> &[StoreEntry] {
        self.apps.entries()
    }

    pub fn store_entry(&self, id: &str) -> Option<&StoreEntry> {
        self.apps.entry(id)
    }

    pub fn store_entry_of(&self, client_id: &str) -> Option<&StoreEntry> {
        self.apps.entry_of(client_id)
    }

    /// Creates the app's store entry, refused when it has one.
    pub fn create_store_entry(
        &mut self,
        client_id: &str,
        form: StoreEntryForm,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<StoreEntry, ControlError> {
        self.managed(client_id, as_user)?;
        if let Some(e) = self.apps.entry_of(client_id) {
            return Err(ControlError::conflict(
                rules::STORE_ENTRY,
                Some("client_id"),
                format!(
                    "the application already has a store entry ({}): edit it instead",
                    e.id
                ),
            ));
        }
        self.apps.save_entry(client_id, form, &self.directory, now)
    }

    pub fn update_store_entry(
        &mut self,
        id: &str,
        form: StoreEntryForm,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<StoreEntry, ControlError> {
        let client_id = self.entry_app(id)?;
        self.managed(&client_id, as_user)?;
        self.apps.save_entry(&client_id, form, &self.directory, now)
    }

    pub fn delete_store_entry(
        &mut self,
        id: &str,
        as_user: Option<&str>,
    ) -> Result<StoreEntry, ControlError> {
        let client_id = self.entry_app(id)?;
        self.managed(&client_id, as_user)?;
        self.apps.delete_entry(id)
    }

    pub fn publish_store_entry(
        &mut self,
        id: &str,
        published: bool,
    ) -> Result<StoreEntry, ControlError> {
        self.apps.set_published(id, published)
    }

    fn entry_app(&self, id: &str) -> Result<String, ControlError> {
        self.apps
            .entry(id)
            .map(|e| e.client_id.clone())
            .ok_or_else(|| ControlError::not_found(format!("no store entry has the id `{id}`")))
    }

    // ----- integrated cloud apps ------------------------------------------------------------

    /// Opens an integrated cloud app for the user: the launch to send back through.
    pub fn launch_app(
        &mut self,
        client_id: &str,
        user_id: &str,
        now: Instant,
    ) -> Result<(Launch, String), ControlError> {
        let app = self.apps.require(client_id)?;
        let refuse = |m: String| {
            ControlError::bad_request(rules::REDIRECT_ONSHAPE_URI, Some("client_id"), m)
        };
        if app.app_type != crate::model::AppType::IntegratedCloud {
            return Err(refuse(format!(
                "`{}` is a {}: only Integrated Cloud Apps are opened from the Applications page",
                app.name,
                app.app_type.label()
            )));
        }
        let Some(url) = app.oauth_url.clone() else {
            return Err(refuse(format!(
                "`{}` has no OAuth URL yet (left blank for local work): set one in its settings",
                app.name
            )));
        };
        Ok((self.apps.launch(client_id, user_id, now), url))
    }

    /// The app sent the user back through `redirectOnshapeUri`; whether they had granted.
    pub fn launch_returned(&mut self, id: &str, now: Instant) -> Option<Launch> {
        let (client_id, user_id) = self
            .apps
            .launches()
            .find(|l| l.id == id)
            .map(|l| (l.client_id.clone(), l.user_id.clone()))?;
        let granted = self
            .grants
            .of_user(&user_id)
            .any(|(k, _, _)| k.client_id == client_id);
        self.apps.returned(id, granted, now)
    }

    pub fn launches(&self) -> impl Iterator<Item = &Launch> {
        self.apps.launches()
    }

    // ----- extensions --------------------------------------------------------------------

    pub fn extensions_of(&self, client_id: &str) -> Vec<&Extension> {
        self.extensions.of_app(client_id)
    }

    pub fn extension(&self, id: &str) -> Option<&Extension> {
        self.extensions.get(id)
    }

    /// Adds an extension under the form's rules (the Extensions tab).
    pub fn add_extension(
        &mut self,
        client_id: &str,
        form: ExtensionForm,
        as_user: Option<&str>,
        now: Instant,
    ) -> Result<Extension, ControlError> {
        self.managed(client_id, as_user)?;
        self.extensions.add(form, client_id, now)
    }

    pub fn delete_extension(
        &mut self,
        id: &str,
        as_user: Option<&str>,
    ) -> Result<Extension, ControlError> {
        let client_id = self
            .extensions
            .get(id)
            .map(|e| e.client_id.clone())
            .ok_or_else(|| ControlError::not_found(format!("no extension has the id `{id}`")))?;
        self.managed(&client_id, as_user)?;
        self.extensions
            .remove(id)
            .ok_or_else(|| ControlError::not_found(format!("no extension has the id `{id}`")))
    }
}
