//! OpenAPI 3.0 Schema Objects, compiled once into an arena: `$ref`s become indices (so
//! cycles cost nothing), and each node keeps the name of the component it came from, for
//! hints. [`Schemas::check`] validates a JSON value; [`Schemas::example`] builds one.
//!
//! The dialect is OpenAPI 3.0's, not a JSON Schema draft: `nullable`, `readOnly` (not
//! required in requests) and `discriminator` (the property that names the subtype, as
//! Onshape's `btType`) are part of it, which is why this is not a JSON Schema crate.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// An index into [`Schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId(pub(super) u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl Ty {
    fn parse(s: &str) -> Option<Ty> {
        Some(match s {
            "string" => Ty::String,
            "integer" => Ty::Integer,
            "number" => Ty::Number,
            "boolean" => Ty::Boolean,
            "array" => Ty::Array,
            "object" => Ty::Object,
            _ => return None,
        })
    }

    pub fn article(self) -> &'static str {
        match self {
            Ty::String => "a string",
            Ty::Integer => "an integer",
            Ty::Number => "a number",
            Ty::Boolean => "a boolean",
            Ty::Array => "an array",
            Ty::Object => "an object",
        }
    }
}

/// `additionalProperties`: allowed (OpenAPI's default), refused, or checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Additional {
    Any,
    Deny,
    Schema(SchemaId),
}

#[derive(Debug, Clone)]
pub struct Discriminator {
    pub property: Box<str>,
    /// Value → schema, from `mapping`, sorted by value.
    pub mapping: Vec<(Box<str>, SchemaId)>,
}

/// One compiled Schema Object.
#[derive(Debug, Clone)]
pub struct Node {
    /// The component (`#/components/schemas/NAME`) this node is, if any.
    pub name: Option<Box<str>>,
    pub ty: Option<Ty>,
    pub format: Option<Box<str>>,
    pub nullable: bool,
    pub read_only: bool,
    pub enumeration: Option<Vec<Value>>,
    pub properties: BTreeMap<Box<str>, SchemaId>,
    pub required: Vec<Box<str>>,
    pub additional: Additional,
    pub items: Option<SchemaId>,
    pub all_of: Vec<SchemaId>,
    pub one_of: Vec<SchemaId>,
    pub any_of: Vec<SchemaId>,
    pub discriminator: Option<Discriminator>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub default: Option<Value>,
}

impl Node {
    fn empty() -> Node {
        Node {
            name: None,
            ty: None,
            format: None,
            nullable: false,
            read_only: false,
            enumeration: None,
            properties: BTreeMap::new(),
            required: Vec::new(),
            additional: Additional::Any,
            items: None,
            all_of: Vec::new(),
            one_of: Vec::new(),
            any_of: Vec::new(),
            discriminator: None,
            minimum: None,
            maximum: None,
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            default: None,
        }
    }
}

/// Every schema of a document, compiled.
#[derive(Debug, Default)]
pub struct Schemas {
    pub(super) nodes: Vec<Node>,
    by_name: HashMap<Box<str>, SchemaId>,
}

impl Schemas {
    pub fn node(&self, id: SchemaId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The component schema called `name`.
    pub fn named(&self, name: &str) -> Option<SchemaId> {
        self.by_name.get(name).copied()
    }

    /// The component name of `id`, or of the first named schema it is made of.
    pub fn name_of(&self, id: SchemaId) -> Option<&str> {
        let n = self.node(id);
        n.name
            .as_deref()
            .or_else(|| n.items.and_then(|i| self.node(i).name.as_deref()))
    }
}

/// Why a document's schema could not be compiled: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub at: String,
    pub message: String,
}

/// Compiles the Schema Objects of one document. Every `$ref` is a JSON pointer into the
/// document (`#/…`); each target is compiled once, whatever points at it.
pub struct Compiler<'a> {
    doc: &'a Value,
    pub(super) schemas: Schemas,
    by_pointer: HashMap<String, SchemaId>,
}

