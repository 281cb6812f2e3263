//! The QUIC server: accepts connections within bounds, enrolls new computers, and serves
//! enrolled agents on their one bidirectional stream.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commune_protocol::messages::{
    Ack, AgentEvent, AgentMessage, ControllerMessage, EnrollRequest, Enrolled, Goodbye, Hello,
    Refusal, RefusalCode, Renewed, Welcome, CLOSE_NORMAL,
};
use commune_protocol::version::{capability, VersionRange};
use commune_protocol::{encode_frame, FrameError};
use rand::Rng;
use rustls::pki_types::CertificateDer;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::link::{FrameReader, ReadError};
use crate::seat_link::SeatTx;
use crate::store::TokenRefusal;
use crate::transport::{Peer, RecvHalf, SendHalf};
use crate::{now, Controller, LiveAgent};

/// Serves agents on `endpoint` until `shutdown` resolves, then tells every agent when to come
/// back (spread over `shutdown_spread_ms`), closes and waits for the close frames to leave.
pub async fn run(
    endpoint: quinn::Endpoint,
    controller: Controller,
    shutdown: impl Future<Output = ()>,
) -> Result<(), crate::ControllerError> {
    let config = controller.config().clone();
    let gate = Arc::new(HandshakeGate::new(&config));
    // With SQLite this is the only controller: whatever the store says was connected is
    // not any more. Controllers sharing PostgreSQL leave each other's agents alone.
    if controller.store().kind() == crate::store::BackendKind::Sqlite {
        controller.store().mark_all_disconnected().await?;
    }
    controller.refresh_revocations().await;
    let background = controller.spawn_background();
    info!(addr = %endpoint.local_addr().map(|a| a.to_string()).unwrap_or_default(), "controller listening for agents (QUIC)");
    let tcp = match controller.take_tcp_listener() {
        Some((listener, tls)) => match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => {
                info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "controller listening for agents (TLS over TCP)");
                Some(tokio::spawn(accept_tcp(
                    listener,
                    tokio_rustls::TlsAcceptor::from(tls),
                    controller.clone(),
                    gate.clone(),
                )))
            }
            Err(e) => {
                warn!(error = %e, "TLS-over-TCP listener unusable");
                None
            }
        },
        None => None,
    };

    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            incoming = endpoint.accept() => {
                let Some(incoming) = incoming else { break };
                if controller.inner.open_connections.load(Ordering::Relaxed) >= config.max_connections {
                    controller.metrics().handshake_rejected("over_capacity");
                    warn!(remote = %incoming.remote_address(), "connection refused: controller at max_connections");
                    incoming.refuse();
                    continue;
                }
                // Under load, an address must answer a Retry before it costs anything: a
                // spoofed source never does.
                if gate.in_progress() >= config.handshakes_before_retry
                    && !incoming.remote_address_validated()
                    && incoming.may_retry()
                {
                    controller.metrics().handshake_rejected("retry_sent");
                    let _ = incoming.retry();
                    continue;
                }
                let Some(ticket) = gate.enter(incoming.remote_address().ip()) else {
                    controller.metrics().handshake_rejected("per_address");
                    debug!(remote = %incoming.remote_address(), "connection refused: too many handshakes from this address");
                    incoming.refuse();
                    continue;
                };
                let c = controller.clone();
                let g = gate.clone();
                tokio::spawn(async move { handle_incoming(incoming, c, g, ticket).await });
            }
        }
    }

    info!("controller shutting down: telling agents when to come back");
    let live: Vec<LiveAgent> = controller.live_agents();
    for agent in &live {
        let delay = rand::rng().random_range(0..=config.shutdown_spread_ms.max(1));
        let _ = agent.tx.push(&ControllerMessage::Goodbye(Goodbye {
            reconnect_after_ms: delay,
            reason: "controller restarting".into(),
        }));
    }
    // Let writers flush the goodbyes before the connections close.
    tokio::time::sleep(Duration::from_millis(if live.is_empty() { 0 } else { 200 })).await;
    if let Some(tcp) = tcp {
        tcp.abort();
    }
    for agent in &live {
        agent.close(CLOSE_NORMAL, b"controller shutting down");
    }
    endpoint.close(CLOSE_NORMAL.into(), b"controller shutting down");
    let _ = tokio::time::timeout(Duration::from_secs(5), endpoint.wait_idle()).await;
    background.abort();
    controller.flush_last_seen().await;
    Ok(())
}

