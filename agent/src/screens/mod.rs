//! The visitor's screens, served on the loopback interface for a kiosk browser: the
//! greeter before a session (language, charter, ticket or "your mediator will open your
//! session", closed and blocked seats) and the small notice during it (countdown, the
//! warnings at T−5 and T−1, "end my session now", the print jobs waiting for the
//! visitor's "print" or "cancel" with their pages, the documents that will be erased, then
//! "your session has been erased" with the wipe's summary).
//!
//! Everything comes from the session manager ([`ManagerHandle`]); the pages hold no state
//! of their own beyond the language a session was started in. Document names appear on
//! these pages only: they are never logged and never leave the computer.
//!
//! Requests must name the loopback host (a page on the Internet cannot reach this server
//! by DNS rebinding) and forms must come from these pages (`Origin`), so that a site the
//! visitor opens cannot end their session.
//!
//! The visitor's own programs run on this computer and can reach this server too. So:
//!
//! - **Opening a session is the greeter's alone.** Every form that could start one (the
//!   ticket, the mediator's PIN, and any other `POST` but one) must carry the greeter's
//!   secret ([`secret`]: a cookie the greeter's browser got from [`secret::BOOTSTRAP_PATH`],
//!   or the header [`secret::HEADER`]); without it the answer is 403, before anything is
//!   counted or checked. The one exception is "end my session now" (`POST /{lang}/fin`):
//!   the notice that offers it runs *inside* the session, as the visitor, and can hold no
//!   secret; ending one's own session harms nobody but the visitor, and a page on the
//!   Internet still cannot post it (`Origin`). The notice's other forms (stepping away,
//!   calling a mediator, printing or cancelling one of the session's print jobs:
//!   `POST /{lang}/impression`) are the same kind: they open nothing, and what they may do
//!   is decided by the machine behind them (the print desk lets the visitor release only a
//!   job of this session within the free pages, whatever number the form carries).
//!   Reading the pages needs no secret: they show nothing the session does not already
//!   know.
//! - **Guesses are counted before they are checked** ([`attempts`]): a mediator PIN or a
//!   ticket code takes one of [`MAX_FAILURES`] places a minute before it reaches the
//!   session manager, kept on disk across restarts; a success gives its place back. Many
//!   requests at once are refused unchecked once the places are taken.
//! - **A PIN is checked only when the seat would start a session.** On a busy, wiping,
//!   closed or blocked seat the answer is the seat's refusal whatever the PIN (and the
//!   attempt still counts), so no answer tells a right PIN from a wrong one unless a
//!   session starts.

pub mod attempts;
pub mod i18n;
mod pages;
pub mod secret;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use serde::{Deserialize, Serialize};

use crate::manager::{ManagerError, ManagerHandle, Status};
use crate::session::Refusal;
pub use attempts::MAX_FAILURES;
use attempts::{Attempts, Reservation};
use i18n::{Language, Texts, Tr};
use secret::GreeterSecret;
/// How long the welcome screen says the previous session was erased.
const ERASED_NOTICE: Duration = Duration::from_secs(180);

const CSS: &str = include_str!("../../screens/kiosk.css");
const JS: &str = include_str!("../../screens/kiosk.js");

/// The screens' shared state.
struct Screens {
    manager: ManagerHandle,
    texts: Texts,
    /// The language the running (or last) session was started in, by session id.
    session_language: Mutex<Option<(String, &'static Language)>>,
    /// When the last session ended, as the screens saw it.
    last_end: Mutex<Option<Instant>>,
    /// Mediator PINs and ticket codes, counted before they are checked.
    attempts: Arc<Attempts>,
    /// What the greeter's requests carry.
    secret: GreeterSecret,
    /// "Copy to my USB stick", one copy at a time.
    usb: crate::usb::UsbCopy,
    usb_busy: tokio::sync::Mutex<()>,
}

type Shared = Arc<Screens>;

/// What the screens need besides the session manager.
#[derive(Debug)]
pub struct Options {
    /// The agent's state directory: the limit on guesses is kept there across restarts.
    pub state_dir: PathBuf,
    /// The greeter's secret of this run (see the module's documentation).
    pub secret: GreeterSecret,
    /// "Copy to my USB stick": where the stick is found and mounted.
    pub usb: crate::usb::UsbCopy,
}

impl Options {
    /// The options for screens keeping their state in `state_dir`, with the USB copy of the
    /// default `[guard]` settings (its mount folder in `state_dir`).
    pub fn new(state_dir: PathBuf, secret: GreeterSecret) -> Options {
        let guard = crate::config::GuardConfig::default();
        Options {
            usb: crate::usb::UsbCopy {
                sys: guard.sysfs,
                dir: state_dir.join("usb"),
                filesystems: guard.usb_filesystems,
            },
            state_dir,
            secret,
        }
    }

