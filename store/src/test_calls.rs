//! Finished test calls, kept under a token until an application uses it.

use chrono::{DateTime, Utc};

use crate::db::to_millis;
use crate::{Result, Store};

impl Store {
    /// Stores a test call's result (JSON) under the hash of its token, with no network path.
    pub async fn insert_test_call(
        &self,
        token_hash: &str,
        result: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.insert_test_call_on(token_hash, result, None, now, expires_at)
            .await
    }

    /// Stores a test call's result (JSON) under the hash of its token, with the network
    /// path its media took (`udp`, `tcp`, `turn_udp`, `turn_tcp`, `turn_tls`), if known.
    pub async fn insert_test_call_on(
        &self,
        token_hash: &str,
        result: &str,
        path: Option<&str>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO test_calls (token_hash, result, path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(result)
            .bind(path)
            .bind(to_millis(now))
            .bind(to_millis(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many test calls passed in `[from, to)` by network path (`None`: not reported),
    /// most first, then by name, unreported last.
    pub async fn test_call_paths(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Option<String>, i64)>> {
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT path, COUNT(*) FROM test_calls WHERE created_at >= $1 AND created_at < $2
             GROUP BY path ORDER BY COUNT(*) DESC, COALESCE(path, '~')",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// A test call's result if it is unexpired and unused at `now`, without taking it.
    pub async fn peek_test_call(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let result: Option<String> =
            sqlx::query_scalar("SELECT result FROM test_calls WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                .bind(token_hash)
                .bind(to_millis(now))
                .fetch_optional(&self.pool)
                .await?;
        Ok(result)
    }

    /// Takes a test call's result once: unexpired and unused at `now`, it is marked used and
    /// returned; otherwise `None`. Atomic, so two applications cannot share one test.
    pub async fn take_test_call(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let result: Option<String> = sqlx::query_scalar(
            "UPDATE test_calls SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING result",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(result)
    }

    /// Counts one contrast check against a passed test call and returns its result, unless
    /// the test call is used, expired, or has already been used for `max_checks` checks.
    /// Atomic, so concurrent checks with one test call count exactly.
    pub async fn count_contrast_check(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        max_checks: i64,
    ) -> Result<Option<String>> {
        let result: Option<String> = sqlx::query_scalar(
            "UPDATE test_calls SET checks = checks + 1
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND checks < $3
             RETURNING result",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .bind(max_checks)
        .fetch_optional(&self.pool)
        .await?;
        Ok(result)
    }
}
