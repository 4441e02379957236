//! The control API under `/__mock`: health, the clock, application registration (under the
//! developer settings page's rules), scripted consent, grant revocation, the request log and
//! reset.

use mock_server::form::encode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// A registration that passes every rule; tests vary one field at a time.
fn registration(primary_format: &str) -> Value {
    json!({
        "name": "Test Exporter",
        "summary": "Registered by a test.",
        "primary_format": primary_format,
        "redirect_urls": ["https://app.example.org/oauth/callback", "http://localhost:8080/cb"],
        "scopes": ["OAuth2ReadPII", "OAuth2Read"],
    })
}

/// Asserts a control-API refusal: 400, the rule and (if given) the field.
#[track_caller]
fn assert_control_error(resp: &Resp, rule: &str, field: Option<&str>) {
    assert_rejected(resp, 400, rule);
    let body = resp.json();
    assert_eq!(body["error"], "bad_request", "{}", resp.body);
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {}",
        resp.body
    );
    if let Some(f) = field {
        assert_eq!(body["field"], f, "names the field: {}", resp.body);
    }
}

fn is_upper_base32_with_padding(s: &str) -> bool {
    s.ends_with('=')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c) || c == '=')
}

/// The first six characters and the length, as the log shows a token.
fn fingerprint(token: &str) -> String {
    format!("{}…({})", &token[..6], token.chars().count())
}

async fn requests(m: &TestMock) -> (Value, String) {
    let r = m.get("/__mock/requests").await;
    assert_eq!(r.status, 200, "{}", r.body);
    (r.json(), r.body)
}

/// The logged exchanges for `method path`, oldest first.
fn exchanges<'a>(log: &'a Value, method: &str, path: &str) -> Vec<&'a Value> {
    log["requests"]
        .as_array()
        .expect("requests is an array")
        .iter()
        .filter(|e| e["method"] == method && e["path"] == path)
        .collect()
}

// ----- health and clock ------------------------------------------------------------------

#[tokio::test]
async fn health_answers_ok() {
    let m = spawn_mock().await;
    let r = m.get("/__mock/health").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert!(
        body["tables"].is_object(),
        "table sizes are reported: {}",
        r.body
    );
    assert_eq!(
        body["tables"]["codes"], 0,
        "a fresh mock holds no codes: {}",
        r.body
    );

    m.code(WEB).await;
    let after = m.get("/__mock/health").await.json();
    assert_eq!(
        after["tables"]["codes"], 1,
        "the issued code is counted: {after}"
    );
}

#[tokio::test]
async fn the_frozen_clock_moves_only_when_advanced() {
    let m = spawn_mock().await;
    let first = m.get("/__mock/clock").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(first["mode"], "frozen");
    assert_eq!(first["now"], "2026-01-01T00:00:00Z");
    assert_eq!(first["unix_ms"], START.0);
    assert_eq!(first["offset_seconds"], 0);

    // Requests take time; the frozen clock does not move with them.
    for _ in 0..5 {
        m.get("/__mock/health").await;
    }
    assert_eq!(
        m.get("/__mock/clock").await.json()["unix_ms"],
        START.0,
        "unchanged without an advance"
    );

    let advanced = m
        .post_json("/__mock/clock/advance", json!({ "seconds": 90 }))
        .await;
    assert_eq!(advanced.status, 200, "{}", advanced.body);
    assert_eq!(advanced.json()["now"], "2026-01-01T00:01:30Z");
    let now = m.get("/__mock/clock").await.json();
    assert_eq!(now["unix_ms"], START.0 + 90_000);
    assert_eq!(now["offset_seconds"], 90);

    let negative = m
        .post_json("/__mock/clock/advance", json!({ "seconds": -5 }))
        .await;
    assert_control_error(&negative, "control-request", None);
    let unknown_field = m
        .post_json(
            "/__mock/clock/advance",
            json!({ "seconds": 5, "minutes": 1 }),
        )
        .await;
    assert_control_error(&unknown_field, "control-request", Some("minutes"));
    assert_eq!(
        m.get("/__mock/clock").await.json()["offset_seconds"],
        90,
        "refused advances move nothing"
    );
}

