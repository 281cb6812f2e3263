//! Provisioning: the fleet's certificate authority, enrollment tokens, and the policy by
//! which an agent's certificate signing request becomes a certificate.
//!
//! The policy is deliberately blunt: of a CSR only the public key is used. The subject is
//! the agent id the controller chose, the only usage is TLS client authentication, and the
//! validity is the controller's. Whatever names or usages a CSR asks for are discarded, so a
//! stolen token cannot mint a certificate that impersonates the controller or another agent.
#![deny(unreachable_pub)]

use std::path::{Path, PathBuf};

use commune_protocol::enroll::{EnrollToken, FINGERPRINT_BYTES, SECRET_BYTES};
use commune_protocol::UtcMillis;
use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

/// Validity of an agent certificate; agents renew at two thirds of it.
pub const AGENT_CERT_VALIDITY_DAYS: i64 = 90;
/// Validity of the fleet CA.
pub const CA_VALIDITY_DAYS: i64 = 20 * 365;
/// Validity of the controller's certificate.
pub const CONTROLLER_CERT_VALIDITY_DAYS: i64 = 2 * 365;
/// Tolerated clock skew between a new agent and the controller.
const BACKDATE_SECS: i64 = commune_protocol::enroll::CERT_BACKDATE_SECS;

/// Errors of the provisioning layer.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    /// Key or certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A CSR that cannot be parsed or whose signature is wrong.
    #[error("the certificate signing request is unusable: {0}")]
    Csr(String),
    /// Reading or writing the CA files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The CA directory does not hold a CA yet.
    #[error("no fleet CA in {0}; create it with `commune ca init`")]
    NoCa(PathBuf),
    /// `ca init` on a directory that already has a CA.
    #[error("a fleet CA already exists in {0}; refusing to overwrite it (every enrolled agent trusts it)")]
    CaExists(PathBuf),
    /// A certificate that cannot be read.
    #[error("unreadable certificate: {0}")]
    Certificate(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProvisioningError + '_ {
    move |source| ProvisioningError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SHA-256 of a DER certificate: what enrollment tokens carry.
pub fn fingerprint(der: &[u8]) -> [u8; FINGERPRINT_BYTES] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; FINGERPRINT_BYTES];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of a token secret: what the controller stores.
pub fn token_hash(secret: &[u8; SECRET_BYTES]) -> [u8; 32] {
    fingerprint(secret)
}

/// A new single-use enrollment token for a CA.
pub fn new_token(ca_fingerprint: [u8; FINGERPRINT_BYTES]) -> EnrollToken {
    let mut secret = [0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret);
    EnrollToken {
        secret,
        ca_fingerprint,
    }
}

/// A new random agent id: `ag-` and ten characters of lowercase base32 (50 bits).
pub fn new_agent_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let tail: String = (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("ag-{tail}")
}

fn offset(at: UtcMillis) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(at.as_secs())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes);
    // Positive (top bit clear) and no leading zero byte, which DER would strip: the serial
    // read back from the certificate must equal the one stored at enrollment.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// The fleet CA: its certificate and signing key.
pub struct FleetCa {
    cert_pem: String,
    cert_der: Vec<u8>,
    key: KeyPair,
}

impl std::fmt::Debug for FleetCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetCa")
            .field("fingerprint", &hex::encode(self.fingerprint()))
            .field("key", &"<redacted>")
            .finish()
    }
}

/// File names inside a PKI directory.
pub mod files {
    /// Fleet CA certificate.
    pub const CA_CERT: &str = "ca.pem";
    /// Fleet CA key (0600).
    pub const CA_KEY: &str = "ca-key.pem";
    /// Controller certificate (chain: controller, CA).
    pub const CONTROLLER_CERT: &str = "controller.pem";
    /// Controller key (0600).
    pub const CONTROLLER_KEY: &str = "controller-key.pem";
}

/// What `ca init` produced.
#[derive(Debug)]
pub struct ControllerIdentity {
    /// Controller certificate followed by the CA certificate, PEM.
    pub chain_pem: String,
    /// Controller key, PEM.
    pub key_pem: String,
}

