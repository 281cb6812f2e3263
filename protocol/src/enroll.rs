//! The enrollment token as IT copies it: `cmn1-` then base64url of the secret and the
//! fleet CA's SHA-256 fingerprint. The fingerprint lets a new agent trust the controller on
//! first contact; the secret proves to the controller that IT allowed this enrollment.

use base64::Engine;

/// Length of the token secret, in bytes (160 bits: a hash suffices to store it).
pub const SECRET_BYTES: usize = 20;
/// Agent certificates start this long before they are signed (clock skew between a seat and
/// the controller); a seat counts its certificate's life from `not_before` plus this.
pub const CERT_BACKDATE_SECS: i64 = 300;
/// Length of a SHA-256 fingerprint.
pub const FINGERPRINT_BYTES: usize = 32;
const PREFIX: &str = "cmn1-";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A parsed enrollment token.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollToken {
    /// The single-use secret.
    pub secret: [u8; SECRET_BYTES],
    /// SHA-256 of the fleet CA certificate (DER).
    pub ca_fingerprint: [u8; FINGERPRINT_BYTES],
}

impl std::fmt::Debug for EnrollToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollToken")
            .field("secret", &"<redacted>")
            .field("ca_fingerprint", &hex::encode(self.ca_fingerprint))
            .finish()
    }
}

/// Why a token string could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenFormatError {
    /// Not starting with `cmn1-`.
    #[error("this is not a Commune enrollment token (it should start with `{PREFIX}`)")]
    Prefix,
    /// Bad characters or length.
    #[error("the enrollment token is damaged ({0}); copy it again from `commune token create`")]
    Damaged(&'static str),
}

impl EnrollToken {
    /// The text IT copies.
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(SECRET_BYTES + FINGERPRINT_BYTES);
        raw.extend_from_slice(&self.secret);
        raw.extend_from_slice(&self.ca_fingerprint);
        format!("{PREFIX}{}", B64.encode(raw))
    }

    /// Reads a token, tolerating surrounding white space.
    pub fn parse(text: &str) -> Result<Self, TokenFormatError> {
        let body = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(TokenFormatError::Prefix)?;
        let raw = B64
            .decode(body)
            .map_err(|_| TokenFormatError::Damaged("invalid characters"))?;
        if raw.len() != SECRET_BYTES + FINGERPRINT_BYTES {
            return Err(TokenFormatError::Damaged("wrong length"));
        }
        let mut secret = [0u8; SECRET_BYTES];
        secret.copy_from_slice(&raw[..SECRET_BYTES]);
        let mut ca_fingerprint = [0u8; FINGERPRINT_BYTES];
        ca_fingerprint.copy_from_slice(&raw[SECRET_BYTES..]);
        Ok(EnrollToken {
            secret,
            ca_fingerprint,
        })
    }

    /// The secret as sent in `EnrollRequest::token_secret`.
    pub fn secret_text(&self) -> String {
        B64.encode(self.secret)
    }

    /// Decodes `EnrollRequest::token_secret`.
    pub fn decode_secret(text: &str) -> Option<[u8; SECRET_BYTES]> {
        let raw = B64.decode(text.trim()).ok()?;
        raw.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let t = EnrollToken {
            secret: [7; SECRET_BYTES],
            ca_fingerprint: [9; FINGERPRINT_BYTES],
        };
        let text = t.encode();
        assert_eq!(EnrollToken::parse(&format!("  {text}\n")).unwrap(), t);
        assert_eq!(EnrollToken::parse("abc"), Err(TokenFormatError::Prefix));
        assert!(EnrollToken::parse(&text[..text.len() - 2]).is_err());
        assert_eq!(
            EnrollToken::decode_secret(&t.secret_text()),
            Some([7; SECRET_BYTES])
        );
        assert!(!format!("{t:?}").contains("0707"));
    }
}
