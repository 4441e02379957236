//! Scope parsing: never panics; what parses prints back to a text that parses to the same set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_server::domain::ScopeSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = ScopeSet::parse(text) {
        assert_eq!(ScopeSet::parse(&set.to_string()), Ok(set));
    }
});
