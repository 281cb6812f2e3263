//! A site's time rules and the pure compiler that turns them into a seat's [`Schedule`].
//!
//! Staff describe a site in local wall-clock terms: opening hours per weekday, closures by
//! date, recurring permanences ("Écrivain public, mardi 14:00–17:00" on three seats), and
//! ad-hoc supervised slots opened from the dashboard. [`compile`] turns that description into
//! the UTC instants a seat's agent enforces from its cached copy, whether or not it can reach
//! the controller.
//!
//! # What the compiler produces
//!
//! For one seat and a window `[from, until)`, a list of [`Slot`]s that are sorted, do not
//! overlap, have no gap, are never empty, and cover the window exactly: time outside opening
//! hours is an explicit [`SlotKind::Closed`] slot, so the agent knows when its seat is locked.
//! Adjacent slots with identical content are merged. At each instant the first rule that
//! applies wins:
//!
//! 1. a [`Closure`] of the site: closed;
//! 2. an [`AdHocSlot`] on this seat: supervised;
//! 3. a recurring [`Permanence`] reserving this seat: supervised;
//! 4. the site's [`WeeklyHours`]: free access, with the [`FreeAccessRule`]'s session length
//!    and ticket requirement;
//! 5. otherwise: closed.
//!
//! Permanences and ad-hoc slots do not need the site to be open: mediators run evening
//! workshops. Only a closure overrides them. When two permanences (or two ad-hoc slots)
//! overlap on a seat, the one that started last wins from its start on, and on equal starts
//! the one later in its list.
//!
//! # Local time and daylight saving
//!
//! Wall-clock times are converted with the site's IANA time zone from the tz database
//! bundled in this crate (never the host's), so the controller and every agent compute the
//! same instants. Each local date and time becomes an instant with the *compatible*
//! disambiguation of RFC 5545 and JavaScript's Temporal:
//!
//! - a time that does not exist because the clocks spring forward is moved forward by the
//!   length of the gap: 02:30 on 2027-03-28 in Paris is 03:30 CEST (01:30 UTC);
//! - a time that happens twice because the clocks fall back is its earlier occurrence:
//!   02:30 on 2026-10-25 in Paris is 02:30 CEST (00:30 UTC), not 02:30 CET.
//!
//! Starts and ends follow the same rule, so two ranges that meet on the wall clock
//! (09:00–12:00 and 12:00–18:00) also meet as instants. Durations therefore follow the wall
//! clock, not a stopwatch: a permanence 14:00–17:00 lasts 3 hours every day, and one
//! 01:00–04:00 lasts 2 hours on 2027-03-28 (the clock skips 02:00–03:00) and 4 hours on
//! 2026-10-25 (the clock runs 02:00–03:00 twice). A range whose converted end is not after
//! its start (one lying entirely inside a spring-forward gap, such as 02:30–03:00) produces
//! nothing that day.
//!
//! A range whose end is earlier than its start crosses midnight: 20:00–01:00 on a Friday runs
//! until 01:00 on Saturday. A range cannot end when it starts; a whole day is written
//! 00:00–12:00 plus 12:00–00:00, which merge into one slot.
//!
//! A closure covers whole local days, from 00:00 on its first day to 00:00 after its last.
//! A permanence occurrence belongs to the local date it starts on: its weekday and its
//! validity dates are those of that date.
//!
//! This module reads no clock: "now" is always an argument.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::messages::SlotKind;
use crate::schedule::{PermanenceRef, Schedule, Slot};
use crate::time::UtcMillis;

/// How many days ahead the controller compiles a seat's schedule by default.
pub const DEFAULT_DAYS: u32 = 14;

/// The longest window [`compile`] accepts, in days.
pub const MAX_DAYS: u32 = 366;

/// Default free-access session length, in minutes.
pub const DEFAULT_SESSION_MINUTES: u32 = 45;

/// Default warnings before the end of a free-access session, in minutes.
pub const DEFAULT_WARNING_MINUTES: [u32; 2] = [5, 1];

/// Name shown for an ad-hoc supervised slot that names neither a permanence nor itself.
pub const DEFAULT_AD_HOC_NAME: &str = "Permanence";

const DAY_MS: i64 = 86_400_000;

/// Everything that decides when a site's seats are free, supervised or closed.
///
/// This is what the controller stores per site and what [`compile`] reads. Call
/// [`SiteSchedule::validate`] before storing it: [`compile`] refuses an invalid site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSchedule {
    /// IANA time zone of the site, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Opening hours per weekday, in local time.
    #[serde(default)]
    pub opening_hours: WeeklyHours,
    /// Days on which the site is closed (holidays), whatever else is planned.
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// Ids of the site's seats (its computers).
    #[serde(default)]
    pub seats: Vec<String>,
    /// How free access works during opening hours.
    #[serde(default)]
    pub free_access: FreeAccessRule,
    /// Recurring permanences.
    #[serde(default)]
    pub permanences: Vec<Permanence>,
    /// Supervised slots staff opened from the dashboard.
    #[serde(default)]
    pub ad_hoc: Vec<AdHocSlot>,
    /// Argon2 hash (PHC string) of the PIN mediators type at a computer to open a
    /// supervised session; never the PIN itself.
    #[serde(default)]
    pub mediator_pin: Option<String>,
}

impl SiteSchedule {
    /// A site open all day every day, with the default free-access rule: what a site
    /// without a stored model behaves as (agents without a schedule give free access), so
    /// that staff opening a supervised slot there close nothing else.
    pub fn always_open(time_zone: impl Into<String>) -> SiteSchedule {
        let noon = LocalTime { minutes: 12 * 60 };
        let all_day = vec![
            TimeRange {
                start: LocalTime::MIDNIGHT,
                end: noon,
            },
            TimeRange {
                start: noon,
                end: LocalTime::MIDNIGHT,
            },
        ];
        SiteSchedule {
            time_zone: time_zone.into(),
            opening_hours: WeeklyHours {
                monday: all_day.clone(),
                tuesday: all_day.clone(),
                wednesday: all_day.clone(),
                thursday: all_day.clone(),
                friday: all_day.clone(),
                saturday: all_day.clone(),
                sunday: all_day,
            },
            closures: Vec::new(),
            seats: Vec::new(),
            free_access: FreeAccessRule::default(),
            permanences: Vec::new(),
            ad_hoc: Vec::new(),
            mediator_pin: None,
        }
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// All seven days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    fn of(date: Date) -> Weekday {
        match date.weekday() {
            jiff::civil::Weekday::Monday => Weekday::Monday,
            jiff::civil::Weekday::Tuesday => Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday => Weekday::Wednesday,
            jiff::civil::Weekday::Thursday => Weekday::Thursday,
            jiff::civil::Weekday::Friday => Weekday::Friday,
            jiff::civil::Weekday::Saturday => Weekday::Saturday,
            jiff::civil::Weekday::Sunday => Weekday::Sunday,
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        })
    }
}

/// A local time of day to the minute, written `HH:MM` (00:00 to 23:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    /// Minutes since midnight, below 1440.
    minutes: u16,
}

impl LocalTime {
    /// Midnight, 00:00.
    pub const MIDNIGHT: LocalTime = LocalTime { minutes: 0 };

