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
    /// Set a site's public description (address, SIRET, contacts, services) from a TOML
    /// file, for the national "lieux de médiation numérique" export.
    Details {
        /// The site.
        id: String,
        /// The TOML file (fields of the schema: pivot, commune, code_postal, adresse…).
        file: PathBuf,
    },
    /// Set the PIN mediators type at the site's computers to open a supervised session
    /// (read from COMMUNE_MEDIATOR_PIN or the first line of standard input).
    Pin {
        /// The site.
        id: String,
    },
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
enum TicketsCommand {
    /// Print a batch of anonymous ticket codes for a site (only their hashes are kept).
    Create {
        /// The site whose computers accept them.
        #[arg(long)]
        site: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        count: usize,
        /// Session length each grants.
        #[arg(long, default_value_t = 45)]
        minutes: u32,
        /// Last day of validity (YYYY-MM-DD, until midnight at the site); default: 7 days.
        #[arg(long)]
        valid_until: Option<String>,
    },
}

#[derive(Subcommand)]
enum SlotCommand {
    /// Open a supervised slot now on chosen seats.
    Open {
        /// The site.
        #[arg(long)]
        site: String,
        /// A seat (agent id); repeat for several.
        #[arg(long = "seat", required = true)]
        seats: Vec<String>,
        /// How long it lasts from now.
        #[arg(long, default_value_t = 120)]
        minutes: u32,
        /// What it is ("Écrivain public").
        #[arg(long)]
        name: Option<String>,
        /// Who runs it.
        #[arg(long)]
        mediator: Option<String>,
    },
    /// Move the end of an open slot to `minutes` from now.
    Extend {
        /// The site.
        #[arg(long)]
        site: String,
        /// The slot's id, as `open` printed it.
        #[arg(long)]
        slot: String,
        /// New end, in minutes from now.
        #[arg(long)]
        minutes: u32,
    },
    /// Close an open slot now.
    Close {
        /// The site.
        #[arg(long)]
        site: String,
        /// The slot's id.
        #[arg(long)]
        slot: String,
    },
}

