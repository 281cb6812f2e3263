//! The wait: how busy each site's seats are, for the people waiting for one.
//!
//! A task follows the seats' changes (at most once every [`WAIT_EVERY`]): per site, how
//! many seats are free for free access, how many run a visitor's session, when the first
//! of those sessions ends on its own (from the seats' heartbeats, see
//! [`Controller::live_session_ends`]), and which seats are held for a permanence now
//! (an idle seat in a supervised slot, with the permanence from the site's schedule). It
//! keeps the result in memory and sends it to the site's connected seats when it changed
//! (`SiteWait`), whose screens show it when they cannot serve a visitor themselves; the
//! dashboard's room display (`/salle/{site}`, no login, for a television in the MDH) reads
//! it from memory too, so a request costs no store read whatever the number of requests.
//! Counts and seat names only: nothing about any visitor.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use commune_protocol::messages::{ControllerMessage, ReservedSeat, SiteWait, MAX_RESERVED_SEATS};
use commune_protocol::slots::{compile_between, SiteSchedule};
use commune_protocol::UtcMillis;

use crate::{now, Controller};

/// How often the wait is computed at most.
pub const WAIT_EVERY: Duration = Duration::from_secs(3);

/// How long a site's model (its room display setting, its permanences) is kept between
/// reads.
const MODEL_KEPT: Duration = Duration::from_secs(60);

/// A site's wait, with what the room display shows around it.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteWaitView {
    /// The site's name.
    pub site_name: String,
    /// Its time zone (IANA).
    pub time_zone: String,
    /// Whether the site shows its room display (`room_display` in its schedule).
    pub room_display: bool,
    /// The wait.
    pub wait: SiteWait,
}

/// The enrolled seats' sites and host names, and the sites, as last read from the store.
#[derive(Default)]
struct Directory {
    read: Option<tokio::time::Instant>,
    seats: HashMap<String, (String, String)>,
    sites: Vec<crate::store::SiteRecord>,
}

/// The seats of one site as the wait counts them.
#[derive(Debug, Default)]
struct Tally {
    free: u32,
    busy: u32,
    next_free_at: Option<UtcMillis>,
    reserved: Vec<(String, String)>,
}

/// A seat with a visitor's session, which frees up at `end` (if it has a limit).
fn busy(tally: &mut Tally, end: Option<UtcMillis>) {
    tally.busy += 1;
    // To the next whole minute: the screens show minutes, and an end that moves by a few
    // milliseconds with each heartbeat must not send the wait to the whole site again.
    let end = end.map(|e| UtcMillis((e.0 + 59_999).div_euclid(60_000) * 60_000));
    if let Some(end) = end {
        tally.next_free_at = Some(tally.next_free_at.map_or(end, |n| n.min(end)));
    }
}

/// Counts one connected seat of a site, by its reported state and session end.
fn count(tally: &mut Tally, agent_id: &str, hostname: &str, state: &str, end: Option<UtcMillis>) {
    match state {
        "ready" => tally.free += 1,
        // A seat whose session runs under a device alarm still has its visitor.
        "in_session" | "ending" | "stepped_away" => busy(tally, end),
        "device_alarm" if end.is_some() => busy(tally, end),
        "supervised" => tally
            .reserved
            .push((agent_id.to_string(), hostname.to_string())),
        _ => {}
    }
}

/// The permanence holding `seat` at `at`, and until when, from the site's model.
fn permanence_of(model: &SiteSchedule, seat: &str, at: UtcMillis) -> Option<(String, UtcMillis)> {
    // A window of a day: the slot's end is its own, not the window's.
    let slots = compile_between(model, seat, at, UtcMillis(at.0 + 86_400_000)).ok()?;
    let slot = slots.into_iter().find(|s| s.start <= at && at < s.end)?;
    let name = slot.permanence.map(|p| p.name).unwrap_or_default();
    Some((name, slot.end))
}

