//! The seat as staff commands see it: locked or not, the last message shown. Executes each
//! command at most once and records its outcome as an event, so the result reaches the
//! controller exactly once through the outbox.
//!
//! Sessions (start or end one) go to the session manager when the computer runs one;
//! without one, and for time slots until schedules are enforced, those commands are
//! refused with a reason.

use std::sync::{Arc, Mutex};

use commune_protocol::messages::{
    AgentEvent, Command, CommandAction, CommandOutcome, CommandResult, ReleasedBy, SeatState,
};
use commune_protocol::UtcMillis;

use crate::manager::ManagerHandle;
use crate::outbox::{Outbox, OutboxError};

#[derive(Debug, Default)]
struct SeatInner {
    locked: Option<String>,
    message: Option<String>,
    /// Where relayed magic packets go (none: relaying is refused).
    wake_on_lan: Option<String>,
}

/// Shared seat state.
#[derive(Debug, Clone, Default)]
pub struct Seat {
    inner: Arc<Mutex<SeatInner>>,
    sessions: Option<ManagerHandle>,
}

impl Seat {
    fn lock(&self) -> std::sync::MutexGuard<'_, SeatInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A seat whose sessions the manager runs.
    pub fn with_sessions(sessions: ManagerHandle) -> Self {
        Seat {
            inner: Arc::default(),
            sessions: Some(sessions),
        }
    }

    /// Sets where the magic packets this seat relays go (`host:port`; empty: none).
    pub fn with_wake_target(self, target: &str) -> Self {
        let target = target.trim();
        self.lock().wake_on_lan = (!target.is_empty()).then(|| target.to_string());
        self
    }

