//! The compiler: one seat's slots over a window, from the site's rules, in UTC instants.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{FreeAccessRule, LocalDate, LocalTime, Permanence, SiteSchedule, SlotsError, Weekday};
use crate::messages::SlotKind;
use crate::schedule::{PermanenceRef, Schedule, Slot};
use crate::time::UtcMillis;

/// How many days ahead the controller compiles a seat's schedule by default.
pub const DEFAULT_DAYS: u32 = 14;

/// The longest window [`compile`] accepts, in days.
pub const MAX_DAYS: u32 = 366;

const DAY_MS: i64 = 86_400_000;

/// One seat's slots from `from` for `days` days of 24 hours (see [`DEFAULT_DAYS`]), following
/// the rules in the [module documentation](super).
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
/// [module documentation](super). Compiling `[a, c)` gives the same slots as compiling
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
        seat_policy: site.seat_policy,
        closing_message: site.closing_message.clone(),
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
    use crate::slots::fixtures::{ad_hoc, at, date, open_every_day, paris, permanence, range};
    use crate::slots::{Closure, Programme, DEFAULT_AD_HOC_NAME};

    const MINUTE_MS: i64 = 60_000;

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
}

#[cfg(test)]
mod properties;
