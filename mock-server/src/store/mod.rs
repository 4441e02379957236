//! The mock's memory: applications, users, documents, pending authorizations, codes,
//! tokens and grants — and every rule that needs them.
//!
//! The store is plain data behind one mutex (see [`crate::state`]); every method takes the
//! current [`Instant`] from the caller, so expiry is a pure function of the injected clock.
//!
//! Token model. A *grant* is (user, application, company). Each code redemption opens a
//! *family* within the grant: one live refresh token and at most two live access tokens
//! (the newest and the one before, for requests in flight during a refresh). Refreshing
//! rotates the family's refresh token; the old one stays as a tombstone (`graveyard.rs`) so
//! that reusing it is explained instead of "unknown" — and revokes the family (RFC 9700
//! §4.14.2). Revoking a grant turns all its families' tokens into
//! tombstones. A grant keeps at most [`MAX_FAMILIES_PER_GRANT`] families; re-authorizing
//! beyond that retires the oldest. Expired codes, pending authorizations, tombstones and
//! expired access tokens are purged on a schedule of the mock clock, so memory stays flat
//! under steady load.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::mask::SecretMatcher;

/// The store's maps: keyed by random tokens and ids the mock generated, looked up on every
/// request (and by the log's masking pass), so a fast hasher. A client can only look keys up,
/// never insert its own, so there is no collision flood to fear.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

pub mod apikeys;
mod graveyard;
mod pending;

pub use graveyard::Retired;
use graveyard::{retired_refresh, Graveyard};
use pending::PendingAuthorizations;
pub use pending::{Gone, Pending, MAX_PENDING, PENDING_LIFETIME_SECS};
use std::sync::Arc;

use crate::clock::Instant;
use crate::domain::{new_id, new_token, RedirectUri, ScopeSet};
use crate::error::{ErrorCode, Rejection};
use crate::fixtures::Fixtures;
use crate::model::{App, AppRegistration, Company, Document, User};
use crate::rules;

/// An authorization code is valid this long after it is issued (the guide: 60 seconds).
pub const CODE_LIFETIME_SECS: u64 = 60;
/// An access token is valid this long (the guide: 60 minutes).
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;
/// Used and expired codes are remembered this long after expiry, to explain a late or
/// repeated redemption.
pub const CODE_MEMORY_SECS: u64 = 60;
/// Expired access tokens and tombstones are remembered this long, to explain their use.
pub const TOMBSTONE_MEMORY_SECS: u64 = 24 * 3600;
/// Tombstones kept at most (revoked, replayed and superseded tokens); the oldest go first.
pub const MAX_TOMBSTONES: usize = 20_000;
/// Live token families a single grant may hold.
pub const MAX_FAMILIES_PER_GRANT: usize = 100;
/// How often (mock time) the purge runs.
/// Lengths of the codes and tokens the mock issues (alphanumeric).
pub const CODE_LEN: usize = 32;
pub const ACCESS_TOKEN_LEN: usize = 40;
pub const REFRESH_TOKEN_LEN: usize = 48;
/// Documents the store holds at most (fixtures and API-created together).
pub const MAX_DOCUMENTS: usize = 10_000;
/// The longest document name, in characters.
pub const MAX_DOCUMENT_NAME: usize = 256;
const PURGE_EVERY_MS: u64 = 1_000;

/// A grant: one user's permission for one application in one company.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantKey {
    pub user_id: String,
    pub client_id: String,
    /// `None` for an individual account.
    pub company_id: Option<String>,
}

#[derive(Debug)]
struct Grant {
    /// Distinguishes this grant from an earlier one of the same key that was revoked.
    id: u64,
    scopes: ScopeSet,
    granted_at: Instant,
    families: VecDeque<u64>,
}

#[derive(Debug)]
struct Family {
    grant: Arc<GrantKey>,
    scopes: ScopeSet,
    refresh: String,
    previous_refresh: Option<String>,
    access: VecDeque<String>,
}

#[derive(Debug)]
enum RefreshEntry {
    Live(u64),
    /// The refresh token a family rotated out last (one per family).
    Rotated {
        at: Instant,
        family: u64,
    },
}

