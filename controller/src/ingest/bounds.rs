//! What one seat may send: every string and list it sends capped, its timestamps kept near
//! the receive time, session lengths capped, and its rates metered. Pure: the receive time
//! and the instant come in as arguments; the ingestor keeps the meter.
//!
//! A seat whose key was stolen can send anything a frame holds. These bounds make what it
//! costs the controller (rows, bytes, transactions) a function of the configuration, not of
//! the attacker, while an honest seat never notices them.

use std::collections::HashMap;
use std::time::Duration;

use commune_protocol::health::{HealthSnapshot, Inventory};
use commune_protocol::messages::{AgentEvent, EventEnvelope};
use commune_protocol::UtcMillis;
use tokio::time::Instant;

use crate::config::SeatLimits;

/// The longest session the controller believes, whatever a seat says: a day. Reports and
/// the purge's sums rely on it; stored rows older than this bound are clamped when read.
pub(crate) const MAX_SESSION_SECS: u64 = 86_400;

/// An event counts once per started KiB of its stored form against the seat's rate.
const EVENT_TOKEN_BYTES: usize = 1024;

/// A limit some seat data ran into: the `limit` label of `commune_seat_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Limit {
    /// A string longer than its cap, cut on a character boundary.
    TextTruncated,
    /// Control characters removed from a string (a NUL byte fails PostgreSQL's TEXT).
    ControlRemoved,
    /// A list longer than its cap; the rest is dropped.
    ListTruncated,
    /// A timestamp outside the receive time's window.
    TimestampClamped,
    /// A session length over [`MAX_SESSION_SECS`].
    DurationClamped,
    /// A number that is not finite or out of range (a temperature sensor saying NaN is
    /// dropped).
    NumberSanitized,
    /// A health snapshot sooner than the seat's interval allows: dropped.
    HealthRate,
    /// An inventory sooner than `inventory_min_interval_secs`: dropped.
    InventoryRate,
    /// A batch of events held back until the seat's rate allowed it.
    EventsDelayed,
    /// A call for a mediator kept off the seat map (see [`crate::help`]).
    Help(crate::help::HelpLimit),
}

impl Limit {
    /// The metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Limit::TextTruncated => "text_truncated",
            Limit::ControlRemoved => "control_removed",
            Limit::ListTruncated => "list_truncated",
            Limit::TimestampClamped => "timestamp_clamped",
            Limit::DurationClamped => "duration_clamped",
            Limit::NumberSanitized => "number_sanitized",
            Limit::HealthRate => "health_rate",
            Limit::InventoryRate => "inventory_rate",
            Limit::EventsDelayed => "events_delayed",
            Limit::Help(limit) => limit.as_str(),
        }
    }
}

/// What the bounds changed, by limit and message (`health`, `inventory`, an event kind):
/// both closed sets, so the metric's series are bounded.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tally(Vec<(Limit, &'static str, u64)>);

impl Tally {
    pub(crate) fn add(&mut self, limit: Limit, message: &'static str, n: u64) {
        if n == 0 {
            return;
        }
        match self
            .0
            .iter_mut()
            .find(|(l, m, _)| *l == limit && *m == message)
        {
            Some(entry) => entry.2 += n,
            None => self.0.push((limit, message, n)),
        }
    }

    /// How many times `limit` was applied, over every message.
    #[cfg(test)]
    fn count(&self, limit: Limit) -> u64 {
        self.0
            .iter()
            .filter(|(l, _, _)| *l == limit)
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Adds every count to the controller's metrics.
    pub(crate) fn record(&self, metrics: &crate::metrics::Metrics) {
        for (limit, message, n) in &self.0 {
            metrics.seat_limited(limit.as_str(), message, *n);
        }
    }
}

/// Cuts `s` to at most `max` bytes, on a character boundary. True if it was cut.
fn cut(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}

/// The longest agent version stored from a `Hello` (the handshake is not metered).
const VERSION_MAX_BYTES: usize = 256;

/// An agent version a seat announced, as stored: one line, 256 bytes at most.
pub(crate) fn version(announced: &str) -> String {
    let mut v: String = announced.chars().filter(|c| !c.is_control()).collect();
    cut(&mut v, VERSION_MAX_BYTES);
    v
}

/// Applies the caps of one message, counting what they change.
struct Caps<'a> {
    limits: &'a SeatLimits,
    message: &'static str,
    tally: &'a mut Tally,
}

