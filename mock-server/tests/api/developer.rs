//! The developer settings through the control API: registration fields, who may do what,
//! settings, the secret regenerated, permissions edited, users on the app, transfer, store
//! entries, deletion — each rule refused and accepted, and what each change does to grants.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn registration(format: &str) -> Value {
    json!({
        "name": "Bracket Checker",
        "summary": "Checks brackets.",
        "primary_format": format,
        "redirect_urls": ["https://brackets.example.com/callback"],
        "scopes": ["OAuth2Read", "OAuth2Write"],
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("object") {
        base[k] = v.clone();
    }
    base
}

impl TestMock {
    async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Registers an app owned by Acme (created by Alice); returns its JSON with the secret.
    async fn acme_app(&self, format: &str) -> Value {
        let r = self
            .post_json(
                "/__mock/apps",
                with(registration(format), json!({ "owner": ACME })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    }
}

fn creds(app: &Value) -> AppCreds {
    let leak = |v: &Value| -> &'static str {
        Box::leak(v.as_str().expect("string").to_owned().into_boxed_str())
    };
    AppCreds {
        client_id: leak(&app["client_id"]),
        client_secret: leak(&app["client_secret"]),
        redirect: "https://brackets.example.com/callback",
    }
}

#[tokio::test]
async fn registration_takes_every_field_of_the_form() {
    let m = spawn_mock().await;
    let r = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.brackets"),
                json!({
                    "type": "integrated-cloud",
                    "oauth_url": "https://brackets.example.com/oauth/start",
                    "supports_collaboration": true,
                    "owner": ACME,
                    "as": ALICE,
                }),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let app = r.json();
    assert_eq!(app["type"], "integrated-cloud");
    assert_eq!(app["oauth_url"], "https://brackets.example.com/oauth/start");
    assert_eq!(app["supports_collaboration"], true);
    assert_eq!(app["owner"]["company_id"], ACME);
    assert_eq!(app["created_by"], ALICE);
    assert_eq!(
        app["users"][0]["name"], ALICE,
        "the admin who created it is in the users list at once"
    );
    assert!(app["client_secret"].is_string(), "the secret is shown once");
    let read = m
        .get(&format!(
            "/__mock/apps/{}",
            app["client_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(read.status, 200);
    assert!(
        read.json().get("client_secret").is_none(),
        "and never again"
    );

    // Defaults: no OAuth URL (local work), the type from the redirect URLs.
    let desktop = m
        .post_json(
            "/__mock/apps",
            json!({
                "name": "Local tool", "primary_format": "com.example.local-tool",
                "redirect_urls": ["http://localhost:7000/cb"], "scopes": ["OAuth2Read"],
            }),
        )
        .await;
    assert_eq!(desktop.status, 201, "{}", desktop.body);
    assert_eq!(desktop.json()["type"], "connected-desktop");
    assert_eq!(desktop.json()["oauth_url"], Value::Null);

    for (url, why) in [
        ("http://brackets.example.com/start", "plain http"),
        ("https://brackets.example.com/start#top", "a fragment"),
        ("not a url", "not a URL"),
    ] {
        let r = m
            .post_json(
                "/__mock/apps",
                with(
                    registration("com.example.other"),
                    json!({ "oauth_url": url }),
                ),
            )
            .await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
        assert_eq!(r.json()["rule"], "registration-oauth-url", "{why}");
    }
    let bad_type = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.other"),
                json!({ "type": "web-app" }),
            ),
        )
        .await;
    assert_eq!(bad_type.status, 400, "{}", bad_type.body);
    assert!(
        bad_type.body.contains("connected-cloud"),
        "{}",
        bad_type.body
    );
}

#[tokio::test]
async fn only_admins_register_company_apps_and_only_on_enterprise_and_professional() {
    let m = spawn_mock().await;
    // Bob is a member of Acme but not its admin.
    let r = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.bobs"),
                json!({ "owner": ACME, "as": BOB }),
            ),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["rule"], "developer-admin");
    // He is Globex's admin; and anyone may register their own in the Developer Portal.
    let globex = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.bobs"),
                json!({ "owner": GLOBEX, "as": BOB }),
            ),
        )
        .await;
    assert_eq!(globex.status, 201, "{}", globex.body);
    let own = m
        .post_json(
            "/__mock/apps",
            with(registration("com.example.bobs-own"), json!({ "as": BOB })),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.json()["owner"]["user"], BOB);
    // A light user owns nothing.
    let light = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.carols"),
                json!({ "owner": CAROL }),
            ),
        )
        .await;
    assert_eq!(light.status, 403, "{}", light.body);
    assert_eq!(light.json()["rule"], "developer-admin");

    // A company on the Standard plan has no developer settings.
    let fixtures = mock_server::Fixtures::parse(&format!(
        "{}\n[[companies]]\nid = \"5ba11000000000000000000c\"\nname = \"Small Shop\"\nplan = \"standard\"\n",
        mock_server::fixtures::DEFAULT_TOML
    ))
    .expect("fixtures parse");
    let small = spawn_mock_with(
        mock_server::Config {
            fixtures,
            ..Default::default()
        },
        mock_server::Binds::ephemeral(),
    )
    .await;
    let r = small
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.small"),
                json!({ "owner": "5ba11000000000000000000c" }),
            ),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["rule"], "developer-plan");
}

