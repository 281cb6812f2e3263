//! Staff accounts, their sites, browser sessions, API tokens (with their expiry), who
//! opened each supervised slot, and the audit log.

use commune_protocol::UtcMillis;
use sqlx::Row;

use super::{with_pool, BeginWrite, Store};
use crate::error::StoreError;

/// A staff account as stored (the password hash stays in the store module's callers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    /// Login.
    pub login: String,
    /// Name shown in the dashboard.
    pub display_name: String,
    /// `admin`, `it`, `staff` or `mediator`.
    pub role: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Sites the account acts on (empty for `admin` and `it`: every site).
    pub sites: Vec<String>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
}

/// An API token as stored (its hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// What it is for ("inventaire").
    pub name: String,
    /// Created.
    pub created_at: UtcMillis,
    /// Refused from this instant (`None`: refused, a token from before expiries).
    pub expires_at: Option<UtcMillis>,
    /// Revoked, if it was.
    pub revoked_at: Option<UtcMillis>,
    /// What the token was narrowed to at creation.
    pub scope: ApiTokenScope,
}

/// What an API token was narrowed to at its creation; `None` parts are the account's own
/// (tokens from before scopes have neither).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiTokenScope {
    /// A role no higher than the account's (`admin`, `it`, `staff`, `mediator`).
    pub role: Option<String>,
    /// Some of the account's sites.
    pub sites: Option<Vec<String>>,
}

impl ApiTokenScope {
    fn sites_column(&self) -> Option<String> {
        self.sites
            .as_ref()
            .map(|s| serde_json::Value::from(s.clone()).to_string())
    }

    /// Read from the two columns. Unreadable sites narrow to none: a damaged row must not
    /// widen a token to its account's sites.
    fn from_columns(role: Option<String>, sites: Option<String>) -> ApiTokenScope {
        ApiTokenScope {
            role,
            sites: sites.map(|s| serde_json::from_str(&s).unwrap_or_default()),
        }
    }
}

/// A token valid now, as [`Store::api_token_scoped`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidApiToken {
    /// Its name.
    pub name: String,
    /// Its account.
    pub login: String,
    /// What it was narrowed to.
    pub scope: ApiTokenScope,
}

/// One audit log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: UtcMillis,
    /// Who (login, or `api:<token name>`).
    pub actor: String,
    /// What (`slot.open`, `tickets.create`, `login.failed`…).
    pub action: String,
    /// Where.
    pub site_id: Option<String>,
    /// Details for a person, never a password or a visitor's data.
    pub detail: String,
}

