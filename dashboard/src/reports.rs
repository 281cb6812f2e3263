//! Reports for a site over a period: sessions, hours used and available, occupancy, free
//! vs supervised, per permanence and per funded computer; as a page and as CSV files that
//! carry the method of each figure.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use commune_controller::reports::{SiteReport, METHODS};
use commune_controller::Controller;
use commune_protocol::UtcMillis;
use maud::html;
use serde::Deserialize;

use crate::auth::Staff;
use crate::page;

/// `?du=YYYY-MM-DD&au=YYYY-MM-DD` (inclusive days at the site); default: the last 30 days.
#[derive(Deserialize, Default)]
pub(crate) struct Period {
    du: Option<String>,
    au: Option<String>,
}

fn day_start(day: &str, zone: &str) -> Option<UtcMillis> {
    let date: jiff::civil::Date = day.parse().ok()?;
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let zoned = date.to_zoned(tz).ok()?;
    Some(UtcMillis(zoned.timestamp().as_millisecond()))
}

impl Period {
    /// `[from, to)` in UTC, or a sentence for the person.
    fn bounds(&self, zone: &str) -> Result<(UtcMillis, UtcMillis, String, String), String> {
        let today = jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::get(zone).map_err(|e| e.to_string())?)
            .date();
        let au = self
            .au
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.to_string());
        let du = self
            .du
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                today
                    .checked_sub(jiff::Span::new().days(29))
                    .unwrap_or(today)
                    .to_string()
            });
        let from = day_start(&du, zone)
            .ok_or_else(|| format!("« {du} » n'est pas une date (AAAA-MM-JJ)"))?;
        let end_day: jiff::civil::Date = au
            .parse()
            .map_err(|_| format!("« {au} » n'est pas une date (AAAA-MM-JJ)"))?;
        let to = end_day
            .tomorrow()
            .ok()
            .and_then(|d| day_start(&d.to_string(), zone))
            .ok_or_else(|| format!("« {au} » n'est pas une date valable"))?;
        if to <= from || to.0 - from.0 > 366 * 86_400_000 {
            return Err("la période va du premier au dernier jour, un an au plus".into());
        }
        Ok((from, to, du, au))
    }
}

async fn load(
    c: &Controller,
    staff: &Staff,
    site: &str,
    period: &Period,
) -> Result<(SiteReport, UtcMillis, UtcMillis, String, String), Response> {
    if !staff.identity.may_act_on(site) {
        return Err((
            StatusCode::FORBIDDEN,
            page("Accès refusé", html! { h1 { "Accès refusé" } p { "Vous ne voyez que les rapports de vos sites." } }),
        )
            .into_response());
    }
    let zone = c
        .site_schedule(site)
        .await
        .map(|(m, _)| m.time_zone)
        .unwrap_or_else(|_| "Europe/Paris".into());
    let (from, to, du, au) = period.bounds(&zone).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            page(
                "Période invalide",
                html! { h1 { "Période invalide" } p role="alert" { (e) } },
            ),
        )
            .into_response()
    })?;
    let report = c.site_report(site, from, to).await.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            page(
                "Rapport indisponible",
                html! { h1 { "Rapport indisponible" } p { (e.to_string()) } },
            ),
        )
            .into_response()
    })?;
    Ok((report, from, to, du, au))
}

