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
    /// HTTP listening address of the dashboard and `/metrics`.
    pub dashboard_listen: SocketAddr,
    /// Connections (agents and enrollments) accepted at once; more are refused.
    pub max_connections: usize,
    /// TLS handshakes in progress at once; more wait their turn.
    pub max_concurrent_handshakes: usize,
    /// A handshake not finished in this time is dropped.
    pub handshake_timeout_secs: u64,
    /// A connection that does not send its first frame in this time is closed.
    pub first_frame_timeout_secs: u64,
    /// QUIC idle timeout (agents keep alive every 15 s).
    pub idle_timeout_secs: u64,
    /// How often agents send health.
    pub health_interval_secs: u32,
    /// How often agents send their inventory.
    pub inventory_interval_secs: u32,
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
}

/// Limits on staff logins. Names carry their unit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimits {}

/// Limits of the dashboard's HTTP server. Names carry their unit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebLimits {}

/// What one seat may send. Names carry their unit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SeatLimits {}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            data_dir: PathBuf::from("/var/lib/commune"),
            database_url: DatabaseUrl::default(),
            quic_listen: "0.0.0.0:4433".parse().expect("static address"),
            dashboard_listen: "127.0.0.1:8080".parse().expect("static address"),
            max_connections: 50_000,
            max_concurrent_handshakes: 256,
            handshake_timeout_secs: 10,
            first_frame_timeout_secs: 10,
            idle_timeout_secs: 60,
            health_interval_secs: 60,
            inventory_interval_secs: 3600,
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
