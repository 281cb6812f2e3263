//! `commune demo`: the whole system on one machine. A controller and the dashboard on an
//! embedded SQLite file, and a small fleet of real `commune-agent` processes, each enrolled
//! with its own single-use token over real QUIC on loopback.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use clap::Args;
use commune_controller::{now, Controller, ControllerConfig};
use commune_provisioning::FleetCa;

/// Options of the demo.
#[derive(Args, Clone, Debug)]
pub(crate) struct DemoArgs {
    /// How many simulated public computers to run.
    #[arg(long, default_value_t = 6)]
    agents: usize,
    /// QUIC address of the controller.
    #[arg(long, default_value = "127.0.0.1:4433")]
    quic: std::net::SocketAddr,
    /// Dashboard address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    dashboard: std::net::SocketAddr,
    /// Simulated visitors per computer and per minute (0: none).
    #[arg(long, default_value_t = 0.5)]
    visitors_per_minute: f64,
    /// The `commune-agent` binary (default: next to this one).
    #[arg(long, env = "COMMUNE_AGENT_BIN")]
    agent_bin: Option<PathBuf>,
}

/// The demo's staff login (printed at start).
const DEMO_LOGIN: &str = "admin";
/// Its password: a demo on one machine, not a secret.
const DEMO_PASSWORD: &str = "commune-demo-2026";

const SITES: [(&str, &str); 3] = [
    ("mdh-abbaye", "MDH Abbaye"),
    ("mdh-bajatiere", "MDH Bajatière"),
    ("mdh-centre-ville", "MDH Centre-ville"),
];

fn agent_bin(args: &DemoArgs) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.agent_bin {
        return Ok(bin.clone());
    }
    let me = std::env::current_exe().context("locating this program")?;
    let bin = me.with_file_name("commune-agent");
    if !bin.exists() {
        bail!(
            "{} not found: build both programs with `cargo build --release` (or pass --agent-bin)",
            bin.display()
        );
    }
    Ok(bin)
}

pub(crate) async fn run(mut config: ControllerConfig, args: DemoArgs) -> anyhow::Result<()> {
    if config.data_dir == ControllerConfig::default().data_dir {
        config.data_dir = PathBuf::from("demo-data");
    }
    config.quic_listen = args.quic;
    config.dashboard_listen = args.dashboard;
    // Shorter than production so that the dashboard moves while you watch.
    config.health_interval_secs = 10;
    std::fs::create_dir_all(&config.data_dir)?;
    let agent_bin = agent_bin(&args)?;

    if FleetCa::load(&config.pki_dir()).is_err() {
        crate::ca_init(
            &config,
            "Ville de Grenoble (démonstration)",
            &["localhost".into(), "127.0.0.1".into()],
        )?;
    }
    let controller = Controller::open(config.clone()).await?;
    let known: Vec<String> = controller
        .store()
        .sites()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for (id, name) in SITES {
        if !known.iter().any(|k| k == id) {
            controller.store().add_site(id, name, now()).await?;
        }
    }
    // A staff account to log in with (the demo's only; a real city creates its own).
    if controller.store().staff(DEMO_LOGIN).await?.is_none() {
        controller
            .create_staff(
                DEMO_LOGIN,
                "Administratrice (démo)",
                commune_controller::staff::Role::Admin,
                &[],
                DEMO_PASSWORD,
            )
            .await?;
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(crate::serve(
        controller.clone(),
        Some(args.quic),
        async move {
            let _ = server_stop.changed().await;
        },
    ));

    let mut children = Vec::new();
    let agents_dir = config.data_dir.join("agents");
    for i in 0..args.agents {
        let (site, _) = SITES[i % SITES.len()];
        let seat = i / SITES.len() + 1;
        let dir = agents_dir.join(format!("{site}-pc{seat:02}"));
        let config_path = dir.join("agent.toml");
        if !config_path.exists() {
            let token = controller.create_enrollment_token(site, 600).await?;
            enroll(&agent_bin, &dir, &config_path, &args, site, seat, &token).await?;
        }
        let log = std::fs::File::create(dir.join("agent.log"))?;
        let child = tokio::process::Command::new(&agent_bin)
            .arg("--config")
            .arg(&config_path)
            .arg("run")
            .args(if args.visitors_per_minute > 0.0 {
                vec![
                    "--simulate-sessions-per-minute".to_string(),
                    args.visitors_per_minute.to_string(),
                ]
            } else {
                vec![]
            })
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", agent_bin.display()))?;
        children.push(child);
    }

    println!();
    println!("Commune is running.");
    println!("  Dashboard:   http://{}", args.dashboard);
    println!("  Login:       {DEMO_LOGIN} / {DEMO_PASSWORD}");
    println!("  Metrics:     http://{}/metrics", args.dashboard);
    println!("  Controller:  {} (QUIC, mutual TLS)", args.quic);
    println!(
        "  Fleet:       {} agents (logs in {})",
        children.len(),
        agents_dir.display()
    );
    println!("  Data:        {}", config.data_dir.display());
    println!("Press Ctrl-C to stop.");

    crate::shutdown_signal().await;
    println!("stopping…");
    for child in &mut children {
        let _ = child.start_kill();
    }
    for child in &mut children {
        let _ = child.wait().await;
    }
    let _ = stop_tx.send(true);
    server.await??;
    Ok(())
}

async fn enroll(
    bin: &Path,
    dir: &Path,
    config_path: &Path,
    args: &DemoArgs,
    site: &str,
    seat: usize,
    token: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let out = tokio::process::Command::new(bin)
        .arg("--config")
        .arg(config_path)
        .arg("enroll")
        .arg("--platform")
        .arg("sandbox")
        .arg("--controller")
        .arg(args.quic.to_string())
        .arg("--state-dir")
        .arg(dir)
        .arg("--hostname")
        .arg(format!("{site}-pc{seat:02}"))
        .arg("--asset-tag")
        .arg(format!(
            "GRE-{}-{seat:03}",
            site.trim_start_matches("mdh-").to_uppercase()
        ))
        .arg("--funding-line")
        .arg("FEDER AURA 2024-117")
        .env("COMMUNE_ENROLL_TOKEN", token)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "enrolling {site}-pc{seat:02} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
