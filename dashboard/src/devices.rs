//! IT's page: every computer with its agent version, certificate expiry and state;
//! enrollment tokens for a site; revocation. The controller's staff API lets `it` and
//! `admin` accounts in and audits every action; forms carry the CSRF token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::StaffError;
use commune_controller::Controller;
use maud::html;
use serde::Deserialize;

use crate::auth::Staff;
use crate::i18n::t;
use crate::page;
use crate::refusal::staff_error;

/// `GET /appareils`.
pub(crate) async fn devices(State(c): State<Controller>, staff: Staff) -> Response {
    let (fleet, sites) = match c.staff_api(&staff.identity).devices().await {
        Ok(d) => d,
        Err(e) => return staff_error(staff.lang, "Appareils", &e),
    };
    let now = commune_controller::now();
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let body = html! {
        p { a href="/" { (t("← Parc")) } }
        h1 { (t("Appareils")) }
        h2 { (t("Enrôler un poste")) }
        form method="post" action="/appareils/jetons" {
            input type="hidden" name="csrf" value=(staff.csrf);
            p {
                label for="site" { (t("Site")) } br;
                select #site name="site" {
                    @for s in &sites { option value=(s.id) { (s.name) } }
                }
            }
            p {
                label for="hours" { (t("Validité du jeton (heures)")) } br;
                input #hours name="hours" type="number" min="1" max="168" value="24" required;
            }
            p { button type="submit" { (t("Créer un jeton d'enrôlement")) } }
        }
        h2 { (t("Postes enrôlés")) }
        table {
            caption.skip { (t("Postes enrôlés et leur agent")) }
            thead { tr {
                th scope="col" { (t("Poste")) } th scope="col" { (t("Site")) } th scope="col" { (t("Version de l'agent")) }
                th scope="col" { (t("Certificat valable jusqu'au")) } th scope="col" { (t("État")) } th scope="col" { (t("Action")) }
            } }
            tbody {
                @for a in &fleet {
                    @let agent = &a.overview.agent;
                    tr {
                        td { (agent.hostname) " " code { (agent.id) } }
                        td { (agent.site_id) }
                        td { (agent.agent_version) }
                        td {
                            (agent.cert_not_after.to_string())
                            @if agent.cert_not_after.0 - now.0 < 14 * 86_400_000 { " " strong { (t("(bientôt expiré)")) } }
                        }
                        td { @if agent.revoked_at.is_some() { (t("Révoqué")) } @else if a.connected { (t("En ligne")) } @else { (t("Hors ligne")) } }
                        td {
                            @if agent.revoked_at.is_none() {
                                form method="post" action={"/appareils/" (agent.id) "/revoquer"} {
                                    input type="hidden" name="csrf" value=(staff.csrf);
                                    button type="submit" { (t("Révoquer ")) span.skip { (agent.hostname) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(lang, t("Appareils"), body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf: Option<String>,
    site: String,
    hours: u32,
}

/// `POST /appareils/jetons`: a single-use enrollment token, shown once.
pub(crate) async fn create_token(
    State(c): State<Controller>,
    staff: Staff,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let ttl = i64::from(form.hours.clamp(1, 168)) * 3600;
    match c
        .staff_api(&staff.identity)
        .create_enrollment_token(&form.site, ttl)
        .await
    {
        Ok(token) => {
            let body = html! {
                p { a href="/appareils" { (t("← Appareils")) } }
                h1 { (t("Jeton d'enrôlement")) }
                p { (t("À usage unique, pour le site ")) (form.site) (t(". Sur le poste :")) }
                pre { code { "commune-agent enroll --controller " (t("<adresse:4433>")) " --token " (token) } }
                p { (t("Il n'est affiché qu'une fois.")) }
            };
            page(lang, t("Jeton d'enrôlement"), body).into_response()
        }
        Err(e) => staff_error(lang, "Jeton non créé", &e),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: Option<String>,
}

/// `POST /appareils/{id}/revoquer`.
pub(crate) async fn revoke(
    State(c): State<Controller>,
    Path(id): Path<String>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    match c.staff_api(&staff.identity).revoke_agent(&id).await {
        Ok(()) => Redirect::to("/appareils").into_response(),
        Err(StaffError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            page(
                lang,
                t("Poste inconnu"),
                html! { h1 { (t("Poste inconnu")) } },
            ),
        )
            .into_response(),
        Err(e) => staff_error(lang, "Échec", &e),
    }
}
