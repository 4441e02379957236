//! Pending authorizations: a request to `/oauth/authorize` waiting for the login and consent
//! pages, answered once, within [`PENDING_LIFETIME_SECS`].
//!
//! An answered or expired one is remembered a while (bounded), so that a browser that goes
//! Back and posts the consent form again is told what happened — "already answered 12 s ago"
//! — instead of "unknown".

use std::collections::VecDeque;

use super::{AuthRequest, Map};
use crate::clock::Instant;
use crate::domain::new_token;

/// A pending authorization (login and consent pages) is kept this long.
pub const PENDING_LIFETIME_SECS: u64 = 600;
/// Pending authorizations kept at once; the oldest go first. Answered ones too.
pub const MAX_PENDING: usize = 10_000;
/// How long an answered or expired authorization is remembered, to explain its reuse.
const GONE_MEMORY_SECS: u64 = 3600;

/// An authorization request waiting for the login and consent pages.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: String,
    pub request: AuthRequest,
    pub created_at: Instant,
}

/// Why a pending authorization cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Never issued, or forgotten.
    Unknown,
    /// Older than [`PENDING_LIFETIME_SECS`]; `age` seconds old.
    Expired { age: u64 },
    /// Answered `ago` seconds ago.
    Answered { ago: u64, granted: bool },
}

#[derive(Debug, Default)]
pub(super) struct PendingAuthorizations {
    live: Map<String, Pending>,
    order: VecDeque<String>,
    /// Answered: when, and whether granted.
    answered: Map<String, (Instant, bool)>,
    answered_order: VecDeque<String>,
}

impl PendingAuthorizations {
    pub fn begin(&mut self, request: AuthRequest, now: Instant) -> String {
        while self.live.len() >= MAX_PENDING {
            match self.order.pop_front() {
                Some(old) => {
                    self.live.remove(&old);
                }
                None => break,
            }
        }
        let id = new_token(24);
        self.live.insert(
            id.clone(),
            Pending {
                id: id.clone(),
                request,
                created_at: now,
            },
        );
        self.order.push_back(id.clone());
        id
    }

    pub fn get(&self, id: &str, now: Instant) -> Result<&Pending, Gone> {
        if let Some(p) = self.live.get(id) {
            let age = now.secs_since(p.created_at);
            return if age < PENDING_LIFETIME_SECS {
                Ok(p)
            } else {
                Err(Gone::Expired { age })
            };
        }
        match self.answered.get(id) {
            Some(&(at, granted)) => Err(Gone::Answered {
                ago: now.secs_since(at),
                granted,
            }),
            None => Err(Gone::Unknown),
        }
    }

    /// Takes the request (it is answered), remembering that it was.
    pub fn finish(&mut self, id: &str, now: Instant, granted: bool) -> Option<Pending> {
        let pending = self.live.remove(id)?;
        while self.answered.len() >= MAX_PENDING {
            match self.answered_order.pop_front() {
                Some(old) => {
                    self.answered.remove(&old);
                }
                None => break,
            }
        }
        self.answered.insert(id.to_owned(), (now, granted));
        self.answered_order.push_back(id.to_owned());
        Some(pending)
    }

    pub fn purge(&mut self, now: Instant) {
        // Expired requests stay until then too, so that their expiry is explained.
        self.live
            .retain(|_, p| now.secs_since(p.created_at) < PENDING_LIFETIME_SECS + GONE_MEMORY_SECS);
        let live = &self.live;
        self.order.retain(|id| live.contains_key(id));
        self.answered
            .retain(|_, (at, _)| now.secs_since(*at) < GONE_MEMORY_SECS);
        let answered = &self.answered;
        self.answered_order.retain(|id| answered.contains_key(id));
    }

    pub fn len(&self) -> usize {
        self.live.len() + self.answered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RedirectUri, ScopeSet};

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "C".into(),
            redirect: RedirectUri::register("http://localhost:3000/cb").expect("valid"),
            redirect_given: true,
            scopes: ScopeSet::default(),
            state: None,
            company_id: None,
        }
    }

    #[test]
    fn answered_once_then_explained_and_expiry_is_explained() {
        let mut p = PendingAuthorizations::default();
        let id = p.begin(request(), Instant(0));
        assert!(p.get(&id, Instant(599_000)).is_ok());
        assert!(p.finish(&id, Instant(10_000), true).is_some());
        assert!(
            p.finish(&id, Instant(11_000), true).is_none(),
            "answered once"
        );
        assert_eq!(
            p.get(&id, Instant(22_000)).err(),
            Some(Gone::Answered {
                ago: 12,
                granted: true
            })
        );
        let old = p.begin(request(), Instant(0));
        p.purge(Instant(700_000));
        assert_eq!(
            p.get(&old, Instant(700_000)).err(),
            Some(Gone::Expired { age: 700 })
        );
        assert_eq!(p.get("nope", Instant(0)).err(), Some(Gone::Unknown));
        p.purge(Instant(10_000_000));
        assert_eq!(p.len(), 0, "bounded in time");
    }
}
