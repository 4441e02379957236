//! The document read strictly: JSON, `openapi: 3.0.x`, `paths` of GET/POST/PUT/PATCH/DELETE
//! operations whose parameters, bodies, responses and schemas all make sense. A file that is
//! not such a document is refused with where and why; a construct read but not enforced is
//! noted ([`Spec::notes`]), not refused.

use axum::http::Method;
use serde_json::{Map, Value};

use super::schema::{escape, resolve, CompileError, Compiler};
use super::{is_json_media, Body, Location, Operation, Param, Reply, Requirement, Security, Spec};
use crate::domain::{Scope, ScopeSet};
use crate::media_base;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the OpenAPI document {path}: {error}")]
    Io { path: String, error: String },
    #[error("the OpenAPI document is not JSON ({0}); download Onshape's with: curl -o onshape-openapi.json https://cad.onshape.com/api/openapi")]
    NotJson(String),
    #[error("not an OpenAPI 3.0 document: {0}")]
    NotOpenApi3(String),
    #[error("the OpenAPI document is invalid at {at}: {message}")]
    Invalid { at: String, message: String },
}

impl From<CompileError> for LoadError {
    fn from(e: CompileError) -> Self {
        LoadError::Invalid {
            at: e.at,
            message: e.message,
        }
    }
}

fn invalid(at: impl Into<String>, message: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        at: at.into(),
        message: message.into(),
    }
}

const METHODS: [(&str, Method); 5] = [
    ("get", Method::GET),
    ("post", Method::POST),
    ("put", Method::PUT),
    ("patch", Method::PATCH),
    ("delete", Method::DELETE),
];

pub(super) fn spec(bytes: &[u8]) -> Result<Spec, LoadError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| LoadError::NotJson(e.to_string()))?;
    let Some(root) = doc.as_object() else {
        return Err(LoadError::NotOpenApi3(
            "the document is not a JSON object".into(),
        ));
    };
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        Some(v) => {
            return Err(LoadError::NotOpenApi3(format!(
                "`openapi` is `{v}`; the mock reads OpenAPI 3.0.x, as Onshape publishes (3.0.1)"
            )))
        }
        None if root.contains_key("swagger") => {
            return Err(LoadError::NotOpenApi3(
                "this is a Swagger 2.0 document; Onshape publishes OpenAPI 3.0 at https://cad.onshape.com/api/openapi".into(),
            ))
        }
        None => {
            return Err(LoadError::NotOpenApi3(
                "it has no `openapi` field (`\"openapi\": \"3.0.1\"`)".into(),
            ))
        }
    }
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| LoadError::NotOpenApi3("`paths` is missing or not an object".into()))?;
    let info = root.get("info");
    let text = |key: &str| {
        info.and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut compiler = Compiler::new(&doc);
    compiler.components()?;
    let mut reader = Reader {
        doc: &doc,
        compiler,
        notes: Vec::new(),
        top_security: root.get("security"),
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        let at = format!("#/paths/{}", escape(path));
        let item = item
            .as_object()
            .ok_or_else(|| invalid(&at, "a Path Item must be an object"))?;
        let template = normalize(path);
        if !template.starts_with('/') {
            return Err(invalid(&at, "a path must start with `/`"));
        }
        let shared = item.get("parameters");
        for (key, method) in METHODS {
            let Some(op) = item.get(key) else { continue };
            let op = reader.operation(op, shared, method, &template, &format!("{at}/{key}"))?;
            if operations
                .iter()
                .any(|o: &Operation| o.method == op.method && o.path == op.path)
            {
                reader.notes.push(format!(
                    "{} appears twice (paths differing only in a version or `/api`): the first is served",
                    op.label()
                ));
                continue;
            }
            operations.push(op);
        }
        for key in ["head", "options", "trace"] {
            if item.contains_key(key) {
                reader.notes.push(format!(
                    "{} {template}: {key} operations are not served",
                    key.to_ascii_uppercase()
                ));
            }
        }
    }
    let Reader {
        compiler,
        mut notes,
        ..
    } = reader;
    let routes = super::routing::Routes::new(&operations, &mut notes);
    Ok(Spec {
        title: text("title"),
        version: text("version"),
        operations,
        schemas: compiler.finish(),
        notes,
        raw: bytes.into(),
        routes,
    })
}

