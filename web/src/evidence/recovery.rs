//! Recordings left by a node that stopped while recording (a crash, a kill, a power cut), or
//! by a disk that failed before the file could be finished:
//! the file is still under its temporary name, `.{ticket}-{ms}.webm.partial`, holding the
//! call up to where the node stopped, and no row or audit event says it exists. The
//! housekeeping round of any node finds such files once nobody can still be writing them (the
//! call is over and the file untouched for [`STALE`]) and keeps them as evidence: sealed as an
//! incomplete recording of their call, then renamed to their final name. Sealing is by file
//! name, once (a unique index), so nodes recovering at the same moment seal each file once,
//! and a node stopping between the seal and the rename leaves a file the next round renames.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use store::{NewRecording, Store, TicketStatus};

use super::sha256_of;
use crate::Error;

/// How long a temporary file must have been left untouched: a running recording writes to
/// its file every few seconds of media.
pub const STALE: TimeDelta = TimeDelta::minutes(10);

/// Why a recovered recording is incomplete, as sealed.
pub const INTERRUPTED: &str = "left unfinished (its node stopped, or its disk failed): the file ends where writing stopped and lacks its seek index";

/// A temporary recording file's ticket and start (milliseconds since the epoch), from its
/// name; `None` for any other file.
pub fn partial_name(name: &str) -> Option<(&str, i64)> {
    let stem = name.strip_prefix('.')?.strip_suffix(".webm.partial")?;
    let (ticket, ms) = stem.rsplit_once('-')?;
    let ms = ms.parse().ok()?;
    (!ticket.is_empty() && !ticket.contains(['/', '\\', '.'])).then_some((ticket, ms))
}

/// One round at `now`: seals and renames every recording under `dir` that a stopped node
/// left; returns how many were recovered by this node.
pub async fn recover_interrupted(
    store: &Store,
    dir: &Path,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let io = |context: String| move |source| Error::Io { context, source };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(format!("listing {}", dir.display()))(e)),
    };
    let mut recovered = 0;
    for entry in entries {
        let entry = entry.map_err(io(format!("listing {}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((ticket, started_ms)) = partial_name(&name) else {
            continue;
        };
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        let modified = DateTime::<Utc>::from(modified);
        if now - modified < STALE {
            continue;
        }
        let Some(call) = store.ticket(ticket).await? else {
            tracing::warn!(file = %name, "a temporary recording names no known call; left as it is");
            continue;
        };
        if matches!(call.status, TicketStatus::Offered | TicketStatus::InCall) {
            continue;
        }
        let Some(started_at) = DateTime::from_timestamp_millis(started_ms) else {
            continue;
        };
        if recover(store, dir, &name, ticket, started_at, modified).await? {
            recovered += 1;
        }
    }
    Ok(recovered)
}

/// Seals the temporary file `name` as its call's incomplete recording and renames it; true
/// when this node sealed it.
async fn recover(
    store: &Store,
    dir: &Path,
    name: &str,
    ticket: &str,
    started_at: DateTime<Utc>,
    modified: DateTime<Utc>,
) -> Result<bool, Error> {
    let temporary = dir.join(name);
    let file_name = name
        .trim_start_matches('.')
        .trim_end_matches(".partial")
        .to_owned();
    let hashed = {
        let temporary = temporary.clone();
        tokio::task::spawn_blocking(move || sha256_of(&temporary))
            .await
            .map_err(|e| Error::Io {
                context: format!("hashing {name}"),
                source: std::io::Error::other(e),
            })?
    };
    let (sha256, bytes) = match hashed {
        Ok(found) => found,
        // Another node renamed it meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(Error::Io {
                context: format!("hashing {name}"),
                source,
            });
        }
    };
    let id = store::secrets::new_id()?;
    let duration_ms = u64::try_from((modified - started_at).num_milliseconds()).unwrap_or(0);
    let sealed = NewRecording {
        id: &id,
        ticket_id: ticket,
        file_name: &file_name,
        sha256: &sha256,
        bytes,
        duration_ms,
        tracks: "[]",
        incomplete_reason: Some(INTERRUPTED),
        started_at,
        ended_at: modified,
    };
    let sealed_here = store.seal_recording(&sealed, "system").await?;
    match std::fs::rename(&temporary, dir.join(&file_name)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(Error::Io {
                context: format!("renaming {name}"),
                source,
            });
        }
    }
    if sealed_here {
        tracing::warn!(file = %file_name, %ticket, bytes, "kept the recording a stopped node left unfinished, sealed as incomplete");
    }
    Ok(sealed_here)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_temporary_recording_names_are_taken() {
        assert_eq!(
            partial_name(".t0k3n-1765000000000.webm.partial"),
            Some(("t0k3n", 1_765_000_000_000))
        );
        assert_eq!(
            partial_name(".a-b-1765000000000.webm.partial"),
            Some(("a-b", 1_765_000_000_000))
        );
        for other in [
            "t0k3n-1765000000000.webm",
            ".t0k3n-1765000000000.webm",
            ".t0k3n.webm.partial",
            ".-1765000000000.webm.partial",
            ".t0k3n-soon.webm.partial",
            "..-1.webm.partial",
        ] {
            assert_eq!(partial_name(other), None, "{other}");
        }
    }
}
