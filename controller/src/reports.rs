//! Usage figures for staff and the FEDER evidence: per site and permanence over a period,
//! and per funded computer. Every figure carries the method that produced it, written next
//! to it in the CSV exports.
//!
//! A session is counted from one of two sources, never both: the session log while it is
//! kept (`session_log_days`), then the anonymous daily aggregates per seat the purge folds
//! it into, in the same transaction that removes it from the log. A report sums both and
//! says which days came from which ([`SiteReport::sources`]).

use std::collections::BTreeMap;

use commune_protocol::messages::SlotKind;
use commune_protocol::slots::compile_between;
use commune_protocol::UtcMillis;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::csv::CsvWriter;
use crate::{Controller, ControllerError};

/// How each figure is computed (French: it goes in the exports staff hand over).
pub const METHODS: &[(&str, &str)] = &[
    ("sessions", "sessions ouvertes pendant la période (journal technique des postes ; au-delà de sa durée de conservation, agrégats quotidiens anonymes par poste)"),
    ("heures_utilisees", "somme des durées des sessions, mesurées par l'horloge monotone des postes"),
    ("heures_disponibles", "heures en accès libre ou en permanence selon le planning actuel du site, pour chaque poste"),
    ("occupation", "heures utilisées / heures disponibles"),
    ("disponibilite", "part des heures d'ouverture du poste (créneaux libres ou accompagnés) pendant lesquelles il a envoyé au moins une mesure de santé ; toutes les heures de la période pour un poste jamais ouvert"),
    ("heures_allumees", "heures de la période (jusqu'à maintenant) pendant lesquelles le poste a envoyé au moins une mesure de santé, qu'il soit ouvert ou non : un poste allumé en envoie une par minute ; un poste en veille ou éteint après la fermeture n'en envoie pas"),
    ("pages_imprimees", "pages envoyées à l'imprimante depuis les sessions du poste pendant la période, comptées par le poste avant l'impression (pages du document PDF × copies) et confirmées par le visiteur ou lancées par l'équipe ; une impression dont les pages n'ont pas pu être comptées compte 0 ; d'après les événements du poste, gardés comme le journal technique (un an)"),
    ("pages_lancees_par_equipe", "parmi les pages imprimées, celles d'impressions au-delà des pages gratuites (ou non comptées) que l'équipe a lancées depuis la page du poste"),
    ("libre_accompagne", "sessions en accès libre / sessions en permanence (accompagnées)"),
    ("echecs_effacement", "rapports d'effacement non vérifiés reçus pendant la période"),
    ("personnes_recues", "saisies des médiateurs à la fin de chaque permanence (comptes, sans nom ; une personne venue deux fois compte deux fois)"),
    ("categories", "thématiques et démarches de La Coop de la médiation numérique (liste actuelle), en nombre de personnes, saisies avec les personnes reçues ; une colonne par clé de La Coop"),
];

/// How each chart of the report page is computed (French), written beside it.
pub const CHART_METHODS: &[(&str, &str)] = &[
    ("occupation_horaire", "pour chaque jour de la semaine et chaque heure locale : heures-postes utilisées par les sessions / heures-postes ouvertes (accès libre ou permanence) selon le planning actuel, sur la période ; sessions du journal technique seulement (les agrégats quotidiens n'ont pas d'heure)"),
    ("sessions_par_mois", "sessions ouvertes chaque mois local, sur les douze mois qui finissent avec la période (journal technique et agrégats quotidiens anonymes)"),
    ("appels_mediateur", "appels à un médiateur passés depuis les écrans des visiteurs, comptés une fois chacun à leur arrivée, par heure locale du site sur la période, par besoin choisi (impression, compte ou mot de passe, formulaire, autre) ; comptes anonymes : ni poste, ni session, ni visiteur"),
];

