//! Who exists: companies and users (from the fixtures), and the rule that picks a grant's
//! company.

use crate::error::{ErrorCode, Rejection};
use crate::model::{Company, User};
use crate::rules;

#[derive(Debug)]
pub(super) struct Directory {
    companies: Vec<Company>,
    users: Vec<User>,
}

/// Which company a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyChoice {
    /// This company (`None`: an individual account).
    Resolved(Option<String>),
    /// The user is in several companies and the request named none: the consent page asks.
    UserChooses,
}

impl Directory {
    pub fn new(companies: Vec<Company>, users: Vec<User>) -> Directory {
        Directory { companies, users }
    }

    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn companies(&self) -> &[Company] {
        &self.companies
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn company(&self, id: &str) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

    /// Picks the grant's company: `company_id` when it is one of the user's companies (else
    /// a rejection), the only company, none for an individual account, or — several
    /// companies and none named — the user must choose.
    pub fn resolve_company(
        &self,
        user: &User,
        company_id: Option<&str>,
    ) -> Result<CompanyChoice, Rejection> {
        match company_id {
            Some(c) if user.companies.iter().any(|u| u == c) => Ok(CompanyChoice::Resolved(Some(c.to_owned()))),
            Some(c) => Err(Rejection::new(
                ErrorCode::InvalidRequest,
                rules::COMPANY_MEMBER,
                format!("user {} is not a member of company {c}", user.email),
            )
            .hint(format!(
                "company_id `{c}` is not one of {}'s companies ({}); send one of those, or omit company_id to let the user choose.",
                user.email,
                if user.companies.is_empty() { "none: an individual account".to_owned() } else { user.companies.join(", ") }
            ))),
            None => match user.companies.as_slice() {
                [] => Ok(CompanyChoice::Resolved(None)),
                [only] => Ok(CompanyChoice::Resolved(Some(only.clone()))),
                _ => Ok(CompanyChoice::UserChooses),
            },
        }
    }
}
