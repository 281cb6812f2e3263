//! The README's run command as a newcomer runs it: from a clean clone of this repository,
//! `scripts/demo` builds both programs in release mode and starts the controller, the
//! dashboard and 30 real agents at three sites. The test waits for the dashboard, logs in
//! with the printed staff login, sees at least 30 seats online on the fleet page, and sees
//! sessions being created and wiped (the controller's counters of verified wipes grow, a
//! seat is in session), and a site's report over the year of history the demo wrote on its
//! first start shows exactly what it wrote. Then Ctrl-C stops everything: no agent process
//! is left.
//!
//! The release build is the slow part (minutes on a cold machine); it goes to
//! `target/newcomer/` so that later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use commune_tests::web::{http, login};
use tokio::io::{AsyncBufReadExt, BufReader};

const LOGIN: &str = "admin";
const PASSWORD: &str = "commune-demo-2026";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A clean clone of the repository's committed state (what a newcomer downloads).
fn clean_clone(into: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let clone = into.join("commune");
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&repo)
        .arg(&clone)
        .status()
        .expect("git (apt-get install git)");
    assert!(status.success(), "git clone of {} failed", repo.display());
    clone
}

/// The value of a counter line of `/metrics` (0 when absent).
fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_demo_from_a_clean_clone_runs_30_seats_with_sessions_wiped() {
    let work = tempfile::tempdir().unwrap();
    let clone = clean_clone(work.path());
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/newcomer");
    let dashboard: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let quic = format!("127.0.0.1:{}", free_udp_port());
    let screens = free_port();

    // The README's command, with free ports (this machine may run other things) and the
    // accelerated day (sessions come and go quickly).
    let mut demo = tokio::process::Command::new(clone.join("scripts/demo"))
        .args(["--quic", &quic, "--dashboard", &dashboard.to_string()])
        .args(["--screens-port", &screens.to_string(), "--speed", "60"])
        .args(["--visitors-per-minute", "3"])
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .expect("run scripts/demo");
    let pid = demo.id().expect("the demo's pid") as i32;
    let mut out = BufReader::new(demo.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(demo.stderr.take().unwrap()).lines();
    let (printed_tx, mut printed) = tokio::sync::mpsc::unbounded_channel::<String>();
    let tx = printed_tx.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = out.next_line().await {
            let _ = tx.send(line);
        }
    });
    tokio::spawn(async move {
        while let Ok(Some(line)) = err.next_line().await {
            // cargo's progress and the controller's log: kept only for a failure.
            let _ = printed_tx.send(format!("  | {line}"));
        }
    });

    // The build, then the banner with the dashboard and the login.
    let mut seen = Vec::new();
    let started = Instant::now();
    let banner = loop {
        let line = tokio::time::timeout(Duration::from_secs(3600), printed.recv())
            .await
            .ok()
            .flatten();
        let Some(line) = line else {
            panic!(
                "scripts/demo ended or hung before its banner ({:?}):\n{}",
                started.elapsed(),
                seen.join("\n")
            );
        };
        if !line.starts_with("  | ") {
            println!("demo: {line}");
        }
        seen.push(line.clone());
        if line.starts_with("Press Ctrl-C") {
            break seen.join("\n");
        }
    };
    tokio::spawn(async move { while printed.recv().await.is_some() {} });
    assert!(banner.contains(&format!("http://{dashboard}")), "{banner}");
    assert!(
        banner.contains(&format!("Login:       {LOGIN} / {PASSWORD}")),
        "{banner}"
    );
    assert!(banner.contains("30 agents at 3 sites"), "{banner}");

    // Log in as the banner says, then watch the fleet page and the counters.
    let cookie = login(dashboard, LOGIN, PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(240);
    let (mut online, mut wiped, mut in_session_seen) = (0, 0.0, false);
    while Instant::now() < deadline {
        let c = cookie.clone();
        let (fleet, metrics) = tokio::task::spawn_blocking(move || {
            (
                http(dashboard, "GET", "/", &[("Cookie", &c)], ""),
                http(dashboard, "GET", "/metrics", &[], ""),
            )
        })
        .await
        .unwrap();
        assert_eq!(fleet.status, 200, "the fleet page, logged in");
        online = fleet.body.matches("En ligne").count();
        wiped = metric(&metrics.body, "commune_wipes_total{result=\"verified\"}");
        in_session_seen |= metric(&metrics.body, "commune_seats{state=\"in_session\"}") >= 1.0;
        if online >= 30 && wiped >= 3.0 && in_session_seen {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(online >= 30, "{online} seats online on the fleet page");
    assert!(in_session_seen, "no seat was ever in session");
    assert!(wiped >= 3.0, "{wiped} verified wipes");

    // The demo wrote a year of history on its first start: the first report of a site
    // shows it, exactly as the generator wrote it (the live sessions are today's).
    let history: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(clone.join("demo-data/history.json")).expect("history.json"),
    )
    .expect("history.json is JSON");
    let site = &history["sites"]["mdh-abbaye"];
    let (sessions, supervised) = (
        site["sessions"].as_u64().unwrap(),
        site["supervised"].as_u64().unwrap(),
    );
    assert!(sessions > 1_000, "a year of sessions: {site}");
    let path = format!(
        "/sites/mdh-abbaye/rapports?du={}&au={}",
        history["first_day"].as_str().unwrap(),
        history["last_day"].as_str().unwrap()
    );
    let c = cookie.clone();
    let report =
        tokio::task::spawn_blocking(move || http(dashboard, "GET", &path, &[("Cookie", &c)], ""))
            .await
            .unwrap();
    let sentence = format!(
        "{sessions} sessions ({} en accès libre, {supervised} accompagnées)",
        sessions - supervised
    );
    assert!(report.body.contains(&sentence), "{sentence} in the report");

    // Logs that are not on a terminal carry no colour codes: the controller's (a pipe here)
    // and every agent's log file.
    let mut logs = vec![("the controller's output".to_string(), banner.clone())];
    for entry in walk(&clone.join("demo-data")) {
        if entry.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&entry).unwrap_or_default();
            logs.push((entry.display().to_string(), text));
        }
    }
    assert!(logs.len() > 1, "no agent log found under demo-data");
    for (name, text) in &logs {
        assert!(!text.contains('\u{1b}'), "terminal colour codes in {name}");
    }

    // Ctrl-C stops the controller and every agent.
    // SAFETY: kill has no memory preconditions; the group is the demo's own.
    unsafe { libc::kill(-pid, libc::SIGINT) };
    let status = tokio::time::timeout(Duration::from_secs(60), demo.wait())
        .await
        .expect("the demo stops on Ctrl-C")
        .unwrap();
    assert!(status.success(), "the demo exits cleanly: {status}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let agents = std::process::Command::new("pgrep")
        .args([
            "-f",
            &target.join("release/commune-agent").display().to_string(),
        ])
        .output()
        .unwrap();
    let left = String::from_utf8_lossy(&agents.stdout);
    assert!(left.trim().is_empty(), "agent processes left: {left}");
}

/// Every file under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
