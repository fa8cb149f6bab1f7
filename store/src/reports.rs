//! What the supervisors' figures and the daily report read: the tickets that joined in a
//! period with their agent's name, last decision and the booking they came for, the decisions made in a period, and
//! audit events of one kind in a period (agents' state changes, calls answered).

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::audit::event_from_row;
use crate::db::{from_millis, to_millis};
use crate::decisions::{DECISION_COLUMNS, decision_from_row};
use crate::tickets::ticket_from_row;
use crate::{AuditEvent, Decision, Result, Store, Ticket};

/// A ticket as the daily report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTicket {
    /// The ticket.
    pub ticket: Ticket,
    /// The sign-in name of the agent who holds or held it.
    pub agent_name: Option<String>,
    /// The last decision on it: its outcome (`approved`, `rejected`, `aborted`).
    pub decision: Option<String>,
    /// The last decision's reason code.
    pub decision_reason: Option<String>,
    /// The booking the citizen came in for (in time or late): its slot and how it was
    /// settled (`kept`, `late`).
    pub booking: Option<(DateTime<Utc>, String)>,
}

impl Store {
    /// Tickets that joined in `[from, to)`, in arrival order.
    pub async fn tickets_joined_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReportTicket>> {
        let rows = sqlx::query(
            "SELECT t.id, t.application_id, t.id_number, t.status, t.priority, t.joined_at, t.told_estimate_secs,
                    t.disconnected_at, t.agent_id, t.offered_at, t.answered_at, t.ended_at, t.outcome, t.appointment_at, t.told_low_secs, t.told_high_secs,
                    s.name AS agent_name, b.slot_at AS booking_slot_at, b.status AS booking_status,
                    (SELECT d.outcome FROM decisions d WHERE d.ticket_id = t.id ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS decision,
                    (SELECT d.reason FROM decisions d WHERE d.ticket_id = t.id ORDER BY d.created_at DESC, d.id DESC LIMIT 1) AS decision_reason
             FROM tickets t LEFT JOIN staff_users s ON s.id = t.agent_id
                  LEFT JOIN bookings b ON b.ticket_id = t.id
             WHERE t.joined_at >= $1 AND t.joined_at < $2
             ORDER BY t.joined_at, t.seq",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportTicket {
                    ticket: ticket_from_row(r)?,
                    agent_name: r.try_get("agent_name")?,
                    decision: r.try_get("decision")?,
                    decision_reason: r.try_get("decision_reason")?,
                    booking: match (
                        r.try_get::<Option<i64>, _>("booking_slot_at")?,
                        r.try_get::<Option<String>, _>("booking_status")?,
                    ) {
                        (Some(at), Some(status)) => {
                            Some((from_millis("bookings.slot_at", at)?, status))
                        }
                        _ => None,
                    },
                })
            })
            .collect()
    }

    /// Decisions made in `[from, to)`, oldest first.
    pub async fn decisions_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Decision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(from))
            .bind(to_millis(to))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_from_row).collect()
    }

    /// Audit events named `action` (e.g. `agent.state`) in `[from, to)`, oldest first.
    pub async fn audit_between(
        &self,
        action: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_events
             WHERE action = $1 AND at >= $2 AND at < $3 ORDER BY id",
        )
        .bind(action)
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}
