//! The controller's store, with two backends chosen from the URL at start: SQLite (WAL, one
//! file, the embedded default) and PostgreSQL (for several controllers and large fleets).
//! Each backend has its own migrations; every query is written once, with `?` placeholders
//! that are rewritten for PostgreSQL, and run by the same code against either pool.

mod commands;
mod counters;
mod events;
mod fleet;
mod retention;
mod schedules;
mod staff;
mod tickets;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use commands::{CommandRecord, CommandStatus, COMMAND_CHANNEL};
pub use counters::CounterRecord;
pub use events::{IngestBatch, SessionRecord};
pub use fleet::{
    AgentOverview, AgentRecord, EnrollStoreError, HealthSummary, LastSeen, SiteRecord, TokenRefusal,
};
pub use retention::{local_day, PurgeReport, RetentionConfig, SeatDay};
pub use schedules::SCHEDULE_CHANNEL;
pub use staff::{ApiTokenRecord, AuditEntry, StaffRecord};
pub use tickets::TicketRecord;

use crate::error::StoreError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$sql` to the function that
/// adapts a `?`-placeholder query to that backend.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $sql:ident| $body:expr) => {
        match &$store.backend {
            crate::store::Backend::Sqlite($pool) => {
                let $sql = |q: &'static str| -> &'static str { q };
                $body
            }
            crate::store::Backend::Postgres($pool) => {
                let $sql = crate::store::pg_sql;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// `?` placeholders become `$1, $2…` for PostgreSQL. Queries are static strings, so each
/// rewrite is done once and kept.
pub(crate) fn pg_sql(query: &'static str) -> &'static str {
    // Keyed by where the static text lives and its length: two different queries never
    // share both (an XOR of the two once did collide and swapped statements).
    static CACHE: OnceLock<Mutex<HashMap<(usize, usize), &'static str>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (query.as_ptr() as usize, query.len());
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key).or_insert_with(|| {
        let mut out = String::with_capacity(query.len() + 16);
        let mut n = 0;
        let mut quoted = false;
        for c in query.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    out.push(c);
                }
                '?' if !quoted => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => out.push(c),
            }
        }
        Box::leak(out.into_boxed_str())
    })
}

pub(crate) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens a store from a URL: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// `sqlite://path` or a plain path for SQLite. Creates and migrates as needed.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Open(format!("{}: {e}", redact(url))))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Open(format!("{}: {e}", redact(url))))?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(|e| StoreError::Open(format!("migration failed: {e}")))?;
            return Ok(Store {
                backend: Backend::Postgres(pool),
            });
        }
        let url = if url.contains("://") || url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Open(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged event must survive a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::Open(format!("{}: {e}", parent.display())))?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Open(format!("migration failed: {e}")))?;
        Ok(Store {
            backend: Backend::Sqlite(pool),
        })
    }

    /// The backend in use.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The PostgreSQL pool, for `LISTEN/NOTIFY`.
    pub(crate) fn pg_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sqlite(_) => None,
        }
    }
}

/// A database URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            pg_sql("SELECT '?' , a FROM t WHERE a = ? AND b = ?"),
            "SELECT '?' , a FROM t WHERE a = $1 AND b = $2"
        );
    }

    #[test]
    fn many_queries_keep_their_own_rewrite() {
        let queries: Vec<&'static str> = (0..500)
            .map(|i| {
                &*Box::leak(
                    format!("SELECT {i} WHERE a = ?{}", " AND b = ?".repeat(i % 7))
                        .into_boxed_str(),
                )
            })
            .collect();
        for _ in 0..2 {
            for q in &queries {
                assert_eq!(
                    pg_sql(q).matches('$').count(),
                    q.matches('?').count(),
                    "{q}"
                );
                assert!(pg_sql(q).starts_with(&q[..q.find(" WHERE").unwrap()]));
            }
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://commune:secret@db:5432/commune"),
            "postgres://commune:***@db:5432/commune"
        );
        assert_eq!(
            redact("sqlite:///var/lib/commune/commune.db"),
            "sqlite:///var/lib/commune/commune.db"
        );
    }
}
