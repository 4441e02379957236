//! Results and reports: each scenario's result (redacted) and its line, the run's summary,
//! `--json` (with each scenario's traffic), and the baseline of expected failures. `text`
//! renders the findings after the lines — grouped where several scenarios say the same — with
//! the notes and output of each failed scenario; `junit` the JUnit report; `--har` is in
//! [`crate::har`].

use std::collections::BTreeSet;
use std::time::Duration;

use mock_server::record::Exchange;
use serde::Serialize;

use crate::driver::{ClientEnd, RunRecord};

mod junit;
mod text;
use crate::rules::{Finding, Level, Outcome};

/// What was run, for the reports: the tool, the command, the mode, the shared clock.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    pub tool: Tool,
    /// The client command.
    pub command: String,
    /// `desktop` or `web-app`.
    pub mode: &'static str,
    /// Web-app mode: the start URL as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
    /// Whether the client's clock follows the mock's, and how (or why not).
    pub shared_clock: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl RunMeta {
    pub fn new(options: &crate::driver::RunOptions, version: &'static str) -> RunMeta {
        RunMeta {
            tool: Tool {
                name: "onshape-mock",
                version,
            },
            command: options.command.clone(),
            mode: if options.app_url.is_some() {
                "web-app"
            } else {
                "desktop"
            },
            app_url: options.app_url.clone(),
            shared_clock: options.shared_clock.describe(),
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    pub duration_ms: u64,
    /// How the client ended: `exit 0`, `exit 1`, `answered 200` (web-app mode), `timed out`,
    /// or why the runner ended it.
    pub end: String,
    /// The scenario expects the client to fail (the user denies, the grant is revoked): the
    /// text line says a non-zero exit was expected, so `PASS … exit 1` reads as meant.
    #[serde(skip)]
    pub failure_expected: bool,
    /// Why the scenario was not run (an out-of-band redirect in web-app mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub findings: Vec<ReportedFinding>,
    /// What happened that explains a verdict: clock moves (and whether the client's clock
    /// followed), injected faults and whether the request came back.
    pub notes: Vec<String>,
    /// The client's output, every secret the mock issued replaced by its fingerprint.
    pub stdout: String,
    pub stderr: String,
    /// Web-app mode: the app's last page (text) and each GET the browser made to the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_page: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub navigation: Vec<String>,
    /// The mock's origins in this run, base of the traffic's paths.
    pub origins: Origins,
    /// Every exchange with the mock (secrets masked, codes and tokens as fingerprints);
    /// `#N` in the evidence is `id` here.
    pub traffic: Vec<Exchange>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Origins {
    pub oauth: String,
    pub api: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// A failure (or warning) the baseline expects: it does not fail the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub baselined: bool,
}

/// Expected failures: `scenario-id rule-id` per line, `#` comments.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    entries: BTreeSet<(String, String)>,
}

impl Baseline {
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let mut entries = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(s), Some(r), None) => {
                    if crate::rules::by_id(r).is_none() {
                        return Err(format!("line {}: unknown rule `{r}`", n + 1));
                    }
                    entries.insert((s.to_owned(), r.to_owned()));
                }
                _ => {
                    return Err(format!(
                        "line {}: expected `scenario-id rule-id`, got `{line}`",
                        n + 1
                    ))
                }
            }
        }
        Ok(Baseline { entries })
    }

    /// The scenario ids the baseline names.
    pub fn scenarios(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(s, _)| s.as_str())
    }

    pub fn expects(&self, scenario: &str, rule: &str) -> bool {
        self.entries
            .contains(&(scenario.to_owned(), rule.to_owned()))
    }
}

