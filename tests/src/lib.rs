//! Test harness for Commune's end-to-end suites: a real controller on a loopback port with a
//! temporary SQLite file and PKI, and real agents (the agent library's link) talking real
//! QUIC with mutual TLS to it. Nothing is mocked.

pub mod browser;
pub mod namespace;
pub mod netcut;
pub mod printing;
pub mod raw;
pub mod swarm;
pub mod uinput;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use commune_agent::config::files;
use commune_agent::config::AgentConfig;
use commune_agent::enroll::{enroll, EnrollOptions};
use commune_agent::link::{Link, LinkState, LinkStats};
use commune_agent::outbox::Outbox;
use commune_agent::seat::Seat;
use commune_agent::AgentError;
use commune_controller::{now, Controller, ControllerConfig};
use commune_provisioning::FleetCa;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The site every test controller has.
pub const SITE: &str = "mdh-test";

/// Logs for a failing test: `RUST_LOG=debug cargo test`.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Controller settings tuned for tests: short intervals, same logic.
pub fn test_config(data_dir: PathBuf) -> ControllerConfig {
    ControllerConfig {
        data_dir,
        quic_listen: "127.0.0.1:0".parse().expect("address"),
        tcp_listen: "127.0.0.1:0".into(),
        health_interval_secs: 1,
        revocation_poll_secs: 1,
        last_seen_flush_secs: 1,
        handshake_timeout_secs: 5,
        first_frame_timeout_secs: 5,
        shutdown_spread_ms: 300,
        // No magic packets from the tests (tests/tests/power.rs points them at a socket
        // of its own).
        power: commune_controller::config::PowerConfig {
            wake_on_lan: String::new(),
            ..Default::default()
        },
        ..ControllerConfig::default()
    }
}

/// A controller running in this process.
pub struct TestController {
    /// Its state handle.
    pub controller: Controller,
    /// Where agents reach it.
    pub addr: SocketAddr,
    /// Its data directory.
    pub dir: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestController {
    /// A fresh controller with a new CA and one site.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A fresh controller, with settings adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut ControllerConfig)) -> Self {
        init_tracing();
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let mut config = test_config(dir.path().to_path_buf());
        tweak(&mut config);
        FleetCa::init(&config.pki_dir(), "Test city", &["127.0.0.1".into()], now())
            .expect("ca init");
        let controller = Controller::open(config).await.expect("open controller");
        controller
            .store()
            .add_site(SITE, "MDH Test", now())
            .await
            .expect("site");
        Self::launch(controller, dir, "127.0.0.1:0".parse().expect("address")).await
    }

    async fn launch(controller: Controller, dir: Arc<tempfile::TempDir>, addr: SocketAddr) -> Self {
        let endpoint = controller.bind(Some(addr)).expect("bind");
        let addr = endpoint.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel();
        let c = controller.clone();
        let task = tokio::spawn(async move {
            commune_controller::run(endpoint, c, async {
                let _ = stopped.await;
            })
            .await
            .expect("controller run");
        });
        TestController {
            controller,
            addr,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Another controller on the same data directory and database, on a port of its own
    /// (several controllers sharing PostgreSQL).
    pub async fn sibling(&self) -> Self {
        let controller = Controller::open(self.controller.config().clone())
            .await
            .expect("open sibling");
        Self::launch(
            controller,
            self.dir.clone(),
            "127.0.0.1:0".parse().expect("address"),
        )
        .await
    }

    /// Stops gracefully (agents are told when to come back) and waits for the end.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("controller task");
        }
    }

    /// Stops, then starts a new controller on the same address and data directory.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let config = self.controller.config().clone();
        let controller = Controller::open(config).await.expect("reopen controller");
        Self::launch(controller, self.dir.clone(), self.addr).await
    }

    /// A fresh enrollment token for the test site.
    pub async fn token(&self) -> String {
        self.controller
            .create_enrollment_token(SITE, 600)
            .await
            .expect("token")
    }

    /// The metrics text, as `/metrics` serves it.
    pub async fn metrics(&self) -> String {
        self.controller.metrics_text().await
    }

    /// The value of one metric line (e.g. `commune_handshakes_rejected_total{reason="revoked"}`).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| {
                l.strip_prefix(series)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

impl Drop for TestController {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A fresh database on the test PostgreSQL server, dropped when this value is.
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // On a thread of its own: the test's runtime may be going away.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(&drop).execute(&pool).await;
                }
            });
        })
        .join();
    }
}

