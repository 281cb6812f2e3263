//! `commune-agent`: the daemon installed on each public computer.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use commune_agent::config::{files, AgentConfig};
use commune_agent::enroll::{enroll, EnrollOptions};
use commune_agent::link::Link;
use commune_agent::outbox::Outbox;
use commune_agent::seat::Seat;

#[derive(Parser)]
#[command(
    name = "commune-agent",
    version,
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
        /// Enroll again even if this computer is already enrolled.
        #[arg(long)]
        force: bool,
    },
    /// Run the agent.
    Run {
        /// Simulate visitors (demo and load tests): this many sessions a minute on average,
        /// recorded as events through the real outbox and link.
        #[arg(long)]
        simulate_sessions_per_minute: Option<f64>,
    },
    /// Print the default configuration.
    DefaultConfig,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn".into()),
        )
        .init();
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
        } => {
            if !force {
                if let Ok(existing) = AgentConfig::load(&cli.config) {
                    anyhow::bail!(
                        "this computer is already enrolled as {} (site {}); use --force to enroll it again",
                        existing.agent_id,
                        existing.site_id
                    );
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
                base: AgentConfig::default(),
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
            let config = AgentConfig::load(&cli.config)?;
            let client = commune_agent::tls::client_config(&config)
                .context("cannot load this computer's certificate")?;
            let outbox =
                Outbox::open(&config.state_file(files::OUTBOX), config.outbox_capacity).await?;
            tracing::info!(agent = %config.agent_id, controller = %config.controller, pending = outbox.len().await.unwrap_or(0), "agent starting");
            let simulation = simulate_sessions_per_minute
                .map(|rate| tokio::spawn(commune_agent::simulate::visitors(outbox.clone(), rate)));
            let (link, _state) = Link::new(config, client, outbox, Seat::default());
            link.run(stop_signal()).await;
            if let Some(s) = simulation {
                s.abort();
            }
        }
        Command::DefaultConfig => {
            print!("{}", toml::to_string_pretty(&AgentConfig::default())?);
        }
    }
    Ok(())
}