/// One open connection, counted against `max_connections` until dropped.
struct OpenGuard(Controller);

impl OpenGuard {
    fn enter(controller: &Controller) -> Self {
        controller
            .inner
            .open_connections
            .fetch_add(1, Ordering::Relaxed);
        OpenGuard(controller.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0
            .inner
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

fn reject_reason(err: &quinn::ConnectionError) -> &'static str {
    use quinn::ConnectionError as E;
    match err {
        // We refused the peer: our verifier's reasons.
        E::TransportError(te) => match commune_protocol::tls_alert(te.code.into()) {
            Some(48) => "unknown_ca",
            Some(44) => "revoked",
            Some(45) => "expired_certificate",
            Some(42) | Some(43) | Some(46) => "bad_certificate",
            Some(120) => "alpn",
            Some(_) => "tls",
            None => "transport",
        },
        // The peer refused us, typically an agent whose token names another CA.
        E::ConnectionClosed(c) if commune_protocol::tls_alert(c.error_code.into()).is_some() => {
            "agent_refused_controller"
        }
        E::TimedOut => "timeout",
        _ => "handshake_failed",
    }
}

/// Handshakes in progress: in all (with permits) and per source address.
struct HandshakeGate {
    permits: Arc<Semaphore>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    in_progress: AtomicUsize,
    max_per_address: usize,
    enrollments: Arc<Semaphore>,
}

/// The source an address counts as: itself (IPv4), or its /64 (IPv6; an IPv4-mapped
/// address is its IPv4 one).
fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
    }
}

/// One handshake counted by the gate until dropped.
struct GateTicket {
    gate: Arc<HandshakeGate>,
    ip: IpAddr,
}

impl Drop for GateTicket {
    fn drop(&mut self) {
        self.gate.in_progress.fetch_sub(1, Ordering::Relaxed);
        let mut map = self
            .gate
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl HandshakeGate {
    fn new(config: &crate::ControllerConfig) -> Self {
        HandshakeGate {
            permits: Arc::new(Semaphore::new(config.max_concurrent_handshakes.max(1))),
            per_address: Mutex::new(HashMap::new()),
            in_progress: AtomicUsize::new(0),
            max_per_address: config.max_handshakes_per_address.max(1),
            enrollments: Arc::new(Semaphore::new(config.max_concurrent_enrollments.max(1))),
        }
    }

    /// A handshake permit within `handshake_timeout_secs`; `None` (counted as `busy`) when
    /// the controller has none free in time.
    async fn permit(&self, controller: &Controller) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let timeout = Duration::from_secs(controller.config().handshake_timeout_secs);
        match tokio::time::timeout(timeout, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => Some(p),
            _ => {
                controller.metrics().handshake_rejected("busy");
                None
            }
        }
    }

    fn in_progress(&self) -> usize {
        self.in_progress.load(Ordering::Relaxed)
    }

    /// Counts a handshake from `ip`, unless that source has too many in progress. An IPv6
    /// source is its /64: one host commonly holds a whole /64.
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<GateTicket> {
        let ip = source_of(ip);
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= self.max_per_address {
            return None;
        }
        *n += 1;
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        Some(GateTicket {
            gate: self.clone(),
            ip,
        })
    }
}

async fn handle_incoming(
    incoming: quinn::Incoming,
    controller: Controller,
    gate: Arc<HandshakeGate>,
    ticket: GateTicket,
) {
    let _open = OpenGuard::enter(&controller);
    let remote = incoming.remote_address();
    let timeout = Duration::from_secs(controller.config().handshake_timeout_secs);
    let Some(permit) = gate.permit(&controller).await else {
        incoming.ignore();
        return;
    };
    let connecting = match incoming.accept() {
        Ok(c) => c,
        Err(e) => {
            controller.metrics().handshake_rejected(reject_reason(&e));
            debug!(%remote, error = %e, "incoming connection failed");
            return;
        }
    };
    let conn = match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            let reason = reject_reason(&e);
            controller.metrics().handshake_rejected(reason);
            info!(%remote, reason, error = %e, "handshake refused");
            return;
        }
        Err(_) => {
            controller.metrics().handshake_rejected("timeout");
            info!(%remote, "handshake timed out");
            return;
        }
    };
    drop(permit);
    drop(ticket);

    let chain = conn
        .peer_identity()
        .and_then(|id| id.downcast::<Vec<CertificateDer<'static>>>().ok());
    let cert = chain.as_deref().and_then(|c| c.first()).cloned();
    let Some((send, reader)) = first_stream(&conn, &controller).await else {
        return;
    };
    serve(Peer::Quic(conn), send, reader, cert, controller, &gate).await;
}

