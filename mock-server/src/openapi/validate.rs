//! A JSON request body checked against its compiled schema. The first violation wins: it
//! names the JSON pointer of the field, the component schema it belongs to and what that
//! schema wants.
//!
//! Readings (OpenAPI 3.0, as Onshape's Jackson-based server reads requests): `readOnly`
//! properties are never required of a request; `null` for a property that is not required
//! stands for an absent one; `oneOf` without a discriminator is satisfied by any matching
//! alternative (Onshape picks a type by its `btType`, not by exclusivity); with a
//! discriminator, its property picks the subtype from `mapping`.

use serde_json::Value;

use super::schema::{Additional, Node, SchemaId, Schemas, Ty};

/// What a body got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The JSON pointer of the offending value (`""` for the body itself).
    pub pointer: String,
    /// What is wrong, e.g. "`name` is required" or "must be a string, got a number".
    pub problem: String,
    /// The component schema that says so, when it has a name.
    pub schema: Option<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{}`", self.pointer)
        };
        match (&self.schema, self.problem.starts_with('`')) {
            // "`name` is required in BTDocumentParams (at the body)"
            (Some(s), true) => write!(f, "{} in {s} (at {at})", self.problem),
            (None, true) => write!(f, "{} (at {at})", self.problem),
            (Some(s), false) => write!(f, "{at} {} ({s})", self.problem),
            (None, false) => write!(f, "{at} {}", self.problem),
        }
    }
}

/// Schema recursion without descending into the value (allOf of allOf…) stops here.
const MAX_SCHEMA_DEPTH: u32 = 64;

impl Schemas {
    /// Checks `value` against schema `id`.
    pub fn check(&self, id: SchemaId, value: &Value) -> Result<(), Violation> {
        let mut at = Vec::new();
        Walk { schemas: self }.check(id, value, &mut at, None, false, 0)
    }
}

struct Walk<'s> {
    schemas: &'s Schemas,
}

/// A step of the pointer being built.
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

