//! `commune demo`: the whole system on one machine. A controller and the dashboard on an
//! embedded SQLite file; three MDH sites with their opening hours, weekly permanences, a
//! closure and (at two of them) tickets for free access; and 30 real `commune-agent`
//! processes, each enrolled with its own single-use token over real QUIC on loopback,
//! running real sessions and wipes on the sandbox platform with simulated visitors.
//! `--speed` runs the agents' day faster, so that opening, permanences and closing pass
//! in minutes.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use clap::Args;
use commune_controller::{now, Controller, ControllerConfig};
use commune_provisioning::FleetCa;

/// Options of the demo.
#[derive(Args, Clone, Debug)]
pub(crate) struct DemoArgs {
    /// How many simulated public computers to run (spread over the three sites).
    #[arg(long, default_value_t = 30)]
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
    /// The `commune-agent` binary, built with its `demo` feature (default: next to this
    /// one).
    #[arg(long, env = "COMMUNE_AGENT_BIN")]
    agent_bin: Option<PathBuf>,
    /// How much faster than real time the agents' day runs (60: a day in 24 minutes).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Start the agents' day now, even when every site is closed (by default, a demo
    /// started at night or on Sunday starts its day at the next opening).
    #[arg(long)]
    real_time: bool,
    /// The first seat of each site serves the visitor's screens from this port on
    /// (7380, 7381, 7382) and has no simulated visitors: try them in a browser. 0: none.
    #[arg(long, default_value_t = 7380)]
    screens_port: u16,
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

/// Each demo site's public description, so that the national exports (lieux de médiation
/// numérique, data·inclusion) have something to show: demonstration values, in the forms
/// people type them (the controller brings them to the schemas' spellings).
fn site_details(site: &str) -> commune_controller::lieux::SiteDetails {
    let (adresse, phone, lat, lon) = match site {
        "mdh-abbaye" => ("1 place de l'Abbaye", "04 76 00 00 01", 45.1791, 5.7390),
        "mdh-bajatiere" => ("2 rue de la Bajatière", "04 76 00 00 02", 45.1768, 5.7361),
        _ => ("3 rue du Centre", "04 76 00 00 03", 45.1885, 5.7245),
    };
    commune_controller::lieux::SiteDetails {
        pivot: "21380185500015".into(),
        commune: "Grenoble".into(),
        code_postal: "38000".into(),
        code_insee: "38185".into(),
        adresse: adresse.into(),
        latitude: Some(lat),
        longitude: Some(lon),
        telephone: phone.into(),
        presentation_resume: "Démonstration de Commune : ordinateurs en accès libre et \
                              permanences d'aide aux démarches en ligne."
            .into(),
        services: vec![
            "Aide aux démarches administratives".into(),
            "Accès internet et matériel informatique".into(),
        ],
        modalites_acces: vec!["Se présenter".into(), "Téléphoner".into()],
        modalites_accompagnement: vec!["En autonomie".into(), "Accompagnement individuel".into()],
        ..Default::default()
    }
}

/// Each site's schedule (TOML, as `commune schedule set` reads it). `SEATS_n` stands for
/// the site's first n seats; `CLOSURE` for a day next week.
fn site_schedule_toml(site: &str) -> &'static str {
    match site {
        "mdh-abbaye" => {
            r#"
time_zone = "Europe/Paris"
room_display = true
[seat_policy]
step_away_minutes = 10
usb_storage = "allowed"
[opening_hours]
monday    = [{ start = "13:30", end = "18:00" }]
tuesday   = [{ start = "09:00", end = "12:00" }, { start = "13:30", end = "18:00" }]
wednesday = [{ start = "09:00", end = "12:00" }, { start = "13:30", end = "18:00" }]
thursday  = [{ start = "13:30", end = "19:00" }]
friday    = [{ start = "09:00", end = "12:00" }, { start = "13:30", end = "17:00" }]
[free_access]
session_minutes = 45
ticket_required = true
[[closures]]
label = "Formation de l'équipe"
first_day = "CLOSURE"
last_day = "CLOSURE"
[[permanences]]
id = "ecrivain-mardi"
name = "Écrivain public"
programme = "ecrivain_public"
weekdays = ["tuesday"]
start = "14:00"
end = "17:00"
seats = SEATS_3
mediator = "Mme Martin"
[[permanences]]
id = "caf-jeudi"
name = "Permanence CAF"
programme = "autre"
weekdays = ["thursday"]
start = "14:00"
end = "16:30"
seats = SEATS_4
mediator = "M. Benali"
"#
        }
        "mdh-bajatiere" => {
            r#"
time_zone = "Europe/Paris"
[opening_hours]
monday    = [{ start = "09:00", end = "12:00" }, { start = "14:00", end = "18:00" }]
tuesday   = [{ start = "09:00", end = "12:00" }, { start = "14:00", end = "18:00" }]
wednesday = [{ start = "09:00", end = "12:00" }, { start = "14:00", end = "18:00" }]
thursday  = [{ start = "09:00", end = "12:00" }, { start = "14:00", end = "18:00" }]
friday    = [{ start = "09:00", end = "12:00" }, { start = "14:00", end = "17:00" }]
saturday  = [{ start = "09:00", end = "12:00" }]
[free_access]
session_minutes = 30
ticket_required = false
[[permanences]]
id = "mediation-lundi-mercredi"
name = "Médiation numérique"
programme = "conseiller_numerique"
weekdays = ["monday", "wednesday"]
start = "09:00"
end = "12:00"
seats = SEATS_4
mediator = "Mme Nguyen"
[[permanences]]
id = "acces-droit-vendredi"
name = "Point d'accès au droit"
programme = "autre"
weekdays = ["friday"]
start = "14:00"
end = "17:00"
seats = SEATS_2
mediator = "Me Rossi"
"#
        }
        _ => {
            r#"
time_zone = "Europe/Paris"
[opening_hours]
monday    = [{ start = "09:00", end = "18:30" }]
tuesday   = [{ start = "09:00", end = "18:30" }]
wednesday = [{ start = "09:00", end = "18:30" }]
thursday  = [{ start = "09:00", end = "18:30" }]
friday    = [{ start = "09:00", end = "18:30" }]
saturday  = [{ start = "10:00", end = "17:00" }]
[free_access]
session_minutes = 45
ticket_required = true
[[permanences]]
id = "titre-sejour-jeudi"
name = "Aide aux démarches : titre de séjour"
programme = "ecrivain_public"
weekdays = ["thursday"]
start = "09:00"
end = "12:00"
seats = SEATS_5
mediator = "Mme Haddad"
[[permanences]]
id = "emploi-mardi"
name = "Atelier emploi"
programme = "atelier"
weekdays = ["tuesday", "saturday"]
start = "10:00"
end = "12:00"
seats = SEATS_3
mediator = "M. Lefèvre"
"#
        }
    }
}

