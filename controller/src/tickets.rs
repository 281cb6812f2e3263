//! Free-access tickets: batches of anonymous codes printed for a site, whose hashes every
//! seat of the site holds so that tickets work offline. A use reported by one seat is pushed
//! to every other seat of the site at once.

use commune_protocol::messages::{ControllerMessage, TicketSet};
use commune_protocol::tickets::{format_code, normalize, ticket_hash, CODE_LEN};
use commune_protocol::UtcMillis;
use rand::Rng as _;
use tracing::{info, warn};

use crate::{now, Controller, ControllerError};

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
        Ok(codes)
    }

    async fn ticket_set(&self, site_id: &str) -> Option<TicketSet> {
        let at = now();
        match self.store().site_tickets(site_id, at).await {
            Ok(tickets) => Some(TicketSet {
                generated_at: at,
                tickets,
            }),
            Err(error) => {
                warn!(site = %site_id, %error, "ticket set not computed");
                None
            }
        }
    }

    /// Sends one connected seat its site's tickets.
    pub(crate) async fn push_tickets_to(&self, site_id: &str, agent_id: &str) {
        if let (Some(set), Some(tx)) = (self.ticket_set(site_id).await, self.live_sender(agent_id))
        {
            let _ = tx.send(ControllerMessage::Tickets(set)).await;
        }
    }

    /// Sends every connected seat of a site its tickets (after a batch or a use).
    pub async fn push_tickets(&self, site_id: &str) {
        let Some(set) = self.ticket_set(site_id).await else {
            return;
        };
        let Ok(seats) = self.store().site_seats(site_id).await else {
            return;
        };
        for seat in seats {
            if let Some(tx) = self.live_sender(&seat) {
                let _ = tx.send(ControllerMessage::Tickets(set.clone())).await;
            }
        }
    }
}
