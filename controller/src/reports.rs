//! Usage figures for staff and the FEDER evidence: per site and permanence over a period,
//! and per funded computer. Every figure carries the method that produced it, written next
//! to it in the CSV exports.

use std::collections::BTreeMap;

use commune_protocol::messages::SlotKind;
use commune_protocol::slots::compile_between;
use commune_protocol::UtcMillis;

use crate::csv::CsvWriter;
use crate::{Controller, ControllerError};

/// How each figure is computed (French: it goes in the exports staff hand over).
pub const METHODS: &[(&str, &str)] = &[
    ("sessions", "sessions ouvertes pendant la période (journal technique des postes)"),
    ("heures_utilisees", "somme des durées des sessions, mesurées par l'horloge monotone des postes"),
    ("heures_disponibles", "heures en accès libre ou en permanence selon le planning actuel du site, pour chaque poste"),
    ("occupation", "heures utilisées / heures disponibles"),
    ("disponibilite", "part de la période où le poste fonctionnait : mesures de santé reçues × intervalle des mesures / durée de la période"),
    ("libre_accompagne", "sessions en accès libre / sessions en permanence (accompagnées)"),
    ("echecs_effacement", "rapports d'effacement non vérifiés reçus pendant la période"),
    ("personnes_recues", "saisies des médiateurs à la fin de chaque permanence (comptes, sans nom ; une personne venue deux fois compte deux fois)"),
    ("categories", "catégories de démarches de la liste nationale des rapports d'activité des médiateurs, saisies avec les personnes reçues"),
];

/// The procedure categories of the national mediators' activity reports (closed list), with
/// the label staff read.
pub const PROCEDURE_CATEGORIES: &[(&str, &str)] = &[
    (
        "aide_aux_demarches_administratives",
        "Aide aux démarches administratives",
    ),
    (
        "papiers_elections_citoyennete",
        "Papiers, élections, citoyenneté",
    ),
    ("famille_scolarite", "Famille, scolarité"),
    ("social_sante", "Social, santé"),
    ("travail_formation", "Travail, formation"),
    ("logement", "Logement"),
    ("transports_mobilite", "Transports, mobilité"),
    ("argent_impots", "Argent, impôts"),
    ("justice", "Justice"),
    ("etrangers_europe", "Étrangers, Europe"),
    ("loisirs_sports_culture", "Loisirs, sports, culture"),
    ("associations", "Associations"),
];

/// One line of the site report: a permanence, or free access.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsageLine {
    /// `libre` or the permanence id (`accompagne` for supervised sessions outside one).
    pub key: String,
    /// Sessions started in the period.
    pub sessions: u64,
    /// Of which supervised.
    pub supervised: u64,
    /// Hours used (sum of session lengths).
    pub hours_used: f64,
    /// People received, as the permanence's counters say.
    pub people: u64,
    /// Procedure categories and their counts.
    pub categories: BTreeMap<String, u64>,
}

/// One funded computer's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeatLine {
    /// Agent id.
    pub agent_id: String,
    /// Host name.
    pub hostname: String,
    /// Asset tag (FEDER inventory).
    pub asset_tag: Option<String>,
    /// Sessions started.
    pub sessions: u64,
    /// Hours available (free or supervised slots of its schedule).
    pub hours_available: f64,
    /// Hours used.
    pub hours_used: f64,
    /// Wipes that did not verify.
    pub wipe_failures: u64,
    /// Share of the period the computer was up and reporting (0 to 1).
    pub availability: f64,
    /// Last contact.
    pub last_seen: Option<UtcMillis>,
}

/// A site's report over a period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SiteReport {
    /// Per permanence (and free access).
    pub lines: Vec<UsageLine>,
    /// Per computer.
    pub seats: Vec<SeatLine>,
}

impl SiteReport {
    /// Hours available over every seat.
    pub fn hours_available(&self) -> f64 {
        self.seats.iter().map(|s| s.hours_available).sum()
    }

