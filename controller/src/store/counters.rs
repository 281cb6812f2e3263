//! Permanence counters: people received and procedure categories, counts only.

use commune_protocol::UtcMillis;
use sqlx::Row;

use super::{with_pool, Store};
use crate::error::StoreError;

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterRecord {
    /// Site.
    pub site_id: String,
    /// Permanence id (or ad-hoc slot id).
    pub permanence: String,
    /// Local day, `YYYY-MM-DD`.
    pub day: String,
    /// Start of that day (UTC), for period queries.
    pub day_start: UtcMillis,
    /// People received.
    pub people: u32,
    /// `category=count` pairs, `;`-separated, categories from the national list.
    pub categories: String,
    /// Who recorded it.
    pub recorded_by: String,
}

impl Store {
    /// Adds a record.
    pub async fn add_counters(&self, r: &CounterRecord, now: UtcMillis) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO permanence_counters (site_id, permanence, day, day_start, people, \
                 categories, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&r.site_id)
            .bind(&r.permanence)
            .bind(&r.day)
            .bind(r.day_start.0)
            .bind(i64::from(r.people))
            .bind(&r.categories)
            .bind(&r.recorded_by)
            .bind(now.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A site's records for days starting in `[from, to)`.
    pub async fn counters(
        &self,
        site_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<Vec<CounterRecord>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT site_id, permanence, day, day_start, people, categories, recorded_by \
                 FROM permanence_counters WHERE site_id = $1 AND day_start >= $2 AND day_start < $3 \
                 ORDER BY day_start, id")
            .bind(site_id)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| CounterRecord {
                    site_id: r.get(0),
                    permanence: r.get(1),
                    day: r.get(2),
                    day_start: UtcMillis(r.get(3)),
                    people: u32::try_from(r.get::<i64, _>(4)).unwrap_or(0),
                    categories: r.get(5),
                    recorded_by: r.get(6),
                })
                .collect())
        })
    }
}