impl Controller {
    /// A site's wait as last computed (from memory), if the site has connected seats.
    pub fn site_wait(&self, site_id: &str) -> Option<SiteWaitView> {
        self.inner
            .waits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(site_id)
            .cloned()
    }

    /// Computes every site's wait now, from memory (the connected seats, their states and
    /// session ends), the seat directory (read again from the store when older than
    /// [`MODEL_KEPT`] or when a connected seat is not in it: a new enrollment) and the
    /// models older than [`MODEL_KEPT`] in `models`.
    /// Also returns each site's connected seats that can show the wait (those without a
    /// visitor's session: a busy seat gets it when its session ends).
    async fn compute_waits(
        &self,
        models: &mut HashMap<String, (tokio::time::Instant, Option<SiteSchedule>)>,
        directory: &mut Directory,
    ) -> (
        HashMap<String, SiteWaitView>,
        HashMap<String, HashSet<String>>,
    ) {
        let at = now();
        let live = self.connected_ids();
        let stale = directory
            .read
            .is_none_or(|read| read.elapsed() >= MODEL_KEPT)
            || live.iter().any(|id| !directory.seats.contains_key(id));
        if stale {
            let Ok(overview) = self.store().overview().await else {
                return Default::default();
            };
            directory.seats = overview
                .into_iter()
                .filter(|o| o.agent.revoked_at.is_none())
                .map(|o| (o.agent.id, (o.agent.site_id, o.agent.hostname)))
                .collect();
            directory.sites = match self.store().sites().await {
                Ok(sites) => sites,
                Err(_) => return Default::default(),
            };
            directory.read = Some(tokio::time::Instant::now());
        }
        let mut connected: HashMap<String, HashSet<String>> = HashMap::new();
        let states = self.live_seat_states();
        let ends = self.live_session_ends();
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        for id in &live {
            let Some((site_id, hostname)) = directory.seats.get(id) else {
                continue;
            };
            let state = states.get(id);
            if !state
                .is_some_and(|s| matches!(s.as_str(), "in_session" | "ending" | "stepped_away"))
            {
                connected
                    .entry(site_id.clone())
                    .or_default()
                    .insert(id.clone());
            }
            let Some(state) = state else {
                continue;
            };
            count(
                tallies.entry(site_id.clone()).or_default(),
                id,
                hostname,
                state,
                ends.get(id).copied(),
            );
        }
        let sites = directory.sites.clone();
        let mut out = HashMap::new();
        for site in sites {
            let Some(tally) = tallies.remove(&site.id) else {
                continue;
            };
            let fresh = models
                .get(&site.id)
                .is_some_and(|(read, _)| read.elapsed() < MODEL_KEPT);
            if !fresh {
                let model = self.site_model(&site.id).await.ok().flatten().map(|m| m.0);
                models.insert(site.id.clone(), (tokio::time::Instant::now(), model));
            }
            let model = models.get(&site.id).and_then(|(_, m)| m.as_ref());
            let mut reserved: Vec<ReservedSeat> = tally
                .reserved
                .iter()
                .take(MAX_RESERVED_SEATS)
                .map(|(id, hostname)| {
                    let held = model.and_then(|m| permanence_of(m, id, at));
                    ReservedSeat {
                        seat: hostname.clone(),
                        permanence: held.as_ref().map(|h| h.0.clone()).unwrap_or_default(),
                        until: held.map(|h| h.1),
                    }
                })
                .collect();
            reserved.sort_by(|a, b| a.seat.cmp(&b.seat));
            out.insert(
                site.id.clone(),
                SiteWaitView {
                    site_name: site.name,
                    time_zone: site.time_zone,
                    room_display: model.is_some_and(|m| m.room_display),
                    wait: SiteWait {
                        at,
                        free_seats: tally.free,
                        busy_seats: tally.busy,
                        next_free_at: tally.next_free_at,
                        reserved,
                    },
                },
            );
        }
        (out, connected)
    }

