//! Rules about a server that misbehaves: odd callbacks, transient and permanent failures,
//! unusable token responses, a refresh raced by concurrent calls, answers that never come.

use mock_server::record::Exchange;
use mock_server::script::{ConnectionFault, Fault, TokenQuirk};

use super::refresh::ACCESS_LIFETIME_MS;
use super::{describe, form, is_api, is_refresh, is_token, Verdict};
use crate::driver::RunRecord;

/// Retries of one request after transient failures that a client may make.
pub(crate) const MAX_RETRIES: usize = 3;

/// A code exchange (`grant_type=authorization_code`).
fn is_code_exchange(e: &Exchange) -> bool {
    is_token(e) && form(e, "grant_type") == Some("authorization_code")
}

/// A failure that may pass by itself: 429, a 5xx, no answer or half of one (status 0).
fn transient(e: &Exchange) -> bool {
    e.status == 0 || e.status == 429 || e.status >= 500
}

/// A credential as the log shows it (a fingerprint) that stands for no credential at all: an
/// empty value, or a language's "nothing" turned into text.
fn placeholder(shown: &str) -> bool {
    [
        "…(0)",
        "None…(4)",
        "null…(4)",
        "undefi…(9)",
        "nil…(3)",
        "NULL…(4)",
    ]
    .contains(&shown)
}

/// The bearer token of an API request, as logged (`abcdef…(40)`).
fn bearer(e: &Exchange) -> Option<&str> {
    e.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| {
            let (scheme, rest) = v.split_once(' ').unwrap_or((v.as_str(), "…(0)"));
            scheme.eq_ignore_ascii_case("bearer").then_some(rest)
        })
}

pub(super) fn no_exchange_without_code(run: &RunRecord) -> Verdict {
    let mut offending: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| is_code_exchange(e) && form(e, "code").is_none_or(placeholder))
        .map(|e| format!("{} (no code to exchange)", describe(e)))
        .collect();
    let odd: Vec<(usize, &crate::driver::Delivered)> = run
        .delivered
        .iter()
        .enumerate()
        .filter(|(_, d)| d.odd.is_some_and(|o| o.nothing_to_redeem()) && d.received)
        .collect();
    for &(i, d) in &odd {
        let until = run
            .delivered
            .get(i + 1)
            .map_or(u64::MAX, |next| next.after_exchange);
        let what = d.odd.map_or("", |o| o.as_str());
        offending.extend(
            run.exchanges
                .iter()
                .filter(|e| {
                    // Any grant but a refresh: a client that turns a code-less callback into
                    // a client_credentials request asks for tokens all the same.
                    (is_token(e) && !is_refresh(e))
                        && ((e.id > d.after_exchange && e.id <= until)
                            || (d.code.is_some() && form(e, "code") == d.code.as_deref()))
                })
                .map(|e| format!("{} (after the `{what}` callback {})", describe(e), d.to)),
        );
    }
    offending.dedup();
    if !offending.is_empty() {
        return Verdict::Broken(
            "the client asked for tokens with nothing it may exchange".into(),
            offending,
        );
    }
    match odd.first() {
        Some((_, d)) => Verdict::Holds(format!(
            "no token request followed the `{}` callback",
            d.odd.map_or("", |o| o.as_str())
        )),
        None if run.exchanges.iter().any(is_code_exchange) => {
            Verdict::Holds("every code exchange carried a code".into())
        }
        None => Verdict::NotApplicable("no code exchange, and no odd callback".into()),
    }
}

/// What makes two requests "the same request" for retries: method, path and query, and for a
/// token request its grant and the code or refresh token it carries.
fn same_request(a: &Exchange, b: &Exchange) -> bool {
    a.method == b.method
        && a.path == b.path
        && a.raw_query == b.raw_query
        && (!is_token(a)
            || ["grant_type", "code", "refresh_token"]
                .iter()
                .all(|k| form(a, k) == form(b, k)))
}

pub(super) fn retry_bounded(run: &RunRecord) -> Verdict {
    let ex = &run.exchanges;
    let mut evidence = Vec::new();
    let mut message = None;
    let mut failures_seen = false;
    for (i, e) in ex.iter().enumerate() {
        if !(is_api(e) || is_token(e)) || (200..400).contains(&e.status) {
            continue;
        }
        let again = || ex[i + 1..].iter().find(|n| same_request(n, e));
        if transient(e) {
            failures_seen = true;
            // Only the start of a run of attempts is counted from.
            if ex[..i]
                .iter()
                .rev()
                .find(|p| same_request(p, e))
                .is_some_and(transient)
            {
                continue;
            }
            let mut chain = vec![e];
            let mut j = i;
            while let Some(k) = ex[j + 1..].iter().position(|n| same_request(n, e)) {
                j += 1 + k;
                chain.push(&ex[j]);
                if !transient(&ex[j]) {
                    break;
                }
            }
            if chain.len() > MAX_RETRIES + 1 {
                message.get_or_insert(format!(
                    "one request was sent {} times in a row after transient failures: at most {MAX_RETRIES} retries",
                    chain.len()
                ));
                evidence.extend([chain[0], chain[chain.len() - 1]].map(describe));
            }
        } else if is_token(e) && (400..500).contains(&e.status) {
            failures_seen = true;
            if let Some(n) = again() {
                message.get_or_insert(format!(
                    "a token request refused with a permanent error ({}) was sent again unchanged",
                    e.status
                ));
                evidence.extend([describe(e), describe(n)]);
            }
        }
    }
    match message {
        Some(m) => Verdict::Broken(m, evidence),
        None if failures_seen => Verdict::Holds(format!(
            "transient failures were retried at most {MAX_RETRIES} times, permanent ones not resent"
        )),
        None => Verdict::NotApplicable("no request failed".into()),
    }
}

