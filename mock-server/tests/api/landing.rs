//! The start page (`GET /`) and the request inspector (`/__mock/ui`, the log as HAR).

use mock_server::form::encode;

use crate::helpers::*;

#[tokio::test]
async fn the_start_page_lists_apps_with_working_authorize_links_users_and_the_control_api() {
    let m = spawn_mock().await;
    let page = m.get("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    for expected in [
        "Acme Web Previewer",
        "Acme Desktop Exporter",
        WEB.client_id,
        "alice@example.com",
        "Carol Light <span class=\"note\">(light user: read-only)</span>",
        "Globex Fabrication",
        "professional",
        "POST &#x2f;__mock&#x2f;clock&#x2f;advance",
        "onshape-mock token --user alice@example.com",
        "href=\"/__mock/ui\"",
    ] {
        assert!(
            page.body.contains(expected),
            "`{expected}` in {}",
            page.body
        );
    }
    assert!(
        !page.body.contains(WEB.client_secret),
        "no client secret on the page"
    );
    // Each authorize link is a valid authorization request: it opens the sign-in page.
    let links: Vec<String> = page
        .body
        .split("class=\"authorize\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|l| l.replace("&amp;", "&").replace("&#x2f;", "/"))
        .collect();
    assert_eq!(links.len(), 4, "one per redirect URI: {links:?}");
    for link in &links {
        let r = m.get(link).await;
        assert_eq!(r.status, 200, "{link}: {}", r.body);
        assert!(r.body.contains("Sign in to Onshape"), "{link}");
    }
}

#[tokio::test]
async fn the_inspector_page_and_the_har_show_the_log_without_logging_themselves() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let refused = m.get("/oauth/token").await;
    assert_rejected(&refused, 401, "token-post");
    let ui = m.get("/__mock/ui").await;
    assert_eq!(ui.status, 200);
    assert!(
        ui.body.contains("Download HAR") && ui.body.contains("/__mock/requests?limit="),
        "{}",
        ui.body
    );

    let har = m.get("/__mock/requests.har").await;
    assert_eq!(har.status, 200);
    assert!(har
        .header("content-disposition")
        .is_some_and(|d| d.contains("onshape-mock.har")));
    let doc = har.json();
    assert_eq!(doc["log"]["version"], "1.2");
    let entries = doc["log"]["entries"].as_array().expect("entries");
    let token_refusal = entries
        .iter()
        .find(|e| {
            e["request"]["method"] == "GET"
                && e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/oauth/token"))
        })
        .expect("the refused GET is in the HAR");
    assert_eq!(token_refusal["response"]["status"], 401);
    assert!(token_refusal["comment"]
        .as_str()
        .is_some_and(|c| c.contains("rule token-post")));
    assert!(
        entries.iter().all(|e| e["request"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&m.mock.oauth_url()))),
        "absolute URLs on the mock's origin"
    );
    let text = har.body.clone();
    assert!(
        !text.contains(&access),
        "tokens are fingerprints in the HAR"
    );
    assert!(
        !text.contains(WEB.client_secret),
        "secrets are masked in the HAR"
    );

    // Reading the log (JSON, HAR, the page) is not logged; everything else is.
    let before = m.get("/__mock/requests").await.json()["requests"]
        .as_array()
        .expect("list")
        .len();
    m.get("/__mock/ui").await;
    m.get("/__mock/requests.har").await;
    m.get(&format!("/__mock/requests?{}", encode(&[("limit", "5")])))
        .await;
    let after = m.get("/__mock/requests").await.json()["requests"]
        .as_array()
        .expect("list")
        .len();
    assert_eq!(before, after, "reading the log adds nothing to it");
    m.get("/__mock/health").await;
    let last = m.get("/__mock/requests").await.json()["requests"]
        .as_array()
        .expect("list")
        .len();
    assert_eq!(last, after + 1, "other control requests are logged");
}
