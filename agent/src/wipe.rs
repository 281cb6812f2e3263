//! The wipe and its proof, and the journal that makes it crash-safe.
//!
//! The journal names the session's account *before* the account exists, is moved to
//! `wiping` before teardown begins, and is only removed once the wipe verified and its
//! report sits in the outbox. An agent that starts and finds a journal (or an account of its
//! range that the journal does not name) finishes and verifies that wipe before anyone can
//! start a session.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
        handoffs: 0,
    }
}

/// How one operating system reaches a session's processes: the narrow part of ending a
/// session that differs between platforms (`LinuxDirect` by uid and cgroup, the sandbox by
/// process group). The sequence itself (courtesy, grace, kill until none is left, what is
/// reported) is [`end_processes`], the same for every platform.
pub trait SessionProcesses {
    /// Reaps what this process may reap of the session, then lists the ids of its live
    /// (not zombie) processes; `None` when they exist but cannot be listed here.
    fn alive(&mut self) -> Option<Vec<i32>>;
    /// Asks every process of the session to leave (SIGTERM).
    fn ask_to_leave(&mut self) -> Result<(), String>;
    /// Kills every process of the session it can reach, once (SIGKILL, cgroup.kill…).
    fn kill_all(&mut self) -> Result<(), String>;
}

/// What [`end_processes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ending {
    /// Distinct processes seen alive, and so signalled, over the whole ending.
    pub signalled: u64,
    /// Rounds of killing.
    pub kill_rounds: u64,
    /// Processes still alive at the end (0 when it worked).
    pub left: u64,
    /// The first signalling error, if any.
    pub error: Option<String>,
    /// Time spent in the courtesy grace.
    pub term_us: u64,
    /// Time spent killing.
    pub kill_us: u64,
}

/// How long [`end_processes`] gives, and how often it looks.
#[derive(Debug, Clone, Copy)]
pub struct EndTimings {
    /// After the courtesy SIGTERM (zero: no courtesy).
    pub grace: Duration,
    /// Killing goes on at most this long (a session may fork while it is killed).
    pub kill_timeout: Duration,
    /// Pause between looks.
    pub poll: Duration,
}

