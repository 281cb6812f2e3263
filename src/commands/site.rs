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
    /// Write the national "lieux de médiation numérique" CSV of every site (schema v1.0.2)
    /// and say, site by site and field by field, what keeps a site out of it.
    ExportLieux {
        /// Where to write the CSV (standard output when not given).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Write the data·inclusion services (schema v1.0.8) of every site, in JSON: its free
    /// access and its permanences; sites the "lieux" export leaves out are left out too.
    ExportInclusion {
        /// Where to write the JSON (standard output when not given).
        #[arg(long, short)]
        output: Option<PathBuf>,
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
            let problems = api.set_site_details(id, &details).await?;
            if problems.iter().any(|p| p.blocking) {
                println!("description of {id} saved, but the national export leaves it out until these fields are fixed:");
            } else {
                println!("description of {id} saved");
            }
            for p in &problems {
                println!("  {}", p.text("en"));
            }
        }
        SiteCommand::ExportLieux { output } => {
            let export = api.lieux_csv().await?;
            write_export(output.as_deref(), &export.body, export.checks.iter())?;
        }
        SiteCommand::ExportInclusion { output } => {
            let export = api.inclusion_services().await?;
            write_export(output.as_deref(), &export.body, export.left_out())?;
        }
        SiteCommand::Pin { id } => {
            let pin = secret("COMMUNE_MEDIATOR_PIN", "mediator PIN (4 to 8 digits):")?;
            let version = api.set_mediator_pin(id, pin.trim()).await?;
            println!("mediator PIN of {id} set (schedule version {version})");
        }
    }
    Ok(())
}

/// Writes a national export to `output` (standard output when `None`), and the sites'
/// problems to standard error, field by field.
fn write_export<'a>(
    output: Option<&std::path::Path>,
    body: &str,
    checks: impl Iterator<Item = &'a commune_controller::lieux::SiteCheck>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?
        }
        None if body.ends_with('\n') => print!("{body}"),
        None => println!("{body}"),
    }
    for check in checks {
        let status = if check.left_out() {
            "left out"
        } else {
            "exported"
        };
        eprintln!("{} ({status}):", check.site);
        for p in &check.problems {
            eprintln!("  {}", p.text("en"));
        }
    }
    Ok(())
}