impl Caps<'_> {
    fn string(&mut self, s: &mut String, max: usize, keep: fn(char) -> bool) {
        if s.chars().any(|c| c.is_control() && !keep(c)) {
            s.retain(|c| !c.is_control() || keep(c));
            self.tally.add(Limit::ControlRemoved, self.message, 1);
        }
        if cut(s, max) {
            self.tally.add(Limit::TextTruncated, self.message, 1);
        }
    }

    /// An identifier, name or version: one line, `name_max_bytes` at most.
    fn name(&mut self, s: &mut String) {
        self.string(s, self.limits.name_max_bytes, |_| false);
    }

    fn opt_name(&mut self, s: &mut Option<String>) {
        if let Some(s) = s {
            self.name(s);
        }
    }

    /// A sentence: line breaks and tabs kept, `text_max_bytes` at most.
    fn text(&mut self, s: &mut String) {
        self.string(s, self.limits.text_max_bytes, |c| c == '\n' || c == '\t');
    }

    fn list<T>(&mut self, items: &mut Vec<T>) {
        if items.len() > self.limits.list_max_items {
            items.truncate(self.limits.list_max_items);
            self.tally.add(Limit::ListTruncated, self.message, 1);
        }
    }

    /// A finite number within `[min, max]`; anything else becomes the nearest bound (0 for
    /// NaN).
    fn number(&mut self, x: f64, min: f64, max: f64) -> f64 {
        let kept = if x.is_nan() { 0.0 } else { x.clamp(min, max) };
        if kept != x {
            self.tally.add(Limit::NumberSanitized, self.message, 1);
        }
        kept
    }

    fn time(&mut self, at: &mut UtcMillis, earliest: UtcMillis, latest: UtcMillis) {
        let kept = (*at).clamp(earliest, latest);
        if kept != *at {
            *at = kept;
            self.tally.add(Limit::TimestampClamped, self.message, 1);
        }
    }
}

fn skew_secs(limits: &SeatLimits) -> i64 {
    i64::try_from(limits.clock_skew_secs).unwrap_or(i64::MAX)
}

/// The window a health snapshot's or inventory's time must fall in: they are sent as soon
/// as they are taken, so only clock skew separates them from the receive time.
fn live_window(received: UtcMillis, limits: &SeatLimits) -> (UtcMillis, UtcMillis) {
    let skew = skew_secs(limits);
    (received.plus_secs(-skew), received.plus_secs(skew))
}

/// Caps a health snapshot (strings, lists, numbers, its time).
pub(crate) fn clamp_health(
    h: &mut HealthSnapshot,
    received: UtcMillis,
    limits: &SeatLimits,
    tally: &mut Tally,
) {
    let mut caps = Caps {
        limits,
        message: "health",
        tally,
    };
    let (earliest, latest) = live_window(received, limits);
    caps.time(&mut h.at, earliest, latest);
    h.cpu_percent = caps.number(f64::from(h.cpu_percent), 0.0, 100.0) as f32;
    for load in &mut h.load_average {
        *load = caps.number(*load, 0.0, 1e6);
    }
    caps.list(&mut h.disks);
    for d in &mut h.disks {
        caps.name(&mut d.mount_point);
        caps.name(&mut d.file_system);
    }
    // A sensor that cannot say a temperature says nothing worth keeping.
    let sensors = h.temperatures.len();
    h.temperatures.retain(|t| t.celsius.is_finite());
    let unreadable = (sensors - h.temperatures.len()) as u64;
    caps.tally
        .add(Limit::NumberSanitized, caps.message, unreadable);
    caps.list(&mut h.temperatures);
    for t in &mut h.temperatures {
        caps.name(&mut t.label);
    }
    caps.name(&mut h.os);
    caps.name(&mut h.kernel);
    caps.name(&mut h.agent_version);
}

