//! On SQLite, one node serves a database: `serve` and `demo` hold an operating-system lock
//! on `<database>.lock` for as long as the process lives, and a second server on the same
//! file refuses to start, naming the process that holds it.
//!
//! The lock is the kernel's advisory file lock (`flock` on Unix, `LockFileEx` on Windows,
//! through [`std::fs::File::try_lock`]): it is released when the process ends however it
//! ends, `kill -9` included, so there is no heartbeat to keep and no stale lock to expire.
//! One-shot commands (`identities import`, `user …`, `audit verify`, `report`) do not take
//! it: they may run beside the server, as SQLite's own locking allows. PostgreSQL is meant
//! for many nodes and takes no lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use crate::Error;

/// The lock on a SQLite database, held until dropped (or the process ends).
#[derive(Debug)]
pub struct NodeLock {
    /// The locked file; the lock lives as long as this handle.
    _file: File,
    /// Where the lock file is.
    path: PathBuf,
}

impl NodeLock {
    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The file of a `sqlite:` URL (`sqlite://PATH?…` or `sqlite:PATH`); `None` for PostgreSQL
/// and for in-memory SQLite.
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The lock file beside a database: `videoreg.db` → `videoreg.db.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

/// Takes the lock on the SQLite database of `database_url`, or refuses with a message that
/// says which process holds it. `Ok(None)` for PostgreSQL, which many nodes share.
pub fn acquire(database_url: &str) -> Result<Option<NodeLock>, Error> {
    let Some(db) = sqlite_file(database_url) else {
        return Ok(None);
    };
    let path = lock_path(&db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(format!("opening the lock file {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(Error::Refused(held_elsewhere(&db, &path, &mut file)));
        }
        Err(TryLockError::Error(e)) => {
            return Err(Error::io(format!("locking {}", path.display()), e));
        }
    }
    // Name this process in the file, for the message a second server prints.
    let named = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()));
    if let Err(e) = named {
        tracing::debug!(error = %e, "writing the process id into the lock file");
    }
    tracing::info!(lock = %path.display(), "this node holds the SQLite database");
    Ok(Some(NodeLock { _file: file, path }))
}

/// The refusal when another process holds the lock.
fn held_elsewhere(db: &Path, path: &Path, file: &mut File) -> String {
    let mut text = String::new();
    let holder = match file.read_to_string(&mut text) {
        Ok(_) if !text.trim().is_empty() => format!("process {}", text.trim()),
        _ => "another process".to_owned(),
    };
    format!(
        "the SQLite database {} is already served by {holder} (it holds {}): on SQLite only \
         one videoreg server may run on a database. Stop the other server first, or run \
         several nodes on PostgreSQL (see docs/deployment.md). Commands such as `user list` \
         and `report` can run beside it.",
        db.display(),
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_files_are_locked() {
        assert_eq!(
            sqlite_file("sqlite://./data/demo.db"),
            Some(PathBuf::from("./data/demo.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:/tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://db/videoreg"), None);
        assert_eq!(
            lock_path(Path::new("./data/videoreg.db")),
            PathBuf::from("./data/videoreg.db.lock")
        );
    }

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("videoreg-lock-{}", std::process::id()));
        let url = format!("sqlite://{}", dir.join("n.db").display());
        let first = acquire(&url).expect("first lock").expect("a SQLite lock");
        let second = acquire(&url).expect_err("second lock refused");
        let message = second.to_string();
        assert!(message.contains("already served by process"), "{message}");
        assert!(
            message.contains(&std::process::id().to_string()),
            "{message}"
        );
        drop(first);
        let again = acquire(&url).expect("lock after release");
        assert!(again.is_some());
        assert!(
            acquire("postgres://db/videoreg")
                .expect("no lock")
                .is_none()
        );
    }
}
