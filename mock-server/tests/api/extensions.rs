//! Extensions: the form's rules (refused and accepted), and firing against a real app on a
//! loopback port — placeholders substituted, Onshape's query parameters added, the answer
//! judged (JSON for Show response, a part number generator's fields, the timeout).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Uri};
use axum::routing::any;
use serde_json::{json, Value};

use crate::helpers::*;

const GRIPPER: &str = "d0c000000000000000000001";

/// A tiny app on a loopback port: records every request, answers what `answer` says for its
/// path (`/json`, `/text`, `/slow`, `/pn`, `/broken`).
struct FakeApp {
    base: String,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

async fn fake_app() -> FakeApp {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(any(move |method: Method, uri: Uri, body: Bytes| {
        let log = log.clone();
        async move {
            log.lock().expect("log").push((
                method.to_string(),
                uri.to_string(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            let path = uri.path().to_owned();
            if path.starts_with("/slow") {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            match path.split('/').nth(1).unwrap_or("") {
                "text" => (axum::http::StatusCode::OK, "done!".to_owned()),
                "broken" => (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "{}".to_owned(),
                ),
                "pn" => (
                    axum::http::StatusCode::OK,
                    r#"{"id":"x","partNumber":"PN-7"}"#.to_owned(),
                ),
                _ => (axum::http::StatusCode::OK, r#"{"message":"ok"}"#.to_owned()),
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeApp { base, seen }
}

impl FakeApp {
    fn last(&self) -> (String, String, String) {
        self.seen
            .lock()
            .expect("log")
            .last()
            .cloned()
            .expect("the app was called")
    }
}

async fn add(m: &TestMock, client_id: &str, form: Value) -> Resp {
    m.post_json(&format!("/__mock/apps/{client_id}/extensions"), form)
        .await
}

async fn fire(m: &TestMock, id: &str, ctx: Value) -> Value {
    let r = m
        .post_json(&format!("/__mock/extensions/{id}/fire"), ctx)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn problems(fired: &Value) -> Vec<(String, String)> {
    fired["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["rule"].as_str().unwrap_or("").to_owned(),
                p["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_extension_form_takes_what_each_location_allows() {
    let m = spawn_mock().await;
    let refused = [
        (
            json!({"name":"A","location":"element-tab","context":"part","action_url":"https://a.example.com/tab"}),
            "context",
        ),
        (
            json!({"name":"A","location":"tree-context-menu","context":"assembly","action_url":"https://a.example.com/x","action_type":"get"}),
            "context",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"https://a.example.com/x"}),
            "action_type",
        ),
        (
            json!({"name":"A","location":"element-right-panel","context":"part","action_url":"https://a.example.com/x","action_type":"get"}),
            "action_type",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"https://a.example.com/x","action_type":"get","action_body":"{}"}),
            "action_body",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"https://a.example.com/x","action_type":"post","action_body":"{\"d\": {$documentId}}"}),
            "action_body",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"https://a.example.com/x","action_type":"open-in-new-window","show_response":true}),
            "show_response",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"http://a.example.com/x","action_type":"get"}),
            "action_url",
        ),
        (
            json!({"name":"A","location":"element-context-menu","context":"part-studio","action_url":"https://a.example.com/x","action_type":"get","icon":"ftp://icon"}),
            "icon",
        ),
        (
            json!({"name":" ","location":"element-tab","action_url":"https://a.example.com/x"}),
            "name",
        ),
    ];
    for (form, field) in refused {
        let r = add(&m, WEB.client_id, form.clone()).await;
        assert_eq!(r.status, 400, "{form}: {}", r.body);
        assert_eq!(r.json()["rule"], "extension-fields", "{form}");
        assert_eq!(r.json()["field"], field, "{form}: {}", r.body);
    }
    assert!(
        m.get(&format!("/__mock/apps/{}/extensions", WEB.client_id))
            .await
            .json()["extensions"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "refusals add nothing"
    );

    let post = add(
        &m,
        WEB.client_id,
        json!({
            "name": "Send to ERP", "location": "element-context-menu", "context": "part-studio",
            "action_url": "https://erp.example.com/{$documentId}/{$workspaceId}/{$docId}/{$featureId}",
            "action_type": "post", "action_body": "{\"doc\":\"{$documentId}\"}", "show_response": true,
            "icon": "data:image/png;base64,iVBORw0KGgo=",
        }),
    )
    .await;
    assert_eq!(post.status, 201, "{}", post.body);
    let warnings = post.json()["warnings"].to_string();
    assert!(
        warnings.contains("{$workspaceId} is deprecated"),
        "{warnings}"
    );
    assert!(
        warnings.contains("{$docId} is not a documented placeholder"),
        "{warnings}"
    );
    assert!(
        warnings.contains("{$featureId} is not replaced at the Element context menu"),
        "{warnings}"
    );

    let tab =
        json!({"name":"Viewer","location":"element-tab","action_url":"https://a.example.com/tab"});
    assert_eq!(add(&m, WEB.client_id, tab.clone()).await.status, 201);
    let second = add(&m, WEB.client_id, tab).await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert_eq!(second.json()["rule"], "extension-one-per-app");
    let not_admin = add(
        &m,
        WEB.client_id,
        json!({"name":"P","location":"element-right-panel","context":"part","action_url":"https://a.example.com/p","as": BOB}),
    )
    .await;
    assert_eq!(
        not_admin.json()["rule"],
        "developer-admin",
        "{}",
        not_admin.body
    );
}

#[tokio::test]
async fn a_fired_action_reaches_the_app_with_its_placeholders_and_onshapes_parameters() {
    let m = spawn_mock().await;
    let app = fake_app().await;
    let r = add(
        &m,
        WEB.client_id,
        json!({
            "name": "Export", "location": "element-context-menu", "context": "part-studio",
            "action_url": format!("{}/json/d/{{$documentId}}/{{$workspaceOrVersion}}/{{$workspaceOrVersionId}}/e/{{$elementId}}?cfg={{$configuration}}", app.base),
            "action_type": "get", "show_response": true,
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().expect("id").to_owned();

    let fired = fire(
        &m,
        &id,
        json!({ "user": ALICE, "document_id": GRIPPER, "element_id": "e1e1e1e1e1e1e1e1e1e1e1e1", "configuration": "size=2 in" }),
    )
    .await;
    assert_eq!(fired["ok"], true, "{fired}");
    assert_eq!(fired["status"], 200);
    let (method, uri, _) = app.last();
    assert_eq!(method, "GET");
    assert!(
        uri.starts_with(&format!("/json/d/{GRIPPER}/w/"))
            && uri.contains("/e/e1e1e1e1e1e1e1e1e1e1e1e1?cfg=size%3D2%20in"),
        "{uri}"
    );
    for param in [
        format!("companyId={ACME}"),
        "userId=a11ce0000000000000000001".to_owned(),
        "locale=en-US".to_owned(),
        format!("clientId={}", WEB.client_id.replace('=', "%3D")),
        "server=http".to_owned(),
    ] {
        assert!(uri.contains(&param), "{param} in {uri}");
    }

    // The same action without an element: the placeholder is named, with the field to give.
    let fired = fire(&m, &id, json!({ "user": ALICE, "document_id": GRIPPER })).await;
    assert_eq!(fired["ok"], false);
    let found = problems(&fired);
    assert!(
        found
            .iter()
            .any(|(rule, m)| rule == "extension-placeholders"
                && m.contains("{$elementId}")
                && m.contains("element_id")),
        "{found:?}"
    );
}

#[tokio::test]
async fn show_response_needs_json_and_a_slow_or_failing_app_is_named() {
    let config = mock_server::Config {
        extension_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let m = spawn_mock_with(config, mock_server::Binds::ephemeral()).await;
    let app = fake_app().await;
    let mut ids = Vec::new();
    for path in ["text", "slow", "broken", "json"] {
        let r = add(
            &m,
            WEB.client_id,
            json!({
                "name": path, "location": "tree-context-menu", "context": "part",
                "action_url": format!("{}/{path}", app.base), "action_type": "post",
                "action_body": "{\"part\":\"{$partId}\",\"doc\":\"{$documentId}\"}", "show_response": true,
            }),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_str().expect("id").to_owned());
    }
    let ctx = json!({ "user": ALICE, "document_id": GRIPPER, "part_id": "J\"D" });
    let text = fire(&m, &ids[0], ctx.clone()).await;
    assert!(
        problems(&text)
            .iter()
            .any(|(r, m)| r == "extension-response" && m.contains("valid JSON")),
        "{text}"
    );
    let (method, _, body) = app.last();
    assert_eq!(method, "POST");
    let sent: Value = serde_json::from_str(&body).expect("the body is JSON");
    assert_eq!(
        sent,
        json!({ "part": "J\"D", "doc": GRIPPER }),
        "values are JSON-escaped"
    );

    let slow = fire(&m, &ids[1], ctx.clone()).await;
    assert!(
        problems(&slow)
            .iter()
            .any(|(r, m)| r == "extension-response" && m.contains("no answer")),
        "{slow}"
    );
    let broken = fire(&m, &ids[2], ctx.clone()).await;
    assert!(
        problems(&broken).iter().any(|(_, m)| m.contains("500")),
        "{broken}"
    );
    let fine = fire(&m, &ids[3], ctx).await;
    assert_eq!(fine["ok"], true, "{fine}");
}

#[tokio::test]
async fn only_the_apps_users_see_its_extensions() {
    let m = spawn_mock().await;
    let r = add(
        &m,
        WEB.client_id,
        json!({"name":"Open","location":"document-list-context-menu","context":"document",
               "action_url":"https://viewer.example.com/{$documentId}","action_type":"open-in-new-window"}),
    )
    .await;
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let refused = m
        .post_json(
            &format!("/__mock/extensions/{id}/fire"),
            json!({ "user": BOB, "document_id": GRIPPER, "company_id": ACME }),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.json()["rule"], "extension-users");
    // Bob is in the Automation team: adding the team shows him the extension.
    m.post_json(
        &format!("/__mock/apps/{}/users", WEB.client_id),
        json!({ "member": "7ea40000000000000000a11a" }),
    )
    .await;
    let opened = fire(
        &m,
        &id,
        json!({ "user": BOB, "document_id": GRIPPER, "company_id": ACME }),
    )
    .await;
    assert_eq!(opened["ok"], true, "{opened}");
    assert_eq!(opened["performed"], false);
    let url = opened["opens"].as_str().expect("a URL to open");
    assert!(
        url.starts_with(&format!("https://viewer.example.com/{GRIPPER}?server=")),
        "{url}"
    );

    // A tab gets the document, workspace and element as query parameters.
    let tab = add(
        &m,
        WEB.client_id,
        json!({"name":"Tab","location":"element-tab","action_url":"https://viewer.example.com/tab"}),
    )
    .await
    .json();
    let tab = fire(
        &m,
        tab["id"].as_str().expect("id"),
        json!({ "user": ALICE, "document_id": GRIPPER, "element_id": "e1e1e1e1e1e1e1e1e1e1e1e1" }),
    )
    .await;
    let url = tab["opens"].as_str().expect("opens");
    assert!(
        url.contains(&format!("documentId={GRIPPER}"))
            && url.contains("&workspaceId=")
            && url.contains("&elementId=e1e1"),
        "{url}"
    );
    // Not on loopback: the request is shown, not sent.
    let remote = add(
        &m,
        WEB.client_id,
        json!({"name":"Remote","location":"element-context-menu","context":"assembly",
               "action_url":"https://erp.example.com/{$documentId}","action_type":"get"}),
    )
    .await
    .json();
    let remote = fire(
        &m,
        remote["id"].as_str().expect("id"),
        json!({ "user": ALICE, "document_id": GRIPPER }),
    )
    .await;
    assert_eq!(remote["performed"], false);
    assert!(remote["not_performed_because"]
        .as_str()
        .is_some_and(|s| s.contains("loopback")));
}

#[tokio::test]
async fn a_part_number_generator_must_answer_an_id_and_a_part_number() {
    let m = spawn_mock().await;
    let app = fake_app().await;
    let mut fired = Vec::new();
    for path in ["pn", "json"] {
        let r = add(
            &m,
            DESKTOP.client_id,
            json!({"name": path, "location":"part-number-generator","action_url": format!("{}/{path}", app.base)}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_str().expect("id").to_owned();
        fired.push(
            fire(
                &m,
                &id,
                json!({ "user": ALICE, "document_id": GRIPPER, "part_id": "JHD" }),
            )
            .await,
        );
        m.send(m.http.delete(m.url(&format!("/__mock/extensions/{id}"))))
            .await;
    }
    assert_eq!(fired[0]["ok"], true, "{}", fired[0]);
    let (method, _, body) = app.last();
    assert_eq!(method, "POST");
    assert!(body.contains("\"partId\":\"JHD\""), "{body}");
    assert!(
        problems(&fired[1])
            .iter()
            .any(|(_, m)| m.contains("`partNumber`")),
        "{}",
        fired[1]
    );
}
