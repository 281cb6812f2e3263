//! The agent's configuration, written by `commune-agent enroll` and read by `run`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AgentError;

/// Everything the agent is told. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// The controller's address, `host:port`. A name with several address records is
    /// several controllers.
    pub controller: String,
    /// Other controllers sharing the same store (PostgreSQL), `host:port` each: when the
    /// one in use does not answer, the seat moves on to the next.
    pub other_controllers: Vec<String>,
    /// The name checked in the controller's certificate.
    pub server_name: String,
    /// This agent's id (the subject of its certificate), set by enrollment.
    pub agent_id: String,
    /// The site it belongs to, set by enrollment.
    pub site_id: String,
    /// Where the key, certificates and local state live.
    pub state_dir: PathBuf,
    /// The city's asset tag on this computer (FEDER inventory).
    pub asset_tag: Option<String>,
    /// The funding line that paid for it (e.g. a FEDER operation number).
    pub funding_line: Option<String>,
    /// QUIC keep-alive.
    pub keep_alive_secs: u64,
    /// QUIC idle timeout (and, over TCP, how long unanswered data may wait): the link is
    /// given up after this long without a packet from the controller. 25 s: a live
    /// controller answers within `keep_alive_secs`, with 10 s to spare for a lost packet;
    /// a seat that missed the stateless reset of a restarted controller is back in under
    /// 30 s.
    pub idle_timeout_secs: u64,
    /// First reconnection delay.
    pub backoff_initial_ms: u64,
    /// Longest reconnection delay.
    pub backoff_max_ms: u64,
    /// The controller's TLS-over-TCP port, tried when QUIC (UDP) does not answer.
    pub tcp_port: u16,
    /// An HTTP proxy for the TLS-over-TCP link (`http://[user:password@]host:port`); empty:
    /// the `https_proxy` environment, if any.
    pub proxy: String,
    /// How long QUIC may stay silent before the link tries TLS over TCP.
    pub quic_timeout_secs: u64,
    /// On TLS over TCP, how often QUIC is tried again (the switch back loses nothing).
    pub quic_retry_secs: u64,
    /// Health interval used until the controller says otherwise.
    pub health_interval_secs: u32,
    /// Events the local outbox holds at most while the controller is unreachable.
    pub outbox_capacity: u64,
    /// Where this seat sends the magic packets the controller asks it to relay for a
    /// sleeping seat of its site (`host:port`, normally this network's broadcast address).
    pub wake_on_lan: String,
    /// Visitors' sessions on this computer.
    pub sessions: SessionsConfig,
    /// The `[screens]` section: the visitor's screens for the kiosk browser.
    pub screens: ScreensConfig,
    /// The `[guard]` section: input devices and USB sticks plugged in.
    pub guard: GuardConfig,
}

/// The `[guard]` section: the device guard ([`crate::guard`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Whether the guard runs. Unset: with the `linux-direct` platform (a public
    /// computer), not with the sandbox (the demo, whose machine's devices are the
    /// developer's).
    pub enabled: Option<bool>,
    /// Where the kernel's device lists are (`/sys`).
    pub sysfs: PathBuf,
    /// How often the devices are read, in milliseconds.
    pub poll_ms: u64,
    /// The file systems a visitor's USB stick is mounted with to copy their documents
    /// onto it ("Copy to my USB stick"), tried in order. FAT and exFAT: what sticks are
    /// formatted with, and the kernel's simplest parsers of a disk anyone can craft.
    pub usb_filesystems: Vec<String>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            enabled: None,
            sysfs: PathBuf::from("/sys"),
            poll_ms: 1000,
            usb_filesystems: vec!["vfat".into(), "exfat".into()],
        }
    }
}

impl GuardConfig {
    /// Whether the guard runs with `platform`.
    pub fn runs_with(&self, platform: PlatformKind) -> bool {
        self.enabled
            .unwrap_or(platform == PlatformKind::LinuxDirect)
    }
}

/// The `[screens]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScreensConfig {
    /// Where the visitor's screens are served (a loopback address); empty: not served.
    pub listen: String,
    /// The greeter's secret, made afresh at every start: only requests that carry it may
    /// open a session (ticket, mediator PIN), so that the visitor's own programs cannot.
    /// With the sandbox platform and this default, `<state_dir>/screens-secret` instead.
    pub greeter_secret: PathBuf,
    /// The group that may read the secret besides root: the user LightDM runs the greeter
    /// as. Empty, or a group this computer lacks: root only.
    pub greeter_group: String,
}

impl ScreensConfig {
    /// The address the kiosk browser opens by default.
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:7380";

    /// Where the greeter's secret goes by default (`/run` is emptied at every boot).
    pub const DEFAULT_GREETER_SECRET: &'static str = "/run/commune-greeter/secret";

    /// The greeter's secret actually used, and the group that may read it (see
    /// [`ScreensConfig::greeter_secret`]): with the sandbox platform and the default path,
    /// `<state_dir>/screens-secret`, readable by its owner only, so that the demo's many
    /// agents on one machine each have their own.
    pub fn greeter_secret_in(
        &self,
        platform: PlatformKind,
        state_dir: &Path,
    ) -> (PathBuf, Option<String>) {
        let group =
            (!self.greeter_group.trim().is_empty()).then(|| self.greeter_group.trim().to_string());
        if platform == PlatformKind::Sandbox
            && self.greeter_secret == Path::new(Self::DEFAULT_GREETER_SECRET)
        {
            (state_dir.join("screens-secret"), None)
        } else {
            (self.greeter_secret.clone(), group)
        }
    }

