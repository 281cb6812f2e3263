//! Reports for a site over a period: sessions, hours used and available, occupancy, free
//! vs supervised, per permanence and per funded computer; as a page and as CSV files that
//! carry the method of each figure.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use commune_controller::lieux::NationalExport;
use commune_controller::reports::{
    Heat, MonthLine, ReportSource, SiteReport, SourceKind, AGGREGATES_LIMITS, CHART_METHODS,
    METHODS,
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

impl Period {
    /// `[from, to)` in UTC and the days shown in the form, or a sentence for the person.
    fn bounds(
        &self,
        lang: Lang,
        zone: &str,
    ) -> Result<(UtcMillis, UtcMillis, String, String), String> {
        match crate::period::resolve(
            self.du.as_deref(),
            self.au.as_deref(),
            zone,
            crate::period::today(zone),
        ) {
            Ok(days) => Ok((
                days.from,
                days.to,
                days.first.to_string(),
                days.last.to_string(),
            )),
            Err(crate::period::PeriodError::NotADate { text, .. }) => Err(match lang {
                Lang::Fr => format!("« {text} » n'est pas une date (AAAA-MM-JJ)"),
                Lang::En => format!("“{text}” {}", t(lang, "n'est pas une date (AAAA-MM-JJ)")),
            }),
            Err(crate::period::PeriodError::Bounds) => Err(t(
                lang,
                "la période va du premier au dernier jour, un an au plus",
            )
            .into()),
        }
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
        (Lang::En, "heures_allumees") => "hours_powered".into(),
        (Lang::En, "libre_accompagne") => "free_supervised".into(),
        (Lang::En, "echecs_effacement") => "wipe_failures".into(),
        (Lang::En, "personnes_recues") => "people_received".into(),
        (Lang::En, "occupation_horaire") => "hourly_occupancy".into(),
        (Lang::En, "sessions_par_mois") => "sessions_per_month".into(),
        (Lang::En, "appels_mediateur") => "help_calls".into(),
        (Lang::En, "pages_imprimees") => "pages_printed".into(),
        (Lang::En, "pages_lancees_par_equipe") => "pages_released_by_staff".into(),
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

/// The French weekdays, Monday first, for the heat map.
const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// A share as the page writes it: "42 %".
fn percent(lang: Lang, share: f64) -> String {
    format!("{}\u{a0}%", crate::decimal(lang, 100.0 * share, 0))
}

/// The blue of a share, from pale to the page's dark blue; the number is always written
/// in the cell too (never colour alone), white on the darker ones.
fn shade(share: f64) -> (&'static str, &'static str) {
    match share {
        s if s < 0.1 => ("#f0f3ff", "#1b1b1b"),
        s if s < 0.25 => ("#cdd6fb", "#1b1b1b"),
        s if s < 0.45 => ("#8fa3ef", "#1b1b1b"),
        s if s < 0.65 => ("#4a63d6", "#fff"),
        _ => ("#000091", "#fff"),
    }
}

/// Occupancy by weekday and hour: a drawing and its table. Hours never open in the week
/// are left out; cells never open are marked "—".
fn heat_map(lang: Lang, heat: &Heat) -> maud::Markup {
    let t = |fr: &'static str| t(lang, fr);
    let open_hours: Vec<usize> = (0..24)
        .filter(|h| (0..7).any(|d| heat.open[d][*h] > 0.0))
        .collect();
    if open_hours.is_empty() {
        return html! { p { (t("Aucune heure d'ouverture sur la période.")) } };
    }
    let days: Vec<usize> = (0..7)
        .filter(|d| open_hours.iter().any(|h| heat.open[*d][*h] > 0.0))
        .collect();
    let (cell_w, cell_h, left, top) = (44u32, 30u32, 90u32, 22u32);
    let width = left + cell_w * open_hours.len() as u32;
    let height = top + cell_h * days.len() as u32;
    html! {
        figure.graphique {
            svg.chaleur viewBox={"0 0 " (width) " " (height)} width="100%" aria-hidden="true" focusable="false" {
                @for (i, h) in open_hours.iter().enumerate() {
                    text x=(left + cell_w * i as u32 + cell_w / 2) y="15" font-size="13" text-anchor="middle" fill="#1b1b1b" { (format!("{h}h")) }
                }
                @for (row, d) in days.iter().enumerate() {
                    text x="0" y=(top + cell_h * row as u32 + 20) font-size="13" fill="#1b1b1b" { (t(WEEKDAYS[*d])) }
                    @for (i, h) in open_hours.iter().enumerate() {
                        @let x = left + cell_w * i as u32;
                        @let y = top + cell_h * row as u32;
                        @match heat.share(*d, *h) {
                            Some(share) => {
                                @let (fill, ink) = shade(share);
                                rect x=(x) y=(y) width=(cell_w - 2) height=(cell_h - 2) fill=(fill) {}
                                text x=(x + cell_w / 2) y=(y + 19) font-size="12" text-anchor="middle" fill=(ink) { (crate::decimal(lang, 100.0 * share, 0)) }
                            }
                            None => {
                                rect x=(x) y=(y) width=(cell_w - 2) height=(cell_h - 2) fill="#fff" stroke="#ccc" {}
                                text x=(x + cell_w / 2) y=(y + 19) font-size="12" text-anchor="middle" fill="#666" { "—" }
                            }
                        }
                    }
                }
            }
            figcaption { (t("Occupation (%) par jour de la semaine et par heure")) }
        }
        div.defile role="region" aria-label=(t("Occupation par jour et par heure (tableau)")) tabindex="0" {
            table.donnees {
                caption { (t("Occupation par jour et par heure (tableau)")) }
                thead { tr { th scope="col" { (t("Jour")) } @for h in &open_hours { th scope="col" { (format!("{h}h")) } } } }
                tbody {
                    @for d in &days {
                        tr {
                            th scope="row" { (t(WEEKDAYS[*d])) }
                            @for h in &open_hours {
                                td { @match heat.share(*d, *h) { Some(share) => (percent(lang, share)), None => "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2026-03` → "mars 2026" / "Mar 2026".
fn month_label(lang: Lang, month: &str) -> String {
    let (year, m) = month.split_once('-').unwrap_or((month, "1"));
    let index = m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1;
    let name = match lang {
        Lang::Fr => MONTHS_FR[index],
        Lang::En => MONTHS_EN[index],
    };
    format!("{name} {year}")
}

/// Sessions month by month over a year: bars split free / supervised, and the table.
fn months_chart(lang: Lang, months: &[MonthLine]) -> maud::Markup {
    let t = |fr: &'static str| t(lang, fr);
    let max = months.iter().map(|m| m.sessions).max().unwrap_or(0).max(1);
    let (bar_w, chart_h, top) = (60u32, 180u32, 20u32);
    let width = bar_w * months.len() as u32 + 10;
    let height = top + chart_h + 40;
    let y = |n: u64| top + chart_h - (chart_h as u64 * n / max) as u32;
    html! {
        figure.graphique {
            svg.mois viewBox={"0 0 " (width) " " (height)} width="100%" aria-hidden="true" focusable="false" {
                line x1="0" y1=(top + chart_h) x2=(width) y2=(top + chart_h) stroke="#666" {}
                @for (i, m) in months.iter().enumerate() {
                    @let x = 10 + bar_w * i as u32;
                    @let free = m.sessions - m.supervised.min(m.sessions);
                    rect.libre x=(x) y=(y(free)) width=(bar_w - 14) height=(top + chart_h - y(free)) fill="#000091" {}
                    rect.accompagne x=(x) y=(y(m.sessions)) width=(bar_w - 14) height=(y(free) - y(m.sessions)) fill="#6e3aa8" {}
                    text x=(x + (bar_w - 14) / 2) y=(y(m.sessions).saturating_sub(4)) font-size="12" text-anchor="middle" fill="#1b1b1b" { (m.sessions) }
                    text x=(x + (bar_w - 14) / 2) y=(top + chart_h + 16) font-size="12" text-anchor="middle" fill="#1b1b1b" { (month_label(lang, &m.month).split(' ').next().unwrap_or_default()) }
                    text x=(x + (bar_w - 14) / 2) y=(top + chart_h + 32) font-size="11" text-anchor="middle" fill="#3a3a3a" { (m.month.get(..4).unwrap_or_default()) }
                }
            }
            figcaption {
                (t("Sessions par mois : ")) span.legende-libre { "■" } " " (t("accès libre")) " · " span.legende-accompagne { "■" } " " (t("accompagnées"))
            }
        }
        table.donnees {
            caption { (t("Sessions par mois (tableau)")) }
            thead { tr { th scope="col" { (t("Mois")) } th scope="col" { (t("Sessions")) } th scope="col" { (t("Dont accompagnées")) } th scope="col" { (t("Heures utilisées")) } } }
            tbody { @for m in months { tr { th scope="row" { (month_label(lang, &m.month)) } td { (m.sessions) } td { (m.supervised) } td { (crate::decimal(lang, m.hours_used, 1)) } } } }
        }
    }
}

/// Free access against supervised sessions: one bar in two parts, its numbers written.
fn free_supervised_chart(lang: Lang, free: u64, supervised: u64) -> maud::Markup {
    let t = |fr: &'static str| t(lang, fr);
    let total = (free + supervised).max(1);
    let w_free = 600 * free / total;
    html! {
        figure.graphique {
            svg viewBox="0 0 600 30" width="100%" aria-hidden="true" focusable="false" {
                rect x="0" y="0" width=(w_free) height="30" fill="#000091" {}
                rect x=(w_free) y="0" width=(600 - w_free) height="30" fill="#6e3aa8" {}
            }
            figcaption {
                span.legende-libre { "■" } " " (t("accès libre")) " : " (free) " (" (percent(lang, free as f64 / total as f64)) ") · "
                span.legende-accompagne { "■" } " " (t("accompagnées")) " : " (supervised) " (" (percent(lang, supervised as f64 / total as f64)) ")"
            }
        }
    }
}

/// Calls for a mediator by local hour: bars with their numbers, beside a table by hour and
/// need (anonymous counts).
fn help_chart(lang: Lang, counts: &[commune_controller::store::HelpCount]) -> maud::Markup {
    let t = |fr: &'static str| t(lang, fr);
    const NEEDS: [(&str, &str); 4] = [
        ("printing", "impression"),
        ("account", "compte ou mot de passe"),
        ("form", "formulaire"),
        ("other", "autre besoin"),
    ];
    let mut by_hour = [[0u64; 4]; 24];
    for c in counts {
        if let Some(i) = NEEDS.iter().position(|(n, _)| *n == c.need) {
            by_hour[usize::from(c.hour.min(23))][i] += c.calls;
        }
    }
    let totals: Vec<u64> = by_hour.iter().map(|h| h.iter().sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let hours: Vec<usize> = (0..24).filter(|h| totals[*h] > 0).collect();
    html! {
        @if hours.is_empty() {
            p { (t("Aucun appel sur la période.")) }
        } @else {
            figure.graphique {
                svg viewBox="0 0 600 140" width="100%" aria-hidden="true" focusable="false" {
                    @for h in 0..24usize {
                        @let height = 100 * totals[h] / max;
                        rect x=(h * 25 + 2) y=(110 - height) width="21" height=(height) fill="#b34000" {}
                        @if totals[h] > 0 {
                            text x=(h * 25 + 12) y=(105 - height) font-size="11" text-anchor="middle" { (totals[h]) }
                        }
                        @if h % 3 == 0 {
                            text x=(h * 25 + 12) y="128" font-size="11" text-anchor="middle" { (format!("{h:02}h")) }
                        }
                    }
                }
                figcaption { (t("Appels à un médiateur")) }
            }
            table.donnees #appels-table {
                caption { (t("Appels à un médiateur")) }
                thead { tr {
                    th scope="col" { (t("Heure")) }
                    @for (_, fr) in NEEDS { th scope="col" { (t(fr)) } }
                    th scope="col" { (t("Total")) }
                } }
                tbody { @for h in &hours { tr {
                    th scope="row" { (format!("{h:02}h")) }
                    @for n in by_hour[*h] { td { (n) } }
                    td { (totals[*h]) }
                } } }
            }
        }
    }
}

/// People received per permanence: bars with their numbers.
fn people_chart(lang: Lang, report: &SiteReport) -> maud::Markup {
    let rows: Vec<(&str, u64)> = report
        .lines
        .iter()
        .filter(|l| l.people > 0)
        .map(|l| (l.key.as_str(), l.people))
        .collect();
    if rows.is_empty() {
        return html! {};
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let height = 26 * rows.len() as u32 + 4;
    html! {
        figure.graphique {
            svg viewBox={"0 0 700 " (height)} width="100%" aria-hidden="true" focusable="false" {
                @for (i, (key, n)) in rows.iter().enumerate() {
                    @let y = 26 * i as u32 + 2;
                    text x="0" y=(y + 15) font-size="13" fill="#1b1b1b" { (key) }
                    rect x="240" y=(y) width=((400 * n / max).max(1)) height="20" fill="#6e3aa8" {}
                    text x=(246 + (400 * n / max) as u32) y=(y + 15) font-size="13" fill="#1b1b1b" { (n) }
                }
            }
            figcaption { (t(lang, "Personnes reçues par permanence (le tableau ci-dessus donne les chiffres)")) }
        }
    }
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
    let (report, _, to, du, au) = match load(&c, &staff, &site, &period, None).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let lang = staff.lang;
    let months = c
        .staff_api(&staff.identity)
        .report_months(&site, to)
        .await
        .unwrap_or_default();
    // The method of a figure, in the page's language, to write beside it.
    let how = |figure: &str| -> String {
        METHODS
            .iter()
            .chain(CHART_METHODS)
            .find(|(f, _)| *f == figure)
            .map(|(f, text)| method(lang, f, text).1.to_string())
            .unwrap_or_default()
    };
    let day = |d: &str| match (lang, d.parse::<jiff::civil::Date>()) {
        (Lang::Fr, Ok(date)) => date.strftime("%d/%m/%Y").to_string(),
        _ => d.to_string(),
    };
    let help = c
        .staff_api(&staff.identity)
        .help_counts(&site, &du, &au)
        .await
        .unwrap_or_default();
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
        p.noprint {
            a href="/" { (t("← Parc")) } " · " a href={"/sites/" (site) "/permanences"} { (t("Permanences")) }
            " · " button type="button" onclick="window.print()" { (t("Imprimer (A4, dossier FEDER)")) }
        }
        h1 { (t("Rapport — ")) (site) }
        p.periode { (t("Période : du ")) (day(&du)) (t(" au ")) (day(&au)) (t(" (inclus).")) }
        form.noprint method="get" {
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
        section.figure aria-labelledby="libre-accompagne" {
            h2 #libre-accompagne { (t("Accès libre et accompagnement")) }
            (free_supervised_chart(lang, sessions - supervised, supervised))
            p.methode { (t("Méthode : ")) (how("libre_accompagne")) }
        }
        section.figure aria-labelledby="occupation-horaire" {
            h2 #occupation-horaire { (t("Occupation par jour et par heure")) }
            (heat_map(lang, &report.heat))
            p.methode { (t("Méthode : ")) (how("occupation_horaire")) }
        }
        @if !months.is_empty() {
            section.figure aria-labelledby="tendance" {
                h2 #tendance { (t("Tendance sur douze mois")) }
                (months_chart(lang, &months))
                p.methode { (t("Méthode : ")) (how("sessions_par_mois")) }
            }
        }
        section.figure aria-labelledby="appels" {
            h2 #appels { (t("Appels à un médiateur")) }
            (help_chart(lang, &help))
            p.methode { (t("Méthode : ")) (how("appels_mediateur")) }
        }
        section.figure aria-labelledby="impressions" {
            @let (pages, by_staff) = report.pages_printed();
            h2 #impressions { (t("Impressions")) }
            p #pages-imprimees { (t("Pages imprimées : ")) strong { (pages) } ", " (t("dont lancées par l'équipe : ")) strong { (by_staff) } }
            p.methode { (t("Méthode : ")) (how("pages_imprimees")) " " (how("pages_lancees_par_equipe")) }
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
        (people_chart(lang, &report))
        p.methode { (t("Méthode : ")) (how("personnes_recues")) }
        p.noprint { a href={"/sites/" (site) "/rapports/permanences.csv?" (query)} { (t("Télécharger (CSV)")) } }
        h2 { (t("Par poste financé")) }
        (occupancy_chart(&report, t("Occupation")))
        p.methode { (t("Méthode : ")) (how("occupation")) " " (how("heures_allumees")) }
        table {
            caption.skip { (t("Utilisation par poste")) }
            thead { tr { th scope="col" { (t("Poste")) } th scope="col" { (t("Inventaire")) } th scope="col" { (t("Sessions")) }
                th scope="col" { (t("Heures disponibles")) } th scope="col" { (t("Heures utilisées")) } th scope="col" { (t("Occupation")) }
                th scope="col" { (t("Échecs d'effacement")) } th scope="col" { (t("Disponibilité")) }
                th scope="col" { (t("Heures allumé")) } th scope="col" { (t("Pages imprimées")) } } }
            tbody {
                @for s in &report.seats {
                    tr {
                        td { (s.hostname) } td { (s.asset_tag.clone().unwrap_or_default()) } td { (s.sessions) }
                        td { (fr(s.hours_available)) } td { (fr(s.hours_used)) }
                        td { @if s.hours_available > 0.0 { (fr(100.0 * s.hours_used / s.hours_available)) " %" } }
                        td { (s.wipe_failures) }
                        td { (fr(100.0 * s.availability)) " %" }
                        td { (fr(s.hours_powered)) }
                        td { (s.pages_printed) }
                    }
                }
            }
        }
        p.noprint { a href={"/sites/" (site) "/rapports/postes.csv?" (query)} { (t("Télécharger (CSV, preuve FEDER)")) } }
        p.noprint { a href="/export/lieux-mediation-numerique.csv" { (t("Export « lieux de médiation numérique » (CSV national)")) } }
        p.noprint { a href="/export/data-inclusion-services.json" { (t("Export data·inclusion : accès libre et permanences (JSON national)")) } }
        @if let Some(check) = &lieux {
            div #lieux role="status" {
                p { @if check.left_out() { (t("Ce lieu est absent de l'export national tant que ces champs ne sont pas corrigés :")) }
                    @else { (t("Export national : à savoir")) } }
                ul { @for problem in &check.problems { li { (problem.text(lang.code())) } } }
                p { (t("Pour corriger : ")) code { "commune site details " (site) " fiche.toml" } }
            }
        }
        h2 { (t("Méthode")) }
        dl { @for (figure, text) in METHODS.iter().chain(CHART_METHODS) { @let (figure, text) = method(lang, figure, text); dt { (figure) } dd { (text) } } }
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