/// Caps an inventory (strings, lists, its time).
pub(crate) fn clamp_inventory(
    inv: &mut Inventory,
    received: UtcMillis,
    limits: &SeatLimits,
    tally: &mut Tally,
) {
    let mut caps = Caps {
        limits,
        message: "inventory",
        tally,
    };
    let (earliest, latest) = live_window(received, limits);
    caps.time(&mut inv.at, earliest, latest);
    caps.name(&mut inv.hostname);
    caps.opt_name(&mut inv.dmi_serial);
    caps.opt_name(&mut inv.dmi_vendor);
    caps.opt_name(&mut inv.dmi_product);
    caps.list(&mut inv.mac_addresses);
    for mac in &mut inv.mac_addresses {
        caps.name(mac);
    }
    caps.name(&mut inv.cpu_model);
    caps.list(&mut inv.disks);
    for d in &mut inv.disks {
        caps.name(&mut d.name);
        caps.name(&mut d.kind);
    }
    caps.opt_name(&mut inv.asset_tag);
    caps.opt_name(&mut inv.funding_line);
    caps.name(&mut inv.os);
    caps.name(&mut inv.kernel);
    caps.name(&mut inv.agent_version);
}

/// The most pages one `PagesPrinted` event counts (a seat's own claim, in the reports).
const MAX_PAGES_PER_EVENT: u32 = 10_000;

/// The stored name of an event kind (the metric's `message` label).
fn event_label(e: &AgentEvent) -> &'static str {
    match e {
        AgentEvent::SessionStarted(_) => "session_started",
        AgentEvent::SessionEnded(_) => "session_ended",
        AgentEvent::WipeReport(_) => "wipe_report",
        AgentEvent::WarningShown(_) => "warning_shown",
        AgentEvent::TicketUsed(_) => "ticket_used",
        AgentEvent::CommandResult(_) => "command_result",
        AgentEvent::Alert(_) => "alert",
        AgentEvent::DevicesChecked(_) => "devices_checked",
        AgentEvent::PowerChanged(_) => "power_changed",
        AgentEvent::HelpCalled(_) => "help_called",
        AgentEvent::HelpCancelled(_) => "help_cancelled",
        AgentEvent::PrintWaiting(_) => "print_waiting",
        AgentEvent::PrintWaitOver(_) => "print_wait_over",
        AgentEvent::PagesPrinted(_) => "pages_printed",
        AgentEvent::Unknown => "unknown",
    }
}

/// Caps a batch of events: strings, lists, session lengths, and times no later than the
/// receive time plus the clock skew. Earlier times are kept back to `max_backlog_days`: a
/// seat back from a network cut sends days of events late, and they happened when they
/// say; a time older than that is a clock reset (a dead CMOS battery), and would have the
/// events purged at once and reported on a false day.
pub(crate) fn clamp_events(
    events: &mut [EventEnvelope],
    received: UtcMillis,
    limits: &SeatLimits,
    tally: &mut Tally,
) {
    let latest = received.plus_secs(skew_secs(limits));
    let earliest = received.plus_secs(-i64::from(limits.max_backlog_days).saturating_mul(86_400));
    for e in events {
        let mut caps = Caps {
            limits,
            message: event_label(&e.event),
            tally,
        };
        caps.time(&mut e.at, earliest, latest);
        match &mut e.event {
            AgentEvent::SessionStarted(s) => {
                caps.name(&mut s.session_id);
                caps.opt_name(&mut s.permanence_id);
            }
            AgentEvent::SessionEnded(s) => {
                caps.name(&mut s.session_id);
                if s.duration_secs > MAX_SESSION_SECS {
                    s.duration_secs = MAX_SESSION_SECS;
                    caps.tally.add(Limit::DurationClamped, caps.message, 1);
                }
            }
            AgentEvent::WipeReport(r) => {
                caps.name(&mut r.session_id);
                caps.list(&mut r.steps);
                for step in &mut r.steps {
                    caps.name(&mut step.name);
                    if let Some(detail) = &mut step.detail {
                        caps.text(detail);
                    }
                }
                caps.list(&mut r.checks);
                for check in &mut r.checks {
                    caps.name(&mut check.name);
                    caps.text(&mut check.method);
                }
                caps.name(&mut r.kernel);
                caps.name(&mut r.swap);
            }
            AgentEvent::WarningShown(w) => caps.name(&mut w.session_id),
            AgentEvent::TicketUsed(t) => {
                caps.name(&mut t.ticket_hash);
                caps.name(&mut t.session_id);
            }
            AgentEvent::CommandResult(r) => {
                caps.name(&mut r.command_id);
                caps.text(&mut r.detail);
            }
            AgentEvent::Alert(a) => caps.text(&mut a.message),
            AgentEvent::DevicesChecked(_) | AgentEvent::PowerChanged(_) => {}
            AgentEvent::HelpCalled(h) => {
                caps.name(&mut h.call_id);
                caps.opt_name(&mut h.session_id);
            }
            AgentEvent::HelpCancelled(h) => caps.name(&mut h.call_id),
            AgentEvent::PrintWaiting(_) | AgentEvent::PrintWaitOver(_) => {}
            // A seat's claim of pages counts in the reports: no more than a printer could
            // print in the event's session or day.
            AgentEvent::PagesPrinted(p) => {
                p.pages = p.pages.min(MAX_PAGES_PER_EVENT);
            }
            AgentEvent::Unknown => {}
        }
    }
}

