//! The staff web application. Server-rendered pages in French (English on request, see
//! [`i18n`]), `/metrics` for Prometheus.
//! It reads and acts on the fleet only through the controller's [`Controller`] handle; it
//! never speaks QUIC.
#![deny(unreachable_pub)]
// The OpenAPI document is one `json!` literal, deeper than the default limit allows.
#![recursion_limit = "256"]

use std::future::Future;

mod accounts;
pub mod api;
pub mod auth;
mod devices;
pub mod i18n;
mod live;
mod map;
mod period;
mod phone;
mod refusal;
mod reports;
pub(crate) mod room;
mod seat;
mod server;
mod site;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use commune_controller::staff::Right;
use commune_controller::{AgentView, Controller};
use commune_protocol::UtcMillis;
use i18n::{t, Lang};
use maud::{html, Markup, DOCTYPE};

/// The phone page's title, button and "already used or expired" sentence in a language of
/// the visitor screens (French for any other): for the tests that drive it.
pub fn phone_texts(lang: &str) -> (&'static str, &'static str, &'static str) {
    phone::words(lang)
}

/// The dashboard's routes.
pub fn router(controller: Controller) -> Router {
    let limits = controller.config().web.clone();
    let routes = Router::new()
        .route("/", get(fleet_page))
        .route("/connexion", get(auth::login_page).post(auth::login))
        .route("/deconnexion", post(auth::logout))
        .route("/langue/{code}", get(i18n::switch))
        .route("/sites/{site}/creneaux", post(site::open_slot))
        .route(
            "/sites/{site}/creneaux/{slot}/prolonger",
            post(site::extend_slot),
        )
        .route(
            "/sites/{site}/creneaux/{slot}/fermer",
            post(site::close_slot),
        )
        .route(
            "/sites/{site}/postes/{seat}/session",
            post(site::seat_session),
        )
        .route("/sites/{site}/permanences", get(site::permanences))
        .route("/sites/{site}/compteurs", post(site::record_counters))
        .route("/sites/{site}/rapports", get(reports::report_page))
        .route(
            "/sites/{site}/rapports/permanences.csv",
            get(reports::lines_csv),
        )
        .route("/sites/{site}/rapports/postes.csv", get(reports::seats_csv))
        .route("/export/lieux-mediation-numerique.csv", get(reports::lieux))
        .route(
            "/export/data-inclusion-services.json",
            get(reports::inclusion),
        )
        .route("/postes/{id}", get(seat::seat_page))
        .route("/postes/{id}/aide", post(map::take_call))
        .route("/appareils", get(devices::devices))
        .route("/appareils/jetons", post(devices::create_token))
        .route("/appareils/{id}/revoquer", post(devices::revoke))
        .route(
            "/sites/{site}/tickets",
            get(site::tickets_page).post(site::create_tickets),
        )
        .route("/evenements", get(live::events))
        .route("/compte", get(accounts::my_account))
        .route("/compte/mot-de-passe", post(accounts::change_my_password))
        .route("/comptes", get(accounts::accounts_page))
        .route("/comptes/{login}/desactiver", post(accounts::disable))
        .route("/comptes/{login}/activer", post(accounts::enable))
        .route("/comptes/{login}/deconnecter", post(accounts::end_sessions))
        .route(
            "/comptes/{login}/mot-de-passe",
            post(accounts::set_password),
        )
        .route(
            "/comptes/{login}/jetons/revoquer",
            post(accounts::revoke_token),
        )
        .route("/api/v1/seats", get(api::seats))
        .route("/api/v1/seats/{id}", get(api::seat))
        .route("/api/v1/sites/{site}/sessions", get(api::sessions))
        .route("/api/v1/sites/{site}/report", get(api::report))
        .route("/api/v1/sites/{site}/slots", post(api::open_slot))
        .route(
            "/api/v1/sites/{site}/slots/{slot}/extend",
            post(api::extend_slot),
        )
        .route(
            "/api/v1/sites/{site}/slots/{slot}",
            axum::routing::delete(api::close_slot),
        )
        .route("/api/v1/sites/{site}/tickets", post(api::create_tickets))
        .route("/api/v1/devices", get(api::devices))
        .route("/api/v1/devices/tokens", post(api::create_enrollment_token))
        .route("/api/v1/devices/{id}/revoke", post(api::revoke_device))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/salle/{site}", get(room::room))
        .route("/telephone/{id}", get(phone::page).post(phone::download))
        .with_state(controller);
    // Timeouts, the concurrency and body limits, and the security headers (server.rs).
    server::protect(routes, &limits)
}

