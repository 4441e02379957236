//! API keys: an access key and a secret key that act for the user they belong to, with the
//! scopes chosen at creation (the developer settings page: "API keys will only perform
//! operations on behalf of the Onshape user who generated the API keys"). Created in fixtures
//! or through the control API (the secret is shown once), deleted at once ("cannot be
//! undone"); a deleted key is remembered a day to explain its use.
//!
//! Signed requests carry a nonce that may be used once: nonces are remembered for the
//! 5-minute window in which a request's `Date` is accepted, at most [`MAX_NONCES`] of them.
//! The last [`MAX_REDIRECTS`] redirects the mock answered (injected 307s) are remembered, to
//! recognise a request signed for the URL before its redirect.

use std::collections::VecDeque;

use super::Map;
use crate::clock::Instant;
use crate::domain::{new_token, ScopeSet};
pub use crate::model::ApiKey;

/// A request's `Date` may be this far from the mock's clock, either way.
pub const DATE_WINDOW_SECS: u64 = 300;
/// Nonces remembered at most (the oldest go first).
pub const MAX_NONCES: usize = 100_000;
/// The lengths of the keys the mock issues (alphanumeric), as Onshape's.
pub const ACCESS_KEY_LEN: usize = 24;
pub const SECRET_KEY_LEN: usize = 48;
/// Redirects remembered at most (the oldest go first).
pub const MAX_REDIRECTS: usize = 64;
/// A deleted key is remembered this long, to explain its use.
const DELETED_MEMORY_SECS: u64 = 24 * 3600;

/// What a new key is for; the mock draws its access and secret keys.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub user_id: String,
    pub company_id: Option<String>,
    pub scopes: ScopeSet,
    pub stack: String,
}

/// Why an access key does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGone {
    Unknown,
    /// Deleted `ago` seconds ago.
    Deleted {
        ago: u64,
    },
}

#[derive(Debug, Default)]
pub struct ApiKeys {
    keys: Map<String, ApiKey>,
    deleted: Map<String, Instant>,
    nonces: Map<String, Instant>,
    nonce_order: VecDeque<String>,
    redirects: VecDeque<Redirect>,
}

/// A 307 the mock answered: from one path and query to another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Redirect {
    from: (String, String),
    to: (String, String),
}

/// `path?query` as (path, query); the query empty when there is none.
fn split_target(target: &str) -> (String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (path.to_owned(), query.to_owned())
}

impl ApiKeys {
    pub fn new(keys: &[ApiKey], now: Instant) -> ApiKeys {
        let mut out = ApiKeys::default();
        for k in keys {
            let mut k = k.clone();
            k.created_at = now;
            out.keys.insert(k.access_key.clone(), k);
        }
        out
    }

    /// A new key with fresh access and secret keys.
    pub fn create(&mut self, new: NewKey, now: Instant) -> ApiKey {
        let key = ApiKey {
            name: new.name,
            access_key: new_token(ACCESS_KEY_LEN),
            secret_key: new_token(SECRET_KEY_LEN),
            user_id: new.user_id,
            company_id: new.company_id,
            scopes: new.scopes,
            stack: new.stack,
            created_at: now,
        };
        self.keys.insert(key.access_key.clone(), key.clone());
        key
    }

    /// Every key, oldest first.
    pub fn list(&self) -> Vec<&ApiKey> {
        let mut all: Vec<&ApiKey> = self.keys.values().collect();
        all.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
        all
    }

    /// Deletes the key: it stops working at once. Whether there was one.
    pub fn delete(&mut self, access_key: &str, now: Instant) -> bool {
        let found = self.keys.remove(access_key).is_some();
        if found {
            self.deleted.insert(access_key.to_owned(), now);
        }
        found
    }

    pub fn get(&self, access_key: &str, now: Instant) -> Result<&ApiKey, KeyGone> {
        if let Some(k) = self.keys.get(access_key) {
            return Ok(k);
        }
        match self.deleted.get(access_key) {
            Some(at) => Err(KeyGone::Deleted {
                ago: now.secs_since(*at),
            }),
            None => Err(KeyGone::Unknown),
        }
    }

    /// When `nonce` was used, if it was within the window.
    pub fn nonce_used(&self, nonce: &str, now: Instant) -> Option<u64> {
        let at = self.nonces.get(nonce)?;
        let ago = now.secs_since(*at);
        (ago <= DATE_WINDOW_SECS).then_some(ago)
    }

