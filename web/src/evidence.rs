//! The call recordings on disk: where they live, checking each file against the hash sealed
//! in the audit chain (`videoreg audit verify`), and retention's purge of recordings and
//! stills in the housekeeping round, and keeping what a stopped node left unfinished
//! ([`recovery`]). The rows and tombstones are `store`'s; the files and the policy are here.

pub mod recovery;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use store::Store;

use crate::Error;
pub use media::recorder::sha256_of;
pub use recovery::recover_interrupted;

/// How many rows one query of the purge or the check reads.
const PAGE: u32 = 200;

/// Where recordings live and how long evidence is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidencePolicy {
    /// The recordings' directory (`--recordings-dir`).
    pub recordings_dir: PathBuf,
    /// How long evidence is kept; `None`: the operator has not chosen, nothing is deleted.
    pub retention: Option<Retention>,
}

/// How long evidence is kept after its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Recordings and stills of calls with a decision (`--retention-days`).
    pub decided: TimeDelta,
    /// Recordings of calls that ended without any decision (`--incomplete-retention-days`).
    pub undecided: TimeDelta,
}

impl Retention {
    /// From the options in days; the undecided period defaults to the decided one and may
    /// not be longer.
    pub fn from_days(decided: u32, undecided: Option<u32>) -> Result<Self, String> {
        let undecided = undecided.unwrap_or(decided);
        if decided == 0 || undecided == 0 {
            return Err("retention-days and incomplete-retention-days must be at least 1".into());
        }
        if undecided > decided {
            return Err(format!(
                "incomplete-retention-days ({undecided}) must not be longer than retention-days ({decided})"
            ));
        }
        Ok(Self {
            decided: TimeDelta::days(i64::from(decided)),
            undecided: TimeDelta::days(i64::from(undecided)),
        })
    }
}

/// What one purge round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Recordings marked purged by this node (their tombstones written).
    pub recordings: u64,
    /// Of those, files that could not be deleted (logged; they stay until removed by hand).
    pub files_left: u64,
    /// Stills whose bytes were deleted.
    pub stills: u64,
}

/// One purge round at `now`: every recording and still past retention and not on hold.
/// Each item is claimed in the database with its tombstone first and its file deleted
/// after, so nodes purging at once delete each file once, and a crash between the two
/// leaves a file past its time, never a sealed row without its file.
pub async fn purge_once(
    store: &Store,
    policy: &EvidencePolicy,
    now: DateTime<Utc>,
) -> Result<Purged, Error> {
    let Some(retention) = policy.retention else {
        return Ok(Purged::default());
    };
    let mut done = Purged::default();
    loop {
        let due = store
            .recordings_due(now - retention.decided, now - retention.undecided, PAGE)
            .await?;
        let mut claimed_any = false;
        for r in &due {
            if !store.purge_recording(r, now).await? {
                continue;
            }
            claimed_any = true;
            done.recordings += 1;
            let path = policy.recordings_dir.join(&r.file_name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    done.files_left += 1;
                    tracing::error!(file = %path.display(), error = %e, "purged recording's file could not be deleted; delete it by hand");
                }
            }
        }
        if due.len() < PAGE as usize || !claimed_any {
            break;
        }
    }
    loop {
        let due = store.stills_due(now - retention.decided, PAGE).await?;
        let mut claimed_any = false;
        for s in &due {
            if store.purge_still(s, now).await? {
                claimed_any = true;
                done.stills += 1;
            }
        }
        if due.len() < PAGE as usize || !claimed_any {
            break;
        }
    }
    Ok(done)
}

/// What checking the recordings found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesReport {
    /// Files whose hash matched.
    pub checked: u64,
    /// The first that did not: its recording id, file and what is wrong.
    pub broken: Option<(String, PathBuf, &'static str)>,
}

/// Checks every kept recording's file under `dir` against its sealed SHA-256 and size, in
/// id order, stopping at the first that is missing or differs.
pub async fn verify_files(store: &Store, dir: &Path) -> Result<FilesReport, Error> {
    let mut report = FilesReport {
        checked: 0,
        broken: None,
    };
    let mut after = String::new();
    loop {
        let page = store.kept_recordings_after(&after, PAGE).await?;
        for r in &page {
            let path = dir.join(&r.file_name);
            let found = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || sha256_of(&path))
                    .await
                    .map_err(|e| Error::Io {
                        context: format!("hashing {}", r.file_name),
                        source: std::io::Error::other(e),
                    })?
            };
            let problem = match found {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("file missing"),
                Err(_) => Some("file unreadable"),
                Ok((hash, bytes)) if hash != r.sha256 || bytes != r.bytes => {
                    Some("file differs from its sealed hash")
                }
                Ok(_) => None,
            };
            if let Some(problem) = problem {
                report.broken = Some((r.id.clone(), path, problem));
                return Ok(report);
            }
            report.checked += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after.clone_from(&last.id),
            _ => return Ok(report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_retention_defaults_to_retention_and_may_not_exceed_it() {
        let r = Retention::from_days(365, None).expect("valid");
        assert_eq!(r.undecided, TimeDelta::days(365));
        let r = Retention::from_days(365, Some(30)).expect("valid");
        assert_eq!(r.undecided, TimeDelta::days(30));
        assert!(Retention::from_days(30, Some(365)).is_err());
        assert!(Retention::from_days(0, None).is_err());
        assert!(Retention::from_days(30, Some(0)).is_err());
    }

    #[test]
    fn a_files_hash_is_its_sha256() {
        let dir = std::env::temp_dir().join(format!("videoreg-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("abc");
        std::fs::write(&path, b"abc").expect("write");
        let (hash, bytes) = sha256_of(&path).expect("hash");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(bytes, 3);
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