/// Accepts seats over TLS on TCP, through the same gate as QUIC (connections at once,
/// handshakes per address and in all, handshake timeout). A TCP handshake proves the
/// address, so no Retry is needed.
async fn accept_tcp(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    controller: Controller,
    gate: Arc<HandshakeGate>,
) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, typically: wait rather than spin.
                warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if controller.inner.open_connections.load(Ordering::Relaxed)
            >= controller.config().max_connections
        {
            controller.metrics().handshake_rejected("over_capacity");
            continue;
        }
        let Some(ticket) = gate.enter(remote.ip()) else {
            controller.metrics().handshake_rejected("per_address");
            continue;
        };
        let (c, g, a) = (controller.clone(), gate.clone(), acceptor.clone());
        tokio::spawn(async move { handle_tcp(stream, remote, a, c, g, ticket).await });
    }
}

async fn handle_tcp(
    stream: tokio::net::TcpStream,
    remote: std::net::SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    controller: Controller,
    gate: Arc<HandshakeGate>,
    ticket: GateTicket,
) {
    let _open = OpenGuard::enter(&controller);
    // TCP's own liveness, as close as it gets to QUIC's idle timeout: a seat whose path
    // died is dropped in about `idle_timeout_secs`, not after minutes of retransmissions.
    let socket = socket2::SockRef::from(&stream);
    let idle = Duration::from_secs(controller.config().idle_timeout_secs.max(1));
    let probe = (idle / 4).max(Duration::from_secs(1));
    let _ = socket.set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(probe)
            .with_interval(probe)
            .with_retries(3),
    );
    let _ = socket.set_tcp_user_timeout(Some(idle));
    let _ = stream.set_nodelay(true);
    let timeout = Duration::from_secs(controller.config().handshake_timeout_secs);
    let Some(permit) = gate.permit(&controller).await else {
        return;
    };
    let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            controller.metrics().handshake_rejected("tls");
            info!(%remote, error = %e, "TLS-over-TCP handshake refused");
            return;
        }
        Err(_) => {
            controller.metrics().handshake_rejected("timeout");
            info!(%remote, "TLS-over-TCP handshake timed out");
            return;
        }
    };
    drop(permit);
    drop(ticket);
    let (_, session) = tls.get_ref();
    if session.alpn_protocol() != Some(commune_protocol::ALPN) {
        controller.metrics().handshake_rejected("alpn");
        return;
    }
    let cert = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|c| c.clone().into_owned());
    let peer = crate::transport::TcpPeer::new(remote);
    let (send, recv) = crate::transport::split_tcp(tls, &peer);
    let reader = FrameReader::new(recv, controller.config().max_frame_bytes);
    serve(Peer::Tcp(peer), send, reader, cert, controller, &gate).await;
}

/// Serves a connection whose TLS handshake is done, on either transport: a seat (with a
/// certificate) or an enrolling computer (without).
async fn serve(
    conn: Peer,
    send: SendHalf,
    reader: FrameReader,
    cert: Option<CertificateDer<'static>>,
    controller: Controller,
    gate: &HandshakeGate,
) {
    match cert {
        Some(cert) => serve_agent(conn, send, reader, cert, controller).await,
        // Connections without a certificate have a small budget of their own, so that
        // anonymous clients never crowd out the fleet; one waits its turn a little (IT
        // enrolling a room of computers at once), then is told to come back.
        None => match tokio::time::timeout(
            Duration::from_secs(controller.config().first_frame_timeout_secs),
            gate.enrollments.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(_permit)) => serve_enrollment(conn, send, reader, controller).await,
            _ => {
                let mut send = send;
                controller.metrics().handshake_rejected("enrollments_busy");
                refuse(
                    &conn,
                    Some(&mut send),
                    RefusalCode::Busy,
                    "too many enrollments at once; retry in a minute".into(),
                )
                .await;
            }
        },
    }
}

