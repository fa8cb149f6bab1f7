//! Appointments: booked up to a slot's capacity (the caller says what it is), one live
//! booking per ID number, cancelled or replaced, then settled once: kept, late or no-show.
//! Every step that changes a booking writes its audit event in the same transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{NewAuditEvent, append_in, audited};
use crate::db::{from_millis, to_millis};
use crate::{Result, Store};

/// A booking to make.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    /// Random id.
    pub id: &'a str,
    /// The reference given to the citizen (unique).
    pub reference: &'a str,
    /// The verified ID number.
    pub id_number: &'a str,
    /// The application it keeps.
    pub application_id: &'a str,
    /// The application's test-call result (JSON).
    pub test_call: Option<&'a str>,
    /// The citizen's language.
    pub lang: &'a str,
    /// The slot's start.
    pub slot_at: DateTime<Utc>,
    /// SHA-256 of the booking browser's cookie, hex.
    pub browser_hash: &'a str,
    /// When it is made.
    pub created_at: DateTime<Utc>,
}

/// A stored booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Its id.
    pub id: String,
    /// The citizen's reference.
    pub reference: String,
    /// The verified ID number.
    pub id_number: String,
    /// The application it keeps.
    pub application_id: String,
    /// The test-call result it was made with (JSON).
    pub test_call: Option<String>,
    /// The citizen's language.
    pub lang: String,
    /// The slot's start.
    pub slot_at: DateTime<Utc>,
    /// SHA-256 of the booking browser's cookie.
    pub browser_hash: String,
    /// `booked`, `cancelled`, `kept`, `late` or `no_show`.
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stopped being live.
    pub settled_at: Option<DateTime<Utc>>,
    /// The ticket it became, once kept or late.
    pub ticket_id: Option<String>,
}

/// What became of a request to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// Booked (a replaced booking, if any, is cancelled).
    Booked,
    /// The slot reached its capacity first.
    Full,
    /// The ID number has a live booking and the request did not replace it.
    AlreadyBooked(Box<Booking>),
}

const COLUMNS: &str = "id, reference, id_number, application_id, test_call, lang, slot_at, browser_hash, status, created_at, settled_at, ticket_id";

