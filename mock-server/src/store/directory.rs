//! Who exists: companies (with their admins, seats and plan), users, teams and aliases (from
//! the fixtures); the rule that picks a grant's company, and who may own and register an
//! application.

use crate::error::{ControlError, ErrorCode, Rejection};
use crate::model::{Company, Group, Owner, User};
use crate::rules;

#[derive(Debug)]
pub(super) struct Directory {
    companies: Vec<Company>,
    users: Vec<User>,
    groups: Vec<Group>,
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
    pub fn new(companies: Vec<Company>, users: Vec<User>, groups: Vec<Group>) -> Directory {
        Directory {
            companies,
            users,
            groups,
        }
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Whether the user is an admin of the company.
    pub fn is_admin(&self, user_id: &str, company_id: &str) -> bool {
        self.company(company_id)
            .is_some_and(|c| c.admins.iter().any(|a| a == user_id))
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

/// Who owns an application being registered and who registers it, under the settings
/// page's rules: a company's apps are registered by its admins, and only on the Enterprise
/// and Professional plans; an individual's by that user (the Developer Portal). `owner` is a
/// company id or a user's email; `as_user` an email. `as_user` alone registers an individual
/// app of that user; neither: an app with no owner.
pub fn resolve_owner(
    companies: &[Company],
    users: &[User],
    owner: Option<&str>,
    as_user: Option<&str>,
) -> Result<(Option<Owner>, Option<String>), ControlError> {
    let find_user = |email: &str, field: &str| {
        users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .ok_or_else(|| {
                ControlError::bad_request(
                    rules::CONTROL_REQUEST,
                    Some(field),
                    format!("no fixture user has the email `{email}`"),
                )
            })
    };
    let actor = as_user.map(|e| find_user(e, "as")).transpose()?;
    let Some(owner) = owner.or(as_user) else {
        return Ok((None, None));
    };
    if let Some(company) = companies.iter().find(|c| c.id == owner) {
        if !company.plan.has_developer_settings() {
            return Err(ControlError::forbidden(
                rules::DEVELOPER_PLAN,
                Some("owner"),
                format!(
                    "{} is on the {} plan: only Enterprise and Professional admins register company applications (an individual can in the Developer Portal)",
                    company.name,
                    company.plan.as_str()
                ),
            ));
        }
        let creator = match actor {
            Some(a) if company.admins.contains(&a.id) => a.id.clone(),
            Some(a) => return Err(not_admin(a, company)),
            None => company.admins.first().cloned().ok_or_else(|| {
                ControlError::forbidden(
                    rules::DEVELOPER_ADMIN,
                    Some("owner"),
                    format!("{} has no admin to register it: name `admins` for the company in the fixtures", company.name),
                )
            })?,
        };
        return Ok((Some(Owner::Company(company.id.clone())), Some(creator)));
    }
    if !owner.contains('@') {
        return Err(ControlError::bad_request(
            rules::CONTROL_REQUEST,
            Some("owner"),
            format!("owner `{owner}` is neither a company id nor a user's email"),
        ));
    }
    let user = find_user(owner, "owner")?;
    if user.light {
        return Err(ControlError::forbidden(
            rules::DEVELOPER_ADMIN,
            Some("owner"),
            format!(
                "{} is a light user: light users have read-only access and own no applications",
                user.email
            ),
        ));
    }
    if let Some(a) = actor.filter(|a| a.id != user.id) {
        return Err(ControlError::forbidden(
            rules::DEVELOPER_ADMIN,
            Some("as"),
            format!(
                "{} cannot register an application for {}: individuals manage their own applications in the Developer Portal",
                a.email, user.email
            ),
        ));
    }
    Ok((Some(Owner::User(user.id.clone())), Some(user.id.clone())))
}

/// The refusal for a user who is not an admin of the company.
pub fn not_admin(user: &User, company: &Company) -> ControlError {
    ControlError::forbidden(
        rules::DEVELOPER_ADMIN,
        Some("as"),
        format!(
            "{} is not an admin of {}: only its admins manage its applications and API keys",
            user.email, company.name
        ),
    )
}