/// Serves the dashboard on `listener` until `shutdown` resolves, within the limits of the
/// configuration's `[web]` section (connections, header and request timeouts: server.rs).
pub async fn serve(
    listener: tokio::net::TcpListener,
    controller: Controller,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = controller.config().web.clone();
    if let Ok(addr) = listener.local_addr() {
        controller.set_web_address(addr);
    }
    let served = server::serve(listener, router(controller.clone()), &limits, shutdown).await;
    // Refused logins of the last minute, aggregated, before the process goes.
    controller.flush_login_audit().await;
    served
}

/// `/metrics`: OpenMetrics to a scraper that asks for it (Prometheus does), the Prometheus
/// text format 0.0.4 otherwise (older scrapers, `curl`, `promtool check metrics`).
async fn metrics(State(c): State<Controller>, headers: axum::http::HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            c.metrics_text().await,
        )
            .into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            c.metrics_prometheus_text().await,
        )
            .into_response()
    }
}

pub(crate) fn page(lang: Lang, title: &str, body: Markup) -> Html<String> {
    Html(page_markup(lang, title, body).into_string())
}

fn page_markup(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Commune" }
                style { (maud::PreEscaped(CSS)) }
            }
            body {
                a.skip href="#contenu" { (t(lang, "Aller au contenu")) }
                header {
                    p.brand { "Commune" }
                    nav.lang aria-label=(t(lang, "Langue")) {
                        @match lang {
                            Lang::Fr => a href="/langue/en" lang="en" hreflang="en" { "English" },
                            Lang::En => a href="/langue/fr" lang="fr" hreflang="fr" { "Français" },
                        }
                    }
                }
                main #contenu { (body) }
            }
        }
    }
}

/// The fleet page's script: the table's states and the seat map's tiles and counts, live by
/// server-sent events, and the time left of each session counting down. A few lines, no
/// application framework; the Content-Security-Policy allows it by its hash.
const LIVE_JS: &str = "(function(){var carte=document.getElementById('carte');var skew=0;\
function q(s){return document.querySelector(s);}\
function left(){if(!carte)return;var tpl=carte.getAttribute('data-left');\
document.querySelectorAll('.reste[data-ends]').forEach(function(el){\
var m=Math.max(0,Math.ceil((+el.getAttribute('data-ends')-Date.now()-skew)/60000));el.textContent=tpl.replace('{}',m);});}\
function recount(){document.querySelectorAll('section.site').forEach(function(sec){var n={};\
sec.querySelectorAll('li[data-kind]').forEach(function(t){var k=t.getAttribute('data-kind');n[k]=(n[k]||0)+1;});\
sec.querySelectorAll('[data-count]').forEach(function(c){var v=String(n[c.getAttribute('data-count')]||0);if(c.textContent!==v)c.textContent=v;});});}\
if(carte)skew=+carte.getAttribute('data-now')-Date.now();left();setInterval(left,15000);\
if(!window.EventSource)return;var es=new EventSource('/evenements');\
es.onmessage=function(e){var s=JSON.parse(e.data);Object.keys(s).forEach(function(id){\
var row=q('tr[data-seat=\"'+CSS.escape(id)+'\"]');if(!row)return;var cell=row.querySelector('.etat');\
if(!cell||cell.textContent===s[id][0])return;var span=document.createElement('span');span.className=s[id][1];\
span.textContent=s[id][0];cell.replaceChildren(span);});};\
es.addEventListener('tuiles',function(e){var d=JSON.parse(e.data);skew=d.now-Date.now();\
Object.keys(d.seats).forEach(function(id){var v=d.seats[id];var li=q('li[data-tile=\"'+CSS.escape(id)+'\"]');if(!li)return;\
li.className='tile '+v.kind;li.setAttribute('data-kind',v.kind);li.querySelector('.symbole').textContent=v.symbol;\
li.querySelector('.libelle').textContent=v.label;var fin=li.querySelector('.fin');fin.replaceChildren();\
if(v.until&&v.ends_at!==null){fin.append(v.until+' (');var r=document.createElement('span');r.className='reste';\
r.setAttribute('data-ends',v.ends_at);fin.append(r,')');}\
var ap=li.querySelector('.appel');if(ap&&(ap.getAttribute('data-call')||'')!==(v.call?v.call.id:'')){ap.replaceChildren();\
ap.setAttribute('data-call',v.call?v.call.id:'');if(v.call){var sp=document.createElement('span');sp.className='appel-texte';\
sp.textContent=v.call.text;var f=document.createElement('form');f.method='post';f.action='/postes/'+encodeURIComponent(id)+'/aide';\
[['csrf',carte.getAttribute('data-csrf')],['appel',v.call.id]].forEach(function(p){var i=document.createElement('input');\
i.type='hidden';i.name=p[0];i.value=p[1];f.append(i);});var b=document.createElement('button');b.type='submit';\
b.textContent=carte.getAttribute('data-take');f.append(b);ap.append(sp,f);}}});recount();left();});})();";