fn pointer(at: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in at {
        s.push('/');
        match step {
            Step::Key(k) => s.push_str(&super::schema::escape(k)),
            Step::Index(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value shown in a hint: short, never the whole of a long string.
pub fn shown(v: &Value) -> String {
    clipped(&v.to_string())
}

/// Text shown in a hint: its first 40 characters, then `…`.
pub fn clipped(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn fits_type(ty: Ty, v: &Value) -> bool {
    match (ty, v) {
        (Ty::String, Value::String(_))
        | (Ty::Boolean, Value::Bool(_))
        | (Ty::Array, Value::Array(_))
        | (Ty::Object, Value::Object(_))
        | (Ty::Number, Value::Number(_)) => true,
        (Ty::Integer, Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

impl<'s> Walk<'s> {
    #[allow(clippy::too_many_arguments)]
    fn check<'v>(
        &self,
        id: SchemaId,
        v: &'v Value,
        at: &mut Vec<Step<'v>>,
        context: Option<&'s str>,
        dispatched: bool,
        depth: u32,
    ) -> Result<(), Violation> {
        if depth > MAX_SCHEMA_DEPTH {
            return Ok(());
        }
        let node = self.schemas.node(id);
        let context = node.name.as_deref().or(context);
        let fail = |at: &[Step<'_>], problem: String| Violation {
            pointer: pointer(at),
            problem,
            schema: context.map(str::to_owned),
        };
        if v.is_null() {
            return if node.nullable || node.ty.is_none() && node.all_of.is_empty() {
                Ok(())
            } else {
                Err(fail(at, "must not be null".into()))
            };
        }
        if let (Some(d), false, Value::Object(obj)) = (&node.discriminator, dispatched, v) {
            if !d.mapping.is_empty() {
                return self.dispatch(id, node, d, obj, v, at, context, depth);
            }
        }
        if let Some(ty) = node.ty {
            if !fits_type(ty, v) {
                return Err(fail(
                    at,
                    format!("must be {}, got {}", ty.article(), kind(v)),
                ));
            }
        }
        if let Some(allowed) = &node.enumeration {
            if !allowed.contains(v) {
                let list: Vec<String> = allowed.iter().take(8).map(shown).collect();
                let more = if allowed.len() > 8 { ", …" } else { "" };
                return Err(fail(
                    at,
                    format!("must be one of {}{more}, got {}", list.join(", "), shown(v)),
                ));
            }
        }
        self.bounds(node, v).map_err(|p| fail(at, p))?;
        match v {
            Value::Object(obj) => {
                for name in &node.required {
                    let required_here = node
                        .properties
                        .get(name)
                        .is_none_or(|p| !self.schemas.node(*p).read_only);
                    if required_here && obj.get(&**name).is_none_or(Value::is_null) {
                        return Err(fail(at, format!("`{name}` is required")));
                    }
                }
                for (key, value) in obj {
                    let schema = match (node.properties.get(key.as_str()), node.additional) {
                        (Some(p), _) => Some(*p),
                        (None, Additional::Schema(s)) => Some(s),
                        (None, Additional::Deny) if node.ty == Some(Ty::Object) => {
                            at.push(Step::Key(key));
                            let e = fail(at, "is not a property of this schema".into());
                            return Err(e);
                        }
                        (None, _) => None,
                    };
                    if let Some(s) = schema {
                        if value.is_null() && !node.required.iter().any(|r| **r == **key) {
                            continue;
                        }
                        at.push(Step::Key(key));
                        self.check(s, value, at, context, false, depth + 1)?;
                        at.pop();
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = node.items {
                    for (i, value) in items.iter().enumerate() {
                        at.push(Step::Index(i));
                        self.check(item, value, at, context, false, depth + 1)?;
                        at.pop();
                    }
                }
            }
            _ => {}
        }
        for part in &node.all_of {
            self.check(*part, v, at, context, dispatched, depth + 1)?;
        }
        for (list, which) in [(&node.one_of, "oneOf"), (&node.any_of, "anyOf")] {
            if list.is_empty() {
                continue;
            }
            let mut first = None;
            for alt in list {
                match self.check(*alt, v, at, context, false, depth + 1) {
                    Ok(()) => {
                        first = None;
                        break;
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first {
                let names: Vec<&str> = list
                    .iter()
                    .map(|a| self.schemas.name_of(*a).unwrap_or("an inline schema"))
                    .collect();
                return Err(Violation {
                    problem: format!(
                        "matches none of {which} [{}]; against the first: {}",
                        names.join(", "),
                        e
                    ),
                    ..fail(at, String::new())
                });
            }
        }
        Ok(())
    }

    /// The subtype the discriminator property names, checked in the base's place.
    #[allow(clippy::too_many_arguments)]
    fn dispatch<'v>(
        &self,
        id: SchemaId,
        node: &Node,
        d: &super::schema::Discriminator,
        obj: &'v serde_json::Map<String, Value>,
        v: &'v Value,
        at: &mut Vec<Step<'v>>,
        context: Option<&'s str>,
        depth: u32,
    ) -> Result<(), Violation> {
        let names = || {
            let list: Vec<&str> = d.mapping.iter().take(6).map(|(k, _)| &**k).collect();
            let more = if d.mapping.len() > 6 { ", …" } else { "" };
            format!("{}{more}", list.join(", "))
        };
        let Some(tag) = obj.get(&*d.property) else {
            return Err(Violation {
                pointer: pointer(at),
                problem: format!(
                    "`{}` is required: it names the type ({})",
                    d.property,
                    names()
                ),
                schema: context.map(str::to_owned),
            });
        };
        let target = tag.as_str().and_then(|t| {
            d.mapping
                .binary_search_by(|(k, _)| (**k).cmp(t))
                .ok()
                .map(|i| d.mapping[i].1)
                .or_else(|| (node.name.as_deref() == Some(t)).then_some(id))
                // OpenAPI's implicit mapping: the value names a component schema.
                .or_else(|| self.schemas.named(t))
        });
        let Some(target) = target else {
            let e = Violation {
                pointer: format!("{}/{}", pointer(at), super::schema::escape(&d.property)),
                problem: format!("must name one of {}, got {}", names(), shown(tag)),
                schema: context.map(str::to_owned),
            };
            return Err(e);
        };
        self.check(target, v, at, context, true, depth + 1)
    }

    /// minimum/maximum, lengths, item counts, and the range of `int32`.
    fn bounds(&self, node: &Node, v: &Value) -> Result<(), String> {
        match v {
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                if node.format.as_deref() == Some("int32")
                    && !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&f)
                {
                    return Err(format!("must fit in 32 bits (int32), got {n}"));
                }
                if node.minimum.is_some_and(|m| f < m) || node.maximum.is_some_and(|m| f > m) {
                    return Err(format!(
                        "must be within [{}, {}], got {n}",
                        node.minimum.map_or("-∞".into(), |m| m.to_string()),
                        node.maximum.map_or("∞".into(), |m| m.to_string())
                    ));
                }
            }
            Value::String(s) => {
                let len = s.chars().count() as u64;
                count_fits(len, node.min_length, node.max_length, "characters long")?;
            }
            Value::Array(items) => {
                count_fits(items.len() as u64, node.min_items, node.max_items, "items")?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A length or count within `[min, max]`, or what it must be.
fn count_fits(len: u64, min: Option<u64>, max: Option<u64>, unit: &str) -> Result<(), String> {
    if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
        return Err(format!(
            "must be {}–{} {unit}, got {len}",
            min.unwrap_or(0),
            max.map_or("∞".into(), |m| m.to_string())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::example::Fill;
    use super::super::schema::{Compiler, SchemaId, Schemas};

    fn compile(schemas: Value) -> (Schemas, impl Fn(&str) -> SchemaId) {
        let doc = json!({ "components": { "schemas": schemas } });
        let mut c = Compiler::new(&doc);
        c.components().expect("compiles");
        let s = c.finish();
        let ids: Vec<(String, SchemaId)> = ["A", "B", "T"]
            .iter()
            .filter_map(|n| Some(((*n).to_owned(), s.named(n)?)))
            .collect();
        (s, move |n: &str| {
            ids.iter().find(|(k, _)| k == n).expect("named").1
        })
    }

    #[test]
    fn read_only_is_not_required_null_is_absent_and_nullable_takes_null() {
        let (s, id) = compile(json!({
            "A": { "type": "object", "required": ["id", "name"], "properties": {
                "id": { "type": "string", "readOnly": true },
                "name": { "type": "string" },
                "note": { "type": "string" },
                "maybe": { "type": "string", "nullable": true } } }
        }));
        let a = id("A");
        assert!(s.check(a, &json!({ "name": "x" })).is_ok());
        assert!(s
            .check(a, &json!({ "name": "x", "note": null, "maybe": null }))
            .is_ok());
        let e = s.check(a, &json!({ "name": null })).expect_err("required");
        assert_eq!(e.to_string(), "`name` is required in A (at the body)");
        let e = s.check(a, &json!({ "name": 1 })).expect_err("type");
        assert_eq!(
            e.to_string(),
            "`/name` must be a string, got an integer (A)"
        );
    }

    #[test]
    fn one_of_takes_any_match_and_cycles_of_all_of_end() {
        let (s, id) = compile(json!({
            "A": { "oneOf": [ { "type": "string" }, { "type": "integer" } ] },
            "B": { "allOf": [ { "$ref": "#/components/schemas/T" } ] },
            "T": { "allOf": [ { "$ref": "#/components/schemas/B" } ], "required": ["x"] }
        }));
        assert!(s.check(id("A"), &json!("s")).is_ok());
        assert!(s.check(id("A"), &json!(3)).is_ok());
        let e = s.check(id("A"), &json!(true)).expect_err("neither");
        assert!(e.problem.contains("matches none of oneOf"), "{e}");
        // A cycle of allOf without a value to descend into stops at the depth bound.
        assert!(s.check(id("B"), &json!({ "x": 1 })).is_ok());
        assert!(s.check(id("B"), &json!({})).is_err());
    }

    #[test]
    fn examples_of_recursive_schemas_end_and_fit_their_schema() {
        let (s, id) = compile(json!({
            "T": { "type": "object", "required": ["name"], "properties": {
                "name": { "type": "string" },
                "children": { "type": "array", "items": { "$ref": "#/components/schemas/T" } },
                "parent": { "$ref": "#/components/schemas/T" } } }
        }));
        let fill = Fill {
            seed: 1,
            href: "http://h/x",
            base: "http://h",
            known: &[],
        };
        let v = s.example(id("T"), &fill);
        assert_eq!(v, s.example(id("T"), &fill), "deterministic");
        assert!(s.check(id("T"), &v).is_ok(), "{v}");
        assert!(v.to_string().len() < 10_000, "bounded: {v}");
    }
}
