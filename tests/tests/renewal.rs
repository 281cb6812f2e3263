//! Seat certificates over time, end to end with the real agent link and controller, with
//! lifetimes of seconds: a connected seat renews its certificate at two thirds of its life
//! (same agent id, new serial, the old certificate refused once the new one is used, no
//! event lost or doubled across the switch); a seat whose certificate expired while it was
//! offline enrolls again with a new token and keeps its agent id and its unsent events; a
//! token with somebody else's certificate takes over nobody.

use std::time::Duration;

use commune_agent::config::{files, AgentConfig};
use commune_agent::enroll::{enroll, EnrollOptions};
use commune_agent::link::{FrameReader, LinkState};
use commune_agent::outbox::Outbox;
use commune_protocol::messages::{AgentMessage, ControllerMessage, Hello, RefusalCode};
use commune_protocol::version::VersionRange;
use commune_tests::{
    agent_base, enroll_agent, eventually, keep_producing, TestAgent, TestController,
};

/// The serial of the certificate in a state directory, as the controller reads it.
fn serial_in(config: &AgentConfig) -> String {
    let pem = std::fs::read_to_string(config.state_file(files::CERT)).unwrap();
    let der = commune_provisioning::pem_to_der(&pem).unwrap();
    commune_provisioning::agent_identity(&der)
        .unwrap()
        .serial_hex
}

/// A copy of a seat's key, certificate and CA in another directory.
fn copy_identity(config: &AgentConfig, to: &std::path::Path) -> AgentConfig {
    std::fs::create_dir_all(to).unwrap();
    for f in [files::KEY, files::CERT, files::CA] {
        std::fs::copy(config.state_file(f), to.join(f)).unwrap();
    }
    AgentConfig {
        state_dir: to.to_path_buf(),
        ..config.clone()
    }
}