fn agent_bin(args: &DemoArgs) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.agent_bin {
        return Ok(bin.clone());
    }
    let me = std::env::current_exe().context("locating this program")?;
    let bin = me.with_file_name("commune-agent");
    if !bin.exists() {
        bail!(
            "{} not found: build both programs with `cargo build --release -p commune -p \
             commune-agent --features demo` (scripts/demo does), or pass --agent-bin",
            bin.display()
        );
    }
    Ok(bin)
}

/// Simulated visitors and the accelerated clock are in an agent built with the `demo`
/// feature only (never in the package for public computers); such an agent says so in its
/// `--version`. Refuses, before anything starts, an agent without them.
fn check_demo_build(bin: &Path) -> anyhow::Result<()> {
    let out = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stdout);
    if !version.contains("demo build") {
        bail!(
            "{} ({}) was built without the demo feature, so it has no simulated visitors \
             and no accelerated clock: build it with `cargo build --release -p commune-agent \
             --features demo` (scripts/demo does)",
            bin.display(),
            version.trim()
        );
    }
    Ok(())
}

pub(crate) async fn run(mut config: ControllerConfig, args: DemoArgs) -> anyhow::Result<()> {
    if config.data_dir == ControllerConfig::default().data_dir {
        config.data_dir = PathBuf::from("demo-data");
    }
    config.quic_listen = args.quic;
    // The simulated fleet has UDP: no TLS-over-TCP listener (443 needs privileges).
    config.tcp_listen = String::new();
    config.dashboard_listen = args.dashboard;
    // Shorter than production so that the dashboard moves while you watch.
    config.health_interval_secs = 10;
    std::fs::create_dir_all(&config.data_dir)?;
    let agent_bin = agent_bin(&args)?;
    check_demo_build(&agent_bin)?;

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
        if controller.site_details(id).await?.pivot.is_empty() {
            controller.set_site_details(id, &site_details(id)).await?;
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

    // Enroll the fleet first (each computer with its own single-use token), so that the
    // schedules can name the seats of their permanences.
    let agents_dir = config.data_dir.join("agents");
    let mut fleet = Vec::new();
    for i in 0..args.agents {
        let (site, _) = SITES[i % SITES.len()];
        let seat = i / SITES.len() + 1;
        let dir = agents_dir.join(format!("{site}-pc{seat:02}"));
        let config_path = dir.join("agent.toml");
        let screens = (seat == 1 && args.screens_port != 0).then(|| {
            let port = args.screens_port + u16::try_from(i).unwrap_or(0);
            format!("127.0.0.1:{port}")
        });
        if !config_path.exists() {
            let token = controller.create_enrollment_token(site, 600).await?;
            enroll(
                &agent_bin,
                &dir,
                &config_path,
                &args,
                site,
                seat,
                &token,
                screens.as_deref(),
            )
            .await?;
        }
        fleet.push((site, dir, config_path, screens));
    }
    let tickets_dir = config.data_dir.join("tickets");
    std::fs::create_dir_all(&tickets_dir)?;
    for (site, _) in SITES {
        let model = site_schedule(&controller, site).await?;
        let ticket_required = model.free_access.ticket_required;
        controller.set_site_schedule(site, model).await?;
        // The reception's tickets (the simulated visitors take theirs from this file).
        if ticket_required {
            let until = commune_protocol::UtcMillis(now().0 + 30 * 86_400_000);
            let codes = controller.create_tickets(site, 300, 45, until).await?;
            std::fs::write(
                tickets_dir.join(format!("{site}.txt")),
                codes.join("\n") + "\n",
            )?;
        }
    }
    // A year of plausible past, once, before the seats first connect (see
    // `commune_controller::history`): every report shows something on the first visit.
    let history_file = config.data_dir.join("history.json");
    if !history_file.exists() {
        let sites: Vec<&str> = SITES.iter().map(|(id, _)| *id).collect();
        println!("Writing a year of demo history (sessions, permanences, health)…");
        let history =
            commune_controller::history::write_history(&controller, &sites, 365, now(), 2026)
                .await
                .context("writing the demo's history")?;
        std::fs::write(&history_file, serde_json::to_string_pretty(&history)?)?;
    }
    let origin = clock_origin(&controller, args.real_time).await?;
    let shifted = origin.0 != now().0 || args.speed != 1.0;

    let mut children = Vec::new();
    for (site, dir, config_path, screens) in &fleet {
        if screens.is_some() {
            // The agent writes a new greeter's secret at start; the old one must not be read.
            let _ = std::fs::remove_file(dir.join(GREETER_SECRET));
        }
        let log = std::fs::File::create(dir.join("agent.log"))?;
        let simulate = args.visitors_per_minute > 0.0 && screens.is_none();
        let mut command = tokio::process::Command::new(&agent_bin);
        command
            .arg("--config")
            .arg(config_path)
            .arg("run")
            .args(if simulate {
                vec![
                    "--simulate-sessions-per-minute".to_string(),
                    args.visitors_per_minute.to_string(),
                ]
            } else {
                vec![]
            })
            .env(
                "COMMUNE_DEMO_TICKETS",
                tickets_dir.join(format!("{site}.txt")),
            )
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        if shifted {
            command.env("COMMUNE_DEMO_CLOCK", format!("{}:{}", origin.0, args.speed));
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", agent_bin.display()))?;
        children.push(child);
    }

    println!();
    println!("Commune is running.");
    println!("  Dashboard:   http://{}", args.dashboard);
    println!("  Login:       {DEMO_LOGIN} / {DEMO_PASSWORD}");
    println!("  Metrics:     http://{}/metrics", args.dashboard);
    println!(
        "  Room display (no login, for the MDH's television): http://{}/salle/mdh-abbaye",
        args.dashboard
    );
    println!("  Controller:  {} (QUIC, mutual TLS)", args.quic);
    println!(
        "  Fleet:       {} agents at 3 sites (logs in {})",
        children.len(),
        agents_dir.display()
    );
    for (site, dir, _, screens) in &fleet {
        if let Some(screens) = screens {
            // Opened as the greeter opens them (the secret makes a cookie): only there do
            // tickets and PINs open a session.
            match greeter_secret(&dir.join(GREETER_SECRET)).await {
                Some(secret) => println!(
                    "  Visitor screens of {site}-pc01: http://{screens}/borne?cle={secret}"
                ),
                None => println!(
                    "  Visitor screens of {site}-pc01: http://{screens}/ (the agent wrote no \
                     greeter's secret: see {}; forms will be refused)",
                    dir.join("agent.log").display()
                ),
            }
        }
    }
    println!("  Tickets:     {}", tickets_dir.display());
    if shifted {
        println!(
            "  Agents' clock: starts at {} (Europe/Paris), {}× real time",
            paris(origin),
            args.speed
        );
    }
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

/// Where a sandbox agent with screens writes the greeter's secret (in its state folder).
const GREETER_SECRET: &str = "screens-secret";

/// The greeter's secret an agent wrote at its start, once it is there (20 s at most).
async fn greeter_secret(path: &Path) -> Option<String> {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(path) {
            let secret = text.trim();
            if secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(secret.to_string());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

#[allow(clippy::too_many_arguments)]
async fn enroll(
    bin: &Path,
    dir: &Path,
    config_path: &Path,
    args: &DemoArgs,
    site: &str,
    seat: usize,
    token: &str,
    screens: Option<&str>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let out = tokio::process::Command::new(bin)
        .arg("--config")
        .arg(config_path)
        .arg("enroll")
        .arg("--platform")
        .arg("sandbox")
        .arg("--screens")
        .arg(screens.unwrap_or("off"))
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

/// The site's schedule: its TOML with the seats of its permanences (its first seats, in
/// enrollment order) and its closure (a day next week) filled in.
async fn site_schedule(
    controller: &Controller,
    site: &str,
) -> anyhow::Result<commune_protocol::slots::SiteSchedule> {
    let seats = controller.store().site_seats(site).await?;
    let mut text = site_schedule_toml(site).to_string();
    for n in 1..=5 {
        let list: Vec<String> = seats.iter().take(n).map(|s| format!("{s:?}")).collect();
        text = text.replace(&format!("SEATS_{n}"), &format!("[{}]", list.join(", ")));
    }
    let closure = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Paris")?)
        .date()
        .checked_add(jiff::Span::new().days(8))?;
    text = text.replace("CLOSURE", &closure.to_string());
    toml::from_str(&text).with_context(|| format!("the demo schedule of {site}"))
}

/// When the agents' day starts: now if a site is open, else the next opening of any site
/// (a demo started at night shows open sites at once), unless `real_time`.
async fn clock_origin(
    controller: &Controller,
    real_time: bool,
) -> anyhow::Result<commune_protocol::UtcMillis> {
    let at = now();
    if real_time {
        return Ok(at);
    }
    let mut next: Option<commune_protocol::UtcMillis> = None;
    for (site, _) in SITES {
        for seat in controller.store().site_seats(site).await? {
            let Some(schedule) = controller.seat_schedule(site, &seat).await? else {
                continue;
            };
            for slot in &schedule.slots {
                if slot.kind == commune_protocol::messages::SlotKind::Closed || slot.end <= at {
                    continue;
                }
                if slot.start <= at {
                    return Ok(at);
                }
                if next.is_none_or(|n| slot.start < n) {
                    next = Some(slot.start);
                }
            }
        }
    }
    // A minute after the opening: the seats are already open when the demo is.
    Ok(next.map_or(at, |n| commune_protocol::UtcMillis(n.0 + 60_000)))
}

fn paris(at: commune_protocol::UtcMillis) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .ok()
        .and_then(|t| Some(t.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").ok()?)))
        .map(|z| z.strftime("%A %d/%m %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's sites go into the national exports: their descriptions pass the schema's
    /// checks once brought to its spellings.
    #[test]
    fn the_demo_sites_pass_the_national_checks() {
        for (id, name) in SITES {
            let d = site_details(id).normalized();
            assert_eq!(d.problems(name), [], "{id}");
            assert!(d.telephone.starts_with("+334"), "{id}");
        }
    }
}
