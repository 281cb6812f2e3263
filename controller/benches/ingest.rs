//! Ingest benchmark: events per second through the store's batched ingest (the path agents'
//! events take: idempotent insert, session log, contiguous ack) into SQLite and, when
//! `COMMUNE_TEST_POSTGRES_URL` names a server, PostgreSQL; each beside the ceiling measured
//! in the same run on the same database: the raw insert of the same rows in one transaction.
//!
//! `cargo bench -p commune-controller --bench ingest` (100 agents × 500 events), or with
//! `-- --short` (20 × 100) as CI runs it. The last line prints the rates and ratios.
//!
//! Each rate is the best of a few runs, the ingest and the raw insert alternated (new
//! agents each time): on a shared machine, noise only ever slows a run down. On PostgreSQL
//! the ceiling is the faster of two bare inserts, multi-row `VALUES` and `UNNEST`.

use std::time::Instant;

use commune_controller::store::{BackendKind, IngestBatch};
use commune_controller::Store;
use commune_protocol::messages::{
    AgentEvent, EndReason, EventEnvelope, SessionEnded, SessionStarted, SlotKind,
};
use commune_protocol::UtcMillis;

const NOW: UtcMillis = UtcMillis(1_795_183_200_000);

struct Plan {
    agents: usize,
    events_per_agent: usize,
    /// Events each agent sends per frame, as the link does.
    per_frame: usize,
    /// Runs of each measure; the best counts.
    runs: usize,
}

fn event(seq: u64) -> EventEnvelope {
    let session_id = format!("s-{}", seq / 2);
    let event = if seq % 2 == 1 {
        AgentEvent::SessionStarted(SessionStarted {
            session_id,
            slot_kind: SlotKind::Free,
            permanence_id: None,
            with_ticket: true,
        })
    } else {
        AgentEvent::SessionEnded(SessionEnded {
            session_id,
            reason: EndReason::TimeUp,
            duration_secs: 2700,
            documents_erased: 1,
        })
    };
    EventEnvelope {
        seq,
        at: NOW.plus_secs(seq as i64),
        event,
    }
}

async fn enroll(store: &Store, prefix: &str, n: usize) -> Vec<String> {
    if store.sites().await.unwrap().is_empty() {
        store.add_site("mdh-bench", "MDH Bench", NOW).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("ag-{prefix}{i:05}");
        let mut hash = [0u8; 32];
        hash[..id.len()].copy_from_slice(id.as_bytes());
        store
            .create_token(&hash, "mdh-bench", NOW, NOW.plus_secs(60))
            .await
            .unwrap();
        store
            .enroll(&hash, NOW, &id, "pc", "bench", |_| {
                Ok::<_, String>(((), "01".into(), NOW.plus_secs(60)))
            })
            .await
            .unwrap()
            .unwrap();
        ids.push(id);
    }
    ids
}

/// Events per second through `Store::ingest`, frames from every agent interleaved and
/// committed as the ingestor does (all queued frames in one transaction).
async fn ingest_rate(store: &Store, plan: &Plan, run: usize) -> f64 {
    let ids = enroll(store, &format!("i{run}-"), plan.agents).await;
    let frames = plan.events_per_agent / plan.per_frame;
    let start = Instant::now();
    for f in 0..frames {
        let batches: Vec<IngestBatch> = ids
            .iter()
            .map(|id| IngestBatch {
                agent_id: id.clone(),
                events: (1..=plan.per_frame as u64)
                    .map(|k| event((f * plan.per_frame) as u64 + k))
                    .collect(),
            })
            .collect();
        store.ingest(&batches, NOW).await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    for id in &ids {
        assert_eq!(
            store.acked_seq(id).await.unwrap(),
            (frames * plan.per_frame) as u64
        );
    }
    (plan.agents * frames * plan.per_frame) as f64 / elapsed
}

/// How the raw insert sends its rows.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// Multi-row `VALUES` lists of 200 rows.
    Values,
    /// PostgreSQL only: one `UNNEST` of arrays per frame's worth of rows, the form the
    /// ingest takes there. Often faster than `VALUES`: a ceiling measured with `VALUES`
    /// alone would flatter the ingest.
    Unnest,
}

