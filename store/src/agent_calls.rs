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

    /// Tickets offered at or before `offered_before` and still not accepted, with the agent
    /// who let each lapse: each goes back by [`crate::Tx::requeue_lapsed`] with its audit event.
    pub async fn lapsed_offers(
        &self,
        offered_before: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT id, agent_id FROM tickets WHERE status = 'offered' AND offered_at <= $1 AND agent_id IS NOT NULL",
        )
        .bind(to_millis(offered_before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("agent_id")?)))
            .collect()
    }
}
