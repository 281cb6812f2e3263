//! The Commune controller: the QUIC server agents connect to, enrollment of new computers,
//! the fleet registry, and the store (SQLite embedded by default).
//!
//! The dashboard talks to this crate's [`Controller`] handle; it never speaks QUIC. This crate
//! renders no HTML.
#![deny(unreachable_pub)]

pub mod alerts;
pub mod config;
pub mod csv;
pub mod error;
pub mod handoff;
pub mod help;
pub mod history;
pub mod inclusion;
mod ingest;
pub mod lieux;
pub mod link;
pub mod metrics;
pub mod power;
pub mod print;
pub mod reports;
mod schedules;
mod seat_link;
pub mod server;
pub mod staff;
pub mod store;
mod tickets;
pub mod tls;
pub mod transport;
pub mod wait;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commune_protocol::messages::{CommandAction, ControllerMessage, EventEnvelope, RefusalCode};
use commune_protocol::UtcMillis;
use commune_provisioning::FleetCa;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

pub use config::ControllerConfig;
pub use error::StoreError;
pub use server::run;
pub use store::{CommandRecord, Store};

/// Errors of the controller, worded for whoever runs it.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The PKI is missing or broken.
    #[error("PKI: {0}")]
    Pki(String),
    /// The CA could not be used.
    #[error(transparent)]
    Provisioning(#[from] commune_provisioning::ProvisioningError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {0}")]
    Bind(String),
    /// A configuration value is unusable.
    #[error("configuration: {0}")]
    Config(String),
}