impl ScenarioResult {
    pub fn new(run: &RunRecord, findings: Vec<Finding>, baseline: &Baseline) -> ScenarioResult {
        let findings: Vec<ReportedFinding> = findings
            .into_iter()
            .map(|f| {
                let baselined = matches!(f.outcome, Outcome::Fail | Outcome::Warn)
                    && baseline.expects(&run.scenario.id, f.rule);
                ReportedFinding {
                    finding: f,
                    baselined,
                }
            })
            .collect();
        let verdict = if findings
            .iter()
            .any(|f| f.finding.outcome == Outcome::Fail && !f.baselined)
        {
            Verdict::Fail
        } else if findings
            .iter()
            .any(|f| f.finding.outcome == Outcome::Warn && !f.baselined)
        {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        // Nothing the client wrote, opened or was sent keeps a secret: the whole result is
        // redacted with every secret the mock issued in the run.
        let redactor = crate::rules::Redactor::new(&run.secrets);
        let redact = |text: &str| redactor.apply(text);
        let findings = findings
            .into_iter()
            .map(|mut f| {
                f.finding.message = redact(&f.finding.message);
                f.finding.evidence = f.finding.evidence.iter().map(|e| redact(e)).collect();
                f
            })
            .collect();
        let output = |text: &str| truncate(redact(text), OUTPUT_REPORTED);
        ScenarioResult {
            id: run.scenario.id.clone(),
            title: run.scenario.title.clone(),
            verdict,
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
            end: match &run.end {
                ClientEnd::Exited(Some(c)) => format!("exit {c}"),
                ClientEnd::Exited(None) => "killed by a signal".to_owned(),
                ClientEnd::Answered(status) => format!("answered {status}"),
                ClientEnd::TimedOut => "timed out".to_owned(),
                ClientEnd::EndedEarly(why) => format!("ended by the runner: {}", redact(why)),
            },
            failure_expected: run.scenario.expect == crate::scenario::Expect::Failure,
            skipped: None,
            findings,
            notes: crate::notes::notes(run).iter().map(|n| redact(n)).collect(),
            stdout: output(&run.stdout),
            stderr: output(&run.stderr),
            final_page: run.final_page.as_deref().map(redact),
            navigation: run.navigation.iter().map(|n| redact(n)).collect(),
            origins: Origins {
                oauth: run.oauth_url.clone(),
                api: run.api_url.clone(),
            },
            // The mock's log masks secrets already; this holds even for a spelling it missed.
            traffic: run
                .exchanges
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    let pairs = e
                        .headers
                        .iter_mut()
                        .chain(e.response_headers.iter_mut())
                        .chain(e.form.iter_mut().flatten());
                    for (_, v) in pairs {
                        *v = redact(v);
                    }
                    for text in [&mut e.raw_query, &mut e.location, &mut e.hint]
                        .into_iter()
                        .flatten()
                    {
                        *text = redact(text);
                    }
                    e
                })
                .collect(),
        }
    }

    /// A scenario not run, and why.
    pub fn skipped(scenario: &crate::scenario::Scenario, why: &str) -> ScenarioResult {
        ScenarioResult {
            id: scenario.id.clone(),
            title: scenario.title.clone(),
            verdict: Verdict::Skip,
            duration_ms: 0,
            end: "not run".to_owned(),
            failure_expected: false,
            skipped: Some(why.to_owned()),
            findings: vec![],
            notes: vec![],
            stdout: String::new(),
            stderr: String::new(),
            final_page: None,
            navigation: vec![],
            origins: Origins::default(),
            traffic: vec![],
        }
    }

    fn broken(&self) -> impl Iterator<Item = &ReportedFinding> {
        self.findings
            .iter()
            .filter(|f| matches!(f.finding.outcome, Outcome::Fail | Outcome::Warn))
    }

    /// The one line printed when the scenario finishes: `PASS`, `WARN`, `FAIL` or `SKIP`,
    /// the id, the time, how the client ended, and the rules broken (baselined ones named
    /// as such, so a `PASS … exit 1` explains itself).
    pub fn line(&self) -> String {
        let mark = match self.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        };
        if let Some(why) = &self.skipped {
            return format!("{mark}  {:<25} {why}", self.id);
        }
        let (baselined, open): (Vec<&ReportedFinding>, Vec<&ReportedFinding>) =
            self.broken().partition(|f| f.baselined);
        let names = |fs: &[&ReportedFinding]| {
            fs.iter()
                .map(|f| f.finding.rule)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rules = match (open.is_empty(), baselined.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!("  [{}]", names(&open)),
            (true, false) => format!("  [baselined: {}]", names(&baselined)),
            (false, false) => format!("  [{}; baselined: {}]", names(&open), names(&baselined)),
        };
        let expected =
            if self.failure_expected && self.end.starts_with("exit ") && self.end != "exit 0" {
                " (a failure was expected)"
            } else {
                ""
            };
        format!(
            "{mark}  {:<25} {:>6} ms  {}{expected}{rules}",
            self.id, self.duration_ms, self.end
        )
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub meta: RunMeta,
    pub scenarios: Vec<ScenarioResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenarios: usize,
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub skipped: usize,
    /// MUST findings that failed and are not in the baseline.
    pub must_failures: usize,
    pub baselined: usize,
    /// Baseline entries whose failure no longer happens: they fail the run.
    pub stale_baseline: Vec<String>,
    pub duration_ms: u64,
}

impl RunReport {
    pub fn new(
        mut scenarios: Vec<ScenarioResult>,
        baseline: &Baseline,
        duration: Duration,
        meta: RunMeta,
    ) -> RunReport {
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        let count = |v: Verdict| scenarios.iter().filter(|s| s.verdict == v).count();
        let all_findings = || {
            scenarios
                .iter()
                .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
        };
        let stale_baseline = baseline
            .entries
            .iter()
            .filter(|(sid, rule)| {
                scenarios
                    .iter()
                    .any(|s| &s.id == sid && s.skipped.is_none())
                    && !all_findings()
                        .any(|(s, f)| &s.id == sid && f.finding.rule == rule && f.baselined)
            })
            .map(|(s, r)| format!("{s} {r}"))
            .collect();
        let summary = Summary {
            scenarios: scenarios.len(),
            passed: count(Verdict::Pass),
            warned: count(Verdict::Warn),
            failed: count(Verdict::Fail),
            skipped: count(Verdict::Skip),
            must_failures: all_findings()
                .filter(|(_, f)| {
                    f.finding.outcome == Outcome::Fail
                        && f.finding.severity == Level::Must
                        && !f.baselined
                })
                .count(),
            baselined: all_findings().filter(|(_, f)| f.baselined).count(),
            stale_baseline,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        };
        RunReport {
            meta,
            scenarios,
            summary,
        }
    }

