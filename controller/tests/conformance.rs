//! One conformance suite, run against both backends: a temporary SQLite file, and a fresh
//! database on the PostgreSQL server named by `COMMUNE_TEST_POSTGRES_URL` (CI installs and
//! starts one; under `CI=true` a missing server fails the suite instead of skipping it).

use commune_controller::store::{
    BackendKind, CommandStatus, IngestBatch, LastSeen, RetentionConfig, TokenRefusal,
};
use commune_controller::Store;
use commune_protocol::health::HealthSnapshot;
use commune_protocol::messages::*;
use commune_protocol::UtcMillis;

const NOW: UtcMillis = UtcMillis(1_795_183_200_000); // 2026-11-20T14:00:00Z
const SITE: &str = "mdh-test";

/// Keeps a test database alive for the test's duration.
enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] commune_tests::PgDatabase),
}

async fn sqlite_store() -> (Store, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("commune.db").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(store.kind(), BackendKind::Sqlite);
    (store, Guard::Sqlite(dir))
}

/// A fresh database on the test PostgreSQL server.
async fn pg_store() -> Option<(Store, Guard)> {
    let db = commune_tests::postgres_database().await?;
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.kind(), BackendKind::Postgres);
    Some((store, Guard::Postgres(db)))
}

async fn with_agent(store: &Store, agent_id: &str) {
    if store.sites().await.unwrap().is_empty() {
        store.add_site(SITE, "MDH Test", NOW).await.unwrap();
    }
    let hash = [agent_id.len() as u8 ^ agent_id.as_bytes()[agent_id.len() - 1]; 32];
    store
        .create_token(&hash, SITE, NOW, NOW.plus_secs(3600))
        .await
        .unwrap();
    store
        .enroll(&hash, NOW, agent_id, "pc", "0.1.0", |_| {
            Ok::<_, String>(((), "01".into(), NOW.plus_secs(86_400)))
        })
        .await
        .unwrap()
        .unwrap();
}

fn ev(seq: u64, at: UtcMillis, event: AgentEvent) -> EventEnvelope {
    EventEnvelope { seq, at, event }
}

fn alert(seq: u64) -> EventEnvelope {
    ev(
        seq,
        NOW,
        AgentEvent::Alert(Alert {
            kind: AlertKind::DiskFull,
            message: format!("e{seq}"),
        }),
    )
}

async fn tokens_are_single_use_even_under_a_race(store: Store) {
    store.add_site(SITE, "MDH Test", NOW).await.unwrap();
    let hash = [7u8; 32];
    store
        .create_token(&hash, SITE, NOW, NOW.plus_secs(60))
        .await
        .unwrap();
    let issue = |_: &str| Ok::<_, String>(((), "0a".to_string(), NOW.plus_secs(60)));
    let (a, b) = tokio::join!(
        store.enroll(&hash, NOW, "ag-a", "a", "1", issue),
        store.enroll(&hash, NOW, "ag-b", "b", "1", issue)
    );
    let wins = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|r| r.is_ok())
        .count();
    assert_eq!(wins, 1, "exactly one enrollment wins a token");
    let again = store
        .enroll(&hash, NOW, "ag-c", "c", "1", issue)
        .await
        .unwrap();
    assert!(matches!(again, Err(TokenRefusal::Used { .. })));
    store
        .create_token(&[8u8; 32], SITE, NOW, NOW.plus_secs(60))
        .await
        .unwrap();
    let late = store
        .enroll(&[8u8; 32], NOW.plus_secs(61), "ag-d", "d", "1", issue)
        .await
        .unwrap();
    assert!(matches!(late, Err(TokenRefusal::Expired { .. })));
    let unknown = store
        .enroll(&[9u8; 32], NOW, "ag-e", "e", "1", issue)
        .await
        .unwrap();
    assert_eq!(unknown, Err(TokenRefusal::Unknown));
    // A failed signature leaves the token unused.
    store
        .create_token(&[10u8; 32], SITE, NOW, NOW.plus_secs(60))
        .await
        .unwrap();
    let failed = store
        .enroll(&[10u8; 32], NOW, "ag-f", "f", "1", |_| {
            Err::<((), String, UtcMillis), _>("bad csr".to_string())
        })
        .await;
    assert!(failed.is_err());
    assert!(store
        .enroll(&[10u8; 32], NOW, "ag-g", "g", "1", issue)
        .await
        .unwrap()
        .is_ok());
    assert_eq!(store.enrolled_count().await.unwrap(), 2);
}

