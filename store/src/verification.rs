//! Failed contrast checks, kept so that limits hold across restarts and across nodes, and
//! the read of failures inside a limit window that citizen accounts' failures share.

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
        self.failure_window(
            FailureTable::Verification,
            id_number,
            client_addr,
            since,
            cap,
        )
        .await
    }

    /// The rows of `table` strictly after `since` for `id_number` and for `client_addr`, at
    /// most `cap` of each (the oldest), oldest first.
    pub(crate) async fn failure_window(
        &self,
        table: FailureTable,
        id_number: &str,
        client_addr: &str,
        since: DateTime<Utc>,
        cap: u32,
    ) -> Result<FailureWindow> {
        let by_id = self
            .failure_instants(table, Column::IdNumber, id_number, since, cap)
            .await?;
        let by_address = self
            .failure_instants(table, Column::ClientAddr, client_addr, since, cap)
            .await?;
        Ok(FailureWindow { by_id, by_address })
    }

    async fn failure_instants(
        &self,
        table: FailureTable,
        column: Column,
        value: &str,
        since: DateTime<Utc>,
        cap: u32,
    ) -> Result<Vec<DateTime<Utc>>> {
        let rows: Vec<i64> = sqlx::query_scalar(table.instants_sql(column))
            .bind(value)
            .bind(to_millis(since))
            .bind(i64::from(cap))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|ms| from_millis(table.at_column(), ms))
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

/// A table of failed attempts: rows of an ID number, a client address and an instant.
#[derive(Clone, Copy)]
pub(crate) enum FailureTable {
    /// Failed contrast checks (`verification_failures`).
    Verification,
    /// Failed activations, sign-ins and receipts (`activation_failures`).
    Activation,
}

impl FailureTable {
    /// The instants by one key strictly after `$2`, at most `$3` of them, oldest first.
    fn instants_sql(self, column: Column) -> &'static str {
        match (self, column) {
            (Self::Verification, Column::IdNumber) => {
                "SELECT at FROM verification_failures WHERE id_number = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
            (Self::Verification, Column::ClientAddr) => {
                "SELECT at FROM verification_failures WHERE client_addr = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
            (Self::Activation, Column::IdNumber) => {
                "SELECT at FROM activation_failures WHERE id_number = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
            (Self::Activation, Column::ClientAddr) => {
                "SELECT at FROM activation_failures WHERE client_addr = $1 AND at > $2 ORDER BY at LIMIT $3"
            }
        }
    }

    /// The column read, as a corrupt value is reported.
    fn at_column(self) -> &'static str {
        match self {
            Self::Verification => "verification_failures.at",
            Self::Activation => "activation_failures.at",
        }
    }
}

/// Which key a failure count is taken by.
#[derive(Clone, Copy)]
enum Column {
    IdNumber,
    ClientAddr,
}
