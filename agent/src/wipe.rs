//! The wipe and its proof, and the journal that makes it crash-safe.
//!
//! The journal names the session's account *before* the account exists, is moved to
//! `wiping` before teardown begins, and is only removed once the wipe verified and its
//! report sits in the outbox. An agent that starts and finds a journal (or an account of its
//! range that the journal does not name) finishes and verifies that wipe before anyone can
//! start a session.

use std::path::{Path, PathBuf};
use std::time::Instant;

use commune_protocol::messages::{EndReason, SlotKind, WipeReport};
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};

use crate::platform::{Account, SessionPlatform};

/// Where a session is in its life, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The account is being created (it may or may not exist yet).
    Creating,
    /// The visitor's session runs.
    Session,
    /// Teardown began.
    Wiping,
    /// The wipe did not verify: the seat is blocked and the uid quarantined.
    Failed,
}

/// The journal's one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The session.
    pub session_id: String,
    /// Its account.
    pub account: Account,
    /// Its kind.
    pub kind: SlotKind,
    /// Where it is.
    pub phase: Phase,
    /// When it started (wall clock, for the report only).
    pub started_at: UtcMillis,
    /// How it ended, recorded before the `SessionEnded` event is queued so that recovery
    /// queues the very same event again (the controller's upsert makes that idempotent).
    #[serde(default)]
    pub end: Option<SessionEnd>,
}

/// The end of a session as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnd {
    /// When it ended.
    pub at: UtcMillis,
    /// Why.
    pub reason: EndReason,
    /// How long it lasted (monotonic clock).
    pub duration_secs: u64,
    /// How many documents were left to erase.
    pub documents: u32,
}

/// The wipe journal: one small file in the agent's state directory, written durably.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// File name in the state directory.
    pub const FILE: &'static str = "wipe-journal.json";

    /// The journal in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Journal {
            path: state_dir.join(Self::FILE),
        }
    }

    /// The unfinished session, if any. An unreadable journal is an error: the agent must
    /// not guess that nothing needs wiping.
    pub fn read(&self) -> std::io::Result<Option<JournalEntry>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records the entry durably (fsync of the file and its directory) before returning.
    pub fn write(&self, entry: &JournalEntry) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(entry)?;
        write_durably(&self.path, &bytes)
    }

    /// Removes the record once the wipe verified and its report is queued.
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Writes a file and syncs it and its directory, so it survives a crash or power loss.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Tears the session down and verifies, timing every step. Blocking: run it on a blocking
/// thread. The uid is released only when every step succeeded and every check passed.
/// `courtesy`: give the session's processes a SIGTERM and a short grace first (not after a
/// crash).
pub fn wipe(
    platform: &dyn SessionPlatform,
    account: &Account,
    session_id: &str,
    courtesy: bool,
) -> WipeReport {
    let start = Instant::now();
    let mut round_steps = platform.terminate(account, courtesy);
    round_steps.extend(platform.purge(account));
    let mut checks = platform.verify(account);
    let mut steps = Vec::new();
    // Something re-created during the purge (a process that escaped the first kill, a
    // daemon finishing a job it took for the session) is removed by another round: root
    // can remove whatever a visitor made, so a visitor must not be able to block the seat.
    // Only the last round's steps and checks decide.
    for round in 2..=MAX_ROUNDS {
        if round_steps.iter().all(|s| s.ok) && checks.iter().all(|c| c.passed) {
            break;
        }
        tracing::warn!(round, summary = %summarise(&round_steps, &checks), "wipe did not verify; another round");
        steps.append(&mut round_steps);
        round_steps = platform.terminate(account, false);
        round_steps.extend(platform.purge(account));
        checks = platform.verify(account);
    }
    let last_round_ok = round_steps.iter().all(|s| s.ok);
    steps.append(&mut round_steps);
    let verified = last_round_ok && checks.iter().all(|c| c.passed);
    let total_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    if verified {
        platform.release(account);
    }
    let caps = platform.capabilities();
    WipeReport {
        session_id: session_id.to_owned(),
        verified,
        total_us,
        steps,
        checks,
        kernel: caps.kernel.clone(),
        swap: caps.swap.clone(),
    }
}

/// Rounds of terminate, purge and verify before a wipe is declared failed.
pub const MAX_ROUNDS: u32 = 3;

fn summarise(
    steps: &[commune_protocol::messages::WipeStep],
    checks: &[commune_protocol::messages::WipeCheck],
) -> String {
    failure_summary(&WipeReport {
        session_id: String::new(),
        verified: false,
        total_us: 0,
        steps: steps.to_vec(),
        checks: checks.to_vec(),
        kernel: String::new(),
        swap: String::new(),
    })
}

/// One sentence on why a wipe did not verify, for the blocked screen, the alert and logs.
/// Names steps and checks, never a visitor's file.
pub fn failure_summary(report: &WipeReport) -> String {
    let mut parts: Vec<String> = report
        .steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| match &s.detail {
            Some(d) => format!("step {} failed: {d}", s.name),
            None => format!("step {} failed", s.name),
        })
        .collect();
    parts.extend(
        report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("check {}: {} left", c.name, c.found)),
    );
    if parts.is_empty() {
        "verified".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_and_clears() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        assert_eq!(journal.read().unwrap(), None);
        let entry = JournalEntry {
            session_id: "s".into(),
            account: Account {
                name: "cmn-x".into(),
                uid: 61000,
                gid: 61000,
                home: "/home/commune/cmn-x".into(),
            },
            kind: SlotKind::Free,
            phase: Phase::Wiping,
            started_at: UtcMillis(1),
            end: None,
        };
        journal.write(&entry).unwrap();
        assert_eq!(journal.read().unwrap(), Some(entry));
        journal.clear().unwrap();
        assert_eq!(journal.read().unwrap(), None);
        journal.clear().unwrap();
    }

    #[test]
    fn a_corrupt_journal_is_an_error_not_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(Journal::FILE), b"{not json").unwrap();
        assert!(Journal::new(dir.path()).read().is_err());
    }
}
