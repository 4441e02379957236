//! The developer portal: who may open which settings, forged posts refused (over HTTP), and
//! the whole surface walked in headless Chromium on a phone-sized screen — create an app and
//! see its secret once, regenerate it, edit permissions, add a user (twice: refused), add and fire an
//! extension against a real app on a loopback port, create an API key, read the usage, delete
//! the app — with no raw ISO timestamp on any page.

use fantoccini::{Client, Locator};

use crate::browser::{assert_fits, in_chromium, wait_for};
use crate::helpers::*;
use crate::pages::input_value;

#[tokio::test]
async fn settings_open_only_to_their_admins_and_forged_posts_change_nothing() {
    let m = spawn_mock().await;
    let home = m.get("/developer?as=alice%40example.com").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains(&format!("data-ctx=\"{ACME}\"")),
        "{}",
        home.body
    );
    let bob_home = m.get("/developer?as=bob%40example.com").await;
    assert!(
        bob_home
            .body
            .contains("Acme Robotics: you are not an admin"),
        "{}",
        bob_home.body
    );

    let refused = m
        .get(&format!("/developer/{ACME}/apps?as=bob%40example.com"))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("developer-admin"), "{}", refused.body);
    let light = m.get("/developer/me/apps?as=carol%40example.com").await;
    assert_eq!(light.status, 403, "{}", light.body);
    let own = m.get("/developer/me/apps?as=bob%40example.com").await;
    assert_eq!(own.status, 200, "Bob's own Developer Portal");

    let page = m
        .get(&format!("/developer/{ACME}/apps?as=alice%40example.com"))
        .await;
    let csrf = input_value(&page.body, "csrf");
    let form = |token: &str| {
        mock_server::form::encode(&[
            ("csrf", token),
            ("as", ALICE),
            ("name", "Forged"),
            ("primary_format", "com.example.forged"),
            ("redirect_urls", "https://f.example.com/cb"),
            ("type", "connected-cloud"),
            ("scope", "OAuth2Read"),
        ])
    };
    let forged = m
        .send(
            m.http
                .post(m.url(&format!("/developer/{ACME}/apps")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "https://evil.example.com")
                .body(form(&csrf)),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("form-token"), "{}", forged.body);
    let no_token = m
        .post_form(&format!("/developer/{ACME}/apps"), form("nope"))
        .await;
    assert_eq!(no_token.status, 403);
    assert!(
        !m.get("/__mock/apps").await.body.contains("Forged"),
        "a refused post registers nothing"
    );
    let made = m
        .post_form(&format!("/developer/{ACME}/apps"), form(&csrf))
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made
        .body
        .contains("You will not be able to access this secret key again"));
    assert_eq!(made.header("cache-control"), Some("no-store"));
}

async fn fill(c: &Client, css: &str, text: &str) {
    let field = wait_for(c, css).await;
    field.clear().await.expect("clears");
    field.send_keys(text).await.expect("types");
}

async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.expect("clicks");
}

async fn text(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.expect("text")
}

