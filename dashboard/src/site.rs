//! A site's pages for its staff: the permanences and supervised slots (open, extend, close
//! now on chosen seats; start or end a visitor's session), and free-access tickets (create a
//! batch and print its sheet). Every form carries the CSRF token; the controller's staff API
//! decides what the person may do (a mediator: their permanences only) and audits it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::Right;
use commune_controller::Controller;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Staff;
use crate::i18n::{t, Lang};
use crate::page;
use crate::refusal::staff_error;

fn failed(lang: Lang, title: &'static str, message: &str) -> Response {
    crate::refusal::failed(lang, StatusCode::BAD_REQUEST, title, message)
}

fn local_time(at: commune_protocol::UtcMillis, zone: &str) -> String {
    crate::local_time(at, zone, "%d/%m %H:%M")
}

const WEEKDAYS_FR: [(&str, &str); 7] = [
    ("monday", "lundi"),
    ("tuesday", "mardi"),
    ("wednesday", "mercredi"),
    ("thursday", "jeudi"),
    ("friday", "vendredi"),
    ("saturday", "samedi"),
    ("sunday", "dimanche"),
];

/// A weekday's name in the page's language; `day` is the schedule's English key.
fn weekday(lang: Lang, day: &str) -> String {
    WEEKDAYS_FR
        .iter()
        .find(|(en, _)| *en == day)
        .map(|(_, fr)| t(lang, fr).to_string())
        .unwrap_or_else(|| day.to_string())
}

