//! The request log as HAR 1.2, which Chrome DevTools, Charles or Burp open — the guide tells
//! developers to inspect their OAuth traffic with such tools. Served live by
//! `GET /__mock/requests.har` and written per scenario by `check --har`. Secrets are masked
//! and codes and tokens are fingerprints, as in the log; response bodies are not kept (they
//! carry tokens).

use har::v1_2::{
    Cache, Content, Creator, Entries, Headers, Log, Params, PostData, QueryString, Request,
    Response, Timings,
};
use har::{Har, Spec};

use super::Exchange;

/// A HAR document of `entries`, made by `creator` (name, version).
pub fn document(entries: Vec<Entries>, creator: (&str, &str), comment: String) -> Har {
    Har {
        log: Spec::V1_2(Log {
            creator: Creator {
                name: creator.0.to_owned(),
                version: creator.1.to_owned(),
                comment: None,
            },
            browser: None,
            pages: None,
            entries,
            comment: Some(comment),
        }),
    }
}

/// The HAR document as JSON.
pub fn to_json(har: &Har) -> Result<String, har::Error> {
    har::to_json(har)
}

fn headers(list: &[(String, String)]) -> Vec<Headers> {
    list.iter()
        .map(|(name, value)| Headers {
            name: name.clone(),
            value: value.clone(),
            comment: None,
        })
        .collect()
}

/// One exchange as a HAR entry; `oauth` and `api` are the origins' base URLs.
pub fn entry(e: &Exchange, oauth: &str, api: &str) -> Entries {
    let base = if e.origin == "api" { api } else { oauth };
    let query = e.raw_query.as_deref().unwrap_or_default();
    let url = if query.is_empty() {
        format!("{base}{}", e.path)
    } else {
        format!("{base}{}?{query}", e.path)
    };
    let query_string = url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| QueryString {
            name: name.into_owned(),
            value: value.into_owned(),
            comment: None,
        })
        .collect();
    let post_data = e.form.as_ref().map(|fields| PostData {
        mime_type: "application/x-www-form-urlencoded".to_owned(),
        text: Some(
            fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        ),
        params: Some(
            fields
                .iter()
                .map(|(k, v)| Params {
                    name: k.clone(),
                    value: Some(v.clone()),
                    file_name: None,
                    content_type: None,
                    comment: None,
                })
                .collect(),
        ),
        comment: Some("secrets masked, codes and tokens as fingerprints".to_owned()),
    });
    let mut comment = vec![format!("#{}", e.id)];
    if let Some(rule) = e.rule {
        comment.push(format!("rule {rule}"));
    }
    if let Some(hint) = &e.hint {
        comment.push(hint.clone());
    }
    if let Some(w) = e.warning {
        comment.push(format!("warning {w}"));
    }
    if let Some(scripted) = &e.scripted {
        comment.push(format!("scripted: {scripted}"));
    } else if e.fault {
        comment.push("injected fault".to_owned());
    }
    comment.extend(e.actions.iter().cloned());
    Entries {
        pageref: None,
        started_date_time: e.at.clone(),
        time: 0.0,
        request: Request {
            method: e.method.clone(),
            url,
            http_version: "HTTP/1.1".to_owned(),
            cookies: vec![],
            headers: headers(&e.headers),
            query_string,
            post_data,
            headers_size: -1,
            body_size: -1,
            comment: None,
        },
        response: Response {
            status: i64::from(e.status),
            status_text: reason(e.status),
            http_version: "HTTP/1.1".to_owned(),
            cookies: vec![],
            headers: headers(&e.response_headers),
            content: Content {
                size: 0,
                compression: None,
                // HAR 1.2 wants both fields, empty or not.
                mime_type: Some(
                    e.response_header("content-type")
                        .unwrap_or("x-unknown")
                        .to_owned(),
                ),
                text: None,
                encoding: None,
                comment: Some("response bodies are not recorded: they carry tokens".to_owned()),
            },
            redirect_url: Some(e.location.clone().unwrap_or_default()),
            headers_size: -1,
            body_size: -1,
            comment: None,
        },
        cache: Cache {
            before_request: None,
            after_request: None,
        },
        timings: Timings {
            blocked: None,
            dns: None,
            connect: None,
            send: 0.0,
            wait: 0.0,
            receive: 0.0,
            ssl: None,
            comment: None,
        },
        server_ip_address: None,
        connection: None,
        comment: Some(comment.join(" — ")),
    }
}

fn reason(status: u16) -> String {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_owned()
}
