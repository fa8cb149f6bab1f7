//! The daily report: one row per ticket that joined on a Madrid date (times joined,
//! answered and ended in Madrid time, the wait told, the real wait, the agent, the outcome
//! and its reason, and for a citizen who came for an appointment its slot, whether they came
//! in time, and how long after the slot they were taken), as a page and as CSV
//! (`/supervisor/report`, `videoreg report`).

use chrono::{DateTime, NaiveDate, Utc};
use scheduler::SERVICE_TZ;
use serde::Serialize;
use store::ReportTicket;

use crate::Error;

/// One ticket in the report. The field names are the CSV's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// The ticket id.
    pub ticket: String,
    /// When the citizen joined (Madrid, `YYYY-MM-DD HH:MM:SS`).
    pub joined: String,
    /// When the call started, if it did.
    pub answered: String,
    /// When the ticket ended, if it did.
    pub ended: String,
    /// The wait told at joining, in seconds.
    pub told_estimate_secs: Option<i64>,
    /// Joined → answered, in seconds.
    pub real_wait_secs: Option<i64>,
    /// The agent's sign-in name.
    pub agent: String,
    /// `approved`, `rejected`, `left`, `abandoned`, `hung_up`, … or the live status.
    pub outcome: String,
    /// The reason code, for rejections and aborts.
    pub reason: String,
    /// The appointment's slot (Madrid), for a citizen who came for one.
    pub appointment: String,
    /// `kept` (in time: served from the slot ahead of walk-ins) or `late` (a walk-in).
    pub appointment_status: String,
    /// For a kept appointment: slot → answered, in seconds (0 when taken early).
    pub wait_after_slot_secs: Option<i64>,
}

fn madrid(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| {
        t.with_timezone(&SERVICE_TZ)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
    .unwrap_or_default()
}

/// A stored ticket as a report row.
pub fn row(r: &ReportTicket) -> ReportRow {
    let t = &r.ticket;
    let (outcome, reason) = match t.outcome.as_deref() {
        Some(o) => match o.split_once(':') {
            Some((kind, reason)) => (kind.to_owned(), Some(reason.to_owned())),
            None => (o.to_owned(), None),
        },
        None => (t.status.as_str().to_owned(), None),
    };
    // A call aborted for quality puts the citizen back: the abort's reason explains the wait.
    let reason = reason.or_else(|| {
        (r.decision.as_deref() == Some("aborted"))
            .then(|| r.decision_reason.clone())
            .flatten()
    });
    ReportRow {
        ticket: t.id.clone(),
        joined: madrid(Some(t.joined_at)),
        answered: madrid(t.answered_at),
        ended: madrid(t.ended_at),
        told_estimate_secs: t.told_estimate_secs,
        real_wait_secs: t
            .answered_at
            .map(|a| (a - t.joined_at).num_seconds().max(0)),
        agent: r.agent_name.clone().unwrap_or_default(),
        outcome,
        reason: reason.unwrap_or_default(),
        appointment: madrid(r.booking.as_ref().map(|b| b.0)),
        appointment_status: r.booking.as_ref().map(|b| b.1.clone()).unwrap_or_default(),
        wait_after_slot_secs: wait_after_slot(r),
    }
}

/// Slot → answered for a ticket that kept its appointment, in seconds (0 when taken early).
pub fn wait_after_slot(r: &ReportTicket) -> Option<i64> {
    let slot = r.ticket.appointment_at?;
    r.ticket
        .answered_at
        .map(|a| (a - slot).num_seconds().max(0))
}

/// The rows as CSV text with a header line.
pub fn to_csv(rows: &[ReportRow]) -> Result<String, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record([
            "ticket",
            "joined",
            "answered",
            "ended",
            "told_estimate_secs",
            "real_wait_secs",
            "agent",
            "outcome",
            "reason",
            "appointment",
            "appointment_status",
            "wait_after_slot_secs",
        ])
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    }
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("csv: {e}")))
}

/// Parses a report date (`YYYY-MM-DD`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The CSV file name for a date.
pub fn file_name(date: NaiveDate) -> String {
    format!("videoreg-report-{date}.csv")
}
