//! Reports past the one-year session log: once the purge has folded old sessions into
//! anonymous daily aggregates, a report over those days still counts them (sessions, hours,
//! supervised or free), says that they come from the aggregates, and a period across the
//! boundary counts every session exactly once: the same totals before and after the purge.
//! The page and the CSV files say which source each part of the period used. On SQLite and
//! on PostgreSQL.

use commune_controller::config::DatabaseUrl;
use commune_controller::reports::{SiteReport, SourceKind};
use commune_controller::staff::{Role, OTHER_ACCOMPANIED};
use commune_controller::store::{IngestBatch, RetentionConfig};
use commune_controller::{now, ControllerConfig};
use commune_protocol::messages::*;
use commune_protocol::UtcMillis;
use commune_tests::web::{http, login, serve_dashboard};
use commune_tests::{enroll_agent, parse_csv, postgres_database, TestController, SITE};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::ToSpan;

/// The test site's time zone (the default of a site).
fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

/// `h:m` local time on `day` at the site.
fn at(day: Date, h: i8, m: i8) -> UtcMillis {
    let zoned = day.at(h, m, 0, 0).to_zoned(paris()).unwrap();
    UtcMillis(zoned.timestamp().as_millisecond())
}

/// `[first, last]` in local days, as the reports page asks for it.
fn days(first: Date, last: Date) -> (UtcMillis, UtcMillis) {
    (at(first, 0, 0), at(last.tomorrow().unwrap(), 0, 0))
}

/// One session: started at `start`, in `kind` of slot, `secs` long.
struct Visit {
    id: &'static str,
    start: UtcMillis,
    kind: SlotKind,
    permanence: Option<&'static str>,
    secs: u64,
}

/// Sessions, sessions supervised, hours: over the lines, and over the seats.
fn totals(report: &SiteReport) -> (u64, u64, f64, u64, f64) {
    (
        report.lines.iter().map(|l| l.sessions).sum(),
        report.lines.iter().map(|l| l.supervised).sum(),
        report.lines.iter().map(|l| l.hours_used).sum(),
        report.seats.iter().map(|s| s.sessions).sum(),
        report.seats.iter().map(|s| s.hours_used).sum(),
    )
}

fn line(report: &SiteReport, key: &str) -> (u64, u64) {
    report
        .lines
        .iter()
        .find(|l| l.key == key)
        .map(|l| (l.sessions, l.supervised))
        .unwrap_or_default()
}

fn sources(report: &SiteReport) -> Vec<(SourceKind, Date, Date)> {
    report
        .sources
        .iter()
        .map(|s| (s.kind, s.first_day, s.last_day))
        .collect()
}

fn same_totals(before: &SiteReport, after: &SiteReport, what: &str) {
    let (b, a) = (totals(before), totals(after));
    assert_eq!((b.0, b.1, b.3), (a.0, a.1, a.3), "{what}: sessions");
    assert!(
        (b.2 - a.2).abs() < 1e-9,
        "{what}: hours {} then {}",
        b.2,
        a.2
    );
    assert!(
        (b.4 - a.4).abs() < 1e-9,
        "{what}: seat hours {} then {}",
        b.4,
        a.4
    );
}

