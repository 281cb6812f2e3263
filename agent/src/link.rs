//! The agent's link to the controller: one QUIC connection with mutual TLS, one
//! bidirectional stream of frames, kept up with jittered exponential backoff.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use commune_protocol::handoff::{HandoffPart, PART_BYTES};
use commune_protocol::messages::{
    AgentMessage, ControllerMessage, EventBatch, Hello, RenewRequest, CLOSE_NORMAL,
};
use commune_protocol::version::{capability, VersionRange};
use commune_protocol::{encode_frame, MAX_FRAME_BYTES};
use rand::Rng;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::config::{files, AgentConfig};
use crate::health::{inventory, HealthCollector};
use crate::outbox::Outbox;
use crate::renewal::{CertificateLife, PendingRenewal};
use crate::seat::Seat;
use crate::transport::{connect_tcp, Connection, Proxy, RecvHalf, SendHalf};
use crate::AgentError;

/// Reads whole messages from the link's stream (either transport): the protocol's one
/// frame reader, with the agent's errors.
pub struct FrameReader(commune_protocol::FrameReader<RecvHalf>);

impl FrameReader {
    /// Wraps a QUIC stream.
    pub fn new(recv: quinn::RecvStream) -> Self {
        Self::over(RecvHalf::Quic(recv))
    }

    /// Wraps either transport's receiving half.
    pub fn over(recv: RecvHalf) -> Self {
        FrameReader(commune_protocol::FrameReader::new(recv, MAX_FRAME_BYTES))
    }

    /// The next message, or `None` when the stream finished after a whole frame.
    /// Cancel-safe: bytes read stay in the decoder.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, AgentError> {
        use commune_protocol::ReadError;
        match self.0.next().await {
            Ok(msg) => Ok(msg),
            Err(ReadError::Frame(e)) => Err(AgentError::Protocol(e.to_string())),
            Err(ReadError::Source(e)) => Err(e),
        }
    }
}

async fn resolve(address: &str) -> Result<SocketAddr, AgentError> {
    tokio::net::lookup_host(address)
        .await
        .map_err(|e| AgentError::Connection(format!("cannot resolve {address}: {e}")))?
        .next()
        .ok_or_else(|| AgentError::Connection(format!("{address} resolves to no address")))
}

/// Every address of every configured controller, in the configured order (each name's
/// records in the resolver's order), without repeats. A name that does not resolve now is
/// skipped; none at all is an error.
async fn resolve_all(config: &AgentConfig) -> Result<Vec<SocketAddr>, AgentError> {
    let mut all = Vec::new();
    let mut last_error = None;
    for name in std::iter::once(&config.controller).chain(&config.other_controllers) {
        match tokio::net::lookup_host(name.as_str()).await {
            Ok(addrs) => {
                for a in addrs {
                    if !all.contains(&a) {
                        all.push(a);
                    }
                }
            }
            Err(e) => last_error = Some(format!("cannot resolve {name}: {e}")),
        }
    }
    if all.is_empty() {
        return Err(AgentError::Connection(last_error.unwrap_or_else(|| {
            format!("{} resolves to no address", config.controller)
        })));
    }
    Ok(all)
}

/// Opens a QUIC connection to the configured controller with the given TLS configuration.
pub async fn connect(
    config: &AgentConfig,
    client: quinn::ClientConfig,
) -> Result<(quinn::Endpoint, quinn::Connection), AgentError> {
    let addr = resolve(&config.controller).await?;
    let endpoint = client_endpoint(addr)?;
    let conn = connect_on(&endpoint, config, client, addr).await?;
    Ok((endpoint, conn))
}

/// The client endpoint for `addr`'s address family, made once and kept.
fn endpoint_for(
    endpoint: &mut Option<quinn::Endpoint>,
    addr: SocketAddr,
) -> Result<quinn::Endpoint, AgentError> {
    match endpoint {
        Some(ep) if ep.local_addr().is_ok_and(|l| l.is_ipv6() == addr.is_ipv6()) => Ok(ep.clone()),
        _ => {
            let ep = client_endpoint(addr)?;
            *endpoint = Some(ep.clone());
            Ok(ep)
        }
    }
}

