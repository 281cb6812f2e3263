//! Local control: a root-only Unix socket for the LightDM hooks, IT on site, and tests.
//!
//! One JSON request per line, one JSON answer per line. The socket file is mode 0600 in a
//! 0700 directory, and the peer's credentials are checked as well (`SO_PEERCRED`): only
//! root, or the user the agent runs as (the sandbox demo), may drive sessions.

use std::path::{Path, PathBuf};

use commune_protocol::messages::{EndReason, SlotKind, WipeReport};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::manager::{ManagerHandle, SessionInfo, Status};

/// A request on the control socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum CtlRequest {
    /// The seat's state.
    Status,
    /// Start a session.
    StartSession {
        /// Free access or supervised.
        kind: SlotKind,
        /// The ticket code the visitor typed, for free access.
        #[serde(default)]
        ticket: Option<String>,
        /// A mediator's PIN, for a supervised session opened at the computer.
        #[serde(default)]
        pin: Option<String>,
    },
    /// End the running session and wait for its wipe.
    EndSession,
    /// The last wipe report.
    LastWipeReport,
}

/// An answer on the control socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum CtlResponse {
    /// For `status`.
    Status(Box<Status>),
    /// For `start-session`.
    Started(SessionInfo),
    /// For `end-session` and `last-wipe-report`.
    WipeReport(Box<WipeReport>),
    /// No wipe happened yet.
    NoReport,
    /// The request failed; the sentence says why.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// Creates the socket (replacing a stale one) with root-only permissions.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves the control socket until `shutdown` resolves.
pub async fn serve(
    listener: UnixListener,
    manager: ManagerHandle,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let peer = stream.peer_cred().map(|c| c.uid()).ok();
                if !matches!(peer, Some(0)) && peer != Some(me) {
                    tracing::warn!(peer_uid = ?peer, "control socket: refused a peer that is neither root nor the agent's user");
                    continue;
                }
                let manager = manager.clone();
                tokio::spawn(async move {
                    if let Err(error) = connection(stream, manager).await {
                        tracing::debug!(%error, "control connection ended");
                    }
                });
            }
        }
    }
}

async fn connection(stream: UnixStream, manager: ManagerHandle) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let response = match serde_json::from_str::<CtlRequest>(&line) {
            Ok(request) => answer(request, &manager).await,
            Err(e) => CtlResponse::Error {
                message: format!("unreadable request: {e}"),
            },
        };
        let mut text = serde_json::to_string(&response).map_err(std::io::Error::other)?;
        text.push('\n');
        write.write_all(text.as_bytes()).await?;
    }
    Ok(())
}

async fn answer(request: CtlRequest, manager: &ManagerHandle) -> CtlResponse {
    let error = |e: crate::manager::ManagerError| CtlResponse::Error {
        message: e.to_string(),
    };
    match request {
        CtlRequest::Status => CtlResponse::Status(Box::new(manager.status())),
        CtlRequest::StartSession { kind, ticket, pin } => {
            let started = match pin {
                Some(pin) => manager.start_session_with_pin(pin).await,
                None => manager.start_session_with_ticket(kind, None, ticket).await,
            };
            match started {
                Ok(info) => CtlResponse::Started(info),
                Err(e) => error(e),
            }
        }
        CtlRequest::EndSession => match manager.end_session(EndReason::Staff).await {
            Ok(report) => CtlResponse::WipeReport(Box::new(report)),
            Err(e) => error(e),
        },
        CtlRequest::LastWipeReport => match manager.last_wipe_report() {
            Some(report) => CtlResponse::WipeReport(Box::new(report)),
            None => CtlResponse::NoReport,
        },
    }
}

/// Sends one request to the agent's control socket and returns its answer.
pub async fn request(path: &Path, request: &CtlRequest) -> Result<CtlResponse, CtlError> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|source| CtlError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(request).map_err(|e| CtlError::Protocol(e.to_string()))?;
    text.push('\n');
    write
        .write_all(text.as_bytes())
        .await
        .map_err(|e| CtlError::Protocol(e.to_string()))?;
    let mut lines = BufReader::new(read).lines();
    let line = lines
        .next_line()
        .await
        .map_err(|e| CtlError::Protocol(e.to_string()))?
        .ok_or_else(|| {
            CtlError::Protocol(
                "the agent closed the connection (is this user root or the agent's user?)".into(),
            )
        })?;
    serde_json::from_str(&line).map_err(|e| CtlError::Protocol(e.to_string()))
}

/// Errors of the control client.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The socket could not be reached.
    #[error("cannot reach the agent at {path}: {source} (is `commune-agent run` running, and are you root?)")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The exchange failed.
    #[error("control socket: {0}")]
    Protocol(String),
}
