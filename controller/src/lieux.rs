//! The national open-data export of the places of digital mediation ("lieux de médiation
//! numérique", schema v1.0.2): one CSV row per site, all 32 columns in the schema's order,
//! opening hours in OpenStreetMap syntax from the site's schedule ([`osm`]). Each value is
//! checked against the schema's own constraints first ([`check`]); a site the schema would
//! refuse is left out, and staff are told which field is wrong.

use commune_protocol::slots::{LocalDate, SiteSchedule};
use serde::{Deserialize, Serialize};

use crate::csv::CsvWriter;
use crate::store::SiteRecord;
use crate::{Controller, ControllerError};

pub mod check;
pub mod osm;

pub use check::FieldProblem;

/// The columns, in the schema's order, with its exact headers.
pub const COLUMNS: [&str; 32] = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
];

/// Columns written as numbers when they are (`+33…` telephones, negative coordinates):
/// the writer would otherwise neutralise their leading sign.
const NUMBER_COLUMNS: [&str; 3] = ["latitude", "longitude", "telephone"];

/// What the export needs to know of a site beyond its schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteDetails {
    /// SIRET of the structure (9 to 14 letters or digits).
    pub pivot: String,
    /// Town.
    pub commune: String,
    /// Postcode, 5 digits.
    pub code_postal: String,
    /// INSEE code.
    pub code_insee: String,
    /// Street address.
    pub adresse: String,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// `+33` then digits.
    pub telephone: String,
    /// E-mail addresses.
    pub courriels: Vec<String>,
    /// Web site.
    pub site_web: String,
    /// Short presentation (≤ 280 characters).
    pub presentation_resume: String,
    /// Services from the schema's list.
    pub services: Vec<String>,
    /// National programmes (`Conseillers numériques`, `Aidants Connect`…).
    pub dispositif_programmes_nationaux: Vec<String>,
    /// Ways in (`Se présenter`, `Téléphoner`…).
    pub modalites_acces: Vec<String>,
    /// Kinds of help (`En autonomie`, `Accompagnement individuel`…).
    pub modalites_accompagnement: Vec<String>,
}

impl Controller {
    /// Stores a site's public description, brought to the schema's spellings first
    /// ([`SiteDetails::normalized`]); returns what the export would still refuse or remark
    /// about the site, field by field (the description is stored either way: nothing typed
    /// is lost, and the export leaves the site out until it is fixed).
    pub async fn set_site_details(
        &self,
        site_id: &str,
        details: &SiteDetails,
    ) -> Result<Vec<FieldProblem>, ControllerError> {
        let details = details.normalized();
        let json =
            serde_json::to_string(&details).map_err(|e| ControllerError::Config(e.to_string()))?;
        self.store().set_site_details(site_id, &json).await?;
        Ok(self.lieux_check(site_id).await?.problems)
    }

