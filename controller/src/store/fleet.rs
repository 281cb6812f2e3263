//! Sites, enrollment tokens, agents, last-seen, health and inventory.

use commune_protocol::health::{HealthSnapshot, Inventory};
use commune_protocol::UtcMillis;
use sqlx::Row;
use std::collections::HashMap;

use super::{with_pool, BeginWrite, Store};
use crate::error::StoreError;

/// Why the store refused an enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No token with this hash.
    Unknown,
    /// Used before, at this instant.
    Used {
        /// When.
        at: UtcMillis,
    },
    /// Expired at this instant.
    Expired {
        /// When.
        at: UtcMillis,
    },
    /// A computer enrolling again named a previous identity that is not (or no longer) an
    /// enrolled, unrevoked agent with that certificate. The token stays unused.
    NotPrevious,
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
    /// The seat's last reported state (`ready`, `in_session`, `closed`…).
    pub seat_state: Option<String>,
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

/// Rows of a last-seen flush written per transaction.
const LAST_SEEN_ROWS_PER_TRANSACTION: usize = 256;

/// One row of a last-seen flush.
#[derive(Debug, Clone, PartialEq)]
pub struct LastSeen {
    /// The agent.
    pub agent_id: String,
    /// When it was last heard from.
    pub at: UtcMillis,
    /// Whether it is connected now.
    pub connected: bool,
    /// Its seat state, if it reported one since the last flush.
    pub seat_state: Option<String>,
}

/// A site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRecord {
    /// Stable id (`mdh-abbaye`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
}

fn agent_from_row<R: Row>(r: &R) -> AgentRecord
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    String: for<'d> sqlx::Decode<'d, R::Database> + sqlx::Type<R::Database>,
    i64: for<'d> sqlx::Decode<'d, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'d> sqlx::Decode<'d, R::Database> + sqlx::Type<R::Database>,
{
    AgentRecord {
        id: r.get(0),
        site_id: r.get(1),
        hostname: r.get(2),
        cert_serial: r.get(3),
        cert_not_after: UtcMillis(r.get(4)),
        enrolled_at: UtcMillis(r.get(5)),
        revoked_at: r.get::<Option<i64>, _>(6).map(UtcMillis),
        agent_version: r.get(7),
    }
}