/// Sends a refusal on the stream, waits (briefly) for the peer to receive it, then closes
/// the connection with the matching application code so the reason shows on both sides.
async fn refuse(conn: &Peer, send: Option<&mut SendHalf>, code: RefusalCode, message: String) {
    if let Some(send) = send {
        let msg = ControllerMessage::Refused(Refusal {
            code,
            message: message.clone(),
        });
        if let Ok(frame) = encode_frame(&msg) {
            if send.write_all(&frame).await.is_ok() {
                send.finish(Duration::from_secs(2)).await;
            }
        }
    }
    let mut reason = message.into_bytes();
    reason.truncate(512);
    conn.close(code.close_code(), &reason);
}

async fn first_stream(
    conn: &quinn::Connection,
    controller: &Controller,
) -> Option<(SendHalf, FrameReader)> {
    let timeout = Duration::from_secs(controller.config().first_frame_timeout_secs);
    match tokio::time::timeout(timeout, conn.accept_bi()).await {
        Ok(Ok((send, recv))) => Some((
            SendHalf::Quic(send),
            FrameReader::new(RecvHalf::Quic(recv), controller.config().max_frame_bytes),
        )),
        Ok(Err(e)) => {
            debug!(remote = %conn.remote_address(), error = %e, "connection ended before its stream");
            None
        }
        Err(_) => {
            controller.metrics().handshake_rejected("no_stream");
            conn.close(
                RefusalCode::UnexpectedMessage.close_code().into(),
                b"no stream opened in time",
            );
            None
        }
    }
}

/// Handles a bad frame: counts it, tells the peer, closes only this connection.
async fn reject_frame(
    conn: &Peer,
    send: &mut SendHalf,
    controller: &Controller,
    err: &FrameError,
    who: &str,
) {
    controller.metrics().frame_rejected(err.reason());
    warn!(remote = %conn.remote_address(), peer = who, error = %err, "bad frame; closing this connection");
    let code = match err {
        FrameError::TooLarge { .. } => RefusalCode::FrameTooLarge,
        _ => RefusalCode::MalformedFrame,
    };
    refuse(conn, Some(send), code, err.to_string()).await;
}

fn negotiate(theirs: VersionRange) -> Result<u16, String> {
    VersionRange::CURRENT.negotiate(theirs).ok_or_else(|| {
        format!(
            "no protocol version in common: this peer speaks {theirs}, the controller speaks {}; update the agent or the controller",
            VersionRange::CURRENT
        )
    })
}

/// Reads the first message of a connection within `first_frame_timeout_secs`. On a bad
/// frame, silence or a closed stream, the connection is dealt with and `None` returned.
async fn first_message(
    conn: &Peer,
    send: &mut SendHalf,
    reader: &mut FrameReader,
    controller: &Controller,
    who: &str,
    expected: &str,
) -> Option<AgentMessage> {
    let timeout = Duration::from_secs(controller.config().first_frame_timeout_secs);
    match tokio::time::timeout(timeout, reader.next::<AgentMessage>()).await {
        Ok(Ok(Some(m))) => Some(m),
        Ok(Err(ReadError::Frame(e))) => {
            reject_frame(conn, send, controller, &e, who).await;
            None
        }
        Ok(_) => None,
        Err(_) => {
            controller.metrics().handshake_rejected("no_first_frame");
            let message = format!("no {expected} received in time");
            refuse(conn, Some(send), RefusalCode::UnexpectedMessage, message).await;
            None
        }
    }
}

async fn serve_enrollment(
    conn: Peer,
    mut send: SendHalf,
    mut reader: FrameReader,
    controller: Controller,
) {
    let Some(first) = first_message(
        &conn,
        &mut send,
        &mut reader,
        &controller,
        "enrolling",
        "request",
    )
    .await
    else {
        return;
    };
    let request = match first {
        AgentMessage::Enroll(r) => r,
        AgentMessage::Hello(_) => {
            controller
                .metrics()
                .handshake_rejected("no_client_certificate");
            return refuse(
                &conn,
                Some(&mut send),
                RefusalCode::WrongConnectionKind,
                "this computer presented no certificate; enroll it first with `commune-agent enroll`".into(),
            )
            .await;
        }
        _ => {
            controller.metrics().frame_rejected("unexpected");
            return refuse(
                &conn,
                Some(&mut send),
                RefusalCode::UnexpectedMessage,
                "expected an enrollment request".into(),
            )
            .await;
        }
    };
    match enroll(&controller, &request).await {
        Ok(enrolled) => {
            info!(agent = %enrolled.agent_id, site = %enrolled.site_id, hostname = %truncate_chars(&request.hostname, MAX_HOSTNAME_CHARS), "computer enrolled");
            controller.metrics().enrollments.inc();
            if let Ok(frame) = encode_frame(&ControllerMessage::Enrolled(enrolled)) {
                if send.write_all(&frame).await.is_ok() {
                    send.finish(Duration::from_secs(5)).await;
                }
            }
            // The agent closes once it has its certificate; do not cut it short. Its end of
            // the stream (or of the connection) shows on either transport as the end of
            // reading.
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while let Ok(Some(_)) = reader.next::<AgentMessage>().await {}
            })
            .await;
        }
        Err((code, message)) => {
            controller.metrics().handshake_rejected(code.as_str());
            info!(remote = %conn.remote_address(), reason = code.as_str(), "enrollment refused: {message}");
            refuse(&conn, Some(&mut send), code, message).await;
        }
    }
}

