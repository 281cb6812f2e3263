//! Foundation: enrollment, mutual TLS, health, refusals, scale and restarts, over real QUIC
//! on loopback with a real SQLite store.

use std::time::Duration;

use commune_agent::link::{connect, FrameReader, LinkState};
use commune_agent::AgentError;
use commune_protocol::encode_frame;
use commune_protocol::enroll::EnrollToken;
use commune_protocol::messages::{AgentMessage, ControllerMessage, Hello, RefusalCode};
use commune_protocol::version::VersionRange;
use commune_tests::*;

/// A healthy agent whose health keeps arriving: proof the controller still serves others.
async fn healthy_agent(ctrl: &TestController) -> TestAgent {
    let (config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    std::mem::forget(dir); // keep the state directory for the agent's lifetime
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(10).await;
    agent
}

fn assert_refused(err: &AgentError, expected_code: &str, says: &str) {
    match err {
        AgentError::Refused { code, message } => {
            assert_eq!(*code, expected_code);
            assert!(message.contains(says), "{message}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
}

async fn still_served(ctrl: &TestController, agent: &TestAgent) {
    let store = ctrl.controller.store();
    let id = agent.config.agent_id.clone();
    let before = store.health_count(&id).await.unwrap();
    eventually(10, "the healthy agent's health keeps arriving", || {
        let id = id.clone();
        async move { store.health_count(&id).await.unwrap() > before }
    })
    .await;
    assert!(matches!(*agent.state.borrow(), LinkState::Connected { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_enrolls_reconnects_with_its_certificate_and_health_reaches_the_store() {
    let ctrl = TestController::start().await;
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    assert!(config.agent_id.starts_with("ag-"));
    assert_eq!(config.site_id, SITE);
    // The key was made here and stays private.
    let key = config.state_dir.join("agent-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o077,
            0
        );
    }

    let mut agent = TestAgent::start(config.clone()).await;
    agent.wait_connected(10).await;
    let store = ctrl.controller.store();
    let id = config.agent_id.clone();
    eventually(10, "health and inventory stored", || {
        let id = id.clone();
        async move {
            store.health_count(&id).await.unwrap() >= 1
                && store.inventory(&id).await.unwrap().is_some()
        }
    })
    .await;
    let inventory = store.inventory(&id).await.unwrap().unwrap();
    assert_eq!(inventory.asset_tag.as_deref(), Some("GRE-TEST-001"));
    assert_eq!(inventory.funding_line.as_deref(), Some("FEDER test"));
    assert!(inventory.memory_total_bytes > 0);
    assert_eq!(ctrl.metric("commune_agents_connected").await, 1.0);
    assert_eq!(ctrl.metric("commune_agents_enrolled").await, 1.0);

    // The agent process restarts: it reconnects with the certificate on disk.
    agent.stop().await;
    let before = store.health_count(&id).await.unwrap();
    let mut again = TestAgent::start(config).await;
    again.wait_connected(10).await;
    eventually(10, "health after reconnecting", || {
        let id = id.clone();
        async move { store.health_count(&id).await.unwrap() > before }
    })
    .await;
    let fleet = ctrl.controller.fleet().await.unwrap();
    assert_eq!(fleet.len(), 1);
    assert!(fleet[0].connected);
    assert!(fleet[0].overview.last_seen_at.is_some());
    assert!(fleet[0].overview.health.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_token_is_refused() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let token = ctrl.token().await;
    enroll_agent(ctrl.addr, &token).await.expect("first use");
    let err = enroll_agent(ctrl.addr, &token).await.unwrap_err();
    assert_refused(&err, "token_used", "already used");
    assert_eq!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"token_used\"}")
            .await,
        1.0
    );
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let token = commune_provisioning::new_token(ctrl.controller.ca().fingerprint());
    let at = commune_controller::now();
    ctrl.controller
        .store()
        .create_token(
            &commune_provisioning::token_hash(&token.secret),
            SITE,
            at.plus_secs(-7200),
            at.plus_secs(-3600),
        )
        .await
        .unwrap();
    let err = enroll_agent(ctrl.addr, &token.encode()).await.unwrap_err();
    assert_refused(&err, "token_expired", "expired at");
    assert_eq!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"token_expired\"}")
            .await,
        1.0
    );
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_token_is_refused() {
    let ctrl = TestController::start().await;
    let token = commune_provisioning::new_token(ctrl.controller.ca().fingerprint());
    let err = enroll_agent(ctrl.addr, &token.encode()).await.unwrap_err();
    assert_refused(&err, "token_unknown", "not known");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_refuses_a_controller_whose_ca_does_not_match_the_token() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let real = EnrollToken::parse(&ctrl.token().await).unwrap();
    let wrong = EnrollToken {
        secret: real.secret,
        ca_fingerprint: [0x42; 32],
    };
    let err = enroll_agent(ctrl.addr, &wrong.encode()).await.unwrap_err();
    match &err {
        AgentError::FingerprintMismatch {
            expected,
            presented,
        } => {
            assert_eq!(expected, &"42".repeat(32));
            assert!(
                presented.contains(&hex(ctrl.controller.ca().fingerprint())),
                "{presented}"
            );
            assert!(err
                .to_string()
                .contains("does not match the enrollment token"));
        }
        other => panic!("expected a fingerprint mismatch, got {other}"),
    }
    // The agent stopped before sending the secret: the real token is still unused.
    let (config, _dir) = enroll_agent(ctrl.addr, &real.encode())
        .await
        .expect("the token was not spent");
    assert!(config.agent_id.starts_with("ag-"));
    assert!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"agent_refused_controller\"}")
            .await
            >= 1.0
    );
    still_served(&ctrl, &healthy).await;
}

fn hex(bytes: [u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_from_another_ca_is_refused() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;

    let intruder_dir = tempfile::tempdir().unwrap();
    let other =
        commune_provisioning::FleetCa::generate("Another city", commune_controller::now()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let signed = other
        .sign_agent_csr(&csr, &healthy.config.agent_id, commune_controller::now())
        .unwrap();
    let config = commune_agent::AgentConfig {
        controller: ctrl.addr.to_string(),
        agent_id: healthy.config.agent_id.clone(),
        state_dir: intruder_dir.path().to_path_buf(),
        ..agent_base()
    };
    use rustls_pki_types::pem::PemObject;
    let chain =
        vec![
            rustls_pki_types::CertificateDer::from_pem_slice(signed.certificate_pem.as_bytes())
                .unwrap(),
        ];
    let private =
        rustls_pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
    let ca = rustls_pki_types::CertificateDer::from_pem_slice(
        ctrl.controller.ca().cert_pem().as_bytes(),
    )
    .unwrap();
    let client = commune_agent::tls::client_config_from(&config, chain, private, ca).unwrap();
    let mut intruder = TestAgent::start_with_client(config, client).await;
    let state = intruder
        .wait_for(10, "refused", |s| matches!(s, LinkState::Disconnected { reason } if reason.contains("certificate authority")))
        .await;
    assert!(format!("{state:?}").contains("unknown CA"));
    eventually(5, "the controller counted an unknown CA", || async {
        ctrl.metric("commune_handshakes_rejected_total{reason=\"unknown_ca\"}")
            .await
            >= 1.0
    })
    .await;
    assert_eq!(intruder.connections(), 0);
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_agent_is_cut_off_and_refused_at_its_next_handshake() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let mut victim = healthy_agent(&ctrl).await;
    assert!(ctrl
        .controller
        .store()
        .revoke(&victim.config.agent_id, commune_controller::now())
        .await
        .unwrap());
    // Cut off now, then refused at every new handshake.
    victim
        .wait_for(10, "told it is revoked", |s| match s {
            LinkState::Disconnected { reason }
            | LinkState::Refused {
                message: reason, ..
            } => reason.contains("revoked"),
            _ => false,
        })
        .await;
    eventually(10, "a handshake refused as revoked", || async {
        ctrl.metric("commune_handshakes_rejected_total{reason=\"revoked\"}")
            .await
            >= 1.0
    })
    .await;
    let connections = victim.connections();
    // It keeps trying (backoff) and never gets in again.
    eventually(10, "more refused handshakes", || async {
        ctrl.metric("commune_handshakes_rejected_total{reason=\"revoked\"}")
            .await
            >= 2.0
    })
    .await;
    assert_eq!(
        victim.connections(),
        connections,
        "a revoked agent was welcomed again"
    );
    assert!(!ctrl
        .controller
        .connected_ids()
        .contains(&victim.config.agent_id));
    assert_eq!(ctrl.metric("commune_agents_enrolled").await, 1.0);
    still_served(&ctrl, &healthy).await;
}

/// Opens a raw authenticated connection and says Hello with the given versions.
async fn raw_session(
    ctrl: &TestController,
    protocol: VersionRange,
) -> (
    quinn::Endpoint,
    quinn::Connection,
    quinn::SendStream,
    FrameReader,
    commune_agent::AgentConfig,
    tempfile::TempDir,
) {
    let (config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let client = commune_agent::tls::client_config(&config).unwrap();
    let (endpoint, conn) = connect(&config, client).await.expect("connect");
    let (mut send, recv) = conn.open_bi().await.unwrap();
    let hello = AgentMessage::Hello(Hello {
        protocol,
        agent_version: "test".into(),
        capabilities: vec![],
        outbox_pending: 0,
    });
    send.write_all(&encode_frame(&hello).unwrap())
        .await
        .unwrap();
    (endpoint, conn, send, FrameReader::new(recv), config, dir)
}

async fn closed_with(conn: &quinn::Connection) -> (RefusalCode, String) {
    match tokio::time::timeout(Duration::from_secs(10), conn.closed())
        .await
        .expect("connection closed")
    {
        quinn::ConnectionError::ApplicationClosed(close) => (
            RefusalCode::from_close_code(close.error_code.into_inner())
                .expect("a Commune close code"),
            String::from_utf8_lossy(&close.reason).into_owned(),
        ),
        other => panic!("expected an application close, got {other}"),
    }
}

/// After a welcome, `bytes` close that one connection with `code` and a reason saying
/// `says`, are counted under `reason`, and the healthy agent is still served.
async fn bad_frame_closes_only_that_connection(
    bytes: &[u8],
    code: RefusalCode,
    says: &str,
    reason: &str,
) {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let (_ep, conn, mut send, mut reader, _config, _dir) =
        raw_session(&ctrl, VersionRange::CURRENT).await;
    assert!(matches!(
        reader.next::<ControllerMessage>().await.unwrap(),
        Some(ControllerMessage::Welcome(_))
    ));
    let _ = send.write_all(bytes).await;
    let (closed_code, closed_reason) = closed_with(&conn).await;
    assert_eq!(closed_code, code);
    assert!(closed_reason.contains(says), "{closed_reason}");
    let series = format!("commune_frames_rejected_total{{reason=\"{reason}\"}}");
    assert_eq!(ctrl.metric(&series).await, 1.0);
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_size_limit_closes_only_that_connection() {
    // Announce 2 MiB: refused from the four prefix bytes, before any body is buffered.
    let prefix = (2u32 * 1024 * 1024).to_be_bytes();
    bad_frame_closes_only_that_connection(
        &prefix,
        RefusalCode::FrameTooLarge,
        "over the limit",
        "too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_frame_closes_only_that_connection() {
    let mut garbage = 4u32.to_be_bytes().to_vec();
    garbage.extend_from_slice(&[0xc1, 0xc1, 0xc1, 0xc1]);
    bad_frame_closes_only_that_connection(
        &garbage,
        RefusalCode::MalformedFrame,
        "malformed frame",
        "malformed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_protocol_version_is_refused_with_a_reason() {
    let ctrl = TestController::start().await;
    let healthy = healthy_agent(&ctrl).await;
    let (_ep, conn, _send, mut reader, _config, _dir) =
        raw_session(&ctrl, VersionRange { min: 9, max: 12 }).await;
    match reader.next::<ControllerMessage>().await.unwrap() {
        Some(ControllerMessage::Refused(r)) => {
            assert_eq!(r.code, RefusalCode::UnsupportedVersion);
            assert!(
                r.message.contains("this peer speaks 9..=12"),
                "{}",
                r.message
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let (code, _) = closed_with(&conn).await;
    assert_eq!(code, RefusalCode::UnsupportedVersion);
    assert_eq!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"unsupported_version\"}")
            .await,
        1.0
    );
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_agents_connect_and_all_send_health() {
    const N: usize = 200;
    let ctrl = TestController::start_with(|c| c.health_interval_secs = 2).await;
    let mut enrolls = tokio::task::JoinSet::new();
    let mut configs = Vec::new();
    for batch in 0..N / 20 {
        for _ in 0..20 {
            let token = ctrl.token().await;
            let addr = ctrl.addr;
            enrolls.spawn(async move { enroll_agent(addr, &token).await });
        }
        while let Some(r) = enrolls.join_next().await {
            configs.push(r.unwrap().unwrap_or_else(|e| panic!("batch {batch}: {e}")));
        }
    }
    let mut agents = Vec::with_capacity(N);
    for (c, _) in &configs {
        agents.push(TestAgent::start(c.clone()).await);
    }
    for a in &mut agents {
        a.wait_connected(60).await;
    }
    let store = ctrl.controller.store();
    eventually(60, "health from every agent", || async {
        let mut all = true;
        for (c, _) in &configs {
            if store.health_count(&c.agent_id).await.unwrap() == 0 {
                all = false;
                break;
            }
        }
        all
    })
    .await;
    assert_eq!(ctrl.metric("commune_agents_connected").await, N as f64);
    assert_eq!(ctrl.metric("commune_agents_enrolled").await, N as f64);
    assert_eq!(
        ctrl.controller
            .fleet()
            .await
            .unwrap()
            .iter()
            .filter(|a| a.connected)
            .count(),
        N
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_come_back_on_their_own_after_a_controller_restart() {
    let ctrl = TestController::start().await;
    let mut agents = Vec::new();
    for _ in 0..5 {
        agents.push(healthy_agent(&ctrl).await);
    }
    let ctrl = ctrl.restart().await;
    for a in &mut agents {
        let id = a.config.agent_id.clone();
        eventually(20, &format!("{id} reconnected"), || async {
            a.connections() >= 2
        })
        .await;
        a.wait_connected(5).await;
    }
    eventually(10, "all five connected to the new controller", || async {
        ctrl.controller.connected_ids().len() == 5
    })
    .await;
    let last = agents.last().unwrap();
    still_served(&ctrl, last).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_refused_and_the_others_stay() {
    let ctrl = TestController::start_with(|c| c.max_connections = 2).await;
    let healthy = healthy_agent(&ctrl).await;
    let _second = healthy_agent(&ctrl).await;
    // Enrolling needs a connection too: the third computer is turned away at the door.
    let err = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at capacity"), "{err}");
    assert!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"over_capacity\"}")
            .await
            >= 1.0
    );
    still_served(&ctrl, &healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_opens_its_stream_is_closed() {
    let ctrl = TestController::start_with(|c| c.first_frame_timeout_secs = 1).await;
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let client = commune_agent::tls::client_config(&config).unwrap();
    let (_endpoint, conn) = connect(&config, client).await.expect("connect");
    let (code, reason) = closed_with(&conn).await;
    assert_eq!(code, RefusalCode::UnexpectedMessage);
    assert!(reason.contains("no stream opened in time"), "{reason}");
    assert_eq!(
        ctrl.metric("commune_handshakes_rejected_total{reason=\"no_stream\"}")
            .await,
        1.0
    );
}

/// A connected seat's last-seen row is written when it connects, changes state or leaves,
/// not at every flush (at 20,000 seats, rewriting every connected seat every 5 s cost more
/// than all their traffic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_seats_row_is_written_when_it_changes_not_at_every_flush() {
    use commune_protocol::messages::{Heartbeat, SeatState};
    use commune_tests::raw::RawSeat;
    // Flushed by this test only.
    let ctrl = TestController::start_with(|c| c.last_seen_flush_secs = 3600).await;
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let id = config.agent_id.clone();
    let stored = || async {
        let rows = ctrl.controller.store().overview().await.unwrap();
        let row = rows.into_iter().find(|o| o.agent.id == id).unwrap();
        (row.last_seen_at, row.seat_state)
    };
    let tick = || tokio::time::sleep(Duration::from_millis(20));
    let mut raw = RawSeat::connect(&config).await;
    eventually(10, "the seat is connected", || async {
        ctrl.controller.connected_ids().contains(&id)
    })
    .await;
    ctrl.controller.flush_last_seen().await;
    let (connected_at, _) = stored().await;
    assert!(connected_at.is_some(), "written when it connects");

    tick().await;
    let beat = |state| {
        AgentMessage::Heartbeat(Heartbeat {
            seat_state: state,
            session_seconds_left: None,
        })
    };
    raw.send(&beat(Some(SeatState::InSession))).await;
    eventually(10, "the state is known", || async {
        ctrl.controller
            .live_seat_states()
            .get(&id)
            .map(String::as_str)
            == Some("in_session")
    })
    .await;
    ctrl.controller.flush_last_seen().await;
    let (changed_at, state) = stored().await;
    assert_eq!(
        state.as_deref(),
        Some("in_session"),
        "written when its state changes"
    );
    assert!(changed_at > connected_at);

    // The same state again, and plain heartbeats: nothing to write for a minute.
    tick().await;
    raw.send(&beat(Some(SeatState::InSession))).await;
    raw.send(&beat(None)).await;
    tick().await;
    ctrl.controller.flush_last_seen().await;
    assert_eq!(stored().await.0, changed_at, "not rewritten at every flush");

    drop(raw);
    eventually(30, "the seat is gone", || async {
        !ctrl.controller.connected_ids().contains(&id)
    })
    .await;
    ctrl.controller.flush_last_seen().await;
    assert!(stored().await.0 > changed_at, "written when it leaves");
}