    /// The time `hour:minute`; an error unless 0 ≤ hour ≤ 23 and 0 ≤ minute ≤ 59.
    pub fn new(hour: u8, minute: u8) -> Result<LocalTime, SlotsError> {
        if hour > 23 || minute > 59 {
            return Err(SlotsError::InvalidTime {
                text: format!("{hour}:{minute:02}"),
            });
        }
        Ok(LocalTime {
            minutes: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        // Below 24 by construction.
        (self.minutes / 60) as u8
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        (self.minutes % 60) as u8
    }

    /// Minutes since midnight.
    pub fn minutes_since_midnight(self) -> u16 {
        self.minutes
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl FromStr for LocalTime {
    type Err = SlotsError;

    /// Parses `HH:MM` (the hour may have one digit).
    fn from_str(text: &str) -> Result<LocalTime, SlotsError> {
        let invalid = || SlotsError::InvalidTime {
            text: text.to_owned(),
        };
        let (h, m) = text.split_once(':').ok_or_else(invalid)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
            return Err(invalid());
        }
        let hour = h.parse::<u8>().map_err(|_| invalid())?;
        let minute = m.parse::<u8>().map_err(|_| invalid())?;
        LocalTime::new(hour, minute).map_err(|_| invalid())
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LocalTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A local calendar date, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate(Date);

impl LocalDate {
    /// The date `year-month-day`; an error if it does not exist (e.g. 2027-02-29).
    pub fn new(year: i16, month: i8, day: i8) -> Result<LocalDate, SlotsError> {
        Date::new(year, month, day)
            .map(LocalDate)
            .map_err(|_| SlotsError::InvalidDate {
                text: format!("{year:04}-{month:02}-{day:02}"),
            })
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.0.year()
    }

    /// The month, 1 to 12.
    pub fn month(self) -> i8 {
        self.0.month()
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> i8 {
        self.0.day()
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        Weekday::of(self.0)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl FromStr for LocalDate {
    type Err = SlotsError;

    /// Parses `YYYY-MM-DD`.
    fn from_str(text: &str) -> Result<LocalDate, SlotsError> {
        let invalid = || SlotsError::InvalidDate {
            text: text.to_owned(),
        };
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return Err(invalid());
        }
        let year = y.parse::<i16>().map_err(|_| invalid())?;
        let month = m.parse::<i8>().map_err(|_| invalid())?;
        let day = d.parse::<i8>().map_err(|_| invalid())?;
        LocalDate::new(year, month, day).map_err(|_| invalid())
    }
}

impl Serialize for LocalDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LocalDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A range of local time, `start` inclusive to `end` exclusive. When `end` is earlier than
/// `start` the range crosses midnight and ends the next day; `end` equal to `start` is
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Start, inclusive.
    pub start: LocalTime,
    /// End, exclusive; on the next day when earlier than `start`.
    pub end: LocalTime,
}

impl TimeRange {
    /// Whether the range ends on the day after it starts.
    pub fn crosses_midnight(self) -> bool {
        self.end < self.start
    }
}

/// Opening hours for each day of the week. A range listed under a day starts on that day,
/// and may run past midnight into the next one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeeklyHours {
    /// Monday's ranges.
    #[serde(default)]
    pub monday: Vec<TimeRange>,
    /// Tuesday's ranges.
    #[serde(default)]
    pub tuesday: Vec<TimeRange>,
    /// Wednesday's ranges.
    #[serde(default)]
    pub wednesday: Vec<TimeRange>,
    /// Thursday's ranges.
    #[serde(default)]
    pub thursday: Vec<TimeRange>,
    /// Friday's ranges.
    #[serde(default)]
    pub friday: Vec<TimeRange>,
    /// Saturday's ranges.
    #[serde(default)]
    pub saturday: Vec<TimeRange>,
    /// Sunday's ranges.
    #[serde(default)]
    pub sunday: Vec<TimeRange>,
}

impl WeeklyHours {
    /// The ranges that start on `day`.
    pub fn on(&self, day: Weekday) -> &[TimeRange] {
        match day {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    /// The ranges that start on `day`, for editing.
    pub fn on_mut(&mut self, day: Weekday) -> &mut Vec<TimeRange> {
        match day {
            Weekday::Monday => &mut self.monday,
            Weekday::Tuesday => &mut self.tuesday,
            Weekday::Wednesday => &mut self.wednesday,
            Weekday::Thursday => &mut self.thursday,
            Weekday::Friday => &mut self.friday,
            Weekday::Saturday => &mut self.saturday,
            Weekday::Sunday => &mut self.sunday,
        }
    }
}

/// Whole local days on which the site is closed, both ends included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closure {
    /// Why ("Noël", "Inventaire").
    pub label: String,
    /// First closed day.
    pub first_day: LocalDate,
    /// Last closed day (the site reopens the day after).
    pub last_day: LocalDate,
}

/// How free access works while the site is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeAccessRule {
    /// Length of a visitor's session, in minutes.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    /// Whether a visitor needs a ticket to start a session.
    #[serde(default)]
    pub ticket_required: bool,
    /// When the visitor is warned, in minutes before the end of the session.
    #[serde(default = "default_warning_minutes")]
    pub warning_minutes: Vec<u32>,
}

fn default_session_minutes() -> u32 {
    DEFAULT_SESSION_MINUTES
}

fn default_warning_minutes() -> Vec<u32> {
    DEFAULT_WARNING_MINUTES.to_vec()
}

impl Default for FreeAccessRule {
    fn default() -> Self {
        FreeAccessRule {
            session_minutes: DEFAULT_SESSION_MINUTES,
            ticket_required: false,
            warning_minutes: default_warning_minutes(),
        }
    }
}

/// The programme a permanence belongs to, used by reports. Written as a snake_case string;
/// a value this build does not know is kept as [`Programme::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Programme {
    /// Écrivain public (`ecrivain_public`).
    EcrivainPublic,
    /// Conseiller numérique (`conseiller_numerique`).
    ConseillerNumerique,
    /// Atelier (`atelier`).
    Atelier,
    /// Anything else the site names as such (`autre`).
    Autre,
    /// A programme this build does not know, kept as written.
    Other(String),
}

impl Programme {
    /// The string written on the wire and in storage.
    pub fn as_str(&self) -> &str {
        match self {
            Programme::EcrivainPublic => "ecrivain_public",
            Programme::ConseillerNumerique => "conseiller_numerique",
            Programme::Atelier => "atelier",
            Programme::Autre => "autre",
            Programme::Other(other) => other,
        }
    }
}

impl From<&str> for Programme {
    fn from(text: &str) -> Programme {
        match text {
            "ecrivain_public" => Programme::EcrivainPublic,
            "conseiller_numerique" => Programme::ConseillerNumerique,
            "atelier" => Programme::Atelier,
            "autre" => Programme::Autre,
            other => Programme::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Programme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Programme {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Programme {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Programme, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Programme::from(text.as_str()))
    }
}

/// A permanence that recurs every week on given days, on reserved seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permanence {
    /// Stable id, carried by supervised slots and session events.
    pub id: String,
    /// Name shown ("Écrivain public").
    pub name: String,
    /// Programme, for reports.
    pub programme: Programme,
    /// Days on which it starts.
    pub weekdays: Vec<Weekday>,
    /// Local start time.
    pub start: LocalTime,
    /// Local end time; on the next day when earlier than `start`.
    pub end: LocalTime,
    /// Seats it reserves; other seats of the site keep their own schedule.
    pub seats: Vec<String>,
    /// Display name of the mediator who runs it.
    #[serde(default)]
    pub mediator: String,
    /// First date on which it takes place, if any.
    #[serde(default)]
    pub valid_from: Option<LocalDate>,
    /// Last date on which it takes place, if any.
    #[serde(default)]
    pub valid_until: Option<LocalDate>,
}

impl Permanence {
    /// What its supervised slots carry.
    pub fn reference(&self) -> PermanenceRef {
        PermanenceRef {
            id: self.id.clone(),
            name: self.name.clone(),
            programme: self.programme.as_str().to_owned(),
        }
    }

    /// Whether an occurrence starting on `date` takes place.
    pub fn occurs_on(&self, date: LocalDate) -> bool {
        self.weekdays.contains(&date.weekday())
            && self.valid_from.is_none_or(|from| from <= date)
            && self.valid_until.is_none_or(|until| date <= until)
    }
}

/// A supervised slot staff opened from the dashboard ("open now on seats 2 and 3 until 18:00").
/// Its instants are absolute: staff decided them for a given day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdHocSlot {
    /// Stable id.
    pub id: String,
    /// Seats it covers.
    pub seats: Vec<String>,
    /// Start, inclusive.
    pub start: UtcMillis,
    /// End, exclusive.
    pub end: UtcMillis,
    /// The permanence it stands for, copied when staff open or extend a known one; an
    /// ad-hoc slot carrying the reference of a permanence it touches merges with it.
    #[serde(default)]
    pub permanence: Option<PermanenceRef>,
    /// Name shown when `permanence` is `None` (else [`DEFAULT_AD_HOC_NAME`]).
    #[serde(default)]
    pub name: Option<String>,
    /// Display name of the mediator.
    #[serde(default)]
    pub mediator: String,
}

impl AdHocSlot {
    /// What its supervised slots carry: its permanence, or a reference made of its own id
    /// and name with programme `autre`.
    pub fn reference(&self) -> PermanenceRef {
        match &self.permanence {
            Some(permanence) => permanence.clone(),
            None => PermanenceRef {
                id: self.id.clone(),
                name: self
                    .name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_AD_HOC_NAME.to_owned()),
                programme: Programme::Autre.as_str().to_owned(),
            },
        }
    }
}

/// Why a site's time rules were refused or could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotsError {
    /// The time zone is not in the tz database.
    #[error("unknown time zone `{name}`; use an IANA name such as `Europe/Paris`")]
    UnknownTimeZone {
        /// As written.
        name: String,
    },
    /// A time of day could not be read.
    #[error("`{text}` is not a time of day; write HH:MM between 00:00 and 23:59, e.g. `14:00`")]
    InvalidTime {
        /// As written.
        text: String,
    },
    /// A date could not be read or does not exist.
    #[error("`{text}` is not a date; write an existing date as YYYY-MM-DD, e.g. `2026-12-25`")]
    InvalidDate {
        /// As written.
        text: String,
    },
    /// A seat id is empty.
    #[error("a seat has an empty id; give every seat an id such as its asset tag")]
    EmptySeatId,
    /// A seat is listed twice.
    #[error("seat `{seat}` is listed twice in the site")]
    DuplicateSeat {
        /// The seat.
        seat: String,
    },
    /// The seat asked for is not one of the site's.
    #[error("`{seat}` is not a seat of this site")]
    UnknownSeat {
        /// The seat.
        seat: String,
    },
    /// An opening range ends when it starts.
    #[error(
        "opening hours on {weekday}: {start}–{end} ends when it starts; \
         to open a whole day write 00:00–12:00 and 12:00–00:00"
    )]
    EmptyOpeningRange {
        /// The day.
        weekday: Weekday,
        /// Start.
        start: LocalTime,
        /// End.
        end: LocalTime,
    },
    /// A closure ends before it starts.
    #[error("closure `{label}` ends on {last_day}, before it starts on {first_day}")]
    ClosureEndsBeforeStart {
        /// Its label.
        label: String,
        /// First day.
        first_day: LocalDate,
        /// Last day.
        last_day: LocalDate,
    },
    /// Free-access sessions of zero minutes.
    #[error("free access: a session must last at least one minute")]
    ZeroSessionLength,
    /// A warning that cannot happen within a session.
    #[error(
        "free access: a warning {minutes} minutes before the end does not fit a \
         {session_minutes}-minute session; warn between 1 and {session_minutes} minutes \
         before the end, excluded"
    )]
    WarningOutOfRange {
        /// The warning.
        minutes: u32,
        /// The session length.
        session_minutes: u32,
    },
    /// A permanence without id.
    #[error("a permanence (`{name}`) has an empty id")]
    EmptyPermanenceId {
        /// Its name.
        name: String,
    },
    /// Two permanences share an id.
    #[error("permanence id `{id}` is used twice")]
    DuplicatePermanence {
        /// The id.
        id: String,
    },
    /// A permanence ends when it starts.
    #[error(
        "permanence `{id}`: {start}–{end} ends when it starts; \
         a permanence ending after midnight is written e.g. 20:00–01:00"
    )]
    EmptyPermanenceRange {
        /// The permanence.
        id: String,
        /// Start.
        start: LocalTime,
        /// End.
        end: LocalTime,
    },
    /// A permanence on no day.
    #[error("permanence `{id}` has no weekday; say on which days it takes place")]
    PermanenceWithoutWeekdays {
        /// The permanence.
        id: String,
    },
    /// A permanence reserving no seat.
    #[error("permanence `{id}` reserves no seat; reserve at least one of the site's seats")]
    PermanenceWithoutSeats {
        /// The permanence.
        id: String,
    },
    /// A permanence reserving a seat of another site, or a removed one.
    #[error("permanence `{id}` reserves seat `{seat}`, which is not a seat of this site")]
    PermanenceUnknownSeat {
        /// The permanence.
        id: String,
        /// The seat.
        seat: String,
    },
    /// A permanence whose validity ends before it begins.
    #[error(
        "permanence `{id}` is valid until {valid_until}, before it becomes valid on {valid_from}"
    )]
    PermanenceValidityReversed {
        /// The permanence.
        id: String,
        /// First valid date.
        valid_from: LocalDate,
        /// Last valid date.
        valid_until: LocalDate,
    },
    /// An ad-hoc slot without id.
    #[error("an ad-hoc slot has an empty id")]
    EmptyAdHocId,
    /// Two ad-hoc slots share an id.
    #[error("ad-hoc slot id `{id}` is used twice")]
    DuplicateAdHoc {
        /// The id.
        id: String,
    },
    /// An ad-hoc slot that does not end after it starts.
    #[error("ad-hoc slot `{id}` ends at {end}, which is not after its start at {start}")]
    EmptyAdHoc {
        /// The slot.
        id: String,
        /// Start.
        start: UtcMillis,
        /// End.
        end: UtcMillis,
    },
    /// An ad-hoc slot on no seat.
    #[error("ad-hoc slot `{id}` covers no seat; choose at least one of the site's seats")]
    AdHocWithoutSeats {
        /// The slot.
        id: String,
    },
    /// An ad-hoc slot on a seat of another site, or a removed one.
    #[error("ad-hoc slot `{id}` covers seat `{seat}`, which is not a seat of this site")]
    AdHocUnknownSeat {
        /// The slot.
        id: String,
        /// The seat.
        seat: String,
    },
    /// A window that ends before it starts.
    #[error("the window {from} – {until} ends before it starts")]
    WindowReversed {
        /// Start.
        from: UtcMillis,
        /// End.
        until: UtcMillis,
    },
    /// A window longer than [`MAX_DAYS`].
    #[error("the window {from} – {until} is longer than {max} days", max = MAX_DAYS)]
    WindowTooLong {
        /// Start.
        from: UtcMillis,
        /// End.
        until: UtcMillis,
    },
    /// A window beyond the years the calendar handles (−9999 to 9999).
    #[error("the window starting at {from} is outside the years −9999 to 9999")]
    OutOfRange {
        /// Start.
        from: UtcMillis,
    },
}

