//! App extensions (the Extensions tab): Onshape's seven locations and their contexts, the
//! registration rules of the form (action type only where no UI is embedded, a body only for
//! POST and valid JSON, show response only for GET and POST, one element tab and one part
//! number generator per app), and how an extension fires: the documented placeholders each
//! location replaces, the query parameters Onshape appends, and what the app must answer.
//! Facts: Onshape's extensions page (see README "Extensions").

use serde::Deserialize;

use super::placeholders::{self, Kind};
use crate::clock::Instant;
use crate::domain::new_id;
use crate::error::ControlError;
use crate::rules;

/// Extensions kept at most per app (a bound of the mock).
pub const MAX_PER_APP: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    ElementContextMenu,
    TreeContextMenu,
    DocumentListContextMenu,
    DocumentListInfoPanel,
    ElementRightPanel,
    ElementTab,
    PartNumberGenerator,
}

/// What a location does with its action URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A menu item: GET, POST or Open in new window.
    Action,
    /// A page in an iframe (a panel or a tab): the action URL is the page.
    Embedded,
    /// Onshape POSTs a part to the app and takes the part number it answers.
    Generator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    Part,
    SubAssembly,
    Feature,
    Mate,
    MateFeature,
    Instance,
    Document,
    PartStudio,
    Assembly,
    Drawing,
    BlobElement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionType {
    Get,
    Post,
    OpenInNewWindow,
}

use Context as C;

/// Placeholders every location that replaces any also takes (documented in the general list
/// only).
const GLOBAL: &[&str] = &[
    "microversionId",
    "tabElementId",
    "companyId",
    "sessionCompanyId",
];
const WVM: &[&str] = &[
    "documentId",
    "workspaceOrVersion",
    "workspaceOrVersionId",
    "workspaceId",
    "versionId",
    "elementId",
];

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::ElementContextMenu => "element-context-menu",
            Location::TreeContextMenu => "tree-context-menu",
            Location::DocumentListContextMenu => "document-list-context-menu",
            Location::DocumentListInfoPanel => "document-list-info-panel",
            Location::ElementRightPanel => "element-right-panel",
            Location::ElementTab => "element-tab",
            Location::PartNumberGenerator => "part-number-generator",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Location::ElementContextMenu => "Element context menu",
            Location::TreeContextMenu => "Tree context menu",
            Location::DocumentListContextMenu => "Document list context menu",
            Location::DocumentListInfoPanel => "Document list info panel",
            Location::ElementRightPanel => "Element right panel",
            Location::ElementTab => "Element tab",
            Location::PartNumberGenerator => "Part number generator",
        }
    }

    pub const ALL: [Location; 7] = [
        Location::ElementContextMenu,
        Location::TreeContextMenu,
        Location::DocumentListContextMenu,
        Location::DocumentListInfoPanel,
        Location::ElementRightPanel,
        Location::ElementTab,
        Location::PartNumberGenerator,
    ];

    pub fn shape(self) -> Shape {
        match self {
            Location::ElementContextMenu
            | Location::TreeContextMenu
            | Location::DocumentListContextMenu => Shape::Action,
            Location::DocumentListInfoPanel
            | Location::ElementRightPanel
            | Location::ElementTab => Shape::Embedded,
            Location::PartNumberGenerator => Shape::Generator,
        }
    }

    pub fn contexts(self) -> &'static [Context] {
        match self {
            Location::ElementContextMenu => {
                &[C::PartStudio, C::Assembly, C::Drawing, C::BlobElement]
            }
            Location::TreeContextMenu => &[
                C::Part,
                C::SubAssembly,
                C::Feature,
                C::Mate,
                C::MateFeature,
                C::Instance,
            ],
            Location::DocumentListContextMenu | Location::DocumentListInfoPanel => &[
                C::Part,
                C::Document,
                C::PartStudio,
                C::Assembly,
                C::Drawing,
                C::BlobElement,
            ],
            Location::ElementRightPanel => &[
                C::Part,
                C::Document,
                C::PartStudio,
                C::Assembly,
                C::SubAssembly,
                C::Feature,
                C::Mate,
                C::MateFeature,
            ],
            Location::ElementTab | Location::PartNumberGenerator => &[],
        }
    }

    /// Whether this location replaces the placeholder (in the given context).
    pub fn replaces(self, name: &str, context: Option<Context>) -> bool {
        let extra: &[&str] = match self {
            Location::ElementContextMenu => &["partNumber", "mimeType", "configuration"],
            Location::TreeContextMenu => &[
                "partNumber",
                "revision",
                "featureId",
                "nodeId",
                "occurrencePath",
                "configuration",
            ],
            Location::DocumentListContextMenu => &["partNumber", "revision", "configuration"],
            Location::DocumentListInfoPanel => &["partId"],
            Location::ElementRightPanel => &[
                "partNumber",
                "revision",
                "featureId",
                "nodeId",
                "occurrencePath",
                "configuration",
            ],
            Location::ElementTab | Location::PartNumberGenerator => return false,
        };
        let part_context = name == "partId"
            && matches!(
                (self, context),
                (Location::TreeContextMenu, Some(C::Part | C::Instance))
                    | (Location::DocumentListContextMenu, Some(C::Part))
            );
        WVM.contains(&name) || GLOBAL.contains(&name) || extra.contains(&name) || part_context
    }
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            C::Part => "part",
            C::SubAssembly => "sub-assembly",
            C::Feature => "feature",
            C::Mate => "mate",
            C::MateFeature => "mate-feature",
            C::Instance => "instance",
            C::Document => "document",
            C::PartStudio => "part-studio",
            C::Assembly => "assembly",
            C::Drawing => "drawing",
            C::BlobElement => "blob-element",
        }
    }
}

