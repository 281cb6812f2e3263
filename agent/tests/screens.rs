//! The visitor screens against the visitor's own programs (which reach the same loopback
//! server as the greeter), over real HTTP on loopback, with a real session manager on the
//! sandbox platform and real Argon2 PIN hashes:
//!
//! - 500 PINs posted at once count as 500 attempts, and only [`MAX_FAILURES`] reach the
//!   (slow) PIN check: the others are refused before it;
//! - the count survives a restart of the screens on the same state directory;
//! - on a busy seat the right PIN gets the very answer a wrong one gets;
//! - a form without the greeter's secret is refused (403) and counts for nothing.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use commune_agent::manager::ManagerHandle;
use commune_agent::platform::sandbox::Sandbox;
use commune_agent::screens::secret::{GreeterSecret, HEADER};
use commune_agent::screens::{Options, MAX_FAILURES};
use commune_protocol::messages::{SeatState, SlotKind};
use commune_protocol::schedule::Schedule;

const PIN: &str = "482913";
const WRONG: &str = "pin=000000";

/// One POST on a fresh connection (the harness's HTTP client, off the runtime): status and
/// body.
async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let path = path.to_owned();
    let body = body.to_owned();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = commune_tests::web::http(addr, "POST", &path, &headers, &body);
        (reply.status, reply.body)
    })
    .await
    .expect("the request's thread")
}

/// The French text of the message `id`, as the pages show it (HTML-escaped).
fn french(id: &str) -> String {
    let texts = commune_agent::screens::i18n::Texts::load().unwrap();
    let text = texts.get(commune_agent::screens::i18n::french(), id, None);
    maud::html! { (text) }.into_string()
}