pub(super) fn credentials_kept(run: &RunRecord) -> Verdict {
    // Judged from the first unusable or odd token response on: a credential sent empty before
    // it is another rule's finding (bearer-header), not a response the client trusted.
    let Some(first) = run
        .exchanges
        .iter()
        .position(|e| is_token(e) && e.scripted.is_some() && (e.fault || e.status == 200))
    else {
        return Verdict::NotApplicable("no token response was unusable or odd".into());
    };
    let sent_nothing: Vec<String> = run.exchanges[first + 1..]
        .iter()
        .filter(|e| {
            (is_api(e) && bearer(e).is_some_and(placeholder))
                || (is_refresh(e) && form(e, "refresh_token").is_none_or(placeholder))
        })
        .map(describe)
        .collect();
    if !sent_nothing.is_empty() {
        return Verdict::Broken(
            format!(
                "after {} the client sent a credential it was never given (an empty or null token, or a refresh without a refresh token)",
                describe(&run.exchanges[first])
            ),
            sent_nothing,
        );
    }
    Verdict::Holds(format!(
        "after {} the client sent only credentials it had been given",
        describe(&run.exchanges[first])
    ))
}

pub(super) fn single_refresh(run: &RunRecord) -> Verdict {
    let ex = &run.exchanges;
    let refreshes: Vec<&Exchange> = ex.iter().filter(|e| is_refresh(e) && !e.fault).collect();
    for (n, a) in refreshes.iter().enumerate() {
        if a.status != 200 {
            continue;
        }
        // Within the life of the token `a` issued: the same expiry, met by several calls.
        let raced = refreshes[n + 1..].iter().find(|b| {
            b.at_ms < a.at_ms + ACCESS_LIFETIME_MS
                && form(b, "refresh_token") == form(a, "refresh_token")
        });
        if let Some(b) = raced {
            return Verdict::Broken(
                "two refreshes with the same refresh token for one expiry: calls that met the expired token each refreshed".into(),
                vec![describe(a), describe(b)],
            );
        }
    }
    if refreshes.is_empty() {
        Verdict::NotApplicable("no refresh".into())
    } else {
        Verdict::Holds("each expiry was answered by one refresh".into())
    }
}

/// The scenario's faults that may have shaped `e` (none when the mock touched nothing).
fn faults_of<'a>(run: &'a RunRecord, e: &'a Exchange) -> impl Iterator<Item = &'a Fault> {
    let scenario = &run.scenario;
    scenario
        .faults
        .iter()
        .chain(scenario.triggers.iter().filter_map(|t| t.fault.as_ref()))
        .filter(move |f| e.scripted.is_some() && f.matches(&e.path, form(e, "grant_type")))
}

/// Whether the answer to `e` was held back past the client's timeout (or never sent): the
/// client could not have read it.
pub(super) fn held_back(run: &RunRecord, e: &Exchange) -> bool {
    let timeout_s = run.scenario.http_timeout;
    faults_of(run, e).any(|f| {
        f.connection == Some(ConnectionFault::Silent) || f.delay.is_some_and(|d| d > timeout_s)
    })
}

/// Whether the token response of `e` was sent without its refresh token.
pub(super) fn without_refresh_token(run: &RunRecord, e: &Exchange) -> bool {
    faults_of(run, e).any(|f| f.token == Some(TokenQuirk::NoRefreshToken))
}

/// Whether the token response of `e` misstated the token's life (ten years) or left it out:
/// the client could not foresee the expiry.
pub(super) fn expiry_misstated(run: &RunRecord, e: &Exchange) -> bool {
    faults_of(run, e).any(|f| {
        matches!(
            f.token,
            Some(TokenQuirk::ExpiresInLong | TokenQuirk::NoExpiresIn)
        )
    })
}

pub(super) fn timeout_bounded(run: &RunRecord) -> Verdict {
    let timeout_ms = (run.scenario.http_timeout * 1000.0) as u64;
    let allowed_ms = timeout_ms + timeout_ms / 2 + 1000;
    let mut checked = 0;
    for (i, e) in run.exchanges.iter().enumerate() {
        if !held_back(run, e) {
            continue;
        }
        checked += 1;
        let (moved_on, what) = match run.exchanges.get(i + 1) {
            Some(n) => (
                n.elapsed_ms,
                format!(
                    "its next request came {} ms later",
                    n.elapsed_ms.saturating_sub(e.elapsed_ms)
                ),
            ),
            None => (
                run.ended_ms,
                format!(
                    "it ended {} ms later",
                    run.ended_ms.saturating_sub(e.elapsed_ms)
                ),
            ),
        };
        if moved_on.saturating_sub(e.elapsed_ms) > allowed_ms {
            return Verdict::Broken(
                format!(
                    "the client waited on an answer that did not come for longer than ONSHAPE_HTTP_TIMEOUT ({} s): {what}",
                    run.scenario.http_timeout
                ),
                vec![describe(e)],
            );
        }
    }
    if checked == 0 {
        Verdict::NotApplicable("no answer was held back past the timeout".into())
    } else {
        Verdict::Holds(format!(
            "the client gave up on the missing answer within ONSHAPE_HTTP_TIMEOUT ({} s)",
            run.scenario.http_timeout
        ))
    }
}
