//! Who is asking: staff in a browser (a session cookie, and the CSRF token every form
//! carries) or IT's scripts (an API token). The controller decides; this module only
//! carries cookies and headers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::{LoginError, StaffIdentity};
use commune_controller::Controller;
use maud::html;

use crate::i18n::{t, Lang};
use serde::Deserialize;

/// The session cookie's name.
pub const COOKIE: &str = "commune_session";

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

/// A logged-in person; pages that need one redirect to the login page otherwise.
pub struct Staff {
    /// Who.
    pub identity: StaffIdentity,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The language of the person's pages, for the refusals this type writes.
    pub lang: Lang,
}

impl<S> FromRequestParts<S> for Staff
where
    Controller: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let controller = Controller::from_ref(state);
        let Some(token) = cookie(&parts.headers) else {
            return Err(Redirect::to("/connexion").into_response());
        };
        match controller.session_identity(&token).await {
            Some((identity, csrf)) => Ok(Staff {
                identity,
                csrf,
                lang: Lang::from_headers(&parts.headers),
            }),
            None => Err(Redirect::to("/connexion").into_response()),
        }
    }
}

impl Staff {
    /// Checks a posted form's CSRF token against the session's (constant time); the
    /// refusal to send when it does not match.
    pub fn csrf_refusal(&self, posted: Option<&str>) -> Option<Response> {
        let ok = posted.is_some_and(|p| {
            p.len() == self.csrf.len()
                && p.bytes()
                    .zip(self.csrf.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if ok {
            None
        } else {
            let lang = self.lang;
            Some(
                (
                    StatusCode::FORBIDDEN,
                    crate::page(
                        lang,
                        t(lang, "Action refusée"),
                        html! {
                            h1 { (t(lang, "Action refusée")) }
                            p { (t(lang, "Le formulaire n'a pas de jeton de sécurité valide (CSRF). \
                                 Rechargez la page et recommencez.")) }
                        },
                    ),
                )
                    .into_response(),
            )
        }
    }
}

/// IT's scripts: `Authorization: Bearer <token>`; refused with 401 otherwise.
pub struct Api(pub StaffIdentity);

impl<S> FromRequestParts<S> for Api
where
    Controller: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let controller = Controller::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let identity = match token {
            Some(t) => controller.api_identity(t).await,
            None => None,
        };
        identity.map(Api).ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({
                    "error": "an API token is required: `Authorization: Bearer <token>` \
                              (create one with `commune user token`)"
                })),
            )
                .into_response()
        })
    }
}

pub(crate) async fn login_page(lang: Lang) -> Response {
    login_form(lang, None, StatusCode::OK)
}

/// A login failure in the person's language (the controller words it in French).
fn login_error(lang: Lang, e: &LoginError) -> String {
    match (lang, e) {
        (Lang::Fr, e) => e.to_string(),
        (Lang::En, LoginError::Wrong) => t(lang, "identifiant ou mot de passe incorrect").into(),
        (Lang::En, LoginError::TooManyAttempts(minutes)) => format!(
            "{}{minutes}{}",
            t(lang, "trop d'essais : réessayez dans "),
            t(lang, " minute(s)")
        ),
    }
}

fn login_form(lang: Lang, error: Option<&str>, status: StatusCode) -> Response {
    let t = |fr: &'static str| t(lang, fr);
    (
        status,
        crate::page(
            lang,
            t("Connexion"),
            html! {
                h1 { (t("Connexion")) }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/connexion" {
                    p {
                        label for="login" { (t("Identifiant")) }
                        br;
                        input #login name="login" type="text" autocomplete="username" required;
                    }
                    p {
                        label for="password" { (t("Mot de passe")) }
                        br;
                        input #password name="password" type="password" autocomplete="current-password" required;
                    }
                    p { button type="submit" { (t("Se connecter")) } }
                }
            },
        ),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    login: String,
    password: String,
}

/// The browser's address and whether it came over HTTPS. The dashboard listens on the
/// loopback interface behind a reverse proxy on the same host (docs/guide-informatique.md):
/// from a loopback peer, the last address of `X-Forwarded-For` (the one the proxy added)
/// is the browser's, and `X-Forwarded-Proto: https` says the proxy speaks HTTPS. From any
/// other peer, these headers are ignored (anyone could send them).
pub(crate) fn client(peer: SocketAddr, headers: &HeaderMap) -> (std::net::IpAddr, bool) {
    if !peer.ip().is_loopback() {
        return (peer.ip(), false);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .next_back();
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (forwarded.unwrap_or(peer.ip()), https)
}

pub(crate) async fn login(
    State(c): State<Controller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<LoginForm>,
) -> Response {
    let (ip, https) = client(peer, &headers);
    match c.login(&form.login, &form.password, Some(ip)).await {
        Ok((_, session)) => (
            [(
                header::SET_COOKIE,
                format!(
                    "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                    session.token,
                    commune_controller::staff::SESSION_TTL.as_secs(),
                    if https { "; Secure" } else { "" }
                ),
            )],
            Redirect::to("/"),
        )
            .into_response(),
        Err(e @ LoginError::TooManyAttempts(_)) => login_form(
            lang,
            Some(&login_error(lang, &e)),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => login_form(lang, Some(&login_error(lang, &e)), StatusCode::UNAUTHORIZED),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: Option<String>,
}

pub(crate) async fn logout(
    State(c): State<Controller>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = staff.csrf_refusal(form.csrf.as_deref()) {
        return refused;
    }
    if let Some(token) = cookie(&headers) {
        c.logout(&token).await;
    }
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/connexion"),
    )
        .into_response()
}
