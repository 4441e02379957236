//! App Store entries: one per application, its name and summary the app's, its type the
//! app's, the form's fields checked; private until Onshape publishes it (`publish`).

use super::Apps;
use crate::clock::Instant;
use crate::domain::new_id;
use crate::error::ControlError;
use crate::model::{is_email, GroupKind, Owner, StoreEntry, StoreEntryForm, Visibility};
use crate::rules;
use crate::store::directory::Directory;

impl Apps {
    pub fn entries(&self) -> &[StoreEntry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&StoreEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub fn entry_of(&self, client_id: &str) -> Option<&StoreEntry> {
        self.entries.iter().find(|e| e.client_id == client_id)
    }

    /// Creates the app's store entry (or, with `replace`, edits it) under the form's rules.
    pub fn save_entry(
        &mut self,
        client_id: &str,
        form: StoreEntryForm,
        dir: &Directory,
        now: Instant,
    ) -> Result<StoreEntry, ControlError> {
        let app = self.require(client_id)?;
        let bad =
            |field: &str, m: String| ControlError::bad_request(rules::STORE_ENTRY, Some(field), m);
        if form.app_type != app.app_type {
            return Err(bad(
                "type",
                format!(
                    "the entry's type ({}) must match the application's ({})",
                    form.app_type.label(),
                    app.app_type.label()
                ),
            ));
        }
        let text = |field: &str, v: &str, max: usize| {
            if v.trim().is_empty() || v.chars().count() > max {
                Err(bad(field, format!("`{field}` needs 1 to {max} characters")))
            } else {
                Ok(())
            }
        };
        text("category", &form.category, 64)?;
        text("vendor", &form.vendor, 128)?;
        text("version", &form.version, 32)?;
        if form.description.chars().count() > 10_000 {
            return Err(bad(
                "description",
                "the description is longer than 10,000 characters".into(),
            ));
        }
        let url_ok = url::Url::parse(&form.support_url)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some());
        if !url_ok && !is_email(&form.support_url) {
            return Err(bad(
                "support_url",
                format!(
                    "`{}` is neither an https URL nor an email address",
                    form.support_url
                ),
            ));
        }
        if !is_email(&form.support_email) {
            return Err(bad(
                "support_email",
                format!("`{}` is not an email address", form.support_email),
            ));
        }
        let company = match &app.owner {
            Some(Owner::Company(c)) => Some(c.clone()),
            _ => None,
        };
        let visibility = match form.visibility.as_deref().unwrap_or("none") {
            "none" if form.teams.is_empty() => Visibility::Nobody,
            "all" if form.teams.is_empty() => Visibility::AllInternal,
            "teams" if !form.teams.is_empty() => {
                for t in &form.teams {
                    let ok = dir.group(t).is_some_and(|g| {
                        g.kind == GroupKind::Team && Some(&g.company_id) == company.as_ref()
                    });
                    if !ok {
                        return Err(bad(
                            "teams",
                            format!("`{t}` is not a team of the application's company"),
                        ));
                    }
                }
                Visibility::Teams(form.teams.clone())
            }
            "teams" => {
                return Err(bad(
                    "teams",
                    "visibility `teams` names at least one team".into(),
                ))
            }
            "none" | "all" => {
                return Err(bad(
                    "teams",
                    "teams are named only with visibility `teams`".into(),
                ))
            }
            other => {
                return Err(bad(
                    "visibility",
                    format!("visibility is `none`, `all` or `teams`, not `{other}`"),
                ))
            }
        };
        let existing = self.entries.iter().position(|e| e.client_id == client_id);
        let entry = StoreEntry {
            id: existing.map_or_else(new_id, |i| self.entries[i].id.clone()),
            client_id: client_id.to_owned(),
            app_type: form.app_type,
            category: form.category,
            visibility,
            description: form.description,
            support_url: form.support_url,
            support_email: form.support_email,
            vendor: form.vendor,
            version: form.version,
            published: existing.is_some_and(|i| self.entries[i].published),
            created_at: existing.map_or(now, |i| self.entries[i].created_at),
        };
        match existing {
            Some(i) => self.entries[i] = entry.clone(),
            None => self.entries.push(entry.clone()),
        }
        Ok(entry)
    }

    pub fn delete_entry(&mut self, id: &str) -> Result<StoreEntry, ControlError> {
        let pos = self
            .entries
            .iter()
            .position(|e| e.id == id)
            .ok_or_else(|| ControlError::not_found(format!("no store entry has the id `{id}`")))?;
        Ok(self.entries.remove(pos))
    }

    /// Onshape's review, simulated: a published app's calls do not count toward API limits.
    pub fn set_published(&mut self, id: &str, published: bool) -> Result<StoreEntry, ControlError> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| ControlError::not_found(format!("no store entry has the id `{id}`")))?;
        entry.published = published;
        Ok(entry.clone())
    }

    /// Whether the app is a public App Store app (its calls do not count).
    pub fn is_published(&self, client_id: &str) -> bool {
        self.entry_of(client_id).is_some_and(|e| e.published)
    }
}
