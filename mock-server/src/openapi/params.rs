//! Path, query and header parameters checked against their operation: every required one
//! present, each value parsed as its schema's type (integer, number, boolean, string; an
//! array repeats its parameter, `?a=1&a=2`) and within its enum. Query parameters the
//! operation does not declare are let through, as Onshape ignores them.

use axum::http::HeaderMap;
use serde_json::Value;

use super::schema::{SchemaId, Schemas, Ty};
use super::validate::{clipped, shown};
use super::{Location, Operation};

/// A parameter that is missing or does not hold its schema's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    pub name: String,
    pub location: Location,
    pub problem: String,
}

impl std::fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} parameter `{}` {}",
            self.location.as_str(),
            self.name,
            self.problem
        )
    }
}

impl ParamProblem {
    /// What to do about it, for the refusal's hint.
    pub fn hint(&self) -> String {
        match (self.location, self.problem.as_str()) {
            (Location::Query, "is required") => {
                format!("Add `{}=…` to the query string.", self.name)
            }
            (Location::Header, "is required") => format!("Send the `{}` header.", self.name),
            (Location::Query, _) if self.name == "?" => {
                "Percent-encode each query value (UTF-8) and join name=value pairs with `&`.".into()
            }
            _ => format!(
                "Send `{}` in the {} with a value its schema allows: it {}.",
                self.name,
                self.location.as_str(),
                self.problem
            ),
        }
    }
}

/// The hint for a path parameter whose value does not have its shape ([`super::routing::shape_problem`]).
pub fn shape_hint(name: &str) -> String {
    if name == "wvm" {
        "Onshape paths name a workspace (w/{wid}), a version (v/{vid}) or a microversion (m/{mid}): the segment before that id is one letter.".into()
    } else {
        format!("`{name}` is an Onshape id, 24 hex characters: take it from the API's own answers (a document's `id`, its `defaultWorkspace.id`, an element's `id`).")
    }
}

/// Checks the request's parameters against `op`. `path` holds what routing found.
pub fn check(
    op: &Operation,
    schemas: &Schemas,
    path: &[(&str, String)],
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), ParamProblem> {
    let form = crate::form::parse(query.unwrap_or("").as_bytes()).map_err(|e| ParamProblem {
        name: "?".into(),
        location: Location::Query,
        problem: format!("cannot be read: {e}"),
    })?;
    for p in &op.params {
        let problem = |problem: String| ParamProblem {
            name: p.name.clone(),
            location: p.location,
            problem,
        };
        let values: Vec<&str> = match p.location {
            Location::Path => path
                .iter()
                .filter(|(n, _)| *n == p.name)
                .map(|(_, v)| v.as_str())
                .collect(),
            Location::Query => form
                .fields()
                .iter()
                .filter(|f| f.name == p.name)
                .map(|f| f.value.as_str())
                .collect(),
            Location::Header => headers
                .get_all(p.name.as_str())
                .iter()
                .map(|v| v.to_str().unwrap_or("\u{fffd}"))
                .collect(),
        };
        if values.is_empty() {
            if p.required {
                return Err(problem("is required".into()));
            }
            continue;
        }
        let Some(schema) = p.schema else { continue };
        value_fits(schemas, schema, &values).map_err(problem)?;
    }
    Ok(())
}

/// Whether the raw values of one parameter hold its schema.
fn value_fits(schemas: &Schemas, id: SchemaId, values: &[&str]) -> Result<(), String> {
    let node = schemas.node(id);
    if node.ty == Some(Ty::Array) {
        let item = node.items.unwrap_or(id);
        // `a=1,2` (form style, not exploded) or `a=1&a=2` (exploded).
        let each: Vec<&str> = if values.len() == 1 {
            values[0].split(',').collect()
        } else {
            values.to_vec()
        };
        for v in each {
            scalar_fits(schemas, item, v)?;
        }
        return Ok(());
    }
    if values.len() > 1 {
        return Err(format!(
            "appears {} times; it takes one value",
            values.len()
        ));
    }
    scalar_fits(schemas, id, values[0])
}

fn scalar_fits(schemas: &Schemas, id: SchemaId, raw: &str) -> Result<(), String> {
    let node = schemas.node(id);
    let typed = match node.ty.or_else(|| enum_type(node.enumeration.as_deref())) {
        Some(Ty::Integer) => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("must be an integer, got `{}`", clipped(raw)))?,
        Some(Ty::Number) => raw
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from)
            .ok_or_else(|| format!("must be a number, got `{}`", clipped(raw)))?,
        Some(Ty::Boolean) => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("must be true or false, got `{}`", clipped(raw))),
        },
        _ => Value::String(raw.to_owned()),
    };
    schemas
        .check(id, &typed)
        .map_err(|v| v.problem)
        .map_err(|p| p.replace(&shown(&typed), &format!("`{}`", clipped(raw))))
}

/// The type an untyped enum's values have.
fn enum_type(values: Option<&[Value]>) -> Option<Ty> {
    match values?.first()? {
        Value::Number(n) if n.is_i64() => Some(Ty::Integer),
        Value::Number(_) => Some(Ty::Number),
        Value::Bool(_) => Some(Ty::Boolean),
        _ => None,
    }
}
