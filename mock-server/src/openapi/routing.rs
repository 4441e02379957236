//! A request path matched to an operation. Templates are grouped by segment count; of the
//! templates whose literal segments match, one with the request's method wins over one
//! without (`GET …/w/{wid}/…/features` finds `GET …/{wvm}/{wvmid}/…/features` beside a
//! POST-only `…/w/{wid}/…`), then the one whose parameters all hold their shape
//! (ids of 24 hex characters, `wvm` of w, v or m) wins over one whose do not, then the one
//! with more literal segments, then the one whose literals come first — so
//! `/documents/d/{did}/w/{wid}` beats `/documents/{did}/{x}/{y}/{z}`. A template that
//! matches only loosely still routes, and the parameter that broke the shape is reported
//! (a 400 naming it, not a 404).

use std::collections::HashMap;

use axum::http::Method;

use super::{Operation, Spec};

/// The parameters whose values are Onshape ids: 24 hex characters.
pub const ID_PARAMS: [&str; 6] = ["did", "wid", "vid", "mid", "eid", "wvmid"];

#[derive(Debug, Default)]
pub(crate) struct Routes {
    templates: Vec<Template>,
    /// Segment count → templates with that many.
    by_len: HashMap<usize, Vec<usize>>,
}

#[derive(Debug)]
struct Template {
    path: String,
    segments: Vec<Segment>,
    /// (method, index into `Spec::operations`).
    methods: Vec<(Method, usize)>,
}

/// How well a template fits: has the method, strict, literal count, literal positions.
type Rank = (bool, bool, usize, u64);

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
}

/// Where a request led.
#[derive(Debug)]
pub enum Routed<'s> {
    Found {
        op: &'s Operation,
        /// Path parameters by name, percent-decoded.
        params: Vec<(&'s str, String)>,
        /// The first path parameter whose value does not have its shape: (name, why).
        misshapen: Option<(&'s str, String)>,
    },
    /// The path matches a template, but not with this method.
    WrongMethod { path: &'s str, allow: Vec<Method> },
    /// No template matches: the closest operations, best first.
    NotFound { closest: Vec<String> },
}

/// Why a value does not have the shape its parameter's name implies.
pub fn shape_problem(name: &str, value: &str) -> Option<String> {
    if name == "wvm" && !matches!(value, "w" | "v" | "m") {
        return Some("must be w (workspace), v (version) or m (microversion)".into());
    }
    if ID_PARAMS.contains(&name)
        && !(value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Some("must be an Onshape id: 24 hex characters".into());
    }
    None
}

impl Routes {
    pub(crate) fn new(operations: &[Operation], notes: &mut Vec<String>) -> Routes {
        let mut routes = Routes::default();
        for (i, op) in operations.iter().enumerate() {
            let found = routes.templates.iter().position(|t| t.path == op.path);
            let t = match found {
                Some(t) => t,
                None => {
                    let segments: Vec<Segment> = split(&op.path)
                        .map(|s| {
                            match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                Some(name) => Segment::Param(name.to_owned()),
                                None => {
                                    if s.contains('{') {
                                        notes.push(format!(
                                            "{}: the segment `{s}` mixes text and a parameter; it is matched as written",
                                            op.path
                                        ));
                                    }
                                    Segment::Literal(s.to_owned())
                                }
                            }
                        })
                        .collect();
                    routes
                        .by_len
                        .entry(segments.len())
                        .or_default()
                        .push(routes.templates.len());
                    routes.templates.push(Template {
                        path: op.path.clone(),
                        segments,
                        methods: Vec::new(),
                    });
                    routes.templates.len() - 1
                }
            };
            routes.templates[t].methods.push((op.method.clone(), i));
        }
        routes
    }

    pub(crate) fn route<'s>(
        &'s self,
        spec: &'s Spec,
        method: &Method,
        segments: &[&str],
    ) -> Routed<'s> {
        // (has the method, strict, literal count, literal positions): a template without
        // the method is chosen only when none has it (a 405 naming what it allows).
        let mut best: Option<(&Template, Rank)> = None;
        for &t in self.by_len.get(&segments.len()).into_iter().flatten() {
            let t = &self.templates[t];
            let mut strict = true;
            let mut literals = 0;
            let mut mask = 0u64;
            let mut matches = true;
            for (i, (seg, got)) in t.segments.iter().zip(segments).enumerate() {
                match seg {
                    Segment::Literal(l) if l == got => {
                        literals += 1;
                        mask |= 1u64 << (63 - i.min(63));
                    }
                    Segment::Literal(_) => {
                        matches = false;
                        break;
                    }
                    Segment::Param(name) => strict &= shape_problem(name, got).is_none(),
                }
            }
            let has_method = t.methods.iter().any(|(m, _)| m == method);
            let key = (has_method, strict, literals, mask);
            if matches && best.as_ref().is_none_or(|(_, k)| key > *k) {
                best = Some((t, key));
            }
        }
        let Some((t, _)) = best else {
            return Routed::NotFound {
                closest: self.closest(segments),
            };
        };
        let Some(&(_, i)) = t.methods.iter().find(|(m, _)| m == method) else {
            return Routed::WrongMethod {
                path: &t.path,
                allow: t.methods.iter().map(|(m, _)| m.clone()).collect(),
            };
        };
        let op = &spec.operations[i];
        let mut params = Vec::new();
        let mut misshapen = None;
        for (seg, got) in t.segments.iter().zip(segments) {
            if let Segment::Param(name) = seg {
                let value = percent_encoding::percent_decode_str(got)
                    .decode_utf8_lossy()
                    .into_owned();
                if misshapen.is_none() {
                    misshapen = shape_problem(name, &value).map(|why| (name.as_str(), why));
                }
                params.push((name.as_str(), value));
            }
        }
        Routed::Found {
            op,
            params,
            misshapen,
        }
    }

    /// The three templates nearest to `segments` (ids read as parameters), with their methods.
    fn closest(&self, segments: &[&str]) -> Vec<String> {
        let asked: String = segments
            .iter()
            .map(|s| {
                if s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    "/{}".to_owned()
                } else {
                    format!("/{s}")
                }
            })
            .collect();
        let mut scored: Vec<(f64, &Template)> = self
            .templates
            .iter()
            .map(|t| {
                let shape: String = t
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(l) => format!("/{l}"),
                        Segment::Param(_) => "/{}".to_owned(),
                    })
                    .collect();
                (strsim::normalized_levenshtein(&asked, &shape), t)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
        scored
            .into_iter()
            .take(3)
            .map(|(_, t)| {
                let methods: Vec<&str> = t.methods.iter().map(|(m, _)| m.as_str()).collect();
                format!("{} {}", methods.join("|"), t.path)
            })
            .collect()
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}
