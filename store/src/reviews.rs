//! Second review of approvals (four eyes): an approval chosen for review is queued in its
//! decision's transaction ([`Tx::queue_review`]); a reviewer confirms or flags it, once, and
//! never their own; a flag suspends the registration's activation code until an auditor
//! clears it (the approval stands) or revokes the registration. Each step is written with its
//! audit event.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, audited};
use crate::db::{from_millis, to_millis};
use crate::{Result, Store, Tx};

/// An approval queued for review, as the decision's transaction writes it.
#[derive(Debug, Clone)]
pub struct NewReview<'a> {
    /// Why it was chosen: `sample`, `poor_quality` or `new_agent`.
    pub sampled_for: &'a str,
}

/// A review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The approved call's ticket.
    pub ticket_id: String,
    /// The decision under review.
    pub decision_id: String,
    /// The registration it issued.
    pub registration_id: String,
    /// The agent who approved.
    pub agent_id: String,
    /// `sample`, `poor_quality` or `new_agent`.
    pub sampled_for: String,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// Who reviewed it.
    pub reviewer_id: Option<String>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// `confirmed` or `flagged`; `None` while pending.
    pub outcome: Option<String>,
    /// A flag's reason code.
    pub reason: Option<String>,
    /// The reviewer's note.
    pub note: Option<String>,
    /// The auditor who resolved a flag.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// `cleared` or `revoked`.
    pub resolution: Option<String>,
}

/// Reviews per agent whose approvals were reviewed, over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReviewCounts {
    /// The approving agent.
    pub agent_id: String,
    /// Approvals queued for review.
    pub queued: i64,
    /// Confirmed by a reviewer.
    pub confirmed: i64,
    /// Flagged by a reviewer.
    pub flagged: i64,
    /// Flags an auditor revoked the registration for.
    pub revoked: i64,
}

/// SQL condition on `registration_id` (a column or parameter in scope): a review blocks it —
/// flagged, and not cleared. The one definition, for activation and for its message.
pub(crate) const BLOCKED_BY_REVIEW: &str = "registration_id IN (SELECT registration_id FROM reviews WHERE outcome = 'flagged' AND (resolution IS NULL OR resolution = 'revoked'))";

const COLUMNS: &str = "ticket_id, decision_id, registration_id, agent_id, sampled_for, queued_at, reviewer_id, reviewed_at, outcome, reason, note, resolved_by, resolved_at, resolution";

impl Tx {
    /// Queues the approval `decision_id` (which issued `registration_id`) for review.
    pub(crate) async fn queue_review(
        &mut self,
        d: &crate::NewDecision<'_>,
        registration_id: &str,
        r: &NewReview<'_>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO reviews (ticket_id, decision_id, registration_id, agent_id, sampled_for, queued_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(d.ticket_id)
        .bind(d.id)
        .bind(registration_id)
        .bind(d.agent_id)
        .bind(r.sampled_for)
        .bind(to_millis(d.at))
        .execute(&mut *self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The review of the call on `ticket_id`, if its approval was chosen.
    pub async fn review(&self, ticket_id: &str) -> Result<Option<Review>> {
        let sql = format!("SELECT {COLUMNS} FROM reviews WHERE ticket_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(review_from_row).transpose()
    }

    /// Reviews waiting for a reviewer other than `reviewer_id` (never their own approvals),
    /// oldest first, at most `limit`.
    pub async fn pending_reviews_for(&self, reviewer_id: &str, limit: u32) -> Result<Vec<Review>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reviews WHERE outcome IS NULL AND agent_id <> $1 ORDER BY queued_at, ticket_id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reviewer_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// Flagged reviews an auditor has not resolved, oldest first, at most `limit`.
    pub async fn unresolved_flags(&self, limit: u32) -> Result<Vec<Review>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reviews WHERE outcome = 'flagged' AND resolution IS NULL ORDER BY reviewed_at, ticket_id LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// Records a reviewer's outcome (`confirmed`, or `flagged` with `reason`) with its audit
    /// event. False, and nothing written, when it was reviewed already or the reviewer is the
    /// approving agent.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_review(
        &self,
        ticket_id: &str,
        reviewer_id: &str,
        outcome: &str,
        reason: Option<&str>,
        note: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE reviews SET reviewer_id = $1, reviewed_at = $2, outcome = $3, reason = $4, note = $5
             WHERE ticket_id = $6 AND outcome IS NULL AND agent_id <> $1",
        )
        .bind(reviewer_id)
        .bind(to_millis(now))
        .bind(outcome)
        .bind(reason)
        .bind(note)
        .bind(ticket_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audited(tx, changed, event).await
    }

    /// Resolves a flag (`cleared` or `revoked`) with its audit event. False, and nothing
    /// written, when it is not an unresolved flag.
    pub async fn resolve_review(
        &self,
        ticket_id: &str,
        auditor_id: &str,
        resolution: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE reviews SET resolved_by = $1, resolved_at = $2, resolution = $3
             WHERE ticket_id = $4 AND outcome = 'flagged' AND resolution IS NULL",
        )
        .bind(auditor_id)
        .bind(to_millis(now))
        .bind(resolution)
        .bind(ticket_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audited(tx, changed, event).await
    }

    /// The review that stops `registration_id`'s activation, if one does.
    pub async fn review_blocking(&self, registration_id: &str) -> Result<Option<Review>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reviews WHERE registration_id = $1 AND {BLOCKED_BY_REVIEW}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(registration_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(review_from_row).transpose()
    }

    /// How many approvals `agent_id` made up to `until` (when a decision is being made:
    /// every earlier one).
    pub async fn approvals_by(&self, agent_id: &str, until: DateTime<Utc>) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM decisions WHERE agent_id = $1 AND outcome = 'approved' AND created_at <= $2",
        )
        .bind(agent_id)
        .bind(to_millis(until))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Review counts per approving agent for approvals queued in `[from, to)`, by agent id.
    pub async fn review_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReviewCounts>> {
        let rows = sqlx::query(
            "SELECT agent_id,
                    COUNT(*) AS queued,
                    COUNT(CASE WHEN outcome = 'confirmed' THEN 1 END) AS confirmed,
                    COUNT(CASE WHEN outcome = 'flagged' THEN 1 END) AS flagged,
                    COUNT(CASE WHEN resolution = 'revoked' THEN 1 END) AS revoked
             FROM reviews WHERE queued_at >= $1 AND queued_at < $2
             GROUP BY agent_id ORDER BY agent_id",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewCounts {
                    agent_id: r.try_get("agent_id")?,
                    queued: r.try_get("queued")?,
                    confirmed: r.try_get("confirmed")?,
                    flagged: r.try_get("flagged")?,
                    revoked: r.try_get("revoked")?,
                })
            })
            .collect()
    }
}

fn review_from_row(r: &AnyRow) -> Result<Review> {
    let at = |col: &'static str| -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = r.try_get(col)?;
        v.map(|ms| from_millis(col, ms)).transpose()
    };
    Ok(Review {
        ticket_id: r.try_get("ticket_id")?,
        decision_id: r.try_get("decision_id")?,
        registration_id: r.try_get("registration_id")?,
        agent_id: r.try_get("agent_id")?,
        sampled_for: r.try_get("sampled_for")?,
        queued_at: from_millis("reviews.queued_at", r.try_get("queued_at")?)?,
        reviewer_id: r.try_get("reviewer_id")?,
        reviewed_at: at("reviewed_at")?,
        outcome: r.try_get("outcome")?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        resolved_by: r.try_get("resolved_by")?,
        resolved_at: at("resolved_at")?,
        resolution: r.try_get("resolution")?,
    })
}
