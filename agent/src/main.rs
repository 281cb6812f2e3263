//! `commune-agent`: the daemon installed on each public computer.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use commune_agent::config::{files, AgentConfig, PlatformKind};
use commune_agent::ctl::{CtlRequest, CtlResponse};
use commune_agent::enroll::{enroll, EnrollOptions};
use commune_agent::link::Link;
use commune_agent::outbox::Outbox;
use commune_agent::seat::Seat;
use commune_protocol::messages::SlotKind;

/// What `--version` says: an agent built with the demo feature says so (the demo checks
/// it; the package for public computers says only its version).
const SHOWN_VERSION: &str = if commune_agent::DEMO {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (demo build: never install it on a public computer)"
    )
} else {
    env!("CARGO_PKG_VERSION")
};

#[derive(Parser)]
#[command(
    name = "commune-agent",
    version = SHOWN_VERSION,
    about = "Commune agent for public computers"
)]
struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "COMMUNE_AGENT_CONFIG", default_value = AgentConfig::DEFAULT_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enroll this computer with a controller, using a token from `commune token create`.
    Enroll {
        /// Controller address, host:port (QUIC, UDP).
        #[arg(long)]
        controller: String,
        /// The enrollment token.
        #[arg(long, env = "COMMUNE_ENROLL_TOKEN")]
        token: String,
        /// Where the key and certificates are kept.
        #[arg(long, default_value = "/var/lib/commune-agent")]
        state_dir: PathBuf,
        /// The city's asset tag on this computer.
        #[arg(long)]
        asset_tag: Option<String>,
        /// The funding line that paid for it.
        #[arg(long)]
        funding_line: Option<String>,
        /// Host name to report (default: the system's).
        #[arg(long)]
        hostname: Option<String>,
        /// Enroll again even if this computer is already enrolled. It keeps its agent id
        /// (its history, and the events it has not delivered yet): it proves it with its
        /// previous certificate and key, even an expired one.
        #[arg(long)]
        force: bool,
        /// With --force: enroll as a new computer instead (new agent id; its undelivered
        /// events are dropped), e.g. after IT revoked it.
        #[arg(long, requires = "force")]
        new_identity: bool,
        /// How visitors' sessions run here.
        #[arg(long, value_enum, default_value = "linux-direct")]
        platform: PlatformKind,
        /// Where to serve the visitor's screens (loopback; `off` for none). Default:
        /// 127.0.0.1:7380, except with the sandbox platform, where several agents share a
        /// machine: none unless given.
        #[arg(long)]
        screens: Option<String>,
    },
    /// Run the agent.
    Run {
        /// Simulate visitors (demo and load tests): this many sessions a minute on average,
        /// recorded as events through the real outbox and link. Only in an agent built with
        /// the demo feature.
        #[arg(long, hide = !commune_agent::DEMO)]
        simulate_sessions_per_minute: Option<f64>,
    },
    /// Print the default configuration.
    DefaultConfig,
    /// Drive the running agent through its local control socket (root only).
    Ctl {
        /// The control socket (default: the configuration's, else /run/commune-agent/ctl.sock).
        #[arg(long)]
        socket: Option<PathBuf>,
        #[command(subcommand)]
        op: CtlOp,
    },
    /// Commissioning check: a synthetic session writes canaries through every channel, is
    /// wiped and verified; exits non-zero on any leftover. Needs root. Checks the settings of
    /// the configuration file (`--config`), enrolled or not; refuses if it is unusable.
    Selftest {
        /// Print the configuration file and the settings that would be checked, and stop.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum CtlOp {
    /// The seat's state, as JSON.
    Status,
    /// Start a session; prints the account name, uid and home as JSON.
    StartSession {
        /// Free access or supervised.
        #[arg(long, value_enum, default_value = "free")]
        kind: KindArg,
        /// Print only the account name (for LightDM's guest-account-script).
        #[arg(long)]
        name_only: bool,
        /// The free-access ticket the visitor typed.
        #[arg(long)]
        ticket: Option<String>,
        /// A mediator's PIN (opens a supervised session; better given in the environment
        /// than on the command line).
        #[arg(long, env = "COMMUNE_MEDIATOR_PIN", hide_env_values = true)]
        pin: Option<String>,
    },
    /// End the running session, wait for its wipe, print the wipe report as JSON.
    EndSession,
    /// Print the last wipe report as JSON.
    LastWipeReport,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Free,
    Supervised,
}

