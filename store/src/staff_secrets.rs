//! TOTP secrets at rest: sealed with the store's secrets key on the way in, opened on the way
//! out, and the clear ones of older databases sealed once the key is known (SQL migrations
//! cannot encrypt, so this runs at start-up, see [`Store::seal_clear_totp_secrets`]).

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::audit::{NewAuditEvent, append_in};
use crate::sealing::is_sealed;
use crate::{Error, Result, StaffUser, Store};

/// The associated data of an account's TOTP secret: it opens only in that account's row.
pub(crate) fn user_totp_context(user_id: &str) -> String {
    format!("staff_users.totp_secret:{user_id}")
}

/// The associated data of a session's pending enrolment secret.
pub(crate) fn session_totp_context(id_hash: &str) -> String {
    format!("staff_sessions.pending_totp_secret:{id_hash}")
}

impl Store {
    /// Seals a secret for the row named by `context`; without a key nothing is written.
    pub(crate) fn seal_secret(&self, plain: &str, context: &str) -> Result<String> {
        let key = self.secrets.as_ref().ok_or(Error::NoSecretsKey)?;
        key.seal(plain, context)
    }

    /// Opens a stored secret. With the key, a value that is not sealed is refused as corrupt
    /// (the start-up sealing leaves none); without it, the stored text is returned as it is.
    pub(crate) fn open_secret(
        &self,
        stored: Option<String>,
        context: &str,
        what: &'static str,
    ) -> Result<Option<String>> {
        let (Some(key), Some(stored)) = (self.secrets.as_ref(), stored.as_deref()) else {
            return Ok(stored);
        };
        if !is_sealed(stored) {
            return Err(Error::Corrupt {
                what,
                value: "(a secret stored in clear)".into(),
            });
        }
        key.open(stored, context, what).map(Some)
    }

    /// The account with its TOTP secret opened.
    pub(crate) fn opened_user(&self, mut user: StaffUser) -> Result<StaffUser> {
        user.totp_secret = self.open_secret(
            user.totp_secret.take(),
            &user_totp_context(&user.id),
            "staff_users.totp_secret",
        )?;
        Ok(user)
    }

    /// Seals every TOTP secret still stored in clear (accounts and pending enrolments) with
    /// the store's key, in one transaction with a `secrets.totp_sealed` audit event naming
    /// how many; returns that number (0 when there was nothing to do, and then no event).
    pub async fn seal_clear_totp_secrets(&self, now: DateTime<Utc>) -> Result<u64> {
        if self.secrets.is_none() {
            return Err(Error::NoSecretsKey);
        }
        let mut tx = self.pool.begin().await?;
        // Take the write lock first (SQLite) so that two nodes do not seal the same row.
        sqlx::query("UPDATE audit_head SET last_id = last_id WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let users = sqlx::query(
            "SELECT id, totp_secret FROM staff_users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'v1:%'",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &users {
            let id: String = r.try_get("id")?;
            let clear: String = r.try_get("totp_secret")?;
            sqlx::query("UPDATE staff_users SET totp_secret = $1 WHERE id = $2")
                .bind(self.seal_secret(&clear, &user_totp_context(&id))?)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let sessions = sqlx::query(
            "SELECT id_hash, pending_totp_secret FROM staff_sessions WHERE pending_totp_secret IS NOT NULL AND pending_totp_secret NOT LIKE 'v1:%'",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &sessions {
            let id_hash: String = r.try_get("id_hash")?;
            let clear: String = r.try_get("pending_totp_secret")?;
            sqlx::query("UPDATE staff_sessions SET pending_totp_secret = $1 WHERE id_hash = $2")
                .bind(self.seal_secret(&clear, &session_totp_context(&id_hash))?)
                .bind(&id_hash)
                .execute(&mut *tx)
                .await?;
        }
        let count = (users.len() + sessions.len()) as u64;
        if count > 0 {
            let detail = format!(
                r#"{{"accounts":{},"pending_enrolments":{}}}"#,
                users.len(),
                sessions.len()
            );
            append_in(
                &mut tx,
                &NewAuditEvent {
                    at: now,
                    actor: "system",
                    action: "secrets.totp_sealed",
                    subject: "staff_users",
                    detail: &detail,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(count)
    }
}