// ----- applications ------------------------------------------------------------------------

#[tokio::test]
async fn a_registered_app_gets_onshape_shaped_credentials_and_completes_a_flow() {
    let m = spawn_mock().await;
    let created = m
        .post_json("/__mock/apps", registration("org.example.test-exporter"))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let app = created.json();
    let client_id = app["client_id"].as_str().expect("client_id").to_owned();
    let client_secret = app["client_secret"]
        .as_str()
        .expect("client_secret shown once")
        .to_owned();
    assert!(
        is_upper_base32_with_padding(&client_id),
        "client id `{client_id}` is upper-case base32 ending in `=`"
    );
    assert!(
        is_upper_base32_with_padding(&client_secret),
        "secret `{client_secret}` is upper-case base32 ending in `=`"
    );
    assert_ne!(client_id, client_secret);
    assert_eq!(
        app["redirect_urls"][0],
        "https://app.example.org/oauth/callback"
    );

    let listed = m.get("/__mock/apps").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let apps = listed.json()["apps"]
        .as_array()
        .expect("apps array")
        .clone();
    let ours = apps
        .iter()
        .find(|a| a["client_id"] == client_id.as_str())
        .expect("the new app is listed");
    assert_eq!(ours["name"], "Test Exporter");
    assert!(
        apps.iter().all(|a| a.get("client_secret").is_none()),
        "no secret in the list: {}",
        listed.body
    );
    assert!(
        !listed.body.contains(&client_secret),
        "the secret appears nowhere in the list"
    );
    assert!(
        !listed.body.contains(WEB.client_secret),
        "nor the fixtures' secrets"
    );

    let creds = AppCreds {
        client_id: Box::leak(client_id.clone().into_boxed_str()),
        client_secret: Box::leak(client_secret.into_boxed_str()),
        redirect: "https://app.example.org/oauth/callback",
    };
    let (access, refresh) = m.tokens(creds).await;
    let info = m.sessioninfo(&access).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["clientId"], client_id.as_str());
    assert_eq!(info.json()["email"], ALICE, "OAuth2ReadPII was registered");
    assert_eq!(
        m.api(Method::GET, "/api/documents", &access).await.status,
        200
    );
    let write = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&access)
                .header("content-type", "application/json")
                .body(json!({ "name": "x" }).to_string()),
        )
        .await;
    assert_rejected(&write, 403, "scope-sufficient");
    assert_tokens(&m.refresh(creds, &refresh).await);
}