impl ActionType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Get => "get",
            ActionType::Post => "post",
            ActionType::OpenInNewWindow => "open-in-new-window",
        }
    }
}

/// The Add extension form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub location: Location,
    #[serde(default)]
    pub context: Option<Context>,
    pub action_url: String,
    #[serde(default)]
    pub action_type: Option<ActionType>,
    #[serde(default)]
    pub action_body: Option<String>,
    #[serde(default)]
    pub show_response: bool,
    /// An https URL or a `data:image/…` URI.
    #[serde(default)]
    pub icon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub location: Location,
    pub context: Option<Context>,
    pub action_url: String,
    /// `None` for embedded locations; `Post` for a part number generator.
    pub action_type: Option<ActionType>,
    pub action_body: Option<String>,
    pub show_response: bool,
    pub icon: Option<String>,
    pub created_at: Instant,
}

impl Extension {
    /// What a registration is told about its placeholders: unknown ones (with the closest
    /// known), deprecated ones (with their replacement), and those this location does not
    /// replace.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let texts = std::iter::once(&self.action_url).chain(self.action_body.as_ref());
        for found in texts.flat_map(|t| placeholders::scan(t)) {
            let name = &found.name;
            let line = match found.kind {
                Kind::Unknown => format!(
                    "{{${name}}} is not a documented placeholder: it is sent as written{}",
                    placeholders::suggestion(name)
                        .map_or(String::new(), |s| format!(" (did you mean {{${s}}}?)"))
                ),
                Kind::Deprecated => format!(
                    "{{${name}}} is deprecated: use {}",
                    placeholders::DEPRECATED
                        .iter()
                        .find(|(d, _)| d == name)
                        .map_or("", |(_, r)| r)
                ),
                Kind::Known if !self.location.replaces(name, self.context) => format!(
                    "{{${name}}} is not replaced at the {} location{}",
                    self.location.label(),
                    self.context
                        .map_or(String::new(), |c| format!(" in the {} context", c.as_str()))
                ),
                Kind::Known => continue,
            };
            if !out.contains(&line) {
                out.push(line);
            }
        }
        out
    }
}