/// A QUIC connection within `quic_timeout_secs`. `Ok(None)`: QUIC did not answer (UDP
/// blocked, or the controller is down), worth trying TLS over TCP; an error: QUIC answered
/// and refused (a certificate, a version), which TCP would not change.
async fn quic_connect(
    config: &AgentConfig,
    endpoint: &quinn::Endpoint,
    client: quinn::ClientConfig,
    addr: SocketAddr,
) -> Result<Option<quinn::Connection>, AgentError> {
    let connecting = endpoint
        .connect_with(client, addr, &config.server_name)
        .map_err(|e| AgentError::Connection(e.to_string()))?;
    let wait = Duration::from_secs(config.quic_timeout_secs.max(1));
    match tokio::time::timeout(wait, connecting).await {
        Ok(Ok(conn)) => Ok(Some(conn)),
        Ok(Err(quinn::ConnectionError::TimedOut)) | Err(_) => Ok(None),
        Ok(Err(e)) => Err(AgentError::Connection(crate::tls::explain(&e))),
    }
}

/// Opens a stream to the controller at `addr`: QUIC first (unless `tcp_first`), then, when
/// QUIC stays silent and a TCP configuration is given, TLS over TCP on the same host's
/// `tcp_port`, through the proxy when there is one (the agent's `proxy`, or `https_proxy`).
/// Used by the link and by enrollment.
pub async fn open_stream(
    config: &AgentConfig,
    endpoint: &mut Option<quinn::Endpoint>,
    addr: SocketAddr,
    quic: quinn::ClientConfig,
    tcp: Option<Arc<rustls::ClientConfig>>,
    tcp_first: bool,
) -> Result<(Connection, SendHalf, RecvHalf), AgentError> {
    if tcp.is_none() || !tcp_first {
        let ep = endpoint_for(endpoint, addr)?;
        match quic_connect(config, &ep, quic, addr).await? {
            Some(conn) => {
                let (send, recv) = conn
                    .open_bi()
                    .await
                    .map_err(|e| AgentError::Connection(crate::tls::explain(&e)))?;
                return Ok((
                    Connection::Quic(conn),
                    SendHalf::Quic(send),
                    RecvHalf::Quic(recv),
                ));
            }
            None if tcp.is_none() => {
                return Err(AgentError::Connection(format!(
                    "the controller at {addr} did not answer over QUIC"
                )))
            }
            None => info!(controller = %addr, "no answer over QUIC (UDP); trying TLS over TCP"),
        }
    }
    let tcp = tcp.expect("checked above");
    let host = config
        .controller
        .rsplit_once(':')
        .map_or(config.controller.as_str(), |(h, _)| h);
    let proxy = Proxy::for_agent(&config.proxy, host)?;
    let target = SocketAddr::new(addr.ip(), config.tcp_port);
    let (send, recv) = connect_tcp(
        tcp,
        &config.server_name,
        target,
        proxy.as_ref(),
        Duration::from_secs(10),
        (
            Duration::from_secs(config.keep_alive_secs.max(1)),
            Duration::from_secs(config.idle_timeout_secs.max(1)),
        ),
    )
    .await?;
    info!(controller = %target, proxy = proxy.as_ref().map(|p| p.address.as_str()).unwrap_or("none"), "connected over TLS on TCP");
    Ok((Connection::Tcp, send, recv))
}

/// The first address of the configured controller.
pub async fn controller_address(config: &AgentConfig) -> Result<SocketAddr, AgentError> {
    resolve(&config.controller).await
}

fn client_endpoint(addr: SocketAddr) -> Result<quinn::Endpoint, AgentError> {
    let bind: SocketAddr = if addr.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    };
    quinn::Endpoint::client(bind)
        .map_err(|e| AgentError::Connection(format!("cannot open a UDP socket: {e}")))
}

async fn connect_on(
    endpoint: &quinn::Endpoint,
    config: &AgentConfig,
    client: quinn::ClientConfig,
    addr: SocketAddr,
) -> Result<quinn::Connection, AgentError> {
    let connecting = endpoint
        .connect_with(client, addr, &config.server_name)
        .map_err(|e| AgentError::Connection(e.to_string()))?;
    connecting
        .await
        .map_err(|e| AgentError::Connection(crate::tls::explain(&e)))
}

