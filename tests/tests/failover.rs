//! Several controllers on one PostgreSQL store: what staff change through one reaches the
//! seats connected to the other as it happens (`LISTEN/NOTIFY`, no poll), and when the
//! controller a seat uses dies without a word (its host gone: every packet dropped, as
//! after `kill -9` or a power cut), the seat moves to the other one it knows, losing and
//! doubling no event it produced meanwhile.

use std::time::Duration;

use commune_protocol::messages::ControllerMessage;
use commune_tests::netcut::UdpProxy;
use commune_tests::raw::RawSeat;
use commune_tests::*;

/// The next message of `kind` from the controller within `secs`, skipping the others.
async fn next_matching(
    raw: &mut RawSeat,
    secs: u64,
    what: &str,
    pick: impl Fn(&ControllerMessage) -> bool,
) -> ControllerMessage {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, raw.recv()).await {
            Ok(Some(m)) if pick(&m) => return m,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the controller closed the stream before {what}"),
            Err(_) => panic!("no {what} within {secs} s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_cross_controllers_at_once_and_a_dead_controller_hands_its_seats_over() {
    let Some(db) = postgres_database().await else {
        return;
    };
    init_tracing();
    // The 5-second poll of schedule versions is out of the way: a change that arrives
    // within it came by notification.
    let a = TestController::start_with(|c| {
        c.database_url = commune_controller::config::DatabaseUrl(db.url.clone());
        c.revocation_poll_secs = 60;
    })
    .await;
    let b = a.sibling().await;

    // A seat on B sees a slot opened, and tickets created, through A.
    let (watcher, _watcher_dir) = enroll_agent(a.addr, &a.token().await).await.unwrap();
    let mut raw = RawSeat::connect(&commune_agent::AgentConfig {
        controller: b.addr.to_string(),
        ..watcher.clone()
    })
    .await;
    let opened = std::time::Instant::now();
    a.controller
        .open_supervised_slot(
            &watcher.site_id,
            std::slice::from_ref(&watcher.agent_id),
            commune_controller::now().plus_secs(3600),
            Some("Atelier CAF".into()),
            None,
        )
        .await
        .unwrap();
    next_matching(&mut raw, 4, "the schedule with the slot opened on A", |m| {
        matches!(m, ControllerMessage::Schedule(s)
            if s.slots.iter().any(|slot| slot.kind == commune_protocol::messages::SlotKind::Supervised))
    })
    .await;
    a.controller
        .create_tickets(
            &watcher.site_id,
            3,
            60,
            commune_controller::now().plus_secs(3600),
        )
        .await
        .unwrap();
    next_matching(
        &mut raw,
        4,
        "the tickets created on A",
        |m| matches!(m, ControllerMessage::Tickets(t) if t.tickets.len() >= 3),
    )
    .await;
    eprintln!(
        "slot and tickets from A reached a seat on B in {:?}",
        opened.elapsed()
    );

    // A seat that knows both, on A through a link that can die.
    let path_to_a = UdpProxy::start(a.addr).await.unwrap();
    let (config, _dir) = enroll_agent(a.addr, &a.token().await).await.unwrap();
    let mut agent = TestAgent::start(commune_agent::AgentConfig {
        controller: path_to_a.addr().to_string(),
        other_controllers: vec![b.addr.to_string()],
        ..config
    })
    .await;
    agent.wait_connected(10).await;
    assert!(a
        .controller
        .connected_ids()
        .contains(&agent.config.agent_id));
    agent.produce(20).await;

    // Under load, A's host goes silent.
    let producer = keep_producing(agent.outbox.clone(), 60, Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let died = std::time::Instant::now();
    path_to_a.cut();
    let id = agent.config.agent_id.clone();
    eventually(30, "the seat on the other controller", || async {
        b.controller.connected_ids().contains(&id)
    })
    .await;
    eprintln!("the seat was back on B {:?} after A died", died.elapsed());
    producer.await.unwrap();

    let last = agent.outbox.last_seq().await.unwrap();
    assert_eq!(last, 80);
    eventually(30, "every event acknowledged by B", || async {
        agent.acked() >= last
    })
    .await;
    assert_eq!(
        b.controller.store().event_seqs(&id).await.unwrap(),
        (1..=last).collect::<Vec<_>>(),
        "events lost or doubled across the failover"
    );
    assert!(path_to_a.dropped() > 0, "A really went silent");
    agent.stop().await;
}
