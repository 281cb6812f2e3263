//! Staff accounts: "my account" (everyone changes their own password there) and, for
//! administrators, the accounts page (disable and enable an account, set a new password,
//! end its sessions, revoke its API tokens). The controller's staff API checks and audits
//! each action; forms carry the CSRF token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::{AccountView, StaffError, MIN_PASSWORD_CHARS};
use commune_controller::store::ApiTokenRecord;
use commune_controller::Controller;
use commune_protocol::UtcMillis;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Staff;
use crate::i18n::{t, Lang};
use crate::page;
use crate::refusal::{failed, staff_error};

/// A role's name for people.
fn role_name(lang: Lang, role: &str) -> &'static str {
    t(
        lang,
        match role {
            "admin" => "administration",
            "it" => "service informatique",
            "staff" => "personnel de la MDH",
            "mediator" => "médiateur ou médiatrice",
            _ => "rôle inconnu",
        },
    )
}

fn day(at: UtcMillis) -> String {
    crate::local_time(at, "Europe/Paris", "%d/%m/%Y")
}

fn sites_text(lang: Lang, sites: &[String]) -> String {
    if sites.is_empty() {
        t(lang, "tous les sites").to_string()
    } else {
        sites.join(", ")
    }
}

/// What an API token was narrowed to: its role and sites, or the account's rights.
fn token_scope(lang: Lang, token: &ApiTokenRecord) -> String {
    let mut parts = Vec::new();
    if let Some(role) = &token.scope.role {
        parts.push(format!("{}{}", t(lang, "rôle : "), role_name(lang, role)));
    }
    if let Some(sites) = &token.scope.sites {
        parts.push(format!("{}{}", t(lang, "sites : "), sites.join(", ")));
    }
    if parts.is_empty() {
        t(lang, "droits du compte").to_string()
    } else {
        parts.join(" · ")
    }
}

/// `GET /compte`: who I am, and the form to change my password.
pub(crate) async fn my_account(staff: Staff) -> Response {
    my_account_page(&staff, None, StatusCode::OK)
}

