//! Waking the seats (issue 18, Wake-on-LAN): a real controller whose `[power] wake_on_lan`
//! points at a UDP socket on the loopback interface (the test's "broadcast address"), a
//! real agent enrolled and then stopped ("off"). Staff wake it from its page in Chromium
//! (axe-core; the press is audited); the controller wakes it by itself before its next
//! opening, once; a site closed all day wakes nobody. Each packet is checked byte for
//! byte: six 0xFF, then the seat's MAC sixteen times.

use std::net::SocketAddr;
use std::time::Duration;

use commune_agent::config::PlatformKind;
use commune_controller::staff::Role;
use commune_protocol::slots::{AdHocSlot, SiteSchedule};
use commune_protocol::UtcMillis;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};
use serde_json::json;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xc0, 0xff, 0xee];

/// The next magic packet the socket receives within `secs`, if any.
async fn packet(socket: &tokio::net::UdpSocket, secs: u64) -> Option<Vec<u8>> {
    let mut buf = [0u8; 512];
    let (n, _) = tokio::time::timeout(Duration::from_secs(secs), socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(buf[..n].to_vec())
}

fn is_magic_for(packet: &[u8], mac: [u8; 6]) -> bool {
    packet.len() == 102 && packet[..6] == [0xFF; 6] && packet[6..].chunks(6).all(|c| c == mac)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_the_schedule_wake_a_seat_that_is_off_with_a_magic_packet() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target: SocketAddr = socket.local_addr().unwrap();
    let ctrl = TestController::start_with(|config| {
        config.power.wake_on_lan = target.to_string();
        config.power.check_secs = 1;
        config.power.wake_minutes_before_opening = 20;
    })
    .await;
    let c = ctrl.controller.clone();
    // Closed all day: nothing to wake for.
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.opening_hours = Default::default();
    c.set_site_schedule(SITE, model.clone()).await.unwrap();

    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = agent.config.agent_id.clone();
    eventually(20, "the seat's inventory is stored", || async {
        c.store().inventory(&seat).await.unwrap().is_some()
    })
    .await;
    // The hour it was on is counted in the report per funded computer (hours on).
    eventually(30, "the report counts the hour the seat was on", || async {
        let at = commune_controller::now();
        let report = c
            .site_report(
                SITE,
                UtcMillis(at.0 - 3_600_000),
                UtcMillis(at.0 + 3_600_000),
            )
            .await
            .unwrap();
        report
            .seats
            .iter()
            .any(|s| s.agent_id == seat && s.hours_powered >= 1.0)
    })
    .await;
    agent.stop().await;
    eventually(20, "the seat is off", || async {
        !c.connected_ids().contains(&seat)
    })
    .await;
    // Its network card, as its last inventory gave it.
    let mut inventory = c.store().inventory(&seat).await.unwrap().unwrap();
    inventory.mac_addresses = vec!["52:54:00:c0:ff:ee".into(), "00:00:00:00:00:00".into()];
    c.store()
        .upsert_inventory(&seat, &inventory, commune_controller::now())
        .await
        .unwrap();
    assert!(
        packet(&socket, 3).await.is_none(),
        "a seat closed all day is not woken"
    );

    // Staff wake it from its page.
    c.create_staff(
        "marie",
        "Marie",
        Role::Staff,
        &[SITE.to_string()],
        "un mot de passe long",
    )
    .await
    .unwrap();
    let dashboard = commune_tests::web::serve_dashboard(c.clone()).await;
    let scenario = json!({
        "baseUrl": format!("http://{dashboard}"),
        "user": "marie",
        "password": "un mot de passe long",
        "timeoutSecs": 90,
        "stepTimeoutSecs": 15,
        "steps": [
            {"login": true},
            {"goto": format!("/postes/{seat}")},
            {"expectText": "Ce poste est éteint ou hors ligne."},
            {"axe": true},
            {"screenshot": commune_tests::browser::screenshots().join("reveil-poste.png").display().to_string()},
            {"click": "Réveiller ce poste (Wake-on-LAN)"},
            {"expectStatus": 200},
            {"note": "woken"},
        ],
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    commune_tests::browser::run(&scenario, Duration::from_secs(120), |_| {
        let tx = tx.clone();
        async move {
            tx.send(()).await.unwrap();
        }
    })
    .await;
    rx.recv().await.expect("the page was pressed");
    let sent = packet(&socket, 5).await.expect("a magic packet");
    assert!(is_magic_for(&sent, MAC), "{sent:02x?}");
    assert!(
        packet(&socket, 1).await.is_none(),
        "one packet: the all-zero MAC is skipped"
    );
    let audit = c.store().audit_log(UtcMillis(0)).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "seat.wake" && e.actor == "marie" && e.detail.contains(&seat)),
        "{audit:?}"
    );

    // A permanence opens on it in ten minutes: the controller wakes it by itself, once.
    let now = commune_controller::now();
    model.ad_hoc.push(AdHocSlot {
        id: "atelier".into(),
        seats: vec![seat.clone()],
        start: UtcMillis(now.0 + 10 * 60_000),
        end: UtcMillis(now.0 + 70 * 60_000),
        permanence: None,
        name: Some("Atelier".into()),
        mediator: "Mme Martin".into(),
    });
    c.set_site_schedule(SITE, model).await.unwrap();
    let sent = packet(&socket, 10).await.expect("woken before the opening");
    assert!(is_magic_for(&sent, MAC), "{sent:02x?}");
    assert!(
        packet(&socket, 3).await.is_none(),
        "woken once for an opening, not every round"
    );
    assert!(c.metrics().wake_packets.get() >= 2);
}

/// Closing time: within the site's warning (10 minutes by default) the greeter and the
/// session's notice say when the MDH closes, that sessions end then, and the site's own
/// words, in the visitor's language (French and Arabic in Chromium, axe-core, screenshots
/// `fermeture-*`). The end of the session at closing and the power action after it are
/// checked on a paused clock (`agent/tests/enforcement.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screens_say_when_the_mdh_closes_with_its_own_words() {
    let texts = commune_agent::screens::i18n::Texts::load().unwrap();
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    // Closing in 8 minutes today (a run just before midnight waits for the next day).
    let mut local = jiff::Timestamp::now().to_zoned(paris.clone());
    if local.hour() == 23 && local.minute() >= 40 {
        let wait = (60 - i64::from(local.minute())) * 60 + 60;
        tokio::time::sleep(Duration::from_secs(u64::try_from(wait).unwrap())).await;
        local = jiff::Timestamp::now().to_zoned(paris.clone());
    }
    let close = local
        .checked_add(jiff::SignedDuration::from_secs(8 * 60))
        .unwrap();
    let end = close.strftime("%H:%M").to_string();
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let hours: String = days
        .iter()
        .map(|d| format!("{d} = [{{ start = \"00:00\", end = \"{end}\" }}]\n"))
        .collect();
    let model: SiteSchedule = toml::from_str(&format!(
        "time_zone = \"Europe/Paris\"\nclosing_message = \"Pensez à reprendre vos papiers à l'imprimante.\"\n[opening_hours]\n{hours}"
    ))
    .unwrap();

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    c.set_site_schedule(SITE, model).await.unwrap();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    config.screens.listen = "127.0.0.1:0".into();
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let sessions = agent.sessions.clone().unwrap();
    eventually(20, "the seat knows the site closes soon", || async {
        sessions.status().greeter.closing_at.is_some()
    })
    .await;
    let screens = agent.screens.unwrap();
    let shot = |name: &str| {
        commune_tests::browser::screenshots()
            .join(format!("fermeture-{name}.png"))
            .display()
            .to_string()
    };
    let mut steps = Vec::new();
    for lang in ["fr", "ar"] {
        let tr = |id: &str| {
            texts.get(
                commune_agent::screens::i18n::language(lang).unwrap(),
                id,
                None,
            )
        };
        let closing_at = commune_agent::screens::i18n::Tr {
            texts: &texts,
            lang: commune_agent::screens::i18n::language(lang).unwrap(),
        }
        .with("closing-at", &[("time", end.clone().into())]);
        steps.extend([
            json!({"goto": format!("/{lang}/")}),
            json!({"expectText": tr("closing-title")}),
            json!({"expectText": closing_at}),
            json!({"expectText": "Pensez à reprendre vos papiers à l'imprimante."}),
            json!({"axe": true}),
            json!({"screenshot": shot(&format!("accueil-{lang}"))}),
            json!({"note": format!("session {lang}")}),
            json!({"goto": format!("/{lang}/session")}),
            json!({"expectText": tr("session-title")}),
            json!({"expectText": closing_at}),
            json!({"axe": true}),
            json!({"screenshot": shot(&format!("session-{lang}"))}),
            json!({"note": format!("end {lang}")}),
        ]);
    }
    let scenario = json!({
        "baseUrl": format!("http://{screens}"),
        "timeoutSecs": 120,
        "stepTimeoutSecs": 15,
        "steps": steps,
    });
    commune_tests::browser::run(&scenario, Duration::from_secs(150), |note| {
        let sessions = sessions.clone();
        async move {
            if note.starts_with("session") {
                sessions
                    .start_session(commune_protocol::messages::SlotKind::Free, None)
                    .await
                    .unwrap();
            } else {
                sessions
                    .end_session(commune_protocol::messages::EndReason::Visitor)
                    .await
                    .unwrap();
            }
        }
    })
    .await;
}

