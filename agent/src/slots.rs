//! The seat's cached schedule and the rules that decide, from it alone, whether a session may
//! start and when it must end. Pure: instants come in as arguments.
//!
//! The controller compiles a seat's slots for the coming days (`commune_protocol::slots`)
//! and pushes them; the agent keeps the newest copy on disk and enforces it with no network.
//! Wall-clock instants (UTC) decide *which* slot applies; once a session runs, its end is a
//! point on the monotonic clock (see [`crate::session`]), so neither a clock change nor a
//! lost network moves it.
//!
//! Rules chosen for MDH staff:
//! - no schedule at all, or a cache older than its last slot (two weeks offline): free
//!   access with the configured length. A computer never refuses a visitor because the
//!   controller is away.
//! - closed slot: no session; the refusal says when the seat reopens.
//! - supervised slot: only a session started by the mediator (dashboard, or `ctl
//!   start-session --kind supervised` behind the mediator's PIN on the greeter); it ends with
//!   the slot.
//! - free slot: the rule's length, cut at the end of free access (a permanence starting on
//!   this seat, closing time) with the T−5 and T−1 warnings before it. A permanence known in
//!   advance is thus never overrun; one opened *now* by staff on a seat where a free-access
//!   visitor sits gives that visitor [`GRACE_WHEN_SLOT_CHANGES`] to save their documents.

use std::path::Path;
use std::time::Duration;

use commune_protocol::messages::{EndReason, SlotKind};
use commune_protocol::schedule::{Schedule, Slot};
use commune_protocol::UtcMillis;

use crate::session::{Refusal, SessionRules};

/// How long a running session is given when its slot changes under it (staff open a
/// supervised slot now on a seat in use, or close the slot a session belongs to).
pub const GRACE_WHEN_SLOT_CHANGES: Duration = Duration::from_secs(5 * 60);

/// The newest schedule the controller sent, kept on disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotBook {
    schedule: Option<Schedule>,
}

/// What a session may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The kind the session runs as.
    pub kind: SlotKind,
    /// The permanence, for a supervised session in a permanence's slot.
    pub permanence_id: Option<String>,
    /// Its own length (free access: the rule's or the slot's minutes), counted from now.
    pub own: Option<Duration>,
    /// When its slot ends, counted from now (`None`: not within the cache).
    pub slot_end: Option<Duration>,
    /// Whether the slot asks for a ticket (free access).
    pub ticket_required: bool,
}

impl Admission {
    /// When it must end, counted from now, and why: the earlier of its own length and its
    /// slot's end.
    pub fn limit(&self) -> Option<(Duration, EndReason)> {
        earliest(
            self.own.map(|d| (d, EndReason::TimeUp)),
            self.slot_end.map(|d| (d, EndReason::SlotEnded)),
        )
    }
}

fn millis(d: i64) -> Duration {
    Duration::from_millis(u64::try_from(d).unwrap_or(0))
}

fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m) * 60)
}

/// The earlier of two optional limits (either may be absent).
pub(crate) fn earliest(
    a: Option<(Duration, EndReason)>,
    b: Option<(Duration, EndReason)>,
) -> Option<(Duration, EndReason)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

impl SlotBook {
    /// File name in the state directory.
    pub const FILE: &'static str = "schedule.json";

    /// The cached schedule in `state_dir` (none if absent or unreadable).
    pub fn load(state_dir: &Path) -> SlotBook {
        let schedule = std::fs::read(state_dir.join(Self::FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Schedule>(&b).ok());
        SlotBook { schedule }
    }

    /// Writes the cache durably.
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        match &self.schedule {
            Some(s) => crate::wipe::write_durably(
                &state_dir.join(Self::FILE),
                &serde_json::to_vec(s).map_err(std::io::Error::other)?,
            ),
            None => Ok(()),
        }
    }

    /// Keeps `schedule` if it is newer than the cached one; returns whether it was.
    pub fn offer(&mut self, schedule: Schedule) -> bool {
        if self
            .schedule
            .as_ref()
            .is_some_and(|s| s.version >= schedule.version)
        {
            return false;
        }
        self.schedule = Some(schedule);
        true
    }

    /// The cached schedule.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// The slot at `at`, if the cache covers it.
    pub fn slot_at(&self, at: UtcMillis) -> Option<&Slot> {
        self.schedule
            .as_ref()?
            .slots
            .iter()
            .find(|s| s.start <= at && at < s.end)
    }

    /// When the site closes, if it is open at `at`: the end of the run of open slots (free
    /// or supervised) that holds `at`, where a closed slot or the cache's end follows.
    pub fn closes_at(&self, at: UtcMillis) -> Option<UtcMillis> {
        let slots = &self.schedule.as_ref()?.slots;
        let mut i = slots.iter().position(|s| s.start <= at && at < s.end)?;
        if slots[i].kind == SlotKind::Closed {
            return None;
        }
        while let Some(next) = slots.get(i + 1) {
            if next.kind == SlotKind::Closed || next.start != slots[i].end {
                break;
            }
            i += 1;
        }
        Some(slots[i].end)
    }

