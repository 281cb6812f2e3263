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

use super::{i64_of, with_pool, BeginWrite, Store};
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
        AgentEvent::DevicesChecked(_) => "devices_checked",
        AgentEvent::PowerChanged(_) => "power_changed",
        AgentEvent::HelpCalled(_) => "help_called",
        AgentEvent::HelpCancelled(_) => "help_cancelled",
        AgentEvent::PrintWaiting(_) => "print_waiting",
        AgentEvent::PrintWaitOver(_) => "print_wait_over",
        AgentEvent::PagesPrinted(_) => "pages_printed",
        AgentEvent::Unknown => "unknown",
    }
}

/// Rows per multi-row INSERT on SQLite: well under its bind-parameter limit.
const INSERT_CHUNK: usize = 200;

/// Health snapshots per multi-row INSERT (15 parameters each).
const HEALTH_CHUNK: usize = 100;

/// The first key of the PostgreSQL advisory locks that serialize the ingest of one seat's
/// events across controllers (the second is [`seat_lock`] of its agent id).
const SEAT_LOCK_CLASS: i32 = 0x436f_6d6d;

/// The second key of a seat's advisory lock: FNV-1a of its agent id, the same in every
/// controller. Two seats may share one; they then wait for each other, nothing more.
fn seat_lock(agent_id: &str) -> i32 {
    let hash = agent_id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// The events one transaction inserts, column by column: PostgreSQL takes each column as
/// one array.
#[derive(Default)]
struct EventColumns<'a> {
    agent_ids: Vec<&'a str>,
    seqs: Vec<i64>,
    ats: Vec<i64>,
    kinds: Vec<&'static str>,
    bodies: Vec<String>,
}

impl<'a> EventColumns<'a> {
    fn push(&mut self, agent: &'a str, e: &EventEnvelope) {
        self.agent_ids.push(agent);
        self.seqs.push(i64_of(e.seq));
        self.ats.push(e.at.0);
        self.kinds.push(event_kind(&e.event));
        self.bodies
            .push(serde_json::to_string(&e.event).unwrap_or_default());
    }
}

/// How events perhaps stored already are inserted. The others take no conflict clause,
/// which on PostgreSQL costs a speculative insertion per row.
const MAYBE_STORED_EVENTS: &str = " ON CONFLICT (agent_id, seq) DO NOTHING";

/// One row of the session log as a transaction writes it, from the session's start, its
/// end, or both: a session begun and ended within the batch is inserted once, complete.
struct SessionRow<'a> {
    agent_id: &'a str,
    session_id: &'a str,
    site_id: &'a str,
    slot_kind: String,
    permanence_id: Option<&'a str>,
    with_ticket: bool,
    started_at: i64,
    ended_at: Option<i64>,
    end_reason: Option<String>,
    duration_secs: Option<i64>,
}

/// Everything a transaction writes of its seats' events but the rare command results and
/// ticket uses.
#[derive(Default)]
struct EventWrites<'a> {
    /// Events certainly not stored yet.
    new: EventColumns<'a>,
    /// Events perhaps stored already (resent after a lost ack): those are skipped.
    maybe_stored: EventColumns<'a>,
    /// Sessions whose start is in the transaction (see [`UPSERT_WITH_START`]).
    with_start: Vec<SessionRow<'a>>,
    /// Sessions whose end only is in the transaction (see [`UPSERT_END`]).
    end_only: Vec<SessionRow<'a>>,
    /// The seats whose ack moves, and where to.
    acks: Vec<(&'a str, i64)>,
}

/// The session columns both upserts insert, in [`SessionRow`] order, then `received_at`.
const SESSION_COLUMNS: &str = "agent_id, session_id, site_id, slot_kind, permanence_id, \
     with_ticket, started_at, ended_at, end_reason, duration_secs, received_at";