/// What a batch of (capped) events costs against the seat's rate: one per event, and one
/// more per started KiB past the first of each event's stored form.
pub(crate) fn events_cost(events: &[EventEnvelope]) -> u64 {
    events
        .iter()
        .map(|e| {
            let bytes = serde_json::to_vec(&e.event).map(|v| v.len()).unwrap_or(0);
            bytes.div_ceil(EVENT_TOKEN_BYTES).max(1) as u64
        })
        .sum()
}

/// One seat's rates, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rates {
    /// Shortest time between two health snapshots kept.
    pub(crate) health_spacing: Duration,
    /// Shortest time between two inventories kept.
    pub(crate) inventory_spacing: Duration,
    /// Event tokens earned per second.
    pub(crate) events_per_sec: f64,
    /// Most event tokens held.
    pub(crate) events_burst: f64,
}

impl Rates {
    /// The rates `limits` set for seats sending health every `health_interval_secs`.
    pub(crate) fn new(limits: &SeatLimits, health_interval_secs: u32) -> Self {
        let kept = 100 - u64::from(limits.health_slack_percent.min(100));
        Rates {
            health_spacing: Duration::from_millis(
                u64::from(health_interval_secs).saturating_mul(10 * kept),
            ),
            inventory_spacing: Duration::from_secs(limits.inventory_min_interval_secs),
            // At least one a minute: a zero would hold a seat's events back for ever.
            events_per_sec: f64::from(limits.events_per_minute.max(1)) / 60.0,
            events_burst: f64::from(limits.events_burst.max(1)),
        }
    }

    /// How long a seat's state must be kept: until its bucket is full again and its
    /// spacings have passed. After that, forgetting it changes nothing.
    fn memory(&self) -> Duration {
        let refill = Duration::from_secs_f64(
            (self.events_burst / self.events_per_sec).min(Duration::MAX.as_secs_f64() / 2.0),
        );
        refill.max(self.health_spacing).max(self.inventory_spacing)
    }
}

#[derive(Debug)]
struct SeatMeter {
    tokens: f64,
    refilled: Instant,
    last_health: Option<Instant>,
    last_inventory: Option<Instant>,
    forget_after: Instant,
}

/// The rate state of every seat heard from lately: an event token bucket (sized by
/// `events_burst`, refilled at `events_per_minute`) and the time of the last health
/// snapshot and inventory kept. Seats whose state no longer matters are forgotten, so its
/// size follows the seats active lately, not every seat ever heard from.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    seats: HashMap<String, SeatMeter>,
}

impl Meter {
    fn seat(&mut self, agent_id: &str, rates: &Rates, now: Instant) -> &mut SeatMeter {
        let seat = self
            .seats
            .entry(agent_id.to_string())
            .or_insert_with(|| SeatMeter {
                tokens: rates.events_burst,
                refilled: now,
                last_health: None,
                last_inventory: None,
                forget_after: now,
            });
        let elapsed = now.saturating_duration_since(seat.refilled).as_secs_f64();
        seat.tokens = (seat.tokens + elapsed * rates.events_per_sec).min(rates.events_burst);
        seat.refilled = now;
        seat.forget_after = seat.forget_after.max(now + rates.memory());
        seat
    }

