//! Fixtures: the TOML file the mock starts from (`fixtures/default.toml` is compiled in).
//!
//! Parsing is strict — unknown keys, dangling ids and broken registration rules are errors
//! that name the entry — so a fixture typo fails at start, not in the middle of a test.

use std::collections::HashSet;

use serde::Deserialize;

use crate::clock::Instant;
use crate::domain::ScopeSet;
use crate::model::{
    ApiKey, App, AppRegistration, Company, Document, Group, GroupKind, Member, Plan, RateLimit,
    User,
};

/// The built-in default fixtures.
pub const DEFAULT_TOML: &str = include_str!("../../fixtures/default.toml");

/// A validated set of fixtures.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub companies: Vec<Company>,
    pub users: Vec<User>,
    pub apps: Vec<App>,
    pub documents: Vec<Document>,
    pub api_keys: Vec<ApiKey>,
    /// Teams and aliases.
    pub groups: Vec<Group>,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The TOML error is in the message, not a `source`: `{:#}` would print it twice.
    #[error("fixtures are not valid TOML for the fixture format: {0}")]
    Toml(String),
    #[error("fixtures: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    companies: Vec<CompanyEntry>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    apps: Vec<AppRegistration>,
    #[serde(default)]
    documents: Vec<DocumentEntry>,
    #[serde(default)]
    api_keys: Vec<ApiKeyEntry>,
    #[serde(default)]
    teams: Vec<GroupEntry>,
    #[serde(default)]
    aliases: Vec<GroupEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    id: String,
    name: String,
    company: String,
    /// Emails.
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyEntry {
    name: String,
    owner: String,
    access_key: String,
    secret_key: String,
    scopes: Vec<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    stack: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanyEntry {
    id: String,
    name: String,
    #[serde(default)]
    plan: Plan,
    /// Emails of the company's admins (members of the company).
    #[serde(default)]
    admins: Vec<String>,
    /// Full-user seats; default: the company's full (not light) fixture users.
    #[serde(default)]
    seats: Option<u64>,
    /// API calls made this year before the mock started.
    #[serde(default)]
    api_calls: u64,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    id: String,
    email: String,
    name: String,
    #[serde(default)]
    companies: Vec<String>,
    #[serde(default)]
    light: bool,
    /// The plan of the user's own account (default free).
    #[serde(default = "free")]
    plan: Plan,
    #[serde(default)]
    api_calls: u64,
}

fn free() -> Plan {
    Plan::Free
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentEntry {
    id: String,
    name: String,
    #[serde(default)]
    company: Option<String>,
    owner: String,
}

impl Fixtures {
    /// The compiled-in default fixtures.
    pub fn builtin() -> Fixtures {
        match Fixtures::parse(DEFAULT_TOML) {
            Ok(f) => f,
            // The default file is tested; this cannot happen in a released build.
            Err(e) => panic!("built-in fixtures are invalid: {e}"),
        }
    }

    pub fn parse(text: &str) -> Result<Fixtures, FixtureError> {
        let file: File = toml::from_str(text).map_err(|e| FixtureError::Toml(e.to_string()))?;
        let invalid = |m: String| FixtureError::Invalid(m);
        let mut ids = HashSet::new();
        let mut check_id = |kind: &str, id: &str| {
            // Onshape's ids are lower-case hex; an upper-case one would never match a request.
            if id.len() != 24 || !id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(invalid(format!(
                    "{kind} id `{id}` is not 24 lower-case hex characters"
                )));
            }
            if !ids.insert(id.to_owned()) {
                return Err(invalid(format!("id `{id}` is used twice")));
            }
            Ok(())
        };
        let mut companies = Vec::new();
        let mut admins = Vec::new();
        for c in file.companies {
            check_id("company", &c.id)?;
            if c.rate_limit
                .is_some_and(|r| r.calls == 0 || r.per_seconds == 0)
            {
                return Err(invalid(format!(
                    "company `{}`: rate_limit needs calls and per_seconds above 0",
                    c.id
                )));
            }
            admins.push((c.id.clone(), c.admins));
            companies.push(Company {
                id: c.id,
                name: c.name,
                plan: c.plan,
                admins: Vec::new(),
                seats: c.seats.unwrap_or(0),
                api_calls: c.api_calls,
                rate_limit: c.rate_limit,
            });
            if c.seats == Some(0) {
                return Err(invalid("a company's seats must be at least 1".to_owned()));
            }
        }
        let mut users: Vec<User> = Vec::new();
        for u in file.users {
            check_id("user", &u.id)?;
            if !u.email.contains('@') {
                return Err(invalid(format!(
                    "user `{}`: `{}` is not an email address",
                    u.id, u.email
                )));
            }
            if users.iter().any(|o| o.email.eq_ignore_ascii_case(&u.email)) {
                return Err(invalid(format!("email `{}` is used twice", u.email)));
            }
            for c in &u.companies {
                if !companies.iter().any(|k| &k.id == c) {
                    return Err(invalid(format!(
                        "user `{}` names unknown company `{c}`",
                        u.email
                    )));
                }
            }
            users.push(User {
                id: u.id,
                email: u.email,
                name: u.name,
                companies: u.companies,
                light: u.light,
                plan: u.plan,
                api_calls: u.api_calls,
            });
        }
        for (company, emails) in admins {
            let mut ids = Vec::new();
            for email in emails {
                let Some(user) = users.iter().find(|u| u.email.eq_ignore_ascii_case(&email)) else {
                    return Err(invalid(format!(
                        "company `{company}` names unknown admin `{email}`"
                    )));
                };
                if !user.companies.contains(&company) || user.light {
                    return Err(invalid(format!(
                        "company `{company}`: admin `{email}` must be a full user of the company"
                    )));
                }
                ids.push(user.id.clone());
            }
            let full = users
                .iter()
                .filter(|u| !u.light && u.companies.contains(&company))
                .count() as u64;
            if let Some(c) = companies.iter_mut().find(|c| c.id == company) {
                c.admins = ids;
                if c.seats == 0 {
                    c.seats = full.max(1);
                }
            }
        }
        let mut groups = Vec::new();
        let group_entries = file
            .teams
            .into_iter()
            .map(|g| (GroupKind::Team, g))
            .chain(file.aliases.into_iter().map(|g| (GroupKind::Alias, g)));
        for (kind, g) in group_entries {
            check_id(kind.as_str(), &g.id)?;
            if !companies.iter().any(|c| c.id == g.company) {
                return Err(invalid(format!(
                    "{} `{}` names unknown company `{}`",
                    kind.as_str(),
                    g.name,
                    g.company
                )));
            }
            let mut members = Vec::new();
            for email in &g.members {
                match users.iter().find(|u| u.email.eq_ignore_ascii_case(email)) {
                    Some(u) if u.companies.contains(&g.company) => members.push(u.id.clone()),
                    _ => {
                        return Err(invalid(format!(
                            "{} `{}`: `{email}` is not a user of its company",
                            kind.as_str(),
                            g.name
                        )))
                    }
                }
            }
            groups.push(Group {
                id: g.id,
                kind,
                name: g.name,
                company_id: g.company,
                members,
            });
        }
        let mut apps: Vec<App> = Vec::new();
        let mut formats = HashSet::new();
        for reg in file.apps {
            let name = reg.name.clone();
            let (owner, created_by) = (reg.owner.clone(), reg.created_by.clone());
            let mut app = reg
                .validate(&formats, Instant(0))
                .map_err(|e| invalid(format!("app `{name}`: {} ({})", e.message, e.rule)))?;
            let (owner, creator) = crate::store::resolve_owner(
                &companies,
                &users,
                owner.as_deref(),
                created_by.as_deref(),
            )
            .map_err(|e| invalid(format!("app `{name}`: {} ({})", e.message, e.rule)))?;
            app.owner = owner;
            app.members = creator.iter().cloned().map(Member::User).collect();
            app.created_by = creator;
            if apps.iter().any(|a| a.client_id == app.client_id) {
                return Err(invalid(format!("app `{name}`: client_id is used twice")));
            }
            formats.insert(app.primary_format.clone());
            apps.push(app);
        }
        let mut documents = Vec::new();
        for d in file.documents {
            check_id("document", &d.id)?;
            let Some(owner) = users.iter().find(|u| u.email == d.owner) else {
                return Err(invalid(format!(
                    "document `{}` names unknown owner `{}`",
                    d.id, d.owner
                )));
            };
            if let Some(c) = &d.company {
                if !owner.companies.contains(c) {
                    return Err(invalid(format!(
                        "document `{}`: owner `{}` is not in company `{c}`",
                        d.id, d.owner
                    )));
                }
            }
            documents.push(Document {
                id: d.id,
                name: d.name,
                company: d.company,
                owner: owner.id.clone(),
                created_at: Instant(0),
            });
        }
        let mut api_keys: Vec<ApiKey> = Vec::new();
        for k in file.api_keys {
            let what = format!("api key `{}`", k.name);
            let Some(owner) = users.iter().find(|u| u.email == k.owner) else {
                return Err(invalid(format!("{what} names unknown owner `{}`", k.owner)));
            };
            let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
            if !alnum(&k.access_key) || k.access_key.len() < 16 || k.access_key.len() > 64 {
                return Err(invalid(format!(
                    "{what}: access_key must be 16 to 64 letters and digits"
                )));
            }
            if !alnum(&k.secret_key) || k.secret_key.len() < 32 || k.secret_key.len() > 128 {
                return Err(invalid(format!(
                    "{what}: secret_key must be 32 to 128 letters and digits"
                )));
            }
            if api_keys.iter().any(|o| o.access_key == k.access_key) {
                return Err(invalid(format!("{what}: access_key is used twice")));
            }
            if let Some(c) = &k.company {
                if !owner.companies.contains(c) {
                    return Err(invalid(format!(
                        "{what}: owner `{}` is not in company `{c}`",
                        k.owner
                    )));
                }
            }
            let scopes = ScopeSet::from_names(k.scopes.iter().map(String::as_str))
                .map_err(|e| invalid(format!("{what}: {e}")))?;
            api_keys.push(ApiKey {
                name: k.name,
                access_key: k.access_key,
                secret_key: k.secret_key,
                user_id: owner.id.clone(),
                company_id: k.company,
                scopes,
                stack: k
                    .stack
                    .unwrap_or_else(|| crate::server::DEFAULT_STACK.to_owned()),
                created_at: Instant(0),
            });
        }
        Ok(Fixtures {
            companies,
            users,
            apps,
            documents,
            api_keys,
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fixtures_hold_what_the_docs_promise() {
        let f = Fixtures::builtin();
        assert_eq!(f.companies.len(), 2);
        let user = |e: &str| {
            f.users
                .iter()
                .find(|u| u.email == e)
                .expect("user exists")
                .clone()
        };
        assert_eq!(user("alice@example.com").companies.len(), 1);
        assert_eq!(user("bob@example.com").companies.len(), 2);
        assert!(user("carol@example.com").light);
        assert!(f
            .apps
            .iter()
            .all(|a| a.client_id.ends_with('=') && a.client_secret.ends_with('=')));
        assert!(f
            .apps
            .iter()
            .any(|a| a.redirect_uris.iter().any(|r| r.is_oob())));
        assert!(!f.documents.is_empty());
    }

    #[test]
    fn seats_default_to_the_companys_full_users() {
        let text = DEFAULT_TOML
            .replace("seats = 500\n", "")
            .replace("seats = 50\n", "");
        let f = Fixtures::parse(&text).expect("parses");
        let seats = |id: &str| f.companies.iter().find(|c| c.id == id).map(|c| c.seats);
        assert_eq!(seats("c0ffee00000000000000a11a"), Some(2), "Alice and Bob");
        assert_eq!(
            seats("c0ffee00000000000000b22b"),
            Some(1),
            "Bob; Carol is a light user"
        );
        let builtin = Fixtures::builtin();
        assert_eq!(builtin.companies[0].seats, 500, "the default file's seats");
        let err = Fixtures::parse(&DEFAULT_TOML.replace(
            "admins = [\"bob@example.com\"]",
            "admins = [\"carol@example.com\"]",
        ))
        .expect_err("a light admin");
        assert!(err.to_string().contains("full user"), "{err}");
    }

    #[test]
    fn bad_fixtures_name_the_problem() {
        let err =
            Fixtures::parse("[[companies]]\nid = \"x\"\nname = \"X\"\n").expect_err("short id");
        assert!(err.to_string().contains("24 lower-case hex"), "{err}");
        let err = Fixtures::parse("[[apps]]\nname=\"A\"\nprimary_format=\"com.a.b\"\nredirect_urls=[\"http://example.com/cb\"]\nscopes=[\"OAuth2Read\"]\n")
            .expect_err("http redirect");
        assert!(
            err.to_string().contains("registration-redirect-url"),
            "{err}"
        );
        let err = Fixtures::parse("colour = 1\n").expect_err("unknown key");
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
