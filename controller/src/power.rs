//! Waking the seats: Wake-on-LAN from the controller.
//!
//! A seat that is off (no connection) is woken before its next opening: every
//! `[power] check_secs`, each site's model is compiled for the seats that are not
//! connected, and a seat whose next open slot starts within `wake_minutes_before_opening`
//! is sent a magic packet, once per opening, to each MAC address its last inventory gave
//! (closures and holidays are in the compiled schedule, so a closed day wakes nobody).
//! Staff can also wake a seat from the dashboard (`StaffApi::wake_seat`, audited). The
//! packet (six 0xFF bytes, then the MAC sixteen times) goes by UDP to
//! `[power] wake_on_lan`, normally the seats' subnet broadcast address, and a seat of the
//! same site that is awake is asked to send them on its own network too
//! (`CommandAction::WakeNeighbours`): the controller's broadcast rarely crosses routers.

use std::collections::HashMap;
use std::time::Duration;

use commune_protocol::messages::SlotKind;
use commune_protocol::slots::compile_between;
use commune_protocol::UtcMillis;

use crate::{now, Controller, ControllerError};

pub use commune_protocol::wol::magic_packet;

/// What waking a seat did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Woken {
    /// Magic packets the controller sent itself.
    pub packets: usize,
    /// The awake seat of the same site asked to send them on the sleeping seat's network.
    pub relayed_by: Option<String>,
}

