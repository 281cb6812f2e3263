//! Agent events: stored once per `(agent_id, seq)`, in batches, with the session log and
//! command results derived in the same transaction, and the contiguous ack advanced.

use commune_protocol::messages::{AgentEvent, EventEnvelope};
use commune_protocol::UtcMillis;
use serde::Serialize;
use sqlx::Row;

use super::{i64_of, with_pool, Store};
use crate::error::StoreError;

/// One agent's share of an ingest transaction.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    /// The agent.
    pub agent_id: String,
    /// Its events, in any order; duplicates of stored ones are ignored.
    pub events: Vec<EventEnvelope>,
}

/// One row of the technical session log.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Seat (agent).
    pub agent_id: String,
    /// Random session id.
    pub session_id: String,
    /// Site.
    pub site_id: String,
    /// `free`, `supervised` (or `unknown` when only the end was received).
    pub slot_kind: String,
    /// Permanence, for supervised sessions.
    pub permanence_id: Option<String>,
    /// Whether a ticket opened it.
    pub with_ticket: bool,
    /// Start.
    pub started_at: UtcMillis,
    /// End, once ended.
    pub ended_at: Option<UtcMillis>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Length on the agent's monotonic clock.
    pub duration_secs: Option<i64>,
}

/// The snake_case wire name of a unit enum value (`SlotKind::Free` → `free`).
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".into(),
    }
}

/// The stored name of an event type.
pub(crate) fn event_kind(e: &AgentEvent) -> &'static str {
    match e {
        AgentEvent::SessionStarted(_) => "session_started",
        AgentEvent::SessionEnded(_) => "session_ended",
        AgentEvent::WipeReport(_) => "wipe_report",
        AgentEvent::WarningShown(_) => "warning_shown",
        AgentEvent::TicketUsed(_) => "ticket_used",
        AgentEvent::CommandResult(_) => "command_result",
        AgentEvent::Alert(_) => "alert",
        AgentEvent::Unknown => "unknown",
    }
}

/// Rows per multi-row INSERT: well under both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 200;

impl Store {
    /// Stores one agent's events; returns its highest contiguous committed seq.
    pub async fn ingest_events(
        &self,
        agent_id: &str,
        events: &[EventEnvelope],
        received_at: UtcMillis,
    ) -> Result<u64, StoreError> {
        let batch = IngestBatch {
            agent_id: agent_id.to_string(),
            events: events.to_vec(),
        };
        Ok(self
            .ingest(std::slice::from_ref(&batch), received_at)
            .await?[0])
    }

