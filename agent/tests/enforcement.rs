//! Time-slot enforcement by the session manager on a paused tokio clock: no real waiting,
//! exact instants. The seat is offline throughout (no controller at all): the agent's own
//! timer ends sessions. The wall clock is a fake that follows the paused clock and can be
//! made to jump; sessions run on the sandbox platform (real files and processes).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use commune_agent::manager::{self, ManagerHandle, SessionRules};
use commune_agent::platform::sandbox::Sandbox;
use commune_protocol::messages::{AgentEvent, EndReason, SeatState, SlotKind};
use commune_protocol::schedule::{PermanenceRef, Schedule, Slot};
use commune_protocol::UtcMillis;

const MIN: i64 = 60_000;
/// 2026-11-24 10:00 UTC, a Tuesday.
const BASE: i64 = 1_795_514_400_000;

/// Events as the manager queued them (the outbox itself is exercised over real SQLite in
/// the other suites; its worker thread and pool timers do not mix with a paused clock).
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(UtcMillis, AgentEvent)>>);

impl manager::EventSink for Recorded {
    fn emit(
        &self,
        at: UtcMillis,
        event: AgentEvent,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        self.0.lock().unwrap().push((at, event));
        Box::pin(async { Ok(()) })
    }
}

struct Seat {
    handle: ManagerHandle,
    outbox: Arc<Recorded>,
    /// Added to the wall clock: the test's clock jumps.
    jump_ms: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

async fn seat() -> Seat {
    let dir = tempfile::tempdir().unwrap();
    let platform = Arc::new(Sandbox::new(dir.path().join("sandbox")).unwrap());
    let outbox = Arc::new(Recorded::default());
    let jump_ms = Arc::new(AtomicI64::new(0));
    let origin = tokio::time::Instant::now();
    let jump = jump_ms.clone();
    let wall: manager::WallClock = Arc::new(move || {
        let elapsed = tokio::time::Instant::now()
            .duration_since(origin)
            .as_millis() as i64;
        UtcMillis(BASE + elapsed + jump.load(Ordering::SeqCst))
    });
    let (handle, _task) = manager::spawn_with_clock(
        platform,
        outbox.clone(),
        dir.path(),
        SessionRules::default(),
        wall,
    );
    handle.wait_for(|s| !s.recovering).await;
    Seat {
        handle,
        outbox,
        jump_ms,
        _dir: dir,
    }
}

/// Minutes after BASE at which each event was queued (wall clock, jumps removed), with
/// the event.
async fn events(seat: &Seat, jump_min: i64) -> Vec<(i64, AgentEvent)> {
    seat.outbox
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(at, e)| ((at.0 - BASE) / MIN - jump_min, e.clone()))
        .collect()
}

fn warnings(events: &[(i64, AgentEvent)]) -> Vec<(i64, u32)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            AgentEvent::WarningShown(w) => Some((*t, w.minutes_left)),
            _ => None,
        })
        .collect()
}

fn ended(events: &[(i64, AgentEvent)]) -> (i64, EndReason, u64) {
    events
        .iter()
        .find_map(|(t, e)| match e {
            AgentEvent::SessionEnded(s) => Some((*t, s.reason, s.duration_secs)),
            _ => None,
        })
        .expect("the session ended")
}

async fn wait_wiped(seat: &Seat) {
    // Time auto-advances while everything waits: the manager's own timers fire at their
    // exact instants.
    seat.handle
        .wait_for(|s| s.session.is_none() && s.state != SeatState::Wiping)
        .await;
}

#[tokio::test(start_paused = true)]
async fn warnings_at_five_and_one_minute_then_the_end_at_45_offline() {
    let seat = seat().await;
    let info = seat
        .handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    assert_eq!(info.seconds_left, Some(45 * 60));
    wait_wiped(&seat).await;
    let events = events(&seat, 0).await;
    assert_eq!(warnings(&events), vec![(40, 5), (44, 1)]);
    assert_eq!(ended(&events), (45, EndReason::TimeUp, 45 * 60));
    assert!(events
        .iter()
        .any(|(_, e)| matches!(e, AgentEvent::WipeReport(r) if r.verified)));
}

