//! Free-access tickets: batches of anonymous codes printed for a site, whose hashes every
//! seat of the site holds so that tickets work offline. A use reported by one seat is pushed
//! to every other seat of the site at once.

use commune_protocol::messages::{ControllerMessage, TicketSet};
use commune_protocol::tickets::{format_code, normalize, ticket_hash, CODE_LEN, TICKETS_PER_PART};
use commune_protocol::UtcMillis;
use rand::Rng as _;
use tracing::{info, warn};

use std::sync::Arc;

use crate::seat_link::{Frame, SeatTx};
use crate::{now, Controller, ControllerError};

/// Valid tickets of one site at most: the whole set stays a few dozen frames (well within
/// a seat's queue) and a few megabytes on each seat.
pub(crate) const MAX_SITE_TICKETS: usize = 100_000;

/// A site's ticket set, encoded.
pub(crate) struct TicketFrames {
    /// In parts of at most `TICKETS_PER_PART`.
    parts: Vec<Frame>,
    /// Whole in one frame, for agents without the `ticket_parts` capability, when it is
    /// more than one part and fits.
    whole: Option<Frame>,
}

/// Pushes of a site's tickets caused by seats' uses, at most once per this period.
const TICKET_PUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a site's encoded set serves the seats that connect, unless it changes before:
/// after a restart, the seats of a site coming back together cost one read of its tickets.
const TICKET_FRAMES_REUSED_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Recently encoded ticket sets, by site (see [`TICKET_FRAMES_REUSED_FOR`]).
#[derive(Default)]
pub(crate) struct TicketFramesCache(
    std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Arc<TicketFrames>)>>,
);

impl TicketFramesCache {
    fn fresh(&self, site_id: &str) -> Option<Arc<TicketFrames>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(site_id)
            .filter(|(at, _)| at.elapsed() < TICKET_FRAMES_REUSED_FOR)
            .map(|(_, frames)| frames.clone())
    }

    fn keep(&self, site_id: &str, frames: Arc<TicketFrames>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (at, _)| at.elapsed() < TICKET_FRAMES_REUSED_FOR);
        map.insert(site_id.to_string(), (std::time::Instant::now(), frames));
    }

    fn forget(&self, site_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(site_id);
    }
}

impl Controller {
    /// Creates `count` tickets for a site, each granting `minutes`, usable until
    /// `valid_until`; returns the codes (shown once, to be printed: only hashes are kept).
    pub async fn create_tickets(
        &self,
        site_id: &str,
        count: usize,
        minutes: u32,
        valid_until: UtcMillis,
    ) -> Result<Vec<String>, ControllerError> {
        let at = now();
        if valid_until <= at {
            return Err(ControllerError::Config(format!(
                "tickets must be valid in the future (asked until {valid_until})"
            )));
        }
        if !(1..=10_000).contains(&count) || !(1..=24 * 60).contains(&minutes) {
            return Err(ControllerError::Config(
                "between 1 and 10,000 tickets of 1 to 1,440 minutes at a time".into(),
            ));
        }
        if !self.store().sites().await?.iter().any(|s| s.id == site_id) {
            return Err(crate::error::StoreError::UnknownSite(site_id.to_string()).into());
        }
        let valid = self.store().site_tickets(site_id, at).await?.len();
        if valid + count > MAX_SITE_TICKETS {
            return Err(ControllerError::Config(format!(
                "{site_id} already has {valid} valid tickets; {MAX_SITE_TICKETS} at most at once"
            )));
        }
        let mut codes = Vec::with_capacity(count);
        let mut hashes = Vec::with_capacity(count);
        while codes.len() < count {
            // The thread's generator is not held across an await (the future stays Send).
            let random: [u8; CODE_LEN] = rand::rng().random();
            let code = format_code(&random);
            let hash = normalize(&code)
                .map(|c| ticket_hash(&c))
                .unwrap_or_default();
            if hashes.contains(&hash) || self.store().ticket(&hash).await?.is_some() {
                continue;
            }
            codes.push(code);
            hashes.push(hash);
        }
        self.store()
            .create_tickets(site_id, &hashes, minutes, valid_until, at)
            .await?;
        info!(site = %site_id, count, minutes, "tickets created");
        self.push_tickets(site_id).await;
        if let Err(e) = self.store().notify_tickets(site_id).await {
            warn!(site = %site_id, error = %e, "new tickets not announced to other controllers");
        }
        Ok(codes)
    }

