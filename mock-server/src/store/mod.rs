//! The mock's memory, one room per concern, and the rules that need it. `Store` composes them
//! and owns the operations that cross rooms (registering an app feeds the masking pass;
//! a grant's view names its app and company):
//!
//! - `directory.rs` — companies (admins, seats, plan), users, teams and aliases (from the
//!   fixtures); the grant's company; who may own and register an application.
//! - `apps.rs` — registered OAuth applications and the settings page's rules: settings,
//!   secret, scopes, users on the app, transfer, store entries, deletion.
//! - `usage.rs` — API usage per company or user, annual limits, rate-limit windows, the
//!   notifications outbox.
//! - `extensions.rs` — app extensions: locations, contexts, the form's rules;
//!   `placeholders.rs` — action URL placeholders and their substitution; `firing.rs` — an
//!   extension fired as a click would, and the app's answer judged.
//! - `developer.rs` — the developer settings as operations across rooms: who acts, what an
//!   app edit does to grants; `metering.rs` — how a call is metered against its owner's plan.
//! - `grants.rs` — grants, codes, token families, refresh rotation, revocation, access
//!   token authentication; `graveyard.rs` — retired tokens, remembered to explain their use.
//! - `pending.rs` — authorizations waiting on the login and consent pages.
//! - `apikeys.rs` — API keys and the nonces of signed requests.
//! - `documents.rs` — documents, per company or individual owner.
//!
//! The store is plain data behind one mutex (see [`crate::state`]); every method takes the
//! current [`Instant`] from the caller, so expiry is a pure function of the injected clock.
//! Expired codes, pending authorizations, tombstones and expired access tokens are purged on
//! a schedule of the mock clock, so memory stays flat under steady load.

use std::collections::HashMap;

use crate::mask::SecretMatcher;

/// The store's maps: keyed by random tokens and ids the mock generated, looked up on every
/// request (and by the log's masking pass), so a fast hasher. A client can only look keys up,
/// never insert its own, so there is no collision flood to fear.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

pub mod apikeys;
mod apps;
mod developer;
mod directory;
mod documents;
pub mod extensions;
pub mod firing;
mod grants;
mod graveyard;
mod metering;
mod pending;
mod placeholders;
pub mod usage;

pub use apps::Launch;
pub use directory::{not_admin, resolve_owner, CompanyChoice};
pub use documents::{visible_to as document_visible_to, MAX_DOCUMENTS, MAX_DOCUMENT_NAME};
pub use grants::{
    GrantKey, GrantView, TokenInfo, Tokens, ACCESS_TOKEN_LEN, ACCESS_TOKEN_LIFETIME_SECS, CODE_LEN,
    CODE_LIFETIME_SECS, CODE_MEMORY_SECS, MAX_FAMILIES_PER_GRANT, MAX_TOMBSTONES,
    REFRESH_TOKEN_LEN, TOMBSTONE_MEMORY_SECS,
};
pub use graveyard::Retired;
pub use metering::Metered;
use pending::PendingAuthorizations;
pub use pending::{Gone, Pending, MAX_PENDING, PENDING_LIFETIME_SECS};

use crate::clock::Instant;
use crate::domain::{RedirectUri, ScopeSet};
use crate::error::Rejection;
use crate::fixtures::Fixtures;
use crate::model::{App, Company, Document, Group, User};

/// How often (mock time) the purge runs.
const PURGE_EVERY_MS: u64 = 1_000;

/// What an authorization request asks for, once validated.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect: RedirectUri,
    pub redirect_given: bool,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub company_id: Option<String>,
}

/// A scripted answer to the next authorization requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScript {
    pub grant: bool,
    pub user_id: String,
    pub company_id: Option<String>,
}

#[derive(Debug)]
pub struct Store {
    directory: directory::Directory,
    apps: apps::Apps,
    /// Every client secret and API secret key, for the log's masking pass; rebuilt when
    /// either changes.
    secret_matcher: SecretMatcher,
    documents: documents::Documents,
    pending: PendingAuthorizations,
    api_keys: apikeys::ApiKeys,
    grants: grants::Grants,
    usage: usage::Usage,
    extensions: extensions::Extensions,
    consent: Option<ConsentScript>,
    next_purge: Instant,
}

impl Store {
    /// A store holding the fixtures; fixture documents count as created at `now`.
    pub fn new(fixtures: &Fixtures, consent: Option<ConsentScript>, now: Instant) -> Store {
        let mut store = Store {
            directory: directory::Directory::new(
                fixtures.companies.clone(),
                fixtures.users.clone(),
                fixtures.groups.clone(),
            ),
            apps: apps::Apps::new(&fixtures.apps),
            secret_matcher: SecretMatcher::new(std::iter::empty::<&str>()),
            documents: documents::Documents::new(&fixtures.documents, now),
            pending: PendingAuthorizations::default(),
            api_keys: apikeys::ApiKeys::new(&fixtures.api_keys, now),
            grants: grants::Grants::new(),
            usage: usage::Usage::default(),
            extensions: extensions::Extensions::default(),
            consent,
            next_purge: Instant(0),
        };
        store.rebuild_secret_matcher();
        for c in &fixtures.companies {
            store.set_usage(usage::Party::Company(c.id.clone()), c.api_calls, now);
            if let Some(limit) = c.rate_limit {
                store.set_rate_limit(usage::Limited::Company(c.id.clone()), Some(limit));
            }
        }
        for u in &fixtures.users {
            if u.api_calls > 0 {
                store.set_usage(usage::Party::User(u.id.clone()), u.api_calls, now);
            }
        }
        for a in &fixtures.apps {
            if let Some(limit) = a.rate_limit {
                store.set_rate_limit(usage::Limited::App(a.client_id.clone()), Some(limit));
            }
        }
        store
    }

