//! Calls for a mediator from the visitor's screens: the visitor chooses a coarse need
//! (printing, an account or password, a form, other) and nothing else is sent: never the
//! screen, never a word the visitor typed.
//!
//! [`HelpDesk`] is the pure part: one open call at a time, a cooldown between calls, a few
//! calls per session (per hour on the welcome screens), and the end of a call when the
//! seat's session changes. The notice inside a session can place a call without the
//! greeter's secret (it runs as the visitor), so these bounds are what keeps a visitor's
//! own programs from flooding the staff's seat map. [`Help`] is the thin shell around it:
//! the clock, the seat's session, and the durable events (`HelpCalled`, `HelpCancelled`)
//! in the outbox, in the order the visitor acted.

use std::sync::Arc;
use std::time::Duration;

use commune_protocol::messages::{AgentEvent, HelpCalled, HelpCancelled, HelpNeed};
use serde::Serialize;
use tokio::sync::{watch, Mutex};

use crate::manager::{EventSink, Status, WallClock};

/// The bounds on a seat's calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRules {
    /// Between two calls of the seat.
    pub cooldown: Duration,
    /// Calls of one session (or, on the welcome screens, of one [`HelpRules::window`]).
    pub per_session: usize,
    /// On the welcome screens, calls older than this no longer count.
    pub window: Duration,
}

impl Default for HelpRules {
    fn default() -> Self {
        HelpRules {
            cooldown: Duration::from_secs(30),
            per_session: 3,
            window: Duration::from_secs(3600),
        }
    }
}

/// A call as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// Random id.
    pub id: String,
    /// What the visitor needs.
    pub need: HelpNeed,
    /// A staff member took it: someone is coming.
    pub taken: bool,
}

/// Why a call was not placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelpRefusal {
    /// A call is already open on this seat.
    #[error("a call is already open on this seat")]
    AlreadyOpen,
    /// The last call was too recent.
    #[error("the last call was {0} s too recent")]
    TooSoon(u64),
    /// The session made its calls.
    #[error("this session made all its calls")]
    TooMany,
    /// Not a need of the list.
    #[error("unknown need")]
    UnknownNeed,
    /// The call could not be written to the outbox.
    #[error("the call could not be recorded: {0}")]
    Failed(String),
}

#[derive(Debug)]
struct Open {
    call: Call,
    session: Option<String>,
}

/// The seat's calls, pure: time comes in as the monotonic time since some origin.
#[derive(Debug)]
pub struct HelpDesk {
    rules: HelpRules,
    /// The session the counts belong to (none: the welcome screens).
    key: Option<String>,
    /// When this key's calls were placed.
    placed: Vec<Duration>,
    /// When the seat's last call was placed, whatever the session.
    last: Option<Duration>,
    open: Option<Open>,
}

impl HelpDesk {
    /// A desk with no call.
    pub fn new(rules: HelpRules) -> Self {
        HelpDesk {
            rules,
            key: None,
            placed: Vec::new(),
            last: None,
            open: None,
        }
    }

