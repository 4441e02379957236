//! Authorization codes: issued when the user grants (recording the grant), redeemed once
//! within 60 seconds by the client they were issued to, with the redirect URI repeated.
//! A second redemption revokes the tokens of the first (RFC 6749 §4.1.2).

use std::collections::VecDeque;
use std::sync::Arc;

use super::{Code, CodeState, Grant, GrantKey, Grants, Tokens, CODE_LEN, CODE_LIFETIME_SECS};
use crate::clock::Instant;
use crate::domain::{new_token, ScopeSet};
use crate::error::{ErrorCode, Rejection};
use crate::rules;
use crate::store::graveyard::Retired;
use crate::store::AuthRequest;

impl Grants {
    /// The user granted: record the grant and issue a code.
    pub fn grant_and_issue_code(
        &mut self,
        req: &AuthRequest,
        user_id: &str,
        company_id: Option<String>,
        now: Instant,
    ) -> String {
        let key = GrantKey {
            user_id: user_id.to_owned(),
            client_id: req.client_id.clone(),
            company_id,
        };
        let key = match self.grants.get_key_value(&key) {
            Some((shared, _)) => shared.clone(),
            None => {
                let shared = Arc::new(key);
                let grant = Grant {
                    id: self.next_family,
                    scopes: ScopeSet::EMPTY,
                    granted_at: now,
                    families: VecDeque::new(),
                };
                self.next_family += 1;
                self.grants.insert(shared.clone(), grant);
                shared
            }
        };
        let mut grant_id = 0;
        if let Some(grant) = self.grants.get_mut(&*key) {
            grant.scopes = grant.scopes.union(req.scopes);
            grant_id = grant.id;
        }
        let code = new_token(CODE_LEN);
        self.codes.insert(
            code.clone(),
            Code {
                grant: key,
                grant_id,
                scopes: req.scopes,
                redirect_given: req.redirect_given,
                redirect_used: req.redirect.clone(),
                issued_at: now,
                state: CodeState::Fresh,
            },
        );
        code
    }

    /// Redeems an authorization code (RFC 6749 §4.1.3) for an authenticated client.
    pub fn redeem_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        now: Instant,
    ) -> Result<Tokens, Rejection> {
        let invalid = |rule, d: String| Rejection::new(ErrorCode::InvalidGrant, rule, d);
        let Some(entry) = self.codes.get(code) else {
            return Err(invalid(rules::CODE_KNOWN, "the authorization code is unknown".into()).hint(
                "This code was never issued, or was forgotten a minute after it expired (codes live 60 s, then are remembered 60 s more to explain a late redemption): send the `code` from the callback unchanged, URL-encoded in the form body.",
            ));
        };
        if entry.grant.client_id != client_id {
            return Err(invalid(
                rules::CODE_CLIENT_BOUND,
                "the authorization code was issued to another client".into(),
            ));
        }
        if let CodeState::Used { family, at } = entry.state {
            let ago = now.secs_since(at);
            self.retire_family(family, Retired::CodeReplayed, now);
            return Err(invalid(
                rules::CODE_SINGLE_USE,
                format!("the authorization code was already redeemed {ago} s ago"),
            )
            .hint("Codes are one-time use: redeem each once and keep the tokens. Because this code was redeemed twice, the tokens issued the first time are now revoked (RFC 6749 §4.1.2)."));
        }
        let expires_at = entry.issued_at.plus_secs(CODE_LIFETIME_SECS);
        if now >= expires_at {
            let late = now.secs_since(expires_at).max(1);
            return Err(invalid(
                rules::CODE_EXPIRED,
                format!("the authorization code expired {late} s ago"),
            )
            .hint(format!(
                "Codes expire 60 seconds after they are issued; this one was redeemed {} s after issue, {late} s too late. Exchange the code as soon as the callback arrives, or start a new authorization.",
                now.secs_since(entry.issued_at)
            )));
        }
        let used = entry.redirect_used.as_str();
        match (entry.redirect_given, redirect_uri) {
            (true, None) => {
                return Err(Rejection::new(
                    ErrorCode::InvalidRequest,
                    rules::TOKEN_REDIRECT_URI_REPEATED,
                    "redirect_uri is missing: it was supplied to /oauth/authorize, so it must be supplied here",
                )
                .hint(format!(
                    "Add redirect_uri={} to the token request's form body: a redirect_uri given to /oauth/authorize must be repeated, identical, in the POST to /oauth/token.",
                    entry.redirect_used.as_str()
                )))
            }
            (true, Some(sent)) if used != sent => {
                return Err(invalid(
                    rules::REDIRECT_URI_EXACT,
                    format!("redirect_uri `{sent}` differs from `{used}` sent to /oauth/authorize"),
                )
                .hint(format!(
                    "Send redirect_uri={used} exactly as in the authorization request ({}).",
                    crate::domain::explain_redirect_mismatch(sent, std::slice::from_ref(&entry.redirect_used))
                )))
            }
            (false, Some(sent)) if sent != used => {
                return Err(invalid(
                    rules::REDIRECT_URI_EXACT,
                    format!(
                        "redirect_uri `{sent}` differs from `{}`, the default used by /oauth/authorize",
                        entry.redirect_used.as_str()
                    ),
                )
                .hint("The authorization request named no redirect_uri, so the registered default was used: omit redirect_uri here or send that default exactly."))
            }
            _ => {}
        }
        let grant_alive = self
            .grants
            .get(&*entry.grant)
            .is_some_and(|g| g.id == entry.grant_id);
        if !grant_alive {
            return Err(invalid(
                rules::GRANT_ACTIVE,
                "the user revoked the grant after this code was issued".into(),
            ));
        }
        let (grant, scopes) = (entry.grant.clone(), entry.scopes);
        let (family, tokens) = self.open_family(grant, scopes, now);
        if let Some(entry) = self.codes.get_mut(code) {
            entry.state = CodeState::Used { family, at: now };
        }
        Ok(tokens)
    }
}
