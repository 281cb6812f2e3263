//! TLS for the agent: the normal client configuration (fleet CA as the only root, the
//! agent's certificate for mutual TLS) and the enrollment one, which trusts a controller
//! only if its chain carries the CA whose fingerprint the token names.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn::crypto::rustls::QuicClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use crate::config::{files, AgentConfig};
use crate::AgentError;

/// The crypto provider of the whole build.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a DER certificate.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// QUIC transport settings of the agent.
pub fn transport(config: &AgentConfig) -> Result<quinn::TransportConfig, AgentError> {
    let mut t = quinn::TransportConfig::default();
    t.keep_alive_interval(Some(Duration::from_secs(config.keep_alive_secs.max(1))));
    t.max_idle_timeout(Some(
        quinn::IdleTimeout::try_from(Duration::from_secs(config.idle_timeout_secs.max(1)))
            .map_err(|e| AgentError::Config(format!("idle_timeout_secs: {e}")))?,
    ));
    t.max_concurrent_bidi_streams(0u32.into());
    t.max_concurrent_uni_streams(0u32.into());
    Ok(t)
}

fn finish(
    mut tls: rustls::ClientConfig,
    config: &AgentConfig,
) -> Result<quinn::ClientConfig, AgentError> {
    tls.alpn_protocols = vec![commune_protocol::ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| AgentError::Config(e.to_string()))?;
    let mut client = quinn::ClientConfig::new(Arc::new(crypto));
    client.transport_config(Arc::new(transport(config)?));
    Ok(client)
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, AgentError> {
    std::fs::read(path).map_err(|source| AgentError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The mutual-TLS client configuration from the files enrollment wrote.
pub fn client_config(config: &AgentConfig) -> Result<quinn::ClientConfig, AgentError> {
    finish(rustls_client_config(config)?, config)
}

/// The same mutual-TLS configuration for TLS over TCP (the fallback when no UDP passes).
pub fn tcp_client_config(config: &AgentConfig) -> Result<Arc<rustls::ClientConfig>, AgentError> {
    let mut tls = rustls_client_config(config)?;
    tls.alpn_protocols = vec![commune_protocol::ALPN.to_vec()];
    Ok(Arc::new(tls))
}

fn rustls_client_config(config: &AgentConfig) -> Result<rustls::ClientConfig, AgentError> {
    // A renewal a crash interrupted is completed (or discarded) first: the pair read below
    // is always a key and its certificate.
    crate::renewal::finish_interrupted(config)?;
    let cert_path = config.state_file(files::CERT);
    let key_path = config.state_file(files::KEY);
    let ca_path = config.state_file(files::CA);
    let chain = CertificateDer::pem_slice_iter(&read(&cert_path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AgentError::Config(format!("{}: {e}", cert_path.display())))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&key_path)?)
        .map_err(|e| AgentError::Config(format!("{}: {e}", key_path.display())))?;
    let ca = CertificateDer::from_pem_slice(&read(&ca_path)?)
        .map_err(|e| AgentError::Config(format!("{}: {e}", ca_path.display())))?;
    rustls_client_from(chain, key, ca)
}

/// The mutual-TLS client configuration from material in memory.
pub fn client_config_from(
    config: &AgentConfig,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca: CertificateDer<'static>,
) -> Result<quinn::ClientConfig, AgentError> {
    finish(rustls_client_from(chain, key, ca)?, config)
}

fn rustls_client_from(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca: CertificateDer<'static>,
) -> Result<rustls::ClientConfig, AgentError> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca)
        .map_err(|e| AgentError::Config(format!("fleet CA certificate: {e}")))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| AgentError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| AgentError::Config(format!("agent certificate or key: {e}")))?;
    Ok(tls)
}

/// What the pinned verifier saw, so that a mismatch is reported precisely.
#[derive(Debug, Default, Clone)]
pub struct PinReport {
    /// Fingerprints of the certificates the controller presented, when none matched.
    pub presented: Arc<Mutex<Option<Vec<String>>>>,
}

#[derive(Debug)]
struct PinnedCaVerifier {
    expected: [u8; 32],
    report: PinReport,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(ca) = intermediates
            .iter()
            .find(|c| fingerprint(c) == self.expected)
        else {
            let presented = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| hex::encode(fingerprint(c)))
                .collect();
            if let Ok(mut slot) = self.report.presented.lock() {
                *slot = Some(presented);
            }
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca.clone().into_owned())
            .map_err(|e| rustls::Error::General(format!("pinned CA unusable: {e}")))?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The enrollment client configuration: no client certificate, the CA pinned by fingerprint.
pub fn enrollment_config(
    config: &AgentConfig,
    expected_ca: [u8; 32],
) -> Result<(quinn::ClientConfig, PinReport), AgentError> {
    let (quic, _, report) = enrollment_configs(config, expected_ca)?;
    Ok((quic, report))
}

/// [`enrollment_config`] for QUIC and for TLS over TCP (same pinned verifier and report).
pub fn enrollment_configs(
    config: &AgentConfig,
    expected_ca: [u8; 32],
) -> Result<(quinn::ClientConfig, Arc<rustls::ClientConfig>, PinReport), AgentError> {
    let report = PinReport::default();
    let provider = provider();
    let verifier = Arc::new(PinnedCaVerifier {
        expected: expected_ca,
        report: report.clone(),
        provider: provider.clone(),
    });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| AgentError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let mut tcp = tls.clone();
    tcp.alpn_protocols = vec![commune_protocol::ALPN.to_vec()];
    Ok((finish(tls, config)?, Arc::new(tcp), report))
}

/// A sentence for a failed connection, naming what IT can do about it.
pub fn explain(err: &quinn::ConnectionError) -> String {
    use quinn::ConnectionError as E;
    match err {
        E::ApplicationClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason);
            match commune_protocol::messages::RefusalCode::from_close_code(close.error_code.into_inner()) {
                Some(code) => format!("the controller closed the connection: {reason} ({})", code.as_str()),
                None => format!("the controller closed the connection: {reason}"),
            }
        }
        // The controller refused our certificate during the handshake.
        E::ConnectionClosed(close) => match commune_protocol::tls_alert(close.error_code.into()) {
            Some(48) => "the controller does not recognise this computer's certificate authority (unknown CA): this computer was enrolled with another controller".into(),
            Some(44) => "this computer's certificate was revoked by IT: enroll it again with a new token".into(),
            Some(45) => "this computer's certificate expired: enroll it again".into(),
            Some(120) => "the server at this address does not speak the Commune protocol (ALPN commune/1)".into(),
            Some(alert) => format!("the controller refused the TLS handshake (alert {alert}): {close}"),
            None if close.error_code == quinn::TransportErrorCode::CONNECTION_REFUSED => {
                "the controller is at capacity and turned this connection away; retrying later".into()
            }
            None => format!("the controller closed the connection: {close}"),
        },
        // This agent refused the controller.
        E::TransportError(te) => match commune_protocol::tls_alert(te.code.into()) {
            Some(_) => format!("this agent refused the controller's certificate: {}", te.reason),
            None => format!("transport error: {te}"),
        },
        E::TimedOut => "the controller did not answer (timed out)".into(),
        E::Reset => "the controller reset the connection (it restarted)".into(),
        E::LocallyClosed => "closed by this agent".into(),
        E::VersionMismatch => "QUIC version mismatch".into(),
        E::CidsExhausted => "connection ids exhausted".into(),
    }
}
