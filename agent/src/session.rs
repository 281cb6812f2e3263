//! The seat's sessions as a pure state machine: no clock reads, no I/O.
//!
//! Every decision about a visitor's session is taken here, from what the machine holds
//! (the seat's state, its cached schedule, its tickets and its rules) and what it is told
//! (the instant, what someone asks for): whether a session may start and why not, whether a
//! ticket is needed and accepted, when a mediator's PIN is worth checking, when the session
//! ends and why, when the visitor is warned, what a new schedule does to a running session,
//! and what the greeter offers. The [`crate::manager`] gathers the inputs, performs what
//! the machine decides ([`Decision`], [`Effect`]) on a
//! [`crate::platform::SessionPlatform`], and feeds the results back.
//!
//! Time comes in as [`Now`]: a [`Duration`] on the agent's monotonic clock (time since the
//! agent started), which fixes a running session's end, so that a wall-clock change can
//! neither shorten nor stretch a session; and the wall clock (UTC), which only says which
//! slot of the schedule applies. Tests drive both exactly.
//!
//! ```text
//!            unlock                 start                  end / time up
//!  Closed ─────────────▶ Ready ──────────────▶ InSession ─────────────────▶ Wiping
//!    ▲  ◀───────────────   ▲        lock           │ warnings T−5, T−1        │
//!    │        lock         │                       ▼ (never end a session)    │
//!    │                     └──────────── verified ◀───────────────────────────┤
//!    └────────────── lock while wiping: applied once verified                  │ failed
//!                                                              Blocked ◀──────┘
//! ```

use std::time::Duration;

use commune_protocol::messages::{EndReason, SeatState, SlotKind, TicketHash, TicketSet};
use commune_protocol::schedule::Schedule;
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};

use crate::slots::{earliest, SlotBook};
use crate::tickets::TicketBook;

/// Minutes before the end at which the visitor is warned.
pub const WARNING_MINUTES: [u32; 2] = [5, 1];

/// How often at least the idle seat looks at its schedule again, so that what it shows
/// follows a wall clock set anew (NTP, staff) as well as the slots' own changes.
pub const DISPLAY_RECHECK: Duration = Duration::from_secs(60);

/// Session rules the seat applies until schedules say otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionRules {
    /// Length of a free-access session.
    pub free_session_minutes: u32,
    /// Length of a supervised session (0: the mediator ends it).
    pub supervised_session_minutes: u32,
}

impl Default for SessionRules {
    fn default() -> Self {
        SessionRules {
            free_session_minutes: 45,
            supervised_session_minutes: 0,
        }
    }
}

/// The instant a decision is taken at, on both clocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// Since the agent started, on the monotonic clock: a running session's end is a point
    /// on it.
    pub monotonic: Duration,
    /// The wall clock (UTC): which slot of the schedule applies.
    pub wall: UtcMillis,
    /// How many times faster wall-clock time passes than monotonic time (the demo's
    /// accelerated day; 1 everywhere else).
    #[cfg(feature = "demo")]
    speed: f64,
}

impl Now {
    /// The instant `monotonic` on the monotonic clock, `wall` on the wall clock.
    pub fn new(monotonic: Duration, wall: UtcMillis) -> Now {
        Now {
            monotonic,
            wall,
            #[cfg(feature = "demo")]
            speed: 1.0,
        }
    }

    /// The demo's accelerated day: wall-clock lengths (a session's, the time to a slot's
    /// end) pass `speed` times faster on the monotonic clock. A speed below 1 or not finite
    /// is real time.
    #[cfg(feature = "demo")]
    pub fn accelerated(self, speed: f64) -> Now {
        Now {
            speed: if speed.is_finite() && speed >= 1.0 {
                speed
            } else {
                1.0
            },
            ..self
        }
    }

    /// A wall-clock length on the monotonic clock (shorter only in the demo's fast day).
    pub fn on_monotonic(&self, wall: Duration) -> Duration {
        #[cfg(feature = "demo")]
        if self.speed != 1.0 {
            return wall.div_f64(self.speed);
        }
        wall
    }

    /// The monotonic instant `wall` of wall-clock time from now.
    fn after(&self, wall: Duration) -> Duration {
        self.monotonic + self.on_monotonic(wall)
    }
}

fn minutes(m: u32) -> Duration {
    Duration::from_secs(u64::from(m) * 60)
}

/// What someone asks the seat for: a visitor at the greeter, a mediator, staff, the LightDM
/// hook.
#[derive(Clone, PartialEq, Eq)]
pub struct Ask {
    /// Free access or supervised.
    pub kind: SlotKind,
    /// The permanence staff started it for (otherwise the slot's).
    pub permanence_id: Option<String>,
    /// The ticket code as the visitor typed it.
    pub ticket: Option<String>,
    /// A mediator's PIN was typed at the computer. The machine never sees the PIN: it says
    /// whether it is worth checking ([`Decision::CheckPin`]).
    pub with_pin: bool,
}

impl Ask {
    /// A session of `kind`, with nothing else.
    pub fn new(kind: SlotKind) -> Ask {
        Ask {
            kind,
            permanence_id: None,
            ticket: None,
            with_pin: false,
        }
    }
}

impl std::fmt::Debug for Ask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A ticket code opens a session: never in a log.
        f.debug_struct("Ask")
            .field("kind", &self.kind)
            .field("permanence_id", &self.permanence_id)
            .field("ticket", &self.ticket.as_ref().map(|_| "<redacted>"))
            .field("with_pin", &self.with_pin)
            .finish()
    }
}

/// A session the seat agreed to start, with the limits it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    /// The kind it runs as (a mediator's session during free access is supervised).
    pub kind: SlotKind,
    /// Its permanence, if any.
    pub permanence_id: Option<String>,
    /// The ticket it starts with (free access), used once it starts.
    pub ticket: Option<TicketHash>,
    /// Its own length in wall-clock time: the ticket's, else the slot's, else the rules'.
    pub own: Option<Duration>,
    /// Wall-clock time from the decision to the end of its slot (`None`: not within the
    /// cached schedule).
    pub slot_end: Option<Duration>,
}

/// What the seat decided about an [`Ask`].
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Create the session's account, then [`SessionMachine::start`] it.
    Start(Admitted),
    /// The seat would start this session: check the mediator's PIN, then
    /// [`PinCheck::answer`].
    CheckPin(PinCheck),
}

/// A mediator's PIN to check before the session it opens starts. Asked for only when the
/// seat would start that session: every other answer comes before any PIN is looked at,
/// so that no answer tells a right PIN from a wrong one unless a session starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PinCheck {
    /// The site's mediator PIN hashes (Argon2 PHC strings) from the cached schedule.
    pub hashes: Vec<String>,
    admitted: Admitted,
}

impl PinCheck {
    /// Whether the PIN matched one of [`PinCheck::hashes`]: the session to start, or the
    /// refusal.
    pub fn answer(self, matched: bool) -> Result<Admitted, Refusal> {
        if matched {
            Ok(self.admitted)
        } else {
            Err(Refusal::MediatorPin)
        }
    }
}

/// What the greeter offers while no session runs, from the cached schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Greeter {
    /// Free access asks for a ticket now.
    pub ticket_required: bool,
    /// A free-access session started now lasts this long at most (minutes).
    pub session_minutes: Option<u32>,
    /// A session started now must end by then (the slot's end).
    pub slot_ends_at: Option<UtcMillis>,
    /// The permanence of the supervised slot running now.
    pub permanence: Option<String>,
    /// When a closed seat opens again.
    pub reopens_at: Option<UtcMillis>,
    /// The site's time zone (IANA name), for showing times.
    pub time_zone: String,
    /// Staff closed the seat (`lock`) with this message.
    #[serde(default)]
    pub staff_message: Option<String>,
    /// How long a visitor may step away, in minutes (0: not offered).
    #[serde(default)]
    pub step_away_minutes: u32,
    /// The site refuses USB sticks (the screens do not suggest one).
    #[serde(default)]
    pub usb_refused: bool,
    /// The site lets visitors send their documents to their phone.
    #[serde(default)]
    pub send_to_phone: bool,
    /// When the site closes, within its closing warning (the screens say so).
    #[serde(default)]
    pub closing_at: Option<UtcMillis>,
    /// The site's own words with the closing warning.
    #[serde(default)]
    pub closing_message: String,
    /// The site's free print pages per session (0: no limit).
    #[serde(default)]
    pub print_pages_per_session: u32,
    /// The site's free print pages per day at this seat (0: no limit).
    #[serde(default)]
    pub print_pages_per_day: u32,
}

