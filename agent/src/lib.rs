//! The Commune agent: the daemon on each public computer.
//!
//! It enrolls with the controller once (its key never leaves the computer), then keeps one
//! QUIC connection with mutual TLS to the controller, reconnecting with jittered exponential
//! backoff, and reports health and inventory. It contains no controller or dashboard code.
//!
//! The cargo feature `demo` adds the demo's pieces: simulated visitors (`simulate`) and
//! the accelerated clock (`COMMUNE_DEMO_CLOCK`). The package for public computers is built
//! without it, and then refuses both in one sentence ([`demo_option`]).
#![deny(unreachable_pub)]

pub mod config;
#[cfg(unix)]
pub mod ctl;
pub mod documents;
pub mod enroll;
pub mod guard;
pub mod handoff;
pub mod health;
pub mod help;
pub mod link;
pub mod manager;
pub mod outbox;
pub mod platform;
pub mod print;
pub mod renewal;
pub mod screens;
pub mod seat;
#[cfg(target_os = "linux")]
pub mod selftest;
pub mod session;
#[cfg(feature = "demo")]
pub mod simulate;
pub mod slots;
pub mod tickets;
pub mod tls;
pub mod transport;
pub mod usb;
pub mod wipe;

use commune_protocol::UtcMillis;

pub use config::AgentConfig;

/// The agent's version, sent in `Hello` and health.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether this agent was built with the demo's pieces (cargo feature `demo`: simulated
/// visitors, the accelerated clock). The package for public computers never is.
pub const DEMO: bool = cfg!(feature = "demo");

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
    /// A demo option given to an agent built without the demo feature.
    #[error(
        "{0} is for the demo, and this agent was built without the demo feature (the \
         package for public computers never has it: no simulated visitors, no accelerated \
         clock); for the demo, build it with `cargo build -p commune-agent --features demo`, \
         as scripts/demo does"
    )]
    DemoOnly(String),
}

/// Accepts the demo option `what` (a flag or an environment variable) only in an agent
/// built with the demo feature ([`DEMO`]); otherwise the refusal, in one sentence.
pub fn demo_option(what: &str) -> Result<(), AgentError> {
    demo_option_in(what, DEMO)
}

fn demo_option_in(what: &str, built_with_demo: bool) -> Result<(), AgentError> {
    if built_with_demo {
        Ok(())
    } else {
        Err(AgentError::DemoOnly(what.to_owned()))
    }
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
    let (handle, _task) = spawn_manager(platform, config, outbox)?;
    if config.guard.runs_with(config.sessions.platform) {
        let guard = guard::Guard::open(&config.guard.sysfs, &config.state_dir, now())
            .map_err(|e| AgentError::Config(format!("the device guard: {e}")))?;
        let every = std::time::Duration::from_millis(config.guard.poll_ms.max(100));
        handle.watch_devices(guard, every);
    }
    Ok(Some(handle))
}

/// The session manager on the real clock.
#[cfg(not(feature = "demo"))]
fn spawn_manager(
    platform: std::sync::Arc<dyn platform::SessionPlatform>,
    config: &AgentConfig,
    outbox: &outbox::Outbox,
) -> Result<(manager::ManagerHandle, tokio::task::JoinHandle<()>), AgentError> {
    if std::env::var_os(DEMO_CLOCK).is_some() {
        demo_option(DEMO_CLOCK)?;
    }
    Ok(manager::spawn(
        platform,
        outbox.clone(),
        &config.state_dir,
        config.sessions.rules.clone(),
    ))
}

/// The session manager, on the demo's accelerated day when `COMMUNE_DEMO_CLOCK` says so
/// (the sandbox platform only: a public computer's clock is never anything but real).
#[cfg(feature = "demo")]
fn spawn_manager(
    platform: std::sync::Arc<dyn platform::SessionPlatform>,
    config: &AgentConfig,
    outbox: &outbox::Outbox,
) -> Result<(manager::ManagerHandle, tokio::task::JoinHandle<()>), AgentError> {
    let clock = demo_clock()?;
    if clock.is_some() && config.sessions.platform != config::PlatformKind::Sandbox {
        return Err(AgentError::Config(
            "COMMUNE_DEMO_CLOCK is for the demo's sandbox platform only".into(),
        ));
    }
    let (wall, speed) = match clock {
        Some((origin, speed)) => (manager::accelerated_clock(origin, speed), speed),
        None => (std::sync::Arc::new(now) as manager::WallClock, 1.0),
    };
    Ok(manager::spawn_scaled(
        platform,
        std::sync::Arc::new(outbox.clone()),
        &config.state_dir,
        config.sessions.rules.clone(),
        wall,
        speed,
    ))
}

/// The environment variable of the demo's accelerated day, `ORIGIN_MS:SPEED`.
pub const DEMO_CLOCK: &str = "COMMUNE_DEMO_CLOCK";

/// `COMMUNE_DEMO_CLOCK=ORIGIN_MS:SPEED`, set by `commune demo --speed`: the demo's
/// accelerated day (see [`manager::accelerated_clock`]).
#[cfg(feature = "demo")]
fn demo_clock() -> Result<Option<(UtcMillis, f64)>, AgentError> {
    let Ok(value) = std::env::var(DEMO_CLOCK) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_built_without_the_demo_feature_refuses_demo_options_in_one_sentence() {
        let refused = demo_option_in("--simulate-sessions-per-minute", false)
            .unwrap_err()
            .to_string();
        assert!(
            refused.starts_with("--simulate-sessions-per-minute is for the demo, and this agent was built without the demo feature"),
            "{refused}"
        );
        assert!(refused.contains("--features demo"), "{refused}");
        assert!(demo_option_in(DEMO_CLOCK, true).is_ok());
        // This build says what it is.
        assert_eq!(demo_option(DEMO_CLOCK).is_ok(), cfg!(feature = "demo"));
    }
}