    // ----- who exists ------------------------------------------------------------------

    pub fn users(&self) -> &[User] {
        self.directory.users()
    }

    pub fn companies(&self) -> &[Company] {
        self.directory.companies()
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.directory.user_by_email(email)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.directory.user(id)
    }

    pub fn company(&self, id: &str) -> Option<&Company> {
        self.directory.company(id)
    }

    /// Teams and aliases.
    pub fn groups(&self) -> &[Group] {
        self.directory.groups()
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.directory.group(id)
    }

    pub fn is_admin(&self, user_id: &str, company_id: &str) -> bool {
        self.directory.is_admin(user_id, company_id)
    }

    /// See [`directory::Directory::resolve_company`].
    pub fn resolve_company(
        &self,
        user: &User,
        company_id: Option<&str>,
    ) -> Result<CompanyChoice, Rejection> {
        self.directory.resolve_company(user, company_id)
    }

    // ----- applications ----------------------------------------------------------------

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(client_id)
    }

    /// The app, or the control API's 404 (which names an app that was deleted).
    pub fn require_app(&self, client_id: &str) -> Result<&App, crate::error::ControlError> {
        self.apps.require(client_id)
    }

    pub fn apps(&self) -> impl Iterator<Item = &App> {
        self.apps.iter()
    }

    /// See [`apps::Apps::unknown_client_hint`].
    pub fn unknown_client_hint(&self, given: &str, now: Instant) -> String {
        self.apps.unknown_client_hint(given, now)
    }

    /// When the app with this client id was deleted, and its name.
    pub fn app_deleted_at(&self, client_id: &str) -> Option<(&str, Instant)> {
        self.apps.deleted_at(client_id)
    }

    /// Every client secret and API secret key, for the log's masking pass.
    fn rebuild_secret_matcher(&mut self) {
        self.secret_matcher =
            SecretMatcher::new(self.apps.secrets().chain(self.api_keys.secrets()));
    }

    // ----- consent script ---------------------------------------------------------------

    pub fn consent(&self) -> Option<&ConsentScript> {
        self.consent.as_ref()
    }

    /// How authorizations are answered, in words (the banner, the start page).
    pub fn consent_summary(&self) -> String {
        match &self.consent {
            Some(s) => format!(
                "automatic ({} as {})",
                if s.grant { "grant" } else { "deny" },
                self.user(&s.user_id).map_or("?", |u| u.email.as_str())
            ),
            None => "login and consent pages".to_owned(),
        }
    }

    pub fn set_consent(&mut self, script: Option<ConsentScript>) {
        self.consent = script;
    }

    // ----- API keys ----------------------------------------------------------------------

    pub fn api_keys(&self) -> &apikeys::ApiKeys {
        &self.api_keys
    }

    /// A new key; its secret joins the masking pass.
    pub fn create_api_key(&mut self, new: apikeys::NewKey, now: Instant) -> apikeys::ApiKey {
        let key = self.api_keys.create(new, now);
        self.rebuild_secret_matcher();
        key
    }

    /// Deletes a key; it stops working at once. Its secret stays in the masking pass until
    /// the next rebuild, which is harmless.
    pub fn delete_api_key(&mut self, access_key: &str, now: Instant) -> bool {
        self.api_keys.delete(access_key, now)
    }

    /// Remembers a 307 the mock answered (`path?query` to `path?query`).
    pub fn note_redirect(&mut self, from: &str, to: &str) {
        self.api_keys.note_redirect(from, to);
    }

    /// Records a verified request's nonce.
    pub fn use_nonce(&mut self, nonce: &str, now: Instant) {
        self.maybe_purge(now);
        self.api_keys.use_nonce(nonce, now);
    }

    // ----- authorization ---------------------------------------------------------------

    pub fn begin_pending(&mut self, req: AuthRequest, now: Instant) -> String {
        self.maybe_purge(now);
        self.pending.begin(req, now)
    }

    /// The pending authorization `id`, or why it cannot be answered any more.
    pub fn pending(&self, id: &str, now: Instant) -> Result<&Pending, Gone> {
        self.pending.get(id, now)
    }

    /// Answers it: it cannot be answered again.
    pub fn finish_pending(&mut self, id: &str, now: Instant, granted: bool) -> Option<Pending> {
        self.pending.finish(id, now, granted)
    }

    /// The user granted: record the grant and issue a code — for what the app still has
    /// (its permissions may have changed while the user was on the pages), and none when
    /// the app was deleted meanwhile.
    pub fn grant_and_issue_code(
        &mut self,
        req: &AuthRequest,
        user_id: &str,
        company_id: Option<String>,
        now: Instant,
    ) -> Option<String> {
        self.maybe_purge(now);
        let registered = self.app(&req.client_id)?.scopes;
        let mut req = req.clone();
        req.scopes = req.scopes.intersection(registered);
        Some(
            self.grants
                .grant_and_issue_code(&req, user_id, company_id, now),
        )
    }

    // ----- token endpoint and resource server ----------------------------------------------

    /// Redeems an authorization code (RFC 6749 §4.1.3) for an authenticated client.
    pub fn redeem_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        now: Instant,
    ) -> Result<Tokens, Rejection> {
        self.maybe_purge(now);
        self.grants.redeem_code(client_id, code, redirect_uri, now)
    }

    /// Refreshes (RFC 6749 §6), rotating the refresh token.
    pub fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<ScopeSet>,
        now: Instant,
    ) -> Result<Tokens, Rejection> {
        self.maybe_purge(now);
        self.grants.refresh(client_id, refresh_token, scope, now)
    }

    /// Authenticates an access token.
    pub fn authenticate(&self, token: &str, now: Instant) -> Result<&TokenInfo, Rejection> {
        self.grants.authenticate(token, now)
    }

    /// Revokes the user's grants of `client_id`: in one company (`Some(Some(id))`), the
    /// individual account's (`Some(None)`), or in every company (`None`). How many.
    pub fn revoke_grant(
        &mut self,
        user_id: &str,
        client_id: &str,
        company: Option<Option<&str>>,
        now: Instant,
    ) -> usize {
        self.grants.revoke_grant(user_id, client_id, company, now)
    }

    /// The user's authorized applications, by app name then company.
    pub fn grants_of(&self, user_id: &str) -> Vec<GrantView> {
        let mut out: Vec<GrantView> = self
            .grants
            .of_user(user_id)
            .map(|(k, scopes, granted_at)| GrantView {
                client_id: k.client_id.clone(),
                app_name: self
                    .app(&k.client_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                company_id: k.company_id.clone(),
                company: k
                    .company_id
                    .as_ref()
                    .and_then(|c| self.company(c))
                    .map(|c| c.name.clone()),
                scopes,
                granted_at,
            })
            .collect();
        out.sort_by(|a, b| (&a.app_name, &a.company).cmp(&(&b.app_name, &b.company)));
        out
    }

    // ----- documents ---------------------------------------------------------------------

    /// The documents a token for `user` in `company` sees.
    pub fn documents<'a>(
        &'a self,
        company: Option<&'a str>,
        user: &'a str,
    ) -> impl Iterator<Item = &'a Document> + 'a {
        self.documents.visible(company, user)
    }

    /// Every document the user can open: their companies' and their own account's.
    pub fn documents_of_user<'a>(&'a self, user: &'a User) -> Vec<&'a Document> {
        let mut out: Vec<&Document> = user
            .companies
            .iter()
            .flat_map(|c| self.documents.visible(Some(c), &user.id))
            .chain(self.documents.visible(None, &user.id))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Any document by id, visible or not.
    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.get(id)
    }

    /// A new document, or `None` at [`MAX_DOCUMENTS`].
    pub fn create_document(
        &mut self,
        name: String,
        company: Option<String>,
        owner: String,
        now: Instant,
    ) -> Option<Document> {
        self.documents.create(name, company, owner, now)
    }

    pub fn delete_document(&mut self, id: &str) -> Option<Document> {
        self.documents.delete(id)
    }

    // ----- housekeeping ----------------------------------------------------------------------

    fn maybe_purge(&mut self, now: Instant) {
        if now >= self.next_purge {
            self.purge(now);
            self.next_purge = Instant(now.0 + PURGE_EVERY_MS);
        }
    }

    /// Forgets what can no longer be explained usefully. Public for the clock-advance route.
    pub fn purge(&mut self, now: Instant) {
        self.pending.purge(now);
        self.api_keys.purge(now);
        self.grants.purge(now);
    }

    /// Sizes of the internal tables (for the health route and memory tests).
    pub fn sizes(&self) -> Vec<(&'static str, usize)> {
        let mut sizes = vec![
            ("api_keys", self.api_keys.len()),
            ("nonces", self.api_keys.nonces_len()),
            ("pending", self.pending.len()),
            ("usage", self.usage.len()),
            ("extensions", self.extensions.len()),
        ];
        sizes.extend(self.grants.sizes());
        sizes
    }
}

impl crate::mask::KnownSecrets for Store {
    fn is_issued(&self, candidate: &str) -> bool {
        self.grants.is_issued(candidate)
    }

    fn client_secrets(&self) -> &crate::mask::SecretMatcher {
        &self.secret_matcher
    }
}
