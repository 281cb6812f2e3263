//! The dashboard's refusals over real HTTP on loopback: pages need a login; a wrong
//! password is refused and repeated failures are rate-limited; staff of one site cannot act
//! on another; a form without its CSRF token is refused; the API needs a token.

use commune_controller::staff::Role;
use commune_tests::web::{self, form, http, serve_dashboard};
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_login_rate_limit_other_site_csrf_and_api_token() {
    let ctrl = TestController::start().await;
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    let c = ctrl.controller.clone();
    c.store()
        .add_site("mdh-autre", "MDH Autre", commune_controller::now())
        .await
        .unwrap();
    c.create_staff(
        "marie",
        "Marie",
        Role::Mediator,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();

    let addr = serve_dashboard(c.clone()).await;

    let r = tokio::task::spawn_blocking(move || {
        // A page needs a login.
        let r = http(addr, "GET", "/", &[], "");
        assert_eq!(r.status, 303);
        assert!(r.headers.contains("location: /connexion"));
        let page = http(addr, "GET", "/connexion", &[], "");
        assert!(page.body.contains("Mot de passe") && page.body.contains("lang=\"fr\""));

        // Wrong password.
        let wrong = http(
            addr,
            "POST",
            "/connexion",
            &[],
            &form(&[("login", "marie"), ("password", "mauvais")]),
        );
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("incorrect"), "{}", wrong.body);

        // The right one: a session cookie, HttpOnly and SameSite=Strict.
        let ok = http(
            addr,
            "POST",
            "/connexion",
            &[],
            &form(&[("login", "marie"), ("password", "un mot de passe long")]),
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert!(ok.headers.contains("httponly") && ok.headers.contains("samesite=strict"));
        let cookie = ok.cookie().unwrap();
        let fleet = http(addr, "GET", "/", &[("Cookie", &cookie)], "");
        assert_eq!(fleet.status, 200);
        assert!(fleet.body.contains(&seat), "her site's seat is listed");
        let csrf = fleet.csrf().unwrap();

        // Without the CSRF token: refused, nothing done.
        let no_csrf = http(
            addr,
            "POST",
            &format!("/sites/{SITE}/creneaux"),
            &[("Cookie", &cookie)],
            &form(&[("seats", &seat), ("minutes", "60")]),
        );
        assert_eq!(no_csrf.status, 403);
        assert!(no_csrf.body.contains("CSRF"));
        // Another site: refused.
        let other = http(
            addr,
            "POST",
            "/sites/mdh-autre/creneaux",
            &[("Cookie", &cookie)],
            &form(&[("csrf", &csrf), ("seats", &seat), ("minutes", "60")]),
        );
        assert_eq!(other.status, 403);
        assert!(other.body.contains("vos sites"));
        // Her site, with the token: done.
        let done = http(
            addr,
            "POST",
            &format!("/sites/{SITE}/creneaux"),
            &[("Cookie", &cookie)],
            &form(&[
                ("csrf", &csrf),
                ("seats", &seat),
                ("minutes", "60"),
                ("name", "Écrivain public"),
            ]),
        );
        assert_eq!(done.status, 303, "{}", done.body);

        // Repeated failures: rate-limited, even with the right password.
        for _ in 0..5 {
            http(
                addr,
                "POST",
                "/connexion",
                &[],
                &form(&[("login", "marie"), ("password", "mauvais")]),
            );
        }
        let limited = http(
            addr,
            "POST",
            "/connexion",
            &[],
            &form(&[("login", "marie"), ("password", "un mot de passe long")]),
        );
        assert_eq!(limited.status, 429);
        assert!(limited.body.contains("trop d"), "{}", limited.body);

        // The API needs a token.
        let api = http(addr, "GET", "/api/v1/seats", &[], "");
        assert_eq!(api.status, 401);
        assert!(api.headers.contains("www-authenticate: bearer"));
        let spec = http(addr, "GET", "/api/v1/openapi.json", &[], "");
        assert_eq!(spec.status, 200);
        assert!(spec.body.contains("\"openapi\"") && spec.body.contains("/api/v1/seats"));
        (addr, seat)
    })
    .await
    .unwrap();
    let (addr, seat) = r;

    let (model, _) = c.site_schedule(SITE).await.unwrap();
    assert_eq!(
        model.ad_hoc.len(),
        1,
        "one slot opened, by the one valid form"
    );
    let log = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "slot.open" && e.actor == "marie"));
    assert!(log.iter().any(|e| e.action == "slot.open.refused"));

    let token = c.create_api_token("marie", "inventaire").await.unwrap();
    eventually(10, "the API lists the seat with its state", || {
        let token = token.clone();
        let seat = seat.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let r = http(
                    addr,
                    "GET",
                    "/api/v1/seats",
                    &[("Authorization", &format!("Bearer {token}"))],
                    "",
                );
                r.status == 200 && r.body.contains(&seat) && r.body.contains("\"last_seen\"")
            })
            .await
            .unwrap()
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_states_go_live_to_the_fleet_page_by_server_sent_events() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ctrl = TestController::start().await;
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
    config.sessions.platform = commune_agent::config::PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    let sessions = agent.sessions.clone().unwrap();
    let c = ctrl.controller.clone();
    c.create_staff("it", "IT", Role::It, &[], "un mot de passe long")
        .await
        .unwrap();
    let addr = serve_dashboard(c.clone()).await;
    let cookie = web::login(addr, "it", "un mot de passe long").await;

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /evenements HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let mut read_until = async |needle: &str, seen: &mut String| {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while !seen.contains(needle) {
            let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no `{needle}` in the event stream: {seen}"))
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    read_until("text/event-stream", &mut seen).await;
    read_until(
        &format!("\"{seat}\":[\"En ligne — libre\",\"online\"]"),
        &mut seen,
    )
    .await;
    // A visitor sits down: the page hears it without reloading.
    sessions
        .start_session(commune_protocol::messages::SlotKind::Free, None)
        .await
        .unwrap();
    read_until("En ligne — en session", &mut seen).await;

    // The site's pages: permanences (the seat, its state, the forms), then a ticket sheet.
    let (page, sheet) = tokio::task::spawn_blocking(move || {
        let page = http(
            addr,
            "GET",
            &format!("/sites/{SITE}/permanences"),
            &[("Cookie", &cookie)],
            "",
        );
        let csrf = page.csrf().unwrap();
        let sheet = http(
            addr,
            "POST",
            &format!("/sites/{SITE}/tickets"),
            &[("Cookie", &cookie)],
            &form(&[
                ("csrf", &csrf),
                ("count", "3"),
                ("minutes", "45"),
                ("days", "7"),
            ]),
        );
        (page, sheet)
    })
    .await
    .unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&seat) && page.body.contains("Ouvrir le créneau"));
    assert_eq!(sheet.status, 200, "{}", sheet.body);
    let codes = sheet.body.matches("class=\"code\"").count();
    assert_eq!(codes, 3, "three codes on the sheet");
    let log = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "tickets.create" && e.actor == "it"));
    // The report's figures match the sessions produced: one free (running since above), one
    // supervised.
    sessions
        .end_session(commune_protocol::messages::EndReason::Visitor)
        .await
        .unwrap();
    sessions
        .start_session(commune_protocol::messages::SlotKind::Supervised, None)
        .await
        .unwrap();
    sessions
        .end_session(commune_protocol::messages::EndReason::Staff)
        .await
        .unwrap();
    let store = c.store();
    let all = (
        commune_protocol::UtcMillis(0),
        commune_protocol::UtcMillis(i64::MAX),
    );
    eventually(20, "both sessions ended at the controller", || async {
        store
            .sessions(all.0, all.1)
            .await
            .unwrap()
            .iter()
            .filter(|s| s.ended_at.is_some())
            .count()
            == 2
    })
    .await;
    let produced = store.sessions(all.0, all.1).await.unwrap();
    let hours: f64 = produced
        .iter()
        .map(|s| s.duration_secs.unwrap_or(0) as f64)
        .sum::<f64>()
        / 3600.0;
    let cookie2 = web::login(addr, "it", "un mot de passe long").await;
    let (lines, seats, page) = tokio::task::spawn_blocking(move || {
        let get = |path: String| http(addr, "GET", &path, &[("Cookie", &cookie2)], "");
        (
            get(format!("/sites/{SITE}/rapports/permanences.csv")),
            get(format!("/sites/{SITE}/rapports/postes.csv")),
            get(format!(
                "/sites/{SITE}/rapports?du=2026-01-01&au=2026-13-01"
            )),
        )
    })
    .await
    .unwrap();
    assert_eq!(lines.status, 200);
    assert!(lines.headers.contains("text/csv"));
    assert!(lines.body.contains(";libre;1;0;"), "{}", lines.body);
    assert!(lines.body.contains(";accompagne;1;1;"), "{}", lines.body);
    assert!(lines.body.contains("# méthode"));
    let row = seats
        .body
        .lines()
        .find(|l| l.contains(&seat))
        .expect("the seat's row");
    let cols: Vec<&str> = row.split(';').collect();
    assert_eq!(cols[6], "2", "sessions: {row}");
    assert_eq!(
        cols[8],
        format!("{hours:.2}").replace('.', ","),
        "hours used: {row}"
    );
    let available: f64 = cols[7].replace(',', ".").parse().unwrap();
    assert!(
        available > 24.0 * 29.0,
        "a site without a schedule is open all day: {row}"
    );
    assert_eq!(page.status, 400, "a bad date is refused with a sentence");
    assert_eq!(
        row.split(';').count(),
        13,
        "availability is the last column: {row}"
    );

    // A disk almost full in a health snapshot raises an alert.
    let now = commune_controller::now();
    c.store()
        .insert_health(
            &seat,
            &commune_protocol::health::HealthSnapshot {
                at: now,
                cpu_percent: 5.0,
                load_average: [0.1; 3],
                memory_used_bytes: 1,
                memory_total_bytes: 2,
                swap_used_bytes: 0,
                swap_total_bytes: 0,
                disks: vec![commune_protocol::health::DiskUsage {
                    mount_point: "/".into(),
                    file_system: "ext4".into(),
                    total_bytes: 100,
                    available_bytes: 5,
                }],
                temperatures: vec![],
                uptime_secs: 1,
                os: "Debian".into(),
                kernel: "6.1".into(),
                agent_version: "0.1.0".into(),
            },
            now,
        )
        .await
        .unwrap();
    let alerts = c.fleet_alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "disk_full" && a.agent_id == seat),
        "{alerts:?}"
    );

    // The national export: the site is left out until its description is complete.
    let get_lieux = |cookie: String| async move {
        tokio::task::spawn_blocking(move || {
            http(
                addr,
                "GET",
                "/export/lieux-mediation-numerique.csv",
                &[("Cookie", &cookie)],
                "",
            )
        })
        .await
        .unwrap()
    };
    let cookie3 = web::login(addr, "it", "un mot de passe long").await;
    let incomplete = get_lieux(cookie3.clone()).await;
    assert!(incomplete
        .headers
        .contains("x-commune-incomplete-sites: mdh-test"));
    c.set_site_details(
        SITE,
        &commune_controller::lieux::SiteDetails {
            pivot: "21380185500015".into(),
            commune: "Grenoble".into(),
            code_postal: "38000".into(),
            adresse: "2 rue de l'Abbaye".into(),
            services: vec![
                "Aide aux démarches administratives".into(),
                "Accès internet et matériel informatique".into(),
            ],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let lieux = get_lieux(cookie3).await;
    let mut rows = lieux.body.lines();
    assert_eq!(
        rows.next().unwrap(),
        commune_controller::lieux::COLUMNS.join(","),
        "the schema's 32 headers in order"
    );
    let row = rows.next().expect("the site's row");
    assert!(
        row.starts_with("mdh-test,21380185500015,MDH Test,Grenoble,38000"),
        "{row}"
    );
    assert!(
        row.contains(",Mo-Su 00:00-12:00,12:00-24:00,")
            || row.contains("\"Mo-Su 00:00-12:00,12:00-24:00\""),
        "{row}"
    );
    assert!(
        row.contains("Aide aux démarches administratives|Accès internet"),
        "{row}"
    );
    assert!(page.body.contains("n'est pas une date"));
    // Alerts: one the agent reports (a wipe that did not verify), then the seat going
    // offline while its site is open (a site without a schedule is always open).
    agent
        .outbox
        .emit(
            commune_controller::now(),
            commune_protocol::messages::AgentEvent::Alert(commune_protocol::messages::Alert {
                kind: commune_protocol::messages::AlertKind::WipeFailed,
                message: "check processes: 1 left".into(),
            }),
        )
        .await
        .unwrap();
    let page_cookie = web::login(addr, "it", "un mot de passe long").await;
    let fetch = |cookie: String| async move {
        tokio::task::spawn_blocking(move || http(addr, "GET", "/", &[("Cookie", &cookie)], "").body)
            .await
            .unwrap()
    };
    eventually(20, "the wipe alert is on the fleet page", || {
        let f = fetch(page_cookie.clone());
        async move { f.await.contains("effacement non vérifié") }
    })
    .await;
    agent.stop().await;
    eventually(20, "the offline alert is on the fleet page", || {
        let f = fetch(page_cookie.clone());
        async move {
            f.await
                .contains("hors ligne pendant les heures d'ouverture")
        }
    })
    .await;
}

/// Behind a reverse proxy on the same host (the documented setup), the login limit counts
/// per browser (`X-Forwarded-For`), not for the proxy's address: five wrong passwords from
/// one browser do not lock out a colleague at another. The cookie is `Secure` behind HTTPS.
/// From a peer that is not loopback these headers would be ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_local_proxy_the_login_limit_is_per_browser_and_the_cookie_secure() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    for login in ["marie", "karim"] {
        c.create_staff(
            login,
            login,
            Role::Mediator,
            &[SITE.to_string()],
            "un mot de passe long",
        )
        .await
        .unwrap();
    }
    let addr = serve_dashboard(c.clone()).await;
    tokio::task::spawn_blocking(move || {
        let from = |ip: &'static str| [("X-Forwarded-For", ip), ("X-Forwarded-Proto", "https")];
        for _ in 0..5 {
            let r = http(
                addr,
                "POST",
                "/connexion",
                &from("203.0.113.7"),
                &form(&[("login", "marie"), ("password", "mauvais")]),
            );
            assert_eq!(r.status, 401);
        }
        // That browser is now held off, even for another login...
        let held = http(
            addr,
            "POST",
            "/connexion",
            &from("203.0.113.7"),
            &form(&[("login", "karim"), ("password", "un mot de passe long")]),
        );
        assert_eq!(held.status, 429, "{}", held.body);
        // ...but a colleague's browser, through the same proxy, logs in.
        let ok = http(
            addr,
            "POST",
            "/connexion",
            &from("198.51.100.4"),
            &form(&[("login", "karim"), ("password", "un mot de passe long")]),
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        let cookie = ok.set_cookie().unwrap();
        assert!(cookie.contains("; secure"), "{cookie}");
        // Without HTTPS in front, no Secure (the demo over plain HTTP must keep working).
        let plain = http(
            addr,
            "POST",
            "/connexion",
            &[("X-Forwarded-For", "198.51.100.5")],
            &form(&[("login", "karim"), ("password", "un mot de passe long")]),
        );
        assert_eq!(plain.status, 303);
        assert!(!plain.set_cookie().unwrap().contains("secure"));
    })
    .await
    .unwrap();
}
