//! The seat's session lifecycle as a pure state machine: no clock reads, no I/O.
//!
//! Time comes in as `now`, a [`Duration`] on the agent's monotonic clock (time since the
//! agent started), so a wall-clock change can neither shorten nor stretch a session, and
//! tests drive it exactly. The [`crate::manager`] performs what the machine asks
//! ([`Effect`]) on a [`crate::platform::SessionPlatform`] and feeds the results back.
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

use commune_protocol::messages::{EndReason, SeatState, SlotKind};

/// Minutes before the end at which the visitor is warned.
pub const WARNING_MINUTES: [u32; 2] = [5, 1];

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
    /// Warnings already given, in minutes left.
    pub warned: Vec<u32>,
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
}

/// The seat's session state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMachine {
    state: State,
}

impl Default for SessionMachine {
    fn default() -> Self {
        SessionMachine {
            state: State::Ready,
        }
    }
}

impl SessionMachine {
    /// A machine in the given state (recovery starts `Wiping` or `Blocked`).
    pub fn new(state: State) -> Self {
        SessionMachine { state }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Starts a session if the seat is ready. `length` limits it (free access); the
    /// session then ends at `now + length` whatever happens to the network or wall clock.
    pub fn start(
        &mut self,
        now: Duration,
        session_id: String,
        kind: SlotKind,
        length: Option<Duration>,
    ) -> Result<(), Refusal> {
        self.start_until(
            now,
            session_id,
            kind,
            length.map(|l| (now + l, EndReason::TimeUp)),
        )
    }

    /// Starts a session that must end at `limit` (a monotonic instant and why).
    pub fn start_until(
        &mut self,
        now: Duration,
        session_id: String,
        kind: SlotKind,
        limit: Option<(Duration, EndReason)>,
    ) -> Result<(), Refusal> {
        match &self.state {
            State::Ready => {
                self.state = State::InSession(Running {
                    session_id,
                    kind,
                    started: now,
                    deadline: limit.map(|l| l.0),
                    deadline_reason: limit.map(|l| l.1).unwrap_or(EndReason::TimeUp),
                    warned: Vec::new(),
                });
                Ok(())
            }
            State::InSession(_) => Err(Refusal::Busy),
            State::Wiping { .. } => Err(Refusal::Wiping),
            State::Closed(why) => Err(Refusal::Closed(why.clone())),
            State::Blocked(why) => Err(Refusal::Blocked(why.clone())),
        }
    }

    /// Ends the running session now.
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

    /// Time passed: warnings due, and the end when the deadline is reached. Warnings never
    /// end a session themselves; a late tick gives only the warnings not yet overtaken.
    pub fn tick(&mut self, now: Duration) -> Vec<Effect> {
        let State::InSession(running) = &mut self.state else {
            return Vec::new();
        };
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

    /// Moves the running session's end (a schedule changed: a slot extended, closed early,
    /// a permanence added). Warnings already given for a later end are given again for the
    /// new one.
    pub fn set_deadline(&mut self, limit: Option<(Duration, EndReason)>) {
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

    /// When the machine next needs a tick (a warning or the end), if ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        let State::InSession(running) = &self.state else {
            return None;
        };
        let deadline = running.deadline?;
        // A warning whose time is before the machine's origin (a short session just after
        // the agent started) is due at once.
        WARNING_MINUTES
            .iter()
            .filter(|m| !running.warned.contains(m))
            .map(|m| deadline.saturating_sub(Duration::from_secs(u64::from(*m) * 60)))
            .chain(std::iter::once(deadline))
            .min()
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

    const MIN: Duration = Duration::from_secs(60);

    fn started(length: Option<Duration>) -> SessionMachine {
        let mut m = SessionMachine::default();
        m.start(Duration::ZERO, "s1".into(), SlotKind::Free, length)
            .unwrap();
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
        m.start_until(
            MIN,
            "s".into(),
            SlotKind::Supervised,
            Some((4 * MIN, EndReason::SlotEnded)),
        )
        .unwrap();
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
        assert_eq!(
            m.start(MIN, "s2".into(), SlotKind::Free, None),
            Err(Refusal::Busy)
        );
        m.end(MIN, EndReason::Visitor).unwrap();
        assert_eq!(
            m.start(MIN, "s2".into(), SlotKind::Free, None),
            Err(Refusal::Wiping)
        );
        assert_eq!(m.end(MIN, EndReason::Visitor), Err(Refusal::NoSession));
        m.wipe_finished(false, "home held by pid 12");
        assert_eq!(m.state().seat_state(), SeatState::Blocked);
        let refused = m.start(MIN, "s3".into(), SlotKind::Free, None).unwrap_err();
        assert!(refused.to_string().contains("home held by pid 12"));
        m.unblock();
        assert!(m.start(MIN, "s3".into(), SlotKind::Free, None).is_ok());
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
}
