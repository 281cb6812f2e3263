//! The durable event outbox.
//!
//! Every event the agent reports is first committed here, in a local SQLite file, under the
//! next sequence number. The file is in WAL mode with `synchronous=FULL`: once `append`
//! returns, the event survives a crash or a power cut, and only then may anything act on it
//! being reported. The link sends what is pending in sequence order; the controller
//! acknowledges the highest contiguous sequence number it committed, and the acknowledged
//! events are deleted here.
//!
//! Sequence numbers come from a counter persisted beside the events, so a number is never
//! given twice, even after every event was acknowledged and deleted and the agent restarted:
//! the controller stores events idempotently on `(agent_id, seq)`, and a reused number would
//! make it drop a new event as a duplicate. An append is one transaction, so a refused or
//! failed append consumes no number and the sequence has no gaps, which the controller's
//! "highest contiguous" acknowledgement relies on.
//!
//! The outbox is bounded: when the controller is out of reach for days, new events are
//! refused rather than the disk filled. The append that brings it to 80 % says so, once per
//! filling, while there is still room to queue an `OutboxFilling` alert.
//!
//! The same file keeps the ids of the staff commands already executed, so that a command the
//! controller sends again (its result was lost with a connection) is executed once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use commune_protocol::frame::{decode_body, encode_body, FrameError};
use commune_protocol::messages::{AgentEvent, Alert, AlertKind, EventEnvelope};
use commune_protocol::UtcMillis;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;
use tokio::sync::{Mutex, Notify};

/// How long the id of an executed command is kept. Every command carries an expiry and is
/// refused after it, so an id only has to outlive the time its command can still arrive;
/// 30 days is far beyond that and keeps the table small.
pub const COMMAND_RETENTION_SECS: i64 = 30 * 24 * 3600;

/// The schema this build writes, kept in SQLite's `user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        seq   INTEGER PRIMARY KEY,
        at    INTEGER NOT NULL,
        body  BLOB NOT NULL
    )",
    // One row. Separate from `events` because that table is empty whenever everything was
    // acknowledged, and the next number must still follow the last one given.
    "CREATE TABLE IF NOT EXISTS seq_counter (
        id        INTEGER PRIMARY KEY CHECK (id = 0),
        last_seq  INTEGER NOT NULL
    )",
    "INSERT INTO seq_counter (id, last_seq) VALUES (0, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS executed_commands (
        id           TEXT PRIMARY KEY,
        executed_at  INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS executed_commands_at ON executed_commands (executed_at)",
    // Must equal SCHEMA_VERSION.
    "PRAGMA user_version = 1",
];

/// Why the outbox could not do what was asked, worded for IT.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The configured capacity is zero.
    #[error("the event outbox capacity is 0; configure room for at least one event")]
    ZeroCapacity,
    /// The file could not be opened or its schema created.
    #[error(
        "cannot open the event outbox {path}: {source}; check that its directory exists, \
         that the agent may write there and that the disk is not full"
    )]
    Open {
        /// The outbox file.
        path: PathBuf,
        /// What SQLite said.
        source: sqlx::Error,
    },
    /// The file was written by a newer agent, whose schema this build does not know.
    #[error(
        "the event outbox {path} was written by a newer agent (schema {found}, this agent \
         knows up to {SCHEMA_VERSION}); install the newer agent again"
    )]
    NewerSchema {
        /// The outbox file.
        path: PathBuf,
        /// The schema version found.
        found: i64,
    },
    /// Every slot holds an event the controller has not acknowledged; nothing was stored.
    #[error(
        "the event outbox is full ({capacity} events the controller has not acknowledged); \
         this event was not recorded. Restore the connection to the controller so that the \
         outbox drains"
    )]
    Full {
        /// How many events the outbox holds at most.
        capacity: u64,
    },
    /// The event could not be encoded.
    #[error("the event could not be encoded for the outbox: {0}")]
    Encode(#[source] FrameError),
    /// SQLite failed after the file was open.
    #[error(
        "the event outbox database failed: {0}; check the disk that holds the agent's \
         state directory"
    )]
    Database(#[from] sqlx::Error),
}

/// The result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The event's sequence number.
    pub seq: u64,
    /// This append brought the outbox to its alert level (80 % of capacity). Reported once
    /// per filling: again only after the level has dropped below 50 %.
    pub crossed_alert_threshold: bool,
}

