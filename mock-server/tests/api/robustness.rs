//! Inputs found by review: each once made the mock panic, leak or misjudge. Each test shows
//! the bad input refused (or harmless) and the good one still working.

use mock_server::form::encode;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

#[tokio::test]
async fn non_ascii_after_an_http_scheme_is_a_registration_error_not_a_panic() {
    let m = spawn_mock().await;
    for url in ["http:xé", "http:/é", "http://é:80/cb"] {
        let r = m
            .post_json(
                "/__mock/apps",
                serde_json::json!({"name": "X", "primary_format": "com.x.y", "redirect_urls": [url], "scopes": ["OAuth2Read"]}),
            )
            .await;
        assert_rejected(&r, 400, "registration-redirect-url");
    }
    let ok = m
        .post_json(
            "/__mock/apps",
            serde_json::json!({"name": "X", "primary_format": "com.x.y", "redirect_urls": ["http://localhost:9/é"], "scopes": ["OAuth2Read"]}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[tokio::test]
async fn the_clock_moves_at_most_a_century_in_all() {
    let m = spawn_mock().await;
    let too_far = m
        .post_json(
            "/__mock/clock/advance",
            serde_json::json!({ "seconds": u64::MAX }),
        )
        .await;
    assert_rejected(&too_far, 400, "control-request");
    let clock = m.get("/__mock/clock").await.json();
    assert_eq!(
        clock["offset_seconds"], 0,
        "a refused advance moves nothing"
    );
    m.advance(99 * 365 * 24 * 3600).await;
    assert_eq!(
        m.get("/__mock/health").await.status,
        200,
        "the mock still answers far in the future"
    );
}

#[tokio::test]
async fn a_huge_paging_offset_is_an_empty_page() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let r = m
        .api(
            Method::GET,
            &format!("/api/documents?offset={}&limit=20", u64::MAX),
            &access,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(0));
    assert!(r.json()["next"].is_null());
}

#[tokio::test]
async fn spelled_differently_secrets_and_tokens_are_still_masked_and_refused() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let r = m
        .api(
            Method::GET,
            &format!("/api/documents?token={access}"),
            &access,
        )
        .await;
    assert_rejected(&r, 401, "bearer-header");
    let r = m
        .api(
            Method::GET,
            &format!("/api/documents?access%5Ftoken={access}"),
            &access,
        )
        .await;
    assert_rejected(&r, 401, "bearer-header");
    m.script_consent("grant", ALICE, None).await;
    let leaked = m
        .get(&format!(
            "/oauth/authorize?{}&client%5Fsecret=TOPSECRETVALUE",
            encode(&[("response_type", "code"), ("client_id", WEB.client_id)])
        ))
        .await;
    assert_eq!(
        leaked.location_param("error").as_deref(),
        Some("invalid_request")
    );
    let log = m.get("/__mock/requests").await.body;
    assert!(!log.contains(&access), "no access token in the log");
    assert!(!log.contains("TOPSECRETVALUE"), "no secret in the log");
    assert_eq!(
        m.api(Method::GET, "/api/documents", &access).await.status,
        200
    );
}

#[tokio::test]
async fn undecodable_paths_and_queries_get_explained_errors() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let api = m.api(Method::GET, "/api/%FF", &access).await;
    assert_rejected(&api, 404, "api-route");
    assert!(api.header("x-api-version").is_some());
    let consent = m.get("/oauth/consent?request=%zz&user=x").await;
    assert_rejected(&consent, 400, "consent-form");
    let grants = m.get("/account/applications?user=%zz").await;
    assert_eq!(grants.status, 400);
    assert_eq!(m.get("/account/applications").await.status, 200);
}

#[tokio::test]
async fn two_answers_to_one_consent_request_give_one_code() {
    let m = spawn_mock().await;
    let page = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    let key = "name=\"request\" value=\"";
    let start = page.body.find(key).expect("request id") + key.len();
    let request = &page.body[start..start + page.body[start..].find('"').expect("ends")];
    let path = format!(
        "/oauth/consent?{}",
        encode(&[("request", request), ("user", ALICE)])
    );
    let csrf = m.mock.state.form_token().to_owned();
    let answer = encode(&[("decision", "grant"), ("csrf", &csrf)]);
    let first = m.post_form(&path, answer.clone()).await;
    assert!(first.location_param("code").is_some(), "{}", first.body);
    let second = m.post_form(&path, answer).await;
    assert_eq!(second.status, 400, "the request was used: {}", second.body);
}

