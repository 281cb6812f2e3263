//! Login flood benchmark: what a flood of anonymous `POST /connexion` costs everyone else.
//! A real controller and dashboard on loopback (the test harness), one well-behaved seat
//! producing events and one logged-in staff member loading the fleet page (`GET /`), before,
//! during and after a flood of logins (from one address, from many, with random, too long
//! and oversized logins); it prints the controller's resident memory (this process's
//! `VmRSS`: the controller runs in it) and the p99 of the page and of event
//! acknowledgement in each phase, as ratios against the "before" phase of the same run.
//! Targets: memory grows by less than 50 MB and comes back; p99s within 2x of before. It
//! asserts no time.
//!
//! `cargo bench -p commune-controller --bench login_flood` (10,000 requests), or with
//! `-- --short` (1,000) as CI runs it. The last line prints the figures.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commune_controller::staff::Role;
use commune_tests::web::{self, serve_dashboard};
use commune_tests::{enroll_agent, TestAgent, TestController, SITE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STAFF: &str = "accueil";
const PASSWORD: &str = "un mot de passe assez long";

/// Resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// One HTTP/1.1 request on a fresh connection; the status (0 if the server cut it).
async fn request(web: SocketAddr, head: &str, body: &[u8]) -> u16 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(web).await else {
        return 0;
    };
    if stream.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let _ = stream.write_all(body).await;
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    std::str::from_utf8(&reply[..reply.len().min(16)])
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The staff member's fleet page, logged in: its latency.
async fn fleet_page(web: SocketAddr, cookie: &str) -> Duration {
    let start = Instant::now();
    let head =
        format!("GET / HTTP/1.1\r\nHost: {web}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n");
    let status = request(web, &head, b"").await;
    assert_eq!(status, 200, "the fleet page");
    start.elapsed()
}

/// One event from the seat, from its append to the outbox to the controller's ack.
async fn event_ack(agent: &TestAgent) -> Duration {
    let last = agent.produce(1).await;
    let start = Instant::now();
    while agent.acked() < last {
        tokio::time::sleep(Duration::from_micros(200)).await;
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "event not acknowledged"
        );
    }
    start.elapsed()
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99 / 100).min(samples.len() - 1)]
}

struct Phase {
    page: Vec<Duration>,
    ack: Vec<Duration>,
}

impl Phase {
    /// Samples until `until` says stop (and at least `min` of each).
    async fn measure(
        web: SocketAddr,
        cookie: &str,
        agent: &TestAgent,
        min: usize,
        until: &AtomicBool,
    ) -> Phase {
        let mut phase = Phase {
            page: Vec::new(),
            ack: Vec::new(),
        };
        while phase.page.len() < min || !until.load(Ordering::Acquire) {
            phase.page.push(fleet_page(web, cookie).await);
            phase.ack.push(event_ack(agent).await);
        }
        phase
    }
}

