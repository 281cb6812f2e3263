//! IT's page: every computer with its agent version, certificate expiry and state;
//! enrollment tokens for a site; revocation. For `it` and `admin` accounts; actions are
//! CSRF-checked and audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::Role;
use commune_controller::Controller;
use maud::html;
use serde::Deserialize;

use crate::auth::Staff;
use crate::page;

fn for_it_only(staff: &Staff) -> Option<Response> {
    (!matches!(staff.identity.role, Role::It | Role::Admin)).then(|| {
        (
            StatusCode::FORBIDDEN,
            page(
                "Accès réservé",
                html! { h1 { "Accès réservé" } p { "Cette page est réservée au service informatique." } },
            ),
        )
            .into_response()
    })
}

/// `GET /appareils`.
pub(crate) async fn devices(State(c): State<Controller>, staff: Staff) -> Response {
    if let Some(r) = for_it_only(&staff) {
        return r;
    }
    let fleet = c.fleet().await.unwrap_or_default();
    let sites = c.store().sites().await.unwrap_or_default();
    let now = commune_controller::now();
    let body = html! {
        p { a href="/" { "← Parc" } }
        h1 { "Appareils" }
        h2 { "Enrôler un poste" }
        form method="post" action="/appareils/jetons" {
            input type="hidden" name="csrf" value=(staff.csrf);
            p {
                label for="site" { "Site" } br;
                select #site name="site" {
                    @for s in &sites { option value=(s.id) { (s.name) } }
                }
            }
            p {
                label for="hours" { "Validité du jeton (heures)" } br;
                input #hours name="hours" type="number" min="1" max="168" value="24" required;
            }
            p { button type="submit" { "Créer un jeton d'enrôlement" } }
        }
        h2 { "Postes enrôlés" }
        table {
            caption.skip { "Postes enrôlés et leur agent" }
            thead { tr {
                th scope="col" { "Poste" } th scope="col" { "Site" } th scope="col" { "Version de l'agent" }
                th scope="col" { "Certificat valable jusqu'au" } th scope="col" { "État" } th scope="col" { "Action" }
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
                            @if agent.cert_not_after.0 - now.0 < 14 * 86_400_000 { " " strong { "(bientôt expiré)" } }
                        }
                        td { @if agent.revoked_at.is_some() { "Révoqué" } @else if a.connected { "En ligne" } @else { "Hors ligne" } }
                        td {
                            @if agent.revoked_at.is_none() {
                                form method="post" action={"/appareils/" (agent.id) "/revoquer"} {
                                    input type="hidden" name="csrf" value=(staff.csrf);
                                    button type="submit" { "Révoquer " span.skip { (agent.hostname) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Appareils", body).into_response()
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
    if let Some(r) = for_it_only(&staff) {
        return r;
    }
    let ttl = i64::from(form.hours.clamp(1, 168)) * 3600;
    match c.create_enrollment_token(&form.site, ttl).await {
        Ok(token) => {
            c.record(
                &staff.identity.login,
                "token.create",
                Some(&form.site),
                &format!("valid {} h", ttl / 3600),
            )
            .await;
            let body = html! {
                p { a href="/appareils" { "← Appareils" } }
                h1 { "Jeton d'enrôlement" }
                p { "À usage unique, pour le site " (form.site) ". Sur le poste :" }
                pre { code { "commune-agent enroll --controller <adresse:4433> --token " (token) } }
                p { "Il n'est affiché qu'une fois." }
            };
            page("Jeton d'enrôlement", body).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page(
                "Jeton non créé",
                html! { h1 { "Jeton non créé" } p role="alert" { (e.to_string()) } },
            ),
        )
            .into_response(),
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
    if let Some(r) = for_it_only(&staff) {
        return r;
    }
    match c.revoke_agent(&id).await {
        Ok(true) => {
            c.record(&staff.identity.login, "agent.revoke", None, &id)
                .await;
            Redirect::to("/appareils").into_response()
        }
        Ok(false) => (
            StatusCode::NOT_FOUND,
            page("Poste inconnu", html! { h1 { "Poste inconnu" } }),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            page("Échec", html! { h1 { "Échec" } p { (e.to_string()) } }),
        )
            .into_response(),
    }
}
