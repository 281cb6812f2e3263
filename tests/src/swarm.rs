//! A swarm of seats in one process, for the scale benchmark (`tests/benches/scale.rs`):
//! thousands of seats, each enrolled through the controller's real enrollment path (a token,
//! `Enroll` with a CSR over QUIC) and holding its own certificate, each keeping one real QUIC
//! connection with mutual TLS to the controller and speaking Commune's protocol on its one
//! stream; and, as the baseline, a bare quinn server and clients of the same shape.
//!
//! A seat of the swarm is the protocol, not the agent: a full `commune_agent::link::Link`
//! per seat is too heavy at 20,000 in one process (each has a SQLite outbox with its own
//! threads). A seat keeps its unacknowledged events in memory and sends them again after a
//! reconnection from the `acked_seq` of the `Welcome`, as the agent's outbox does, and backs
//! off between attempts with the agent's own [`Backoff`]. Seats share one UDP socket per
//! [`SwarmConfig::seats_per_socket`] (an agent has its own), and at most
//! [`SwarmConfig::handshakes_in_flight`] of them connect at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use commune_agent::link::Backoff;
use commune_agent::AgentConfig;
use commune_protocol::enroll::EnrollToken;
use commune_protocol::messages::{
    AgentEvent, AgentMessage, CommandOutcome, CommandResult, ControllerMessage, EnrollRequest,
    EventBatch, EventEnvelope, Heartbeat, Hello, SeatState,
};
use commune_protocol::version::{capability, VersionRange};
use commune_protocol::{encode_frame, FrameReader, UtcMillis, MAX_FRAME_BYTES};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls_pki_types::pem::PemObject;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// The name every controller certificate of the fleet carries.
const SERVER_NAME: &str = commune_protocol::CONTROLLER_SERVER_NAME;
/// An enrollment given up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// A seat waits this long for the answer to its first frame, as the agent waits for its
/// `Welcome`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
/// Events per frame at most, as the agent sends them.
const EVENTS_PER_FRAME: usize = 256;
/// The baseline's heartbeat: a 4-byte length and a body, 200 bytes in all.
const BARE_FRAME_BYTES: usize = 200;
/// The baseline's answer: a 4-byte length and a 4-byte body.
const BARE_ACK_BYTES: usize = 8;

/// A UDP socket with `buffer_bytes` send and receive buffers (the kernel caps them at
/// `net.core.{r,w}mem_max`), as a quinn endpoint: a server when `server` is given.
pub fn udp_endpoint(
    bind: SocketAddr,
    buffer_bytes: usize,
    server: Option<quinn::ServerConfig>,
) -> std::io::Result<quinn::Endpoint> {
    let socket = std::net::UdpSocket::bind(bind)?;
    set_buffers(&socket, buffer_bytes);
    socket.set_nonblocking(true)?;
    quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        server,
        socket,
        Arc::new(quinn::TokioRuntime),
    )
}

