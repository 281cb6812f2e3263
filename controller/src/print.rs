//! Print jobs waiting for staff at each seat (beyond the site's free pages, or whose pages
//! could not be counted), in memory, for the seat's page: a job's number on the seat and
//! its pages, nothing else (no title, no session). Filled from the seats' `PrintWaiting`
//! and `PrintWaitOver` events; a seat's session starting or ending clears its jobs (the
//! wipe purges them). A seat keeps at most [`MAX_JOBS_PER_SEAT`]: a seat sending more
//! is bounded, not trusted.
//!
//! A controller that restarts forgets the waiting jobs until their seat's session changes:
//! the visitor can still cancel them on the notice.

use std::collections::{BTreeMap, HashMap};

use commune_protocol::messages::AgentEvent;

/// The most waiting jobs kept per seat (the agent keeps twenty per session).
pub const MAX_JOBS_PER_SEAT: usize = 20;

/// The seats' jobs waiting for staff: seat → job number → pages (`None`: not counted).
#[derive(Debug, Default)]
pub struct PrintBoard {
    seats: HashMap<String, BTreeMap<u32, Option<u32>>>,
}

impl PrintBoard {
    /// Follows one of the seat's events; true when its waiting jobs changed.
    pub fn apply(&mut self, agent_id: &str, event: &AgentEvent) -> bool {
        match event {
            AgentEvent::PrintWaiting(w) => {
                let jobs = self.seats.entry(agent_id.to_string()).or_default();
                if jobs.len() >= MAX_JOBS_PER_SEAT && !jobs.contains_key(&w.job) {
                    return false;
                }
                jobs.insert(w.job, w.pages) != Some(w.pages)
            }
            AgentEvent::PrintWaitOver(o) => {
                let Some(jobs) = self.seats.get_mut(agent_id) else {
                    return false;
                };
                let removed = jobs.remove(&o.job).is_some();
                if jobs.is_empty() {
                    self.seats.remove(agent_id);
                }
                removed
            }
            AgentEvent::SessionStarted(_) | AgentEvent::SessionEnded(_) => {
                self.seats.remove(agent_id).is_some()
            }
            _ => false,
        }
    }

    /// The seat's jobs waiting for staff, by number.
    pub fn waiting(&self, agent_id: &str) -> Vec<(u32, Option<u32>)> {
        self.seats
            .get(agent_id)
            .map(|jobs| jobs.iter().map(|(j, p)| (*j, *p)).collect())
            .unwrap_or_default()
    }

    /// Whether `job` waits for staff at the seat.
    pub fn is_waiting(&self, agent_id: &str, job: u32) -> bool {
        self.seats
            .get(agent_id)
            .is_some_and(|jobs| jobs.contains_key(&job))
    }

    /// Forgets `job` (staff released or cancelled it).
    pub fn remove(&mut self, agent_id: &str, job: u32) {
        if let Some(jobs) = self.seats.get_mut(agent_id) {
            jobs.remove(&job);
            if jobs.is_empty() {
                self.seats.remove(agent_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::messages::{PrintWaitOver, PrintWaiting, SessionEnded};

    fn waiting(job: u32, pages: Option<u32>) -> AgentEvent {
        AgentEvent::PrintWaiting(PrintWaiting { job, pages })
    }

    #[test]
    fn jobs_wait_until_over_or_the_session_changes_and_a_seat_is_bounded() {
        let mut board = PrintBoard::default();
        assert!(board.apply("pc-1", &waiting(7, Some(12))));
        assert!(
            !board.apply("pc-1", &waiting(7, Some(12))),
            "delivered again"
        );
        assert!(board.apply("pc-1", &waiting(8, None)));
        assert_eq!(board.waiting("pc-1"), vec![(7, Some(12)), (8, None)]);
        assert!(board.waiting("pc-2").is_empty());
        assert!(board.apply("pc-1", &AgentEvent::PrintWaitOver(PrintWaitOver { job: 7 })));
        assert!(!board.is_waiting("pc-1", 7));
        let ended = AgentEvent::SessionEnded(SessionEnded {
            session_id: "s".into(),
            reason: commune_protocol::messages::EndReason::TimeUp,
            duration_secs: 60,
            documents_erased: 0,
        });
        assert!(board.apply("pc-1", &ended));
        assert!(board.waiting("pc-1").is_empty());
        for job in 0..100 {
            board.apply("pc-3", &waiting(job, Some(1)));
        }
        assert_eq!(board.waiting("pc-3").len(), MAX_JOBS_PER_SEAT);
    }
}