impl Store {
    /// Books `b` if its slot has fewer than `capacity` live bookings. With `replace`, the ID
    /// number's live booking (if any) is cancelled in the same transaction first, freeing its
    /// place; without, a live booking makes it `AlreadyBooked`. `event` (`booking.made`) is
    /// appended with it; nothing is written unless it is booked.
    pub async fn book(
        &self,
        b: &NewBooking<'_>,
        capacity: u32,
        replace: bool,
        event: &NewAuditEvent<'_>,
    ) -> Result<BookOutcome> {
        let mut tx = self.pool.begin().await?;
        // A write first, returning the ID number's live booking: it takes SQLite's write lock
        // before anything is read (a read then a write in one transaction fails when another
        // writer commits in between), and on PostgreSQL locks that booking against a second
        // request.
        let sql = format!(
            "UPDATE bookings SET status = status WHERE id_number = $1 AND status = 'booked' RETURNING {COLUMNS}"
        );
        let live = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(b.id_number)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = live {
            let old = booking_from_row(&row)?;
            if !replace {
                tx.rollback().await?;
                return Ok(BookOutcome::AlreadyBooked(Box::new(old)));
            }
            release(&mut tx, &old.id, "cancelled", b.created_at).await?;
        }
        // A slot of no capacity is full without a write.
        let taken = if capacity == 0 {
            0
        } else {
            sqlx::query(
                "INSERT INTO booking_slots (slot_at, booked) VALUES ($1, 1)
                 ON CONFLICT (slot_at) DO UPDATE SET booked = booking_slots.booked + 1
                 WHERE booking_slots.booked < $2",
            )
            .bind(to_millis(b.slot_at))
            .bind(i64::from(capacity))
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if taken != 1 {
            tx.rollback().await?;
            return Ok(BookOutcome::Full);
        }
        let inserted = sqlx::query(
            "INSERT INTO bookings (id, reference, id_number, application_id, test_call, lang, slot_at, browser_hash, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'booked', $9)",
        )
        .bind(b.id)
        .bind(b.reference)
        .bind(b.id_number)
        .bind(b.application_id)
        .bind(b.test_call)
        .bind(b.lang)
        .bind(to_millis(b.slot_at))
        .bind(b.browser_hash)
        .bind(to_millis(b.created_at))
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another request for the same ID number committed its booking first.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                return match self.live_booking_for(b.id_number).await? {
                    Some(other) => Ok(BookOutcome::AlreadyBooked(Box::new(other))),
                    None => Ok(BookOutcome::Full),
                };
            }
            Err(e) => return Err(e.into()),
        }
        append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(BookOutcome::Booked)
    }

    /// Cancels a live booking, freeing its place, with `event`. False when it was not live.
    pub async fn cancel_booking(
        &self,
        id: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = release(&mut tx, id, "cancelled", now).await?;
        audited(tx, changed, event).await
    }

    /// Settles a live booking as `kept` or `late` when its citizen comes in, noting the
    /// ticket, with `event`. False when it was not live (cancelled, or settled already).
    pub async fn settle_booking(
        &self,
        id: &str,
        status: &str,
        ticket_id: &str,
        now: DateTime<Utc>,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE bookings SET status = $1, ticket_id = $2, settled_at = $3 WHERE id = $4 AND status = 'booked'",
        )
        .bind(status)
        .bind(ticket_id)
        .bind(to_millis(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audited(tx, changed, event).await
    }

    /// Hands a booking to another browser (found with its reference and ID number): the
    /// cookie whose hash is `browser_hash` now opens it, with `event`. False when no such
    /// booking.
    pub async fn bind_booking_browser(
        &self,
        id: &str,
        browser_hash: &str,
        event: &NewAuditEvent<'_>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE bookings SET browser_hash = $1 WHERE id = $2")
            .bind(browser_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        audited(tx, changed, event).await
    }

    /// Marks every live booking whose slot started before `before` (its grace over) as a
    /// no-show, each with a `booking.no_show` event by `actor`; returns them.
    pub async fn mark_no_shows(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<Vec<Booking>> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE bookings SET status = 'no_show', settled_at = $1
             WHERE status = 'booked' AND slot_at < $2 RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(now))
            .bind(to_millis(before))
            .fetch_all(&mut *tx)
            .await?;
        let missed: Vec<Booking> = rows.iter().map(booking_from_row).collect::<Result<_>>()?;
        for b in &missed {
            let detail = serde_json::json!({ "slot_at": b.slot_at.to_rfc3339() }).to_string();
            let event = NewAuditEvent {
                at: now,
                actor,
                action: "booking.no_show",
                subject: &b.id,
                detail: &detail,
            };
            append_in(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(missed)
    }

    /// One booking.
    pub async fn booking(&self, id: &str) -> Result<Option<Booking>> {
        self.booking_where("id = $1", id).await
    }

    /// A booking by the reference the citizen was given.
    pub async fn booking_by_reference(&self, reference: &str) -> Result<Option<Booking>> {
        self.booking_where("reference = $1", reference).await
    }

    /// The ID number's live booking.
    pub async fn live_booking_for(&self, id_number: &str) -> Result<Option<Booking>> {
        self.booking_where("id_number = $1 AND status = 'booked'", id_number)
            .await
    }

    /// A browser's booking (by its cookie's hash): its live one, or else the latest.
    pub async fn booking_by_browser(&self, browser_hash: &str) -> Result<Option<Booking>> {
        self.booking_where(
            "browser_hash = $1 ORDER BY CASE WHEN status = 'booked' THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1",
            browser_hash,
        )
        .await
    }

    async fn booking_where(&self, condition: &str, value: &str) -> Result<Option<Booking>> {
        let sql = format!("SELECT {COLUMNS} FROM bookings WHERE {condition}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(booking_from_row).transpose()
    }

    /// Live bookings per slot start, for slots starting in `[from, to)`.
    pub async fn booked_slots(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeMap<DateTime<Utc>, u32>> {
        let rows = sqlx::query(
            "SELECT slot_at, booked FROM booking_slots WHERE slot_at >= $1 AND slot_at < $2 AND booked > 0",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("booked")?;
                Ok((
                    from_millis("slot_at", r.try_get("slot_at")?)?,
                    u32::try_from(n).unwrap_or(u32::MAX),
                ))
            })
            .collect()
    }

    /// The slots of live bookings (citizens not come in yet) starting in `[from, to)`, one
    /// per booking, in order: the wait estimate expects them at their slots.
    pub async fn live_booking_slots(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>> {
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT slot_at FROM bookings WHERE status = 'booked' AND slot_at >= $1 AND slot_at < $2 ORDER BY slot_at",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|ms| from_millis("bookings.slot_at", ms))
            .collect()
    }

    /// Every booking whose slot starts in `[from, to)`, by slot.
    pub async fn bookings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM bookings WHERE slot_at >= $1 AND slot_at < $2 ORDER BY slot_at, created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(from))
            .bind(to_millis(to))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(booking_from_row).collect()
    }
}

/// Ends a live booking as `status` and gives its place back; the number of bookings ended.
async fn release(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let slot: Option<i64> = sqlx::query_scalar(
        "UPDATE bookings SET status = $1, settled_at = $2 WHERE id = $3 AND status = 'booked' RETURNING slot_at",
    )
    .bind(status)
    .bind(to_millis(now))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(slot) = slot else {
        return Ok(0);
    };
    sqlx::query("UPDATE booking_slots SET booked = booked - 1 WHERE slot_at = $1 AND booked > 0")
        .bind(slot)
        .execute(&mut **tx)
        .await?;
    Ok(1)
}

fn booking_from_row(r: &AnyRow) -> Result<Booking> {
    Ok(Booking {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        id_number: r.try_get("id_number")?,
        application_id: r.try_get("application_id")?,
        test_call: r.try_get("test_call")?,
        lang: r.try_get("lang")?,
        slot_at: from_millis("slot_at", r.try_get("slot_at")?)?,
        browser_hash: r.try_get("browser_hash")?,
        status: r.try_get("status")?,
        created_at: from_millis("created_at", r.try_get("created_at")?)?,
        settled_at: r
            .try_get::<Option<i64>, _>("settled_at")?
            .map(|ms| from_millis("settled_at", ms))
            .transpose()?,
        ticket_id: r.try_get("ticket_id")?,
    })
}