/// Best effort, like the controller's: a refusal leaves the kernel's default.
fn set_buffers(socket: &std::net::UdpSocket, bytes: usize) {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a valid socket descriptor and a pointer to a c_int of the size given.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// One enrolled seat: its agent id, its certificate and its key, in memory.
pub struct SeatIdentity {
    /// The agent id the controller gave it.
    pub agent_id: String,
    /// Its site.
    pub site_id: String,
    /// Its certificate, signed by the fleet CA.
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl SeatIdentity {
    /// The mutual-TLS client configuration of this seat: the agent's own
    /// (`commune_agent::tls::client_config_from`, with the agent's default transport:
    /// keep-alive every 15 s, idle timeout 25 s).
    pub fn client_config(
        &self,
        ca: &CertificateDer<'static>,
    ) -> anyhow::Result<quinn::ClientConfig> {
        Ok(commune_agent::tls::client_config_from(
            &AgentConfig::default(),
            vec![self.cert.clone()],
            PrivateKeyDer::Pkcs8(self.key.clone_key()),
            ca.clone(),
        )?)
    }
}

/// Enrolls one seat as `commune-agent enroll` does, keeping its key and certificate in
/// memory: a key and a CSR made here, the controller trusted through the CA fingerprint the
/// token names, `Enroll` on a connection without a client certificate. Returns the seat
/// and the fleet CA certificate.
pub async fn enroll(
    endpoint: &quinn::Endpoint,
    controller: SocketAddr,
    token: &str,
    hostname: &str,
) -> anyhow::Result<(SeatIdentity, CertificateDer<'static>)> {
    let token = EnrollToken::parse(token)?;
    let (key, csr_pem) = commune_agent::renewal::new_key_and_csr(hostname)?;
    let (client, _pin) =
        commune_agent::tls::enrollment_config(&AgentConfig::default(), token.ca_fingerprint)?;
    let conn = tokio::time::timeout(
        CONNECT_TIMEOUT,
        endpoint.connect_with(client, controller, SERVER_NAME)?,
    )
    .await
    .context("enrollment handshake timed out")??;
    let (mut send, recv) = conn.open_bi().await?;
    let request = AgentMessage::Enroll(EnrollRequest {
        protocol: VersionRange::CURRENT,
        token_secret: token.secret_text(),
        csr_pem,
        hostname: hostname.to_string(),
        agent_version: commune_agent::VERSION.to_string(),
        previous: None,
    });
    send.write_all(&encode_frame(&request)?).await?;
    let _ = send.finish();
    let mut reader = FrameReader::new(Recv(recv), MAX_FRAME_BYTES);
    let answer = tokio::time::timeout(CONNECT_TIMEOUT, reader.next::<ControllerMessage>())
        .await
        .context("no answer to Enroll")?;
    conn.close(0u32.into(), b"enrollment finished");
    let enrolled = match answer {
        Ok(Some(ControllerMessage::Enrolled(e))) => e,
        Ok(Some(ControllerMessage::Refused(r))) => {
            anyhow::bail!("enrollment refused: {} ({})", r.message, r.code.as_str())
        }
        other => anyhow::bail!("unexpected answer to Enroll: {other:?}"),
    };
    let cert = CertificateDer::from_pem_slice(enrolled.certificate_pem.as_bytes())
        .context("the certificate the controller signed")?;
    let ca = CertificateDer::from_pem_slice(enrolled.ca_certificate_pem.as_bytes())
        .context("the fleet CA certificate")?;
    Ok((
        SeatIdentity {
            agent_id: enrolled.agent_id,
            site_id: enrolled.site_id,
            cert,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        },
        ca,
    ))
}

/// A QUIC receive stream as the protocol's byte source.
struct Recv(quinn::RecvStream);

impl commune_protocol::ByteSource for Recv {
    type Error = quinn::ReadError;

    async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.0.read(buf).await
    }
}

/// What the clients of a swarm speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Commune's protocol to a controller: `Hello`, `Welcome`, heartbeats, events, acks,
    /// commands.
    Commune,
    /// The baseline, to [`serve_bare`]: a 200-byte frame answered by an 8-byte ack.
    Bare,
}

/// How a swarm behaves.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// The server.
    pub server: SocketAddr,
    /// Seats sharing one UDP socket (one quinn endpoint). An agent has its own: at 500 a
    /// socket, a fleet reconnecting at once overflowed the shared receive buffers (some
    /// 2,000 datagrams dropped on the swarm's side after a SIGKILL), which no real fleet
    /// sees; 50 keeps the descriptors within reach at 20,000 seats.
    pub seats_per_socket: usize,
    /// Connection attempts (handshake and first answer) in progress at once, at most.
    pub handshakes_in_flight: usize,
    /// Send and receive buffers of each client socket.
    pub udp_buffer_bytes: usize,
    /// A heartbeat every this long, ±20 %.
    pub heartbeat: Duration,
    /// A seat's next event comes after a delay drawn between these two (Commune only, while
    /// [`Swarm::set_events`] says so).
    pub event_every: (Duration, Duration),
}

impl SwarmConfig {
    /// The benchmark's shape towards `server`: 500 seats per socket, 256 handshakes in
    /// flight, 4 MiB buffers, a heartbeat every 15 s, an event every one to three minutes.
    pub fn new(server: SocketAddr) -> Self {
        SwarmConfig {
            server,
            seats_per_socket: 50,
            handshakes_in_flight: 256,
            udp_buffer_bytes: 4 * 1024 * 1024,
            heartbeat: Duration::from_secs(15),
            event_every: (Duration::from_secs(60), Duration::from_secs(180)),
        }
    }
}

