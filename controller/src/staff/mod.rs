//! Staff accounts and what they may do: roles and their rights, password checks with login
//! rate limiting, browser sessions with their CSRF token, API tokens for IT's scripts (which
//! expire), and the audit log.
//!
//! Every staff action goes through [`StaffApi`] (`controller.staff_api(&identity)`), which
//! checks the person's role ([`rights`]) and sites and writes the audit log, for the
//! dashboard and the command line alike. A person of one site sees and acts on that site
//! only; [`StaffIdentity::may_act_on`] says so, [`Role::may`] says what the role allows.

use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use rand::Rng as _;

use crate::store::{AuditEntry, StaffRecord};
use crate::{now, Controller, ControllerError};

mod accounts;
mod api;
mod login;
pub mod rights;
pub(crate) use login::LoginLimiter;
pub use login::LOGIN_MAX_BYTES;

pub use accounts::{
    AccountView, API_TOKEN_DEFAULT_TTL, API_TOKEN_MAX_TTL, MAX_TOKEN_SITES, MIN_PASSWORD_CHARS,
};
pub use api::{
    SeatView, SiteView, StaffApi, MAX_COUNTER_PERMANENCE_CHARS, MAX_SLOT_NAME_CHARS,
    OTHER_ACCOMPANIED,
};
pub use rights::Right;

/// What a staff account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Every site, and the accounts.
    Admin,
    /// City IT: every site's equipment and reports.
    It,
    /// MDH staff of given sites: slots, tickets, reports.
    Staff,
    /// Mediators of given sites: their permanences' slots and sessions.
    Mediator,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::It => "it",
            Role::Staff => "staff",
            Role::Mediator => "mediator",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "it" => Role::It,
            "staff" => Role::Staff,
            "mediator" => Role::Mediator,
            _ => return None,
        })
    }

    /// Whether the role covers every site.
    pub fn all_sites(self) -> bool {
        matches!(self, Role::Admin | Role::It)
    }
}

/// Who is asking, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    /// Login (or the account behind an API token).
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Sites of `staff` and `mediator` accounts.
    pub sites: Vec<String>,
    /// The sites an API token was narrowed to (`None`: the account's). The person acts on
    /// a site only when both the account and this allow it.
    pub site_scope: Option<Vec<String>>,
    /// How they came: `web`, `api:<token name>` or `cli`, for the audit log.
    pub via: String,
    /// What they showed, so that a long-lived request (the live stream) can check it again.
    pub credential: Credential,
}

/// The credential behind an identity.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (the hash of its cookie).
    Session(String),
    /// An API token (its hash).
    ApiToken(String),
    /// The command line on the server.
    Cli,
    /// The account alone (an identity a login returns before its session exists).
    Account,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hashes are lookup keys: not for logs.
        f.write_str(match self {
            Credential::Session(_) => "Session(…)",
            Credential::ApiToken(_) => "ApiToken(…)",
            Credential::Cli => "Cli",
            Credential::Account => "Account",
        })
    }
}

impl StaffIdentity {
    /// The administrator at the server's command line: an admin, audited as `cli`.
    pub fn cli() -> StaffIdentity {
        StaffIdentity {
            login: "cli".into(),
            display_name: "cli".into(),
            role: Role::Admin,
            sites: Vec::new(),
            site_scope: None,
            via: "cli".into(),
            credential: Credential::Cli,
        }
    }

    /// Whether this person may see and act on `site_id`.
    pub fn may_act_on(&self, site_id: &str) -> bool {
        let account = self.role.all_sites() || self.sites.iter().any(|s| s == site_id);
        account
            && self
                .site_scope
                .as_ref()
                .is_none_or(|scope| scope.iter().any(|s| s == site_id))
    }

    /// Whether the role grants `right` (on the person's sites).
    pub fn may(&self, right: Right) -> bool {
        self.role.may(right)
    }

    /// Whether the person may do `right` at `site_id`.
    pub fn may_at(&self, right: Right, site_id: &str) -> bool {
        self.may(right) && self.may_act_on(site_id)
    }

    /// Whether `other` is the same person with the same rights (role and sites).
    pub fn same_rights(&self, other: &StaffIdentity) -> bool {
        self.login == other.login
            && self.role == other.role
            && self.sites == other.sites
            && self.site_scope == other.site_scope
    }
}