/// The themes of an activity in La Coop de la médiation numérique (the national mediators'
/// tool), current list, with the label staff read. `aide_aux_demarches_administratives` is
/// one of them; its sub-themes are [`COOP_PROCEDURES`].
pub const COOP_THEMES: &[(&str, &str)] = &[
    ("diagnostic_numerique", "Diagnostic numérique"),
    ("prendre_en_main_du_materiel", "Prendre en main du matériel"),
    ("maintenance_de_materiel", "Maintenance de matériel"),
    ("navigation_sur_internet", "Navigation sur internet"),
    ("email", "E-mail"),
    ("bureautique", "Bureautique"),
    ("reseaux_sociaux", "Réseaux sociaux"),
    ("sante", "Santé"),
    ("banque_et_achats_en_ligne", "Banque et achats en ligne"),
    ("entrepreneuriat", "Entrepreneuriat"),
    ("insertion_professionnelle", "Insertion professionnelle"),
    ("securite_numerique", "Sécurité numérique"),
    ("parentalite", "Parentalité"),
    ("scolarite_et_numerique", "Scolarité et numérique"),
    ("creer_avec_le_numerique", "Créer avec le numérique"),
    ("culture_numerique", "Culture numérique"),
    ("intelligence_artificielle", "Intelligence artificielle"),
    (
        "gere_ses_contenus_numeriques",
        "Gérer ses contenus numériques",
    ),
    (
        "aide_aux_demarches_administratives",
        "Aide aux démarches administratives",
    ),
];

/// The sub-themes of `aide_aux_demarches_administratives` in La Coop (the procedures), with
/// the label staff read.
pub const COOP_PROCEDURES: &[(&str, &str)] = &[
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

/// Every category a permanence's counters may name, in the Coop's keys: its themes, then
/// the procedures. Counters recorded before the themes were added used the procedures and
/// `aide_aux_demarches_administratives` only, all of which keep their key and meaning.
pub fn coop_categories() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    COOP_THEMES.iter().chain(COOP_PROCEDURES)
}

/// A category's label for staff (French), from its Coop key.
pub fn category_label(key: &str) -> Option<&'static str> {
    coop_categories().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// What the daily aggregates cannot tell (French: it goes in the exports and on the page).
pub const AGGREGATES_LIMITS: &str = "comptes anonymes par poste et par jour : sans détail par permanence (les sessions accompagnées comptent dans « accompagne », les autres dans « libre », les heures réparties entre les deux au prorata des sessions) ni échecs d'effacement";

/// Where the figures of a part of the period come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The session log: one row per session, with its permanence; wipe reports beside it.
    SessionLog,
    /// The anonymous daily aggregates per seat that sessions past the log's period become:
    /// sessions, of which supervised, and seconds used, per seat and local day.
    DailyAggregates,
    /// No session at all in the period, from either source.
    NoData,
}

impl SourceKind {
    /// Its name for staff (French; the dashboard translates it).
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::SessionLog => "journal des sessions",
            SourceKind::DailyAggregates => "agrégats quotidiens anonymes",
            SourceKind::NoData => "aucune session enregistrée",
        }
    }

    /// What figures from this source lack, if anything (French).
    pub fn limits(self) -> Option<&'static str> {
        match self {
            SourceKind::DailyAggregates => Some(AGGREGATES_LIMITS),
            SourceKind::SessionLog | SourceKind::NoData => None,
        }
    }
}

/// A part of a report's period, in local days of the site, and the source of its sessions.
///
/// Parts follow each other in time; each groups consecutive days with the same source. A
/// day whose sessions are partly in each source (the purge ran during it) ends the
/// aggregates' part and starts the log's. A day without any session belongs to the part
/// before it (the first days of the period, to the part after them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSource {
    /// The source.
    pub kind: SourceKind,
    /// First local day of the part.
    pub first_day: Date,
    /// Last local day of the part, included.
    pub last_day: Date,
}

impl ReportSource {
    /// The part in a sentence (French, ISO dates), with what its source lacks.
    pub fn describe(&self) -> String {
        let days = if self.first_day == self.last_day {
            format!("le {}", self.first_day)
        } else {
            format!("du {} au {}", self.first_day, self.last_day)
        };
        match self.kind.limits() {
            Some(limits) => format!("{} {days} ({limits})", self.kind.label()),
            None => format!("{} {days}", self.kind.label()),
        }
    }
}

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
    /// Hours of the period (up to now) in which it was on (it reported), open or not.
    pub hours_powered: f64,
    /// Pages printed from its sessions (confirmed by visitors or released by staff).
    pub pages_printed: u64,
    /// Of which released by staff (beyond the free pages, or uncounted).
    pub pages_released_by_staff: u64,
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
    /// Where the sessions of each part of the period come from, oldest first (empty for
    /// an empty period).
    pub sources: Vec<ReportSource>,
    /// Occupancy by weekday (Monday first) and local hour: seat-hours used and seat-hours
    /// open in each cell, over the period (used from the session log only: the daily
    /// aggregates have no hours).
    pub heat: Heat,
}