/// Rows per second of a bare insert of the same events in one transaction.
async fn raw_rate(url: &str, store: &Store, plan: &Plan, run: usize, form: Form) -> f64 {
    let ids = enroll(store, &format!("r{run}{form:?}-"), plan.agents).await;
    let rows: Vec<(String, EventEnvelope)> = ids
        .iter()
        .flat_map(|id| (1..=plan.events_per_agent as u64).map(move |s| (id.clone(), event(s))))
        .collect();
    macro_rules! values {
        ($pool:expr) => {{
            let pool = $pool;
            let start = Instant::now();
            let mut tx = pool.begin().await.unwrap();
            for chunk in rows.chunks(200) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) ",
                );
                qb.push_values(chunk, |mut b, (id, e)| {
                    b.push_bind(id.as_str())
                        .push_bind(e.seq as i64)
                        .push_bind(e.at.0)
                        .push_bind(NOW.0)
                        .push_bind("bench")
                        .push_bind(serde_json::to_string(&e.event).unwrap());
                });
                qb.build().execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
            let rate = rows.len() as f64 / start.elapsed().as_secs_f64();
            pool.close().await;
            rate
        }};
    }
    match form {
        Form::Values if url.starts_with("postgres") => {
            values!(sqlx::PgPool::connect(url).await.unwrap())
        }
        Form::Values => {
            let options = url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
            values!(sqlx::SqlitePool::connect_with(options).await.unwrap())
        }
        Form::Unnest => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let start = Instant::now();
            let mut tx = pool.begin().await.unwrap();
            for chunk in rows.chunks(plan.agents * plan.per_frame) {
                sqlx::query(
                    "INSERT INTO events (agent_id, seq, at, received_at, kind, body_json) \
                     SELECT a, s, t, $4, k, b FROM UNNEST($1::text[], $2::bigint[], \
                     $3::bigint[], $5::text[], $6::text[]) AS r (a, s, t, k, b)",
                )
                .bind(chunk.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
                .bind(chunk.iter().map(|(_, e)| e.seq as i64).collect::<Vec<_>>())
                .bind(chunk.iter().map(|(_, e)| e.at.0).collect::<Vec<_>>())
                .bind(NOW.0)
                .bind(vec!["bench"; chunk.len()])
                .bind(
                    chunk
                        .iter()
                        .map(|(_, e)| serde_json::to_string(&e.event).unwrap())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
            let rate = rows.len() as f64 / start.elapsed().as_secs_f64();
            pool.close().await;
            rate
        }
    }
}

fn pg_name() -> String {
    format!("commune_bench_{}", std::process::id())
}

async fn fresh_pg(admin: &str) -> String {
    let name = pg_name();
    let pool = sqlx::PgPool::connect(admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[tokio::main]
async fn main() {
    let short = std::env::args().any(|a| a == "--short");
    let plan = if short {
        Plan {
            agents: 20,
            events_per_agent: 100,
            per_frame: 20,
            runs: 7,
        }
    } else {
        Plan {
            agents: 100,
            events_per_agent: 500,
            per_frame: 50,
            runs: 3,
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut targets = vec![("sqlite", sqlite_url)];
    let admin = std::env::var("COMMUNE_TEST_POSTGRES_URL").ok();
    if let Some(admin) = &admin {
        targets.push(("postgres", fresh_pg(admin).await));
    } else {
        println!("postgres: skipped (set COMMUNE_TEST_POSTGRES_URL)");
    }
    for (name, url) in targets {
        let store = Store::open(&url).await.unwrap();
        // The ceiling is the fastest bare insert measured.
        let forms: &[Form] = match store.kind() {
            BackendKind::Sqlite => &[Form::Values],
            BackendKind::Postgres => &[Form::Values, Form::Unnest],
        };
        let (mut ingest, mut raw) = (0f64, 0f64);
        for run in 0..plan.runs {
            let this = ingest_rate(&store, &plan, run).await;
            let mut line = format!("  {name} run {run}: ingest {this:.0} events/s");
            ingest = ingest.max(this);
            for form in forms {
                let this = raw_rate(&url, &store, &plan, run, *form).await;
                line.push_str(&format!(", raw {form:?} {this:.0} rows/s"));
                raw = raw.max(this);
            }
            println!("{line}");
        }
        drop(store);
        println!(
            "{name}: ingest {ingest:.0} events/s, raw insert {raw:.0} rows/s, ratio {:.2}",
            ingest / raw
        );
        results.push(format!(
            "{name} {ingest:.0}/s vs raw {raw:.0}/s = {:.2}x",
            ingest / raw
        ));
    }
    if let Some(admin) = &admin {
        let pool = sqlx::PgPool::connect(admin).await.unwrap();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_name());
        if let Err(e) = sqlx::query(&drop).execute(&pool).await {
            println!("postgres: {} left behind: {e}", pg_name());
        }
    }
    println!(
        "ingest benchmark ({} agents x {} events, {} per frame): {}",
        plan.agents,
        plan.events_per_agent,
        plan.per_frame,
        results.join("; ")
    );
}
