//! Scale benchmark: what one controller holds, against bare quinn on the same machine in the
//! same run.
//!
//! The controller is the real `commune serve` program (built from this workspace), in its
//! own process, so that its memory and CPU are its own. Its seats are a swarm in this
//! process (`commune_tests::swarm`): N seats, each enrolled through the controller's real
//! enrollment path (a single-use token each, `Enroll` with a CSR over QUIC) and holding its
//! own certificate, each keeping one real QUIC connection with mutual TLS (the agent's TLS
//! client configuration, keep-alive 15 s, idle timeout 25 s) and speaking Commune's
//! protocol: `Hello`, `Welcome`, a `Heartbeat` every 15 s (±20 %), an event every one to
//! three minutes (acknowledged by the controller), the outcome of each staff command. A
//! seat is the protocol, not the agent: a full `commune_agent::link::Link` per seat is too
//! heavy at 20,000 in one process (each has a SQLite outbox with its own threads), so a
//! seat keeps its unacknowledged events in memory and sends them again after a
//! reconnection, as the outbox does. The swarm sends no health snapshots nor inventories.
//! Seats belong to sites of 50 (a large MDH or library).
//!
//! The baseline is a bare quinn server (this program again, `--bare-server`, in its own
//! process) with mutual TLS and the same certificates, and clients of the same shape: one
//! bidirectional stream per connection, a 200-byte frame every 15 s (±20 %) answered by an
//! 8-byte ack. Both sides: one UDP socket per 500 client connections, 256 handshakes in
//! flight, 4 MiB socket buffers (the controller's `udp_buffer_bytes`).
//!
//! For each N it prints, controller against bare quinn: resident memory growth per seat,
//! CPU (% of one core over a steady window), the handshake rate to bring all N up; then the
//! p99 of a staff command (one per seat to 1,000 seats, posted to the dashboard as staff
//! do, at 50 a second, timed from the request to the seat receiving its `Command` frame);
//! and, once, the time for the seats to be back after the controller is killed with
//! SIGKILL and restarted at once, with every seq of every seat acknowledged and stored once.
//! It asserts no time.
//!
//! `cargo bench -p commune-tests --bench scale` (N = 1,000, 5,000, 10,000 and 20,000; the
//! crash at 10,000; about 20 minutes), or with `-- --short` (N = 1,000, the crash at 1,000;
//! 2 to 3 minutes) as CI runs it; `-- --seats N` runs one round of N seats (the crash
//! included). `COMMUNE_BIN` names a `commune` program to use instead of
//! building it (`cargo build --release -p commune`); `COMMUNE_BENCH_CONFIG` adds lines to the
//! controller's configuration file, to measure a setting. The last line prints the main
//! ratios.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use commune_controller::{Controller, ControllerConfig};
use commune_tests::swarm::{self, proc, SeatIdentity, Shape, Swarm, SwarmConfig};
use commune_tests::web;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Seats per site: a large MDH or library. (The controller reads a site's seat list on
/// every seat's connection: one site of 20,000 seats brings them up at 35 a second.)
const SEATS_PER_SITE: usize = 50;
const STAFF: &str = "informatique";
const PASSWORD: &str = "un mot de passe assez long";
const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

struct Plan {
    rounds: Vec<usize>,
    /// The round in which the controller is killed.
    crash_at: usize,
    /// After all seats are up, before the window.
    warm_up: Duration,
    /// The steady-state window CPU is measured over.
    window: Duration,
    /// Staff commands, one per seat.
    commands: usize,
    /// Staff commands posted per second.
    command_rate: f64,
}

/// One side's figures at one N.
#[derive(Debug, Clone, Default)]
struct Side {
    up_secs: f64,
    rss_idle: u64,
    rss_steady: u64,
    /// Of one core.
    cpu: f64,
    /// This process (the clients) over the same window, of one core.
    clients_cpu: f64,
    /// Every other process of the machine over the same window, of one core.
    others_cpu: f64,
    /// Server CPU time spent bringing the seats up, per seat.
    up_cpu_ms: f64,
    /// Mean handshake, and mean wait from the handshake to the first answer.
    handshake_ms: f64,
    answer_ms: f64,
    attempts_failed: u64,
    failure_reasons: std::collections::BTreeMap<String, u64>,
    connections_lost: u64,
    udp_drops: u64,
}

impl Side {
    fn handshakes_per_sec(&self, n: usize) -> f64 {
        n as f64 / self.up_secs
    }

    fn bytes_per_seat(&self, n: usize) -> f64 {
        self.rss_steady.saturating_sub(self.rss_idle) as f64 / n as f64
    }

    fn print(&self, n: usize, name: &str) {
        println!(
            "  {name}: {n} up in {:.1} s ({:.0} handshakes/s; {:.2} ms of server CPU each; \
             handshake {:.1} ms, then first answer {:.1} ms; {} failed attempts); \
             RSS {:.0} -> {:.0} MB ({:.1} KB/seat); CPU {:.2} % of a core (clients {:.0} %, \
             other processes {:.0} %); {} connections lost; {} UDP receive-buffer drops",
            self.up_secs,
            self.handshakes_per_sec(n),
            self.up_cpu_ms,
            self.handshake_ms,
            self.answer_ms,
            self.attempts_failed,
            mb(self.rss_idle),
            mb(self.rss_steady),
            self.bytes_per_seat(n) / 1000.0,
            self.cpu * 100.0,
            self.clients_cpu * 100.0,
            self.others_cpu * 100.0,
            self.connections_lost,
            self.udp_drops,
        );
        for (reason, count) in &self.failure_reasons {
            println!("    failed attempts: {count} × {reason}");
        }
        if self.noisy() {
            println!("  (other processes were busy during the window: these figures are not the machine's)");
        }
    }

    /// Whether other processes used more than a fifth of a core during the window.
    fn noisy(&self) -> bool {
        self.others_cpu > 0.2
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Commands {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Never reached their seat within 10 s.
    lost: usize,
    /// Not answered with the redirect of a command sent.
    refused: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Recovery {
    seats: usize,
    /// From the SIGKILL to the dashboard of the new process answering.
    restart_secs: f64,
    /// From the SIGKILL to every seat welcomed by the new process (None: not within 180 s).
    back_secs: Option<f64>,
    /// Seats back within the time allowed.
    back: usize,
    /// From the SIGKILL to every produced event acknowledged.
    acked_secs: Option<f64>,
    /// Seats whose acknowledgements do not cover every seq they produced.
    unacked_seats: usize,
    /// Seats whose stored seqs are not exactly the ones they produced.
    store_mismatches: usize,
    /// How the seats learnt of the crash: their connection reset by the new process, left
    /// by the seat (nothing heard for `SILENCE`), timed out (nothing heard for the idle
    /// timeout), or otherwise.
    reset: u64,
    silent: u64,
    timed_out: u64,
    other: u64,
    /// Events the seats produced in this run.
    events: u64,
    /// Of those, rows in the store.
    stored: u64,
    /// Datagrams the kernel dropped on full UDP receive buffers (this machine, every socket)
    /// from the kill to every seat back, and of those, on the new controller's socket.
    udp_drops: u64,
    controller_drops: u64,
}

struct Round {
    n: usize,
    controller: Side,
    bare: Side,
    commands: Commands,
    recovery: Option<Recovery>,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn free_port() -> u16 {
    // The same number must be free for UDP (QUIC) and TCP (the dashboard).
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A child process, killed (SIGKILL) and reaped when dropped.
struct Process(Child);

impl Process {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// SIGTERM, then SIGKILL if it has not exited after 20 s.
    async fn stop(mut self) {
        // SAFETY: signalling our own child, which has not been reaped.
        unsafe {
            libc::kill(self.pid() as libc::pid_t, libc::SIGTERM);
        }
        for _ in 0..400 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `commune` program: `COMMUNE_BIN`, or built here in release mode beside this bench.
fn commune_program() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("COMMUNE_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/scale-… → target/<profile>, target
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("where this bench runs from")?;
    let target = profile_dir.parent().context("the target directory")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the `commune` program (cargo build --release -p commune)");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "commune",
            "--bin",
            "commune",
        ])
        .arg("--target-dir")
        .arg(target)
        .current_dir(workspace)
        .status()
        .context("running cargo build")?;
    anyhow::ensure!(status.success(), "cargo build -p commune failed");
    Ok(target.join("release").join("commune"))
}

struct Bench {
    program: PathBuf,
    dir: tempfile::TempDir,
    config_path: PathBuf,
    config: ControllerConfig,
    quic: SocketAddr,
    dashboard: SocketAddr,
    seats: Vec<Arc<SeatIdentity>>,
    ca: Option<CertificateDer<'static>>,
    starts: u32,
}

impl Bench {
    fn new(program: PathBuf) -> anyhow::Result<Bench> {
        let dir = tempfile::tempdir()?;
        let quic: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let dashboard: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let config_path = dir.path().join("controller.toml");
        // Defaults but for the addresses, and the handshakes per source address: every seat
        // of the swarm comes from 127.0.0.1, where a site's NAT holds tens of seats.
        let text = format!(
            "data_dir = {:?}\nquic_listen = \"{quic}\"\ndashboard_listen = \"{dashboard}\"\n\
             max_handshakes_per_address = 256\n",
            dir.path().join("data")
        );
        // A setting to measure: `COMMUNE_BENCH_CONFIG="handshakes_before_retry = 256"`.
        let text = format!(
            "{text}{}\n",
            std::env::var("COMMUNE_BENCH_CONFIG").unwrap_or_default()
        );
        std::fs::write(&config_path, &text)?;
        let config = ControllerConfig::from_toml(&text)?;
        let bench = Bench {
            program,
            dir,
            config_path,
            config,
            quic,
            dashboard,
            seats: Vec::new(),
            ca: None,
            starts: 0,
        };
        bench.commune(&[
            "ca",
            "init",
            "--organisation",
            "Bench city",
            "--name",
            "127.0.0.1",
        ])?;
        bench.commune(&[
            "user",
            "create",
            "--login",
            STAFF,
            "--name",
            "Service informatique",
            "--role",
            "it",
        ])?;
        Ok(bench)
    }

    /// Runs an admin command of the `commune` program on the bench's data.
    fn commune(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(&self.program)
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env("COMMUNE_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .context("running commune")?;
        anyhow::ensure!(
            out.status.success(),
            "commune {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `commune serve`, its log in the bench's directory; returns once its dashboard answers
    /// (its QUIC socket is bound before).
    async fn serve(&mut self) -> anyhow::Result<Process> {
        self.starts += 1;
        // `COMMUNE_BENCH_LOGS=DIR` keeps the controller's logs there (with `RUST_LOG`, e.g.
        // `info,quinn_proto::endpoint=debug`, to see the endpoint's decisions).
        let logs = std::env::var_os("COMMUNE_BENCH_LOGS")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir.path().to_path_buf());
        let log = std::fs::File::create(logs.join(format!("serve-{}.log", self.starts)))?;
        let child = Command::new(&self.program)
            .arg("--config")
            .arg(&self.config_path)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting commune serve")?;
        let process = Process(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(self.dashboard)
            .await
            .is_err()
        {
            anyhow::ensure!(Instant::now() < deadline, "commune serve did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(process)
    }

    /// Enrolls seats until there are `n`: tokens made as `commune token create` makes them,
    /// then `Enroll` over QUIC to the running controller, 8 at a time (the controller serves
    /// `max_concurrent_enrollments`, 8, at once).
    async fn enroll_up_to(&mut self, n: usize) -> anyhow::Result<()> {
        let missing = n.saturating_sub(self.seats.len());
        if missing == 0 {
            return Ok(());
        }
        // Sites and tokens through the staff API, as `commune site add` and `commune token
        // create` make them.
        let tokens = {
            let controller = Controller::open(self.config.clone()).await?;
            let cli = commune_controller::staff::StaffIdentity::cli();
            let api = controller.staff_api(&cli);
            let mut tokens = Vec::with_capacity(missing);
            for k in self.seats.len()..n {
                let site = site_of(k);
                if k % SEATS_PER_SITE == 0 {
                    api.add_site(&site, &format!("MDH {}", k / SEATS_PER_SITE))
                        .await?;
                }
                tokens.push(api.create_enrollment_token(&site, 3600).await?);
            }
            tokens
        };
        let server = self.serve().await?;
        let endpoint = swarm::udp_endpoint("127.0.0.1:0".parse()?, UDP_BUFFER_BYTES, None)?;
        let places = Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        let start = Instant::now();
        let first = self.seats.len();
        for (i, token) in tokens.into_iter().enumerate() {
            let place = places.clone().acquire_owned().await?;
            let (endpoint, quic) = (endpoint.clone(), self.quic);
            tasks.spawn(async move {
                let _place = place;
                let name = format!("pc-{:05}", first + i);
                let mut tries = 0;
                loop {
                    match swarm::enroll(&endpoint, quic, &token, &name).await {
                        Ok(done) => return Ok(done),
                        // Told the enrollments are busy, a computer tries again.
                        Err(e) if tries < 5 => {
                            tries += 1;
                            eprintln!("enrollment of {name} failed ({e}); again");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (seat, ca) = done??;
            self.seats.push(Arc::new(seat));
            self.ca.get_or_insert(ca);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "enrolled {missing} seats in {secs:.1} s ({:.0} enrollments/s, 8 at a time)",
            missing as f64 / secs
        );
        endpoint.close(0u32.into(), b"done");
        server.stop().await;
        Ok(())
    }

    /// The controller's `commune_handshakes_rejected_total` by reason (Retry included),
    /// from its `/metrics`.
    async fn refusals(&self) -> String {
        let addr = self.dashboard;
        let start = Instant::now();
        let text =
            tokio::task::spawn_blocking(move || web::http(addr, "GET", "/metrics", &[], "").body)
                .await
                .unwrap_or_default();
        let took = start.elapsed();
        let counts: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("commune_handshakes_rejected_total{reason=\""))
            .filter_map(|l| {
                let (reason, value) = l.split_once("\"} ")?;
                Some(format!("{reason} {value}"))
            })
            .collect();
        format!(
            "{} (/metrics answered in {:.0} ms)",
            if counts.is_empty() {
                "none".into()
            } else {
                counts.join(", ")
            },
            took.as_secs_f64() * 1000.0
        )
    }

    fn ca(&self) -> &CertificateDer<'static> {
        self.ca.as_ref().expect("seats are enrolled first")
    }

    /// Brings `n` seats up on `pid`'s server, then measures a steady window.
    async fn measure(
        &self,
        pid: u32,
        shape: Shape,
        n: usize,
        server: SocketAddr,
        plan: &Plan,
    ) -> anyhow::Result<(Side, Swarm)> {
        let mut side = Side::default();
        tokio::time::sleep(Duration::from_secs(2)).await;
        side.rss_idle = proc::rss_bytes(pid);
        let drops = proc::udp_rcvbuf_errors();
        let cpu = proc::cpu_secs(pid);
        let swarm = Swarm::start(shape, &self.seats[..n], self.ca(), SwarmConfig::new(server))?;
        let all_up = swarm
            .wait(Duration::from_secs(900), |s| s.connected() >= n)
            .await;
        anyhow::ensure!(all_up, "only {} of {n} seats came up", swarm.connected());
        side.up_secs = swarm.epoch().elapsed().as_secs_f64();
        side.up_cpu_ms = (proc::cpu_secs(pid) - cpu) * 1000.0 / n as f64;
        let (handshake, answer) = swarm.mean_connect();
        side.handshake_ms = handshake.as_secs_f64() * 1000.0;
        side.answer_ms = answer.as_secs_f64() * 1000.0;
        side.attempts_failed = swarm.attempts_failed();
        side.failure_reasons = swarm.failure_reasons();
        tokio::time::sleep(plan.warm_up).await;
        let me = std::process::id();
        let (cpu, clients, machine, start) = (
            proc::cpu_secs(pid),
            proc::cpu_secs(me),
            proc::machine_busy_secs(),
            Instant::now(),
        );
        tokio::time::sleep(plan.window).await;
        let secs = start.elapsed().as_secs_f64();
        side.cpu = (proc::cpu_secs(pid) - cpu) / secs;
        side.clients_cpu = (proc::cpu_secs(me) - clients) / secs;
        side.others_cpu =
            ((proc::machine_busy_secs() - machine) / secs - side.cpu - side.clients_cpu).max(0.0);
        side.rss_steady = proc::rss_bytes(pid);
        side.connections_lost = swarm.lost().total();
        side.udp_drops = proc::udp_rcvbuf_errors() - drops;
        Ok((side, swarm))
    }

    async fn controller_round(
        &mut self,
        n: usize,
        plan: &Plan,
    ) -> anyhow::Result<(Side, Commands, Option<Recovery>)> {
        let mut server = self.serve().await?;
        let (side, swarm) = self
            .measure(server.pid(), Shape::Commune, n, self.quic, plan)
            .await?;
        side.print(n, "controller");
        println!(
            "  controller's refusals and retries: {}",
            self.refusals().await
        );
        let commands = self.staff_commands(&swarm, plan).await?;
        println!(
            "  staff commands: {} to {} seats at {:.0}/s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
             {} not received, {} refused",
            plan.commands,
            plan.commands,
            plan.command_rate,
            commands.p50_ms,
            commands.p99_ms,
            commands.max_ms,
            commands.lost,
            commands.refused
        );
        let recovery = if n == plan.crash_at {
            let r = self.crash(&mut server, &swarm).await?;
            println!(
                "  crash: SIGKILL with {} seats connected and events in flight; restarted in {:.2} s; \
                 {} seats back {} (connections reset by the new process {}, left silent {}, timed out {}, other {}; \
                 {} UDP receive-buffer drops, {} of them on the controller's socket); every event acknowledged {}; {} of {} events stored; {} seats with events \
                 unacknowledged, {} with stored seqs not as produced",
                r.seats,
                r.restart_secs,
                r.back,
                r.back_secs
                    .map_or("not all within 180 s".into(), |s| format!("{s:.1} s after the kill")),
                r.reset,
                r.silent,
                r.timed_out,
                r.other,
                r.udp_drops,
                r.controller_drops,
                r.acked_secs
                    .map_or("not within 60 s".into(), |s| format!("{s:.1} s after the kill")),
                r.stored,
                r.events,
                r.unacked_seats,
                r.store_mismatches
            );
            Some(r)
        } else {
            None
        };
        swarm.stop().await;
        server.stop().await;
        Ok((side, commands, recovery))
    }

    async fn bare_round(&self, n: usize, plan: &Plan) -> anyhow::Result<Side> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--bare-server")
            .arg(self.config.pki_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the bare quinn server")?;
        let stdout = child.stdout.take().context("its output")?;
        let server = Process(child);
        let addr = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .map(|_| line)
        })
        .await??;
        let addr: SocketAddr = addr.trim().parse().context("the bare server's address")?;
        let (side, swarm) = self
            .measure(server.pid(), Shape::Bare, n, addr, plan)
            .await?;
        side.print(n, "bare quinn");
        swarm.stop().await;
        drop(server);
        Ok(side)
    }

    /// One staff command per seat to `plan.commands` seats spread over the swarm, posted to
    /// the dashboard as a staff member's browser posts it ("start a session" on a seat of
    /// their site), open loop at `plan.command_rate`; each timed from the request to its
    /// seat receiving the `Command` frame.
    async fn staff_commands(&self, swarm: &Swarm, plan: &Plan) -> anyhow::Result<Commands> {
        let cookie = web::login(self.dashboard, STAFF, PASSWORD).await;
        let (addr, c) = (self.dashboard, cookie.clone());
        let csrf = tokio::task::spawn_blocking(move || {
            web::http(addr, "GET", "/compte", &[("Cookie", &c)], "").csrf()
        })
        .await?
        .context("a CSRF token on the account page")?;
        let count = plan.commands.min(swarm.len());
        let targets: Vec<usize> = (0..count).map(|i| i * swarm.len() / count).collect();
        for &t in &targets {
            swarm.seat(t).command_at.store(0, Ordering::Relaxed);
        }
        let body = web::form(&[("csrf", &csrf), ("action", "start")]);
        let mut posts = tokio::task::JoinSet::new();
        let start = tokio::time::Instant::now();
        for (k, &t) in targets.iter().enumerate() {
            tokio::time::sleep_until(start + Duration::from_secs_f64(k as f64 / plan.command_rate))
                .await;
            let seat = &self.seats[t];
            let path = format!("/sites/{}/postes/{}/session", seat.site_id, seat.agent_id);
            let (cookie, body) = (cookie.clone(), body.clone());
            let sent = Instant::now();
            posts.spawn(async move { (t, sent, post_form(addr, &path, &cookie, &body).await) });
        }
        let mut sent_at = Vec::with_capacity(count);
        let mut refused = 0;
        while let Some(done) = posts.join_next().await {
            let (t, sent, status) = done?;
            // The form's answer is a redirect to the site's page.
            if status != 303 {
                refused += 1;
            }
            sent_at.push((t, sent));
        }
        swarm
            .wait(Duration::from_secs(10), |s| {
                targets
                    .iter()
                    .all(|&t| s.seat(t).command_at.load(Ordering::Relaxed) != 0)
            })
            .await;
        let mut latencies: Vec<f64> = Vec::with_capacity(count);
        let mut lost = 0;
        for (t, sent) in sent_at {
            let at = swarm.seat(t).command_at.load(Ordering::Relaxed);
            if at == 0 {
                lost += 1;
            } else {
                latencies.push(at.saturating_sub(swarm.ns_of(sent)) as f64 / 1e6);
            }
        }
        latencies.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(f64::NAN)
        };
        Ok(Commands {
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
            max_ms: latencies.last().copied().unwrap_or(f64::NAN),
            lost,
            refused,
        })
    }

    /// Every seat produces two events, and while they travel the controller is killed with
    /// SIGKILL and started again at once; timed until every seat is welcomed by the new
    /// process and every event acknowledged, then the store is read back.
    async fn crash(&mut self, server: &mut Process, swarm: &Swarm) -> anyhow::Result<Recovery> {
        let n = swarm.len();
        let mut r = Recovery {
            seats: swarm.connected(),
            ..Recovery::default()
        };
        let lost = |s: &Swarm| {
            [
                s.lost().reset.load(Ordering::Relaxed),
                s.lost().silent.load(Ordering::Relaxed),
                s.lost().timed_out.load(Ordering::Relaxed),
                s.lost().other.load(Ordering::Relaxed),
            ]
        };
        let before = lost(swarm);
        let drops = proc::udp_rcvbuf_errors();
        swarm.set_events(false);
        swarm.burst(2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let killed = Instant::now();
        server.kill();
        *server = self.serve().await?;
        r.restart_secs = killed.elapsed().as_secs_f64();
        let all_back = swarm
            .wait(Duration::from_secs(180), |s| s.answered_since(killed) >= n)
            .await;
        r.back = swarm.answered_since(killed);
        r.udp_drops = proc::udp_rcvbuf_errors() - drops;
        r.controller_drops = proc::udp_socket_drops(self.quic.port());
        let after = lost(swarm);
        [r.reset, r.silent, r.timed_out, r.other] = [0, 1, 2, 3].map(|i| after[i] - before[i]);
        r.back_secs = all_back.then(|| killed.elapsed().as_secs_f64());
        let all_acked = swarm
            .wait(Duration::from_secs(60), |s| s.unacknowledged() == 0)
            .await;
        r.acked_secs = all_acked.then(|| killed.elapsed().as_secs_f64());
        r.unacked_seats = swarm.unacknowledged();
        // The store: for each seat, exactly the seqs it produced in this run, once each.
        let pool = sqlx::SqlitePool::connect_with(
            self.config
                .database_url()
                .parse::<sqlx::sqlite::SqliteConnectOptions>()?
                .read_only(true),
        )
        .await?;
        for (i, seat) in self.seats[..n].iter().enumerate() {
            let stats = swarm.seat(i);
            let base = stats.base.load(Ordering::Relaxed);
            let produced = stats.produced.load(Ordering::Relaxed);
            let (count, max): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events WHERE agent_id = $1 AND seq > $2",
            )
            .bind(&seat.agent_id)
            .bind(base as i64)
            .fetch_one(&pool)
            .await?;
            let expected = produced - base;
            r.events += expected;
            r.stored += count as u64;
            let whole = count as u64 == expected && (expected == 0 || max as u64 == produced);
            if !whole {
                r.store_mismatches += 1;
            }
        }
        pool.close().await;
        Ok(r)
    }
}

/// The site of the `k`th seat enrolled.
fn site_of(k: usize) -> String {
    format!("mdh-{:04}", k / SEATS_PER_SITE)
}

/// One form posted on a fresh connection, as a browser would; the status (0 if cut).
async fn post_form(addr: SocketAddr, path: &str, cookie: &str, body: &str) -> u16 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    std::str::from_utf8(&reply[..reply.len().min(16)])
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn bench(short: bool, seats: Option<usize>) -> anyhow::Result<()> {
    let mut plan = if short {
        Plan {
            rounds: vec![1_000],
            crash_at: 1_000,
            warm_up: Duration::from_secs(5),
            window: Duration::from_secs(15),
            commands: 1_000,
            command_rate: 50.0,
        }
    } else {
        Plan {
            rounds: vec![1_000, 5_000, 10_000, 20_000],
            crash_at: 10_000,
            warm_up: Duration::from_secs(15),
            window: Duration::from_secs(30),
            commands: 1_000,
            command_rate: 50.0,
        }
    };
    if let Some(n) = seats {
        plan.rounds = vec![n];
        plan.crash_at = n;
    }
    let open_files = proc::raise_open_files();
    let program = commune_program()?;
    let mut bench = Bench::new(program)?;
    println!(
        "scale benchmark: controller `commune serve` against bare quinn, {} cores, open files {open_files}, \
         UDP buffers {} MiB (net.core.rmem_max {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        UDP_BUFFER_BYTES >> 20,
        std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .unwrap_or_default()
            .trim()
    );
    let mut rounds = Vec::new();
    for &n in &plan.rounds {
        bench.enroll_up_to(n).await?;
        println!("N = {n}:");
        let (controller, commands, recovery) = bench.controller_round(n, &plan).await?;
        let bare = bench.bare_round(n, &plan).await?;
        println!(
            "  ratios: memory {:.2}x, CPU {:.2}x, handshake rate {:.2}x of bare quinn",
            controller.bytes_per_seat(n) / bare.bytes_per_seat(n),
            controller.cpu / bare.cpu,
            controller.handshakes_per_sec(n) / bare.handshakes_per_sec(n),
        );
        rounds.push(Round {
            n,
            controller,
            bare,
            commands,
            recovery,
        });
    }

    println!();
    println!(
        "| seats | controller RSS growth | KB/seat (bare) | memory ratio | controller CPU | CPU (bare) | CPU ratio | handshakes/s (bare) | rate ratio | command p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rounds {
        let (c, b, n) = (&r.controller, &r.bare, r.n);
        println!(
            "| {n} | {:.0} MB | {:.1} ({:.1}) | {:.2}x | {:.1} % | {:.1} % | {:.2}x | {:.0} ({:.0}) | {:.2}x | {:.1} ms |",
            mb(c.rss_steady.saturating_sub(c.rss_idle)),
            c.bytes_per_seat(n) / 1000.0,
            b.bytes_per_seat(n) / 1000.0,
            c.bytes_per_seat(n) / b.bytes_per_seat(n),
            c.cpu * 100.0,
            b.cpu * 100.0,
            c.cpu / b.cpu,
            c.handshakes_per_sec(n),
            b.handshakes_per_sec(n),
            c.handshakes_per_sec(n) / b.handshakes_per_sec(n),
            r.commands.p99_ms,
        );
    }
    let last = rounds.last().context("no round")?;
    let crash = rounds
        .iter()
        .find_map(|r| r.recovery)
        .context("no crash round")?;
    let n = last.n;
    if rounds
        .iter()
        .any(|r| r.controller.noisy() || r.bare.noisy())
    {
        println!(
            "WARNING: other processes were busy during some windows; run again on a quiet machine"
        );
    }
    println!(
        "scale benchmark at {n} seats: memory {:.2}x, CPU {:.2}x, handshake rate {:.2}x of bare quinn \
         (targets <= 1.5x, <= 2x, >= 0.7x); staff command p99 {:.1} ms (target < 100 ms); \
         {} seats back {} after SIGKILL (target < 30 s), {} events lost",
        last.controller.bytes_per_seat(n) / last.bare.bytes_per_seat(n),
        last.controller.cpu / last.bare.cpu,
        last.controller.handshakes_per_sec(n) / last.bare.handshakes_per_sec(n),
        last.commands.p99_ms,
        crash.seats,
        crash
            .back_secs
            .map_or(format!("{} in 180 s (not all)", crash.back), |s| format!("in {s:.1} s")),
        if crash.unacked_seats + crash.store_mismatches == 0 {
            "no".to_string()
        } else {
            format!(
                "SOME ({} seats unacknowledged, {} mismatched in the store)",
                crash.unacked_seats, crash.store_mismatches
            )
        },
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new()?;
    if let Some(i) = args.iter().position(|a| a == "--bare-server") {
        let pki = args.get(i + 1).context("--bare-server PKI_DIR")?;
        return runtime.block_on(swarm::serve_bare(Path::new(pki), UDP_BUFFER_BYTES));
    }
    let seats = match args.iter().position(|a| a == "--seats") {
        Some(i) => Some(
            args.get(i + 1)
                .and_then(|n| n.parse().ok())
                .context("--seats N")?,
        ),
        None => None,
    };
    runtime.block_on(bench(args.iter().any(|a| a == "--short"), seats))
}
