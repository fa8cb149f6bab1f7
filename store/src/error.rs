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
}
