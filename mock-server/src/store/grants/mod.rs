//! Grants and tokens: authorization codes, token families, refresh rotation, revocation, and
//! the authentication of access tokens — the OAuth guide's token rules. `codes.rs` issues and
//! redeems the authorization codes.
//!
//! A *grant* is (user, application, company). Each code redemption opens a *family* within
//! the grant: one live refresh token and at most two live access tokens (the newest and the
//! one before, for requests in flight during a refresh). Refreshing rotates the family's
//! refresh token; the old one stays as a tombstone (`graveyard.rs`) so that reusing it is
//! explained instead of "unknown" — and revokes the family (RFC 9700 §4.14.2). Revoking a
//! grant turns all its families' tokens into tombstones. A grant keeps at most
//! [`MAX_FAMILIES_PER_GRANT`] families; re-authorizing beyond that retires the oldest.
//!
//! What the developer settings do to grants (decided here, documented in README): deleting
//! the application retires every token of it; narrowing its permissions narrows every grant,
//! family and live access token at once; widening them widens nothing (users grant the new
//! scopes by authorizing again); regenerating its secret leaves grants and tokens alone
//! (the token endpoint refuses the old secret).

use std::collections::VecDeque;
use std::sync::Arc;

use super::graveyard::{retired_refresh, Graveyard, Retired};
use super::Map;

mod codes;
use crate::clock::Instant;
use crate::domain::{new_token, RedirectUri, ScopeSet};
use crate::error::{ErrorCode, Rejection};
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
/// Lengths of the codes and tokens the mock issues (alphanumeric).
pub const CODE_LEN: usize = 32;
pub const ACCESS_TOKEN_LEN: usize = 40;
pub const REFRESH_TOKEN_LEN: usize = 48;

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
    /// An API key acting for its user (`client_id` is then the access key).
    pub api_key: bool,
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

/// The grants, their families and every code and token issued under them.
#[derive(Debug, Default)]
pub(super) struct Grants {
    codes: Map<String, Code>,
    refresh: Map<String, RefreshEntry>,
    access: Map<String, AccessEntry>,
    graveyard: Graveyard,
    families: Map<u64, Family>,
    grants: Map<Arc<GrantKey>, Grant>,
    /// The next id for a family or a grant.
    next_family: u64,
}

impl Grants {
    pub fn new() -> Grants {
        Grants {
            next_family: 1,
            ..Grants::default()
        }
    }

    /// Refreshes (RFC 6749 §6), rotating the refresh token.
    pub fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<ScopeSet>,
        now: Instant,
    ) -> Result<Tokens, Rejection> {
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
            api_key: false,
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
            api_key: false,
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

    /// The application was deleted: every grant of it goes, every token of it becomes a
    /// tombstone that says so, and its unredeemed codes are forgotten. How many grants.
    pub fn retire_app(&mut self, client_id: &str, now: Instant) -> usize {
        let keys: Vec<Arc<GrantKey>> = self
            .grants
            .keys()
            .filter(|k| k.client_id == client_id)
            .cloned()
            .collect();
        for key in &keys {
            if let Some(grant) = self.grants.remove(&**key) {
                for f in grant.families {
                    self.retire_family(f, Retired::AppDeleted, now);
                }
            }
        }
        self.codes.retain(|_, c| c.grant.client_id != client_id);
        keys.len()
    }

    /// The application's permission scopes became `allowed`: every grant, family, code and
    /// live access token of it keeps only what the application still has. Widening changes
    /// nothing here (users grant new scopes by authorizing again). How many tokens lost a
    /// scope.
    pub fn narrow_app(&mut self, client_id: &str, allowed: ScopeSet) -> usize {
        for (key, grant) in &mut self.grants {
            if key.client_id == client_id {
                grant.scopes = grant.scopes.intersection(allowed);
            }
        }
        for family in self.families.values_mut() {
            if family.grant.client_id == client_id {
                family.scopes = family.scopes.intersection(allowed);
            }
        }
        for code in self.codes.values_mut() {
            if code.grant.client_id == client_id {
                code.scopes = code.scopes.intersection(allowed);
            }
        }
        let mut narrowed = 0;
        for entry in self.access.values_mut() {
            if entry.info.client_id == client_id && !entry.info.scopes.is_subset_of(allowed) {
                entry.info.scopes = entry.info.scopes.intersection(allowed);
                narrowed += 1;
            }
        }
        narrowed
    }

    /// The user's grants: (key, scopes, granted at), in no order.
    pub fn of_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> impl Iterator<Item = (&'a GrantKey, ScopeSet, Instant)> + 'a {
        self.grants
            .iter()
            .filter(move |(k, _)| k.user_id == user_id)
            .map(|(k, g)| (&**k, g.scopes, g.granted_at))
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
                Retired::AppDeleted => unauthorized(
                    rules::GRANT_ACTIVE,
                    format!("the application was deleted {ago} s ago, and with it every grant and token"),
                ).hint("A deleted application's tokens never work again: register the application again, then send the user through /oauth/authorize."),
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

    // ----- housekeeping ----------------------------------------------------------------------

    /// Forgets what can no longer be explained usefully: codes a minute after expiry, access
    /// tokens a day after. Live and rotated refresh tokens are bounded by the families,
    /// retired ones by the graveyard.
    pub fn purge(&mut self, now: Instant) {
        self.codes
            .retain(|_, c| now < c.issued_at.plus_secs(CODE_LIFETIME_SECS + CODE_MEMORY_SECS));
        self.access
            .retain(|_, a| now < a.info.expires_at.plus_secs(TOMBSTONE_MEMORY_SECS));
        self.graveyard.purge(now);
    }

    pub fn sizes(&self) -> [(&'static str, usize); 6] {
        [
            ("tombstones", self.graveyard.len()),
            ("codes", self.codes.len()),
            ("access_tokens", self.access.len()),
            ("refresh_tokens", self.refresh.len()),
            ("families", self.families.len()),
            ("grants", self.grants.len()),
        ]
    }

    /// Whether the mock issued this code or token (live or retired): for the log's masking.
    pub fn is_issued(&self, candidate: &str) -> bool {
        let live = match candidate.len() {
            CODE_LEN => self.codes.contains_key(candidate),
            ACCESS_TOKEN_LEN => self.access.contains_key(candidate),
            REFRESH_TOKEN_LEN => self.refresh.contains_key(candidate),
            _ => false,
        };
        live || self.graveyard.contains(candidate)
    }
}
