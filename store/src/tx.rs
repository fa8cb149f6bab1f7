//! A unit of work: the steps of a call's life (claims, answers, requeues, ends, decisions) and
//! agents' state changes, each written together with the audit events that describe it, all
//! committed or none. The caller (signaling's call lifecycle) decides which steps make one
//! transition; every transaction here starts with a write, so that SQLite takes its write
//! lock at once rather than failing to upgrade a read. Callers append audit events last: each
//! append locks the chain's head (one row), so a transaction holding it must not then wait
//! for a ticket or agent row.

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

use crate::agents::{AgentState, AgentStatus, state_from_row};
use crate::audit::{NewAuditEvent, append_in};
use crate::db::to_millis;
use crate::tickets::{select_tickets, service_order, ticket_from_row};
use crate::{Backend, Result, Store, Ticket};

/// An open transaction. Dropped without [`Tx::commit`], nothing of it is written (call
/// [`Tx::rollback`] to release its locks at once).
pub struct Tx {
    /// The transaction; its connection is held until commit or rollback.
    tx: Transaction<'static, Any>,
    backend: Backend,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

/// Runs one step in its own transaction, for callers that need no more than that step.
macro_rules! one_step {
    ($store:expr, |$tx:ident| $step:expr) => {{
        let mut $tx = $store.begin().await?;
        let out = $step.await?;
        $tx.commit().await?;
        Ok(out)
    }};
}
pub(crate) use one_step;

impl Store {
    /// Opens a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx {
            tx: self.pool.begin().await?,
            backend: self.backend(),
        })
    }

    /// Claims the head of the queue for `agent_id` in its own transaction ([`Tx::claim_next`]).
    pub async fn claim_next(&self, agent_id: &str, now: DateTime<Utc>) -> Result<Option<Ticket>> {
        one_step!(self, |tx| tx.claim_next(agent_id, now))
    }

    /// Offered → in call, in its own transaction ([`Tx::answer_ticket`]).
    pub async fn answer_ticket(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        one_step!(self, |tx| tx.answer_ticket(id, now))
    }

    /// Back to the queue, in its own transaction ([`Tx::requeue_ticket`]).
    pub async fn requeue_ticket(&self, id: &str, priority: i64) -> Result<bool> {
        one_step!(self, |tx| tx.requeue_ticket(id, priority))
    }

    /// In call → done, in its own transaction ([`Tx::end_ticket`]).
    pub async fn end_ticket(&self, id: &str, now: DateTime<Utc>, outcome: &str) -> Result<bool> {
        one_step!(self, |tx| tx.end_ticket(id, now, outcome))
    }

    /// A ticket once every transaction writing it has ended: for a caller whose commit got
    /// no answer (its connection was lost), to learn whether it was written. On PostgreSQL
    /// the read takes a share lock, so it waits for a transaction that still holds the row
    /// (one whose `COMMIT` is on its way) rather than reading around it; it gives up after
    /// 5 s. SQLite has one writer and no such transaction.
    pub async fn settled_ticket(&self, id: &str) -> Result<Option<Ticket>> {
        let Backend::Postgres = self.backend() else {
            return self.ticket(id).await;
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL lock_timeout = 5000")
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(select_tickets!("WHERE id = $1 FOR SHARE"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| ticket_from_row(&r)).transpose()
    }
}

impl Tx {
    /// Writes everything.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Writes nothing, and releases the connection's locks now.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// The connection, for the repository modules' own steps.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Appends an audit event; returns its sequence number.
    pub async fn audit(&mut self, e: &NewAuditEvent<'_>) -> Result<i64> {
        append_in(&mut self.tx, e).await
    }

    /// Sets an agent's state.
    pub async fn set_agent_state(
        &mut self,
        user_id: &str,
        status: AgentStatus,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_states (user_id, state, reason, since) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, since = excluded.since",
        )
        .bind(user_id)
        .bind(status.as_str())
        .bind(reason)
        .bind(to_millis(now))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Claims the head of the queue (in service order at `now`) for `agent_id`, atomically:
    /// two agents never get the same ticket. A citizen whose connection dropped keeps the place but is skipped until back:
    /// no agent is offered somebody who is not there. PostgreSQL skips rows another transaction is claiming; SQLite runs the one
    /// statement under its single writer lock.
    pub async fn claim_next(
        &mut self,
        agent_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Ticket>> {
        let claim = match self.backend {
            Backend::Postgres => {
                concat!(
                    "UPDATE tickets SET status = 'offered', agent_id = $1, offered_at = $2
                     WHERE id = (SELECT id FROM tickets WHERE status = 'waiting' AND disconnected_at IS NULL ",
                    service_order!("$2"),
                    " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
                )
            }
            Backend::Sqlite => {
                concat!(
                    "UPDATE tickets SET status = 'offered', agent_id = $1, offered_at = $2
                     WHERE id = (SELECT id FROM tickets WHERE status = 'waiting' AND disconnected_at IS NULL ",
                    service_order!("$2"),
                    " LIMIT 1) RETURNING id"
                )
            }
        };
        let id: Option<String> = sqlx::query_scalar(claim)
            .bind(agent_id)
            .bind(to_millis(now))
            .fetch_optional(&mut *self.tx)
            .await?;
        match id {
            Some(id) => self.ticket(&id).await,
            None => Ok(None),
        }
    }

    /// An agent's state as this transaction sees it, if it has ever been set.
    pub async fn agent_state(&mut self, user_id: &str) -> Result<Option<AgentState>> {
        let row = sqlx::query(
            "SELECT user_id, state, reason, since FROM agent_states WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| state_from_row(&r)).transpose()
    }

    /// A ticket as this transaction sees it.
    pub async fn ticket(&mut self, id: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query(select_tickets!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|r| ticket_from_row(&r)).transpose()
    }

    /// The ticket an agent holds (offered or in a call), as this transaction sees it.
    pub async fn current_ticket_for_agent(&mut self, agent_id: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query(select_tickets!(
            "WHERE agent_id = $1 AND status IN ('offered', 'in_call')"
        ))
        .bind(agent_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| ticket_from_row(&r)).transpose()
    }

    /// The agent's browser connected: offered → in call.
    pub async fn answer_ticket(&mut self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE tickets SET status = 'in_call', answered_at = $2 WHERE id = $1 AND status = 'offered'")
            .bind(id)
            .bind(to_millis(now))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts an offered or in-call ticket back in the queue with `priority` (the head).
    pub async fn requeue_ticket(&mut self, id: &str, priority: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tickets SET status = 'waiting', priority = $2, agent_id = NULL, offered_at = NULL, answered_at = NULL
             WHERE id = $1 AND status IN ('offered', 'in_call')",
        )
        .bind(id)
        .bind(priority)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Undoes a claim whose agent could not be told of it: the ticket offered to `agent_id`
    /// goes back to waiting with `priority`, its priority before the claim, so that it keeps
    /// its place in the queue. False when it was no longer offered to that agent.
    pub async fn withdraw_offer(
        &mut self,
        id: &str,
        agent_id: &str,
        priority: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tickets SET status = 'waiting', priority = $2, agent_id = NULL, offered_at = NULL
             WHERE id = $1 AND status = 'offered' AND agent_id = $3",
        )
        .bind(id)
        .bind(priority)
        .bind(agent_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts back a ticket offered to `agent_id` at or before `offered_before` and still not
    /// accepted, with `priority`; false when it was accepted (or changed) in between.
    pub async fn requeue_lapsed(
        &mut self,
        id: &str,
        agent_id: &str,
        offered_before: DateTime<Utc>,
        priority: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tickets SET status = 'waiting', priority = $2, agent_id = NULL, offered_at = NULL
             WHERE id = $1 AND status = 'offered' AND agent_id = $3 AND offered_at <= $4",
        )
        .bind(id)
        .bind(priority)
        .bind(agent_id)
        .bind(to_millis(offered_before))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a call: in call → done, with its outcome.
    pub async fn end_ticket(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        outcome: &str,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE tickets SET status = 'done', ended_at = $2, outcome = $3 WHERE id = $1 AND status = 'in_call'")
            .bind(id)
            .bind(to_millis(now))
            .bind(outcome)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends an offered or in-call ticket whose citizen has been disconnected since before
    /// `cutoff`, as `citizen_left`; false when the citizen came back (or it changed) meanwhile.
    pub async fn end_disconnected_call(
        &mut self,
        id: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tickets SET status = 'done', ended_at = $3, outcome = 'citizen_left'
             WHERE id = $1 AND status IN ('offered', 'in_call') AND disconnected_at IS NOT NULL AND disconnected_at < $2",
        )
        .bind(id)
        .bind(to_millis(cutoff))
        .bind(to_millis(now))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Agents in wrap-up since `since_before` or earlier become available at `now`.
    /// Returns who did.
    pub async fn finish_wrap_ups(
        &mut self,
        since_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE agent_states SET state = 'available', reason = NULL, since = $2
             WHERE state = 'wrap_up' AND since <= $1 RETURNING user_id",
        )
        .bind(to_millis(since_before))
        .bind(to_millis(now))
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(ids)
    }
}