#[tokio::test(start_paused = true)]
async fn the_wall_clock_jumping_forward_does_not_end_a_session_early() {
    let seat = seat().await;
    seat.handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    // Ten minutes in, someone sets the clock two hours ahead (or NTP corrects it).
    tokio::time::advance(Duration::from_secs(10 * 60)).await;
    seat.jump_ms.store(120 * MIN, Ordering::SeqCst);
    wait_wiped(&seat).await;
    let events = events(&seat, 0).await;
    let (_, reason, duration) = ended(&events);
    assert_eq!((reason, duration), (EndReason::TimeUp, 45 * 60));
    // The warnings came 40 and 44 minutes in, on the monotonic clock.
    assert_eq!(warnings(&events), vec![(40 + 120, 5), (44 + 120, 1)]);
}

#[tokio::test(start_paused = true)]
async fn the_wall_clock_jumping_back_does_not_extend_a_session() {
    let seat = seat().await;
    seat.handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(10 * 60)).await;
    seat.jump_ms.store(-120 * MIN, Ordering::SeqCst);
    wait_wiped(&seat).await;
    let events = events(&seat, 0).await;
    let (at, reason, duration) = ended(&events);
    assert_eq!(
        (at, reason, duration),
        (45 - 120, EndReason::TimeUp, 45 * 60)
    );
}

fn slot(start_min: i64, end_min: i64, kind: SlotKind) -> Slot {
    Slot {
        start: UtcMillis(BASE + start_min * MIN),
        end: UtcMillis(BASE + end_min * MIN),
        kind,
        permanence: (kind == SlotKind::Supervised).then(|| PermanenceRef {
            id: "perm-ecrivain".into(),
            name: "Écrivain public".into(),
            programme: "ecrivain_public".into(),
        }),
        session_minutes: (kind == SlotKind::Free).then_some(45),
        ticket_required: false,
    }
}