impl Greeter {
    /// Whether a session started at `now` would end with its slot rather than after its
    /// own length: the greeter then says "until 12:00" instead of "45 minutes".
    pub fn ends_with_slot(&self, now: UtcMillis) -> bool {
        match (self.session_minutes, self.slot_ends_at) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(m), Some(end)) => end.0 - now.0 < i64::from(m) * 60_000,
        }
    }
}

/// What the seat shows: the state heartbeats and screens report, why, and what the greeter
/// offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The state (an idle seat in a closed slot is closed, in a supervised slot supervised).
    pub state: SeatState,
    /// Why the seat is closed or blocked.
    pub reason: Option<String>,
    /// What a visitor may start now.
    pub greeter: Greeter,
}

/// A running session as the machine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Random session id.
    pub session_id: String,
    /// Free access or supervised.
    pub kind: SlotKind,
    /// When it started, on the monotonic clock.
    pub started: Duration,
    /// When it must end, on the monotonic clock (`None`: no limit, e.g. a supervised
    /// session the mediator ends).
    pub deadline: Option<Duration>,
    /// Why it ends at the deadline: its own length (`TimeUp`) or its slot's end
    /// (`SlotEnded`).
    pub deadline_reason: EndReason,
    /// Its own end (its length from its start), on the monotonic clock: a new schedule
    /// moves the deadline, never past this.
    pub own_deadline: Option<Duration>,
    /// Warnings already given, in minutes left.
    pub warned: Vec<u32>,
    /// The visitor stepped away: the session runs on, locked with their code.
    pub away: Option<Away>,
}

/// A visitor's pause: their session stays open, locked with a code they chose, until they
/// come back or the pause ends (then the session ends and is wiped).
#[derive(Clone, PartialEq, Eq)]
pub struct Away {
    /// When the pause ends, on the monotonic clock (never after the session's own end).
    pub until: Duration,
    /// Salted SHA-256 of the code: the code itself is not kept, and never leaves the
    /// machine's memory (a restart ends the session anyway).
    code_hash: [u8; 32],
    salt: [u8; 16],
    /// Wrong codes typed so far.
    pub wrong: u32,
}

impl std::fmt::Debug for Away {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Away")
            .field("until", &self.until)
            .field("wrong", &self.wrong)
            .finish_non_exhaustive()
    }
}

impl Away {
    fn hash(salt: &[u8; 16], code: &str) -> [u8; 32] {
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        h.update(salt);
        h.update(code.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(h.finish().as_ref());
        out
    }

    fn matches(&self, code: &str) -> bool {
        let typed = Away::hash(&self.salt, code);
        // Constant time: the comparison says nothing about how much of the code was right.
        typed
            .iter()
            .zip(self.code_hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// A seat does not suspend or power off when it opens again within this.
pub const POWER_MIN_CLOSED: Duration = Duration::from_secs(60 * 60);

/// How many wrong codes end a paused session.
pub const AWAY_WRONG_CODES: u32 = 5;

/// What happened when someone typed a code at a paused session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComeBack {
    /// The right code: the session is the visitor's again.
    Resumed,
    /// A wrong code; this many tries are left.
    Wrong(u32),
    /// The last try was wrong: the session ends and is wiped.
    Ended(Effect),
}

/// The seat's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Locked (closed hours, staff lock); the text is for the locked screen.
    Closed(String),
    /// Free for the next visitor.
    Ready,
    /// A visitor's session runs.
    InSession(Running),
    /// The last session is being wiped; `lock` holds a lock asked for meanwhile.
    Wiping {
        /// The session being wiped.
        session_id: String,
        /// A lock to apply once the wipe verified.
        lock: Option<String>,
    },
    /// A wipe failed verification: no session starts until IT clears it.
    Blocked(String),
}

impl State {
    /// What heartbeats report.
    pub fn seat_state(&self) -> SeatState {
        match self {
            State::Closed(_) => SeatState::Closed,
            State::Ready => SeatState::Ready,
            State::InSession(_) => SeatState::InSession,
            State::Wiping { .. } => SeatState::Wiping,
            State::Blocked(_) => SeatState::Blocked,
        }
    }
}

/// What the machine asks the manager to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Tell the visitor that this many minutes remain.
    Warn {
        /// The session.
        session_id: String,
        /// Minutes left.
        minutes_left: u32,
    },
    /// End the session and wipe it.
    EndAndWipe {
        /// The session.
        session_id: String,
        /// Why it ends.
        reason: EndReason,
        /// How long it lasted, on the monotonic clock.
        duration: Duration,
    },
}

/// Why a session cannot start now; worded for the person at the computer or staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A session already runs.
    #[error("a session is already running on this computer")]
    Busy,
    /// The previous session is still being wiped.
    #[error("the previous session is still being erased; try again in a moment")]
    Wiping,
    /// The seat is closed.
    #[error("this computer is closed: {0}")]
    Closed(String),
    /// The seat is blocked after a failed wipe.
    #[error("this computer is blocked after a failed erase; ask staff to call IT ({0})")]
    Blocked(String),
    /// A supervised slot runs: only the mediator opens sessions.
    #[error("a supervised slot ({0}) runs on this computer: your mediator will open your session")]
    SupervisedOnly(String),
    /// Free access here needs a ticket.
    #[error("free access on this computer needs a ticket: ask at the reception")]
    TicketRequired,
    /// What was typed cannot be a ticket code.
    #[error(
        "this is not a ticket code: 8 letters and digits, like K7MN-3XPA; check and type it again"
    )]
    TicketInvalid,
    /// No such ticket for this site.
    #[error("this ticket is not known here: check the code, or ask at the reception")]
    TicketUnknown,
    /// The ticket was used already.
    #[error("this ticket has already been used: ask at the reception for a new one")]
    TicketUsed,
    /// The ticket expired.
    #[error("this ticket expired at {0}: ask at the reception for a new one")]
    TicketExpired(String),
    /// The mediator PIN typed at the computer is wrong (or none is set for the site).
    #[error("wrong mediator PIN")]
    MediatorPin,
    /// There is no session to end.
    #[error("no session is running on this computer")]
    NoSession,
    /// A device was plugged in since the seat was checked: staff must look first.
    #[error("this computer is locked because a device was plugged in ({0}); staff must check it")]
    DeviceAlarm(String),
    /// The site does not offer stepping away.
    #[error("stepping away is not offered on this computer")]
    StepAwayOff,
    /// The code to lock the session is not 4 to 8 digits.
    #[error("choose a code of 4 to 8 digits")]
    StepAwayCode,
    /// The visitor already stepped away.
    #[error("the session is already locked")]
    AlreadyAway,
    /// The session is not locked.
    #[error("the session is not locked")]
    NotAway,
    /// The screen could not be locked: stepping away would leave the desktop usable.
    #[error("this computer cannot lock its screen: stepping away is not possible here")]
    CannotLock,
    /// Too little time is left in the session to step away.
    #[error("your session ends in less than a minute: it cannot be locked now")]
    TooLateToStepAway,
}

/// The seat's session state machine, with what it decides from: the rules, the cached
/// schedule and the site's tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionMachine {
    state: State,
    rules: SessionRules,
    book: SlotBook,
    tickets: TicketBook,
    /// A device alarm (what was plugged in): no session starts until staff accept the
    /// seat's devices. Orthogonal to the state: a running session runs on.
    alarm: Option<String>,
}

impl Default for SessionMachine {
    fn default() -> Self {
        SessionMachine::new(State::Ready)
    }
}

impl SessionMachine {
    /// A machine in the given state, with the default rules and no schedule or tickets.
    pub fn new(state: State) -> Self {
        SessionMachine {
            state,
            rules: SessionRules::default(),
            book: SlotBook::default(),
            tickets: TicketBook::default(),
            alarm: None,
        }
    }