impl SiteSchedule {
    /// Checks everything [`compile`] relies on, with a message staff can act on.
    pub fn validate(&self) -> Result<(), SlotsError> {
        self.zone()?;

        let mut seats = HashSet::new();
        for seat in &self.seats {
            if seat.is_empty() {
                return Err(SlotsError::EmptySeatId);
            }
            if !seats.insert(seat.as_str()) {
                return Err(SlotsError::DuplicateSeat { seat: seat.clone() });
            }
        }

        for weekday in Weekday::ALL {
            for range in self.opening_hours.on(weekday) {
                if range.start == range.end {
                    return Err(SlotsError::EmptyOpeningRange {
                        weekday,
                        start: range.start,
                        end: range.end,
                    });
                }
            }
        }

        for closure in &self.closures {
            if closure.last_day < closure.first_day {
                return Err(SlotsError::ClosureEndsBeforeStart {
                    label: closure.label.clone(),
                    first_day: closure.first_day,
                    last_day: closure.last_day,
                });
            }
        }

        let rule = &self.free_access;
        if rule.session_minutes == 0 {
            return Err(SlotsError::ZeroSessionLength);
        }
        for &minutes in &rule.warning_minutes {
            if minutes == 0 || minutes >= rule.session_minutes {
                return Err(SlotsError::WarningOutOfRange {
                    minutes,
                    session_minutes: rule.session_minutes,
                });
            }
        }

        let mut ids = HashSet::new();
        for permanence in &self.permanences {
            let id = &permanence.id;
            if id.is_empty() {
                return Err(SlotsError::EmptyPermanenceId {
                    name: permanence.name.clone(),
                });
            }
            if !ids.insert(id.as_str()) {
                return Err(SlotsError::DuplicatePermanence { id: id.clone() });
            }
            if permanence.start == permanence.end {
                return Err(SlotsError::EmptyPermanenceRange {
                    id: id.clone(),
                    start: permanence.start,
                    end: permanence.end,
                });
            }
            if permanence.weekdays.is_empty() {
                return Err(SlotsError::PermanenceWithoutWeekdays { id: id.clone() });
            }
            if permanence.seats.is_empty() {
                return Err(SlotsError::PermanenceWithoutSeats { id: id.clone() });
            }
            if let Some(seat) = permanence
                .seats
                .iter()
                .find(|seat| !seats.contains(seat.as_str()))
            {
                return Err(SlotsError::PermanenceUnknownSeat {
                    id: id.clone(),
                    seat: seat.clone(),
                });
            }
            if let (Some(valid_from), Some(valid_until)) =
                (permanence.valid_from, permanence.valid_until)
            {
                if valid_until < valid_from {
                    return Err(SlotsError::PermanenceValidityReversed {
                        id: id.clone(),
                        valid_from,
                        valid_until,
                    });
                }
            }
        }

        let mut ids = HashSet::new();
        for slot in &self.ad_hoc {
            let id = &slot.id;
            if id.is_empty() {
                return Err(SlotsError::EmptyAdHocId);
            }
            if !ids.insert(id.as_str()) {
                return Err(SlotsError::DuplicateAdHoc { id: id.clone() });
            }
            if slot.end <= slot.start {
                return Err(SlotsError::EmptyAdHoc {
                    id: id.clone(),
                    start: slot.start,
                    end: slot.end,
                });
            }
            if slot.seats.is_empty() {
                return Err(SlotsError::AdHocWithoutSeats { id: id.clone() });
            }
            if let Some(seat) = slot
                .seats
                .iter()
                .find(|seat| !seats.contains(seat.as_str()))
            {
                return Err(SlotsError::AdHocUnknownSeat {
                    id: id.clone(),
                    seat: seat.clone(),
                });
            }
        }
        Ok(())
    }

    /// The site's time zone, from the bundled tz database so every machine agrees.
    fn zone(&self) -> Result<TimeZone, SlotsError> {
        TimeZoneDatabase::bundled()
            .get(&self.time_zone)
            .map_err(|_| SlotsError::UnknownTimeZone {
                name: self.time_zone.clone(),
            })
    }
}

/// One seat's slots from `from` for `days` days of 24 hours (see [`DEFAULT_DAYS`]), following
/// the rules in the [module documentation](self).
///
/// The window is `[from, from + days × 24 h)`; `days` is at most [`MAX_DAYS`]. The site is
/// validated first.
pub fn compile(
    site: &SiteSchedule,
    seat_id: &str,
    from: UtcMillis,
    days: u32,
) -> Result<Vec<Slot>, SlotsError> {
    if days > MAX_DAYS {
        return Err(SlotsError::WindowTooLong {
            from,
            until: from.plus_secs(i64::from(days) * 86_400),
        });
    }
    let until = from
        .0
        .checked_add(i64::from(days) * DAY_MS)
        .ok_or(SlotsError::OutOfRange { from })?;
    compile_between(site, seat_id, from, UtcMillis(until))
}

/// One seat's slots covering exactly `[from, until)`, following the rules in the
/// [module documentation](self). Compiling `[a, c)` gives the same slots as compiling
/// `[a, b)` and `[b, c)` and merging the two slots that meet at `b` if they are alike.
pub fn compile_between(
    site: &SiteSchedule,
    seat_id: &str,
    from: UtcMillis,
    until: UtcMillis,
) -> Result<Vec<Slot>, SlotsError> {
    site.validate()?;
    let tz = site.zone()?;
    if !site.seats.iter().any(|seat| seat == seat_id) {
        return Err(SlotsError::UnknownSeat {
            seat: seat_id.to_owned(),
        });
    }
    if until < from {
        return Err(SlotsError::WindowReversed { from, until });
    }
    if until.0 - from.0 > i64::from(MAX_DAYS) * DAY_MS {
        return Err(SlotsError::WindowTooLong { from, until });
    }
    if until == from {
        return Ok(Vec::new());
    }
    let layers = Layers::collect(site, seat_id, &tz, from, until)?;
    Ok(layers.sweep(&site.free_access, from.0, until.0))
}

/// [`compile`] wrapped as the [`Schedule`] sent to the seat's agent: `days` days from `now`.
pub fn compile_schedule(
    site: &SiteSchedule,
    seat_id: &str,
    version: u64,
    now: UtcMillis,
    days: u32,
) -> Result<Schedule, SlotsError> {
    let slots = compile(site, seat_id, now, days)?;
    let tz = site.zone()?;
    Ok(Schedule {
        version,
        generated_at: now,
        time_zone: tz.iana_name().unwrap_or(&site.time_zone).to_owned(),
        slots,
        mediator_pins: site.mediator_pin.iter().cloned().collect(),
    })
}

/// An interval of UTC milliseconds as the rules define it, before clipping to the window.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    end: i64,
}

