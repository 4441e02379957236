//! Scripted events, for tests and the conformance runner: injected faults (a 429 with
//! `Retry-After`, a 503, a 307 to another path, once or a few times) and triggers (after the
//! Nth successful API call, refresh or code redemption: move the clock, revoke a grant,
//! delete an API key, arm a fault).
//!
//! The recording middleware consults [`Script::take_fault`] before routing and reports each
//! finished exchange to [`Script::observe`], then carries out the returned actions before
//! the response leaves — so a client's next request already sees their effect.

use serde::Deserialize;

/// A response to inject instead of routing the request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The path it applies to, exactly (`/oauth/token`), or a prefix ending in `*` (`/api/*`).
    pub path: String,
    /// 429, 5xx, or 307 (with `location`).
    pub status: u16,
    /// How many requests it answers before it disarms itself (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Seconds for a `Retry-After` header.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// A 307's target on the same origin: a path, with a query if wanted
    /// (`/api/v6/documents?limit=5`). The `Location` header names it in full.
    #[serde(default)]
    pub location: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn check(&self) -> Result<(), String> {
        match (self.status, &self.location) {
            (307, None) => {
                return Err("a 307 needs a location (a path such as /api/v6/documents)".to_owned())
            }
            (307, Some(l))
                if !l.starts_with('/')
                    || l.starts_with("//")
                    || l.contains(['#', ' '])
                    || l.len() > 2048 =>
            {
                return Err(format!(
                    "location `{}` must be a path on the same origin, starting with one /",
                    l.chars().take(64).collect::<String>()
                ));
            }
            (307, Some(_)) => {}
            (_, Some(_)) => return Err("location is only for status 307".to_owned()),
            (s, None) if s == 429 || (500..=599).contains(&s) => {}
            (s, None) => return Err(format!("status {s} is not 429, 5xx or 307")),
        }
        if !self.path.starts_with('/') {
            return Err(format!("path `{}` must start with /", self.path));
        }
        if self.times == 0 {
            return Err("times must be at least 1".to_owned());
        }
        Ok(())
    }

    /// Whether the fault applies to `path`.
    pub fn matches(&self, path: &str) -> bool {
        match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.path,
        }
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
            Action::Fault(f) => format!("fault armed: {} {} x{}", f.status, f.path, f.times),
        }
    }
}

/// "After the `count`th `after` event, do `action`" — once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub after: Event,
    #[serde(default = "one")]
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

    /// The first armed fault for `path`, used once.
    pub fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.matches(path))?;
        let fault = self.faults[i].clone();
        self.faults[i].times -= 1;
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
            status: 429,
            times: 2,
            retry_after: Some(1),
            location: None,
        });
        assert!(s.take_fault("/oauth/token").is_none());
        assert!(s.take_fault("/api/documents").is_some());
        assert!(s.take_fault("/api/v6/documents").is_some());
        assert!(s.take_fault("/api/documents").is_none());
    }

    #[test]
    fn a_307_needs_a_same_origin_path_and_nothing_else_takes_one() {
        let fault = |status, location: Option<&str>| Fault {
            path: "/api/*".into(),
            status,
            times: 1,
            retry_after: None,
            location: location.map(str::to_owned),
        };
        assert!(fault(307, Some("/api/v6/documents?limit=5"))
            .check()
            .is_ok());
        assert!(fault(307, None)
            .check()
            .expect_err("refused")
            .contains("needs a location"));
        for bad in [
            "http://evil.example/api",
            "//evil.example/api",
            "api/x",
            "/a b",
        ] {
            assert!(fault(307, Some(bad)).check().is_err(), "{bad}");
        }
        assert!(fault(429, Some("/api/x"))
            .check()
            .expect_err("refused")
            .contains("only for status 307"));
        assert!(fault(302, None)
            .check()
            .expect_err("refused")
            .contains("not 429, 5xx or 307"));
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
