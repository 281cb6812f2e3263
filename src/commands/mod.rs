//! The admin commands, one module per family. Each acts through the controller's staff API
//! as the `cli` identity (an administrator: whoever runs them on the server can read the
//! database anyway), so the command line and the dashboard share one set of checks and one
//! audit log (actor `cli`).

use std::io::BufRead as _;

use anyhow::Context;
use commune_controller::staff::StaffIdentity;
use commune_controller::{Controller, ControllerConfig};

pub(crate) mod agent;
pub(crate) mod ca;
pub(crate) mod schedule;
pub(crate) mod site;
pub(crate) mod slot;
pub(crate) mod tickets;
pub(crate) mod token;
pub(crate) mod user;

/// The controller of `config`, for one command (its store and CA; no server runs).
pub(crate) async fn controller(config: &ControllerConfig) -> anyhow::Result<Controller> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    Controller::open(config.clone())
        .await
        .context("opening the controller's data (run `commune ca init` first)")
}

/// Who the command line is in the audit log.
pub(crate) fn cli() -> StaffIdentity {
    StaffIdentity::cli()
}

/// A secret from the environment variable `var`, else the first line of standard input
/// after printing `prompt` on standard error.
pub(crate) fn secret(var: &str, prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(var) {
        return Ok(value);
    }
    eprintln!("{prompt}");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
