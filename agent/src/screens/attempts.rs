//! The limit on guesses (mediator PINs, ticket codes): at most [`MAX_FAILURES`] checked in
//! any [`FAILURE_WINDOW`], across restarts of the agent.
//!
//! An attempt is counted *before* it is checked: [`Attempts::reserve`] takes one of the
//! window's places (and writes it to disk) or refuses, and only a request holding a place
//! goes on to the check. Many requests sent at once therefore cannot all pass while the
//! first ones are still being checked (Argon2 is slow on purpose): the sixth is refused
//! before any is answered. A success gives its place back ([`Reservation::give_back`]); a
//! failure keeps it until the window has passed.
//!
//! The places are instants on the wall clock ([`UtcMillis`]), kept in a small file of the
//! agent's state directory and read at start, so that restarting the agent (or making it
//! crash) does not reset the count. An instant further in the future than one window (the
//! clock was set back) is dropped rather than trusted to block for longer than that.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};

/// Wrong PINs and unknown ticket codes checked per [`FAILURE_WINDOW`] at most.
pub const MAX_FAILURES: usize = 5;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The file, in the agent's state directory.
pub const ATTEMPTS_FILE: &str = "screens-attempts.json";

/// What the file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    /// When each place still held was taken.
    attempts: Vec<UtcMillis>,
}

#[derive(Debug, Default)]
struct Places {
    /// (id, when) of each place held.
    held: Vec<(u64, UtcMillis)>,
    next_id: u64,
}

/// The wall clock the limiter reads (tests move it).
pub type Clock = Arc<dyn Fn() -> UtcMillis + Send + Sync>;

/// The limiter. Shared by the screens' requests.
pub struct Attempts {
    file: PathBuf,
    clock: Clock,
    places: Mutex<Places>,
    /// Serialises the writes, so that the file always ends with the newest places.
    writing: Mutex<()>,
    /// Attempts seen (checked or refused) since start.
    seen: AtomicU64,
    /// Attempts refused without a check since start.
    refused: AtomicU64,
}

