//! Rules about the authorization request and its answer: how the browser is sent to the
//! mock, `state`, scope and company, denial, and where the secret may go.

use mock_server::mask::mask_query_in_url;

use super::{authorize_urls, describe, form, is_token, Verdict};
use crate::driver::{ClientEnd, RunRecord};
use crate::scenario::Decision;

pub(super) fn authorize_get(run: &RunRecord) -> Verdict {
    let posted: Vec<String> = run
        .exchanges
        .iter()
        .filter(|e| e.path == "/oauth/authorize" && e.method != "GET")
        .map(describe)
        .collect();
    if !posted.is_empty() {
        return Verdict::Broken("the authorization request was not a GET".into(), posted);
    }
    let wrong: Vec<String> = authorize_urls(run)
        .filter(|u| {
            url::Url::parse(u)
                .map(|p| p.path() != "/oauth/authorize")
                .unwrap_or(true)
        })
        .map(|u| format!("opened {}", mask_query_in_url(u)))
        .collect();
    if !wrong.is_empty() {
        return Verdict::Broken(
            "the browser was sent somewhere else than /oauth/authorize".into(),
            wrong,
        );
    }
    if run.opened.is_empty() {
        Verdict::NotApplicable("the client opened no URL".into())
    } else {
        Verdict::Holds("the browser was sent to GET /oauth/authorize".into())
    }
}

pub(super) fn state_sent(run: &RunRecord) -> Verdict {
    let missing: Vec<String> = authorize_urls(run)
        .filter(|u| crate::driver::query_param(u, "state").is_none_or(|s| s.is_empty()))
        .map(|u| format!("opened {}", mask_query_in_url(u)))
        .collect();
    match (missing.is_empty(), run.opened.is_empty()) {
        (_, true) => Verdict::NotApplicable("the client opened no URL".into()),
        (true, false) => Verdict::Holds("every authorization URL carried a state".into()),
        (false, false) => Verdict::Broken(
            "an authorization URL carried no state: the callback cannot be tied to the request (CSRF)".into(),
            missing,
        ),
    }
}

pub(super) fn state_verified(run: &RunRecord) -> Verdict {
    // A forged state, or an earlier authorization's callback replayed: either way a state
    // that is not the one of the authorization under way.
    let foreign: Vec<&crate::driver::Delivered> = run
        .delivered
        .iter()
        .filter(|d| d.forged || d.odd == Some(crate::scenario::OddCallback::Replay))
        .collect();
    let Some(first) = foreign.first() else {
        return Verdict::NotApplicable("no callback with a foreign state in this scenario".into());
    };
    let mut redeemed = Vec::new();
    let mut reached = false;
    for d in &foreign {
        let Some(code) = &d.code else { continue };
        reached |= d.received;
        redeemed.extend(
            run.exchanges
                .iter()
                .filter(|e| {
                    // A replayed code was redeemed once before, legitimately: only what
                    // follows the replay counts.
                    is_token(e)
                        && e.id > d.after_exchange
                        && (form(e, "code") == Some(code.as_str())
                            || e.raw_query
                                .as_deref()
                                .is_some_and(|q| q.contains(&format!("code={code}"))))
                })
                .map(|e| (d, describe(e))),
        );
    }
    if let Some((d, _)) = redeemed.first() {
        let what = if d.forged {
            "whose state it never issued"
        } else {
            "replayed from an earlier authorization, whose state is not the current one"
        };
        return Verdict::Broken(
            format!(
                "the client redeemed the code of a callback {what} ({})",
                d.to
            ),
            redeemed.into_iter().map(|(_, line)| line).collect(),
        );
    }
    if first.code.is_none() {
        Verdict::NotApplicable("the callback with a foreign state carried no code".into())
    } else if !reached {
        Verdict::NotApplicable(
            "the callback with a foreign state did not reach the client (its listener did not answer)"
                .into(),
        )
    } else {
        Verdict::Holds("the code of a callback with a foreign state was not redeemed".into())
    }
}

pub(super) fn secret_not_in_url(run: &RunRecord) -> Verdict {
    let mut leaks: Vec<String> = authorize_urls(run)
        .filter(|u| crate::driver::query_param(u, "client_secret").is_some())
        .map(|u| format!("opened {}", mask_query_in_url(u)))
        .collect();
    leaks.extend(
        run.exchanges
            .iter()
            .filter(|e| {
                e.raw_query
                    .as_deref()
                    .is_some_and(|q| q.contains("client_secret="))
            })
            .map(describe),
    );
    if !leaks.is_empty() {
        return Verdict::Broken("the client secret appeared in a URL".into(), leaks);
    }
    Verdict::Holds("the client secret never appeared in a URL".into())
}