/// The longest host name kept from an enrolling computer, in characters (DNS allows 253).
const MAX_HOSTNAME_CHARS: usize = 253;
/// The longest agent version kept, in characters.
const MAX_VERSION_CHARS: usize = 64;

/// `text` as one line (control characters removed: nothing forges a log line) cut to
/// `max` characters.
fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Signs a renewed certificate for a connected agent (same agent id, new key and serial)
/// and records it as the agent's next one.
async fn renew(
    controller: &Controller,
    agent_id: &str,
    csr_pem: &str,
) -> Result<Renewed, (RefusalCode, String)> {
    let at = now();
    let validity = i64::try_from(controller.config().agent_certificate_secs).unwrap_or(i64::MAX);
    let signed = controller
        .ca()
        .sign_agent_csr_for(csr_pem, agent_id, at, validity)
        .map_err(|e| (RefusalCode::CsrInvalid, e.to_string()))?;
    match controller
        .store()
        .set_next_certificate(agent_id, &signed.serial_hex, signed.not_after, at)
        .await
    {
        Ok(true) => {
            info!(agent = %agent_id, serial = %signed.serial_hex, not_after = %signed.not_after, "certificate renewed");
            Ok(Renewed {
                certificate_pem: signed.certificate_pem,
                not_after: signed.not_after,
            })
        }
        Ok(false) => Err((
            RefusalCode::Revoked,
            format!("agent {agent_id} is revoked; its certificate is not renewed"),
        )),
        Err(e) => {
            warn!(agent = %agent_id, error = %e, "renewal not recorded");
            Err((
                RefusalCode::Internal,
                "the controller could not record the renewal; it will be asked again".into(),
            ))
        }
    }
}