/// Handle to the outbox file; cheap to clone, all clones share one pool and one alert level.
///
/// One `Outbox` per file: the alert level is kept in memory. Two handles opened on the same
/// file would still never share a sequence number, but each would report its own crossing.
#[derive(Clone, Debug)]
pub struct Outbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: SqlitePool,
    capacity: u64,
    /// Whether the next crossing of the alert level is to be reported. Appends and acks hold
    /// this lock for their whole transaction, so the level moves in the order they commit.
    alert_armed: Mutex<bool>,
    new_event: Notify,
}

impl Outbox {
    /// Opens the outbox at `path`, creating the file and its schema if needed, and forgets
    /// the ids of commands executed more than [`COMMAND_RETENTION_SECS`] ago.
    pub async fn open(path: &Path, capacity: u64) -> Result<Self, OutboxError> {
        Self::open_at(path, capacity, crate::now()).await
    }

    /// As [`Outbox::open`], with the current instant given (it only decides which command ids
    /// are old enough to forget).
    pub async fn open_at(path: &Path, capacity: u64, now: UtcMillis) -> Result<Self, OutboxError> {
        if capacity == 0 {
            return Err(OutboxError::ZeroCapacity);
        }
        let open_err = |source| OutboxError::Open {
            path: path.to_path_buf(),
            source,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: the WAL is synced at every commit, so an event whose append returned
            // survives a power cut, not only a crash of the agent.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        // Two connections: a reader (`pending`, `len`) need not wait behind a commit's fsync.
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(open_err)?;

        let mut tx = pool.begin().await.map_err(open_err)?;
        let found: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(OutboxError::NewerSchema {
                path: path.to_path_buf(),
                found,
            });
        }
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(open_err)?;
        }
        sqlx::query("DELETE FROM executed_commands WHERE executed_at < ?")
            .bind(now.plus_secs(-COMMAND_RETENTION_SECS).0)
            .execute(&mut *tx)
            .await
            .map_err(open_err)?;
        tx.commit().await.map_err(open_err)?;

