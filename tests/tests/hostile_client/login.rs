//! Login floods and exports opened in a spreadsheet: the unauthenticated web client and what it may plant.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use commune_protocol::messages::{AgentEvent, EventEnvelope, SessionStarted, SlotKind};
use commune_tests::web::{self, http};
use commune_tests::{agent_base, SITE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Bystanders, PASSWORD, STAFF};

/// Resident memory of this process (the controller runs in it), in bytes.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .expect("VmRSS in /proc/self/status")
        * 1024
}

/// The database's size on disk, with its write-ahead log.
/// The store's size once its write-ahead log is folded into the file: the log itself keeps
/// the size of the largest burst of writes (the bystanders' own data included), which says
/// nothing about what the attack stored.
async fn database_bytes(dir: &std::path::Path) -> u64 {
    let url = format!("sqlite://{}", dir.join("commune.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("open the store's file");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
    drop(conn);
    ["commune.db", "commune.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// A tiny deterministic generator: the attacker's logins need not be secure, only varied.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'a' + (self.next() % 26) as u8))
            .collect()
    }
}

/// One raw `POST /connexion` (an attacker does not wait for pages); the status, or 0 when
/// the server cut the connection first (a body refused before it was read).
async fn post_raw(web: SocketAddr, from: &str, cookie: &str, body: Arc<[u8]>) -> u16 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(web).await else {
        return 0;
    };
    let head = format!(
        "POST /connexion HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\nX-Forwarded-For: {from}\r\n\
         Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let _ = stream.write_all(&body).await;
    let mut reply = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut reply[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    std::str::from_utf8(&reply[..read])
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Requests of the flood: `COMMUNE_LOGIN_FLOOD` or 3,000.
fn flood_size() -> usize {
    std::env::var("COMMUNE_LOGIN_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// Thousands of parallel logins, from one address and from many, with random and oversized
/// logins, while the bystanders are checked: seats keep being served, the staff member logs
/// in (from another address) and opens a slot; afterwards the audit log holds a few
/// aggregated lines, the database did not grow by megabytes, the controller's memory did
/// not balloon, and the staff member's login still works.
/// Run in a process of its own: it measures the process's resident memory.
#[test]
fn a_login_flood_leaves_seats_and_staff_served_within_bounded_memory() {
    if commune_tests::alone(
        "login::a_login_flood_leaves_seats_and_staff_served_within_bounded_memory",
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(login_flood());
    }
}

async fn login_flood() {
    let mut b = Bystanders::start().await;
    b.still_served(60).await;
    let web = b.web;
    let c = b.ctrl.controller.clone();
    let dir = b.ctrl.dir.path().to_path_buf();
    c.flush_login_audit().await;
    let audit_before = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap()
        .len();
    let db_before = database_bytes(&dir).await;
    let rss_before = resident_bytes();

    // An attacker is not cross-site: it reads the login page for a CSRF cookie and token.
    let (cookie, token) = tokio::task::spawn_blocking(move || web::login_page(web, &[]))
        .await
        .unwrap();
    let total = flood_size();
    let oversized: Arc<[u8]> = format!("csrf={token}&login={}&password=x", "A".repeat(200 * 1024))
        .into_bytes()
        .into();
    let flood = {
        let (cookie, token) = (cookie.clone(), token.clone());
        async move {
            let in_flight = Arc::new(tokio::sync::Semaphore::new(400));
            let mut noise = Noise(0x5eed_cafe_f00d_d00d);
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..total {
                let (from, body): (String, Arc<[u8]>) = match i % 20 {
                    // One address in twenty requests: a new one each time (a botnet, or
                    // forged X-Forwarded-For behind the proxy).
                    0 => (
                        format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1),
                        format!(
                            "csrf={token}&login={}&password={}",
                            noise.word(8),
                            noise.word(12)
                        )
                        .into_bytes()
                        .into(),
                    ),
                    // Bodies far larger than any login form.
                    1 => ("203.0.113.66".into(), oversized.clone()),
                    // A login longer than any account's, within the form's size.
                    2 => (
                        "203.0.113.66".into(),
                        format!("csrf={token}&login={}&password=x", noise.word(2000))
                            .into_bytes()
                            .into(),
                    ),
                    // The staff member's own login guessed from the attacker's address.
                    3 => (
                        "203.0.113.66".into(),
                        format!("csrf={token}&login={STAFF}&password={}", noise.word(12))
                            .into_bytes()
                            .into(),
                    ),
                    _ => (
                        "203.0.113.66".into(),
                        format!(
                            "csrf={token}&login={}&password={}",
                            noise.word(10),
                            noise.word(12)
                        )
                        .into_bytes()
                        .into(),
                    ),
                };
                let place = in_flight.clone().acquire_owned().await.unwrap();
                let cookie = cookie.clone();
                tasks.spawn(async move {
                    let status = post_raw(web, &from, &cookie, body).await;
                    drop(place);
                    status
                });
            }
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            while let Some(status) = tasks.join_next().await {
                *statuses.entry(status.unwrap()).or_default() += 1;
            }
            statuses
        }
    };
    let started = Instant::now();
    let (statuses, ()) = tokio::join!(flood, b.still_served(120));
    let flood_secs = started.elapsed().as_secs_f64();
    let rss_after = resident_bytes();
    eprintln!(
        "login flood: {total} requests in {flood_secs:.1} s, statuses {statuses:?}, \
         resident memory {} MB -> {} MB",
        rss_before / 1_000_000,
        rss_after / 1_000_000
    );
    assert_eq!(statuses.values().sum::<usize>(), total);
    assert!(
        statuses
            .keys()
            .all(|s| matches!(s, 0 | 401 | 413 | 429 | 503)),
        "only refusals, no error and no session: {statuses:?}"
    );
    assert!(
        statuses.get(&429).copied().unwrap_or(0) > total / 2,
        "the attacker's address is held off: {statuses:?}"
    );

    // Afterwards: the staff member still logs in and opens a slot, seats still served.
    b.still_served(60).await;
    let cookie = web::login(web, STAFF, PASSWORD).await;
    assert!(cookie.starts_with("commune_session="));
    // And at the attacker's address, that login is held off: its guesses failed there.
    let (held, _) = tokio::task::spawn_blocking(move || {
        let r = web::post_login(web, &[("X-Forwarded-For", "203.0.113.66")], STAFF, PASSWORD);
        (r.status, r.body)
    })
    .await
    .unwrap();
    assert_eq!(held, 429);

    // Refusals counted by reason.
    for reason in ["wrong", "too_many", "too_long"] {
        let n = b
            .ctrl
            .metric(&format!(
                "commune_logins_refused_total{{reason=\"{reason}\"}}"
            ))
            .await;
        assert!(n > 0.0, "no {reason} refusal counted");
    }
    // The audit log: a few aggregated lines, not one per attempt; no 200 KB login in it.
    c.flush_login_audit().await;
    let log = c
        .store()
        .audit_log(commune_protocol::UtcMillis(0))
        .await
        .unwrap();
    let new_rows = log.len() - audit_before;
    let minutes = (flood_secs / 60.0).ceil() as usize + 2;
    assert!(
        new_rows <= 4 * minutes + 20,
        "{new_rows} audit rows for {total} attempts"
    );
    assert!(log
        .iter()
        .all(|e| e.detail.len() < 2_000 && e.actor.len() <= 300));
    let db_growth = database_bytes(&dir).await.saturating_sub(db_before);
    assert!(
        db_growth < 2_000_000,
        "the database grew by {db_growth} bytes"
    );
    let rss_growth = rss_after.saturating_sub(rss_before);
    assert!(
        rss_growth < 100_000_000,
        "resident memory grew by {} MB",
        rss_growth / 1_000_000
    );
}

/// A seat whose host name is `=HYPERLINK("http://evil")`, whose asset tag and permanence id
/// carry `;` and line breaks: the exports downloaded from the dashboard and opened as CSV
/// show them as text in their own cells, and no row is forged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_with_a_formula_in_a_host_name_opens_as_text() {
    let b = Bystanders::start().await;
    let c = b.ctrl.controller.clone();
    let dir = tempfile::tempdir().unwrap();
    let hostile_name = "=HYPERLINK(\"http://evil\")";
    let hostile_tag = "GRE;1\n=2+3";
    let hostile_permanence = "perm;forged\n@SUM(A1)";
    let config = commune_agent::enroll::enroll(commune_agent::enroll::EnrollOptions {
        controller: b.ctrl.addr.to_string(),
        token: b.ctrl.token().await,
        config_path: dir.path().join("agent.toml"),
        state_dir: dir.path().join("state"),
        asset_tag: Some(hostile_tag.into()),
        funding_line: None,
        hostname: Some(hostile_name.into()),
        base: agent_base(),
    })
    .await
    .expect("enroll the hostile seat");
    let seat = config.agent_id.clone();
    let now = commune_controller::now();
    c.store()
        .upsert_inventory(
            &seat,
            &commune_protocol::health::Inventory {
                at: now,
                hostname: hostile_name.into(),
                dmi_serial: None,
                dmi_vendor: None,
                dmi_product: None,
                mac_addresses: vec![],
                cpu_model: "cpu".into(),
                cpu_count: 1,
                memory_total_bytes: 1,
                disks: vec![],
                asset_tag: Some(hostile_tag.into()),
                funding_line: None,
                os: "Debian".into(),
                kernel: "6.1".into(),
                agent_version: "0.1.0".into(),
            },
            now,
        )
        .await
        .unwrap();
    c.store()
        .ingest_events(
            &seat,
            &[EventEnvelope {
                seq: 1,
                at: now,
                event: AgentEvent::SessionStarted(SessionStarted {
                    session_id: "s-1".into(),
                    slot_kind: SlotKind::Supervised,
                    permanence_id: Some(hostile_permanence.into()),
                    with_ticket: false,
                }),
            }],
            now,
        )
        .await
        .unwrap();

    let web = b.web;
    let (seats, lines) = tokio::task::spawn_blocking(move || {
        let cookie = web::login_blocking(web, STAFF, PASSWORD);
        let get = |path: String| http(web, "GET", &path, &[("Cookie", &cookie)], "");
        (
            get(format!("/sites/{SITE}/rapports/postes.csv")),
            get(format!("/sites/{SITE}/rapports/permanences.csv")),
        )
    })
    .await
    .unwrap();
    assert_eq!(seats.status, 200, "{}", seats.body);
    assert!(seats.headers.contains("text/csv"));
    assert!(seats.headers.contains("cache-control: no-store"));

    let rows = commune_tests::parse_csv(&seats.body, ';');
    let header = &rows[0];
    assert_eq!(header.len(), 16, "{header:?}");
    let data: Vec<&Vec<String>> = rows[1..]
        .iter()
        .take_while(|r| !(r.len() == 1 && r[0].is_empty()))
        .collect();
    assert_eq!(data.len(), 3, "three seats, no forged row: {}", seats.body);
    assert!(data.iter().all(|r| r.len() == 16), "{data:?}");
    let row = data
        .iter()
        .find(|r| r[3] == seat)
        .expect("the hostile seat's row");
    assert_eq!(
        row[4],
        format!("'{hostile_name}"),
        "the formula shows as text"
    );
    assert_eq!(row[5], "GRE;1 =2+3", "the asset tag stays in its cell");
    // Read line by line (grep, a quick script), no line starts a formula either.
    assert!(
        seats
            .body
            .lines()
            .all(|l| !l.starts_with(['=', '+', '-', '@'])),
        "{}",
        seats.body
    );

    assert_eq!(lines.status, 200, "{}", lines.body);
    let rows = commune_tests::parse_csv(&lines.body, ';');
    // 7 columns, the people received, then one per La Coop category.
    let columns = 8 + commune_controller::reports::coop_categories().count();
    assert_eq!(rows[0].len(), columns);
    let permanence = rows
        .iter()
        .skip(1)
        .find(|r| r.get(3).is_some_and(|p| p.starts_with("perm")))
        .expect("the permanence's row");
    assert_eq!(permanence.len(), columns, "{permanence:?}");
    assert_eq!(permanence[3], "perm;forged @SUM(A1)");
    assert!(lines.body.lines().all(|l| !l.starts_with('@')));
}