    /// The seat's session now: a call of another session (or of the welcome screens, once a
    /// session started) has ended, and the new session's calls are counted afresh.
    pub fn observe(&mut self, session: Option<&str>) {
        if self.key.as_deref() != session {
            self.key = session.map(str::to_string);
            self.placed.clear();
        }
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.session.as_deref() != session)
        {
            self.open = None;
        }
    }

    /// Places a call for `need` in `session` at `now`, with the id `id`.
    pub fn call(
        &mut self,
        need: HelpNeed,
        session: Option<&str>,
        now: Duration,
        id: String,
    ) -> Result<Call, HelpRefusal> {
        self.observe(session);
        if need == HelpNeed::Unknown {
            return Err(HelpRefusal::UnknownNeed);
        }
        if self.open.is_some() {
            return Err(HelpRefusal::AlreadyOpen);
        }
        if let Some(last) = self.last {
            let since = now.saturating_sub(last);
            if since < self.rules.cooldown {
                return Err(HelpRefusal::TooSoon(
                    (self.rules.cooldown - since).as_secs().max(1),
                ));
            }
        }
        if session.is_none() {
            let window = self.rules.window;
            self.placed.retain(|at| now.saturating_sub(*at) < window);
        }
        if self.placed.len() >= self.rules.per_session {
            return Err(HelpRefusal::TooMany);
        }
        let call = Call {
            id,
            need,
            taken: false,
        };
        self.placed.push(now);
        self.last = Some(now);
        self.open = Some(Open {
            call: call.clone(),
            session: session.map(str::to_string),
        });
        Ok(call)
    }

    /// Forgets a call that could not be recorded (it was never sent); the visitor may try
    /// again at once.
    fn forget(&mut self, id: &str, at: Duration) {
        if self.open.as_ref().is_some_and(|o| o.call.id == id) {
            self.open = None;
            self.placed.retain(|p| *p != at);
            self.last = None;
        }
    }

    /// The visitor cancels the open call; its id, if there was one.
    pub fn cancel(&mut self, session: Option<&str>) -> Option<String> {
        self.observe(session);
        self.open.take().map(|o| o.call.id)
    }

    /// A staff member took the call `id`; false when no such call is open.
    pub fn taken(&mut self, id: &str, session: Option<&str>) -> bool {
        self.observe(session);
        match &mut self.open {
            Some(open) if open.call.id == id => {
                open.call.taken = true;
                true
            }
            _ => false,
        }
    }

    /// The open call, if any.
    pub fn current(&mut self, session: Option<&str>) -> Option<Call> {
        self.observe(session);
        self.open.as_ref().map(|o| o.call.clone())
    }
}

/// The seat's calls, shared by the screens and the staff commands. Cheap to clone.
#[derive(Clone)]
pub struct Help {
    desk: Arc<Mutex<HelpDesk>>,
    events: Arc<dyn EventSink>,
    wall: WallClock,
    status: watch::Receiver<Status>,
    origin: tokio::time::Instant,
}

impl std::fmt::Debug for Help {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Help").finish_non_exhaustive()
    }
}

fn new_call_id() -> String {
    use rand::Rng as _;
    let bytes: [u8; 8] = rand::rng().random();
    format!("h-{}", hex::encode(bytes))
}

impl Help {
    /// The calls of the seat whose status is `status`, recorded in `events`.
    pub fn new(
        events: Arc<dyn EventSink>,
        wall: WallClock,
        status: watch::Receiver<Status>,
    ) -> Self {
        Help {
            desk: Arc::new(Mutex::new(HelpDesk::new(HelpRules::default()))),
            events,
            wall,
            status,
            origin: tokio::time::Instant::now(),
        }
    }

    fn session(&self) -> Option<String> {
        self.status
            .borrow()
            .session
            .as_ref()
            .map(|s| s.session_id.clone())
    }

    /// Places a call for `need`; it is in the outbox when this returns `Ok`.
    pub async fn call(&self, need: HelpNeed) -> Result<Call, HelpRefusal> {
        let session = self.session();
        // Held while the event is written: a cancel cannot overtake its call.
        let mut desk = self.desk.lock().await;
        let now = self.origin.elapsed();
        let call = desk.call(need, session.as_deref(), now, new_call_id())?;
        // The session stays on the seat (the desk ends the call with it): the controller
        // gets the need and the time, not which session called.
        let event = AgentEvent::HelpCalled(HelpCalled {
            call_id: call.id.clone(),
            need,
            session_id: None,
        });
        if let Err(e) = self.events.emit((self.wall)(), event).await {
            desk.forget(&call.id, now);
            return Err(HelpRefusal::Failed(e));
        }
        Ok(call)
    }

    /// Cancels the open call, if any; true when there was one.
    pub async fn cancel(&self) -> bool {
        let session = self.session();
        let mut desk = self.desk.lock().await;
        let Some(call_id) = desk.cancel(session.as_deref()) else {
            return false;
        };
        let event = AgentEvent::HelpCancelled(HelpCancelled { call_id });
        if let Err(error) = self.events.emit((self.wall)(), event).await {
            tracing::error!(%error, "a cancelled call could not be recorded");
        }
        true
    }