/// What the link is doing, for the local status command and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Trying to reach the controller.
    Connecting,
    /// Connected and welcomed.
    Connected {
        /// Our id as the controller knows it.
        agent_id: String,
        /// Our site.
        site_id: String,
    },
    /// The controller refused us; we keep trying at the slowest pace.
    Refused {
        /// Machine-readable reason.
        code: String,
        /// The controller's sentence.
        message: String,
    },
    /// The last connection ended or failed.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// Counters of the link.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Connections welcomed by the controller.
    pub connections: AtomicU64,
    /// Health snapshots sent.
    pub health_sent: AtomicU64,
    /// Inventories sent.
    pub inventory_sent: AtomicU64,
    /// Highest event seq the controller acknowledged.
    pub acked_seq: AtomicU64,
    /// Commands received (including repeated deliveries).
    pub commands_received: AtomicU64,
    /// Certificates renewed over the link.
    pub renewals: AtomicU64,
    /// Connections left because the controller stopped answering (see [`Silence`]).
    pub silent_controllers: AtomicU64,
    /// The current (or last) connection is TLS over TCP, not QUIC.
    pub transport_tcp: std::sync::atomic::AtomicBool,
}

/// Events sent per frame.
const EVENTS_PER_FRAME: usize = 256;
/// Events sent and not yet acknowledged, at most: bounds what a reconnection resends.
const MAX_EVENTS_IN_FLIGHT: u64 = 4096;

/// How long a QUIC connection may send without hearing anything back before the seat
/// gives it up and connects again (at most; half the idle timeout when that is shorter).
/// The controller's transport acknowledges every packet that asks for it within its
/// `max_ack_delay` (25 ms), whatever its application does with the events (it may hold
/// them back): silence this long means it is gone.
pub const SILENCE: Duration = Duration::from_secs(8);

/// Notices a controller that stopped answering, from the connection's datagram counters:
/// the seat sent and heard nothing back for [`SILENCE`].
///
/// Without it, a seat whose controller was killed learns it from the restarted process's
/// stateless reset, which it gets only when one of its packets reaches the new process.
/// A seat that had data in flight at the crash only sends retransmissions, at intervals that
/// double each time; when the ones around the restart are lost (thousands of seats send
/// theirs at the same instants), the next comes tens of seconds later, and the seat waited
/// for its idle timeout (25 s) and then its backoff.
#[derive(Debug)]
pub struct Silence {
    limit: Duration,
    heard: u64,
    sent: u64,
    since: Option<tokio::time::Instant>,
}

impl Default for Silence {
    fn default() -> Self {
        Silence::for_idle_timeout(Duration::from_secs(25))
    }
}

impl Silence {
    /// For a connection whose idle timeout is `idle`: [`SILENCE`], or half of `idle` when
    /// that is shorter (two seconds at least).
    pub fn for_idle_timeout(idle: Duration) -> Silence {
        Silence {
            limit: (idle / 2).clamp(Duration::from_secs(2), SILENCE),
            heard: 0,
            sent: 0,
            since: None,
        }
    }

    /// How long a silence ends the connection.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Looks at `conn`'s counters now; true once it has sent without hearing anything back
    /// for [`Silence::limit`]. Call it every second or so.
    pub fn is_dead(&mut self, conn: &quinn::Connection) -> bool {
        let stats = conn.stats();
        self.check(
            stats.udp_rx.datagrams,
            stats.udp_tx.datagrams,
            tokio::time::Instant::now(),
        )
    }

    fn check(&mut self, heard: u64, sent: u64, now: tokio::time::Instant) -> bool {
        if heard != self.heard {
            (self.heard, self.sent, self.since) = (heard, sent, None);
            return false;
        }
        if sent != self.sent {
            self.sent = sent;
            self.since.get_or_insert(now);
        }
        self.since
            .is_some_and(|t| now.duration_since(t) >= self.limit)
    }
}

/// Delays between attempts: exponential with "equal jitter" (half fixed, half random), so
/// that a fleet spreads out without agents drifting into very long waits.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// From the configuration.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            attempt: 0,
        }
    }

    /// The next delay; grows until `max`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + rand::rng().random_range(Duration::ZERO..=half)
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Jump to the slowest pace (after a refusal that retrying soon will not fix).
    pub fn slowest(&mut self) {
        self.attempt = 16;
    }
}

