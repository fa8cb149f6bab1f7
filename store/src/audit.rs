//! The audit trail: an append-only record of who did what to whom, hash-chained.
//!
//! Each event's `hash` is SHA-256 over the previous event's hash and the event's own fields
//! (each length-prefixed, so no two different events hash alike). `audit_head` holds the
//! newest link: appending locks that row first (one writer at a time, on SQLite and on
//! PostgreSQL alike) and moves it on, with its count of events, in the same transaction.
//! Every event is chained, from the first: [`Store::verify_audit_chain`] (in
//! `audit_verify.rs`) recomputes every link, so that an edited, inserted, deleted or
//! unhashed row is found, including the newest ones, and compares the chain with an
//! [`AuditAnchor`] kept outside the database.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// The previous hash of the first chained event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// The hash of an event whose predecessor's hash is `prev`.
pub fn link_hash(prev: &str, e: &NewAuditEvent<'_>) -> String {
    let mut h = Sha256::new();
    let at = to_millis(e.at).to_string();
    for field in [prev, at.as_str(), e.actor, e.action, e.subject, e.detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    crate::secrets::hex(&h.finalize())
}

/// Appends an event inside the caller's transaction: locks the head, links the event to it
/// and moves the head on. Returns the event's sequence number.
pub(crate) async fn append_in(conn: &mut AnyConnection, e: &NewAuditEvent<'_>) -> Result<i64> {
    // The no-op update takes the row lock (PostgreSQL) or the write lock (SQLite) before
    // the head is read, so two appends never link to the same predecessor.
    let prev: String = sqlx::query_scalar(
        "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_hash",
    )
    .fetch_one(&mut *conn)
    .await?;
    let hash = link_hash(&prev, e);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events (at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(to_millis(e.at))
    .bind(e.actor)
    .bind(e.action)
    .bind(e.subject)
    .bind(e.detail)
    .bind(&prev)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE audit_head SET last_id = $1, last_hash = $2, event_count = event_count + 1 WHERE id = 1",
    )
        .bind(id)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

impl Store {
    /// Appends an event and returns its sequence number.
    pub async fn append_audit(&self, e: &NewAuditEvent<'_>) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = append_in(&mut tx, e).await?;
        tx.commit().await?;
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

pub(crate) fn event_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.try_get("id")?,
        at: from_millis("audit_events.at", r.try_get("at")?)?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
    })
}

/// Ends a transaction whose one conditional write changed `changed` rows: with `event`
/// appended and committed when it changed exactly one (`true`), rolled back otherwise.
pub(crate) async fn audited(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    changed: u64,
    event: &NewAuditEvent<'_>,
) -> Result<bool> {
    if changed != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    append_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: &str) -> NewAuditEvent<'_> {
        NewAuditEvent {
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            actor: "a",
            action: "b",
            subject: "c",
            detail,
        }
    }

    #[test]
    fn a_link_depends_on_its_predecessor_and_every_field() {
        let one = link_hash(GENESIS_HASH, &event("{}"));
        assert_eq!(one.len(), 64);
        assert_ne!(one, link_hash(&one, &event("{}")));
        assert_ne!(one, link_hash(GENESIS_HASH, &event("{ }")));
        // Length prefixes: moving a character from one field to the next changes the hash.
        let mut shifted = event("{}");
        shifted.actor = "ab";
        shifted.action = "";
        assert_ne!(one, link_hash(GENESIS_HASH, &shifted));
    }
}
