//! Retention: the purge that applies DESIGN.md's table. Periods are configuration; `now` is
//! an argument, so the purge is tested by moving time, not by waiting.

use std::collections::HashMap;

use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::events::believable_secs;
use super::{with_pool, BeginWrite, Store};
use crate::error::StoreError;

/// How long each kind of data is kept. Names carry their unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Technical session log (sessions and raw events): CPCE R10-13 asks one year. Older
    /// sessions are reduced to anonymous daily aggregates per seat.
    pub session_log_days: u32,
    /// Detailed health snapshots: 13 months.
    pub health_days: u32,
    /// Anonymous daily aggregates per seat: as long as FEDER evidence is needed.
    pub aggregates_days: u32,
    /// Staff actions (commands and, later, the audit log): 12 months.
    pub audit_log_days: u32,
    /// Enrollment tokens and free-access tickets, counted from their expiry (24 h).
    pub token_grace_hours: u32,
    /// How often the purge runs.
    pub purge_interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            session_log_days: 365,
            health_days: 396,
            aggregates_days: 3650,
            audit_log_days: 365,
            token_grace_hours: 24,
            purge_interval_secs: 3600,
        }
    }
}

/// What one purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Sessions folded into daily aggregates and removed from the log.
    pub sessions_aggregated: u64,
    /// Raw events removed.
    pub events_deleted: u64,
    /// Health snapshots removed.
    pub health_deleted: u64,
    /// Daily aggregates removed.
    pub aggregates_deleted: u64,
    /// Commands removed.
    pub commands_deleted: u64,
    /// Enrollment tokens removed.
    pub tokens_deleted: u64,
    /// Free-access tickets removed (24 h after they expired).
    pub tickets_deleted: u64,
    /// Audit log lines removed (after 12 months).
    pub audit_deleted: u64,
}

/// One seat-day of anonymous aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatDay {
    /// Seat.
    pub agent_id: String,
    /// Local date, `YYYY-MM-DD`, in the site's time zone.
    pub day: String,
    /// Sessions started that day.
    pub sessions: i64,
    /// Of which supervised.
    pub supervised_sessions: i64,
    /// Seconds of use.
    pub session_seconds: i64,
}

fn days(n: u32) -> i64 {
    i64::from(n) * 86_400
}

/// The local date of an instant in a time zone (falls back to UTC on an unknown zone).
pub fn local_day(at: UtcMillis, time_zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(at.0) {
        Ok(ts) => ts.to_zoned(tz).date().to_string(),
        Err(_) => "0000-00-00".into(),
    }
}