impl Span {
    fn covers(self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// The intervals of each rule that touch the window, for one seat.
struct Layers {
    closures: Vec<Span>,
    /// Ad-hoc slots with their reference, in site order.
    ad_hoc: Vec<(Span, PermanenceRef)>,
    /// Permanence occurrences with the index of their reference in `references`.
    occurrences: Vec<(Span, usize)>,
    references: Vec<PermanenceRef>,
    opening: Vec<Span>,
}

/// What a seat is for during a stretch of time.
#[derive(Clone, Copy, PartialEq)]
enum Content<'a> {
    Closed,
    Free,
    Supervised(&'a PermanenceRef),
}

impl Layers {
    fn collect(
        site: &SiteSchedule,
        seat_id: &str,
        tz: &TimeZone,
        from: UtcMillis,
        until: UtcMillis,
    ) -> Result<Layers, SlotsError> {
        let out_of_range = |_| SlotsError::OutOfRange { from };
        let local_date = |t: UtcMillis| -> Result<Date, SlotsError> {
            let ts = Timestamp::from_millisecond(t.0).map_err(out_of_range)?;
            Ok(tz.to_datetime(ts).date())
        };
        let instant = |date: Date, time: LocalTime| -> Result<i64, SlotsError> {
            let civil = date.at(time.hour() as i8, time.minute() as i8, 0, 0);
            let ts = tz
                .to_ambiguous_timestamp(civil)
                .compatible()
                .map_err(out_of_range)?;
            Ok(ts.as_millisecond())
        };
        let occurrence = |date: Date, start: LocalTime, end: LocalTime| {
            let end_date = if end < start {
                date.tomorrow().map_err(out_of_range)?
            } else {
                date
            };
            Ok::<_, SlotsError>(Span {
                start: instant(date, start)?,
                end: instant(end_date, end)?,
            })
        };
        let touches =
            |span: &Span| span.start < span.end && span.start < until.0 && from.0 < span.end;

        // Ranges run less than a day past the date they start on, but local dates are not
        // monotonic in time where clocks fall back across midnight: one spare day each side.
        let first = local_date(from)?
            .yesterday()
            .and_then(|d| d.yesterday())
            .map_err(out_of_range)?;
        let last = local_date(until)?.tomorrow().map_err(out_of_range)?;

        let mut closures = Vec::new();
        for closure in &site.closures {
            let first_day = closure.first_day.0.max(first);
            let last_day = closure.last_day.0.min(last);
            if last_day < first_day {
                continue;
            }
            let span = Span {
                start: instant(first_day, LocalTime::MIDNIGHT)?,
                end: instant(
                    last_day.tomorrow().map_err(out_of_range)?,
                    LocalTime::MIDNIGHT,
                )?,
            };
            if touches(&span) {
                closures.push(span);
            }
        }

        let ad_hoc = site
            .ad_hoc
            .iter()
            .filter(|slot| slot.seats.iter().any(|seat| seat == seat_id))
            .map(|slot| {
                let span = Span {
                    start: slot.start.0,
                    end: slot.end.0,
                };
                (span, slot.reference())
            })
            .filter(|(span, _)| touches(span))
            .collect();

        let permanences: Vec<&Permanence> = site
            .permanences
            .iter()
            .filter(|p| p.seats.iter().any(|seat| seat == seat_id))
            .collect();
        let references = permanences.iter().map(|p| p.reference()).collect();

        let mut occurrences = Vec::new();
        let mut opening = Vec::new();
        let mut date = first;
        while date <= last {
            let weekday = Weekday::of(date);
            for (index, permanence) in permanences.iter().enumerate() {
                if permanence.occurs_on(LocalDate(date)) {
                    let span = occurrence(date, permanence.start, permanence.end)?;
                    if touches(&span) {
                        occurrences.push((span, index));
                    }
                }
            }
            for range in site.opening_hours.on(weekday) {
                let span = occurrence(date, range.start, range.end)?;
                if touches(&span) {
                    opening.push(span);
                }
            }
            date = date.tomorrow().map_err(out_of_range)?;
        }

        Ok(Layers {
            closures,
            ad_hoc,
            occurrences,
            references,
            opening,
        })
    }

    /// What the seat is for from `t` on, until the next boundary of any interval.
    fn content_at(&self, t: i64) -> Content<'_> {
        if self.closures.iter().any(|span| span.covers(t)) {
            return Content::Closed;
        }
        // The latest start wins; `max_by_key` keeps the last of equal ones. Starts are taken
        // before clipping so that the choice does not depend on the window.
        if let Some((_, reference)) = self
            .ad_hoc
            .iter()
            .filter(|(span, _)| span.covers(t))
            .max_by_key(|(span, _)| span.start)
        {
            return Content::Supervised(reference);
        }
        if let Some(reference) = self
            .occurrences
            .iter()
            .filter(|(span, _)| span.covers(t))
            .max_by_key(|(span, index)| (span.start, *index))
            .and_then(|(_, index)| self.references.get(*index))
        {
            return Content::Supervised(reference);
        }
        if self.opening.iter().any(|span| span.covers(t)) {
            return Content::Free;
        }
        Content::Closed
    }

    /// Cuts `[from, until)` at every boundary, labels each piece and merges alike neighbours.
    fn sweep(&self, rule: &FreeAccessRule, from: i64, until: i64) -> Vec<Slot> {
        let mut cuts: Vec<i64> = vec![from, until];
        let spans = self
            .closures
            .iter()
            .chain(self.ad_hoc.iter().map(|(span, _)| span))
            .chain(self.occurrences.iter().map(|(span, _)| span))
            .chain(self.opening.iter());
        for span in spans {
            cuts.extend(
                [span.start, span.end]
                    .into_iter()
                    .filter(|t| from < *t && *t < until),
            );
        }
        cuts.sort_unstable();
        cuts.dedup();

        let mut pieces: Vec<(i64, i64, Content<'_>)> = Vec::new();
        for pair in cuts.windows(2) {
            let &[start, end] = pair else { continue };
            let content = self.content_at(start);
            match pieces.last_mut() {
                Some(last) if last.2 == content && last.1 == start => last.1 = end,
                _ => pieces.push((start, end, content)),
            }
        }
        pieces
            .into_iter()
            .map(|(start, end, content)| slot(UtcMillis(start), UtcMillis(end), content, rule))
            .collect()
    }
}

fn slot(start: UtcMillis, end: UtcMillis, content: Content<'_>, rule: &FreeAccessRule) -> Slot {
    match content {
        Content::Closed => Slot {
            start,
            end,
            kind: SlotKind::Closed,
            permanence: None,
            session_minutes: None,
            ticket_required: false,
        },
        Content::Free => Slot {
            start,
            end,
            kind: SlotKind::Free,
            permanence: None,
            session_minutes: Some(rule.session_minutes),
            ticket_required: rule.ticket_required,
        },
        Content::Supervised(reference) => Slot {
            start,
            end,
            kind: SlotKind::Supervised,
            permanence: Some(reference.clone()),
            session_minutes: None,
            ticket_required: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_MS: i64 = 60_000;

    /// An RFC 3339 instant with its offset, e.g. `2026-10-25T01:00:00+02:00`.
    fn at(text: &str) -> UtcMillis {
        UtcMillis(text.parse::<Timestamp>().unwrap().as_millisecond())
    }

    fn time(text: &str) -> LocalTime {
        text.parse().unwrap()
    }

    fn date(text: &str) -> LocalDate {
        text.parse().unwrap()
    }

    fn range(start: &str, end: &str) -> TimeRange {
        TimeRange {
            start: time(start),
            end: time(end),
        }
    }

    fn paris() -> SiteSchedule {
        SiteSchedule {
            time_zone: "Europe/Paris".to_owned(),
            opening_hours: WeeklyHours::default(),
            closures: Vec::new(),
            seats: vec!["pc-1".to_owned(), "pc-2".to_owned(), "pc-3".to_owned()],
            free_access: FreeAccessRule::default(),
            permanences: Vec::new(),
            ad_hoc: Vec::new(),
            mediator_pin: None,
        }
    }

    fn open_every_day(site: &mut SiteSchedule, start: &str, end: &str) {
        for day in Weekday::ALL {
            site.opening_hours.on_mut(day).push(range(start, end));
        }
    }

    fn permanence(
        id: &str,
        weekdays: &[Weekday],
        start: &str,
        end: &str,
        seats: &[&str],
    ) -> Permanence {
        Permanence {
            id: id.to_owned(),
            name: format!("Permanence {id}"),
            programme: Programme::EcrivainPublic,
            weekdays: weekdays.to_vec(),
            start: time(start),
            end: time(end),
            seats: seats.iter().map(|s| s.to_string()).collect(),
            mediator: "Mme Durand".to_owned(),
            valid_from: None,
            valid_until: None,
        }
    }

    fn ad_hoc(id: &str, seats: &[&str], start: &str, end: &str) -> AdHocSlot {
        AdHocSlot {
            id: id.to_owned(),
            seats: seats.iter().map(|s| s.to_string()).collect(),
            start: at(start),
            end: at(end),
            permanence: None,
            name: None,
            mediator: "M. Martin".to_owned(),
        }
    }

    /// One line per slot, so a failing assertion shows the whole schedule.
    fn render(slots: &[Slot]) -> Vec<String> {
        slots
            .iter()
            .map(|slot| {
                let what = match slot.kind {
                    SlotKind::Closed => "closed".to_owned(),
                    SlotKind::Free => format!(
                        "free {}min{}",
                        slot.session_minutes.unwrap_or(0),
                        if slot.ticket_required { " ticket" } else { "" }
                    ),
                    SlotKind::Supervised => format!(
                        "supervised {}",
                        slot.permanence.as_ref().map_or("?", |p| p.id.as_str())
                    ),
                };
                format!("{} {} {what}", slot.start, slot.end)
            })
            .collect()
    }

    fn supervised(slots: &[Slot]) -> Vec<&Slot> {
        slots
            .iter()
            .filter(|s| s.kind == SlotKind::Supervised)
            .collect()
    }

    fn minutes(slot: &Slot) -> i64 {
        (slot.end.0 - slot.start.0) / MINUTE_MS
    }

    /// A permanence 01:00–04:00 on the Sunday the clocks change, on `pc-1` only, in a site
    /// that is never open: its slot alone, as UTC instants and minutes.
    fn night_permanence_on(day: &str) -> (UtcMillis, UtcMillis, i64) {
        let mut site = paris();
        site.permanences.push(permanence(
            "nuit",
            &[Weekday::Sunday],
            "01:00",
            "04:00",
            &["pc-1"],
        ));
        let from = at(&format!("{day}T00:00:00Z")).plus_secs(-86_400);
        let slots = compile(&site, "pc-1", from, 3).unwrap();
        let found = supervised(&slots);
        assert_eq!(found.len(), 1, "{:#?}", render(&slots));
        (found[0].start, found[0].end, minutes(found[0]))
    }

    #[test]
    fn a_night_permanence_lasts_four_hours_when_clocks_fall_back_in_2026() {
        assert_eq!(
            night_permanence_on("2026-10-25"),
            (at("2026-10-24T23:00:00Z"), at("2026-10-25T03:00:00Z"), 240)
        );
    }

    #[test]
    fn a_night_permanence_lasts_two_hours_when_clocks_spring_forward_in_2027() {
        assert_eq!(
            night_permanence_on("2027-03-28"),
            (at("2027-03-28T00:00:00Z"), at("2027-03-28T02:00:00Z"), 120)
        );
    }

    #[test]
    fn a_night_permanence_lasts_four_hours_when_clocks_fall_back_in_2027() {
        assert_eq!(
            night_permanence_on("2027-10-31"),
            (at("2027-10-30T23:00:00Z"), at("2027-10-31T03:00:00Z"), 240)
        );
    }

    #[test]
    fn an_afternoon_permanence_lasts_three_hours_on_every_day_around_the_changes() {
        let mut site = paris();
        site.permanences
            .push(permanence("ep", &Weekday::ALL, "14:00", "17:00", &["pc-1"]));
        for (day_before, change, day_after) in [
            ("2026-10-24", "2026-10-25", "2026-10-26"),
            ("2027-03-27", "2027-03-28", "2027-03-29"),
            ("2027-10-30", "2027-10-31", "2027-11-01"),
        ] {
            let slots = compile(&site, "pc-1", at(&format!("{day_before}T00:00:00Z")), 3).unwrap();
            let found = supervised(&slots);
            assert_eq!(found.len(), 3, "{:#?}", render(&slots));
            for slot in &found {
                assert_eq!(minutes(slot), 180, "{:#?}", render(&slots));
            }
            // The wall clock says 14:00 each day; UTC moves by an hour across the change.
            let starts: Vec<UtcMillis> = found.iter().map(|s| s.start).collect();
            let summer = |d: &str| at(&format!("{d}T14:00:00+02:00"));
            let winter = |d: &str| at(&format!("{d}T14:00:00+01:00"));
            let expected = if change.starts_with("2027-03") {
                vec![winter(day_before), summer(change), summer(day_after)]
            } else {
                vec![summer(day_before), winter(change), winter(day_after)]
            };
            assert_eq!(starts, expected);
        }
    }

    #[test]
    fn a_start_that_does_not_exist_moves_forward_and_a_repeated_one_takes_the_first() {
        let mut site = paris();
        site.permanences.push(permanence(
            "p",
            &[Weekday::Sunday],
            "02:30",
            "05:00",
            &["pc-1"],
        ));

        // 2027-03-28: 02:30 never shows on the clock; the slot starts at 03:30 CEST.
        let slots = compile(&site, "pc-1", at("2027-03-27T00:00:00Z"), 2).unwrap();
        let found = supervised(&slots);
        assert_eq!(found.len(), 1, "{:#?}", render(&slots));
        assert_eq!(found[0].start, at("2027-03-28T03:30:00+02:00"));
        assert_eq!(found[0].start, at("2027-03-28T01:30:00Z"));
        assert_eq!(found[0].end, at("2027-03-28T05:00:00+02:00"));
        assert_eq!(minutes(found[0]), 90);

        // 2026-10-25: 02:30 shows twice; the slot starts at the first, 02:30 CEST.
        let slots = compile(&site, "pc-1", at("2026-10-24T00:00:00Z"), 2).unwrap();
        let found = supervised(&slots);
        assert_eq!(found.len(), 1, "{:#?}", render(&slots));
        assert_eq!(found[0].start, at("2026-10-25T02:30:00+02:00"));
        assert_eq!(found[0].start, at("2026-10-25T00:30:00Z"));
        assert_eq!(found[0].end, at("2026-10-25T05:00:00+01:00"));
        assert_eq!(minutes(found[0]), 210);
    }

    #[test]
    fn a_range_inside_the_spring_forward_gap_produces_nothing() {
        let mut site = paris();
        site.permanences.push(permanence(
            "p",
            &[Weekday::Sunday],
            "02:30",
            "03:00",
            &["pc-1"],
        ));
        let slots = compile(&site, "pc-1", at("2027-03-27T00:00:00Z"), 3).unwrap();
        assert_eq!(
            render(&slots),
            ["2027-03-27T00:00:00Z 2027-03-30T00:00:00Z closed"]
        );
    }

    #[test]
    fn opening_hours_cross_midnight() {
        let mut site = paris();
        site.opening_hours.friday.push(range("20:00", "01:00"));
        site.opening_hours.saturday.push(range("22:00", "03:00"));
        site.free_access.ticket_required = true;

        // Friday 2026-11-20, 20:00 CET, to Saturday 01:00 CET.
        let slots = compile(&site, "pc-2", at("2026-11-20T00:00:00Z"), 2).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-11-20T00:00:00Z 2026-11-20T19:00:00Z closed",
                "2026-11-20T19:00:00Z 2026-11-21T00:00:00Z free 45min ticket",
                "2026-11-21T00:00:00Z 2026-11-21T21:00:00Z closed",
                "2026-11-21T21:00:00Z 2026-11-22T00:00:00Z free 45min ticket",
            ]
        );

        // Saturday 2026-10-24 22:00 CEST to Sunday 03:00 CET: the night the clocks fall
        // back, six hours for five on the schedule.
        let slots = compile(&site, "pc-2", at("2026-10-24T12:00:00Z"), 1).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-10-24T12:00:00Z 2026-10-24T20:00:00Z closed",
                "2026-10-24T20:00:00Z 2026-10-25T02:00:00Z free 45min ticket",
                "2026-10-25T02:00:00Z 2026-10-25T12:00:00Z closed",
            ]
        );
    }

