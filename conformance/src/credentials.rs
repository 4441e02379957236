//! What a scenario's client authenticates with: the scenario's OAuth application, registered
//! with its one redirect URI, or its API key; and the secrets of either that must not show in
//! the client's output.

use mock_server::model::AppRegistration;
use mock_server::AppState;

use crate::driver::{RunError, Secret, SecretKind};
use crate::scenario::{Auth, Scenario};

/// What the client is given to authenticate with.
pub(crate) enum Credentials {
    App(mock_server::model::App),
    Key(mock_server::model::ApiKey),
}

impl Credentials {
    /// The app's client id, or the key's access key (what triggers act on).
    pub(crate) fn id(&self) -> &str {
        match self {
            Credentials::App(app) => &app.client_id,
            Credentials::Key(key) => &key.access_key,
        }
    }
}

/// The scenario's application, registered with the one redirect URI.
fn register_app(
    state: &AppState,
    scenario: &Scenario,
    redirect_uri: &str,
) -> Result<mock_server::model::App, RunError> {
    state
        .store()
        .register_app(
            AppRegistration {
                name: format!("Conformance client ({})", scenario.id),
                summary: scenario.title.clone(),
                primary_format: "com.example.onshape-mock.conformance".to_owned(),
                redirect_urls: vec![redirect_uri.to_owned()],
                scopes: scenario.registered_scopes.clone(),
                ..AppRegistration::default()
            },
            state.clock().now(),
        )
        .map_err(|e| {
            RunError::Setup(format!(
                "scenario {}: {} ({})",
                scenario.id, e.message, e.rule
            ))
        })
}

/// The scenario's API key: the scenario user's, in their first company, with the
/// scenario's scopes, on the default stack.
fn create_key(
    state: &AppState,
    scenario: &Scenario,
) -> Result<mock_server::model::ApiKey, RunError> {
    let setup = |m: String| RunError::Setup(format!("scenario {}: {m}", scenario.id));
    let scopes = mock_server::model::permission_scopes(&scenario.registered_scopes)
        .map_err(|e| setup(format!("{} ({})", e.message, e.rule)))?;
    let now = state.clock().now();
    let mut store = state.store();
    let user = store
        .user_by_email(&scenario.user)
        .cloned()
        .ok_or_else(|| setup(format!("no fixture user {}", scenario.user)))?;
    Ok(store.create_api_key(
        mock_server::store::apikeys::NewKey {
            name: format!("Conformance key ({})", scenario.id),
            user_id: user.id.clone(),
            company_id: user.companies.first().cloned(),
            scopes,
            stack: mock_server::DEFAULT_STACK.to_owned(),
        },
        now,
    ))
}

impl Credentials {
    /// The scenario's app (OAuth) or key (API key), made in the mock.
    pub(crate) fn create(
        state: &AppState,
        scenario: &Scenario,
        redirect_uri: &str,
    ) -> Result<Credentials, RunError> {
        Ok(match scenario.auth {
            Auth::Oauth => Credentials::App(register_app(state, scenario, redirect_uri)?),
            Auth::ApiKey => Credentials::Key(create_key(state, scenario)?),
        })
    }

    /// The client secret, and the HTTP Basic credentials that carry it (raw, as most
    /// libraries send them, and form-encoded, as RFC 6749 §2.3.1 says); or the API secret
    /// key and its Basic credentials.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let basic = |id: &str, secret: &str| {
            data_encoding::BASE64.encode(format!("{id}:{secret}").as_bytes())
        };
        let enc = |v: &str| mock_server::form::encode_component(v);
        let (kind, values) = match self {
            Credentials::App(app) => (
                SecretKind::ClientSecret,
                vec![
                    app.client_secret.clone(),
                    basic(&app.client_id, &app.client_secret),
                    basic(&enc(&app.client_id), &enc(&app.client_secret)),
                ],
            ),
            Credentials::Key(key) => (
                SecretKind::ApiSecretKey,
                vec![
                    key.secret_key.clone(),
                    basic(&key.access_key, &key.secret_key),
                ],
            ),
        };
        values
            .into_iter()
            .map(|value| Secret { kind, value })
            .collect()
    }
}
