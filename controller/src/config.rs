//! Controller configuration: a TOML file, then environment, with defaults that run the demo.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A database URL. Its `Debug` hides the password, so configurations can be logged.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", crate::store::redact(&self.0))
    }
}

/// Everything the controller can be told. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ControllerConfig {
    /// Where the database (SQLite), the PKI and the QUIC keys live.
    pub data_dir: PathBuf,
    /// Database URL; empty means `sqlite://<data_dir>/commune.db`.
    pub database_url: DatabaseUrl,
    /// QUIC listening address for agents.
    pub quic_listen: SocketAddr,
    /// TLS-over-TCP listening address for agents whose network lets no UDP through (the
    /// same frames, mutual TLS and ALPN as QUIC); empty: none. 443 passes most firewalls
    /// and proxies; it needs the port free on this machine (not taken by a web server).
    pub tcp_listen: String,
    /// HTTP listening address of the dashboard and `/metrics`.
    pub dashboard_listen: SocketAddr,
    /// Connections (agents and enrollments) accepted at once; more are refused.
    pub max_connections: usize,
    /// TLS handshakes in progress at once; more wait their turn.
    pub max_concurrent_handshakes: usize,
    /// Above this many handshakes in progress, a new connection must first prove its
    /// address (a QUIC Retry round trip), so spoofed Initial packets hold at most this many
    /// handshake permits. As many as the permits by default: Retry starts once every
    /// handshake place is taken. Below that a Retry costs honest seats a round trip, and in
    /// the scale benchmark (10,000 seats) a few handshakes in each thousand Retries never
    /// came back validated and stalled until the seat gave up, 5 s later; at 256 a fleet
    /// coming back at full speed needs none.
    pub handshakes_before_retry: usize,
    /// Handshakes in progress from one address at most (a whole MDH behind one NAT
    /// reconnecting at once stays well below).
    pub max_handshakes_per_address: usize,
    /// Connections without a certificate (enrollments) served at once; more are refused.
    pub max_concurrent_enrollments: usize,
    /// A handshake not finished in this time is dropped; a connection waits at most this
    /// long for a handshake permit, too.
    pub handshake_timeout_secs: u64,
    /// A connection that does not send its first frame in this time is closed.
    pub first_frame_timeout_secs: u64,
    /// QUIC idle timeout (agents keep alive every 15 s).
    pub idle_timeout_secs: u64,
    /// How often agents send health.
    pub health_interval_secs: u32,
    /// How often agents send their inventory.
    pub inventory_interval_secs: u32,
    /// How long an agent certificate is valid (90 days). Seats renew theirs over their
    /// link at two thirds of this; one that stayed offline past it enrolls again with a
    /// new token and keeps its identity and unsent events.
    pub agent_certificate_secs: u64,
    /// How often revocations made by `commune agent revoke` are picked up.
    pub revocation_poll_secs: u64,
    /// How often the narrow last-seen table is written.
    pub last_seen_flush_secs: u64,
    /// On shutdown, agents are told to come back spread over this many milliseconds.
    pub shutdown_spread_ms: u32,
    /// UDP socket send and receive buffers (the first limit at scale).
    pub udp_buffer_bytes: usize,
    /// Largest frame accepted from an agent.
    pub max_frame_bytes: usize,
    /// Lifetime of an enrollment token when `--expires` is not given.
    pub token_default_expiry_secs: u64,
    /// Events committed in one ingest transaction at most (several agents' together).
    pub ingest_batch_max_events: usize,
    /// Lifetime of a staff command not yet executed.
    pub command_ttl_secs: u64,
    /// Retention periods (DESIGN.md's table).
    pub retention: crate::store::RetentionConfig,
    /// Limits on staff logins, the dashboard's unauthenticated door.
    pub login: LoginLimits,
    /// Limits of the dashboard's HTTP server.
    pub web: WebLimits,
    /// What one seat may send (a seat whose key was stolen stays within these).
    pub seat: SeatLimits,
    /// Waking the seats (Wake-on-LAN).
    pub power: PowerConfig,
    /// "Send to my phone": sealed documents kept for one download.
    pub handoff: crate::handoff::HandoffConfig,
}