/// What one seat of a swarm has done, for the benchmark to read. Instants are nanoseconds
/// since [`Swarm::epoch`] (0: never).
#[derive(Debug, Default)]
pub struct SeatStats {
    /// When its latest connection was answered (`Welcome`, or the baseline's first ack).
    pub welcomed_at: AtomicU64,
    /// Connections answered.
    pub connections: AtomicU64,
    /// The controller's `acked_seq` at this seat's first `Welcome` in this swarm: what
    /// earlier runs left stored. Its seqs continue from there, as a persisted outbox's do.
    pub base: AtomicU64,
    /// The highest event seq it produced.
    pub produced: AtomicU64,
    /// The highest seq the controller acknowledged.
    pub acked: AtomicU64,
    /// When the latest `Command` frame arrived.
    pub command_at: AtomicU64,
    /// `Command` frames received.
    pub commands: AtomicU64,
}

struct Shared {
    config: SwarmConfig,
    epoch: Instant,
    seats: Vec<SeatStats>,
    handshakes: Semaphore,
    connected: AtomicUsize,
    /// Attempts that failed before the first answer.
    attempts_failed: AtomicU64,
    /// The agent's `quic_timeout_secs`.
    quic_timeout: Duration,
    /// Why attempts failed: the error's first words, counted.
    failure_reasons: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Connections lost after their first answer, by why.
    lost: Lost,
    timing: Timing,
    events_on: AtomicBool,
    /// Bumped to make every connected seat produce `burst_events` events at once.
    burst: watch::Sender<u64>,
    burst_events: AtomicU64,
    stop: watch::Sender<bool>,
}

/// Why connections were lost after their first answer.
#[derive(Debug, Default)]
pub struct Lost {
    /// The server reset them (a restarted server that knows the reset key).
    pub reset: AtomicU64,
    /// Nothing heard for the idle timeout.
    pub timed_out: AtomicU64,
    /// Anything else (closed by the server, refused, a bad frame).
    pub other: AtomicU64,
    /// Left by the seat: nothing heard for `commune_agent::link::SILENCE`.
    pub silent: AtomicU64,
}

impl Lost {
    fn count(&self, conn: &quinn::Connection) {
        let counter = match conn.close_reason() {
            Some(quinn::ConnectionError::Reset) => &self.reset,
            Some(quinn::ConnectionError::TimedOut) => &self.timed_out,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.reset.load(Ordering::Relaxed)
            + self.timed_out.load(Ordering::Relaxed)
            + self.silent.load(Ordering::Relaxed)
            + self.other.load(Ordering::Relaxed)
    }
}

/// Where the time of successful connection attempts went, summed.
#[derive(Debug, Default)]
struct Timing {
    /// From the first packet to the handshake done.
    handshake_ns: AtomicU64,
    /// From the handshake done to the server's first answer (`Welcome`, the first ack).
    answer_ns: AtomicU64,
    count: AtomicU64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// A running swarm of seats.
pub struct Swarm {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    endpoints: Vec<quinn::Endpoint>,
}

/// Decrements the count of connected seats when a connection ends.
struct ConnectedGuard<'a>(&'a AtomicUsize);

impl Drop for ConnectedGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A small, fast, seeded random generator (splitmix64): jitter only.
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Self {
        Jitter(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A duration drawn uniformly between `low` and `high`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_millis() as u64;
        low + Duration::from_millis(if span == 0 {
            0
        } else {
            self.next() % (span + 1)
        })
    }

    /// `d` ±20 %.
    fn around(&mut self, d: Duration) -> Duration {
        self.between(d.mul_f64(0.8), d.mul_f64(1.2))
    }
}

impl Swarm {
    /// Starts one task per seat; they connect at once, at most
    /// [`SwarmConfig::handshakes_in_flight`] at a time, and stay connected until
    /// [`Swarm::stop`], reconnecting with the agent's backoff when a connection is lost.
    pub fn start(
        shape: Shape,
        seats: &[Arc<SeatIdentity>],
        ca: &CertificateDer<'static>,
        config: SwarmConfig,
    ) -> anyhow::Result<Swarm> {
        // Every TLS configuration is built before the first seat starts, so that the time
        // to bring the swarm up is the connections' alone.
        let clients = seats
            .iter()
            .map(|seat| seat.client_config(ca))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let per_socket = config.seats_per_socket.max(1);
        let bind: SocketAddr = if config.server.is_ipv6() {
            "[::1]:0".parse()?
        } else {
            "127.0.0.1:0".parse()?
        };
        let endpoints = (0..seats.len().div_ceil(per_socket))
            .map(|_| udp_endpoint(bind, config.udp_buffer_bytes, None))
            .collect::<Result<Vec<_>, _>>()
            .context("client sockets")?;
        let shared = Arc::new(Shared {
            epoch: Instant::now(),
            seats: seats.iter().map(|_| SeatStats::default()).collect(),
            handshakes: Semaphore::new(config.handshakes_in_flight.max(1)),
            connected: AtomicUsize::new(0),
            attempts_failed: AtomicU64::new(0),
            failure_reasons: Default::default(),
            quic_timeout: Duration::from_secs(AgentConfig::default().quic_timeout_secs.max(1)),
            lost: Lost::default(),
            timing: Timing::default(),
            events_on: AtomicBool::new(true),
            burst: watch::channel(0).0,
            burst_events: AtomicU64::new(0),
            stop: watch::channel(false).0,
            config,
        });
        let mut tasks = Vec::with_capacity(seats.len());
        for (index, client) in clients.into_iter().enumerate() {
            let run = SeatRun {
                index,
                endpoint: endpoints[index / per_socket].clone(),
                client,
                shared: shared.clone(),
            };
            tasks.push(tokio::spawn(run.run(shape)));
        }
        Ok(Swarm {
            shared,
            tasks,
            endpoints,
        })
    }

