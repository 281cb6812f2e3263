//! Staff commands: persisted before anything is sent, delivered at least once (again on every
//! reconnection until a result arrives), executed once (the agent keeps executed ids), the
//! result stored from the agent's `CommandResult` event.

use commune_protocol::messages::{Command, CommandAction};
use commune_protocol::UtcMillis;
use rand::Rng;
use sqlx::Row;

use super::{with_pool, Store};
use crate::error::StoreError;

/// Where a command stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandStatus {
    /// Waiting to reach the agent (offline, or not yet sent).
    Pending,
    /// Sent; no result yet.
    Delivered,
    /// The agent reported an outcome (`done`, `refused`, `failed`, `expired`).
    Finished(String),
    /// Expired before any result.
    Expired,
}

/// A stored command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    /// Unique id.
    pub id: String,
    /// Target agent.
    pub agent_id: String,
    /// When issued.
    pub issued_at: UtcMillis,
    /// Not executed after this.
    pub expires_at: UtcMillis,
    /// Who issued it (staff login, or `cli`).
    pub issued_by: String,
    /// What to do.
    pub action: CommandAction,
    /// First delivery.
    pub delivered_at: Option<UtcMillis>,
    /// Reported outcome.
    pub outcome: Option<String>,
    /// Reported detail.
    pub detail: Option<String>,
}

impl CommandRecord {
    /// Status at `now`.
    pub fn status(&self, now: UtcMillis) -> CommandStatus {
        match (&self.outcome, self.delivered_at) {
            (Some(o), _) => CommandStatus::Finished(o.clone()),
            (None, _) if now >= self.expires_at => CommandStatus::Expired,
            (None, Some(_)) => CommandStatus::Delivered,
            (None, None) => CommandStatus::Pending,
        }
    }

    /// The wire message.
    pub fn to_message(&self) -> Command {
        Command {
            id: self.id.clone(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            action: self.action.clone(),
        }
    }
}

fn new_command_id() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill(&mut bytes);
    format!("cmd-{}", hex::encode(bytes))
}

impl Store {
    /// Persists a new command for an agent.
    pub async fn create_command(
        &self,
        agent_id: &str,
        action: CommandAction,
        issued_by: &str,
        now: UtcMillis,
        expires_at: UtcMillis,
    ) -> Result<CommandRecord, StoreError> {
        let record = CommandRecord {
            id: new_command_id(),
            agent_id: agent_id.to_string(),
            issued_at: now,
            expires_at,
            issued_by: issued_by.to_string(),
            action,
            delivered_at: None,
            outcome: None,
            detail: None,
        };
        let action_json =
            serde_json::to_string(&record.action).map_err(|e| StoreError::Open(e.to_string()))?;
        with_pool!(self, |pool| {
            let known: Option<String> = sqlx::query_scalar("SELECT id FROM agents WHERE id = $1")
                .bind(agent_id)
                .fetch_optional(pool)
                .await?;
            if known.is_none() {
                return Err(StoreError::UnknownAgent(agent_id.to_string()));
            }
            sqlx::query("INSERT INTO commands (id, agent_id, issued_at, expires_at, issued_by, action_json) \
                 VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&record.id)
            .bind(agent_id)
            .bind(now.0)
            .bind(expires_at.0)
            .bind(issued_by)
            .bind(action_json)
            .execute(pool)
            .await?;
        });
        Ok(record)
    }

    /// One command.
    pub async fn command(&self, id: &str) -> Result<Option<CommandRecord>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query("SELECT id, agent_id, issued_at, expires_at, issued_by, action_json, delivered_at, outcome, detail \
                 FROM commands WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|r| CommandRecord {
                id: r.get(0),
                agent_id: r.get(1),
                issued_at: UtcMillis(r.get(2)),
                expires_at: UtcMillis(r.get(3)),
                issued_by: r.get(4),
                action: serde_json::from_str(r.get::<&str, _>(5)).unwrap_or(CommandAction::Unknown),
                delivered_at: r.get::<Option<i64>, _>(6).map(UtcMillis),
                outcome: r.get(7),
                detail: r.get(8),
            }))
        })
    }

    /// Commands an agent has not reported on and that have not expired, oldest first.
    pub async fn pending_commands(
        &self,
        agent_id: &str,
        now: UtcMillis,
    ) -> Result<Vec<CommandRecord>, StoreError> {
        let ids: Vec<String> = with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM commands WHERE agent_id = $1 AND outcome IS NULL AND expires_at > $2 \
                 ORDER BY issued_at, id")
            .bind(agent_id)
            .bind(now.0)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.command(&id).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Records the first delivery of a command.
    pub async fn mark_delivered(&self, id: &str, at: UtcMillis) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE commands SET delivered_at = COALESCE(delivered_at, $1) WHERE id = $2",
            )
            .bind(at.0)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

/// The PostgreSQL channel on which a controller announces a new command to the others.
pub const COMMAND_CHANNEL: &str = "commune_commands";

impl Store {
    /// Announces a command to every controller sharing the store (PostgreSQL only; with
    /// SQLite there is a single controller, which already tried to deliver it).
    pub async fn notify_command(&self, id: &str) -> Result<(), StoreError> {
        if let Some(pool) = self.pg_pool() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(COMMAND_CHANNEL)
                .bind(id)
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}
