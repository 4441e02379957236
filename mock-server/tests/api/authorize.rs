//! `GET /oauth/authorize`: each rule rejected and accepted.

use crate::helpers::*;

#[tokio::test]
async fn client_id_with_unencoded_equals_is_refused_and_encoded_is_accepted() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;

    let raw = m
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={}",
            WEB.client_id
        ))
        .await;
    assert_rejected(&raw, 400, "client-id-encoded");
    assert!(
        raw.body.contains("%3D"),
        "the hint shows the encoded form: {}",
        raw.body
    );
    assert!(
        raw.header("location").is_none(),
        "never a redirect for a client that cannot be trusted"
    );

    let encoded = m.authorize(WEB, &[]).await;
    assert_eq!(encoded.status, 302, "{}", encoded.body);
}

#[tokio::test]
async fn unknown_client_is_a_page_with_a_did_you_mean() {
    let m = spawn_mock().await;
    let dropped = m
        .authorize(
            AppCreds {
                client_id: WEB.client_id.trim_end_matches('='),
                ..WEB
            },
            &[],
        )
        .await;
    assert_rejected(&dropped, 400, "client-known");
    assert!(
        dropped.body.contains(WEB.client_id),
        "suggests the registered id: {}",
        dropped.body
    );

    let missing = m.get("/oauth/authorize?response_type=code").await;
    assert_rejected(&missing, 400, "client-known");
}

#[tokio::test]
async fn redirect_uri_must_match_exactly() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let cases = [
        ("http://localhost:3000/oauth/callback/", "trailing slash"),
        ("http://localhost:3001/oauth/callback", "port differs"),
        ("http://127.0.0.1:3000/oauth/callback", "host differs"),
        ("https://localhost:3000/oauth/callback", "scheme differs"),
        ("http://localhost:3000/OAuth/callback", "letter case"),
        ("http://localhost:3000/oauth/callback?x=1", "query differs"),
        ("HTTP://localhost:3000/oauth/callback", "differs"),
    ];
    for (uri, why) in cases {
        let r = m.authorize(WEB, &[("redirect_uri", uri)]).await;
        assert_rejected(&r, 400, "redirect-uri-registered");
        assert!(
            r.body.contains(why),
            "{uri}: the page says `{why}`: {}",
            r.body
        );
        assert!(
            r.header("location").is_none(),
            "{uri}: never redirected to an unregistered URI"
        );
    }

    let exact = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert_eq!(exact.status, 302);
    assert!(
        exact
            .location()
            .starts_with("http://localhost:3000/oauth/callback?code="),
        "{}",
        exact.location()
    );
}

#[tokio::test]
async fn omitted_redirect_uri_means_the_first_registered() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let r = m.authorize(WEB, &[]).await;
    assert_eq!(r.status, 302);
    assert!(
        r.location()
            .starts_with("https://previewer.example.com/oauth/callback?code="),
        "{}",
        r.location()
    );
}

