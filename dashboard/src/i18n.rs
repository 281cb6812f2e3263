//! The pages' language: French by default, English on request. A person picks it with the
//! switch in every page's header (`GET /langue/{code}`), which sets a cookie; without the
//! cookie, pages are French whatever the browser asks for, because staff asked for French
//! first. Texts are written in French in the pages and looked up here.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};

/// The language cookie's name.
pub const COOKIE: &str = "commune_lang";

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// `en` is English; anything else is French.
    pub fn from_code(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }

    /// The BCP 47 code, for `lang` attributes and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language from the request's cookie; French without one.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == COOKIE).then(|| Lang::from_code(value))
            })
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// The text in the page's language: `french` itself, or its English version from the table
/// (`french` again if the table lacks it, so a missing entry shows French rather than
/// nothing).
pub fn t(lang: Lang, french: &'static str) -> &'static str {
    match lang {
        Lang::Fr => french,
        Lang::En => TEXTS
            .iter()
            .find(|(fr, _)| *fr == french)
            .map(|(_, en)| *en)
            .unwrap_or(french),
    }
}

/// Where to send the person back after switching: the path of the page they came from when
/// it is on this site, the fleet page otherwise (never another site: an open redirect).
fn back_to(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    let path = referer.and_then(|r| {
        if r.starts_with('/') {
            return Some(r);
        }
        let rest = r
            .strip_prefix("http://")
            .or_else(|| r.strip_prefix("https://"))?;
        let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
        (Some(authority) == host).then(|| &rest[authority.len()..])
    });
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/langue/")
                && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `GET /langue/{code}`: remember the language and go back to the page.
pub(crate) async fn switch(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = Lang::from_code(&code);
    (
        [(
            header::SET_COOKIE,
            format!(
                "{COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
                lang.code()
            ),
        )],
        Redirect::to(&back_to(&headers)),
    )
        .into_response()
}

/// Every French text of the pages with its English version.
const TEXTS: &[(&str, &str)] = &[
    // Every page.
    ("Aller au contenu", "Skip to content"),
    ("Langue", "Language"),
    // Login, logout, refusals.
    ("Connexion", "Log in"),
    ("Identifiant", "Login"),
    ("Mot de passe", "Password"),
    ("Se connecter", "Log in"),
    ("Se déconnecter", "Log out"),
    ("identifiant ou mot de passe incorrect", "wrong login or password"),
    ("trop d'essais : réessayez dans ", "too many attempts: try again in "),
    (" minute(s)", " minute(s)"),
    (
        "le service est très sollicité : réessayez dans un instant",
        "the service is very busy: try again in a moment",
    ),
    ("Formulaire refusé", "Form refused"),
    (
        "Ce poste est dans une autre permanence ou dans la session d'un visiteur en accès \
         libre : choisissez un poste libre.",
        "This computer is in another permanence or a free-access visitor's session now: \
         choose a free one.",
    ),
    (
        "Ce formulaire de connexion est trop long pour en être un.",
        "This login form is too long to be one.",
    ),
    (
        "Ce formulaire de connexion est arrivé trop lentement. Rechargez la page \
         de connexion et recommencez.",
        "This login form arrived too slowly. Reload the login page and try again.",
    ),
    ("Connexion refusée", "Login refused"),
    (
        "Le formulaire de connexion n'a pas de jeton de sécurité valide (CSRF) : il a \
         expiré ou ne vient pas de ce site. Rechargez la page de connexion et recommencez.",
        "The login form has no valid security token (CSRF): it expired or does not come \
         from this site. Reload the login page and try again.",
    ),
    ("Page de connexion", "Login page"),
    ("Action refusée", "Action refused"),
    (
        "Le formulaire n'a pas de jeton de sécurité valide (CSRF). Rechargez la page et recommencez.",
        "The form has no valid security token (CSRF). Reload the page and try again.",
    ),
    ("Retour au parc", "Back to the fleet"),
    (
        "Vous n'agissez que sur les postes de vos sites.",
        "You only act on the computers of your sites.",
    ),
    ("Ce poste n'appartient pas à ce site.", "This computer does not belong to this site."),
    ("Accès refusé", "Access denied"),
    (
        "Vous ne voyez que les rapports de vos sites.",
        "You only see the reports of your sites.",
    ),
    ("Accès réservé", "Restricted access"),
    (
        "Cette page est réservée au service informatique.",
        "This page is for the IT department only.",
    ),
    // Fleet page.
    ("Le registre du parc est indisponible.", "The fleet register is unavailable."),
    ("Parc informatique", "Computer fleet"),
    ("Alertes (", "Alerts ("),
    ("Appareils : enrôlement, versions, révocation", "Devices: enrollment, versions, revocation"),
    ("Sites", "Sites"),
    ("Permanences", "Drop-in sessions"),
    ("Tickets", "Tickets"),
    ("Rapports", "Reports"),
    (" postes enrôlés, ", " computers enrolled, "),
    (" en ligne.", " online."),
    ("Postes enrôlés", "Enrolled computers"),
    ("Poste", "Computer"),
    ("Site", "Site"),
    ("État", "State"),
    ("Vu", "Seen"),
    ("Processeur", "Processor"),
    ("Mémoire", "Memory"),
    ("Système", "System"),
    ("Version", "Version"),
    ("jamais", "never"),
    ("à l'instant", "just now"),
    ("Gio", "GiB"),
    // Seat states.
    ("libre", "free"),
    ("en session", "in session"),
    ("fin de session", "ending session"),
    ("effacement", "wiping"),
    ("fermé", "closed"),
    ("bloqué", "blocked"),
    ("Ce poste est éteint ou hors ligne.", "This computer is off or offline."),
    ("Réveiller ce poste (Wake-on-LAN)", "Wake this computer (Wake-on-LAN)"),
    ("Poste non réveillé", "Computer not woken"),
    ("visiteur absent trop longtemps ou code faux", "visitor away too long, or wrong code"),
    ("visiteur absent (session verrouillée)", "visitor away (session locked)"),
    ("verrouillé : appareil branché", "locked: device plugged in"),
    ("Appareil branché", "Device plugged in"),
    ("Visiteur absent", "Visitor away"),
    ("Appareil branché : à vérifier", "Device plugged in: check it"),
    ("⛔ Appareil branché depuis la dernière vérification", "⛔ Device plugged in since the last check"),
    ("Un clavier ou un autre appareil a été branché sur ce poste : il refuse toute nouvelle session. Allez voir le poste : le câble du clavier, ce qui est branché entre le clavier et l'ordinateur, les prises USB. Retirez ce qui n'a rien à faire là, puis déverrouillez.", "A keyboard or another device was plugged into this computer: it refuses new sessions. Go and look at it: the keyboard's cable, anything plugged between the keyboard and the computer, the USB sockets. Remove what does not belong there, then unlock."),
    ("J'ai vérifié le poste : déverrouiller", "I checked the computer: unlock"),
    ("permanence", "help desk"),
    ("état inconnu", "unknown state"),
    ("Révoqué", "Revoked"),
    ("En ligne — ", "Online — "),
    ("En ligne", "Online"),
    ("Hors ligne", "Offline"),
    // Site pages.
    ("← Parc", "← Fleet"),
    ("Permanences — ", "Drop-in sessions — "),
    ("Permanences de la semaine", "This week's help desks"),
    ("Aucune permanence régulière.", "No regular help desk."),
    ("Permanences régulières", "Regular help desks"),
    ("Permanence", "Drop-in session"),
    ("Jours", "Days"),
    ("Horaires", "Hours"),
    ("Postes réservés", "Reserved computers"),
    ("Médiateur", "Mediator"),
    ("Créneaux supervisés ouverts", "Open supervised slots"),
    ("Aucun créneau ouvert en ce moment.", "No slot open right now."),
    ("Créneau supervisé", "Supervised slot"),
    (" — jusqu'à ", " — until "),
    ("Postes : ", "Computers: "),
    ("Prolonger jusqu'à dans (minutes)", "Extend until in (minutes)"),
    ("Prolonger", "Extend"),
    ("Fermer maintenant", "Close now"),
    ("Ouvrir un créneau supervisé maintenant", "Open a supervised slot now"),
    ("Postes", "Computers"),
    ("Intitulé", "Title"),
    ("Durée (minutes)", "Length (minutes)"),
    ("Ouvrir le créneau", "Open the slot"),
    ("Compteurs d'une permanence", "A help desk's counters"),
    (
        "À la fin de la permanence : combien de personnes, pour quelles démarches. Aucun nom.",
        "At the end of the help desk: how many people, for which procedures. No names.",
    ),
    ("Autre accompagnement", "Other assistance"),
    ("Jour", "Day"),
    ("Personnes reçues", "People received"),
    ("Enregistrer les compteurs", "Save the counters"),
    ("Sessions des visiteurs", "Visitors' sessions"),
    ("Postes du site", "The site's computers"),
    ("Action", "Action"),
    ("Ouvrir une session accompagnée", "Open a supervised session"),
    ("Motif affiché au visiteur", "Reason shown to the visitor"),
    ("Terminer la session", "End the session"),
    ("Site introuvable", "Site not found"),
    ("Créneau non ouvert", "Slot not opened"),
    ("Indiquez une durée en minutes.", "Give a length in minutes."),
    ("Choisissez au moins un poste.", "Choose at least one computer."),
    ("Créneau inchangé", "Slot unchanged"),
    ("Action inconnue", "Unknown action"),
    (
        "Choisissez d'ouvrir ou de terminer la session.",
        "Choose to open or to end the session.",
    ),
    ("Commande non envoyée", "Command not sent"),
    ("Compteurs non enregistrés", "Counters not saved"),
    ("Indiquez le nombre de personnes reçues.", "Give the number of people received."),
    // Weekdays.
    ("lundi", "Monday"),
    ("mardi", "Tuesday"),
    ("mercredi", "Wednesday"),
    ("jeudi", "Thursday"),
    ("vendredi", "Friday"),
    ("samedi", "Saturday"),
    ("dimanche", "Sunday"),
    // Tickets.
    ("Tickets d'accès libre — ", "Free-access tickets — "),
    (
        "Les codes sont anonymes ; ils ne sont affichés qu'une fois, pour être imprimés.",
        "The codes are anonymous; they are shown only once, to be printed.",
    ),
    ("Nombre de tickets", "Number of tickets"),
    ("Durée de chaque session (minutes)", "Length of each session (minutes)"),
    ("Valables pendant (jours)", "Valid for (days)"),
    ("Créer et imprimer", "Create and print"),
    ("Tickets non créés", "Tickets not created"),
    ("← Tickets", "← Tickets"),
    ("Imprimer", "Print"),
    ("Tickets — ", "Tickets — "),
    (" tickets de ", " tickets of "),
    (" minutes, valables jusqu'au ", " minutes, valid until "),
    ("Accès libre — ", "Free access — "),
    ("Tickets à imprimer", "Tickets to print"),
    // Reports.
    ("Période invalide", "Invalid period"),
    ("Rapport indisponible", "Report unavailable"),
    ("n'est pas une date (AAAA-MM-JJ)", "is not a date (YYYY-MM-DD)"),
    ("n'est pas une date valable", "is not a valid date"),
    (
        "la période va du premier au dernier jour, un an au plus",
        "the period goes from the first to the last day, one year at most",
    ),
    ("Rapport — ", "Report — "),
    ("Du", "From"),
    ("au", "to"),
    ("Afficher", "Show"),
    (" sessions (", " sessions ("),
    (" en accès libre, ", " free access, "),
    (" accompagnées), ", " supervised), "),
    (" h utilisées sur ", " h used of "),
    (" h disponibles", " h available"),
    (" : occupation ", ": occupancy "),
    ("Par permanence", "Per help desk"),
    ("Sessions par permanence", "Sessions per help desk"),
    ("Sessions", "Sessions"),
    ("Dont accompagnées", "Of which supervised"),
    ("Heures utilisées", "Hours used"),
    ("Démarches", "Procedures"),
    ("Télécharger (CSV)", "Download (CSV)"),
    ("Par poste financé", "Per funded computer"),
    ("Utilisation par poste", "Use per computer"),
    ("Inventaire", "Inventory"),
    ("Heures disponibles", "Hours available"),
    ("Occupation", "Occupancy"),
    ("Échecs d'effacement", "Wipe failures"),
    ("Disponibilité", "Availability"),
    ("Heures allumé", "Hours on"),
    (
        "heures de la période (jusqu'à maintenant) pendant lesquelles le poste a envoyé au moins une mesure de santé, qu'il soit ouvert ou non : un poste allumé en envoie une par minute ; un poste en veille ou éteint après la fermeture n'en envoie pas",
        "hours of the period (up to now) in which the computer sent at least one health snapshot, open or not: a computer that is on sends one a minute; one suspended or off after closing sends none",
    ),
    (
        "part des heures d'ouverture du poste (créneaux libres ou accompagnés) pendant lesquelles il a envoyé au moins une mesure de santé ; toutes les heures de la période pour un poste jamais ouvert",
        "share of the computer's open hours (free or supervised slots) in which it sent at least one health snapshot; every hour of the period for a computer never open",
    ),
    ("Télécharger (CSV, preuve FEDER)", "Download (CSV, ERDF evidence)"),
    (
        "Export « lieux de médiation numérique » (CSV national)",
        "“Digital mediation places” export (national CSV, in French)",
    ),
    (
        "Ce lieu est absent de l'export national tant que ces champs ne sont pas corrigés :",
        "This place is left out of the national export until these fields are corrected:",
    ),
    ("Export national : à savoir", "National export: good to know"),
    (
        "Export data·inclusion : accès libre et permanences (JSON national)",
        "data·inclusion export: free access and permanences (national JSON, in French)",
    ),
    ("Pour corriger : ", "To correct: "),
    ("Méthode", "Method"),
    // Report sources (commune_controller::reports::SourceKind).
    ("journal des sessions", "session log"),
    ("agrégats quotidiens anonymes", "anonymous daily aggregates"),
    ("aucune session enregistrée", "no session recorded"),
    ("Jours agrégés : ", "Aggregated days: "),
    (
        "comptes anonymes par poste et par jour : sans détail par permanence (les sessions accompagnées comptent dans « accompagne », les autres dans « libre », les heures réparties entre les deux au prorata des sessions) ni échecs d'effacement",
        "anonymous counts per computer and day: no detail per help desk (supervised sessions count in “accompagne”, the others in “libre”, hours shared between the two in proportion to sessions) and no wipe failures",
    ),
    // Report methods (commune_controller::reports::METHODS), for display only.
    (
        "sessions ouvertes pendant la période (journal technique des postes ; au-delà de sa durée de conservation, agrégats quotidiens anonymes par poste)",
        "sessions opened during the period (the computers' technical log; past its retention period, anonymous daily aggregates per computer)",
    ),
    (
        "somme des durées des sessions, mesurées par l'horloge monotone des postes",
        "sum of the sessions' lengths, measured by the computers' monotonic clock",
    ),
    (
        "heures en accès libre ou en permanence selon le planning actuel du site, pour chaque poste",
        "hours of free access or help desks in the site's current schedule, for each computer",
    ),
    ("heures utilisées / heures disponibles", "hours used / hours available"),
    (
        "sessions en accès libre / sessions en permanence (accompagnées)",
        "free-access sessions / supervised sessions",
    ),
    (
        "rapports d'effacement non vérifiés reçus pendant la période",
        "unverified wipe reports received during the period",
    ),
    (
        "saisies des médiateurs à la fin de chaque permanence (comptes, sans nom ; une personne venue deux fois compte deux fois)",
        "entered by the mediators at the end of each help desk (counts, no names; a person who came twice counts twice)",
    ),
    (
        "catégories de démarches de la liste nationale des rapports d'activité des médiateurs, saisies avec les personnes reçues",
        "procedure categories from the national list of the mediators' activity reports, entered with the people received",
    ),
    (
        "Thématiques (nombre de personnes, liste de La Coop de la médiation numérique)",
        "Themes (number of people, list of La Coop de la médiation numérique)",
    ),
    (
        "Démarches administratives (nombre de personnes par catégorie)",
        "Administrative procedures (number of people per category)",
    ),
    // La Coop's themes (commune_controller::reports::COOP_THEMES).
    ("Diagnostic numérique", "Digital skills assessment"),
    ("Prendre en main du matériel", "Getting started with a device"),
    ("Maintenance de matériel", "Device maintenance"),
    ("Navigation sur internet", "Browsing the internet"),
    ("E-mail", "E-mail"),
    ("Bureautique", "Office software"),
    ("Réseaux sociaux", "Social networks"),
    ("Santé", "Health"),
    ("Banque et achats en ligne", "Online banking and shopping"),
    ("Entrepreneuriat", "Entrepreneurship"),
    ("Insertion professionnelle", "Finding work"),
    ("Sécurité numérique", "Digital security"),
    ("Parentalité", "Parenting"),
    ("Scolarité et numérique", "School and digital"),
    ("Créer avec le numérique", "Creating with digital tools"),
    ("Culture numérique", "Digital culture"),
    ("Intelligence artificielle", "Artificial intelligence"),
    ("Gérer ses contenus numériques", "Managing one's digital content"),
    // La Coop's procedures (commune_controller::reports::COOP_PROCEDURES).
    ("Aide aux démarches administratives", "Help with administrative procedures"),
    ("Papiers, élections, citoyenneté", "Identity papers, elections, citizenship"),
    ("Famille, scolarité", "Family, schooling"),
    ("Social, santé", "Social, health"),
    ("Travail, formation", "Work, training"),
    ("Logement", "Housing"),
    ("Transports, mobilité", "Transport, mobility"),
    ("Argent, impôts", "Money, taxes"),
    ("Justice", "Justice"),
    ("Étrangers, Europe", "Foreigners, Europe"),
    ("Loisirs, sports, culture", "Leisure, sports, culture"),
    ("Associations", "Associations"),
    // Devices.
    ("Appareils", "Devices"),
    ("← Appareils", "← Devices"),
    ("Enrôler un poste", "Enroll a computer"),
    ("Validité du jeton (heures)", "Token validity (hours)"),
    ("Créer un jeton d'enrôlement", "Create an enrollment token"),
    ("Postes enrôlés et leur agent", "Enrolled computers and their agent"),
    ("Version de l'agent", "Agent version"),
    ("Certificat valable jusqu'au", "Certificate valid until"),
    ("(bientôt expiré)", "(expiring soon)"),
    ("Révoquer ", "Revoke "),
    ("Jeton d'enrôlement", "Enrollment token"),
    ("À usage unique, pour le site ", "Single use, for the site "),
    (". Sur le poste :", ". On the computer:"),
    ("<adresse:4433>", "<address:4433>"),
    ("Il n'est affiché qu'une fois.", "It is shown only once."),
    ("Jeton non créé", "Token not created"),
    ("Poste inconnu", "Unknown computer"),
    ("Échec", "Failure"),
    // One computer.
    ("Pas encore assez de mesures pour un graphique.", "Not enough measurements for a chart yet."),
    (
        "Trait plein : processeur (%). Tirets : mémoire utilisée (%).",
        "Solid line: processor (%). Dashes: memory used (%).",
    ),
    ("en cours", "ongoing"),
    ("temps écoulé", "time up"),
    ("fin du créneau", "end of the slot"),
    ("par le visiteur", "by the visitor"),
    ("par l'équipe", "by the staff"),
    ("redémarrage du poste", "computer restarted"),
    ("autre", "other"),
    ("Poste introuvable", "Computer not found"),
    ("Poste ", "Computer "),
    ("Site ", "Site "),
    (", agent ", ", agent "),
    (", identifiant ", ", id "),
    ("Santé (dernières 24 heures)", "Health (last 24 hours)"),
    ("Les mesures en tableau", "The measurements as a table"),
    ("Mesures de santé", "Health measurements"),
    ("Heure", "Time"),
    ("Processeur (%)", "Processor (%)"),
    ("Mémoire (%)", "Memory (%)"),
    ("Fabricant, modèle", "Manufacturer, model"),
    ("Numéro de série", "Serial number"),
    ("Étiquette d'inventaire", "Asset tag"),
    (" cœurs)", " cores)"),
    ("Adresses MAC", "MAC addresses"),
    ("Pas encore d'inventaire reçu.", "No inventory received yet."),
    ("Sessions récentes", "Recent sessions"),
    ("Sessions des 30 derniers jours", "Sessions of the last 30 days"),
    ("Début", "Start"),
    ("Type", "Type"),
    ("Durée (min)", "Length (min)"),
    ("Fin", "End"),
    ("accompagnée", "supervised"),
    ("accès libre", "free access"),
    ("Effacements récents", "Recent wipes"),
    ("Ce que chaque contrôle a vérifié, et comment", "What each check verified, and how"),
    ("Contrôles de l'effacement", "Checks of the wipe"),
    ("Contrôle", "Check"),
    ("Restes trouvés", "Leftovers found"),
    ("Éléments lus", "Items read"),
    ("vérifié", "verified"),
    ("NON vérifié", "NOT verified"),
    (" en ", " in "),
    // Roles and refusals (the controller's staff API decides; these word its refusals).
    ("Votre rôle ne permet pas cette action.", "Your role does not allow this action."),
    (
        "Vous ne prolongez ou ne fermez que les créneaux que vous avez ouverts.",
        "You only extend or close the slots you opened.",
    ),
    (
        "Ce poste n'est pas dans une de vos permanences en ce moment.",
        "This computer is not in one of your help desks right now.",
    ),
    (
        "Ce visiteur est en accès libre : c'est l'équipe de la MDH qui termine sa session.",
        "This visitor is on free access: the MDH's staff end their session.",
    ),
    (
        "Vous ne pouvez pas désactiver votre propre compte : demandez à un autre administrateur.",
        "You cannot disable your own account: ask another administrator.",
    ),
    ("Le mot de passe actuel n'est pas le bon.", "The current password is wrong."),
    (
        "Ouvert par une autre personne : elle seule, ou l'équipe de la MDH, le prolonge ou le ferme.",
        "Opened by someone else: only they, or the MDH's staff, extend or close it.",
    ),
    (
        "Vous ouvrez et terminez les sessions des postes de vos permanences seulement, pendant la permanence ; pas celles des visiteurs en accès libre.",
        "You open and end sessions only on the computers of your help desks, during the help desk; not free-access visitors' sessions.",
    ),
    // Accounts.
    ("Mon compte", "My account"),
    ("Comptes du personnel", "Staff accounts"),
    ("administration", "administration"),
    ("service informatique", "IT department"),
    ("personnel de la MDH", "MDH staff"),
    ("médiateur ou médiatrice", "mediator"),
    ("rôle inconnu", "unknown role"),
    ("tous les sites", "every site"),
    ("Nom affiché", "Name shown"),
    ("Rôle", "Role"),
    ("Changer mon mot de passe", "Change my password"),
    (
        "Vos autres sessions (autres navigateurs, autres ordinateurs) seront terminées.",
        "Your other sessions (other browsers, other computers) will end.",
    ),
    ("Mot de passe actuel", "Current password"),
    ("Nouveau mot de passe (12 caractères au moins)", "New password (at least 12 characters)"),
    ("Nouveau mot de passe, encore", "New password, again"),
    ("Changer le mot de passe", "Change the password"),
    ("Les deux nouveaux mots de passe ne sont pas les mêmes.", "The two new passwords differ."),
    (
        "Mot de passe changé. Vos autres sessions sont terminées.",
        "Password changed. Your other sessions have ended.",
    ),
    ("Un mot de passe a de 12 à 256 caractères.", "A password has 12 to 256 characters."),
    ("Mot de passe inchangé", "Password unchanged"),
    ("révoqué le ", "revoked on "),
    ("valable jusqu'au ", "valid until "),
    ("expiré le ", "expired on "),
    ("expiré", "expired"),
    ("désactivé", "disabled"),
    (" session(s) ouverte(s)", " session(s) open"),
    ("Réactiver le compte", "Enable the account"),
    ("Désactiver le compte", "Disable the account"),
    (
        "(ses sessions et ses jetons d'API cessent tout de suite)",
        "(its sessions and API tokens stop at once)",
    ),
    ("Terminer ses sessions", "End their sessions"),
    ("Jetons d'API", "API tokens"),
    ("Nom", "Name"),
    ("Créé le", "Created on"),
    ("Révoquer le jeton ", "Revoke the token "),
    (
        "Créer un compte, un jeton d'API : commandes « commune user create » et « commune user token » sur le serveur. Chaque action ici va au journal d'audit.",
        "To create an account or an API token: the “commune user create” and “commune user token” commands on the server. Every action here goes to the audit log.",
    ),
    ("Compte inchangé", "Account unchanged"),
    ("Jeton non révoqué", "Token not revoked"),
    // The report's charts and print view (reports.rs).
    ("Aucune heure d'ouverture sur la période.", "No opening hours in the period."),
    (
        "Occupation (%) par jour de la semaine et par heure",
        "Occupancy (%) by weekday and hour",
    ),
    (
        "Occupation par jour et par heure (tableau)",
        "Occupancy by day and hour (table)",
    ),
    ("Sessions par mois : ", "Sessions per month: "),
    ("accompagnées", "supervised"),
    ("Sessions par mois (tableau)", "Sessions per month (table)"),
    ("Mois", "Month"),
    (
        "Personnes reçues par permanence (le tableau ci-dessus donne les chiffres)",
        "People received per permanence (the table above gives the figures)",
    ),
    ("Imprimer (A4, dossier FEDER)", "Print (A4, ERDF file)"),
    ("Période : du ", "Period: from "),
    (" au ", " to "),
    (" (inclus).", " (included)."),
    ("Accès libre et accompagnement", "Free access and supervised sessions"),
    ("Méthode : ", "Method: "),
    ("Occupation par jour et par heure", "Occupancy by day and hour"),
    ("Tendance sur douze mois", "Trend over twelve months"),
    (
        "pour chaque jour de la semaine et chaque heure locale : heures-postes utilisées par les sessions / heures-postes ouvertes (accès libre ou permanence) selon le planning actuel, sur la période ; sessions du journal technique seulement (les agrégats quotidiens n'ont pas d'heure)",
        "for each weekday and local hour: computer-hours used by sessions / computer-hours open (free access or permanence) by the current schedule, over the period; sessions of the technical log only (the daily aggregates have no hours)",
    ),
    (
        "sessions ouvertes chaque mois local, sur les douze mois qui finissent avec la période (journal technique et agrégats quotidiens anonymes)",
        "sessions opened each local month, over the twelve months ending with the period (technical log and anonymous daily aggregates)",
    ),
    // The seat map (map.rs).
    ("Libres", "Free"),
    ("En session", "In session"),
    ("En fin de session", "Ending"),
    ("Fermés", "Closed"),
    ("Bloqués", "Blocked"),
    ("État inconnu", "Unknown state"),
    ("Libre", "Free"),
    ("Fin de session", "Session ending"),
    ("Effacement", "Wiping"),
    ("Fermé", "Closed"),
    ("Bloqué", "Blocked"),
    ("encore {} min", "{} min left"),
    ("jusqu'à ", "until "),
    ("Postes par état", "Computers by state"),
    ("Aucun poste enrôlé sur ce site.", "No computer enrolled at this site."),
    ("Fermé aujourd'hui : ", "Closed today: "),
    ("postes ", "computers "),
    ("le lendemain", "the next day"),
    ("créneau ouvert : ", "slot opened: "),
    ("Fermeture", "Closure"),
    ("Accès libre", "Free access"),
    ("Créneaux ouverts", "Opened slots"),
    ("Aujourd'hui", "Today"),
    (
        "Fermé aujourd'hui : pas d'horaires d'ouverture ni de permanence.",
        "Closed today: no opening hours and no permanence.",
    ),
    ("Maintenant : ", "Now: "),
    ("Détail des postes", "Computers in detail"),
    ("Portée", "Scope"),
    ("droits du compte", "the account's rights"),
    ("rôle : ", "role: "),
    ("sites : ", "sites: "),
    ("Appel : ", "Call: "),
    ("impression", "printing"),
    ("compte ou mot de passe", "account or password"),
    ("formulaire", "form"),
    ("autre besoin", "something else"),
    ("Je m'en occupe", "I'll take it"),
    ("Appel non pris", "Call not taken"),
    (
        "appels à un médiateur passés depuis les écrans des visiteurs, comptés une fois chacun à leur arrivée, par heure locale du site sur la période, par besoin choisi (impression, compte ou mot de passe, formulaire, autre) ; comptes anonymes : ni poste, ni session, ni visiteur",
        "calls for a mediator made from the visitors' screens, each counted once when it arrived, by the site's local hour over the period, by the need chosen (printing, account or password, form, other); anonymous counts: no computer, no session, no visitor",
    ),
    ("Appels à un médiateur", "Calls for a mediator"),
    ("Total", "Total"),
    ("Aucun appel sur la période.", "No call over the period."),
    ("Impressions", "Printing"),
    ("Impressions en attente de l'équipe", "Print jobs waiting for staff"),
    (
        "Ces impressions dépassent les pages gratuites du visiteur, ou leurs pages n'ont pas pu être comptées. Lancez-les après en avoir parlé avec le visiteur, ou annulez-les. Le titre et le contenu des documents restent sur le poste.",
        "These print jobs go beyond the visitor's free pages, or their pages could not be counted. Release them after talking with the visitor, or cancel them. The documents' titles and contents stay on the computer.",
    ),
    ("Impression n° ", "Print job no. "),
    ("pages", "pages"),
    ("pages non comptées", "pages not counted"),
    ("Lancer l'impression", "Release the print job"),
    ("Annuler l'impression", "Cancel the print job"),
    ("Impression inconnue", "Unknown print job"),
    ("Choisissez une impression de la page du poste.", "Choose a print job on the computer's page."),
    ("Impression inchangée", "Print job unchanged"),
    ("Pages imprimées : ", "Pages printed: "),
    ("dont lancées par l'équipe : ", "of which released by staff: "),
    ("Pages imprimées", "Pages printed"),
    (
        "pages envoyées à l'imprimante depuis les sessions du poste pendant la période, comptées par le poste avant l'impression (pages du document PDF × copies) et confirmées par le visiteur ou lancées par l'équipe ; une impression dont les pages n'ont pas pu être comptées compte 0 ; d'après les événements du poste, gardés comme le journal technique (un an)",
        "pages sent to the printer from the computer's sessions over the period, counted by the computer before printing (the PDF document's pages × copies) and confirmed by the visitor or released by staff; a job whose pages could not be counted counts 0; from the computer's events, kept like the technical log (one year)",
    ),
    (
        "parmi les pages imprimées, celles d'impressions au-delà des pages gratuites (ou non comptées) que l'équipe a lancées depuis la page du poste",
        "of the pages printed, those of jobs beyond the free pages (or not counted) that staff released from the computer's page",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_french_text_appears_once() {
        let mut seen = std::collections::HashSet::new();
        for (fr, en) in TEXTS {
            assert!(seen.insert(*fr), "« {fr} » twice in the table");
            assert!(!en.is_empty(), "« {fr} » has no English");
        }
    }

    #[test]
    fn english_on_request_french_otherwise() {
        assert_eq!(t(Lang::En, "Parc informatique"), "Computer fleet");
        assert_eq!(t(Lang::En, "Mot de passe"), "Password");
        assert_eq!(t(Lang::En, "dimanche"), "Sunday");
        assert_eq!(t(Lang::Fr, "Parc informatique"), "Parc informatique");
        // Not in the table: French rather than nothing.
        assert_eq!(t(Lang::En, "pas dans la table"), "pas dans la table");
    }

    #[test]
    fn cookie_picks_the_language_and_french_is_the_default() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Fr);
        h.insert(header::ACCEPT_LANGUAGE, "en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Fr);
        h.insert(header::COOKIE, "a=b; commune_lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(header::COOKIE, "commune_lang=de".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Fr);
    }

    #[test]
    fn back_only_to_this_site() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(back_to(&h), "/");
        h.insert(
            header::REFERER,
            "http://127.0.0.1:8080/appareils".parse().unwrap(),
        );
        assert_eq!(back_to(&h), "/appareils");
        h.insert(header::REFERER, "/sites/a/tickets".parse().unwrap());
        assert_eq!(back_to(&h), "/sites/a/tickets");
        h.insert(
            header::REFERER,
            "https://ailleurs.example/x".parse().unwrap(),
        );
        assert_eq!(back_to(&h), "/");
        h.insert(header::REFERER, "//ailleurs.example/x".parse().unwrap());
        assert_eq!(back_to(&h), "/");
    }
}