/// Seat-hours used and open per weekday (Monday first) and local hour of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Heat {
    /// Seat-hours used, `[weekday][hour]`.
    pub used: [[f64; 24]; 7],
    /// Seat-hours open (free or supervised slots), `[weekday][hour]`.
    pub open: [[f64; 24]; 7],
}

impl Default for Heat {
    fn default() -> Self {
        Heat {
            used: [[0.0; 24]; 7],
            open: [[0.0; 24]; 7],
        }
    }
}

impl Heat {
    /// Adds `[start, end)` to `cells`, split by local hour. The UTC offset at `start` holds
    /// for the whole span (sessions and slots do not straddle a clock change by much).
    fn add(cells: &mut [[f64; 24]; 7], start: UtcMillis, end: UtcMillis, tz: &TimeZone) {
        let Ok(ts) = jiff::Timestamp::from_millisecond(start.0) else {
            return;
        };
        let offset = i64::from(tz.to_offset(ts).seconds()) * 1000;
        let mut t = start.0 + offset;
        let last = end.0 + offset;
        while t < last {
            let hour_end = (t.div_euclid(3_600_000) + 1) * 3_600_000;
            let piece = hour_end.min(last) - t;
            let day = t.div_euclid(86_400_000);
            // 1970-01-01 was a Thursday: Monday is 0.
            let weekday = (day + 3).rem_euclid(7) as usize;
            let hour = (t.rem_euclid(86_400_000) / 3_600_000) as usize;
            cells[weekday][hour] += piece as f64 / 3_600_000.0;
            t = hour_end;
        }
    }

    /// Used over open in a cell, when the cell was ever open.
    pub fn share(&self, weekday: usize, hour: usize) -> Option<f64> {
        let open = self.open[weekday][hour];
        (open > 0.0).then(|| (self.used[weekday][hour] / open).clamp(0.0, 1.0))
    }
}

/// One month of a site's trend.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonthLine {
    /// `YYYY-MM`, local.
    pub month: String,
    /// Sessions started.
    pub sessions: u64,
    /// Of which supervised.
    pub supervised: u64,
    /// Hours used.
    pub hours_used: f64,
}

impl SiteReport {
    /// Pages printed at the site's seats, and of them the pages staff released.
    pub fn pages_printed(&self) -> (u64, u64) {
        self.seats.iter().fold((0, 0), |(all, staff), s| {
            (all + s.pages_printed, staff + s.pages_released_by_staff)
        })
    }

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
        let columns = [
            "site",
            "debut",
            "fin",
            "permanence",
            "sessions",
            "dont_accompagnees",
            "heures_utilisees",
        ];
        // Then the people received and one column per La Coop category, by its key.
        let header: Vec<&str> = columns
            .iter()
            .copied()
            .chain(["personnes_recues"])
            .chain(coop_categories().map(|(k, _)| *k))
            .collect();
        csv.header(&header);
        for l in &self.lines {
            csv.text(site)
                .text(&from.to_string())
                .text(&to.to_string())
                .text(&l.key)
                .number(l.sessions)
                .number(l.supervised)
                .number(fr(l.hours_used))
                .number(l.people);
            for (key, _) in coop_categories() {
                csv.number(l.categories.get(*key).copied().unwrap_or(0));
            }
            csv.end_row();
        }
        push_methods(&mut csv, &self.sources);
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
            "heures_allumees",
            "pages_imprimees",
            "pages_lancees_par_equipe",
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
            csv.number(fr(s.availability))
                .number(fr(s.hours_powered))
                .number(s.pages_printed)
                .number(s.pages_released_by_staff)
                .end_row();
        }
        push_methods(&mut csv, &self.sources);
        csv.finish()
    }
}

fn fr(v: f64) -> String {
    format!("{v:.2}").replace('.', ",")
}