/// The flood: `total` logins with at most 400 in flight.
async fn flood(web: SocketAddr, total: usize, cookie: String, token: String) -> Vec<(u16, usize)> {
    let oversized: Arc<[u8]> = format!("csrf={token}&login={}&password=x", "A".repeat(200 * 1024))
        .into_bytes()
        .into();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(400));
    let mut tasks = tokio::task::JoinSet::new();
    let mut noise: u64 = 0x5eed_cafe_f00d_d00d;
    let mut word = |len: usize| -> String {
        (0..len)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                char::from(b'a' + (noise % 26) as u8)
            })
            .collect()
    };
    for i in 0..total {
        let (from, body): (String, Arc<[u8]>) = match i % 20 {
            0 => (
                format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1),
                format!("csrf={token}&login={}&password={}", word(8), word(12))
                    .into_bytes()
                    .into(),
            ),
            1 => ("203.0.113.66".into(), oversized.clone()),
            2 => (
                "203.0.113.66".into(),
                format!("csrf={token}&login={}&password=x", word(2000))
                    .into_bytes()
                    .into(),
            ),
            3 => (
                "203.0.113.66".into(),
                format!("csrf={token}&login={STAFF}&password={}", word(12))
                    .into_bytes()
                    .into(),
            ),
            _ => (
                "203.0.113.66".into(),
                format!("csrf={token}&login={}&password={}", word(10), word(12))
                    .into_bytes()
                    .into(),
            ),
        };
        let head = format!(
            "POST /connexion HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\nX-Forwarded-For: {from}\r\n\
             Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        let place = in_flight.clone().acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let status = request(web, &head, &body).await;
            drop(place);
            status
        });
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    while let Some(status) = tasks.join_next().await {
        *statuses.entry(status.unwrap_or(0)).or_default() += 1;
    }
    statuses.into_iter().collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let total = if short { 1_000 } else { 10_000 };
    let samples = if short { 50 } else { 200 };

    let ctrl = TestController::start().await;
    let c = ctrl.controller.clone();
    let web = serve_dashboard(c.clone()).await;
    c.create_staff(STAFF, "Accueil", Role::Staff, &[SITE.to_string()], PASSWORD)
        .await
        .unwrap();
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
    let mut agent = TestAgent::start(config).await;
    agent.wait_connected(30).await;
    let session = web::login(web, STAFF, PASSWORD).await;
    let (csrf_cookie, token) = tokio::task::spawn_blocking(move || web::login_page(web, &[]))
        .await
        .unwrap();

    // Warm up (first page, first event, the decoy hash), then the baseline.
    let done = AtomicBool::new(true);
    Phase::measure(web, &session, &agent, 10, &done).await;
    let rss_before = resident_bytes();
    let mut before = Phase::measure(web, &session, &agent, samples, &done).await;

    // During: the flood runs while the page and the seat are measured; memory sampled.
    let peak = Arc::new(AtomicU64::new(rss_before));
    let flooding = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, flooding) = (peak.clone(), flooding.clone());
        tokio::spawn(async move {
            while !flooding.load(Ordering::Acquire) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    // The attacker is another machine: its own thread and runtime, not the controller's.
    let (flood_tx, flood_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = flood_tx.send(runtime.block_on(flood(web, total, csrf_cookie, token)));
    });
    let flood_task = flood_rx;
    let flood_done = Arc::new(AtomicBool::new(false));
    let during = {
        let signal = flood_done.clone();
        let waiter = tokio::spawn(async move {
            let statuses = flood_task.await.unwrap();
            signal.store(true, Ordering::Release);
            statuses
        });
        let during = Phase::measure(web, &session, &agent, 1, &flood_done).await;
        let statuses = waiter.await.unwrap();
        (during, statuses)
    };
    let (mut during, statuses) = during;
    let flood_secs = started.elapsed().as_secs_f64();
    flooding.store(true, Ordering::Release);
    sampler.await.unwrap();
    let rss_peak = peak.load(Ordering::Relaxed);

    // After: once the minute of the flood is over (its refusals are written to the audit
    // log and the controller gives back what the flood used), the same measures.
    let into_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 60_000)
        .unwrap_or(0) as u64;
    tokio::time::sleep(Duration::from_millis(60_000 - into_minute + 2_000)).await;
    let mut after = Phase::measure(web, &session, &agent, samples, &done).await;
    let rss_after = resident_bytes();
    agent.stop().await;

    let mb = |b: u64| b as f64 / 1_000_000.0;
    let (page0, ack0) = (p99(&mut before.page), p99(&mut before.ack));
    let (page1, ack1) = (p99(&mut during.page), p99(&mut during.ack));
    let (page2, ack2) = (p99(&mut after.page), p99(&mut after.ack));
    println!(
        "flood: {total} logins in {flood_secs:.1} s ({:.0}/s), statuses {statuses:?}",
        total as f64 / flood_secs
    );
    println!(
        "memory: before {:.1} MB, peak {:.1} MB (+{:.1}), after {:.1} MB (+{:.1})",
        mb(rss_before),
        mb(rss_peak),
        mb(rss_peak.saturating_sub(rss_before)),
        mb(rss_after),
        mb(rss_after.saturating_sub(rss_before))
    );
    println!(
        "fleet page p99: before {:.2} ms, during {:.2} ms ({:.2}x, {} samples), after {:.2} ms ({:.2}x)",
        ms(page0),
        ms(page1),
        ms(page1) / ms(page0),
        during.page.len(),
        ms(page2),
        ms(page2) / ms(page0)
    );
    println!(
        "event ack p99: before {:.2} ms, during {:.2} ms ({:.2}x), after {:.2} ms ({:.2}x)",
        ms(ack0),
        ms(ack1),
        ms(ack1) / ms(ack0),
        ms(ack2),
        ms(ack2) / ms(ack0)
    );
    println!(
        "login flood benchmark ({total} requests): memory +{:.1} MB peak, +{:.1} MB after (target < 50); \
         p99 during/before: page {:.2}x, ack {:.2}x; after/before: page {:.2}x, ack {:.2}x (target < 2)",
        mb(rss_peak.saturating_sub(rss_before)),
        mb(rss_after.saturating_sub(rss_before)),
        ms(page1) / ms(page0),
        ms(ack1) / ms(ack0),
        ms(page2) / ms(page0),
        ms(ack2) / ms(ack0)
    );
}
