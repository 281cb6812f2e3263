//! Staff acting outside their role: mediators, disabled accounts, revoked and expired API tokens.
//! The bystanders' checks pass on their own (the other cases rely on them).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use commune_controller::staff::{Role, StaffIdentity};
use commune_protocol::messages::{AgentEvent, EventEnvelope, SessionStarted, SlotKind};
use commune_protocol::UtcMillis;
use commune_tests::web::{form, http, post_login};
use commune_tests::{enroll_agent, eventually, SITE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{login_blocking, Bystanders};

/// The mediator (of an outside association) who tries what only MDH staff may do.
const MEDIATOR: &str = "marie";
const MEDIATOR_PASSWORD: &str = "le mot de passe de marie";
const OTHER_SITE: &str = "mdh-autre";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bystanders_are_served_without_an_attacker() {
    let mut b = Bystanders::start().await;
    b.still_served(30).await;
    b.still_served(30).await;
}

/// Bystanders plus a mediator account of the site and a second site.
async fn with_mediator() -> Bystanders {
    let b = Bystanders::start().await;
    let c = &b.ctrl.controller;
    c.store()
        .add_site(OTHER_SITE, "MDH Autre", commune_controller::now())
        .await
        .expect("second site");
    c.create_staff(
        MEDIATOR,
        "Marie",
        Role::Mediator,
        &[SITE.to_string()],
        MEDIATOR_PASSWORD,
    )
    .await
    .expect("mediator account");
    b
}

/// Every staff-only door a mediator might push, over and over, each refused with 403 and a
/// sentence, while the bystanders keep being served; then the mediator's own work is done
/// and nothing the refused requests asked for happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mediator_trying_staff_only_actions_gets_403_while_everyone_is_served() {
    let mut b = with_mediator().await;
    let c = b.ctrl.controller.clone();
    // A third seat of the site, enrolled only, where a free-access visitor's session runs
    // (as the seat reported it).
    let (spare, _spare_dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("enroll a spare seat");
    let spare = spare.agent_id;
    c.ingest(
        &spare,
        vec![EventEnvelope {
            seq: 1,
            at: commune_controller::now(),
            event: AgentEvent::SessionStarted(SessionStarted {
                session_id: "s-libre".into(),
                slot_kind: SlotKind::Free,
                permanence_id: None,
                with_ticket: true,
            }),
        }],
    )
    .await
    .expect("the free session");
    eventually(20, "the free-access session is stored", || async {
        c.store()
            .sessions(UtcMillis(0), UtcMillis(i64::MAX))
            .await
            .unwrap()
            .iter()
            .any(|s| s.session_id == "s-libre")
    })
    .await;
    let bystander_seat = b.agents[0].config.agent_id.clone();
    let web = b.web;
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let stop = stop.clone();
        let (spare, seat) = (spare.clone(), bystander_seat.clone());
        // The bystanders' staff member opens slots on the first seat; the second is free.
        let free_seat = b.agents[1].config.agent_id.clone();
        tokio::task::spawn_blocking(move || {
            let cookie = login_blocking(web, MEDIATOR, MEDIATOR_PASSWORD);
            let page = http(
                web,
                "GET",
                &format!("/sites/{SITE}/permanences"),
                &[("Cookie", &cookie)],
                "",
            );
            assert_eq!(page.status, 200, "her site's permanences page");
            assert!(
                !page.body.contains(&format!("/sites/{SITE}/tickets")),
                "no tickets link for a mediator"
            );
            let csrf = page.csrf().expect("a CSRF token");
            let doors: Vec<(&str, String, String)> = vec![
                ("GET", format!("/sites/{SITE}/tickets"), String::new()),
                (
                    "POST",
                    format!("/sites/{SITE}/tickets"),
                    form(&[
                        ("csrf", &csrf),
                        ("count", "200"),
                        ("minutes", "45"),
                        ("days", "90"),
                    ]),
                ),
                ("GET", format!("/sites/{SITE}/rapports"), String::new()),
                (
                    "GET",
                    format!("/sites/{SITE}/rapports/permanences.csv"),
                    String::new(),
                ),
                (
                    "GET",
                    format!("/sites/{SITE}/rapports/postes.csv"),
                    String::new(),
                ),
                (
                    "GET",
                    "/export/lieux-mediation-numerique.csv".into(),
                    String::new(),
                ),
                ("GET", "/appareils".into(), String::new()),
                (
                    "POST",
                    "/appareils/jetons".into(),
                    form(&[("csrf", &csrf), ("site", SITE), ("hours", "168")]),
                ),
                (
                    "POST",
                    format!("/appareils/{seat}/revoquer"),
                    form(&[("csrf", &csrf)]),
                ),
                (
                    "POST",
                    format!("/sites/{OTHER_SITE}/creneaux"),
                    form(&[("csrf", &csrf), ("seat", &seat), ("minutes", "720")]),
                ),
                (
                    "POST",
                    format!("/sites/{SITE}/postes/{spare}/session"),
                    form(&[("csrf", &csrf), ("action", "end"), ("reason", "dehors")]),
                ),
                ("GET", "/comptes".into(), String::new()),
                (
                    "POST",
                    format!("/comptes/{}/desactiver", super::STAFF),
                    form(&[("csrf", &csrf)]),
                ),
            ];
            let mut rounds = 0u32;
            while rounds < 2 || !stop.load(Ordering::Relaxed) {
                for (method, path, body) in &doors {
                    let r = http(web, method, path, &[("Cookie", &cookie)], body);
                    assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
                    assert!(r.body.contains("Action refusée"), "{path}: {}", r.body);
                }
                rounds += 1;
            }
            // A computer where a free-access visitor works is not hers to take for a
            // permanence (the visitor would be cut off after the grace minutes)…
            let taken = http(
                web,
                "POST",
                &format!("/sites/{SITE}/creneaux"),
                &[("Cookie", &cookie)],
                &form(&[("csrf", &csrf), ("seat", &spare), ("minutes", "60")]),
            );
            assert_eq!(taken.status, 403, "{}", taken.body);
            assert!(taken.body.contains("accès libre"), "{}", taken.body);
            // … a free one is.
            let opened = http(
                web,
                "POST",
                &format!("/sites/{SITE}/creneaux"),
                &[("Cookie", &cookie)],
                &form(&[("csrf", &csrf), ("seat", &free_seat), ("minutes", "60")]),
            );
            assert_eq!(opened.status, 303, "she opens a slot: {}", opened.body);
            // And the free-access visitor's session is not hers to end.
            let end = http(
                web,
                "POST",
                &format!("/sites/{SITE}/postes/{spare}/session"),
                &[("Cookie", &cookie)],
                &form(&[("csrf", &csrf), ("action", "end")]),
            );
            assert_eq!(end.status, 403, "{}", end.body);
            assert!(
                end.body.contains("pas dans une de vos permanences"),
                "{}",
                end.body
            );
            // What is hers: counters, and a supervised session in her slot.
            let counted = http(
                web,
                "POST",
                &format!("/sites/{SITE}/compteurs"),
                &[("Cookie", &cookie)],
                &form(&[
                    ("csrf", &csrf),
                    ("permanence", "accompagne"),
                    ("day", "2026-11-24"),
                    ("people", "2"),
                ]),
            );
            assert_eq!(counted.status, 303, "{}", counted.body);
            rounds
        })
    };
    // The first two rounds need a moment to be ready: make sure they ran concurrently with
    // both checks by waiting for the refusals to begin.
    eventually(30, "the mediator's refusals begin", || async {
        c.store()
            .audit_log(UtcMillis(0))
            .await
            .unwrap()
            .iter()
            .any(|e| e.actor == MEDIATOR && e.action.ends_with(".refused"))
    })
    .await;
    b.still_served(30).await;
    b.still_served(30).await;
    stop.store(true, Ordering::Relaxed);
    let rounds = tokio::time::timeout(Duration::from_secs(120), attacker)
        .await
        .expect("the attacker stops")
        .expect("every door refused");
    assert!(rounds >= 2);

    // Nothing the refused requests asked for happened.
    let log = c.store().audit_log(UtcMillis(0)).await.unwrap();
    let done_by_her = |action: &str| {
        log.iter()
            .any(|e| e.actor == MEDIATOR && e.action == action)
    };
    for refused in [
        "tickets.view.refused",
        "tickets.create.refused",
        "report.view.refused",
        "report.export.refused",
        "export.lieux.refused",
        "devices.view.refused",
        "token.create.refused",
        "agent.revoke.refused",
        "slot.open.refused",
        "session.end.refused",
        "user.list.refused",
        "user.disable.refused",
    ] {
        assert!(done_by_her(refused), "{refused} not in the audit log");
    }
    for never in [
        "tickets.create",
        "token.create",
        "agent.revoke",
        "session.end",
        "user.disable",
    ] {
        assert!(!done_by_her(never), "{never} done by a mediator");
    }
    assert!(done_by_her("slot.open") && done_by_her("counters.record"));
    let (other, _) = c.site_schedule(OTHER_SITE).await.unwrap();
    assert!(other.ad_hoc.is_empty(), "no slot at the other site");
    let fleet = c.fleet().await.unwrap();
    assert!(
        fleet.iter().all(|a| a.overview.agent.revoked_at.is_none()),
        "no seat revoked"
    );
    let accounts = c.staff_api(&StaffIdentity::cli()).accounts().await.unwrap();
    assert!(accounts.iter().all(|a| !a.disabled), "no account disabled");
}

