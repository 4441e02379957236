//! `POST /oauth/token`: each rule the token endpoint enforces, rejected and accepted side by
//! side — request shape, encoding, client authentication, code redemption, refresh.

use mock_server::form::encode;
use serde_json::json;

use crate::helpers::*;

const FORM: &str = "application/x-www-form-urlencoded";

/// The documented code-redemption form for `app`, as pairs.
fn redeem_pairs(app: AppCreds, code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", app.client_id),
        ("client_secret", app.client_secret),
        ("redirect_uri", app.redirect),
    ]
}

/// A code for WEB, granted by ALICE, with `extra` authorization parameters (no
/// `redirect_uri` unless `extra` names it).
async fn web_code_with(m: &TestMock, extra: &[(&str, &str)]) -> String {
    m.script_consent("grant", ALICE, None).await;
    let r = m.authorize(WEB, extra).await;
    assert_eq!(
        r.status, 302,
        "authorization redirects with a code: {}",
        r.body
    );
    r.location_param("code").expect("code in the redirect")
}

/// `POST /oauth/token` with an explicit content type (or none) and a raw body.
async fn post_token(m: &TestMock, content_type: Option<&str>, body: impl Into<String>) -> Resp {
    let mut req = m.http.post(m.url("/oauth/token"));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    m.send(req.body(body.into())).await
}

#[track_caller]
fn description(resp: &Resp) -> String {
    resp.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[track_caller]
fn hint(resp: &Resp) -> String {
    resp.json()["hint"].as_str().unwrap_or_default().to_owned()
}

// ----- request shape ---------------------------------------------------------------------

#[tokio::test]
async fn get_is_refused_and_post_is_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let query = encode(&redeem_pairs(WEB, &code));

    let get = m.get(&format!("/oauth/token?{query}")).await;
    assert_rejected(&get, 401, "token-post");
    assert!(
        hint(&get).contains("POST"),
        "the hint says to POST: {}",
        get.body
    );

    let post = m.post_form("/oauth/token", query).await;
    assert_tokens(&post);
}

#[tokio::test]
async fn parameters_in_the_query_string_of_a_post_are_refused_and_in_the_body_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let form = encode(&redeem_pairs(WEB, &code));

    let in_query = m
        .send(
            m.http
                .post(m.url(&format!("/oauth/token?{form}")))
                .header("content-type", FORM)
                .body(""),
        )
        .await;
    assert_rejected(&in_query, 401, "token-form-body");
    assert!(
        hint(&in_query).contains("client_secret"),
        "the hint warns that the secret is exposed in the URL: {}",
        in_query.body
    );

    let in_body = m.post_form("/oauth/token", form).await;
    assert_tokens(&in_body);
}

#[tokio::test]
async fn json_body_is_refused_and_a_form_body_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let as_json = json!({
        "grant_type": "authorization_code",
        "code": code,
        "client_id": WEB.client_id,
        "client_secret": WEB.client_secret,
        "redirect_uri": WEB.redirect,
    });

    let with_json_type = m.post_json("/oauth/token", as_json.clone()).await;
    assert_rejected(&with_json_type, 401, "token-form-body");
    assert!(
        description(&with_json_type).contains("JSON"),
        "{}",
        with_json_type.body
    );

    let json_with_form_type = post_token(&m, Some(FORM), as_json.to_string()).await;
    assert_rejected(&json_with_form_type, 401, "token-form-body");

    let form = m.redeem(WEB, &code).await;
    assert_tokens(&form);
}

#[tokio::test]
async fn missing_or_wrong_content_type_is_refused_and_the_form_type_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let body = encode(&redeem_pairs(WEB, &code));

    let none = post_token(&m, None, body.clone()).await;
    assert_rejected(&none, 401, "token-form-body");
    assert!(description(&none).contains("Content-Type"), "{}", none.body);

    let text = post_token(&m, Some("text/plain"), body.clone()).await;
    assert_rejected(&text, 401, "token-form-body");
    assert!(
        description(&text).contains("text/plain"),
        "names the wrong type: {}",
        text.body
    );

    let multipart = post_token(&m, Some("multipart/form-data; boundary=x"), body.clone()).await;
    assert_rejected(&multipart, 401, "token-form-body");

    let with_charset = post_token(
        &m,
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        body,
    )
    .await;
    assert_tokens(&with_charset);
}

