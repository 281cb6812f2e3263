//! A plausible past for a demonstration: a year of sessions, wipes, health and permanence
//! counters written through the store's own ingest path, so that every report and chart
//! shows something on a newcomer's first visit.
//!
//! For each seat of each site, over the local days before today, the generator follows
//! the seat's own compiled schedule (opening hours, permanences, closures): in free-access
//! time visitors come more often mid-morning and mid-afternoon, less at lunch, on
//! Saturdays and during the school holidays of Grenoble's zone A; permanences receive
//! people on their reserved seats and record their counters in La Coop's categories. Each
//! seat has a few offline days (no session, no health), and about one wipe in 300 does not
//! verify. Everything is drawn from a seeded generator: the same seed writes the same past.
//!
//! Events are numbered from 1 for each seat. An agent whose outbox numbered fewer events
//! continues after the controller's count ([`crate::store::Store::acked_seq`]), so write
//! the history before the seats first connect.

use std::collections::{BTreeMap, HashSet};

use commune_protocol::health::HealthSnapshot;
use commune_protocol::messages::{
    AgentEvent, EndReason, EventEnvelope, SessionEnded, SessionStarted, SlotKind, WipeCheck,
    WipeReport, WipeStep,
};
use commune_protocol::slots::compile_between;
use commune_protocol::UtcMillis;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::store::{CounterRecord, IngestBatch};
use crate::Controller;
use crate::ControllerError;

/// What the generator wrote for one site: the figures its report must show.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiteHistory {
    /// Sessions written.
    pub sessions: u64,
    /// Of which supervised.
    pub supervised: u64,
    /// Their total length, seconds.
    pub session_seconds: u64,
    /// People received, as the permanences' counters say.
    pub people: u64,
    /// Wipes that did not verify.
    pub wipe_failures: u64,
    /// Sessions per month (`YYYY-MM`, local).
    pub months: BTreeMap<String, u64>,
}

/// What the generator wrote, per site, and over which local days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct History {
    /// First local day written.
    pub first_day: String,
    /// Last local day written (the day before the one it ran).
    pub last_day: String,
    /// Per site.
    pub sites: BTreeMap<String, SiteHistory>,
}

/// School holidays of zone A (Grenoble), first and last day; quieter days.
const HOLIDAYS: &[(&str, &str)] = &[
    ("2024-12-21", "2025-01-05"),
    ("2025-02-22", "2025-03-09"),
    ("2025-04-19", "2025-05-04"),
    ("2025-07-05", "2025-08-31"),
    ("2025-10-18", "2025-11-02"),
    ("2025-12-20", "2026-01-04"),
    ("2026-02-07", "2026-02-22"),
    ("2026-04-04", "2026-04-19"),
    ("2026-07-04", "2026-08-31"),
    ("2026-10-17", "2026-11-01"),
    ("2026-12-19", "2027-01-03"),
    ("2027-02-06", "2027-02-21"),
    ("2027-04-03", "2027-04-18"),
    ("2027-07-03", "2027-08-31"),
];

fn in_holidays(day: Date) -> bool {
    HOLIDAYS.iter().any(|(a, b)| {
        matches!((a.parse::<Date>(), b.parse::<Date>()), (Ok(a), Ok(b)) if a <= day && day <= b)
    })
}

/// The chance that a visitor sits down in a quarter of an hour of free access.
fn visit_chance(local: &jiff::Zoned, holidays: bool) -> f64 {
    let hour = match local.hour() {
        0..=9 => 0.45,
        10..=11 => 0.85,
        12..=13 => 0.35,
        14..=16 => 0.8,
        _ => 0.5,
    };
    let day = match local.weekday() {
        jiff::civil::Weekday::Monday => 0.95,
        jiff::civil::Weekday::Tuesday => 0.85,
        jiff::civil::Weekday::Wednesday => 0.7,
        jiff::civil::Weekday::Thursday => 0.8,
        jiff::civil::Weekday::Friday => 0.75,
        _ => 0.55,
    };
    hour * day * if holidays { 0.55 } else { 1.0 }
}

/// Events written per transaction.
const CHUNK: usize = 20_000;