async fn events_are_stored_once_and_acked_contiguously(store: Store) {
    with_agent(&store, "ag-1").await;
    assert_eq!(
        store
            .ingest_events("ag-1", &[alert(1), alert(2), alert(3)], NOW)
            .await
            .unwrap(),
        3
    );
    // A resend after a lost ack, plus a gap.
    assert_eq!(
        store
            .ingest_events("ag-1", &[alert(2), alert(3), alert(4), alert(6)], NOW)
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        store.ingest_events("ag-1", &[alert(5)], NOW).await.unwrap(),
        6
    );
    assert_eq!(
        store.event_seqs("ag-1").await.unwrap(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(store.acked_seq("ag-1").await.unwrap(), 6);
}

async fn pages_printed_are_counted_once_per_event_and_period(store: Store) {
    with_agent(&store, "ag-1").await;
    let pages = |seq: u64, at: UtcMillis, pages: u32, by: ReleasedBy| {
        ev(
            seq,
            at,
            AgentEvent::PagesPrinted(PagesPrinted {
                pages,
                released_by: by,
            }),
        )
    };
    let batch = [
        pages(1, NOW, 3, ReleasedBy::Visitor),
        pages(2, NOW.plus_secs(60), 12, ReleasedBy::Staff),
        ev(3, NOW, AgentEvent::PrintWaitOver(PrintWaitOver { job: 7 })),
        pages(4, NOW.plus_secs(-86_400), 5, ReleasedBy::Visitor),
    ];
    store.ingest_events("ag-1", &batch, NOW).await.unwrap();
    // Delivered again after a lost ack: counted once.
    store.ingest_events("ag-1", &batch[..2], NOW).await.unwrap();
    let today = store
        .pages_printed("ag-1", NOW.plus_secs(-3600), NOW.plus_secs(3600))
        .await
        .unwrap();
    assert_eq!(today, (3, 12));
    let both = store
        .pages_printed("ag-1", NOW.plus_secs(-2 * 86_400), NOW.plus_secs(3600))
        .await
        .unwrap();
    assert_eq!(both, (8, 12));
    assert_eq!(
        store
            .pages_printed("ag-2", NOW.plus_secs(-3600), NOW.plus_secs(3600))
            .await
            .unwrap(),
        (0, 0)
    );
}

async fn one_transaction_serves_several_agents(store: Store) {
    with_agent(&store, "ag-1").await;
    with_agent(&store, "ag-2").await;
    let batches = vec![
        IngestBatch {
            agent_id: "ag-1".into(),
            events: (1..=300).map(alert).collect(),
        },
        IngestBatch {
            agent_id: "ag-2".into(),
            events: vec![alert(1), alert(3)],
        },
    ];
    assert_eq!(store.ingest(&batches, NOW).await.unwrap(), vec![300, 1]);
    assert_eq!(store.event_seqs("ag-1").await.unwrap().len(), 300);
    assert_eq!(store.event_seqs("ag-2").await.unwrap(), vec![1, 3]);
}

async fn sessions_are_derived_from_events(store: Store) {
    with_agent(&store, "ag-1").await;
    let started = ev(
        1,
        NOW,
        AgentEvent::SessionStarted(SessionStarted {
            session_id: "s-1".into(),
            slot_kind: SlotKind::Supervised,
            permanence_id: Some("perm-ecrivain".into()),
            with_ticket: false,
        }),
    );
    let ended = ev(
        2,
        NOW.plus_secs(1800),
        AgentEvent::SessionEnded(SessionEnded {
            session_id: "s-1".into(),
            reason: EndReason::TimeUp,
            duration_secs: 1800,
            documents_erased: 1,
        }),
    );
    store
        .ingest_events("ag-1", &[started.clone(), ended.clone()], NOW)
        .await
        .unwrap();
    // Resending changes nothing.
    store
        .ingest_events("ag-1", &[ended, started], NOW)
        .await
        .unwrap();
    let sessions = store
        .sessions(NOW.plus_secs(-1), NOW.plus_secs(1))
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(
        (
            s.slot_kind.as_str(),
            s.permanence_id.as_deref(),
            s.site_id.as_str()
        ),
        ("supervised", Some("perm-ecrivain"), SITE)
    );
    assert_eq!(
        (s.duration_secs, s.end_reason.as_deref()),
        (Some(1800), Some("time_up"))
    );
    assert_eq!(s.ended_at, Some(NOW.plus_secs(1800)));
}

async fn commands_wait_are_delivered_and_their_result_is_stored(store: Store) {
    with_agent(&store, "ag-1").await;
    let action = CommandAction::Message {
        text: "Bonjour".into(),
    };
    let c = store
        .create_command(
            "ag-1",
            action.clone(),
            "staff:alice",
            NOW,
            NOW.plus_secs(600),
        )
        .await
        .unwrap();
    assert_eq!(c.status(NOW), CommandStatus::Pending);
    let pending = store.pending_commands("ag-1", NOW).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].action, action);
    store.mark_delivered(&c.id, NOW).await.unwrap();
    assert_eq!(
        store.command(&c.id).await.unwrap().unwrap().status(NOW),
        CommandStatus::Delivered
    );
    let result = ev(
        1,
        NOW.plus_secs(1),
        AgentEvent::CommandResult(CommandResult {
            command_id: c.id.clone(),
            outcome: CommandOutcome::Done,
            detail: "shown".into(),
        }),
    );
    store.ingest_events("ag-1", &[result], NOW).await.unwrap();
    let done = store.command(&c.id).await.unwrap().unwrap();
    assert_eq!(done.status(NOW), CommandStatus::Finished("done".into()));
    assert_eq!(done.detail.as_deref(), Some("shown"));
    assert!(store
        .pending_commands("ag-1", NOW)
        .await
        .unwrap()
        .is_empty());
    // An undelivered command expires.
    let late = store
        .create_command("ag-1", CommandAction::Unlock, "cli", NOW, NOW.plus_secs(60))
        .await
        .unwrap();
    assert!(store
        .pending_commands("ag-1", NOW.plus_secs(61))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(late.status(NOW.plus_secs(61)), CommandStatus::Expired);
    assert!(store
        .create_command("ag-nobody", CommandAction::Unlock, "cli", NOW, NOW)
        .await
        .is_err());
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
        os: "Debian".into(),
        kernel: "6.1".into(),
        agent_version: "0.1.0".into(),
    }
}

