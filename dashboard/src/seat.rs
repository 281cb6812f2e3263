//! One computer: its health over the last day as a chart (with the figures as a table for
//! screen readers), its inventory, its recent sessions and wipe reports.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use commune_controller::Controller;
use maud::{html, Markup, PreEscaped};

use crate::auth::Staff;
use crate::i18n::{t, Lang};
use crate::page;

/// An SVG line chart of values 0–100 over time; decorative next to the data table.
fn chart(lang: Lang, points: &[(i64, f64, f64)]) -> Markup {
    let t = |fr: &'static str| t(lang, fr);
    let (w, h) = (600.0, 160.0);
    if points.len() < 2 {
        return html! { p { (t("Pas encore assez de mesures pour un graphique.")) } };
    }
    let t0 = points[0].0 as f64;
    let t1 = points[points.len() - 1].0 as f64;
    let span = (t1 - t0).max(1.0);
    let line = |pick: fn(&(i64, f64, f64)) -> f64| {
        points
            .iter()
            .map(|p| {
                let x = (p.0 as f64 - t0) / span * w;
                let y = h - pick(p).clamp(0.0, 100.0) / 100.0 * h;
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" height=\"160\" aria-hidden=\"true\" focusable=\"false\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#f6f6f6\"/>\
         <polyline points=\"{}\" fill=\"none\" stroke=\"#000091\" stroke-width=\"2\"/>\
         <polyline points=\"{}\" fill=\"none\" stroke=\"#b34000\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/></svg>",
        line(|p| p.1),
        line(|p| p.2)
    );
    html! {
        (PreEscaped(svg))
        p { (t("Trait plein : processeur (%). Tirets : mémoire utilisée (%).")) }
    }
}

fn end_reason(lang: Lang, reason: Option<&str>) -> &'static str {
    t(lang, end_reason_fr(reason))
}

fn end_reason_fr(reason: Option<&str>) -> &'static str {
    match reason {
        None => "en cours",
        Some("time_up") => "temps écoulé",
        Some("slot_ended") => "fin du créneau",
        Some("visitor") => "par le visiteur",
        Some("staff") => "par l'équipe",
        Some("agent_restart") => "redémarrage du poste",
        Some("abandoned") => "visiteur absent trop longtemps ou code faux",
        Some(_) => "autre",
    }
}

