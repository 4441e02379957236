//! Rules for API-key clients that look at the run as a whole: the `Date` of signed requests
//! (refusals the scenario provokes by moving the mock's clock are allowed), 307s followed and
//! signed again, and a 401 not retried in a loop. The rest map one-to-one to the mock's
//! refusals (`rules.rs`).

use std::collections::BTreeMap;

use mock_server::record::Exchange;

use super::{describe, is_api, Verdict};
use crate::driver::RunRecord;

/// Whether the request was signed (`Authorization: On …`).
pub(crate) fn is_signed(e: &Exchange) -> bool {
    e.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization")
            && value
                .get(..3)
                .is_some_and(|s| s.eq_ignore_ascii_case("on "))
    })
}

/// How many `date-fresh` refusals the scenario provokes: one for a clock skew, and one per
/// move of the mock's clock that the client's did not follow.
fn provoked_date_refusals(run: &RunRecord) -> usize {
    let unfollowed_moves = if run.clock_shared {
        0
    } else {
        run.exchanges
            .iter()
            .flat_map(|e| &e.actions)
            .filter(|a| a.starts_with("clock advanced"))
            .count()
    };
    usize::from(run.scenario.clock_skew > 0) + unfollowed_moves
}

pub(super) fn date_fresh(run: &RunRecord) -> Verdict {
    if !run.exchanges.iter().any(is_signed) {
        return Verdict::NotApplicable("no signed request was made".into());
    }
    if run
        .scenario
        .expected_refusals
        .iter()
        .any(|r| r == "date-fresh")
    {
        return Verdict::NotApplicable("the scenario expects Date refusals".into());
    }
    let refused: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.rule == Some("date-fresh"))
        .map(describe)
        .collect();
    let provoked = provoked_date_refusals(run);
    if refused.len() <= provoked {
        return Verdict::Holds(if provoked == 0 {
            "every signed request carried a fresh Date".into()
        } else {
            format!(
                "the scenario put the client's clock off the mock's ({provoked} time(s)); it was refused at most once for each"
            )
        });
    }
    let why = if provoked == 0 {
        String::new()
    } else {
        format!(
            " (the scenario put the client's clock off the mock's {provoked} time(s), which allows as many; each refusal's Date header said by how much)"
        )
    };
    Verdict::Broken(
        format!(
            "the mock refused {} signed request(s) for their Date{why}",
            refused.len()
        ),
        refused,
    )
}

/// The path of a `Location` URL (absolute or a path).
pub(crate) fn location_path(location: &str) -> String {
    let path = match url::Url::parse(location) {
        Ok(u) => u.path().to_owned(),
        Err(_) => location.to_owned(),
    };
    path.split('?').next().unwrap_or("").to_owned()
}

/// A 307 the client got, and what it did about it.
pub(crate) struct Redirect<'a> {
    pub(crate) location: &'a str,
    /// The path of the location.
    pub(crate) target: String,
    /// The client's next request with the same method to that path.
    pub(crate) followed: Option<&'a Exchange>,
}

/// The redirect of exchange `i`, when it was answered 307 with a location.
pub(crate) fn redirect_at(run: &RunRecord, i: usize) -> Option<Redirect<'_>> {
    let r = &run.exchanges[i];
    let location = r.location.as_deref().filter(|_| r.status == 307)?;
    let target = location_path(location);
    let followed = run.exchanges[i + 1..]
        .iter()
        .find(|n| n.method == r.method && n.path == target);
    Some(Redirect {
        location,
        target,
        followed,
    })
}

pub(super) fn redirect_resigned(run: &RunRecord) -> Verdict {
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    let mut redirects = 0;
    let mut followed = 0;
    for (i, r) in run.exchanges.iter().enumerate() {
        let Some(Redirect {
            target,
            followed: next,
            ..
        }) = redirect_at(run, i)
        else {
            continue;
        };
        redirects += 1;
        match next {
            None => {
                problems.push(format!("the 307 to {target} was not followed"));
                evidence.push(describe(r));
            }
            Some(n) if n.rule == Some("redirect-resigned") => {
                problems.push(format!(
                    "the request to {target} after the 307 was signed for the URL before it"
                ));
                evidence.extend([describe(r), describe(n)]);
            }
            // Refused for another reason: the rule of that reason reports it.
            Some(_) => followed += 1,
        }
    }
    evidence.extend(
        run.exchanges
            .iter()
            .filter(|e| e.rule == Some("redirect-resigned"))
            .map(describe)
            .filter(|d| !evidence.contains(d))
            .collect::<Vec<_>>(),
    );
    if !evidence.is_empty() {
        if problems.is_empty() {
            problems.push("a request was signed for the URL before its redirect".into());
        }
        return Verdict::Broken(problems.join("; "), evidence);
    }
    if redirects == 0 {
        Verdict::NotApplicable("the mock sent no 307".into())
    } else {
        Verdict::Holds(format!(
            "the client followed {followed} of {redirects} 307(s), signed for the new URL"
        ))
    }
}

/// Most 401s one request may get: the first, and one retry.
const MAX_401_PER_REQUEST: usize = 2;

pub(super) fn no_retry_on_401(run: &RunRecord) -> Verdict {
    let mut by_request: BTreeMap<(&str, &str), Vec<&Exchange>> = BTreeMap::new();
    for e in run
        .exchanges
        .iter()
        .filter(|e| is_api(e) && e.status == 401)
    {
        by_request
            .entry((e.method.as_str(), e.path.as_str()))
            .or_default()
            .push(e);
    }
    if by_request.is_empty() {
        return Verdict::NotApplicable("no API request was answered 401".into());
    }
    let looped: Vec<(&(&str, &str), &Vec<&Exchange>)> = by_request
        .iter()
        .filter(|(_, all)| all.len() > MAX_401_PER_REQUEST)
        .collect();
    if looped.is_empty() {
        return Verdict::Holds("after a 401 the client retried at most once".into());
    }
    let message = looped
        .iter()
        .map(|((method, path), all)| {
            format!("{method} {path} was answered 401 {} times", all.len())
        })
        .collect::<Vec<_>>()
        .join("; ");
    let evidence = looped
        .iter()
        .flat_map(|(_, all)| all.iter().map(|e| describe(e)))
        .collect();
    Verdict::Broken(message, evidence)
}
