//! "Send to my phone": sealed documents kept for one download (see
//! [`commune_protocol::handoff`]).
//!
//! A seat uploads a document it sealed with a key the controller never sees, in parts on
//! its link; the controller keeps the sealed bytes **in memory only** (never in the store,
//! a file or a log), for one download and at most `[handoff] keep_secs`, then forgets them.
//! The phone's page (`/telephone/{id}`, the dashboard) downloads them once.
//!
//! Bounds, so that neither a seat whose key was stolen nor anyone on the network can make
//! the controller hold much: a document is at most `max_document_mib`; all documents kept
//! and being received together at most `max_total_mib` (an upload reserves its whole
//! announced size before its first byte is kept); a seat keeps at most `per_seat`
//! documents not yet downloaded; one upload at a time per connection. An identifier is 128
//! random bits: guessing one is hopeless, and a wrong guess costs a map lookup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use commune_protocol::handoff::{HandoffPart, HandoffReady, MAX_TTL_MINUTES, PART_BYTES};
use commune_protocol::UtcMillis;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The `[handoff]` section. Names carry their unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffConfig {
    /// Whether seats may send documents to phones through this controller.
    pub enabled: bool,
    /// The address phones reach the download page at, as the reverse proxy publishes it
    /// (`https://commune.example.fr`; only the path `/telephone/` needs to be published).
    /// Empty: the dashboard's own address (enough for the demo, not for phones).
    pub public_url: String,
    /// How long a document waits for its download, in seconds (at most 15 minutes).
    pub keep_secs: u64,
    /// The largest document kept, in MiB.
    pub max_document_mib: u64,
    /// All documents kept (and being received) together, in MiB.
    pub max_total_mib: u64,
    /// Documents one seat may have waiting for their download.
    pub per_seat: usize,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        HandoffConfig {
            enabled: true,
            public_url: String::new(),
            keep_secs: u64::from(MAX_TTL_MINUTES) * 60,
            max_document_mib: 32,
            max_total_mib: 256,
            per_seat: 5,
        }
    }
}

impl HandoffConfig {
    /// How long documents are kept: the setting, at most 15 minutes, at least 1 s.
    pub fn keep(&self) -> Duration {
        Duration::from_secs(self.keep_secs.clamp(1, u64::from(MAX_TTL_MINUTES) * 60))
    }
}

/// A document kept for its download.
struct Kept {
    agent_id: String,
    sealed: Vec<u8>,
    until: Instant,
}

#[derive(Default)]
struct Desk {
    kept: HashMap<String, Kept>,
    /// Bytes kept plus bytes reserved by uploads under way.
    bytes: u64,
}

