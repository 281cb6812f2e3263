//! The data·inclusion "services" export (schema v1.0.8, the national directory of
//! social-inclusion services): each site's free access to computers and each of its
//! permanences, as services of the site's structure, in JSON. The site's description is
//! the one of the "lieux" export ([`crate::lieux`]); a site that export leaves out is left
//! out here too, with the same reasons.

use serde::Serialize;

use crate::lieux::{osm, NationalExport, PublicSite};
use crate::{Controller, ControllerError};

/// `source` of every service: the producer, this software.
pub const SOURCE: &str = "commune";

/// One service, with the schema's field names. Empty values are left out (the schema's
/// default is null).
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// The producer.
    pub source: &'static str,
    /// `commune--SITE`.
    pub structure_id: String,
    /// `commune--SITE--acces-libre` or `commune--SITE--PERMANENCE`.
    pub id: String,
    /// 3 to 150 characters.
    pub nom: String,
    /// 5 to 10,000 characters.
    pub description: String,
    /// `aide-materielle` (the computers) or `accompagnement` (a permanence).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// From the schema's list.
    pub thematiques: Vec<&'static str>,
    /// `gratuit`.
    pub frais: &'static str,
    /// `en-presentiel`.
    pub modes_accueil: Vec<&'static str>,
    /// `se-presenter`, and `telephoner` when the site has a number.
    pub modes_mobilisation: Vec<&'static str>,
    /// `usagers`.
    pub mobilisable_par: Vec<&'static str>,
    /// `tous-publics`.
    pub publics: Vec<&'static str>,
    /// OpenStreetMap `opening_hours`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horaires_accueil: Option<String>,
    /// Street address.
    pub adresse: String,
    /// Town.
    pub commune: String,
    /// Postcode.
    pub code_postal: String,
    /// INSEE code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_insee: Option<String>,
    /// Latitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// `+33…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// The site's first address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub courriel: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_maj: String,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl Controller {
    /// The data·inclusion services of `sites`.
    pub async fn inclusion_services(
        &self,
        sites: &[String],
    ) -> Result<NationalExport, ControllerError> {
        let mut services = Vec::new();
        let mut checks = Vec::new();
        for public in self.public_sites(sites).await? {
            let PublicSite {
                site,
                details: d,
                model,
                horaires,
                check,
            } = public;
            let left_out = check.left_out();
            if !check.problems.is_empty() {
                checks.push(check);
            }
            if left_out {
                continue;
            }
            let today = crate::lieux::today_in(model.as_ref().map(|m| m.time_zone.as_str()));
            let mut mobilisation = vec!["se-presenter"];
            if !d.telephone.is_empty() {
                mobilisation.push("telephoner");
            }
            let service =
                |id: String, nom: String, description: String, kind, thematiques, hours| Service {
                    source: SOURCE,
                    structure_id: format!("{SOURCE}--{}", site.id),
                    id,
                    nom,
                    description,
                    kind,
                    thematiques,
                    frais: "gratuit",
                    modes_accueil: vec!["en-presentiel"],
                    modes_mobilisation: mobilisation.clone(),
                    mobilisable_par: vec!["usagers"],
                    publics: vec!["tous-publics"],
                    horaires_accueil: hours,
                    adresse: d.adresse.clone(),
                    commune: d.commune.clone(),
                    code_postal: d.code_postal.clone(),
                    code_insee: some(&d.code_insee),
                    latitude: d.latitude,
                    longitude: d.longitude,
                    telephone: some(&d.telephone),
                    courriel: d.courriels.first().cloned(),
                    date_maj: today.to_string(),
                };
            let session_minutes = model
                .as_ref()
                .map_or(commune_protocol::slots::DEFAULT_SESSION_MINUTES, |m| {
                    m.free_access.session_minutes
                });
            services.push(service(
                format!("{SOURCE}--{}--acces-libre", site.id),
                format!("Ordinateurs en accès libre — {}", site.name)
                    .chars()
                    .take(150)
                    .collect(),
                format!(
                    "Ordinateurs connectés à internet, en accès libre et gratuit pendant les \
                     horaires d'ouverture de {}, par sessions de {session_minutes} minutes, pour \
                     faire ses démarches en ligne seul. Les documents sont effacés à la fin de \
                     chaque session.",
                    site.name
                ),
                "aide-materielle",
                vec![
                    "numerique--acceder-a-une-connexion-internet",
                    "numerique--acceder-a-des-services-en-ligne",
                ],
                horaires,
            ));
            for p in model.iter().flat_map(|m| &m.permanences) {
                let closures = model.as_ref().map_or(&[][..], |m| &m.closures[..]);
                let Some(hours) = osm::permanence_hours(p, closures, today) else {
                    continue;
                };
                // The mediator's name stays out: this is open data, and staff are people.
                services.push(service(
                    format!("{SOURCE}--{}--{}", site.id, p.id),
                    format!("{} — {}", p.name.trim(), site.name)
                        .chars()
                        .take(150)
                        .collect(),
                    format!(
                        "Permanence « {} » à {} : aide gratuite pour les démarches \
                         administratives en ligne, sur un ordinateur de la structure.",
                        p.name.trim(),
                        site.name
                    ),
                    "accompagnement",
                    vec![
                        "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
                        "numerique--acceder-a-des-services-en-ligne",
                    ],
                    Some(hours),
                ));
            }
        }
        let body = serde_json::to_string_pretty(&services)
            .map_err(|e| ControllerError::Config(e.to_string()))?;
        Ok(NationalExport { body, checks })
    }
}
