//! Applications: a citizen whose contrast data matched the registry, holding a token.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// What the caller decides when an application is created.
#[derive(Debug, Clone)]
pub struct NewApplication<'a> {
    /// A fresh random identifier.
    pub id: &'a str,
    /// The hash of the token handed to the citizen; the token itself is never stored.
    pub token_hash: &'a str,
    /// The verified, normalised ID number.
    pub id_number: &'a str,
    /// The client address the application came from.
    pub client_addr: &'a str,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// The test call's result (JSON) the application was made with.
    pub test_call: Option<&'a str>,
}

/// A stored application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its identifier.
    pub id: String,
    /// The verified ID number.
    pub id_number: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// The test call's result (JSON), as the application carried it.
    pub test_call: Option<String>,
}

impl Store {
    /// Stores a new application.
    pub async fn insert_application(&self, a: &NewApplication<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO applications (id, token_hash, id_number, client_addr, created_at, expires_at, test_call)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.id)
        .bind(a.token_hash)
        .bind(a.id_number)
        .bind(a.client_addr)
        .bind(to_millis(a.created_at))
        .bind(to_millis(a.expires_at))
        .bind(a.test_call)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The application whose token hashes to `token_hash`, if it has not expired at `now`.
    pub async fn find_application_by_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Application>> {
        let row = sqlx::query(
            "SELECT id, id_number, created_at, expires_at, test_call FROM applications
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| application_from_row(&r)).transpose()
    }

    /// An application by id, expired or not (the console shows what a ticket was joined with).
    pub async fn application(&self, id: &str) -> Result<Option<Application>> {
        let row = sqlx::query(
            "SELECT id, id_number, created_at, expires_at, test_call FROM applications WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| application_from_row(&r)).transpose()
    }
}

fn application_from_row(r: &sqlx::any::AnyRow) -> Result<Application> {
    Ok(Application {
        id: r.try_get("id")?,
        id_number: r.try_get("id_number")?,
        created_at: from_millis("applications.created_at", r.try_get("created_at")?)?,
        expires_at: from_millis("applications.expires_at", r.try_get("expires_at")?)?,
        test_call: r.try_get("test_call")?,
    })
}
