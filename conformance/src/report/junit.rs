//! The JUnit report: a test case per scenario, for CI systems.

use std::fmt::Write;
use std::time::Duration;

use super::{ReportedFinding, RunReport};
use crate::rules::Outcome;

impl RunReport {
    /// JUnit XML: a test case per scenario; failures carry the evidence.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("onshape-mock conformance");
        let meta = &self.meta;
        for (name, value) in [
            ("tool", format!("{} {}", meta.tool.name, meta.tool.version)),
            ("command", meta.command.clone()),
            ("mode", meta.mode.to_owned()),
            ("shared-clock", meta.shared_clock.clone()),
        ] {
            suite.add_property(quick_junit::Property::new(name, value));
        }
        for s in &self.scenarios {
            let failed: Vec<&ReportedFinding> = s
                .findings
                .iter()
                .filter(|f| f.finding.outcome == Outcome::Fail && !f.baselined)
                .collect();
            let status = if let Some(why) = &s.skipped {
                let mut st = TestCaseStatus::skipped();
                st.set_message(why.clone());
                st
            } else if failed.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let rules: Vec<&str> = failed.iter().map(|f| f.finding.rule).collect();
                st.set_message(format!("broke {}", rules.join(", ")));
                st.set_type("rule");
                let mut text = String::new();
                for f in failed {
                    let _ = writeln!(text, "{}: {}", f.finding.rule, f.finding.message);
                    let _ = writeln!(text, "  rule: {}", f.finding.expected);
                    let _ = writeln!(text, "  fix:  {}", f.finding.fix);
                    for e in &f.finding.evidence {
                        let _ = writeln!(text, "  > {e}");
                    }
                }
                for n in &s.notes {
                    let _ = writeln!(text, "note: {n}");
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