fn api_status(web: std::net::SocketAddr, token: &str) -> u16 {
    http(
        web,
        "GET",
        "/api/v1/seats",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    )
    .status
}

/// A revoked API token, an expired one and a disabled account's sessions and tokens are
/// refused at the next request; the bystanders are served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_and_revoked_or_expired_api_tokens_are_refused() {
    let mut b = with_mediator().await;
    let c = b.ctrl.controller.clone();
    let cli = StaffIdentity::cli();
    let admin = c.staff_api(&cli);
    let day = Duration::from_secs(86_400);
    let revoked = admin
        .create_api_token(MEDIATOR, "inventaire", day)
        .await
        .unwrap();
    let kept = admin
        .create_api_token(MEDIATOR, "supervision", day)
        .await
        .unwrap();
    // A token made long ago, past its expiry.
    let expired = "cmn-api-perime";
    let past = commune_controller::now().plus_secs(-91 * 86_400);
    c.store()
        .create_api_token(
            &commune_controller::staff::token_hash(expired),
            "ancien",
            MEDIATOR,
            past,
            past.plus_secs(90 * 86_400),
        )
        .await
        .unwrap();
    let web = b.web;
    let (revoked2, kept2) = (revoked.clone(), kept.clone());
    let cookie = tokio::task::spawn_blocking(move || {
        assert_eq!(api_status(web, &revoked2), 200);
        assert_eq!(api_status(web, &kept2), 200);
        assert_eq!(api_status(web, expired), 401, "an expired token");
        login_blocking(web, MEDIATOR, MEDIATOR_PASSWORD)
    })
    .await
    .unwrap();

    admin
        .revoke_api_token(MEDIATOR, "inventaire")
        .await
        .unwrap();
    b.still_served(30).await;
    admin.disable_account(MEDIATOR).await.unwrap();
    let (revoked2, kept2, cookie2) = (revoked.clone(), kept.clone(), cookie.clone());
    tokio::task::spawn_blocking(move || {
        assert_eq!(api_status(web, &revoked2), 401, "a revoked token");
        assert_eq!(api_status(web, &kept2), 401, "a disabled account's token");
        let page = http(web, "GET", "/", &[("Cookie", &cookie2)], "");
        assert_eq!(page.status, 303, "a disabled account's session");
        assert!(page.headers.contains("location: /connexion"));
        let again = post_login(web, &[], MEDIATOR, MEDIATOR_PASSWORD);
        assert_ne!(again.status, 303, "a disabled account cannot log in");
        assert!(again
            .cookie()
            .is_none_or(|c| !c.starts_with("commune_session=")));
    })
    .await
    .unwrap();
    b.still_served(30).await;

    // Enabled again: the token that was neither revoked nor expired works; the old session
    // stays ended.
    admin.enable_account(MEDIATOR).await.unwrap();
    tokio::task::spawn_blocking(move || {
        assert_eq!(api_status(web, &kept), 200);
        assert_eq!(api_status(web, &revoked), 401);
        let page = http(web, "GET", "/", &[("Cookie", &cookie)], "");
        assert_eq!(page.status, 303);
        login_blocking(web, MEDIATOR, MEDIATOR_PASSWORD);
    })
    .await
    .unwrap();
}

