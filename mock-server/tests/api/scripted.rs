//! Injected faults and triggers (`POST /__mock/faults`, `POST /__mock/triggers`).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use mock_server::form::encode;

#[tokio::test]
async fn a_503_on_the_token_endpoint_answers_once() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let armed = m
        .post_json(
            "/__mock/faults",
            json!({"path": "/oauth/token", "status": 503, "retry_after": 1}),
        )
        .await;
    assert_eq!(armed.status, 201, "{}", armed.body);

    let first = m.redeem(WEB, &code).await;
    assert_eq!(first.status, 503);
    assert_eq!(first.json()["error"], "temporarily_unavailable");
    assert_eq!(first.header("retry-after"), Some("1"));
    assert_tokens(&m.redeem(WEB, &code).await);

    let log = m.get("/__mock/requests").await.json();
    let faults: Vec<bool> = log["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["path"] == "/oauth/token")
        .map(|e| e["fault"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(
        faults,
        vec![true, false],
        "the log tells the injected answer from the real one"
    );
}

#[tokio::test]
async fn a_429_on_the_api_carries_retry_after_and_the_onshape_body() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    m.post_json(
        "/__mock/faults",
        json!({"path": "/api/*", "status": 429, "retry_after": 2}),
    )
    .await;
    let limited = m.api(Method::GET, "/api/v6/documents", &access).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("2"));
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(limited.json()["status"], 429);
    assert_eq!(
        m.api(Method::GET, "/api/v6/documents", &access)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn faults_are_checked_and_reset_clears_them() {
    let m = spawn_mock().await;
    for bad in [
        json!({"path": "/oauth/token", "status": 200}),
        json!({"path": "oauth", "status": 503}),
        json!({"path": "/x", "status": 503, "times": 0}),
        json!({"path": "/x", "status": 503, "colour": 1}),
    ] {
        assert_rejected(
            &m.post_json("/__mock/faults", bad).await,
            400,
            "control-request",
        );
    }
    m.post_json(
        "/__mock/faults",
        json!({"path": "/oauth/token", "status": 503, "times": 5}),
    )
    .await;
    m.post_json("/__mock/reset", json!({})).await;
    let code = m.code(WEB).await;
    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn a_trigger_moves_the_clock_after_the_first_api_call() {
    let m = spawn_mock().await;
    let (access, refresh) = m.tokens(WEB).await;
    let added = m
        .post_json(
            "/__mock/triggers",
            json!({"after": "api-success", "count": 1, "action": {"advance": 3660}}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(m.sessioninfo(&access).await.status, 200);
    assert_rejected(&m.sessioninfo(&access).await, 401, "access-token-expired");
    let (fresh, _) = assert_tokens(&m.refresh(WEB, &refresh).await);
    assert_eq!(
        m.sessioninfo(&fresh).await.status,
        200,
        "the trigger fired once"
    );
    let log = m.get("/__mock/requests").await.body;
    assert!(log.contains("clock advanced 3660 s"), "{log}");
}

#[tokio::test]
async fn a_trigger_revokes_the_grant_after_a_refresh() {
    let m = spawn_mock().await;
    let (_, refresh) = m.tokens(WEB).await;
    m.post_json(
        "/__mock/triggers",
        json!({"after": "refreshed", "action": {"revoke": {"user": ALICE, "client_id": WEB.client_id}}}),
    )
    .await;
    let (access, newer) = assert_tokens(&m.refresh(WEB, &refresh).await);
    assert_rejected(&m.sessioninfo(&access).await, 401, "grant-active");
    assert_rejected(&m.refresh(WEB, &newer).await, 401, "grant-active");
    let bad = m
        .post_json(
            "/__mock/triggers",
            json!({"after": "lunch", "action": {"advance": 1}}),
        )
        .await;
    assert_rejected(&bad, 400, "control-request");
}

/// Arms `fault` through the control API.
async fn arm(m: &TestMock, fault: serde_json::Value) {
    let armed = m.post_json("/__mock/faults", fault).await;
    assert_eq!(armed.status, 201, "{}", armed.body);
}

/// The log's last exchange for `path`.
async fn last_logged(m: &TestMock, path: &str) -> serde_json::Value {
    let log = m.get("/__mock/requests").await.json();
    log["requests"]
        .as_array()
        .expect("list")
        .iter()
        .rev()
        .find(|e| e["path"] == path)
        .cloned()
        .expect("logged")
}

/// A client that gives up after `ms`.
fn impatient(ms: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(ms))
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn token_endpoint_errors_carry_the_chosen_code_for_their_grant_then_the_real_answer() {
    let m = spawn_mock().await;
    arm(
        &m,
        json!({"path": "/oauth/token", "grant": "refresh_token", "status": 400, "error": "invalid_grant", "times": 2}),
    )
    .await;
    // The code exchange is not the refresh: answered for real.
    let (_, refresh) = m.tokens(WEB).await;
    for _ in 0..2 {
        let refused = m.refresh(WEB, &refresh).await;
        assert_eq!(refused.status, 400);
        assert_eq!(refused.json()["error"], "invalid_grant");
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }
    // Not processed: the refresh token was not used up.
    assert_tokens(&m.refresh(WEB, &refresh).await);

    arm(
        &m,
        json!({"path": "/oauth/token", "grant": "authorization_code", "status": 401, "error": "invalid_client"}),
    )
    .await;
    let code = m.code(WEB).await;
    let refused = m.redeem(WEB, &code).await;
    assert_eq!(
        (refused.status, refused.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_tokens(&m.redeem(WEB, &code).await);
    let logged = last_logged(&m, "/oauth/token").await;
    assert_eq!(logged["fault"], false);
}

#[tokio::test]
async fn a_firewall_page_and_unusable_200s_leave_the_code_unused() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let cases = [
        (
            json!({"status": 403, "body": "html"}),
            403,
            "text/html; charset=utf-8",
        ),
        (
            json!({"status": 200, "body": "html"}),
            200,
            "text/html; charset=utf-8",
        ),
        (
            json!({"status": 200, "body": "invalid-json"}),
            200,
            "application/json",
        ),
        (
            json!({"status": 200, "body": "no-access-token"}),
            200,
            "application/json",
        ),
        (json!({"status": 502, "body": "empty"}), 502, ""),
    ];
    for (mut fault, status, content_type) in cases {
        fault["path"] = json!("/oauth/token");
        arm(&m, fault.clone()).await;
        let answer = m.redeem(WEB, &code).await;
        assert_eq!(answer.status, status, "{fault}");
        assert_eq!(
            answer.header("content-type").unwrap_or(""),
            content_type,
            "{fault}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("access_token").cloned())
                .is_none(),
            "{fault}: {}",
            answer.body
        );
        let logged = last_logged(&m, "/oauth/token").await;
        assert_eq!(logged["fault"], true, "{fault}");
        assert!(logged["scripted"].as_str().is_some(), "{logged}");
    }
    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn token_quirks_render_the_real_answer_wrong_and_the_request_is_processed() {
    let m = spawn_mock().await;
    type Shaped = fn(&serde_json::Value, &str) -> bool;
    let cases: [(&str, Shaped); 9] = [
        ("no-refresh-token", |v, _| v.get("refresh_token").is_none()),
        ("no-expires-in", |v, _| v.get("expires_in").is_none()),
        ("expires-in-string", |v, _| v["expires_in"] == "3600"),
        ("expires-in-negative", |v, _| v["expires_in"] == -3600),
        ("expires-in-short", |v, _| v["expires_in"] == 1),
        ("expires-in-long", |v, _| v["expires_in"] == 315_360_000),
        ("token-type-unsupported", |v, _| v["token_type"] == "mac"),
        ("duplicate-fields", |_, raw| {
            raw.matches("\"expires_in\"").count() == 2 && raw.matches("\"token_type\"").count() == 2
        }),
        ("wrong-content-type", |v, _| v["token_type"] == "Bearer"),
    ];
    for (quirk, shaped) in cases {
        let code = m.code(WEB).await;
        arm(&m, json!({"path": "/oauth/token", "token": quirk})).await;
        let answer = m.redeem(WEB, &code).await;
        assert_eq!(answer.status, 200, "{quirk}: {}", answer.body);
        let v = answer.json();
        assert!(shaped(&v, &answer.body), "{quirk}: {}", answer.body);
        let expected_type = if quirk == "wrong-content-type" {
            "text/html; charset=utf-8"
        } else {
            "application/json"
        };
        assert_eq!(
            answer.header("content-type"),
            Some(expected_type),
            "{quirk}"
        );
        // Processed: the access token works, and the code is used up.
        let access = v["access_token"].as_str().expect("access token");
        assert_eq!(m.sessioninfo(access).await.status, 200, "{quirk}");
        assert_rejected(&m.redeem(WEB, &code).await, 401, "code-single-use");
        assert_eq!(
            last_logged(&m, "/oauth/token").await["fault"],
            false,
            "{quirk}"
        );
    }
    // On an error answer the quirk has nothing to render: the error goes out as it is.
    arm(
        &m,
        json!({"path": "/oauth/token", "token": "no-expires-in"}),
    )
    .await;
    assert_rejected(&m.redeem(WEB, "not-a-code").await, 401, "code-known");
}

#[tokio::test]
async fn api_faults_answer_in_onshape_shape_while_the_token_stays_valid() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    arm(&m, json!({"path": "/api/*", "status": 401})).await;
    let refused = m.sessioninfo(&access).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token")),
        "{:?}",
        refused.headers
    );
    assert_eq!(refused.json()["status"], 401);
    assert_eq!(m.sessioninfo(&access).await.status, 200);
    for status in [403, 404, 500, 502, 503, 504] {
        arm(&m, json!({"path": "/api/*", "status": status, "times": 2})).await;
        for _ in 0..2 {
            let answer = m.api(Method::GET, "/api/documents", &access).await;
            assert_eq!(answer.status, status);
            assert_eq!(answer.json()["status"], status);
        }
        assert_eq!(
            m.api(Method::GET, "/api/documents", &access).await.status,
            200
        );
    }
}

#[tokio::test]
async fn a_delayed_answer_is_logged_and_processed_at_once_then_sent_late() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    // Longer than the client waits: the client gives up, the request was processed.
    arm(&m, json!({"path": "/oauth/token", "delay": 30})).await;
    let gave_up = impatient(300)
        .post(m.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
            ("redirect_uri", WEB.redirect),
        ]))
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()));
    let logged = last_logged(&m, "/oauth/token").await;
    assert_eq!(
        (logged["status"].as_u64(), &logged["fault"]),
        (Some(200), &json!(false))
    );
    assert!(
        logged["scripted"]
            .as_str()
            .is_some_and(|s| s.contains("30 s late")),
        "{logged}"
    );
    assert_rejected(&m.redeem(WEB, &code).await, 401, "code-single-use");

    // A delay shorter than the client's patience: the answer comes, late (real time: the
    // delay is the point).
    let (access, _) = m.tokens(WEB).await;
    arm(&m, json!({"path": "/api/*", "delay": 0.3})).await;
    let started = std::time::Instant::now();
    assert_eq!(m.sessioninfo(&access).await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn a_silent_fault_never_answers_and_the_mock_still_stops_at_once() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    arm(&m, json!({"path": "/api/*", "connection": "silent"})).await;
    let gave_up = impatient(300)
        .get(m.url("/api/users/sessioninfo"))
        .bearer_auth(&access)
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()));
    let logged = last_logged(&m, "/api/users/sessioninfo").await;
    assert_eq!(
        (logged["status"].as_u64(), &logged["fault"]),
        (Some(0), &json!(true))
    );
    // Once only.
    assert_eq!(m.sessioninfo(&access).await.status, 200);

    // A silent connection held open does not hold up the mock's shutdown.
    arm(&m, json!({"path": "/api/*", "connection": "silent"})).await;
    let url = m.url("/api/users/sessioninfo");
    let held = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(access)
            .send()
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(3), m.mock.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "the shutdown waited on the silent connection"
    );
    let answer = held.await.expect("task");
    assert!(answer.is_err(), "closed without an answer: {answer:?}");
}

