//! The two backends' migrations describe one schema: after `Store::open` has migrated a fresh
//! SQLite file and a fresh PostgreSQL database, both have the same tables, the same columns,
//! of the same kind of type and the same nullability. A migration added to one backend and
//! not the other, or written differently, fails here rather than in production.

use std::collections::BTreeMap;

use commune_controller::Store;
use sqlx::Row;

/// (table, column) → (kind of type, NOT NULL).
type Schema = BTreeMap<(String, String), (String, bool)>;

/// The kinds both engines agree on: what a query reads back.
fn kind(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let k = if t.contains("int") || t == "boolean" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("blob") || t == "bytea" {
        "bytes"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "real"
    } else {
        return format!("other({t})");
    };
    k.to_string()
}

async fn sqlite_schema(path: &str) -> Schema {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            let pk: i64 = r.get(4);
            let not_null: i64 = r.get(3);
            (
                (r.get::<String, _>(0), r.get::<String, _>(1)),
                // A primary key column is NOT NULL in PostgreSQL whether written or not.
                (kind(&r.get::<String, _>(2)), not_null == 1 || pk > 0),
            )
        })
        .collect()
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| {
            (
                (r.get::<String, _>(0), r.get::<String, _>(1)),
                (kind(&r.get::<String, _>(2)), r.get::<String, _>(3) == "NO"),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commune.db");
    let path = path.to_str().unwrap();
    drop(Store::open(path).await.unwrap());
    let sqlite = sqlite_schema(path).await;
    assert!(
        sqlite.keys().any(|(t, _)| t == "events") && sqlite.len() > 50,
        "the SQLite schema was not read: {sqlite:?}"
    );
    assert!(
        sqlite.values().all(|(k, _)| !k.starts_with("other")),
        "a SQLite column of a type the comparison does not know: {sqlite:?}"
    );

    let Some(db) = commune_tests::postgres_database().await else {
        return;
    };
    drop(Store::open(&db.url).await.unwrap());
    let postgres = postgres_schema(&db.url).await;

    let mut differences = Vec::new();
    for (column, sqlite_type) in &sqlite {
        match postgres.get(column) {
            None => differences.push(format!("{}.{}: only in SQLite", column.0, column.1)),
            Some(pg_type) if pg_type != sqlite_type => differences.push(format!(
                "{}.{}: SQLite {sqlite_type:?}, PostgreSQL {pg_type:?}",
                column.0, column.1
            )),
            Some(_) => {}
        }
    }
    for column in postgres.keys().filter(|c| !sqlite.contains_key(*c)) {
        differences.push(format!("{}.{}: only in PostgreSQL", column.0, column.1));
    }
    assert!(
        differences.is_empty(),
        "the backends' migrations drifted apart:\n{}",
        differences.join("\n")
    );
}
