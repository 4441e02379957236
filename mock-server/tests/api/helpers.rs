//! `spawn_mock()` and typed request helpers shared by every integration test.

use mock_server::clock::{Clock, Instant};
use mock_server::form::encode;
use mock_server::server::spawn_with_state;
use mock_server::{AppState, Binds, Config, RunningMock};
use serde_json::Value;

/// The mock's frozen start: 2026-01-01T00:00:00Z.
pub const START: Instant = Instant(1_767_225_600_000);

/// A registered fixture application.
#[derive(Clone, Copy)]
pub struct AppCreds {
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub redirect: &'static str,
}

/// "Acme Web Previewer": https + localhost:3000; ReadPII Read Write Delete.
pub const WEB: AppCreds = AppCreds {
    client_id: "WEBAPPK7PREVIEWERQ2ZLDNEWRRDO2KJ2XZRYXQ=",
    client_secret: "WEBSECRETR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPASDFGA=",
    redirect: "http://localhost:3000/oauth/callback",
};

/// "Acme Desktop Exporter": OOB + localhost:5000; Read Write.
pub const DESKTOP: AppCreds = AppCreds {
    client_id: "DESKTOPAPPEXPORTERM4K2J7H5G3F6D2S4A7Q3Q=",
    client_secret: "DESKSECRETZ7X6C5V4B3N2M7L6K5J4H3G2F7D6S5A4Q3W2A=",
    redirect: "urn:ietf:wg:oauth:2.0:oob",
};

pub const ALICE: &str = "alice@example.com";
pub const BOB: &str = "bob@example.com";
pub const CAROL: &str = "carol@example.com";
pub const ACME: &str = "c0ffee00000000000000a11a";
pub const GLOBEX: &str = "c0ffee00000000000000b22b";

pub struct TestMock {
    pub mock: RunningMock,
    pub http: reqwest::Client,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| {
            panic!(
                "no Location header; status {} body {}",
                self.status, self.body
            )
        })
    }
    /// A query parameter of the Location header, decoded.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(self.location()).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
    /// The rule id: from a JSON body, or from the error page.
    pub fn rule(&self) -> Option<String> {
        if let Ok(v) = serde_json::from_str::<Value>(&self.body) {
            return v["rule"].as_str().map(str::to_owned);
        }
        let start = self.body.find("<code id=\"rule\">")? + "<code id=\"rule\">".len();
        let end = self.body[start..].find('<')?;
        Some(self.body[start..start + end].to_owned())
    }
}

/// Asserts a rejection: its status and the rule it names.
#[track_caller]
pub fn assert_rejected(resp: &Resp, status: u16, rule: &str) {
    assert_eq!(
        resp.status, status,
        "expected {status} for rule {rule}; got {}: {}",
        resp.status, resp.body
    );
    assert_eq!(
        resp.rule().as_deref(),
        Some(rule),
        "expected rule {rule}; body: {}",
        resp.body
    );
}