#[tokio::test]
async fn a_regenerated_secret_replaces_the_old_one_at_once() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.regen").await;
    let old = creds(&app);
    let (access, refresh) = m.tokens(old).await;

    let not_admin = m
        .post_json(
            &format!("/__mock/apps/{}/secret", old.client_id),
            json!({ "as": BOB }),
        )
        .await;
    assert_eq!(not_admin.status, 403, "{}", not_admin.body);
    assert_eq!(not_admin.json()["rule"], "developer-admin");

    m.advance(90).await;
    let r = m
        .post_json(
            &format!("/__mock/apps/{}/secret", old.client_id),
            json!({ "as": ALICE }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_secret = r.json()["client_secret"]
        .as_str()
        .expect("the new secret, once")
        .to_owned();
    assert_ne!(new_secret, old.client_secret);
    assert!(r.json()["secret_regenerated_at"].is_string());

    let refused = m.refresh(old, &refresh).await;
    assert_rejected(&refused, 401, "client-auth");
    let hint = refused.json()["hint"].as_str().unwrap_or("").to_owned();
    assert!(
        hint.contains("regenerated") && hint.contains("s ago"),
        "the hint says the secret was regenerated, and when: {hint}"
    );
    assert!(!hint.contains(old.client_secret), "no secret in a hint");

    // Grants and tokens survive: the access token works, the refresh works with the new secret.
    assert_eq!(m.sessioninfo(&access).await.status, 200);
    let new = AppCreds {
        client_secret: Box::leak(new_secret.into_boxed_str()),
        ..old
    };
    assert_tokens(&m.refresh(new, &refresh).await);
}

#[tokio::test]
async fn the_primary_format_cannot_change_but_the_other_settings_can() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.settings").await;
    let id = app["client_id"].as_str().expect("id");
    let path = format!("/__mock/apps/{id}/settings");

    let r = m
        .post_json(&path, json!({ "primary_format": "com.example.renamed" }))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["rule"], "registration-primary-format");
    assert!(r.body.contains("cannot be changed"), "{}", r.body);
    let r = m
        .post_json(&path, json!({ "redirect_urls": ["http://example.com/cb"] }))
        .await;
    assert_eq!(r.json()["rule"], "registration-redirect-url", "{}", r.body);
    let unchanged = m.get(&format!("/__mock/apps/{id}")).await.json();
    assert_eq!(
        unchanged["redirect_urls"], app["redirect_urls"],
        "a refused edit changes nothing"
    );

    let r = m
        .post_json(
            &path,
            json!({
                "primary_format": "com.example.settings", "name": "Bracket Checker 2",
                "type": "connected-desktop", "oauth_url": "", "supports_collaboration": true,
                "as": ALICE,
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["name"], "Bracket Checker 2");
    assert_eq!(r.json()["type"], "connected-desktop");
    assert_eq!(r.json()["supports_collaboration"], true);
}

#[tokio::test]
async fn narrowed_permissions_narrow_every_grant_at_once_and_widened_ones_need_a_new_grant() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.scopes").await;
    let c = creds(&app);
    let (access, refresh) = m.tokens(c).await;
    let write = || async {
        m.send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&access)
                .json(&json!({ "name": "Plate" })),
        )
        .await
    };
    assert_eq!(write().await.status, 200, "writing before the change");

    let r = m
        .post_json(
            &format!("/__mock/apps/{}/scopes", c.client_id),
            json!({ "scopes": ["OAuth2Read"], "as": ALICE }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["narrowed_tokens"], 1);

    let refused = write().await;
    assert_rejected(&refused, 403, "scope-sufficient");
    assert!(
        refused.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("permissions were changed")),
        "{}",
        refused.body
    );
    assert_eq!(
        m.api(Method::GET, "/api/documents", &access).await.status,
        200,
        "reading is still granted"
    );
    let (narrow, refresh) = assert_tokens(&m.refresh(c, &refresh).await);
    let info = m.sessioninfo(&narrow).await.json();
    assert_eq!(
        info["oauth2Scopes"], 2,
        "the refreshed token has OAuth2Read alone"
    );

    // Widening: the grant does not gain OAuth2Write until the user authorizes again.
    m.post_json(
        &format!("/__mock/apps/{}/scopes", c.client_id),
        json!({ "scopes": ["OAuth2Read", "OAuth2Write"] }),
    )
    .await;
    let (still, _) = assert_tokens(&m.refresh(c, &refresh).await);
    let r = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&still)
                .json(&json!({ "name": "Plate" })),
        )
        .await;
    assert_rejected(&r, 403, "scope-sufficient");
    assert!(
        r.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("authorize again")),
        "{}",
        r.body
    );
    let (fresh, _) = m.tokens(c).await;
    let r = m
        .send(
            m.http
                .post(m.url("/api/documents"))
                .bearer_auth(&fresh)
                .json(&json!({ "name": "Plate" })),
        )
        .await;
    assert_eq!(r.status, 200, "a new grant has the new scope: {}", r.body);

    let bad = m
        .post_json(
            &format!("/__mock/apps/{}/scopes", c.client_id),
            json!({ "scopes": [] }),
        )
        .await;
    assert_eq!(bad.json()["rule"], "registration-scopes", "{}", bad.body);
}

