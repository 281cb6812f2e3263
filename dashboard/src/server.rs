//! The dashboard's HTTP server and what every request goes through: at most
//! `max_connections` connections, a whole request head within `header_read_timeout_secs`
//! (a slow client cannot hold a connection by sending half a header), a response within
//! `request_timeout_secs`, at most `max_concurrent_requests` handled at once (the others
//! wait their turn within the timeout), bodies of at most `max_form_bytes`; and on every
//! response the security headers: a Content-Security-Policy without `'unsafe-inline'`,
//! no framing, no MIME sniffing, no referrer to other sites, and `Cache-Control: no-store`
//! (pages show enrollment tokens and ticket codes; nothing the dashboard sends is worth
//! caching).
//! The referrer goes to this origin only (`same-origin`, not `no-referrer`): the language
//! switch sends a person back to the page they came from by it, and no page address ever
//! leaves for another site.
//!
//! `axum::serve` has no header-read timeout, so connections are served by hyper's HTTP/1
//! builder directly (hyper-util for the runtime glue and the graceful shutdown); the
//! limits are tower-http's layers, the tower ecosystem's own.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use commune_controller::config::WebLimits;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;
use tower::Service as _;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// Inline event handlers of the pages (`site.rs`'s print button): allowed by their hash
/// with `'unsafe-hashes'`, which allows exactly these texts and nothing else. A new one
/// must be added here (a test reads the sources and says so).
const INLINE_HANDLERS: &[&str] = &["window.print()"];

/// How long open connections (the live event streams) get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(5);

/// Largest request head read, in bytes (hyper's read buffer, per connection: the
/// dashboard's cookies and headers are well under 4 KiB).
const MAX_HEAD_BYTES: usize = 16 * 1024;

fn sha256_source(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// The Content-Security-Policy: nothing but this origin, and of inline code only the
/// page style and the live-update script, by their SHA-256 (computed from the texts the
/// pages carry, so an edit of either stays allowed).
pub(crate) fn content_security_policy() -> String {
    let handlers: Vec<String> = INLINE_HANDLERS.iter().map(|h| sha256_source(h)).collect();
    format!(
        "default-src 'none'; style-src {} {}; script-src {} {} {} 'unsafe-hashes' {}; \
         connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'",
        sha256_source(crate::CSS),
        sha256_source(crate::phone::PHONE_CSS),
        sha256_source(crate::LIVE_JS),
        sha256_source(crate::room::ROOM_JS),
        sha256_source(crate::phone::PHONE_JS),
        handlers.join(" ")
    )
}

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy()).unwrap_or(HeaderValue::from_static(
        "default-src 'none'; frame-ancestors 'none'",
    ))
});

/// A refused login: its answer is sent `refused_login_delay_ms` late.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefusedLogin;

/// The delay of refused logins, and how many may wait at once.
#[derive(Clone)]
pub(crate) struct Delays {
    delay: Duration,
    places: Arc<Semaphore>,
}

/// The layers every request goes through (see the module's documentation).
pub(crate) fn protect(router: Router, limits: &WebLimits) -> Router {
    let requests = Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1)));
    let timeout = Duration::from_secs(limits.request_timeout_secs.max(1));
    let delays = Delays {
        delay: Duration::from_millis(limits.refused_login_delay_ms),
        places: Arc::new(Semaphore::new(limits.max_delayed_refusals)),
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            requests,
            one_at_a_time,
        ))
        .layer(axum::middleware::from_fn_with_state(delays, slow_refusals))
        .layer(RequestBodyLimitLayer::new(limits.max_form_bytes))
        .layer(axum::middleware::from_fn(crate::api::json_refusals))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            CSP.clone(),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Waits for one of the `max_concurrent_requests` places, inside the request timeout (a
/// tower concurrency limit would wait in `poll_ready`, outside it).
async fn one_at_a_time(
    State(requests): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    // Logins take no place: their work is bounded by the login door itself (its limiter
    // and password-check pool, a body read within `LOGIN_BODY_WAIT`), and anonymous
    // clients posting slowly must not hold the places staff pages need.
    if request.method() == axum::http::Method::POST && request.uri().path() == "/connexion" {
        return next.run(request).await;
    }
    let Ok(_place) = requests.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // The place is given back once the response head is out: a live event stream does
    // not keep one.
    next.run(request).await
}

/// Sends a refused login's answer late, holding no place among the requests handled at
/// once: a client that waits for its answer before trying again (any flooding tool with a
/// bounded number of connections) is slowed to that many tries per delay, and its CPU
/// share goes back to everyone else. At most `max_delayed_refusals` wait at once (each is
/// one sleeping connection); past that, answers go at once.
async fn slow_refusals(State(delays): State<Delays>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<RefusedLogin>().is_some() {
        if let Ok(_place) = delays.places.try_acquire() {
            tokio::time::sleep(delays.delay).await;
        }
    }
    response
}

/// Serves `app` on `listener` with the connection limits of `limits` until `shutdown`
/// resolves; then open connections get [`DRAIN`] to finish.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &WebLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs.max(1)))
        .max_buf_size(MAX_HEAD_BYTES);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Past `max_connections`, new ones wait in the system's backlog.
        let place = tokio::select! {
            biased;
            () = &mut shutdown => break,
            place = connections.clone().acquire_owned() => place.map_err(std::io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "dashboard connection ended");
            }
            drop(place);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("dashboard connections still open at shutdown, closed");
    }
    Ok(())
}

/// A failed `accept`: a connection that went away is nothing; anything else (no file
/// descriptors left) is logged and waited out.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "the dashboard cannot accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every inline script, style and event handler in the pages' sources is one the
    /// policy allows: a new one would be blocked by browsers without a word.
    #[test]
    fn every_inline_code_of_the_sources_is_allowed_by_the_policy() {
        let sources = [
            ("api.rs", include_str!("api.rs")),
            ("auth.rs", include_str!("auth.rs")),
            ("devices.rs", include_str!("devices.rs")),
            ("lib.rs", include_str!("lib.rs")),
            ("live.rs", include_str!("live.rs")),
            ("reports.rs", include_str!("reports.rs")),
            ("accounts.rs", include_str!("accounts.rs")),
            ("refusal.rs", include_str!("refusal.rs")),
            ("seat.rs", include_str!("seat.rs")),
            ("site.rs", include_str!("site.rs")),
        ];
        for (file, text) in sources {
            for attribute in ["onclick=", "onchange=", "onsubmit=", "oninput=", "onload="] {
                for rest in text.split(attribute).skip(1) {
                    let handler = rest.trim_start_matches('"').split('"').next().unwrap_or("");
                    assert!(
                        INLINE_HANDLERS.contains(&handler),
                        "{file}: the handler {handler:?} is not in INLINE_HANDLERS (server.rs)"
                    );
                }
            }
            assert!(
                !text.contains(" style=\""),
                "{file}: a style attribute; use a class of lib.rs's CSS instead"
            );
            let scripts = text.matches("script {").count();
            let styles = text.matches("style {").count();
            let expected = if file == "lib.rs" { 1 } else { 0 };
            assert_eq!(
                (scripts, styles),
                (expected, expected),
                "{file}: inline <script> or <style> other than LIVE_JS and CSS"
            );
        }
        let policy = content_security_policy();
        assert!(!policy.contains("'unsafe-inline'"), "{policy}");
        assert!(policy.contains(&sha256_source(crate::CSS)));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