#[tokio::test]
async fn registration_rules_are_enforced() {
    let m = spawn_mock().await;
    let with = |primary_format: &str, key: &str, value: Value| {
        let mut reg = registration(primary_format);
        reg[key] = value;
        reg
    };
    let cases: [(Value, &str, &str); 9] = [
        (
            with("org.example.a", "name", json!("")),
            "registration-name",
            "name",
        ),
        (
            with("org.example.b", "name", json!("   ")),
            "registration-name",
            "name",
        ),
        (
            with("org.example.c", "redirect_urls", json!([])),
            "registration-redirect-url",
            "redirect_urls",
        ),
        (
            with(
                "org.example.d",
                "redirect_urls",
                json!(["http://app.example.org/cb"]),
            ),
            "registration-redirect-url",
            "redirect_urls",
        ),
        (
            with(
                "org.example.e",
                "redirect_urls",
                json!(["http://localhost/cb"]),
            ),
            "registration-redirect-url",
            "redirect_urls",
        ),
        (
            with(
                "org.example.f",
                "redirect_urls",
                json!(["https://app.example.org/cb#frag"]),
            ),
            "registration-redirect-url",
            "redirect_urls",
        ),
        (
            registration("not a reverse domain"),
            "registration-primary-format",
            "primary_format",
        ),
        (
            registration("com.example.acme.web-previewer"),
            "registration-primary-format",
            "primary_format",
        ),
        (
            with(
                "org.example.g",
                "scopes",
                json!(["OAuth2Read", "OAuth2Everything"]),
            ),
            "registration-scopes",
            "scopes",
        ),
    ];
    for (body, rule, field) in cases {
        let r = m.post_json("/__mock/apps", body.clone()).await;
        assert_control_error(&r, rule, Some(field));
        assert!(
            r.json()["message"].as_str().is_some(),
            "case {body}: {}",
            r.body
        );
    }
    let listed = m.get("/__mock/apps").await.json();
    assert_eq!(
        listed["apps"].as_array().map(Vec::len),
        Some(2),
        "nothing was registered: {listed}"
    );

    // The accepted neighbours of the refused cases.
    let localhost = with(
        "org.example.h",
        "redirect_urls",
        json!(["http://localhost:4000/cb"]),
    );
    assert_eq!(m.post_json("/__mock/apps", localhost).await.status, 201);
    let oob = with(
        "org.example.i",
        "redirect_urls",
        json!(["urn:ietf:wg:oauth:2.0:oob"]),
    );
    assert_eq!(m.post_json("/__mock/apps", oob).await.status, 201);
    let fine = m
        .post_json("/__mock/apps", registration("org.example.j"))
        .await;
    assert_eq!(fine.status, 201, "{}", fine.body);
    let duplicate = m
        .post_json("/__mock/apps", registration("org.example.j"))
        .await;
    assert_control_error(
        &duplicate,
        "registration-primary-format",
        Some("primary_format"),
    );
}