impl std::fmt::Debug for Attempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempts")
            .field("file", &self.file)
            .field("held", &lock(&self.places).held.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn window_ms() -> i64 {
    i64::try_from(FAILURE_WINDOW.as_millis()).unwrap_or(i64::MAX)
}

impl Attempts {
    /// The limiter of the state directory `state_dir`, with the places its file still
    /// holds. A file that exists but cannot be read counts as a full window (logged): a
    /// broken file must not reopen the door to guessing.
    pub fn load(state_dir: &Path, clock: Clock) -> Attempts {
        let file = state_dir.join(ATTEMPTS_FILE);
        let now = clock();
        let held: Vec<UtcMillis> = match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(stored) => stored.attempts,
                Err(error) => {
                    tracing::error!(%error, file = %file.display(), "the screens' attempts file is unreadable; PINs and tickets wait one minute");
                    vec![now; MAX_FAILURES]
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                tracing::error!(%error, file = %file.display(), "the screens' attempts file is unreadable; PINs and tickets wait one minute");
                vec![now; MAX_FAILURES]
            }
        };
        let mut places = Places::default();
        for at in held {
            places.held.push((places.next_id, at));
            places.next_id += 1;
        }
        prune(&mut places, now);
        Attempts {
            file,
            clock,
            places: Mutex::new(places),
            writing: Mutex::new(()),
            seen: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Counts an attempt and takes a place for its check, written to disk before this
    /// returns; `None` when the window's places are all taken: the attempt is refused
    /// unchecked. Blocking (a synced write): call it off the runtime's threads.
    pub fn reserve(self: &Arc<Self>) -> Option<Reservation> {
        self.seen.fetch_add(1, Ordering::Relaxed);
        let id = {
            let mut places = lock(&self.places);
            prune(&mut places, (self.clock)());
            if places.held.len() >= MAX_FAILURES {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            let id = places.next_id;
            places.next_id += 1;
            places.held.push((id, (self.clock)()));
            id
        };
        self.persist();
        Some(Reservation {
            attempts: self.clone(),
            id,
        })
    }

    /// Attempts counted since start (checked or refused).
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// Attempts refused unchecked since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Places held now.
    pub fn held(&self) -> usize {
        let mut places = lock(&self.places);
        prune(&mut places, (self.clock)());
        places.held.len()
    }

    fn give_back(&self, id: u64) {
        lock(&self.places).held.retain(|(held, _)| *held != id);
        self.persist();
    }

    /// Writes the places held now. A write that fails is logged: the limit still holds in
    /// memory until the agent restarts.
    fn persist(&self) {
        let _writing = lock(&self.writing);
        let stored = Stored {
            attempts: lock(&self.places).held.iter().map(|(_, at)| *at).collect(),
        };
        let written = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::wipe::write_durably(&self.file, &bytes));
        if let Err(error) = written {
            tracing::error!(%error, file = %self.file.display(), "could not keep the screens' attempts on disk");
        }
    }
}

/// Drops the places older than the window, and those further ahead than a window (a clock
/// set back).
fn prune(places: &mut Places, now: UtcMillis) {
    let window = window_ms();
    places.held.retain(|(_, at)| {
        let age = now.0.saturating_sub(at.0);
        age < window && age > -window
    });
}

/// A place taken for one check. Dropped, it stays taken until the window has passed (the
/// attempt failed, or its outcome is unknown); [`Reservation::give_back`] frees it.
#[must_use = "a reservation is kept by dropping it, or given back"]
pub struct Reservation {
    attempts: Arc<Attempts>,
    id: u64,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation").field("id", &self.id).finish()
    }
}

impl Reservation {
    /// Frees the place (the attempt succeeded, or was not a guess after all). Blocking.
    pub fn give_back(self) {
        self.attempts.give_back(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    fn clock_at(start: i64) -> (Arc<AtomicI64>, Clock) {
        let now = Arc::new(AtomicI64::new(start));
        let read = now.clone();
        (
            now,
            Arc::new(move || UtcMillis(read.load(Ordering::Relaxed))),
        )
    }

    #[test]
    fn places_are_taken_before_the_check_kept_on_failure_and_given_back_on_success() {
        let dir = tempfile::tempdir().unwrap();
        let (now, clock) = clock_at(1_000_000);
        let attempts = Arc::new(Attempts::load(dir.path(), clock));
        let held: Vec<Reservation> = (0..MAX_FAILURES)
            .map(|_| attempts.reserve().expect("a place"))
            .collect();
        // The sixth is refused while the first five are still being checked.
        assert!(attempts.reserve().is_none());
        assert_eq!((attempts.seen(), attempts.refused()), (6, 1));
        // One succeeded: its place is free again; the failures keep theirs.
        let mut held = held.into_iter();
        held.next().unwrap().give_back();
        drop(held);
        let again = attempts.reserve().expect("the place given back");
        drop(again);
        assert!(attempts.reserve().is_none());
        // A window later, every place is free.
        now.fetch_add(window_ms(), Ordering::Relaxed);
        assert_eq!(attempts.held(), 0);
        assert!(attempts.reserve().is_some());
    }

    #[test]
    fn the_places_survive_a_restart_and_a_broken_file_counts_as_full() {
        let dir = tempfile::tempdir().unwrap();
        let (now, clock) = clock_at(5_000_000);
        let attempts = Arc::new(Attempts::load(dir.path(), clock.clone()));
        for _ in 0..MAX_FAILURES {
            drop(attempts.reserve().unwrap());
        }
        drop(attempts);
        let restarted = Arc::new(Attempts::load(dir.path(), clock.clone()));
        assert!(restarted.reserve().is_none(), "still full after a restart");
        now.fetch_add(window_ms(), Ordering::Relaxed);
        let later = Arc::new(Attempts::load(dir.path(), clock.clone()));
        assert_eq!(later.held(), 0);
        // A clock set back far: the places from "the future" do not block for longer.
        let (_, past) = clock_at(5_000_000 - 10 * window_ms());
        let set_back = Attempts::load(dir.path(), past);
        assert_eq!(set_back.held(), 0);

        std::fs::write(dir.path().join(ATTEMPTS_FILE), b"{not json").unwrap();
        let broken = Arc::new(Attempts::load(dir.path(), clock));
        assert!(broken.reserve().is_none());
    }
}
