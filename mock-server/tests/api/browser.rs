//! The pages in a real browser: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`; `.ci/run` installs them). The start page, login, consent with a
//! company choice, the out-of-band page, Back-then-Grant, the Applications page and the
//! request inspector load, their forms work end to end, and nothing is wider than a phone's
//! screen (360 px).
//!
//! Without Chromium the test says so and passes, except under CI (`CI` set), where it fails:
//! CI must run it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone's width: every page must fit it without scrolling sideways.
const PHONE_WIDTH: u32 = 360;

/// chromedriver; the test closes its session (which quits Chromium) before killing it.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: std::path::PathBuf,
}

impl Driver {
    pub(crate) fn start() -> Option<Driver> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
        let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned());
        if !std::path::Path::new(&chromium).exists() || !std::path::Path::new(&driver).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the browser test: install Debian's chromium and chromium-driver"
            );
            eprintln!(
                "SKIPPED: {chromium} or {driver} is missing (apt install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        use std::os::unix::process::CommandExt;
        let child = Command::new(driver)
            .args([
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".to_owned(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = std::env::temp_dir().join(format!("onshape-mock-chromium-{port}"));
        Some(Driver {
            child,
            port,
            profile,
        })
    }

    pub(crate) async fn browser(&self) -> Client {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
        // The closed network of CI machines: no background connections, no QUIC.
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
                // A phone's screen (a desktop window cannot be narrower than 500 px).
                "mobileEmulation": {
                    "deviceMetrics": { "width": PHONE_WIDTH, "height": 800, "pixelRatio": 2.0 },
                },
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A redirect URI that answers: the callback page shows what it got.
async fn callback_listener() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let body = "<!doctype html><title>callback</title><p id=cb>callback reached</p>";
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://localhost:{port}/cb")
}

pub(crate) async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    // Polled by hand: right after a click, a look-up can fail with "aborted by navigation"
    // while the next page loads; that is a reason to look again, not a failure.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.find(Locator::Css(css)).await {
            Ok(e) => return e,
            Err(e) if Instant::now() >= deadline => {
                let at = c
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                let page = c.source().await.unwrap_or_default();
                panic!("`{css}` did not appear ({e}) on {at}:\n{page}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The page fits a phone: nothing wider than the viewport, and the viewport is the phone's.
pub(crate) async fn assert_fits(c: &Client, what: &str) {
    let widths = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth, getComputedStyle(document.body).fontFamily];",
            vec![],
        )
        .await
        .expect("script runs");
    let scroll = widths[0].as_u64().unwrap_or(u64::MAX);
    let inner = widths[1].as_u64().unwrap_or(0);
    assert!(
        scroll <= inner && inner <= u64::from(PHONE_WIDTH),
        "{what}: {scroll} px of content in a {inner} px viewport"
    );
    let font = widths[2].as_str().unwrap_or("");
    assert!(
        font.starts_with("system-ui"),
        "{what}: the base layout's font, not `{font}`"
    );
}

async fn url(c: &Client) -> url::Url {
    c.current_url().await.expect("a URL")
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Waits until the browser is on the callback, and returns the code it carried.
async fn callback_code(c: &Client, redirect: &str) -> String {
    wait_for(c, "#cb").await;
    let at = url(c).await;
    assert!(at.as_str().starts_with(redirect), "{at}");
    assert_eq!(param(&at, "state").as_deref(), Some("st"), "{at}");
    param(&at, "code").expect("a code on the callback")
}

/// Runs `walk` in headless Chromium (skipped, with a message, without it outside CI), at most
/// 180 s; a failure still closes the browser, so the test ends.
pub(crate) async fn in_chromium<F>(what: &str, walk: impl FnOnce(Client) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(driver) = Driver::start() else {
        return;
    };
    let c = driver.browser().await;
    let walked =
        tokio::time::timeout(Duration::from_secs(180), tokio::spawn(walk(c.clone()))).await;
    let _ = c.close().await;
    drop(driver);
    match walked {
        Ok(Ok(())) => {}
        Ok(Err(failed)) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        Ok(Err(failed)) => panic!("the {what} did not finish: {failed}"),
        Err(_) => panic!("the {what} took more than 180 s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_chromium_on_a_phone_sized_screen() {
    in_chromium("browser walk", walk).await;
}

async fn walk(c: Client) {
    let m = spawn_mock().await;
    let redirect = callback_listener().await;
    let app = m
        .post_json(
            "/__mock/apps",
            json!({
                "name": "Browser Test App", "primary_format": "com.example.browser-test",
                "summary": "Reads documents.", "redirect_urls": [redirect, "urn:ietf:wg:oauth:2.0:oob"],
                "scopes": ["OAuth2ReadPII", "OAuth2Read"],
            }),
        )
        .await
        .json();
    let client_id = app["client_id"].as_str().expect("client id").to_owned();
    let secret = app["client_secret"].as_str().expect("secret").to_owned();
    let authorize = |redirect: &str| {
        m.url(&format!(
            "/oauth/authorize?{}",
            mock_server::form::encode(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", redirect),
                ("state", "st"),
            ])
        ))
    };
    let redeem = |code: String, redirect: String| {
        let (client_id, secret) = (client_id.clone(), secret.clone());
        let m = &m;
        async move {
            m.token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("redirect_uri", &redirect),
            ])
            .await
        }
    };
    // On a consent page: Grant, then redeem the code the callback got.
    let grant_and_redeem = |c: &Client, redirect: &str| {
        let (c, redirect, redeem) = (c.clone(), redirect.to_owned(), &redeem);
        async move {
            c.find(Locator::Id("grant"))
                .await
                .expect("grant")
                .click()
                .await
                .expect("grant");
            let code = callback_code(&c, &redirect).await;
            redeem(code, redirect).await
        }
    };

    // The start page: every fixture app with its authorize links.
    c.goto(&m.url("/")).await.expect("start page");
    wait_for(&c, "a.authorize").await;
    assert_fits(&c, "start page").await;
    let links = c
        .find_all(Locator::Css("a.authorize"))
        .await
        .expect("links");
    assert!(links.len() >= 5, "{} authorize links", links.len());

    // Login, consent, grant: the callback gets a code that redeems.
    c.goto(&authorize(&redirect)).await.expect("authorize");
    assert_fits(&c, "login page").await;
    wait_for(&c, "#user-1")
        .await
        .click()
        .await
        .expect("sign in as Alice");
    let destination = wait_for(&c, "#destination")
        .await
        .text()
        .await
        .expect("text");
    assert!(destination.contains(&redirect), "{destination}");
    assert_fits(&c, "consent page").await;
    let tokens = grant_and_redeem(&c, &redirect).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    // Back, then Grant again: the page says the request was answered.
    c.back().await.expect("back");
    let body = wait_for(&c, "body").await;
    if let Ok(grant) = c.find(Locator::Id("grant")).await {
        grant.click().await.expect("grant again");
    }
    let rule = wait_for(&c, "#rule").await.text().await.expect("rule");
    assert_eq!(rule, "consent-form");
    let text = c
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text");
    assert!(text.contains("already answered"), "{text}");
    drop(body);
    assert_fits(&c, "answered page").await;

    // Bob chooses a company, once for each.
    for company in [GLOBEX, ACME] {
        c.goto(&authorize(&redirect)).await.expect("authorize");
        wait_for(&c, "#user-2")
            .await
            .click()
            .await
            .expect("sign in as Bob");
        let select = wait_for(&c, "select#company_id").await;
        assert_fits(&c, "consent page with a company choice").await;
        select.select_by_value(company).await.expect("choose");
        let tokens = grant_and_redeem(&c, &redirect).await;
        let access = tokens.json()["access_token"]
            .as_str()
            .expect("access")
            .to_owned();
        let info = m.sessioninfo(&access).await.json();
        assert_eq!(info["company"]["id"], company, "{info}");
    }

    // The out-of-band page: the code, on the base layout, with its lifetime.
    c.goto(&authorize("urn:ietf:wg:oauth:2.0:oob"))
        .await
        .expect("authorize");
    wait_for(&c, "#user-1")
        .await
        .click()
        .await
        .expect("sign in");
    wait_for(&c, "#grant").await.click().await.expect("grant");
    let code = wait_for(&c, "#code").await.text().await.expect("code");
    assert_eq!(
        c.title().await.expect("title"),
        format!("Success code={code}")
    );
    let expiry = c
        .find(Locator::Id("expiry"))
        .await
        .expect("expiry")
        .text()
        .await
        .expect("text");
    assert!(expiry.contains("60 seconds"), "{expiry}");
    assert_fits(&c, "OOB page").await;
    let tokens = redeem(code, "urn:ietf:wg:oauth:2.0:oob".to_owned()).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    // The Applications page: Bob's two grants, one Revoke each.
    c.goto(&m.url("/account/applications?user=bob%40example.com"))
        .await
        .expect("grants");
    wait_for(&c, ".card.grant").await;
    assert_fits(&c, "Applications page").await;
    let cards = |n: usize| {
        let c = &c;
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                // Empty while the page reloads after a Revoke ("aborted by navigation").
                let found = c
                    .find_all(Locator::Css(".card.grant"))
                    .await
                    .unwrap_or_default();
                if found.len() == n {
                    return found;
                }
                assert!(Instant::now() < deadline, "{} cards, not {n}", found.len());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    cards(2).await;
    c.find(Locator::Css(&format!(
        ".card.grant[data-company-id=\"{GLOBEX}\"] button"
    )))
    .await
    .expect("Globex's Revoke")
    .click()
    .await
    .expect("revoke");
    let after = cards(1).await;
    assert_eq!(
        after[0]
            .attr("data-company-id")
            .await
            .expect("attr")
            .as_deref(),
        Some(ACME)
    );

    // The inspector: the exchanges so far, a refusal highlighted, filters.
    let refused = m.get("/oauth/token").await;
    assert_rejected(&refused, 401, "token-post");
    c.goto(&m.url("/__mock/ui")).await.expect("inspector");
    let row = wait_for(&c, "#rows tr[data-rule=\"token-post\"]").await;
    assert_eq!(
        row.attr("class").await.expect("class").as_deref(),
        Some("refused")
    );
    assert_fits(&c, "inspector").await;
    c.find(Locator::Id("filter"))
        .await
        .expect("filter")
        .send_keys("consent-form")
        .await
        .expect("type");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The rows' rule attributes, read in one script: the page re-renders its rows, and an
        // element read one at a time can go stale in between.
        let rules: Vec<Option<String>> = c
            .execute(
                "return Array.from(document.querySelectorAll('#rows tr')).map(r => r.dataset.rule || null);",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        if !rules.is_empty() && rules.iter().all(|r| r.as_deref() == Some("consent-form")) {
            break;
        }
        assert!(Instant::now() < deadline, "filtered rows: {rules:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