    /// The options of an agent's configuration: a new greeter's secret, written where the
    /// configuration says ([`crate::config::ScreensConfig::greeter_secret_in`]).
    pub fn for_config(config: &crate::AgentConfig) -> Result<Options, String> {
        let (path, group) = config
            .screens
            .greeter_secret_in(config.sessions.platform, &config.state_dir);
        Ok(Options {
            state_dir: config.state_dir.clone(),
            secret: GreeterSecret::create(&path, group.as_deref())?,
            usb: crate::usb::UsbCopy {
                sys: config.guard.sysfs.clone(),
                dir: config.state_dir.join("usb"),
                filesystems: config.guard.usb_filesystems.clone(),
            },
        })
    }
}

/// The screens' router.
pub fn router(manager: ManagerHandle, options: Options) -> Result<Router, String> {
    let texts = Texts::load()?;
    let attempts = Arc::new(Attempts::load(&options.state_dir, Arc::new(crate::now)));
    let screens = Arc::new(Screens {
        manager,
        texts,
        session_language: Mutex::new(None),
        last_end: Mutex::new(None),
        attempts,
        secret: options.secret,
        usb: options.usb,
        usb_busy: tokio::sync::Mutex::new(()),
    });
    // Remember when a session ends, for the welcome screen's "previous session erased".
    let watcher = screens.clone();
    tokio::spawn(async move {
        let mut rx = watcher.manager.status_receiver();
        let mut in_session = rx.borrow().session.is_some();
        while rx.changed().await.is_ok() {
            let now = rx.borrow().session.is_some();
            if in_session && !now {
                *lock(&watcher.last_end) = Some(Instant::now());
            }
            in_session = now;
        }
    });
    Ok(Router::new()
        .route("/", get(welcome_fr))
        .route(
            "/kiosk.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/kiosk.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route("/etat.json", get(state_json))
        .route(secret::BOOTSTRAP_PATH, get(greeter_bootstrap))
        .route("/session", get(session_any))
        .route("/{lang}/", get(welcome))
        .route("/{lang}/charte", get(charter))
        .route("/{lang}/acces", get(access).post(access_post))
        .route("/{lang}/mediateur", axum::routing::post(mediator_post))
        .route("/{lang}/session", get(session))
        .route("/{lang}/fin", get(end).post(end_post))
        .route("/{lang}/telephone", get(phone).post(phone_post))
        .route("/{lang}/cle", axum::routing::post(usb_post))
        .route("/{lang}/efface", get(erased))
        .route("/{lang}/pause", get(away).post(away_post))
        .route("/{lang}/reprendre", axum::routing::post(come_back_post))
        .route("/{lang}/verification", axum::routing::post(check_post))
        .route("/{lang}/aide", get(help_page).post(help_post))
        .route("/{lang}/aide/annuler", axum::routing::post(help_cancel))
        .route("/{lang}/impression", axum::routing::post(print_post))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(screens.clone(), guard))
        .with_state(screens))
}

/// Serves the screens on `addr` (a loopback address) until `shutdown` resolves: binds and
/// builds the pages first (an error here is the caller's), then serves in a task of its
/// own. Returns the address bound (port 0 picks one) and that task.
pub async fn start(
    addr: SocketAddr,
    manager: ManagerHandle,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    if !addr.ip().is_loopback() {
        return Err(format!(
            "the visitor screens listen on the loopback interface only, not {addr}"
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} for the visitor screens: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(manager, options)?;
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the visitor screens stopped");
        }
    });
    Ok((bound, task))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Loopback host only; forms from these pages only, and from the greeter (but "end my
/// session now"); no caching, no framing, no outside scripts.
async fn guard(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let name = host
        .rsplit_once(':')
        .map(|(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host.as_str()
            }
        })
        .unwrap_or(host.as_str());
    if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
        return (StatusCode::MISDIRECTED_REQUEST, "loopback only").into_response();
    }
    if request.method() == axum::http::Method::POST {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        let same = match origin {
            None => true,
            Some(origin) => origin == format!("http://{host}"),
        };
        let site = request
            .headers()
            .get("sec-fetch-site")
            .and_then(|s| s.to_str().ok())
            .unwrap_or("same-origin");
        if !same || !matches!(site, "same-origin" | "none") {
            return (StatusCode::FORBIDDEN, "forms of these screens only").into_response();
        }
        // The notice inside the session may end it, call a mediator or decide on its print
        // jobs; everything else is the greeter's.
        let path = request.uri().path();
        if !is_end_of_session(path)
            && !is_help_call(path)
            && !is_print_choice(path)
            && !s.carries_greeter_secret(request.headers())
        {
            return greeter_only();
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it, Chromium sends `Origin: null` on the pages' own forms.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

impl Screens {
    fn tr(&self, lang: &'static Language) -> Tr<'_> {
        Tr {
            texts: &self.texts,
            lang,
        }
    }

    /// Whether the request carries the greeter's secret (its cookie, or the header).
    fn carries_greeter_secret(&self, headers: &axum::http::HeaderMap) -> bool {
        let by_header = headers
            .get_all(secret::HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| self.secret.matches(v));
        let by_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == secret::COOKIE && self.secret.matches(value));
        by_header || by_cookie
    }

    /// Takes a place for checking a guess (off the runtime: it is written to disk first);
    /// `None` when too many came this minute.
    async fn reserve(&self) -> Option<Reservation> {
        let attempts = self.attempts.clone();
        tokio::task::spawn_blocking(move || attempts.reserve())
            .await
            .ok()
            .flatten()
    }

    fn session_language(&self, session_id: &str) -> Option<&'static Language> {
        lock(&self.session_language)
            .as_ref()
            .filter(|(id, _)| id == session_id)
            .map(|(_, l)| *l)
    }

    fn remember_language(&self, session_id: String, lang: &'static Language) {
        *lock(&self.session_language) = Some((session_id, lang));
    }

    fn recently_erased(&self) -> bool {
        lock(&self.last_end).is_some_and(|t| t.elapsed() < ERASED_NOTICE)
    }
}

/// The page's language, from the first segment of the path; an unknown one is a 404.
struct Lang(&'static Language);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Path(code) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found_page().into_response())?;
        i18n::language(&code)
            .map(Lang)
            .ok_or_else(|| not_found_page().into_response())
    }
}

/// The forms the session's own notice posts, which can carry no greeter secret: "end my
/// session now" (`POST /{lang}/fin`), "I step away" (`/{lang}/pause`), "I am back"
/// (`/{lang}/reprendre`) and "send to my phone" (`/{lang}/telephone`). None opens a
/// session; "pause" and "reprendre" act only on the running session, whose code five wrong
/// tries end; "telephone" sends only a document listed now, sealed with a key shown on this
/// screen alone.
fn is_end_of_session(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next()),
        (Some(lang), Some("fin" | "pause" | "reprendre" | "telephone" | "cle"), None) if i18n::language(lang).is_some()
    )
}

