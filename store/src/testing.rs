//! Per-test databases for the workspace's tests: a fresh SQLite file, or a fresh schema in
//! the PostgreSQL test database, so that tests run in parallel without sharing state.

use std::path::PathBuf;

use sqlx::Connection;

use crate::{Result, Store};

/// The PostgreSQL server tests use: `VIDEOREG_TEST_POSTGRES`, or the local one.
pub fn postgres_base_url() -> String {
    std::env::var("VIDEOREG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(PathBuf),
    Schema { base: String, schema: String },
}

impl TestDatabase {
    /// A new, empty SQLite file in the system's temporary directory.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join("videoreg-tests");
        let path = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
        Self {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::File(path),
        }
    }

    /// A new, empty schema in the PostgreSQL test database. Fails, never skips, when the
    /// server cannot be reached: the PostgreSQL tests are part of the suite.
    pub async fn postgres() -> Result<Self> {
        sqlx::any::install_default_drivers();
        let base = postgres_base_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&base).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(Self {
            url: format!("{base}{sep}options[search_path]={schema}"),
            cleanup: Cleanup::Schema { base, schema },
        })
    }

    /// Opens (and migrates) the database, with a fresh secrets key (as a server has).
    pub async fn open(&self) -> Result<Store> {
        self.open_via(&self.url, crate::StoreOptions::default())
            .await
    }

    /// Opens (and migrates) the same database through `url` (e.g. through a proxy a test
    /// controls) with `options`, with a fresh secrets key.
    pub async fn open_via(&self, url: &str, options: crate::StoreOptions) -> Result<Store> {
        let (key, _) = crate::sealing::SecretsKey::generate()?;
        Ok(Store::open_with(url, options)
            .await?
            .with_secrets_key(Some(std::sync::Arc::new(key))))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Schema { base, schema } => {
                let (base, schema) = (base.clone(), schema.clone());
                // Dropping may happen inside a runtime; use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(drop_schema(&base, &schema))
                        .map_err(std::io::Error::other)
                })
                .join();
            }
        }
    }
}

/// Runs a statement directly, bypassing the repository functions: tests use it to tamper
/// with rows (an edited or deleted audit event) and check that the tampering is found.
pub async fn execute_raw(store: &Store, sql: &str) -> Result<u64> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// Tampers with the audit trail as the reset attack does: every event's hashes erased and the
/// head put back at the genesis, with no hash computed.
pub async fn erase_audit_hashes(store: &Store) -> Result<()> {
    execute_raw(
        store,
        "UPDATE audit_events SET prev_hash = NULL, hash = NULL",
    )
    .await?;
    let head = format!(
        "UPDATE audit_head SET last_id = 0, last_hash = '{}', event_count = 0",
        crate::GENESIS_HASH
    );
    execute_raw(store, &head).await?;
    Ok(())
}

/// Reads the first column of every row as optional text, bypassing the repository functions:
/// tests use it to see what the database itself holds (a sealed secret, a masked subject).
pub async fn fetch_raw_texts(store: &Store, sql: &str) -> Result<Vec<Option<String>>> {
    use sqlx::Row;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&store.pool)
        .await?;
    rows.iter()
        .map(|r| r.try_get::<Option<String>, _>(0).map_err(Into::into))
        .collect()
}

/// How long dropping a test's schema waits for a table's lock before it ends the sessions
/// that hold one.
const DROP_LOCK_WAIT: &str = "SET lock_timeout = '5s'";

/// Drops a test's schema. Its server may still hold a transaction open in it: a test drops
/// its database from inside its own runtime, which then cannot run that server's tasks to
/// the transaction's end (nor the tasks of a proxy in front of it), so waiting for their
/// locks would wait forever. After a bounded wait, the sessions holding locks in the schema
/// are ended and the drop is tried again.
async fn drop_schema(base: &str, schema: &str) -> std::result::Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(base).await?;
    sqlx::query(DROP_LOCK_WAIT).execute(&mut conn).await?;
    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    let mut dropped = Ok(());
    for _ in 0..3 {
        dropped = sqlx::query(sqlx::AssertSqlSafe(drop.clone()))
            .execute(&mut conn)
            .await
            .map(|_| ());
        if dropped.is_ok() {
            break;
        }
        eprintln!(
            "dropping test schema {schema}: its locks are still held; ending the sessions that hold them"
        );
        sqlx::query(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l
             JOIN pg_class c ON c.oid = l.relation
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()",
        )
        .bind(schema)
        .execute(&mut conn)
        .await?;
    }
    conn.close().await?;
    dropped
}
