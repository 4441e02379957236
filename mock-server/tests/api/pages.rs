//! The HTML side: login, consent (scopes in plain words, company choice), grant and deny,
//! the out-of-band page, the error page and the Applications page — driven as a browser
//! would, with snapshots of the pages (random ids redacted).

use mock_server::form::encode;

use crate::helpers::*;

/// The value of `<input … name="NAME" value="…">` or the first `name="NAME" value="…"`.
pub(crate) fn input_value(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&key)
        .unwrap_or_else(|| panic!("no input {name} in {html}"))
        + key.len();
    let end = html[start..].find('"').expect("attribute ends");
    html[start..start + end].to_owned()
}

fn form_action(html: &str, id: &str) -> String {
    let key = "action=\"";
    let form_at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no form {id}"));
    let before = &html[..form_at];
    let start = before.rfind(key).expect("form has an action") + key.len();
    let end = html[start..].find('"').expect("attribute ends");
    html[start..start + end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
}

fn redact(html: &str, secret: &str, label: &str) -> String {
    let redacted = html.replace(secret, label);
    match html.contains("name=\"csrf\"") {
        true => redacted.replace(&input_value(html, "csrf"), "CSRF_TOKEN"),
        false => redacted,
    }
}

/// Logs in as `user` from the login page of an authorization request; returns the consent page.
pub(crate) async fn login(
    m: &TestMock,
    app: AppCreds,
    extra: &[(&str, &str)],
    user: &str,
) -> (Resp, String) {
    let page = m.authorize(app, extra).await;
    assert_eq!(page.status, 200, "the login page: {}", page.body);
    let request = input_value(&page.body, "request");
    let csrf = input_value(&page.body, "csrf");
    let posted = m
        .post_form(
            "/oauth/login",
            encode(&[("request", &request), ("user", user), ("csrf", &csrf)]),
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let consent = m.get(posted.location()).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    (consent, request)
}

/// Submits the consent form of `consent` with `decision` (and `extra` fields).
pub(crate) async fn answer(
    m: &TestMock,
    consent: &Resp,
    request: &str,
    decision: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let action = form_action(&consent.body, "consent");
    let csrf = input_value(&consent.body, "csrf");
    let mut fields = vec![
        ("request", request),
        ("decision", decision),
        ("csrf", &csrf),
    ];
    fields.extend_from_slice(extra);
    m.post_form(&action, encode(&fields)).await
}

#[tokio::test]
async fn login_consent_grant_redirects_with_code_and_state() {
    let m = spawn_mock().await;
    let (consent, request) = login(
        &m,
        WEB,
        &[
            ("redirect_uri", WEB.redirect),
            ("state", "xyz"),
            ("scope", "OAuth2Read OAuth2ReadPII"),
        ],
        ALICE,
    )
    .await;
    assert!(consent.body.contains("Acme Web Previewer"));
    assert!(consent.body.contains("Read your documents"));
    assert!(consent.body.contains("Read your profile information"));
    assert!(
        !consent.body.contains("Write to your documents"),
        "only the requested scopes are listed"
    );
    insta::assert_snapshot!(
        "consent_page",
        redact(&consent.body, &request, "REQUEST_ID")
    );

    let granted = answer(&m, &consent, &request, "grant", &[]).await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(granted.location_param("state").as_deref(), Some("xyz"));
    let code = granted.location_param("code").expect("a code");
    let (access, _) = assert_tokens(&m.redeem(WEB, &code).await);
    let info = m.sessioninfo(&access).await.json();
    assert_eq!(info["email"], ALICE);
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let m = spawn_mock().await;
    let (consent, request) = login(
        &m,
        WEB,
        &[("redirect_uri", WEB.redirect), ("state", "nope")],
        ALICE,
    )
    .await;
    let denied = answer(&m, &consent, &request, "deny", &[]).await;
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.location_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(denied.location_param("state").as_deref(), Some("nope"));
    assert!(denied.location_param("code").is_none());
}

#[tokio::test]
async fn a_user_in_two_companies_chooses_one() {
    let m = spawn_mock().await;
    let (consent, request) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], BOB).await;
    assert!(
        consent.body.contains("Acme Robotics") && consent.body.contains("Globex Fabrication"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("name=\"company_id\""));
    let unchosen = answer(&m, &consent, &request, "grant", &[]).await;
    assert_eq!(unchosen.status, 400, "granting without choosing is refused");

    let chosen = answer(&m, &consent, &request, "grant", &[("company_id", GLOBEX)]).await;
    let code = chosen.location_param("code").expect("code");
    let (access, _) = assert_tokens(&m.redeem(WEB, &code).await);
    let info = m.sessioninfo(&access).await.json();
    assert_eq!(info["company"]["id"], GLOBEX);
}

#[tokio::test]
async fn company_id_given_skips_the_choice() {
    let m = spawn_mock().await;
    let (consent, _) = login(
        &m,
        WEB,
        &[("redirect_uri", WEB.redirect), ("company_id", ACME)],
        BOB,
    )
    .await;
    assert!(
        !consent.body.contains("name=\"company_id\""),
        "no choice when company_id was given"
    );
    assert!(consent.body.contains("Acme Robotics"));
}

#[tokio::test]
async fn a_company_the_user_is_not_in_is_an_error_redirect() {
    let m = spawn_mock().await;
    let page = m
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("company_id", GLOBEX),
                ("state", "s"),
            ],
        )
        .await;
    let request = input_value(&page.body, "request");
    let csrf = input_value(&page.body, "csrf");
    let posted = m
        .post_form(
            "/oauth/login",
            encode(&[("request", &request), ("user", ALICE), ("csrf", &csrf)]),
        )
        .await;
    let consent = m.get(posted.location()).await;
    assert_eq!(consent.status, 302, "{}", consent.body);
    assert_eq!(
        consent.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(consent.location_param("state").as_deref(), Some("s"));
}

