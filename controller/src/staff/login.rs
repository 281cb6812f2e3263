//! Staff logins: the password check with its rate limiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use commune_protocol::UtcMillis;

use super::{
    identity_of, random_token, token_hash, LoginError, NewSession, StaffIdentity, SESSION_TTL,
};
use crate::{now, Controller};

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

/// A valid Argon2 hash of nothing anyone can type, verified when the login is unknown so
/// that a wrong login and a wrong password take the same time.
fn decoy_hash() -> String {
    argon2::Argon2::default()
        .hash_password(b"\x00decoy", &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
}

impl Controller {
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
}
