//! HTTP Basic client authentication and the log's masking of any Authorization value: never
//! panics, and whenever the endpoint would read a password from it, the log shows
//! `(masked)` in its place.
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use mock_server::mask::mask_authorization;
use mock_server::oauth::token::basic_credentials;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let masked = mask_authorization(&text);
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    if let Ok(Some(_)) = basic_credentials(&headers) {
        assert!(masked.ends_with(":(masked)"), "{masked}");
    }
});
