//! What the national "lieux de médiation numérique" schema (v1.0.2) accepts, field by field:
//! its patterns and lists of values, written out here so that the export refuses what the
//! schema refuses and says which field is wrong. The schema's own file, vendored in
//! `tests/schemas/`, checks this in CI.

use std::fmt;

use super::SiteDetails;

/// `services`: the schema's list.
pub const SERVICES: [&str; 9] = [
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
];

/// `dispositif_programmes_nationaux`: the schema's list.
pub const PROGRAMMES: [&str; 11] = [
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
];

/// `modalites_acces`: the schema's list.
pub const ACCESS: [&str; 6] = [
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public",
    "Envoyer un mail avec une fiche de prescription",
];

/// `modalites_accompagnement`: the schema's list.
pub const SUPPORT: [&str; 4] = [
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
];

/// Telephone prefixes the schema accepts (metropolitan France and overseas).
const PHONE_PREFIXES: [&str; 10] = [
    "+33", "+590", "+594", "+262", "+596", "+269", "+687", "+689", "+508", "+681",
];

/// One field the schema refuses, or a remark that does not keep the site out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The schema's column name (`telephone`, `services`…).
    pub field: &'static str,
    /// Whether the export leaves the site out for it.
    pub blocking: bool,
    /// What is wrong, in French.
    pub fr: String,
    /// What is wrong, in English.
    pub en: String,
}

impl FieldProblem {
    fn error(field: &'static str, fr: String, en: String) -> FieldProblem {
        FieldProblem {
            field,
            blocking: true,
            fr,
            en,
        }
    }

    /// `champ : raison` in the language asked (`en`, otherwise French).
    pub fn text(&self, lang: &str) -> String {
        if lang == "en" {
            format!("{}: {}", self.field, self.en)
        } else {
            format!("{} : {}", self.field, self.fr)
        }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text("fr"))
    }
}

/// A value as it is quoted in a message: at most 60 characters, control characters removed.
fn quoted(value: &str) -> String {
    let cut: String = value.chars().filter(|c| !c.is_control()).take(60).collect();
    if value.chars().count() > 60 {
        format!("« {cut}… »")
    } else {
        format!("« {cut} »")
    }
}

fn missing(field: &'static str, fr: &str, en: &str) -> FieldProblem {
    FieldProblem::error(field, format!("{fr} manquant(e)"), format!("{en} missing"))
}

fn malformed(field: &'static str, value: &str, fr: &str, en: &str) -> FieldProblem {
    FieldProblem::error(
        field,
        format!("{} ne convient pas : {fr}", quoted(value)),
        format!(
            "{} is not valid: {en}",
            quoted(value).replace(['«', '»'], "\"")
        ),
    )
}

