//! The resource server under `/api`: bearer authentication, token lifetime, scopes, light
//! users, per-company documents, paging, versions and routing — each rule rejected and
//! accepted side by side.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const ACME_DOCS: [&str; 2] = ["d0c000000000000000000001", "d0c000000000000000000002"];
const GLOBEX_DOC: &str = "d0c000000000000000000003";

/// Tokens for WEB granted by `user` in `company`, with extra authorization parameters.
async fn web_tokens(
    m: &TestMock,
    user: &str,
    company: Option<&str>,
    extra: &[(&str, &str)],
) -> (String, String) {
    m.script_consent("grant", user, company).await;
    let mut params = vec![("redirect_uri", WEB.redirect), ("state", "s1")];
    params.extend_from_slice(extra);
    let r = m.authorize(WEB, &params).await;
    assert_eq!(
        r.status, 302,
        "authorization redirects with a code: {}",
        r.body
    );
    let code = r.location_param("code").expect("code in the redirect");
    assert_tokens(&m.redeem(WEB, &code).await)
}

/// An /api call with a JSON body.
async fn api_json(m: &TestMock, method: Method, path: &str, token: &str, body: Value) -> Resp {
    m.send(
        m.http
            .request(method, m.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

/// The ids of a documents page.
#[track_caller]
fn ids(page: &Resp) -> Vec<String> {
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["items"]
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|d| d["id"].as_str().expect("document id").to_owned())
        .collect()
}

/// Asserts Onshape's error shape and the bearer challenge of a 401.
#[track_caller]
fn assert_unauthorized(resp: &Resp, rule: &str) {
    assert_rejected(resp, 401, rule);
    let challenge = resp.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "a Bearer challenge: {challenge:?}"
    );
    assert!(
        challenge.contains("invalid_token"),
        "error=\"invalid_token\": {challenge:?}"
    );
    let body = resp.json();
    for key in ["message", "moreInfoUrl", "status", "code"] {
        assert!(
            body.get(key).is_some(),
            "Onshape error body has `{key}`: {}",
            resp.body
        );
    }
    assert_eq!(body["status"], 401, "{}", resp.body);
}

// ----- sessioninfo and headers -----------------------------------------------------------

#[tokio::test]
async fn sessioninfo_answers_with_version_and_request_id_and_pii_only_with_read_pii() {
    let m = spawn_mock().await;
    let (full, _) = m.tokens(WEB).await;

    let r = m.sessioninfo(&full).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("x-api-version").is_some(),
        "X-Api-Version is present"
    );
    assert!(
        r.header("x-request-id").is_some_and(|v| !v.is_empty()),
        "X-Request-ID is present"
    );
    let info = r.json();
    assert_eq!(info["clientId"], WEB.client_id);
    assert_eq!(
        info["name"], "Alice Archer",
        "ReadPII shows the name: {}",
        r.body
    );
    assert_eq!(info["email"], ALICE, "ReadPII shows the email: {}", r.body);
    assert_eq!(info["company"]["id"], ACME);

    let (no_pii, _) = web_tokens(&m, ALICE, None, &[("scope", "OAuth2Read")]).await;
    let r = m.sessioninfo(&no_pii).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let info = r.json();
    assert!(
        info.get("name").is_none(),
        "no name without OAuth2ReadPII: {}",
        r.body
    );
    assert!(
        info.get("email").is_none(),
        "no email without OAuth2ReadPII: {}",
        r.body
    );
    assert!(
        !r.body.contains(ALICE),
        "the email appears nowhere: {}",
        r.body
    );
    assert_eq!(info["oauth2Scopes"], 2);
}

// ----- bearer authentication -------------------------------------------------------------