    /// Takes `cost` event tokens from the seat: `Ok` if its events may be stored now,
    /// otherwise the instant they may. A batch larger than the bucket goes through once the
    /// bucket is full, and the seat then owes the difference.
    pub(crate) fn events(
        &mut self,
        agent_id: &str,
        cost: u64,
        rates: &Rates,
        now: Instant,
    ) -> Result<(), Instant> {
        let seat = self.seat(agent_id, rates, now);
        let cost = cost as f64;
        let needed = cost.min(rates.events_burst);
        if seat.tokens >= needed {
            seat.tokens -= cost;
            return Ok(());
        }
        let wait = (needed - seat.tokens) / rates.events_per_sec;
        // Rounded up to the millisecond, so the tokens are there when the time comes.
        Err(now + Duration::from_millis((wait * 1000.0).ceil().min(1e15) as u64))
    }

    /// Whether a health snapshot from the seat is kept (at most one per spacing).
    pub(crate) fn health(&mut self, agent_id: &str, rates: &Rates, now: Instant) -> bool {
        let seat = self.seat(agent_id, rates, now);
        let due = seat
            .last_health
            .is_none_or(|last| now.saturating_duration_since(last) >= rates.health_spacing);
        if due {
            seat.last_health = Some(now);
        }
        due
    }

    /// Whether an inventory from the seat is kept (at most one per spacing).
    pub(crate) fn inventory(&mut self, agent_id: &str, rates: &Rates, now: Instant) -> bool {
        let seat = self.seat(agent_id, rates, now);
        let due = seat
            .last_inventory
            .is_none_or(|last| now.saturating_duration_since(last) >= rates.inventory_spacing);
        if due {
            seat.last_inventory = Some(now);
        }
        due
    }

    /// Forgets the seats whose state would no longer change a decision.
    pub(crate) fn forget_idle(&mut self, now: Instant) {
        self.seats.retain(|_, s| s.forget_after > now);
    }

    /// Seats remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.seats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::health::{DiskUsage, Temperature};
    use commune_protocol::messages::{
        Alert, AlertKind, EndReason, SessionEnded, WipeReport, WipeStep,
    };

    const RECEIVED: UtcMillis = UtcMillis(1_795_183_200_000); // 2026-11-20T14:00:00Z

    fn limits() -> SeatLimits {
        SeatLimits::default()
    }

    fn health(at: UtcMillis) -> HealthSnapshot {
        HealthSnapshot {
            at,
            cpu_percent: 5.0,
            load_average: [0.1; 3],
            memory_used_bytes: 1,
            memory_total_bytes: 2,
            swap_used_bytes: 0,
            swap_total_bytes: 0,
            disks: vec![],
            temperatures: vec![],
            uptime_secs: 1,
            os: "Debian 12".into(),
            kernel: "6.1".into(),
            agent_version: "0.1.0".into(),
        }
    }

    fn envelope(at: UtcMillis, event: AgentEvent) -> EventEnvelope {
        EventEnvelope { seq: 1, at, event }
    }

    #[test]
    fn strings_are_cut_on_a_character_boundary() {
        let mut s = "é".repeat(10); // 20 bytes
        assert!(cut(&mut s, 5));
        assert_eq!(s, "éé");
        let mut short = String::from("abc");
        assert!(!cut(&mut short, 3));
        assert_eq!(short, "abc");
    }

    #[test]
    fn an_honest_health_snapshot_is_left_alone() {
        let mut h = health(RECEIVED.plus_secs(-2));
        h.disks.push(DiskUsage {
            mount_point: "/".into(),
            file_system: "ext4".into(),
            total_bytes: 10,
            available_bytes: 5,
        });
        let before = h.clone();
        let mut tally = Tally::default();
        clamp_health(&mut h, RECEIVED, &limits(), &mut tally);
        assert_eq!(h, before);
        assert_eq!(tally, Tally::default());
    }

