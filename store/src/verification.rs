//! Failed contrast checks, kept so that limits hold across restarts and across nodes.

use chrono::{DateTime, Utc};

use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// The failures that fall inside a limit window, oldest first, for one ID number and for
/// one client address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureWindow {
    /// Failure instants for the ID number, oldest first.
    pub by_id: Vec<DateTime<Utc>>,
    /// Failure instants from the client address, oldest first.
    pub by_address: Vec<DateTime<Utc>>,
}

impl Store {
    /// Records one failed contrast check.
    pub async fn record_verification_failure(
        &self,
        id_number: &str,
        client_addr: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO verification_failures (id_number, client_addr, at) VALUES ($1, $2, $3)",
        )
        .bind(id_number)
        .bind(client_addr)
        .bind(to_millis(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The failures strictly after `since` for `id_number` and for `client_addr`, at most
    /// `cap` of each (the oldest), which is all a limit of `cap` needs to see.
    pub async fn verification_failures_since(
        &self,
        id_number: &str,
        client_addr: &str,
        since: DateTime<Utc>,
        cap: u32,
    ) -> Result<FailureWindow> {
        let by_id = self
            .failure_instants(Column::IdNumber, id_number, since, cap)
            .await?;
        let by_address = self
            .failure_instants(Column::ClientAddr, client_addr, since, cap)
            .await?;
        Ok(FailureWindow { by_id, by_address })
    }

    async fn failure_instants(
        &self,
        column: Column,
        value: &str,
        since: DateTime<Utc>,
        cap: u32,
    ) -> Result<Vec<DateTime<Utc>>> {
        let sql = match column {
            Column::IdNumber => {
                "SELECT at FROM verification_failures WHERE id_number = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
            Column::ClientAddr => {
                "SELECT at FROM verification_failures WHERE client_addr = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
        };
        let rows: Vec<i64> = sqlx::query_scalar(sql)
            .bind(value)
            .bind(to_millis(since))
            .bind(i64::from(cap))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|ms| from_millis("verification_failures.at", ms))
            .collect()
    }

    /// Deletes failures older than `before`; returns how many were deleted.
    pub async fn prune_verification_failures(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM verification_failures WHERE at < $1")
            .bind(to_millis(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Which key a failure count is taken by.
#[derive(Clone, Copy)]
enum Column {
    IdNumber,
    ClientAddr,
}
