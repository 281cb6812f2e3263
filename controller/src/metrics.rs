//! Prometheus metrics. Labels are closed sets of reasons, never agent ids or addresses.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A rejection reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The reason.
    pub reason: String,
}

/// A seat state label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    /// `offline`, `ready`, `in_session`, `supervised`, `wiping`, `closed`, `blocked`…
    pub state: String,
}

/// A site and a seat state (sites are the city's own closed list, never a seat's id).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteStateLabel {
    /// The site's id.
    pub site: String,
    /// As [`StateLabel::state`].
    pub state: String,
}

/// What became of a document sent to a phone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `stored`, `downloaded`, `expired` or `refused`.
    pub outcome: String,
}

/// A wipe result label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// `verified` or `failed`.
    pub result: String,
}

/// What a seat sent past one of its limits, and in which message.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeatLimitLabel {
    /// `text_truncated`, `control_removed`, `list_truncated`, `timestamp_clamped`,
    /// `duration_clamped`, `number_sanitized`, `health_rate`, `inventory_rate`,
    /// `events_delayed`.
    pub limit: String,
    /// `health`, `inventory` or an event kind (`session_ended`, `wipe_report`…).
    pub message: String,
}

/// The controller's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Agents with an open, authenticated connection.
    pub agents_connected: Gauge,
    /// Enrolled, non-revoked agents.
    pub agents_enrolled: Gauge,
    /// Handshakes and connections refused, by reason.
    pub handshakes_rejected: Family<ReasonLabel, Counter>,
    /// Frames refused, by reason.
    pub frames_rejected: Family<ReasonLabel, Counter>,
    /// Successful enrollments.
    pub enrollments: Counter,
    /// Agents that connected with a renewed certificate (the previous one now refused).
    pub certificates_renewed: Counter,
    /// Health snapshots stored.
    pub health_snapshots: Counter,
    /// Events stored (duplicates not counted).
    pub events_received: Counter,
    /// Enrolled seats by state (connected ones by the state they report).
    pub seats: Family<StateLabel, Gauge>,
    /// The same, per site.
    pub site_seats: Family<SiteStateLabel, Gauge>,
    /// Sessions ended, by end reason.
    pub sessions_ended: Family<ReasonLabel, Counter>,
    /// Wipes reported, by result.
    pub wipes: Family<ResultLabel, Counter>,
    /// Seat data cut, clamped, dropped or slowed down by the per-seat limits.
    pub seat_limited: Family<SeatLimitLabel, Counter>,
    /// Staff logins refused, by reason (`wrong`, `too_many`, `busy`, `too_long`).
    pub logins_refused: Family<ReasonLabel, Counter>,
    /// Frames not queued to a seat, by reason (`full`: the seat was disconnected).
    pub pushes_failed: Family<ReasonLabel, Counter>,
    /// Wake-on-LAN magic packets sent.
    pub wake_packets: Counter,
    /// Documents for phones, by what became of them.
    pub handoffs: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("commune");
        let agents_connected = Gauge::default();
        let agents_enrolled = Gauge::default();
        let handshakes_rejected = Family::<ReasonLabel, Counter>::default();
        let frames_rejected = Family::<ReasonLabel, Counter>::default();
        let enrollments = Counter::default();
        let certificates_renewed = Counter::default();
        registry.register(
            "certificates_renewed",
            "Agents that connected with a renewed certificate (the previous one is refused from then on)",
            certificates_renewed.clone(),
        );
        let health_snapshots = Counter::default();
        let events_received = Counter::default();
        let seats = Family::<StateLabel, Gauge>::default();
        let site_seats = Family::<SiteStateLabel, Gauge>::default();
        let sessions_ended = Family::<ReasonLabel, Counter>::default();
        let wipes = Family::<ResultLabel, Counter>::default();
        let seat_limited = Family::<SeatLimitLabel, Counter>::default();
        registry.register(
            "seat_limited",
            "Seat data cut, clamped, dropped or slowed down by the per-seat limits, by limit and message",
            seat_limited.clone(),
        );
        let logins_refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "logins_refused",
            "Staff logins refused, by reason (wrong, too_many, busy, too_long)",
            logins_refused.clone(),
        );
        let wake_packets = Counter::default();
        registry.register(
            "wake_packets",
            "Wake-on-LAN magic packets sent (before an opening, or by staff)",
            wake_packets.clone(),
        );
        let handoffs = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "handoffs",
            "Documents sent to phones: stored, downloaded, expired, refused (sizes and names never)",
            handoffs.clone(),
        );
        let pushes_failed = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "pushes_failed",
            "Frames not queued to a seat, by reason (full: the seat was disconnected)",
            pushes_failed.clone(),
        );
        registry.register("seats", "Enrolled seats by state", seats.clone());
        registry.register(
            "site_seats",
            "Enrolled seats by site and state",
            site_seats.clone(),
        );
        registry.register(
            "sessions_ended",
            "Visitors' sessions ended, by reason",
            sessions_ended.clone(),
        );
        registry.register("wipes", "Session wipes reported, by result", wipes.clone());
        registry.register(
            "agents_connected",
            "Agents connected now",
            agents_connected.clone(),
        );
        registry.register(
            "agents_enrolled",
            "Enrolled agents not revoked",
            agents_enrolled.clone(),
        );
        registry.register(
            "handshakes_rejected",
            "Connections refused during or right after the handshake, by reason",
            handshakes_rejected.clone(),
        );
        registry.register(
            "frames_rejected",
            "Frames refused, by reason",
            frames_rejected.clone(),
        );
        registry.register("enrollments", "Agents enrolled", enrollments.clone());
        registry.register(
            "health_snapshots",
            "Health snapshots stored",
            health_snapshots.clone(),
        );
        registry.register(
            "events_received",
            "Agent events received",
            events_received.clone(),
        );
        Metrics {
            registry,
            agents_connected,
            agents_enrolled,
            handshakes_rejected,
            frames_rejected,
            enrollments,
            certificates_renewed,
            health_snapshots,
            events_received,
            seats,
            site_seats,
            sessions_ended,
            wipes,
            seat_limited,
            logins_refused,
            pushes_failed,
            wake_packets,
            handoffs,
        }
    }
}