    /// Hours used over every seat.
    pub fn hours_used(&self) -> f64 {
        self.seats.iter().map(|s| s.hours_used).sum()
    }

    /// The per-permanence report as CSV (`;`-separated, decimal comma: opens as is in
    /// French spreadsheets), with the method of each column at the end. Written by the one
    /// [`CsvWriter`]: the permanence id comes from the seats.
    pub fn lines_csv(&self, site: &str, from: UtcMillis, to: UtcMillis) -> String {
        let mut csv = CsvWriter::spreadsheet();
        csv.header(&[
            "site",
            "debut",
            "fin",
            "permanence",
            "sessions",
            "dont_accompagnees",
            "heures_utilisees",
        ]);
        for l in &self.lines {
            csv.text(site)
                .text(&from.to_string())
                .text(&to.to_string())
                .text(&l.key)
                .number(l.sessions)
                .number(l.supervised)
                .number(fr(l.hours_used))
                .end_row();
        }
        push_methods(&mut csv);
        csv.finish()
    }

    /// The per-computer report (FEDER durability evidence) as CSV. Host names and asset
    /// tags come from the seats: the [`CsvWriter`] keeps them from forging rows or formulas.
    pub fn seats_csv(&self, site: &str, from: UtcMillis, to: UtcMillis) -> String {
        let mut csv = CsvWriter::spreadsheet();
        csv.header(&[
            "site",
            "debut",
            "fin",
            "poste",
            "nom",
            "inventaire",
            "sessions",
            "heures_disponibles",
            "heures_utilisees",
            "occupation",
            "echecs_effacement",
            "vu_le",
            "disponibilite",
        ]);
        for s in &self.seats {
            csv.text(site)
                .text(&from.to_string())
                .text(&to.to_string())
                .text(&s.agent_id)
                .text(&s.hostname)
                .text(s.asset_tag.as_deref().unwrap_or_default())
                .number(s.sessions)
                .number(fr(s.hours_available))
                .number(fr(s.hours_used));
            if s.hours_available > 0.0 {
                csv.number(fr(s.hours_used / s.hours_available));
            } else {
                csv.empty();
            }
            csv.number(s.wipe_failures);
            match s.last_seen {
                Some(t) => csv.text(&t.to_string()),
                None => csv.empty(),
            };
            csv.number(fr(s.availability)).end_row();
        }
        push_methods(&mut csv);
        csv.finish()
    }
}

fn fr(v: f64) -> String {
    format!("{v:.2}").replace('.', ",")
}

fn push_methods(csv: &mut CsvWriter) {
    csv.end_row().text("# méthode").end_row();
    for (figure, method) in METHODS {
        csv.text(&format!("# {figure}")).text(method).end_row();
    }
}

impl Controller {
    /// Records what a permanence did on a local day: people received and procedure
    /// categories (from [`PROCEDURE_CATEGORIES`]). Counts only.
    pub async fn record_counters(
        &self,
        site_id: &str,
        permanence: &str,
        day: &str,
        people: u32,
        categories: &[(String, u32)],
        by: &str,
    ) -> Result<(), ControllerError> {
        let (model, _) = self.site_schedule(site_id).await?;
        let date: jiff::civil::Date = day.parse().map_err(|_| {
            ControllerError::Config(format!("« {day} » n'est pas une date (AAAA-MM-JJ)"))
        })?;
        let tz = jiff::tz::TimeZone::get(&model.time_zone)
            .map_err(|e| ControllerError::Config(e.to_string()))?;
        let day_start = date
            .to_zoned(tz)
            .map_err(|e| ControllerError::Config(e.to_string()))?
            .timestamp()
            .as_millisecond();
        if permanence.trim().is_empty() || people > 10_000 {
            return Err(ControllerError::Config(
                "permanence et nombre de personnes (0 à 10 000) requis".into(),
            ));
        }
        for (category, _) in categories {
            if !PROCEDURE_CATEGORIES.iter().any(|(k, _)| k == category) {
                return Err(ControllerError::Config(format!(
                    "catégorie inconnue : {category}"
                )));
            }
        }
        let categories: Vec<String> = categories
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        self.store()
            .add_counters(
                &crate::store::CounterRecord {
                    site_id: site_id.to_string(),
                    permanence: permanence.to_string(),
                    day: date.to_string(),
                    day_start: UtcMillis(day_start),
                    people,
                    categories: categories.join(";"),
                    recorded_by: by.to_string(),
                },
                crate::now(),
            )
            .await?;
        Ok(())
    }