impl SiteDetails {
    /// The same description with the usual ways of writing a value brought to the schema's
    /// (`04 76 12 34 56` → `+33476123456`, `38 185` → `38185`, a list value in another case
    /// → the schema's spelling), blanks trimmed and empty list items dropped. What cannot be
    /// brought is kept as typed, for [`SiteDetails::problems`] to name.
    pub fn normalized(&self) -> SiteDetails {
        let compact = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
        let list = |values: &[String], allowed: &[&str]| -> Vec<String> {
            values
                .iter()
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|v| !v.is_empty())
                .map(|v| {
                    allowed
                        .iter()
                        .find(|a| a.to_lowercase() == v.to_lowercase())
                        .map_or(v, |a| (*a).to_string())
                })
                .collect()
        };
        SiteDetails {
            pivot: compact(&self.pivot),
            commune: self.commune.trim().to_string(),
            code_postal: compact(&self.code_postal),
            code_insee: compact(&self.code_insee).to_uppercase(),
            adresse: self.adresse.trim().to_string(),
            latitude: self.latitude,
            longitude: self.longitude,
            telephone: normalized_phone(&self.telephone),
            courriels: list(&self.courriels, &[]),
            site_web: self.site_web.trim().to_string(),
            presentation_resume: self.presentation_resume.trim().to_string(),
            services: list(&self.services, &SERVICES),
            dispositif_programmes_nationaux: list(
                &self.dispositif_programmes_nationaux,
                &PROGRAMMES,
            ),
            modalites_acces: list(&self.modalites_acces, &ACCESS),
            modalites_accompagnement: list(&self.modalites_accompagnement, &SUPPORT),
        }
    }

    /// What the schema refuses in this description (and the site's name), field by field, in
    /// the schema's column names. A blocking problem keeps the site out of the export.
    pub fn problems(&self, name: &str) -> Vec<FieldProblem> {
        let mut p = Vec::new();
        if name.trim().is_empty() {
            p.push(missing("nom", "nom du lieu", "the place's name"));
        }
        if self.pivot.is_empty() {
            p.push(missing("pivot", "SIRET", "SIRET"));
        } else if !((9..=14).contains(&self.pivot.len())
            && self.pivot.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            p.push(malformed(
                "pivot",
                &self.pivot,
                "un SIRET de 9 à 14 lettres ou chiffres est attendu",
                "a SIRET of 9 to 14 letters or digits is expected",
            ));
        }
        if self.commune.is_empty() {
            p.push(missing("commune", "commune", "town"));
        }
        if self.code_postal.is_empty() {
            p.push(missing("code_postal", "code postal", "postcode"));
        } else if !digits(&self.code_postal, 5) {
            p.push(malformed(
                "code_postal",
                &self.code_postal,
                "5 chiffres sont attendus",
                "5 digits are expected",
            ));
        }
        if !self.code_insee.is_empty() && !insee_ok(&self.code_insee) {
            p.push(malformed(
                "code_insee",
                &self.code_insee,
                "un code INSEE de commune (5 caractères, par exemple 38185 ou 2A004) est attendu",
                "a town's INSEE code (5 characters, e.g. 38185 or 2A004) is expected",
            ));
        }
        if self.adresse.is_empty() {
            p.push(missing("adresse", "adresse", "address"));
        }
        match (self.latitude, self.longitude) {
            (Some(lat), _) if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() => {
                p.push(malformed(
                    "latitude",
                    &lat.to_string(),
                    "entre -90 et 90",
                    "between -90 and 90",
                ))
            }
            (_, Some(lon)) if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() => {
                p.push(malformed(
                    "longitude",
                    &lon.to_string(),
                    "entre -180 et 180",
                    "between -180 and 180",
                ))
            }
            (Some(_), None) | (None, Some(_)) => p.push(FieldProblem::error(
                "latitude",
                "la latitude et la longitude vont ensemble".into(),
                "latitude and longitude go together".into(),
            )),
            _ => {}
        }
        if !self.telephone.is_empty() && !phone_ok(&self.telephone) {
            p.push(malformed(
                "telephone",
                &self.telephone,
                "+33 (ou l'indicatif d'outre-mer) suivi de 6 à 9 chiffres, sans espace, par exemple +33476123456",
                "+33 (or an overseas code) then 6 to 9 digits, without spaces, e.g. +33476123456",
            ));
        }
        for mail in &self.courriels {
            if !email_ok(mail) {
                p.push(malformed(
                    "courriels",
                    mail,
                    "une adresse de courriel est attendue",
                    "an e-mail address is expected",
                ));
            }
        }
        if !self.site_web.is_empty() && !url_ok(&self.site_web) {
            p.push(malformed(
                "site_web",
                &self.site_web,
                "une adresse commençant par https:// ou http:// est attendue",
                "an address starting with https:// or http:// is expected",
            ));
        }
        let length = self.presentation_resume.chars().count();
        if length > 280 {
            p.push(FieldProblem::error(
                "presentation_resume",
                format!("{length} caractères, 280 au plus"),
                format!("{length} characters, at most 280"),
            ));
        }
        for (field, values, allowed) in [
            ("services", &self.services, &SERVICES[..]),
            (
                "dispositif_programmes_nationaux",
                &self.dispositif_programmes_nationaux,
                &PROGRAMMES[..],
            ),
            ("modalites_acces", &self.modalites_acces, &ACCESS[..]),
            (
                "modalites_accompagnement",
                &self.modalites_accompagnement,
                &SUPPORT[..],
            ),
        ] {
            for value in values {
                if !allowed.contains(&value.as_str()) {
                    p.push(malformed(
                        field,
                        value,
                        &format!("n'est pas dans la liste du schéma ({})", allowed.join(", ")),
                        &format!("not in the schema's list ({})", allowed.join(", ")),
                    ));
                }
            }
        }
        p
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^([013-9]\d|2[AB1-9])\d{3}$`.
fn insee_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && match (b[0], b[1]) {
            (b'2', b'A' | b'B' | b'1'..=b'9') => true,
            (b'0' | b'1' | b'3'..=b'9', d) => d.is_ascii_digit(),
            _ => false,
        }
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// `^(\+33|\+590|…)(\d){6,9}$`.
fn phone_ok(s: &str) -> bool {
    PHONE_PREFIXES.iter().any(|prefix| {
        s.strip_prefix(prefix).is_some_and(|rest| {
            (6..=9).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// French ways of writing a number brought to `+33…`: spaces, dots, dashes and brackets
/// dropped, a leading `0` (national) or `0033` (international) replaced by `+33`.
fn normalized_phone(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '(' | ')' | '/')))
        .collect();
    if let Some(rest) = kept.strip_prefix("0033") {
        format!("+33{rest}")
    } else if kept.len() == 10 && kept.starts_with('0') && kept.bytes().all(|b| b.is_ascii_digit())
    {
        format!("+33{}", &kept[1..])
    } else if let Some(rest) = kept.strip_prefix("+330") {
        // `+33 (0)4 76…`
        format!("+33{rest}")
    } else {
        kept
    }
}

/// `local@domain.tld`: one `@`, a dot in the domain, no blank and no separator of the
/// export's lists.
fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .contains(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '|' | ',' | ';'))
}

fn url_ok(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !s.contains(|c: char| c.is_whitespace() || c.is_control() || c == '|')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> SiteDetails {
        SiteDetails {
            pivot: "21380185500015".into(),
            commune: "Grenoble".into(),
            code_postal: "38000".into(),
            code_insee: "38185".into(),
            adresse: "2 rue de l'Abbaye".into(),
            ..Default::default()
        }
    }

    #[test]
    fn usual_french_writings_are_brought_to_the_schemas() {
        let typed = SiteDetails {
            telephone: "04 76 12 34 56".into(),
            code_insee: "38 185".into(),
            services: vec!["aide aux démarches administratives".into(), " ".into()],
            modalites_acces: vec!["se  présenter".into()],
            ..valid()
        };
        let d = typed.normalized();
        assert_eq!(d.telephone, "+33476123456");
        assert_eq!(d.code_insee, "38185");
        assert_eq!(d.services, ["Aide aux démarches administratives"]);
        assert_eq!(d.modalites_acces, ["Se présenter"]);
        assert!(
            d.problems("MDH Abbaye").is_empty(),
            "{:?}",
            d.problems("MDH Abbaye")
        );
        assert_eq!(normalized_phone("+33 (0)4 76 12 34 56"), "+33476123456");
        assert_eq!(normalized_phone("0033 4 76 12 34 56"), "+33476123456");
        assert_eq!(normalized_phone("+262 262 12 34 56"), "+262262123456");
    }

    #[test]
    fn each_refused_value_names_its_field() {
        let d = SiteDetails {
            telephone: "04 76 12".into(),
            code_insee: "20185".into(),
            courriels: vec!["accueil-at-mdh.fr".into()],
            site_web: "www.grenoble.fr".into(),
            services: vec!["Cours de cuisine".into()],
            dispositif_programmes_nationaux: vec!["Pass Culture".into()],
            modalites_acces: vec!["Par pigeon".into()],
            modalites_accompagnement: vec!["En groupe".into()],
            latitude: Some(95.0),
            longitude: Some(5.7),
            presentation_resume: "x".repeat(281),
            ..valid()
        }
        .normalized();
        let fields: Vec<&str> = d.problems("MDH").iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "code_insee",
                "latitude",
                "telephone",
                "courriels",
                "site_web",
                "presentation_resume",
                "services",
                "dispositif_programmes_nationaux",
                "modalites_acces",
                "modalites_accompagnement"
            ]
        );
        assert!(d.problems("MDH").iter().all(|p| p.blocking));
        let empty = SiteDetails::default().problems(" ");
        let fields: Vec<&str> = empty.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["nom", "pivot", "commune", "code_postal", "adresse"]
        );
        assert_eq!(empty[1].text("fr"), "pivot : SIRET manquant(e)");
        assert_eq!(empty[1].text("en"), "pivot: SIRET missing");
    }

    #[test]
    fn the_documented_example_passes() {
        let d: SiteDetails =
            toml::from_str(include_str!("../../../docs/examples/site-details.toml")).unwrap();
        let d = d.normalized();
        assert_eq!(d.telephone, "+33476123456");
        assert_eq!(d.problems("MDH Abbaye"), []);
    }

    #[test]
    fn insee_codes_of_corsica_and_overseas_pass() {
        for ok in ["38185", "2A004", "2B033", "97411", "01001"] {
            assert!(insee_ok(ok), "{ok}");
        }
        for bad in ["20185", "2C004", "3818", "381855", "38 18"] {
            assert!(!insee_ok(bad), "{bad}");
        }
    }
}