#[tokio::test]
async fn oob_pages_match_their_snapshots() {
    let m = spawn_mock().await;
    let (consent, request) = login(&m, DESKTOP, &[], ALICE).await;
    let granted = answer(&m, &consent, &request, "grant", &[]).await;
    assert_eq!(granted.status, 200);
    let code = input_free_code(&granted.body);
    assert!(granted
        .body
        .contains(&format!("<title>Success code={code}</title>")));
    insta::assert_snapshot!("oob_success", redact(&granted.body, &code, "CODE"));
    assert_tokens(&m.redeem(DESKTOP, &code).await);

    let (consent, request) = login(&m, DESKTOP, &[], ALICE).await;
    let denied = answer(&m, &consent, &request, "deny", &[]).await;
    assert!(
        denied.body.contains("<title>Error description="),
        "{}",
        denied.body
    );
    insta::assert_snapshot!("oob_denied", denied.body);
}

fn input_free_code(html: &str) -> String {
    let start = html.find("<code id=\"code\">").expect("code element") + "<code id=\"code\">".len();
    let end = html[start..].find('<').expect("element ends");
    html[start..start + end].to_owned()
}

#[tokio::test]
async fn error_page_matches_its_snapshot() {
    let m = spawn_mock().await;
    let r = m
        .authorize(
            WEB,
            &[("redirect_uri", "http://localhost:3000/oauth/callback/")],
        )
        .await;
    assert_rejected(&r, 400, "redirect-uri-registered");
    insta::assert_snapshot!("error_page_redirect_uri", r.body);
}

