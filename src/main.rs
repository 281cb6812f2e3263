//! `commune`: the controller, the dashboard and the admin commands, in one binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use commune_controller::{now, Controller, ControllerConfig, Store};
use commune_provisioning::FleetCa;

mod demo;

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
enum CaCommand {
    /// Create the fleet CA and the controller's certificate.
    Init {
        /// Organisation named in the CA.
        #[arg(long, default_value = "Commune")]
        organisation: String,
        /// Host names or IP addresses of the controller (repeatable).
        #[arg(long = "name")]
        names: Vec<String>,
    },
    /// Print the CA fingerprint.
    Fingerprint,
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Add a site.
    Add {
        /// Stable id, e.g. mdh-abbaye.
        id: String,
        /// Display name, e.g. "MDH Abbaye".
        #[arg(long)]
        name: String,
    },
    /// List sites.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a single-use enrollment token for a site.
    Create {
        /// The site the computer will belong to.
        #[arg(long)]
        site: String,
        /// How long the token stays valid (e.g. 24h, 30m, 7d).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Revoke an agent: it is refused at its next handshake and cut off now.
    Revoke {
        /// Agent id (ag-…).
        id: String,
    },
    /// List enrolled agents.
    List,
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

async fn open_store(config: &ControllerConfig) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    Ok(Store::open(&config.database_url()).await?)
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

pub(crate) fn ca_init(
    config: &ControllerConfig,
    organisation: &str,
    names: &[String],
) -> anyhow::Result<FleetCa> {
    Ok(FleetCa::init(
        &config.pki_dir(),
        organisation,
        names,
        now(),
    )?)
}

pub(crate) async fn create_token(
    store: &Store,
    ca: &FleetCa,
    site: &str,
    expires: Duration,
) -> anyhow::Result<String> {
    let token = commune_provisioning::new_token(ca.fingerprint());
    let at = now();
    let expires_at = at.plus_secs(i64::try_from(expires.as_secs()).unwrap_or(i64::MAX / 1000));
    store
        .create_token(
            &commune_provisioning::token_hash(&token.secret),
            site,
            at,
            expires_at,
        )
        .await?;
    Ok(token.encode())
}

fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,quinn=warn,sqlx=warn".into()),
        )
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let config = load_config(&cli)?;
    match &cli.command {
        Command::Ca { command } => match command {
            CaCommand::Init {
                organisation,
                names,
            } => {
                let ca = ca_init(&config, organisation, names)?;
                println!("fleet CA created in {}", config.pki_dir().display());
                println!("fingerprint (SHA-256): {}", hex_fingerprint(&ca));
            }
            CaCommand::Fingerprint => {
                let ca = FleetCa::load(&config.pki_dir())?;
                println!("{}", hex_fingerprint(&ca));
            }
        },
        Command::Site { command } => {
            let store = open_store(&config).await?;
            match command {
                SiteCommand::Add { id, name } => {
                    store.add_site(id, name, now()).await?;
                    println!("site {id} added");
                }
                SiteCommand::List => {
                    for s in store.sites().await? {
                        println!("{}\t{}", s.id, s.name);
                    }
                }
            }
        }
        Command::Token { command } => match command {
            TokenCommand::Create { site, expires } => {
                let ca = FleetCa::load(&config.pki_dir())?;
                let store = open_store(&config).await?;
                let expires =
                    expires.unwrap_or(Duration::from_secs(config.token_default_expiry_secs));
                let token = create_token(&store, &ca, site, expires).await?;
                eprintln!(
                    "single-use token for site {site}, valid for {}:",
                    humantime::format_duration(expires)
                );
                println!("{token}");
            }
        },
        Command::Agent { command } => {
            let store = open_store(&config).await?;
            match command {
                AgentCommand::Revoke { id } => {
                    if !store.revoke(id, now()).await? {
                        bail!("no agent {id}; `commune agent list` shows the enrolled ones");
                    }
                    println!(
                        "agent {id} revoked; a running controller cuts it off within {} s",
                        config.revocation_poll_secs
                    );
                }
                AgentCommand::List => {
                    for a in store.overview().await? {
                        let state = if a.agent.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "enrolled"
                        };
                        println!(
                            "{}\t{}\t{}\t{}\tlast seen {}",
                            a.agent.id,
                            a.agent.site_id,
                            a.agent.hostname,
                            state,
                            a.last_seen_at
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "never".into())
                        );
                    }
                }
            }
        }
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

fn hex_fingerprint(ca: &FleetCa) -> String {
    ca.fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
