//! API usage and limits: the annual call limit per plan, counted per company (company apps
//! and keys) or per user (Developer Portal apps, individual keys), of which only 2xx and 3xx
//! responses count; short-term rate limits per company or app (429 with `Retry-After`); the
//! admins' notifications at 25 %, 50 %, 75 % and 100 % of the year's limit, each sent once a
//! year; and the outbox every notification goes to (transfers too).
//!
//! The year is the calendar year (UTC) of the mock clock: on the first call of a new year the
//! count starts again (Onshape's exact reset date is unconfirmed). Usage set directly (the
//! fixtures' `api_calls`, the control API) counts the thresholds it passes as already
//! notified: it stands for history, and the next call that crosses one sends it.

use std::collections::VecDeque;

use super::Map;
use crate::clock::Instant;
use crate::model::RateLimit;

/// The thresholds admins are notified at, in percent of the annual limit.
pub const THRESHOLDS: [u64; 4] = [25, 50, 75, 100];
/// Notifications kept in the outbox (the oldest go first).
pub const MAX_NOTIFICATIONS: usize = 1_000;

/// Whose limits a call counts toward.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Party {
    Company(String),
    User(String),
}

/// What a short-term rate limit is set on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Limited {
    Company(String),
    App(String),
}

/// A message the mock "sent" (to admins, to a new owner).
#[derive(Debug, Clone)]
pub struct Notification {
    pub at: Instant,
    /// Email addresses.
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// `usage-25` … `usage-100`, `app-transfer`.
    pub kind: String,
}

#[derive(Debug, Clone, Copy)]
struct Account {
    year: i64,
    calls: u64,
    /// The thresholds already notified this year (indexes into [`THRESHOLDS`]).
    notified: [bool; 4],
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    calls: u64,
}

/// A party's year so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub calls: u64,
    pub limit: u64,
}

impl Standing {
    pub fn remaining(self) -> u64 {
        self.limit.saturating_sub(self.calls)
    }
}

/// Why a call may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over the annual limit: 402.
    Annual(Standing),
    /// Over the short-term limit: 429, retry after this many seconds.
    RateLimited {
        on: Limited,
        limit: RateLimit,
        retry_after: u64,
    },
}

#[derive(Debug, Default)]
pub(super) struct Usage {
    accounts: Map<Party, Account>,
    rate_limits: Map<Limited, RateLimit>,
    windows: Map<Limited, Window>,
    outbox: VecDeque<Notification>,
}

fn reached(calls: u64, limit: u64) -> [bool; 4] {
    THRESHOLDS.map(|t| limit > 0 && calls.saturating_mul(100) >= limit.saturating_mul(t))
}

impl Usage {
    /// The year so far of `party`, whose limit is `limit`.
    pub fn standing(&self, party: &Party, limit: u64, now: Instant) -> Standing {
        let calls = self
            .accounts
            .get(party)
            .filter(|a| a.year == now.year())
            .map_or(0, |a| a.calls);
        Standing { calls, limit }
    }

    /// Sets the year's usage so far (fixtures, the control API): the thresholds it passes
    /// count as notified.
    pub fn set_calls(&mut self, party: Party, calls: u64, limit: u64, now: Instant) {
        self.accounts.insert(
            party,
            Account {
                year: now.year(),
                calls,
                notified: reached(calls, limit),
            },
        );
    }

    pub fn set_rate_limit(&mut self, on: Limited, limit: Option<RateLimit>) {
        self.windows.remove(&on);
        match limit {
            Some(l) => self.rate_limits.insert(on, l),
            None => self.rate_limits.remove(&on),
        };
    }

    pub fn rate_limits(&self) -> impl Iterator<Item = (&Limited, &RateLimit)> {
        self.rate_limits.iter()
    }

    /// Whether a call may go ahead, checked before it is handled: the short-term windows of
    /// `limited` (each call counts toward them, refused or not), then the annual limit.
    /// Returns the smallest remaining count among the windows, for `X-Rate-Limit-Remaining`.
    pub fn admit(
        &mut self,
        party: &Party,
        annual_limit: u64,
        limited: &[Limited],
        now: Instant,
    ) -> Result<Option<u64>, Refusal> {
        let mut window_remaining: Option<u64> = None;
        for on in limited {
            let Some(limit) = self.rate_limits.get(on).copied() else {
                continue;
            };
            let window = self.windows.entry(on.clone()).or_insert(Window {
                started: now,
                calls: 0,
            });
            if now >= window.started.plus_secs(limit.per_seconds) {
                *window = Window {
                    started: now,
                    calls: 0,
                };
            }
            if window.calls >= limit.calls {
                let ends = window.started.plus_secs(limit.per_seconds);
                return Err(Refusal::RateLimited {
                    on: on.clone(),
                    limit,
                    retry_after: ends.secs_since(now).max(1),
                });
            }
            window.calls += 1;
            let left = limit.calls - window.calls;
            window_remaining = Some(window_remaining.map_or(left, |w| w.min(left)));
        }
        let standing = self.standing(party, annual_limit, now);
        if standing.calls >= standing.limit {
            return Err(Refusal::Annual(standing));
        }
        Ok(window_remaining)
    }

