//! Scripted events, for tests and the conformance runner: injected faults and triggers.
//!
//! A fault answers the next matching requests (once, or `times` times) with something other
//! than the route's answer:
//! - an error in the surface's shape (a 429 or 5xx with `Retry-After`, a token endpoint
//!   error with a chosen RFC 6749 code, an API 401/403/404, a 307 to another path), or an
//!   unusable 200 (an HTML page, invalid JSON, a token response without `access_token`);
//!   the request is not processed;
//! - a malformed rendering of the real token response (`token`: no refresh token, an odd
//!   `expires_in`, an unsupported `token_type`, duplicate fields, the wrong Content-Type);
//!   the request is processed as usual;
//! - no answer at all (`connection = "silent"`) or a connection closed mid-response
//!   (`"close"`); the request is not processed;
//! - the real answer, or any of the above, held back `delay` seconds of real time.
//!
//! Triggers act after the Nth successful API call, refresh or code redemption: move the
//! clock, revoke a grant, delete an API key, arm a fault.
//!
//! The recording middleware consults [`Script::take_fault`] before routing and reports each
//! finished exchange to [`Script::observe`], then carries out the returned actions before
//! the response leaves — so a client's next request already sees their effect.

use serde::Deserialize;

mod fault;

pub use fault::*;

/// What a finished exchange was, for triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// A 2xx answer under `/api`.
    ApiSuccess,
    /// A code redeemed for tokens.
    CodeRedeemed,
    /// A refresh that returned tokens.
    Refreshed,
}

/// What a trigger does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Moves the clock forward by this many seconds.
    Advance(u64),
    /// Revokes the grant of `user` (email) to `client_id`.
    Revoke { user: String, client_id: String },
    /// Deletes the API key `access_key` (it stops working at once).
    DeleteKey { access_key: String },
    /// Arms a fault.
    Fault(Fault),
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Advance(s) => format!("clock advanced {s} s"),
            Action::Revoke { user, client_id } => format!("grant of {user} to {client_id} revoked"),
            Action::DeleteKey { access_key } => format!(
                "API key {}… deleted",
                access_key.chars().take(6).collect::<String>()
            ),
            Action::Fault(f) => format!("fault armed: {}", f.describe()),
        }
    }
}

/// "After the `count`th `after` event, do `action`" — once.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub after: Event,
    #[serde(default = "fault::one")]
    pub count: u32,
    pub action: Action,
    #[serde(skip)]
    seen: u32,
}

impl Trigger {
    pub fn new(after: Event, count: u32, action: Action) -> Trigger {
        Trigger {
            after,
            count,
            action,
            seen: 0,
        }
    }
}

/// The armed faults and pending triggers.
#[derive(Debug, Default)]
pub struct Script {
    faults: Vec<Fault>,
    triggers: Vec<Trigger>,
}

impl Script {
    pub fn arm(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub fn add_trigger(&mut self, trigger: Trigger) {
        self.triggers.push(trigger);
    }

    /// The first armed fault for a request to `path` (a token request of `grant`), used once.
    pub fn take_fault(&mut self, path: &str, grant: Option<&str>) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.matches(path, grant))?;
        let fault = self.faults[i].clone();
        self.faults[i].times = self.faults[i].times.saturating_sub(1);
        if self.faults[i].times == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    /// Counts `event`; returns the actions of the triggers it fires (each fires once).
    pub fn observe(&mut self, event: Event) -> Vec<Action> {
        let mut fired = Vec::new();
        self.triggers.retain_mut(|t| {
            if t.after != event {
                return true;
            }
            t.seen += 1;
            if t.seen >= t.count {
                fired.push(t.action.clone());
                false
            } else {
                true
            }
        });
        fired
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty() && self.triggers.is_empty()
    }

    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "faults": self.faults.iter().map(|f| serde_json::json!({
                "path": f.path, "status": f.status, "times": f.times, "retry_after": f.retry_after, "location": f.location,
                "describe": f.describe(),
            })).collect::<Vec<_>>(),
            "triggers": self.triggers.iter().map(|t| serde_json::json!({
                "after": format!("{:?}", t.after), "count": t.count, "seen": t.seen, "action": t.action.describe(),
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_answers_its_times_then_disarms() {
        let mut s = Script::default();
        s.arm(Fault {
            path: "/api/*".into(),
            status: Some(429),
            times: 2,
            retry_after: Some(1),
            ..Fault::default()
        });
        assert!(s.take_fault("/oauth/token", None).is_none());
        assert!(s.take_fault("/api/documents", None).is_some());
        assert!(s.take_fault("/api/v6/documents", None).is_some());
        assert!(s.take_fault("/api/documents", None).is_none());
    }

    #[test]
    fn a_grant_limits_a_token_fault_to_its_requests() {
        let mut s = Script::default();
        s.arm(Fault {
            path: "/oauth/token".into(),
            grant: Some(Grant::RefreshToken),
            status: Some(503),
            ..Fault::default()
        });
        assert!(s
            .take_fault("/oauth/token", Some("authorization_code"))
            .is_none());
        assert!(s.take_fault("/oauth/token", None).is_none());
        assert!(s
            .take_fault("/oauth/token", Some("refresh_token"))
            .is_some());
    }

    #[test]
    fn a_trigger_fires_once_on_its_count() {
        let mut s = Script::default();
        s.add_trigger(Trigger::new(Event::ApiSuccess, 2, Action::Advance(60)));
        assert!(s.observe(Event::ApiSuccess).is_empty());
        assert!(s.observe(Event::Refreshed).is_empty());
        assert_eq!(s.observe(Event::ApiSuccess), vec![Action::Advance(60)]);
        assert!(s.observe(Event::ApiSuccess).is_empty());
        assert!(s.is_empty());
    }
}
