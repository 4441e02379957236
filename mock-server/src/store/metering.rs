//! How an API call is metered, across rooms: whose limits it counts toward (the app's owner,
//! or the key's company or user), the owner's annual limit from its plan and seats
//! (`directory.rs`), the short-term windows and the count (`usage.rs`), and the notifications
//! a crossed threshold sends to the company's admins (or the user).

use super::usage::{Limited, Notification, Party, Refusal, Standing};
use super::Store;
use crate::clock::Instant;
use crate::model::{Owner, RateLimit};
use crate::store::TokenInfo;

/// A call admitted by the limits, to be counted if it succeeds.
#[derive(Debug, Clone)]
pub struct Metered {
    pub party: Party,
    pub limit: u64,
    /// A published App Store app's calls do not count.
    pub counts: bool,
    /// The smallest remaining count of the short-term windows the call fell in.
    pub window_remaining: Option<u64>,
}

impl Store {
    /// Whose limits a call with this token counts toward: an API key's company (or user);
    /// an app's owner; for an app with no owner, the token's company (or user).
    pub fn party_of(&self, token: &TokenInfo) -> Party {
        let owner = if token.api_key {
            None
        } else {
            self.app(&token.client_id).and_then(|a| a.owner.clone())
        };
        match owner {
            Some(Owner::Company(c)) => Party::Company(c),
            Some(Owner::User(u)) => Party::User(u),
            None => match &token.company_id {
                Some(c) => Party::Company(c.clone()),
                None => Party::User(token.user_id.clone()),
            },
        }
    }

    /// The party's annual limit: its plan's calls per full user times its seats (one for a
    /// user's own account).
    pub fn annual_limit(&self, party: &Party) -> u64 {
        match party {
            Party::Company(c) => self
                .company(c)
                .map_or(0, |c| c.plan.calls_per_user().saturating_mul(c.seats)),
            Party::User(u) => self.user(u).map_or(0, |u| u.plan.calls_per_user()),
        }
    }

    pub fn standing(&self, party: &Party, now: Instant) -> Standing {
        self.usage.standing(party, self.annual_limit(party), now)
    }

    /// Admits a call before it is handled: the company's and the app's short-term limits,
    /// then the annual limit. The refusal comes with whose limits they were.
    pub fn admit_call(
        &mut self,
        token: &TokenInfo,
        now: Instant,
    ) -> Result<Metered, (Refusal, Party)> {
        let party = self.party_of(token);
        let limit = self.annual_limit(&party);
        let mut limited = Vec::with_capacity(2);
        if let Some(c) = &token.company_id {
            limited.push(Limited::Company(c.clone()));
        }
        if !token.api_key {
            limited.push(Limited::App(token.client_id.clone()));
        }
        let counts = token.api_key || !self.apps.is_published(&token.client_id);
        match self.usage.admit(&party, limit, &limited, now) {
            Ok(window_remaining) => Ok(Metered {
                party,
                limit,
                counts,
                window_remaining,
            }),
            Err(r) => Err((r, party)),
        }
    }

    /// Counts a call that answered 2xx or 3xx and notifies the admins (or the user) of each
    /// threshold crossed. Returns what `X-Rate-Limit-Remaining` says.
    pub fn count_call(&mut self, m: &Metered, now: Instant) -> u64 {
        let standing = if m.counts {
            let (crossed, standing) = self.usage.count(&m.party, m.limit, now);
            for t in crossed {
                self.notify_usage(&m.party, t, standing, now);
            }
            standing
        } else {
            self.usage.standing(&m.party, m.limit, now)
        };
        m.window_remaining
            .map_or(standing.remaining(), |w| w.min(standing.remaining()))
    }

    /// What `X-Rate-Limit-Remaining` says for a call that was not counted (4xx, 5xx).
    pub fn remaining(&self, m: &Metered, now: Instant) -> u64 {
        let standing = self.usage.standing(&m.party, m.limit, now);
        m.window_remaining
            .map_or(standing.remaining(), |w| w.min(standing.remaining()))
    }

    /// Who is told about a party's usage (or a transfer to it): a company's admins, or the
    /// user.
    pub fn recipients(&self, party: &Party) -> Vec<String> {
        match party {
            Party::Company(c) => self.company(c).map_or_else(Vec::new, |company| {
                company
                    .admins
                    .iter()
                    .filter_map(|id| self.user(id))
                    .map(|u| u.email.clone())
                    .collect()
            }),
            Party::User(u) => self.user(u).map(|u| u.email.clone()).into_iter().collect(),
        }
    }

    fn notify_usage(&mut self, party: &Party, threshold: u64, standing: Standing, now: Instant) {
        let whose = match party {
            Party::Company(c) => match self.company(c) {
                Some(company) => company.name.clone(),
                None => return,
            },
            Party::User(u) => match self.user(u) {
                Some(user) => format!("{}'s account", user.name),
                None => return,
            },
        };
        let to = self.recipients(party);
        self.usage.notify(Notification {
            at: now,
            to,
            subject: format!("{whose} has used {threshold}% of its annual API limit"),
            body: format!(
                "{whose} has made {} of its {} API calls this year ({threshold}%).{}",
                standing.calls,
                standing.limit,
                if threshold >= 100 {
                    " Further calls are refused with 402 until the limit resets."
                } else {
                    ""
                }
            ),
            kind: format!("usage-{threshold}"),
        });
    }

    /// Sets a party's usage this year (tests; the thresholds passed count as notified).
    pub fn set_usage(&mut self, party: Party, calls: u64, now: Instant) {
        let limit = self.annual_limit(&party);
        self.usage.set_calls(party, calls, limit, now);
    }

    pub fn set_rate_limit(&mut self, on: Limited, limit: Option<RateLimit>) {
        self.usage.set_rate_limit(on, limit);
    }

    pub fn rate_limits(&self) -> impl Iterator<Item = (&Limited, &RateLimit)> {
        self.usage.rate_limits()
    }

    pub fn notifications(&self) -> impl DoubleEndedIterator<Item = &Notification> {
        self.usage.notifications()
    }

    pub fn clear_notifications(&mut self) {
        self.usage.clear_notifications();
    }
}
