//! The text report: what `check` prints after the per-scenario lines.

use std::fmt::Write;

use super::{ReportedFinding, RunReport, Verdict};
use crate::rules::Level;

impl RunReport {
    /// The text printed after the per-scenario lines: each failed or warned finding with its
    /// evidence — once for all the scenarios where it reads the same — then, for each failed
    /// or warned scenario, its notes and the end of the client's output.
    pub fn failures_text(&self) -> String {
        let mut out = String::new();
        for group in self.finding_groups() {
            let f = &group.finding.finding;
            let tag = if group.finding.baselined {
                " (baselined)"
            } else {
                ""
            };
            let level = match f.severity {
                Level::Must => "MUST",
                Level::Should => "SHOULD",
            };
            let place = match group.scenarios.as_slice() {
                [one] => format!("{one} / {}", f.rule),
                many => format!(
                    "{} in {} scenarios ({})",
                    f.rule,
                    many.len(),
                    many.join(", ")
                ),
            };
            let _ = writeln!(out, "\n{place} [{level}]{tag}: {}", f.message);
            let _ = writeln!(out, "  rule: {}", f.expected);
            let _ = writeln!(out, "  fix:  {}", f.fix);
            if group.scenarios.len() > 1 {
                let _ = writeln!(out, "  evidence from {}:", group.scenarios[0]);
            }
            for e in &f.evidence {
                let _ = writeln!(out, "  > {e}");
            }
        }
        for s in self
            .scenarios
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Fail | Verdict::Warn))
        {
            let mut section = String::new();
            for n in &s.notes {
                let _ = writeln!(section, "  note: {n}");
            }
            if s.verdict == Verdict::Fail {
                if let Some(page) = &s.final_page {
                    let _ = writeln!(section, "  the app's last page: {page}");
                }
                for step in tail(&s.navigation.join("\n"), 8) {
                    let _ = writeln!(section, "  browser: {step}");
                }
                let stderr = tail(&s.stderr, 5);
                if !stderr.is_empty() {
                    let _ = writeln!(section, "  client stderr (last lines):");
                    for l in stderr {
                        let _ = writeln!(section, "    {l}");
                    }
                }
            }
            if !section.is_empty() {
                let _ = write!(out, "\n-- {} ({}):\n{section}", s.id, s.end);
            }
        }
        for stale in &self.summary.stale_baseline {
            let _ = writeln!(
                out,
                "\nstale baseline entry `{stale}`: this failure no longer happens; remove the line"
            );
        }
        let s = &self.summary;
        let skipped = if s.skipped > 0 {
            format!(", {} skipped", s.skipped)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n{}: {} passed, {} warned, {} failed{skipped}; {} ({} baselined) in {} ms",
            plural(s.scenarios, "scenario"),
            s.passed,
            s.warned,
            s.failed,
            plural(s.must_failures, "MUST failure"),
            s.baselined,
            s.duration_ms
        );
        let _ = writeln!(out, "shared clock: {}", self.meta.shared_clock);
        out
    }

    /// The failed and warned findings, each once with every scenario where it reads the same
    /// (rule, message and evidence, request numbers aside), in scenario then catalog order.
    fn finding_groups(&self) -> Vec<FindingGroup<'_>> {
        let mut groups: Vec<FindingGroup<'_>> = Vec::new();
        for s in &self.scenarios {
            for f in s.broken() {
                let key = group_key(f);
                match groups.iter_mut().find(|g| g.key == key) {
                    Some(g) => g.scenarios.push(&s.id),
                    None => groups.push(FindingGroup {
                        key,
                        finding: f,
                        scenarios: vec![&s.id],
                    }),
                }
            }
        }
        groups
    }
}

struct FindingGroup<'a> {
    key: String,
    finding: &'a ReportedFinding,
    scenarios: Vec<&'a str>,
}

/// `1 scenario`, `2 scenarios`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What makes two findings "the same" across scenarios: rule, outcome, baselined, the
/// message with its numbers taken out, and the mock rules its evidence names (the evidence
/// itself differs in ports, codes and times).
fn group_key(f: &ReportedFinding) -> String {
    let message: String = f
        .finding
        .message
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect();
    // The mock rules the evidence names (`[scope-sufficient]`): findings refused for different
    // reasons are not the same.
    let mut tags: Vec<&str> = f
        .finding
        .evidence
        .iter()
        .flat_map(|e| {
            e.split('[')
                .skip(1)
                .filter_map(|t| t.split_once(']').map(|(t, _)| t))
        })
        .collect();
    tags.sort_unstable();
    tags.dedup();
    format!(
        "{}|{:?}|{}|{message}|{}",
        f.finding.rule,
        f.finding.outcome,
        f.baselined,
        tags.join(",")
    )
}

/// The last `n` non-empty lines of `text`.
fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}