    #[test]
    fn a_site_open_around_the_clock_is_one_free_slot_across_a_clock_change() {
        let mut site = paris();
        open_every_day(&mut site, "00:00", "12:00");
        open_every_day(&mut site, "12:00", "00:00");
        let from = at("2026-10-20T09:17:00Z");
        let slots = compile(&site, "pc-3", from, DEFAULT_DAYS).unwrap();
        assert_eq!(slots.len(), 1, "{:#?}", render(&slots));
        assert_eq!(slots[0].start, from);
        assert_eq!(slots[0].end, from.plus_secs(14 * 86_400));
        assert_eq!(slots[0].kind, SlotKind::Free);
    }

    #[test]
    fn a_holiday_closes_the_whole_day_whatever_is_planned() {
        let mut site = paris();
        open_every_day(&mut site, "09:00", "18:00");
        site.permanences.push(permanence(
            "ep",
            &[Weekday::Friday],
            "14:00",
            "17:00",
            &["pc-1"],
        ));
        site.ad_hoc.push(ad_hoc(
            "noel",
            &["pc-1"],
            "2026-12-25T10:00:00+01:00",
            "2026-12-25T11:00:00+01:00",
        ));
        site.closures.push(Closure {
            label: "Noël".to_owned(),
            first_day: date("2026-12-25"),
            last_day: date("2026-12-25"),
        });
        let slots = compile(&site, "pc-1", at("2026-12-24T00:00:00Z"), 3).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-12-24T00:00:00Z 2026-12-24T08:00:00Z closed",
                "2026-12-24T08:00:00Z 2026-12-24T17:00:00Z free 45min",
                // Thursday evening, all of Christmas Day, Saturday morning.
                "2026-12-24T17:00:00Z 2026-12-26T08:00:00Z closed",
                "2026-12-26T08:00:00Z 2026-12-26T17:00:00Z free 45min",
                "2026-12-26T17:00:00Z 2026-12-27T00:00:00Z closed",
            ]
        );
    }

    #[test]
    fn a_closure_cuts_a_permanence_that_runs_past_midnight() {
        let mut site = paris();
        site.permanences.push(permanence(
            "reveillon",
            &[Weekday::Thursday],
            "20:00",
            "02:00",
            &["pc-1"],
        ));
        site.closures.push(Closure {
            label: "Jour de l'an".to_owned(),
            first_day: date("2027-01-01"),
            last_day: date("2027-01-01"),
        });
        let slots = compile(&site, "pc-1", at("2026-12-31T12:00:00Z"), 1).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-12-31T12:00:00Z 2026-12-31T19:00:00Z closed",
                "2026-12-31T19:00:00Z 2026-12-31T23:00:00Z supervised reveillon",
                "2026-12-31T23:00:00Z 2027-01-01T12:00:00Z closed",
            ]
        );
        // The week before, with no closure, it runs until 02:00.
        let slots = compile(&site, "pc-1", at("2026-12-24T12:00:00Z"), 1).unwrap();
        let found = supervised(&slots);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].start, found[0].end),
            (
                at("2026-12-24T20:00:00+01:00"),
                at("2026-12-25T02:00:00+01:00")
            )
        );
    }

    #[test]
    fn ad_hoc_slots_and_permanences_supervise_their_seats_only_even_after_hours() {
        let mut site = paris();
        open_every_day(&mut site, "09:00", "18:00");
        site.permanences.push(permanence(
            "ep",
            &[Weekday::Tuesday],
            "14:00",
            "17:00",
            &["pc-1"],
        ));
        let mut atelier = permanence("atelier", &[Weekday::Tuesday], "19:00", "21:00", &["pc-3"]);
        atelier.programme = Programme::Atelier;
        site.permanences.push(atelier);
        site.ad_hoc.push(ad_hoc(
            "now",
            &["pc-1", "pc-2"],
            "2026-11-17T16:00:00+01:00",
            "2026-11-17T19:00:00+01:00",
        ));
        let day = at("2026-11-17T00:00:00+01:00");

        assert_eq!(
            render(&compile(&site, "pc-1", day, 1).unwrap()),
            [
                "2026-11-16T23:00:00Z 2026-11-17T08:00:00Z closed",
                "2026-11-17T08:00:00Z 2026-11-17T13:00:00Z free 45min",
                "2026-11-17T13:00:00Z 2026-11-17T15:00:00Z supervised ep",
                "2026-11-17T15:00:00Z 2026-11-17T18:00:00Z supervised now",
                "2026-11-17T18:00:00Z 2026-11-17T23:00:00Z closed",
            ]
        );
        assert_eq!(
            render(&compile(&site, "pc-2", day, 1).unwrap()),
            [
                "2026-11-16T23:00:00Z 2026-11-17T08:00:00Z closed",
                "2026-11-17T08:00:00Z 2026-11-17T15:00:00Z free 45min",
                "2026-11-17T15:00:00Z 2026-11-17T18:00:00Z supervised now",
                "2026-11-17T18:00:00Z 2026-11-17T23:00:00Z closed",
            ]
        );
        let pc3 = compile(&site, "pc-3", day, 1).unwrap();
        assert_eq!(
            render(&pc3),
            [
                "2026-11-16T23:00:00Z 2026-11-17T08:00:00Z closed",
                "2026-11-17T08:00:00Z 2026-11-17T17:00:00Z free 45min",
                "2026-11-17T17:00:00Z 2026-11-17T18:00:00Z closed",
                "2026-11-17T18:00:00Z 2026-11-17T20:00:00Z supervised atelier",
                "2026-11-17T20:00:00Z 2026-11-17T23:00:00Z closed",
            ]
        );
        assert_eq!(
            pc3[3].permanence,
            Some(PermanenceRef {
                id: "atelier".to_owned(),
                name: "Permanence atelier".to_owned(),
                programme: "atelier".to_owned(),
            })
        );
        // An ad-hoc slot naming no permanence carries its own id and the default name.
        let pc2 = compile(&site, "pc-2", day, 1).unwrap();
        assert_eq!(
            pc2[2].permanence,
            Some(PermanenceRef {
                id: "now".to_owned(),
                name: DEFAULT_AD_HOC_NAME.to_owned(),
                programme: "autre".to_owned(),
            })
        );
    }

    #[test]
    fn extending_a_permanence_with_an_ad_hoc_slot_makes_one_slot() {
        let mut site = paris();
        open_every_day(&mut site, "09:00", "18:00");
        site.permanences.push(permanence(
            "ep",
            &[Weekday::Tuesday],
            "14:00",
            "17:00",
            &["pc-1"],
        ));
        let mut extension = ad_hoc(
            "plus",
            &["pc-1"],
            "2026-11-17T17:00:00+01:00",
            "2026-11-17T18:30:00+01:00",
        );
        extension.permanence = Some(site.permanences[0].reference());
        site.ad_hoc.push(extension);
        let slots = compile(&site, "pc-1", at("2026-11-17T12:00:00Z"), 1).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-11-17T12:00:00Z 2026-11-17T13:00:00Z free 45min",
                "2026-11-17T13:00:00Z 2026-11-17T17:30:00Z supervised ep",
                "2026-11-17T17:30:00Z 2026-11-18T08:00:00Z closed",
                "2026-11-18T08:00:00Z 2026-11-18T12:00:00Z free 45min",
            ]
        );
    }

    #[test]
    fn of_two_overlapping_permanences_the_one_that_started_last_wins() {
        let mut site = paris();
        site.permanences.push(permanence(
            "long",
            &[Weekday::Tuesday],
            "14:00",
            "18:00",
            &["pc-1"],
        ));
        site.permanences.push(permanence(
            "court",
            &[Weekday::Tuesday],
            "15:00",
            "16:00",
            &["pc-1"],
        ));
        let slots = compile(&site, "pc-1", at("2026-11-17T12:00:00Z"), 1).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-11-17T12:00:00Z 2026-11-17T13:00:00Z closed",
                "2026-11-17T13:00:00Z 2026-11-17T14:00:00Z supervised long",
                "2026-11-17T14:00:00Z 2026-11-17T15:00:00Z supervised court",
                "2026-11-17T15:00:00Z 2026-11-17T17:00:00Z supervised long",
                "2026-11-17T17:00:00Z 2026-11-18T12:00:00Z closed",
            ]
        );
    }

    #[test]
    fn the_window_clips_slots_at_both_ends() {
        let mut site = paris();
        open_every_day(&mut site, "09:00", "18:00");
        site.free_access.session_minutes = 30;
        site.free_access.warning_minutes = vec![5];
        let from = at("2026-11-17T10:12:34.567+01:00");
        let slots = compile_between(&site, "pc-1", from, at("2026-11-18T11:00:00+01:00")).unwrap();
        assert_eq!(
            render(&slots),
            [
                "2026-11-17T09:12:34Z 2026-11-17T17:00:00Z free 30min",
                "2026-11-17T17:00:00Z 2026-11-18T08:00:00Z closed",
                "2026-11-18T08:00:00Z 2026-11-18T10:00:00Z free 30min",
            ]
        );
        assert_eq!(slots[0].start, from);
        assert_eq!(compile(&site, "pc-1", from, 0).unwrap(), []);
    }

    #[test]
    fn validity_dates_bound_a_permanence() {
        let mut site = paris();
        let mut p = permanence("cn", &[Weekday::Tuesday], "14:00", "17:00", &["pc-1"]);
        p.valid_from = Some(date("2026-11-10"));
        p.valid_until = Some(date("2026-11-24"));
        site.permanences.push(p);
        let slots = compile(&site, "pc-1", at("2026-11-01T00:00:00Z"), 35).unwrap();
        let starts: Vec<String> = supervised(&slots)
            .iter()
            .map(|s| s.start.to_string())
            .collect();
        assert_eq!(
            starts,
            [
                "2026-11-10T13:00:00Z",
                "2026-11-17T13:00:00Z",
                "2026-11-24T13:00:00Z"
            ]
        );
    }

    #[test]
    fn compile_schedule_wraps_the_slots_for_the_wire() {
        let mut site = paris();
        site.time_zone = "europe/paris".to_owned();
        open_every_day(&mut site, "09:00", "18:00");
        let now = at("2026-11-17T10:00:00+01:00");
        let schedule = compile_schedule(&site, "pc-1", 7, now, DEFAULT_DAYS).unwrap();
        assert_eq!(schedule.version, 7);
        assert_eq!(schedule.generated_at, now);
        assert_eq!(schedule.time_zone, "Europe/Paris");
        assert_eq!(
            schedule.slots,
            compile(&site, "pc-1", now, DEFAULT_DAYS).unwrap()
        );
        assert_eq!(
            schedule.slots.last().unwrap().end,
            now.plus_secs(14 * 86_400)
        );
    }

    #[test]
    fn invalid_sites_are_refused_with_a_message_staff_can_act_on() {
        let mut site = paris();
        site.time_zone = "Europe/Grenoble".to_owned();
        let err = compile(&site, "pc-1", UtcMillis(0), 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown time zone `Europe/Grenoble`; use an IANA name such as `Europe/Paris`"
        );

        let mut site = paris();
        site.opening_hours.monday.push(range("09:00", "09:00"));
        assert_eq!(
            site.validate().unwrap_err().to_string(),
            "opening hours on Monday: 09:00–09:00 ends when it starts; \
             to open a whole day write 00:00–12:00 and 12:00–00:00"
        );

        let mut site = paris();
        site.permanences.push(permanence(
            "ep",
            &[Weekday::Tuesday],
            "14:00",
            "17:00",
            &["pc-1", "pc-9"],
        ));
        assert_eq!(
            site.validate().unwrap_err().to_string(),
            "permanence `ep` reserves seat `pc-9`, which is not a seat of this site"
        );

        let mut site = paris();
        site.permanences.push(permanence(
            "ep",
            &[Weekday::Tuesday],
            "14:00",
            "14:00",
            &["pc-1"],
        ));
        assert!(matches!(
            site.validate(),
            Err(SlotsError::EmptyPermanenceRange { .. })
        ));

        let mut site = paris();
        site.ad_hoc.push(ad_hoc(
            "a",
            &["pc-1"],
            "2026-11-17T16:00:00Z",
            "2026-11-17T16:00:00Z",
        ));
        assert_eq!(
            site.validate().unwrap_err().to_string(),
            "ad-hoc slot `a` ends at 2026-11-17T16:00:00Z, which is not after its start at \
             2026-11-17T16:00:00Z"
        );

        let mut site = paris();
        site.ad_hoc.push(ad_hoc(
            "a",
            &["pc-4"],
            "2026-11-17T16:00:00Z",
            "2026-11-17T17:00:00Z",
        ));
        assert!(matches!(
            site.validate(),
            Err(SlotsError::AdHocUnknownSeat { .. })
        ));

        let mut site = paris();
        site.closures.push(Closure {
            label: "Été".to_owned(),
            first_day: date("2027-08-15"),
            last_day: date("2027-08-01"),
        });
        assert_eq!(
            site.validate().unwrap_err().to_string(),
            "closure `Été` ends on 2027-08-01, before it starts on 2027-08-15"
        );

        let mut site = paris();
        site.free_access.session_minutes = 4;
        assert_eq!(
            site.validate().unwrap_err().to_string(),
            "free access: a warning 5 minutes before the end does not fit a 4-minute session; \
             warn between 1 and 4 minutes before the end, excluded"
        );

        let mut site = paris();
        site.seats.push("pc-1".to_owned());
        assert!(matches!(
            site.validate(),
            Err(SlotsError::DuplicateSeat { .. })
        ));

        let site = paris();
        assert_eq!(
            compile(&site, "pc-7", UtcMillis(0), 1)
                .unwrap_err()
                .to_string(),
            "`pc-7` is not a seat of this site"
        );
        assert!(matches!(
            compile(&site, "pc-1", UtcMillis(0), MAX_DAYS + 1),
            Err(SlotsError::WindowTooLong { .. })
        ));
        assert!(matches!(
            compile_between(&site, "pc-1", UtcMillis(10), UtcMillis(0)),
            Err(SlotsError::WindowReversed { .. })
        ));
        assert!(matches!(
            compile(&site, "pc-1", UtcMillis(i64::MAX - 1000), 1),
            Err(SlotsError::OutOfRange { .. })
        ));
        assert!(matches!(
            compile(&site, "pc-1", UtcMillis(i64::MIN), 1),
            Err(SlotsError::OutOfRange { .. })
        ));
    }

    #[test]
    fn times_and_dates_are_read_strictly() {
        assert_eq!(time("9:05"), LocalTime::new(9, 5).unwrap());
        assert_eq!(time("23:59").to_string(), "23:59");
        for bad in [
            "24:00", "12:60", "12:5", "12", "-1:00", "12:00:00", " 12:00", "１2:00",
        ] {
            assert!(bad.parse::<LocalTime>().is_err(), "{bad}");
        }
        assert_eq!(date("2028-02-29").to_string(), "2028-02-29");
        assert_eq!(date("2026-12-25").weekday(), Weekday::Friday);
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T00:00",
        ] {
            assert!(bad.parse::<LocalDate>().is_err(), "{bad}");
        }
        assert_eq!(
            "25:00".parse::<LocalTime>().unwrap_err().to_string(),
            "`25:00` is not a time of day; write HH:MM between 00:00 and 23:59, e.g. `14:00`"
        );
    }

    #[test]
    fn a_site_round_trips_with_readable_times_and_unknown_programmes_kept() {
        let mut site = paris();
        open_every_day(&mut site, "20:00", "01:00");
        let mut p = permanence("ms", &[Weekday::Monday], "09:30", "11:00", &["pc-2"]);
        p.programme = Programme::from("mediation_sociale");
        p.valid_until = Some(date("2027-06-30"));
        site.permanences.push(p);
        site.closures.push(Closure {
            label: "Noël".to_owned(),
            first_day: date("2026-12-24"),
            last_day: date("2027-01-02"),
        });
        site.ad_hoc.push(ad_hoc(
            "a",
            &["pc-1"],
            "2026-11-17T16:00:00Z",
            "2026-11-17T17:00:00Z",
        ));
        let bytes = rmp_serde::to_vec_named(&site).unwrap();
        let back: SiteSchedule = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, site);
        assert_eq!(
            back.permanences[0].programme,
            Programme::Other("mediation_sociale".to_owned())
        );

        let as_text: String =
            rmp_serde::from_slice(&rmp_serde::to_vec(&time("09:30")).unwrap()).unwrap();
        assert_eq!(as_text, "09:30");
        let as_text: String =
            rmp_serde::from_slice(&rmp_serde::to_vec(&date("2027-06-30")).unwrap()).unwrap();
        assert_eq!(as_text, "2027-06-30");
        let as_text: String =
            rmp_serde::from_slice(&rmp_serde::to_vec(&Programme::ConseillerNumerique).unwrap())
                .unwrap();
        assert_eq!(as_text, "conseiller_numerique");
        let bad = rmp_serde::to_vec("24:00").unwrap();
        assert!(rmp_serde::from_slice::<LocalTime>(&bad).is_err());
    }

    #[test]
    fn free_access_defaults_apply_when_fields_are_missing() {
        #[derive(Serialize)]
        struct Minimal {
            time_zone: &'static str,
        }
        let bytes = rmp_serde::to_vec_named(&Minimal {
            time_zone: "Europe/Paris",
        })
        .unwrap();
        let site: SiteSchedule = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(site.free_access.session_minutes, 45);
        assert_eq!(site.free_access.warning_minutes, [5, 1]);
        assert!(!site.free_access.ticket_required);
        assert!(site.validate().is_ok());
    }
}

