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
    /// What the site allows at its seats (stepping away, USB sticks). Left out of the
    /// encoding when it is the default, so older agents read the same bytes.
    #[serde(default, skip_serializing_if = "SeatPolicy::is_default")]
    pub seat_policy: SeatPolicy,
    /// The site's own words with the closing warning ("Pensez à reprendre vos papiers"),
    /// as staff typed them (French).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub closing_message: String,
}

/// What a site allows at its computers, set by staff per site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct SeatPolicy {
    /// How long a visitor may step away with their session locked by a code they choose,
    /// in minutes (0: not offered). The session's own time keeps running meanwhile.
    #[serde(default = "default_step_away_minutes")]
    pub step_away_minutes: u32,
    /// Whether visitors may plug in a USB stick to save their documents.
    #[serde(default)]
    pub usb_storage: UsbStorage,
    /// What an idle seat does once the site has been closed for
    /// `power_after_closing_minutes` (and opens again an hour later or more); the
    /// controller wakes it before the next opening (Wake-on-LAN).
    #[serde(default)]
    pub after_closing: AfterClosing,
    /// How long after closing the seat suspends or powers off.
    #[serde(default = "default_power_after_closing_minutes")]
    pub power_after_closing_minutes: u32,
    /// How many minutes before closing time the screens say the site closes (0: only
    /// the sessions' own warnings).
    #[serde(default = "default_closing_warning_minutes")]
    pub closing_warning_minutes: u32,
    /// Whether visitors may send a document to their phone (sealed, through the controller:
    /// see [`crate::handoff`]). Off where the site's network does not let phones reach the
    /// controller's download page.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub send_to_phone: bool,
    /// Free pages per session (0: no limit). A job beyond them waits for staff.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub print_pages_per_session: u32,
    /// Free pages per day at each seat, all sessions of the local day together (0: no
    /// limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub print_pages_per_day: u32,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The most free pages a site may set (per session or per day): a job counted beyond it
/// is absurd for a public computer.
pub const MAX_PRINT_PAGES: u32 = 10_000;

/// The default closing warning, in minutes before closing.
pub const DEFAULT_CLOSING_WARNING_MINUTES: u32 = 10;

fn default_closing_warning_minutes() -> u32 {
    DEFAULT_CLOSING_WARNING_MINUTES
}

/// What a seat does after closing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum AfterClosing {
    /// Stays on.
    #[default]
    Stay,
    /// Suspends (logind): woken in seconds.
    Suspend,
    /// Powers off (logind).
    PowerOff,
    /// An action this build does not know: stays on.
    #[serde(other)]
    Other,
}

/// The default delay before a seat suspends or powers off after closing.
pub const DEFAULT_POWER_AFTER_CLOSING_MINUTES: u32 = 15;

fn default_power_after_closing_minutes() -> u32 {
    DEFAULT_POWER_AFTER_CLOSING_MINUTES
}

/// The default pause: long enough to fetch papers or a print, short enough that a
/// forgotten session does not stay open.
pub const DEFAULT_STEP_AWAY_MINUTES: u32 = 10;

/// The longest pause a site may set.
pub const MAX_STEP_AWAY_MINUTES: u32 = 30;

fn default_step_away_minutes() -> u32 {
    DEFAULT_STEP_AWAY_MINUTES
}

impl Default for SeatPolicy {
    fn default() -> Self {
        SeatPolicy {
            step_away_minutes: DEFAULT_STEP_AWAY_MINUTES,
            usb_storage: UsbStorage::Allowed,
            after_closing: AfterClosing::Stay,
            power_after_closing_minutes: DEFAULT_POWER_AFTER_CLOSING_MINUTES,
            closing_warning_minutes: DEFAULT_CLOSING_WARNING_MINUTES,
            send_to_phone: true,
            print_pages_per_session: 0,
            print_pages_per_day: 0,
        }
    }
}

impl SeatPolicy {
    /// Whether this is the default policy (then left out of the encoding).
    pub fn is_default(&self) -> bool {
        *self == SeatPolicy::default()
    }
}

/// A site's rule for USB storage at its seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum UsbStorage {
    /// Visitors may save their documents on their own stick.
    #[default]
    Allowed,
    /// A stick plugged in is switched off (USB authorisation) and the visitor told why.
    Refused,
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
