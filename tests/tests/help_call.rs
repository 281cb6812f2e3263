//! Calling a mediator, end to end: a real sandbox agent and its visitor screens, linked
//! over QUIC to a real controller, and the real dashboard, each in Debian's Chromium
//! (`tests/browser/check.mjs`): the visitor, on the session notice, presses "Appeler un
//! médiateur" and chooses "printing" (from the visitor's own session: no greeter's
//! secret); the staff's seat map, open before the call, shows "Appel : impression — HH:MM"
//! live, without reloading; a mediator presses "Je m'en occupe"; the visitor's page says
//! "Un médiateur arrive" by itself; the call is gone from the map; the session's end ends
//! the call in the store; the site's report counts it, anonymously. Every new screen in
//! French and Arabic passes axe-core and is saved in `target/screenshots/kiosk-aide-*.png`.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::screens::i18n::{self, Texts};
use commune_controller::staff::Role;
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::json;

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(i18n::language(lang).expect("language"), id, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_calls_a_mediator_from_the_notice_and_staff_take_it_live_from_the_seat_map() {
    let shots = commune_tests::browser::screenshots();
    let shot = |name: &str| shots.join(name).display().to_string();
    let texts = Texts::load().expect("the screens' languages");
    let fr = |id| t(&texts, "fr", id);
    let ar = |id| t(&texts, "ar", id);

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    let seat = config.agent_id.clone();
    let cli = commune_controller::staff::StaffIdentity::cli();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.seats = vec![seat.clone()];
    c.staff_api(&cli).set_schedule(SITE, model).await.unwrap();
    // A mediator: whoever is on the floor may take a call.
    c.create_staff(
        "karim",
        "Karim",
        Role::Mediator,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();

    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().expect("a session manager");
    let screens = agent.screens.expect("the screens' address");
    eventually(20, "the seat is ready", || {
        let sessions = sessions.clone();
        async move { sessions.status().state == SeatState::Ready }
    })
    .await;
    sessions.start_session(SlotKind::Free, None).await.unwrap();
    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;

    let called = "Appel : impression — ";
    let visitor = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 150,
        "stepTimeoutSecs": 10,
        "steps": [
            // The needs, in Arabic (right to left), before any call.
            {"goto": "/ar/aide"},
            {"expectText": ar("help-choose")},
            {"expectText": ar("help-need-printing")},
            {"expectJs": "document.documentElement.dir === 'rtl'"},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-ar.png")},
            // The notice of the session, as the always-on-top window shows it.
            {"goto": "/fr/session"},
            {"expectText": fr("session-time-left")},
            {"expectJs": "document.getElementById('help-box').dataset.help === 'none'"},
            {"axe": true},
            {"screenshot": shot("kiosk-session-aide-fr.png")},
            {"click": fr("help-call")},
            {"expectText": fr("help-choose")},
            {"expectText": fr("help-private")},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-fr.png")},
            {"note": "the visitor is about to call"},
            {"click": fr("help-need-printing")},
            {"expectText": fr("help-sent-title")},
            {"expectText": fr("help-need-printing")},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-envoye-fr.png")},
            {"goto": "/ar/aide"},
            {"expectText": ar("help-sent-title")},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-envoye-ar.png")},
            // Back on the notice, which follows the call by itself.
            {"goto": "/fr/session"},
            {"expectText": fr("help-sent-title")},
            {"note": "the call is sent"},
            {"expectText": fr("help-taken-title"), "timeoutSecs": 60},
            {"expectText": fr("help-taken-text")},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-arrive-fr.png")},
            {"goto": "/ar/session"},
            {"expectText": ar("help-taken-title")},
            {"axe": true},
            {"screenshot": shot("kiosk-aide-arrive-ar.png")},
        ],
    });
    let staff = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "karim",
        "password": "un mot de passe long",
        "timeoutSecs": 150,
        "stepTimeoutSecs": 10,
        "steps": [
            {"viewport": {"width": 1280, "height": 900}},
            {"login": true},
            {"expectText": "MDH Test"},
            {"expectText": "En session"},
            {"expectNoText": "Appel : "},
            {"note": "the seat map is open"},
            // Live, without reloading.
            {"expectText": called, "timeoutSecs": 60},
            {"expectJs": "performance.getEntriesByType('navigation').length === 1 && document.querySelector('.appel button') !== null"},
            {"axe": true},
            {"screenshot": shot("carte-appel.png")},
            {"click": "Je m'en occupe"},
            {"expectText": "En session"},
            {"expectNoText": "Appel : "},
            {"axe": true},
        ],
    });

    let map_open = Arc::new(tokio::sync::Notify::new());
    let call_sent = Arc::new(tokio::sync::Notify::new());
    let visitor_run = {
        let (map_open, call_sent) = (map_open.clone(), call_sent.clone());
        let (c, seat) = (c.clone(), seat.clone());
        commune_tests::browser::run(&visitor, Duration::from_secs(180), move |note| {
            let (map_open, call_sent) = (map_open.clone(), call_sent.clone());
            let (c, seat) = (c.clone(), seat.clone());
            async move {
                match note.as_str() {
                    "the visitor is about to call" => map_open.notified().await,
                    "the call is sent" => {
                        eventually(20, "the call reaches the controller", || {
                            let open = c.open_help_calls();
                            let seat = seat.clone();
                            async move { open.contains_key(&seat) }
                        })
                        .await;
                        call_sent.notify_one();
                    }
                    _ => {}
                }
            }
        })
    };
    let staff_run = {
        let map_open = map_open.clone();
        commune_tests::browser::run(&staff, Duration::from_secs(180), move |note| {
            let map_open = map_open.clone();
            async move {
                if note == "the seat map is open" {
                    map_open.notify_one();
                }
            }
        })
    };
    tokio::join!(visitor_run, staff_run);
    let _ = call_sent;

    // Taken: off every staff page; audited with the need, never the screen.
    assert!(c.open_help_calls().is_empty());
    let audit = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    let take = audit
        .iter()
        .find(|e| e.action == "help.take")
        .expect("the take is audited");
    assert_eq!(take.actor, "karim");
    assert!(take.detail.contains("(printing)"), "{}", take.detail);
    let unended = c.store().unended_help_calls(Some(&seat)).await.unwrap();
    assert_eq!(
        unended.len(),
        1,
        "taken, the call lasts until the session ends"
    );
    assert!(unended[0].taken_at.is_some());

    // The session ends: so does the call.
    sessions.end_session(EndReason::Visitor).await.unwrap();
    eventually(20, "the session's end ends the call", || {
        let store = c.store().clone();
        let seat = seat.clone();
        async move {
            store
                .unended_help_calls(Some(&seat))
                .await
                .is_ok_and(|calls| calls.is_empty())
        }
    })
    .await;

    // The report counts it, by site, local day and hour, and need: nothing else.
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let today = jiff::Timestamp::now().to_zoned(paris).date().to_string();
    let counts = c
        .staff_api(&cli)
        .help_counts(SITE, &today, &today)
        .await
        .unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts[0].need, "printing");
    assert_eq!(counts[0].calls, 1);

    // The site's report page: the chart beside its table and its method.
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    let report = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 60,
        "stepTimeoutSecs": 10,
        "steps": [
            {"login": true},
            {"goto": format!("/sites/{SITE}/rapports")},
            {"expectText": "Appels à un médiateur"},
            {"expectJs": "[...document.querySelectorAll('#appels-table tbody tr')].map(r => [...r.cells].map(c => c.textContent).slice(1).join(' ')).join('|') === '1 0 0 0 1'"},
            {"expectText": "comptes anonymes"},
            {"axe": true},
            {"screenshot": shot("rapport-appels.png")},
        ],
    });
    commune_tests::browser::run(&report, Duration::from_secs(90), |_| async {}).await;

    for name in [
        "kiosk-aide-ar.png",
        "kiosk-session-aide-fr.png",
        "kiosk-aide-fr.png",
        "kiosk-aide-envoye-fr.png",
        "kiosk-aide-envoye-ar.png",
        "kiosk-aide-arrive-fr.png",
        "kiosk-aide-arrive-ar.png",
        "carte-appel.png",
        "rapport-appels.png",
    ] {
        assert!(shots.join(name).exists(), "screenshot {name}");
    }
}
