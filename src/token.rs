//! `onshape-mock token`: the whole OAuth flow in one command, for curl users and scripts.
//!
//! Against a running mock (or one it starts with `--start`), as a client would: the consent
//! is scripted for the user through the control API (and put back as it was), `GET
//! /oauth/authorize` answers with the code, and the code is redeemed at `POST /oauth/token`
//! with a form body. The client secret comes from the fixtures (built-in, or the file the
//! mock was started with), since the control API never shows secrets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use mock_server::model::App;
use mock_server::{Binds, Config, Fixtures};
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct Args {
    /// The fixture user who grants the authorization.
    #[arg(long, value_name = "EMAIL")]
    pub user: String,
    /// The application: its name, primary format or client id (default: the first fixture
    /// application with a redirect URI that is not out-of-band).
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// The scopes to ask for, space-separated (default: all the application registered).
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
    /// The company (id or name); required for a user in several companies.
    #[arg(long, value_name = "ID")]
    pub company: Option<String>,
    /// The mock's base URL (its OAuth origin).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub mock: String,
    /// When no mock answers at --mock, start one there (built-in fixtures, or --fixtures),
    /// print the tokens, and keep serving until Ctrl-C.
    #[arg(long)]
    pub start: bool,
    /// The fixtures the mock was started with, for the client secret (default: built-in).
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// The client secret, when the mock's fixtures are not at hand.
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// Print `export ONSHAPE_ACCESS_TOKEN=…` lines, for `eval "$(onshape-mock token … --export)"`.
    #[arg(long, conflicts_with = "json")]
    pub export: bool,
    /// Print the token response as JSON, with the client id and the base URLs.
    #[arg(long)]
    pub json: bool,
}

