//! The staff web application. Server-rendered pages in French, `/metrics` for Prometheus.
//! It reads and acts on the fleet only through the controller's [`Controller`] handle; it
//! never speaks QUIC.
#![deny(unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;

pub mod api;
pub mod auth;
mod devices;
mod live;
mod reports;
mod seat;
mod site;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use commune_controller::{AgentView, Controller};
use commune_protocol::UtcMillis;
use maud::{html, Markup, DOCTYPE};

/// The dashboard's routes.
pub fn router(controller: Controller) -> Router {
    Router::new()
        .route("/", get(fleet_page))
        .route("/connexion", get(auth::login_page).post(auth::login))
        .route("/deconnexion", post(auth::logout))
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
        .route("/postes/{id}", get(seat::seat_page))
        .route("/appareils", get(devices::devices))
        .route("/appareils/jetons", post(devices::create_token))
        .route("/appareils/{id}/revoquer", post(devices::revoke))
        .route(
            "/sites/{site}/tickets",
            get(site::tickets_page).post(site::create_tickets),
        )
        .route("/evenements", get(live::events))
        .route("/api/v1/seats", get(api::seats))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(controller)
}

/// Serves the dashboard on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    controller: Controller,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(controller).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn metrics(State(c): State<Controller>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        c.metrics_text().await,
    )
        .into_response()
}

pub(crate) fn page(title: &str, body: Markup) -> Html<String> {
    Html(page_markup(title, body).into_string())
}

fn page_markup(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Commune" }
                style { (maud::PreEscaped(CSS)) }
            }
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header { p.brand { "Commune" } }
                main #contenu { (body) }
            }
        }
    }
}

const LIVE_JS: &str = "(function(){if(!window.EventSource)return;var es=new EventSource('/evenements');\
es.onmessage=function(e){var s=JSON.parse(e.data);Object.keys(s).forEach(function(id){\
var row=document.querySelector('tr[data-seat=\\''+id+'\\']');if(!row)return;var cell=row.querySelector('.etat');\
if(!cell||cell.textContent===s[id][0])return;var span=document.createElement('span');span.className=s[id][1];\
span.textContent=s[id][0];cell.replaceChildren(span);});};})();";

const CSS: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff;font-size:1rem;line-height:1.5}
header{background:#000091;color:#fff;padding:.5rem 1rem}.brand{margin:0;font-weight:700}
main{padding:1rem;max-width:80rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000091;padding:.25rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ccc}
.online{color:#18753c;font-weight:700}.offline{color:#b34000;font-weight:700}.revoked{color:#6a6a6a}
";

/// The seat state an agent reported, in French.
fn seat_label(state: Option<&str>) -> &'static str {
    match state {
        Some("ready") => "libre",
        Some("in_session") => "en session",
        Some("ending") => "fin de session",
        Some("wiping") => "effacement",
        Some("closed") => "fermé",
        Some("blocked") => "bloqué",
        Some("supervised") => "permanence",
        _ => "état inconnu",
    }
}

/// A number with a French decimal comma.
fn fr_decimal(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}").replace('.', ",")
}

fn ago(now: UtcMillis, then: UtcMillis) -> String {
    let secs = (now.0 - then.0).max(0) / 1000;
    match secs {
        0..=4 => "à l'instant".to_string(),
        5..=59 => format!("il y a {secs} s"),
        60..=3599 => format!("il y a {} min", secs / 60),
        _ => format!("il y a {} h", secs / 3600),
    }
}

/// A seat's state as the fleet page shows it: the text and its CSS class. The live updates
/// (`live.rs`) send the same pair.
pub(crate) fn state_text(
    revoked: bool,
    connected: bool,
    state: Option<&str>,
) -> (String, &'static str) {
    if revoked {
        ("Révoqué".into(), "revoked")
    } else if connected {
        (format!("En ligne — {}", seat_label(state)), "online")
    } else {
        ("Hors ligne".into(), "offline")
    }
}

fn state_cell(a: &AgentView, live: &std::collections::HashMap<String, String>) -> Markup {
    let state = live
        .get(&a.overview.agent.id)
        .map(String::as_str)
        .or(a.overview.seat_state.as_deref());
    let (text, class) = state_text(a.overview.agent.revoked_at.is_some(), a.connected, state);
    html! { span class=(class) { (text) } }
}