    /// The address to serve on, if any.
    pub fn address(&self) -> Result<Option<std::net::SocketAddr>, AgentError> {
        if self.listen.trim().is_empty() {
            return Ok(None);
        }
        self.listen.trim().parse().map(Some).map_err(|e| {
            AgentError::Config(format!(
                "[screens] listen = {:?} is not an address like {}: {e}",
                self.listen,
                Self::DEFAULT_LISTEN
            ))
        })
    }
}

impl Default for ScreensConfig {
    fn default() -> Self {
        ScreensConfig {
            listen: Self::DEFAULT_LISTEN.into(),
            greeter_secret: PathBuf::from(Self::DEFAULT_GREETER_SECRET),
            greeter_group: "lightdm".into(),
        }
    }
}

/// Which platform gives sessions to visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformKind {
    /// Real ephemeral accounts with tmpfs homes (a public computer; needs root).
    LinuxDirect,
    /// Real files and processes under a directory, no accounts (the demo).
    Sandbox,
    /// No sessions: health and inventory only.
    None,
}

/// The `[sessions]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// The platform.
    pub platform: PlatformKind,
    /// The root-only control socket (`commune-agent ctl`). With the sandbox platform and
    /// this default, the socket goes to `<state_dir>/ctl.sock` instead, so that the demo's
    /// many agents on one machine each have their own.
    pub ctl_socket: PathBuf,
    /// Where the sandbox platform keeps its homes (empty: `<state_dir>/sandbox`).
    pub sandbox_root: PathBuf,
    /// Session lengths until schedules say otherwise.
    pub rules: crate::manager::SessionRules,
    /// Settings of the `linux-direct` platform.
    #[cfg(target_os = "linux")]
    pub linux: crate::platform::linux::LinuxConfig,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            platform: PlatformKind::LinuxDirect,
            ctl_socket: PathBuf::from("/run/commune-agent/ctl.sock"),
            sandbox_root: PathBuf::new(),
            rules: crate::manager::SessionRules::default(),
            #[cfg(target_os = "linux")]
            linux: crate::platform::linux::LinuxConfig::default(),
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            controller: "127.0.0.1:4433".into(),
            other_controllers: Vec::new(),
            server_name: commune_protocol::CONTROLLER_SERVER_NAME.into(),
            agent_id: String::new(),
            site_id: String::new(),
            state_dir: PathBuf::from("/var/lib/commune-agent"),
            asset_tag: None,
            funding_line: None,
            keep_alive_secs: 15,
            idle_timeout_secs: 25,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            tcp_port: 443,
            proxy: String::new(),
            quic_timeout_secs: 5,
            quic_retry_secs: 600,
            health_interval_secs: 60,
            outbox_capacity: 200_000,
            wake_on_lan: "255.255.255.255:9".into(),
            sessions: SessionsConfig::default(),
            screens: ScreensConfig::default(),
            guard: GuardConfig::default(),
        }
    }
}

/// File names in the state directory.
pub mod files {
    /// The agent's certificate.
    pub const CERT: &str = "agent.pem";
    /// The agent's private key (0600, never leaves the computer).
    pub const KEY: &str = "agent-key.pem";
    /// The fleet CA certificate.
    pub const CA: &str = "ca.pem";
    /// The event outbox (SQLite).
    pub const OUTBOX: &str = "outbox.db";
}

impl SessionsConfig {
    /// The control socket actually used (see [`SessionsConfig::ctl_socket`]).
    pub fn ctl_socket_in(&self, state_dir: &Path) -> PathBuf {
        if self.platform == PlatformKind::Sandbox && self.ctl_socket == Self::default().ctl_socket {
            state_dir.join("ctl.sock")
        } else {
            self.ctl_socket.clone()
        }
    }
}

impl AgentConfig {
    /// Default location of the configuration file.
    pub const DEFAULT_PATH: &'static str = "/etc/commune/agent.toml";

    /// Reads the configuration of an enrolled computer (what `run` needs).
    pub fn load(path: &Path) -> Result<Self, AgentError> {
        let config = Self::read(path)?;
        if config.agent_id.is_empty() {
            return Err(AgentError::Config(format!(
                "{} has no agent_id: enroll this computer first with `commune-agent enroll`",
                path.display()
            )));
        }
        Ok(config)
    }

    /// Reads a configuration file, enrolled or not (the enrollment fields may be absent:
    /// `selftest` checks a computer before its enrollment too).
    pub fn read(path: &Path) -> Result<Self, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|source| AgentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| {
            // One line: the line number and toml's message, without its drawing of the spot.
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            let message = e.message().trim().replace('\n', " ");
            AgentError::Config(match line {
                Some(line) => format!("{} line {line}: {message}", path.display()),
                None => format!("{}: {message}", path.display()),
            })
        })
    }

    /// Writes the configuration file.
    pub fn save(&self, path: &Path) -> Result<(), AgentError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| AgentError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let text = format!(
            "# Commune agent configuration, written by `commune-agent enroll`.\n{}",
            toml::to_string_pretty(self).map_err(|e| AgentError::Config(e.to_string()))?
        );
        std::fs::write(path, text).map_err(|source| AgentError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Path of a file in the state directory.
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(name)
    }
}
