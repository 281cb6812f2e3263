//! `commune site`: sites (Maisons des Habitants), their public description and PIN.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use commune_controller::ControllerConfig;

use super::{cli, controller, secret};

#[derive(Subcommand)]
pub(crate) enum SiteCommand {
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

pub(crate) async fn run(config: &ControllerConfig, command: &SiteCommand) -> anyhow::Result<()> {
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    match command {
        SiteCommand::Add { id, name } => {
            api.add_site(id, name).await?;
            println!("site {id} added");
        }
        SiteCommand::List => {
            for s in api.sites().await? {
                println!("{}\t{}", s.id, s.name);
            }
        }
        SiteCommand::Details { id, file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let details: commune_controller::lieux::SiteDetails = toml::from_str(&text)
                .with_context(|| format!("{} is not a site description", file.display()))?;
            let problems = details.problems();
            api.set_site_details(id, &details).await?;
            if problems.is_empty() {
                println!("description of {id} saved");
            } else {
                println!(
                    "description of {id} saved, but the export leaves it out until fixed: {}",
                    problems.join("; ")
                );
            }
        }
        SiteCommand::Pin { id } => {
            let pin = secret("COMMUNE_MEDIATOR_PIN", "mediator PIN (4 to 8 digits):")?;
            let version = api.set_mediator_pin(id, pin.trim()).await?;
            println!("mediator PIN of {id} set (schedule version {version})");
        }
    }
    Ok(())
}