/// `GET /postes/{id}`.
pub(crate) async fn seat_page(
    State(c): State<Controller>,
    Path(id): Path<String>,
    staff: Staff,
) -> Response {
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let view = match c.staff_api(&staff.identity).seat(&id).await {
        Ok(v) => v,
        Err(_) => {
            return (
                StatusCode::NOT_FOUND,
                page(
                    lang,
                    t("Poste introuvable"),
                    html! { h1 { (t("Poste introuvable")) } p { a href="/" { (t("Retour au parc")) } } },
                ),
            )
                .into_response()
        }
    };
    let (agent, health, inventory, sessions, wipes, zone) = (
        view.agent,
        view.health,
        view.inventory,
        view.sessions,
        view.wipes,
        view.time_zone,
    );
    let points: Vec<(i64, f64, f64)> = health
        .iter()
        .map(|(t, cpu, mem)| (t.0, *cpu, *mem))
        .collect();
    let when = |at: commune_protocol::UtcMillis| crate::local_time(at, &zone, "%d/%m %H:%M");
    let body = html! {
        p { a href="/" { (t("← Parc")) } }
        h1 { (t("Poste ")) (agent.hostname) }
        @if !c.connected_ids().contains(&agent.id) && agent.revoked_at.is_none() {
            form method="post" action={"/sites/" (agent.site_id) "/postes/" (agent.id) "/session"} {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="action" value="wake";
                p { (t("Ce poste est éteint ou hors ligne.")) " "
                    button type="submit" { (t("Réveiller ce poste (Wake-on-LAN)")) } }
            }
        }
        @if c.live_seat_states().get(&agent.id).map(String::as_str) == Some("device_alarm") {
            section.alarm role="alert" aria-labelledby="alarm-title" {
                h2 #alarm-title { (t("⛔ Appareil branché depuis la dernière vérification")) }
                p { (t("Un clavier ou un autre appareil a été branché sur ce poste : il refuse toute nouvelle session. Allez voir le poste : le câble du clavier, ce qui est branché entre le clavier et l'ordinateur, les prises USB. Retirez ce qui n'a rien à faire là, puis déverrouillez.")) }
                form method="post" action={"/sites/" (agent.site_id) "/postes/" (agent.id) "/session"} {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    input type="hidden" name="action" value="devices";
                    button type="submit" { (t("J'ai vérifié le poste : déverrouiller")) }
                }
            }
        }
        @let waiting = c.waiting_print_jobs(&agent.id);
        @if !waiting.is_empty() {
            section #impressions .print-waiting aria-labelledby="print-title" {
                h2 #print-title { (t("Impressions en attente de l'équipe")) }
                p { (t("Ces impressions dépassent les pages gratuites du visiteur, ou leurs pages n'ont pas pu être comptées. Lancez-les après en avoir parlé avec le visiteur, ou annulez-les. Le titre et le contenu des documents restent sur le poste.")) }
                ul {
                    @for (job, pages) in &waiting {
                        li {
                            strong { (t("Impression n° ")) (job) } " : "
                            @match pages {
                                Some(p) => { (p) " " (t("pages")) },
                                None => (t("pages non comptées")),
                            }
                            form.inline method="post" action={"/sites/" (agent.site_id) "/postes/" (agent.id) "/session"} {
                                input type="hidden" name="csrf" value=(staff.csrf);
                                input type="hidden" name="job" value=(job);
                                button type="submit" name="action" value="print_release" { (t("Lancer l'impression")) }
                                " "
                                button type="submit" name="action" value="print_cancel" { (t("Annuler l'impression")) }
                            }
                        }
                    }
                }
            }
        }
        p { (t("Site ")) (agent.site_id) (t(", agent ")) (agent.agent_version) (t(", identifiant ")) code { (agent.id) } "." }
        h2 { (t("Santé (dernières 24 heures)")) }
        (chart(lang, &points))
        details {
            summary { (t("Les mesures en tableau")) }
            table {
                caption.skip { (t("Mesures de santé")) }
                thead { tr { th scope="col" { (t("Heure")) } th scope="col" { (t("Processeur (%)")) } th scope="col" { (t("Mémoire (%)")) } } }
                tbody { @for (t, cpu, mem) in &health { tr { td { (when(*t)) } td { (format!("{cpu:.0}")) } td { (format!("{mem:.0}")) } } } }
            }
        }
        h2 { (t("Inventaire")) }
        @if let Some(inv) = &inventory {
            dl {
                dt { (t("Fabricant, modèle")) } dd { (inv.dmi_vendor.clone().unwrap_or_default()) " " (inv.dmi_product.clone().unwrap_or_default()) }
                dt { (t("Numéro de série")) } dd { (inv.dmi_serial.clone().unwrap_or_default()) }
                dt { (t("Étiquette d'inventaire")) } dd { (inv.asset_tag.clone().unwrap_or_default()) }
                dt { (t("Processeur")) } dd { (inv.cpu_model) " (" (inv.cpu_count) (t(" cœurs)")) }
                dt { (t("Mémoire")) } dd { (crate::decimal(lang, inv.memory_total_bytes as f64 / 1_073_741_824.0, 1)) " " (t("Gio")) }
                dt { (t("Adresses MAC")) } dd { (inv.mac_addresses.join(", ")) }
            }
        } @else {
            p { (t("Pas encore d'inventaire reçu.")) }
        }
        h2 { (t("Sessions récentes")) }
        table {
            caption.skip { (t("Sessions des 30 derniers jours")) }
            thead { tr { th scope="col" { (t("Début")) } th scope="col" { (t("Type")) } th scope="col" { (t("Durée (min)")) } th scope="col" { (t("Fin")) } } }
            tbody {
                @for s in &sessions {
                    tr {
                        td { (when(s.started_at)) }
                        td { @if s.slot_kind == "supervised" { (t("accompagnée")) } @else { (t("accès libre")) } }
                        td { (s.duration_secs.map(|d| (d / 60).to_string()).unwrap_or_default()) }
                        td { (end_reason(lang, s.end_reason.as_deref())) }
                    }
                }
            }
        }
        h2 { (t("Effacements récents")) }
        ul {
            @for (at, body) in &wipes {
                @let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                li {
                    (when(*at)) " : "
                    @if v["verified"] == true { (t("vérifié")) } @else { strong { (t("NON vérifié")) } }
                    (t(" en ")) (v["total_us"].as_u64().map(|us| format!("{:.0} ms", us as f64 / 1000.0)).unwrap_or_default())
                    @if let Some(checks) = v["checks"].as_array() {
                        details {
                            summary { (t("Ce que chaque contrôle a vérifié, et comment")) }
                            table {
                                caption.skip { (t("Contrôles de l'effacement")) }
                                thead { tr {
                                    th scope="col" { (t("Contrôle")) }
                                    th scope="col" { (t("Restes trouvés")) }
                                    th scope="col" { (t("Éléments lus")) }
                                    th scope="col" { (t("Méthode")) }
                                } }
                                tbody { @for c in checks { tr {
                                    td { (c["name"].as_str().unwrap_or_default()) }
                                    td { @if c["passed"] == true { "0" } @else { strong { (c["found"].as_u64().unwrap_or_default()) } } }
                                    td { (c["examined"].as_u64().unwrap_or_default()) }
                                    td { (c["method"].as_str().unwrap_or_default()) }
                                } } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, &format!("{}{}", t("Poste "), agent.hostname), body).into_response()
}
