//! The seat's certificate over time: renewed over the authenticated link at two thirds of
//! its life (same agent id, new key and serial), installed so that a crash at any point
//! leaves a usable key and certificate pair, and, once it has expired while the computer
//! was offline, the proof of the previous identity that `commune-agent enroll` sends with
//! a new token (the seat keeps its id, its history and its unsent events).
//!
//! Installing a renewal: the new key goes to `agent-key.pem.new`, the certificate to
//! `agent.pem.new` (both synced), then the key is renamed over the old one, then the
//! certificate. [`finish_interrupted`] completes or discards what a crash left: a
//! certificate `.new` means both were written (finish the renames); a lone key `.new` is
//! discarded (the current pair is still whole). The controller keeps accepting the old
//! certificate until the seat connects with the new one.

use std::path::{Path, PathBuf};

use commune_protocol::enroll::CERT_BACKDATE_SECS;
use commune_protocol::messages::{reenroll_proof_message, PreviousIdentity};
use commune_protocol::UtcMillis;

use crate::config::{files, AgentConfig};
use crate::enroll::write_private;
use crate::AgentError;

/// When the seat's certificate was issued and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateLife {
    /// When the controller signed it (`not_before` plus the skew allowance).
    pub issued: UtcMillis,
    /// When it stops working.
    pub not_after: UtcMillis,
}

impl CertificateLife {
    /// Reads the validity of a PEM certificate.
    pub fn of_pem(pem: &[u8]) -> Result<Self, AgentError> {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(pem)
            .map_err(|e| AgentError::Config(format!("agent certificate: {e}")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| AgentError::Config(format!("agent certificate: {e}")))?;
        let validity = cert.validity();
        let not_before = UtcMillis::from_secs(validity.not_before.timestamp());
        let not_after = UtcMillis::from_secs(validity.not_after.timestamp());
        Ok(CertificateLife {
            issued: not_before.plus_secs(CERT_BACKDATE_SECS).min(not_after),
            not_after,
        })
    }

    /// The validity of the certificate enrollment (or the last renewal) installed.
    pub fn current(config: &AgentConfig) -> Result<Self, AgentError> {
        let path = config.state_file(files::CERT);
        Self::of_pem(&read(&path)?)
    }

    /// Two thirds of the way from issue to expiry: when the seat asks for a new one.
    pub fn renew_at(&self) -> UtcMillis {
        let life = (self.not_after.0 - self.issued.0).max(0);
        UtcMillis(self.issued.0 + life / 3 * 2)
    }

    /// Whether it no longer works at `now`.
    pub fn expired(&self, now: UtcMillis) -> bool {
        now >= self.not_after
    }
}

/// A fresh key and the CSR that asks for it to be certified (only its public key is used:
/// the controller decides names, usages and validity).
pub fn new_key_and_csr(common_name: &str) -> Result<(rcgen::KeyPair, String), AgentError> {
    let key = rcgen::KeyPair::generate().map_err(|e| AgentError::Key(e.to_string()))?;
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let csr_pem = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| AgentError::Key(e.to_string()))?;
    Ok((key, csr_pem))
}

/// A renewal asked for, waiting for the controller's certificate.
pub struct PendingRenewal {
    key: rcgen::KeyPair,
    /// The CSR sent in `Renew`.
    pub csr_pem: String,
}

impl std::fmt::Debug for PendingRenewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRenewal").finish_non_exhaustive()
    }
}

impl PendingRenewal {
    /// A new key for this agent.
    pub fn start(agent_id: &str) -> Result<Self, AgentError> {
        let (key, csr_pem) = new_key_and_csr(agent_id)?;
        Ok(PendingRenewal { key, csr_pem })
    }

    /// Installs the renewed certificate with its key (see the module documentation for
    /// the order that survives a crash). The certificate must be for this key.
    pub fn install(self, config: &AgentConfig, certificate_pem: &str) -> Result<(), AgentError> {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|e| AgentError::Protocol(format!("renewed certificate unreadable: {e}")))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| AgentError::Protocol(format!("renewed certificate unreadable: {e}")))?;
        if cert.public_key().subject_public_key.data.as_ref() != self.key.public_key_raw() {
            return Err(AgentError::Protocol(
                "the renewed certificate is not for the key this seat sent".into(),
            ));
        }
        let (key_path, cert_path) = (
            config.state_file(files::KEY),
            config.state_file(files::CERT),
        );
        let (key_new, cert_new) = (pending(&key_path), pending(&cert_path));
        write_private(&key_new, self.key.serialize_pem().as_bytes())?;
        write_private(&cert_new, certificate_pem.as_bytes())?;
        rename(&key_new, &key_path)?;
        rename(&cert_new, &cert_path)?;
        sync_dir(&config.state_dir);
        Ok(())
    }
}