/// What an access token grants.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub user_id: String,
    pub client_id: String,
    pub company_id: Option<String>,
    pub scopes: ScopeSet,
    pub expires_at: Instant,
}

#[derive(Debug)]
struct AccessEntry {
    info: TokenInfo,
}

#[derive(Debug)]
enum CodeState {
    Fresh,
    Used { family: u64, at: Instant },
}

#[derive(Debug)]
struct Code {
    grant: Arc<GrantKey>,
    /// The [`Grant::id`] the code was issued under.
    grant_id: u64,
    scopes: ScopeSet,
    /// Whether /oauth/authorize named the redirect URI (or used the default).
    redirect_given: bool,
    redirect_used: RedirectUri,
    issued_at: Instant,
    state: CodeState,
}

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

/// Which company a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyChoice {
    /// This company (`None`: an individual account).
    Resolved(Option<String>),
    /// The user is in several companies and the request named none: the consent page asks.
    UserChooses,
}

/// A scripted answer to the next authorization requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScript {
    pub grant: bool,
    pub user_id: String,
    pub company_id: Option<String>,
}

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// One row of a user's authorized applications.
#[derive(Debug, Clone)]
pub struct GrantView {
    pub client_id: String,
    pub app_name: String,
    pub company_id: Option<String>,
    pub company: Option<String>,
    pub scopes: ScopeSet,
    pub granted_at: Instant,
}

#[derive(Debug)]
pub struct Store {
    companies: Vec<Company>,
    users: Vec<User>,
    apps: HashMap<String, App>,
    /// Every client secret, for the log's masking pass; rebuilt when an app is registered.
    secret_matcher: SecretMatcher,
    documents: Vec<Document>,
    pending: PendingAuthorizations,
    api_keys: apikeys::ApiKeys,
    codes: Map<String, Code>,
    refresh: Map<String, RefreshEntry>,
    access: Map<String, AccessEntry>,
    graveyard: Graveyard,
    families: Map<u64, Family>,
    grants: Map<Arc<GrantKey>, Grant>,
    consent: Option<ConsentScript>,
    /// The next id for a family or a grant.
    next_family: u64,
    next_purge: Instant,
}

impl Store {
    /// A store holding the fixtures; fixture documents count as created at `now`.
    pub fn new(fixtures: &Fixtures, consent: Option<ConsentScript>, now: Instant) -> Store {
        let mut documents = fixtures.documents.clone();
        for d in &mut documents {
            d.created_at = now;
        }
        Store {
            secret_matcher: SecretMatcher::new(
                fixtures
                    .apps
                    .iter()
                    .map(|a| a.client_secret.as_str())
                    .chain(fixtures.api_keys.iter().map(|k| k.secret_key.as_str())),
            ),
            companies: fixtures.companies.clone(),
            users: fixtures.users.clone(),
            apps: fixtures
                .apps
                .iter()
                .map(|a| (a.client_id.clone(), a.clone()))
                .collect(),
            documents,
            pending: PendingAuthorizations::default(),
            api_keys: apikeys::ApiKeys::new(&fixtures.api_keys, now),
            codes: Map::default(),
            refresh: Map::default(),
            access: Map::default(),
            graveyard: Graveyard::default(),
            families: Map::default(),
            grants: Map::default(),
            consent,
            next_family: 1,
            next_purge: Instant(0),
        }
    }