async fn retention_reduces_old_sessions_to_daily_aggregates(store: Store) {
    with_agent(&store, "ag-1").await;
    let year_ago = NOW.plus_secs(-400 * 86_400); // 2025-10-16
                                                 // Two old sessions on the same Paris day (one at 23:30 UTC = 01:30 the next day in Paris),
                                                 // one recent.
    let old_evening =
        UtcMillis::from_secs(year_ago.as_secs() - year_ago.as_secs() % 86_400 + 10 * 3600);
    let old_late = old_evening.plus_secs(13 * 3600 + 30 * 60);
    let mut seq = 0;
    let mut events = Vec::new();
    for (id, at, kind) in [
        ("s-old1", old_evening, SlotKind::Free),
        ("s-old2", old_late, SlotKind::Supervised),
        ("s-new", NOW, SlotKind::Free),
    ] {
        seq += 1;
        events.push(ev(
            seq,
            at,
            AgentEvent::SessionStarted(SessionStarted {
                session_id: id.into(),
                slot_kind: kind,
                permanence_id: None,
                with_ticket: false,
            }),
        ));
        seq += 1;
        events.push(ev(
            seq,
            at.plus_secs(600),
            AgentEvent::SessionEnded(SessionEnded {
                session_id: id.into(),
                reason: EndReason::Visitor,
                duration_secs: 600,
                documents_erased: 0,
            }),
        ));
    }
    store.ingest_events("ag-1", &events, NOW).await.unwrap();
    store
        .insert_health("ag-1", &health(year_ago), NOW)
        .await
        .unwrap();
    store
        .insert_health("ag-1", &health(NOW), NOW)
        .await
        .unwrap();
    store
        .create_token(&[99u8; 32], SITE, year_ago, year_ago.plus_secs(3600))
        .await
        .unwrap();

    // Tickets: one expired 25 h ago goes, one expired 23 h ago stays (its seats still say
    // "expired" rather than "unknown").
    store
        .create_tickets(
            SITE,
            &["old".into()],
            45,
            NOW.plus_secs(-25 * 3600),
            year_ago,
        )
        .await
        .unwrap();
    store
        .create_tickets(
            SITE,
            &["recent".into()],
            45,
            NOW.plus_secs(-23 * 3600),
            year_ago,
        )
        .await
        .unwrap();

    let report = store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    assert_eq!(report.tickets_deleted, 1);
    assert!(store.ticket("old").await.unwrap().is_none());
    assert!(store.ticket("recent").await.unwrap().is_some());
    assert_eq!(report.sessions_aggregated, 2);
    assert_eq!(report.events_deleted, 4);
    assert_eq!(report.health_deleted, 1);
    assert!(report.tokens_deleted >= 1);
    let days = store.seat_days("ag-1").await.unwrap();
    let day_of = |at| commune_controller::store::local_day(at, "Europe/Paris");
    let mut expected: Vec<(String, i64, i64, i64)> = vec![(day_of(old_evening), 1, 0, 600)];
    if day_of(old_late) == day_of(old_evening) {
        expected[0] = (day_of(old_evening), 2, 1, 1200);
    } else {
        expected.push((day_of(old_late), 1, 1, 600));
    }
    let got: Vec<(String, i64, i64, i64)> = days
        .iter()
        .map(|d| {
            (
                d.day.clone(),
                d.sessions,
                d.supervised_sessions,
                d.session_seconds,
            )
        })
        .collect();
    assert_eq!(got, expected);
    // The recent session and its events stay; running the purge again changes nothing.
    assert_eq!(
        store
            .sessions(NOW.plus_secs(-1), NOW.plus_secs(1))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.event_seqs("ag-1").await.unwrap(), vec![5, 6]);
    assert_eq!(store.health_count("ag-1").await.unwrap(), 1);
    let again = store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    assert_eq!(
        again.sessions_aggregated + again.events_deleted + again.health_deleted,
        0
    );
    assert_eq!(store.seat_days("ag-1").await.unwrap().len(), days.len());
    // Ten years on, the recent session is aggregated in turn, and every aggregate goes.
    let later = store
        .purge(&RetentionConfig::default(), NOW.plus_secs(3700 * 86_400))
        .await
        .unwrap();
    assert_eq!(later.sessions_aggregated, 1);
    assert_eq!(later.aggregates_deleted as usize, days.len() + 1);
    assert!(store.seat_days("ag-1").await.unwrap().is_empty());
}

