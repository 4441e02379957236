//! Injected faults and triggers (`POST /__mock/faults`, `POST /__mock/triggers`).

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

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
