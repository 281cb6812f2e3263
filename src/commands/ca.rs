//! `commune ca`: the fleet certificate authority.

use clap::Subcommand;
use commune_controller::{now, ControllerConfig};
use commune_provisioning::FleetCa;

#[derive(Subcommand)]
pub(crate) enum CaCommand {
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

/// Creates the fleet CA and the controller's certificate in the PKI directory.
pub(crate) fn init(
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

fn hex_fingerprint(ca: &FleetCa) -> String {
    ca.fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn run(config: &ControllerConfig, command: &CaCommand) -> anyhow::Result<()> {
    match command {
        CaCommand::Init {
            organisation,
            names,
        } => {
            let ca = init(config, organisation, names)?;
            println!("fleet CA created in {}", config.pki_dir().display());
            println!("fingerprint (SHA-256): {}", hex_fingerprint(&ca));
        }
        CaCommand::Fingerprint => {
            let ca = FleetCa::load(&config.pki_dir())?;
            println!("{}", hex_fingerprint(&ca));
        }
    }
    Ok(())
}