async fn old_sessions_still_count_after_the_purge(tweak: impl FnOnce(&mut ControllerConfig)) {
    let ctrl = TestController::start_with(|c| {
        // The controller's own hourly purge keeps everything: the test purges when it says.
        c.retention.session_log_days = 36_500;
        tweak(c);
    })
    .await;
    let (config, _dir) = enroll_agent(ctrl.addr, &ctrl.token().await).await.unwrap();
    let seat = config.agent_id.clone();
    let c = ctrl.controller.clone();

    let today = jiff::Zoned::now().with_time_zone(paris()).date();
    let ago = |n: i64| today.checked_sub(n.days()).unwrap();
    let old = ago(400);
    let visits = [
        // Two old days.
        Visit {
            id: "old-free",
            start: at(old, 10, 0),
            kind: SlotKind::Free,
            permanence: None,
            secs: 1800,
        },
        Visit {
            id: "old-supervised",
            start: at(old, 14, 0),
            kind: SlotKind::Supervised,
            permanence: None,
            secs: 3600,
        },
        Visit {
            id: "old-permanence",
            start: at(old.tomorrow().unwrap(), 10, 0),
            kind: SlotKind::Supervised,
            permanence: Some("perm-ecrivain"),
            secs: 1800,
        },
        // Half past midnight in Paris: still the day before in UTC. Its local day is the
        // third, outside a report of the first two, before the purge and after it.
        Visit {
            id: "old-night",
            start: at(old.checked_add(2.days()).unwrap(), 0, 30),
            kind: SlotKind::Free,
            permanence: None,
            secs: 900,
        },
        // Either side of the log's year.
        Visit {
            id: "year-before",
            start: at(ago(366), 10, 0),
            kind: SlotKind::Free,
            permanence: None,
            secs: 1200,
        },
        Visit {
            id: "year-after",
            start: at(ago(364), 10, 0),
            kind: SlotKind::Supervised,
            permanence: None,
            secs: 2400,
        },
        // Recent.
        Visit {
            id: "recent-free",
            start: at(ago(10), 10, 0),
            kind: SlotKind::Free,
            permanence: None,
            secs: 3600,
        },
        Visit {
            id: "recent-supervised",
            start: at(ago(10), 11, 0),
            kind: SlotKind::Supervised,
            permanence: None,
            secs: 1800,
        },
    ];
    let mut events = Vec::new();
    for v in &visits {
        let seq = events.len() as u64 + 1;
        events.push(EventEnvelope {
            seq,
            at: v.start,
            event: AgentEvent::SessionStarted(SessionStarted {
                session_id: v.id.into(),
                slot_kind: v.kind,
                permanence_id: v.permanence.map(Into::into),
                with_ticket: false,
            }),
        });
        events.push(EventEnvelope {
            seq: seq + 1,
            at: v.start.plus_secs(v.secs as i64),
            event: AgentEvent::SessionEnded(SessionEnded {
                session_id: v.id.into(),
                reason: EndReason::Visitor,
                duration_secs: v.secs,
                documents_erased: 0,
            }),
        });
    }
    let store = c.store();
    store
        .ingest(
            &[IngestBatch {
                agent_id: seat.clone(),
                events,
            }],
            now(),
        )
        .await
        .unwrap();

    let old_days = days(old, old.tomorrow().unwrap());
    let across = days(ago(370), ago(361));
    let everything = days(ago(401), today);
    let recent = days(ago(29), today);
    let report = |(from, to): (UtcMillis, UtcMillis)| {
        let c = c.clone();
        async move { c.site_report(SITE, from, to).await.unwrap() }
    };

    // Before the purge: everything is in the log.
    let old_before = report(old_days).await;
    assert_eq!(totals(&old_before).0, 3, "{old_before:?}");
    assert_eq!(line(&old_before, "perm-ecrivain"), (1, 1));
    assert_eq!(
        sources(&old_before),
        [(SourceKind::SessionLog, old, old.tomorrow().unwrap())]
    );
    let across_before = report(across).await;
    let everything_before = report(everything).await;
    assert_eq!(totals(&everything_before).0, 8);

    let purged = store
        .purge(&RetentionConfig::default(), now())
        .await
        .unwrap();
    assert_eq!(purged.sessions_aggregated, 5, "{purged:?}");

    // The old days: counted from the aggregates, with no permanence.
    let old_after = report(old_days).await;
    same_totals(&old_before, &old_after, "the old days");
    let (sessions, supervised, hours, seat_sessions, seat_hours) = totals(&old_after);
    assert_eq!((sessions, supervised, seat_sessions), (3, 2, 3));
    assert!((hours - 2.0).abs() < 1e-9 && (seat_hours - 2.0).abs() < 1e-9);
    assert_eq!(line(&old_after, "libre"), (1, 0));
    assert_eq!(line(&old_after, OTHER_ACCOMPANIED), (2, 2));
    assert_eq!(line(&old_after, "perm-ecrivain"), (0, 0));
    let seat_line = old_after.seats.iter().find(|s| s.agent_id == seat).unwrap();
    assert_eq!(seat_line.sessions, 3);
    assert_eq!(
        sources(&old_after),
        [(SourceKind::DailyAggregates, old, old.tomorrow().unwrap())]
    );

    // Across the log's year: each session once, from the source that has it.
    let across_after = report(across).await;
    same_totals(&across_before, &across_after, "across the year");
    assert_eq!(totals(&across_after).0, 2);
    assert_eq!(
        sources(&across_after),
        [
            (SourceKind::DailyAggregates, ago(370), ago(365)),
            (SourceKind::SessionLog, ago(364), ago(361)),
        ]
    );
    let everything_after = report(everything).await;
    same_totals(&everything_before, &everything_after, "everything");
    assert_eq!(totals(&everything_after).0, 8);

    // Recent days are untouched; a period with no session says so.
    let recent_after = report(recent).await;
    assert_eq!(totals(&recent_after).0, 2);
    assert_eq!(
        sources(&recent_after),
        [(SourceKind::SessionLog, ago(29), today)]
    );
    let quiet = report(days(ago(500), ago(450))).await;
    assert_eq!(totals(&quiet).0, 0);
    assert_eq!(sources(&quiet), [(SourceKind::NoData, ago(500), ago(450))]);

    // A second purge folds nothing twice.
    store
        .purge(&RetentionConfig::default(), now())
        .await
        .unwrap();
    same_totals(
        &everything_before,
        &report(everything).await,
        "a second purge",
    );

    // The CSV files say where each part comes from, after the method.
    let (from, to) = across;
    for text in [
        across_after.seats_csv(SITE, from, to),
        across_after.lines_csv(SITE, from, to),
    ] {
        let rows = parse_csv(&text, ';');
        let told: Vec<&str> = rows
            .iter()
            .filter(|r| r.first().map(String::as_str) == Some("# source"))
            .map(|r| r[1].as_str())
            .collect();
        assert_eq!(told.len(), 2, "{text}");
        assert!(
            told[0].starts_with(&format!(
                "agrégats quotidiens anonymes du {} au {} (",
                ago(370),
                ago(365)
            )) && told[0].contains("sans détail par permanence"),
            "{text}"
        );
        assert_eq!(
            told[1],
            format!("journal des sessions du {} au {}", ago(364), ago(361))
        );
    }

    // And the page, beside the figures, in French and in English.
    c.create_staff("it", "IT", Role::It, &[], "un mot de passe long")
        .await
        .unwrap();
    let addr = serve_dashboard(c.clone()).await;
    let cookie = login(addr, "it", "un mot de passe long").await;
    let fr = |d: Date| d.strftime("%d/%m/%Y").to_string();
    let path = format!("/sites/{SITE}/rapports?du={}&au={}", ago(370), ago(361));
    let (french, english) = tokio::task::spawn_blocking(move || {
        let english = format!("{cookie}; commune_lang=en");
        (
            http(addr, "GET", &path, &[("Cookie", &cookie)], ""),
            http(addr, "GET", &path, &[("Cookie", &english)], ""),
        )
    })
    .await
    .unwrap();
    assert_eq!(french.status, 200, "{}", french.body);
    let sentence = format!(
        "Source : agrégats quotidiens anonymes du {} au {} ; journal des sessions du {} au {}.",
        fr(ago(370)),
        fr(ago(365)),
        fr(ago(364)),
        fr(ago(361))
    );
    assert!(
        french.body.contains(&sentence),
        "{sentence}: {}",
        french.body
    );
    assert!(french.body.contains("Jours agrégés : comptes anonymes"));
    assert!(french
        .body
        .contains("2 sessions (1 en accès libre, 1 accompagnées)"));
    let sentence = format!(
        "Source: anonymous daily aggregates from {} to {}; session log from {} to {}.",
        ago(370),
        ago(365),
        ago(364),
        ago(361)
    );
    assert!(
        english.body.contains(&sentence),
        "{sentence}: {}",
        english.body
    );
    assert!(english.body.contains("Aggregated days: anonymous counts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_sessions_still_count_after_the_purge_on_sqlite() {
    old_sessions_still_count_after_the_purge(|_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_sessions_still_count_after_the_purge_on_postgresql() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let url = db.url.clone();
    old_sessions_still_count_after_the_purge(move |c| c.database_url = DatabaseUrl(url)).await;
    drop(db);
}