impl Desk {
    fn forget_expired(&mut self, now: Instant) -> usize {
        let before = self.kept.len();
        let mut freed = 0;
        self.kept.retain(|_, k| {
            let keep = k.until > now;
            if !keep {
                freed += k.sealed.len() as u64;
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        before - self.kept.len()
    }
}

/// The documents kept for phones. Cheap to clone.
#[derive(Clone, Default)]
pub struct Handoffs {
    desk: Arc<Mutex<Desk>>,
}

impl std::fmt::Debug for Handoffs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let desk = self.lock();
        f.debug_struct("Handoffs")
            .field("kept", &desk.kept.len())
            .field("bytes", &desk.bytes)
            .finish()
    }
}

/// One connection's upload: received parts, and the bytes it reserved.
pub struct Upload {
    desk: Arc<Mutex<Desk>>,
    upload: u32,
    total: u64,
    reserved: u64,
    data: Vec<u8>,
    lang: String,
}

impl Drop for Upload {
    fn drop(&mut self) {
        // A finished upload hands its reservation to the kept document (reserved = 0).
        let mut desk = self.desk.lock().unwrap_or_else(PoisonError::into_inner);
        desk.bytes = desk.bytes.saturating_sub(self.reserved);
    }
}

/// Where a connection's upload stands.
#[derive(Default)]
pub enum UploadSlot {
    /// No upload under way.
    #[default]
    Idle,
    /// Receiving this one.
    Receiving(Upload),
    /// This upload was refused: its remaining parts are dropped until its last one.
    Skipping(u32),
}

/// What a document's download gives.
pub struct Taken {
    /// The sealed bytes.
    pub sealed: Vec<u8>,
}

/// The language tags the phone's page speaks (the visitor screens' languages).
pub const LANGUAGES: &[&str] = &[
    "fr", "ar", "en", "es", "pt", "tr", "fa-AF", "ps", "ti", "ru", "uk",
];

fn new_id() -> String {
    use rand::Rng as _;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// Whether `id` looks like an identifier this module makes (32 lowercase hex digits).
pub fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Handoffs {
    fn lock(&self) -> MutexGuard<'_, Desk> {
        self.desk.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Documents kept now, and their bytes (with the reservations of uploads under way).
    pub fn usage(&self) -> (usize, u64) {
        let desk = self.lock();
        (desk.kept.len(), desk.bytes)
    }

    /// Receives one part from seat `agent_id`. Returns the answer once the upload is over
    /// (stored or refused); `None` while parts are still to come. `base` is the public
    /// address the phones reach (without a trailing `/`).
    pub fn receive(
        &self,
        slot: &mut UploadSlot,
        agent_id: &str,
        part: HandoffPart,
        config: &HandoffConfig,
        base: &str,
    ) -> Option<Result<HandoffReady, HandoffReady>> {
        let number = part.upload;
        let refuse = |slot: &mut UploadSlot, why: &str| {
            *slot = if part.last {
                UploadSlot::Idle
            } else {
                UploadSlot::Skipping(number)
            };
            Some(Err(HandoffReady {
                upload: number,
                url: None,
                expires_at: None,
                refused: Some(why.to_owned()),
            }))
        };
        if let UploadSlot::Skipping(skipped) = slot {
            if *skipped == number {
                if part.last {
                    *slot = UploadSlot::Idle;
                }
                return None;
            }
            *slot = UploadSlot::Idle;
        }
        if part.data.len() > PART_BYTES {
            return refuse(slot, "a part of the document is over the protocol's size");
        }
        let max_document = config.max_document_mib.saturating_mul(1024 * 1024);
        let upload = match std::mem::take(slot) {
            UploadSlot::Receiving(upload) if upload.upload == number => upload,
            UploadSlot::Receiving(_) => {
                // The previous upload was left unfinished: its reservation goes with it.
                return refuse(slot, "a new upload began before the previous one ended");
            }
            UploadSlot::Idle | UploadSlot::Skipping(_) => {
                if !config.enabled {
                    return refuse(
                        slot,
                        "sending documents to phones is switched off on this controller",
                    );
                }
                if part.total_bytes > max_document {
                    return refuse(
                        slot,
                        &format!("the document is over {} MiB", config.max_document_mib),
                    );
                }
                let now = Instant::now();
                let mut desk = self.lock();
                desk.forget_expired(now);
                let waiting = desk
                    .kept
                    .values()
                    .filter(|k| k.agent_id == agent_id)
                    .count();
                if waiting >= config.per_seat {
                    drop(desk);
                    return refuse(
                        slot,
                        "this computer already has documents waiting for their download",
                    );
                }
                let max_total = config.max_total_mib.saturating_mul(1024 * 1024);
                if desk.bytes.saturating_add(part.total_bytes) > max_total {
                    drop(desk);
                    return refuse(
                        slot,
                        "the controller keeps no more documents for phones now",
                    );
                }
                desk.bytes += part.total_bytes;
                drop(desk);
                Upload {
                    desk: self.desk.clone(),
                    upload: number,
                    total: part.total_bytes,
                    reserved: part.total_bytes,
                    // Grows with what arrives, not with what was announced.
                    data: Vec::new(),
                    lang: part.lang.clone(),
                }
            }
        };
        let mut upload = upload;
        if upload.data.len() as u64 + part.data.len() as u64 > upload.total {
            return refuse(slot, "the document is longer than announced");
        }
        upload.data.extend_from_slice(&part.data);
        if !part.last {
            *slot = UploadSlot::Receiving(upload);
            return None;
        }
        if upload.data.len() as u64 != upload.total {
            return refuse(slot, "the document is shorter than announced");
        }
        let id = new_id();
        let keep = config.keep();
        let until = Instant::now() + keep;
        let expires_at =
            UtcMillis(crate::now().0 + i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
        let lang = LANGUAGES
            .iter()
            .find(|l| **l == upload.lang)
            .copied()
            .unwrap_or("fr");
        let sealed = std::mem::take(&mut upload.data);
        {
            let mut desk = self.lock();
            // The reservation becomes the kept document's bytes.
            desk.bytes = desk.bytes.saturating_sub(upload.reserved) + sealed.len() as u64;
            upload.reserved = 0;
            desk.kept.insert(
                id.clone(),
                Kept {
                    agent_id: agent_id.to_owned(),
                    sealed,
                    until,
                },
            );
        }
        *slot = UploadSlot::Idle;
        Some(Ok(HandoffReady {
            upload: number,
            url: Some(format!("{base}/telephone/{id}?lang={lang}")),
            expires_at: Some(expires_at),
            refused: None,
        }))
    }

    /// Whether a document is waiting under `id` (the page says so before the download).
    pub fn waiting(&self, id: &str) -> bool {
        let mut desk = self.lock();
        desk.forget_expired(Instant::now());
        desk.kept.contains_key(id)
    }

    /// The document's one download: its sealed bytes, forgotten here at once.
    pub fn take(&self, id: &str) -> Option<Taken> {
        let mut desk = self.lock();
        desk.forget_expired(Instant::now());
        let kept = desk.kept.remove(id)?;
        desk.bytes = desk.bytes.saturating_sub(kept.sealed.len() as u64);
        Some(Taken {
            sealed: kept.sealed,
        })
    }

    /// Forgets the documents whose time is over; how many.
    pub fn sweep(&self) -> usize {
        self.lock().forget_expired(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(upload: u32, total: u64, data: &[u8], last: bool) -> HandoffPart {
        HandoffPart {
            upload,
            total_bytes: total,
            data: data.to_vec(),
            last,
            lang: "ar".into(),
        }
    }

    fn config() -> HandoffConfig {
        HandoffConfig {
            max_document_mib: 1,
            max_total_mib: 2,
            per_seat: 2,
            ..HandoffConfig::default()
        }
    }

    #[tokio::test]
    async fn a_document_in_parts_is_kept_for_one_download() {
        let h = Handoffs::default();
        let mut slot = UploadSlot::default();
        let c = config();
        assert!(h
            .receive(&mut slot, "a", part(1, 6, b"abc", false), &c, "http://x")
            .is_none());
        assert_eq!(
            h.usage(),
            (0, 6),
            "the whole size is reserved at the first part"
        );
        let ready = h
            .receive(&mut slot, "a", part(1, 6, b"def", true), &c, "http://x")
            .unwrap()
            .unwrap();
        let url = ready.url.unwrap();
        assert!(
            url.starts_with("http://x/telephone/") && url.ends_with("?lang=ar"),
            "{url}"
        );
        let id = &url["http://x/telephone/".len()..url.len() - "?lang=ar".len()];
        assert!(is_id(id));
        assert!(h.waiting(id));
        assert_eq!(h.take(id).unwrap().sealed, b"abcdef");
        assert!(h.take(id).is_none(), "one download only");
        assert_eq!(h.usage(), (0, 0));
    }

    #[tokio::test]
    async fn wrong_sizes_and_interleaved_uploads_are_refused_and_free_their_bytes() {
        let h = Handoffs::default();
        let c = config();
        let mut slot = UploadSlot::default();
        // Longer than announced.
        let r = h.receive(&mut slot, "a", part(1, 2, b"abc", false), &c, "http://x");
        assert!(r.unwrap().is_err());
        assert_eq!(h.usage(), (0, 0));
        // Its next parts are dropped silently, then a new upload works.
        assert!(h
            .receive(&mut slot, "a", part(1, 2, b"d", true), &c, "http://x")
            .is_none());
        assert!(h
            .receive(&mut slot, "a", part(2, 2, b"ab", true), &c, "http://x")
            .unwrap()
            .is_ok());
        // Shorter than announced.
        let r = h.receive(&mut slot, "a", part(3, 9, b"ab", true), &c, "http://x");
        assert!(r.unwrap().is_err());
        // Over the document limit, announced: refused before anything is kept.
        let r = h.receive(
            &mut slot,
            "a",
            part(4, 2 << 20, b"ab", true),
            &c,
            "http://x",
        );
        assert!(r.unwrap().unwrap_err().refused.unwrap().contains("MiB"));
        // A second upload begun before the first ended.
        assert!(h
            .receive(&mut slot, "a", part(5, 4, b"ab", false), &c, "http://x")
            .is_none());
        assert!(h
            .receive(&mut slot, "a", part(6, 4, b"ab", false), &c, "http://x")
            .unwrap()
            .is_err());
        assert_eq!(
            h.usage(),
            (1, 2),
            "only the finished document's bytes remain"
        );
        // A connection that goes away mid-upload frees its reservation.
        let mut other = UploadSlot::default();
        assert!(h
            .receive(&mut other, "b", part(1, 1000, b"ab", false), &c, "http://x")
            .is_none());
        assert_eq!(h.usage().1, 1002);
        drop(other);
        assert_eq!(h.usage().1, 2);
    }

    #[tokio::test]
    async fn per_seat_and_total_budgets_hold() {
        let h = Handoffs::default();
        let c = config();
        let mut slot = UploadSlot::default();
        let mb = vec![7u8; 1 << 20];
        let one = |h: &Handoffs, slot: &mut UploadSlot, seat: &str, n: u32| {
            let mut answer = None;
            for (i, chunk) in mb.chunks(PART_BYTES).enumerate() {
                let r = h.receive(
                    slot,
                    seat,
                    part(n, mb.len() as u64, chunk, i == 3),
                    &c,
                    "http://x",
                );
                answer = answer.or(r);
            }
            answer.unwrap()
        };
        assert!(one(&h, &mut slot, "a", 1).is_ok());
        assert!(one(&h, &mut slot, "b", 1).is_ok());
        // 2 MiB kept: the total is reached.
        let r = one(&h, &mut slot, "c", 1).unwrap_err();
        assert!(r.refused.unwrap().contains("no more"));
        // Seat a may keep two; the total says no first here, so check the seat's own bound
        // with a larger total.
        let roomy = HandoffConfig {
            max_total_mib: 64,
            ..c.clone()
        };
        let small = |h: &Handoffs, slot: &mut UploadSlot, n: u32| {
            h.receive(slot, "a", part(n, 1, b"x", true), &roomy, "http://x")
                .unwrap()
        };
        assert!(small(&h, &mut slot, 2).is_ok());
        let r = small(&h, &mut slot, 3).unwrap_err();
        assert!(r.refused.unwrap().contains("already has"));
    }

    #[tokio::test(start_paused = true)]
    async fn documents_are_forgotten_when_their_time_is_over() {
        let h = Handoffs::default();
        let c = HandoffConfig {
            keep_secs: 5_000,
            ..config()
        };
        assert_eq!(
            c.keep(),
            Duration::from_secs(900),
            "never more than 15 minutes"
        );
        let mut slot = UploadSlot::default();
        let url = h
            .receive(&mut slot, "a", part(1, 1, b"x", true), &c, "")
            .unwrap()
            .unwrap()
            .url
            .unwrap();
        let id = url["/telephone/".len()..32 + "/telephone/".len()].to_string();
        tokio::time::advance(Duration::from_secs(899)).await;
        assert!(h.waiting(&id));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(h.sweep(), 1);
        assert!(h.take(&id).is_none());
        assert_eq!(h.usage(), (0, 0));
    }
}
