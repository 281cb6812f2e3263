//! Sites' time-slot models, stored as validated JSON with a version that grows with every
//! change (agents keep the newest schedule they receive).

use commune_protocol::UtcMillis;
use sqlx::Row;

use super::{with_pool, Store};
use crate::error::StoreError;

/// The PostgreSQL channel on which a changed site is announced to every controller.
pub const SCHEDULE_CHANNEL: &str = "commune_schedules";

impl Store {
    /// A site's stored model and its version.
    pub async fn site_schedule(&self, site_id: &str) -> Result<Option<(u64, String)>, StoreError> {
        with_pool!(self, |pool| {
            let row =
                sqlx::query("SELECT version, body_json FROM site_schedules WHERE site_id = $1")
                    .bind(site_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(row.map(|r| (u64::try_from(r.get::<i64, _>(0)).unwrap_or(0), r.get(1))))
        })
    }

    /// Replaces a site's model; returns the new version. On PostgreSQL the change is then
    /// announced on [`SCHEDULE_CHANNEL`] to every controller.
    pub async fn put_site_schedule(
        &self,
        site_id: &str,
        body_json: &str,
        now: UtcMillis,
    ) -> Result<u64, StoreError> {
        let version: i64 = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO site_schedules (site_id, version, body_json, updated_at) \
                 VALUES ($1, 1, $2, $3) \
                 ON CONFLICT (site_id) DO UPDATE SET version = site_schedules.version + 1, \
                 body_json = excluded.body_json, updated_at = excluded.updated_at \
                 RETURNING version",
            )
            .bind(site_id)
            .bind(body_json)
            .bind(now.0)
            .fetch_one(pool)
            .await?
        });
        if let Some(pool) = self.pg_pool() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(SCHEDULE_CHANNEL)
                .bind(site_id)
                .execute(pool)
                .await?;
        }
        Ok(u64::try_from(version).unwrap_or(0))
    }

    /// Every site's schedule version (the controller polls it to notice changes made by
    /// another process on SQLite).
    pub async fn schedule_versions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT site_id, version FROM site_schedules")
                .fetch_all(pool)
                .await?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get(0), u64::try_from(r.get::<i64, _>(1)).unwrap_or(0)))
                .collect())
        })
    }

    /// Ids of a site's enrolled, unrevoked agents (its seats).
    pub async fn site_seats(&self, site_id: &str) -> Result<Vec<String>, StoreError> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT id FROM agents WHERE site_id = $1 AND revoked_at IS NULL ORDER BY id",
            )
            .bind(site_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