    #[test]
    fn a_hostile_health_snapshot_is_capped() {
        let mut h = health(UtcMillis(i64::MAX));
        h.os = format!("Debian\0{}", "x".repeat(100_000));
        h.cpu_percent = f32::NAN;
        h.load_average = [f64::INFINITY, -1.0, 2.0];
        h.disks = (0..1000)
            .map(|i| DiskUsage {
                mount_point: format!("/m{i}"),
                file_system: "ext4".into(),
                total_bytes: u64::MAX,
                available_bytes: 0,
            })
            .collect();
        h.temperatures = vec![
            Temperature {
                label: "cpu".into(),
                celsius: f32::NAN,
            },
            Temperature {
                label: "gpu".into(),
                celsius: 50.0,
            },
        ];
        let mut tally = Tally::default();
        clamp_health(&mut h, RECEIVED, &limits(), &mut tally);
        assert_eq!(h.at, RECEIVED.plus_secs(600));
        assert!(
            h.os.starts_with("Debianxxx") && h.os.len() == 256,
            "{}",
            h.os.len()
        );
        assert_eq!(h.cpu_percent, 0.0);
        assert_eq!(h.load_average, [1e6, 0.0, 2.0]);
        assert_eq!(h.disks.len(), 64);
        assert_eq!(h.temperatures.len(), 1);
        assert_eq!(tally.count(Limit::TimestampClamped), 1);
        assert_eq!(tally.count(Limit::ControlRemoved), 1);
        assert_eq!(tally.count(Limit::TextTruncated), 1);
        assert_eq!(tally.count(Limit::ListTruncated), 1);
        assert_eq!(tally.count(Limit::NumberSanitized), 4);
        // A clock behind by more than the skew is clamped too: health is never queued.
        let mut late = health(RECEIVED.plus_secs(-3600));
        clamp_health(&mut late, RECEIVED, &limits(), &mut tally);
        assert_eq!(late.at, RECEIVED.plus_secs(-600));
    }

    #[test]
    fn inventories_are_capped() {
        let mut inv = Inventory {
            at: RECEIVED,
            hostname: "pc\n".repeat(1000),
            dmi_serial: Some("s".repeat(300)),
            dmi_vendor: None,
            dmi_product: None,
            mac_addresses: vec!["00:11:22:33:44:55".into(); 10_000],
            cpu_model: "cpu".into(),
            cpu_count: 4,
            memory_total_bytes: 1,
            disks: vec![],
            asset_tag: Some("é".repeat(200)),
            funding_line: None,
            os: "os".into(),
            kernel: "k".into(),
            agent_version: "v".into(),
        };
        let mut tally = Tally::default();
        clamp_inventory(&mut inv, RECEIVED, &limits(), &mut tally);
        assert_eq!(inv.hostname, "pc".repeat(128));
        assert_eq!(inv.dmi_serial.as_deref().map(str::len), Some(256));
        assert_eq!(inv.asset_tag.as_deref(), Some("é".repeat(128).as_str()));
        assert_eq!(inv.mac_addresses.len(), 64);
    }