impl FleetCa {
    /// A new CA named after the city or operator.
    pub fn generate(organisation: &str, now: UtcMillis) -> Result<Self, ProvisioningError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, organisation);
        dn.push(
            DnType::CommonName,
            format!("{organisation} — Commune fleet CA"),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = offset(now.plus_secs(-BACKDATE_SECS));
        params.not_after = offset(now.plus_secs(CA_VALIDITY_DAYS * 86_400));
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key)?;
        Ok(FleetCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
        })
    }

    /// Reads a CA from PEM texts.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, ProvisioningError> {
        let key = KeyPair::from_pem(key_pem)?;
        let der = pem_to_der(cert_pem)?;
        Ok(FleetCa {
            cert_pem: cert_pem.to_string(),
            cert_der: der,
            key,
        })
    }

    /// Reads the CA from a PKI directory.
    pub fn load(dir: &Path) -> Result<Self, ProvisioningError> {
        let cert_path = dir.join(files::CA_CERT);
        if !cert_path.exists() {
            return Err(ProvisioningError::NoCa(dir.to_path_buf()));
        }
        let key_path = dir.join(files::CA_KEY);
        let cert = std::fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
        let key = std::fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        Self::from_pem(&cert, &key)
    }

    /// `commune ca init`: a new CA and controller identity written to `dir`.
    pub fn init(
        dir: &Path,
        organisation: &str,
        controller_names: &[String],
        now: UtcMillis,
    ) -> Result<Self, ProvisioningError> {
        if dir.join(files::CA_CERT).exists() {
            return Err(ProvisioningError::CaExists(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let ca = Self::generate(organisation, now)?;
        let controller = ca.issue_controller(controller_names, now)?;
        write_file(&dir.join(files::CA_CERT), &ca.cert_pem, false)?;
        write_file(&dir.join(files::CA_KEY), ca.key.serialize_pem(), true)?;
        write_file(
            &dir.join(files::CONTROLLER_CERT),
            &controller.chain_pem,
            false,
        )?;
        write_file(&dir.join(files::CONTROLLER_KEY), &controller.key_pem, true)?;
        Ok(ca)
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// SHA-256 of the CA certificate.
    pub fn fingerprint(&self) -> [u8; FINGERPRINT_BYTES] {
        fingerprint(&self.cert_der)
    }

    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, ProvisioningError> {
        Ok(Issuer::from_ca_cert_der(
            &self.cert_der.clone().into(),
            &self.key,
        )?)
    }

    /// The controller's server certificate: the fleet's logical controller name plus any
    /// host names or IP addresses given.
    pub fn issue_controller(
        &self,
        names: &[String],
        now: UtcMillis,
    ) -> Result<ControllerIdentity, ProvisioningError> {
        let key = KeyPair::generate()?;
        let mut all = vec![commune_protocol::CONTROLLER_SERVER_NAME.to_string()];
        all.extend(names.iter().cloned());
        let mut params = CertificateParams::default();
        for name in all {
            let san = match name.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(name.clone().try_into().map_err(|_| {
                    ProvisioningError::Certificate(format!("bad host name {name:?}"))
                })?),
            };
            params.subject_alt_names.push(san);
        }
        params
            .distinguished_name
            .push(DnType::CommonName, commune_protocol::CONTROLLER_SERVER_NAME);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = offset(now.plus_secs(-BACKDATE_SECS));
        params.not_after = offset(now.plus_secs(CONTROLLER_CERT_VALIDITY_DAYS * 86_400));
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(ControllerIdentity {
            chain_pem: format!("{}{}", cert.pem(), self.cert_pem),
            key_pem: key.serialize_pem(),
        })
    }

    /// Signs an agent's CSR under the fleet policy (see the crate documentation), valid
    /// for [`AGENT_CERT_VALIDITY_DAYS`].
    pub fn sign_agent_csr(
        &self,
        csr_pem: &str,
        agent_id: &str,
        now: UtcMillis,
    ) -> Result<SignedAgentCert, ProvisioningError> {
        self.sign_agent_csr_for(csr_pem, agent_id, now, AGENT_CERT_VALIDITY_DAYS * 86_400)
    }

    /// Signs an agent's CSR, valid for `validity_secs` (the controller's setting; tests
    /// use seconds).
    pub fn sign_agent_csr_for(
        &self,
        csr_pem: &str,
        agent_id: &str,
        now: UtcMillis,
        validity_secs: i64,
    ) -> Result<SignedAgentCert, ProvisioningError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| ProvisioningError::Csr(e.to_string()))?;
        let serial = random_serial();
        let not_after = now.plus_secs(validity_secs.max(1));
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, agent_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.is_ca = IsCa::ExplicitNoCa;
        params.not_before = offset(now.plus_secs(-BACKDATE_SECS));
        params.not_after = offset(not_after);
        params.serial_number = Some(serial.clone());
        csr.params = params;
        let cert = csr.signed_by(&self.issuer()?)?;
        Ok(SignedAgentCert {
            certificate_pem: cert.pem(),
            serial_hex: hex::encode(serial.to_bytes()),
            not_after,
        })
    }
}