/// `/api/v6/documents/{did}` and `/api/documents/{did}` → `/documents/{did}`: the mock
/// answers every operation on `/api` and `/api/vN` alike.
fn normalize(path: &str) -> String {
    let rest = path
        .strip_prefix("/api")
        .filter(|r| r.is_empty() || r.starts_with('/'));
    let rest = rest.unwrap_or(path);
    let mut parts = rest.splitn(3, '/');
    let (_, first) = (parts.next(), parts.next());
    let is_version = first
        .and_then(|f| f.strip_prefix('v'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if is_version {
        format!("/{}", parts.next().unwrap_or(""))
    } else {
        rest.to_owned()
    }
}

struct Reader<'d> {
    doc: &'d Value,
    compiler: Compiler<'d>,
    notes: Vec<String>,
    top_security: Option<&'d Value>,
}

impl<'d> Reader<'d> {
    /// `value`, or what its `$ref` points at.
    fn deref(&self, value: &'d Value, at: &str) -> Result<&'d Value, LoadError> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(self.doc, r).map_err(|m| invalid(at, m)),
            None => Ok(value),
        }
    }

    fn operation(
        &mut self,
        op: &'d Value,
        shared: Option<&'d Value>,
        method: Method,
        template: &str,
        at: &str,
    ) -> Result<Operation, LoadError> {
        let obj = op
            .as_object()
            .ok_or_else(|| invalid(at, "an Operation must be an object"))?;
        let label = format!("{method} {template}");
        let mut params: Vec<Param> = Vec::new();
        for (list, list_at) in [
            (shared, format!("{at}/../parameters")),
            (obj.get("parameters"), format!("{at}/parameters")),
        ] {
            let Some(list) = list else { continue };
            let list = list
                .as_array()
                .ok_or_else(|| invalid(&list_at, "`parameters` must be an array"))?;
            for (i, p) in list.iter().enumerate() {
                let Some(param) = self.parameter(p, &format!("{list_at}/{i}"), &label)? else {
                    continue;
                };
                // An operation's parameter overrides the path item's of the same name and place.
                params.retain(|q| !(q.name == param.name && q.location == param.location));
                params.push(param);
            }
        }
        let in_template: Vec<&str> = template_params(template).collect();
        params.retain(|p| {
            let kept = p.location != Location::Path || in_template.contains(&p.name.as_str());
            if !kept {
                self.notes.push(format!(
                    "{label}: path parameter `{}` is declared but not in the path; ignored",
                    p.name
                ));
            }
            kept
        });
        for name in in_template {
            if !params
                .iter()
                .any(|p| p.location == Location::Path && p.name == name)
            {
                self.notes.push(format!(
                    "{label}: path parameter `{name}` is not declared; read as a string"
                ));
                params.push(Param {
                    name: name.to_owned(),
                    location: Location::Path,
                    required: true,
                    schema: None,
                });
            }
        }
        let body = match obj.get("requestBody") {
            None => None,
            Some(b) => Some(self.body(b, &format!("{at}/requestBody"), &label)?),
        };
        let security = self.security(
            obj.get("security").or(self.top_security),
            &format!("{at}/security"),
        )?;
        let reply = self.reply(obj.get("responses"), &format!("{at}/responses"))?;
        let id = obj
            .get("operationId")
            .and_then(Value::as_str)
            .map_or_else(|| label.clone(), str::to_owned);
        Ok(Operation {
            method,
            path: template.to_owned(),
            id,
            params,
            body,
            security,
            reply,
        })
    }

    fn parameter(
        &mut self,
        p: &'d Value,
        at: &str,
        label: &str,
    ) -> Result<Option<Param>, LoadError> {
        let p = self.deref(p, at)?;
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(at, "a Parameter needs a `name`"))?;
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => {
                self.notes
                    .push(format!("{label}: cookie parameter `{name}` is not checked"));
                return Ok(None);
            }
            other => {
                return Err(invalid(
                    at,
                    format!("`in` is {other:?}; a parameter is in path, query, header or cookie"),
                ))
            }
        };
        // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored.
        if location == Location::Header
            && ["accept", "content-type", "authorization"]
                .contains(&name.to_ascii_lowercase().as_str())
        {
            return Ok(None);
        }
        let required =
            location == Location::Path || p.get("required").and_then(Value::as_bool) == Some(true);
        let schema = match (p.get("schema"), p.get("content")) {
            (Some(s), _) => Some(self.compiler.schema(s, &format!("{at}/schema"))?),
            (None, Some(_)) => {
                self.notes.push(format!(
                    "{label}: parameter `{name}` is described by `content`; its value is not checked"
                ));
                None
            }
            (None, None) => None,
        };
        Ok(Some(Param {
            name: name.to_owned(),
            location,
            required,
            schema,
        }))
    }

    fn body(&mut self, b: &'d Value, at: &str, label: &str) -> Result<Body, LoadError> {
        let b = self.deref(b, at)?;
        let content = b
            .get("content")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(at, "a Request Body needs `content`"))?;
        let mut media = Vec::new();
        let mut json = None;
        for (key, m) in content {
            let base = media_base(key);
            if is_json_media(&base) && json.is_none() {
                if let Some(s) = m.get("schema") {
                    json = Some(
                        self.compiler
                            .schema(s, &format!("{at}/content/{}/schema", escape(key)))?,
                    );
                }
            } else if !is_json_media(&base) && !media.contains(&base) {
                self.notes.push(format!(
                    "{label}: {base} bodies are checked for their Content-Type only"
                ));
            }
            if !media.contains(&base) {
                media.push(base);
            }
        }
        Ok(Body {
            required: b.get("required").and_then(Value::as_bool) == Some(true),
            media,
            json,
        })
    }

    fn security(&mut self, s: Option<&'d Value>, at: &str) -> Result<Security, LoadError> {
        let Some(s) = s else {
            return Ok(Security::Open);
        };
        let list = s
            .as_array()
            .ok_or_else(|| invalid(at, "`security` must be an array of requirements"))?;
        if list.is_empty() {
            return Ok(Security::Open);
        }
        let mut any = Vec::new();
        for (i, req) in list.iter().enumerate() {
            let req: &Map<String, Value> = req
                .as_object()
                .ok_or_else(|| invalid(format!("{at}/{i}"), "a requirement is an object"))?;
            if req.is_empty() {
                // `{}`: this alternative needs nothing.
                return Ok(Security::Open);
            }
            // The schemes (OAuth2, BasicAuth…) list the same scopes: a token or key needs
            // every scope named in the requirement.
            let mut scopes = ScopeSet::EMPTY;
            let mut unknown = Vec::new();
            for names in req.values() {
                let names = names.as_array().ok_or_else(|| {
                    invalid(format!("{at}/{i}"), "a requirement lists scope names")
                })?;
                for n in names.iter().filter_map(Value::as_str) {
                    match Scope::from_name(n) {
                        Some(scope) => scopes = scopes.with(scope),
                        None if !unknown.iter().any(|u| u == n) => unknown.push(n.to_owned()),
                        None => {}
                    }
                }
            }
            any.push(Requirement { scopes, unknown });
        }
        Ok(Security::AnyOf(any))
    }

    fn reply(&mut self, r: Option<&'d Value>, at: &str) -> Result<Reply, LoadError> {
        let r = r
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(at, "an Operation needs `responses`"))?;
        let mut codes: Vec<(&String, u16)> = r
            .keys()
            .filter_map(|k| {
                let code = match k.as_str() {
                    "2XX" | "2xx" => 200,
                    _ => k.parse::<u16>().ok()?,
                };
                (200..300).contains(&code).then_some((k, code))
            })
            .collect();
        codes.sort_by_key(|(_, c)| *c);
        let (key, status) = match codes.first() {
            Some((k, c)) => (k.as_str(), *c),
            None if r.contains_key("default") => ("default", 200),
            None => {
                // Only a redirect (Onshape's exports answer 307 to where the file is).
                let redirect = r
                    .keys()
                    .filter_map(|k| k.parse::<u16>().ok())
                    .find(|c| (300..400).contains(c));
                return match redirect {
                    Some(status) => Ok(Reply {
                        status,
                        media: None,
                        schema: None,
                    }),
                    None => Err(invalid(
                        at,
                        "no 2xx, 3xx or default response: the mock cannot answer this operation",
                    )),
                };
            }
        };
        let at = format!("{at}/{key}");
        let resp = self.deref(&r[key], &at)?;
        let Some(content) = resp.get("content").and_then(Value::as_object) else {
            return Ok(Reply {
                status,
                media: None,
                schema: None,
            });
        };
        let chosen = content
            .iter()
            .find(|(k, _)| is_json_media(&media_base(k)))
            .or_else(|| content.iter().next());
        let Some((key, media)) = chosen else {
            return Ok(Reply {
                status,
                media: None,
                schema: None,
            });
        };
        let schema = match media.get("schema") {
            Some(s) => Some(
                self.compiler
                    .schema(s, &format!("{at}/content/{}/schema", escape(key)))?,
            ),
            None => None,
        };
        Ok(Reply {
            status,
            media: Some(media_base(key)),
            schema,
        })
    }
}