#[tokio::test]
async fn applications_page_lists_and_revokes_grants() {
    let m = spawn_mock().await;
    let (access, refresh) = m.tokens(WEB).await;
    let page = m
        .get(&format!(
            "/account/applications?{}",
            encode(&[("user", ALICE)])
        ))
        .await;
    assert!(page.body.contains("Acme Web Previewer"), "{}", page.body);
    let csrf = input_value(&page.body, "csrf");

    // A cross-site form post (no token, another origin) is refused and revokes nothing.
    let forged = m
        .send(
            m.http
                .post(m.url("/account/applications/revoke"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "http://evil.example")
                .header("sec-fetch-site", "cross-site")
                .body(encode(&[("user", ALICE), ("client_id", WEB.client_id)])),
        )
        .await;
    assert_rejected(&forged, 403, "form-token");
    for bad in ["", "wrong"] {
        let r = m
            .post_form(
                "/account/applications/revoke",
                encode(&[("user", ALICE), ("client_id", WEB.client_id), ("csrf", bad)]),
            )
            .await;
        assert_rejected(&r, 403, "form-token");
    }
    assert_eq!(m.sessioninfo(&access).await.status, 200, "nothing revoked");

    let revoked = m
        .post_form(
            "/account/applications/revoke",
            encode(&[
                ("user", ALICE),
                ("client_id", WEB.client_id),
                ("csrf", &csrf),
            ]),
        )
        .await;
    assert_eq!(revoked.status, 303);
    let after = m.get(revoked.location()).await;
    assert!(
        after.body.contains("No applications are authorized"),
        "{}",
        after.body
    );
    assert_rejected(&m.sessioninfo(&access).await, 401, "grant-active");
    assert_rejected(&m.refresh(WEB, &refresh).await, 401, "grant-active");

    let (again, _) = m.tokens(WEB).await;
    assert_eq!(
        m.sessioninfo(&again).await.status,
        200,
        "granting again works"
    );
}

#[tokio::test]
async fn an_unknown_or_stale_authorization_request_is_explained() {
    let m = spawn_mock().await;
    let page = m.authorize(WEB, &[]).await;
    let request = input_value(&page.body, "request");
    m.advance(601).await;
    let stale = m
        .get(&format!(
            "/oauth/consent?{}",
            encode(&[("request", &request), ("user", ALICE)])
        ))
        .await;
    assert_rejected(&stale, 400, "consent-form");
    assert!(
        stale.body.contains("made 601 s ago")
            && stale.body.contains("valid for 10 minutes")
            && !stale.body.contains("registered client"),
        "{}",
        stale.body
    );
    // The login form refuses it too, instead of passing it on to the consent page.
    let login_form = m
        .post_form(
            "/oauth/login",
            encode(&[
                ("request", &request),
                ("user", ALICE),
                ("csrf", &input_value(&page.body, "csrf")),
            ]),
        )
        .await;
    assert_rejected(&login_form, 400, "consent-form");
    // A fresh one is accepted.
    let (consent, _) = login(&m, WEB, &[], ALICE).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
}

/// Back, then Grant again: the answered request is explained, and no second code is issued.
#[tokio::test]
async fn back_then_grant_again_says_the_request_was_answered() {
    let m = spawn_mock().await;
    let (consent, request) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], ALICE).await;
    let granted = answer(&m, &consent, &request, "grant", &[]).await;
    assert!(granted.location_param("code").is_some(), "{}", granted.body);
    m.advance(12).await;
    let again = answer(&m, &consent, &request, "grant", &[]).await;
    assert_rejected(&again, 400, "consent-form");
    assert!(again.header("location").is_none(), "no second code");
    assert!(
        again.body.contains("already answered 12 s ago (granted)")
            && again.body.contains("went Back")
            && again.body.contains("start again from the application")
            && !again.body.contains("registered client"),
        "{}",
        again.body
    );
    assert_eq!(
        again.body.matches("already answered").count(),
        1,
        "said once: {}",
        again.body
    );
}

/// RFC 6749 §10.13: the login and consent pages cannot be framed by another site; no page
/// can.
#[tokio::test]
async fn pages_refuse_to_be_framed() {
    let m = spawn_mock().await;
    let login_page = m.authorize(WEB, &[]).await;
    assert_eq!(login_page.status, 200);
    let (consent, _) = login(&m, WEB, &[], ALICE).await;
    let grants = m.get("/account/applications").await;
    for page in [&login_page, &consent, &grants] {
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(page
            .header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'")));
    }
}

#[tokio::test]
async fn a_consent_posted_from_another_site_is_refused_and_issues_no_code() {
    let m = spawn_mock().await;
    let (consent, request) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], ALICE).await;
    let action = form_action(&consent.body, "consent");
    let forged = m
        .send(
            m.http
                .post(m.url(&action))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "http://evil.example")
                .body(encode(&[
                    ("request", &request),
                    ("decision", "grant"),
                    ("csrf", &input_value(&consent.body, "csrf")),
                ])),
        )
        .await;
    assert_rejected(&forged, 403, "form-token");
    let granted = answer(&m, &consent, &request, "grant", &[]).await;
    assert!(granted.location_param("code").is_some(), "{}", granted.body);
}

