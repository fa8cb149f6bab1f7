//! Agents' decisions on calls, and what an approval writes: the registration (level basic)
//! and its activation code (only the code's hash). A decision, the ticket's end (or its
//! return to the head of the queue), the registration, the code and the audit event are one
//! transaction: all are written or none is.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, append_in};
use crate::db::{from_millis, to_millis};
use crate::reviews::NewReview;
use crate::{Error, Result, Store, Tx};

/// What the agent decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Identity verified: a registration and an activation code are issued.
    Approved,
    /// Identity not verified, for a reason code.
    Rejected,
    /// The call was not good enough to decide: the citizen goes back to the head of the queue.
    Aborted,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Aborted => "aborted",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            "aborted" => Ok(Self::Aborted),
            other => Err(Error::Corrupt {
                what: "decisions.outcome",
                value: other.to_owned(),
            }),
        }
    }
}

/// What an approval issues.
#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    /// The registration's id (its reference number).
    pub id: &'a str,
    /// The activation code's row id.
    pub code_id: &'a str,
    /// Hex SHA-256 of the activation code.
    pub code_hash: &'a str,
    /// When the code stops working.
    pub code_expires_at: DateTime<Utc>,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    /// Random id.
    pub id: &'a str,
    /// The call's ticket, which must be in a call with `agent_id`.
    pub ticket_id: &'a str,
    /// The deciding agent.
    pub agent_id: &'a str,
    /// What was decided.
    pub outcome: Outcome,
    /// The reason code (rejections, aborts).
    pub reason: Option<&'a str>,
    /// The agent's free note.
    pub note: &'a str,
    /// The ticked checklist items, as a JSON array.
    pub checklist: &'a str,
    /// For approvals: what to issue.
    pub registration: Option<NewRegistration<'a>>,
    /// For approvals chosen for a second review: why.
    pub review: Option<NewReview<'a>>,
    /// For aborts: the ticket's priority back in the queue.
    pub requeue_priority: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// How recording a decision went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Written. For approvals, the citizen's ID number is returned with it.
    Done {
        /// The citizen's ID number.
        id_number: String,
        /// When the call was answered (for its handle time).
        answered_at: Option<DateTime<Utc>>,
    },
    /// The ticket is not in a call with this agent (any more): nothing was written.
    NotInCall,
    /// The ID number already has a registration: nothing was written.
    AlreadyRegistered,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Its id.
    pub id: String,
    /// The call's ticket.
    pub ticket_id: String,
    /// The deciding agent.
    pub agent_id: String,
    /// What was decided.
    pub outcome: Outcome,
    /// The reason code.
    pub reason: Option<String>,
    /// The agent's note.
    pub note: String,
    /// The ticked checklist items, as a JSON array.
    pub checklist: String,
    /// The registration an approval issued.
    pub registration_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

pub(crate) const DECISION_COLUMNS: &str =
    "id, ticket_id, agent_id, outcome, reason, note, checklist, registration_id, created_at";

impl Store {
    /// Records a decision with everything it implies in its own transaction
    /// ([`Tx::record_decision`]); nothing is written unless it is [`Recorded::Done`].
    pub async fn record_decision(
        &self,
        d: &NewDecision<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Recorded> {
        let mut tx = self.begin().await?;
        let recorded = tx.record_decision(d).await?;
        match recorded {
            Recorded::Done { .. } => {
                tx.audit(audit).await?;
                tx.commit().await?;
            }
            _ => tx.rollback().await?,
        }
        Ok(recorded)
    }

    /// The decisions on a ticket, oldest first (aborts may precede the final one).
    pub async fn decisions_for_ticket(&self, ticket_id: &str) -> Result<Vec<Decision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE ticket_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_from_row).collect()
    }

    /// The latest `limit` decisions, newest first.
    pub async fn recent_decisions(&self, limit: u32) -> Result<Vec<Decision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_from_row).collect()
    }

    /// The registration an ID number holds, if any: its id and when it was made.
    pub async fn registration_for(
        &self,
        id_number: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        let row = sqlx::query("SELECT id, created_at FROM registrations WHERE id_number = $1")
            .bind(id_number)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok((
                r.try_get("id")?,
                from_millis("registrations.created_at", r.try_get("created_at")?)?,
            ))
        })
        .transpose()
    }

    /// Replaces a registration's activation code that has not been used (the citizen never
    /// received the first one), with the audit event, in one transaction. Returns whether it
    /// was replaced.
    pub async fn reissue_activation_code(
        &self,
        registration_id: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE activation_codes SET code_hash = $2, created_at = $3, expires_at = $4
             WHERE registration_id = $1 AND used_at IS NULL",
        )
        .bind(registration_id)
        .bind(code_hash)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The hash stored for a registration's activation code, with its expiry and use.
    pub async fn activation_code_for(
        &self,
        registration_id: &str,
    ) -> Result<Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)>> {
        let row = sqlx::query(
            "SELECT code_hash, expires_at, used_at FROM activation_codes WHERE registration_id = $1",
        )
        .bind(registration_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let used: Option<i64> = r.try_get("used_at")?;
            Ok((
                r.try_get("code_hash")?,
                from_millis("activation_codes.expires_at", r.try_get("expires_at")?)?,
                used.map(|ms| from_millis("activation_codes.used_at", ms))
                    .transpose()?,
            ))
        })
        .transpose()
    }
}