    #[test]
    fn event_times_may_be_late_but_not_ahead() {
        let days_ago = RECEIVED.plus_secs(-3 * 86_400);
        let mut events = vec![
            envelope(RECEIVED.plus_secs(100 * 365 * 86_400), AgentEvent::Unknown),
            envelope(days_ago, AgentEvent::Unknown),
            envelope(UtcMillis(i64::MIN), AgentEvent::Unknown),
            envelope(RECEIVED.plus_secs(599), AgentEvent::Unknown),
        ];
        let mut tally = Tally::default();
        clamp_events(&mut events, RECEIVED, &limits(), &mut tally);
        let times: Vec<UtcMillis> = events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            vec![
                RECEIVED.plus_secs(600),
                days_ago,
                RECEIVED.plus_secs(-180 * 86_400),
                RECEIVED.plus_secs(599)
            ]
        );
        assert_eq!(tally.count(Limit::TimestampClamped), 2);
    }

    #[test]
    fn session_lengths_are_at_most_a_day_and_texts_are_capped() {
        let mut events = vec![
            envelope(
                RECEIVED,
                AgentEvent::SessionEnded(SessionEnded {
                    session_id: "s".repeat(10_000),
                    reason: EndReason::Visitor,
                    duration_secs: u64::MAX,
                    documents_erased: 0,
                }),
            ),
            envelope(
                RECEIVED,
                AgentEvent::Alert(Alert {
                    kind: AlertKind::DiskFull,
                    message: format!("line one\nline two\0{}", "z".repeat(5000)),
                }),
            ),
            envelope(
                RECEIVED,
                AgentEvent::WipeReport(WipeReport {
                    session_id: "s1".into(),
                    verified: true,
                    total_us: u64::MAX,
                    steps: vec![
                        WipeStep {
                            name: "kill".into(),
                            duration_us: 1,
                            count: 1,
                            ok: true,
                            detail: Some("d".repeat(2000)),
                        };
                        500
                    ],
                    checks: vec![],
                    kernel: String::new(),
                    swap: String::new(),
                    handoffs: 0,
                }),
            ),
        ];
        let mut tally = Tally::default();
        clamp_events(&mut events, RECEIVED, &limits(), &mut tally);
        match &events[0].event {
            AgentEvent::SessionEnded(s) => {
                assert_eq!(s.duration_secs, MAX_SESSION_SECS);
                assert_eq!(s.session_id.len(), 256);
            }
            other => panic!("{other:?}"),
        }
        match &events[1].event {
            AgentEvent::Alert(a) => {
                assert!(a.message.starts_with("line one\nline twozz"));
                assert_eq!(a.message.len(), 1024);
            }
            other => panic!("{other:?}"),
        }
        match &events[2].event {
            AgentEvent::WipeReport(r) => {
                assert_eq!(r.steps.len(), 64);
                assert!(r
                    .steps
                    .iter()
                    .all(|s| s.detail.as_deref().map(str::len) == Some(1024)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(tally.count(Limit::DurationClamped), 1);
        assert_eq!(tally.count(Limit::ListTruncated), 1);
        // The wipe report is still large: it counts once per started KiB.
        let cost = events_cost(&events[2..]);
        assert!((64..=200).contains(&cost), "{cost}");
        assert_eq!(events_cost(&events[..1]), 1);
    }

    #[test]
    fn health_is_kept_at_most_once_per_interval_minus_the_slack() {
        let rates = Rates::new(&limits(), 60);
        assert_eq!(rates.health_spacing, Duration::from_secs(45));
        let mut meter = Meter::default();
        let t0 = Instant::now();
        assert!(meter.health("a", &rates, t0));
        assert!(!meter.health("a", &rates, t0 + Duration::from_secs(10)));
        assert!(!meter.health("a", &rates, t0 + Duration::from_secs(44)));
        // Another seat has its own allowance.
        assert!(meter.health("b", &rates, t0 + Duration::from_secs(44)));
        assert!(meter.health("a", &rates, t0 + Duration::from_secs(45)));
        // An agent's interval that fires a little early (timer jitter) is still kept.
        assert!(meter.health("a", &rates, t0 + Duration::from_secs(45 + 58)));
        assert!(meter.inventory("a", &rates, t0));
        assert!(!meter.inventory("a", &rates, t0 + Duration::from_secs(59)));
        assert!(meter.inventory("a", &rates, t0 + Duration::from_secs(60)));
    }

    #[test]
    fn events_past_the_burst_wait_for_the_rate() {
        let limits = SeatLimits {
            events_per_minute: 600, // 10 a second
            events_burst: 100,
            ..SeatLimits::default()
        };
        let rates = Rates::new(&limits, 60);
        let mut meter = Meter::default();
        let t0 = Instant::now();
        // A backlog up to the burst goes at once.
        assert_eq!(meter.events("a", 60, &rates, t0), Ok(()));
        assert_eq!(meter.events("a", 40, &rates, t0), Ok(()));
        // The next 50 must wait 5 s; the other seat is not affected.
        assert_eq!(
            meter.events("a", 50, &rates, t0),
            Err(t0 + Duration::from_secs(5))
        );
        assert_eq!(meter.events("b", 100, &rates, t0), Ok(()));
        assert_eq!(
            meter.events("a", 50, &rates, t0 + Duration::from_secs(5)),
            Ok(())
        );
        // A batch larger than the bucket passes once the bucket is full, then is owed.
        let full = t0 + Duration::from_secs(15);
        assert_eq!(meter.events("a", 250, &rates, full), Ok(()));
        assert_eq!(
            meter.events("a", 1, &rates, full),
            Err(full + Duration::from_millis(15_100))
        );
    }

    #[test]
    fn idle_seats_are_forgotten_once_it_changes_nothing() {
        let limits = SeatLimits {
            events_per_minute: 600,
            events_burst: 100,
            ..SeatLimits::default()
        };
        let rates = Rates::new(&limits, 60);
        let mut meter = Meter::default();
        let t0 = Instant::now();
        assert!(meter.health("a", &rates, t0));
        assert!(meter.events("b", 100, &rates, t0).is_ok());
        meter.forget_idle(t0 + Duration::from_secs(30));
        assert_eq!(meter.len(), 2);
        // 60 s: the inventory spacing, the longest here.
        meter.forget_idle(t0 + Duration::from_secs(61));
        assert_eq!(meter.len(), 0);
    }
}