#[cfg(test)]
mod properties {
    //! Random sites and windows against the rules stated in the module documentation, checked
    //! instant by instant with a reference that reads the local wall clock directly.

    use super::*;
    use jiff::ToSpan;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::{select, subsequence};

    const SEATS: [&str; 3] = ["pc-1", "pc-2", "pc-3"];

    /// Zones for the properties that hold whatever the rules: Santiago changes its clocks at
    /// midnight, Lord Howe by half an hour.
    const ANY_ZONE: &[&str] = &[
        "Europe/Paris",
        "UTC",
        "America/New_York",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ];

    /// Zones whose clock changes happen between 01:00 and 03:00 (or never). The rules drawn
    /// for the wall-clock reference avoid those hours so that gaps and folds, which have
    /// unit tests of their own, do not blur what "inside a range" means.
    const REFERENCE_ZONE: &[&str] = &["Europe/Paris", "UTC", "America/New_York", "Asia/Kolkata"];
    const AVOID_HOURS: &[u8] = &[1, 2];

    #[derive(Debug, Clone)]
    struct Case {
        site: SiteSchedule,
        seat: &'static str,
        from: UtcMillis,
        days: u32,
    }

    impl Case {
        fn until(&self) -> UtcMillis {
            UtcMillis(self.from.0 + i64::from(self.days) * DAY_MS)
        }
    }