    /// Stores the events of several agents in one transaction and returns, for each batch in
    /// order, the agent's highest contiguous committed seq (what may be acknowledged).
    /// Duplicates (a resend after a lost ack) change nothing.
    pub async fn ingest(
        &self,
        batches: &[IngestBatch],
        received_at: UtcMillis,
    ) -> Result<Vec<u64>, StoreError> {
        with_pool!(self, |pool, sql| {
            let mut tx = pool.begin().await?;
            let rows: Vec<(&str, &EventEnvelope)> = batches
                .iter()
                .flat_map(|b| b.events.iter().map(move |e| (b.agent_id.as_str(), e)))
                .collect();
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) ",
                );
                qb.push_values(chunk, |mut b, (agent, e)| {
                    b.push_bind(*agent)
                        .push_bind(i64_of(e.seq))
                        .push_bind(e.at.0)
                        .push_bind(received_at.0)
                        .push_bind(event_kind(&e.event))
                        .push_bind(serde_json::to_string(&e.event).unwrap_or_default());
                });
                qb.push(" ON CONFLICT (agent_id, seq) DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }

            let mut acked = Vec::with_capacity(batches.len());
            for batch in batches {
                let site_id: Option<String> =
                    sqlx::query_scalar(sql("SELECT site_id FROM agents WHERE id = ?"))
                        .bind(&batch.agent_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let site_id = site_id.unwrap_or_default();
                let mut ordered: Vec<&EventEnvelope> = batch.events.iter().collect();
                ordered.sort_by_key(|e| e.seq);
                for e in ordered {
                    match &e.event {
                        AgentEvent::SessionStarted(s) => {
                            sqlx::query(sql(
                                "INSERT INTO sessions (agent_id, session_id, site_id, slot_kind, permanence_id, \
                                 with_ticket, started_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                                 ON CONFLICT (agent_id, session_id) DO NOTHING",
                            ))
                            .bind(&batch.agent_id)
                            .bind(&s.session_id)
                            .bind(&site_id)
                            .bind(label(&s.slot_kind))
                            .bind(&s.permanence_id)
                            .bind(s.with_ticket)
                            .bind(e.at.0)
                            .execute(&mut *tx)
                            .await?;
                        }
                        AgentEvent::SessionEnded(s) => {
                            let duration = i64_of(s.duration_secs);
                            sqlx::query(sql(
                                "INSERT INTO sessions (agent_id, session_id, site_id, slot_kind, with_ticket, \
                                 started_at, ended_at, end_reason, duration_secs) \
                                 VALUES (?, ?, ?, 'unknown', ?, ?, ?, ?, ?) \
                                 ON CONFLICT (agent_id, session_id) DO UPDATE SET ended_at = excluded.ended_at, \
                                 end_reason = excluded.end_reason, duration_secs = excluded.duration_secs",
                            ))
                            .bind(&batch.agent_id)
                            .bind(&s.session_id)
                            .bind(&site_id)
                            .bind(false)
                            .bind(e.at.0.saturating_sub(duration.saturating_mul(1000)))
                            .bind(e.at.0)
                            .bind(label(&s.reason))
                            .bind(duration)
                            .execute(&mut *tx)
                            .await?;
                        }
                        AgentEvent::CommandResult(r) => {
                            sqlx::query(sql(
                                "UPDATE commands SET outcome = ?, detail = ?, result_at = ? \
                                 WHERE id = ? AND agent_id = ? AND outcome IS NULL",
                            ))
                            .bind(label(&r.outcome))
                            .bind(&r.detail)
                            .bind(e.at.0)
                            .bind(&r.command_id)
                            .bind(&batch.agent_id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        _ => {}
                    }
                }

                let mut up_to: i64 =
                    sqlx::query_scalar(sql("SELECT acked_seq FROM agent_acks WHERE agent_id = ?"))
                        .bind(&batch.agent_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .unwrap_or(0);
                // Advance over the contiguous run now present.
                let next: Vec<i64> = sqlx::query_scalar(sql(
                    "SELECT seq FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq",
                ))
                .bind(&batch.agent_id)
                .bind(up_to)
                .fetch_all(&mut *tx)
                .await?;
                for seq in next {
                    if seq != up_to + 1 {
                        break;
                    }
                    up_to = seq;
                }
                sqlx::query(sql(
                    "INSERT INTO agent_acks (agent_id, acked_seq) VALUES (?, ?) \
                     ON CONFLICT (agent_id) DO UPDATE SET acked_seq = excluded.acked_seq",
                ))
                .bind(&batch.agent_id)
                .bind(up_to)
                .execute(&mut *tx)
                .await?;
                acked.push(u64::try_from(up_to).unwrap_or(0));
            }
            tx.commit().await?;
            Ok(acked)
        })
    }

    /// Highest contiguous event sequence number committed for an agent.
    pub async fn acked_seq(&self, agent_id: &str) -> Result<u64, StoreError> {
        with_pool!(self, |pool, sql| {
            let acked: Option<i64> =
                sqlx::query_scalar(sql("SELECT acked_seq FROM agent_acks WHERE agent_id = ?"))
                    .bind(agent_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(acked.and_then(|a| u64::try_from(a).ok()).unwrap_or(0))
        })
    }

    /// Every stored seq of an agent, in order (for audits and tests: exactly once).
    pub async fn event_seqs(&self, agent_id: &str) -> Result<Vec<u64>, StoreError> {
        with_pool!(self, |pool, sql| {
            let seqs: Vec<i64> = sqlx::query_scalar(sql(
                "SELECT seq FROM events WHERE agent_id = ? ORDER BY seq",
            ))
            .bind(agent_id)
            .fetch_all(pool)
            .await?;
            Ok(seqs
                .into_iter()
                .filter_map(|s| u64::try_from(s).ok())
                .collect())
        })
    }

    /// Sessions started in `[from, to)`, oldest first.
    pub async fn sessions(
        &self,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        with_pool!(self, |pool, sql| {
            let rows = sqlx::query(sql(
                "SELECT agent_id, session_id, site_id, slot_kind, permanence_id, with_ticket, started_at, \
                 ended_at, end_reason, duration_secs FROM sessions \
                 WHERE started_at >= ? AND started_at < ? ORDER BY started_at, agent_id, session_id",
            ))
            .bind(from.0)
            .bind(to.0)
            .fetch_all(pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| SessionRecord {
                    agent_id: r.get(0),
                    session_id: r.get(1),
                    site_id: r.get(2),
                    slot_kind: r.get(3),
                    permanence_id: r.get(4),
                    with_ticket: r.get(5),
                    started_at: UtcMillis(r.get(6)),
                    ended_at: r.get::<Option<i64>, _>(7).map(UtcMillis),
                    end_reason: r.get(8),
                    duration_secs: r.get(9),
                })
                .collect())
        })
    }
}