/// A fresh database on the test PostgreSQL server named by `COMMUNE_TEST_POSTGRES_URL`.
/// `None` (with a note) when the variable is unset outside CI; under `CI=true` a missing
/// server is a failure, not a skip.
pub async fn postgres_database() -> Option<PgDatabase> {
    let Ok(admin) = std::env::var("COMMUNE_TEST_POSTGRES_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("COMMUNE_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL suites (scripts/setup-postgres)");
        }
        eprintln!(
            "PostgreSQL test not run: set COMMUNE_TEST_POSTGRES_URL (see scripts/setup-postgres)"
        );
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    let name = format!(
        "commune_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    let base = admin.rsplit_once('/').expect("URL with a database").0;
    Some(PgDatabase {
        url: format!("{base}/{name}"),
        admin,
        name,
    })
}

/// Agent settings tuned for tests: quick backoff, quick detection.
pub fn agent_base() -> AgentConfig {
    AgentConfig {
        backoff_initial_ms: 50,
        backoff_max_ms: 1_000,
        keep_alive_secs: 1,
        idle_timeout_secs: 5,
        sessions: commune_agent::config::SessionsConfig {
            platform: commune_agent::config::PlatformKind::None,
            ..Default::default()
        },
        // Tests that want the visitor's screens ask for them on port 0.
        screens: commune_agent::config::ScreensConfig {
            listen: String::new(),
            ..Default::default()
        },
        ..AgentConfig::default()
    }
}

/// Enrolls a new agent with `token` into a fresh state directory.
pub async fn enroll_agent(
    addr: SocketAddr,
    token: &str,
) -> Result<(AgentConfig, tempfile::TempDir), AgentError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = enroll(EnrollOptions {
        controller: addr.to_string(),
        token: token.to_string(),
        config_path: dir.path().join("agent.toml"),
        state_dir: dir.path().join("state"),
        asset_tag: Some("GRE-TEST-001".into()),
        funding_line: Some("FEDER test".into()),
        hostname: Some("test-pc".into()),
        base: agent_base(),
    })
    .await?;
    Ok((config, dir))
}

/// Appends `n` alert events to `outbox`, one every `every`, on a task of its own: visitors
/// keep using the seat while the test cuts, switches or renews its link.
pub fn keep_producing(outbox: Outbox, n: u32, every: Duration) -> JoinHandle<()> {
    use commune_protocol::messages::{AgentEvent, Alert, AlertKind};
    tokio::spawn(async move {
        for i in 0..n {
            let event = AgentEvent::Alert(Alert {
                kind: AlertKind::DiskFull,
                message: format!("event {i}"),
            });
            outbox.append(now(), event).await.expect("append");
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
        }
    })
}

