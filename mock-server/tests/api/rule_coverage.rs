//! Every rule the mock enforces is exercised by a test that names it — a test asserting the
//! rejection next to the acceptance. This reads the test sources, so a rule added to the
//! catalog without a test fails here.

#[test]
fn every_enforced_rule_has_a_test_naming_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    let mut sources = String::new();
    for entry in std::fs::read_dir(&dir).expect("tests/api is readable") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs" || e == "toml")
            && !path.ends_with("rule_coverage.rs")
        {
            sources.push_str(&std::fs::read_to_string(&path).expect("test source reads"));
        }
    }
    for case in std::fs::read_dir(dir.join("cases"))
        .expect("cases dir")
        .flatten()
    {
        sources.push_str(&std::fs::read_to_string(case.path()).expect("case reads"));
    }
    // `control-request` and `request-size` are generic; they are still named by tests.
    let missing: Vec<&str> = mock_server::rules::ALL
        .iter()
        .map(|r| r.id)
        .filter(|id| !sources.contains(&format!("\"{id}\"")))
        .collect();
    assert!(missing.is_empty(), "rules no test names: {missing:?}");
}
