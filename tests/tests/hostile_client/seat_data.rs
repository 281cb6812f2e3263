//! A compromised seat (its key stolen, speaking the protocol by hand): far-future
//! timestamps, huge strings and lists, a health flood, a gigantic session length, another
//! site's tickets and a flood of events. Its data is stored within its bounds, and the
//! bystanders are served throughout.

use std::time::{Duration, Instant};

use commune_controller::config::DatabaseUrl;
use commune_controller::store::RetentionConfig;
use commune_controller::{now, ControllerConfig};
use commune_protocol::health::{DiskInfo, DiskUsage, HealthSnapshot, Inventory};
use commune_protocol::messages::*;
use commune_protocol::UtcMillis;
use commune_tests::raw::RawSeat;
use commune_tests::{enroll_agent, postgres_database, SITE};

use super::Bystanders;

/// A seat enrolled with a real token, connected by hand.
async fn hostile_seat(b: &Bystanders) -> (RawSeat, String, tempfile::TempDir) {
    let (config, dir) = enroll_agent(b.ctrl.addr, &b.ctrl.token().await)
        .await
        .expect("enroll the seat");
    (RawSeat::connect(&config).await, config.agent_id, dir)
}

/// Waits until the controller acknowledges `seq` (skipping what else it pushes).
async fn wait_ack(seat: &mut RawSeat, seq: u64, secs: u64) {
    let acked = async {
        loop {
            match seat.recv().await {
                Some(ControllerMessage::Ack(a)) if a.up_to_seq >= seq => return,
                Some(_) => continue,
                None => panic!("the controller closed the seat's stream before acking {seq}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), acked)
        .await
        .unwrap_or_else(|_| panic!("seq {seq} acknowledged within {secs} s"));
}

async fn send_events(seat: &mut RawSeat, events: Vec<EventEnvelope>) {
    seat.send(&AgentMessage::Events(EventBatch { events }))
        .await;
}

fn health(at: UtcMillis) -> HealthSnapshot {
    HealthSnapshot {
        at,
        cpu_percent: 5.0,
        load_average: [0.1; 3],
        memory_used_bytes: 1,
        memory_total_bytes: 2,
        swap_used_bytes: 0,
        swap_total_bytes: 0,
        disks: vec![],
        temperatures: vec![],
        uptime_secs: 1,
        os: "Debian 12".into(),
        kernel: "6.1".into(),
        agent_version: "raw".into(),
    }
}

fn event(seq: u64, at: UtcMillis, event: AgentEvent) -> EventEnvelope {
    EventEnvelope { seq, at, event }
}

fn alert(seq: u64, at: UtcMillis, message: String) -> EventEnvelope {
    event(
        seq,
        at,
        AgentEvent::Alert(Alert {
            kind: AlertKind::DiskFull,
            message,
        }),
    )
}

fn started(
    seq: u64,
    at: UtcMillis,
    session_id: String,
    permanence_id: Option<String>,
) -> EventEnvelope {
    event(
        seq,
        at,
        AgentEvent::SessionStarted(SessionStarted {
            session_id,
            slot_kind: SlotKind::Free,
            permanence_id,
            with_ticket: false,
        }),
    )
}

fn ended(seq: u64, at: UtcMillis, session_id: &str, duration_secs: u64) -> EventEnvelope {
    event(
        seq,
        at,
        AgentEvent::SessionEnded(SessionEnded {
            session_id: session_id.into(),
            reason: EndReason::Visitor,
            duration_secs,
            documents_erased: 0,
        }),
    )
}

async fn limited(b: &Bystanders, limit: &str, message: &str) -> f64 {
    b.ctrl
        .metric(&format!(
            "commune_seat_limited_total{{limit=\"{limit}\",message=\"{message}\"}}"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_future_timestamps_are_clamped_and_go_with_the_purge() {
    let mut b = Bystanders::start().await;
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let ahead = now().plus_secs(100 * 365 * 86_400);
    seat.send(&AgentMessage::Health(health(ahead))).await;
    send_events(
        &mut seat,
        vec![
            alert(1, ahead, "from the future".into()),
            started(2, ahead, "s-ahead".into(), None),
            ended(3, ahead, "s-ahead", 600),
        ],
    )
    .await;
    wait_ack(&mut seat, 3, 30).await;
    b.still_served(30).await;

    // Stored at most the clock skew (10 minutes) ahead of when they arrived.
    let store = b.ctrl.controller.store();
    let latest = now().plus_secs(600);
    let alerts = store.recent_events(&id, "alert", 10).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].0 <= latest, "alert stored at {}", alerts[0].0);
    let snapshots = store.health_history(&id, UtcMillis(0), 10).await.unwrap();
    assert_eq!(snapshots.len(), 1);
    assert!(
        snapshots[0].0 <= latest,
        "health stored at {}",
        snapshots[0].0
    );
    let sessions = store
        .sessions(UtcMillis(0), UtcMillis(i64::MAX))
        .await
        .unwrap();
    let ours: Vec<_> = sessions.iter().filter(|s| s.agent_id == id).collect();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].started_at <= latest);
    assert!(limited(&b, "timestamp_clamped", "alert").await >= 1.0);
    assert!(limited(&b, "timestamp_clamped", "health").await >= 1.0);

    // A year and a day on, the purge takes them with everything else of that age.
    store
        .purge(&RetentionConfig::default(), now().plus_secs(400 * 86_400))
        .await
        .expect("the purge succeeds");
    assert!(store.event_seqs(&id).await.unwrap().is_empty());
    assert_eq!(store.health_count(&id).await.unwrap(), 0);
    let sessions = store
        .sessions(UtcMillis(0), UtcMillis(i64::MAX))
        .await
        .unwrap();
    assert!(sessions.iter().all(|s| s.agent_id != id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_strings_and_lists_are_stored_cut() {
    let mut b = Bystanders::start().await;
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let at = now();
    // Each message well within the 1 MiB frame, each string and list far beyond its cap; a
    // NUL byte, which PostgreSQL's TEXT refuses, in the strings.
    let huge = |c: &str, n: usize| format!("{c}\0{}", c.repeat(n));
    seat.send(&AgentMessage::Inventory(Inventory {
        at,
        hostname: huge("h", 100_000),
        dmi_serial: Some(huge("s", 50_000)),
        dmi_vendor: None,
        dmi_product: None,
        mac_addresses: vec!["00:11:22:33:44:55".into(); 10_000],
        cpu_model: "cpu".into(),
        cpu_count: 4,
        memory_total_bytes: 1,
        disks: vec![
            DiskInfo {
                name: "sda".into(),
                kind: "SSD".into(),
                total_bytes: 1,
            };
            5_000
        ],
        asset_tag: Some(huge("é", 50_000)),
        funding_line: None,
        os: "os".into(),
        kernel: "k".into(),
        agent_version: "raw".into(),
    }))
    .await;
    let mut snapshot = health(at);
    snapshot.os = huge("o", 100_000);
    snapshot.disks = (0..8_000)
        .map(|i| DiskUsage {
            mount_point: format!("/m{i}"),
            file_system: "x".into(),
            total_bytes: 1,
            available_bytes: 1,
        })
        .collect();
    seat.send(&AgentMessage::Health(snapshot)).await;
    send_events(
        &mut seat,
        vec![
            alert(1, at, huge("a", 300_000)),
            started(2, at, huge("i", 100_000), Some(huge("p", 100_000))),
        ],
    )
    .await;
    send_events(
        &mut seat,
        vec![event(
            3,
            at,
            AgentEvent::WipeReport(WipeReport {
                session_id: "s".into(),
                verified: true,
                total_us: u64::MAX,
                steps: vec![
                    WipeStep {
                        name: "kill".into(),
                        duration_us: 1,
                        count: 1,
                        ok: true,
                        detail: Some("d".repeat(50)),
                    };
                    5_000
                ],
                checks: vec![],
                kernel: huge("k", 100_000),
                swap: String::new(),
                handoffs: 0,
            }),
        )],
    )
    .await;
    wait_ack(&mut seat, 3, 30).await;
    b.still_served(30).await;

    let store = b.ctrl.controller.store();
    let inv = store
        .inventory(&id)
        .await
        .unwrap()
        .expect("inventory stored");
    assert_eq!(inv.hostname, "h".repeat(256));
    assert_eq!(inv.dmi_serial.as_deref().map(str::len), Some(256));
    assert_eq!(inv.asset_tag, Some("é".repeat(128)));
    assert_eq!(inv.mac_addresses.len(), 64);
    assert_eq!(inv.disks.len(), 64);
    let disks = store.latest_disks_since(UtcMillis(0)).await.unwrap();
    let disks: Vec<DiskUsage> = serde_json::from_str(&disks[&id]).unwrap();
    assert_eq!(disks.len(), 64);
    let bodies = store.event_bodies(&id).await.unwrap();
    assert_eq!(bodies.len(), 3);
    let sizes: Vec<usize> = bodies.iter().map(String::len).collect();
    assert!(sizes[0] < 1_200, "alert stored in {} bytes", sizes[0]);
    assert!(sizes[1] < 800, "session start stored in {} bytes", sizes[1]);
    assert!(
        sizes[2] < 10_000,
        "wipe report stored in {} bytes",
        sizes[2]
    );
    let session = store
        .sessions(UtcMillis(0), UtcMillis(i64::MAX))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.agent_id == id)
        .expect("the session is in the log");
    assert_eq!(session.session_id, "i".repeat(256));
    assert_eq!(session.permanence_id, Some("p".repeat(256)));
    assert!(limited(&b, "text_truncated", "inventory").await >= 3.0);
    assert!(limited(&b, "list_truncated", "inventory").await >= 2.0);
    assert!(limited(&b, "list_truncated", "health").await >= 1.0);
    assert!(limited(&b, "control_removed", "alert").await >= 1.0);
    assert!(limited(&b, "list_truncated", "wipe_report").await >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_flood_is_rate_limited() {
    let mut b = Bystanders::start().await;
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let began = Instant::now();
    const FLOOD: usize = 3_000;
    let flood = tokio::spawn(async move {
        for _ in 0..FLOOD {
            seat.send(&AgentMessage::Health(health(now()))).await;
        }
        seat
    });
    b.still_served(30).await;
    let mut seat = flood.await.expect("the flood");
    // The seat's frames are handled in order: once this is acknowledged, every snapshot
    // before it was dealt with.
    send_events(&mut seat, vec![alert(1, now(), "done".into())]).await;
    wait_ack(&mut seat, 1, 60).await;
    let elapsed = began.elapsed();

    // The test interval is 1 s: one snapshot per 750 ms at most is kept.
    let stored = b.ctrl.controller.store().health_count(&id).await.unwrap();
    let allowed = (elapsed.as_secs_f64() / 0.75).ceil() as i64 + 1;
    assert!(
        (1..=allowed).contains(&stored),
        "{stored} snapshots stored in {elapsed:?}"
    );
    let dropped = limited(&b, "health_rate", "health").await;
    assert!(
        dropped >= (FLOOD as i64 - stored) as f64,
        "{dropped} counted as dropped"
    );
    b.still_served(30).await;
}

/// Two sessions claiming `u64::MAX` seconds: stored as a day each, the report counts 48 h
/// at most, and the purge that folds them into daily aggregates succeeds.
async fn a_gigantic_session_length(tweak: impl FnOnce(&mut ControllerConfig)) {
    let mut b = Bystanders::start_with(tweak).await;
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let at = now();
    send_events(
        &mut seat,
        vec![
            started(1, at, "s-1".into(), None),
            ended(2, at.plus_secs(1), "s-1", u64::MAX),
            started(3, at.plus_secs(2), "s-2".into(), None),
            ended(4, at.plus_secs(3), "s-2", u64::MAX),
        ],
    )
    .await;
    wait_ack(&mut seat, 4, 30).await;
    b.still_served(30).await;

    let report = b
        .ctrl
        .controller
        .site_report(SITE, at.plus_secs(-86_400), at.plus_secs(86_400))
        .await
        .expect("the site report");
    let line = report
        .seats
        .iter()
        .find(|s| s.agent_id == id)
        .expect("the seat's line");
    assert_eq!(line.sessions, 2);
    assert!(line.hours_used <= 48.0, "{} hours used", line.hours_used);
    assert!(limited(&b, "duration_clamped", "session_ended").await >= 2.0);

    let store = b.ctrl.controller.store();
    let purged = store
        .purge(&RetentionConfig::default(), now().plus_secs(400 * 86_400))
        .await
        .expect("the purge succeeds");
    assert!(purged.sessions_aggregated >= 2);
    let days = store.seat_days(&id).await.unwrap();
    let seconds: i64 = days.iter().map(|d| d.session_seconds).sum();
    assert_eq!(seconds, 2 * 86_400);
    // And again an hour later: nothing left to fold, nothing fails.
    store
        .purge(
            &RetentionConfig::default(),
            now().plus_secs(400 * 86_400 + 3_600),
        )
        .await
        .expect("the next purge succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigantic_session_length_on_sqlite() {
    a_gigantic_session_length(|_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigantic_session_length_on_postgresql() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let url = db.url.clone();
    a_gigantic_session_length(move |c| c.database_url = DatabaseUrl(url)).await;
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_cannot_spend_another_sites_tickets() {
    let mut b = Bystanders::start().await;
    let store = b.ctrl.controller.store().clone();
    store
        .add_site("mdh-other", "MDH Other", now())
        .await
        .unwrap();
    let until = now().plus_secs(3_600);
    store
        .create_tickets("mdh-other", &["theirs".into()], 45, until, now())
        .await
        .unwrap();
    store
        .create_tickets(SITE, &["ours".into()], 45, until, now())
        .await
        .unwrap();
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let used = |seq, hash: &str| {
        event(
            seq,
            now(),
            AgentEvent::TicketUsed(TicketUsed {
                ticket_hash: hash.into(),
                session_id: format!("s-{seq}"),
                offline: false,
            }),
        )
    };
    send_events(&mut seat, vec![used(1, "theirs"), used(2, "ours")]).await;
    wait_ack(&mut seat, 2, 30).await;
    b.still_served(30).await;
    let theirs = store.ticket("theirs").await.unwrap().unwrap();
    assert_eq!(theirs.used_at, None, "another site's ticket stays unused");
    assert!(!theirs.double_use);
    let ours = store.ticket("ours").await.unwrap().unwrap();
    assert_eq!(ours.used_by, Some(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_events_is_slowed_down_never_dropped() {
    // 200 events at once, then 100 a second.
    let mut b = Bystanders::start_with(|c| {
        c.seat.events_burst = 200;
        c.seat.events_per_minute = 6_000;
    })
    .await;
    let (mut seat, id, _dir) = hostile_seat(&b).await;
    let began = Instant::now();
    let flood = tokio::spawn(async move {
        // Without waiting for acknowledgements, as a hostile seat would.
        for frame in 0..6u64 {
            let events = (1..=100)
                .map(|i| alert(frame * 100 + i, now(), format!("flood {i}")))
                .collect();
            send_events(&mut seat, events).await;
        }
        wait_ack(&mut seat, 600, 60).await;
        began.elapsed()
    });
    // The bystanders' events are acknowledged while the seat's wait for its rate.
    b.still_served(30).await;
    let took = flood.await.expect("the flood");
    assert!(
        took >= Duration::from_millis(3_500),
        "600 events acknowledged in {took:?}: not slowed down to 100 a second past the first 200"
    );
    let stored = b.ctrl.controller.store().event_seqs(&id).await.unwrap();
    assert_eq!(
        stored,
        (1..=600).collect::<Vec<_>>(),
        "every event stored once"
    );
    assert!(limited(&b, "events_delayed", "events").await >= 1.0);
    b.still_served(30).await;
}
