//! What a site's time rules must satisfy before they are stored or compiled, and the errors
//! that tell staff what to fix.

use std::collections::HashSet;

use jiff::tz::{TimeZone, TimeZoneDatabase};

use super::{LocalDate, LocalTime, SiteSchedule, Weekday, MAX_DAYS};
use crate::time::UtcMillis;

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
    /// The pause a visitor may take is longer than allowed.
    #[error(
        "a visitor may step away for at most {max} minutes (seat_policy.step_away_minutes is {minutes}); use 0 to turn it off"
    )]
    StepAwayTooLong {
        /// As written.
        minutes: u32,
        /// The limit.
        max: u32,
    },
    /// A site's free pages are beyond any sensible number.
    #[error("seat_policy.{field} is {pages}: at most {max} free pages; use 0 for no limit")]
    PrintPagesTooMany {
        /// Which setting.
        field: &'static str,
        /// As written.
        pages: u32,
        /// The limit.
        max: u32,
    },
    /// The closing message is too long or holds control characters.
    #[error("closing_message: at most 300 characters on one line")]
    ClosingMessage,
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
    /// Checks everything [`compile`](super::compile) relies on, with a message staff can act on.
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

        if self.closing_message.chars().count() > 300
            || self.closing_message.chars().any(|c| c.is_control())
        {
            return Err(SlotsError::ClosingMessage);
        }
        let max = crate::schedule::MAX_STEP_AWAY_MINUTES;
        if self.seat_policy.step_away_minutes > max {
            return Err(SlotsError::StepAwayTooLong {
                minutes: self.seat_policy.step_away_minutes,
                max,
            });
        }

        let max = crate::schedule::MAX_PRINT_PAGES;
        for (field, pages) in [
            (
                "print_pages_per_session",
                self.seat_policy.print_pages_per_session,
            ),
            ("print_pages_per_day", self.seat_policy.print_pages_per_day),
        ] {
            if pages > max {
                return Err(SlotsError::PrintPagesTooMany { field, pages, max });
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
    pub(super) fn zone(&self) -> Result<TimeZone, SlotsError> {
        TimeZoneDatabase::bundled()
            .get(&self.time_zone)
            .map_err(|_| SlotsError::UnknownTimeZone {
                name: self.time_zone.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slots::fixtures::{ad_hoc, date, paris, permanence, range};
    use crate::slots::{compile, compile_between, Closure};

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
}