    /// Counts a call that answered 2xx or 3xx; returns the thresholds it crossed (each once
    /// a year) and the standing after it.
    pub fn count(&mut self, party: &Party, limit: u64, now: Instant) -> (Vec<u64>, Standing) {
        let year = now.year();
        let account = self.accounts.entry(party.clone()).or_insert(Account {
            year,
            calls: 0,
            notified: [false; 4],
        });
        if account.year != year {
            *account = Account {
                year,
                calls: 0,
                notified: [false; 4],
            };
        }
        account.calls = account.calls.saturating_add(1);
        let now_reached = reached(account.calls, limit);
        let mut crossed = Vec::new();
        for (i, t) in THRESHOLDS.iter().enumerate() {
            if now_reached[i] && !account.notified[i] {
                account.notified[i] = true;
                crossed.push(*t);
            }
        }
        (
            crossed,
            Standing {
                calls: account.calls,
                limit,
            },
        )
    }

    pub fn notify(&mut self, n: Notification) {
        self.outbox.push_back(n);
        while self.outbox.len() > MAX_NOTIFICATIONS {
            self.outbox.pop_front();
        }
    }

    pub fn notifications(&self) -> impl DoubleEndedIterator<Item = &Notification> {
        self.outbox.iter()
    }

    pub fn clear_notifications(&mut self) {
        self.outbox.clear();
    }

    pub fn len(&self) -> usize {
        self.accounts.len() + self.windows.len() + self.outbox.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn company() -> Party {
        Party::Company("c".into())
    }

    #[test]
    fn thresholds_are_sent_once_each_as_calls_cross_them() {
        let mut u = Usage::default();
        let now = Instant(1_780_000_000_000);
        let mut crossed = Vec::new();
        for _ in 0..8 {
            crossed.extend(u.count(&company(), 8, now).0);
        }
        assert_eq!(crossed, vec![25, 50, 75, 100]);
        assert_eq!(
            u.count(&company(), 8, now).0,
            Vec::<u64>::new(),
            "sent once"
        );
    }

    #[test]
    fn usage_set_directly_counts_as_history() {
        let mut u = Usage::default();
        let now = Instant(1_780_000_000_000);
        u.set_calls(company(), 60, 100, now);
        assert_eq!(
            u.count(&company(), 100, now).0,
            Vec::<u64>::new(),
            "61 %: nothing new"
        );
        u.set_calls(company(), 74, 100, now);
        assert_eq!(u.count(&company(), 100, now).0, vec![75]);
    }

    #[test]
    fn the_annual_limit_refuses_and_a_new_year_starts_again() {
        let mut u = Usage::default();
        let now = Instant(1_780_000_000_000);
        u.set_calls(company(), 10, 10, now);
        let refused = u.admit(&company(), 10, &[], now);
        assert_eq!(
            refused,
            Err(Refusal::Annual(Standing {
                calls: 10,
                limit: 10
            }))
        );
        let next_year = now.plus_secs(366 * DAY);
        assert_eq!(u.admit(&company(), 10, &[], next_year), Ok(None));
        assert_eq!(u.count(&company(), 10, next_year).1.calls, 1);
    }

    #[test]
    fn a_window_refuses_until_it_ends() {
        let mut u = Usage::default();
        let on = Limited::App("app".into());
        u.set_rate_limit(
            on.clone(),
            Some(RateLimit {
                calls: 2,
                per_seconds: 3600,
            }),
        );
        let now = Instant(1_780_000_000_000);
        assert_eq!(
            u.admit(&company(), 100, std::slice::from_ref(&on), now),
            Ok(Some(1))
        );
        assert_eq!(
            u.admit(&company(), 100, std::slice::from_ref(&on), now),
            Ok(Some(0))
        );
        let later = now.plus_secs(600);
        match u.admit(&company(), 100, std::slice::from_ref(&on), later) {
            Err(Refusal::RateLimited { retry_after, .. }) => assert_eq!(retry_after, 3000),
            other => panic!("expected a 429, got {other:?}"),
        }
        assert_eq!(
            u.admit(
                &company(),
                100,
                std::slice::from_ref(&on),
                now.plus_secs(3600)
            ),
            Ok(Some(1)),
            "a new window"
        );
    }
}
