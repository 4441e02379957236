//! Memory bounds (issue 8): the request log is bounded in bytes as well as in count and is
//! read a page at a time; documents are bounded.

use mock_server::{Binds, Config};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_request_log_is_bounded_in_bytes_and_each_exchange_is_cut() {
    let m = spawn_mock_with(
        Config {
            max_log_bytes: 256 * 1024,
            ..Config::default()
        },
        Binds::ephemeral(),
    )
    .await;
    let big = "ab ".repeat(20 * 1024);
    for _ in 0..40 {
        let r = m
            .send(m.http.get(m.url("/__mock/health")).header("x-big", &big))
            .await;
        assert_eq!(r.status, 200);
    }
    let bytes = m.mock.state.log().bytes();
    assert!(bytes <= 256 * 1024, "{bytes} bytes kept");
    let log = m.get("/__mock/requests").await.json();
    let requests = log["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 40, "40 cut exchanges fit in 256 KiB");
    let big_header = requests[0]["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h[0] == "x-big")
        .expect("x-big logged")[1]
        .as_str()
        .expect("value")
        .to_owned();
    assert!(
        big_header.len() < 1100 && big_header.contains("…(cut, 614"),
        "{}",
        &big_header[big_header.len() - 40..]
    );
    // Many more than fit: the oldest go, and `dropped` counts them.
    for _ in 0..400 {
        m.send(m.http.get(m.url("/__mock/health")).header("x-big", &big))
            .await;
    }
    assert!(m.mock.state.log().bytes() <= 256 * 1024);
    let log = m.get("/__mock/requests").await.json();
    assert!(
        log["dropped"].as_u64().expect("dropped") > 100,
        "{}",
        log["dropped"]
    );
}

#[tokio::test]
async fn the_request_log_is_read_a_page_at_a_time() {
    let m = spawn_mock().await;
    for _ in 0..5 {
        m.get("/__mock/health").await;
    }
    let first = m.get("/__mock/requests?limit=2").await.json();
    let ids = |page: &serde_json::Value| -> Vec<u64> {
        page["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|e| e["id"].as_u64().expect("id"))
            .collect()
    };
    assert_eq!(ids(&first), [1, 2]);
    assert_eq!(first["next_after"], 2);
    let second = m.get("/__mock/requests?after=2&limit=2").await.json();
    assert_eq!(ids(&second), [3, 4]);
    let rest = m.get("/__mock/requests?after=4").await.json();
    // 5 only: reading the log is not logged.
    assert_eq!(ids(&rest), [5]);
    assert_eq!(rest["next_after"], serde_json::Value::Null);
    let empty = m.get("/__mock/requests?after=1000").await.json();
    assert_eq!(ids(&empty), Vec::<u64>::new());

    for bad in ["limit=0", "limit=1001", "after=-1", "page=2"] {
        let r = m.get(&format!("/__mock/requests?{bad}")).await;
        assert_rejected(&r, 400, "control-request");
    }
}

#[tokio::test]
async fn documents_are_bounded() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let create = |name: String| {
        m.send(
            m.http
                .request(Method::POST, m.url("/api/documents"))
                .bearer_auth(&access)
                .header("content-type", "application/json")
                .body(json!({ "name": name }).to_string()),
        )
    };
    let long = create("n".repeat(mock_server::store::MAX_DOCUMENT_NAME + 1)).await;
    assert_rejected(&long, 400, "api-body");
    assert_eq!(
        create("n".repeat(mock_server::store::MAX_DOCUMENT_NAME))
            .await
            .status,
        200
    );
    {
        let now = m.mock.state.clock().now();
        let mut store = m.mock.state.store();
        while store
            .create_document("filler".into(), None, "nobody".into(), now)
            .is_some()
        {}
    }
    let full = create("One more".into()).await;
    assert_rejected(&full, 403, "mock-capacity");
    m.post_json("/__mock/reset", json!({})).await;
    let (access, _) = m.tokens(WEB).await;
    let again = m
        .send(
            m.http
                .request(Method::POST, m.url("/api/documents"))
                .bearer_auth(&access)
                .header("content-type", "application/json")
                .body(json!({ "name": "After reset" }).to_string()),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
}