pub(super) fn denied_handled(run: &RunRecord) -> Verdict {
    if run.scenario.decision != Decision::Deny {
        return Verdict::NotApplicable("the user did not deny".into());
    }
    if run.delivered.is_empty() {
        return Verdict::NotApplicable("the authorization never reached the consent page".into());
    }
    // The mock's answer that carried the denial to the redirect URI; what came before it
    // (a library's own first token request, say) is not about the denial.
    let denied_at = run
        .exchanges
        .iter()
        .position(|e| {
            e.location
                .as_deref()
                .is_some_and(|l| l.contains("error=access_denied"))
                || e.path == "/oauth/consent" && e.status == 200
        })
        .unwrap_or(0);
    let redeemed: Vec<String> = run.exchanges[denied_at..]
        .iter()
        .filter(|e| is_token(e))
        .map(describe)
        .collect();
    if !redeemed.is_empty() {
        return Verdict::Broken(
            "the client called the token endpoint after the user denied".into(),
            redeemed,
        );
    }
    match (&run.end, run.exit_code()) {
        (_, Some(c)) if c != 0 => {
            Verdict::Holds("the client stopped with an error after the denial".into())
        }
        (ClientEnd::Answered(status), _) => Verdict::Broken(
            format!("the app answered {status} although the user denied access"),
            vec![],
        ),
        (ClientEnd::Exited(None), _) => Verdict::Broken(
            "the client was killed by a signal after the denial, with no message".into(),
            vec![],
        ),
        (ClientEnd::Exited(_), _) => Verdict::Broken(
            "the client exited 0 although the user denied access".into(),
            vec![],
        ),
        _ => Verdict::Broken("the client did not end after the denial".into(), vec![]),
    }
}

pub(super) fn scope_as_configured(run: &RunRecord) -> Verdict {
    if run.opened.is_empty() {
        return Verdict::NotApplicable("the client opened no URL".into());
    }
    let want = run.scenario.scope.as_deref();
    // The scope names as a set: how they are separated is `scope-registered`'s business.
    let names = |s: Option<&str>| {
        s.map(|s| {
            let mut v: Vec<String> = s
                .split([' ', ','])
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
            v.sort();
            v
        })
    };
    let wrong: Vec<String> = authorize_urls(run)
        .filter(|u| names(crate::driver::query_param(u, "scope").as_deref()) != names(want))
        .map(|u| format!("opened {}", mask_query_in_url(u)))
        .collect();
    match (wrong.is_empty(), want) {
        (true, Some(s)) => Verdict::Holds(format!("the authorization URL asked for scope `{s}`")),
        (true, None) => Verdict::Holds("the authorization URL carried no scope".into()),
        (false, Some(s)) => Verdict::Broken(
            format!("ONSHAPE_SCOPE is `{s}`; the authorization URL asked for something else"),
            wrong,
        ),
        (false, None) => Verdict::Broken(
            "ONSHAPE_SCOPE is unset; the authorization URL still carried a scope".into(),
            wrong,
        ),
    }
}

pub(super) fn company_selected(run: &RunRecord) -> Verdict {
    let Some(want) = &run.scenario.expect_company else {
        return Verdict::NotApplicable("the scenario expects no company".into());
    };
    let redeemed = run.exchanges.iter().any(|e| {
        is_token(e) && e.status == 200 && form(e, "grant_type") == Some("authorization_code")
    });
    if !redeemed {
        return Verdict::NotApplicable("no authorization completed".into());
    }
    if run
        .grant_companies
        .iter()
        .any(|c| c.as_deref() == Some(want.as_str()))
    {
        Verdict::Holds(format!("the grant belongs to company {want}"))
    } else {
        let held: Vec<&str> = run
            .grant_companies
            .iter()
            .map(|c| c.as_deref().unwrap_or("no company"))
            .collect();
        Verdict::Broken(
            format!(
                "no grant for company {want}; the user's grants to the app are for: {}",
                if held.is_empty() {
                    "nothing".to_owned()
                } else {
                    held.join(", ")
                }
            ),
            vec![],
        )
    }
}
