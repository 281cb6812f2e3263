//! The real `commune-agent` program killed with SIGKILL while it has events the controller
//! never received: after a restart they all arrive, once.

use std::process::{Command, Stdio};

use commune_agent::config::files;
use commune_agent::outbox::Outbox;
use commune_tests::netcut::UdpProxy;
use commune_tests::{enroll_agent, eventually, ChildGuard, TestController};

const BIN: &str = env!("CARGO_BIN_EXE_commune-agent");

fn run_agent(config: &std::path::Path, extra: &[&str], log: &std::path::Path) -> ChildGuard {
    let log = std::fs::File::create(log).expect("log");
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("run")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .map(ChildGuard)
        .expect("start commune-agent")
}

/// The outbox, read-only beside the running agent (WAL lets a reader in without taking the
/// writer's lock).
async fn peek(path: &std::path::Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(std::time::Duration::from_secs(5)),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_with_sigkill_delivers_its_unsent_events_after_restart() {
    let ctrl = TestController::start().await;
    let proxy = UdpProxy::start(ctrl.addr).await.unwrap();
    let (mut config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    config.controller = proxy.addr().to_string();
    let config_path = dir.path().join("agent.toml");
    config.save(&config_path).unwrap();
    let id = config.agent_id.clone();
    let store = ctrl.controller.store();

    let mut agent = run_agent(
        &config_path,
        &["--simulate-sessions-per-minute", "1200"],
        &dir.path().join("run-1.log"),
    );
    eventually(30, "simulated sessions reach the controller", || async {
        store.event_seqs(&id).await.unwrap().len() >= 6
    })
    .await;

    // Cut the network; visitors go on, their events pile up in the outbox.
    proxy.cut();
    let outbox_path = config.state_file(files::OUTBOX);
    let peek = peek(&outbox_path).await;
    eventually(30, "events waiting in the outbox", || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
            .fetch_one(&peek)
            .await
            .unwrap()
            >= 6
    })
    .await;
    peek.close().await;
    agent.kill();

    let outbox = Outbox::open(&outbox_path, config.outbox_capacity)
        .await
        .unwrap();
    let last = outbox.last_seq().await.unwrap();
    let unsent = outbox.len().await.unwrap();
    drop(outbox);
    let stored = store.event_seqs(&id).await.unwrap().len() as u64;
    assert!(
        unsent > 0 && stored < last,
        "the kill must leave unsent events ({unsent} pending, {stored}/{last} stored)"
    );

    proxy.restore();
    let mut agent = run_agent(&config_path, &[], &dir.path().join("run-2.log"));
    eventually(60, "the unsent events arrive", || async {
        store.acked_seq(&id).await.unwrap() >= last
    })
    .await;
    assert_eq!(
        store.event_seqs(&id).await.unwrap(),
        (1..=last).collect::<Vec<_>>()
    );
    let sessions = store
        .sessions(
            commune_protocol::UtcMillis(0),
            commune_agent::now().plus_secs(60),
        )
        .await
        .unwrap();
    assert!(
        !sessions.is_empty(),
        "the simulated sessions are in the session log"
    );
    agent.kill();
}

/// A computer enrolled again with `enroll --force` keeps its identity (proved with its
/// previous certificate and key) and its undelivered events; with `--new-identity` it
/// starts a fresh outbox: the new identity's events are numbered from 1 and delivered,
/// instead of continuing the old identity's numbers, which the controller would store but
/// never acknowledge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolling_again_keeps_the_identity_or_starts_a_fresh_outbox_whose_events_are_delivered() {
    let ctrl = TestController::start().await;
    let (config, dir) = enroll_agent(ctrl.addr, &ctrl.token().await)
        .await
        .expect("enroll");
    let config_path = dir.path().join("agent.toml");
    config.save(&config_path).unwrap();
    // Events of the first identity that never left the computer.
    let outbox_path = config.state_file(files::OUTBOX);
    let outbox = Outbox::open(&outbox_path, config.outbox_capacity)
        .await
        .unwrap();
    for _ in 0..5 {
        outbox
            .emit(
                commune_agent::now(),
                commune_protocol::messages::AgentEvent::WarningShown(
                    commune_protocol::messages::WarningShown {
                        session_id: "s".into(),
                        minutes_left: 5,
                    },
                ),
            )
            .await
            .unwrap();
    }
    drop(outbox);

    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .args(["enroll", "--force", "--platform", "none", "--controller"])
        .arg(ctrl.addr.to_string())
        .arg("--state-dir")
        .arg(&config.state_dir)
        .env("COMMUNE_ENROLL_TOKEN", ctrl.token().await)
        .output()
        .expect("enroll again");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = commune_agent::config::AgentConfig::load(&config_path).unwrap();
    assert_eq!(kept.agent_id, config.agent_id, "the same identity");
    let outbox = Outbox::open(&outbox_path, config.outbox_capacity)
        .await
        .unwrap();
    assert_eq!(
        outbox.len().await.unwrap(),
        5,
        "its undelivered events kept"
    );
    drop(outbox);

    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .args([
            "enroll",
            "--force",
            "--new-identity",
            "--platform",
            "none",
            "--controller",
        ])
        .arg(ctrl.addr.to_string())
        .arg("--state-dir")
        .arg(&config.state_dir)
        .env("COMMUNE_ENROLL_TOKEN", ctrl.token().await)
        .output()
        .expect("enroll again");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("5 events of the previous enrollment"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = commune_agent::config::AgentConfig::load(&config_path).unwrap();
    assert_ne!(again.agent_id, config.agent_id, "a new identity");

    let id = again.agent_id.clone();
    let _agent = run_agent(
        &config_path,
        &["--simulate-sessions-per-minute", "1200"],
        &dir.path().join("run.log"),
    );
    let store = ctrl.controller.store();
    eventually(
        30,
        "the new identity's events arrive from seq 1",
        || async {
            let seqs = store.event_seqs(&id).await.unwrap();
            seqs.len() >= 4 && seqs[0] == 1
        },
    )
    .await;
    let outbox_path = again.state_file(files::OUTBOX);
    let peek = peek(&outbox_path).await;
    eventually(30, "and are acknowledged (the outbox drains)", || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
            .fetch_one(&peek)
            .await
            .unwrap()
            < 4
    })
    .await;
}