#[tokio::test]
async fn control_bodies_are_strict_json() {
    let m = spawn_mock().await;

    let mut unknown = registration("org.example.strict");
    unknown["colour"] = json!("red");
    let r = m.post_json("/__mock/apps", unknown).await;
    assert_control_error(&r, "control-request", Some("colour"));

    let fixed_id = {
        let mut reg = registration("org.example.strict");
        reg["client_id"] = json!("MYOWNID=");
        reg
    };
    let r = m.post_json("/__mock/apps", fixed_id).await;
    assert_control_error(&r, "control-request", Some("client_id"));

    let text = m
        .send(
            m.http
                .post(m.url("/__mock/apps"))
                .header("content-type", "text/plain")
                .body(registration("org.example.strict").to_string()),
        )
        .await;
    assert_rejected(&text, 415, "control-request");
    let form = m
        .post_form(
            "/__mock/consent",
            encode(&[("decision", "grant"), ("user", ALICE)]),
        )
        .await;
    assert_rejected(&form, 415, "control-request");

    let not_json = m
        .send(
            m.http
                .post(m.url("/__mock/apps"))
                .header("content-type", "application/json")
                .body("{name: x}"),
        )
        .await;
    assert_control_error(&not_json, "control-request", None);

    let ok = m
        .post_json("/__mock/apps", registration("org.example.strict"))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

// ----- consent and grants ------------------------------------------------------------------

#[tokio::test]
async fn scripted_deny_redirects_with_access_denied_and_the_state() {
    let m = spawn_mock().await;
    m.script_consent("deny", ALICE, None).await;
    let denied = m
        .authorize(WEB, &[("redirect_uri", WEB.redirect), ("state", "xyz 42")])
        .await;
    assert_eq!(denied.status, 302, "{}", denied.body);
    assert!(
        denied.location().starts_with(WEB.redirect),
        "back to the client: {}",
        denied.location()
    );
    assert_eq!(
        denied.location_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        denied.location_param("state").as_deref(),
        Some("xyz 42"),
        "the state comes back unchanged"
    );
    assert_eq!(denied.location_param("code"), None, "no code on a denial");

    let consent = m.get("/__mock/consent").await.json();
    assert_eq!(consent["decision"], "deny");
    assert_eq!(consent["user"], ALICE);

    m.script_consent("grant", ALICE, None).await;
    let granted = m
        .authorize(WEB, &[("redirect_uri", WEB.redirect), ("state", "xyz 42")])
        .await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert!(
        granted.location_param("code").is_some(),
        "a code on a grant: {}",
        granted.location()
    );
    assert_eq!(granted.location_param("state").as_deref(), Some("xyz 42"));
}

#[tokio::test]
async fn scripted_consent_for_a_company_the_user_is_not_in_is_refused() {
    let m = spawn_mock().await;
    let r = m
        .post_json(
            "/__mock/consent",
            json!({ "decision": "grant", "user": ALICE, "company_id": GLOBEX }),
        )
        .await;
    assert_control_error(&r, "company-member", Some("company_id"));

    let unknown_user = m
        .post_json(
            "/__mock/consent",
            json!({ "decision": "grant", "user": "mallory@example.com" }),
        )
        .await;
    assert_control_error(&unknown_user, "control-request", Some("user"));
    let bad_decision = m
        .post_json(
            "/__mock/consent",
            json!({ "decision": "maybe", "user": ALICE }),
        )
        .await;
    assert_control_error(&bad_decision, "control-request", Some("decision"));

    let ok = m
        .post_json(
            "/__mock/consent",
            json!({ "decision": "grant", "user": ALICE, "company_id": ACME }),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["company_id"], ACME);
}

#[tokio::test]
async fn revoking_a_grant_that_does_not_exist_is_404() {
    let m = spawn_mock().await;
    let body = json!({ "user": ALICE, "client_id": WEB.client_id });

    let missing = m.post_json("/__mock/grants/revoke", body.clone()).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.json()["error"], "not_found");

    let (access, _) = m.tokens(WEB).await;
    let revoked = m.post_json("/__mock/grants/revoke", body.clone()).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.json()["revoked_grants"], 1);
    assert_rejected(&m.sessioninfo(&access).await, 401, "grant-active");

    let again = m.post_json("/__mock/grants/revoke", body).await;
    assert_eq!(again.status, 404, "a revoked grant is gone: {}", again.body);
}

// ----- the request log ---------------------------------------------------------------------

#[tokio::test]
async fn the_request_log_records_method_path_query_status_rule_and_hint() {
    let m = spawn_mock().await;
    let cleared = m.send(m.http.delete(m.url("/__mock/requests"))).await;
    assert_eq!(cleared.status, 204);

    let refused = m
        .get("/oauth/token?grant_type=authorization_code&code=abc")
        .await;
    assert_rejected(&refused, 401, "token-post");
    let (access, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&access).await.status, 200);

    let (log, _) = requests(&m).await;
    let gets = exchanges(&log, "GET", "/oauth/token");
    assert_eq!(gets.len(), 1, "{log}");
    let e = gets[0];
    assert!(
        e["raw_query"]
            .as_str()
            .is_some_and(|q| q.starts_with("grant_type=authorization_code&code=")),
        "{e}"
    );
    assert_eq!(e["status"], 401);
    assert_eq!(e["rule"], "token-post");
    assert!(
        e["hint"].as_str().is_some_and(|h| h.contains("POST")),
        "the hint is logged: {e}"
    );
    assert!(
        e["id"].as_u64().is_some() && e["at"].as_str().is_some(),
        "{e}"
    );

    let posts = exchanges(&log, "POST", "/oauth/token");
    assert_eq!(posts.len(), 1, "{log}");
    assert_eq!(posts[0]["status"], 200);
    assert!(
        posts[0]["rule"].is_null(),
        "an accepted exchange names no rule: {}",
        posts[0]
    );
    assert!(posts[0]["hint"].is_null(), "{}", posts[0]);
    assert!(
        posts[0]["form"].is_array(),
        "the form is logged: {}",
        posts[0]
    );

    let authorize = exchanges(&log, "GET", "/oauth/authorize");
    assert_eq!(authorize.len(), 1, "{log}");
    assert_eq!(authorize[0]["status"], 302);
    assert!(
        authorize[0]["location"]
            .as_str()
            .is_some_and(|l| l.starts_with(WEB.redirect)),
        "{}",
        authorize[0]
    );
    assert_eq!(
        exchanges(&log, "GET", "/api/users/sessioninfo")[0]["status"],
        200
    );
}

