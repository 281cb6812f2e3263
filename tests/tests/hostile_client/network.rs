//! A seat that stops reading, handshakes that never complete, bogus enrollments, big ticket
//! sets and oversized commands.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commune_agent::config::PlatformKind;
use commune_agent::AgentError;
use commune_protocol::messages::{CommandAction, ControllerMessage, RefusalCode};
use commune_protocol::tickets::{normalize, ticket_hash, TicketSetParts};
use commune_protocol::UtcMillis;
use commune_tests::raw::RawSeat;
use commune_tests::{enroll_agent, eventually, TestAgent, SITE};

use super::Bystanders;

fn in_a_day() -> UtcMillis {
    commune_controller::now().plus_secs(86_400)
}

/// Reads a seat's messages until a whole ticket set of at least `min` tickets has come;
/// returns its size and the commands seen on the way.
async fn whole_ticket_set(seat: &mut RawSeat, min: usize) -> (usize, Vec<String>) {
    let mut parts = TicketSetParts::default();
    let mut commands = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), seat.recv()).await {
            Ok(Some(ControllerMessage::Tickets(part))) => match parts.add(part) {
                Some(set) if set.tickets.len() >= min => return (set.tickets.len(), commands),
                _ => {}
            },
            Ok(Some(ControllerMessage::Command(c))) => commands.push(c.id),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended before a whole ticket set"),
            Err(_) => panic!("no whole ticket set within 30 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tickets_reach_every_seat_in_parts() {
    let mut b = Bystanders::start().await;
    // A seat running the real agent with its session manager, which keeps the site's tickets.
    let (mut config, _dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(30).await;
    let mut raw = RawSeat::connect(&{
        let (config, dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
            .await
            .expect("enroll");
        std::mem::forget(dir);
        config
    })
    .await;

    let codes = b
        .ctrl
        .controller
        .create_tickets(SITE, 10_000, 30, in_a_day())
        .await
        .expect("a batch of 10,000 tickets");
    // More than one frame's worth: it comes in parts, applied whole.
    let (count, _) = whole_ticket_set(&mut raw, 1).await;
    assert_eq!(count, 10_000, "the raw seat gets every ticket");
    let tickets = agent.config.state_dir.join("tickets.json");
    let holds = |code: &str| {
        let hash = ticket_hash(&normalize(code).unwrap());
        std::fs::read_to_string(&tickets)
            .map(|t| t.contains(&hash))
            .unwrap_or(false)
    };
    eventually(
        60,
        "the agent holds the first and the last ticket",
        || async { holds(&codes[0]) && holds(&codes[9_999]) },
    )
    .await;
    let held = std::fs::read_to_string(&tickets).unwrap();
    assert!(
        codes
            .iter()
            .all(|c| held.contains(&ticket_hash(&normalize(c).unwrap()))),
        "the agent holds all 10,000 tickets"
    );
    assert_eq!(b.ctrl.metric("commune_pushes_failed_total").await, 0.0);
    b.still_served(30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_that_stops_reading_is_cut_off_then_resynchronised() {
    let mut b = Bystanders::start().await;
    let (config, _dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("enroll");
    let id = config.agent_id.clone();
    let stalled = RawSeat::connect(&config).await;
    let c = b.ctrl.controller.clone();
    // Big ticket sets fill its flow-control window, then commands its queue. It reads
    // nothing; every staff action still returns at once.
    // Two batches: 10,000 then 20,000 tickets queued, over twice its receive window.
    for _ in 0..2 {
        c.create_tickets(SITE, 10_000, 30, in_a_day())
            .await
            .expect("tickets");
    }
    let mut sent = Vec::new();
    for i in 0..200 {
        let action = CommandAction::Message {
            text: format!("message {i}"),
        };
        let record =
            tokio::time::timeout(Duration::from_secs(10), c.send_command(&id, action, "t"))
                .await
                .expect("a staff command never waits on a seat")
                .expect("command stored");
        sent.push(record.id);
    }
    // The controller drops it at once (what the seat sees of it depends on its own stack).
    eventually(30, "the controller dropped the stalled seat", || async {
        !c.connected_ids().contains(&id)
    })
    .await;
    assert!(
        b.ctrl
            .metric("commune_pushes_failed_total{reason=\"full\"}")
            .await
            >= 1.0
    );
    b.still_served(30).await;

    // Back, and reading: it gets the whole ticket set and every command not yet queued.
    let store = c.store();
    let mut pending = Vec::new();
    for id in &sent {
        if store
            .command(id)
            .await
            .unwrap()
            .unwrap()
            .delivered_at
            .is_none()
        {
            pending.push(id.clone());
        }
    }
    assert!(!pending.is_empty(), "commands not queued stay pending");
    stalled.endpoint.close(0u32.into(), b"");
    let mut back = RawSeat::connect(&config).await;
    let (count, mut commands) = whole_ticket_set(&mut back, 1).await;
    assert_eq!(count, 20_000);
    // Commands queued to the dead connection come again too (they have no outcome yet).
    while !pending.iter().all(|id| commands.contains(id)) {
        match tokio::time::timeout(Duration::from_secs(20), back.recv()).await {
            Ok(Some(ControllerMessage::Command(cmd))) => commands.push(cmd.id),
            Ok(Some(_)) => {}
            other => panic!("pending commands not resent: {other:?}"),
        }
    }
    for id in &pending {
        assert!(commands.contains(id), "command {id} resent at reconnection");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_commands_are_refused_never_marked_delivered() {
    let b = Bystanders::start().await;
    let c = &b.ctrl.controller;
    let id = b.agents[0].config.agent_id.clone();
    for action in [
        CommandAction::Message {
            text: "x".repeat(2_000_000),
        },
        CommandAction::EndSession {
            reason: "é".repeat(501),
        },
        CommandAction::OpenSupervisedSlot {
            until: in_a_day(),
            permanence_id: Some("p".repeat(65)),
        },
    ] {
        let refused = c.send_command(&id, action, "t").await.unwrap_err();
        assert!(refused.to_string().contains("at most"), "{refused}");
    }
    assert!(c
        .store()
        .pending_commands(&id, commune_controller::now())
        .await
        .unwrap()
        .is_empty());
    // At the cap, it goes through and its seat carries it out.
    let ok = c
        .send_command(
            &id,
            CommandAction::Message {
                text: "é".repeat(500),
            },
            "t",
        )
        .await
        .unwrap();
    eventually(20, "the message is delivered and done", || async {
        c.store()
            .command(&ok.id)
            .await
            .unwrap()
            .is_some_and(|r| r.outcome.is_some())
    })
    .await;
}

/// Sends the first Initial packet of a QUIC connection to `to` from `from` and nothing
/// more: what a spoofed source does.
fn initial_packet(client: &quinn::ClientConfig, to: SocketAddr) -> Vec<u8> {
    let mut endpoint = quinn_proto::Endpoint::new(
        Arc::new(quinn_proto::EndpointConfig::default()),
        None,
        false,
        None,
    );
    let (_, mut conn) = endpoint
        .connect(Instant::now(), client.clone(), to, "localhost")
        .expect("a client connection");
    let mut buf = Vec::new();
    let transmit = conn
        .poll_transmit(Instant::now(), 1, &mut buf)
        .expect("an Initial packet");
    buf.truncate(transmit.size);
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_handshakes_that_never_complete_holds_nothing() {
    let mut b = Bystanders::start().await;
    let to = b.ctrl.addr;
    let client = commune_agent::tls::client_config(&b.agents[0].config).expect("client config");
    let flood = {
        let client = client.clone();
        tokio::task::spawn_blocking(move || {
            // 3,000 Initials from 250 loopback addresses, never followed up.
            let sockets: Vec<std::net::UdpSocket> = (2..=251u8)
                .map(|n| {
                    std::net::UdpSocket::bind((std::net::Ipv4Addr::new(127, 0, 1, n), 0)).unwrap()
                })
                .collect();
            for i in 0..3_000 {
                let packet = initial_packet(&client, to);
                let _ = sockets[i % sockets.len()].send_to(&packet, to);
            }
        })
    };
    b.still_served(60).await;
    flood.await.unwrap();
    assert!(
        b.ctrl
            .metric("commune_handshakes_rejected_total{reason=\"retry_sent\"}")
            .await
            > 0.0,
        "past the threshold, new addresses must prove themselves"
    );
    // A new computer enrolls and connects during the aftermath.
    let (config, _dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("a real enrollment still works");
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(30).await;
    b.still_served(30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bogus_enrollment_tokens_are_refused_with_a_read_only() {
    let mut b = Bystanders::start().await;
    // Another writer holds SQLite's write lock for the whole flood: a refusal that needed a
    // write transaction would wait for it and fail; a read answers at once.
    let db = b.ctrl.dir.path().join("commune.db");
    let mut writer = {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the database");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    };
    let fingerprint = b.ctrl.controller.ca().fingerprint();
    let mut refusals = Vec::new();
    for round in 0..5 {
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let token = commune_provisioning::new_token(fingerprint).encode();
            let addr = b.ctrl.addr;
            tasks.push(tokio::spawn(
                async move { enroll_agent(addr, &token).await },
            ));
        }
        for t in tasks {
            match t.await.unwrap() {
                Err(AgentError::Refused { code, .. }) => refusals.push(code),
                Err(AgentError::Connection(m)) if m.contains("too many enrollments") => {
                    refusals.push("busy")
                }
                Err(e) => panic!("round {round}: {e}"),
                Ok(_) => panic!("a bogus token enrolled a computer"),
            }
        }
    }
    assert!(
        refusals
            .iter()
            .all(|c| [RefusalCode::TokenUnknown.as_str(), "busy"].contains(c)),
        "{refusals:?}"
    );
    assert!(refusals.contains(&RefusalCode::TokenUnknown.as_str()));
    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    drop(writer);
    b.still_served(30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_ticket_parts_gets_the_set_whole() {
    let b = Bystanders::start().await;
    let (config, _dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("enroll");
    // An agent of an earlier version: it applies each ticket message as the whole set.
    let mut old = RawSeat::connect_with(&config, vec!["health".into(), "events".into()]).await;
    b.ctrl
        .controller
        .create_tickets(SITE, 6_000, 30, in_a_day())
        .await
        .expect("tickets");
    loop {
        match tokio::time::timeout(Duration::from_secs(30), old.recv()).await {
            Ok(Some(ControllerMessage::Tickets(set))) if !set.tickets.is_empty() => {
                assert_eq!((set.part, set.parts), (0, 0), "never in parts");
                assert_eq!(set.tickets.len(), 6_000);
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no ticket set: {other:?}"),
        }
    }
}
