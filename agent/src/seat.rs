//! The seat as staff commands see it: locked or not, the last message shown. Executes each
//! command at most once and records its outcome as an event, so the result reaches the
//! controller exactly once through the outbox.
//!
//! Sessions and time slots (start or end a session, open or close a supervised slot) are
//! driven by the session manager; without one, those commands are refused with a reason.

use std::sync::{Arc, Mutex};

use commune_protocol::messages::{
    AgentEvent, Command, CommandAction, CommandOutcome, CommandResult, SeatState,
};
use commune_protocol::UtcMillis;

use crate::outbox::{Outbox, OutboxError};

#[derive(Debug, Default)]
struct SeatInner {
    locked: Option<String>,
    message: Option<String>,
}

/// Shared seat state.
#[derive(Debug, Clone, Default)]
pub struct Seat {
    inner: Arc<Mutex<SeatInner>>,
}

impl Seat {
    fn lock(&self) -> std::sync::MutexGuard<'_, SeatInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the seat reports in heartbeats.
    pub fn state(&self) -> SeatState {
        if self.lock().locked.is_some() {
            SeatState::Closed
        } else {
            SeatState::Ready
        }
    }

    /// The message on the locked screen, if locked.
    pub fn locked_message(&self) -> Option<String> {
        self.lock().locked.clone()
    }

    /// The last message staff sent to the visitor.
    pub fn last_message(&self) -> Option<String> {
        self.lock().message.clone()
    }

    fn apply(&self, action: &CommandAction) -> (CommandOutcome, String) {
        let mut seat = self.lock();
        match action {
            CommandAction::Message { text } => {
                seat.message = Some(text.clone());
                (CommandOutcome::Done, "message shown".into())
            }
            CommandAction::Lock { message } => {
                seat.locked = Some(message.clone());
                (CommandOutcome::Done, "seat locked".into())
            }
            CommandAction::Unlock => {
                seat.locked = None;
                (CommandOutcome::Done, "seat unlocked".into())
            }
            CommandAction::OpenSupervisedSlot { .. }
            | CommandAction::ExtendSlot { .. }
            | CommandAction::CloseSlot
            | CommandAction::StartSession { .. }
            | CommandAction::EndSession { .. } => (
                CommandOutcome::Refused,
                "this computer runs no session manager; sessions and slots cannot be driven here"
                    .into(),
            ),
            CommandAction::Unknown => (
                CommandOutcome::Refused,
                "this agent does not know this command; update it".into(),
            ),
        }
    }

    /// Executes a command once: expired ones are reported expired, repeated deliveries of
    /// an executed one are ignored. Returns whether the seat state may have changed.
    pub async fn execute(
        &self,
        outbox: &Outbox,
        command: &Command,
        now: UtcMillis,
    ) -> Result<bool, OutboxError> {
        if !outbox.record_command(&command.id, now).await? {
            return Ok(false);
        }
        let (outcome, detail) = if now >= command.expires_at {
            (
                CommandOutcome::Expired,
                format!("arrived after its expiry at {}", command.expires_at),
            )
        } else {
            self.apply(&command.action)
        };
        outbox
            .emit(
                now,
                AgentEvent::CommandResult(CommandResult {
                    command_id: command.id.clone(),
                    outcome,
                    detail,
                }),
            )
            .await?;
        Ok(outcome == CommandOutcome::Done)
    }
}