// ----- body encoding ---------------------------------------------------------------------

#[tokio::test]
async fn whole_body_percent_encoded_is_refused_and_per_value_encoding_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let good = encode(&redeem_pairs(WEB, &code));
    // What `urlencode(body)` produces: every `=` and `&` escaped.
    let whole: String = good
        .replace('%', "%25")
        .replace('=', "%3D")
        .replace('&', "%26");
    assert!(
        whole.starts_with("grant_type%3Dauthorization_code%26code%3D"),
        "{whole}"
    );

    let r = m.post_form("/oauth/token", whole).await;
    assert_rejected(&r, 401, "token-form-encoding");
    assert!(
        hint(&r).contains("whole body") || description(&r).contains("whole body"),
        "says the whole body was encoded: {}",
        r.body
    );

    assert_tokens(&m.post_form("/oauth/token", good).await);
}

#[tokio::test]
async fn malformed_percent_encoding_and_invalid_utf8_are_refused() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let good = encode(&redeem_pairs(WEB, &code));

    let bad_escape = m
        .post_form("/oauth/token", format!("{good}&state=%zz"))
        .await;
    assert_rejected(&bad_escape, 401, "token-form-encoding");
    assert!(
        description(&bad_escape).contains("state"),
        "names the field: {}",
        bad_escape.body
    );

    let not_utf8 = m
        .post_form("/oauth/token", format!("{good}&state=%ff"))
        .await;
    assert_rejected(&not_utf8, 401, "token-form-encoding");
    assert!(
        description(&not_utf8).contains("UTF-8"),
        "{}",
        not_utf8.body
    );

    let fine = m
        .post_form("/oauth/token", format!("{good}&state=%C3%A9"))
        .await;
    assert_tokens(&fine);
}

#[tokio::test]
async fn a_repeated_parameter_is_refused_and_each_once_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let good = encode(&redeem_pairs(WEB, &code));

    let twice = m
        .post_form(
            "/oauth/token",
            format!("{good}&{}", encode(&[("code", &code)])),
        )
        .await;
    assert_rejected(&twice, 401, "param-once");
    assert!(
        description(&twice).contains("code"),
        "names the parameter: {}",
        twice.body
    );

    let same_grant_type_twice = m
        .post_form(
            "/oauth/token",
            format!("grant_type=authorization_code&{good}"),
        )
        .await;
    assert_rejected(&same_grant_type_twice, 401, "param-once");

    assert_tokens(&m.post_form("/oauth/token", good).await);
}

#[tokio::test]
async fn unencoded_equals_in_client_id_is_refused_and_percent_3d_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let rest = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_secret", WEB.client_secret),
        ("redirect_uri", WEB.redirect),
    ]);

    let raw = m
        .post_form(
            "/oauth/token",
            format!("{rest}&client_id={}", WEB.client_id),
        )
        .await;
    assert!(
        format!("client_id={}", WEB.client_id).ends_with("Q="),
        "the raw body really has the raw `=`"
    );
    assert_rejected(&raw, 401, "client-id-encoded");
    assert!(
        hint(&raw).contains("%3D"),
        "the hint shows the encoded form: {}",
        raw.body
    );

    let encoded = m
        .post_form(
            "/oauth/token",
            format!("{rest}&{}", encode(&[("client_id", WEB.client_id)])),
        )
        .await;
    assert_tokens(&encoded);
}

#[tokio::test]
async fn unencoded_equals_in_client_secret_is_refused_and_percent_3d_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let rest = encode(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", WEB.client_id),
        ("redirect_uri", WEB.redirect),
    ]);

    let raw = m
        .post_form(
            "/oauth/token",
            format!("{rest}&client_secret={}", WEB.client_secret),
        )
        .await;
    assert_rejected(&raw, 401, "client-secret-encoded");
    assert!(
        hint(&raw).contains("%3D"),
        "the hint shows the encoded form: {}",
        raw.body
    );
    assert!(
        !raw.body.contains(WEB.client_secret.trim_end_matches('=')),
        "the error never echoes the secret: {}",
        raw.body
    );

    let encoded = m
        .post_form(
            "/oauth/token",
            format!("{rest}&{}", encode(&[("client_secret", WEB.client_secret)])),
        )
        .await;
    assert_tokens(&encoded);
}

// ----- client authentication -------------------------------------------------------------

