//! Staff accounts, their failed sign-ins, and their server-side sessions.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{from_millis, to_millis};
use crate::staff_secrets::{session_totp_context, user_totp_context};
use crate::{Error, Result, Store};

/// What a member of staff may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Verifies citizens in the console.
    Agent,
    /// Watches the queue; reads agent pages.
    Supervisor,
    /// Reads decisions and evidence; changes nothing.
    Auditor,
}

impl StaffRole {
    /// Every role, for tables and listings.
    pub const ALL: [StaffRole; 3] = [StaffRole::Agent, StaffRole::Supervisor, StaffRole::Auditor];

    /// The stored and typed name: `agent`, `supervisor`, `auditor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Auditor => "auditor",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    /// Random identifier.
    pub id: String,
    /// Sign-in name (unique).
    pub name: String,
    /// Role.
    pub role: StaffRole,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret once enrolled, opened with the store's secrets key (stored sealed;
    /// a store without the key returns the sealed text, enough to tell enrolment).
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted (a code is accepted once).
    pub totp_last_step: Option<i64>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// An agent who reviews other agents' approvals (four eyes).
    pub reviewer: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Whether a session has passed the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; second factor pending.
    Password,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Full => "full",
        }
    }
}

/// A server-side staff session, found by the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    /// The account.
    pub user_id: String,
    /// Second factor passed or not.
    pub stage: SessionStage,
    /// The token every state-changing form must carry.
    pub csrf_token: String,
    /// A TOTP secret being enrolled, until confirmed (stored sealed, like `totp_secret`).
    pub pending_totp_secret: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The last request seen.
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

