//! The timers around an agent's call, as statements: the ticket an agent holds, offers not
//! accepted in time (put back at the head), and wrap-ups that have run their course. Each
//! is one statement, so that two nodes sweeping at once never act twice.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::to_millis;
use crate::tickets::select_tickets;
use crate::{Result, Store, Ticket};

impl Store {
    /// When the citizen holding `ticket_id` consented to the call and its recording.
    pub async fn ticket_consent(&self, ticket_id: &str) -> Result<Option<DateTime<Utc>>> {
        let ms: Option<Option<i64>> =
            sqlx::query_scalar("SELECT consent_at FROM tickets WHERE id = $1")
                .bind(ticket_id)
                .fetch_optional(&self.pool)
                .await?;
        ms.flatten()
            .map(|ms| crate::db::from_millis("tickets.consent_at", ms))
            .transpose()
    }

    /// The ticket `agent_id` holds (offered to them or in a call with them), if any.
    pub async fn current_ticket_for_agent(&self, agent_id: &str) -> Result<Option<Ticket>> {
        self.one_ticket(
            select_tickets!("WHERE agent_id = $1 AND status IN ('offered', 'in_call')"),
            agent_id,
        )
        .await
    }

    /// A ticket that ended (`done`) and whose resume token hashes to `hash`: a citizen whose
    /// connection dropped around the decision comes back for the outcome.
    pub async fn ended_ticket_by_resume_token(&self, hash: &str) -> Result<Option<Ticket>> {
        self.one_ticket(
            select_tickets!("WHERE resume_token_hash = $1 AND status = 'done'"),
            hash,
        )
        .await
    }

    /// Puts back every ticket offered at or before `offered_before` and still not accepted,
    /// with `priority` (the head of the queue). Returns each ticket with the agent who let it
    /// lapse.
    pub async fn requeue_unaccepted(
        &self,
        offered_before: DateTime<Utc>,
        priority: i64,
    ) -> Result<Vec<(String, String)>> {
        // Read first (the agent is needed), then put back one by one under the same
        // conditions, so that an offer accepted in between stays accepted.
        let lapsed = sqlx::query(
            "SELECT id, agent_id FROM tickets WHERE status = 'offered' AND offered_at <= $1",
        )
        .bind(to_millis(offered_before))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in lapsed {
            let id: String = r.try_get("id")?;
            let agent: Option<String> = r.try_get("agent_id")?;
            let done = sqlx::query(
                "UPDATE tickets SET status = 'waiting', priority = $2, agent_id = NULL, offered_at = NULL
                 WHERE id = $1 AND status = 'offered' AND agent_id = $3 AND offered_at <= $4",
            )
            .bind(&id)
            .bind(priority)
            .bind(&agent)
            .bind(to_millis(offered_before))
            .execute(&self.pool)
            .await?;
            if let (1, Some(agent)) = (done.rows_affected(), agent) {
                out.push((id, agent));
            }
        }
        Ok(out)
    }

    /// Agents in wrap-up since `since_before` or earlier become available at `now`.
    /// Returns who did.
    pub async fn finish_wrap_ups(
        &self,
        since_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE agent_states SET state = 'available', reason = NULL, since = $2
             WHERE state = 'wrap_up' AND since <= $1 RETURNING user_id",
        )
        .bind(to_millis(since_before))
        .bind(to_millis(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }
}
