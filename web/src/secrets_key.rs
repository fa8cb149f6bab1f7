//! Where the secrets key comes from at start-up: `--secrets-key-file`; for `demo` without
//! one, a key the demo generates once and keeps beside its database, so that the staff's
//! enrolled second factors survive a restart. Serving with `--staff-mfa on` and no key is
//! refused. The key itself is never printed or logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use store::sealing::SecretsKey;

use crate::Error;
use crate::config::Settings;

/// The demo's key file when its database is not a SQLite file.
const DEMO_KEY_FILE: &str = "./data/demo-secrets.key";

/// The key the server runs with, if any: the configured file; for the demo, its own file
/// (created the first time); otherwise none, which is refused while MFA is on.
pub fn load(settings: &Settings, demo: bool) -> Result<Option<Arc<SecretsKey>>, Error> {
    if let Some(path) = &settings.secrets_key_file {
        return read(path).map(|k| Some(Arc::new(k)));
    }
    if demo {
        return demo_key(&demo_key_path(&settings.database_url)).map(|k| Some(Arc::new(k)));
    }
    if settings.staff.mfa_required {
        return Err(Error::Config(
            "--staff-mfa on needs a secrets key to seal the TOTP secrets: create one with \
             `openssl rand -hex 32 > FILE` (readable only by videoreg) and pass \
             --secrets-key-file FILE"
                .into(),
        ));
    }
    Ok(None)
}

/// Beside the demo's SQLite file (`demo.db` → `demo-secrets.key`), else under `./data/`.
pub fn demo_key_path(database_url: &str) -> PathBuf {
    match crate::node_lock::sqlite_file(database_url) {
        Some(db) => {
            let stem = db.file_stem().and_then(|s| s.to_str()).unwrap_or("demo");
            db.with_file_name(format!("{stem}-secrets.key"))
        }
        None => PathBuf::from(DEMO_KEY_FILE),
    }
}

fn read(path: &Path) -> Result<SecretsKey, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading the secrets key {}", path.display()), e))?;
    warn_if_readable_by_others(path);
    SecretsKey::parse(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// The demo's key: read if it exists, else generated and written (mode 0600 on Unix).
fn demo_key(path: &Path) -> Result<SecretsKey, Error> {
    if path.exists() {
        return read(path);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let (key, text) = SecretsKey::generate()?;
    write_private(path, &format!("{text}\n")).map_err(|e| {
        Error::io(
            format!("writing the demo's secrets key {}", path.display()),
            e,
        )
    })?;
    tracing::info!(path = %path.display(), "generated the demo's secrets key");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the secrets key file is readable by other users: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_keeps_its_key_beside_its_database() {
        assert_eq!(
            demo_key_path("sqlite://./data/demo.db"),
            PathBuf::from("./data/demo-secrets.key")
        );
        assert_eq!(
            demo_key_path("sqlite:///tmp/x/other.db?mode=rwc"),
            PathBuf::from("/tmp/x/other-secrets.key")
        );
        assert_eq!(
            demo_key_path("postgres://db/videoreg"),
            PathBuf::from(DEMO_KEY_FILE)
        );
    }
}
