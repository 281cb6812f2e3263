//! Calls for a mediator: a row per call while it is open or taken (the seat, a need from a
//! closed list, its times: no session link, no visitor data), and anonymous counts per
//! site, local day and hour, and need, which are all the reports read. A call is counted
//! once, when its row is first written: the same event delivered again counts nothing.

use commune_protocol::UtcMillis;
use sqlx::Row;

use super::{with_pool, BeginWrite, Store};
use crate::error::StoreError;

/// A call not ended yet, as the seat map shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpCallRecord {
    /// The seat.
    pub agent_id: String,
    /// The call's random id.
    pub call_id: String,
    /// The seat's site.
    pub site_id: String,
    /// The need's stable name (`printing`, `account`, `form`, `other`).
    pub need: String,
    /// When the visitor called (the seat's clock, clamped at ingest).
    pub called_at: UtcMillis,
    /// When a staff member took it.
    pub taken_at: Option<UtcMillis>,
}

/// The calls of a site in one local hour for one need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpCount {
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    /// Local hour, 0 to 23.
    pub hour: u8,
    /// The need's stable name.
    pub need: String,
    /// Calls.
    pub calls: u64,
}

/// Local date and hour of `at` in `time_zone`.
fn local_day_hour(at: UtcMillis, time_zone: &str) -> (String, i64) {
    let tz = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(at.0) {
        Ok(ts) => {
            let z = ts.to_zoned(tz);
            (z.date().to_string(), i64::from(z.hour()))
        }
        Err(_) => ("0000-00-00".into(), 0),
    }
}

impl Store {
    /// Stores a seat's call and counts it, once; true when it was new.
    pub async fn help_called(
        &self,
        agent_id: &str,
        call_id: &str,
        need: &str,
        at: UtcMillis,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(site) = sqlx::query(
                "SELECT a.site_id, COALESCE(s.time_zone, 'Europe/Paris') FROM agents a \
                 LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = $1",
            )
            .bind(agent_id)
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(false);
            };
            let site_id: String = site.get(0);
            let zone: String = site.get(1);
            let new = sqlx::query(
                "INSERT INTO help_calls (agent_id, call_id, site_id, need, called_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id, call_id) DO NOTHING",
            )
            .bind(agent_id)
            .bind(call_id)
            .bind(&site_id)
            .bind(need)
            .bind(at.0)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if new {
                let (day, hour) = local_day_hour(at, &zone);
                sqlx::query(
                    "INSERT INTO help_call_counts (site_id, day, hour, need, calls) \
                     VALUES ($1, $2, $3, $4, 1) ON CONFLICT (site_id, day, hour, need) \
                     DO UPDATE SET calls = help_call_counts.calls + 1",
                )
                .bind(&site_id)
                .bind(day)
                .bind(hour)
                .bind(need)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(new)
        })
    }

    /// Ends the seat's call `call_id` (cancelled), or every call of the seat not ended yet
    /// (its session started or ended). Returns how many ended.
    pub async fn help_ended(
        &self,
        agent_id: &str,
        call_id: Option<&str>,
        at: UtcMillis,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let done = match call_id {
                Some(id) => {
                    sqlx::query(
                        "UPDATE help_calls SET ended_at = $1 \
                     WHERE agent_id = $2 AND call_id = $3 AND ended_at IS NULL",
                    )
                    .bind(at.0)
                    .bind(agent_id)
                    .bind(id)
                    .execute(pool)
                    .await?
                }
                None => sqlx::query(
                    "UPDATE help_calls SET ended_at = $1 WHERE agent_id = $2 AND ended_at IS NULL",
                )
                .bind(at.0)
                .bind(agent_id)
                .execute(pool)
                .await?,
            };
            Ok(done.rows_affected())
        })
    }

    /// A staff member takes an open call: true when it was open and nobody had taken it.
    pub async fn help_taken(
        &self,
        agent_id: &str,
        call_id: &str,
        by: &str,
        at: UtcMillis,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool| {
            Ok(sqlx::query(
                "UPDATE help_calls SET taken_at = $1, taken_by = $2 \
                 WHERE agent_id = $3 AND call_id = $4 AND taken_at IS NULL AND ended_at IS NULL",
            )
            .bind(at.0)
            .bind(by)
            .bind(agent_id)
            .bind(call_id)
            .execute(pool)
            .await?
            .rows_affected()
                > 0)
        })
    }

    /// Calls not ended yet, of one seat or of all.
    pub async fn unended_help_calls(
        &self,
        agent_id: Option<&str>,
    ) -> Result<Vec<HelpCallRecord>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT agent_id, call_id, site_id, need, called_at, taken_at FROM help_calls \
                 WHERE ended_at IS NULL AND ($1 IS NULL OR agent_id = $1) ORDER BY called_at",
            )
            .bind(agent_id)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| HelpCallRecord {
                    agent_id: r.get(0),
                    call_id: r.get(1),
                    site_id: r.get(2),
                    need: r.get(3),
                    called_at: UtcMillis(r.get(4)),
                    taken_at: r.get::<Option<i64>, _>(5).map(UtcMillis),
                })
                .collect())
        })
    }

    /// A site's call counts for the local days `[from_day, to_day]` (`YYYY-MM-DD`).
    pub async fn help_counts(
        &self,
        site_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<HelpCount>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT day, hour, need, calls FROM help_call_counts \
                 WHERE site_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, hour, need",
            )
            .bind(site_id)
            .bind(from_day)
            .bind(to_day)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| HelpCount {
                    day: r.get(0),
                    hour: u8::try_from(r.get::<i64, _>(1).clamp(0, 23)).unwrap_or(0),
                    need: r.get(2),
                    calls: u64::try_from(r.get::<i64, _>(3)).unwrap_or(0),
                })
                .collect())
        })
    }
}