/// The new id and CSRF token a session takes when it passes the second factor.
#[derive(Debug, Clone)]
pub struct RenewedSession<'a> {
    /// SHA-256 of the new cookie value.
    pub id_hash: &'a str,
    /// The new CSRF token.
    pub csrf_token: &'a str,
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewStaffSession<'a> {
    /// SHA-256 of the cookie value.
    pub id_hash: &'a str,
    /// The account.
    pub user_id: &'a str,
    /// Stage at creation.
    pub stage: SessionStage,
    /// CSRF token.
    pub csrf_token: &'a str,
    /// Where the sign-in came from.
    pub client_addr: &'a str,
    /// Now.
    pub created_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Creates an account; a name already taken is a unique violation.
    pub async fn insert_staff_user(
        &self,
        id: &str,
        name: &str,
        role: StaffRole,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO staff_users (id, name, role, password_hash, disabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 0, $5, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account with this sign-in name.
    pub async fn find_staff_by_name(&self, name: &str) -> Result<Option<StaffUser>> {
        let row = sqlx::query(
            "SELECT id, name, role, password_hash, totp_secret, totp_last_step, disabled, reviewer, created_at
             FROM staff_users WHERE name = $1",
        )
        .bind(name).fetch_optional(&self.pool).await?;
        row.map(|r| self.opened_user(user_from_row(&r)?))
            .transpose()
    }

    /// The account with this id.
    pub async fn find_staff_by_id(&self, id: &str) -> Result<Option<StaffUser>> {
        let row = sqlx::query(
            "SELECT id, name, role, password_hash, totp_secret, totp_last_step, disabled, reviewer, created_at
             FROM staff_users WHERE id = $1",
        )
        .bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| self.opened_user(user_from_row(&r)?))
            .transpose()
    }

    /// Every account, by name.
    pub async fn list_staff(&self) -> Result<Vec<StaffUser>> {
        let rows = sqlx::query(
            "SELECT id, name, role, password_hash, totp_secret, totp_last_step, disabled, reviewer, created_at
             FROM staff_users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| self.opened_user(user_from_row(r)?))
            .collect()
    }

    /// Replaces an account's password hash; returns whether the account exists.
    pub async fn set_staff_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE staff_users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(to_millis(now))
                .bind(user_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables or enables an account; returns whether the account exists.
    pub async fn set_staff_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE staff_users SET disabled = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(disabled))
                .bind(to_millis(now))
                .bind(user_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes an account a reviewer of other agents' approvals, or not; returns whether the
    /// account exists.
    pub async fn set_staff_reviewer(
        &self,
        user_id: &str,
        reviewer: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE staff_users SET reviewer = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(reviewer))
                .bind(to_millis(now))
                .bind(user_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets (or, with `None`, clears) an account's TOTP secret and its last accepted step.
    pub async fn set_staff_totp(
        &self,
        user_id: &str,
        secret: Option<&str>,
        last_step: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sealed = secret
            .map(|s| self.seal_secret(s, &user_totp_context(user_id)))
            .transpose()?;
        let done = sqlx::query("UPDATE staff_users SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE id = $4")
            .bind(sealed)
            .bind(last_step)
            .bind(to_millis(now))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that TOTP step `step` was used, only if it is later than the last one used:
    /// returns false if the step was already used (a replay), atomically.
    pub async fn advance_staff_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE staff_users SET totp_last_step = $1
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Failed sign-ins counted for a name since its last success or reset: how many, and
    /// when the last was counted.
    pub async fn staff_login_failures_for_name(
        &self,
        user_name: &str,
    ) -> Result<(i64, Option<DateTime<Utc>>)> {
        Ok(self
            .throttle(crate::ThrottleScope::StaffName, user_name)
            .await?
            .map_or((0, None), |t| (t.failures, Some(t.updated_at))))
    }

    /// Forgets a name's failed sign-ins (after a success, or an administrator's reset).
    pub async fn clear_staff_login_failures(&self, user_name: &str) -> Result<u64> {
        self.clear_throttle(crate::ThrottleScope::StaffName, user_name)
            .await
    }

    /// Stores a new session.
    pub async fn insert_staff_session(&self, s: &NewStaffSession<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO staff_sessions (id_hash, user_id, stage, csrf_token, client_addr, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(s.id_hash)
        .bind(s.user_id)
        .bind(s.stage.as_str())
        .bind(s.csrf_token)
        .bind(s.client_addr)
        .bind(to_millis(s.created_at))
        .bind(to_millis(s.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session with this id hash, whatever its age (the caller applies timeouts).
    pub async fn find_staff_session(&self, id_hash: &str) -> Result<Option<StaffSession>> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, stage, csrf_token, pending_totp_secret, created_at, last_seen_at, expires_at
             FROM staff_sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let stage: String = r.try_get("stage")?;
            let id_hash: String = r.try_get("id_hash")?;
            Ok(StaffSession {
                user_id: r.try_get("user_id")?,
                stage: match stage.as_str() {
                    "password" => SessionStage::Password,
                    "full" => SessionStage::Full,
                    _ => {
                        return Err(Error::Corrupt {
                            what: "staff_sessions.stage",
                            value: stage,
                        });
                    }
                },
                csrf_token: r.try_get("csrf_token")?,
                pending_totp_secret: self.open_secret(
                    r.try_get("pending_totp_secret")?,
                    &session_totp_context(&id_hash),
                    "staff_sessions.pending_totp_secret",
                )?,
                created_at: from_millis("staff_sessions.created_at", r.try_get("created_at")?)?,
                last_seen_at: from_millis(
                    "staff_sessions.last_seen_at",
                    r.try_get("last_seen_at")?,
                )?,
                expires_at: from_millis("staff_sessions.expires_at", r.try_get("expires_at")?)?,
                id_hash,
            })
        })
        .transpose()
    }

    /// Marks a session as seen at `now`.
    pub async fn touch_staff_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(to_millis(now))
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves a session that passed its second factor to the full stage under a new id and
    /// CSRF token (the id known before the second factor no longer works), and forgets any
    /// pending enrolment secret. Returns false if no such session was waiting.
    pub async fn complete_staff_session(
        &self,
        id_hash: &str,
        renewed: &RenewedSession<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE staff_sessions SET id_hash = $1, csrf_token = $2, stage = 'full', pending_totp_secret = NULL, last_seen_at = $3
             WHERE id_hash = $4 AND stage = 'password'",
        )
        .bind(renewed.id_hash)
        .bind(renewed.csrf_token)
        .bind(to_millis(now))
        .bind(id_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps a TOTP secret being enrolled with the session until it is confirmed.
    pub async fn set_pending_totp_secret(&self, id_hash: &str, secret: &str) -> Result<()> {
        let sealed = self.seal_secret(secret, &session_totp_context(id_hash))?;
        sqlx::query("UPDATE staff_sessions SET pending_totp_secret = $1 WHERE id_hash = $2")
            .bind(sealed)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_staff_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of an account (after disabling it or resetting its password).
    pub async fn delete_staff_sessions_for_user(&self, user_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes sessions idle since before `idle_before` or past their absolute end at `now`.
    pub async fn prune_staff_sessions(
        &self,
        idle_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM staff_sessions WHERE last_seen_at < $1 OR expires_at <= $2")
                .bind(to_millis(idle_before))
                .bind(to_millis(now))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}

fn user_from_row(r: &AnyRow) -> Result<StaffUser> {
    let role: String = r.try_get("role")?;
    let disabled: i64 = r.try_get("disabled")?;
    Ok(StaffUser {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: StaffRole::parse(&role).ok_or(Error::Corrupt {
            what: "staff_users.role",
            value: role,
        })?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_last_step: r.try_get("totp_last_step")?,
        disabled: disabled != 0,
        reviewer: r.try_get::<i64, _>("reviewer")? != 0,
        created_at: from_millis("staff_users.created_at", r.try_get("created_at")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(StaffRole::parse("admin"), None);
    }
}