#[tokio::test]
async fn no_authorization_header_is_refused_with_a_bearer_challenge() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let none = m.get("/api/users/sessioninfo").await;
    assert_unauthorized(&none, "bearer-header");

    assert_eq!(m.sessioninfo(&token).await.status, 200);
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused_and_in_the_header_accepted() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let in_query = m
        .get(&format!("/api/users/sessioninfo?access_token={token}"))
        .await;
    assert_unauthorized(&in_query, "bearer-header");
    assert!(
        !in_query.body.contains(&token),
        "the error does not echo the token: {}",
        in_query.body
    );

    // Even with the header as well, a token in the URL is refused (it has leaked already).
    let both = m
        .send(
            m.http
                .get(m.url(&format!("/api/users/sessioninfo?access_token={token}")))
                .bearer_auth(&token),
        )
        .await;
    assert_unauthorized(&both, "bearer-header");

    assert_eq!(m.sessioninfo(&token).await.status, 200);
}

#[tokio::test]
async fn oauth_client_credentials_as_basic_are_refused_and_bearer_accepted() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let basic = m
        .send(
            m.http
                .get(m.url("/api/users/sessioninfo"))
                .basic_auth(WEB.client_id, Some(WEB.client_secret)),
        )
        .await;
    // Basic is for API keys; a client id is not one, and the hint says so. The challenge is
    // an API key's.
    assert_rejected(&basic, 401, "api-key-known");
    assert_eq!(
        basic.header("www-authenticate"),
        Some("Basic realm=\"onshape\"")
    );
    assert!(basic.body.contains("client id"), "{}", basic.body);

    let raw_token = m
        .send(
            m.http
                .get(m.url("/api/users/sessioninfo"))
                .header("authorization", &token),
        )
        .await;
    assert_unauthorized(&raw_token, "bearer-header");

    assert_eq!(m.sessioninfo(&token).await.status, 200);
}

#[tokio::test]
async fn an_unknown_token_is_refused() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let unknown = m
        .sessioninfo("thisTokenWasNeverIssuedByTheMock00000000")
        .await;
    assert_unauthorized(&unknown, "access-token-valid");

    assert_eq!(m.sessioninfo(&token).await.status, 200);
}

#[tokio::test]
async fn an_access_token_expires_after_60_minutes() {
    let m = spawn_mock().await;
    let (token, refresh) = m.tokens(WEB).await;

    m.advance(3599).await;
    assert_eq!(
        m.sessioninfo(&token).await.status,
        200,
        "still valid at 3599 s"
    );

    m.advance(2).await; // 3601 s
    let expired = m.sessioninfo(&token).await;
    assert_unauthorized(&expired, "access-token-expired");

    let (fresh, _) = assert_tokens(&m.refresh(WEB, &refresh).await);
    assert_eq!(
        m.sessioninfo(&fresh).await.status,
        200,
        "a refreshed token works"
    );
}

#[tokio::test]
async fn a_token_of_a_revoked_grant_is_refused() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    assert_eq!(
        m.sessioninfo(&token).await.status,
        200,
        "works before the revocation"
    );

    let revoke = m
        .post_json(
            "/__mock/grants/revoke",
            json!({ "user": ALICE, "client_id": WEB.client_id }),
        )
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.body);

    let r = m.sessioninfo(&token).await;
    assert_unauthorized(&r, "grant-active");

    let (again, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&again).await.status, 200, "a new grant works");
}

// ----- scopes and light users --------------------------------------------------------------

