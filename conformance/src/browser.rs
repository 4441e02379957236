//! The browser simulator: plays browser and user for the URL a client opened — the login
//! page, the consent page (company choice, Grant or Deny) — and reports where it landed:
//! a callback to deliver, an out-of-band code, or a page the client can never leave.

use reqwest::redirect::Policy;

use crate::scenario::{Decision, Scenario};

/// Where a browser visit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// A redirect to the client's redirect URI (with `code` or `error`).
    Callback(String),
    /// The out-of-band page with a code in its title.
    OobCode(String),
    /// The out-of-band page with an error in its title.
    OobError(String),
    /// An error page: the mock refused the authorization request. `rule` and `message` from
    /// the page.
    Stuck {
        status: u16,
        rule: String,
        message: String,
    },
    /// The URL is not the mock's authorization endpoint.
    Foreign(String),
    /// Not visited: the client had exited by the time the runner saw it.
    NotVisited,
}

impl Landing {
    /// Why the scenario ends here: a page the client can never get the browser past.
    pub fn dead_end(&self) -> Option<String> {
        match self {
            Landing::Stuck {
                status,
                rule,
                message,
            } => Some(format!(
                "the browser is stuck on a {status} page the client can never leave: {message}{}",
                if rule.is_empty() {
                    String::new()
                } else {
                    format!(" (rule {rule})")
                }
            )),
            Landing::Foreign(u) => Some(format!(
                "the client opened {}, which is not the mock's authorization endpoint",
                mock_server::mask::mask_query_in_url(u)
            )),
            _ => None,
        }
    }
}

pub struct Browser {
    http: reqwest::Client,
    origins: Vec<String>,
}

impl Browser {
    /// A browser for the mock's `origins` (`http://127.0.0.1:PORT`). It keeps cookies per
    /// host, as a browser does, for a web app's session (the mock sets none).
    pub fn new(origins: Vec<String>) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Browser { http, origins }
    }

    /// The browser's HTTP client (redirects not followed, cookies kept).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Whether `url` is on one of the mock's origins.
    pub fn is_mock(&self, url: &str) -> bool {
        self.origins
            .iter()
            .any(|o| url.starts_with(&format!("{o}/")))
    }

    /// Opens `url` as the scenario's user and follows the mock's pages to the end.
    pub async fn visit(&self, url: &str, scenario: &Scenario) -> Landing {
        let Some(origin) = self
            .origins
            .iter()
            .find(|o| url.starts_with(&format!("{o}/")))
            .cloned()
        else {
            return Landing::Foreign(url.to_owned());
        };
        let mut next = Request::Get(url.to_owned());
        for _ in 0..8 {
            let resp = match &next {
                Request::Get(u) => self.http.get(u).send().await,
                Request::Post(u, body) => {
                    self.http
                        .post(u)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                        .send()
                        .await
                }
            };
            let Ok(resp) = resp else {
                return stuck(0, "", "the mock did not answer the browser");
            };
            let status = resp.status().as_u16();
            let location = location(&resp);
            let body = resp.text().await.unwrap_or_default();
            if let Some(loc) = location {
                if loc.starts_with('/') {
                    next = Request::Get(format!("{origin}{loc}"));
                    continue;
                }
                return Landing::Callback(loc);
            }
            if let Some(code) = oob_code(&body) {
                return Landing::OobCode(code);
            }
            if let Some(error) = between(&body, "<title>Error description=", "</title>") {
                return Landing::OobError(unescape(&error));
            }
            if status >= 400 {
                let rule = between(&body, "<code id=\"rule\">", "</code>").unwrap_or_default();
                let message = paragraph(&body, "error").unwrap_or_else(|| format!("HTTP {status}"));
                return stuck(status, &rule, &message);
            }
            if body.contains("id=\"login\"") {
                let request = attr_after(&body, "name=\"request\" value=\"").unwrap_or_default();
                let csrf = attr_after(&body, "name=\"csrf\" value=\"").unwrap_or_default();
                let form = mock_server::form::encode(&[
                    ("request", &request),
                    ("user", &scenario.user),
                    ("csrf", &csrf),
                ]);
                next = Request::Post(format!("{origin}/oauth/login"), form);
                continue;
            }
            if body.contains("id=\"consent\"") {
                let Some(action) = form_action(&body, "consent") else {
                    return stuck(status, "", "the consent page has no form action");
                };
                let request = attr_after(&body, "name=\"request\" value=\"").unwrap_or_default();
                let decision = match scenario.decision {
                    Decision::Grant => "grant",
                    Decision::Deny => "deny",
                };
                let csrf = attr_after(&body, "name=\"csrf\" value=\"").unwrap_or_default();
                let mut pairs = vec![
                    ("request", request.clone()),
                    ("decision", decision.to_owned()),
                    ("csrf", csrf),
                ];
                if body.contains("name=\"company_id\"") {
                    let first = attr_after(&body, "<option value=\"").unwrap_or_default();
                    pairs.push((
                        "company_id",
                        scenario.choose_company.clone().unwrap_or(first),
                    ));
                }
                let borrowed: Vec<(&str, &str)> =
                    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                next = Request::Post(
                    format!("{origin}{action}"),
                    mock_server::form::encode(&borrowed),
                );
                continue;
            }
            return stuck(
                status,
                "",
                "the browser reached a page it does not understand",
            );
        }
        stuck(0, "", "too many redirects")
    }
}

/// A response's `Location` header, if it is text.
pub(crate) fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

enum Request {
    Get(String),
    Post(String, String),
}

fn stuck(status: u16, rule: &str, message: &str) -> Landing {
    Landing::Stuck {
        status,
        rule: rule.to_owned(),
        message: message.to_owned(),
    }
}

/// The code of the mock's out-of-band success page (its title: `Success code=CODE`).
pub fn oob_code(page: &str) -> Option<String> {
    between(page, "<title>Success code=", "</title>").map(|c| unescape(&c))
}

/// The text of the page's `<p id="ID">` (an error page's `error` or `hint`).
pub fn paragraph(page: &str, id: &str) -> Option<String> {
    between(page, &format!("<p id=\"{id}\">"), "</p>").map(|m| strip_tags(&m))
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}

fn attr_after(text: &str, key: &str) -> Option<String> {
    between(text, key, "\"").map(|v| unescape(&v))
}

/// The `action` of the form with `id`, unescaped.
fn form_action(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let before = &html[..at];
    let start = before.rfind("action=\"")? + "action=\"".len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// The few entities minijinja writes.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&")
}

/// A page fragment as text: tags dropped, entities decoded, `<code>` spans back in the
/// backticks the mock's hints are written with.
pub fn strip_tags(s: &str) -> String {
    let s = s.replace("<code>", "`").replace("</code>", "`");
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_actions_and_attributes_are_unescaped() {
        let html = r#"<form method="post" action="&#x2f;oauth&#x2f;consent?request=abc&amp;user=a%40b" id="consent">
<input type="hidden" name="request" value="abc"><option value="c1">C</option>"#;
        assert_eq!(
            form_action(html, "consent").as_deref(),
            Some("/oauth/consent?request=abc&user=a%40b")
        );
        assert_eq!(
            attr_after(html, "name=\"request\" value=\"").as_deref(),
            Some("abc")
        );
        assert_eq!(attr_after(html, "<option value=\"").as_deref(), Some("c1"));
        assert_eq!(strip_tags("<strong>x</strong>: y &amp; z"), "x: y & z");
        assert_eq!(
            strip_tags("an unencoded <code>=</code>"),
            "an unencoded `=`"
        );
    }
}
