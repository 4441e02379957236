//! Rules about the token endpoint and the token's life: where token requests go, expired
//! codes, refreshing on expiry (and only then), rotation, and stopping when refresh fails.

use mock_server::record::Exchange;

use super::resilience::{expiry_misstated, held_back, without_refresh_token};
use super::{describe, form, is_api, is_refresh, is_token, Verdict};
use crate::driver::RunRecord;

/// Onshape's access tokens live 60 minutes.
pub(super) const ACCESS_LIFETIME_MS: u64 = 3_600_000;

pub(super) fn token_at_oauth_host(run: &RunRecord) -> Verdict {
    let elsewhere: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| is_token(e) && (e.origin == "api" || e.warning == Some("token-at-oauth-host")))
        .map(describe)
        .collect();
    if !elsewhere.is_empty() {
        return Verdict::Broken(
            format!("{} token request(s) went to the API host: it answers them, but the guide names https://oauth.onshape.com/oauth/token", elsewhere.len()),
            elsewhere,
        );
    }
    if run.exchanges.iter().any(is_token) {
        Verdict::Holds("token requests went to the OAuth host".into())
    } else {
        Verdict::NotApplicable("no token request".into())
    }
}

pub(super) fn code_expiry_handled(run: &RunRecord) -> Verdict {
    let expired: Vec<&Exchange> = run
        .exchanges
        .iter()
        .filter(|e| e.rule == Some("code-expired"))
        .collect();
    if expired.is_empty() {
        return Verdict::NotApplicable("no code expired".into());
    }
    if expired.len() > 1 {
        return Verdict::Broken(
            "the client retried an expired code".into(),
            expired.into_iter().map(describe).collect(),
        );
    }
    let reauthorized = run.opened.len() > 1;
    match run.exit_code() {
        Some(0) if reauthorized => {
            Verdict::Holds("the client authorized again after the code expired".into())
        }
        Some(0) => Verdict::Broken(
            "the client exited 0 after its code expired, without authorizing again".into(),
            expired.into_iter().map(describe).collect(),
        ),
        Some(_) => Verdict::Holds("the client stopped with an error after the code expired".into()),
        None => Verdict::Broken(
            "the client did not end after its code expired".into(),
            vec![],
        ),
    }
}

/// The exchanges at which the client's newest access token had expired on the mock's clock
/// (the scenario moved it past the token's 60 minutes) or the mock said so (a 401): one per
/// token, the first exchange that met it; not for a token whose response misstated or omitted
/// its `expires_in`.
fn expiries(run: &RunRecord) -> Vec<usize> {
    let mut points = Vec::new();
    let mut issued_at: Option<u64> = None;
    for (i, e) in run.exchanges.iter().enumerate() {
        // A 401 for an older token (a call that raced the refresh) is not a new expiry: the
        // newest token's own 60 minutes decide.
        if issued_at.is_some_and(|t| e.at_ms >= t + ACCESS_LIFETIME_MS) {
            points.push(i);
            issued_at = None;
        }
        if issued_tokens(run, e) {
            // A token whose response misstated its life is judged by refresh-on-401.
            issued_at = (!expiry_misstated(run, e)).then_some(e.at_ms);
        }
    }
    points
}

/// Whether `e` handed the client new tokens: a token request answered 200 by the endpoint
/// itself (not an injected 200 without tokens), in time for the client to read it.
fn issued_tokens(run: &RunRecord, e: &Exchange) -> bool {
    is_token(e) && e.status == 200 && !e.fault && !held_back(run, e)
}

pub(super) fn refresh_on_expiry(run: &RunRecord) -> Verdict {
    let points = expiries(run);
    if points.is_empty() {
        return Verdict::NotApplicable("no access token expired in this run".into());
    }
    let mut stopped = 0;
    for (n, &p) in points.iter().enumerate() {
        let until = points.get(n + 1).copied().unwrap_or(run.exchanges.len());
        let window = &run.exchanges[p..until];
        // Without a refresh token (the last token response had none), authorizing again is
        // the way to renew, and stopping with an error is allowed.
        let reauthorize = run.exchanges[..p]
            .iter()
            .rev()
            .find(|e| issued_tokens(run, e))
            .is_some_and(|e| without_refresh_token(run, e));
        let renews = |e: &Exchange| is_refresh(e) || (reauthorize && is_token(e));
        let refreshed = window
            .iter()
            .position(|e| renews(e) && issued_tokens(run, e));
        // An attempt counts, whatever the answer (a refusal, an injected fault).
        let tried = window.iter().any(renews);
        let went_on = refreshed.is_some_and(|r| {
            window[r..]
                .iter()
                .any(|e| is_api(e) && (200..300).contains(&e.status))
        });
        // A refresh that was refused (a rotated-out token, a revoked grant) is another
        // rule's finding: the client did what this rule asks.
        if refreshed.is_some() && !went_on {
            return Verdict::Broken(
                "the client refreshed but made no successful API call afterwards".into(),
                vec![describe(&run.exchanges[p])],
            );
        }
        if !tried && reauthorize && run.exit_code().is_some_and(|c| c != 0) {
            stopped += 1;
            continue;
        }
        if !tried {
            return Verdict::Broken(
                "the access token expired and the client did not refresh it".into(),
                vec![describe(&run.exchanges[p])],
            );
        }
    }
    if stopped > 0 {
        return Verdict::Holds(
            "the access token expired with no refresh token issued; the client stopped with an error"
                .into(),
        );
    }
    let on_401 = points
        .iter()
        .filter(|p| run.exchanges[**p].rule == Some("access-token-expired"))
        .count();
    Verdict::Holds(match (points.len(), on_401) {
        (n, 0) => format!("{n} expiry(ies): each time the client refreshed before using the expired token, and went on"),
        (n, k) if k == n => format!("{n} expiry(ies): each time the client refreshed after the 401 and went on"),
        (n, k) => format!("{n} expiries, {k} met with a 401: each time the client refreshed and went on"),
    })
}