fn my_account_page(staff: &Staff, notice: Option<&str>, status: StatusCode) -> Response {
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let who = &staff.identity;
    let body = html! {
        p { a href="/" { (t("← Parc")) } }
        h1 { (t("Mon compte")) }
        @if let Some(notice) = notice {
            p role="alert" { (notice) }
        }
        dl {
            dt { (t("Identifiant")) } dd { (who.login) }
            dt { (t("Nom affiché")) } dd { (who.display_name) }
            dt { (t("Rôle")) } dd { (role_name(lang, who.role.as_str())) }
            dt { (t("Sites")) } dd { (sites_text(lang, &who.sites)) }
        }
        h2 { (t("Changer mon mot de passe")) }
        p { (t("Vos autres sessions (autres navigateurs, autres ordinateurs) seront terminées.")) }
        form method="post" action="/compte/mot-de-passe" {
            input type="hidden" name="csrf" value=(staff.csrf);
            p {
                label for="current" { (t("Mot de passe actuel")) } br;
                input #current name="current" type="password" autocomplete="current-password" required;
            }
            p {
                label for="new" { (t("Nouveau mot de passe (12 caractères au moins)")) } br;
                input #new name="new" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS) required;
            }
            p {
                label for="confirm" { (t("Nouveau mot de passe, encore")) } br;
                input #confirm name="confirm" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS) required;
            }
            p { button type="submit" { (t("Changer le mot de passe")) } }
        }
    };
    (status, page(lang, t("Mon compte"), body)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct MyPasswordForm {
    csrf: Option<String>,
    current: String,
    new: String,
    confirm: String,
}

/// `POST /compte/mot-de-passe`.
pub(crate) async fn change_my_password(
    State(c): State<Controller>,
    staff: Staff,
    Form(form): Form<MyPasswordForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let lang = staff.lang;
    if form.new != form.confirm {
        return my_account_page(
            &staff,
            Some(t(
                lang,
                "Les deux nouveaux mots de passe ne sont pas les mêmes.",
            )),
            StatusCode::BAD_REQUEST,
        );
    }
    match c
        .staff_api(&staff.identity)
        .change_own_password(&form.current, &form.new)
        .await
    {
        Ok(()) => my_account_page(
            &staff,
            Some(t(
                lang,
                "Mot de passe changé. Vos autres sessions sont terminées.",
            )),
            StatusCode::OK,
        ),
        Err(StaffError::Invalid(_)) => my_account_page(
            &staff,
            Some(t(lang, PASSWORD_RULE)),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => staff_error(lang, "Mot de passe inchangé", &e),
    }
}

fn token_state(
    lang: Lang,
    token: &commune_controller::store::ApiTokenRecord,
    now: UtcMillis,
) -> String {
    match (token.revoked_at, token.expires_at) {
        (Some(at), _) => format!("{}{}", t(lang, "révoqué le "), day(at)),
        (None, Some(at)) if at > now => format!("{}{}", t(lang, "valable jusqu'au "), day(at)),
        (None, Some(at)) => format!("{}{}", t(lang, "expiré le "), day(at)),
        (None, None) => t(lang, "expiré").to_string(),
    }
}

fn account_row(lang: Lang, csrf: &str, me: &str, a: &AccountView, now: UtcMillis) -> Markup {
    let t = |fr: &'static str| t(lang, fr);
    let action = |what: &str| format!("/comptes/{}/{what}", a.login);
    html! {
        section.account aria-labelledby={"compte-" (a.login)} {
            h2 id={"compte-" (a.login)} {
                (a.display_name) " (" code { (a.login) } ")"
                @if a.disabled { " — " strong { (t("désactivé")) } }
            }
            p {
                (role_name(lang, &a.role)) " · " (sites_text(lang, &a.sites)) " · "
                (a.live_sessions) (t(" session(s) ouverte(s)"))
            }
            @if a.disabled {
                form method="post" action=(action("activer")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t("Réactiver le compte")) }
                }
            } @else if a.login != me {
                form method="post" action=(action("desactiver")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t("Désactiver le compte")) }
                    " " (t("(ses sessions et ses jetons d'API cessent tout de suite)"))
                }
            }
            @if a.live_sessions > 0 {
                form method="post" action=(action("deconnecter")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t("Terminer ses sessions")) }
                }
            }
            form method="post" action=(action("mot-de-passe")) {
                input type="hidden" name="csrf" value=(csrf);
                label for={"mdp-" (a.login)} { (t("Nouveau mot de passe (12 caractères au moins)")) } " "
                input id={"mdp-" (a.login)} name="password" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS) required;
                " " button type="submit" { (t("Changer le mot de passe")) }
            }
            @if !a.api_tokens.is_empty() {
                table {
                    caption { (t("Jetons d'API")) }
                    thead { tr { th scope="col" { (t("Nom")) } th scope="col" { (t("Créé le")) } th scope="col" { (t("État")) } th scope="col" { (t("Portée")) } th scope="col" { (t("Action")) } } }
                    tbody {
                        @for token in &a.api_tokens {
                            tr {
                                td { (token.name) }
                                td { (day(token.created_at)) }
                                td { (token_state(lang, token, now)) }
                                td { (token_scope(lang, token)) }
                                td {
                                    @if token.revoked_at.is_none() {
                                        form method="post" action=(action("jetons/revoquer")) {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="name" value=(token.name);
                                            button type="submit" { (t("Révoquer le jeton ")) span.skip { (token.name) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /comptes`: every account, for administrators.
pub(crate) async fn accounts_page(State(c): State<Controller>, staff: Staff) -> Response {
    let lang = staff.lang;
    let t = |fr: &'static str| t(lang, fr);
    let accounts = match c.staff_api(&staff.identity).accounts().await {
        Ok(a) => a,
        Err(e) => return staff_error(lang, "Comptes du personnel", &e),
    };
    let now = commune_controller::now();
    let body = html! {
        p { a href="/" { (t("← Parc")) } }
        h1 { (t("Comptes du personnel")) }
        p { (t("Créer un compte, un jeton d'API : commandes « commune user create » et « commune user token » sur le serveur. Chaque action ici va au journal d'audit.")) }
        @for a in &accounts {
            (account_row(lang, &staff.csrf, &staff.identity.login, a, now))
        }
    };
    page(lang, t("Comptes du personnel"), body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: Option<String>,
}

/// Back to the accounts page, or the failure's page.
fn after(lang: Lang, title: &'static str, done: Result<(), StaffError>) -> Response {
    match done {
        Ok(()) => Redirect::to("/comptes").into_response(),
        Err(e) => staff_error(lang, title, &e),
    }
}

/// What a refused password is told.
const PASSWORD_RULE: &str = "Un mot de passe a de 12 à 256 caractères.";

/// `POST /comptes/{login}/desactiver`.
pub(crate) async fn disable(
    State(c): State<Controller>,
    Path(login): Path<String>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let done = c.staff_api(&staff.identity).disable_account(&login).await;
    after(staff.lang, "Compte inchangé", done)
}

/// `POST /comptes/{login}/activer`.
pub(crate) async fn enable(
    State(c): State<Controller>,
    Path(login): Path<String>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let done = c.staff_api(&staff.identity).enable_account(&login).await;
    after(staff.lang, "Compte inchangé", done)
}

/// `POST /comptes/{login}/deconnecter`.
pub(crate) async fn end_sessions(
    State(c): State<Controller>,
    Path(login): Path<String>,
    staff: Staff,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let done = c
        .staff_api(&staff.identity)
        .end_sessions(&login)
        .await
        .map(|_| ());
    after(staff.lang, "Compte inchangé", done)
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    csrf: Option<String>,
    password: String,
}

/// `POST /comptes/{login}/mot-de-passe`: an administrator sets a new password; the
/// account's sessions end.
pub(crate) async fn set_password(
    State(c): State<Controller>,
    Path(login): Path<String>,
    staff: Staff,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    match c
        .staff_api(&staff.identity)
        .set_password(&login, &form.password)
        .await
    {
        Err(StaffError::Invalid(_)) => failed(
            staff.lang,
            StatusCode::BAD_REQUEST,
            "Mot de passe inchangé",
            t(staff.lang, PASSWORD_RULE),
        ),
        done => after(staff.lang, "Mot de passe inchangé", done),
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf: Option<String>,
    name: String,
}

/// `POST /comptes/{login}/jetons/revoquer`: revokes the account's tokens of that name.
pub(crate) async fn revoke_token(
    State(c): State<Controller>,
    Path(login): Path<String>,
    staff: Staff,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(r) = staff.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let done = c
        .staff_api(&staff.identity)
        .revoke_api_token(&login, &form.name)
        .await
        .map(|_| ());
    after(staff.lang, "Jeton non révoqué", done)
}