    // ----- lookups -------------------------------------------------------------------

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(client_id)
    }

    /// The hint for an unknown client id: the registered id it was probably meant to be (a
    /// dropped trailing `=`, a case slip), or where ids come from.
    pub fn unknown_client_hint(&self, given: &str) -> String {
        let trimmed = given.trim_end_matches('=');
        let close = self
            .apps
            .keys()
            .find(|id| id.trim_end_matches('=') == trimmed || id.eq_ignore_ascii_case(given));
        match close {
            Some(close) => format!(
                "No application has this client id; did you mean `{close}`? Send it exactly, each `=` encoded as %3D."
            ),
            None => "No application has this client id: use the one issued at registration.".to_owned(),
        }
    }

    pub fn apps(&self) -> impl Iterator<Item = &App> {
        self.apps.values()
    }

    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn companies(&self) -> &[Company] {
        &self.companies
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn company(&self, id: &str) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

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

    /// Registers an application under the settings page's rules.
    pub fn register_app(
        &mut self,
        reg: AppRegistration,
    ) -> Result<App, crate::error::ControlError> {
        let taken: HashSet<String> = self
            .apps
            .values()
            .map(|a| a.primary_format.clone())
            .collect();
        let app = reg.validate(&taken)?;
        if self.apps.contains_key(&app.client_id) {
            return Err(crate::error::ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("client_id"),
                "client_id is already registered",
            ));
        }
        self.apps.insert(app.client_id.clone(), app.clone());
        self.rebuild_secret_matcher();
        Ok(app)
    }

    /// Every client secret and API secret key, for the log's masking pass.
    fn rebuild_secret_matcher(&mut self) {
        self.secret_matcher = SecretMatcher::new(
            self.apps
                .values()
                .map(|a| a.client_secret.as_str())
                .chain(self.api_keys.secrets()),
        );
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

    /// Picks the grant's company: `company_id` when it is one of the user's companies (else
    /// a rejection), the only company, none for an individual account, or — several
    /// companies and none named — the user must choose.
    pub fn resolve_company(
        &self,
        user: &User,
        company_id: Option<&str>,
    ) -> Result<CompanyChoice, Rejection> {
        match company_id {
            Some(c) if user.companies.iter().any(|u| u == c) => Ok(CompanyChoice::Resolved(Some(c.to_owned()))),
            Some(c) => Err(Rejection::new(
                ErrorCode::InvalidRequest,
                rules::COMPANY_MEMBER,
                format!("user {} is not a member of company {c}", user.email),
            )
            .hint(format!(
                "company_id `{c}` is not one of {}'s companies ({}); send one of those, or omit company_id to let the user choose.",
                user.email,
                if user.companies.is_empty() { "none: an individual account".to_owned() } else { user.companies.join(", ") }
            ))),
            None => match user.companies.as_slice() {
                [] => Ok(CompanyChoice::Resolved(None)),
                [only] => Ok(CompanyChoice::Resolved(Some(only.clone()))),
                _ => Ok(CompanyChoice::UserChooses),
            },
        }
    }

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

    /// The user granted: record the grant and issue a code.
    pub fn grant_and_issue_code(
        &mut self,
        req: &AuthRequest,
        user_id: &str,
        company_id: Option<String>,
        now: Instant,
    ) -> String {
        self.maybe_purge(now);
        let key = GrantKey {
            user_id: user_id.to_owned(),
            client_id: req.client_id.clone(),
            company_id,
        };
        let key = match self.grants.get_key_value(&key) {
            Some((shared, _)) => shared.clone(),
            None => {
                let shared = Arc::new(key);
                let grant = Grant {
                    id: self.next_family,
                    scopes: ScopeSet::EMPTY,
                    granted_at: now,
                    families: VecDeque::new(),
                };
                self.next_family += 1;
                self.grants.insert(shared.clone(), grant);
                shared
            }
        };
        let mut grant_id = 0;
        if let Some(grant) = self.grants.get_mut(&*key) {
            grant.scopes = grant.scopes.union(req.scopes);
            grant_id = grant.id;
        }
        let code = new_token(CODE_LEN);
        self.codes.insert(
            code.clone(),
            Code {
                grant: key,
                grant_id,
                scopes: req.scopes,
                redirect_given: req.redirect_given,
                redirect_used: req.redirect.clone(),
                issued_at: now,
                state: CodeState::Fresh,
            },
        );
        code
    }

    // ----- token endpoint ----------------------------------------------------------------

    /// Redeems an authorization code (RFC 6749 §4.1.3) for an authenticated client.
    pub fn redeem_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        now: Instant,
    ) -> Result<Tokens, Rejection> {
        self.maybe_purge(now);
        let invalid = |rule, d: String| Rejection::new(ErrorCode::InvalidGrant, rule, d);
        let Some(entry) = self.codes.get(code) else {
            return Err(invalid(rules::CODE_KNOWN, "the authorization code is unknown".into()).hint(
                "This code was never issued, or was forgotten a minute after it expired (codes live 60 s, then are remembered 60 s more to explain a late redemption): send the `code` from the callback unchanged, URL-encoded in the form body.",
            ));
        };
        if entry.grant.client_id != client_id {
            return Err(invalid(
                rules::CODE_CLIENT_BOUND,
                "the authorization code was issued to another client".into(),
            ));
        }
        if let CodeState::Used { family, at } = entry.state {
            let ago = now.secs_since(at);
            self.retire_family(family, Retired::CodeReplayed, now);
            return Err(invalid(
                rules::CODE_SINGLE_USE,
                format!("the authorization code was already redeemed {ago} s ago"),
            )
            .hint("Codes are one-time use: redeem each once and keep the tokens. Because this code was redeemed twice, the tokens issued the first time are now revoked (RFC 6749 §4.1.2)."));
        }
        let expires_at = entry.issued_at.plus_secs(CODE_LIFETIME_SECS);
        if now >= expires_at {
            let late = now.secs_since(expires_at).max(1);
            return Err(invalid(
                rules::CODE_EXPIRED,
                format!("the authorization code expired {late} s ago"),
            )
            .hint(format!(
                "Codes expire 60 seconds after they are issued; this one was redeemed {} s after issue, {late} s too late. Exchange the code as soon as the callback arrives, or start a new authorization.",
                now.secs_since(entry.issued_at)
            )));
        }
        let used = entry.redirect_used.as_str();
        match (entry.redirect_given, redirect_uri) {
            (true, None) => {
                return Err(Rejection::new(
                    ErrorCode::InvalidRequest,
                    rules::TOKEN_REDIRECT_URI_REPEATED,
                    "redirect_uri is missing: it was supplied to /oauth/authorize, so it must be supplied here",
                )
                .hint(format!(
                    "Add redirect_uri={} to the token request's form body: a redirect_uri given to /oauth/authorize must be repeated, identical, in the POST to /oauth/token.",
                    entry.redirect_used.as_str()
                )))
            }
            (true, Some(sent)) if used != sent => {
                return Err(invalid(
                    rules::REDIRECT_URI_EXACT,
                    format!("redirect_uri `{sent}` differs from `{used}` sent to /oauth/authorize"),
                )
                .hint(format!(
                    "Send redirect_uri={used} exactly as in the authorization request ({}).",
                    crate::domain::explain_redirect_mismatch(sent, std::slice::from_ref(&entry.redirect_used))
                )))
            }
            (false, Some(sent)) if sent != used => {
                return Err(invalid(
                    rules::REDIRECT_URI_EXACT,
                    format!(
                        "redirect_uri `{sent}` differs from `{}`, the default used by /oauth/authorize",
                        entry.redirect_used.as_str()
                    ),
                )
                .hint("The authorization request named no redirect_uri, so the registered default was used: omit redirect_uri here or send that default exactly."))
            }
            _ => {}
        }
        let grant_alive = self
            .grants
            .get(&*entry.grant)
            .is_some_and(|g| g.id == entry.grant_id);
        if !grant_alive {
            return Err(invalid(
                rules::GRANT_ACTIVE,
                "the user revoked the grant after this code was issued".into(),
            ));
        }
        let (grant, scopes) = (entry.grant.clone(), entry.scopes);
        let (family, tokens) = self.open_family(grant, scopes, now);
        if let Some(entry) = self.codes.get_mut(code) {
            entry.state = CodeState::Used { family, at: now };
        }
        Ok(tokens)
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
        let family_id = match self.refresh.get(refresh_token) {
            None => {
                return Err(match self.graveyard.get(refresh_token) {
                    Some((Retired::Rotated, at, Some(family))) => {
                        self.reuse_detected(family, at, now)
                    }
                    Some((why, at, _)) => retired_refresh(why, now.secs_since(at)),
                    None => Rejection::new(
                        ErrorCode::InvalidGrant,
                        rules::REFRESH_TOKEN_VALID,
                        "the refresh token is unknown",
                    ),
                })
            }
            Some(&RefreshEntry::Rotated { at, family }) => {
                return Err(self.reuse_detected(family, at, now))
            }
            Some(RefreshEntry::Live(f)) => *f,
        };
        let Some(family) = self.families.get(&family_id) else {
            return Err(Rejection::new(
                ErrorCode::InvalidGrant,
                rules::REFRESH_TOKEN_VALID,
                "the refresh token is unknown",
            ));
        };
        if family.grant.client_id != client_id {
            return Err(Rejection::new(
                ErrorCode::InvalidGrant,
                rules::REFRESH_TOKEN_VALID,
                "the refresh token was issued to another client",
            ));
        }
        let scopes = match scope {
            Some(s) if !s.is_subset_of(family.scopes) => {
                return Err(Rejection::new(
                    ErrorCode::InvalidScope,
                    rules::SCOPE_REGISTERED,
                    format!("scope `{s}` exceeds the granted `{}`", family.scopes),
                )
                .hint("A refresh may narrow the scope but never widen it: omit scope, or request a subset of the original grant."))
            }
            Some(s) => s,
            None => family.scopes,
        };
        let new_refresh = new_token(REFRESH_TOKEN_LEN);
        let access = new_token(ACCESS_TOKEN_LEN);
        let info = TokenInfo {
            user_id: family.grant.user_id.clone(),
            client_id: family.grant.client_id.clone(),
            company_id: family.grant.company_id.clone(),
            scopes,
            expires_at: now.plus_secs(ACCESS_TOKEN_LIFETIME_SECS),
        };
        let Some(family) = self.families.get_mut(&family_id) else {
            return Err(Rejection::new(
                ErrorCode::InvalidGrant,
                rules::REFRESH_TOKEN_VALID,
                "the refresh token is unknown",
            ));
        };
        let old = std::mem::replace(&mut family.refresh, new_refresh.clone());
        if let Some(older) = family.previous_refresh.replace(old.clone()) {
            self.refresh.remove(&older);
            self.graveyard
                .bury_in(older, Retired::Rotated, now, Some(family_id));
        }
        family.access.push_back(access.clone());
        let evicted = if family.access.len() > 2 {
            family.access.pop_front()
        } else {
            None
        };
        if let Some(e) = evicted {
            self.access.remove(&e);
        }
        self.refresh.insert(
            old,
            RefreshEntry::Rotated {
                at: now,
                family: family_id,
            },
        );
        self.refresh
            .insert(new_refresh.clone(), RefreshEntry::Live(family_id));
        self.access.insert(access.clone(), AccessEntry { info });
        Ok(Tokens {
            access_token: access,
            refresh_token: new_refresh,
            expires_in: ACCESS_TOKEN_LIFETIME_SECS,
        })
    }

    fn open_family(
        &mut self,
        grant: Arc<GrantKey>,
        scopes: ScopeSet,
        now: Instant,
    ) -> (u64, Tokens) {
        let id = self.next_family;
        self.next_family += 1;
        let refresh = new_token(REFRESH_TOKEN_LEN);
        let access = new_token(ACCESS_TOKEN_LEN);
        let info = TokenInfo {
            user_id: grant.user_id.clone(),
            client_id: grant.client_id.clone(),
            company_id: grant.company_id.clone(),
            scopes,
            expires_at: now.plus_secs(ACCESS_TOKEN_LIFETIME_SECS),
        };
        self.access.insert(access.clone(), AccessEntry { info });
        self.refresh.insert(refresh.clone(), RefreshEntry::Live(id));
        let superseded = match self.grants.get_mut(&*grant) {
            Some(g) => {
                g.families.push_back(id);
                if g.families.len() > MAX_FAMILIES_PER_GRANT {
                    g.families.pop_front()
                } else {
                    None
                }
            }
            None => None,
        };
        self.families.insert(
            id,
            Family {
                grant,
                scopes,
                refresh: refresh.clone(),
                previous_refresh: None,
                access: VecDeque::from([access.clone()]),
            },
        );
        if let Some(old) = superseded {
            self.retire_family(old, Retired::Superseded, now);
        }
        (
            id,
            Tokens {
                access_token: access,
                refresh_token: refresh,
                expires_in: ACCESS_TOKEN_LIFETIME_SECS,
            },
        )
    }

    /// A refresh token rotated out at `at` was used again. RFC 9700 §4.14.2: the server cannot
    /// tell the client from a thief holding a copy, so it revokes the chain — the family's
    /// live refresh token and its access tokens. The deliberate exception (with code replay)
    /// to "a refused request changes no state".
    fn reuse_detected(&mut self, family: u64, at: Instant, now: Instant) -> Rejection {
        let ago = now.secs_since(at);
        let revoked = self.families.contains_key(&family);
        self.retire_family(family, Retired::ReuseDetected, now);
        let mut rejection = Rejection::new(
            ErrorCode::InvalidGrant,
            rules::REFRESH_TOKEN_ROTATED,
            format!("this refresh token was rotated {ago} s ago and no longer works"),
        );
        rejection = if revoked {
            rejection.hint("Each refresh returns a new refresh_token: store it and use the newest. Reusing a rotated-out token looks like a stolen copy, so the mock revoked the whole chain (RFC 9700 §4.14.2): the newer refresh token and its access tokens no longer work either. Send the user through /oauth/authorize again, and serialize refreshes so two never race.")
        } else {
            rejection.hint("Each refresh returns a new refresh_token: store it and use the newest. This token's chain was already revoked (an earlier reuse, or the grant was revoked): send the user through /oauth/authorize again.")
        };
        rejection
    }

    /// Turns a family's tokens into tombstones and forgets the family.
    fn retire_family(&mut self, id: u64, why: Retired, now: Instant) {
        let Some(family) = self.families.remove(&id) else {
            return;
        };
        if let Some(g) = self.grants.get_mut(&*family.grant) {
            g.families.retain(|f| *f != id);
        }
        let tokens = std::iter::once(family.refresh)
            .chain(family.previous_refresh)
            .chain(family.access);
        for token in tokens {
            self.refresh.remove(&token);
            self.access.remove(&token);
            self.graveyard.bury(token, why, now);
        }
    }

    /// Revokes every grant of `user_id` to `client_id` (in all companies). Returns how many
    /// grants were revoked.
    /// Revokes the user's grants of `client_id`: in one company (`Some(Some(id))`), the
    /// individual account's (`Some(None)`), or in every company (`None`). How many.
    pub fn revoke_grant(
        &mut self,
        user_id: &str,
        client_id: &str,
        company: Option<Option<&str>>,
        now: Instant,
    ) -> usize {
        let keys: Vec<Arc<GrantKey>> = self
            .grants
            .keys()
            .filter(|k| {
                k.user_id == user_id
                    && k.client_id == client_id
                    && company.is_none_or(|c| k.company_id.as_deref() == c)
            })
            .cloned()
            .collect();
        for key in &keys {
            if let Some(grant) = self.grants.remove(&**key) {
                for f in grant.families {
                    self.retire_family(f, Retired::Revoked, now);
                }
            }
        }
        keys.len()
    }

    pub fn grants_of(&self, user_id: &str) -> Vec<GrantView> {
        let mut out: Vec<GrantView> = self
            .grants
            .iter()
            .filter(|(k, _)| k.user_id == user_id)
            .map(|(k, g)| GrantView {
                client_id: k.client_id.clone(),
                app_name: self
                    .apps
                    .get(&k.client_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                company_id: k.company_id.clone(),
                company: k
                    .company_id
                    .as_ref()
                    .and_then(|c| self.company(c))
                    .map(|c| c.name.clone()),
                scopes: g.scopes,
                granted_at: g.granted_at,
            })
            .collect();
        out.sort_by(|a, b| (&a.app_name, &a.company).cmp(&(&b.app_name, &b.company)));
        out
    }

    // ----- resource server -----------------------------------------------------------------

    /// Authenticates an access token.
    pub fn authenticate(&self, token: &str, now: Instant) -> Result<&TokenInfo, Rejection> {
        let unauthorized = |rule, d: String| Rejection::new(ErrorCode::InvalidRequest, rule, d);
        let Some(entry) = self.access.get(token) else {
            let Some((why, at, _)) = self.graveyard.get(token) else {
                return Err(unauthorized(rules::ACCESS_TOKEN_VALID, "the access token is unknown".into()).hint(
                    "This token was never issued by this server, or was replaced by two newer refreshes: send the access_token of the latest token response.",
                ));
            };
            let ago = now.secs_since(at);
            return Err(match why {
                Retired::Revoked => unauthorized(rules::GRANT_ACTIVE, format!("the user revoked this application's grant {ago} s ago")),
                Retired::CodeReplayed => unauthorized(
                    rules::CODE_SINGLE_USE,
                    format!("the token was revoked {ago} s ago because its authorization code was redeemed twice"),
                ),
                Retired::ReuseDetected => unauthorized(
                    rules::REFRESH_TOKEN_ROTATED,
                    format!("the token was revoked {ago} s ago because a rotated-out refresh token of its chain was used again"),
                ).hint("Reusing an old refresh token revokes its chain (RFC 9700 §4.14.2): send the user through /oauth/authorize again, and always store the newest refresh token."),
                Retired::Superseded | Retired::Rotated => unauthorized(
                    rules::ACCESS_TOKEN_VALID,
                    format!("the token was retired {ago} s ago: the grant holds at most {MAX_FAMILIES_PER_GRANT} live token sets"),
                ),
            });
        };
        if now >= entry.info.expires_at {
            let ago = now.secs_since(entry.info.expires_at).max(1);
            return Err(unauthorized(rules::ACCESS_TOKEN_EXPIRED, format!("the access token expired {ago} s ago")).hint(
                "Access tokens live 60 minutes: on a 401, POST grant_type=refresh_token with the latest refresh token, then retry with the new access token.",
            ));
        }
        Ok(&entry.info)
    }

    pub fn documents(&self, company: Option<&str>, owner: &str) -> impl Iterator<Item = &Document> {
        let company = company.map(str::to_owned);
        let owner = owner.to_owned();
        self.documents
            .iter()
            .filter(move |d| match (&company, &d.company) {
                (Some(c), Some(dc)) => c == dc,
                (None, None) => d.owner == owner,
                _ => false,
            })
    }

    /// A new document, or `None` at [`MAX_DOCUMENTS`].
    pub fn create_document(
        &mut self,
        name: String,
        company: Option<String>,
        owner: String,
        now: Instant,
    ) -> Option<Document> {
        if self.documents.len() >= MAX_DOCUMENTS {
            return None;
        }
        let doc = Document {
            id: new_id(),
            name,
            company,
            owner,
            created_at: now,
        };
        self.documents.push(doc.clone());
        Some(doc)
    }

    pub fn delete_document(&mut self, id: &str) -> Option<Document> {
        let pos = self.documents.iter().position(|d| d.id == id)?;
        Some(self.documents.remove(pos))
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
        self.codes
            .retain(|_, c| now < c.issued_at.plus_secs(CODE_LIFETIME_SECS + CODE_MEMORY_SECS));
        self.pending.purge(now);
        self.api_keys.purge(now);
        // Live and rotated refresh tokens are bounded by the families; retired ones by the
        // graveyard. Access tokens: at most two per family, forgotten a day after expiry.
        self.access
            .retain(|_, a| now < a.info.expires_at.plus_secs(TOMBSTONE_MEMORY_SECS));
        self.graveyard.purge(now);
    }

    /// Sizes of the internal tables (for the health route and memory tests).
    pub fn sizes(&self) -> [(&'static str, usize); 9] {
        [
            ("api_keys", self.api_keys.len()),
            ("nonces", self.api_keys.nonces_len()),
            ("tombstones", self.graveyard.len()),
            ("pending", self.pending.len()),
            ("codes", self.codes.len()),
            ("access_tokens", self.access.len()),
            ("refresh_tokens", self.refresh.len()),
            ("families", self.families.len()),
            ("grants", self.grants.len()),
        ]
    }
}

impl crate::mask::KnownSecrets for Store {
    fn is_issued(&self, candidate: &str) -> bool {
        let live = match candidate.len() {
            CODE_LEN => self.codes.contains_key(candidate),
            ACCESS_TOKEN_LEN => self.access.contains_key(candidate),
            REFRESH_TOKEN_LEN => self.refresh.contains_key(candidate),
            _ => false,
        };
        live || self.graveyard.contains(candidate)
    }

    fn client_secrets(&self) -> &crate::mask::SecretMatcher {
        &self.secret_matcher
    }
}
