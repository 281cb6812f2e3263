//! A site's public hours in OpenStreetMap `opening_hours` syntax, for the national exports
//! (the "lieux de médiation numérique" `horaires`, data.inclusion's `horaires_accueil`).
//!
//! Two traps of that syntax decide the shape of what is written here:
//! - a later rule for a day replaces the earlier ones for that day, so `Fr 22:00-02:00;
//!   Sa 09:00-24:00` is closed on Saturday at 01:00 in the reference parser. Each day's rule
//!   is therefore written whole, in the day's own 00:00–24:00: the part of Friday's range
//!   after midnight is written in Saturday's rule (`Fr 22:00-24:00; Sa 00:00-02:00,
//!   09:00-24:00`), which every parser reads the same way;
//! - closures are dated `off` rules written last (`2026 Dec 24-2026 Dec 26 off`), so that
//!   they win over the weekly rules. A closed day is closed from 00:00 to 24:00, like the
//!   seats' own schedule (`commune_protocol::slots::compile`).

use commune_protocol::slots::{Closure, LocalDate, Permanence, TimeRange, Weekday, WeeklyHours};

const DAY_MINUTES: u16 = 24 * 60;
const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The site's hours: `None` when no opening hours are recorded (the exports then leave the
/// value empty and say why). Closures that ended before `today` are left out.
pub fn opening_hours(
    hours: &WeeklyHours,
    closures: &[Closure],
    today: LocalDate,
) -> Option<String> {
    let mut rules = weekly_rules(hours, "");
    if rules.is_empty() {
        return None;
    }
    rules.extend(closure_rules(closures, today));
    Some(rules.join("; "))
}

/// A permanence's hours: its weekly occurrences, within its dates when it has some, then the
/// site's closures to come. `None` when it has ended or has no day.
pub fn permanence_hours(
    permanence: &Permanence,
    closures: &[Closure],
    today: LocalDate,
) -> Option<String> {
    if permanence.valid_until.is_some_and(|until| until < today) {
        return None;
    }
    let mut hours = WeeklyHours::default();
    for day in &permanence.weekdays {
        hours.on_mut(*day).push(TimeRange {
            start: permanence.start,
            end: permanence.end,
        });
    }
    // A date range before the days selects the weeks; a permanence without an end runs
    // until the last year the syntax's readers agree on.
    let dates = match (permanence.valid_from, permanence.valid_until) {
        (None, None) => String::new(),
        (from, until) => format!(
            "{}-{} ",
            date(from.unwrap_or(today)),
            until.map_or_else(|| "2099 Dec 31".to_string(), date)
        ),
    };
    let mut rules = weekly_rules(&hours, &dates);
    if rules.is_empty() {
        return None;
    }
    rules.extend(closure_rules(closures, today));
    Some(rules.join("; "))
}

