//! `GET /`: the landing page a newcomer opens first — the fixture applications with a ready
//! authorization link for each redirect URI, the users and companies, the control API, the
//! request inspector and the one command that gets a token.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::form;
use crate::pages;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(page))
}

/// The control API in one line each: (request, effect, a link for a GET).
const CONTROL: &[(&str, &str, &str)] = &[
    (
        "GET /__mock/health",
        "status, version, sizes of the internal tables",
        "/__mock/health",
    ),
    (
        "GET /__mock/clock",
        "the mock's time and mode",
        "/__mock/clock",
    ),
    (
        "POST /__mock/clock/advance {\"seconds\":N}",
        "move the clock (expiry without waiting)",
        "",
    ),
    (
        "GET /__mock/apps",
        "the registered applications, without secrets",
        "/__mock/apps",
    ),
    (
        "POST /__mock/apps {…}",
        "register an application (the secret is shown once)",
        "",
    ),
    (
        "POST /__mock/consent {\"decision\",\"user\",\"company_id\"}",
        "answer the next authorizations without pages",
        "",
    ),
    (
        "POST /__mock/grants/revoke {\"user\",\"client_id\",\"company_id\"}",
        "revoke a grant: its tokens die",
        "",
    ),
    (
        "GET /__mock/requests",
        "the request log as JSON (paged; DELETE clears it)",
        "/__mock/requests?limit=50",
    ),
    (
        "GET /__mock/requests.har",
        "the request log as HAR 1.2",
        "/__mock/requests.har",
    ),
    (
        "POST /__mock/faults {…}",
        "answer the next requests to a path with a 429 or 5xx",
        "",
    ),
    (
        "POST /__mock/triggers {…}",
        "after an event: move the clock, revoke, arm a fault",
        "",
    ),
    (
        "GET /__mock/script",
        "armed faults and pending triggers",
        "/__mock/script",
    ),
    ("GET /__mock/rules", "the rule catalog", "/__mock/rules"),
    ("POST /__mock/reset", "back to the fixtures", ""),
];

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // Links are relative to the origin the browser used; the base URL shown is its Host.
    let base = crate::api::base_url(&headers);
    let api = state
        .urls()
        .map_or_else(|| format!("{base}/api"), |u| format!("{}/api", u.api));
    let now = state.clock().now();
    let store = state.store();
    let mut apps: Vec<_> = store.apps().collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    let apps: Vec<_> = apps
        .into_iter()
        .map(|a| {
            let redirects: Vec<_> = a
                .redirect_uris
                .iter()
                .map(|r| {
                    let link = format!(
                        "/oauth/authorize?{}",
                        form::encode(&[
                            ("response_type", "code"),
                            ("client_id", &a.client_id),
                            ("redirect_uri", r.as_str()),
                            ("state", "from-the-landing-page"),
                        ])
                    );
                    minijinja::context! { uri => r.as_str(), link }
                })
                .collect();
            minijinja::context! {
                name => a.name, summary => a.summary, primary_format => a.primary_format,
                client_id => a.client_id, scopes => a.scopes.to_string(), redirects,
            }
        })
        .collect();
    let company_name = |id: &str| {
        store
            .company(id)
            .map_or_else(|| id.to_owned(), |c| c.name.clone())
    };
    let users: Vec<_> = store
        .users()
        .iter()
        .map(|u| {
            let companies: Vec<String> = u.companies.iter().map(|c| company_name(c)).collect();
            minijinja::context! {
                email => u.email, name => u.name, light => u.light,
                companies => if companies.is_empty() { "none (individual account)".to_owned() } else { companies.join(", ") },
            }
        })
        .collect();
    let companies: Vec<_> = store
        .companies()
        .iter()
        .map(|c| minijinja::context! { id => c.id, name => c.name, plan => c.plan.as_str() })
        .collect();
    let consent = store.consent_summary();
    drop(store);
    pages::render(
        &state,
        StatusCode::OK,
        "landing.html",
        minijinja::context! {
            version => env!("CARGO_PKG_VERSION"), base, api, apps, users, companies, consent,
            clock_mode => state.clock().mode().as_str(),
            now => now.human(), now_iso => now.rfc3339(),
            control => CONTROL,
        },
    )
}
