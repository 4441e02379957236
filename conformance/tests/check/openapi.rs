//! `check --openapi`: scenario calls may be any operation of the document, with the body the
//! scenario gives; a client request the document does not allow is a `request-valid`
//! finding carrying the mock's hint. The document is the mock's test one.

use std::sync::Arc;
use std::time::Duration;

use conformance::driver::RunOptions;
use conformance::report::{Baseline, Verdict};
use conformance::rules::Outcome;
use conformance::scenario::Scenario;
use mock_server::openapi::Spec;

const DOC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../mock-server/tests/api/openapi/onshape-test.json"
);
const FEATURES: &str =
    "POST /api/v10/partstudios/d/d0c000000000000000000001/w/100000000000000000000c0d/e/e1e2e3e4e5e6e7e8e9e0a1a2/features";

fn scenario(id: &str, feature: &str, expect: &str) -> Scenario {
    let text = format!(
        "title = 'A feature added'\nexpect = '{expect}'\napi_calls = ['GET /api/documents', '{FEATURES}']\n[api_bodies]\n'{FEATURES}' = {{ feature = {feature} }}\n"
    );
    Scenario::parse(id, &text).expect("the scenario parses")
}

fn spec() -> Arc<Spec> {
    Arc::new(Spec::load(std::path::Path::new(DOC)).expect("the test document loads"))
}

#[test]
fn calls_are_any_operation_of_the_document_and_a_refused_request_is_a_finding() {
    let spec = spec();
    let good = scenario(
        "feature-added",
        "{ btType = 'BTMSketch-151', featureType = 'newSketch', name = 'Sketch 1' }",
        "success",
    );
    let bad = scenario(
        "feature-refused",
        "{ btType = 'BTMSketch-151', name = 'Sketch 1' }",
        "failure",
    );
    for s in [&good, &bad] {
        s.calls_fit(&spec)
            .expect("the calls are operations of the document");
    }
    let mut options = RunOptions::new(
        format!(
            "python3 {}/../clients/reference_client.py",
            env!("CARGO_MANIFEST_DIR")
        ),
        Duration::from_secs(10),
    );
    options.openapi = Some(spec);
    let meta = conformance::report::RunMeta::new(&options, "test");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(conformance::check(
            vec![good, bad],
            options,
            2,
            &Baseline::default(),
            meta,
            |_| {},
        ))
        .expect("the run happens");
    let find = |id: &str| {
        report
            .scenarios
            .iter()
            .find(|s| s.id == id)
            .expect("scenario reported")
    };
    let passed = find("feature-added");
    assert_eq!(passed.verdict, Verdict::Pass, "{}", report.failures_text());
    let refused = find("feature-refused");
    let finding = refused
        .findings
        .iter()
        .find(|f| f.finding.rule == "request-valid")
        .expect("request-valid judged");
    assert_eq!(finding.finding.outcome, Outcome::Fail);
    let evidence = finding.finding.evidence.join("\n");
    assert!(
        evidence.contains("api-body")
            && evidence.contains("`featureType` is required in BTMFeature-134"),
        "{evidence}"
    );
}

#[test]
fn calls_outside_the_document_or_without_their_body_are_refused_before_the_run() {
    let spec = spec();
    let unknown = Scenario::parse(
        "u",
        "title = 'T'\napi_calls = ['GET /api/partstudio/d/x']\n",
    )
    .expect("parses");
    let e = unknown.calls_fit(&spec).expect_err("not an operation");
    assert!(e.contains("closest") && e.contains("/partstudios/"), "{e}");
    let no_body = Scenario::parse("n", &format!("title = 'T'\napi_calls = ['{FEATURES}']\n"))
        .expect("parses");
    let e = no_body.calls_fit(&spec).expect_err("needs a body");
    assert!(
        e.contains("api_bodies") && e.contains("addPartStudioFeature"),
        "{e}"
    );
    let stray = Scenario::parse(
        "s",
        "title = 'T'\napi_calls = ['GET /api/documents']\n[api_bodies]\n'POST /api/documents' = { name = 'x' }\n",
    );
    assert!(stray.is_err_and(|e| e.to_string().contains("not one of api_calls")));
    // The built-in calls stay valid with any document.
    let plain = Scenario::parse("p", "title = 'T'\n").expect("parses");
    plain.calls_fit(&spec).expect("sessioninfo and documents");
}