async fn fleet_page(State(c): State<Controller>, staff: auth::Staff) -> Response {
    let fleet = match c.fleet().await {
        Ok(f) => f
            .into_iter()
            .filter(|a| staff.identity.may_act_on(&a.overview.agent.site_id))
            .collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e, "fleet page unavailable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Le registre du parc est indisponible.",
            )
                .into_response();
        }
    };
    let now = commune_controller::now();
    let online = fleet.iter().filter(|a| a.connected).count();
    let live = c.live_seat_states();
    let alerts: Vec<_> = c
        .fleet_alerts()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| staff.identity.may_act_on(&a.site_id))
        .collect();
    let sites: Vec<_> = c
        .store()
        .sites()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| staff.identity.may_act_on(&s.id))
        .collect();
    let body = html! {
        form.logout method="post" action="/deconnexion" {
            (staff.identity.display_name) " "
            input type="hidden" name="csrf" value=(staff.csrf);
            button type="submit" { "Se déconnecter" }
        }
        h1 { "Parc informatique" }
        @if !alerts.is_empty() {
            section.alerts aria-labelledby="alertes" {
                h2 #alertes { "Alertes (" (alerts.len()) ")" }
                ul {
                    @for a in &alerts {
                        li { strong { (a.hostname) } " (" (a.site_id) ") : " (a.message) }
                    }
                }
            }
        }
        @if matches!(staff.identity.role, commune_controller::staff::Role::It | commune_controller::staff::Role::Admin) {
            p { a href="/appareils" { "Appareils : enrôlement, versions, révocation" } }
        }
        @if !sites.is_empty() {
            nav aria-label="Sites" {
                ul.sites {
                    @for site in &sites {
                        li {
                            (site.name) " : "
                            a href={"/sites/" (site.id) "/permanences"} { "Permanences" }
                            " · "
                            a href={"/sites/" (site.id) "/tickets"} { "Tickets" }
                            " · "
                            a href={"/sites/" (site.id) "/rapports"} { "Rapports" }
                        }
                    }
                }
            }
        }
        p { (fleet.len()) " postes enrôlés, " (online) " en ligne." }
        table {
            caption.skip { "Postes enrôlés" }
            thead { tr {
                th scope="col" { "Poste" } th scope="col" { "Site" } th scope="col" { "État" }
                th scope="col" { "Vu" } th scope="col" { "Processeur" } th scope="col" { "Mémoire" }
                th scope="col" { "Système" } th scope="col" { "Version" } th scope="col" { "Identifiant" }
            } }
            tbody {
                @for a in &fleet {
                    @let o = &a.overview;
                    tr data-seat=(o.agent.id) {
                        td { a href={"/postes/" (o.agent.id)} { (o.agent.hostname) } @if let Some(tag) = &o.asset_tag { " (" (tag) ")" } }
                        td { (o.agent.site_id) }
                        td.etat { (state_cell(a, &live)) }
                        td { @match o.last_seen_at { Some(t) => (ago(now, t)), None => "jamais" } }
                        td { @if let Some(h) = &o.health { (fr_decimal(h.cpu_percent, 0)) "\u{a0}%" } @else { "—" } }
                        td { @if let Some(h) = &o.health {
                            (fr_decimal(h.memory_used_bytes as f64 / 1073741824.0, 1)) " / " (fr_decimal(h.memory_total_bytes as f64 / 1073741824.0, 1)) "\u{a0}Gio"
                        } @else { "—" } }
                        td { @if let Some(h) = &o.health { (h.os) } @else { "—" } }
                        td { (o.agent.agent_version) }
                        td { code { (o.agent.id) } }
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
    page("Parc informatique", body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers_and_durations() {
        assert_eq!(fr_decimal(23.45, 1), "23,4");
        assert_eq!(seat_label(Some("closed")), "fermé");
        assert_eq!(seat_label(None), "état inconnu");
        assert_eq!(ago(UtcMillis(10_000), UtcMillis(9_000)), "à l'instant");
        assert_eq!(ago(UtcMillis(200_000), UtcMillis(0)), "il y a 3 min");
    }
}