impl Metrics {
    /// Counts a refused handshake or connection.
    pub fn handshake_rejected(&self, reason: &str) {
        self.handshakes_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts documents for phones by outcome.
    pub fn handoff(&self, outcome: &str, n: usize) {
        self.handoffs
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc_by(u64::try_from(n).unwrap_or(0));
    }

    /// Counts a refused frame.
    pub fn frame_rejected(&self, reason: &str) {
        self.frames_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts magic packets sent.
    pub fn wake_sent(&self, n: usize) {
        self.wake_packets.inc_by(u64::try_from(n).unwrap_or(0));
    }

    /// Counts a frame not queued to a seat.
    pub fn push_failed(&self, reason: &str) {
        self.pushes_failed
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts a refused staff login (`reason` is one of a closed set).
    pub fn login_refused(&self, reason: &'static str) {
        self.logins_refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Counts `n` things a seat sent past a limit (`limit` and `message` are closed sets).
    pub fn seat_limited(&self, limit: &'static str, message: &'static str, n: u64) {
        if n > 0 {
            self.seat_limited
                .get_or_create(&SeatLimitLabel {
                    limit: limit.to_string(),
                    message: message.to_string(),
                })
                .inc_by(n);
        }
    }

    /// The OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The Prometheus text format 0.0.4, for scrapers that ask for it (and `promtool
    /// check metrics`): the same samples, with each counter's `HELP` and `TYPE` under the
    /// name its samples carry (`…_total`), and no OpenMetrics-only lines.
    pub fn encode_prometheus_text(&self) -> String {
        to_prometheus_text(&self.encode())
    }
}

/// OpenMetrics text to Prometheus text 0.0.4 (see [`Metrics::encode_prometheus_text`]).
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(l.trim_end()),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `promtool check metrics` checks of the text format, and the parser needs: every
    /// sample's name declared by a `TYPE` line with a `HELP` line before it.
    fn lint(text: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let mut helped = std::collections::HashSet::new();
        let mut typed = std::collections::HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap_or_default();
                if rest.len() <= name.len() + 1 {
                    problems.push(format!("{name}: empty help"));
                }
                helped.insert(name.to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
                if !helped.contains(name) {
                    problems.push(format!("{name}: no help text"));
                }
                if kind == "counter" && !name.ends_with("_total") {
                    problems.push(format!("{name}: counter without _total"));
                }
                typed.insert(name.to_string(), kind.to_string());
            } else if line.starts_with('#') {
                problems.push(format!("not a text-format line: {line}"));
            } else if !line.is_empty() {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                if !typed.contains_key(name) {
                    problems.push(format!("{name}: sample without TYPE"));
                }
            }
        }
        problems
    }

    #[test]
    fn the_prometheus_text_format_declares_every_sample() {
        let m = Metrics::default();
        m.enrollments.inc();
        m.certificates_renewed.inc();
        m.handshake_rejected("busy");
        m.frame_rejected("too_large");
        m.agents_connected.set(3);
        m.logins_refused
            .get_or_create(&ReasonLabel {
                reason: "wrong".into(),
            })
            .inc();
        let text = m.encode_prometheus_text();
        assert_eq!(lint(&text), Vec::<String>::new(), "{text}");
        assert!(
            text.contains("# TYPE commune_enrollments_total counter"),
            "{text}"
        );
        assert!(text.contains("commune_enrollments_total 1"), "{text}");
        assert!(!text.contains("# EOF"));
        // The OpenMetrics form keeps its own names (the family without `_total`).
        assert!(m.encode().contains("# TYPE commune_enrollments counter"));
        assert!(m.encode().ends_with("# EOF\n"));
        assert!(
            !lint(&m.encode()).is_empty(),
            "the lint finds what promtool found in the OpenMetrics form"
        );
    }
}