/// Ends every process of a session: a courtesy SIGTERM and a grace when asked, then
/// SIGKILL rounds until none is left or the time is up. Blocking.
pub fn end_processes(procs: &mut dyn SessionProcesses, timings: EndTimings) -> Ending {
    let mut seen = std::collections::BTreeSet::new();
    let mut unlisted = false;
    let mut look =
        |procs: &mut dyn SessionProcesses, seen: &mut std::collections::BTreeSet<i32>| -> u64 {
            match procs.alive() {
                Some(pids) => {
                    let n = pids.len() as u64;
                    seen.extend(pids);
                    n
                }
                None => {
                    unlisted = true;
                    1
                }
            }
        };
    let mut error = None;
    let start = Instant::now();
    if !timings.grace.is_zero() && look(procs, &mut seen) > 0 {
        if let Err(e) = procs.ask_to_leave() {
            error.get_or_insert(e);
        }
        while start.elapsed() < timings.grace && look(procs, &mut seen) > 0 {
            std::thread::sleep(timings.poll);
        }
    }
    let term_us = micros_since(start);
    let start = Instant::now();
    let mut rounds = 0;
    let mut left = look(procs, &mut seen);
    while left > 0 && (rounds == 0 || start.elapsed() < timings.kill_timeout) {
        rounds += 1;
        if let Err(e) = procs.kill_all() {
            error.get_or_insert(e);
        }
        if !timings.poll.is_zero() {
            std::thread::sleep(timings.poll);
        }
        left = look(procs, &mut seen);
    }
    let signalled = seen.len() as u64;
    Ending {
        signalled: if unlisted {
            signalled.max(1)
        } else {
            signalled
        },
        kill_rounds: rounds,
        left,
        error,
        term_us,
        kill_us: micros_since(start),
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A step of a wipe's report, timed from `start`.
pub fn step(
    name: &str,
    start: Instant,
    count: u64,
    result: Result<(), String>,
) -> commune_protocol::messages::WipeStep {
    commune_protocol::messages::WipeStep {
        name: name.into(),
        duration_us: micros_since(start),
        count,
        ok: result.is_ok(),
        detail: result.err(),
    }
}

/// A check of a wipe's report: passed when nothing was found; says how it looked.
pub fn check(
    name: &str,
    found: u64,
    examined: u64,
    method: impl Into<String>,
) -> commune_protocol::messages::WipeCheck {
    commune_protocol::messages::WipeCheck {
        name: name.into(),
        passed: found == 0,
        found,
        method: method.into(),
        examined,
    }
}

/// Rounds of terminate, purge and verify before a wipe is declared failed.
pub const MAX_ROUNDS: u32 = 3;

/// One sentence on why a wipe did not verify, for the blocked screen, the alert and logs.
/// Names steps and checks, never a visitor's file.
pub fn failure_summary(report: &WipeReport) -> String {
    summarise(&report.steps, &report.checks)
}

fn summarise(
    steps: &[commune_protocol::messages::WipeStep],
    checks: &[commune_protocol::messages::WipeCheck],
) -> String {
    let mut parts: Vec<String> = steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| match &s.detail {
            Some(d) => format!("step {} failed: {d}", s.name),
            None => format!("step {} failed", s.name),
        })
        .collect();
    parts.extend(
        checks
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

    /// Processes as numbers: each kill takes away `per_kill`; a TERM takes away the polite ones.
    struct Fake {
        alive: Vec<i32>,
        polite: usize,
        per_kill: usize,
        kills: u64,
        terms: u64,
    }

    impl SessionProcesses for Fake {
        fn alive(&mut self) -> Option<Vec<i32>> {
            Some(self.alive.clone())
        }
        fn ask_to_leave(&mut self) -> Result<(), String> {
            self.terms += 1;
            let keep = self.alive.len().saturating_sub(self.polite);
            self.alive.truncate(keep);
            Ok(())
        }
        fn kill_all(&mut self) -> Result<(), String> {
            self.kills += 1;
            let keep = self.alive.len().saturating_sub(self.per_kill);
            self.alive.truncate(keep);
            Ok(())
        }
    }

    const QUICK: EndTimings = EndTimings {
        grace: Duration::from_millis(50),
        kill_timeout: Duration::from_secs(5),
        poll: Duration::ZERO,
    };

    #[test]
    fn killing_goes_on_until_no_process_is_left() {
        let mut fake = Fake {
            alive: (1..=10).collect(),
            polite: 0,
            per_kill: 3,
            kills: 0,
            terms: 0,
        };
        let ending = end_processes(&mut fake, QUICK);
        assert_eq!(ending.left, 0);
        assert_eq!(ending.kill_rounds, 4, "10 processes, 3 per round");
        assert_eq!(ending.signalled, 10);
        assert_eq!(fake.terms, 1);
    }

    #[test]
    fn a_session_that_leaves_on_sigterm_is_not_killed() {
        let mut fake = Fake {
            alive: vec![7, 8],
            polite: 2,
            per_kill: 1,
            kills: 0,
            terms: 0,
        };
        let ending = end_processes(&mut fake, QUICK);
        assert_eq!((ending.left, ending.kill_rounds, fake.kills), (0, 0, 0));
    }

    #[test]
    fn without_courtesy_nothing_is_asked_and_survivors_are_reported() {
        let mut fake = Fake {
            alive: vec![1, 2],
            polite: 2,
            per_kill: 0,
            kills: 0,
            terms: 0,
        };
        let ending = end_processes(
            &mut fake,
            EndTimings {
                grace: Duration::ZERO,
                kill_timeout: Duration::from_millis(30),
                poll: Duration::from_millis(1),
            },
        );
        assert_eq!(fake.terms, 0);
        assert_eq!(ending.left, 2, "survivors are reported, not hidden");
        assert!(ending.kill_rounds >= 1);
    }

    #[test]
    fn a_corrupt_journal_is_an_error_not_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(Journal::FILE), b"{not json").unwrap();
        assert!(Journal::new(dir.path()).read().is_err());
    }
}