/// An open live stream (`/evenements`) of a session.
struct LiveStream {
    stream: tokio::net::TcpStream,
    seen: String,
}

impl LiveStream {
    async fn open(web: std::net::SocketAddr, cookie: &str) -> LiveStream {
        let mut stream = tokio::net::TcpStream::connect(web).await.unwrap();
        stream
            .write_all(
                format!(
                    "GET /evenements HTTP/1.1\r\nHost: {web}\r\nCookie: {cookie}\r\n\
                     Accept: text/event-stream\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let mut live = LiveStream {
            stream,
            seen: String::new(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !live.seen.contains("data:") {
            let n = live.read(deadline).await;
            assert!(n > 0, "the stream ended at once: {}", live.seen);
        }
        assert!(live.seen.contains("text/event-stream"), "{}", live.seen);
        live
    }

    async fn read(&mut self, deadline: tokio::time::Instant) -> usize {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("the stream is still open: {}", self.seen))
            .unwrap_or(0);
        self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        n
    }

    /// Waits, up to `secs`, for the server to end the stream.
    async fn ends_within(mut self, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if self.read(deadline).await == 0 || self.seen.ends_with("\r\n0\r\n\r\n") {
                return;
            }
        }
    }
}

/// The live stream checks its session again: it ends when an admin ends the person's
/// sessions, and when the account is disabled, within seconds; others' streams go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_or_a_disabled_account_closes_its_live_stream() {
    let mut b = with_mediator().await;
    let c = b.ctrl.controller.clone();
    let cli = StaffIdentity::cli();
    let web = b.web;
    let login = |who: &'static str, password: &'static str| async move {
        tokio::task::spawn_blocking(move || login_blocking(web, who, password))
            .await
            .unwrap()
    };
    let bystander = LiveStream::open(web, &login(super::STAFF, super::PASSWORD).await).await;
    let first = LiveStream::open(web, &login(MEDIATOR, MEDIATOR_PASSWORD).await).await;
    c.staff_api(&cli).end_sessions(MEDIATOR).await.unwrap();
    first.ends_within(15).await;

    let second = LiveStream::open(web, &login(MEDIATOR, MEDIATOR_PASSWORD).await).await;
    c.staff_api(&cli).disable_account(MEDIATOR).await.unwrap();
    second.ends_within(15).await;

    // The staff member's stream is still open and still told of changes.
    b.still_served(30).await;
    let mut bystander = bystander;
    let before = bystander.seen.matches("data:").count();
    b.agents[1].stop().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while bystander.seen.matches("data:").count() == before {
        assert!(
            bystander.read(deadline).await > 0,
            "the staff member's stream ended: {}",
            bystander.seen
        );
    }
}
