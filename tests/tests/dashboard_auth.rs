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
        let wrong = web::post_login(addr, &[], "marie", "mauvais");
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("incorrect"), "{}", wrong.body);

        // The right one: a session cookie, HttpOnly and SameSite=Strict.
        let ok = web::post_login(addr, &[], "marie", "un mot de passe long");
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
            web::post_login(addr, &[], "marie", "mauvais");
        }
        let limited = web::post_login(addr, &[], "marie", "un mot de passe long");
        assert_eq!(limited.status, 429);
        assert!(limited.header("retry-after").is_some());
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
    // The scheme is case-insensitive (RFC 9110); a wrong token or scheme is still refused.
    let answer = |value: String| {
        tokio::task::spawn_blocking(move || {
            http(
                addr,
                "GET",
                "/api/v1/seats",
                &[("Authorization", &value)],
                "",
            )
            .status
        })
    };
    assert_eq!(answer(format!("bearer {token}")).await.unwrap(), 200);
    assert_eq!(answer(format!("BEARER  {token}")).await.unwrap(), 200);
    assert_eq!(answer(format!("bearer {token}x")).await.unwrap(), 401);
    assert_eq!(answer(format!("Basic {token}")).await.unwrap(), 401);

    // `/metrics` answers each scraper in the format it asks for.
    let (openmetrics, text) = tokio::task::spawn_blocking(move || {
        (
            http(
                addr,
                "GET",
                "/metrics",
                &[("Accept", "application/openmetrics-text; version=1.0.0")],
                "",
            ),
            http(addr, "GET", "/metrics", &[("Accept", "text/plain")], ""),
        )
    })
    .await
    .unwrap();
    assert!(
        openmetrics
            .headers
            .to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text")
            && openmetrics.body.ends_with("# EOF\n"),
        "{}",
        openmetrics.headers
    );
    assert!(
        text.headers
            .to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4")
            && !text.body.contains("# EOF")
            && text
                .body
                .contains("# TYPE commune_enrollments_total counter"),
        "{}\n{}",
        text.headers,
        text.body
    );
    assert!(
        text.body
            .contains("commune_site_seats{site=\"mdh-test\",state=\"offline\"} "),
        "per-site gauges: {}",
        text.body
    );
    // Prometheus's own linter, where it is installed (CI installs it: Debian's
    // `prometheus` package).
    if let Some(promtool) = commune_tests::program("promtool", "prometheus") {
        use std::io::Write;
        let mut child = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool check metrics: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            text.body
        );
    }
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
    // Text cells quoted, numbers not (the one CSV writer).
    assert!(lines.body.contains(";\"libre\";1;0;"), "{}", lines.body);
    assert!(
        lines.body.contains(";\"accompagne\";1;1;"),
        "{}",
        lines.body
    );
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
        16,
        "availability, hours on, then pages printed and released by staff are the last columns: {row}"
    );
    let hours_on: f64 = cols[13].replace(',', ".").parse().unwrap();
    assert!(
        hours_on >= 1.0,
        "the seat reported this hour: it was on: {row}"
    );
    assert_eq!(cols[14], "0", "no page printed: {row}");
    assert_eq!(cols[15], "0", "none released by staff: {row}");

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
        row.contains(",MDH,,,,,,,Commune,"),
        "a site without a stored schedule has no hours to publish: {row}"
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
/// one browser hold that login off at that browser only, not Marie at another; thirty from
/// one browser hold it off for every login. The cookie is `Secure` behind HTTPS.
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
            let r = web::post_login(addr, &from("203.0.113.7"), "marie", "mauvais");
            assert_eq!(r.status, 401);
        }
        // That browser is now held off for that login, even with the right password...
        let held = web::post_login(addr, &from("203.0.113.7"), "marie", "un mot de passe long");
        assert_eq!(held.status, 429, "{}", held.body);
        // ...but Marie at another browser, through the same proxy, logs in: a flood from
        // one address does not lock a known login out for everyone.
        let ok = web::post_login(addr, &from("198.51.100.4"), "marie", "un mot de passe long");
        assert_eq!(ok.status, 303, "{}", ok.body);
        let cookie = ok.set_cookie().unwrap();
        assert!(cookie.contains("; secure"), "{cookie}");
        // An address that keeps failing, whatever the logins, is held off for all of them.
        let mut failures = 5;
        while failures < 30 {
            let r = web::post_login(
                addr,
                &from("203.0.113.7"),
                &format!("essai{failures}"),
                "mauvais",
            );
            assert_eq!(r.status, 401, "{}", r.body);
            failures += 1;
        }
        let held = web::post_login(addr, &from("203.0.113.7"), "karim", "un mot de passe long");
        assert_eq!(held.status, 429, "{}", held.body);
        // Without HTTPS in front, no Secure (the demo over plain HTTP must keep working).
        let plain = web::post_login(
            addr,
            &[("X-Forwarded-For", "198.51.100.5")],
            "karim",
            "un mot de passe long",
        );
        assert_eq!(plain.status, 303);
        assert!(!plain.set_cookie().unwrap().contains("secure"));
    })
    .await
    .unwrap();
}

