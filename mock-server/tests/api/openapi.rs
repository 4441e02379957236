//! `/api` served from an OpenAPI document (`serve --openapi`), with the test document
//! `openapi/onshape-test.json` (written for these tests in the shape of Onshape's: path
//! ids, `wvm`, enums, required body fields, `allOf`, discriminators, a security-less
//! operation, a Share-scoped one, a redirecting export).
//!
//! The walk: every operation answers a valid request (2xx, its body valid against the
//! response schema, the same body twice), refuses one without its scope (403 naming the
//! scope) and refuses one missing a required parameter or body field (400 naming it).

use std::sync::Arc;

use mock_server::openapi::{example::Fill, Location, Operation, Security, Spec};
use mock_server::{Binds, Config};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// The refusal's message and hint, as a client would print them.
fn message(r: &Resp) -> String {
    let v = r.json();
    format!(
        "{} {}",
        v["message"].as_str().unwrap_or(""),
        v["hint"].as_str().unwrap_or("")
    )
}

fn spec() -> Spec {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/openapi/onshape-test.json"
    );
    Spec::load(std::path::Path::new(path)).expect("the test document loads")
}

async fn spawn() -> (TestMock, Arc<Spec>) {
    let spec = Arc::new(spec());
    let config = Config {
        openapi: Some(spec.clone()),
        ..Config::default()
    };
    (spawn_mock_with(config, Binds::ephemeral()).await, spec)
}

