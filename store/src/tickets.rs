//! Queue tickets: joining, the order of the queue, atomic claims by agents, requeues,
//! leaving, resume after a dropped connection, and the instants every figure is made from.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{from_millis, to_millis};
use crate::{Backend, Error, Result, Store};

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// In the queue.
    Waiting,
    /// Claimed by an agent, call being set up.
    Offered,
    /// In a call with the agent.
    InCall,
    /// The call ended.
    Done,
    /// The citizen left (or was gone past the grace period).
    Left,
    /// Still waiting at closing, under the expire policy.
    Expired,
}

impl TicketStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::InCall => "in_call",
            Self::Done => "done",
            Self::Left => "left",
            Self::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "waiting" => Self::Waiting,
            "offered" => Self::Offered,
            "in_call" => Self::InCall,
            "done" => Self::Done,
            "left" => Self::Left,
            "expired" => Self::Expired,
            other => {
                return Err(Error::Corrupt {
                    what: "tickets.status",
                    value: other.to_owned(),
                });
            }
        })
    }

    /// Whether the ticket still holds a place (waiting, offered or in a call).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Waiting | Self::Offered | Self::InCall)
    }
}

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Random id.
    pub id: String,
    /// The application it was joined with.
    pub application_id: String,
    /// The citizen's ID number.
    pub id_number: String,
    /// Where it stands.
    pub status: TicketStatus,
    /// Higher is served first.
    pub priority: i64,
    /// When the citizen joined.
    pub joined_at: DateTime<Utc>,
    /// The wait the citizen was told at joining, in seconds.
    pub told_estimate_secs: Option<i64>,
    /// When the citizen's connection dropped, while they hold the place.
    pub disconnected_at: Option<DateTime<Utc>>,
    /// The agent who claimed it.
    pub agent_id: Option<String>,
    /// When an agent claimed it.
    pub offered_at: Option<DateTime<Utc>>,
    /// When the call started.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it ended (done, left or expired).
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended, e.g. `approved`, `rejected:…`, `left`, `abandoned`.
    pub outcome: Option<String>,
    /// The appointment it came in for, in time: the slot's start (a late arrival is a
    /// walk-in and has none).
    pub appointment_at: Option<DateTime<Utc>>,
    /// The replay's range at joining, before recalibration, in seconds (low, high).
    pub told_range_secs: Option<(i64, i64)>,
}

/// A citizen's told wait and real wait ([`Store::recent_told_waits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToldWait {
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// The point told, in seconds.
    pub point_secs: i64,
    /// The replay's low end before recalibration, in seconds.
    pub low_secs: i64,
    /// Its high end.
    pub high_secs: i64,
    /// Joined → answered.
    pub waited: TimeDelta,
}

/// A finished call, for handle-time figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentCall {
    /// The agent who took it.
    pub agent_id: Option<String>,
    /// Answered → ended.
    pub handle_time: TimeDelta,
}

/// Citizens who left the queue before an agent took them, and the time everyone waited, over
/// a period (the abandonment rate is their ratio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueAbandonment {
    /// Tickets that ended as `left` (the citizen left, or was gone past the grace period).
    pub left: u32,
    /// Time waited by every ticket of the period: until offered, ended, or `now`.
    pub waited: TimeDelta,
}

/// `SELECT` of every column a [`Ticket`] is read from, `FROM tickets`, then `$rest` (a
/// literal): one column list for every ticket query.
macro_rules! select_tickets {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            $crate::tickets::ticket_columns!(),
            " FROM tickets ",
            $rest
        )
    };
}

/// Every column a [`Ticket`] is read from.
macro_rules! ticket_columns {
    () => {
        "id, application_id, id_number, status, priority, joined_at, told_estimate_secs, disconnected_at, agent_id, offered_at, answered_at, ended_at, outcome, appointment_at, told_low_secs, told_high_secs"
    };
}