#[tokio::test]
async fn a_code_issued_before_a_revocation_dies_with_the_grant() {
    let m = spawn_mock().await;
    let before = m.code(WEB).await;
    let r = m
        .post_json(
            "/__mock/grants/revoke",
            serde_json::json!({"user": ALICE, "client_id": WEB.client_id}),
        )
        .await;
    assert_eq!(r.status, 200);
    let after = m.code(WEB).await; // re-grant
    assert_rejected(&m.redeem(WEB, &before).await, 401, "grant-active");
    assert_tokens(&m.redeem(WEB, &after).await);
}

#[tokio::test]
async fn every_rotated_out_refresh_token_is_explained_not_only_the_last() {
    let m = spawn_mock().await;
    let (_, first) = m.tokens(WEB).await;
    let (_, second) = assert_tokens(&m.refresh(WEB, &first).await);
    let (_, third) = assert_tokens(&m.refresh(WEB, &second).await);
    // The oldest (no longer the family's previous token) is still recognized as reuse.
    let oldest = m.refresh(WEB, &first).await;
    assert_rejected(&oldest, 401, "refresh-token-rotated");
    assert!(
        oldest.body.contains("revoked the whole chain"),
        "{}",
        oldest.body
    );
    assert_rejected(&m.refresh(WEB, &second).await, 401, "refresh-token-rotated");
    assert_rejected(&m.refresh(WEB, &third).await, 401, "refresh-token-rotated");
}

#[tokio::test]
async fn scripted_consent_for_a_user_in_two_companies_without_company_id_asks() {
    let m = spawn_mock().await;
    m.script_consent("grant", BOB, None).await;
    let r = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert_eq!(r.status, 303, "sent to the consent page: {}", r.body);
    let page = m.get(r.location()).await;
    assert!(
        page.body.contains("name=\"company_id\""),
        "the user chooses: {}",
        page.body
    );
    m.script_consent("grant", BOB, Some(GLOBEX)).await;
    let chosen = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert!(chosen.location_param("code").is_some());
}