    /// The machine of an agent that just started, with the rules and what it had cached:
    /// wiping whatever a crash left until [`SessionMachine::recovered`].
    pub fn recovering(rules: SessionRules, book: SlotBook, tickets: TicketBook) -> Self {
        SessionMachine {
            state: State::Wiping {
                session_id: String::new(),
                lock: None,
            },
            rules,
            book,
            tickets,
            alarm: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The cached schedule (to keep on disk).
    pub fn book(&self) -> &SlotBook {
        &self.book
    }

    /// The site's tickets and the uses on this seat (to keep on disk).
    pub fn tickets(&self) -> &TicketBook {
        &self.tickets
    }

    /// Why the seat's own state refuses a new session, if it does.
    fn refusal(&self) -> Option<Refusal> {
        if let (Some(what), State::Ready | State::Closed(_)) = (&self.alarm, &self.state) {
            return Some(Refusal::DeviceAlarm(what.clone()));
        }
        match &self.state {
            State::Ready => None,
            State::InSession(_) => Some(Refusal::Busy),
            State::Wiping { .. } => Some(Refusal::Wiping),
            State::Closed(why) => Some(Refusal::Closed(why.clone())),
            State::Blocked(why) => Some(Refusal::Blocked(why.clone())),
        }
    }

    /// Whether the seat starts what `ask` asks for at `now`, and with which limits. In this
    /// order: the seat's state (busy, wiping, closed by staff, blocked), then its slot
    /// (closed hours, a supervised slot for a visitor alone), then the ticket (required
    /// where the slot says so; checked whenever one is typed for free access, and then its
    /// minutes are the session's length), and only then the mediator's PIN.
    pub fn decide(&self, now: Now, ask: &Ask) -> Result<Decision, Refusal> {
        if let Some(refusal) = self.refusal() {
            return Err(refusal);
        }
        let admission = self.book.admit(now.wall, ask.kind, &self.rules)?;
        let ticket = match (admission.kind, &ask.ticket) {
            (SlotKind::Free, Some(typed)) => Some(self.tickets.check(typed, now.wall)?),
            (SlotKind::Free, None) if admission.ticket_required => {
                return Err(Refusal::TicketRequired)
            }
            _ => None,
        };
        let admitted = Admitted {
            kind: admission.kind,
            permanence_id: ask.permanence_id.clone().or(admission.permanence_id),
            own: ticket
                .as_ref()
                .map(|t| minutes(t.minutes))
                .or(admission.own),
            slot_end: admission.slot_end,
            ticket,
        };
        Ok(if ask.with_pin {
            Decision::CheckPin(PinCheck {
                hashes: self
                    .book
                    .schedule()
                    .map(|s| s.mediator_pins.clone())
                    .unwrap_or_default(),
                admitted,
            })
        } else {
            Decision::Start(admitted)
        })
    }

    /// Starts an admitted session once its account exists. Its end is fixed now on the
    /// monotonic clock, the earlier of its own length and its slot's end: from here on,
    /// neither a wall-clock change nor a lost network moves it (only a new schedule). Its
    /// ticket is used from now on.
    pub fn start(
        &mut self,
        now: Now,
        session_id: String,
        admitted: &Admitted,
    ) -> Result<(), Refusal> {
        if let Some(refusal) = self.refusal() {
            return Err(refusal);
        }
        let limit = earliest(
            admitted.own.map(|d| (d, EndReason::TimeUp)),
            admitted.slot_end.map(|d| (d, EndReason::SlotEnded)),
        )
        .map(|(d, reason)| (now.after(d), reason));
        if let Some(ticket) = &admitted.ticket {
            self.tickets.mark_used(&ticket.hash);
        }
        self.state = State::InSession(Running {
            session_id,
            kind: admitted.kind,
            started: now.monotonic,
            deadline: limit.map(|l| l.0),
            deadline_reason: limit.map(|l| l.1).unwrap_or(EndReason::TimeUp),
            own_deadline: admitted.own.map(|d| now.after(d)),
            warned: Vec::new(),
            away: None,
        });
        Ok(())
    }

    /// Creating the session's account or starting it failed: whatever was made is wiped
    /// like a session, so that nothing half-made remains.
    pub fn creation_failed(&mut self, session_id: String) {
        self.state = State::Wiping {
            session_id,
            lock: None,
        };
    }

    /// Ends the running session now (`now` on the monotonic clock).
    pub fn end(&mut self, now: Duration, reason: EndReason) -> Result<Effect, Refusal> {
        let State::InSession(running) = &self.state else {
            return Err(Refusal::NoSession);
        };
        let effect = Effect::EndAndWipe {
            session_id: running.session_id.clone(),
            reason,
            duration: now.saturating_sub(running.started),
        };
        self.state = State::Wiping {
            session_id: running.session_id.clone(),
            lock: None,
        };
        Ok(effect)
    }

    /// Time passed (`now` on the monotonic clock): warnings due, and the end when the
    /// deadline is reached. Warnings never end a session themselves; a late tick gives only
    /// the warnings not yet overtaken.
    pub fn tick(&mut self, now: Duration) -> Vec<Effect> {
        let State::InSession(running) = &mut self.state else {
            return Vec::new();
        };
        if running.away.as_ref().is_some_and(|a| now >= a.until) {
            // A pause cut at the session's own end: the session ran out of time, it was
            // not abandoned.
            let reason = match running.deadline {
                Some(deadline) if now >= deadline => running.deadline_reason,
                _ => EndReason::Abandoned,
            };
            return self.end(now, reason).map(|e| vec![e]).unwrap_or_default();
        }
        let Some(deadline) = running.deadline else {
            return Vec::new();
        };
        if now >= deadline {
            let reason = running.deadline_reason;
            return self.end(now, reason).map(|e| vec![e]).unwrap_or_default();
        }
        let left = deadline - now;
        let mut effects = Vec::new();
        // The smallest warning whose time has come; the larger ones are skipped if late.
        if let Some(minutes) = WARNING_MINUTES
            .iter()
            .copied()
            .filter(|m| left <= Duration::from_secs(u64::from(*m) * 60))
            .min()
        {
            if !running.warned.contains(&minutes) {
                running
                    .warned
                    .extend(WARNING_MINUTES.iter().filter(|m| **m >= minutes));
                running.warned.sort_unstable();
                running.warned.dedup();
                effects.push(Effect::Warn {
                    session_id: running.session_id.clone(),
                    minutes_left: minutes,
                });
            }
        }
        effects
    }

    /// Keeps `schedule` if it is newer than the cached one, and returns whether it was. A
    /// running session's end then becomes the earlier of its own end and what its slot now
    /// allows: a slot extended moves it later (never past its own end), one closed early or
    /// a permanence opened now on its seat moves it earlier, with
    /// [`crate::slots::GRACE_WHEN_SLOT_CHANGES`] when its slot no longer fits it.
    pub fn schedule_offered(&mut self, now: Now, schedule: Schedule) -> bool {
        if !self.book.offer(schedule) {
            return false;
        }
        let State::InSession(running) = &self.state else {
            return true;
        };
        let slot = self
            .book
            .slot_limit_for_running(now.wall, running.kind)
            .map(|(d, reason)| (now.after(d), reason));
        let own = running.own_deadline.map(|d| (d, EndReason::TimeUp));
        self.set_deadline(earliest(own, slot));
        true
    }

    /// Keeps the controller's ticket set if it is newer than the one held; returns whether
    /// it was.
    pub fn tickets_offered(&mut self, set: TicketSet) -> bool {
        self.tickets.offer(set)
    }

    /// Moves the running session's end. Warnings already given for a later end are given
    /// again for the new one.
    fn set_deadline(&mut self, limit: Option<(Duration, EndReason)>) {
        let State::InSession(running) = &mut self.state else {
            return;
        };
        let new = limit.map(|l| l.0);
        if new != running.deadline {
            running.warned.clear();
            running.deadline = new;
            running.deadline_reason = limit.map(|l| l.1).unwrap_or(EndReason::TimeUp);
        }
    }

    /// The running session, if any.
    pub fn running(&self) -> Option<&Running> {
        match &self.state {
            State::InSession(r) => Some(r),
            _ => None,
        }
    }

    /// When the machine next needs a tick (a warning or the end), on the monotonic clock,
    /// if ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        let State::InSession(running) = &self.state else {
            return None;
        };
        let away = running.away.as_ref().map(|a| a.until);
        let Some(deadline) = running.deadline else {
            return away;
        };
        // A warning whose time is before the machine's origin (a short session just after
        // the agent started) is due at once.
        WARNING_MINUTES
            .iter()
            .filter(|m| !running.warned.contains(m))
            .map(|m| deadline.saturating_sub(Duration::from_secs(u64::from(*m) * 60)))
            .chain(std::iter::once(deadline))
            .chain(away)
            .min()
    }