/// For rows holding the session's start. A start that arrives after its end (resent out of
/// order) completes the row stored from the end alone (kind `unknown`), and leaves a
/// complete row as it is; an end in the same row is written as [`UPSERT_END`] writes it.
const UPSERT_WITH_START: &str = " ON CONFLICT (agent_id, session_id) DO UPDATE SET \
     slot_kind = CASE WHEN sessions.slot_kind = 'unknown' THEN excluded.slot_kind ELSE sessions.slot_kind END, \
     permanence_id = CASE WHEN sessions.slot_kind = 'unknown' THEN excluded.permanence_id ELSE sessions.permanence_id END, \
     with_ticket = CASE WHEN sessions.slot_kind = 'unknown' THEN excluded.with_ticket ELSE sessions.with_ticket END, \
     started_at = CASE WHEN sessions.slot_kind = 'unknown' THEN excluded.started_at ELSE sessions.started_at END, \
     ended_at = COALESCE(excluded.ended_at, sessions.ended_at), \
     end_reason = COALESCE(excluded.end_reason, sessions.end_reason), \
     duration_secs = COALESCE(excluded.duration_secs, sessions.duration_secs) \
     WHERE sessions.slot_kind = 'unknown' OR excluded.ended_at IS NOT NULL";

/// For rows holding only the session's end.
const UPSERT_END: &str =
    " ON CONFLICT (agent_id, session_id) DO UPDATE SET ended_at = excluded.ended_at, \
     end_reason = excluded.end_reason, duration_secs = excluded.duration_secs";

const UPSERT_ACK: &str = " ON CONFLICT (agent_id) DO UPDATE SET acked_seq = excluded.acked_seq";

/// The events a seat (`g`, its ack `a`) stored above its ack, at most [`ACK_SCAN_WINDOW`]
/// above it: for an honest seat, none (it sends in order, the ack follows).
fn stored_above_ack() -> String {
    format!(
        "e.agent_id = g.id AND e.seq > COALESCE(a.acked_seq, 0) \
         AND e.seq <= COALESCE(a.acked_seq, 0) + {ACK_SCAN_WINDOW}"
    )
}

/// What [`BulkIngest::seats`] answers: agent, site, stored ack, one seq of
/// [`stored_above_ack`] (none when there is none).
type SeatRow = (String, String, Option<i64>, Option<i64>);

/// How an ingest transaction begins on each backend: so that what it then reads of its
/// seats stays true until it commits.
trait IngestPool {
    type Db: sqlx::Database;

    async fn begin_ingest(
        &self,
        agents: &[&str],
    ) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl IngestPool for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;

    /// With the write lock from the start: no other writer until it commits, and no read
    /// that could not become a write later.
    async fn begin_ingest(
        &self,
        _agents: &[&str],
    ) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        self.begin_write().await
    }
}

impl IngestPool for sqlx::PgPool {
    type Db = sqlx::Postgres;

    /// With the seats' advisory locks (another controller ingesting one of them waits),
    /// taken in one order (two transactions cannot wait for each other) and in the same
    /// round trip as `BEGIN`: the keys are numbers, written into the statement.
    async fn begin_ingest(
        &self,
        agents: &[&str],
    ) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        let mut keys: Vec<i32> = agents.iter().map(|a| seat_lock(a)).collect();
        if keys.is_empty() {
            return self.begin().await;
        }
        keys.sort_unstable();
        keys.dedup();
        let keys: Vec<String> = keys.iter().map(i32::to_string).collect();
        self.begin_with(format!(
            "BEGIN; SELECT pg_advisory_xact_lock({SEAT_LOCK_CLASS}, k) \
             FROM UNNEST('{{{}}}'::int[]) AS k",
            keys.join(",")
        ))
        .await
    }
}