/// The service order as SQL, `now` being the placeholder given (e.g. `"$2"`): the four tiers
/// of `scheduler::queue::service_key`, which is this clause's oracle in the store's tests
/// (`claims_follow_the_scheduler_service_order`). 1. requeued (priority ≥ 1, the scheduler's
/// `REQUEUE_PRIORITY`), by arrival; 2. appointments due by `now`, by slot; 3. walk-ins, by
/// arrival; 4. appointments not yet due, by slot.
macro_rules! service_order {
    ($now:literal) => {
        concat!(
            "ORDER BY CASE WHEN priority >= 1 THEN 0 WHEN appointment_at <= ",
            $now,
            " THEN 1 WHEN appointment_at IS NULL THEN 2 ELSE 3 END,
             CASE WHEN priority >= 1 THEN 0 ELSE COALESCE(appointment_at, 0) END, seq"
        )
    };
}
pub(crate) use select_tickets;
pub(crate) use service_order;
pub(crate) use ticket_columns;

/// How many times a join retries after colliding with a simultaneous one.
const JOIN_ATTEMPTS: usize = 3;

/// A ticket to create.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    /// Random id.
    pub id: &'a str,
    /// The application.
    pub application_id: &'a str,
    /// The citizen's ID number.
    pub id_number: &'a str,
    /// Priority (normal).
    pub priority: i64,
    /// Now.
    pub joined_at: DateTime<Utc>,
    /// The wait told, in seconds.
    pub told_estimate_secs: Option<i64>,
    /// Hash of the resume token handed to the citizen.
    pub resume_token_hash: &'a str,
    /// When the citizen consented to the call and its recording.
    pub consent_at: DateTime<Utc>,
    /// The slot's start, for a citizen who came in time for an appointment.
    pub appointment_at: Option<DateTime<Utc>>,
    /// The replay's range at joining, before recalibration, in seconds (low, high).
    pub told_range_secs: Option<(i64, i64)>,
}

