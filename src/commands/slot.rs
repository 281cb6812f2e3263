//! `commune slot`: supervised slots opened now on chosen seats.

use clap::Subcommand;
use commune_controller::{now, ControllerConfig};

use super::{cli, controller};

#[derive(Subcommand)]
pub(crate) enum SlotCommand {
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

pub(crate) async fn run(config: &ControllerConfig, command: &SlotCommand) -> anyhow::Result<()> {
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    let in_minutes = |minutes: u32| now().plus_secs(i64::from(minutes) * 60);
    match command {
        SlotCommand::Open {
            site,
            seats,
            minutes,
            name,
            mediator,
        } => {
            let until = in_minutes(*minutes);
            let id = api
                .open_slot(site, seats, until, name.clone(), mediator.clone())
                .await?;
            println!("{id}");
            eprintln!(
                "supervised slot {id} open until {until}; running controllers push it within seconds"
            );
        }
        SlotCommand::Extend {
            site,
            slot,
            minutes,
        } => {
            let until = in_minutes(*minutes);
            api.extend_slot(site, slot, until).await?;
            println!("slot {slot} now ends at {until}");
        }
        SlotCommand::Close { site, slot } => {
            api.close_slot(site, slot).await?;
            println!("slot {slot} closed");
        }
    }
    Ok(())
}
