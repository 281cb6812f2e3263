//! The Commune agent: the daemon on each public computer.
//!
//! It enrolls with the controller once (its key never leaves the computer), then keeps one
//! QUIC connection with mutual TLS to the controller, reconnecting with jittered exponential
//! backoff, and reports health and inventory. It contains no controller or dashboard code.
#![deny(unreachable_pub)]

pub mod config;
#[cfg(unix)]
pub mod ctl;
pub mod documents;
pub mod enroll;
pub mod health;
pub mod link;
pub mod manager;
pub mod outbox;
pub mod platform;
pub mod screens;
pub mod seat;
#[cfg(target_os = "linux")]
pub mod selftest;
pub mod session;
pub mod simulate;
pub mod slots;
pub mod tickets;
pub mod tls;
pub mod wipe;

use commune_protocol::UtcMillis;

pub use config::AgentConfig;

/// The agent's version, sent in `Hello` and health.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Errors of the agent, worded for the person at the computer or IT.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The configuration is missing or unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The enrollment token text is unusable.
    #[error(transparent)]
    Token(#[from] commune_protocol::enroll::TokenFormatError),
    /// The controller's CA is not the one the token names.
    #[error(
        "the controller's certificate authority does not match the enrollment token \
         (token expects {expected}, controller presented {presented}); this may not be your \
         city's controller: check the address, and ask IT for the right token"
    )]
    FingerprintMismatch {
        /// Fingerprint in the token.
        expected: String,
        /// Fingerprints the controller presented.
        presented: String,
    },
    /// The controller refused the request.
    #[error("the controller refused: {message} ({code})")]
    Refused {
        /// Machine-readable reason.
        code: &'static str,
        /// The controller's sentence.
        message: String,
    },
    /// The controller could not be reached or the connection failed.
    #[error("connection to the controller failed: {0}")]
    Connection(String),
    /// The controller answered something the protocol does not allow.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The local event outbox failed.
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
    /// Key or CSR generation failed.
    #[error("key generation failed: {0}")]
    Key(String),
}

/// The current instant on the wall clock (for reports only; decisions use the monotonic clock).
pub fn now() -> UtcMillis {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UtcMillis(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// Starts the session manager for the configured platform (`None` when the computer runs
/// no sessions). It first finishes any wipe a crash left.
pub fn start_sessions(
    config: &AgentConfig,
    outbox: &outbox::Outbox,
) -> Result<Option<manager::ManagerHandle>, AgentError> {
    use config::PlatformKind;
    let platform: std::sync::Arc<dyn platform::SessionPlatform> = match config.sessions.platform {
        PlatformKind::None => return Ok(None),
        PlatformKind::Sandbox => {
            let root = if config.sessions.sandbox_root.as_os_str().is_empty() {
                config.state_dir.join("sandbox")
            } else {
                config.sessions.sandbox_root.clone()
            };
            std::sync::Arc::new(
                platform::sandbox::Sandbox::new(root)
                    .map_err(|e| AgentError::Config(e.to_string()))?,
            )
        }
        #[cfg(target_os = "linux")]
        PlatformKind::LinuxDirect => {
            let mut linux = config.sessions.linux.clone();
            linux.state_dir = config.state_dir.clone();
            std::sync::Arc::new(
                platform::linux::LinuxDirect::new(linux)
                    .map_err(|e| AgentError::Config(e.to_string()))?,
            )
        }
        #[cfg(not(target_os = "linux"))]
        PlatformKind::LinuxDirect => {
            return Err(AgentError::Config(
                "the linux-direct platform needs Linux".into(),
            ))
        }
    };
    let clock = demo_clock()?;
    if clock.is_some() && config.sessions.platform != PlatformKind::Sandbox {
        return Err(AgentError::Config(
            "COMMUNE_DEMO_CLOCK is for the demo's sandbox platform only".into(),
        ));
    }
    let (wall, speed) = match clock {
        Some((origin, speed)) => (manager::accelerated_clock(origin, speed), speed),
        None => (std::sync::Arc::new(now) as manager::WallClock, 1.0),
    };
    let (handle, _task) = manager::spawn_scaled(
        platform,
        std::sync::Arc::new(outbox.clone()),
        &config.state_dir,
        config.sessions.rules.clone(),
        wall,
        speed,
    );
    Ok(Some(handle))
}

/// `COMMUNE_DEMO_CLOCK=ORIGIN_MS:SPEED`, set by `commune demo --speed`: the demo's
/// accelerated day (see [`manager::accelerated_clock`]). Only the sandbox platform
/// accepts it: a public computer's clock is never anything but real.
fn demo_clock() -> Result<Option<(UtcMillis, f64)>, AgentError> {
    let Ok(value) = std::env::var("COMMUNE_DEMO_CLOCK") else {
        return Ok(None);
    };
    let parsed = value.split_once(':').and_then(|(origin, speed)| {
        Some((
            UtcMillis(origin.trim().parse().ok()?),
            speed.trim().parse::<f64>().ok()?,
        ))
    });
    match parsed {
        Some((origin, speed)) if speed.is_finite() && (1.0..=10_000.0).contains(&speed) => {
            Ok(Some((origin, speed)))
        }
        _ => Err(AgentError::Config(format!(
            "COMMUNE_DEMO_CLOCK={value:?}: expected ORIGIN_MS:SPEED with SPEED from 1 to 10000"
        ))),
    }
}

/// Tells systemd (`Type=notify`) that the agent is ready: sends `READY=1` to
/// `$NOTIFY_SOCKET` when it is set. Called once no unfinished wipe remains, so that a unit
/// ordered `Before=display-manager.service` holds the greeter back until then.
#[cfg(target_os = "linux")]
pub fn notify_ready() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(std::path::Path::new(&path)),
    };
    let sent = addr.and_then(|addr| {
        let socket = UnixDatagram::unbound()?;
        socket.send_to_addr(b"READY=1", &addr)
    });
    if let Err(error) = sent {
        tracing::warn!(%error, "could not tell systemd the agent is ready");
    }
}
