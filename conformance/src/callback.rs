//! Callbacks the runner's browser tampers with: a forged `state` ([`forge_state`]), and the odd
//! callbacks no well-behaved authorization server sends ([`OddCallback`]), each made from the
//! genuine callback URL by rewriting its query.

use serde::Deserialize;

/// A callback no well-behaved authorization server sends, delivered by the runner's browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OddCallback {
    /// The genuine callback with `error=access_denied` added: a code that came with an error.
    CodeAndError,
    /// Only the `state`: neither a code nor an error.
    Neither,
    /// `error=server_error` and no `state` (nor code).
    ErrorWithoutState,
    /// The genuine callback, delivered twice.
    Twice,
    /// The second authorization's callback is preceded by the first one's, replayed (its
    /// state and code are from the earlier authorization).
    Replay,
}

impl OddCallback {
    pub fn as_str(self) -> &'static str {
        match self {
            OddCallback::CodeAndError => "code-and-error",
            OddCallback::Neither => "neither",
            OddCallback::ErrorWithoutState => "error-without-state",
            OddCallback::Twice => "twice",
            OddCallback::Replay => "replay",
        }
    }

    /// The odd callback made of the genuine `location`; the genuine one itself for `twice`
    /// and `replay`, which deliver genuine callbacks at odd moments.
    pub fn apply(self, location: &str) -> String {
        if matches!(self, OddCallback::Twice | OddCallback::Replay) {
            return location.to_owned();
        }
        with_query(location, |pairs| {
            let keep = |names: &[&str]| -> Vec<(String, String)> {
                pairs
                    .iter()
                    .filter(|(k, _)| names.contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            match self {
                OddCallback::CodeAndError => {
                    let mut p = keep(&["code", "state"]);
                    p.push(("error".into(), "access_denied".into()));
                    p.push((
                        "error_description".into(),
                        "The user denied the request".into(),
                    ));
                    p
                }
                OddCallback::Neither => keep(&["state"]),
                OddCallback::ErrorWithoutState => vec![
                    ("error".into(), "server_error".into()),
                    (
                        "error_description".into(),
                        "The authorization server failed".into(),
                    ),
                ],
                // Returned unchanged above.
                OddCallback::Twice | OddCallback::Replay => pairs,
            }
        })
    }

    /// Whether the odd callback carries no code the client may redeem.
    pub fn nothing_to_redeem(self) -> bool {
        matches!(
            self,
            OddCallback::CodeAndError | OddCallback::Neither | OddCallback::ErrorWithoutState
        )
    }
}

/// The genuine callback with its `state` replaced by one the client never issued (added where
/// there was none).
pub(crate) fn forge_state(location: &str) -> String {
    let forged = format!("forged-{}", mock_server::domain::new_token(12));
    with_query(location, |pairs| {
        pairs
            .into_iter()
            .filter(|(k, _)| k != "state")
            .chain(std::iter::once(("state".to_owned(), forged)))
            .collect()
    })
}

/// `location` with its query pairs replaced by what `rewrite` makes of them (decoded, in
/// order); an unparsable URL is returned as it is.
fn with_query(
    location: &str,
    rewrite: impl FnOnce(Vec<(String, String)>) -> Vec<(String, String)>,
) -> String {
    let Ok(mut url) = url::Url::parse(location) else {
        return location.to_owned();
    };
    let pairs = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let rewritten = rewrite(pairs);
    url.query_pairs_mut().clear().extend_pairs(rewritten);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::query_param;

    #[test]
    fn a_forged_callback_keeps_the_code_and_replaces_the_state() {
        let forged = forge_state("http://localhost:9/callback?code=C0DE&state=mine");
        assert_eq!(query_param(&forged, "code").as_deref(), Some("C0DE"));
        let state = query_param(&forged, "state").expect("a state");
        assert!(state.starts_with("forged-") && state != "mine", "{forged}");
        let added = forge_state("http://localhost:9/callback?code=C0DE");
        assert!(
            query_param(&added, "state").is_some(),
            "a state is added where none was"
        );
    }

    #[test]
    fn odd_callbacks_are_made_of_the_genuine_one() {
        let genuine = "http://localhost:9/callback?code=C0DE&state=mine";
        let both = OddCallback::CodeAndError.apply(genuine);
        assert_eq!(query_param(&both, "code").as_deref(), Some("C0DE"));
        assert_eq!(query_param(&both, "state").as_deref(), Some("mine"));
        assert_eq!(
            query_param(&both, "error").as_deref(),
            Some("access_denied")
        );
        let neither = OddCallback::Neither.apply(genuine);
        assert_eq!(neither, "http://localhost:9/callback?state=mine");
        let bare = OddCallback::ErrorWithoutState.apply(genuine);
        assert_eq!(query_param(&bare, "state"), None);
        assert_eq!(query_param(&bare, "code"), None);
        assert_eq!(query_param(&bare, "error").as_deref(), Some("server_error"));
        for same in [OddCallback::Twice, OddCallback::Replay] {
            assert_eq!(same.apply(genuine), genuine);
        }
    }
}
