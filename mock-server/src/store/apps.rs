//! Registered OAuth applications and the developer settings page's rules for them.

use std::collections::{HashMap, HashSet};

use crate::error::ControlError;
use crate::model::{App, AppRegistration};
use crate::rules;

#[derive(Debug)]
pub(super) struct Apps {
    by_id: HashMap<String, App>,
}

impl Apps {
    pub fn new(fixtures: &[App]) -> Apps {
        Apps {
            by_id: fixtures
                .iter()
                .map(|a| (a.client_id.clone(), a.clone()))
                .collect(),
        }
    }

    pub fn get(&self, client_id: &str) -> Option<&App> {
        self.by_id.get(client_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &App> {
        self.by_id.values()
    }

    /// The hint for an unknown client id: the registered id it was probably meant to be (a
    /// dropped trailing `=`, a case slip), or where ids come from.
    pub fn unknown_client_hint(&self, given: &str) -> String {
        let trimmed = given.trim_end_matches('=');
        let close = self
            .by_id
            .keys()
            .find(|id| id.trim_end_matches('=') == trimmed || id.eq_ignore_ascii_case(given));
        match close {
            Some(close) => format!(
                "No application has this client id; did you mean `{close}`? Send it exactly, each `=` encoded as %3D."
            ),
            None => "No application has this client id: use the one issued at registration.".to_owned(),
        }
    }

    /// Registers an application under the settings page's rules.
    pub fn register(&mut self, reg: AppRegistration) -> Result<App, ControlError> {
        let taken: HashSet<String> = self
            .by_id
            .values()
            .map(|a| a.primary_format.clone())
            .collect();
        let app = reg.validate(&taken)?;
        if self.by_id.contains_key(&app.client_id) {
            return Err(ControlError::bad_request(
                rules::CONTROL_REQUEST,
                Some("client_id"),
                "client_id is already registered",
            ));
        }
        self.by_id.insert(app.client_id.clone(), app.clone());
        Ok(app)
    }

    /// Every client secret, for the log's masking pass.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.by_id.values().map(|a| a.client_secret.as_str())
    }
}
