//! `GET /__mock/openapi`: what `--openapi` loaded — every operation served, with its scopes
//! and whether the mock keeps state for it, and the constructs read but not enforced.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::domain::Scope;
use crate::openapi::Security;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/__mock/openapi", get(summary))
}

async fn summary(State(state): State<AppState>) -> Json<Value> {
    let Some(spec) = state.config().openapi.as_deref() else {
        return Json(json!({
            "loaded": false,
            "hint": "serve --openapi FILE (Onshape's document: curl -o onshape-openapi.json https://cad.onshape.com/api/openapi) serves every operation it lists",
        }));
    };
    Json(summary_json(spec))
}

fn summary_json(spec: &crate::openapi::Spec) -> Value {
    let operations: Vec<Value> = spec
        .operations
        .iter()
        .map(|op| {
            let scopes: Vec<Vec<String>> = match &op.security {
                Security::Open => Vec::new(),
                Security::AnyOf(reqs) => reqs
                    .iter()
                    .map(|r| {
                        Scope::ALL
                            .into_iter()
                            .filter(|s| r.scopes.contains(*s))
                            .map(|s| s.name().to_owned())
                            .chain(r.unknown.iter().cloned())
                            .collect()
                    })
                    .collect::<Vec<_>>(),
            };
            json!({
                "method": op.method.as_str(),
                "path": op.path,
                "operationId": op.id,
                "scopes": scopes,
                "stateful": crate::api::stateful_operation(op),
            })
        })
        .collect();
    json!({
        "loaded": true,
        "title": spec.title,
        "version": spec.version,
        "operations": operations,
        "schemas": spec.schemas.len(),
        "notes": spec.notes,
    })
}
