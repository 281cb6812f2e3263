//! The pages for a staff action the controller refused or could not do, in the person's
//! language. The controller decides (its staff API checks and audits every action); this
//! module only words the answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use commune_controller::staff::{Refusal, StaffError};
use maud::html;

use crate::i18n::{t, Lang};
use crate::page;

/// Why an action was refused, in French (translated by the caller).
pub(crate) fn refusal_fr(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::NotYourSite => "Vous n'agissez que sur les postes de vos sites.",
        Refusal::NotYourRole => "Votre rôle ne permet pas cette action.",
        Refusal::NotYourSlot => {
            "Vous ne prolongez ou ne fermez que les créneaux que vous avez ouverts."
        }
        Refusal::NotSupervised => "Ce poste n'est pas dans une de vos permanences en ce moment.",
        Refusal::FreeAccessSession => {
            "Ce visiteur est en accès libre : c'est l'équipe de la MDH qui termine sa session."
        }
        Refusal::SeatInUse => {
            "Ce poste est dans une autre permanence ou dans la session d'un visiteur en accès \
             libre : choisissez un poste libre."
        }
        Refusal::SeatNotOfSite => "Ce poste n'appartient pas à ce site.",
        Refusal::OwnAccount => {
            "Vous ne pouvez pas désactiver votre propre compte : demandez à un autre administrateur."
        }
        Refusal::WrongPassword => "Le mot de passe actuel n'est pas le bon.",
    }
}

/// A refusal page (403).
pub(crate) fn refused(lang: Lang, refusal: Refusal) -> Response {
    let title = t(lang, "Action refusée");
    (
        StatusCode::FORBIDDEN,
        page(
            lang,
            title,
            html! {
                h1 { (title) }
                p role="alert" { (t(lang, refusal_fr(refusal))) }
                p { a href="/" { (t(lang, "Retour au parc")) } }
            },
        ),
    )
        .into_response()
}

/// The answer to a failed action: `title` (French, translated here) heads the page of a
/// failure; a refusal gets its own page; a session that ended goes back to the login.
pub(crate) fn staff_error(lang: Lang, title: &'static str, e: &StaffError) -> Response {
    let status = match e {
        StaffError::Forbidden(refusal) => return refused(lang, *refusal),
        StaffError::Unauthenticated => return Redirect::to("/connexion").into_response(),
        StaffError::NotFound(_) => StatusCode::NOT_FOUND,
        StaffError::Invalid(_) => StatusCode::BAD_REQUEST,
        StaffError::Controller(commune_controller::ControllerError::Store(
            commune_controller::StoreError::Db(_),
        )) => StatusCode::SERVICE_UNAVAILABLE,
        StaffError::Controller(_) => StatusCode::BAD_REQUEST,
    };
    failed(lang, status, title, &e.to_string())
}

/// A failed action's page: `title` is translated here; `message` comes translated, or from
/// the controller.
pub(crate) fn failed(
    lang: Lang,
    status: StatusCode,
    title: &'static str,
    message: &str,
) -> Response {
    let title = t(lang, title);
    (
        status,
        page(
            lang,
            title,
            html! {
                h1 { (title) }
                p role="alert" { (message) }
                p { a href="/" { (t(lang, "Retour au parc")) } }
            },
        ),
    )
        .into_response()
}