#[tokio::test]
async fn a_body_that_ends_early_is_a_400_not_a_413() {
    let m = spawn_mock().await;
    let mut s = tokio::net::TcpStream::connect(m.mock.oauth_addr)
        .await
        .expect("connect");
    s.write_all(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\ngrant_type=")
        .await
        .expect("write");
    s.shutdown().await.expect("half-close");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    // hyper may answer the truncated request or just close; it must never claim 413.
    assert!(!out.contains(" 413 "), "{out}");
    let log = m.get("/__mock/requests").await.json();
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert!(!statuses.contains(&413), "{statuses:?}");
    let big = m
        .post_form("/oauth/token", "a=".to_owned() + &"b".repeat(70 * 1024))
        .await;
    assert_rejected(&big, 413, "request-size");
}

#[tokio::test]
async fn the_control_api_answers_loopback_clients_only() {
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;
    let state = mock_server::AppState::with_clock(
        mock_server::Config::default(),
        mock_server::Clock::frozen_at(START),
    )
    .expect("state");
    let from = |ip: [u8; 4]| {
        let mut req = axum::http::Request::builder()
            .uri("/__mock/health")
            .body(axum::body::Body::empty())
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        req
    };
    let remote = mock_server::app(state.clone())
        .oneshot(from([10, 0, 0, 7]))
        .await
        .expect("answers");
    assert_eq!(remote.status(), 403, "a non-loopback peer is refused");
    let local = mock_server::app(state)
        .oneshot(from([127, 0, 0, 1]))
        .await
        .expect("answers");
    assert_eq!(local.status(), 200);
    // serve --allow-remote-control: a container's peers are answered.
    let open = mock_server::AppState::with_clock(
        mock_server::Config {
            remote_control: true,
            ..mock_server::Config::default()
        },
        mock_server::Clock::frozen_at(START),
    )
    .expect("state");
    let remote = mock_server::app(open)
        .oneshot(from([10, 0, 0, 7]))
        .await
        .expect("answers");
    assert_eq!(remote.status(), 200, "--allow-remote-control answers it");
}

#[tokio::test]
async fn expired_codes_and_pending_requests_are_purged() {
    let m = spawn_mock().await;
    for _ in 0..5 {
        m.code(WEB).await;
    }
    m.script_consent("prompt", ALICE, None).await;
    m.authorize(WEB, &[]).await; // a pending login
    let tables = |v: serde_json::Value| {
        (
            v["tables"]["codes"].as_u64(),
            v["tables"]["pending"].as_u64(),
        )
    };
    assert_eq!(
        tables(m.get("/__mock/health").await.json()),
        (Some(5), Some(1))
    );
    m.advance(60 + 59).await;
    assert_eq!(
        tables(m.get("/__mock/health").await.json()).0,
        Some(5),
        "remembered 60 s past expiry"
    );
    m.advance(1).await;
    assert_eq!(
        tables(m.get("/__mock/health").await.json()).0,
        Some(0),
        "then forgotten"
    );
    m.advance(600 + 3600).await;
    assert_eq!(
        tables(m.get("/__mock/health").await.json()).1,
        Some(0),
        "pending requests last 10 minutes, and are remembered an hour to explain their use"
    );
}

#[tokio::test]
async fn a_redirect_url_with_a_control_character_or_space_is_refused_at_registration() {
    let m = spawn_mock().await;
    let app = |url: &str| serde_json::json!({"name": "X", "primary_format": "com.x.y", "redirect_urls": [url], "scopes": ["OAuth2Read"]});
    for url in [
        "http://localhost:9/cb\r\n",
        "http://localhost:9/cb\n",
        "https://app.example.com/cb\t",
        "https://app.example.com/c b",
        "https://app.example.com/cb\u{7f}",
        "https://app.example.com/cb\u{85}",
    ] {
        let r = m.post_json("/__mock/apps", app(url)).await;
        assert_rejected(&r, 400, "registration-redirect-url");
        assert!(r.body.contains("control characters"), "{}", r.body);
    }
    let fixtures = "[[apps]]\nname=\"A\"\nprimary_format=\"com.a.b\"\nredirect_urls=[\"http://localhost:9/cb\\r\\n\"]\nscopes=[\"OAuth2Read\"]\n";
    let err = mock_server::Fixtures::parse(fixtures).expect_err("refused in a fixtures file too");
    assert!(err.to_string().contains("control characters"), "{err}");

    // A non-ASCII path is fine: registered, and the redirect is a valid 302.
    let created = m
        .post_json("/__mock/apps", app("http://localhost:9/é"))
        .await
        .json();
    m.script_consent("grant", ALICE, None).await;
    let client_id = created["client_id"].as_str().expect("client_id");
    let r = m
        .get(&format!(
            "/oauth/authorize?{}",
            encode(&[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", "http://localhost:9/é"),
            ])
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(
        r.location().starts_with("http://localhost:9/%C3%A9?code="),
        "{}",
        r.location()
    );
}

/// DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own name as Host.
#[tokio::test]
async fn only_ip_addresses_localhost_and_allowed_names_are_answered() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let with_host = |path: &str, host: &str| {
        m.send(
            m.http
                .get(m.url(path))
                .bearer_auth(&access)
                .header("host", host),
        )
    };
    let rebound = with_host("/api/users/sessioninfo", "attacker.example:8080").await;
    assert_rejected(&rebound, 421, "host-allowed");
    let glued = with_host("/api/users/sessioninfo", "evillocalhost:9").await;
    assert_rejected(&glued, 421, "host-allowed");
    assert_rejected(
        &with_host("/__mock/requests", "evil.test").await,
        421,
        "host-allowed",
    );
    for host in [
        "127.0.0.1:9",
        "localhost:9",
        "app.localhost",
        "[::1]:9",
        "LOCALHOST",
        "App.LocalHost:9",
        "[::FFFF:7F00:1]:9",
    ] {
        let r = with_host("/api/users/sessioninfo", host).await;
        assert_eq!(r.status, 200, "{host}: {}", r.body);
    }
    // The href reflects only an answered Host.
    let info = with_host("/api/users/sessioninfo", "localhost:9")
        .await
        .json();
    assert!(
        info["href"]
            .as_str()
            .is_some_and(|h| h.starts_with("http://localhost:9/")),
        "{info}"
    );

    let named = spawn_mock_with(
        mock_server::Config {
            allowed_hosts: vec!["onshape-mock".into()],
            ..mock_server::Config::default()
        },
        mock_server::Binds::ephemeral(),
    )
    .await;
    let r = named
        .send(
            named
                .http
                .get(named.url("/__mock/health"))
                .header("host", "onshape-mock:8080"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A web page can POST text/plain or a form cross-site without a preflight; the control API
/// takes JSON only, so a page cannot reset the mock.
#[tokio::test]
async fn control_posts_must_be_json_so_a_web_page_cannot_send_them() {
    let m = spawn_mock().await;
    m.advance(30).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = m
            .send(
                m.http
                    .post(m.url("/__mock/reset"))
                    .header("content-type", content_type)
                    .body("{}"),
            )
            .await;
        assert_rejected(&r, 415, "control-request");
    }
    let bare = m.send(m.http.post(m.url("/__mock/reset"))).await;
    assert_rejected(&bare, 415, "control-request");
    assert_eq!(
        m.get("/__mock/clock").await.json()["offset_seconds"],
        30,
        "nothing reset"
    );
    let r = m.post_json("/__mock/reset", serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(m.get("/__mock/clock").await.json()["offset_seconds"], 0);
}