/// `POST /{lang}/aide` and `/{lang}/aide/annuler`: calling a mediator and cancelling the
/// call, which the notice inside the session may post too. They open nothing, send only a
/// need from a closed list, and are bounded by [`crate::help::HelpDesk`].
fn is_help_call(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some(lang), Some("aide"), None | Some("annuler"), None) if i18n::language(lang).is_some()
    )
}

/// `POST /{lang}/impression`: printing or cancelling one of the session's waiting jobs,
/// which the notice inside the session posts. It opens nothing; the print desk only lets
/// the visitor release a job of this session within the free pages.
fn is_print_choice(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next()),
        (Some(lang), Some("impression"), None) if i18n::language(lang).is_some()
    )
}

/// The answer to a form that does not come from the greeter.
fn greeter_only() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Seul l'écran d'accueil de cet ordinateur peut ouvrir une session.\n\
         Only this computer's welcome screen can open a session.\n",
    )
        .into_response()
}

/// `GET /borne?cle=…`: the greeter's browser gets its cookie, then the welcome screen.
#[derive(Debug, Deserialize)]
struct Bootstrap {
    #[serde(default)]
    cle: String,
}

async fn greeter_bootstrap(State(s): State<Shared>, Query(query): Query<Bootstrap>) -> Response {
    if !s.secret.matches(&query.cle) {
        return greeter_only();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_string()),
            (header::SET_COOKIE, s.secret.cookie()),
        ],
    )
        .into_response()
}

fn not_found_page() -> (StatusCode, axum::response::Html<String>) {
    (
        StatusCode::NOT_FOUND,
        axum::response::Html(pages::not_found().into_string()),
    )
}

async fn not_found() -> Response {
    not_found_page().into_response()
}

fn html(markup: maud::Markup) -> Response {
    axum::response::Html(markup.into_string()).into_response()
}

async fn welcome_fr(State(s): State<Shared>) -> Response {
    show_welcome(&s, i18n::french(), true)
}

async fn welcome(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    show_welcome(&s, lang, false)
}

fn show_welcome(s: &Screens, lang: &'static Language, choose: bool) -> Response {
    let status = s.manager.status();
    if let Some(session) = &status.session {
        let lang = s.session_language(&session.session_id).unwrap_or(lang);
        return Redirect::to(&format!("/{}/session", lang.code)).into_response();
    }
    let report = s
        .recently_erased()
        .then(|| s.manager.last_wipe_report())
        .flatten();
    html(pages::welcome(s.tr(lang), &status, choose, report.as_ref()))
}

async fn charter(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    html(pages::charter(
        s.tr(lang),
        s.manager.status().greeter.usb_refused,
    ))
}

async fn access(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    let status = s.manager.status();
    if status.session.is_some() {
        return Redirect::to(&format!("/{}/session", lang.code)).into_response();
    }
    html(pages::access(s.tr(lang), &status, None, None))
}

/// The ticket form (or the bare "open my session" button).
#[derive(Debug, Deserialize)]
struct AccessForm {
    #[serde(default)]
    ticket: Option<String>,
}

/// The mediator's PIN form.
#[derive(Debug, Deserialize)]
struct MediatorForm {
    #[serde(default)]
    pin: String,
}

