//! Nothing lost, nothing counted twice: events through real network cuts, commands to
//! offline agents, and commands across controllers sharing PostgreSQL.

use commune_agent::link::LinkState;
use commune_controller::store::CommandStatus;
use commune_protocol::messages::CommandAction;
use commune_protocol::UtcMillis;
use commune_tests::netcut::UdpProxy;
use commune_tests::*;

async fn enrolled(ctrl: &TestController) -> (commune_agent::AgentConfig, tempfile::TempDir) {
    enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll")
}

/// The outcome a command's agent reported, if any.
async fn outcome(store: &commune_controller::Store, id: &str) -> Option<String> {
    store.command(id).await.unwrap().unwrap().outcome
}

async fn exactly(ctrl: &TestController, agent: &TestAgent, last: u64) {
    let store = ctrl.controller.store();
    let id = agent.config.agent_id.clone();
    eventually(60, &format!("{id}: every event acknowledged"), || async {
        agent.acked() >= last
    })
    .await;
    let seqs = store.event_seqs(&id).await.unwrap();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "{id}: events missing or doubled"
    );
    assert!(
        agent.outbox.is_empty().await.unwrap(),
        "{id}: acknowledged events stay in the outbox"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_agents_lose_nothing_through_a_network_cut() {
    const N: usize = 50;
    let ctrl = TestController::start().await;
    let proxy = UdpProxy::start(ctrl.addr).await.unwrap();
    let mut agents = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..N {
        let (mut config, dir) = enrolled(&ctrl).await;
        config.controller = proxy.addr().to_string();
        let mut agent = TestAgent::start(config).await;
        agent.wait_connected(20).await;
        agents.push(agent);
        dirs.push(dir);
    }
    for a in &agents {
        a.produce(10).await;
    }
    // Pull the cable: datagrams vanish both ways, nobody is told.
    proxy.cut();
    for a in &agents {
        a.produce(15).await;
    }
    // Sessions go on while the links time out on their own.
    for a in &mut agents {
        a.wait_for(30, "cut off", |s| {
            matches!(s, LinkState::Disconnected { .. })
        })
        .await;
    }
    for a in &agents {
        a.produce(15).await;
    }
    assert!(proxy.dropped() > 0);
    // Each seat, having sent into the void, gave its connection up when nothing came back
    // (agent/src/link.rs `Silence`), not at the idle timeout.
    for a in &agents {
        assert!(
            a.stats
                .silent_controllers
                .load(std::sync::atomic::Ordering::Relaxed)
                >= 1,
            "agent {}: left by silence; state {:?}",
            a.config.agent_id,
            *a.state.borrow()
        );
    }
    proxy.restore();
    for a in &agents {
        exactly(&ctrl, a, 40).await;
    }
    // 20 whole sessions per seat in the session log: none missing, none twice.
    let sessions = ctrl
        .controller
        .store()
        .sessions(UtcMillis(0), commune_controller::now().plus_secs(60))
        .await
        .unwrap();
    assert_eq!(sessions.len(), N * 20);
    assert!(sessions
        .iter()
        .all(|s| s.duration_secs == Some(2700) && s.slot_kind == "free"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_for_an_offline_agent_waits_and_runs_once() {
    let ctrl = TestController::start().await;
    let (config, _dir) = enrolled(&ctrl).await;
    let command = ctrl
        .controller
        .send_command(
            &config.agent_id,
            CommandAction::Lock {
                message: "Maintenance".into(),
            },
            "staff:test",
        )
        .await
        .unwrap();
    assert_eq!(
        command.status(commune_controller::now()),
        CommandStatus::Pending
    );

    let mut agent = TestAgent::start(config.clone()).await;
    agent.wait_connected(10).await;
    let store = ctrl.controller.store();
    eventually(10, "the command's result stored", || async {
        outcome(store, &command.id).await.is_some()
    })
    .await;
    let done = store.command(&command.id).await.unwrap().unwrap();
    assert_eq!(
        done.status(commune_controller::now()),
        CommandStatus::Finished("done".into())
    );
    assert!(done.delivered_at.is_some());
    assert_eq!(agent.seat.locked_message().as_deref(), Some("Maintenance"));
    // The seat reports itself closed; the fleet view shows it.
    eventually(10, "the seat shows as closed", || async {
        ctrl.controller.fleet().await.unwrap()[0]
            .overview
            .seat_state
            .as_deref()
            == Some("closed")
    })
    .await;

    // Reconnecting does not run it again: the result is in, nothing is pending.
    agent.stop().await;
    let mut again = TestAgent::start(config).await;
    again.wait_connected(10).await;
    assert!(store
        .pending_commands(&again.config.agent_id, commune_controller::now())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        again
            .stats
            .commands_received
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );

    // A live agent gets a command at once.
    let unlock = ctrl
        .controller
        .send_command(&again.config.agent_id, CommandAction::Unlock, "staff:test")
        .await
        .unwrap();
    eventually(10, "unlock executed", || async {
        outcome(store, &unlock.id).await.as_deref() == Some("done")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_sent_through_one_controller_reaches_an_agent_on_another() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let first = TestController::start_with(|c| {
        c.database_url = commune_controller::config::DatabaseUrl(db.url.clone())
    })
    .await;
    let second = first.sibling().await;
    let (config, _dir) = enrolled(&first).await;
    let mut agent = TestAgent::start(commune_agent::AgentConfig {
        controller: second.addr.to_string(),
        ..config
    })
    .await;
    agent.wait_connected(10).await;
    assert!(second
        .controller
        .connected_ids()
        .contains(&agent.config.agent_id));
    assert!(first.controller.connected_ids().is_empty());

    let command = first
        .controller
        .send_command(
            &agent.config.agent_id,
            CommandAction::Message {
                text: "Bonjour".into(),
            },
            "staff:test",
        )
        .await
        .unwrap();
    let store = first.controller.store();
    eventually(10, "executed through the other controller", || async {
        outcome(store, &command.id).await.as_deref() == Some("done")
    })
    .await;
    assert_eq!(agent.seat.last_message().as_deref(), Some("Bonjour"));
    // Its events reach the shared store too.
    let last = agent.produce(5).await;
    exactly(&second, &agent, last).await;
}
