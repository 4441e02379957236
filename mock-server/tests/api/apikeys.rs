//! API keys on `/api`: HTTP Basic and signed requests, each rule refused and kept, the
//! signing mistakes named, keys created, listed and deleted through the control API.

use std::time::{Duration, UNIX_EPOCH};

use mock_server::api::signing::{sign, Signed};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Alice's fixture key (Acme; every scope but Purchase and Share).
const ACCESS: &str = "AL1CEACCESSKEY7Q2ZLDNEWR";
const SECRET: &str = "AL1CESECRETKEYR3ZMN4XQ7PL2KJHG5FDSA6QWERTYUIOPAS";

/// The mock's time (frozen at START, plus `plus` seconds) as an HTTP date.
fn http_date(plus: i64) -> String {
    let ms = START.0 as i64 + plus * 1000;
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms as u64))
}

/// A request signed as a client would, with knobs to break it.
struct Signer {
    method: Method,
    path: &'static str,
    query: &'static str,
    content_type: &'static str,
    body: &'static str,
    nonce: String,
    date: String,
    access: &'static str,
    secret: &'static str,
}

impl Signer {
    fn get(path: &'static str, query: &'static str) -> Signer {
        Signer {
            method: Method::GET,
            path,
            query,
            content_type: "",
            body: "",
            nonce: mock_server::domain::new_token(25),
            date: http_date(0),
            access: ACCESS,
            secret: SECRET,
        }
    }

    fn post_json(path: &'static str, body: &'static str) -> Signer {
        Signer {
            method: Method::POST,
            content_type: "application/json",
            body,
            ..Signer::get(path, "")
        }
    }

    fn string(&self) -> String {
        Signed {
            method: self.method.as_str(),
            nonce: &self.nonce,
            date: &self.date,
            content_type: self.content_type,
            path: self.path,
            query: self.query,
        }
        .string_to_sign()
    }

    /// The string as it is, not lower-cased (a common mistake).
    fn as_is(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n",
            self.method, self.nonce, self.date, self.content_type, self.path, self.query
        )
    }

    /// Sends the request with the signature of `signed` (the right string by default).
    async fn send_signing(&self, m: &TestMock, signed: &str) -> Resp {
        let signature = sign(self.secret.as_bytes(), signed);
        let url = if self.query.is_empty() {
            m.url(self.path)
        } else {
            m.url(&format!("{}?{}", self.path, self.query))
        };
        let mut req = m
            .http
            .request(self.method.clone(), url)
            .header(
                "authorization",
                format!("On {}:HmacSHA256:{signature}", self.access),
            )
            .header("date", &self.date)
            .header("on-nonce", &self.nonce);
        if !self.content_type.is_empty() {
            req = req.header("content-type", self.content_type);
        }
        if !self.body.is_empty() {
            req = req.body(self.body);
        }
        m.send(req).await
    }

    async fn send(&self, m: &TestMock) -> Resp {
        self.send_signing(m, &self.string()).await
    }
}

async fn basic(m: &TestMock, user: &str, password: &str, path: &str) -> Resp {
    m.send(m.http.get(m.url(path)).basic_auth(user, Some(password)))
        .await
}

#[tokio::test]
async fn basic_authentication_acts_for_the_keys_owner_and_company() {
    let m = spawn_mock().await;
    let me = basic(&m, ACCESS, SECRET, "/api/users/sessioninfo").await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me = me.json();
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["company"]["id"], ACME);
    let docs = basic(&m, ACCESS, SECRET, "/api/v10/documents").await;
    assert_eq!(docs.status, 200);
    assert!(docs.body.contains("Gripper assembly"), "{}", docs.body);

    let wrong = basic(
        &m,
        ACCESS,
        "WRONGSECRETWRONGSECRETWRONGSECRET",
        "/api/documents",
    )
    .await;
    assert_rejected(&wrong, 401, "api-key-secret");
    let unknown = basic(&m, "NOSUCHACCESSKEY000000000", SECRET, "/api/documents").await;
    assert_rejected(&unknown, 401, "api-key-known");
    // OAuth client credentials are not API keys: the hint says so.
    let client = basic(&m, WEB.client_id, WEB.client_secret, "/api/documents").await;
    assert_rejected(&client, 401, "api-key-known");
    assert!(client.body.contains("client id"), "{}", client.body);
    let garbled = m
        .send(
            m.http
                .get(m.url("/api/documents"))
                .header("authorization", "Basic not-base64!"),
        )
        .await;
    assert_rejected(&garbled, 401, "api-key-secret");
}

#[tokio::test]
async fn keys_in_the_url_are_refused() {
    let m = spawn_mock().await;
    let r = m
        .get(&format!(
            "/api/documents?accessKey={ACCESS}&secretKey={SECRET}"
        ))
        .await;
    assert_rejected(&r, 401, "key-not-in-url");
    assert!(
        !m.get("/__mock/requests").await.body.contains(SECRET),
        "masked"
    );
}

