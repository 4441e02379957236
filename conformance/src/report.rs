//! Results and reports: a line per scenario as it finishes, the failed findings at the end,
//! `--json`, `--junit`, and the baseline of expected failures.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::time::Duration;

use serde::Serialize;

use crate::driver::{ClientEnd, RunRecord};
use crate::rules::{Finding, Level, Outcome};

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    pub duration_ms: u64,
    /// How the client ended: `exit 0`, `exit 1`, `timed out`, or why the runner ended it.
    pub end: String,
    pub findings: Vec<ReportedFinding>,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
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
        ScenarioResult {
            id: run.scenario.id.clone(),
            title: run.scenario.title.clone(),
            verdict,
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
            end: match &run.end {
                ClientEnd::Exited(Some(c)) => format!("exit {c}"),
                ClientEnd::Exited(None) => "killed by a signal".to_owned(),
                ClientEnd::TimedOut => "timed out".to_owned(),
                ClientEnd::EndedEarly(why) => format!("ended by the runner: {why}"),
            },
            findings,
            stdout: run.stdout.clone(),
            stderr: run.stderr.clone(),
        }
    }

    /// The one line printed when the scenario finishes.
    pub fn line(&self) -> String {
        let failed: Vec<&str> = self
            .findings
            .iter()
            .filter(|f| matches!(f.finding.outcome, Outcome::Fail | Outcome::Warn))
            .map(|f| f.finding.rule)
            .collect();
        let mark = match self.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        let rules = if failed.is_empty() {
            String::new()
        } else {
            format!("  [{}]", failed.join(", "))
        };
        format!(
            "{mark}  {:<22} {:>6} ms  {}{rules}",
            self.id, self.duration_ms, self.end
        )
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenarios: Vec<ScenarioResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenarios: usize,
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
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
                scenarios.iter().any(|s| &s.id == sid)
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
        RunReport { scenarios, summary }
    }

    /// Whether the run passes: every MUST rule held (or is baselined) and no baseline entry is stale.
    pub fn passed(&self) -> bool {
        self.summary.must_failures == 0 && self.summary.stale_baseline.is_empty()
    }

    /// The text printed after the per-scenario lines: each failed finding with its evidence.
    pub fn failures_text(&self) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            for f in s
                .findings
                .iter()
                .filter(|f| matches!(f.finding.outcome, Outcome::Fail | Outcome::Warn))
            {
                let tag = if f.baselined { " (baselined)" } else { "" };
                let _ = writeln!(
                    out,
                    "\n{} / {} [{:?}]{tag}: {}",
                    s.id, f.finding.rule, f.finding.severity, f.finding.message
                );
                let _ = writeln!(out, "  rule: {}", f.finding.expected);
                let _ = writeln!(out, "  fix:  {}", f.finding.fix);
                for e in &f.finding.evidence {
                    let _ = writeln!(out, "  > {e}");
                }
            }
            if s.verdict == Verdict::Fail && !s.stderr.trim().is_empty() {
                let tail: Vec<&str> = s.stderr.trim().lines().rev().take(5).collect();
                let _ = writeln!(out, "  client stderr (last lines):");
                for l in tail.iter().rev() {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
        for stale in &self.summary.stale_baseline {
            let _ = writeln!(
                out,
                "\nstale baseline entry `{stale}`: this failure no longer happens; remove the line"
            );
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "\n{} scenarios: {} passed, {} warned, {} failed; {} MUST failures ({} baselined) in {} ms",
            s.scenarios, s.passed, s.warned, s.failed, s.must_failures, s.baselined, s.duration_ms
        );
        out
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// JUnit XML: a test case per scenario; failures carry the evidence.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("onshape-mock conformance");
        for s in &self.scenarios {
            let failed: Vec<&ReportedFinding> = s
                .findings
                .iter()
                .filter(|f| f.finding.outcome == Outcome::Fail && !f.baselined)
                .collect();
            let status = if failed.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let rules: Vec<&str> = failed.iter().map(|f| f.finding.rule).collect();
                st.set_message(format!("broke {}", rules.join(", ")));
                st.set_type("rule");
                let mut text = String::new();
                for f in failed {
                    let _ = writeln!(text, "{}: {}", f.finding.rule, f.finding.message);
                    for e in &f.finding.evidence {
                        let _ = writeln!(text, "  > {e}");
                    }
                }
                st.set_description(text);
                st
            };
            let mut case = TestCase::new(s.id.clone(), status);
            case.set_classname("onshape-mock.check");
            case.set_time(Duration::from_millis(s.duration_ms));
            case.set_system_out(s.stdout.clone());
            case.set_system_err(s.stderr.clone());
            // SHOULD rules do not fail a test case; CI still sees them as properties.
            for w in s
                .findings
                .iter()
                .filter(|f| f.finding.outcome == Outcome::Warn)
            {
                case.add_property(quick_junit::Property::new(
                    format!("warning:{}", w.finding.rule),
                    w.finding.message.clone(),
                ));
            }
            suite.add_test_case(case);
        }
        if !self.summary.stale_baseline.is_empty() {
            // A stale baseline fails the run: the CI system must see it too.
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(
                "stale baseline entries: these failures no longer happen; remove the lines",
            );
            st.set_type("baseline");
            st.set_description(self.summary.stale_baseline.join(
                "
",
            ));
            let mut case = TestCase::new("baseline", st);
            case.set_classname("onshape-mock.check");
            suite.add_test_case(case);
        }
        let mut report = Report::new("onshape-mock check");
        report.add_test_suite(suite);
        report.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
