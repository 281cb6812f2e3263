//! `commune tickets`: free-access tickets.

use anyhow::Context;
use clap::Subcommand;
use commune_controller::staff::StaffApi;
use commune_controller::{now, ControllerConfig};
use commune_protocol::UtcMillis;

use super::{cli, controller};

#[derive(Subcommand)]
pub(crate) enum TicketsCommand {
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

/// Midnight at the end of `day` (YYYY-MM-DD) in the site's time zone.
async fn end_of_local_day(api: &StaffApi<'_>, site: &str, day: &str) -> anyhow::Result<UtcMillis> {
    let (model, _) = api.schedule(site).await?;
    let date: jiff::civil::Date = day
        .parse()
        .with_context(|| format!("`{day}` is not a date like 2026-12-31"))?;
    let next = date
        .tomorrow()
        .with_context(|| format!("no day after {day}"))?;
    let zoned = next
        .to_zoned(jiff::tz::TimeZone::get(&model.time_zone)?)
        .with_context(|| format!("midnight after {day} in {}", model.time_zone))?;
    Ok(UtcMillis(zoned.timestamp().as_millisecond()))
}

pub(crate) async fn run(config: &ControllerConfig, command: &TicketsCommand) -> anyhow::Result<()> {
    let TicketsCommand::Create {
        site,
        count,
        minutes,
        valid_until,
    } = command;
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    let until = match valid_until {
        Some(day) => end_of_local_day(&api, site, day).await?,
        None => now().plus_secs(7 * 86_400),
    };
    let codes = api.create_tickets(site, *count, *minutes, until).await?;
    eprintln!(
        "{} tickets of {minutes} min for site {site}, valid until {until}:",
        codes.len()
    );
    for code in codes {
        println!("{code}");
    }
    Ok(())
}
