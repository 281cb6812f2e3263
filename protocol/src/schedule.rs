//! A seat's compiled schedule as it crosses the wire: slots as UTC instants.
//! The compiler that produces it from sites, opening hours and permanences lives beside it
//! as pure code; the agent enforces from its cached copy.

use serde::{Deserialize, Serialize};

use crate::messages::SlotKind;
use crate::time::UtcMillis;

/// A seat's schedule for the coming days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Schedule {
    /// Increases with every change; the agent keeps the newest.
    pub version: u64,
    /// When it was compiled.
    pub generated_at: UtcMillis,
    /// Time zone of the site, for display (e.g. `Europe/Paris`).
    #[serde(default)]
    pub time_zone: String,
    /// Slots in time order, not overlapping. Outside every slot the seat is closed.
    pub slots: Vec<Slot>,
    /// Argon2 hashes (PHC strings) of the site's mediator PINs: a mediator opens a
    /// supervised session at the computer with one, even offline.
    #[serde(default)]
    pub mediator_pins: Vec<String>,
}

/// One slot of a seat's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct Slot {
    /// Start, inclusive.
    pub start: UtcMillis,
    /// End, exclusive.
    pub end: UtcMillis,
    /// Kind.
    pub kind: SlotKind,
    /// For supervised slots: the permanence.
    #[serde(default)]
    pub permanence: Option<PermanenceRef>,
    /// For free access: the session length.
    #[serde(default)]
    pub session_minutes: Option<u32>,
    /// For free access: whether a ticket is required.
    #[serde(default)]
    pub ticket_required: bool,
}

/// The permanence a supervised slot belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct PermanenceRef {
    /// Stable id.
    pub id: String,
    /// Name shown ("Écrivain public").
    pub name: String,
    /// Programme ("ecrivain_public", "conseiller_numerique", "atelier").
    pub programme: String,
}