/// A site's aggregates between two local days: the first included, the end excluded (so that
/// consecutive reports never count a day twice), by the site's time zone, its seats only.
async fn a_sites_aggregates_are_read_by_local_day(store: Store) {
    with_agent(&store, "ag-1").await;
    let year_ago = NOW.plus_secs(-400 * 86_400);
    let midnight_utc = UtcMillis::from_secs(year_ago.as_secs() - year_ago.as_secs() % 86_400);
    let mut events = Vec::new();
    // 2025-10-16 12:00 and 2025-10-17 12:00 in Paris, then 2025-10-17 22:30 UTC, which is
    // already 00:30 on the 18th in Paris (summer time).
    for (i, hours, kind) in [
        (0, 10 * 3600, SlotKind::Free),
        (1, 34 * 3600, SlotKind::Supervised),
        (2, 46 * 3600 + 1800, SlotKind::Free),
    ] {
        let at = midnight_utc.plus_secs(hours);
        let id = format!("s-{i}");
        events.push(ev(
            2 * i + 1,
            at,
            AgentEvent::SessionStarted(SessionStarted {
                session_id: id.clone(),
                slot_kind: kind,
                permanence_id: None,
                with_ticket: false,
            }),
        ));
        events.push(ev(
            2 * i + 2,
            at.plus_secs(900),
            AgentEvent::SessionEnded(SessionEnded {
                session_id: id,
                reason: EndReason::Visitor,
                duration_secs: 900,
                documents_erased: 0,
            }),
        ));
    }
    store.ingest_events("ag-1", &events, NOW).await.unwrap();
    assert!(store
        .site_days(SITE, "2025-10-16", "2025-10-19")
        .await
        .unwrap()
        .is_empty());
    store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    let days = |first: &'static str, end: &'static str| {
        let store = store.clone();
        async move {
            store
                .site_days(SITE, first, end)
                .await
                .unwrap()
                .into_iter()
                .map(|d| {
                    assert_eq!(d.agent_id, "ag-1");
                    (d.day, d.sessions, d.supervised_sessions, d.session_seconds)
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        days("2025-10-16", "2025-10-18").await,
        [
            ("2025-10-16".to_string(), 1, 0, 900),
            ("2025-10-17".to_string(), 1, 1, 900),
        ]
    );
    assert_eq!(
        days("2025-10-17", "2025-10-19").await,
        [
            ("2025-10-17".to_string(), 1, 1, 900),
            ("2025-10-18".to_string(), 1, 0, 900),
        ]
    );
    assert!(days("2025-10-19", "2025-11-01").await.is_empty());
    assert!(store
        .site_days("another-site", "2025-01-01", "2026-01-01")
        .await
        .unwrap()
        .is_empty());
}

async fn last_seen_only_moves_forward_and_the_overview_shows_latest_health(store: Store) {
    with_agent(&store, "ag-1").await;
    let seen = |at, connected, state: Option<&str>| LastSeen {
        agent_id: "ag-1".into(),
        at,
        connected,
        seat_state: state.map(String::from),
    };
    store
        .flush_last_seen(&[seen(NOW, true, Some("in_session"))])
        .await
        .unwrap();
    store
        .flush_last_seen(&[seen(NOW.plus_secs(-60), false, None)])
        .await
        .unwrap();
    store
        .insert_health("ag-1", &health(NOW.plus_secs(-120)), NOW)
        .await
        .unwrap();
    store
        .insert_health("ag-1", &health(NOW), NOW)
        .await
        .unwrap();
    let overview = store.overview().await.unwrap();
    assert_eq!(overview.len(), 1);
    assert_eq!(overview[0].last_seen_at, Some(NOW));
    assert_eq!(overview[0].seat_state.as_deref(), Some("in_session"));
    assert_eq!(overview[0].seat_state.as_deref(), Some("in_session"));
    assert_eq!(overview[0].health.as_ref().unwrap().at, NOW);
    assert!(store.revoke("ag-1", NOW).await.unwrap());
    assert_eq!(store.revoked_ids().await.unwrap(), vec!["ag-1".to_string()]);
}

async fn a_start_stored_after_its_end_completes_the_session(store: Store) {
    with_agent(&store, "ag-1").await;
    let ended = ev(
        2,
        NOW.plus_secs(600),
        AgentEvent::SessionEnded(SessionEnded {
            session_id: "s-9".into(),
            reason: EndReason::Staff,
            duration_secs: 600,
            documents_erased: 0,
        }),
    );
    let started = ev(
        1,
        NOW,
        AgentEvent::SessionStarted(SessionStarted {
            session_id: "s-9".into(),
            slot_kind: SlotKind::Supervised,
            permanence_id: Some("perm-x".into()),
            with_ticket: false,
        }),
    );
    // The end alone (its start was in a frame that was lost and is resent later)…
    assert_eq!(store.ingest_events("ag-1", &[ended], NOW).await.unwrap(), 0);
    let partial = store
        .sessions(NOW.plus_secs(-10), NOW.plus_secs(10))
        .await
        .unwrap();
    assert_eq!(partial[0].slot_kind, "unknown");
    // …then the start: the session is whole, and both events acknowledged.
    assert_eq!(
        store.ingest_events("ag-1", &[started], NOW).await.unwrap(),
        2
    );
    let whole = store
        .sessions(NOW.plus_secs(-10), NOW.plus_secs(10))
        .await
        .unwrap();
    assert_eq!(whole.len(), 1);
    assert_eq!(
        (
            whole[0].slot_kind.as_str(),
            whole[0].permanence_id.as_deref()
        ),
        ("supervised", Some("perm-x"))
    );
    assert_eq!(
        (
            whole[0].started_at,
            whole[0].duration_secs,
            whole[0].end_reason.as_deref()
        ),
        (NOW, Some(600), Some("staff"))
    );
}

async fn staff_accounts_sessions_tokens_and_the_audit_log(store: Store) {
    use commune_controller::store::{AuditEntry, StaffRecord};
    with_agent(&store, "ag-1").await;
    store.add_site("mdh-b", "MDH B", NOW).await.unwrap();
    let record = StaffRecord {
        login: "marie".into(),
        display_name: "Marie".into(),
        role: "mediator".into(),
        password_hash: "$argon2id$dummy".into(),
        sites: vec!["mdh-b".into(), SITE.into()],
        disabled: false,
    };
    store.create_staff(&record, NOW).await.unwrap();
    assert_eq!(store.staff("marie").await.unwrap(), Some(record.clone()));
    let taken = store.create_staff(&record, NOW).await.unwrap_err();
    assert!(taken.to_string().contains("taken"), "{taken}");
    let unknown_site = StaffRecord {
        login: "paul".into(),
        sites: vec!["mdh-nowhere".into()],
        ..record.clone()
    };
    let refused = store.create_staff(&unknown_site, NOW).await.unwrap_err();
    assert!(refused.to_string().contains("mdh-nowhere"), "{refused}");
    assert_eq!(
        store.staff("paul").await.unwrap(),
        None,
        "nothing half-made"
    );

    store
        .create_staff_session("h1", "marie", "csrf1", NOW, NOW.plus_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        store.staff_session("h1", NOW).await.unwrap(),
        Some(("marie".into(), "csrf1".into()))
    );
    assert_eq!(
        store
            .staff_session("h1", NOW.plus_secs(3601))
            .await
            .unwrap(),
        None
    );
    store.delete_staff_session("h1").await.unwrap();
    assert_eq!(store.staff_session("h1", NOW).await.unwrap(), None);

    let in_90_days = NOW.plus_secs(90 * 86_400);
    store
        .create_api_token("t1", "inventaire", "marie", NOW, in_90_days)
        .await
        .unwrap();
    assert_eq!(
        store.api_token("t1", NOW).await.unwrap(),
        Some(("inventaire".into(), "marie".into()))
    );
    assert_eq!(store.api_token("t2", NOW).await.unwrap(), None);
    assert_eq!(
        store.api_token("t1", in_90_days).await.unwrap(),
        None,
        "an API token expires"
    );
    // A narrowed token keeps its scope; an old one has none (its account's rights).
    let scope = commune_controller::store::ApiTokenScope {
        role: Some("mediator".into()),
        sites: Some(vec!["mdh-a".into(), "mdh-b".into()]),
    };
    store
        .create_scoped_api_token("t9", "portee", "marie", NOW, in_90_days, &scope)
        .await
        .unwrap();
    assert_eq!(
        store
            .api_token_scoped("t9", NOW)
            .await
            .unwrap()
            .unwrap()
            .scope,
        scope
    );
    assert_eq!(
        store
            .api_token_scoped("t1", NOW)
            .await
            .unwrap()
            .unwrap()
            .scope,
        Default::default()
    );
    store
        .revoke_api_tokens("marie", "portee", NOW)
        .await
        .unwrap();

    // Disabling an account refuses its sessions and tokens and deletes its sessions;
    // enabling it again brings the tokens back, not the sessions.
    store
        .create_staff_session("h2", "marie", "csrf2", NOW, NOW.plus_secs(3600))
        .await
        .unwrap();
    assert!(store.set_staff_disabled("marie", Some(NOW)).await.unwrap());
    assert!(!store.set_staff_disabled("nobody", Some(NOW)).await.unwrap());
    assert_eq!(store.api_token("t1", NOW).await.unwrap(), None);
    assert!(store.set_staff_disabled("marie", None).await.unwrap());
    assert_eq!(store.staff_session("h2", NOW).await.unwrap(), None);
    assert!(store.api_token("t1", NOW).await.unwrap().is_some());

    // A new password ends every session but the one kept; ending sessions ends the rest.
    for h in ["h3", "h4", "h5"] {
        store
            .create_staff_session(h, "marie", "c", NOW, NOW.plus_secs(3600))
            .await
            .unwrap();
    }
    assert!(store
        .set_staff_password("marie", "$argon2id$other", Some("h3"))
        .await
        .unwrap());
    assert_eq!(store.live_staff_sessions("marie", NOW).await.unwrap(), 1);
    assert!(store.staff_session("h3", NOW).await.unwrap().is_some());
    assert_eq!(store.end_staff_sessions("marie", NOW).await.unwrap(), 1);
    assert_eq!(store.staff_session("h3", NOW).await.unwrap(), None);

    // Tokens are revoked by name.
    assert_eq!(
        store
            .revoke_api_tokens("marie", "inventaire", NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.api_token("t1", NOW).await.unwrap(), None);
    let tokens = store.api_tokens_of("marie").await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].name, "portee");
    assert_eq!(tokens[1].scope, scope, "the listing shows the scope");
    assert_eq!(tokens[0].revoked_at, Some(NOW));
    assert_eq!(tokens[0].expires_at, Some(in_90_days));

    // Who opened a supervised slot.
    store
        .record_slot_opener(SITE, "adhoc-1", "marie", NOW)
        .await
        .unwrap();
    assert_eq!(
        store.slot_openers(SITE).await.unwrap(),
        vec![("adhoc-1".to_string(), "marie".to_string())]
    );

    let old = AuditEntry {
        at: NOW.plus_secs(-400 * 86_400),
        actor: "marie".into(),
        action: "slot.open".into(),
        site_id: Some(SITE.into()),
        detail: "2 seats".into(),
    };
    let recent = AuditEntry {
        at: NOW,
        ..old.clone()
    };
    store.audit(&old).await.unwrap();
    store.audit(&recent).await.unwrap();
    let report = store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    assert_eq!(report.audit_deleted, 1, "the audit log is kept 12 months");
    assert_eq!(store.audit_log(UtcMillis(0)).await.unwrap(), vec![recent]);
}

async fn permanence_counters_are_kept_two_years(store: Store) {
    use commune_controller::store::CounterRecord;
    with_agent(&store, "ag-1").await;
    let record = |day_start: UtcMillis| CounterRecord {
        site_id: SITE.into(),
        permanence: "ecrivain-mardi".into(),
        day: "2026-11-17".into(),
        day_start,
        people: 7,
        categories: "logement=3;argent_impots=2".into(),
        recorded_by: "marie".into(),
    };
    let old = record(NOW.plus_secs(-731 * 86_400));
    let recent = record(NOW.plus_secs(-3 * 86_400));
    store.add_counters(&old, NOW).await.unwrap();
    store.add_counters(&recent, NOW).await.unwrap();
    store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    assert_eq!(
        store.counters(SITE, UtcMillis(0), NOW).await.unwrap(),
        vec![recent]
    );
}

fn session(seq: u64, at: UtcMillis, id: &str, duration_secs: Option<u64>) -> EventEnvelope {
    ev(
        seq,
        at,
        match duration_secs {
            None => AgentEvent::SessionStarted(SessionStarted {
                session_id: id.into(),
                slot_kind: SlotKind::Free,
                permanence_id: None,
                with_ticket: false,
            }),
            Some(duration_secs) => AgentEvent::SessionEnded(SessionEnded {
                session_id: id.into(),
                reason: EndReason::TimeUp,
                duration_secs,
                documents_erased: 0,
            }),
        },
    )
}

async fn rows_from_a_clock_far_ahead_go_by_their_receive_time(store: Store) {
    with_agent(&store, "ag-1").await;
    // Stored as given (the ingestor clamps seat times; rows written before it did not).
    let ahead = NOW.plus_secs(100 * 365 * 86_400);
    store
        .ingest_events(
            "ag-1",
            &[
                alert(1).with_at(ahead),
                session(2, ahead, "s-ahead", None),
                session(3, ahead, "s-ahead", Some(600)),
            ],
            NOW,
        )
        .await
        .unwrap();
    store
        .insert_health("ag-1", &health(ahead), NOW)
        .await
        .unwrap();
    let quiet = store
        .purge(&RetentionConfig::default(), NOW.plus_secs(86_400))
        .await
        .unwrap();
    assert_eq!(
        quiet.events_deleted + quiet.health_deleted + quiet.sessions_aggregated,
        0
    );
    // A year and a day after they were received, they go like any other row.
    let report = store
        .purge(&RetentionConfig::default(), NOW.plus_secs(400 * 86_400))
        .await
        .unwrap();
    assert_eq!(report.events_deleted, 3);
    assert_eq!(report.health_deleted, 1);
    assert_eq!(report.sessions_aggregated, 1);
    assert!(store.event_seqs("ag-1").await.unwrap().is_empty());
    assert_eq!(store.health_count("ag-1").await.unwrap(), 0);
}

async fn huge_session_lengths_neither_break_the_purge_nor_inflate_sums(store: Store) {
    with_agent(&store, "ag-1").await;
    let year_ago = NOW.plus_secs(-400 * 86_400);
    // Two sessions of the same day claiming u64::MAX seconds: their sum overflowed the
    // purge's (on PostgreSQL the hourly purge then failed every time, for all data).
    let mut events = Vec::new();
    for (i, id) in ["s-1", "s-2"].iter().enumerate() {
        let seq = 2 * i as u64;
        let at = year_ago.plus_secs(60 * i as i64);
        events.push(session(seq + 1, at, id, None));
        events.push(session(seq + 2, at.plus_secs(30), id, Some(u64::MAX)));
    }
    // An end without its start: it began its believable length ago, not before the epoch.
    events.push(session(5, year_ago, "s-3", Some(u64::MAX)));
    store.ingest_events("ag-1", &events, NOW).await.unwrap();
    let sessions = store
        .sessions(year_ago.plus_secs(-2 * 86_400), NOW)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 3);
    assert!(sessions
        .iter()
        .all(|s| s.duration_secs == Some(86_400) && s.started_at >= year_ago.plus_secs(-86_400)));
    store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    // Another huge one the same day, folded onto the day's existing aggregate.
    store
        .ingest_events(
            "ag-1",
            &[
                session(6, year_ago.plus_secs(600), "s-4", None),
                session(7, year_ago.plus_secs(700), "s-4", Some(u64::MAX)),
            ],
            NOW,
        )
        .await
        .unwrap();
    let report = store.purge(&RetentionConfig::default(), NOW).await.unwrap();
    assert_eq!(report.sessions_aggregated, 1);
    let days = store.seat_days("ag-1").await.unwrap();
    let sessions: i64 = days.iter().map(|d| d.sessions).sum();
    let seconds: i64 = days.iter().map(|d| d.session_seconds).sum();
    assert_eq!(sessions, 4);
    assert_eq!(seconds, 4 * 86_400);
}

async fn a_seat_spends_only_its_own_sites_tickets(store: Store) {
    with_agent(&store, "ag-1").await;
    store.add_site("other", "Other MDH", NOW).await.unwrap();
    store
        .create_tickets(SITE, &["ours".into()], 45, NOW.plus_secs(3600), NOW)
        .await
        .unwrap();
    store
        .create_tickets("other", &["theirs".into()], 45, NOW.plus_secs(3600), NOW)
        .await
        .unwrap();
    let used = |seq, hash: &str| {
        ev(
            seq,
            NOW,
            AgentEvent::TicketUsed(TicketUsed {
                ticket_hash: hash.into(),
                session_id: format!("s-{seq}"),
                offline: false,
            }),
        )
    };
    store
        .ingest_events("ag-1", &[used(1, "theirs"), used(2, "ours")], NOW)
        .await
        .unwrap();
    let theirs = store.ticket("theirs").await.unwrap().unwrap();
    assert_eq!((theirs.used_at, theirs.used_by), (None, None));
    assert!(!theirs.double_use);
    let ours = store.ticket("ours").await.unwrap().unwrap();
    assert_eq!(ours.used_at, Some(NOW));
    assert_eq!(ours.used_by.as_deref(), Some("ag-1"));
    // Used again by another session: flagged; the same event again changes nothing more.
    store
        .ingest_events("ag-1", &[used(3, "ours"), used(3, "ours")], NOW)
        .await
        .unwrap();
    let ours = store.ticket("ours").await.unwrap().unwrap();
    assert!(ours.double_use);
    assert_eq!(ours.used_at, Some(NOW));
}

/// The hourly purge, the last-seen flush and ingest, each a transaction that reads before
/// it writes, run at once on their own connections: none is refused. (On SQLite a plain
/// `BEGIN` answered "database is locked" at once when another connection had committed
/// between its read and its first write, without waiting the busy timeout.)
async fn concurrent_writers_wait_for_each_other_instead_of_failing(store: Store) {
    with_agent(&store, "ag-1").await;
    let old = NOW.plus_secs(-400 * 86_400);
    let ingest = {
        let store = store.clone();
        tokio::spawn(async move {
            for seq in 1..=150u64 {
                let at = old.plus_secs(seq as i64 * 60);
                store
                    .ingest_events(
                        "ag-1",
                        &[session(seq, at, &format!("s-{seq}"), Some(30))],
                        NOW,
                    )
                    .await
                    .expect("ingest while others write");
            }
        })
    };
    let flush = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..150i64 {
                let row = LastSeen {
                    agent_id: "ag-1".into(),
                    at: NOW.plus_secs(i),
                    connected: true,
                    seat_state: Some("free".into()),
                };
                store
                    .flush_last_seen(&[row])
                    .await
                    .expect("last-seen flush while others write");
            }
        })
    };
    let mut aggregated = 0;
    for i in 0..150i64 {
        let report = store
            .purge(&RetentionConfig::default(), NOW.plus_secs(i))
            .await
            .expect("purge while others write");
        aggregated += report.sessions_aggregated;
    }
    ingest.await.unwrap();
    flush.await.unwrap();
    aggregated += store
        .purge(&RetentionConfig::default(), NOW.plus_secs(200))
        .await
        .unwrap()
        .sessions_aggregated;
    assert_eq!(aggregated, 150, "every session folded once");
}

