//! What IT and staff must look at now: seats offline while their site is open, wipes that
//! did not verify, disks or outboxes filling (reported by the agents), certificates close
//! to expiry, blocked seats.

use commune_protocol::messages::SlotKind;
use commune_protocol::slots::compile_between;
use commune_protocol::UtcMillis;

use crate::{now, Controller, ControllerError};

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetAlert {
    /// The seat.
    pub agent_id: String,
    /// Its site.
    pub site_id: String,
    /// Its host name.
    pub hostname: String,
    /// `offline_while_open`, `wipe_failed`, `disk_full`, `outbox_filling`,
    /// `ticket_double_use`, `certificate_expiring`, `blocked`, `device_alarm`.
    pub kind: String,
    /// A sentence in French for the dashboard.
    pub message: String,
}

/// Certificates closer than this to their end are flagged.
const CERT_WARNING_MS: i64 = 14 * 86_400_000;
/// Agents' alerts are shown this long.
const AGENT_ALERT_MS: i64 = 24 * 3_600_000;

fn french(kind: &str) -> &'static str {
    match kind {
        "wipe_failed" => "effacement non vérifié : poste bloqué",
        "disk_full" => "disque presque plein",
        "outbox_filling" => "file d'événements presque pleine (contrôleur injoignable ?)",
        "ticket_double_use" => "ticket utilisé deux fois hors ligne",
        _ => "alerte du poste",
    }
}

impl Controller {
    /// Alerts for every seat now.
    pub async fn fleet_alerts(&self) -> Result<Vec<FleetAlert>, ControllerError> {
        let at = now();
        let fleet = self.fleet().await?;
        let live = self.live_seat_states();
        let recent = self
            .store()
            .recent_alerts(UtcMillis(at.0 - AGENT_ALERT_MS))
            .await?;
        let disks = self
            .store()
            .latest_disks_since(UtcMillis(at.0 - AGENT_ALERT_MS))
            .await?;
        let mut models = std::collections::HashMap::new();
        let mut out = Vec::new();
        for a in fleet {
            let agent = &a.overview.agent;
            if agent.revoked_at.is_some() {
                continue;
            }
            let alert = |kind: &str, message: String| FleetAlert {
                agent_id: agent.id.clone(),
                site_id: agent.site_id.clone(),
                hostname: agent.hostname.clone(),
                kind: kind.to_string(),
                message,
            };
            if !a.connected {
                if !models.contains_key(&agent.site_id) {
                    let model = self.site_schedule(&agent.site_id).await.ok().map(|m| m.0);
                    models.insert(agent.site_id.clone(), model);
                }
                let open = models
                    .get(&agent.site_id)
                    .and_then(Option::as_ref)
                    .and_then(|m| compile_between(m, &agent.id, at, UtcMillis(at.0 + 60_000)).ok())
                    .is_some_and(|slots| slots.iter().any(|s| s.kind != SlotKind::Closed));
                if open {
                    out.push(alert(
                        "offline_while_open",
                        format!(
                            "hors ligne pendant les heures d'ouverture (vu pour la dernière fois {})",
                            a.overview
                                .last_seen_at
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "jamais".into())
                        ),
                    ));
                }
            }
            // A disk more than 90 % full in the latest health snapshot.
            if let Some(json) = disks.get(&agent.id) {
                let disks: Vec<commune_protocol::health::DiskUsage> =
                    serde_json::from_str(json).unwrap_or_default();
                for d in disks
                    .iter()
                    .filter(|d| d.total_bytes > 0 && d.available_bytes * 10 < d.total_bytes)
                {
                    out.push(alert(
                        "disk_full",
                        format!(
                            "disque {} presque plein ({} % libre)",
                            d.mount_point,
                            d.available_bytes * 100 / d.total_bytes
                        ),
                    ));
                }
            }
            if live.get(&agent.id).map(String::as_str) == Some("blocked") {
                out.push(alert(
                    "blocked",
                    "poste bloqué après un effacement non vérifié : appeler l'informatique".into(),
                ));
            }
            // A device alarm shows while the seat is locked by it, not for a day after.
            if live.get(&agent.id).map(String::as_str) == Some("device_alarm") {
                out.push(alert(
                    "device_alarm",
                    "appareil branché depuis la dernière vérification : poste verrouillé, \
                     aller voir le câble et le clavier, puis déverrouiller depuis la page du poste"
                        .into(),
                ));
            }
            if agent.cert_not_after.0 - at.0 < CERT_WARNING_MS {
                out.push(alert(
                    "certificate_expiring",
                    format!(
                        "certificat valable jusqu'au {} : ré-enrôler le poste",
                        agent.cert_not_after
                    ),
                ));
            }
            for (agent_id, kind, _) in &recent {
                if agent_id == &agent.id && kind != "device_attached" {
                    out.push(alert(kind, french(kind).to_string()));
                }
            }
        }
        out.dedup();
        Ok(out)
    }
}
