//! Action URL placeholders (`{$documentId}`, `{$workspaceOrVersion}`, …): which exist, which
//! are deprecated, and their substitution in an action URL or body, with a report of what
//! was replaced, what is unknown and what the firing context did not provide.

/// Every placeholder Onshape documents for action URLs and bodies (ONSHAPE-FACTS.md).
pub const KNOWN: &[&str] = &[
    "documentId",
    "workspaceOrVersion",
    "workspaceOrVersionId",
    "microversionId",
    "elementId",
    "tabElementId",
    "partId",
    "partNumber",
    "revision",
    "companyId",
    "mimeType",
    "featureId",
    "nodeId",
    "occurrencePath",
    "configuration",
    "sessionCompanyId",
];

/// Deprecated placeholders, with what replaces them: still substituted, always reported.
pub const DEPRECATED: &[(&str, &str)] = &[
    (
        "workspaceId",
        "{$workspaceOrVersion} and {$workspaceOrVersionId}",
    ),
    (
        "versionId",
        "{$workspaceOrVersion} and {$workspaceOrVersionId}",
    ),
];

/// One `{$name}` found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Known,
    Deprecated,
    Unknown,
}

/// The `{$…}` placeholders in `template`, in order, each once.
pub fn scan(template: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{$") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        rest = &after[end + 1..];
        if name.is_empty() || out.iter().any(|f| f.name == name) {
            continue;
        }
        let kind = if KNOWN.contains(&name) {
            Kind::Known
        } else if DEPRECATED.iter().any(|(d, _)| *d == name) {
            Kind::Deprecated
        } else {
            Kind::Unknown
        };
        out.push(Found {
            name: name.to_owned(),
            kind,
        });
    }
    out
}

/// The closest known placeholder to a misspelt one (case, a dropped letter).
pub fn suggestion(name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(name))
        .or_else(|| {
            KNOWN.iter().copied().find(|k| {
                let (a, b) = (k.to_ascii_lowercase(), name.to_ascii_lowercase());
                a.len().abs_diff(b.len()) <= 2 && (a.starts_with(&b) || b.starts_with(&a))
            })
        })
}

/// What a substitution did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substituted {
    pub text: String,
    pub replaced: Vec<String>,
    /// Known placeholders the firing context has no value for (left in place).
    pub missing: Vec<String>,
    /// Unknown placeholders (left in place).
    pub unknown: Vec<String>,
    pub deprecated: Vec<String>,
}

/// Replaces every placeholder `value` knows; `encode` percent-encodes each value (in a URL)
/// or JSON-escapes it (in a body).
pub fn substitute(
    template: &str,
    value: impl Fn(&str) -> Option<String>,
    encode: impl Fn(&str) -> String,
) -> Substituted {
    let mut out = Substituted::default();
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{$") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        let whole = &rest[start..start + 2 + end + 1];
        rest = &after[end + 1..];
        let deprecated = DEPRECATED.iter().any(|(d, _)| *d == name);
        let list = match value(name) {
            Some(v) if KNOWN.contains(&name) || deprecated => {
                text.push_str(&encode(&v));
                &mut out.replaced
            }
            _ if KNOWN.contains(&name) || deprecated => {
                text.push_str(whole);
                &mut out.missing
            }
            _ => {
                text.push_str(whole);
                &mut out.unknown
            }
        };
        if !list.iter().any(|n| n == name) {
            list.push(name.to_owned());
        }
        if deprecated && !out.deprecated.iter().any(|n| n == name) {
            out.deprecated.push(name.to_owned());
        }
    }
    text.push_str(rest);
    out.text = text;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<String> {
        match name {
            "documentId" => Some("d0c".into()),
            "workspaceOrVersion" => Some("w".into()),
            "workspaceId" => Some("w1".into()),
            "partId" => Some("J D".into()),
            _ => None,
        }
    }

    #[test]
    fn every_kind_of_placeholder_is_told_apart() {
        let found = scan("https://a/{$documentId}/{$workspaceId}/{$docId}/{$documentId}");
        let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [Kind::Known, Kind::Deprecated, Kind::Unknown]);
        assert_eq!(suggestion("documentID"), Some("documentId"));
        assert_eq!(suggestion("docId"), None);
    }

    #[test]
    fn substitution_replaces_encodes_and_reports() {
        let s = substitute(
            "https://a/{$documentId}/{$workspaceOrVersion}/{$workspaceId}?p={$partId}&e={$elementId}&x={$nope}",
            values,
            |v| v.replace(' ', "%20"),
        );
        assert_eq!(
            s.text,
            "https://a/d0c/w/w1?p=J%20D&e={$elementId}&x={$nope}"
        );
        assert_eq!(
            s.replaced,
            ["documentId", "workspaceOrVersion", "workspaceId", "partId"]
        );
        assert_eq!(s.missing, ["elementId"]);
        assert_eq!(s.unknown, ["nope"]);
        assert_eq!(s.deprecated, ["workspaceId"]);
        let open = substitute("a {$documentId", values, str::to_owned);
        assert_eq!(open.text, "a {$documentId", "an unclosed brace stays");
    }
}
