//! Reports for a site over a period: sessions, hours used and available, occupancy, free
//! vs supervised, per permanence and per funded computer; as a page and as CSV files that
//! carry the method of each figure.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use commune_controller::lieux::NationalExport;
use commune_controller::reports::{
    ReportSource, SiteReport, SourceKind, AGGREGATES_LIMITS, METHODS,
};
use commune_controller::Controller;
use commune_protocol::UtcMillis;
use maud::html;
use serde::Deserialize;

use crate::auth::Staff;
use crate::i18n::{t, Lang};
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
    fn bounds(
        &self,
        lang: Lang,
        zone: &str,
    ) -> Result<(UtcMillis, UtcMillis, String, String), String> {
        let quoted = |day: &str, problem: &'static str| match lang {
            Lang::Fr => format!("« {day} » {problem}"),
            Lang::En => format!("“{day}” {}", t(lang, problem)),
        };
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
        let from =
            day_start(&du, zone).ok_or_else(|| quoted(&du, "n'est pas une date (AAAA-MM-JJ)"))?;
        let end_day: jiff::civil::Date = au
            .parse()
            .map_err(|_| quoted(&au, "n'est pas une date (AAAA-MM-JJ)"))?;
        let to = end_day
            .tomorrow()
            .ok()
            .and_then(|d| day_start(&d.to_string(), zone))
            .ok_or_else(|| quoted(&au, "n'est pas une date valable"))?;
        if to <= from || to.0 - from.0 > 366 * 86_400_000 {
            return Err(t(
                lang,
                "la période va du premier au dernier jour, un an au plus",
            )
            .into());
        }
        Ok((from, to, du, au))
    }
}

/// The report of `site` over the period asked; `export` names the file when it is
/// downloaded (the staff API audits exports).
async fn load(
    c: &Controller,
    staff: &Staff,
    site: &str,
    period: &Period,
    export: Option<&str>,
) -> Result<(SiteReport, UtcMillis, UtcMillis, String, String), Response> {
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let api = c.staff_api(&staff.identity);
    let zone = api.time_zone(site).await;
    let (from, to, du, au) = period.bounds(lang, &zone).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            page(
                lang,
                t("Période invalide"),
                html! { h1 { (t("Période invalide")) } p role="alert" { (e) } },
            ),
        )
            .into_response()
    })?;
    let report = match export {
        Some(file) => api.export_report(site, from, to, file).await,
        None => api.report(site, from, to).await,
    };
    let report =
        report.map_err(|e| crate::refusal::staff_error(lang, "Rapport indisponible", &e))?;
    Ok((report, from, to, du, au))
}

/// The English version of a report method (`METHODS` stays French for the CSV files).
fn method(lang: Lang, figure: &str, french: &'static str) -> (String, &'static str) {
    let figure = match (lang, figure) {
        (Lang::Fr, f) => f.to_string(),
        (Lang::En, "heures_utilisees") => "hours_used".into(),
        (Lang::En, "heures_disponibles") => "hours_available".into(),
        (Lang::En, "occupation") => "occupancy".into(),
        (Lang::En, "disponibilite") => "availability".into(),
        (Lang::En, "libre_accompagne") => "free_supervised".into(),
        (Lang::En, "echecs_effacement") => "wipe_failures".into(),
        (Lang::En, "personnes_recues") => "people_received".into(),
        (Lang::En, f) => f.to_string(),
    };
    (figure, t(lang, french))
}

/// Where the report's sessions come from, part by part: "Source : journal des sessions du
/// … au … ; agrégats quotidiens anonymes du … au …".
fn sources_text(lang: Lang, sources: &[ReportSource]) -> String {
    let date = |d: jiff::civil::Date| match lang {
        Lang::Fr => d.strftime("%d/%m/%Y").to_string(),
        Lang::En => d.to_string(),
    };
    let parts: Vec<String> = sources
        .iter()
        .map(|s| {
            let label = t(lang, s.kind.label());
            let (first, last) = (date(s.first_day), date(s.last_day));
            match (lang, s.first_day == s.last_day) {
                (Lang::Fr, true) => format!("{label} le {first}"),
                (Lang::Fr, false) => format!("{label} du {first} au {last}"),
                (Lang::En, true) => format!("{label} on {first}"),
                (Lang::En, false) => format!("{label} from {first} to {last}"),
            }
        })
        .collect();
    match lang {
        Lang::Fr => format!("Source : {}.", parts.join(" ; ")),
        Lang::En => format!("Source: {}.", parts.join("; ")),
    }
}