        let len = count(&pool).await.map_err(open_err)?;
        // A file reopened above the alert level was already reported when it got there (the
        // alert is among its events); report again only after it drained below half.
        let armed = !at_alert_level(len, capacity);
        Ok(Outbox {
            inner: Arc::new(Inner {
                pool,
                capacity,
                alert_armed: Mutex::new(armed),
                new_event: Notify::new(),
            }),
        })
    }

    /// Stores `event` under the next sequence number. The event is committed to disk when
    /// this returns. When the outbox is full, returns [`OutboxError::Full`] and stores
    /// nothing (no number is consumed).
    ///
    /// If the future is dropped before it completes, the event may or may not be stored.
    pub async fn append(&self, at: UtcMillis, event: AgentEvent) -> Result<Appended, OutboxError> {
        let body = encode_body(&event).map_err(OutboxError::Encode)?;
        let capacity = self.inner.capacity;
        let mut armed = self.inner.alert_armed.lock().await;

        let mut tx = self.inner.pool.begin().await?;
        // A write first: it takes SQLite's write lock at once, so no other writer of the file
        // can change the count below between the check and the insert.
        let seq: i64 =
            sqlx::query_scalar("UPDATE seq_counter SET last_seq = last_seq + 1 RETURNING last_seq")
                .fetch_one(&mut *tx)
                .await?;
        let before = count(&mut *tx).await?;
        if before >= capacity {
            tx.rollback().await?;
            return Err(OutboxError::Full { capacity });
        }
        sqlx::query("INSERT INTO events (seq, at, body) VALUES (?, ?, ?)")
            .bind(seq)
            .bind(at.0)
            .bind(body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        let len = before + 1;
        let crossed = *armed && at_alert_level(len, capacity);
        if crossed {
            *armed = false;
            tracing::warn!(
                pending = len,
                capacity,
                "event outbox at 80% of its capacity: the controller has not acknowledged \
                 events for a while"
            );
        }
        drop(armed);

        // `notify_waiters` wakes everyone waiting now; `notify_one` leaves a permit for a
        // consumer that read `pending` just before this append but has not started waiting.
        self.inner.new_event.notify_waiters();
        self.inner.new_event.notify_one();

        Ok(Appended {
            seq: u64::try_from(seq).unwrap_or(0),
            crossed_alert_threshold: crossed,
        })
    }

    /// Up to `limit` events with `seq > after_seq`, in sequence order.
    ///
    /// An event whose stored body no longer decodes (a damaged disk) comes back as an alert
    /// under its own number rather than as an error: leaving it out would stop the
    /// controller's contiguous acknowledgement for good, and failing would stop delivery.
    pub async fn pending(
        &self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, OutboxError> {
        let rows =
            sqlx::query("SELECT seq, at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(i64_of(after_seq))
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.inner.pool)
                .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let seq = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0);
            let at = UtcMillis(row.try_get(1)?);
            let body: Vec<u8> = row.try_get(2)?;
            let event = decode_body(&body).unwrap_or_else(|e| unreadable(seq, &e));
            events.push(EventEnvelope { seq, at, event });
        }
        Ok(events)
    }

    /// Deletes every event with `seq <= up_to_seq` (the controller committed them) and
    /// returns how many were deleted.
    pub async fn ack(&self, up_to_seq: u64) -> Result<u64, OutboxError> {
        let mut armed = self.inner.alert_armed.lock().await;
        let mut tx = self.inner.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM events WHERE seq <= ?")
            .bind(i64_of(up_to_seq))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let len = count(&mut *tx).await?;
        tx.commit().await?;
        if !*armed && len.saturating_mul(2) < self.inner.capacity {
            *armed = true;
        }
        Ok(deleted)
    }

    /// How many events wait for the controller's acknowledgement.
    pub async fn len(&self) -> Result<u64, OutboxError> {
        Ok(count(&self.inner.pool).await?)
    }

    /// Whether no event waits.
    pub async fn is_empty(&self) -> Result<bool, OutboxError> {
        Ok(self.len().await? == 0)
    }

    /// How many events the outbox holds at most.
    pub fn capacity(&self) -> u64 {
        self.inner.capacity
    }

    /// The last sequence number given (0 before the first append), acknowledged or not.
    pub async fn last_seq(&self) -> Result<u64, OutboxError> {
        let last: i64 = sqlx::query_scalar("SELECT last_seq FROM seq_counter WHERE id = 0")
            .fetch_one(&self.inner.pool)
            .await?;
        Ok(u64::try_from(last).unwrap_or(0))
    }

    /// Makes every later event numbered above `controller_acked_seq`, if the controller has
    /// committed more than this outbox ever numbered. That happens only when the file was
    /// lost or rolled back (deleted by hand, disk image restored) while the agent kept its
    /// identity; without this, the controller would take the new events for duplicates and
    /// drop them. Call it with `Welcome::acked_seq` before acknowledging. Returns whether
    /// the numbering moved.
    ///
    /// Events already pending with numbers at or below `controller_acked_seq` keep them: they
    /// cannot be told apart from events the controller already has.
    pub async fn resume_after(&self, controller_acked_seq: u64) -> Result<bool, OutboxError> {
        let _writes = self.inner.alert_armed.lock().await;
        let moved =
            sqlx::query("UPDATE seq_counter SET last_seq = ?1 WHERE id = 0 AND last_seq < ?1")
                .bind(i64_of(controller_acked_seq))
                .execute(&self.inner.pool)
                .await?
                .rows_affected()
                == 1;
        if moved {
            tracing::warn!(
                controller_acked_seq,
                "the controller has more events from this agent than its outbox numbered \
                 (outbox file lost or restored); numbering continues after the controller's"
            );
        }
        Ok(moved)
    }

    /// Resolves after the next append. If nobody was waiting at the last append, the next
    /// call resolves at once for it: a consumer that read [`Outbox::pending`] just before an
    /// append does not miss it, and reads `pending` again after a wake anyway. Cancel-safe.
    pub async fn wait_for_new(&self) {
        self.inner.new_event.notified().await;
    }

    /// Records that the command `command_id` is being executed. Returns true if it was not
    /// recorded before (execute it), false if it was (do not execute it again).
    ///
    /// Record before executing: a crash in between leaves the command not executed rather
    /// than executed twice, the safe side for commands such as ending a visitor's session.
    pub async fn record_command(
        &self,
        command_id: &str,
        at: UtcMillis,
    ) -> Result<bool, OutboxError> {
        let inserted = sqlx::query(
            "INSERT INTO executed_commands (id, executed_at) VALUES (?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(command_id)
        .bind(at.0)
        .execute(&self.inner.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Appends an event and, when this append brings the outbox to its alert level, logs an
    /// error and appends an alert for IT behind it. The way agent code records events.
    pub async fn emit(&self, at: UtcMillis, event: AgentEvent) -> Result<u64, OutboxError> {
        let appended = self.append(at, event).await?;
        if appended.crossed_alert_threshold {
            let message = format!(
                "the event outbox of this computer is 80 % full ({} events the controller has not \
                 acknowledged); restore its connection before events are lost",
                (self.capacity() * 4) / 5
            );
            tracing::error!("{message}");
            // If even the alert does not fit, the error above is all that can be done.
            let _ = self
                .append(
                    at,
                    AgentEvent::Alert(Alert {
                        kind: AlertKind::OutboxFilling,
                        message,
                    }),
                )
                .await;
        }
        Ok(appended.seq)
    }
}

async fn count<'c, E>(executor: E) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(executor)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether `len` events reach 80 % of `capacity` (computed wide: no overflow, no rounding).
fn at_alert_level(len: u64, capacity: u64) -> bool {
    u128::from(len) * 5 >= u128::from(capacity) * 4
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn unreadable(seq: u64, error: &FrameError) -> AgentEvent {
    tracing::error!(seq, error = %error, "an event in the outbox no longer decodes");
    AgentEvent::Alert(Alert {
        kind: AlertKind::Other,
        message: format!(
            "event {seq} in this computer's outbox was unreadable ({error}) and is replaced \
             by this alert; check the computer's disk"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::messages::WarningShown;

    const T0: UtcMillis = UtcMillis(1_795_183_200_000);

    fn event(n: u32) -> AgentEvent {
        AgentEvent::WarningShown(WarningShown {
            session_id: format!("session-{n}"),
            minutes_left: n,
        })
    }

    async fn open(dir: &tempfile::TempDir, capacity: u64) -> Outbox {
        Outbox::open_at(&dir.path().join("outbox.db"), capacity, T0)
            .await
            .expect("open outbox")
    }

    async fn append_n(outbox: &Outbox, n: u32) -> Vec<Appended> {
        let mut out = Vec::new();
        for i in 0..n {
            out.push(
                outbox
                    .append(T0.plus_secs(i64::from(i)), event(i))
                    .await
                    .expect("append"),
            );
        }
        out
    }

    fn seqs(events: &[EventEnvelope]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[tokio::test]
    async fn seq_keeps_increasing_across_reopen_after_everything_was_acked() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 100).await;
        let first: Vec<u64> = append_n(&outbox, 3).await.iter().map(|a| a.seq).collect();
        assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
        assert_eq!(outbox.ack(first[2]).await.unwrap(), 3);
        assert_eq!(outbox.len().await.unwrap(), 0);
        drop(outbox);

        let outbox = open(&dir, 100).await;
        let next = outbox.append(T0, event(9)).await.unwrap().seq;
        assert!(next > first[2], "seq {next} reused after {first:?}");
        assert_eq!(outbox.last_seq().await.unwrap(), next);
    }

    #[tokio::test]
    async fn pending_returns_events_after_a_seq_in_order_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 100).await;
        append_n(&outbox, 5).await;

        let all = outbox.pending(0, 10).await.unwrap();
        assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
        for (i, e) in all.iter().enumerate() {
            let i = u32::try_from(i).unwrap();
            assert_eq!(e.event, event(i));
            assert_eq!(e.at, T0.plus_secs(i64::from(i)));
        }
        assert_eq!(seqs(&outbox.pending(2, 2).await.unwrap()), [3, 4]);
        assert!(outbox.pending(5, 10).await.unwrap().is_empty());
        assert!(outbox.pending(0, 0).await.unwrap().is_empty());
        assert!(outbox.pending(u64::MAX, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn ack_removes_exactly_the_events_up_to_the_seq() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 100).await;
        append_n(&outbox, 5).await;

        assert_eq!(outbox.ack(3).await.unwrap(), 3);
        assert_eq!(seqs(&outbox.pending(0, 10).await.unwrap()), [4, 5]);
        assert_eq!(
            outbox.ack(3).await.unwrap(),
            0,
            "a repeated ack deletes nothing"
        );
        assert_eq!(outbox.ack(0).await.unwrap(), 0);
        assert_eq!(outbox.ack(10).await.unwrap(), 2);
        assert!(outbox.is_empty().await.unwrap());
    }

    #[tokio::test]
    async fn full_outbox_refuses_and_the_alert_level_is_reported_once_per_filling() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 10).await;

        let crossed: Vec<bool> = append_n(&outbox, 10)
            .await
            .iter()
            .map(|a| a.crossed_alert_threshold)
            .collect();
        // 8 of 10 is the 80 % mark.
        assert_eq!(
            crossed,
            [false, false, false, false, false, false, false, true, false, false]
        );

        match outbox.append(T0, event(99)).await {
            Err(OutboxError::Full { capacity: 10 }) => {}
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(outbox.len().await.unwrap(), 10);
        assert_eq!(
            outbox.last_seq().await.unwrap(),
            10,
            "a refusal consumes no seq"
        );

        // Down to 5 of 10: not below half, so still not re-armed.
        outbox.ack(5).await.unwrap();
        let again = append_n(&outbox, 3).await;
        assert_eq!(again[0].seq, 11, "no gap after a refusal");
        assert!(again.iter().all(|a| !a.crossed_alert_threshold));

        // Down to 4 of 10: below half, re-armed; the next time it reaches 8 is reported.
        outbox.ack(9).await.unwrap();
        assert_eq!(outbox.len().await.unwrap(), 4);
        let crossed: Vec<bool> = append_n(&outbox, 5)
            .await
            .iter()
            .map(|a| a.crossed_alert_threshold)
            .collect();
        assert_eq!(crossed, [false, false, false, true, false]);
    }

    #[tokio::test]
    async fn commands_are_recorded_once_also_after_reopen_and_old_ids_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 10).await;
        assert!(outbox.record_command("cmd-1", T0).await.unwrap());
        assert!(!outbox
            .record_command("cmd-1", T0.plus_secs(5))
            .await
            .unwrap());
        assert!(outbox
            .record_command("cmd-2", T0.plus_secs(86_400))
            .await
            .unwrap());
        drop(outbox);

        let outbox = open(&dir, 10).await;
        assert!(!outbox.record_command("cmd-1", T0).await.unwrap());
        drop(outbox);

        // 30 days and a half later cmd-1 is forgotten; cmd-2, a day younger, is not.
        let later = T0.plus_secs(COMMAND_RETENTION_SECS + 43_200);
        let outbox = Outbox::open_at(&dir.path().join("outbox.db"), 10, later)
            .await
            .unwrap();
        assert!(!outbox.record_command("cmd-2", later).await.unwrap());
        assert!(outbox.record_command("cmd-1", later).await.unwrap());
    }

    #[tokio::test]
    async fn an_append_that_returned_survives_without_any_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        let outbox = open(&dir, 10).await;
        let seq = outbox.append(T0, event(7)).await.unwrap().seq;

        // What a power cut leaves: the files as they are on disk now, the handle still open.
        let image = tempfile::tempdir().unwrap();
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{}{suffix}", path.display()));
            let to = image.path().join(format!("outbox.db{suffix}"));
            if from.exists() {
                std::fs::copy(&from, &to).unwrap();
            }
        }
        let recovered = open(&image, 10).await;
        let found = recovered.pending(0, 10).await.unwrap();
        assert_eq!(seqs(&found), [seq]);
        assert_eq!(found[0].event, event(7));

        drop(outbox);
        let reopened = open(&dir, 10).await;
        assert_eq!(seqs(&reopened.pending(0, 10).await.unwrap()), [seq]);
    }

    #[tokio::test]
    async fn the_file_is_in_wal_mode_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 10).await;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&outbox.inner.pool)
            .await
            .unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&outbox.inner.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[tokio::test]
    async fn wait_for_new_wakes_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 10).await;
        let waiting = outbox.wait_for_new();
        tokio::pin!(waiting);
        // Polled once: registered as a waiter, and not woken by anything yet.
        tokio::select! {
            biased;
            () = &mut waiting => panic!("woke before any append"),
            () = std::future::ready(()) => {}
        }
        outbox.append(T0, event(1)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("not woken by the append");
    }

    #[tokio::test]
    async fn numbering_resumes_after_the_controller_when_the_file_was_lost() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = open(&dir, 10).await;
        append_n(&outbox, 2).await;
        assert!(outbox.resume_after(100).await.unwrap());
        assert_eq!(outbox.append(T0, event(3)).await.unwrap().seq, 101);
        assert!(!outbox.resume_after(50).await.unwrap(), "never moves back");
        assert_eq!(outbox.append(T0, event(4)).await.unwrap().seq, 102);
    }

    #[tokio::test]
    async fn zero_capacity_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let result = Outbox::open_at(&dir.path().join("outbox.db"), 0, T0).await;
        assert!(matches!(result, Err(OutboxError::ZeroCapacity)));
    }
}