/// Every response carries the security headers (a policy without `'unsafe-inline'`, no
/// framing, no sniffing, no referrer to other sites) and `Cache-Control: no-store`: pages show enrollment
/// tokens and ticket codes, and nothing the dashboard sends is worth caching.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_the_security_headers_and_no_store() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    c.create_staff("it", "IT", Role::It, &[], "un mot de passe long")
        .await
        .unwrap();
    let addr = serve_dashboard(c.clone()).await;
    tokio::task::spawn_blocking(move || {
        let cookie = web::login_blocking(addr, "it", "un mot de passe long");
        let session = [("Cookie", cookie.as_str())];
        let page = http(addr, "GET", "/appareils", &session, "");
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf().unwrap();
        // The page that shows an enrollment token.
        let token = http(
            addr,
            "POST",
            "/appareils/jetons",
            &session,
            &form(&[("csrf", &csrf), ("site", SITE), ("hours", "24")]),
        );
        let replies = [
            ("login page", http(addr, "GET", "/connexion", &[], "")),
            ("fleet page", http(addr, "GET", "/", &session, "")),
            ("enrollment token", token),
            ("redirect", http(addr, "GET", "/", &[], "")),
            ("not found", http(addr, "GET", "/nulle-part", &[], "")),
            ("health", http(addr, "GET", "/healthz", &[], "")),
            (
                "form too large",
                http(
                    addr,
                    "POST",
                    "/deconnexion",
                    &session,
                    &"x".repeat(128 * 1024),
                ),
            ),
        ];
        for (what, r) in &replies {
            let policy = r
                .header("content-security-policy")
                .unwrap_or_else(|| panic!("{what}: no policy in {}", r.headers));
            assert!(
                policy.contains("frame-ancestors 'none'")
                    && policy.contains("default-src 'none'")
                    && !policy.contains("unsafe-inline"),
                "{what}: {policy}"
            );
            assert_eq!(r.header("x-frame-options"), Some("deny"), "{what}");
            assert_eq!(
                r.header("x-content-type-options"),
                Some("nosniff"),
                "{what}"
            );
            // Same origin only: the language switch goes back by it.
            assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{what}");
            assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        }
        assert_eq!(replies[2].1.status, 200, "{}", replies[2].1.body);
        assert_eq!(replies[6].1.status, 413, "a form over 64 KiB is refused");
        // The page's inline style and script are allowed by their hash, nothing else.
        let policy = replies[1].1.header("content-security-policy").unwrap();
        assert!(policy.matches("'sha256-").count() >= 3, "{policy}");
    })
    .await
    .unwrap();
}

/// The login form carries a token that must match its cookie (set by the login page): a
/// form posted from another site, or without the page, is refused with a sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_is_refused_without_its_csrf_cookie_and_token() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
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
    tokio::task::spawn_blocking(move || {
        let good = [("login", "marie"), ("password", "un mot de passe long")];
        // No cookie, no token: refused before any password check.
        let bare = http(addr, "POST", "/connexion", &[], &form(&good));
        assert_eq!(bare.status, 403, "{}", bare.body);
        assert!(bare.body.contains("jeton de sécurité"), "{}", bare.body);
        assert!(bare.set_cookie().is_none(), "no session");
        // The page's cookie: HttpOnly, SameSite=Strict, for the login page only.
        let page = http(addr, "GET", "/connexion", &[], "");
        let set = page.set_cookie().unwrap().to_string();
        assert!(
            set.starts_with("commune_login_csrf=")
                && set.contains("httponly")
                && set.contains("samesite=strict")
                && set.contains("path=/connexion"),
            "{set}"
        );
        let (cookie, token) = web::login_page(addr, &[]);
        // Loaded again with its cookie, the page keeps the token (two tabs both work).
        let again = http(addr, "GET", "/connexion", &[("Cookie", &cookie)], "");
        assert_eq!(
            again.csrf().as_deref(),
            Some(cookie.split('=').nth(1).unwrap())
        );
        assert!(again.set_cookie().is_none());
        // A cookie without the token, or another token: refused.
        let no_token = http(
            addr,
            "POST",
            "/connexion",
            &[("Cookie", &cookie)],
            &form(&good),
        );
        assert_eq!(no_token.status, 403);
        let forged = form(&[("csrf", &"0".repeat(64)), good[0], good[1]]);
        let other = http(addr, "POST", "/connexion", &[("Cookie", &cookie)], &forged);
        assert_eq!(other.status, 403);
        // The token without the cookie (another site's form cannot send it): refused.
        let with_token = form(&[("csrf", &token), good[0], good[1]]);
        let cookieless = http(addr, "POST", "/connexion", &[], &with_token);
        assert_eq!(cookieless.status, 403);
        // Both: in.
        let ok = http(
            addr,
            "POST",
            "/connexion",
            &[("Cookie", &cookie)],
            &with_token,
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert!(ok.cookie().unwrap().starts_with("commune_session="));
        // In English too.
        let en = http(
            addr,
            "POST",
            "/connexion",
            &[("Cookie", "commune_lang=en")],
            &form(&good),
        );
        assert!(en.body.contains("security token"), "{}", en.body);
    })
    .await
    .unwrap();
}

