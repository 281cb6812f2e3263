//! How a session is given to a visitor and taken back, per operating system.
//!
//! The session manager only speaks to a [`SessionPlatform`]; the wipe sequence
//! ([`crate::wipe`]) calls `terminate`, then `purge`, then `verify`, and releases the account
//! only when every check passed. Implementations:
//! - [`linux::LinuxDirect`]: a real ephemeral account per session, tmpfs home, processes in
//!   their own cgroup; what CI runs for real as root in private namespaces.
//! - [`sandbox::Sandbox`]: real files and processes under a directory, no accounts: the demo
//!   and tests on any OS.
//!
//! Platform calls block (system calls, child programs); async callers run them on
//! `tokio::task::spawn_blocking`.

use std::path::PathBuf;

use commune_protocol::messages::{SlotKind, WipeCheck, WipeStep};
use serde::{Deserialize, Serialize};

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub mod procfs;
pub mod sandbox;

/// The account a session runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Login name (random, e.g. `cmn-k3x9q2`).
    pub name: String,
    /// Numeric user id, from the configured range.
    pub uid: u32,
    /// Numeric group id (the account's own group).
    pub gid: u32,
    /// Home directory (a tmpfs mount on `LinuxDirect`).
    pub home: PathBuf,
}

/// What a session is started for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSpec {
    /// Random session id.
    pub session_id: String,
    /// Free access or supervised.
    pub kind: SlotKind,
}

/// What the platform found when the agent probed the computer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Kernel release (`uname -r`), or the OS name off Linux.
    pub kernel: String,
    /// How session data is kept off swap, in words for the wipe report.
    pub swap: String,
    /// Whether tmpfs accepts `noswap` here.
    pub tmpfs_noswap: bool,
    /// The cgroup2 directory sessions are placed under, when cgroup2 is writable.
    pub cgroup: Option<PathBuf>,
    /// Places a session can write outside its home (world-writable directories), cleaned and
    /// checked after every session.
    pub writable_places: Vec<PathBuf>,
    /// Whether a CUPS scheduler answers (print jobs are then cancelled and checked).
    pub printing: bool,
}

/// Errors of a platform, worded for IT.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The computer lacks something a session needs.
    #[error("this computer cannot run sessions: {0}")]
    Unsupported(String),
    /// Every uid of the range is in use or quarantined after a failed wipe.
    #[error("no free account: every uid of {first}..={last} is in use or quarantined after a failed wipe; IT must check the seat")]
    NoFreeUid {
        /// First uid of the range.
        first: u32,
        /// Last uid of the range.
        last: u32,
    },
    /// A system call or program failed.
    #[error("{what}: {detail}")]
    System {
        /// What was being done.
        what: String,
        /// The error.
        detail: String,
    },
}

impl PlatformError {
    /// Shorthand for [`PlatformError::System`].
    pub fn system(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        PlatformError::System {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

/// One operating system's way of giving and taking back sessions.
pub trait SessionPlatform: Send + Sync + 'static {
    /// Short name for logs and reports (`linux-direct`, `sandbox`).
    fn name(&self) -> &'static str;

    /// What this computer offers; called once at start and kept.
    fn capabilities(&self) -> &Capabilities;

    /// Chooses the account of the next session (uid and name) without creating anything, so
    /// the wipe journal can name it before anything exists.
    fn plan_account(&self, spec: &SessionSpec) -> Result<Account, PlatformError>;

    /// Creates the account and its home (skeleton copied in).
    fn create_account(&self, account: &Account) -> Result<(), PlatformError>;

    /// Starts the visitor's session processes as the account.
    fn start_session(&self, account: &Account, spec: &SessionSpec) -> Result<(), PlatformError>;

    /// Tells the running session that `minutes_left` remain (a desktop notification, a
    /// sound); the visitor's screens show it as well. Never ends anything.
    fn warn(&self, account: &Account, minutes_left: u32) -> Result<(), PlatformError>;

    /// The visitor stepped away: hide their desktop behind the screen lock. An error: it
    /// could not be hidden, and the pause is refused. The default (the sandbox, whose
    /// "desktop" is the screens themselves) has nothing more to hide. Ends nothing.
    fn lock_screen(&self, _account: &Account) -> Result<(), PlatformError> {
        Ok(())
    }

    /// Suspends or powers off the computer (after closing time, no session running).
    /// The sandbox records it instead (`power-actions.log` in its root): the demo's and
    /// the tests' machine must stay on.
    fn power(&self, action: commune_protocol::schedule::AfterClosing) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported(format!(
            "{action:?} is not possible on this platform"
        )))
    }

    /// The computer's print system, when it prints (jobs then wait for the visitor's
    /// confirmation: [`crate::print`]). The default: none.
    fn print_queue(&self) -> Option<std::sync::Arc<dyn crate::print::PrintQueue>> {
        None
    }

    /// Ends every process of the account: with `courtesy`, a SIGTERM and a short grace
    /// first (a visitor's session ending normally); then kill until none is left. Recovery
    /// after a crash skips the courtesy: nobody is there to save anything.
    fn terminate(&self, account: &Account, courtesy: bool) -> Vec<WipeStep>;

    /// Removes everything else of the session, in order: home unmount, IPC, keys, print jobs,
    /// files in writable places, cron/at/linger, the account.
    fn purge(&self, account: &Account) -> Vec<WipeStep>;

    /// Looks for anything of the account left; every check must pass.
    fn verify(&self, account: &Account) -> Vec<WipeCheck>;

    /// Gives the uid back to the pool; only called after every check passed.
    fn release(&self, account: &Account);

    /// Accounts of this platform's range that exist now (left by a crash), to be wiped
    /// before any session starts.
    fn leftover_accounts(&self) -> Result<Vec<Account>, PlatformError>;
}