#[tokio::test]
async fn http_basic_is_accepted_raw_and_form_encoded() {
    let m = spawn_mock().await;
    let form_without_secret = |code: &str| {
        encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB.redirect),
        ])
    };

    // requests-oauthlib: `ID=:SECRET=` with the raw `=`.
    let code = m.code(WEB).await;
    let raw = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .basic_auth(WEB.client_id, Some(WEB.client_secret))
                .header("content-type", FORM)
                .body(form_without_secret(&code)),
        )
        .await;
    assert_tokens(&raw);

    // RFC 6749 §2.3.1: each part form-encoded first (`=` as %3D).
    let code = m.code(WEB).await;
    let enc = |s: &str| mock_server::form::encode_component(s);
    let encoded = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .basic_auth(enc(WEB.client_id), Some(enc(WEB.client_secret)))
                .header("content-type", FORM)
                .body(form_without_secret(&code)),
        )
        .await;
    assert_tokens(&encoded);

    // A wrong Basic secret is still refused.
    let code = m.code(WEB).await;
    let wrong = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .basic_auth(WEB.client_id, Some(DESKTOP.client_secret))
                .header("content-type", FORM)
                .body(form_without_secret(&code)),
        )
        .await;
    assert_rejected(&wrong, 401, "client-auth");
}

#[tokio::test]
async fn basic_plus_client_secret_in_the_body_is_refused_and_one_method_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    let both = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .basic_auth(WEB.client_id, Some(WEB.client_secret))
                .header("content-type", FORM)
                .body(encode(&redeem_pairs(WEB, &code))),
        )
        .await;
    assert_rejected(&both, 401, "client-auth-one-method");

    let body_only = m.redeem(WEB, &code).await;
    assert_tokens(&body_only);
}

#[tokio::test]
async fn unknown_client_is_refused_with_a_did_you_mean_for_a_dropped_equals() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let dropped = WEB.client_id.trim_end_matches('=');
    assert_ne!(dropped, WEB.client_id);

    let r = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", dropped),
            ("client_secret", WEB.client_secret),
            ("redirect_uri", WEB.redirect),
        ])
        .await;
    assert_rejected(&r, 401, "client-known");
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(
        hint(&r).contains(&format!("`{}`", WEB.client_id)),
        "suggests the id with its trailing `=`: {}",
        r.body
    );

    let stranger = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "NOSUCHAPPAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ("client_secret", WEB.client_secret),
            ("redirect_uri", WEB.redirect),
        ])
        .await;
    assert_rejected(&stranger, 401, "client-known");
    assert!(
        !hint(&stranger).contains("did you mean"),
        "no suggestion for an unrelated id: {}",
        stranger.body
    );

    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn wrong_secret_is_refused_and_the_right_one_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    let wrong = m
        .redeem(
            AppCreds {
                client_secret: DESKTOP.client_secret,
                ..WEB
            },
            &code,
        )
        .await;
    assert_rejected(&wrong, 401, "client-auth");
    assert_eq!(wrong.json()["error"], "invalid_client");
    assert!(
        wrong.header("www-authenticate").is_some(),
        "invalid_client carries a challenge"
    );

    let no_secret = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", WEB.client_id),
            ("redirect_uri", WEB.redirect),
        ])
        .await;
    assert_rejected(&no_secret, 401, "client-auth");

    assert_tokens(&m.redeem(WEB, &code).await);
}

// ----- grant type ------------------------------------------------------------------------

#[tokio::test]
async fn missing_or_unsupported_grant_type_is_refused_and_authorization_code_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let rest = [
        ("code", code.as_str()),
        ("client_id", WEB.client_id),
        ("client_secret", WEB.client_secret),
        ("redirect_uri", WEB.redirect),
    ];

    let missing = m.token(&rest).await;
    assert_rejected(&missing, 401, "grant-type-supported");
    assert_eq!(missing.json()["error"], "invalid_request");

    let mut password = vec![("grant_type", "password")];
    password.extend_from_slice(&rest);
    let unsupported = m.token(&password).await;
    assert_rejected(&unsupported, 401, "grant-type-supported");
    assert_eq!(unsupported.json()["error"], "unsupported_grant_type");

    assert_tokens(&m.redeem(WEB, &code).await);
}

// ----- authorization codes ---------------------------------------------------------------

