//! `commune`: the controller, the dashboard and the admin commands, in one binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use commune_controller::{Controller, ControllerConfig};
use commune_provisioning::FleetCa;

mod commands;
mod demo;

use commands::agent::AgentCommand;
use commands::ca::CaCommand;
use commands::schedule::ScheduleCommand;
use commands::site::SiteCommand;
use commands::slot::SlotCommand;
use commands::tickets::TicketsCommand;
use commands::token::TokenCommand;
use commands::user::UserCommand;

#[derive(Parser)]
#[command(
    name = "commune",
    version,
    about = "Commune: fleet and session manager for public computers"
)]
struct Cli {
    /// Configuration file (TOML); `commune config default` prints one.
    #[arg(long, global = true, env = "COMMUNE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, PKI); overrides the configuration file.
    #[arg(long, global = true, env = "COMMUNE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: `postgres://user:password@host/db` for PostgreSQL; default: the SQLite
    /// file `commune.db` in the data directory.
    #[arg(
        long,
        global = true,
        env = "COMMUNE_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The fleet certificate authority.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Sites (Maisons des Habitants).
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Enrollment tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Enrolled agents.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Free-access tickets.
    Tickets {
        #[command(subcommand)]
        command: TicketsCommand,
    },
    /// Supervised slots opened now (permanences staff open on chosen seats).
    Slot {
        #[command(subcommand)]
        command: SlotCommand,
    },
    /// A site's opening hours, closures, permanences and free-access rule.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// Staff accounts of the dashboard.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run the controller and the dashboard.
    Serve,
    /// Run the whole system on this machine: controller, dashboard and a simulated fleet.
    Demo(demo::DemoArgs),
    /// Configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the default configuration.
    Default,
}

fn load_config(cli: &Cli) -> anyhow::Result<ControllerConfig> {
    let mut config = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ControllerConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => ControllerConfig::default(),
    };
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &cli.database {
        config.database_url = commune_controller::config::DatabaseUrl(url.clone());
    }
    Ok(config)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the controller and the dashboard until `shutdown` resolves.
pub(crate) async fn serve(
    controller: Controller,
    quic: Option<SocketAddr>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let endpoint = controller.bind(quic)?;
    let dashboard_addr = controller.config().dashboard_listen;
    let listener = tokio::net::TcpListener::bind(dashboard_addr)
        .await
        .with_context(|| format!("cannot listen on {dashboard_addr} for the dashboard"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut dash_stop = stop_rx.clone();
    let dashboard = tokio::spawn(commune_dashboard::serve(
        listener,
        controller.clone(),
        async move {
            let _ = dash_stop.changed().await;
        },
    ));
    let server = commune_controller::run(endpoint, controller, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    server.await?;
    dashboard.await??;
    Ok(())
}

/// Creates the fleet CA (the demo does it on first start).
pub(crate) fn ca_init(
    config: &ControllerConfig,
    organisation: &str,
    names: &[String],
) -> anyhow::Result<FleetCa> {
    commands::ca::init(config, organisation, names)
}

/// The log on standard output: colours only on a terminal (a file or the journal gets
/// plain text), one JSON object per line with `COMMUNE_LOG_FORMAT=json` (for IT's log
/// collectors).
fn init_tracing() {
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn,sqlx=warn".into()),
        )
        .with_ansi(std::io::stdout().is_terminal());
    if std::env::var("COMMUNE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let config = load_config(&cli)?;
    match &cli.command {
        Command::Ca { command } => commands::ca::run(&config, command)?,
        Command::Site { command } => commands::site::run(&config, command).await?,
        Command::Token { command } => commands::token::run(&config, command).await?,
        Command::Agent { command } => commands::agent::run(&config, command).await?,
        Command::Tickets { command } => commands::tickets::run(&config, command).await?,
        Command::Slot { command } => commands::slot::run(&config, command).await?,
        Command::Schedule { command } => commands::schedule::run(&config, command).await?,
        Command::User { command } => commands::user::run(&config, command).await?,
        Command::Serve => {
            let controller = Controller::open(config.clone()).await?;
            tracing::info!(
                dashboard = %format!("http://{}", config.dashboard_listen),
                database = %config.database_url_redacted(),
                "starting"
            );
            serve(controller, None, shutdown_signal()).await?;
        }
        Command::Demo(args) => demo::run(config, args.clone()).await?,
        Command::Config {
            command: ConfigCommand::Default,
        } => print!("{}", ControllerConfig::default_toml()),
    }
    Ok(())
}