/// Applies the form's rules; `existing` are the app's extensions.
pub fn validate(
    form: ExtensionForm,
    client_id: &str,
    existing: &[&Extension],
    now: Instant,
) -> Result<Extension, ControlError> {
    let bad =
        |field: &str, m: String| ControlError::bad_request(rules::EXTENSION_FIELDS, Some(field), m);
    if form.name.trim().is_empty() || form.name.chars().count() > 256 {
        return Err(bad(
            "name",
            "an extension needs a name of 1 to 256 characters (a long one is truncated in the UI)"
                .into(),
        ));
    }
    if form.description.chars().count() > 10_000 {
        return Err(bad(
            "description",
            "the description is longer than 10,000 characters".into(),
        ));
    }
    let loc = form.location;
    match (loc.contexts(), form.context) {
        ([], Some(c)) => {
            return Err(bad(
                "context",
                format!(
                    "the {} location takes no context, not `{}`",
                    loc.label(),
                    c.as_str()
                ),
            ))
        }
        ([], None) => {}
        (allowed, Some(c)) if allowed.contains(&c) => {}
        (allowed, given) => {
            let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
            return Err(bad(
                "context",
                format!(
                    "the {} location works in the context {}{}",
                    loc.label(),
                    names.join(", "),
                    given.map_or(" (choose one)".to_owned(), |c| format!(
                        ", not `{}`",
                        c.as_str()
                    ))
                ),
            ));
        }
    }
    check_action_url(&form.action_url).map_err(|m| bad("action_url", m))?;
    let action_type = match (loc.shape(), form.action_type) {
        (Shape::Action, None) => {
            return Err(bad("action_type", format!("the {} location needs an action type: get, post or open-in-new-window", loc.label())))
        }
        (Shape::Action, Some(t)) => Some(t),
        (Shape::Embedded, Some(t)) => {
            return Err(bad(
                "action_type",
                format!("the {} location embeds the action URL's page: an action type (`{}`) applies only to locations that do not embed UIs", loc.label(), t.as_str()),
            ))
        }
        (Shape::Embedded, None) => None,
        (Shape::Generator, None | Some(ActionType::Post)) => Some(ActionType::Post),
        (Shape::Generator, Some(t)) => {
            return Err(bad("action_type", format!("a part number generator's action URL is a POST API, not `{}`", t.as_str())))
        }
    };
    let is_post = action_type == Some(ActionType::Post) && loc.shape() == Shape::Action;
    match &form.action_body {
        Some(body) if !body.trim().is_empty() && !is_post => {
            return Err(bad(
                "action_body",
                "an action body applies only to the POST action type".into(),
            ))
        }
        Some(body) if !body.trim().is_empty() => {
            serde_json::from_str::<serde_json::Value>(body).map_err(|e| {
                bad("action_body", format!("the action body must be valid JSON (placeholders inside strings, \"{{$documentId}}\"): {e}"))
            })?;
        }
        _ => {}
    }
    let get_or_post = loc.shape() == Shape::Action
        && matches!(action_type, Some(ActionType::Get | ActionType::Post));
    if form.show_response && !get_or_post {
        return Err(bad(
            "show_response",
            "show response applies only to the GET and POST action types".into(),
        ));
    }
    if let Some(icon) = &form.icon {
        let ok = icon.starts_with("https://") && url::Url::parse(icon).is_ok()
            || [
                "data:image/png;base64,",
                "data:image/svg+xml",
                "data:image/jpeg;base64,",
                "data:image/gif;base64,",
            ]
            .iter()
            .any(|p| icon.starts_with(p));
        if !ok {
            return Err(bad(
                "icon",
                "the icon is an https URL or a data:image/png, jpeg, gif or svg+xml URI".into(),
            ));
        }
    }
    for (one, what) in [
        (Location::ElementTab, "element tab"),
        (Location::PartNumberGenerator, "part number generator"),
    ] {
        if loc == one && existing.iter().any(|e| e.location == one) {
            return Err(ControlError::conflict(
                rules::EXTENSION_ONE_PER_APP,
                Some("location"),
                format!(
                    "the application already has an {what} extension: an application has only one"
                ),
            ));
        }
    }
    if existing.len() >= MAX_PER_APP {
        return Err(ControlError::forbidden(
            rules::MOCK_CAPACITY,
            None,
            format!("the mock keeps at most {MAX_PER_APP} extensions per application"),
        ));
    }
    Ok(Extension {
        id: new_id(),
        client_id: client_id.to_owned(),
        name: form.name,
        description: form.description,
        location: loc,
        context: form.context,
        action_url: form.action_url,
        action_type,
        action_body: form.action_body.filter(|b| !b.trim().is_empty()),
        show_response: form.show_response,
        icon: form.icon,
        created_at: now,
    })
}

/// An action URL: https, or http on localhost for local work; placeholders allowed anywhere.
fn check_action_url(raw: &str) -> Result<(), String> {
    // Placeholders are not valid in every URL part: check the URL with them filled in.
    let filled = placeholders::substitute(raw, |_| Some("x".to_owned()), str::to_owned).text;
    let url =
        url::Url::parse(&filled).map_err(|e| format!("`{raw}` is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str() == Some("localhost") || url.host_str() == Some("127.0.0.1") => {
            Ok(())
        }
        other => Err(format!(
            "the action URL must use https (http only on localhost for local work), not `{other}`"
        )),
    }
}

/// Every app's extensions.
#[derive(Debug, Default)]
pub(super) struct Extensions {
    all: Vec<Extension>,
}

impl Extensions {
    pub fn of_app(&self, client_id: &str) -> Vec<&Extension> {
        self.all
            .iter()
            .filter(|e| e.client_id == client_id)
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<&Extension> {
        self.all.iter().find(|e| e.id == id)
    }

    pub fn add(
        &mut self,
        form: ExtensionForm,
        client_id: &str,
        now: Instant,
    ) -> Result<Extension, ControlError> {
        let ext = validate(form, client_id, &self.of_app(client_id), now)?;
        self.all.push(ext.clone());
        Ok(ext)
    }

    pub fn remove(&mut self, id: &str) -> Option<Extension> {
        let pos = self.all.iter().position(|e| e.id == id)?;
        Some(self.all.remove(pos))
    }

    /// The app was deleted: its extensions go with it.
    pub fn remove_app(&mut self, client_id: &str) {
        self.all.retain(|e| e.client_id != client_id);
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }
}