#[tokio::test]
async fn the_request_log_masks_the_client_secret_and_fingerprints_tokens() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let (access, refresh) = assert_tokens(&m.redeem(WEB, &code).await);
    let (access2, refresh2) = assert_tokens(&m.refresh(WEB, &refresh).await);
    assert_eq!(m.sessioninfo(&access2).await.status, 200);
    // HTTP Basic.
    let basic_code = m.code(WEB).await;
    let basic = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .basic_auth(WEB.client_id, Some(WEB.client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&[
                    ("grant_type", "authorization_code"),
                    ("code", &basic_code),
                    ("redirect_uri", WEB.redirect),
                ])),
        )
        .await;
    let (basic_access, _) = assert_tokens(&basic);
    // The secret in URLs: the token endpoint's query and the authorization URL.
    let in_query = m
        .get(&format!(
            "/oauth/token?{}",
            encode(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh2),
                ("client_secret", WEB.client_secret)
            ])
        ))
        .await;
    assert_rejected(&in_query, 401, "token-post");
    let in_authorize = m
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("client_secret", WEB.client_secret),
            ],
        )
        .await;
    assert_eq!(in_authorize.status, 302, "{}", in_authorize.body);
    assert_eq!(
        in_authorize.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(m.last_rule().await.as_deref(), Some("secret-not-in-url"));
    // Unencoded `=` in the secret.
    let raw_secret = m
        .post_form(
            "/oauth/token",
            format!(
                "{}&client_secret={}",
                encode(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh2),
                    ("client_id", WEB.client_id)
                ]),
                WEB.client_secret
            ),
        )
        .await;
    assert_rejected(&raw_secret, 401, "client-secret-encoded");

    let (log, text) = requests(&m).await;
    let secret_core = WEB.client_secret.trim_end_matches('=');
    assert!(
        !text.contains(secret_core),
        "the client secret never appears in the log"
    );
    let basic_header =
        data_encoding::BASE64.encode(format!("{}:{}", WEB.client_id, WEB.client_secret).as_bytes());
    assert!(!text.contains(&basic_header), "nor the Basic credentials");
    for (name, token) in [
        ("code", &code),
        ("basic code", &basic_code),
        ("access", &access),
        ("access2", &access2),
        ("basic access", &basic_access),
        ("refresh", &refresh),
        ("refresh2", &refresh2),
    ] {
        assert!(
            !text.contains(token.as_str()),
            "the {name} token never appears whole in the log"
        );
    }
    assert!(text.contains("(masked)"), "masked values are marked");

    let redemption = exchanges(&log, "POST", "/oauth/token")
        .into_iter()
        .find(|e| e["status"] == 200)
        .expect("the redemption is logged");
    let form: Vec<(String, String)> = serde_json::from_value(redemption["form"].clone())
        .expect("form is a list of [name, value]");
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(field("client_secret").as_deref(), Some("(masked)"));
    assert_eq!(
        field("code"),
        Some(fingerprint(&code)),
        "the code is shown as a fingerprint"
    );
    assert_eq!(
        field("client_id").as_deref(),
        Some(WEB.client_id),
        "the client id is not secret"
    );

    assert!(
        text.contains(&fingerprint(&refresh)),
        "the refresh token is fingerprinted"
    );
    let api_call = &exchanges(&log, "GET", "/api/users/sessioninfo")[0];
    let headers: Vec<(String, String)> =
        serde_json::from_value(api_call["headers"].clone()).expect("headers list");
    let authorization = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        authorization,
        Some(format!("Bearer {}", fingerprint(&access2)).as_str())
    );

    let basic_logged = exchanges(&log, "POST", "/oauth/token")
        .into_iter()
        .find_map(|e| {
            let h: Vec<(String, String)> = serde_json::from_value(e["headers"].clone()).ok()?;
            h.into_iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v)
        })
        .expect("the Basic request is logged");
    assert_eq!(basic_logged, format!("Basic {}:(masked)", WEB.client_id));
}