/// `GET /sites/{site}/permanences`.
pub(crate) async fn permanences(
    State(c): State<Controller>,
    Path(site): Path<String>,
    staff: Staff,
) -> Response {
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let who = &staff.identity;
    let view = match c.staff_api(who).site(&site).await {
        Ok(v) => v,
        Err(e) => return staff_error(lang, "Site introuvable", &e),
    };
    let model = view.schedule;
    let fleet = view.seats;
    let live = c.live_seat_states();
    let now = commune_controller::now();
    let open: Vec<_> = model.ad_hoc.iter().filter(|s| s.end > now).collect();
    let today = jiff::tz::TimeZone::get(&model.time_zone)
        .map(|z| jiff::Zoned::now().with_time_zone(z).date().to_string())
        .unwrap_or_default();
    let csrf = staff.csrf.clone();
    let body: Markup = html! {
        p {
            a href="/" { (t("← Parc")) }
            @if who.may_at(Right::CreateTickets, &site) { " · " a href={"/sites/" (site) "/tickets"} { (t("Tickets")) } }
        }
        h1 { (t("Permanences — ")) (site) }
        h2 { (t("Permanences de la semaine")) }
        @if model.permanences.is_empty() {
            p { (t("Aucune permanence régulière.")) }
        } @else {
            table {
                caption.skip { (t("Permanences régulières")) }
                thead { tr { th scope="col" { (t("Permanence")) } th scope="col" { (t("Jours")) }
                    th scope="col" { (t("Horaires")) } th scope="col" { (t("Postes réservés")) } th scope="col" { (t("Médiateur")) } } }
                tbody {
                    @for p in &model.permanences {
                        tr {
                            td { (p.name) }
                            td { (p.weekdays.iter().map(|d| weekday(lang, &serde_json::to_value(d).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())).collect::<Vec<_>>().join(", ")) }
                            td { (p.start.to_string()) "–" (p.end.to_string()) }
                            td { (p.seats.join(", ")) }
                            td { (p.mediator) }
                        }
                    }
                }
            }
        }
        h2 { (t("Créneaux supervisés ouverts")) }
        @if open.is_empty() {
            p { (t("Aucun créneau ouvert en ce moment.")) }
        }
        @for slot in &open {
            section.slot aria-labelledby={"slot-" (slot.id)} {
                h3 id={"slot-" (slot.id)} { (slot.name.clone().unwrap_or_else(|| t("Créneau supervisé").into())) (t(" — jusqu'à ")) (local_time(slot.end, &model.time_zone)) }
                p { (t("Postes : ")) (slot.seats.join(", ")) }
                @if view.changeable_slots.contains(&slot.id) {
                    form method="post" action={"/sites/" (site) "/creneaux/" (slot.id) "/prolonger"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for={"minutes-" (slot.id)} { (t("Prolonger jusqu'à dans (minutes)")) } " "
                        input id={"minutes-" (slot.id)} name="minutes" type="number" min="1" max="720" value="30" required;
                        " " button type="submit" { (t("Prolonger")) }
                    }
                    form method="post" action={"/sites/" (site) "/creneaux/" (slot.id) "/fermer"} {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { (t("Fermer maintenant")) }
                    }
                } @else {
                    p { (t("Ouvert par une autre personne : elle seule, ou l'équipe de la MDH, le prolonge ou le ferme.")) }
                }
            }
        }
        h2 { (t("Ouvrir un créneau supervisé maintenant")) }
        form method="post" action={"/sites/" (site) "/creneaux"} {
            input type="hidden" name="csrf" value=(csrf);
            fieldset {
                legend { (t("Postes")) }
                @for a in &fleet {
                    p {
                        input type="checkbox" name="seat" id={"seat-" (a.overview.agent.id)} value=(a.overview.agent.id);
                        " "
                        label for={"seat-" (a.overview.agent.id)} { (a.overview.agent.hostname) }
                    }
                }
            }
            p {
                label for="slot-name" { (t("Intitulé")) } br;
                input #slot-name name="name" type="text" value="Écrivain public";
            }
            p {
                label for="slot-minutes" { (t("Durée (minutes)")) } br;
                input #slot-minutes name="minutes" type="number" min="1" max="720" value="120" required;
            }
            p { button type="submit" { (t("Ouvrir le créneau")) } }
        }
        h2 { (t("Compteurs d'une permanence")) }
        p { (t("À la fin de la permanence : combien de personnes, pour quelles démarches. Aucun nom.")) }
        form method="post" action={"/sites/" (site) "/compteurs"} {
            input type="hidden" name="csrf" value=(csrf);
            p {
                label for="counter-permanence" { (t("Permanence")) } br;
                select #counter-permanence name="permanence" {
                    @for p in &model.permanences { option value=(p.id) { (p.name) } }
                    @for slot in &model.ad_hoc { option value=(slot.id) { (slot.name.clone().unwrap_or_else(|| slot.id.clone())) } }
                    option value="accompagne" { (t("Autre accompagnement")) }
                }
            }
            p { label for="counter-day" { (t("Jour")) } br;
                input #counter-day name="day" type="date" value=(today) required; }
            p { label for="counter-people" { (t("Personnes reçues")) } br;
                input #counter-people name="people" type="number" min="0" max="10000" value="0" required; }
            fieldset {
                legend { (t("Thématiques (nombre de personnes, liste de La Coop de la médiation numérique)")) }
                @for (key, label) in commune_controller::reports::COOP_THEMES {
                    p {
                        label for={"cat-" (key)} { (t(label)) } " "
                        input id={"cat-" (key)} name={"cat-" (key)} type="number" min="0" max="10000" value="0";
                    }
                }
            }
            fieldset {
                legend { (t("Démarches administratives (nombre de personnes par catégorie)")) }
                @for (key, label) in commune_controller::reports::COOP_PROCEDURES {
                    p {
                        label for={"cat-" (key)} { (t(label)) } " "
                        input id={"cat-" (key)} name={"cat-" (key)} type="number" min="0" max="10000" value="0";
                    }
                }
            }
            p { button type="submit" { (t("Enregistrer les compteurs")) } }
        }
        h2 { (t("Sessions des visiteurs")) }
        @if !who.may(Right::AnySession) {
            p { (t("Vous ouvrez et terminez les sessions des postes de vos permanences seulement, pendant la permanence ; pas celles des visiteurs en accès libre.")) }
        }
        table {
            caption.skip { (t("Postes du site")) }
            thead { tr { th scope="col" { (t("Poste")) } th scope="col" { (t("État")) } th scope="col" { (t("Action")) } } }
            tbody {
                @for a in &fleet {
                    @let id = &a.overview.agent.id;
                    @let (text, class) = crate::seat_state(lang, a, &live);
                    tr {
                        td { (a.overview.agent.hostname) }
                        td { span class=(class) { (text) } }
                        td {
                            form method="post" action={"/sites/" (site) "/postes/" (id) "/session"} {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="action" value="start";
                                button type="submit" { (t("Ouvrir une session accompagnée")) }
                            }
                            form method="post" action={"/sites/" (site) "/postes/" (id) "/session"} {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="action" value="end";
                                label for={"reason-" (id)} { (t("Motif affiché au visiteur")) } " "
                                input id={"reason-" (id)} name="reason" type="text" value="Fin de la permanence";
                                " " button type="submit" { (t("Terminer la session")) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, &format!("{}{site}", t("Permanences — ")), body).into_response()
}

/// The open-a-slot form: `seat` repeats (checkboxes), `seats` is a comma-separated list.
#[derive(Default)]
struct OpenForm {
    csrf: Option<String>,
    seats: Vec<String>,
    minutes: u32,
    name: Option<String>,
}

impl OpenForm {
    fn parse(body: &[u8]) -> OpenForm {
        let mut form = OpenForm {
            minutes: 120,
            ..OpenForm::default()
        };
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "csrf" => form.csrf = Some(value.into_owned()),
                "seat" => form.seats.push(value.into_owned()),
                "seats" => form.seats.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                ),
                "minutes" => form.minutes = value.parse().unwrap_or(0),
                "name" if !value.trim().is_empty() => form.name = Some(value.into_owned()),
                _ => {}
            }
        }
        form
    }
}

/// `POST /sites/{site}/creneaux`: open a supervised slot now on the chosen seats.
pub(crate) async fn open_slot(
    State(c): State<Controller>,
    Path(site): Path<String>,
    staff: Staff,
    body: axum::body::Bytes,
) -> Response {
    let form = OpenForm::parse(&body);
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let seats = form.seats.clone();
    if form.minutes == 0 {
        return failed(
            staff.lang,
            "Créneau non ouvert",
            t(staff.lang, "Indiquez une durée en minutes."),
        );
    }
    if seats.is_empty() {
        return failed(
            staff.lang,
            "Créneau non ouvert",
            t(staff.lang, "Choisissez au moins un poste."),
        );
    }
    let until = commune_controller::now().plus_secs(i64::from(form.minutes.clamp(1, 12 * 60)) * 60);
    match c
        .staff_api(&staff.identity)
        .open_slot(&site, &seats, until, form.name.clone(), None)
        .await
    {
        Ok(_) => Redirect::to(&format!("/sites/{site}/permanences")).into_response(),
        Err(e) => staff_error(staff.lang, "Créneau non ouvert", &e),
    }
}

#[derive(Deserialize)]
pub(crate) struct SlotEndForm {
    csrf: Option<String>,
    minutes: Option<u32>,
}

async fn move_end(
    c: Controller,
    site: String,
    slot: String,
    staff: Staff,
    form: SlotEndForm,
    close: bool,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let api = c.staff_api(&staff.identity);
    let done = if close {
        api.close_slot(&site, &slot).await
    } else {
        let until = commune_controller::now()
            .plus_secs(i64::from(form.minutes.unwrap_or(30).clamp(1, 12 * 60)) * 60);
        api.extend_slot(&site, &slot, until).await
    };
    match done {
        Ok(()) => Redirect::to(&format!("/sites/{site}/permanences")).into_response(),
        Err(e) => staff_error(staff.lang, "Créneau inchangé", &e),
    }
}

/// `POST /sites/{site}/creneaux/{slot}/prolonger`.
pub(crate) async fn extend_slot(
    State(c): State<Controller>,
    Path((site, slot)): Path<(String, String)>,
    staff: Staff,
    Form(form): Form<SlotEndForm>,
) -> Response {
    move_end(c, site, slot, staff, form, false).await
}

/// `POST /sites/{site}/creneaux/{slot}/fermer`.
pub(crate) async fn close_slot(
    State(c): State<Controller>,
    Path((site, slot)): Path<(String, String)>,
    staff: Staff,
    Form(form): Form<SlotEndForm>,
) -> Response {
    move_end(c, site, slot, staff, form, true).await
}

#[derive(Deserialize)]
pub(crate) struct SessionForm {
    csrf: Option<String>,
    action: String,
    reason: Option<String>,
    /// A print job's number on the seat (`print_release`, `print_cancel`).
    job: Option<u32>,
}

/// `POST /sites/{site}/postes/{seat}/session`: start a supervised session for a visitor,
/// or end the visitor's session with a reason shown to them.
pub(crate) async fn seat_session(
    State(c): State<Controller>,
    Path((site, seat)): Path<(String, String)>,
    staff: Staff,
    Form(form): Form<SessionForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let api = c.staff_api(&staff.identity);
    let done = match form.action.as_str() {
        "start" => api.start_session(&site, &seat).await,
        "end" => {
            let reason = form
                .reason
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("Session terminée par l'équipe");
            api.end_session(&site, &seat, reason).await
        }
        "wake" => match api.wake_seat(&site, &seat).await {
            Ok(_) => return Redirect::to(&format!("/postes/{seat}")).into_response(),
            Err(e) => return staff_error(staff.lang, "Poste non réveillé", &e),
        },
        "print_release" | "print_cancel" => {
            let Some(job) = form.job else {
                return failed(
                    staff.lang,
                    "Impression inconnue",
                    t(staff.lang, "Choisissez une impression de la page du poste."),
                );
            };
            let done = if form.action == "print_release" {
                api.release_print_job(&site, &seat, job).await
            } else {
                api.cancel_print_job(&site, &seat, job).await
            };
            return match done {
                Ok(_) => Redirect::to(&format!("/postes/{seat}")).into_response(),
                Err(e) => staff_error(staff.lang, "Impression inchangée", &e),
            };
        }
        "devices" => match api.accept_devices(&site, &seat).await {
            Ok(_) => return Redirect::to(&format!("/postes/{seat}")).into_response(),
            Err(e) => Err(e),
        },
        _ => {
            return failed(
                staff.lang,
                "Action inconnue",
                t(staff.lang, "Choisissez d'ouvrir ou de terminer la session."),
            )
        }
    };
    match done {
        Ok(_) => Redirect::to(&format!("/sites/{site}/permanences")).into_response(),
        Err(e) => staff_error(staff.lang, "Commande non envoyée", &e),
    }
}

/// `GET /sites/{site}/tickets`.
pub(crate) async fn tickets_page(
    State(c): State<Controller>,
    Path(site): Path<String>,
    staff: Staff,
) -> Response {
    if let Err(e) = c.staff_api(&staff.identity).tickets_page(&site).await {
        return staff_error(staff.lang, "Tickets", &e);
    }
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let body = html! {
        p { a href="/" { (t("← Parc")) } " · " a href={"/sites/" (site) "/permanences"} { (t("Permanences")) } }
        h1 { (t("Tickets d'accès libre — ")) (site) }
        p { (t("Les codes sont anonymes ; ils ne sont affichés qu'une fois, pour être imprimés.")) }
        form method="post" action={"/sites/" (site) "/tickets"} {
            input type="hidden" name="csrf" value=(staff.csrf);
            p { label for="count" { (t("Nombre de tickets")) } br;
                input #count name="count" type="number" min="1" max="200" value="20" required; }
            p { label for="minutes" { (t("Durée de chaque session (minutes)")) } br;
                input #minutes name="minutes" type="number" min="5" max="240" value="45" required; }
            p { label for="days" { (t("Valables pendant (jours)")) } br;
                input #days name="days" type="number" min="1" max="90" value="7" required; }
            p { button type="submit" { (t("Créer et imprimer")) } }
        }
    };
    page(lang, &format!("{}{site}", t("Tickets — ")), body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct TicketsForm {
    csrf: Option<String>,
    count: usize,
    minutes: u32,
    days: u32,
}

/// `POST /sites/{site}/tickets`: create a batch and show its printable sheet.
pub(crate) async fn create_tickets(
    State(c): State<Controller>,
    Path(site): Path<String>,
    staff: Staff,
    Form(form): Form<TicketsForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let api = c.staff_api(&staff.identity);
    let until = commune_controller::now().plus_secs(i64::from(form.days.clamp(1, 90)) * 86_400);
    let codes = match api
        .create_tickets(&site, form.count.min(200), form.minutes, until)
        .await
    {
        Ok(codes) => codes,
        Err(e) => return staff_error(staff.lang, "Tickets non créés", &e),
    };
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let body = html! {
        p.noprint { a href={"/sites/" (site) "/tickets"} { (t("← Tickets")) } " · " button type="button" onclick="window.print()" { (t("Imprimer")) } }
        h1 { (t("Tickets — ")) (site) }
        p { (codes.len()) (t(" tickets de ")) (form.minutes) (t(" minutes, valables jusqu'au ")) (crate::local_time(until, &api.time_zone(&site).await, "%d/%m/%Y %H:%M")) "." }
        ul.tickets {
            @for code in &codes {
                li { span.code { (code) } br; (t("Accès libre — ")) (form.minutes) " min" }
            }
        }
    };
    page(lang, t("Tickets à imprimer"), body).into_response()
}

/// `POST /sites/{site}/compteurs`: a permanence's counters (counts only).
pub(crate) async fn record_counters(
    State(c): State<Controller>,
    Path(site): Path<String>,
    staff: Staff,
    body: axum::body::Bytes,
) -> Response {
    let mut csrf = None;
    let mut permanence = String::new();
    let mut day = String::new();
    let mut people: Option<u32> = None;
    let mut categories = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "csrf" => csrf = Some(value.into_owned()),
            "permanence" => permanence = value.into_owned(),
            "day" => day = value.into_owned(),
            "people" => people = value.parse().ok(),
            k => {
                if let Some(cat) = k.strip_prefix("cat-") {
                    if let Ok(n) = value.parse::<u32>() {
                        categories.push((cat.to_string(), n));
                    }
                }
            }
        }
    }
    if let Some(r) = staff.csrf_refusal(csrf.as_deref()) {
        return r;
    }
    let Some(people) = people else {
        return failed(
            staff.lang,
            "Compteurs non enregistrés",
            t(staff.lang, "Indiquez le nombre de personnes reçues."),
        );
    };
    match c
        .staff_api(&staff.identity)
        .record_counters(&site, &permanence, &day, people, &categories)
        .await
    {
        Ok(()) => Redirect::to(&format!("/sites/{site}/permanences")).into_response(),
        Err(e) => staff_error(staff.lang, "Compteurs non enregistrés", &e),
    }
}