impl FleetCa {
    /// Checks the identity a computer held before it enrolls again: `cert_pem` must be an
    /// agent certificate this CA signed (checked as of a moment inside its validity: it is
    /// expected to have expired), and `proof` a signature of `message` by its key (ECDSA
    /// P-256, the agents' key type). Returns who it was.
    pub fn verify_previous_identity(
        &self,
        cert_pem: &str,
        message: &[u8],
        proof: &[u8],
    ) -> Result<AgentIdentity, ProvisioningError> {
        let bad = |what: &str, e: webpki::Error| {
            ProvisioningError::Certificate(format!("previous certificate {what}: {e}"))
        };
        let der = rustls_pki_types::CertificateDer::from(pem_to_der(cert_pem)?);
        let identity = agent_identity(&der)?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| ProvisioningError::Certificate(e.to_string()))?;
        let inside = u64::try_from(parsed.validity().not_before.timestamp())
            .unwrap_or(0)
            .saturating_add(1);
        let ca_der = rustls_pki_types::CertificateDer::from(self.cert_der().to_vec());
        let anchor = webpki::anchor_from_trusted_cert(&ca_der).map_err(|e| bad("CA", e))?;
        let cert = webpki::EndEntityCert::try_from(&der).map_err(|e| bad("unreadable", e))?;
        cert.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &[anchor],
            &[],
            rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(inside)),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map_err(|e| bad("not signed by this fleet's CA", e))?;
        cert.verify_signature(webpki::ring::ECDSA_P256_SHA256, message, proof)
            .map_err(|e| bad("key not proven", e))?;
        Ok(identity)
    }
}

/// An agent certificate just signed.
#[derive(Debug, Clone)]
pub struct SignedAgentCert {
    /// PEM.
    pub certificate_pem: String,
    /// Serial number, lowercase hex.
    pub serial_hex: String,
    /// Expiry.
    pub not_after: UtcMillis,
}

/// Who a client certificate says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The subject common name: the agent id.
    pub agent_id: String,
    /// Serial number, lowercase hex.
    pub serial_hex: String,
    /// Expiry.
    pub not_after: UtcMillis,
}

/// Reads the identity out of a certificate the TLS layer already verified.
pub fn agent_identity(cert_der: &[u8]) -> Result<AgentIdentity, ProvisioningError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| ProvisioningError::Certificate(e.to_string()))?;
    let agent_id = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .ok_or_else(|| ProvisioningError::Certificate("no common name".into()))?
        .to_string();
    Ok(AgentIdentity {
        agent_id,
        serial_hex: hex::encode(cert.raw_serial()),
        not_after: UtcMillis::from_secs(cert.validity().not_after.timestamp()),
    })
}

/// The DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, ProvisioningError> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| ProvisioningError::Certificate(format!("not a PEM certificate: {e}")))
}