    /// The instant the seats' times count from.
    pub fn epoch(&self) -> Instant {
        self.shared.epoch
    }

    /// `at` in the seats' time (nanoseconds since [`Swarm::epoch`]).
    pub fn ns_of(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.shared.epoch).as_nanos())
            .unwrap_or(u64::MAX)
    }

    /// One seat's figures.
    pub fn seat(&self, index: usize) -> &SeatStats {
        &self.shared.seats[index]
    }

    /// How many seats the swarm has.
    pub fn len(&self) -> usize {
        self.shared.seats.len()
    }

    /// Whether the swarm has no seat.
    pub fn is_empty(&self) -> bool {
        self.shared.seats.is_empty()
    }

    /// Seats connected (answered) now.
    pub fn connected(&self) -> usize {
        self.shared.connected.load(Ordering::Relaxed)
    }

    /// Seats whose latest connection was answered after `at`.
    pub fn answered_since(&self, at: Instant) -> usize {
        let since = self.ns_of(at);
        self.shared
            .seats
            .iter()
            .filter(|s| s.welcomed_at.load(Ordering::Relaxed) > since)
            .count()
    }

    /// Connection attempts that failed before their first answer.
    pub fn attempts_failed(&self) -> u64 {
        self.shared.attempts_failed.load(Ordering::Relaxed)
    }

    /// Why attempts failed, counted by the error's first words.
    pub fn failure_reasons(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared
            .failure_reasons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Connections lost after their first answer, by why.
    pub fn lost(&self) -> &Lost {
        &self.shared.lost
    }

    /// The mean time of a successful attempt's handshake, and from the handshake done to
    /// the server's first answer.
    pub fn mean_connect(&self) -> (Duration, Duration) {
        let t = &self.shared.timing;
        let n = t.count.load(Ordering::Relaxed).max(1);
        (
            Duration::from_nanos(t.handshake_ns.load(Ordering::Relaxed) / n),
            Duration::from_nanos(t.answer_ns.load(Ordering::Relaxed) / n),
        )
    }

    /// Whether seats produce their periodic events.
    pub fn set_events(&self, on: bool) {
        self.shared.events_on.store(on, Ordering::Relaxed);
    }

    /// Every connected seat produces `events` events now (and sends them).
    pub fn burst(&self, events: u64) {
        self.shared.burst_events.store(events, Ordering::Relaxed);
        self.shared.burst.send_modify(|n| *n += 1);
    }

    /// Seats whose produced events are not all acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.shared
            .seats
            .iter()
            .filter(|s| s.acked.load(Ordering::Relaxed) < s.produced.load(Ordering::Relaxed))
            .count()
    }

    /// Waits until `done` holds, checking every 50 ms; false after `timeout`.
    pub async fn wait(&self, timeout: Duration, mut done: impl FnMut(&Swarm) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// Closes every connection and waits (a little) for the close frames to leave.
    pub async fn stop(self) {
        self.shared.stop.send_replace(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        for endpoint in &self.endpoints {
            let _ = tokio::time::timeout(Duration::from_secs(3), endpoint.wait_idle()).await;
        }
    }
}

/// Resolves once the swarm is told to stop (the watch's guard is not held across awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// How a connection ended.
enum SessionEnd {
    /// Come back after this delay (`Goodbye`).
    After(Duration),
    /// Back off.
    Failed,
    /// The swarm is stopping.
    Stop,
}

/// One seat's task.
struct SeatRun {
    index: usize,
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    shared: Arc<Shared>,
}

/// Events produced and not yet acknowledged: the seat's outbox, in memory.
type Outbox = BTreeMap<u64, EventEnvelope>;

impl SeatRun {
    async fn run(self, shape: Shape) {
        let defaults = AgentConfig::default();
        let mut backoff = Backoff::new(
            Duration::from_millis(defaults.backoff_initial_ms),
            Duration::from_millis(defaults.backoff_max_ms),
        );
        let mut jitter = Jitter::new(self.index as u64);
        let mut outbox = Outbox::new();
        // The first event comes at a random moment of the period, so that seats spread.
        let (low, high) = self.shared.config.event_every;
        let mut next_event =
            tokio::time::Instant::now() + jitter.between(Duration::ZERO, high.max(low));
        let mut stop = self.shared.stop.subscribe();
        loop {
            if *stop.borrow_and_update() {
                return;
            }
            let end = match shape {
                Shape::Commune => {
                    self.commune(&mut backoff, &mut jitter, &mut outbox, &mut next_event)
                        .await
                }
                Shape::Bare => self.bare(&mut backoff, &mut jitter).await,
            };
            let delay = match end {
                SessionEnd::Stop => return,
                SessionEnd::After(d) => d,
                SessionEnd::Failed => backoff.next_delay(),
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                () = stopped(&mut stop) => return,
            }
        }
    }

    fn stats(&self) -> &SeatStats {
        &self.shared.seats[self.index]
    }

    /// Connects, holding one of the handshake places until `first_answer` returns.
    async fn connect<T, F, Fut>(&self, first_answer: F) -> Option<(quinn::Connection, T)>
    where
        F: FnOnce(quinn::Connection) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        let mut stop = self.shared.stop.subscribe();
        let attempt = async {
            let _place = self.shared.handshakes.acquire().await?;
            let start = Instant::now();
            // The agent gives a QUIC handshake `quic_timeout_secs`, then tries TLS over
            // TCP; a seat of the swarm (QUIC only) tries QUIC again after its backoff.
            let connecting = self.endpoint.connect_with(
                self.client.clone(),
                self.shared.config.server,
                SERVER_NAME,
            )?;
            let conn = tokio::time::timeout(self.shared.quic_timeout, connecting)
                .await
                .map_err(|_| anyhow::anyhow!("no QUIC handshake within quic_timeout_secs"))??;
            let handshake = start.elapsed();
            let answer = tokio::time::timeout(ANSWER_TIMEOUT, first_answer(conn.clone())).await??;
            let timing = &self.shared.timing;
            timing
                .handshake_ns
                .fetch_add(nanos(handshake), Ordering::Relaxed);
            timing
                .answer_ns
                .fetch_add(nanos(start.elapsed() - handshake), Ordering::Relaxed);
            timing.count.fetch_add(1, Ordering::Relaxed);
            anyhow::Ok((conn, answer))
        };
        tokio::select! {
            r = attempt => match r {
                Ok(done) => Some(done),
                Err(e) => {
                    self.shared.attempts_failed.fetch_add(1, Ordering::Relaxed);
                    let reason: String = e.to_string().chars().take(60).collect();
                    *self
                        .shared
                        .failure_reasons
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .entry(reason)
                        .or_default() += 1;
                    None
                }
            },
            () = stopped(&mut stop) => None,
        }
    }

    fn answered(&self) -> ConnectedGuard<'_> {
        let stats = self.stats();
        stats
            .welcomed_at
            .store(self.shared.now_ns(), Ordering::Relaxed);
        stats.connections.fetch_add(1, Ordering::Relaxed);
        self.shared.connected.fetch_add(1, Ordering::Relaxed);
        ConnectedGuard(&self.shared.connected)
    }

    fn produce(&self, outbox: &mut Outbox, event: impl FnOnce(u64) -> AgentEvent) {
        let seq = self.stats().produced.load(Ordering::Relaxed) + 1;
        outbox.insert(
            seq,
            EventEnvelope {
                seq,
                at: now(),
                event: event(seq),
            },
        );
        self.stats().produced.store(seq, Ordering::Relaxed);
    }

    /// A visitor's session, in two events: started (odd seq), ended (even seq).
    fn produce_session_event(&self, outbox: &mut Outbox) {
        self.produce(outbox, |seq| {
            crate::session_event(seq, format!("s-{}", seq.div_ceil(2)), false)
        });
    }

    async fn commune(
        &self,
        backoff: &mut Backoff,
        jitter: &mut Jitter,
        outbox: &mut Outbox,
        next_event: &mut tokio::time::Instant,
    ) -> SessionEnd {
        let pending = outbox.len() as u64;
        let Some((conn, (mut send, mut reader, welcome))) = self
            .connect(|conn| async move {
                let (mut send, recv) = conn.open_bi().await?;
                let hello = AgentMessage::Hello(Hello {
                    protocol: VersionRange::CURRENT,
                    agent_version: commune_agent::VERSION.to_string(),
                    capabilities: vec![
                        capability::EVENTS.into(),
                        capability::COMMANDS.into(),
                        capability::TICKET_PARTS.into(),
                    ],
                    outbox_pending: pending,
                });
                send.write_all(&encode_frame(&hello)?).await?;
                let mut reader = FrameReader::new(Recv(recv), MAX_FRAME_BYTES);
                match reader.next::<ControllerMessage>().await {
                    Ok(Some(ControllerMessage::Welcome(w))) => Ok((send, reader, w)),
                    other => anyhow::bail!("expected Welcome, got {other:?}"),
                }
            })
            .await
        else {
            return SessionEnd::Failed;
        };
        backoff.reset();
        let _connected = self.answered();
        let mut stop = self.shared.stop.subscribe();
        let mut burst = self.shared.burst.subscribe();
        let stats = self.stats();
        if stats.connections.load(Ordering::Relaxed) == 1 {
            stats.base.store(welcome.acked_seq, Ordering::Relaxed);
        }
        stats
            .produced
            .fetch_max(welcome.acked_seq, Ordering::Relaxed);
        // What the controller already has is dropped; the rest goes again.
        self.acked(outbox, welcome.acked_seq);
        let mut sent = welcome.acked_seq;
        let beat = encode_frame(&AgentMessage::Heartbeat(Heartbeat {
            seat_state: Some(SeatState::Ready),
            session_seconds_left: None,
        }))
        .expect("a heartbeat encodes");
        let mut next_beat =
            tokio::time::Instant::now() + jitter.around(self.shared.config.heartbeat);
        let lost = |shared: &Shared| {
            shared.lost.count(&conn);
            SessionEnd::Failed
        };
        if send_events(&mut send, outbox, &mut sent).await.is_err()
            || send.write_all(&beat).await.is_err()
        {
            return lost(&self.shared);
        }
        // As the agent: a controller silent for `SILENCE` is left (checked every 2 s, a
        // seat's phase of its own).
        let mut silence = commune_agent::link::Silence::default();
        let mut silence_tick = tokio::time::interval_at(
            tokio::time::Instant::now() + jitter.between(Duration::ZERO, Duration::from_secs(2)),
            Duration::from_secs(2),
        );
        silence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wrote = tokio::select! {
                _ = silence_tick.tick() => {
                    if silence.is_dead(&conn) {
                        conn.close(0u32.into(), b"nothing heard from the controller");
                        self.shared.lost.silent.fetch_add(1, Ordering::Relaxed);
                        return SessionEnd::Failed;
                    }
                    Ok(())
                }
                () = stopped(&mut stop) => {
                    conn.close(0u32.into(), b"swarm stopping");
                    return SessionEnd::Stop;
                }
                _ = tokio::time::sleep_until(next_beat) => {
                    next_beat = tokio::time::Instant::now() + jitter.around(self.shared.config.heartbeat);
                    send.write_all(&beat).await.map_err(anyhow::Error::from)
                }
                _ = tokio::time::sleep_until(*next_event) => {
                    let (low, high) = self.shared.config.event_every;
                    *next_event = tokio::time::Instant::now() + jitter.between(low, high);
                    if self.shared.events_on.load(Ordering::Relaxed) {
                        self.produce_session_event(outbox);
                    }
                    send_events(&mut send, outbox, &mut sent).await
                }
                changed = burst.changed() => {
                    if changed.is_ok() {
                        for _ in 0..self.shared.burst_events.load(Ordering::Relaxed) {
                            self.produce_session_event(outbox);
                        }
                    }
                    send_events(&mut send, outbox, &mut sent).await
                }
                msg = reader.next::<ControllerMessage>() => match msg {
                    Ok(Some(ControllerMessage::Ack(a))) => {
                        self.acked(outbox, a.up_to_seq);
                        Ok(())
                    }
                    Ok(Some(ControllerMessage::Command(c))) => {
                        let stats = self.stats();
                        stats.command_at.store(self.shared.now_ns(), Ordering::Relaxed);
                        stats.commands.fetch_add(1, Ordering::Relaxed);
                        // The agent reports each command's outcome once, as an event.
                        self.produce(outbox, |_| AgentEvent::CommandResult(CommandResult {
                            command_id: c.id,
                            outcome: CommandOutcome::Done,
                            detail: String::new(),
                        }));
                        send_events(&mut send, outbox, &mut sent).await
                    }
                    Ok(Some(ControllerMessage::Goodbye(g))) => {
                        return SessionEnd::After(Duration::from_millis(u64::from(g.reconnect_after_ms)));
                    }
                    Ok(Some(ControllerMessage::Refused(_))) => {
                        backoff.slowest();
                        return lost(&self.shared);
                    }
                    Ok(Some(_)) => Ok(()),
                    Ok(None) | Err(_) => return lost(&self.shared),
                },
            };
            if wrote.is_err() {
                return lost(&self.shared);
            }
        }
    }

    fn acked(&self, outbox: &mut Outbox, up_to: u64) {
        *outbox = outbox.split_off(&(up_to + 1));
        self.stats().acked.fetch_max(up_to, Ordering::Relaxed);
    }

    async fn bare(&self, backoff: &mut Backoff, jitter: &mut Jitter) -> SessionEnd {
        let mut frame = vec![0u8; BARE_FRAME_BYTES];
        frame[..4].copy_from_slice(&((BARE_FRAME_BYTES - 4) as u32).to_be_bytes());
        let first = frame.clone();
        let Some((conn, (mut send, mut recv))) = self
            .connect(|conn| async move {
                let (mut send, mut recv) = conn.open_bi().await?;
                send.write_all(&first).await?;
                let mut ack = [0u8; BARE_ACK_BYTES];
                recv.read_exact(&mut ack).await?;
                Ok((send, recv))
            })
            .await
        else {
            return SessionEnd::Failed;
        };
        backoff.reset();
        let _connected = self.answered();
        let mut stop = self.shared.stop.subscribe();
        let mut ack = [0u8; BARE_ACK_BYTES];
        loop {
            let next = jitter.around(self.shared.config.heartbeat);
            let beat = async {
                tokio::time::sleep(next).await;
                send.write_all(&frame).await?;
                recv.read_exact(&mut ack).await?;
                anyhow::Ok(())
            };
            tokio::select! {
                r = beat => if r.is_err() {
                    self.shared.lost.count(&conn);
                    return SessionEnd::Failed;
                },
                () = stopped(&mut stop) => {
                    conn.close(0u32.into(), b"swarm stopping");
                    return SessionEnd::Stop;
                }
            }
        }
    }
}