/// A user with a grant in two companies sees two entries; revoking one leaves the other.
#[tokio::test]
async fn revoking_a_grant_in_one_company_leaves_the_other() {
    let m = spawn_mock().await;
    let mut tokens = vec![];
    for company in [ACME, GLOBEX] {
        m.script_consent("grant", BOB, Some(company)).await;
        let r = m
            .authorize(WEB, &[("redirect_uri", WEB.redirect), ("state", "s")])
            .await;
        let code = r.location_param("code").expect("code");
        tokens.push(assert_tokens(&m.redeem(WEB, &code).await));
    }
    let page = m
        .get(&format!(
            "/account/applications?{}",
            encode(&[("user", BOB)])
        ))
        .await;
    assert_eq!(
        page.body.matches("class=\"card grant\"").count(),
        2,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Revoke for Globex Fabrication")
            && page.body.contains("Revoke for Acme Robotics"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<time datetime=\"2026-01-01T00:00:00Z\">1 Jan 2026, 00:00:00 UTC</time>"),
        "{}",
        page.body
    );
    let revoked = m
        .post_form(
            "/account/applications/revoke",
            encode(&[
                ("user", BOB),
                ("client_id", WEB.client_id),
                ("company_id", GLOBEX),
                ("csrf", &input_value(&page.body, "csrf")),
            ]),
        )
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(
        m.sessioninfo(&tokens[0].0).await.status,
        200,
        "Acme's grant stays"
    );
    assert_rejected(&m.sessioninfo(&tokens[1].0).await, 401, "grant-active");
    let after = m.get(revoked.location()).await;
    assert_eq!(
        after.body.matches("class=\"card grant\"").count(),
        1,
        "{}",
        after.body
    );
    assert!(after.body.contains("for Acme Robotics"), "{}", after.body);
}

/// Hints on pages show Markdown code spans as code, and pages fit a phone's width.
#[tokio::test]
async fn page_hints_render_code_spans_and_pages_have_a_viewport() {
    let m = spawn_mock().await;
    let r = m
        .authorize(
            WEB,
            &[("redirect_uri", "http://localhost:3000/oauth/callback/")],
        )
        .await;
    assert!(
        r.body
            .contains("<code>http:&#x2f;&#x2f;localhost:3000&#x2f;oauth&#x2f;callback</code>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains('`'), "no literal backticks: {}", r.body);
    let login_page = m.authorize(WEB, &[]).await;
    for page in [&r, &login_page, &m.get("/account/applications").await] {
        assert!(page.body.contains("name=\"viewport\""), "{}", page.body);
    }
}

/// The consent page says where the browser goes next, and that a light user is read-only.
#[tokio::test]
async fn consent_says_where_the_browser_goes_and_that_light_users_read_only() {
    let m = spawn_mock().await;
    let (consent, _) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], CAROL).await;
    assert!(consent.body.contains("id=\"light\""), "{}", consent.body);
    assert!(consent.body.contains("read-only"), "{}", consent.body);
    assert!(
        consent.body.contains(
            "sent to <code>http:&#x2f;&#x2f;localhost:3000&#x2f;oauth&#x2f;callback</code>"
        ),
        "{}",
        consent.body
    );
    let (alice, _) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], ALICE).await;
    assert!(!alice.body.contains("id=\"light\""), "{}", alice.body);
}

/// A browser that hides its origin (`Origin: null`) is let through only when it says the post
/// is same-origin; the pages' referrer policy keeps browsers from hiding it on their own.
#[tokio::test]
async fn a_hidden_origin_is_accepted_only_from_the_same_site() {
    let m = spawn_mock().await;
    let (consent, request) = login(&m, WEB, &[("redirect_uri", WEB.redirect)], ALICE).await;
    assert_eq!(consent.header("referrer-policy"), Some("same-origin"));
    assert_eq!(
        consent.header("content-security-policy"),
        Some("frame-ancestors 'none'"),
        "no form-action: it would block the redirect to the callback"
    );
    let action = form_action(&consent.body, "consent");
    let post = |site: Option<&'static str>| {
        let mut req = m
            .http
            .post(m.url(&action))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "null")
            .body(encode(&[
                ("request", &request),
                ("decision", "grant"),
                ("csrf", &input_value(&consent.body, "csrf")),
            ]));
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        m.send(req)
    };
    assert_rejected(&post(None).await, 403, "form-token");
    assert_rejected(&post(Some("cross-site")).await, 403, "form-token");
    let granted = post(Some("same-origin")).await;
    assert!(granted.location_param("code").is_some(), "{}", granted.body);
}
