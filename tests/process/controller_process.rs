//! The real `commune` program as a separate process: killed with SIGKILL while agents are
//! connected and sending health, then restarted. Agents come back on their own, and well
//! before their 60 s idle timeout, because the restarted controller knows the persisted QUIC
//! reset key and resets their stale connections on the first packet.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use commune_protocol::messages::{AgentEvent, Alert, AlertKind};
use commune_tests::{enroll_agent, eventually, ChildGuard, TestAgent};

const BIN: &str = env!("CARGO_BIN_EXE_commune");

fn commune(config: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run commune");
    assert!(
        out.status.success(),
        "commune {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn free_port() -> u16 {
    let udp = UdpSocket::bind("127.0.0.1:0").expect("udp");
    let port = udp.local_addr().expect("addr").port();
    // The same number must be free for TCP too (the dashboard).
    drop(udp);
    port
}

fn serve(config: &Path, log: &Path) -> ChildGuard {
    let log = std::fs::File::create(log).expect("log");
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .map(ChildGuard)
        .expect("start commune serve")
}

async fn wait_dashboard(addr: SocketAddr) {
    eventually(30, "the dashboard answers", || async move {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    })
    .await;
}

/// A configured data directory for a `commune serve` process.
struct Setup {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    quic: SocketAddr,
    dashboard: SocketAddr,
}

impl Setup {
    fn new() -> Self {
        commune_tests::init_tracing();
        let dir = tempfile::tempdir().expect("tempdir");
        let quic: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let dashboard: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let config = dir.path().join("commune.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nquic_listen = \"{quic}\"\ndashboard_listen = \"{dashboard}\"\n\
                 health_interval_secs = 1\nlast_seen_flush_secs = 1\n",
                dir.path().join("data")
            ),
        )
        .unwrap();
        commune(
            &config,
            &[
                "ca",
                "init",
                "--organisation",
                "Test city",
                "--name",
                "127.0.0.1",
            ],
        );
        commune(&config, &["site", "add", "mdh-test", "--name", "MDH Test"]);
        Setup {
            dir,
            config,
            quic,
            dashboard,
        }
    }

    async fn serve(&self, n: u32) -> ChildGuard {
        let child = serve(
            &self.config,
            &self.dir.path().join(format!("serve-{n}.log")),
        );
        wait_dashboard(self.dashboard).await;
        child
    }

    async fn agent(&self) -> (TestAgent, tempfile::TempDir) {
        let token = commune(&self.config, &["token", "create", "--site", "mdh-test"]);
        let (config, state) = enroll_agent(self.quic, token.trim()).await.expect("enroll");
        let mut agent = TestAgent::start(config).await;
        agent.wait_connected(10).await;
        (agent, state)
    }

    async fn store(&self) -> commune_controller::Store {
        let db = self.dir.path().join("data").join("commune.db");
        commune_controller::Store::open(db.to_str().unwrap())
            .await
            .expect("open the store")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_killed_during_heavy_ingest_loses_and_doubles_nothing() {
    const AGENTS: usize = 8;
    const EVENTS: u64 = 1500;
    let setup = Setup::new();
    let mut controller = setup.serve(1).await;
    let mut agents = Vec::new();
    for _ in 0..AGENTS {
        agents.push(setup.agent().await);
    }
    let producers: Vec<_> = agents
        .iter()
        .map(|(a, _)| {
            let outbox = a.outbox.clone();
            tokio::spawn(async move {
                for i in 0..EVENTS {
                    let event = AgentEvent::Alert(Alert {
                        kind: AlertKind::DiskFull,
                        message: format!("event {i}"),
                    });
                    outbox
                        .append(commune_controller::now(), event)
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    let store = setup.store().await;
    eventually(120, "ingest under way", || async {
        let mut total = 0;
        for (a, _) in &agents {
            total += store.event_seqs(&a.config.agent_id).await.unwrap().len();
        }
        total >= 1000
    })
    .await;
    controller.kill();
    let mut controller = setup.serve(2).await;
    for p in producers {
        p.await.unwrap();
    }
    for (a, _) in &agents {
        eventually(120, "every event acknowledged", || async {
            a.acked() >= EVENTS
        })
        .await;
        let seqs = store.event_seqs(&a.config.agent_id).await.unwrap();
        assert_eq!(
            seqs,
            (1..=EVENTS).collect::<Vec<_>>(),
            "events missing or doubled"
        );
    }
    controller.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_come_back_after_the_controller_is_killed() {
    let setup = Setup::new();
    let mut controller = setup.serve(1).await;
    let mut agents = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..3 {
        let token = commune(&setup.config, &["token", "create", "--site", "mdh-test"]);
        let (mut agent_config, state) = enroll_agent(setup.quic, token.trim())
            .await
            .expect("enroll");
        // Production timings: only a reset, not the idle timeout, can bring them back fast.
        agent_config.idle_timeout_secs = 60;
        agent_config.keep_alive_secs = 15;
        let mut agent = TestAgent::start(agent_config).await;
        agent.wait_connected(10).await;
        agents.push(agent);
        dirs.push(state);
    }

    controller.kill();
    let mut controller = setup.serve(2).await;

    // Keep-alives every 15 s reach the new process, which resets the stale connections.
    for a in &mut agents {
        eventually(
            30,
            "agent reconnected to the restarted controller",
            || async { a.connections() >= 2 },
        )
        .await;
        a.wait_connected(5).await;
    }
    let listed = commune(&setup.config, &["agent", "list"]);
    for a in &agents {
        assert!(listed.contains(&a.config.agent_id), "{listed}");
    }
    controller.kill();
}
