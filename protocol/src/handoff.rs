//! "Send to my phone": a document of the visitor's session handed to their phone through
//! the controller, which never holds it readable.
//!
//! The seat seals the document with a fresh random AES-256-GCM key ([`seal`]) and sends only
//! the sealed bytes to the controller, in [`HandoffPart`]s on its ordinary link. The
//! controller keeps them in memory for one download and at most [`MAX_TTL_MINUTES`], and
//! answers with a [`HandoffReady`]: the address of the download page. The seat shows that
//! address as a QR code with the key in its fragment (`#k=…`), which browsers never send to
//! any server; the phone's page downloads the sealed bytes and opens them with Web Crypto.
//!
//! The sealed format (version 1), which the phone's page reads:
//! `nonce (12 bytes) ‖ AES-256-GCM(plain, aad = "commune-handoff-v1")`, where `plain` is
//! `u16 name length (big-endian) ‖ name (UTF-8) ‖ u16 type length ‖ media type ‖ content`.
//! The document's name and type are inside the seal: the controller sees sizes only.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::time::UtcMillis;

/// The largest document a seat hands off, in bytes (sealed: a little more).
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;
/// The most sealed bytes one [`HandoffPart`] carries (well under a frame's limit).
pub const PART_BYTES: usize = 256 * 1024;
/// The longest a controller keeps a sealed document, in minutes.
pub const MAX_TTL_MINUTES: u32 = 15;
/// The key's length, in bytes.
pub const KEY_BYTES: usize = 32;
/// The additional data every seal authenticates (the format's version).
pub const AAD: &[u8] = b"commune-handoff-v1";
/// The longest document name kept in a seal, in bytes.
const MAX_NAME_BYTES: usize = 1024;

/// A piece of a sealed document, in order. The first part opens the upload, the last one
/// (`last`) closes it; one upload at a time per connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HandoffPart {
    /// The seat's number for this upload (the answer names it).
    pub upload: u32,
    /// The sealed document's whole length, in bytes.
    pub total_bytes: u64,
    /// The next bytes of the sealed document.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// Whether this is the last part.
    #[serde(default)]
    pub last: bool,
    /// The visitor's language (the phone page speaks it), a BCP 47 tag.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lang: String,
}

/// The controller's answer to an upload: where the phone downloads it, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(proptest_derive::Arbitrary))]
pub struct HandoffReady {
    /// The upload answered.
    pub upload: u32,
    /// The download page's address, without the key (absent when refused).
    #[serde(default)]
    pub url: Option<String>,
    /// Until when the controller keeps it (absent when refused).
    #[serde(default)]
    pub expires_at: Option<UtcMillis>,
    /// Why it was refused, for IT (absent when stored).
    #[serde(default)]
    pub refused: Option<String>,
}

/// A sealed document and the key that opens it.
pub struct Sealed {
    /// The key: shown to the visitor only (in the QR code's fragment), never sent.
    pub key: [u8; KEY_BYTES],
    /// What the controller stores.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Why a document could not be sealed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// No random numbers (the system's generator failed).
    #[error("the system's random generator failed")]
    Random,
    /// The document is over [`MAX_DOCUMENT_BYTES`].
    #[error("the document is over {} MiB", MAX_DOCUMENT_BYTES / 1024 / 1024)]
    TooLarge,
    /// Wrong key, or bytes changed on the way.
    #[error("the sealed document does not open with this key")]
    Open,
}

fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Seals `content` (named `name`, of media type `media_type`) with a fresh key.
pub fn seal(name: &str, media_type: &str, content: &[u8]) -> Result<Sealed, SealError> {
    if content.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(SealError::TooLarge);
    }
    let name = cut(name, MAX_NAME_BYTES);
    let media_type = cut(media_type, 255);
    let random = SystemRandom::new();
    let mut key = [0u8; KEY_BYTES];
    random.fill(&mut key).map_err(|_| SealError::Random)?;
    let mut nonce = [0u8; NONCE_LEN];
    random.fill(&mut nonce).map_err(|_| SealError::Random)?;

    let mut bytes = Vec::with_capacity(
        NONCE_LEN + 4 + name.len() + media_type.len() + content.len() + AES_256_GCM.tag_len(),
    );
    bytes.extend_from_slice(&nonce);
    // Both lengths fit: cut above.
    bytes.extend_from_slice(&(name.len() as u16).to_be_bytes());
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(&(media_type.len() as u16).to_be_bytes());
    bytes.extend_from_slice(media_type.as_bytes());
    bytes.extend_from_slice(content);
    let sealing =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| SealError::Random)?);
    let mut plain = bytes.split_off(NONCE_LEN);
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut plain,
        )
        .map_err(|_| SealError::Random)?;
    bytes.extend_from_slice(&plain);
    Ok(Sealed { key, bytes })
}

/// A document opened from its seal: what the phone's page gets.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// Its name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

/// Opens a sealed document with its key (what the phone's page does, in Rust).
pub fn open(key: &[u8; KEY_BYTES], sealed: &[u8]) -> Result<Opened, SealError> {
    if sealed.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
    let opening =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::Open)?);
    let mut buf = rest.to_vec();
    let plain = opening
        .open_in_place(nonce, Aad::from(AAD), &mut buf)
        .map_err(|_| SealError::Open)?;
    let field = |at: usize| -> Result<(String, usize), SealError> {
        let len = plain
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(SealError::Open)?;
        let text = plain.get(at + 2..at + 2 + len).ok_or(SealError::Open)?;
        let text = String::from_utf8(text.to_vec()).map_err(|_| SealError::Open)?;
        Ok((text, at + 2 + len))
    };
    let (name, at) = field(0)?;
    let (media_type, at) = field(at)?;
    Ok(Opened {
        name,
        media_type,
        content: plain[at..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_document_opens_with_its_key_only_and_hides_its_name() {
        let content = b"%PDF-1.4 avis d'imposition 2026".repeat(100);
        let sealed = seal("avis-impôt.pdf", "application/pdf", &content).unwrap();
        let opened = open(&sealed.key, &sealed.bytes).unwrap();
        assert_eq!(opened.name, "avis-impôt.pdf");
        assert_eq!(opened.media_type, "application/pdf");
        assert_eq!(opened.content, content);
        // Neither the name nor the content shows in the sealed bytes.
        let find = |needle: &[u8]| sealed.bytes.windows(needle.len()).any(|w| w == needle);
        assert!(!find("avis-impôt".as_bytes()));
        assert!(!find(b"imposition"));
        // Another key, or one changed byte, and it does not open.
        let mut other = sealed.key;
        other[0] ^= 1;
        assert_eq!(open(&other, &sealed.bytes), Err(SealError::Open));
        let mut changed = sealed.bytes.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(open(&sealed.key, &changed), Err(SealError::Open));
        assert_eq!(open(&sealed.key, &sealed.bytes[..5]), Err(SealError::Open));
        // Two seals of the same document share neither key nor bytes.
        let again = seal("avis-impôt.pdf", "application/pdf", &content).unwrap();
        assert_ne!(again.key, sealed.key);
        assert_ne!(again.bytes[..64], sealed.bytes[..64]);
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let name = "é".repeat(2000);
        let sealed = seal(&name, "", b"x").unwrap();
        let opened = open(&sealed.key, &sealed.bytes).unwrap();
        assert_eq!(opened.name.len(), MAX_NAME_BYTES);
        assert!(opened.name.chars().all(|c| c == 'é'));
    }
}
