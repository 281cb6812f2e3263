//! `commune token`: enrollment tokens for new computers.

use std::time::Duration;

use clap::Subcommand;
use commune_controller::ControllerConfig;

use super::{cli, controller};

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
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

pub(crate) async fn run(config: &ControllerConfig, command: &TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Create { site, expires } = command;
    let controller = controller(config).await?;
    let who = cli();
    let expires = expires.unwrap_or(Duration::from_secs(config.token_default_expiry_secs));
    let token = controller
        .staff_api(&who)
        .create_enrollment_token(
            site,
            i64::try_from(expires.as_secs()).unwrap_or(i64::MAX / 1000),
        )
        .await?;
    eprintln!(
        "single-use token for site {site}, valid for {}:",
        humantime::format_duration(expires)
    );
    println!("{token}");
    Ok(())
}