    /// The site's ticket set, encoded once for every seat of the site: in parts that each
    /// fit in a frame, and whole for agents that do not gather parts (when it fits).
    async fn ticket_frames(&self, site_id: &str) -> Option<Arc<TicketFrames>> {
        let at = now();
        let tickets = match self.store().site_tickets(site_id, at).await {
            Ok(tickets) => tickets,
            Err(error) => {
                warn!(site = %site_id, %error, "ticket set not computed");
                return None;
            }
        };
        let set = TicketSet {
            generated_at: at,
            tickets,
            part: 0,
            parts: 0,
        };
        let whole = if set.tickets.len() > TICKETS_PER_PART {
            SeatTx::encode(&ControllerMessage::Tickets(set.clone())).ok()
        } else {
            None
        };
        let mut parts = Vec::new();
        for part in set.into_parts(TICKETS_PER_PART) {
            match SeatTx::encode(&ControllerMessage::Tickets(part)) {
                Ok(frame) => parts.push(frame),
                Err(error) => {
                    // Cannot happen with the part size checked in the protocol's tests;
                    // counted rather than half-sent.
                    self.metrics().push_failed("encode");
                    warn!(site = %site_id, %error, "ticket set not encoded");
                    return None;
                }
            }
        }
        let frames = Arc::new(TicketFrames { parts, whole });
        self.inner.ticket_frames.keep(site_id, frames.clone());
        Some(frames)
    }

    /// Queues the frames to one seat, never waiting on it.
    fn push_frames(&self, agent_id: &str, frames: &TicketFrames) {
        let Some(tx) = self.live_sender(agent_id) else {
            return;
        };
        let frames = match (&frames.whole, tx.ticket_parts) {
            // An older agent would keep only the last part: the whole set, if it fits.
            (Some(whole), false) => std::slice::from_ref(whole),
            (None, false) if frames.parts.len() > 1 => {
                self.metrics().push_failed("encode");
                warn!(agent = %agent_id, "ticket set too big for this agent's version; update it");
                return;
            }
            _ => frames.parts.as_slice(),
        };
        for frame in frames {
            if let Err(e) = tx.push_frame(frame.clone()) {
                self.push_failed(agent_id, &e);
                return;
            }
        }
    }

    /// Sends one connected seat its site's tickets.
    pub(crate) async fn push_tickets_to(&self, site_id: &str, agent_id: &str) {
        let frames = match self.inner.ticket_frames.fresh(site_id) {
            Some(frames) => Some(frames),
            None => self.ticket_frames(site_id).await,
        };
        if let Some(frames) = frames {
            self.push_frames(agent_id, &frames);
        }
    }

    /// A seat used a ticket of `site_id`: its seats get the new set within a second. Uses
    /// are pushed together, so a seat spending ticket after ticket (a stolen key) costs
    /// one push per site and per second, whatever its rate.
    pub(crate) fn tickets_changed(&self, site_id: &str) {
        // Other controllers sharing PostgreSQL push it to their seats too.
        if self.store().kind() == crate::store::BackendKind::Postgres {
            let (c, site) = (self.clone(), site_id.to_string());
            tokio::spawn(async move {
                if let Err(e) = c.store().notify_tickets(&site).await {
                    warn!(site = %site, error = %e, "ticket change not announced to other controllers");
                }
            });
        }
        self.tickets_changed_here(site_id);
    }

    /// [`Controller::tickets_changed`] for this controller's seats only (a change another
    /// controller announced).
    pub(crate) fn tickets_changed_here(&self, site_id: &str) {
        self.inner.ticket_frames.forget(site_id);
        self.inner
            .tickets_dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(site_id.to_string());
        self.inner.tickets_notify.notify_one();
    }

    /// The task pushing the sites marked by [`Controller::tickets_changed`].
    pub(crate) fn spawn_ticket_pusher(&self) -> tokio::task::JoinHandle<()> {
        let c = self.clone();
        tokio::spawn(async move {
            loop {
                c.inner.tickets_notify.notified().await;
                let sites = std::mem::take(
                    &mut *c
                        .inner
                        .tickets_dirty
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()),
                );
                for site in sites {
                    c.push_tickets(&site).await;
                }
                tokio::time::sleep(TICKET_PUSH_EVERY).await;
            }
        })
    }

    /// Sends every connected seat of a site its tickets (after a batch or a use).
    pub async fn push_tickets(&self, site_id: &str) {
        let Ok(seats) = self.store().site_seats(site_id).await else {
            return;
        };
        if !seats.iter().any(|s| self.live_sender(s).is_some()) {
            return;
        }
        let Some(frames) = self.ticket_frames(site_id).await else {
            return;
        };
        for seat in seats {
            self.push_frames(&seat, &frames);
        }
    }
}
