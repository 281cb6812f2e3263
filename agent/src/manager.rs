//! The session manager: the I/O shell around [`crate::session::SessionMachine`].
//!
//! One task owns the machine, the platform and the journal; everyone else (the link for
//! staff commands, the local control socket, the visitor's screens) talks to it through a
//! [`ManagerHandle`]. The manager decides nothing about sessions: it reads the clocks,
//! asks the machine, and carries out what it answers (the account created, the session
//! started, the visitor warned, the wipe, the events queued, the caches kept on disk).
//! Time is `tokio::time::Instant` measured from the manager's start: the monotonic clock,
//! paused in tests.
//!
//! Before it serves anything, the manager finishes what a crash left: the journal's
//! unfinished session and every account of the platform's range, wiped and verified.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use commune_protocol::messages::{
    AgentEvent, Alert, AlertKind, EndReason, SessionEnded, SessionStarted, SlotKind, WarningShown,
    WipeReport,
};
use commune_protocol::messages::{TicketSet, TicketUsed};
use commune_protocol::schedule::Schedule;
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::documents::DocumentWatch;
use crate::guard::{Guard, InputDevice};
use crate::outbox::Outbox;
use crate::platform::{Account, SessionPlatform, SessionSpec};
use crate::session::{Admitted, Ask, ComeBack, Decision, Effect, Now, Refusal, SessionMachine};
use crate::slots::SlotBook;
use crate::tickets::TicketBook;
use crate::wipe::{failure_summary, Journal, JournalEntry, Phase, SessionEnd};
use commune_protocol::messages::{CheckedBy, DevicesChecked};

pub use crate::session::{Greeter, SessionRules};

/// A session as the control socket and the screens see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Random session id.
    pub session_id: String,
    /// Free or supervised.
    pub kind: SlotKind,
    /// Account name.
    pub account: String,
    /// Numeric uid.
    pub uid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// Seconds left before the session ends on its own, if it has a limit (when the
    /// status was published: [`SessionInfo::seconds_left_now`] counts from now).
    pub seconds_left: Option<u64>,
    /// The last warning given (minutes left: 5, then 1).
    #[serde(default)]
    pub warning: Option<u32>,
    /// When the session ends on its own, on the monotonic clock (for the screens' countdown).
    #[serde(skip)]
    pub deadline: Option<tokio::time::Instant>,
    /// The visitor stepped away: when the pause ends (the session then ends too), on the
    /// monotonic clock.
    #[serde(skip)]
    pub away_until: Option<tokio::time::Instant>,
    /// While away: how many wrong codes may still be typed.
    #[serde(default)]
    pub away_tries_left: Option<u32>,
}

impl SessionInfo {
    /// Seconds left of the visitor's pause, if they stepped away.
    pub fn away_seconds_left(&self) -> Option<u64> {
        self.away_until.map(|at| {
            at.saturating_duration_since(tokio::time::Instant::now())
                .as_secs()
        })
    }

    /// Seconds left from now, if the session has a limit.
    pub fn seconds_left_now(&self) -> Option<u64> {
        match self.deadline {
            Some(at) => Some(
                at.saturating_duration_since(tokio::time::Instant::now())
                    .as_secs(),
            ),
            None => self.seconds_left,
        }
    }
}

/// The seat as `ctl status` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `ready`, `in_session`, `wiping`, `closed`, `blocked`.
    pub state: commune_protocol::messages::SeatState,
    /// The running session.
    pub session: Option<SessionInfo>,
    /// Why the seat is closed or blocked.
    pub reason: Option<String>,
    /// The platform in use.
    pub platform: String,
    /// True until the wipes a crash left are finished: no session starts meanwhile.
    #[serde(default)]
    pub recovering: bool,
    /// What a visitor may start now (for the screens).
    #[serde(default)]
    pub greeter: Greeter,
    /// When staff last checked the seat's devices (the first screen says so), if the
    /// device guard runs.
    #[serde(default)]
    pub devices_checked_at: Option<UtcMillis>,
    /// A device alarm: what was plugged in since (staff must check the seat).
    #[serde(default)]
    pub device_alarm: Option<String>,
    /// When a USB stick was last refused by the site's policy (the screens say why it
    /// does not appear).
    #[serde(default)]
    pub usb_refused_at: Option<UtcMillis>,
    /// How busy the site's seats are, as the controller last said (filled by
    /// [`ManagerHandle::status`]).
    #[serde(default)]
    pub site_wait: Option<commune_protocol::messages::SiteWait>,
}

/// Errors of manager requests.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    /// Refused by the seat's state.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The platform failed.
    #[error("{0}")]
    Platform(String),
    /// The manager is gone (agent stopping).
    #[error("the session manager has stopped")]
    Stopped,
}

enum Request {
    Start {
        kind: SlotKind,
        permanence_id: Option<String>,
        ticket: Option<String>,
        pin: Option<String>,
        reply: oneshot::Sender<Result<SessionInfo, ManagerError>>,
    },
    End {
        reason: EndReason,
        reply: oneshot::Sender<Result<WipeReport, ManagerError>>,
    },
    Lock {
        message: String,
        reply: oneshot::Sender<Result<(), ManagerError>>,
    },
    Unlock {
        reply: oneshot::Sender<()>,
    },
    Documents {
        reply: oneshot::Sender<Vec<PathBuf>>,
    },
    Document {
        relative: PathBuf,
        reply: oneshot::Sender<Option<(PathBuf, String)>>,
    },
    Schedule {
        schedule: Box<Schedule>,
        reply: oneshot::Sender<bool>,
    },
    Tickets {
        set: TicketSet,
        reply: oneshot::Sender<bool>,
    },
    StepAway {
        code: String,
        reply: oneshot::Sender<Result<(), ManagerError>>,
    },
    ComeBack {
        code: String,
        reply: oneshot::Sender<Result<ComeBack, ManagerError>>,
    },
    Guard {
        guard: Box<Guard>,
    },
    Devices {
        current: Vec<InputDevice>,
        usb: Vec<PathBuf>,
    },
    AcceptDevices {
        by: CheckedBy,
        pin: Option<String>,
        reply: oneshot::Sender<Result<DevicesChecked, ManagerError>>,
    },
}