    /// Since when the seat is closed at `at` (the start of the run of closed slots), if it
    /// is closed by its schedule then.
    pub fn closed_since(&self, at: UtcMillis) -> Option<UtcMillis> {
        let slots = &self.schedule.as_ref()?.slots;
        let mut i = slots.iter().position(|s| s.start <= at && at < s.end)?;
        if slots[i].kind != SlotKind::Closed {
            return None;
        }
        while i > 0 && slots[i - 1].kind == SlotKind::Closed && slots[i - 1].end == slots[i].start {
            i -= 1;
        }
        Some(slots[i].start)
    }

    /// Where the run of slots of the same kind as the one at `at` ends (consecutive slots of
    /// one kind count as one: a permanence running into free access of the same kind).
    /// `None` when the run reaches the end of the cache.
    fn run_end(&self, at: UtcMillis, kind: SlotKind) -> Option<UtcMillis> {
        let slots = &self.schedule.as_ref()?.slots;
        let mut i = slots.iter().position(|s| s.start <= at && at < s.end)?;
        loop {
            let next = slots.get(i + 1)?;
            if next.kind != kind || next.start != slots[i].end {
                return Some(slots[i].end);
            }
            i += 1;
        }
    }

    /// When the seat next opens after `at` (the start of the next slot that is not closed).
    pub fn reopens(&self, at: UtcMillis) -> Option<UtcMillis> {
        self.schedule
            .as_ref()?
            .slots
            .iter()
            .find(|s| s.end > at && s.kind != SlotKind::Closed)
            .map(|s| s.start.max(at))
    }

    /// Why a seat closed at `at` by its schedule is closed: when it reopens, if the cache
    /// knows.
    pub fn closed_until(&self, at: UtcMillis) -> String {
        match self.reopens(at) {
            Some(t) => format!("reopens at {t}"),
            None => "closed until further notice".into(),
        }
    }

    /// The kind of the seat at `at` when idle (`None`: no schedule covers it, free access).
    pub fn kind_at(&self, at: UtcMillis) -> Option<SlotKind> {
        self.slot_at(at).map(|s| s.kind)
    }

    /// The next instant after `at` where the slot changes, for the idle seat's display.
    pub fn next_change(&self, at: UtcMillis) -> Option<UtcMillis> {
        self.schedule
            .as_ref()?
            .slots
            .iter()
            .find(|s| s.end > at)
            .map(|s| s.end)
    }

