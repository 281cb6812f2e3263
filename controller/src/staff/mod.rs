//! Staff accounts and what they may do: roles, password checks with login rate limiting,
//! browser sessions with their CSRF token, API tokens for IT's scripts, and the audit log.
//!
//! Roles: `admin` (every site, accounts), `it` (every site: the fleet, devices, reports),
//! `staff` and `mediator` (their own sites only). A person of one site sees and acts on
//! that site only; [`StaffIdentity::may_act_on`] is the one place that says so.

use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use rand::Rng as _;

use crate::store::{AuditEntry, StaffRecord};
use crate::{now, Controller, ControllerError};

mod login;
pub(crate) use login::LoginLimiter;
pub use login::{LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW};

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
    /// How they came: `web` or `api:<token name>`, for the audit log.
    pub via: String,
}

impl StaffIdentity {
    /// Whether this person may see and act on `site_id`.
    pub fn may_act_on(&self, site_id: &str) -> bool {
        self.role.all_sites() || self.sites.iter().any(|s| s == site_id)
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

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(10 * 3600);

impl Controller {
    /// Creates a staff account. Passwords of at least 12 characters (ANSSI's minimum for
    /// a password alone with rate limiting); `staff` and `mediator` need at least one site.
    pub async fn create_staff(
        &self,
        login: &str,
        display_name: &str,
        role: Role,
        sites: &[String],
        password: &str,
    ) -> Result<(), ControllerError> {
        let valid_login = !login.is_empty()
            && login.len() <= 64
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if !valid_login {
            return Err(ControllerError::Config(
                "a login is 1 to 64 letters, digits or . - _ @".into(),
            ));
        }
        if password.chars().count() < 12 {
            return Err(ControllerError::Config(
                "a password has at least 12 characters".into(),
            ));
        }
        if !role.all_sites() && sites.is_empty() {
            return Err(ControllerError::Config(format!(
                "a {} account needs at least one site (--site)",
                role.as_str()
            )));
        }
        let password_hash = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| ControllerError::Config(format!("hashing the password: {e}")))?
            .to_string();
        self.store()
            .create_staff(
                &StaffRecord {
                    login: login.to_string(),
                    display_name: display_name.to_string(),
                    role: role.as_str().to_string(),
                    password_hash,
                    sites: if role.all_sites() {
                        Vec::new()
                    } else {
                        sites.to_vec()
                    },
                    disabled: false,
                },
                now(),
            )
            .await?;
        self.record(
            "cli",
            "user.create",
            None,
            &format!("{login} ({})", role.as_str()),
        )
        .await;
        Ok(())
    }

    /// The person behind a session cookie, and the session's CSRF token.
    pub async fn session_identity(&self, token: &str) -> Option<(StaffIdentity, String)> {
        let (login, csrf) = self
            .store()
            .staff_session(&token_hash(token), now())
            .await
            .ok()
            .flatten()?;
        let record = self.store().staff(&login).await.ok().flatten()?;
        Some((identity_of(&record, "web".into())?, csrf))
    }

    /// Ends a browser session.
    pub async fn logout(&self, token: &str) {
        let _ = self.store().delete_staff_session(&token_hash(token)).await;
    }

    /// Creates an API token for an account (shown once; only its hash is kept).
    pub async fn create_api_token(
        &self,
        login: &str,
        name: &str,
    ) -> Result<String, ControllerError> {
        if self.store().staff(login).await?.is_none() {
            return Err(ControllerError::Config(format!(
                "no staff account `{login}`"
            )));
        }
        let token = format!("cmn-api-{}", random_token());
        self.store()
            .create_api_token(&token_hash(&token), name, login, now())
            .await?;
        self.record(
            "cli",
            "api_token.create",
            None,
            &format!("{name} for {login}"),
        )
        .await;
        Ok(token)
    }

    /// The person behind an API token.
    pub async fn api_identity(&self, token: &str) -> Option<StaffIdentity> {
        let (name, login) = self
            .store()
            .api_token(&token_hash(token))
            .await
            .ok()
            .flatten()?;
        let record = self.store().staff(&login).await.ok().flatten()?;
        identity_of(&record, format!("api:{name}"))
    }

    /// Appends a staff action to the audit log (failures to write are logged, the action
    /// is not refused for it).
    pub async fn record(&self, actor: &str, action: &str, site_id: Option<&str>, detail: &str) {
        let entry = AuditEntry {
            at: now(),
            actor: actor.to_string(),
            action: action.to_string(),
            site_id: site_id.map(str::to_string),
            detail: detail.to_string(),
        };
        if let Err(error) = self.store().audit(&entry).await {
            tracing::error!(%error, action, "audit log not written");
        }
    }
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
        via,
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
            via: "web".into(),
        };
        assert!(mediator.may_act_on("mdh-a"));
        assert!(!mediator.may_act_on("mdh-b"));
        let it = StaffIdentity {
            role: Role::It,
            sites: vec![],
            ..mediator
        };
        assert!(it.may_act_on("mdh-b"));
    }
}