#[tokio::test]
async fn unknown_code_is_refused_and_the_issued_code_accepted() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    let unknown = m.redeem(WEB, "notAcodeTheMockEverIssued0123456").await;
    assert_rejected(&unknown, 401, "code-known");
    assert_eq!(unknown.json()["error"], "invalid_grant");

    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn a_code_expires_60_seconds_after_issue() {
    let m = spawn_mock().await;
    let on_time = m.code(WEB).await;
    let late = m.code(WEB).await;

    m.advance(59).await;
    assert_tokens(&m.redeem(WEB, &on_time).await);

    m.advance(2).await; // 61 s after issue
    let r = m.redeem(WEB, &late).await;
    assert_rejected(&r, 401, "code-expired");
    assert_eq!(r.json()["error"], "invalid_grant");
    assert!(
        description(&r).contains(" 1 s "),
        "says it is 1 s late: {}",
        r.body
    );
    assert!(
        hint(&r).contains("61 s"),
        "says it was redeemed 61 s after issue: {}",
        r.body
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_the_first_tokens() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let (access, refresh) = assert_tokens(&m.redeem(WEB, &code).await);
    assert_eq!(
        m.sessioninfo(&access).await.status,
        200,
        "the first tokens work before the replay"
    );

    let again = m.redeem(WEB, &code).await;
    assert_rejected(&again, 401, "code-single-use");
    assert_eq!(again.json()["error"], "invalid_grant");

    let api = m.sessioninfo(&access).await;
    assert_rejected(&api, 401, "code-single-use");
    let refreshed = m.refresh(WEB, &refresh).await;
    assert_eq!(
        refreshed.status, 401,
        "the first refresh token is revoked: {}",
        refreshed.body
    );
    assert_rejected(&refreshed, 401, "code-single-use");

    // A fresh authorization still works.
    let (fresh, _) = m.tokens(WEB).await;
    assert_eq!(m.sessioninfo(&fresh).await.status, 200);
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_refused() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    let other = m
        .redeem(
            AppCreds {
                redirect: WEB.redirect,
                ..DESKTOP
            },
            &code,
        )
        .await;
    assert_rejected(&other, 401, "code-client-bound");
    assert_eq!(other.json()["error"], "invalid_grant");

    assert_tokens(&m.redeem(WEB, &code).await);
}

// ----- redirect URI ----------------------------------------------------------------------

#[tokio::test]
async fn redirect_uri_given_at_authorize_must_be_repeated() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await; // authorize named WEB.redirect

    let missing = m
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
        ])
        .await;
    assert_rejected(&missing, 401, "token-redirect-uri-repeated");
    assert!(
        hint(&missing).contains(WEB.redirect),
        "the hint names the URI to repeat: {}",
        missing.body
    );

    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn redirect_uri_different_from_authorize_is_refused() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    // Registered too, but not the one the authorization request used.
    let other = m
        .redeem(
            AppCreds {
                redirect: "https://previewer.example.com/oauth/callback",
                ..WEB
            },
            &code,
        )
        .await;
    assert_rejected(&other, 401, "redirect-uri-exact");
    let slash = m
        .redeem(
            AppCreds {
                redirect: "http://localhost:3000/oauth/callback/",
                ..WEB
            },
            &code,
        )
        .await;
    assert_rejected(&slash, 401, "redirect-uri-exact");

    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn without_redirect_uri_at_authorize_the_token_request_may_omit_it_but_not_change_it() {
    let m = spawn_mock().await;
    let default = "https://previewer.example.com/oauth/callback";
    let token_with = |code: &str, redirect: Option<&str>| {
        let mut pairs = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("client_id", WEB.client_id.to_owned()),
            ("client_secret", WEB.client_secret.to_owned()),
        ];
        if let Some(r) = redirect {
            pairs.push(("redirect_uri", r.to_owned()));
        }
        pairs
    };
    let send = |pairs: Vec<(&'static str, String)>| {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        encode(&borrowed)
    };

    let omitted = web_code_with(&m, &[("state", "s")]).await;
    let r = m
        .post_form("/oauth/token", send(token_with(&omitted, None)))
        .await;
    assert_tokens(&r);

    let changed = web_code_with(&m, &[("state", "s")]).await;
    let r = m
        .post_form(
            "/oauth/token",
            send(token_with(&changed, Some(WEB.redirect))),
        )
        .await;
    assert_rejected(&r, 401, "redirect-uri-exact");

    let same_default = web_code_with(&m, &[("state", "s")]).await;
    let r = m
        .post_form(
            "/oauth/token",
            send(token_with(&same_default, Some(default))),
        )
        .await;
    assert_tokens(&r);
}