fn fr(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

/// `GET /sites/{site}/rapports`.
pub(crate) async fn report_page(
    State(c): State<Controller>,
    Path(site): Path<String>,
    Query(period): Query<Period>,
    staff: Staff,
) -> Response {
    let (report, _, _, du, au) = match load(&c, &staff, &site, &period).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let available = report.hours_available();
    let used = report.hours_used();
    let sessions: u64 = report.lines.iter().map(|l| l.sessions).sum();
    let supervised: u64 = report.lines.iter().map(|l| l.supervised).sum();
    let query = format!("du={du}&au={au}");
    let incomplete = c
        .lieux_csv(std::slice::from_ref(&site))
        .await
        .map(|(_, left)| left)
        .unwrap_or_default();
    let body = html! {
        p { a href="/" { "← Parc" } " · " a href={"/sites/" (site) "/permanences"} { "Permanences" } }
        h1 { "Rapport — " (site) }
        form method="get" {
            label for="du" { "Du" } " " input #du name="du" type="date" value=(du);
            " " label for="au" { "au" } " " input #au name="au" type="date" value=(au);
            " " button type="submit" { "Afficher" }
        }
        p {
            (sessions) " sessions (" (sessions - supervised) " en accès libre, " (supervised) " accompagnées), "
            (fr(used)) " h utilisées sur " (fr(available)) " h disponibles"
            @if available > 0.0 { " : occupation " (fr(100.0 * used / available)) " %" } "."
        }
        h2 { "Par permanence" }
        table {
            caption.skip { "Sessions par permanence" }
            thead { tr { th scope="col" { "Permanence" } th scope="col" { "Sessions" } th scope="col" { "Dont accompagnées" }
                th scope="col" { "Heures utilisées" } th scope="col" { "Personnes reçues" } th scope="col" { "Démarches" } } }
            tbody { @for l in &report.lines { tr { td { (l.key) } td { (l.sessions) } td { (l.supervised) } td { (fr(l.hours_used)) }
                td { (l.people) } td { (l.categories.iter().map(|(k, v)| format!("{k} : {v}")).collect::<Vec<_>>().join(", ")) } } } }
        }
        p { a href={"/sites/" (site) "/rapports/permanences.csv?" (query)} { "Télécharger (CSV)" } }
        h2 { "Par poste financé" }
        table {
            caption.skip { "Utilisation par poste" }
            thead { tr { th scope="col" { "Poste" } th scope="col" { "Inventaire" } th scope="col" { "Sessions" }
                th scope="col" { "Heures disponibles" } th scope="col" { "Heures utilisées" } th scope="col" { "Occupation" }
                th scope="col" { "Échecs d'effacement" } } }
            tbody {
                @for s in &report.seats {
                    tr {
                        td { (s.hostname) } td { (s.asset_tag.clone().unwrap_or_default()) } td { (s.sessions) }
                        td { (fr(s.hours_available)) } td { (fr(s.hours_used)) }
                        td { @if s.hours_available > 0.0 { (fr(100.0 * s.hours_used / s.hours_available)) " %" } }
                        td { (s.wipe_failures) }
                    }
                }
            }
        }
        p { a href={"/sites/" (site) "/rapports/postes.csv?" (query)} { "Télécharger (CSV, preuve FEDER)" } }
        p { a href="/export/lieux-mediation-numerique.csv" { "Export « lieux de médiation numérique » (CSV national)" } }
        @if !incomplete.is_empty() {
            p role="status" { "Sites absents de l'export, description incomplète : "
                @for (site, problems) in &incomplete { (site) " (" (problems.join(", ")) ") " }
                "— " code { "commune site details" } }
        }
        h2 { "Méthode" }
        dl { @for (figure, method) in METHODS { dt { (figure) } dd { (method) } } }
    };
    page(&format!("Rapport — {site}"), body).into_response()
}

fn csv(name: String, text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}

/// `GET /sites/{site}/rapports/permanences.csv`.
pub(crate) async fn lines_csv(
    State(c): State<Controller>,
    Path(site): Path<String>,
    Query(period): Query<Period>,
    staff: Staff,
) -> Response {
    match load(&c, &staff, &site, &period).await {
        Ok((report, from, to, du, au)) => csv(
            format!("{site}-permanences-{du}-{au}.csv"),
            report.lines_csv(&site, from, to),
        ),
        Err(r) => r,
    }
}

/// `GET /sites/{site}/rapports/postes.csv`.
pub(crate) async fn seats_csv(
    State(c): State<Controller>,
    Path(site): Path<String>,
    Query(period): Query<Period>,
    staff: Staff,
) -> Response {
    match load(&c, &staff, &site, &period).await {
        Ok((report, from, to, du, au)) => csv(
            format!("{site}-postes-{du}-{au}.csv"),
            report.seats_csv(&site, from, to),
        ),
        Err(r) => r,
    }
}

/// `GET /export/lieux-mediation-numerique.csv`: the person's sites in the national schema.
pub(crate) async fn lieux(State(c): State<Controller>, staff: Staff) -> Response {
    let sites: Vec<String> = c
        .store()
        .sites()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| staff.identity.may_act_on(&s.id))
        .map(|s| s.id)
        .collect();
    match c.lieux_csv(&sites).await {
        Ok((text, left_out)) => {
            let mut response = csv("lieux-mediation-numerique.csv".into(), text);
            if !left_out.is_empty() {
                let names: Vec<String> = left_out.iter().map(|(s, _)| s.clone()).collect();
                if let Ok(v) = names.join(",").parse() {
                    response
                        .headers_mut()
                        .insert("x-commune-incomplete-sites", v);
                }
            }
            response
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