    /// Whether the run passes: every MUST rule held (or is baselined) and no baseline entry is stale.
    pub fn passed(&self) -> bool {
        self.summary.must_failures == 0 && self.summary.stale_baseline.is_empty()
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// How much of each of the client's streams a report keeps.
const OUTPUT_REPORTED: usize = 16 * 1024;

/// `text` cut to at most `limit` bytes, on a character boundary, with `…` when cut.
pub(crate) fn truncate(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let cut = (0..=limit)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, broken: &[(&'static str, Outcome, &str, bool)]) -> ScenarioResult {
        let scenario = crate::scenario::Scenario::parse(id, "title = 'T'\n").expect("parses");
        let mut r = ScenarioResult::skipped(&scenario, "");
        r.skipped = None;
        r.end = "exit 1".into();
        r.findings = broken
            .iter()
            .map(|(rule, outcome, message, baselined)| ReportedFinding {
                finding: Finding {
                    rule,
                    severity: Level::Must,
                    outcome: *outcome,
                    expected: "the sentence",
                    fix: "the fix",
                    message: (*message).to_owned(),
                    evidence: vec![format!("#{} GET /api/x -> 401", message.len())],
                },
                baselined: *baselined,
            })
            .collect();
        r.verdict = if r.findings.iter().any(|f| !f.baselined) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        r
    }

    #[test]
    fn a_baselined_failure_is_named_on_its_line() {
        let r = result("token-expiry", &[("exit-status", Outcome::Fail, "m", true)]);
        assert!(
            r.line().ends_with("exit 1  [baselined: exit-status]"),
            "{}",
            r.line()
        );
        let both = result(
            "two-expiries",
            &[
                ("refresh-on-expiry", Outcome::Fail, "m", false),
                ("exit-status", Outcome::Fail, "m", true),
            ],
        );
        assert!(
            both.line()
                .ends_with("[refresh-on-expiry; baselined: exit-status]"),
            "{}",
            both.line()
        );
    }

    #[test]
    fn the_same_finding_in_several_scenarios_is_printed_once() {
        let meta = RunMeta {
            tool: Tool {
                name: "onshape-mock",
                version: "0",
            },
            command: "c".into(),
            mode: "desktop",
            app_url: None,
            shared_clock: "off".into(),
        };
        let report = RunReport::new(
            vec![
                result(
                    "b",
                    &[("bearer-header", Outcome::Fail, "refused 1 request", false)],
                ),
                result(
                    "a",
                    &[("bearer-header", Outcome::Fail, "refused 2 request", false)],
                ),
                result(
                    "c",
                    &[("bearer-header", Outcome::Fail, "another message", false)],
                ),
            ],
            &Baseline::default(),
            Duration::ZERO,
            meta,
        );
        let text = report.failures_text();
        assert!(
            text.contains("bearer-header in 2 scenarios (a, b) [MUST]: refused 2 request"),
            "{text}"
        );
        assert!(
            text.contains("c / bearer-header [MUST]: another message"),
            "{text}"
        );
        assert_eq!(text.matches("rule: the sentence").count(), 2, "{text}");
    }

    #[test]
    fn a_skipped_scenario_leaves_its_baseline_entries_alone() {
        let scenario =
            crate::scenario::Scenario::parse("happy-oob", "title = 'T'\n").expect("parses");
        let skipped = ScenarioResult::skipped(&scenario, "web app");
        let baseline = Baseline::parse("happy-oob exit-status\n").expect("parses");
        let meta = RunMeta {
            tool: Tool {
                name: "onshape-mock",
                version: "0",
            },
            command: "c".into(),
            mode: "web-app",
            app_url: Some("/login".into()),
            shared_clock: "off".into(),
        };
        let report = RunReport::new(vec![skipped], &baseline, Duration::ZERO, meta);
        assert!(
            report.summary.stale_baseline.is_empty(),
            "{:?}",
            report.summary
        );
        assert_eq!(report.summary.skipped, 1);
        assert!(report.passed());
    }

    #[test]
    fn baseline_lines_are_checked() {
        let b =
            Baseline::parse("# expected\nhappy-localhost token-post  # GET\n\n").expect("parses");
        assert!(b.expects("happy-localhost", "token-post"));
        assert!(!b.expects("happy-localhost", "token-form-body"));
        assert!(Baseline::parse("happy-localhost")
            .expect_err("one word")
            .contains("line 1"));
        assert!(Baseline::parse("a b c")
            .expect_err("three words")
            .contains("expected"));
        assert!(Baseline::parse("a not-a-rule")
            .expect_err("unknown rule")
            .contains("not-a-rule"));
    }
}