    /// A site's usage over `[from, to)`.
    pub async fn site_report(
        &self,
        site_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<SiteReport, ControllerError> {
        let (model, _) = self.site_schedule(site_id).await?;
        let sessions: Vec<_> = self
            .store()
            .sessions(from, to)
            .await?
            .into_iter()
            .filter(|s| s.site_id == site_id)
            .collect();
        let mut lines: BTreeMap<String, UsageLine> = BTreeMap::new();
        let mut per_seat: BTreeMap<String, (u64, f64)> = BTreeMap::new();
        for s in &sessions {
            let hours = s.duration_secs.unwrap_or(0).max(0) as f64 / 3600.0;
            let key = match (s.slot_kind.as_str(), &s.permanence_id) {
                (_, Some(p)) => p.clone(),
                ("supervised", None) => crate::staff::OTHER_ACCOMPANIED.into(),
                _ => "libre".into(),
            };
            let line = lines.entry(key.clone()).or_insert_with(|| UsageLine {
                key,
                ..UsageLine::default()
            });
            line.sessions += 1;
            if s.slot_kind == "supervised" {
                line.supervised += 1;
            }
            line.hours_used += hours;
            let seat = per_seat.entry(s.agent_id.clone()).or_default();
            seat.0 += 1;
            seat.1 += hours;
        }
        for record in self.store().counters(site_id, from, to).await? {
            let line = lines
                .entry(record.permanence.clone())
                .or_insert_with(|| UsageLine {
                    key: record.permanence.clone(),
                    ..UsageLine::default()
                });
            line.people += u64::from(record.people);
            for pair in record.categories.split(';').filter(|p| !p.is_empty()) {
                if let Some((k, v)) = pair.split_once('=') {
                    *line.categories.entry(k.to_string()).or_default() +=
                        v.parse::<u64>().unwrap_or(0);
                }
            }
        }
        let overview = self.store().overview().await?;
        let mut seats = Vec::new();
        for o in overview.into_iter().filter(|o| o.agent.site_id == site_id) {
            let id = o.agent.id.clone();
            // Available: the free and supervised time of its schedule; a site without a
            // stored model is open all day.
            let available_ms: i64 = compile_between(&model, &id, from, to)
                .map(|slots| {
                    slots
                        .iter()
                        .filter(|s| s.kind != SlotKind::Closed)
                        .map(|s| s.end.0 - s.start.0)
                        .sum()
                })
                .unwrap_or(0);
            let (n, used) = per_seat.get(&id).copied().unwrap_or_default();
            let wipe_failures = self.store().wipe_failures(&id, from, to).await?;
            // Up and reporting: one health snapshot per interval; the period is counted up to
            // now when it has not ended.
            let until = to.min(crate::now());
            let snapshots = self.store().health_count_between(&id, from, until).await?;
            let interval_ms = i64::from(self.config().health_interval_secs.max(1)) * 1000;
            let span = (until.0 - from.0).max(1);
            let availability = (snapshots as f64 * interval_ms as f64 / span as f64).min(1.0);
            seats.push(SeatLine {
                agent_id: id,
                hostname: o.agent.hostname,
                asset_tag: o.asset_tag,
                sessions: n,
                hours_available: available_ms as f64 / 3_600_000.0,
                hours_used: used,
                wipe_failures,
                availability,
                last_seen: o.last_seen_at,
            });
        }
        Ok(SiteReport {
            lines: lines.into_values().collect(),
            seats,
        })
    }
}