/// A client that sends half a request head is cut off after the header timeout; a body
/// that never comes gets `408` after the request timeout; meanwhile others are served.
/// Bounds are generous: what is checked is that the connection ends, not when exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_cut_off_and_others_are_served_meanwhile() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ctrl = TestController::start_with(|c| {
        c.web.header_read_timeout_secs = 1;
        c.web.request_timeout_secs = 2;
        c.web.max_concurrent_requests = 1;
    })
    .await;
    let addr = serve_dashboard(ctrl.controller.clone()).await;
    let read_all = |mut stream: tokio::net::TcpStream| async move {
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            stream.read_to_end(&mut seen),
        )
        .await
        .expect("the server ends the connection");
        String::from_utf8_lossy(&seen).into_owned()
    };

    // Slowloris: half a header, then nothing.
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Lent: ").as_bytes())
        .await
        .unwrap();
    // A login body announced and never sent: logins take no place among the requests
    // handled at once, so it holds nothing staff need.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /connexion HTTP/1.1\r\nHost: {addr}\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nlogin=a"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Meanwhile, another request is served.
    let healthz = tokio::task::spawn_blocking(move || http(addr, "GET", "/healthz", &[], ""));

    let cut = read_all(half).await;
    assert!(cut.is_empty() || cut.starts_with("HTTP/1.1 408"), "{cut}");
    let timed_out = read_all(slow).await;
    assert!(timed_out.starts_with("HTTP/1.1 408"), "{timed_out}");
    let healthz = healthz.await.unwrap();
    assert_eq!(healthz.status, 200, "served while the slow login waits");
    let after = tokio::task::spawn_blocking(move || http(addr, "GET", "/healthz", &[], ""))
        .await
        .unwrap();
    assert_eq!(after.status, 200);
}