fn push_methods(csv: &mut CsvWriter, sources: &[ReportSource]) {
    csv.end_row().text("# méthode").end_row();
    for (figure, method) in METHODS {
        csv.text(&format!("# {figure}")).text(method).end_row();
    }
    for source in sources {
        csv.text("# source").text(&source.describe()).end_row();
    }
}

/// Which sources a local day's sessions came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DaySources {
    log: bool,
    aggregates: bool,
}

/// The parts of the period `first_day..=last_day` by source (see [`ReportSource`]), from
/// the days that had sessions.
fn source_parts(
    first_day: Date,
    last_day: Date,
    days: &BTreeMap<Date, DaySources>,
) -> Vec<ReportSource> {
    fn push(parts: &mut Vec<ReportSource>, kind: SourceKind, first_day: Date, last_day: Date) {
        match parts.last_mut() {
            Some(last)
                if last.kind == kind
                    && last.last_day.tomorrow().map_or(true, |d| d >= first_day) =>
            {
                last.last_day = last.last_day.max(last_day);
            }
            _ => parts.push(ReportSource {
                kind,
                first_day,
                last_day,
            }),
        }
    }
    if first_day > last_day {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut used = days
        .range(first_day..=last_day)
        .filter(|(_, u)| u.log || u.aggregates)
        .peekable();
    let mut start = first_day;
    while let Some((&day, &u)) = used.next() {
        let next = used.peek().map(|(&next, _)| next);
        let end = next.map(|d| d.yesterday().unwrap_or(d)).unwrap_or(last_day);
        match (u.aggregates, u.log) {
            (true, true) => {
                push(&mut parts, SourceKind::DailyAggregates, start, day);
                push(&mut parts, SourceKind::SessionLog, day, end);
            }
            (true, false) => push(&mut parts, SourceKind::DailyAggregates, start, end),
            _ => push(&mut parts, SourceKind::SessionLog, start, end),
        }
        start = next.unwrap_or(last_day);
    }
    if parts.is_empty() {
        parts.push(ReportSource {
            kind: SourceKind::NoData,
            first_day,
            last_day,
        });
    }
    parts
}

/// The local date of `at` in `tz`.
fn local_date(at: UtcMillis, tz: &TimeZone) -> Option<Date> {
    let ts = jiff::Timestamp::from_millisecond(at.0).ok()?;
    Some(ts.to_zoned(tz.clone()).date())
}

/// The first local day in `tz` that starts at `at` or later: a period `[from, to)` holds
/// the whole days from `first_day_from(from)` to the day before `first_day_from(to)`.
fn first_day_from(at: UtcMillis, tz: &TimeZone) -> Option<Date> {
    let zoned = jiff::Timestamp::from_millisecond(at.0)
        .ok()?
        .to_zoned(tz.clone());
    let start = zoned.start_of_day().ok()?;
    if start.timestamp() == zoned.timestamp() {
        Some(zoned.date())
    } else {
        zoned.date().tomorrow().ok()
    }
}

/// The usage line `key`, created empty if needed.
fn usage_line<'a>(lines: &'a mut BTreeMap<String, UsageLine>, key: &str) -> &'a mut UsageLine {
    lines.entry(key.to_string()).or_insert_with(|| UsageLine {
        key: key.to_string(),
        ..UsageLine::default()
    })
}