enum SessionEnd {
    /// Come back after this delay (the controller said so).
    After(Duration),
    /// Back off.
    Failed,
    /// Refused: back off to the slowest pace.
    Refused,
}

/// A renewal the controller did not answer is asked again after this long (on the same
/// connection; the controller allows one per connection, so the seat reconnects first).
const RENEW_RETRY: Duration = Duration::from_secs(600);

/// The TLS client configuration and the modification time of the certificate file it was
/// built from: a renewal, or `commune-agent enroll` run again while the agent runs, is
/// picked up at the next connection.
struct Client {
    config: quinn::ClientConfig,
    /// The same identity for TLS over TCP (none when the files cannot be read).
    tcp: Option<Arc<rustls::ClientConfig>>,
    cert_modified: Option<SystemTime>,
}

fn cert_modified(config: &AgentConfig) -> Option<SystemTime> {
    std::fs::metadata(config.state_file(files::CERT))
        .and_then(|m| m.modified())
        .ok()
}

/// The link: run it until shutdown.
pub struct Link {
    config: AgentConfig,
    client: Mutex<Client>,
    /// Which of the controllers' addresses to try (see `resolve_all`).
    controller_index: std::sync::atomic::AtomicUsize,
    /// QUIC did not answer: TLS over TCP is used directly until then, when QUIC is tried
    /// again.
    tcp_until: Mutex<Option<tokio::time::Instant>>,
    state: watch::Sender<LinkState>,
    stats: Arc<LinkStats>,
    outbox: Outbox,
    seat: Seat,
}

impl Link {
    /// A link with the given TLS client configuration, delivering the outbox's events and
    /// executing commands on `seat`.
    pub fn new(
        config: AgentConfig,
        client: quinn::ClientConfig,
        outbox: Outbox,
        seat: Seat,
    ) -> (Self, watch::Receiver<LinkState>) {
        let (state, rx) = watch::channel(LinkState::Connecting);
        (
            Link {
                client: Mutex::new(Client {
                    config: client,
                    tcp: crate::tls::tcp_client_config(&config).ok(),
                    cert_modified: cert_modified(&config),
                }),
                controller_index: Default::default(),
                tcp_until: Mutex::new(None),
                config,
                state,
                stats: Arc::default(),
                outbox,
                seat,
            },
            rx,
        )
    }

    /// Sends outbox events after `sent` while fewer than `MAX_EVENTS_IN_FLIGHT` await an ack.
    async fn send_events(
        &self,
        send: &mut SendHalf,
        sent: &mut u64,
        acked: u64,
    ) -> Result<(), AgentError> {
        while sent.saturating_sub(acked) < MAX_EVENTS_IN_FLIGHT {
            let events = self.outbox.pending(*sent, EVENTS_PER_FRAME).await?;
            let Some(last) = events.last() else { break };
            *sent = last.seq;
            write(send, &AgentMessage::Events(EventBatch { events })).await?;
        }
        Ok(())
    }

    /// The link's counters.
    pub fn stats(&self) -> Arc<LinkStats> {
        self.stats.clone()
    }