    /// A staff member took the call `id`.
    pub async fn taken(&self, id: &str) -> bool {
        let session = self.session();
        self.desk.lock().await.taken(id, session.as_deref())
    }

    /// The open call, if any.
    pub async fn current(&self) -> Option<Call> {
        let session = self.session();
        self.desk.lock().await.current(session.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn one_call_at_a_time_and_a_cancelled_call_still_waits_out_the_cooldown() {
        let mut desk = HelpDesk::new(HelpRules::default());
        let s = Some("s-1");
        let call = desk.call(HelpNeed::Printing, s, secs(100), "h-1".into());
        assert_eq!(call.unwrap().need, HelpNeed::Printing);
        assert_eq!(
            desk.call(HelpNeed::Form, s, secs(200), "h-2".into()),
            Err(HelpRefusal::AlreadyOpen)
        );
        assert_eq!(desk.cancel(s), Some("h-1".into()));
        assert_eq!(desk.cancel(s), None);
        // Cancel and call again at once: refused until 30 s after the first call.
        let mut desk = HelpDesk::new(HelpRules::default());
        desk.call(HelpNeed::Printing, s, secs(100), "h-1".into())
            .unwrap();
        desk.cancel(s);
        assert_eq!(
            desk.call(HelpNeed::Printing, s, secs(110), "h-2".into()),
            Err(HelpRefusal::TooSoon(20))
        );
        assert!(desk
            .call(HelpNeed::Printing, s, secs(130), "h-2".into())
            .is_ok());
    }

    #[test]
    fn a_session_makes_a_few_calls_and_the_next_session_starts_afresh() {
        let mut desk = HelpDesk::new(HelpRules::default());
        let s = Some("s-1");
        for (i, at) in [0, 40, 80].into_iter().enumerate() {
            desk.call(HelpNeed::Other, s, secs(at), format!("h-{i}"))
                .unwrap();
            desk.cancel(s);
        }
        assert_eq!(
            desk.call(HelpNeed::Other, s, secs(4000), "h-9".into()),
            Err(HelpRefusal::TooMany)
        );
        assert!(desk
            .call(HelpNeed::Other, Some("s-2"), secs(4000), "h-10".into())
            .is_ok());
    }

    #[test]
    fn the_welcome_screens_get_a_few_calls_an_hour() {
        let mut desk = HelpDesk::new(HelpRules::default());
        for (i, at) in [0, 40, 80].into_iter().enumerate() {
            desk.call(HelpNeed::Account, None, secs(at), format!("h-{i}"))
                .unwrap();
            desk.cancel(None);
        }
        assert_eq!(
            desk.call(HelpNeed::Account, None, secs(120), "h-3".into()),
            Err(HelpRefusal::TooMany)
        );
        assert!(desk
            .call(HelpNeed::Account, None, secs(3601), "h-4".into())
            .is_ok());
    }

    #[test]
    fn an_unknown_need_is_refused() {
        let mut desk = HelpDesk::new(HelpRules::default());
        assert_eq!(
            desk.call(HelpNeed::Unknown, None, secs(0), "h-1".into()),
            Err(HelpRefusal::UnknownNeed)
        );
        assert_eq!(desk.current(None), None);
    }

    #[test]
    fn a_taken_call_says_so_until_the_session_ends() {
        let mut desk = HelpDesk::new(HelpRules::default());
        let s = Some("s-1");
        desk.call(HelpNeed::Form, s, secs(0), "h-1".into()).unwrap();
        assert!(!desk.taken("h-other", s));
        assert!(desk.taken("h-1", s));
        assert!(desk.current(s).unwrap().taken);
        // The session ended: the call with it.
        assert_eq!(desk.current(None), None);
        assert!(!desk.taken("h-1", None));
        // A call from the welcome screens ends when a session starts.
        desk.call(HelpNeed::Form, None, secs(100), "h-2".into())
            .unwrap();
        assert_eq!(desk.current(Some("s-2")), None);
    }
}
