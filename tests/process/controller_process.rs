//! The real `commune` program as a separate process: killed with SIGKILL while agents are
//! connected and sending health, then restarted. Agents come back on their own, and well
//! before their 60 s idle timeout, because the restarted controller knows the persisted QUIC
//! reset key and resets their stale connections on the first packet.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use commune_tests::{enroll_agent, eventually, TestAgent};

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

fn serve(config: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log");
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start commune serve")
}

async fn wait_dashboard(addr: SocketAddr) {
    eventually(30, "the dashboard answers", || async move {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_come_back_after_the_controller_is_killed() {
    commune_tests::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let quic: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dashboard: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.path().join("commune.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nquic_listen = \"{quic}\"\ndashboard_listen = \"{dashboard}\"\nhealth_interval_secs = 1\nlast_seen_flush_secs = 1\n",
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

    let mut controller = serve(&config, &dir.path().join("serve-1.log"));
    wait_dashboard(dashboard).await;

    let mut agents = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..3 {
        let token = commune(&config, &["token", "create", "--site", "mdh-test"]);
        let (mut agent_config, state) = enroll_agent(quic, token.trim()).await.expect("enroll");
        // Production timings: only a reset, not the idle timeout, can bring them back fast.
        agent_config.idle_timeout_secs = 60;
        agent_config.keep_alive_secs = 15;
        let mut agent = TestAgent::start(agent_config).await;
        agent.wait_connected(10).await;
        agents.push(agent);
        dirs.push(state);
    }

    controller.kill().expect("SIGKILL");
    controller.wait().expect("reap");
    let mut controller = serve(&config, &dir.path().join("serve-2.log"));
    wait_dashboard(dashboard).await;

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
    let listed = commune(&config, &["agent", "list"]);
    for a in &agents {
        assert!(listed.contains(&a.config.agent_id), "{listed}");
    }
    controller.kill().ok();
    controller.wait().ok();
}