/// A procedure category's label, from its key.
fn category(lang: Lang, key: &str) -> String {
    commune_controller::reports::category_label(key)
        .map(|label| t(lang, label).to_string())
        .unwrap_or_else(|| key.to_string())
}

/// Horizontal bars of each computer's occupancy (decorative: the table below carries the
/// same figures for screen readers).
fn occupancy_chart(report: &SiteReport, label: &str) -> maud::Markup {
    let rows: Vec<(String, f64)> = report
        .seats
        .iter()
        .map(|s| {
            let share = if s.hours_available > 0.0 {
                (s.hours_used / s.hours_available).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (s.hostname.clone(), share)
        })
        .collect();
    if rows.is_empty() {
        return html! {};
    }
    let bar_h = 22.0;
    let height = bar_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 600 {height}\" width=\"100%\" height=\"{height}\" aria-hidden=\"true\" focusable=\"false\">"
    );
    for (i, (name, share)) in rows.iter().enumerate() {
        let y = i as f64 * bar_h + 2.0;
        let name = name.replace(['<', '>', '&', '"'], "");
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" fill=\"#1b1b1b\">{name}</text>\
             <rect x=\"160\" y=\"{y:.1}\" width=\"400\" height=\"16\" fill=\"#eee\"/>\
             <rect x=\"160\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"#000091\"/>\
             <text x=\"565\" y=\"{:.1}\" font-size=\"13\" fill=\"#1b1b1b\">{:.0} %</text>",
            y + 13.0,
            400.0 * share,
            y + 13.0,
            100.0 * share
        ));
    }
    svg.push_str("</svg>");
    html! {
        figure {
            (maud::PreEscaped(svg))
            figcaption { (label) }
        }
    }
}