impl Store {
    /// Creates a staff account with its sites, in one transaction.
    pub async fn create_staff(
        &self,
        record: &StaffRecord,
        now: UtcMillis,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO staff_users (login, display_name, role, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&record.login)
            .bind(&record.display_name)
            .bind(&record.role)
            .bind(&record.password_hash)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("the login `{}` is taken", record.login))
                }
                e => StoreError::Db(e),
            })?;
            for site in &record.sites {
                sqlx::query("INSERT INTO staff_user_sites (login, site_id) VALUES ($1, $2)")
                    .bind(&record.login)
                    .bind(site)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                            StoreError::UnknownSite(site.clone())
                        }
                        e => StoreError::Db(e),
                    })?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// One staff account with its sites.
    pub async fn staff(&self, login: &str) -> Result<Option<StaffRecord>, StoreError> {
        with_pool!(self, |pool| {
            let Some(row) = sqlx::query(
                "SELECT login, display_name, role, password_hash, disabled_at \
                 FROM staff_users WHERE login = $1",
            )
            .bind(login)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(None);
            };
            let sites: Vec<String> = sqlx::query_scalar(
                "SELECT site_id FROM staff_user_sites WHERE login = $1 ORDER BY site_id",
            )
            .bind(login)
            .fetch_all(pool)
            .await?;
            Ok(Some(StaffRecord {
                login: row.get(0),
                display_name: row.get(1),
                role: row.get(2),
                password_hash: row.get(3),
                sites,
                disabled: row.get::<Option<i64>, _>(4).is_some(),
            }))
        })
    }

    /// Every staff login, sorted.
    pub async fn staff_logins(&self) -> Result<Vec<String>, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT login FROM staff_users ORDER BY login")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// Stores a browser session (its token's hash and its CSRF token).
    pub async fn create_staff_session(
        &self,
        token_hash: &str,
        login: &str,
        csrf: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO staff_sessions (token_hash, login, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(login)
            .bind(csrf)
            .bind(now.0)
            .bind(expires_at.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The login and CSRF token of a live session.
    pub async fn staff_session(
        &self,
        token_hash: &str,
        now: UtcMillis,
    ) -> Result<Option<(String, String)>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT s.login, s.csrf_token FROM staff_sessions s \
                 JOIN staff_users u ON u.login = s.login \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        })
    }

    /// Ends a browser session.
    pub async fn delete_staff_session(&self, token_hash: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores an API token's hash for a staff account, valid until `expires_at`.
    pub async fn create_api_token(
        &self,
        token_hash: &str,
        name: &str,
        login: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
    ) -> Result<(), StoreError> {
        self.create_scoped_api_token(
            token_hash,
            name,
            login,
            now,
            expires_at,
            &ApiTokenScope::default(),
        )
        .await
    }

    /// [`Self::create_api_token`], narrowed to `scope`.
    pub async fn create_scoped_api_token(
        &self,
        token_hash: &str,
        name: &str,
        login: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
        scope: &ApiTokenScope,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO api_tokens \
                 (token_hash, name, login, created_at, expires_at, scope_role, scope_sites) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token_hash)
            .bind(name)
            .bind(login)
            .bind(now.0)
            .bind(expires_at.0)
            .bind(scope.role.clone())
            .bind(scope.sites_column())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The token's name and account, if the token is valid at `now`: not revoked, not
    /// expired (a token without an expiry is refused), its account enabled.
    pub async fn api_token(
        &self,
        token_hash: &str,
        now: UtcMillis,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .api_token_scoped(token_hash, now)
            .await?
            .map(|t| (t.name, t.login)))
    }

    /// [`Self::api_token`], with what the token was narrowed to.
    pub async fn api_token_scoped(
        &self,
        token_hash: &str,
        now: UtcMillis,
    ) -> Result<Option<ValidApiToken>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT t.name, t.login, t.scope_role, t.scope_sites \
                 FROM api_tokens t JOIN staff_users u ON u.login = t.login \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
                 AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| ValidApiToken {
                name: r.get(0),
                login: r.get(1),
                scope: ApiTokenScope::from_columns(r.get(2), r.get(3)),
            }))
        })
    }

    /// An account's API tokens (valid or not), oldest first.
    pub async fn api_tokens_of(&self, login: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT name, created_at, expires_at, revoked_at, scope_role, scope_sites \
                 FROM api_tokens WHERE login = $1 ORDER BY created_at, name",
            )
            .bind(login)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| ApiTokenRecord {
                    name: r.get(0),
                    created_at: UtcMillis(r.get(1)),
                    expires_at: r.get::<Option<i64>, _>(2).map(UtcMillis),
                    revoked_at: r.get::<Option<i64>, _>(3).map(UtcMillis),
                    scope: ApiTokenScope::from_columns(r.get(4), r.get(5)),
                })
                .collect())
        })
    }

    /// Revokes an account's tokens named `name` that are not revoked yet; how many.
    pub async fn revoke_api_tokens(
        &self,
        login: &str,
        name: &str,
        now: UtcMillis,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            Ok(sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE login = $2 AND name = $3 AND revoked_at IS NULL",
            )
            .bind(now.0)
            .bind(login)
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected())
        })
    }

    /// Disables an account (`Some(at)`) or enables it again (`None`); its browser sessions
    /// are deleted when disabling. False when there is no such account.
    pub async fn set_staff_disabled(
        &self,
        login: &str,
        at: Option<UtcMillis>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found = sqlx::query("UPDATE staff_users SET disabled_at = $1 WHERE login = $2")
                .bind(at.map(|t| t.0))
                .bind(login)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            if found && at.is_some() {
                sqlx::query("DELETE FROM staff_sessions WHERE login = $1")
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(found)
        })
    }

    /// Replaces an account's password hash and ends its browser sessions but `keep` (the
    /// hash of the session that made the change), in one transaction. False when there is
    /// no such account.
    pub async fn set_staff_password(
        &self,
        login: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found = sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE login = $2")
                .bind(password_hash)
                .bind(login)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            sqlx::query("DELETE FROM staff_sessions WHERE login = $1 AND token_hash <> $2")
                .bind(login)
                .bind(keep.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(found)
        })
    }

    /// Ends every browser session of an account; how many were live at `now`.
    pub async fn end_staff_sessions(&self, login: &str, now: UtcMillis) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff_sessions WHERE login = $1 AND expires_at > $2",
            )
            .bind(login)
            .bind(now.0)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM staff_sessions WHERE login = $1")
                .bind(login)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(u64::try_from(live).unwrap_or(0))
        })
    }

    /// How many browser sessions of an account are live at `now`.
    pub async fn live_staff_sessions(
        &self,
        login: &str,
        now: UtcMillis,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff_sessions WHERE login = $1 AND expires_at > $2",
            )
            .bind(login)
            .bind(now.0)
            .fetch_one(pool)
            .await?;
            Ok(u64::try_from(live).unwrap_or(0))
        })
    }

    /// Remembers who opened a supervised slot from the dashboard or the command line.
    pub async fn record_slot_opener(
        &self,
        site_id: &str,
        slot_id: &str,
        login: &str,
        now: UtcMillis,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO slot_openers (site_id, slot_id, login, opened_at) VALUES ($1, $2, $3, $4)")
            .bind(site_id)
            .bind(slot_id)
            .bind(login)
            .bind(now.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The slots of a site with who opened them.
    pub async fn slot_openers(&self, site_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT slot_id, login FROM slot_openers WHERE site_id = $1 ORDER BY opened_at",
            )
            .bind(site_id)
            .fetch_all(pool)
            .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO audit_log (at, actor, action, site_id, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(entry.at.0)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.site_id)
            .bind(&entry.detail)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The audit log since `from`, oldest first.
    pub async fn audit_log(&self, from: UtcMillis) -> Result<Vec<AuditEntry>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT at, actor, action, site_id, detail FROM audit_log WHERE at >= $1 ORDER BY id")
            .bind(from.0)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| AuditEntry {
                    at: UtcMillis(r.get(0)),
                    actor: r.get(1),
                    action: r.get(2),
                    site_id: r.get(3),
                    detail: r.get(4),
                })
                .collect())
        })
    }
}