async fn enroll(
    controller: &Controller,
    request: &EnrollRequest,
) -> Result<Enrolled, (RefusalCode, String)> {
    negotiate(request.protocol).map_err(|m| (RefusalCode::UnsupportedVersion, m))?;
    let secret = commune_protocol::enroll::EnrollToken::decode_secret(&request.token_secret)
        .ok_or((
        RefusalCode::TokenUnknown,
        "this enrollment token is not one the controller issued; check that it was copied whole"
            .to_string(),
    ))?;
    let hash = commune_provisioning::token_hash(&secret);
    // A computer whose certificate expired while it was offline proves who it was (its old
    // certificate, from this fleet, and a signature by its key over this request) and keeps
    // its agent id; anything else is a new computer.
    let previous = match &request.previous {
        Some(p) => {
            let proof = p.signature().ok_or_else(|| {
                (
                    RefusalCode::CsrInvalid,
                    "the previous identity's proof is not base64url".to_string(),
                )
            })?;
            let message = commune_protocol::messages::reenroll_proof_message(
                &request.token_secret,
                &request.csr_pem,
            );
            let who = controller
                .ca()
                .verify_previous_identity(&p.certificate_pem, &message, &proof)
                .map_err(|e| {
                    (
                        RefusalCode::NotEnrolled,
                        format!("the previous identity is refused: {e}"),
                    )
                })?;
            Some(who)
        }
        None => None,
    };
    let agent_id = match &previous {
        Some(who) => who.agent_id.clone(),
        None => commune_provisioning::new_agent_id(),
    };
    let validity = i64::try_from(controller.config().agent_certificate_secs).unwrap_or(i64::MAX);
    // What an enrolling computer says about itself is kept short before anything is stored.
    let hostname = truncate_chars(&request.hostname, MAX_HOSTNAME_CHARS);
    let agent_version = truncate_chars(&request.agent_version, MAX_VERSION_CHARS);
    let at = now();
    let ca = controller.ca();
    let issue = |_site: &str| {
        ca.sign_agent_csr_for(&request.csr_pem, &agent_id, at, validity)
            .map(|s| ((s.certificate_pem, s.not_after), s.serial_hex, s.not_after))
    };
    let result = match &previous {
        Some(who) => {
            controller
                .store()
                .reenroll(
                    &hash,
                    at,
                    &agent_id,
                    &who.serial_hex,
                    &hostname,
                    &agent_version,
                    issue,
                )
                .await
        }
        None => {
            controller
                .store()
                .enroll(&hash, at, &agent_id, &hostname, &agent_version, issue)
                .await
        }
    };
    if let (Ok(Ok(_)), Some(who)) = (&result, &previous) {
        info!(agent = %agent_id, previous_serial = %who.serial_hex, "computer enrolled again with its previous identity");
    }
    match result {
        Ok(Ok(((certificate_pem, not_after), site_id))) => Ok(Enrolled {
            agent_id,
            site_id,
            certificate_pem,
            ca_certificate_pem: ca.cert_pem().to_string(),
            not_after,
        }),
        Ok(Err(TokenRefusal::Unknown)) => Err((
            RefusalCode::TokenUnknown,
            "this enrollment token is not known to the controller; ask IT for a new one with `commune token create`".into(),
        )),
        Ok(Err(TokenRefusal::Used { at })) => Err((
            RefusalCode::TokenUsed,
            format!("this enrollment token was already used at {at}; each token enrolls one computer: ask IT for a new one"),
        )),
        Ok(Err(TokenRefusal::Expired { at })) => Err((
            RefusalCode::TokenExpired,
            format!("this enrollment token expired at {at}; ask IT for a new one"),
        )),
        Ok(Err(TokenRefusal::NotPrevious)) => Err((
            RefusalCode::NotEnrolled,
            format!("agent {agent_id} is revoked or holds another certificate now; enroll this computer as a new one (`commune-agent enroll --force --new-identity`)"),
        )),
        Err(crate::store::EnrollStoreError::Issue(e)) => Err((RefusalCode::CsrInvalid, e.to_string())),
        Err(crate::store::EnrollStoreError::Store(e)) => {
            warn!(error = %e, "enrollment failed in the store");
            Err((RefusalCode::Internal, "the controller could not record the enrollment; try again".into()))
        }
    }
}