/// No `2026-01-01T00:00:00Z` in what a person reads.
async fn assert_no_iso(c: &Client, what: &str) {
    let body = c
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text");
    let iso = body.char_indices().any(|(i, ch)| {
        ch == 'T'
            && i >= 10
            && body.get(i - 10..i).is_some_and(|d| {
                d.as_bytes()[4] == b'-'
                    && d.as_bytes()[7] == b'-'
                    && d.bytes().filter(u8::is_ascii_digit).count() == 8
            })
    });
    assert!(!iso, "{what} shows a raw ISO timestamp:\n{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_developer_portal_works_in_chromium_on_a_phone_sized_screen() {
    in_chromium("portal walk", walk).await;
}

async fn walk(c: Client) {
    let m = spawn_mock().await;
    // The app an extension fires at: answers JSON on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let app_base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async { r#"{"message":"exported"}"# });
        let _ = axum::serve(listener, app).await;
    });

    c.goto(&m.url("/developer")).await.expect("opens");
    assert_fits(&c, "portal: choose a user").await;
    click(&c, "a[href='/developer?as=alice%40example.com']").await;
    click(
        &c,
        &format!(".context[data-ctx='{ACME}'] a[href^='/developer/{ACME}/apps']"),
    )
    .await;
    wait_for(&c, "#create-form").await;
    assert_fits(&c, "portal: applications").await;
    assert_no_iso(&c, "portal: applications").await;

    // Create: the secret once.
    fill(&c, "#name", "Phone App").await;
    fill(&c, "#primary_format", "com.example.phone-app").await;
    fill(&c, "#redirect_urls", "https://phone.example.com/callback").await;
    click(&c, "input[name=scope][value=OAuth2Read]").await;
    click(&c, "#create-app").await;
    let secret = text(&c, "#client-secret").await;
    let client_id = text(&c, "#client-id").await;
    assert!(secret.ends_with('='), "{secret}");
    assert!(text(&c, "#secret-once")
        .await
        .contains("You will not be able to access this secret key again"));
    assert_fits(&c, "portal: the secret once").await;
    click(&c, "#close").await;

    // Details: settings, then keys and secret.
    wait_for(&c, "#settings-form").await;
    assert_fits(&c, "portal: settings").await;
    assert_no_iso(&c, "portal: settings").await;
    click(&c, "#tab-keys").await;
    click(&c, "#regenerate").await;
    let regenerated = text(&c, "#client-secret").await;
    assert_ne!(regenerated, secret, "a new secret");
    click(&c, "#close").await;
    assert!(
        text(&c, ".card").await.contains("last regenerated"),
        "the keys tab says when"
    );
    assert_no_iso(&c, "portal: keys").await;

    // Permissions.
    click(&c, "#tab-permissions").await;
    click(&c, "input[name=scope][value=OAuth2Write]").await;
    click(&c, "#save-scopes").await;
    assert!(text(&c, "#notice").await.contains("Permissions saved"));
    assert_fits(&c, "portal: permissions").await;

    // Users: Bob is added; adding him twice is refused on the page, with the reason.
    click(&c, "#tab-users").await;
    for after in ["#notice", "#error"] {
        wait_for(&c, "#member")
            .await
            .select_by_value(BOB)
            .await
            .expect("selects Bob");
        click(&c, "#add-member").await;
        wait_for(&c, after).await;
    }
    assert!(
        text(&c, "#error")
            .await
            .contains("already in the application's users list"),
        "refused with the reason"
    );
    assert!(text(&c, "#members").await.contains("Bob Builder"));
    assert_fits(&c, "portal: users").await;

    // Extensions: add one aimed at the app on loopback, fire it.
    click(&c, "#tab-extensions").await;
    fill(&c, "#ext-name", "Export").await;
    wait_for(&c, "#location")
        .await
        .select_by_value("element-context-menu")
        .await
        .expect("a location");
    wait_for(&c, "#context")
        .await
        .select_by_value("part-studio")
        .await
        .expect("a context");
    fill(
        &c,
        "#action_url",
        &format!(
            "{app_base}/export/{{$documentId}}/{{$workspaceOrVersion}}/{{$workspaceOrVersionId}}"
        ),
    )
    .await;
    wait_for(&c, "#action_type")
        .await
        .select_by_value("get")
        .await
        .expect("GET");
    click(&c, "input[name=show_response]").await;
    click(&c, "#add-extension").await;
    assert!(text(&c, "#notice").await.contains("Extension added"));
    assert_fits(&c, "portal: extensions").await;
    click(&c, ".extension button.fire").await;
    assert_eq!(text(&c, "#fired-status").await, "200");
    assert!(text(&c, "#fire-ok").await.contains("No problems"));
    assert!(
        text(&c, "#fired-url").await.contains("/export/d0c"),
        "placeholders replaced"
    );
    assert_fits(&c, "portal: fired").await;

    // API keys: created, the secret once.
    click(&c, "nav.portal a[href*='/keys']").await;
    fill(&c, "#key-name", "CI script").await;
    click(&c, "input[name=scope][value=OAuth2Read]").await;
    click(&c, "#create-key").await;
    assert_eq!(text(&c, "#secret-key").await.len(), 48);
    click(&c, "#close").await;
    assert!(text(&c, "#keys").await.contains("CI script"));
    assert_fits(&c, "portal: API keys").await;
    assert_no_iso(&c, "portal: API keys").await;

    // Usage.
    click(&c, "nav.portal a[href*='/usage']").await;
    assert!(text(&c, "#standing").await.contains("of 5000000"));
    assert_fits(&c, "portal: usage").await;

    // Delete the app: back on the list, without it.
    click(&c, "nav.portal a[href*='/apps']").await;
    click(&c, &format!(".app[data-client-id='{client_id}'] a")).await;
    assert_eq!(text(&c, "h1").await, "Phone App");
    click(&c, "#delete-app").await;
    wait_for(&c, "#create-form").await;
    assert!(
        !m.get("/__mock/apps").await.body.contains(&client_id),
        "deleted"
    );
    assert!(
        c.find(Locator::Css(&format!(".app[data-client-id='{client_id}']")))
            .await
            .is_err(),
        "gone from the list"
    );
}

#[tokio::test]
async fn a_store_entry_made_on_the_page_can_be_seen_by_chosen_teams() {
    let m = spawn_mock().await;
    let client = WEB.client_id.replace('=', "%3D");
    let page = m
        .get(&format!(
            "/developer/{ACME}/apps/{client}?as=alice%40example.com&tab=settings"
        ))
        .await;
    assert!(page.body.contains("Automation (team)"), "{}", page.body);
    let csrf = input_value(&page.body, "csrf");
    let post = |extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("as", ALICE),
            ("type", "connected-cloud"),
            ("category", "Data management"),
            ("support_url", "https://previewer.example.com/help"),
            ("support_email", "help@previewer.example.com"),
            ("vendor", "Acme"),
            ("version", "3.1"),
        ];
        fields.extend_from_slice(extra);
        mock_server::form::encode(&fields)
    };
    let path = format!("/developer/{ACME}/apps/{client}/store-entry");
    let refused = m.post_form(&path, post(&[("visibility", "teams")])).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("store-entry"), "{}", refused.body);
    let made = m
        .post_form(
            &path,
            post(&[
                ("visibility", "teams"),
                ("teams", "7ea40000000000000000a11a"),
            ]),
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let entries = m.get("/__mock/store-entries").await.json();
    assert_eq!(entries["entries"][0]["visibility"], "teams");
    assert_eq!(
        entries["entries"][0]["teams"],
        serde_json::json!(["7ea40000000000000000a11a"])
    );
}