/// One rule per group of days with the same hours, each prefixed with `prefix`.
fn weekly_rules(hours: &WeeklyHours, prefix: &str) -> Vec<String> {
    let days: Vec<Vec<(u16, u16)>> = (0..7).map(|d| day_intervals(hours, d)).collect();
    let rendered: Vec<String> = days
        .iter()
        .map(|intervals| {
            intervals
                .iter()
                .map(|&(start, end)| format!("{}-{}", hhmm(start), hhmm(end)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let mut rules = Vec::new();
    let mut i = 0;
    while i < 7 {
        let mut j = i;
        while j + 1 < 7 && rendered[j + 1] == rendered[i] {
            j += 1;
        }
        if !rendered[i].is_empty() {
            let days = match j - i {
                0 => DAYS[i].to_string(),
                1 => format!("{},{}", DAYS[i], DAYS[j]),
                _ => format!("{}-{}", DAYS[i], DAYS[j]),
            };
            rules.push(format!("{prefix}{days} {}", rendered[i]));
        }
        i = j + 1;
    }
    rules
}

/// The closures that end on `today` or later, as dated `off` rules, first to come first.
fn closure_rules(closures: &[Closure], today: LocalDate) -> Vec<String> {
    let mut closures: Vec<&Closure> = closures.iter().filter(|c| c.last_day >= today).collect();
    closures.sort_by_key(|c| (c.first_day, c.last_day));
    closures
        .into_iter()
        .map(|c| {
            if c.first_day == c.last_day {
                format!("{} off", date(c.first_day))
            } else {
                format!("{}-{} off", date(c.first_day), date(c.last_day))
            }
        })
        .collect()
}

/// Day `d`'s open intervals (Monday = 0), in minutes within 0..=1440, sorted and merged:
/// the ranges that start that day up to midnight, and the after-midnight part of the
/// previous day's ranges that cross it.
fn day_intervals(hours: &WeeklyHours, d: usize) -> Vec<(u16, u16)> {
    let mut intervals = Vec::new();
    for range in hours.on(Weekday::ALL[d]) {
        let (start, end) = (
            range.start.minutes_since_midnight(),
            range.end.minutes_since_midnight(),
        );
        intervals.push((start, if end > start { end } else { DAY_MINUTES }));
    }
    for range in hours.on(Weekday::ALL[(d + 6) % 7]) {
        let end = range.end.minutes_since_midnight();
        if range.crosses_midnight() && end > 0 {
            intervals.push((0, end));
        }
    }
    intervals.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `2026 Dec 24`.
fn date(d: LocalDate) -> String {
    let month = usize::try_from(d.month() - 1).unwrap_or(0).min(11);
    format!("{:04} {} {:02}", d.year(), MONTHS[month], d.day())
}

#[cfg(test)]
mod tests {
    use commune_protocol::slots::{SiteSchedule, TimeRange};

    use super::*;

    fn range(start: &str, end: &str) -> TimeRange {
        TimeRange {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    fn today() -> LocalDate {
        "2026-12-01".parse().unwrap()
    }

    #[test]
    fn days_with_the_same_hours_are_grouped() {
        let site: SiteSchedule =
            toml::from_str(include_str!("../../../docs/examples/site-schedule.toml")).unwrap();
        assert_eq!(
            opening_hours(&site.opening_hours, &[], today()).unwrap(),
            "Mo 13:30-18:00; Tu,We 09:00-12:00,13:30-18:00; Th 13:30-18:00; Fr 09:00-12:00,13:30-17:00"
        );
        assert_eq!(
            opening_hours(
                &SiteSchedule::always_open("Europe/Paris").opening_hours,
                &[],
                today()
            )
            .unwrap(),
            "Mo-Su 00:00-24:00",
            "touching ranges are merged"
        );
        assert_eq!(opening_hours(&WeeklyHours::default(), &[], today()), None);
    }

    #[test]
    fn a_range_across_midnight_is_written_in_both_days_rules() {
        let mut hours = WeeklyHours::default();
        hours.friday.push(range("22:00", "02:00"));
        hours.saturday.push(range("09:00", "00:00"));
        hours.sunday.push(range("23:00", "01:30"));
        assert_eq!(
            opening_hours(&hours, &[], today()).unwrap(),
            "Mo 00:00-01:30; Fr 22:00-24:00; Sa 00:00-02:00,09:00-24:00; Su 23:00-24:00"
        );
    }

    #[test]
    fn closures_to_come_are_dated_off_rules_after_the_week() {
        let mut hours = WeeklyHours::default();
        hours.monday.push(range("09:00", "12:00"));
        let closure = |label: &str, first: &str, last: &str| Closure {
            label: label.into(),
            first_day: first.parse().unwrap(),
            last_day: last.parse().unwrap(),
        };
        let closures = [
            closure("Noël", "2026-12-24", "2026-12-26"),
            closure("Passé", "2026-11-01", "2026-11-02"),
            closure("Inventaire", "2026-12-07", "2026-12-07"),
        ];
        assert_eq!(
            opening_hours(&hours, &closures, today()).unwrap(),
            "Mo 09:00-12:00; 2026 Dec 07 off; 2026 Dec 24-2026 Dec 26 off"
        );
    }

    #[test]
    fn a_permanence_is_its_days_within_its_dates_then_the_closures() {
        let mut p = commune_protocol::slots::Permanence {
            id: "ecrivain".into(),
            name: "Écrivain public".into(),
            programme: commune_protocol::slots::Programme::EcrivainPublic,
            weekdays: vec![Weekday::Tuesday, Weekday::Wednesday],
            start: "14:00".parse().unwrap(),
            end: "17:00".parse().unwrap(),
            seats: vec![],
            mediator: String::new(),
            valid_from: None,
            valid_until: None,
        };
        let noel = Closure {
            label: "Noël".into(),
            first_day: "2026-12-24".parse().unwrap(),
            last_day: "2026-12-26".parse().unwrap(),
        };
        assert_eq!(
            permanence_hours(&p, std::slice::from_ref(&noel), today()).unwrap(),
            "Tu,We 14:00-17:00; 2026 Dec 24-2026 Dec 26 off"
        );
        p.valid_until = Some("2027-06-30".parse().unwrap());
        assert_eq!(
            permanence_hours(&p, &[], today()).unwrap(),
            "2026 Dec 01-2027 Jun 30 Tu,We 14:00-17:00"
        );
        p.valid_until = Some("2026-11-30".parse().unwrap());
        assert_eq!(permanence_hours(&p, &[], today()), None, "ended");
    }
}