/// A 401 from the API that says the token is no good although the client had no way to know
/// it: an injected 401 (revoked elsewhere), or the expiry of a token whose response misstated
/// or omitted `expires_in` (those expiries are not [`expiries`]).
pub(super) fn refresh_on_401(run: &RunRecord) -> Verdict {
    let ex = &run.exchanges;
    let mut seen = 0;
    // Whether the newest token's response misstated or left out its expiry.
    let mut misstated = false;
    for (i, e) in ex.iter().enumerate() {
        if issued_tokens(run, e) {
            misstated = expiry_misstated(run, e);
        }
        let unforeseen = is_api(e)
            && e.status == 401
            && (e.fault || (misstated && e.rule == Some("access-token-expired")))
            && !held_back(run, e);
        if !unforeseen {
            continue;
        }
        seen += 1;
        // Answered by a renewal, or by a call that succeeded (the retry with a newer token).
        let answered = ex[i + 1..]
            .iter()
            .any(|n| is_token(n) || (is_api(n) && (200..300).contains(&n.status)));
        if !answered {
            return Verdict::Broken(
                "the API answered 401 before the token's announced expiry and the client stopped: it did not refresh and retry".into(),
                vec![describe(e)],
            );
        }
    }
    if seen == 0 {
        Verdict::NotApplicable("no 401 came before the token's announced expiry".into())
    } else {
        Verdict::Holds(format!(
            "{seen} unforeseen 401(s): each time the client renewed its token or went on"
        ))
    }
}

/// How early a refresh may come before the token's expiry and still count as due (Authlib
/// refreshes 60 s early; some clients take a few minutes of margin).
const EARLY_REFRESH_MS: u64 = 300_000;

pub(super) fn refresh_only_when_expired(run: &RunRecord) -> Verdict {
    let mut issued_at: Option<u64> = None;
    let mut last_api: Option<&Exchange> = None;
    let mut last_token_failed = false;
    let mut refreshes = 0;
    let mut early = Vec::new();
    let mut after_403 = 0;
    for e in &run.exchanges {
        if is_refresh(e) && !e.fault {
            refreshes += 1;
            let due =
                issued_at.is_none_or(|t| e.at_ms + EARLY_REFRESH_MS >= t + ACCESS_LIFETIME_MS);
            let told = last_api.is_some_and(|a| a.status == 401);
            if !(due || told || last_token_failed) {
                let forbidden = last_api.filter(|a| a.status == 403);
                after_403 += usize::from(forbidden.is_some());
                let mut line = describe(e);
                if let Some(a) = last_api {
                    line = format!("{line}, after {}", describe(a));
                }
                early.push(line);
            }
        }
        if is_token(e) {
            last_token_failed = !issued_tokens(run, e);
            if !last_token_failed {
                issued_at = Some(e.at_ms);
                last_api = None;
            }
        }
        if is_api(e) {
            last_api = Some(e);
        }
    }
    if refreshes == 0 {
        return Verdict::NotApplicable("the client did not refresh".into());
    }
    if early.is_empty() {
        return Verdict::Holds(format!(
            "{refreshes} refresh(es), each when the access token had expired or a 401 said so"
        ));
    }
    let n = early.len();
    let why = if after_403 > 0 {
        format!(", {after_403} of them right after a 403: a refreshed token carries the same scopes, so the 403 comes back")
    } else {
        String::new()
    };
    Verdict::Broken(
        format!("{n} of {refreshes} refreshes came while the access token was still valid{why}"),
        early,
    )
}

pub(super) fn refresh_token_rotated(run: &RunRecord) -> Verdict {
    let stale: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.rule == Some("refresh-token-rotated"))
        .map(describe)
        .collect();
    if !stale.is_empty() {
        return Verdict::Broken(
            "the client refreshed with a refresh token that had been rotated out".into(),
            stale,
        );
    }
    let refreshes = run
        .exchanges
        .iter()
        .filter(|e| is_refresh(e) && e.status == 200)
        .count();
    if refreshes >= 2 {
        Verdict::Holds(format!(
            "{refreshes} refreshes, each with the newest refresh token"
        ))
    } else {
        Verdict::NotApplicable("fewer than two refreshes: rotation not exercised".into())
    }
}

pub(super) fn no_refresh_loop(run: &RunRecord) -> Verdict {
    // Per refresh token: a token that failed once must not be sent again. (A refresh with no
    // refresh token at all is a malformed request, for `request-valid`.)
    let failed: Vec<&Exchange> = run
        .exchanges
        .iter()
        .filter(|e| is_refresh(e) && e.status >= 400 && !e.fault)
        .filter(|e| form(e, "refresh_token").is_some_and(|t| !t.is_empty()))
        .collect();
    if failed.is_empty() {
        return Verdict::NotApplicable("no refresh with a refresh token failed".into());
    }
    let mut again: Vec<String> = Vec::new();
    for (i, e) in failed.iter().enumerate() {
        let token = form(e, "refresh_token");
        if failed[..i]
            .iter()
            .any(|p| form(p, "refresh_token") == token)
        {
            again.push(describe(e));
        }
    }
    if again.is_empty() {
        return Verdict::Holds(
            "after a failed refresh the client did not refresh again with that token".into(),
        );
    }
    Verdict::Broken(
        format!(
            "{} refresh(es) reused a refresh token that had already failed: after the first failure, the client should authorize again or stop",
            again.len()
        ),
        again,
    )
}