    fn instant(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn window_start() -> impl Strategy<Value = UtcMillis> {
        let changes = vec![
            instant("2026-10-25T01:00:00Z"),
            instant("2027-03-28T01:00:00Z"),
            instant("2027-10-31T01:00:00Z"),
            instant("2026-09-06T04:00:00Z"),
            instant("2027-04-04T03:00:00Z"),
        ];
        prop_oneof![
            (select(changes), 0..10 * DAY_MS).prop_map(|(change, back)| UtcMillis(change - back)),
            (instant("2026-09-01T00:00:00Z")..instant("2027-12-01T00:00:00Z")).prop_map(UtcMillis),
        ]
    }

    fn local_time(avoid: &'static [u8]) -> impl Strategy<Value = LocalTime> {
        (0u8..24, select(vec![0u8, 15, 30, 45]))
            .prop_filter("hour of a clock change", move |(h, _)| !avoid.contains(h))
            .prop_map(|(h, m)| LocalTime::new(h, m).unwrap())
    }

    fn time_range(avoid: &'static [u8]) -> impl Strategy<Value = TimeRange> {
        (local_time(avoid), local_time(avoid))
            .prop_filter("empty range", |(a, b)| a != b)
            .prop_map(|(start, end)| TimeRange { start, end })
    }

    fn near(base: Date, days: std::ops::Range<i64>) -> impl Strategy<Value = LocalDate> {
        days.prop_map(move |n| LocalDate(base.checked_add(n.days()).unwrap()))
    }

    fn seats() -> impl Strategy<Value = Vec<String>> {
        subsequence(SEATS.to_vec(), 1..=3)
            .prop_map(|seats| seats.into_iter().map(str::to_owned).collect())
    }

    fn closure(base: Date) -> impl Strategy<Value = Closure> {
        (near(base, -3..18), 0i64..4).prop_map(|(first_day, len)| Closure {
            label: "fermé".to_owned(),
            first_day,
            last_day: LocalDate(first_day.0.checked_add(len.days()).unwrap()),
        })
    }

    fn permanence(base: Date, avoid: &'static [u8]) -> impl Strategy<Value = Permanence> {
        (
            subsequence(Weekday::ALL.to_vec(), 1..=7),
            time_range(avoid),
            seats(),
            proptest::option::of(near(base, -5..20)),
            proptest::option::of(near(base, -5..20)),
            select(vec![
                "ecrivain_public",
                "conseiller_numerique",
                "atelier",
                "autre",
                "x",
            ]),
        )
            .prop_map(|(weekdays, range, seats, a, b, programme)| {
                let (valid_from, valid_until) = match (a, b) {
                    (Some(a), Some(b)) if b < a => (Some(b), Some(a)),
                    other => other,
                };
                Permanence {
                    id: String::new(),
                    name: "p".to_owned(),
                    programme: Programme::from(programme),
                    weekdays,
                    start: range.start,
                    end: range.end,
                    seats,
                    mediator: String::new(),
                    valid_from,
                    valid_until,
                }
            })
    }

    fn ad_hoc(from: UtcMillis) -> impl Strategy<Value = (AdHocSlot, bool)> {
        (
            -DAY_MS..16 * DAY_MS,
            60_000i64..12 * 3_600_000,
            seats(),
            any::<bool>(),
        )
            .prop_map(move |(offset, length, seats, of_a_permanence)| {
                let start = UtcMillis(from.0 + offset);
                let slot = AdHocSlot {
                    id: String::new(),
                    seats,
                    start,
                    end: UtcMillis(start.0 + length),
                    permanence: None,
                    name: None,
                    mediator: String::new(),
                };
                (slot, of_a_permanence)
            })
    }

    fn case(zones: &'static [&'static str], avoid: &'static [u8]) -> impl Strategy<Value = Case> {
        (window_start(), 0u32..=15).prop_flat_map(move |(from, days)| {
            let base = Timestamp::from_millisecond(from.0)
                .unwrap()
                .to_zoned(TimeZone::UTC)
                .date();
            (
                select(zones.to_vec()),
                vec(vec(time_range(avoid), 0..3), 7),
                vec(closure(base), 0..3),
                (10u32..=90, any::<bool>()),
                vec(permanence(base, avoid), 0..4),
                vec(ad_hoc(from), 0..3),
                select(SEATS.to_vec()),
            )
                .prop_map(
                    move |(
                        zone,
                        hours,
                        closures,
                        (session_minutes, ticket_required),
                        permanences,
                        ad_hoc,
                        seat,
                    )| {
                        let mut opening_hours = WeeklyHours::default();
                        for (day, ranges) in Weekday::ALL.into_iter().zip(hours) {
                            *opening_hours.on_mut(day) = ranges;
                        }
                        let permanences: Vec<Permanence> = permanences
                            .into_iter()
                            .enumerate()
                            .map(|(i, p)| Permanence {
                                id: format!("p{i}"),
                                ..p
                            })
                            .collect();
                        let ad_hoc = ad_hoc
                            .into_iter()
                            .enumerate()
                            .map(|(i, (slot, of_a_permanence))| AdHocSlot {
                                id: format!("a{i}"),
                                permanence: permanences
                                    .first()
                                    .filter(|_| of_a_permanence)
                                    .map(Permanence::reference),
                                ..slot
                            })
                            .collect();
                        Case {
                            site: SiteSchedule {
                                time_zone: zone.to_owned(),
                                opening_hours,
                                closures,
                                seats: SEATS.iter().map(|s| s.to_string()).collect(),
                                free_access: FreeAccessRule {
                                    session_minutes,
                                    ticket_required,
                                    warning_minutes: vec![5, 1],
                                },
                                permanences,
                                ad_hoc,
                                mediator_pin: None,
                            },
                            seat,
                            from,
                            days,
                        }
                    },
                )
        })
    }