impl Controller {
    /// Records what a permanence did on a local day: people received and procedure
    /// categories (La Coop's keys, [`coop_categories`]). Counts only.
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
            if category_label(category).is_none() {
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
    ///
    /// Sessions come from the session log (started in `[from, to)`) and from the daily
    /// aggregates of the local days (in the site's time zone) that start in `[from, to)`:
    /// the purge moves a session from one to the other in one transaction, so each counts
    /// once. An aggregated session has no permanence: supervised, it counts in the
    /// [`OTHER_ACCOMPANIED`](crate::staff::OTHER_ACCOMPANIED) line, otherwise in `libre`.
    pub async fn site_report(
        &self,
        site_id: &str,
        from: UtcMillis,
        to: UtcMillis,
    ) -> Result<SiteReport, ControllerError> {
        let (model, _) = self.site_schedule(site_id).await?;
        let tz = TimeZone::get(&model.time_zone).unwrap_or(TimeZone::UTC);
        let sessions: Vec<_> = self
            .store()
            .sessions(from, to)
            .await?
            .into_iter()
            .filter(|s| s.site_id == site_id)
            .collect();
        let aggregates = match (first_day_from(from, &tz), first_day_from(to, &tz)) {
            (Some(first), Some(end)) if from < to && first < end => {
                self.store()
                    .site_days(site_id, &first.to_string(), &end.to_string())
                    .await?
            }
            _ => Vec::new(),
        };
        let mut days: BTreeMap<Date, DaySources> = BTreeMap::new();
        let mut lines: BTreeMap<String, UsageLine> = BTreeMap::new();
        let mut per_seat: BTreeMap<String, (u64, f64)> = BTreeMap::new();
        let mut heat = Heat::default();
        for s in &sessions {
            let hours = s.duration_secs.unwrap_or(0).max(0) as f64 / 3600.0;
            let end = UtcMillis(s.started_at.0 + s.duration_secs.unwrap_or(0).max(0) * 1000);
            Heat::add(&mut heat.used, s.started_at, end, &tz);
            let key = match (s.slot_kind.as_str(), &s.permanence_id) {
                (_, Some(p)) => p.as_str(),
                ("supervised", None) => crate::staff::OTHER_ACCOMPANIED,
                _ => "libre",
            };
            let line = usage_line(&mut lines, key);
            line.sessions += 1;
            if s.slot_kind == "supervised" {
                line.supervised += 1;
            }
            line.hours_used += hours;
            let seat = per_seat.entry(s.agent_id.clone()).or_default();
            seat.0 += 1;
            seat.1 += hours;
            if let Some(day) = local_date(s.started_at, &tz) {
                days.entry(day).or_default().log = true;
            }
        }
        for d in &aggregates {
            let n = u64::try_from(d.sessions).unwrap_or(0);
            let supervised = u64::try_from(d.supervised_sessions).unwrap_or(0).min(n);
            let hours = d.session_seconds.max(0) as f64 / 3600.0;
            // One length per seat and day: shared between the two lines by sessions.
            let share = |part: u64| {
                if n == 0 {
                    0.0
                } else {
                    hours * part as f64 / n as f64
                }
            };
            if supervised > 0 {
                let line = usage_line(&mut lines, crate::staff::OTHER_ACCOMPANIED);
                line.sessions += supervised;
                line.supervised += supervised;
                line.hours_used += share(supervised);
            }
            if n > supervised {
                let line = usage_line(&mut lines, "libre");
                line.sessions += n - supervised;
                line.hours_used += share(n - supervised);
            }
            let seat = per_seat.entry(d.agent_id.clone()).or_default();
            seat.0 += n;
            seat.1 += hours;
            if let Ok(day) = d.day.parse::<Date>() {
                days.entry(day).or_default().aggregates = true;
            }
        }
        let sources = match (
            local_date(from, &tz),
            local_date(UtcMillis(to.0.saturating_sub(1)), &tz),
        ) {
            (Some(first), Some(last)) if from < to => source_parts(first, last, &days),
            _ => Vec::new(),
        };
        for record in self.store().counters(site_id, from, to).await? {
            let line = usage_line(&mut lines, &record.permanence);
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
            let open_slots: Vec<_> = compile_between(&model, &id, from, to)
                .map(|slots| {
                    slots
                        .into_iter()
                        .filter(|s| s.kind != SlotKind::Closed)
                        .collect()
                })
                .unwrap_or_default();
            let available_ms: i64 = open_slots.iter().map(|s| s.end.0 - s.start.0).sum();
            for slot in &open_slots {
                Heat::add(&mut heat.open, slot.start, slot.end, &tz);
            }
            let (n, used) = per_seat.get(&id).copied().unwrap_or_default();
            let wipe_failures = self.store().wipe_failures(&id, from, to).await?;
            let (by_visitors, by_staff) = self.store().pages_printed(&id, from, to).await?;
            // Up and reporting: the share of the seat's open hours (free or supervised
            // slots) in which it reported at least once; every hour of the period for a
            // seat never open. Counted up to now when the period has not ended. Hours
            // rather than snapshots × interval: the interval may change over the years.
            let until = to.min(crate::now());
            let reported: std::collections::HashSet<i64> = self
                .store()
                .health_hours_between(&id, from, until)
                .await?
                .into_iter()
                .collect();
            let mut open_hours: std::collections::BTreeSet<i64> = Default::default();
            for slot in &open_slots {
                let last = slot.end.0.min(until.0);
                if last <= slot.start.0 {
                    continue;
                }
                open_hours.extend(slot.start.0 / 3_600_000..=(last - 1) / 3_600_000);
            }
            let availability = if open_hours.is_empty() {
                let hours = ((until.0 - from.0).max(1) + 3_599_999) / 3_600_000;
                (reported.len() as f64 / hours as f64).min(1.0)
            } else {
                open_hours.iter().filter(|h| reported.contains(h)).count() as f64
                    / open_hours.len() as f64
            };
            seats.push(SeatLine {
                agent_id: id,
                hostname: o.agent.hostname,
                asset_tag: o.asset_tag,
                sessions: n,
                hours_available: available_ms as f64 / 3_600_000.0,
                hours_used: used,
                wipe_failures,
                availability,
                hours_powered: reported.len() as f64,
                pages_printed: by_visitors + by_staff,
                pages_released_by_staff: by_staff,
                last_seen: o.last_seen_at,
            });
        }
        Ok(SiteReport {
            lines: lines.into_values().collect(),
            seats,
            sources,
            heat,
        })
    }

    /// A site's sessions month by month over the twelve local months that end with the one
    /// holding `to` (its last instant), from the session log and the daily aggregates.
    pub async fn site_months(
        &self,
        site_id: &str,
        to: UtcMillis,
    ) -> Result<Vec<MonthLine>, ControllerError> {
        let (model, _) = self.site_schedule(site_id).await?;
        let tz = TimeZone::get(&model.time_zone).unwrap_or(TimeZone::UTC);
        let Some(last_day) = local_date(UtcMillis(to.0.saturating_sub(1)), &tz) else {
            return Ok(Vec::new());
        };
        let mut months: Vec<Date> = Vec::with_capacity(12);
        let mut first = last_day.first_of_month();
        for _ in 0..12 {
            months.push(first);
            first = match first.checked_sub(jiff::Span::new().months(1)) {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        months.reverse();
        let (Some(start_day), Some(end_day)) = (
            months.first().copied(),
            last_day.last_of_month().tomorrow().ok(),
        ) else {
            return Ok(Vec::new());
        };
        let at = |d: Date| {
            d.to_zoned(tz.clone())
                .map(|z| UtcMillis(z.timestamp().as_millisecond()))
                .ok()
        };
        let (Some(from), Some(until)) = (at(start_day), at(end_day)) else {
            return Ok(Vec::new());
        };
        let key = |d: Date| d.strftime("%Y-%m").to_string();
        let mut lines: BTreeMap<String, MonthLine> = months
            .iter()
            .map(|m| {
                (
                    key(*m),
                    MonthLine {
                        month: key(*m),
                        ..Default::default()
                    },
                )
            })
            .collect();
        for s in self
            .store()
            .sessions(from, until)
            .await?
            .into_iter()
            .filter(|s| s.site_id == site_id)
        {
            let Some(day) = local_date(s.started_at, &tz) else {
                continue;
            };
            if let Some(line) = lines.get_mut(&key(day)) {
                line.sessions += 1;
                line.supervised += u64::from(s.slot_kind == "supervised");
                line.hours_used += s.duration_secs.unwrap_or(0).max(0) as f64 / 3600.0;
            }
        }
        for d in self
            .store()
            .site_days(site_id, &start_day.to_string(), &end_day.to_string())
            .await?
        {
            let Ok(day) = d.day.parse::<Date>() else {
                continue;
            };
            if let Some(line) = lines.get_mut(&key(day)) {
                let n = u64::try_from(d.sessions).unwrap_or(0);
                line.sessions += n;
                line.supervised += u64::try_from(d.supervised_sessions).unwrap_or(0).min(n);
                line.hours_used += d.session_seconds.max(0) as f64 / 3600.0;
            }
        }
        Ok(lines.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn used(days: &[(&str, bool, bool)]) -> BTreeMap<Date, DaySources> {
        days.iter()
            .map(|&(d, log, aggregates)| (day(d), DaySources { log, aggregates }))
            .collect()
    }

    fn parts(
        first: &str,
        last: &str,
        days: &[(&str, bool, bool)],
    ) -> Vec<(SourceKind, String, String)> {
        source_parts(day(first), day(last), &used(days))
            .into_iter()
            .map(|p| (p.kind, p.first_day.to_string(), p.last_day.to_string()))
            .collect()
    }

    #[test]
    fn a_period_without_sessions_says_so() {
        assert_eq!(
            parts("2025-03-01", "2025-03-31", &[]),
            [(SourceKind::NoData, "2025-03-01".into(), "2025-03-31".into())]
        );
        assert!(source_parts(day("2025-03-02"), day("2025-03-01"), &BTreeMap::new()).is_empty());
    }

    #[test]
    fn days_without_sessions_join_the_part_before_them() {
        // Aggregates only, with quiet days at both ends and in the middle: one part.
        assert_eq!(
            parts(
                "2024-10-01",
                "2024-10-31",
                &[("2024-10-03", false, true), ("2024-10-20", false, true)]
            ),
            [(
                SourceKind::DailyAggregates,
                "2024-10-01".into(),
                "2024-10-31".into()
            )]
        );
    }

    #[test]
    fn the_day_the_purge_split_ends_one_part_and_starts_the_other() {
        assert_eq!(
            parts(
                "2025-03-01",
                "2025-03-31",
                &[
                    ("2025-03-02", false, true),
                    ("2025-03-15", true, true),
                    ("2025-03-20", true, false),
                ]
            ),
            [
                (
                    SourceKind::DailyAggregates,
                    "2025-03-01".into(),
                    "2025-03-15".into()
                ),
                (
                    SourceKind::SessionLog,
                    "2025-03-15".into(),
                    "2025-03-31".into()
                ),
            ]
        );
        // Without a shared day: the quiet days between go to the aggregates.
        assert_eq!(
            parts(
                "2025-03-01",
                "2025-03-31",
                &[("2025-03-02", false, true), ("2025-03-20", true, false)]
            ),
            [
                (
                    SourceKind::DailyAggregates,
                    "2025-03-01".into(),
                    "2025-03-19".into()
                ),
                (
                    SourceKind::SessionLog,
                    "2025-03-20".into(),
                    "2025-03-31".into()
                ),
            ]
        );
    }

    #[test]
    fn sources_that_alternate_give_one_part_each_time() {
        assert_eq!(
            parts(
                "2025-03-01",
                "2025-03-05",
                &[
                    ("2025-03-01", false, true),
                    ("2025-03-02", true, false),
                    ("2025-03-04", false, true),
                ]
            ),
            [
                (
                    SourceKind::DailyAggregates,
                    "2025-03-01".into(),
                    "2025-03-01".into()
                ),
                (
                    SourceKind::SessionLog,
                    "2025-03-02".into(),
                    "2025-03-03".into()
                ),
                (
                    SourceKind::DailyAggregates,
                    "2025-03-04".into(),
                    "2025-03-05".into()
                ),
            ]
        );
    }

    #[test]
    fn whole_local_days_of_a_period() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // 2026-11-20T23:00:00Z is midnight on the 21st in Paris: that day starts there.
        let midnight = UtcMillis::from_secs(1_795_215_600);
        assert_eq!(first_day_from(midnight, &paris), Some(day("2026-11-21")));
        // A minute later, the 21st has begun: the first whole day is the 22nd.
        assert_eq!(
            first_day_from(midnight.plus_secs(60), &paris),
            Some(day("2026-11-22"))
        );
        assert_eq!(
            local_date(midnight.plus_secs(-1), &paris),
            Some(day("2026-11-20"))
        );
    }

    #[test]
    fn an_aggregated_part_says_what_it_lacks() {
        let part = ReportSource {
            kind: SourceKind::DailyAggregates,
            first_day: day("2024-10-01"),
            last_day: day("2024-10-31"),
        };
        let text = part.describe();
        assert!(text.starts_with("agrégats quotidiens anonymes du 2024-10-01 au 2024-10-31"));
        assert!(text.contains("permanence") && text.contains("échecs d'effacement"));
        let log = ReportSource {
            kind: SourceKind::SessionLog,
            ..part
        };
        assert_eq!(
            log.describe(),
            "journal des sessions du 2024-10-01 au 2024-10-31"
        );
    }
}
