//! Staff accounts and what they may do: roles, password checks with login rate limiting,
//! browser sessions with their CSRF token, API tokens for IT's scripts, and the audit log.
//!
//! Roles: `admin` (every site, accounts), `it` (every site: the fleet, devices, reports),
//! `staff` and `mediator` (their own sites only). A person of one site sees and acts on
//! that site only; [`StaffIdentity::may_act_on`] is the one place that says so.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use commune_protocol::UtcMillis;
use rand::Rng as _;

use crate::store::{AuditEntry, StaffRecord};
use crate::{now, Controller, ControllerError};

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

/// Failed logins per login and per address within a window; past the limit, refused
/// until the window has passed. In memory: a restarted controller forgets, which only
/// helps someone who can restart it.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<UtcMillis>>>,
}

/// Failures allowed in [`LOGIN_WINDOW`] per login and per address.
pub const LOGIN_FAILURES_ALLOWED: usize = 5;
/// The rate-limiting window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginLimiter {
    fn keys(login: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![format!("login:{}", login.to_lowercase())];
        if let Some(ip) = ip {
            keys.push(format!("ip:{ip}"));
        }
        keys
    }

    /// Minutes to wait, if a key is over the limit at `at`.
    fn blocked(&self, login: &str, ip: Option<IpAddr>, at: UtcMillis) -> Option<u64> {
        let window = i64::try_from(LOGIN_WINDOW.as_millis()).unwrap_or(i64::MAX);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for key in Self::keys(login, ip) {
            let list = map.entry(key).or_default();
            list.retain(|t| at.0 - t.0 < window);
            if list.len() >= LOGIN_FAILURES_ALLOWED {
                let oldest = list.iter().min().copied().unwrap_or(at);
                let ms = window - (at.0 - oldest.0);
                let minutes = u64::try_from(ms / 60_000 + 1).unwrap_or(1);
                wait = Some(wait.map_or(minutes, |w: u64| w.max(minutes)));
            }
        }
        wait
    }

    fn failed(&self, login: &str, ip: Option<IpAddr>, at: UtcMillis) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in Self::keys(login, ip) {
            map.entry(key).or_default().push(at);
        }
    }

    fn succeeded(&self, login: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("login:{}", login.to_lowercase()));
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// How long a browser session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(10 * 3600);

/// A valid Argon2 hash of nothing anyone can type, verified when the login is unknown so
/// that a wrong login and a wrong password take the same time.
fn decoy_hash() -> String {
    argon2::Argon2::default()
        .hash_password(b"\x00decoy", &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
}

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

    /// Checks a login and password from `ip`, with rate limiting per login and per
    /// address, and opens a browser session. Every failure goes to the audit log.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<(StaffIdentity, NewSession), LoginError> {
        let at = now();
        let limiter = &self.inner.login_limiter;
        if let Some(minutes) = limiter.blocked(login, ip, at) {
            self.record(login, "login.refused", None, "too many attempts")
                .await;
            return Err(LoginError::TooManyAttempts(minutes));
        }
        let record = self.store().staff(login).await.ok().flatten();
        let hash = record
            .as_ref()
            .filter(|r| !r.disabled)
            .map(|r| r.password_hash.clone())
            .unwrap_or_else(decoy_hash);
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        let Some(record) = record.filter(|r| ok && !r.disabled) else {
            limiter.failed(login, ip, at);
            self.record(login, "login.failed", None, "wrong login or password")
                .await;
            return Err(LoginError::Wrong);
        };
        limiter.succeeded(login);
        let Some(identity) = identity_of(&record, "web".into()) else {
            return Err(LoginError::Wrong);
        };
        let session = NewSession {
            token: random_token(),
            csrf: random_token(),
        };
        let ttl = i64::try_from(SESSION_TTL.as_secs()).unwrap_or(36_000);
        if self
            .store()
            .create_staff_session(
                &token_hash(&session.token),
                &record.login,
                &session.csrf,
                at,
                at.plus_secs(ttl),
            )
            .await
            .is_err()
        {
            return Err(LoginError::Wrong);
        }
        self.record(&record.login, "login", None, "").await;
        Ok((identity, session))
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

fn identity_of(record: &StaffRecord, via: String) -> Option<StaffIdentity> {
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
    fn five_failures_block_the_login_and_the_address_for_the_window() {
        let limiter = LoginLimiter::default();
        let ip: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        let t0 = UtcMillis(1_000_000);
        for i in 0..LOGIN_FAILURES_ALLOWED {
            assert_eq!(limiter.blocked("marie", ip, t0), None, "attempt {i}");
            limiter.failed("marie", ip, t0);
        }
        assert_eq!(limiter.blocked("marie", ip, t0), Some(16));
        // Another login from the same address is blocked too; the same login elsewhere too.
        assert!(limiter.blocked("paul", ip, t0).is_some());
        assert!(limiter
            .blocked("Marie", Some("198.51.100.1".parse().unwrap()), t0)
            .is_some());
        // After the window, free again.
        let later = t0.plus_secs(15 * 60);
        assert_eq!(limiter.blocked("marie", ip, later), None);
    }

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