fn schedule(version: u64, slots: Vec<Slot>) -> Schedule {
    Schedule {
        version,
        generated_at: UtcMillis(BASE),
        time_zone: "Europe/Paris".into(),
        slots,
        mediator_pins: Vec::new(),
        seat_policy: Default::default(),
        closing_message: String::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_free_session_ends_when_the_permanence_on_its_seat_begins() {
    let seat = seat().await;
    assert!(
        seat.handle
            .schedule(schedule(
                1,
                vec![
                    slot(-60, 30, SlotKind::Free),
                    slot(30, 210, SlotKind::Supervised),
                    slot(210, 600, SlotKind::Closed),
                    slot(600, 700, SlotKind::Free),
                ],
            ))
            .await
    );
    let info = seat
        .handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    assert_eq!(info.seconds_left, Some(30 * 60), "cut at the permanence");
    wait_wiped(&seat).await;
    let events = events(&seat, 0).await;
    assert_eq!(warnings(&events), vec![(25, 5), (29, 1)]);
    assert_eq!(ended(&events), (30, EndReason::SlotEnded, 30 * 60));

    // During the permanence a visitor alone is turned away with the reason; the mediator
    // opens the session, which carries the permanence and ends with the slot.
    seat.handle
        .wait_for(|s| s.state == SeatState::Supervised)
        .await;
    let refused = seat
        .handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("mediator"), "{refused}");
    let info = seat
        .handle
        .start_session(SlotKind::Supervised, None)
        .await
        .unwrap();
    assert_eq!(info.kind, SlotKind::Supervised);
    wait_wiped(&seat).await;
    let events = self::events(&seat, 0).await;
    let started = events
        .iter()
        .filter_map(|(_, e)| match e {
            AgentEvent::SessionStarted(s) => Some(s.clone()),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(started.permanence_id.as_deref(), Some("perm-ecrivain"));
    let last_end = events
        .iter()
        .filter_map(|(t, e)| match e {
            AgentEvent::SessionEnded(s) => Some((*t, s.reason)),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(last_end, (210, EndReason::SlotEnded));

    // Closing time: the seat is closed and says when it reopens.
    let status = seat.handle.wait_for(|s| s.state == SeatState::Closed).await;
    let reopens = UtcMillis(BASE + 600 * MIN).to_string();
    assert!(status.reason.unwrap().contains(&reopens));
    let refused = seat
        .handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("closed"), "{refused}");
}

#[tokio::test(start_paused = true)]
async fn a_slot_opened_now_under_a_free_visitor_gives_five_minutes() {
    let seat = seat().await;
    seat.handle
        .schedule(schedule(1, vec![slot(-60, 600, SlotKind::Free)]))
        .await;
    seat.handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(10 * 60)).await;
    // Staff open a supervised slot on this seat now.
    assert!(
        seat.handle
            .schedule(schedule(
                2,
                vec![
                    slot(-60, 10, SlotKind::Free),
                    slot(10, 120, SlotKind::Supervised),
                    slot(120, 600, SlotKind::Free),
                ],
            ))
            .await
    );
    let status = seat.handle.status();
    assert_eq!(status.session.unwrap().seconds_left, Some(5 * 60));
    wait_wiped(&seat).await;
    let events = events(&seat, 0).await;
    assert_eq!(warnings(&events), vec![(10, 5), (14, 1)]);
    assert_eq!(ended(&events), (15, EndReason::SlotEnded, 15 * 60));
}

/// Closing time on an accelerated (paused) clock: a visitor's session ends at closing
/// with the usual warnings, and fifteen minutes later the idle seat powers off, once,
/// through the platform (the sandbox records it: the platform double), and says so.
#[tokio::test(start_paused = true)]
async fn after_closing_the_idle_seat_powers_off_once_and_not_while_a_session_runs() {
    use commune_protocol::schedule::AfterClosing;
    let seat = seat().await;
    let mut plan = schedule(
        1,
        vec![
            slot(0, 60, SlotKind::Free),
            slot(60, 600, SlotKind::Closed),
            slot(600, 700, SlotKind::Free),
        ],
    );
    plan.seat_policy.after_closing = AfterClosing::PowerOff;
    plan.seat_policy.power_after_closing_minutes = 15;
    assert!(seat.handle.schedule(plan).await);
    let log = seat
        ._dir
        .path()
        .join("sandbox")
        .join(commune_agent::platform::sandbox::POWER_LOG);
    // A visitor at minute 40: the session ends at closing (60), warned at 55 and 59.
    tokio::time::sleep(Duration::from_secs(40 * 60)).await;
    seat.handle
        .start_session(SlotKind::Free, None)
        .await
        .unwrap();
    wait_wiped(&seat).await;
    let evs = events(&seat, 0).await;
    assert_eq!(ended(&evs).0, 60);
    assert_eq!(ended(&evs).1, EndReason::SlotEnded);
    assert_eq!(warnings(&evs), vec![(55, 5), (59, 1)]);
    // Not before fifteen minutes of closure.
    tokio::time::sleep(Duration::from_secs(13 * 60)).await;
    assert!(!log.exists(), "powered off too early");
    tokio::time::sleep(Duration::from_secs(3 * 60)).await;
    let lines = std::fs::read_to_string(&log).expect("the power action, recorded");
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.starts_with("PowerOff "), "{lines}");
    let powered: Vec<(i64, bool)> = events(&seat, 0)
        .await
        .into_iter()
        .filter_map(|(t, e)| match e {
            AgentEvent::PowerChanged(p) => Some((t, p.ok && p.action == AfterClosing::PowerOff)),
            _ => None,
        })
        .collect();
    assert_eq!(powered, vec![(75, true)]);
    // Once per closure, however long it lasts.
    tokio::time::sleep(Duration::from_secs(300 * 60)).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}
