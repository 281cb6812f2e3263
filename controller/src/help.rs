//! Calls for a mediator, live: the open calls of the seats, in memory, so that the staff's
//! seat map shows a call within seconds, with what one seat may do bounded (its key may be
//! stolen): one open call at a time, a bucket of a few calls refilled one per
//! [`REFILL_SECS`], and only a need of the closed list. The store keeps the calls and
//! their anonymous counts (`store/help.rs`); this board is rebuilt from it at start.
//!
//! A call ends when the visitor cancels it, when the seat's session starts or ends, or,
//! for the map, when a staff member takes it (the seat is told by a `HelpTaken` command).

use std::collections::HashMap;

use commune_protocol::messages::{HelpCalled, HelpNeed};
use commune_protocol::UtcMillis;

/// Calls a seat may make in a burst (an honest seat back from a network cut may send a few
/// at once, each cancelled before the next).
pub const BURST: u32 = 4;
/// One more call allowed per this many seconds.
pub const REFILL_SECS: i64 = 30;

/// An open call, as the seat map shows it: the seat, the need, the time; never the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCall {
    /// The call's random id.
    pub call_id: String,
    /// What the visitor needs.
    pub need: HelpNeed,
    /// When the visitor called.
    pub called_at: UtcMillis,
}

/// Why a seat's call was not put on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelpLimit {
    /// Not a need of the list.
    UnknownNeed,
    /// Another call of the seat is open.
    AlreadyOpen,
    /// The seat called too often.
    TooOften,
}

impl HelpLimit {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            HelpLimit::UnknownNeed => "help_unknown_need",
            HelpLimit::AlreadyOpen => "help_already_open",
            HelpLimit::TooOften => "help_too_often",
        }
    }
}

/// How long a call nobody took stays on the map.
pub const STALE_AFTER_MS: i64 = 2 * 3_600_000;

#[derive(Debug, Default)]
struct SeatCalls {
    open: Option<OpenCall>,
    /// A call of the seat not ended in the store (open, or taken): a session event ends it.
    unended: bool,
    /// Calls left in the bucket, and when it was last refilled (receive time).
    tokens: u32,
    refilled: Option<UtcMillis>,
}

/// Every seat's open call. Bounded: one entry per seat that called, one open call each.
#[derive(Debug, Default)]
pub struct HelpBoard {
    seats: HashMap<String, SeatCalls>,
}

impl HelpBoard {
    /// The board of the calls the store holds not ended.
    pub fn from_store(calls: &[crate::store::HelpCallRecord]) -> Self {
        let mut board = HelpBoard::default();
        for c in calls {
            let seat = board.seat(&c.agent_id);
            seat.unended = true;
            if c.taken_at.is_none() {
                seat.open = Some(OpenCall {
                    call_id: c.call_id.clone(),
                    need: HelpNeed::parse(&c.need).unwrap_or(HelpNeed::Other),
                    called_at: c.called_at,
                });
            }
        }
        board
    }

    fn seat(&mut self, agent_id: &str) -> &mut SeatCalls {
        self.seats
            .entry(agent_id.to_string())
            .or_insert_with(|| SeatCalls {
                tokens: BURST,
                ..SeatCalls::default()
            })
    }

    /// A call from `agent_id` received at `received`: on the map, or why not. The same
    /// call again (delivered twice) is admitted again without cost.
    pub fn admit(
        &mut self,
        agent_id: &str,
        call: &HelpCalled,
        at: UtcMillis,
        received: UtcMillis,
    ) -> Result<(), HelpLimit> {
        if call.need == HelpNeed::Unknown {
            return Err(HelpLimit::UnknownNeed);
        }
        let seat = self.seat(agent_id);
        match &seat.open {
            Some(open) if open.call_id == call.call_id => return Ok(()),
            // A call nobody took for this long is stale (its seat restarted, forgetting
            // it): the new one replaces it rather than being refused for good.
            Some(open) if received.0 - open.called_at.0 > STALE_AFTER_MS => {}
            Some(_) => return Err(HelpLimit::AlreadyOpen),
            None => {}
        }
        let last = *seat.refilled.get_or_insert(received);
        let earned = (received.0 - last.0).max(0) / (REFILL_SECS * 1000);
        if earned > 0 {
            seat.tokens = (seat.tokens + u32::try_from(earned).unwrap_or(BURST)).min(BURST);
            seat.refilled = Some(UtcMillis(last.0 + earned * REFILL_SECS * 1000));
        }
        if seat.tokens == 0 {
            return Err(HelpLimit::TooOften);
        }
        seat.tokens -= 1;
        seat.unended = true;
        seat.open = Some(OpenCall {
            call_id: call.call_id.clone(),
            need: call.need,
            called_at: at,
        });
        Ok(())
    }

