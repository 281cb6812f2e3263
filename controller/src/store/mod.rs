//! The controller's store, with two backends chosen from the URL at start: SQLite (WAL, one
//! file, the embedded default) and PostgreSQL (for several controllers and large fleets).
//! Each backend has its own migrations; every query is written once, with `$N` placeholders
//! that both drivers take natively, and run by the same code against either pool.

mod commands;
mod counters;
mod events;
mod fleet;
mod help;
mod retention;
mod schedules;
mod staff;
mod tickets;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use commands::{CommandRecord, CommandStatus, COMMAND_CHANNEL};
pub use counters::CounterRecord;
pub use events::{IngestBatch, SessionRecord};
pub use fleet::{
    AgentOverview, AgentRecord, EnrollStoreError, HealthSummary, LastSeen, SiteRecord, TokenRefusal,
};
pub use help::{HelpCallRecord, HelpCount};
pub use retention::{local_day, PurgeReport, RetentionConfig, SeatDay};
pub use schedules::SCHEDULE_CHANNEL;
pub use staff::{ApiTokenRecord, ApiTokenScope, AuditEntry, StaffRecord, ValidApiToken};
pub use tickets::{TicketRecord, TICKET_CHANNEL};

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

/// Runs `$body` with `$pool` bound to the backend's pool. Queries are written once, with
/// `$1, $2…` placeholders, which both drivers take natively (sqlx binds SQLite's `$N` by
/// number): no text is rewritten at run time. Where the dialects differ, the code matches
/// on the backend itself.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            crate::store::Backend::Sqlite($pool) => $body,
            crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// How a transaction that writes begins on each backend. On SQLite a plain `BEGIN` reads
/// first and asks for the write lock at its first write; if another connection committed
/// in between, SQLite answers "database is locked" at once, without waiting its busy
/// timeout (the snapshot is stale). `BEGIN IMMEDIATE` takes the write lock first, and
/// waits for it.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        self.begin().await
    }
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