/// The statements of an ingest whose form differs between the backends. PostgreSQL takes a
/// column as one array (`UNNEST`), and all the writes in one statement: one round trip,
/// one prepared plan, whatever the number of rows. SQLite, in the process, takes multi-row
/// `VALUES` lists of a fixed length (the last one shorter), each length prepared once per
/// connection.
trait BulkIngest {
    /// The site, stored ack and [`stored_above_ack`] of each of the agents that exists.
    async fn seats(&mut self, agents: &[&str]) -> Result<Vec<SeatRow>, sqlx::Error>;

    async fn write(
        &mut self,
        writes: &EventWrites<'_>,
        received_at: i64,
    ) -> Result<(), sqlx::Error>;
}

impl BulkIngest for sqlx::SqliteConnection {
    async fn seats(&mut self, agents: &[&str]) -> Result<Vec<SeatRow>, sqlx::Error> {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT g.id, g.site_id, a.acked_seq, e.seq FROM agents g \
             LEFT JOIN agent_acks a ON a.agent_id = g.id LEFT JOIN events e ON ",
        );
        qb.push(stored_above_ack()).push(" WHERE g.id IN (");
        let mut list = qb.separated(", ");
        for agent in agents {
            list.push_bind(*agent);
        }
        qb.push(")");
        qb.build_query_as().fetch_all(&mut *self).await
    }

    async fn write(
        &mut self,
        writes: &EventWrites<'_>,
        received_at: i64,
    ) -> Result<(), sqlx::Error> {
        for (rows, conflict) in [
            (&writes.new, ""),
            (&writes.maybe_stored, MAYBE_STORED_EVENTS),
        ] {
            let all: Vec<usize> = (0..rows.seqs.len()).collect();
            for chunk in all.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) ",
                );
                qb.push_values(chunk, |mut b, &i| {
                    b.push_bind(rows.agent_ids[i])
                        .push_bind(rows.seqs[i])
                        .push_bind(rows.ats[i])
                        .push_bind(received_at)
                        .push_bind(rows.kinds[i])
                        .push_bind(rows.bodies[i].as_str());
                });
                qb.push(conflict);
                qb.build().execute(&mut *self).await?;
            }
        }
        for (rows, upsert) in [
            (&writes.with_start, UPSERT_WITH_START),
            (&writes.end_only, UPSERT_END),
        ] {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO sessions (");
                qb.push(SESSION_COLUMNS).push(") ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.agent_id)
                        .push_bind(r.session_id)
                        .push_bind(r.site_id)
                        .push_bind(r.slot_kind.as_str())
                        .push_bind(r.permanence_id)
                        .push_bind(r.with_ticket)
                        .push_bind(r.started_at)
                        .push_bind(r.ended_at)
                        .push_bind(r.end_reason.as_deref())
                        .push_bind(r.duration_secs)
                        .push_bind(received_at);
                });
                qb.push(upsert);
                qb.build().execute(&mut *self).await?;
            }
        }
        for chunk in writes.acks.chunks(INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO agent_acks (agent_id, acked_seq) ");
            qb.push_values(chunk, |mut b, (agent, seq)| {
                b.push_bind(*agent).push_bind(*seq);
            });
            qb.push(UPSERT_ACK);
            qb.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}

/// The one statement of [`BulkIngest::write`] on PostgreSQL: events certainly new ($1-$5),
/// perhaps stored ($6-$10), received at $11; sessions with their start ($12-$21), with
/// their end only ($22-$31); acks ($32-$33). An empty array inserts nothing. The parts
/// touch distinct rows, as PostgreSQL requires of one statement.
fn pg_write_sql() -> String {
    let events = |first: usize, conflict: &str| {
        format!(
            "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) \
             SELECT agent_id, seq, at, $11, kind, body_json FROM UNNEST(${}::text[], \
             ${}::bigint[], ${}::bigint[], ${}::text[], ${}::text[]) \
             AS r (agent_id, seq, at, kind, body_json){conflict}",
            first,
            first + 1,
            first + 2,
            first + 3,
            first + 4
        )
    };
    let sessions = |first: usize, upsert: &str| {
        let types = [
            "text", "text", "text", "text", "text", "boolean", "bigint", "bigint", "text", "bigint",
        ];
        let arrays: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(k, t)| format!("${}::{t}[]", first + k))
            .collect();
        format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) SELECT *, $11::bigint FROM UNNEST({}){upsert}",
            arrays.join(", ")
        )
    };
    format!(
        "WITH new_events AS ({}), maybe_stored AS ({}), with_start AS ({}), end_only AS ({}) \
         INSERT INTO agent_acks (agent_id, acked_seq) \
         SELECT * FROM UNNEST($32::text[], $33::bigint[]){UPSERT_ACK}",
        events(1, ""),
        events(6, MAYBE_STORED_EVENTS),
        sessions(12, UPSERT_WITH_START),
        sessions(22, UPSERT_END)
    )
}