    /// Slot boundaries, the instant before each, and random instants of the window.
    fn samples(case: &Case, slots: &[Slot], random: &[u64]) -> Vec<UtcMillis> {
        let len = (case.until().0 - case.from.0) as u64;
        let mut out = Vec::new();
        if len == 0 {
            return out;
        }
        for slot in slots {
            out.push(slot.start);
            out.push(UtcMillis(slot.end.0 - 1));
        }
        out.extend(
            random
                .iter()
                .map(|r| UtcMillis(case.from.0 + (r % len) as i64)),
        );
        out
    }

    fn slot_at(slots: &[Slot], t: UtcMillis) -> &Slot {
        slots
            .iter()
            .find(|slot| slot.start <= t && t < slot.end)
            .unwrap_or_else(|| panic!("no slot at {t}"))
    }

    fn same_content(a: &Slot, b: &Slot) -> bool {
        a.kind == b.kind
            && a.permanence == b.permanence
            && a.session_minutes == b.session_minutes
            && a.ticket_required == b.ticket_required
    }

    /// What the rules say at `t`, read from the local wall clock without going through
    /// the compiler's instants.
    #[derive(Debug, PartialEq)]
    enum Expected {
        Closure,
        Closed,
        Free,
        /// Supervised, carrying this reference.
        Supervised(PermanenceRef),
    }

    fn expected(site: &SiteSchedule, seat: &str, t: UtcMillis) -> Expected {
        let tz = site.zone().unwrap();
        let local = tz.to_datetime(Timestamp::from_millisecond(t.0).unwrap());
        let today = local.date();
        let yesterday = today.yesterday().unwrap();
        let time_ms = local
            .time()
            .duration_since(jiff::civil::Time::midnight())
            .as_millis() as i64;
        let inside = |day: Date, start: LocalTime, end: LocalTime| {
            let (s, e) = (
                i64::from(start.minutes_since_midnight()) * 60_000,
                i64::from(end.minutes_since_midnight()) * 60_000,
            );
            if day == today {
                s <= time_ms && (end < start || time_ms < e)
            } else {
                end < start && time_ms < e
            }
        };

        if site
            .closures
            .iter()
            .any(|c| c.first_day.0 <= today && today <= c.last_day.0)
        {
            return Expected::Closure;
        }
        // Ad-hoc instants are absolute: the latest start wins, the later one on a tie.
        let ad_hoc = site
            .ad_hoc
            .iter()
            .filter(|a| a.seats.iter().any(|s| s == seat) && a.start <= t && t < a.end)
            .max_by_key(|a| a.start);
        if let Some(slot) = ad_hoc {
            return Expected::Supervised(slot.reference());
        }
        // A permanence occurrence belongs to the date it starts on; the one that started
        // last wins, the later in the list on a tie.
        let occurs = |p: &Permanence, day: Date| {
            p.weekdays.contains(&Weekday::of(day))
                && p.valid_from.is_none_or(|from| from.0 <= day)
                && p.valid_until.is_none_or(|until| day <= until.0)
        };
        let permanence = site
            .permanences
            .iter()
            .enumerate()
            .filter(|(_, p)| p.seats.iter().any(|s| s == seat))
            .flat_map(|(index, p)| {
                [today, yesterday]
                    .into_iter()
                    .filter(move |day| occurs(p, *day) && inside(*day, p.start, p.end))
                    .map(move |day| ((day, p.start, index), p))
            })
            .max_by_key(|(rank, _)| *rank);
        if let Some((_, p)) = permanence {
            return Expected::Supervised(p.reference());
        }
        let open = [today, yesterday].into_iter().any(|day| {
            site.opening_hours
                .on(Weekday::of(day))
                .iter()
                .any(|r| inside(day, r.start, r.end))
        });
        if open {
            Expected::Free
        } else {
            Expected::Closed
        }
    }

    fn compiled(case: &Case) -> Result<Vec<Slot>, TestCaseError> {
        compile(&case.site, case.seat, case.from, case.days)
            .map_err(|e| TestCaseError::fail(format!("{e}")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(384))]

        #[test]
        fn slots_tile_the_window(case in case(ANY_ZONE, &[])) {
            let slots = compiled(&case)?;
            let until = case.until();
            if case.days == 0 {
                prop_assert!(slots.is_empty());
            } else {
                prop_assert_eq!(slots.first().map(|s| s.start), Some(case.from));
                prop_assert_eq!(slots.last().map(|s| s.end), Some(until));
            }
            for slot in &slots {
                prop_assert!(slot.start < slot.end, "empty slot {:?}", slot);
                match slot.kind {
                    SlotKind::Free => {
                        prop_assert_eq!(slot.session_minutes, Some(case.site.free_access.session_minutes));
                        prop_assert_eq!(slot.ticket_required, case.site.free_access.ticket_required);
                        prop_assert!(slot.permanence.is_none());
                    }
                    SlotKind::Supervised => {
                        prop_assert!(slot.permanence.is_some());
                        prop_assert!(slot.session_minutes.is_none());
                    }
                    SlotKind::Closed => {
                        prop_assert!(slot.permanence.is_none() && slot.session_minutes.is_none());
                    }
                }
            }
            for pair in slots.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start, "gap or overlap");
                prop_assert!(!same_content(&pair[0], &pair[1]), "unmerged {:?}", pair);
            }
        }

        #[test]
        fn splitting_the_window_changes_nothing(case in case(ANY_ZONE, &[]), cut in any::<u64>()) {
            let (a, c) = (case.from, case.until());
            let len = (c.0 - a.0) as u64;
            let b = UtcMillis(a.0 + (cut % (len + 1)) as i64);
            let whole = compiled(&case)?;
            let mut left = compile_between(&case.site, case.seat, a, b).unwrap();
            let right = compile_between(&case.site, case.seat, b, c).unwrap();
            let mut right = right.into_iter();
            if let (Some(last), Some(first)) = (left.last_mut(), right.as_slice().first()) {
                if same_content(last, first) {
                    last.end = first.end;
                    right.next();
                }
            }
            left.extend(right);
            prop_assert_eq!(left, whole);
        }

        #[test]
        fn every_instant_of_a_closure_is_closed(
            case in case(REFERENCE_ZONE, AVOID_HOURS),
            random in vec(any::<u64>(), 48),
        ) {
            let slots = compiled(&case)?;
            for t in samples(&case, &slots, &random) {
                if expected(&case.site, case.seat, t) == Expected::Closure {
                    prop_assert_eq!(slot_at(&slots, t).kind, SlotKind::Closed, "at {}", t);
                }
            }
        }

        #[test]
        fn reserved_seats_are_supervised_during_permanences_open_or_not(
            case in case(REFERENCE_ZONE, AVOID_HOURS),
            random in vec(any::<u64>(), 48),
        ) {
            let slots = compiled(&case)?;
            for t in samples(&case, &slots, &random) {
                // An ad-hoc slot may stand in for the permanence: still supervised.
                if let Expected::Supervised(_) = expected(&case.site, case.seat, t) {
                    prop_assert_eq!(slot_at(&slots, t).kind, SlotKind::Supervised, "at {}", t);
                }
            }
        }

        #[test]
        fn free_access_only_inside_opening_hours(
            case in case(REFERENCE_ZONE, AVOID_HOURS),
            random in vec(any::<u64>(), 48),
        ) {
            let slots = compiled(&case)?;
            for t in samples(&case, &slots, &random) {
                if slot_at(&slots, t).kind == SlotKind::Free {
                    prop_assert_eq!(expected(&case.site, case.seat, t), Expected::Free, "at {}", t);
                }
            }
        }

        #[test]
        fn every_instant_follows_the_precedence_of_the_rules(
            case in case(REFERENCE_ZONE, AVOID_HOURS),
            random in vec(any::<u64>(), 48),
        ) {
            let slots = compiled(&case)?;
            for t in samples(&case, &slots, &random) {
                let slot = slot_at(&slots, t);
                match expected(&case.site, case.seat, t) {
                    Expected::Closure | Expected::Closed => {
                        prop_assert_eq!(slot.kind, SlotKind::Closed, "at {}", t)
                    }
                    Expected::Free => prop_assert_eq!(slot.kind, SlotKind::Free, "at {}", t),
                    Expected::Supervised(reference) => {
                        prop_assert_eq!(slot.kind, SlotKind::Supervised, "at {}", t);
                        prop_assert_eq!(slot.permanence.as_ref(), Some(&reference), "at {}", t);
                    }
                }
            }
        }
    }

    #[test]
    fn the_documented_example_is_a_valid_site() {
        let mut site: SiteSchedule =
            toml::from_str(include_str!("../../docs/examples/site-schedule.toml"))
                .expect("docs/examples/site-schedule.toml parses");
        site.seats = vec!["ag-pc01".into(), "ag-pc02".into(), "ag-pc03".into()];
        site.validate().expect("and validates");
        // Tuesday 2026-11-24, 14:00–17:00 Paris: the writer's permanence on pc01.
        let slots = compile(&site, "ag-pc01", UtcMillis(1_795_474_800_000), 1).unwrap();
        assert!(slots
            .iter()
            .any(|s| s.kind == SlotKind::Supervised && s.end.0 - s.start.0 == 3 * 3_600_000));
    }
}
