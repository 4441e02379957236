//! The scenario model: one TOML file per scenario in `scenarios/` (embedded at build time)
//! or in a directory given with `--scenarios-dir`. See `scenarios/README.md` for the format.

use std::path::Path;

use mock_server::script::{Action, Event, Fault, Trigger};
use serde::Deserialize;

pub use crate::callback::OddCallback;

include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

/// Where the authorization response goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectKind {
    /// `http://localhost:PORT/callback`: the client listens; the runner delivers the redirect.
    #[default]
    Localhost,
    /// `urn:ietf:wg:oauth:2.0:oob`: the runner writes the code to the client's stdin.
    Oob,
}

/// How the client authenticates: which client contract it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// OAuth 2.0: BROWSER, a callback or stdin, tokens (README: the client contract).
    #[default]
    Oauth,
    /// An API key: `ONSHAPE_ACCESS_KEY`, `ONSHAPE_SECRET_KEY` (README: the API-key contract).
    ApiKey,
}

impl Auth {
    /// `an OAuth client` / `an API-key client`.
    pub fn client(self) -> &'static str {
        match self {
            Auth::Oauth => "an OAuth client",
            Auth::ApiKey => "an API-key client",
        }
    }
}

/// The API-key scheme a scenario asks for (`ONSHAPE_API_AUTH`); a client that does only one
/// may ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    #[default]
    Signed,
    Basic,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Signed => "signed",
            Scheme::Basic => "basic",
        }
    }
}

/// What the user does on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    #[default]
    Grant,
    Deny,
}

/// How a correct client ends this scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// Exit 0: every API call succeeded.
    #[default]
    Success,
    /// Exit non-zero, with a message.
    Failure,
    /// Either: succeed (e.g. after authorizing again) or fail with a message.
    Either,
}

/// What the browser does between the consent page and the callback.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserScript {
    /// Seconds the mock clock moves before the first callback is delivered.
    #[serde(default)]
    pub advance_before_callback: u64,
    /// The first callback carries a state the client never issued.
    #[serde(default)]
    pub forge_state: bool,
    /// The first callback is odd (see [`OddCallback`]).
    #[serde(default)]
    pub callback: Option<OddCallback>,
}

/// A mock trigger: after the `count`th `after` event, one action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    pub after: Event,
    #[serde(default = "one")]
    pub count: u32,
    /// Move the mock clock this many seconds.
    #[serde(default)]
    pub advance: Option<u64>,
    /// Revoke the scenario user's grant to the scenario app.
    #[serde(default)]
    pub revoke: bool,
    /// Delete the scenario's API key (API-key scenarios).
    #[serde(default)]
    pub delete_key: bool,
    /// Arm this fault.
    #[serde(default)]
    pub fault: Option<Fault>,
}

fn one() -> u32 {
    1
}

/// One scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Defaults to the file name without `.toml`.
    #[serde(default)]
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// OAuth (the default) or an API key: which clients the scenario is for.
    #[serde(default)]
    pub auth: Auth,
    /// API-key scenarios: the scheme asked for in `ONSHAPE_API_AUTH`.
    #[serde(default)]
    pub scheme: Scheme,
    /// `ONSHAPE_HTTP_TIMEOUT`: seconds the client may wait for one answer (judged by
    /// `timeout-bounded` where a scenario holds an answer back).
    #[serde(default = "default_http_timeout")]
    pub http_timeout: f64,
    /// `ONSHAPE_API_PARALLEL=1`: the client makes its first call alone, then the rest
    /// concurrently.
    #[serde(default)]
    pub parallel: bool,
    /// Seconds the client's clock is behind the mock's from the start (the mock's clock is
    /// moved before the client starts; the client's stays).
    #[serde(default)]
    pub clock_skew: u64,
    #[serde(default)]
    pub redirect: RedirectKind,
    /// The scopes the scenario's app is registered with (API-key scenarios: the key's).
    #[serde(default = "default_scopes")]
    pub registered_scopes: Vec<String>,
    /// `ONSHAPE_SCOPE` (unset when absent).
    #[serde(default)]
    pub scope: Option<String>,
    /// `ONSHAPE_COMPANY_ID` (unset when absent).
    #[serde(default)]
    pub company_id: Option<String>,
    /// `ONSHAPE_API_CALLS`, one `METHOD PATH` each.
    #[serde(default = "default_calls")]
    pub api_calls: Vec<String>,
    /// The JSON body of a call of `api_calls`, by the call (`ONSHAPE_API_BODIES`): for
    /// operations of an `--openapi` document that take one. Calls not listed get the
    /// client's own body.
    #[serde(default)]
    pub api_bodies: std::collections::BTreeMap<String, serde_json::Value>,
    /// The fixture user who signs in.
    #[serde(default = "default_user")]
    pub user: String,
    #[serde(default)]
    pub decision: Decision,
    /// The company the user picks when the consent page asks (default: the first listed).
    #[serde(default)]
    pub choose_company: Option<String>,
    /// The company the grant must end up in (judged by `company-selected`).
    #[serde(default)]
    pub expect_company: Option<String>,
    #[serde(default)]
    pub expect: Expect,
    #[serde(default)]
    pub browser: BrowserScript,
    #[serde(default)]
    pub triggers: Vec<TriggerSpec>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Mock rule ids this scenario provokes on purpose (e.g. `scope-sufficient` for a call
    /// outside the granted scope): `request-valid` does not count their refusals.
    #[serde(default)]
    pub expected_refusals: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    ["OAuth2ReadPII", "OAuth2Read", "OAuth2Write", "OAuth2Delete"]
        .map(String::from)
        .to_vec()
}

