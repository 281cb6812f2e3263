//! Random sites and windows against the rules stated in the `slots` module documentation,
//! checked instant by instant with a reference that reads the local wall clock directly.

use super::*;
use crate::slots::{AdHocSlot, Closure, Programme, TimeRange, WeeklyHours};
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
                            seat_policy: Default::default(),
                            room_display: false,
                            closing_message: String::new(),
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
        toml::from_str(include_str!("../../../../docs/examples/site-schedule.toml"))
            .expect("docs/examples/site-schedule.toml parses");
    site.seats = vec!["ag-pc01".into(), "ag-pc02".into(), "ag-pc03".into()];
    site.validate().expect("and validates");
    // Tuesday 2026-11-24, 14:00–17:00 Paris: the writer's permanence on pc01.
    let slots = compile(&site, "ag-pc01", UtcMillis(1_795_474_800_000), 1).unwrap();
    assert!(slots
        .iter()
        .any(|s| s.kind == SlotKind::Supervised && s.end.0 - s.start.0 == 3 * 3_600_000));
}