/// Resolves on Ctrl-C or SIGTERM (systemd's way of stopping a service).
async fn stop_signal() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The platform's name as the configuration file spells it.
fn platform_name(platform: PlatformKind) -> &'static str {
    match platform {
        PlatformKind::LinuxDirect => "linux-direct",
        PlatformKind::Sandbox => "sandbox",
        PlatformKind::None => "none",
    }
}

/// One sentence: the configuration file that cannot be used, and why.
fn unusable_config(path: &std::path::Path, error: &commune_agent::AgentError) -> String {
    use commune_agent::AgentError;
    let shown = path.display().to_string();
    let why = match error {
        AgentError::Io { source, .. } => source.to_string(),
        AgentError::Config(message) => message
            .strip_prefix(&shown)
            .map(|rest| rest.trim_start_matches(':').trim().to_string())
            .unwrap_or_else(|| message.clone()),
        other => other.to_string(),
    };
    format!(
        "the self-test checks the configuration that will run, and {shown} cannot be used \
         ({why}); fix it, or write one with `commune-agent default-config`"
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colours only on a terminal; JSON lines with COMMUNE_LOG_FORMAT=json.
    use std::io::IsTerminal;
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn".into())
                // notify logs paths inside a visitor's home: never, whatever RUST_LOG says.
                .add_directive("notify=off".parse().expect("static directive")),
        )
        .with_ansi(std::io::stdout().is_terminal());
    if std::env::var("COMMUNE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        log.json().init();
    } else {
        log.init();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Enroll {
            controller,
            token,
            state_dir,
            asset_tag,
            funding_line,
            hostname,
            force,
            new_identity,
            platform,
            screens,
        } => {
            if let Ok(existing) = AgentConfig::load(&cli.config) {
                if !force {
                    anyhow::bail!(
                        "this computer is already enrolled as {} (site {}); use --force to enroll it again",
                        existing.agent_id,
                        existing.site_id
                    );
                }
                // The outbox numbers events per identity: a new identity starts afresh.
                // Events the old one never delivered cannot be delivered as the new one.
                // Without --new-identity the computer keeps its identity and its outbox.
                let path = existing.state_file(files::OUTBOX);
                if new_identity {
                    for f in [files::KEY, files::CERT] {
                        let _ = std::fs::remove_file(existing.state_file(f));
                    }
                }
                if new_identity && path.exists() {
                    let pending = match Outbox::open(&path, existing.outbox_capacity).await {
                        Ok(outbox) => outbox.len().await.unwrap_or(0),
                        Err(_) => 0,
                    };
                    for suffix in ["", "-wal", "-shm"] {
                        let mut file = path.clone().into_os_string();
                        file.push(suffix);
                        let _ = std::fs::remove_file(file);
                    }
                    if pending > 0 {
                        eprintln!(
                            "{pending} events of the previous enrollment ({}) were never delivered and are dropped",
                            existing.agent_id
                        );
                    }
                }
            }
            let config = enroll(EnrollOptions {
                controller,
                token,
                config_path: cli.config.clone(),
                state_dir,
                asset_tag,
                funding_line,
                hostname,
                base: {
                    let mut base = AgentConfig::default();
                    base.sessions.platform = platform;
                    base.screens.listen = match screens.as_deref() {
                        Some("off") => String::new(),
                        Some(addr) => addr.to_string(),
                        None if platform == PlatformKind::Sandbox => String::new(),
                        None => base.screens.listen,
                    };
                    base.screens.address()?;
                    base
                },
            })
            .await?;
            println!(
                "enrolled as {} in site {}; configuration written to {}",
                config.agent_id,
                config.site_id,
                cli.config.display()
            );
        }
        Command::Run {
            simulate_sessions_per_minute,
        } => {
            // Before anything else: an agent without the demo's pieces says so at once.
            if simulate_sessions_per_minute.is_some() {
                commune_agent::demo_option("--simulate-sessions-per-minute")?;
            }
            if std::env::var_os(commune_agent::DEMO_CLOCK).is_some() {
                commune_agent::demo_option(commune_agent::DEMO_CLOCK)?;
            }
            let config = AgentConfig::load(&cli.config)?;
            let client = commune_agent::tls::client_config(&config)
                .context("cannot load this computer's certificate")?;
            let outbox =
                Outbox::open(&config.state_file(files::OUTBOX), config.outbox_capacity).await?;
            tracing::info!(agent = %config.agent_id, controller = %config.controller, platform = ?config.sessions.platform, pending = outbox.len().await.unwrap_or(0), "agent starting");
            let sessions = commune_agent::start_sessions(&config, &outbox)?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let mut tasks = Vec::new();
            if let Some(manager) = &sessions {
                let socket = config.sessions.ctl_socket_in(&config.state_dir);
                let listener = commune_agent::ctl::bind(&socket)
                    .with_context(|| format!("control socket {}", socket.display()))?;
                let mut stop = stop_rx.clone();
                tasks.push(tokio::spawn(commune_agent::ctl::serve(
                    listener,
                    manager.clone(),
                    async move {
                        let _ = stop.changed().await;
                    },
                )));
            }
            if let (Some(manager), Some(addr)) = (&sessions, config.screens.address()?) {
                // A visitor's process may have taken the screens' port while the agent was
                // down, to show pages of its own: once the unfinished wipe is done (it kills
                // the sessions' processes), whatever session account still holds it goes.
                #[cfg(target_os = "linux")]
                if config.sessions.platform == PlatformKind::LinuxDirect {
                    manager.wait_for(|s| !s.recovering).await;
                    let uids = config.sessions.linux.uid_first..=config.sessions.linux.uid_last;
                    let port = addr.port();
                    let killed = tokio::task::spawn_blocking(move || {
                        commune_agent::platform::linux::machine::evict_session_listeners(port, uids)
                    })
                    .await
                    .unwrap_or(0);
                    if killed > 0 {
                        tracing::warn!(killed, port, "a session account held the visitor screens' port; its processes were killed");
                    }
                }
                let mut stop = stop_rx.clone();
                let options = commune_agent::screens::Options::for_config(&config)
                    .map_err(anyhow::Error::msg)?;
                let secret = options.secret.path().to_path_buf();
                let (bound, task) =
                    commune_agent::screens::start(addr, manager.clone(), options, async move {
                        let _ = stop.changed().await;
                    })
                    .await
                    .map_err(anyhow::Error::msg)?;
                tracing::info!(addr = %bound, greeter_secret = %secret.display(), "visitor screens served");
                tasks.push(task);
            }
            #[cfg(feature = "demo")]
            if let Some(rate) = simulate_sessions_per_minute {
                tasks.push(match &sessions {
                    Some(manager) => tokio::spawn(commune_agent::simulate::sessions(
                        manager.clone(),
                        rate,
                        std::env::var_os("COMMUNE_DEMO_TICKETS").map(PathBuf::from),
                    )),
                    None => tokio::spawn(commune_agent::simulate::visitors(outbox.clone(), rate)),
                });
            }
            // Ready for systemd once no unfinished wipe remains (at once without sessions).
            match &sessions {
                Some(manager) => {
                    let manager = manager.clone();
                    tasks.push(tokio::spawn(async move {
                        manager.wait_for(|s| !s.recovering).await;
                        commune_agent::notify_ready();
                    }));
                }
                None => commune_agent::notify_ready(),
            }
            let seat = match &sessions {
                Some(manager) => Seat::with_sessions(manager.clone()),
                None => Seat::default(),
            }
            .with_wake_target(&config.wake_on_lan);
            let (link, state) = Link::new(config, client, outbox, seat);
            if let Some(manager) = &sessions {
                tasks.push(tokio::spawn(commune_agent::manager::follow_link(
                    manager.clone(),
                    state,
                )));
            }
            link.run(stop_signal()).await;
            let _ = stop_tx.send(true);
            for task in tasks {
                task.abort();
            }
        }
        Command::Ctl { socket, op } => {
            let op_name_only = match &op {
                CtlOp::StartSession { name_only, .. } => Some(*name_only),
                _ => None,
            };
            let socket = socket.unwrap_or_else(|| {
                AgentConfig::load(&cli.config)
                    .map(|c| c.sessions.ctl_socket_in(&c.state_dir))
                    .unwrap_or_else(|_| AgentConfig::default().sessions.ctl_socket)
            });
            let request = match op {
                CtlOp::Status => CtlRequest::Status,
                CtlOp::StartSession {
                    kind, ticket, pin, ..
                } => CtlRequest::StartSession {
                    kind: match kind {
                        KindArg::Free => SlotKind::Free,
                        KindArg::Supervised => SlotKind::Supervised,
                    },
                    ticket,
                    pin,
                },
                CtlOp::EndSession => CtlRequest::EndSession,
                CtlOp::LastWipeReport => CtlRequest::LastWipeReport,
            };
            let name_only = matches!(op_name_only, Some(true));
            let response = commune_agent::ctl::request(&socket, &request).await?;
            if let (true, CtlResponse::Started(info)) = (name_only, &response) {
                println!("{}", info.account);
                return Ok(());
            }
            let (json, failed) = match &response {
                CtlResponse::Status(s) => (serde_json::to_string_pretty(s)?, false),
                CtlResponse::Started(s) => (serde_json::to_string_pretty(s)?, false),
                CtlResponse::WipeReport(r) => (serde_json::to_string_pretty(r)?, !r.verified),
                CtlResponse::NoReport => ("null".to_owned(), false),
                CtlResponse::Error { message } => anyhow::bail!("{message}"),
            };
            println!("{json}");
            if failed {
                std::process::exit(2);
            }
        }
        Command::Selftest { dry_run } => {
            // The configuration that will run, enrolled or not: never the defaults in its
            // place, which may differ from it (another uid range, another home base).
            let config = AgentConfig::read(&cli.config)
                .map_err(|e| anyhow::anyhow!(unusable_config(&cli.config, &e)))?;
            if config.sessions.platform != PlatformKind::LinuxDirect {
                anyhow::bail!(
                    "{} runs the {} platform: the self-test checks visitors' sessions on the \
                     linux-direct platform only",
                    cli.config.display(),
                    platform_name(config.sessions.platform)
                );
            }
            let mut linux = config.sessions.linux.clone();
            linux.state_dir = config.state_dir.clone();
            println!(
                "selftest of {}{}: linux-direct sessions, uids {}–{}, homes under {}, state in {}",
                cli.config.display(),
                if config.agent_id.is_empty() {
                    " (not enrolled yet)"
                } else {
                    ""
                },
                linux.uid_first,
                linux.uid_last,
                linux.home_base.display(),
                linux.state_dir.display()
            );
            if dry_run {
                print!(
                    "[sessions.linux]\n{}",
                    toml::to_string_pretty(&config.sessions.linux)?
                );
                return Ok(());
            }
            let outcome = commune_agent::selftest::run(linux)?;
            println!("{}", outcome.render());
            if !outcome.passed() {
                std::process::exit(1);
            }
        }
        Command::DefaultConfig => {
            print!("{}", toml::to_string_pretty(&AgentConfig::default())?);
        }
    }
    Ok(())
}