// ----- refresh ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let m = spawn_mock().await;
    let (_, first) = m.tokens(WEB).await;

    let (access2, second) = assert_tokens(&m.refresh(WEB, &first).await);
    assert_ne!(first, second, "a refresh returns a new refresh token");
    assert_eq!(
        m.sessioninfo(&access2).await.status,
        200,
        "the new access token works"
    );

    let (access3, third) = assert_tokens(&m.refresh(WEB, &second).await);
    assert_ne!(second, third);
    assert_eq!(m.sessioninfo(&access3).await.status, 200);
}

/// RFC 9700 §4.14.2: a rotated-out refresh token used again means a copy exists; the
/// server cannot tell client from thief, so it revokes the chain. Other chains of the same
/// grant (another device's authorization) keep working.
#[tokio::test]
async fn reusing_a_rotated_out_refresh_token_revokes_its_chain() {
    let m = spawn_mock().await;
    let (_, first) = m.tokens(WEB).await;
    let (_, other_device) = m.tokens(WEB).await;
    let (access2, second) = assert_tokens(&m.refresh(WEB, &first).await);

    let old = m.refresh(WEB, &first).await;
    assert_rejected(&old, 401, "refresh-token-rotated");
    assert_eq!(old.json()["error"], "invalid_grant");
    assert!(
        old.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("revoked the whole chain")),
        "{}",
        old.body
    );
    let newer = m.refresh(WEB, &second).await;
    assert_rejected(&newer, 401, "refresh-token-rotated");
    assert!(newer
        .body
        .contains("an older refresh token of its chain was used again"));
    assert_rejected(&m.sessioninfo(&access2).await, 401, "refresh-token-rotated");
    // A second reuse is refused under the same rule; nothing else is left to revoke.
    let again = m.refresh(WEB, &first).await;
    assert_rejected(&again, 401, "refresh-token-rotated");

    let (access, _) = assert_tokens(&m.refresh(WEB, &other_device).await);
    assert_eq!(m.sessioninfo(&access).await.status, 200);
}

#[tokio::test]
async fn unknown_refresh_token_is_refused_and_the_issued_one_accepted() {
    let m = spawn_mock().await;
    let (_, refresh) = m.tokens(WEB).await;

    let unknown = m
        .refresh(WEB, "neverIssuedRefreshToken000000000000000000000000")
        .await;
    assert_rejected(&unknown, 401, "refresh-token-valid");

    let missing = m
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
        ])
        .await;
    assert_rejected(&missing, 401, "refresh-token-valid");

    assert_tokens(&m.refresh(WEB, &refresh).await);
}

#[tokio::test]
async fn refresh_after_the_grant_is_revoked_is_refused_until_reauthorized() {
    let m = spawn_mock().await;
    let (_, refresh) = m.tokens(WEB).await;
    let (_, live) = assert_tokens(&m.refresh(WEB, &refresh).await);

    let revoke = m
        .post_json(
            "/__mock/grants/revoke",
            json!({ "user": ALICE, "client_id": WEB.client_id }),
        )
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.body);

    let r = m.refresh(WEB, &live).await;
    assert_rejected(&r, 401, "grant-active");
    assert_eq!(r.json()["error"], "invalid_grant");

    let (access, fresh) = m.tokens(WEB).await;
    let (_, after) = assert_tokens(&m.refresh(WEB, &fresh).await);
    assert_ne!(after, live);
    assert_eq!(m.sessioninfo(&access).await.status, 200);
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_not_widen_it() {
    let m = spawn_mock().await;
    let code = web_code_with(
        &m,
        &[
            ("redirect_uri", WEB.redirect),
            ("scope", "OAuth2Read OAuth2Write"),
        ],
    )
    .await;
    let (_, refresh) = assert_tokens(&m.redeem(WEB, &code).await);

    let wider = m
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
            ("scope", "OAuth2Read OAuth2Write OAuth2Delete"),
        ])
        .await;
    assert_rejected(&wider, 401, "scope-registered");
    assert_eq!(wider.json()["error"], "invalid_scope");

    let narrower = m
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
            ("scope", "OAuth2Read"),
        ])
        .await;
    let (access, _) = assert_tokens(&narrower);
    let info = m.sessioninfo(&access).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(
        info.json()["oauth2Scopes"],
        2,
        "the narrowed token holds OAuth2Read only: {}",
        info.body
    );
}

