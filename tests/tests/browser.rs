//! The dashboard in a real browser: Debian's Chromium, driven by Playwright through
//! `tests/browser/check.mjs`, against a real controller, a real sandbox agent and the real
//! dashboard on loopback. Every page it visits passes axe-core's WCAG 2.1 A and AA rules
//! with no serious or critical violation; a wrong password shows the French error; an
//! MDH staff member logs in, sees her site's seat, sees it go "en session" when a visitor
//! sits down and free again when the visitor leaves (live, without reloading), and logs out.
//!
//! Needs `node`, `/usr/bin/chromium` (`apt-get install chromium`) and
//! `npm ci --prefix tests/browser`; `scripts/test-all` installs them. Without them the
//! test fails and says so: it never skips. Screenshots land in `target/screenshots/`.
#![recursion_limit = "256"]

use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_controller::staff::Role;
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use commune_tests::{enroll_agent, TestAgent, TestController, SITE};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_fleet_and_a_live_session_in_chromium_with_no_serious_accessibility_violation() {
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();

    let ctrl = TestController::start().await;
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    let sessions = agent.sessions.clone().expect("a session manager");
    sessions.wait_for(|s| s.state == SeatState::Ready).await;
    let c = ctrl.controller.clone();
    // MDH staff: a mediator may not create tickets nor see reports (roles in
    // controller/src/staff/rights.rs).
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    c.create_staff(
        "it",
        "Service informatique",
        Role::It,
        &[],
        "un mot de passe long",
    )
    .await
    .unwrap();
    let addr = commune_tests::web::serve_dashboard(c.clone()).await;

    // The session's start and end reach the open page by server-sent events: no reload.
    let scenario = json!({
        "baseUrl": format!("http://{addr}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 150,
        "stepTimeoutSecs": 10,
        "steps": [
            {"goto": "/"},
            {"expectStatus": 200},
            {"expectText": "Mot de passe"},
            {"axe": true},
            {"screenshot": shot("connexion.png")},
            {"login": {"user": "marie", "password": "pas le bon"}},
            {"expectStatus": 401},
            {"expectText": "identifiant ou mot de passe incorrect"},
            {"axe": true},
            {"screenshot": shot("connexion-refusee.png")},
            {"login": true},
            {"expectStatus": 200},
            {"expectText": "Parc informatique"},
            {"expectText": seat},
            {"expectText": "En ligne — libre"},
            {"axe": true},
            {"screenshot": shot("parc.png")},
            {"note": "waiting for a visitor"},
            {"expectText": "En ligne — en session", "timeoutSecs": 20},
            {"axe": true},
            {"screenshot": shot("parc-en-session.png")},
            {"note": "saw the session"},
            {"expectText": "En ligne — libre", "timeoutSecs": 20},
            // The seat's page: health, inventory, the session and its verified wipe.
            {"goto": format!("/postes/{seat}")},
            {"expectText": "Effacements récents"},
            {"reloadUntilText": "vérifié", "timeoutSecs": 20},
            // What each check of the wipe read, and how: what lets IT trust "verified".
            {"click": "li details summary"},
            {"expectText": "Méthode"},
            {"expectText": "process group"},
            {"axe": true},
            {"screenshot": shot("poste.png")},
            // The permanences page: open a supervised slot on the seat from its form, then
            // see the seat switch on the fleet page.
            {"goto": format!("/sites/{SITE}/permanences")},
            {"expectText": "Ouvrir un créneau supervisé maintenant"},
            {"axe": true},
            {"screenshot": shot("permanences.png")},
            {"click": format!("#seat-{seat}")},
            {"click": "Ouvrir le créneau"},
            {"expectText": "Créneaux supervisés ouverts"},
            {"expectText": "Prolonger"},
            {"axe": true},
            {"goto": "/"},
            {"expectText": "En ligne — permanence", "timeoutSecs": 20},
            {"goto": format!("/sites/{SITE}/tickets")},
            {"axe": true},
            {"click": "Créer et imprimer"},
            {"expectText": "Accès libre — 45 min"},
            {"axe": true},
            {"screenshot": shot("tickets.png")},
            // The permanence's counters, recorded from its form, show in the report.
            {"goto": format!("/sites/{SITE}/permanences")},
            {"fill": {"selector": "#counter-people", "value": "4"}},
            {"fill": {"selector": "#cat-logement", "value": "3"}},
            {"fill": {"selector": "#cat-argent_impots", "value": "1"}},
            {"click": "Enregistrer les compteurs"},
            {"expectText": "Compteurs d'une permanence"},
            {"goto": format!("/sites/{SITE}/rapports")},
            {"expectText": "Par poste financé"},
            {"expectText": "Logement : 3"},
            // The figures match what happened: one free-access session so far.
            {"expectText": "1 sessions (1 en accès libre, 0 accompagnées)"},
            {"axe": true},
            {"screenshot": shot("rapports.png")},
            // Her account: the form to change her password.
            {"goto": "/compte"},
            {"expectText": "Changer mon mot de passe"},
            {"axe": true},
            {"goto": "/"},
            {"click": "Se déconnecter"},
            {"expectStatus": 200},
            {"expectText": "Mot de passe"},
            // IT's page.
            {"login": {"user": "it", "password": "un mot de passe long"}},
            {"goto": "/appareils"},
            {"expectText": "Postes enrôlés"},
            {"axe": true},
            {"screenshot": shot("appareils.png")},
            // The same pages in English, from the switch in the header.
            {"click": "English"},
            {"expectText": "Enroll a computer"},
            {"axe": true},
            {"goto": "/"},
            {"expectText": "Computer fleet"},
            {"axe": true},
        ],
    });

    commune_tests::browser::run(&scenario, Duration::from_secs(180), |note| {
        let sessions = sessions.clone();
        async move {
            match note.as_str() {
                "waiting for a visitor" => {
                    sessions.start_session(SlotKind::Free, None).await.unwrap();
                }
                "saw the session" => {
                    sessions.end_session(EndReason::Visitor).await.unwrap();
                }
                _ => {}
            }
        }
    })
    .await;
    for name in [
        "connexion.png",
        "parc.png",
        "parc-en-session.png",
        "permanences.png",
        "tickets.png",
        "appareils.png",
    ] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
}

/// The seat map, staff's first page: the site's seats as tiles that follow a session live
/// (its time left counting down), the counts per state (a reserved computer offline),
/// today's timeline (a permanence and its mediator; another site closed today), usable with the keyboard, readable at 200 %
/// zoom (a 640-pixel-wide window), in French and English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_map_follows_a_session_live_with_its_time_left_and_shows_todays_timeline() {
    use commune_protocol::slots::{Closure, Permanence, Programme, SiteSchedule};
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    let seat = config.agent_id.clone();
    // A second computer, reserved for the permanence, never started: offline.
    let (reserved, _dir2) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let reserved = reserved.agent_id;

    // Today in Paris: open all day, sessions of 40 minutes; a permanence all day on another
    // (reserved) computer; a second site closed today.
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let today = jiff::Timestamp::now().to_zoned(paris).date();
    let day: commune_protocol::slots::LocalDate = today.to_string().parse().unwrap();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let api = c.staff_api(&cli);
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seats = vec![seat.clone(), reserved.clone()];
    model.free_access.session_minutes = 40;
    model.permanences.push(Permanence {
        id: "ecrivain".into(),
        name: "Écrivain public".into(),
        programme: Programme::EcrivainPublic,
        weekdays: vec![day.weekday()],
        start: "00:00".parse().unwrap(),
        end: "23:59".parse().unwrap(),
        seats: vec![reserved.clone()],
        mediator: "Mme Roux".into(),
        valid_from: None,
        valid_until: None,
    });
    api.set_schedule(SITE, model).await.unwrap();
    api.add_site("mdh-fermee", "MDH Fermée").await.unwrap();
    let mut closed = SiteSchedule::always_open("Europe/Paris");
    closed.closures.push(Closure {
        label: "Inventaire".into(),
        first_day: day,
        last_day: day,
    });
    api.set_schedule("mdh-fermee", closed).await.unwrap();
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string(), "mdh-fermee".to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();

    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().expect("a session manager");
    commune_tests::eventually(20, "the seat enforces the site's schedule", || {
        let sessions = sessions.clone();
        async move {
            let s = sessions.status();
            s.state == SeatState::Ready && s.greeter.session_minutes == Some(40)
        }
    })
    .await;
    let addr = commune_tests::web::serve_dashboard(c.clone()).await;

    let kind_is = |kind: &str| {
        json!({"expectJs": format!(
            "document.querySelector('li[data-tile=\"{seat}\"]').getAttribute('data-kind') === '{kind}'"
        ), "timeoutSecs": 20})
    };
    let scenario = json!({
        "baseUrl": format!("http://{addr}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 150,
        "stepTimeoutSecs": 10,
        "steps": [
            {"viewport": {"width": 1280, "height": 900}},
            {"login": true},
            {"expectText": "MDH Test"},
            kind_is("free"),
            {"expectText": "Libre"},
            {"expectText": "Libres : 1"},
            {"expectText": "En session : 0"},
            // Today's timeline, written out beside its drawing.
            {"expectText": "Aujourd'hui"},
            {"expectText": format!("Écrivain public (Mme Roux) · postes {reserved}")},
            {"expectText": "Hors ligne : 1"},
            {"expectJs": "document.querySelectorAll('svg.frise rect.permanence').length === 1"},
            {"expectText": "MDH Fermée"},
            {"expectText": "Fermé aujourd'hui : Inventaire"},
            {"axe": true},
            {"screenshot": shot("carte.png")},
            {"note": "a visitor sits down"},
            // Live, without reloading: the tile, its time left, the counts.
            kind_is("session"),
            {"expectText": "En session : 1"},
            {"expectText": "Libres : 0"},
            {"expectJs": "/^encore (39|40) min$/.test(document.querySelector('.reste').textContent)"},
            {"expectText": "jusqu'à "},
            {"axe": true},
            {"screenshot": shot("carte-en-session.png")},
            // The keyboard reaches the seat's tile, a link to its page.
            {"tabTo": format!("li[data-tile=\"{seat}\"] a")},
            // 200 % zoom: the page reflows, only the detailed table scrolls on its own.
            {"viewport": {"width": 640, "height": 900}},
            {"expectJs": "document.documentElement.scrollWidth <= window.innerWidth"},
            {"screenshot": shot("carte-200.png")},
            {"viewport": {"width": 1280, "height": 900}},
            {"note": "the visitor leaves"},
            kind_is("free"),
            {"expectText": "Libres : 1"},
            {"expectJs": "document.querySelectorAll('.reste').length === 0"},
            {"click": "English"},
            {"expectText": "Free: 1"},
            {"expectText": "Today"},
            {"expectText": "Closed today: Inventaire"},
            {"axe": true},
            {"screenshot": shot("carte-en.png")},
        ],
    });
    commune_tests::browser::run(&scenario, Duration::from_secs(180), |note| {
        let sessions = sessions.clone();
        let (c, seat) = (c.clone(), seat.clone());
        async move {
            match note.as_str() {
                "a visitor sits down" => {
                    let info = sessions.start_session(SlotKind::Free, None).await.unwrap();
                    assert!(info.seconds_left.is_some(), "a session of 40 minutes");
                    // The seat's heartbeat tells the controller when the session ends.
                    commune_tests::eventually(
                        10,
                        "the session's end reaches the controller",
                        || {
                            let at = c.live_session_ends().get(&seat).copied();
                            let now = commune_controller::now().0;
                            async move {
                                at.is_some_and(|t| {
                                    (now + 39 * 60_000..=now + 40 * 60_000 + 5_000).contains(&t.0)
                                })
                            }
                        },
                    )
                    .await;
                }
                "the visitor leaves" => {
                    sessions.end_session(EndReason::Visitor).await.unwrap();
                }
                _ => {}
            }
        }
    })
    .await;
    for name in [
        "carte.png",
        "carte-en-session.png",
        "carte-200.png",
        "carte-en.png",
    ] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
}