/// Which message explains a refusal, and whether it could be guessing.
fn refusal_message(error: &ManagerError) -> (&'static str, bool) {
    match error {
        ManagerError::Refused(refusal) => match refusal {
            Refusal::TicketInvalid => ("error-ticket-invalid", false),
            Refusal::TicketUnknown => ("error-ticket-unknown", true),
            Refusal::TicketUsed => ("error-ticket-used", false),
            Refusal::TicketExpired(_) => ("error-ticket-expired", false),
            Refusal::TicketRequired => ("error-ticket-required", false),
            Refusal::Busy => ("error-busy", false),
            Refusal::Wiping => ("error-wiping", false),
            Refusal::Closed(_) => ("error-closed", false),
            Refusal::Blocked(_) => ("error-blocked", false),
            Refusal::SupervisedOnly(_) => ("error-supervised", false),
            Refusal::MediatorPin => ("error-pin", true),
            Refusal::NoSession => ("error-other", false),
            Refusal::DeviceAlarm(_) => ("error-device-alarm", false),
            Refusal::StepAwayOff => ("away-error-off", false),
            Refusal::StepAwayCode => ("away-error-code", false),
            Refusal::AlreadyAway | Refusal::NotAway => ("error-other", false),
            Refusal::TooLateToStepAway => ("away-error-late", false),
            Refusal::CannotLock => ("away-error-lock", false),
        },
        ManagerError::Platform(_) | ManagerError::Stopped => ("error-other", false),
    }
}

async fn access_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<AccessForm>,
) -> Response {
    let ticket = form.ticket.filter(|t| !t.trim().is_empty());
    let typed = ticket.clone();
    // The bare "open my session" guesses nothing.
    let guess = if ticket.is_some() {
        Guess::Ticket
    } else {
        Guess::Nothing
    };
    open_session(&s, lang, typed.as_deref(), guess, |m| async move {
        m.start_session_with_ticket(SlotKind::Free, None, ticket)
            .await
    })
    .await
}

async fn mediator_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<MediatorForm>,
) -> Response {
    open_session(&s, lang, None, Guess::Pin, |m| async move {
        m.start_session_with_pin(form.pin).await
    })
    .await
}

/// What a form could be guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guess {
    /// A mediator's PIN: every refusal counts (a busy seat's too, which the manager gives
    /// whatever the PIN).
    Pin,
    /// A ticket code: an unknown code counts; a refusal that says nothing of the code (a
    /// mistyped one, a busy seat) gives its place back.
    Ticket,
    /// Nothing (the bare "open my session"): not counted.
    Nothing,
}

/// Starts a session from a form, or shows why not on the same screen (with the ticket
/// code `typed`, if any). A guess takes its place in the limit before it is checked.
async fn open_session<F, Fut>(
    s: &Screens,
    lang: &'static Language,
    typed: Option<&str>,
    guess: Guess,
    f: F,
) -> Response
where
    F: FnOnce(ManagerHandle) -> Fut,
    Fut: std::future::Future<Output = Result<crate::manager::SessionInfo, ManagerError>>,
{
    let reservation = match guess {
        Guess::Nothing => None,
        Guess::Pin | Guess::Ticket => match s.reserve().await {
            Some(reservation) => Some(reservation),
            None => {
                let status = s.manager.status();
                let page = pages::access(s.tr(lang), &status, Some("error-too-many"), typed);
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::response::Html(page.into_string()),
                )
                    .into_response();
            }
        },
    };
    let result = f(s.manager.clone()).await;
    let keep = match (&result, guess) {
        (Ok(_), _) => false,
        (Err(_), Guess::Pin) => true,
        (Err(error), _) => refusal_message(error).1,
    };
    if let (Some(reservation), false) = (reservation, keep) {
        let _ = tokio::task::spawn_blocking(move || reservation.give_back()).await;
    }
    match result {
        Ok(info) => {
            s.remember_language(info.session_id, lang);
            Redirect::to(&format!("/{}/session", lang.code)).into_response()
        }
        Err(error) => {
            let (message, _) = refusal_message(&error);
            if matches!(error, ManagerError::Platform(_) | ManagerError::Stopped) {
                tracing::error!(%error, "the screens could not start a session");
            }
            let status = s.manager.status();
            let page = pages::access(s.tr(lang), &status, Some(message), typed);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(page.into_string()),
            )
                .into_response()
        }
    }
}

/// `/session`: the notice in the language the session was started in (the session's
/// launcher opens this address).
async fn session_any(State(s): State<Shared>) -> Response {
    let status = s.manager.status();
    let lang = status
        .session
        .as_ref()
        .and_then(|session| s.session_language(&session.session_id))
        .unwrap_or_else(i18n::french);
    Redirect::to(&format!("/{}/session", lang.code)).into_response()
}

