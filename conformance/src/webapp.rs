//! Web-app mode: the client is a web server (Express with passport-onshape, Flask with
//! requests-oauthlib, …) that keeps the OAuth `state` in its session cookie. The runner's
//! browser behaves like a browser: it opens the app's start URL with a cookie jar, follows
//! the app's redirect to the mock, plays the user on the mock's pages, follows the mock's
//! redirect back to the app's callback with the app's cookies, and follows the app's own
//! redirects to its last page. That page's status stands for the exit status: 2xx when every
//! call of `ONSHAPE_API_CALLS` succeeded, anything else for a failure, its text the message.

use std::time::Duration;

use mock_server::mask::mask_query_in_url;
use tokio::process::Child;

use crate::browser::{location, strip_tags, Landing};
use crate::callback::forge_state;
use crate::driver::{ClientEnd, Session};
use crate::process::kill;

/// How long the app has to start listening.
const APP_START_WAIT: Duration = Duration::from_secs(15);
/// Pages and redirects one run may go through.
const MAX_HOPS: usize = 40;
/// Authorizations one run may start.
const MAX_AUTHORIZATIONS: usize = 20;
/// How much of the app's last page the report keeps.
const PAGE_LIMIT: usize = 2048;
/// How much of an app's page the browser reads at most.
const READ_LIMIT: usize = 64 * 1024;

/// What one GET to the app gave.
enum Step {
    Page { status: u16, text: String },
    Redirect(String),
}