fn default_calls() -> Vec<String> {
    vec![
        "GET /api/users/sessioninfo".to_owned(),
        "GET /api/documents".to_owned(),
    ]
}

fn default_http_timeout() -> f64 {
    10.0
}

fn default_user() -> String {
    "alice@example.com".to_owned()
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario {file}: {message}")]
    Invalid { file: String, message: String },
    /// The error is in the message, not a `source`: `{:#}` would print it twice.
    #[error("cannot read scenarios from {dir}: {error}")]
    Io { dir: String, error: std::io::Error },
}

impl Scenario {
    /// `ONSHAPE_API_BODIES`: the bodies of `api_bodies` as one JSON object, by call.
    pub fn bodies_json(&self) -> String {
        serde_json::to_string(&self.api_bodies).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Parses one scenario file; `stem` names it when it has no `id`.
    pub fn parse(stem: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            file: stem.to_owned(),
            message,
        };
        let mut s: Scenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if s.id.is_empty() {
            s.id = stem.to_owned();
        }
        if !s
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(format!("id `{}` must be kebab-case", s.id)));
        }
        for call in &s.api_calls {
            let ok = call.split_once(' ').is_some_and(|(m, p)| {
                ["GET", "POST", "DELETE"].contains(&m)
                    && p.starts_with("/api")
                    && !p.contains([' ', ';', '#'])
            });
            if !ok {
                return Err(invalid(format!(
                    "api call `{call}` is not `GET|POST|DELETE /api/…` (a query may follow `?`)"
                )));
            }
        }
        if let Some(extra) = s.api_bodies.keys().find(|k| !s.api_calls.contains(k)) {
            return Err(invalid(format!(
                "api_bodies has a body for `{extra}`, which is not one of api_calls"
            )));
        }
        if s.auth == Auth::ApiKey {
            let oauth_only = [
                ("redirect = \"oob\"", s.redirect == RedirectKind::Oob),
                ("decision = \"deny\"", s.decision == Decision::Deny),
                ("scope", s.scope.is_some()),
                ("company_id", s.company_id.is_some()),
                ("expect_company", s.expect_company.is_some()),
                (
                    "[browser]",
                    s.browser.advance_before_callback > 0
                        || s.browser.forge_state
                        || s.browser.callback.is_some(),
                ),
                ("a revoke trigger", s.triggers.iter().any(|t| t.revoke)),
            ];
            if let Some((what, _)) = oauth_only.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "{what} is for OAuth scenarios; this one has auth = \"api-key\""
                )));
            }
        } else if s.triggers.iter().any(|t| t.delete_key) || s.scheme != Scheme::Signed {
            return Err(invalid(
                "delete_key triggers and scheme are for API-key scenarios (auth = \"api-key\")"
                    .into(),
            ));
        }
        if !(s.http_timeout >= 0.1 && s.http_timeout <= 120.0) {
            return Err(invalid("http_timeout is between 0.1 and 120 s".into()));
        }
        if s.browser.forge_state && s.browser.callback.is_some() {
            return Err(invalid(
                "[browser]: forge_state and callback both change the first callback; give one"
                    .into(),
            ));
        }
        if s.clock_skew > 24 * 3600 {
            return Err(invalid("clock_skew is at most a day (86400 s)".into()));
        }
        if let Some(r) = s
            .expected_refusals
            .iter()
            .find(|r| !mock_server::rules::ALL.iter().any(|m| m.id == r.as_str()))
        {
            return Err(invalid(format!(
                "expected_refusals: `{r}` is not a rule of the mock (onshape-mock rules lists them)"
            )));
        }
        let fixtures = mock_server::Fixtures::builtin();
        let Some(user) = fixtures.users.iter().find(|u| u.email == s.user) else {
            return Err(invalid(format!("user `{}` is not a fixture user", s.user)));
        };
        if let Some(c) = s
            .choose_company
            .as_ref()
            .filter(|c| !user.companies.contains(c))
        {
            return Err(invalid(format!(
                "choose_company `{c}` is not one of {}'s companies",
                s.user
            )));
        }
        for t in &s.triggers {
            let actions = usize::from(t.advance.is_some())
                + usize::from(t.revoke)
                + usize::from(t.delete_key)
                + usize::from(t.fault.is_some());
            if actions != 1 || t.count == 0 {
                return Err(invalid(
                    "each trigger needs count >= 1 and exactly one of advance, revoke, delete_key, fault"
                        .into(),
                ));
            }
        }
        for f in s
            .faults
            .iter()
            .chain(s.triggers.iter().filter_map(|t| t.fault.as_ref()))
        {
            f.check().map_err(invalid)?;
        }
        Ok(s)
    }

    /// Whether the scenario moves the mock's clock (and so the client's, when shared).
    pub fn moves_clock(&self) -> bool {
        self.browser.advance_before_callback > 0
            || self.triggers.iter().any(|t| t.advance.is_some())
    }

    /// The mock triggers of this scenario, for the app `client_id` (OAuth) or the API key
    /// whose access key it is.
    pub fn mock_triggers(&self, client_id: &str) -> Vec<Trigger> {
        self.triggers
            .iter()
            .map(|t| {
                let action = if let Some(secs) = t.advance {
                    Action::Advance(secs)
                } else if let Some(f) = &t.fault {
                    Action::Fault(f.clone())
                } else if t.delete_key {
                    Action::DeleteKey {
                        access_key: client_id.to_owned(),
                    }
                } else {
                    Action::Revoke {
                        user: self.user.clone(),
                        client_id: client_id.to_owned(),
                    }
                };
                Trigger::new(t.after, t.count, action)
            })
            .collect()
    }
}