    /// Sends each connected seat of `site_id` the site's wait (pushes only queue);
    /// returns the seats it was queued for.
    fn push_wait(&self, site_id: &str, seats: &[String], wait: &SiteWait) -> Vec<String> {
        let Ok(frame) =
            crate::seat_link::SeatTx::encode(&ControllerMessage::SiteWait(wait.clone()))
        else {
            return Vec::new();
        };
        let mut queued = Vec::new();
        for seat in seats {
            if let Some(tx) = self.live_sender(seat) {
                match tx.push_frame(frame.clone()) {
                    Ok(()) => queued.push(seat.clone()),
                    Err(e) => self.push_failed(seat, &e),
                }
            }
        }
        tracing::debug!(site = %site_id, free = wait.free_seats, busy = wait.busy_seats, "site wait pushed");
        queued
    }

    /// The task that follows the seats' changes and keeps the waits (see the module).
    pub(crate) fn spawn_wait_keeper(&self) -> tokio::task::JoinHandle<()> {
        let c = self.clone();
        tokio::spawn(async move {
            let mut changes = c.seat_changes();
            let mut models = HashMap::new();
            let mut directory = Directory::default();
            // Per site: the wait last sent (without its instant) and the seats that have it.
            let mut sent: HashMap<String, (SiteWait, HashSet<String>)> = HashMap::new();
            let mut resend = tokio::time::Instant::now();
            loop {
                let (waits, connected) = c.compute_waits(&mut models, &mut directory).await;
                // Once a minute every seat is sent it again (one that reconnected within a
                // round may have missed it).
                if resend.elapsed() >= Duration::from_secs(60) {
                    sent.clear();
                    resend = tokio::time::Instant::now();
                }
                sent.retain(|site, _| waits.contains_key(site));
                for (site, view) in &waits {
                    let mut unstamped = view.wait.clone();
                    unstamped.at = UtcMillis(0);
                    let seats = connected.get(site).cloned().unwrap_or_default();
                    let entry = sent
                        .entry(site.clone())
                        .or_insert_with(|| (unstamped.clone(), HashSet::new()));
                    if entry.0 != unstamped {
                        entry.0 = unstamped;
                        entry.1.clear();
                    }
                    entry.1.retain(|s| seats.contains(s));
                    let new: Vec<String> =
                        seats.into_iter().filter(|s| !entry.1.contains(s)).collect();
                    if !new.is_empty() {
                        // Only the seats it was queued for count as having it: one whose
                        // queue was full, or not yet connected here, gets it next round.
                        let queued = c.push_wait(site, &new, &view.wait);
                        entry.1.extend(queued);
                    }
                }
                *c.inner.waits.lock().unwrap_or_else(|p| p.into_inner()) = waits;
                tokio::time::sleep(WAIT_EVERY).await;
                let _ = tokio::time::timeout(Duration::from_secs(60), changes.changed()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_busy_and_reserved_seats_are_counted_and_the_first_end_kept() {
        let mut t = Tally::default();
        count(&mut t, "a", "pc01", "ready", None);
        count(&mut t, "b", "pc02", "in_session", Some(UtcMillis(180_000)));
        count(&mut t, "c", "pc03", "stepped_away", Some(UtcMillis(60_001)));
        count(&mut t, "d", "pc04", "in_session", None);
        count(&mut t, "e", "pc05", "supervised", None);
        count(&mut t, "f", "pc06", "blocked", None);
        count(&mut t, "g", "pc07", "device_alarm", None);
        count(
            &mut t,
            "h",
            "pc08",
            "device_alarm",
            Some(UtcMillis(300_000)),
        );
        assert_eq!((t.free, t.busy), (1, 4));
        // The first end, up to the next whole minute.
        assert_eq!(t.next_free_at, Some(UtcMillis(120_000)));
        assert_eq!(t.reserved, vec![("e".to_string(), "pc05".to_string())]);
    }
}
