//! Free-access tickets (hashes only) and their use.

use commune_protocol::messages::TicketHash;
use commune_protocol::UtcMillis;
use sqlx::Row;

use super::{with_pool, BeginWrite, Store};
use crate::error::StoreError;

/// One ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// Hex SHA-256 of the code.
    pub hash: String,
    /// Site.
    pub site_id: String,
    /// Session length it grants.
    pub minutes: u32,
    /// Last instant it may be used.
    pub valid_until: UtcMillis,
    /// First use the controller heard of.
    pub used_at: Option<UtcMillis>,
    /// The seat that used it first.
    pub used_by: Option<String>,
    /// Whether another session used it too (offline double use).
    pub double_use: bool,
}

/// The PostgreSQL channel on which a site whose tickets changed (a batch created, a first
/// use) is announced to every controller.
pub const TICKET_CHANNEL: &str = "commune_tickets";

impl Store {
    /// Announces that a site's tickets changed to every controller sharing the store
    /// (PostgreSQL only; with SQLite there is a single controller).
    pub async fn notify_tickets(&self, site_id: &str) -> Result<(), StoreError> {
        if let Some(pool) = self.pg_pool() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(TICKET_CHANNEL)
                .bind(site_id)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Stores a batch of new tickets' hashes.
    pub async fn create_tickets(
        &self,
        site_id: &str,
        hashes: &[String],
        minutes: u32,
        valid_until: UtcMillis,
        now: UtcMillis,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for hash in hashes {
                sqlx::query(
                    "INSERT INTO tickets (hash, site_id, minutes, valid_until, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(hash)
                .bind(site_id)
                .bind(i64::from(minutes))
                .bind(valid_until.0)
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The site's tickets for its seats, used or not, including those expired within the
    /// last 24 hours (so the visitor is told "expired", not "unknown"; they are deleted
    /// after that).
    pub async fn site_tickets(
        &self,
        site_id: &str,
        now: UtcMillis,
    ) -> Result<Vec<TicketHash>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT hash, minutes, valid_until, used_at FROM tickets \
                 WHERE site_id = $1 AND valid_until > $2 ORDER BY hash",
            )
            .bind(site_id)
            .bind(now.0 - 86_400_000)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| TicketHash {
                    hash: r.get(0),
                    minutes: u32::try_from(r.get::<i64, _>(1)).unwrap_or(0),
                    valid_until: UtcMillis(r.get(2)),
                    used: r.get::<Option<i64>, _>(3).is_some(),
                })
                .collect())
        })
    }

    /// Per site, a fingerprint of its tickets (how many, the newest, how many used): the
    /// controller polls it to push tickets created or spent by another process.
    pub async fn ticket_fingerprints(&self) -> Result<Vec<(String, String)>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT site_id, COUNT(*), MAX(created_at), COUNT(used_at) FROM tickets \
                 GROUP BY site_id",
            )
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    (
                        r.get(0),
                        format!(
                            "{}/{}/{}",
                            r.get::<i64, _>(1),
                            r.get::<Option<i64>, _>(2).unwrap_or(0),
                            r.get::<i64, _>(3)
                        ),
                    )
                })
                .collect())
        })
    }

    /// One ticket by hash.
    pub async fn ticket(&self, hash: &str) -> Result<Option<TicketRecord>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT hash, site_id, minutes, valid_until, used_at, used_by, double_use \
                 FROM tickets WHERE hash = $1",
            )
            .bind(hash)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| TicketRecord {
                hash: r.get(0),
                site_id: r.get(1),
                minutes: u32::try_from(r.get::<i64, _>(2)).unwrap_or(0),
                valid_until: UtcMillis(r.get(3)),
                used_at: r.get::<Option<i64>, _>(4).map(UtcMillis),
                used_by: r.get(5),
                double_use: r.get::<i32, _>(6) != 0,
            }))
        })
    }
}