impl Store {
    /// Adds a site.
    pub async fn add_site(&self, id: &str, name: &str, now: UtcMillis) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO sites (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(name)
                .bind(now.0)
                .execute(pool)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::SiteExists(id.to_string())
                    }
                    e => StoreError::Db(e),
                })?;
        });
        Ok(())
    }

    /// An agent's health since `since`, oldest first: `(at, cpu %, memory used %)`, at
    /// most `limit` points (the newest).
    pub async fn health_history(
        &self,
        agent_id: &str,
        since: UtcMillis,
        limit: i64,
    ) -> Result<Vec<(UtcMillis, f64, f64)>, StoreError> {
        let rows: Vec<(i64, f64, i64, i64)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT at, cpu_percent, memory_used_bytes, memory_total_bytes FROM health_snapshots \
                 WHERE agent_id = $1 AND at >= $2 ORDER BY at DESC LIMIT $3")
            .bind(agent_id)
            .bind(since.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut points: Vec<(UtcMillis, f64, f64)> = rows
            .into_iter()
            .map(|(at, cpu, used, total)| {
                let mem = if total > 0 {
                    100.0 * used as f64 / total as f64
                } else {
                    0.0
                };
                (UtcMillis(at), cpu, mem)
            })
            .collect();
        points.reverse();
        Ok(points)
    }

    /// Each agent's disks (JSON of a `DiskUsage` list) from its latest health snapshot
    /// since `since`, in one query (the fleet page asks for every seat at once).
    pub async fn latest_disks_since(
        &self,
        since: UtcMillis,
    ) -> Result<HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT h.agent_id, h.disks_json FROM health_snapshots h \
                 JOIN (SELECT agent_id, MAX(id) AS id FROM health_snapshots WHERE at >= $1 \
                       GROUP BY agent_id) last ON last.id = h.id",
            )
            .bind(since.0)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// How many health snapshots an agent sent in `[from, to)` (each one says it was up).
    pub async fn health_count_between(
        &self,
        agent_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<i64, StoreError> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM health_snapshots WHERE agent_id = $1 AND at >= $2 AND at < $3")
            .bind(agent_id)
            .bind(from.0)
            .bind(to.0)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The hours (`at / 3600000`) in `[from, to)` during which an agent sent at least one
    /// health snapshot, ascending.
    pub async fn health_hours_between(
        &self,
        agent_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT at / 3600000 AS hour FROM health_snapshots \
                 WHERE agent_id = $1 AND at >= $2 AND at < $3 ORDER BY hour",
            )
            .bind(agent_id)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(pool)
            .await?)
        })
    }

    /// A site's public description (JSON), if set.
    pub async fn site_details(&self, id: &str) -> Result<Option<String>, StoreError> {
        with_pool!(self, |pool| {
            let row: Option<Option<String>> =
                sqlx::query_scalar("SELECT details_json FROM sites WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
            Ok(row.flatten())
        })
    }

    /// Stores a site's public description (JSON).
    pub async fn set_site_details(&self, id: &str, json: &str) -> Result<(), StoreError> {
        let updated = with_pool!(self, |pool| {
            sqlx::query("UPDATE sites SET details_json = $1 WHERE id = $2")
                .bind(json)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::UnknownSite(id.to_string()));
        }
        Ok(())
    }

    /// All sites.
    pub async fn sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT id, name, time_zone FROM sites ORDER BY id")
                .fetch_all(pool)
                .await?;
            Ok(rows
                .into_iter()
                .map(|r| SiteRecord {
                    id: r.get(0),
                    name: r.get(1),
                    time_zone: r.get(2),
                })
                .collect())
        })
    }

    /// Stores a new enrollment token's hash.
    pub async fn create_token(
        &self,
        hash: &[u8; 32],
        site_id: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let site: Option<String> = sqlx::query_scalar("SELECT id FROM sites WHERE id = $1")
                .bind(site_id)
                .fetch_optional(pool)
                .await?;
            if site.is_none() {
                return Err(StoreError::UnknownSite(site_id.to_string()));
            }
            sqlx::query("INSERT INTO enrollment_tokens (hash, site_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&hash[..])
            .bind(site_id)
            .bind(now.0)
            .bind(expires_at.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Consumes a token and registers the agent in one transaction. `issue` signs the
    /// certificate for the token's site; if it fails, or the commit fails, the token stays
    /// unused and no certificate is handed out.
    #[allow(clippy::too_many_arguments)]
    pub async fn enroll<T, E>(
        &self,
        hash: &[u8; 32],
        now: UtcMillis,
        agent_id: &str,
        hostname: &str,
        agent_version: &str,
        issue: impl FnOnce(&str) -> Result<(T, String, UtcMillis), E>,
    ) -> Result<Result<(T, String), TokenRefusal>, EnrollStoreError<E>> {
        self.enroll_as(hash, now, agent_id, None, hostname, agent_version, issue)
            .await
    }

    /// Enrollment of a computer that held `agent_id` with the certificate `previous_serial`
    /// (expired while it was offline): the token is spent as for a new computer, but the
    /// agent keeps its id (its history, and the events it has not sent yet), takes the
    /// token's site and the new certificate. Refused ([`TokenRefusal::NotPrevious`], token
    /// unused) unless that agent is enrolled, not revoked, and that serial is its current
    /// or renewed certificate.
    #[allow(clippy::too_many_arguments)]
    pub async fn reenroll<T, E>(
        &self,
        hash: &[u8; 32],
        now: UtcMillis,
        agent_id: &str,
        previous_serial: &str,
        hostname: &str,
        agent_version: &str,
        issue: impl FnOnce(&str) -> Result<(T, String, UtcMillis), E>,
    ) -> Result<Result<(T, String), TokenRefusal>, EnrollStoreError<E>> {
        self.enroll_as(
            hash,
            now,
            agent_id,
            Some(previous_serial),
            hostname,
            agent_version,
            issue,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn enroll_as<T, E>(
        &self,
        hash: &[u8; 32],
        now: UtcMillis,
        agent_id: &str,
        previous_serial: Option<&str>,
        hostname: &str,
        agent_version: &str,
        issue: impl FnOnce(&str) -> Result<(T, String, UtcMillis), E>,
    ) -> Result<Result<(T, String), TokenRefusal>, EnrollStoreError<E>> {
        with_pool!(self, |pool| {
            // A read first: a bogus or spent token never opens a write transaction (on SQLite
            // that would queue behind every other writer).
            let known =
                sqlx::query("SELECT used_at, expires_at FROM enrollment_tokens WHERE hash = $1")
                    .bind(&hash[..])
                    .fetch_optional(pool)
                    .await
                    .map_err(StoreError::from)?;
            match known {
                None => return Ok(Err(TokenRefusal::Unknown)),
                Some(r) => {
                    if let Some(at) = r.get::<Option<i64>, _>(0) {
                        return Ok(Err(TokenRefusal::Used { at: UtcMillis(at) }));
                    }
                    let expires: i64 = r.get(1);
                    if expires <= now.0 {
                        return Ok(Err(TokenRefusal::Expired {
                            at: UtcMillis(expires),
                        }));
                    }
                }
            }
            let mut tx = pool.begin_write().await.map_err(StoreError::from)?;
            // The conditional UPDATE takes the row (PostgreSQL) or the database (SQLite)
            // for writing: two computers racing with one token cannot both succeed.
            let claimed = sqlx::query(
                "UPDATE enrollment_tokens SET used_at = $1, used_by = $2 \
                 WHERE hash = $3 AND used_at IS NULL AND expires_at > $4 RETURNING site_id",
            )
            .bind(now.0)
            .bind(agent_id)
            .bind(&hash[..])
            .bind(now.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let Some(row) = claimed else {
                let row = sqlx::query(
                    "SELECT used_at, expires_at FROM enrollment_tokens WHERE hash = $1",
                )
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
            if let Some(previous) = previous_serial {
                let updated = sqlx::query(
                    "UPDATE agents SET site_id = $1, hostname = $2, cert_serial = $3, \
                     cert_not_after = $4, agent_version = $5, next_cert_serial = NULL, \
                     next_cert_not_after = NULL, renewed_at = $6 \
                     WHERE id = $7 AND revoked_at IS NULL \
                     AND (cert_serial = $8 OR next_cert_serial = $8)",
                )
                .bind(&site_id)
                .bind(hostname)
                .bind(&serial)
                .bind(not_after.0)
                .bind(agent_version)
                .bind(now.0)
                .bind(agent_id)
                .bind(previous)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?
                .rows_affected();
                if updated == 0 {
                    tx.rollback().await.map_err(StoreError::from)?;
                    return Ok(Err(TokenRefusal::NotPrevious));
                }
                tx.commit().await.map_err(StoreError::from)?;
                return Ok(Ok((issued, site_id)));
            }
            sqlx::query("INSERT INTO agents (id, site_id, hostname, cert_serial, cert_not_after, enrolled_at, agent_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
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
        })
    }

    /// One agent.
    pub async fn agent(&self, id: &str) -> Result<Option<AgentRecord>, StoreError> {
        Ok(self.agent_for_link(id).await?.map(|(record, _)| record))
    }

    /// An agent's record and the highest event seq acknowledged to it, in one read: what a
    /// connecting seat needs before its `Welcome`.
    pub async fn agent_for_link(&self, id: &str) -> Result<Option<(AgentRecord, u64)>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query("SELECT a.id, a.site_id, a.hostname, a.cert_serial, a.cert_not_after, a.enrolled_at, \
                 a.revoked_at, a.agent_version, k.acked_seq FROM agents a \
                 LEFT JOIN agent_acks k ON k.agent_id = a.id WHERE a.id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| {
                let acked: Option<i64> = r.get(8);
                (
                    agent_from_row(&r),
                    acked.and_then(|a| u64::try_from(a).ok()).unwrap_or(0),
                )
            }))
        })
    }

    /// Records the certificate just signed for an agent's renewal; its current one keeps
    /// working until the agent connects with the new one ([`Store::promote_certificate`]).
    /// A second renewal before that replaces the first.
    pub async fn set_next_certificate(
        &self,
        agent_id: &str,
        serial: &str,
        not_after: UtcMillis,
        now: UtcMillis,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE agents SET next_cert_serial = $1, next_cert_not_after = $2, renewed_at = $3 \
                 WHERE id = $4 AND revoked_at IS NULL",
            )
            .bind(serial)
            .bind(not_after.0)
            .bind(now.0)
            .bind(agent_id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// The agent connected with its renewed certificate `serial`: it becomes the current
    /// one, and the previous one is refused from now on. False when `serial` is not the
    /// agent's renewed certificate (or the agent is revoked).
    pub async fn promote_certificate(
        &self,
        agent_id: &str,
        serial: &str,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE agents SET cert_serial = next_cert_serial, cert_not_after = next_cert_not_after, \
                 next_cert_serial = NULL, next_cert_not_after = NULL \
                 WHERE id = $1 AND next_cert_serial = $2 AND revoked_at IS NULL",
            )
            .bind(agent_id)
            .bind(serial)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Marks an agent revoked. Returns false if it did not exist.
    pub async fn revoke(&self, id: &str, now: UtcMillis) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
            )
            .bind(now.0)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Ids of every revoked agent.
    pub async fn revoked_ids(&self) -> Result<Vec<String>, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT id FROM agents WHERE revoked_at IS NOT NULL")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// The enrolled, non-revoked agents and their sites: `(agent id, site id)`.
    pub async fn enrolled_sites(&self) -> Result<Vec<(String, String)>, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT id, site_id FROM agents WHERE revoked_at IS NULL")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// Number of enrolled, non-revoked agents.
    pub async fn enrolled_count(&self) -> Result<i64, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE revoked_at IS NULL")
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// Records the version an agent announced (cut to 256 bytes, without control
    /// characters: it comes from the seat).
    pub async fn set_agent_version(&self, id: &str, version: &str) -> Result<(), StoreError> {
        let version = crate::ingest::bounds::version(version);
        with_pool!(self, |pool| {
            sqlx::query("UPDATE agents SET agent_version = $1 WHERE id = $2")
                .bind(&version)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Writes a batch of last-seen instants (and seat states, when reported).
    pub async fn flush_last_seen(&self, rows: &[LastSeen]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // In transactions of a few hundred rows: other writers (a staff command's delivery,
        // ingest) wait for one of them, not for all.
        for chunk in rows.chunks(LAST_SEEN_ROWS_PER_TRANSACTION) {
            self.flush_last_seen_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn flush_last_seen_chunk(&self, rows: &[LastSeen]) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for row in rows {
                sqlx::query("INSERT INTO agent_last_seen (agent_id, last_seen_at, connected, seat_state) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (agent_id) DO UPDATE SET \
                     last_seen_at = CASE WHEN excluded.last_seen_at > agent_last_seen.last_seen_at \
                                    THEN excluded.last_seen_at ELSE agent_last_seen.last_seen_at END, \
                     connected = excluded.connected, \
                     seat_state = COALESCE(excluded.seat_state, agent_last_seen.seat_state)")
                .bind(&row.agent_id)
                .bind(row.at.0)
                .bind(row.connected)
                .bind(&row.seat_state)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Marks every agent disconnected (at the start of a single controller).
    pub async fn mark_all_disconnected(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE agent_last_seen SET connected = $1")
                .bind(false)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Appends a health snapshot to the history (the ingestor commits them in batches).
    pub async fn insert_health(
        &self,
        agent_id: &str,
        h: &HealthSnapshot,
        received_at: UtcMillis,
    ) -> Result<(), StoreError> {
        self.ingest_work(&[], &[(agent_id.to_string(), h.clone())], &[], received_at)
            .await
            .map(drop)
    }

    /// Number of health snapshots stored for an agent.
    pub async fn health_count(&self, agent_id: &str) -> Result<i64, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM health_snapshots WHERE agent_id = $1")
                    .bind(agent_id)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// Replaces an agent's inventory (the ingestor commits them in batches).
    pub async fn upsert_inventory(
        &self,
        agent_id: &str,
        inv: &Inventory,
        received_at: UtcMillis,
    ) -> Result<(), StoreError> {
        self.ingest_work(
            &[],
            &[],
            &[(agent_id.to_string(), inv.clone())],
            received_at,
        )
        .await
        .map(drop)
    }

    /// The latest inventory of an agent.
    pub async fn inventory(&self, agent_id: &str) -> Result<Option<Inventory>, StoreError> {
        with_pool!(self, |pool| {
            let body: Option<String> =
                sqlx::query_scalar("SELECT body_json FROM inventories WHERE agent_id = $1")
                    .bind(agent_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
        })
    }

    /// The fleet overview: every agent with last-seen and latest health.
    pub async fn overview(&self) -> Result<Vec<AgentOverview>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT a.id, a.site_id, a.hostname, a.cert_serial, a.cert_not_after, a.enrolled_at, a.revoked_at, \
                        a.agent_version, ls.last_seen_at, \
                        h.at, h.cpu_percent, h.memory_used_bytes, h.memory_total_bytes, h.uptime_secs, h.os, i.asset_tag, \
                        ls.seat_state \
                 FROM agents a \
                 LEFT JOIN agent_last_seen ls ON ls.agent_id = a.id \
                 LEFT JOIN health_snapshots h ON h.id = ( \
                     SELECT MAX(id) FROM health_snapshots WHERE agent_id = a.id) \
                 LEFT JOIN inventories i ON i.agent_id = a.id \
                 ORDER BY a.site_id, a.hostname, a.id")
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| AgentOverview {
                    agent: agent_from_row(r),
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
                    seat_state: r.get(16),
                })
                .collect())
        })
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
