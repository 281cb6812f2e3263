//! Protocol versions and the capability handshake.
//!
//! The agent's `Hello` says which range of protocol versions it speaks; the controller picks
//! the highest version both speak or refuses the connection with a reason the agent logs.

use serde::{Deserialize, Serialize};

/// The newest protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// The oldest protocol version this build still speaks.
pub const MIN_PROTOCOL_VERSION: u16 = 1;

/// A range of protocol versions one side speaks, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct VersionRange {
    /// Oldest version spoken.
    pub min: u16,
    /// Newest version spoken.
    pub max: u16,
}

impl VersionRange {
    /// The range this build speaks.
    pub const CURRENT: VersionRange = VersionRange {
        min: MIN_PROTOCOL_VERSION,
        max: PROTOCOL_VERSION,
    };

    /// The highest version both ranges contain, if any.
    pub fn negotiate(self, other: VersionRange) -> Option<u16> {
        let max = self.max.min(other.max);
        let min = self.min.max(other.min);
        (min <= max).then_some(max)
    }
}

impl std::fmt::Display for VersionRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}..={}", self.min, self.max)
        }
    }
}

/// Named optional features. Unknown capability names are ignored by both sides, so a new
/// capability never breaks an older peer.
pub mod capability {
    /// The agent reports health snapshots.
    pub const HEALTH: &str = "health";
    /// The agent reports inventory.
    pub const INVENTORY: &str = "inventory";
    /// The agent keeps a persistent outbox of events with sequence numbers.
    pub const EVENTS: &str = "events";
    /// The agent enforces a compiled schedule.
    pub const SCHEDULE: &str = "schedule";
    /// The agent executes staff commands.
    pub const COMMANDS: &str = "commands";
    /// The agent gathers a ticket set sent in parts (`TicketSet::parts`) and applies it
    /// whole; an agent without it is sent the set in one frame when it fits.
    pub const TICKET_PARTS: &str = "ticket_parts";
    /// The controller renews an agent's certificate over the authenticated link
    /// (`AgentMessage::Renew`).
    pub const RENEW: &str = "renew";
    /// The controller keeps sealed documents for the visitors' phones
    /// (`AgentMessage::Handoff`, see [`crate::handoff`]).
    pub const HANDOFF: &str = "handoff";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_highest_common_version() {
        let a = VersionRange { min: 1, max: 3 };
        let b = VersionRange { min: 2, max: 5 };
        assert_eq!(a.negotiate(b), Some(3));
        assert_eq!(b.negotiate(a), Some(3));
        let c = VersionRange { min: 4, max: 4 };
        assert_eq!(a.negotiate(c), None);
    }
}
