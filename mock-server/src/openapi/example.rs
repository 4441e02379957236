//! A response body built from its schema: deterministic (the same request gives the same
//! body: every value derives from a seed of the request and the field's pointer), plausible
//! (ids of 24 hex characters, hrefs back at the mock, the first value of each enum, dates on
//! the mock's start day) and bounded (a depth and a node budget; a schema met again on its
//! own path is cut, so recursive schemas end).

use std::hash::BuildHasher;

use serde_json::{json, Map, Value};

use super::schema::{SchemaId, Schemas, Ty};

/// What a generated body is filled with.
pub struct Fill<'a> {
    /// Hashed with each field's pointer for ids and numbers.
    pub seed: u64,
    /// `http://host/api/vN/path` of the request: every `href`.
    pub href: &'a str,
    /// `http://host`: other URIs.
    pub base: &'a str,
    /// Path parameters by the field names they fill (`documentId` → the `did` sent).
    pub known: &'a [(&'a str, &'a str)],
}

/// Nested objects deeper than this are left empty.
const MAX_DEPTH: usize = 8;
/// Values generated per body, at most.
const MAX_NODES: usize = 2_000;

impl Schemas {
    /// An example value for schema `id`.
    pub fn example(&self, id: SchemaId, fill: &Fill<'_>) -> Value {
        let mut gen = Gen {
            schemas: self,
            fill,
            budget: MAX_NODES,
            path: Vec::new(),
            on_path: Vec::new(),
            chain: Vec::new(),
            cuts: 0,
        };
        gen.value(id, None, false)
    }
}

struct Gen<'s, 'f> {
    schemas: &'s Schemas,
    fill: &'f Fill<'f>,
    budget: usize,
    /// The pointer being generated.
    path: Vec<String>,
    /// Named schemas on the way here (a repeat is cut).
    on_path: Vec<SchemaId>,
    /// The schemas whose `allOf` is being generated, outermost first (cleared inside a
    /// property or an item): a base met here is generated for that subtype.
    chain: Vec<SchemaId>,
    /// How many values were cut so far: an optional value that needed a cut is left out
    /// (an empty array, an absent property), so the body stays valid against its schema.
    cuts: usize,
}

impl Gen<'_, '_> {
    fn hash(&self) -> u64 {
        foldhash::fast::FixedState::with_seed(self.fill.seed).hash_one(&self.path)
    }

    /// 24 lowercase hex characters, from the pointer.
    fn id(&self) -> String {
        let h = self.hash();
        let h2 = foldhash::fast::FixedState::with_seed(h).hash_one(self.fill.seed);
        format!("{h:016x}{:08x}", h2 >> 32)
    }

    fn value(&mut self, id: SchemaId, field: Option<&str>, dispatched: bool) -> Value {
        self.budget = self.budget.saturating_sub(1);
        let node = self.schemas.node(id);
        let mut dispatched = dispatched;
        let mut names_subtype = None;
        let mut hands_over = false;
        if let (Some(d), false) = (&node.discriminator, dispatched) {
            // Reached from a subtype's allOf: this base is generated plain and names that
            // subtype. Otherwise it hands over to a subtype, and is not on the path itself
            // (the subtype's allOf comes back to it).
            let from = self.chain.iter().rev().find_map(|on| {
                d.mapping
                    .iter()
                    .find(|(_, t)| t == on && *t != id)
                    .map(|(tag, _)| tag)
            });
            match from {
                Some(tag) => {
                    dispatched = true;
                    names_subtype = Some((&d.property, tag));
                }
                None => hands_over = !d.mapping.is_empty(),
            }
        }
        let named = node.name.is_some() && !hands_over;
        if named && self.on_path.contains(&id) {
            return self.cut(id);
        }
        if named {
            self.on_path.push(id);
        }
        let mut v = self.build(id, field, dispatched);
        if named {
            self.on_path.pop();
        }
        if let (Some((property, tag)), Value::Object(m)) = (names_subtype, &mut v) {
            m.insert(property.to_string(), json!(&**tag));
        }
        v
    }

    /// What a recursive or too-deep schema gets: the emptiest value of its type.
    fn cut(&mut self, id: SchemaId) -> Value {
        self.cuts += 1;
        let node = self.schemas.node(id);
        match node.ty {
            Some(Ty::Array) => json!([]),
            Some(Ty::Object) | None => json!({}),
            Some(Ty::String) => json!(""),
            Some(Ty::Boolean) => json!(false),
            Some(Ty::Integer | Ty::Number) => json!(0),
        }
    }