    /// What the seat shows at `wall`: an idle seat follows its slot (closed hours say when
    /// they end; a supervised slot waits for the mediator), and the greeter offers what a
    /// session started now would get.
    pub fn shown(&self, wall: UtcMillis) -> Shown {
        let mut state = self.state.seat_state();
        let mut reason = match &self.state {
            State::Closed(r) | State::Blocked(r) => Some(r.clone()),
            _ => None,
        };
        if matches!(self.state, State::Ready) {
            match self.book.kind_at(wall) {
                Some(SlotKind::Closed) => {
                    state = SeatState::Closed;
                    reason = Some(self.book.closed_until(wall));
                }
                Some(SlotKind::Supervised) => state = SeatState::Supervised,
                _ => {}
            }
        }
        if let Some(what) = &self.alarm {
            state = SeatState::DeviceAlarm;
            reason = Some(what.clone());
        }
        // A paused session stays paused whatever else happens (a device plugged in
        // meanwhile must not give its desktop back): the alarm is in `reason` and the
        // status's own field.
        if self.running().is_some_and(|r| r.away.is_some()) {
            state = SeatState::SteppedAway;
        }
        let mut greeter = self.greeter(wall);
        if let State::Closed(message) = &self.state {
            greeter.staff_message = Some(message.clone());
        }
        greeter.step_away_minutes = self.policy().step_away_minutes;
        greeter.print_pages_per_session = self.policy().print_pages_per_session;
        greeter.print_pages_per_day = self.policy().print_pages_per_day;
        greeter.usb_refused =
            self.policy().usb_storage == commune_protocol::schedule::UsbStorage::Refused;
        greeter.send_to_phone = self.policy().send_to_phone;
        let warn_ms = i64::from(self.policy().closing_warning_minutes) * 60_000;
        greeter.closing_at = self
            .book
            .closes_at(wall)
            .filter(|at| warn_ms > 0 && at.0 - wall.0 <= warn_ms);
        if greeter.closing_at.is_some() {
            greeter.closing_message = self
                .book
                .schedule()
                .map(|s| s.closing_message.clone())
                .unwrap_or_default();
        }
        Shown {
            state,
            reason,
            greeter,
        }
    }

    /// What the greeter offers at `wall`: free access (with or without a ticket, for its
    /// length or until its slot ends), a permanence (until its end), or when the seat
    /// reopens.
    fn greeter(&self, wall: UtcMillis) -> Greeter {
        let later = |d: Duration| {
            UtcMillis(
                wall.0
                    .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            )
        };
        let mut greeter = Greeter {
            time_zone: self
                .book
                .schedule()
                .map(|s| s.time_zone.clone())
                .unwrap_or_default(),
            ..Greeter::default()
        };
        match self.book.admit(wall, SlotKind::Free, &self.rules) {
            Ok(admission) => {
                greeter.ticket_required = admission.ticket_required;
                greeter.session_minutes = admission
                    .own
                    .map(|d| u32::try_from(d.as_secs() / 60).unwrap_or(u32::MAX));
                greeter.slot_ends_at = admission.slot_end.map(later);
            }
            Err(Refusal::SupervisedOnly(name)) => {
                greeter.permanence = Some(name);
                if let Ok(admission) = self.book.admit(wall, SlotKind::Supervised, &self.rules) {
                    greeter.slot_ends_at = admission.slot_end.map(later);
                }
            }
            Err(_) => greeter.reopens_at = self.book.reopens(wall),
        }
        greeter
    }

    /// How long until what the idle seat shows may change (its slot changes, or the
    /// closing warning begins), on the monotonic clock; at most [`DISPLAY_RECHECK`].
    pub fn next_display_change(&self, now: Now) -> Option<Duration> {
        let warn_ms = i64::from(self.policy().closing_warning_minutes) * 60_000;
        let warning = self
            .book
            .closes_at(now.wall)
            .map(|at| UtcMillis(at.0 - warn_ms))
            .filter(|w| w.0 > now.wall.0);
        let change = self.book.next_change(now.wall);
        let at = match (change, warning) {
            (Some(c), Some(w)) => c.min(w),
            (c, w) => c.or(w)?,
        };
        let wall = Duration::from_millis(u64::try_from(at.0 - now.wall.0).unwrap_or(0));
        Some(now.on_monotonic(wall).min(DISPLAY_RECHECK))
    }

    /// The wipe finished: ready again (or closed, if a lock came meanwhile) when it
    /// verified; blocked otherwise.
    pub fn wipe_finished(&mut self, verified: bool, failure: &str) {
        let lock = match &self.state {
            State::Wiping { lock, .. } => lock.clone(),
            _ => None,
        };
        self.state = if !verified {
            State::Blocked(failure.to_owned())
        } else if let Some(message) = lock {
            State::Closed(message)
        } else {
            State::Ready
        };
    }

    /// Every wipe a crash left is finished: ready, or blocked with why when one did not
    /// verify.
    pub fn recovered(&mut self, blocked: Option<String>) {
        self.state = match blocked {
            Some(why) => State::Blocked(why),
            None => State::Ready,
        };
    }

    /// Locks the seat. A running session is not cut short by a lock (staff end it
    /// explicitly); the lock applies once the seat is free.
    pub fn lock(&mut self, message: String) -> Result<(), Refusal> {
        match &mut self.state {
            State::Ready | State::Closed(_) => {
                self.state = State::Closed(message);
                Ok(())
            }
            State::Wiping { lock, .. } => {
                *lock = Some(message);
                Ok(())
            }
            State::InSession(_) => Err(Refusal::Busy),
            State::Blocked(why) => Err(Refusal::Blocked(why.clone())),
        }
    }

    /// Unlocks a closed seat.
    pub fn unlock(&mut self) {
        match &mut self.state {
            State::Closed(_) => self.state = State::Ready,
            State::Wiping { lock, .. } => *lock = None,
            _ => {}
        }
    }

    /// The site's seat policy (stepping away, USB sticks), from the cached schedule.
    pub fn policy(&self) -> commune_protocol::schedule::SeatPolicy {
        self.book
            .schedule()
            .map(|s| s.seat_policy)
            .unwrap_or_default()
    }

    /// A device was plugged in since the seat was checked (`what` says which, for the
    /// screens and staff): no session starts until [`SessionMachine::devices_checked`].
    /// A running session is not cut: its visitor is told, and staff decide.
    pub fn device_alarm(&mut self, what: String) {
        self.alarm = Some(what);
    }

    /// The device alarm, if any.
    pub fn alarm(&self) -> Option<&str> {
        self.alarm.as_deref()
    }

    /// Staff looked at the seat's devices and accepted them: the alarm is lifted.
    pub fn devices_checked(&mut self) {
        self.alarm = None;
    }

    /// The power action due after closing time, if the site asks for one: how long until
    /// it is due (zero: now), what it is, and the start of the closed period it belongs to
    /// (done once per period). Only an idle seat (free, or locked by staff) acts, only
    /// once the site has been closed for the policy's minutes, and only when it does not
    /// open again within [`POWER_MIN_CLOSED`].
    pub fn power_due(
        &self,
        now: Now,
    ) -> Option<(
        Duration,
        commune_protocol::schedule::AfterClosing,
        UtcMillis,
    )> {
        use commune_protocol::schedule::AfterClosing;
        let policy = self.policy();
        if !matches!(
            policy.after_closing,
            AfterClosing::Suspend | AfterClosing::PowerOff
        ) {
            return None;
        }
        if !matches!(self.state, State::Ready | State::Closed(_)) {
            return None;
        }
        let since = self.book.closed_since(now.wall)?;
        if let Some(reopens) = self.book.reopens(now.wall) {
            let open_in = i64::try_from(POWER_MIN_CLOSED.as_millis()).unwrap_or(i64::MAX);
            if reopens.0 - now.wall.0 < open_in {
                return None;
            }
        }
        let due = since.0 + i64::from(policy.power_after_closing_minutes) * 60_000;
        let wait = Duration::from_millis(u64::try_from(due - now.wall.0).unwrap_or(0));
        Some((now.on_monotonic(wait), policy.after_closing, since))
    }