#[tokio::test]
async fn a_connection_closed_mid_response_sends_part_of_a_body() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    arm(&m, json!({"path": "/api/*", "connection": "close"})).await;
    let cut = async {
        let r = m
            .http
            .get(m.url("/api/documents"))
            .bearer_auth(&access)
            .send()
            .await?;
        r.text().await
    }
    .await;
    assert!(cut.is_err(), "the body cannot be read whole: {cut:?}");
    let logged = last_logged(&m, "/api/documents").await;
    assert_eq!(logged["status"].as_u64(), Some(0));
    assert_eq!(
        m.api(Method::GET, "/api/documents", &access).await.status,
        200
    );
}

#[tokio::test]
async fn faults_that_cannot_be_carried_out_are_refused_with_the_reason() {
    let m = spawn_mock().await;
    for (bad, why) in [
        (
            json!({"path": "/api/*", "status": 400, "error": "invalid_grant"}),
            "only for /oauth paths",
        ),
        (
            json!({"path": "/api/*", "token": "no-refresh-token"}),
            "only for path /oauth/token",
        ),
        (
            json!({"path": "/oauth/token", "status": 400}),
            "needs an error code",
        ),
        (
            json!({"path": "/oauth/token", "connection": "silent", "delay": 1}),
            "no answer to delay",
        ),
        (
            json!({"path": "/oauth/token", "token": "purple"}),
            "unknown variant",
        ),
    ] {
        let refused = m.post_json("/__mock/faults", bad).await;
        assert_rejected(&refused, 400, "control-request");
        assert!(refused.body.contains(why), "{why}: {}", refused.body);
    }
}