impl BulkIngest for sqlx::PgConnection {
    async fn seats(&mut self, agents: &[&str]) -> Result<Vec<SeatRow>, sqlx::Error> {
        // One index range per seat, whatever the statistics (none yet on a new database)
        // suggest: the LIMIT keeps the planner from flattening the subquery into a join
        // that may scan every event, a plan it would then keep for this statement.
        let sql = format!(
            "SELECT g.id, g.site_id, a.acked_seq, e.seq FROM agents g \
             LEFT JOIN agent_acks a ON a.agent_id = g.id \
             LEFT JOIN LATERAL (SELECT e.seq FROM events e WHERE {} LIMIT {ACK_SCAN_WINDOW}) e \
             ON true WHERE g.id = ANY($1)",
            stored_above_ack()
        );
        sqlx::query_as(&sql)
            .bind(agents)
            .fetch_all(&mut *self)
            .await
    }

    async fn write(
        &mut self,
        writes: &EventWrites<'_>,
        received_at: i64,
    ) -> Result<(), sqlx::Error> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(pg_write_sql);
        let mut query = sqlx::query(SQL.as_str());
        for rows in [&writes.new, &writes.maybe_stored] {
            query = query
                .bind(&rows.agent_ids)
                .bind(&rows.seqs)
                .bind(&rows.ats)
                .bind(&rows.kinds)
                .bind(&rows.bodies);
        }
        query = query.bind(received_at);
        for rows in [&writes.with_start, &writes.end_only] {
            macro_rules! column {
                ($f:expr) => {
                    rows.iter().map($f).collect::<Vec<_>>()
                };
            }
            query = query
                .bind(column!(|r| r.agent_id))
                .bind(column!(|r| r.session_id))
                .bind(column!(|r| r.site_id))
                .bind(column!(|r| r.slot_kind.as_str()))
                .bind(column!(|r| r.permanence_id))
                .bind(column!(|r| r.with_ticket))
                .bind(column!(|r| r.started_at))
                .bind(column!(|r| r.ended_at))
                .bind(column!(|r| r.end_reason.as_deref()))
                .bind(column!(|r| r.duration_secs));
        }
        query
            .bind(writes.acks.iter().map(|(a, _)| *a).collect::<Vec<_>>())
            .bind(writes.acks.iter().map(|(_, s)| *s).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

/// What a transaction knows of one of its seats once it holds the seat's lock.
struct SeatState<'a> {
    site_id: &'a str,
    /// Its ack.
    acked: i64,
    /// Its seqs stored above the ack (at most [`ACK_SCAN_WINDOW`] above), ascending.
    stored: Vec<i64>,
}

impl SeatState<'_> {
    /// Whether the event is certainly not stored: above the ack, within the window read,
    /// and not read there. Others (resent after a lost ack, or far ahead) may be.
    fn lacks(&self, seq: i64) -> bool {
        seq > self.acked
            && seq <= self.acked.saturating_add(ACK_SCAN_WINDOW)
            && self.stored.binary_search(&seq).is_err()
    }
}