    /// Whether a session of `requested` kind may start at `at`, and until when.
    pub fn admit(
        &self,
        at: UtcMillis,
        requested: SlotKind,
        rules: &SessionRules,
    ) -> Result<Admission, Refusal> {
        let own = |kind: SlotKind| {
            let m = match kind {
                SlotKind::Free => rules.free_session_minutes,
                _ => rules.supervised_session_minutes,
            };
            (m > 0).then(|| minutes(m))
        };
        let Some(slot) = self.slot_at(at) else {
            // No schedule, or a cache that ran out: free access by the rules.
            return Ok(Admission {
                kind: requested,
                permanence_id: None,
                own: own(requested),
                slot_end: None,
                ticket_required: false,
            });
        };
        let slot_end = |kind| self.run_end(at, kind).map(|end| millis(end.0 - at.0));
        match (slot.kind, requested) {
            (SlotKind::Closed, _) => Err(Refusal::Closed(self.closed_until(at))),
            (SlotKind::Supervised, SlotKind::Free) => Err(Refusal::SupervisedOnly(
                slot.permanence
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| "Permanence".into()),
            )),
            (SlotKind::Supervised, _) => Ok(Admission {
                kind: SlotKind::Supervised,
                permanence_id: slot.permanence.as_ref().map(|p| p.id.clone()),
                own: own(SlotKind::Supervised),
                slot_end: slot_end(SlotKind::Supervised),
                ticket_required: false,
            }),
            (_, SlotKind::Supervised) => Ok(Admission {
                // A mediator may help someone during free access too; the session is theirs.
                kind: SlotKind::Supervised,
                permanence_id: None,
                own: own(SlotKind::Supervised),
                slot_end: slot_end(slot.kind),
                ticket_required: false,
            }),
            _ => Ok(Admission {
                kind: SlotKind::Free,
                permanence_id: None,
                own: slot
                    .session_minutes
                    .map(minutes)
                    .or_else(|| own(SlotKind::Free)),
                slot_end: slot_end(SlotKind::Free),
                ticket_required: slot.ticket_required,
            }),
        }
    }

    /// For a running session of `kind` after the schedule changed at `at`: how long it may
    /// still run because of its slot (`None`: the slot sets no end). A slot that no longer
    /// fits the session gives it [`GRACE_WHEN_SLOT_CHANGES`].
    pub fn slot_limit_for_running(
        &self,
        at: UtcMillis,
        kind: SlotKind,
    ) -> Option<(Duration, EndReason)> {
        let slot = self.slot_at(at)?;
        let fits =
            slot.kind == kind || (kind == SlotKind::Supervised && slot.kind == SlotKind::Free);
        if !fits {
            return Some((GRACE_WHEN_SLOT_CHANGES, EndReason::SlotEnded));
        }
        self.run_end(at, slot.kind)
            .map(|end| (millis(end.0 - at.0), EndReason::SlotEnded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::schedule::PermanenceRef;

    const MIN: i64 = 60_000;

    fn slot(start: i64, end: i64, kind: SlotKind) -> Slot {
        Slot {
            start: UtcMillis(start * MIN),
            end: UtcMillis(end * MIN),
            kind,
            permanence: (kind == SlotKind::Supervised).then(|| PermanenceRef {
                id: "p1".into(),
                name: "Écrivain public".into(),
                programme: "ecrivain_public".into(),
            }),
            session_minutes: (kind == SlotKind::Free).then_some(45),
            ticket_required: false,
        }
    }

    fn book(slots: Vec<Slot>) -> SlotBook {
        let mut b = SlotBook::default();
        assert!(b.offer(Schedule {
            version: 1,
            generated_at: UtcMillis(0),
            time_zone: "Europe/Paris".into(),
            slots,
            mediator_pins: Vec::new(),
            seat_policy: Default::default(),
            closing_message: String::new(),
        }));
        b
    }

    fn at(m: i64) -> UtcMillis {
        UtcMillis(m * MIN)
    }

    #[test]
    fn no_schedule_means_free_access_by_the_rules() {
        let a = SlotBook::default()
            .admit(at(0), SlotKind::Free, &SessionRules::default())
            .unwrap();
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(45 * 60), EndReason::TimeUp))
        );
    }

    #[test]
    fn a_free_session_is_cut_at_the_start_of_a_permanence() {
        let b = book(vec![
            slot(0, 60, SlotKind::Free),
            slot(60, 240, SlotKind::Supervised),
            slot(240, 300, SlotKind::Closed),
        ]);
        let rules = SessionRules::default();
        // 20 minutes before the permanence: 20 minutes, not 45.
        let a = b.admit(at(40), SlotKind::Free, &rules).unwrap();
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(20 * 60), EndReason::SlotEnded))
        );
        // Early enough: its own length.
        let a = b.admit(at(0), SlotKind::Free, &rules).unwrap();
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(45 * 60), EndReason::TimeUp))
        );
        // During the permanence only the mediator starts sessions, ending with the slot.
        let refused = b.admit(at(70), SlotKind::Free, &rules).unwrap_err();
        assert!(refused.to_string().contains("Écrivain public"), "{refused}");
        let a = b.admit(at(70), SlotKind::Supervised, &rules).unwrap();
        assert_eq!(a.permanence_id.as_deref(), Some("p1"));
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(170 * 60), EndReason::SlotEnded))
        );
    }

    #[test]
    fn closed_says_when_it_reopens_and_an_old_version_is_ignored() {
        let mut b = book(vec![
            slot(0, 60, SlotKind::Closed),
            slot(60, 120, SlotKind::Free),
        ]);
        let refused = b
            .admit(at(10), SlotKind::Free, &SessionRules::default())
            .unwrap_err();
        assert!(
            refused.to_string().contains(&at(60).to_string()),
            "{refused}"
        );
        assert!(!b.offer(Schedule {
            version: 1,
            generated_at: UtcMillis(0),
            time_zone: String::new(),
            slots: vec![],
            mediator_pins: Vec::new(),
            seat_policy: Default::default(),
            closing_message: String::new(),
        }));
        assert_eq!(b.kind_at(at(10)), Some(SlotKind::Closed));
        assert_eq!(b.next_change(at(10)), Some(at(60)));
    }

    #[test]
    fn past_the_end_of_the_cache_free_access_continues() {
        let b = book(vec![slot(0, 60, SlotKind::Free)]);
        let a = b
            .admit(at(500), SlotKind::Free, &SessionRules::default())
            .unwrap();
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(45 * 60), EndReason::TimeUp))
        );
        // The last slot's end is the end of the cache, not a slot end.
        let a = b
            .admit(at(50), SlotKind::Free, &SessionRules::default())
            .unwrap();
        assert_eq!(
            a.limit(),
            Some((Duration::from_secs(45 * 60), EndReason::TimeUp))
        );
    }

    #[test]
    fn a_slot_opened_under_a_running_free_session_gives_it_a_grace() {
        let b = book(vec![slot(0, 120, SlotKind::Supervised)]);
        assert_eq!(
            b.slot_limit_for_running(at(10), SlotKind::Free),
            Some((GRACE_WHEN_SLOT_CHANGES, EndReason::SlotEnded))
        );
        assert_eq!(b.slot_limit_for_running(at(10), SlotKind::Supervised), None);
    }
}
