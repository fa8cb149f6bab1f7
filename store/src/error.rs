/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The directory for the SQLite file could not be created.
    #[error("cannot create database directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why not.
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
    /// The secrets key is malformed or a value could not be sealed.
    #[error("secrets key: {0}")]
    Key(String),
    /// A TOTP secret was to be written but the store has no secrets key to seal it with.
    #[error("no secrets key: TOTP secrets are only stored sealed (see --secrets-key-file)")]
    NoSecretsKey,
    /// The bus listener's connection was lost: messages sent meanwhile may have been missed.
    #[error("the bus listener's connection was lost")]
    BusInterrupted,
    /// A stored value could not be read back (a corrupt row).
    #[error("corrupt stored value in {what}: {value:?}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// The value found.
        value: String,
    },
}

impl Error {
    /// Whether the error is a uniqueness violation (a row with that key already exists).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether the database could not be reached rather than refused the work: no
    /// connection within the acquire timeout, a closed pool, a broken connection, or a
    /// PostgreSQL server that is shutting down or not yet accepting connections. Such a
    /// failure is temporary from the user's side: asking again later may succeed.
    pub fn is_unavailable(&self) -> bool {
        let e = match self {
            Error::Database(e) => e,
            Error::BusInterrupted => return true,
            _ => return false,
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|c| is_unavailable_sqlstate(&c)),
            _ => false,
        }
    }
}

/// PostgreSQL's connection exceptions (class 08) and its operator interventions that end or
/// refuse sessions (`admin_shutdown`, `crash_shutdown`, `cannot_connect_now`).
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn unreachable_databases_are_unavailable_and_other_failures_are_not() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ] {
            assert!(Error::Database(e).is_unavailable());
        }
        assert!(!Error::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!Error::NoSecretsKey.is_unavailable());
        for code in ["08006", "08001", "57P01", "57P03"] {
            assert!(super::is_unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "40001"] {
            assert!(!super::is_unavailable_sqlstate(code), "{code}");
        }
    }
}
