//! Citizen accounts: the registration and activation codes an ID number holds, the
//! Permanent Cl@ve credential set with a code (one transaction that uses the code up and
//! writes the password hash). Failed attempts are counted in [`crate::ThrottleScope`]s.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::audit::{NewAuditEvent, append_in};
use crate::db::{from_millis, to_millis};
use crate::reviews::BLOCKED_BY_REVIEW;
use crate::secrets::constant_time_eq;
use crate::{Result, Store};

/// An activation code as stored: only its hash, with its expiry and use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// Hex SHA-256 of the canonical code.
    pub code_hash: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// When the code was used to activate, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

/// The registration an ID number holds, with its activation codes (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRegistration {
    /// The registration's id: its reference number.
    pub id: String,
    /// The registration level (`basic`).
    pub level: String,
    /// When the agent approved it.
    pub created_at: DateTime<Utc>,
    /// Its activation codes, newest first.
    pub codes: Vec<StoredCode>,
}

/// A citizen's Permanent Cl@ve credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenCredential {
    /// The canonical ID number.
    pub id_number: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// When the first password was set.
    pub created_at: DateTime<Utc>,
    /// When the password was last set.
    pub updated_at: DateTime<Utc>,
}

/// Which form a failed attempt came from; all count toward the same limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// `/activate`: a wrong activation code.
    Activation,
    /// `/login`: a wrong password.
    Login,
    /// `/receipt`: a wrong activation code.
    Receipt,
}

impl AttemptKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Login => "login",
            Self::Receipt => "receipt",
        }
    }
}

/// What to write when a citizen activates.
#[derive(Debug, Clone)]
pub struct NewActivation<'a> {
    /// The canonical ID number.
    pub id_number: &'a str,
    /// Hex SHA-256 of the code the citizen typed.
    pub code_hash: &'a str,
    /// The argon2id PHC string of the new password.
    pub password_hash: &'a str,
    /// Where the request came from, for the audit trail.
    pub client_addr: &'a str,
    /// When.
    pub at: DateTime<Utc>,
}

/// How an activation went. Only `Activated` wrote anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The code was used up and the password set.
    Activated,
    /// The ID number holds a registration, but no code of it has this hash.
    WrongCode,
    /// The code matched but its expiry has passed.
    Expired,
    /// The code matched but was used before.
    AlreadyUsed,
    /// The ID number holds no registration.
    NoRegistration,
    /// The code matched, but a second review flagged the approval (until an auditor clears
    /// it), or the registration was revoked after review.
    UnderReview,
}

impl Store {
    /// The registration `id_number` holds, with its activation codes, if any.
    pub async fn citizen_registration(
        &self,
        id_number: &str,
    ) -> Result<Option<CitizenRegistration>> {
        let Some(row) =
            sqlx::query("SELECT id, level, created_at FROM registrations WHERE id_number = $1")
                .bind(id_number)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let id: String = row.try_get("id")?;
        let codes = sqlx::query(
            "SELECT code_hash, expires_at, used_at FROM activation_codes
             WHERE registration_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let used: Option<i64> = r.try_get("used_at")?;
            Ok(StoredCode {
                code_hash: r.try_get("code_hash")?,
                expires_at: from_millis("activation_codes.expires_at", r.try_get("expires_at")?)?,
                used_at: used
                    .map(|ms| from_millis("activation_codes.used_at", ms))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(CitizenRegistration {
            id,
            level: row.try_get("level")?,
            created_at: from_millis("registrations.created_at", row.try_get("created_at")?)?,
            codes,
        }))
    }

    /// Uses up the code and sets the password, in one transaction: the code must belong to
    /// the ID number's registration, be unused and unexpired. Otherwise nothing is written
    /// and the result says why.
    pub async fn activate(
        &self,
        a: &NewActivation<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Activation> {
        let mut tx = self.pool.begin().await?;
        // Write first, so that SQLite takes its write lock before anything is read.
        let sql = format!(
            "UPDATE activation_codes SET used_at = $3
             WHERE used_at IS NULL AND expires_at > $3 AND code_hash = $2
               AND registration_id IN (SELECT id FROM registrations WHERE id_number = $1)
               AND NOT {BLOCKED_BY_REVIEW}
             RETURNING id"
        );
        let used = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(a.id_number)
            .bind(a.code_hash)
            .bind(to_millis(a.at))
            .fetch_optional(&mut *tx)
            .await?;
        if used.is_none() {
            let sql = format!(
                "SELECT c.code_hash, c.expires_at, c.used_at,
                        CAST(CASE WHEN {BLOCKED_BY_REVIEW} THEN 1 ELSE 0 END AS BIGINT) AS blocked
                 FROM activation_codes c
                 JOIN registrations r ON r.id = c.registration_id WHERE r.id_number = $1"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(a.id_number)
                .fetch_all(&mut *tx)
                .await?;
            tx.rollback().await?;
            let registered = self.citizen_registration(a.id_number).await?.is_some();
            let matching = rows.iter().find(|r| {
                r.try_get::<String, _>("code_hash")
                    .is_ok_and(|h| constant_time_eq(h.as_bytes(), a.code_hash.as_bytes()))
            });
            return Ok(match matching {
                None if registered => Activation::WrongCode,
                None => Activation::NoRegistration,
                Some(r) if r.try_get::<Option<i64>, _>("used_at")?.is_some() => {
                    Activation::AlreadyUsed
                }
                Some(r) if r.try_get::<i64, _>("blocked")? != 0 => Activation::UnderReview,
                Some(_) => Activation::Expired,
            });
        }
        sqlx::query(
            "INSERT INTO citizen_credentials (id_number, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (id_number) DO UPDATE SET password_hash = excluded.password_hash,
                 updated_at = excluded.updated_at",
        )
        .bind(a.id_number)
        .bind(a.password_hash)
        .bind(to_millis(a.at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(Activation::Activated)
    }

    /// The credential `id_number` holds, if it has activated.
    pub async fn citizen_credential(&self, id_number: &str) -> Result<Option<CitizenCredential>> {
        let row = sqlx::query(
            "SELECT id_number, password_hash, created_at, updated_at
             FROM citizen_credentials WHERE id_number = $1",
        )
        .bind(id_number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(CitizenCredential {
                id_number: r.try_get("id_number")?,
                password_hash: r.try_get("password_hash")?,
                created_at: from_millis(
                    "citizen_credentials.created_at",
                    r.try_get("created_at")?,
                )?,
                updated_at: from_millis(
                    "citizen_credentials.updated_at",
                    r.try_get("updated_at")?,
                )?,
            })
        })
        .transpose()
    }
}