async fn session(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    let status = s.manager.status();
    let Some(info) = status.session.clone() else {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    };
    if info.away_until.is_some() {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    let call = s.manager.help().current().await;
    let print = print_markup(&s, lang, None).await;
    html(pages::session(
        s.tr(lang),
        &info,
        &status,
        None,
        call.as_ref(),
        print,
    ))
}

/// The notice's print jobs, when the computer prints.
async fn print_markup(
    s: &Screens,
    lang: &'static Language,
    error: Option<&str>,
) -> Option<maud::Markup> {
    let print = s.manager.print();
    if !print.available() {
        return None;
    }
    let view = print.view().await;
    Some(pages::print_box(s.tr(lang), &view, error))
}

/// A choice on the notice about one print job.
#[derive(Debug, Deserialize)]
struct PrintForm {
    #[serde(default)]
    travail: String,
    #[serde(default)]
    action: String,
}

/// `POST /{lang}/impression`: the visitor prints (within the free pages) or cancels one
/// of the session's jobs, then sees the notice again. A number that is not a job of this
/// session waiting here, or a job that waits for staff, is refused: the desk decides,
/// not the form.
async fn print_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<PrintForm>,
) -> Response {
    use crate::print::PrintRefusal;
    let status = s.manager.status();
    let Some(info) = status.session.clone() else {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    };
    let job: Option<u32> = form.travail.trim().parse().ok();
    let outcome = match (job, form.action.as_str()) {
        (Some(job), "imprimer") => s
            .manager
            .print()
            .release(job, commune_protocol::messages::ReleasedBy::Visitor)
            .await
            .map(|_| ()),
        (Some(job), "annuler") => s.manager.print().cancel(job).await,
        _ => Err(PrintRefusal::NoSuchJob),
    };
    let (code, message) = match outcome {
        Ok(()) => return Redirect::to(&format!("/{}/session", lang.code)).into_response(),
        Err(PrintRefusal::ForStaff) => (StatusCode::CONFLICT, "print-error-staff"),
        Err(PrintRefusal::NoSuchJob) => (StatusCode::NOT_FOUND, "print-error-gone"),
        Err(PrintRefusal::Failed(error)) => {
            tracing::error!(%error, "a print job could not be released or cancelled");
            (StatusCode::BAD_GATEWAY, "print-error-failed")
        }
    };
    let call = s.manager.help().current().await;
    let print = print_markup(&s, lang, Some(message)).await;
    let page = pages::session(s.tr(lang), &info, &status, None, call.as_ref(), print);
    (code, axum::response::Html(page.into_string())).into_response()
}

/// The step-away form: the code, twice.
#[derive(Debug, Deserialize)]
struct AwayForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    again: String,
}

/// The code typed to come back.
#[derive(Debug, Deserialize)]
struct ComeBackForm {
    #[serde(default)]
    code: String,
}

/// `GET /{lang}/pause`: the paused session's screen (what the notice shows full screen).
async fn away(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    let status = s.manager.status();
    match &status.session {
        None => Redirect::to(&format!("/{}/efface", lang.code)).into_response(),
        Some(info) if info.away_until.is_none() => {
            Redirect::to(&format!("/{}/session", lang.code)).into_response()
        }
        Some(info) => html(pages::away(s.tr(lang), info, &status, None)),
    }
}

/// `POST /{lang}/pause`: the visitor steps away with the code they chose.
async fn away_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<AwayForm>,
) -> Response {
    let call = s.manager.help().current().await;
    let print = print_markup(&s, lang, None).await;
    let refused = |s: &Screens, id: &str| {
        let status = s.manager.status();
        match status.session.clone() {
            Some(info) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(
                    pages::session(
                        s.tr(lang),
                        &info,
                        &status,
                        Some(id),
                        call.as_ref(),
                        print.clone(),
                    )
                    .into_string(),
                ),
            )
                .into_response(),
            None => Redirect::to(&format!("/{}/efface", lang.code)).into_response(),
        }
    };
    let code = form.code.trim().to_string();
    if code != form.again.trim() {
        return refused(&s, "away-error-mismatch");
    }
    match s.manager.step_away(code).await {
        Ok(()) => Redirect::to(&format!("/{}/pause", lang.code)).into_response(),
        Err(error) => refused(&s, refusal_message(&error).0),
    }
}

/// `POST /{lang}/reprendre`: someone typed a code at the paused session.
async fn come_back_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<ComeBackForm>,
) -> Response {
    match s.manager.come_back(form.code.trim().to_string()).await {
        Ok(crate::session::ComeBack::Resumed) => {
            Redirect::to(&format!("/{}/session", lang.code)).into_response()
        }
        Ok(crate::session::ComeBack::Wrong(_)) => {
            let status = s.manager.status();
            match status.session.clone() {
                Some(info) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::response::Html(
                        pages::away(s.tr(lang), &info, &status, Some("away-error-wrong"))
                            .into_string(),
                    ),
                )
                    .into_response(),
                None => Redirect::to(&format!("/{}/efface", lang.code)).into_response(),
            }
        }
        Ok(crate::session::ComeBack::Ended(_)) | Err(_) => {
            Redirect::to(&format!("/{}/efface", lang.code)).into_response()
        }
    }
}

