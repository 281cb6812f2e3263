//! A report's period, as the report page (`?du=…&au=…`) and the API (`?from=…&to=…`) ask
//! for it: inclusive local days at the site, the last day today by default, the first 29
//! days before the last by default (30 days), one year (366 days) at most.

use commune_protocol::UtcMillis;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The longest period, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// A resolved period: `[from, to)` in UTC and its first and last local days.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Days {
    pub(crate) from: UtcMillis,
    pub(crate) to: UtcMillis,
    pub(crate) first: Date,
    pub(crate) last: Date,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PeriodError {
    /// `text`, given for the first (`first == true`) or last day, is not a date.
    NotADate { first: bool, text: String },
    /// The last day is before the first, or the period is longer than a year.
    Bounds,
}

fn day_start(day: Date, tz: &TimeZone) -> Option<UtcMillis> {
    let zoned = day.to_zoned(tz.clone()).ok()?;
    Some(UtcMillis(zoned.timestamp().as_millisecond()))
}

/// The period from the days asked (empty or absent: the defaults), at a site in `zone`,
/// today being `today` there.
pub(crate) fn resolve(
    first: Option<&str>,
    last: Option<&str>,
    zone: &str,
    today: Date,
) -> Result<Days, PeriodError> {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let parse = |text: Option<&str>, is_first: bool| -> Result<Option<Date>, PeriodError> {
        match text.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s
                .parse::<Date>()
                .map(Some)
                .map_err(|_| PeriodError::NotADate {
                    first: is_first,
                    text: s.to_string(),
                }),
        }
    };
    let last = parse(last, false)?.unwrap_or(today);
    let first = parse(first, true)?
        .unwrap_or_else(|| last.checked_sub(jiff::Span::new().days(29)).unwrap_or(last));
    let from = day_start(first, &tz).ok_or(PeriodError::Bounds)?;
    let to = last
        .tomorrow()
        .ok()
        .and_then(|d| day_start(d, &tz))
        .ok_or(PeriodError::Bounds)?;
    if to <= from || to.0 - from.0 > MAX_PERIOD_DAYS * 86_400_000 {
        return Err(PeriodError::Bounds);
    }
    Ok(Days {
        from,
        to,
        first,
        last,
    })
}

/// Today at a site.
pub(crate) fn today(zone: &str) -> Date {
    jiff::Zoned::now()
        .with_time_zone(TimeZone::get(zone).unwrap_or(TimeZone::UTC))
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn thirty_days_by_default_and_a_year_at_most() {
        let today = d("2026-12-05");
        let p = resolve(None, None, "Europe/Paris", today).unwrap();
        assert_eq!((p.first, p.last), (d("2026-11-06"), today));
        // The first day follows the last one asked.
        let p = resolve(Some(""), Some("2026-03-31"), "Europe/Paris", today).unwrap();
        assert_eq!(p.first, d("2026-03-02"));
        // A leap year's 366 days pass; a day more does not.
        assert!(resolve(Some("2024-01-01"), Some("2024-12-31"), "UTC", today).is_ok());
        assert_eq!(
            resolve(Some("2024-01-01"), Some("2025-01-01"), "UTC", today),
            Err(PeriodError::Bounds)
        );
        assert_eq!(
            resolve(Some("2026-02-01"), Some("2026-01-01"), "UTC", today),
            Err(PeriodError::Bounds)
        );
        assert_eq!(
            resolve(Some("1/2/2026"), None, "UTC", today),
            Err(PeriodError::NotADate {
                first: true,
                text: "1/2/2026".into()
            })
        );
        // Local days: Paris midnight is 23:00 UTC in winter.
        let p = resolve(
            Some("2026-12-01"),
            Some("2026-12-01"),
            "Europe/Paris",
            today,
        )
        .unwrap();
        assert_eq!(p.to.0 - p.from.0, 86_400_000);
        assert_eq!(p.from.0 % 86_400_000, 23 * 3_600_000);
    }
}