impl Store {
    /// Applies the retention periods as of `now`.
    pub async fn purge(
        &self,
        config: &RetentionConfig,
        now: UtcMillis,
    ) -> Result<PurgeReport, StoreError> {
        let log_cutoff = now.plus_secs(-days(config.session_log_days));
        let mut report = PurgeReport::default();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // A row goes when either its seat's time or its receive time is past the period:
            // a seat's clock (wrong, or lying) cannot keep its rows for ever.
            let rows = sqlx::query("SELECT s.agent_id, s.site_id, s.slot_kind, s.started_at, s.duration_secs, \
                 COALESCE(t.time_zone, 'Europe/Paris') FROM sessions s LEFT JOIN sites t ON t.id = s.site_id \
                 WHERE s.started_at < $1 OR s.received_at < $2")
            .bind(log_cutoff.0)
            .bind(log_cutoff.0)
            .fetch_all(&mut *tx)
            .await?;
            let mut days_seen: HashMap<(String, String), (String, i64, i64, i64)> = HashMap::new();
            for r in &rows {
                let agent: String = r.get(0);
                let site: String = r.get(1);
                let kind: String = r.get(2);
                let day = local_day(UtcMillis(r.get(3)), r.get::<&str, _>(5));
                let seconds = believable_secs(r.get::<Option<i64>, _>(4).unwrap_or(0));
                let entry = days_seen.entry((agent, day)).or_insert((site, 0, 0, 0));
                entry.1 = entry.1.saturating_add(1);
                entry.2 = entry.2.saturating_add(i64::from(kind == "supervised"));
                entry.3 = entry.3.saturating_add(seconds);
            }
            for ((agent, day), (site, sessions, supervised, seconds)) in &days_seen {
                sqlx::query("INSERT INTO seat_daily (agent_id, day, site_id, sessions, supervised_sessions, session_seconds) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (agent_id, day) DO UPDATE SET \
                     sessions = CASE WHEN seat_daily.sessions > 9223372036854775807 - excluded.sessions \
                         THEN 9223372036854775807 ELSE seat_daily.sessions + excluded.sessions END, \
                     supervised_sessions = CASE \
                         WHEN seat_daily.supervised_sessions > 9223372036854775807 - excluded.supervised_sessions \
                         THEN 9223372036854775807 \
                         ELSE seat_daily.supervised_sessions + excluded.supervised_sessions END, \
                     session_seconds = CASE \
                         WHEN seat_daily.session_seconds > 9223372036854775807 - excluded.session_seconds \
                         THEN 9223372036854775807 ELSE seat_daily.session_seconds + excluded.session_seconds END")
                .bind(agent)
                .bind(day)
                .bind(site)
                .bind(sessions)
                .bind(supervised)
                .bind(seconds)
                .execute(&mut *tx)
                .await?;
            }
            report.sessions_aggregated =
                sqlx::query("DELETE FROM sessions WHERE started_at < $1 OR received_at < $2")
                    .bind(log_cutoff.0)
                    .bind(log_cutoff.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            report.events_deleted =
                sqlx::query("DELETE FROM events WHERE at < $1 OR received_at < $2")
                    .bind(log_cutoff.0)
                    .bind(log_cutoff.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            let health_cutoff = now.plus_secs(-days(config.health_days));
            report.health_deleted =
                sqlx::query("DELETE FROM health_snapshots WHERE at < $1 OR received_at < $2")
                    .bind(health_cutoff.0)
                    .bind(health_cutoff.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            let oldest_day = local_day(now.plus_secs(-days(config.aggregates_days)), "UTC");
            report.aggregates_deleted = sqlx::query("DELETE FROM seat_daily WHERE day < $1")
                .bind(&oldest_day)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Calls for a mediator: their rows two days after the call (a call lasts a
            // session at most), their anonymous counts as long as the seat-day aggregates.
            sqlx::query("DELETE FROM help_calls WHERE called_at < $1")
                .bind(now.plus_secs(-2 * 86_400).0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM help_call_counts WHERE day < $1")
                .bind(&oldest_day)
                .execute(&mut *tx)
                .await?;
            report.commands_deleted = sqlx::query("DELETE FROM commands WHERE issued_at < $1")
                .bind(now.plus_secs(-days(config.audit_log_days)).0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            report.tokens_deleted =
                sqlx::query("DELETE FROM enrollment_tokens WHERE expires_at < $1")
                    .bind(now.plus_secs(-i64::from(config.token_grace_hours) * 3600).0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            report.audit_deleted = sqlx::query("DELETE FROM audit_log WHERE at < $1")
                .bind(now.plus_secs(-i64::from(config.audit_log_days) * 86_400).0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1")
                .bind(now.0)
                .execute(&mut *tx)
                .await?;
            // Permanence counters: 2 years.
            sqlx::query("DELETE FROM permanence_counters WHERE day_start < $1")
                .bind(now.plus_secs(-730 * 86_400).0)
                .execute(&mut *tx)
                .await?;
            report.tickets_deleted = sqlx::query("DELETE FROM tickets WHERE valid_until < $1")
                .bind(now.plus_secs(-i64::from(config.token_grace_hours) * 3600).0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
        });
        Ok(report)
    }

    /// The daily aggregates of a site's seats for the local days `first_day <= day <
    /// end_day` (`YYYY-MM-DD`, in the site's time zone as the purge wrote them; the end is
    /// exclusive, so consecutive periods never count a day twice), by day then seat.
    pub async fn site_days(
        &self,
        site_id: &str,
        first_day: &str,
        end_day: &str,
    ) -> Result<Vec<SeatDay>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT agent_id, day, sessions, supervised_sessions, session_seconds FROM seat_daily \
                 WHERE site_id = $1 AND day >= $2 AND day < $3 ORDER BY day, agent_id")
            .bind(site_id)
            .bind(first_day)
            .bind(end_day)
            .fetch_all(pool)
            .await?;
            Ok(rows.iter().map(seat_day).collect())
        })
    }

    /// The daily aggregates of a seat, oldest first.
    pub async fn seat_days(&self, agent_id: &str) -> Result<Vec<SeatDay>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT agent_id, day, sessions, supervised_sessions, session_seconds FROM seat_daily \
                 WHERE agent_id = $1 ORDER BY day")
            .bind(agent_id)
            .fetch_all(pool)
            .await?;
            Ok(rows.iter().map(seat_day).collect())
        })
    }
}

/// A `seat_daily` row selected as `agent_id, day, sessions, supervised_sessions,
/// session_seconds`.
fn seat_day<R: Row>(r: &R) -> SeatDay
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'d> sqlx::Decode<'d, R::Database> + sqlx::Type<R::Database>,
    i64: for<'d> sqlx::Decode<'d, R::Database> + sqlx::Type<R::Database>,
{
    SeatDay {
        agent_id: r.get(0),
        day: r.get(1),
        sessions: r.get(2),
        supervised_sessions: r.get(3),
        session_seconds: r.get(4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_follow_the_site_time_zone() {
        // 2026-11-20T23:30:00Z is already the 21st in Paris (UTC+1 in winter).
        let at = UtcMillis::from_secs(1_795_217_400);
        assert_eq!(local_day(at, "Europe/Paris"), "2026-11-21");
        assert_eq!(local_day(at, "UTC"), "2026-11-20");
    }
}