fn entry_form(client_id: &str, app_type: &str) -> Value {
    json!({
        "client_id": client_id, "type": app_type, "category": "Data management",
        "support_url": "https://brackets.example.com/help",
        "support_email": "support@brackets.example.com",
        "vendor": "Acme Robotics", "version": "1.0",
    })
}

#[tokio::test]
async fn an_app_with_a_store_entry_is_deleted_after_its_entry_and_its_tokens_die() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.deleted").await;
    let c = creds(&app);
    let (access, refresh) = m.tokens(c).await;

    let wrong_type = m
        .post_json(
            "/__mock/store-entries",
            entry_form(c.client_id, "connected-desktop"),
        )
        .await;
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body);
    assert_eq!(wrong_type.json()["rule"], "store-entry");
    let mut bad_email = entry_form(c.client_id, "connected-cloud");
    bad_email["support_email"] = json!("support at example");
    let r = m.post_json("/__mock/store-entries", bad_email).await;
    assert_eq!(r.json()["field"], "support_email", "{}", r.body);
    let entry = m
        .post_json(
            "/__mock/store-entries",
            entry_form(c.client_id, "connected-cloud"),
        )
        .await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    assert_eq!(entry.json()["name"], "Bracket Checker", "name from the app");
    assert_eq!(
        entry.json()["visibility"],
        "none",
        "visible to no one by default"
    );
    let again = m
        .post_json(
            "/__mock/store-entries",
            entry_form(c.client_id, "connected-cloud"),
        )
        .await;
    assert_eq!(again.status, 409, "one entry per app: {}", again.body);
    let entry_id = entry.json()["id"].as_str().expect("id").to_owned();

    let refused = m.delete(&format!("/__mock/apps/{}", c.client_id)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.json()["rule"], "app-delete-order");
    assert_eq!(m.sessioninfo(&access).await.status, 200, "nothing changed");

    let not_admin = m
        .delete(&format!("/__mock/store-entries/{entry_id}?as={BOB}"))
        .await;
    assert_eq!(not_admin.status, 403, "{}", not_admin.body);
    assert_eq!(
        m.delete(&format!("/__mock/store-entries/{entry_id}?as={ALICE}"))
            .await
            .status,
        204
    );
    let deleted = m
        .delete(&format!("/__mock/apps/{}?as={ALICE}", c.client_id))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["revoked_grants"], 1);

    let dead = m.sessioninfo(&access).await;
    assert_rejected(&dead, 401, "grant-active");
    assert!(dead.body.contains("deleted"), "{}", dead.body);
    let refresh = m.refresh(c, &refresh).await;
    assert_rejected(&refresh, 401, "client-known");
    assert!(refresh.body.contains("was deleted"), "{}", refresh.body);
    let list = m.get("/__mock/apps").await.json();
    assert!(
        !list.to_string().contains(c.client_id),
        "gone from the list"
    );
}