// ----- other refusals ----------------------------------------------------------------------

#[tokio::test]
async fn a_bearer_header_on_the_token_endpoint_is_refused() {
    let m = spawn_mock().await;
    let (access, _) = m.tokens(WEB).await;
    let code = m.code(WEB).await;

    let r = m
        .send(
            m.http
                .post(m.url("/oauth/token"))
                .bearer_auth(&access)
                .header("content-type", FORM)
                .body(encode(&redeem_pairs(WEB, &code))),
        )
        .await;
    assert_rejected(&r, 401, "token-only-for-api");

    assert_tokens(&m.redeem(WEB, &code).await);
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;
    let good = encode(&redeem_pairs(WEB, &code));
    let padded = format!("{good}&padding={}", "x".repeat(64 * 1024));
    assert!(padded.len() > 64 * 1024);

    let r = m.post_form("/oauth/token", padded).await;
    assert_rejected(&r, 413, "request-size");

    assert_tokens(&m.post_form("/oauth/token", good).await);
}

#[tokio::test]
async fn error_bodies_name_error_description_hint_and_rule_and_are_not_cached() {
    let m = spawn_mock().await;
    let code = m.code(WEB).await;

    let r = m
        .redeem(
            AppCreds {
                client_secret: DESKTOP.client_secret,
                ..WEB
            },
            &code,
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let body = r.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["error", "error_description", "hint", "rule"],
        "{}",
        r.body
    );
    for key in keys {
        assert!(
            body[key].as_str().is_some_and(|v| !v.is_empty()),
            "`{key}` is a non-empty string: {}",
            r.body
        );
    }
    assert_eq!(
        r.header("cache-control"),
        Some("no-store"),
        "errors are not cached either"
    );

    let ok = m.redeem(WEB, &code).await;
    assert_tokens(&ok); // checks Cache-Control: no-store
    assert_eq!(ok.header("pragma"), Some("no-cache"));
    assert!(
        ok.json().get("rule").is_none(),
        "a success names no rule: {}",
        ok.body
    );
}

#[tokio::test]
async fn the_token_endpoint_answers_on_the_api_origin_too() {
    let m = spawn_two_origins().await;
    assert_ne!(m.mock.api_url(), m.mock.oauth_url(), "two origins");
    let code = m.code(WEB).await;
    let on_api = |body: String| {
        m.http
            .post(format!("{}/oauth/token", m.mock.api_url()))
            .header("content-type", FORM)
            .body(body)
    };

    let get = m
        .send(m.http.get(format!("{}/oauth/token", m.mock.api_url())))
        .await;
    assert_rejected(&get, 401, "token-post");

    let on_api_origin = m.send(on_api(encode(&redeem_pairs(WEB, &code)))).await;
    let (access, refresh) = assert_tokens(&on_api_origin);
    // Answered, with the SHOULD rule the guide's host names: a warning, not a refusal.
    assert_eq!(
        on_api_origin.header("x-onshape-mock-warning"),
        Some("token-at-oauth-host")
    );
    let log = m.get("/__mock/requests").await.json();
    let warnings: Vec<&str> = log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|e| e["warning"].as_str())
        .collect();
    assert_eq!(
        warnings, ["token-at-oauth-host"; 2],
        "the GET and the POST to the API origin"
    );

    // Both origins share one store: the code is now used on the OAuth origin as well.
    let replay = m.redeem(WEB, &code).await;
    assert_rejected(&replay, 401, "code-single-use");
    assert_eq!(
        replay.header("x-onshape-mock-warning"),
        None,
        "the OAuth origin is where token requests belong"
    );
    let api = m
        .send(
            m.http
                .get(format!("{}/api/users/sessioninfo", m.mock.api_url()))
                .bearer_auth(&access),
        )
        .await;
    assert_rejected(&api, 401, "code-single-use");
    let refreshed = m
        .send(on_api(encode(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", WEB.client_id),
            ("client_secret", WEB.client_secret),
        ])))
        .await;
    assert_rejected(&refreshed, 401, "code-single-use");
}
