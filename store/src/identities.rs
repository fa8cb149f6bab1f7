//! The identity registry: the records that contrast data is checked against.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::to_millis;
use crate::{Error, Result, Store};

/// Rows per INSERT statement: 8 parameters each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
const UPSERT_BATCH: usize = 500;

/// `INSERT … VALUES ($1, …, $7), ($8, …) ON CONFLICT … DO UPDATE` for `rows` rows. Built only
/// from numbers, never from input.
fn upsert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO identities (id_number, kind, full_name, valid_until, issued_on, support_number, birth_date, updated_at) VALUES ",
    );
    for row in 0..rows {
        let p = row * 8;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8
        ));
    }
    sql.push_str(
        " ON CONFLICT (id_number) DO UPDATE SET
            kind = excluded.kind, full_name = excluded.full_name,
            valid_until = excluded.valid_until, issued_on = excluded.issued_on,
            support_number = excluded.support_number, birth_date = excluded.birth_date,
            updated_at = excluded.updated_at",
    );
    sql
}

/// Which document an identity record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// Documento Nacional de Identidad.
    Dni,
    /// Número de Identidad de Extranjero.
    Nie,
}

impl IdentityKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Dni => "dni",
            Self::Nie => "nie",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "dni" => Ok(Self::Dni),
            "nie" => Ok(Self::Nie),
            other => Err(Error::Corrupt {
                what: "identities.kind",
                value: other.to_owned(),
            }),
        }
    }
}

/// One record of the identity registry. Dates are `YYYY-MM-DD` text, as the registry
/// publishes them; the rules that read them live in the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    /// The normalised ID number, e.g. `12345678Z` or `X1234567L`.
    pub id_number: String,
    /// DNI or NIE.
    pub kind: IdentityKind,
    /// The holder's full name.
    pub full_name: String,
    /// The document's validity date (DNI), `9999-01-01` for a permanent DNI.
    pub valid_until: Option<String>,
    /// The document's issue date.
    pub issued_on: Option<String>,
    /// The support number printed on a NIE card or certificate.
    pub support_number: Option<String>,
    /// The holder's birth date, when the registry gives it.
    pub birth_date: Option<String>,
}

impl Store {
    /// Inserts or replaces every record in one transaction: all are written or none is.
    /// Each ID number may appear once per call. Returns how many were written.
    pub async fn upsert_identities(
        &self,
        records: &[IdentityRecord],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for chunk in records.chunks(UPSERT_BATCH) {
            let sql = upsert_sql(chunk.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(&r.id_number)
                    .bind(r.kind.as_str())
                    .bind(&r.full_name)
                    .bind(&r.valid_until)
                    .bind(&r.issued_on)
                    .bind(&r.support_number)
                    .bind(&r.birth_date)
                    .bind(to_millis(now));
            }
            written += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The record for a normalised ID number, if the registry has one.
    pub async fn find_identity(&self, id_number: &str) -> Result<Option<IdentityRecord>> {
        let row = sqlx::query(
            "SELECT id_number, kind, full_name, valid_until, issued_on, support_number, birth_date
             FROM identities WHERE id_number = $1",
        )
        .bind(id_number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| identity_from_row(&r)).transpose()
    }

    /// How many records the registry holds.
    pub async fn count_identities(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM identities")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

fn identity_from_row(r: &AnyRow) -> Result<IdentityRecord> {
    Ok(IdentityRecord {
        id_number: r.try_get("id_number")?,
        kind: IdentityKind::parse(&r.try_get::<String, _>("kind")?)?,
        full_name: r.try_get("full_name")?,
        valid_until: r.try_get("valid_until")?,
        issued_on: r.try_get("issued_on")?,
        support_number: r.try_get("support_number")?,
        birth_date: r.try_get("birth_date")?,
    })
}