#[tokio::test]
async fn users_teams_and_aliases_join_an_app_but_light_users_and_outsiders_do_not() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.users").await;
    let path = format!(
        "/__mock/apps/{}/users",
        app["client_id"].as_str().expect("id")
    );

    let light = m.post_json(&path, json!({ "member": CAROL })).await;
    assert_eq!(light.status, 400, "{}", light.body);
    assert_eq!(light.json()["rule"], "app-users");
    assert!(light.body.contains("light user"), "{}", light.body);

    let bob = m
        .post_json(&path, json!({ "member": BOB, "as": ALICE }))
        .await;
    assert_eq!(bob.status, 200, "{}", bob.body);
    let team = m
        .post_json(&path, json!({ "member": "7ea40000000000000000a11a" }))
        .await;
    assert_eq!(team.status, 200, "{}", team.body);
    let alias = m
        .post_json(&path, json!({ "member": "a1a50000000000000000a11a" }))
        .await;
    assert_eq!(alias.status, 200, "{}", alias.body);
    let kinds: Vec<String> = alias.json()["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["user", "user", "team", "alias"]);

    let twice = m.post_json(&path, json!({ "member": BOB })).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    let by_non_admin = m
        .post_json(&path, json!({ "member": BOB, "as": BOB }))
        .await;
    assert_eq!(
        by_non_admin.json()["rule"],
        "developer-admin",
        "{}",
        by_non_admin.body
    );

    // A Globex app takes no Acme team, and Alice is not in Globex.
    let globex = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.globex"),
                json!({ "owner": GLOBEX }),
            ),
        )
        .await
        .json();
    let gpath = format!(
        "/__mock/apps/{}/users",
        globex["client_id"].as_str().expect("id")
    );
    for member in ["7ea40000000000000000a11a", ALICE] {
        let r = m.post_json(&gpath, json!({ "member": member })).await;
        assert_eq!(r.json()["rule"], "app-users", "{member}: {}", r.body);
    }

    let removed = m.delete(&format!("{path}/{BOB}")).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.json()["users"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_transferred_app_leaves_its_owners_list_and_its_usage_follows_it() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.transfer").await;
    let c = creds(&app);
    let path = format!("/__mock/apps/{}/transfer", c.client_id);

    let outsider = m
        .post_json(&path, json!({ "to": GLOBEX, "as": ALICE }))
        .await;
    assert_eq!(outsider.status, 400, "{}", outsider.body);
    assert_eq!(outsider.json()["rule"], "app-transfer");
    let light = m.post_json(&path, json!({ "to": CAROL })).await;
    assert_eq!(light.json()["rule"], "app-transfer", "{}", light.body);
    let same = m.post_json(&path, json!({ "to": ACME })).await;
    assert_eq!(same.json()["rule"], "app-transfer", "{}", same.body);

    let acme_list = format!("/__mock/apps?owner={ACME}");
    assert!(m.get(&acme_list).await.body.contains(c.client_id));
    let r = m.post_json(&path, json!({ "to": BOB, "as": ALICE })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["owner"]["user"], BOB);
    assert!(
        !m.get(&acme_list).await.body.contains(c.client_id),
        "left Acme's list"
    );
    assert!(m
        .get(&format!("/__mock/apps?owner={BOB}"))
        .await
        .body
        .contains(c.client_id));
    let notes = m.get("/__mock/notifications").await.json();
    let note = &notes["notifications"][0];
    assert_eq!(note["kind"], "app-transfer");
    assert_eq!(note["to"], json!([BOB]));

    // Future calls count toward Bob's own account, not Acme.
    let calls = |u: &Value, name: &str| {
        u["usage"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["calls"].as_u64().unwrap_or(0))
            .expect("row")
    };
    let before = m.get("/__mock/usage").await.json();
    let (access, _) = m.tokens(c).await;
    assert_eq!(m.sessioninfo(&access).await.status, 200);
    let after = m.get("/__mock/usage").await.json();
    assert_eq!(calls(&after, BOB), calls(&before, BOB) + 1);
    assert_eq!(
        calls(&after, "Acme Robotics"),
        calls(&before, "Acme Robotics")
    );
}

