//! The audit trail: an append-only record of who did what to whom, hash-chained.
//!
//! Each event's `hash` is SHA-256 over the previous event's hash and the event's own fields
//! (each length-prefixed, so no two different events hash alike). `audit_head` holds the
//! newest link: appending locks that row first (one writer at a time, on SQLite and on
//! PostgreSQL alike) and moves it on in the same transaction. [`Store::verify_audit_chain`]
//! recomputes every link, so that an edited, inserted or deleted row is found, including
//! the newest ones.

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

/// What a check of the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Events checked (chained ones).
    pub checked: u64,
    /// Events written before the chain began (they carry no hash).
    pub unchained: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The first event that does not verify (for a missing newest event: the head's id).
    pub id: i64,
    /// What is wrong, in words.
    pub problem: String,
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
    sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
        .bind(id)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// How many events a verification reads per query.
const VERIFY_PAGE: i64 = 1000;

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

    /// Recomputes the whole chain, page by page, and names the first broken link.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let mut report = ChainReport {
            checked: 0,
            unchained: 0,
            broken: None,
        };
        let mut last: Option<(i64, String)> = None;
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(VERIFY_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(r) = rows.last() else { break };
            after = r.try_get("id")?;
            for r in &rows {
                let e = event_from_row(r)?;
                let prev_hash: Option<String> = r.try_get("prev_hash")?;
                let hash: Option<String> = r.try_get("hash")?;
                let (Some(prev_hash), Some(hash)) = (prev_hash, hash) else {
                    if last.is_none() {
                        report.unchained += 1;
                        continue;
                    }
                    return Ok(report.broken_at(e.id, "the event carries no hash"));
                };
                let expected_prev = last.as_ref().map_or(GENESIS_HASH, |(_, h)| h.as_str());
                if prev_hash != expected_prev {
                    return Ok(report.broken_at(
                        e.id,
                        "its previous hash does not match the event before it (an event before it was deleted, inserted or edited)",
                    ));
                }
                let computed = link_hash(
                    &prev_hash,
                    &NewAuditEvent {
                        at: e.at,
                        actor: &e.actor,
                        action: &e.action,
                        subject: &e.subject,
                        detail: &e.detail,
                    },
                );
                if computed != hash {
                    return Ok(
                        report.broken_at(e.id, "its content does not match its hash (edited)")
                    );
                }
                report.checked += 1;
                last = Some((e.id, hash));
            }
        }
        let head = sqlx::query("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_id: i64 = head.try_get("last_id")?;
        let head_hash: String = head.try_get("last_hash")?;
        let (last_id, last_hash) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
        if head_id != last_id || head_hash != last_hash {
            return Ok(report.broken_at(
                head_id.max(last_id),
                "the newest events are missing (the chain's head names a later event)",
            ));
        }
        Ok(report)
    }
}

impl ChainReport {
    fn broken_at(mut self, id: i64, problem: &str) -> Self {
        self.broken = Some(BrokenLink {
            id,
            problem: problem.to_owned(),
        });
        self
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
