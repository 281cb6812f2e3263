//! Debian's Chromium, driven by Playwright through `tests/browser/check.mjs`: the
//! dashboard's and the visitor screens' browser suites share this runner.
//!
//! Needs `node`, `/usr/bin/chromium` (`apt-get install chromium`) and
//! `npm ci --prefix tests/browser`; `scripts/test-all` installs them. Without them a test
//! fails and says what to install: it never skips.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CHROMIUM: &str = "/usr/bin/chromium";

/// `tests/browser/`, once everything the browser tests need is there; otherwise a failure
/// that says what to install.
pub fn project() -> PathBuf {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let mut missing = Vec::new();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        missing.push("node: `apt-get install nodejs npm`".to_string());
    }
    let chromium = std::env::var("COMMUNE_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    if !Path::new(&chromium).exists() {
        missing.push(format!(
            "{chromium}: `apt-get install --no-install-recommends chromium`"
        ));
    }
    for module in ["playwright-core", "axe-core"] {
        if !project.join("node_modules").join(module).exists() {
            missing.push(format!(
                "{module} in {}: `npm ci --prefix tests/browser`",
                project.join("node_modules").display()
            ));
            break;
        }
    }
    assert!(
        missing.is_empty(),
        "the browser tests cannot run; install what is missing (scripts/test-all does):\n  {}",
        missing.join("\n  ")
    );
    project
}

/// `target/screenshots/`, created; screenshots for review land there.
pub fn screenshots() -> PathBuf {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    shots.canonicalize().expect("screenshot folder")
}

/// Runs a scenario (see `check.mjs`) and panics with its output if a step fails. Each
/// `{"note": "…"}` step calls `on_note` with the note's text, and the browser waits until
/// it returns, so the test can act (start a session, push a schedule) at that point.
pub async fn run<F, Fut>(scenario: &serde_json::Value, limit: Duration, mut on_note: F)
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let project = project();
    // check.mjs waits after its n-th note until the file `n` appears in this folder.
    let acks = tempfile::tempdir().expect("ack folder");
    let mut scenario = scenario.clone();
    scenario["ackDir"] = serde_json::Value::String(acks.path().display().to_string());
    let mut child = tokio::process::Command::new("node")
        .arg(project.join("check.mjs"))
        .current_dir(&project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(scenario.to_string().as_bytes())
        .await
        .expect("write the scenario");
    drop(stdin);
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
        text
    });
    let mut notes = 0;
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut output = Vec::new();
    let run = async {
        while let Some(line) = lines.next_line().await.expect("read node's output") {
            println!("browser: {line}");
            if let Some(rest) = line.strip_prefix("note: ") {
                on_note(rest.to_string()).await;
                notes += 1;
                std::fs::write(acks.path().join(notes.to_string()), b"")
                    .expect("acknowledge the note");
            }
            output.push(line);
        }
        child.wait().await.expect("node")
    };
    let status = tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("the browser scenario did not finish in {limit:?}"));
    let stderr = stderr.await.unwrap_or_default();
    assert!(
        status.success(),
        "the browser scenario failed ({status}):\n{}\n{stderr}",
        output.join("\n")
    );
}

/// The greeter's first steps, as `provisioning/kiosk/commune-greeter` takes them: it reads
/// the agent's secret and writes the start page its browser opens, which leads to `/borne`
/// (the cookie that lets the greeter's forms open a session), then to the welcome screen.
/// The steps go first in a scenario on the visitor's screens at `screens`.
pub fn greeter_start(
    screens: std::net::SocketAddr,
    secret_file: &Path,
    folder: &Path,
) -> Vec<serde_json::Value> {
    let greeter =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../provisioning/kiosk/commune-greeter");
    let out = std::process::Command::new("python3")
        .arg(&greeter)
        .arg("--url")
        .arg(format!("http://{screens}/"))
        .arg("--secret-file")
        .arg(secret_file)
        .arg("--start-page")
        .arg(folder)
        .output()
        .expect("python3 (apt-get install python3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(page.starts_with("file://"), "{page}");
    vec![
        serde_json::json!({"goto": page}),
        serde_json::json!({"expectJs": "location.protocol === 'http:' && location.pathname === '/' && document.readyState === 'complete'"}),
    ]
}
