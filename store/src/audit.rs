//! The audit trail: an append-only record of who did what to whom.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: a staff user id, `citizen`, or `system`.
    pub actor: &'a str,
    /// What was done, as a stable dotted name, e.g. `application.created`.
    pub action: &'a str,
    /// What it was done to, e.g. an application id.
    pub subject: &'a str,
    /// Further detail as JSON text.
    pub detail: &'a str,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its sequence number.
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// Further detail as JSON text.
    pub detail: String,
}

impl Store {
    /// Appends an event and returns its sequence number.
    pub async fn append_audit(&self, e: &NewAuditEvent<'_>) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_events (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(to_millis(e.at))
        .bind(e.actor)
        .bind(e.action)
        .bind(e.subject)
        .bind(e.detail)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Every event about `subject`, oldest first.
    pub async fn audit_for_subject(&self, subject: &str) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_events WHERE subject = $1 ORDER BY id",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The latest `limit` events, newest first.
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_events ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.try_get("id")?,
        at: from_millis("audit_events.at", r.try_get("at")?)?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
    })
}