/// Writes a file, private ones with mode 0600 from the start (never readable by others,
/// not even briefly).
pub fn write_file(
    path: &Path,
    contents: impl AsRef<[u8]>,
    private: bool,
) -> Result<(), ProvisioningError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(contents.as_ref()).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UtcMillis = UtcMillis(1_795_183_200_000);

    fn csr_asking_for_too_much() -> (KeyPair, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec![commune_protocol::CONTROLLER_SERVER_NAME.to_string()])
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "ag-victim");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let csr = params.serialize_request(&key).unwrap();
        (key, csr.pem().unwrap())
    }

    #[test]
    fn csr_names_and_usages_are_overridden() {
        let ca = FleetCa::generate("Ville de Grenoble", NOW).unwrap();
        let (_key, csr) = csr_asking_for_too_much();
        let signed = ca.sign_agent_csr(&csr, "ag-real", NOW).unwrap();
        let der = pem_to_der(&signed.certificate_pem).unwrap();
        let id = agent_identity(&der).unwrap();
        assert_eq!(id.agent_id, "ag-real");
        assert_eq!(id.serial_hex, signed.serial_hex);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(
            cert.subject_alternative_name().unwrap().is_none(),
            "SANs must be dropped"
        );
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        assert!(!cert.is_ca());
    }

    #[test]
    fn tampered_csr_is_refused() {
        let ca = FleetCa::generate("Ville de Grenoble", NOW).unwrap();
        let (_key, csr) = csr_asking_for_too_much();
        let mut der = {
            use rustls_pki_types::pem::PemObject;
            rustls_pki_types::CertificateSigningRequestDer::from_pem_slice(csr.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        };
        let n = der.len();
        der[n - 5] ^= 0xff; // inside the signature
        use base64::Engine;
        let pem = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        );
        assert!(matches!(
            ca.sign_agent_csr(&pem, "ag-x", NOW),
            Err(ProvisioningError::Csr(_))
        ));
    }

    #[test]
    fn ca_init_refuses_to_overwrite_and_keys_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let ca =
            FleetCa::init(dir.path(), "Ville de Grenoble", &["127.0.0.1".into()], NOW).unwrap();
        let again = FleetCa::init(dir.path(), "Ville de Grenoble", &[], NOW);
        assert!(matches!(again, Err(ProvisioningError::CaExists(_))));
        let loaded = FleetCa::load(dir.path()).unwrap();
        assert_eq!(loaded.fingerprint(), ca.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(files::CA_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "CA key readable by others");
        }
        assert!(!format!("{loaded:?}").contains("PRIVATE"));
    }

    #[test]
    fn the_stored_serial_is_the_certificate_serial() {
        let ca = FleetCa::generate("Ville de Grenoble", NOW).unwrap();
        let key = KeyPair::generate().unwrap();
        let csr = CertificateParams::default()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        // 1 in 128 random serials used to start with a zero byte; 300 signings catch it.
        for _ in 0..300 {
            let signed = ca.sign_agent_csr(&csr, "ag-x", NOW).unwrap();
            let der = pem_to_der(&signed.certificate_pem).unwrap();
            assert_eq!(agent_identity(&der).unwrap().serial_hex, signed.serial_hex);
        }
    }

    #[test]
    fn agent_ids_are_distinct_and_well_formed() {
        let a = new_agent_id();
        let b = new_agent_id();
        assert_ne!(a, b);
        assert!(a.starts_with("ag-") && a.len() == 13);
    }
}

#[cfg(test)]
mod previous_identity_tests {
    use super::*;
    use rcgen::SigningKey;

    const NOW: UtcMillis = UtcMillis(1_795_183_200_000);

    fn signed(ca: &FleetCa, validity_secs: i64) -> (KeyPair, SignedAgentCert) {
        let key = KeyPair::generate().unwrap();
        let csr = CertificateParams::default()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        let cert = ca
            .sign_agent_csr_for(&csr, "ag-prev", NOW, validity_secs)
            .unwrap();
        (key, cert)
    }

    #[test]
    fn an_expired_certificate_of_this_fleet_with_its_key_proves_who_it_was() {
        let ca = FleetCa::generate("Ville", NOW).unwrap();
        let (key, cert) = signed(&ca, 5);
        assert_eq!(cert.not_after, NOW.plus_secs(5));
        let proof = key.sign(b"message").unwrap();
        let who = ca
            .verify_previous_identity(&cert.certificate_pem, b"message", &proof)
            .unwrap();
        assert_eq!(who.agent_id, "ag-prev");
        assert_eq!(who.serial_hex, cert.serial_hex);

        // Another message, another key, another fleet: refused.
        assert!(ca
            .verify_previous_identity(&cert.certificate_pem, b"other", &proof)
            .is_err());
        let stranger = KeyPair::generate().unwrap().sign(b"message").unwrap();
        assert!(ca
            .verify_previous_identity(&cert.certificate_pem, b"message", &stranger)
            .is_err());
        let other_fleet = FleetCa::generate("Ailleurs", NOW).unwrap();
        let (key, foreign) = signed(&other_fleet, 5);
        let proof = key.sign(b"message").unwrap();
        let refused = ca
            .verify_previous_identity(&foreign.certificate_pem, b"message", &proof)
            .unwrap_err();
        assert!(refused.to_string().contains("not signed"), "{refused}");
    }
}
