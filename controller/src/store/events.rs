//! Agent events: stored once per `(agent_id, seq)`, in batches, with the session log and
//! command results derived in the same transaction, and the contiguous ack advanced.

use std::collections::{HashMap, HashSet};

use commune_protocol::health::{HealthSnapshot, Inventory};
use commune_protocol::messages::{
    AgentEvent, CommandResult, EventEnvelope, SessionEnded, SessionStarted, TicketUsed,
};
use commune_protocol::UtcMillis;
use serde::Serialize;
use sqlx::Row;

use super::{i64_of, with_pool, Store};
use crate::error::StoreError;

/// How far above its ack a seat's stored events are looked at to advance the ack, per
/// batch: twice what an agent keeps in flight (4,096), so an honest seat's ack moves by
/// a whole batch at once.
const ACK_SCAN_WINDOW: i64 = 8_192;

/// One agent's share of an ingest transaction.
#[derive(Debug, Clone)]
pub struct IngestBatch {
    /// The agent.
    pub agent_id: String,
    /// Its events, in any order; duplicates of stored ones are ignored.
    pub events: Vec<EventEnvelope>,
}

/// What one ingest transaction answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IngestOutcome {
    /// For each batch in order, the agent's highest contiguous committed seq.
    pub(crate) acks: Vec<u64>,
    /// For each batch in order, whether it spent a ticket not used before.
    pub(crate) spent_tickets: Vec<bool>,
}