/// The accounts pages over HTTP: an administrator disables and enables an account, sets a
/// new password and revokes a token from `/comptes`; each holds at the next request. A
/// person changes their own password from `/compte`, which ends their other sessions. Only
/// administrators see `/comptes`; nobody disables their own account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_pages_disable_reset_revoke_and_my_password() {
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let password = "un mot de passe long";
    c.create_staff("admin", "Admin", Role::Admin, &[], password)
        .await
        .unwrap();
    c.create_staff(
        "marie",
        "Marie",
        Role::Mediator,
        &[SITE.to_string()],
        password,
    )
    .await
    .unwrap();
    let token = c.create_api_token("marie", "inventaire").await.unwrap();
    let addr = serve_dashboard(c.clone()).await;
    tokio::task::spawn_blocking(move || {
        let get = |path: &str, cookie: &str| http(addr, "GET", path, &[("Cookie", cookie)], "");
        let post = |path: &str, cookie: &str, pairs: &[(&str, &str)]| {
            http(addr, "POST", path, &[("Cookie", cookie)], &form(pairs))
        };
        let admin = web::login_blocking(addr, "admin", password);
        let marie = web::login_blocking(addr, "marie", password);

        // Only administrators see the accounts; the fleet page links to it for them.
        assert!(get("/", &admin).body.contains("href=\"/comptes\""));
        let fleet = get("/", &marie);
        assert!(
            !fleet.body.contains("href=\"/comptes\"") && fleet.body.contains("href=\"/compte\"")
        );
        assert!(
            !fleet.body.contains("/tickets\""),
            "no tickets link for a mediator"
        );
        assert_eq!(get("/comptes", &marie).status, 403);
        let page = get("/comptes", &admin);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Comptes du personnel") && page.body.contains("inventaire"));
        let csrf = page.csrf().unwrap();
        let english = get("/comptes", &format!("{admin}; commune_lang=en"));
        assert!(
            english.body.contains("Staff accounts") && english.body.contains("Disable the account")
        );

        // Without the CSRF token: refused, nothing done.
        assert_eq!(post("/comptes/marie/desactiver", &admin, &[]).status, 403);
        assert_eq!(get("/", &marie).status, 200);
        // Disabled: her session is refused at once, and her token.
        let r = post("/comptes/marie/desactiver", &admin, &[("csrf", &csrf)]);
        assert_eq!(r.status, 303, "{}", r.body);
        let refused = get("/", &marie);
        assert_eq!(refused.status, 303);
        assert!(refused.headers.contains("location: /connexion"));
        let bearer = format!("Bearer {token}");
        assert_eq!(
            http(
                addr,
                "GET",
                "/api/v1/seats",
                &[("Authorization", &bearer)],
                ""
            )
            .status,
            401
        );
        assert!(get("/comptes", &admin).body.contains("Réactiver le compte"));
        // Nobody disables their own account.
        let own = post("/comptes/admin/desactiver", &admin, &[("csrf", &csrf)]);
        assert_eq!(own.status, 403);
        assert!(own.body.contains("propre compte"), "{}", own.body);
        // Enabled again: she logs in; the token works again.
        assert_eq!(
            post("/comptes/marie/activer", &admin, &[("csrf", &csrf)]).status,
            303
        );
        assert_eq!(
            http(
                addr,
                "GET",
                "/api/v1/seats",
                &[("Authorization", &bearer)],
                ""
            )
            .status,
            200
        );
        let marie = web::login_blocking(addr, "marie", password);
        let elsewhere = web::login_blocking(addr, "marie", password);

        // Her own password: the current one is checked, the two new ones must match; once
        // changed, her other session ends and this one stays.
        let mine = get("/compte", &marie);
        assert_eq!(mine.status, 200);
        assert!(mine.body.contains("Changer mon mot de passe"));
        let my_csrf = mine.csrf().unwrap();
        let change = |current: &str, new: &str, confirm: &str| {
            post(
                "/compte/mot-de-passe",
                &marie,
                &[
                    ("csrf", &my_csrf),
                    ("current", current),
                    ("new", new),
                    ("confirm", confirm),
                ],
            )
        };
        let wrong = change(
            "pas le bon",
            "un nouveau mot de passe",
            "un nouveau mot de passe",
        );
        assert_eq!(wrong.status, 403);
        assert!(wrong.body.contains("n'est pas le bon"), "{}", wrong.body);
        assert_eq!(
            change(password, "un nouveau mot de passe", "autre chose").status,
            400
        );
        assert_eq!(change(password, "court", "court").status, 400);
        let done = change(
            password,
            "un nouveau mot de passe",
            "un nouveau mot de passe",
        );
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(done.body.contains("Mot de passe changé"));
        assert_eq!(get("/", &marie).status, 200, "this session stays");
        assert_eq!(get("/", &elsewhere).status, 303, "the other one ends");

        // An administrator's new password ends all her sessions.
        let reset = post(
            "/comptes/marie/mot-de-passe",
            &admin,
            &[("csrf", &csrf), ("password", "un mot de passe remis")],
        );
        assert_eq!(reset.status, 303, "{}", reset.body);
        assert_eq!(get("/", &marie).status, 303);
        let marie = web::login_blocking(addr, "marie", "un mot de passe remis");
        // Ending her sessions, then revoking her token by name.
        assert_eq!(
            post("/comptes/marie/deconnecter", &admin, &[("csrf", &csrf)]).status,
            303
        );
        assert_eq!(get("/", &marie).status, 303);
        let revoke = post(
            "/comptes/marie/jetons/revoquer",
            &admin,
            &[("csrf", &csrf), ("name", "inventaire")],
        );
        assert_eq!(revoke.status, 303, "{}", revoke.body);
        assert_eq!(
            http(
                addr,
                "GET",
                "/api/v1/seats",
                &[("Authorization", &bearer)],
                ""
            )
            .status,
            401
        );
        assert!(get("/comptes", &admin).body.contains("révoqué le"));
    })
    .await
    .unwrap();
    let log = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    for action in [
        "user.disable",
        "user.disable.refused",
        "user.enable",
        "user.password",
        "user.end_sessions",
        "api_token.revoke",
    ] {
        assert!(
            log.iter().any(|e| e.actor == "admin" && e.action == action),
            "{action} missing"
        );
    }
    assert!(log
        .iter()
        .any(|e| e.actor == "marie" && e.action == "user.own_password"));
    assert!(log
        .iter()
        .any(|e| e.actor == "marie" && e.action == "user.list.refused"));
}