/// Talks to the session manager task. Cheap to clone.
#[derive(Clone)]
pub struct ManagerHandle {
    requests: mpsc::Sender<Request>,
    online: Arc<std::sync::atomic::AtomicBool>,
    status: watch::Receiver<Status>,
    last_report: watch::Receiver<Option<WipeReport>>,
    /// The seat's calls for a mediator (see [`crate::help`]).
    help: crate::help::Help,
    /// Documents sent to the visitor's phone (see [`crate::handoff`]).
    handoffs: crate::handoff::Handoffs,
    /// The seat's print jobs (see [`crate::print`]).
    print: crate::print::Print,
    /// How busy the site's other seats are, as the controller last said.
    site_wait: Arc<watch::Sender<Option<commune_protocol::messages::SiteWait>>>,
}

impl std::fmt::Debug for ManagerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerHandle")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl ManagerHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Starts a session (a mediator, the LightDM hook, a test).
    pub async fn start_session(
        &self,
        kind: SlotKind,
        permanence_id: Option<String>,
    ) -> Result<SessionInfo, ManagerError> {
        self.start_session_with_ticket(kind, permanence_id, None)
            .await
    }

    /// Starts a session with the ticket code the visitor typed (free access).
    pub async fn start_session_with_ticket(
        &self,
        kind: SlotKind,
        permanence_id: Option<String>,
        ticket: Option<String>,
    ) -> Result<SessionInfo, ManagerError> {
        self.ask(|reply| Request::Start {
            kind,
            permanence_id,
            ticket,
            pin: None,
            reply,
        })
        .await
        .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Starts a supervised session at the computer with a mediator's PIN (checked against
    /// the site's PIN hash in the cached schedule, so it works offline).
    pub async fn start_session_with_pin(&self, pin: String) -> Result<SessionInfo, ManagerError> {
        self.ask(|reply| Request::Start {
            kind: SlotKind::Supervised,
            permanence_id: None,
            ticket: None,
            pin: Some(pin),
            reply,
        })
        .await
        .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Offers the site's tickets from the controller.
    pub async fn tickets(&self, set: TicketSet) -> bool {
        self.ask(|reply| Request::Tickets { set, reply })
            .await
            .unwrap_or(false)
    }

    /// Whether the link to the controller is up (a ticket accepted while it is down is
    /// reported as an offline use).
    pub fn set_online(&self, online: bool) {
        self.online
            .store(online, std::sync::atomic::Ordering::Relaxed);
    }

    /// Ends the running session and waits for its wipe; returns the wipe report.
    pub async fn end_session(&self, reason: EndReason) -> Result<WipeReport, ManagerError> {
        self.ask(|reply| Request::End { reason, reply })
            .await
            .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Locks the seat (applied once the seat is free).
    pub async fn lock(&self, message: String) -> Result<(), ManagerError> {
        self.ask(|reply| Request::Lock { message, reply })
            .await
            .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Unlocks the seat.
    pub async fn unlock(&self) {
        let _ = self.ask(|reply| Request::Unlock { reply }).await;
    }

    /// The documents the visitor would lose (for the end-of-session screen only: these
    /// names never leave the computer).
    pub async fn documents(&self) -> Vec<PathBuf> {
        self.ask(|reply| Request::Documents { reply })
            .await
            .unwrap_or_default()
    }

    /// Where one of the listed documents lives, to read it for the visitor (send to their
    /// phone): the session's home and id, when `relative` is one of the documents listed
    /// now and the visitor is at the seat (not stepped away).
    pub async fn document(&self, relative: PathBuf) -> Option<(PathBuf, String)> {
        self.ask(|reply| Request::Document { relative, reply })
            .await
            .flatten()
    }

    /// The seat's documents sent to phones.
    pub fn handoffs(&self) -> &crate::handoff::Handoffs {
        &self.handoffs
    }

    /// Offers a schedule from the controller; returns whether it was newer than the cached
    /// one (and is now enforced).
    pub async fn schedule(&self, schedule: Schedule) -> bool {
        self.ask(|reply| Request::Schedule {
            schedule: Box::new(schedule),
            reply,
        })
        .await
        .unwrap_or(false)
    }

    /// The visitor steps away: the session locks with `code` for the site's minutes.
    pub async fn step_away(&self, code: String) -> Result<(), ManagerError> {
        self.ask(|reply| Request::StepAway { code, reply })
            .await
            .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Someone typed `code` at the paused session.
    pub async fn come_back(&self, code: String) -> Result<ComeBack, ManagerError> {
        self.ask(|reply| Request::ComeBack { code, reply })
            .await
            .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Staff accept the seat's devices (from the dashboard: `pin` is `None`; at the seat:
    /// the mediator's PIN, checked like a PIN that opens a session).
    pub async fn accept_devices(
        &self,
        by: CheckedBy,
        pin: Option<String>,
    ) -> Result<DevicesChecked, ManagerError> {
        self.ask(|reply| Request::AcceptDevices { by, pin, reply })
            .await
            .unwrap_or(Err(ManagerError::Stopped))
    }

    /// Starts the device guard: the manager holds `guard`, and a task reads the devices
    /// every `every` and tells the manager when they change.
    ///
    /// The guard and its first reading are queued at once, before this returns: called
    /// before anything else asks the manager (the agent does so right after spawning
    /// it), no session can start on devices nobody looked at.
    pub fn watch_devices(&self, guard: Guard, every: Duration) {
        let sys = guard.sys().to_path_buf();
        let (current, usb) = (
            crate::guard::scan_input(&sys),
            crate::guard::scan_usb_storage(&sys),
        );
        let mut last = Some((
            current
                .iter()
                .map(|d| format!("{}#{}", d.key, d.node()))
                .collect::<Vec<_>>(),
            usb.clone(),
        ));
        for request in [
            Request::Guard {
                guard: Box::new(guard),
            },
            Request::Devices { current, usb },
        ] {
            if self.requests.try_send(request).is_err() {
                tracing::error!("the session manager's queue is full: the device guard waits");
            }
        }
        let requests = self.requests.clone();
        tokio::spawn(async move {
            loop {
                let sys = sys.clone();
                let scanned = tokio::task::spawn_blocking(move || {
                    (
                        crate::guard::scan_input(&sys),
                        crate::guard::scan_usb_storage(&sys),
                    )
                })
                .await;
                if let Ok((current, usb)) = scanned {
                    let seen = (
                        current
                            .iter()
                            .map(|d| format!("{}#{}", d.key, d.node()))
                            .collect(),
                        usb.clone(),
                    );
                    if last.as_ref() != Some(&seen) {
                        last = Some(seen);
                        if requests
                            .send(Request::Devices { current, usb })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// A receiver of every status change.
    pub fn status_receiver(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// The seat now, with the site's wait; never waits (readable during a recovery wipe).
    pub fn status(&self) -> Status {
        let mut status = self.status.borrow().clone();
        status.site_wait = self.site_wait();
        status
    }

    /// Waits until the status satisfies `f`.
    pub async fn wait_for(&self, f: impl Fn(&Status) -> bool) -> Status {
        let mut rx = self.status.clone();
        let result = rx.wait_for(|s| f(s)).await;
        match result {
            Ok(s) => s.clone(),
            Err(_) => self.status(),
        }
    }

    /// The last wipe report (kept across restarts).
    pub fn last_wipe_report(&self) -> Option<WipeReport> {
        self.last_report.borrow().clone()
    }

    /// The seat's calls for a mediator.
    pub fn help(&self) -> &crate::help::Help {
        &self.help
    }

    /// The seat's print jobs.
    pub fn print(&self) -> &crate::print::Print {
        &self.print
    }

    /// The controller's latest word on how busy the site's seats are (lists cut to their
    /// bounds: the seat shows it, so it must not grow with what a controller sends).
    pub fn set_site_wait(&self, mut wait: commune_protocol::messages::SiteWait) {
        wait.reserved
            .truncate(commune_protocol::messages::MAX_RESERVED_SEATS);
        for r in &mut wait.reserved {
            r.seat = r
                .seat
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect();
            r.permanence = r
                .permanence
                .chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect();
        }
        self.site_wait.send_replace(Some(wait));
    }

    /// How busy the site's seats are, if the controller said.
    pub fn site_wait(&self) -> Option<commune_protocol::messages::SiteWait> {
        self.site_wait.borrow().clone()
    }
}

struct Current {
    spec: SessionSpec,
    account: Account,
    started_at: UtcMillis,
    documents: Option<DocumentWatch>,
}

/// Where the manager's events go: the durable outbox in the agent. (The slot-enforcement
/// tests on a paused tokio clock record them in memory instead: SQLite's worker thread and
/// the pool's timers do not mix with a paused clock.)
pub trait EventSink: Send + Sync + 'static {
    /// Queues an event; resolves once it is durable.
    fn emit(
        &self,
        at: UtcMillis,
        event: AgentEvent,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>>;
}

impl EventSink for Outbox {
    fn emit(
        &self,
        at: UtcMillis,
        event: AgentEvent,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            Outbox::emit(self, at, event)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The wall clock the manager reads (UTC): which slot applies. Tests replace it to jump.
pub type WallClock = Arc<dyn Fn() -> UtcMillis + Send + Sync>;

struct Manager {
    online: Arc<std::sync::atomic::AtomicBool>,
    /// The same as the handle's: the wipe report counts the session's hand-offs.
    handoffs: crate::handoff::Handoffs,
    platform: Arc<dyn SessionPlatform>,
    wall: WallClock,
    state_dir: PathBuf,
    outbox: Arc<dyn EventSink>,
    journal: Journal,
    report_file: PathBuf,
    /// Every decision; with the rules, the cached schedule and the tickets.
    machine: SessionMachine,
    current: Option<Current>,
    origin: Instant,
    /// How much faster the wall clock runs than the monotonic one (the demo's day).
    #[cfg(feature = "demo")]
    speed: f64,
    recovered: bool,
    /// The device guard, once started.
    guard: Option<Guard>,
    /// The input devices the guard last saw.
    devices: Vec<InputDevice>,
    /// When a USB stick was last switched off by the site's policy.
    usb_refused_at: Option<UtcMillis>,
    /// The closed period the seat last suspended or powered off for.
    powered_for: Option<UtcMillis>,
    status: watch::Sender<Status>,
    last_report: watch::Sender<Option<WipeReport>>,
}

const LAST_REPORT_FILE: &str = "last-wipe-report.json";

/// Starts the manager task. It first finishes any wipe a crash left (journal, leftover
/// accounts); the seat reports `wiping` meanwhile and refuses sessions.
pub fn spawn(
    platform: Arc<dyn SessionPlatform>,
    outbox: Outbox,
    state_dir: &Path,
    rules: SessionRules,
) -> (ManagerHandle, tokio::task::JoinHandle<()>) {
    spawn_with_clock(
        platform,
        Arc::new(outbox),
        state_dir,
        rules,
        Arc::new(crate::now),
    )
}

/// [`spawn`] with the wall clock given (tests make it jump).
pub fn spawn_with_clock(
    platform: Arc<dyn SessionPlatform>,
    outbox: Arc<dyn EventSink>,
    state_dir: &Path,
    rules: SessionRules,
    wall: WallClock,
) -> (ManagerHandle, tokio::task::JoinHandle<()>) {
    let (manager, handle, requests) = build(platform, outbox, state_dir, rules, wall);
    tokio::spawn(handle.print.clone().run());
    (handle, tokio::spawn(manager.run(requests)))
}

/// The demo's accelerated day: a wall clock that runs `speed` times faster than real time
/// from `origin` (the same instant for every agent of the demo), and session lengths and
/// slot ends that shrink by the same factor, so that a day of opening hours, permanences
/// and closures passes in minutes. Only in an agent built with the `demo` feature, which
/// the package for public computers never is.
#[cfg(feature = "demo")]
pub fn accelerated_clock(origin: UtcMillis, speed: f64) -> WallClock {
    let real_origin = crate::now();
    Arc::new(move || {
        let elapsed = (crate::now().0 - real_origin.0) as f64 * speed;
        UtcMillis(origin.0 + elapsed as i64)
    })
}

/// [`spawn_with_clock`] where wall-clock durations pass `speed` times faster than
/// monotonic ones (see [`accelerated_clock`]); `speed` 1 is real time. Demo only.
#[cfg(feature = "demo")]
pub fn spawn_scaled(
    platform: Arc<dyn SessionPlatform>,
    outbox: Arc<dyn EventSink>,
    state_dir: &Path,
    rules: SessionRules,
    wall: WallClock,
    speed: f64,
) -> (ManagerHandle, tokio::task::JoinHandle<()>) {
    let (mut manager, handle, requests) = build(platform, outbox, state_dir, rules, wall);
    manager.speed = speed;
    tokio::spawn(handle.print.clone().run());
    (handle, tokio::spawn(manager.run(requests)))
}

fn build(
    platform: Arc<dyn SessionPlatform>,
    outbox: Arc<dyn EventSink>,
    state_dir: &Path,
    rules: SessionRules,
    wall: WallClock,
) -> (Manager, ManagerHandle, mpsc::Receiver<Request>) {
    let report_file = state_dir.join(LAST_REPORT_FILE);
    let last = std::fs::read(&report_file)
        .ok()
        .and_then(|b| serde_json::from_slice::<WipeReport>(&b).ok());
    let initial = Status {
        state: commune_protocol::messages::SeatState::Wiping,
        session: None,
        reason: Some("finishing the previous wipe".into()),
        platform: platform.name().into(),
        recovering: true,
        greeter: Greeter::default(),
        devices_checked_at: None,
        device_alarm: None,
        usb_refused_at: None,
        site_wait: None,
    };
    let (status, status_rx) = watch::channel(initial);
    let (last_report, last_rx) = watch::channel(last);
    let (tx, rx) = mpsc::channel(32);
    let online = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let help = crate::help::Help::new(outbox.clone(), wall.clone(), status_rx.clone());
    let handoffs = crate::handoff::Handoffs::default();
    let print = crate::print::Print::new(
        platform.print_queue(),
        outbox.clone(),
        wall.clone(),
        status_rx.clone(),
        Some(state_dir.join("print-day")),
    );
    let manager = Manager {
        handoffs: handoffs.clone(),
        online: online.clone(),
        platform,
        wall,
        state_dir: state_dir.to_path_buf(),
        outbox,
        journal: Journal::new(state_dir),
        report_file,
        machine: SessionMachine::recovering(
            rules,
            SlotBook::load(state_dir),
            TicketBook::load(state_dir),
        ),
        current: None,
        origin: Instant::now(),
        #[cfg(feature = "demo")]
        speed: 1.0,
        recovered: false,
        guard: None,
        devices: Vec::new(),
        usb_refused_at: None,
        powered_for: None,
        status,
        last_report,
    };
    let handle = ManagerHandle {
        requests: tx,
        online,
        help,
        handoffs,
        print,
        status: status_rx,
        last_report: last_rx,
        site_wait: Arc::new(watch::channel(None).0),
    };
    (manager, handle, rx)
}

fn new_session_id() -> String {
    use rand::Rng as _;
    let bytes: [u8; 12] = rand::rng().random();
    hex::encode(bytes)
}

impl Manager {
    /// Since the manager started, on the monotonic clock.
    fn monotonic(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    /// Now on both clocks, as the machine decides with it.
    #[cfg(not(feature = "demo"))]
    fn now(&self) -> Now {
        Now::new(self.monotonic(), (self.wall)())
    }

    /// Now on both clocks, as the machine decides with it (the demo's day runs faster).
    #[cfg(feature = "demo")]
    fn now(&self) -> Now {
        Now::new(self.monotonic(), (self.wall)()).accelerated(self.speed)
    }

    fn publish(&self) {
        let shown = self.machine.shown((self.wall)());
        let now = self.monotonic();
        let session = match (self.machine.running(), &self.current) {
            (Some(running), Some(current)) => Some(SessionInfo {
                session_id: running.session_id.clone(),
                kind: running.kind,
                account: current.account.name.clone(),
                uid: current.account.uid,
                home: current.account.home.clone(),
                seconds_left: running.deadline.map(|d| d.saturating_sub(now).as_secs()),
                warning: running.warned.iter().min().copied(),
                deadline: running.deadline.map(|d| self.origin + d),
                away_until: running.away.as_ref().map(|a| self.origin + a.until),
                away_tries_left: running
                    .away
                    .as_ref()
                    .map(|a| crate::session::AWAY_WRONG_CODES.saturating_sub(a.wrong)),
            }),
            _ => None,
        };
        self.status.send_replace(Status {
            state: shown.state,
            session,
            reason: shown.reason,
            platform: self.platform.name().into(),
            recovering: !self.recovered,
            greeter: shown.greeter,
            devices_checked_at: self.guard.as_ref().map(|g| g.checked().at),
            device_alarm: self.machine.alarm().map(str::to_owned),
            usb_refused_at: self.usb_refused_at,
            site_wait: None,
        });
    }

    async fn emit(&self, at: UtcMillis, event: AgentEvent) {
        if let Err(error) = self.outbox.emit(at, event).await {
            // The outbox refuses only when full or broken; the alert about it is the
            // outbox's own. The seat goes on: refusing visitors would not help.
            tracing::error!(%error, "could not queue a session event");
        }
    }

    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        self.recover().await;
        self.recovered = true;
        self.publish();
        loop {
            let next = self.machine.next_deadline().map(|d| self.origin + d);
            let tick = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // The idle seat's slot changes (opening, closing, a permanence): republish.
            let slot_change = self.machine.next_display_change(self.now());
            let slot_tick = async {
                match slot_change {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            // After closing time, the power action the site asks for (once per closure).
            let power = self
                .machine
                .power_due(self.now())
                .filter(|(_, _, since)| self.powered_for != Some(*since));
            let power_tick = async {
                match &power {
                    Some((wait, _, _)) => tokio::time::sleep(*wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                request = requests.recv() => {
                    let Some(request) = request else { break };
                    self.handle(request).await;
                }
                () = power_tick => self.power().await,
                () = tick => {
                    let effects = self.machine.tick(self.monotonic());
                    for effect in effects {
                        self.perform(effect, None).await;
                    }
                }
                () = slot_tick => {}
            }
            self.publish();
        }
    }

    /// Suspends or powers off the idle seat if it is still due (the state may have
    /// changed while the timer ran), and records it.
    async fn power(&mut self) {
        let Some((wait, action, since)) = self.machine.power_due(self.now()) else {
            return;
        };
        if !wait.is_zero() || self.powered_for == Some(since) {
            return;
        }
        self.powered_for = Some(since);
        tracing::info!(?action, "closed: the seat follows the site's power plan");
        let platform = self.platform.clone();
        let done = tokio::task::spawn_blocking(move || platform.power(action))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(error) = &done {
            tracing::warn!(%error, ?action, "the power action failed");
        }
        // On a real seat this runs once it is back (woken before the opening).
        self.emit(
            (self.wall)(),
            AgentEvent::PowerChanged(commune_protocol::messages::PowerChanged {
                action,
                ok: done.is_ok(),
            }),
        )
        .await;
    }

    async fn handle(&mut self, request: Request) {
        match request {
            Request::Start {
                kind,
                permanence_id,
                ticket,
                pin,
                reply,
            } => {
                let ask = Ask {
                    kind,
                    permanence_id,
                    ticket,
                    with_pin: pin.is_some(),
                };
                let _ = reply.send(self.start(ask, pin).await);
            }
            Request::End { reason, reply } => match self.machine.end(self.monotonic(), reason) {
                Ok(effect) => {
                    self.perform(effect, Some(reply)).await;
                }
                Err(refusal) => {
                    let _ = reply.send(Err(refusal.into()));
                }
            },
            Request::Lock { message, reply } => {
                let _ = reply.send(self.machine.lock(message).map_err(Into::into));
            }
            Request::Unlock { reply } => {
                self.machine.unlock();
                let _ = reply.send(());
            }
            Request::Schedule { schedule, reply } => {
                let newer = self.machine.schedule_offered(self.now(), *schedule);
                if newer {
                    if let Err(error) = self.machine.book().save(&self.state_dir) {
                        tracing::error!(%error, "could not cache the schedule; it is enforced from memory");
                    }
                }
                let _ = reply.send(newer);
            }
            Request::Tickets { set, reply } => {
                let newer = self.machine.tickets_offered(set);
                if newer {
                    if let Err(error) = self.machine.tickets().save(&self.state_dir) {
                        tracing::error!(%error, "could not keep the tickets on disk");
                    }
                }
                let _ = reply.send(newer);
            }
            Request::StepAway { code, reply } => {
                let now = self.now();
                let mut answer = self.machine.step_away(now, &code).map(|_| ());
                if answer.is_ok() {
                    // Published first: a greeter LightDM starts for the lock reads "away".
                    self.publish();
                    if let Some(current) = &self.current {
                        let platform = self.platform.clone();
                        let account = current.account.clone();
                        let locked =
                            tokio::task::spawn_blocking(move || platform.lock_screen(&account))
                                .await
                                .map_err(|e| e.to_string())
                                .and_then(|r| r.map_err(|e| e.to_string()));
                        if let Err(error) = locked {
                            tracing::warn!(%error, "the screen did not lock: no pause");
                            self.machine.cancel_away();
                            answer = Err(Refusal::CannotLock);
                        }
                    }
                }
                let _ = reply.send(answer.map_err(Into::into));
            }
            Request::ComeBack { code, reply } => {
                match self.machine.come_back(self.monotonic(), &code) {
                    Ok(ComeBack::Ended(effect)) => {
                        // The answer goes first: the wipe takes a while.
                        let _ = reply.send(Ok(ComeBack::Ended(effect.clone())));
                        self.publish();
                        self.perform(effect, None).await;
                    }
                    other => {
                        let _ = reply.send(other.map_err(Into::into));
                    }
                }
            }
            Request::Guard { guard } => {
                self.guard = Some(*guard);
            }
            Request::Devices { current, usb } => self.devices_seen(current, usb).await,
            Request::AcceptDevices { by, pin, reply } => {
                let _ = reply.send(self.accept_devices(by, pin).await);
            }
            Request::Documents { reply } => {
                let docs = self
                    .current
                    .as_ref()
                    .and_then(|c| c.documents.as_ref())
                    .map(DocumentWatch::documents)
                    .unwrap_or_default();
                let _ = reply.send(docs);
            }
            Request::Document { relative, reply } => {
                let found = self.current.as_ref().and_then(|c| {
                    let away = self.machine.running().is_some_and(|r| r.away.is_some());
                    let listed = c
                        .documents
                        .as_ref()
                        .is_some_and(|d| d.documents().contains(&relative));
                    (listed && !away).then(|| (c.account.home.clone(), c.spec.session_id.clone()))
                });
                let _ = reply.send(found);
            }
        }
    }

    /// The guard read the devices: a new keyboard or unknown device raises the alarm (it
    /// is inhibited, the seat refuses new sessions, staff are alerted); a USB stick is
    /// switched off where the site refuses them.
    async fn devices_seen(&mut self, current: Vec<InputDevice>, usb: Vec<PathBuf>) {
        let Some(guard) = &self.guard else {
            return;
        };
        let alarming: Vec<InputDevice> = guard.alarming(&current).into_iter().cloned().collect();
        self.devices = current;
        if !alarming.is_empty() {
            for device in &alarming {
                if !crate::guard::inhibit(device, true) {
                    tracing::warn!(device = %device.describe(), "could not inhibit the device (kernel before 5.11?)");
                }
            }
            let what = alarming
                .iter()
                .map(InputDevice::describe)
                .collect::<Vec<_>>()
                .join(", ");
            // One alert per alarm: a device that comes and goes under new names does not
            // fill the outbox; the screens and staff see the latest list.
            let first = self.machine.alarm().is_none();
            self.machine.device_alarm(what.clone());
            if first {
                tracing::warn!(devices = %what, "device plugged in since the last check: seat locked");
                self.emit(
                    (self.wall)(),
                    AgentEvent::Alert(Alert {
                        kind: AlertKind::DeviceAttached,
                        message: format!(
                            "Appareil branché depuis la dernière vérification : {what}. \
                             Le poste refuse toute nouvelle session jusqu'à ce qu'un membre de \
                             l'équipe vérifie le câble et le clavier."
                        ),
                    }),
                )
                .await;
            }
        }
        if !usb.is_empty()
            && self.machine.policy().usb_storage == commune_protocol::schedule::UsbStorage::Refused
        {
            let switched_off = usb.iter().filter(|d| crate::guard::deauthorize(d)).count();
            tracing::info!(
                sticks = switched_off,
                "USB storage refused by the site's policy"
            );
            self.usb_refused_at = Some((self.wall)());
        }
    }

    /// Staff accept what is plugged in now: the alarm is lifted, the devices are let
    /// through again, and the check is recorded (on disk, then as an event).
    async fn accept_devices(
        &mut self,
        by: CheckedBy,
        pin: Option<String>,
    ) -> Result<DevicesChecked, ManagerError> {
        if self.guard.is_none() {
            return Err(ManagerError::Platform(
                "the device guard does not run on this computer".into(),
            ));
        }
        if let Some(pin) = pin {
            let hashes = self
                .machine
                .book()
                .schedule()
                .map(|s| s.mediator_pins.clone())
                .unwrap_or_default();
            if hashes.is_empty() || !Self::pin_matches(hashes, pin).await {
                return Err(Refusal::MediatorPin.into());
            }
        }
        let now = (self.wall)();
        let guard = self.guard.as_mut().expect("checked above");
        let current = guard.scan();
        let new_devices = guard
            .accept(&current, by, now)
            .map_err(|e| ManagerError::Platform(format!("recording the check: {e}")))?;
        for device in &current {
            crate::guard::inhibit(device, false);
        }
        self.devices = current;
        self.machine.devices_checked();
        let checked = DevicesChecked {
            by,
            input_devices: u32::try_from(self.devices.len()).unwrap_or(u32::MAX),
            new_devices,
        };
        self.emit(now, AgentEvent::DevicesChecked(checked.clone()))
            .await;
        Ok(checked)
    }

    /// Whether `pin` matches one of the site's mediator PIN `hashes` (Argon2, checked on a
    /// blocking thread: it is slow on purpose).
    async fn pin_matches(hashes: Vec<String>, pin: String) -> bool {
        tokio::task::spawn_blocking(move || {
            use argon2::password_hash::{PasswordHash, PasswordVerifier};
            hashes.iter().any(|h| {
                PasswordHash::new(h).is_ok_and(|parsed| {
                    argon2::Argon2::default()
                        .verify_password(pin.as_bytes(), &parsed)
                        .is_ok()
                })
            })
        })
        .await
        .unwrap_or(false)
    }

    /// Asks the machine; checks the PIN if (and only if) it says so; then makes the session.
    async fn start(&mut self, ask: Ask, pin: Option<String>) -> Result<SessionInfo, ManagerError> {
        let admitted = match self.machine.decide(self.now(), &ask)? {
            Decision::Start(admitted) => admitted,
            Decision::CheckPin(check) => {
                let matched =
                    Self::pin_matches(check.hashes.clone(), pin.unwrap_or_default()).await;
                check.answer(matched)?
            }
        };
        self.create(admitted).await
    }

    /// Creates the admitted session's account (journal first), starts it, and queues its
    /// events.
    async fn create(&mut self, admitted: Admitted) -> Result<SessionInfo, ManagerError> {
        let kind = admitted.kind;
        let spec = SessionSpec {
            session_id: new_session_id(),
            kind,
        };
        let platform = self.platform.clone();
        let spec_for_plan = spec.clone();
        let account = tokio::task::spawn_blocking(move || platform.plan_account(&spec_for_plan))
            .await
            .map_err(|e| ManagerError::Platform(e.to_string()))?
            .map_err(|e| ManagerError::Platform(e.to_string()))?;
        let started_at = (self.wall)();
        let mut entry = JournalEntry {
            session_id: spec.session_id.clone(),
            account: account.clone(),
            kind,
            phase: Phase::Creating,
            started_at,
            end: None,
        };
        self.journal
            .write(&entry)
            .map_err(|e| ManagerError::Platform(format!("writing the wipe journal: {e}")))?;

        let platform = self.platform.clone();
        let (acc, sp) = (account.clone(), spec.clone());
        let created = tokio::task::spawn_blocking(move || {
            platform.create_account(&acc)?;
            platform.start_session(&acc, &sp)
        })
        .await
        .map_err(|e| ManagerError::Platform(e.to_string()))
        .and_then(|r| r.map_err(|e| ManagerError::Platform(e.to_string())));
        if let Err(error) = created {
            // Whatever was made is wiped like a session, so nothing half-made remains.
            tracing::error!(%error, "session creation failed; wiping what was made");
            entry.phase = Phase::Wiping;
            let _ = self.journal.write(&entry);
            self.machine.creation_failed(spec.session_id.clone());
            self.publish();
            self.finish_wipe(&account, &spec.session_id, false).await;
            return Err(error);
        }
        entry.phase = Phase::Session;
        if let Err(e) = self.journal.write(&entry) {
            tracing::error!(error = %e, "could not update the wipe journal");
        }
        // The end is fixed now (the machine says when), on the monotonic clock.
        self.machine
            .start(self.now(), spec.session_id.clone(), &admitted)?;
        let documents = match DocumentWatch::start(&account.home) {
            Ok(w) => Some(w),
            Err(error) => {
                tracing::warn!(%error, "documents are not watched in this session");
                None
            }
        };
        self.emit(
            started_at,
            AgentEvent::SessionStarted(SessionStarted {
                session_id: spec.session_id.clone(),
                slot_kind: kind,
                permanence_id: admitted.permanence_id.clone(),
                with_ticket: admitted.ticket.is_some(),
            }),
        )
        .await;
        if let Some(t) = &admitted.ticket {
            // The machine counts it used from the start: kept on disk at once.
            if let Err(error) = self.machine.tickets().save(&self.state_dir) {
                tracing::error!(%error, "could not record the ticket's use on disk");
            }
            let offline = !self.online.load(std::sync::atomic::Ordering::Relaxed);
            self.emit(
                started_at,
                AgentEvent::TicketUsed(TicketUsed {
                    ticket_hash: t.hash.clone(),
                    session_id: spec.session_id.clone(),
                    offline,
                }),
            )
            .await;
        }
        tracing::info!(session = %spec.session_id, uid = account.uid, kind = ?kind, "session started");
        self.current = Some(Current {
            spec,
            account,
            started_at,
            documents,
        });
        self.publish();
        self.status
            .borrow()
            .session
            .clone()
            .ok_or_else(|| ManagerError::Platform("session vanished".into()))
    }

    async fn perform(
        &mut self,
        effect: Effect,
        reply: Option<oneshot::Sender<Result<WipeReport, ManagerError>>>,
    ) {
        match effect {
            Effect::Warn {
                session_id,
                minutes_left,
            } => {
                if let Some(current) = &self.current {
                    let platform = self.platform.clone();
                    let account = current.account.clone();
                    let _ =
                        tokio::task::spawn_blocking(move || platform.warn(&account, minutes_left))
                            .await;
                }
                self.emit(
                    (self.wall)(),
                    AgentEvent::WarningShown(WarningShown {
                        session_id,
                        minutes_left,
                    }),
                )
                .await;
                // The screens show it too.
                self.publish();
            }
            Effect::EndAndWipe {
                session_id,
                reason,
                duration,
            } => {
                let Some(mut current) = self.current.take() else {
                    self.machine.wipe_finished(true, "");
                    if let Some(reply) = reply {
                        let _ = reply.send(Err(Refusal::NoSession.into()));
                    }
                    return;
                };
                let documents = current
                    .documents
                    .take()
                    .map(|w| {
                        let n = w.count();
                        w.stop();
                        n
                    })
                    .unwrap_or(0);
                let end = SessionEnd {
                    at: (self.wall)(),
                    reason,
                    duration_secs: duration.as_secs(),
                    documents,
                };
                let entry = JournalEntry {
                    session_id: session_id.clone(),
                    account: current.account.clone(),
                    kind: current.spec.kind,
                    phase: Phase::Wiping,
                    started_at: current.started_at,
                    end: Some(end.clone()),
                };
                if let Err(e) = self.journal.write(&entry) {
                    tracing::error!(error = %e, "could not write the wipe journal; wiping anyway");
                }
                self.emit_end(&session_id, &end).await;
                self.publish();
                let report = self.finish_wipe(&current.account, &session_id, true).await;
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(report));
                }
            }
        }
    }

    async fn emit_end(&self, session_id: &str, end: &SessionEnd) {
        self.emit(
            end.at,
            AgentEvent::SessionEnded(SessionEnded {
                session_id: session_id.to_owned(),
                reason: end.reason,
                duration_secs: end.duration_secs,
                documents_erased: end.documents,
            }),
        )
        .await;
    }

    /// Wipes, verifies, queues the report (and an alert on failure), then updates the
    /// journal and the machine. The journal goes only after the report is in the outbox.
    async fn finish_wipe(
        &mut self,
        account: &Account,
        session_id: &str,
        courtesy: bool,
    ) -> WipeReport {
        let platform = self.platform.clone();
        let (acc, sid) = (account.clone(), session_id.to_owned());
        let report = match tokio::task::spawn_blocking(move || {
            crate::wipe::wipe(&*platform, &acc, &sid, courtesy)
        })
        .await
        {
            Ok(report) => report,
            Err(e) => WipeReport {
                session_id: session_id.to_owned(),
                verified: false,
                total_us: 0,
                steps: Vec::new(),
                checks: Vec::new(),
                kernel: String::new(),
                swap: format!("the wipe task failed: {e}"),
                handoffs: 0,
            },
        };
        let mut report = report;
        // The keys of its hand-offs are forgotten with the session; the report counts them.
        report.handoffs = self.handoffs.forget(session_id);
        let at = (self.wall)();
        self.emit(at, AgentEvent::WipeReport(report.clone())).await;
        let summary = failure_summary(&report);
        if report.verified {
            tracing::info!(session = %session_id, total_us = report.total_us, "wipe verified");
            if let Err(e) = self.journal.clear() {
                tracing::error!(error = %e, "could not clear the wipe journal");
            }
        } else {
            tracing::error!(session = %session_id, failure = %summary, "wipe NOT verified; seat blocked");
            self.emit(
                at,
                AgentEvent::Alert(Alert {
                    kind: AlertKind::WipeFailed,
                    message: format!(
                        "the wipe of session {session_id} did not verify; the seat is blocked: {summary}"
                    ),
                }),
            )
            .await;
            if let Ok(Some(mut entry)) = self.journal.read() {
                entry.phase = Phase::Failed;
                let _ = self.journal.write(&entry);
            }
        }
        if let Ok(bytes) = serde_json::to_vec_pretty(&report) {
            let _ = crate::wipe::write_durably(&self.report_file, &bytes);
        }
        self.last_report.send_replace(Some(report.clone()));
        self.machine.wipe_finished(report.verified, &summary);
        // Published before anyone is told the wipe ended: the status already says how.
        self.publish();
        report
    }

    /// Finishes what a crash left, before anything else.
    async fn recover(&mut self) {
        let mut blocked: Option<String> = None;
        match self.journal.read() {
            Ok(Some(entry)) => {
                tracing::warn!(session = %entry.session_id, phase = ?entry.phase, "unfinished session found at start; wiping it");
                let end = match (&entry.phase, &entry.end) {
                    (_, Some(end)) => end.clone(),
                    _ => {
                        let now = (self.wall)();
                        SessionEnd {
                            at: now,
                            reason: EndReason::AgentRestart,
                            // The monotonic clock did not survive; the wall clock is the
                            // best estimate left.
                            duration_secs: u64::try_from((now.0 - entry.started_at.0) / 1000)
                                .unwrap_or(0),
                            documents: 0,
                        }
                    }
                };
                if entry.phase != Phase::Creating {
                    self.emit_end(&entry.session_id, &end).await;
                }
                let mut wiping = entry.clone();
                if wiping.phase != Phase::Failed {
                    wiping.phase = Phase::Wiping;
                }
                wiping.end = Some(end);
                let _ = self.journal.write(&wiping);
                let report = self
                    .finish_wipe(&entry.account, &entry.session_id, false)
                    .await;
                if !report.verified {
                    blocked = Some(failure_summary(&report));
                }
            }
            Ok(None) => {}
            Err(e) => {
                blocked = Some(format!(
                    "the wipe journal is unreadable ({e}); IT must check this computer"
                ));
            }
        }
        let platform = self.platform.clone();
        let leftovers = tokio::task::spawn_blocking(move || platform.leftover_accounts())
            .await
            .unwrap_or_else(|e| Err(crate::platform::PlatformError::system("leftovers", e)));
        match leftovers {
            Ok(accounts) => {
                for account in accounts {
                    tracing::warn!(
                        uid = account.uid,
                        "leftover session account found; wiping it"
                    );
                    let session_id = format!("recovered-{}", account.uid);
                    let report = self.finish_wipe(&account, &session_id, false).await;
                    if !report.verified {
                        blocked = Some(failure_summary(&report));
                    }
                }
            }
            Err(e) => blocked = Some(format!("cannot list leftover accounts: {e}")),
        }
        self.machine.recovered(blocked);
    }
}

/// Keeps the manager told whether the link to the controller is up.
pub async fn follow_link(
    manager: ManagerHandle,
    mut state: watch::Receiver<crate::link::LinkState>,
) {
    loop {
        let online = matches!(*state.borrow(), crate::link::LinkState::Connected { .. });
        manager.set_online(online);
        if state.changed().await.is_err() {
            return;
        }
    }
}