/// An API key of Alice's in Acme with `scopes`: (access, secret).
async fn key(m: &TestMock, scopes: &[&str]) -> (String, String) {
    let created = m
        .post_json(
            "/__mock/apikeys",
            json!({ "name": "Walker", "user": ALICE, "company_id": ACME, "scopes": scopes }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let k = created.json();
    (
        k["access_key"].as_str().expect("access").to_owned(),
        k["secret_key"].as_str().expect("secret").to_owned(),
    )
}

const ALL: [&str; 6] = [
    "OAuth2ReadPII",
    "OAuth2Read",
    "OAuth2Write",
    "OAuth2Delete",
    "OAuth2Purchase",
    "OAuth2Share",
];

/// One request to make: method, path and query, headers, JSON body.
#[derive(Clone)]
struct Req {
    method: Method,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

/// Whose credentials a request carries.
#[derive(Clone, Copy)]
enum Who<'a> {
    Token(&'a str),
    Key(&'a (String, String)),
}

/// POSTs `body` as JSON to `target` with `who`'s credentials and `headers`.
async fn post(
    m: &TestMock,
    who: Who<'_>,
    target: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Resp {
    Req {
        method: Method::POST,
        target: target.to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: Some(body.clone()),
    }
    .send_as(m, who)
    .await
}

impl Req {
    async fn send(&self, m: &TestMock, key: &(String, String)) -> Resp {
        self.send_as(m, Who::Key(key)).await
    }

    async fn send_as(&self, m: &TestMock, who: Who<'_>) -> Resp {
        let r = m.http.request(self.method.clone(), m.url(&self.target));
        let mut r = match who {
            Who::Token(t) => r.bearer_auth(t),
            Who::Key(k) => r.basic_auth(&k.0, Some(&k.1)),
        };
        for (k, v) in &self.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &self.body {
            r = r.json(b);
        }
        m.send(r).await
    }
}

fn fill() -> Fill<'static> {
    Fill {
        seed: 7,
        href: "http://localhost/",
        base: "http://localhost",
        known: &[],
    }
}

/// A parameter's value as text: the schema's example, or one shaped like its name.
fn param_value(spec: &Spec, op: &Operation, name: &str, did: &str) -> String {
    match name {
        "did" => return did.to_owned(),
        "wvm" => return "w".to_owned(),
        "wid" | "wvmid" => return mock_server::api::workspace_id(did),
        "eid" | "vid" | "mid" => return "e1e2e3e4e5e6e7e8e9e0a1a2".to_owned(),
        _ => {}
    }
    let p = op.params.iter().find(|p| p.name == name).expect("declared");
    match p.schema.map(|s| spec.schemas.example(s, &fill())) {
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(","),
        Some(v) => v.to_string(),
        None => "JHD".to_owned(),
    }
}

/// A valid request for `op`, on document `did`.
fn valid(spec: &Spec, op: &Operation, did: &str) -> Req {
    let mut path = op.path.clone();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for p in &op.params {
        let value = param_value(spec, op, &p.name, did);
        match p.location {
            Location::Path => path = path.replace(&format!("{{{}}}", p.name), &value),
            Location::Query if p.required => query.push(format!("{}={value}", p.name)),
            Location::Header if p.required => headers.push((p.name.clone(), value)),
            _ => {}
        }
    }
    let body = op
        .body
        .as_ref()
        .and_then(|b| b.json)
        .map(|s| spec.schemas.example(s, &fill()));
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    Req {
        method: op.method.clone(),
        target: format!("/api/v10{path}{q}"),
        headers,
        body,
    }
}

/// A request missing what `op` requires, and the name the refusal must give; `None` when
/// the operation requires nothing a client could leave out.
fn invalid(spec: &Spec, op: &Operation, did: &str) -> Option<(Req, &'static str, String)> {
    let ok = valid(spec, op, did);
    if let Some(p) = op
        .params
        .iter()
        .find(|p| p.required && p.location != Location::Path)
    {
        let mut r = ok.clone();
        r.target = r.target.replace(&format!("{}=", p.name), "dropped=");
        r.headers.retain(|(k, _)| *k != p.name);
        return Some((r, "api-parameters", format!("`{}`", p.name)));
    }
    if let Some(schema) = op.body.as_ref().and_then(|b| b.json) {
        let required = spec.schemas.node(schema).required.first()?.to_string();
        let mut r = ok;
        r.body = Some(json!({}));
        return Some((r, "api-body", format!("`{required}` is required")));
    }
    if op.params.iter().any(|p| p.name == "did") {
        let mut r = ok;
        r.target = r.target.replace(did, "not-an-id");
        return Some((r, "api-parameters", "`did`".to_owned()));
    }
    None
}

#[tokio::test]
async fn every_operation_answers_refuses_without_its_scope_and_refuses_what_is_missing() {
    let (m, spec) = spawn().await;
    let walked = walk(&m, &spec).await;
    assert_eq!(walked.answered, 14, "every operation answered");
    assert_eq!(
        walked.refused_for_scope, 12,
        "every secured operation refused without its scope"
    );
    assert_eq!(
        walked.refused_as_invalid, 11,
        "every operation with something required"
    );
}

/// The same walk over the document at `ONSHAPE_OPENAPI` (Onshape's own: `.ci/run` downloads
/// it when cad.onshape.com answers; README: The whole REST API).
#[tokio::test]
async fn every_operation_of_the_document_in_onshape_openapi_is_walked() {
    let Ok(path) = std::env::var("ONSHAPE_OPENAPI") else {
        eprintln!("ONSHAPE_OPENAPI is not set: Onshape's own document is not walked");
        return;
    };
    let spec = Arc::new(Spec::load(std::path::Path::new(&path)).expect("the document loads"));
    let config = Config {
        openapi: Some(spec.clone()),
        ..Config::default()
    };
    let m = spawn_mock_with(config, Binds::ephemeral()).await;
    let walked = walk(&m, &spec).await;
    eprintln!(
        "{path}: {} operations answered, {} refused without their scope, {} refused as invalid",
        walked.answered, walked.refused_for_scope, walked.refused_as_invalid
    );
    assert_eq!(walked.answered, spec.operations.len());
}

struct Walked {
    answered: usize,
    refused_for_scope: usize,
    refused_as_invalid: usize,
}

/// Every operation of `spec`: refused without its scope, refused without what it requires,
/// answered when valid (the answer fitting its schema, the same twice).
async fn walk(m: &TestMock, spec: &Spec) -> Walked {
    let mut keys: std::collections::HashMap<String, (String, String)> = Default::default();
    let full = key(m, &ALL).await;
    // A document of the walk's own, created through the API (deleted last).
    let created = post(
        m,
        Who::Key(&full),
        "/api/v10/documents",
        &[],
        &json!({ "name": "Walked" }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let did = created.json()["id"].as_str().expect("id").to_owned();

    let mut ops: Vec<&Operation> = spec.operations.iter().collect();
    ops.sort_by_key(|o| {
        (
            o.method == Method::DELETE,
            o.label() == "DELETE /documents/{did}",
        )
    });
    let mut walked = Walked {
        answered: 0,
        refused_for_scope: 0,
        refused_as_invalid: 0,
    };
    for op in ops {
        let label = op.label();
        // Without the scope (first, so that DELETE still finds its document after).
        match &op.security {
            Security::AnyOf(reqs) if reqs[0].unknown.is_empty() => {
                let needed = mock_server::domain::Scope::ALL
                    .into_iter()
                    .find(|s| reqs[0].scopes.contains(*s))
                    .expect("a scope");
                if !keys.contains_key(needed.name()) {
                    let others: Vec<&str> =
                        ALL.into_iter().filter(|s| *s != needed.name()).collect();
                    keys.insert(needed.name().to_owned(), key(m, &others).await);
                }
                let r = valid(spec, op, &did).send(m, &keys[needed.name()]).await;
                assert_rejected(&r, 403, "scope-sufficient");
                assert!(r.body.contains(needed.name()), "{label}: {}", r.body);
                assert!(r.body.contains(&label), "{label} named: {}", r.body);
                walked.refused_for_scope += 1;
            }
            Security::AnyOf(_) => {
                // A scope no application can hold (OAuth2Internal): refused to everyone.
                let r = valid(spec, op, &did).send(m, &full).await;
                assert_rejected(&r, 403, "scope-sufficient");
                walked.refused_for_scope += 1;
                continue;
            }
            Security::Open => {
                if !keys.contains_key("least") {
                    keys.insert("least".into(), key(m, &["OAuth2ReadPII"]).await);
                }
                let r = valid(spec, op, &did).send(m, &keys["least"]).await;
                assert!(
                    r.status < 400,
                    "{label} needs no scope: {} {}",
                    r.status,
                    r.body
                );
            }
        }
        if let Some((bad, rule, named)) = invalid(spec, op, &did) {
            let r = bad.send(m, &full).await;
            assert_rejected(&r, 400, rule);
            assert!(r.body.contains(&named), "{label}: {named} in {}", r.body);
            walked.refused_as_invalid += 1;
        }
        // Valid, twice: the same answer (but for what changes state).
        let req = valid(spec, op, &did);
        let r = req.send(m, &full).await;
        let redirected = r.status == 307;
        let r = if redirected {
            let to = r.location().to_owned();
            let to = to
                .split_once("/api")
                .map(|(_, p)| format!("/api{p}"))
                .expect("back at the mock");
            Req {
                target: to,
                ..req.clone()
            }
            .send(m, &full)
            .await
        } else {
            r
        };
        assert!(
            (200..300).contains(&r.status),
            "{label}: {} {}",
            r.status,
            r.body
        );
        let stateful = mock_server::api::stateful_operation(op);
        // The built-in answers (sessioninfo, documents) are the mock's own Onshape-shaped
        // bodies, not generated: Onshape's document does not map their `jsonType`.
        if let (true, Some(schema), false) = (op.reply.is_json(), op.reply.schema, stateful) {
            let body: Value = serde_json::from_str(&r.body).expect("JSON");
            if let Err(v) = spec.schemas.check(schema, &body) {
                panic!(
                    "{label}: the answer does not fit its schema: {v}\n{}",
                    r.body
                );
            }
        }
        let changes_state = matches!(
            label.as_str(),
            "POST /documents" | "DELETE /documents/{did}"
        );
        if !changes_state && !redirected {
            let again = req.send(m, &full).await;
            assert_eq!(again.body, r.body, "{label}: deterministic");
        }
        walked.answered += 1;
    }
    walked
}

#[tokio::test]
async fn body_violations_name_the_field_and_the_schema() {
    let (m, _) = spawn().await;
    let (token, _) = m.tokens(WEB).await;
    let post = |path: &'static str, body: Value| {
        let m = &m;
        let token = token.clone();
        async move { post(m, Who::Token(&token), path, &[], &body).await }
    };
    let r = post("/api/documents", json!({ "description": "no name" })).await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.json()["message"].as_str().is_some_and(
            |s| s.starts_with("POST /documents: `name` is required in BTDocumentParams")
        ),
        "{}",
        r.body
    );
    let r = post("/api/documents", json!({ "name": "x", "ownerType": 7 })).await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.body.contains("/ownerType") && r.body.contains("one of 0, 1, 2"),
        "{}",
        r.body
    );
    let ok = post(
        "/api/documents",
        json!({ "name": "Kept", "ownerType": 1, "tags": ["a"] }),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let features = "/api/v6/partstudios/d/d0c000000000000000000001/w/100000000000000000000c0d/e/e1e2e3e4e5e6e7e8e9e0a1a2/features";
    let sketch = |extra: Value| {
        let mut f =
            json!({ "btType": "BTMSketch-151", "featureType": "newSketch", "name": "Sketch 1" });
        if let (Some(f), Value::Object(e)) = (f.as_object_mut(), extra) {
            f.extend(e);
        }
        json!({ "feature": f })
    };
    // The discriminator picks the subtype; an unknown one is named with the known ones.
    let r = post(
        features,
        json!({ "feature": { "btType": "BTMNope-1", "name": "x" } }),
    )
    .await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.body.contains("/feature/btType") && r.body.contains("BTMSketch-151"),
        "{}",
        r.body
    );
    let r = post(
        features,
        json!({ "feature": { "name": "x", "featureType": "f" } }),
    )
    .await;
    assert_rejected(&r, 400, "api-body");
    assert!(r.body.contains("`btType` is required"), "{}", r.body);
    // allOf: the subtype answers for its base's required fields.
    let r = post(
        features,
        json!({ "feature": { "btType": "BTMSketch-151", "name": "x" } }),
    )
    .await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.body
            .contains("`featureType` is required in BTMFeature-134"),
        "{}",
        r.body
    );
    // Nested, through an array and a second discriminator.
    let bad_param = sketch(
        json!({ "parameters": [{ "btType": "BTMParameterQuantity-147", "parameterId": "depth" }] }),
    );
    let r = post(features, bad_param).await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.body
            .contains("`expression` is required in BTMParameterQuantity-147")
            && r.body.contains("/feature/parameters/0"),
        "{}",
        r.body
    );
    let good = sketch(
        json!({ "parameters": [{ "btType": "BTMParameterQuantity-147", "parameterId": "depth", "expression": "1 in" }], "entities": [] }),
    );
    let r = post(features, good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["btType"], "BTFeatureDefinitionResponse-1617");

    // Not JSON, and not the media type.
    let r = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{"),
        )
        .await;
    assert_rejected(&r, 400, "api-body");
    let r = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body("name=x"),
        )
        .await;
    assert_rejected(&r, 415, "api-body");
    let r = m
        .send(m.http.post(m.url("/api/documents")).bearer_auth(&token))
        .await;
    assert_rejected(&r, 400, "api-body");
    assert!(
        r.body.contains("needs a body (BTDocumentParams)"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn parameters_are_checked_by_type_enum_and_shape() {
    let (m, _) = spawn().await;
    let (token, _) = m.tokens(WEB).await;
    let get = |path: String| {
        let m = &m;
        let token = token.clone();
        async move { m.api(Method::GET, &path, &token).await }
    };
    let doc = "d0c000000000000000000001";
    let ws = mock_server::api::workspace_id(doc);
    let ok = get("/api/documents?sortColumn=name&limit=5".to_owned()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    for (query, named) in [
        (
            "sortColumn=size",
            "`sortColumn` must be one of \"name\", \"modifiedAt\", \"createdAt\", got `size`",
        ),
        ("limit=five", "`limit` must be an integer, got `five`"),
        ("limit=99999999999", "`limit` must fit in 32 bits"),
        ("limit=1&limit=2", "`limit` appears 2 times"),
    ] {
        let r = get(format!("/api/documents?{query}")).await;
        assert_rejected(&r, 400, "api-parameters");
        assert!(message(&r).contains(named), "{query}: {}", r.body);
    }
    let elements = |wvm: &str, id: &str| format!("/api/documents/d/{doc}/{wvm}/{id}/elements");
    assert_eq!(get(elements("w", &ws)).await.status, 200);
    let r = get(elements("x", &ws)).await;
    assert_rejected(&r, 400, "api-parameters");
    assert!(
        r.body
            .contains("`wvm` must be w (workspace), v (version) or m (microversion)"),
        "{}",
        r.body
    );
    let r = get(elements("w", "1234")).await;
    assert_rejected(&r, 400, "api-parameters");
    assert!(
        r.body
            .contains("`wvmid` must be an Onshape id: 24 hex characters"),
        "{}",
        r.body
    );
    let r = get(format!("{}?elementType=SKETCH", elements("w", &ws))).await;
    assert_rejected(&r, 400, "api-parameters");
    // A required header.
    let hook =
        json!({ "url": "https://example.org/hook", "events": ["webhook.ping"], "options": {} });
    let r = post(&m, Who::Token(&token), "/api/webhooks", &[], &hook).await;
    assert_rejected(&r, 400, "api-parameters");
    assert!(
        r.body
            .contains("the header parameter `X-Onshape-Webhook-Version` is required"),
        "{}",
        r.body
    );
    let r = post(
        &m,
        Who::Token(&token),
        "/api/webhooks",
        &[("X-Onshape-Webhook-Version", "1")],
        &hook,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn unknown_paths_name_the_closest_operations_and_wrong_methods_say_allow() {
    let (m, _) = spawn().await;
    let (token, _) = m.tokens(WEB).await;
    let r = m
        .api(Method::GET, "/api/v6/partstudio/d/d0c000000000000000000001/w/100000000000000000000c0d/e/e1e2e3e4e5e6e7e8e9e0a1a2/features", &token)
        .await;
    assert_rejected(&r, 404, "api-route");
    assert!(
        r.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("GET /partstudios/d/{did}/{wvm}/{wvmid}/e/{eid}/features")),
        "{}",
        r.body
    );
    let r = m.api(Method::PUT, "/api/documents", &token).await;
    assert_rejected(&r, 405, "api-route");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let r = m
        .api(
            Method::POST,
            "/api/documents/d0c000000000000000000001",
            &token,
        )
        .await;
    assert_rejected(&r, 405, "api-route");
    assert_eq!(r.header("allow"), Some("GET, DELETE"));
}

#[tokio::test]
async fn scopes_come_from_the_operation_for_tokens_and_keys_and_operations_without_security_need_none(
) {
    let (m, _) = spawn().await;
    let read_only = {
        m.script_consent("grant", ALICE, None).await;
        let r = m
            .authorize(
                WEB,
                &[
                    ("redirect_uri", WEB.redirect),
                    ("state", "s"),
                    ("scope", "OAuth2ReadPII"),
                ],
            )
            .await;
        let code = r.location_param("code").expect("code");
        assert_tokens(&m.redeem(WEB, &code).await).0
    };
    let r = m
        .api(
            Method::GET,
            "/api/documents/d0c000000000000000000001",
            &read_only,
        )
        .await;
    assert_rejected(&r, 403, "scope-sufficient");
    assert!(
        r.body
            .contains("GET /documents/{did} needs the OAuth2Read scope"),
        "{}",
        r.body
    );
    // No `security`: any token, no scope.
    let r = m.api(Method::GET, "/api/companies", &read_only).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // …but a token all the same: every /api call is authenticated.
    let r = m.get("/api/companies").await;
    assert_rejected(&r, 401, "bearer-header");
    // Share: the WEB app never registered it.
    let (full, _) = m.tokens(WEB).await;
    let share = json!({ "entries": [{ "email": "bob@example.com" }], "permissionSet": ["READ"] });
    let r = post(
        &m,
        Who::Token(&full),
        "/api/documents/d0c000000000000000000001/share",
        &[],
        &share,
    )
    .await;
    assert_rejected(&r, 403, "scope-sufficient");
    assert!(r.body.contains("OAuth2Share"), "{}", r.body);
    let sharer = key(&m, &["OAuth2Read", "OAuth2Share"]).await;
    let r = post(
        &m,
        Who::Key(&sharer),
        "/api/documents/d0c000000000000000000001/share",
        &[],
        &share,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Both scopes of a requirement are needed (webhooks: Read and Write).
    let reader = key(&m, &["OAuth2Read"]).await;
    let hook =
        json!({ "url": "https://example.org/hook", "events": ["webhook.ping"], "options": {} });
    let r = post(
        &m,
        Who::Key(&reader),
        "/api/webhooks",
        &[("X-Onshape-Webhook-Version", "1")],
        &hook,
    )
    .await;
    assert_rejected(&r, 403, "scope-sufficient");
    assert!(r.body.contains("OAuth2Write"), "{}", r.body);
}

#[tokio::test]
async fn documents_are_stateful_across_the_whole_api() {
    let (m, _) = spawn().await;
    let (token, _) = m.tokens(WEB).await;
    let created = post(
        &m,
        Who::Token(&token),
        "/api/v10/documents",
        &[],
        &json!({ "name": "Stateful" }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let doc = created.json();
    let did = doc["id"].as_str().expect("id").to_owned();
    let ws = doc["defaultWorkspace"]["id"]
        .as_str()
        .expect("workspace")
        .to_owned();
    let listed = m.api(Method::GET, "/api/documents", &token).await;
    assert!(listed.body.contains(&did), "{}", listed.body);
    assert_eq!(
        m.api(Method::GET, &format!("/api/documents/{did}"), &token)
            .await
            .status,
        200
    );
    let features = format!("/api/partstudios/d/{did}/w/{ws}/e/e1e2e3e4e5e6e7e8e9e0a1a2/features");
    let r = m.api(Method::GET, &features, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // What the path says, the answer repeats.
    let elements = m
        .api(
            Method::GET,
            &format!("/api/documents/d/{did}/w/{ws}/elements"),
            &token,
        )
        .await;
    assert_eq!(elements.status, 200, "{}", elements.body);

    let gone = m
        .api(Method::DELETE, &format!("/api/documents/{did}"), &token)
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(!m
        .api(Method::GET, "/api/documents", &token)
        .await
        .body
        .contains(&did));
    for path in [format!("/api/documents/{did}"), features] {
        let r = m.api(Method::GET, &path, &token).await;
        assert_rejected(&r, 403, "api-route");
        assert!(
            r.body.contains("Resource does not exist"),
            "{path}: {}",
            r.body
        );
    }
    // Another company's document is refused by every operation, as by the built-in ones.
    let globex = "d0c000000000000000000003";
    let r = m
        .api(
            Method::GET,
            &format!(
                "/api/documents/d/{globex}/w/{}/elements",
                mock_server::api::workspace_id(globex)
            ),
            &token,
        )
        .await;
    assert_rejected(&r, 403, "company-member");
}

#[tokio::test]
async fn the_document_is_served_at_api_openapi_and_summarized_on_the_control_api() {
    let (m, spec) = spawn().await;
    let r = m.get("/api/openapi").await;
    assert_eq!(r.status, 200, "no credentials needed");
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).expect("JSON")["info"]["version"],
        "1.0-test"
    );
    let summary = m.get("/__mock/openapi").await.json();
    assert_eq!(summary["loaded"], true);
    let ops = summary["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), spec.operations.len());
    let create = ops
        .iter()
        .find(|o| o["operationId"] == "createDocument")
        .expect("createDocument");
    assert_eq!(create["stateful"], true);
    assert_eq!(create["scopes"], json!([["OAuth2Write"]]));
    let plain = spawn_mock().await;
    assert_eq!(plain.get("/__mock/openapi").await.json()["loaded"], false);
    // Without a document, an unknown route says how to get the whole API.
    let (token, _) = plain.tokens(WEB).await;
    let r = plain.api(Method::GET, "/api/partstudios/d/x", &token).await;
    assert_rejected(&r, 404, "api-route");
    assert!(r.body.contains("--openapi"), "{}", r.body);
}

fn json_values() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "BTMSketch-151",
            "BTMFeature-134",
            "BTMParameterQuantity-147",
            "w",
            "READ",
            "x"
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "name",
                        "btType",
                        "feature",
                        "featureType",
                        "parameters",
                        "parameterId",
                        "expression",
                        "entries",
                        "email",
                        "permissionSet",
                        "ownerType",
                        "tags",
                        "url",
                        "events",
                        "options",
                        "subFeatures",
                        "other",
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Arbitrary bodies and mangled paths against every operation of the test document: the
/// mock answers each with a 2xx or a 4xx that names a rule — never a 5xx — and a body it
/// accepts is one the schema accepts. Bounded: 300 requests.
#[tokio::test]
async fn arbitrary_requests_against_the_document_never_get_a_5xx() {
    let (m, spec) = spawn().await;
    let (token, _) = m.tokens(WEB).await;
    let sharer = key(&m, &ALL).await;
    let templates: Vec<(Method, String)> = spec
        .operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
    let strategy = (
        prop::sample::select(templates),
        prop::collection::vec(
            prop::sample::select(vec![
                "d0c000000000000000000001",
                "100000000000000000000c0d",
                "w",
                "v",
                "q",
                "%zz",
                "e1e2e3e4e5e6e7e8e9e0a1a2",
                "",
                "..",
            ]),
            8,
        ),
        json_values(),
        any::<bool>(),
        prop::option::of("[a-zA-Z]{1,8}=[a-z0-9%]{0,6}"),
    );
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 300,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let mut cases = Vec::new();
    for _ in 0..300 {
        cases.push(strategy.new_tree(&mut runner).expect("a case").current());
    }
    for ((method, template), fills, body, with_key, query) in cases {
        let mut fills = fills.into_iter();
        let path: String = template
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    fills.next().unwrap_or("x")
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let target = match &query {
            Some(q) => format!("/api/v6{path}?{q}"),
            None => format!("/api/v6{path}"),
        };
        let mut req = m.http.request(method.clone(), m.url(&target)).json(&body);
        req = if with_key {
            req.basic_auth(&sharer.0, Some(&sharer.1))
        } else {
            req.bearer_auth(&token)
        };
        let r = m.send(req).await;
        assert!(
            r.status < 500,
            "{method} {target} {body}: {} {}",
            r.status,
            r.body
        );
        if r.status >= 400 {
            assert!(r.rule().is_some(), "{method} {target}: a rule: {}", r.body);
        } else if let Some(op) = spec.operation(&method, &template) {
            if let (Some(schema), false) = (
                op.body.as_ref().and_then(|b| b.json),
                mock_server::api::stateful_operation(op),
            ) {
                assert!(
                    spec.schemas.check(schema, &body).is_ok(),
                    "{method} {target} accepted {body}"
                );
            }
        }
    }
    // Still answering.
    assert_eq!(m.sessioninfo(&token).await.status, 200);
}
