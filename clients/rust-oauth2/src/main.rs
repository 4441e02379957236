//! The Rust `oauth2` crate (5.x) as its docs show it, for `onshape-mock check` (desktop mode).
//!
//! Follows the crate's "Getting started" blocking example and examples/github.rs:
//! `BasicClient::new(..).set_client_secret(..).set_auth_uri(..).set_token_uri(..)
//! .set_redirect_uri(..)`, `authorize_url(CsrfToken::new_random)` with `add_scope` and
//! `add_extra_param`, a naive `TcpListener` redirect server, the state compared as the docs ask
//! (the `timing-resistant-secret-traits` `PartialEq`), `exchange_code(..).request(&http_client)`
//! with a reqwest blocking client that follows no redirects, and
//! `exchange_refresh_token(..).request(..)` once on a 401 from the API. The API calls (not the
//! crate's business) go through a reqwest client with its defaults; both time out after
//! ONSHAPE_HTTP_TIMEOUT seconds. Nothing else is added:
//! no PKCE (the docs make it opt-in, for public clients), no Retry-After handling, no second
//! authorization. Only the glue of the runner's contract is ours.

use oauth2::basic::BasicClient;
use oauth2::reqwest;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;
use url::Url;

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
type Error = Box<dyn std::error::Error>;

fn var(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

fn opt(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Waits for one GET to the redirect path; answers it with a tiny page; returns its query.
fn callback(redirect: &Url, listener: &TcpListener) -> Result<HashMap<String, String>, Error> {
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut reader = BufReader::new(&stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut header = String::new();
        while reader.read_line(&mut header)? > 2 {
            header.clear(); // read the headers up to the blank line, ignore them
        }
        let target = request_line.split_whitespace().nth(1).unwrap_or("/");
        let url = redirect.join(target)?;
        let ours = url.path() == redirect.path();
        let (status, page) = match ours {
            true => ("200 OK", "You can close this window."),
            false => ("404 Not Found", "This is not the OAuth callback."),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        );
        stream.write_all(response.as_bytes())?;
        if ours {
            return Ok(url.query_pairs().into_owned().collect());
        }
    }
    Err("the redirect listener stopped".into())
}

fn run() -> Result<(), Error> {
    let oauth_url = var("ONSHAPE_OAUTH_URL")?.trim_end_matches('/').to_owned();
    let api_url = var("ONSHAPE_API_URL")?.trim_end_matches('/').to_owned();
    let redirect_uri = var("ONSHAPE_REDIRECT_URI")?;
    let client = BasicClient::new(ClientId::new(var("ONSHAPE_CLIENT_ID")?))
        .set_client_secret(ClientSecret::new(var("ONSHAPE_CLIENT_SECRET")?))
        .set_auth_uri(AuthUrl::new(format!("{oauth_url}/oauth/authorize"))?)
        .set_token_uri(TokenUrl::new(format!("{oauth_url}/oauth/token"))?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.clone())?);
    // Every request gives up after ONSHAPE_HTTP_TIMEOUT seconds (the runner's contract).
    let timeout = Duration::from_secs(
        opt("ONSHAPE_HTTP_TIMEOUT")
            .and_then(|t| t.parse().ok())
            .unwrap_or(10),
    );
    let http_client = reqwest::blocking::ClientBuilder::new()
        // Following redirects opens the client up to SSRF vulnerabilities.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?;
    // API calls are the adapter's own, not the crate's: a client with reqwest's defaults,
    // which follows Onshape's 307s on the same origin with the bearer token.
    let api_client = reqwest::blocking::ClientBuilder::new()
        .timeout(timeout)
        .build()?;

    let mut request = client.authorize_url(CsrfToken::new_random);
    for scope in opt("ONSHAPE_SCOPE").unwrap_or_default().split_whitespace() {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    if let Some(company) = opt("ONSHAPE_COMPANY_ID") {
        request = request.add_extra_param("company_id", company);
    }
    let (authorize_url, csrf_state) = request.url();

    // Listen before the browser can come back; then open the URL ($BROWSER returns at once).
    let redirect = Url::parse(&redirect_uri)?;
    let port = redirect.port().unwrap_or(80);
    let listener = match redirect_uri.as_str() {
        OOB => None,
        _ => Some(TcpListener::bind(("127.0.0.1", port))?),
    };
    let mut browser = Command::new(var("BROWSER")?);
    browser
        .arg(authorize_url.as_str())
        .stdin(Stdio::null())
        .status()?;

    let code = match listener {
        None => {
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line)? == 0 {
                return Err("standard input closed before a code: authorization denied".into());
            }
            let line = line.trim();
            AuthorizationCode::new(line.split_once("code=").map_or(line, |(_, c)| c).to_owned())
        }
        Some(listener) => {
            let mut query = callback(&redirect, &listener)?;
            // "your code should verify that the `state` parameter returned by the server
            // matches `csrf_token`": PartialEq from `timing-resistant-secret-traits`.
            if query.remove("state").map(CsrfToken::new) != Some(csrf_state) {
                return Err("the callback's state is not the one issued: refusing its code".into());
            }
            if let Some(error) = query.remove("error") {
                return Err(format!("authorization failed: {error}").into());
            }
            AuthorizationCode::new(query.remove("code").ok_or("the callback carried no code")?)
        }
    };

    let token = client.exchange_code(code).request(&http_client)?;
    let mut access_token = token.access_token().clone();
    let mut refresh_token = token.refresh_token().cloned();

    for item in opt("ONSHAPE_API_CALLS").unwrap_or_default().split(';') {
        let Some((method, path)) = item.trim().split_once(' ') else {
            continue;
        };
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
        let path = path.trim();
        let mut refreshed = false;
        let status = loop {
            let mut req = api_client.request(method.clone(), format!("{api_url}{path}"));
            if method == reqwest::Method::POST {
                req = req
                    .header("content-type", "application/json")
                    .body(r#"{"name": "conformance"}"#);
            }
            let status = req.bearer_auth(access_token.secret()).send()?.status();
            if status != reqwest::StatusCode::UNAUTHORIZED || refreshed {
                break status;
            }
            let old = refresh_token
                .take()
                .ok_or("the access token was refused and there is no refresh token")?;
            let token = client.exchange_refresh_token(&old).request(&http_client)?;
            access_token = token.access_token().clone();
            refresh_token = token.refresh_token().cloned().or(Some(old));
            refreshed = true;
        };
        println!("{method} {path} -> {}", status.as_u16());
        if !status.is_success() {
            return Err(format!("{method} {path} answered HTTP {status}").into());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The error and its causes on one line: none of them carries a secret or a token.
            let causes = std::iter::successors(e.source(), |c| c.source());
            let causes: String = causes.map(|c| format!(" <- {c}")).collect();
            eprintln!("error: {e}{causes}");
            ExitCode::FAILURE
        }
    }
}
