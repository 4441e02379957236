//! Notes: what happened in a run that is not a verdict but explains one — each move of the
//! mock's clock, whether the client's clock moved with it and what the client did next; each
//! injected fault and whether the request came back.

use crate::driver::RunRecord;
use crate::rules::apikey::{redirect_at, Redirect};
use crate::rules::{describe, is_refresh};

/// The notes of one run, in the order things happened.
pub fn notes(run: &RunRecord) -> Vec<String> {
    let mut notes = Vec::new();
    if run.scenario.clock_skew > 0 {
        notes.push(format!(
            "the mock's clock was {} s ahead of the client's from the start (the scenario's clock_skew)",
            run.scenario.clock_skew
        ));
    }
    for (i, pair) in run.exchanges.windows(2).enumerate() {
        let (before, after) = (&pair[0], &pair[1]);
        if after.at_ms > before.at_ms {
            notes.push(clock_note(run, i, after.at_ms - before.at_ms));
        }
    }
    // A move fired by the last exchange has no request after it.
    if let Some(last) = run.exchanges.last() {
        for moved in last
            .actions
            .iter()
            .filter(|a| a.starts_with("clock advanced"))
        {
            notes.push(format!(
                "the mock's {moved} right after #{} {} {} -> {}, the client's last request",
                last.id, last.method, last.path, last.status
            ));
        }
    }
    for (i, e) in run.exchanges.iter().enumerate() {
        if e.fault || e.scripted.is_some() {
            notes.push(fault_note(run, i));
        }
    }
    notes
}

fn clock_note(run: &RunRecord, before: usize, moved_ms: u64) -> String {
    let (b, a) = (&run.exchanges[before], &run.exchanges[before + 1]);
    let when = if b.actions.iter().any(|x| x.starts_with("clock advanced")) {
        format!(
            "right after #{} {} {} -> {}",
            b.id, b.method, b.path, b.status
        )
    } else {
        format!(
            "between #{} and #{} (the browser, before the callback)",
            b.id, a.id
        )
    };
    let client = if run.clock_shared && !run.clock_unfollowed.is_empty() {
        format!(
            "the client's clock moved with it only where libfaketime is loaded: {} ran without it (a static binary, or a program that clears LD_PRELOAD), and its clock did not move",
            run.clock_unfollowed.join(", ")
        )
    } else if run.clock_shared {
        "the client's clock moved with it".to_owned()
    } else {
        format!(
            "the client's clock did not ({})",
            run.clock_note.as_deref().unwrap_or("shared clock off")
        )
    };
    let next = if is_refresh(a) {
        format!("it refreshed first: {}", describe(a))
    } else if a.rule == Some("access-token-expired") {
        format!("it sent its expired access token: {}", describe(a))
    } else {
        format!("its next request: {}", describe(a))
    };
    format!(
        "the mock's clock moved +{} s {when}; {client}; {next}",
        moved_ms / 1000
    )
}

fn fault_note(run: &RunRecord, i: usize) -> String {
    let e = &run.exchanges[i];
    if let Some(Redirect {
        location, followed, ..
    }) = redirect_at(run, i)
    {
        let outcome = match followed {
            Some(n) => format!("the client followed it: {}", describe(n)),
            None => "the client did not follow it".to_owned(),
        };
        return format!(
            "#{} {} {} got an injected 307 to {location}; {outcome}",
            e.id, e.method, e.path
        );
    }
    let retry_after = e
        .response_header("retry-after")
        .map(|s| format!(" with Retry-After: {s}"))
        .unwrap_or_default();
    let again = run.exchanges[i + 1..]
        .iter()
        .find(|n| n.method == e.method && n.path == e.path);
    let outcome = match again {
        Some(n) => format!(
            "the client sent it again after {} ms (#{})",
            n.elapsed_ms.saturating_sub(e.elapsed_ms),
            n.id
        ),
        None => "the client did not send it again".to_owned(),
    };
    let what = match (&e.scripted, e.fault) {
        (Some(s), true) => format!("an injected fault ({s})"),
        (Some(s), false) => format!("a scripted answer ({s})"),
        (None, _) => format!("an injected {}{retry_after}", e.status),
    };
    format!("#{} {} {} got {what}; {outcome}", e.id, e.method, e.path)
}
