//! Sites' time slots: the stored model, supervised slots that staff open now, and the
//! compiled schedules pushed to each seat on connect and on every change.
//!
//! A change made through this handle is pushed at once to the seats connected here; other
//! controllers sharing PostgreSQL hear of it by `NOTIFY`; a change made by another process
//! on SQLite (the `commune slot` command) is noticed by a poll of the versions.

use commune_protocol::messages::ControllerMessage;
use commune_protocol::slots::{compile_schedule, AdHocSlot, SiteSchedule, DEFAULT_DAYS};
use commune_protocol::UtcMillis;
use tracing::{info, warn};

use crate::{now, Controller, ControllerError};

/// Wire version of a seat's schedule: grows with the site's version, and with the day of
/// compilation so that a daily re-push with a moved window is taken too.
fn wire_version(site_version: u64, at: UtcMillis) -> u64 {
    site_version * 1_000_000 + u64::try_from(at.0 / 86_400_000).unwrap_or(0) % 1_000_000
}

impl Controller {
    /// A site's model (with its seats filled from the enrolled agents) and version; a site
    /// without one is open all day in its time zone (version 0: nothing is pushed, agents
    /// give free access by their rules).
    pub async fn site_schedule(
        &self,
        site_id: &str,
    ) -> Result<(SiteSchedule, u64), ControllerError> {
        if let Some(stored) = self.site_model(site_id).await? {
            return Ok(stored);
        }
        let site = self
            .store()
            .sites()
            .await?
            .into_iter()
            .find(|s| s.id == site_id)
            .ok_or_else(|| crate::error::StoreError::UnknownSite(site_id.to_string()))?;
        let mut model = SiteSchedule::always_open(site.time_zone);
        model.seats = self.store().site_seats(site_id).await?;
        Ok((model, 0))
    }

    /// A site's stored model with its seats and version (from 1), or `None` when it has none
    /// (nothing is pushed): a seat connecting to a site without a schedule costs one read.
    pub(crate) async fn site_model(
        &self,
        site_id: &str,
    ) -> Result<Option<(SiteSchedule, u64)>, ControllerError> {
        let Some((version, json)) = self.store().site_schedule(site_id).await? else {
            return Ok(None);
        };
        let mut model = serde_json::from_str::<SiteSchedule>(&json)
            .map_err(|e| ControllerError::Config(format!("stored schedule of {site_id}: {e}")))?;
        model.seats = self.store().site_seats(site_id).await?;
        Ok(Some((model, version)))
    }

    /// Replaces a site's model after validating it, and pushes the new schedules.
    pub async fn set_site_schedule(
        &self,
        site_id: &str,
        mut model: SiteSchedule,
    ) -> Result<u64, ControllerError> {
        model.seats = self.store().site_seats(site_id).await?;
        model
            .validate()
            .map_err(|e| ControllerError::Config(format!("schedule of {site_id}: {e}")))?;
        let json =
            serde_json::to_string(&model).map_err(|e| ControllerError::Config(e.to_string()))?;
        let version = self
            .store()
            .put_site_schedule(site_id, &json, now())
            .await?;
        info!(site = %site_id, version, "site schedule changed");
        self.push_site(site_id).await;
        Ok(version)
    }

