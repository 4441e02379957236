//! Form and query decoding, and masking of what it could not decode: never panics, and a
//! parsed form's fields re-encode to a body that parses to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_server::{form, mask};

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = form::parse(data) {
        let pairs: Vec<(&str, &str)> = parsed
            .fields()
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        let again = form::parse(form::encode(&pairs).as_bytes()).expect("re-encoded form parses");
        assert_eq!(again.fields().len(), parsed.fields().len());
        for (a, b) in again.fields().iter().zip(parsed.fields()) {
            assert_eq!((&a.name, &a.value), (&b.name, &b.value));
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = mask::mask_query(&text);
    let _ = mask::scrub(&text);
    let _ = form::loose_name(&text);
});
