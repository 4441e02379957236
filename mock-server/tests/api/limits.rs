//! API limits: the annual limit per plan counted for the app's owner (402 beyond), only 2xx
//! and 3xx counting, `X-Rate-Limit-Remaining` on every authenticated response, short-term
//! rate limits per company or app (429 with `Retry-After`), and the admins' notifications
//! at 25, 50, 75 and 100 %.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Acme: enterprise, 500 seats → 5,000,000 calls a year.
const ACME_LIMIT: u64 = 5_000_000;

fn remaining(r: &Resp) -> u64 {
    r.header("x-rate-limit-remaining")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("X-Rate-Limit-Remaining on {} {}", r.status, r.body))
}

async fn set_usage(m: &TestMock, body: Value) -> Value {
    let r = m.post_json("/__mock/usage", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn notifications(m: &TestMock) -> Vec<Value> {
    m.get("/__mock/notifications").await.json()["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn only_successful_calls_count_and_every_answer_says_what_is_left() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    let first = m.sessioninfo(&token).await;
    assert_eq!(first.status, 200);
    assert_eq!(remaining(&first), ACME_LIMIT - 1, "the app's owner is Acme");
    let second = m.api(Method::GET, "/api/documents", &token).await;
    assert_eq!(remaining(&second), ACME_LIMIT - 2);
    let not_found = m.api(Method::GET, "/api/nothing-here", &token).await;
    assert_eq!(not_found.status, 404);
    assert_eq!(
        remaining(&not_found),
        ACME_LIMIT - 2,
        "a 4xx does not count"
    );
    let usage = m.get("/__mock/usage").await.json();
    let acme = usage["usage"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == ACME)
        .cloned()
        .expect("Acme's row");
    assert_eq!(acme["calls"], 2);
    assert_eq!(acme["limit"], ACME_LIMIT);
    assert_eq!(acme["plan"], "enterprise");
    let unauthenticated = m.api(Method::GET, "/api/documents", "nope").await;
    assert_eq!(unauthenticated.status, 401);
}

#[tokio::test]
async fn over_the_annual_limit_the_api_answers_402_until_the_year_turns() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    set_usage(&m, json!({ "company_id": ACME, "calls": ACME_LIMIT - 1 })).await;
    let last = m.sessioninfo(&token).await;
    assert_eq!(last.status, 200, "the last call of the year: {}", last.body);
    assert_eq!(remaining(&last), 0);

    let refused = m.sessioninfo(&token).await;
    assert_rejected(&refused, 402, "api-annual-limit");
    let body = refused.json();
    assert_eq!(body["status"], 402);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|s| s.contains("Acme Robotics")),
        "{body}"
    );
    assert_eq!(remaining(&refused), 0);

    // Globex's calls are its own.
    let (globex, _) = {
        m.script_consent("grant", BOB, Some(GLOBEX)).await;
        let r = m
            .authorize(
                DESKTOP,
                &[("redirect_uri", "http://localhost:5000/callback")],
            )
            .await;
        let code = r.location_param("code").expect("code");
        let redeemed = m
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", DESKTOP.client_id),
                ("client_secret", DESKTOP.client_secret),
                ("redirect_uri", "http://localhost:5000/callback"),
            ])
            .await;
        assert_tokens(&redeemed)
    };
    // The Desktop Exporter is Acme's app too: its calls count toward Acme wherever it is used.
    assert_rejected(&m.sessioninfo(&globex).await, 402, "api-annual-limit");

    m.advance(366 * 24 * 3600).await;
    let (token, _) = m.tokens(WEB).await;
    let new_year = m.sessioninfo(&token).await;
    assert_eq!(new_year.status, 200, "{}", new_year.body);
    assert_eq!(remaining(&new_year), ACME_LIMIT - 1);
}