#[tokio::test]
async fn response_type_must_be_code() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let token = m
        .get(&format!(
            "/oauth/authorize?response_type=token&client_id={}&redirect_uri={}&state=abc",
            mock_server::form::encode_component(WEB.client_id),
            mock_server::form::encode_component(WEB.redirect),
        ))
        .await;
    assert_eq!(
        token.status, 302,
        "a known client and URI get the error by redirect"
    );
    assert_eq!(
        token.location_param("error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(
        token.location_param("state").as_deref(),
        Some("abc"),
        "state comes back"
    );
    assert_eq!(m.last_rule().await.as_deref(), Some("response-type-code"));

    let missing = m
        .get(&format!(
            "/oauth/authorize?client_id={}",
            mock_server::form::encode_component(WEB.client_id)
        ))
        .await;
    assert_eq!(
        missing.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(m.last_rule().await.as_deref(), Some("response-type-code"));

    let code = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert!(code.location_param("code").is_some());
}

#[tokio::test]
async fn scope_must_be_a_space_separated_subset() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let bad = [
        ("OAuth2Read OAuth2Share", "not registered"),
        ("OAuth2Read,OAuth2Write", "commas"),
        ("Read", "OAuth2Read"),
        ("OAuth2Read  OAuth2Write", "single spaces"),
    ];
    for (scope, why) in bad {
        let r = m
            .authorize(
                WEB,
                &[
                    ("redirect_uri", WEB.redirect),
                    ("scope", scope),
                    ("state", "st"),
                ],
            )
            .await;
        assert_eq!(r.status, 302, "{scope}");
        assert_eq!(
            r.location_param("error").as_deref(),
            Some("invalid_scope"),
            "{scope}"
        );
        assert_eq!(r.location_param("state").as_deref(), Some("st"), "{scope}");
        let description = r.location_param("error_description").unwrap_or_default();
        assert!(
            description.contains(why),
            "{scope}: `{description}` mentions `{why}`"
        );
        assert_eq!(
            m.last_rule().await.as_deref(),
            Some("scope-registered"),
            "{scope}"
        );
    }
    let subset = m
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("scope", "OAuth2Read OAuth2Write"),
            ],
        )
        .await;
    assert!(
        subset.location_param("code").is_some(),
        "{}",
        subset.location()
    );
}

#[tokio::test]
async fn client_secret_in_the_authorization_url_is_refused() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let leaked = m
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("client_secret", WEB.client_secret),
                ("state", "q"),
            ],
        )
        .await;
    assert_eq!(
        leaked.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        !leaked.location().contains("SECRET"),
        "the secret is not echoed back"
    );
    let log = m.get("/__mock/requests").await;
    assert!(
        !log.body.contains(WEB.client_secret),
        "the log masks the secret"
    );
    assert!(log.body.contains("secret-not-in-url"));

    let clean = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert!(clean.location_param("code").is_some());
}

#[tokio::test]
async fn repeated_or_malformed_parameters_are_a_page() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let enc = mock_server::form::encode(&[("client_id", WEB.client_id)]);
    let twice = m
        .get(&format!("/oauth/authorize?response_type=code&{enc}&{enc}"))
        .await;
    assert_rejected(&twice, 400, "param-once");
    let malformed = m
        .get(&format!(
            "/oauth/authorize?response_type=code&{enc}&state=%zz"
        ))
        .await;
    assert_rejected(&malformed, 400, "query-encoding");
    let not_utf8 = m
        .get(&format!(
            "/oauth/authorize?response_type=code&{enc}&state=%C3%28"
        ))
        .await;
    assert_rejected(&not_utf8, 400, "query-encoding");
    let fine = m
        .get(&format!(
            "/oauth/authorize?response_type=code&{enc}&state=%C3%A9"
        ))
        .await;
    assert_eq!(fine.status, 302);
    assert_eq!(fine.location_param("state").as_deref(), Some("é"));
}

#[tokio::test]
async fn authorize_must_be_a_get() {
    let m = spawn_mock().await;
    let post = m
        .post_form(
            "/oauth/authorize",
            mock_server::form::encode(&[("response_type", "code"), ("client_id", WEB.client_id)]),
        )
        .await;
    assert_rejected(&post, 405, "authorize-get");
    m.script_consent("grant", ALICE, None).await;
    assert_eq!(m.authorize(WEB, &[]).await.status, 302);
}

#[tokio::test]
async fn state_comes_back_unchanged_and_is_omitted_when_absent() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let tricky = "a b&c=d/é+%";
    let r = m
        .authorize(WEB, &[("redirect_uri", WEB.redirect), ("state", tricky)])
        .await;
    assert_eq!(r.location_param("state").as_deref(), Some(tricky));
    let none = m.authorize(WEB, &[("redirect_uri", WEB.redirect)]).await;
    assert!(!none.location().contains("state="), "{}", none.location());
}

