//! What retention may delete and the record that it did: recordings and stills past the
//! cut-offs the caller computes (never of a decision on legal hold), each purge claimed by one
//! conditional update and written with its tombstone in the audit chain in one transaction, so
//! that nodes purging at the same moment delete each item once; and the legal holds
//! themselves, each placed or lifted with its audit event.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::audit::{NewAuditEvent, audited};
use crate::db::{from_millis, to_millis};
use crate::recordings::{RECORDING_COLUMNS, Recording, recording_from_row};
use crate::{Result, Store};

/// A decision on legal hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// The decision's ticket.
    pub ticket_id: String,
    /// The auditor who placed it.
    pub held_by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub held_at: DateTime<Utc>,
}

/// A still whose bytes retention may delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueStill {
    /// Its id.
    pub id: String,
    /// The call's ticket.
    pub ticket_id: String,
    /// Hex SHA-256 of the image.
    pub sha256: String,
}

/// Not on legal hold (`t` is the table alias holding `ticket_id`).
const NOT_HELD: &str = "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.ticket_id = t.ticket_id)";
/// The call's ticket has a decision (approve, reject or abort).
const DECIDED: &str = "EXISTS (SELECT 1 FROM decisions d WHERE d.ticket_id = t.ticket_id)";

impl Store {
    /// Up to `limit` kept recordings due for deletion: of a decided ticket and ended before
    /// `decided_before`, or of a ticket without a decision and ended before
    /// `undecided_before`; never on legal hold. Oldest first.
    pub async fn recordings_due(
        &self,
        decided_before: DateTime<Utc>,
        undecided_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Recording>> {
        let columns = RECORDING_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM recordings t
             WHERE t.purged_at IS NULL AND {NOT_HELD}
               AND ((t.ended_at < $1 AND {DECIDED}) OR (t.ended_at < $2 AND NOT {DECIDED}))
             ORDER BY t.ended_at, t.id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(decided_before))
            .bind(to_millis(undecided_before))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }

    /// Claims a recording's deletion: marks it purged and writes its tombstone
    /// (`recording.purged`, with the file and its sealed hash) together. `false` when it was
    /// already purged (another node got there first) or is now on hold: then the caller must
    /// leave the file alone.
    pub async fn purge_recording(&self, r: &Recording, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE recordings SET purged_at = $1 WHERE id = $2 AND purged_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.ticket_id = recordings.ticket_id)",
        )
            .bind(to_millis(now))
            .bind(&r.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let detail = serde_json::json!({
            "recording": r.id, "file": r.file_name, "sha256": r.sha256, "bytes": r.bytes,
        })
        .to_string();
        let event = NewAuditEvent {
            at: now,
            actor: "system",
            action: "recording.purged",
            subject: &r.ticket_id,
            detail: &detail,
        };
        audited(tx, claimed, &event).await
    }

    /// Up to `limit` stills with their bytes, taken before `before`, not on legal hold.
    pub async fn stills_due(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<DueStill>> {
        let sql = format!(
            "SELECT t.id, t.ticket_id, t.sha256 FROM stills t
             WHERE t.purged_at IS NULL AND t.created_at < $1 AND {NOT_HELD}
             ORDER BY t.created_at, t.id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(before))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DueStill {
                    id: r.try_get("id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    sha256: r.try_get("sha256")?,
                })
            })
            .collect()
    }

    /// Deletes a still's image and thumbnail, keeping its row, with its tombstone
    /// (`still.purged`) in the same transaction. `false` when already purged or now held.
    pub async fn purge_still(&self, s: &DueStill, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let empty: &[u8] = &[];
        let claimed = sqlx::query(
            "UPDATE stills SET purged_at = $1, image = $2, thumbnail = $2
             WHERE id = $3 AND purged_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.ticket_id = stills.ticket_id)",
        )
        .bind(to_millis(now))
        .bind(empty)
        .bind(&s.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let detail = serde_json::json!({ "still": s.id, "sha256": s.sha256 }).to_string();
        let event = NewAuditEvent {
            at: now,
            actor: "system",
            action: "still.purged",
            subject: &s.ticket_id,
            detail: &detail,
        };
        audited(tx, claimed, &event).await
    }

    /// Places a legal hold on a decision's ticket, with its audit event. `false` when it is
    /// already held (nothing written).
    pub async fn place_legal_hold(
        &self,
        ticket_id: &str,
        auditor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let placed = sqlx::query(
            "INSERT INTO legal_holds (ticket_id, held_by, reason, held_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (ticket_id) DO NOTHING",
        )
        .bind(ticket_id)
        .bind(auditor)
        .bind(reason)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let detail = serde_json::json!({ "reason": reason }).to_string();
        let event = NewAuditEvent {
            at: now,
            actor: auditor,
            action: "decision.held",
            subject: ticket_id,
            detail: &detail,
        };
        audited(tx, placed, &event).await
    }

    /// Lifts a legal hold, with its audit event. `false` when there was none.
    pub async fn lift_legal_hold(
        &self,
        ticket_id: &str,
        auditor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let lifted = sqlx::query("DELETE FROM legal_holds WHERE ticket_id = $1")
            .bind(ticket_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let event = NewAuditEvent {
            at: now,
            actor: auditor,
            action: "decision.hold_lifted",
            subject: ticket_id,
            detail: "{}",
        };
        audited(tx, lifted, &event).await
    }

    /// The legal hold on a ticket, if any.
    pub async fn legal_hold(&self, ticket_id: &str) -> Result<Option<LegalHold>> {
        let row = sqlx::query(
            "SELECT ticket_id, held_by, reason, held_at FROM legal_holds WHERE ticket_id = $1",
        )
        .bind(ticket_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LegalHold {
                ticket_id: r.try_get("ticket_id")?,
                held_by: r.try_get("held_by")?,
                reason: r.try_get("reason")?,
                held_at: from_millis("legal_holds.held_at", r.try_get("held_at")?)?,
            })
        })
        .transpose()
    }
}