/// The current instant. The only clock read of the controller's logic.
pub fn now() -> UtcMillis {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UtcMillis(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// An agent connected now.
#[derive(Clone)]
pub struct LiveAgent {
    /// Agent id.
    pub agent_id: String,
    conn_id: u64,
    conn: transport::Peer,
    tx: seat_link::SeatTx,
}

impl LiveAgent {
    /// Closes this seat's connection.
    pub(crate) fn close(&self, code: u32, reason: &[u8]) {
        self.conn.close(code, reason);
    }
}

/// The longest text staff may type into a command (a reason, a message shown to the
/// visitor), in characters.
pub const MAX_COMMAND_TEXT_CHARS: usize = 500;

/// How often at most a connected seat's last-seen instant is written to the store when
/// nothing else about it changed.
pub const LAST_SEEN_REFRESH_SECS: i64 = 60;
/// The longest permanence id a command may carry, in characters.
pub const MAX_PERMANENCE_ID_CHARS: usize = 64;

/// Refuses a command whose staff-typed texts are over their caps, so that every command
/// fits in a frame (and on the visitor's screen).
fn check_command(action: &CommandAction) -> Result<(), ControllerError> {
    let too_long = |what: &str, text: &str, max: usize| {
        (text.chars().count() > max).then(|| {
            ControllerError::Config(format!(
                "{what} is {} characters long; {max} at most",
                text.chars().count()
            ))
        })
    };
    let refusal = match action {
        CommandAction::EndSession { reason } => {
            too_long("the reason", reason, MAX_COMMAND_TEXT_CHARS)
        }
        CommandAction::Lock { message } => too_long("the message", message, MAX_COMMAND_TEXT_CHARS),
        CommandAction::Message { text } => too_long("the message", text, MAX_COMMAND_TEXT_CHARS),
        CommandAction::WakeNeighbours { macs } => (macs.len()
            > commune_protocol::wol::MAX_WAKE_MACS
            || macs
                .iter()
                .any(|m| commune_protocol::wol::magic_packet(m).is_none()))
        .then(|| ControllerError::Config("Wake-on-LAN needs valid MAC addresses".into())),
        CommandAction::OpenSupervisedSlot {
            permanence_id: Some(id),
            ..
        } => too_long("the permanence id", id, MAX_PERMANENCE_ID_CHARS),
        _ => None,
    };
    refusal.map_or(Ok(()), Err)
}

/// Background tasks of a running server, stopped with it.
pub(crate) struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub(crate) fn abort(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// One agent as the fleet view shows it.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Stored facts.
    pub overview: store::AgentOverview,
    /// Connected at this moment.
    pub connected: bool,
}

pub(crate) struct Inner {
    config: ControllerConfig,
    store: Store,
    ca: Arc<FleetCa>,
    metrics: metrics::Metrics,
    revoked: tls::RevokedSet,
    live: Mutex<HashMap<String, LiveAgent>>,
    last_seen: Mutex<HashMap<String, store::LastSeen>>,
    /// What the store holds of each connected seat's last-seen row: when it was written
    /// and whether as connected (see [`Controller::flush_last_seen`]).
    last_seen_written: Mutex<HashMap<String, (UtcMillis, bool)>>,
    /// Each connected seat's latest reported state, in memory, for live pages.
    seat_states: Mutex<HashMap<String, String>>,
    /// When each connected seat's running session ends on its own, as it reported it.
    session_ends: Mutex<HashMap<String, UtcMillis>>,
    /// Bumped on every connection, disconnection and seat state change.
    seat_changes: tokio::sync::watch::Sender<u64>,
    /// The seats' open calls for a mediator (see [`help`]).
    help: Mutex<help::HelpBoard>,
    /// The seats' print jobs waiting for staff (see [`print`]).
    print: Mutex<print::PrintBoard>,
    /// Each site's wait, as last computed (see [`wait`]).
    waits: Mutex<HashMap<String, wait::SiteWaitView>>,
    next_conn_id: AtomicU64,
    pub(crate) open_connections: AtomicUsize,
    /// The TLS-over-TCP listener bound by [`Controller::bind`], taken by [`run`], with the
    /// TLS configuration it serves.
    tcp: Mutex<Option<(std::net::TcpListener, Arc<rustls::ServerConfig>)>>,
    tcp_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Where the dashboard listens, once it does (the phones' page, when `[handoff]
    /// public_url` is not set).
    web_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Sealed documents waiting for a phone (see [`handoff`]): in memory only.
    handoffs: handoff::Handoffs,
    pub(crate) login_limiter: staff::LoginLimiter,
    ingest: mpsc::Sender<ingest::Job>,
    /// Sites whose ticket set changed through a seat's use, pushed together (see
    /// [`Controller::tickets_changed`]).
    tickets_dirty: Mutex<std::collections::HashSet<String>>,
    tickets_notify: tokio::sync::Notify,
    /// Sites' ticket sets encoded in the last second, for the seats that connect.
    ticket_frames: tickets::TicketFramesCache,
}

/// Handle to a running controller's state; cheap to clone.
#[derive(Clone)]
pub struct Controller {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("data_dir", &self.inner.config.data_dir)
            .finish()
    }
}

impl Controller {
    /// Opens the store and the CA named by `config`.
    pub async fn open(config: ControllerConfig) -> Result<Self, ControllerError> {
        let ca = FleetCa::load(&config.pki_dir())?;
        let store = Store::open(&config.database_url()).await?;
        let ingest = ingest::spawn(store.clone(), config.ingest_batch_max_events);
        let help = help::HelpBoard::from_store(&store.unended_help_calls(None).await?);
        Ok(Controller {
            inner: Arc::new(Inner {
                config,
                store,
                ca: Arc::new(ca),
                metrics: metrics::Metrics::default(),
                revoked: Default::default(),
                live: Mutex::new(HashMap::new()),
                last_seen: Mutex::new(HashMap::new()),
                last_seen_written: Mutex::new(HashMap::new()),
                seat_states: Mutex::new(HashMap::new()),
                session_ends: Mutex::new(HashMap::new()),
                seat_changes: tokio::sync::watch::channel(0).0,
                help: Mutex::new(help),
                print: Mutex::new(print::PrintBoard::default()),
                waits: Mutex::new(HashMap::new()),
                next_conn_id: AtomicU64::new(1),
                open_connections: AtomicUsize::new(0),
                tcp: Mutex::default(),
                tcp_addr: std::sync::OnceLock::new(),
                web_addr: std::sync::OnceLock::new(),
                handoffs: handoff::Handoffs::default(),
                login_limiter: staff::LoginLimiter::default(),
                ingest,
                tickets_dirty: Mutex::default(),
                tickets_notify: tokio::sync::Notify::new(),
                ticket_frames: Default::default(),
            }),
        })
    }

    /// Binds the QUIC endpoint on `config.quic_listen` (or `addr` when given), and the
    /// TLS-over-TCP listener on `config.tcp_listen` (when set). A TCP address that cannot
    /// be bound (a web server on 443, no right to a low port) is logged: seats on networks
    /// with UDP still come, the others wait until IT frees it.
    pub fn bind(
        &self,
        addr: Option<std::net::SocketAddr>,
    ) -> Result<quinn::Endpoint, ControllerError> {
        let config = &self.inner.config;
        let identity = tls::ServerIdentity::load(&config.pki_dir())?;
        let tls_config = tls::rustls_server_config(&identity, self.inner.revoked.clone())?;
        let server = tls::server_config(tls_config.clone(), config)?;
        if !config.tcp_listen.is_empty() {
            match std::net::TcpListener::bind(config.tcp_listen.as_str())
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
            {
                Ok(listener) => {
                    if let Ok(bound) = listener.local_addr() {
                        let _ = self.inner.tcp_addr.set(bound);
                    }
                    *self.inner.tcp.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((listener, Arc::new(tls_config)));
                }
                Err(e) => error!(
                    addr = %config.tcp_listen,
                    error = %e,
                    "cannot listen for agents over TLS on TCP (tcp_listen); seats without UDP cannot connect"
                ),
            }
        }
        tls::bind(addr.unwrap_or(config.quic_listen), server, config)
    }

    /// Where agents reach this controller over TLS on TCP, once bound.
    pub fn tcp_address(&self) -> Option<std::net::SocketAddr> {
        self.inner.tcp_addr.get().copied()
    }

    /// Records where the dashboard listens (the dashboard does, when it starts).
    pub fn set_web_address(&self, addr: std::net::SocketAddr) {
        let _ = self.inner.web_addr.set(addr);
    }

    /// The documents kept for phones.
    pub fn handoffs(&self) -> &handoff::Handoffs {
        &self.inner.handoffs
    }

    /// Where phones reach the download page: `[handoff] public_url`, else the dashboard's
    /// own address; no trailing `/`. `None` when neither is known.
    pub fn handoff_base(&self) -> Option<String> {
        let configured = self.inner.config.handoff.public_url.trim_end_matches('/');
        if !configured.is_empty() {
            return Some(configured.to_owned());
        }
        self.inner.web_addr.get().map(|a| format!("http://{a}"))
    }

    pub(crate) fn take_tcp_listener(
        &self,
    ) -> Option<(std::net::TcpListener, Arc<rustls::ServerConfig>)> {
        self.inner
            .tcp
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// The configuration in force.
    pub fn config(&self) -> &ControllerConfig {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The fleet CA.
    pub fn ca(&self) -> Arc<FleetCa> {
        self.inner.ca.clone()
    }

    /// Metrics.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Refreshes gauges computed from the store, then encodes every metric.
    pub async fn metrics_text(&self) -> String {
        self.refresh_gauges().await;
        self.inner.metrics.encode()
    }

    /// The metrics in the Prometheus text format 0.0.4 (see
    /// [`metrics::Metrics::encode_prometheus_text`]).
    pub async fn metrics_prometheus_text(&self) -> String {
        self.refresh_gauges().await;
        self.inner.metrics.encode_prometheus_text()
    }

    async fn refresh_gauges(&self) {
        let Ok(enrolled) = self.inner.store.enrolled_sites().await else {
            return;
        };
        self.inner
            .metrics
            .agents_enrolled
            .set(enrolled.len() as i64);
        // Seats by state, in all and per site: connected ones by what they report (`ready`
        // until they say), the others `offline`, which is always written (0 when none).
        let states = self.live_seat_states();
        let connected: std::collections::HashSet<String> =
            self.connected_ids().into_iter().collect();
        let mut counts: HashMap<String, i64> = HashMap::from([("offline".into(), 0)]);
        let mut per_site: HashMap<(String, String), i64> = HashMap::new();
        for (id, site) in enrolled {
            let state = if connected.contains(&id) {
                states.get(&id).cloned().unwrap_or_else(|| "ready".into())
            } else {
                "offline".into()
            };
            per_site
                .entry((site.clone(), "offline".into()))
                .or_default();
            *counts.entry(state.clone()).or_default() += 1;
            *per_site.entry((site, state)).or_default() += 1;
        }
        let metrics = &self.inner.metrics;
        metrics.seats.clear();
        for (state, count) in counts {
            metrics
                .seats
                .get_or_create(&metrics::StateLabel { state })
                .set(count);
        }
        metrics.site_seats.clear();
        for ((site, state), count) in per_site {
            metrics
                .site_seats
                .get_or_create(&metrics::SiteStateLabel { site, state })
                .set(count);
        }
    }

    /// A single-use enrollment token for `site_id`, valid for `ttl_secs`.
    pub async fn create_enrollment_token(
        &self,
        site_id: &str,
        ttl_secs: i64,
    ) -> Result<String, ControllerError> {
        let token = commune_provisioning::new_token(self.inner.ca.fingerprint());
        let at = now();
        self.inner
            .store
            .create_token(
                &commune_provisioning::token_hash(&token.secret),
                site_id,
                at,
                at.plus_secs(ttl_secs),
            )
            .await?;
        Ok(token.encode())
    }

    /// Revokes an agent: refused at its next handshake, cut off within the revocation poll.
    pub async fn revoke_agent(&self, agent_id: &str) -> Result<bool, ControllerError> {
        let done = self.inner.store.revoke(agent_id, now()).await?;
        if done {
            self.refresh_revocations().await;
        }
        Ok(done)
    }

    /// Ids of the agents connected now.
    pub fn connected_ids(&self) -> Vec<String> {
        self.lock_live().keys().cloned().collect()
    }

    /// The fleet: every enrolled agent with its stored facts and whether it is connected.
    /// Last-seen instants not yet flushed to the store are taken from memory, so the view is
    /// current without a write per page view.
    pub async fn fleet(&self) -> Result<Vec<AgentView>, ControllerError> {
        let live = self.connected_ids();
        let pending: HashMap<String, store::LastSeen> = self
            .inner
            .last_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let at = now();
        Ok(self
            .inner
            .store
            .overview()
            .await?
            .into_iter()
            .map(|mut o| {
                let connected = live.contains(&o.agent.id);
                let unflushed = pending.get(&o.agent.id);
                let fresher = if connected {
                    Some(at)
                } else {
                    unflushed.map(|l| l.at)
                };
                o.last_seen_at = o.last_seen_at.max(fresher);
                if let Some(state) = unflushed.and_then(|l| l.seat_state.clone()) {
                    o.seat_state = Some(state);
                }
                AgentView {
                    connected,
                    overview: o,
                }
            })
            .collect())
    }

    /// Stores an agent's events through the batching ingestor; returns the seq to ack.
    pub async fn ingest(
        &self,
        agent_id: &str,
        events: Vec<EventEnvelope>,
    ) -> Result<u64, ControllerError> {
        ingest::submit(&self.inner.ingest, agent_id, events).await
    }

    /// A staff command: persisted first, then sent to the agent if it is connected here, or
    /// announced to the other controllers (PostgreSQL `NOTIFY`); an offline agent gets it
    /// when it reconnects, until it expires.
    pub async fn send_command(
        &self,
        agent_id: &str,
        action: CommandAction,
        issued_by: &str,
    ) -> Result<CommandRecord, ControllerError> {
        check_command(&action)?;
        let at = now();
        let ttl = i64::try_from(self.inner.config.command_ttl_secs).unwrap_or(i64::MAX / 1000);
        let record = self
            .inner
            .store
            .create_command(agent_id, action, issued_by, at, at.plus_secs(ttl))
            .await?;
        if !self.deliver(&record).await {
            self.inner.store.notify_command(&record.id).await?;
        }
        Ok(record)
    }

    /// Queues a stored command to its agent if connected to this controller, never waiting
    /// on the seat. Marked delivered only once its frame is queued on the connection.
    async fn deliver(&self, record: &CommandRecord) -> bool {
        let Some(tx) = self.live_sender(&record.agent_id) else {
            return false;
        };
        let queued = tx.push(&ControllerMessage::Command(record.to_message()));
        self.delivered(record, queued).await
    }

    /// Records the outcome of queueing `record`.
    async fn delivered(
        &self,
        record: &CommandRecord,
        queued: Result<(), seat_link::PushError>,
    ) -> bool {
        if let Err(e) = queued {
            self.push_failed(&record.agent_id, &e);
            return false;
        }
        if let Err(e) = self.inner.store.mark_delivered(&record.id, now()).await {
            warn!(command = %record.id, error = %e, "delivery not recorded");
        }
        true
    }

    /// Counts and logs a frame that did not reach a seat's queue.
    pub(crate) fn push_failed(&self, agent_id: &str, e: &seat_link::PushError) {
        let reason = match e {
            seat_link::PushError::Encode(_) => "encode",
            seat_link::PushError::Full => "full",
            seat_link::PushError::Gone => "gone",
        };
        self.inner.metrics.push_failed(reason);
        match e {
            seat_link::PushError::Gone => {}
            _ => warn!(agent = %agent_id, error = %e, "frame not queued to the seat"),
        }
    }

    /// Sends every pending command of an agent that just connected, from its own task:
    /// waits for room in its queue (there may be more pending commands than it holds).
    async fn deliver_pending(&self, agent_id: &str, tx: &seat_link::SeatTx) {
        match self.inner.store.pending_commands(agent_id, now()).await {
            Ok(commands) => {
                for c in commands {
                    let queued = tx.send(ControllerMessage::Command(c.to_message())).await;
                    if !self.delivered(&c, queued).await {
                        return;
                    }
                }
            }
            Err(e) => warn!(agent = %agent_id, error = %e, "pending commands not loaded"),
        }
    }

    /// Queues the pending commands of a connected agent without waiting on it (shared
    /// tasks); whatever does not fit waits for its next connection.
    async fn push_pending(&self, agent_id: &str) {
        match self.inner.store.pending_commands(agent_id, now()).await {
            Ok(commands) => {
                for c in commands {
                    if !self.deliver(&c).await {
                        return;
                    }
                }
            }
            Err(e) => warn!(agent = %agent_id, error = %e, "pending commands not loaded"),
        }
    }

    /// Acts on what other controllers sharing the PostgreSQL store announce, as it happens
    /// (`LISTEN/NOTIFY`, no poll): commands are delivered, changed schedules and ticket sets
    /// pushed to the seats connected here.
    fn spawn_store_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        let pool = self.inner.store.pg_pool()?.clone();
        let c = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        warn!(error = %e, "cannot listen for commands; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                };
                let channels = [
                    store::COMMAND_CHANNEL,
                    store::SCHEDULE_CHANNEL,
                    store::TICKET_CHANNEL,
                ];
                if let Err(e) = listener.listen_all(channels).await {
                    warn!(error = %e, "cannot listen for other controllers' changes; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
                // What was announced while not listening is caught up at (re)connection:
                // pending commands, and every site's schedule and tickets.
                for id in c.connected_ids() {
                    c.push_pending(&id).await;
                }
                if let Ok(sites) = c.inner.store.sites().await {
                    for site in sites {
                        c.push_site(&site.id).await;
                        c.tickets_changed_here(&site.id);
                    }
                }
                while let Ok(n) = listener.recv().await {
                    match n.channel() {
                        store::COMMAND_CHANNEL => {
                            if let Ok(Some(record)) = c.inner.store.command(n.payload()).await {
                                if record.outcome.is_none() {
                                    c.deliver(&record).await;
                                }
                            }
                        }
                        store::SCHEDULE_CHANNEL => c.push_site(n.payload()).await,
                        store::TICKET_CHANNEL => c.tickets_changed_here(n.payload()),
                        _ => {}
                    }
                }
            }
        }))
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveAgent>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.inner.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The queue to a connected agent's connection, if it is connected here.
    pub(crate) fn live_sender(&self, agent_id: &str) -> Option<seat_link::SeatTx> {
        self.lock_live().get(agent_id).map(|l| l.tx.clone())
    }

    fn live_agents(&self) -> Vec<LiveAgent> {
        self.lock_live().values().cloned().collect()
    }

    fn register(&self, agent_id: &str, conn: transport::Peer, tx: seat_link::SeatTx) -> u64 {
        let conn_id = self.inner.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let previous = self.lock_live().insert(
            agent_id.to_string(),
            LiveAgent {
                agent_id: agent_id.to_string(),
                conn_id,
                conn,
                tx,
            },
        );
        if let Some(old) = previous {
            // The same computer reconnected before its old connection timed out.
            old.conn.close(0, b"replaced by a newer connection");
        }
        self.inner
            .metrics
            .agents_connected
            .set(self.lock_live().len() as i64);
        self.mark_seen(agent_id, true);
        self.inner.seat_changes.send_modify(|n| *n += 1);
        conn_id
    }

    fn unregister(&self, agent_id: &str, conn_id: u64) {
        let mut live = self.lock_live();
        if live.get(agent_id).map(|l| l.conn_id) == Some(conn_id) {
            live.remove(agent_id);
            drop(live);
            self.mark_seen(agent_id, false);
            self.inner.seat_changes.send_modify(|n| *n += 1);
        } else {
            drop(live);
        }
        self.inner
            .metrics
            .agents_connected
            .set(self.lock_live().len() as i64);
    }

    fn touch(&self, agent_id: &str) {
        self.mark_seen(agent_id, true);
    }

    /// Notified on every connection, disconnection and seat state change (live pages).
    pub fn seat_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.seat_changes.subscribe()
    }

    /// The open call for a mediator of each seat that has one, in memory (the seat map).
    pub fn open_help_calls(&self) -> HashMap<String, help::OpenCall> {
        self.help_board().open_calls(now())
    }

    pub(crate) fn help_board(&self) -> std::sync::MutexGuard<'_, help::HelpBoard> {
        self.inner.help.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The seat's print jobs waiting for staff (number, pages), in memory (the seat's page).
    pub fn waiting_print_jobs(&self, agent_id: &str) -> Vec<(u32, Option<u32>)> {
        self.print_board().waiting(agent_id)
    }

    pub(crate) fn print_board(&self) -> std::sync::MutexGuard<'_, print::PrintBoard> {
        self.inner.print.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the live pages something changed on the seats.
    pub(crate) fn seats_changed(&self) {
        self.inner.seat_changes.send_modify(|n| *n += 1);
    }

    /// The latest state each connected seat reported (`ready`, `in_session`…), in memory.
    pub fn live_seat_states(&self) -> HashMap<String, String> {
        // A set: at 20,000 seats a list made this (and `/metrics`) quadratic.
        let connected: std::collections::HashSet<String> =
            self.lock_live().keys().cloned().collect();
        self.inner
            .seat_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(id, _)| connected.contains(id.as_str()))
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect()
    }

    /// When each connected seat's running session ends on its own (sessions without a
    /// limit, and seats without a session, are absent).
    pub fn live_session_ends(&self) -> HashMap<String, UtcMillis> {
        let connected: std::collections::HashSet<String> =
            self.lock_live().keys().cloned().collect();
        self.inner
            .session_ends
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(id, _)| connected.contains(id.as_str()))
            .map(|(id, at)| (id.clone(), *at))
            .collect()
    }

    fn mark_seen(&self, agent_id: &str, connected: bool) {
        let mut seen = self
            .inner
            .last_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let entry = seen
            .entry(agent_id.to_string())
            .or_insert_with(|| store::LastSeen {
                agent_id: agent_id.to_string(),
                at: now(),
                connected,
                seat_state: None,
            });
        entry.at = now();
        entry.connected = connected;
    }

    /// Records the state a seat reported (written with the next last-seen flush).
    /// `seconds_left` is what the seat said its session has left.
    fn set_seat_state(
        &self,
        agent_id: &str,
        state: commune_protocol::messages::SeatState,
        seconds_left: Option<u64>,
    ) {
        self.mark_seen(agent_id, true);
        let label = match serde_json::to_value(state) {
            Ok(serde_json::Value::String(s)) => s,
            _ => return,
        };
        // A seat's word, bounded: a day at most.
        let ends =
            seconds_left.map(|s| UtcMillis(now().0.saturating_add(s.min(86_400) as i64 * 1000)));
        let moved = {
            let mut ends_by_seat = self
                .inner
                .session_ends
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let before = match ends {
                Some(at) => ends_by_seat.insert(agent_id.to_string(), at),
                None => ends_by_seat.remove(agent_id),
            };
            // The same end reported again a few seconds apart is no change.
            match (before, ends) {
                (Some(a), Some(b)) => (a.0 - b.0).abs() > 5_000,
                (None, None) => false,
                _ => true,
            }
        };
        if moved {
            self.inner.seat_changes.send_modify(|n| *n += 1);
        }
        let changed = self
            .inner
            .seat_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(agent_id.to_string(), label.clone())
            .as_deref()
            != Some(label.as_str());
        if changed {
            self.inner.seat_changes.send_modify(|n| *n += 1);
        }
        let mut seen = self
            .inner
            .last_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = seen.get_mut(agent_id).filter(|_| changed) {
            entry.seat_state = Some(label);
        }
    }

    /// Writes what changed of the seats' last-seen rows: connections, disconnections and
    /// seat states at once, and a connected seat's instant at most every
    /// [`LAST_SEEN_REFRESH_SECS`] (pages take connected seats as seen now, from memory).
    /// At 20,000 seats, writing every connected seat at every flush cost more than all
    /// their traffic, and held the store while staff commands waited.
    pub async fn flush_last_seen(&self) {
        let mut dirty: HashMap<String, store::LastSeen> = std::mem::take(
            &mut *self
                .inner
                .last_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let at = now();
        for id in self.connected_ids() {
            dirty.entry(id.clone()).or_insert(store::LastSeen {
                agent_id: id,
                at,
                connected: true,
                seat_state: None,
            });
        }
        let refresh = LAST_SEEN_REFRESH_SECS * 1000;
        let rows: Vec<store::LastSeen> = {
            let written = self
                .inner
                .last_seen_written
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            dirty
                .into_values()
                .filter(|row| {
                    row.seat_state.is_some()
                        || written.get(&row.agent_id).is_none_or(|(when, connected)| {
                            *connected != row.connected || at.0 - when.0 >= refresh
                        })
                })
                .collect()
        };
        if rows.is_empty() {
            return;
        }
        match self.inner.store.flush_last_seen(&rows).await {
            Ok(()) => {
                let mut written = self
                    .inner
                    .last_seen_written
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for row in rows {
                    if row.connected {
                        written.insert(row.agent_id, (row.at, true));
                    } else {
                        written.remove(&row.agent_id);
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "last-seen not written; retried at the next flush");
                // Back into the pending rows, unless something newer came meanwhile.
                let mut pending = self
                    .inner
                    .last_seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                for row in rows {
                    pending.entry(row.agent_id.clone()).or_insert(row);
                }
            }
        }
    }

    /// Reads revocations from the store, refuses those agents at their next handshake, and
    /// closes their live connections now.
    pub async fn refresh_revocations(&self) {
        let ids = match self.inner.store.revoked_ids().await {
            Ok(ids) => ids,
            Err(e) => {
                warn!(error = %e, "cannot read revocations");
                return;
            }
        };
        {
            let mut set = self
                .inner
                .revoked
                .write()
                .unwrap_or_else(|p| p.into_inner());
            set.clear();
            set.extend(ids.iter().cloned());
        }
        for agent in self.live_agents() {
            if ids.contains(&agent.agent_id) {
                info!(agent = %agent.agent_id, "closing the connection of a revoked agent");
                agent.conn.close(
                    RefusalCode::Revoked.close_code(),
                    b"this computer was revoked by IT; enroll it again with a new token",
                );
            }
        }
    }

    /// The periodic work, each on its own task so that a slow purge never delays a
    /// revocation: none of them awaits a seat's I/O (pushes only queue).
    fn spawn_background(&self) -> Background {
        let config = self.config().clone();
        let every = |secs: u64| {
            let mut interval = tokio::time::interval(Duration::from_secs(secs));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        };
        let mut tasks = Vec::new();
        // Schedule versions as last pushed: a change made by another process on SQLite (the
        // `commune slot` command) is pushed here too; on PostgreSQL changes come by
        // `LISTEN/NOTIFY` and this only moves the seats' windows on each day.
        let (c, mut tick) = (self.clone(), every(config.revocation_poll_secs.clamp(1, 5)));
        tasks.push(tokio::spawn(async move {
            let mut versions = None;
            loop {
                tick.tick().await;
                c.push_changed_schedules(&mut versions).await;
            }
        }));
        let (c, mut tick) = (self.clone(), every(config.revocation_poll_secs.max(1)));
        tasks.push(tokio::spawn(async move {
            loop {
                tick.tick().await;
                c.refresh_revocations().await;
            }
        }));
        let (c, mut tick) = (self.clone(), every(config.last_seen_flush_secs.max(1)));
        tasks.push(tokio::spawn(async move {
            loop {
                tick.tick().await;
                c.flush_last_seen().await;
            }
        }));
        let (c, mut tick) = (
            self.clone(),
            every(config.retention.purge_interval_secs.max(60)),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                tick.tick().await;
                match c.store().purge(&c.config().retention, now()).await {
                    Ok(report) => info!(?report, "retention purge done"),
                    Err(e) => warn!(error = %e, "retention purge failed"),
                }
            }
        }));
        // Documents for phones are forgotten on time even when nobody asks for them.
        let (c, mut tick) = (self.clone(), every(5));
        tasks.push(tokio::spawn(async move {
            loop {
                tick.tick().await;
                let forgotten = c.handoffs().sweep();
                if forgotten > 0 {
                    c.metrics().handoff("expired", forgotten);
                }
            }
        }));
        tasks.push(self.spawn_ticket_pusher());
        tasks.push(self.spawn_wait_keeper());
        tasks.extend(self.spawn_waker());
        tasks.extend(self.spawn_store_listener());
        Background { tasks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_relay_names_at_most_sixteen_valid_mac_addresses() {
        let wake = |macs: Vec<String>| check_command(&CommandAction::WakeNeighbours { macs });
        assert!(wake(vec!["52:54:00:c0:ff:ee".into()]).is_ok());
        assert!(wake(vec!["52:54:00:c0:ff:ee".into(); 16]).is_ok());
        assert!(wake(vec!["52:54:00:c0:ff:ee".into(); 17]).is_err());
        assert!(wake(vec!["52:54:00:c0:ff:ee".into(), "zz:54:00:c0:ff:ee".into()]).is_err());
        assert!(wake(vec!["00:00:00:00:00:00".into()]).is_err());
    }
}