    /// A site's public description (empty when never set).
    pub async fn site_details(&self, site_id: &str) -> Result<SiteDetails, ControllerError> {
        Ok(self
            .store()
            .site_details(site_id)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// What the national export would refuse or remark about one site.
    pub async fn lieux_check(&self, site_id: &str) -> Result<SiteCheck, ControllerError> {
        let site = self
            .store()
            .sites()
            .await?
            .into_iter()
            .find(|s| s.id == site_id)
            .unwrap_or_else(|| SiteRecord {
                id: site_id.to_string(),
                name: String::new(),
                time_zone: String::new(),
            });
        Ok(self.public_site(site).await?.check)
    }

    /// The sites among `sites` as the national exports see them, in the store's order.
    pub(crate) async fn public_sites(
        &self,
        sites: &[String],
    ) -> Result<Vec<PublicSite>, ControllerError> {
        let mut out = Vec::new();
        for site in self.store().sites().await? {
            if sites.contains(&site.id) {
                out.push(self.public_site(site).await?);
            }
        }
        Ok(out)
    }

    /// One site as the national exports see it: its description brought to the schema's
    /// spellings (one stored before the checks existed too), its schedule, its hours and
    /// what the checks say.
    async fn public_site(&self, site: SiteRecord) -> Result<PublicSite, ControllerError> {
        let details = self.site_details(&site.id).await?.normalized();
        let model = self.site_model(&site.id).await?.map(|(m, _)| m);
        let mut problems = details.problems(&site.name);
        let horaires = match horaires(model.as_ref()) {
            Ok(hours) => Some(hours),
            Err(remark) => {
                problems.push(remark);
                None
            }
        };
        let check = SiteCheck {
            site: site.id.clone(),
            problems,
        };
        Ok(PublicSite {
            site,
            details,
            model,
            horaires,
            check,
        })
    }

    /// The export for `sites`: the CSV, and what each site lacks.
    pub async fn lieux_csv(&self, sites: &[String]) -> Result<NationalExport, ControllerError> {
        // The schema's file: `,`, quotes where needed, formulas neutralised like every
        // export's (one writer).
        let mut csv = CsvWriter::open_data();
        csv.header(&COLUMNS);
        let mut checks = Vec::new();
        let today = jiff::Zoned::now().date().to_string();
        for public in self.public_sites(sites).await? {
            let PublicSite {
                site,
                details,
                horaires,
                check,
                ..
            } = public;
            let left_out = check.left_out();
            if !check.problems.is_empty() {
                checks.push(check);
            }
            if left_out {
                continue;
            }
            let row: Vec<String> = vec![
                site.id.clone(),
                details.pivot.clone(),
                site.name.clone(),
                details.commune.clone(),
                details.code_postal.clone(),
                details.code_insee.clone(),
                details.adresse.clone(),
                String::new(),
                details.latitude.map(|v| v.to_string()).unwrap_or_default(),
                details.longitude.map(|v| v.to_string()).unwrap_or_default(),
                "MDH".into(),
                details.telephone.clone(),
                details.courriels.join("|"),
                details.site_web.clone(),
                horaires.unwrap_or_default(),
                details.presentation_resume.clone(),
                String::new(),
                "Commune".into(),
                "Fixe".into(),
                String::new(),
                today.clone(),
                details.services.join("|"),
                String::new(),
                String::new(),
                "Gratuit".into(),
                details.dispositif_programmes_nationaux.join("|"),
                String::new(),
                String::new(),
                details.modalites_acces.join("|"),
                details.modalites_accompagnement.join("|"),
                String::new(),
                String::new(),
            ];
            debug_assert_eq!(row.len(), COLUMNS.len());
            for (column, value) in COLUMNS.iter().zip(&row) {
                if NUMBER_COLUMNS.contains(column) {
                    csv.number(value);
                } else {
                    csv.text(value);
                }
            }
            csv.end_row();
        }
        Ok(NationalExport {
            body: csv.finish(),
            checks,
        })
    }
}

/// A site of the export: what it said about each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteCheck {
    /// The site's id.
    pub site: String,
    /// What the schema refuses (blocking: the site is left out) and remarks.
    pub problems: Vec<FieldProblem>,
}

impl SiteCheck {
    /// Whether the export leaves the site out.
    pub fn left_out(&self) -> bool {
        self.problems.iter().any(|p| p.blocking)
    }
}

/// A national file (the lieux CSV, the data·inclusion JSON) and, per site asked for, what
/// is wrong or missing.
#[derive(Debug, Clone)]
pub struct NationalExport {
    /// The file, with the sites that have no blocking problem.
    pub body: String,
    /// Every site with a problem or a remark, in the order of the sites.
    pub checks: Vec<SiteCheck>,
}

impl NationalExport {
    /// The sites left out.
    pub fn left_out(&self) -> impl Iterator<Item = &SiteCheck> {
        self.checks.iter().filter(|c| c.left_out())
    }
}

/// One site as the national exports see it ([`Controller::public_sites`]).
pub(crate) struct PublicSite {
    pub(crate) site: SiteRecord,
    /// Brought to the schema's spellings.
    pub(crate) details: SiteDetails,
    pub(crate) model: Option<SiteSchedule>,
    /// Its opening hours in OpenStreetMap syntax; `None` when it has none.
    pub(crate) horaires: Option<String>,
    pub(crate) check: SiteCheck,
}

/// Today in `time_zone` (the machine's zone when it is unknown).
pub(crate) fn today_in(time_zone: Option<&str>) -> LocalDate {
    let date = time_zone
        .and_then(|tz| jiff::tz::TimeZone::get(tz).ok())
        .map(|tz| jiff::Timestamp::now().to_zoned(tz).date())
        .unwrap_or_else(|| jiff::Zoned::now().date());
    // Every date jiff gives exists.
    LocalDate::new(date.year(), date.month(), date.day())
        .unwrap_or_else(|_| unreachable!("jiff gave a date that does not exist: {date}"))
}

/// A site's `horaires`: `Err` with the remark to show when the site has no opening hours.
fn horaires(model: Option<&SiteSchedule>) -> Result<String, FieldProblem> {
    let no_hours = || FieldProblem {
        field: "horaires",
        blocking: false,
        fr: "aucun horaire d'ouverture n'est enregistré : la colonne est laissée vide \
             (`commune schedule set`)"
            .into(),
        en: "no opening hours are recorded: the column is left empty (`commune schedule set`)"
            .into(),
    };
    let model = model.ok_or_else(no_hours)?;
    let today = today_in(Some(&model.time_zone));
    osm::opening_hours(&model.opening_hours, &model.closures, today).ok_or_else(no_hours)
}