/// Writes `days` local days of past activity (ending yesterday) for every seat of `sites`,
/// following their stored schedules. Returns what it wrote.
pub async fn write_history(
    c: &Controller,
    sites: &[&str],
    days: u32,
    now: UtcMillis,
    seed: u64,
) -> Result<History, ControllerError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut history = History::default();
    let version = env!("CARGO_PKG_VERSION");
    for site in sites {
        let (model, _) = c.site_schedule(site).await?;
        let tz = TimeZone::get(&model.time_zone).unwrap_or(TimeZone::UTC);
        let today = jiff::Timestamp::from_millisecond(now.0)
            .map_err(|e| ControllerError::Config(e.to_string()))?
            .to_zoned(tz.clone())
            .date();
        let first = today
            .checked_sub(jiff::Span::new().days(i64::from(days)))
            .map_err(|e| ControllerError::Config(e.to_string()))?;
        let start = millis_of(first, &tz)?;
        let end = millis_of(today, &tz)?;
        history.first_day = first.to_string();
        history.last_day = today.yesterday().unwrap_or(today).to_string();
        let mut figures = SiteHistory::default();
        // Permanence occurrences: (permanence, local day) → sessions held.
        let mut occurrences: BTreeMap<(String, Date), u32> = BTreeMap::new();
        for seat in &model.seats {
            let offline: HashSet<i64> = (0..3)
                .map(|_| rng.random_range(0..i64::from(days.max(1))))
                .collect();
            let slots = compile_between(&model, seat, start, end)
                .map_err(|e| ControllerError::Config(e.to_string()))?;
            let mut events: Vec<EventEnvelope> = Vec::new();
            let mut health: Vec<(String, HealthSnapshot)> = Vec::new();
            let mut seq = 0u64;
            let mut push = |events: &mut Vec<EventEnvelope>, at: i64, event: AgentEvent| {
                seq += 1;
                events.push(EventEnvelope {
                    seq,
                    at: UtcMillis(at),
                    event,
                });
            };
            for slot in slots.iter().filter(|s| s.kind != SlotKind::Closed) {
                let mut t = slot.start.0;
                let mut next_health = slot.start.0 + 60_000;
                while t < slot.end.0 {
                    let local = jiff::Timestamp::from_millisecond(t)
                        .map_err(|e| ControllerError::Config(e.to_string()))?
                        .to_zoned(tz.clone());
                    let day = local.date();
                    let day_index = (day - first).get_days() as i64;
                    if offline.contains(&day_index) {
                        t += 15 * 60_000;
                        next_health = t;
                        continue;
                    }
                    while next_health <= t {
                        health.push((seat.clone(), snapshot(&mut rng, next_health, version)));
                        next_health += 3_600_000;
                    }
                    let supervised = slot.kind == SlotKind::Supervised;
                    let chance = if supervised {
                        0.7
                    } else {
                        visit_chance(&local, in_holidays(day))
                    };
                    if !rng.random_bool(chance.clamp(0.0, 1.0)) {
                        t += 15 * 60_000;
                        continue;
                    }
                    let begin = t + rng.random_range(0..5) * 60_000;
                    let limit = i64::from(slot.session_minutes.unwrap_or(45));
                    let minutes = if supervised {
                        rng.random_range(20..=55)
                    } else {
                        rng.random_range(8..=limit.max(9))
                    };
                    let finish = (begin + minutes * 60_000).min(slot.end.0);
                    if finish - begin < 5 * 60_000 {
                        break;
                    }
                    let session_id = format!("{:016x}", rng.random::<u64>());
                    let permanence = slot.permanence.as_ref().map(|p| p.id.clone());
                    push(
                        &mut events,
                        begin,
                        AgentEvent::SessionStarted(SessionStarted {
                            session_id: session_id.clone(),
                            slot_kind: slot.kind,
                            permanence_id: permanence.clone(),
                            with_ticket: !supervised && slot.ticket_required,
                        }),
                    );
                    let secs = ((finish - begin) / 1000) as u64;
                    push(
                        &mut events,
                        finish,
                        AgentEvent::SessionEnded(SessionEnded {
                            session_id: session_id.clone(),
                            reason: if !supervised && minutes >= limit {
                                EndReason::TimeUp
                            } else if finish == slot.end.0 {
                                EndReason::SlotEnded
                            } else {
                                EndReason::Visitor
                            },
                            duration_secs: secs,
                            documents_erased: rng.random_range(0..4),
                        }),
                    );
                    let verified = !rng.random_bool(1.0 / 300.0);
                    push(
                        &mut events,
                        finish + 2_500,
                        AgentEvent::WipeReport(wipe_report(&session_id, verified)),
                    );
                    figures.sessions += 1;
                    figures.session_seconds += secs;
                    figures.wipe_failures += u64::from(!verified);
                    *figures
                        .months
                        .entry(local.strftime("%Y-%m").to_string())
                        .or_default() += 1;
                    if supervised {
                        figures.supervised += 1;
                        if let Some(p) = permanence {
                            *occurrences.entry((p, day)).or_default() += 1;
                        }
                    }
                    // The next visitor a few minutes later.
                    t = finish + rng.random_range(2..20) * 60_000;
                }
            }
            for part in events.chunks(CHUNK) {
                c.store()
                    .ingest(
                        &[IngestBatch {
                            agent_id: seat.clone(),
                            events: part.to_vec(),
                        }],
                        now,
                    )
                    .await?;
            }
            for part in health.chunks(CHUNK) {
                c.store().ingest_health(part, now).await?;
            }
        }
        // Each permanence records its counters: the people it received (some without a
        // computer) and their procedures in La Coop's categories.
        let categories: Vec<&str> = crate::reports::coop_categories()
            .map(|(key, _)| *key)
            .collect();
        for ((permanence, day), sessions) in occurrences {
            let people = sessions + rng.random_range(0..3);
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for _ in 0..people {
                let key = categories[rng.random_range(0..categories.len())];
                *counts.entry(key).or_default() += 1;
            }
            let record = CounterRecord {
                site_id: site.to_string(),
                permanence,
                day: day.to_string(),
                day_start: millis_of(day, &tz)?,
                people,
                categories: counts
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                recorded_by: "demo".into(),
            };
            c.store().add_counters(&record, now).await?;
            figures.people += u64::from(people);
        }
        history.sites.insert(site.to_string(), figures);
    }
    Ok(history)
}