impl StaffIdentity {
    /// Narrows the account's identity to what its API token was created with: the lower of
    /// the two roles (an unreadable role narrows to a mediator's), and the token's sites
    /// within the account's. The account's later changes still apply: a token never holds
    /// more than its account holds now.
    pub(crate) fn narrow(&mut self, scope: &crate::store::ApiTokenScope) {
        if let Some(sites) = &scope.sites {
            if self.role.all_sites() {
                // The account acts on every site: the token's sites are the ones it acts
                // on, whatever role it is narrowed to below.
                self.sites = sites.clone();
            }
            self.site_scope = Some(sites.clone());
        }
        if let Some(role) = &scope.role {
            self.role = self
                .role
                .at_most(Role::parse(role).unwrap_or(Role::Mediator));
        }
    }
}

/// Why a staff action was refused, for the person who asked (the dashboard words it in
/// the page's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The site is not one of the person's.
    #[error("you only act on your own sites")]
    NotYourSite,
    /// The role does not allow it.
    #[error("your role does not allow this")]
    NotYourRole,
    /// A mediator changing a slot someone else opened.
    #[error("you only extend or close the slots you opened")]
    NotYourSlot,
    /// A mediator acting on a computer outside their permanence.
    #[error("this computer is not in one of your permanences now")]
    NotSupervised,
    /// A mediator ending a free-access visitor's session.
    #[error("this is a free-access visitor's session: the MDH's staff end it")]
    FreeAccessSession,
    /// A mediator opening a slot on a computer in someone else's permanence or in a
    /// free-access visitor's session now.
    #[error("this computer is in another permanence or a free-access visitor's session now")]
    SeatInUse,
    /// The computer belongs to another site than the one named.
    #[error("this computer does not belong to this site")]
    SeatNotOfSite,
    /// An admin disabling their own account.
    #[error("you cannot disable your own account; ask another administrator")]
    OwnAccount,
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
}

/// Why a staff action failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// Not allowed for this person (audited as `<action>.refused`).
    #[error("refused: {0}")]
    Forbidden(Refusal),
    /// The session or token is no longer valid (ended, expired, account disabled, rights
    /// changed).
    #[error("the session or token is no longer valid: log in again")]
    Unauthenticated,
    /// No such thing (account, computer, slot, token).
    #[error("{0}")]
    NotFound(String),
    /// Unusable input, with what to do.
    #[error("{0}")]
    Invalid(String),
    /// The controller failed.
    #[error(transparent)]
    Controller(#[from] ControllerError),
}

impl From<crate::StoreError> for StaffError {
    fn from(e: crate::StoreError) -> Self {
        StaffError::Controller(e.into())
    }
}

/// Why a login failed, worded for the login page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Wrong login or password (never says which).
    #[error("identifiant ou mot de passe incorrect")]
    Wrong,
    /// Too many failures: wait.
    #[error("trop d'essais : réessayez dans {0} minute(s)")]
    TooManyAttempts(u64),
    /// Every password check is taken (a flood of logins): try again in a moment.
    #[error("le service est très sollicité : réessayez dans un instant")]
    Busy,
}

/// A browser session just opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie's value (shown once; only its hash is stored).
    pub token: String,
    /// The token every form must carry.
    pub csrf: String,
}

pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// The SHA-256 of a session or API token, as the store keeps it.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(10 * 3600);

impl Controller {
    /// Creates a staff account as the command line does (audited as `cli`): see
    /// [`StaffApi::create_account`].
    pub async fn create_staff(
        &self,
        login: &str,
        display_name: &str,
        role: Role,
        sites: &[String],
        password: &str,
    ) -> Result<(), StaffError> {
        self.staff_api(&StaffIdentity::cli())
            .create_account(login, display_name, role, sites, password)
            .await
    }

    /// The person behind a session cookie, and the session's CSRF token.
    pub async fn session_identity(&self, token: &str) -> Option<(StaffIdentity, String)> {
        let hash = token_hash(token);
        let (login, csrf) = self
            .store()
            .staff_session(&hash, now())
            .await
            .ok()
            .flatten()?;
        let record = self.store().staff(&login).await.ok().flatten()?;
        let mut identity = identity_of(&record, "web".into())?;
        identity.credential = Credential::Session(hash);
        Some((identity, csrf))
    }

    /// Ends a browser session.
    pub async fn logout(&self, token: &str) {
        let _ = self.store().delete_staff_session(&token_hash(token)).await;
    }

    /// Creates an API token for an account as the command line does (audited as `cli`),
    /// valid [`API_TOKEN_DEFAULT_TTL`]: see [`StaffApi::create_api_token`].
    pub async fn create_api_token(&self, login: &str, name: &str) -> Result<String, StaffError> {
        self.staff_api(&StaffIdentity::cli())
            .create_api_token(login, name, API_TOKEN_DEFAULT_TTL)
            .await
    }