#[derive(Subcommand)]
enum ScheduleCommand {
    /// Replace a site's model from a TOML file (see docs/OPERATIONS.md for an example).
    Set {
        /// The site.
        #[arg(long)]
        site: String,
        /// The TOML file.
        file: PathBuf,
    },
    /// Print a site's model, or one seat's compiled slots.
    Show {
        /// The site.
        #[arg(long)]
        site: String,
        /// A seat (agent id): print its compiled slots for the coming days.
        #[arg(long)]
        seat: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account (password from COMMUNE_PASSWORD or the first line of
    /// standard input; at least 12 characters).
    Create {
        /// Login.
        #[arg(long)]
        login: String,
        /// Name shown.
        #[arg(long)]
        name: String,
        /// admin, it, staff or mediator.
        #[arg(long)]
        role: String,
        /// A site the account acts on (staff and mediator); repeatable.
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// List staff accounts.
    List,
    /// Create an API token for an account's scripts (printed once).
    Token {
        /// The account.
        #[arg(long)]
        login: String,
        /// What the token is for ("inventaire").
        #[arg(long)]
        name: String,
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

/// An administrator's command-line action in the audit log (actor `cli`).
async fn audit(store: &Store, action: &str, site: Option<&str>, detail: &str) {
    let entry = commune_controller::store::AuditEntry {
        at: now(),
        actor: "cli".into(),
        action: action.into(),
        site_id: site.map(String::from),
        detail: detail.into(),
    };
    if let Err(e) = store.audit(&entry).await {
        eprintln!("warning: the audit log was not written: {e}");
    }
}

/// Midnight at the end of `day` (YYYY-MM-DD) in the site's time zone.
async fn end_of_local_day(
    controller: &Controller,
    site: &str,
    day: &str,
) -> anyhow::Result<commune_protocol::UtcMillis> {
    let (model, _) = controller.site_schedule(site).await?;
    let date: jiff::civil::Date = day
        .parse()
        .with_context(|| format!("`{day}` is not a date like 2026-12-31"))?;
    let next = date
        .tomorrow()
        .with_context(|| format!("no day after {day}"))?;
    let zoned = next
        .to_zoned(jiff::tz::TimeZone::get(&model.time_zone)?)
        .with_context(|| format!("midnight after {day} in {}", model.time_zone))?;
    Ok(commune_protocol::UtcMillis(
        zoned.timestamp().as_millisecond(),
    ))
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
                    audit(&store, "site.add", Some(id), name).await;
                    println!("site {id} added");
                }
                SiteCommand::List => {
                    for s in store.sites().await? {
                        println!("{}\t{}", s.id, s.name);
                    }
                }
                SiteCommand::Details { id, file } => {
                    let text = std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let details: commune_controller::lieux::SiteDetails = toml::from_str(&text)
                        .with_context(|| format!("{} is not a site description", file.display()))?;
                    let problems = details.problems();
                    let controller = Controller::open(config.clone()).await?;
                    controller.set_site_details(id, &details).await?;
                    controller.record("cli", "site.details", Some(id), "").await;
                    if problems.is_empty() {
                        println!("description of {id} saved");
                    } else {
                        println!("description of {id} saved, but the export leaves it out until fixed: {}", problems.join("; "));
                    }
                }
                SiteCommand::Pin { id } => {
                    let pin = match std::env::var("COMMUNE_MEDIATOR_PIN") {
                        Ok(pin) => pin,
                        Err(_) => {
                            eprintln!("mediator PIN (4 to 8 digits):");
                            let mut line = String::new();
                            std::io::stdin().read_line(&mut line)?;
                            line.trim().to_owned()
                        }
                    };
                    let controller = Controller::open(config.clone()).await?;
                    let version = controller.set_mediator_pin(id, &pin).await?;
                    controller.record("cli", "pin.set", Some(id), "").await;
                    println!("mediator PIN of {id} set (schedule version {version})");
                }
            }
        }
        Command::Token { command } => match command {
            TokenCommand::Create { site, expires } => {
                let controller = Controller::open(config.clone()).await?;
                let expires =
                    expires.unwrap_or(Duration::from_secs(config.token_default_expiry_secs));
                let token = controller
                    .create_enrollment_token(
                        site,
                        i64::try_from(expires.as_secs()).unwrap_or(i64::MAX / 1000),
                    )
                    .await?;
                audit(
                    controller.store(),
                    "token.create",
                    Some(site),
                    &format!("valid {}", humantime::format_duration(expires)),
                )
                .await;
                eprintln!(
                    "single-use token for site {site}, valid for {}:",
                    humantime::format_duration(expires)
                );
                println!("{token}");
            }
        },
        Command::User { command } => {
            let controller = Controller::open(config.clone()).await?;
            match command {
                UserCommand::Create {
                    login,
                    name,
                    role,
                    sites,
                } => {
                    let role = commune_controller::staff::Role::parse(role).with_context(|| {
                        format!("unknown role `{role}`: admin, it, staff or mediator")
                    })?;
                    let password = match std::env::var("COMMUNE_PASSWORD") {
                        Ok(p) => p,
                        Err(_) => {
                            eprintln!("password for {login} (at least 12 characters):");
                            let mut line = String::new();
                            std::io::stdin().read_line(&mut line)?;
                            line.trim_end_matches(['\r', '\n']).to_owned()
                        }
                    };
                    controller
                        .create_staff(login, name, role, sites, &password)
                        .await?;
                    println!("account {login} ({}) created", role.as_str());
                }
                UserCommand::List => {
                    for login in controller.store().staff_logins().await? {
                        if let Some(u) = controller.store().staff(&login).await? {
                            println!(
                                "{}\t{}\t{}\t{}",
                                u.login,
                                u.role,
                                u.display_name,
                                u.sites.join(",")
                            );
                        }
                    }
                }
                UserCommand::Token { login, name } => {
                    let token = controller.create_api_token(login, name).await?;
                    eprintln!("API token `{name}` for {login} (shown once; send it as `Authorization: Bearer …`):");
                    println!("{token}");
                }
            }
        }
        Command::Tickets { command } => match command {
            TicketsCommand::Create {
                site,
                count,
                minutes,
                valid_until,
            } => {
                let controller = Controller::open(config.clone()).await?;
                let until = match valid_until {
                    Some(day) => end_of_local_day(&controller, site, day).await?,
                    None => now().plus_secs(7 * 86_400),
                };
                let codes = controller
                    .create_tickets(site, *count, *minutes, until)
                    .await?;
                controller
                    .record(
                        "cli",
                        "tickets.create",
                        Some(site),
                        &format!("{} ticket(s) of {minutes} min", codes.len()),
                    )
                    .await;
                eprintln!(
                    "{} tickets of {minutes} min for site {site}, valid until {until}:",
                    codes.len()
                );
                for code in codes {
                    println!("{code}");
                }
            }
        },
        Command::Slot { command } => {
            let controller = Controller::open(config.clone()).await?;
            match command {
                SlotCommand::Open {
                    site,
                    seats,
                    minutes,
                    name,
                    mediator,
                } => {
                    let until = now().plus_secs(i64::from(*minutes) * 60);
                    let id = controller
                        .open_supervised_slot(site, seats, until, name.clone(), mediator.clone())
                        .await?;
                    controller
                        .record(
                            "cli",
                            "slot.open",
                            Some(site),
                            &format!("{id}: {} seat(s) until {until}", seats.len()),
                        )
                        .await;
                    println!("{id}");
                    eprintln!("supervised slot {id} open until {until}; running controllers push it within seconds");
                }
                SlotCommand::Extend {
                    site,
                    slot,
                    minutes,
                } => {
                    let until = now().plus_secs(i64::from(*minutes) * 60);
                    controller.set_slot_end(site, slot, until).await?;
                    controller
                        .record(
                            "cli",
                            "slot.extend",
                            Some(site),
                            &format!("{slot} until {until}"),
                        )
                        .await;
                    println!("slot {slot} now ends at {until}");
                }
                SlotCommand::Close { site, slot } => {
                    controller.set_slot_end(site, slot, now()).await?;
                    controller
                        .record("cli", "slot.close", Some(site), slot)
                        .await;
                    println!("slot {slot} closed");
                }
            }
        }
        Command::Schedule { command } => {
            let controller = Controller::open(config.clone()).await?;
            match command {
                ScheduleCommand::Set { site, file } => {
                    let text = std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let model: commune_protocol::slots::SiteSchedule = toml::from_str(&text)
                        .with_context(|| format!("{} is not a site schedule", file.display()))?;
                    let version = controller.set_site_schedule(site, model).await?;
                    controller
                        .record(
                            "cli",
                            "schedule.set",
                            Some(site),
                            &format!("version {version}"),
                        )
                        .await;
                    println!("schedule of {site} is now version {version}");
                }
                ScheduleCommand::Show { site, seat } => match seat {
                    Some(seat) => match controller.seat_schedule(site, seat).await? {
                        Some(schedule) => {
                            for s in schedule.slots {
                                println!("{}\t{}\t{:?}", s.start, s.end, s.kind);
                            }
                        }
                        None => println!("no schedule: free access by the agents' rules"),
                    },
                    None => {
                        let (model, version) = controller.site_schedule(site).await?;
                        println!("# version {version}");
                        print!("{}", toml::to_string_pretty(&model)?);
                    }
                },
            }
        }
        Command::Agent { command } => {
            let store = open_store(&config).await?;
            match command {
                AgentCommand::Revoke { id } => {
                    if !store.revoke(id, now()).await? {
                        bail!("no agent {id}; `commune agent list` shows the enrolled ones");
                    }
                    audit(&store, "agent.revoke", None, id).await;
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
