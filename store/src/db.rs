//! Opening the database, migrating it, and the pool every repository function uses.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::sealing::SecretsKey;
use crate::{Error, Result};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The handle to videoreg's database. Cheap to clone: clones share one connection pool,
/// which does its own locking; no lock of ours is held while a query runs.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The URL it was opened with (the bus listener opens its own connection).
    pub(crate) url: String,
    /// The bus channel on PostgreSQL: one per schema, so that separate deployments (and
    /// tests) sharing a database do not hear each other.
    bus_channel: Option<String>,
    /// The secrets key, when configured: TOTP secrets are sealed with it and ID numbers in
    /// the audit trail linked by it (see [`crate::sealing`]).
    pub(crate) secrets: Option<std::sync::Arc<SecretsKey>>,
}

/// How a store's pool behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a query waits for a connection before failing as unavailable. Short, so
    /// that during an outage people are told at once rather than left waiting.
    pub acquire_timeout: Duration,
}

impl StoreOptions {
    /// The default acquire timeout: two seconds.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

impl Store {
    /// Opens the database at `url` with the default [`StoreOptions`], creating the SQLite
    /// file (and its directory) if missing, and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// Opens the database at `url` with `options`, as [`Store::open`] does.
    pub async fn open_with(url: &str, store_options: StoreOptions) -> Result<Self> {
        install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(store_options.acquire_timeout);
        let pool = match backend {
            Backend::Sqlite => {
                options
                    // One writer at a time is SQLite's rule; a few readers keep pages responsive.
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(&url).await?,
        };
        let bus_channel = (backend == Backend::Postgres).then(|| bus_channel_for(&url));
        let store = Self {
            pool,
            backend,
            url,
            bus_channel,
            secrets: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The same store, sealing and opening TOTP secrets (and linking ID numbers) with `key`.
    pub fn with_secrets_key(mut self, key: Option<std::sync::Arc<SecretsKey>>) -> Self {
        self.secrets = key;
        self
    }

    /// The secrets key this store was given, if any.
    pub fn secrets_key(&self) -> Option<&std::sync::Arc<SecretsKey>> {
        self.secrets.as_ref()
    }

    /// Applies every migration not yet applied. Safe to call on every start and from many
    /// nodes at once (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The PostgreSQL notification channel, if any.
    pub(crate) fn bus_channel(&self) -> Option<&str> {
        self.bus_channel.as_deref()
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `videoreg_bus` plus the schema named in the URL's `search_path`, if any.
fn bus_channel_for(url: &str) -> String {
    let schema = url
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("options[search_path]="))
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .unwrap_or_default();
    if schema.is_empty() {
        "videoreg_bus".to_owned()
    } else {
        format!("videoreg_bus_{schema}")
    }
}

/// Tells the backend from the URL and, for SQLite, makes sure the file can be created.
fn normalise_url(url: &str) -> Result<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(Error::UnsupportedUrl(url.to_owned()));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(Error::UnsupportedUrl(url.to_owned()));
    }
    if path.contains(":memory:") || query.contains("mode=memory") {
        // Every pooled connection would get its own empty database.
        return Err(Error::UnsupportedUrl(format!(
            "{url} (in-memory SQLite: use a file)"
        )));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((Backend::Sqlite, format!("sqlite://{path}?{query}")))
}

/// An instant as stored: milliseconds since the Unix epoch.
pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored instant back as a `DateTime`.
pub(crate) fn from_millis(what: &'static str, ms: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single().ok_or(Error::Corrupt {
        what,
        value: ms.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_and_postgres_urls_pass_through() {
        let dir = std::env::temp_dir().join("videoreg-url-test");
        let file = dir.join("x.db");
        let (b, u) = normalise_url(&format!("sqlite:{}", file.display())).unwrap();
        assert_eq!(
            (b, u),
            (
                Backend::Sqlite,
                format!("sqlite://{}?mode=rwc", file.display())
            )
        );
        assert!(dir.is_dir(), "the directory is created");
        let (_, u) = normalise_url(&format!("sqlite://{}?mode=rw", file.display())).unwrap();
        assert!(u.ends_with("?mode=rw"), "an explicit mode is kept");
        assert!(matches!(
            normalise_url("sqlite::memory:"),
            Err(Error::UnsupportedUrl(_))
        ));
        let (b, u) = normalise_url("postgres://u@h/db").unwrap();
        assert_eq!((b, u.as_str()), (Backend::Postgres, "postgres://u@h/db"));
        assert!(matches!(
            normalise_url("mysql://x"),
            Err(Error::UnsupportedUrl(_))
        ));
        assert!(matches!(
            normalise_url("sqlite://"),
            Err(Error::UnsupportedUrl(_))
        ));
    }
}

#[cfg(test)]
mod schema_tests {
    /// The two migration folders must describe the same schema: only the integer and
    /// identity spellings (and the comment naming the other file) may differ. A PostgreSQL
    /// identity column is a plain integer column in SQLite, numbered by the insert.
    #[test]
    fn sqlite_and_postgres_migrations_are_in_step() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let names = |backend: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(dir.join(backend))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"), "same migration files");
        for name in names("sqlite") {
            let norm = |backend: &str| -> Vec<String> {
                std::fs::read_to_string(dir.join(backend).join(&name))
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with("--"))
                    .map(|l| {
                        l.replace("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "AUTO")
                            .replace(" GENERATED ALWAYS AS IDENTITY", "")
                            .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "AUTO")
                            .replace("BIGINT", "INTEGER")
                            .replace("BYTEA", "BLOB")
                    })
                    .collect()
            };
            assert_eq!(norm("sqlite"), norm("postgres"), "{name}");
        }
    }
}
