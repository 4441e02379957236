//! Documents: the fixture documents and those created through the API, per company (or per
//! owner for an individual account), at most [`MAX_DOCUMENTS`].

use crate::clock::Instant;
use crate::domain::new_id;
use crate::model::Document;

/// Documents the store holds at most (fixtures and API-created together).
pub const MAX_DOCUMENTS: usize = 10_000;
/// The longest document name, in characters.
pub const MAX_DOCUMENT_NAME: usize = 256;

#[derive(Debug)]
pub(super) struct Documents {
    all: Vec<Document>,
}

/// Who may see a document: the token's company, or its user for an individual account.
pub fn visible_to(d: &Document, company: Option<&str>, user: &str) -> bool {
    match (company, &d.company) {
        (Some(c), Some(dc)) => c == dc,
        (None, None) => d.owner == user,
        _ => false,
    }
}

impl Documents {
    /// The fixture documents, counted as created at `now`.
    pub fn new(fixtures: &[Document], now: Instant) -> Documents {
        let mut all = fixtures.to_vec();
        for d in &mut all {
            d.created_at = now;
        }
        Documents { all }
    }

    pub fn get(&self, id: &str) -> Option<&Document> {
        self.all.iter().find(|d| d.id == id)
    }

    pub fn visible<'a>(
        &'a self,
        company: Option<&'a str>,
        user: &'a str,
    ) -> impl Iterator<Item = &'a Document> + 'a {
        self.all
            .iter()
            .filter(move |d| visible_to(d, company, user))
    }

    /// A new document, or `None` at [`MAX_DOCUMENTS`].
    pub fn create(
        &mut self,
        name: String,
        company: Option<String>,
        owner: String,
        now: Instant,
    ) -> Option<Document> {
        if self.all.len() >= MAX_DOCUMENTS {
            return None;
        }
        let doc = Document {
            id: new_id(),
            name,
            company,
            owner,
            created_at: now,
        };
        self.all.push(doc.clone());
        Some(doc)
    }

    pub fn delete(&mut self, id: &str) -> Option<Document> {
        let pos = self.all.iter().position(|d| d.id == id)?;
        Some(self.all.remove(pos))
    }
}
