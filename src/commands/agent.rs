//! `commune agent`: enrolled computers.

use clap::Subcommand;
use commune_controller::ControllerConfig;

use super::{cli, controller};

#[derive(Subcommand)]
pub(crate) enum AgentCommand {
    /// Revoke an agent: it is refused at its next handshake and cut off now.
    Revoke {
        /// Agent id (ag-…).
        id: String,
    },
    /// List enrolled agents.
    List,
}

pub(crate) async fn run(config: &ControllerConfig, command: &AgentCommand) -> anyhow::Result<()> {
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    match command {
        AgentCommand::Revoke { id } => {
            api.revoke_agent(id).await?;
            println!(
                "agent {id} revoked; a running controller cuts it off within {} s",
                config.revocation_poll_secs
            );
        }
        AgentCommand::List => {
            for a in api.fleet().await? {
                let a = a.overview;
                let state = if a.agent.revoked_at.is_some() {
                    "revoked"
                } else {
                    "enrolled"
                };
                println!(
                    "{}\t{}\t{}\t{}\tlast seen {}",
                    a.agent.id,
                    a.agent.site_id,
                    a.agent.hostname,
                    state,
                    a.last_seen_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
    }
    Ok(())
}