trait WithAt {
    fn with_at(self, at: UtcMillis) -> Self;
}

impl WithAt for EventEnvelope {
    fn with_at(mut self, at: UtcMillis) -> Self {
        self.at = at;
        self
    }
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let (store, _guard) = super::sqlite_store().await;
                    super::$check(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some((store, _guard)) = super::pg_store().await else { return };
                    super::$check(store).await;
                }
            )*
        }
    };
}

conformance!(
    tokens_are_single_use_even_under_a_race,
    events_are_stored_once_and_acked_contiguously,
    pages_printed_are_counted_once_per_event_and_period,
    one_transaction_serves_several_agents,
    sessions_are_derived_from_events,
    a_start_stored_after_its_end_completes_the_session,
    commands_wait_are_delivered_and_their_result_is_stored,
    retention_reduces_old_sessions_to_daily_aggregates,
    a_sites_aggregates_are_read_by_local_day,
    last_seen_only_moves_forward_and_the_overview_shows_latest_health,
    staff_accounts_sessions_tokens_and_the_audit_log,
    permanence_counters_are_kept_two_years,
    rows_from_a_clock_far_ahead_go_by_their_receive_time,
    huge_session_lengths_neither_break_the_purge_nor_inflate_sums,
    a_seat_spends_only_its_own_sites_tickets,
    concurrent_writers_wait_for_each_other_instead_of_failing,
);