/// `commune-agent selftest` with `--config`, as the person commissioning the computer runs
/// it (always `--dry-run` here: the tests must not make accounts on this machine).
fn selftest(config: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["selftest", "--dry-run"])
        .env_remove("COMMUNE_AGENT_CONFIG")
        // The refusal as a person sees it, without the error's backtrace.
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run commune-agent selftest")
}

/// Before enrollment, the configuration file has no agent id; the self-test still checks
/// its settings (another uid range, another home base), not the defaults.
#[test]
fn selftest_checks_the_configuration_of_a_computer_not_enrolled_yet() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    let state = dir.path().join("state");
    std::fs::write(
        &config,
        format!(
            "state_dir = {:?}\n\n[sessions]\nplatform = \"linux-direct\"\n\n\
             [sessions.linux]\nuid_first = 62000\nuid_last = 62009\n\
             home_base = \"/home/commune-essai\"\n",
            state.display().to_string()
        ),
    )
    .unwrap();
    let out = selftest(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains(&config.display().to_string()) && first.contains("not enrolled yet"),
        "{stdout}"
    );
    assert!(first.contains("uids 62000–62009"), "{stdout}");
    assert!(
        first.contains("homes under /home/commune-essai"),
        "{stdout}"
    );
    assert!(
        first.contains(&format!("state in {}", state.display())),
        "{stdout}"
    );
    assert!(stdout.contains("uid_first = 62000"), "{stdout}");
}

/// A configuration file that is missing, unreadable or invalid, or that runs no
/// linux-direct sessions, is refused in one sentence that names it: never replaced by the
/// defaults.
#[test]
fn selftest_refuses_an_unusable_configuration_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("agent.toml");
    std::fs::write(
        &bad,
        "[sessions]\nplatform = \"linux-direct\"\n\n[sessions.linux]\nuid_first = \"soixante\"\n",
    )
    .unwrap();
    let sandbox = dir.path().join("sandbox.toml");
    std::fs::write(&sandbox, "[sessions]\nplatform = \"sandbox\"\n").unwrap();
    let missing = dir.path().join("absent.toml");
    for (config, why) in [
        (&bad, "line 5"),
        (&missing, "No such file"),
        (&sandbox, "sandbox platform"),
    ] {
        let out = selftest(config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", config.display());
        assert!(
            out.stdout.is_empty(),
            "nothing checked: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one sentence: {stderr}");
        assert!(
            lines[0].contains(&config.display().to_string()) && lines[0].contains(why),
            "{stderr}"
        );
    }
}