    /// Keeps the link up until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new(
            Duration::from_millis(self.config.backoff_initial_ms),
            Duration::from_millis(self.config.backoff_max_ms),
        );
        let mut health = HealthCollector::new();
        let mut endpoint: Option<quinn::Endpoint> = None;
        loop {
            let end = tokio::select! {
                _ = &mut shutdown => break,
                end = self.session(&mut endpoint, &mut backoff, &mut health) => end,
            };
            let delay = match end {
                SessionEnd::After(d) => d,
                SessionEnd::Failed => backoff.next_delay(),
                SessionEnd::Refused => {
                    backoff.slowest();
                    backoff.next_delay()
                }
            };
            debug!(
                delay_ms = delay.as_millis() as u64,
                "reconnecting after a delay"
            );
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        if let Some(e) = endpoint {
            e.close(0u32.into(), b"agent stopping");
            let _ = tokio::time::timeout(Duration::from_secs(1), e.wait_idle()).await;
        }
    }

    /// The client configuration for the next connection, rebuilt from the state files when
    /// the certificate there changed.
    fn client(&self) -> (quinn::ClientConfig, Option<Arc<rustls::ClientConfig>>) {
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let modified = cert_modified(&self.config);
        if modified != client.cert_modified {
            match crate::tls::client_config(&self.config) {
                Ok(config) => {
                    info!("the seat's certificate changed on disk; connecting with the new one");
                    client.config = config;
                    client.tcp = crate::tls::tcp_client_config(&self.config).ok();
                    client.cert_modified = modified;
                }
                Err(e) => {
                    warn!(error = %e, "the seat's certificate changed on disk but cannot be used")
                }
            }
        }
        (client.config.clone(), client.tcp.clone())
    }

    fn on_tcp(&self) -> bool {
        self.tcp_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| tokio::time::Instant::now() < until)
    }

    fn set_tcp(&self, on: bool) {
        *self.tcp_until.lock().unwrap_or_else(|p| p.into_inner()) = on.then(|| {
            tokio::time::Instant::now() + Duration::from_secs(self.config.quic_retry_secs.max(1))
        });
    }

    /// Opens the link's stream to `addr` (see [`open_stream`]), QUIC first unless it did
    /// not answer recently; remembers which transport it took.
    async fn open(
        &self,
        endpoint: &mut Option<quinn::Endpoint>,
        addr: SocketAddr,
    ) -> Result<(Connection, SendHalf, RecvHalf), AgentError> {
        let (quic, tcp) = self.client();
        let opened = open_stream(&self.config, endpoint, addr, quic, tcp, self.on_tcp()).await?;
        match opened.0 {
            Connection::Quic(_) => self.set_tcp(false),
            Connection::Tcp if !self.on_tcp() => self.set_tcp(true),
            Connection::Tcp => {}
        }
        Ok(opened)
    }

    /// On TLS over TCP: whether QUIC answers again (a handshake, closed at once).
    async fn quic_answers(&self, endpoint: &mut Option<quinn::Endpoint>, addr: SocketAddr) -> bool {
        let (quic, _) = self.client();
        let Ok(ep) = endpoint_for(endpoint, addr) else {
            return false;
        };
        match quic_connect(&self.config, &ep, quic, addr).await {
            Ok(Some(probe)) => {
                probe.close(CLOSE_NORMAL.into(), b"probe: switching back to QUIC");
                true
            }
            _ => false,
        }
    }

    fn set(&self, s: LinkState) {
        self.state.send_replace(s);
    }

    async fn session(
        &self,
        endpoint: &mut Option<quinn::Endpoint>,
        backoff: &mut Backoff,
        health: &mut HealthCollector,
    ) -> SessionEnd {
        self.set(LinkState::Connecting);
        let result = self.session_inner(endpoint, backoff, health).await;
        // Documents for phones go only over a connection that offers it.
        if let Some(handoffs) = self.seat.handoffs() {
            handoffs.set_offered(false);
        }
        match result {
            Ok(end) => end,
            Err(AgentError::Refused { code, message }) => {
                warn!(code, "controller refused this agent: {message}");
                self.set(LinkState::Refused {
                    code: code.to_string(),
                    message,
                });
                SessionEnd::Refused
            }
            Err(e) => {
                // With several controllers, the next attempt goes to the next one: the one
                // that did not answer (or dropped the link) may be dead.
                self.controller_index.fetch_add(1, Ordering::Relaxed);
                info!(error = %e, "link to the controller down");
                self.set(LinkState::Disconnected {
                    reason: e.to_string(),
                });
                SessionEnd::Failed
            }
        }
    }

    async fn session_inner(
        &self,
        endpoint: &mut Option<quinn::Endpoint>,
        backoff: &mut Backoff,
        health: &mut HealthCollector,
    ) -> Result<SessionEnd, AgentError> {
        // An expired certificate is refused at the handshake; say plainly what to do.
        if let Ok(life) = CertificateLife::current(&self.config) {
            if life.expired(crate::now()) {
                return Err(AgentError::Refused {
                    code: "certificate_expired",
                    message: format!(
                        "this seat's certificate expired at {}; enroll it again with a new token \
                         (`commune-agent enroll`): it keeps its identity and its unsent events",
                        life.not_after
                    ),
                });
            }
        }
        // Several controllers: the one that last answered first; one that does not answer
        // hands over to the next at the following attempt.
        let addrs = resolve_all(&self.config).await?;
        let index = self.controller_index.load(Ordering::Relaxed) % addrs.len();
        let addr = addrs[index];
        let (conn, mut send, recv) = self.open(endpoint, addr).await?;
        let mut reader = FrameReader::over(recv);
        let hello = AgentMessage::Hello(Hello {
            protocol: VersionRange::CURRENT,
            agent_version: crate::VERSION.to_string(),
            capabilities: vec![
                capability::HEALTH.into(),
                capability::INVENTORY.into(),
                capability::EVENTS.into(),
                capability::COMMANDS.into(),
                capability::TICKET_PARTS.into(),
            ],
            outbox_pending: self.outbox.len().await.unwrap_or(0),
        });
        write(&mut send, &hello).await?;
        let welcome =
            match tokio::time::timeout(Duration::from_secs(15), reader.next::<ControllerMessage>())
                .await
            {
                Ok(Ok(Some(ControllerMessage::Welcome(w)))) => w,
                Ok(Ok(Some(ControllerMessage::Refused(r)))) => {
                    return Err(AgentError::Refused {
                        code: r.code.as_str(),
                        message: r.message,
                    })
                }
                Ok(Ok(Some(other))) => {
                    return Err(AgentError::Protocol(format!(
                        "expected Welcome, got {other:?}"
                    )))
                }
                Ok(Ok(None)) => return Err(conn.lost()),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(AgentError::Connection("no answer to Hello in time".into())),
            };
        backoff.reset();
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        info!(agent = %welcome.agent_id, site = %welcome.site_id, protocol = welcome.protocol_version, transport = conn.transport(), "connected to the controller");
        self.stats
            .transport_tcp
            .store(matches!(conn, Connection::Tcp), Ordering::Relaxed);
        self.set(LinkState::Connected {
            agent_id: welcome.agent_id.clone(),
            site_id: welcome.site_id.clone(),
        });

        // What the controller already has is dropped here; the rest goes out now.
        self.outbox.resume_after(welcome.acked_seq).await?;
        self.outbox.ack(welcome.acked_seq).await?;
        let mut acked = welcome.acked_seq;
        self.stats.acked_seq.fetch_max(acked, Ordering::Relaxed);
        let mut sent = acked;
        self.send_events(&mut send, &mut sent, acked).await?;
        write(&mut send, &AgentMessage::Heartbeat(self.seat.heartbeat())).await?;

        let mut health_tick = tokio::time::interval(Duration::from_secs(u64::from(
            welcome.health_interval_secs.max(1),
        )));
        let mut inventory_tick = tokio::time::interval(Duration::from_secs(u64::from(
            welcome.inventory_interval_secs.max(1),
        )));
        // The seat's state goes to the controller as soon as it changes (live dashboards).
        let mut seat_changes = self.seat.changes();
        let mut last_state = (self.seat.state(), self.seat.session_deadline());
        // A big ticket set comes in parts and is applied whole.
        let mut ticket_parts = commune_protocol::tickets::TicketSetParts::default();
        // At two thirds of its certificate's life, the seat asks for a new one over this
        // link (when the controller offers it).
        let mut renew_deadline = if welcome.capabilities.iter().any(|c| c == capability::RENEW) {
            CertificateLife::current(&self.config).ok().map(|life| {
                let wait = life.renew_at().0.saturating_sub(crate::now().0).max(0);
                tokio::time::Instant::now() + Duration::from_millis(wait as u64)
            })
        } else {
            None
        };
        let mut pending_renewal: Option<PendingRenewal> = None;
        // Documents for the visitor's phone, when this controller keeps them.
        let handoffs = self.seat.handoffs().filter(|_| {
            welcome
                .capabilities
                .iter()
                .any(|c| c == capability::HANDOFF)
        });
        if let Some(h) = &handoffs {
            h.set_offered(true);
        }
        // On TLS over TCP, QUIC is tried again now and then; when it answers, the link
        // reconnects over it (unacknowledged events go again; the controller stores each
        // seq once).
        let mut quic_probe = matches!(conn, Connection::Tcp).then(|| {
            tokio::time::Instant::now() + Duration::from_secs(self.config.quic_retry_secs.max(1))
        });
        // A controller gone silent is left after SILENCE, not after the idle timeout.
        let mut silence =
            Silence::for_idle_timeout(Duration::from_secs(self.config.idle_timeout_secs.max(1)));
        let mut silence_tick = tokio::time::interval(Duration::from_millis(500));
        silence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Both intervals fire at once: inventory on connect, then the first health snapshot.
        loop {
            let seat_changed = async {
                match seat_changes.as_mut() {
                    Some(rx) => {
                        if rx.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            let renewal_due = async {
                match renew_deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let probe_due = async {
                match quic_probe {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let upload_ready = async {
                match &handoffs {
                    Some(h) => h.next_upload().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                out = upload_ready => {
                    // In parts, each well under a frame; the controller answers after the last.
                    let total_bytes = out.sealed.len() as u64;
                    let mut parts = out.sealed.chunks(PART_BYTES).peekable();
                    while let Some(data) = parts.next() {
                        let part = HandoffPart {
                            upload: out.upload,
                            total_bytes,
                            data: data.to_vec(),
                            last: parts.peek().is_none(),
                            lang: out.lang.clone(),
                        };
                        write(&mut send, &AgentMessage::Handoff(part)).await?;
                    }
                }
                _ = silence_tick.tick() => {
                    if let Connection::Quic(quic) = &conn {
                        if silence.is_dead(quic) {
                            warn!(silent_ms = silence.limit().as_millis() as u64, "the controller stopped answering; connecting again");
                            conn.close(CLOSE_NORMAL, b"nothing heard from the controller");
                            self.stats.silent_controllers.fetch_add(1, Ordering::Relaxed);
                            // An error: with several controllers, the next attempt goes to
                            // the next one.
                            return Err(AgentError::Connection(format!(
                                "the controller stopped answering (nothing heard for {} ms)",
                                silence.limit().as_millis()
                            )));
                        }
                    }
                }
                () = probe_due => {
                    if self.quic_answers(endpoint, addr).await {
                        info!("QUIC answers again; leaving TLS over TCP");
                        self.set_tcp(false);
                        send.finish().await;
                        return Ok(SessionEnd::After(Duration::ZERO));
                    }
                    quic_probe = Some(tokio::time::Instant::now() + Duration::from_secs(self.config.quic_retry_secs.max(1)));
                }
                () = renewal_due => {
                    let renewal = PendingRenewal::start(&welcome.agent_id)?;
                    write(&mut send, &AgentMessage::Renew(RenewRequest { csr_pem: renewal.csr_pem.clone() })).await?;
                    info!("asked the controller to renew this seat's certificate");
                    pending_renewal = Some(renewal);
                    renew_deadline = Some(tokio::time::Instant::now() + RENEW_RETRY);
                }
                () = seat_changed => {
                    let state = (self.seat.state(), self.seat.session_deadline());
                    if state != last_state {
                        last_state = state;
                        write(&mut send, &AgentMessage::Heartbeat(self.seat.heartbeat())).await?;
                    }
                }
                _ = inventory_tick.tick() => {
                    let inv = inventory(crate::now(), crate::VERSION, self.config.asset_tag.clone(), self.config.funding_line.clone());
                    write(&mut send, &AgentMessage::Inventory(inv)).await?;
                    self.stats.inventory_sent.fetch_add(1, Ordering::Relaxed);
                }
                _ = health_tick.tick() => {
                    let snapshot = health.snapshot(crate::now(), crate::VERSION);
                    write(&mut send, &AgentMessage::Health(snapshot)).await?;
                    self.stats.health_sent.fetch_add(1, Ordering::Relaxed);
                }
                _ = self.outbox.wait_for_new() => {
                    self.send_events(&mut send, &mut sent, acked).await?;
                }
                msg = reader.next::<ControllerMessage>() => match msg? {
                    Some(ControllerMessage::Ack(a)) => {
                        self.outbox.ack(a.up_to_seq).await?;
                        acked = acked.max(a.up_to_seq);
                        self.stats.acked_seq.fetch_max(acked, Ordering::Relaxed);
                        self.send_events(&mut send, &mut sent, acked).await?;
                    }
                    Some(ControllerMessage::Command(c)) => {
                        self.stats.commands_received.fetch_add(1, Ordering::Relaxed);
                        if self.seat.execute(&self.outbox, &c, crate::now()).await? {
                            write(&mut send, &AgentMessage::Heartbeat(self.seat.heartbeat())).await?;
                        }
                    }
                    Some(ControllerMessage::Goodbye(g)) => {
                        info!(after_ms = g.reconnect_after_ms, reason = %g.reason, "controller going away");
                        self.set(LinkState::Disconnected { reason: format!("controller going away: {}", g.reason) });
                        return Ok(SessionEnd::After(Duration::from_millis(u64::from(g.reconnect_after_ms))));
                    }
                    Some(ControllerMessage::Refused(r)) => {
                        return Err(AgentError::Refused { code: r.code.as_str(), message: r.message });
                    }
                    Some(ControllerMessage::Schedule(schedule)) => {
                        let version = schedule.version;
                        if self.seat.schedule(schedule).await {
                            info!(version, "new schedule enforced");
                            write(&mut send, &AgentMessage::Heartbeat(self.seat.heartbeat())).await?;
                        }
                    }
                    Some(ControllerMessage::Tickets(part)) => {
                        if let Some(set) = ticket_parts.add(part) {
                            let n = set.tickets.len();
                            if self.seat.tickets(set).await {
                                debug!(tickets = n, "ticket set updated");
                            }
                        }
                    }
                    Some(ControllerMessage::SiteWait(wait)) => self.seat.site_wait(wait),
                    Some(ControllerMessage::HandoffReady(ready)) => {
                        if let Some(h) = &handoffs {
                            h.answered(ready);
                        }
                    }
                    Some(ControllerMessage::Renewed(renewed)) => {
                        let Some(renewal) = pending_renewal.take() else {
                            debug!("a renewed certificate this seat did not ask for; ignored");
                            continue;
                        };
                        renewal.install(&self.config, &renewed.certificate_pem)?;
                        info!(not_after = %renewed.not_after, "certificate renewed; reconnecting with it");
                        self.stats.renewals.fetch_add(1, Ordering::Relaxed);
                        // Unacknowledged events stay in the outbox and go again on the new
                        // connection; the controller stores each seq once.
                        conn.close(CLOSE_NORMAL, b"reconnecting with a renewed certificate");
                        return Ok(SessionEnd::After(Duration::ZERO));
                    }
                    Some(ControllerMessage::Welcome(_)) | Some(ControllerMessage::Enrolled(_)) => {
                        return Err(AgentError::Protocol("unexpected message from the controller".into()));
                    }
                    Some(ControllerMessage::Unknown) => debug!("skipped a message type this agent does not know"),
                    None => return Err(conn.lost()),
                },
            }
        }
    }
}

async fn write(send: &mut SendHalf, msg: &AgentMessage) -> Result<(), AgentError> {
    let frame = encode_frame(msg).map_err(|e| AgentError::Protocol(e.to_string()))?;
    send.write_all(&frame).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_half_the_idle_timeout_at_most_eight_seconds() {
        let limit = |s| Silence::for_idle_timeout(Duration::from_secs(s)).limit();
        assert_eq!(limit(25), SILENCE);
        assert_eq!(limit(10), Duration::from_secs(5));
        assert_eq!(limit(1), Duration::from_secs(2));
    }

    #[test]
    fn silence_is_sending_without_hearing_back() {
        let t0 = tokio::time::Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut silence = Silence::default();
        // Quiet both ways (nothing to send): alive.
        assert!(!silence.check(0, 0, at(0)));
        assert!(!silence.check(0, 0, at(60)));
        // Sent at 61 and nothing heard: dead at 61 + SILENCE, not before.
        assert!(!silence.check(0, 1, at(61)));
        assert!(!silence.check(0, 3, at(61 + SILENCE.as_secs() - 1)));
        assert!(silence.check(0, 4, at(61 + SILENCE.as_secs())));
        // Anything heard starts over.
        let mut silence = Silence::default();
        assert!(!silence.check(0, 1, at(0)));
        assert!(!silence.check(1, 2, at(7)));
        assert!(!silence.check(1, 3, at(8)));
        assert!(!silence.check(1, 3, at(8 + SILENCE.as_secs() - 1)));
        assert!(silence.check(1, 3, at(8 + SILENCE.as_secs())));
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..10 {
            b.next_delay();
        }
        let late = b.next_delay();
        assert!(late >= Duration::from_secs(1) && late <= Duration::from_secs(2));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
