//! "Send to my phone", on the seat: a document of the session sealed with a fresh key
//! (see [`commune_protocol::handoff`]), its sealed bytes sent to the controller over the
//! link, and the link to show as a QR code, with the key in its fragment.
//!
//! The key and the link with it live only in this process's memory, for the session: the
//! screens show them to the visitor, nothing else reads them, and they are forgotten when
//! the session ends. Nothing here logs a document's name or size.
//!
//! The screens ask ([`Handoffs::send`]); the link, while connected to a controller that
//! offers the capability, takes the upload ([`Handoffs::next_upload`]), writes its parts,
//! and gives the controller's answer back ([`Handoffs::answered`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use commune_protocol::handoff::{seal, HandoffReady, SealError};
use commune_protocol::UtcMillis;
use tokio::sync::{oneshot, Notify};

/// How long the screens wait for the controller's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(45);

/// A sealed document waiting for the link.
#[derive(Debug)]
pub struct Outgoing {
    /// Its number, which the answer names.
    pub upload: u32,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
    /// The visitor's language (the phone's page speaks it).
    pub lang: String,
}

/// A document handed off: what the screen shows until the session ends.
#[derive(Clone, PartialEq, Eq)]
pub struct Shown {
    /// The session it belongs to.
    pub session_id: String,
    /// The document's path relative to the home (shown on this screen only).
    pub document: String,
    /// The address with the key in its fragment: the QR code's content.
    pub link: String,
    /// Until when the controller keeps it.
    pub expires_at: UtcMillis,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the name nor the key.
        f.debug_struct("Shown")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a document could not be sent (each has its sentence on the screens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    /// The controller is not reachable now, or does not offer it.
    #[error("the controller is not reachable, or does not keep documents for phones")]
    Offline,
    /// Another document is being sent.
    #[error("another document is being sent")]
    Busy,
    /// Over the size limit.
    #[error("the document is too large")]
    TooLarge,
    /// Not a document of the session (gone, a link, a folder elsewhere).
    #[error("not a document of this session")]
    NotADocument,
    /// The controller refused it (its reason, for IT).
    #[error("the controller refused the document: {0}")]
    Refused(String),
    /// No answer in time.
    #[error("the controller did not answer in time")]
    NoAnswer,
}

#[derive(Default)]
struct State {
    outgoing: Option<Outgoing>,
    waiting: HashMap<u32, oneshot::Sender<HandoffReady>>,
    shown: Vec<Shown>,
}

struct Inner {
    /// Whether the link is up with a controller offering the capability.
    offered: AtomicBool,
    next_upload: AtomicU32,
    state: Mutex<State>,
    ready: Notify,
    busy: tokio::sync::Mutex<()>,
}

/// The seat's hand-offs. Cheap to clone.
#[derive(Clone)]
pub struct Handoffs {
    inner: Arc<Inner>,
}

impl Default for Handoffs {
    fn default() -> Self {
        Handoffs {
            inner: Arc::new(Inner {
                offered: AtomicBool::new(false),
                next_upload: AtomicU32::new(1),
                state: Mutex::default(),
                ready: Notify::new(),
                busy: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

impl std::fmt::Debug for Handoffs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoffs")
            .field("offered", &self.inner.offered.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The link's key as it goes in the fragment: base64url without padding (43 characters).
pub fn fragment_key(key: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// A media type from the name's ending, for the phone to open the document with the right
/// application.
pub fn media_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("pdf") => "application/pdf",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("txt") => "text/plain",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

impl Handoffs {
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The link says whether it is up with a controller that keeps documents for phones.
    pub fn set_offered(&self, offered: bool) {
        self.inner.offered.store(offered, Ordering::Relaxed);
        if !offered {
            // Whatever waited for this connection will not be answered by it.
            let mut state = self.state();
            state.outgoing = None;
            state.waiting.clear();
        }
    }

    /// Whether documents can be sent now.
    pub fn available(&self) -> bool {
        self.inner.offered.load(Ordering::Relaxed)
    }

    /// Seals `content` (the document `document`, relative to the home) and has the
    /// controller keep it; the link to show. One at a time.
    pub async fn send(
        &self,
        session_id: &str,
        document: &str,
        content: Vec<u8>,
        lang: &str,
    ) -> Result<Shown, HandoffError> {
        let Ok(_one) = self.inner.busy.try_lock() else {
            return Err(HandoffError::Busy);
        };
        if !self.available() {
            return Err(HandoffError::Offline);
        }
        let name = document.rsplit('/').next().unwrap_or(document).to_owned();
        let sealed = tokio::task::spawn_blocking(move || {
            let sealed = seal(&name, media_type(&name), &content);
            drop(content);
            sealed
        })
        .await
        .map_err(|_| HandoffError::NoAnswer)?
        .map_err(|e| match e {
            SealError::TooLarge => HandoffError::TooLarge,
            _ => HandoffError::NoAnswer,
        })?;
        let upload = self.inner.next_upload.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state();
            state.waiting.insert(upload, tx);
            state.outgoing = Some(Outgoing {
                upload,
                sealed: sealed.bytes,
                lang: lang.to_owned(),
            });
        }
        self.inner.ready.notify_one();
        let answer = tokio::time::timeout(ANSWER_WAIT, rx).await;
        {
            let mut state = self.state();
            state.waiting.remove(&upload);
            if state.outgoing.as_ref().is_some_and(|o| o.upload == upload) {
                state.outgoing = None;
            }
        }
        let ready = match answer {
            Ok(Ok(ready)) => ready,
            Ok(Err(_)) => return Err(HandoffError::Offline),
            Err(_) => return Err(HandoffError::NoAnswer),
        };
        match (ready.url, ready.expires_at) {
            (Some(url), Some(expires_at)) => {
                let shown = Shown {
                    session_id: session_id.to_owned(),
                    document: document.to_owned(),
                    link: format!("{url}#k={}", fragment_key(&sealed.key)),
                    expires_at,
                };
                self.state().shown.push(shown.clone());
                Ok(shown)
            }
            _ => Err(HandoffError::Refused(ready.refused.unwrap_or_default())),
        }
    }

    /// The next upload for the link to write, when there is one. Cancel-safe: the upload
    /// stays queued until taken.
    pub async fn next_upload(&self) -> Outgoing {
        loop {
            let notified = self.inner.ready.notified();
            if let Some(out) = self.state().outgoing.take() {
                return out;
            }
            notified.await;
        }
    }

    /// The controller's answer to an upload.
    pub fn answered(&self, ready: HandoffReady) {
        if let Some(tx) = self.state().waiting.remove(&ready.upload) {
            let _ = tx.send(ready);
        }
    }

    /// The documents handed off in `session_id`, the last one last.
    pub fn shown(&self, session_id: &str) -> Vec<Shown> {
        self.state()
            .shown
            .iter()
            .filter(|s| s.session_id == session_id)
            .cloned()
            .collect()
    }

    /// Forgets the session's hand-offs (keys included) when it ends; how many there were.
    pub fn forget(&self, session_id: &str) -> u32 {
        let mut state = self.state();
        let before = state.shown.len();
        state.shown.retain(|s| s.session_id != session_id);
        let n = before - state.shown.len();
        // Another session's leftovers (a crash between two) go too.
        state.shown.clear();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commune_protocol::handoff::open;

    #[tokio::test]
    async fn a_document_goes_through_the_link_and_comes_back_as_a_link_with_its_key() {
        let h = Handoffs::default();
        assert_eq!(
            h.send("s1", "Numérisations/fiche.pdf", b"x".to_vec(), "fr")
                .await,
            Err(HandoffError::Offline)
        );
        h.set_offered(true);
        let link = h.clone();
        let controller = tokio::spawn(async move {
            let out = link.next_upload().await;
            link.answered(HandoffReady {
                upload: out.upload,
                url: Some("https://c.example/telephone/ab?lang=ar".into()),
                expires_at: Some(UtcMillis(1000)),
                refused: None,
            });
            out
        });
        let shown = h
            .send(
                "s1",
                "Numérisations/fiche de paie.pdf",
                b"%PDF paie".to_vec(),
                "ar",
            )
            .await
            .unwrap();
        let out = controller.await.unwrap();
        assert_eq!(out.lang, "ar");
        let (url, key) = shown.link.split_once("#k=").unwrap();
        assert_eq!(url, "https://c.example/telephone/ab?lang=ar");
        let key: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key)
            .unwrap()
            .try_into()
            .unwrap();
        let opened = open(&key, &out.sealed).unwrap();
        assert_eq!(opened.name, "fiche de paie.pdf");
        assert_eq!(opened.media_type, "application/pdf");
        assert_eq!(opened.content, b"%PDF paie");
        assert_eq!(h.shown("s1").len(), 1);
        assert_eq!(h.forget("s1"), 1);
        assert!(h.shown("s1").is_empty());
    }

    #[tokio::test]
    async fn a_refusal_and_a_lost_connection_are_told() {
        let h = Handoffs::default();
        h.set_offered(true);
        let link = h.clone();
        tokio::spawn(async move {
            let out = link.next_upload().await;
            link.answered(HandoffReady {
                upload: out.upload,
                url: None,
                expires_at: None,
                refused: Some("full".into()),
            });
            let _second = link.next_upload().await;
            link.set_offered(false);
        });
        assert_eq!(
            h.send("s", "Téléchargements/a.pdf", vec![1], "fr").await,
            Err(HandoffError::Refused("full".into()))
        );
        assert_eq!(
            h.send("s", "Téléchargements/a.pdf", vec![1], "fr").await,
            Err(HandoffError::Offline)
        );
        assert_eq!(h.forget("s"), 0);
    }
}
