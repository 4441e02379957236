//! Data-driven snapshots of the mock's answers: one file per case in `cases/`, failures
//! named `err_*`. A case is a request (method, path, content type, body) plus a setup
//! step; placeholders in path and body are filled from the setup:
//!
//! - `{id}` / `{secret}`: the web app's client id and secret, URL-encoded (`{id_raw}`: not);
//! - `{redirect}`: its localhost redirect URI, URL-encoded;
//! - `{code}`: a code from `setup = "code"` (fresh), `"used-code"` (redeemed once) or
//!   `"expired-code"` (61 s old); `{access}` / `{refresh}`: from `setup = "tokens"`.
//!
//! The snapshot holds the status, the headers that matter and the body, with tokens
//! redacted.

use serde::Deserialize;

use crate::helpers::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    about: String,
    #[serde(default)]
    setup: Option<String>,
    method: String,
    path: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    authorization: Option<String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    advance: u64,
}

fn enc(s: &str) -> String {
    mock_server::form::encode_component(s)
}

async fn run(case: Case) -> String {
    let m = spawn_mock().await;
    let mut vars: Vec<(&str, String)> = vec![
        ("{id}", enc(WEB.client_id)),
        ("{id_raw}", WEB.client_id.to_owned()),
        ("{secret}", enc(WEB.client_secret)),
        ("{redirect}", enc(WEB.redirect)),
    ];
    match case.setup.as_deref() {
        None => {}
        Some("code") => vars.push(("{code}", m.code(WEB).await)),
        Some("used-code") => {
            let code = m.code(WEB).await;
            assert_tokens(&m.redeem(WEB, &code).await);
            vars.push(("{code}", code));
        }
        Some("expired-code") => {
            let code = m.code(WEB).await;
            m.advance(61).await;
            vars.push(("{code}", code));
        }
        Some("tokens") => {
            let (a, r) = m.tokens(WEB).await;
            vars.push(("{access}", a));
            vars.push(("{refresh}", r));
        }
        Some(other) => panic!("unknown setup {other}"),
    }
    m.advance(case.advance).await;
    let fill = |s: &str| {
        vars.iter()
            .fold(s.to_owned(), |acc, (k, v)| acc.replace(k, v))
    };
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let mut req = m
        .http
        .request(method, m.url(&fill(&case.path)))
        .body(fill(&case.body));
    if let Some(ct) = &case.content_type {
        req = req.header("content-type", ct);
    }
    if let Some(auth) = &case.authorization {
        req = req.header("authorization", fill(auth));
    }
    let resp = m.send(req).await;
    let mut out = format!("status: {}\n", resp.status);
    for h in [
        "content-type",
        "cache-control",
        "www-authenticate",
        "location",
        "x-api-version",
    ] {
        if let Some(v) = resp.header(h) {
            out.push_str(&format!("{h}: {v}\n"));
        }
    }
    let body = match serde_json::from_str::<serde_json::Value>(&resp.body) {
        Ok(mut v) => {
            for key in ["access_token", "refresh_token"] {
                if v.get(key).is_some() {
                    v[key] = serde_json::json!("[redacted]");
                }
            }
            serde_json::to_string_pretty(&v).expect("json prints")
        }
        Err(_) => resp.body.clone(),
    };
    let mut body = body;
    for (k, v) in &vars {
        if k.starts_with("{code") || k.starts_with("{access") || k.starts_with("{refresh") {
            body = body.replace(v.as_str(), &format!("[{}]", k.trim_matches(['{', '}'])));
        }
    }
    out.push('\n');
    out.push_str(&body);
    out
}

#[test]
fn cases() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    insta::glob!("cases/*.toml", |path| {
        let text = std::fs::read_to_string(path).expect("case reads");
        let case: Case =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let out = rt.block_on(run(case));
        let status: u16 = out[8..11].parse().expect("status");
        if name.starts_with("err_") {
            assert!(
                status >= 400 || out.contains("error="),
                "{name} is named err_ but succeeded:\n{out}"
            );
        } else {
            assert!(status < 400, "{name} should succeed:\n{out}");
        }
        insta::assert_snapshot!(out);
    });
}