/// The `{name}`s of a template, in order.
fn template_params(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_api_and_version() {
        assert_eq!(normalize("/api/v6/documents/{did}"), "/documents/{did}");
        assert_eq!(normalize("/api/documents"), "/documents");
        assert_eq!(normalize("/documents"), "/documents");
        assert_eq!(normalize("/v10/users/sessioninfo"), "/users/sessioninfo");
        assert_eq!(normalize("/apix/things"), "/apix/things");
        assert_eq!(normalize("/vendors/x"), "/vendors/x");
    }

    #[test]
    fn not_openapi_3_is_refused_with_why() {
        let e = |s: &str| spec(s.as_bytes()).expect_err(s).to_string();
        assert!(e("not json").contains("not JSON"), "{}", e("not json"));
        assert!(e("[]").contains("not a JSON object"));
        assert!(e(r#"{"swagger":"2.0","paths":{}}"#).contains("Swagger 2.0"));
        assert!(e(r#"{"openapi":"3.1.0","paths":{}}"#).contains("3.0.x"));
        assert!(e(r#"{"info":{}}"#).contains("no `openapi`"));
        assert!(e(r#"{"openapi":"3.0.1"}"#).contains("`paths`"));
        let bad_ref = r##"{"openapi":"3.0.1","paths":{"/a":{"get":{"responses":{"200":{"description":"","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope"}}}}}}}}}"##;
        assert!(e(bad_ref).contains("points at nothing"), "{}", e(bad_ref));
        let no_items =
            r#"{"openapi":"3.0.1","paths":{},"components":{"schemas":{"A":{"type":"array"}}}}"#;
        assert!(e(no_items).contains("items"), "{}", e(no_items));
    }
}
