//! Visitors' sessions end to end on the sandbox platform (real files and processes, no
//! accounts, no root): staff commands over real QUIC, the local control socket, documents
//! counted at the end, and wipe reports that reach the controller after a network cut.
//! The same flows with real accounts run as root in `agent/tests/wipe_root.rs`.

use commune_agent::config::PlatformKind;
use commune_agent::ctl::{CtlRequest, CtlResponse};
use commune_agent::manager::ManagerHandle;
use commune_protocol::messages::{CommandAction, EndReason, SeatState, SlotKind};
use commune_protocol::UtcMillis;
use commune_tests::netcut::UdpProxy;
use commune_tests::{enroll_agent, eventually, TestAgent, TestController};

async fn sandbox_agent(ctrl: &TestController) -> (TestAgent, tempfile::TempDir) {
    let (mut config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let manager = agent.sessions.clone().expect("a session manager");
    manager.wait_for(|s| s.state == SeatState::Ready).await;
    (agent, dir)
}

async fn outcome(ctrl: &TestController, id: &str) -> (String, String) {
    let store = ctrl.controller.store();
    eventually(
        20,
        "the command's result reaches the controller",
        || async {
            store
                .command(id)
                .await
                .unwrap()
                .is_some_and(|c| c.outcome.is_some())
        },
    )
    .await;
    let c = store.command(id).await.unwrap().unwrap();
    (c.outcome.unwrap(), c.detail.unwrap_or_default())
}

fn manager(agent: &TestAgent) -> ManagerHandle {
    agent.sessions.clone().expect("session manager")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_start_and_end_a_session_over_quic_and_the_wipe_is_reported() {
    let ctrl = TestController::start().await;
    let (agent, _dir) = sandbox_agent(&ctrl).await;
    let id = agent.config.agent_id.clone();
    let sessions = manager(&agent);

    let start = ctrl
        .controller
        .send_command(
            &id,
            CommandAction::StartSession {
                slot_kind: SlotKind::Supervised,
            },
            "mediator@test",
        )
        .await
        .unwrap();
    let (result, detail) = outcome(&ctrl, &start.id).await;
    assert_eq!(result, "done", "{detail}");
    let status = sessions.status();
    assert_eq!(status.state, SeatState::InSession);
    let session = status.session.expect("a session");
    assert_eq!(session.kind, SlotKind::Supervised);

    // The visitor downloads two documents and scans one; a partial download does not count.
    let home = session.home.clone();
    std::fs::write(home.join("Téléchargements/avis-impot.pdf"), b"%PDF").unwrap();
    std::fs::write(home.join("Téléchargements/attestation.pdf"), b"%PDF").unwrap();
    std::fs::write(home.join("Téléchargements/gros.zip.part"), b"..").unwrap();
    std::fs::write(home.join("Numérisations/carte.jpg"), b"jpg").unwrap();
    eventually(10, "the end screen lists the documents", || async {
        sessions.documents().await.len() == 3
    })
    .await;

    let end = ctrl
        .controller
        .send_command(
            &id,
            CommandAction::EndSession {
                reason: "fin de la permanence".into(),
            },
            "mediator@test",
        )
        .await
        .unwrap();
    let (result, detail) = outcome(&ctrl, &end.id).await;
    assert_eq!(result, "done", "{detail}");
    assert!(!home.exists(), "the home is gone");
    let report = sessions.last_wipe_report().expect("a wipe report");
    assert!(report.verified);
    assert_eq!(report.session_id, session.session_id);

    let store = ctrl.controller.store();
    eventually(
        20,
        "the session's end and wipe report are stored",
        || async {
            let ended = store
                .sessions(UtcMillis(0), UtcMillis(i64::MAX))
                .await
                .unwrap()
                .into_iter()
                .any(|s| {
                    s.session_id == session.session_id
                        && s.end_reason.as_deref() == Some("staff")
                        && s.slot_kind == "supervised"
                });
            let kinds = store.event_kinds(&id).await.unwrap();
            ended && kinds.iter().any(|k| k == "wipe_report")
        },
    )
    .await;
    // Prometheus sees the wipe, the end and the seat's state.
    assert!(
        ctrl.metric("commune_wipes_total{result=\"verified\"}")
            .await
            >= 1.0
    );
    assert!(
        ctrl.metric("commune_sessions_ended_total{reason=\"staff\"}")
            .await
            >= 1.0
    );
    eventually(10, "the seat counts as ready again", || async {
        ctrl.metric("commune_seats{state=\"ready\"}").await >= 1.0
    })
    .await;
    // Only the count of documents left the computer.
    let ended = store.event_bodies(&id).await.unwrap().join("\n");
    assert!(ended.contains("\"documents_erased\":3"), "{ended}");
    assert!(
        !ended.contains("avis-impot"),
        "a file name left the computer"
    );

    // Nothing to end now: refused with a reason.
    let again = ctrl
        .controller
        .send_command(
            &id,
            CommandAction::EndSession { reason: "x".into() },
            "mediator@test",
        )
        .await
        .unwrap();
    let (result, detail) = outcome(&ctrl, &again.id).await;
    assert_eq!(result, "refused");
    assert!(detail.contains("no session"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_socket_starts_and_ends_sessions() {
    let ctrl = TestController::start().await;
    let (agent, dir) = sandbox_agent(&ctrl).await;
    let sessions = manager(&agent);
    let socket = dir.path().join("ctl.sock");
    let listener = commune_agent::ctl::bind(&socket).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(commune_agent::ctl::serve(
        listener,
        sessions.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let started = commune_agent::ctl::request(
        &socket,
        &CtlRequest::StartSession {
            kind: SlotKind::Free,
            ticket: None,
            pin: None,
        },
    )
    .await
    .unwrap();
    let CtlResponse::Started(info) = started else {
        panic!("{started:?}")
    };
    assert!(info.home.exists());
    let left = info.seconds_left.expect("a free session has a limit");
    assert!((45 * 60 - 10..=45 * 60).contains(&left), "{left}");
    let busy = commune_agent::ctl::request(
        &socket,
        &CtlRequest::StartSession {
            kind: SlotKind::Free,
            ticket: None,
            pin: None,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(&busy, CtlResponse::Error { message } if message.contains("already running")),
        "{busy:?}"
    );
    let CtlResponse::Status(status) = commune_agent::ctl::request(&socket, &CtlRequest::Status)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(status.state, SeatState::InSession);
    let ended = commune_agent::ctl::request(&socket, &CtlRequest::EndSession)
        .await
        .unwrap();
    let CtlResponse::WipeReport(report) = ended else {
        panic!("{ended:?}")
    };
    assert!(report.verified);
    assert_eq!(report.session_id, info.session_id);
    let last = commune_agent::ctl::request(&socket, &CtlRequest::LastWipeReport)
        .await
        .unwrap();
    assert_eq!(last, CtlResponse::WipeReport(report));
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_offline_reaches_the_controller_once_it_is_back() {
    let ctrl = TestController::start().await;
    let proxy = UdpProxy::start(ctrl.addr).await.unwrap();
    let (mut config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.controller = proxy.addr().to_string();
    config.sessions.platform = PlatformKind::Sandbox;
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(20).await;
    let id = agent.config.agent_id.clone();
    let sessions = manager(&agent);
    sessions.wait_for(|s| s.state == SeatState::Ready).await;

    proxy.cut();
    let info = sessions.start_session(SlotKind::Free, None).await.unwrap();
    let report = sessions.end_session(EndReason::Visitor).await.unwrap();
    assert!(
        report.verified,
        "the seat wipes with no controller reachable"
    );
    let store = ctrl.controller.store();
    assert!(!store
        .event_kinds(&id)
        .await
        .unwrap()
        .iter()
        .any(|k| k == "wipe_report"));

    proxy.restore();
    eventually(60, "the wipe report arrives after the cut", || async {
        let kinds = store.event_kinds(&id).await.unwrap();
        kinds.iter().filter(|k| *k == "wipe_report").count() == 1
            && store
                .sessions(UtcMillis(0), UtcMillis(i64::MAX))
                .await
                .unwrap()
                .iter()
                .any(|s| s.session_id == info.session_id && s.ended_at.is_some())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_open_a_supervised_slot_on_two_seats_and_both_switch() {
    let ctrl = TestController::start().await;
    let (a, _da) = sandbox_agent(&ctrl).await;
    let (b, _db) = sandbox_agent(&ctrl).await;
    let (seat_a, seat_b) = (manager(&a), manager(&b));
    // A free-access visitor sits at seat A.
    let visitor = seat_a.start_session(SlotKind::Free, None).await.unwrap();
    assert!(visitor.seconds_left.unwrap() > 40 * 60);

    let started = std::time::Instant::now();
    let seats = vec![a.config.agent_id.clone(), b.config.agent_id.clone()];
    let until = UtcMillis(commune_controller::now().0 + 2 * 3600 * 1000);
    let slot = ctrl
        .controller
        .open_supervised_slot(
            commune_tests::SITE,
            &seats,
            until,
            Some("Écrivain public".into()),
            Some("Mme Martin".into()),
        )
        .await
        .unwrap();
    seat_b.wait_for(|s| s.state == SeatState::Supervised).await;
    // The visitor at A is not cut off: five minutes to save their documents.
    seat_a
        .wait_for(|s| {
            s.session
                .as_ref()
                .is_some_and(|v| v.seconds_left.is_some_and(|l| l <= 5 * 60))
        })
        .await;
    println!(
        "both seats switched {} ms after the slot was opened",
        started.elapsed().as_millis()
    );

    // At B, a visitor alone is turned away, and so is a wrong mediator PIN; the right PIN
    // opens a supervised session at the computer (checked offline against the hash).
    let refused = seat_b
        .start_session(SlotKind::Free, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("mediator"), "{refused}");
    ctrl.controller
        .set_mediator_pin(commune_tests::SITE, "4711")
        .await
        .unwrap();
    let mut wrong = String::new();
    for _ in 0..100 {
        // Until the schedule with the PIN arrives, every PIN is wrong.
        match seat_b.start_session_with_pin("4711".into()).await {
            Ok(_) => break,
            Err(e) => wrong = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seat_b.status().state, SeatState::InSession, "{wrong}");
    seat_b
        .end_session(commune_protocol::messages::EndReason::Visitor)
        .await
        .unwrap();
    let refused = seat_b
        .start_session_with_pin("0000".into())
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "wrong mediator PIN");

    // The mediator may also open it from the dashboard (a command over QUIC).
    let start = ctrl
        .controller
        .send_command(
            &b.config.agent_id,
            CommandAction::StartSession {
                slot_kind: SlotKind::Supervised,
            },
            "mediator@test",
        )
        .await
        .unwrap();
    let (result, detail) = outcome(&ctrl, &start.id).await;
    assert_eq!(result, "done", "{detail}");
    assert_eq!(
        seat_b.status().session.map(|s| s.kind),
        Some(SlotKind::Supervised)
    );

    // Staff close the slot: the visitor at A gets their full time back, B's mediator
    // session goes on (a mediator may help during free access), B's next visitor is free.
    ctrl.controller
        .set_slot_end(commune_tests::SITE, &slot, commune_controller::now())
        .await
        .unwrap();
    seat_a
        .wait_for(|s| {
            s.session
                .as_ref()
                .is_some_and(|v| v.seconds_left.is_some_and(|l| l > 30 * 60))
        })
        .await;
    assert_eq!(seat_b.status().state, SeatState::InSession);
}
