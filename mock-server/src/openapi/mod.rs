//! Onshape's REST API read from its OpenAPI 3.0 document (`serve --openapi FILE`): every
//! operation routed, its parameters and JSON body checked, its answer shaped from the
//! response schema. The HTTP side is [`crate::api::operations`]; this module knows only the
//! document.
//!
//! Map:
//! - [`load`]: the file read strictly into a [`Spec`]: operations, their parameters, body,
//!   scopes and response, with every schema compiled; what it read but does not enforce is
//!   kept in [`Spec::notes`].
//! - [`schema`]: the compiled Schema Objects (an arena with `$ref`s as indices);
//!   [`validate`] checks a JSON value against one; [`example`] builds one.
//! - [`routing`]: a request's path matched to an operation the way the real server routes
//!   (literal segments before parameters, ids of 24 hex characters, `wvm` of w/v/m), with
//!   the closest operations for a path that matches none.
//! - [`params`]: path, query and header parameters checked against their schemas.

pub use axum::http::Method;

use crate::domain::ScopeSet;

pub mod example;
pub mod load;
pub mod params;
pub mod routing;
pub mod schema;
pub mod validate;

pub use load::LoadError;
pub use routing::Routed;
pub use schema::{SchemaId, Schemas};
pub use validate::Violation;

/// A loaded document: what `serve --openapi` answers.
#[derive(Debug)]
pub struct Spec {
    /// `info.title` and `info.version`.
    pub title: String,
    pub version: String,
    pub operations: Vec<Operation>,
    pub schemas: Schemas,
    /// Constructs read but not enforced, one line each (shown at start-up and in README).
    pub notes: Vec<String>,
    /// The document as read: `GET /api/openapi` answers it.
    pub raw: std::sync::Arc<[u8]>,
    pub(crate) routes: routing::Routes,
}

/// One operation of the document.
#[derive(Debug)]
pub struct Operation {
    pub method: Method,
    /// The path template without `/api` or a version: `/documents/{did}`.
    pub path: String,
    /// `operationId`, or `METHOD path` when the document gives none.
    pub id: String,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub security: Security,
    pub reply: Reply,
}

impl Operation {
    /// `POST /documents`: how hints name the operation.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub schema: Option<SchemaId>,
}

#[derive(Debug)]
pub struct Body {
    pub required: bool,
    /// The media types the operation takes, without parameters, lower case.
    pub media: Vec<String>,
    /// The schema of its JSON media type, when it has one.
    pub json: Option<SchemaId>,
}

/// Who may call an operation: anyone (no `security`), or a token holding every scope of
/// one of the requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    Open,
    AnyOf(Vec<Requirement>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub scopes: ScopeSet,
    /// Scope names that are not Onshape's public scopes (`OAuth2Internal`): no token has them.
    pub unknown: Vec<String>,
}

/// The answer an operation gives: status, media type and schema.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub media: Option<String>,
    pub schema: Option<SchemaId>,
}

impl Reply {
    pub fn is_json(&self) -> bool {
        self.media.as_deref().is_some_and(is_json_media)
    }
}

/// `application/json` or any `…+json` (Onshape's `application/vnd.onshape.v1+json`).
pub fn is_json_media(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

impl Spec {
    /// Reads and compiles the document in `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Result<Spec, LoadError> {
        load::spec(bytes)
    }

    /// Reads the document at `path`.
    pub fn load(path: &std::path::Path) -> Result<Spec, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        Self::from_slice(&bytes)
    }

    /// The operation `method path` routes to, with what its path parameters hold.
    pub fn route<'s>(&'s self, method: &Method, segments: &[&str]) -> Routed<'s> {
        self.routes.route(self, method, segments)
    }

    /// The operation at `method template` (`GET /documents/{did}`), if the document has it.
    pub fn operation(&self, method: &Method, template: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.method == *method && o.path == template)
    }
}