#[tokio::test]
async fn signed_requests_are_verified_get_with_a_query_and_post_with_a_body() {
    let m = spawn_mock().await;
    let list = Signer::get("/api/v10/documents", "offset=0&limit=2")
        .send(&m)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(2));
    let created = Signer::post_json("/api/v10/documents", "{\"name\":\"Signed part\"}")
        .send(&m)
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["name"], "Signed part");
    // The log shows the access key, never the secret or the signature.
    let log = m.get("/__mock/requests").await.body;
    assert!(log.contains(&format!("On {ACCESS}:(masked)")), "{log}");
    assert!(!log.contains(SECRET));
}

#[tokio::test]
async fn the_date_must_be_within_five_minutes_of_the_mocks_clock() {
    let m = spawn_mock().await;
    let mut s = Signer::get("/api/documents", "");
    s.date = http_date(-301);
    let stale = s.send(&m).await;
    assert_rejected(&stale, 401, "date-fresh");
    assert!(stale.body.contains("301 s behind"), "{}", stale.body);
    s.date = "yesterday".into();
    assert_rejected(&s.send(&m).await, 401, "date-fresh");
    // Within the window, either way, it is accepted.
    for plus in [-299, 299] {
        let mut ok = Signer::get("/api/documents", "");
        ok.date = http_date(plus);
        assert_eq!(ok.send(&m).await.status, 200, "{plus} s");
    }
    // The mock's clock moving makes an old Date stale: testable without waiting.
    let s = Signer::get("/api/documents", "");
    m.advance(400).await;
    assert_rejected(&s.send(&m).await, 401, "date-fresh");
}

#[tokio::test]
async fn a_nonce_is_long_enough_and_used_once() {
    let m = spawn_mock().await;
    let mut s = Signer::get("/api/documents", "");
    s.nonce = "short".into();
    assert_rejected(&s.send(&m).await, 401, "nonce-unique");
    let s = Signer::get("/api/documents", "");
    // A refused request does not use up its nonce.
    assert_rejected(
        &s.send_signing(&m, "not the string").await,
        401,
        "signature-valid",
    );
    assert_eq!(s.send(&m).await.status, 200);
    let replay = s.send(&m).await;
    assert_rejected(&replay, 401, "nonce-unique");
    assert!(
        replay.body.contains("already used 0 s ago"),
        "{}",
        replay.body
    );
    let missing = m
        .send(
            m.http
                .get(m.url("/api/documents"))
                .header("authorization", format!("On {ACCESS}:HmacSHA256:AAAA"))
                .header("date", http_date(0)),
        )
        .await;
    assert_rejected(&missing, 401, "nonce-unique");
}

/// What a client signed instead of the right string.
type SignedAs = Box<dyn Fn(&Signer) -> String>;

