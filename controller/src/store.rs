//! The controller's store. SQLite (WAL, one file) is the embedded default; the API is the
//! boundary behind which a PostgreSQL backend sits beside it.

use std::str::FromStr;

use commune_protocol::health::{HealthSnapshot, Inventory};
use commune_protocol::messages::EventEnvelope;
use commune_protocol::UtcMillis;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::error::StoreError;

/// Why the store refused an enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No token with this hash.
    Unknown,
    /// Used before, at this instant, by this agent.
    Used {
        /// When.
        at: UtcMillis,
    },
    /// Expired at this instant.
    Expired {
        /// When.
        at: UtcMillis,
    },
}

/// An enrolled agent as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// Agent id (certificate subject).
    pub id: String,
    /// Site.
    pub site_id: String,
    /// Host name given at enrollment.
    pub hostname: String,
    /// Serial of the current certificate.
    pub cert_serial: String,
    /// Expiry of the current certificate.
    pub cert_not_after: UtcMillis,
    /// When it enrolled.
    pub enrolled_at: UtcMillis,
    /// When IT revoked it.
    pub revoked_at: Option<UtcMillis>,
    /// Last reported version.
    pub agent_version: String,
}

/// One row of the fleet overview.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOverview {
    /// The agent.
    pub agent: AgentRecord,
    /// Last time the controller heard from it (flushed periodically).
    pub last_seen_at: Option<UtcMillis>,
    /// Latest health snapshot.
    pub health: Option<HealthSummary>,
    /// Asset tag from the latest inventory.
    pub asset_tag: Option<String>,
}

/// The figures of a health snapshot the overview shows.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSummary {
    /// When taken.
    pub at: UtcMillis,
    /// CPU percent.
    pub cpu_percent: f64,
    /// Memory used.
    pub memory_used_bytes: i64,
    /// Memory installed.
    pub memory_total_bytes: i64,
    /// Uptime.
    pub uptime_secs: i64,
    /// OS.
    pub os: String,
}