    /// The visitor steps away: the session locks with `code` (4 to 8 digits) for the
    /// site's minutes at most, never past the session's own end. Its time keeps running.
    /// Returns when the pause ends, on the monotonic clock.
    pub fn step_away(&mut self, now: Now, code: &str) -> Result<Duration, Refusal> {
        let minutes_allowed = self.policy().step_away_minutes;
        let State::InSession(running) = &mut self.state else {
            return Err(Refusal::NoSession);
        };
        if minutes_allowed == 0 {
            return Err(Refusal::StepAwayOff);
        }
        if running.away.is_some() {
            return Err(Refusal::AlreadyAway);
        }
        if !(4..=8).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::StepAwayCode);
        }
        let mut until = now.after(minutes(minutes_allowed));
        if let Some(deadline) = running.deadline {
            if deadline.saturating_sub(now.monotonic) < Duration::from_secs(60) {
                return Err(Refusal::TooLateToStepAway);
            }
            until = until.min(deadline);
        }
        let salt: [u8; 16] = rand::random();
        running.away = Some(Away {
            until,
            code_hash: Away::hash(&salt, code),
            salt,
            wrong: 0,
        });
        Ok(until)
    }

    /// The pause could not be put in place (the screen did not lock): the session is the
    /// visitor's again, as if they had not stepped away.
    pub fn cancel_away(&mut self) {
        if let State::InSession(running) = &mut self.state {
            running.away = None;
        }
    }

    /// Someone typed `code` at the paused session. The right code resumes it; the
    /// [`AWAY_WRONG_CODES`]th wrong one ends it (and it is wiped).
    pub fn come_back(&mut self, now: Duration, code: &str) -> Result<ComeBack, Refusal> {
        let State::InSession(running) = &mut self.state else {
            return Err(Refusal::NoSession);
        };
        let Some(away) = &mut running.away else {
            return Err(Refusal::NotAway);
        };
        if away.matches(code) {
            running.away = None;
            return Ok(ComeBack::Resumed);
        }
        away.wrong += 1;
        if away.wrong >= AWAY_WRONG_CODES {
            return self.end(now, EndReason::Abandoned).map(ComeBack::Ended);
        }
        Ok(ComeBack::Wrong(AWAY_WRONG_CODES - away.wrong))
    }

    /// IT cleared a blocked seat after a wipe that verified on retry.
    pub fn unblock(&mut self) {
        if matches!(self.state, State::Blocked(_)) {
            self.state = State::Ready;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::schedule::{PermanenceRef, Slot};
    use commune_protocol::tickets::ticket_hash;

    const MIN: Duration = Duration::from_secs(60);
    const MIN_MS: i64 = 60_000;
    /// 2026-11-24 10:00 UTC, a Tuesday.
    const BASE: i64 = 1_795_514_400_000;

    /// `m` minutes after the agent started, which was at 10:00 on the wall clock.
    fn at(m: u64) -> Now {
        at_time(MIN * m as u32)
    }

    fn at_time(monotonic: Duration) -> Now {
        Now::new(
            monotonic,
            UtcMillis(BASE + i64::try_from(monotonic.as_millis()).unwrap()),
        )
    }

    fn slot(start_min: i64, end_min: i64, kind: SlotKind) -> Slot {
        Slot {
            start: UtcMillis(BASE + start_min * MIN_MS),
            end: UtcMillis(BASE + end_min * MIN_MS),
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
            mediator_pins: vec!["$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()],
            seat_policy: Default::default(),
            closing_message: String::new(),
        }
    }

    /// A ready seat with these slots.
    fn seat(slots: Vec<Slot>) -> SessionMachine {
        let mut m = SessionMachine::default();
        assert!(m.schedule_offered(at(0), schedule(1, slots)));
        m
    }

    const CODE: &str = "K7MN-3XPA";

    /// The site's one ticket, `CODE`, for `minutes`.
    fn tickets(minutes: u32) -> TicketSet {
        TicketSet {
            generated_at: UtcMillis(BASE),
            tickets: vec![TicketHash {
                hash: ticket_hash("K7MN3XPA"),
                minutes,
                valid_until: UtcMillis(BASE + 24 * 60 * MIN_MS),
                used: false,
            }],
            part: 0,
            parts: 0,
        }
    }

    fn free() -> Ask {
        Ask::new(SlotKind::Free)
    }

    fn with_ticket(code: &str) -> Ask {
        Ask {
            ticket: Some(code.into()),
            ..free()
        }
    }

    fn with_pin() -> Ask {
        Ask {
            with_pin: true,
            ..Ask::new(SlotKind::Supervised)
        }
    }

    fn admitted(m: &SessionMachine, now: Now, ask: &Ask) -> Admitted {
        match m.decide(now, ask) {
            Ok(Decision::Start(admitted)) => admitted,
            other => panic!("expected a start, got {other:?}"),
        }
    }

    /// Decides and starts `ask` at `now`; the running session.
    fn start(m: &mut SessionMachine, now: Now, ask: &Ask) -> Running {
        let admitted = admitted(m, now, ask);
        m.start(now, "s1".into(), &admitted).unwrap();
        m.running().unwrap().clone()
    }

    /// A free-access session of `length` started at the agent's start, no schedule.
    fn started(length: Option<Duration>) -> SessionMachine {
        let mut m = SessionMachine::default();
        let admitted = Admitted {
            kind: SlotKind::Free,
            permanence_id: None,
            ticket: None,
            own: length,
            slot_end: None,
        };
        m.start(at(0), "s1".into(), &admitted).unwrap();
        m
    }

    fn warnings(effects: &[Effect]) -> Vec<u32> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Warn { minutes_left, .. } => Some(*minutes_left),
                _ => None,
            })
            .collect()
    }

    fn end_of(running: &Running) -> (Option<Duration>, EndReason) {
        (running.deadline, running.deadline_reason)
    }

    #[test]
    fn an_idle_seat_suspends_once_the_site_has_been_closed_for_the_minutes_set() {
        use commune_protocol::schedule::AfterClosing;
        let mut sched = schedule(
            1,
            vec![
                slot(0, 60, SlotKind::Free),
                slot(60, 600, SlotKind::Closed),
                slot(600, 700, SlotKind::Free),
            ],
        );
        sched.seat_policy.after_closing = AfterClosing::Suspend;
        let mut m = SessionMachine::default();
        m.schedule_offered(at(0), sched.clone());
        let since = UtcMillis(BASE + 60 * MIN_MS);
        assert_eq!(m.power_due(at(30)), None, "open");
        assert_eq!(
            m.power_due(at(61)),
            Some((14 * MIN, AfterClosing::Suspend, since)),
            "fifteen minutes after closing"
        );
        assert_eq!(
            m.power_due(at(80)),
            Some((Duration::ZERO, AfterClosing::Suspend, since))
        );
        assert_eq!(m.power_due(at(560)), None, "opens again within the hour");
        // A seat with a session, or a site that keeps its seats on: nothing.
        let visitor = Admitted {
            kind: SlotKind::Free,
            permanence_id: None,
            ticket: None,
            own: Some(45 * MIN),
            slot_end: None,
        };
        m.start(at(80), "s".into(), &visitor).unwrap();
        assert_eq!(m.power_due(at(81)), None, "a session runs");
        let mut stay = sched;
        stay.seat_policy.after_closing = AfterClosing::Stay;
        let mut m2 = SessionMachine::default();
        m2.schedule_offered(at(0), stay);
        assert_eq!(m2.power_due(at(80)), None);
    }

    #[test]
    fn a_visitor_who_steps_away_comes_back_with_their_code_and_their_time_kept_running() {
        let mut m = started(Some(45 * MIN));
        assert_eq!(m.step_away(at(10), "12a4"), Err(Refusal::StepAwayCode));
        assert_eq!(m.step_away(at(10), "123"), Err(Refusal::StepAwayCode));
        let until = m.step_away(at(10), "2468").unwrap();
        // The site's default pause: ten minutes.
        assert_eq!(until, 20 * MIN);
        assert_eq!(m.shown(at(10).wall).state, SeatState::SteppedAway);
        assert_eq!(m.step_away(at(11), "1357"), Err(Refusal::AlreadyAway));
        assert_eq!(m.next_deadline(), Some(20 * MIN));
        assert_eq!(m.come_back(12 * MIN, "1111"), Ok(ComeBack::Wrong(4)));
        assert_eq!(m.come_back(13 * MIN, "2468"), Ok(ComeBack::Resumed));
        assert_eq!(m.shown(at(13).wall).state, SeatState::InSession);
        // The session's own end did not move.
        assert_eq!(m.running().unwrap().deadline, Some(45 * MIN));
        assert_eq!(m.come_back(14 * MIN, "2468"), Err(Refusal::NotAway));
    }

    #[test]
    fn five_wrong_codes_or_the_end_of_the_pause_end_the_session() {
        let mut m = started(Some(45 * MIN));
        m.step_away(at(1), "2468").unwrap();
        for left in (1..5).rev() {
            assert_eq!(m.come_back(2 * MIN, "0000"), Ok(ComeBack::Wrong(left)));
        }
        match m.come_back(2 * MIN, "0000") {
            Ok(ComeBack::Ended(Effect::EndAndWipe { reason, .. })) => {
                assert_eq!(reason, EndReason::Abandoned)
            }
            other => panic!("expected the end, got {other:?}"),
        }
        assert!(matches!(m.state(), State::Wiping { .. }));

        let mut m = started(Some(45 * MIN));
        m.step_away(at(30), "2468").unwrap();
        assert!(m
            .tick(39 * MIN + Duration::from_secs(59))
            .iter()
            .all(|e| matches!(e, Effect::Warn { .. })));
        match m.tick(40 * MIN).as_slice() {
            [Effect::EndAndWipe { reason, .. }] => assert_eq!(*reason, EndReason::Abandoned),
            other => panic!("expected the end of the pause, got {other:?}"),
        }
    }

    #[test]
    fn a_pause_never_outlasts_the_session_and_a_site_may_turn_it_off() {
        let mut m = started(Some(45 * MIN));
        assert_eq!(m.step_away(at(40), "2468"), Ok(45 * MIN));
        let mut m = started(Some(45 * MIN));
        assert_eq!(
            m.step_away(at_time(44 * MIN + Duration::from_secs(30)), "2468"),
            Err(Refusal::TooLateToStepAway)
        );
        let mut off = schedule(2, vec![]);
        off.seat_policy.step_away_minutes = 0;
        let mut m = started(Some(45 * MIN));
        m.schedule_offered(at(0), off);
        assert_eq!(m.step_away(at(1), "2468"), Err(Refusal::StepAwayOff));
        assert_eq!(m.shown(at(1).wall).greeter.step_away_minutes, 0);
        assert_eq!(
            SessionMachine::default().step_away(at(1), "2468"),
            Err(Refusal::NoSession)
        );
    }

    #[test]
    fn a_device_plugged_in_during_a_pause_does_not_unlock_it_and_a_pause_cut_by_the_end_is_time_up()
    {
        let mut m = started(Some(45 * MIN));
        m.step_away(at(10), "2468").unwrap();
        m.device_alarm("clavier « X »".into());
        assert_eq!(m.shown(at(11).wall).state, SeatState::SteppedAway);
        assert_eq!(
            m.shown(at(11).wall).reason.as_deref(),
            Some("clavier « X »")
        );

        let mut m = started(Some(45 * MIN));
        m.step_away(at(40), "2468").unwrap();
        match m.tick(45 * MIN).as_slice() {
            [Effect::EndAndWipe { reason, .. }] => assert_eq!(*reason, EndReason::TimeUp),
            other => panic!("expected the session's end, got {other:?}"),
        }
    }

    #[test]
    fn a_device_alarm_refuses_new_sessions_but_lets_the_running_one_finish() {
        let mut m = SessionMachine::default();
        m.device_alarm("clavier « X »".into());
        assert_eq!(
            m.decide(at(0), &free()).unwrap_err(),
            Refusal::DeviceAlarm("clavier « X »".into())
        );
        assert_eq!(m.shown(at(0).wall).state, SeatState::DeviceAlarm);
        m.devices_checked();
        assert!(m.decide(at(0), &free()).is_ok());

        let mut m = started(Some(45 * MIN));
        m.device_alarm("clavier « X »".into());
        assert_eq!(m.shown(at(1).wall).state, SeatState::DeviceAlarm);
        let effect = m.end(2 * MIN, EndReason::Visitor).unwrap();
        assert!(matches!(effect, Effect::EndAndWipe { .. }));
        m.wipe_finished(true, "");
        // After the wipe, still locked until staff check.
        assert!(matches!(
            m.decide(at(3), &free()),
            Err(Refusal::DeviceAlarm(_))
        ));
    }

    #[test]
    fn warns_at_five_and_one_minute_then_ends_at_the_deadline() {
        let mut m = started(Some(45 * MIN));
        assert!(m.tick(39 * MIN).is_empty());
        assert_eq!(m.next_deadline(), Some(40 * MIN));
        assert_eq!(warnings(&m.tick(40 * MIN)), vec![5]);
        assert!(
            m.tick(40 * MIN + Duration::from_secs(1)).is_empty(),
            "warned once"
        );
        assert_eq!(m.next_deadline(), Some(44 * MIN));
        assert_eq!(warnings(&m.tick(44 * MIN)), vec![1]);
        assert_eq!(m.next_deadline(), Some(45 * MIN));
        assert!(
            matches!(m.state(), State::InSession(_)),
            "warnings never end a session"
        );
        let end = m.tick(45 * MIN);
        assert_eq!(
            end,
            vec![Effect::EndAndWipe {
                session_id: "s1".into(),
                reason: EndReason::TimeUp,
                duration: 45 * MIN
            }]
        );
        assert_eq!(m.state().seat_state(), SeatState::Wiping);
        assert!(m.tick(50 * MIN).is_empty(), "ends once");
    }

    #[test]
    fn a_late_tick_gives_only_the_last_warning_due() {
        let mut m = started(Some(10 * MIN));
        assert_eq!(
            warnings(&m.tick(9 * MIN + Duration::from_secs(30))),
            vec![1]
        );
        assert!(m.tick(9 * MIN + Duration::from_secs(40)).is_empty());
    }

    #[test]
    fn a_short_session_still_ends_on_time() {
        let mut m = started(Some(Duration::from_secs(30)));
        assert_eq!(warnings(&m.tick(Duration::from_secs(1))), vec![1]);
        assert!(matches!(
            m.tick(Duration::from_secs(30))[0],
            Effect::EndAndWipe { .. }
        ));
    }

    #[test]
    fn a_session_ending_within_five_minutes_of_the_origin_is_warned_at_once() {
        // The agent started a minute ago; the slot ends three minutes from now.
        let mut m = SessionMachine::new(State::Ready);
        let admitted = Admitted {
            kind: SlotKind::Supervised,
            permanence_id: None,
            ticket: None,
            own: None,
            slot_end: Some(3 * MIN),
        };
        m.start(at(1), "s".into(), &admitted).unwrap();
        assert_eq!(
            m.next_deadline(),
            Some(Duration::ZERO),
            "the T−5 warning is due"
        );
        assert_eq!(warnings(&m.tick(MIN)), vec![5]);
        assert_eq!(m.next_deadline(), Some(3 * MIN), "then T−1");
        assert_eq!(warnings(&m.tick(3 * MIN)), vec![1]);
        assert_eq!(m.next_deadline(), Some(4 * MIN), "then the end");
    }

    #[test]
    fn no_deadline_no_end() {
        let mut m = started(None);
        assert!(m.tick(1000 * MIN).is_empty());
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn refusals_say_why() {
        let mut m = started(None);
        assert_eq!(m.decide(at(1), &free()), Err(Refusal::Busy));
        m.end(MIN, EndReason::Visitor).unwrap();
        assert_eq!(m.decide(at(1), &free()), Err(Refusal::Wiping));
        assert_eq!(m.end(MIN, EndReason::Visitor), Err(Refusal::NoSession));
        m.wipe_finished(false, "home held by pid 12");
        assert_eq!(m.state().seat_state(), SeatState::Blocked);
        let refused = m.decide(at(1), &free()).unwrap_err();
        assert!(refused.to_string().contains("home held by pid 12"));
        m.unblock();
        assert!(matches!(m.decide(at(1), &free()), Ok(Decision::Start(_))));
        m.lock("fermé pour travaux".into()).unwrap();
        assert_eq!(
            m.decide(at(1), &free()),
            Err(Refusal::Closed("fermé pour travaux".into()))
        );
    }

    #[test]
    fn a_lock_during_the_wipe_applies_once_verified() {
        let mut m = started(None);
        m.end(MIN, EndReason::Staff).unwrap();
        m.lock("fermé".into()).unwrap();
        m.wipe_finished(true, "");
        assert_eq!(m.state(), &State::Closed("fermé".into()));
        m.unlock();
        assert_eq!(m.state(), &State::Ready);
    }

    #[test]
    fn no_session_starts_before_the_wipes_a_crash_left_are_finished() {
        let mut m = SessionMachine::recovering(
            SessionRules::default(),
            SlotBook::default(),
            TicketBook::default(),
        );
        assert_eq!(m.decide(at(0), &free()), Err(Refusal::Wiping));
        m.recovered(None);
        assert!(matches!(m.decide(at(0), &free()), Ok(Decision::Start(_))));
        m.recovered(Some("uid 60001: /tmp/x left".into()));
        assert!(matches!(
            m.decide(at(0), &free()),
            Err(Refusal::Blocked(why)) if why.contains("/tmp/x")
        ));
    }

    #[test]
    fn a_session_whose_account_could_not_be_made_is_wiped_before_the_next() {
        let mut m = SessionMachine::default();
        m.creation_failed("s1".into());
        assert_eq!(m.decide(at(0), &free()), Err(Refusal::Wiping));
        m.wipe_finished(true, "");
        assert!(matches!(m.decide(at(0), &free()), Ok(Decision::Start(_))));
    }

    #[test]
    fn a_free_access_session_ends_at_the_slot_end_when_that_comes_first() {
        // Free access until 10:30, then a permanence on this seat.
        let mut m = seat(vec![
            slot(-60, 30, SlotKind::Free),
            slot(30, 210, SlotKind::Supervised),
        ]);
        let running = start(&mut m, at(10), &free());
        assert_eq!(
            end_of(&running),
            (Some(30 * MIN), EndReason::SlotEnded),
            "20 minutes, not 45"
        );
        assert_eq!(running.own_deadline, Some(55 * MIN));
    }

    #[test]
    fn a_free_access_session_lasts_its_own_length_when_its_slot_ends_later() {
        let mut m = seat(vec![
            slot(-60, 120, SlotKind::Free),
            slot(120, 210, SlotKind::Supervised),
        ]);
        let running = start(&mut m, at(10), &free());
        assert_eq!(end_of(&running), (Some(55 * MIN), EndReason::TimeUp));
        // Without any schedule: the rules' length.
        let mut m = SessionMachine::default();
        let running = start(&mut m, at(10), &free());
        assert_eq!(end_of(&running), (Some(55 * MIN), EndReason::TimeUp));
    }

    #[test]
    fn a_session_ends_a_fixed_time_after_it_starts_not_after_it_was_asked_for() {
        // Asked for at minute 10, its account ready at minute 11: 45 minutes from 11; the
        // slot's end stays the time left when asked.
        let mut m = seat(vec![
            slot(-60, 120, SlotKind::Free),
            slot(120, 210, SlotKind::Supervised),
        ]);
        let admitted = admitted(&m, at(10), &free());
        assert_eq!(admitted.own, Some(45 * MIN));
        assert_eq!(admitted.slot_end, Some(110 * MIN));
        m.start(at(11), "s1".into(), &admitted).unwrap();
        assert_eq!(m.running().unwrap().deadline, Some(56 * MIN));
    }

    #[test]
    fn a_ticket_is_required_only_when_the_slot_says_so() {
        let mut asks_tickets = slot(-60, 120, SlotKind::Free);
        asks_tickets.ticket_required = true;
        let mut m = seat(vec![asks_tickets, slot(120, 180, SlotKind::Free)]);
        assert!(m.tickets_offered(tickets(30)));
        assert_eq!(m.decide(at(10), &free()), Err(Refusal::TicketRequired));
        assert!(m.shown(at(10).wall).greeter.ticket_required);
        // A mediator's session needs none.
        assert!(matches!(
            m.decide(at(10), &Ask::new(SlotKind::Supervised)),
            Ok(Decision::Start(_))
        ));
        // In the next slot free access is open to all.
        assert!(matches!(
            m.decide(at(130), &free()),
            Ok(Decision::Start(Admitted { ticket: None, .. }))
        ));
        assert!(!m.shown(at(130).wall).greeter.ticket_required);
        // The ticket opens the session.
        assert!(matches!(
            m.decide(at(10), &with_ticket(CODE)),
            Ok(Decision::Start(Admitted {
                ticket: Some(_),
                ..
            }))
        ));
    }

    #[test]
    fn a_ticket_sets_the_session_length_and_opens_only_one_session() {
        let mut m = seat(vec![slot(-60, 600, SlotKind::Free)]);
        m.tickets_offered(tickets(30));
        let running = start(&mut m, at(10), &with_ticket("k7mn 3xpa"));
        assert_eq!(
            end_of(&running),
            (Some(40 * MIN), EndReason::TimeUp),
            "the ticket's 30 minutes, not the slot's 45"
        );
        m.end(20 * MIN, EndReason::Visitor).unwrap();
        m.wipe_finished(true, "");
        assert_eq!(
            m.decide(at(25), &with_ticket(CODE)),
            Err(Refusal::TicketUsed),
            "used on this seat, even before the controller hears of it"
        );
        // A ticket typed where none is needed is still checked.
        assert_eq!(
            m.decide(at(25), &with_ticket("K7MN-3XP")),
            Err(Refusal::TicketInvalid)
        );
    }

    #[test]
    fn a_refused_ticket_is_not_used_up() {
        let mut m = seat(vec![slot(-60, 600, SlotKind::Free)]);
        m.tickets_offered(tickets(30));
        let admitted = admitted(&m, at(10), &with_ticket(CODE));
        m.lock("fermé".into()).unwrap();
        assert!(m.start(at(10), "s1".into(), &admitted).is_err());
        m.unlock();
        assert!(matches!(
            m.decide(at(11), &with_ticket(CODE)),
            Ok(Decision::Start(_))
        ));
    }

    #[test]
    fn a_right_pin_on_a_busy_seat_is_refused_like_a_wrong_one_without_being_checked() {
        let permanence = || {
            seat(vec![
                slot(-60, 120, SlotKind::Supervised),
                slot(120, 180, SlotKind::Closed),
                slot(180, 300, SlotKind::Supervised),
            ])
        };
        // Busy: the answer a session start would get, and no PIN check asked for (the
        // machine never even sees the PIN, so a right one and a wrong one cannot differ).
        let mut busy = permanence();
        start(&mut busy, at(0), &Ask::new(SlotKind::Supervised));
        assert_eq!(busy.decide(at(1), &with_pin()), Err(Refusal::Busy));
        let mut wiping = busy.clone();
        wiping.end(MIN, EndReason::Visitor).unwrap();
        assert_eq!(wiping.decide(at(1), &with_pin()), Err(Refusal::Wiping));
        let mut blocked = wiping.clone();
        blocked.wipe_finished(false, "home held");
        assert_eq!(
            blocked.decide(at(1), &with_pin()),
            Err(Refusal::Blocked("home held".into()))
        );
        let mut locked = permanence();
        locked.lock("fermé".into()).unwrap();
        assert_eq!(
            locked.decide(at(1), &with_pin()),
            Err(Refusal::Closed("fermé".into()))
        );
        // Closed hours.
        assert!(matches!(
            permanence().decide(at(130), &with_pin()),
            Err(Refusal::Closed(_))
        ));
    }

    #[test]
    fn a_pin_is_checked_only_when_the_seat_would_start_the_session() {
        let m = seat(vec![
            slot(-60, 120, SlotKind::Supervised),
            slot(120, 300, SlotKind::Free),
        ]);
        let Ok(Decision::CheckPin(check)) = m.decide(at(10), &with_pin()) else {
            panic!("a ready seat in a permanence checks the PIN");
        };
        assert_eq!(check.hashes, schedule(1, vec![]).mediator_pins);
        assert_eq!(check.clone().answer(false), Err(Refusal::MediatorPin));
        let admitted = check.answer(true).unwrap();
        assert_eq!(admitted.kind, SlotKind::Supervised);
        assert_eq!(admitted.permanence_id.as_deref(), Some("perm-ecrivain"));
        assert_eq!(admitted.slot_end, Some(110 * MIN));
        // Without the PIN (staff, the dashboard) the session starts at once.
        assert!(matches!(
            m.decide(at(10), &Ask::new(SlotKind::Supervised)),
            Ok(Decision::Start(_))
        ));
    }

    #[test]
    fn during_a_permanence_a_visitor_alone_is_told_the_mediator_opens_sessions() {
        let m = seat(vec![
            slot(-60, 120, SlotKind::Supervised),
            slot(120, 300, SlotKind::Free),
        ]);
        assert_eq!(
            m.decide(at(10), &free()),
            Err(Refusal::SupervisedOnly("Écrivain public".into()))
        );
        let mut m = m;
        let running = start(&mut m, at(10), &Ask::new(SlotKind::Supervised));
        assert_eq!(end_of(&running), (Some(120 * MIN), EndReason::SlotEnded));
        assert_eq!(
            running.own_deadline, None,
            "the mediator's session has no length"
        );
    }

    #[test]
    fn a_schedule_that_closes_the_seat_mid_session_moves_the_end_not_past_the_original() {
        let open = || {
            let mut m = seat(vec![slot(-60, 600, SlotKind::Free)]);
            start(&mut m, at(0), &free());
            m
        };
        let closed_from = |minute: i64| {
            schedule(
                2,
                vec![
                    slot(-60, minute, SlotKind::Free),
                    slot(minute, 600, SlotKind::Closed),
                ],
            )
        };
        // Closed from minute 10: five minutes of grace to save documents.
        let mut m = open();
        assert!(m.schedule_offered(at(10), closed_from(10)));
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(15 * MIN), EndReason::SlotEnded)
        );
        // Closed from minute 42: the grace would end after the session's own end, which
        // stays.
        let mut m = open();
        assert!(m.schedule_offered(at(42), closed_from(42)));
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(45 * MIN), EndReason::TimeUp)
        );
        // An older schedule changes nothing.
        let mut m = open();
        assert!(!m.schedule_offered(at(10), schedule(1, vec![slot(-60, 10, SlotKind::Free)])));
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(45 * MIN), EndReason::TimeUp)
        );
    }

    #[test]
    fn a_slot_extended_under_a_session_gives_it_its_whole_length_and_warns_again() {
        let mut m = seat(vec![
            slot(-60, 20, SlotKind::Free),
            slot(20, 200, SlotKind::Supervised),
        ]);
        start(&mut m, at(0), &free());
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(20 * MIN), EndReason::SlotEnded)
        );
        assert_eq!(warnings(&m.tick(15 * MIN)), vec![5]);
        // The permanence is moved to 11:00: the session gets its 45 minutes, no more.
        assert!(m.schedule_offered(
            at(16),
            schedule(
                2,
                vec![
                    slot(-60, 60, SlotKind::Free),
                    slot(60, 200, SlotKind::Supervised),
                ]
            )
        ));
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(45 * MIN), EndReason::TimeUp)
        );
        assert_eq!(m.next_deadline(), Some(40 * MIN), "T−5 is given again");
        assert_eq!(warnings(&m.tick(40 * MIN)), vec![5]);
    }

    #[test]
    fn a_permanence_opened_now_under_a_free_visitor_gives_five_minutes() {
        let mut m = seat(vec![slot(-60, 600, SlotKind::Free)]);
        start(&mut m, at(0), &free());
        assert!(m.schedule_offered(
            at(10),
            schedule(
                2,
                vec![
                    slot(-60, 10, SlotKind::Free),
                    slot(10, 120, SlotKind::Supervised),
                ]
            )
        ));
        assert_eq!(
            end_of(m.running().unwrap()),
            (Some(15 * MIN), EndReason::SlotEnded)
        );
    }

    #[test]
    fn the_greeter_offers_free_access_for_its_length_or_until_the_slot_ends() {
        let mut asks_tickets = slot(-60, 120, SlotKind::Free);
        asks_tickets.session_minutes = Some(30);
        asks_tickets.ticket_required = true;
        let m = seat(vec![asks_tickets, slot(120, 300, SlotKind::Supervised)]);
        let shown = m.shown(at(10).wall);
        assert_eq!(shown.state, SeatState::Ready);
        assert_eq!(shown.reason, None);
        let greeter = shown.greeter;
        assert!(greeter.ticket_required);
        assert_eq!(greeter.session_minutes, Some(30));
        assert_eq!(greeter.slot_ends_at, Some(UtcMillis(BASE + 120 * MIN_MS)));
        assert_eq!(greeter.time_zone, "Europe/Paris");
        assert!(!greeter.ends_with_slot(at(10).wall), "30 minutes");
        assert!(
            greeter.ends_with_slot(at(91).wall),
            "until 12:00, 29 minutes away"
        );
        assert!(
            !greeter.ends_with_slot(at(90).wall),
            "exactly 30: the length"
        );
        // No schedule: the rules' length, nothing else.
        let greeter = SessionMachine::default().shown(at(0).wall).greeter;
        assert_eq!(greeter.session_minutes, Some(45));
        assert_eq!(greeter.slot_ends_at, None);
        assert!(!greeter.ends_with_slot(at(0).wall));
    }

    #[test]
    fn during_a_permanence_the_greeter_names_it_and_waits_for_the_mediator() {
        let m = seat(vec![
            slot(-60, 120, SlotKind::Supervised),
            slot(120, 300, SlotKind::Free),
        ]);
        let shown = m.shown(at(10).wall);
        assert_eq!(shown.state, SeatState::Supervised);
        assert_eq!(shown.greeter.permanence.as_deref(), Some("Écrivain public"));
        assert_eq!(
            shown.greeter.slot_ends_at,
            Some(UtcMillis(BASE + 120 * MIN_MS))
        );
        assert!(!shown.greeter.ticket_required);
    }

    #[test]
    fn a_closed_seat_says_when_it_reopens() {
        let m = seat(vec![
            slot(-60, 0, SlotKind::Free),
            slot(0, 120, SlotKind::Closed),
            slot(120, 300, SlotKind::Free),
        ]);
        let shown = m.shown(at(10).wall);
        let reopens = UtcMillis(BASE + 120 * MIN_MS);
        assert_eq!(shown.state, SeatState::Closed);
        assert_eq!(shown.greeter.reopens_at, Some(reopens));
        assert_eq!(shown.reason, Some(format!("reopens at {reopens}")));
        assert_eq!(shown.greeter.session_minutes, None);
        assert!(matches!(
            m.decide(at(10), &free()),
            Err(Refusal::Closed(why)) if why.contains(&reopens.to_string())
        ));
        // Closed with no opening in the cached schedule.
        let m = seat(vec![slot(0, 120, SlotKind::Closed)]);
        let shown = m.shown(at(10).wall);
        assert_eq!(shown.reason.as_deref(), Some("closed until further notice"));
        assert_eq!(shown.greeter.reopens_at, None);
    }

    #[test]
    fn a_seat_closed_by_staff_shows_their_message_and_a_busy_seat_its_session() {
        let mut m = seat(vec![slot(-60, 120, SlotKind::Supervised)]);
        m.lock("Fermé pour l'atelier".into()).unwrap();
        let shown = m.shown(at(10).wall);
        assert_eq!(shown.state, SeatState::Closed);
        assert_eq!(shown.reason.as_deref(), Some("Fermé pour l'atelier"));
        assert_eq!(
            shown.greeter.staff_message.as_deref(),
            Some("Fermé pour l'atelier")
        );
        m.unlock();
        start(&mut m, at(10), &Ask::new(SlotKind::Supervised));
        assert_eq!(m.shown(at(11).wall).state, SeatState::InSession);
    }

    #[test]
    fn the_idle_seat_looks_again_when_its_slot_changes_and_at_least_every_minute() {
        let m = seat(vec![
            slot(-60, 10, SlotKind::Free),
            slot(10, 120, SlotKind::Supervised),
        ]);
        assert_eq!(
            m.next_display_change(at_time(10 * MIN - Duration::from_secs(20))),
            Some(Duration::from_secs(20))
        );
        assert_eq!(m.next_display_change(at(0)), Some(DISPLAY_RECHECK));
        assert_eq!(m.next_display_change(at(200)), None, "past the cache");
        assert_eq!(SessionMachine::default().next_display_change(at(0)), None);
    }

    #[cfg(feature = "demo")]
    #[test]
    fn the_demo_day_shrinks_session_lengths_and_slot_ends_alike() {
        let mut m = seat(vec![
            slot(-60, 30, SlotKind::Free),
            slot(30, 210, SlotKind::Supervised),
        ]);
        let now = at(0).accelerated(60.0);
        let running = start(&mut m, now, &free());
        assert_eq!(
            end_of(&running),
            (Some(30 * Duration::from_secs(1)), EndReason::SlotEnded)
        );
        assert_eq!(running.own_deadline, Some(45 * Duration::from_secs(1)));
        assert_eq!(SessionMachine::default().next_display_change(now), None);
        assert_eq!(
            m.next_display_change(at(0).accelerated(0.5)),
            Some(DISPLAY_RECHECK)
        );
    }
}