#[tokio::test]
async fn each_signing_mistake_is_named() {
    let m = spawn_mock().await;
    // (what the client signed, the words the mock's answer must carry)
    let cases: Vec<(SignedAs, &str)> = vec![
        (Box::new(Signer::as_is), "not lower-cased"),
        (
            Box::new(|s| s.string().trim_end_matches('\n').to_owned()),
            "without its trailing newline",
        ),
        (
            Box::new(|s| s.string().replace("\nq=part%20a\n", "\n\n")),
            "query was left out",
        ),
        (
            Box::new(|s| s.string().replace("q=part%20a", "q=part a")),
            "signed decoded",
        ),
        (
            Box::new(|s| s.string().replace("/api/v10/documents", "/api/documents")),
            "without its version",
        ),
    ];
    for (signed_as, words) in cases {
        let s = Signer::get("/api/v10/documents", "q=Part%20A");
        let r = s.send_signing(&m, &signed_as(&s)).await;
        assert_rejected(&r, 401, "signature-valid");
        assert!(r.body.contains(words), "`{words}`: {}", r.body);
    }
    // The body signed too.
    let s = Signer::post_json("/api/documents", "{\"name\":\"x\"}");
    let r = s
        .send_signing(&m, &format!("{}{{\"name\":\"x\"}}", s.string()))
        .await;
    assert_rejected(&r, 401, "signature-valid");
    assert!(r.body.contains("the body was signed"), "{}", r.body);
    // A wrong secret matches nothing; the hint shows the string the mock expected.
    let mut s = Signer::get("/api/documents", "");
    s.secret = "OTHERSECRETOTHERSECRETOTHERSECRET";
    let r = s.send(&m).await;
    assert_rejected(&r, 401, "signature-valid");
    assert!(
        r.body.contains("nor any common signing mistake"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("get\\\\n"),
        "the expected string, escaped: {}",
        r.body
    );
    let log = m.get("/__mock/requests").await.body;
    assert!(log.contains("expected the signature of"), "in the log too");
}

#[tokio::test]
async fn the_signed_content_type_is_the_one_sent() {
    let m = spawn_mock().await;
    // "GET works, POST does not": signed without the Content-Type that is sent.
    let s = Signer::post_json("/api/documents", "{\"name\":\"x\"}");
    let unsigned = s.string().replace("application/json", "");
    let r = s.send_signing(&m, &unsigned).await;
    assert_rejected(&r, 401, "content-type-signed");
    assert!(
        r.body.contains("sent with `application/json`"),
        "{}",
        r.body
    );
    let mut charset = Signer::post_json("/api/documents", "{\"name\":\"x\"}");
    charset.content_type = "application/json; charset=UTF-8";
    let signed_bare = charset
        .string()
        .replace("application/json; charset=utf-8", "application/json");
    assert_rejected(
        &charset.send_signing(&m, &signed_bare).await,
        401,
        "content-type-signed",
    );
    assert_eq!(charset.send(&m).await.status, 200, "signed as sent");
}

#[tokio::test]
async fn a_malformed_on_header_is_explained() {
    let m = spawn_mock().await;
    for value in [format!("On {ACCESS}"), format!("On {ACCESS}:HmacSHA1:AAAA")] {
        let r = m
            .send(
                m.http
                    .get(m.url("/api/documents"))
                    .header("authorization", value),
            )
            .await;
        assert_rejected(&r, 401, "api-key-header");
    }
}

#[tokio::test]
async fn keys_are_created_with_their_scopes_listed_without_secrets_and_deleted_at_once() {
    let m = spawn_mock().await;
    let created = m
        .post_json(
            "/__mock/apikeys",
            json!({ "name": "Reader", "user": BOB, "company_id": GLOBEX, "scopes": ["OAuth2Read"] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.json();
    let access = key["access_key"].as_str().expect("access key").to_owned();
    let secret = key["secret_key"]
        .as_str()
        .expect("secret key, once")
        .to_owned();
    let list = m.get("/__mock/apikeys").await;
    assert!(
        list.body.contains(&access) && !list.body.contains(&secret),
        "{}",
        list.body
    );
    assert!(!list.body.contains(SECRET), "no secret listed");

    let me = basic(&m, &access, &secret, "/api/users/sessioninfo")
        .await
        .json();
    assert_eq!(me["company"]["id"], GLOBEX);
    // Its scopes hold: it reads, it does not write.
    let write = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .basic_auth(&access, Some(&secret))
                .header("content-type", "application/json")
                .body("{\"name\":\"x\"}"),
        )
        .await;
    assert_rejected(&write, 403, "scope-sufficient");
    assert!(
        !m.get("/__mock/requests").await.body.contains(&secret),
        "masked"
    );

    // Refusals change nothing.
    for bad in [
        json!({ "name": "", "user": BOB, "company_id": GLOBEX, "scopes": ["OAuth2Read"] }),
        json!({ "name": "x", "user": BOB, "scopes": ["OAuth2Read"] }),
        json!({ "name": "x", "user": ALICE, "company_id": GLOBEX, "scopes": ["OAuth2Read"] }),
        json!({ "name": "x", "user": "nobody@example.com", "scopes": ["OAuth2Read"] }),
        json!({ "name": "x", "user": ALICE, "scopes": ["Read"] }),
        json!({ "name": "x", "user": ALICE, "scopes": [] }),
    ] {
        let r = m.post_json("/__mock/apikeys", bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(
        m.get("/__mock/apikeys").await.json()["keys"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let deleted = m
        .send(m.http.delete(m.url(&format!("/__mock/apikeys/{access}"))))
        .await;
    assert_eq!(deleted.status, 204);
    m.advance(5).await;
    let after = basic(&m, &access, &secret, "/api/users/sessioninfo").await;
    assert_rejected(&after, 401, "api-key-known");
    assert!(after.body.contains("deleted 5 s ago"), "{}", after.body);
    let again = m
        .send(m.http.delete(m.url(&format!("/__mock/apikeys/{access}"))))
        .await;
    assert_eq!(again.status, 404);
}

/// "An API key created on companyName.onshape.com will not function on cad.onshape.com": each
/// stack on its own origin, a key working only on its own.
#[tokio::test]
async fn a_key_works_only_on_the_stack_it_was_created_on() {
    let m = spawn_mock_with(
        mock_server::Config::default(),
        mock_server::Binds {
            stacks: vec![(
                "acme.onshape.com".to_owned(),
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            )],
            ..mock_server::Binds::ephemeral()
        },
    )
    .await;
    let stack_url = m.mock.state.urls().expect("bound").stacks[0].1.clone();
    assert!(m
        .mock
        .banner()
        .contains(&format!("Stack acme.onshape.com: {stack_url}")));
    let on = |base: &str, access: &str, secret: &str| {
        m.send(
            m.http
                .get(format!("{base}/api/users/sessioninfo"))
                .basic_auth(access, Some(secret)),
        )
    };
    // Alice's fixture key belongs to cad.onshape.com.
    assert_eq!(on(&m.mock.oauth_url(), ACCESS, SECRET).await.status, 200);
    let elsewhere = on(&stack_url, ACCESS, SECRET).await;
    assert_rejected(&elsewhere, 401, "api-key-stack");
    assert!(
        elsewhere
            .body
            .contains("created on cad.onshape.com; it does not work on acme.onshape.com"),
        "{}",
        elsewhere.body
    );
    // A key made on the enterprise stack works there only.
    let key = m
        .post_json(
            "/__mock/apikeys",
            json!({ "name": "Acme", "user": ALICE, "scopes": ["OAuth2Read"], "stack": "acme.onshape.com" }),
        )
        .await
        .json();
    let (access, secret) = (
        key["access_key"].as_str().expect("access"),
        key["secret_key"].as_str().expect("secret"),
    );
    assert_eq!(key["stack"], "acme.onshape.com");
    assert_eq!(on(&stack_url, access, secret).await.status, 200);
    let home = on(&m.mock.oauth_url(), access, secret).await;
    assert_rejected(&home, 401, "api-key-stack");
    assert!(
        home.body.contains(&stack_url),
        "names where it works: {}",
        home.body
    );
    let unknown = m
        .post_json(
            "/__mock/apikeys",
            json!({ "name": "X", "user": ALICE, "scopes": ["OAuth2Read"], "stack": "globex.onshape.com" }),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
}

#[tokio::test]
async fn a_307_must_be_signed_again_for_its_new_path_and_query() {
    let m = spawn_mock().await;
    let armed = m
        .post_json(
            "/__mock/faults",
            json!({ "path": "/api/documents", "status": 307, "location": "/api/v6/documents?limit=5" }),
        )
        .await;
    assert_eq!(armed.status, 201, "{}", armed.body);
    let first = Signer::get("/api/documents", "");
    let redirected = first.send(&m).await;
    assert_eq!(redirected.status, 307, "{}", redirected.body);
    assert_eq!(redirected.location(), m.url("/api/v6/documents?limit=5"));
    // Followed with the old headers (what urllib and requests do by themselves): named.
    let mut stale = Signer::get("/api/v6/documents", "limit=5");
    stale.nonce = first.nonce.clone();
    stale.date = first.date.clone();
    let refused = stale.send_signing(&m, &first.string()).await;
    assert_rejected(&refused, 401, "redirect-resigned");
    assert!(
        refused
            .body
            .contains("for /api/documents, the URL before the mock's 307"),
        "{}",
        refused.body
    );
    // Signed again for the new URL: accepted.
    let again = Signer::get("/api/v6/documents", "limit=5").send(&m).await;
    assert_eq!(again.status, 200, "{}", again.body);
    // A 307 needs a same-origin location; other statuses take none.
    for bad in [
        json!({ "path": "/api/*", "status": 307 }),
        json!({ "path": "/api/*", "status": 307, "location": "https://evil.example/api" }),
        json!({ "path": "/api/*", "status": 503, "location": "/api/x" }),
    ] {
        assert_rejected(
            &m.post_json("/__mock/faults", bad).await,
            400,
            "control-request",
        );
    }
}

#[tokio::test]
async fn a_trigger_deletes_a_key_mid_run_and_responses_carry_the_mocks_time() {
    let m = spawn_mock().await;
    let armed = m
        .post_json(
            "/__mock/triggers",
            json!({ "after": "api-success", "action": { "delete_key": { "access_key": ACCESS } } }),
        )
        .await;
    assert_eq!(armed.status, 201, "{}", armed.body);
    let ok = basic(&m, ACCESS, SECRET, "/api/users/sessioninfo").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("date"), Some(http_date(0).as_str()));
    let gone = Signer::get("/api/documents", "").send(&m).await;
    assert_rejected(&gone, 401, "api-key-known");
    assert!(gone.body.contains("deleted 0 s ago"), "{}", gone.body);
    // The challenge is for an API key, not a bearer token.
    assert_eq!(
        gone.header("www-authenticate"),
        Some("Basic realm=\"onshape\"")
    );
    // The Date of every response is the mock's clock, so a client can correct its own.
    m.advance(400).await;
    let later = basic(&m, ACCESS, SECRET, "/api/documents").await;
    assert_eq!(later.header("date"), Some(http_date(400).as_str()));
}