impl Session<'_> {
    /// Browses from `start` until the app's last page, the client's exit, or the timeout.
    pub(crate) async fn web_app(
        &mut self,
        child: &mut Child,
        start: &str,
        deadline: tokio::time::Instant,
    ) -> ClientEnd {
        let end = tokio::select! {
            status = child.wait() => return ClientEnd::Exited(status.ok().and_then(|s| s.code())),
            () = tokio::time::sleep_until(deadline) => ClientEnd::TimedOut,
            end = self.browse(start, deadline) => end,
        };
        // The app is a server: once it has answered, it is stopped.
        kill(child).await;
        end
    }

    async fn browse(&mut self, start: &str, deadline: tokio::time::Instant) -> ClientEnd {
        let mut url = start.to_owned();
        for hop in 0..MAX_HOPS {
            let step = match self.get(&url, hop == 0, deadline).await {
                Ok(step) => step,
                Err(e) => {
                    return ClientEnd::EndedEarly(format!(
                        "the app did not answer GET {}: {e}",
                        mask_query_in_url(&url)
                    ))
                }
            };
            match step {
                Step::Page { status, text } => {
                    if self.opened.is_empty() {
                        return ClientEnd::EndedEarly(format!(
                            "the app's start page {url} answered {status} without sending the browser to the mock's /oauth/authorize"
                        ));
                    }
                    self.final_page = Some(text);
                    return ClientEnd::Answered(status);
                }
                Step::Redirect(next) if self.browser.is_mock(&next) => {
                    match self.authorize(&next, deadline).await {
                        Ok(callback) => url = callback,
                        Err(reason) => return ClientEnd::EndedEarly(reason),
                    }
                }
                Step::Redirect(next) if same_origin(&next, start) => url = next,
                Step::Redirect(next) => {
                    return ClientEnd::EndedEarly(format!(
                        "the app sent the browser to {}, which is neither the app nor the mock",
                        mask_query_in_url(&next)
                    ))
                }
            }
        }
        ClientEnd::EndedEarly(format!("the browser went through {MAX_HOPS} pages and redirects without reaching the app's last page"))
    }

    /// One authorization on the mock's pages. Returns the callback URL to open next; in
    /// `forged-state` an attacker's callback is opened first, with the user's cookies (the
    /// login CSRF that `state` exists to stop).
    async fn authorize(
        &mut self,
        url: &str,
        deadline: tokio::time::Instant,
    ) -> Result<String, String> {
        if self.opened.len() >= MAX_AUTHORIZATIONS {
            return Err(format!(
                "the app started more than {MAX_AUTHORIZATIONS} authorizations"
            ));
        }
        let (landing, forge, advanced) = self.play(url).await;
        let location = match landing {
            Landing::Callback(location) => location,
            Landing::OobCode(_) | Landing::OobError(_) => {
                return Err("the mock showed an out-of-band page: web-app mode needs the app's localhost redirect URI".into())
            }
            other => {
                return Err(other
                    .dead_end()
                    .unwrap_or_else(|| "the browser could not finish the authorization".into()))
            }
        };
        let mut genuine_advanced = advanced;
        if forge {
            let theirs = match self.browser.visit(url, self.scenario).await {
                Landing::Callback(theirs) => theirs,
                _ => location.clone(),
            };
            let forged = forge_state(&theirs);
            let before = self.last_exchange();
            let received = self.follow_in_app(&forged, deadline).await;
            self.record_callback(&forged, true, advanced, received, before);
            // A moment for the app to take the forged callback in.
            tokio::time::sleep(Duration::from_millis(100)).await;
            genuine_advanced = 0;
        }
        if let Some(odd) = self.odd_callback() {
            // The app's answer to the odd callback is its last page.
            let url = odd.apply(&location);
            let before = self.last_exchange();
            self.record_odd_callback(&url, false, Some(odd), genuine_advanced, true, before);
            return Ok(url);
        }
        let before = self.last_exchange();
        self.record_callback(&location, false, genuine_advanced, true, before);
        Ok(location)
    }

    /// Opens `url` and follows the app's own redirects (not into the mock). Whether the app
    /// answered.
    async fn follow_in_app(&mut self, url: &str, deadline: tokio::time::Instant) -> bool {
        let mut url = url.to_owned();
        for _ in 0..10 {
            match self.get(&url, false, deadline).await {
                Ok(Step::Redirect(next)) if same_origin(&next, &url) => url = next,
                Ok(_) => return true,
                Err(_) => return false,
            }
        }
        true
    }

    /// One GET with the browser's cookies; `wait_for_app`: retry while nothing listens yet
    /// (the app is starting), until [`APP_START_WAIT`] or `deadline`.
    async fn get(
        &mut self,
        url: &str,
        wait_for_app: bool,
        deadline: tokio::time::Instant,
    ) -> Result<Step, String> {
        let give_up = (tokio::time::Instant::now() + APP_START_WAIT).min(deadline);
        // An app may take its time to answer (its calls, a refresh): until the deadline.
        let left = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(Duration::from_secs(1));
        let resp = loop {
            match self.browser.http().get(url).timeout(left).send().await {
                Ok(resp) => break resp,
                Err(e)
                    if e.is_connect() && wait_for_app && tokio::time::Instant::now() < give_up =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(if e.is_connect() {
                        "nothing listens there".to_owned()
                    } else {
                        e.to_string()
                    })
                }
            }
        };
        let status = resp.status().as_u16();
        let location = location(&resp);
        self.navigation.push(format!(
            "GET {} -> {status}{}",
            mask_query_in_url(url),
            location
                .as_deref()
                .map(|l| format!(" Location: {}", mask_query_in_url(l)))
                .unwrap_or_default()
        ));
        if let (true, Some(loc)) = (resp.status().is_redirection(), location) {
            let next = url::Url::parse(url)
                .and_then(|base| base.join(&loc))
                .map_err(|e| format!("a redirect to `{loc}`: {e}"))?;
            return Ok(Step::Redirect(next.to_string()));
        }
        let mut body = Vec::new();
        let mut resp = resp;
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.extend_from_slice(&chunk[..chunk.len().min(READ_LIMIT - body.len())]);
            if body.len() >= READ_LIMIT {
                break;
            }
        }
        let text = String::from_utf8_lossy(&body);
        let text = strip_tags(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Step::Page {
            status,
            text: crate::report::truncate(text, PAGE_LIMIT),
        })
    }
}

/// Same scheme, port and host, the loopback names counting as one host (an app on
/// `localhost` may redirect to `127.0.0.1`).
fn same_origin(a: &str, b: &str) -> bool {
    let key = |u: &str| {
        url::Url::parse(u).ok().map(|u| {
            let host = match u.host_str() {
                Some("localhost" | "127.0.0.1" | "[::1]") => "loopback".to_owned(),
                other => other.unwrap_or_default().to_owned(),
            };
            (u.scheme().to_owned(), host, u.port_or_known_default())
        })
    };
    matches!((key(a), key(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_are_one_origin_and_ports_count() {
        assert!(same_origin(
            "http://localhost:3000/login",
            "http://127.0.0.1:3000/done"
        ));
        assert!(same_origin(
            "http://[::1]:3000/a",
            "http://localhost:3000/b"
        ));
        assert!(!same_origin(
            "http://localhost:3000/a",
            "http://localhost:3001/a"
        ));
        assert!(!same_origin(
            "http://localhost:3000/a",
            "https://localhost:3000/a"
        ));
        assert!(!same_origin(
            "http://evil.example/a",
            "http://localhost:3000/a"
        ));
    }
}