    /// The person behind an API token that is valid now.
    pub async fn api_identity(&self, token: &str) -> Option<StaffIdentity> {
        let hash = token_hash(token);
        let valid = self
            .store()
            .api_token_scoped(&hash, now())
            .await
            .ok()
            .flatten()?;
        let record = self.store().staff(&valid.login).await.ok().flatten()?;
        let mut identity = identity_of(&record, format!("api:{}", valid.name))?;
        identity.narrow(&valid.scope);
        identity.credential = Credential::ApiToken(hash);
        Some(identity)
    }

    /// The person behind `credential` now, if it still holds (the live stream checks its
    /// identity again with this).
    pub async fn current_identity(&self, who: &StaffIdentity) -> Option<StaffIdentity> {
        let at = now();
        let (login, scope) = match &who.credential {
            Credential::Cli => return Some(who.clone()),
            Credential::Session(hash) => {
                (self.store().staff_session(hash, at).await.ok()??.0, None)
            }
            Credential::ApiToken(hash) => {
                let valid = self.store().api_token_scoped(hash, at).await.ok()??;
                (valid.login, Some(valid.scope))
            }
            Credential::Account => (who.login.clone(), None),
        };
        let record = self.store().staff(&login).await.ok().flatten()?;
        let mut identity = identity_of(&record, who.via.clone())?;
        if let Some(scope) = scope {
            identity.narrow(&scope);
        }
        identity.credential = who.credential.clone();
        Some(identity)
    }

    /// Appends a staff action to the audit log (failures to write are logged, the action
    /// is not refused for it). Staff actions come here through [`StaffApi`] only; logins
    /// through [`Controller::login`]. Each text is cut at [`AUDIT_TEXT_MAX_CHARS`]: a person typing pages into a form fills
    /// one line, not the disk.
    pub(crate) async fn record(
        &self,
        actor: &str,
        action: &str,
        site_id: Option<&str>,
        detail: &str,
    ) {
        let entry = AuditEntry {
            at: now(),
            actor: capped(actor),
            action: capped(action),
            site_id: site_id.map(capped),
            detail: capped(detail),
        };
        if let Err(error) = self.store().audit(&entry).await {
            tracing::error!(%error, action, "audit log not written");
        }
    }
}

/// Longest text of an audit line, in characters.
pub const AUDIT_TEXT_MAX_CHARS: usize = 300;

fn capped(text: &str) -> String {
    match text.char_indices().nth(AUDIT_TEXT_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Hashes a password with Argon2 on the password pool (see [`Controller::password_work`]).
pub(crate) async fn hash_password(c: &Controller, password: &str) -> Result<String, StaffError> {
    let password = password.to_owned();
    c.password_work(move || {
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map(|h| h.to_string())
            .map_err(|e| StaffError::Invalid(format!("hashing the password: {e}")))
    })
    .await
    .map_err(|_| StaffError::Invalid("the service is very busy: try again in a moment".into()))?
}

pub(crate) fn identity_of(record: &StaffRecord, via: String) -> Option<StaffIdentity> {
    if record.disabled {
        return None;
    }
    Some(StaffIdentity {
        login: record.login.clone(),
        display_name: record.display_name.clone(),
        role: Role::parse(&record.role)?,
        sites: record.sites.clone(),
        site_scope: None,
        via,
        credential: Credential::Account,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_person_acts_on_their_sites_only() {
        let mediator = StaffIdentity {
            login: "m".into(),
            display_name: "M".into(),
            role: Role::Mediator,
            sites: vec!["mdh-a".into()],
            site_scope: None,
            via: "web".into(),
            credential: Credential::Account,
        };
        assert!(mediator.may_act_on("mdh-a"));
        assert!(!mediator.may_act_on("mdh-b"));
        let it = StaffIdentity {
            role: Role::It,
            sites: vec![],
            ..mediator
        };
        assert!(it.may_act_on("mdh-b"));
        assert!(it.may_at(Right::ManageDevices, "mdh-b"));
    }

    #[test]
    fn audit_texts_are_capped() {
        assert_eq!(capped("court"), "court");
        let long = "é".repeat(AUDIT_TEXT_MAX_CHARS + 10);
        assert_eq!(capped(&long).chars().count(), AUDIT_TEXT_MAX_CHARS + 1);
    }
}