/// A session length as the store believes it: within `[0, MAX_SESSION_SECS]`, whatever a
/// row written by an older version holds.
pub(crate) fn believable_secs(duration_secs: i64) -> i64 {
    duration_secs.clamp(0, i64_of(crate::ingest::bounds::MAX_SESSION_SECS))
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
    /// Length on the agent's monotonic clock (a day at most).
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

/// Health snapshots per multi-row INSERT (15 parameters each).
const HEALTH_CHUNK: usize = 100;

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
    /// Duplicates (a resend after a lost ack) change nothing. The statements are set-based:
    /// their number does not grow with the number of agents or events in the batch.
    pub async fn ingest(
        &self,
        batches: &[IngestBatch],
        received_at: UtcMillis,
    ) -> Result<Vec<u64>, StoreError> {
        Ok(self.ingest_work(batches, &[], &[], received_at).await?.acks)
    }

    /// Stores events, health snapshots and inventories of several agents in one
    /// transaction (see [`Store::ingest`] for the events). Health snapshots are appended;
    /// an agent's inventory replaces its previous one (the last given wins).
    pub(crate) async fn ingest_work(
        &self,
        batches: &[IngestBatch],
        health: &[(String, HealthSnapshot)],
        inventories: &[(String, Inventory)],
        received_at: UtcMillis,
    ) -> Result<IngestOutcome, StoreError> {
        if batches.is_empty() && health.is_empty() && inventories.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let rows: Vec<(&str, &EventEnvelope)> = batches
            .iter()
            .flat_map(|b| b.events.iter().map(move |e| (b.agent_id.as_str(), e)))
            .collect();
        let mut agents: Vec<&str> = batches.iter().map(|b| b.agent_id.as_str()).collect();
        agents.sort_unstable();
        agents.dedup();
        // One row per session and kind in a statement: PostgreSQL refuses to upsert a row
        // twice in one command. Seq order decides which copy wins.
        let mut ordered = rows.clone();
        ordered.sort_by_key(|(agent, e)| (*agent, e.seq));
        let mut starts: HashMap<(&str, &str), (&SessionStarted, UtcMillis)> = HashMap::new();
        let mut ends: HashMap<(&str, &str), (&SessionEnded, UtcMillis)> = HashMap::new();
        let mut results: Vec<(&str, &CommandResult, UtcMillis)> = Vec::new();
        let mut tickets: Vec<(&str, &TicketUsed, UtcMillis)> = Vec::new();
        for (agent, e) in &ordered {
            match &e.event {
                AgentEvent::SessionStarted(s) => {
                    starts
                        .entry((*agent, s.session_id.as_str()))
                        .or_insert((s, e.at));
                }
                AgentEvent::SessionEnded(s) => {
                    ends.insert((*agent, s.session_id.as_str()), (s, e.at));
                }
                AgentEvent::CommandResult(r) => results.push((*agent, r, e.at)),
                AgentEvent::TicketUsed(t) => tickets.push((*agent, t, e.at)),
                _ => {}
            }
        }
        let starts: Vec<_> = starts.into_iter().collect();
        let ends: Vec<_> = ends.into_iter().collect();

        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
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

            let mut sites: HashMap<String, String> = HashMap::new();
            if !starts.is_empty() || !ends.is_empty() {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT id, site_id FROM agents WHERE id IN (");
                let mut list = qb.separated(", ");
                for a in &agents {
                    list.push_bind(*a);
                }
                qb.push(")");
                for r in qb.build().fetch_all(&mut *tx).await? {
                    sites.insert(r.get(0), r.get(1));
                }
            }
            let site = |agent: &str| sites.get(agent).cloned().unwrap_or_default();
            for chunk in starts.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO sessions (agent_id, session_id, site_id, slot_kind, permanence_id, with_ticket, \
                     started_at, received_at) ",
                );
                qb.push_values(chunk, |mut b, ((agent, id), (s, at))| {
                    b.push_bind(*agent)
                        .push_bind(*id)
                        .push_bind(site(agent))
                        .push_bind(label(&s.slot_kind))
                        .push_bind(s.permanence_id.clone())
                        .push_bind(s.with_ticket)
                        .push_bind(at.0)
                        .push_bind(received_at.0);
                });
                // A start that arrives after its end (resent out of order) completes the row.
                qb.push(
                    " ON CONFLICT (agent_id, session_id) DO UPDATE SET slot_kind = excluded.slot_kind, \
                     permanence_id = excluded.permanence_id, with_ticket = excluded.with_ticket, \
                     started_at = excluded.started_at WHERE sessions.slot_kind = 'unknown'",
                );
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in ends.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO sessions (agent_id, session_id, site_id, slot_kind, with_ticket, started_at, \
                     ended_at, end_reason, duration_secs, received_at) ",
                );
                qb.push_values(chunk, |mut b, ((agent, id), (s, at))| {
                    let duration = i64_of(s.duration_secs);
                    // Until its start arrives, a session began its (believable) length ago.
                    let started = at.0.saturating_sub(believable_secs(duration) * 1000);
                    b.push_bind(*agent)
                        .push_bind(*id)
                        .push_bind(site(agent))
                        .push_bind("unknown")
                        .push_bind(false)
                        .push_bind(started)
                        .push_bind(at.0)
                        .push_bind(label(&s.reason))
                        .push_bind(duration)
                        .push_bind(received_at.0);
                });
                qb.push(
                    " ON CONFLICT (agent_id, session_id) DO UPDATE SET ended_at = excluded.ended_at, \
                     end_reason = excluded.end_reason, duration_secs = excluded.duration_secs",
                );
                qb.build().execute(&mut *tx).await?;
            }
            for (agent, r, at) in &results {
                sqlx::query(
                    "UPDATE commands SET outcome = $1, detail = $2, result_at = $3 \
                     WHERE id = $4 AND agent_id = $5 AND outcome IS NULL",
                )
                .bind(label(&r.outcome))
                .bind(&r.detail)
                .bind(at.0)
                .bind(&r.command_id)
                .bind(*agent)
                .execute(&mut *tx)
                .await?;
            }

            // A ticket is spent by its first use; another session using it (seats that were
            // offline accepted it) flags it. Idempotent: the same event again changes nothing.
            // Only a ticket of the seat's own site: a seat (or a stolen key) cannot spend
            // another site's tickets.
            let mut spent: HashSet<&str> = HashSet::new();
            for (agent, t, at) in &tickets {
                let first_use = sqlx::query(
                    "UPDATE tickets SET used_at = $1, used_by = $2, used_session = $3 \
                     WHERE hash = $4 AND used_at IS NULL \
                     AND site_id = (SELECT site_id FROM agents WHERE id = $5)",
                )
                .bind(at.0)
                .bind(*agent)
                .bind(&t.session_id)
                .bind(&t.ticket_hash)
                .bind(*agent)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if first_use > 0 {
                    spent.insert(*agent);
                }
                sqlx::query(
                    "UPDATE tickets SET double_use = 1 \
                     WHERE hash = $1 AND used_session <> $2 AND double_use = 0 \
                     AND site_id = (SELECT site_id FROM agents WHERE id = $3)",
                )
                .bind(&t.ticket_hash)
                .bind(&t.session_id)
                .bind(*agent)
                .execute(&mut *tx)
                .await?;
            }

            for chunk in health.chunks(HEALTH_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO health_snapshots (agent_id, at, received_at, cpu_percent, load_1, \
                     memory_used_bytes, memory_total_bytes, swap_used_bytes, swap_total_bytes, uptime_secs, \
                     disks_json, temperatures_json, os, kernel, agent_version) ",
                );
                qb.push_values(chunk, |mut b, (agent, h)| {
                    b.push_bind(agent.as_str())
                        .push_bind(h.at.0)
                        .push_bind(received_at.0)
                        .push_bind(f64::from(h.cpu_percent))
                        .push_bind(h.load_average[0])
                        .push_bind(i64_of(h.memory_used_bytes))
                        .push_bind(i64_of(h.memory_total_bytes))
                        .push_bind(i64_of(h.swap_used_bytes))
                        .push_bind(i64_of(h.swap_total_bytes))
                        .push_bind(i64_of(h.uptime_secs))
                        .push_bind(serde_json::to_string(&h.disks).unwrap_or_default())
                        .push_bind(serde_json::to_string(&h.temperatures).unwrap_or_default())
                        .push_bind(h.os.as_str())
                        .push_bind(h.kernel.as_str())
                        .push_bind(h.agent_version.as_str());
                });
                qb.build().execute(&mut *tx).await?;
            }
            // One statement each: PostgreSQL refuses to upsert one row twice in a command.
            for (agent, inv) in inventories {
                sqlx::query("INSERT INTO inventories (agent_id, received_at, hostname, dmi_serial, asset_tag, funding_line, body_json) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agent_id) DO UPDATE SET received_at = excluded.received_at, \
                     hostname = excluded.hostname, dmi_serial = excluded.dmi_serial, asset_tag = excluded.asset_tag, \
                     funding_line = excluded.funding_line, body_json = excluded.body_json")
                .bind(agent)
                .bind(received_at.0)
                .bind(&inv.hostname)
                .bind(&inv.dmi_serial)
                .bind(&inv.asset_tag)
                .bind(&inv.funding_line)
                .bind(serde_json::to_string(inv).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
            }

            let mut answer = IngestOutcome::default();
            if !agents.is_empty() {
                // The stored seqs just above each agent's ack, in one query; the contiguous
                // run from the ack is what may now be acknowledged. The window is bounded:
                // a seat that leaves a gap (hostile: it never fills) does not make every
                // later batch rescan all it stored above it.
                let mut acked: HashMap<String, i64> = HashMap::new();
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT e.agent_id, e.seq, COALESCE(a.acked_seq, 0) FROM events e \
                     LEFT JOIN agent_acks a ON a.agent_id = e.agent_id \
                     WHERE e.seq > COALESCE(a.acked_seq, 0) AND e.seq <= COALESCE(a.acked_seq, 0) + ",
                );
                qb.push(ACK_SCAN_WINDOW);
                qb.push(" AND e.agent_id IN (");
                let mut list = qb.separated(", ");
                for a in &agents {
                    list.push_bind(*a);
                }
                qb.push(") ORDER BY e.agent_id, e.seq");
                for r in qb.build().fetch_all(&mut *tx).await? {
                    let agent: String = r.get(0);
                    let seq: i64 = r.get(1);
                    let up_to = acked.entry(agent).or_insert(r.get::<i64, _>(2));
                    if seq == *up_to + 1 {
                        *up_to = seq;
                    }
                }
                if !acked.is_empty() {
                    let acks: Vec<(&String, &i64)> = acked.iter().collect();
                    for chunk in acks.chunks(INSERT_CHUNK) {
                        let mut qb = sqlx::QueryBuilder::new(
                            "INSERT INTO agent_acks (agent_id, acked_seq) ",
                        );
                        qb.push_values(chunk, |mut b, (agent, seq)| {
                            b.push_bind(agent.as_str()).push_bind(**seq);
                        });
                        qb.push(
                            " ON CONFLICT (agent_id) DO UPDATE SET acked_seq = excluded.acked_seq",
                        );
                        qb.build().execute(&mut *tx).await?;
                    }
                }
                for batch in batches {
                    let up_to = match acked.get(&batch.agent_id) {
                        Some(seq) => *seq,
                        None => sqlx::query_scalar(
                            "SELECT acked_seq FROM agent_acks WHERE agent_id = $1",
                        )
                        .bind(&batch.agent_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .unwrap_or(0),
                    };
                    answer.acks.push(u64::try_from(up_to).unwrap_or(0));
                    answer
                        .spent_tickets
                        .push(spent.contains(batch.agent_id.as_str()));
                }
            }
            tx.commit().await?;
            Ok(answer)
        })
    }

    /// Highest contiguous event sequence number committed for an agent.
    pub async fn acked_seq(&self, agent_id: &str) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let acked: Option<i64> =
                sqlx::query_scalar("SELECT acked_seq FROM agent_acks WHERE agent_id = $1")
                    .bind(agent_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(acked.and_then(|a| u64::try_from(a).ok()).unwrap_or(0))
        })
    }

    /// Every stored seq of an agent, in order (for audits and tests: exactly once).
    pub async fn event_seqs(&self, agent_id: &str) -> Result<Vec<u64>, StoreError> {
        with_pool!(self, |pool| {
            let seqs: Vec<i64> =
                sqlx::query_scalar("SELECT seq FROM events WHERE agent_id = $1 ORDER BY seq")
                    .bind(agent_id)
                    .fetch_all(pool)
                    .await?;
            Ok(seqs
                .into_iter()
                .filter_map(|s| u64::try_from(s).ok())
                .collect())
        })
    }

    /// The kind of every stored event of an agent, in seq order (`wipe_report`, …).
    pub async fn event_kinds(&self, agent_id: &str) -> Result<Vec<String>, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT kind FROM events WHERE agent_id = $1 ORDER BY seq")
                    .bind(agent_id)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// The stored body (JSON) of every event of an agent, in seq order: for audits of what
    /// left the computers, and tests.
    pub async fn event_bodies(&self, agent_id: &str) -> Result<Vec<String>, StoreError> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT body_json FROM events WHERE agent_id = $1 ORDER BY seq")
                    .bind(agent_id)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// The newest `limit` events of one kind of an agent: `(at, body JSON)`, newest first.
    pub async fn recent_events(
        &self,
        agent_id: &str,
        kind: &str,
        limit: i64,
    ) -> Result<Vec<(UtcMillis, String)>, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at, body_json FROM events WHERE agent_id = $1 AND kind = $2 \
                 ORDER BY seq DESC LIMIT $3",
            )
            .bind(agent_id)
            .bind(kind)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(at, b)| (UtcMillis(at), b)).collect())
    }

    /// Wipe reports of an agent in `[from, to)` that did not verify.
    pub async fn wipe_failures(
        &self,
        agent_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<u64, StoreError> {
        with_pool!(self, |pool| {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE agent_id = $1 AND kind = 'wipe_report' \
                 AND at >= $2 AND at < $3 AND body_json LIKE '%\"verified\":false%'",
            )
            .bind(agent_id)
            .bind(from.0)
            .bind(to.0)
            .fetch_one(pool)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// Alerts agents reported since `since`: `(agent, kind, at)`, one per agent and kind.
    pub async fn recent_alerts(
        &self,
        since: UtcMillis,
    ) -> Result<Vec<(String, String, UtcMillis)>, StoreError> {
        let rows: Vec<(String, String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT agent_id, body_json, at FROM events WHERE kind = 'alert' AND at >= $1 \
                 ORDER BY at",
            )
            .bind(since.0)
            .fetch_all(pool)
            .await?
        });
        let mut out: Vec<(String, String, UtcMillis)> = Vec::new();
        for (agent, body, at) in rows {
            let kind = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from))
                .unwrap_or_else(|| "other".into());
            out.retain(|(a, k, _)| !(a == &agent && k == &kind));
            out.push((agent, kind, UtcMillis(at)));
        }
        Ok(out)
    }

    /// The kind (`free`, `supervised`) of the last session a seat started, if it has not
    /// ended: one indexed row, whatever the seat's history.
    pub async fn open_session_kind(&self, agent_id: &str) -> Result<Option<String>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT slot_kind, ended_at FROM sessions WHERE agent_id = $1 \
                 ORDER BY started_at DESC LIMIT 1",
            )
            .bind(agent_id)
            .fetch_optional(pool)
            .await?;
            Ok(row
                .filter(|r| r.get::<Option<i64>, _>(1).is_none())
                .map(|r| r.get(0)))
        })
    }

    /// Sessions started in `[from, to)`, oldest first.
    pub async fn sessions(
        &self,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT agent_id, session_id, site_id, slot_kind, permanence_id, with_ticket, started_at, \
                 ended_at, end_reason, duration_secs FROM sessions \
                 WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at, agent_id, session_id")
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
                    duration_secs: r.get::<Option<i64>, _>(9).map(believable_secs),
                })
                .collect())
        })
    }
}