fn millis_of(day: Date, tz: &TimeZone) -> Result<UtcMillis, ControllerError> {
    day.to_zoned(tz.clone())
        .map(|z| UtcMillis(z.timestamp().as_millisecond()))
        .map_err(|e| ControllerError::Config(e.to_string()))
}

fn snapshot(rng: &mut StdRng, at: i64, version: &str) -> HealthSnapshot {
    HealthSnapshot {
        at: UtcMillis(at),
        cpu_percent: rng.random_range(3.0..45.0),
        load_average: [0.4, 0.5, 0.5],
        memory_used_bytes: rng.random_range(2_000_000_000..5_000_000_000),
        memory_total_bytes: 8_000_000_000,
        swap_used_bytes: 0,
        swap_total_bytes: 0,
        disks: Vec::new(),
        temperatures: Vec::new(),
        uptime_secs: 3_600,
        os: "Debian GNU/Linux 12".into(),
        kernel: "6.1.0".into(),
        agent_version: version.into(),
    }
}

fn wipe_report(session_id: &str, verified: bool) -> WipeReport {
    let step = |name: &str, count: u64| WipeStep {
        name: name.into(),
        duration_us: 40_000,
        count,
        ok: true,
        detail: None,
    };
    WipeReport {
        session_id: session_id.into(),
        verified,
        total_us: 900_000,
        steps: vec![
            step("kill", 14),
            step("unmount", 1),
            step("ipc", 2),
            step("files", 0),
        ],
        checks: vec![WipeCheck {
            name: "processes".into(),
            passed: verified,
            found: u64::from(!verified),
            method: "walk of /proc (history written by the demo)".into(),
            examined: 180,
        }],
        kernel: "6.1.0".into(),
        swap: "no swap configured".into(),
        handoffs: 0,
    }
}
