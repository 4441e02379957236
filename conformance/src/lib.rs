//! The conformance runner: `onshape-mock check` drives any OAuth client (any language)
//! through scenarios against a fresh in-process mock and judges it against Onshape's
//! documented rules.
//!
//! Map:
//! - [`scenario`]: the scenario model; `scenarios/*.toml` are built in, `--scenarios-dir`
//!   adds more.
//! - [`driver`]: runs one scenario — mock, app, faults and triggers, the client command with
//!   the contract's environment, the browser in the background — and records the run.
//! - [`browser`]: plays browser and user on the mock's pages.
//! - [`rules`]: the client rules, each judged from a [`driver::RunRecord`].
//! - [`report`]: per-scenario results, text, JSON, JUnit, the baseline.
//! - [`check`]: runs a selection of scenarios in parallel.

pub mod browser;
pub mod driver;
pub mod report;
pub mod rules;
pub mod scenario;

use std::sync::Arc;
use std::time::{Duration, Instant};

use report::{Baseline, RunReport, ScenarioResult};
use scenario::Scenario;

/// Runs `scenarios` with at most `jobs` at once; `on_result` sees each as it finishes.
pub async fn check(
    scenarios: Vec<Scenario>,
    options: driver::RunOptions,
    jobs: usize,
    baseline: &Baseline,
    mut on_result: impl FnMut(&ScenarioResult),
) -> Result<RunReport, driver::RunError> {
    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let options = Arc::new(options);
    let mut tasks = tokio::task::JoinSet::new();
    for s in scenarios {
        let (limit, options) = (limit.clone(), options.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            driver::run(&s, &options).await
        });
    }
    let mut results = Vec::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(run)) => {
                let result = ScenarioResult::new(&run, rules::judge(&run), baseline);
                on_result(&result);
                results.push(result);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(driver::RunError::Setup(format!(
                    "a scenario task failed: {e}"
                )));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(RunReport::new(results, baseline, started.elapsed()))
}

/// The default per-scenario timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