#[tokio::test]
async fn company_id_must_be_one_of_the_users_companies() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let other = m
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("company_id", GLOBEX),
                ("state", "c"),
            ],
        )
        .await;
    assert_eq!(
        other.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(other.location_param("state").as_deref(), Some("c"));
    assert_eq!(m.last_rule().await.as_deref(), Some("company-member"));

    let own = m
        .authorize(WEB, &[("redirect_uri", WEB.redirect), ("company_id", ACME)])
        .await;
    let code = own
        .location_param("code")
        .expect("a code for alice's own company");
    let (access, _) = assert_tokens(&m.redeem(WEB, &code).await);
    let info = m.sessioninfo(&access).await.json();
    assert_eq!(info["company"]["id"], ACME);
}

#[tokio::test]
async fn scripted_consent_for_a_multi_company_user_uses_company_id() {
    let m = spawn_mock().await;
    m.script_consent("grant", BOB, None).await;
    let r = m
        .authorize(
            WEB,
            &[("redirect_uri", WEB.redirect), ("company_id", GLOBEX)],
        )
        .await;
    let code = r.location_param("code").expect("code");
    let (access, _) = assert_tokens(&m.redeem(WEB, &code).await);
    let info = m.sessioninfo(&access).await.json();
    assert_eq!(
        info["company"]["id"], GLOBEX,
        "the token belongs to the chosen company"
    );
}

#[tokio::test]
async fn oob_shows_the_code_in_the_title() {
    let m = spawn_mock().await;
    m.script_consent("grant", ALICE, None).await;
    let r = m.authorize(DESKTOP, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<title>Success code="), "{}", r.body);
    let code = m.code(DESKTOP).await;
    assert_tokens(&m.redeem(DESKTOP, &code).await);

    m.script_consent("deny", ALICE, None).await;
    let denied = m.authorize(DESKTOP, &[]).await;
    assert!(
        denied.body.contains("<title>Error description="),
        "{}",
        denied.body
    );
}

#[tokio::test]
async fn the_oauth_endpoints_answer_on_the_api_origin_too() {
    let m = spawn_two_origins().await;
    assert_ne!(m.mock.oauth_addr, m.mock.api_addr);
    m.script_consent("grant", ALICE, None).await;
    let url = format!(
        "{}/oauth/authorize?{}",
        m.mock.api_url(),
        mock_server::form::encode(&[
            ("response_type", "code"),
            ("client_id", WEB.client_id),
            ("redirect_uri", WEB.redirect)
        ])
    );
    let r = m.send(m.http.get(url)).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let log = m.get("/__mock/requests").await.json();
    let origins: Vec<&str> = log["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["origin"].as_str())
        .collect();
    assert!(
        origins.contains(&"api") && origins.contains(&"oauth"),
        "{origins:?}"
    );
}

#[tokio::test]
async fn comma_separated_scopes_are_accepted_only_when_configured() {
    let strict = spawn_mock().await;
    strict.script_consent("grant", ALICE, None).await;
    let refused = strict
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("scope", "OAuth2Read,OAuth2Write"),
            ],
        )
        .await;
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("invalid_scope")
    );

    let config = mock_server::Config {
        allow_comma_scopes: true,
        ..mock_server::Config::default()
    };
    let lenient = spawn_mock_with(config, mock_server::Binds::ephemeral()).await;
    lenient.script_consent("grant", ALICE, None).await;
    let accepted = lenient
        .authorize(
            WEB,
            &[
                ("redirect_uri", WEB.redirect),
                ("scope", "OAuth2Read,OAuth2Write"),
            ],
        )
        .await;
    let code = accepted
        .location_param("code")
        .expect("a code with --allow-comma-scopes");
    let (access, _) = assert_tokens(&lenient.redeem(WEB, &code).await);
    let info = lenient.sessioninfo(&access).await.json();
    assert_eq!(info["oauth2Scopes"], 2 | 4, "Read and Write, nothing else");
}
