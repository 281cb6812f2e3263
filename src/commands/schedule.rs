//! `commune schedule`: a site's opening hours, closures, permanences and free-access rule.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use commune_controller::ControllerConfig;

use super::{cli, controller};

#[derive(Subcommand)]
pub(crate) enum ScheduleCommand {
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

pub(crate) async fn run(
    config: &ControllerConfig,
    command: &ScheduleCommand,
) -> anyhow::Result<()> {
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    match command {
        ScheduleCommand::Set { site, file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let model: commune_protocol::slots::SiteSchedule = toml::from_str(&text)
                .with_context(|| format!("{} is not a site schedule", file.display()))?;
            let version = api.set_schedule(site, model).await?;
            println!("schedule of {site} is now version {version}");
        }
        ScheduleCommand::Show {
            site,
            seat: Some(seat),
        } => match api.seat_schedule(site, seat).await? {
            Some(schedule) => {
                for s in schedule.slots {
                    println!("{}\t{}\t{:?}", s.start, s.end, s.kind);
                }
            }
            None => println!("no schedule: free access by the agents' rules"),
        },
        ScheduleCommand::Show { site, seat: None } => {
            let (model, version) = api.schedule(site).await?;
            println!("# version {version}");
            print!("{}", toml::to_string_pretty(&model)?);
        }
    }
    Ok(())
}