/// The `[power]` section: Wake-on-LAN from the controller. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PowerConfig {
    /// Where magic packets go (`host:port`: the seats' subnet broadcast address, or a
    /// relay); empty: Wake-on-LAN off.
    pub wake_on_lan: String,
    /// A seat that is off is woken this many minutes before its next opening.
    pub wake_minutes_before_opening: u32,
    /// How often the seats to wake are looked for.
    pub check_secs: u64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            wake_on_lan: "255.255.255.255:9".into(),
            wake_minutes_before_opening: 20,
            check_secs: 60,
        }
    }
}

/// Limits on staff logins, so that an unauthenticated request costs a bounded amount of
/// work and memory whatever it sends. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimits {
    /// Longest password checked; a longer one is refused as wrong without hashing it.
    /// (A login longer than the 64 bytes an account may have is refused the same way.)
    pub max_password_bytes: usize,
    /// Failed logins allowed per login and address pair within `window_secs`.
    pub failures_per_pair: u32,
    /// Failed logins allowed per address (an IPv6 address counts by its /64) within
    /// `window_secs`, whatever the logins tried.
    pub failures_per_address: u32,
    /// How long failures count against a pair or an address.
    pub window_secs: u64,
    /// Failed logins per minute over every address beyond which a login and address pair
    /// with a failure in its window is refused until the window has passed (the backstop
    /// against guessing from many addresses).
    pub global_failures_per_minute: u32,
    /// Pairs and addresses remembered, at most this many of each; past that the oldest
    /// are forgotten first.
    pub max_tracked_entries: usize,
    /// Password checks running at once (one core and 19 MiB of memory each; one leaves
    /// the other cores to the seats and pages during a flood, and still checks some 40
    /// logins a second).
    pub verify_threads: usize,
    /// Logins waiting for a password check at most; past that a login is refused at once
    /// with "busy, try again in a moment".
    pub verify_queue_max: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_password_bytes: 1024,
            failures_per_pair: 5,
            failures_per_address: 30,
            window_secs: 15 * 60,
            global_failures_per_minute: 120,
            max_tracked_entries: 10_000,
            verify_threads: 1,
            verify_queue_max: 32,
        }
    }
}

/// Limits of the dashboard's HTTP server. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebLimits {
    /// A request not answered in this time gets `408 Request Timeout` (the live event
    /// stream is not cut: only the wait for its first byte counts).
    pub request_timeout_secs: u64,
    /// A connection that does not send a whole request head in this time (and a kept-alive
    /// connection idle for this long) is closed.
    pub header_read_timeout_secs: u64,
    /// Requests handled at once; more wait their turn (within `request_timeout_secs`).
    pub max_concurrent_requests: usize,
    /// Connections open at once; more wait in the system's backlog.
    pub max_connections: usize,
    /// Largest request body (forms); larger ones get `413 Payload Too Large`.
    pub max_form_bytes: usize,
    /// A refused login is answered this late (outside `max_concurrent_requests`): a
    /// flooding client that waits for each answer is slowed to its connections per delay.
    pub refused_login_delay_ms: u64,
    /// Refused logins waiting for their answer at once, at most; past that, answered at once.
    pub max_delayed_refusals: usize,
}

impl Default for WebLimits {
    fn default() -> Self {
        WebLimits {
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_concurrent_requests: 128,
            max_connections: 1024,
            max_form_bytes: 64 * 1024,
            refused_login_delay_ms: 1_000,
            max_delayed_refusals: 512,
        }
    }
}

