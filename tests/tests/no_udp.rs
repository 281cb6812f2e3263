//! A seat on a network that lets no UDP through, end to end in a network namespace of the
//! test's own (only loopback; no address outside this machine): the real agent link falls
//! back from QUIC to TLS over TCP when UDP is dropped (nftables), delivers every event once
//! across the switch, goes back to QUIC when UDP passes again, and, with direct TCP to the
//! controller dropped too, comes up through a real HTTP proxy (Debian's tinyproxy) named by
//! the usual `https_proxy` environment.

use std::process::{Command, Stdio};
use std::time::Duration;

use commune_agent::outbox::Outbox;
use commune_tests::namespace::{sh, test_in_network_namespace};
use commune_tests::{
    agent_base, enroll_agent, eventually, init_tracing, ChildGuard, TestAgent, TestController,
};

const TEST: &str = "a_seat_without_udp_comes_up_over_tcp_then_through_a_proxy_losing_nothing";

fn on_tcp(agent: &TestAgent) -> bool {
    agent
        .stats
        .transport_tcp
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// An event every 50 ms for `n` events: visitors keep using the seat meanwhile.
fn keep_producing(outbox: Outbox, n: u32) -> tokio::task::JoinHandle<()> {
    commune_tests::keep_producing(outbox, n, Duration::from_millis(50))
}

async fn every_event_once(tc: &TestController, agent: &TestAgent) {
    let last = agent.outbox.last_seq().await.unwrap();
    eventually(30, "every event acknowledged", || async {
        agent.acked() >= last
    })
    .await;
    assert_eq!(
        tc.controller
            .store()
            .event_seqs(&agent.config.agent_id)
            .await
            .unwrap(),
        (1..=last).collect::<Vec<_>>(),
        "events lost or doubled across a transport switch"
    );
}

#[test]
fn a_seat_without_udp_comes_up_over_tcp_then_through_a_proxy_losing_nothing() {
    if !test_in_network_namespace(TEST) {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(body());
}

async fn body() {
    init_tracing();
    let tc = TestController::start().await;
    let tcp = tc
        .controller
        .tcp_address()
        .expect("the TLS-over-TCP listener");
    let (config, dir) = enroll_agent(tc.addr, &tc.token().await).await.unwrap();
    let seat = commune_agent::AgentConfig {
        tcp_port: tcp.port(),
        quic_timeout_secs: 2,
        quic_retry_secs: 4,
        ..config
    };

    // UDP passes: QUIC.
    let mut agent = TestAgent::start(seat.clone()).await;
    agent.wait_connected(10).await;
    assert!(!on_tcp(&agent), "QUIC first when UDP passes");
    agent.produce(10).await;

    // Every UDP packet dropped, under load: the link moves to TLS over TCP.
    let producing = keep_producing(agent.outbox.clone(), 100);
    sh("nft add table inet commune_test
        nft add chain inet commune_test out '{ type filter hook output priority 0; }'
        nft add rule inet commune_test out meta l4proto udp drop");
    let cut = std::time::Instant::now();
    eventually(40, "the seat back over TLS on TCP", || async {
        on_tcp(&agent)
            && tc
                .controller
                .connected_ids()
                .contains(&agent.config.agent_id)
    })
    .await;
    eprintln!("over TCP {:?} after UDP was dropped", cut.elapsed());
    producing.await.unwrap();
    every_event_once(&tc, &agent).await;

    // A new computer on this network enrolls over TCP too.
    let newcomer = tempfile::tempdir().unwrap();
    let enrolled = commune_agent::enroll::enroll(commune_agent::enroll::EnrollOptions {
        controller: tc.addr.to_string(),
        token: tc.token().await,
        config_path: newcomer.path().join("agent.toml"),
        state_dir: newcomer.path().join("state"),
        asset_tag: None,
        funding_line: None,
        hostname: Some("no-udp-pc".into()),
        base: commune_agent::AgentConfig {
            tcp_port: tcp.port(),
            quic_timeout_secs: 2,
            ..agent_base()
        },
    })
    .await
    .expect("enrollment over TLS on TCP");
    assert!(tc
        .controller
        .store()
        .agent(&enrolled.agent_id)
        .await
        .unwrap()
        .is_some());

    // UDP passes again: QUIC is tried now and then, and taken back.
    sh("nft flush chain inet commune_test out");
    let producing = keep_producing(agent.outbox.clone(), 40);
    eventually(30, "the seat back on QUIC", || async {
        !on_tcp(&agent)
            && tc
                .controller
                .connected_ids()
                .contains(&agent.config.agent_id)
    })
    .await;
    producing.await.unwrap();
    every_event_once(&tc, &agent).await;
    agent.stop().await;
    drop(agent);

    // No UDP, and direct TCP to the controller dropped for everyone but the proxy's user:
    // the seat comes up through the proxy named by `https_proxy`.
    let proxy_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let proxy_conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &proxy_conf,
        format!(
            "User nobody\nGroup nogroup\nPort {proxy_port}\nListen 127.0.0.1\nTimeout 600\n\
             Allow 127.0.0.1\nConnectPort {}\nMaxClients 20\nLogLevel Info\n",
            tcp.port()
        ),
    )
    .unwrap();
    let mut proxy = ChildGuard(
        Command::new("tinyproxy")
            .args(["-d", "-c"])
            .arg(&proxy_conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy (Debian's tinyproxy-bin) must be installed"),
    );
    eventually(10, "the proxy listening", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", proxy_port))
            .await
            .is_ok()
    })
    .await;
    sh(&format!(
        "nft add rule inet commune_test out meta l4proto udp drop
         nft add rule inet commune_test out tcp dport {} meta skuid != nobody drop",
        tcp.port()
    ));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(tcp))
            .await
            .is_err(),
        "direct TCP to the controller must be dropped now"
    );
    // SAFETY (edition 2021: safe): this process runs this one test, in its own namespace.
    std::env::set_var("https_proxy", format!("http://127.0.0.1:{proxy_port}"));
    let mut agent = TestAgent::start(seat.clone()).await;
    agent.wait_connected(30).await;
    assert!(on_tcp(&agent), "through the proxy, over TCP");
    let producing = keep_producing(agent.outbox.clone(), 20);
    producing.await.unwrap();
    every_event_once(&tc, &agent).await;
    std::env::remove_var("https_proxy");
    agent.stop().await;
    proxy.kill();
}
