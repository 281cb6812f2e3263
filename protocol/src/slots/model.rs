//! The site's time rules as staff write them: weekly hours, closures, permanences and ad-hoc
//! slots, in local wall-clock times and dates read and written as text.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::SlotsError;
use crate::schedule::PermanenceRef;
use crate::time::UtcMillis;

/// Default free-access session length, in minutes.
pub const DEFAULT_SESSION_MINUTES: u32 = 45;

/// Default warnings before the end of a free-access session, in minutes.
pub const DEFAULT_WARNING_MINUTES: [u32; 2] = [5, 1];

/// Name shown for an ad-hoc supervised slot that names neither a permanence nor itself.
pub const DEFAULT_AD_HOC_NAME: &str = "Permanence";

/// Everything that decides when a site's seats are free, supervised or closed.
///
/// This is what the controller stores per site and what [`compile`] reads. Call
/// [`SiteSchedule::validate`] before storing it: [`compile`] refuses an invalid site.
///
/// [`compile`]: super::compile
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
    /// What the site allows at its seats: stepping away, USB sticks.
    #[serde(default)]
    pub seat_policy: crate::schedule::SeatPolicy,
    /// The site's own words shown with the closing warning (at most 300 characters).
    #[serde(default)]
    pub closing_message: String,
    /// Whether the site shows its room display (`/salle/{site}` on the dashboard, no login:
    /// free and busy seats, the next one to free up, the seats held for a permanence).
    #[serde(default)]
    pub room_display: bool,
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
            seat_policy: Default::default(),
            room_display: false,
            closing_message: String::new(),
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

    pub(super) fn of(date: Date) -> Weekday {
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
pub struct LocalDate(pub(super) Date);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slots::fixtures::{ad_hoc, date, open_every_day, paris, permanence, time};

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