/// Asserts a successful token response and returns (access, refresh).
#[track_caller]
pub fn assert_tokens(resp: &Resp) -> (String, String) {
    assert_eq!(
        resp.status, 200,
        "expected tokens, got {}: {}",
        resp.status, resp.body
    );
    let v = resp.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    (
        v["access_token"].as_str().expect("access_token").to_owned(),
        v["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    )
}

/// A mock with the default fixtures, a frozen clock at [`START`], on an ephemeral port.
pub async fn spawn_mock() -> TestMock {
    spawn_mock_with(Config::default(), Binds::ephemeral()).await
}

/// A mock with the OAuth and API origins on two ports.
pub async fn spawn_two_origins() -> TestMock {
    spawn_mock_with(Config::default(), Binds::ephemeral_two_origins()).await
}

pub async fn spawn_mock_with(config: Config, binds: Binds) -> TestMock {
    let state = AppState::with_clock(config, Clock::frozen_at(START)).expect("valid config");
    let mock = spawn_with_state(state, binds).await.expect("mock starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds");
    TestMock { mock, http }
}

impl TestMock {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.mock.oauth_url())
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request reaches the mock");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.expect("body reads");
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    /// POSTs a raw body with the form content type.
    pub async fn post_form(&self, path: &str, body: impl Into<String>) -> Resp {
        self.send(
            self.http
                .post(self.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.into()),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.http
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn advance(&self, seconds: u64) {
        let r = self
            .post_json(
                "/__mock/clock/advance",
                serde_json::json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    pub async fn script_consent(&self, decision: &str, user: &str, company: Option<&str>) {
        let r = self
            .post_json(
                "/__mock/consent",
                serde_json::json!({ "decision": decision, "user": user, "company_id": company }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// `GET /oauth/authorize` with `response_type=code`, the client id and `extra`, all encoded.
    pub async fn authorize(&self, app: AppCreds, extra: &[(&str, &str)]) -> Resp {
        let mut pairs = vec![("response_type", "code"), ("client_id", app.client_id)];
        pairs.extend_from_slice(extra);
        self.get(&format!("/oauth/authorize?{}", encode(&pairs)))
            .await
    }

    /// A fresh code for `app`, granted by `user` through scripted consent (Bob for Acme), with
    /// the app's redirect URI given explicitly.
    pub async fn code_as(&self, app: AppCreds, user: &str) -> String {
        // Bob is in two companies: without a company he would be asked to choose.
        let company = (user == BOB).then_some(ACME);
        self.script_consent("grant", user, company).await;
        let r = self
            .authorize(app, &[("redirect_uri", app.redirect), ("state", "s1")])
            .await;
        if app.redirect == "urn:ietf:wg:oauth:2.0:oob" {
            let start =
                r.body.find("Success code=").expect("OOB success title") + "Success code=".len();
            let end = r.body[start..].find('<').expect("title ends");
            return r.body[start..start + end].to_owned();
        }
        assert_eq!(r.status, 302, "{}", r.body);
        r.location_param("code").expect("code in redirect")
    }

    pub async fn code(&self, app: AppCreds) -> String {
        self.code_as(app, ALICE).await
    }

    /// POSTs the token form built from `pairs`, each value encoded.
    pub async fn token(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_form("/oauth/token", encode(pairs)).await
    }

    /// Redeems a code the documented way.
    pub async fn redeem(&self, app: AppCreds, code: &str) -> Resp {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", app.client_id),
            ("client_secret", app.client_secret),
            ("redirect_uri", app.redirect),
        ])
        .await
    }

    pub async fn refresh(&self, app: AppCreds, refresh_token: &str) -> Resp {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", app.client_id),
            ("client_secret", app.client_secret),
        ])
        .await
    }

    /// (access, refresh) for `app` granted by `user`.
    pub async fn tokens_as(&self, app: AppCreds, user: &str) -> (String, String) {
        let code = self.code_as(app, user).await;
        assert_tokens(&self.redeem(app, &code).await)
    }

    pub async fn tokens(&self, app: AppCreds) -> (String, String) {
        self.tokens_as(app, ALICE).await
    }

    /// `GET /api/users/sessioninfo` with a bearer token.
    pub async fn sessioninfo(&self, token: &str) -> Resp {
        self.api(reqwest::Method::GET, "/api/users/sessioninfo", token)
            .await
    }

    /// An /api call with a bearer token.
    pub async fn api(&self, method: reqwest::Method, path: &str, token: &str) -> Resp {
        self.send(self.http.request(method, self.url(path)).bearer_auth(token))
            .await
    }

    /// The rule named by the most recent exchange outside `/__mock` (from the request log).
    pub async fn last_rule(&self) -> Option<String> {
        let log = self.get("/__mock/requests").await.json();
        log["requests"]
            .as_array()?
            .iter()
            .rev()
            .find(|e| !e["path"].as_str().unwrap_or("").starts_with("/__mock"))
            .and_then(|e| e["rule"].as_str().map(str::to_owned))
    }
}
