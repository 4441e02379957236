//! Scenario calls against an OpenAPI document (`check --openapi`): every call of
//! `api_calls` must be an operation of the document, with the body it needs in
//! `api_bodies`, before any client runs.

use crate::scenario::Scenario;

/// Every call of every scenario fits `spec`; otherwise the first that does not, and why.
pub fn check(scenarios: &[Scenario], spec: &mock_server::openapi::Spec) -> Result<(), String> {
    scenarios.iter().try_for_each(|s| {
        s.calls_fit(spec)
            .map_err(|e| format!("scenario {} against --openapi: {e}", s.id))
    })
}

impl Scenario {
    /// Every call of `api_calls` is an operation of `spec` (`check --openapi`), with the
    /// body it needs; otherwise why not, with the closest operations.
    pub fn calls_fit(&self, spec: &mock_server::openapi::Spec) -> Result<(), String> {
        use mock_server::openapi::Routed;
        for call in &self.api_calls {
            let (method, target) = call.split_once(' ').unwrap_or((call.as_str(), ""));
            let method: mock_server::openapi::Method = method
                .parse()
                .map_err(|_| format!("`{call}`: not a method"))?;
            let path = target.split('?').next().unwrap_or("");
            let (_, route) =
                mock_server::api::split_version(path.strip_prefix("/api").unwrap_or(path));
            let segments: Vec<&str> = route.iter().map(String::as_str).collect();
            let stateful = mock_server::api::stateful(&method, &segments);
            match spec.route(&method, &segments) {
                Routed::Found { op, .. } => {
                    let needs_body = op
                        .body
                        .as_ref()
                        .is_some_and(|b| b.required && b.json.is_some());
                    if needs_body && !stateful && !self.api_bodies.contains_key(call) {
                        return Err(format!(
                            "`{call}` ({}) takes a JSON body: give it in api_bodies",
                            op.id
                        ));
                    }
                }
                _ if stateful => {}
                Routed::WrongMethod { path, allow } => {
                    return Err(format!(
                        "`{call}`: {path} answers {}",
                        allow
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
                Routed::NotFound { closest } => {
                    return Err(format!(
                        "`{call}` is not an operation of the document; the closest: {}",
                        closest.join("; ")
                    ))
                }
            }
        }
        Ok(())
    }
}
