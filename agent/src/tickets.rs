//! Free-access tickets as a seat checks them: the site's ticket hashes from the controller
//! (kept on disk, so tickets work offline) and the tickets used on this seat. A ticket used
//! on another seat reaches this one as soon as the controller hears of it; while offline,
//! a second use elsewhere is accepted once, reported as such, and flagged by the controller.

use std::collections::BTreeSet;
use std::path::Path;

use commune_protocol::messages::{TicketHash, TicketSet};
use commune_protocol::tickets::{normalize, ticket_hash};
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};

use crate::session::Refusal;

/// The seat's tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketBook {
    set: Option<TicketSet>,
    /// Hashes used on this seat (until the controller's set says so too).
    used_here: BTreeSet<String>,
}

impl TicketBook {
    /// File name in the state directory.
    pub const FILE: &'static str = "tickets.json";

    /// The book kept in `state_dir` (empty if absent or unreadable).
    pub fn load(state_dir: &Path) -> TicketBook {
        std::fs::read(state_dir.join(Self::FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the book durably (a use must survive a crash, or the ticket could be used
    /// again on this seat).
    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        crate::wipe::write_durably(
            &state_dir.join(Self::FILE),
            &serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )
    }

    /// Takes the controller's set if it is newer than the one held.
    pub fn offer(&mut self, set: TicketSet) -> bool {
        if self
            .set
            .as_ref()
            .is_some_and(|s| s.generated_at > set.generated_at)
        {
            return false;
        }
        // What the controller now knows as used needs no local memory any more; tickets
        // gone from the set (expired) neither.
        let known: BTreeSet<&str> = set
            .tickets
            .iter()
            .filter(|t| !t.used)
            .map(|t| t.hash.as_str())
            .collect();
        self.used_here.retain(|h| known.contains(h.as_str()));
        self.set = Some(set);
        true
    }

    /// Checks what the visitor typed at `now`; returns the ticket's hash and minutes.
    pub fn check(&self, typed: &str, now: UtcMillis) -> Result<TicketHash, Refusal> {
        let code = normalize(typed).ok_or(Refusal::TicketInvalid)?;
        let hash = ticket_hash(&code);
        let ticket = self
            .set
            .as_ref()
            .and_then(|s| s.tickets.iter().find(|t| t.hash == hash))
            .ok_or(Refusal::TicketUnknown)?;
        if ticket.used || self.used_here.contains(&hash) {
            return Err(Refusal::TicketUsed);
        }
        if ticket.valid_until <= now {
            return Err(Refusal::TicketExpired(ticket.valid_until.to_string()));
        }
        Ok(ticket.clone())
    }

    /// Records a use on this seat.
    pub fn mark_used(&mut self, hash: &str) {
        self.used_here.insert(hash.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(at: i64, used: bool) -> TicketSet {
        TicketSet {
            generated_at: UtcMillis(at),
            tickets: vec![TicketHash {
                hash: ticket_hash("K7MN3XPA"),
                minutes: 30,
                valid_until: UtcMillis(1000),
                used,
            }],
            part: 0,
            parts: 0,
        }
    }

    #[test]
    fn each_case_has_its_refusal() {
        let mut book = TicketBook::default();
        assert_eq!(
            book.check("K7MN-3XPA", UtcMillis(0)),
            Err(Refusal::TicketUnknown)
        );
        book.offer(set(1, false));
        assert_eq!(book.check("k7mn 3xpa", UtcMillis(0)).unwrap().minutes, 30);
        assert_eq!(
            book.check("K7MN-3XP", UtcMillis(0)),
            Err(Refusal::TicketInvalid)
        );
        assert_eq!(
            book.check("AAAA-AAAA", UtcMillis(0)),
            Err(Refusal::TicketUnknown)
        );
        assert!(matches!(
            book.check("K7MN-3XPA", UtcMillis(1000)),
            Err(Refusal::TicketExpired(_))
        ));
        book.mark_used(&ticket_hash("K7MN3XPA"));
        assert_eq!(
            book.check("K7MN-3XPA", UtcMillis(0)),
            Err(Refusal::TicketUsed)
        );
        // The controller's newer set says used: the local memory is no longer needed.
        book.offer(set(2, true));
        assert_eq!(
            book.check("K7MN-3XPA", UtcMillis(0)),
            Err(Refusal::TicketUsed)
        );
        assert!(book.used_here.is_empty());
        // An older set never replaces a newer one.
        assert!(!book.offer(set(1, false)));
    }
}