/// Connects with the identity in `config` and says Hello: the controller's first answer.
async fn hello_with(config: &AgentConfig) -> Result<ControllerMessage, String> {
    let client = commune_agent::tls::client_config(config).map_err(|e| e.to_string())?;
    let (_endpoint, conn) = commune_agent::link::connect(config, client)
        .await
        .map_err(|e| e.to_string())?;
    let (mut send, recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    let hello = AgentMessage::Hello(Hello {
        protocol: VersionRange::CURRENT,
        agent_version: "test".into(),
        capabilities: vec![],
        outbox_pending: 0,
    });
    send.write_all(&commune_protocol::encode_frame(&hello).unwrap())
        .await
        .map_err(|e| e.to_string())?;
    FrameReader::new(recv)
        .next::<ControllerMessage>()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no answer".to_string())
}

/// Every seq from 1 to `last` stored once for `agent`.
async fn stored_once(tc: &TestController, agent: &str, last: u64) {
    let seqs = tc.controller.store().event_seqs(agent).await.unwrap();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "events of {agent} lost or doubled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_renews_its_certificate_at_two_thirds_of_its_life_and_the_old_one_stops_working() {
    commune_tests::init_tracing();
    // 24 s: renewed 16 s after issue; the old certificate would still be valid for 8 s
    // more, so its refusal below is the controller's doing, not its expiry.
    let tc = TestController::start_with(|c| c.agent_certificate_secs = 24).await;
    let (config, dir) = enroll_agent(tc.addr, &tc.token().await).await.unwrap();
    let old_serial = serial_in(&config);
    let old = copy_identity(&config, &dir.path().join("old"));

    let mut agent = TestAgent::start(config.clone()).await;
    agent.wait_connected(10).await;
    // Visitors keep using the seat while its certificate is renewed.
    let producer = keep_producing(agent.outbox.clone(), 120, Duration::from_millis(200));
    eventually(30, "the certificate renewed", || async {
        agent
            .stats
            .renewals
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    })
    .await;
    agent.wait_connected(10).await;
    eventually(10, "the renewed certificate in use", || async {
        tc.controller
            .store()
            .agent(&config.agent_id)
            .await
            .unwrap()
            .unwrap()
            .cert_serial
            == serial_in(&config)
    })
    .await;
    let new_serial = serial_in(&config);
    assert_ne!(new_serial, old_serial, "a renewal brings a new serial");
    assert_eq!(tc.metric("commune_certificates_renewed_total").await, 1.0);
    assert!(agent.connections() >= 2, "the seat reconnected with it");

    // The old certificate, still within its dates, is refused now.
    match hello_with(&old).await {
        Ok(ControllerMessage::Refused(r)) => {
            assert_eq!(r.code, RefusalCode::NotEnrolled);
            assert!(r.message.contains("replaced"), "{}", r.message);
        }
        other => panic!("the replaced certificate was not refused: {other:?}"),
    }

    producer.await.unwrap();
    let last = agent.outbox.last_seq().await.unwrap();
    eventually(20, "every event acknowledged", || async {
        agent.acked() >= last
    })
    .await;
    stored_once(&tc, &config.agent_id, last).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_whose_certificate_expired_offline_enrolls_again_and_keeps_its_id_and_events() {
    commune_tests::init_tracing();
    let tc = TestController::start_with(|c| c.agent_certificate_secs = 3).await;
    let (config, dir) = enroll_agent(tc.addr, &tc.token().await).await.unwrap();
    let first_serial = serial_in(&config);

    // Offline: visitors' sessions pile up in the outbox while the certificate expires.
    {
        let outbox = Outbox::open(&config.state_file(files::OUTBOX), config.outbox_capacity)
            .await
            .unwrap();
        keep_producing(outbox, 10, Duration::ZERO).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;

    let mut agent = TestAgent::start(config.clone()).await;
    let state = agent
        .wait_for(10, "refused", |s| matches!(s, LinkState::Refused { .. }))
        .await;
    match state {
        LinkState::Refused { code, message } => {
            assert_eq!(code, "certificate_expired");
            assert!(message.contains("commune-agent enroll"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    agent.produce(4).await;
    let last = agent.outbox.last_seq().await.unwrap();
    assert_eq!(last, 14);
    assert_eq!(
        tc.controller
            .store()
            .acked_seq(&config.agent_id)
            .await
            .unwrap(),
        0
    );

    // Somebody with a token and this seat's certificate but not its key takes over nothing,
    // and the token stays usable.
    let token = tc.token().await;
    let stranger = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(stranger.path().join("state")).unwrap();
    std::fs::copy(
        config.state_file(files::CERT),
        stranger.path().join("state").join(files::CERT),
    )
    .unwrap();
    std::fs::write(
        stranger.path().join("state").join(files::KEY),
        commune_agent::renewal::new_key_and_csr("intruder")
            .unwrap()
            .0
            .serialize_pem(),
    )
    .unwrap();
    let refused = enroll(EnrollOptions {
        controller: tc.addr.to_string(),
        token: token.clone(),
        config_path: stranger.path().join("agent.toml"),
        state_dir: stranger.path().join("state"),
        asset_tag: None,
        funding_line: None,
        hostname: Some("intruder".into()),
        base: agent_base(),
    })
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("previous identity is refused"),
        "{refused}"
    );

    // IT enrolls the seat again, with that token, while its agent runs.
    let again = enroll(EnrollOptions {
        controller: tc.addr.to_string(),
        token,
        config_path: dir.path().join("agent.toml"),
        state_dir: config.state_dir.clone(),
        asset_tag: config.asset_tag.clone(),
        funding_line: config.funding_line.clone(),
        hostname: Some("test-pc".into()),
        base: agent_base(),
    })
    .await
    .unwrap();
    assert_eq!(
        again.agent_id, config.agent_id,
        "the seat keeps its identity"
    );
    assert_ne!(serial_in(&config), first_serial);

    // The running agent picks the new certificate up and delivers what it kept, once.
    agent.wait_connected(15).await;
    eventually(20, "the offline events acknowledged", || async {
        agent.acked() >= last
    })
    .await;
    stored_once(&tc, &config.agent_id, last).await;
    assert_eq!(
        tc.controller.store().enrolled_count().await.unwrap(),
        1,
        "one seat, not two"
    );
    agent.stop().await;
}

/// A seat (or whoever holds its key) asking for a second certificate on one connection is
/// disconnected, and signed nothing more: the controller cannot be made to sign in a loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_renewal_on_one_connection_closes_it_and_signs_nothing_more() {
    use commune_agent::renewal::PendingRenewal;
    use commune_protocol::messages::RenewRequest;
    use commune_tests::raw::RawSeat;
    let tc = TestController::start().await;
    let (config, _dir) = enroll_agent(tc.addr, &tc.token().await).await.unwrap();
    let mut raw = RawSeat::connect(&config).await;
    let ask = |renewal: &PendingRenewal| {
        AgentMessage::Renew(RenewRequest {
            csr_pem: renewal.csr_pem.clone(),
        })
    };
    raw.send(&ask(&PendingRenewal::start(&config.agent_id).unwrap()))
        .await;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), raw.recv()).await {
            Ok(Some(ControllerMessage::Renewed(_))) => break,
            Ok(Some(_)) => continue,
            other => panic!("no certificate for the first renewal: {other:?}"),
        }
    }
    raw.send(&ask(&PendingRenewal::start(&config.agent_id).unwrap()))
        .await;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), raw.recv()).await {
            Ok(None) => break,
            Ok(Some(ControllerMessage::Renewed(_))) => panic!("a second certificate signed"),
            Ok(Some(_)) => continue,
            Err(_) => panic!("the connection stayed open after a second renewal"),
        }
    }
    // The seat itself is served again on its next connection.
    let mut again = RawSeat::connect(&config).await;
    again
        .send(&AgentMessage::Heartbeat(
            commune_protocol::messages::Heartbeat {
                seat_state: None,
                session_seconds_left: None,
            },
        ))
        .await;
    eventually(10, "the seat is connected again", || async {
        tc.controller.connected_ids().contains(&config.agent_id)
    })
    .await;
}
