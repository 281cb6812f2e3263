//! TLS and QUIC set-up of the controller's endpoint: TLS 1.3 only, ring as the one crypto
//! provider, ALPN `commune/1`, client certificates from the fleet CA (optional, because an
//! enrolling computer has none yet), and QUIC keys persisted so that after a crash the new
//! process can reset the old connections at once instead of letting agents wait out their
//! idle timeout.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use quinn::crypto::rustls::QuicServerConfig;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use crate::config::ControllerConfig;
use crate::ControllerError;

/// The crypto provider of the whole build.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Agent ids refused at the handshake. Shared with the revocation poller.
pub type RevokedSet = Arc<RwLock<HashSet<String>>>;

/// Verifies client certificates against the fleet CA, refuses revoked agents, and lets
/// certificate-less connections through for enrollment only (the server checks that).
#[derive(Debug)]
struct FleetClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    revoked: RevokedSet,
}

impl ClientCertVerifier for FleetClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if let Ok(id) = commune_provisioning::agent_identity(end_entity) {
            let revoked = self
                .revoked
                .read()
                .map(|r| r.contains(&id.agent_id))
                .unwrap_or(false);
            if revoked {
                return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
            }
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The controller's TLS material, read from the PKI directory.
pub struct ServerIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca: CertificateDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ServerIdentity {
    /// Reads `controller.pem`, `controller-key.pem` and `ca.pem`.
    pub fn load(pki: &Path) -> Result<Self, ControllerError> {
        use commune_provisioning::files;
        let read = |name: &str| {
            let path = pki.join(name);
            std::fs::read(&path).map_err(|e| {
                ControllerError::Pki(format!(
                    "{}: {e}; run `commune ca init` first",
                    path.display()
                ))
            })
        };
        let chain = CertificateDer::pem_slice_iter(&read(files::CONTROLLER_CERT)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ControllerError::Pki(format!("controller certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&read(files::CONTROLLER_KEY)?)
            .map_err(|e| ControllerError::Pki(format!("controller key: {e}")))?;
        let ca = CertificateDer::from_pem_slice(&read(files::CA_CERT)?)
            .map_err(|e| ControllerError::Pki(format!("CA certificate: {e}")))?;
        Ok(ServerIdentity { chain, key, ca })
    }
}

/// The TLS server configuration shared by QUIC and TLS over TCP: TLS 1.3, the fleet
/// verifier, the controller's certificate, ALPN `commune/1`.
pub fn rustls_server_config(
    identity: &ServerIdentity,
    revoked: RevokedSet,
) -> Result<rustls::ServerConfig, ControllerError> {
    let provider = provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(identity.ca.clone())
        .map_err(|e| ControllerError::Pki(format!("CA certificate: {e}")))?;
    let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| ControllerError::Pki(e.to_string()))?;
    let verifier = Arc::new(FleetClientVerifier { inner, revoked });
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ControllerError::Pki(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(|e| ControllerError::Pki(format!("controller certificate: {e}")))?;
    tls.alpn_protocols = vec![commune_protocol::ALPN.to_vec()];
    Ok(tls)
}

/// Builds the QUIC server configuration.
pub fn server_config(
    tls: rustls::ServerConfig,
    config: &ControllerConfig,
) -> Result<quinn::ServerConfig, ControllerError> {
    let crypto =
        QuicServerConfig::try_from(tls).map_err(|e| ControllerError::Pki(e.to_string()))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(Some(
            quinn::IdleTimeout::try_from(Duration::from_secs(config.idle_timeout_secs))
                .map_err(|e| ControllerError::Config(format!("idle_timeout_secs: {e}")))?,
        ))
        // One bidirectional stream per connection, opened by the agent.
        .max_concurrent_bidi_streams(1u32.into())
        .max_concurrent_uni_streams(0u32.into());
    let window = u32::try_from(config.max_frame_bytes.saturating_mul(2)).unwrap_or(u32::MAX);
    transport.stream_receive_window(window.into());
    transport.receive_window(window.into());
    server.transport_config(Arc::new(transport));
    // Connection attempts waiting for the accept loop, and what they may buffer: bounded
    // well below quinn's defaults (65,536 attempts, 100 MiB), as no honest fleet needs more.
    server
        .max_incoming(config.max_concurrent_handshakes.saturating_mul(4).max(64))
        .incoming_buffer_size(64 * 1024)
        .incoming_buffer_size_total(16 * 1024 * 1024);
    Ok(server)
}

/// Loads or creates a secret of `len` random bytes, private to root.
fn persistent_secret(path: &Path, len: usize) -> Result<Vec<u8>, ControllerError> {
    if let Ok(bytes) = std::fs::read(path) {
        if bytes.len() == len {
            return Ok(bytes);
        }
    }
    let mut bytes = vec![0u8; len];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    commune_provisioning::write_file(path, &bytes, true)?;
    Ok(bytes)
}

/// Binds the UDP socket with large buffers and builds the endpoint.
pub fn bind(
    addr: SocketAddr,
    server: quinn::ServerConfig,
    config: &ControllerConfig,
) -> Result<quinn::Endpoint, ControllerError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let io = |e: std::io::Error| ControllerError::Bind(format!("{addr}: {e}"));
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(io)?;
    if addr.is_ipv6() {
        let _ = socket.set_only_v6(false);
    }
    // Best effort: the kernel caps these at net.core.{r,w}mem_max (see docs/OPERATIONS.md).
    let _ = socket.set_recv_buffer_size(config.udp_buffer_bytes);
    let _ = socket.set_send_buffer_size(config.udp_buffer_bytes);
    socket.bind(&addr.into()).map_err(io)?;
    socket.set_nonblocking(true).map_err(io)?;
    let socket: std::net::UdpSocket = socket.into();

    let pki = config.pki_dir();
    let reset = persistent_secret(&pki.join("quic-reset.key"), 64)?;
    let cid = persistent_secret(&pki.join("quic-cid.key"), 8)?;
    let mut cid_key = [0u8; 8];
    cid_key.copy_from_slice(&cid);
    let cid_key = u64::from_le_bytes(cid_key);
    let mut endpoint_config = quinn::EndpointConfig::new(Arc::new(ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        &reset,
    )));
    endpoint_config.cid_generator(move || {
        Box::new(quinn_proto::HashedConnectionIdGenerator::from_key(cid_key))
    });
    // After a crash, every seat's first packet to the new process is answered with a
    // stateless reset so that it reconnects at once. quinn's default (one reset per 20 ms
    // for the whole endpoint) reset 2,942 of 10,000 seats; the others waited out their idle
    // timeout (the scale benchmark); at 100 us, a few seats in 5,000 still did. A reset is
    // always smaller than the packet that caused it (quinn pads it one byte short), so no
    // interval is needed against amplification or reset loops.
    endpoint_config.min_reset_interval(Duration::ZERO);
    quinn::Endpoint::new(
        endpoint_config,
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(io)
}
