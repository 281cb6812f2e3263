//! `commune user`: staff accounts of the dashboard and their lifecycle: create, list,
//! disable and enable, passwords, API tokens (which expire) and browser sessions.

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use commune_controller::staff::{Role, API_TOKEN_DEFAULT_TTL, MIN_PASSWORD_CHARS};
use commune_controller::{now, ControllerConfig};

use super::{cli, controller, secret};

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a staff account (password from COMMUNE_PASSWORD or the first line of
    /// standard input; at least 12 characters).
    Create {
        /// Login.
        #[arg(long)]
        login: String,
        /// Name shown.
        #[arg(long)]
        name: String,
        /// admin, it, staff or mediator.
        #[arg(long)]
        role: String,
        /// A site the account acts on (staff and mediator); repeatable.
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// List staff accounts: login, role, name, sites, state, live sessions.
    List,
    /// Disable an account: it cannot log in, and its sessions and API tokens stop working
    /// at once.
    Disable {
        /// The account.
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account.
        #[arg(long)]
        login: String,
    },
    /// Set an account's password (from COMMUNE_PASSWORD or the first line of standard
    /// input); its browser sessions end.
    Password {
        /// The account.
        #[arg(long)]
        login: String,
    },
    /// End every browser session of an account now.
    EndSessions {
        /// The account.
        #[arg(long)]
        login: String,
    },
    /// Create an API token for an account's scripts (printed once).
    Token {
        /// The account.
        #[arg(long)]
        login: String,
        /// What the token is for ("inventaire").
        #[arg(long)]
        name: String,
        /// How long it stays valid (e.g. 30d, 12h); 90 days by default, 366 at most.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
        /// Narrow the token to a role no higher than the account's (e.g. `mediator` for a
        /// read-and-permanences script; the account's role by default).
        #[arg(long)]
        role: Option<String>,
        /// Narrow the token to some of the account's sites (repeat for several; the
        /// account's sites by default; needed when an IT or admin account's token is
        /// narrowed to `staff` or `mediator`).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// List an account's API tokens with their expiry.
    Tokens {
        /// The account.
        #[arg(long)]
        login: String,
    },
    /// Revoke an account's API token by name: refused from the next request.
    RevokeToken {
        /// The account.
        #[arg(long)]
        login: String,
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

fn password_for(login: &str) -> anyhow::Result<String> {
    secret(
        "COMMUNE_PASSWORD",
        &format!("password for {login} (at least {MIN_PASSWORD_CHARS} characters):"),
    )
}

pub(crate) async fn run(config: &ControllerConfig, command: &UserCommand) -> anyhow::Result<()> {
    let controller = controller(config).await?;
    let who = cli();
    let api = controller.staff_api(&who);
    match command {
        UserCommand::Create {
            login,
            name,
            role,
            sites,
        } => {
            let role = Role::parse(role)
                .with_context(|| format!("unknown role `{role}`: admin, it, staff or mediator"))?;
            let password = password_for(login)?;
            api.create_account(login, name, role, sites, &password)
                .await?;
            println!("account {login} ({}) created", role.as_str());
        }
        UserCommand::List => {
            for u in api.accounts().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{} session(s)",
                    u.login,
                    u.role,
                    u.display_name,
                    u.sites.join(","),
                    if u.disabled { "disabled" } else { "enabled" },
                    u.live_sessions
                );
            }
        }
        UserCommand::Disable { login } => {
            api.disable_account(login).await?;
            println!("account {login} disabled; its sessions and API tokens are refused now");
        }
        UserCommand::Enable { login } => {
            api.enable_account(login).await?;
            println!("account {login} enabled");
        }
        UserCommand::Password { login } => {
            let password = password_for(login)?;
            api.set_password(login, &password).await?;
            println!("password of {login} changed; its browser sessions ended");
        }
        UserCommand::EndSessions { login } => {
            let n = api.end_sessions(login).await?;
            println!("{n} session(s) of {login} ended");
        }
        UserCommand::Token {
            login,
            name,
            expires,
            role,
            sites,
        } => {
            let ttl = expires.unwrap_or(API_TOKEN_DEFAULT_TTL);
            let role = match role {
                Some(r) => Some(Role::parse(r).with_context(|| {
                    format!("unknown role `{r}`: admin, it, staff or mediator")
                })?),
                None => None,
            };
            let token = api
                .create_scoped_api_token(login, name, ttl, role, sites)
                .await?;
            let scope = match (role, sites.is_empty()) {
                (None, true) => String::from("the account's rights"),
                (Some(r), true) => format!("role {}", r.as_str()),
                (None, false) => format!("sites {}", sites.join(", ")),
                (Some(r), false) => format!("role {}, sites {}", r.as_str(), sites.join(", ")),
            };
            eprintln!(
                "API token `{name}` for {login} ({scope}), valid {} (shown once; send it as \
                 `Authorization: Bearer …`):",
                humantime::format_duration(ttl)
            );
            println!("{token}");
        }
        UserCommand::Tokens { login } => {
            let at = now();
            for t in api.api_tokens(login).await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {r}"),
                    (None, Some(e)) if e > at => format!("valid until {e}"),
                    (None, Some(e)) => format!("expired {e}"),
                    (None, None) => "expired".into(),
                };
                let role = t.scope.role.as_deref().unwrap_or("account's role");
                let sites = t
                    .scope
                    .sites
                    .as_ref()
                    .map(|s| s.join(","))
                    .unwrap_or_else(|| "account's sites".into());
                println!(
                    "{}\tcreated {}\t{state}\t{role}\t{sites}",
                    t.name, t.created_at
                );
            }
        }
        UserCommand::RevokeToken { login, name } => {
            let n = api.revoke_api_token(login, name).await?;
            println!("{n} token(s) `{name}` of {login} revoked");
        }
    }
    Ok(())
}
