//! Property tests: the parsers (scopes, redirect URIs, forms) and "no request body panics
//! the token endpoint".

use axum::body::Body;
use axum::http::Request;
use mock_server::clock::Clock;
use mock_server::domain::{explain_redirect_mismatch, RedirectUri, Scope, ScopeSet};
use mock_server::form;
use mock_server::{app, AppState, Config};
use proptest::prelude::*;
use tower::ServiceExt;

use crate::helpers::START;

fn scope_subset() -> impl Strategy<Value = ScopeSet> {
    proptest::sample::subsequence(Scope::ALL.to_vec(), 1..=Scope::ALL.len())
        .prop_map(|v| v.into_iter().fold(ScopeSet::EMPTY, ScopeSet::with))
}

proptest! {
    #[test]
    fn scope_sets_round_trip_through_their_text(set in scope_subset()) {
        prop_assert_eq!(ScopeSet::parse(&set.to_string()), Ok(set));
    }

    #[test]
    fn scope_parsing_never_panics_and_accepts_only_known_names(s in "\\PC{0,60}") {
        if let Ok(set) = ScopeSet::parse(&s) {
            prop_assert!(s.split(' ').all(|n| Scope::from_name(n).is_some()));
            prop_assert!(!set.is_empty());
        }
    }

    #[test]
    fn a_subset_is_a_subset(a in scope_subset(), b in scope_subset()) {
        let union = ScopeSet::parse(&format!("{a} {b}")).expect("union parses");
        prop_assert!(a.is_subset_of(union) && b.is_subset_of(union));
        prop_assert_eq!(a.is_subset_of(b), a.minus(b).is_empty());
    }

    #[test]
    fn registered_redirect_uris_match_only_themselves(
        host in "[a-z]{1,10}\\.example\\.com",
        port in proptest::option::of(1u16..),
        path in "(/[a-zA-Z0-9_-]{1,8}){0,3}",
        tweak in 0usize..5,
    ) {
        let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
        let raw = format!("https://{host}{port_part}{path}");
        let registered = RedirectUri::register(&raw).expect("https registers");
        let variant = match tweak {
            0 => format!("{raw}/"),
            1 => raw.replacen("https://", "http://", 1),
            2 => raw.to_uppercase(),
            3 => format!("https://{host}:{}{path}", port.map(|p| p.wrapping_add(1).max(1)).unwrap_or(8443)),
            _ => format!("{raw}?x=1"),
        };
        prop_assume!(variant != raw);
        prop_assert_ne!(registered.as_str(), variant.as_str());
        let explanation = explain_redirect_mismatch(&variant, std::slice::from_ref(&registered));
        prop_assert!(explanation.contains(&raw), "{}", explanation);
    }

    #[test]
    fn http_redirects_register_only_for_localhost_with_a_port(host in "[a-z0-9.]{1,15}", port in 1u16..) {
        let uri = format!("http://{host}:{port}/cb");
        prop_assert_eq!(RedirectUri::register(&uri).is_ok(), host == "localhost");
    }

    #[test]
    fn explaining_a_mismatch_never_panics(a in "\\PC{0,80}", b in "https://[a-z]{1,8}\\.com(/[a-z]{0,5}){0,2}") {
        let registered = RedirectUri::register(&b).expect("https registers");
        let _ = explain_redirect_mismatch(&a, &[registered]);
    }

    #[test]
    fn forms_round_trip(pairs in proptest::collection::vec(("[a-z_]{1,12}", "\\PC{0,30}"), 0..8)) {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let parsed = form::parse(form::encode(&borrowed).as_bytes()).expect("an encoded form parses");
        prop_assert_eq!(parsed.fields().len(), pairs.len());
        for (field, (k, v)) in parsed.fields().iter().zip(&pairs) {
            prop_assert_eq!(&field.name, k);
            prop_assert_eq!(&field.value, v);
            prop_assert!(!field.raw_equals);
        }
    }

    #[test]
    fn form_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = form::parse(&bytes);
    }
}

fn token_request() -> impl Strategy<Value = (String, Option<String>, Option<String>, Vec<u8>)> {
    let method = prop_oneof![Just("POST"), Just("GET"), Just("PUT"), Just("DELETE")];
    let query = proptest::option::of("[a-z_=&%0-9A-F]{0,40}");
    let content_type = proptest::option::of(prop_oneof![
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/json".to_owned()),
        Just("text/plain".to_owned()),
        "\\PC{0,20}",
    ]);
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "(grant_type|code|client_id|client_secret|redirect_uri|refresh_token|scope)=[A-Za-z0-9%=+&:/._-]{0,40}(&(grant_type|code|client_id|client_secret|redirect_uri|refresh_token)=[A-Za-z0-9%=+&:/._-]{0,40}){0,6}"
            .prop_map(String::into_bytes),
    ];
    (method.prop_map(str::to_owned), query, content_type, body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_request_panics_the_token_endpoint((method, query, content_type, body) in token_request()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let state = AppState::with_clock(Config::default(), Clock::frozen_at(START)).expect("state");
        let uri = match &query { Some(q) => format!("/oauth/token?{q}"), None => "/oauth/token".to_owned() };
        let mut req = Request::builder().method(method.as_str()).uri(uri.as_str());
        if let Some(ct) = &content_type {
            if axum::http::HeaderValue::from_str(ct).is_err() {
                return Ok(());
            }
            req = req.header("content-type", ct.as_str());
        }
        let Ok(req) = req.body(Body::from(body)) else { return Ok(()) };
        let resp = rt.block_on(app(state).oneshot(req)).expect("infallible");
        let status = resp.status().as_u16();
        prop_assert!(status == 401 || status == 413, "status {} for {} {:?}", status, method, uri);
    }
}
