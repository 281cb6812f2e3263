//! Sites, times and dates written briefly, for the unit tests of the model, the validation and
//! the compiler.

use jiff::Timestamp;

use super::{
    AdHocSlot, FreeAccessRule, LocalDate, LocalTime, Permanence, Programme, SiteSchedule,
    TimeRange, Weekday, WeeklyHours,
};
use crate::time::UtcMillis;

/// An RFC 3339 instant with its offset, e.g. `2026-10-25T01:00:00+02:00`.
pub(super) fn at(text: &str) -> UtcMillis {
    UtcMillis(text.parse::<Timestamp>().unwrap().as_millisecond())
}

pub(super) fn time(text: &str) -> LocalTime {
    text.parse().unwrap()
}

pub(super) fn date(text: &str) -> LocalDate {
    text.parse().unwrap()
}

pub(super) fn range(start: &str, end: &str) -> TimeRange {
    TimeRange {
        start: time(start),
        end: time(end),
    }
}

pub(super) fn paris() -> SiteSchedule {
    SiteSchedule {
        time_zone: "Europe/Paris".to_owned(),
        opening_hours: WeeklyHours::default(),
        closures: Vec::new(),
        seats: vec!["pc-1".to_owned(), "pc-2".to_owned(), "pc-3".to_owned()],
        free_access: FreeAccessRule::default(),
        permanences: Vec::new(),
        ad_hoc: Vec::new(),
        mediator_pin: None,
        seat_policy: Default::default(),
        room_display: false,
        closing_message: String::new(),
    }
}

pub(super) fn open_every_day(site: &mut SiteSchedule, start: &str, end: &str) {
    for day in Weekday::ALL {
        site.opening_hours.on_mut(day).push(range(start, end));
    }
}

pub(super) fn permanence(
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

pub(super) fn ad_hoc(id: &str, seats: &[&str], start: &str, end: &str) -> AdHocSlot {
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
