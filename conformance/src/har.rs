//! One HAR 1.2 file per scenario (`check --har DIR`): the scenario's traffic with the mock
//! ([`mock_server::record::har`] builds the entries, as for the mock's live
//! `GET /__mock/requests.har`).

use har::Har;
pub use mock_server::record::har::to_json;

use crate::report::{RunMeta, ScenarioResult};

/// The HAR document of one scenario.
pub fn scenario_har(result: &ScenarioResult, meta: &RunMeta) -> Har {
    use mock_server::record::har;
    let entries = result
        .traffic
        .iter()
        .map(|e| har::entry(e, &result.origins.oauth, &result.origins.api))
        .collect();
    har::document(
        entries,
        (meta.tool.name, meta.tool.version),
        format!(
            "onshape-mock check, scenario {} ({}): {}",
            result.id, result.title, result.end
        ),
    )
}