#[tokio::test]
async fn writing_and_deleting_need_their_scopes() {
    let m = spawn_mock().await;
    let (read_only, _) = web_tokens(&m, ALICE, None, &[("scope", "OAuth2Read")]).await;
    let (full, _) = m.tokens(WEB).await;

    let create = api_json(
        &m,
        Method::POST,
        "/api/documents",
        &read_only,
        json!({ "name": "Bracket" }),
    )
    .await;
    assert_rejected(&create, 403, "scope-sufficient");
    assert!(
        create
            .header("www-authenticate")
            .is_some_and(|c| c.contains("insufficient_scope")),
        "error=\"insufficient_scope\": {:?}",
        create.header("www-authenticate")
    );
    let delete = m
        .api(
            Method::DELETE,
            &format!("/api/documents/{}", ACME_DOCS[0]),
            &read_only,
        )
        .await;
    assert_rejected(&delete, 403, "scope-sufficient");
    assert_eq!(
        ids(&m.api(Method::GET, "/api/documents", &read_only).await).len(),
        2,
        "reading is allowed"
    );

    let created = api_json(
        &m,
        Method::POST,
        "/api/documents",
        &full,
        json!({ "name": "Bracket" }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["name"], "Bracket");
    let did = created.json()["id"]
        .as_str()
        .expect("new document id")
        .to_owned();

    let deleted = m
        .api(Method::DELETE, &format!("/api/documents/{did}"), &full)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let gone = m
        .api(Method::GET, &format!("/api/documents/{did}"), &full)
        .await;
    assert_rejected(&gone, 403, "api-route");
    assert_eq!(
        gone.json()["message"],
        "Resource does not exist, or you do not have permission to access it."
    );
}

#[tokio::test]
async fn a_light_user_can_read_but_not_write() {
    let m = spawn_mock().await;
    let (carol, _) = m.tokens_as(DESKTOP, CAROL).await;

    let create = api_json(
        &m,
        Method::POST,
        "/api/documents",
        &carol,
        json!({ "name": "Should not exist" }),
    )
    .await;
    assert_rejected(&create, 403, "light-user-read-only");

    let list = m.api(Method::GET, "/api/documents", &carol).await;
    assert_eq!(ids(&list), [GLOBEX_DOC], "Carol reads Globex's documents");
    assert!(
        !list.body.contains("Should not exist"),
        "nothing was created: {}",
        list.body
    );

    // The same app and call for a full user is accepted.
    let (bob, _) = m.tokens_as(DESKTOP, BOB).await;
    let ok = api_json(
        &m,
        Method::POST,
        "/api/documents",
        &bob,
        json!({ "name": "Allowed" }),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

// ----- documents -----------------------------------------------------------------------------

#[tokio::test]
async fn documents_are_per_company() {
    let m = spawn_mock().await;
    let (globex, _) = web_tokens(&m, BOB, Some(GLOBEX), &[]).await;
    let (acme, _) = web_tokens(&m, BOB, Some(ACME), &[]).await;

    assert_eq!(
        ids(&m.api(Method::GET, "/api/documents", &globex).await),
        [GLOBEX_DOC]
    );
    let mut acme_ids = ids(&m.api(Method::GET, "/api/documents", &acme).await);
    acme_ids.sort();
    assert_eq!(acme_ids, ACME_DOCS);

    let other = m
        .api(
            Method::GET,
            &format!("/api/documents/{}", ACME_DOCS[0]),
            &globex,
        )
        .await;
    // As the real service answers: 403, the same as for a document that does not exist.
    assert_rejected(&other, 403, "company-member");
    assert_eq!(
        other.json()["message"],
        "Resource does not exist, or you do not have permission to access it."
    );
    assert!(
        other.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("Acme Robotics")),
        "the hint names the document's company: {}",
        other.body
    );
    let own = m
        .api(
            Method::GET,
            &format!("/api/documents/{}", ACME_DOCS[0]),
            &acme,
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["id"], ACME_DOCS[0]);

    let delete_other = m
        .api(
            Method::DELETE,
            &format!("/api/documents/{GLOBEX_DOC}"),
            &acme,
        )
        .await;
    assert_rejected(&delete_other, 403, "company-member");
    assert_eq!(
        ids(&m.api(Method::GET, "/api/documents", &globex).await),
        [GLOBEX_DOC],
        "still there"
    );
}

#[tokio::test]
async fn documents_are_paged_by_20() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;
    let before = ids(&m.api(Method::GET, "/api/documents", &token).await).len();
    assert!(before < 20);
    let mut created = Vec::new();
    for i in 0..25 {
        let r = api_json(
            &m,
            Method::POST,
            "/api/documents",
            &token,
            json!({ "name": format!("Part {i}") }),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        created.push(r.json()["id"].as_str().expect("id").to_owned());
    }
    let total = before + 25;

    let first = m.api(Method::GET, "/api/documents", &token).await;
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 20, "a page holds 20");
    let next = first.json()["next"]
        .as_str()
        .expect("a next link on the first page")
        .to_owned();
    assert!(
        first.json()["previous"].is_null(),
        "no previous on the first page: {}",
        first.body
    );

    let second = m.send(m.http.get(&next).bearer_auth(&token)).await;
    let second_ids = ids(&second);
    assert_eq!(
        second_ids.len(),
        total - 20,
        "the second page holds the rest"
    );
    assert!(
        second.json()["previous"].as_str().is_some(),
        "a previous link on the second page: {}",
        second.body
    );
    assert!(
        second.json()["next"].is_null(),
        "no next on the last page: {}",
        second.body
    );

    let mut all: Vec<String> = first_ids.into_iter().chain(second_ids).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "pages do not overlap");
    assert!(
        created.iter().all(|c| all.contains(c)),
        "every created document is listed"
    );
}