/// `onshape-mock token`: prepare, find (or `--start`) a mock, run the flow, print.
pub fn command(args: Args) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let fixtures = crate::read_fixtures(args.fixtures.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mock_url = args.mock.trim_end_matches('/').to_owned();
    let prepared = prepare(Request {
        mock: mock_url.clone(),
        user: args.user.clone(),
        app: args.app,
        scope: args.scope,
        company: args.company,
        client_secret: args.client_secret,
        fixtures: fixtures.clone(),
    })?;
    runtime.block_on(async {
        let mut started = None;
        if !answers(&mock_url).await {
            if !args.start {
                anyhow::bail!(
                    "no onshape-mock answers at {mock_url}: start one with `onshape-mock serve` (in another terminal), or add --start to start one here that keeps running after printing the tokens"
                );
            }
            let addr = url::Url::parse(&mock_url)
                .ok()
                .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
                .ok_or_else(|| anyhow::anyhow!("--mock {mock_url}: not an http://HOST:PORT URL"))?;
            let addr = crate::parse_bind(&addr).map_err(|e| anyhow::anyhow!("--mock: {e}"))?;
            let stop = crate::shutdown_signal()?;
            let config = Config {
                fixtures: fixtures.clone(),
                ..Config::default()
            };
            let mock = mock_server::spawn(config, Binds { oauth: addr, api: None, stacks: Vec::new() })
                .await
                .with_context(|| format!("--start: cannot start a mock at {addr}"))?;
            eprintln!("onshape-mock: started a mock at {} (Ctrl-C stops it)", mock.oauth_url());
            started = Some((mock, stop));
        }
        let tokens = run(prepared).await?;
        let out = if args.export {
            tokens.export_lines()
        } else if args.json {
            format!("{:#}\n", tokens.json())
        } else {
            tokens.text(&args.user)
        };
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
        drop(stdout);
        if let Some((mock, stop)) = started {
            mock.serve_until(stop).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// What to ask for.
pub struct Request {
    pub mock: String,
    pub user: String,
    pub app: Option<String>,
    pub scope: Option<String>,
    pub company: Option<String>,
    pub client_secret: Option<String>,
    pub fixtures: Fixtures,
}

/// What the flow gave.
pub struct Tokens {
    pub response: Value,
    pub app: App,
    pub client_secret: String,
    pub oauth_url: String,
    pub api_url: String,
    pub company: Option<String>,
}

/// The mock's control API answers at `mock` (a `GET /__mock/health` within a second).
pub async fn answers(mock: &str) -> bool {
    let Ok(http) = client(Duration::from_secs(1)) else {
        return false;
    };
    http.get(format!("{mock}/__mock/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
}

/// The application: by name, primary format or client id; by default the first fixture
/// application with a redirect URI that is not out-of-band.
fn choose_app(fixtures: &Fixtures, wanted: Option<&str>) -> anyhow::Result<App> {
    let found = match wanted {
        Some(w) => fixtures
            .apps
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(w) || a.primary_format == w || a.client_id == w),
        None => fixtures
            .apps
            .iter()
            .find(|a| a.redirect_uris.iter().any(|r| !r.is_oob()))
            .or(fixtures.apps.first()),
    };
    match found {
        Some(app) => Ok(app.clone()),
        None => {
            let names: Vec<&str> = fixtures.apps.iter().map(|a| a.name.as_str()).collect();
            bail!(
                "--app: no fixture application is named `{}`; the applications are: {}",
                wanted.unwrap_or(""),
                names.join(", ")
            )
        }
    }
}

/// The user's company: by id or name; required when the user is in several.
fn choose_company(
    fixtures: &Fixtures,
    user: &mock_server::model::User,
    wanted: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let theirs = || {
        user.companies
            .iter()
            .map(|id| {
                let name = fixtures
                    .companies
                    .iter()
                    .find(|c| &c.id == id)
                    .map_or("?", |c| c.name.as_str());
                format!("{id} ({name})")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(w) => {
            let company = fixtures
                .companies
                .iter()
                .find(|c| c.id == w || c.name.eq_ignore_ascii_case(w));
            match company {
                Some(c) if user.companies.contains(&c.id) => Ok(Some(c.id.clone())),
                _ => bail!(
                    "--company: {} has no company `{w}` (an id or a full name); theirs: {}",
                    user.email,
                    theirs()
                ),
            }
        }
        None if user.companies.len() > 1 => bail!(
            "{} belongs to several companies: add --company with one of {}",
            user.email,
            theirs()
        ),
        None => Ok(user.companies.first().cloned()),
    }
}

/// A request checked against the fixtures, before any mock is asked or started.
pub struct Prepared {
    mock: String,
    user: String,
    scope: Option<String>,
    app: App,
    company: Option<String>,
    secret: String,
    redirect: String,
}

/// Checks the user, application and company against the fixtures.
pub fn prepare(req: Request) -> anyhow::Result<Prepared> {
    let fixtures = &req.fixtures;
    let Some(user) = fixtures
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(&req.user))
    else {
        let emails: Vec<&str> = fixtures.users.iter().map(|u| u.email.as_str()).collect();
        bail!(
            "--user: no fixture user has the email `{}`; the users are: {}",
            req.user,
            emails.join(", ")
        );
    };
    let app = choose_app(fixtures, req.app.as_deref())?;
    let company = choose_company(fixtures, user, req.company.as_deref())?;
    let secret = req
        .client_secret
        .clone()
        .unwrap_or_else(|| app.client_secret.clone());
    let redirect = app
        .redirect_uris
        .iter()
        .find(|r| !r.is_oob())
        .or(app.redirect_uris.first())
        .map(|r| r.as_str().to_owned())
        .context("the application has no redirect URI")?;
    Ok(Prepared {
        mock: req.mock.trim_end_matches('/').to_owned(),
        user: user.email.clone(),
        scope: req.scope,
        app,
        company,
        secret,
        redirect,
    })
}

pub async fn run(req: Prepared) -> anyhow::Result<Tokens> {
    let Prepared {
        mock,
        user,
        scope,
        app,
        company,
        secret,
        redirect,
    } = req;
    let mock = mock.as_str();
    let http = client(Duration::from_secs(10))?;
    let health: Value = http
        .get(format!("{mock}/__mock/health"))
        .send()
        .await
        .with_context(|| format!("no onshape-mock answers at {mock}"))?
        .json()
        .await
        .with_context(|| format!("{mock} is not an onshape-mock (GET /__mock/health)"))?;
    let oauth_url = health["urls"]["oauth"].as_str().unwrap_or(mock).to_owned();
    let api_url = health["urls"]["api"].as_str().unwrap_or(mock).to_owned();

    // The consent, scripted for this one authorization and then put back as it was.
    let before: Value = http
        .get(format!("{mock}/__mock/consent"))
        .send()
        .await?
        .json()
        .await?;
    let scripted = json!({ "decision": "grant", "user": user, "company_id": company });
    let set = |body: Value| {
        http.post(format!("{mock}/__mock/consent"))
            .json(&body)
            .send()
    };
    let answer = set(scripted).await?;
    if !answer.status().is_success() {
        bail!(
            "the mock refused the consent script: {}",
            answer.text().await?
        );
    }
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("state", "onshape-mock-token"),
    ];
    if let Some(scope) = &scope {
        query.push(("scope", scope));
    }
    let authorized = http
        .get(format!(
            "{oauth_url}/oauth/authorize?{}",
            mock_server::form::encode(&query)
        ))
        .send()
        .await;
    let restore = match before["decision"].as_str() {
        Some("grant" | "deny") => before.clone(),
        _ => json!({ "decision": "prompt" }),
    };
    let restored = set(restore).await;
    let authorized = authorized?;
    restored.context("putting the consent script back")?;
    let code = code_of(authorized).await?;

    let answer = http
        .post(format!("{oauth_url}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", app.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("redirect_uri", redirect.as_str()),
        ])
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer
        .json()
        .await
        .context("the token response is not JSON")?;
    if !status.is_success() {
        let mut message = format!(
            "the token request was refused ({status}): {} — {}",
            body["error_description"].as_str().unwrap_or(""),
            body["hint"].as_str().unwrap_or("")
        );
        if body["error"] == "invalid_client" {
            message.push_str(
                " (was the mock started with other fixtures? pass the same --fixtures FILE, or --client-secret)",
            );
        }
        bail!(message);
    }
    Ok(Tokens {
        response: body,
        app,
        client_secret: secret,
        oauth_url,
        api_url,
        company,
    })
}

/// The code from the authorization's answer: the callback's `code`, or the out-of-band
/// page's title; otherwise what went wrong.
async fn code_of(resp: reqwest::Response) -> anyhow::Result<String> {
    let status = resp.status();
    if let Some(location) = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
    {
        let url = url::Url::parse(location)
            .or_else(|_| url::Url::parse("http://mock/")?.join(location))
            .with_context(|| format!("the authorization answered with Location {location}"))?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(code) = param("code") {
            return Ok(code);
        }
        if let Some(error) = param("error") {
            bail!(
                "the authorization was refused: {error}: {}",
                param("error_description").unwrap_or_default()
            );
        }
        bail!("the authorization answered {status} to {location}, without a code");
    }
    let page = resp.text().await.unwrap_or_default();
    if let Some(code) = conformance::browser::oob_code(&page) {
        return Ok(code);
    }
    let text = |id: &str| conformance::browser::paragraph(&page, id).unwrap_or_default();
    bail!(
        "the authorization was refused ({status}): {} {}",
        text("error"),
        text("hint")
    )
}

/// Single-quoted for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

impl Tokens {
    fn field(&self, name: &str) -> &str {
        self.response[name].as_str().unwrap_or("")
    }

    /// `export NAME=VALUE` lines: `eval "$(onshape-mock token … --export)"`. The names are
    /// the client contract's (README), so a client run by hand finds them too.
    pub fn export_lines(&self) -> String {
        let mut vars = vec![
            (
                "ONSHAPE_ACCESS_TOKEN",
                self.field("access_token").to_owned(),
            ),
            (
                "ONSHAPE_REFRESH_TOKEN",
                self.field("refresh_token").to_owned(),
            ),
            ("ONSHAPE_OAUTH_URL", self.oauth_url.clone()),
            ("ONSHAPE_API_URL", self.api_url.clone()),
            ("ONSHAPE_CLIENT_ID", self.app.client_id.clone()),
            ("ONSHAPE_CLIENT_SECRET", self.client_secret.clone()),
        ];
        if let Some(c) = &self.company {
            vars.push(("ONSHAPE_COMPANY_ID", c.clone()));
        }
        vars.iter()
            .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
            .collect()
    }

    pub fn json(&self) -> Value {
        let mut out = self.response.clone();
        out["client_id"] = json!(self.app.client_id);
        out["oauth_url"] = json!(self.oauth_url);
        out["api_url"] = json!(self.api_url);
        out["company_id"] = json!(self.company);
        out
    }

    pub fn text(&self, user: &str) -> String {
        let access = self.field("access_token");
        format!(
            "access_token:  {access}\nrefresh_token: {}\nexpires_in:    {} s\nscope:         {}\nfor:           {user}{}, {} ({})\n\nTry it:\n  curl -H 'Authorization: Bearer {access}' {}/api/users/sessioninfo\nRefresh it (the refresh token rotates: keep the new one):\n  curl {}/oauth/token -d grant_type=refresh_token -d refresh_token={} -d client_id={} -d client_secret={}\n",
            self.field("refresh_token"),
            self.response["expires_in"],
            self.response["scope"].as_str().unwrap_or("(as registered)"),
            self.company
                .as_deref()
                .map(|c| format!(" in company {c}"))
                .unwrap_or_default(),
            self.app.name,
            self.app.client_id,
            self.api_url,
            self.oauth_url,
            self.field("refresh_token"),
            mock_server::form::encode_component(&self.app.client_id),
            mock_server::form::encode_component(&self.client_secret),
        )
    }
}