async fn serve_agent(
    conn: Peer,
    mut send: SendHalf,
    mut reader: FrameReader,
    cert: CertificateDer<'static>,
    controller: Controller,
) {
    let identity = match commune_provisioning::agent_identity(&cert) {
        Ok(id) => id,
        Err(e) => {
            controller.metrics().handshake_rejected("bad_certificate");
            conn.close(
                RefusalCode::NotEnrolled.close_code(),
                e.to_string().as_bytes(),
            );
            return;
        }
    };
    let agent_id = identity.agent_id.clone();
    let (record, acked_seq) = match controller.store().agent_for_link(&agent_id).await {
        Ok(Some((r, acked))) => (Some(r), acked),
        Ok(None) => (None, 0),
        Err(e) => {
            warn!(agent = %agent_id, error = %e, "store unavailable");
            return refuse(
                &conn,
                Some(&mut send),
                RefusalCode::Internal,
                "the controller's store is unavailable; retrying later".into(),
            )
            .await;
        }
    };
    let refusal = match &record {
        None => Some((RefusalCode::NotEnrolled, format!("agent {agent_id} is not enrolled with this controller"))),
        Some(r) if r.revoked_at.is_some() => Some((
            RefusalCode::Revoked,
            format!("agent {agent_id} was revoked by IT; this computer must be enrolled again with a new token"),
        )),
        Some(r) if r.cert_serial != identity.serial_hex => {
            // Its renewed certificate, used for the first time: it becomes the current one
            // and the previous one is refused from now on.
            match controller
                .store()
                .promote_certificate(&agent_id, &identity.serial_hex)
                .await
            {
                Ok(true) => {
                    controller.metrics().certificates_renewed.inc();
                    info!(agent = %agent_id, serial = %identity.serial_hex, "agent now uses its renewed certificate; the previous one is refused");
                    None
                }
                _ => Some((
                    RefusalCode::NotEnrolled,
                    format!("this certificate of agent {agent_id} was replaced by a newer one"),
                )),
            }
        }
        Some(_) => None,
    };
    if let Some((code, message)) = refusal {
        controller.metrics().handshake_rejected(code.as_str());
        info!(agent = %agent_id, reason = code.as_str(), "agent refused: {message}");
        return refuse(&conn, Some(&mut send), code, message).await;
    }
    let record = record.expect("checked above");

    let hello: Hello = match first_message(
        &conn,
        &mut send,
        &mut reader,
        &controller,
        &agent_id,
        "Hello",
    )
    .await
    {
        Some(AgentMessage::Hello(h)) => h,
        Some(_) => {
            controller.metrics().frame_rejected("unexpected");
            return refuse(
                &conn,
                Some(&mut send),
                RefusalCode::UnexpectedMessage,
                "the first message must be Hello".into(),
            )
            .await;
        }
        None => return,
    };
    let version = match negotiate(hello.protocol) {
        Ok(v) => v,
        Err(message) => {
            controller
                .metrics()
                .handshake_rejected("unsupported_version");
            info!(agent = %agent_id, "agent refused: {message}");
            return refuse(
                &conn,
                Some(&mut send),
                RefusalCode::UnsupportedVersion,
                message,
            )
            .await;
        }
    };
    let agent_version = truncate_chars(&hello.agent_version, MAX_VERSION_CHARS);
    if agent_version != record.agent_version {
        let _ = controller
            .store()
            .set_agent_version(&agent_id, &agent_version)
            .await;
    }
    let welcome = ControllerMessage::Welcome(Welcome {
        protocol_version: version,
        controller_version: env!("CARGO_PKG_VERSION").to_string(),
        capabilities: vec![
            capability::HEALTH.into(),
            capability::INVENTORY.into(),
            capability::EVENTS.into(),
            capability::RENEW.into(),
        ]
        .into_iter()
        .chain(
            controller
                .config()
                .handoff
                .enabled
                .then(|| capability::HANDOFF.into()),
        )
        .collect(),
        agent_id: agent_id.clone(),
        site_id: record.site_id.clone(),
        acked_seq,
        health_interval_secs: controller.config().health_interval_secs,
        inventory_interval_secs: controller.config().inventory_interval_secs,
    });
    let Ok(frame) = encode_frame(&welcome) else {
        return;
    };
    if send.write_all(&frame).await.is_err() {
        return;
    }

    let ticket_parts = hello
        .capabilities
        .iter()
        .any(|c| c == capability::TICKET_PARTS);
    let (tx, mut rx) = SeatTx::new(conn.clone(), ticket_parts);
    let conn_id = controller.register(&agent_id, conn.clone(), tx.clone());
    info!(agent = %agent_id, site = %record.site_id, remote = %conn.remote_address(), transport = conn.transport(), version = %agent_version, "agent connected");

    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if send.write_all(&frame).await.is_err() {
                break;
            }
        }
        send
    });
    // After the writer runs: pending commands may outnumber the channel's capacity.
    controller.push_seat(&record.site_id, &agent_id).await;
    controller.push_tickets_to(&record.site_id, &agent_id).await;
    controller.deliver_pending(&agent_id, &tx).await;

    let mut renewed = false;
    // This connection's upload of a document for a phone (one at a time).
    let mut upload = crate::handoff::UploadSlot::default();
    loop {
        let msg = match reader.next::<AgentMessage>().await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(ReadError::Source(e)) => {
                debug!(agent = %agent_id, error = %e, "agent stream ended");
                break;
            }
            Err(ReadError::Frame(e)) => {
                writer.abort();
                controller.metrics().frame_rejected(e.reason());
                warn!(agent = %agent_id, error = %e, "bad frame; closing this agent's connection");
                let code = match e {
                    FrameError::TooLarge { .. } => RefusalCode::FrameTooLarge,
                    _ => RefusalCode::MalformedFrame,
                };
                conn.close(code.close_code(), e.to_string().as_bytes());
                break;
            }
        };
        controller.touch(&agent_id);
        match msg {
            // Seat data goes through the ingestor, within the seat's bounds (capped, metered;
            // see `ingest::bounds`).
            AgentMessage::Health(h) => crate::ingest::health(&controller, &agent_id, h).await,
            AgentMessage::Inventory(inv) => {
                crate::ingest::inventory(&controller, &agent_id, inv).await
            }
            AgentMessage::Events(batch) => {
                let n = batch.events.len() as u64;
                let outcomes: Vec<(bool, String)> = batch
                    .events
                    .iter()
                    .filter_map(|e| match &e.event {
                        AgentEvent::WipeReport(r) => Some((
                            true,
                            if r.verified { "verified" } else { "failed" }.to_string(),
                        )),
                        AgentEvent::SessionEnded(s) => serde_json::to_value(s.reason)
                            .ok()
                            .and_then(|v| v.as_str().map(|r| (false, r.to_string()))),
                        _ => None,
                    })
                    .collect();
                // Past the seat's rate, this waits: the seat is slowed down, nothing lost.
                match crate::ingest::events(&controller, &agent_id, batch.events).await {
                    Ok(crate::ingest::EventsStored {
                        up_to_seq,
                        spent_tickets,
                        ..
                    }) => {
                        controller.metrics().events_received.inc_by(n);
                        for (is_wipe, label) in outcomes {
                            if is_wipe {
                                controller
                                    .metrics()
                                    .wipes
                                    .get_or_create(&crate::metrics::ResultLabel { result: label })
                                    .inc();
                            } else {
                                controller
                                    .metrics()
                                    .sessions_ended
                                    .get_or_create(&crate::metrics::ReasonLabel { reason: label })
                                    .inc();
                            }
                        }
                        let _ = tx.send(ControllerMessage::Ack(Ack { up_to_seq })).await;
                        if spent_tickets {
                            // Spent fleet-wide as soon as the controller heard of it (only
                            // a first use changes the site's set), within a second.
                            controller.tickets_changed(&record.site_id);
                        }
                    }
                    // No ack: the agent keeps the events and sends them again.
                    Err(e) => {
                        warn!(agent = %agent_id, error = %e, "events not stored; they will be resent")
                    }
                }
            }
            AgentMessage::Heartbeat(beat) => {
                if let Some(state) = beat.seat_state {
                    controller.set_seat_state(&agent_id, state, beat.session_seconds_left);
                }
            }
            AgentMessage::Renew(request) => {
                // One renewal per connection: the seat reconnects with the new certificate.
                // A stolen key cannot make the controller sign in a loop.
                if renewed {
                    controller.metrics().frame_rejected("unexpected");
                    conn.close(
                        RefusalCode::UnexpectedMessage.close_code(),
                        b"one certificate renewal per connection",
                    );
                    break;
                }
                renewed = true;
                match renew(&controller, &agent_id, &request.csr_pem).await {
                    Ok(answer) => {
                        let _ = tx.send(ControllerMessage::Renewed(answer)).await;
                    }
                    // No answer: the seat keeps its certificate and asks again later.
                    Err((code, message)) => {
                        warn!(agent = %agent_id, reason = code.as_str(), "certificate renewal refused: {message}");
                    }
                }
            }
            AgentMessage::Handoff(part) => {
                let base = controller.handoff_base().unwrap_or_default();
                let answer = controller.handoffs().receive(
                    &mut upload,
                    &agent_id,
                    part,
                    &controller.config().handoff,
                    &base,
                );
                if let Some(answer) = answer {
                    let (outcome, ready) = match answer {
                        Ok(ready) => ("stored", ready),
                        Err(ready) => ("refused", ready),
                    };
                    controller.metrics().handoff(outcome, 1);
                    // Sizes and names never: the seat and the outcome only.
                    info!(agent = %agent_id, outcome, "document for a phone");
                    let _ = tx.send(ControllerMessage::HandoffReady(ready)).await;
                }
            }
            AgentMessage::Hello(_) | AgentMessage::Enroll(_) => {
                controller.metrics().frame_rejected("unexpected");
                conn.close(
                    RefusalCode::UnexpectedMessage.close_code(),
                    b"unexpected message after Hello",
                );
                break;
            }
            AgentMessage::Unknown => {
                debug!(agent = %agent_id, "skipped a message type this controller does not know")
            }
        }
    }
    drop(tx);
    controller.unregister(&agent_id, conn_id);
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    info!(agent = %agent_id, transport = conn.transport(), reason = %conn.close_reason(), "agent disconnected");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_source_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_of(a), source_of(b));
        assert_ne!(source_of(a), source_of(other));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_of(mapped), v4);
        assert_eq!(source_of(v4), v4);
    }
}
