//! Free-access tickets end to end on sandbox seats over real QUIC: valid, expired, already
//! used, unknown and mistyped codes each get their message, and a ticket used on two seats
//! while both were offline is accepted on each and flagged by the controller.

use commune_agent::config::PlatformKind;
use commune_agent::link::LinkState;
use commune_agent::manager::ManagerHandle;
use commune_protocol::messages::{SeatState, SlotKind};
use commune_protocol::slots::SiteSchedule;
use commune_protocol::tickets::{normalize, ticket_hash};
use commune_protocol::UtcMillis;
use commune_tests::netcut::UdpProxy;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController, SITE};

struct Seat {
    agent: TestAgent,
    proxy: UdpProxy,
    _dir: tempfile::TempDir,
}

impl Seat {
    fn sessions(&self) -> ManagerHandle {
        self.agent.sessions.clone().expect("session manager")
    }

    fn holds(&self, code: &str) -> bool {
        let hash = ticket_hash(&normalize(code).unwrap());
        std::fs::read_to_string(self.agent.config.state_dir.join("tickets.json"))
            .map(|t| t.contains(&hash))
            .unwrap_or(false)
    }
}

async fn seat(ctrl: &TestController) -> Seat {
    let proxy = UdpProxy::start(ctrl.addr).await.unwrap();
    let (mut config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.controller = proxy.addr().to_string();
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let seat = Seat {
        agent,
        proxy,
        _dir: dir,
    };
    seat.sessions()
        .wait_for(|s| s.state == SeatState::Ready)
        .await;
    seat
}

async fn refusal(seat: &Seat, ticket: Option<&str>) -> String {
    seat.sessions()
        .start_session_with_ticket(SlotKind::Free, None, ticket.map(String::from))
        .await
        .expect_err("refused")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_valid_expired_used_unknown_and_used_twice_offline() {
    let ctrl = TestController::start().await;
    let mut a = seat(&ctrl).await;
    let mut b = seat(&ctrl).await;
    let store = ctrl.controller.store();

    // Free access at this site needs a ticket.
    let mut model = SiteSchedule::always_open("Europe/Paris");
    model.free_access.ticket_required = true;
    ctrl.controller
        .set_site_schedule(SITE, model)
        .await
        .unwrap();
    let until = UtcMillis(commune_controller::now().0 + 86_400_000);
    let codes = ctrl
        .controller
        .create_tickets(SITE, 3, 30, until)
        .await
        .unwrap();
    // One ticket whose validity ended an hour ago.
    let expired = "ACEF-HKMN";
    let now = commune_controller::now();
    store
        .create_tickets(
            SITE,
            &[ticket_hash(&normalize(expired).unwrap())],
            45,
            UtcMillis(now.0 - 3_600_000),
            UtcMillis(now.0 - 86_400_000),
        )
        .await
        .unwrap();
    ctrl.controller.push_tickets(SITE).await;
    eventually(20, "both seats hold the tickets", || async {
        codes.iter().all(|c| a.holds(c) && b.holds(c)) && a.holds(expired)
    })
    .await;
    // Until the new schedule is enforced a session may still start without a ticket: it is
    // ended, and the seat asked again.
    eventually(20, "the schedule asks for tickets", || async {
        match a
            .sessions()
            .start_session_with_ticket(SlotKind::Free, None, None)
            .await
        {
            Ok(_) => {
                let _ = a
                    .sessions()
                    .end_session(commune_protocol::messages::EndReason::Staff)
                    .await;
                false
            }
            Err(e) => e.to_string().contains("needs a ticket"),
        }
    })
    .await;

    assert!(refusal(&a, Some("bonjour"))
        .await
        .contains("not a ticket code"));
    assert!(refusal(&a, Some("AAAA-AAAA")).await.contains("not known"));
    assert!(refusal(&a, Some(expired)).await.contains("expired"));

    // A valid ticket, typed the way people type: a session of the ticket's 30 minutes.
    let typed = codes[0].to_lowercase().replace('-', " ");
    let info = a
        .sessions()
        .start_session_with_ticket(SlotKind::Free, None, Some(typed))
        .await
        .unwrap();
    let left = info.seconds_left.expect("a limit");
    assert!(
        (29 * 60..=30 * 60).contains(&left),
        "the ticket's 30 minutes: {left}"
    );
    let hash0 = ticket_hash(&normalize(&codes[0]).unwrap());
    eventually(20, "the controller records the use", || async {
        store
            .ticket(&hash0)
            .await
            .unwrap()
            .is_some_and(|t| t.used_by.as_deref() == Some(a.agent.config.agent_id.as_str()))
    })
    .await;
    // Spent fleet-wide: the other seat refuses it as used, not as unknown.
    eventually(20, "seat B learns the ticket is spent", || async {
        refusal(&b, Some(&codes[0]))
            .await
            .contains("already been used")
    })
    .await;
    a.sessions()
        .end_session(commune_protocol::messages::EndReason::Visitor)
        .await
        .unwrap();
    assert!(refusal(&a, Some(&codes[0]))
        .await
        .contains("already been used"));

    // Both seats offline; the same ticket is used on each: accepted on both, flagged once
    // the controller hears of the second use.
    a.proxy.cut();
    b.proxy.cut();
    for seat in [&mut a, &mut b] {
        seat.agent
            .wait_for(30, "the seat notices it is offline", |s| {
                !matches!(s, LinkState::Connected { .. })
            })
            .await;
    }
    let on_a = a
        .sessions()
        .start_session_with_ticket(SlotKind::Free, None, Some(codes[1].clone()))
        .await
        .unwrap();
    let on_b = b
        .sessions()
        .start_session_with_ticket(SlotKind::Free, None, Some(codes[1].clone()))
        .await
        .unwrap();
    a.proxy.restore();
    b.proxy.restore();
    let hash1 = ticket_hash(&normalize(&codes[1]).unwrap());
    eventually(60, "the double use is flagged", || async {
        store
            .ticket(&hash1)
            .await
            .unwrap()
            .is_some_and(|t| t.double_use && t.used_at.is_some())
    })
    .await;
    let bodies = [
        store.event_bodies(&a.agent.config.agent_id).await.unwrap(),
        store.event_bodies(&b.agent.config.agent_id).await.unwrap(),
    ]
    .concat()
    .join("\n");
    assert!(bodies.contains(&on_a.session_id) && bodies.contains(&on_b.session_id));
    assert!(
        bodies.contains("\"offline\":true"),
        "the uses were reported as offline"
    );
    assert!(
        !bodies.contains(&codes[1]),
        "a ticket code left the computer"
    );
}
