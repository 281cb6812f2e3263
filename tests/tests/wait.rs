//! The wait, end to end: three real sandbox agents of one site linked to a real controller,
//! the room display of the real dashboard and a seat's greeter in Debian's Chromium
//! (axe-core, screenshots `target/screenshots/attente-*.png` in French and Arabic).
//!
//! Two seats run visitors' sessions and the third is held for a permanence: the room
//! display (no login) says every computer is busy, when the next one should free up and
//! which seat the permanence holds; the held seat's greeter says the same in the visitor's
//! language. A visitor leaves: both say a computer is free, without anyone touching them.
//! A site that did not ask for a room display, and an unknown site, get the same 404.
#![recursion_limit = "256"]

use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_agent::screens::i18n::Texts;
use commune_protocol::messages::{EndReason, SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_protocol::UtcMillis;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::{json, Value};

const PERMANENCE: &str = "Écrivain public";

fn t(texts: &Texts, lang: &str, id: &str) -> String {
    texts.get(
        commune_agent::screens::i18n::language(lang).unwrap(),
        id,
        None,
    )
}

fn shot(name: &str) -> Value {
    let path = commune_tests::browser::screenshots().join(format!("attente-{name}.png"));
    json!({"screenshot": path.display().to_string()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_display_and_a_held_seat_show_the_wait_and_follow_it_live() {
    let texts = Texts::load().unwrap();
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let mut agents = Vec::new();
    for i in 0..3 {
        let (mut config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
            .await
            .expect("enroll");
        config.sessions.platform = PlatformKind::Sandbox;
        if i == 2 {
            config.screens.listen = "127.0.0.1:0".into();
        }
        let mut agent = TestAgent::start(config).await;
        agent.wait_connected(20).await;
        agents.push((agent, dir));
    }
    let ids: Vec<String> = agents
        .iter()
        .map(|(a, _)| a.config.agent_id.clone())
        .collect();
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.room_display = true;
    c.set_site_schedule(SITE, model).await.unwrap();
    c.store()
        .add_site(
            "mdh-sans-ecran",
            "MDH sans écran",
            commune_controller::now(),
        )
        .await
        .unwrap();
    let now = commune_controller::now();
    c.open_supervised_slot(
        SITE,
        std::slice::from_ref(&ids[2]),
        UtcMillis(now.0 + 2 * 3_600_000),
        Some(PERMANENCE.into()),
        None,
    )
    .await
    .unwrap();
    let held = agents[2].0.sessions.clone().unwrap();
    held.wait_for(|s| s.state == SeatState::Supervised).await;
    let mut busy = Vec::new();
    for (agent, _) in &agents[..2] {
        let sessions = agent.sessions.clone().unwrap();
        sessions.wait_for(|s| s.state == SeatState::Ready).await;
        sessions.start_session(SlotKind::Free, None).await.unwrap();
        busy.push(sessions);
    }
    let hostnames: Vec<String> = {
        let fleet = c.fleet().await.unwrap();
        ids.iter()
            .map(|id| {
                fleet
                    .iter()
                    .find(|a| &a.overview.agent.id == id)
                    .unwrap()
                    .overview
                    .agent
                    .hostname
                    .clone()
            })
            .collect()
    };
    // The controller knows both sessions' ends; the held seat hears the wait.
    eventually(
        30,
        "the held seat hears that every computer is busy",
        || async {
            held.status().site_wait.is_some_and(|w| {
                w.free_seats == 0
                    && w.busy_seats == 2
                    && w.next_free_at.is_some()
                    && w.reserved.len() == 1
            })
        },
    )
    .await;
    let wait = held.status().site_wait.unwrap();
    assert_eq!(wait.reserved[0].seat, hostnames[2]);
    assert_eq!(wait.reserved[0].permanence, PERMANENCE);
    let until = wait.reserved[0].until.expect("until when");
    assert!(
        (until.0 - (now.0 + 2 * 3_600_000)).abs() < 60_000,
        "held until the slot's end: {until}"
    );
    let ends = c.live_session_ends();
    // The first session's end, up to the whole minute (the screens show minutes).
    assert_eq!(
        wait.next_free_at,
        ids[..2]
            .iter()
            .filter_map(|id| ends.get(id).copied())
            .min()
            .map(|e| UtcMillis((e.0 + 59_999).div_euclid(60_000) * 60_000)),
        "the next seat frees up when the first session ends"
    );
    let next = jiff::Timestamp::from_millisecond(wait.next_free_at.unwrap().0)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .strftime("%H:%M")
        .to_string();

    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;
    // No login, and nothing to find elsewhere: the same 404 for a site without a display
    // and for no site at all.
    for path in ["/salle/mdh-sans-ecran", "/salle/nulle-part"] {
        let reply = tokio::task::spawn_blocking(move || {
            commune_tests::web::http(dashboard, "GET", path, &[], "")
        })
        .await
        .unwrap();
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.body.contains("Page introuvable"), "{}", reply.body);
    }

    let screens = agents[2].0.screens.unwrap();
    let secret = agents[2].0.screens_secret.clone().unwrap();
    let start = tempfile::tempdir().unwrap();
    let s = |path: &str| format!("http://{screens}{path}");
    let mut steps = vec![
        json!({"goto": format!("/salle/{SITE}")}),
        json!({"expectText": "Tous les ordinateurs sont occupés."}),
        json!({"expectText": format!("Le prochain devrait se libérer vers {next}.")}),
        json!({"expectText": hostnames[2]}),
        json!({"expectText": PERMANENCE}),
        json!({"axe": true}),
        shot("salle-occupee"),
    ];
    steps.extend(commune_tests::browser::greeter_start(
        screens,
        &secret,
        start.path(),
    ));
    for lang in ["fr", "ar"] {
        let tr = |id: &str| t(&texts, lang, id);
        steps.extend([
            json!({"goto": s(&format!("/{lang}/acces"))}),
            json!({"expectText": tr("supervised-title")}),
            json!({"expectText": tr("wait-all-busy")}),
            json!({"expectText": next.clone()}),
            json!({"expectText": hostnames[2]}),
            json!({"axe": true}),
            shot(&format!("poste-reserve-{lang}")),
        ]);
    }
    steps.extend([
        // The television's page is open when a visitor leaves: it follows by itself.
        json!({"goto": format!("/salle/{SITE}")}),
        json!({"expectText": "Tous les ordinateurs sont occupés."}),
        // A mark that a reload would wipe out.
        json!({"expectJs": "(window.communeKept = 1) === 1"}),
        json!({"note": "a visitor leaves"}),
        json!({"expectText": "1 ordinateur libre", "timeoutSecs": 45}),
        json!({"expectJs": "window.communeKept === 1 && !document.body.innerText.includes('Tous les ordinateurs sont occupés')"}),
        json!({"axe": true}),
        shot("salle-libre"),
        json!({"goto": s("/fr/acces")}),
        json!({"expectText": "Ordinateurs libres en ce moment : 1."}),
        json!({"axe": true}),
        shot("poste-reserve-libre-fr"),
    ]);
    let scenario = json!({
        "baseUrl": format!("http://{dashboard}"),
        "timeoutSecs": 300,
        "stepTimeoutSecs": 20,
        "steps": steps,
    });
    commune_tests::browser::run(&scenario, Duration::from_secs(360), |note| {
        let (busy, held) = (busy.clone(), held.clone());
        async move {
            assert_eq!(note, "a visitor leaves");
            busy[0].end_session(EndReason::Visitor).await.unwrap();
            eventually(30, "the held seat hears a computer is free", || async {
                held.status()
                    .site_wait
                    .is_some_and(|w| w.free_seats == 1 && w.busy_seats == 1)
            })
            .await;
        }
    })
    .await;
}