    /// Sends a magic packet for each MAC address to the wake target; how many went.
    fn relay_wake(&self, macs: &[String]) -> (CommandOutcome, String) {
        let Some(target) = self.lock().wake_on_lan.clone() else {
            return (
                CommandOutcome::Refused,
                "this seat relays no Wake-on-LAN (wake_on_lan is empty)".into(),
            );
        };
        let socket = match std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.set_broadcast(true).map(|()| s))
        {
            Ok(socket) => socket,
            Err(e) => return (CommandOutcome::Failed, format!("Wake-on-LAN socket: {e}")),
        };
        let sent = macs
            .iter()
            .take(commune_protocol::wol::MAX_WAKE_MACS)
            .filter_map(|m| commune_protocol::wol::magic_packet(m))
            .filter(|packet| socket.send_to(packet, target.as_str()).is_ok())
            .count();
        if sent == 0 {
            (
                CommandOutcome::Failed,
                format!("no magic packet went to {target}"),
            )
        } else {
            (
                CommandOutcome::Done,
                format!("{sent} magic packet(s) sent to {target}"),
            )
        }
    }

    /// What the seat reports in heartbeats.
    pub fn state(&self) -> SeatState {
        if let Some(sessions) = &self.sessions {
            return sessions.status().state;
        }
        if self.lock().locked.is_some() {
            SeatState::Closed
        } else {
            SeatState::Ready
        }
    }

    /// What the seat reports in a heartbeat: its state and, while a session with a limit
    /// runs, the seconds it has left.
    pub fn heartbeat(&self) -> commune_protocol::messages::Heartbeat {
        let session = self.sessions.as_ref().and_then(|s| s.status().session);
        commune_protocol::messages::Heartbeat {
            seat_state: Some(self.state()),
            session_seconds_left: session.and_then(|s| s.seconds_left_now()),
        }
    }

    /// When the running session ends on its own (monotonic clock): a heartbeat goes out
    /// when it moves (a session extended), not only when the state changes.
    pub fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.sessions
            .as_ref()
            .and_then(|s| s.status().session)
            .and_then(|s| s.deadline)
    }

    /// The documents sent to phones (none without sessions).
    pub fn handoffs(&self) -> Option<crate::handoff::Handoffs> {
        self.sessions.as_ref().map(|s| s.handoffs().clone())
    }

    /// Notified when the session manager's status changes (none without sessions).
    pub fn changes(&self) -> Option<tokio::sync::watch::Receiver<crate::manager::Status>> {
        self.sessions.as_ref().map(|s| s.status_receiver())
    }

    /// A schedule from the controller, for the session manager. Returns whether it was
    /// newer than the one enforced (always false without sessions).
    pub async fn schedule(&self, schedule: commune_protocol::schedule::Schedule) -> bool {
        match &self.sessions {
            Some(sessions) => sessions.schedule(schedule).await,
            None => false,
        }
    }

    /// How busy the site's seats are, for the screens.
    pub fn site_wait(&self, wait: commune_protocol::messages::SiteWait) {
        if let Some(sessions) = &self.sessions {
            sessions.set_site_wait(wait);
        }
    }

    /// The site's tickets from the controller, for the session manager.
    pub async fn tickets(&self, set: commune_protocol::messages::TicketSet) -> bool {
        match &self.sessions {
            Some(sessions) => sessions.tickets(set).await,
            None => false,
        }
    }

    /// Session commands, when a manager runs sessions here.
    async fn session_command(&self, action: &CommandAction) -> Option<(CommandOutcome, String)> {
        let sessions = self.sessions.as_ref()?;
        let refused = |e: crate::manager::ManagerError| match e {
            crate::manager::ManagerError::Refused(r) => (CommandOutcome::Refused, r.to_string()),
            other => (CommandOutcome::Failed, other.to_string()),
        };
        Some(match action {
            CommandAction::StartSession { slot_kind } => {
                match sessions.start_session(*slot_kind, None).await {
                    Ok(info) => (
                        CommandOutcome::Done,
                        format!("session {} started", info.session_id),
                    ),
                    Err(e) => refused(e),
                }
            }
            CommandAction::EndSession { reason } => {
                self.lock().message = Some(reason.clone());
                match sessions
                    .end_session(commune_protocol::messages::EndReason::Staff)
                    .await
                {
                    Ok(report) if report.verified => {
                        (CommandOutcome::Done, "session ended and erased".into())
                    }
                    Ok(report) => (
                        CommandOutcome::Failed,
                        format!(
                            "session ended but its erase did not verify: {}",
                            crate::wipe::failure_summary(&report)
                        ),
                    ),
                    Err(e) => refused(e),
                }
            }
            CommandAction::Lock { message } => {
                self.lock().locked = Some(message.clone());
                match sessions.lock(message.clone()).await {
                    Ok(()) => (CommandOutcome::Done, "seat locked".into()),
                    Err(e) => refused(e),
                }
            }
            CommandAction::Unlock => {
                self.lock().locked = None;
                sessions.unlock().await;
                (CommandOutcome::Done, "seat unlocked".into())
            }
            CommandAction::ApproveDevices => {
                match sessions
                    .accept_devices(commune_protocol::messages::CheckedBy::Staff, None)
                    .await
                {
                    Ok(checked) => (
                        CommandOutcome::Done,
                        format!(
                            "devices accepted: {} input devices, {} new since the last check",
                            checked.input_devices, checked.new_devices
                        ),
                    ),
                    Err(e) => refused(e),
                }
            }
            CommandAction::HelpTaken { call_id } => {
                if sessions.help().taken(call_id).await {
                    (
                        CommandOutcome::Done,
                        "the visitor sees a mediator is coming".into(),
                    )
                } else {
                    (
                        CommandOutcome::Refused,
                        "this call is no longer open on the seat".into(),
                    )
                }
            }
            CommandAction::ReleasePrintJob { job } => {
                match sessions.print().release(*job, ReleasedBy::Staff).await {
                    Ok(pages) => (
                        CommandOutcome::Done,
                        match pages {
                            Some(pages) => format!("print job {job} released: {pages} pages"),
                            None => format!("print job {job} released (pages not counted)"),
                        },
                    ),
                    Err(e) => print_refused(*job, e),
                }
            }
            CommandAction::CancelPrintJob { job } => match sessions.print().cancel(*job).await {
                Ok(()) => (CommandOutcome::Done, format!("print job {job} cancelled")),
                Err(e) => print_refused(*job, e),
            },
            _ => return None,
        })
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
        if let CommandAction::WakeNeighbours { macs } = action {
            return self.relay_wake(macs);
        }
        let mut seat = self.lock();
        match action {
            CommandAction::WakeNeighbours { .. } => unreachable!("handled above"),
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
            | CommandAction::ApproveDevices
            | CommandAction::ExtendSlot { .. }
            | CommandAction::CloseSlot
            | CommandAction::StartSession { .. }
            | CommandAction::EndSession { .. }
            | CommandAction::HelpTaken { .. }
            | CommandAction::ReleasePrintJob { .. }
            | CommandAction::CancelPrintJob { .. } => (
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
        } else if let Some(done) = self.session_command(&command.action).await {
            done
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

/// A staff print command that could not be carried out, in words for the seat's page.
fn print_refused(job: u32, error: crate::print::PrintRefusal) -> (CommandOutcome, String) {
    use crate::print::PrintRefusal;
    match error {
        PrintRefusal::NoSuchJob | PrintRefusal::ForStaff => (
            CommandOutcome::Refused,
            format!("print job {job} no longer waits on the seat"),
        ),
        PrintRefusal::Failed(detail) => {
            (CommandOutcome::Failed, format!("print job {job}: {detail}"))
        }
    }
}