impl<'a> Compiler<'a> {
    pub fn new(doc: &'a Value) -> Compiler<'a> {
        Compiler {
            doc,
            schemas: Schemas::default(),
            by_pointer: HashMap::new(),
        }
    }

    pub fn finish(mut self) -> Schemas {
        let by_name = self
            .schemas
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.name.clone()?, SchemaId(u32::try_from(i).ok()?))))
            .collect();
        self.schemas.by_name = by_name;
        self.schemas
    }

    /// The schema at `#/components/schemas/NAME` and every other one, compiled up front:
    /// a broken component is an error at load, not at the first request that meets it.
    pub fn components(&mut self) -> Result<(), CompileError> {
        let names: Vec<String> = match self.doc.pointer("/components/schemas") {
            None => return Ok(()),
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            Some(_) => {
                return Err(CompileError {
                    at: "#/components/schemas".into(),
                    message: "must be an object of schemas".into(),
                })
            }
        };
        for name in names {
            let pointer = format!("#/components/schemas/{}", escape(&name));
            self.reference(&pointer, &pointer)?;
        }
        Ok(())
    }

    /// Compiles the Schema Object `value` found at `at` (for errors).
    pub fn schema(&mut self, value: &Value, at: &str) -> Result<SchemaId, CompileError> {
        let obj = value.as_object().ok_or_else(|| CompileError {
            at: at.to_owned(),
            message: "a Schema Object must be a JSON object".into(),
        })?;
        if let Some(r) = obj.get("$ref") {
            // OpenAPI 3.0: a Reference Object's siblings are ignored.
            let r = r.as_str().ok_or_else(|| CompileError {
                at: at.to_owned(),
                message: "`$ref` must be a string".into(),
            })?;
            return self.reference(r, at);
        }
        let id = self.alloc(None);
        let node = self.node_from(obj, at)?;
        self.schemas.nodes[id.0 as usize] = node;
        Ok(id)
    }

    /// The schema `reference` points at, compiled on first use.
    pub fn reference(&mut self, reference: &str, at: &str) -> Result<SchemaId, CompileError> {
        if let Some(id) = self.by_pointer.get(reference) {
            return Ok(*id);
        }
        let target = resolve(self.doc, reference).map_err(|message| CompileError {
            at: at.to_owned(),
            message,
        })?;
        let name = reference
            .strip_prefix("#/components/schemas/")
            .filter(|n| !n.contains('/'))
            .map(unescape);
        if let Some(r) = target.get("$ref").and_then(Value::as_str) {
            if r == reference {
                return Err(CompileError {
                    at: at.to_owned(),
                    message: format!("`{reference}` refers to itself"),
                });
            }
        }
        let id = self.alloc(name.clone().map(String::into_boxed_str));
        self.by_pointer.insert(reference.to_owned(), id);
        let obj = target.as_object().ok_or_else(|| CompileError {
            at: reference.to_owned(),
            message: "a Schema Object must be a JSON object".into(),
        })?;
        let node = if obj.contains_key("$ref") {
            // A component that is only a reference: an allOf of one keeps its own name.
            let inner = self.schema(target, reference)?;
            let mut n = Node::empty();
            n.all_of.push(inner);
            n
        } else {
            self.node_from(obj, reference)?
        };
        let slot = &mut self.schemas.nodes[id.0 as usize];
        let keep = slot.name.take();
        *slot = node;
        slot.name = keep;
        Ok(id)
    }

    fn alloc(&mut self, name: Option<Box<str>>) -> SchemaId {
        let id = SchemaId(u32::try_from(self.schemas.nodes.len()).unwrap_or(u32::MAX));
        let mut n = Node::empty();
        n.name = name;
        self.schemas.nodes.push(n);
        id
    }

    fn node_from(&mut self, obj: &Map<String, Value>, at: &str) -> Result<Node, CompileError> {
        let err = |key: &str, message: &str| CompileError {
            at: format!("{at}/{key}"),
            message: message.to_owned(),
        };
        let mut n = Node::empty();
        if let Some(t) = obj.get("type") {
            let s = t.as_str().ok_or_else(|| {
                err(
                    "type",
                    "OpenAPI 3.0's `type` is one string (use `nullable` for null)",
                )
            })?;
            n.ty = Some(Ty::parse(s).ok_or_else(|| {
                err(
                    "type",
                    &format!("`{s}` is not string, integer, number, boolean, array or object"),
                )
            })?);
        }
        n.format = obj.get("format").and_then(Value::as_str).map(Box::from);
        n.nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
        n.read_only = obj.get("readOnly").and_then(Value::as_bool) == Some(true);
        n.default = obj.get("default").cloned();
        if let Some(e) = obj.get("enum") {
            let list = e
                .as_array()
                .filter(|l| !l.is_empty())
                .ok_or_else(|| err("enum", "`enum` must be a non-empty array"))?;
            n.enumeration = Some(list.clone());
        }
        if let Some(p) = obj.get("properties") {
            let props = p
                .as_object()
                .ok_or_else(|| err("properties", "`properties` must be an object"))?;
            for (k, v) in props {
                let id = self.schema(v, &format!("{at}/properties/{}", escape(k)))?;
                n.properties.insert(k.as_str().into(), id);
            }
        }
        if let Some(r) = obj.get("required") {
            let list = r
                .as_array()
                .ok_or_else(|| err("required", "`required` must be an array of names"))?;
            for name in list {
                let name = name
                    .as_str()
                    .ok_or_else(|| err("required", "`required` must be an array of names"))?;
                n.required.push(name.into());
            }
        }
        n.additional = match obj.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Any,
            Some(Value::Bool(false)) => Additional::Deny,
            Some(v) => Additional::Schema(self.schema(v, &format!("{at}/additionalProperties"))?),
        };
        if let Some(i) = obj.get("items") {
            n.items = Some(self.schema(i, &format!("{at}/items"))?);
        } else if n.ty == Some(Ty::Array) {
            return Err(err("items", "an array schema needs `items` (OpenAPI 3.0)"));
        }
        for (key, list) in [
            ("allOf", &mut n.all_of),
            ("oneOf", &mut n.one_of),
            ("anyOf", &mut n.any_of),
        ] {
            if let Some(v) = obj.get(key) {
                let items = v
                    .as_array()
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| err(key, &format!("`{key}` must be a non-empty array")))?;
                for (i, s) in items.iter().enumerate() {
                    list.push(self.schema(s, &format!("{at}/{key}/{i}"))?);
                }
            }
        }
        if let Some(d) = obj.get("discriminator") {
            let property = d
                .get("propertyName")
                .and_then(Value::as_str)
                .ok_or_else(|| err("discriminator", "`propertyName` is required"))?;
            let mut mapping: Vec<(Box<str>, SchemaId)> = Vec::new();
            if let Some(m) = d.get("mapping") {
                let m = m
                    .as_object()
                    .ok_or_else(|| err("discriminator", "`mapping` must be an object"))?;
                for (value, target) in m {
                    let target = target.as_str().ok_or_else(|| {
                        err("discriminator", "`mapping` values must be references")
                    })?;
                    let target = if target.starts_with('#') {
                        target.to_owned()
                    } else {
                        // A bare schema name, as OpenAPI allows.
                        format!("#/components/schemas/{}", escape(target))
                    };
                    mapping.push((
                        value.as_str().into(),
                        self.reference(&target, &format!("{at}/discriminator/mapping"))?,
                    ));
                }
            }
            mapping.sort_by(|a, b| a.0.cmp(&b.0));
            n.discriminator = Some(Discriminator {
                property: property.into(),
                mapping,
            });
        }
        let number = |key: &str| obj.get(key).and_then(Value::as_f64);
        let count = |key: &str| obj.get(key).and_then(Value::as_u64);
        n.minimum = number("minimum");
        n.maximum = number("maximum");
        n.min_length = count("minLength");
        n.max_length = count("maxLength");
        n.min_items = count("minItems");
        n.max_items = count("maxItems");
        Ok(n)
    }
}

/// The value at a local reference (`#/a/b`), or why there is none.
pub fn resolve<'v>(doc: &'v Value, reference: &str) -> Result<&'v Value, String> {
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(format!(
            "`{reference}` is not a local reference (`#/…`): the mock reads one self-contained document"
        ));
    };
    let decoded = percent_encoding::percent_decode_str(pointer).decode_utf8_lossy();
    doc.pointer(&decoded)
        .ok_or_else(|| format!("`{reference}` points at nothing in the document"))
}

/// A JSON pointer segment: `~` → `~0`, `/` → `~1`.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
