//! The graveyard: tokens that no longer work, remembered (bounded) so that using one is
//! explained — rotated out, revoked with the grant, revoked by a replayed code or by a reused
//! refresh token, or superseded — instead of answered "unknown".

use std::collections::VecDeque;

use super::{Map, MAX_FAMILIES_PER_GRANT, MAX_TOMBSTONES, TOMBSTONE_MEMORY_SECS};
use crate::clock::Instant;
use crate::error::{ErrorCode, Rejection};
use crate::rules;

/// Why a tombstoned token no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    Rotated,
    Revoked,
    CodeReplayed,
    Superseded,
    /// An older refresh token of the same chain was used after rotation (RFC 9700
    /// §4.14.2): the chain was revoked.
    ReuseDetected,
    /// The application was deleted in the developer settings.
    AppDeleted,
}

/// Retired tokens, kept to explain their use — revoked, replayed, superseded, and refresh
/// tokens rotated out before the last one: at most [`MAX_TOMBSTONES`], for at most
/// [`TOMBSTONE_MEMORY_SECS`]; oldest first out.
#[derive(Debug, Default)]
pub(super) struct Graveyard {
    /// Why, when, and for a rotated refresh token the family it belonged to.
    /// (The token is shared by the map and the queue: one allocation.)
    map: Map<std::sync::Arc<str>, (Retired, Instant, Option<u64>)>,
    order: VecDeque<std::sync::Arc<str>>,
}

impl Graveyard {
    pub(super) fn bury(&mut self, token: String, why: Retired, at: Instant) {
        self.bury_in(token, why, at, None);
    }

    pub(super) fn bury_in(
        &mut self,
        token: String,
        why: Retired,
        at: Instant,
        family: Option<u64>,
    ) {
        let token: std::sync::Arc<str> = token.into();
        if self.map.insert(token.clone(), (why, at, family)).is_none() {
            self.order.push_back(token);
        }
        while self.order.len() > MAX_TOMBSTONES {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    pub(super) fn get(&self, token: &str) -> Option<(Retired, Instant, Option<u64>)> {
        self.map.get(token).copied()
    }

    pub(super) fn contains(&self, token: &str) -> bool {
        self.map.contains_key(token)
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn purge(&mut self, now: Instant) {
        while let Some(front) = self.order.front() {
            let expired = self
                .map
                .get(front)
                .is_none_or(|(_, at, _)| now >= at.plus_secs(TOMBSTONE_MEMORY_SECS));
            if !expired {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Why a retired refresh token no longer works, as the token endpoint says it.
pub(super) fn retired_refresh(why: Retired, ago: u64) -> Rejection {
    match why {
        Retired::Rotated => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::REFRESH_TOKEN_ROTATED,
            format!("this refresh token was rotated {ago} s ago and no longer works"),
        )
        .hint("Each refresh returns a new refresh_token: store it and use the newest. This request used the one before."),
        Retired::Revoked => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::GRANT_ACTIVE,
            format!("the user revoked this application's grant {ago} s ago"),
        )
        .hint("The grant is gone, so its refresh token is invalid: stop refreshing and send the user through /oauth/authorize again."),
        Retired::CodeReplayed => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::CODE_SINGLE_USE,
            format!("this refresh token was revoked {ago} s ago because its authorization code was redeemed twice"),
        ),
        Retired::ReuseDetected => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::REFRESH_TOKEN_ROTATED,
            format!("this refresh token was revoked {ago} s ago: an older refresh token of its chain was used again after rotation"),
        )
        .hint("Reusing a rotated-out refresh token revokes the whole chain (RFC 9700 §4.14.2), this newer token included: send the user through /oauth/authorize again, store the newest refresh token after each refresh, and serialize refreshes."),
        Retired::AppDeleted => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::GRANT_ACTIVE,
            format!("the application was deleted {ago} s ago, and with it every grant and token"),
        )
        .hint("A deleted application's tokens never work again: register the application again, then send the user through /oauth/authorize."),
        Retired::Superseded => Rejection::new(
            ErrorCode::InvalidGrant,
            rules::REFRESH_TOKEN_VALID,
            format!(
                "this refresh token was retired {ago} s ago: a grant holds at most {MAX_FAMILIES_PER_GRANT} live refresh tokens and newer authorizations replaced it"
            ),
        ),
    }
}