pub(crate) fn decision_from_row(r: &AnyRow) -> Result<Decision> {
    Ok(Decision {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        agent_id: r.try_get("agent_id")?,
        outcome: Outcome::parse(&r.try_get::<String, _>("outcome")?)?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        checklist: r.try_get("checklist")?,
        registration_id: r.try_get("registration_id")?,
        at: from_millis("decisions.created_at", r.try_get("created_at")?)?,
    })
}

impl Tx {
    /// Records a decision with everything it implies (see the module) but its audit event,
    /// which the caller appends after its other writes ([`Tx::audit`]). The caller commits
    /// only a [`Recorded::Done`]; otherwise nothing should be written and it rolls back.
    pub async fn record_decision(&mut self, d: &NewDecision<'_>) -> Result<Recorded> {
        let Some(call) = self.close_call(d).await? else {
            return Ok(Recorded::NotInCall);
        };
        let registration_id = match &d.registration {
            Some(r) if d.outcome == Outcome::Approved => {
                if !self.register(d, r, &call).await? {
                    return Ok(Recorded::AlreadyRegistered);
                }
                Some(r.id)
            }
            _ => None,
        };
        sqlx::query(
            "INSERT INTO decisions (id, ticket_id, agent_id, outcome, reason, note, checklist, registration_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(d.id)
        .bind(d.ticket_id)
        .bind(d.agent_id)
        .bind(d.outcome.as_str())
        .bind(d.reason)
        .bind(d.note)
        .bind(d.checklist)
        .bind(registration_id)
        .bind(to_millis(d.at))
        .execute(&mut *self.conn())
        .await?;
        if let (Some(registration), Some(review)) = (registration_id, &d.review) {
            self.queue_review(d, registration, review).await?;
        }
        Ok(Recorded::Done {
            id_number: call.id_number,
            answered_at: call.answered_at,
        })
    }

    /// The decided call's ticket: ended (approved, rejected) or back at the head of the
    /// queue (aborted). `None` when it is not in a call with this agent.
    async fn close_call(&mut self, d: &NewDecision<'_>) -> Result<Option<ClosedCall>> {
        let row = match d.outcome {
            Outcome::Aborted => {
                sqlx::query(
                    "UPDATE tickets SET status = 'waiting', priority = $3, agent_id = NULL, offered_at = NULL, answered_at = NULL
                     WHERE id = $1 AND status = 'in_call' AND agent_id = $2 RETURNING id_number, application_id, answered_at",
                )
                .bind(d.ticket_id)
                .bind(d.agent_id)
                .bind(d.requeue_priority)
                .fetch_optional(&mut *self.conn())
                .await?
            }
            Outcome::Approved | Outcome::Rejected => {
                let outcome = match d.reason {
                    Some(r) if d.outcome == Outcome::Rejected => format!("rejected:{r}"),
                    _ => d.outcome.as_str().to_owned(),
                };
                sqlx::query(
                    "UPDATE tickets SET status = 'done', ended_at = $3, outcome = $4
                     WHERE id = $1 AND status = 'in_call' AND agent_id = $2 RETURNING id_number, application_id, answered_at",
                )
                .bind(d.ticket_id)
                .bind(d.agent_id)
                .bind(to_millis(d.at))
                .bind(outcome)
                .fetch_optional(&mut *self.conn())
                .await?
            }
        };
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ClosedCall {
            id_number: row.try_get("id_number")?,
            application_id: row.try_get("application_id")?,
            answered_at: row
                .try_get::<Option<i64>, _>("answered_at")?
                .map(|ms| from_millis("tickets.answered_at", ms))
                .transpose()?,
        }))
    }

    /// Writes an approval's registration and activation-code hash; false when the ID number
    /// is already registered (then nothing should be committed).
    async fn register(
        &mut self,
        d: &NewDecision<'_>,
        r: &NewRegistration<'_>,
        call: &ClosedCall,
    ) -> Result<bool> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM registrations WHERE id_number = $1")
                .bind(&call.id_number)
                .fetch_optional(&mut *self.conn())
                .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO registrations (id, id_number, application_id, level, agent_id, created_at)
             VALUES ($1, $2, $3, 'basic', $4, $5)",
        )
        .bind(r.id)
        .bind(&call.id_number)
        .bind(&call.application_id)
        .bind(d.agent_id)
        .bind(to_millis(d.at))
        .execute(&mut *self.conn())
        .await
        .map_err(Error::from);
        match inserted {
            // Approved at the same instant by another agent's transaction.
            Err(e) if e.is_unique_violation() => return Ok(false),
            other => other?,
        };
        sqlx::query(
            "INSERT INTO activation_codes (id, registration_id, code_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.code_id)
        .bind(r.id)
        .bind(r.code_hash)
        .bind(to_millis(d.at))
        .bind(to_millis(r.code_expires_at))
        .execute(&mut *self.conn())
        .await?;
        Ok(true)
    }
}

/// The ticket of a decided call, as its update returned it.
struct ClosedCall {
    id_number: String,
    application_id: String,
    answered_at: Option<DateTime<Utc>>,
}