/// Completes or discards a renewal a crash interrupted (see the module documentation).
pub fn finish_interrupted(config: &AgentConfig) -> Result<(), AgentError> {
    let (key_path, cert_path) = (
        config.state_file(files::KEY),
        config.state_file(files::CERT),
    );
    let (key_new, cert_new) = (pending(&key_path), pending(&cert_path));
    if cert_new.exists() {
        if key_new.exists() {
            rename(&key_new, &key_path)?;
        }
        rename(&cert_new, &cert_path)?;
        sync_dir(&config.state_dir);
    } else if key_new.exists() {
        std::fs::remove_file(&key_new).map_err(|source| AgentError::Io {
            path: key_new.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The identity this computer held, with the proof that it holds its key, for enrolling
/// again with `token_secret` and `csr_pem`; `None` when it never enrolled (no key or
/// certificate in `state_dir`).
pub fn previous_identity(
    state_dir: &Path,
    token_secret: &str,
    csr_pem: &str,
) -> Result<Option<PreviousIdentity>, AgentError> {
    let key_path = state_dir.join(files::KEY);
    let cert_path = state_dir.join(files::CERT);
    if !key_path.exists() || !cert_path.exists() {
        return Ok(None);
    }
    let key_pem = String::from_utf8(read(&key_path)?)
        .map_err(|_| AgentError::Config(format!("{}: not text", key_path.display())))?;
    let key = rcgen::KeyPair::from_pem(&key_pem)
        .map_err(|e| AgentError::Config(format!("{}: {e}", key_path.display())))?;
    let certificate_pem = String::from_utf8(read(&cert_path)?)
        .map_err(|_| AgentError::Config(format!("{}: not text", cert_path.display())))?;
    let signature = rcgen::SigningKey::sign(&key, &reenroll_proof_message(token_secret, csr_pem))
        .map_err(|e| AgentError::Key(e.to_string()))?;
    Ok(Some(PreviousIdentity::new(certificate_pem, &signature)))
}

fn pending(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

fn read(path: &Path) -> Result<Vec<u8>, AgentError> {
    std::fs::read(path).map_err(|source| AgentError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn rename(from: &Path, to: &Path) -> Result<(), AgentError> {
    std::fs::rename(from, to).map_err(|source| AgentError::Io {
        path: to.to_path_buf(),
        source,
    })
}

/// Makes the renames durable (best effort: not every file system allows opening a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> AgentConfig {
        AgentConfig {
            state_dir: dir.to_path_buf(),
            ..AgentConfig::default()
        }
    }

    #[test]
    fn renewal_is_at_two_thirds_of_the_life_counted_from_issue() {
        let life = CertificateLife {
            issued: UtcMillis(1_000_000),
            not_after: UtcMillis(1_000_000 + 90_000),
        };
        assert_eq!(life.renew_at(), UtcMillis(1_000_000 + 60_000));
        assert!(!life.expired(UtcMillis(1_089_999)));
        assert!(life.expired(UtcMillis(1_090_000)));
    }

    #[test]
    fn an_interrupted_install_leaves_a_whole_pair() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        // Crash after both were written, before any rename: both are installed.
        write(files::KEY, "old key");
        write(files::CERT, "old cert");
        write("agent-key.pem.new", "new key");
        write("agent.pem.new", "new cert");
        finish_interrupted(&c).unwrap();
        assert_eq!(
            (read(files::KEY), read(files::CERT)),
            ("new key".into(), "new cert".into())
        );
        // Crash after the key's rename: the certificate follows.
        write("agent.pem.new", "newer cert");
        write(files::KEY, "newer key");
        finish_interrupted(&c).unwrap();
        assert_eq!(
            (read(files::KEY), read(files::CERT)),
            ("newer key".into(), "newer cert".into())
        );
        // Crash while writing: a lone key is discarded, the pair in place is kept.
        write("agent-key.pem.new", "half");
        finish_interrupted(&c).unwrap();
        assert_eq!(
            (read(files::KEY), read(files::CERT)),
            ("newer key".into(), "newer cert".into())
        );
        assert!(!dir.path().join("agent-key.pem.new").exists());
    }
}
