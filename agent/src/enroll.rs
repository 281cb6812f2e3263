//! `commune-agent enroll`: make a key and a CSR here, trust the controller through the CA
//! fingerprint in the token, get the certificate, write the configuration.

use std::path::{Path, PathBuf};

use commune_protocol::encode_frame;
use commune_protocol::enroll::EnrollToken;
use commune_protocol::messages::{AgentMessage, ControllerMessage, EnrollRequest};
use commune_protocol::version::VersionRange;

use crate::config::{files, AgentConfig};
use crate::link::{controller_address, open_stream, FrameReader};
use crate::tls::{enrollment_configs, fingerprint};
use crate::transport::{Connection, RecvHalf, SendHalf};
use crate::AgentError;

/// What IT gives on the command line.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    /// Controller address, `host:port`.
    pub controller: String,
    /// The token text from `commune token create`.
    pub token: String,
    /// Where to write the configuration.
    pub config_path: PathBuf,
    /// Where to keep the key and certificates.
    pub state_dir: PathBuf,
    /// Asset tag of this computer.
    pub asset_tag: Option<String>,
    /// Funding line of this computer.
    pub funding_line: Option<String>,
    /// Host name reported to the controller (defaults to the system's).
    pub hostname: Option<String>,
    /// Settings to keep in the written configuration (intervals, backoff).
    pub base: AgentConfig,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AgentError + '_ {
    move |source| AgentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a file readable by its owner only, from the moment it exists.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), AgentError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(contents).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Enrolls this computer and returns the configuration written.
pub async fn enroll(opts: EnrollOptions) -> Result<AgentConfig, AgentError> {
    let token = EnrollToken::parse(&opts.token)?;
    let hostname = opts
        .hostname
        .clone()
        .unwrap_or_else(|| sysinfo::System::host_name().unwrap_or_else(|| "unknown".into()));

    let (key, csr_pem) = crate::renewal::new_key_and_csr(&hostname)?;
    // Enrolled before (its certificate expired while it was offline, or IT moves it to
    // another site): it proves who it was and keeps its agent id, so its history and the
    // events still in its outbox stay its own.
    let previous =
        crate::renewal::previous_identity(&opts.state_dir, &token.secret_text(), &csr_pem)?;

    let mut config = AgentConfig {
        controller: opts.controller.clone(),
        state_dir: opts.state_dir.clone(),
        asset_tag: opts.asset_tag.clone(),
        funding_line: opts.funding_line.clone(),
        ..opts.base.clone()
    };
    let (client, tcp, pin) = enrollment_configs(&config, token.ca_fingerprint)?;
    // QUIC, or TLS over TCP (through the proxy) where no UDP passes, like the link.
    let addr = controller_address(&config).await?;
    let mut endpoint = None;
    let (conn, send, recv) =
        match open_stream(&config, &mut endpoint, addr, client, Some(tcp), false).await {
            Ok(c) => c,
            Err(e) => {
                let presented = pin.presented.lock().ok().and_then(|p| p.clone());
                return Err(match presented {
                    Some(presented) => AgentError::FingerprintMismatch {
                        expected: hex::encode(token.ca_fingerprint),
                        presented: presented.join(", "),
                    },
                    None => e,
                });
            }
        };

    let result = exchange(&conn, send, recv, &token, &hostname, &csr_pem, previous).await;
    conn.close(0, b"enrollment finished");
    if let Some(endpoint) = endpoint {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), endpoint.wait_idle()).await;
    }
    let enrolled = result?;

    // The certificate authority the controller signs with must be the one the token names,
    // whatever the connection itself showed.
    let ca_der = {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_slice(enrolled.ca_certificate_pem.as_bytes())
            .map_err(|e| AgentError::Protocol(format!("CA certificate unreadable: {e}")))?
    };
    if fingerprint(&ca_der) != token.ca_fingerprint {
        return Err(AgentError::FingerprintMismatch {
            expected: hex::encode(token.ca_fingerprint),
            presented: hex::encode(fingerprint(&ca_der)),
        });
    }

    std::fs::create_dir_all(&opts.state_dir).map_err(io(&opts.state_dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opts.state_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io(&opts.state_dir))?;
    }
    write_private(
        &config.state_file(files::KEY),
        key.serialize_pem().as_bytes(),
    )?;
    write_private(
        &config.state_file(files::CERT),
        enrolled.certificate_pem.as_bytes(),
    )?;
    write_private(
        &config.state_file(files::CA),
        enrolled.ca_certificate_pem.as_bytes(),
    )?;
    config.agent_id = enrolled.agent_id;
    config.site_id = enrolled.site_id;
    config.save(&opts.config_path)?;
    Ok(config)
}

async fn exchange(
    conn: &Connection,
    mut send: SendHalf,
    recv: RecvHalf,
    token: &EnrollToken,
    hostname: &str,
    csr_pem: &str,
    previous: Option<commune_protocol::messages::PreviousIdentity>,
) -> Result<commune_protocol::messages::Enrolled, AgentError> {
    let request = AgentMessage::Enroll(EnrollRequest {
        protocol: VersionRange::CURRENT,
        token_secret: token.secret_text(),
        csr_pem: csr_pem.to_string(),
        hostname: hostname.to_string(),
        agent_version: crate::VERSION.to_string(),
        previous,
    });
    let frame = encode_frame(&request).map_err(|e| AgentError::Protocol(e.to_string()))?;
    send.write_all(&frame).await?;
    send.finish().await;
    let mut reader = FrameReader::over(recv);
    match reader.next::<ControllerMessage>().await {
        Ok(Some(ControllerMessage::Enrolled(e))) => Ok(e),
        Ok(Some(ControllerMessage::Refused(r))) => Err(AgentError::Refused {
            code: r.code.as_str(),
            message: r.message,
        }),
        Ok(Some(other)) => Err(AgentError::Protocol(format!(
            "unexpected answer to enrollment: {other:?}"
        ))),
        Ok(None) => Err(conn.lost()),
        Err(e) => Err(e),
    }
}