/// What one seat may send, so that a seat whose key was stolen costs the controller a
/// bounded amount of work and storage and never slows the other seats. An honest seat stays
/// far below every limit; past the event rate its events are slowed down, never dropped.
/// Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SeatLimits {
    /// How far ahead of the controller's clock a seat's clock may be. A later timestamp is
    /// stored as the receive time plus this. Health snapshots and inventories (sent as
    /// soon as they are taken) are also kept no earlier than the receive time minus this;
    /// events keep an earlier time, since a seat sends them late after a network cut.
    pub clock_skew_secs: u64,
    /// How old an event may say it is: a seat's backlog after a long network cut (a summer
    /// closure) is kept as dated; an older time is a reset clock, stored as this many days
    /// before the receive time and counted.
    pub max_backlog_days: u32,
    /// A health snapshot arriving sooner than `health_interval_secs` minus this share of
    /// it after the seat's previous one is dropped and counted.
    pub health_slack_percent: u8,
    /// An inventory arriving sooner than this after the seat's previous one is dropped and
    /// counted (agents send one when they connect, then hourly).
    pub inventory_min_interval_secs: u64,
    /// Events one seat may have stored per minute, sustained. Past that, the seat's
    /// acknowledgements are delayed (it sends nothing more until then): nothing is dropped.
    /// An event whose stored form is larger than 1 KiB counts once per started KiB.
    pub events_per_minute: u32,
    /// Events one seat may have stored at once above `events_per_minute`: room for several
    /// days of a busy seat's backlog after a network cut, sent at full speed.
    pub events_burst: u32,
    /// Longest identifier, name or version a seat sends (host name, session, command and
    /// permanence ids, asset tag, OS, mount point…); longer ones are cut on a character
    /// boundary and counted.
    pub name_max_bytes: usize,
    /// Longest sentence a seat sends (alert message, command result, wipe step detail and
    /// check method); longer ones are cut on a character boundary and counted.
    pub text_max_bytes: usize,
    /// Most entries kept of one list a seat sends (disks, sensors, MAC addresses, wipe
    /// steps and checks); the rest is dropped and counted.
    pub list_max_items: usize,
}

impl Default for SeatLimits {
    fn default() -> Self {
        SeatLimits {
            clock_skew_secs: 600,
            max_backlog_days: 180,
            health_slack_percent: 25,
            inventory_min_interval_secs: 60,
            events_per_minute: 300,
            events_burst: 20_000,
            name_max_bytes: 256,
            text_max_bytes: 1024,
            list_max_items: 64,
        }
    }
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            data_dir: PathBuf::from("/var/lib/commune"),
            database_url: DatabaseUrl::default(),
            quic_listen: "0.0.0.0:4433".parse().expect("static address"),
            tcp_listen: "0.0.0.0:443".into(),
            dashboard_listen: "127.0.0.1:8080".parse().expect("static address"),
            max_connections: 50_000,
            max_concurrent_handshakes: 256,
            handshakes_before_retry: 256,
            max_handshakes_per_address: 64,
            max_concurrent_enrollments: 8,
            handshake_timeout_secs: 5,
            first_frame_timeout_secs: 10,
            idle_timeout_secs: 60,
            health_interval_secs: 60,
            inventory_interval_secs: 3600,
            agent_certificate_secs: 90 * 86_400,
            revocation_poll_secs: 2,
            last_seen_flush_secs: 5,
            shutdown_spread_ms: 10_000,
            udp_buffer_bytes: 4 * 1024 * 1024,
            max_frame_bytes: commune_protocol::MAX_FRAME_BYTES,
            token_default_expiry_secs: 24 * 3600,
            ingest_batch_max_events: 5_000,
            command_ttl_secs: 3600,
            retention: crate::store::RetentionConfig::default(),
            login: LoginLimits::default(),
            web: WebLimits::default(),
            seat: SeatLimits::default(),
            power: PowerConfig::default(),
            handoff: crate::handoff::HandoffConfig::default(),
        }
    }
}

impl ControllerConfig {
    /// The database URL with its password hidden, for logs.
    pub fn database_url_redacted(&self) -> String {
        crate::store::redact(&self.database_url())
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        if self.database_url.0.is_empty() {
            format!("sqlite://{}", self.data_dir.join("commune.db").display())
        } else {
            self.database_url.0.clone()
        }
    }

    /// The PKI directory (fleet CA, controller certificate, QUIC keys).
    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    /// Reads a TOML file.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The default configuration as commented TOML, for `commune config default`.
    pub fn default_toml() -> String {
        let body = toml::to_string_pretty(&ControllerConfig::default()).unwrap_or_default();
        format!("# Commune controller configuration (defaults shown).\n# Environment overrides: COMMUNE_DATA_DIR, COMMUNE_DATABASE_URL.\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_database_password() {
        let config = ControllerConfig {
            database_url: DatabaseUrl("postgres://commune:hunter2@db/commune".into()),
            ..ControllerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("commune:***@db"),
            "{shown}"
        );
    }

    #[test]
    fn the_default_configuration_reads_back() {
        let text = ControllerConfig::default_toml();
        assert_eq!(
            ControllerConfig::from_toml(&text).unwrap(),
            ControllerConfig::default()
        );
    }
}