// ----- versions and routes ---------------------------------------------------------------------

#[tokio::test]
async fn versioned_paths_report_their_version() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let unversioned = m.api(Method::GET, "/api/documents", &token).await;
    assert_eq!(unversioned.status, 200);
    assert_eq!(unversioned.header("x-api-version"), Some("0"));

    let v6 = m.api(Method::GET, "/api/v6/documents", &token).await;
    assert_eq!(v6.status, 200, "{}", v6.body);
    assert_eq!(v6.header("x-api-version"), Some("6"));
    assert_eq!(ids(&v6).len(), 2);

    let v99 = m.api(Method::GET, "/api/v99/documents", &token).await;
    assert_eq!(v99.status, 200, "{}", v99.body);
    assert_eq!(
        v99.header("x-api-version"),
        Some("17"),
        "an unknown newer version means the newest"
    );
    let v17 = m.api(Method::GET, "/api/v17/documents", &token).await;
    assert_eq!(v17.status, 200, "{}", v17.body);
    assert_eq!(v17.header("x-api-version"), Some("17"), "v17 is current");
}

#[tokio::test]
async fn an_unknown_api_route_is_404() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let unknown = m.api(Method::GET, "/api/partstudios/d/abc", &token).await;
    assert_rejected(&unknown, 404, "api-route");
    let wrong_method = m.api(Method::PUT, "/api/documents", &token).await;
    assert_rejected(&wrong_method, 405, "api-route");

    assert_eq!(
        m.api(Method::GET, "/api/documents", &token).await.status,
        200
    );
}

#[tokio::test]
async fn a_bearer_token_outside_api_is_refused() {
    let m = spawn_mock().await;
    let (token, _) = m.tokens(WEB).await;

    let outside = m.api(Method::GET, "/documents/abc", &token).await;
    assert_rejected(&outside, 400, "token-only-for-api");

    let without_token = m.get("/documents/abc").await;
    assert_rejected(&without_token, 404, "api-route");

    assert_eq!(
        m.api(Method::GET, "/api/documents", &token).await.status,
        200
    );
}

#[tokio::test]
async fn with_separate_origins_the_api_is_only_on_the_api_origin() {
    let m = spawn_two_origins().await;
    let (token, _) = m.tokens(WEB).await;

    let on_oauth = m.sessioninfo(&token).await;
    assert_rejected(&on_oauth, 404, "api-route");

    let on_api = m
        .send(
            m.http
                .get(format!("{}/api/users/sessioninfo", m.mock.api_url()))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(on_api.status, 200, "{}", on_api.body);
    assert_eq!(on_api.json()["clientId"], WEB.client_id);
}
