//! Who is asking: staff in a browser (a session cookie, and the CSRF token every form
//! carries) or IT's scripts (an API token). The controller decides; this module only
//! carries cookies and headers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use commune_controller::staff::{LoginError, StaffIdentity, LOGIN_MAX_BYTES};
use commune_controller::Controller;
use maud::html;

use crate::i18n::{t, Lang};
use serde::Deserialize;

/// The session cookie's name.
pub const COOKIE: &str = "commune_session";

/// The login form's CSRF cookie (before any session: a double-submit token the login page
/// sets and its form posts back, so another site cannot log a browser in).
pub const LOGIN_CSRF_COOKIE: &str = "commune_login_csrf";

fn cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

fn cookie_named(headers: &HeaderMap, cookie: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == cookie && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Whether two tokens are equal, in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
        let ok = posted.is_some_and(|p| same_token(p, &self.csrf));
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

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
            .and_then(bearer_token);
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
                              (create one with `commune user token`)",
                    "code": "unauthorized"
                })),
            )
                .into_response()
        })
    }
}

/// `GET /connexion`: the form, with the login CSRF token (the browser's cookie if it has a
/// well-formed one, so that two tabs both work; a new one otherwise).
pub(crate) async fn login_page(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let (_, https) = client(peer, &headers);
    let token = cookie_named(&headers, LOGIN_CSRF_COOKIE).filter(|t| well_formed_token(t));
    let (token, fresh) = match token {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    let mut response = login_form(lang, None, StatusCode::OK, &token);
    if fresh {
        let value = format!(
            "{LOGIN_CSRF_COOKIE}={token}; Path=/connexion; HttpOnly; SameSite=Strict; Max-Age={}{}",
            LOGIN_CSRF_MAX_AGE_SECS,
            if https { "; Secure" } else { "" }
        );
        if let Ok(value) = value.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// How long a login page's CSRF token lasts.
const LOGIN_CSRF_MAX_AGE_SECS: u64 = 3600;

/// 32 random bytes in hex.
fn new_token() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    // The system's generator does not fail on Linux; a failure would give a token the
    // form cannot match, so the login would be refused, not weakened.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn well_formed_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
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
        (Lang::En, LoginError::Busy) => t(
            lang,
            "le service est très sollicité : réessayez dans un instant",
        )
        .into(),
    }
}

fn login_form(lang: Lang, error: Option<&str>, status: StatusCode, csrf: &str) -> Response {
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
                    input type="hidden" name="csrf" value=(csrf);
                    p {
                        label for="login" { (t("Identifiant")) }
                        br;
                        input #login name="login" type="text" autocomplete="username" maxlength=(LOGIN_MAX_BYTES) required;
                    }
                    p {
                        label for="password" { (t("Mot de passe")) }
                        br;
                        input #password name="password" type="password" autocomplete="current-password" maxlength="1024" required;
                    }
                    p { button type="submit" { (t("Se connecter")) } }
                }
            },
        ),
    )
        .into_response()
}

/// The fields of a posted login form (the first of each).
#[derive(Default)]
struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

impl LoginForm {
    fn parse(body: &[u8]) -> LoginForm {
        let mut form = LoginForm::default();
        let (mut login, mut password, mut csrf) = (None, None, None);
        for (key, value) in form_urlencoded::parse(body) {
            let slot = match key.as_ref() {
                "login" => &mut login,
                "password" => &mut password,
                "csrf" => &mut csrf,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        form.login = login.unwrap_or_default();
        form.password = password.unwrap_or_default();
        form.csrf = csrf.unwrap_or_default();
        form
    }
}

/// The largest login form read: a login, a password of `max_password_bytes` and the
/// token, each byte percent-encoded at worst, and room for the names. Larger bodies are
/// refused unread.
fn login_form_max_bytes(c: &Controller) -> usize {
    3 * (LOGIN_MAX_BYTES + c.config().login.max_password_bytes + 64) + 256
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

/// `POST /connexion`: the login form's token must match its cookie; the body is read up to
/// [`login_form_max_bytes`]; then the controller decides.
/// How long a login form's body may take to arrive.
pub(crate) const LOGIN_BODY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub(crate) async fn login(
    state: State<Controller>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    lang: Lang,
    body: axum::body::Body,
) -> Response {
    let mut response = check_login(state, peer, headers, lang, body).await;
    if response.status() != StatusCode::SEE_OTHER {
        // Answered late, outside the request limit (see `server::slow_refusals`).
        response
            .extensions_mut()
            .insert(crate::server::RefusedLogin);
    }
    response
}

async fn check_login(
    State(c): State<Controller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    lang: Lang,
    body: axum::body::Body,
) -> Response {
    let (ip, https) = client(peer, &headers);
    let max = login_form_max_bytes(&c);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = match declared {
        Some(n) if n > max => None,
        // A login form is a few hundred bytes: one sent slower than this is not a person's.
        _ => match tokio::time::timeout(LOGIN_BODY_WAIT, axum::body::to_bytes(body, max)).await {
            Ok(read) => read.ok(),
            Err(_) => {
                return refusal_page(
                    lang,
                    StatusCode::REQUEST_TIMEOUT,
                    "Formulaire refusé",
                    "Ce formulaire de connexion est arrivé trop lentement. Rechargez la page \
                     de connexion et recommencez.",
                )
            }
        },
    };
    let Some(body) = body else {
        c.login_form_too_large(Some(ip)).await;
        return refusal_page(
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Formulaire refusé",
            "Ce formulaire de connexion est trop long pour en être un.",
        );
    };
    let form = LoginForm::parse(&body);
    let cookie = cookie_named(&headers, LOGIN_CSRF_COOKIE);
    let Some(token) = cookie.filter(|c| well_formed_token(c) && same_token(c, &form.csrf)) else {
        return refusal_page(
            lang,
            StatusCode::FORBIDDEN,
            "Connexion refusée",
            "Le formulaire de connexion n'a pas de jeton de sécurité valide (CSRF) : il a \
             expiré ou ne vient pas de ce site. Rechargez la page de connexion et recommencez.",
        );
    };
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
        Err(e @ LoginError::TooManyAttempts(minutes)) => {
            let mut page = login_form(
                lang,
                Some(&login_error(lang, &e)),
                StatusCode::TOO_MANY_REQUESTS,
                &token,
            );
            retry_after(&mut page, minutes.saturating_mul(60));
            page
        }
        Err(e @ LoginError::Busy) => {
            let mut page = login_form(
                lang,
                Some(&login_error(lang, &e)),
                StatusCode::SERVICE_UNAVAILABLE,
                &token,
            );
            retry_after(&mut page, BUSY_RETRY_AFTER_SECS);
            page
        }
        Err(e) => login_form(
            lang,
            Some(&login_error(lang, &e)),
            StatusCode::UNAUTHORIZED,
            &token,
        ),
    }
}

/// What a login refused as busy is told to wait, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

fn retry_after(response: &mut Response, secs: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, secs.max(1).into());
}

/// A page that says why a form was refused, with the way back to the login page.
fn refusal_page(
    lang: Lang,
    status: StatusCode,
    title: &'static str,
    why: &'static str,
) -> Response {
    (
        status,
        crate::page(
            lang,
            t(lang, title),
            html! {
                h1 { (t(lang, title)) }
                p { (t(lang, why)) }
                p { a href="/connexion" { (t(lang, "Page de connexion")) } }
            },
        ),
    )
        .into_response()
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