/// An agent link running in this process.
pub struct TestAgent {
    /// Its configuration.
    pub config: AgentConfig,
    /// Its link state.
    pub state: watch::Receiver<LinkState>,
    /// Its counters.
    pub stats: Arc<LinkStats>,
    /// Its event outbox (append to it to produce events).
    pub outbox: Outbox,
    /// Its seat.
    pub seat: Seat,
    /// Its session manager, when its configuration names a session platform.
    pub sessions: Option<commune_agent::manager::ManagerHandle>,
    /// Where its visitor screens are served, when its configuration asks for them.
    pub screens: Option<SocketAddr>,
    /// The file holding the greeter's secret of those screens (read it as the greeter
    /// does, with `commune_agent::screens::secret::GreeterSecret::read`).
    pub screens_secret: Option<std::path::PathBuf>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestAgent {
    /// Starts the link with the certificate enrollment wrote.
    pub async fn start(config: AgentConfig) -> Self {
        let client = commune_agent::tls::client_config(&config).expect("client config");
        Self::start_with_client(config, client).await
    }

    /// Starts the link with a given TLS client configuration.
    pub async fn start_with_client(config: AgentConfig, client: quinn::ClientConfig) -> Self {
        std::fs::create_dir_all(&config.state_dir).expect("state dir");
        let outbox = Outbox::open(&config.state_file(files::OUTBOX), config.outbox_capacity)
            .await
            .expect("outbox");
        let sessions = commune_agent::start_sessions(&config, &outbox).expect("session manager");
        let seat = match &sessions {
            Some(manager) => Seat::with_sessions(manager.clone()),
            None => Seat::default(),
        }
        .with_wake_target(&config.wake_on_lan);
        let mut screens = None;
        let mut screens_secret = None;
        if let (Some(manager), Some(addr)) = (
            &sessions,
            config.screens.address().expect("[screens] listen"),
        ) {
            let options =
                commune_agent::screens::Options::for_config(&config).expect("the greeter's secret");
            screens_secret = Some(options.secret.path().to_path_buf());
            let (bound, _task) = commune_agent::screens::start(
                addr,
                manager.clone(),
                options,
                std::future::pending(),
            )
            .await
            .expect("the visitor screens");
            screens = Some(bound);
        }
        let (link, state) = Link::new(config.clone(), client, outbox.clone(), seat.clone());
        if let Some(manager) = &sessions {
            tokio::spawn(commune_agent::manager::follow_link(
                manager.clone(),
                state.clone(),
            ));
        }
        let stats = link.stats();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(link.run(async {
            let _ = stopped.await;
        }));
        TestAgent {
            config,
            state,
            stats,
            outbox,
            seat,
            sessions,
            screens,
            screens_secret,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Waits until the link state satisfies `pred`, or panics after `secs` seconds with the
    /// last state seen.
    pub async fn wait_for(
        &mut self,
        secs: u64,
        what: &str,
        pred: impl Fn(&LinkState) -> bool,
    ) -> LinkState {
        let result =
            tokio::time::timeout(Duration::from_secs(secs), self.state.wait_for(|s| pred(s)))
                .await
                .map(|r| r.map(|s| s.clone()));
        match result {
            Ok(Ok(s)) => s,
            _ => panic!(
                "agent {}: not {what} after {secs} s; last state {:?}",
                self.config.agent_id,
                *self.state.borrow()
            ),
        }
    }

    /// Waits until connected.
    pub async fn wait_connected(&mut self, secs: u64) {
        self.wait_for(secs, "connected", |s| {
            matches!(s, LinkState::Connected { .. })
        })
        .await;
    }

    /// Connections welcomed so far.
    pub fn connections(&self) -> u64 {
        self.stats.connections.load(Ordering::Relaxed)
    }

    /// Highest seq the controller acknowledged.
    pub fn acked(&self) -> u64 {
        self.stats.acked_seq.load(Ordering::Relaxed)
    }

    /// Records `n` events in the outbox as visitor sessions (a start, then its end; an odd
    /// `n` leaves the last session open); returns the last seq.
    pub async fn produce(&self, n: usize) -> u64 {
        let mut last = 0;
        for _ in 0..n {
            let next = self.outbox.last_seq().await.expect("last seq") + 1;
            let session_id = format!("s-{}-{}", self.config.agent_id, next.div_ceil(2));
            let event = session_event(next, session_id, true);
            last = self.outbox.append(now(), event).await.expect("append").seq;
        }
        last
    }

    /// Stops the link.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A child process killed (SIGKILL) and reaped when dropped, so that a failing test leaves
/// no program running behind it.
pub struct ChildGuard(pub std::process::Child);

impl ChildGuard {
    /// SIGKILL now and reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 50 ms until it returns true, or panics after `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("not true after {secs} s: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// For a test that measures this process (its resident memory): true when this process
/// runs that test alone (the caller then runs its body); otherwise re-runs the test binary
/// with only `name`, asserts that it passed, and returns false.
pub fn alone(name: &str) -> bool {
    const ALONE: &str = "COMMUNE_TEST_ALONE";
    if std::env::var_os(ALONE).is_some() {
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().expect("own executable"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .status()
        .expect("re-run the test binary");
    assert!(status.success(), "{name}, run alone, failed");
    false
}

/// A CSV reader as strict as a spreadsheet's, written apart from the exports' writer so
/// that it checks them: `separator`, quoted cells, doubled quotes, line breaks inside quotes.
pub fn parse_csv(text: &str, separator: char) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (vec![], vec![], String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) if c == separator => row.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// The event of seq `seq` in a run of free-access visitor sessions: odd seqs start session
/// `session_id`, even seqs end it after 45 minutes.
pub fn session_event(
    seq: u64,
    session_id: String,
    with_ticket: bool,
) -> commune_protocol::messages::AgentEvent {
    use commune_protocol::messages::{
        AgentEvent, EndReason, SessionEnded, SessionStarted, SlotKind,
    };
    if seq % 2 == 1 {
        AgentEvent::SessionStarted(SessionStarted {
            session_id,
            slot_kind: SlotKind::Free,
            permanence_id: None,
            with_ticket,
        })
    } else {
        AgentEvent::SessionEnded(SessionEnded {
            session_id,
            reason: EndReason::TimeUp,
            duration_secs: 2700,
            documents_erased: 0,
        })
    }
}

/// The path of `name` on `PATH`. In CI (`CI` set) a missing program fails the test with the
/// Debian package to install; elsewhere the check that needs it is skipped, and said so.
pub fn program(name: &str, debian_package: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{name}` is needed: apt-get install {debian_package}"
        );
        eprintln!("`{name}` not found (apt-get install {debian_package}): its check is skipped");
    }
    found
}