#[tokio::test]
async fn a_grant_given_after_the_app_was_deleted_issues_no_code() {
    let m = spawn_mock().await;
    let app = m.acme_app("com.example.pending").await;
    let c = creds(&app);
    let (consent, request) = crate::pages::login(&m, c, &[("state", "s")], ALICE).await;
    let r = m.delete(&format!("/__mock/apps/{}", c.client_id)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let granted = crate::pages::answer(&m, &consent, &request, "grant", &[]).await;
    assert_eq!(granted.status, 302, "{}", granted.body);
    assert_eq!(
        granted.location_param("error").as_deref(),
        Some("unauthorized_client")
    );
    assert_eq!(
        granted.location_param("code"),
        None,
        "no code for a deleted app"
    );

    let again = m.authorize(c, &[]).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("was deleted"), "{}", again.body);
}

#[tokio::test]
async fn company_admins_manage_everyones_keys_and_users_their_own() {
    let m = spawn_mock().await;
    let key = |user: &str, company: Option<&str>, as_user: &str| {
        json!({
            "name": "script", "user": user, "scopes": ["OAuth2Read"],
            "company_id": company, "as": as_user,
        })
    };
    let refused = m
        .post_json("/__mock/apikeys", key(ALICE, Some(ACME), BOB))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.json()["rule"], "developer-admin");
    let made = m
        .post_json("/__mock/apikeys", key(BOB, Some(ACME), ALICE))
        .await;
    assert_eq!(
        made.status, 201,
        "an admin creates a key for anyone in the company: {}",
        made.body
    );
    let access = made.json()["access_key"].as_str().expect("key").to_owned();

    let by_bob = m
        .send(
            m.http
                .delete(m.url(&format!("/__mock/apikeys/{access}?as={BOB}"))),
        )
        .await;
    assert_eq!(
        by_bob.status, 403,
        "Bob is not Acme's admin: {}",
        by_bob.body
    );
    let by_alice = m
        .send(
            m.http
                .delete(m.url(&format!("/__mock/apikeys/{access}?as={ALICE}"))),
        )
        .await;
    assert_eq!(by_alice.status, 204, "{}", by_alice.body);
}

#[tokio::test]
async fn an_integrated_app_opened_from_the_applications_page_must_send_the_user_back_after_a_grant()
{
    let m = spawn_mock().await;
    let app = m
        .post_json(
            "/__mock/apps",
            with(
                registration("com.example.integrated"),
                json!({ "type": "integrated-cloud", "oauth_url": "https://int.example.com/start?x=1", "owner": ACME }),
            ),
        )
        .await
        .json();
    let c = creds(&app);
    let page = m
        .get("/account/applications?user=alice%40example.com")
        .await;
    assert!(page.body.contains("Open Bracket Checker"), "{}", page.body);

    let open = format!(
        "/account/applications/open?user=alice%40example.com&client_id={}",
        c.client_id.replace('=', "%3D")
    );
    let opened = m.get(&open).await;
    assert_eq!(opened.status, 302, "{}", opened.body);
    assert!(opened
        .location()
        .starts_with("https://int.example.com/start?x=1&redirectOnshapeUri="));
    let back = url::Url::parse(opened.location())
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "redirectOnshapeUri")
        .map(|(_, v)| v.into_owned())
        .expect("redirectOnshapeUri");
    let back_path = back
        .split_once("/account/")
        .map(|(_, p)| format!("/account/{p}"))
        .expect("a mock path");

    // Back before any grant: refused, and recorded.
    let early = m.get(&back_path).await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert!(
        early.body.contains("redirect-onshape-uri"),
        "{}",
        early.body
    );
    let launches = m.get("/__mock/launches").await.json();
    assert_eq!(launches["launches"][0]["granted_before_return"], false);

    // Opened again, granted, then back: welcomed.
    let opened = m.get(&open).await;
    let back = opened
        .location()
        .split("redirectOnshapeUri=")
        .nth(1)
        .expect("param")
        .to_owned();
    let back = percent_encoding::percent_decode_str(&back)
        .decode_utf8_lossy()
        .into_owned();
    let back_path = back
        .split_once("/account/")
        .map(|(_, p)| format!("/account/{p}"))
        .expect("a mock path");
    m.tokens(c).await;
    let welcomed = m.get(&back_path).await;
    assert_eq!(welcomed.status, 200, "{}", welcomed.body);
    assert!(
        welcomed.body.contains("Back in Onshape from"),
        "{}",
        welcomed.body
    );

    // Only integrated apps with an OAuth URL are opened.
    let refused = m
        .get(&format!(
            "/account/applications/open?user=alice%40example.com&client_id={}",
            WEB.client_id.replace('=', "%3D")
        ))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("redirect-onshape-uri"),
        "{}",
        refused.body
    );
}