    fn build(&mut self, id: SchemaId, field: Option<&str>, dispatched: bool) -> Value {
        let node = self.schemas.node(id);
        if let (Some(d), false) = (&node.discriminator, dispatched) {
            if let Some((tag, target)) = d.mapping.first() {
                let mut v = self.value(*target, field, true);
                if let Value::Object(m) = &mut v {
                    m.insert(d.property.to_string(), json!(&**tag));
                }
                return v;
            }
        }
        if let Some(first) = node.enumeration.as_ref().and_then(|e| e.first()) {
            return first.clone();
        }
        if let Some(alt) = node.one_of.first().or(node.any_of.first()) {
            return self.value(*alt, field, false);
        }
        let is_object = node.ty == Some(Ty::Object)
            || node.ty.is_none() && (!node.properties.is_empty() || !node.all_of.is_empty());
        if is_object {
            return self.object(id, dispatched);
        }
        match node.ty {
            Some(Ty::Array) => {
                let Some(item) = node.items else {
                    return json!([]);
                };
                if self.path.len() >= MAX_DEPTH || self.budget == 0 {
                    return json!([]);
                }
                self.path.push("0".into());
                let cuts = self.cuts;
                let chain = std::mem::take(&mut self.chain);
                let v = self.value(item, field, false);
                self.chain = chain;
                self.path.pop();
                if self.cuts > cuts && node.min_items.unwrap_or(0) == 0 {
                    return json!([]);
                }
                json!([v])
            }
            Some(Ty::String) => self.string(id, field),
            Some(Ty::Integer) => json!(node.minimum.map_or(1, |m| m.ceil() as i64).max(0)),
            Some(Ty::Number) => json!(node.minimum.unwrap_or(1.0)),
            Some(Ty::Boolean) => json!(false),
            _ => Value::Null,
        }
    }

    fn object(&mut self, id: SchemaId, dispatched: bool) -> Value {
        let node = self.schemas.node(id);
        let mut out = Map::new();
        self.chain.push(id);
        for part in &node.all_of {
            if let Value::Object(m) = self.value(*part, None, dispatched) {
                out.extend(m);
            }
        }
        self.chain.pop();
        let chain = std::mem::take(&mut self.chain);
        let shallow = self.path.len() >= MAX_DEPTH || self.budget == 0;
        for (name, prop) in &node.properties {
            let required = node.required.iter().any(|r| r == name);
            // Pages end: a `next` or `previous` link would send a client round forever.
            if !required && matches!(&**name, "next" | "previous") {
                continue;
            }
            if shallow && !required {
                continue;
            }
            self.path.push(name.to_string());
            let cuts = self.cuts;
            let v = if shallow {
                self.cut(*prop)
            } else {
                self.value(*prop, Some(name), false)
            };
            self.path.pop();
            if self.cuts > cuts && !required {
                continue;
            }
            out.insert(name.to_string(), v);
        }
        self.chain = chain;
        // Onshape's `btType` names the object's own type.
        if let (Some(own), Some(Value::String(_))) = (&node.name, out.get("btType")) {
            out.insert("btType".into(), json!(&**own));
        }
        Value::Object(out)
    }

    fn string(&self, id: SchemaId, field: Option<&str>) -> Value {
        let node = self.schemas.node(id);
        let field = field.unwrap_or("");
        if let Some((_, sent)) = self.fill.known.iter().find(|(k, _)| *k == field) {
            return json!(sent);
        }
        let lower = field.to_ascii_lowercase();
        match node.format.as_deref() {
            Some("date-time") => return json!("2026-01-01T00:00:00.000+00:00"),
            Some("date") => return json!("2026-01-01"),
            Some("uri") if lower == "href" => return json!(self.fill.href),
            Some("uri") => return json!(format!("{}/", self.fill.base)),
            Some("byte") => return json!("AA=="),
            Some("binary") => return json!(""),
            Some("email") => return json!("user@example.com"),
            _ => {}
        }
        if lower == "href" {
            json!(self.fill.href)
        } else if lower == "id" || field.ends_with("Id") || lower.ends_with("_id") {
            json!(self.id())
        } else if lower.contains("email") {
            json!("user@example.com")
        } else if lower == "name" || lower.ends_with("name") {
            json!(format!("{} {}", humanize(field), self.hash() % 9 + 1))
        } else if let Some(Value::String(d)) = &node.default {
            json!(d)
        } else {
            json!(humanize(field))
        }
    }
}

/// `displayName` → `Display name`; empty → `text`.
fn humanize(field: &str) -> String {
    let mut out = String::new();
    for (i, c) in field.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else if i == 0 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        "text".into()
    } else {
        out
    }
}
