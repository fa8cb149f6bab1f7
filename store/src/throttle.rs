//! Limits on failed attempts as counters, one row per limit and subject (`throttles`): an
//! attempt is counted by one atomic upsert inside a transaction, before it is checked, so
//! that concurrent attempts count exactly and the caller can refuse those past the limit
//! (rolling the count back). The back-off rules belong to the callers; the store only counts,
//! holds a subject until an instant, clears and prunes. Also the addresses a citizen has
//! signed in from (`citizen_trusted_addresses`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{from_millis, to_millis};
use crate::{Result, Store, Tx};

/// Which limit a counter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Citizen sign-in failures for an ID number, from any address.
    CitizenId,
    /// Wrong activation codes (activation, receipts) for an ID number from one address.
    CitizenCodePair,
    /// Citizen failures (sign-in, activation, receipts) from one address.
    CitizenAddress,
    /// Failed contrast checks for an ID number, from any address.
    VerifyId,
    /// Failed contrast checks from one address.
    VerifyAddress,
    /// Staff sign-in failures for a name typed.
    StaffName,
    /// Staff sign-in failures from one address.
    StaffAddress,
}

impl ThrottleScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CitizenId => "citizen_id",
            Self::CitizenCodePair => "citizen_pair",
            Self::CitizenAddress => "citizen_addr",
            Self::VerifyId => "verify_id",
            Self::VerifyAddress => "verify_addr",
            Self::StaffName => "staff_name",
            Self::StaffAddress => "staff_addr",
        }
    }
}

/// The subject of a [`ThrottleScope::CitizenCodePair`] counter.
pub fn pair_subject(id_number: &str, client_addr: &str) -> String {
    format!("{id_number}|{client_addr}")
}

/// A counter as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Consecutive failures counted (including attempts still being checked).
    pub failures: i64,
    /// The first instant another attempt is admitted.
    pub next_at: DateTime<Utc>,
    /// When the last attempt was counted.
    pub updated_at: DateTime<Utc>,
}

impl Tx {
    /// Counts one more attempt for `subject` under `scope` and returns the counter as it now
    /// stands (`next_at` as it was before this attempt). A counter whose last attempt is
    /// before `forget_before` and which holds nobody starts again at 1. Takes the row's lock
    /// (PostgreSQL) or the write lock (SQLite) until the transaction ends, so concurrent
    /// attempts are counted one after another.
    pub async fn count_attempt(
        &mut self,
        scope: ThrottleScope,
        subject: &str,
        now: DateTime<Utc>,
        forget_before: Option<DateTime<Utc>>,
    ) -> Result<Throttle> {
        let row = sqlx::query(
            "INSERT INTO throttles (scope, subject, failures, next_at, updated_at)
             VALUES ($1, $2, 1, 0, $3)
             ON CONFLICT (scope, subject) DO UPDATE SET
                 failures = CASE WHEN throttles.updated_at < $4 AND throttles.next_at <= $3
                                 THEN 1 ELSE throttles.failures + 1 END,
                 next_at = CASE WHEN throttles.updated_at < $4 AND throttles.next_at <= $3
                                THEN 0 ELSE throttles.next_at END,
                 updated_at = $3
             RETURNING failures, next_at, updated_at",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(to_millis(now))
        .bind(forget_before.map_or(i64::MIN, to_millis))
        .fetch_one(self.conn())
        .await?;
        throttle_from_row(&row)
    }

    /// Admits no attempt for `subject` under `scope` before `until`.
    pub async fn hold_until(
        &mut self,
        scope: ThrottleScope,
        subject: &str,
        until: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE throttles SET next_at = $3 WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .bind(to_millis(until))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Forgets every counter that holds the citizen `id_number` back (sign-in, codes from
    /// any address, contrast checks); returns how many there were.
    pub async fn clear_citizen_throttles(&mut self, id_number: &str) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM throttles
             WHERE (scope IN ('citizen_id', 'verify_id') AND subject = $1)
                OR (scope = 'citizen_pair' AND subject LIKE $2)",
        )
        .bind(id_number)
        .bind(format!("{id_number}|%"))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// The counter for `subject` under `scope`, if any.
    pub async fn throttle(&self, scope: ThrottleScope, subject: &str) -> Result<Option<Throttle>> {
        let row = sqlx::query(
            "SELECT failures, next_at, updated_at FROM throttles WHERE scope = $1 AND subject = $2",
        )
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(throttle_from_row).transpose()
    }

    /// Forgets the counter for `subject` under `scope` (after a success, or a reset).
    pub async fn clear_throttle(&self, scope: ThrottleScope, subject: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM throttles WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes the counters under `scope` whose last attempt was before `before` and which
    /// hold nobody at `now`; returns how many.
    pub async fn prune_throttles(
        &self,
        scope: ThrottleScope,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM throttles WHERE scope = $1 AND updated_at < $2 AND next_at <= $3",
        )
        .bind(scope.as_str())
        .bind(to_millis(before))
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Remembers that the citizen `id_number` succeeded from `client_addr` at `at`.
    pub async fn trust_citizen_address(
        &self,
        id_number: &str,
        client_addr: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO citizen_trusted_addresses (id_number, client_addr, at) VALUES ($1, $2, $3)
             ON CONFLICT (id_number, client_addr) DO UPDATE SET at = excluded.at",
        )
        .bind(id_number)
        .bind(client_addr)
        .bind(to_millis(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the citizen `id_number` succeeded from `client_addr` after `since`.
    pub async fn citizen_address_trusted(
        &self,
        id_number: &str,
        client_addr: &str,
        since: DateTime<Utc>,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM citizen_trusted_addresses
             WHERE id_number = $1 AND client_addr = $2 AND at > $3",
        )
        .bind(id_number)
        .bind(client_addr)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Deletes trusted addresses last used before `before`; returns how many.
    pub async fn prune_trusted_addresses(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM citizen_trusted_addresses WHERE at < $1")
            .bind(to_millis(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn throttle_from_row(row: &sqlx::any::AnyRow) -> Result<Throttle> {
    Ok(Throttle {
        failures: row.try_get("failures")?,
        next_at: from_millis("throttles.next_at", row.try_get("next_at")?)?,
        updated_at: from_millis("throttles.updated_at", row.try_get("updated_at")?)?,
    })
}