/// The scenarios of `all` for clients of `auth`: those named in `ids`, or every one when
/// `ids` is empty. A named scenario that is unknown, or for the other kind of client, is an
/// error that says so.
pub fn select(all: Vec<Scenario>, ids: &[String], auth: Auth) -> Result<Vec<Scenario>, String> {
    for id in ids {
        match all.iter().find(|s| &s.id == id) {
            None => {
                let ids: Vec<&str> = all
                    .iter()
                    .filter(|s| s.auth == auth)
                    .map(|s| s.id.as_str())
                    .collect();
                return Err(format!(
                    "unknown scenario `{id}`; known: {}",
                    ids.join(", ")
                ));
            }
            Some(s) if s.auth != auth => {
                let how = match s.auth {
                    Auth::ApiKey => "add --api-key",
                    Auth::Oauth => "leave out --api-key",
                };
                return Err(format!(
                    "scenario `{id}` is for {}: {how} to run it",
                    s.auth.client()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(all
        .into_iter()
        .filter(|s| s.auth == auth && (ids.is_empty() || ids.contains(&s.id)))
        .collect())
}

/// The built-in scenarios, sorted by id.
pub fn builtin() -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = BUILTIN
        .iter()
        .map(|(stem, text)| Scenario::parse(stem, text))
        .collect::<Result<Vec<_>, _>>()?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// The built-in scenarios plus (replacing same ids) every `*.toml` in `dir`.
pub fn load(dir: Option<&Path>) -> Result<Vec<Scenario>, ScenarioError> {
    let mut all = builtin()?;
    let Some(dir) = dir else { return Ok(all) };
    let io = |error| ScenarioError::Io {
        dir: dir.display().to_string(),
        error,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario");
        let s = Scenario::parse(stem, &text)?;
        all.retain(|o| o.id != s.id);
        all.push(s);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_parses_and_ids_default_to_the_file_name() {
        let all = builtin().expect("built-in scenarios parse");
        assert!(all.len() >= 14, "{} scenarios", all.len());
        assert!(all
            .iter()
            .any(|s| s.id == "happy-localhost" && s.redirect == RedirectKind::Localhost));
        assert!(all
            .iter()
            .any(|s| s.id == "happy-oob" && s.redirect == RedirectKind::Oob));
        assert!(
            all.iter()
                .any(|s| s.triggers.iter().any(|t| t.advance.unwrap_or(0) >= 3600)),
            "some scenario expires tokens"
        );
        assert!(
            all.iter().any(|s| s.triggers.iter().any(|t| t.revoke)),
            "some scenario revokes"
        );
    }

    #[test]
    fn bad_scenarios_name_the_problem() {
        let err = |text: &str| Scenario::parse("x", text).expect_err("invalid").to_string();
        assert!(err("title = 'T'\ncolour = 1\n").contains("colour"));
        assert!(err("title = 'T'\napi_calls = ['PUT /api/x']\n").contains("PUT /api/x"));
        assert!(err("title = 'T'\n[[triggers]]\nafter = 'api-success'\n").contains("exactly one"));
        assert!(
            err("title = 'T'\n[[faults]]\npath = '/api/*'\nstatus = 200\n")
                .contains("a 200 fault needs a body")
        );
        assert!(err("id = 'Bad_Id'\ntitle = 'T'\n").contains("kebab-case"));
        assert!(err("title = 'T'\nexpected_refusals = ['scope-enough']\n").contains("scope-enough"));
        assert!(err("title = 'T'\nuser = 'mallory@example.com'\n").contains("not a fixture user"));
        assert!(
            err("title = 'T'\nchoose_company = 'c0ffee00000000000000b22b'\n")
                .contains("not one of")
        );
        let ok = Scenario::parse("my-scenario", "title = 'T'\n").expect("minimal scenario");
        assert_eq!(ok.id, "my-scenario");
        assert_eq!(ok.user, "alice@example.com");
        assert_eq!(ok.expect, Expect::Success);
    }

    #[test]
    fn api_key_scenarios_refuse_oauth_settings_and_are_selected_by_contract() {
        let err = |text: &str| Scenario::parse("x", text).expect_err("invalid").to_string();
        let key = "title = 'T'\nauth = 'api-key'\n";
        assert!(
            err(&format!("{key}redirect = 'oob'\n")).contains("redirect = \"oob\" is for OAuth")
        );
        assert!(err(&format!("{key}scope = 'OAuth2Read'\n")).contains("scope is for OAuth"));
        assert!(err(&format!(
            "{key}[[triggers]]\nafter = 'api-success'\nrevoke = true\n"
        ))
        .contains("revoke trigger"));
        assert!(err("title = 'T'\nscheme = 'basic'\n").contains("for API-key scenarios"));
        assert!(
            err("title = 'T'\n[[triggers]]\nafter = 'api-success'\ndelete_key = true\n")
                .contains("for API-key scenarios")
        );
        assert!(err(&format!("{key}clock_skew = 90000\n")).contains("at most a day"));
        assert!(err("title = 'T'\napi_calls = ['GET /api/x?a=1;b']\n").contains("GET /api/x?a=1;b"));
        let ok = Scenario::parse(
            "k",
            &format!("{key}scheme = 'basic'\nclock_skew = 360\n[[triggers]]\nafter = 'api-success'\ndelete_key = true\n"),
        )
        .expect("an API-key scenario");
        assert_eq!(
            ok.mock_triggers("ACCESS")[0].action,
            Action::DeleteKey {
                access_key: "ACCESS".into()
            }
        );

        let all = builtin().expect("parse");
        let keys = select(all.clone(), &[], Auth::ApiKey).expect("selects");
        assert!(keys.len() >= 8 && keys.iter().all(|s| s.auth == Auth::ApiKey));
        let oauth = select(all.clone(), &[], Auth::Oauth).expect("selects");
        assert_eq!(keys.len() + oauth.len(), all.len());
        let wrong =
            select(all.clone(), &["apikey-signed".into()], Auth::Oauth).expect_err("other kind");
        assert!(wrong.contains("add --api-key"), "{wrong}");
        let unknown = select(all, &["nope".into()], Auth::ApiKey).expect_err("unknown");
        assert!(
            unknown.contains("unknown scenario `nope`") && unknown.contains("apikey-signed"),
            "{unknown}"
        );
    }

    #[test]
    fn a_directory_adds_and_replaces_scenarios() {
        let dir =
            std::env::temp_dir().join(format!("onshape-mock-scenarios-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        std::fs::write(dir.join("extra.toml"), "title = 'Extra'\n").expect("write");
        std::fs::write(
            dir.join("happy-oob.toml"),
            "title = 'Replaced'\nredirect = 'oob'\n",
        )
        .expect("write");
        let all = load(Some(&dir)).expect("loads");
        assert!(all.iter().any(|s| s.id == "extra"));
        let oob: Vec<_> = all.iter().filter(|s| s.id == "happy-oob").collect();
        assert_eq!(oob.len(), 1);
        assert_eq!(oob[0].title, "Replaced");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn revoke_triggers_name_the_scenario_user_and_app() {
        let s = Scenario::parse("r", "title = 'T'\nuser = 'bob@example.com'\n[[triggers]]\nafter = 'api-success'\nrevoke = true\n")
            .expect("parses");
        let t = s.mock_triggers("CLIENT=");
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0],
            Trigger::new(
                Event::ApiSuccess,
                1,
                Action::Revoke {
                    user: "bob@example.com".into(),
                    client_id: "CLIENT=".into()
                }
            )
        );
    }
}