/// `POST /{lang}/verification`: a mediator at the seat accepts its devices with the
/// site's PIN after looking at the cable (the greeter's form; counted like every PIN).
async fn check_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<MediatorForm>,
) -> Response {
    let Some(reservation) = s.reserve().await else {
        let status = s.manager.status();
        let page = pages::access(s.tr(lang), &status, Some("error-too-many"), None);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            axum::response::Html(page.into_string()),
        )
            .into_response();
    };
    match s
        .manager
        .accept_devices(
            commune_protocol::messages::CheckedBy::MediatorPin,
            Some(form.pin),
        )
        .await
    {
        Ok(_) => {
            let _ = tokio::task::spawn_blocking(move || reservation.give_back()).await;
            Redirect::to(&format!("/{}/", lang.code)).into_response()
        }
        Err(error) => {
            let status = s.manager.status();
            let page = pages::access(s.tr(lang), &status, Some(refusal_message(&error).0), None);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(page.into_string()),
            )
                .into_response()
        }
    }
}

/// The need a visitor chose.
#[derive(Debug, Deserialize)]
struct HelpForm {
    #[serde(default)]
    besoin: String,
}

/// `GET /{lang}/aide`: the needs to choose from, or the open call (sent, or taken: a
/// mediator is coming) with its cancel button.
async fn help_page(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    let status = s.manager.status();
    let call = s.manager.help().current().await;
    html(pages::help(s.tr(lang), &status, call.as_ref(), None))
}

/// `POST /{lang}/aide`: places the call, then shows it.
async fn help_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<HelpForm>,
) -> Response {
    use crate::help::HelpRefusal;
    use commune_protocol::messages::HelpNeed;
    let need = HelpNeed::parse(&form.besoin).unwrap_or(HelpNeed::Unknown);
    let (code, message) = match s.manager.help().call(need).await {
        Ok(_) => return Redirect::to(&format!("/{}/aide", lang.code)).into_response(),
        Err(HelpRefusal::AlreadyOpen) => {
            return Redirect::to(&format!("/{}/aide", lang.code)).into_response()
        }
        Err(HelpRefusal::TooSoon(_)) => (StatusCode::TOO_MANY_REQUESTS, "help-error-too-soon"),
        Err(HelpRefusal::TooMany) => (StatusCode::TOO_MANY_REQUESTS, "help-error-too-many"),
        Err(HelpRefusal::UnknownNeed) => (StatusCode::UNPROCESSABLE_ENTITY, "help-error-other"),
        Err(HelpRefusal::Failed(error)) => {
            tracing::error!(%error, "a call for a mediator could not be recorded");
            (StatusCode::INTERNAL_SERVER_ERROR, "help-error-other")
        }
    };
    let status = s.manager.status();
    let page = pages::help(s.tr(lang), &status, None, Some(message));
    (code, axum::response::Html(page.into_string())).into_response()
}

/// `POST /{lang}/aide/annuler`: cancels the open call; back to the session or the welcome.
async fn help_cancel(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    s.manager.help().cancel().await;
    let to = if s.manager.status().session.is_some() {
        format!("/{}/session", lang.code)
    } else {
        format!("/{}/", lang.code)
    };
    Redirect::to(&to).into_response()
}

/// The documents the visitor would lose, as `folder/name` relative to the home (as the
/// manager gives them).
async fn documents(s: &Screens) -> Vec<String> {
    s.manager
        .documents()
        .await
        .into_iter()
        .map(|p: PathBuf| p.display().to_string())
        .collect()
}

/// Whether the visitor stepped away: their documents and their session are not anyone
/// else's to see or end (only their code, or staff, give it back or end it).
fn away_now(s: &Screens) -> bool {
    s.manager
        .status()
        .session
        .is_some_and(|i| i.away_until.is_some())
}