/// A ready seat whose cached schedule holds the site's mediator PIN (an Argon2 hash, made
/// as the controller makes it).
async fn seat(dir: &Path) -> ManagerHandle {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let outbox = commune_agent::outbox::Outbox::open(&dir.join("outbox.db"), 1000)
        .await
        .unwrap();
    let platform = Sandbox::new(dir.join("sandbox")).unwrap();
    let (sessions, _task) =
        commune_agent::manager::spawn(Arc::new(platform), outbox, dir, Default::default());
    let hash = argon2::Argon2::default()
        .hash_password(PIN.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    let schedule = Schedule {
        version: 1,
        generated_at: commune_agent::now(),
        time_zone: "Europe/Paris".into(),
        slots: Vec::new(),
        mediator_pins: vec![hash],
        seat_policy: Default::default(),
        closing_message: String::new(),
    };
    assert!(sessions.schedule(schedule).await);
    sessions.wait_for(|s| s.state == SeatState::Ready).await;
    sessions
}

/// Screens of `sessions` with their limit kept in `state_dir`; returns their address, the
/// greeter's secret (read from its file, as the greeter does) and what stops them.
async fn screens(
    sessions: &ManagerHandle,
    state_dir: &Path,
) -> (SocketAddr, String, tokio::sync::oneshot::Sender<()>) {
    let file = state_dir.join("screens-secret");
    let options = Options::new(
        state_dir.to_path_buf(),
        GreeterSecret::create(&file, None).unwrap(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, _served) = commune_agent::screens::start(
        "127.0.0.1:0".parse().unwrap(),
        sessions.clone(),
        options,
        async move {
            let _ = stopped.await;
        },
    )
    .await
    .unwrap();
    (addr, GreeterSecret::read(&file).unwrap(), stop)
}

/// Enough descriptors for 500 connections at once, both ends, whatever the shell gave.
fn raise_open_files() {
    // SAFETY: getrlimit and setrlimit with a valid, initialised struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < 4096 {
            limit.rlim_cur = limit.rlim_max.min(4096);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_pins_at_once_are_five_hundred_attempts_and_only_five_are_checked() {
    raise_open_files();
    let dir = tempfile::tempdir().unwrap();
    let sessions = seat(dir.path()).await;
    let (addr, secret, _stop) = screens(&sessions, dir.path()).await;

    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..500 {
        let secret = secret.clone();
        posts.spawn(async move { post(addr, "/fr/mediateur", &[(HEADER, &secret)], WRONG).await });
    }
    let (mut checked, mut refused) = (0, 0);
    let (wrong_pin, too_many) = (french("error-pin"), french("error-too-many"));
    while let Some(answer) = posts.join_next().await {
        let (status, body) = answer.unwrap();
        match status {
            422 if body.contains(&wrong_pin) => checked += 1,
            429 if body.contains(&too_many) => refused += 1,
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert_eq!(checked + refused, 500, "every post is an attempt");
    assert_eq!(
        checked, MAX_FAILURES,
        "only {MAX_FAILURES} PINs reach the check; {refused} were refused before it"
    );
    // The window is full: even the right PIN waits.
    let right = format!("pin={PIN}");
    let (status, _) = post(addr, "/fr/mediateur", &[(HEADER, &secret)], &right).await;
    assert_eq!(status, 429);
    assert!(sessions.status().session.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_survives_a_restart_of_the_screens() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = seat(dir.path()).await;
    let (addr, secret, stop) = screens(&sessions, dir.path()).await;
    for _ in 0..MAX_FAILURES {
        let (status, _) = post(addr, "/fr/mediateur", &[(HEADER, &secret)], WRONG).await;
        assert_eq!(status, 422);
    }
    let _ = stop.send(());

    // New screens (a restarted agent: a new secret too) on the same state directory.
    let (addr, secret, _stop) = screens(&sessions, dir.path()).await;
    let right = format!("pin={PIN}");
    let (status, body) = post(addr, "/fr/mediateur", &[(HEADER, &secret)], &right).await;
    assert_eq!(status, 429, "still too many this minute: {body}");
    assert!(body.contains(&french("error-too-many")));
    assert!(sessions.status().session.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_busy_seat_the_right_pin_gets_the_answer_a_wrong_one_gets() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = seat(dir.path()).await;
    let (addr, secret, _stop) = screens(&sessions, dir.path()).await;
    let running = sessions.start_session(SlotKind::Free, None).await.unwrap();

    let greeter = [(HEADER, secret.as_str())];
    let right = format!("pin={PIN}");
    let (right_status, right_body) = post(addr, "/fr/mediateur", &greeter, &right).await;
    let (wrong_status, wrong_body) = post(addr, "/fr/mediateur", &greeter, WRONG).await;
    assert_eq!(right_status, 422);
    assert!(right_body.contains(&french("error-busy")), "{right_body}");
    assert_eq!(
        (wrong_status, &wrong_body),
        (right_status, &right_body),
        "the answer tells nothing of the PIN"
    );
    // Both were attempts: three more fill the window, and even the right PIN then waits.
    for _ in 2..MAX_FAILURES {
        let (status, _) = post(addr, "/fr/mediateur", &greeter, WRONG).await;
        assert_eq!(status, 422);
    }
    let (status, _) = post(addr, "/fr/mediateur", &greeter, &right).await;
    assert_eq!(status, 429);
    let status = sessions.status();
    assert_eq!(
        status.session.map(|s| s.session_id),
        Some(running.session_id),
        "the visitor's session goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_the_greeters_secret_is_refused_and_counts_for_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = seat(dir.path()).await;
    let (addr, secret, _stop) = screens(&sessions, dir.path()).await;

    // What a program in the visitor's session can send: no secret, a wrong one, a cookie
    // it made up; PINs and tickets alike.
    let forged = "0".repeat(64);
    let cookie = format!("commune-borne={forged}");
    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let attempts: [(&str, &str, Headers); 4] = [
        ("/fr/mediateur", WRONG, vec![]),
        ("/fr/mediateur", WRONG, vec![(HEADER, forged.as_str())]),
        ("/fr/mediateur", WRONG, vec![("Cookie", cookie.as_str())]),
        ("/fr/acces", "ticket=AAAA-AAAA", vec![]),
    ];
    for round in 0..3 {
        for (path, body, headers) in &attempts {
            let (status, text) = post(addr, path, headers, body).await;
            assert_eq!(status, 403, "round {round}, {path}: {text}");
            assert!(
                text.contains("Only this computer's welcome screen"),
                "{text}"
            );
        }
    }
    let right = format!("pin={PIN}");
    let (status, _) = post(addr, "/fr/mediateur", &[], &right).await;
    assert_eq!(status, 403, "not even the right PIN without the secret");
    assert!(sessions.status().session.is_none());

    // None of them took a place: the greeter's right PIN opens a session at once.
    let (status, _) = post(addr, "/fr/mediateur", &[(HEADER, &secret)], &right).await;
    assert_eq!(status, 303);
    let running = sessions.status().session.expect("a session");
    assert_eq!(running.kind, SlotKind::Supervised);
    // "End my session now" is the visitor's own: the notice in the session posts it
    // without the secret.
    let (status, _) = post(addr, "/fr/fin", &[], "").await;
    assert_eq!(status, 303);
    sessions.wait_for(|s| s.session.is_none()).await;
}