/// `GET /sites/{site}/rapports`.
pub(crate) async fn report_page(
    State(c): State<Controller>,
    Path(site): Path<String>,
    Query(period): Query<Period>,
    staff: Staff,
) -> Response {
    let (report, _, _, du, au) = match load(&c, &staff, &site, &period, None).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let fr = |v: f64| crate::decimal(lang, v, 1);
    let available = report.hours_available();
    let used = report.hours_used();
    let sessions: u64 = report.lines.iter().map(|l| l.sessions).sum();
    let supervised: u64 = report.lines.iter().map(|l| l.supervised).sum();
    let query = format!("du={du}&au={au}");
    // The national export leaves out a site the schema would refuse: say which field here.
    let lieux = c
        .staff_api(&staff.identity)
        .lieux_check(&site)
        .await
        .ok()
        .filter(|check| !check.problems.is_empty());
    let body = html! {
        p { a href="/" { (t("← Parc")) } " · " a href={"/sites/" (site) "/permanences"} { (t("Permanences")) } }
        h1 { (t("Rapport — ")) (site) }
        form method="get" {
            label for="du" { (t("Du")) } " " input #du name="du" type="date" value=(du);
            " " label for="au" { (t("au")) } " " input #au name="au" type="date" value=(au);
            " " button type="submit" { (t("Afficher")) }
        }
        p {
            (sessions) (t(" sessions (")) (sessions - supervised) (t(" en accès libre, ")) (supervised) (t(" accompagnées), "))
            (fr(used)) (t(" h utilisées sur ")) (fr(available)) (t(" h disponibles"))
            @if available > 0.0 { (t(" : occupation ")) (fr(100.0 * used / available)) " %" } "."
        }
        @if !report.sources.is_empty() {
            p #sources { (sources_text(lang, &report.sources)) }
            @if report.sources.iter().any(|s| s.kind == SourceKind::DailyAggregates) {
                p { (t("Jours agrégés : ")) (t(AGGREGATES_LIMITS)) "." }
            }
        }
        h2 { (t("Par permanence")) }
        table {
            caption.skip { (t("Sessions par permanence")) }
            thead { tr { th scope="col" { (t("Permanence")) } th scope="col" { (t("Sessions")) } th scope="col" { (t("Dont accompagnées")) }
                th scope="col" { (t("Heures utilisées")) } th scope="col" { (t("Personnes reçues")) } th scope="col" { (t("Démarches")) } } }
            tbody { @for l in &report.lines { tr { td { (l.key) } td { (l.sessions) } td { (l.supervised) } td { (fr(l.hours_used)) }
                td { (l.people) } td { (l.categories.iter().map(|(k, v)| match lang {
                    Lang::Fr => format!("{} : {v}", category(lang, k)),
                    Lang::En => format!("{}: {v}", category(lang, k)),
                }).collect::<Vec<_>>().join(", ")) } } } }
        }
        p { a href={"/sites/" (site) "/rapports/permanences.csv?" (query)} { (t("Télécharger (CSV)")) } }
        h2 { (t("Par poste financé")) }
        (occupancy_chart(&report, t("Occupation")))
        table {
            caption.skip { (t("Utilisation par poste")) }
            thead { tr { th scope="col" { (t("Poste")) } th scope="col" { (t("Inventaire")) } th scope="col" { (t("Sessions")) }
                th scope="col" { (t("Heures disponibles")) } th scope="col" { (t("Heures utilisées")) } th scope="col" { (t("Occupation")) }
                th scope="col" { (t("Échecs d'effacement")) } th scope="col" { (t("Disponibilité")) } } }
            tbody {
                @for s in &report.seats {
                    tr {
                        td { (s.hostname) } td { (s.asset_tag.clone().unwrap_or_default()) } td { (s.sessions) }
                        td { (fr(s.hours_available)) } td { (fr(s.hours_used)) }
                        td { @if s.hours_available > 0.0 { (fr(100.0 * s.hours_used / s.hours_available)) " %" } }
                        td { (s.wipe_failures) }
                        td { (fr(100.0 * s.availability)) " %" }
                    }
                }
            }
        }
        p { a href={"/sites/" (site) "/rapports/postes.csv?" (query)} { (t("Télécharger (CSV, preuve FEDER)")) } }
        p { a href="/export/lieux-mediation-numerique.csv" { (t("Export « lieux de médiation numérique » (CSV national)")) } }
        p { a href="/export/data-inclusion-services.json" { (t("Export data·inclusion : accès libre et permanences (JSON national)")) } }
        @if let Some(check) = &lieux {
            div #lieux role="status" {
                p { @if check.left_out() { (t("Ce lieu est absent de l'export national tant que ces champs ne sont pas corrigés :")) }
                    @else { (t("Export national : à savoir")) } }
                ul { @for problem in &check.problems { li { (problem.text(lang.code())) } } }
                p { (t("Pour corriger : ")) code { "commune site details " (site) " fiche.toml" } }
            }
        }
        h2 { (t("Méthode")) }
        dl { @for (figure, text) in METHODS { @let (figure, text) = method(lang, figure, text); dt { (figure) } dd { (text) } } }
    };
    page(lang, &format!("{}{site}", t("Rapport — ")), body).into_response()
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
    match load(&c, &staff, &site, &period, Some("permanences.csv")).await {
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
    match load(&c, &staff, &site, &period, Some("postes.csv")).await {
        Ok((report, from, to, du, au)) => csv(
            format!("{site}-postes-{du}-{au}.csv"),
            report.seats_csv(&site, from, to),
        ),
        Err(r) => r,
    }
}

/// `GET /export/lieux-mediation-numerique.csv`: the person's sites in the national schema.
pub(crate) async fn lieux(State(c): State<Controller>, staff: Staff) -> Response {
    match c.staff_api(&staff.identity).lieux_csv().await {
        Ok(export) => national_download(
            "lieux-mediation-numerique.csv",
            "text/csv; charset=utf-8",
            export,
        ),
        Err(e) => crate::refusal::staff_error(staff.lang, "Rapport indisponible", &e),
    }
}

/// `GET /export/data-inclusion-services.json`: the person's sites' free access and
/// permanences as data·inclusion services (schema v1.0.8).
pub(crate) async fn inclusion(State(c): State<Controller>, staff: Staff) -> Response {
    match c.staff_api(&staff.identity).inclusion_services().await {
        Ok(export) => national_download("data-inclusion-services.json", "application/json", export),
        Err(e) => crate::refusal::staff_error(staff.lang, "Rapport indisponible", &e),
    }
}

/// A national export as a download; the sites it leaves out are named in
/// `x-commune-incomplete-sites`.
fn national_download(file: &str, content_type: &str, export: NationalExport) -> Response {
    let names: Vec<String> = export.left_out().map(|c| c.site.clone()).collect();
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        export.body,
    )
        .into_response();
    if !names.is_empty() {
        if let Ok(v) = names.join(",").parse() {
            response
                .headers_mut()
                .insert("x-commune-incomplete-sites", v);
        }
    }
    response
}