/// The end of the contiguous run of committed seqs above `acked`, given `stored`
/// (ascending, every one committed), and at most [`ACK_SCAN_WINDOW`] above `acked`: a seat
/// that leaves a gap (hostile: it never fills) does not make every later batch read all it
/// stored above it.
fn contiguous(acked: i64, stored: impl IntoIterator<Item = i64>) -> i64 {
    let limit = acked.saturating_add(ACK_SCAN_WINDOW);
    let mut up_to = acked;
    for seq in stored {
        if seq <= up_to {
            continue;
        }
        if seq != up_to.saturating_add(1) || seq > limit {
            break;
        }
        up_to = seq;
    }
    up_to
}

/// The session rows of a transaction: those holding a start (whether or not their end is
/// in the batch too), then those holding only an end.
fn session_rows<'a>(
    starts: &HashMap<(&'a str, &'a str), (&'a SessionStarted, UtcMillis)>,
    ends: &HashMap<(&'a str, &'a str), (&'a SessionEnded, UtcMillis)>,
    seats: &HashMap<&'a str, SeatState<'a>>,
) -> (Vec<SessionRow<'a>>, Vec<SessionRow<'a>>) {
    let site = |agent: &str| seats.get(agent).map(|s| s.site_id).unwrap_or_default();
    let mut with_start = Vec::with_capacity(starts.len());
    for (key, (s, at)) in starts {
        let end = ends.get(key);
        with_start.push(SessionRow {
            agent_id: key.0,
            session_id: key.1,
            site_id: site(key.0),
            slot_kind: label(&s.slot_kind),
            permanence_id: s.permanence_id.as_deref(),
            with_ticket: s.with_ticket,
            started_at: at.0,
            ended_at: end.map(|(_, at)| at.0),
            end_reason: end.map(|(e, _)| label(&e.reason)),
            duration_secs: end.map(|(e, _)| i64_of(e.duration_secs)),
        });
    }
    let mut end_only = Vec::new();
    for (key, (e, at)) in ends {
        if starts.contains_key(key) {
            continue;
        }
        let duration = i64_of(e.duration_secs);
        end_only.push(SessionRow {
            agent_id: key.0,
            session_id: key.1,
            site_id: site(key.0),
            slot_kind: "unknown".into(),
            permanence_id: None,
            with_ticket: false,
            // Until its start arrives, a session began its (believable) length ago.
            started_at: at.0.saturating_sub(believable_secs(duration) * 1000),
            ended_at: Some(at.0),
            end_reason: Some(label(&e.reason)),
            duration_secs: Some(duration),
        });
    }
    // In key order: the primary key's index is then written page after page.
    with_start.sort_unstable_by_key(|r| (r.agent_id, r.session_id));
    end_only.sort_unstable_by_key(|r| (r.agent_id, r.session_id));
    (with_start, end_only)
}

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

    /// Stores health snapshots of several agents in one transaction, as the link's ingest
    /// does (the demo's history writes its past through it).
    pub async fn ingest_health(
        &self,
        health: &[(String, HealthSnapshot)],
        received_at: UtcMillis,
    ) -> Result<(), StoreError> {
        self.ingest_work(&[], health, &[], received_at).await?;
        Ok(())
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
        let mut ordered: Vec<(&str, &EventEnvelope)> = batches
            .iter()
            .flat_map(|b| b.events.iter().map(move |e| (b.agent_id.as_str(), e)))
            .collect();
        // Stable: of two copies of an event, the first sent is the one stored.
        ordered.sort_by_key(|(agent, e)| (*agent, e.seq));
        let mut agents: Vec<&str> = batches.iter().map(|b| b.agent_id.as_str()).collect();
        agents.sort_unstable();
        agents.dedup();
        // Each agent's seqs in this transaction, ascending.
        let mut seqs: HashMap<&str, Vec<i64>> = HashMap::new();
        // One row per session and kind in a statement: PostgreSQL refuses to upsert a row
        // twice in one command. Seq order decides which copy wins.
        let mut starts: HashMap<(&str, &str), (&SessionStarted, UtcMillis)> = HashMap::new();
        let mut ends: HashMap<(&str, &str), (&SessionEnded, UtcMillis)> = HashMap::new();
        let mut results: Vec<(&str, &CommandResult, UtcMillis)> = Vec::new();
        let mut tickets: Vec<(&str, &TicketUsed, UtcMillis)> = Vec::new();
        for (agent, e) in &ordered {
            seqs.entry(agent).or_default().push(i64_of(e.seq));
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

        with_pool!(self, |pool| {
            let mut tx = IngestPool::begin_ingest(pool, &agents).await?;
            let read = if agents.is_empty() {
                Vec::new()
            } else {
                BulkIngest::seats(&mut *tx, &agents).await?
            };
            let mut seats: HashMap<&str, SeatState> = HashMap::new();
            for (agent, site_id, acked, seq) in &read {
                let seat = seats.entry(agent.as_str()).or_insert(SeatState {
                    site_id: site_id.as_str(),
                    acked: acked.unwrap_or(0),
                    stored: Vec::new(),
                });
                seat.stored.extend(*seq);
            }
            for seat in seats.values_mut() {
                seat.stored.sort_unstable();
            }

            let mut writes = EventWrites::default();
            let mut previous: Option<(&str, u64)> = None;
            for (agent, e) in &ordered {
                // A second copy in the batch adds nothing to the first.
                if previous.replace((*agent, e.seq)) == Some((*agent, e.seq)) {
                    continue;
                }
                match seats.get(agent) {
                    Some(seat) if seat.lacks(i64_of(e.seq)) => writes.new.push(agent, e),
                    _ => writes.maybe_stored.push(agent, e),
                }
            }
            (writes.with_start, writes.end_only) = session_rows(&starts, &ends, &seats);
            // The ack: the contiguous run of committed seqs above each agent's ack, from
            // those stored earlier (read under the lock) and this transaction's, known
            // without reading them back.
            let mut acked: HashMap<&str, i64> = HashMap::new();
            for (agent, seat) in &seats {
                let mut stored = seat.stored.clone();
                if let Some(mine) = seqs.get(agent) {
                    stored.extend_from_slice(mine);
                    stored.sort_unstable();
                }
                let up_to = contiguous(seat.acked, stored);
                if up_to != seat.acked {
                    writes.acks.push((agent, up_to));
                }
                acked.insert(agent, up_to);
            }
            writes.acks.sort_unstable();
            if !ordered.is_empty() || !writes.acks.is_empty() {
                BulkIngest::write(&mut *tx, &writes, received_at.0).await?;
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

            tx.commit().await?;
            let mut answer = IngestOutcome::default();
            for batch in batches {
                let up_to = acked.get(batch.agent_id.as_str()).copied().unwrap_or(0);
                answer.acks.push(u64::try_from(up_to).unwrap_or(0));
                answer
                    .spent_tickets
                    .push(spent.contains(batch.agent_id.as_str()));
            }
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

    /// Pages a seat printed in `[from, to)`: `(released by the visitor, released by
    /// staff)`, from its `pages_printed` events (stored once each, by `(agent_id, seq)`;
    /// kept as long as the technical log).
    pub async fn pages_printed(
        &self,
        agent_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<(u64, u64), StoreError> {
        let bodies: Vec<String> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT body_json FROM events WHERE agent_id = $1 AND kind = 'pages_printed' \
                 AND at >= $2 AND at < $3",
            )
            .bind(agent_id)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(pool)
            .await?
        });
        let (mut visitor, mut staff) = (0u64, 0u64);
        for body in bodies {
            if let Ok(AgentEvent::PagesPrinted(p)) = serde_json::from_str::<AgentEvent>(&body) {
                match p.released_by {
                    commune_protocol::messages::ReleasedBy::Staff => staff += u64::from(p.pages),
                    _ => visitor += u64::from(p.pages),
                }
            }
        }
        Ok((visitor, staff))
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

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::messages::{Alert, AlertKind};

    const NOW: UtcMillis = UtcMillis(1_795_183_200_000);

    fn alert(seq: u64) -> EventEnvelope {
        EventEnvelope {
            seq,
            at: NOW,
            event: AgentEvent::Alert(Alert {
                kind: AlertKind::DiskFull,
                message: format!("e{seq}"),
            }),
        }
    }

    /// Two controllers on one database ingesting one seat's events at once (the seat moved
    /// on while its old controller was still committing): neither fails, each event is
    /// stored once, and the later of the two acknowledges both.
    async fn two_controllers_ingest_one_seat_at_once(url: &str) {
        let (a, b) = (
            Store::open(url).await.unwrap(),
            Store::open(url).await.unwrap(),
        );
        a.add_site("mdh", "MDH", NOW).await.unwrap();
        let hash = [3u8; 32];
        a.create_token(&hash, "mdh", NOW, NOW.plus_secs(60))
            .await
            .unwrap();
        a.enroll(&hash, NOW, "ag-1", "pc", "0.1.0", |_| {
            Ok::<_, String>(((), "01".into(), NOW.plus_secs(60)))
        })
        .await
        .unwrap()
        .unwrap();
        for round in 0..5 {
            let base = round * 300;
            let first: Vec<EventEnvelope> = (base + 1..=base + 200).map(alert).collect();
            let second: Vec<EventEnvelope> = (base + 101..=base + 300).map(alert).collect();
            let (x, y) = tokio::join!(
                a.ingest_events("ag-1", &first, NOW),
                b.ingest_events("ag-1", &second, NOW)
            );
            assert_eq!(x.unwrap().max(y.unwrap()), base + 300);
        }
        assert_eq!(
            b.event_seqs("ag-1").await.unwrap(),
            (1..=1500).collect::<Vec<u64>>()
        );
        assert_eq!(a.acked_seq("ag-1").await.unwrap(), 1500);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn two_controllers_ingest_one_seat_at_once_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commune.db");
        two_controllers_ingest_one_seat_at_once(path.to_str().unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn two_controllers_ingest_one_seat_at_once_postgres() {
        if let Some(db) = commune_tests::postgres_database().await {
            two_controllers_ingest_one_seat_at_once(&db.url).await;
        }
    }

    #[test]
    fn the_ack_follows_the_contiguous_run_and_stops_at_a_gap() {
        assert_eq!(contiguous(0, [1, 2, 3]), 3);
        // Resent seqs below the ack, duplicates, then a gap at 6.
        assert_eq!(contiguous(3, [2, 3, 4, 4, 5, 7, 8]), 5);
        assert_eq!(contiguous(3, [5, 6]), 3);
        assert_eq!(contiguous(0, []), 0);
    }

    #[test]
    fn the_ack_moves_at_most_a_window_at_once() {
        let run = 1..=ACK_SCAN_WINDOW + 10;
        assert_eq!(contiguous(0, run.clone()), ACK_SCAN_WINDOW);
        assert_eq!(contiguous(ACK_SCAN_WINDOW, run), ACK_SCAN_WINDOW + 10);
    }

    #[test]
    fn only_events_above_the_ack_within_the_window_and_not_read_are_certainly_new() {
        let seat = SeatState {
            site_id: "mdh",
            acked: 10,
            stored: vec![12, 15],
        };
        assert!(seat.lacks(11) && seat.lacks(13) && seat.lacks(10 + ACK_SCAN_WINDOW));
        assert!(!seat.lacks(10) && !seat.lacks(3) && !seat.lacks(12) && !seat.lacks(15));
        assert!(!seat.lacks(11 + ACK_SCAN_WINDOW));
    }
}