impl Controller {
    /// Wakes `agent_id`: a magic packet to every MAC address its last inventory gave, sent
    /// by the controller to `[power] wake_on_lan` (when set) and relayed by a seat of the
    /// same site that is connected now (`WakeNeighbours`), whose packets reach the sleeping
    /// seat's network even where the controller's do not. An error when neither can be
    /// done, or the seat's inventory has no MAC address.
    pub async fn wake_seat(&self, agent_id: &str) -> Result<Woken, ControllerError> {
        let target = self.config().power.wake_on_lan.trim().to_string();
        let macs: Vec<String> = self
            .store()
            .inventory(agent_id)
            .await?
            .map(|i| i.mac_addresses)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| magic_packet(m).is_some())
            .take(commune_protocol::wol::MAX_WAKE_MACS)
            .collect();
        if macs.is_empty() {
            return Err(ControllerError::Config(format!(
                "no MAC address is known for {agent_id}: its inventory has none yet"
            )));
        }
        let relay = self.wake_relay(agent_id).await;
        if target.is_empty() && relay.is_none() {
            return Err(ControllerError::Config(
                "Wake-on-LAN is off ([power] wake_on_lan is empty) and no seat of its site is awake to relay it".into(),
            ));
        }
        let mut sent = 0;
        if !target.is_empty() {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:0")
                .await
                .map_err(|e| ControllerError::Config(format!("Wake-on-LAN socket: {e}")))?;
            socket
                .set_broadcast(true)
                .map_err(|e| ControllerError::Config(format!("Wake-on-LAN broadcast: {e}")))?;
            for packet in macs.iter().filter_map(|m| magic_packet(m)) {
                match socket.send_to(&packet, &target).await {
                    Ok(_) => sent += 1,
                    Err(e) => {
                        tracing::warn!(agent = %agent_id, error = %e, %target, "magic packet not sent")
                    }
                }
            }
            self.metrics().wake_sent(sent);
        }
        let mut relayed_by = None;
        if let Some(relay) = relay {
            let action = commune_protocol::messages::CommandAction::WakeNeighbours { macs };
            match self.send_command(&relay, action, "controller").await {
                Ok(_) => relayed_by = Some(relay),
                Err(e) => {
                    tracing::warn!(agent = %agent_id, relay = %relay, error = %e, "Wake-on-LAN relay not asked")
                }
            }
        }
        tracing::info!(agent = %agent_id, packets = sent, relayed_by = ?relayed_by, "Wake-on-LAN sent");
        Ok(Woken {
            packets: sent,
            relayed_by,
        })
    }

    /// A seat of `agent_id`'s site connected to this controller now (the first by id), to
    /// relay its magic packets.
    async fn wake_relay(&self, agent_id: &str) -> Option<String> {
        let site = self.store().agent(agent_id).await.ok().flatten()?.site_id;
        let fleet = self.fleet().await.ok()?;
        let mut awake: Vec<String> = fleet
            .iter()
            .filter(|a| a.connected && a.overview.agent.revoked_at.is_none())
            .filter(|a| a.overview.agent.site_id == site && a.overview.agent.id != agent_id)
            .map(|a| a.overview.agent.id.clone())
            .collect();
        awake.sort();
        awake.into_iter().next()
    }

    /// The seats that are off and open within the wake window, with the opening's start.
    async fn seats_to_wake(&self, at: UtcMillis) -> Vec<(String, UtcMillis)> {
        let window = i64::from(self.config().power.wake_minutes_before_opening) * 60_000;
        let Ok(fleet) = self.fleet().await else {
            return Vec::new();
        };
        let mut models = HashMap::new();
        let mut out = Vec::new();
        for a in fleet
            .iter()
            .filter(|a| !a.connected && a.overview.agent.revoked_at.is_none())
        {
            let agent = &a.overview.agent;
            if !models.contains_key(&agent.site_id) {
                let model = self
                    .site_model(&agent.site_id)
                    .await
                    .ok()
                    .flatten()
                    .map(|m| m.0);
                models.insert(agent.site_id.clone(), model);
            }
            // A site without a schedule is open all the time: nothing to wake for.
            let Some(Some(model)) = models.get(&agent.site_id) else {
                continue;
            };
            let Ok(slots) = compile_between(model, &agent.id, at, UtcMillis(at.0 + window)) else {
                continue;
            };
            let now_open = slots
                .iter()
                .any(|s| s.start <= at && at < s.end && s.kind != SlotKind::Closed);
            let opening = slots
                .iter()
                .find(|s| s.kind != SlotKind::Closed && s.start > at)
                .map(|s| s.start);
            if let (false, Some(opening)) = (now_open, opening) {
                out.push((agent.id.clone(), opening));
            }
        }
        out
    }

    /// The task that wakes the seats before their opening (see the module).
    pub(crate) fn spawn_waker(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.config().power.wake_on_lan.trim().is_empty() {
            return None;
        }
        let c = self.clone();
        Some(tokio::spawn(async move {
            let every = Duration::from_secs(c.config().power.check_secs.max(1));
            // Which opening each seat was woken for, so that it is woken once.
            let mut woken: HashMap<String, UtcMillis> = HashMap::new();
            loop {
                tokio::time::sleep(every).await;
                let at = now();
                for (seat, opening) in c.seats_to_wake(at).await {
                    if woken.get(&seat) == Some(&opening) {
                        continue;
                    }
                    match c.wake_seat(&seat).await {
                        Ok(_) => {
                            woken.insert(seat, opening);
                        }
                        Err(e) => tracing::debug!(%seat, error = %e, "not woken"),
                    }
                }
                woken.retain(|_, opening| opening.0 > at.0);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_magic_packet_is_six_ff_then_the_mac_sixteen_times() {
        let p = magic_packet("52:54:00:12:34:56").unwrap();
        assert_eq!(&p[..6], &[0xFF; 6]);
        for i in 0..16 {
            assert_eq!(
                &p[6 + 6 * i..12 + 6 * i],
                &[0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
            );
        }
        assert_eq!(magic_packet("52-54-00-12-34-56"), Some(p));
        assert_eq!(magic_packet("00:00:00:00:00:00"), None);
        assert_eq!(magic_packet("52:54:00:12:34"), None);
        assert_eq!(magic_packet("52:54:00:12:34:5g"), None);
        assert_eq!(magic_packet("525:4:00:12:34:56"), None);
    }
}