/// Sends what the controller has not been sent yet on this connection, 256 events a frame.
async fn send_events(
    send: &mut quinn::SendStream,
    outbox: &Outbox,
    sent: &mut u64,
) -> anyhow::Result<()> {
    loop {
        let events: Vec<EventEnvelope> = outbox
            .range(*sent + 1..)
            .take(EVENTS_PER_FRAME)
            .map(|(_, e)| e.clone())
            .collect();
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(());
        };
        let frame = encode_frame(&AgentMessage::Events(EventBatch { events }))?;
        send.write_all(&frame).await?;
        *sent = last;
    }
}

fn now() -> UtcMillis {
    commune_controller::now()
}

/// The baseline server: bare quinn with mutual TLS (the controller's certificate and key,
/// the fleet CA for client certificates, TLS 1.3, ring, ALPN `commune/1`), one
/// bidirectional stream per connection, each 200-byte frame answered by an 8-byte ack.
/// Quinn's default transport but for the controller's idle timeout (60 s) and stream
/// limits; the same 4 MiB socket buffers. Prints its address on standard output, then
/// serves until killed.
pub async fn serve_bare(pki: &Path, buffer_bytes: usize) -> anyhow::Result<()> {
    use commune_provisioning::files;
    let read = |name: &str| {
        std::fs::read(pki.join(name)).with_context(|| format!("{}", pki.join(name).display()))
    };
    let chain = CertificateDer::pem_slice_iter(&read(files::CONTROLLER_CERT)?)
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(&read(files::CONTROLLER_KEY)?)?;
    let ca = CertificateDer::from_pem_slice(&read(files::CA_CERT)?)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca)?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    tls.alpn_protocols = vec![commune_protocol::ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(Some(Duration::from_secs(60).try_into()?))
        .max_concurrent_bidi_streams(1u32.into())
        .max_concurrent_uni_streams(0u32.into());
    server.transport_config(Arc::new(transport));
    let endpoint = udp_endpoint("127.0.0.1:0".parse()?, buffer_bytes, Some(server))?;
    println!("{}", endpoint.local_addr()?);
    while let Some(incoming) = endpoint.accept().await {
        tokio::spawn(async move {
            let Ok(conn) = incoming.await else { return };
            let Ok((mut send, mut recv)) = conn.accept_bi().await else {
                return;
            };
            let mut body = vec![0u8; 4096];
            let mut ack = [0u8; BARE_ACK_BYTES];
            ack[..4].copy_from_slice(&4u32.to_be_bytes());
            loop {
                let mut len = [0u8; 4];
                if recv.read_exact(&mut len).await.is_err() {
                    return;
                }
                let len = u32::from_be_bytes(len) as usize;
                if len > body.len() || recv.read_exact(&mut body[..len]).await.is_err() {
                    return;
                }
                if send.write_all(&ack).await.is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// What the kernel says about a process: resident memory and CPU time.
pub mod proc {
    /// Resident memory of `pid`, in bytes (`VmRSS`), 0 if it is gone.
    pub fn rss_bytes(pid: u32) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .unwrap_or(0)
            * 1024
    }

    /// CPU time `pid` has used, user and system, in seconds (all its threads).
    pub fn cpu_secs(pid: u32) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                // The command name may hold spaces: fields count from after its ')'.
                let rest = &s[s.rfind(')')? + 1..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                let utime: u64 = f.get(11)?.parse().ok()?;
                let stime: u64 = f.get(12)?.parse().ok()?;
                Some((utime + stime) as f64 / ticks)
            })
            .unwrap_or(0.0)
    }

    /// CPU time the whole machine has used, all cores, in seconds (`/proc/stat`: every
    /// state but idle and iowait).
    pub fn machine_busy_secs() -> f64 {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let Some(cpu) = text.lines().find(|l| l.starts_with("cpu ")) else {
            return 0.0;
        };
        let f: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let busy: u64 = f
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
            .map(|(_, v)| v)
            .sum();
        busy as f64 / ticks
    }

    /// UDP datagrams the kernel dropped for want of receive buffer, machine-wide
    /// (`RcvbufErrors` in `/proc/net/snmp`, IPv4).
    pub fn udp_rcvbuf_errors() -> u64 {
        let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
        let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
        let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
            return 0;
        };
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == "RcvbufErrors")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0)
    }

    /// Datagrams dropped by the kernel on the IPv4 UDP sockets bound to `port` (the last
    /// column of `/proc/net/udp`): one socket's share of [`udp_rcvbuf_errors`].
    pub fn udp_socket_drops(port: u16) -> u64 {
        let text = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        let wanted = format!(":{port:04X}");
        text.lines()
            .skip(1)
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| local.ends_with(&wanted))
            })
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    }

    /// Raises this process's soft limit of open files to its hard limit (children
    /// inherit it).
    pub fn raise_open_files() -> u64 {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid pointer to an rlimit.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur = limit.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
        limit.rlim_cur
    }
}