    /// Sets the PIN mediators type at a site's computers to open a supervised session
    /// (4 to 8 digits). Only its Argon2 hash is stored and sent to the seats.
    pub async fn set_mediator_pin(&self, site_id: &str, pin: &str) -> Result<u64, ControllerError> {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ControllerError::Config(
                "a mediator PIN is 4 to 8 digits".into(),
            ));
        }
        let hash = argon2::Argon2::default()
            .hash_password(pin.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| ControllerError::Config(format!("hashing the PIN: {e}")))?
            .to_string();
        let (mut model, _) = self.site_schedule(site_id).await?;
        model.mediator_pin = Some(hash);
        self.set_site_schedule(site_id, model).await
    }

    /// Opens a supervised slot now on `seats` until `until`; returns its id.
    pub async fn open_supervised_slot(
        &self,
        site_id: &str,
        seats: &[String],
        until: UtcMillis,
        name: Option<String>,
        mediator: Option<String>,
    ) -> Result<String, ControllerError> {
        let at = now();
        if until <= at {
            return Err(ControllerError::Config(format!(
                "a slot opened now must end later (asked until {until})"
            )));
        }
        let (mut model, _) = self.site_schedule(site_id).await?;
        // Unique even for two slots opened in the same millisecond.
        let id = format!("adhoc-{:x}-{:04x}", at.0, rand::random::<u16>());
        // Slots that ended before the reports' horizon are dropped: the model does not grow
        // with every slot ever opened.
        let horizon =
            i64::from(self.config().retention.session_log_days).saturating_mul(86_400_000);
        model
            .ad_hoc
            .retain(|s| s.end.0 >= at.0.saturating_sub(horizon));
        model.ad_hoc.push(AdHocSlot {
            id: id.clone(),
            seats: seats.to_vec(),
            start: at,
            end: until,
            permanence: None,
            name,
            mediator: mediator.unwrap_or_default(),
        });
        self.set_site_schedule(site_id, model).await?;
        Ok(id)
    }

    /// Moves the end of an ad-hoc slot (extend, or close now with `until = now`).
    pub async fn set_slot_end(
        &self,
        site_id: &str,
        slot_id: &str,
        until: UtcMillis,
    ) -> Result<(), ControllerError> {
        let (mut model, _) = self.site_schedule(site_id).await?;
        let slot = model
            .ad_hoc
            .iter_mut()
            .find(|s| s.id == slot_id)
            .ok_or_else(|| ControllerError::Config(format!("no slot `{slot_id}` at {site_id}")))?;
        if until <= slot.start {
            // Closing a slot before it began removes it.
            model.ad_hoc.retain(|s| s.id != slot_id);
        } else {
            slot.end = until;
        }
        self.set_site_schedule(site_id, model).await?;
        Ok(())
    }

    /// The compiled schedule of one seat, as pushed.
    pub async fn seat_schedule(
        &self,
        site_id: &str,
        seat: &str,
    ) -> Result<Option<commune_protocol::schedule::Schedule>, ControllerError> {
        let Some((model, version)) = self.site_model(site_id).await? else {
            return Ok(None);
        };
        let at = now();
        compile_schedule(&model, seat, wire_version(version, at), at, DEFAULT_DAYS)
            .map(Some)
            .map_err(|e| ControllerError::Config(format!("schedule of {site_id}: {e}")))
    }

    /// Sends a seat its schedule, if its site has one.
    pub(crate) async fn push_seat(&self, site_id: &str, agent_id: &str) {
        match self.seat_schedule(site_id, agent_id).await {
            Ok(Some(schedule)) => self.push_schedule(agent_id, schedule),
            Ok(None) => {}
            Err(error) => warn!(site = %site_id, agent = %agent_id, %error, "schedule not pushed"),
        }
    }

    fn push_schedule(&self, agent_id: &str, schedule: commune_protocol::schedule::Schedule) {
        if let Some(tx) = self.live_sender(agent_id) {
            if let Err(e) = tx.push(&ControllerMessage::Schedule(schedule)) {
                self.push_failed(agent_id, &e);
            }
        }
    }

    /// Pushes the schedules and tickets of sites that changed since `seen` (changes made by
    /// another process or controller); the first call only records where things stand.
    pub(crate) async fn push_changed_schedules(
        &self,
        seen: &mut Option<std::collections::HashMap<String, String>>,
    ) {
        let Ok(versions) = self.store().schedule_versions().await else {
            return;
        };
        // On PostgreSQL every change is announced (`LISTEN/NOTIFY`, see the store listener):
        // no fingerprint of every site's tickets is computed each tick.
        let notified = self.store().kind() == crate::store::BackendKind::Postgres;
        let tickets = if notified {
            Vec::new()
        } else {
            self.store().ticket_fingerprints().await.unwrap_or_default()
        };
        let first = seen.is_none();
        let seen = seen.get_or_insert_with(Default::default);
        // Once a day every schedule is compiled again, so each seat's 14-day window moves on
        // (the wire version carries the day, so agents take it).
        let day = (now().0 / 86_400_000).to_string();
        let new_day = seen
            .insert("day".into(), day.clone())
            .is_some_and(|d| d != day);
        if new_day {
            for (site, _) in &versions {
                self.push_site(site).await;
            }
        }
        for (site, version) in versions {
            let previous = seen.insert(format!("schedule:{site}"), version.to_string());
            if !first && !notified && previous.as_deref() != Some(version.to_string().as_str()) {
                self.push_site(&site).await;
            }
        }
        for (site, print) in tickets {
            let previous = seen.insert(format!("tickets:{site}"), print.clone());
            if !first && previous.as_deref() != Some(print.as_str()) {
                // Through the coalesced pusher (at most one push per site and second).
                self.tickets_changed(&site);
            }
        }
    }

    /// Sends every connected seat of a site its new schedule (the model read once).
    pub async fn push_site(&self, site_id: &str) {
        let (model, version) = match self.site_model(site_id).await {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(error) => {
                warn!(site = %site_id, %error, "schedules not pushed");
                return;
            }
        };
        let at = now();
        for seat in &model.seats {
            if self.live_sender(seat).is_some() {
                if let Some(schedule) = compile_for(site_id, &model, version, seat, at) {
                    self.push_schedule(seat, schedule);
                }
            }
        }
    }
}

/// One seat's compiled schedule; a model that does not compile is logged (it was validated
/// when stored).
fn compile_for(
    site_id: &str,
    model: &SiteSchedule,
    version: u64,
    seat: &str,
    at: UtcMillis,
) -> Option<commune_protocol::schedule::Schedule> {
    compile_schedule(model, seat, wire_version(version, at), at, DEFAULT_DAYS)
        .map_err(|error| warn!(site = %site_id, %seat, %error, "schedule not compiled"))
        .ok()
}
