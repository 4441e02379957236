//! The conformance runner: `onshape-mock check` drives any client (any language) — an OAuth
//! client, or with `--api-key` a script that uses an API key — through scenarios against a
//! fresh in-process mock and judges it against Onshape's documented rules.
//!
//! Map:
//! - [`scenario`]: the scenario model; `scenarios/*.toml` are built in, `--scenarios-dir`
//!   adds more. [`calls`]: their API calls checked against an OpenAPI document.
//! - [`driver`]: runs one scenario — mock, app or API key (`credentials`), faults and
//!   triggers, the client command with the contract's environment, the browser in the
//!   background — and records the run.
//! - [`browser`]: plays browser and user on the mock's pages; [`callback`]: the forged and
//!   odd callbacks it delivers instead of the genuine one; [`desktop`]: desktop mode
//!   (BROWSER, callback delivery, OOB stdin); [`webapp`]: web-app mode, a browser with a
//!   cookie jar that starts at the app's URL and ends on its last page; [`process`]: the
//!   client's process group, output and scratch directory.
//! - [`shared_clock`]: the client's clock follows the mock's (libfaketime).
//! - [`rules`]: the client rules, each judged from a [`driver::RunRecord`]; [`notes`]: what
//!   explains a verdict (clock moves, injected faults).
//! - [`report`]: per-scenario results, text, JSON (with the traffic), JUnit, the baseline;
//!   [`har`]: one HAR 1.2 file per scenario.
//! - [`check`]: runs a selection of scenarios in parallel, reporting in a stable order.

pub mod browser;
pub mod callback;
pub mod calls;
mod credentials;
pub mod desktop;
pub mod driver;
pub mod har;
pub mod notes;
pub mod process;
pub mod report;
pub mod rules;
pub mod scenario;
pub mod shared_clock;
pub mod webapp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use report::{Baseline, RunMeta, RunReport, ScenarioResult};
use scenario::Scenario;

/// Runs `scenarios` with at most `jobs` at once. `on_result` sees each result in id order, as
/// soon as it and every one before it have finished (a stable order that still streams).
/// Out-of-band, API-key, twice- and replayed-callback scenarios are skipped in web-app mode.
pub async fn check(
    mut scenarios: Vec<Scenario>,
    options: driver::RunOptions,
    jobs: usize,
    baseline: &Baseline,
    meta: RunMeta,
    mut on_result: impl FnMut(&ScenarioResult),
) -> Result<RunReport, driver::RunError> {
    let started = Instant::now();
    scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    let mut slots: Vec<Option<ScenarioResult>> = scenarios.iter().map(|_| None).collect();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let web_app = options.app_url.is_some();
    let options = Arc::new(options);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, s) in scenarios.into_iter().enumerate() {
        let skip = if !web_app {
            None
        } else if s.auth == scenario::Auth::ApiKey {
            Some("API keys are for scripts: a web app signs its users in with OAuth")
        } else if s.redirect == scenario::RedirectKind::Oob {
            Some("out-of-band codes are for desktop apps: a web app has a redirect URI")
        } else if matches!(
            s.browser.callback,
            Some(scenario::OddCallback::Twice | scenario::OddCallback::Replay)
        ) {
            Some("a callback delivered twice or replayed is played in desktop mode only")
        } else {
            None
        };
        if let Some(why) = skip {
            slots[i] = Some(ScenarioResult::skipped(&s, why));
            continue;
        }
        let (limit, options) = (limit.clone(), options.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, driver::run(&s, &options).await)
        });
    }
    let mut reported = 0;
    let mut flush = |slots: &[Option<ScenarioResult>]| {
        while let Some(Some(result)) = slots.get(reported) {
            on_result(result);
            reported += 1;
        }
    };
    flush(&slots);
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, Ok(run))) => {
                slots[i] = Some(ScenarioResult::new(&run, rules::judge(&run), baseline));
                flush(&slots);
            }
            Ok((_, Err(e))) => {
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
    let results = slots.into_iter().flatten().collect();
    Ok(RunReport::new(results, baseline, started.elapsed(), meta))
}

/// The default per-scenario timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
