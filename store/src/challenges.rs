//! Liveness challenges: issued during a call, shown on the citizen's page, then settled once
//! (passed, failed or replaced). Every step writes its audit event in the same transaction,
//! and every settling step is a conditional update, so a code is accepted once however many
//! nodes see answers at the same moment.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, append_in, audited};
use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// A challenge to issue.
#[derive(Debug, Clone)]
pub struct NewChallenge<'a> {
    /// Random id.
    pub id: &'a str,
    /// The call's ticket.
    pub ticket_id: &'a str,
    /// The agent in the call.
    pub agent_id: &'a str,
    /// SHA-256 of `ticket:code`, hex.
    pub code_hash: &'a str,
    /// The action's id, from the rules.
    pub action: &'a str,
    /// How it may be answered: `typed`, `spoken` or `both`.
    pub answer: &'a str,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being answerable.
    pub expires_at: DateTime<Utc>,
}

/// A stored challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Its id.
    pub id: String,
    /// The call's ticket.
    pub ticket_id: String,
    /// The agent who issued it.
    pub agent_id: String,
    /// SHA-256 of `ticket:code`, hex.
    pub code_hash: String,
    /// The action's id.
    pub action: String,
    /// `typed`, `spoken` or `both`.
    pub answer: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being answerable.
    pub expires_at: DateTime<Utc>,
    /// When the citizen's page showed it.
    pub shown_at: Option<DateTime<Utc>>,
    /// When it was settled.
    pub answered_at: Option<DateTime<Utc>>,
    /// `None` while live; then `passed`, `failed` or `replaced`.
    pub outcome: Option<String>,
    /// How it passed: `typed` or `heard`.
    pub how: Option<String>,
    /// Wrong typed codes so far.
    pub attempts: i64,
}

const COLUMNS: &str = "id, ticket_id, agent_id, code_hash, action, answer, issued_at, expires_at, shown_at, answered_at, outcome, how, attempts";

impl Store {
    /// Issues a challenge: any live one of the same call is replaced, the new one is written
    /// and `event` (its `challenge.issued`) appended, together.
    pub async fn issue_challenge(
        &self,
        c: &NewChallenge<'_>,
        event: &NewAuditEvent<'_>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE challenges SET outcome = 'replaced', answered_at = $1 WHERE ticket_id = $2 AND outcome IS NULL",
        )
        .bind(to_millis(c.issued_at))
        .bind(c.ticket_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO challenges (id, ticket_id, agent_id, code_hash, action, answer, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.id)
        .bind(c.ticket_id)
        .bind(c.agent_id)
        .bind(c.code_hash)
        .bind(c.action)
        .bind(c.answer)
        .bind(to_millis(c.issued_at))
        .bind(to_millis(c.expires_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A call's challenges, oldest first.
    pub async fn challenges_for_ticket(&self, ticket_id: &str) -> Result<Vec<Challenge>> {
        let sql =
            format!("SELECT {COLUMNS} FROM challenges WHERE ticket_id = $1 ORDER BY issued_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(challenge_from_row).collect()
    }

    /// One challenge.
    pub async fn challenge(&self, id: &str) -> Result<Option<Challenge>> {
        let sql = format!("SELECT {COLUMNS} FROM challenges WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    /// Notes when the citizen's page showed a live challenge, once, with `event`
    /// (`challenge.shown`). False when it was shown already, or is settled.
    pub async fn challenge_shown(
        &self,
        id: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE challenges SET shown_at = $1 WHERE id = $2 AND shown_at IS NULL AND outcome IS NULL",
        )
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audited(tx, changed, event).await
    }

    /// Settles a live, unexpired challenge as `outcome` (`passed` or `failed`), `how` it was
    /// answered, with `event`. False, and nothing written, when it was settled already or
    /// has expired.
    pub async fn settle_challenge(
        &self,
        id: &str,
        outcome: &str,
        how: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE challenges SET outcome = $1, how = $2, answered_at = $3
             WHERE id = $4 AND outcome IS NULL AND expires_at > $3",
        )
        .bind(outcome)
        .bind(how)
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audited(tx, changed, event).await
    }

    /// Counts one wrong typed code against a live challenge; returns the count after it
    /// (`None` when the challenge is no longer live).
    pub async fn challenge_wrong_code(&self, id: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "UPDATE challenges SET attempts = attempts + 1 WHERE id = $1 AND outcome IS NULL RETURNING attempts",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("attempts")).transpose()?)
    }

    /// Whether `agent` has a challenge passed in the call on `ticket_id` since `since` (the
    /// call's start).
    pub async fn challenge_passed(
        &self,
        ticket_id: &str,
        agent: &str,
        since: DateTime<Utc>,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM challenges
             WHERE ticket_id = $1 AND agent_id = $2 AND outcome = 'passed' AND issued_at >= $3",
        )
        .bind(ticket_id)
        .bind(agent)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}

fn challenge_from_row(r: &AnyRow) -> Result<Challenge> {
    let at = |col: &'static str| -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = r.try_get(col)?;
        v.map(|ms| from_millis(col, ms)).transpose()
    };
    Ok(Challenge {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        agent_id: r.try_get("agent_id")?,
        code_hash: r.try_get("code_hash")?,
        action: r.try_get("action")?,
        answer: r.try_get("answer")?,
        issued_at: from_millis("challenges.issued_at", r.try_get("issued_at")?)?,
        expires_at: from_millis("challenges.expires_at", r.try_get("expires_at")?)?,
        shown_at: at("shown_at")?,
        answered_at: at("answered_at")?,
        outcome: r.try_get("outcome")?,
        how: r.try_get("how")?,
        attempts: r.try_get("attempts")?,
    })
}