impl Store {
    /// Joins the queue, or returns the live ticket this ID number already holds (a second
    /// tab gets the same place). Either way the ticket's resume token becomes
    /// `resume_token_hash`. Returns the ticket and whether it is new. `live` is the ID
    /// number's live ticket as the caller just read it ([`Store::live_ticket_for`]), so that
    /// it is not read twice; a join racing another is settled here.
    pub async fn join_queue(
        &self,
        t: &NewTicket<'_>,
        mut live: Option<Ticket>,
    ) -> Result<(Ticket, bool)> {
        for attempt in 0..JOIN_ATTEMPTS {
            if attempt > 0 {
                live = self.live_ticket_for(t.id_number).await?;
            }
            if let Some(existing) = live.take() {
                sqlx::query("UPDATE tickets SET resume_token_hash = $1, disconnected_at = NULL WHERE id = $2")
                    .bind(t.resume_token_hash)
                    .bind(&existing.id)
                    .execute(&self.pool)
                    .await?;
                return Ok((existing, false));
            }
            // The arrival number: an identity column on PostgreSQL; on SQLite the highest so far
            // plus one, safe because SQLite runs one writing statement at a time.
            let sql = match self.backend() {
                Backend::Postgres => {
                    concat!("INSERT INTO tickets (id, application_id, id_number, status, priority, joined_at, told_estimate_secs, resume_token_hash, consent_at, appointment_at, told_low_secs, told_high_secs)
                     VALUES ($1, $2, $3, 'waiting', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ", ticket_columns!())
                }
                Backend::Sqlite => {
                    concat!("INSERT INTO tickets (id, seq, application_id, id_number, status, priority, joined_at, told_estimate_secs, resume_token_hash, consent_at, appointment_at, told_low_secs, told_high_secs)
                     VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets), $2, $3, 'waiting', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ", ticket_columns!())
                }
            };
            let inserted = sqlx::query(sql)
                .bind(t.id)
                .bind(t.application_id)
                .bind(t.id_number)
                .bind(t.priority)
                .bind(to_millis(t.joined_at))
                .bind(t.told_estimate_secs)
                .bind(t.resume_token_hash)
                .bind(to_millis(t.consent_at))
                .bind(t.appointment_at.map(to_millis))
                .bind(t.told_range_secs.map(|r| r.0))
                .bind(t.told_range_secs.map(|r| r.1))
                .fetch_one(&self.pool)
                .await;
            match inserted.map_err(Error::from) {
                Ok(row) => return Ok((ticket_from_row(&row)?, true)),
                // Another tab of the same citizen joined at the same instant: take its ticket.
                Err(e) if e.is_unique_violation() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Corrupt {
            what: "tickets (join raced twice)",
            value: t.id_number.to_owned(),
        })
    }

    /// A ticket by id.
    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>> {
        self.one_ticket(select_tickets!("WHERE id = $1"), id).await
    }

    /// The live ticket for an ID number, if any.
    pub async fn live_ticket_for(&self, id_number: &str) -> Result<Option<Ticket>> {
        self.one_ticket(
            select_tickets!("WHERE id_number = $1 AND status IN ('waiting', 'offered', 'in_call')"),
            id_number,
        )
        .await
    }

    /// The live ticket whose resume token hashes to `hash`.
    pub async fn ticket_by_resume_token(&self, hash: &str) -> Result<Option<Ticket>> {
        self.one_ticket(
            select_tickets!(
                "WHERE resume_token_hash = $1 AND status IN ('waiting', 'offered', 'in_call')"
            ),
            hash,
        )
        .await
    }

    pub(crate) async fn one_ticket(&self, sql: &'static str, key: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| ticket_from_row(&r)).transpose()
    }

    /// The waiting tickets in service order at `now` ([`service_order`]).
    pub async fn waiting_queue(&self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(concat!(
            select_tickets!("WHERE status = 'waiting' "),
            service_order!("$1")
        ))
        .bind(to_millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// What the wait estimate told the last `limit` citizens who joined since `since` and
    /// were taken by an agent, newest first: the range's recalibration learns from them.
    pub async fn recent_told_waits(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ToldWait>> {
        let rows = sqlx::query(
            "SELECT joined_at, told_estimate_secs, told_low_secs, told_high_secs, answered_at FROM tickets
             WHERE joined_at >= $1 AND answered_at IS NOT NULL AND told_estimate_secs IS NOT NULL
               AND told_low_secs IS NOT NULL AND told_high_secs IS NOT NULL
             ORDER BY joined_at DESC LIMIT $2",
        )
        .bind(to_millis(since))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let joined_at = from_millis("tickets.joined_at", r.try_get("joined_at")?)?;
                let answered_at = from_millis("tickets.answered_at", r.try_get("answered_at")?)?;
                Ok(ToldWait {
                    joined_at,
                    point_secs: r.try_get("told_estimate_secs")?,
                    low_secs: r.try_get("told_low_secs")?,
                    high_secs: r.try_get("told_high_secs")?,
                    waited: answered_at - joined_at,
                })
            })
            .collect()
    }

    /// The calls in progress, oldest first.
    pub async fn calls_in_progress(&self) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(select_tickets!(
            "WHERE status = 'in_call' ORDER BY answered_at, seq"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// The citizen leaves (or is gone past the grace period): waiting → left.
    pub async fn leave_ticket(&self, id: &str, now: DateTime<Utc>, outcome: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE tickets SET status = 'left', ended_at = $2, outcome = $3 WHERE id = $1 AND status = 'waiting'")
            .bind(id)
            .bind(to_millis(now))
            .bind(outcome)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the citizen's connection dropped (`Some`) or came back (`None`).
    pub async fn set_ticket_disconnected(&self, id: &str, at: Option<DateTime<Utc>>) -> Result<()> {
        sqlx::query("UPDATE tickets SET disconnected_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at.map(to_millis))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Waiting tickets whose citizen has been disconnected since before `cutoff` leave the
    /// queue as `abandoned`; returns their ids.
    pub async fn abandon_disconnected(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE tickets SET status = 'left', ended_at = $2, outcome = 'abandoned'
             WHERE status = 'waiting' AND disconnected_at IS NOT NULL AND disconnected_at < $1 RETURNING id",
        )
        .bind(to_millis(cutoff))
        .bind(to_millis(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// Calls (offered or in progress) whose citizen has been disconnected since before
    /// `cutoff`: each is ended by [`crate::Tx::end_disconnected_call`] with its audit event.
    pub async fn disconnected_calls(&self, cutoff: DateTime<Utc>) -> Result<Vec<Ticket>> {
        let rows = sqlx::query(select_tickets!(
            "WHERE status IN ('offered', 'in_call') AND disconnected_at IS NOT NULL AND disconnected_at < $1"
        ))
        .bind(to_millis(cutoff))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// Every waiting ticket expires (closing, under the expire policy); returns their ids.
    pub async fn expire_waiting(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE tickets SET status = 'expired', ended_at = $1, outcome = 'expired' WHERE status = 'waiting' RETURNING id",
        )
        .bind(to_millis(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// Handle times (answered → ended) of the most recent `limit` finished calls, newest first.
    pub async fn recent_handle_times(&self, limit: u32) -> Result<Vec<TimeDelta>> {
        Ok(self
            .recent_calls(limit)
            .await?
            .into_iter()
            .map(|c| c.handle_time)
            .collect())
    }

    /// The most recent `limit` finished calls, newest first, with their agent.
    pub async fn recent_calls(&self, limit: u32) -> Result<Vec<RecentCall>> {
        let rows: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT agent_id, answered_at, ended_at FROM tickets
             WHERE status = 'done' AND answered_at IS NOT NULL AND ended_at IS NOT NULL
             ORDER BY ended_at DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(agent_id, a, e)| RecentCall {
                agent_id,
                handle_time: TimeDelta::milliseconds(e - a),
            })
            .collect())
    }

    /// Abandonment among the tickets that joined at or after `since`, as of `now`.
    pub async fn queue_abandonment(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<QueueAbandonment> {
        let (left, waited): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'left' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(COALESCE(offered_at, ended_at, $2) - joined_at), 0) AS BIGINT)
             FROM tickets WHERE joined_at >= $1",
        )
        .bind(to_millis(since))
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueAbandonment {
            left: u32::try_from(left).unwrap_or(u32::MAX),
            waited: TimeDelta::milliseconds(waited.max(0)),
        })
    }
}

fn opt_instant(r: &AnyRow, col: &'static str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<i64>, _>(col)?
        .map(|ms| from_millis(col, ms))
        .transpose()
}

pub(crate) fn ticket_from_row(r: &AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        id_number: r.try_get("id_number")?,
        status: TicketStatus::parse(&r.try_get::<String, _>("status")?)?,
        priority: r.try_get("priority")?,
        joined_at: from_millis("tickets.joined_at", r.try_get("joined_at")?)?,
        told_estimate_secs: r.try_get("told_estimate_secs")?,
        disconnected_at: opt_instant(r, "disconnected_at")?,
        agent_id: r.try_get("agent_id")?,
        offered_at: opt_instant(r, "offered_at")?,
        answered_at: opt_instant(r, "answered_at")?,
        ended_at: opt_instant(r, "ended_at")?,
        outcome: r.try_get("outcome")?,
        appointment_at: opt_instant(r, "appointment_at")?,
        told_range_secs: match (
            r.try_get::<Option<i64>, _>("told_low_secs")?,
            r.try_get::<Option<i64>, _>("told_high_secs")?,
        ) {
            (Some(low), Some(high)) => Some((low, high)),
            _ => None,
        },
    })
}
