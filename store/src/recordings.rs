//! Call recordings' metadata: each finished recording is sealed (its row and its
//! `recording.sealed` audit event, with the file's SHA-256, size, duration and tracks, in one
//! transaction); the files themselves live on disk, named by `file_name`.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, append_in};
use crate::db::{from_millis, to_millis};
use crate::{Error, Result, Store};

/// A finished recording to seal.
#[derive(Debug, Clone)]
pub struct NewRecording<'a> {
    /// Random id.
    pub id: &'a str,
    /// The call's ticket.
    pub ticket_id: &'a str,
    /// The file's name, relative to the recordings directory.
    pub file_name: &'a str,
    /// Hex SHA-256 of the whole file.
    pub sha256: &'a str,
    /// The file's size.
    pub bytes: u64,
    /// The media's duration, in milliseconds.
    pub duration_ms: u64,
    /// The tracks, as a JSON array (e.g. `[{"side":"citizen","kind":"video","codec":"VP8"}]`).
    pub tracks: &'a str,
    /// Why part of the call is missing, if it is (`None`: the whole call is in the file).
    pub incomplete_reason: Option<&'a str>,
    /// When recording started.
    pub started_at: DateTime<Utc>,
    /// When the file was closed.
    pub ended_at: DateTime<Utc>,
}

/// A sealed recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Its id.
    pub id: String,
    /// The call's ticket.
    pub ticket_id: String,
    /// The file's name, relative to the recordings directory.
    pub file_name: String,
    /// Hex SHA-256 of the file as sealed.
    pub sha256: String,
    /// Its size as sealed.
    pub bytes: u64,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// The tracks (JSON array).
    pub tracks: String,
    /// Why part of the call is missing, if it is.
    pub incomplete_reason: Option<String>,
    /// When recording started.
    pub started_at: DateTime<Utc>,
    /// When the file was closed.
    pub ended_at: DateTime<Utc>,
    /// When retention deleted the file.
    pub purged_at: Option<DateTime<Utc>>,
}

pub(crate) const RECORDING_COLUMNS: &str = "id, ticket_id, file_name, sha256, bytes, duration_ms, tracks, complete, incomplete_reason, started_at, ended_at, purged_at";

impl Store {
    /// Seals a finished recording: its row and its `recording.sealed` audit event (subject:
    /// the ticket; detail: file, hash, size, duration, tracks, completeness), together.
    /// False, and nothing written, when a recording of that file is sealed already.
    pub async fn seal_recording(&self, r: &NewRecording<'_>, actor: &str) -> Result<bool> {
        let tracks: serde_json::Value =
            serde_json::from_str(r.tracks).map_err(|_| Error::Corrupt {
                what: "recordings.tracks",
                value: r.tracks.to_owned(),
            })?;
        let detail = serde_json::json!({
            "recording": r.id,
            "file": r.file_name,
            "sha256": r.sha256,
            "bytes": r.bytes,
            "duration_ms": r.duration_ms,
            "tracks": tracks,
            "complete": r.incomplete_reason.is_none(),
            "incomplete_reason": r.incomplete_reason,
        })
        .to_string();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO recordings (id, ticket_id, file_name, sha256, bytes, duration_ms, tracks, complete, incomplete_reason, started_at, ended_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (file_name) DO NOTHING",
        )
        .bind(r.id)
        .bind(r.ticket_id)
        .bind(r.file_name)
        .bind(r.sha256)
        .bind(count(r.bytes))
        .bind(count(r.duration_ms))
        .bind(r.tracks)
        .bind(i64::from(r.incomplete_reason.is_none()))
        .bind(r.incomplete_reason)
        .bind(to_millis(r.started_at))
        .bind(to_millis(r.ended_at))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let event = NewAuditEvent {
            at: r.ended_at,
            actor,
            action: "recording.sealed",
            subject: r.ticket_id,
            detail: &detail,
        };
        append_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A call's recordings, oldest first (purged ones too: their row is the tombstone's twin).
    pub async fn recordings_for_ticket(&self, ticket_id: &str) -> Result<Vec<Recording>> {
        let sql = format!(
            "SELECT {RECORDING_COLUMNS} FROM recordings WHERE ticket_id = $1 ORDER BY started_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }

    /// One recording.
    pub async fn recording(&self, id: &str) -> Result<Option<Recording>> {
        let sql = format!("SELECT {RECORDING_COLUMNS} FROM recordings WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(recording_from_row).transpose()
    }

    /// Up to `limit` recordings whose files are kept, by id after `after` (paging through
    /// them all, e.g. to check each file against its sealed hash).
    pub async fn kept_recordings_after(&self, after: &str, limit: u32) -> Result<Vec<Recording>> {
        let sql = format!(
            "SELECT {RECORDING_COLUMNS} FROM recordings WHERE purged_at IS NULL AND id > $1 ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording_from_row).collect()
    }
}

/// A size or duration as stored (they fit: no file reaches 2^63 bytes).
fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn recording_from_row(r: &AnyRow) -> Result<Recording> {
    let unsigned = |col: &'static str| -> Result<u64> {
        let v: i64 = r.try_get(col)?;
        u64::try_from(v).map_err(|_| Error::Corrupt {
            what: col,
            value: v.to_string(),
        })
    };
    let purged: Option<i64> = r.try_get("purged_at")?;
    Ok(Recording {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        file_name: r.try_get("file_name")?,
        sha256: r.try_get("sha256")?,
        bytes: unsigned("bytes")?,
        duration_ms: unsigned("duration_ms")?,
        tracks: r.try_get("tracks")?,
        incomplete_reason: r.try_get("incomplete_reason")?,
        started_at: from_millis("recordings.started_at", r.try_get("started_at")?)?,
        ended_at: from_millis("recordings.ended_at", r.try_get("ended_at")?)?,
        purged_at: purged
            .map(|ms| from_millis("recordings.purged_at", ms))
            .transpose()?,
    })
}