    /// The call `call_id` of the seat leaves the map (cancelled, taken, or known to the
    /// store already). True when it was there.
    pub fn remove(&mut self, agent_id: &str, call_id: &str) -> bool {
        match self.seats.get_mut(agent_id) {
            Some(seat) if seat.open.as_ref().is_some_and(|o| o.call_id == call_id) => {
                seat.open = None;
                true
            }
            _ => false,
        }
    }

    /// The seat's session started or ended: its calls end. True when it had one not ended
    /// (the store must end it too).
    pub fn session_changed(&mut self, agent_id: &str) -> bool {
        match self.seats.get_mut(agent_id) {
            Some(seat) if seat.unended => {
                seat.unended = false;
                seat.open = None;
                true
            }
            _ => false,
        }
    }

    /// The open call of each seat that has one.
    /// Calls older than [`STALE_AFTER_MS`] are left out (a seat that restarted forgot
    /// them; the store ends them with the seat's next session event).
    pub fn open_calls(&self, now: UtcMillis) -> HashMap<String, OpenCall> {
        self.seats
            .iter()
            .filter_map(|(id, s)| s.open.clone().map(|o| (id.clone(), o)))
            .filter(|(_, o)| now.0 - o.called_at.0 <= STALE_AFTER_MS)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, need: HelpNeed) -> HelpCalled {
        HelpCalled {
            call_id: id.into(),
            need,
            session_id: None,
        }
    }

    const T: UtcMillis = UtcMillis(1_795_183_200_000);

    #[test]
    fn one_open_call_per_seat_and_the_same_call_again_is_no_second_call() {
        let mut board = HelpBoard::default();
        assert_eq!(
            board.admit("a", &call("h-1", HelpNeed::Printing), T, T),
            Ok(())
        );
        assert_eq!(
            board.admit("a", &call("h-1", HelpNeed::Printing), T, T),
            Ok(())
        );
        assert_eq!(
            board.admit("a", &call("h-2", HelpNeed::Form), T, T),
            Err(HelpLimit::AlreadyOpen)
        );
        // Another seat is not held back.
        assert_eq!(board.admit("b", &call("h-3", HelpNeed::Form), T, T), Ok(()));
        assert_eq!(board.open_calls(T).len(), 2);
        assert!(board.remove("a", "h-1"));
        assert!(!board.remove("a", "h-1"));
        assert_eq!(board.admit("a", &call("h-2", HelpNeed::Form), T, T), Ok(()));
        // A call nobody took for hours (its seat restarted and forgot it) leaves the map
        // and does not hold the seat's next call back.
        let later = UtcMillis(T.0 + STALE_AFTER_MS + 1);
        assert!(!board.open_calls(later).contains_key("a"));
        assert_eq!(
            board.admit("a", &call("h-9", HelpNeed::Other), later, later),
            Ok(())
        );
    }

    #[test]
    fn an_unknown_need_is_refused() {
        let mut board = HelpBoard::default();
        assert_eq!(
            board.admit("a", &call("h-1", HelpNeed::Unknown), T, T),
            Err(HelpLimit::UnknownNeed)
        );
        assert!(board.open_calls(T).is_empty());
    }

    #[test]
    fn a_seat_calling_again_and_again_waits_for_the_cooldown() {
        let mut board = HelpBoard::default();
        for i in 0..BURST {
            let id = format!("h-{i}");
            assert_eq!(board.admit("a", &call(&id, HelpNeed::Other), T, T), Ok(()));
            board.remove("a", &id);
        }
        assert_eq!(
            board.admit("a", &call("h-x", HelpNeed::Other), T, T.plus_secs(29)),
            Err(HelpLimit::TooOften)
        );
        assert_eq!(
            board.admit("a", &call("h-y", HelpNeed::Other), T, T.plus_secs(30)),
            Ok(())
        );
        board.remove("a", "h-y");
        // One call per 30 s from then on, whatever the seat claims its clock says.
        assert_eq!(
            board.admit(
                "a",
                &call("h-z", HelpNeed::Other),
                T.plus_secs(3600),
                T.plus_secs(31)
            ),
            Err(HelpLimit::TooOften)
        );
    }

    #[test]
    fn a_session_event_ends_the_seats_calls_once() {
        let mut board = HelpBoard::default();
        board
            .admit("a", &call("h-1", HelpNeed::Account), T, T)
            .unwrap();
        // Taken: off the map, still to be ended with the session.
        assert!(board.remove("a", "h-1"));
        assert!(board.session_changed("a"));
        assert!(!board.session_changed("a"));
        assert!(!board.session_changed("never-called"));
    }
}