#[tokio::test]
async fn the_request_log_masks_the_client_secret_in_a_wholly_encoded_or_json_token_body() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    // The documented pitfall: the whole body URL-encoded, as `urlencode("grant_type=…&client_secret=…")`.
    let raw = format!(
        "grant_type=authorization_code&code={code}&client_id={}&client_secret={}&redirect_uri={}",
        WEB.client_id, WEB.client_secret, WEB.redirect
    );
    let whole = mock_server::form::encode_component(&raw);
    let r = m.post_form("/oauth/token", whole).await;
    assert_rejected(&r, 401, "token-form-encoding");
    // JSON sent with the form content type.
    let as_json = json!({ "grant_type": "authorization_code", "code": code, "client_secret": WEB.client_secret });
    let r = m.post_form("/oauth/token", as_json.to_string()).await;
    assert_rejected(&r, 401, "token-form-body");
    // The same secret in a well-formed form is masked (the accepted side).
    assert_tokens(&m.redeem(WEB, &code).await);

    let (log, _) = requests(&m).await;
    let secret_core = WEB.client_secret.trim_end_matches('=');
    let leaks: Vec<String> = exchanges(&log, "POST", "/oauth/token")
        .into_iter()
        .filter(|e| e.to_string().contains(secret_core))
        .map(|e| format!("[{}] form {}", e["rule"], e["form"]))
        .collect();
    assert!(
        leaks.is_empty(),
        "the client secret must never appear in the request log, whatever the body's shape; it does in:\n{}",
        leaks.join("\n")
    );
    assert!(
        !log.to_string().contains(code.as_str()),
        "nor the whole authorization code"
    );
}

// ----- reset -------------------------------------------------------------------------------

#[tokio::test]
async fn reset_removes_created_apps_and_resets_the_clock() {
    let m = spawn_mock().await;
    let created = m
        .post_json("/__mock/apps", registration("org.example.reset"))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let client_id = created.json()["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    m.advance(500).await;
    assert_eq!(m.get("/__mock/clock").await.json()["offset_seconds"], 500);

    let reset = m.post_json("/__mock/reset", serde_json::json!({})).await;
    assert_eq!(reset.status, 200, "{}", reset.body);

    let clock = m.get("/__mock/clock").await.json();
    assert_eq!(clock["offset_seconds"], 0, "{clock}");
    assert_eq!(clock["unix_ms"], START.0, "{clock}");
    let apps = m.get("/__mock/apps").await;
    assert!(
        !apps.body.contains(&client_id),
        "the created app is gone: {}",
        apps.body
    );
    assert!(
        apps.body.contains(WEB.client_id),
        "the fixture apps remain: {}",
        apps.body
    );
    let (log, _) = requests(&m).await;
    assert!(
        exchanges(&log, "POST", "/__mock/apps").is_empty(),
        "the request log is cleared: {log}"
    );

    // The removed app's id is unknown now; a fixture app still works.
    let r = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", "whatever"),
            ("client_id", &client_id),
            ("client_secret", "WHATEVER="),
        ])
        .await;
    assert_rejected(&r, 401, "client-known");
    let (access, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&access).await.status, 200);
}
