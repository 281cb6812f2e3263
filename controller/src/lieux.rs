//! The national open-data export of the places of digital mediation ("lieux de médiation
//! numérique", schema v1.0.2): one CSV row per site, all 32 columns in the schema's order,
//! opening hours in OpenStreetMap syntax from the site's schedule.

use serde::{Deserialize, Serialize};

use crate::csv::CsvWriter;
use crate::{Controller, ControllerError};

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

impl SiteDetails {
    /// What makes the row invalid for the schema, in French for staff.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let siret_ok = (9..=14).contains(&self.pivot.len())
            && self.pivot.chars().all(|c| c.is_ascii_alphanumeric());
        if !siret_ok {
            p.push("SIRET (pivot) manquant ou invalide".into());
        }
        if self.commune.trim().is_empty() {
            p.push("commune manquante".into());
        }
        if !(self.code_postal.len() == 5 && self.code_postal.chars().all(|c| c.is_ascii_digit())) {
            p.push("code postal manquant ou invalide".into());
        }
        if self.adresse.trim().is_empty() {
            p.push("adresse manquante".into());
        }
        if self.presentation_resume.chars().count() > 280 {
            p.push("présentation de plus de 280 caractères".into());
        }
        p
    }
}

impl Controller {
    /// Stores a site's public description.
    pub async fn set_site_details(
        &self,
        site_id: &str,
        details: &SiteDetails,
    ) -> Result<(), ControllerError> {
        let json =
            serde_json::to_string(details).map_err(|e| ControllerError::Config(e.to_string()))?;
        self.store().set_site_details(site_id, &json).await?;
        Ok(())
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

    /// The export for `sites`: the CSV, and the sites left out with why.
    pub async fn lieux_csv(
        &self,
        sites: &[String],
    ) -> Result<(String, Vec<(String, Vec<String>)>), ControllerError> {
        // The schema's file: `,`, quotes where needed, formulas neutralised like every
        // export's (one writer).
        let mut csv = CsvWriter::open_data();
        csv.header(&COLUMNS);
        let mut left_out = Vec::new();
        let today = jiff::Zoned::now().date().to_string();
        for site in self.store().sites().await? {
            if !sites.contains(&site.id) {
                continue;
            }
            let details = self.site_details(&site.id).await?;
            let problems = details.problems();
            if !problems.is_empty() {
                left_out.push((site.id.clone(), problems));
                continue;
            }
            let (model, _) = self.site_schedule(&site.id).await?;
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
                model.opening_hours.to_osm(),
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
        Ok((csv.finish(), left_out))
    }
}