#[tokio::test]
async fn admins_are_notified_once_at_each_quarter_of_the_limit() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    set_usage(
        &m,
        json!({ "company_id": ACME, "calls": ACME_LIMIT / 4 - 2 }),
    )
    .await;
    assert!(
        notifications(&m).await.is_empty(),
        "usage set directly is history"
    );
    m.sessioninfo(&token).await;
    assert!(notifications(&m).await.is_empty(), "24.99 %");
    m.sessioninfo(&token).await;
    let sent = notifications(&m).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["kind"], "usage-25");
    assert_eq!(sent[0]["to"], json!([ALICE]), "Acme's admins");
    assert!(sent[0]["subject"]
        .as_str()
        .is_some_and(|s| s.contains("25%")));
    m.sessioninfo(&token).await;
    assert_eq!(notifications(&m).await.len(), 1, "sent once");

    for (calls, kind) in [
        (ACME_LIMIT / 2 - 1, "usage-50"),
        (ACME_LIMIT * 3 / 4 - 1, "usage-75"),
        (ACME_LIMIT - 1, "usage-100"),
    ] {
        set_usage(&m, json!({ "company_id": ACME, "calls": calls })).await;
        m.sessioninfo(&token).await;
        let last = notifications(&m).await.pop().expect("a notification");
        assert_eq!(last["kind"], kind);
    }
    let cleared = m.send(m.http.delete(m.url("/__mock/notifications"))).await;
    assert_eq!(cleared.status, 204);
    assert!(notifications(&m).await.is_empty());
}

#[tokio::test]
async fn a_rate_limited_company_or_app_gets_429_with_retry_after_until_the_window_ends() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    let r = m
        .post_json(
            "/__mock/rate-limits",
            json!({ "company_id": ACME, "rate_limit": { "calls": 2, "per_seconds": 7200 } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        remaining(&m.sessioninfo(&token).await),
        1,
        "the window's count"
    );
    assert_eq!(remaining(&m.sessioninfo(&token).await), 0);
    let limited = m.sessioninfo(&token).await;
    assert_rejected(&limited, 429, "api-rate-limit");
    assert_eq!(
        limited.header("retry-after"),
        Some("7200"),
        "hours, in seconds"
    );
    assert_eq!(remaining(&limited), 0);
    m.advance(1800).await;
    assert_eq!(
        m.sessioninfo(&token).await.header("retry-after"),
        Some("5400")
    );
    m.advance(5400).await;
    let (token, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&token).await.status, 200, "a new window");

    m.post_json(
        "/__mock/rate-limits",
        json!({ "company_id": ACME, "rate_limit": null }),
    )
    .await;
    m.post_json(
        "/__mock/rate-limits",
        json!({ "client_id": WEB.client_id, "rate_limit": { "calls": 1, "per_seconds": 60 } }),
    )
    .await;
    assert_eq!(m.sessioninfo(&token).await.status, 200);
    let app_limited = m.sessioninfo(&token).await;
    assert_rejected(&app_limited, 429, "api-rate-limit");
    assert!(
        app_limited.body.contains("Acme Web Previewer"),
        "{}",
        app_limited.body
    );

    let bad = m
        .post_json(
            "/__mock/rate-limits",
            json!({ "client_id": WEB.client_id, "rate_limit": { "calls": 0, "per_seconds": 60 } }),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["rule"], "control-request");
}

#[tokio::test]
async fn developer_portal_apps_count_toward_their_user_and_published_apps_do_not_count() {
    let m = spawn_mock().await;
    let app = m
        .post_json(
            "/__mock/apps",
            json!({
                "name": "Bob's tool", "primary_format": "com.example.bobs-tool",
                "redirect_urls": ["https://bob.example.com/cb"], "scopes": ["OAuth2Read"],
                "type": "connected-cloud", "as": BOB,
            }),
        )
        .await
        .json();
    let c = AppCreds {
        client_id: Box::leak(
            app["client_id"]
                .as_str()
                .expect("id")
                .to_owned()
                .into_boxed_str(),
        ),
        client_secret: Box::leak(
            app["client_secret"]
                .as_str()
                .expect("secret")
                .to_owned()
                .into_boxed_str(),
        ),
        redirect: "https://bob.example.com/cb",
    };
    let (token, _) = m.tokens(c).await;
    let r = m.sessioninfo(&token).await;
    assert_eq!(remaining(&r), 2_500 - 1, "Bob's own account: the free plan");

    let entry = m
        .post_json(
            "/__mock/store-entries",
            json!({
                "client_id": c.client_id, "type": "connected-cloud", "category": "Utilities",
                "support_url": "support@bob.example.com", "support_email": "support@bob.example.com",
                "vendor": "Bob", "version": "2.1",
            }),
        )
        .await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    let id = entry.json()["id"].as_str().expect("id").to_owned();
    let published = m
        .post_json(
            &format!("/__mock/store-entries/{id}/publish"),
            json!({ "published": true }),
        )
        .await;
    assert_eq!(published.json()["published"], true);
    let r = m.sessioninfo(&token).await;
    assert_eq!(
        remaining(&r),
        2_500 - 1,
        "a public App Store app's calls do not count"
    );
}