async fn end(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    if s.manager.status().session.is_none() {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    }
    if away_now(&s) {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    html(end_page(&s, lang, None).await)
}

/// The documents list with the ways to keep them; `error`: why the last "send to my phone"
/// failed.
async fn end_page(s: &Screens, lang: &'static Language, error: Option<&str>) -> maud::Markup {
    let documents = documents(s).await;
    let status = s.manager.status();
    let sent = status
        .session
        .as_ref()
        .map(|i| s.manager.handoffs().shown(&i.session_id))
        .unwrap_or_default();
    let phone = pages::PhoneOffer {
        allowed: status.greeter.send_to_phone,
        available: s.manager.handoffs().available(),
        sent: &sent,
        time_zone: &status.greeter.time_zone,
        error,
    };
    pages::end(s.tr(lang), &documents, status.greeter.usb_refused, &phone)
}

/// The form of "send to my phone".
#[derive(Debug, Deserialize)]
struct PhoneForm {
    document: String,
}

/// `POST /{lang}/telephone`: seals the document, has the controller keep it, then shows
/// the QR code (`GET`); on failure, the documents list says why.
async fn phone_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<PhoneForm>,
) -> Response {
    use crate::handoff::HandoffError;
    if away_now(&s) {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    let status = s.manager.status();
    if status.session.is_none() {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    }
    let failed = |code: StatusCode, id: &'static str| documents_refused(&s, lang, code, id);
    if !status.greeter.send_to_phone {
        return failed(StatusCode::FORBIDDEN, "phone-error-off").await;
    }
    let relative = PathBuf::from(&form.document);
    let Some((home, session_id)) = s.manager.document(relative.clone()).await else {
        return failed(StatusCode::NOT_FOUND, "phone-error-document").await;
    };
    let max = commune_protocol::handoff::MAX_DOCUMENT_BYTES;
    let read =
        tokio::task::spawn_blocking(move || crate::documents::read_document(&home, &relative, max))
            .await;
    let content = match read {
        Ok(Ok(content)) => content,
        Ok(Err(crate::documents::ReadError::TooLarge)) => {
            return failed(StatusCode::PAYLOAD_TOO_LARGE, "phone-error-large").await
        }
        Ok(Err(_)) | Err(_) => return failed(StatusCode::NOT_FOUND, "phone-error-document").await,
    };
    match s
        .manager
        .handoffs()
        .send(&session_id, &form.document, content, lang.code)
        .await
    {
        Ok(_) => Redirect::to(&format!("/{}/telephone", lang.code)).into_response(),
        Err(HandoffError::Busy) => failed(StatusCode::TOO_MANY_REQUESTS, "phone-error-busy").await,
        Err(HandoffError::TooLarge) => {
            failed(StatusCode::PAYLOAD_TOO_LARGE, "phone-error-large").await
        }
        Err(HandoffError::NotADocument) => {
            failed(StatusCode::NOT_FOUND, "phone-error-document").await
        }
        Err(HandoffError::Offline | HandoffError::NoAnswer) => {
            failed(StatusCode::SERVICE_UNAVAILABLE, "phone-offline").await
        }
        Err(HandoffError::Refused(reason)) => {
            // For IT: the controller's reason (a bound, a setting), never the document.
            tracing::warn!(%reason, "the controller refused a document for a phone");
            failed(StatusCode::SERVICE_UNAVAILABLE, "phone-error-refused").await
        }
    }
}

/// The documents list, saying why the document did not go.
async fn documents_refused(
    s: &Screens,
    lang: &'static Language,
    code: StatusCode,
    id: &'static str,
) -> Response {
    let page = end_page(s, lang, Some(id)).await;
    (code, axum::response::Html(page.into_string())).into_response()
}

/// `POST /{lang}/cle`: copies the ticked documents (fields `d0`, `d1`…, each a document
/// as listed) onto the visitor's USB stick, unmounts it, and says so.
async fn usb_post(
    State(s): State<Shared>,
    Lang(lang): Lang,
    Form(form): Form<std::collections::BTreeMap<String, String>>,
) -> Response {
    use crate::usb::UsbError;
    if away_now(&s) {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    let status = s.manager.status();
    if status.session.is_none() {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    }
    if status.greeter.usb_refused {
        return documents_refused(&s, lang, StatusCode::FORBIDDEN, "usb-refused").await;
    }
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k.starts_with('d') && k[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(|(_, v)| v.clone())
        .take(1000)
        .collect();
    if chosen.is_empty() {
        return documents_refused(
            &s,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "usb-none-chosen",
        )
        .await;
    }
    let Ok(_one) = s.usb_busy.try_lock() else {
        return documents_refused(&s, lang, StatusCode::TOO_MANY_REQUESTS, "phone-error-busy")
            .await;
    };
    let mut homes = Vec::new();
    for document in &chosen {
        match s.manager.document(PathBuf::from(document)).await {
            Some((home, _)) => homes.push((home, document.clone())),
            None => {
                return documents_refused(&s, lang, StatusCode::NOT_FOUND, "phone-error-document")
                    .await
            }
        }
    }
    let usb = s.usb.clone();
    let copied = tokio::task::spawn_blocking(move || {
        let mut open = Vec::new();
        for (home, document) in homes {
            let (file, size) =
                crate::documents::open_document(&home, std::path::Path::new(&document))
                    .map_err(|_| UsbError::Document)?;
            let name = document.rsplit('/').next().unwrap_or(&document).to_string();
            open.push((name, file, size));
        }
        usb.copy(open)
    })
    .await;
    let (code, id) = match copied {
        Ok(Ok(copied)) => {
            let page = pages::usb_done(s.tr(lang), copied.files);
            return html(page);
        }
        Ok(Err(UsbError::NoStick)) => (StatusCode::NOT_FOUND, "usb-no-stick"),
        Ok(Err(UsbError::Format(_))) => (StatusCode::UNPROCESSABLE_ENTITY, "usb-format"),
        Ok(Err(UsbError::NoSpace { .. })) => (StatusCode::INSUFFICIENT_STORAGE, "usb-no-space"),
        Ok(Err(UsbError::Document)) => (StatusCode::NOT_FOUND, "phone-error-document"),
        Ok(Err(UsbError::Io(error))) => {
            // For IT: what failed, never a document's name.
            tracing::warn!(kind = ?error.kind(), "copying documents to a USB stick failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "usb-failed")
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "usb-failed"),
    };
    documents_refused(&s, lang, code, id).await
}

/// `GET /{lang}/telephone`: the QR code of the last document sent in this session.
async fn phone(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    if away_now(&s) {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    let status = s.manager.status();
    let Some(info) = status.session.as_ref() else {
        return Redirect::to(&format!("/{}/efface", lang.code)).into_response();
    };
    let Some(last) = s.manager.handoffs().shown(&info.session_id).pop() else {
        return Redirect::to(&format!("/{}/fin", lang.code)).into_response();
    };
    html(pages::phone(s.tr(lang), &last, &status.greeter.time_zone))
}

async fn end_post(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    if away_now(&s) {
        return Redirect::to(&format!("/{}/pause", lang.code)).into_response();
    }
    // Waits for the wipe: the next page shows its report.
    match s.manager.end_session(EndReason::Visitor).await {
        Ok(_) | Err(ManagerError::Refused(Refusal::NoSession)) => {}
        Err(error) => tracing::error!(%error, "ending the session from the screens failed"),
    }
    Redirect::to(&format!("/{}/efface", lang.code)).into_response()
}

async fn erased(State(s): State<Shared>, Lang(lang): Lang) -> Response {
    let status = s.manager.status();
    if status.session.is_some() {
        return Redirect::to(&format!("/{}/session", lang.code)).into_response();
    }
    let report = s.manager.last_wipe_report();
    html(pages::erased(s.tr(lang), &status, report.as_ref()))
}

/// What the pages' script follows.
#[derive(Debug, Serialize)]
struct SeatJson {
    state: SeatState,
    session: Option<String>,
    kind: Option<SlotKind>,
    seconds_left: Option<u64>,
    warning: Option<u32>,
    /// Seconds left of the visitor's pause, while they are away.
    away_seconds_left: Option<u64>,
    /// Whether the visitor stepped away (the greeter then never logs the session back in).
    away: bool,
    /// Whether the site closes within its warning (the pages show it).
    closing: bool,
    /// The call for a mediator: `sent`, `taken`, or none.
    help: Option<&'static str>,
    /// The session's waiting print jobs, as the notice's `data-print` says them.
    print: String,
}

async fn state_json(State(s): State<Shared>) -> Response {
    let Status {
        state,
        session,
        greeter,
        ..
    } = s.manager.status();
    let closing_soon = greeter.closing_at.is_some();
    let call = s.manager.help().current().await;
    let print = s.manager.print().view().await.signature();
    Json(SeatJson {
        state,
        session: session.as_ref().map(|i| i.session_id.clone()),
        kind: session.as_ref().map(|i| i.kind),
        seconds_left: session.as_ref().and_then(|i| i.seconds_left_now()),
        warning: session.as_ref().and_then(|i| i.warning),
        away_seconds_left: session.as_ref().and_then(|i| i.away_seconds_left()),
        away: session.as_ref().is_some_and(|i| i.away_until.is_some()),
        closing: closing_soon,
        help: call.map(|c| pages::help_state(Some(&c))),
        print,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::i18n::{Texts, LANGUAGES, REQUIRED};

    #[test]
    fn every_language_parses_and_has_the_required_messages_in_its_own_words() {
        let texts = Texts::load().expect("every .ftl parses");
        let french = texts.ids(super::i18n::french());
        for language in LANGUAGES {
            for id in REQUIRED {
                assert!(texts.has(language, id), "{} lacks {id}", language.code);
            }
            for id in texts.ids(language) {
                assert!(
                    french.contains(&id),
                    "{} has {id}, which French lacks",
                    language.code
                );
            }
        }
    }

    #[test]
    fn placeables_match_french_and_a_missing_message_falls_back_to_french() {
        let texts = Texts::load().unwrap();
        let fr = super::i18n::french();
        let vars = |source: &str| {
            let mut v: Vec<String> = source
                .split('{')
                .skip(1)
                .filter_map(|p| p.split('}').next())
                .map(|p| p.trim().to_string())
                .collect();
            v.sort();
            v
        };
        for language in LANGUAGES {
            for id in texts.ids(language) {
                let own = raw(language.code, &id);
                let reference = raw("fr", &id);
                assert_eq!(vars(&own), vars(&reference), "{} {id}", language.code);
            }
        }
        assert_eq!(texts.get(fr, "welcome-title", None), "Bienvenue");
        // A language that lacks a message shows the French one; a message no one has shows
        // its id.
        let ar = super::i18n::language("ar").unwrap();
        let partial = Texts::parse(|l| {
            if l.code == "ar" {
                "welcome-title = أهلا وسهلا\n".to_string()
            } else {
                l.source().to_string()
            }
        })
        .unwrap();
        assert_eq!(partial.get(ar, "welcome-title", None), "أهلا وسهلا");
        assert_eq!(
            partial.get(ar, "charter-help", None),
            texts.get(fr, "charter-help", None)
        );
        assert_eq!(partial.get(ar, "no-such-message", None), "no-such-message");
    }

    /// The message's source text in a language's file.
    fn raw(code: &str, id: &str) -> String {
        let path = format!("{}/screens/locales/{code}.ftl", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{id} = ")).map(str::to_string))
            .unwrap_or_default()
    }
}
