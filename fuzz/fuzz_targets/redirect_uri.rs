//! Redirect URI registration and mismatch explanation: never panics; a registered URI has
//! no whitespace or control character and matches itself exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_server::domain::{explain_redirect_mismatch, RedirectUri};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (registered, sent) = text.split_once('\n').unwrap_or((text, text));
    if let Ok(uri) = RedirectUri::register(registered) {
        assert_eq!(uri.as_str(), registered);
        assert!(!registered
            .chars()
            .any(|c| c.is_control() || c.is_whitespace()));
        let _ = explain_redirect_mismatch(sent, std::slice::from_ref(&uri));
        let _ = uri.with_params(&[("code", sent), ("state", registered)]);
    }
});