/// A site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRecord {
    /// Stable id (`mdh-abbaye`).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens a store from a URL: `sqlite://path` or a plain path.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(StoreError::Open(
                "PostgreSQL is not available in this build yet; use a SQLite path".into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged event must survive a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        Self::connect(options).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Open(format!("migration failed: {e}")))?;
        Ok(Store { pool })
    }

    /// Adds a site.
    pub async fn add_site(&self, id: &str, name: &str, now: UtcMillis) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sites (id, name, created_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(name)
            .bind(now.0)
            .execute(&self.pool)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::SiteExists(id.to_string())
                }
                e => StoreError::Db(e),
            })?;
        Ok(())
    }

    /// All sites.
    pub async fn sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, name FROM sites ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SiteRecord {
                id: r.get(0),
                name: r.get(1),
            })
            .collect())
    }

    /// Stores a new enrollment token's hash.
    pub async fn create_token(
        &self,
        hash: &[u8; 32],
        site_id: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
    ) -> Result<(), StoreError> {
        let site: Option<String> = sqlx::query_scalar("SELECT id FROM sites WHERE id = ?")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?;
        if site.is_none() {
            return Err(StoreError::UnknownSite(site_id.to_string()));
        }
        sqlx::query(
            "INSERT INTO enrollment_tokens (hash, site_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&hash[..])
        .bind(site_id)
        .bind(now.0)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Consumes a token and registers the agent in one transaction. `issue` signs the
    /// certificate for the token's site; if it fails, or the commit fails, the token stays
    /// unused and no certificate is handed out.
    pub async fn enroll<T, E>(
        &self,
        hash: &[u8; 32],
        now: UtcMillis,
        agent_id: &str,
        hostname: &str,
        agent_version: &str,
        issue: impl FnOnce(&str) -> Result<(T, String, UtcMillis), E>,
    ) -> Result<Result<(T, String), TokenRefusal>, EnrollStoreError<E>> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        // Taking the write lock first (BEGIN IMMEDIATE semantics through the UPDATE) means
        // two agents racing with one token cannot both succeed.
        let claimed = sqlx::query(
            "UPDATE enrollment_tokens SET used_at = ?, used_by = ? \
             WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING site_id",
        )
        .bind(now.0)
        .bind(agent_id)
        .bind(&hash[..])
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let Some(row) = claimed else {
            let row =
                sqlx::query("SELECT used_at, expires_at FROM enrollment_tokens WHERE hash = ?")
                    .bind(&hash[..])
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            return Ok(Err(match row {
                None => TokenRefusal::Unknown,
                Some(r) => match r.get::<Option<i64>, _>(0) {
                    Some(at) => TokenRefusal::Used { at: UtcMillis(at) },
                    None => TokenRefusal::Expired {
                        at: UtcMillis(r.get(1)),
                    },
                },
            }));
        };
        let site_id: String = row.get(0);
        let (issued, serial, not_after) = issue(&site_id).map_err(EnrollStoreError::Issue)?;
        sqlx::query(
            "INSERT INTO agents (id, site_id, hostname, cert_serial, cert_not_after, enrolled_at, agent_version) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(agent_id)
        .bind(&site_id)
        .bind(hostname)
        .bind(&serial)
        .bind(not_after.0)
        .bind(now.0)
        .bind(agent_version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Ok((issued, site_id)))
    }

    /// One agent.
    pub async fn agent(&self, id: &str) -> Result<Option<AgentRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, site_id, hostname, cert_serial, cert_not_after, enrolled_at, revoked_at, agent_version \
             FROM agents WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| agent_from_row(&r, 0)))
    }

    /// Marks an agent revoked. Returns false if it did not exist.
    pub async fn revoke(&self, id: &str, now: UtcMillis) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
                .bind(now.0)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ids of every revoked agent.
    pub async fn revoked_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM agents WHERE revoked_at IS NOT NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Number of enrolled, non-revoked agents.
    pub async fn enrolled_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE revoked_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Records the version an agent announced.
    pub async fn set_agent_version(&self, id: &str, version: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE agents SET agent_version = ? WHERE id = ?")
            .bind(version)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes a batch of last-seen instants in one transaction.
    pub async fn flush_last_seen(
        &self,
        rows: &[(String, UtcMillis, bool)],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (id, at, connected) in rows {
            sqlx::query(
                "INSERT INTO agent_last_seen (agent_id, last_seen_at, connected) VALUES (?, ?, ?) \
                 ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at), \
                 connected = excluded.connected",
            )
            .bind(id)
            .bind(at.0)
            .bind(*connected)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks every agent disconnected (at controller start: whatever was live is not).
    pub async fn mark_all_disconnected(&self) -> Result<(), StoreError> {
        sqlx::query("UPDATE agent_last_seen SET connected = 0")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Appends a health snapshot to the history.
    pub async fn insert_health(
        &self,
        agent_id: &str,
        h: &HealthSnapshot,
        received_at: UtcMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO health_snapshots (agent_id, at, received_at, cpu_percent, load_1, memory_used_bytes, \
             memory_total_bytes, swap_used_bytes, swap_total_bytes, uptime_secs, disks_json, temperatures_json, \
             os, kernel, agent_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(agent_id)
        .bind(h.at.0)
        .bind(received_at.0)
        .bind(f64::from(h.cpu_percent))
        .bind(h.load_average[0])
        .bind(i64_of(h.memory_used_bytes))
        .bind(i64_of(h.memory_total_bytes))
        .bind(i64_of(h.swap_used_bytes))
        .bind(i64_of(h.swap_total_bytes))
        .bind(i64_of(h.uptime_secs))
        .bind(serde_json::to_string(&h.disks).unwrap_or_default())
        .bind(serde_json::to_string(&h.temperatures).unwrap_or_default())
        .bind(&h.os)
        .bind(&h.kernel)
        .bind(&h.agent_version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Number of health snapshots stored for an agent.
    pub async fn health_count(&self, agent_id: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM health_snapshots WHERE agent_id = ?")
                .bind(agent_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Replaces an agent's inventory.
    pub async fn upsert_inventory(
        &self,
        agent_id: &str,
        inv: &Inventory,
        received_at: UtcMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO inventories (agent_id, received_at, hostname, dmi_serial, asset_tag, funding_line, body_json) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET received_at = excluded.received_at, \
             hostname = excluded.hostname, dmi_serial = excluded.dmi_serial, asset_tag = excluded.asset_tag, \
             funding_line = excluded.funding_line, body_json = excluded.body_json",
        )
        .bind(agent_id)
        .bind(received_at.0)
        .bind(&inv.hostname)
        .bind(&inv.dmi_serial)
        .bind(&inv.asset_tag)
        .bind(&inv.funding_line)
        .bind(serde_json::to_string(inv).unwrap_or_default())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest inventory of an agent.
    pub async fn inventory(&self, agent_id: &str) -> Result<Option<Inventory>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body_json FROM inventories WHERE agent_id = ?")
                .bind(agent_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// Stores events idempotently and returns the highest contiguous sequence number now
    /// committed for the agent. Duplicates (a resend after a lost ack) change nothing.
    pub async fn ingest_events(
        &self,
        agent_id: &str,
        events: &[EventEnvelope],
        received_at: UtcMillis,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        for e in events {
            let kind = event_kind(&e.event);
            sqlx::query(
                "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (agent_id, seq) DO NOTHING",
            )
            .bind(agent_id)
            .bind(i64_of(e.seq))
            .bind(e.at.0)
            .bind(received_at.0)
            .bind(kind)
            .bind(serde_json::to_string(&e.event).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        let mut acked: i64 =
            sqlx::query_scalar("SELECT acked_seq FROM agent_acks WHERE agent_id = ?")
                .bind(agent_id)
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0);
        // Advance over the contiguous run that is now present.
        let next: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq",
        )
        .bind(agent_id)
        .bind(acked)
        .fetch_all(&mut *tx)
        .await?;
        for seq in next {
            if seq == acked + 1 {
                acked = seq;
            } else {
                break;
            }
        }
        sqlx::query(
            "INSERT INTO agent_acks (agent_id, acked_seq) VALUES (?, ?) \
             ON CONFLICT (agent_id) DO UPDATE SET acked_seq = excluded.acked_seq",
        )
        .bind(agent_id)
        .bind(acked)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(u64::try_from(acked).unwrap_or(0))
    }

    /// Highest contiguous event sequence number committed for an agent.
    pub async fn acked_seq(&self, agent_id: &str) -> Result<u64, StoreError> {
        let acked: Option<i64> =
            sqlx::query_scalar("SELECT acked_seq FROM agent_acks WHERE agent_id = ?")
                .bind(agent_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(acked.and_then(|a| u64::try_from(a).ok()).unwrap_or(0))
    }

    /// The fleet overview: every agent with last-seen and latest health.
    pub async fn overview(&self) -> Result<Vec<AgentOverview>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.site_id, a.hostname, a.cert_serial, a.cert_not_after, a.enrolled_at, a.revoked_at, \
                    a.agent_version, ls.last_seen_at, \
                    h.at, h.cpu_percent, h.memory_used_bytes, h.memory_total_bytes, h.uptime_secs, h.os, i.asset_tag \
             FROM agents a \
             LEFT JOIN agent_last_seen ls ON ls.agent_id = a.id \
             LEFT JOIN health_snapshots h ON h.rowid = ( \
                 SELECT rowid FROM health_snapshots WHERE agent_id = a.id ORDER BY at DESC LIMIT 1) \
             LEFT JOIN inventories i ON i.agent_id = a.id \
             ORDER BY a.site_id, a.hostname, a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AgentOverview {
                agent: agent_from_row(r, 0),
                last_seen_at: r.get::<Option<i64>, _>(8).map(UtcMillis),
                health: r.get::<Option<i64>, _>(9).map(|at| HealthSummary {
                    at: UtcMillis(at),
                    cpu_percent: r.get(10),
                    memory_used_bytes: r.get(11),
                    memory_total_bytes: r.get(12),
                    uptime_secs: r.get(13),
                    os: r.get(14),
                }),
                asset_tag: r.get(15),
            })
            .collect())
    }
}

fn agent_from_row(r: &sqlx::sqlite::SqliteRow, base: usize) -> AgentRecord {
    AgentRecord {
        id: r.get(base),
        site_id: r.get(base + 1),
        hostname: r.get(base + 2),
        cert_serial: r.get(base + 3),
        cert_not_after: UtcMillis(r.get(base + 4)),
        enrolled_at: UtcMillis(r.get(base + 5)),
        revoked_at: r.get::<Option<i64>, _>(base + 6).map(UtcMillis),
        agent_version: r.get(base + 7),
    }
}

fn event_kind(e: &commune_protocol::messages::AgentEvent) -> &'static str {
    use commune_protocol::messages::AgentEvent as E;
    match e {
        E::SessionStarted(_) => "session_started",
        E::SessionEnded(_) => "session_ended",
        E::WipeReport(_) => "wipe_report",
        E::WarningShown(_) => "warning_shown",
        E::TicketUsed(_) => "ticket_used",
        E::CommandResult(_) => "command_result",
        E::Alert(_) => "alert",
        E::Unknown => "unknown",
    }
}

/// Enrollment failed in the store or in signing.
#[derive(Debug, thiserror::Error)]
pub enum EnrollStoreError<E> {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error("certificate issue failed: {0}")]
    Issue(E),
}