pub(crate) const CSS: &str = "
body.salle{font-size:1.6rem}body.salle main{max-width:none;padding:2rem}.grand{font-size:2.6rem;font-weight:700;margin:.5rem 0}
.libre{color:#18753c}.occupe{color:#b34000}.autres{font-size:1.4rem;color:#3a3a3a;margin:.2rem 0}.maintenant{color:#3a3a3a}
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff;font-size:1rem;line-height:1.5}
header{background:#000091;color:#fff;padding:.5rem 1rem;display:flex;justify-content:space-between;align-items:center}
.brand{margin:0;font-weight:700}header a{color:#fff}
main{padding:1rem;max-width:80rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000091;padding:.25rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ccc}
.online{color:#18753c;font-weight:700}.offline{color:#b34000;font-weight:700}.revoked{color:#6a6a6a}
.defile{overflow-x:auto}
section.site{border:1px solid #ccc;border-radius:.5rem;padding:.5rem 1rem;margin:1rem 0}
section.site h2{margin:.25rem 0}
ul.comptes{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:.25rem 0}
ul.tuiles{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.5rem}
li.tile a{display:flex;flex-direction:column;padding:.5rem;border:2px solid #666;border-radius:.4rem;color:#1b1b1b;text-decoration:none;min-height:4.5rem}
li.tile a:focus{outline:3px solid #000091;outline-offset:2px}
li.tile .poste{font-weight:700;overflow-wrap:anywhere}
li.tile .appel:not(:empty){border:3px solid #b34000;border-top:none;border-radius:0 0 .4rem .4rem;padding:.25rem .5rem;background:#fff4e6}
li.tile .appel-texte{display:block;font-weight:700;color:#7a2e00}
li.free a{background:#e3f4e8;border-color:#18753c}li.session a{background:#e8edff;border-color:#000091}
li.ending a{background:#fff4d6;border-color:#7a5c00}li.supervised a{background:#f3e8ff;border-color:#6e3aa8}
li.closed a{background:#eee;border-color:#6a6a6a}li.offline a{background:#fff;border-style:dashed;border-color:#b34000}
li.blocked a{background:#ffe9e6;border-color:#ce0500;border-width:3px}li.revoked a{background:#f6f6f6;color:#555}
.frise rect.open{fill:#18753c}.frise rect.permanence{fill:#6e3aa8}.frise rect.slot{fill:#000091}.frise rect.closure{fill:#6a6a6a}
.journee h3{margin:.5rem 0 0;font-size:1rem}ul.programme{margin:.25rem 0}
svg.frise{max-width:60rem;display:block}
figure.graphique{margin:.5rem 0;max-width:60rem}figure.graphique svg{display:block}svg.chaleur{max-width:42rem}
.legende-libre{color:#000091}.legende-accompagne{color:#6e3aa8}
.methode{font-size:.9rem;color:#3a3a3a;max-width:60rem}
table.donnees caption{text-align:left;font-weight:700;padding:.25rem 0}
@media print{@page{size:A4;margin:14mm}
header,.skip,.noprint,form,nav.lang,#carte~script{display:none!important}
body{font-size:10pt;color:#000}main{padding:0;max-width:none}a{color:#000;text-decoration:none}
h1{font-size:16pt;margin:0 0 .25rem}h2{font-size:12.5pt;break-after:avoid}
section.figure,figure,tr{break-inside:avoid}.defile{overflow:visible}
th,td{padding:.15rem .3rem}figure.graphique svg{max-width:16cm}svg.chaleur{max-width:14cm}
*{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
";

/// The seat state an agent reported, in the page's language.
fn seat_label(lang: Lang, state: Option<&str>) -> &'static str {
    t(lang, seat_label_fr(state))
}

fn seat_label_fr(state: Option<&str>) -> &'static str {
    match state {
        Some("ready") => "libre",
        Some("in_session") => "en session",
        Some("ending") => "fin de session",
        Some("wiping") => "effacement",
        Some("closed") => "fermé",
        Some("blocked") => "bloqué",
        Some("supervised") => "permanence",
        Some("stepped_away") => "visiteur absent (session verrouillée)",
        Some("device_alarm") => "verrouillé : appareil branché",
        _ => "état inconnu",
    }
}

/// A number with the language's decimal separator (a comma in French).
fn decimal(lang: Lang, value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// `at` in the time zone `zone` (IANA name), with a strftime format; RFC 3339 in UTC when
/// the zone is unknown.
pub(crate) fn local_time(at: UtcMillis, zone: &str, format: &str) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .ok()
        .and_then(|t| jiff::tz::TimeZone::get(zone).ok().map(|z| t.to_zoned(z)))
        .map(|z| z.strftime(format).to_string())
        .unwrap_or_else(|| at.to_string())
}

fn ago(lang: Lang, now: UtcMillis, then: UtcMillis) -> String {
    let secs = (now.0 - then.0).max(0) / 1000;
    let (n, unit) = match secs {
        0..=4 => return t(lang, "à l'instant").to_string(),
        5..=59 => (secs, "s"),
        60..=3599 => (secs / 60, "min"),
        _ => (secs / 3600, "h"),
    };
    match lang {
        Lang::Fr => format!("il y a {n} {unit}"),
        Lang::En => format!("{n} {unit} ago"),
    }
}

/// An alert's sentence. The controller words it in French; in English it is rebuilt from
/// the alert's kind and the seat's own figures.
fn alert_text(
    lang: Lang,
    alert: &commune_controller::alerts::FleetAlert,
    seat: Option<&AgentView>,
) -> String {
    if lang == Lang::Fr {
        return alert.message.clone();
    }
    match alert.kind.as_str() {
        "offline_while_open" => format!(
            "offline during opening hours (last seen {})",
            seat.and_then(|a| a.overview.last_seen_at)
                .map(|t| t.to_string())
                .unwrap_or_else(|| "never".into())
        ),
        "blocked" => "computer blocked after an unverified wipe: call IT".into(),
        "certificate_expiring" => match seat {
            Some(a) => format!(
                "certificate valid until {}: enroll the computer again",
                a.overview.agent.cert_not_after
            ),
            None => "certificate expiring soon: enroll the computer again".into(),
        },
        "wipe_failed" => "wipe not verified: computer blocked".into(),
        "device_alarm" => "device plugged in since the last check: computer locked; check the cable and keyboard, then unlock it from the computer's page".into(),
        "disk_full" => "disk almost full".into(),
        "outbox_filling" => "event queue almost full (controller unreachable?)".into(),
        "ticket_double_use" => "ticket used twice while offline".into(),
        _ => "alert from the computer".into(),
    }
}

/// A seat's state as the fleet page shows it: the text and its CSS class. The live updates
/// (`live.rs`) send the same pair.
pub(crate) fn state_text(
    lang: Lang,
    revoked: bool,
    connected: bool,
    state: Option<&str>,
) -> (String, &'static str) {
    if revoked {
        (t(lang, "Révoqué").into(), "revoked")
    } else if connected {
        (
            format!("{}{}", t(lang, "En ligne — "), seat_label(lang, state)),
            "online",
        )
    } else {
        (t(lang, "Hors ligne").into(), "offline")
    }
}

/// A seat's state text and class: what it reported last (live, else stored), whether it is
/// connected now, whether it is revoked. The fleet page, the live stream and the site pages
/// all use this one.
pub(crate) fn seat_state(
    lang: Lang,
    a: &AgentView,
    live: &std::collections::HashMap<String, String>,
) -> (String, &'static str) {
    state_text(
        lang,
        a.overview.agent.revoked_at.is_some(),
        a.connected,
        reported_state(a, live),
    )
}

/// The state a seat reported last: live from memory while connected, else as stored.
pub(crate) fn reported_state<'a>(
    a: &'a AgentView,
    live: &'a std::collections::HashMap<String, String>,
) -> Option<&'a str> {
    live.get(&a.overview.agent.id)
        .map(String::as_str)
        .or(a.overview.seat_state.as_deref())
}

fn state_cell(
    lang: Lang,
    a: &AgentView,
    live: &std::collections::HashMap<String, String>,
) -> Markup {
    let (text, class) = seat_state(lang, a, live);
    html! { span class=(class) { (text) } }
}

async fn fleet_page(State(c): State<Controller>, lang: Lang, staff: auth::Staff) -> Response {
    let t = |fr: &'static str| t(lang, fr);
    let who = &staff.identity;
    let api = c.staff_api(who);
    let fleet = match api.fleet().await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "fleet page unavailable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                t("Le registre du parc est indisponible."),
            )
                .into_response();
        }
    };
    let now = commune_controller::now();
    let online = fleet.iter().filter(|a| a.connected).count();
    let live = c.live_seat_states();
    let alerts = api.alerts().await.unwrap_or_default();
    let sites = api.sites().await.unwrap_or_default();
    let ends = c.live_session_ends();
    let calls = c.open_help_calls();
    let mut maps = Vec::with_capacity(sites.len());
    for site in &sites {
        maps.push((site, api.schedule(&site.id).await.ok().map(|(s, _)| s)));
    }
    let body = html! {
        form.logout method="post" action="/deconnexion" {
            (who.display_name) " "
            a href="/compte" { (t("Mon compte")) } " "
            input type="hidden" name="csrf" value=(staff.csrf);
            button type="submit" { (t("Se déconnecter")) }
        }
        h1 { (t("Parc informatique")) }
        @if !alerts.is_empty() {
            section.alerts aria-labelledby="alertes" {
                h2 #alertes { (t("Alertes (")) (alerts.len()) ")" }
                ul {
                    @for a in &alerts {
                        li {
                            strong { (a.hostname) } " (" (a.site_id) ")" (if lang == Lang::Fr { " : " } else { ": " })
                            (alert_text(lang, a, fleet.iter().find(|f| f.overview.agent.id == a.agent_id)))
                        }
                    }
                }
            }
        }
        @if who.may(Right::ManageDevices) {
            p { a href="/appareils" { (t("Appareils : enrôlement, versions, révocation")) } }
        }
        @if who.may(Right::ManageAccounts) {
            p { a href="/comptes" { (t("Comptes du personnel")) } }
        }
        @if !sites.is_empty() {
            nav aria-label=(t("Sites")) {
                ul.sites {
                    @for site in &sites {
                        li {
                            (site.name) (if lang == Lang::Fr { " : " } else { ": " })
                            a href={"/sites/" (site.id) "/permanences"} { (t("Permanences")) }
                            @if who.may_at(Right::CreateTickets, &site.id) {
                                " · "
                                a href={"/sites/" (site.id) "/tickets"} { (t("Tickets")) }
                            }
                            @if who.may_at(Right::SeeReports, &site.id) {
                                " · "
                                a href={"/sites/" (site.id) "/rapports"} { (t("Rapports")) }
                            }
                        }
                    }
                }
            }
        }
        p { (fleet.len()) (t(" postes enrôlés, ")) (online) (t(" en ligne.")) }
        // The seat map: per site, its seats as tiles and today's timeline.
        div #carte data-now=(now.0) data-left=(map::left_template(lang)) data-csrf=(staff.csrf)
            data-take=(t("Je m'en occupe")) {
            @for (site, schedule) in &maps {
                @let seats: Vec<&AgentView> = fleet.iter().filter(|a| a.overview.agent.site_id == site.id).collect();
                (map::site_section(lang, site, schedule.as_ref(), &seats, &live, &ends, &calls, now, &staff.csrf))
            }
        }
        h2 #detail { (t("Détail des postes")) }
        // Wide: scrolls on its own at 200 % zoom rather than the whole page.
        div.defile role="region" aria-labelledby="detail" tabindex="0" {
        table {
            caption.skip { (t("Postes enrôlés")) }
            thead { tr {
                th scope="col" { (t("Poste")) } th scope="col" { (t("Site")) } th scope="col" { (t("État")) }
                th scope="col" { (t("Vu")) } th scope="col" { (t("Processeur")) } th scope="col" { (t("Mémoire")) }
                th scope="col" { (t("Système")) } th scope="col" { (t("Version")) }
                // Not `t`: "Identifiant" is also the login form's "Login".
                th scope="col" { (if lang == Lang::Fr { "Identifiant" } else { "Id" }) }
            } }
            tbody {
                @for a in &fleet {
                    @let o = &a.overview;
                    tr data-seat=(o.agent.id) {
                        td { a href={"/postes/" (o.agent.id)} { (o.agent.hostname) } @if let Some(tag) = &o.asset_tag { " (" (tag) ")" } }
                        td { (o.agent.site_id) }
                        td.etat { (state_cell(lang, a, &live)) }
                        td { @match o.last_seen_at { Some(at) => (ago(lang, now, at)), None => (t("jamais")) } }
                        td { @if let Some(h) = &o.health { (decimal(lang, h.cpu_percent, 0)) "\u{a0}%" } @else { "—" } }
                        td { @if let Some(h) = &o.health {
                            (decimal(lang, h.memory_used_bytes as f64 / 1073741824.0, 1)) " / " (decimal(lang, h.memory_total_bytes as f64 / 1073741824.0, 1)) "\u{a0}" (t("Gio"))
                        } @else { "—" } }
                        td { @if let Some(h) = &o.health { (h.os) } @else { "—" } }
                        td { (o.agent.agent_version) }
                        td { code { (o.agent.id) } }
                    }
                }
            }
        }
        }
    };
    let body = html! {
        (body)
        // Live states by server-sent events: a few lines, no application framework.
        script { (maud::PreEscaped(LIVE_JS)) }
    };
    page(lang, t("Parc informatique"), body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_site_time_zone() {
        // 2026-11-23 08:25 UTC is 09:25 in Grenoble; an unknown zone shows UTC, marked Z.
        let at = UtcMillis(1_795_422_300_000);
        assert_eq!(local_time(at, "Europe/Paris", "%d/%m %H:%M"), "23/11 09:25");
        assert!(local_time(at, "Nowhere/Nothing", "%d/%m %H:%M").ends_with('Z'));
    }

    #[test]
    fn french_numbers_and_durations() {
        assert_eq!(decimal(Lang::Fr, 23.45, 1), "23,4");
        assert_eq!(seat_label(Lang::Fr, Some("closed")), "fermé");
        assert_eq!(seat_label(Lang::Fr, None), "état inconnu");
        assert_eq!(
            ago(Lang::Fr, UtcMillis(10_000), UtcMillis(9_000)),
            "à l'instant"
        );
        assert_eq!(
            ago(Lang::Fr, UtcMillis(200_000), UtcMillis(0)),
            "il y a 3 min"
        );
    }

    #[test]
    fn english_numbers_durations_and_states() {
        assert_eq!(decimal(Lang::En, 23.45, 1), "23.4");
        assert_eq!(seat_label(Lang::En, Some("in_session")), "in session");
        assert_eq!(ago(Lang::En, UtcMillis(200_000), UtcMillis(0)), "3 min ago");
        assert_eq!(
            state_text(Lang::En, false, true, Some("supervised")),
            ("Online — help desk".to_string(), "online")
        );
        assert_eq!(state_text(Lang::En, true, true, None).0, "Revoked");
    }
}