/// The controller's broadcast rarely crosses the routers between it and an MDH: a seat of
/// the same site that is awake sends the magic packets on its own network
/// (`WakeNeighbours`), here to a socket on the loopback interface, and records it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_awake_seat_of_the_site_relays_the_magic_packet_the_controller_cannot_send() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target: SocketAddr = socket.local_addr().unwrap();
    // The controller sends nothing itself (`wake_on_lan` empty in the tests' settings).
    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let token = ctrl.token().await;
    let (mut asleep, _dir_a) = enroll_agent(ctrl.addr, &token).await.expect("enroll");
    asleep.sessions.platform = PlatformKind::Sandbox;
    let (mut awake, _dir_b) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    awake.sessions.platform = PlatformKind::Sandbox;
    awake.wake_on_lan = target.to_string();

    let mut sleeper = TestAgent::start(asleep).await;
    sleeper.wait_connected(20).await;
    let seat = sleeper.config.agent_id.clone();
    eventually(20, "the seat's inventory is stored", || async {
        c.store().inventory(&seat).await.unwrap().is_some()
    })
    .await;
    sleeper.stop().await;
    let mut inventory = c.store().inventory(&seat).await.unwrap().unwrap();
    inventory.mac_addresses = vec!["52:54:00:c0:ff:ee".into()];
    c.store()
        .upsert_inventory(&seat, &inventory, commune_controller::now())
        .await
        .unwrap();

    // Nobody awake yet: nothing can wake it, and staff are told why.
    let cli = commune_controller::staff::StaffIdentity::cli();
    let refused = c.staff_api(&cli).wake_seat(SITE, &seat).await.unwrap_err();
    assert!(
        refused.to_string().contains("no seat of its site is awake"),
        "{refused}"
    );

    let mut relay = TestAgent::start(awake).await;
    relay.wait_connected(20).await;
    let relay_id = relay.config.agent_id.clone();
    let woken = c.staff_api(&cli).wake_seat(SITE, &seat).await.unwrap();
    assert_eq!(woken.packets, 0);
    assert_eq!(woken.relayed_by.as_deref(), Some(relay_id.as_str()));
    let got = packet(&socket, 20).await.expect("the awake seat relays it");
    assert!(is_magic_for(&got, MAC), "{got:?}");
    // The relay's result comes back like any command's.
    eventually(20, "the relay's result is recorded", || async {
        c.store()
            .event_bodies(&relay_id)
            .await
            .unwrap()
            .iter()
            .any(|b| b.contains("command_result") && b.contains("magic packet(s) sent to"))
    })
    .await;
    let audit = c.store().audit_log(UtcMillis(0)).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "seat.wake" && e.detail.contains(&format!("relayed by {relay_id}"))));
    relay.stop().await;
}