    /// Records a nonce as used (after the request it came with was verified).
    pub fn use_nonce(&mut self, nonce: &str, now: Instant) {
        while self.nonces.len() >= MAX_NONCES {
            match self.nonce_order.pop_front() {
                Some(old) => {
                    self.nonces.remove(&old);
                }
                None => break,
            }
        }
        if self.nonces.insert(nonce.to_owned(), now).is_none() {
            self.nonce_order.push_back(nonce.to_owned());
        }
    }

    /// Remembers that the mock redirected `from` (`path?query`) to `to`.
    pub fn note_redirect(&mut self, from: &str, to: &str) {
        if self.redirects.len() >= MAX_REDIRECTS {
            self.redirects.pop_front();
        }
        self.redirects.push_back(Redirect {
            from: split_target(from),
            to: split_target(to),
        });
    }

    /// The path and query a request to `path` and `query` was redirected from, most recent
    /// first, if the mock redirected one there.
    pub fn redirected_from(&self, path: &str, query: &str) -> Option<(&str, &str)> {
        self.redirects
            .iter()
            .rev()
            .find(|r| r.to.0 == path && r.to.1 == query)
            .map(|r| (r.from.0.as_str(), r.from.1.as_str()))
    }

    pub fn purge(&mut self, now: Instant) {
        self.nonces
            .retain(|_, at| now.secs_since(*at) <= DATE_WINDOW_SECS);
        let nonces = &self.nonces;
        self.nonce_order.retain(|n| nonces.contains_key(n));
        self.deleted
            .retain(|_, at| now.secs_since(*at) < DELETED_MEMORY_SECS);
    }

    /// Every secret key, for the log's masking pass.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.keys.values().map(|k| k.secret_key.as_str())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn nonces_len(&self) -> usize {
        self.nonces.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_listed_and_deleted_at_once_and_nonces_used_once() {
        let mut keys = ApiKeys::default();
        let k = keys.create(
            NewKey {
                name: "CI".into(),
                user_id: "u".into(),
                company_id: None,
                scopes: ScopeSet::default(),
                stack: "cad.onshape.com".into(),
            },
            Instant(0),
        );
        assert_eq!(k.access_key.len(), ACCESS_KEY_LEN);
        assert_eq!(k.secret_key.len(), SECRET_KEY_LEN);
        assert!(keys.get(&k.access_key, Instant(0)).is_ok());
        assert_eq!(keys.list().len(), 1);
        assert!(keys.delete(&k.access_key, Instant(1_000)));
        assert!(!keys.delete(&k.access_key, Instant(1_000)));
        assert_eq!(
            keys.get(&k.access_key, Instant(11_000)).err(),
            Some(KeyGone::Deleted { ago: 10 })
        );
        assert_eq!(keys.get("nope", Instant(0)).err(), Some(KeyGone::Unknown));

        assert_eq!(keys.nonce_used("n1", Instant(0)), None);
        keys.use_nonce("n1", Instant(0));
        assert_eq!(keys.nonce_used("n1", Instant(300_000)), Some(300));
        assert_eq!(
            keys.nonce_used("n1", Instant(301_000)),
            None,
            "outside the window"
        );
        keys.purge(Instant(301_000));
        assert_eq!(keys.nonces_len(), 0);
    }

    #[test]
    fn redirects_are_remembered_most_recent_first_and_bounded() {
        let mut keys = ApiKeys::default();
        keys.note_redirect("/api/documents?limit=5", "/api/v6/documents?limit=5&r=1");
        keys.note_redirect("/api/other", "/api/v6/documents?limit=5&r=1");
        assert_eq!(
            keys.redirected_from("/api/v6/documents", "limit=5&r=1"),
            Some(("/api/other", ""))
        );
        assert_eq!(keys.redirected_from("/api/v6/documents", ""), None);
        for i in 0..MAX_REDIRECTS {
            keys.note_redirect(&format!("/api/a{i}"), &format!("/api/b{i}"));
        }
        assert_eq!(keys.redirects.len(), MAX_REDIRECTS);
        assert_eq!(
            keys.redirected_from("/api/v6/documents", "limit=5&r=1"),
            None
        );
        assert_eq!(keys.redirected_from("/api/b0", ""), Some(("/api/a0", "")));
    }
}
